"""Verified gradients: reverse-mode derivatives against float64 central differences.

One small delayed network (4 Hopf nodes, two coupled sums ``x -> x_ext`` and ``y -> y_ext``,
traced conduction speed, white noise on both inputs with a fixed key, a smooth-edged stimulus
pulse) is run for 2 000 steps; five smooth functionals of its output are differentiated:

* ``raw``  — mean square of the recorded activity ``x``;
* ``bold`` — mean square of the online BOLD signal (:class:`~neuralmass.BOLDMonitor`);
* ``fc``   — ``objectives.fc_corr`` of BOLD FC with a fixed target FC;
* ``fcd``  — mean square of the off-diagonal FCD values (``analysis.fcd`` of ``x``, 2 s windows);
* ``psd``  — log band power (1–4 Hz) of the Welch PSD of ``x`` (``analysis.welch``).

The reverse-mode Jacobian of all five (``jax.jacrev``) is contracted with one random direction per
kind of traced parameter and compared with a Richardson-extrapolated central difference along the
same direction, at 1e-4 relative error. Everything runs in float64 (``jax.enable_x64``); the rest
of the suite stays float32. Also: gradient checkpointing (``make_run_fn(remat=...)`` and the
Fitter's ``remat``) gives the plain gradient, and the per-lane gradients of a batched (vmapped) run
equal unbatched gradients with the lane's key (``engine.lane_keys``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuralmass as nm
from neuralmass import analysis, objectives
from neuralmass import stimulus as st

N, DT, DUR = 4, 5.0, 10_000.0          # 2 000 steps of 5 ms
TOL = 1e-4
FUNCTIONALS = ("raw", "bold", "fc", "fcd", "psd")
KINDS = ("node.a", "k_x_ext", "k_y_ext", "speed", "conn.w", "noise.x_ext.sigma", "noise.y_ext.sigma",
         "stim.amplitude", "stim.onset")


def _geometry():
    rng = np.random.default_rng(0)
    W = rng.uniform(0.2, 1.0, (N, N))
    np.fill_diagonal(W, 0.0)
    L = rng.uniform(20.0, 60.0, (N, N))
    L = (L + L.T) / 2
    np.fill_diagonal(L, 0.0)
    return W, L


def _network():
    W, L = _geometry()
    node = nm.HopfStep(N, a=-0.02, omega=2 * np.pi * 0.002,        # damped 2 Hz oscillators
                       noise_x=nm.WhiteNoise(N, sigma=0.02), noise_y=nm.WhiteNoise(N, sigma=0.02))
    return nm.Network(node, conn=W, distance=L, speed=2.0, speed_range=(1.0, 5.0),
                      coupled_var={"x_ext": "x", "y_ext": "y"},
                      coupling={"x_ext": "diffusive", "y_ext": "diffusive"},
                      coupling_input={"x_ext": 0.01, "y_ext": 0.005})


def _theta(net):
    """Every traced parameter: the engine's pytree (node ``a`` per region) plus the stimulus."""
    P = nm.Simulator(net, dt=DT).params()
    P["node"]["a"] = jnp.asarray([-0.02, -0.025, -0.015, -0.03])
    return {**P, "stim": {"amplitude": jnp.asarray(0.03), "onset": jnp.asarray(3_000.0)}}


def _functionals(net, remat=None):
    """``F(theta, key) -> (5,)`` float64 vector of the functionals above."""
    W, _ = _geometry()
    target_fc = jnp.asarray(np.eye(N) * 0.5 + 0.5 * W / W.max())
    fc_corr = objectives.fc_corr(target_is_fc=True)
    bold = nm.BOLDMonitor("x", tr=250.0, scale=20.0)
    freqs = np.fft.rfftfreq(256, 1e-3 * DT)
    band = jnp.asarray((freqs >= 1.0) & (freqs <= 4.0))
    iu = np.triu_indices(9, 1)

    def F(theta, key):
        s = theta["stim"]
        # smooth edges (rise 200 ms): differentiable in onset as well as amplitude
        pulse = st.pulse(onset=s["onset"], duration=jnp.asarray(2_000.0), amplitude=s["amplitude"],
                         rise=200.0).at([0, 1], n=N)
        run = nm.make_run_fn(net, DT, DUR, monitors=["x", bold], inputs={"x_ext": pulse}, remat=remat)
        P = {k: v for k, v in theta.items() if k != "stim"}
        out = run(P, key)
        x, b = out["x"], out["bold"]
        m = analysis.fcd(x, window=400, step=200)                    # 9 windows of 2 s
        _, psd = analysis.welch(x, fs=1000.0 / DT, nperseg=256)
        return jnp.stack([
            jnp.mean(x ** 2),
            jnp.mean(b ** 2) * 1e4,
            fc_corr(b, target_fc),
            jnp.mean(m[iu] ** 2),
            jnp.log(jnp.sum(jnp.where(band[:, None], psd, 0.0))),
        ])

    return F


def _direction(theta, kind, rng):
    """A unit-free direction that moves only ``kind``: random unit vector for vector parameters,
    scaled by the parameter's size (so ``h`` is relative)."""
    def leaf(path):
        d = theta
        for p in path:
            d = d[p]
        return d

    path = {"node.a": ("node", "a"), "conn.w": ("conn", "w"), "stim.amplitude": ("stim", "amplitude"),
            "stim.onset": ("stim", "onset"), "noise.x_ext.sigma": ("noise", "x_ext", "sigma"),
            "noise.y_ext.sigma": ("noise", "y_ext", "sigma")}.get(kind, (kind,))
    x = np.asarray(leaf(path))
    if x.ndim:
        v = rng.standard_normal(x.shape)
        v = v / np.linalg.norm(v) * np.linalg.norm(x)
    else:
        v = np.asarray(abs(float(x)) if kind != "stim.onset" else 100.0)    # onset: 100 ms scale
    V = jax.tree.map(jnp.zeros_like, theta)
    d = V
    for p in path[:-1]:
        d = d[p]
    d[path[-1]] = jnp.asarray(v)
    return V


def _axpy(a, V, theta):
    return jax.tree.map(lambda t, v: t + a * v, theta, V)


def _richardson(F, theta, V, h):
    """Central difference along ``V`` with Richardson extrapolation: O(h^4)."""
    d1 = (F(_axpy(h, V, theta)) - F(_axpy(-h, V, theta))) / (2 * h)
    d2 = (F(_axpy(2 * h, V, theta)) - F(_axpy(-2 * h, V, theta))) / (4 * h)
    return (4 * d1 - d2) / 3


def _dot(G, V):
    """Contract the Jacobian pytree ``G`` (leaves (5, *shape)) with the direction ``V``."""
    parts = jax.tree.map(lambda g, v: jnp.tensordot(g, v, axes=v.ndim), G, V)
    return sum(jax.tree.leaves(parts))


@pytest.fixture(scope="module")
def checks():
    with jax.enable_x64(True):
        net = _network()
        theta = _theta(net)
        key = jax.random.PRNGKey(7)
        F = _functionals(net)
        Fk = jax.jit(lambda th: F(th, key))
        J = jax.jit(jax.jacrev(lambda th: F(th, key)))(theta)
        rng = np.random.default_rng(1)
        out = {}
        for kind in KINDS:
            V = _direction(theta, kind, rng)
            an = np.asarray(_dot(J, V))
            fd = np.asarray(_richardson(Fk, theta, V, 1e-4))
            out[kind] = (an, fd)
        # the traced delays are piecewise linear in the speed: the differences must not straddle
        # a grid point (L / (v dt) within 1e-3 of an integer)
        _, L = _geometry()
        lam = L[L > 0] / (2.0 * DT)
        assert np.min(np.abs(lam - np.rint(lam))) > 1e-2
        return dict(results=out, theta=theta, key=key, F=F, J=J, net=net)


@pytest.mark.parametrize("kind", KINDS)
def test_reverse_mode_matches_central_differences(checks, kind):
    an, fd = checks["results"][kind]
    rel = np.abs(an - fd) / np.abs(fd)
    print(f"{kind:20s} " + "  ".join(f"{f}={r:.1e}" for f, r in zip(FUNCTIONALS, rel)))
    assert np.all(np.isfinite(an))
    # every functional depends on every parameter kind: a zero gradient would pass trivially
    assert np.all(np.abs(fd) > 1e-8), dict(zip(FUNCTIONALS, fd))
    assert np.all(rel < TOL), dict(zip(FUNCTIONALS, rel))


def test_checkpointed_gradients_equal_plain_gradients(checks):
    """``make_run_fn(remat=7)`` (segments under ``jax.checkpoint``) gives the plain gradient: the
    reverse-mode gradient of ``c . F`` equals ``c`` contracted with the plain Jacobian."""
    with jax.enable_x64(True):
        F = _functionals(checks["net"], remat=7)
        key = checks["key"]
        c = jnp.asarray([1.0, -2.0, 0.5, 3.0, -1.0])
        G = jax.jit(jax.grad(lambda th: jnp.dot(c, F(th, key))))(checks["theta"])
        for a, b in zip(jax.tree.leaves(G), jax.tree.leaves(checks["J"])):
            a, b = np.asarray(a), np.tensordot(np.asarray(c), np.asarray(b), axes=1)
            assert np.all(b != 0)
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * np.abs(b).max())


def test_fitter_remat_gradient_equals_plain():
    """The Fitter's gradient program with ``remat`` segments equals the one without."""
    from neuralmass.fit import Fitter

    with jax.enable_x64(True):
        W, L = _geometry()

        def loss(x, target):
            return jnp.mean((jnp.mean(x ** 2, axis=0) - target) ** 2)

        def fitter(remat):
            node = nm.HopfStep(N, a=-0.02, omega=2 * np.pi * 0.002, noise_x=nm.WhiteNoise(N, sigma=0.02))
            return Fitter(nm.Network(node, conn=W, k=0.01, coupling="diffusive"), loss_fn=loss,
                          backend="grad", space={"k": (0.0, 0.05), "speed": (1.0, 5.0, "log"),
                                                 "noise.x_ext.sigma": (0.005, 0.05, "log")},
                          distance=L, dt=DT, duration=5_000.0, monitors=["x"], remat=remat,
                          progress=False)

        plain, ck = fitter(None), fitter(9)
        assert ck.remat == 9 and plain.remat is None
        tgt = jnp.full((N,), 1e-3)
        Z = jnp.asarray([[0.3, 0.2, 0.1], [-0.5, 0.4, 0.7]])   # z of 'log' is clipped to [0, 1]
        l0, g0 = plain._grad_fn(tgt)(Z, tgt, plain._key(0))
        l1, g1 = ck._grad_fn(tgt)(Z, tgt, ck._key(0))
        assert g0.dtype == np.float64 and np.all(np.abs(np.asarray(g0)) > 0)
        np.testing.assert_allclose(np.asarray(l1), np.asarray(l0), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(g1), np.asarray(g0), rtol=1e-10)


def test_per_lane_gradients_of_batched_run_equal_unbatched(checks):
    """vmapped over lanes (parameters and keys), each lane's gradient is the unbatched gradient
    with that lane's key ``lane_keys(key, B)[b]``."""
    with jax.enable_x64(True):
        net = checks["net"]
        run = nm.make_run_fn(net, DT, 3_000.0, monitors=["x"])
        P = {k: v for k, v in checks["theta"].items() if k != "stim"}
        B = 3

        def loss(p, key):
            x = run(p, key)["x"]
            return jnp.mean(x[:, 0] * x[:, 1]) + jnp.mean(x ** 2)

        keys = nm.engine.lane_keys(5, B)
        Pb = jax.tree.map(lambda a: jnp.broadcast_to(a, (B,) + jnp.shape(a)), P)
        Pb["k_x_ext"] = jnp.asarray([0.008, 0.01, 0.012])
        gb = jax.jit(jax.vmap(jax.grad(loss)))(Pb, keys)
        g1 = jax.jit(jax.grad(loss))
        for b in range(B):
            Pl = jax.tree.map(lambda a: a[b], Pb)
            gl = g1(Pl, keys[b])
            for a, c in zip(jax.tree.leaves(jax.tree.map(lambda a: a[b], gb)), jax.tree.leaves(gl)):
                assert np.any(np.asarray(c) != 0)
                np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-10,
                                           atol=1e-13 * np.abs(np.asarray(c)).max())
        # the lanes really differ (independent noise): not one gradient copied B times
        assert not np.allclose(np.asarray(gb["conn"]["w"][0]), np.asarray(gb["conn"]["w"][1]))
