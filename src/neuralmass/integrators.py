r"""Fixed-step integrators for node models with (possibly noisy) inputs.

Every integrator advances ``state`` by one step ``dt`` (ms) given a pure drift
``f(state, params, inputs)`` whose inputs are held constant over the step:

* ``euler``   :math:`x_{n+1} = x_n + \Delta t\, f(x_n)`
* ``heun``    :math:`\tilde x = x_n + \Delta t f(x_n)`, :math:`x_{n+1} = x_n + \tfrac{\Delta t}{2}(f(x_n) + f(\tilde x))`
* ``rk4``     classical fourth-order Runge–Kutta.
* ``exp_euler`` exponential Euler on the diagonal linearisation: with
  :math:`J_k = \partial f_k/\partial x_k` (each state variable's derivative with respect to
  itself, per node; the other variables held at their step-start values),
  :math:`x_{k,n+1} = x_{k,n} + \Delta t\,\varphi_1(\Delta t\,J_k)\, f_k(x_n)` with
  :math:`\varphi_1(z) = (e^z - 1)/z`. Exact for a variable whose drift is linear in itself
  (a leaky unit, the linear part of a rate model); first order in general. It is the scheme brainstate
  calls exponential Euler (``brainstate.nn.exp_euler_step``). ``rk2`` is an alias of ``heun``
  (braintools' RK2 is the same two-stage scheme).

Stochastic integration. Noise reaches a model through its input channels. For white noise the
engine passes the input :math:`\sigma\,\xi_n/\sqrt{\Delta t}` with :math:`\xi_n\sim\mathcal N(0,1)`,
so that a channel entering the drift additively yields the increment :math:`\sigma\sqrt{\Delta t}\,\xi_n`:
``euler`` is then exactly Euler–Maruyama and ``heun`` (the same :math:`\xi_n` in both stages) is the
stochastic Heun scheme for additive noise (Kloeden & Platen 1992; Mannella 2002). The statistics of the
solution therefore do not depend on ``dt``. ``rk4`` is for deterministic runs (or coloured
noise, which is a smooth input).
"""

from __future__ import annotations

from typing import Callable

import jax

__all__ = ["euler", "heun", "rk4", "exp_euler", "INTEGRATORS", "get_integrator"]


def _axpy(a, x, y):
    """y + a * x over matching dicts."""
    return {k: y[k] + a * x[k] for k in y}


def euler(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Forward Euler (Euler–Maruyama when white noise enters through ``inputs``)."""
    return _axpy(dt, f(x, params, inputs), x)


def heun(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Heun's method (stochastic Heun for additive white noise in ``inputs``)."""
    k1 = f(x, params, inputs)
    x1 = _axpy(dt, k1, x)
    k2 = f(x1, params, inputs)
    return {k: x[k] + 0.5 * dt * (k1[k] + k2[k]) for k in x}


def rk4(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Classical Runge–Kutta of order 4 (inputs held constant over the step)."""
    k1 = f(x, params, inputs)
    k2 = f(_axpy(0.5 * dt, k1, x), params, inputs)
    k3 = f(_axpy(0.5 * dt, k2, x), params, inputs)
    k4 = f(_axpy(dt, k3, x), params, inputs)
    return {k: x[k] + dt / 6.0 * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k]) for k in x}


def _phi1(z):
    """(exp(z) - 1) / z, continuous at z = 0."""
    import jax.numpy as jnp

    small = jnp.abs(z) < 1e-5
    safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + 0.5 * z + z * z / 6.0, jnp.expm1(safe) / safe)


def exp_euler(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Exponential Euler on the diagonal of the Jacobian (see the module docstring).

    ``J_k`` is obtained with one forward-mode derivative per state variable (tangent one on
    ``x_k``, zero elsewhere); node drifts act element-wise across nodes, so this is the per-node
    diagonal entry. White noise entering additively is multiplied by ``phi1(dt J_k)`` like the
    rest of the drift, which is consistent to first order; use ``heun`` for stochastic runs.
    """
    import jax.numpy as jnp

    fx = f(x, params, inputs)
    out = {}
    for k in x:
        tangent = {j: (jnp.ones_like(x[j]) if j == k else jnp.zeros_like(x[j])) for j in x}
        _, dfx = jax.jvp(lambda s: f(s, params, inputs), (x,), (tangent,))
        out[k] = x[k] + dt * _phi1(dt * dfx[k]) * fx[k]
    return out


INTEGRATORS = {"euler": euler, "heun": heun, "rk4": rk4, "exp_euler": exp_euler}
_ALIASES = {"euler_maruyama": "euler", "em": "euler", "stochastic_heun": "heun", "sde_heun": "heun",
            "rk2": "heun", "exponential_euler": "exp_euler"}


def get_integrator(name: str | Callable) -> Callable:
    """Look up an integrator by name (``'euler'``, ``'heun'``, ``'rk4'``, ``'exp_euler'``; aliases
    ``'euler_maruyama'``, ``'stochastic_heun'``, ``'rk2'``) or pass a callable through."""
    if callable(name):
        return name
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in INTEGRATORS:
        raise ValueError(
            f"integrator={name!r} is unknown; use one of {sorted(INTEGRATORS) + sorted(_ALIASES)}")
    return INTEGRATORS[key]

