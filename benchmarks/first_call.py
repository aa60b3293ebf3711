"""First call of a new process against the steady-state call, with and without stored programs.

Each row runs one workload of ``benchmarks/network.py`` (W1: 80 delayed regions for 10 s; W3: 64
values of ``k`` batched; S1: the seeds' ``monitors=lambda m: ...`` loop) in fresh processes:

* ``off``: the program store off (``NEURALMASS_COMPILATION_CACHE=0``): every process compiles;
* ``cold``: the store on, empty (the first process on a machine): compiles and stores;
* ``warm``: a second process with the same store: loads the compiled programs.

The first call includes everything a user waits for (tracing, compiling or loading, running);
the steady time is the median of later calls in the same process. Medians over ``--rounds``.
Run::

    python benchmarks/first_call.py                    # W1 and W3, 3 rounds
    python benchmarks/first_call.py W1 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _timing import network_workload  # noqa: E402


def one(workload: str, store: str, repeats: int) -> tuple[float, float]:
    return network_workload(workload, repeats, env={"NEURALMASS_COMPILATION_CACHE": store})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["W1", "W3"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    res = {(w, k): [] for w in a.workloads for k in ("off", "cold", "warm")}
    for r in range(a.rounds):
        for w in a.workloads:
            res[(w, "off")].append(one(w, "0", a.repeats))
            with tempfile.TemporaryDirectory() as store:
                res[(w, "cold")].append(one(w, store, a.repeats))
                res[(w, "warm")].append(one(w, store, a.repeats))
            print(f"round {r + 1} {w}: " + ", ".join(
                f"{k} first {res[(w, k)][-1][0]:.2f} s / steady {res[(w, k)][-1][1]:.3f} s"
                for k in ("off", "cold", "warm")), flush=True)
    print()
    print(f"{'workload':<9}{'store':<7}{'first call (s)':>15}{'steady (s)':>12}{'first/steady':>14}")
    for w in a.workloads:
        for k in ("off", "cold", "warm"):
            first = statistics.median(x[0] for x in res[(w, k)])
            steady = statistics.median(x[1] for x in res[(w, k)])
            ratio = statistics.median(x[0] / x[1] for x in res[(w, k)])
            print(f"{w:<9}{k:<7}{first:>15.2f}{steady:>12.3f}{ratio:>14.2f}")
    print(f"(medians of {a.rounds} rounds; a fresh process per cell; ratio = median of per-process ratios)")


if __name__ == "__main__":
    main()
