"""Peer side of the surface benchmark: The Virtual Brain's surface simulator, run with the
interpreter of an environment that has tvb-library and tvb-data (never neuralmass's own)::

    python3 -m venv ../tvb-venv && ../tvb-venv/bin/pip install tvb-library tvb-data
    ../tvb-venv/bin/python benchmarks/_peers_surface.py 3              # one simulation
    ../tvb-venv/bin/python benchmarks/_peers_surface.py 3 --lanes 8    # also 8 in a row

Set-up (the one of ``scripts/make_tvb_surface_fixture.py`` and ``docs/surface_tvb_scheme.md``):
tvb-data's ``cortex_16384`` with ``regionMapping_16k_76`` and its ``local_connectivity_16384.mat``
(coupling strength 1), the 76-region connectome (weights as stored, speed 5 mm/ms, ``Linear``
a = 0.0152), the Generic2dOscillator at TVB's defaults, ``HeunDeterministic`` at dt = 0.1 ms,
TVB's default monitor (``TemporalAverage``, period 0.9765625 ms), deterministic initial history.

Timing: ``tvb_configure_s`` builds and configures the simulator (files read, history filled);
``tvb_first_run_s`` is the first ``run()`` of ``--duration`` ms (numba and first-call costs);
then REPEATS further runs of the same length continue the simulation and their median gives
``tvb`` (seconds of wall time per simulated second) and ``tvb_ms_per_step``. TVB cannot batch a
surface simulation, so ``--lanes N`` runs N simulations one after the other (each with its own
local coupling strength, 0.5 to 1.5) and reports ``tvb_lanes_s_per_sim_s`` for all of them
together (median of REPEATS, after one warm-up lane set). Prints one JSON line on stdout (TVB's
log goes to stderr). Nothing here imports neuralmass.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time

import numpy as np

DT = 0.1
SPEED = 5.0
A = 0.0152


def build(lc_strength=1.0):
    from tvb.datatypes import connectivity, cortex
    from tvb.simulator import coupling, integrators, models, monitors, simulator

    conn = connectivity.Connectivity.from_file("connectivity_76.zip")
    conn.speed = np.array([SPEED])
    conn.configure()
    ctx = cortex.Cortex.from_file(source_file="cortex_16384.zip",
                                  region_mapping_file="regionMapping_16k_76.txt",
                                  local_connectivity_file="local_connectivity_16384.mat")
    ctx.region_mapping_data.connectivity = conn
    ctx.coupling_strength = np.array([lc_strength])
    horizon = int(np.rint(conn.tract_lengths / SPEED / DT).max()) + 1
    x, y, z = np.asarray(ctx.region_mapping_data.surface.vertices).T
    ic = np.stack([np.sin(0.1 * x) * np.cos(0.1 * y) + 0.5 * np.sin(0.7 * z + 0.3 * x),
                   -0.5 + 0.5 * np.cos(0.05 * (x + y + z))])
    hist = np.broadcast_to(ic[None, :, :, None], (horizon, 2, ic.shape[1], 1)).copy()
    sim = simulator.Simulator(model=models.Generic2dOscillator(), connectivity=conn,
                              coupling=coupling.Linear(a=np.array([A])),
                              integrator=integrators.HeunDeterministic(dt=DT),
                              monitors=(monitors.TemporalAverage(),), surface=ctx,
                              initial_conditions=hist)
    sim.configure()
    return sim


def timed_run(sim, duration):
    t0 = time.perf_counter()
    sim.run(simulation_length=duration)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repeats", type=int, nargs="?", default=3)
    ap.add_argument("--duration", type=float, default=200.0, help="ms simulated per timed run")
    ap.add_argument("--lanes", type=int, default=0, help="also time N simulations in a row")
    args = ap.parse_args()
    out = {}
    with contextlib.redirect_stdout(sys.stderr):
        try:
            import tvb_data  # noqa: F401
            from tvb.simulator import simulator  # noqa: F401
        except ImportError:
            print(json.dumps(out), file=sys.__stdout__)
            return
        t0 = time.perf_counter()
        sim = build()
        out["tvb_configure_s"] = time.perf_counter() - t0
        out["tvb_first_run_s"] = timed_run(sim, args.duration)
        times = [timed_run(sim, args.duration) for _ in range(max(1, args.repeats))]
        med = statistics.median(times)
        n_steps = int(round(args.duration / DT))
        out["tvb"] = med / (args.duration / 1000.0)
        out["tvb_ms_per_step"] = 1000.0 * med / n_steps
        out["tvb_runs_s"] = times
        out["duration_ms"] = args.duration
        del sim
        if args.lanes:
            lanes = [build(s) for s in np.linspace(0.5, 1.5, args.lanes)]

            def all_lanes():
                t = time.perf_counter()
                for s in lanes:
                    s.run(simulation_length=args.duration)
                return time.perf_counter() - t

            all_lanes()  # warm-up (first run of each simulator)
            lt = statistics.median([all_lanes() for _ in range(max(1, args.repeats))])
            out["tvb_lanes"] = args.lanes
            out["tvb_lanes_s_per_sim_s"] = lt / (args.duration / 1000.0)
    print(json.dumps(out), file=sys.__stdout__, flush=True)


if __name__ == "__main__":
    main()
