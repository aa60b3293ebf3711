"""The engine's contract: units converted once at the boundary, seed-compatible randomness,
coupling into several inputs, callable monitors compiled once, float64 kept."""

import subprocess
import sys

import brainstate
import brainunit as u
import jax
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.engine import trace_count
from neuralmass.units import UnitMismatchError

from _networks import seed_pipeline_simulator

W = np.array([[0.0, 0.6, 0.2],
              [0.4, 0.0, 0.5],
              [0.3, 0.7, 0.0]])
L_MM = np.array([[0.0, 12.0, 30.0],
                 [12.0, 0.0, 21.0],
                 [30.0, 21.0, 0.0]])


def _hopf(**kw):
    return nm.HopfStep(3, a=-0.05, omega=2 * np.pi * 10 * u.Hz,
                       noise_x=nm.OUProcess(3, sigma=0.05, tau=kw.pop("tau", 5 * u.ms)), **kw)


def _run(net, **kw):
    return np.asarray(nm.Simulator(net, dt=0.1).run(200.0, monitors=["x"], key=7, **kw)["x"])


# ------------------------------------------------------------------------ units at the boundary
def test_equivalent_units_give_identical_runs():
    ref = _run(nm.Network(_hopf(), conn=W, distance=L_MM, speed=3.0, k=0.02))
    assert np.abs(ref).max() > 0.01
    variants = {
        "distance in m, speed in m/s": nm.Network(_hopf(), conn=W, distance=L_MM / 1000 * u.meter,
                                                  speed=3.0 * u.meter / u.second, k=0.02),
        "speed in mm/ms": nm.Network(_hopf(), conn=W, distance=L_MM * u.mm, speed=3.0 * u.mm / u.ms, k=0.02),
        "k in 1/s": nm.Network(_hopf(), conn=W, distance=L_MM, speed=3.0, k=20.0 / u.second),
        "k in 1/ms": nm.Network(_hopf(), conn=W, distance=L_MM, speed=3.0, k=0.02 / u.ms),
        "OU tau in s": nm.Network(_hopf(tau=0.005 * u.second), conn=W, distance=L_MM, speed=3.0, k=0.02),
    }
    for what, net in variants.items():
        np.testing.assert_allclose(_run(net), ref, rtol=1e-5, atol=1e-6, err_msg=what)


def test_k_in_hz_is_a_rate_not_a_plain_number():
    """k = 20 Hz is 0.02 per ms for a Hopf network (input per ms, x dimensionless), not 20 per ms."""
    a = _run(nm.Network(_hopf(), conn=W, k=20 * u.Hz))
    b = _run(nm.Network(_hopf(), conn=W, k=0.02))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_wrong_dimension_names_argument_and_unit():
    with pytest.raises(UnitMismatchError, match="distance.*mm"):
        nm.Network(_hopf(), conn=W, distance=L_MM * u.second, speed=3.0)
    with pytest.raises(UnitMismatchError, match="speed"):
        nm.Network(_hopf(), conn=W, distance=L_MM, speed=3.0 * u.ms)
    with pytest.raises(UnitMismatchError, match="k="):
        nm.Network(_hopf(), conn=W, k=0.5 * u.mV)
    with pytest.raises(UnitMismatchError, match="tau"):
        nm.OUProcess(3, sigma=0.1, tau=5 * u.mV)


def test_hopf_plain_numbers_follow_one_time_base():
    """Plain a and omega are both read per ms (TVB's convention): omega=1.0 is 1 rad/ms."""
    P = nm.Simulator(nm.HopfStep(1, a=0.1, omega=1.0), dt=0.1).params()["node"]
    assert float(P["omega"]) == pytest.approx(1.0) and float(P["a"]) == pytest.approx(0.1)
    q = nm.Simulator(nm.HopfStep(1, omega=2 * np.pi * 40 * u.Hz), dt=0.1).params()["node"]
    assert float(q["omega"]) == pytest.approx(2 * np.pi * 0.04)


def test_model_parameters_are_converted_once():
    node = nm.JansenRitStep(2, a=0.1 * u.kHz)
    system = node.as_system()
    p1 = system.canonical_params()["node"]["a"]
    p2 = system.canonical_params()["node"]["a"]
    assert p1 is p2 and float(p1) == pytest.approx(0.1)   # 100 Hz = 0.1 per ms, stored once


def test_run_overrides_keep_the_module_parameters():
    """params= at run time overrides only what it names; the module's own values stay."""
    sim = nm.Simulator(nm.JansenRitStep(1, A=5.0), dt=0.1)
    P = sim.params(B=np.array([20.0, 30.0]))["node"]
    assert float(P["A"]) == pytest.approx(5.0)
    np.testing.assert_allclose(np.asarray(P["B"]), [20.0, 30.0])


def test_float64_mode_is_kept_and_runs_stay_float64():
    code = (
        "import jax; jax.config.update('jax_enable_x64', True)\n"
        "import numpy as np, neuralmass as nm\n"
        "assert jax.config.jax_enable_x64\n"
        "r = nm.Simulator(nm.HopfStep(2, noise_x=nm.WhiteNoise(2, sigma=0.01)), dt=0.1).run(5.0, key=0)\n"
        "print(np.asarray(r['x']).dtype)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "float64"


# ------------------------------------------------------------------------ randomness
def _noisy():
    return nm.Simulator(nm.LinearStep(4, noise_x=nm.WhiteNoise(4, sigma=0.1)), dt=0.1)


def test_brainstate_seed_decides_the_noise():
    sim = _noisy()
    brainstate.random.seed(123)
    a = np.asarray(sim.run(50.0)["x"])
    b = np.asarray(sim.run(50.0)["x"])        # the global state moved on: a new realisation
    brainstate.random.seed(123)
    a2 = np.asarray(sim.run(50.0)["x"])
    np.testing.assert_array_equal(a, a2)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] < 0.5
    # an explicit key still wins over the global state
    brainstate.random.seed(1)
    c = np.asarray(sim.run(50.0, key=5)["x"])
    brainstate.random.seed(2)
    np.testing.assert_array_equal(c, np.asarray(sim.run(50.0, key=5)["x"]))


def test_seed_pipeline_target_is_a_different_realisation():
    """The resting-state MEG seed: 'empirical' and simulated FC come from different noise."""
    sim = seed_pipeline_simulator(k=1.5)
    brainstate.random.seed(123)
    first = sim.run(2000 * u.ms, monitors=["rE"], transient=200 * u.ms)["rE"]
    second = sim.run(2000 * u.ms, monitors=["rE"], transient=200 * u.ms)["rE"]
    r = float(nm.objectives.fc_corr()(np.asarray(first), np.asarray(second)))
    assert r < 0.99


# ------------------------------------------------------------------------ coupling
def _euler_reference(k_x, k_y, source, steps, dt=0.05, a=-0.1, omega=0.05):
    """Independent NumPy Euler integration of 3 Hopf nodes with linear coupling of ``source``."""
    x = np.array([0.3, -0.2, 0.1])
    y = np.array([0.0, 0.1, -0.3])
    xs = []
    for _ in range(steps):
        s = W @ source(x, y)
        r2 = x * x + y * y
        dx = (a - r2) * x - omega * y + k_x * s
        dy = (a - r2) * y + omega * x + k_y * s
        x, y = x + dt * dx, y + dt * dy
        xs.append(x.copy())
    return np.array(xs)


@pytest.mark.parametrize("source", ["x", "x+y"])
def test_coupling_into_two_inputs_with_own_strengths(source):
    node = nm.HopfStep(3, a=-0.1, omega=0.05, method="euler", x_init=[0.3, -0.2, 0.1], y_init=[0.0, 0.1, -0.3])
    cv = "x" if source == "x" else (lambda s, p: s["x"] + s["y"])
    net = nm.Network(node, conn=W, coupling="linear", coupled_var=cv,
                     coupling_input={"x_ext": 0.3, "y_ext": -0.2})
    assert set(nm.Simulator(net, dt=0.05).params()) >= {"k_x_ext", "k_y_ext"}
    got = np.asarray(nm.Simulator(net, dt=0.05, method="euler").run(20.0, monitors=["x"], key=0)["x"])
    fn = (lambda x, y: x) if source == "x" else (lambda x, y: x + y)
    ref = _euler_reference(0.3, -0.2, fn, got.shape[0])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)
    # strengths are ordinary traced parameters: a batch over one of them
    res = nm.Simulator(net, dt=0.05, method="euler").run(
        20.0, monitors=["x"], key=0, params={"k_y_ext": np.array([-0.2, 0.0])})
    np.testing.assert_allclose(np.asarray(res["x"])[0], ref, rtol=1e-4, atol=1e-6)
    assert not np.allclose(np.asarray(res["x"])[1], ref, atol=1e-3)


def test_speed_needs_a_traced_network():
    net = nm.Network(_hopf(), conn=W, distance=L_MM, speed=3.0, k=0.02)
    with pytest.raises(ValueError, match="speed_range"):
        nm.Simulator(net, dt=0.1).run(10.0, params={"speed": np.array([1.0, 2.0])})


def test_batched_traced_speeds_equal_single_runs():
    net = nm.Network(_hopf(), conn=W, distance=L_MM, speed=3.0, k=0.02, speed_range=(1.0, 10.0))
    sim = nm.Simulator(net, dt=0.1)
    keys = nm.engine.lane_keys(3, 2)
    both = np.asarray(sim.run(100.0, monitors=["x"], key=keys, params={"speed": np.array([2.0, 6.0])})["x"])
    for b, v in enumerate([2.0, 6.0]):
        single = np.asarray(sim.run(100.0, monitors=["x"], key=keys[b], params={"speed": v})["x"])
        np.testing.assert_allclose(both[b], single, rtol=1e-5, atol=1e-6)
    assert not np.allclose(both[0], both[1], atol=1e-4)


# ------------------------------------------------------------------------ compile cache
def test_seed_callable_monitor_compiles_once():
    sim = nm.Simulator(nm.WilsonCowanStep(3), dt=0.1)
    sim.run(20.0, monitors=lambda m: m.node.rE.value, key=0)
    before = trace_count()
    for _ in range(3):
        out = sim.run(20.0, monitors=lambda m: m.node.rE.value, key=0)   # a new lambda each time
    assert trace_count() == before
    ref = sim.run(20.0, monitors=["rE"], key=0)["rE"]
    np.testing.assert_array_equal(np.asarray(out["output"]), np.asarray(ref))
    # a lambda capturing a different value is a different program
    scale = 2.0
    got = sim.run(20.0, monitors=lambda m: scale * m.node.rE.value, key=0)["output"]
    np.testing.assert_allclose(np.asarray(got), 2.0 * np.asarray(ref), rtol=1e-6)


def test_delays_rounding_to_zero_steps_are_counted_in_a_warning(caplog):
    L = L_MM.copy()
    L[0, 1] = L[1, 0] = 0.1        # 0.1 mm at 3 mm/ms: 0.03 ms, below dt/2 = 0.05 ms
    net = nm.Network(_hopf(), conn=W, distance=L, speed=3.0, k=0.02)
    with caplog.at_level("WARNING", logger="neuralmass"):
        nm.Simulator(net, dt=0.1).run(1.0, key=0)
    assert any("2 of 6 connections" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------ per-region parameters
def test_per_region_values_by_label_and_index():
    conn = nm.datasets.load_dataset("example_connectome")
    labels = list(conn.labels)
    net = nm.Network(nm.HopfStep(conn.n_regions), conn=conn, k=0.01)
    sim = nm.Simulator(net, dt=0.1)
    a = np.asarray(sim.params(a={"default": -0.1, "regions": {labels[2]: 0.2, 5: 0.3}})["node"]["a"])
    expect = np.full(conn.n_regions, -0.1)
    expect[2], expect[5] = 0.2, 0.3
    np.testing.assert_allclose(a, expect)
    # Quantities are converted per value: 200 Hz = 0.2 per ms
    b = np.asarray(sim.params(a={"default": -100 * u.Hz, "regions": {labels[2]: 200 * u.Hz}})["node"]["a"])
    assert b[2] == pytest.approx(0.2) and b[0] == pytest.approx(-0.1)
    # the regions oscillate where a > 0 (radius sqrt(a)) and decay elsewhere
    res = sim.run(3000.0, monitors=["x"], transient=2000.0, key=0,
                  params={"a": {"default": -0.1, "regions": {labels[2]: 0.09}}, "k": 0.0})
    amp = np.abs(np.asarray(res["x"])).max(axis=0)
    assert amp[2] == pytest.approx(0.3, rel=0.02) and np.all(np.delete(amp, 2) < 1e-3)
    with pytest.raises(KeyError, match="unknown region label 'nowhere'"):
        sim.params(a={"default": 0.1, "regions": {"nowhere": 0.2}})
    with pytest.raises(IndexError, match="region index 99"):
        sim.params(a={"default": 0.1, "regions": {99: 0.2}})
    with pytest.raises(ValueError, match="has shape"):
        nm.HopfStep(conn.n_regions, a=np.zeros(conn.n_regions + 1))


def test_fit_space_per_region_and_per_group():
    from neuralmass.fit import SearchSpace

    conn = nm.datasets.load_dataset("example_connectome")
    labels = list(conn.labels)
    net = nm.Network(nm.HopfStep(conn.n_regions, a=-0.1), conn=conn, k=0.01)
    sim = nm.Simulator(net, dt=0.1)
    group = f"a[{labels[1]},{labels[4]}]"
    space = SearchSpace.from_spec({f"a[{labels[2]}]": (-0.5, 0.5), group: (0.0, 1.0), "k": (0.0, 0.1)},
                                  sim.system, sim.params())
    assert space.dims[0].regions == (2,) and space.dims[1].regions == (1, 4)
    P = space.apply(sim.params(), jnp_array([0.75, 0.5, 0.5]))
    a = np.asarray(P["node"]["a"])
    expect = np.full(conn.n_regions, -0.1)
    expect[2], expect[[1, 4]] = 0.25, 0.5
    np.testing.assert_allclose(a, expect, rtol=1e-6)
    assert float(P["k"]) == pytest.approx(0.05)
    with pytest.raises(KeyError, match="unknown region label"):
        SearchSpace.from_spec({"a[nowhere]": (0.0, 1.0)}, sim.system, sim.params())


def jnp_array(x):
    import jax.numpy as jnp
    return jnp.asarray(x)


def test_toml_per_region_parameters(tmp_path):
    """model.params.a = {default = ..., regions = {label = ...}} in a study config: parsed with
    units, range-checked, and resolved against the connectome's labels before simulating."""
    from neuralmass.config import load_config
    from neuralmass.studies.preflight import PreflightError
    from neuralmass.studies.resting_state import _regional_params, plan_study

    hcp = nm.datasets.load_dataset("hcp", bold=False)
    lab = str(hcp.labels[3])
    text = (f'[model]\nname = "Hopf"\nparams = {{ a = {{ default = "-0.02 / ms", regions = '
            f'{{ "{lab}" = "0.05 / ms", "7" = "-40 Hz" }} }} }}\n[study]\noutput = "{tmp_path / "out"}"\n')
    cfg_file = tmp_path / "study.toml"
    cfg_file.write_text(text)
    cfg = load_config(cfg_file)
    spec = nm.MODELS["Hopf"]
    a = np.asarray(u.get_magnitude(_regional_params(spec, cfg["model"]["params"], hcp.n_regions, hcp.labels)["a"]))
    expect = np.full(hcp.n_regions, -0.02)
    expect[3], expect[7] = 0.05, -0.04
    np.testing.assert_allclose(a, expect, rtol=1e-6)
    cfg_file.write_text(text.replace(lab, "nowhere"))
    with pytest.raises(PreflightError, match="unknown region label 'nowhere'"):
        plan_study(load_config(cfg_file))


def test_initial_values_of_a_new_module_are_not_taken_from_the_compile_cache():
    a = nm.Simulator(nm.HopfStep(2, x_init=0.3), dt=0.1).run(0.2, monitors=["x"], key=0)["x"]
    b = nm.Simulator(nm.HopfStep(2, x_init=0.1), dt=0.1).run(0.2, monitors=["x"], key=0)["x"]
    assert float(np.asarray(a)[0, 0]) == pytest.approx(0.3, abs=0.01)
    assert float(np.asarray(b)[0, 0]) == pytest.approx(0.1, abs=0.01)


def test_stimulus_outside_the_run_fails_before_simulating():
    from neuralmass import stimulus

    sim = nm.Simulator(nm.LinearStep(2), dt=0.1)
    with pytest.raises(ValueError, match="outside the run's time span"):
        sim.run(100.0, inputs={"x_ext": stimulus.pulse(onset=500.0, duration=10.0, amplitude=1.0)})


def test_unseeded_key_matches_brainstate_without_importing_unrelated_backends():
    """brainstate keeps a lazy uint32[2] placeholder until its first read; materializing it must
    give the key brainstate itself would give, without its array-backend probe importing dask or
    xarray (2 s of a first run in a fresh process where they are installed)."""
    import json

    code = (
        "import json, sys, numpy as np, jax, brainstate\n"
        "from neuralmass.engine.rng import resolve_key\n"
        "brainstate.random.DEFAULT._value = np.array([7, 9], np.uint32)\n"
        "ours = np.asarray(resolve_key(None)).tolist()\n"
        "after = np.asarray(jax.random.key_data(brainstate.random.split_key())).tolist()\n"
        "print(json.dumps([ours, after, 'dask' in sys.modules, 'xarray' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ours, after, dask, xarray = json.loads(out.stdout.strip().splitlines()[-1])
    # brainstate's documented behaviour on that placeholder: wrap the bits, split, keep keys[0]
    k0, k1 = jax.random.split(jax.random.wrap_key_data(np.array([7, 9], np.uint32)))
    assert ours == np.asarray(jax.random.key_data(k1)).tolist()
    assert after == np.asarray(jax.random.key_data(jax.random.split(k0)[1])).tolist()
    assert not dask and not xarray


@pytest.mark.parametrize("batch", [None, 3])
def test_unseeded_run_splits_the_global_key_as_brainstate_does(batch):
    """``run(key=None)`` splits brainstate's global key inside its compiled init program; the
    noise and the global state afterwards must be those of brainstate's own ``split_key``."""
    sim = _noisy()
    brainstate.random.seed(7)
    run_key = brainstate.random.split_key()
    state_after = np.asarray(jax.random.key_data(brainstate.random.split_key()))
    expected = np.asarray(sim.run(50.0, key=jax.random.key_data(run_key), batch_size=batch)["x"])
    brainstate.random.seed(7)
    got = np.asarray(sim.run(50.0, batch_size=batch)["x"])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.asarray(jax.random.key_data(brainstate.random.split_key())), state_after)


def _blowing_up():
    """Euler with dt/tau > 2 grows without bound: lanes with tau = 0.01 or 0.02 ms diverge."""
    return nm.Simulator(nm.LinearStep(3, noise_x=nm.WhiteNoise(3, sigma=0.1)), dt=0.1, method="euler",
                        progress=False)


def test_on_divergence_nan_flags_lanes_and_keeps_the_others():
    sim = _blowing_up()
    taus = np.array([10.0, 0.01, 5.0, 0.02])[:, None]
    res = sim.run(20.0, params={"tau": taus}, key=1, on_divergence="nan", monitors=["x"])
    np.testing.assert_array_equal(res["diverged"], [False, True, False, True])
    x = np.asarray(res["x"])
    assert np.isnan(x[[1, 3]]).all() and np.isfinite(x[[0, 2]]).all()
    # the finite lanes are those of a run where no lane diverged (same lane keys)
    ok = sim.run(20.0, params={"tau": np.array([10.0, 10.0, 5.0, 5.0])[:, None]}, key=1, monitors=["x"])
    np.testing.assert_array_equal(x[[0, 2]], np.asarray(ok["x"])[[0, 2]])
    assert not ok.get("diverged", np.zeros(4, bool)).any()
    # the default still stops the run, naming the lane
    with pytest.raises(nm.SimulationDiverged, match="batch lane 1"):
        sim.run(20.0, params={"tau": taus}, key=1)


def test_on_divergence_nan_unbatched_and_bad_value():
    sim = _blowing_up()
    res = sim.run(20.0, params={"tau": 0.01}, key=0, on_divergence="nan")
    assert bool(res["diverged"]) and np.isnan(np.asarray(res["x"])).all()
    fine = sim.run(20.0, key=0, on_divergence="nan")
    assert not bool(fine["diverged"]) and np.isfinite(np.asarray(fine["x"])).all()
    with pytest.raises(ValueError, match="on_divergence='ignore'.*'raise'.*'nan'"):
        sim.run(20.0, on_divergence="ignore")
