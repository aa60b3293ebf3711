"""Network: the seed API, batching over k / node parameters / noise keys, compile cache, and the
manual brainstate wiring of the MEG notebook."""

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as brainmass
from neuralmass.simulate import lane_keys, trace_count


def small_connectome(n=6, seed=2):
    rng = np.random.default_rng(seed)
    W = np.triu(np.where(rng.random((n, n)) < 0.6, rng.random((n, n)), 0.0), 1)
    W = W + W.T
    D = np.triu(rng.uniform(10.0, 80.0, (n, n)), 1)
    return W, (D + D.T) * u.mm


def seed_net(W, D, k=1.5):
    N = W.shape[0]
    node = brainmass.WilsonCowanStep(
        N, noise_E=brainmass.OUProcess(N, sigma=0.01, tau=20.0 * u.ms),
        noise_I=brainmass.OUProcess(N, sigma=0.01, tau=20.0 * u.ms))
    return brainmass.Network(node, conn=W, distance=D, speed=10.0 * u.mm / u.ms,
                             coupling="diffusive", coupled_var="rE", k=k)


def test_seed_network_runs_and_differs_from_uncoupled():
    W, D = small_connectome()
    net = seed_net(W, D)
    assert net.n_node == 6 and type(net.coupling).__name__ == "DiffusiveCoupling"
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    res = sim.run(300.0 * u.ms, monitors=lambda m: m.node.rE.value, transient=100.0 * u.ms, key=1)
    act = np.asarray(u.get_magnitude(res["output"]))
    assert act.shape == (2000, 6) and np.all(np.isfinite(act))
    # same keys, k = 0: the coupling must matter
    res0 = sim.run(300.0 * u.ms, monitors=["rE"], transient=100.0 * u.ms, key=1, params={"k": 0.0})
    assert np.abs(np.asarray(res0["rE"]) - act).max() > 1e-4
    # the named monitor and the callable monitor record the same variable
    res1 = sim.run(300.0 * u.ms, monitors=["rE"], transient=100.0 * u.ms, key=1)
    np.testing.assert_allclose(np.asarray(res1["rE"]), act, atol=1e-7)


def test_batch_of_k_equals_loop_lane_by_lane_and_lanes_differ():
    W, D = small_connectome()
    sim = brainmass.Simulator(seed_net(W, D), dt=0.1 * u.ms)
    ks = np.array([0.0, 0.7, 1.5])
    key = jax.random.PRNGKey(7)
    batched = np.asarray(sim.run(80.0, monitors=["rE"], params={"k": ks}, key=key)["rE"])
    keys = lane_keys(key, 3)
    for b, kval in enumerate(ks):
        single = np.asarray(sim.run(80.0, monitors=["rE"], params={"k": kval}, key=keys[b])["rE"])
        np.testing.assert_allclose(batched[b], single, atol=2e-6)
    # same k, batch of noise keys: independent noise in every lane
    lanes = np.asarray(sim.run(80.0, monitors=["rE"], batch_size=3, key=key)["rE"])
    assert np.abs(lanes[0] - lanes[1]).max() > 1e-4 and np.abs(lanes[1] - lanes[2]).max() > 1e-4


def test_batch_over_a_node_parameter_matches_single_runs():
    W, D = small_connectome()
    node = brainmass.WilsonCowanStep(6)
    net = brainmass.Network(node, conn=W, distance=D, speed=5.0, coupling="linear", k=0.5,
                            history=(0.0, 0.2))
    sim = brainmass.Simulator(net, dt=0.1)
    th = np.array([[2.0], [2.8], [3.5]])
    out = np.asarray(sim.run(50.0, monitors=["rE"], params={"theta_E": th}, key=3)["rE"])
    keys = lane_keys(3, 3)
    for b in range(3):
        one = np.asarray(sim.run(50.0, monitors=["rE"], params={"theta_E": th[b, 0]}, key=keys[b])["rE"])
        np.testing.assert_allclose(out[b], one, atol=2e-6)
    # random initial history is drawn per lane
    same = np.asarray(sim.run(50.0, monitors=["rE"], batch_size=2, key=3)["rE"])
    assert np.abs(same[0] - same[1]).max() > 1e-5


def test_second_run_compiles_nothing():
    W, D = small_connectome()
    sim = brainmass.Simulator(seed_net(W, D), dt=0.1 * u.ms)
    sim.run(40.0, monitors=["rE"], transient=10.0, params={"k": 1.0})
    n = trace_count()
    sim.run(40.0, monitors=["rE"], transient=10.0, params={"k": 2.0}, key=5)
    # a new network object of the same structure reuses the compiled run as well
    brainmass.Simulator(seed_net(W, D, k=0.3), dt=0.1 * u.ms).run(40.0, monitors=["rE"], transient=10.0)
    assert trace_count() == n


def test_connectome_object_and_bad_inputs():
    W, D = small_connectome()
    conn = brainmass.Connectome.from_arrays(W, lengths=D)
    net = brainmass.Network(brainmass.WilsonCowanStep(6), conn=conn, speed=10.0, k=1.0)
    np.testing.assert_allclose(net.delays_ms, np.asarray(D.to_decimal(u.mm)) / 10.0)
    with pytest.raises(ValueError, match="in_size=6"):
        brainmass.Network(brainmass.WilsonCowanStep(5), conn=W)
    with pytest.raises(ValueError, match="coupled_var"):
        brainmass.Network(brainmass.WilsonCowanStep(6), conn=W, coupled_var="nope")
    with pytest.raises(Exception, match="speed"):
        brainmass.Network(brainmass.WilsonCowanStep(6), conn=W, distance=D, speed=10.0 * u.ms)


def test_manual_brainstate_wiring_of_the_meg_notebook_matches_the_engine():
    """``prefetch_delay`` + ``DiffusiveCoupling(delayed, local, W, k)`` stepped by for_loop."""
    W, D = small_connectome()
    N = W.shape[0]
    speed = 10.0
    # whole steps: brainstate and the engine then read exactly the same samples
    delay_time = np.round(np.asarray(D.to_decimal(u.mm)) / speed / 0.1) * 0.1
    np.fill_diagonal(delay_time, 0)
    delay_time = delay_time * u.ms
    indices_ = np.tile(np.arange(N), N)
    k = 1.2
    init = lambda shape, **kw: jnp.full(shape, 0.05)  # noqa: E731  (braintools.init.Constant works too)

    class Net(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.node = brainmass.WilsonCowanStep(N)
            self.coupling = brainmass.DiffusiveCoupling(
                self.node.prefetch_delay('rE', (delay_time.flatten(), indices_), init=init),
                self.node.prefetch('rE'), W, k=k)

        def update(self):
            return self.node(self.coupling())

        def step_run(self, i):
            with brainstate.environ.context(i=i, t=i * brainstate.environ.get_dt()):
                return self.update()

    with brainstate.environ.context(dt=0.1 * u.ms):
        net = Net()
        brainstate.nn.init_all_states(net)
        exes = np.asarray(brainstate.transform.for_loop(net.step_run, np.arange(600)))
    assert exes.shape == (600, N) and np.all(np.isfinite(exes))
    # the same network through the compiled engine, same history (0.05 before t = 0). brainstate's
    # delay buffer is written after each update, so a prefetch_delay of d returns x(t - d - dt):
    # the engine reproduces it to round-off with every delay one step longer.
    eng = brainmass.Network(brainmass.WilsonCowanStep(N), conn=W, delays=delay_time + 0.1 * u.ms, k=k,
                            history=0.05)
    ref = np.asarray(brainmass.Simulator(eng, dt=0.1).run(60.0, monitors=["rE"])["rE"])
    assert np.abs(np.diff(ref, axis=0)).max() > 1e-4
    np.testing.assert_allclose(exes, ref, atol=1e-4)


def test_weights_checked_like_a_connectome_and_implausible_inputs_refused():
    W, D = small_connectome()
    node = brainmass.WilsonCowanStep(6)
    Wn = W.copy()
    Wn[0, 1] = -0.5
    with pytest.raises(ValueError, match=r"conn must be non-negative; conn\[0, 1\] = -0.5"):
        brainmass.Network(node, conn=Wn)
    with pytest.raises(ValueError, match="conn contain NaN or inf"):
        brainmass.Network(node, conn=np.where(W > 0, np.nan, 0.0))
    with pytest.raises(TypeError, match="conn contain text"):
        brainmass.Network(node, conn=W.astype(str))
    # distances in µm
    with pytest.raises(ValueError, match=r"distance reach [\d.]+ mm .*divided by 1000"):
        brainmass.Network(node, conn=W, distance=np.asarray(D.to_decimal(u.mm)) * 1000, speed=5.0)
    # a connectome without tract lengths and a speed: no silent run without delays
    bare = brainmass.Connectome.from_arrays(W, name="bare")
    with pytest.raises(ValueError, match=r"speed=5.0 asks for conduction delays, but the connectome "
                                         r"bare has no tract lengths.*delays = false"):
        brainmass.Network(node, conn=bare, speed=5.0)
    with pytest.raises(ValueError, match=r"speed_range=\(1.0, 10.0\) asks for conduction delays"):
        brainmass.Network(node, conn=bare, speed_range=(1.0, 10.0))
    # ... but no speed (or an infinite one), or explicit distances, are fine
    assert brainmass.Network(node, conn=bare).delays_ms.max() == 0
    assert brainmass.Network(node, conn=bare, speed=np.inf).delays_ms.max() == 0
    assert brainmass.Network(node, conn=bare, distance=D, speed=5.0).delays_ms.max() > 0
