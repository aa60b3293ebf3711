r"""The Jacobian of a node model's drift (coupling optionally included), in float64.

For :math:`n` nodes of a model with state variables :math:`x^{(1)}, \dots, x^{(m)}` (each of
shape ``(n,)``), the drift :math:`f` of the whole system is a map of the flat vector
:math:`X = (x^{(1)}_1, \dots, x^{(1)}_n, x^{(2)}_1, \dots, x^{(m)}_n)` (state variables in the
model's table order, nodes within each), and its Jacobian

.. math::

    J_{ab} = \frac{\partial f_a}{\partial X_b}(X^*)

(per ms) is what linear stability analysis reads: near a fixed point :math:`X^*`,
:math:`\delta\dot X = J\,\delta X`, so the fixed point is linearly stable when every eigenvalue
of :math:`J` has a negative real part (Strogatz 2015, §6.3; Kuznetsov 1998, §1.5, Theorem 2.1).

This module is the one definition of that Jacobian: :func:`drift_jacobian` differentiates the
model's own drift function (:func:`jax.jacfwd`) with the inputs a caller supplies — constant ones
and, optionally, a function of the state (the network coupling). It lives beside the models so that
:func:`~neuralmass.models.wong_wang_fic.feedback_inhibition_control` can check the fixed point it
returns; :mod:`neuralmass.analysis.stability` builds fixed-point search, classification and the
coupling of a :class:`~neuralmass.Network` on it.

References
----------
Strogatz, S. H. (2015). *Nonlinear Dynamics and Chaos* (2nd ed.). Westview Press.
Kuznetsov, Y. A. (1998). *Elements of Applied Bifurcation Theory* (2nd ed.). Springer.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from .base import NodeModel

__all__ = ["drift_jacobian", "flat_drift", "flatten_state", "unflatten_state"]


def flatten_state(model: NodeModel, state: Mapping[str, Any], n: int):
    """The flat vector :math:`X` of ``state`` (each variable broadcast to ``(n,)``), as a JAX array."""
    import jax.numpy as jnp

    missing = [k for k in model.state_names if k not in state]
    if missing:
        raise ValueError(f"state lacks {missing} of {model.name}'s state variables "
                         f"{list(model.state_names)}; give a value for each.")
    return jnp.concatenate([jnp.broadcast_to(jnp.asarray(state[k], dtype=float), (n,))
                            for k in model.state_names])


def unflatten_state(model: NodeModel, x, n: int) -> dict:
    """The state dict ``{name: (n,)}`` of the flat vector ``x`` (inverse of :func:`flatten_state`)."""
    return {k: x[i * n:(i + 1) * n] for i, k in enumerate(model.state_names)}


def flat_drift(model: NodeModel, params: Mapping[str, Any], n: int,
               inputs: Mapping[str, Any] | None = None,
               coupling: Callable[[dict], Mapping[str, Any]] | None = None) -> Callable:
    r"""The drift of ``n`` nodes as a map of flat vectors, :math:`X \mapsto f(X)` (per ms).

    Parameters
    ----------
    model : NodeModel
    params : dict
        Canonical parameters (plain arrays broadcasting against ``(n,)``).
    n : int
        Number of nodes.
    inputs : dict, optional
        Constant inputs (canonical units) by input name; the others are zero.
    coupling : callable, optional
        ``coupling(state) -> {input: (n,)}``: inputs that depend on the state (the network
        coupling), added to ``inputs``.
    """
    import jax.numpy as jnp

    const = {name: jnp.zeros(()) for name in model.input_names}
    for name, v in (inputs or {}).items():
        model.input(name)                         # a clear KeyError for an unknown input
        const[name] = const[name] + jnp.asarray(v, dtype=float)

    def f(x):
        state = unflatten_state(model, x, n)
        inp = dict(const)
        if coupling is not None:
            for name, v in coupling(state).items():
                inp[name] = inp[name] + v
        d = model.drift(state, params, inp)
        return jnp.concatenate([jnp.broadcast_to(d[k], (n,)) for k in model.state_names])

    return f


def drift_jacobian(model: NodeModel, state: Mapping[str, Any], params: Mapping[str, Any] | None = None,
                   inputs: Mapping[str, Any] | None = None,
                   coupling: Callable[[dict], Mapping[str, Any]] | None = None,
                   n: int | None = None) -> np.ndarray:
    r"""Jacobian :math:`\partial f / \partial X` (per ms, float64) of ``n`` nodes' drift at ``state``.

    Parameters
    ----------
    model : NodeModel
    state : dict
        Value of every state variable (canonical units), scalars or arrays of shape ``(n,)``.
    params : dict, optional
        Canonical parameters (default: the model's defaults), e.g. ``model.canonical_params(...)``.
    inputs : dict, optional
        Constant inputs (canonical units); the others are zero.
    coupling : callable, optional
        ``coupling(state) -> {input: (n,)}``, the state-dependent inputs (network coupling); its
        derivative enters the Jacobian.
    n : int, optional
        Number of nodes (default: the largest size among the state's arrays).

    Returns
    -------
    numpy.ndarray, shape (m n, m n)
        Rows and columns ordered as :func:`flatten_state`: state variable by state variable (the
        model's table order), node by node within each.
    """
    import jax
    import jax.numpy as jnp

    if n is None:
        n = max([int(np.size(v)) for v in state.values()] or [1])
    with jax.enable_x64(True):
        P = {k: jnp.asarray(v, jnp.float64) for k, v in
             (model.default_params() if params is None else params).items()}
        f = flat_drift(model, P, n, inputs, coupling)
        x = flatten_state(model, state, n).astype(jnp.float64)
        return np.asarray(jax.jit(jax.jacfwd(f))(x), dtype=float)
