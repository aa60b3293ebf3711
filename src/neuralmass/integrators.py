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
  calls exponential Euler (``brainstate.nn.exp_euler_step``). A drift may name the coefficient
  itself in its ``linear_coefficient`` attribute, ``linear_coefficient(state, params, inputs) ->
  {k: J_k}``: the factor of :math:`x_k` when the drift is written :math:`f_k = J_k x_k + N_k`
  with :math:`J_k` and :math:`N_k` held at their step-start values. For a gating variable
  :math:`\dot S = -S/\tau + (1 - S)\gamma r(S)` with the rate held over the step,
  :math:`J = -1/\tau - \gamma r`, the step is then the exact solution for that frozen rate
  (what brainstate computes when the rate is passed to ``exp_euler_step`` as a separate
  argument). ``rk2`` is an alias of ``heun`` (braintools' RK2 is the same two-stage scheme).
* ``symplectic_euler`` semi-implicit Euler: the variables are advanced one after the other in the
  order the drift names in its ``update_order`` attribute (else sorted by name), each from the
  values already advanced in this step. For a mechanical system ordered velocity first,
  :math:`v_{n+1} = v_n + \Delta t\, a(x_n, v_n)`, :math:`x_{n+1} = x_n + \Delta t\, v_{n+1}`: the
  symplectic Euler method (Hairer, Lubich & Wanner 2006, Geometric Numerical Integration, §I.1.2,
  §VI.3), first order, with bounded energy error for undamped oscillators where forward Euler's
  grows (the HORN units' scheme, Effenberger et al. 2025).

Stochastic integration. Noise reaches a model through its input channels. For white noise the
engine passes the input :math:`\sigma\,\xi_n/\sqrt{\Delta t}` with :math:`\xi_n\sim\mathcal N(0,1)`,
so that a channel entering the drift additively yields the increment :math:`\sigma\sqrt{\Delta t}\,\xi_n`:
``euler`` is then exactly Euler–Maruyama and ``heun`` (the same :math:`\xi_n` in both stages) is the
stochastic Heun scheme for additive noise (Kloeden & Platen 1992; Mannella 2002). The statistics of the
solution therefore do not depend on ``dt``. ``rk4`` is for deterministic runs (or coloured
noise, which is a smooth input).

Compensated updates. Each scheme is written as an increment ``dx`` (``*_increment``) added to the
state. In float32 a slow variable stops moving once ``|dx|`` falls below half an ulp of its value
(Epileptor2D's ``z`` at ``x0 = -2.2``, ``dt = 0.01``: it stalls at 2.95460, float64 settles at
2.95030). :func:`compensated_add` (Kahan summation) carries the rounding error of every addition
into the next step, so the float32 path follows the float64 one; the engine uses it for models
that declare slow variables (``NodeModel.compensated``) or when ``compensated=True`` is asked.
"""

from __future__ import annotations

from typing import Callable

import jax

__all__ = ["euler", "heun", "rk4", "exp_euler", "symplectic_euler", "INTEGRATORS", "INCREMENTS", "get_integrator",
           "get_increment", "compensated_add"]


def _axpy(a, x, y):
    """y + a * x over matching dicts."""
    return {k: y[k] + a * x[k] for k in y}


def _add(x, dx):
    """x + dx over matching dicts (the one place a step's increment is applied)."""
    return {k: x[k] + dx[k] for k in x}


def euler_increment(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """The forward Euler increment ``dt f(x)`` (see :func:`euler`)."""
    fx = f(x, params, inputs)
    return {k: dt * fx[k] for k in x}


def heun_increment(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Heun's increment ``dt/2 (f(x) + f(x + dt f(x)))`` (see :func:`heun`)."""
    k1 = f(x, params, inputs)
    k2 = f(_axpy(dt, k1, x), params, inputs)
    return {k: 0.5 * dt * (k1[k] + k2[k]) for k in x}


def rk4_increment(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """The classical Runge–Kutta increment (see :func:`rk4`)."""
    k1 = f(x, params, inputs)
    k2 = f(_axpy(0.5 * dt, k1, x), params, inputs)
    k3 = f(_axpy(0.5 * dt, k2, x), params, inputs)
    k4 = f(_axpy(dt, k3, x), params, inputs)
    return {k: dt / 6.0 * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k]) for k in x}


def _phi1(z):
    """(exp(z) - 1) / z, continuous at z = 0."""
    import jax.numpy as jnp

    small = jnp.abs(z) < 1e-5
    safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + 0.5 * z + z * z / 6.0, jnp.expm1(safe) / safe)


def linear_part(f: Callable, x: dict, params: dict, inputs: dict) -> dict:
    r"""``J_k`` of :func:`exp_euler` for every variable ``k``: the drift's own linear coefficient
    where it declares one (``f.linear_coefficient``, module docstring), else the diagonal of its
    Jacobian, :math:`\partial f_k / \partial x_k` per node (one :func:`jax.jvp` per variable,
    the inputs held)."""
    import jax.numpy as jnp

    coefficient = getattr(f, "linear_coefficient", None)
    if coefficient is not None:
        return coefficient(x, params, inputs)
    out = {}
    for k in x:
        tangent = {j: (jnp.ones_like(x[j]) if j == k else jnp.zeros_like(x[j])) for j in x}
        _, dfx = jax.jvp(lambda s: f(s, params, inputs), (x,), (tangent,))
        out[k] = dfx[k]
    return out


def exp_euler_increment(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """The exponential Euler increment ``dt phi1(dt J_k) f_k(x)`` (see :func:`exp_euler`)."""
    fx = f(x, params, inputs)
    J = linear_part(f, x, params, inputs)
    return {k: dt * _phi1(dt * J[k]) * fx[k] for k in x}


def symplectic_euler_increment(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """The semi-implicit (symplectic) Euler increment (see :func:`symplectic_euler`)."""
    order = tuple(getattr(f, "update_order", None) or sorted(x))
    if sorted(order) != sorted(x):
        raise ValueError(f"the drift's update_order {order} must name each state variable once "
                         f"({', '.join(sorted(x))}).")
    cur, dx = dict(x), {}
    for k in order:
        dx[k] = dt * f(cur, params, inputs)[k]
        cur[k] = x[k] + dx[k]
    return dx


def euler(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Forward Euler (Euler–Maruyama when white noise enters through ``inputs``)."""
    return _add(x, euler_increment(f, x, params, inputs, dt))


def heun(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Heun's method (stochastic Heun for additive white noise in ``inputs``)."""
    return _add(x, heun_increment(f, x, params, inputs, dt))


def rk4(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Classical Runge–Kutta of order 4 (inputs held constant over the step)."""
    return _add(x, rk4_increment(f, x, params, inputs, dt))


def exp_euler(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Exponential Euler on the diagonal of the Jacobian (see the module docstring).

    ``J_k`` is obtained with one forward-mode derivative per state variable (tangent one on
    ``x_k``, zero elsewhere); node drifts act element-wise across nodes, so this is the per-node
    diagonal entry. A drift with a ``linear_coefficient`` attribute gives ``J_k`` itself. White noise entering additively is multiplied by ``phi1(dt J_k)`` like the
    rest of the drift, which is consistent to first order; use ``heun`` for stochastic runs.
    """
    return _add(x, exp_euler_increment(f, x, params, inputs, dt))


def symplectic_euler(f: Callable, x: dict, params: dict, inputs: dict, dt: float) -> dict:
    """Semi-implicit Euler in the drift's ``update_order`` (see the module docstring): with the
    velocity first, the symplectic Euler method. One drift evaluation per state variable."""
    return _add(x, symplectic_euler_increment(f, x, params, inputs, dt))


def compensated_add(x: dict, dx: dict, comp: dict) -> tuple[dict, dict]:
    """Kahan-compensated ``x + dx``: the new state and the new compensation.

    Parameters
    ----------
    x, dx : dict
        State and the step's increment (same keys and shapes).
    comp : dict
        The low-order part lost by earlier additions (zeros at the start of a run).

    Returns
    -------
    tuple of dict
        ``(x_new, comp_new)`` with ``x_new = x + (dx - comp)`` rounded once and ``comp_new`` the
        part of ``dx - comp`` that rounding dropped, added back at the next step. A slow variable
        whose per-step increment is below half an ulp of its value thus still moves (plain
        float32 stalls there).
    """
    new_x, new_c = {}, {}
    for k in x:
        y = dx[k] - comp[k]
        t = x[k] + y
        new_c[k] = (t - x[k]) - y
        new_x[k] = t
    return new_x, new_c


INTEGRATORS = {"euler": euler, "heun": heun, "rk4": rk4, "exp_euler": exp_euler,
               "symplectic_euler": symplectic_euler}
INCREMENTS = {"euler": euler_increment, "heun": heun_increment, "rk4": rk4_increment,
              "exp_euler": exp_euler_increment, "symplectic_euler": symplectic_euler_increment}
_ALIASES = {"euler_maruyama": "euler", "em": "euler", "stochastic_heun": "heun", "sde_heun": "heun",
            "rk2": "heun", "exponential_euler": "exp_euler",
            "semi_implicit_euler": "symplectic_euler"}


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



def get_increment(name: str) -> Callable:
    """The increment ``dx(f, x, params, inputs, dt)`` of a named integrator (for compensated
    updates, :func:`compensated_add`); a callable integrator has none, so it is refused."""
    if callable(name):
        raise ValueError(
            f"compensated=True needs a named integrator ({sorted(INTEGRATORS)}); the callable "
            f"{name!r} returns the new state, not its increment. Pass compensated=False.")
    get_integrator(name)
    return INCREMENTS[_ALIASES.get(str(name).lower(), str(name).lower())]
