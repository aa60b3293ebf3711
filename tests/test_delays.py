"""Conduction delays: arrival times, analytic delayed responses, interpolation, blocked reads."""

import numpy as np
import pytest
import brainunit as u

import neuralmass as nm

TAU = 10.0  # ms, relaxation time of the linear node


def linear_pair(delay_ms, k, dt, mode="integer", symmetric=False, **kw):
    """x' = -x/tau + k * w x_j(t - d), x0(0) = 1, zero history; returns (t, x) sampled every step."""
    W = np.array([[0.0, 1.0 if symmetric else 0.0], [1.0, 0.0]])
    node = nm.LinearStep(2, tau=TAU * u.ms, x_init=np.array([1.0, 0.0]))
    net = nm.Network(node, conn=W, delays=np.full((2, 2), delay_ms), coupling="linear", k=k,
                     delay_mode=mode, history=0.0, **kw)
    return net


def run(net, dt, T, method="euler", **kw):
    sim = nm.Simulator(net, dt=dt, method=method, progress=False, **kw)
    res = sim.run(T, monitors=["x"])
    x = np.asarray(u.get_magnitude(res["x"]))
    t = np.asarray(res["ts"].to_decimal(u.ms))
    # prepend the initial state (t = 0)
    return np.concatenate([[0.0], t]), np.vstack([[1.0, 0.0], x])


@pytest.mark.parametrize("mode", ["integer", "linear"])
def test_impulse_arrives_after_length_over_speed(mode):
    dt = 0.1
    # 37.5 mm at 5 mm/ms = 7.5 ms = 75 steps exactly
    W = np.array([[0.0, 0.0], [1.0, 0.0]])
    D = np.array([[0.0, 37.5], [37.5, 0.0]]) * u.mm
    node = nm.LinearStep(2, tau=TAU * u.ms, x_init=np.array([1.0, 0.0]))
    net = nm.Network(node, conn=W, distance=D, speed=5.0 * u.mm / u.ms, coupling="linear", k=1.0,
                     delay_mode=mode, history=0.0)
    t, x = run(net, dt, 12.0)
    first = np.argmax(np.abs(x[:, 1]) > 0)
    # Euler: input first non-zero at step 75, so x1 first non-zero at step 76
    assert first == 76, first
    # the increment equals dt * k * x0(t - 7.5 ms) = dt * x0(0) = dt
    np.testing.assert_allclose(x[76, 1], dt * 1.0, rtol=1e-5)


def test_interpolated_impulse_weights_the_two_neighbouring_samples():
    dt = 0.1
    d = 7.53  # 75.3 steps: lo = 75, f = 0.3
    t, x = run(linear_pair(d, 1.0, dt, mode="linear"), dt, 12.0)
    first = np.argmax(np.abs(x[:, 1]) > 0)
    assert first == 76
    # c(75) = (1 - f) x0(0) + f x0(-1) = 0.7 (history zero)
    np.testing.assert_allclose(x[76, 1], dt * 0.7, rtol=1e-4)
    # integer mode reads a whole-step lag: 75 steps (rounding 75.3)
    t, xi = run(linear_pair(d, 1.0, dt, mode="integer"), dt, 12.0)
    assert np.argmax(np.abs(xi[:, 1]) > 0) == 76
    np.testing.assert_allclose(xi[76, 1], dt * 1.0, rtol=1e-5)


def analytic(t, d, k):
    """Method of steps for the symmetric pair on [0, 3d)."""
    e = np.exp(-t / TAU)
    x0 = e.copy()
    x1 = np.where(t >= d, k * (t - d) * np.exp(-(t - d) / TAU), 0.0)
    m = t >= 2 * d
    x0[m] = e[m] + k * k * np.exp(-(t[m] - 2 * d) / TAU) * (t[m] - 2 * d) ** 2 / 2
    return x0, x1


def test_linear_delayed_pair_matches_method_of_steps():
    d, k, dt = 2.0, 0.8, 0.005
    t, x = run(linear_pair(d, k, dt, symmetric=True), dt, 3 * d - dt, method="heun")
    x0, x1 = analytic(t, d, k)
    # the delayed input is held over each step: first-order error ~ k * dt
    np.testing.assert_allclose(x[:, 0], x0, atol=3 * k * dt)
    np.testing.assert_allclose(x[:, 1], x1, atol=3 * k * dt)
    # and the response in [d, 2d) is clearly non-trivial
    assert x[t < 2 * d, 1].max() > 1.0


def test_interpolated_and_integer_delays_converge_as_dt_shrinks():
    d, k = 2.013, 0.8  # rounding error of the integer lag: 0.013, 0.007, 0.003 ms
    gaps, errs_lin = [], []
    for dt in (0.04, 0.02, 0.01):
        t, xi = run(linear_pair(d, k, dt, mode="integer", symmetric=True), dt, 3 * d - 0.05)
        _, xl = run(linear_pair(d, k, dt, mode="linear", symmetric=True), dt, 3 * d - 0.05)
        gaps.append(np.abs(xi - xl).max())
        errs_lin.append(np.abs(xl[:, 1] - analytic(t, d, k)[1]).max())
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.5 * gaps[0]
    assert errs_lin[0] > errs_lin[2]


def random_net(n=12, seed=1, **kw):
    rng = np.random.default_rng(seed)
    W = np.where(rng.random((n, n)) < 0.4, rng.random((n, n)), 0.0)
    np.fill_diagonal(W, 0)
    L = rng.uniform(5.0, 60.0, (n, n))
    node = nm.WilsonCowanStep(n, rE_init=rng.uniform(0, 0.3, n))
    return nm.Network(node, conn=W, distance=L, speed=5.0, coupling="diffusive", k=0.8, **kw)


@pytest.mark.parametrize("mode", ["integer", "linear"])
def test_blocked_sparse_reads_equal_per_step_dense_reads(mode):
    T = 60.0
    ref = nm.Simulator(random_net(delay_mode=mode, block=1, path="dense"), dt=0.1).run(
        T, monitors=["rE"], inputs={"rE_inp": 1.5})["rE"]
    net = random_net(delay_mode=mode)
    assert net.delay_line(0.1).block > 5
    got = nm.Simulator(net, dt=0.1).run(T, monitors=["rE"], inputs={"rE_inp": 1.5})["rE"]
    assert np.abs(np.diff(np.asarray(ref), axis=0)).max() > 1e-3  # it moves
    np.testing.assert_allclose(got, ref, atol=2e-5)


@pytest.mark.parametrize("mode,path", [("integer", "sparse"), ("linear", "dense")])
def test_batched_lanes_read_the_shared_delay_line_exactly_like_single_runs(mode, path):
    """Batched runs keep one lanes-last delay line for all lanes; each lane must equal its own run."""
    from neuralmass.simulate import lane_keys

    node = nm.WilsonCowanStep(12, rE_init=np.random.default_rng(1).uniform(0, 0.3, 12),
                              noise_E=nm.OUProcess(12, sigma=0.02, tau=5.0 * u.ms))
    net = random_net(n=12, delay_mode=mode, path=path)
    net = nm.Network(node, conn=net.weights, delays=net.delays_ms, coupling="diffusive", k=0.8,
                     delay_mode=mode, path=path, history=(0.0, 0.2))
    sim = nm.Simulator(net, dt=0.1, chunk_steps=230, progress=False)
    ks = np.array([0.0, 0.8, 2.0])
    kw = dict(monitors=["rE"], transient=5.0, inputs={"rE_inp": 1.5})
    batched = np.asarray(sim.run(60.0, params={"k": ks}, key=4, **kw)["rE"])
    assert batched.shape[0] == 3
    for b, key in enumerate(lane_keys(4, 3)):
        one = np.asarray(sim.run(60.0, params={"k": ks[b]}, key=key, **kw)["rE"])
        np.testing.assert_allclose(batched[b], one, atol=2e-6)
    assert np.abs(batched[0] - batched[2]).max() > 1e-3   # k matters


def test_buffer_is_carried_across_chunks():
    net = random_net()
    a = nm.Simulator(net, dt=0.1).run(50.0, monitors=["rE"], transient=7.3, inputs={"rE_inp": 1.5})["rE"]
    b = nm.Simulator(net, dt=0.1, chunk_steps=37, progress=False).run(
        50.0, monitors=["rE"], transient=7.3, inputs={"rE_inp": 1.5})["rE"]
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_buffer_is_sized_at_run_time_from_dt():
    net = random_net()
    assert net.delay_line(0.1).max_lag == int(np.rint(net.delays_ms[net.weights != 0].max() / 0.1))
    assert net.delay_line(0.05).length > 1.9 * net.delay_line(0.1).length - 3


def test_history_options():
    from neuralmass.network.delays import initial_history
    import jax
    cur = np.array([1.0, 2.0])
    h = initial_history((0.2, 0.3), cur, 5, jax.random.PRNGKey(0))
    assert h.shape == (5, 2) and np.all(h[:-1] >= 0.2) and np.all(h[:-1] <= 0.3)
    np.testing.assert_array_equal(h[-1], cur)
    h = initial_history(np.array([[5.0, 6.0], [7.0, 8.0]]), cur, 4)
    np.testing.assert_array_equal(h, [[5, 6], [5, 6], [7, 8], [1, 2]])
    h = initial_history(lambda shape: np.full(shape, 0.5), cur, 3)
    np.testing.assert_array_equal(h[:-1], 0.5)
    with pytest.raises(ValueError, match="history has shape"):
        initial_history(np.zeros((3, 3)), cur, 4)


# ------------------------------------------------------------------------ traced speed range
def _traced_pair():
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    L = np.array([[0.0, 40.0], [40.0, 0.0]])
    node = nm.LinearStep(2, tau=TAU * u.ms, x_init=np.array([1.0, 0.0]))
    return nm.Network(node, conn=W, distance=L, speed=5.0, speed_range=(1.0, 20.0),
                      coupling="linear", k=0.05, history=0.0)


@pytest.mark.parametrize("v", [0.1, 100.0])
def test_concrete_speed_outside_speed_range_is_refused_not_clamped(v):
    # used to give exactly the speed-1 / speed-20 result
    net = _traced_pair()
    sim = nm.Simulator(net, dt=0.1, progress=False)
    with pytest.raises(ValueError, match=rf"speed={v:g} mm/ms is outside the network's "
                                         r"speed_range=\(1, 20\).*Widen speed_range"):
        sim.run(50.0, monitors=["x"], key=0, params={"speed": v})
    with pytest.raises(ValueError, match=r"outside the network's speed_range"):
        sim.run(50.0, monitors=["x"], key=0, params={"speed": np.array([5.0, v])})
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"outside the network's speed_range"):
        nm.Network(nm.LinearStep(2), conn=W, distance=40.0 * W, speed=v, speed_range=(1.0, 20.0))


def test_traced_speed_outside_speed_range_gives_nan_not_the_bound():
    import jax
    import jax.numpy as jnp

    net = _traced_pair()
    run = nm.make_run_fn(net, 0.1, 50.0, monitors=["x"])
    P = nm.Simulator(net, dt=0.1).params()
    f = jax.jit(jax.vmap(lambda v: run({**P, "speed": v}, 0)["x"]))
    out = np.asarray(f(jnp.array([1.0, 0.1, 20.0, 100.0, 5.0])))
    assert np.all(np.isfinite(out[[0, 2, 4]]))          # inside the range (bounds included)
    assert np.all(np.isnan(out[1, 1:])) and np.all(np.isnan(out[3, 1:]))   # outside: NaN lanes
    assert not np.allclose(out[0], out[2])
    # inside the range the gradient is unchanged (finite and non-zero)
    g = jax.grad(lambda v: jnp.sum(run({**P, "speed": v}, 0)["x"]))(5.0)
    assert np.isfinite(float(g)) and float(g) != 0.0
    # the rounding tolerance at a bound: a float32 value a hair above v_max still runs
    assert np.all(np.isfinite(np.asarray(f(jnp.array([20.0 * (1 + 2e-7)])))))


def test_with_traced_speed_starts_inside_a_range_that_excludes_the_networks_speed():
    # a fit's search space may exclude the speed the network was built with (only a default)
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    net = nm.Network(nm.LinearStep(2), conn=W, distance=40.0 * W, speed=30.0)
    traced = net.with_traced_speed((1.0, 4.0))
    assert float(nm.Simulator(traced, dt=0.1).params()["speed"]) == pytest.approx(2.0)
    assert float(nm.Simulator(net.with_traced_speed((1.0, 40.0)), dt=0.1).params()["speed"]) == 30.0
