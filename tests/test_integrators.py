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


# ------------------------------------------------------------------------------------------
# compensated (Kahan) updates: a slow variable that stalls in float32
# ------------------------------------------------------------------------------------------
def _epi2d_z(compensated, x0=-2.2, dur=6_000.0, x64=False):
    import neuralmass as nm

    with jax.enable_x64(x64):
        sim = nm.Simulator(nm.Epileptor2DStep(1), dt=0.01, compensated=compensated, progress=False)
        res = sim.run(dur, monitors=["z"], period=500.0, params={"x0": x0})
        return np.asarray(getattr(res["z"], "mantissa", res["z"]), dtype=np.float64)[..., 0]


def _epi2d_fixed_point(x0=-2.2):
    """The interictal fixed point of Epileptor2D (float64 Newton on the one drift function)."""
    from neuralmass.models.epileptor import EPILEPTOR_2D as M

    names = M.state_names
    zero = {k: 0.0 for k in M.input_names}
    with jax.enable_x64(True):
        P = {k: jnp.asarray(v, jnp.float64) for k, v in M.default_params().items()}
        P["x0"] = jnp.asarray(x0, jnp.float64)
        f = lambda x: jnp.stack([M.drift(dict(zip(names, x)), P, zero)[k] for k in names])  # noqa: E731
        x = jnp.asarray([-1.8, 3.0])
        for _ in range(50):
            x = x - jnp.linalg.solve(jax.jacfwd(f)(x), f(x))
        return float(x[1])


def test_compensated_float32_follows_float64_where_plain_float32_stalls():
    """Issue 25 item 9: Epileptor2D at x0 = -2.2, dt = 0.01 ms. z relaxes to its fixed point
    2.950296 (Newton, float64); plain float32 stops moving at 2.95460 once r dt (h - z) is below half
    an ulp; compensated float32 (the model's default policy) stays within 1 ulp of float64."""
    z_star = _epi2d_fixed_point()
    assert z_star == pytest.approx(2.950296, abs=1e-6)
    z64 = _epi2d_z(None, x64=True)
    assert z64[-1] == pytest.approx(z_star, abs=2e-5)                # still relaxing at 6 s
    plain = _epi2d_z(False)
    assert abs(plain[-1] - z64[-1]) > 4e-3              # the stall
    comp = _epi2d_z(None)                               # Epileptor2D's policy: compensated
    assert np.abs(comp - z64).max() < 5e-7              # float32 ulp at z = 3 is 2.4e-7


def test_compensation_policy_batching_and_gradients():
    """The policy is per model (Epileptor2D on, Hopf off, float64 never); a batched compensated
    run equals its single lanes; gradients flow through the compensated update and agree with the
    plain float32 gradient where plain float32 does not stall."""
    import neuralmass as nm

    def plan_of(model, **kw):
        return nm.Simulator(model, dt=0.01, progress=False, **kw)._prepare(10.0, None, 0.0, None, None).plan

    assert plan_of(nm.Epileptor2DStep(1)).compensated
    assert not plan_of(nm.HopfStep(1)).compensated
    assert plan_of(nm.HopfStep(1), compensated=True).compensated
    assert not plan_of(nm.Epileptor2DStep(1), compensated=False).compensated
    with jax.enable_x64(True):
        assert not plan_of(nm.Epileptor2DStep(1)).compensated
    with pytest.raises(ValueError, match="compensated"):
        nm.Simulator(nm.HopfStep(1), method=lambda f, x, p, i, dt: x, compensated=True)

    x0s = np.array([-2.2, -2.4, -1.9])
    batched = _epi2d_z(None, x0=x0s, dur=2_000.0)
    for b, x0 in enumerate(x0s):
        np.testing.assert_array_equal(batched[b], _epi2d_z(None, x0=x0, dur=2_000.0))

    grads = {}
    for comp in (False, True):
        run = nm.make_run_fn(nm.Epileptor2DStep(1), 0.05, 500.0, monitors=["z"], period=50.0,
                             compensated=comp)
        params = nm.Simulator(nm.Epileptor2DStep(1), progress=False).params()
        grads[comp] = float(jax.grad(lambda x0: run({**params, "node": {**params["node"], "x0": x0}},
                                                     0)["z"][-1, 0])(jnp.float32(-2.2)))
    assert np.isfinite(grads[True]) and abs(grads[True]) > 0
    assert grads[True] == pytest.approx(grads[False], rel=1e-3)
