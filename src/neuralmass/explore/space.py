r"""Parameter spaces of a sweep and the designs that fill them with points.

A space maps each parameter name to one axis:

* ``(low, high)`` — a continuous range (``scale='linear'``, or ``'log'`` for scale parameters
  such as a conduction speed or a noise amplitude spanning decades);
* ``[v1, v2, ...]`` — explicit values;
* a dict ``{"range": [lo, hi], "steps": n, "scale": "log"}`` or ``{"values": [...]}`` (the form
  of TOML files).

Designs (:func:`design_points`):

``grid``
    the Cartesian product of the axes; a range is cut into ``steps`` points (linearly or
    geometrically spaced, ends included).
``random``
    ``n`` independent uniform points of the unit cube :math:`[0, 1)^d` (seeded NumPy generator).
``sobol``
    the first ``n`` points of a scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`;
    low discrepancy, best with ``n`` a power of 2).
``lhs``
    a Latin hypercube of ``n`` points (:class:`scipy.stats.qmc.LatinHypercube`): each axis is cut
    into ``n`` equal strata and every stratum holds exactly one point.

A unit-cube coordinate :math:`b` becomes a value :math:`x = l + b (h - l)` on a linear range,
:math:`x = l (h / l)^{b}` on a log range, and the :math:`\lfloor b m \rfloor`-th of :math:`m`
explicit values.

References
----------
I. M. Sobol', USSR Comput. Math. Math. Phys. 7 (1967) 86–112.
M. D. McKay, R. J. Beckman, W. J. Conover, Technometrics 21 (1979) 239–245.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..params import SCALES, Interval

__all__ = ["Axis", "parse_space", "design_points", "DESIGNS"]

DESIGNS = ("grid", "random", "sobol", "lhs")


@dataclass(frozen=True)
class Axis:
    """One swept parameter: a range (``low``, ``high``, ``scale``, grid ``steps``) or ``values``."""

    name: str
    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    steps: int | None = None
    values: tuple | None = None

    def grid(self) -> np.ndarray:
        if self.values is not None:
            return np.asarray(self.values, dtype=float)
        if self.steps is None:
            raise ValueError(
                f"space[{self.name!r}] is a range without a number of grid points; give "
                f"{{'range': [{self.low}, {self.high}], 'steps': 10}} (or use design='sobol'/'lhs'/'random').")
        return self.interval.grid(self.steps)

    def from_unit(self, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if self.values is not None:
            v = np.asarray(self.values, dtype=float)
            return v[np.minimum((b * len(v)).astype(int), len(v) - 1)]
        return self.interval.from_unit(b)

    @property
    def interval(self) -> Interval:
        """The range as an :class:`~neuralmass.params.Interval` (ranges only, not ``values``)."""
        return Interval(float(self.low), float(self.high), self.scale)

    @property
    def bounds(self) -> tuple:
        if self.values is not None:
            return float(min(self.values)), float(max(self.values))
        return float(self.low), float(self.high)

    def describe(self) -> dict:
        if self.values is not None:
            return {"values": [float(v) for v in self.values]}
        out = {"range": [float(self.low), float(self.high)], "scale": self.scale}
        if self.steps is not None:
            out["steps"] = int(self.steps)
        return out


def _number(v, name: str, where: str, convert) -> float:
    if convert is not None:
        v = convert(name, v, where)
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{where} = {v!r} is not a number.") from None
    if not np.isfinite(x):
        raise ValueError(f"{where} = {v!r} must be finite.")
    return x


def parse_space(space: Mapping, steps: int | None = None, convert=None) -> tuple:
    """Axes of a space spec (see the module docstring); checks every entry.

    Parameters
    ----------
    space : dict
        ``name -> (low, high) | [values] | {"range": ..., "steps": ..., "scale": ...} | {"values": ...}``.
    steps : int, optional
        Grid points of ranges that do not give their own ``steps``.
    convert : callable, optional
        ``convert(name, value, where) -> float`` for values written with units (``"10 mm/ms"``).
    """
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"space={space!r} is empty; give at least one parameter, e.g. "
                         f"space={{'k': (0.0, 0.02)}}.")
    axes = []
    for name, entry in space.items():
        where = f"space[{name!r}]"
        scale, n = "linear", steps
        if isinstance(entry, Mapping):
            bad = set(entry) - {"range", "values", "steps", "scale"}
            if bad:
                raise ValueError(f"{where} has unknown keys {sorted(bad)}; use range, steps, scale or values.")
            if ("range" in entry) == ("values" in entry):
                raise ValueError(f"{where} = {dict(entry)!r}: give exactly one of 'range' or 'values'.")
            scale = entry.get("scale", "linear")
            n = entry.get("steps", steps)
            if "values" in entry:
                entry = list(entry["values"])
            else:
                entry = tuple(entry["range"])
                if len(entry) != 2:
                    raise ValueError(f"{where}: 'range' needs two numbers [low, high], got {list(entry)!r}.")
        if scale not in SCALES:
            raise ValueError(f"{where}: scale={scale!r} is not known; use 'linear' or 'log'.")
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError(f"{where} = {entry!r}: a range is (low, high); give a list for explicit values.")
            lo, hi = (_number(v, name, where, convert) for v in entry)
            if not lo < hi:
                raise ValueError(f"{where} = ({entry[0]!r}, {entry[1]!r}) is an empty range; low must be below high.")
            if scale == "log" and lo <= 0:
                raise ValueError(f"{where}: scale='log' needs a positive low bound, got {entry[0]!r}.")
            if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1):
                raise ValueError(f"{where}: steps={n!r} must be a positive integer.")
            axes.append(Axis(name, lo, hi, scale, None if n is None else int(n)))
        elif isinstance(entry, (list, np.ndarray)):
            vals = [_number(v, name, where, convert) for v in entry]
            if not vals:
                raise ValueError(f"{where} = [] has no values; give at least one.")
            axes.append(Axis(name, values=tuple(vals)))
        else:
            raise ValueError(f"{where} = {entry!r}: give (low, high), a list of values or a dict "
                             f"{{'range': [low, high], 'steps': n}}.")
    return tuple(axes)


def design_points(axes, design: str = "grid", n: int | None = None, seed: int = 0) -> np.ndarray:
    """Points of a design, shape ``(P, len(axes))``, in the axes' units.

    The order is deterministic (same arguments, same points), so chunk ``i`` of a sweep always
    covers the same points and an interrupted sweep can resume.
    """
    if design not in DESIGNS:
        raise ValueError(f"design={design!r} is not known; choose one of {', '.join(DESIGNS)}.")
    d = len(axes)
    if design == "grid":
        grids = [a.grid() for a in axes]
        mesh = np.meshgrid(*grids, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=-1)
    if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"design={design!r} needs the number of points, e.g. points=64 (got {n!r}).")
    n = int(n)
    if design == "random":
        unit = np.random.default_rng(seed).random((n, d))
    else:
        from scipy.stats import qmc

        if design == "sobol":
            unit = qmc.Sobol(d, scramble=True, seed=seed).random(n)
        else:
            unit = qmc.LatinHypercube(d, seed=seed).random(n)
    return np.stack([a.from_unit(unit[:, j]) for j, a in enumerate(axes)], axis=-1)
