"""Empirical signals from files and MNE objects, and a study's [data] files checked together."""

import json

import numpy as np
import pytest

from neuralmass.datasets import (DataFileError, load_signal, load_user_data)
from neuralmass.datasets.files import sha256sum, write_connectome
from neuralmass.network.connectome import Connectome

LABELS = ["lV1", "rV1", "lM1", "rM1", "lPFC"]


def _conn():
    rng = np.random.default_rng(1)
    w = rng.random((5, 5))
    return Connectome(weights=w + w.T, lengths=np.full((5, 5), 30.0), labels=LABELS,
                      centres=rng.normal(0, 30, (5, 3)))


def _bold(T=120, seed=0):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(5, 5))
    return rng.normal(size=(T, 5)) @ mix


def _write_tsv(path, data, labels):
    path.write_text("\t".join(labels) + "\n" + "\n".join("\t".join(repr(float(x)) for x in row)
                                                          for row in data) + "\n")


# ----------------------------------------------------------------------------- signals
def test_bids_style_tsv_with_sidecar_and_matching_to_the_model(tmp_path):
    x = _bold()
    order = [2, 0, 4, 1, 3]                                      # columns in another order
    _write_tsv(tmp_path / "sub-01_bold.tsv", x[:, order], [LABELS[i] for i in order])
    (tmp_path / "sub-01_bold.json").write_text(json.dumps({"RepetitionTime": 0.72}))
    sig = load_signal(tmp_path / "sub-01_bold.tsv")
    assert sig.kind == "bold" and sig.sfreq == pytest.approx(1 / 0.72)
    assert sig.source["sha256"] == sha256sum(tmp_path / "sub-01_bold.tsv")
    m = sig.match(_conn(), tr=0.72)
    np.testing.assert_array_equal(m.data, x)                     # back in the model's order
    assert list(m.labels) == LABELS
    np.testing.assert_allclose(m.fc(), np.corrcoef(x.T), atol=1e-5)
    with pytest.raises(ValueError, match=r"sampled at 1.38889 Hz .* model output at 0.5 Hz"):
        sig.match(tr=2.0)
    with pytest.raises(ValueError, match=r"1 of the model's 6 channels are not in .*'rPFC'"):
        sig.match(LABELS + ["rPFC"])
    # the file's own rate contradicts the argument
    with pytest.raises(DataFileError, match="sampled at 1.38889 Hz but sfreq/tr= says 0.5 Hz"):
        load_signal(tmp_path / "sub-01_bold.tsv", tr=2.0)


def test_npy_needs_a_rate_and_labels_that_fit(tmp_path):
    x = _bold()
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(DataFileError, match=r"x\.npy does not state its sampling rate.*tr="):
        load_signal(tmp_path / "x.npy")
    sig = load_signal(tmp_path / "x.npy", sfreq=250.0, labels=LABELS)
    assert sig.kind == "signal" and list(sig.labels) == LABELS
    with pytest.raises(DataFileError, match=r"120 labels for 5 channels \(the data look transposed"):
        load_signal(tmp_path / "x.npy", sfreq=250.0, labels=[f"c{i}" for i in range(120)])
    np.save(tmp_path / "xt.npy", x.T)
    with pytest.raises(ValueError, match="has no channel labels"):
        load_signal(tmp_path / "xt.npy", tr=2.0).match(LABELS)
    np.savez(tmp_path / "x.npz", data=x, tr=2.0, labels=np.array(LABELS), unit="1")
    z = load_signal(tmp_path / "x.npz")
    assert z.sfreq == 0.5 and z.kind == "bold"
    raw = (tmp_path / "x.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match="truncated"):
        load_signal(tmp_path / "cut.npz")
    (tmp_path / "x.edf").write_bytes(b"0")
    with pytest.raises(DataFileError, match="unknown format '.edf'"):
        load_signal(tmp_path / "x.edf")
    with pytest.raises(DataFileError, match="does not exist"):
        load_signal(tmp_path / "none.tsv")


def test_netcdf_written_by_neuralmass_reads_back(tmp_path):
    pytest.importorskip("xarray")
    import brainunit as u
    from neuralmass.io import to_xarray, write_netcdf_atomic
    x = _bold(T=50)
    res = {"bold": u.Quantity(x), "ts": np.arange(50) * 720.0 * u.ms}
    write_netcdf_atomic(to_xarray(res, "bold", regions=LABELS), tmp_path / "bold.nc")
    sig = load_signal(tmp_path / "bold.nc")
    assert sig.sfreq == pytest.approx(1 / 0.72) and list(sig.labels) == LABELS
    np.testing.assert_allclose(sig.data, x, rtol=1e-6)


def test_mne_raw_and_epochs_in_si_units():
    mne = pytest.importorskip("mne")
    rng = np.random.default_rng(0)
    info = mne.create_info(["Fz", "Cz", "Pz"], 200.0, "eeg")
    d = rng.normal(0, 1e-5, (3, 400))
    raw = mne.io.RawArray(d, info, verbose=False)
    sig = load_signal(raw)
    assert sig.kind == "eeg" and sig.unit == "V" and sig.sfreq == 200.0
    np.testing.assert_array_equal(sig.data, d.T)
    ep = mne.EpochsArray(d.reshape(3, 4, 100).transpose(1, 0, 2), info, verbose=False)
    es = load_signal(ep)
    assert es.data.shape == (4, 100, 3)
    np.testing.assert_array_equal(es.data[2], d[:, 200:300].T)
    with pytest.raises(ValueError, match="sampled at 200 Hz"):
        load_signal(raw, sfreq=250.0)
    mixed = raw.copy().add_channels([mne.io.RawArray(d[:1] * 1e-8, mne.create_info(["M1"], 200.0, "mag"),
                                                     verbose=False)])
    with pytest.raises(ValueError, match="pick one first"):
        load_signal(mixed)


# ----------------------------------------------------------------------------- [data] files
def test_user_data_from_config_relative_paths_with_checksums(tmp_path):
    conn = _conn()
    cfgdir = tmp_path / "study"
    (cfgdir / "data").mkdir(parents=True)
    write_connectome(conn, cfgdir / "data" / "conn.zip")
    x = _bold()
    fc = np.corrcoef(x.T)
    perm = [4, 3, 2, 1, 0]
    lines = ["\t" + "\t".join(LABELS[i] for i in perm)]
    lines += [LABELS[i] + "\t" + "\t".join(repr(float(fc[i, j])) for j in perm) for i in perm]
    (cfgdir / "data" / "fc.tsv").write_text("\n".join(lines) + "\n")
    _write_tsv(cfgdir / "data" / "bold.tsv", x, LABELS)
    spec = {"dataset": "hcp", "connectome": "data/conn.zip", "fc": "data/fc.tsv",
            "bold": "data/bold.tsv", "tr": 2.0}
    ud = load_user_data(spec, cfgdir)
    np.testing.assert_array_equal(ud.connectome.weights, conn.weights)
    np.testing.assert_allclose(ud.fc, fc, rtol=1e-12)            # reordered to the connectome's
    assert ud.fc_subjects.shape == (1, 5, 5)
    assert ud.bold.sfreq == 0.5 and list(ud.bold.labels) == LABELS
    for role in ("connectome", "fc", "bold"):
        assert ud.files[role]["sha256"] == sha256sum(cfgdir / "data" / f"{role if role != 'connectome' else 'conn'}"
                                                     f"{'.zip' if role == 'connectome' else '.tsv'}")
    assert any("fc.tsv" in line and ud.files["fc"]["sha256"] in line for line in ud.report_lines())
    # without an FC file, the target FC is the BOLD's
    ud2 = load_user_data({"connectome": "data/conn.zip", "bold": "data/bold.tsv", "tr": "2000 ms"},
                         cfgdir)
    assert ud2.bold.sfreq == pytest.approx(0.5)
    np.testing.assert_allclose(ud2.fc_group, fc, atol=1e-5)


def test_user_data_errors_before_any_simulation(tmp_path):
    conn = _conn()
    write_connectome(conn, tmp_path / "conn.npz")
    with pytest.raises(DataFileError, match=r"data.fc = 'fc.tsv'.*data.bold = 'b.tsv'"):
        load_user_data({"connectome": "conn.npz", "fc": "fc.tsv", "bold": "b.tsv"}, tmp_path)
    with pytest.raises(DataFileError, match=r"unknown data key\(s\) \['conectome'\]"):
        load_user_data({"conectome": "conn.npz"}, tmp_path)
    # FC of another parcellation
    np.savetxt(tmp_path / "fc68.tsv", np.eye(68), delimiter="\t")
    with pytest.raises(DataFileError, match=r"fc68.tsv is 68 x 68 but the connectome has 5 regions"):
        load_user_data({"connectome": "conn.npz", "fc": "fc68.tsv"}, tmp_path)
    # not a correlation matrix / not square
    np.savetxt(tmp_path / "bad.tsv", 3 * np.eye(5), delimiter="\t")
    with pytest.raises(DataFileError, match=r"correlations in \[-1, 1\]"):
        load_user_data({"connectome": "conn.npz", "fc": "bad.tsv"}, tmp_path)
    np.savetxt(tmp_path / "ts.tsv", _bold(), delimiter="\t")
    with pytest.raises(DataFileError, match="must be square.*data.bold"):
        load_user_data({"connectome": "conn.npz", "fc": "ts.tsv"}, tmp_path)
    # BOLD stored regions x samples; BOLD without a rate
    np.savetxt(tmp_path / "bt.tsv", _bold().T, delimiter="\t")
    with pytest.raises(DataFileError, match="120 regions .* but the connectome has 5.*transposed"):
        load_user_data({"connectome": "conn.npz", "bold": "bt.tsv", "tr": 2.0}, tmp_path)
    with pytest.raises(DataFileError, match="set data.tr"):
        load_user_data({"connectome": "conn.npz", "bold": "ts.tsv"}, tmp_path)
    # BOLD labels that are not the connectome's
    _write_tsv(tmp_path / "b.tsv", _bold(), ["a", "b", "c", "d", "e"])
    with pytest.raises(DataFileError, match="5 of the model's 5 channels are not in"):
        load_user_data({"connectome": "conn.npz", "bold": "b.tsv", "tr": 2.0}, tmp_path)
    # an FC checked against a bundled connectome passed by the study
    np.savetxt(tmp_path / "fc5.tsv", np.eye(5), delimiter="\t")
    ud = load_user_data({"dataset": "example_connectome", "fc": "fc5.tsv"}, tmp_path, connectome=conn)
    assert ud.connectome is conn and ud.fc.shape == (5, 5)


def test_labelled_fc_is_matched_by_label_even_with_data_labels(tmp_path):
    # data.labels names the regions of unlabelled files; a labelled FC file used to be taken in
    # file order when data.labels was given
    conn = _conn()
    write_connectome(conn, tmp_path / "conn.npz")
    fc = np.corrcoef(_bold().T)
    perm = [4, 3, 2, 1, 0]
    lines = ["\t" + "\t".join(LABELS[i] for i in perm)]
    lines += [LABELS[i] + "\t" + "\t".join(repr(float(fc[i, j])) for j in perm) for i in perm]
    (tmp_path / "fc.tsv").write_text("\n".join(lines) + "\n")
    ud = load_user_data({"connectome": "conn.npz", "fc": "fc.tsv", "labels": LABELS}, tmp_path)
    np.testing.assert_allclose(ud.fc, fc, rtol=1e-12)
    # an unlabelled FC in data.labels' order is put in the connectome's order
    np.savetxt(tmp_path / "fc_plain.tsv", fc[np.ix_(perm, perm)], delimiter="\t")
    ud = load_user_data({"connectome": "conn.npz", "fc": "fc_plain.tsv",
                         "labels": [LABELS[i] for i in perm]}, tmp_path)
    np.testing.assert_allclose(ud.fc, fc, rtol=1e-12)
    with pytest.raises(DataFileError, match="data.labels names region 'lV1' more than once"):
        load_user_data({"connectome": "conn.npz", "fc": "fc_plain.tsv",
                        "labels": ["lV1"] * 5}, tmp_path)
