"""Datasets: bundled HCP data, tvb-data connectivities and region lead fields."""

import importlib.util
import zipfile
from pathlib import Path

import brainunit as u
import numpy as np
import pytest

from neuralmass import datasets
from neuralmass.datasets import TVBDataMissingError, load_dataset
from neuralmass.network.connectome import Connectome

SUBCORTICAL = ("Hippocampus", "ParaHippocampal", "Amygdala", "Caudate", "Putamen", "Pallidum",
               "Thalamus", "Cerebelum", "Vermis")


# ----------------------------------------------------------------------------- registry
def test_list_datasets_has_every_entry_with_source_and_licence():
    table = datasets.list_datasets()
    names = table.names
    for n in ("example_connectome", "hcp", "tvb76", "tvb66", "tvb68", "tvb96", "tvb192",
              "tvb76_eeg65", "tvb76_meg276"):
        assert n in names
    for d in table:
        assert d.source and d.licence and d.size and d.description
    text = str(table)
    assert text.count("\n") == len(table) + 1  # header, rule, one line each
    assert "GPL-3" in text


def test_unknown_dataset_lists_available_names():
    with pytest.raises(ValueError, match="example_connectome"):
        load_dataset("nope")
    assert "pip install tvb-data" in datasets.describe("tvb76")


def test_cache_dir_respects_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURALMASS_CACHE", str(tmp_path / "c"))
    assert datasets.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("NEURALMASS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    import sys
    if sys.platform.startswith("linux"):
        assert datasets.cache_dir() == tmp_path / "xdg" / "neuralmass"


def test_missing_tvb_data_gives_install_instructions(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tvb_data" else real(name, *a))
    for name in ("tvb76", "tvb76_eeg65"):
        with pytest.raises(TVBDataMissingError, match=r"pip install tvb-data.*neuralmass\[data\]"):
            load_dataset(name)


# ----------------------------------------------------------------------------- bundled HCP
def test_example_connectome_matches_seed_properties():
    conn = load_dataset("example_connectome")
    W, D = conn.weights, conn.distances
    assert isinstance(conn, Connectome)
    assert W.shape == (8, 8) and list(conn.labels) == [f"R{i}" for i in range(8)]
    np.testing.assert_array_equal(W, W.T)
    np.testing.assert_array_equal(np.diag(W), 0.0)
    assert W.min() == 0.0 and W.max() == 1.0
    assert u.get_unit(D) == u.mm
    assert np.all(D.to_decimal(u.mm)[~np.eye(8, dtype=bool)] > 0)


def test_example_connectome_is_the_hcp_subnetwork():
    ex = load_dataset("example_connectome")
    hcp = load_dataset("hcp", bold=False)
    sub = hcp.subset(ex.metadata["region_names"])
    np.testing.assert_allclose(ex.weights, sub.weights / sub.weights.max(), rtol=1e-12)
    np.testing.assert_allclose(ex.lengths_mm, sub.lengths_mm, rtol=1e-12)


def test_hcp_regions_are_80_cortical_aal2():
    hcp = load_dataset("hcp", bold=False)
    assert hcp.n_regions == 80 and len(set(hcp.labels)) == 80
    assert not [lab for lab in hcp.labels if lab.startswith(SUBCORTICAL)]
    # AAL2 order alternates left/right
    assert list(hcp.hemispheres[:4]) == ["L", "R", "L", "R"]
    assert all(a[:-2] == b[:-2] for a, b in zip(hcp.labels[::2], hcp.labels[1::2]))


def test_hcp_structure_symmetric_zero_diagonal_and_max_normalised():
    hcp = load_dataset("hcp", bold=False)
    np.testing.assert_array_equal(hcp.weights, hcp.weights.T)
    np.testing.assert_array_equal(np.diag(hcp.weights), 0.0)
    assert hcp.weights.min() >= 0.0 and hcp.weights.max() == pytest.approx(1.0)
    off = ~np.eye(80, dtype=bool)
    lengths = hcp.lengths_mm[off]
    assert 5.0 < lengths.min() and lengths.max() < 300.0  # plausible tract lengths in mm


def test_hcp_fc_is_pearson_of_bundled_bold():
    hcp = load_dataset("hcp")
    assert hcp.bold.shape == (7, 1200, 80) and hcp.fc.shape == (7, 80, 80)
    assert hcp.tr.to_decimal(u.second) == pytest.approx(0.72)
    for s in (0, 6):
        fc = np.corrcoef(hcp.bold[s].astype(np.float64), rowvar=False)
        np.testing.assert_allclose(hcp.fc[s], fc, atol=1e-5)


def test_hcp_group_fc_correlates_with_sc():
    hcp = load_dataset("hcp", bold=False)
    iu = np.triu_indices(80, k=1)
    r = np.corrcoef(hcp.fc_group[iu], hcp.weights[iu])[0, 1]
    # measured 0.343 (Pearson over 3160 pairs); Spearman 0.435
    assert 0.30 < r < 0.40
    rank = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    rho = np.corrcoef(rank(hcp.fc_group[iu]), rank(hcp.weights[iu]))[0, 1]
    assert rho > 0.40
    # every subject's FC reflects the same anatomy
    for fc in hcp.fc:
        assert np.corrcoef(fc[iu], hcp.weights[iu])[0, 1] > 0.2


def test_hcp_homotopic_fc_exceeds_average_fc():
    hcp = load_dataset("hcp", bold=False)
    fc = hcp.fc_group
    homotopic = np.array([fc[2 * i, 2 * i + 1] for i in range(40)])
    iu = np.triu_indices(80, k=1)
    assert homotopic.mean() > fc[iu].mean() + 0.2  # measured 0.62 vs 0.34


def test_hcp_subset_slices_empirical_data_consistently():
    hcp = load_dataset("hcp")
    s = hcp.subset([3, 10, 41])
    np.testing.assert_array_equal(s.fc[2], hcp.fc[2][np.ix_([3, 10, 41], [3, 10, 41])])
    np.testing.assert_array_equal(s.bold[:, :, 1], hcp.bold[:, :, 10])
    assert type(s.normalized("log")) is type(hcp)
    assert type(hcp.connectome) is Connectome


# ----------------------------------------------------------------------------- tvb-data
@pytest.fixture
def tvb_root():
    pytest.importorskip("tvb_data", reason="tvb-data not installed (pip install tvb-data)")
    return datasets.tvb.tvb_data_path()


@pytest.mark.parametrize("name, n", [("tvb66", 66), ("tvb68", 68), ("tvb96", 96), ("tvb192", 192)])
def test_tvb_connectivity_sizes(tvb_root, name, n):
    c = load_dataset(name)
    assert c.n_regions == n and len(set(c.labels)) == n
    assert c.centres.shape == (n, 3)


def test_tvb76_connectivity(tvb_root):
    c = load_dataset("tvb76")
    assert c.n_regions == 76 and len(c.labels) == 76
    assert list(c.labels[:3]) == ["rA1", "rA2", "rAMYG"]
    assert sorted(np.unique(c.hemispheres, return_counts=True)[1]) == [38, 38]
    np.testing.assert_array_equal(c.lengths_mm, c.lengths_mm.T)
    iu = np.triu_indices(76, k=1)
    # weights are not exactly symmetric (measured corr(W, W.T) = 0.69) but clearly related
    assert np.corrcoef(c.weights[iu], c.weights.T[iu])[0, 1] > 0.5
    assert load_dataset("tvb76", normalize="max").weights.max() == 1.0


def _independent_vertex_areas(root):
    with zipfile.ZipFile(Path(root) / "surfaceData" / "cortex_16384.zip") as zf:
        v = np.loadtxt(zf.open("vertices.txt"))
        t = np.loadtxt(zf.open("triangles.txt")).astype(int)
    # Heron's formula, accumulated by a sparse incidence matrix (independent of the library code)
    a = np.linalg.norm(v[t[:, 0]] - v[t[:, 1]], axis=1)
    b = np.linalg.norm(v[t[:, 1]] - v[t[:, 2]], axis=1)
    c = np.linalg.norm(v[t[:, 2]] - v[t[:, 0]], axis=1)
    s = (a + b + c) / 2
    area = np.sqrt(np.clip(s * (s - a) * (s - b) * (s - c), 0, None))
    inc = np.zeros((v.shape[0],))
    for k in range(3):
        inc += np.bincount(t[:, k], weights=area / 3, minlength=v.shape[0])
    return inc


@pytest.mark.parametrize("name, modality, unit_si, n_all, n_valid", [
    ("tvb76_eeg65", "EEG", u.volt / (u.amp * u.meter), 65, 63),
    ("tvb76_meg276", "MEG", u.tesla / (u.amp * u.meter), 276, 248),
])
def test_region_leadfield_equals_direct_vertex_sum(tvb_root, monkeypatch, tmp_path, name, modality,
                                                   unit_si, n_all, n_valid):
    monkeypatch.setenv("NEURALMASS_CACHE", str(tmp_path))
    lf = load_dataset(name)
    assert lf.modality == modality and lf.n_regions == 76 and lf.n_sensors == n_valid
    assert load_dataset(name, channels="all").n_sensors == n_all

    gain = np.load(Path(tvb_root) / "projectionMatrix" / datasets.tvb.TVB_LEADFIELDS[name]["gain"])
    rmap = np.loadtxt(Path(tvb_root) / "regionMapping" / "regionMapping_16k_76.txt").astype(int)
    areas = _independent_vertex_areas(tvb_root)
    valid = np.isfinite(gain).all(axis=1)
    assert valid.sum() == n_valid
    L_si = lf.L.to_decimal(unit_si)  # back to the SI unit of the tvb-data gain matrix
    for r in (0, 17, 50, 75):
        vs = np.flatnonzero(rmap == r)
        direct = (gain[np.ix_(valid, vs)] * areas[vs]).sum(axis=1) / areas[vs].sum()
        np.testing.assert_allclose(L_si[r], direct, rtol=1e-9, atol=1e-12 * np.abs(direct).max())
    np.testing.assert_allclose(lf.region_areas_mm2.sum(), areas.sum(), rtol=1e-10)

    # TVB's plain-sum convention is available too
    lf_sum = load_dataset(name, weighting="sum")
    vs = np.flatnonzero(rmap == 5)
    np.testing.assert_allclose(lf_sum.L.to_decimal(unit_si)[5], gain[np.ix_(valid, vs)].sum(axis=1),
                               rtol=1e-9)


def test_leadfield_channels_units_and_cache(tvb_root, monkeypatch, tmp_path):
    monkeypatch.setenv("NEURALMASS_CACHE", str(tmp_path))
    eeg = load_dataset("tvb76_eeg65")
    assert not eeg.metadata["from_cache"]
    assert eeg.metadata["dropped_channels"] == ["IO1", "IO2"]
    assert "IO1" not in list(eeg.sensor_names) and eeg.sensor_positions.shape == (63, 3)
    assert u.get_unit(eeg.L) == u.uvolt / (u.nA * u.meter)
    assert np.all(np.isfinite(eeg.L.mantissa))
    again = load_dataset("tvb76_eeg65")
    assert again.metadata["from_cache"] and Path(again.metadata["cache_file"]).exists()
    np.testing.assert_array_equal(again.L.mantissa, eeg.L.mantissa)
    meg = load_dataset("tvb76_meg276")
    assert u.get_unit(meg.L) == u.ftesla / (u.nA * u.meter)
    assert all(not s.startswith("A") for s in meg.metadata["dropped_channels"])
    assert all(s.startswith("A") for s in meg.sensor_names)  # 248 4D/BTi magnetometers A1..A248
    assert meg.metadata["regions_without_vertices"] == []
