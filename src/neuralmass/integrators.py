r"""Fixed-step integrators for node models with (possibly noisy) inputs.

Every integrator advances ``state`` by one step ``dt`` (ms) given a pure drift
``f(state, params, inputs)`` whose inputs are held constant over the step:

* ``euler``   :math:`x_{n+1} = x_n + \Delta t\, f(x_n)`
* ``heun``    :math:`\tilde x = x_n + \Delta t f(x_n)`, :math:`x_{n+1} = x_n + \tfrac{\Delta t}{2}(f(x_n) + f(\tilde x))`
* ``rk4``     classical fourth-order Runge–Kutta.

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

__all__ = ["euler", "heun", "rk4", "INTEGRATORS", "get_integrator"]


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


INTEGRATORS = {"euler": euler, "heun": heun, "rk4": rk4}
_ALIASES = {"euler_maruyama": "euler", "em": "euler", "stochastic_heun": "heun", "sde_heun": "heun"}


def get_integrator(name: str | Callable) -> Callable:
    """Look up an integrator by name (``'euler'``, ``'heun'``, ``'rk4'``; aliases
    ``'euler_maruyama'``, ``'stochastic_heun'``) or pass a callable through."""
    if callable(name):
        return name
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in INTEGRATORS:
        raise ValueError(
            f"integrator={name!r} is unknown; use one of {sorted(INTEGRATORS) + sorted(_ALIASES)}")
    return INTEGRATORS[key]


# keep jax imported for users who type integrators.jax... (no-op)
del jax
