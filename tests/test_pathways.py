"""Several coupled sums per network (pathways) and observables that depend on a node's inputs."""

import math

import brainunit as u
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.engine import lane_keys

W = np.array([[0.0, 0.6, 0.2],
              [0.5, 0.0, 0.4],
              [0.3, 0.7, 0.0]])
LAGS = np.array([[0, 7, 12],       # delays in steps of DT
                 [5, 0, 9],
                 [11, 4, 0]])
DT = 0.01                          # ms
R0 = np.array([0.3, 0.5, 1.2])
V0 = np.array([-1.0, -0.6, -0.2])
CR, CV = 0.8, 0.6                  # strengths of the r and V sums


def _mpr_reference(steps, k_r=CR, k_v=CV, Delta=1.0, J=15.0, eta=-5.0, tau=1.0):
    """Independent NumPy Euler integration of 3 Montbrió–Pazó–Roxin nodes (Montbrió et al. 2015,
    Eq. 12, with TVB's two coupling terms): r enters dV/dt through a linear delayed sum,
    V through a diffusive one; the history before t = 0 is the initial state."""
    r_hist, v_hist = [R0.copy()], [V0.copy()]
    n = len(R0)
    out = []
    for i in range(steps):
        r, v = r_hist[-1], v_hist[-1]
        r_del = np.array([[r_hist[max(i - LAGS[a, b], 0)][b] for b in range(n)] for a in range(n)])
        v_del = np.array([[v_hist[max(i - LAGS[a, b], 0)][b] for b in range(n)] for a in range(n)])
        r_ext = k_r * np.sum(W * r_del, axis=1)
        v_ext = k_v * np.sum(W * (v_del - v[:, None]), axis=1)
        dr = (Delta / (math.pi * tau) + 2 * v * r) / tau
        dv = (v * v - (math.pi * tau * r) ** 2 + eta + J * tau * r + r_ext + v_ext) / tau
        r_hist.append(r + DT * dr)
        v_hist.append(v + DT * dv)
        out.append((r_hist[-1], v_hist[-1]))
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


def _mpr_network(node=None, **kw):
    node = node or nm.MontbrioPazoRoxinStep(3, cv=1.0, r_init=R0, V_init=V0, method="euler")
    args = dict(conn=W, delays=LAGS * DT, coupled_var={"r_ext": "r", "V_ext": "V"},
                coupling={"r_ext": "linear", "V_ext": "diffusive"},
                coupling_input={"r_ext": CR, "V_ext": CV})
    args.update(kw)
    return nm.Network(node, **args)


def test_mpr_couples_r_and_v_through_two_different_delayed_sums():
    """TVB's MPR network: c_r * sum_j w_ij r_j(t - tau_ij) and c_v * sum_j w_ij (V_j(t - tau_ij) - V_i)
    — two sums with their own delays read from one delay line — against a NumPy reference."""
    net = _mpr_network()
    assert [pw.name for pw in net.pathways] == ["r", "V"]
    res = nm.Simulator(net, dt=DT, method="euler").run(1.0, monitors=["r", "V"], key=0)
    r_ref, v_ref = _mpr_reference(100)
    np.testing.assert_allclose(np.asarray(res["r"]), r_ref, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(res["V"]), v_ref, rtol=2e-5, atol=1e-6)
    # without the V pathway the potentials are coupled through r only: a different trajectory
    one = nm.Simulator(_mpr_network(coupled_var="r", coupling="linear", coupling_input={"r_ext": CR}),
                       dt=DT, method="euler").run(1.0, monitors=["V"], key=0)
    r_only, v_only = _mpr_reference(100, k_v=0.0)
    np.testing.assert_allclose(np.asarray(one["V"]), v_only, rtol=2e-5, atol=1e-6)
    assert np.max(np.abs(v_only - v_ref)) > 1e-3


def test_batched_pathway_strengths_equal_single_runs_with_noise():
    """A batch over one pathway's strength runs the shared delay line once for all lanes (sources
    and lanes stacked behind the time axis); each lane equals its own single run."""
    node = nm.MontbrioPazoRoxinStep(3, cv=1.0, r_init=R0, V_init=V0,
                                    noise_V=nm.WhiteNoise(3, sigma=0.05))
    net = _mpr_network(node=node)
    sim = nm.Simulator(net, dt=DT)
    keys = lane_keys(4, 2)
    kv = np.array([0.0, 0.9])
    both = np.asarray(sim.run(2.0, monitors=["V"], key=keys, params={"k_V_ext": kv})["V"])
    for b in range(2):
        one = np.asarray(sim.run(2.0, monitors=["V"], key=keys[b], params={"k_V_ext": kv[b]})["V"])
        np.testing.assert_allclose(both[b], one, rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(both[0] - both[1])) > 1e-3


def test_traced_speed_with_two_pathways_equals_linear_static_delays():
    """The traced-speed line interpolates linearly, like delay_mode='linear' at a fixed speed."""
    L = np.array([[0.0, 0.33, 0.51], [0.27, 0.0, 0.45], [0.6, 0.19, 0.0]])   # mm
    common = dict(delays=None, distance=L)
    static = _mpr_network(speed=5.0, delay_mode="linear", **common)
    traced = _mpr_network(speed=5.0, speed_range=(1.0, 20.0), **common)
    a = np.asarray(nm.Simulator(static, dt=DT, method="euler").run(1.0, monitors=["V"], key=0)["V"])
    b = nm.Simulator(traced, dt=DT, method="euler").run(1.0, monitors=["V"], key=0,
                                                         params={"speed": np.array([5.0, 2.0])})
    b = np.asarray(b["V"])
    np.testing.assert_allclose(b[0], a, rtol=1e-4, atol=1e-5)
    assert np.max(np.abs(b[1] - a)) > 1e-4


def test_pathway_arguments_are_checked():
    node = nm.MontbrioPazoRoxinStep(3)
    with pytest.raises(ValueError, match="coupling_input=\\{input: strength\\}"):
        nm.Network(node, conn=W, coupled_var={"r_ext": "r", "V_ext": "V"}, k=1.0)
    with pytest.raises(ValueError, match="same inputs"):
        nm.Network(node, conn=W, coupled_var={"r_ext": "r", "V_ext": "V"}, coupling_input={"r_ext": 1.0})
    with pytest.raises(KeyError, match="no input 'q_ext'"):
        nm.Network(node, conn=W, coupled_var={"q_ext": "r"}, coupling_input={"q_ext": 1.0})
    with pytest.raises(ValueError, match="a kind for each"):
        nm.Network(node, conn=W, coupled_var={"r_ext": "r", "V_ext": "V"},
                   coupling={"r_ext": "linear"}, coupling_input={"r_ext": 1.0, "V_ext": 1.0})
    with pytest.raises(ValueError, match="history=\\{'r'"):
        nm.Network(node, conn=W, delays=LAGS * DT, coupled_var={"r_ext": "r", "V_ext": "V"},
                   coupling_input={"r_ext": 1.0, "V_ext": 1.0}, history=0.0)
    with pytest.raises(ValueError, match="mix a complex source"):
        nm.Network(nm.KuramotoStep(3), conn=W, delays=LAGS * DT,
                   coupled_var={"theta_ext": "theta", "sin_ext": "sin_theta"},
                   coupling={"theta_ext": "kuramoto", "sin_ext": "linear"},
                   coupling_input={"theta_ext": 1.0, "sin_ext": 1.0})
    ww = nm.WongWangExcInhStep(3)
    with pytest.raises(ValueError, match="depends on the node's inputs"):
        nm.Network(ww, conn=W, coupled_var="H_E")


# ------------------------------------------------------------------ input-dependent observables
def test_wong_wang_rates_in_a_network_include_coupling_and_stimulus():
    """H_E is the transfer function of the *total* current (Deco et al. 2014, Eq. 1-3): recurrent,
    long-range (J_NMDA * G * sum_j C_ij S_E_j) and stimulus. The engine reports it with the inputs
    of the step that produced the state; recompute it from the recorded gating variables."""
    from neuralmass.models.wong_wang import ww_rate

    G, I_stim, dt = 0.9, 0.05, 0.1
    net = nm.Network(nm.WongWangExcInhStep(3), conn=W, coupling="linear", k=G)
    sim = nm.Simulator(net, dt=dt)
    res = sim.run(20.0, monitors=["S_E", "S_I", "H_E"], inputs={"I_E_ext": I_stim}, key=0)
    S_E, S_I = (np.asarray(res[k], dtype=float) for k in ("S_E", "S_I"))
    H_E = np.asarray(res["H_E"].to_decimal(u.Hz))
    p = nm.models.wong_wang.WONG_WANG.default_params()
    p = {k: float(v) for k, v in p.items()}
    prev = np.vstack([np.full(3, 0.164), S_E[:-1]])          # S_E at the previous step
    I_E = (p["W_E"] * p["I_0"] + p["w_plus"] * p["J_NMDA"] * S_E + p["J_NMDA"] * G * prev @ W.T
           - p["J_i"] * S_I + I_stim)
    want = np.asarray(ww_rate(I_E, p["a_E"], p["b_E"], p["d_E"]))
    np.testing.assert_allclose(H_E, want, rtol=1e-4)
    # the coupling and the stimulus matter: the rate of the bare node is clearly lower
    bare = np.asarray(ww_rate(I_E - p["J_NMDA"] * G * prev @ W.T - I_stim, p["a_E"], p["b_E"], p["d_E"]))
    assert np.min(H_E - bare) > 1.0
    # the callable-monitor view reads the same values
    lam = sim.run(20.0, monitors=lambda m: m.node.H_E.value, inputs={"I_E_ext": I_stim}, key=0)
    np.testing.assert_allclose(np.asarray(u.get_magnitude(lam["output"])), H_E, rtol=1e-6)


# ------------------------------------------------------------------ study configs (TOML)
_MPR_TOML = """
[model]
name = "MontbrioPazoRoxin"
params = { cv = "1.0" }
[network]
coupled_var = { r_ext = "r", V_ext = "V" }
coupling = { r_ext = "linear", V_ext = "diffusive" }
coupling_input = { r_ext = 0.5, V_ext = "0.1" }
delays = false
"""


def test_study_config_builds_a_two_sum_network(tmp_path):
    from neuralmass.config import load_config
    from neuralmass.studies.resting_state import network_from_config

    path = tmp_path / "mpr.toml"
    path.write_text(_MPR_TOML)
    cfg = load_config(path)
    net = network_from_config(cfg, W, nm.MontbrioPazoRoxinStep(3, cv=1.0))
    assert [(pw.name, type(pw.coupling).__name__, [i for i, _ in pw.strengths]) for pw in net.pathways] == [
        ("r", "LinearCoupling", ["r_ext"]), ("V", "DiffusiveCoupling", ["V_ext"])]
    p = nm.Simulator(net, dt=0.01).params()
    assert float(p["k_r_ext"]) == 0.5 and float(p["k_V_ext"]) == pytest.approx(0.1)


@pytest.mark.parametrize("network, match", [
    ({"coupled_var": {"r_ext": "r", "Q_ext": "V"}, "coupling_input": {"r_ext": 1.0, "Q_ext": 1.0}},
     "no input 'Q_ext'"),
    ({"coupled_var": {"r_ext": "rate"}, "coupling_input": {"r_ext": 1.0}}, "coupled_var.r_ext = 'rate'"),
    ({"coupled_var": {"r_ext": "r", "V_ext": "V"}, "coupling": {"r_ext": "linear", "V_ext": "gap"},
      "coupling_input": {"r_ext": 1.0, "V_ext": 1.0}}, "'gap' is not allowed"),
    ({"coupled_var": {"r_ext": "r", "V_ext": "V"}, "coupling_input": {"r_ext": 1.0}}, "same inputs"),
    ({"coupled_var": {"r_ext": "r"}, "coupling_input": {"r_ext": "3 mV"}}, "k_r_ext"),
])
def test_study_config_pathway_errors_name_the_key(network, match):
    from neuralmass.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=match):
        load_config(None, overrides={"model": {"name": "MontbrioPazoRoxin", "params": {"cv": "1.0"}},
                                     "network": network})
