"""Same-run A/B timing of two source trees of neuralmass (e.g. before and after an engine change).

Each workload of ``benchmarks/network.py`` (and the ERP simulator of ``benchmarks/erp_sim.py``)
runs in a fresh process per tree, alternating the trees for ``--rounds`` rounds, so both see the
same machine load; the table gives the median over rounds of the first call (compilation included,
fresh process) and of the median steady-state call, and the ratio new/old. Run::

    git worktree add /tmp/nm-base <commit>
    python benchmarks/engine_ab.py /tmp/nm-base/src src --workloads W1 W3 S1 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _timing import network_workload  # noqa: E402


def one(src: str, workload: str, repeats: int) -> tuple[float, float]:
    return network_workload(workload, repeats, src=src)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--workloads", nargs="+", default=["W1", "W3", "S1"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    res = {(w, t): [] for w in args.workloads for t in ("old", "new")}
    for r in range(args.rounds):
        for w in args.workloads:
            for tag, src in (("old", args.old), ("new", args.new)) if r % 2 == 0 else (("new", args.new), ("old", args.old)):
                res[(w, tag)].append(one(src, w, args.repeats))
                print(f"round {r + 1} {w} {tag}: first {res[(w, tag)][-1][0]:.2f} s, "
                      f"steady {res[(w, tag)][-1][1]:.3f} s", flush=True)
    print()
    print(f"{'workload':<9}{'old first':>11}{'new first':>11}{'old steady':>12}{'new steady':>12}"
          f"{'new/old':>9}{'new first/steady':>18}")
    for w in args.workloads:
        of = statistics.median(x[0] for x in res[(w, "old")])
        nf = statistics.median(x[0] for x in res[(w, "new")])
        os_ = statistics.median(x[1] for x in res[(w, "old")])
        ns = statistics.median(x[1] for x in res[(w, "new")])
        print(f"{w:<9}{of:>11.2f}{nf:>11.2f}{os_:>12.3f}{ns:>12.3f}{ns / os_:>9.2f}{nf / ns:>18.1f}")


if __name__ == "__main__":
    main()
