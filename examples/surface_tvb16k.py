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
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # noqa: E402

import neuralmass as nm  # noqa: E402
from neuralmass.surface import LocalCoupling, RegionAverage, SensorProjection, Surface, SurfaceNetwork  # noqa: E402
from neuralmass.tvbdata import tvb_data_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAMBDA = 2.0          # local coupling strength
SEED_REGION = "lM1"   # the excited patch starts at the vertex nearest this region's centre


def draw(ax, surf, values, tris, vmin, vmax, title, azim):
    """Left hemisphere, lateral view: triangles coloured by the mean of their vertices."""
    v = surf.vertices
    poly = Poly3DCollection(v[tris], linewidths=0)
    poly.set_array(values[tris].mean(axis=1))
    poly.set_clim(vmin, vmax)
    poly.set_cmap("RdBu_r")
    ax.add_collection3d(poly)
    lo, hi = v[np.unique(tris)].min(axis=0), v[np.unique(tris)].max(axis=0)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), zlim=(lo[2], hi[2]))
    ax.view_init(elev=0, azim=azim)
    ax.set_box_aspect(hi - lo)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return poly


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
    G = np.load(tvb_data_path() / "projectionMatrix" / "projection_eeg_65_surface_16k.npy")
    ok = np.isfinite(G).all(axis=1)
    eeg = SensorProjection("V", G[ok] * u.volt / (u.amp * u.meter), scale=1.0 * u.nA * u.meter,
                           sensor_unit=u.uvolt, period=1.0)
    res = nm.Simulator(net, dt=0.1).run(T, monitors=[nm.monitors.TemporalAverage("V", period=1.0),
                                                     RegionAverage("V", period=1.0), eeg], key=0)
    V = np.asarray(res["V"])
    t = np.asarray(res["ts"].to_decimal(u.ms))
    E = np.asarray(res["eeg"].to_decimal(u.uvolt))
    names, pos = [], []
    for line in (tvb_data_path() / "sensors" / "eeg_brainstorm_65.txt").read_text().splitlines():
        if line.strip():
            parts = line.split()
            names.append(parts[0])
            pos.append([float(c) for c in parts[1:4]])
    pos = np.array(pos)[ok]

    is_left = np.array([str(lab).startswith("l") for lab in conn.labels])   # tvb76: 'lAMYG', 'rV1', ...
    left = is_left[surf.region_mapping]
    gap = surf.vertices[left].mean(axis=0) - surf.vertices[~left].mean(axis=0)
    lr = int(np.argmax(np.abs(gap)))                      # the left-right axis of this mesh
    azim = {0: 0.0, 1: 90.0}.get(lr, 0.0) + (180.0 if gap[lr] < 0 else 0.0)
    tris = surf.triangles[left[surf.triangles].all(axis=1)]
    fig = plt.figure(figsize=(12, 6.5))
    fig.suptitle("Generic 2D oscillator on the 16k cortex: V on the left hemisphere (lateral view) and EEG", fontsize=10)
    picks = np.searchsorted(t, [1.0, T * 0.12, T * 0.24, T * 0.48]).clip(0, len(t) - 1)
    vmax = float(np.abs(V).max())
    for i, k in enumerate(picks):
        ax = fig.add_subplot(2, 4, i + 1, projection="3d")
        poly = draw(ax, surf, V[k], tris, -vmax, vmax, f"t = {t[k]:.0f} ms", azim)
    fig.colorbar(poly, ax=fig.axes[:4], shrink=0.6, label="V (1 ms mean)")
    ax = fig.add_subplot(2, 2, 3)
    ax.plot(t, E[:, :8], lw=0.8)
    ax.set(xlabel="time (ms)", ylabel="EEG (µV)", title="8 of 63 electrodes (1 ms means)")
    ax = fig.add_subplot(2, 2, 4)
    k = int(np.argmax(np.abs(E).max(axis=1)))
    lim = float(np.abs(E[k]).max())
    other = [a for a in (0, 1) if a != lr]                # z is up in tvb-data's frame
    sc = ax.scatter(pos[:, lr], pos[:, other[0]], c=E[k], cmap="RdBu_r", vmin=-lim, vmax=lim, s=60)
    ax.set_aspect("equal")
    ax.set(xlabel=f"{'xyz'[lr]} (mm; the left hemisphere lies at {'negative' if gap[lr] < 0 else 'positive'} {'xyz'[lr]})",
           ylabel=f"{'xyz'[other[0]]} (mm)",
           title=f"EEG topography at t = {t[k]:.0f} ms (seen from above)")
    fig.colorbar(sc, ax=ax, label="µV")
    out = Path(args.out) / "surface_tvb16k.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}; {surf.n_vertices} vertices, {T:g} ms; EEG rms {np.sqrt(np.mean(E ** 2)):.3g} µV")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
