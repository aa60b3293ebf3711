"""Whole-brain network benchmark: delayed Wilson–Cowan networks run by ``Simulator.run``.

Workloads (same as the project's performance notes; the connectome is random, seeded):

* W1: 80 regions, symmetric weights ~30 % dense, tract lengths 10–200 mm, speed 10 mm/ms
  (delays 1–20 ms), Wilson–Cowan nodes with small OU noise on the excitatory input, diffusive
  coupling, 10 s at dt = 0.1 ms, ``rE`` of every region recorded at every step.
* W2: the same with 400 regions.
* W3: 64 values of ``k`` on the W1 network, 2 s each, one batched call.
* S1: the seeds' call pattern on the W1 network: ``brainstate.random.seed(0)`` then a loop of
  ``run(2 s, monitors=lambda m: m.node.rE.value)`` calls, each with a new lambda.

Each time is the median wall time of several *second* calls (compiled; the first call, which
compiles, is reported separately). Run::

    python benchmarks/network.py            # all workloads
    python benchmarks/network.py W1 W3      # a subset
    python benchmarks/network.py --peers ../peers-venv/bin/python   # also time peers

Peers (neurolib, brainmass) are timed only when ``--peers PYTHON`` names an interpreter of a
separate environment where they are installed (see ``benchmarks/README.md``); they run in a
subprocess of that interpreter and never affect this environment.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import time_calls  # noqa: E402

PEER_FIGURES = {  # seconds, measured on the project's 2-core CPU machines (performance notes)
    "W1": {"neurolib": 1.47, "brainmass": 8.1},
    "W2": {"neurolib": 32.0, "brainmass": 115.0},
    "W3": {"neurolib (loop)": 17.8, "brainmass (vmapped)": 5.3},
    "S1": {},
}
TARGETS = {"W1": 0.73, "W2": 32.0, "W3": 2.6, "S1": float("nan")}


def connectome(n: int, seed: int = 0, density: float = 0.3):
    """Random symmetric weights (~``density`` non-zero, in [0, 1]) and lengths 10–200 mm."""
    rng = np.random.default_rng(seed)
    mask = np.triu(rng.random((n, n)) < density, 1)
    W = np.where(mask, rng.random((n, n)), 0.0)
    W = W + W.T
    L = np.triu(rng.uniform(10.0, 200.0, (n, n)), 1)
    L = L + L.T
    return W, L


def build(n: int, k: float = 0.5):
    import brainunit as u
    import neuralmass as nm

    W, L = connectome(n)
    node = nm.WilsonCowanStep(n, noise_E=nm.OUProcess(n, sigma=0.01, tau=20.0 * u.ms))
    net = nm.Network(node, conn=W / W.sum(1).max(), distance=L, speed=10.0 * u.mm / u.ms,
                     coupling="diffusive", coupled_var="rE", k=k)
    return nm.Simulator(net, dt=0.1 * u.ms, progress=False)


def workload(name: str, repeats: int):
    import brainunit as u
    import jax

    if name == "W1":
        sim = build(80)
        run = lambda: sim.run(10_000 * u.ms, monitors=["rE"])  # noqa: E731
    elif name == "W2":
        sim = build(400)
        run = lambda: sim.run(10_000 * u.ms, monitors=["rE"])  # noqa: E731
    elif name == "W3":
        sim = build(80)
        ks = np.linspace(0.0, 1.0, 64)
        run = lambda: sim.run(2_000 * u.ms, monitors=["rE"], params={"k": ks})  # noqa: E731
    elif name == "S1":
        import brainstate

        sim = build(80)
        brainstate.random.seed(0)
        run = lambda: sim.run(2_000 * u.ms, monitors=lambda m: m.node.rE.value)  # noqa: E731
    else:
        raise SystemExit(f"unknown workload {name!r}; choose W1, W2, W3 or S1")

    def call():
        out = run()
        jax.block_until_ready(np.asarray(u.get_magnitude(out["rE" if "rE" in out else "output"])))

    t = time_calls(call, repeats)
    return t.first, t.median


def peers(python: str, name: str, repeats: int) -> dict:
    script = Path(__file__).with_name("_peers_network.py")
    if not script.exists():
        print(f"  {script.name} (the peer workloads) is not written yet; showing the noted figures only",
              file=sys.stderr)
        return {}
    try:
        out = subprocess.run([python, str(script), name, str(repeats)], capture_output=True, text=True,
                             timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  peers for {name} failed: {e}", file=sys.stderr)
        return {}
    if out.returncode != 0:
        print(f"  peers for {name} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["W1", "W2", "W3"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peers", metavar="PYTHON", help="interpreter of an environment with neurolib/brainmass")
    args = ap.parse_args(argv)
    rows = []
    for name in args.workloads:
        reps = args.repeats if name != "W2" else max(1, min(args.repeats, 3))
        first, med = workload(name, reps)
        measured = peers(args.peers, name, reps) if args.peers else {}
        rows.append((name, first, med, measured))
        print(f"{name}: first call {first:.2f} s, median of {reps} {med:.3f} s", flush=True)
    print()
    print(f"{'workload':<9}{'neuralmass (s)':>15}{'target (s)':>12}  peers: time (s) and ratio peer/neuralmass")
    for name, first, med, measured in rows:
        ref = {**{f"{k} [notes]": v for k, v in PEER_FIGURES[name].items()},
               **{f"{k} [this run]": v for k, v in measured.items()}}
        cells = "; ".join(f"{k} {v:.2f} ({v / med:.1f}x)" for k, v in ref.items())
        print(f"{name:<9}{med:>15.3f}{TARGETS[name]:>12.2f}  {cells}")


if __name__ == "__main__":
    main()
