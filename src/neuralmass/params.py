"""Parameters: table rows, names, ranges, and marking for fitting.

- :class:`Parameter`: one row of a model's parameter table (default, unit, plausible range).
- :func:`resolve_path`: the one reader of parameter names (``'a'``, ``'node.a'``, ``'k'``,
  ``'coupling.k'``, ``'conn.w'``, ``'noise.x.sigma'``) used by networks, fitting and sweeps.
- :class:`Interval`: a range with a linear or log scale and its map to and from ``[0, 1]``, shared
  by fitting's search spaces and sweeps' axes.
- :class:`Param`: anywhere a model or network takes a parameter value, ``Param(value, fit=True,
  bounds=..., transform=...)`` may be passed instead; the model uses ``Param.value`` and
  :class:`neuralmass.fit.Fitter` collects every ``Param`` with ``fit=True``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .units import to_canonical, unit_factor

__all__ = ["Param", "Parameter", "Interval", "resolve_path", "override_path", "AmbiguousParameterError",
           "unwrap", "regional"]

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

            per_s = unit_factor(self.unit, u.second ** -1)
            return "rad/s" if per_s == 1.0 else "rad/ms" if per_s == 1000.0 else f"rad*{self.unit}"
        return str(self.unit)

    @property
    def factor(self) -> float:
        """Multiplier from ``unit`` to ``canonical``."""
        if self.unit is None or self.canonical is None or self.unit == self.canonical:
            return 1.0
        return unit_factor(self.unit, self.canonical)


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


#: groups of a canonical parameter tree that are not parameters themselves
_GROUPS = ("node", "noise", "conn")


class AmbiguousParameterError(KeyError, ValueError):
    """A bare parameter name that is both a node and a network (coupling) parameter.

    A ``KeyError`` (as every name :func:`resolve_path` refuses) and a ``ValueError`` (as the
    overrides that ``canonical_params`` refuses)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def resolve_path(name: str, params: Mapping) -> tuple:
    """Where the parameter ``name`` lives in a canonical parameter tree.

    The tree is ``{'node': {...}, 'noise': {input: {field: ...}}, 'conn': {'w': ...}, <network
    parameters such as 'k' or 'speed'>}`` (``System.canonical_params()``); values may be anything
    (a tree of names only is enough). Names:

    ``'node.a'`` / ``'a'``
        a node-model parameter;
    ``'coupling.k'`` / ``'k'``, ``'speed'``
        a network-level parameter (coupling strength, coupling-function parameter, traced speed);
    ``'conn.w'``
        the connection weights;
    ``'noise.<input>.<field>'``
        a noise parameter, e.g. ``'noise.x.sigma'``.

    A bare name that is both a node and a network parameter is refused (write ``'node.x'`` or
    ``'coupling.x'``).

    Returns
    -------
    tuple of str
        The keys leading to the value, e.g. ``('node', 'a')`` or ``('k',)``.

    Raises
    ------
    KeyError
        The name is not a parameter of this tree (the message lists the known names), names a
        group, or is ambiguous.
    """
    if not isinstance(name, str) or not name:
        raise KeyError(f"parameter name {name!r} must be a non-empty string such as 'k' or 'node.a'.")
    node = params.get("node", {}) if isinstance(params.get("node", {}), Mapping) else {}
    if name.startswith("node."):
        path = ("node", name[5:])
    elif name.startswith("noise."):
        path = tuple(name.split("."))
    elif name.startswith("coupling."):
        path = (name[9:],)
    elif name.startswith("conn."):
        path = ("conn", name[5:])
    else:
        top = name in params and name not in _GROUPS
        if top and name in node:
            raise AmbiguousParameterError(f"{name!r} is both a node and a network (coupling) parameter; "
                                          f"write 'node.{name}' or 'coupling.{name}'.")
        path = (name,) if top or name not in node else ("node", name)
    d = params
    for p in path:
        if not isinstance(d, Mapping) or p not in d or (len(path) == 1 and p in _GROUPS):
            raise KeyError(f"{name!r} is not a parameter of this model; known names: "
                           f"{', '.join(known_names(params))}.")
        d = d[p]
    if isinstance(d, Mapping):
        raise KeyError(f"{name!r} names a group of parameters, not one parameter; known names: "
                       f"{', '.join(known_names(params))}.")
    return path


def override_path(key: str, node_names, net_names) -> tuple:
    """Where an override of ``canonical_params(overrides)`` goes: :func:`resolve_path`'s rule.

    ``('node', name)`` for a node-model parameter, ``(name,)`` for a network-level one
    (``net_names``: coupling parameters, ``'speed'``). A bare name in both raises
    :class:`AmbiguousParameterError`. A name found in neither is routed to the node model
    (``'coupling.x'``: to the network), whose own error then names it with its known parameters.
    """
    names = {**dict.fromkeys(net_names), "node": dict.fromkeys(node_names)}
    try:
        return resolve_path(key, names)
    except AmbiguousParameterError:
        raise
    except KeyError:
        return (key[9:],) if key.startswith("coupling.") else ("node", key.removeprefix("node."))


def known_names(params: Mapping) -> list:
    """Every name :func:`resolve_path` accepts for ``params``, in its shortest form."""
    out = [k for k, v in params.items() if k not in _GROUPS and not isinstance(v, Mapping)]
    out += list(params.get("node", {}) or {})
    if "w" in (params.get("conn") or {}):
        out.append("conn.w")
    out += [f"noise.{i}.{f}" for i, d in (params.get("noise") or {}).items() for f in d]
    return out


SCALES = ("linear", "log")


@dataclass(frozen=True)
class Interval:
    """A closed range ``[low, high]`` on a linear or log scale, and its map to and from ``[0, 1]``.

    .. math:: x(b) = \\ell + b\\,(h - \\ell) \\quad\\text{(linear)}, \\qquad
              x(b) = \\ell\\,(h/\\ell)^{b} \\quad\\text{(log)}.

    The one definition of a parameter range used by fitting (:class:`neuralmass.fit.space.Dimension`,
    whose optimiser works in ``b``) and by sweeps (:class:`neuralmass.explore.space.Axis`, whose
    designs sample ``b``).
    """

    low: float
    high: float
    scale: str = "linear"

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"scale={self.scale!r}; use one of {SCALES}.")
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or not self.low < self.high:
            raise ValueError(f"range ({self.low}, {self.high}) must be finite with low < high.")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log scale needs a positive lower bound, got {self.low}.")

    def from_unit(self, b, xp=np):
        """Value at unit coordinate ``b`` (``xp``: ``numpy`` or ``jax.numpy``; ``b`` is not clipped)."""
        if self.scale == "log":
            return self.low * xp.exp(b * math.log(self.high / self.low))
        return self.low + b * (self.high - self.low)

    def to_unit(self, x):
        """Unit coordinate of value ``x`` (inverse of :meth:`from_unit`)."""
        x = np.asarray(x, dtype=float)
        if self.scale == "log":
            return np.log(x / self.low) / math.log(self.high / self.low)
        return (x - self.low) / (self.high - self.low)

    def grid(self, steps: int) -> np.ndarray:
        """``steps`` points from ``low`` to ``high``, evenly spaced on the scale."""
        if self.scale == "log":
            return np.geomspace(self.low, self.high, int(steps))
        return np.linspace(self.low, self.high, int(steps))
