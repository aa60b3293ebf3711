"""Float64 on delayed networks: the delay lines index their ring buffers with one integer type
whatever ``jax_enable_x64`` says (it used to raise ``TypeError: index arguments to
dynamic_update_slice must be integers of the same type, got int64, int32``)."""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from _networks import small_delayed_hopf


def _net(traced_speed: bool):
    return small_delayed_hopf(traced_speed)


@pytest.mark.parametrize("traced_speed", [False, True], ids=["static-delays", "traced-speed"])
def test_delayed_network_runs_batches_and_differentiates_in_float64(traced_speed):
    with jax.enable_x64(True):
        net = _net(traced_speed)
        sim = nm.Simulator(net, dt=5.0)
        keys = nm.engine.lane_keys(1, 3)
        res = sim.run(2_000.0, monitors=["x"], key=keys[1])
        assert res["x"].dtype == np.float64
        # a batch of couplings: lane 1 equals the single run at the same coupling and key
        ks = jnp.array([0.001, 0.002, 0.003])
        batched = sim.run(2_000.0, monitors=["x"], params={"k": ks}, key=keys)
        assert batched["x"].shape[0] == 3 and batched["x"].dtype == np.float64
        np.testing.assert_allclose(np.asarray(batched["x"][1]), np.asarray(res["x"]), rtol=1e-12, atol=1e-15)

        # reverse mode equals a float64 central difference to 1e-6 relative
        run = nm.make_run_fn(net, 5.0, 4_000.0, monitors=["x"])
        params = sim.params()

        def loss(k):
            x = run({**params, "k": k}, jax.random.PRNGKey(3))["x"]
            return jnp.mean(x[:, 0] * x[:, 1])

        k0 = jnp.asarray(0.002, jnp.float64)
        g = float(jax.grad(loss)(k0))
        h = 1e-6
        fd = float((loss(k0 + h) - loss(k0 - h)) / (2 * h))
        assert abs(g) > 0
        assert g == pytest.approx(fd, rel=1e-5)


# ------------------------------------------------------------------------------------------
# every public path once in float64 on a tiny network
# ------------------------------------------------------------------------------------------
W3 = np.array([[0.0, 0.6, 0.2], [0.5, 0.0, 0.4], [0.3, 0.7, 0.0]])
L3 = np.array([[0.0, 23.0, 31.0], [23.0, 0.0, 27.0], [31.0, 27.0, 0.0]])


def _mag(x):
    return np.asarray(getattr(x, "mantissa", x))


def _f64(x):
    a = _mag(x)
    assert a.dtype == np.float64, a.dtype
    assert np.all(np.isfinite(a))
    return a


def _hopf3(sigma=0.001):
    return nm.HopfStep(3, a=-0.5 / u.second, omega=2 * np.pi * 0.1 * u.Hz,
                       noise_x=nm.WhiteNoise(3, sigma=sigma), noise_y=nm.WhiteNoise(3, sigma=sigma))


def test_simulator_paths_in_float64():
    """Single, batched and ``on_divergence='nan'`` runs, make_run_fn (plain and remat), online
    BOLD and a temporal average, constant and stimulus inputs — all float64 end to end."""
    from neuralmass import stimulus as st

    with jax.enable_x64(True):
        net = nm.Network(_hopf3(), conn=W3, distance=L3, speed=2.0, k=0.002)
        sim = nm.Simulator(net, dt=5.0)
        one = _f64(sim.run(500.0, monitors=["x"], key=0)["x"])
        two = sim.run(500.0, monitors=["x"], key=nm.engine.lane_keys(0, 2), batch_size=2)
        _f64(two["x"])
        res = sim.run(500.0, monitors=["x"], key=0, params={"k": jnp.array([0.002, 1e6])}, on_divergence="nan")
        assert list(res["diverged"]) == [False, True]
        assert _mag(res["x"]).dtype == np.float64 and np.isnan(_mag(res["x"])[1]).all()
        assert np.all(np.isfinite(_mag(res["x"])[0]))
        run = nm.make_run_fn(net, 5.0, 500.0, monitors=["x"])
        x = _f64(run(sim.params(), jax.random.PRNGKey(0))["x"])
        np.testing.assert_allclose(x, one, rtol=1e-12, atol=1e-15)
        xr = _f64(nm.make_run_fn(net, 5.0, 500.0, monitors=["x"], remat=3)(sim.params(), jax.random.PRNGKey(0))["x"])
        np.testing.assert_array_equal(xr, x)
        # online BOLD and a temporal average, single and batched
        mons = [nm.BOLDMonitor("x", tr=500.0, scale=20.0), nm.TemporalAverage("x", period=100.0, name="avg")]
        r = sim.run(10_000.0, monitors=mons, key=0)
        assert np.abs(_f64(r["bold"])).max() > 0 and _f64(r["avg"]).shape == (100, 3)
        _f64(sim.run(10_000.0, monitors=mons, key=0, batch_size=2)["bold"])
        # inputs: a per-node constant, a smooth pulse plus a sinusoid, a pulse train (batched)
        _f64(sim.run(500.0, monitors=["x"], inputs={"x_ext": jnp.array([1e-3, 2e-3, 3e-3])}, key=0)["x"])
        s = st.pulse(100.0, 50.0, 0.01, rise=5.0).at([0], n=3) + st.sinusoid(10 * u.Hz, 0.01, duration=300.0)
        xs = _f64(sim.run(500.0, monitors=["x"], inputs={"x_ext": s}, key=0)["x"])
        assert np.abs(xs - one).max() > 1e-4
        tr = st.pulse_train(10.0, 20 * u.Hz, 5.0, 0.01, n_pulses=3)
        _f64(sim.run(500.0, monitors=["x"], inputs={"x_ext": tr}, key=0, batch_size=2)["x"])


def test_pathways_in_float64():
    """Two coupled sums (r and V of Montbrió–Pazó–Roxin) single and batched over one strength."""
    with jax.enable_x64(True):
        node = nm.MontbrioPazoRoxinStep(3, cv=1.0, method="euler", noise_V=nm.WhiteNoise(3, sigma=0.05))
        net = nm.Network(node, conn=W3, delays=np.array([[0, 7, 12], [5, 0, 9], [11, 4, 0]]) * 0.01,
                         coupled_var={"r_ext": "r", "V_ext": "V"},
                         coupling={"r_ext": "linear", "V_ext": "diffusive"},
                         coupling_input={"r_ext": 0.8, "V_ext": 0.6})
        sim = nm.Simulator(net, dt=0.01, method="euler")
        keys = nm.engine.lane_keys(0, 2)
        one = _f64(sim.run(1.0, monitors=["V"], key=keys[1], params={"k_V_ext": 0.9})["V"])
        both = _f64(sim.run(1.0, monitors=["V"], key=keys, params={"k_V_ext": jnp.array([0.0, 0.9])})["V"])
        np.testing.assert_allclose(both[1], one, rtol=1e-12, atol=1e-14)


def test_linear_static_delays_keep_float64_fractions():
    """Static delays read by linear interpolation equal the traced-speed line (which computes its
    fractions in float64) to float64 round-off: the static line's fractions are not float32."""
    with jax.enable_x64(True):
        def x(**kw):
            net = nm.Network(_hopf3(0.0), conn=W3, distance=L3, speed=2.3, k=0.01, **kw)
            return _f64(nm.Simulator(net, dt=1.0).run(300.0, monitors=["x"], key=0)["x"])

        a, b = x(delay_mode="linear"), x(speed_range=(1.0, 5.0))
        assert np.abs(a).max() > 0.05
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_sweep_in_float64(tmp_path):
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    from neuralmass.explore import Sweep, open_sweep

    with jax.enable_x64(True):
        node = nm.HopfStep(3, a=-0.2, omega=2 * np.pi * 0.02, noise_x=nm.WhiteNoise(3, sigma=0.05))
        sw = Sweep(nm.Network(node, conn=W3, coupling="diffusive", k=0.1), {"k": [0.0, 0.2]}, seeds=1,
                   chunk=1, dt=1.0, duration=200.0, transient=20.0, period=5.0,
                   features=["rate_mean", "rate_var"])
        sw.run(tmp_path / "s", scheduler="serial", progress=False)
        v = _f64(open_sweep(tmp_path / "s").rate_var.values)
        assert v.shape == (2, 1) and np.all(v > 0) and v[0, 0] != v[1, 0]


@pytest.mark.parametrize("backend", ["grad", "nevergrad"])
def test_fitter_in_float64(backend):
    """Targets, parameter points, losses and gradients of a fit stay float64 (they were cast to
    float32 whatever jax_enable_x64 said)."""
    pytest.importorskip("optax")
    if backend == "nevergrad":
        pytest.importorskip("nevergrad")
    from neuralmass.fit import Fitter

    with jax.enable_x64(True):
        node = nm.LinearStep(3, tau=50.0, noise_x=nm.WhiteNoise(3, sigma=0.5))
        f = Fitter(nm.Network(node, conn=W3, k=0.1, coupling="diffusive"),
                   loss_fn=lambda x, t: (jnp.log(jnp.var(x)) - t) ** 2, backend=backend,
                   space={"tau": dict(bounds=(2.0, 100.0), transform="log", init=10.0), "speed": (1.0, 20.0)},
                   distance=L3, dt=1.0, duration=200.0, monitors=["x"], batch_size=3, progress=False)
        res = f.fit(1.0, 2)
        assert np.isfinite(res.loss) and len(res.history) == 2
        L = f.evaluate({"tau": np.array([10.0, 10.0 + 1e-9]), "speed": np.array([5.0, 5.0])}, 1.0)
        assert L.dtype == np.float64 and L[0] != L[1]     # a float32 loss cannot tell them apart
        if backend == "grad":
            Z = jnp.asarray(np.array([[0.1, 0.2]]))
            val, g = f._grad_fn(jnp.asarray(1.0))(Z, jnp.asarray(1.0), f._key(0))
            assert val.dtype == np.float64 and g.dtype == np.float64 and np.all(g != 0)


def test_inference_simulate_and_one_training_step_in_float64():
    pytest.importorskip("equinox")
    pytest.importorskip("optax")
    from neuralmass.inference import estimators as es
    from neuralmass.inference.erp import ERPConfig, simulate_erps
    from neuralmass.inference.priors import make_prior

    with jax.enable_x64(True):
        cfg = ERPConfig(fs=100.0, dt=1.0, integrator="heun")
        prior = make_prior()
        th = np.asarray(prior.sample(jax.random.PRNGKey(0), 8))
        erps, ok = simulate_erps(th, prior, cfg, key=jax.random.PRNGKey(1))
        assert erps.dtype == np.float64 and ok.all()      # it returned float32 whatever the mode
        x, y = jnp.asarray(erps)[:, None, :], jnp.asarray(prior.to_unit(th))
        m = es.make_estimator("source_mlp", 1, erps.shape[1], prior.dim, seed=0, width=16, depth=1)

        def loss(mod, b, k):
            return jnp.mean((jax.vmap(mod)(b[0]) - b[1]) ** 2)

        r = es.fit(m, loss, (x[:6], y[:6]), (x[6:], y[6:]), epochs=1, batch_size=3, progress=False, max_steps=1)
        assert r.steps == 1 and np.isfinite(r.train_loss[0]) and np.isfinite(r.val_loss[0])
        out = es.predict(r.model, x[:2])
        assert out.dtype == np.float64 and out.shape == (2, prior.dim)
