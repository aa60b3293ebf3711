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
================================  ==============================================================

For the sigmoidal kind, ``k = 1`` gives TVB's ``Sigmoidal`` coupling exactly (TVB has no separate
global factor there). For the Jansen–Rit kind the pre-synaptic sigmoid converts each source's
pyramidal potential :math:`y_1 - y_2` (mV) into a firing rate (per ms) before it is delayed and
summed (Jansen & Rit 1995; TVB's ``SigmoidalJansenRit`` with ``a = k``).

The compiled engine uses the decomposition ``pre`` (applied once per source when its value is
written into the delay buffer — all pre-synaptic transforms here depend on the source only) and
``post`` (applied per target to the weighted delayed sum and the local value). The functions
``linear``, ``diffusive``, ``sigmoidal``, ``sigmoidal_jansen_rit`` and ``tanh`` evaluate the formulas
directly from a matrix of delayed values and serve as the readable reference.

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
import jax.numpy as jnp
import numpy as np

from ..models.jansen_rit import jr_sigmoid

__all__ = [
    "linear", "diffusive", "sigmoidal", "sigmoidal_jansen_rit", "tanh",
    "Coupling", "LinearCoupling", "AdditiveCoupling", "DiffusiveCoupling", "SigmoidalCoupling",
    "SigmoidalJansenRitCoupling", "TanhCoupling", "get_coupling", "COUPLINGS",
]


# ------------------------------------------------------------------------------ pure functions
def _weighted_sum(delayed, w):
    """``sum_j w_ij x_j(t - tau_ij)`` for ``delayed`` of shape (n,) (no delays) or (n, n)."""
    w = jnp.asarray(w)
    delayed = jnp.asarray(delayed)
    if delayed.ndim == 1:
        return w @ delayed
    return jnp.sum(w * delayed, axis=-1)


def linear(delayed, w, k=1.0):
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
    return k * _weighted_sum(delayed, w)


def diffusive(delayed, local, w, k=1.0):
    r"""Diffusive (difference) coupling :math:`k \sum_j w_{ij} (x_j(t-\tau_{ij}) - x_i(t))`.

    ``local`` is the current value ``x_i(t)`` of every target, shape (n,).
    """
    w = jnp.asarray(w)
    return k * (_weighted_sum(delayed, w) - jnp.sum(w, axis=-1) * jnp.asarray(local))


def sigmoidal(delayed, w, k=1.0, cmin=-1.0, cmax=1.0, midpoint=0.0, a=1.0, sigma=230.0):
    r"""TVB sigmoidal coupling, scaled by ``k``:
    :math:`k[c_{min} + (c_{max}-c_{min}) / (1 + \exp(-a(\sum_j w_{ij} x_j - m)/\sigma))]`."""
    s = _weighted_sum(delayed, w)
    return k * (cmin + (cmax - cmin) / (1.0 + jnp.exp(-a * (s - midpoint) / sigma)))


def sigmoidal_jansen_rit(delayed, w, k=1.0, e0=0.0025, v0=6.0, r=0.56):
    r"""Jansen–Rit pre-synaptic sigmoid coupling :math:`k \sum_j w_{ij} S(v_j(t-\tau_{ij}))`.

    ``delayed`` holds the source potentials :math:`v = y_1 - y_2` in mV; ``e0`` is in 1/ms,
    ``v0`` in mV, ``r`` in 1/mV, so the result is a rate in 1/ms.
    """
    return k * _weighted_sum(jr_sigmoid(jnp.asarray(delayed), e0, v0, r), w)


def tanh(delayed, w, k=1.0, midpoint=0.0, sigma=1.0):
    r"""Hyperbolic-tangent coupling :math:`k \sum_j w_{ij} \tanh((x_j(t-\tau_{ij}) - m)/\sigma)`."""
    return k * _weighted_sum(jnp.tanh((jnp.asarray(delayed) - midpoint) / sigma), w)


# ------------------------------------------------------------------------------ coupling objects
def _value(x):
    """Evaluate prefetch references (callables) and strip units."""
    if callable(x) and not hasattr(x, "shape"):
        x = x()
    if hasattr(x, "mantissa"):
        x = x.mantissa
    return jnp.asarray(x)


class Coupling(brainstate.nn.Module):
    """Base class: a coupling kind with its parameters, usable three ways.

    1. Inside :class:`~neuralmass.Network` (``coupling='diffusive'`` or an instance): the engine
       uses :meth:`pre` and :meth:`post` with traced parameters.
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
    k : float
        Global coupling strength.
    **params
        Kind-specific parameters (see :attr:`defaults`).
    """

    kind: str = ""
    defaults: dict = {}
    uses_local: bool = False

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

    # -- engine decomposition ---------------------------------------------------------------
    def param_values(self) -> dict:
        """Canonical parameter values (``k`` and the kind's parameters) for the engine."""
        return {"k": self.k, **self.params}

    def pre(self, x, p: Mapping):
        """Per-source transform applied before delaying (identity by default)."""
        return x

    def post(self, s, local, rowsum, p: Mapping):
        """Target-side transform of the weighted delayed sum ``s``."""
        return p["k"] * s

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
        return self.reference(xv, yv, w, self.param_values())

    def reference(self, delayed, local, w, p):
        raise NotImplementedError

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.param_values().items())
        return f"{type(self).__name__}({ps})"


class LinearCoupling(Coupling):
    r"""Linear (additive) coupling :math:`k \sum_j w_{ij} x_j(t-\tau_{ij})` (see :func:`linear`)."""

    kind = "linear"

    def reference(self, delayed, local, w, p):
        return linear(delayed, w, p["k"])


AdditiveCoupling = LinearCoupling


class DiffusiveCoupling(Coupling):
    r"""Diffusive coupling :math:`k \sum_j w_{ij} (x_j(t-\tau_{ij}) - x_i(t))` (see :func:`diffusive`)."""

    kind = "diffusive"
    uses_local = True

    def post(self, s, local, rowsum, p):
        return p["k"] * (s - rowsum * local)

    def reference(self, delayed, local, w, p):
        return diffusive(delayed, local, w, p["k"])


class SigmoidalCoupling(Coupling):
    r"""TVB sigmoidal coupling times ``k`` (see :func:`sigmoidal`); defaults are TVB's."""

    kind = "sigmoidal"
    defaults = {"cmin": -1.0, "cmax": 1.0, "midpoint": 0.0, "a": 1.0, "sigma": 230.0}

    def post(self, s, local, rowsum, p):
        return p["k"] * (p["cmin"] + (p["cmax"] - p["cmin"]) / (1.0 + jnp.exp(-p["a"] * (s - p["midpoint"]) / p["sigma"])))

    def reference(self, delayed, local, w, p):
        return sigmoidal(delayed, w, p["k"], p["cmin"], p["cmax"], p["midpoint"], p["a"], p["sigma"])


class SigmoidalJansenRitCoupling(Coupling):
    r"""Jansen–Rit pre-synaptic sigmoid coupling (see :func:`sigmoidal_jansen_rit`).

    Defaults: ``e0 = 0.0025`` 1/ms (2.5 Hz), ``v0 = 6`` mV, ``r = 0.56`` 1/mV (Jansen & Rit 1995).
    """

    kind = "sigmoidal_jansen_rit"
    defaults = {"e0": 0.0025, "v0": 6.0, "r": 0.56}

    def pre(self, x, p):
        return jr_sigmoid(x, p["e0"], p["v0"], p["r"])

    def reference(self, delayed, local, w, p):
        return sigmoidal_jansen_rit(delayed, w, p["k"], p["e0"], p["v0"], p["r"])


class TanhCoupling(Coupling):
    r"""Hyperbolic-tangent coupling :math:`k \sum_j w_{ij}\tanh((x_j - m)/\sigma)` (see :func:`tanh`)."""

    kind = "tanh"
    defaults = {"midpoint": 0.0, "sigma": 1.0}

    def pre(self, x, p):
        return jnp.tanh((x - p["midpoint"]) / p["sigma"])

    def reference(self, delayed, local, w, p):
        return tanh(delayed, w, p["k"], p["midpoint"], p["sigma"])


COUPLINGS = {
    "linear": LinearCoupling, "additive": LinearCoupling, "diffusive": DiffusiveCoupling,
    "sigmoidal": SigmoidalCoupling, "sigmoidal_jansen_rit": SigmoidalJansenRitCoupling,
    "tanh": TanhCoupling,
}


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
    return c
