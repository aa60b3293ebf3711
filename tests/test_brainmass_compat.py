"""brainmass 0.1.1 compatibility: names, keyword names, drifts and short runs against a fixture.

tests/fixtures/brainmass_0_1_1.json is written by scripts/make_brainmass_fixture.py with
brainmass itself (in its own environment); brainmass is never imported here.
"""

import json
import pathlib
import re

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.compat import BRAINMASS_NAMES, coverage, fixture_keywords, provided
from neuralmass.models import (FITZHUGH_NAGUMO_CUBIC, HOPF, LORENZ, MONTBRIO_PAZO_ROXIN, STUART_LANDAU,
                               THRESHOLD_LINEAR, VAN_DER_POL, WONG_WANG)

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests" / "fixtures" / "brainmass_0_1_1.json").read_text())
DOC = (ROOT / "docs" / "brainmass.md").read_text()


def _keywords(name):
    return fixture_keywords(FIX, name)


def _coverage():
    return coverage(FIX)


# ------------------------------------------------------------------------------------ names
def test_fixture_is_brainmass_0_1_1():
    assert FIX["brainmass_version"] == "0.1.1"
    assert FIX["names"] == sorted(FIX["names"]) and len(FIX["names"]) > 100


def test_claimed_names_exist_with_brainmass_keywords():
    for name in BRAINMASS_NAMES:
        assert name in FIX["names"], f"{name} is not a brainmass 0.1.1 name"
        have, bad = provided(name, _keywords(name))
        assert have, f"neuralmass.{name} is missing"
        assert not bad, f"neuralmass.{name} does not take brainmass's keywords {bad}"


def test_docs_list_exactly_the_missing_names():
    """docs/brainmass.md lists every fixture name that is not provided with brainmass's keywords
    (regenerate the list with scripts/update_brainmass_docs.py)."""
    ok, missing = _coverage()
    block = DOC.split("<!-- missing-names:start -->")[1].split("<!-- missing-names:end -->")[0]
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", block))
    assert listed == set(missing), (sorted(listed - set(missing)), sorted(set(missing) - listed))
    m = re.search(r"provides (\d+) of the (\d+) public names", DOC)
    assert m and int(m.group(1)) == len(ok) and int(m.group(2)) == len(FIX["names"])
    assert set(BRAINMASS_NAMES) <= set(ok)


def test_hopf_keyword_spellings():
    h = nm.HopfStep(2, w=0.2, beta=2.0, init_x=0.3, init_y=lambda shape: jnp.full(shape, -0.1))
    P = h.canonical_params
    assert float(P["omega"]) == pytest.approx(0.2) and float(P["beta"]) == pytest.approx(2.0)
    brainstate.nn.init_all_states(h)
    np.testing.assert_allclose(h.x.value, [0.3, 0.3])
    np.testing.assert_allclose(h.y.value, [-0.1, -0.1])
    with pytest.raises(TypeError, match="same parameter"):
        nm.HopfStep(1, w=0.2, omega=0.3)


def test_brainstate_param_values_are_accepted():
    h = nm.HopfStep(1, a=brainstate.nn.Param(0.3), w=brainstate.nn.Param(0.5))
    assert float(h.canonical_params["a"]) == pytest.approx(0.3)
    f = nm.FitzHughNagumoStep(1, tau=brainstate.nn.Param(10.0 * u.ms), alpha=2.0)
    assert float(f.canonical_params["tau"]) == pytest.approx(10.0)


def test_fitzhugh_nagumo_dispatch():
    assert type(nm.FitzHughNagumoStep(2)).__name__ == "FitzHughNagumoStep"        # classic form
    f = nm.FitzHughNagumoStep(2, init_V=0.02, alpha=3.0)
    assert isinstance(f, nm.FitzHughNagumoCubicStep)
    assert f.init_values["V"].shape == ()


def test_montbrio_delta_in_hz_and_init_r():
    with pytest.warns(UserWarning, match="Delta = delta"):
        m = nm.MontbrioPazoRoxinStep(1, delta=1.0 * u.Hz, tau=2.0 * u.ms, init_r=20.0 * u.Hz)
    assert float(m.canonical_params["Delta"]) == pytest.approx(0.002)      # 0.001 /ms * 2 ms
    assert float(m.init_values["r"]) == pytest.approx(0.02)                # 20 Hz = 0.02 /ms


def test_simulator_jit_false_and_sample_every():
    node = nm.HopfStep(1, w=0.2, method="exp_euler", x_init=0.1, y_init=0.0)
    a = nm.Simulator(node, dt=0.05).run(2.0, sample_every=4)
    b = nm.Simulator(node, dt=0.05).run(2.0, sample_every=4, jit=False)
    assert a["x"].shape == (10, 1)
    np.testing.assert_allclose(np.asarray(a["x"]), np.asarray(b["x"]), rtol=1e-6)
    with pytest.raises(TypeError, match="not both"):
        nm.Simulator(node, dt=0.05).run(2.0, sample_every=4, period=0.2)


def test_exp_euler_is_exact_for_a_leaky_unit():
    tau, dt, x0 = 10.0, 1.0, 1.0
    r = nm.Simulator(nm.LinearStep(1, tau=tau, method="exp_euler", x_init=x0), dt=dt).run(50.0)
    np.testing.assert_allclose(np.asarray(r["x"])[:, 0], x0 * np.exp(-np.arange(1, 51) * dt / tau), rtol=1e-5)


def test_rk2_is_heun():
    a = nm.Simulator(nm.VanDerPolStep(1, method="rk2", x_init=0.5), dt=0.05).run(5.0)
    b = nm.Simulator(nm.VanDerPolStep(1, method="heun", x_init=0.5), dt=0.05).run(5.0)
    np.testing.assert_array_equal(np.asarray(a["x"]), np.asarray(b["x"]))


# ------------------------------------------------------------------------- drifts and runs
def _ours(label):
    """(model, module kwargs, to-ours conversion of states/inputs, from-ours conversion of drift)."""
    case = FIX["models"][label]
    kw = dict(case["kwargs"])
    cls = case["class"]
    if cls == "MontbrioPazoRoxinStep":
        # brainmass: r in Hz, delta in Hz, r input added to dr/dt (Hz/ms), v input to dv/dt * tau
        kw = {"tau": kw["tau"], "eta": kw["eta"], "J": kw["J"], "Delta": kw["delta"] * 1e-3 * kw["tau"]}
        names = {"r": "r", "v": "V"}
        state_in = {"r": 1e-3, "v": 1.0}
        inputs = ("r_noise", 1e-3), ("I_ext", 1.0)
        return MONTBRIO_PAZO_ROXIN, nm.MontbrioPazoRoxinStep, kw, names, state_in, inputs
    if cls.startswith("WilsonCowan"):
        # the ...Step classes read brainmass's wIE/wEI (source-target) as brainmass does (with a
        # KeywordConventionWarning); the tables name them target-source
        names = {"rE": "rE", "rI": "rI"}
        return (getattr(nm, cls).model, getattr(nm, cls), kw, names, {s: 1.0 for s in names},
                (("rE_inp", 1.0), ("rI_inp", 1.0)))
    if cls == "WongWangExcInhStep":
        # brainmass's (TVB's) names are taken as they are; its coupling input is our S_E_ext
        names = {"S_e": "S_E", "S_i": "S_I"}
        return WONG_WANG, nm.WongWangExcInhStep, kw, names, {s: 1.0 for s in names}, (("S_E_ext", 1.0),)
    model, mod = {"HopfStep": (HOPF, nm.HopfStep), "StuartLandauStep": (STUART_LANDAU, nm.StuartLandauStep),
                  "VanDerPolStep": (VAN_DER_POL, nm.VanDerPolStep),
                  "FitzHughNagumoStep": (FITZHUGH_NAGUMO_CUBIC, nm.FitzHughNagumoCubicStep),
                  "ThresholdLinearStep": (THRESHOLD_LINEAR, nm.ThresholdLinearStep),
                  "LorenzStep": (LORENZ, nm.LorenzStep)}[cls]
    names = {s: s for s in case["states"]}
    scale = {s: 1.0 for s in case["states"]}
    inputs = tuple((n, 1.0) for n in model.extra["positional_inputs"])
    return model, mod, kw, names, scale, inputs


DRIFT_CASES = [k for k, v in FIX["models"].items() if v["derivative"] is not None]


@pytest.mark.parametrize("label", DRIFT_CASES)
def test_drift_matches_brainmass(label):
    case = FIX["models"][label]
    model, mod, kw, names, scale, inputs = _ours(label)
    node = mod(len(case["points"][0]), **kw)
    state = {names[s]: jnp.asarray(p) * scale[s] for s, p in zip(case["states"], case["points"])}
    inp = {n: jnp.zeros(()) for n in model.input_names}
    for (name, f), vals in zip(inputs, case["inputs"]):
        inp[name] = jnp.asarray(vals) * f
    d = model.drift(state, node.canonical_params, inp)
    for s, ref in zip(case["states"], case["derivative"]):
        np.testing.assert_allclose(np.asarray(d[names[s]]) / scale[s], ref, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{label} d{s}/dt")


RUN_CASES = [(k, m) for k, v in FIX["models"].items() for m in v["runs"]]


@pytest.mark.parametrize("label,method", RUN_CASES)
def test_noise_free_run_matches_brainmass(label, method):
    case = FIX["models"][label]
    run = case["runs"][method]
    model, mod, kw, names, scale, inputs = _ours(label)
    init = {f"{names[s]}_init": v * scale[s] for s, v in zip(case["states"], case["init"])}
    node = mod(1, method=method, **kw, **init)
    ext = {name: f * v for (name, f), v in zip(inputs, run["inputs"])}
    out = nm.Simulator(node, dt=case["dt_ms"]).run(case["n_steps"] * case["dt_ms"], inputs=ext,
                                                    monitors=[names[s] for s in case["states"]],
                                                    sample_every=case["record_every"])
    for s in case["states"]:
        got = np.asarray(u.get_magnitude(out[names[s]]))[:, 0] / scale[s]
        if label == "ThresholdLinearStep" and s == "I":
            continue  # brainmass 0.1.1 has the wrong sign; see test_threshold_linear_brainmass_sign
        np.testing.assert_allclose(got, run[s], rtol=2e-4, atol=2e-5, err_msg=f"{label} {method} {s}")


def test_threshold_linear_brainmass_sign():
    """brainmass 0.1.1 integrates tau_I dI/dt = +I - beta_I [I_inp]+ (a growing mode); ours relaxes."""
    case = FIX["models"]["ThresholdLinearStep"]
    run = case["runs"]["exp_euler"]
    dt, tau, beta = case["dt_ms"], 10.0, 0.351
    target = beta * max(run["inputs"][1], 0.0)
    k = np.arange(case["record_every"], case["n_steps"] + 1, case["record_every"])
    wrong = target + (case["init"][1] - target) * np.exp(+k * dt / tau)
    np.testing.assert_allclose(run["I"], np.maximum(wrong, 0.0), rtol=1e-6)
    node = nm.ThresholdLinearStep(1, E_init=case["init"][0], I_init=case["init"][1], method="exp_euler")
    out = nm.Simulator(node, dt=dt).run(200.0, inputs={"E_inp": 1.0, "I_inp": run["inputs"][1]},
                                        monitors=["I"])
    assert float(u.get_magnitude(out["I"])[-1, 0]) == pytest.approx(target, rel=1e-3)


# ------------------------------------------------------------------------ behaviour of new models
def test_stuart_landau_equals_hopf_with_unit_saturation():
    rng = np.random.default_rng(0)
    st = {"x": jnp.asarray(rng.normal(size=5)), "y": jnp.asarray(rng.normal(size=5))}
    inp = {"x_ext": jnp.asarray(rng.normal(size=5)), "y_ext": jnp.asarray(rng.normal(size=5))}
    a, w = 0.3, 0.7
    d1 = STUART_LANDAU.drift(st, {"a": a, "w": w}, inp)
    d2 = HOPF.drift(st, {"a": a, "omega": w, "beta": 1.0}, inp)
    for k in st:
        np.testing.assert_allclose(np.asarray(d1[k]), np.asarray(d2[k]), rtol=1e-6)


def test_stuart_landau_radius_is_sqrt_a():
    a = 0.16
    node = nm.StuartLandauStep(1, a=a, w=0.2, x_init=0.01, y_init=0.0)
    out = nm.Simulator(node, dt=0.05).run(200.0, monitors=["x", "y"], transient=150.0)
    r = np.hypot(np.asarray(out["x"]), np.asarray(out["y"]))
    np.testing.assert_allclose(r, np.sqrt(a), rtol=1e-3)


def test_van_der_pol_amplitude_is_two_for_small_mu():
    node = nm.VanDerPolStep(1, mu=0.2, x_init=0.1, y_init=0.0)
    out = nm.Simulator(node, dt=0.02).run(300.0, monitors=["x"], transient=260.0)
    assert float(np.max(np.abs(np.asarray(out["x"])))) == pytest.approx(2.0, abs=0.02)


def test_threshold_linear_steady_state():
    node = nm.ThresholdLinearStep(2)
    out = nm.Simulator(node, dt=0.1).run(300.0, inputs={"E_inp": jnp.asarray([50.0, -10.0])}, monitors=["E"])
    np.testing.assert_allclose(np.asarray(u.get_magnitude(out["E"]))[-1], [0.066 * 50.0, 0.0], atol=1e-4)


def test_cli_lists_the_new_models(capsys):
    from neuralmass.cli import main

    assert main(["models"]) == 0
    text = capsys.readouterr().out
    for name in ("StuartLandau", "VanDerPol", "ThresholdLinear", "FitzHughNagumoCubic", "Lorenz"):
        assert name in text


def test_lorenz_fixed_points_and_volume_contraction():
    """C+- = (+-sqrt(beta(rho-1)), +-sqrt(beta(rho-1)), rho-1) are equilibria; div f = -(sigma+1+beta)."""
    import jax

    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0
    P = {"sigma": sigma, "rho": rho, "beta": beta}
    c = np.sqrt(beta * (rho - 1.0))
    for sgn in (1.0, -1.0):
        st = {"x": jnp.asarray(sgn * c), "y": jnp.asarray(sgn * c), "z": jnp.asarray(rho - 1.0)}
        d = LORENZ.drift(st, P, {"x_ext": 0.0})
        assert max(abs(float(v)) for v in d.values()) < 1e-4

    def f(v):
        d = LORENZ.drift({"x": v[0], "y": v[1], "z": v[2]}, P, {"x_ext": 0.0})
        return jnp.stack([d["x"], d["y"], d["z"]])

    J = jax.jacfwd(f)(jnp.asarray([3.0, -2.0, 17.0]))
    assert float(jnp.trace(J)) == pytest.approx(-(sigma + 1.0 + beta), rel=1e-6)


def test_wong_wang_exc_inh_takes_tvb_names_and_units():
    m = nm.WongWangExcInhStep(1, gamma_e=0.641 / 1000, gamma_i=1.0 / 1000, J_N=0.2, I_o=0.3, init_S_e=0.2)
    P = m.canonical_params
    assert float(P["gamma_E"]) == pytest.approx(0.641) and float(P["gamma_I"]) == pytest.approx(1.0)
    assert (float(P["J_NMDA"]), float(P["I_0"]), float(m.init_values["S_E"])) == pytest.approx((0.2, 0.3, 0.2))
    with pytest.raises(TypeError, match="not both"):
        nm.WongWangExcInhStep(1, gamma_e=0.000641, gamma_E=0.641)


def test_wilson_cowan_linear_fixed_point_is_the_linear_solve():
    """Below saturation and with positive currents the threshold-linear variant relaxes to the
    solution of (I - W') r = I_ext for r = 0 (no refractoriness): W' = [[wEE, -wEI], [wIE, -wII]]."""
    node = nm.WilsonCowanLinearStep(1, r=0.0)
    out = nm.Simulator(node, dt=0.05).run(80.0, inputs={"rE_inp": 0.2, "rI_inp": 0.05}, monitors=["rE", "rI"])
    W = np.array([[0.8, -0.3], [1.0, -0.85]])
    expect = np.linalg.solve(np.eye(2) - W, [0.2, 0.05])
    got = [float(np.asarray(out["rE"])[-1, 0]), float(np.asarray(out["rI"])[-1, 0])]
    np.testing.assert_allclose(got, expect, rtol=1e-4)
