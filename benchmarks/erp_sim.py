"""Throughput of the batched Jansen–Rit ERP simulator (neuralmass.inference.erp).

    python benchmarks/erp_sim.py [--n 10000] [--repeats 3]

Prints the median wall time (after compilation) to simulate n ERPs (1 ms Heun steps, 800 ms
transient, -200..1000 ms epoch) for the noise-free response and for 20-trial averages.
"""

import argparse
import time

import jax
import numpy as np

from neuralmass.inference.erp import ERPConfig, simulate_erps
from neuralmass.inference.priors import make_prior


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    prior = make_prior()
    theta = prior.sample(jax.random.PRNGKey(0), a.n)
    rows = []
    for label, cfg, n in (("noise-free", ERPConfig(), a.n),
                          ("20-trial average", ERPConfig(n_trials=20, input_noise=20.0), a.n // 10)):
        simulate_erps(theta[:n], prior, cfg, jax.random.PRNGKey(1))  # compile
        ts = []
        for r in range(a.repeats):
            t0 = time.perf_counter()
            simulate_erps(theta[:n], prior, cfg, jax.random.PRNGKey(2 + r))
            ts.append(time.perf_counter() - t0)
        rows.append((label, n, float(np.median(ts))))
    print(f"{'response':18s} {'n ERPs':>8s} {'median s':>9s} {'ERPs/s':>9s}   ({jax.devices()[0].platform})")
    for label, n, t in rows:
        print(f"{label:18s} {n:8d} {t:9.2f} {n / t:9.0f}")


if __name__ == "__main__":
    main()
