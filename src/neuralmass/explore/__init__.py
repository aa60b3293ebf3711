"""Parameter exploration: sweeps of a network over a parameter space, batched per chunk, run on
Dask (a local cluster, any scheduler, or an HPC cluster through dask-jobqueue), stored in a
resumable Zarr store. See ``docs/explore.md``.

>>> from neuralmass.explore import Sweep, open_sweep          # doctest: +SKIP
>>> ds = Sweep(net, {'k': (0.0, 0.02)}, steps=24, seeds=2, dt=5.0, duration=300_000).run('k.zarr')
"""

from .features import FEATURES
from .model import SweepModel, speed_system
from .space import DESIGNS, Axis, design_points, parse_space
from .store import SweepStoreMismatch, open_sweep, spec_difference
from .sweep import SchedulerError, Sweep

__all__ = ["Sweep", "SweepModel", "speed_system", "FEATURES", "DESIGNS", "Axis",
           "design_points", "parse_space", "open_sweep", "spec_difference", "SweepStoreMismatch",
           "SchedulerError"]
