r"""Fixed points and their linear stability, for a node model or a network without delays.

A fixed point :math:`X^*` of :math:`\dot X = f(X)` solves :math:`f(X^*) = 0`. Near it
:math:`\delta\dot X = J\,\delta X` with the Jacobian :math:`J = \partial f/\partial X\,(X^*)`, so
:math:`\delta X(t) = \sum_i c_i e^{\lambda_i t} v_i` over the eigenvalues :math:`\lambda_i` and
eigenvectors :math:`v_i` of :math:`J`: the fixed point is *linearly stable* when every
:math:`\mathrm{Re}\,\lambda_i < 0` and unstable when one is positive (Hartman–Grobman: for a
hyperbolic point, no :math:`\mathrm{Re}\,\lambda_i = 0`, the linearisation decides; Strogatz 2015,
§5.2, §6.3; Kuznetsov 1998, §2.1). :func:`classify` names the cases:

=====================  =============================================================
``'stable node'``      every :math:`\mathrm{Re}\,\lambda < 0`, all eigenvalues real
``'stable focus'``     every :math:`\mathrm{Re}\,\lambda < 0`, a complex pair (damped oscillation)
``'saddle'``           some :math:`\mathrm{Re}\,\lambda > 0`, some :math:`< 0`
``'unstable node'``    every :math:`\mathrm{Re}\,\lambda > 0`, all eigenvalues real
``'unstable focus'``   every :math:`\mathrm{Re}\,\lambda > 0`, a complex pair
``'non-hyperbolic'``   some :math:`|\mathrm{Re}\,\lambda| \le` ``tol`` (a bifurcation point, a
                       continuous symmetry such as a phase): the linearisation decides nothing
=====================  =============================================================

Why it matters: a deterministic simulation started *exactly* at an unstable fixed point stays there
(the drift is zero), so "a simulation started there stays" proves nothing about stability; the
eigenvalues (or a start slightly off the point) do.

Functions
---------
:func:`fixed_point`
    Solve :math:`f(X^*) = 0` (SciPy's ``root``, hybrid Powell, with the exact JAX Jacobian) from a
    guess and classify the point.
:func:`linear_stability`
    Eigenvalues and class of the Jacobian at a given state (a fixed point you already have).
:func:`jacobian`
    The Jacobian itself, for a node model, a node module or a whole :class:`~neuralmass.Network`
    (coupling included; networks with conduction delays are refused, since their linearisation is a
    delay equation with infinitely many eigenvalues).

All work in float64 on the model's one drift function
(:func:`neuralmass.models.jacobian.drift_jacobian`, :func:`jax.jacfwd`); eigenvalues are per ms.

References
----------
Strogatz, S. H. (2015). *Nonlinear Dynamics and Chaos* (2nd ed.), ch. 5–6. Westview Press.
Kuznetsov, Y. A. (1998). *Elements of Applied Bifurcation Theory* (2nd ed.), ch. 1–3. Springer.
Powell, M. J. D. (1970). A hybrid method for nonlinear equations. In *Numerical Methods for
Nonlinear Algebraic Equations* (pp. 87–114). Gordon and Breach.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from ..models import MODELS, NodeModel
from ..models.jacobian import drift_jacobian, flat_drift, flatten_state, unflatten_state

__all__ = ["Stability", "FixedPoint", "classify", "jacobian", "linear_stability", "fixed_point"]

#: the classes :func:`classify` returns
KINDS = ("stable node", "stable focus", "saddle", "unstable node", "unstable focus", "non-hyperbolic")


class Stability(NamedTuple):
    """Linear stability at a state: ``eigenvalues`` (per ms, largest real part first), ``max_real``
    (:math:`\\max\\mathrm{Re}\\,\\lambda`, per ms), ``kind`` (see :func:`classify`) and the
    ``jacobian`` (per ms, ordered as :func:`neuralmass.models.jacobian.flatten_state`)."""

    eigenvalues: np.ndarray
    max_real: float
    kind: str
    jacobian: np.ndarray

    @property
    def stable(self) -> bool:
        """Linearly stable: every eigenvalue has a negative real part."""
        return self.kind in ("stable node", "stable focus")


class FixedPoint(NamedTuple):
    """A fixed point: ``state`` (``{name: (n,) array}``, canonical units), ``residual``
    (:math:`\\max|f(X^*)|`, per ms) and its linear stability (fields as :class:`Stability`)."""

    state: dict
    eigenvalues: np.ndarray
    max_real: float
    kind: str
    jacobian: np.ndarray
    residual: float

    @property
    def stable(self) -> bool:
        """Linearly stable: every eigenvalue has a negative real part."""
        return self.kind in ("stable node", "stable focus")


def classify(eigenvalues, tol: float = 1e-9) -> str:
    r"""Name a fixed point from the eigenvalues of its Jacobian (see the module's table).

    Parameters
    ----------
    eigenvalues : array_like of complex
        Eigenvalues of the Jacobian (per ms).
    tol : float
        Real parts with :math:`|\mathrm{Re}\,\lambda| \le` ``tol`` count as zero (then
        ``'non-hyperbolic'``); imaginary parts within ``tol`` of zero count as real.

    Returns
    -------
    str
        One of ``'stable node'``, ``'stable focus'``, ``'saddle'``, ``'unstable node'``,
        ``'unstable focus'``, ``'non-hyperbolic'``.

    Examples
    --------
    >>> classify([-0.1 + 0.3j, -0.1 - 0.3j])
    'stable focus'
    """
    ev = np.atleast_1d(np.asarray(eigenvalues, dtype=complex))
    if ev.size == 0 or not np.all(np.isfinite(ev)):
        raise ValueError(f"eigenvalues={eigenvalues!r} must be a non-empty array of finite numbers.")
    re = ev.real
    if np.any(np.abs(re) <= tol):
        return "non-hyperbolic"
    if np.any(re > 0) and np.any(re < 0):
        return "saddle"
    sign = "stable" if np.all(re < 0) else "unstable"
    return f"{sign} {'focus' if np.any(np.abs(ev.imag) > tol) else 'node'}"


# ---------------------------------------------------------------------------------- resolution
def _system(model, params):
    """(node model, n, canonical node params, coupling(state) or None) of what the user passed."""
    import jax
    import jax.numpy as jnp

    if isinstance(model, str):
        if model not in MODELS:
            raise ValueError(f"model={model!r} is not a registered model; known: {', '.join(sorted(MODELS))}.")
        model = MODELS[model]
    if isinstance(model, NodeModel):
        return model, None, model.canonical_params(params), None
    if not hasattr(model, "as_system"):
        raise TypeError(f"model={model!r} must be a NodeModel, a registered model name, a node module "
                        f"(e.g. nm.HopfStep(1)) or a Network.")
    system = model.as_system()
    n = int(getattr(system, "n_node", getattr(system, "n", 1)))
    if hasattr(system, "delay_line") and system.delay_line(1.0) is not None:
        raise ValueError(
            f"{system!r} has conduction delays: its linearisation is a delay differential equation "
            f"with infinitely many eigenvalues, which this tool does not compute. Build the Network "
            f"without delays (speed=None) to analyse the instantaneous-coupling limit.")
    P = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64) if jnp.issubdtype(
        jnp.asarray(v).dtype, jnp.floating) else v, system.canonical_params(params))
    extra = system.init_extra(system.initial_state(), P, 1.0, jax.random.PRNGKey(0))

    def coupling(state):        # the system's own coupling (nothing for uncoupled nodes)
        return system.coupling_inputs(extra, state, P, 0, 1.0)[0]

    return system.node_model, n, P["node"], coupling


def _inputs(node: NodeModel, inputs):
    """Constant inputs converted to canonical units (plain numbers are read as canonical)."""
    return {name: node.input(name).to_canonical(v) for name, v in (inputs or {}).items()}


def _n_of(state, n):
    sizes = [int(np.size(v)) for v in state.values()]
    return n if n is not None else max(sizes or [1])


def _stability(jac, tol) -> Stability:
    ev = np.linalg.eigvals(jac)
    ev = ev[np.argsort(-ev.real, kind="stable")]
    return Stability(ev, float(ev.real[0]), classify(ev, tol), jac)


# ---------------------------------------------------------------------------------- public API
def jacobian(model, state: Mapping[str, Any], params: Mapping | None = None,
             inputs: Mapping | None = None) -> np.ndarray:
    r"""Jacobian of the drift at ``state`` (per ms, float64), network coupling included.

    Parameters
    ----------
    model : NodeModel, str, node module or Network
        A model table (``nm.models.HOPF``) or its registered name (one or more uncoupled nodes), a
        node module (``nm.HopfStep(4, a=-0.1)``: its parameters) or a
        :class:`~neuralmass.Network` without delays (the Jacobian of the whole network, coupling
        included: for linear coupling of a linear model :math:`J = -I/\tau + kW`).
    state : dict
        Value of every state variable (canonical units): scalars or arrays over nodes.
    params : dict, optional
        Parameter overrides in user units (for a Network also ``k`` and coupling parameters).
    inputs : dict, optional
        Constant inputs by input name (e.g. a stimulus current): Quantities, or plain numbers in
        the input's documented unit (as a stimulus; e.g. Hz for Jansen–Rit's ``p``).

    Returns
    -------
    numpy.ndarray, shape (m n, m n)
        Ordered state variable by state variable (the model's table order), node by node within
        each (:func:`neuralmass.models.jacobian.flatten_state`).

    Raises
    ------
    ValueError
        For a network with conduction delays, a state missing a variable, or an unknown model name.
    """
    import jax

    with jax.enable_x64(True):
        node, n, P, coupling = _system(model, params)
        return drift_jacobian(node, state, P, _inputs(node, inputs), coupling, n=_n_of(state, n))


def linear_stability(model, state: Mapping[str, Any], params: Mapping | None = None,
              inputs: Mapping | None = None, tol: float = 1e-9) -> Stability:
    r"""Linear stability of ``state`` (normally a fixed point): eigenvalues, largest real part, class.

    Parameters are as for :func:`jacobian`; ``tol`` as for :func:`classify`.

    Returns
    -------
    Stability
        ``eigenvalues`` (largest real part first), ``max_real`` (per ms), ``kind``, ``jacobian``;
        ``.stable`` is True for a stable node or focus.

    Examples
    --------
    The Hopf normal form at the origin has eigenvalues :math:`a \pm i\omega`:

    >>> from neuralmass.analysis import linear_stability
    >>> s = linear_stability("Hopf", {"x": 0.0, "y": 0.0}, params={"a": -0.05, "omega": 0.2})
    >>> s.kind, s.max_real
    ('stable focus', -0.05)
    """
    return _stability(jacobian(model, state, params, inputs), tol)


def fixed_point(model, guess: Mapping[str, Any] | None = None, params: Mapping | None = None,
                inputs: Mapping | None = None, tol: float = 1e-9, ftol: float = 1e-9) -> FixedPoint:
    r"""Find a fixed point :math:`f(X^*) = 0` near ``guess`` and classify it.

    Solves the drift's equations with SciPy's hybrid Powell method (``scipy.optimize.root``,
    ``method='hybr'``) given the exact Jacobian (:func:`jax.jacfwd`), in float64. Which fixed
    point is found depends on the guess: a bistable model has several (start near each).

    Parameters
    ----------
    model : NodeModel, str, node module or Network
        As for :func:`jacobian` (a Network without delays: a fixed point of the whole network).
    guess : dict, optional
        Starting values of the state variables (canonical units; scalars or arrays over nodes).
        Default: the model's initial state (each variable's ``init``), with the node count of a
        node module or network (one node for a bare model).
    params, inputs : dict, optional
        As for :func:`jacobian`.
    tol : float
        For :func:`classify`.
    ftol : float
        Largest accepted residual :math:`\max|f(X^*)|` (per ms).

    Returns
    -------
    FixedPoint
        ``state`` (``{name: (n,) array}``), ``eigenvalues`` (largest real part first),
        ``max_real`` (per ms), ``kind``, ``jacobian``, ``residual``; ``.stable``.

    Raises
    ------
    ValueError
        When the solver does not converge from ``guess`` (the message says how far it got: try
        another guess), or for the inputs :func:`jacobian` refuses.

    Examples
    --------
    FitzHugh–Nagumo below its lower Hopf current rests; above it the fixed point is an unstable
    focus inside the limit cycle:

    >>> fp = fixed_point("FitzHughNagumo", params={"I": 0.5})
    >>> fp.kind
    'unstable focus'
    """
    import jax
    from scipy.optimize import root

    with jax.enable_x64(True):
        node, n, P, coupling = _system(model, params)
        if guess is None:
            guess = {s.name: s.init for s in node.states}
        n = _n_of(guess, n)
        inp = _inputs(node, inputs)
        f = flat_drift(node, P, n, inp, coupling)
        fj = jax.jit(lambda x: (f(x), jax.jacfwd(f)(x)))
        x0 = np.asarray(flatten_state(node, guess, n), dtype=float)
        sol = root(lambda x: tuple(np.asarray(a, dtype=float) for a in fj(x)), x0, jac=True,
                   method="hybr", options={"xtol": 1e-13})
        x = np.asarray(sol.x, dtype=float)
        res = float(np.abs(np.asarray(f(x))).max())
        if not np.isfinite(res) or res > ftol:
            raise ValueError(
                f"fixed_point found no fixed point of {node.name} from guess={dict(guess)!r}: the "
                f"solver stopped at max|f| = {res:.3g} per ms (ftol={ftol:g}; {' '.join(sol.message.split())}). "
                f"Try another guess, e.g. the end of a simulation.")
        state = {k: np.asarray(v) for k, v in unflatten_state(node, x, n).items()}
        jac = drift_jacobian(node, state, P, inp, coupling, n=n)
    s = _stability(jac, tol)
    return FixedPoint(state, s.eigenvalues, s.max_real, s.kind, s.jacobian, res)
