"""Per-region and per-connection fits: ground-truth recovery by gradient, noise-averaged losses and
priors, checked against independent computations."""

import numpy as np
import pytest

import brainunit as u
import jax
import jax.numpy as jnp

import neuralmass as nm
from neuralmass.fit import Fitter, SearchSpace
from neuralmass.simulate import make_run_fn

pytest.importorskip("optax", reason="the fit extra (optax) is not installed")

N, DT, DUR = 3, 1.0, 1500.0
W_TRUE = np.array([[0.0, 0.6, 0.0],
                   [0.3, 0.0, 0.5],
                   [0.4, 0.2, 0.0]])          # directed: w[i, j] from j to i
TAU_TRUE = np.array([12.0, 20.0, 30.0])       # ms
SIGMA = 0.05


def _net(tau, W, sc_pattern=None):
    node = nm.LinearStep(N, tau=tau * u.ms, noise_x=nm.WhiteNoise(N, sigma=SIGMA))
    return nm.Network(node, conn=W if sc_pattern is None else sc_pattern, coupling="linear", k=0.02)


@pytest.fixture(scope="module")
def truth():
    """A trajectory of the true network (the same noise key as the fits: zero loss at the truth)."""
    net = _net(TAU_TRUE, W_TRUE)
    run = make_run_fn(net, DT, DUR, monitors=["x"])
    P = nm.Simulator(net, dt=DT).params()
    return np.asarray(run(P, jax.random.PRNGKey(0))["x"])


def _mse(sim, target):
    return jnp.mean((sim - target) ** 2) / jnp.mean(target ** 2)


def test_per_region_time_constants_are_recovered_by_gradient(truth):
    net = _net(np.array([20.0, 20.0, 20.0]), W_TRUE)
    f = Fitter(net, loss_fn=_mse, backend="grad", space={"tau": {"per": "region", "bounds": (2.0, 100.0),
                                                                 "transform": "log"}},
               dt=DT, duration=DUR, monitors=["x"], restarts=1, lr=0.05, progress=False, seed=0)
    assert f.space.dim == N and f.space.dims[0].count == N
    # a per-region dimension starts where the model is (20 ms everywhere)
    np.testing.assert_allclose(np.asarray(f.space.box_to_user(f.space.init_box())), 20.0, rtol=1e-6)
    res = f.fit(truth, n_steps=150)
    tau = np.asarray(res.params["tau"].to_decimal(u.ms))
    assert tau.shape == (N,)
    np.testing.assert_allclose(tau, TAU_TRUE, rtol=0.03)
    assert res.history[-1] < 0.01 * res.history[0]


def test_directed_connection_weights_are_recovered_by_gradient(truth):
    # the structural pattern has the true edges (and one more, absent in the truth)
    pattern = (W_TRUE > 0).astype(float)
    pattern[0, 2] = 1.0
    start = pattern * 0.3
    net = _net(TAU_TRUE, start)
    f = Fitter(net, loss_fn=_mse, backend="grad",
               space={"conn.w": {"per": "connection", "bounds": (0.0, 1.5)}},
               dt=DT, duration=DUR, monitors=["x"], restarts=1, lr=0.05, progress=False)
    assert f.space.dim == int(pattern.sum())          # one coordinate per edge of the pattern
    res = f.fit(truth, n_steps=250)
    w = np.asarray(res.params["conn.w"])
    tgt, src = np.nonzero(pattern)
    np.testing.assert_allclose(w, W_TRUE[tgt, src], atol=0.03)


def test_region_group_and_connection_dimensions_share_one_flat_vector():
    node = nm.HopfStep(4)
    W = np.ones((4, 4)) - np.eye(4)
    net = nm.Network(node, conn=W, k=0.1)
    sim = nm.Simulator(net, dt=0.1)
    space = SearchSpace.from_spec({"k": (0.0, 1.0), "a[0,2]": (-1.0, 1.0),
                                   "omega": {"per": "region", "bounds": (0.1, 1.0), "transform": "log"},
                                   "conn.w": {"per": "connection", "bounds": (0.0, 2.0)}},
                                  sim.system, sim.params())
    assert space.dim == 1 + 1 + 4 + 12
    x = np.concatenate([[0.25], [0.5], [0.2, 0.3, 0.4, 0.5], np.linspace(0.1, 1.2, 12)])
    b = space.user_to_box(x)
    np.testing.assert_allclose(np.asarray(space.box_to_user(b)), x, rtol=1e-5)
    P = space.apply(sim.params(), jnp.asarray(b))
    assert float(P["k"]) == pytest.approx(0.25)
    np.testing.assert_allclose(np.asarray(P["node"]["omega"]), [0.2, 0.3, 0.4, 0.5], rtol=1e-5)
    a = np.asarray(P["node"]["a"])
    assert a[0] == pytest.approx(0.5e-3 * 0 + float(np.asarray(space.to_canonical_dict(b)["a[0,2]"])))
    assert a[0] == a[2] and a[1] == a[3] != a[0]
    np.testing.assert_allclose(np.asarray(P["conn"]["w"]), np.linspace(0.1, 1.2, 12), rtol=1e-5)


def test_bad_granularities_are_refused_with_the_fix():
    net = nm.Network(nm.HopfStep(3), conn=np.ones((3, 3)) - np.eye(3), k=0.1)
    sim = nm.Simulator(net, dt=0.1)
    with pytest.raises(ValueError, match="'per': 'connection'"):
        SearchSpace.from_spec({"conn.w": (0.0, 1.0)}, sim.system, sim.params())
    with pytest.raises(ValueError, match="node parameters"):
        SearchSpace.from_spec({"k": {"per": "region", "bounds": (0, 1)}}, sim.system, sim.params())
    with pytest.raises(ValueError, match="not known"):
        SearchSpace.from_spec({"a": {"per": "vertex", "bounds": (0, 1)}}, sim.system, sim.params())
    with pytest.raises(ValueError, match="3 values"):
        SearchSpace.from_spec({"a": {"per": "region", "bounds": (-1, 1), "init": [0.0, 0.1]}},
                              sim.system, sim.params())


def test_noise_averaged_loss_and_priors_equal_their_definitions(truth):
    """``realizations=R`` is the mean of the loss over the lanes' keys (split of the fit key), and
    ``penalty`` adds lambda*mean|w| (l1) or lambda*mean(((w - w0)/(hi - lo))^2) (l2) exactly."""
    net = _net(TAU_TRUE, W_TRUE)
    space = {"conn.w": {"per": "connection", "bounds": (0.0, 1.5)}}
    common = dict(loss_fn=_mse, backend="nevergrad", space=space, dt=DT, duration=DUR, monitors=["x"],
                  progress=False, seed=3)
    w = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    f2 = Fitter(net, realizations=2, **common)
    got = float(f2.evaluate(w, truth)[0])
    run = make_run_fn(net, DT, DUR, monitors=["x"])
    P = f2.params_for({"conn.w": w[0]})
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    want = np.mean([float(_mse(run(P, k)["x"], truth)) for k in keys])
    assert got == pytest.approx(want, rel=1e-5)
    assert f2.n_simulations == 2

    plain = float(Fitter(net, **common).evaluate(w, truth)[0])
    l1 = float(Fitter(net, penalty={"conn.w": ("l1", 0.7)}, **common).evaluate(w, truth)[0])
    assert l1 - plain == pytest.approx(0.7 * np.mean(w), rel=1e-4)
    w0 = W_TRUE[np.nonzero(W_TRUE)]
    l2 = float(Fitter(net, penalty={"conn.w": ("l2", 2.0)}, **common).evaluate(w, truth)[0])
    assert l2 - plain == pytest.approx(2.0 * np.mean(((w[0] - w0) / 1.5) ** 2), rel=1e-4)
    with pytest.raises(KeyError, match="not fitted"):
        Fitter(net, penalty={"k": ("l1", 1.0)}, **common)
    with pytest.raises(ValueError, match="kind 'l1' or 'l2'"):
        Fitter(net, penalty={"conn.w": ("lasso", 1.0)}, **common)
