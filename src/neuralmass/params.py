"""Marking parameters for fitting: ``Param(value, fit=True, bounds=..., transform=...)``.

Anywhere a model or network takes a parameter value, a :class:`Param` may be passed instead; the
model uses ``Param.value`` and :class:`neuralmass.fit.Fitter` collects every ``Param`` with
``fit=True`` as a trainable parameter (with its bounds and transform).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .units import to_canonical

__all__ = ["Param", "Parameter", "unwrap", "regional"]

Array = Any


@dataclass(frozen=True)
class Parameter:
    """One row of a model's parameter table.

    Attributes
    ----------
    name : str
    default : float
        Literature default, in ``unit``.
    unit : brainunit.Unit or None
        Unit in which the default is given and in which plain numbers passed by users are read.
    canonical : brainunit.Unit or None
        Unit the drift function receives (time-based quantities in ms). ``None`` means same as
        ``unit``.
    bounds : (float, float)
        Plausible range in ``unit`` (used by priors, fitting search spaces and validation hints).
    doc : str
        Meaning.
    """

    name: str
    default: float
    unit: Any = None
    canonical: Any = None
    bounds: tuple[float, float] = (-np.inf, np.inf)
    doc: str = ""

    #: an angular frequency (rad per unit time): shown as rad/s or rad/ms, and a value written in
    #: Hz is refused by the config/CLI reader (brainunit cannot tell Hz from rad/s)
    angular: bool = False

    def to_canonical(self, value) -> Array:
        return to_canonical(value, self.name, self.unit, self.canonical)

    @property
    def unit_label(self) -> str:
        """The unit as shown in tables and messages (``rad/s`` for an angular frequency)."""
        if self.unit is None:
            return ""
        if self.angular:
            import brainunit as u

            per_s = float((1.0 * self.unit).to_decimal(u.second ** -1))
            return "rad/s" if per_s == 1.0 else "rad/ms" if per_s == 1000.0 else f"rad*{self.unit}"
        return str(self.unit)

    @property
    def factor(self) -> float:
        """Multiplier from ``unit`` to ``canonical``."""
        if self.unit is None or self.canonical is None or self.unit == self.canonical:
            return 1.0
        return float((1.0 * self.unit).to_decimal(self.canonical))


@dataclass(frozen=True)
class Param:
    """A parameter value plus fitting metadata.

    Parameters
    ----------
    value : float, array or Quantity
        Initial value, in the parameter's documented unit (or a Quantity).
    fit : bool, default True
        Whether fitting may change it.
    bounds : (low, high), optional
        Search range in the same unit as ``value`` (defaults to the model table's plausible range).
    transform : {'identity', 'log', 'logit'}, optional
        Reparameterisation used by gradient fitting (``'logit'`` needs bounds).
    """

    value: Any
    fit: bool = True
    bounds: tuple | None = None
    transform: str | None = None

    def __post_init__(self):
        if self.transform not in (None, "identity", "log", "logit"):
            raise ValueError(f"transform={self.transform!r}; use 'identity', 'log' or 'logit'.")
        if self.bounds is not None:
            lo, hi = self.bounds
            if not lo < hi:
                raise ValueError(f"bounds={self.bounds!r} must satisfy low < high.")


def unwrap(value):
    """``value.value`` for a :class:`Param`, else ``value``."""
    return value.value if isinstance(value, Param) else value


def regional(spec, n: int, labels=None, name: str = "parameter", default=None, convert=None):
    """A per-region parameter vector from ``{'default': v, 'regions': {label or index: v}}``.

    Parameters
    ----------
    spec : mapping
        ``default`` (the value of every region not listed; the model's default when omitted) and
        ``regions``: region label (``'rHC'``) or index (``12``) -> value.
    n : int
        Number of regions.
    labels : sequence of str, optional
        Region labels of the connectome (needed for labels).
    name : str
        Parameter name for messages.
    default : optional
        Value when ``spec`` has no ``default``.
    convert : callable, optional
        Applied to every value (e.g. the parameter's unit conversion).

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> regional({'default': -2.2, 'regions': {'rHC': -1.6, 3: -1.8}}, 4, ['lA', 'rA', 'rHC', 'lB'])
    array([-2.2, -2.2, -1.6, -1.8])
    """
    import numpy as np

    bad = set(spec) - {"default", "regions"}
    if bad:
        raise ValueError(f"{name}: a per-region value takes 'default' and 'regions', not {sorted(bad)}; "
                         f"e.g. {name} = {{default = -2.2, regions = {{'rHC' = -1.6}}}}.")
    conv = convert or (lambda v: float(np.asarray(v)))
    base = spec.get("default", default)
    if base is None:
        raise ValueError(f"{name}: give a 'default' for the regions not listed.")
    out = np.full(int(n), float(conv(base)), dtype=float)
    index = {str(lab): i for i, lab in enumerate(labels)} if labels is not None else {}
    for key, value in dict(spec.get("regions", {})).items():
        if isinstance(key, (int, np.integer)) or (isinstance(key, str) and key.isdigit() and key not in index):
            i = int(key)
            if not 0 <= i < n:
                raise IndexError(f"{name}: region index {i} is outside 0..{n - 1}.")
        elif key in index:
            i = index[key]
        else:
            import difflib

            near = difflib.get_close_matches(str(key), list(index), n=3)
            hint = f"; did you mean {', '.join(map(repr, near))}?" if near else (
                "; the network has no region labels: use indices, or build it from a Connectome with labels"
                if not index else f"; labels: {', '.join(list(index)[:8])}{' ...' if len(index) > 8 else ''}")
            raise KeyError(f"{name}: unknown region label {key!r}{hint}")
        out[i] = float(conv(value))
    return out
