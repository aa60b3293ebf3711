r"""Long-range coupling between regions: pure functions plus thin stateful wrappers.

Every coupling has the form used by The Virtual Brain (Sanz-Leon et al. 2015)

.. math::

    c_i(t) = \mathrm{post}\Big(\sum_j w_{ij}\, \mathrm{pre}\big(x_j(t - \tau_{ij}), x_i(t)\big)\Big),

with a global strength :math:`k`. The kinds implemented here:

================================  ==============================================================
``'linear'`` (``'additive'``)     :math:`k \sum_j w_{ij} x_j(t-\tau_{ij})`
``'diffusive'``                   :math:`k \sum_j w_{ij} \big(x_j(t-\tau_{ij}) - x_i(t)\big)`
``'sigmoidal'``                   :math:`k\Big[c_{min} + \dfrac{c_{max}-c_{min}}
                                  {1 + \exp\big(-a\,(\sum_j w_{ij}x_j(t-\tau_{ij}) - m)/\sigma\big)}\Big]`
``'sigmoidal_jansen_rit'``        :math:`k \sum_j w_{ij}\, S\big(v_j(t-\tau_{ij})\big)`,
                                  :math:`S(v) = 2e_0/(1+e^{r(v_0 - v)})`, :math:`v = y_1 - y_2`
``'tanh'``                        :math:`k \sum_j w_{ij} \tanh\big((x_j(t-\tau_{ij}) - m)/\sigma\big)`
``'hyperbolic_tangent'``          :math:`k \tanh\big(s \sum_j w_{ij} x_j(t-\tau_{ij})\big)` (tanh after the sum)
``'kuramoto'``                    :math:`k \sum_j w_{ij} \sin\big(\theta_j(t-\tau_{ij}) - \theta_i(t)\big)`
================================  ==============================================================

For the sigmoidal kind, ``k = 1`` gives TVB's ``Sigmoidal`` coupling exactly (TVB has no separate
global factor there). For the Jansen–Rit kind the pre-synaptic sigmoid converts each source's
pyramidal potential :math:`y_1 - y_2` (mV) into a firing rate (per ms) before it is delayed and
summed (Jansen & Rit 1995; TVB's ``SigmoidalJansenRit`` with ``a = k``).

Each kind is defined once, by two pure functions: ``pre`` (applied once per source when its value
is written into the delay buffer — all pre-synaptic transforms here depend on the source only) and
``post`` (applied per target to the weighted delayed sum and the local value, at unit strength).
The compiled engine calls them directly; :meth:`Coupling.evaluate` composes them into the full
formula :math:`k\,\mathrm{post}(\sum_j w_{ij}\,\mathrm{pre}(x_j), x_i)` for a matrix of delayed
values, and the functions ``linear``, ``diffusive``, ``sigmoidal``, ``sigmoidal_jansen_rit`` and
``tanh`` are that composition for each kind.

brainmass's functional forms (``additive_coupling``, ``diffusive_coupling``, ``sigmoidal_coupling``,
``sigmoidal_jansen_rit_coupling``, ``hyperbolic_tangent_coupling``) take brainmass's argument
names and shapes (``delayed_x`` as ``(..., n_out, n_in)`` or flattened, ``conn`` possibly
non-square or flattened, a callable for either) and are computed through the same definitions.

Units. Each kind has a parameter table (:meth:`Coupling.param_table`): its parameters are
converted once, by :func:`neuralmass.units.to_canonical`. The strength ``k`` carries the unit
``(coupling input) / (summed source)``: for a Hopf network (input ``x_ext`` in 1/ms, ``x``
dimensionless) ``k`` is a rate, so ``k = 0.5 * u.Hz`` is 0.0005 per ms; plain numbers are read in
the canonical unit (per ms).

References
----------
Sanz-Leon, P., Knock, S. A., Spiegler, A., & Jirsa, V. K. (2015). Mathematical framework for
large-scale brain network modeling in The Virtual Brain. *NeuroImage*, 111, 385–430.
Jansen, B. H., & Rit, V. G. (1995). Electroencephalogram and visual evoked potential generation
in a mathematical model of coupled cortical columns. *Biological Cybernetics*, 73, 357–366.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from ..models.base import Parameter
from ..models.jansen_rit import jr_sigmoid
from ..typing import Array
from ..units import magnitude

__all__ = [
    "linear", "diffusive", "sigmoidal", "sigmoidal_jansen_rit", "tanh", "kuramoto", "strength_unit",
    "Coupling", "LinearCoupling", "AdditiveCoupling", "DiffusiveCoupling", "SigmoidalCoupling",
    "SigmoidalJansenRitCoupling", "TanhCoupling", "KuramotoCoupling", "HyperbolicTangentCoupling",
    "hyperbolic_tangent", "get_coupling", "COUPLINGS",
    "additive_coupling", "diffusive_coupling", "sigmoidal_coupling", "sigmoidal_jansen_rit_coupling",
    "hyperbolic_tangent_coupling", "laplacian_connectivity", "LaplacianConnParam",
]

_PER_MS = u.ms ** -1


def _ratio(num, den):
    """``num / den`` for units where ``None`` means dimensionless (``None`` if the result is)."""
    if den is None:
        return num
    out = (1.0 * den) ** -1 if num is None else (1.0 * num) / (1.0 * den)
    unit = u.get_unit(out)
    return None if unit.dim.is_dimensionless else unit


def strength_unit(input_unit, source_unit):
    """Unit of the strength ``k``: what the coupling input receives per unit of summed source."""
    return _ratio(input_unit, source_unit)


# ------------------------------------------------------------------------------ coupling kinds
class Coupling(brainstate.nn.Module):
    """Base class: a coupling kind with its parameters, usable three ways.

    1. Inside :class:`~neuralmass.Network` (``coupling='diffusive'`` or an instance): the engine
       calls the pure :meth:`pre` and :meth:`post` with traced parameters.
    2. Stateful, with prefetched references as in brainstate models::

           DiffusiveCoupling(node.prefetch_delay('rE', (delays, indices)), node.prefetch('rE'), W, k=k)()

    3. Called with values: ``DiffusiveCoupling(conn=W, k=0.2)(delayed, local)``.

    Parameters
    ----------
    x : callable or array, optional
        Delayed source values (or a reference returning them): shape (n,) for no delays, or
        (n*n,) / (n, n) with ``x[i, j] = x_j(t - tau_ij)`` (the layout of
        ``prefetch_delay(var, (delays.flatten(), np.tile(np.arange(n), n)))``).
    y : callable or array, optional
        Local (target) values ``x_i(t)``, shape (n,) — used by the diffusive kind.
    conn : array (n, n), optional
        Weights ``conn[i, j]`` from ``j`` to ``i``.
    k : float or Quantity
        Global coupling strength.
    **params
        Kind-specific parameters (see :meth:`param_table`).
    """

    kind: str = ""
    uses_local: bool = False
    #: keywords ``__init__`` reads besides ``k`` and the table's (another library's names)
    extra_keywords: tuple = ()
    #: ``pre`` returns complex values (what is delayed and summed is complex)
    complex_source: bool = False

    def __init__(self, x=None, y=None, conn=None, k: float = 1.0, **params):
        super().__init__()
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {sorted(unknown)}; its parameters "
                f"are k and {', '.join(self.defaults) or 'nothing else'}.")
        self.x = x
        self.y = y
        if conn is not None:
            conn = np.asarray(getattr(conn, "weights", conn), dtype=float)
            if conn.ndim != 2 or conn.shape[0] != conn.shape[1]:
                raise ValueError(f"conn has shape {conn.shape}; it must be a square (n, n) weight matrix.")
        self.conn = conn
        self.k = k
        self.params = {**self.defaults, **params}

    # -- the definition: parameter table, pre, post ----------------------------------------------
    def param_table(self, source_unit=None) -> tuple:
        """The kind's parameters (``k`` excluded) for a coupled variable in ``source_unit``."""
        return ()

    def source_unit(self, var_unit):
        """Unit of ``pre(x)`` for a coupled variable in ``var_unit`` (what is delayed and summed)."""
        return var_unit

    def post_unit(self, summed_unit):
        """Unit of ``post(s)`` at unit strength for a summed source in ``summed_unit``."""
        return summed_unit

    @staticmethod
    def pre(x, p: Mapping):
        """Per-source transform applied before delaying (identity by default)."""
        return x

    @staticmethod
    def post(s, local, rowsum, p: Mapping):
        """Target-side transform of the weighted delayed sum ``s`` at unit strength."""
        return s

    # -- derived ---------------------------------------------------------------------------------
    @property
    def defaults(self) -> dict:
        return {q.name: q.default for q in self.param_table()}

    def canonical_params(self, source_unit=None, overrides: Mapping | None = None) -> dict:
        """Kind parameters converted once to canonical units (plain arrays)."""
        vals = {**self.params, **dict(overrides or {})}
        return {q.name: q.to_canonical(vals[q.name]) for q in self.param_table(source_unit)}

    def evaluate(self, delayed, local, w, p: Mapping):
        r"""The full formula :math:`k\,\mathrm{post}(\sum_j w_{ij}\,\mathrm{pre}(x_j), x_i)`.

        ``delayed`` is ``(n,)`` (no delays) or ``(n, n)`` with ``delayed[i, j] = x_j(t - tau_ij)``.
        """
        w = jnp.asarray(w)
        h = self.pre(jnp.asarray(delayed), p)
        s = w @ h if h.ndim == 1 else jnp.sum(w * h, axis=-1)
        rowsum = jnp.sum(w, axis=-1) if self.uses_local else None
        local = None if local is None else jnp.asarray(local)
        return p["k"] * self.post(s, local, rowsum, p)

    def param_values(self) -> dict:
        """``k`` and the kind's parameters as given (user units)."""
        return {"k": self.k, **self.params}

    # -- stateful use ----------------------------------------------------------------------------
    def init_all_states(self, *args, **kwargs):
        """Couplings hold no state; present for symmetry with node modules."""
        return self

    def __call__(self, x=None, y=None):
        """Coupling value for every target (shape (n,))."""
        xv = _value(self.x if x is None else x)
        if self.conn is None:
            raise ValueError(f"{type(self).__name__} needs conn=W (an (n, n) weight matrix) to be called.")
        w = jnp.asarray(self.conn)
        n = w.shape[0]
        if xv.size == n * n:
            xv = xv.reshape(n, n)
        elif xv.shape[-1] != n:
            raise ValueError(
                f"delayed values have shape {xv.shape}; expected ({n},) or ({n * n},)/({n}, {n}) for a "
                f"{n}-region conn.")
        yv = None
        if self.uses_local:
            yv = y if y is not None else self.y
            if yv is None:
                raise ValueError(
                    f"{type(self).__name__} needs the local values x_i(t): call it as coupling(delayed, "
                    f"local) or build it with a second reference, e.g. node.prefetch('rE').")
            yv = _value(yv)
        p = {"k": jnp.asarray(magnitude(self.k), dtype=float), **self.canonical_params()}
        return self.evaluate(xv, yv, w, p)

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.param_values().items())
        return f"{type(self).__name__}({ps})"


class _SourceOnly:
    """Couplings of the source alone take brainmass's positional order ``(x, conn, k, ...)``."""

    def __init__(self, x=None, conn=None, k: float = 1.0, **params):
        Coupling.__init__(self, x=x, conn=conn, k=k, **params)


def _value(x):
    """Evaluate prefetch references (callables); values are read in canonical units."""
    if callable(x) and not hasattr(x, "shape"):
        x = x()
    return jnp.asarray(magnitude(x))


class LinearCoupling(_SourceOnly, Coupling):
    r"""Linear (additive) coupling :math:`k \sum_j w_{ij} x_j(t-\tau_{ij})` (see :func:`linear`)."""

    kind = "linear"


class AdditiveCoupling(LinearCoupling):
    r"""brainmass's additive coupling :math:`c_i = k \sum_j w_{ij} x_j(t-\tau_{ij}) + b`: the linear
    coupling plus an offset ``b`` (default 0) added after the sum, in the unit of the result.

    Parameters (brainmass's order): ``x``, ``conn``, ``k``, ``b``. The offset is applied when the
    object itself is called; a :class:`~neuralmass.Network`'s coupling has no offset, so a
    Network refuses ``b != 0`` (give the constant to the node's input instead). With ``b = 0``
    it is :class:`LinearCoupling`.
    """

    def __init__(self, x=None, conn=None, k: float = 1.0, b=0.0, **params):
        super().__init__(x=x, conn=conn, k=k, **params)
        self.b = b

    def evaluate(self, delayed, local, w, p: Mapping):
        return super().evaluate(delayed, local, w, p) + jnp.asarray(magnitude(self.b), dtype=float)


class DiffusiveCoupling(Coupling):
    r"""Diffusive coupling :math:`k \sum_j w_{ij} (x_j(t-\tau_{ij}) - x_i(t))` (see :func:`diffusive`)."""

    kind = "diffusive"
    uses_local = True

    @staticmethod
    def post(s, local, rowsum, p):
        return s - rowsum * local


class SigmoidalCoupling(_SourceOnly, Coupling):
    r"""TVB sigmoidal coupling times ``k`` (see :func:`sigmoidal`); defaults are TVB's.

    brainmass's form :math:`k/(1 + e^{-\mathrm{slope}\,(a s + b - \mathrm{midpoint})})` is taken
    when ``b`` or ``slope`` is given: there ``a`` is the gain of the sum ``s`` (not TVB's
    steepness), and the call is read as TVB's form with ``cmin = 0``, ``cmax = 1``, ``sigma = 1``,
    steepness ``slope * a`` and midpoint ``(midpoint - b) / a`` — the same function.
    """

    kind = "sigmoidal"
    extra_keywords = ("b", "slope")

    def __init__(self, x=None, conn=None, k: float = 1.0, **params):
        if "b" in params or "slope" in params:
            params = _brainmass_sigmoidal(params)
        super().__init__(x=x, conn=conn, k=k, **params)

    def param_table(self, source_unit=None):
        return (Parameter("cmin", -1.0, None, None, doc="lower asymptote"),
                Parameter("cmax", 1.0, None, None, doc="upper asymptote"),
                Parameter("midpoint", 0.0, source_unit, source_unit, doc="midpoint of the summed input"),
                Parameter("a", 1.0, None, None, doc="steepness"),
                Parameter("sigma", 230.0, source_unit, source_unit, doc="width of the summed input"))

    def post_unit(self, summed_unit):
        return None   # the sigmoid of the summed input is dimensionless

    @staticmethod
    def post(s, local, rowsum, p):
        return p["cmin"] + (p["cmax"] - p["cmin"]) / (1.0 + jnp.exp(-p["a"] * (s - p["midpoint"]) / p["sigma"]))


class SigmoidalJansenRitCoupling(_SourceOnly, Coupling):
    r"""Jansen–Rit pre-synaptic sigmoid coupling :math:`k \sum_j w_{ij}\,[c_{min} + S(v_j)]`,
    :math:`S(v) = 2e_0/(1 + e^{r(v_0 - v)})` (see :func:`sigmoidal_jansen_rit`).

    Defaults: ``e0 = 2.5`` Hz, ``v0 = 6`` mV, ``r = 0.56`` 1/mV (Jansen & Rit 1995), ``cmin = 0``;
    the sigmoid gives a rate (per ms), so ``k`` is dimensionless for a rate-valued input.
    TVB's/brainmass's names are taken: ``midpoint`` is ``v0`` and the asymptotes ``cmin``,
    ``cmax`` (plain numbers per ms, TVB's default ``cmax = 0.005``) give ``e0 = (cmax - cmin)/2``.
    """

    kind = "sigmoidal_jansen_rit"
    extra_keywords = ("midpoint", "cmax")

    def __init__(self, x=None, conn=None, k: float = 1.0, **params):
        if "midpoint" in params:
            if "v0" in params:
                raise TypeError("SigmoidalJansenRitCoupling: pass v0 or midpoint (the same), not both.")
            params["v0"] = params.pop("midpoint")
        if "cmax" in params:
            if "e0" in params:
                raise TypeError("SigmoidalJansenRitCoupling: pass e0 or cmax (= cmin + 2 e0), not both.")
            cmax = _rate(params.pop("cmax"), "cmax")
            cmin = _rate(params.get("cmin", 0.0), "cmin")
            params["e0"] = u.Quantity(0.5 * (cmax - cmin), unit=_PER_MS)
        super().__init__(x=x, conn=conn, k=k, **params)

    def param_table(self, source_unit=None):
        return (Parameter("e0", 2.5, u.Hz, _PER_MS, (1.0, 5.0), "half of the maximal firing rate"),
                Parameter("v0", 6.0, u.mV, u.mV, (3.0, 9.0), "potential at half-maximal firing"),
                Parameter("r", 0.56, u.mV ** -1, u.mV ** -1, (0.3, 0.8), "sigmoid steepness"),
                Parameter("cmin", 0.0, _PER_MS, _PER_MS, (0.0, 0.01), "lower asymptote (rate per ms)"))

    def source_unit(self, var_unit):
        return _PER_MS

    @staticmethod
    def pre(x, p):
        return p["cmin"] + jr_sigmoid(x, p["e0"], p["v0"], p["r"])


def _rate(value, name):
    """A rate in 1/ms (plain numbers are per ms, TVB's convention for cmin/cmax)."""
    from ..units import to_canonical

    return to_canonical(value, name, _PER_MS, _PER_MS)


def _brainmass_sigmoidal(params: dict) -> dict:
    """brainmass's sigmoidal parameters (a = gain, b, slope, midpoint) as TVB's (module docstring of
    :class:`SigmoidalCoupling`): the same logistic of the summed input."""
    clash = sorted(set(params) & {"cmin", "cmax", "sigma"})
    if clash:
        raise TypeError(f"SigmoidalCoupling: b/slope select brainmass's form, which has no {', '.join(clash)} "
                        f"(TVB's form); pass one form's parameters.")
    a = jnp.asarray(magnitude(params.get("a", 1.0)), dtype=float)
    if bool(jnp.any(a == 0)):
        raise ValueError("SigmoidalCoupling: a=0 (brainmass's gain of the summed input) makes the coupling "
                         "a constant k/(1 + exp(-slope (b - midpoint))); pass a nonzero a.")
    b = jnp.asarray(magnitude(params.get("b", 0.0)), dtype=float)
    m = jnp.asarray(magnitude(params.get("midpoint", 0.0)), dtype=float)
    slope = jnp.asarray(magnitude(params.get("slope", 1.0)), dtype=float)
    return {"cmin": 0.0, "cmax": 1.0, "sigma": 1.0, "a": slope * a, "midpoint": (m - b) / a}


class TanhCoupling(_SourceOnly, Coupling):
    r"""Hyperbolic-tangent coupling :math:`k \sum_j w_{ij}\tanh((x_j - m)/\sigma)` (see :func:`tanh`)."""

    kind = "tanh"

    def param_table(self, source_unit=None):
        return (Parameter("midpoint", 0.0, source_unit, source_unit, doc="midpoint"),
                Parameter("sigma", 1.0, source_unit, source_unit, doc="width"))

    def source_unit(self, var_unit):
        return None

    @staticmethod
    def pre(x, p):
        return jnp.tanh((x - p["midpoint"]) / p["sigma"])


class HyperbolicTangentCoupling(Coupling):
    r"""Saturating coupling after the sum, :math:`k \tanh\big(s \sum_j w_{ij} x_j(t-\tau_{ij})\big)`
    (brainmass's ``HyperbolicTangentCoupling``; see :func:`hyperbolic_tangent`).

    Parameters (brainmass's order): ``x`` (delayed sources or a reference), ``conn`` (weights),
    ``k`` (default 0.5, the output scale), ``scale`` (default 2, per unit of the summed source).
    Differs from :class:`TanhCoupling`, which saturates each source before the sum.
    """

    kind = "hyperbolic_tangent"

    def __init__(self, x=None, conn=None, k=0.5, scale=2.0, **params):
        super().__init__(x=x, conn=conn, k=k, scale=scale, **params)

    def param_table(self, source_unit=None):
        inv = None if source_unit is None else (1.0 * source_unit) ** -1
        return (Parameter("scale", 2.0, None if inv is None else u.get_unit(inv),
                          None if inv is None else u.get_unit(inv), doc="gain of the summed input"),)

    def post_unit(self, summed_unit):
        return None

    @staticmethod
    def post(s, local, rowsum, p):
        return jnp.tanh(p["scale"] * s)


class KuramotoCoupling(Coupling):
    r"""Sine (Kuramoto) coupling :math:`k\sum_j w_{ij}\sin(\theta_j(t-\tau_{ij}) - \theta_i)`.

    The phase difference is not a function of the source alone, which the pre/post decomposition
    needs; through :math:`e^{i\theta}` it becomes one: every source sends :math:`e^{i\theta_j}`,
    the delayed weighted sum is :math:`z_i = \sum_j w_{ij} e^{i\theta_j(t-\tau_{ij})}`, and the
    target takes :math:`\mathrm{Im}(z_i e^{-i\theta_i})` (Kuramoto 1975; Sanz-Leon et al. 2015).
    With a phase lag ``alpha`` the target takes :math:`\sin(\theta_j - \theta_i - \alpha)`
    (Sakaguchi & Kuramoto 1986; default 0). Use with ``coupled_var='theta'`` of the Kuramoto model.
    """

    kind = "kuramoto"
    uses_local = True
    complex_source = True

    def param_table(self, source_unit=None):
        return (Parameter("alpha", 0.0, None, None, (-np.pi, np.pi),
                          "phase lag (rad; Sakaguchi & Kuramoto 1986)"),)

    def source_unit(self, var_unit):
        return None   # e^{i theta}

    @staticmethod
    def pre(x, p):
        return jnp.exp(1j * x)

    @staticmethod
    def post(s, local, rowsum, p):
        return jnp.imag(s * jnp.exp(-1j * (local + p.get("alpha", 0.0))))


# ------------------------------------------------------------------------------ pure functions
def _formula(cls, delayed, local, w, k, **params):
    c = cls()
    p = {"k": k, **{q.name: params.get(q.name, q.default) for q in c.param_table()}}
    return c.evaluate(delayed, local, w, p)


def linear(delayed: Array, w: Array, k: Array = 1.0) -> Array:
    r"""Linear (additive) coupling :math:`k \sum_j w_{ij} x_j(t-\tau_{ij})`.

    Parameters
    ----------
    delayed : array, shape (n,) or (n, n)
        Source values: ``x_j`` (no delays) or ``delayed[i, j] = x_j(t - tau_ij)``.
    w : array, shape (n, n)
        Weights, ``w[i, j]`` from source ``j`` to target ``i``.
    k : float
        Global coupling strength.
    """
    return _formula(LinearCoupling, delayed, None, w, k)


def diffusive(delayed: Array, local: Array, w: Array, k: Array = 1.0) -> Array:
    r"""Diffusive (difference) coupling :math:`k \sum_j w_{ij} (x_j(t-\tau_{ij}) - x_i(t))`.

    ``local`` is the current value ``x_i(t)`` of every target, shape (n,).
    """
    return _formula(DiffusiveCoupling, delayed, local, w, k)


def sigmoidal(delayed: Array, w: Array, k: Array = 1.0, cmin: Array = -1.0, cmax: Array = 1.0,
              midpoint: Array = 0.0, a: Array = 1.0, sigma: Array = 230.0) -> Array:
    r"""TVB sigmoidal coupling, scaled by ``k``:
    :math:`k[c_{min} + (c_{max}-c_{min}) / (1 + \exp(-a(\sum_j w_{ij} x_j - m)/\sigma))]`."""
    return _formula(SigmoidalCoupling, delayed, None, w, k, cmin=cmin, cmax=cmax, midpoint=midpoint,
                    a=a, sigma=sigma)


def sigmoidal_jansen_rit(delayed: Array, w: Array, k: Array = 1.0, e0: Array = 0.0025, v0: Array = 6.0,
                         r: Array = 0.56, cmin: Array = 0.0) -> Array:
    r"""Jansen–Rit pre-synaptic sigmoid coupling :math:`k \sum_j w_{ij} [c_{min} + S(v_j(t-\tau_{ij}))]`.

    ``delayed`` holds the source potentials :math:`v = y_1 - y_2` in mV; here (plain canonical
    values) ``e0`` and ``cmin`` are in 1/ms, ``v0`` in mV, ``r`` in 1/mV, so the result is a rate in 1/ms.
    """
    return _formula(SigmoidalJansenRitCoupling, delayed, None, w, k, e0=e0, v0=v0, r=r, cmin=cmin)


def tanh(delayed: Array, w: Array, k: Array = 1.0, midpoint: Array = 0.0, sigma: Array = 1.0) -> Array:
    r"""Hyperbolic-tangent coupling :math:`k \sum_j w_{ij} \tanh((x_j(t-\tau_{ij}) - m)/\sigma)`."""
    return _formula(TanhCoupling, delayed, None, w, k, midpoint=midpoint, sigma=sigma)


def hyperbolic_tangent(delayed: Array, w: Array, k: Array = 0.5, scale: Array = 2.0) -> Array:
    r"""Coupling saturated after the sum, :math:`k \tanh(s \sum_j w_{ij} x_j(t-\tau_{ij}))`."""
    return _formula(HyperbolicTangentCoupling, delayed, None, w, k, scale=scale)


def kuramoto(delayed: Array, local: Array, w: Array, k: Array = 1.0, alpha: Array = 0.0) -> Array:
    r"""Sine coupling :math:`k \sum_j w_{ij} \sin(\theta_j(t-\tau_{ij}) - \theta_i(t) - \alpha)`
    (phases in rad; ``alpha`` the phase lag)."""
    return _formula(KuramotoCoupling, delayed, local, w, k, alpha=alpha)


COUPLINGS = {
    "linear": LinearCoupling, "additive": LinearCoupling, "diffusive": DiffusiveCoupling,
    "sigmoidal": SigmoidalCoupling, "sigmoidal_jansen_rit": SigmoidalJansenRitCoupling,
    "tanh": TanhCoupling, "kuramoto": KuramotoCoupling, "hyperbolic_tangent": HyperbolicTangentCoupling,
}


# ------------------------------------------------------------------ brainmass's functional forms
def _unit(*xs):
    """Product of the units of the Quantities among ``xs`` (``None`` when there are none)."""
    out = None
    for x in xs:
        if isinstance(x, u.Quantity) and not u.get_unit(x).dim.is_dimensionless:
            out = u.get_unit(x) if out is None else u.get_unit(1.0 * out * u.get_unit(x))
    return out


def _attach(value, unit):
    return value if unit is None else u.Quantity(value, unit=unit)


def _operands(delayed_x, conn, n_out: int | None = None):
    """brainmass's shapes -> ``(delayed, w)``: ``conn`` ``(n_out, n_in)`` or flattened (square, or
    ``n_out`` given), ``delayed_x`` ``(..., n_out, n_in)``, flattened ``(..., n_out*n_in)`` or,
    without delays, ``(n_in,)``; callables (prefetch references) are called."""
    x = jnp.asarray(magnitude(delayed_x() if callable(delayed_x) else delayed_x), dtype=float)
    w = jnp.asarray(magnitude(conn() if callable(conn) else conn), dtype=float)
    if w.ndim == 1:
        if n_out is None:
            n = int(round(np.sqrt(w.size)))
            if n * n != w.size:
                raise ValueError(f"conn is flattened with {w.size} entries, not a square number; pass "
                                 f"conn as a 2-D (n_out, n_in) matrix for non-square connectivity.")
            n_out = n
        if w.size % n_out:
            raise ValueError(f"conn is flattened with {w.size} entries, not divisible by n_out={n_out}.")
        w = w.reshape(n_out, -1)
    elif w.ndim != 2:
        raise ValueError(f"conn has shape {w.shape}; it must be (n_out, n_in) or flattened.")
    n_out, n_in = w.shape
    if x.ndim >= 2 and x.shape[-2:] == (n_out, n_in):
        return x, w
    if x.shape[-1] == n_out * n_in:
        return x.reshape(x.shape[:-1] + (n_out, n_in)), w
    if x.ndim == 1 and x.shape[0] == n_in:
        return x, w
    raise ValueError(f"delayed_x has shape {x.shape}; for conn of shape {(n_out, n_in)} it must be "
                     f"(..., {n_out}, {n_in}), (..., {n_out * n_in}) or ({n_in},).")


def additive_coupling(delayed_x: Array, conn: Array, k: Array = 1.0, b: Array = 0.0) -> Array:
    r"""brainmass's additive coupling :math:`c_i = k \sum_j w_{ij} x_{ij} + b` (:func:`linear` plus
    an offset). ``delayed_x[..., i, j]`` is source ``j`` as seen by target ``i``; units of ``k``,
    ``conn`` and ``delayed_x`` multiply, ``b`` is in the unit of the result."""
    x, w = _operands(delayed_x, conn)
    unit = _unit(k, conn, delayed_x if not callable(delayed_x) else None)
    out = linear(x, w, magnitude(k)) + (magnitude(b, unit) if unit is not None and isinstance(b, u.Quantity)
                                       else magnitude(b))
    return _attach(out, unit)


def diffusive_coupling(delayed_x: Array, y: Array, conn: Array, k: Array) -> Array:
    r"""brainmass's diffusive coupling :math:`c_i = k \sum_j w_{ij}(x_{ij} - y_i)` (:func:`diffusive`);
    ``y`` (targets, ``(..., n_out)``) fixes ``n_out`` of a flattened non-square ``conn``."""
    yv = jnp.asarray(magnitude(y() if callable(y) else y), dtype=float)
    x, w = _operands(delayed_x, conn, n_out=yv.shape[-1])
    unit = _unit(k, conn, y if not callable(y) else None)
    return _attach(diffusive(x, yv, w, magnitude(k)), unit)


def sigmoidal_coupling(delayed_x: Array, conn: Array, k: Array = 1.0, a: Array = 1.0, b: Array = 0.0,
                       slope: Array = 1.0, midpoint: Array = 0.0) -> Array:
    r"""brainmass's sigmoidal coupling
    :math:`c_i = k\,/\big(1 + \exp(-\mathrm{slope}\,(a \sum_j w_{ij} x_{ij} + b - \mathrm{midpoint}))\big)`.

    The logistic is :class:`SigmoidalCoupling`'s (TVB's) with ``cmin = 0``, ``cmax = 1``,
    steepness ``slope``, width 1 and midpoint 0, applied to :math:`a S + b - \mathrm{midpoint}`.
    """
    x, w = _operands(delayed_x, conn)
    arg = linear(x, w, magnitude(a)) + magnitude(b) - magnitude(midpoint)
    p = {"cmin": 0.0, "cmax": 1.0, "midpoint": 0.0, "a": magnitude(slope), "sigma": 1.0}
    return _attach(magnitude(k) * SigmoidalCoupling.post(arg, None, None, p), _unit(k))


def sigmoidal_jansen_rit_coupling(delayed_x: Array, conn: Array, k: Array = 1.0, cmin: Array = 0.0,
                                  cmax: Array = 0.005, midpoint: Array = 6.0, r: Array = 0.56) -> Array:
    r"""brainmass's Jansen–Rit coupling :math:`c_i = k \sum_j w_{ij}\,\sigma(x_{ij})`,
    :math:`\sigma(v) = c_{min} + (c_{max} - c_{min})/(1 + e^{r(\mathrm{midpoint} - v)})`.

    :math:`\sigma - c_{min}` is :func:`~neuralmass.models.jansen_rit.jr_sigmoid` with
    :math:`2e_0 = c_{max} - c_{min}`, :math:`v_0` = ``midpoint``; plain numbers: ``delayed_x``
    and ``midpoint`` in mV, ``r`` in 1/mV, ``cmin``/``cmax`` in 1/ms (0.005 = 5 Hz).
    """
    x, w = _operands(delayed_x, conn)
    cmin_, cmax_ = magnitude(cmin), magnitude(cmax)
    out = sigmoidal_jansen_rit(x, w, magnitude(k), e0=(cmax_ - cmin_) / 2.0, v0=magnitude(midpoint),
                               r=magnitude(r), cmin=cmin_)
    return _attach(out, _unit(k, conn))


def hyperbolic_tangent_coupling(delayed_x: Array, conn: Array, k: Array = 0.5, scale: Array = 2.0) -> Array:
    r"""brainmass's hyperbolic-tangent coupling :math:`c_i = k \tanh(\mathrm{scale} \sum_j w_{ij} x_{ij})`
    (:func:`hyperbolic_tangent`)."""
    x, w = _operands(delayed_x, conn)
    return _attach(hyperbolic_tangent(x, w, magnitude(k), magnitude(scale)), _unit(k))


def get_coupling(coupling: Any, k: float | None = None) -> Coupling:
    """A coupling object from a name, a class or an instance (``k`` overrides its strength)."""
    if isinstance(coupling, str):
        key = coupling.lower().replace("-", "_")
        if key not in COUPLINGS:
            raise ValueError(
                f"coupling={coupling!r} is unknown; choose one of {', '.join(sorted(COUPLINGS))} or pass a "
                f"Coupling instance.")
        c = COUPLINGS[key]()
    elif isinstance(coupling, type) and issubclass(coupling, Coupling):
        c = coupling()
    elif isinstance(coupling, Coupling):
        c = copy.copy(coupling)
        c.params = dict(coupling.params)
    else:
        raise TypeError(f"coupling={coupling!r} must be a name, a Coupling class or a Coupling instance.")
    if k is not None:
        c.k = k
    offset = getattr(c, "b", 0.0) if isinstance(c, AdditiveCoupling) else 0.0
    if bool(np.any(np.asarray(magnitude(offset)) != 0)):
        raise ValueError(f"AdditiveCoupling(b={offset!r}): a Network's coupling has no offset (b is added "
                         "when the coupling object itself is called); pass b=0 and give the constant to "
                         "the node's coupling input instead (Simulator.run(inputs={...})).")
    return c



# ------------------------------------------------------------------------------ graph Laplacian
def laplacian_connectivity(W, *, normalize=None, eps=1e-12, return_diag=False):
    r"""The graph Laplace operator of weights ``W`` (``W[i, j]`` from ``j`` to ``i``), with the sign
    of the continuum :math:`\nabla^2` (negative semi-definite), as brainmass defines it:

    ========================  ==============================================================
    ``normalize=None``        :math:`\Delta = W - D`, :math:`D = \mathrm{diag}(d)`, :math:`d_i = \sum_j W_{ij}`
    ``normalize='rw'``        :math:`D^{-1} W - I` (random walk)
    ``normalize='sym'``       :math:`D^{-1/2} W D^{-1/2} - I` (symmetric)
    ========================  ==============================================================

    :math:`(\Delta x)_i = \sum_j W_{ij}(x_j - x_i)` is the diffusive coupling
    (:func:`diffusive` at ``k = 1`` without delays). These are the **negatives** of the Laplacians
    :math:`L = D - W`, :math:`I - D^{-1}W`, :math:`I - D^{-1/2}WD^{-1/2}` of spectral graph theory
    (Chung 1997), whose eigenvalues are :math:`\ge 0`. Degrees below ``eps`` are read as ``eps``.

    Returns ``L``, or ``(L, d)`` with ``return_diag=True``; a Quantity ``W`` keeps its unit
    (the normalised forms are dimensionless).

    References
    ----------
    Chung F.R.K. (1997) Spectral Graph Theory. AMS, CBMS 92.
    """
    unit = u.get_unit(W) if isinstance(W, u.Quantity) else None
    w = jnp.asarray(magnitude(W), dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"W has shape {w.shape}; the Laplacian needs a square (n, n) weight matrix.")
    d = jnp.sum(w, axis=-1)
    eye = jnp.eye(w.shape[0])
    if normalize is None:
        L = w - jnp.diag(d)
        L, dd = _attach(L, unit), _attach(d, unit)
    elif normalize == "rw":
        L, dd = w / jnp.maximum(d, eps)[:, None] - eye, _attach(d, unit)
    elif normalize == "sym":
        s = 1.0 / jnp.sqrt(jnp.maximum(d, eps))
        L, dd = s[:, None] * w * s[None, :] - eye, _attach(d, unit)
    else:
        raise ValueError(f"normalize={normalize!r} is not known; use None, 'rw' or 'sym'.")
    return (L, dd) if return_diag else L


class LaplacianConnParam(brainstate.nn.Param):
    """A ``brainstate.nn.Param`` holding weights ``W`` whose value is their graph Laplace operator
    (:func:`laplacian_connectivity`), optionally masked (``mask`` multiplies ``W`` before the
    Laplacian). Arguments as brainmass's: ``W, t, reg, mask, fit, normalize, eps, return_diag``."""

    def __init__(self, W, t=None, reg=None, mask=None, fit=True, normalize=None, eps=1e-12,
                 return_diag=False):
        if normalize not in (None, "rw", "sym"):
            raise ValueError(f"normalize={normalize!r} is not known; use None, 'rw' or 'sym'.")
        if mask is not None and np.shape(mask) != np.shape(magnitude(W)):
            raise ValueError(f"mask has shape {np.shape(mask)}; it must match W's {np.shape(magnitude(W))}.")
        self.mask, self.original_W = mask, W
        self.normalize, self.eps, self.return_diag = normalize, eps, return_diag
        kw = {} if t is None else {"t": t}
        super().__init__(W, reg=reg, fit=fit, precompute=self._laplacian, **kw)

    def _laplacian(self, W):
        if self.mask is not None:
            W = W * jnp.asarray(self.mask)
        return laplacian_connectivity(W, normalize=self.normalize, eps=self.eps,
                                      return_diag=self.return_diag)
