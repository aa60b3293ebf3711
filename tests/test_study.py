"""The main job end to end on a shortened config (`neuralmass run`)."""

import json

import numpy as np
import pytest

from neuralmass.cli import main

SHORT = """
[study]
seed = 7
[simulation]
duration = "150 s"
transient = "20 s"
[analysis]
fcd_window = "30 s"
fcd_step = "3 s"
[meg_eeg]
duration = "3 s"
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    cfg = tmp / "short.toml"
    cfg.write_text(SHORT)
    out = tmp / "results"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    return out


def test_outputs_and_numbers(study):
    xr = pytest.importorskip("xarray")
    summary = json.loads((study / "summary.json").read_text())
    # the simulated FC of the noisy Hopf network on the HCP connectome resembles the empirical FC
    assert 0.35 < summary["fc_correlation_group"] < 0.95
    assert summary["seed"] == 7
    bold = xr.open_dataset(study / "bold.nc")
    assert bold["bold"].dims == ("time", "regions")
    assert bold["time"].attrs["units"] == "ms"
    assert bold.sizes["regions"] == 80 and str(bold["regions"].values[0]) != "R0"
    # BOLD sampled at the HCP TR
    t = bold["time"].values
    assert np.allclose(np.diff(t), 720.0)
    # the FC in the summary is the FC of the saved BOLD against the bundled empirical FC
    import neuralmass as nm

    hcp = nm.datasets.load_dataset("hcp")
    iu = np.triu_indices(80, 1)
    fc = np.corrcoef(bold["bold"].values.T)
    assert np.corrcoef(fc[iu], hcp.fc_group[iu])[0, 1] == pytest.approx(summary["fc_correlation_group"], abs=1e-3)
    # the per-subject FC correlations, recomputed the same way
    for r, f in zip(summary["fc_correlation_subjects"], hcp.fc):
        assert np.corrcoef(fc[iu], f[iu])[0, 1] == pytest.approx(r, abs=1e-3)
    report = (study / "report.md").read_text()
    assert "seed: **7**" in report
    for fig in ("connectome", "bold", "fc_comparison", "fcd"):
        assert (study / "figures" / f"{fig}.png").stat().st_size > 10_000


def _fcd_values(x, w, s):
    """FCD values of non-overlapping window pairs, written out with NumPy (sliding-window FC,
    upper triangles, correlation between windows, pairs at least ceil(w/s) windows apart)."""
    n = x.shape[1]
    iu = np.triu_indices(n, 1)
    starts = range(0, x.shape[0] - w + 1, s)
    v = np.array([np.corrcoef(x[t:t + w].T)[iu] for t in starts])
    m = np.corrcoef(v)
    return m[np.triu_indices(len(v), int(np.ceil(w / s)))]


def test_fcd_ks_recomputed_from_the_saved_files(study):
    """The FCD KS distance in the summary, recomputed from bold.nc with NumPy and SciPy."""
    xr = pytest.importorskip("xarray")
    from scipy.stats import ks_2samp

    import neuralmass as nm

    summary = json.loads((study / "summary.json").read_text())
    bold = xr.open_dataset(study / "bold.nc")["bold"].values
    tr = 720.0
    w, s = int(round(30_000 / tr)), int(round(3_000 / tr))  # the 30 s / 3 s windows of SHORT
    assert summary["fcd"] == {"window_frames": w, "step_frames": s, "offset": int(np.ceil(w / s))}
    sim = _fcd_values(bold, w, s)
    emp = np.concatenate([_fcd_values(b, w, s) for b in nm.datasets.load_dataset("hcp").bold])
    ks = ks_2samp(sim, emp).statistic
    assert ks == pytest.approx(summary["fcd_ks"], abs=2e-3)
    assert 0.05 < ks < 0.9  # a real distance: neither identical nor disjoint distributions


def test_meg_eeg_when_tvb_data_installed(study):
    pytest.importorskip("tvb_data", reason="EEG/MEG part of the study needs tvb-data")
    xr = pytest.importorskip("xarray")
    summary = json.loads((study / "summary.json").read_text())
    eeg = xr.open_dataset(study / "eeg.nc")
    assert eeg["eeg"].attrs["units"] in ("uV", "µV")
    assert eeg.sizes["sensors"] == 63
    # Jansen–Rit at p = 220 Hz: alpha rhythm in sensor space
    assert 8.0 <= summary["meg_eeg"]["eeg"]["peak_frequency_hz"] <= 13.0
    assert 8.0 <= summary["meg_eeg"]["meg"]["peak_frequency_hz"] <= 13.0


def test_same_seed_reproduces(study, tmp_path):
    cfg = tmp_path / "short.toml"
    cfg.write_text(SHORT.replace('duration = "3 s"', "enabled = false"))
    out = tmp_path / "again"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    a = json.loads((study / "summary.json").read_text())
    b = json.loads((out / "summary.json").read_text())
    assert a["fc_correlation_group"] == b["fc_correlation_group"]
    assert a["fcd_ks"] == b["fcd_ks"]
