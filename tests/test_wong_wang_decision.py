"""Wong & Wang's (2006) decision circuit (model WongWangDecision, neuralmass.WongWangStep).

Checked against the published behaviour of the model (spontaneous state, winner-take-all under a
coherent stimulus, symmetry), an independent root finder for the spontaneous fixed point, the
closed form of a step with the rate held, and brainmass 0.1.1's WongWangStep (fixture key
``wong_wang_step`` of tests/fixtures/brainmass_0_1_1.json, written by
scripts/make_brainmass_fixture.py with brainmass itself).
"""

import json
import pathlib

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import neuralmass as nm
from neuralmass.models import WONG_WANG_DECISION
from neuralmass.models.wong_wang import ww_rate

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests" / "fixtures" / "brainmass_0_1_1.json").read_text())["wong_wang_step"]
P0 = {k: float(v) for k, v in WONG_WANG_DECISION.default_params().items()}


def _hz(x):
    return np.asarray(x.to_decimal(u.Hz))


def _brainmass_kwargs(case):
    """The fixture's keywords as brainmass passes them (Quantities)."""
    units = {"theta": u.nA, "J_N12": u.nA, "J_N21": u.nA, "J_A_ext": u.nA / u.Hz, "I_0": u.nA, "tau_S": u.ms}
    return {k: v * units[k] for k, v in case["kwargs"].items()}


# ------------------------------------------------------------------------------- the f-I curve
def test_f_i_curve_is_wong_wang_with_a_finite_removable_singularity():
    """H = (aI - b)/(1 - exp(-d(aI - b))) (a = 270 Hz/nA, b = 108 Hz, d = 0.154 s) against the
    formula in NumPy; at aI = b the limit 1/d, and dH/dI = a/2 there (the slope of x/(1 - e^-dx)
    at 0 is 1/2); finite values and gradients far below threshold."""
    a, b, d = P0["a"], P0["b"], P0["d"]
    with jax.enable_x64(True):
        current = np.array([-1.0, 0.0, 0.2, 0.35, 0.39, 0.41, 0.5, 1.0])
        x = a * current - b
        np.testing.assert_allclose(np.asarray(ww_rate(jnp.asarray(current), a, b, d)),
                                   x / (1.0 - np.exp(-d * x)), rtol=1e-12)
        at = b / a
        assert float(ww_rate(at, a, b, d)) == pytest.approx(1.0 / d, rel=1e-12)
        for eps in (1e-9, -1e-9, 1e-6, -1e-6):          # continuous across the series' edge
            x = a * (at + eps) - b                         # (NumPy's expm1: no cancellation)
            assert float(ww_rate(at + eps, a, b, d)) == pytest.approx(x / -np.expm1(-d * x), rel=1e-12)
        assert float(jax.grad(ww_rate)(at, a, b, d)) == pytest.approx(a / 2, rel=1e-9)
    # float32, currents far below threshold: no overflow to NaN in value or gradient
    far = jnp.asarray([-50.0, -5.0, 0.0])
    assert np.all(np.isfinite(np.asarray(ww_rate(far, a, b, d))))
    assert np.all(np.isfinite(np.asarray(jax.vmap(jax.grad(ww_rate), (0, None, None, None))(far, a, b, d))))


def test_threshold_linear_limit_is_a_max_of_i_minus_theta():
    """d = inf is a * max(I - theta, 0) with b = a * theta (brainmass's f-I curve), exactly at
    and around the threshold, with finite gradients (a above, 0 below); a large finite d
    approaches it within 1/d (the curve's largest distance from the kink, at aI = b)."""
    a, theta = 270.0, 0.31
    with jax.enable_x64(True):
        current = jnp.asarray([0.0, 0.2, theta, theta + 1e-12, 0.35, 0.6])
        got = np.asarray(ww_rate(current, a, a * theta, jnp.inf))
        np.testing.assert_allclose(got, a * np.maximum(np.asarray(current) - theta, 0.0), rtol=1e-10, atol=1e-9)
        grad = jax.vmap(jax.grad(ww_rate), (0, None, None, None))(jnp.asarray([0.2, 0.5]), a, a * theta, jnp.inf)
        np.testing.assert_allclose(np.asarray(grad), [0.0, a])
        sharp = np.asarray(ww_rate(current, a, a * theta, 1e4))
        assert np.max(np.abs(sharp - got)) <= 1e-4 + 1e-12


# --------------------------------------------------------------------------------- brainmass
def test_rates_and_drift_match_brainmass():
    """brainmass's phi, compute_inputs and dS/dt at fixed states, coherences and noise currents
    (threshold-linear curve selected by theta, asymmetric J_N12/J_N21), to 1e-9."""
    with jax.enable_x64(True):
        node = nm.WongWangStep(4, **_brainmass_kwargs(FIX))
        P = node.canonical_params
        state = {"S1": jnp.asarray(FIX["S1"]), "S2": jnp.asarray(FIX["S2"])}
        inputs = {"coherence": jnp.asarray(FIX["coherence"]), "I1_ext": jnp.asarray(FIX["noise_1"]),
                  "I2_ext": jnp.asarray(FIX["noise_2"])}
        d = WONG_WANG_DECISION.drift(state, P, inputs)
        for k in ("r1", "r2"):
            np.testing.assert_allclose(np.asarray(WONG_WANG_DECISION.read(k, state, P, inputs)), FIX[k],
                                       rtol=1e-9, atol=1e-9, err_msg=k)
        np.testing.assert_allclose(np.asarray(d["S1"]), FIX["dS1"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.asarray(d["S2"]), FIX["dS2"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("label", ["given", "defaults"])
def test_runs_match_brainmass(label):
    """400 exp_euler steps of 0.5 ms at coherence 0.3 from S = (0.1, 0.05): the rates update()
    returns, the states (stepped by hand and in the Simulator) and get_decision(), to 1e-5.
    brainmass's defaults are its threshold-linear curve (theta = 0.31 nA) and J_A_ext = 2.243e-4
    nA/Hz, given here explicitly (neuralmass's defaults are Wong & Wang's curve and 5.2e-4)."""
    run = FIX["runs"][label]
    kw = (_brainmass_kwargs(FIX) if label == "given"
          else {"theta": 0.31 * u.nA, "J_A_ext": 0.0002243 * u.nA / u.Hz})
    init = {"S1_init": FIX["init"][0], "S2_init": FIX["init"][1]}
    dt, n, every = FIX["dt_ms"], FIX["n_steps"], FIX["record_every"]
    with jax.enable_x64(True):
        node = nm.WongWangStep(1, **kw, **init)
        assert node.method == "exp_euler"
        with brainstate.environ.context(dt=dt * u.ms):
            node.init_all_states()

            def step(i):
                r1, r2 = node.update(FIX["run_coherence"])
                return node.S1.value, node.S2.value, r1.to_decimal(u.Hz), r2.to_decimal(u.Hz)

            S1, S2, r1, r2 = brainstate.transform.for_loop(step, np.arange(n))
            decision = int(np.asarray(node.get_decision())[0])
        for name, got in (("S1", S1), ("S2", S2), ("r1", r1), ("r2", r2)):
            np.testing.assert_allclose(np.asarray(got)[every - 1::every, 0], run[name], rtol=1e-5, atol=1e-7,
                                       err_msg=f"{label} {name}")
        assert decision == run["decision"]
        res = nm.Simulator(nm.WongWangStep(1, **kw, **init), dt=dt).run(
            n * dt, inputs={"coherence": FIX["run_coherence"]}, monitors=["S1", "S2"], sample_every=every)
        for name in ("S1", "S2"):
            np.testing.assert_allclose(np.asarray(res[name])[:, 0], run[name], rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------- published behaviour
def test_spontaneous_state_is_the_low_symmetric_fixed_point():
    """Without stimulus (mu_0 = 0) both populations settle at the same low rate, 1-3 Hz (Wong &
    Wang 2006): the root of S = g r tau/(1 + g r tau), r = H(I_0 + (J_N11 - J_N12) S), found
    with scipy's brentq, to 1e-4."""
    P = P0
    g, tau = P["gamma"] * 1e-3, P["tau_S"]

    def rate(S):
        return float(ww_rate(P["I_0"] + (P["J_N11"] - P["J_N12"]) * S, P["a"], P["b"], P["d"]))

    S_star = brentq(lambda S: S - g * rate(S) * tau / (1 + g * rate(S) * tau), 0.0, 0.5, xtol=1e-14)
    res = nm.Simulator(nm.WongWangStep(1, mu_0=0.0), dt=0.5).run(3000.0, monitors=["r1", "r2", "S1"])
    r1, r2 = _hz(res["r1"])[-1, 0], _hz(res["r2"])[-1, 0]
    assert r1 == r2
    assert 1.0 < r1 < 3.0
    assert r1 == pytest.approx(rate(S_star), rel=1e-4)
    assert float(np.asarray(res["S1"])[-1, 0]) == pytest.approx(S_star, rel=1e-4)


def test_coherent_stimulus_decides_for_population_one_and_mirror_symmetry():
    """Noise off, stimulus on (mu_0 = 30 Hz): at c = 0.5 population 1 passes 15 Hz within 1 s
    and population 2 falls silent (winner-take-all, Wong & Wang 2006); c = -0.5 is the mirror image
    and c = 0 keeps both populations equal. get_decision() reads the same choice."""
    sim = nm.Simulator(nm.WongWangStep(2), dt=0.5)
    res = sim.run(1000.0, inputs={"coherence": jnp.asarray([0.5, -0.5])}, monitors=["r1", "r2"])
    r1, r2 = _hz(res["r1"]), _hz(res["r2"])
    t = np.asarray(res["ts"].to_decimal(u.ms)) if hasattr(res["ts"], "to_decimal") else np.asarray(res["ts"])
    crossing = t[np.argmax(r1[:, 0] > 15.0)]
    assert r1[-1, 0] > 15.0 and crossing < 1000.0
    assert r2[-1, 0] < 2.0
    np.testing.assert_allclose(r1[:, 1], r2[:, 0], rtol=1e-6)
    np.testing.assert_allclose(r2[:, 1], r1[:, 0], rtol=1e-6)
    even = sim.run(1000.0, inputs={"coherence": 0.0}, monitors=["r1", "r2"])
    np.testing.assert_array_equal(_hz(even["r1"]), _hz(even["r2"]))
    node = nm.WongWangStep(2, S1_init=[0.6, 0.02], S2_init=[0.02, 0.02])
    node.init_all_states()
    np.testing.assert_array_equal(np.asarray(node.get_decision(threshold=15.0)), [1, 0])


def test_exp_euler_step_is_exact_for_the_frozen_rate_and_keeps_s_in_the_unit_interval():
    """With the rate held, dS/dt = -(1/tau + g r) S + g r is linear: one exp_euler step of any
    size is S* + (S0 - S*) exp(-(1/tau + g r) dt), S* = g r tau/(1 + g r tau) < 1. Steps of 40 ms
    under a strong stimulus never leave [0, 1), so no clipping is needed; forward Euler, with
    dt (1/tau + g r) > 1 there, overshoots out of [0, 1]."""
    S0, dt = 0.05, 40.0
    node = nm.WongWangStep(1, S1_init=S0, S2_init=0.0, mu_0=60.0)
    node.init_all_states()
    with brainstate.environ.context(dt=dt * u.ms):
        r1, _ = node.update(coherence=1.0)
    g, tau = P0["gamma"] * 1e-3, P0["tau_S"]
    r = float(_hz(r1)[0])
    lam = 1.0 / tau + g * r
    S_star = g * r / lam
    assert float(node.S1.value[0]) == pytest.approx(S_star + (S0 - S_star) * np.exp(-lam * dt), rel=1e-5)
    runs = {method: nm.Simulator(nm.WongWangStep(1, mu_0=80.0, I_0=0.4, method=method), dt=dt).run(
        4000.0, inputs={"coherence": 1.0}, monitors=["S1", "S2"]) for method in ("exp_euler", "euler")}
    for k in ("S1", "S2"):
        s = np.asarray(runs["exp_euler"][k])
        assert np.all(s >= 0.0) and np.all(s < 1.0)
    assert float(np.asarray(runs["exp_euler"]["S1"])[-1, 0]) > 0.8          # the high state
    s = np.asarray(runs["euler"]["S1"])
    assert not np.all((s >= 0.0) & (s <= 1.0))


# ------------------------------------------------------------------------------- keywords, units
def test_brainmass_keywords_and_units():
    m = nm.WongWangStep(1, tau_S=0.1 * u.second, J_A_ext=0.0002243 * u.nA / u.Hz, mu_0=30.0 * u.Hz,
                        theta=310.0 * u.pA, a=brainstate.nn.Param(270.0 * u.Hz / u.nA))
    P = m.canonical_params
    assert float(P["tau_S"]) == pytest.approx(100.0)
    assert float(P["J_A_ext"]) == pytest.approx(2.243e-4)
    assert float(P["b"]) == pytest.approx(270.0 * 0.31) and np.isinf(float(P["d"]))
    with pytest.raises(TypeError, match=r"theta=.*sets b = a \* theta.*b and d"):
        nm.WongWangStep(1, theta=0.31, d=0.154)
    with pytest.raises(TypeError, match="w_plus.*WongWangExcInhStep"):
        nm.WongWangStep(1, w_plus=1.4)
    with pytest.raises(TypeError, match="J_NMDA, a_E.*WongWangExcInhStep"):
        nm.WongWangStep(1, a_E=310.0, J_NMDA=0.15)
    with pytest.raises(TypeError, match="theta is read once"):
        nm.WongWangStep(1, theta=0.31, a=nm.Param(270.0))
    # the reduced model's classes point the other way
    with pytest.raises(TypeError, match="mu_0 is a parameter of Wong & Wang's .*neuralmass.WongWangStep"):
        nm.WongWangExcInhStep(1, mu_0=30.0)
    with pytest.raises(nm.units.UnitMismatchError, match="theta"):
        nm.WongWangStep(1, theta=0.31 * u.mV)


# ---------------------------------------------------------------------------------- network
def test_network_couples_s1_into_the_current_of_population_one():
    """A Network of decision circuits sends S1 into I1_ext (k in nA per unit gating): the rate the
    engine reports is H of the total current, coupling k sum_j W_ij S1_j (previous step) included."""
    W = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]])
    k, dt = 0.05, 0.5
    net = nm.Network(nm.WongWangStep(3, S1_init=[0.3, 0.05, 0.1]), conn=W, coupling="linear", k=k)
    res = nm.Simulator(net, dt=dt).run(50.0, inputs={"coherence": 0.2}, monitors=["S1", "S2", "r1"])
    S1, S2, r1 = np.asarray(res["S1"], float), np.asarray(res["S2"], float), _hz(res["r1"])
    prev = np.vstack([[0.3, 0.05, 0.1], S1[:-1]])
    P = P0
    I1 = (P["J_N11"] * S1 - P["J_N12"] * S2 + P["J_A_ext"] * P["mu_0"] * 1.2 + P["I_0"] + k * prev @ W.T)
    np.testing.assert_allclose(r1, np.asarray(ww_rate(I1, P["a"], P["b"], P["d"])), rtol=1e-4)
    bare = nm.Simulator(nm.WongWangStep(3, S1_init=[0.3, 0.05, 0.1]), dt=dt).run(
        50.0, inputs={"coherence": 0.2}, monitors=["r1"])
    assert np.min(r1[1:] - _hz(bare["r1"])[1:]) > 0.1        # the coupling excites
