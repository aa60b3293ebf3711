"""Coupling values on a 3-node graph against hand computation, for every coupling kind."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.network import coupling as C

W = np.array([[0.0, 0.5, 0.2],
              [0.5, 0.0, 0.0],
              [0.2, 1.0, 0.0]])
# delayed[i, j] = x_j(t - tau_ij); local = x_i(t)
X = np.array([[0.9, 0.3, -0.4],
              [0.1, 0.7, 0.6],
              [0.25, -0.2, 0.5]])
LOCAL = np.array([0.9, 0.7, 0.5])
K = 1.7


def hand_sum(f=lambda v: v):
    # written out edge by edge
    return np.array([
        0.5 * f(0.3) + 0.2 * f(-0.4),
        0.5 * f(0.1),
        0.2 * f(0.25) + 1.0 * f(-0.2),
    ])


def test_linear_and_diffusive_values():
    np.testing.assert_allclose(C.linear(X, W, K), K * np.array([0.07, 0.05, -0.15]), rtol=1e-6)
    # diffusive: k * sum_j w_ij (x_j(t - tau) - x_i(t))
    expect = K * np.array([0.5 * (0.3 - 0.9) + 0.2 * (-0.4 - 0.9),
                           0.5 * (0.1 - 0.7),
                           0.2 * (0.25 - 0.5) + 1.0 * (-0.2 - 0.5)])
    np.testing.assert_allclose(C.diffusive(X, LOCAL, W, K), expect, rtol=1e-6)


def test_sigmoidal_value_matches_tvb_formula():
    s = np.array([0.07, 0.05, -0.15])
    cmin, cmax, mid, a, sig = -1.0, 2.0, 0.02, 3.0, 0.1
    expect = [K * (cmin + (cmax - cmin) / (1 + math.exp(-a * (v - mid) / sig))) for v in s]
    got = C.sigmoidal(X, W, K, cmin=cmin, cmax=cmax, midpoint=mid, a=a, sigma=sig)
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_sigmoidal_jansen_rit_and_tanh_values():
    V = X * 10.0  # mV
    S = lambda v: 2 * 0.0025 / (1 + math.exp(0.56 * (6.0 - v)))  # noqa: E731  JR sigmoid, 1/ms
    expect = K * np.array([0.5 * S(3.0) + 0.2 * S(-4.0), 0.5 * S(1.0), 0.2 * S(2.5) + 1.0 * S(-2.0)])
    np.testing.assert_allclose(C.sigmoidal_jansen_rit(V, W, K), expect, rtol=1e-5)
    th = lambda v: math.tanh((v - 0.1) / 0.5)  # noqa: E731
    np.testing.assert_allclose(C.tanh(X, W, K, midpoint=0.1, sigma=0.5), K * hand_sum(th), rtol=1e-5)


def test_stateful_wrapper_as_in_forward_guide():
    cpl = nm.DiffusiveCoupling(conn=W, k=0.2)
    cpl.init_all_states()
    s = np.array([0.1, 0.4, 0.3])
    got = cpl(s, s)  # no delays: x_j(t) - x_i(t)
    expect = 0.2 * np.array([0.5 * (0.4 - 0.1) + 0.2 * (0.3 - 0.1), 0.5 * (0.1 - 0.4),
                             0.2 * (0.1 - 0.3) + 1.0 * (0.4 - 0.3)])
    np.testing.assert_allclose(got, expect, rtol=1e-6)
    # flattened (n*n,) delayed values, the prefetch_delay layout
    got = nm.DiffusiveCoupling(X.flatten(), LOCAL, W, k=K)()
    np.testing.assert_allclose(got, C.diffusive(X, LOCAL, W, K), rtol=1e-6)


def test_unknown_coupling_errors_name_the_argument():
    with pytest.raises(ValueError, match="coupling='ohm'"):
        C.get_coupling("ohm")
    with pytest.raises(TypeError, match="unexpected parameter"):
        nm.SigmoidalCoupling(conn=W, gain=3.0)


#: every registered coupling, one name per class (aliases such as 'additive' left out)
KINDS = sorted({cls: name for name, cls in reversed(list(C.COUPLINGS.items()))}.values())


@pytest.mark.parametrize("kind", KINDS)
def test_network_engine_path_equals_hand_values(kind):
    """The compiled path (pre at write, delay buffer, post at read) on a delayed 3-node graph."""
    dt = 0.1
    lag = np.array([[0, 3, 5], [2, 0, 4], [6, 1, 0]])  # steps
    hist_len = 7
    rng = np.random.default_rng(3)
    hist = rng.uniform(-0.5, 0.5, (hist_len, 3)).astype(np.float32)  # rows: steps -7 .. -1
    params = {"midpoint": 0.05, "sigma": 0.4} if kind in ("tanh",) else {}
    net = nm.Network(nm.WilsonCowanStep(3), conn=W, delays=lag * dt, coupling=kind, k=K,
                     history=hist, **params)
    P = nm.Simulator(net, dt=dt).params()
    state = net.initial_state()
    state["rE"] = jnp.asarray([0.11, -0.22, 0.33])
    extra = net.init_extra(state, P, dt, None)
    # full history with step 0 appended; value of x_j at step -m is full[-1 - m, j]
    full = np.vstack([hist, np.asarray(state["rE"])[None]])
    delayed = np.array([[full[-1 - lag[i, j], j] for j in range(3)] for i in range(3)])
    p = {name: v for name, v in P.items() if name not in ("node", "noise", "conn")}   # k and kind params
    ref = net.coupling.evaluate(jnp.asarray(delayed), state["rE"], jnp.asarray(W), p)
    got, _ = net.coupling_inputs(extra, state, P, 0, dt)
    np.testing.assert_allclose(got[net.coupling_input], ref, rtol=2e-5, atol=1e-7)
