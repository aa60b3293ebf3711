"""Batched candidate evaluation: one generation of 64 candidates as one vmapped run versus 64
sequential runs, for the loss (gradient-free backends) and for loss + gradient (gradient backend).

Model: the HCP Hopf network with traced conduction speed and online BOLD of
``examples/fit_hcp.py``, shortened to ``--seconds`` of simulated time (default 120 s + 20 s
transient) so that the sequential reference stays short. Times are medians of ``--repeats``
runs after compilation. Run: ``python benchmarks/fit_batch.py``.
"""

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import fit_hcp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import time_calls  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    fit_hcp.TRANSIENT = 20_000.0
    fit_hcp.N_FRAMES = int(args.seconds * 1000 / fit_hcp.TR)
    B = args.batch
    rows = []
    for backend in ("nevergrad", "grad"):
        fitter, hcp = fit_hcp.hcp_fitter(backend, restarts=B, batch_size=B, progress=False, remat=None)
        tgt = jnp.asarray(hcp.fc[:4].mean(0), jnp.float32)
        key = jax.random.PRNGKey(0)
        pts = fitter.space.sample_box(np.random.default_rng(0), B).astype(np.float32)
        if backend == "nevergrad":
            f = fitter._batch_fn(tgt)
            X = jnp.asarray(pts)
            label = "loss"
        else:
            f = fitter._grad_fn(tgt)
            X = jnp.asarray(fitter.space.box_to_z(pts), jnp.float32)
            label = "loss + gradient"
        one = [X[i:i + 1] for i in range(B)]
        jax.block_until_ready(f(X, tgt, key))          # compile both shapes
        jax.block_until_ready(f(one[0], tgt, key))
        t_batch = time_calls(lambda: jax.block_until_ready(f(X, tgt, key)), args.repeats, warmup=False).median
        t_seq = time_calls(lambda: jax.block_until_ready([f(x, tgt, key) for x in one]),
                           max(1, args.repeats - 2), warmup=False).median
        rows.append((label, t_batch, t_seq))
    steps = int((fit_hcp.TRANSIENT + fit_hcp.N_FRAMES * fit_hcp.TR) / fit_hcp.DT)
    print(f"\nHCP Hopf network, 80 regions, traced speed, online BOLD, {steps} steps of {fit_hcp.DT} ms, "
          f"{B} candidates; {jax.device_count()} {jax.default_backend()} device(s)")
    print(f"{'evaluation':<16} {'batch of %d (s)' % B:>16} {'%d sequential (s)' % B:>18} {'ratio':>7}")
    for label, tb, ts in rows:
        print(f"{label:<16} {tb:16.2f} {ts:18.2f} {ts / tb:7.1f}x")


if __name__ == "__main__":
    main()
