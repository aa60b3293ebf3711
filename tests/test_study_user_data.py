"""The main job on a lab's own files: a connectome folder and a target FC table named in [data]."""

import hashlib
import json

import numpy as np
import pytest

import neuralmass as nm
from neuralmass.cli import main
from neuralmass.datasets import write_connectome

CFG = """
[study]
seed = 3
[data]
connectome = "lab/connectome"
fc = "lab/fc.tsv"
[simulation]
duration = "60 s"
transient = "10 s"
[analysis]
fcd_window = "10 s"
fcd_step = "2 s"
[meg_eeg]
enabled = false
"""


def _lab_files(root, n_fc=None):
    hcp = nm.datasets.load_dataset("hcp")
    (root / "lab").mkdir()
    write_connectome(hcp, root / "lab" / "connectome", format="tsv")
    fc = np.asarray(hcp.fc_group)
    if n_fc is not None:
        fc = fc[:n_fc, :n_fc]
    np.savetxt(root / "lab" / "fc.tsv", fc, delimiter="\t")
    return fc


def test_study_from_user_connectome_and_fc(tmp_path):
    fc = _lab_files(tmp_path)
    (tmp_path / "study.toml").write_text(CFG)
    out = tmp_path / "results"
    assert main(["run", str(tmp_path / "study.toml"), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    files = summary["data_files"]
    digest = hashlib.sha256((tmp_path / "lab" / "fc.tsv").read_bytes()).hexdigest()
    assert files["fc"]["sha256"] == digest and "connectome" in files
    assert "Data files" in (out / "report.md").read_text()
    # the reported FC correlation is the one of the saved BOLD against the user's FC file
    xr = pytest.importorskip("xarray")
    bold = np.asarray(xr.open_dataset(out / "bold.nc", engine="h5netcdf")["bold"])
    iu = np.triu_indices(fc.shape[0], 1)
    r = np.corrcoef(np.corrcoef(bold.T)[iu], fc[iu])[0, 1]
    assert summary["fc_correlation_group"] == pytest.approx(r, abs=2e-3)


def test_mismatched_fc_stops_before_simulating(tmp_path, capsys):
    _lab_files(tmp_path, n_fc=70)
    (tmp_path / "study.toml").write_text(CFG)
    out = tmp_path / "results"
    assert main(["run", str(tmp_path / "study.toml"), "--out", str(out), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "fc" in err and "80" in err and "70" in err
    assert not out.exists()
