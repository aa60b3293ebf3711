"""Convergence orders of the engine's integrators (:mod:`neuralmass.integrators`, the functions
``Simulator(method=...)`` calls): deterministic orders on an analytic solution, and strong orders
for additive noise against the exact Ornstein–Uhlenbeck path driven by the same Brownian
increments (noise enters as the input ``sigma * dW / dt``, as the engine passes it)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuralmass.integrators import get_integrator


def _slope(dts, errs):
    return float(np.polyfit(np.log(dts), np.log(errs), 1)[0])


def _oscillator(x, params, inputs):
    return {"x": x["y"], "y": -x["x"]}


@pytest.mark.parametrize("method, order", [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_deterministic_order(method, order):
    """x'' = -x from (1, 0): x(T) = cos T, y(T) = -sin T; the global error at T = 2 falls like dt^order."""
    step = get_integrator(method)
    T = 2.0
    dts = [T / n for n in (20, 40, 80, 160)]
    errs = []
    with jax.enable_x64(True):
        for dt in dts:
            n = int(round(T / dt))
            s = {"x": jnp.float64(1.0), "y": jnp.float64(0.0)}
            s, _ = jax.lax.scan(lambda s, _: (step(_oscillator, s, {}, {}, dt), None), s, None, length=n)
            errs.append(float(jnp.hypot(s["x"] - np.cos(T), s["y"] + np.sin(T))))
    assert _slope(dts, errs) == pytest.approx(order, abs=0.15)


THETA, SIGMA, T, FINE = 1.0, 0.5, 1.0, 2 ** 11


def _ou(x, params, inputs):
    return {"x": -THETA * x["x"] + inputs["noise"]}


def _strong_errors(method, paths=2000, seed=0):
    """Mean |x_N - X(T)| for coarse steps T/2**k, all driven by one set of fine increments; the
    reference X(T) = e^{-θT} x0 + σ Σ e^{-θ(T - s_i)} ΔW_i is the exact solution on the fine grid."""
    step = get_integrator(method)
    rng = np.random.default_rng(seed)
    h = T / FINE
    dW = rng.normal(0.0, np.sqrt(h), (paths, FINE))
    s_mid = (np.arange(FINE) + 0.5) * h
    exact = np.exp(-THETA * T) * 1.0 + SIGMA * (np.exp(-THETA * (T - s_mid)) * dW).sum(1)
    dts, errs = [], []
    with jax.enable_x64(True):
        for n in (8, 16, 32, 64, 128):
            dt = T / n
            inc = jnp.asarray(dW.reshape(paths, n, FINE // n).sum(-1).T)      # (n, paths)

            def body(s, dw):
                return step(_ou, s, {}, {"noise": SIGMA * dw / dt}, dt), None

            s, _ = jax.lax.scan(body, {"x": jnp.ones(paths, jnp.float64)}, inc)
            dts.append(dt)
            errs.append(float(np.mean(np.abs(np.asarray(s["x"]) - exact))))
    return np.array(dts), np.array(errs)


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_strong_order_additive_noise(method):
    """Strong order 1 for additive noise: stochastic Heun (Kloeden & Platen 1992) and also
    Euler–Maruyama, whose general order 0.5 becomes 1 when the noise does not depend on the
    state (its Milstein correction vanishes). Heun's error is the smaller."""
    dts, errs = _strong_errors(method)
    slope = _slope(dts, errs)
    assert slope == pytest.approx(1.0, abs=0.2), (method, slope, errs)
    if method == "heun":
        assert np.all(errs < _strong_errors("euler")[1])
