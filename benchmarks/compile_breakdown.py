"""Where a first call's time goes: XLA compilation per program, tracing and lowering, running.

Runs W1 of ``benchmarks/network.py`` (80 delayed Wilson–Cowan regions, 10 s at dt = 0.1 ms) in
this process with the program store off, logging every compilation (``jax.log_compiles``), then
the same network without noise. Prints one row per compiled program and the totals. Run::

    python benchmarks/compile_breakdown.py
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path

os.environ["NEURALMASS_COMPILATION_CACHE"] = "0"      # measure compilation, not loading
sys.path.insert(0, str(Path(__file__).parent))


class _Compiles(logging.Handler):
    """Collects JAX's 'Finished ... in X sec' log lines."""

    PAT = re.compile(r"Finished (tracing|jaxpr to MLIR module conversion|XLA compilation) (?:of |for )?"
                     r"(?:jit\()?([\w<>.-]+)\)?(?: for jit)? in ([\d.e-]+) sec")

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.rows = []

    def emit(self, record):
        m = self.PAT.search(record.getMessage())
        if m:
            self.rows.append((m.group(1), m.group(2), float(m.group(3))))


def first_and_steady(sim, repeats=3):
    import brainunit as u
    import numpy as np

    def call():
        np.asarray(u.get_magnitude(sim.run(10_000 * u.ms, monitors=["rE"], key=0)["rE"]))

    t0 = time.perf_counter()
    call()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return first, sorted(times)[len(times) // 2]


def main():
    import brainunit as u
    import jax

    import neuralmass as nm
    from network import build, connectome

    handler = _Compiles()
    lg = logging.getLogger("jax")      # JAX's modules log below it
    lg.addHandler(handler)
    lg.setLevel(logging.DEBUG)
    jax.config.update("jax_log_compiles", True)

    W, L = connectome(80)
    quiet = nm.Network(nm.WilsonCowanStep(80), conn=W / W.sum(1).max(), distance=L, speed=10.0 * u.mm / u.ms,
                       coupling="diffusive", coupled_var="rE", k=0.5)
    for label, sim in (("W1 (OU noise on E)", build(80)),
                       ("W1 without noise", nm.Simulator(quiet, dt=0.1 * u.ms, progress=False))):
        handler.rows.clear()
        first, steady = first_and_steady(sim)
        xla = [(prog, t) for kind, prog, t in handler.rows if kind == "XLA compilation"]
        other = sum(t for kind, _, t in handler.rows if kind != "XLA compilation")
        print(f"\n{label}: first call {first:.2f} s, steady {steady:.3f} s ({first / steady:.1f}x)")
        print(f"  {'program':<28}{'XLA compile (s)':>16}")
        for prog, t in sorted(xla, key=lambda r: -r[1]):
            if t >= 0.01:
                print(f"  {prog:<28}{t:>16.3f}")
        print(f"  {'all programs':<28}{sum(t for _, t in xla):>16.3f}")
        print(f"  {'tracing and lowering':<28}{other:>16.3f}")


if __name__ == "__main__":
    main()
