r"""Monitors of surface simulations: region averages and sensor projections of vertex activity.

Both reduce inside the compiled loop like every monitor (:mod:`neuralmass.monitors`), so a long
16k-vertex run never stores vertex activity at every step.

* :class:`RegionAverage` records the mean of a variable over each region's nodes (the quantity
  TVB's long-range coupling and region-level BOLD are driven by); an online BOLD per region is
  ``BOLDMonitor(variable='V' + REGION_SUFFIX)``.
* :class:`SensorProjection` records :math:`\mathbf y(t) = G\,(\mathrm{scale}\cdot\mathbf s(t))`
  for a vertex-level gain matrix :math:`G` (sensors × vertices; one column per vertex, the dipole
  normal to the surface), optionally averaged over the sampling period (TVB's EEG/MEG monitors
  average). Units follow :mod:`neuralmass.forward.leadfield`: ``scale`` converts the observable
  into a dipole moment per vertex (e.g. nA·m per mV) and ``G`` is given in sensor unit per dipole
  unit, so the output carries ``sensor_unit``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import brainunit as u
import jax.numpy as jnp
import numpy as np

from ..monitors import Monitor, Raw
from ..units import to_numpy

__all__ = ["RegionAverage", "SensorProjection", "REGION_SUFFIX"]

#: ``read('V' + REGION_SUFFIX)`` of a surface network returns the region means of ``V``.
REGION_SUFFIX = "@regions"


@dataclass(frozen=True)
class RegionAverage(Raw):
    """Mean of ``variable`` over each region's nodes, sampled every ``period`` (ms); recorded as
    ``'<variable>_regions'`` unless ``name`` is given."""

    def sample(self, mstate, read):
        return mstate, read(self.variable + REGION_SUFFIX)

    def output_width(self, system) -> int:
        return int(getattr(system, "n_regions", system.n))

    @property
    def key(self) -> str:
        return self.name or f"{self.variable}_regions"


@dataclass(frozen=True, eq=False)
class SensorProjection(Monitor):
    r"""Sensor signals :math:`G\,(\mathrm{scale}\cdot s)` of vertex activity ``variable``.

    Parameters
    ----------
    variable : str
        State variable or observable read at every vertex.
    gain : (sensors, n_vertices) array or Quantity
        Vertex gain matrix: a Quantity in (sensor unit)/(dipole unit), e.g. V/(A·m), or plain
        numbers in ``gain_unit``. Rows with NaN (unusable channels) are refused: drop them first.
    scale : float or Quantity
        Observable → dipole moment per vertex: ``1 * u.nA * u.meter`` for a dimensionless
        observable, ``0.5 * u.nA * u.meter / u.mV`` for a voltage (plain numbers are read in
        ``dipole_unit`` per canonical observable unit).
    sensor_unit : Unit
        Unit of the output (e.g. ``u.uvolt`` or ``u.ftesla``).
    gain_unit : Unit, optional
        Unit of a plain ``gain`` (default ``sensor_unit / dipole_unit``).
    dipole_unit : Unit
        Default nA·m.
    average : bool
        Average over each sampling period (default) or sample instantaneously.
    period : float, optional
        Sampling period (ms).
    name : str
        Result key (default ``'eeg'``).
    """

    matrix: Any = None           # (sensors, vertices) in sensor_unit per observable unit
    unit_: Any = None
    average: bool = True
    digest: str = ""

    def __init__(self, variable: str, gain, scale=1.0, sensor_unit=u.uvolt, gain_unit=None,
                 dipole_unit=u.nA * u.meter, average: bool = True, period=None, name: str = "eeg"):
        target = sensor_unit / dipole_unit
        G = to_numpy(gain, "gain", target if gain_unit is None or isinstance(gain, u.Quantity) else gain_unit,
                     target)
        if G.ndim != 2:
            raise ValueError(f"gain has shape {G.shape}; expected (n_sensors, n_vertices).")
        bad = ~np.isfinite(G).all(axis=1)
        if bad.any():
            raise ValueError(
                f"gain has {int(bad.sum())} rows (channels {np.flatnonzero(bad)[:5].tolist()}...) with NaN/Inf; "
                f"drop unusable channels first, e.g. gain[np.isfinite(gain).all(axis=1)].")
        s = _scale_value(scale, dipole_unit)
        M = G * s
        h = hashlib.sha1(np.ascontiguousarray(M).tobytes()).hexdigest()
        set_ = object.__setattr__
        set_(self, "variable", variable)
        set_(self, "period", None if period is None else float(to_numpy(period, "period", u.ms)))
        set_(self, "name", name)
        set_(self, "matrix", M)
        set_(self, "unit_", sensor_unit)
        set_(self, "average", bool(average))
        set_(self, "digest", h)

    def __hash__(self):
        return hash((type(self), self.variable, self.period, self.name, self.average, self.digest))

    def __eq__(self, other):
        return (isinstance(other, SensorProjection) and
                (self.variable, self.period, self.name, self.average, self.digest) ==
                (other.variable, other.period, other.name, other.average, other.digest))

    @property
    def unit(self):
        return self.unit_

    @property
    def n_sensors(self) -> int:
        return int(self.matrix.shape[0])

    def output_width(self, system) -> int:
        return self.n_sensors

    def _project(self, x):
        M = jnp.asarray(self.matrix, dtype=x.dtype)
        return M @ x[:self.matrix.shape[1]]

    def init(self, read, dt):
        x = read(self.variable)
        if x.shape[-1] < self.matrix.shape[1]:
            raise ValueError(f"SensorProjection: gain has {self.matrix.shape[1]} vertex columns but the "
                             f"system has {x.shape[-1]} nodes; use the gain of this surface.")
        if not self.average:
            return ()
        return (jnp.zeros(self.matrix.shape[1], x.dtype), jnp.zeros((), x.dtype))

    def step(self, mstate, read, dt):
        if not self.average:
            return mstate
        acc, count = mstate
        x = read(self.variable)
        return (acc + x[:self.matrix.shape[1]], count + 1.0)

    def begin(self, mstate, read):
        if not self.average:
            return mstate
        acc, _ = mstate
        return (jnp.zeros_like(acc), jnp.zeros((), acc.dtype))

    def sample(self, mstate, read):
        if not self.average:
            return mstate, self._project(read(self.variable))
        acc, count = mstate
        mean = acc / jnp.maximum(count, 1.0)
        return (jnp.zeros_like(acc), jnp.zeros((), acc.dtype)), self._project(mean)


def _scale_value(scale, dipole_unit) -> float:
    """``scale`` as dipole moment (``dipole_unit``) per canonical unit of the observable: a
    Quantity in dipole units (dimensionless observables) or in dipole units per voltage (observables
    in mV, the canonical voltage unit)."""
    if not isinstance(scale, u.Quantity):
        return float(scale)
    for per in (None, u.mV):
        target = dipole_unit if per is None else dipole_unit / per
        if scale.unit.dim == target.dim:
            return float(to_numpy(scale, "scale", target))
    raise ValueError(f"scale={scale!r} must be a dipole moment ({dipole_unit}) per unit of the observable: "
                     f"e.g. 1 * u.nA * u.meter for a dimensionless variable or 0.5 * u.nA * u.meter / u.mV "
                     f"for a voltage.")
