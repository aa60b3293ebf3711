"""Published behaviour of the model zoo (one test per model, the figure named in each docstring)."""

import math
import warnings

import jax
import jax.numpy as jnp
import brainunit as u
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.models import (EPILEPTOR, KURAMOTO, LARTER_BREAKSPEAR, MONTBRIO_PAZO_ROXIN, WONG_WANG,
                               UnstableFixedPointWarning, feedback_inhibition_control)
from neuralmass.models.fitzhugh_nagumo import fhn_hopf_currents
from neuralmass.models.montbrio import montbrio_fixed_point_residual
from neuralmass.network.coupling import KuramotoCoupling, kuramoto


def _mag(x):
    return np.asarray(getattr(x, "mantissa", x))


def _jacobian_eigs(model, state, params):
    names = model.state_names
    zero = {k: jnp.zeros(()) for k in model.input_names}
    f = lambda x: jnp.stack([model.drift(dict(zip(names, x)), params, zero)[k] for k in names])
    return np.linalg.eigvals(np.asarray(jax.jacobian(f)(jnp.asarray([state[k] for k in names]))))


# ------------------------------------------------------------------------------ Montbrió–Pazó–Roxin
def test_mpr_bistability_and_fixed_points():
    """Montbrió, Pazó & Roxin (2015), Fig. 2: at J = 15, eta = -5, Delta = 1 a brief current pulse
    switches the population from the low-rate node to the high-rate focus, where it stays. Both
    rates solve the fixed-point equation and both states are linearly stable."""
    pulse = lambda t: jnp.where((t >= 30.0) & (t < 35.0), 3.0, 0.0)
    res = nm.Simulator(nm.MontbrioPazoRoxinStep(1), dt=0.01).run(
        100.0, monitors=["r", "V"], period=0.1, inputs={"I_ext": pulse})
    r, V = _mag(res["r"])[:, 0], _mag(res["V"])[:, 0]
    low = {"r": r[280], "V": V[280]}      # t = 28 ms, before the pulse
    high = {"r": r[-1], "V": V[-1]}       # 65 ms after the pulse ended
    P = MONTBRIO_PAZO_ROXIN.default_params()
    assert high["r"] > 5 * low["r"]
    for st in (low, high):
        assert abs(float(montbrio_fixed_point_residual(st["r"], P))) < 1e-3
        assert st["V"] == pytest.approx(-1.0 / (2 * math.pi * st["r"]), rel=1e-3)
        assert np.all(_jacobian_eigs(MONTBRIO_PAZO_ROXIN, st, P).real < 0)
    # the high state is a focus (complex eigenvalues), the low one a node
    assert np.abs(_jacobian_eigs(MONTBRIO_PAZO_ROXIN, high, P).imag).max() > 1.0
    assert np.abs(_jacobian_eigs(MONTBRIO_PAZO_ROXIN, low, P).imag).max() == 0.0


# ------------------------------------------------------------------------------ Kuramoto
def _lorentzian(n, delta):
    q = (np.arange(n) + 0.5) / n
    return delta * np.tan(np.pi * (q - 0.5))  # deterministic quantiles, rad/ms


def test_kuramoto_order_parameter_above_critical_coupling():
    """Kuramoto (1975); Strogatz (2000), Fig. 2: for Lorentzian frequencies of half width Delta the
    incoherent state is stable below K_c = 2 Delta and R = sqrt(1 - K_c / K) above it."""
    n, delta = 200, 0.01
    omega = _lorentzian(n, delta) * 1000.0            # rad/s (the table's unit)
    theta0 = np.random.default_rng(0).uniform(0, 2 * np.pi, n)
    W = np.ones((n, n)) / n
    out = {}
    for ratio in (0.5, 2.0, 4.0):
        node = nm.KuramotoStep(n, omega=omega, theta_init=theta0)
        net = nm.Network(node, conn=W, coupling=KuramotoCoupling(), k=ratio * 2 * delta)
        res = nm.Simulator(net, dt=0.5).run(4000.0, monitors=["order"], transient=3000.0, period=10.0)
        out[ratio] = _mag(res["order"])[:, 0].mean()
    assert out[0.5] < 0.2                                   # finite-size incoherence ~ 1/sqrt(n)
    assert out[2.0] == pytest.approx(math.sqrt(1 - 1 / 2.0), abs=0.05)
    assert out[4.0] == pytest.approx(math.sqrt(1 - 1 / 4.0), abs=0.05)


def test_kuramoto_two_input_form_equals_sine_coupling():
    """The drift's (sin_ext, cos_ext) form is exactly k sum_j w_ij sin(theta_j - theta_i)."""
    rng = np.random.default_rng(1)
    th = rng.uniform(-np.pi, np.pi, 7)
    w = rng.uniform(0, 1, (7, 7))
    ref = kuramoto(th, th, w, k=0.3)
    d = KURAMOTO.drift({"theta": jnp.asarray(th)}, {"omega": 0.0},
                       {"sin_ext": 0.3 * w @ np.sin(th), "cos_ext": 0.3 * w @ np.cos(th), "theta_ext": 0.0})
    np.testing.assert_allclose(np.asarray(d["theta"]), np.asarray(ref), atol=1e-6)
    c = KuramotoCoupling(conn=w, k=0.3)(th, th)
    np.testing.assert_allclose(np.asarray(c), np.asarray(ref), atol=1e-6)


# ------------------------------------------------------------------------------ Epileptor
def _x0_critical(a=1.0, b=3.0, c=1.0, d=5.0, Iext=3.1):
    """x0 at which the interictal fixed point reaches the fold of the fast nullcline.

    On the lower branch (x1 < 0) dx1/dt = 0 gives z = c + Iext - a x1^3 + (b - d) x1^2; its fold is
    at x1_f = 2 (b - d) / (3 a) and the slow nullcline z = 4 (x1 - x0) passes through it for
    x0_c = x1_f - z(x1_f) / 4 (same for the 6D and 2D Epileptor).
    """
    x1f = 2 * (b - d) / (3 * a)
    return x1f - (c + Iext - a * x1f ** 3 + (b - d) * x1f ** 2) / 4.0


def _seizure_onsets(x1, dt, quiet_ms=500.0):
    """Upward crossings of x1 = 0 preceded by at least ``quiet_ms`` with x1 < -1 (interictal)."""
    below = x1 < -1.0
    onsets, last_quiet = 0, -np.inf
    run = 0
    for i in range(1, len(x1)):
        run = run + 1 if below[i] else 0
        if run * dt >= quiet_ms:
            last_quiet = i
        if x1[i - 1] < 0 <= x1[i] and i - last_quiet < 1000.0 / dt and last_quiet > 0:
            onsets += 1
            last_quiet = -np.inf
    return onsets


@pytest.mark.parametrize("step", [nm.EpileptorStep, nm.Epileptor2DStep])
def test_epileptor_seizures_recur_above_x0_threshold(step):
    """Jirsa et al. (2014), Fig. 3 / Proix et al. (2014), Fig. 2: an isolated Epileptor with x0
    above its critical value x0_c (about -2.06 for Iext = 3.1) has recurrent seizures driven by the
    slow permittivity z; below x0_c it stays at the interictal fixed point."""
    x0c = _x0_critical()
    assert x0c == pytest.approx(-2.062, abs=1e-3)
    sim = nm.Simulator(step(1), dt=0.05)
    res = sim.run(20000.0, monitors=["x1"], period=1.0, params={"x0": np.array([x0c + 0.3, x0c - 0.15])})
    x1 = _mag(res["x1"])[..., 0]
    assert _seizure_onsets(x1[0], 1.0) >= 2
    assert _seizure_onsets(x1[1], 1.0) == 0 and x1[1][2000:].max() < -1.0


def test_epileptor_threshold_matches_jacobian():
    """Just below x0_c the interictal fixed point exists and is stable; its x1 approaches the fold
    x1_f = -4/3 as x0 -> x0_c (the saddle-node that starts seizures)."""
    x0c = _x0_critical()
    names = EPILEPTOR.state_names
    zero = {k: 0.0 for k in EPILEPTOR.input_names}
    with jax.enable_x64(True):
        for dx in (0.05, 0.005):
            P = {k: jnp.asarray(v, jnp.float64) for k, v in EPILEPTOR.default_params().items()}
            P["x0"] = jnp.asarray(x0c - dx)
            f = jax.jit(lambda x: jnp.stack([EPILEPTOR.drift(dict(zip(names, x)), P, zero)[k] for k in names]))
            jac = jax.jit(jax.jacobian(f))
            x = jnp.asarray([-1.5, 1 - 5 * 2.25, 4 * (-1.5 - float(P["x0"])), -1.0, 0.0, -0.15])
            for _ in range(40):
                x = x - jnp.linalg.solve(jac(x), f(x))
            assert float(jnp.abs(f(x)).max()) < 1e-10
            assert np.all(np.linalg.eigvals(np.asarray(jac(x))).real < 0)
            assert -4 / 3 - 0.5 < float(x[0]) < -4 / 3
        assert float(x[0]) > -4 / 3 - 0.1


# ------------------------------------------------------------------------------ FitzHugh–Nagumo
def test_fhn_limit_cycle_between_hopf_currents():
    """FitzHugh (1961), Fig. 5 (and Rocşoreanu et al. 2000): with a = 0.7, b = 0.8, eps = 0.08 the
    unit fires periodically for currents between the Hopf points I ≈ 0.331 and I ≈ 1.419."""
    lo, hi = fhn_hopf_currents()
    assert (lo, hi) == pytest.approx((0.3313, 1.4187), abs=1e-3)
    currents = np.array([lo - 0.05, lo + 0.1, 1.0, hi - 0.1, hi + 0.05])
    res = nm.Simulator(nm.FitzHughNagumoStep(1), dt=0.05).run(
        1500.0, monitors=["v"], transient=1000.0, params={"I": currents})
    std = _mag(res["v"])[..., 0].std(axis=1)
    assert np.all(std[1:4] > 0.8) and np.all(std[[0, 4]] < 1e-3)


# ------------------------------------------------------------------------------ Generic 2D
def test_generic2d_excitable_and_oscillatory_configurations():
    """TVB's Generic2dOscillator documentation, Table 1: a = -2 is excitable (fixed point), a = 2
    gives a limit cycle."""
    res = nm.Simulator(nm.Generic2dOscillatorStep(1), dt=0.1).run(
        2000.0, monitors=["V"], transient=1000.0, params={"a": np.array([-2.0, 2.0])})
    std = _mag(res["V"])[..., 0].std(axis=1)
    assert std[0] < 1e-4 and std[1] > 0.2


# ------------------------------------------------------------------------------ Coombes–Byrne
def test_coombes_byrne_oscillates_at_tvb_defaults():
    """Coombes & Byrne (2019), Fig. 3: the synaptic alpha kinetics give the QIF mean field a
    stable rhythm (here at TVB's defaults: Delta = 0.5, eta = 20, v_syn = -10, alpha = 0.95);
    without the conductance delay (large alpha) the same node settles to a focus."""
    res = nm.Simulator(nm.CoombesByrneStep(1), dt=0.01).run(
        300.0, monitors=["r"], transient=200.0, params={"alpha": np.array([0.95, 50.0])})
    r = _mag(res["r"])[..., 0]
    assert r[0].std() > 0.1 and r[1].std() < 1e-3


# ------------------------------------------------------------------------------ Larter–Breakspear
def _largest_lyapunov(model, overrides, dt=0.1, steps=60000, transient=10000):
    """Benettin's method: tangent vector propagated with jax.jvp through RK4 steps."""
    from neuralmass.integrators import get_integrator

    rk4 = get_integrator("rk4")
    P = {k: jnp.asarray(v, jnp.float64) for k, v in model.default_params().items()}
    P.update({k: jnp.asarray(v, jnp.float64) for k, v in overrides.items()})
    zero = {k: jnp.zeros((), jnp.float64) for k in model.input_names}
    step = lambda s: rk4(model.drift, s, P, zero, dt)
    s = {k: jnp.asarray(st.init, jnp.float64) for k, st in zip(model.state_names, model.states)}
    s, _ = jax.lax.scan(lambda s, _: (step(s), None), s, None, length=transient)
    v = {k: jnp.asarray(1.0 / math.sqrt(len(s)), jnp.float64) for k in s}

    def body(c, _):
        s, v, acc = c
        s, v = jax.jvp(step, (s,), (v,))
        norm = jnp.sqrt(sum(a * a for a in v.values()))
        return (s, {k: a / norm for k, a in v.items()}, acc + jnp.log(norm)), None

    (_, _, acc), _ = jax.lax.scan(body, (s, v, jnp.zeros((), jnp.float64)), None, length=steps)
    return float(acc) / (steps * dt)


def test_larter_breakspear_positive_lyapunov_exponent_in_chaotic_regime():
    """Breakspear, Terry & Friston (2003), Fig. 2: for delta_V above about 0.59 an isolated node
    shows chaotic oscillations. With Honey et al.'s (2007) a_ee = 0.36, C = 0, delta_Z = delta_V the
    largest Lyapunov exponent is clearly positive at delta_V = 0.69 and zero (a limit cycle) at
    0.65."""
    base = dict(C=0.0, aee=0.36)
    with jax.enable_x64(True):
        chaotic = _largest_lyapunov(LARTER_BREAKSPEAR, dict(base, d_V=0.69, d_Z=0.69))
        periodic = _largest_lyapunov(LARTER_BREAKSPEAR, dict(base, d_V=0.65, d_Z=0.65))
    assert chaotic > 2e-3
    assert abs(periodic) < 1e-3


# ------------------------------------------------------------------------------ Wendling
def _spikes(x, thr):
    up = (x[:-1] < thr) & (x[1:] >= thr)
    return np.flatnonzero(up)


def test_wendling_activity_types():
    """Wendling et al. (2002), Fig. 4, types 1–3 (A = 5 mV, G = 15 mV, noisy input of mean 90 Hz):
    B = 50 mV gives background activity, B = 40 mV sporadic spikes, B = 25 mV sustained rhythmic
    spikes at about 4 Hz."""
    node = nm.WendlingStep(1, A=5.0, G=15.0, noise_p=nm.WhiteNoise(1, sigma=30.0 * math.sqrt(2.0)))
    res = nm.Simulator(node, dt=0.1).run(
        5000.0, monitors=["eeg"], transient=1000.0, period=1.0, key=0,
        params={"B": np.array([50.0, 40.0, 25.0])})
    x = _mag(res["eeg"])[..., 0]           # (3, 4000) at 1 kHz
    med = np.median(x, axis=1, keepdims=True)
    rates = [len(_spikes(-(xi - m), 8.0)) + len(_spikes(xi - m, 8.0)) for xi, m in zip(x, med)]
    assert x[0].std() < 1.0 and rates[0] == 0                  # background
    assert 1 <= rates[1] / 4.0 < 3.0                              # sporadic: a few spikes per second
    f = np.fft.rfftfreq(x.shape[1], 1e-3)
    P = np.abs(np.fft.rfft(x[2] - x[2].mean())) ** 2
    assert 3.0 <= f[np.argmax(P[1:]) + 1] <= 6.0                  # rhythmic spikes ~4 Hz
    assert x[2].std() > 3.0


# ------------------------------------------------------------------------------ FIC (Wong–Wang)
def _rate_from_gating(S, P):
    """Stationary rate from dS_E/dt = 0: H = S / (gamma_E tau_E (1 - S)) (Hz)."""
    return S / (float(P["gamma_E"]) * 1e-3 * float(P["tau_E"]) * (1.0 - S))


def test_fic_rates_on_hcp_connectome():
    """Deco et al. (2014), Fig. 2: with feedback inhibition control every region of the connectome
    fires at about 3 Hz; without it the strongly connected regions fire far faster."""
    W = np.asarray(nm.datasets.load_dataset("hcp", bold=False).weights)
    k = 0.5
    J = feedback_inhibition_control(W, k=k)
    P = WONG_WANG.default_params()
    res = nm.Simulator(nm.Network(nm.WongWangModel(80, J_i=J), conn=W, coupling="linear", k=k),
                       dt=0.1).run(3000.0, monitors=["S_E", "H_E"], transient=2900.0, period=10.0)
    H = _rate_from_gating(_mag(res["S_E"]), P)
    assert np.all(np.abs(H - 3.0) < 0.5)
    # the engine's H_E sees the long-range input too: at the fixed point it equals the rate the
    # gating variable implies
    np.testing.assert_allclose(np.asarray(res["H_E"].to_decimal(u.Hz)), H, rtol=1e-3)
    res0 = nm.Simulator(nm.Network(nm.WongWangModel(80), conn=W, coupling="linear", k=k),
                        dt=0.1).run(1000.0, monitors=["S_E"], transient=900.0, period=10.0)
    assert _rate_from_gating(_mag(res0["S_E"]), P).max() > 10.0


def test_fic_fixed_point_stability_limit():
    """The FIC weights make the 3 Hz state an exact fixed point of the whole network for every G;
    on the bundled HCP connectome it is linearly stable at G = 0.5 and unstable from G ≈ 0.56 on
    (a real eigenvalue crosses zero), which bounds where FIC by fixed point applies."""
    W = np.asarray(nm.datasets.load_dataset("hcp", bold=False).weights)
    maxeig, reported = {}, {}
    with jax.enable_x64(True):
        for k in (0.5, 0.7):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                J, st = feedback_inhibition_control(W, k=k, return_state=True)
            unstable = [w for w in caught if issubclass(w.category, UnstableFixedPointWarning)]
            assert len(unstable) == (1 if k == 0.7 else 0)
            reported[k] = st["max_real_eig"]
            P = {kk: jnp.asarray(v, jnp.float64) for kk, v in WONG_WANG.default_params().items()}
            P["J_i"] = jnp.asarray(J)

            def F(x, P=P, k=k):
                s = {"S_E": x[:80], "S_I": x[80:]}
                inp = {n: jnp.zeros(80) for n in WONG_WANG.input_names}
                inp["S_E_ext"] = k * (jnp.asarray(W) @ s["S_E"])
                d = WONG_WANG.drift(s, P, inp)
                return jnp.concatenate([d["S_E"], d["S_I"]])

            x = jnp.concatenate([jnp.asarray(st["S_E"]), jnp.asarray(st["S_I"])])
            assert float(jnp.abs(F(x)).max()) < 1e-8   # drift terms are ~1e-3 per ms
            maxeig[k] = np.linalg.eigvals(np.asarray(jax.jit(jax.jacfwd(F))(x))).real.max()
            np.testing.assert_allclose(_rate_from_gating(st["S_E"], WONG_WANG.default_params()), 3.0,
                                       rtol=1e-5)
    assert maxeig[0.5] < 0 < maxeig[0.7]
    # the warning is about the same Jacobian this test builds independently
    assert reported == pytest.approx(maxeig, rel=1e-6, abs=1e-12)
    assert "k=0.7" in str(unstable[0].message) and "unstable" in str(unstable[0].message)
    with pytest.raises(ValueError, match=r"k=0.7.*unstable.*Lower k"):
        feedback_inhibition_control(W, k=0.7, on_unstable="raise")
    with pytest.raises(ValueError, match="on_unstable='loud'"):
        feedback_inhibition_control(W, k=0.5, on_unstable="loud")


def test_fic_bad_input():
    with pytest.raises(ValueError, match="square"):
        feedback_inhibition_control(np.ones((3, 4)))
    with pytest.raises(ValueError, match="target_rate"):
        feedback_inhibition_control(np.ones((3, 3)), target_rate=-1.0)
    with pytest.raises(ValueError, match="coupling"):
        feedback_inhibition_control(np.ones((3, 3)), coupling="sigmoidal")


# ------------------------------------------------------------------------------ CLI
@pytest.mark.parametrize("name", list(nm.MODELS))
def test_cli_lists_and_runs_every_model(name, tmp_path, capsys):
    """`neuralmass models` lists each registered model with its reference; `neuralmass simulate
    MODEL` runs it at the model's stable step and records its main output."""
    import json

    from neuralmass.cli import main
    from neuralmass.models import MODELS

    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert name in listing and MODELS[name].reference[:20] in listing
    out = tmp_path / f"{name}.npz"
    assert main(["simulate", name, "--duration", "50 ms", "--n", "2", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["signals"]) == [MODELS[name].output]
    assert np.all(np.isfinite(np.load(out)[MODELS[name].output]))


def test_toml_config_accepts_zoo_models():
    """A study config names a zoo model and its parameters in their documented units."""
    import tomllib

    from neuralmass.config import DEFAULT_CONFIG_TOML, ConfigError, validate_config

    cfg = tomllib.loads(DEFAULT_CONFIG_TOML)
    cfg["model"] = {"name": "MontbrioPazoRoxin", "params": {"eta": "-4.6", "tau": "2 ms"}}
    out = validate_config(cfg)["model"]
    assert out["params"]["eta"] == -4.6
    cfg["model"] = {"name": "Epileptor", "params": {"X0": "-2.2"}}
    with pytest.raises(ConfigError, match="X0 is not a parameter of Epileptor.*x0"):
        validate_config(cfg)


def test_fic_refuses_negative_or_non_finite_weights():
    W = np.ones((3, 3))
    W[0, 2] = -0.1
    with pytest.raises(ValueError, match=r"non-negative weights; conn\[0, 2\] = -0.1"):
        feedback_inhibition_control(W)
    W[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"conn\[0, 2\] = nan"):
        feedback_inhibition_control(W)


def test_larter_breakspear_defaults_are_periodic_not_chaotic():
    """The docstring's claim: an isolated node at the (TVB) defaults oscillates periodically —
    largest Lyapunov exponent about zero, not positive (the chaos needs d_V ≈ 0.69, see above)."""
    with jax.enable_x64(True):
        lam = _largest_lyapunov(LARTER_BREAKSPEAR, {})
    assert abs(lam) < 1e-3
    res = nm.Simulator(nm.NodeSystem(LARTER_BREAKSPEAR, 1), dt=0.1).run(
        2000.0, monitors=["V"], transient=1000.0, key=0)
    assert _mag(res["V"]).std() > 0.05          # oscillating, not at a fixed point


# ------------------------------------------------------------------------------ Wilson–Cowan
WC_1972_OSC = dict(wEE=16.0, wEI=12.0, wIE=15.0, wII=3.0, a_E=1.3, theta_E=4.0, a_I=2.0, theta_I=3.7)


def _wc_final(I_E, params=None, starts=((0.0, 0.0), (0.5, 0.2), (0.9, 0.1), (0.1, 0.6))):
    """Each drive ``I_E`` from each start, 300 ms at 0.01 ms: (peak-to-peak of rE over the last
    100 ms, final rE), shaped (len(I_E), len(starts))."""
    from neuralmass.models import WILSON_COWAN

    I_E = np.asarray(I_E, float)
    S = len(starts)
    n = len(I_E) * S
    init = {"rE": np.tile([s[0] for s in starts], len(I_E)), "rI": np.tile([s[1] for s in starts], len(I_E))}
    sim = nm.Simulator(nm.NodeSystem(WILSON_COWAN, n, params or {}, init=init), dt=0.01, method="rk4")
    res = sim.run(300.0, monitors=["rE"], transient=200.0, period=0.1,
                  inputs={"rE_inp": np.repeat(I_E, S)})
    rE = _mag(res["rE"]).reshape(-1, len(I_E), S)
    return rE.max(0) - rE.min(0), rE[-1]


def test_wilson_cowan_defaults_never_oscillate():
    """The docstring's claim: at the defaults the isolated node has no limit cycle for any constant
    drive I_E — every start settles on a fixed point (two stable ones, low and high activity, for
    -0.5 ≲ I_E ≲ 0.28; one elsewhere)."""
    from neuralmass.models import WILSON_COWAN

    I_E = np.arange(-2.0, 6.01, 0.25)
    ptp, final = _wc_final(I_E)
    assert ptp.max() < 1e-4
    # bistable at I_E = 0: the quiet start stays low, an active start stays high
    i0 = int(np.argmin(np.abs(I_E)))
    assert final[i0, 0] < 0.01 and final[i0, 2] > 0.4
    # monostable outside the window: every start ends at the same point
    for I in (-1.0, 1.0, 3.5):
        i = int(np.argmin(np.abs(I_E - I)))
        assert np.ptp(final[i]) < 1e-4
    # every fixed point reached is a stable node (real, negative eigenvalues): no focus that a
    # change of drive could turn into a cycle
    P = {k: jnp.asarray(v) for k, v in WILSON_COWAN.default_params().items()}
    for I, row in zip(I_E, final):
        inputs = {"rE_inp": jnp.asarray(I), "rI_inp": jnp.zeros(())}
        f = lambda x: jnp.stack(list(WILSON_COWAN.drift({"rE": x[0], "rI": x[1]}, P, inputs).values()))
        for rE in np.unique(np.round(row, 4)):
            x = jnp.asarray([rE, _wc_rI(float(rE), P)])
            assert np.abs(np.asarray(f(x))).max() < 1e-3         # a fixed point
            ev = np.linalg.eigvals(np.asarray(jax.jacobian(f)(x)))
            assert np.all(ev.real < 0) and np.all(np.abs(ev.imag) < 1e-9), (I, rE, ev)


def _wc_rI(rE, P):
    """The rI at which drI/dt = 0 for this rE (bisection)."""
    from neuralmass.models.wilson_cowan import wc_sigmoid

    g = lambda rI: float(-rI + (1 - rI) * wc_sigmoid(P["wIE"] * rE - P["wII"] * rI, P["a_I"], P["theta_I"]))
    lo, hi = -1.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def test_wilson_cowan_1972_parameters_give_a_limit_cycle():
    """The docstring's claim: with Wilson & Cowan's (1972) oscillatory set the node has a limit
    cycle for about 1.1 ≲ I_E ≲ 1.9 and a fixed point below and above."""
    ptp, _ = _wc_final([0.5, 1.2, 1.5, 1.8, 2.3, 3.0], WC_1972_OSC, starts=((0.1, 0.05), (0.4, 0.3)))
    assert (ptp[1:4] > 0.05).all()
    assert ptp[[0, 4, 5]].max() < 1e-3
