"""The Wilson–Cowan variants of brainmass 0.1.1 (adaptation, divisive normalisation, delays inside
the node, three populations): brainmass's numbers from the committed fixture
(``wilson_cowan_variants``, written by scripts/make_brainmass_fixture.py) and the behaviour of each
model against closed forms and SciPy."""

import json
import pathlib

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq, root

import neuralmass as nm
from neuralmass.compat import BRAINMASS_NAMES, coverage
from neuralmass.engine.simulator import SimulationDiverged
from neuralmass.models import (WILSON_COWAN_DELAYED, WILSON_COWAN_THREE_POPULATION, WilsonCowanThreePopBase)
from neuralmass.models.wilson_cowan_three_population import (wilson_cowan_three_pop_family,
                                                             wilson_cowan_three_population_drift)

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests" / "fixtures" / "brainmass_0_1_1.json").read_text())
CASES = FIX["wilson_cowan_variants"]
NAMES = ("WilsonCowanAdaptiveStep", "WilsonCowanDelayedStep", "WilsonCowanDivisiveStep",
         "WilsonCowanDivisiveInputStep", "WilsonCowanThreePopBase", "WilsonCowanThreePopulationStep")
INPUTS = ("rE_inp", "rI_inp", "rM_inp")


def F(x, a, theta):
    """Wilson–Cowan's sigmoid, written out here (independent of the package's)."""
    return 1.0 / (1.0 + np.exp(-a * (x - theta))) - 1.0 / (1.0 + np.exp(a * theta))


def _last(out, name):
    return float(np.asarray(u.get_magnitude(out[name]))[-1, 0])


# ------------------------------------------------------------------------------- brainmass names
def test_names_are_provided_with_brainmass_keywords():
    ok, _ = coverage(FIX)
    assert set(NAMES) <= set(ok)
    assert set(NAMES) <= set(BRAINMASS_NAMES)


# ------------------------------------------------------------------ brainmass's drifts and runs
@pytest.mark.parametrize("label", [k for k, v in CASES.items() if v["derivative"] is not None])
def test_drift_matches_brainmass(label):
    case = CASES[label]
    node = getattr(nm, case["class"])(len(case["points"][0]), **case["kwargs"])
    model = node.model
    state = {s: jnp.asarray(p) for s, p in zip(case["states"], case["points"])}
    inp = {n: jnp.zeros(()) for n in model.input_names}
    inp.update({n: jnp.asarray(v) for n, v in zip(INPUTS, case["inputs"])})
    d = model.drift(state, node.canonical_params, inp)
    for s, ref in zip(case["states"], case["derivative"]):
        np.testing.assert_allclose(np.asarray(d[s]), ref, rtol=1e-5, atol=1e-7, err_msg=f"{label} d{s}/dt")


@pytest.mark.parametrize("label,method", [(k, m) for k, v in CASES.items() for m in v["runs"]])
def test_noise_free_run_matches_brainmass(label, method):
    """200 steps of 0.05 ms from brainmass's own update, delays inside the node included."""
    case = CASES[label]
    run = case["runs"][method]
    init = {f"{s}_init": v for s, v in zip(case["states"], case["init"])}
    node = getattr(nm, case["class"])(1, method=method, **case["kwargs"], **init)
    out = nm.Simulator(node, dt=case["dt_ms"]).run(case["n_steps"] * case["dt_ms"],
                                                    inputs=dict(zip(INPUTS, run["inputs"])),
                                                    monitors=list(case["states"]),
                                                    sample_every=case["record_every"])
    for s in case["states"]:
        np.testing.assert_allclose(np.asarray(out[s])[:, 0], run[s], rtol=2e-4, atol=2e-5,
                                   err_msg=f"{label} {method} {s}")


# ------------------------------------------------------------------------------------ adaptation
def _wc_fixed_point(wEE, wEI, wIE, wII, IE, II, r=1.0, aE=1.2, thE=2.8, aI=1.0, thI=4.0, x0=(0.1, 0.05)):
    def f(v):
        rE, rI = v
        return [-rE + (1 - r * rE) * F(wEE * rE - wEI * rI + IE, aE, thE),
                -rI + (1 - r * rI) * F(wIE * rE - wII * rI + II, aI, thI)]
    sol = root(f, x0, tol=1e-12)
    assert sol.success
    return sol.x


def test_adaptation_lowers_the_steady_rate_by_the_analytic_amount():
    """At rest a_j = b_j r_j, so the fixed point is Wilson–Cowan's with wEE - b_E and wII + b_I
    (solved here by SciPy); adaptation of this strength lowers r_E by a tenth."""
    b_E, b_I, IE, II = 2.0, 1.0, 1.0, 0.5
    node = nm.WilsonCowanAdaptiveStep(1, b_E=b_E, b_I=b_I, tau_aE=20.0, tau_aI=15.0, method="rk4")
    out = nm.Simulator(node, dt=0.05).run(600.0, inputs={"rE_inp": IE, "rI_inp": II},
                                          monitors=["rE", "rI", "aE", "aI"])
    rE, rI = _wc_fixed_point(12.0 - b_E, 13.0, 4.0, 11.0 + b_I, IE, II, x0=(0.4, 0.05))
    # float32 runs: the slow currents settle to a few 1e-5
    assert (_last(out, "rE"), _last(out, "rI")) == pytest.approx((rE, rI), rel=1e-4)
    assert (_last(out, "aE"), _last(out, "aI")) == pytest.approx((b_E * rE, b_I * rI), rel=1e-4)
    rE0, _ = _wc_fixed_point(12.0, 13.0, 4.0, 11.0, IE, II, x0=(0.4, 0.05))
    assert rE0 - rE > 0.01      # a visible effect (3 %), far above the tolerance


def test_adaptation_current_relaxes_with_its_time_constant():
    """With the rates held (r_j fixed by freezing their drift: tau huge), a_E(t) = b r (1 - e^{-t/tau_a})."""
    node = nm.WilsonCowanAdaptiveStep(1, tau_E=1e9, tau_I=1e9, rE_init=0.4, rI_init=0.1, b_E=0.5,
                                      tau_aE=30.0, method="exp_euler")
    out = nm.Simulator(node, dt=0.5).run(60.0, monitors=["aE"])
    t = np.arange(1, 121) * 0.5
    np.testing.assert_allclose(np.asarray(out["aE"])[:, 0], 0.5 * 0.4 * (1 - np.exp(-t / 30.0)), rtol=2e-5)


# ------------------------------------------------------------------------------ divisive variants
@pytest.mark.parametrize("cls", ["WilsonCowanDivisiveStep", "WilsonCowanDivisiveInputStep"])
def test_divisive_fixed_point_matches_scipy(cls):
    p = dict(wEE=6.0, wEI=6.5, wIE=2.0, wII=5.5, sE=0.7, sI=1.3, r=1.0)
    IE, II = 3.0, 2.5

    def f(v):
        rE, rI = v
        if cls == "WilsonCowanDivisiveStep":
            gE, xE = (1 - p["r"] * rE) / (p["sE"] + p["wEI"] * rI), p["wEE"] * rE + IE
            gI, xI = (1 - p["r"] * rI) / (p["sI"] + p["wII"] * rI), p["wIE"] * rE + II
        else:
            gE, xE = 1 - p["r"] * rE, p["wEE"] * rE / (p["sE"] + p["wEI"] * rI) + IE
            gI, xI = 1 - p["r"] * rI, p["wIE"] * rE / (p["sI"] + p["wII"] * rI) + II
        return [-rE + gE * F(xE, 1.2, 2.8), -rI + gI * F(xI, 1.0, 4.0)]

    expect = root(f, (0.3, 0.1), tol=1e-12).x
    node = getattr(nm, cls)(1, sigma_E=p["sE"], sigma_I=p["sI"])
    out = nm.Simulator(node, dt=0.05).run(100.0, inputs={"rE_inp": IE, "rI_inp": II}, monitors=["rE", "rI"])
    np.testing.assert_allclose([_last(out, "rE"), _last(out, "rI")], expect, rtol=1e-5)
    assert np.abs(f(expect)).max() < 1e-10 and expect[1] > 0.05    # inhibition active


def test_divisive_gain_is_one_over_sigma_without_inhibition():
    """With no inhibition the divisive gain model is Wilson–Cowan's with F scaled by 1/sigma_E:
    its rest r_E solves r = (1 - r) F(w r + I) / sigma (brentq)."""
    sig, IE = 2.0, 4.0
    node = nm.WilsonCowanDivisiveStep(1, sigma_E=sig, wEI=0.0, wEE=3.0)
    out = nm.Simulator(node, dt=0.05).run(60.0, inputs={"rE_inp": IE}, monitors=["rE"])
    expect = brentq(lambda r: -r + (1 - r) * F(3.0 * r + IE, 1.2, 2.8) / sig, 0.0, 1.0, xtol=1e-14)
    assert _last(out, "rE") == pytest.approx(expect, rel=1e-5)


# ----------------------------------------------------------------------------- delays in the node
def test_zero_delays_are_the_wilson_cowan_model():
    """With Euler steps (the delayed rates are held over a step, as brainmass does) zero delays
    read the current state: the Wilson–Cowan model step for step."""
    kw = dict(wEE=11.0, wEI=12.0, wIE=5.0, wII=10.0, rE_init=0.1, rI_init=0.05, method="euler")
    a = nm.Simulator(nm.WilsonCowanDelayedStep(1, delay_EE=0.0, delay_IE=0.0, delay_EI=0.0, delay_II=0.0, **kw),
                     dt=0.05).run(30.0, inputs={"rE_inp": 1.5, "rI_inp": 0.5}, monitors=["rE", "rI"])
    b = nm.Simulator(nm.WilsonCowanStep(1, table_names=True, **kw), dt=0.05).run(30.0, inputs={"rE_inp": 1.5, "rI_inp": 0.5},
                                                               monitors=["rE", "rI"])
    for s in ("rE", "rI"):
        np.testing.assert_allclose(np.asarray(a[s]), np.asarray(b[s]), rtol=1e-6, atol=1e-7)


def test_recurrent_drive_arrives_after_the_delay():
    """E alone (no I, r = 0), starting at rest with a constant input: until d_EE its recurrent
    input is the history (zero), so r_E(t) = F(I)(1 - e^{-t/tau}) exactly (exponential Euler);
    after d_EE the recurrent excitation adds to it."""
    d, IE = 3.0, 3.0
    node = nm.WilsonCowanDelayedStep(1, wEE=12.0, wEI=0.0, wIE=0.0, r=0.0, delay_EE=d, method="exp_euler")
    out = nm.Simulator(node, dt=0.05).run(6.0, inputs={"rE_inp": IE}, monitors=["rE"])
    t = np.arange(1, 121) * 0.05
    rE = np.asarray(out["rE"])[:, 0]
    free = F(IE, 1.2, 2.8) * (1 - np.exp(-t))
    before = t <= d + 0.05 + 1e-9                       # the step starting at t = d still reads 0
    np.testing.assert_allclose(rE[before], free[before], rtol=1e-5)
    assert rE[-1] > free[-1] + 0.05


def _inhibitory_loop(d, r0, wII=30.0, II=8.0, T=300.0, dt=0.005):
    """The I population alone (no E), its own inhibition delayed by d: the last 40 ms."""
    node = nm.WilsonCowanDelayedStep(1, wEE=0.0, wEI=0.0, wIE=0.0, wII=wII, r=0.0, delay_II=d, rI_init=r0)
    out = nm.Simulator(node, dt=dt).run(T, inputs={"rI_inp": II}, monitors=["rI"])
    return np.asarray(out["rI"])[-int(40.0 / dt):, 0]


def test_delayed_inhibition_oscillates_past_the_hopf_delay():
    """A one-variable ODE cannot oscillate; with its inhibition delayed it can. Linearised at the
    rest r*, tau x' = -x - g x(t - d) with g = wII F'(x*) > 1 loses stability at
    d_c = tau arccos(-1/g) / sqrt(g^2 - 1) (Hopf); just past it the oscillation's period is that of
    the root lambda of lambda + 1 + g e^{-lambda d} = 0 (solved by SciPy)."""
    wII, II, a, th, dt = 30.0, 8.0, 1.0, 4.0, 0.005
    rstar = brentq(lambda r: -r + F(II - wII * r, a, th), 0.0, 1.0, xtol=1e-14)
    s = 1.0 / (1.0 + np.exp(-a * (II - wII * rstar - th)))
    g = wII * a * s * (1 - s)
    d_c = np.arccos(-1.0 / g) / np.sqrt(g * g - 1.0)
    assert d_c == pytest.approx(0.3827, abs=1e-3)
    below = _inhibitory_loop(0.9 * d_c, rstar + 0.01)
    assert np.ptp(below) < 1e-4 and np.mean(below) == pytest.approx(rstar, rel=1e-3)
    d = round(1.03 * d_c / dt) * dt                        # the delay the node uses (whole steps)

    def char(v):
        z = complex(*v) + 1.0 + g * np.exp(-complex(*v) * d)
        return [z.real, z.imag]

    lam = root(char, [0.0, np.sqrt(g * g - 1.0)], tol=1e-12).x
    assert lam[0] > 0                                        # unstable: the rest gives way
    above = _inhibitory_loop(d, rstar + 0.01)
    assert np.ptp(above) > 0.02
    x = above - above.mean()
    ups = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    assert np.mean(np.diff(ups)) * dt == pytest.approx(2 * np.pi / lam[1], rel=0.03)


def test_stepping_the_module_by_hand_equals_the_simulator():
    kw = dict(wEE=11.0, wEI=12.0, wIE=5.0, delay_EE=0.4, delay_IE=0.25, delay_EI=0.3, delay_II=0.15,
              rE_init=0.1, rI_init=0.05, method="heun")
    sim = nm.Simulator(nm.WilsonCowanDelayedStep(1, **kw), dt=0.05).run(5.0, inputs={"rE_inp": 1.5},
                                                                       monitors=["rE"])
    node = nm.WilsonCowanDelayedStep(1, **kw)
    with brainstate.environ.context(dt=0.05 * u.ms):
        brainstate.nn.init_all_states(node)
        rE = brainstate.transform.for_loop(lambda i: node.update(rE_inp=1.5), np.arange(100))
    np.testing.assert_allclose(np.asarray(rE)[:, 0], np.asarray(sim["rE"])[:, 0], rtol=1e-5)
    # states initialised at the default dt (0.1 ms) hold too short a history for steps of 0.01 ms
    brainstate.nn.init_all_states(node)
    with brainstate.environ.context(dt=0.01 * u.ms), pytest.raises(ValueError, match="same brainstate.environ"):
        node.update(rE_inp=1.5)


def test_delayed_nodes_in_a_network():
    """Two uncoupled regions of a Network (k = 0) are two delayed nodes run on their own."""
    kw = dict(delay_EE=0.4, delay_EI=0.3, rE_init=0.1, rI_init=0.05)
    net = nm.Network(nm.WilsonCowanDelayedStep(2, **kw), conn=np.array([[0.0, 1.0], [1.0, 0.0]]),
                     coupling="linear", k=0.0)
    a = nm.Simulator(net, dt=0.05).run(10.0, inputs={"rE_inp": 1.5}, monitors=["rE"])
    b = nm.Simulator(nm.WilsonCowanDelayedStep(1, **kw), dt=0.05).run(10.0, inputs={"rE_inp": 1.5},
                                                                      monitors=["rE"])
    np.testing.assert_allclose(np.asarray(a["rE"])[:, 0], np.asarray(b["rE"])[:, 0], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(a["rE"])[:, 1], np.asarray(b["rE"])[:, 0], rtol=1e-5)


def test_per_node_delays():
    """Delays may differ between nodes: node j of a population equals a single node with its delay."""
    d = np.array([0.2, 0.9])
    a = nm.Simulator(nm.WilsonCowanDelayedStep(2, delay_EI=d, rE_init=0.2), dt=0.05).run(
        8.0, inputs={"rE_inp": 1.5}, monitors=["rE"])
    for j in range(2):
        b = nm.Simulator(nm.WilsonCowanDelayedStep(1, delay_EI=float(d[j]), rE_init=0.2), dt=0.05).run(
            8.0, inputs={"rE_inp": 1.5}, monitors=["rE"])
        np.testing.assert_allclose(np.asarray(a["rE"])[:, j], np.asarray(b["rE"])[:, 0], rtol=1e-5)


def test_a_run_override_may_shorten_a_delay():
    kw = dict(rE_init=0.2, delay_II=0.5)
    a = nm.Simulator(nm.WilsonCowanDelayedStep(1, delay_EI=1.0, **kw), dt=0.05).run(
        6.0, inputs={"rE_inp": 1.5}, monitors=["rE"], params={"delay_EI": 0.3})
    b = nm.Simulator(nm.WilsonCowanDelayedStep(1, delay_EI=0.3, **kw), dt=0.05).run(
        6.0, inputs={"rE_inp": 1.5}, monitors=["rE"])
    np.testing.assert_allclose(np.asarray(a["rE"]), np.asarray(b["rE"]), rtol=1e-6)


def test_delay_errors_name_the_parameter():
    from _surfaces import hemisphere_mapping, icosphere

    from neuralmass.surface import Surface, SurfaceNetwork

    v, t = icosphere(1)
    with pytest.raises(ValueError, match="SurfaceNetwork does not keep"):
        SurfaceNetwork(nm.WilsonCowanDelayedStep(1), np.zeros((4, 4)), Surface(v, t, hemisphere_mapping(v, 4)))
    with pytest.raises(ValueError, match="delay_EI"):
        nm.Simulator(nm.WilsonCowanDelayedStep(1, delay_EI=-1.0), dt=0.05).run(1.0)
    with pytest.raises(SimulationDiverged, match="delay_II=5 ms is longer"):
        nm.Simulator(nm.WilsonCowanDelayedStep(1), dt=0.05).run(10.0, params={"delay_II": 5.0})
    assert "node_delays" in WILSON_COWAN_DELAYED.extra


# --------------------------------------------------------------------------- three populations
def test_three_population_fixed_point_matches_scipy():
    P = {p.name: p.default for p in WILSON_COWAN_THREE_POPULATION.params}
    I = (1.0, 0.5, 0.3)

    def f(v):
        rE, rI, rM = v
        x = [P["wEE"] * rE - P["wEI"] * rI + P["wEM"] * rM + I[0],
             P["wIE"] * rE - P["wII"] * rI + P["wIM"] * rM + I[1],
             P["wME"] * rE - P["wMI"] * rI + P["wMM"] * rM + I[2]]
        ab = [(P["a_E"], P["theta_E"]), (P["a_I"], P["theta_I"]), (P["a_M"], P["theta_M"])]
        return [-r + (1 - P["r"] * r) * F(xx, a, th) for r, xx, (a, th) in zip(v, x, ab)]

    node = nm.WilsonCowanThreePopulationStep(1)
    out = nm.Simulator(node, dt=0.05).run(100.0, inputs=dict(zip(INPUTS, I)), monitors=["rE", "rI", "rM"])
    got = [_last(out, s) for s in ("rE", "rI", "rM")]
    expect = root(f, got, tol=1e-12).x
    assert np.abs(f(expect)).max() < 1e-10
    np.testing.assert_allclose(got, expect, rtol=1e-5)
    assert expect[2] > 0.1                                  # the modulatory population is active


def test_three_population_without_m_coupling_is_wilson_cowan():
    kw = dict(wEE=11.0, wEI=12.0, wIE=5.0, wII=10.0, rE_init=0.1, rI_init=0.05)
    a = nm.Simulator(nm.WilsonCowanThreePopulationStep(1, wEM=0.0, wIM=0.0, **kw), dt=0.05).run(
        20.0, inputs={"rE_inp": 1.5, "rM_inp": 2.0}, monitors=["rE", "rI", "rM"])
    b = nm.Simulator(nm.WilsonCowanStep(1, table_names=True, **kw), dt=0.05).run(20.0, inputs={"rE_inp": 1.5}, monitors=["rE", "rI"])
    for s in ("rE", "rI"):
        np.testing.assert_allclose(np.asarray(a[s]), np.asarray(b[s]), rtol=1e-6, atol=1e-7)
    assert _last(a, "rM") > 0.05


def test_three_pop_base_is_the_base_class():
    node = nm.WilsonCowanThreePopulationStep(2, noise_M=nm.OUProcess(2, sigma=0.01))
    assert isinstance(node, WilsonCowanThreePopBase) and nm.WilsonCowanThreePopBase is WilsonCowanThreePopBase
    with pytest.raises(TypeError, match="WilsonCowanThreePopulationStep"):
        nm.WilsonCowanThreePopBase(1)

    # a variant: the same populations with a stronger modulatory drive, as a subclass
    def drift(state, params, inputs):
        return wilson_cowan_three_population_drift(state, {**params, "wEM": 2.0 * params["wEM"]}, inputs)

    table = wilson_cowan_three_pop_family("DoubleM", "test variant", WILSON_COWAN_THREE_POPULATION.params,
                                          drift, "test")

    class DoubleMStep(WilsonCowanThreePopBase):
        model = table

    a = nm.Simulator(DoubleMStep(1, rM_init=0.3), dt=0.05).run(5.0, monitors=["rE"])
    b = nm.Simulator(nm.WilsonCowanThreePopulationStep(1, wEM=8.0, rM_init=0.3), dt=0.05).run(5.0, monitors=["rE"])
    np.testing.assert_allclose(np.asarray(a["rE"]), np.asarray(b["rE"]), rtol=1e-6)
