"""Sweep throughput and memory: plain batched loop vs Dask with 1 and 2 workers.

::

    python benchmarks/sweep.py                 # throughput table, then peak memory vs points
    python benchmarks/sweep.py --points 128 --chunk 16 --memory 64,256,1024

Workload: a 20-region Hopf network (random weights, diffusive coupling, white noise), 30 s at
dt = 1 ms per lane, features ``rate_mean``, ``rate_var``, ``sfc``, ``metastability``; a
``k x noise`` grid of ``--points`` points, 1 seed, ``--chunk`` points per batched engine call.

* **throughput** — points per second of the same sweep run (a) in this process
  (``scheduler='serial'``, the plain batched loop), (b) on a Dask LocalCluster with 1 worker
  process, (c) with 2 worker processes. Each executor first runs a warm-up sweep of the same
  shape into a scratch store (compiling on every worker), then the timed sweep into a fresh
  store, so the figures are steady-state: engine calls, features, transfers and Zarr writes.
  The summed chunk times (engine call + features, from the store's manifest) separate the
  engine's work from scheduling, transfer and store overhead.
* **memory** — peak resident memory (``ru_maxrss``) of a fresh process running the serial sweep
  for increasing numbers of points: chunks are computed and stored one at a time, so it stays
  flat as the sweep grows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N = 20


def make_sweep(points: int, chunk: int):
    import neuralmass as nm
    from neuralmass.explore import Sweep

    rng = np.random.default_rng(0)
    W = rng.uniform(0.0, 1.0, (N, N)) * (rng.uniform(size=(N, N)) < 0.4)
    np.fill_diagonal(W, 0.0)
    node = nm.HopfStep(N, a=-0.05, omega=2 * np.pi * 10.0, noise_x=nm.WhiteNoise(N, sigma=0.01))
    net = nm.Network(node, conn=W, coupling="diffusive", k=0.1)
    n_k = max(1, points // 8)
    space = {"k": {"range": [0.0, 0.5], "steps": n_k},
             "noise.x_ext.sigma": {"range": [0.002, 0.02], "steps": points // n_k, "scale": "log"}}
    return Sweep(net, space, seeds=1, chunk=chunk, dt=1.0, duration=30_000.0, transient=500.0, period=4.0,
                 features=["rate_mean", "rate_var", "sfc", "metastability"])


def _timed(sweep, scheduler, scratch: Path):
    """Wall time of the timed sweep, the summed wall time of its chunks' engine calls and
    features (from the manifest), and the number of distinct worker processes."""
    sweep.run(scratch / "warmup.zarr", scheduler=scheduler, progress=False)
    t0 = time.perf_counter()
    ds = sweep.run(scratch / "timed.zarr", scheduler=scheduler, progress=False)
    wall = time.perf_counter() - t0
    return wall, float(np.nansum(ds.chunk_seconds.values)), len(set(ds.chunk_pid.values.tolist()))


def throughput(points: int, chunk: int) -> list:
    from distributed import Client, LocalCluster

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, workers in (("plain batched loop (this process)", None), ("Dask, 1 worker", 1),
                               ("Dask, 2 workers", 2)):
            scratch = Path(tmp) / label.split()[0] / str(workers)
            scratch.mkdir(parents=True)
            sweep = make_sweep(points, chunk)
            if workers is None:
                sec, busy, procs = _timed(sweep, "serial", scratch)
            else:
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, Client(cluster) as client:
                    sec, busy, procs = _timed(sweep, client, scratch)
            rows.append((label, sweep.n_points, sweep.n_chunks, sec, sweep.n_points / sec, busy, procs))
            print(f"  {label}: {sec:.2f} s (chunks {busy:.2f} s in {procs} process(es))", flush=True)
    return rows


_MEM_CHILD = """
import resource, sys, tempfile
sys.path.insert(0, {here!r})
from sweep import make_sweep
sw = make_sweep({points}, {chunk})
with tempfile.TemporaryDirectory() as tmp:
    sw.run(tmp + "/m.zarr", scheduler="serial", progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def memory(points_list, chunk: int) -> list:
    rows = []
    here = str(Path(__file__).parent)
    for p in points_list:
        code = _MEM_CHILD.format(here=here, points=p, chunk=chunk)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")})
        kib = int(out.stdout.strip().splitlines()[-1])
        rows.append((p, kib / 1024.0))
        print(f"  {p} points: {kib / 1024:.0f} MiB", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=16)
    ap.add_argument("--memory", default="64,256,1024", help="comma-separated point counts ('' to skip)")
    ap.add_argument("--json", help="also write the tables to this JSON file")
    args = ap.parse_args(argv)
    print(f"throughput: {args.points} points, chunk {args.chunk}, {N} regions, 30 s at dt = 1 ms per point "
          f"(os.cpu_count() = {os.cpu_count()})", flush=True)
    rows = throughput(args.points, args.chunk)
    base = rows[0][4]
    print("\n| executor | points | chunks | wall time (s) | points/s | vs plain loop | sum of chunk times (s) | processes |")
    print("|---|---|---|---|---|---|---|---|")
    for label, p, c, sec, pps, busy, procs in rows:
        print(f"| {label} | {p} | {c} | {sec:.2f} | {pps:.1f} | {pps / base:.2f} | {busy:.2f} | {procs} |")
    mem = []
    if args.memory:
        print("\npeak memory of the serial sweep (fresh process):", flush=True)
        mem = memory([int(x) for x in args.memory.split(",")], args.chunk)
        print("\n| points | chunks | peak RSS (MiB) |")
        print("|---|---|---|")
        for p, mib in mem:
            print(f"| {p} | {-(-p // args.chunk)} | {mib:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": rows, "memory": mem}, indent=2))


if __name__ == "__main__":
    main()
