"""Fixed points and linear stability (neuralmass.analysis.stability), and every docstring claim
that a model's fixed point is stable or unstable, checked twice: by the Jacobian's eigenvalues
and by a simulation started slightly off the point (along the leading eigenvector), which must
return to a stable point and leave an unstable one. A simulation started *exactly* at a fixed
point stays there whether it is stable or not, so that alone proves nothing (issue 25, item 9).
Analytic references: Strogatz (2015), Nonlinear Dynamics and Chaos, ch. 5-8; Kuznetsov (1998),
Elements of Applied Bifurcation Theory, ch. 3."""

import math
import warnings

import numpy as np
import pytest

import neuralmass as nm
from neuralmass.analysis import classify, fixed_point, jacobian, linear_stability
from neuralmass.models import MODELS, feedback_inhibition_control
from neuralmass.models.fitzhugh_nagumo import fhn_hopf_currents


def _mag(x):
    return np.asarray(getattr(x, "mantissa", x), dtype=float)


def _off_start(model, fp, params=None, inputs=None, eps=1e-3, duration=200.0, dt=0.01, absolute=False):
    """Start ``eps`` off the fixed point ``fp`` along the real part of the leading eigenvector,
    run (RK4), and return the Euclidean distance from the point at every sample divided by the
    initial one: 1 at t = 0, -> 0 when the point attracts, >> 1 when it repels (``absolute``: the
    distance itself)."""
    m = MODELS[model] if isinstance(model, str) else model
    ev, vecs = np.linalg.eig(fp.jacobian)
    v = vecs[:, np.argmax(ev.real)]
    d = np.real(v) + np.imag(v)
    d = d / np.abs(d).max()
    init = {k: fp.state[k] + eps * d[i] for i, k in enumerate(m.state_names)}
    res = nm.Simulator(nm.NodeSystem(m, 1, params or {}, init=init), dt=dt, method="rk4").run(
        duration, monitors=list(m.state_names), period=dt * 10, inputs=inputs)
    dist = np.sqrt(np.sum([(_mag(res[k])[:, 0] - fp.state[k][0]) ** 2 for k in m.state_names], axis=0))
    return dist if absolute else dist / (eps * np.linalg.norm(d))


# ------------------------------------------------------------------------------ the tool itself
def test_classify_names_every_case():
    """Strogatz (2015), §5.2 and §6.3: the signs of the real parts (and a complex pair) name the
    point; a zero real part (within tol) leaves it undecided."""
    assert classify([-1.0, -2.0]) == "stable node"
    assert classify([-0.1 + 1j, -0.1 - 1j]) == "stable focus"
    assert classify([1.0, -2.0]) == "saddle"
    assert classify([0.5 + 2j, 0.5 - 2j, -1.0]) == "saddle"       # a saddle-focus
    assert classify([1.0, 2.0]) == "unstable node"
    assert classify([0.1 + 1j, 0.1 - 1j]) == "unstable focus"
    assert classify([1e-12 + 1j, 1e-12 - 1j]) == "non-hyperbolic"
    assert classify([1e-6, -1.0], tol=1e-5) == "non-hyperbolic"
    with pytest.raises(ValueError, match="eigenvalues"):
        classify([np.nan, -1.0])


@pytest.mark.parametrize("name,freq", [("Hopf", "omega"), ("StuartLandau", "w")])
def test_hopf_normal_form_origin_has_eigenvalues_a_plus_minus_i_omega(name, freq):
    """Kuznetsov (1998), §3.4: the normal form's Jacobian at the origin is [[a, -w], [w, a]], so
    lambda = a +- i w: for a < 0 a stable focus whose small perturbations decay as e^{a t}
    (the docstrings' "damped/stable focus"), for a > 0 an unstable focus left for the limit cycle
    of radius sqrt(a)."""
    for a in (-0.05, 0.05):
        p = {"a": a, freq: 0.3}
        fp = fixed_point(name, guess={"x": 0.01, "y": -0.02}, params=p)
        np.testing.assert_allclose(np.concatenate([fp.state["x"], fp.state["y"]]), 0.0, atol=1e-12)
        np.testing.assert_allclose(sorted(fp.eigenvalues, key=lambda z: z.imag), [a - 0.3j, a + 0.3j],
                                   atol=1e-7)                       # float32-held parameters
        assert fp.kind == ("stable focus" if a < 0 else "unstable focus")
        if a < 0:
            rel = _off_start(name, fp, p, duration=100.0, dt=0.05)
            assert rel[-1] == pytest.approx(math.exp(a * 100.0), rel=2e-3)   # e^{aT}, linear regime
        else:
            dist = _off_start(name, fp, p, duration=300.0, dt=0.05, absolute=True)
            assert dist[0] < 2e-3 and dist[-1] == pytest.approx(math.sqrt(a), rel=1e-3)   # on the cycle


def test_linear_network_jacobian_is_minus_identity_over_tau_plus_coupling():
    """For leaky linear nodes (dx/dt = -x/tau + k sum_j w_ij x_j) the network Jacobian is
    -I/tau + k W (linear coupling) or -I/tau + k (W - diag(W 1)) (diffusive), the network's own
    coupling included; with a constant input u the fixed point is x* = (I/tau - kW)^{-1} u."""
    rng = np.random.default_rng(0)
    n, tau, k = 5, 10.0, 0.02
    W = rng.uniform(0.0, 1.0, (n, n))
    np.fill_diagonal(W, 0.0)
    lin = nm.Network(nm.LinearStep(n, tau=tau), conn=W, coupling="linear", k=k)
    dif = nm.Network(nm.LinearStep(n, tau=tau), conn=W, coupling="diffusive", k=k)
    x = {"x": rng.standard_normal(n)}
    np.testing.assert_allclose(jacobian(lin, x), -np.eye(n) / tau + k * W, atol=1e-8)
    np.testing.assert_allclose(jacobian(dif, x), -np.eye(n) / tau + k * (W - np.diag(W.sum(1))), atol=1e-8)
    # network-level parameters are overridden like the simulator's
    np.testing.assert_allclose(jacobian(lin, x, params={"k": 2 * k}), -np.eye(n) / tau + 2 * k * W, atol=1e-8)
    u_in = rng.uniform(0.0, 0.1, n)
    fp = fixed_point(lin, guess={"x": np.zeros(n)}, inputs={"x_ext": u_in})
    np.testing.assert_allclose(fp.state["x"], np.linalg.solve(np.eye(n) / tau - k * W, u_in), rtol=1e-6)
    assert fp.max_real == pytest.approx(np.linalg.eigvals(-np.eye(n) / tau + k * W).real.max(), abs=1e-8)
    assert fp.stable
    # k above 1 / (tau * rho(W)) makes the origin unstable
    k_c = 1.0 / (tau * np.abs(np.linalg.eigvals(W)).max())
    assert not linear_stability(lin, {"x": np.zeros(n)}, params={"k": 1.1 * k_c}).stable
    assert linear_stability(lin, {"x": np.zeros(n)}, params={"k": 0.9 * k_c}).stable


def test_bad_input_is_refused_with_the_fix():
    W = np.ones((3, 3)) - np.eye(3)
    delayed = nm.Network(nm.LinearStep(3), conn=W, distance=10 * W, speed=1.0)
    with pytest.raises(ValueError, match="conduction delays.*speed=None"):
        jacobian(delayed, {"x": np.zeros(3)})
    with pytest.raises(ValueError, match=r"model='Hopff'.*Hopf"):
        linear_stability("Hopff", {"x": 0.0, "y": 0.0})
    with pytest.raises(ValueError, match=r"state lacks \['y'\]"):
        jacobian("Hopf", {"x": 0.0})
    with pytest.raises(ValueError, match="no fixed point of Kuramoto.*another guess"):
        fixed_point("Kuramoto")                  # dtheta/dt = omega != 0: there is none


# ------------------------------------------------------------------------------ the models' claims
def test_fitzhugh_nagumo_loses_stability_at_the_closed_form_hopf_currents():
    """models/fitzhugh_nagumo.py: the fixed point's Jacobian has trace 1 - v*^2 - eps b (per ms,
    tau = 1), zero at the closed-form Hopf currents (0.331, 1.419); it is stable outside them and
    an unstable focus between (the unit fires)."""
    lo, hi = fhn_hopf_currents()
    for I, want in ((lo - 1e-3, True), (lo + 1e-3, False), (hi - 1e-3, False), (hi + 1e-3, True)):
        fp = fixed_point("FitzHughNagumo", params={"I": I})
        assert fp.stable is want, (I, fp.kind)
        v = float(fp.state["v"][0])
        assert np.trace(fp.jacobian) == pytest.approx(1 - v * v - 0.08 * 0.8, abs=1e-12)
        assert fp.eigenvalues.real.sum() == pytest.approx(np.trace(fp.jacobian), abs=1e-12)
    assert fixed_point("FitzHughNagumo", params={"I": lo}).kind == "non-hyperbolic"
    below = fixed_point("FitzHughNagumo", params={"I": lo - 0.05})
    inside = fixed_point("FitzHughNagumo", params={"I": 0.5})
    assert below.kind == "stable focus" and inside.kind == "unstable focus"
    assert _off_start("FitzHughNagumo", below, {"I": lo - 0.05}, duration=600.0, dt=0.05)[-1] < 0.05
    assert _off_start("FitzHughNagumo", inside, {"I": 0.5}, duration=600.0, dt=0.05)[-300:].max() > 500


def test_van_der_pol_origin_is_unstable_for_every_mu():
    """models/van_der_pol.py (a unique stable limit cycle for mu > 0): the origin's Jacobian
    [[mu, -mu], [1/mu, 0]] has lambda^2 - mu lambda + 1 = 0 — an unstable focus for mu < 2, an
    unstable node above; a start 1e-3 off it grows to the cycle (amplitude ~2)."""
    for mu, kind in ((0.5, "unstable focus"), (3.0, "unstable node")):
        s = linear_stability("VanDerPol", {"x": 0.0, "y": 0.0}, params={"mu": mu})
        np.testing.assert_allclose(np.sort_complex(s.eigenvalues), np.sort_complex(np.roots([1, -mu, 1])),
                                   atol=1e-7)
        assert s.kind == kind
    fp = fixed_point("VanDerPol", params={"mu": 0.5})
    assert _off_start("VanDerPol", fp, {"mu": 0.5}, duration=300.0, dt=0.05)[-600:].max() > 500


def test_lorenz_fixed_points_lose_stability_at_rho_h():
    """models/lorenz.py: C+- = (+-sqrt(beta(rho-1)), +-sqrt(beta(rho-1)), rho-1) lose stability at
    rho_H = sigma(sigma+beta+3)/(sigma-beta-1) = 24.74 (Strogatz 2015, §9.2): their eigenvalues
    solve lambda^3 + (sigma+beta+1) lambda^2 + beta(sigma+rho) lambda + 2 beta sigma (rho-1) = 0;
    the origin is a saddle for rho > 1 (eigenvalues -beta and the roots of
    lambda^2 + (sigma+1) lambda - sigma(rho-1))."""
    sig, beta = 10.0, 8.0 / 3.0
    rho_h = sig * (sig + beta + 3) / (sig - beta - 1)
    assert rho_h == pytest.approx(24.74, abs=5e-3)
    for rho, stable in ((rho_h - 0.3, True), (rho_h + 0.3, False), (28.0, False)):
        c = math.sqrt(beta * (rho - 1))
        fp = fixed_point("Lorenz", guess={"x": c + 0.5, "y": c - 0.3, "z": rho}, params={"rho": rho})
        np.testing.assert_allclose([fp.state[k][0] for k in "xyz"], [c, c, rho - 1], rtol=1e-9)
        want = np.roots([1, sig + beta + 1, beta * (sig + rho), 2 * beta * sig * (rho - 1)])
        np.testing.assert_allclose(np.sort_complex(fp.eigenvalues), np.sort_complex(want), atol=1e-5)
        assert fp.stable is stable and fp.kind == ("stable focus" if stable else "saddle")
    origin = linear_stability("Lorenz", {"x": 0.0, "y": 0.0, "z": 0.0}, params={"rho": 28.0})
    want = np.concatenate([[-beta], np.roots([1, sig + 1, -sig * 27.0])])
    np.testing.assert_allclose(np.sort_complex(origin.eigenvalues), np.sort_complex(want), atol=1e-5)
    assert origin.kind == "saddle"
    c = math.sqrt(beta * 19.0)
    fp20 = fixed_point("Lorenz", guess={"x": c, "y": c, "z": 19.0}, params={"rho": 20.0})
    assert _off_start("Lorenz", fp20, {"rho": 20.0}, eps=1e-2, duration=60.0, dt=0.005)[-1] < 0.01


def test_montbrio_two_stable_states_and_a_saddle_between():
    """models/montbrio.py (Montbrió et al. 2015, Fig. 2, Delta = 1, J = 15, eta = -5): a low-rate
    stable node and a high-rate stable focus, separated by a saddle (the threshold a pulse must
    cross); all three solve V = -Delta/(2 pi r)."""
    low = fixed_point("MontbrioPazoRoxin", guess={"r": 0.05, "V": -2.0})
    mid = fixed_point("MontbrioPazoRoxin", guess={"r": 0.3, "V": -0.5})
    high = fixed_point("MontbrioPazoRoxin", guess={"r": 1.0, "V": -0.1})
    assert (low.kind, mid.kind, high.kind) == ("stable node", "saddle", "stable focus")
    r = [float(fp.state["r"][0]) for fp in (low, mid, high)]
    assert r[0] < r[1] < r[2]
    for fp in (low, mid, high):
        assert fp.state["V"][0] == pytest.approx(-1.0 / (2 * math.pi * fp.state["r"][0]), rel=1e-9)
    assert _off_start("MontbrioPazoRoxin", low, duration=20.0)[-1] < 0.01
    assert _off_start("MontbrioPazoRoxin", high, duration=40.0)[-1] < 0.01
    assert _off_start("MontbrioPazoRoxin", mid, duration=20.0)[-1] > 100


def test_wilson_cowan_fixed_points_and_the_1972_oscillatory_set():
    """models/wilson_cowan.py: at the defaults every fixed point is a stable node (real
    eigenvalues); at I_E = 0 a low and a high one coexist, separated by a saddle. With Wilson &
    Cowan's (1972) oscillatory set the fixed point is an unstable focus at I_E = 1.2-1.8 (inside
    the limit cycle) and a stable focus at 2.3."""
    inp = {"rE_inp": 0.0}
    pts = [fixed_point("WilsonCowan", guess={"rE": e, "rI": i}, inputs=inp)
           for e, i in ((0.0, 0.0), (0.2, 0.1), (0.5, 0.3))]
    assert [p.kind for p in pts] == ["stable node", "saddle", "stable node"]
    assert pts[0].state["rE"][0] < 1e-9 < pts[1].state["rE"][0] < pts[2].state["rE"][0]
    for I, e in ((-1.0, 0.0), (1.0, 0.5), (3.5, 0.5)):
        assert fixed_point("WilsonCowan", guess={"rE": e, "rI": e / 2}, inputs={"rE_inp": I}).kind == "stable node"
    assert _off_start("WilsonCowan", pts[1], inputs=inp, duration=30.0)[-1] > 100
    assert _off_start("WilsonCowan", pts[2], inputs=inp, duration=30.0)[-1] < 0.01
    wc72 = dict(wEE=16.0, wEI=12.0, wIE=15.0, wII=3.0, a_E=1.3, theta_E=4.0, a_I=2.0, theta_I=3.7)
    guess = {"rE": 0.25, "rI": 0.2}
    for I, kind in ((1.2, "unstable focus"), (1.5, "unstable focus"), (1.8, "unstable focus"),
                    (2.3, "stable focus")):
        assert fixed_point("WilsonCowan", guess, wc72, {"rE_inp": I}).kind == kind
    fp = fixed_point("WilsonCowan", guess, wc72, {"rE_inp": 1.5})
    assert _off_start("WilsonCowan", fp, wc72, {"rE_inp": 1.5}, duration=100.0)[-500:].max() > 50


@pytest.mark.parametrize("name,params,inputs,guess,stable,duration", [
    # models/jansen_rit.py: "a stable fixed point for low input (p = 90 Hz)"
    ("JansenRit", {}, {"p": 90.0}, None, True, 400.0),
    # models/generic_2d.py: a = -2 excitable (a stable fixed point), a = 2 a limit cycle
    ("Generic2dOscillator", {"a": -2.0}, None, None, True, 400.0),
    ("Generic2dOscillator", {"a": 2.0}, None, None, False, 6000.0),
    # models/coombes_byrne.py: alpha = 0.95 oscillates; a large alpha settles to a focus
    ("CoombesByrne", {"alpha": 0.95}, None, None, False, 100.0),
    ("CoombesByrne", {"alpha": 50.0}, None, None, True, 30.0),
    # models/larter_breakspear.py: a fixed point for small delta_V, oscillations above ~0.516
    ("LarterBreakspear", {"d_V": 0.50}, None, None, True, 400.0),
    ("LarterBreakspear", {"d_V": 0.53}, None, None, False, 400.0),
    ("LarterBreakspear", {}, None, None, False, 200.0),
    # models/fitzhugh_nagumo_cubic.py: rests at the origin for I_V = 0
    ("FitzHughNagumoCubic", {}, None, None, True, 150.0),
    # models/wilson_cowan_linear.py: the origin is a stable fixed point without input
    ("WilsonCowanLinear", {}, None, None, True, 20.0),
    # models/wong_wang.py: an isolated node settles at H_E ~ 3 Hz
    ("WongWang", {}, None, None, True, 1500.0),
    # models/epileptor.py: the 2D Epileptor rests below x0_c ~ -2.06
    ("Epileptor2D", {"x0": -2.2}, None, {"x1": -1.5, "z": 3.0}, True, None),
])
def test_docstring_claims_of_stable_and_unstable_fixed_points(name, params, inputs, guess, stable, duration):
    """Each model docstring's claim that its fixed point is stable (a start slightly off returns)
    or unstable (a start slightly off leaves: the node oscillates instead of resting)."""
    fp = fixed_point(name, guess, params, inputs)
    assert fp.stable is stable, fp.kind
    assert fp.kind != "non-hyperbolic"
    if duration is None:                     # too slow to simulate here; test_zoo.py simulates it
        return
    rel = _off_start(name, fp, params, inputs, eps=1e-2, duration=duration, dt=0.01 if duration < 500 else 0.05)
    if stable:
        assert rel[-1] < 0.05, rel[-1]      # durations are >= 9 e-folds of the slowest mode
    else:
        # leaves: near a supercritical Hopf point (Larter-Breakspear at 0.53) the cycle is small
        assert rel[len(rel) // 2:].max() > 3, rel.max()


def test_wong_wang_is_a_stable_node_at_3_hz():
    """models/wong_wang.py: with the published defaults an isolated node settles at H_E ~ 3 Hz."""
    fp = fixed_point("WongWang")
    assert fp.kind == "stable node"
    m = MODELS["WongWang"]
    H = float(np.asarray(m.read("H_E", fp.state, m.default_params()))[0])
    assert H == pytest.approx(3.0, abs=0.1)


def test_fic_fixed_point_returns_or_leaves_as_its_eigenvalues_say():
    """models/wong_wang_fic.py: the FIC point on the bundled HCP connectome is stable at G = 0.5
    and unstable at G = 0.7. The Network's own Jacobian (analysis.jacobian, coupling from
    network.coupling) gives the largest real part the FIC warning reports, and an 80-region
    simulation started 1e-4 off the point along the leading eigenvector follows e^{lambda t}
    (compensated float32 updates: plain float32 stalls there, issue 25 item 9):
    it shrinks at G = 0.5 and grows at G = 0.7 (staying there would prove nothing)."""
    W = np.asarray(nm.datasets.load_dataset("hcp", bold=False).weights)
    T, eps = 2000.0, 1e-4
    for k in (0.5, 0.7):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            J, st = feedback_inhibition_control(W, k=k, return_state=True)
        net = nm.Network(nm.WongWangModel(80, J_i=J), conn=W, coupling="linear", k=k)
        fp = fixed_point(net, guess={"S_E": st["S_E"], "S_I": st["S_I"]})
        # FIC's point, shifted by the network's float32-held parameters
        np.testing.assert_allclose(fp.state["S_E"], st["S_E"], rtol=2e-5)
        assert fp.max_real == pytest.approx(st["max_real_eig"], rel=2e-3)
        assert fp.stable is (k == 0.5)
        ev, vecs = np.linalg.eig(fp.jacobian)
        v = np.real(vecs[:, np.argmax(ev.real)])
        v = v / np.abs(v).max()
        node = nm.WongWangModel(80, J_i=J, S_E_init=fp.state["S_E"] + eps * v[:80],
                                S_I_init=fp.state["S_I"] + eps * v[80:])
        # compensated: in plain float32 the S_E change per step (~1e-9) is below half an ulp
        res = nm.Simulator(nm.Network(node, conn=W, coupling="linear", k=k), dt=0.1, compensated=True).run(
            T, monitors=["S_E"], period=10.0)
        dev = np.linalg.norm(_mag(res["S_E"]) - fp.state["S_E"], axis=1) / (eps * np.linalg.norm(v[:80]))
        assert dev[-1] == pytest.approx(math.exp(fp.max_real * T), rel=0.3), (k, dev[-1])
