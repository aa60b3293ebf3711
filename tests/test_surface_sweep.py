"""Sweeps of surface studies from a config (``neuralmass sweep`` with ``[surface]``; docs/surface.md).

A generated 162-vertex icosphere on the bundled 8-region example connectome (the mesh and config
of tests/test_surface_study.py), 0.3 s at dt = 0.5 ms: a lane of the sweep against a direct
:class:`~neuralmass.surface.SurfaceNetwork` run of the same parameters, SIGKILL then resume
against an uninterrupted sweep, and bad input refused before any work.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax
import numpy as np
import pytest

pytest.importorskip("nibabel")
pytest.importorskip("zarr")
pytest.importorskip("xarray")

from test_explore import _assert_same, _sigkill_after_two_chunks  # noqa: E402
from test_surface_study import CONFIG, N_REGIONS, _write_mesh  # noqa: E402

from neuralmass.cli import main  # noqa: E402
from neuralmass.config import ConfigError, load_config  # noqa: E402
from neuralmass.engine.budget import RunTooLarge  # noqa: E402
from neuralmass.explore import open_sweep  # noqa: E402
from neuralmass.studies.build import build_study  # noqa: E402
from neuralmass.studies.sweep import load_sweep_config  # noqa: E402

DT, DURATION, TRANSIENT, PERIOD = 0.5, 300.0, 50.0, 2.0
K_VALUES, LS_VALUES = [0.0, 0.05], [0.0, 0.8]

LOCAL = 'local = {kernel = "gaussian", sigma = "8 mm", cutoff = "20 mm", metric = "euclidean"}\nlocal_strength = 0.5\n'

SWEEP = """
[sweep]
seeds = [3, 11]
chunk = 1
features = ["rate_mean", "rate_var", "sfc"]
timeseries = {{ signal = "activity" }}
store = "{store}"

[sweep.space]
{space}
"""

SPACE = f"local_strength = {{ values = {LS_VALUES} }}\nk = {{ values = {K_VALUES} }}"


def write_config(folder, space=SPACE, local=LOCAL, name="sweep.toml") -> Path:
    """The mesh files and a sweep config in ``folder`` (the study of tests/test_surface_study.py,
    without BOLD, noisier, with a transient); returns the config's path."""
    folder = Path(folder)
    _write_mesh(folder)
    text = CONFIG.format(out=(folder / "results").as_posix(), duration=DURATION,
                         surface=f'{local}period = "{PERIOD} ms"\n')
    for old, new in (('transient = "0 ms"', f'transient = "{TRANSIENT} ms"'), ("[bold]\n", "[bold]\nenabled = false\n"),
                     ("sigma = 0.001", "sigma = 0.01"), ('dt = "0.5 ms"', f'dt = "{DT} ms"')):
        assert old in text
        text = text.replace(old, new)
    p = folder / name
    p.write_text(text + SWEEP.format(store=(folder / "sweep.zarr").as_posix(), space=space))
    return p


def surface_sweep(folder):
    """The sweep of ``folder``'s config (the SIGKILL helper of tests/test_explore.py builds it
    in a child process by this name)."""
    return load_sweep_config(Path(folder) / "sweep.toml")[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted serial sweep of the config: 4 points x 2 seeds in 4 chunks."""
    folder = tmp_path_factory.mktemp("ssweep")
    write_config(folder)
    sw = surface_sweep(folder)
    ds = sw.run(folder / "ref.zarr", scheduler="serial", progress=False)
    assert sw.last_run["computed"] == [0, 1, 2, 3]
    return folder, sw, ds


def _direct_region_means(folder, k, local_strength, seed, replace=None):
    """Region means of one unbatched run of the study's SurfaceNetwork built with these values
    (and the config's text edited by ``replace``: old -> new)."""
    from neuralmass import Simulator
    from neuralmass.surface import RegionAverage

    text = (Path(folder) / "sweep.toml").read_text().split("[sweep]")[0]
    text = text.replace("k = 0.01", f"k = {k}").replace("local_strength = 0.5", f"local_strength = {local_strength}")
    for a, b in (replace or {}).items():
        assert a in text
        text = text.replace(a, b)
    p = Path(folder) / "direct.toml"
    p.write_text(text)
    study = build_study(load_config(p))
    assert type(study.network).__name__ == "SurfaceNetwork" and study.network.n_vertices == 162
    res = Simulator(study.network, dt=DT).run(DURATION, monitors=[RegionAverage("V", period=PERIOD)],
                                              transient=TRANSIENT, key=jax.random.PRNGKey(seed))
    return np.asarray(res["V_regions"]), np.asarray(study.connectome.weights)


def test_a_lane_equals_a_direct_surface_network_run(reference):
    """Point 3 (local_strength 0.8, k 0.05), seed 11: the stored region means equal those of a
    direct run of the SurfaceNetwork built with these values, and the features are those of the
    direct run's region means (computed here with NumPy)."""
    folder, sw, ds = reference
    p = int(np.flatnonzero((ds.local_strength.values == 0.8) & (ds.k.values == 0.05))[0])
    R, W = _direct_region_means(folder, 0.05, 0.8, 11)
    assert R.shape == (int((DURATION - TRANSIENT) / PERIOD), N_REGIONS)
    assert np.ptp(R, axis=0).min() > 1e-3                       # the regions move
    lane = np.asarray(ds.timeseries.values[p, 1])               # seed 11 is the second seed
    np.testing.assert_allclose(lane, R, rtol=2e-4, atol=2e-5)
    assert float(ds.rate_mean.values[p, 1]) == pytest.approx(R.mean(), rel=1e-4, abs=1e-6)
    assert float(ds.rate_var.values[p, 1]) == pytest.approx(R.var(axis=0).mean(), rel=1e-3)
    iu = np.triu_indices(N_REGIONS, 1)
    sfc = np.corrcoef(W[iu], np.corrcoef(R.T)[iu])[0, 1]
    assert float(ds.sfc.values[p, 1]) == pytest.approx(sfc, abs=2e-3)
    # the swept values act: local coupling and long range change the region means
    other = np.asarray(ds.timeseries.values[0, 1])              # local_strength 0, k 0, same noise
    assert np.abs(other - lane).max() > 10 * np.abs(lane - R).max()


def test_sigkill_then_resume_equals_uninterrupted_sweep(reference, tmp_path):
    folder, sw, ref = reference
    write_config(tmp_path)
    _sigkill_after_two_chunks(tmp_path / "sweep.zarr", factory=("test_surface_sweep", "surface_sweep"),
                              folder=str(tmp_path))
    before = np.asarray(open_sweep(tmp_path / "sweep.zarr")["chunk_done"].values) == 1
    assert 2 <= before.sum() < 4
    again = surface_sweep(tmp_path)
    ds = again.run(tmp_path / "sweep.zarr", scheduler="serial", progress=False)
    assert sorted(again.last_run["computed"]) == [int(i) for i in np.nonzero(~before)[0]]
    _assert_same(ds, ref)
    np.testing.assert_array_equal(ds.timeseries.values, ref.timeseries.values)


def test_lanes_split_by_memory_give_the_same_results(reference, tmp_path, monkeypatch):
    """With memory for one lane per engine call, a chunk of 2 points x 2 seeds runs as 4 calls
    (the last padded): the same results as the 4 lanes in one call."""
    import neuralmass.engine.budget as budget

    folder, sw, ref = reference
    write_config(tmp_path)
    (tmp_path / "sweep.toml").write_text((tmp_path / "sweep.toml").read_text().replace("chunk = 1", "chunk = 2"))
    one = surface_sweep(tmp_path)
    monkeypatch.setattr(budget, "available_memory", lambda: 2.5 * one.lane_bytes)
    ds = one.run(tmp_path / "split.zarr", scheduler="serial", progress=False)
    assert one.last_run["lanes_per_call"] == 1
    np.testing.assert_allclose(ds.timeseries.values, ref.timeseries.values, rtol=1e-5, atol=1e-6)
    for f in ("rate_mean", "rate_var", "sfc"):
        np.testing.assert_allclose(ds[f].values, ref[f].values, rtol=1e-4, atol=1e-6, err_msg=f)


def test_lane_memory_is_the_engine_estimate_of_one_surface_lane(reference):
    """The per-lane estimate counts every node's state (6 live copies for Heun, 2 variables) and the
    region means (8 per sample), not one value per vertex per sample."""
    _, sw, _ = reference
    parts = sw.lane_estimate.parts
    n_nodes = 162                                             # every region has vertices
    isz = 4 if not jax.config.read("jax_enable_x64") else 8
    assert parts["state"] == n_nodes * 2 * 6 * isz           # Heun: 6 live copies of the state
    samples = int((DURATION - TRANSIENT) / PERIOD)
    assert parts["recorded outputs"] == samples * N_REGIONS * isz * 2
    assert parts["local kernel"] > 0


@pytest.mark.parametrize("space, local, key", [
    ('locl_strength = [0.1, 0.2]', LOCAL, "locl_strength"),                 # a misspelt name
    ('local_strength = [0.1, 0.2]', "", "local_strength"),                  # no local kernel
    ('"noise.V.sigmaa" = [0.1, 0.2]', LOCAL, "noise.V.sigmaa"),
])
def test_bad_space_is_refused_before_any_work(tmp_path, space, local, key):
    p = write_config(tmp_path, space=space, local=local)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_sweep_config(p)
    assert main(["sweep", str(p), "--scheduler", "serial", "--quiet"]) != 0
    assert not (tmp_path / "sweep.zarr").exists()


def test_a_lane_that_cannot_fit_is_refused_naming_the_fix(tmp_path, monkeypatch):
    import neuralmass.engine.budget as budget

    p = write_config(tmp_path)
    monkeypatch.setattr(budget, "available_memory", lambda: 1000.0)
    with pytest.raises(RunTooLarge, match=r"one lane of this sweep needs about .* duration.*surface\.period"):
        load_sweep_config(p)
    assert not (tmp_path / "sweep.zarr").exists()


def test_speed_and_node_parameter_lanes_equal_direct_runs(tmp_path):
    """A space of the long-range conduction speed (traced: delays interpolated linearly) and the
    node parameter ``a``: the lane of (8 mm/ms, a = 0.5) equals a direct run of the study built
    with these values and ``delay_mode = "linear"``; the speed changes the region means."""
    write_config(tmp_path, space='speed = { values = ["2 mm/ms", "8 mm/ms"] }\na = [-0.5, 0.5]')
    (tmp_path / "sweep.toml").write_text((tmp_path / "sweep.toml").read_text().replace("seeds = [3, 11]", "seeds = [3]"))
    ds = surface_sweep(tmp_path).run(tmp_path / "s.zarr", scheduler="serial", progress=False)
    p = int(np.flatnonzero((ds.speed.values == 8.0) & (ds.a.values == 0.5))[0])
    q = int(np.flatnonzero((ds.speed.values == 2.0) & (ds.a.values == 0.5))[0])
    R, _ = _direct_region_means(tmp_path, 0.01, 0.5, 3, {'speed = "5 mm/ms"': 'speed = "8 mm/ms"\ndelay_mode = "linear"',
                                                          'name = "Generic2dOscillator"':
                                                          'name = "Generic2dOscillator"\nparams = { a = 0.5 }'})
    lane = np.asarray(ds.timeseries.values[p, 0])
    np.testing.assert_allclose(lane, R, rtol=2e-4, atol=2e-5)
    assert np.abs(np.asarray(ds.timeseries.values[q, 0]) - lane).max() > 100 * np.abs(lane - R).max()


@pytest.mark.skipif(importlib.util.find_spec("tvb_data") is None,
                    reason="needs tvb-data (pip install tvb-data) for cortex_16384")
def test_shipped_config_builds_a_16k_sweep():
    """examples/configs/sweep_surface_tvb16k.toml: 4 points of local_strength x k in 2 chunks of
    2 lanes, features on the 76 region means, the 63-channel EEG stored; one lane is a few MB."""
    root = Path(__file__).resolve().parents[1]
    sw, store = load_sweep_config(root / "examples" / "configs" / "sweep_surface_tvb16k.toml")
    assert sw.n_points == 4 and sw.n_chunks == 2 and set(sw.names) == {"local_strength", "k"}
    assert sw.model._base.system.n == 16384
    assert sw.model.signal_width() == 76 and sw.timeseries.shape == (150, 63)
    assert sw.lane_estimate.parts["local kernel"] == 3 * 98280 * (8 if jax.config.read("jax_enable_x64") else 4)
    assert 1e6 < sw.lane_bytes < 2e7
    assert not store.startswith("results/")


def test_lanes_per_call_follow_the_scarcer_of_host_and_accelerator_memory(reference, monkeypatch):
    """Half of the free memory, shared by the concurrent chunks, in whole lanes: a GPU with room
    for 2.5 lanes next to a large host gives 1 lane per call; the host alone gives all 2."""
    import neuralmass.engine.budget as budget

    _, sw, _ = reference
    L = sw.lane_bytes
    monkeypatch.setattr(budget, "available_memory", lambda: 1000.0 * L)
    monkeypatch.setattr(budget, "accelerator_memory", lambda: None)
    assert sw.lanes_per_call() == 2                       # chunk 1 x 2 seeds
    assert sw.lanes_per_call(concurrent=400) == 1         # 1000 L / 2 / 400 = 1.25 lanes
    monkeypatch.setattr(budget, "accelerator_memory", lambda: 2.5 * L)
    assert sw.lanes_per_call() == 1
    monkeypatch.setattr(budget, "accelerator_memory", lambda: 4.0 * L)
    assert sw.lanes_per_call() == 2


def test_python_sweeps_of_two_meshes_have_different_identities():
    """A SurfaceNetwork swept from Python is identified by its mesh and kernel too: the same
    model on a sphere of another radius is another sweep (its store is not resumed)."""
    from _surfaces import hemisphere_mapping, icosphere

    from neuralmass import Generic2dOscillatorStep
    from neuralmass.explore import Sweep
    from neuralmass.surface import LocalCoupling, RegionAverage, Surface, SurfaceNetwork

    def spec(radius):
        v, t = icosphere(2, radius)
        surf = Surface(v, t, region_mapping=hemisphere_mapping(v, 2))
        local = LocalCoupling.from_kernel(surf, "gaussian", cutoff="30 mm", sigma="10 mm", metric="euclidean")
        net = SurfaceNetwork(Generic2dOscillatorStep(1), np.ones((2, 2)) - np.eye(2), surf, local=local,
                             local_strength=1.0, coupling="linear", k=0.01)
        return Sweep(net, {"local_strength": [0.5, 1.0]}, dt=0.5, duration=20.0, period=1.0,
                     features=["rate_var"], record=[RegionAverage("V", period=1.0, name="activity")]).spec()

    a, b = spec(50.0), spec(60.0)
    assert a == spec(50.0) and a["model"]["fingerprint"] != b["model"]["fingerprint"]
