r"""Search spaces: which parameters a fit may change, their ranges, transforms and units.

A :class:`SearchSpace` maps between three coordinates of each fitted parameter :math:`x`
(lower bound :math:`l`, upper bound :math:`u`, both in the parameter's documented unit):

* the **value** :math:`x` (canonical units inside the compiled core, e.g. rates per ms),
* the **box coordinate** :math:`b \in [0, 1]`, what gradient-free optimisers search:

  .. math::

      x = l + b\,(u - l) \quad (\text{'identity', 'logit'}), \qquad
      x = l\,(u / l)^{b} \quad (\text{'log'}),

* the **unconstrained coordinate** :math:`z \in \mathbb{R}`, what gradient optimisers update:
  :math:`b = \sigma(z) = 1/(1 + e^{-z})` for ``'logit'`` (the bounds can never be crossed and the
  gradient never vanishes at them), :math:`b = \mathrm{clip}(z, 0, 1)` for ``'identity'`` and
  ``'log'`` (a parameter that reaches a bound stays there).

``'log'`` suits scale parameters spanning decades (time constants, noise amplitudes; needs
:math:`l > 0`); ``'logit'`` (the default) suits bounded parameters such as a coupling strength.

Parameters are named like the overrides of :meth:`neuralmass.Simulator.params`: a node
parameter by its name (``'a'``, ``'tau'``; or ``'node.a'``), a system parameter by its key in the
parameter pytree (``'k'``, ``'speed'``), a noise parameter as ``'noise.<input>.<field>'`` (e.g.
``'noise.x_ext.sigma'``, canonical units), the connection weights of a network as ``'conn.w'``.

A parameter is fitted at one of four granularities:

* **global** (default): one value for every region;
* **per group**: ``'a[rHC,lHC]'`` — one value for the named regions (labels or indices), the
  others keep theirs;
* **per region**: ``{'per': 'region'}`` — one value per region (``n`` coordinates);
* **per connection**: ``'conn.w'`` with ``{'per': 'connection'}`` — one weight per edge of the
  structural connectome (its sparsity pattern is kept: absent edges stay absent).

All coordinates of all parameters form one vector of length :attr:`SearchSpace.dim`; the maps
below act on it column by column (vectorised, so a space of thousands of edge weights costs one
array operation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..params import Interval, Param, resolve_path
from ..units import is_quantity, to_canonical

__all__ = ["Dimension", "SearchSpace"]

_TRANSFORMS = ("identity", "log", "logit")
_PER = (None, "region", "connection")


@dataclass(frozen=True)
class Dimension:
    """One fitted parameter.

    Attributes
    ----------
    name : str
        Name as given by the user (``'k'``, ``'a'``, ``'noise.x_ext.sigma'``).
    path : tuple of str
        Location in the canonical parameter pytree (``('k',)``, ``('node', 'a')``).
    low, high : float
        Bounds in the documented unit (``unit``).
    transform : {'identity', 'log', 'logit'}
    init : float or None
        Starting value in ``unit`` (``None``: the middle of the box).
    factor : float
        Multiplier from ``unit`` to canonical units.
    unit : brainunit.Unit or None
        Unit of ``low``, ``high``, ``init`` and of the reported result.
    regions : tuple of int, optional
        For a per-region (or per-group) dimension such as ``'x0[rHC]'`` or ``'x0[rHC,lHC]'``: the
        regions whose value it sets (the others keep theirs); ``size`` is the number of regions.
    """

    name: str
    path: tuple
    low: float
    high: float
    transform: str = "logit"
    init: float | None = None
    factor: float = 1.0
    unit: Any = None
    regions: tuple | None = None     # region indices set by this dimension (None: every region)
    size: int = 0                    # number of regions (with ``regions``)
    per: str | None = None           # None (one value), 'region' or 'connection'
    count: int = 1                   # coordinates of this dimension (n regions, n edges, or 1)

    def __post_init__(self):
        if self.transform not in _TRANSFORMS:
            raise ValueError(f"transform={self.transform!r} for {self.name!r}; use one of {_TRANSFORMS}.")
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or not self.low < self.high:
            raise ValueError(
                f"bounds ({self.low}, {self.high}) of {self.name!r} must be finite with low < high; give "
                f"explicit bounds, e.g. space={{{self.name!r}: (0.0, 1.0)}}.")
        if self.transform == "log" and self.low <= 0:
            raise ValueError(f"transform='log' for {self.name!r} needs a positive lower bound, got {self.low}.")
        if self.per not in _PER:
            raise ValueError(f"per={self.per!r} for {self.name!r}; use one of {_PER[1:]} (or leave it out "
                             f"for one value).")
        if self.init is not None:
            init = np.asarray(self.init, dtype=float)
            if init.ndim and init.shape != (self.count,):
                raise ValueError(f"initial values of {self.name!r} have shape {init.shape}; expected "
                                 f"({self.count},) (one per {self.per}) or one number.")
            if not np.all((self.low <= init) & (init <= self.high)):
                bad = init[(init < self.low) | (init > self.high)].ravel()[:3]
                raise ValueError(f"initial value(s) {bad.tolist()} of {self.name!r} lie outside its bounds "
                                 f"({self.low}, {self.high}).")

    # ------------------------------------------------------------------ coordinates
    @property
    def interval(self) -> Interval:
        """The bounds as an :class:`~neuralmass.params.Interval` (log scale for ``transform='log'``)."""
        return Interval(self.low, self.high, "log" if self.transform == "log" else "linear")

    def box_to_user(self, b):
        return self.interval.from_unit(jnp.clip(b, 0.0, 1.0), xp=jnp)

    def user_to_box(self, x):
        return self.interval.to_unit(x)

    def init_box(self) -> np.ndarray:
        """Starting box coordinates, shape ``(count,)``."""
        if self.init is None:
            return np.full(self.count, 0.5)
        return np.broadcast_to(self.user_to_box(self.init), (self.count,)).astype(float)


def _plain(v, name, dim: Dimension | None = None, spec=None, count: int | None = None):
    """A bound or initial value in the documented unit (Quantities converted).

    With ``count`` (a per-region or per-connection dimension) an array of ``count`` values is
    accepted as well as one number."""
    if isinstance(v, Param):
        v = v.value
    if is_quantity(v):
        if spec is not None:
            arr = np.asarray(spec.to_canonical(v), dtype=float) / spec.factor
        elif dim is not None and dim.unit is not None:
            arr = np.asarray(to_canonical(v, name, dim.unit), dtype=float)
        else:
            raise ValueError(f"{name}={v!r} carries a unit but the parameter has no documented unit; "
                             f"pass a plain number in canonical units.")
    else:
        arr = np.asarray(v, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    if count is not None and arr.shape == (count,):
        return arr
    if count is not None:
        raise ValueError(f"{name} has shape {arr.shape}; give one number or {count} values.")
    raise ValueError(f"{name}={v!r}: one number expected here (fit a parameter per region with "
                     f"{{'per': 'region'}}).")


def _split_regions(name: str, system):
    """``'x0[rHC,lHC]'`` -> ``('x0', (i, j))`` (labels or indices); ``'x0'`` -> ``('x0', None)``."""
    if not name.endswith("]") or "[" not in name:
        return name, None
    from ..params import regional

    base, inner = name[:-1].split("[", 1)
    keys = [k.strip() for k in inner.split(",") if k.strip()]
    if not keys:
        raise ValueError(f"{name!r}: name at least one region inside the brackets, e.g. '{base}[rHC]'.")
    mark = regional({"default": 0.0, "regions": {k: 1.0 for k in keys}}, system.n,
                    system.labels, name)
    return base, tuple(int(i) for i in np.flatnonzero(mark))


class SearchSpace:
    """The fitted parameters of a model, with bounds, transforms and units.

    Build it with :meth:`from_spec` (what :class:`~neuralmass.fit.Fitter` does) or from a list of
    :class:`Dimension`. All coordinate maps work on the last axis and accept leading batch axes.

    Examples
    --------
    >>> space = SearchSpace.from_spec({'k': (0.0, 3.0), 'tau': (1.0, 100.0, 'log')}, sim)  # doctest: +SKIP
    >>> space.names
    ('k', 'tau')
    """

    def __init__(self, dims):
        dims = tuple(dims)
        if not dims:
            raise ValueError("the search space is empty: mark parameters with Param(value, fit=True) or "
                             "pass space={'name': (low, high), ...}.")
        names = [d.name for d in dims]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate names in the search space: {names}.")
        self.dims = dims
        counts = [d.count for d in dims]
        self._D = int(sum(counts))
        stops = np.cumsum(counts)
        self._slices = tuple(slice(int(e - c), int(e)) for e, c in zip(stops, counts))
        col = lambda f: np.concatenate([np.full(d.count, f(d), dtype=float) for d in dims])  # noqa: E731
        self._lo, self._hi, self._factor = col(lambda d: d.low), col(lambda d: d.high), col(lambda d: d.factor)
        self._is_log = col(lambda d: d.transform == "log").astype(bool)
        self._is_logit = col(lambda d: d.transform == "logit").astype(bool)
        self._any_log = bool(self._is_log.any())
        self._lo_safe = np.where(self._is_log, self._lo, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._logratio = np.where(self._is_log, np.log(np.where(self._is_log, self._hi, 1.0) / self._lo_safe), 0.0)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_spec(cls, spec, system, params: Mapping, marks: Mapping | None = None) -> "SearchSpace":
        """Build a space from an explicit spec and/or ``Param`` marks.

        Parameters
        ----------
        spec : dict or None
            ``name -> (low, high)``, ``(low, high, transform)``, a dict with keys ``bounds``,
            ``transform``, ``init``, or a :class:`~neuralmass.Param`. Bounds and ``init`` are in the
            parameter's documented unit (model table) or Quantities.
        system : engine system (``Simulator(...).system``)
            Used to look up units and default bounds (``system.param_spec(name)``).
        params : dict
            The canonical parameter pytree (``Simulator.params()``), to locate names.
        marks : dict, optional
            ``name -> Param`` collected from the model (``Param(value, fit=True)``); entries of
            ``spec`` take precedence.
        """
        entries: dict[str, Any] = {}
        for name, p in (marks or {}).items():
            if isinstance(p, Param) and p.fit:
                entries[name] = p
        if isinstance(spec, SearchSpace):
            return spec
        if spec is not None:
            if isinstance(spec, (list, tuple)):
                spec = {name: None for name in spec}
            if not isinstance(spec, Mapping):
                raise TypeError(f"space={spec!r} must be a dict {{name: (low, high)}}, a list of names "
                                f"or a SearchSpace.")
            entries.update(spec)
        dims = []
        for name, entry in entries.items():
            base, regions = _split_regions(name, system)
            try:
                path = resolve_path(base, params)
            except KeyError as exc:
                raise KeyError(f"cannot fit {base!r}: {exc.args[0]}") from None
            pspec = _param_spec(system, path)
            unit = getattr(pspec, "unit", None)
            factor = float(getattr(pspec, "factor", 1.0)) if pspec is not None else 1.0
            bounds, transform, init, per = None, None, None, None
            if isinstance(entry, Param):
                bounds, transform, init = entry.bounds, entry.transform, entry.value
            elif isinstance(entry, Mapping):
                bad = set(entry) - {"bounds", "transform", "init", "per"}
                if bad:
                    raise ValueError(f"space[{name!r}] has unknown keys {sorted(bad)}; use bounds, transform, "
                                     f"init, per.")
                bounds, transform, init = entry.get("bounds"), entry.get("transform"), entry.get("init")
                per = entry.get("per")
            elif isinstance(entry, (tuple, list)):
                if len(entry) == 3:
                    bounds, transform = tuple(entry[:2]), entry[2]
                elif len(entry) == 2:
                    bounds = tuple(entry)
                else:
                    raise ValueError(f"space[{name!r}]={entry!r}: give (low, high) or (low, high, transform).")
            elif entry is not None:
                raise ValueError(f"space[{name!r}]={entry!r}: give (low, high), (low, high, transform), a dict "
                                 f"or a Param.")
            count, current = _granularity(name, path, per, regions, params, system)
            if bounds is None and per == "connection":
                wmax = float(np.max(np.abs(current))) if current.size else 0.0
                bounds = (0.0, 2.0 * wmax if wmax > 0 else 1.0)
            if bounds is None:
                bounds = getattr(pspec, "bounds", None)
                if bounds is None or not all(np.isfinite(bounds)):
                    raise ValueError(f"{name!r} has no default range; give bounds, e.g. "
                                     f"space={{{name!r}: (0.0, 1.0)}}.")
            probe = Dimension(name, path, 0.0, 1.0, factor=factor, unit=unit)
            lo = _plain(bounds[0], f"bounds of {name}", probe, pspec)
            hi = _plain(bounds[1], f"bounds of {name}", probe, pspec)
            vec = count if per is not None else None
            init_v = None if init is None else _plain(init, f"initial value of {name}", probe, pspec, vec)
            if init_v is None and per is not None:
                # a vector starts where the model is: its current values (in documented units)
                init_v = np.broadcast_to(current / factor, (count,)).astype(float)
                init_v = np.clip(init_v, lo, hi)
            if init_v is not None:
                iv = np.asarray(init_v, dtype=float)
                near = np.isclose(iv, lo) | np.isclose(iv, hi)
                iv = np.where(near, np.clip(iv, lo, hi), iv)
                init_v = float(iv) if iv.ndim == 0 else iv
            dims.append(Dimension(name, path, lo, hi, transform or "logit", init_v, factor, unit,
                                  regions, system.n if regions is not None else 0, per, count))
        return cls(dims)

    # ------------------------------------------------------------------ info
    def user_value(self, name: str, v) -> np.ndarray:
        """Values of dimension ``name`` in its documented unit (Quantities converted, so a point
        given in another unit is not misread)."""
        if name not in self.names:
            raise KeyError(f"{name!r} is not a dimension of the search space; dimensions: {', '.join(self.names)}")
        dim = self.dims[self.names.index(name)]
        if isinstance(v, Param):
            v = v.value
        if is_quantity(v):
            if dim.unit is None:
                raise ValueError(f"{name}={v!r} carries a unit but {name!r} is dimensionless; pass a number.")
            return np.asarray(to_canonical(v, name, dim.unit), dtype=float)
        return np.asarray(v, dtype=float)

    @property
    def names(self) -> tuple:
        return tuple(d.name for d in self.dims)

    @property
    def dim(self) -> int:
        """Number of coordinates (a per-region dimension counts its regions)."""
        return self._D

    @property
    def n_parameters(self) -> int:
        """Number of fitted scalars (same as :attr:`dim`)."""
        return self._D

    def __len__(self):
        return self._D

    def slices(self) -> dict:
        """``name -> slice`` of each dimension's coordinates in the flat vector."""
        return dict(zip(self.names, self._slices))

    def __repr__(self):
        rows = ", ".join(f"{d.name}{'' if d.per is None else f'[per {d.per}: {d.count}]'}"
                         f"∈[{d.low:g}, {d.high:g}]({d.transform})" for d in self.dims)
        return f"SearchSpace({rows})"

    def with_init(self, **init) -> "SearchSpace":
        """A copy with new starting values (documented units)."""
        dims = [replace(d, init=_plain(init[d.name], d.name, d, None, d.count if d.per else None))
                if d.name in init else d for d in self.dims]
        return SearchSpace(dims)

    # ------------------------------------------------------------------ coordinates
    def init_box(self) -> np.ndarray:
        """Starting point in box coordinates (``init`` or the box centre), shape ``(dim,)``."""
        return np.concatenate([d.init_box() for d in self.dims])

    def sample_box(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` Latin-hypercube points in the unit box, shape (n, dim)."""
        out = np.empty((n, self.dim))
        for j in range(self.dim):
            out[:, j] = (rng.permutation(n) + rng.uniform(size=n)) / n
        return out

    def box_to_user(self, b):
        """Box coordinates (..., dim) → values in documented units (..., dim)."""
        b = jnp.clip(jnp.asarray(b), 0.0, 1.0)
        lin = self._lo + b * (self._hi - self._lo)
        if not self._any_log:
            return lin
        logv = self._lo_safe * jnp.exp(b * self._logratio)
        return jnp.where(self._is_log, logv, lin)

    def user_to_box(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        lin = (x - self._lo) / (self._hi - self._lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            logb = np.log(np.where(self._is_log, x, 1.0) / self._lo_safe) / np.where(self._is_log, self._logratio, 1.0)
        return np.where(self._is_log, logb, lin)

    def box_to_canonical(self, b):
        return self.box_to_user(b) * self._factor

    def z_to_box(self, z):
        """Unconstrained (gradient) coordinates → box coordinates."""
        z = jnp.asarray(z)
        return jnp.where(self._is_logit, jax.nn.sigmoid(z), jnp.clip(z, 0.0, 1.0))

    def box_to_z(self, b) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        bj = np.clip(b, 1e-4, 1 - 1e-4)
        return np.where(self._is_logit, np.log(bj) - np.log1p(-bj), b)

    def split(self, x) -> dict:
        """``name -> value`` (scalar or ``(count,)`` array) of a flat vector ``x`` (..., dim)."""
        x = np.asarray(x)
        return {d.name: (x[..., sl][..., 0] if d.per is None else x[..., sl])
                for d, sl in zip(self.dims, self._slices)}

    def apply(self, params: Mapping, b) -> dict:
        """The parameter pytree with the fitted entries set from box coordinates ``b`` (dim,)."""
        vals = self.box_to_canonical(b)
        out = jax.tree.map(lambda x: x, dict(params))
        for d, sl in zip(self.dims, self._slices):
            node = out
            for p in d.path[:-1]:
                node[p] = dict(node[p])
                node = node[p]
            old = jnp.asarray(node[d.path[-1]])
            v = vals[sl]
            if d.per is not None:
                node[d.path[-1]] = v.astype(old.dtype)
            elif d.regions is not None:
                vec = jnp.broadcast_to(old, (d.size,)) if old.ndim == 0 else old
                node[d.path[-1]] = vec.at[jnp.asarray(d.regions)].set(v[0].astype(vec.dtype))
            else:
                node[d.path[-1]] = jnp.broadcast_to(v[0], old.shape).astype(old.dtype) if old.ndim else v[0].astype(old.dtype)
        return out

    def to_user(self, b) -> dict:
        """``name -> value`` (Quantity in the documented unit, or float / array) for box point ``b``."""
        x = self.split(np.asarray(self.box_to_user(np.asarray(b, dtype=float))))
        out = {}
        for d in self.dims:
            v = float(x[d.name]) if d.per is None else np.asarray(x[d.name], dtype=float)
            out[d.name] = u.Quantity(v, unit=d.unit) if d.unit is not None else v
        return out

    def to_canonical_dict(self, b) -> dict:
        """``name -> value`` in canonical units (float, or a list for vector dimensions)."""
        x = self.split(np.asarray(self.box_to_canonical(np.asarray(b, dtype=float))))
        return {d.name: float(x[d.name]) if d.per is None else np.asarray(x[d.name], dtype=float).tolist()
                for d in self.dims}

    def canonical_to_box(self, canonical: Mapping) -> np.ndarray:
        """Inverse of :meth:`to_canonical_dict` (box coordinates, shape ``(dim,)``)."""
        x = np.concatenate([np.broadcast_to(np.asarray(canonical[d.name], dtype=float) / d.factor, (d.count,))
                            for d in self.dims])
        return self.user_to_box(x)

    def describe(self) -> list:
        """Plain description (for saving): one dict per dimension."""
        return [{"name": d.name, "path": list(d.path), "low": d.low, "high": d.high,
                 "transform": d.transform, "init": None if d.init is None else np.asarray(d.init).tolist(),
                 "factor": d.factor, "unit": None if d.unit is None else str(d.unit),
                 "per": d.per, "count": d.count,
                 "regions": None if d.regions is None else list(d.regions)} for d in self.dims]


def _param_spec(system, path):
    """Table row (unit, factor, bounds) for a parameter path, when one exists."""
    if path[0] == "node" and len(path) == 2:
        try:
            return system.node_model.param(path[1])
        except KeyError:
            return None
    if len(path) == 1:
        get = getattr(system, "param_spec", None)
        if get is not None:
            try:
                spec = get(path[0])
            except (KeyError, AttributeError, TypeError):
                spec = None
            if spec is not None and hasattr(spec, "factor"):
                return spec
    return None


def _granularity(name, path, per, regions, params, system):
    """Number of coordinates of a dimension and the model's current values (canonical units).

    ``per='region'`` needs a node parameter, ``per='connection'`` the network's weights
    (``'conn.w'``); a group dimension (``'a[rHC]'``) is one coordinate.
    """
    d = params
    for p in path:
        d = d[p]
    current = np.asarray(d, dtype=float)
    if per is None:
        if path == ("conn", "w"):
            raise ValueError(f"{name!r}: connection weights are fitted one per edge; give "
                             f"space={{'conn.w': {{'per': 'connection', 'bounds': (low, high)}}}}.")
        return 1, current
    if per not in _PER:
        raise ValueError(f"space[{name!r}]: per={per!r} is not known; use 'region' or 'connection' "
                         f"(or leave it out for one value).")
    if regions is not None:
        raise ValueError(f"space[{name!r}]: a group of regions in brackets is fitted as one value; drop "
                         f"per={per!r}, or drop the brackets to fit every region.")
    if per == "region":
        if path[0] != "node":
            raise ValueError(f"space[{name!r}]: per='region' applies to node parameters (e.g. 'a'); "
                             f"{name!r} is not one.")
        n = int(getattr(system, "n", 1))
        if current.ndim and current.shape != (n,):
            raise ValueError(f"space[{name!r}]: current value has shape {current.shape}, expected ({n},).")
        return n, current
    if path != ("conn", "w"):
        raise ValueError(f"space[{name!r}]: per='connection' applies to the connection weights 'conn.w'.")
    if current.ndim != 1:
        raise ValueError(f"space[{name!r}]: the weights have shape {current.shape}; per-connection fits "
                         f"need a network whose weights are stored per edge.")
    return int(current.size), current
