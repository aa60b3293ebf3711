"""Balloon–Windkessel BOLD and HRF kernels: analytic fixed points, published shapes, paths agree."""

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuralmass.forward import (BOLDMonitor, BOLDSignal, balloon_drift, balloon_resting_state,
                                balloon_steady_state, bold_coefficients, fft_convolve,
                                glover_hrf, hemodynamic_params, hrf_bold, hrf_kernel,
                                simulate_bold, volterra_kernel, gamma_hrf,
                                double_exponential_hrf)
from neuralmass.units import UnitMismatchError


def _burst(T_ms, dt_ms, amp=1.0, dur_ms=100.0, n=1):
    z = np.zeros((int(round(T_ms / dt_ms)), n))
    z[: int(round(dur_ms / dt_ms))] = amp
    return z


# ----------------------------------------------------------------------------- coefficients
def test_coefficient_sets_match_published_formulas():
    c = bold_coefficients("classic", 0.34)
    np.testing.assert_allclose([c["k1"], c["k2"], c["k3"], c["V0"]], [2.38, 2.0, 0.48, 0.02], rtol=1e-6)
    r = bold_coefficients("revised", 0.34)  # 1.5 T: theta0 40.3/s, r0 25/s, eps 1.43, TE 40 ms
    np.testing.assert_allclose(r["k1"], 4.3 * 40.3 * 0.34 * 0.04, rtol=1e-6)
    np.testing.assert_allclose(r["k2"], 1.43 * 25 * 0.34 * 0.04, rtol=1e-6)
    np.testing.assert_allclose(r["k3"], 1 - 1.43, rtol=1e-6)
    r3 = bold_coefficients("revised", 0.34, B0=3 * u.tesla, TE=30 * u.ms)
    np.testing.assert_allclose(r3["k1"], 4.3 * 80.6 * 0.34 * 0.03, rtol=1e-6)
    np.testing.assert_allclose(r3["k2"], 0.47 * 110 * 0.34 * 0.03, rtol=1e-6)
    with pytest.raises(ValueError, match="r0"):
        bold_coefficients("revised", B0=7.0)
    with pytest.raises(ValueError, match="revised"):
        bold_coefficients("classic", TE=30.0)


# ----------------------------------------------------------------------------- fixed points
def test_resting_state_is_exact_fixed_point_and_bold_zero():
    p = hemodynamic_params()
    d = balloon_drift(balloon_resting_state((3,)), p, jnp.zeros(3))
    for v in d.values():
        assert np.all(np.asarray(v) == 0.0)
    for coeffs in ("classic", "revised"):
        y = simulate_bold(np.zeros((600_000, 2)), 1.0, coefficients=coeffs)  # 10 minutes
        assert np.abs(np.asarray(y)).max() < 1e-6


@pytest.mark.parametrize("z0", [0.2, 1.0])
def test_constant_input_reaches_analytic_steady_state(z0):
    p = hemodynamic_params()
    ss = balloon_steady_state(z0, p)
    # f = 1 + z/gamma, v = f^alpha, q = v E(f)/rho (derivation in the docstring)
    f = 1 + z0 / 0.41
    np.testing.assert_allclose(ss["f"], f, rtol=1e-6)
    np.testing.assert_allclose(ss["q"], f ** 0.32 * (1 - 0.66 ** (1 / f)) / 0.34, rtol=1e-5)
    params_ok = balloon_drift({"s": 0.0, "log_f": jnp.log(ss["f"]), "log_v": jnp.log(ss["v"]),
                               "log_q": jnp.log(ss["q"])}, p, z0)
    for v in params_ok.values():
        assert abs(float(v)) < 1e-5
    y = np.asarray(simulate_bold(np.full((120_000, 1), z0), 1.0, integrate_every=10))
    c = bold_coefficients("classic", 0.34)
    y_ss = c["V0"] * (c["k1"] * (1 - ss["q"]) + c["k2"] * (1 - ss["q"] / ss["v"]) + c["k3"] * (1 - ss["v"]))
    np.testing.assert_allclose(y[-1, 0], y_ss, rtol=2e-3)


# ----------------------------------------------------------------------------- burst response
@pytest.mark.parametrize("coeffs,peak_s", [("classic", 3.11), ("revised", 3.12)])
def test_burst_response_peak_and_undershoot(coeffs, peak_s):
    dt = 1.0
    y = np.asarray(simulate_bold(_burst(30_000, dt), dt, coefficients=coeffs))[:, 0]
    t = (np.arange(y.size) + 1) * dt / 1000.0
    assert abs(t[y.argmax()] - peak_s) < 0.05          # measured: 3.11 s / 3.12 s after onset
    assert 0.003 < y.max() < 0.006                      # a few tenths of a percent
    # post-stimulus undershoot: negative minimum around 9 s, then recovery towards 0
    assert y.min() < -0.1 * y.max()
    assert 8.0 < t[y.argmin()] < 10.5
    assert abs(y[-1]) < abs(y.min())


# ----------------------------------------------------------------------------- paths agree
def test_stateful_module_matches_pure_path_and_dt_units():
    z = _burst(3000, 1.0, n=2)
    z[:, 1] *= 0.5
    ref = np.asarray(simulate_bold(z, 1.0))
    outs = []
    for dt in (1 * u.ms, 0.001 * u.second, 1.0, None):
        bold = BOLDSignal(in_size=2)
        bold.init_all_states()

        def f(zz):
            bold.update(z=zz)
            return bold.bold()

        if dt is None:   # default 1 ms
            y = brainstate.transform.for_loop(f, jnp.asarray(z))
        else:
            with brainstate.environ.context(dt=dt):
                y = brainstate.transform.for_loop(f, jnp.asarray(z))
        outs.append(np.asarray(y))
    for y in outs:
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-9)
    # a rate in Hz is accepted as is; a voltage needs input_unit= and is an error otherwise
    bold = BOLDSignal(in_size=2)
    bold.init_all_states()
    with pytest.raises(UnitMismatchError, match="input_unit"):
        bold.update(z=jnp.ones(2) * u.mV)


def _fake_read(values):
    return lambda name: values


def test_online_monitor_with_block_average_matches_offline():
    """The monitor protocol driven by hand (as the engine does) equals simulate_bold."""
    dt = 0.1
    rng = np.random.default_rng(0)
    z = 0.5 + 0.3 * rng.standard_normal((40_000, 3))        # 4 s of noisy activity
    mon = BOLDMonitor("x", tr=100 * u.ms, scale=0.8, baseline=0.1)
    assert mon.every(dt) == 10 and mon.period == 100.0

    def run(zs):
        ms = mon.init(_fake_read(zs[0]), dt)

        def body(ms, zt):
            ms = mon.step(ms, _fake_read(zt), dt)
            return ms, None

        def outer(ms, zblock):
            ms, _ = jax.lax.scan(body, ms, zblock)
            return mon.sample(ms, None)

        return jax.lax.scan(outer, ms, zs.reshape(-1, 1000, zs.shape[-1]))[1]

    online = np.asarray(jax.jit(run)(jnp.asarray(z)))
    offline = np.asarray(simulate_bold(z, dt, tr=100.0, scale=0.8, baseline=0.1, integrate_every=10))
    np.testing.assert_allclose(online, offline, rtol=1e-5, atol=1e-9)
    # coarser internal step (1 ms blocks) vs integrating at every 0.1 ms step: same BOLD
    fine = np.asarray(simulate_bold(z, dt, tr=100.0, scale=0.8, baseline=0.1, integrate_every=1))
    np.testing.assert_allclose(online, fine, atol=2e-3 * np.abs(fine).max())
    # differentiable through the online path
    g = jax.grad(lambda a: jnp.sum(run(a * jnp.asarray(z[:10_000]))))(1.0)
    assert np.isfinite(g) and g != 0


def test_monitor_in_engine_matches_offline_conversion():
    import neuralmass as nm

    model = nm.WongWangModel(in_size=2)
    sim = nm.Simulator(model, dt=0.5 * u.ms)
    on = sim.run(4 * u.second, monitors=[BOLDMonitor("S_E", tr=500 * u.ms, integrate_every=2)])
    raw = sim.run(4 * u.second, monitors=["S_E"])
    S = np.asarray(raw["S_E"].mantissa if isinstance(raw["S_E"], u.Quantity) else raw["S_E"])
    off = np.asarray(simulate_bold(S, 0.5, tr=500.0, integrate_every=2))
    np.testing.assert_allclose(np.asarray(on["bold"]), off, rtol=1e-4, atol=1e-8)


# ----------------------------------------------------------------------------- Volterra / HRF
def test_linear_regime_matches_first_order_volterra_kernel():
    """Small input: BW response = convolution with the Volterra kernel (within 1e-3 of peak)."""
    dt = 1.0
    z = _burst(40_000, dt, amp=0.01)
    yb = np.asarray(simulate_bold(z, dt))[:, 0]
    yv = np.asarray(hrf_bold(z, dt, kernel="volterra", length=40 * u.second))[:, 0]
    assert np.abs(yb - yv).max() < 1e-3 * np.abs(yb).max()
    # at unit amplitude the nonlinearity shows (measured ≈ 4.5 % of the peak)
    z1 = _burst(40_000, dt, amp=1.0)
    err1 = np.abs(np.asarray(simulate_bold(z1, dt))[:, 0]
                  - np.asarray(hrf_bold(z1, dt, kernel="volterra", length=40 * u.second))[:, 0]).max()
    assert 0.01 < err1 / np.abs(np.asarray(simulate_bold(z1, dt))).max() < 0.1


def test_volterra_kernel_integral_equals_steady_state_gain():
    """∫ h dt = dy_ss/dz at z = 0 (derivative of the analytic steady state)."""
    t = np.arange(0, 80, 0.002)
    h = np.asarray(volterra_kernel(t))
    c = bold_coefficients("classic", 0.34)
    p = hemodynamic_params()

    def y_ss(z):
        s = balloon_steady_state(z, p)
        return c["V0"] * (c["k1"] * (1 - s["q"]) + c["k2"] * (1 - s["q"] / s["v"]) + c["k3"] * (1 - s["v"]))

    gain = float(jax.grad(y_ss)(0.0))
    np.testing.assert_allclose(np.trapezoid(h, t), gain, rtol=2e-3)


def test_glover_hrf_published_shape():
    t = np.arange(0, 32, 0.001)
    pos = np.asarray(glover_hrf(t, c=0.0))       # positive lobe alone: peak 5.4 s, FWHM 5.2 s
    assert abs(t[pos.argmax()] - 5.4) < 0.01
    half = t[pos >= pos.max() / 2]
    assert abs((half[-1] - half[0]) - 5.2) < 0.1
    h = np.asarray(glover_hrf(t))                 # full mixture
    assert 5.0 < t[h.argmax()] < 5.5
    assert h.min() < 0 and 10.5 < t[h.argmin()] < 13.0   # undershoot (term centred at 10.8 s)
    g = np.asarray(gamma_hrf(t))                  # Boynton: peak at delta + (n-1) tau = 4.21 s
    assert abs(t[g.argmax()] - 4.21) < 0.01
    np.testing.assert_allclose(np.trapezoid(g, t), 1.0, rtol=1e-3)
    d = np.asarray(double_exponential_hrf(t))     # peak at delta + tr*td/(td-tr) ln(td/tr)
    assert abs(t[d.argmax()] - (1 + 4 * np.log(2))) < 0.01


def test_fft_convolution_equals_numpy_convolve_with_batch_and_tr():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5000, 3))
    h = np.asarray(hrf_kernel("glover", 10.0, length=32 * u.second))
    y = np.asarray(fft_convolve(jnp.asarray(x), jnp.asarray(h), axis=1))
    for b in range(2):
        for j in range(3):
            np.testing.assert_allclose(y[b, :, j], np.convolve(x[b, :, j], h)[:5000], atol=1e-3)
    yb = np.asarray(hrf_bold(x, 10.0, kernel="glover", tr=2 * u.second))
    assert yb.shape == (2, 25, 3)
    full = np.convolve(x[1, :, 2], h)[:5000] * 0.01
    np.testing.assert_allclose(yb[1, :, 2], full[199::200], atol=1e-4)
    with pytest.raises(ValueError, match="multiple"):
        hrf_bold(x, 10.0, tr=25.0)


def test_bold_input_range_policy_names_scale_and_stops_at_the_chunk():
    """Issue 25 item 10: a drive that pushes the Balloon inflow to zero (a 0.05 Hz Hopf node of
    amplitude 0.5 with scale 20: inflow swings of about 27) is an error naming bold.scale and the
    fix, raised at the chunk where it happens; scale 0.2 (swings of about 0.27) stays finite, and
    a sweep-style run (on_divergence='nan') marks the lane diverged instead of returning NaN."""
    import neuralmass as nm

    node = nm.HopfStep(1, a=0.25 / u.ms, omega=2 * np.pi * 0.05 * u.Hz)   # amplitude sqrt(a) = 0.5

    def run(scale, **kw):
        sim = nm.Simulator(node, dt=1.0, chunk_steps=10_000, progress=False)
        return sim.run(120_000.0, monitors=[BOLDMonitor("x", tr=1000.0, scale=scale)], **kw)

    with pytest.raises(nm.SimulationDiverged, match=r"inflow f was driven to zero.*bold.scale = 20 "
                                                     r"\(config \[bold\] scale.*lower it") as err:
        run(20.0)
    t_stop = float(str(err.value).split("(t = ")[1].split(" ms")[0])
    assert t_stop <= 40_000.0                 # stopped at the chunk, not after 120 s
    ok = run(0.2)
    assert np.all(np.isfinite(np.asarray(ok["bold"])))
    lanes = run(20.0, on_divergence="nan")
    assert bool(np.asarray(lanes["diverged"]))
