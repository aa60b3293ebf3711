"""Compatibility module: the engine lives in :mod:`neuralmass.engine`."""

from .engine import (NOISE_BLOCK, NodeSystem, SimulationDiverged, Simulator, lane_keys, make_run_fn,
                     standard_normals, trace_count)

__all__ = ["NodeSystem", "Simulator", "SimulationDiverged", "trace_count", "lane_keys", "make_run_fn",
           "standard_normals", "NOISE_BLOCK"]
