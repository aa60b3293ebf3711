"""Stimulation on cortical surfaces (issue 26): spatial patterns over vertices times the waveforms of
neuralmass.stimulus, driving a SurfaceNetwork.

References: the closed-form response of a linear field (a matrix exponential, SciPy), the region
network driven by the same stimulus, the travelling front of the bistable field
(tests/test_surface.py) and central finite differences. Small generated meshes keep it fast.
"""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import neuralmass as nm
from _surfaces import hemisphere_mapping, icosphere, strip
from neuralmass import stimulus as st
from neuralmass.models import GENERIC_2D
from neuralmass.surface import LocalCoupling, RegionAverage, Surface, SurfaceNetwork, on_surface, surface_weights

R_MM = 50.0
LABELS = ["lA", "lB", "rA", "rB"]


@pytest.fixture(scope="module")
def sphere():
    v, t = icosphere(2, R_MM)                     # 162 vertices, edges of about 15 mm
    return Surface(v, t, hemisphere_mapping(v, 4), region_labels=LABELS)


# ----------------------------------------------------------------------------- patterns
def test_patterns_equal_their_definitions(sphere):
    """Regions: every vertex of the region; a Gaussian patch: amp exp(-d^2 / 2 sigma^2) of the
    straight-line distance from the point (written out here), cut at the cutoff; geodesic
    distances from a vertex: SciPy's Dijkstra on the edge graph; several foci add (TVB's sum)."""
    v = sphere.vertices
    net = SurfaceNetwork(GENERIC_2D, np.zeros((5, 5)), sphere, k=0.0)      # region 4 has no vertex
    w = surface_weights(net, regions={"lB": 0.5, 4: 2.0}, labels=LABELS + ["sub"])
    assert w.shape == (163,)
    np.testing.assert_array_equal(w[:162], np.where(sphere.region_mapping == 1, 0.5, 0.0))
    assert w[162] == 2.0
    p = np.array([0.0, 0.0, 52.0])
    w = surface_weights(net, point=[0.0, 0.0, 5.2 * u.cmeter], profile="gaussian", sigma="1.2 cm", amp=3.0,
                        cutoff=30.0, metric="euclidean")
    d = np.linalg.norm(v - p, axis=1)
    np.testing.assert_allclose(w[:162], np.where(d <= 30.0, 3.0 * np.exp(-d ** 2 / (2 * 12.0 ** 2)), 0.0),
                               rtol=1e-12)
    assert w[162] == 0.0 and 1 < np.count_nonzero(w) < 162
    # geodesic: shortest paths along edges from the focal vertices, summed over them
    from scipy.sparse.csgraph import dijkstra

    e = sphere.edges()
    L = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1)
    G = np.zeros((162, 162))
    G[e[:, 0], e[:, 1]] = G[e[:, 1], e[:, 0]] = L
    dg = dijkstra(G, directed=False, indices=[7, 40])
    w = surface_weights(sphere, vertices={7: 1.0, 40: -0.5}, profile="exponential", lam="20 mm")
    np.testing.assert_allclose(w[:162], np.exp(-dg[0] / 20.0) - 0.5 * np.exp(-dg[1] / 20.0), rtol=1e-12)
    w = surface_weights(sphere, vertices=[7], profile="disk", cutoff="31 mm")
    np.testing.assert_array_equal(w[:162] > 0, dg[0] <= 31.0)
    assert dg[0][w[:162] > 0].max() > 15.0                                 # beyond the first ring


def test_bad_patterns_raise_clear_errors(sphere):
    net = SurfaceNetwork(GENERIC_2D, np.zeros((4, 4)), sphere, k=0.0)
    with pytest.raises(ValueError, match=r"unknown region label 'lBx'.*'lB'"):
        surface_weights(net, regions=["lBx"])
    with pytest.raises(ValueError, match=r"index 162 is out of range for a mesh of 162 vertices \(0..161\)"):
        surface_weights(net, vertices=[3, 162])
    with pytest.raises(ValueError, match=r"sigma=0.005 is 0.005 mm, far below the mesh's spacing.*metres"):
        surface_weights(net, vertices=[3], profile="gaussian", sigma=0.005)
    with pytest.raises(ValueError, match=r"sigma='0.5 m' is 500 mm, more than twice the size.*metres"):
        surface_weights(net, vertices=[3], profile="gaussian", sigma="0.5 m")
    with pytest.raises(ValueError, match=r"lies 50 mm from the nearest vertex.*metres\? multiply them by 1000"):
        surface_weights(net, point=sphere.vertices[3] / 1000, profile="gaussian", sigma=10.0)
    with pytest.raises(ValueError, match=r"cannot be converted to mm"):
        surface_weights(net, vertices=[3], profile="gaussian", sigma="5 Hz")
    with pytest.raises(TypeError, match=r"profile='gaussian' needs sigma="):
        surface_weights(net, vertices=[3], profile="gaussian")
    with pytest.raises(ValueError, match=r"profile='gauss' is not known"):
        surface_weights(net, vertices=[3], profile="gauss", sigma=5.0)
    with pytest.raises(ValueError, match=r"profile='disk' needs cutoff="):
        surface_weights(net, vertices=[3], profile="disk")
    with pytest.raises(ValueError, match=r"point= needs profile="):
        surface_weights(net, point=sphere.vertices[3])
    with pytest.raises(ValueError, match=r"exactly one of regions=, vertices= or point="):
        surface_weights(net, regions=["lA"], vertices=[3])
    with pytest.raises(ValueError, match=r"pattern over 4 regions but the system has 162"):
        nm.Simulator(net, dt=0.1).run(1.0, inputs={"V_ext": st.constant(1.0).at(["lA"], labels=LABELS)})


# ----------------------------------------------------------------------------- dynamics
def test_drive_equals_the_closed_form_of_a_linear_field(sphere):
    """dx/dt = -x / tau + lam K x + A 1[t >= t0] w on every vertex (the linear node, local kernel K,
    a Gaussian patch w): x(t) = A M^-1 (e^{M (t - t0)} - 1) w with M = lam K - 1 / tau."""
    tau, lam, A, t0 = 10.0, 0.05, 0.3, 5.0
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="40 mm", sigma="15 mm", metric="euclidean")
    with jax.enable_x64(True):
        net = SurfaceNetwork(nm.LinearStep(1, tau=tau), np.zeros((4, 4)), sphere, local=lc, local_strength=lam,
                             k=0.0, method="rk4")
        w = surface_weights(net, vertices=[0], profile="gaussian", sigma="20 mm", metric="euclidean")
        res = nm.Simulator(net, dt=0.1, progress=False).run(
            40.0, monitors=["x"], period=1.0, key=0, inputs={"x_ext": st.constant(A, onset=t0).at(w)})
    x, t = np.asarray(res["x"]), np.asarray(res["ts"].to_decimal(u.ms))
    M = lam * lc.to_scipy().toarray() - np.eye(162) / tau
    Minv = np.linalg.inv(M)
    want = np.array([A * Minv @ (scipy.linalg.expm(M * max(s - t0, 0.0)) - np.eye(162)) @ w for s in t])
    assert np.abs(want).max() > 1.0 and np.ptp(want[-1]) > 0.5              # driven, and not uniformly
    np.testing.assert_allclose(x, want, rtol=0, atol=1e-6 * np.abs(want).max())


def test_region_stimulus_equals_the_region_networks_when_regions_are_vertices():
    """A mesh whose 11 regions are single vertices, plus a 12th region without vertex, coupled with
    delays: driving regions through the surface network equals driving the region network."""
    v, t = icosphere(0, R_MM)                                                  # 12 vertices
    rm = np.r_[np.arange(11), 3]                                               # vertex 11 -> region 3
    v, rm = v[:11], rm[:11]
    keep = np.all(t < 11, axis=1)
    surf = Surface(v, t[keep], rm)
    rng = np.random.default_rng(5)
    W = rng.uniform(0.0, 1.0, (12, 12))
    L = rng.uniform(10.0, 40.0, (12, 12))
    L = (L + L.T) / 2
    labels = [f"r{i}" for i in range(12)]
    conn = nm.Connectome(W, L, labels=labels)
    stim = st.pulse(onset=2.0, duration=3.0, amplitude=0.4).at({"r2": 1.0, "r11": 0.5}, labels=labels) \
        + st.sinusoid(frequency=40 * u.Hz, amplitude=0.1, onset=1.0).at(["r5"], labels=labels)
    kw = dict(coupling="linear", k=0.02, speed=3.0)
    node = nm.Generic2dOscillatorStep(12, V_init=np.linspace(-1, 1, 12), W_init=np.linspace(0.5, -0.5, 12))
    with jax.enable_x64(True):
        region = nm.Network(node, conn, **kw)
        surface = SurfaceNetwork(node, conn, surf, **kw)
        assert surface.n == 12 and list(surface.node_regions) == list(range(12))
        a = nm.Simulator(region, dt=0.1, progress=False).run(
            30.0, monitors=["V"], key=0, inputs={"V_ext": stim})
        b = nm.Simulator(surface, dt=0.1, progress=False).run(
            30.0, monitors=["V"], key=0, inputs={"V_ext": on_surface(stim, surface)})
        c = nm.Simulator(surface, dt=0.1, progress=False).run(
            30.0, monitors=["V"], key=0, inputs={"V_ext": st.pulse(2.0, 3.0, 0.4).at(
                surface_weights(surface, regions={"r2": 1.0, "r11": 0.5}))})
    Va, Vb = np.asarray(a["V"]), np.asarray(b["V"])
    assert np.abs(Va[:, 2] - Va[0, 2]).max() > 0.1                          # the stimulus moved it
    np.testing.assert_allclose(Vb, Va, rtol=0, atol=1e-12)
    assert np.abs(np.asarray(c["V"]) - Vb).max() > 1e-4                     # the sinusoid mattered


def _strip_network(sigma, lam):
    """The bistable field of tests/test_surface.py (V at rest on the lower branch everywhere)."""
    v, t = strip(100.0, 2.0, 1.0)
    surf = Surface(v, t, np.zeros(len(v), int))
    K = LocalCoupling.from_kernel(surf, "gaussian", cutoff=3 * sigma, sigma=sigma, metric="euclidean").to_scipy()
    local = LocalCoupling.from_matrix(K / np.asarray(K.sum(axis=1)).mean(), surf)
    n = len(v)
    return SurfaceNetwork(nm.Generic2dOscillatorStep(1, g=-lam, tau=10.0), np.zeros((1, 1)), surf, local=local,
                          local_strength=lam, k=0.0, init={"V": np.full(n, -0.17), "W": np.full(n, -0.1)})


def _stimulated_arrivals(sigma, lam, duration=130.0):
    """Arrival time (ms) of V > 1.5 along the strip after a 10 ms pulse on a 10 mm disk at x = 0."""
    net = _strip_network(sigma, lam)
    w = surface_weights(net, point=["0 mm", "1 mm", "0 mm"], profile="disk", cutoff="10 mm", metric="euclidean")
    stim = st.pulse(onset=5.0, duration=10.0, amplitude=3.0).at(w)
    V = np.asarray(nm.Simulator(net, dt=0.1, progress=False).run(
        duration, monitors=["V"], period=1.0, key=0, inputs={"V_ext": stim})["V"])
    x = net.surface.vertices[:, 0]
    crossed = V > 1.5
    first = np.where(crossed.any(axis=0), crossed.argmax(axis=0) + 1.0, np.nan)
    xs = np.arange(0.0, 81.0, 10.0)
    return xs, np.array([np.median(first[x == xx]) for xx in xs])


def test_pulse_on_a_patch_spreads_at_the_speed_the_kernel_sets():
    """The patch switches first, then a front travels at constant speed: twice as fast for a
    kernel twice as wide (the continuum problem scales with sigma, tests/test_surface.py), and as
    fast as the front started from an excited initial state. Without local coupling nothing
    beyond the patch switches."""
    from test_surface import _front_arrivals

    speeds = {}
    for sigma in (3.0, 6.0):
        xs, t = _stimulated_arrivals(sigma, 2.0)
        assert np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)           # the patch first, then outwards
        far = xs >= 20
        slope, icpt = np.polyfit(xs[far], t[far], 1)
        assert np.max(np.abs(t[far] - (slope * xs[far] + icpt))) < 2.0       # constant speed
        speeds[sigma] = 1.0 / slope
    assert 1.8 < speeds[6.0] / speeds[3.0] < 2.2, speeds
    xs0, t0 = _front_arrivals(3.0, 2.0)
    assert 1.0 / np.polyfit(xs0, t0, 1)[0] == pytest.approx(speeds[3.0], rel=0.1)
    xs, t = _stimulated_arrivals(3.0, 0.0, duration=60.0)
    assert np.isfinite(t[0]) and np.all(np.isnan(t[1:]))


def test_gradient_wrt_stimulus_amplitude_matches_central_differences(sphere):
    W = np.random.default_rng(1).uniform(0.2, 1.0, (4, 4))
    lc = LocalCoupling.from_kernel(sphere, "gaussian", cutoff="20 mm", sigma="7 mm")
    x, y, z = sphere.vertices.T
    init = {"V": np.sin(0.1 * x) * np.cos(0.1 * y), "W": -0.5 + 0.5 * np.cos(0.05 * (x + y + z))}
    with jax.enable_x64(True):
        net = SurfaceNetwork(GENERIC_2D, W, sphere, local=lc, local_strength=0.5, coupling="linear", k=0.05,
                             distance=np.full((4, 4), 20.0), speed=2.0, init=init)
        w = surface_weights(net, vertices=[10], profile="gaussian", sigma="15 mm")
        P = nm.Simulator(net, dt=0.1).params()

        def loss(A):
            stim = st.pulse(onset=2.0, duration=5.0, amplitude=A).at(w)
            run = nm.make_run_fn(net, 0.1, 15.0, monitors=[RegionAverage("V", period=1.0)],
                                 inputs={"V_ext": stim})
            return jnp.sum(run(P, 0)["V_regions"] ** 2)

        A0, h = 2.0, 1e-4
        g = float(jax.jit(jax.grad(loss))(jnp.asarray(A0)))
        f = jax.jit(loss)
        fd = float((f(jnp.asarray(A0 + h)) - f(jnp.asarray(A0 - h))) / (2 * h))
    assert abs(fd) > 1e-3
    assert g == pytest.approx(fd, rel=1e-5)


# ----------------------------------------------------------------------------- study configs
PATCH = """
[[stimulus]]
kind = "pulse"
onset = "50 ms"
duration = "20 ms"
amplitude = 3.0
vertices = [5]
profile = {kernel = "gaussian", sigma = "1.5 cm", cutoff = "30 mm"}

[[stimulus]]
kind = "constant"
amplitude = 0.2
regions = { R1 = 0.5 }
"""


def _stimulated_config(tmp_path, blocks=PATCH, duration=100.0):
    pytest.importorskip("nibabel")
    from test_surface_study import _config, _write_mesh

    _write_mesh(tmp_path)
    p = _config(tmp_path, duration=duration)
    p.write_text(p.read_text().replace("[bold]\n", "[bold]\nenabled = false\n") + blocks)
    return p


def test_study_config_places_stimuli_on_vertices_as_the_python_api(tmp_path):
    """[[stimulus]] blocks of a [surface] study: a Gaussian patch around a vertex and a region's
    vertices, with lengths in any unit, give the patterns of surface_weights; the run drives the
    patch (vertex.nc) and the summary and report record the blocks."""
    import json

    import xarray as xr

    from neuralmass.cli import main
    from neuralmass.config import load_config
    from neuralmass.studies.build import build_study

    p = _stimulated_config(tmp_path)
    cfg = load_config(p)
    assert cfg["stimulus"][0]["profile"] == {"kernel": "gaussian", "metric": "geodesic", "cutoff": 30.0,
                                             "amp": 1.0, "sigma": 15.0}
    study = build_study(cfg)
    surf = study.surface.surface
    stim = study.stimuli["V_ext"]
    want_patch = surface_weights(surf, n_regions=8, vertices=[5], profile="gaussian", sigma="15 mm", cutoff=30.0)
    want_region = np.where(surf.region_mapping == 1, 0.5, 0.0)
    np.testing.assert_array_equal(stim.terms[0].weights, want_patch)
    np.testing.assert_array_equal(stim.terms[1].weights, want_region)
    assert main(["run", str(p), "--quiet"]) == 0
    out = tmp_path / "results"
    V = xr.open_dataset(out / "vertex.nc")["vertex"]
    t = V["time"].values
    V = np.asarray(V)
    jump = V[(t > 55) & (t < 70)].mean(axis=0) - V[(t > 35) & (t < 50)].mean(axis=0)
    centre, outside = jump[5], jump[(want_patch == 0) & (want_region == 0)]
    assert centre > 20 * np.abs(outside).max()                              # the patch, not elsewhere
    summary = json.loads((out / "summary.json").read_text())
    s0, s1 = summary["stimulus"]
    assert s0["n_vertices"] == int(np.count_nonzero(want_patch)) and s1["n_vertices"] == int((want_region > 0).sum())
    assert s1["targets"] == {"R1": 0.5}
    assert "vertices around vertices [5]" in (out / "report.md").read_text()


@pytest.mark.parametrize("placement, error, key", [
    ("vertices = [500]", "PreflightError", r"stimulus\[0\]\.vertices = \[500\]: .*out of range .*162 vertices"),
    ('vertices = [5]\nprofile = {kernel = "gaussian", sigma = 0.005}', "PreflightError",
     r"stimulus\[0\]\.profile = .*sigma=0\.005 .*metres"),
    ('point = [0.0, 0.0, 0.05]\nprofile = {kernel = "gaussian", sigma = "5 mm"}', "PreflightError",
     r"stimulus\[0\]\.point = .*from the nearest vertex.*metres"),
    ('regions = ["R99"]', "PreflightError", r"stimulus\[0\]\.regions = \['R99'\]: unknown region label"),
    ('vertices = [5]\nprofile = {kernel = "gaussian", sigma = "5 s"}', "ConfigError",
     r"stimulus\[0\]\.profile\.sigma: .*cannot be converted to mm"),
    ('vertices = [5]\nprofile = {kernel = "gausian", sigma = "5 mm"}', "ConfigError",
     r"stimulus\[0\]\.profile: profile='gausian' is not known"),
    ('vertices = [5]\nprofile = {kernel = "gaussian", sigma = "5 mm", colour = 1}', "ConfigError",
     r"stimulus\[0\]\.profile\.colour: .*unexpected colour"),
    ('point = [0, 0, 50]', "ConfigError", r"stimulus\[0\]\.point needs a profile"),
    ('regions = ["R1"]\nprofile = {kernel = "disk", cutoff = "5 mm"}', "ConfigError",
     r"stimulus\[0\]\.profile shapes a patch"),
    ("vertices = [-1]", "ConfigError", r"stimulus\[0\]\.vertices = \[-1\] must be vertex indices"),
])
def test_bad_surface_stimulus_blocks_name_the_key_before_simulating(tmp_path, placement, error, key):
    from neuralmass.config import ConfigError, load_config
    from neuralmass.studies.build import build_study
    from neuralmass.studies.preflight import PreflightError

    block = f'\n[[stimulus]]\nkind = "pulse"\nonset = "10 ms"\nduration = "5 ms"\namplitude = 1.0\n{placement}\n'
    p = _stimulated_config(tmp_path, blocks=block)
    exc = {"ConfigError": ConfigError, "PreflightError": PreflightError}[error]
    with pytest.raises(exc, match=key):
        build_study(load_config(p))


def test_vertex_placement_needs_a_surface_study():
    from neuralmass.config import ConfigError, validate_stimulus_blocks
    from neuralmass.models import MODELS

    block = {"kind": "constant", "amplitude": 1.0, "vertices": [3]}
    with pytest.raises(ConfigError, match=r"stimulus\[0\]\.vertices .*needs a \[surface\] study"):
        validate_stimulus_blocks([block], MODELS["Hopf"], 1000.0)
    [b] = validate_stimulus_blocks([{**block, "profile": {"kernel": "disk", "cutoff": "1 cm"}}], MODELS["Hopf"],
                                   1000.0, surface=True)
    assert b["profile"] == {"kernel": "disk", "metric": "geodesic", "cutoff": 10.0}
    assert validate_stimulus_blocks([b], MODELS["Hopf"], 1000.0, surface=True) == [b]     # idempotent
