"""The compiled engine: stochastic integration, batching, compile caching, chunking, errors."""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.noise import ou_exact_step
from neuralmass.simulate import lane_keys, standard_normals, trace_count


def _mag(x):
    return np.asarray(x.mantissa if isinstance(x, u.Quantity) else x)


# ----------------------------------------------------------------------------- noise statistics
def test_engine_normals_are_standard_normal_and_lane_exact_under_vmap():
    from scipy import stats

    z = np.concatenate([np.asarray(standard_normals(jax.random.PRNGKey(s), b, (250_000,)))
                        for s in range(2) for b in range(2)])
    assert np.isfinite(z).all()
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and abs(z.var() - 1) < 6 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(stats.kurtosis(z)) < 6 * np.sqrt(24 / z.size)
    # blocks and keys give independent streams
    a, b = (np.asarray(standard_normals(jax.random.PRNGKey(0), blk, (20_000,))) for blk in (0, 1))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03
    # under vmap every lane draws from its own key (XLA's generator alone would not)
    for n_lanes in (3, 67):
        keys = lane_keys(5, n_lanes)
        batched = np.asarray(jax.jit(jax.vmap(lambda k: standard_normals(k, 3, (2, 5))))(keys))
        single = np.stack([np.asarray(standard_normals(k, 3, (2, 5))) for k in keys])
        np.testing.assert_array_equal(batched, single)


def test_ou_exact_step_stationary_variance_and_correlation_time():
    sigma, tau, dt, n = 0.3, 20.0, 1.0, 200_000
    keys = jax.random.split(jax.random.PRNGKey(0), n)

    def body(x, k):
        x = ou_exact_step(x, k, 0.0, sigma, tau, dt)
        return x, x

    _, xs = jax.lax.scan(body, jnp.zeros(4), keys)
    xs = np.asarray(xs)
    var = xs.var()
    # 4 chains x 200k samples with correlation time 20 steps: relative s.e. of the variance ~1.4%
    assert var == pytest.approx(sigma ** 2, rel=0.05)
    lag = int(tau / dt)
    x0 = xs[:-lag] - xs.mean()
    x1 = xs[lag:] - xs.mean()
    rho = np.mean(x0 * x1) / var
    assert rho == pytest.approx(np.exp(-1.0), abs=0.03)


def test_engine_ou_noise_statistics_independent_of_dt():
    """A linear node driven by OU noise: Var[x] = sigma^2 tau_x^2 tau_n / (tau_x + tau_n) (stationary)."""
    tau_x, tau_n, sigma = 5.0, 10.0, 0.02
    theory = sigma ** 2 * tau_x ** 2 * tau_n / (tau_x + tau_n)
    for dt in (0.1, 0.05):
        node = nm.LinearStep(1, tau=tau_x, noise_x=nm.OUProcess(1, sigma=sigma, tau=tau_n))
        res = nm.Simulator(node, dt=dt).run(20_000.0, monitors="x", period=1.0, transient=200.0,
                                            batch_size=8, key=1)
        assert _mag(res["x"]).var() == pytest.approx(theory, rel=0.08)


def test_white_noise_sde_statistics_do_not_change_when_dt_halves():
    """dx = -x/tau dt + sigma dW: stationary variance sigma^2 tau / 2 for any dt (Euler–Maruyama)."""
    tau, sigma = 10.0, 0.1
    variances = {}
    for method in ("euler", "heun"):
        for dt in (0.4, 0.2, 0.1):   # Euler's discrete variance bias, dt / (2 tau), is <= 2 %
            node = nm.LinearStep(1, tau=tau, noise_x=nm.WhiteNoise(1, sigma=sigma))
            res = nm.Simulator(node, dt=dt, method=method).run(
                20_000.0, monitors="x", period=0.8, transient=100.0, batch_size=8, key=2)
            variances[method, dt] = _mag(res["x"]).var()
            assert variances[method, dt] == pytest.approx(sigma ** 2 * tau / 2, rel=0.08)
    # no systematic drift with dt (a sqrt(dt) scaling bug would change it by 2x per halving)
    assert variances["heun", 0.1] / variances["heun", 0.4] == pytest.approx(1.0, abs=0.12)


# ----------------------------------------------------------------------------- batching
def test_batch_lane_equals_single_run_with_same_key():
    taus = np.array([5.0, 10.0, 20.0, 40.0])
    sim = nm.Simulator(nm.LinearStep(1, noise_x=nm.WhiteNoise(1, sigma=0.1)), dt=0.1)
    batch = sim.run(300.0, monitors="x", params={"tau": taus}, key=7)
    xb = _mag(batch["x"])
    assert xb.shape[0] == 4
    keys = lane_keys(7, 4)
    for b in range(4):
        single = sim.run(300.0, monitors="x", params={"tau": taus[b]}, key=keys[b])
        np.testing.assert_allclose(xb[b], _mag(single["x"]), rtol=1e-4, atol=1e-6)


def test_batch_lanes_draw_independent_noise():
    sim = nm.Simulator(nm.LinearStep(2, noise_x=nm.WhiteNoise(2, sigma=0.1)), dt=0.1)
    x = _mag(sim.run(2000.0, monitors="x", batch_size=6, key=3)["x"])  # (6, T, 2)
    flat = x.reshape(6, -1)
    c = np.corrcoef(flat)
    off = c[~np.eye(6, dtype=bool)]
    assert np.abs(off).max() < 0.2  # independent lanes: correlations near 0
    # nodes inside one lane are independent too
    assert abs(np.corrcoef(x[0, :, 0], x[0, :, 1])[0, 1]) < 0.2


def test_batched_node_parameter_matrix():
    """(B, n) per-node batches: each lane uses its own row."""
    a = np.array([[0.04, 0.09], [0.16, 0.25]])
    res = nm.Simulator(nm.HopfStep(2), dt=0.05, method="rk4").run(
        1500.0, monitors=["x", "y"], transient=1000.0, params={"a": a})
    r = np.sqrt(_mag(res["x"]) ** 2 + _mag(res["y"]) ** 2)[:, -1, :]
    np.testing.assert_allclose(r, np.sqrt(a), rtol=2e-3)


# ----------------------------------------------------------------------------- compile caching
def test_second_run_and_new_parameter_values_compile_nothing():
    sim = nm.Simulator(nm.WilsonCowanStep(4), dt=0.1)
    sim.run(100.0, monitors="rE", transient=10.0, inputs={"rE_inp": 0.5})
    before = trace_count()
    sim.run(100.0, monitors="rE", transient=10.0, inputs={"rE_inp": 0.7}, params={"wEE": 11.0})
    # a new Simulator for a new module of the same structure reuses the compiled code too
    nm.Simulator(nm.WilsonCowanStep(4, a_E=1.3), dt=0.1).run(100.0, monitors="rE", transient=10.0,
                                                             inputs={"rE_inp": 0.7})
    assert trace_count() == before


def test_chunked_run_equals_single_chunk():
    node = nm.JansenRitStep(2, noise_p=nm.OUProcess(2, sigma=20.0, tau=5.0))
    a = nm.Simulator(node, dt=0.1).run(500.0, monitors="eeg", transient=50.0, inputs={"p": 200.0}, key=5)
    b = nm.Simulator(node, dt=0.1, chunk_steps=700, progress=False).run(
        500.0, monitors="eeg", transient=50.0, inputs={"p": 200.0}, key=5)
    np.testing.assert_allclose(_mag(a["eeg"]), _mag(b["eeg"]), rtol=1e-5, atol=1e-6)


def test_monitor_sampling_and_time_axis_match_seed():
    net = nm.WilsonCowanStep(8)
    res = nm.Simulator(net, dt=0.1 * u.ms).run(4000.0 * u.ms, monitors=lambda m: m.node.rE.value,
                                               transient=300.0 * u.ms)
    assert res["output"].shape == (37000, 8)  # the seed's printed shape
    ts = _mag(res["ts"])
    assert ts[0] == pytest.approx(300.1) and ts[-1] == pytest.approx(4000.0)


def test_temporal_average_equals_mean_of_raw():
    node = nm.LinearStep(1, noise_x=nm.WhiteNoise(1, sigma=0.1))
    res = nm.Simulator(node, dt=0.1).run(
        100.0, monitors=["x", nm.TemporalAverage("x", period=1.0, name="avg")], key=4)
    raw = _mag(res["x"])[:, 0]
    np.testing.assert_allclose(_mag(res["avg"])[:, 0], raw.reshape(100, 10).mean(1), rtol=1e-4, atol=1e-7)


def test_time_dependent_input_function():
    # x' = -x/tau + sin(w t): compare with the analytic periodic solution
    tau, w = 10.0, 2 * np.pi / 50.0
    res = nm.Simulator(nm.LinearStep(1, tau=tau), dt=0.05, method="rk4").run(
        600.0, monitors="x", transient=400.0, inputs={"x_ext": lambda t: jnp.sin(w * t)})
    t = _mag(res["ts"])
    exact = tau * (np.sin(w * t) - w * tau * np.cos(w * t)) / (1 + (w * tau) ** 2)
    # inputs are held over a step: first-order error in dt
    np.testing.assert_allclose(_mag(res["x"])[:, 0], exact, atol=2e-2)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(dt=0.0), "dt=0.0 must be a positive"),
    (dict(dt=-0.1), "dt=-0.1 must be a positive"),
    (dict(dt=0.1 * u.mV), "not a time"),
])
def test_bad_dt(kwargs, match):
    with pytest.raises((ValueError,), match=match):
        nm.Simulator(nm.HopfStep(1), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(duration=0.0), "duration=0.0 must be positive"),
    (dict(duration=100.0, transient=100.0), "transient=100.0 must be shorter than duration"),
    (dict(duration=100.0, monitors=["rX"]), "monitors: monitor 'rX' is neither a state variable nor an observable"),
    (dict(duration=100.0, inputs={"bogus": 1.0}), "no input 'bogus'"),
    (dict(duration=100.0, inputs={"p": 1.0 * u.mV}), "p=.*cannot be converted to Hz"),
    (dict(duration=100.0, period=0.15), "not a positive multiple of dt"),
    (dict(duration=100.0, params={"A": np.ones(5)}), "neither per-node"),
])
def test_bad_run_arguments(kwargs, match):
    sim = nm.Simulator(nm.JansenRitStep(2), dt=0.1)
    dur = kwargs.pop("duration")
    with pytest.raises((ValueError, KeyError), match=match):
        sim.run(dur, **kwargs)


def test_bad_model_arguments():
    with pytest.raises(TypeError, match="unexpected argument 'tauE'"):
        nm.WilsonCowanStep(2, tauE=1.0)
    with pytest.raises(ValueError, match="tau_E=.*cannot be converted"):
        nm.WilsonCowanStep(2, tau_E=1.0 * u.mV)
    with pytest.raises(ValueError, match="shape"):
        nm.WilsonCowanStep(2, a_E=np.ones(3))


def test_divergence_names_step_and_variable():
    # explicit Euler on a stiff linear node (dt/tau = 3) blows up
    sim = nm.Simulator(nm.LinearStep(1, tau=0.1, x_init=1.0), dt=0.3, method="euler")
    with pytest.raises(nm.SimulationDiverged, match=r"'x' became NaN/Inf at step \d+ .*smaller dt"):
        sim.run(300.0, monitors="x")


def test_divergence_to_inf_in_one_node_is_caught_at_its_step():
    """The per-step finiteness check sees an Inf (not only a NaN) in a single node: explicit Euler
    with dt/tau = 3 multiplies x by about -2 per step, until x / tau overflows float32 and the
    step gives an infinite x (not a NaN); the other node stays finite. The step is found by the
    same recursion in NumPy."""
    sim = nm.Simulator(nm.LinearStep(2, tau=[0.1, 10.0], x_init=1.0), dt=0.3, method="euler")
    x, n = np.float32(1.0), 0
    with np.errstate(over="ignore"):
        while np.isfinite(x):
            x, n = np.float32(x + np.float32(0.3) * (-x / np.float32(0.1))), n + 1
    assert np.isinf(x) and 120 < n < 130
    with pytest.raises(nm.SimulationDiverged, match=rf"'x' became NaN/Inf at step {n - 1} "):
        sim.run(300.0, monitors="x")


def test_monitors_with_different_periods_in_one_run():
    """Raw at 1 ms and TemporalAverage at 5 ms together equal the separate runs (deterministic
    drive: with noise, the random stream is drawn per sampling block, so it depends on the periods)."""
    node = nm.LinearStep(2, tau=[5.0, 20.0])
    sim = nm.Simulator(node, dt=0.1, method="rk4")
    drive = {"x_ext": lambda t: jnp.sin(2 * jnp.pi * t / 37.0)}
    both = sim.run(200.0, monitors=["x", nm.TemporalAverage("x", period=5.0, name="avg")],
                   period=1.0, transient=10.0, inputs=drive)
    raw = sim.run(200.0, monitors="x", period=1.0, transient=10.0, inputs=drive)
    avg = sim.run(200.0, monitors=nm.TemporalAverage("x", period=5.0, name="avg"), transient=10.0,
                  inputs=drive)
    np.testing.assert_allclose(_mag(both["x"]), _mag(raw["x"]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_mag(both["avg"]), _mag(avg["avg"]), rtol=1e-5, atol=1e-7)
    # and the 5 ms average is the mean of the fine trajectory over each window
    fine = _mag(sim.run(200.0, monitors="x", transient=10.0, inputs=drive)["x"])
    np.testing.assert_allclose(_mag(avg["avg"]), fine.reshape(38, 50, 2).mean(1), rtol=1e-5, atol=1e-7)
    assert _mag(both["ts_avg"])[0] == pytest.approx(15.0)


def test_monitor_out_of_range_is_reported():
    """A BOLD drive far beyond the hemodynamic model's range (blood inflow -> 0) is an error
    naming the monitor, not a silent NaN."""
    node = nm.LinearStep(1, tau=50.0, noise_x=nm.WhiteNoise(1, sigma=0.2))
    sim = nm.Simulator(node, dt=1.0)
    with pytest.raises(nm.SimulationDiverged,
                       match=r"monitor 'bold' stopped being finite .*inflow f was driven to zero.*bold\.scale = 500.*lower it"):
        sim.run(60_000.0, monitors=[nm.BOLDMonitor("x", tr=1000.0, scale=500.0)], key=0)


def test_run_continues_from_a_returned_state():
    """make_run_fn(return_state=True) returns the final state; a second run started from it
    (run(..., state=)) continues the first exactly: 200 + 300 steps equal one run of 500."""
    from neuralmass.engine import NodeSystem, default_params, make_run_fn
    from neuralmass.models.jansen_rit import JANSEN_RIT

    system = NodeSystem(JANSEN_RIT, 3, method="heun")
    params = default_params(system)
    params["node"]["C"] = jnp.array([120.0, 135.0, 150.0])
    whole = make_run_fn(system, 0.5, 250.0, monitors=["eeg"], return_state=True)(params, 0)
    first = make_run_fn(system, 0.5, 100.0, monitors=["eeg"], return_state=True)(params, 0)
    second = make_run_fn(system, 0.5, 150.0, monitors=["eeg"])(params, 0, state=first["state"])
    np.testing.assert_array_equal(np.concatenate([first["eeg"], second["eeg"]]), whole["eeg"])
    assert set(whole["state"]) == set(JANSEN_RIT.state_names) and whole["state"]["y1"].shape == (3,)
    with pytest.raises(ValueError, match="return_state"):
        make_run_fn(system, 0.5, 10.0, monitors=[nm.monitors.Raw("y0", name="state")], return_state=True)
