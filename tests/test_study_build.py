"""One builder for every command (neuralmass.studies.build): a lab's [data] files and
data.subjects are honoured alike by `neuralmass run`, `neuralmass sweep` and Python code."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuralmass as nm
from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config
from neuralmass.datasets import write_connectome
from neuralmass.studies.build import build_study, empirical_fcd_values, sweep_model_from_config
from neuralmass.studies.preflight import PreflightError


from _fake_simulator import FakeSimulator, fake_sim  # noqa: E402,F401  (fixture)


RUN = """
[study]
seed = 3
[data]
{data}
[simulation]
duration = "100 s"
transient = "4 s"
[analysis]
fcd_window = "10 s"
fcd_step = "2 s"
[meg_eeg]
enabled = false
"""


def _upper(m):
    return m[np.triu_indices(m.shape[0], 1)]


def _lab(root, n=5, bold_frames=None):
    """A lab's folder: an n-region CSV connectome folder ``conn``, its FC (``fc.csv``) and
    optionally a BOLD table (``bold.tsv``, TR 2 s)."""
    hcp = nm.datasets.load_dataset("hcp", bold=False)
    conn = hcp.subset(list(range(n)))
    write_connectome(conn, root / "conn", format="csv")
    fc = np.asarray(hcp.fc_group)[:n, :n]
    np.savetxt(root / "fc.csv", fc, delimiter=",")
    if bold_frames:
        x = np.random.default_rng(1).standard_normal((bold_frames, n))
        np.savetxt(root / "bold.tsv", x, delimiter="\t")
    return conn, fc


# ------------------------------------------------------------------ sweeps use the lab's network
_SWEEP = """
[study]
name = "lab-sweep"
output = "{out}"

[data]
connectome = "conn"
fc = "fc.csv"

[model]
name = "Hopf"
params = {{ a = "-5 / s", omega = "62.8 / s" }}

[network]
coupling = "diffusive"
speed = "5 mm/ms"

[noise]
kind = "white"
sigma = 0.01

[simulation]
dt = "1 ms"
duration = "1.2 s"
transient = "0.2 s"

[bold]
enabled = false

[meg_eeg]
enabled = false

[sweep]
seeds = 1
chunk = 2
features = ["fc_corr"]
timeseries = {{ signal = "activity", period = "50 ms" }}

[sweep.space]
k = {{ values = [0.0, 0.05] }}
"""


def test_sweep_of_a_lab_csv_connectome_sweeps_its_regions_against_its_fc(tmp_path, monkeypatch):
    pytest.importorskip("zarr")
    pytest.importorskip("xarray")
    pytest.importorskip("dask")
    from neuralmass.explore import open_sweep
    from neuralmass.cli import sweep_main
    from neuralmass.studies.sweep import load_sweep_config

    lab = tmp_path / "lab"
    lab.mkdir()
    conn, fc = _lab(lab)
    cfg = lab / "sweep.toml"
    cfg.write_text(_SWEEP.format(out=tmp_path / "res"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)   # [data] paths are read relative to the config file, not the cwd

    sweep, _ = load_sweep_config(cfg)
    assert sweep.model.network.n == 5
    np.testing.assert_allclose(sweep.model.targets["fc"], fc)
    store = tmp_path / "s.zarr"
    assert sweep_main([str(cfg), "--scheduler", "serial", "--out", str(store), "--quiet"]) == 0
    ds = open_sweep(store)
    assert ds.sizes["region"] == 5
    assert json.loads(ds.timeseries.attrs["region_labels"]) == [str(x) for x in conn.labels]
    data = ds.attrs["spec"]["model"]["data"]
    assert data["source"] == "conn" and data["subjects"] == ["fc.csv"] and set(data["files"]) == {"connectome", "fc"}
    # fc_corr is the FC of the recorded activity against the lab's FC file (not the HCP group FC)
    for p in range(ds.sizes["point"]):
        x = ds.timeseries.values[p, 0]          # the activity itself (period = its sampling period)
        want = np.corrcoef(_upper(np.corrcoef(x.T)), _upper(fc))[0, 1]
        assert float(ds.fc_corr.values[p, 0]) == pytest.approx(want, abs=2e-3)


def test_sweep_honours_data_subjects():
    src = {"data": {"subjects": [0, "102311"]}, "bold": {"enabled": False},
           "simulation": {"dt": "1 ms", "duration": "1 s", "transient": "0.1 s"}}
    model = sweep_model_from_config(src)
    hcp = nm.datasets.load_dataset("hcp", bold=False)
    np.testing.assert_allclose(model.targets["fc"], hcp.fc[:2].astype(float).mean(axis=0))
    assert model.describe()["data"]["subjects"] == ["101309", "102311"]
    with pytest.raises(PreflightError, match=r"data\.subjects = \[7\]: index 7 is out of range; hcp has 7"):
        sweep_model_from_config({**src, "data": {"subjects": [7]}})


# ------------------------------------------------------------------ the builder in Python
def test_build_study_and_targets_for_another_subject_set():
    cfg = load_config(None, overrides={"data": {"subjects": [0, 1, 2, 3]},
                                       "simulation": {"duration": "100 s", "transient": "4 s"},
                                       "analysis": {"fcd_window": "20 s", "fcd_step": "4 s"}})
    hcp = nm.datasets.load_dataset("hcp")
    train = build_study(cfg)
    assert train.source == "hcp" and train.n_regions == 80 and train.labels == [str(x) for x in hcp.labels]
    assert train.subjects == tuple(hcp.subjects[:4]) and train.all_subjects == tuple(hcp.subjects)
    assert (train.dt, train.duration, train.transient, train.tr) == (5.0, 100_000.0, 4_000.0, 720.0)
    assert [m.key for m in train.monitors()] == ["neural", "bold"]
    np.testing.assert_allclose(train.targets.fc_group, hcp.fc[:4].astype(float).mean(axis=0))
    test = train.targets_for([4, 5, "377451"])
    assert test.subjects == tuple(hcp.subjects[4:]) and test.indices == (4, 5, 6)
    np.testing.assert_array_equal(test.fc, hcp.fc[4:])
    np.testing.assert_array_equal(test.bold, hcp.bold[4:])
    w, s, off = test.fcd
    assert (w, s) == (round(20_000 / 720), round(4_000 / 720))
    np.testing.assert_allclose(test.fcd_values, empirical_fcd_values(hcp.bold[4:], w, s, off))
    # the same through build_study(subjects=...): it overrides data.subjects
    again = build_study(cfg, subjects=[4, 5, 6])
    np.testing.assert_array_equal(again.targets.fc_group, test.fc_group)
    assert build_study(load_config(None)).subjects == tuple(hcp.subjects)   # default: all


# ------------------------------------------------------------------ neuralmass run
def test_run_targets_only_the_selected_subjects(tmp_path, fake_sim):
    xr = pytest.importorskip("xarray")
    cfg = tmp_path / "study.toml"
    cfg.write_text(RUN.format(data='subjects = [4, "377451"]'))
    out = tmp_path / "r"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    hcp = nm.datasets.load_dataset("hcp")
    assert summary["data"]["subjects"] == ["211619", "377451"]
    assert summary["data"]["subject_indices"] == [4, 6]
    assert summary["dataset"] == "hcp"
    bold = np.asarray(xr.open_dataset(out / "bold.nc")["bold"])
    fc = np.corrcoef(bold.T)
    target = hcp.fc[[4, 6]].astype(float).mean(axis=0)
    r = np.corrcoef(_upper(fc), _upper(target))[0, 1]
    assert summary["fc_correlation_group"] == pytest.approx(r, abs=1e-3)
    assert len(summary["fc_correlation_subjects"]) == 2
    report = (out / "report.md").read_text()
    assert "2 of 7 subject(s): 211619 (#4), 377451 (#6)" in report


@pytest.mark.parametrize("value, msg", [
    ("[9]", r"data\.subjects = \[9\]: index 9 is out of range; hcp has 7 subject\(s\): indices 0\.\.6 or ids "
            r"'101309', .*'377451'"),
    ('["100000"]', r"'100000' is not a subject id of hcp; choose among indices 0\.\.6 or ids '101309'"),
    ("[1, 1]", r"data\.subjects = \[1, 1\] names a subject twice"),
    ('[1, "102311"]', r"names subject '102311' \(index 1\) twice"),
    ("[]", r"data\.subjects = \[\] selects no subject"),
    ("[1.5]", r"1\.5 is neither an index .* nor a subject id"),
])
def test_bad_subjects_fail_before_simulating(tmp_path, fake_sim, capsys, value, msg):
    cfg = tmp_path / "study.toml"
    cfg.write_text(RUN.format(data=f"subjects = {value}"))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r")]) == 1
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("neuralmass: error")]
    assert len(err) == 1 and __import__("re").search(msg, err[0]), err
    assert fake_sim.calls == 0 and not (tmp_path / "r").exists()


def test_subjects_of_data_without_recordings_are_refused(tmp_path):
    with pytest.raises(PreflightError, match=r"data\.subjects = \[0\], but example_connectome has no "
                                             r"empirical recordings"):
        build_study(load_config(None, overrides={"data": {"dataset": "example_connectome", "subjects": [0]}}))
    with pytest.raises(ConfigError, match=r"data\.subjects = \[-1\]: index -1 is negative"):
        load_config(None, overrides={"data": {"subjects": [-1]}})


# ------------------------------------------------------------------ a lab's data is named as such
def test_run_on_a_lab_connectome_names_the_lab_data(tmp_path, fake_sim, capsys):
    _lab(tmp_path)
    cfg = tmp_path / "study.toml"
    cfg.write_text(RUN.format(data='connectome = "conn"\nfc = "fc.csv"\nsubjects = ["fc.csv"]'))
    out = tmp_path / "r"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    io = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "conn" and summary["data"]["source"] == "conn"
    assert summary["data"]["subjects"] == ["fc.csv"] and summary["data"]["n_regions"] == 5
    assert "dataset: `conn`" in (out / "report.md").read_text()
    progress = [x for x in (io.out + io.err).splitlines() if "[1/5]" in x]
    assert len(progress) == 1 and progress[0].endswith("[1/5] data: conn (5 regions; target: 1 of 1 subjects)")
    assert "hcp" not in " ".join(progress)
    # one recording: index 0 or its file name; anything else names the choices
    cfg.write_text(RUN.format(data='connectome = "conn"\nfc = "fc.csv"\nsubjects = [1]'))
    with pytest.raises(PreflightError, match=r"index 1 is out of range; conn has 1 subject\(s\): indices 0\.\.0 "
                                             r"or ids 'fc\.csv'"):
        build_study(load_config(cfg))


def test_short_lab_bold_file_is_named_and_not_blamed_on_the_simulation(tmp_path):
    _lab(tmp_path, bold_frames=8)    # 8 frames at TR 2 s = 16 s: too short for 10 s windows, 2 s hop
    cfg = tmp_path / "study.toml"
    cfg.write_text(RUN.format(data='connectome = "conn"\nbold = "bold.tsv"\ntr = "2 s"'))
    with pytest.raises(PreflightError) as err:
        build_study(load_config(cfg))
    msg = str(err.value)
    assert "data.bold = 'bold.tsv'" in msg and "8 frames" in msg and "Use a longer recording in data.bold" in msg
    assert "hcp" not in msg and "simulation.duration" not in msg
