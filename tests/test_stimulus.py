"""Stimuli: shapes, spatial patterns, use as engine inputs (against the analytic response of a
linear node), gradients in amplitude and timing, and errors."""

import warnings

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass import stimulus as st


def _mag(x):
    return np.asarray(getattr(x, "mantissa", x))


def _box_response(t, t0, t1, A, tau):
    """x(t) of dx/dt = -x/tau + A 1[t0 <= t < t1], x(0) = 0."""
    on = A * tau * (1 - np.exp(-np.clip(t - t0, 0, None) / tau))
    peak = A * tau * (1 - np.exp(-(t1 - t0) / tau))
    return np.where(t < t1, on, peak * np.exp(-(t - t1) / tau))


def test_pulse_response_of_linear_node_matches_analytic():
    """A pulse into dx/dt = -x/tau + I gives the exponential charge/discharge of an RC circuit."""
    tau, A = 10.0, 0.5
    stim = st.pulse(onset=20 * u.ms, duration=30 * u.ms, amplitude=A)
    res = nm.Simulator(nm.LinearStep(1, tau=tau), dt=0.01, method="rk4").run(
        100.0, monitors=["x"], period=0.5, inputs={"x_ext": stim})
    t = _mag(res["ts"])
    np.testing.assert_allclose(_mag(res["x"])[:, 0], _box_response(t, 20.0, 50.0, A, tau), atol=5e-3 * A * tau)


def test_spatial_pattern_by_labels_and_sum_of_stimuli():
    """Two stimuli on different regions add; a region with no stimulus stays at rest."""
    labels = ["lV1", "rV1", "lM1"]
    tau = 5.0
    s = st.constant(0.2, onset=10.0).at(["lV1"], labels=labels) + \
        st.pulse(10.0, 20.0, 1.0).at({"rV1": 0.5}, labels=labels)
    res = nm.Simulator(nm.LinearStep(3, tau=tau), dt=0.01, method="rk4").run(
        60.0, monitors=["x"], period=1.0, inputs={"x_ext": s})
    x, t = _mag(res["x"]), _mag(res["ts"])
    np.testing.assert_allclose(x[:, 0], _box_response(t, 10.0, np.inf, 0.2, tau), atol=2e-3)
    np.testing.assert_allclose(x[:, 1], _box_response(t, 10.0, 30.0, 0.5, tau), atol=2e-3)
    assert np.abs(x[:, 2]).max() == 0.0


def test_shapes():
    tr = st.pulse_train(onset=10 * u.ms, frequency=100 * u.Hz, width=2 * u.ms, amplitude=1.0, n_pulses=3)
    v = tr.sample(np.arange(0.0, 45.0, 0.5))
    on = np.arange(0.0, 45.0, 0.5)[v > 0.5]
    np.testing.assert_allclose(on, [10, 10.5, 11, 11.5, 20, 20.5, 21, 21.5, 30, 30.5, 31, 31.5])
    s = st.sinusoid(10 * u.Hz, 2.0, onset=0.0, duration=100.0, offset=1.0)
    np.testing.assert_allclose(s.sample([25.0, 75.0, 150.0]), [3.0, -1.0, 0.0], atol=1e-5)
    r = st.ramp(0.0, 10.0, 5.0, hold=True)
    np.testing.assert_allclose(r.sample([0.0, 5.0, 10.0, 20.0]), [0.0, 2.5, 5.0, 5.0])
    tms = st.single_pulse(onset=100.0, amplitude=3.0)
    np.testing.assert_allclose(tms.sample([99.9, 100.0, 100.9, 101.0]), [0, 3, 3, 0])
    # smooth edges: half amplitude at the nominal edges, full inside
    p = st.pulse(10.0, 20.0, 2.0, rise=1.0)
    np.testing.assert_allclose(p.sample([10.0, 20.0, 30.0]), [1.0, 2.0, 1.0], atol=1e-4)


def test_quantity_amplitude_is_converted_by_the_engine():
    sim = nm.Simulator(nm.JansenRitStep(1), dt=0.1)
    a = _mag(sim.run(100.0, monitors="y1", inputs={"p": st.constant(220.0)})["y1"])
    b = _mag(sim.run(100.0, monitors="y1", inputs={"p": st.constant(0.22 * u.kHz)})["y1"])
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_gradient_in_amplitude_and_onset_matches_analytic():
    """d x(T) / dA and d x(T) / d t0 through make_run_fn with a smooth-edged pulse, against the
    analytic response (edges of 0.2 ms change it by far less than the tolerance)."""
    tau, T = 10.0, 60.0
    P = nm.Simulator(nm.LinearStep(1, tau=tau), dt=0.05).params()

    def final_x(A, t0):
        stim = st.pulse(onset=t0, duration=jnp.asarray(20.0), amplitude=A, rise=0.2)
        run = nm.make_run_fn(nm.LinearStep(1, tau=tau), 0.05, T, monitors=["x"], method="rk4",
                             inputs={"x_ext": stim})
        return run(P, 0)["x"][-1, 0]

    A, t0 = 0.5, 10.0
    gA, gt = jax.grad(final_x, argnums=(0, 1))(jnp.asarray(A), jnp.asarray(t0))
    t1 = t0 + 20.0
    x_T = lambda a, s: _box_response(np.array([T - 0.05]), s, s + 20.0, a, tau)[0]
    fdA = (x_T(A + 1e-4, t0) - x_T(A - 1e-4, t0)) / 2e-4
    fdt = (x_T(A, t0 + 1e-4) - x_T(A, t0 - 1e-4)) / 2e-4
    assert float(gA) == pytest.approx(fdA, rel=2e-2)
    assert float(gt) == pytest.approx(fdt, rel=2e-2)
    assert fdt > 0 and t1 < T


def test_errors():
    labels = ["rHC", "lHC"]
    with pytest.raises(ValueError, match="unknown region label 'rHc'.*'rHC'"):
        st.constant(1.0).at(["rHc"], labels=labels)
    with pytest.raises(ValueError, match="out of range"):
        st.constant(1.0).at([5], n=3)
    with pytest.raises(ValueError, match="no labels"):
        st.constant(1.0).at(["rHC"])
    with pytest.raises(ValueError, match="outside the run's time span"):
        st.pulse(5000.0, 10.0, 1.0).check(1000.0)
    with pytest.raises(ValueError, match="3 regions but the system has 2"):
        st.check_inputs({"p": st.constant(1.0).at([0], n=3)}, 100.0, n=2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        st.pulse(900.0, 200.0, 1.0).check(1000.0)
    assert any("cut" in str(x.message) for x in w)
    with pytest.raises(ValueError, match="shorter than the period"):
        st.pulse_train(0.0, 100 * u.Hz, 15.0, 1.0, n_pulses=2)
    with pytest.raises(ValueError, match="duration"):
        st.pulse(0.0, -1.0, 1.0)


def test_smooth_pulse_is_a_raised_cosine_with_the_area_of_the_pulse():
    s = st.smooth_pulse(onset=10.0, duration=50.0, amplitude=200.0)
    t = np.arange(0.0, 80.0, 0.01)
    v = np.asarray(s.sample(t))
    inside = (t >= 10.0) & (t < 60.0)
    np.testing.assert_allclose(v[inside], 400.0 * np.sin(np.pi * (t[inside] - 10.0) / 50.0) ** 2, rtol=1e-5, atol=1e-3)
    assert np.all(v[~inside] == 0.0)
    np.testing.assert_allclose(v.sum() * 0.01, 200.0 * 50.0, rtol=1e-3)
    assert s.span == (10.0, 60.0)
    with pytest.raises(ValueError, match="duration"):
        st.smooth_pulse(onset=0.0, duration=0.0, amplitude=1.0)
