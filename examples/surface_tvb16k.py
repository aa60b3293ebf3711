"""Activity on tvb-data's 16k-vertex cortex and its EEG (issue 26).

TVB's generic 2D oscillator with a slow recovery variable (tau = 10), so that V is bistable, on
every vertex of ``cortex_16384``, coupled locally through tvb-data's ``local_connectivity_16384``
and at long range through the 76-region connectome (linear coupling, 5 mm/ms). A patch of cortex
starts excited and the excitation spreads along the surface; the figure shows V on the left
hemisphere at four times and the EEG (63 electrodes of tvb-data's vertex gain matrix) as traces
and as a topography.

Needs tvb-data (``pip install tvb-data``, GPL-3, read at run time; not bundled). Writes
``docs/images/surface_tvb16k.png``.

    python examples/surface_tvb16k.py
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import neuralmass as nm  # noqa: E402
from neuralmass.studies.surface import TVB_EEG_GAIN, TVB_EEG_SENSORS, hemisphere_mask, read_sensor_file  # noqa: E402
from neuralmass.surface import LocalCoupling, RegionAverage, SensorProjection, Surface, SurfaceNetwork  # noqa: E402
from neuralmass.tvbdata import tvb_data_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAMBDA = 2.0          # local coupling strength
SEED_REGION = "lM1"   # the excited patch starts at the vertex nearest this region's centre


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder of the figure")
    args = ap.parse_args()
    quick = os.environ.get("NEURALMASS_QUICK", "") not in ("", "0")   # the test suite's smoke run
    T = 20.0 if quick else 250.0
    surf = Surface.from_tvb_data("cortex_16384", region_mapping="regionMapping_16k_76")
    local = LocalCoupling.from_tvb_data("local_connectivity_16384", surf)
    conn = nm.datasets.load_dataset("tvb76")
    # a patch of 15 mm radius starts excited, the rest of the cortex at rest
    seed = int(np.argmin(np.linalg.norm(surf.vertices - surf.vertices[surf.region_mapping == list(conn.labels).index(SEED_REGION)].mean(0), axis=1)))
    patch = np.linalg.norm(surf.vertices - surf.vertices[seed], axis=1) < 15.0
    init = {"V": np.where(patch, 2.9, -0.17), "W": np.full(surf.n_vertices, -0.1)}
    # tau = 10: V is fast and bistable (-0.17 / 2.99) while W stays near -0.1; g = -LAMBDA cancels
    # the mean of the local term (tvb-data's kernel averages the 1-ring neighbours: K V has row
    # sums 1), so a uniform field evolves like one node and the local coupling acts on gradients
    node = nm.Generic2dOscillatorStep(1, tau=10.0, g=-LAMBDA)
    net = SurfaceNetwork(node, conn, surf, local=local, local_strength=LAMBDA, coupling="linear", k=0.0152,
                         speed=5.0, init=init)
    G = np.load(tvb_data_path() / TVB_EEG_GAIN)
    ok = np.isfinite(G).all(axis=1)
    eeg = SensorProjection("V", G[ok] * u.volt / (u.amp * u.meter), scale=1.0 * u.nA * u.meter,
                           sensor_unit=u.uvolt, period=1.0)
    res = nm.Simulator(net, dt=0.1).run(T, monitors=[nm.monitors.TemporalAverage("V", period=1.0),
                                                     RegionAverage("V", period=1.0), eeg], key=0)
    V = np.asarray(res["V"])
    t = np.asarray(res["ts"].to_decimal(u.ms))
    E = np.asarray(res["eeg"].to_decimal(u.uvolt))
    _, pos = read_sensor_file(tvb_data_path() / TVB_EEG_SENSORS)
    pos = pos[ok]

    # the figure of `neuralmass run` surface studies (one definition: neuralmass.viz)
    fig = nm.viz.plot_surface_activity(
        surf, V, t, eeg=E, eeg_ts=t, sensor_positions=pos, mask=hemisphere_mask(surf, conn.labels),
        times=[1.0, T * 0.12, T * 0.24, T * 0.48], variable="V (1 ms mean)",
        title="Generic 2D oscillator on the 16k cortex: V on the left hemisphere (lateral view) and EEG")
    out = Path(args.out) / "surface_tvb16k.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}; {surf.n_vertices} vertices, {T:g} ms; EEG rms {np.sqrt(np.mean(E ** 2)):.3g} µV")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
