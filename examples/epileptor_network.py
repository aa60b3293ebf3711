"""Epileptor network on TVB's 76-region connectome: seizure onset in an epileptogenic zone and
its propagation (after Jirsa et al. 2014 and Proix et al. 2014; the set-up of TVB's epilepsy demo).

Every region is an Epileptor. Excitability x0 is -2.4 (healthy, below the threshold x0_c ≈ -2.06)
except in an epileptogenic zone (EZ: left amygdala, hippocampus and parahippocampal cortex,
x0 = -1.6) and a propagation zone (PZ: left insular and ventral temporal cortex, x0 = -1.8).
Isolated, both zones would seize (x0 > x0_c); in the network the permittivity coupling to the
many healthy neighbours holds the PZ at rest, and it seizes only when the EZ does — the script
checks this with a control run in which the EZ is made healthy. Regions are coupled through x1 with a difference coupling
that enters the slow permittivity variable z (Ks = -0.2, Proix et al. 2014), with tract-length
delays at 4 mm/ms.

Needs tvb-data (``pip install tvb-data``, GPL-3, read at run time; not bundled). Writes
``docs/images/epileptor_network.png`` and prints the seizure onset time of each recruited region.

    python examples/epileptor_network.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import brainunit as u  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neuralmass as nm  # noqa: E402

EZ = ["lAMYG", "lHC", "lPHC"]
PZ = ["lTCI", "lTCV"]
K = 1.0   # global coupling (difference coupling of x1, raw tvb-data weights)
ROOT = Path(__file__).resolve().parents[1]


def onsets(x1, t, thr=0.0):
    """First time each region's x1 crosses ``thr`` upwards (nan if never)."""
    out = np.full(x1.shape[1], np.nan)
    for j in range(x1.shape[1]):
        up = np.flatnonzero((x1[:-1, j] < thr) & (x1[1:, j] >= thr))
        if up.size:
            out[j] = t[up[0] + 1]
    return out


def main() -> int:
    import argparse
    import os

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder of the figure")
    args = ap.parse_args()
    quick = os.environ.get("NEURALMASS_QUICK", "") not in ("", "0")   # the test suite's smoke run
    T = (1000 if quick else 8000) * u.ms
    conn = nm.datasets.load_dataset("tvb76")          # raw tvb-data weights and tract lengths
    labels = [str(x) for x in conn.labels]
    n = len(labels)
    x0 = np.full(n, -2.4)
    for name, value in [(r, -1.6) for r in EZ] + [(r, -1.8) for r in PZ]:
        x0[labels.index(name)] = value
    x0_control = x0.copy()
    for name in EZ:
        x0_control[labels.index(name)] = -2.4
    node = nm.EpileptorStep(n, x0=x0, Ks=-0.2, r=0.00015)
    net = nm.Network(node, conn=conn, speed=4 * u.mm / u.ms, coupling="diffusive", k=K)
    sim = nm.Simulator(net, dt=0.05)
    control = sim.run(T, monitors=["x1"], period=1 * u.ms, params={"x0": x0_control}, key=0)
    res = sim.run(T, monitors=["x1", "lfp"], period=1 * u.ms, key=0)
    t = np.asarray(res["ts"].mantissa)
    alone = onsets(np.asarray(control["x1"]), t)
    print("control (EZ made healthy), regions that seize:",
          [labels[j] for j in np.flatnonzero(np.isfinite(alone))] or "none")
    x1 = np.asarray(res["x1"])
    lfp = np.asarray(res["lfp"])
    on = onsets(x1, t)
    seized = np.flatnonzero(np.isfinite(on))
    print("regions that seized (onset of the first seizure):")
    for j in seized[np.argsort(on[seized])]:
        zone = "EZ" if labels[j] in EZ else "PZ" if labels[j] in PZ else "--"
        print(f"  {labels[j]:<8} {zone}  x0 = {x0[j]:5.2f}  onset {on[j] / 1000:6.2f} s")
    healthy = [j for j in range(n) if labels[j] not in EZ + PZ]
    print(f"healthy regions that seized: {sum(np.isfinite(on[healthy]))} of {len(healthy)}")

    show = [labels.index(r) for r in EZ + PZ] + [labels.index(r) for r in ("lTCS", "rHC", "lV1")]
    fig, ax = plt.subplots(figsize=(9, 5))
    for k, j in enumerate(show):
        y = lfp[:, j]
        ax.plot(t / 1000, (y - y.mean()) / 3 + 1.5 * k, lw=0.5, color="C3" if j in seized else "k")
        ax.text(-0.05 * t[-1] / 1000, 1.5 * k, labels[j], ha="right", va="center", fontsize=8)
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    ax.set_title("Epileptor network (TVB 76 regions): EZ x0 = -1.6, PZ x0 = -1.8, others -2.4; "
                 "red: regions that seize", fontsize=9)
    fig.tight_layout()
    out = Path(args.out) / "epileptor_network.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
