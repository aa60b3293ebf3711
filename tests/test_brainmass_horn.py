"""brainmass 0.1.1's HORNStep, HORNSeqLayer, HORNSeqNetwork and XY_Oscillator on neuralmass.

The numbers of brainmass itself come from tests/fixtures/brainmass_0_1_1.json (key ``horn``,
written by scripts/make_brainmass_fixture.py's ``horn_cases``); the behaviour tests compare with
closed forms (damped harmonic oscillator, the symplectic Euler map's invariant, the rest point
under constant input) and with synchronisation theory.
"""

import json
import pathlib

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.integrators import get_integrator
from neuralmass.models import HORN, XY_OSCILLATOR, list_models

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests" / "fixtures" / "brainmass_0_1_1.json").read_text())
H = FIX["horn"]


def horn_weight(shape, phase=0.3):
    """The fixture's weights (scripts/make_brainmass_fixture.py, ``horn_weight``)."""
    size = int(np.prod(shape))
    return jnp.asarray(0.6 * np.sin(1.3 * np.arange(size) + phase).reshape(shape) / np.sqrt(shape[0]))


def horn_bias(shape):
    """The fixture's biases (``horn_bias``)."""
    return jnp.asarray(0.1 * np.cos(0.7 * np.arange(int(np.prod(shape)))).reshape(shape))


def _close(got, ref, what):
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-4, atol=2e-5, err_msg=what)


# ------------------------------------------------------------------------- brainmass's numbers
def test_horn_step_matches_brainmass():
    rec = H["step"]
    m = nm.HORNStep(4, **H["kwargs"], x_init=np.array(rec["x0"]), y_init=np.array(rec["y0"]))
    assert m.method == "symplectic_euler"
    brainstate.nn.init_all_states(m)
    xs, ys = [], []
    with brainstate.environ.context(dt=H["dt_ms"] * u.ms):
        for inp in rec["inputs"]:
            xs.append(m.update(jnp.asarray(inp)))
            ys.append(m.y.value)
    _close(xs, rec["x"], "HORNStep x")
    _close(ys, rec["y"], "HORNStep y")


def test_horn_simulator_run_equals_stepping():
    """The compiled engine runs the same drift and scheme as update() (here with a constant input)."""
    m = nm.HORNStep(3, **H["kwargs"], x_init=0.2, y_init=-0.1)
    out = nm.Simulator(m, dt=1.0).run(30.0, inputs={"I": 0.4}, monitors=["x"])
    brainstate.nn.init_all_states(m)
    with brainstate.environ.context(dt=1.0 * u.ms):
        xs = [m.update(0.4) for _ in range(30)]
    np.testing.assert_allclose(np.asarray(out["x"]), np.asarray(xs), rtol=1e-5, atol=1e-6)


def _layer(**kw):
    return nm.HORNSeqLayer(3, 4, **H["kwargs"], inp_w_init=horn_weight, inp_b_init=horn_bias, **kw)


def test_horn_seq_layer_matches_brainmass():
    with brainstate.environ.context(dt=H["dt_ms"] * u.ms):
        layer = _layer(rec_w_init=lambda s: horn_weight(s, 0.9), rec_b_init=horn_bias)
        brainstate.nn.init_all_states(layer)
        st, xs = layer.update(jnp.asarray(H["sequence"]), record_state=True)
    _close(xs, H["layer"]["plain"]["x"], "HORNSeqLayer x")
    _close(st["y"], H["layer"]["plain"]["y"], "HORNSeqLayer y")
    np.testing.assert_array_equal(np.asarray(st["x"]), np.asarray(xs))


def test_horn_seq_layer_with_delays_matches_brainmass():
    """brainmass's delayed path stores the recurrent weights (target, source) and drops the
    recurrent bias; neuralmass keeps (source, target) and the bias in both paths, so the same
    network is built here with the transposed weights and no bias."""
    with brainstate.environ.context(dt=H["dt_ms"] * u.ms):
        layer = _layer(rec_w_init=lambda s: horn_weight(s, 0.9).T, rec_b_init=None,
                       delay=np.array(H["delay_ms"]) * u.ms)
        brainstate.nn.init_all_states(layer)
        st, xs = layer.update(jnp.asarray(H["sequence"]), record_state=True)
    _close(xs, H["layer"]["delayed"]["x"], "delayed HORNSeqLayer x")
    _close(st["y"], H["layer"]["delayed"]["y"], "delayed HORNSeqLayer y")


def test_horn_seq_network_matches_brainmass():
    rec = H["network"]
    with brainstate.environ.context(dt=H["dt_ms"] * u.ms):
        net = nm.HORNSeqNetwork(3, rec["n_hidden"], rec["n_output"], **H["kwargs"],
                                rec_w_init=lambda s: horn_weight(s, 0.9), rec_b_init=horn_bias,
                                inp_w_init=horn_weight, inp_b_init=horn_bias)
        brainstate.nn.init_all_states(net)
        out = net(jnp.asarray(H["sequence"]))
        brainstate.nn.init_all_states(net)
        hidden = net.hidden_activation(jnp.asarray(H["sequence"]))
    _close(out, rec["output"], "HORNSeqNetwork output")
    assert len(hidden) == len(rec["hidden"])
    for got, ref in zip(hidden, rec["hidden"]):
        _close(got, ref, "HORNSeqNetwork hidden activation")


# ------------------------------------------------------------------------------- behaviour
def test_horn_unit_without_input_is_a_damped_harmonic_oscillator():
    """x(t) = e^{-gamma t} [x0 cos(wd t) + (y0 + gamma x0) sin(wd t) / wd], wd^2 = omega^2 - gamma^2:
    rk4 reproduces it, and symplectic Euler converges to it at first order (halving dt halves the
    error)."""
    omega, gamma, x0, y0 = 0.5, 0.05, 1.0, 0.3
    wd = np.sqrt(omega ** 2 - gamma ** 2)

    def error(method, dt):
        t = np.arange(1, int(round(40.0 / dt)) + 1) * dt
        exact = np.exp(-gamma * t) * (x0 * np.cos(wd * t) + (y0 + gamma * x0) * np.sin(wd * t) / wd)
        m = nm.HORNStep(1, alpha=0.3, omega=omega, gamma=gamma, x_init=x0, y_init=y0, method=method)
        out = nm.Simulator(m, dt=dt).run(40.0, monitors=["x"])
        return np.max(np.abs(np.asarray(out["x"])[:, 0] - exact))

    assert error("rk4", 0.1) < 1e-5
    e1, e2 = error("symplectic_euler", 0.1), error("symplectic_euler", 0.05)
    assert e1 < 0.05 and e1 / e2 == pytest.approx(2.0, rel=0.1)


def test_symplectic_euler_keeps_the_oscillator_energy_bounded():
    """Undamped, the symplectic Euler map conserves omega^2 x^2 + y^2 - h omega^2 x y exactly (a
    modified energy, Hairer et al. 2006); forward Euler multiplies the energy by 1 + h^2 omega^2
    every step."""
    omega, h, n = 1.0, 0.1, 2000
    P = {"alpha": 0.0, "omega": omega, "gamma": 0.0, "v": 0.0}
    inp = {"I": 0.0, "y_ext": 0.0}

    def run(method):
        st = {"x": jnp.asarray(1.0), "y": jnp.asarray(0.0)}
        f = get_integrator(method)
        out = []
        for _ in range(n):
            st = f(HORN.drift, st, P, inp, h)
            out.append((float(st["x"]), float(st["y"])))
        return np.array(out)

    x, y = run("symplectic_euler").T
    modified = omega ** 2 * x ** 2 + y ** 2 - h * omega ** 2 * x * y
    np.testing.assert_allclose(modified, modified[0], rtol=1e-4)
    assert np.max(omega ** 2 * x ** 2 + y ** 2) < 1.1
    xe, ye = run("euler").T
    assert xe[-1] ** 2 + ye[-1] ** 2 == pytest.approx((1 + h ** 2) ** n, rel=1e-3)


def test_horn_rest_point_under_constant_input():
    """x* = alpha tanh(I) / omega^2 for v = 0."""
    alpha, omega, I = 0.2, 0.4, np.array([-1.0, 0.3, 2.5])
    m = nm.HORNStep(3, alpha=alpha, omega=omega, gamma=0.2)
    out = nm.Simulator(m, dt=1.0).run(400.0, inputs={"I": jnp.asarray(I)}, monitors=["x"])
    np.testing.assert_allclose(np.asarray(out["x"])[-1], alpha * np.tanh(I) / omega ** 2, rtol=1e-4)


def test_horn_seq_layer_batches_and_carries_state():
    """A batch axis runs each sequence independently; a second call continues from the first."""
    rng = np.random.default_rng(0)
    seq = jnp.asarray(rng.normal(size=(12, 2, 3)))
    with brainstate.environ.context(dt=1.0 * u.ms):
        layer = _layer(rec_w_init=lambda s: horn_weight(s, 0.9), rec_b_init=horn_bias)
        brainstate.nn.init_all_states(layer)
        both = np.asarray(layer.update(seq))
        for b in range(2):
            brainstate.nn.init_all_states(layer)
            np.testing.assert_allclose(both[:, b], np.asarray(layer.update(seq[:, b])), rtol=1e-5, atol=1e-6)
        brainstate.nn.init_all_states(layer)
        first, second = layer.update(seq[:6, 0]), layer.update(seq[6:, 0])
    np.testing.assert_allclose(np.concatenate([first, second]), both[:, 0], rtol=1e-5, atol=1e-6)


def test_horn_seq_layer_is_differentiable():
    """Gradients of a loss with respect to the input weights match finite differences."""
    seq = jnp.asarray(np.random.default_rng(1).normal(size=(10, 3)))
    with brainstate.environ.context(dt=1.0 * u.ms):
        layer = _layer(rec_w_init=lambda s: horn_weight(s, 0.9), rec_b_init=horn_bias)
        brainstate.nn.init_all_states(layer)

        def loss():
            brainstate.nn.init_all_states(layer)
            return jnp.sum(layer.update(seq)[-1] ** 2)

        g = brainstate.transform.grad(loss, layer.states(brainstate.ParamState))()
        key = [k for k in g if "W_ih" in str(k)][0]
        W0 = layer.W_ih.value
        eps = 1e-3
        layer.W_ih.value = W0.at[1, 2].add(eps)
        up = float(loss())
        layer.W_ih.value = W0.at[1, 2].add(-eps)
        down = float(loss())
    assert float(g[key][1, 2]) == pytest.approx((up - down) / (2 * eps), rel=2e-2)


def test_horn_errors_name_the_argument():
    with pytest.raises(ValueError, match="inputs has shape"):
        nm.HORNSeqLayer(3, 4).update(jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="rec_w_init has shape"):
        nm.HORNSeqLayer(3, 4, rec_w_init=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="delay has shape"):
        nm.HORNSeqLayer(3, 4, delay=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="n_hidden"):
        nm.HORNSeqLayer(3, 0)


def test_kaiming_default_has_he_variance():
    from neuralmass.network.horn import kaiming_normal

    brainstate.random.seed(3)
    w = np.asarray(kaiming_normal((400, 300)))
    assert w.var() == pytest.approx(2.0 / 400, rel=0.02) and abs(w.mean()) < 3e-3


# ------------------------------------------------------------------------------ XY_Oscillator
class DampedRotation(nm.XY_Oscillator):
    """The fixture's XY_Oscillator subclass (scripts/make_brainmass_fixture.py)."""

    def __init__(self, in_size, g=0.2, w=0.5, **kw):
        super().__init__(in_size, **kw)
        self.g, self.w = g, w

    def dx(self, x, y, x_ext):
        return -self.g * x - self.w * y + x_ext

    def dy(self, y, x, y_ext):
        return (self.w * x - self.g * y + 0.1 * x * x + y_ext) / u.ms    # a Quantity is converted


@pytest.mark.parametrize("method", ["exp_euler", "euler", "rk2"])
def test_xy_oscillator_subclass_matches_brainmass(method):
    rec = H["xy_oscillator"]
    osc = DampedRotation(1, g=rec["g"], w=rec["w"], method=method, init_x=rec["init"][0], init_y=rec["init"][1])
    out = nm.Simulator(osc, dt=rec["dt_ms"]).run(rec["n_steps"] * rec["dt_ms"], monitors=["x", "y"],
                                                inputs={"x_ext": rec["inputs"][0], "y_ext": rec["inputs"][1]},
                                                sample_every=rec["record_every"])
    for s in ("x", "y"):
        _close(np.asarray(out[s])[:, 0], rec["runs"][method][s], f"XY_Oscillator {method} {s}")
    brainstate.nn.init_all_states(osc)
    with brainstate.environ.context(dt=rec["dt_ms"] * u.ms):
        xs = [osc.update(*rec["inputs"])[0] for _ in range(rec["n_steps"])]
    _close(np.asarray(xs)[rec["record_every"] - 1::rec["record_every"], 0], rec["runs"][method]["x"], "update")


class StuartLandau(nm.XY_Oscillator):
    def __init__(self, in_size, a=0.25, w=0.2, **kw):
        super().__init__(in_size, **kw)
        self.a, self.w = a, w

    def dx(self, x, y, x_ext):
        return (self.a - x * x - y * y) * x - self.w * y + x_ext

    def dy(self, y, x, y_ext):
        return (self.a - x * x - y * y) * y + self.w * x + y_ext


@pytest.mark.parametrize("method", ["exp_euler", "euler", "rk2"])
def test_xy_subclass_reproduces_brainmass_stuart_landau(method):
    """brainmass's StuartLandauStep is an XY_Oscillator subclass: the same dx, dy written on
    neuralmass's base give its runs."""
    case = FIX["models"]["StuartLandauStep"]
    run = case["runs"][method]
    osc = StuartLandau(1, **case["kwargs"], method=method, x_init=case["init"][0], y_init=case["init"][1])
    out = nm.Simulator(osc, dt=case["dt_ms"]).run(case["n_steps"] * case["dt_ms"], monitors=["x", "y"],
                                                 inputs={"x_ext": run["inputs"][0], "y_ext": run["inputs"][1]},
                                                 sample_every=case["record_every"])
    for s in ("x", "y"):
        _close(np.asarray(out[s])[:, 0], run[s], f"StuartLandau {method} {s}")
    d = osc.derivative((jnp.asarray(case["points"][0]), jnp.asarray(case["points"][1])), 0.0,
                       jnp.asarray(case["inputs"][0]), jnp.asarray(case["inputs"][1]))
    for got, ref in zip(d, case["derivative"]):
        _close(got, ref, "derivative")


def test_identical_xy_oscillators_with_positive_coupling_synchronise():
    """Stuart–Landau oscillators of one frequency, diffusively coupled through x with k > 0, lock
    in phase from random phases: the Kuramoto order parameter of their phases goes to 1
    (Pikovsky et al. 2001, ch. 8); uncoupled, it stays where it started."""
    n = 8
    rng = np.random.default_rng(4)
    th0 = rng.uniform(0.0, 2 * np.pi, n)
    W = np.ones((n, n)) - np.eye(n)

    def order(k):
        osc = StuartLandau(n, a=1.0, w=0.3, x_init=np.cos(th0), y_init=np.sin(th0))
        net = nm.Network(osc, conn=W, coupling="diffusive", k=k)
        out = nm.Simulator(net, dt=0.05, progress=False).run(150.0, monitors=["x", "y"])
        th = np.arctan2(np.asarray(out["y"])[-1], np.asarray(out["x"])[-1])
        return abs(np.mean(np.exp(1j * th)))

    r0 = abs(np.mean(np.exp(1j * th0)))
    assert order(0.0) == pytest.approx(r0, abs=1e-3)
    assert order(0.1) > 0.999 > r0 + 0.3


def test_xy_oscillator_base_has_no_dynamics():
    base = nm.XY_Oscillator(2, None, None, 0.1, lambda shape: jnp.full(shape, -0.2), "exp_euler")
    assert base.method == "exp_euler"
    brainstate.nn.init_all_states(base)
    np.testing.assert_allclose(np.asarray(base.y.value), [-0.2, -0.2])
    with pytest.raises(NotImplementedError, match="dx"):
        base.update()
    assert "XY_Oscillator" not in [m.name for m in list_models()]
    assert XY_OSCILLATOR.state_names == ("x", "y")


def test_horn_is_a_registered_model():
    names = {i.name: i for i in list_models()}
    assert names["HORNStep"].n_state_vars == 2
    assert nm.models.MODELS["HORN"] is HORN


# ------------------------------------------------------------------------------ JansenRitTR
JR = FIX.get("jansen_rit_tr")
needs_jr_inputs = pytest.mark.skipif(
    not {"M_inp", "I_inp"} <= set(nm.models.JANSEN_RIT.input_names),
    reason="JansenRitTR needs the Jansen-Rit sigmoid-shift inputs M_inp, I_inp (brainmass's JansenRitStep "
           "inputs, added with its keywords)")


def _jr_tr(delay_init=0.0, **kw):
    args = dict(delay=np.array(JR["delay"]), sc=np.array(JR["sc"]), w_ll=np.array(JR["w_ll"]),
                w_ff=np.array(JR["w_ff"]), w_bb=np.array(JR["w_bb"]), tr=JR["tr_ms"] * u.ms,
                delay_init=delay_init, **JR["gains"])
    args.update(kw)
    return nm.JansenRitTR(3, **args)


@needs_jr_inputs
@pytest.mark.parametrize("label", ["constant_input", "delay_init"])
def test_jansen_rit_tr_matches_brainmass(label):
    run = JR["runs"][label]
    n_step = int(round(JR["tr_ms"] / JR["dt_ms"]))
    with brainstate.environ.context(dt=JR["dt_ms"] * u.ms):
        m = _jr_tr(run["delay_init"])
        brainstate.nn.init_all_states(m)
        acts, Ms = [], []
        for i in range(JR["n_tr"]):
            s = jnp.asarray(JR["input"])
            x = jnp.tile(s * (1.0 + 0.1 * i), (n_step, 1)) if run["iter_input"] else s
            a, st = m.update(x, record_state=True, iter_input=run["iter_input"])
            acts.append(a)
            Ms.append(st["M"].to_decimal(u.mV))
    scale = np.max(np.abs(run["activity"]))
    np.testing.assert_allclose(np.asarray(acts), run["activity"], rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(np.asarray(Ms), run["M"], rtol=1e-4, atol=1e-4 * np.max(np.abs(run["M"])))


def test_jansen_rit_tr_lateral_weights_are_symmetric():
    """Momi et al. (2023) symmetrise the lateral weights, 0.5 (W + W^T); brainmass 0.1.1 transposes
    over the axes (0, 1), the identity, so its lateral weights are exp(w_ll) sc / norm, not
    symmetric (fixture). neuralmass symmetrises."""
    from neuralmass.network.jansen_rit_tr import laplacian_pathways

    rec = JR["lateral_from_asymmetric"]
    sc, w = np.array(JR["sc"]), np.array(rec["w_ll"])
    raw = np.exp(w) * sc
    np.testing.assert_allclose(rec["W_l"], raw / np.linalg.norm(raw), rtol=1e-6)     # brainmass's
    np.testing.assert_allclose(rec["dg_l"], -np.sum(rec["W_l"], axis=1), rtol=1e-6)
    W_l, W_f, W_b = (np.asarray(W) for W in laplacian_pathways(sc, w, np.zeros((3, 3)), np.zeros((3, 3))))
    sym = 0.5 * (raw + raw.T)
    np.testing.assert_allclose(W_l, sym / np.linalg.norm(sym), rtol=1e-5)
    np.testing.assert_allclose(W_l, W_l.T)
    assert np.linalg.norm(W_f) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(W_b, sc / np.linalg.norm(sc), rtol=1e-5)


@needs_jr_inputs
def test_jansen_rit_tr_without_coupling_is_independent_jansen_rit_columns():
    """With zero pathway gains each region is a Jansen-Rit column driven by k s in its pyramidal
    sigmoid: the same as JansenRitStep stepped with M_inp = k s."""
    s = np.array([1.5, -0.5, 3.0])
    with brainstate.environ.context(dt=0.125 * u.ms):
        m = _jr_tr(g_l=0.0, g_f=0.0, g_b=0.0, k=2.0)
        brainstate.nn.init_all_states(m)
        acts = [m.update(jnp.asarray(s)) for _ in range(10)]
        col = nm.JansenRitStep(3, method="exp_euler")
        brainstate.nn.init_all_states(col)
        eeg = brainstate.transform.for_loop(lambda i: col.update(M_inp=2.0 * jnp.asarray(s)), np.arange(80))
    ref = np.asarray(eeg)[7::8]
    np.testing.assert_allclose(np.asarray(acts), ref, rtol=1e-5, atol=1e-5 * np.max(np.abs(ref)))


def test_jansen_rit_tr_errors_name_the_argument():
    if not {"M_inp", "I_inp"} <= set(nm.models.JANSEN_RIT.input_names):
        with pytest.raises(NotImplementedError, match="M_inp"):
            _jr_tr()
        return
    with pytest.raises(ValueError, match="whole numbers of TRs"):
        _jr_tr(delay=np.full((3, 3), 0.5))
    with pytest.raises(ValueError, match="w_ll has shape"):
        _jr_tr(w_ll=np.zeros((2, 2)))
    with brainstate.environ.context(dt=0.125 * u.ms):
        m = _jr_tr()
        brainstate.nn.init_all_states(m)
        with pytest.raises(ValueError, match="iter_input=True"):
            m.update(jnp.zeros((5, 3)), iter_input=True)


@needs_jr_inputs
def test_jansen_rit_tr_compiled_tr_follows_a_changed_gain():
    """A TR is compiled once and reused; a gain changed after the first update() must be used by
    the next one (the compiled program holds the gains as constants), exactly as a model built
    with that gain."""
    with brainstate.environ.context(dt=JR["dt_ms"] * u.ms):
        s = jnp.asarray(JR["input"])
        m = _jr_tr()
        brainstate.nn.init_all_states(m)
        m.update(s)                                   # compiles with the fixture's gains
        m.g_l = m.g_l * 3.0 + 1.0
        brainstate.nn.init_all_states(m)
        changed = np.asarray([m.update(s) for _ in range(3)])
        fresh = _jr_tr(g_l=float(JR["gains"]["g_l"]) * 3.0 + 1.0)
        brainstate.nn.init_all_states(fresh)
        expect = np.asarray([fresh.update(s) for _ in range(3)])
    np.testing.assert_allclose(changed, expect, rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(changed - np.asarray(_run_default_gain(s)))) > 1e-6   # the gain matters here


def _run_default_gain(s):
    with brainstate.environ.context(dt=JR["dt_ms"] * u.ms):
        m = _jr_tr()
        brainstate.nn.init_all_states(m)
        return [m.update(s) for _ in range(3)]
