"""Throughput of the batched Jansen–Rit ERP simulator (neuralmass.inference.erp).

    python benchmarks/erp_sim.py [--n 10000] [--repeats 3]

Prints the median wall time (after compilation) to simulate n ERPs (800 ms transient,
-200..1000 ms epoch): noise-free responses with the default 0.25 ms Heun steps and with 1 ms steps,
20-trial averages, and the reference's simulator (neuralmass.inference.paper: 61 s of 1 kHz Euler
steps, 59 averaged epochs).
"""

import argparse
import time

import jax
import numpy as np

from neuralmass.inference.erp import ERPConfig, simulate_erps
from neuralmass.inference.paper import PaperERPConfig, simulate_paper_erps
from neuralmass.inference.priors import make_prior


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    prior = make_prior()
    theta = prior.sample(jax.random.PRNGKey(0), a.n)
    rows = []
    runs = (("noise-free, dt 0.25 ms", lambda th, k: simulate_erps(th, prior, ERPConfig(), k), a.n),
            ("noise-free, dt 1 ms", lambda th, k: simulate_erps(th, prior, ERPConfig(dt=1.0), k), a.n),
            ("20-trial average", lambda th, k: simulate_erps(th, prior, ERPConfig(n_trials=20, input_noise=20.0), k),
             a.n // 10),
            ("reference simulator", lambda th, k: simulate_paper_erps(th, prior, PaperERPConfig()), a.n // 10))
    for label, fn, n in runs:
        fn(theta[:n], jax.random.PRNGKey(1))  # compile
        ts = []
        for r in range(a.repeats):
            t0 = time.perf_counter()
            fn(theta[:n], jax.random.PRNGKey(2 + r))
            ts.append(time.perf_counter() - t0)
        rows.append((label, n, float(np.median(ts))))
    print(f"{'response':24s} {'n ERPs':>8s} {'median s':>9s} {'ERPs/s':>9s}   ({jax.devices()[0].platform})")
    for label, n, t in rows:
        print(f"{label:24s} {n:8d} {t:9.2f} {n / t:9.0f}")


if __name__ == "__main__":
    main()
