"""Surface studies from a config (``[surface]``, ``neuralmass run``; docs/surface.md).

A small generated icosphere (162 vertices, written to a GIFTI file with a text region mapping) on
the bundled 8-region example connectome keeps these fast; one test reads tvb-data's 16k cortex
and is skipped without tvb-data.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from _surfaces import hemisphere_mapping, icosphere
from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config
from neuralmass.studies.build import build_study
from neuralmass.studies.preflight import PreflightError

pytest.importorskip("nibabel")
HAS_TVB = importlib.util.find_spec("tvb_data") is not None

N_REGIONS = 8           # example_connectome
DURATION_MS = 2500.0


def _write_mesh(folder: Path, n_regions: int = N_REGIONS, mapping_len=None):
    import nibabel as nib

    v, t = icosphere(2, 50.0)                       # 162 vertices, 50 mm radius
    img = nib.gifti.GiftiImage(darrays=[
        nib.gifti.GiftiDataArray(v.astype(np.float32), intent="NIFTI_INTENT_POINTSET"),
        nib.gifti.GiftiDataArray(t.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE")])
    nib.save(img, str(folder / "sphere.surf.gii"))
    rm = hemisphere_mapping(v, n_regions)
    if mapping_len is not None:
        rm = rm[:mapping_len]
    np.savetxt(folder / "sphere_mapping.txt", rm, fmt="%d")
    return v, t, rm


CONFIG = """
[study]
name = "surface-test"
seed = 3
output = "{out}"

[data]
dataset = "example_connectome"
normalize = "max"

[model]
name = "Generic2dOscillator"

[network]
coupling = "linear"
k = 0.01
speed = "5 mm/ms"

[noise]
kind = "white"
sigma = 0.001

[simulation]
dt = "0.5 ms"
duration = "{duration} ms"
transient = "0 ms"

[bold]
tr = "250 ms"
baseline = "auto"
scale = 0.2

[analysis]
fcd_window = "750 ms"
fcd_step = "250 ms"

[surface]
mesh = "sphere.surf.gii"
region_mapping = "sphere_mapping.txt"
{surface}
"""

LOCAL = 'local = {kernel = "gaussian", sigma = "8 mm", cutoff = "20 mm", metric = "euclidean"}\n' \
        'local_strength = 0.5\nvertex_period = "5 ms"\nperiod = "1 ms"\n'


def _config(tmp_path, surface=LOCAL, duration=DURATION_MS, name="study.toml"):
    p = tmp_path / name
    p.write_text(CONFIG.format(out=(tmp_path / "results").as_posix(), duration=duration, surface=surface))
    return p


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    """One CLI run of the small surface study (shared by the output checks)."""
    tmp = tmp_path_factory.mktemp("surface_study")
    v, _, rm = _write_mesh(tmp)
    cfg = _config(tmp)
    rc = main(["run", str(cfg), "--quiet"])
    return tmp, rc, v, rm


def test_cli_run_writes_summary_matching_the_inputs(study_run):
    tmp, rc, v, _ = study_run
    assert rc == 0
    summary = json.loads((tmp / "results" / "summary.json").read_text())
    assert summary["n_vertices"] == v.shape[0] == 162
    assert summary["surface"]["n_vertices"] == 162
    assert summary["duration_s"] == pytest.approx(DURATION_MS / 1000.0)
    assert summary["brain_s_per_wall_min"] == pytest.approx(
        summary["duration_s"] / (summary["wall_time_s"] / 60.0), rel=0.02)
    assert summary["surface"]["local_nonzeros"] > 0
    assert summary["surface"]["vertex"]["samples"] == int(DURATION_MS / 5.0)
    assert "bold" in summary and summary["bold"]["frames"] == int(DURATION_MS / 250.0)
    assert (tmp / "results" / "figures" / "surface.png").stat().st_size > 10_000
    assert "meg_eeg" in summary and "surface" in str(summary["meg_eeg"])


def test_region_output_equals_mean_of_vertex_output_by_mapping(tmp_path):
    """neural.nc (region means) against vertex.nc (every vertex) of one CLI run, both sampled at
    every step: the region output is the mean of the vertex output over each region's vertices
    of the mapping file (computed here independently of the library)."""
    import xarray as xr

    _, _, rm = _write_mesh(tmp_path)
    cfg = _config(tmp_path, duration=100.0,
                  surface=LOCAL.replace('vertex_period = "5 ms"', 'vertex_period = "0.5 ms"')
                              .replace('period = "1 ms"', 'period = "0.5 ms"'))
    cfg.write_text(cfg.read_text().replace('[bold]\n', '[bold]\nenabled = false\n'))
    assert main(["run", str(cfg), "--quiet"]) == 0
    V = np.asarray(xr.open_dataset(tmp_path / "results" / "vertex.nc")["vertex"])
    R = np.asarray(xr.open_dataset(tmp_path / "results" / "neural.nc")["neural"])
    assert V.shape == (200, rm.size) and R.shape == (200, N_REGIONS)
    assert np.ptp(V, axis=0).max() > 1e-3                  # the vertices move (noise, coupling)
    by_mapping = np.stack([V[:, rm == r].mean(axis=1) for r in range(N_REGIONS)], axis=1)
    np.testing.assert_allclose(R, by_mapping, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("surface, key", [
    ('local = {kernel = "gausian", sigma = "5 mm"}\n', "surface.local.kernel"),
    ('local = {kernel = "gaussian"}\n', "sigma"),
    ('local = {kernel = "gaussian", sigma = "5 ms"}\n', "surface.local.sigma"),
    ('local = {kernel = "gaussian", sigma = "5 mm", metric = "manhattan"}\n', "surface.local.metric"),
    ('local_strength = 2.0\n', "surface.local_strength"),
    ('vertex_period = "0.7 ms"\n', "surface.vertex_period"),
    ('eeg_scale = "1 mV"\n', "surface.eeg_scale"),
    ('colour = "red"\n', "surface.colour"),
])
def test_bad_surface_keys_are_refused_naming_the_key(tmp_path, surface, key):
    _write_mesh(tmp_path)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(_config(tmp_path, surface=surface))


def test_missing_mesh_is_refused(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(CONFIG.format(out="r", duration=100, surface="").replace('mesh = "sphere.surf.gii"\n', ""))
    with pytest.raises(ConfigError, match="surface.mesh is missing"):
        load_config(p)


@pytest.mark.parametrize("setup, key", [
    ({"mapping_len": 100}, "surface.region_mapping"),        # 100 entries for 162 vertices
    ({"n_regions": 12}, "surface.region_mapping"),           # regions 0..11 for an 8-region connectome
    ({"mesh": "nowhere.surf.gii"}, "surface.mesh"),
    ({"local": 'local = "tvb"\n'}, "surface.local"),           # no tvb-data kernel for 162 vertices
    ({"eeg": 'eeg = "gain.npy"\n'}, "surface.eeg"),            # gain of the wrong width
])
def test_inputs_that_do_not_fit_are_refused_before_the_run(tmp_path, setup, key):
    _write_mesh(tmp_path, n_regions=setup.get("n_regions", N_REGIONS), mapping_len=setup.get("mapping_len"))
    np.save(tmp_path / "gain.npy", np.ones((4, 100)))
    surface = setup.get("local", "") + setup.get("eeg", "")
    p = _config(tmp_path, surface=surface)
    if "mesh" in setup:
        p.write_text(p.read_text().replace("sphere.surf.gii", setup["mesh"]))
    cfg = load_config(p)
    with pytest.raises(PreflightError, match=key.replace(".", r"\.")):
        build_study(cfg)
    rc = main(["run", str(p), "--quiet"])
    assert rc != 0 and not (tmp_path / "results").exists()


@pytest.mark.skipif(not HAS_TVB, reason="needs tvb-data (pip install tvb-data) for cortex_16384")
def test_shipped_tvb16k_config_builds_with_eeg():
    """The shipped config's study builds: 16 384 vertices, tvb-data's kernel, 63 EEG channels."""
    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "examples" / "configs" / "surface_tvb16k.toml")
    study = build_study(cfg)
    assert study.surface.n_vertices == 16384
    assert study.surface.local.nnz == 98280
    assert study.surface.gain.shape == (63, 16384)
    names = [m.key if hasattr(m, "key") else m.name for m in study.monitors()]
    assert {"neural", "bold", "vertex", "eeg"} <= set(names)


def test_per_region_parameters_reach_every_vertex_of_the_region(tmp_path):
    """model.params tables by region label give each vertex its region's value."""
    _, _, rm = _write_mesh(tmp_path)
    p = _config(tmp_path)
    p.write_text(p.read_text().replace('name = "Generic2dOscillator"\n',
                                       'name = "Generic2dOscillator"\n'
                                       'params = { a = { default = -2.0, regions = { "R3" = -1.5 } } }\n'))
    study = build_study(load_config(p))
    params = study.network.canonical_params()
    a = np.asarray(params["node"]["a"] if "node" in params else params["a"])
    assert a.shape[-1] == rm.size
    np.testing.assert_array_equal(a, np.where(rm == 3, -1.5, -2.0))


def test_regions_without_vertices_run_as_region_nodes_and_are_left_out_of_vertex_output(tmp_path):
    """A mapping covering 6 of the 8 regions: 2 region nodes are appended (TVB's scheme); the
    summary says so and vertex.nc holds the mesh's vertices only."""
    import xarray as xr

    v, _, _ = _write_mesh(tmp_path, n_regions=6)
    p = _config(tmp_path, duration=100.0)
    p.write_text(p.read_text().replace('[bold]\n', '[bold]\nenabled = false\n'))
    assert main(["run", str(p), "--quiet"]) == 0
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["surface"]["n_region_nodes"] == 2 and summary["n_vertices"] == v.shape[0]
    assert xr.open_dataset(tmp_path / "results" / "vertex.nc")["vertex"].shape == (20, v.shape[0])


def test_sweep_model_of_a_surface_config_records_what_the_study_records(tmp_path):
    """A sweep of a surface config records the study's region means (as the features' activity)
    and region BOLD — the monitors of `neuralmass run` without the vertex means (sweeps:
    tests/test_surface_sweep.py)."""
    import tomllib

    from neuralmass.studies.build import sweep_model_from_config

    _write_mesh(tmp_path)
    src = tomllib.loads(_config(tmp_path).read_text())
    model = sweep_model_from_config(src, base_dir=tmp_path)
    study = build_study(load_config(_config(tmp_path)))
    run = {m.key: m for m in study.monitors()}
    swept = {m.key: m for m in model.monitors()}
    assert set(swept) == {"activity", "bold"} and "vertex" in run
    assert swept["bold"] == run["bold"] and swept["bold"].variable == "V@regions"
    assert (type(swept["activity"]), swept["activity"].variable, swept["activity"].period) == \
        (type(run["neural"]), run["neural"].variable, run["neural"].period)
    assert model.signal_width() == N_REGIONS
    assert "local_strength" in model.known_names()
