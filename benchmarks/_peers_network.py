"""Peer side of benchmarks/network.py, run with a peer environment's interpreter.

    ../peers-venv/bin/python benchmarks/_peers_network.py W1 3

Prints one JSON line {"neurolib": seconds, "brainmass": seconds} (median of REPEATS second calls)
for the workload, on the same connectome as benchmarks/network.py, for each peer installed in that
environment. Nothing here imports neuralmass.
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


def brainmass_run(n, duration_ms, k):
    """brainmass's own Network + Simulator (its documented API), delays sized from the global dt."""
    import brainmass
    import brainstate
    import brainunit as u
    import jax

    W, L = connectome(n)
    brainstate.environ.set(dt=0.1 * u.ms)
    node = brainmass.WilsonCowanStep(n, noise_E=brainmass.OUProcess(n, sigma=0.01, tau=20.0 * u.ms))
    net = brainmass.Network(node, conn=W / W.sum(1).max(), distance=L * u.mm, speed=10.0 * u.mm / u.ms,
                            coupling="diffusive", coupled_var="rE", k=k)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)

    def run():
        out = sim.run(duration_ms * u.ms, monitors=lambda m: m.node.rE.value)
        jax.block_until_ready(out)
        return out

    return run


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
    try:
        if name in ("W1", "W2"):
            out["brainmass"] = time_calls(brainmass_run(80 if name == "W1" else 400, 10_000, 0.5),
                                          max(1, repeats if name == "W1" else 1)).median
        # W3: brainmass's Network does not broadcast a batch of k over its delayed coupling
        # (a (B, 1) k fails inside the delay read), so only its noted vmapped figure is shown
    except ImportError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
