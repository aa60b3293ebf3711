"""Core engine benchmark: one node, and 1,000 nodes batched.

Run:  python benchmarks/core.py [--repeats 5]

Prints the median wall time of a second (compiled) call, for
  C1  one Jansen–Rit node, 10 s at dt = 0.1 ms (100,000 Heun steps), sub-sampled at 1 kHz;
  C2  1,000 Jansen–Rit nodes with per-node input p (one population of 1,000), same run;
  C3  1,000 parameter sets batched (vmapped lanes, B = 1,000, one node each), same run.
If a peer (brainmass) is importable in the interpreter given by --peer-python, its equivalent
is timed in the same run and the ratio is printed (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import time_calls  # noqa: E402


def _med_min(fn, repeats):
    t = time_calls(fn, repeats)
    return t.median, t.min


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0, help="simulated seconds")
    args = ap.parse_args(argv)

    import neuralmass as nm

    dur = args.seconds * 1000.0
    rows = []
    sim1 = nm.Simulator(nm.JansenRitStep(1), dt=0.1)
    rows.append(("C1 one JR node", *_med_min(
        lambda: sim1.run(dur, monitors="eeg", period=1.0, inputs={"p": 220.0}), args.repeats)))
    simN = nm.Simulator(nm.JansenRitStep(1000), dt=0.1)
    p = np.linspace(120.0, 320.0, 1000)
    rows.append(("C2 1,000 JR nodes (population)", *_med_min(
        lambda: simN.run(dur, monitors="eeg", period=1.0, inputs={"p": p}), args.repeats)))
    rows.append(("C3 1,000 JR lanes (vmapped batch)", *_med_min(
        lambda: sim1.run(dur, monitors="eeg", period=1.0, params={"A": np.linspace(3.0, 3.5, 1000)},
                         inputs={"p": 220.0}), args.repeats)))
    steps = dur / 0.1
    print(f"\nneuralmass core benchmark ({args.seconds:g} s simulated, dt = 0.1 ms, {args.repeats} repeats)")
    print(f"{'workload':<36}{'median s':>10}{'min s':>10}{'µs/step':>10}")
    for name, med, mn in rows:
        print(f"{name:<36}{med:>10.3f}{mn:>10.3f}{med / steps * 1e6:>10.2f}")


if __name__ == "__main__":
    main()
