"""Benchmark: the 16k-vertex cortical surface (issue 26).

tvb-data's ``cortex_16384`` with ``regionMapping_16k_76``, its ``local_connectivity_16384`` (local
strength 1), the 76-region connectome (linear coupling a = 0.0152, speed 5 mm/ms), TVB's
Generic2dOscillator at its defaults, Heun at dt = 0.1 ms — the set-up of
``benchmarks/_peers_surface.py`` and ``scripts/make_tvb_surface_fixture.py``::

    python benchmarks/surface.py                       # ours, with TVB's earlier figure
    python benchmarks/surface.py --peers ../tvb-venv/bin/python   # TVB timed in the same run
    python benchmarks/surface.py --matvec              # the sparse-product measurement
    python benchmarks/surface.py --memory 60000        # peak RSS of a 60 s run with EEG
    python benchmarks/surface.py --profile             # time per step of each XLA operation
    python benchmarks/surface.py --devices 2           # the batch's lanes split over 2 CPU devices
    python benchmarks/surface.py --devices 2 --split sharding   # ... as one sharded call

Steady state: a compiled 200 ms run (a 1 ms temporal average of V, region means every 1 ms)
timed after a warm-up, median of ``--repeats`` calls; reported as milliseconds per step and wall
seconds per simulated second, for one lane and for ``--lanes`` lanes (different local strengths).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import time_calls  # noqa: E402

#: TVB 2.10 measured earlier on this machine (2 cores, quiet): s per simulated second, ms per step
TVB_EARLIER = {"tvb": 13.8, "tvb_ms_per_step": 1.4}
DT = 0.1
SPEED = 5.0
A = 0.0152


def build(local_strength=1.0):
    import neuralmass as nm
    from neuralmass.models import GENERIC_2D
    from neuralmass.surface import LocalCoupling, Surface, SurfaceNetwork

    surf = Surface.from_tvb_data("cortex_16384", region_mapping="regionMapping_16k_76")
    local = LocalCoupling.from_tvb_data("local_connectivity_16384", surf)
    conn = nm.datasets.load_dataset("tvb76")
    x, y, z = surf.vertices.T
    init = {"V": np.sin(0.1 * x) * np.cos(0.1 * y) + 0.5 * np.sin(0.7 * z + 0.3 * x),
            "W": -0.5 + 0.5 * np.cos(0.05 * (x + y + z))}
    return SurfaceNetwork(GENERIC_2D, conn, surf, local=local, local_strength=local_strength,
                          coupling="linear", k=A, speed=SPEED, init=init)


def ours(duration_ms: float, repeats: int, lanes: int, devices: int = 1, split: str = "threads") -> dict:
    """Ours, one lane and ``lanes`` lanes; with ``devices > 1`` (CPU devices made by
    ``--xla_force_host_platform_device_count``, see main) the lanes are split over the devices:
    ``split='threads'``, ``devices`` equal parts run at once, one thread per device
    (``jax.default_device``), the way ``neuralmass sweep`` spreads its chunks; ``'sharding'``, one
    call with the lanes' parameters placed split over the devices (:class:`jax.sharding.NamedSharding`),
    one program partitioned by XLA."""
    import jax
    import neuralmass as nm
    from concurrent.futures import ThreadPoolExecutor
    from neuralmass.surface import RegionAverage

    net = build()
    sim = nm.Simulator(net, dt=DT, progress=False)
    mons = [nm.monitors.TemporalAverage("V", period=1.0), RegionAverage("V", period=1.0)]
    out = {}
    for B in (1, lanes):
        parts = devices if B > 1 and devices > 1 and split == "threads" else 1
        strengths = np.array_split(np.linspace(0.5, 1.5, B), parts)
        if B > 1 and devices > 1 and split == "sharding":
            from jax.sharding import Mesh, NamedSharding, PartitionSpec
            mesh = Mesh(np.array(jax.devices()[:devices]), ("lanes",))
            strengths = [jax.device_put(strengths[0].astype(np.float32), NamedSharding(mesh, PartitionSpec("lanes")))]

        def one(d, B=B):
            params = {} if B == 1 else {"local_strength": strengths[d]}
            with jax.default_device(None if parts == 1 else jax.devices()[d]):
                r = sim.run(duration_ms, monitors=mons, key=0, params=params)
                return np.asarray(r["V_regions"])

        if parts == 1:
            call = lambda: one(0)  # noqa: E731
        else:
            pool = ThreadPoolExecutor(parts)
            call = lambda: [f.result() for f in [pool.submit(one, d) for d in range(parts)]]  # noqa: E731
        t = time_calls(call, repeats)
        steps = duration_ms / DT
        out[B] = {"first_s": t.first, "ms_per_step": 1e3 * t.median / steps,
                  "s_per_sim_s": t.median / (duration_ms / 1000.0)}
    return out


def peers(python: str, repeats: int, duration_ms: float, script: str | None = None) -> dict:
    """TVB's figures from ``_peers_surface.py`` run by ``python`` (one simulation at a time: TVB
    cannot batch a surface simulation, so its cost per lane is its cost per simulation)."""
    script = script or str(Path(__file__).with_name("_peers_surface.py"))
    try:
        res = subprocess.run([python, script, str(repeats), "--duration", str(duration_ms)], capture_output=True,
                             text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  TVB failed: {e}", file=sys.stderr)
        return {}
    if res.returncode != 0:
        print(f"  TVB failed:\n{res.stderr[-2000:]}", file=sys.stderr)
        return {}
    return json.loads(res.stdout.strip().splitlines()[-1])


def matvec(repeats: int) -> None:
    """Time one product K @ x on the 16k kernel: one lane and 8 vmapped lanes, per method."""
    import jax
    import jax.numpy as jnp

    from neuralmass.surface import LocalCoupling

    lc = LocalCoupling.from_tvb_data()
    x = jnp.asarray(np.random.default_rng(0).standard_normal(lc.n), jnp.float32)
    X = jnp.tile(x, (8, 1))
    w = jnp.asarray(lc.weights, jnp.float32)

    def timed(f, *a, n=200):
        f(*a).block_until_ready()
        t = time_calls(lambda: [f(*a) for _ in range(n)][-1].block_until_ready(), repeats, warmup=False)
        return 1e6 * t.median / n

    rows = []
    names = {"slots": "row slots, traced weights", "segment_sum": "gather + sorted segment_sum",
             "bcoo": "jax.experimental.sparse.BCOO"}
    stored1 = jax.jit(lambda x: lc.matvec(x))
    stored8 = jax.jit(jax.vmap(lambda x: lc.matvec(x)))
    from neuralmass.surface import native
    path = "compiled kernel" if native.available() else "segment_sum: no compiled kernel here"
    rows.append((f"stored weights (network path: {path})", timed(stored1, x), timed(stored8, X)))
    for m in ("slots", "segment_sum", "bcoo"):
        one = jax.jit(lambda x, w, m=m: lc.matvec(x, w, method=m))
        eight = jax.jit(jax.vmap(lambda x, w, m=m: lc.matvec(x, w, method=m), in_axes=(0, None)))
        rows.append((names[m], timed(one, x, w), timed(eight, X, w)))
    # padded rows (ELL) as one 2-D gather and a reduction, lanes last by hand
    counts = np.bincount(lc.rows, minlength=lc.n)
    pos = np.arange(lc.nnz) - np.repeat(np.r_[0, np.cumsum(counts)[:-1]], counts)
    C = np.zeros((counts.max(), lc.n), np.int32)
    Wp = np.zeros((counts.max(), lc.n), np.float32)
    C[pos, lc.rows], Wp[pos, lc.rows] = lc.cols, lc.weights
    Wj = jnp.asarray(Wp)
    ell1 = jax.jit(lambda x, w: jnp.sum(w * x[C], axis=0))
    ell8 = jax.jit(lambda X, w: jnp.einsum("kn,knb->nb", w, X.T[C]).T)
    rows.append((f"ELL as one 2-D gather ({counts.max()} per row)", timed(ell1, x, Wj), timed(ell8, X, Wj)))
    plain = jax.jit(jax.vmap(lambda x, w: jax.ops.segment_sum(w * x[lc.cols], lc.rows, lc.n,
                                                              indices_are_sorted=True), in_axes=(0, None)))
    rows.append(("segment_sum, plain vmap", float("nan"), timed(plain, X, w)))
    try:
        import brainevent
        csr = lc.to_scipy()
        csr.sort_indices()
        from brainevent.config import set_backend
        set_backend("cpu", "jax_raw")      # numba (its default CPU backend) is not installed here

        def be(x, w):
            return brainevent.CSR((w, jnp.asarray(csr.indices), jnp.asarray(csr.indptr)), shape=csr.shape) @ x

        rows.append((f"brainevent {brainevent.__version__} CSR", timed(jax.jit(be), x, w),
                     timed(jax.jit(jax.vmap(be, in_axes=(0, None))), X, w)))
    except Exception as e:  # noqa: BLE001 - report and go on
        rows.append((f"brainevent: {type(e).__name__}: {str(e)[:60]}", float("nan"), float("nan")))
    print(f"K @ x on tvb-data's 16k kernel ({lc.nnz} non-zeros), float32, median of {repeats}:")
    print(f"{'method':<46}{'1 lane (µs)':>12}{'8 lanes (µs)':>14}")
    for name, a, b in rows:
        print(f"{name:<46}{a:>12.0f}{b:>14.0f}")


def profile(duration_ms: float, lanes: int, top: int = 15) -> None:
    """Where a step's time goes: one run of ``duration_ms`` traced by :mod:`jax.profiler` after a
    warm-up, each XLA operation of the compiled loop with its mean time per step (the local
    kernel's products are the ``ffi_call`` rows on the compiled path)."""
    import collections
    import gzip
    import tempfile

    import jax

    import neuralmass as nm
    from neuralmass.surface import RegionAverage

    net = build()
    sim = nm.Simulator(net, dt=DT, progress=False)
    mons = [nm.monitors.TemporalAverage("V", period=1.0), RegionAverage("V", period=1.0)]
    params = {} if lanes == 1 else {"local_strength": np.linspace(0.5, 1.5, lanes)}

    def call():
        return np.asarray(sim.run(duration_ms, monitors=mons, key=0, params=params)["V_regions"])

    call()
    steps = int(round(duration_ms / DT))
    with tempfile.TemporaryDirectory() as d:
        jax.profiler.start_trace(d)
        call()
        jax.profiler.stop_trace()
        events = json.load(gzip.open(sorted(Path(d).rglob("*.trace.json.gz"))[-1]))["traceEvents"]
    total, count = collections.defaultdict(float), collections.Counter()
    for e in events:
        if e.get("ph") == "X":
            total[e["name"]] += e["dur"]
            count[e["name"]] += 1
    # the loop body's operations run once per step; other events (Python, the loops) are left out
    rows = sorted(((k, v) for k, v in total.items() if count[k] == steps), key=lambda kv: -kv[1])
    print(f"{lanes} lane(s), {steps} steps traced; XLA operations run once per step, µs per step:")
    for name, us in rows[:top]:
        print(f"  {us / steps:9.1f}  {name}")
    print(f"  {sum(us for _, us in rows) / steps:9.1f}  all of them")


def memory(duration_ms: float, chunk_steps: int = 10_000) -> None:
    """Peak RSS of a run of ``duration_ms`` with vertex activity (100 ms means), region means (1 ms) and
    63-channel EEG (1 ms means), in chunks of ``chunk_steps`` steps.

    Monitors with a longer period than the shortest are returned at the shortest period inside
    a chunk (zeros in between, dropped on the host), so a chunk of 10 000 steps (1 s) bounds that
    buffer at 1000 x 16384 values; the default chunk (10^6 steps) would hold all of a 60 s run."""
    import brainunit as u

    import neuralmass as nm
    from neuralmass.surface import RegionAverage, SensorProjection
    from neuralmass.tvbdata import tvb_data_path

    net = build()
    G = np.load(tvb_data_path() / "projectionMatrix" / "projection_eeg_65_surface_16k.npy")
    G = G[np.isfinite(G).all(axis=1)]
    eeg = SensorProjection("V", G * u.volt / (u.amp * u.meter), scale=1.0 * u.nA * u.meter,
                           sensor_unit=u.uvolt, period=1.0)
    sim = nm.Simulator(net, dt=DT, progress=False, chunk_steps=chunk_steps)
    t0 = time.perf_counter()
    r = sim.run(duration_ms, monitors=[eeg, RegionAverage("V", period=1.0),
                                       nm.monitors.TemporalAverage("V", period=100.0)], key=0)
    eeg_uv = np.asarray(r["eeg"].to_decimal(u.uvolt))
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"duration_ms": duration_ms, "wall_s": round(wall, 1), "peak_rss_mb": round(peak, 0),
                      "eeg_shape": list(eeg_uv.shape), "eeg_rms_uv": round(float(np.sqrt(np.mean(eeg_uv ** 2))), 3),
                      "chunk_steps": sim.chunk_steps}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=200.0, help="ms simulated per timed call")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--peers", metavar="PYTHON", help="interpreter of an environment with tvb-library")
    ap.add_argument("--peer-script", help="path of _peers_surface.py (default: beside this file)")
    ap.add_argument("--matvec", action="store_true", help="only the sparse-product measurement")
    ap.add_argument("--memory", type=float, metavar="MS", help="only the peak RSS of a run of MS ms with EEG")
    ap.add_argument("--profile", action="store_true", help="only the time per step of each XLA operation "
                    "(jax.profiler), for one lane and --lanes lanes")
    ap.add_argument("--chunk-steps", type=int, default=10_000, help="steps per chunk of the --memory run")
    ap.add_argument("--devices", type=int, default=1,
                    help="split the lanes of the batch over this many CPU devices (one per core)")
    ap.add_argument("--split", choices=("threads", "sharding"), default="threads",
                    help="with --devices: one thread per device (as neuralmass sweep), or one call with "
                         "the lanes' parameters sharded over the devices")
    args = ap.parse_args()
    if args.devices > 1:
        # must be set before JAX starts (neuralmass is imported inside the functions below)
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + f" --xla_force_host_platform_device_count={args.devices}")
    if args.matvec:
        return matvec(args.repeats)
    if args.memory:
        return memory(args.memory, args.chunk_steps)
    if args.profile:
        for B in (1, args.lanes):
            profile(min(args.duration, 50.0), B)
        return
    load = os.getloadavg()[0]
    res = ours(args.duration, args.repeats, args.lanes, args.devices, args.split)
    load_end = os.getloadavg()[0]
    if args.peers:
        tvb = peers(args.peers, args.repeats, args.duration, args.peer_script)
        label = "TVB, this run"
    else:
        tvb, label = dict(TVB_EARLIER), "TVB, measured earlier on this machine (quiet, 2 cores)"
    print(f"16k-vertex surface, Generic2dOscillator, Heun dt {DT} ms, {args.duration:g} ms per call, "
          f"median of {args.repeats}; load average {load:.1f} at start, {load_end:.1f} after ours, "
          f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs")
    print(f"{'':<44}{'ms/step':>9}{'s per sim. s':>14}{'vs TVB':>9}")
    t = tvb.get("tvb")
    for B, r in res.items():
        per_sim = r["s_per_sim_s"] / B
        speedup = f"{t / per_sim:.1f}x" if t else "-"
        split = f", over {args.devices} CPU devices ({args.split})" if args.devices > 1 else ""
        name = "neuralmass, 1 lane" if B == 1 else f"neuralmass, {B} lanes{split} (per lane: {per_sim:.2f} s)"
        print(f"{name:<46}{r['ms_per_step']:>9.3f}{r['s_per_sim_s']:>14.2f}{speedup:>9}")
    if t:
        print(f"{label:<44}{tvb.get('tvb_ms_per_step', float('nan')):>9.3f}{t:>14.2f}{'1.0x':>9}")
    if 1 in res and args.lanes in res and args.lanes != 1:
        print(f"batch of {args.lanes} / one lane: {res[args.lanes]['s_per_sim_s'] / res[1]['s_per_sim_s']:.2f}x "
              f"(target < 3); first calls (compile + run): "
              + ", ".join(f"{B} lane(s) {r['first_s']:.1f} s" for B, r in res.items()))


if __name__ == "__main__":
    main()
