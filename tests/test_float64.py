"""Float64 on delayed networks: the delay lines index their ring buffers with one integer type
whatever ``jax_enable_x64`` says (it used to raise ``TypeError: index arguments to
dynamic_update_slice must be integers of the same type, got int64, int32``)."""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm


def _net(traced_speed: bool):
    rng = np.random.default_rng(0)
    n = 4
    W = rng.uniform(0.2, 1.0, (n, n))
    np.fill_diagonal(W, 0.0)
    L = rng.uniform(20.0, 60.0, (n, n))
    L = (L + L.T) / 2
    node = nm.HopfStep(n, a=-0.5 / u.second, omega=2 * np.pi * 0.1 * u.Hz,
                       noise_x=nm.WhiteNoise(n, sigma=0.001), noise_y=nm.WhiteNoise(n, sigma=0.001))
    if traced_speed:
        return nm.Network(node, conn=W, distance=L, speed_range=(1.0, 5.0), k=0.002)
    return nm.Network(node, conn=W, distance=L, speed=2.0 * u.mm / u.ms, k=0.002)


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
