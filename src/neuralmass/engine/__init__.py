"""The simulation engine, in the order a run flows through it.

========================  ===================================================================
:mod:`.system`            the :class:`System` protocol and :class:`NodeSystem`
:mod:`.rng`               counter-based noise streams, keys (``brainstate.random.seed``)
:mod:`.plan`              dt, durations, steps, monitors and inputs resolved once
:mod:`.kernel`            the scan step and segment, the carried state
:mod:`.run`               :func:`make_run_fn`, the pure core everything calls; compile cache
:mod:`.simulator`         :class:`Simulator`: chunks, progress, checks, results
========================  ===================================================================
"""

from .kernel import trace_count
from .plan import Plan, RunPlan, make_plan
from .rng import NOISE_BLOCK, lane_keys, standard_normals
from .run import clear_cache, default_params, make_run_fn
from .simulator import SimulationDiverged, Simulator
from .system import HasSystem, NodeSystem, System, as_system

__all__ = ["System", "HasSystem", "NodeSystem", "as_system", "Plan", "RunPlan", "make_plan", "NOISE_BLOCK",
           "lane_keys", "standard_normals", "make_run_fn", "default_params", "clear_cache",
           "Simulator", "SimulationDiverged", "trace_count"]
