"""brainmass 0.1.1's keyword names on neuralmass's classes, its submodule paths, and the
Wilson–Cowan weight-name convention (issue 23).

Numbers come from tests/fixtures/brainmass_0_1_1.json (written with brainmass itself by
scripts/make_brainmass_fixture.py, keys ``keywords`` and ``modules``) or from closed forms.
"""

import importlib
import importlib.machinery
import json
import pathlib
import warnings

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.compat import coverage
from neuralmass.compat.modules import BRAINMASS_MODULES
from neuralmass.models import JANSEN_RIT, KeywordConventionWarning

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests" / "fixtures" / "brainmass_0_1_1.json").read_text())
KW = FIX["keywords"]
#: brainmass submodules that are neuralmass modules of their own (never aliased)
OWN_MODULES = {"datasets", "network", "noise", "objectives", "typing", "viz"}


def _mag(x):
    return np.asarray(u.get_magnitude(x))


# ------------------------------------------------------------------------------ submodule paths
def test_alias_table_is_brainmass_modules_all():
    """The table is brainmass's submodules (less neuralmass's own) with each one's __all__."""
    recorded = {m: tuple(names) for m, names in FIX["modules"].items() if m not in OWN_MODULES}
    assert BRAINMASS_MODULES == recorded
    kinds = {n for n, k in FIX["kinds"].items() if k == "module"}
    assert set(BRAINMASS_MODULES) | OWN_MODULES == kinds


@pytest.mark.parametrize("module", sorted(FIX["modules"]))
def test_submodule_exposes_brainmass_names_neuralmass_has(module):
    mod = importlib.import_module(f"neuralmass.{module}")
    assert getattr(nm, module) is mod
    have = [n for n in FIX["modules"][module] if hasattr(nm, n)]
    for name in have:
        assert getattr(mod, name) is getattr(nm, name), f"neuralmass.{module}.{name}"
    if module in BRAINMASS_MODULES:
        assert mod.__all__ == have
        ns = {}
        exec(f"from neuralmass.{module} import *", ns)
        assert {n for n in ns if not n.startswith("__")} == set(have)


def test_alias_modules_never_shadow_a_module_file():
    """The hook answers only where no module file exists (a file would win)."""
    for module in BRAINMASS_MODULES:
        assert importlib.machinery.PathFinder.find_spec(f"neuralmass.{module}", nm.__path__) is None


def test_alias_reports_absent_names():
    with pytest.raises(AttributeError, match="'hopf' module exports HopfStep"):
        nm.hopf.NotAName
    absent = [n for n in BRAINMASS_MODULES["horn"] if not hasattr(nm, n)]
    if absent:
        with pytest.raises(AttributeError, match="not provided by neuralmass"):
            getattr(nm.horn, absent[0])


def test_brainmass_module_path_snippet_runs():
    """``brainmass.hopf.HopfStep`` and ``from brainmass.wilson_cowan import ...`` (as neuralmass)."""
    import neuralmass as brainmass
    from neuralmass.coupling import additive_coupling
    from neuralmass.hopf import HopfStep

    node = brainmass.hopf.HopfStep(2, a=-0.5, w=0.2, init_x=0.4, init_y=0.0, method="rk2")
    assert isinstance(node, HopfStep)
    out = brainmass.simulator.Simulator(node, dt=0.01).run(4.0, monitors=["x", "y"])
    # radial equation dr/dt = r (a - beta r^2): r(t)^2 = a / (beta + (a / r0^2 - beta) exp(-2 a t))
    r = np.hypot(_mag(out["x"])[-1], _mag(out["y"])[-1])
    a, r0, t = -0.5, 0.4, 4.0
    np.testing.assert_allclose(r, np.sqrt(a / (1.0 + (a / r0 ** 2 - 1.0) * np.exp(-2 * a * t))), rtol=1e-3)
    case = FIX["couplings"][0]
    np.testing.assert_allclose(additive_coupling(*map(np.asarray, case["args"]), **case["kwargs"]),
                               case["out"], rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------ Wilson-Cowan weights
def _wc_drift(node, rE=0.3, rI=0.4):
    M = type(node).model
    state = {"rE": jnp.asarray([rE]), "rI": jnp.asarray([rI])}
    inputs = {k: jnp.zeros(()) for k in M.input_names}
    return M.drift(state, node.canonical_params, inputs)


def test_wilson_cowan_step_reads_brainmass_weight_names():
    """brainmass's wIE is inhibitory onto excitatory: raising it lowers drE/dt (rI > 0) and leaves
    drI/dt unchanged; its wEI (E onto I) raises drI/dt and leaves drE/dt unchanged."""
    with pytest.warns(KeywordConventionWarning, match="wIE is inhibitory onto excitatory"):
        lo, hi = nm.WilsonCowanStep(1, wIE=2.0), nm.WilsonCowanStep(1, wIE=8.0)
    d_lo, d_hi = _wc_drift(lo), _wc_drift(hi)
    assert float(d_hi["rE"][0]) < float(d_lo["rE"][0]) - 1e-3
    np.testing.assert_allclose(d_hi["rI"], d_lo["rI"], rtol=1e-12)
    with pytest.warns(KeywordConventionWarning):
        lo, hi = nm.WilsonCowanStep(1, wEI=5.0), nm.WilsonCowanStep(1, wEI=20.0)
    d_lo, d_hi = _wc_drift(lo), _wc_drift(hi)
    assert float(d_hi["rI"][0]) > float(d_lo["rI"][0]) + 1e-3
    np.testing.assert_allclose(d_hi["rE"], d_lo["rE"], rtol=1e-12)


def test_wilson_cowan_table_names_unchanged_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = nm.WilsonCowanModel(1, wEI=3.0, wIE=14.0)
        table = nm.WilsonCowanStep(1, wEI=3.0, wIE=14.0, table_names=True)
        nm.Network(nm.WilsonCowanModel(2, wEI=3.0), conn=np.zeros((2, 2)))
    assert model.param_values == table.param_values == {"wEI": 3.0, "wIE": 14.0}
    with pytest.warns(KeywordConventionWarning):
        step = nm.WilsonCowanStep(1, wIE=3.0, wEI=14.0)
    assert step.param_values == model.param_values


def test_wilson_cowan_warning_once_per_calling_line():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for _ in range(3):
            nm.WilsonCowanLinearStep(1, wIE=0.4)
    assert [w.category for w in seen] == [KeywordConventionWarning]
    assert seen[0].filename == __file__   # points at the caller, not at neuralmass or brainstate


def test_wilson_cowan_simplified_has_no_cross_weights():
    with pytest.raises(TypeError, match="'wEI'"):
        nm.WilsonCowanSimplifiedStep(1, wEI=1.0)


# ---------------------------------------------------------------------------------- Jansen-Rit
def test_jansen_rit_brainmass_keywords_drift():
    case = KW["JansenRitStep"]
    k = case["kwargs"]
    node = nm.JansenRitStep(4, Ae=k["Ae"] * u.mV, Ai=k["Ai"] * u.mV, be=k["be"] * u.Hz, bi=k["bi"] * u.Hz,
                            C=k["C"], s_max=k["s_max"] * u.Hz, v0=k["v0"] * u.mV, r=k["r"])
    state = {f"y{i}": jnp.asarray(p) for i, p in enumerate(case["points"])}
    M_inp, E_inp, I_inp = (jnp.asarray(v) for v in case["inputs"])
    inputs = {"M_inp": M_inp, "p": E_inp * 1e-3, "I_inp": I_inp}   # E_inp in Hz -> per ms
    d = JANSEN_RIT.drift(state, node.canonical_params, inputs)
    for i, ref in enumerate(case["derivative"]):
        np.testing.assert_allclose(d[f"y{i}"], ref, rtol=1e-5, atol=1e-8, err_msg=case["states"][i])


@pytest.mark.parametrize("method", ["exp_euler", "euler", "rk2"])
def test_jansen_rit_brainmass_keywords_run(method):
    case = KW["JansenRitStep"]
    k = case["kwargs"]
    init = case["init"]
    node = nm.JansenRitStep(1, method=method, Ae=k["Ae"] * u.mV, Ai=k["Ai"] * u.mV, be=k["be"] * u.Hz,
                            bi=k["bi"] * u.Hz, C=k["C"], s_max=k["s_max"] * u.Hz, v0=k["v0"] * u.mV, r=k["r"],
                            M_init=init["M"] * u.mV, E_init=lambda s: np.full(s, init["E"]) * u.mV,
                            I_init=init["I"] * u.mV, Mv_init=init["Mv"] * 1000.0 * u.mV / u.second)
    M_inp, E_inp, I_inp = case["run_inputs"]
    out = nm.Simulator(node, dt=case["dt_ms"]).run(
        case["n_steps"] * case["dt_ms"], monitors=["y0", "y1", "y2"], sample_every=case["record_every"],
        inputs={"M_inp": M_inp * u.mV, "p": E_inp * u.Hz, "I_inp": I_inp * u.mV})
    for i, s in enumerate("MEI"):
        np.testing.assert_allclose(_mag(out[f"y{i}"])[:, 0], case["runs"][method][s], rtol=2e-4, atol=2e-6,
                                   err_msg=f"{method} {s}")


def test_jansen_rit_noise_slots_are_the_sigmoid_inputs():
    """noise_M / noise_I drive the inputs M_inp / I_inp: a constant noise (sigma = 0) equals the
    constant input."""
    kw = dict(M_init=0.2, E_init=1.0)
    a = nm.Simulator(nm.JansenRitStep(1, noise_M=nm.WhiteNoise(1, mean=0.7, sigma=0.0),
                                      noise_I=nm.WhiteNoise(1, mean=-0.4, sigma=0.0), **kw),
                     dt=0.1).run(50.0, monitors=["eeg"], inputs={"p": 150.0})
    b = nm.Simulator(nm.JansenRitStep(1, **kw), dt=0.1).run(
        50.0, monitors=["eeg"], inputs={"p": 150.0, "M_inp": 0.7, "I_inp": -0.4})
    c = nm.Simulator(nm.JansenRitStep(1, **kw), dt=0.1).run(50.0, monitors=["eeg"], inputs={"p": 150.0})
    np.testing.assert_allclose(_mag(a["eeg"]), _mag(b["eeg"]), rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(_mag(a["eeg"]) - _mag(c["eeg"]))) > 1e-3


def test_jansen_rit_keyword_errors():
    with pytest.raises(ValueError, match="fr_scale"):
        nm.JansenRitStep(1, fr_scale=lambda r: 2.0 * r)
    nm.JansenRitStep(1, fr_scale=lambda r: r)   # the identity, brainmass's default
    with pytest.raises(TypeError, match="s_max"):
        nm.JansenRitStep(1, s_max=5.0, e0=2.5)


# ------------------------------------------------------------------------- Linear, Coombes-Byrne
def test_linear_gamma_run_matches_brainmass_and_closed_form():
    case = KW["LinearStep"]
    g, x0, c = case["kwargs"]["gamma"], case["init_x"], case["x_inp"]
    node = nm.LinearStep(1, gamma=g, init_x=x0, method="exp_euler")
    n = len(case["x"]) * case["record_every"]
    out = nm.Simulator(node, dt=case["dt_ms"]).run(n * case["dt_ms"], monitors=["x"], inputs={"x_ext": c},
                                                   sample_every=case["record_every"])
    got = _mag(out["x"])[:, 0]
    np.testing.assert_allclose(got, case["x"], rtol=1e-6)
    t = case["dt_ms"] * np.arange(case["record_every"], n + 1, case["record_every"])
    np.testing.assert_allclose(got, -c / g + (x0 + c / g) * np.exp(g * t), rtol=1e-6)


def test_linear_gamma_errors():
    with pytest.raises(ValueError, match="gamma=0.5 must be negative"):
        nm.LinearStep(1, gamma=0.5)
    with pytest.raises(TypeError, match="tau .* or gamma"):
        nm.LinearStep(1, gamma=-1.0, tau=2.0)


def test_coombes_byrne_lower_case_v():
    noise = nm.WhiteNoise(2, sigma=0.1)
    a = nm.CoombesByrneStep(2, init_v=-1.5, noise_v=noise)
    b = nm.CoombesByrneStep(2, V_init=-1.5)
    np.testing.assert_array_equal(a.init_values["V"], b.init_values["V"])
    assert a.noise_V is noise


# ------------------------------------------------------------------------------------- noise
def test_white_noise_mean_is_a_constant_input():
    """A leaky node driven by WhiteNoise(mean=m, sigma=0): x(t) = m tau (1 - exp(-t/tau))."""
    tau, m = 5.0, 0.3
    node = nm.LinearStep(1, tau=tau, noise_x=nm.GaussianNoise(1, mean=m, sigma=0.0))
    out = nm.Simulator(node, dt=0.05).run(20.0, monitors=["x"], sample_every=40)
    t = np.arange(1, 11) * 2.0
    np.testing.assert_allclose(_mag(out["x"])[:, 0], m * tau * (1.0 - np.exp(-t / tau)), rtol=1e-4)
    brainstate.random.seed(0)
    noise = nm.WhiteNoise(3, 0.25, 0.0)      # brainmass's positional order: in_size, mean, sigma
    with brainstate.environ.context(dt=0.1 * u.ms):
        np.testing.assert_allclose(noise.update(), 0.25)


def test_ou_init_relaxes_to_mean():
    """OUProcess(init=x0, sigma=0) relaxes exactly as mu + (x0 - mu) exp(-t/tau), stepped by hand
    and inside the engine (a leaky node driven by it: closed form of the convolution)."""
    mu, x0, tau_o = 1.0, 4.0, 2.0
    ou = nm.OUProcess(3, mean=mu, sigma=0.0, tau=tau_o, init=lambda s: np.full(s, x0))
    ou.init_state()
    with brainstate.environ.context(dt=0.1 * u.ms):
        for _ in range(10):
            got = ou.update()
    np.testing.assert_allclose(got, mu + (x0 - mu) * np.exp(-1.0 / tau_o), rtol=1e-6)
    tau, dt = 3.0, 0.005
    node = nm.LinearStep(1, tau=tau, noise_x=nm.OUProcess(1, mean=mu, sigma=0.0, tau=tau_o, init=x0))
    out = nm.Simulator(node, dt=dt).run(6.0, monitors=["x"], sample_every=200)
    t = np.arange(1, 7) * 1.0
    lam = 1.0 / tau - 1.0 / tau_o
    exact = mu * tau * (1 - np.exp(-t / tau)) + (x0 - mu) * (np.exp(-t / tau_o) - np.exp(-t / tau)) / lam
    np.testing.assert_allclose(_mag(out["x"])[:, 0], exact, rtol=2e-3)


# ---------------------------------------------------------------------------------- couplings
@pytest.mark.parametrize("name", sorted(KW["couplings"]["cases"]))
def test_coupling_classes_with_brainmass_keywords(name):
    data = KW["couplings"]
    case = data["cases"][name]
    x, W = np.asarray(data["x"]), np.asarray(data["conn"])
    got = getattr(nm, name)(x, W, **case["kwargs"])()
    np.testing.assert_allclose(got, case["out"], rtol=1e-6, atol=1e-9)


def test_coupling_keyword_errors():
    W = np.ones((2, 2))
    with pytest.raises(ValueError, match=r"AdditiveCoupling\(b=0.3\)"):
        nm.Network(nm.WilsonCowanModel(2), conn=W, coupling=nm.AdditiveCoupling(k=0.5, b=0.3))
    net = nm.Network(nm.WilsonCowanModel(2), conn=W, coupling=nm.AdditiveCoupling(k=0.5))
    assert net.coupling.kind == "linear"
    with pytest.raises(TypeError, match="cmin"):
        nm.SigmoidalCoupling(conn=W, b=0.1, cmin=0.0)
    with pytest.raises(ValueError, match="a=0"):
        nm.SigmoidalCoupling(conn=W, a=0.0, slope=2.0)
    with pytest.raises(TypeError, match="v0 or midpoint"):
        nm.SigmoidalJansenRitCoupling(conn=W, v0=6.0, midpoint=6.0)


# ------------------------------------------------------------------------------- Wong-Wang
def test_wong_wang_names_point_to_the_other_model():
    """WongWangStep is Wong & Wang's (2006) decision circuit (brainmass's meaning); the reduced
    E/I model (WongWangExcInhStep, WongWangModel) refuses the decision circuit's names and the
    decision circuit the reduced model's, each naming the other class."""
    assert nm.WongWangStep.model.name == "WongWangDecision"
    assert nm.WongWangExcInhStep.model is nm.WongWangModel.model
    with pytest.raises(TypeError, match=r"tau_S, J_N11 are parameters of Wong & Wang's \(2006\).*WongWangStep"):
        nm.WongWangModel(1, tau_S=100.0, J_N11=0.2609)
    with pytest.raises(TypeError, match="WongWangExcInhStep"):
        nm.WongWangStep(1, J_N=0.15, G=2.0)


def test_keyword_coverage_of_the_twelve_names():
    """Every name that existed without all of brainmass's keywords now takes them (the last
    were WongWangStep, now brainmass's decision model, and Fitter/FitResult, brainmass's call
    form of fitting)."""
    _, missing = coverage(FIX)
    partial = {n for n, bad in missing.items() if bad is not None}
    assert partial == set()
    assert not [n for n, bad in missing.items() if bad is None and FIX["kinds"][n] == "module"]
