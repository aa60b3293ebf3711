"""Cortical-surface simulation (issue 26): meshes, local kernels, the surface network.

Small generated icospheres keep this file fast; two tests read tvb-data's 16k cortex and skip
without it. The reference for the network is an independent float64 NumPy implementation of
TVB's surface scheme (docs/surface.md), not the code under test.
"""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import neuralmass as nm
from _surfaces import hemisphere_mapping, icosphere, strip
from neuralmass.models import GENERIC_2D
from neuralmass.surface import (LocalCoupling, RegionAverage, SensorProjection, Surface, SurfaceNetwork,
                                euclidean_distances, geodesic_distances, kernel_values)

R_MM = 50.0


@pytest.fixture(scope="module")
def sphere():
    v, t = icosphere(2, R_MM)                     # 162 vertices
    return Surface(v, t, hemisphere_mapping(v, 4))


@pytest.fixture(scope="module")
def connectome():
    rng = np.random.default_rng(1)
    W = rng.uniform(0.2, 1.0, (4, 4))
    np.fill_diagonal(W, 0.5)
    L = rng.uniform(10.0, 40.0, (4, 4))
    L = (L + L.T) / 2
    np.fill_diagonal(L, 0.0)
    return W, L


def _init(surface):
    x, y, z = surface.vertices.T
    return {"V": np.sin(0.1 * x) * np.cos(0.1 * y) + 0.5 * np.sin(0.07 * z + 0.03 * x),
            "W": -0.5 + 0.5 * np.cos(0.05 * (x + y + z))}


def _net(surface, conn, local, local_strength=0.7, k=0.05, speed=2.0, **kw):
    W, L = conn
    return SurfaceNetwork(GENERIC_2D, W, surface, local=local, local_strength=local_strength,
                          coupling="linear", k=k, distance=L, speed=speed, init=_init(surface), **kw)


# ----------------------------------------------------------------------------- meshes
def test_sphere_areas_normals_and_edges_match_geometry(sphere):
    # a fine icosphere's area approaches 4 pi R^2 from below (flat triangles under the sphere)
    assert 0.95 * 4 * np.pi * R_MM ** 2 < sphere.total_area < 4 * np.pi * R_MM ** 2
    radial = sphere.vertices / np.linalg.norm(sphere.vertices, axis=1, keepdims=True)
    assert np.min(np.sum(sphere.normals * radial, axis=1)) > 0.99          # outward, unit
    # a closed triangulated sphere: V - E + F = 2
    assert sphere.n_vertices - len(sphere.edges()) + sphere.n_triangles == 2


def test_geodesic_distances_bound_and_approach_arc_length():
    v, t = icosphere(3, R_MM)                                                  # 642 vertices
    s = Surface(v, t)
    g = geodesic_distances(s, 40.0).tocoo()
    e = euclidean_distances(s, 40.0).tocsr()
    chord = np.linalg.norm(v[g.row] - v[g.col], axis=1)
    arc = R_MM * np.arccos(np.clip(np.sum(v[g.row] * v[g.col], axis=1) / R_MM ** 2, -1, 1))
    assert np.all(g.data >= chord - 1e-9)                                     # path >= straight line
    # edge paths are no shorter than the geodesic, up to the chord/arc ratio of the longest edge
    ed = s.edges()
    theta = 2 * np.arcsin(np.max(np.linalg.norm(v[ed[:, 0]] - v[ed[:, 1]], axis=1)) / (2 * R_MM))
    assert np.all(g.data >= arc * 2 * np.sin(theta / 2) / theta - 1e-9)
    far = arc > 15.0
    # and longer by the zig-zag of edge paths (2/sqrt(3) on a regular triangular lattice; a little
    # more near the icosphere's 12 five-fold vertices)
    ratio = g.data[far] / arc[far]
    assert np.median(ratio) < 1.10 and ratio.max() < 1.25
    # every pair closer than the cutoff in straight line is found by the Euclidean search
    pairs = np.linalg.norm(v[:, None] - v[None], axis=-1)
    assert e.nnz == np.count_nonzero((pairs <= 40.0) & (pairs > 0))


def test_gaussian_kernel_matches_closed_form(sphere):
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="25 mm", metric="euclidean", homogenise=False,
                                   sigma="8 mm", amp=2.0)
    d = np.linalg.norm(sphere.vertices[lc.rows] - sphere.vertices[lc.cols], axis=1)
    np.testing.assert_allclose(lc.weights, 2.0 * np.exp(-d ** 2 / (2 * 8.0 ** 2)), rtol=1e-12)
    assert d.max() <= 25.0 and np.all(lc.rows != lc.cols)
    # lengths in other units are converted: 0.8 cm is 8 mm
    np.testing.assert_allclose(kernel_values("gaussian", [0.0, 8.0], sigma=0.8 * u.cmeter),
                               [1.0, np.exp(-0.5)], rtol=1e-12)


def test_homogenised_mexican_hat_has_equal_positive_and_negative_row_sums(sphere):
    lc = LocalCoupling.from_kernel(sphere, "mexican_hat", cutoff="60 mm", sigma_1="15 mm", sigma_2="30 mm",
                                   amp_2=0.5)
    K = lc.to_scipy()
    pos = np.asarray(K.multiply(K > 0).sum(axis=1)).ravel()
    neg = np.asarray(K.multiply(K < 0).sum(axis=1)).ravel()
    assert np.ptp(pos) < 1e-9 * pos.mean() and np.ptp(neg) < 1e-9 * abs(neg.mean())
    assert neg.mean() < 0 < pos.mean()


@pytest.mark.parametrize("method", ["auto", "slots", "segment_sum"])
def test_local_product_and_its_gradients_equal_scipy(sphere, method):
    rng = np.random.default_rng(0)
    lc = LocalCoupling.from_kernel(sphere, "exponential", cutoff="20 mm", lam="6 mm")
    K = lc.to_scipy()
    x, g = rng.standard_normal(lc.n), rng.standard_normal(lc.n)
    with jax.enable_x64(True):
        w = jnp.asarray(lc.weights)
        y = lc.matvec(jnp.asarray(x), w, method=method)
        np.testing.assert_allclose(np.asarray(y), K @ x, rtol=1e-12, atol=1e-12)
        gx, gw = jax.grad(lambda x_, w_: jnp.dot(g, lc.matvec(x_, w_, method=method)), argnums=(0, 1))(
            jnp.asarray(x), w)
        np.testing.assert_allclose(np.asarray(gx), K.T @ g, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(gw), g[lc.rows] * x[lc.cols], rtol=1e-12)
        # batched: each lane is its own product
        X = rng.standard_normal((3, lc.n))
        Y = jax.vmap(lambda x_: lc.matvec(x_, w, method=method))(jnp.asarray(X))
        np.testing.assert_allclose(np.asarray(Y), (K @ X.T).T, rtol=1e-12, atol=1e-12)
        # batched weights too (one kernel per lane)
        Wb = jnp.asarray(rng.standard_normal((3, lc.nnz)))
        Yw = jax.vmap(lambda x_, w_: lc.matvec(x_, w_, method=method))(jnp.asarray(X), Wb)
        want = np.stack([sp.csr_matrix((np.asarray(Wb[i]), (lc.rows, lc.cols)), shape=K.shape) @ X[i]
                         for i in range(3)])
        np.testing.assert_allclose(np.asarray(Yw), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(lc.matvec(jnp.asarray(x), w, method="bcoo")), K @ x, rtol=1e-12)


def test_local_product_with_stored_weights_and_uneven_rows(sphere):
    """The network's path (stored weights, in the state's dtype) equals SciPy, with the transpose
    as its derivative, batched or not; a kernel whose rows differ a lot in length gives the same
    product in row slots (padded to the widest row) as in the segment sum."""
    rng = np.random.default_rng(1)
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="25 mm", sigma="8 mm")
    K = lc.to_scipy()
    x, g = rng.standard_normal(lc.n), rng.standard_normal(lc.n)
    with jax.enable_x64(True):
        np.testing.assert_allclose(np.asarray(lc.matvec(jnp.asarray(x))), K @ x, rtol=1e-12, atol=1e-12)
        assert lc.matvec(jnp.asarray(x, jnp.float32)).dtype == jnp.float32
        gx = jax.grad(lambda x_: jnp.dot(g, lc.matvec(x_)))(jnp.asarray(x))
        np.testing.assert_allclose(np.asarray(gx), K.T @ g, rtol=1e-12, atol=1e-12)
        X = rng.standard_normal((4, lc.n))
        np.testing.assert_allclose(np.asarray(jax.vmap(lc.matvec)(jnp.asarray(X))), (K @ X.T).T,
                                   rtol=1e-12, atol=1e-12)
        # one vertex linked to all others
        M = K.tolil()
        M[0, :] = 0.01
        uneven = LocalCoupling.from_matrix(M.tocsr())
        for method in ("slots", "segment_sum"):
            np.testing.assert_allclose(np.asarray(uneven.matvec(jnp.asarray(x), method=method)),
                                       uneven.to_scipy() @ x, rtol=1e-12, atol=1e-12)


def test_region_mean_equals_numpy_average(sphere, connectome):
    net = _net(sphere, connectome, None, local_strength=0.0)
    x = np.random.default_rng(2).standard_normal(sphere.n_vertices)
    want = np.array([x[sphere.region_mapping == r].mean() for r in range(4)])
    np.testing.assert_allclose(np.asarray(net.region_mean(jnp.asarray(x))), want, rtol=1e-6)


# ----------------------------------------------------------------------------- the scheme
def _g2d(V, W, c, lc, p=None):
    """TVB's Generic2dOscillator right-hand side at its defaults (written out here)."""
    d, tau, a, b, e, f, alpha, beta, gamma = 0.02, 1.0, -2.0, -10.0, 3.0, 1.0, 1.0, 1.0, 1.0
    dV = d * tau * (alpha * W - f * V ** 3 + e * V ** 2 + gamma * c + lc)
    dW = d / tau * (a + b * V - beta * W)
    return dV, dW


def _reference(surface, conn, K, lam, k, speed, dt, n_steps, init):
    """Independent float64 NumPy implementation of TVB's surface scheme: plain region means of V
    in a ring of integer-step delays, linear long-range input held over the Heun step and
    broadcast by the region mapping, local input lam * K @ V evaluated at both Heun stages."""
    W, L = conn
    rm = surface.region_mapping
    nreg = W.shape[0]
    D = np.rint(L / speed / dt).astype(int)
    counts = np.bincount(rm, minlength=nreg)
    V, Wv = init["V"].copy(), init["W"].copy()
    mean = lambda x: np.bincount(rm, weights=x, minlength=nreg) / counts  # noqa: E731
    hist = {0: mean(V)}
    out = []
    for n in range(n_steps):
        past = lambda m: hist[max(m, 0)]  # noqa: E731 - constant history before t = 0
        c_reg = k * np.array([sum(W[r, j] * past(n - D[r, j])[j] for j in range(nreg)) for r in range(nreg)])
        c = c_reg[rm]
        k1 = _g2d(V, Wv, c, lam * (K @ V))
        Vp, Wp = V + dt * k1[0], Wv + dt * k1[1]
        k2 = _g2d(Vp, Wp, c, lam * (K @ Vp))
        V, Wv = V + dt / 2 * (k1[0] + k2[0]), Wv + dt / 2 * (k1[1] + k2[1])
        hist[n + 1] = mean(V)
        out.append(V.copy())
    return np.array(out)


def test_surface_network_equals_independent_tvb_scheme(sphere, connectome):
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="20 mm", sigma="7 mm")
    with jax.enable_x64(True):
        net = _net(sphere, connectome, lc, local_strength=0.7, k=0.05, speed=2.0)
        res = nm.Simulator(net, dt=0.1, progress=False).run(30.0, monitors=["V", RegionAverage("V")], key=0)
        want = _reference(sphere, connectome, lc.to_scipy(), 0.7, 0.05, 2.0, 0.1, 300, _init(sphere))
    V = np.asarray(res["V"])
    assert np.max(np.abs(want[-1] - want[0])) > 0.1                        # it moved
    np.testing.assert_allclose(V, want, rtol=0, atol=1e-10)
    reg = np.stack([want[:, sphere.region_mapping == r].mean(axis=1) for r in range(4)], axis=1)
    np.testing.assert_allclose(np.asarray(res["V_regions"]), reg, rtol=0, atol=1e-10)


def test_uncoupled_vertices_evolve_as_isolated_nodes(sphere, connectome):
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="20 mm", sigma="7 mm")
    with jax.enable_x64(True):
        net = _net(sphere, connectome, lc, local_strength=0.0, k=0.0)
        res = nm.Simulator(net, dt=0.1, progress=False).run(20.0, monitors=["V"], key=0)
        alone = nm.Simulator(nm.NodeSystem(GENERIC_2D, sphere.n_vertices, init=_init(sphere)),
                             dt=0.1, progress=False).run(20.0, monitors=["V"], key=0)
    np.testing.assert_allclose(np.asarray(res["V"]), np.asarray(alone["V"]), rtol=0, atol=1e-13)


def test_special_integrators_keep_the_node_scheme_with_a_local_kernel(sphere, connectome):
    """Exponential Euler (which needs the node's own linear part) and symplectic Euler (which needs
    the node's update order) work with a local kernel: with the kernel and the long-range coupling
    at zero they equal the isolated nodes, and with the kernel on exponential Euler converges to
    the RK4 trajectory at first order (the local input held over a step, like every input)."""
    from neuralmass.models import MODELS

    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="20 mm", sigma="7 mm")
    W, L = connectome
    horn = MODELS["HORN"]
    with jax.enable_x64(True):
        for model, method, init in ((GENERIC_2D, "exp_euler", _init(sphere)), (horn, "symplectic_euler", None)):
            x0 = init or {"x": np.sin(0.1 * sphere.vertices[:, 0])}
            var = "V" if model is GENERIC_2D else "x"
            net = SurfaceNetwork(model, W, sphere, local=lc, local_strength=0.0, coupling="linear", k=0.0,
                                 distance=L, speed=2.0, init=x0, method=method)
            got = nm.Simulator(net, dt=0.1, progress=False).run(20.0, monitors=[var], key=0)
            alone = nm.Simulator(nm.NodeSystem(model, sphere.n_vertices, init=x0, method=method),
                                 dt=0.1, progress=False).run(20.0, monitors=[var], key=0)
            np.testing.assert_allclose(np.asarray(got[var]), np.asarray(alone[var]), rtol=0, atol=1e-12)

        def final(method, dt):
            net = _net(sphere, connectome, lc, local_strength=0.7, k=0.05, method=method)
            return np.asarray(nm.Simulator(net, dt=dt, progress=False).run(10.0, monitors=["V"], key=0)["V"])[-1]

        ref = final("rk4", 0.01)
        e1, e2 = (np.max(np.abs(final("exp_euler", dt) - ref)) for dt in (0.1, 0.05))
    assert 1e-5 < e1 < 0.05 and 1.7 < e1 / e2 < 2.3, (e1, e2)


def test_unmapped_regions_are_appended_as_region_nodes(sphere, connectome):
    W, L = connectome
    W5 = np.pad(W, ((0, 1), (0, 1)), constant_values=0.3)
    L5 = np.pad(L, ((0, 1), (0, 1)), constant_values=20.0)
    net = SurfaceNetwork(GENERIC_2D, W5, sphere, coupling="linear", k=0.05, distance=L5, speed=2.0)
    assert net.n == sphere.n_vertices + 1 and list(net.unmapped) == [4]
    res = nm.Simulator(net, dt=0.1, progress=False).run(5.0, monitors=[RegionAverage("V")], key=0)
    assert np.asarray(res["V_regions"]).shape == (50, 5)


def test_batched_local_strengths_equal_separate_runs(sphere, connectome):
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="20 mm", sigma="7 mm")
    net = _net(sphere, connectome, lc, local_strength=0.0, speed=2.0,
               noise={"V_noise": nm.noise.NoiseSpec("white", sigma=0.01)})
    sim = nm.Simulator(net, dt=0.1, progress=False)
    lams = np.array([0.0, 0.5, 1.5])
    keys = jax.random.split(jax.random.PRNGKey(4), 3)
    both = sim.run(20.0, monitors=[RegionAverage("V")], key=keys, params={"local_strength": lams})
    for b, lam in enumerate(lams):
        one = sim.run(20.0, monitors=[RegionAverage("V")], key=keys[b], params={"local_strength": lam})
        np.testing.assert_allclose(np.asarray(both["V_regions"][b]), np.asarray(one["V_regions"]),
                                   rtol=1e-5, atol=1e-6)
    assert np.ptp(np.asarray(both["V_regions"])[:, -1, 0]) > 1e-3          # the strengths matter


def test_gradient_wrt_local_strength_and_k_matches_central_differences(sphere, connectome):
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="20 mm", sigma="7 mm")
    with jax.enable_x64(True):
        net = _net(sphere, connectome, lc, local_strength=0.5, k=0.05, speed=2.0)
        run = nm.make_run_fn(net, 0.1, 20.0, monitors=[RegionAverage("V", period=1.0)])
        P = nm.Simulator(net, dt=0.1).params()

        def loss(lam, k):
            p = {**P, "k": k, "node": {**P["node"], "local_strength": lam}}
            return jnp.sum(run(p, 0)["V_regions"] ** 2)

        x0 = (jnp.asarray(0.5), jnp.asarray(0.05))
        g = jax.jit(jax.grad(loss, argnums=(0, 1)))(*x0)
        f = jax.jit(loss)
        for i, h in ((0, 1e-5), (1, 1e-6)):
            up = [*x0]
            dn = [*x0]
            up[i] = up[i] + h
            dn[i] = dn[i] - h
            fd = (f(*up) - f(*dn)) / (2 * h)
            assert abs(float(g[i]) - float(fd)) <= 1e-4 * abs(float(fd)), (i, float(g[i]), float(fd))


def _front_arrivals(sigma, lam, duration=130.0):
    """Arrival time (ms) of V > 1.5 at each x of a 100 x 2 mm strip whose left 10 mm start excited.

    The node is the generic 2D oscillator with a slow W (tau = 10), so V is bistable (-0.17 and
    2.99 at W = -0.1) for the duration of the run; its linear term g = -lam cancels the mean of
    the row-normalised kernel (K V has row sums 1), so a uniform field evolves as an isolated node
    and only gradients couple: lam (K V - V)."""
    v, t = strip(100.0, 2.0, 1.0)
    surf = Surface(v, t, np.zeros(len(v), int))
    K = LocalCoupling.from_kernel(surf, "gaussian", cutoff=3 * sigma, sigma=sigma, metric="euclidean").to_scipy()
    local = LocalCoupling.from_matrix(K / np.asarray(K.sum(axis=1)).mean(), surf)
    x = v[:, 0]
    net = SurfaceNetwork(nm.Generic2dOscillatorStep(1, g=-lam, tau=10.0), np.zeros((1, 1)), surf, local=local,
                         local_strength=lam, k=0.0,
                         init={"V": np.where(x < 10, 2.9, -0.17), "W": np.full(len(x), -0.1)})
    V = np.asarray(nm.Simulator(net, dt=0.1, progress=False).run(duration, monitors=["V"], period=1.0, key=0)["V"])
    crossed = V > 1.5
    first = np.where(crossed.any(axis=0), crossed.argmax(axis=0) + 1.0, np.nan)
    xs = np.arange(20.0, 81.0, 10.0)
    return xs, np.array([np.median(first[x == xx]) for xx in xs])


def test_local_stimulus_spreads_at_a_speed_proportional_to_the_kernel_width():
    """A front of the bistable field travels at constant speed, and doubling the kernel width
    doubles it: with the kernel's integral fixed, sigma is the only length of the continuum
    problem (x -> x / sigma maps one width onto the other), so c = sigma * c_1. Without local
    coupling nothing spreads."""
    xs, t3 = _front_arrivals(3.0, 2.0)
    _, t6 = _front_arrivals(6.0, 2.0)
    speeds = []
    for t in (t3, t6):
        assert np.all(np.isfinite(t))
        slope, icpt = np.polyfit(xs, t, 1)
        assert np.max(np.abs(t - (slope * xs + icpt))) < 2.0           # constant speed (1 ms samples)
        speeds.append(1.0 / slope)
    assert 1.8 < speeds[1] / speeds[0] < 2.2, speeds
    _, t0 = _front_arrivals(3.0, 0.0, duration=60.0)
    assert np.all(np.isnan(t0))


def test_sensor_projection_is_unit_correct(sphere, connectome):
    rng = np.random.default_rng(3)
    G = rng.standard_normal((5, sphere.n_vertices))                      # V/(A·m)
    eeg = SensorProjection("V", G * u.volt / (u.amp * u.meter), scale=2.0 * u.nA * u.meter,
                           sensor_unit=u.uvolt, average=False, period=1.0)
    net = _net(sphere, connectome, None, local_strength=0.0)
    res = nm.Simulator(net, dt=0.1, progress=False).run(5.0, monitors=[eeg, "V"], period=1.0, key=0)
    # 1 V/(A·m) * 2 nA·m = 2e-9 V = 2e-3 µV per unit of V
    want = np.asarray(res["V"]) @ G.T * 2e-3
    assert res["eeg"].unit == u.uvolt
    np.testing.assert_allclose(np.asarray(res["eeg"].to_decimal(u.uvolt)), want, rtol=0, atol=1e-5 * np.abs(want).max())


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors(sphere, connectome):
    v, t = sphere.vertices, sphere.triangles
    with pytest.raises(ValueError, match=r"region_mapping has 10 entries .* 162 vertices"):
        Surface(v, t, np.zeros(10, int))
    with pytest.raises(ValueError, match=r"region_mapping contains -1"):
        Surface(v, t, np.full(len(v), -1))
    with pytest.raises(ValueError, match=r"triangles index vertex 162.*1-based"):
        Surface(v, t + 1)
    with pytest.raises(ValueError, match=r"look like metres.*vertices \* 1000"):
        Surface(v / 1000.0, t)
    assert np.allclose(Surface(v / 1000.0 * u.meter, t).vertices, v)          # a Quantity is converted
    W, _ = connectome
    with pytest.raises(ValueError, match=r"refers to region 3, but conn \(3 x 3\) has 3 regions"):
        SurfaceNetwork(GENERIC_2D, W[:3, :3], sphere, k=0.1)
    lc_small = LocalCoupling.from_matrix(sp.eye(10) * 0.0 + sp.diags(np.ones(9), 1, shape=(10, 10)))
    with pytest.raises(ValueError, match=r"10-vertex kernel but the surface has 162"):
        SurfaceNetwork(GENERIC_2D, W, sphere, local=lc_small, k=0.1)
    with pytest.raises(ValueError, match=r"local_strength=0.5 needs local="):
        SurfaceNetwork(GENERIC_2D, W, sphere, local_strength=0.5, k=0.1)
    with pytest.raises(ValueError, match=r"cutoff='0.1 mm' is shorter than every edge"):
        LocalCoupling.from_kernel(sphere, "gaussian", cutoff="0.1 mm", sigma="1 mm")
    with pytest.raises(ValueError, match=r"kernel='box' is not known"):
        LocalCoupling.from_kernel(sphere, "box", cutoff="10 mm")
    with pytest.raises(TypeError, match=r"needs sigma="):
        LocalCoupling.from_kernel(sphere, "gaussian", cutoff="10 mm")


# ----------------------------------------------------------------------------- tvb-data
@pytest.fixture(scope="module")
def tvb16k():
    pytest.importorskip("tvb_data", reason="tvb-data is not installed (pip install tvb-data)")
    return Surface.from_tvb_data("cortex_16384", region_mapping="regionMapping_16k_76")


def test_tvb_data_cortex_and_local_connectivity(tvb16k):
    assert (tvb16k.n_vertices, tvb16k.n_triangles, tvb16k.n_regions) == (16384, 32760, 76)
    lc = LocalCoupling.from_tvb_data("local_connectivity_16384", tvb16k)
    assert lc.nnz == 98280
    # it is the row-normalised 1-ring adjacency of the mesh (checked against the triangles)
    e = tvb16k.edges()
    adj = sp.coo_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
                        shape=(16384, 16384)).tocsr()
    deg = np.asarray(adj.sum(axis=1)).ravel()
    want = sp.diags(1.0 / deg) @ adj
    assert abs(lc.to_scipy() - want).max() < 1e-12


def test_gifti_freesurfer_and_tvb_zip_files_read_back(tmp_path, sphere):
    nib = pytest.importorskip("nibabel", reason="nibabel reads GIFTI/FreeSurfer files")
    import zipfile

    v, t, rm = sphere.vertices, sphere.triangles, sphere.region_mapping
    img = nib.gifti.GiftiImage(darrays=[
        nib.gifti.GiftiDataArray(v.astype(np.float32), intent="NIFTI_INTENT_POINTSET"),
        nib.gifti.GiftiDataArray(t.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE")])
    nib.save(img, tmp_path / "s.surf.gii")
    np.savetxt(tmp_path / "rm.txt", rm, fmt="%d")
    nib.freesurfer.write_geometry(str(tmp_path / "lh.pial"), v, t.astype(np.int32))
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as z:
        z.writestr("vertices.txt", "\n".join(" ".join(f"{c:.17g}" for c in row) for row in v))
        z.writestr("triangles.txt", "\n".join(" ".join(str(c) for c in row) for row in t))
    for s in (Surface.from_gifti(tmp_path / "s.surf.gii", region_mapping=tmp_path / "rm.txt"),
              Surface.from_freesurfer(tmp_path / "lh.pial", region_mapping=rm),
              Surface.from_tvb_zip(tmp_path / "s.zip", region_mapping=tmp_path / "rm.txt")):
        np.testing.assert_allclose(s.vertices, v, rtol=1e-6)
        np.testing.assert_array_equal(s.triangles, t)
        np.testing.assert_array_equal(s.region_mapping, rm)


def test_online_region_bold_equals_offline_bold_of_region_means(sphere, connectome):
    """``BOLDMonitor('V@regions')`` integrates the Balloon model online on the region means; the
    offline model on the recorded region means (every step) gives the same signal."""
    net = _net(sphere, connectome, None, local_strength=0.0)
    bold = nm.BOLDMonitor("V@regions", tr=100.0, integrate_every=10, scale=0.5)
    res = nm.Simulator(net, dt=0.1, progress=False).run(
        1000.0, monitors=[bold, RegionAverage("V", period=0.1)], key=0)
    offline = nm.forward.bold.simulate_bold(np.asarray(res["V_regions"]), 0.1, tr=100.0, integrate_every=10,
                                            scale=0.5)
    got = np.asarray(res["bold"])
    assert got.shape == (10, 4) and np.abs(got).max() > 1e-4
    np.testing.assert_allclose(got, np.asarray(offline), rtol=0, atol=1e-4 * np.abs(got).max())


def test_monitors_of_different_periods_are_thinned_per_chunk(sphere, connectome):
    """A slow monitor beside a fast one gives the same samples whether the run is one chunk or
    many (the chunked run keeps only each chunk's samples, so memory follows the samples)."""
    net = _net(sphere, connectome, None, local_strength=0.0)
    mons = [RegionAverage("V", period=0.5), nm.monitors.TemporalAverage("V", period=3.0)]
    one = nm.Simulator(net, dt=0.1, progress=False).run(20.0, monitors=mons, key=0)
    many = nm.Simulator(net, dt=0.1, progress=False, chunk_steps=35).run(20.0, monitors=mons, key=0)
    for k in ("V_regions", "V", "ts", "ts_V"):
        np.testing.assert_array_equal(np.asarray(u.get_magnitude(many[k])), np.asarray(u.get_magnitude(one[k])))
    assert np.asarray(one["V"]).shape == (6, sphere.n_vertices)
    np.testing.assert_allclose(np.asarray(one["ts_V"].to_decimal(u.ms)), [3, 6, 9, 12, 15, 18])


def test_parameter_names_follow_the_network_rule(sphere, connectome):
    """One parameter-path rule (params.resolve_path) on region and surface networks: a bare name that
    is both a node and a coupling parameter ('a': Generic2D's and the sigmoidal coupling's) is
    refused by both with the same error; 'node.a' and 'coupling.a' pick one."""
    from neuralmass.params import AmbiguousParameterError

    W, L = connectome
    region = nm.Network(GENERIC_2D, W, coupling="sigmoidal", k=0.05)
    surface = SurfaceNetwork(GENERIC_2D, W, sphere, coupling="sigmoidal", k=0.05)
    messages = []
    for net in (region, surface):
        with pytest.raises(AmbiguousParameterError, match="'node.a' or 'coupling.a'") as info:
            net.canonical_params({"a": 2.0})
        assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
        messages.append(str(info.value))
        base = net.canonical_params()
        node = net.canonical_params({"node.a": 2.5})
        assert float(np.asarray(node["node"]["a"]).ravel()[0]) == 2.5
        assert float(node["a"]) == float(base["a"]) != 2.5
        coup = net.canonical_params({"coupling.a": 3.5})
        assert float(coup["a"]) == 3.5
        np.testing.assert_array_equal(np.asarray(coup["node"]["a"]), np.asarray(base["node"]["a"]))
        # a name only one side has needs no prefix
        assert float(net.canonical_params({"cmax": 0.5})["cmax"]) == 0.5
        assert float(np.asarray(net.canonical_params({"tau": 4.0})["node"]["tau"]).ravel()[0]) == 4.0
    assert messages[0] == messages[1]
