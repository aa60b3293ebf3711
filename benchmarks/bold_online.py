"""Online BOLD vs storing every step: wall time and peak memory.

Run:  python benchmarks/bold_online.py [--minutes 10] [--regions 80] [--repeats 3]

Workload: ``--regions`` reduced Wong–Wang regions (a coupled :class:`neuralmass.Network` on a
seeded random connectome when the network module is available, otherwise an uncoupled population
of the same size), ``--minutes`` of simulated time at dt = 0.1 ms (6,000,000 steps for 10
minutes), BOLD (classic Balloon–Windkessel) sampled at TR = 720 ms.

  online   ``Simulator.run(..., monitors=[BOLDMonitor('S_E', tr=720 ms)])``: the hemodynamics are
           integrated inside the compiled loop (1 ms internal step, input averaged over blocks of
           10 steps); only one value per TR leaves the loop.
  stored   ``Simulator.run(..., monitors=['S_E'])`` records S_E at every step (T x N float32),
           then :func:`neuralmass.forward.simulate_bold` converts it afterwards (same internal
           step, so both give the same BOLD).

Each mode runs in its own subprocess, so its peak resident memory (``ru_maxrss``; on a GPU also
the device's ``peak_bytes_in_use``) is its own. The first run compiles and is not timed; the
table gives the median and minimum of ``--repeats`` further runs, and the largest difference
between the two BOLD outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

TR_MS = 720.0
DT_MS = 0.1


def _model(n):
    import neuralmass as nm

    if hasattr(nm, "Network"):
        try:
            rng = np.random.default_rng(0)
            W = rng.random((n, n)) * (rng.random((n, n)) < 0.2)
            np.fill_diagonal(W, 0.0)
            W = W / W.sum(axis=1, keepdims=True).max()
            return nm.Network(nm.WongWangModel(in_size=n), conn=W, k=0.5), "Network (random SC, k=0.5)"
        except Exception as exc:  # pragma: no cover - fall back to an uncoupled population
            print(f"# Network construction failed ({exc!r}); using an uncoupled population",
                  file=sys.stderr)
    return nm.WongWangModel(in_size=n), "uncoupled population"


def _child(mode, minutes, regions, repeats):
    import brainunit as u
    import jax

    import neuralmass as nm
    from neuralmass.forward import BOLDMonitor, simulate_bold

    model, kind = _model(regions)
    sim = nm.Simulator(model, dt=DT_MS * u.ms, progress=False)
    dur = minutes * 60_000.0

    def once():
        if mode == "online":
            out = sim.run(dur, monitors=[BOLDMonitor("S_E", tr=TR_MS * u.ms)], key=0)
            return np.asarray(out["bold"])
        out = sim.run(dur, monitors=["S_E"], key=0)
        S = out["S_E"]
        S = np.asarray(S.mantissa if isinstance(S, u.Quantity) else S)
        bold = np.asarray(simulate_bold(S, DT_MS, tr=TR_MS, integrate_every=10))
        del S, out
        return bold

    bold = once()                       # compile + warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bold = once()
        times.append(time.perf_counter() - t0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    dev = jax.devices()[0]
    dev_peak = None
    try:
        stats = dev.memory_stats() or {}
        dev_peak = stats.get("peak_bytes_in_use")
    except Exception:
        pass
    np.save(os.environ["BOLD_BENCH_OUT"], bold)
    print(json.dumps({"mode": mode, "median": statistics.median(times), "min": min(times),
                      "rss_mb": rss_mb, "device": str(dev.platform),
                      "device_peak_mb": None if dev_peak is None else dev_peak / 2 ** 20,
                      "kind": kind, "shape": list(bold.shape)}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--regions", type=int, default=80)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", choices=["online", "stored"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.minutes, args.regions, args.repeats)
        return

    import tempfile

    rows, outs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("online", "stored"):
            path = os.path.join(tmp, f"{mode}.npy")
            env = dict(os.environ, BOLD_BENCH_OUT=path)
            proc = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--minutes", str(args.minutes),
                 "--regions", str(args.regions), "--repeats", str(args.repeats)],
                env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"{mode} run failed (exit {proc.returncode})")
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            outs[mode] = np.load(path)
    steps = args.minutes * 60_000.0 / DT_MS
    stored_mb = steps * args.regions * 4 / 2 ** 20
    diff = float(np.abs(outs["online"] - outs["stored"]).max())
    print(f"\nonline BOLD benchmark: {args.regions} regions ({rows[0]['kind']}), {args.minutes:g} min "
          f"at dt = {DT_MS} ms ({steps:,.0f} steps), TR = {TR_MS:g} ms, device {rows[0]['device']}, "
          f"{args.repeats} timed repeats")
    print(f"{'mode':<10}{'median s':>10}{'min s':>10}{'peak RSS MB':>14}{'device peak MB':>16}{'BOLD shape':>14}")
    for r in rows:
        dp = "-" if r["device_peak_mb"] is None else f"{r['device_peak_mb']:.0f}"
        print(f"{r['mode']:<10}{r['median']:>10.2f}{r['min']:>10.2f}{r['rss_mb']:>14.0f}{dp:>16}"
              f"{str(tuple(r['shape'])):>14}")
    print(f"stored activity alone: {stored_mb:,.0f} MB (float32); max |BOLD online - stored| = {diff:.2e}")


if __name__ == "__main__":
    main()
