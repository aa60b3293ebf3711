"""Connectomes in files: save -> from_file round trips in every format, and bad files."""

import importlib.util
import json
import shutil
import zipfile

import numpy as np
import pytest

from neuralmass.datasets.files import DataFileError, file_record, read_connectome, sha256sum, write_connectome
from neuralmass.network.connectome import Connectome

HAS_TVB = importlib.util.find_spec("tvb_data") is not None


def _conn(n=5, seed=0, **kw):
    rng = np.random.default_rng(seed)
    w = rng.random((n, n)) * np.exp(rng.normal(0, 3, (n, n)))   # many decades: exact text matters
    w = w + w.T
    np.fill_diagonal(w, 0.0)
    lg = rng.uniform(5, 150, (n, n))
    lg = lg + lg.T
    args = dict(weights=w, lengths=lg, labels=[f"{'lr'[i % 2]}Reg{i}" for i in range(n)],
                centres=rng.normal(0, 40, (n, 3)), hemispheres=["LR"[i % 2] for i in range(n)],
                name="mine", metadata=dict(source="lab pipeline v2", n_streamlines=10**6))
    args.update(kw)
    return Connectome(**args)


def _same(a: Connectome, b: Connectome, centres=True):
    np.testing.assert_array_equal(a.weights, b.weights)       # bit for bit, not approximately
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert list(a.labels) == list(b.labels)
    if centres:
        np.testing.assert_array_equal(a.centres, b.centres)
    assert (a.hemispheres is None) == (b.hemispheres is None)
    if a.hemispheres is not None:
        assert list(a.hemispheres) == list(b.hemispheres)


@pytest.mark.parametrize("target, fmt", [("c.zip", None), ("c.npz", None), ("folder", None),
                                         ("folder_csv", "csv"), ("folder_npy", "npy")])
def test_save_then_from_file_gives_identical_arrays_and_labels(tmp_path, target, fmt):
    c = _conn()
    path = write_connectome(c, tmp_path / target, format=fmt)
    back = read_connectome(path)
    _same(c, back)
    assert back.name == "mine"
    assert back.metadata["source"] == "lab pipeline v2" and back.metadata["n_streamlines"] == 10**6
    assert back.metadata["sha256"] == file_record(path)["sha256"]


def test_npz_round_trip_without_optional_parts_and_with_odd_labels(tmp_path):
    c = Connectome(weights=np.arange(9.0).reshape(3, 3), labels=["left insula", "ctx-rh-V1", "Ä"])
    back = read_connectome(write_connectome(c, tmp_path / "c.npz"))
    _same(c, back, centres=False)
    assert back.centres is None and back.hemispheres is None
    # the TVB format cannot hold a connectome without centres: a clear error, nothing written
    with pytest.raises(DataFileError, match="centres"):
        write_connectome(c, tmp_path / "c.zip")
    assert not (tmp_path / "c.zip").exists()


def test_save_never_replaces_an_existing_file(tmp_path):
    c = _conn()
    p = write_connectome(c, tmp_path / "c.npz")
    before = sha256sum(p)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_connectome(_conn(seed=1), p)
    assert sha256sum(p) == before
    write_connectome(c, tmp_path / "d")
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="weights.tsv"):
        write_connectome(c, tmp_path / "d")
    write_connectome(_conn(seed=1), tmp_path / "d", overwrite=True)
    assert (tmp_path / "d" / "notes.txt").read_text() == "mine"     # not ours: untouched
    _same(_conn(seed=1), read_connectome(tmp_path / "d"))


def test_pandas_style_csv_with_header_and_index(tmp_path):
    c = _conn(n=4)
    lines = ["," + ",".join(c.labels)]
    lines += [lab + "," + ",".join(repr(float(x)) for x in row) for lab, row in zip(c.labels, c.weights)]
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    np.save(tmp_path / "len.npy", c.lengths)
    back = read_connectome(tmp_path / "w.csv", lengths=tmp_path / "len.npy")
    np.testing.assert_array_equal(back.weights, c.weights)
    np.testing.assert_array_equal(back.lengths, c.lengths)
    assert list(back.labels) == list(c.labels)
    assert list(back.hemispheres) == ["L", "R", "L", "R"]          # from the 'l'/'r' prefixes
    # labels from a separate file must agree with the header
    (tmp_path / "labels.txt").write_text("\n".join(reversed(c.labels)) + "\n")
    with pytest.raises(DataFileError, match=r"labels\.txt.*w\.csv|w\.csv.*labels\.txt"):
        read_connectome(tmp_path / "w.csv", labels=tmp_path / "labels.txt")


def test_npy_pair_and_plain_centres(tmp_path):
    c = _conn(n=6)
    np.save(tmp_path / "W.npy", c.weights)
    np.save(tmp_path / "L.npy", c.lengths)
    np.savetxt(tmp_path / "xyz.txt", c.centres)
    back = read_connectome(tmp_path / "W.npy", lengths=tmp_path / "L.npy",
                                labels=list(c.labels), centres=tmp_path / "xyz.txt")
    _same(c.connectome, back, centres=False)
    np.testing.assert_allclose(back.centres, c.centres, rtol=1e-15)


@pytest.mark.skipif(not HAS_TVB, reason="needs tvb-data")
def test_tvb_zip_at_any_path_and_its_round_trip(tmp_path):
    from neuralmass.datasets import load_dataset
    from neuralmass.datasets.tvb import tvb_data_path
    ref = load_dataset("tvb76")
    own = tmp_path / "my data" / "subject01.zip"
    own.parent.mkdir()
    shutil.copy(tvb_data_path() / "connectivity" / "connectivity_76.zip", own)
    c = read_connectome(own)
    _same(ref, c)
    assert c.name == "subject01"
    np.testing.assert_array_equal(c.metadata["average_orientations"], ref.metadata["average_orientations"])
    # bz2-compressed members (tvb68) read too
    c68 = read_connectome(tvb_data_path() / "connectivity" / "connectivity_68.zip")
    _same(load_dataset("tvb68"), c68)
    # our zip reads back identically, with TVB's optional parts
    back = read_connectome(write_connectome(c, tmp_path / "out.zip"))
    _same(c, back)
    for k in ("cortical", "areas_mm2", "average_orientations"):
        np.testing.assert_array_equal(back.metadata[k], c.metadata[k])
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert {"weights.txt", "tract_lengths.txt", "centres.txt"} <= set(zf.namelist())


# ----------------------------------------------------------------------------- bad files
def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataFileError, match=r"nope\.zip does not exist"):
        read_connectome(tmp_path / "nope.zip")


def test_truncated_files_are_reported_as_such(tmp_path):
    c = _conn()
    for name in ("c.zip", "c.npz"):
        p = write_connectome(c, tmp_path / name)
        raw = p.read_bytes()
        t = tmp_path / ("trunc_" + name)
        t.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(DataFileError, match=f"trunc_{name}.*truncated"):
            read_connectome(t)
    np.save(tmp_path / "w.npy", c.weights)
    raw = (tmp_path / "w.npy").read_bytes()
    (tmp_path / "w.npy").write_bytes(raw[:-20])
    with pytest.raises(DataFileError, match=r"w\.npy.*truncated"):
        read_connectome(tmp_path / "w.npy")
    text = "\n".join(",".join(str(x) for x in row) for row in c.weights)
    (tmp_path / "w.csv").write_text(text[: -len(text) // 7])     # last row cut short
    with pytest.raises(DataFileError, match=r"w\.csv, line 5: .* values"):
        read_connectome(tmp_path / "w.csv")


def test_unknown_format_lists_the_known_ones(tmp_path):
    (tmp_path / "conn.mat").write_bytes(b"MATLAB 5.0")
    with pytest.raises(DataFileError, match=r"conn\.mat.*unknown connectome format.*tvb-zip"):
        read_connectome(tmp_path / "conn.mat")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match="no weights file"):
        read_connectome(tmp_path / "empty")


def test_inconsistent_contents_name_the_file_and_problem(tmp_path):
    c = _conn(n=4)
    d = write_connectome(c, tmp_path / "d")
    # declared symmetric, but one weight changed
    w = np.array(c.weights)
    w[0, 1] += 1.0
    np.savetxt(d / "weights.tsv", w, delimiter="\t")
    (d / "metadata.json").write_text(json.dumps({"name": "x", "symmetric": True}))
    with pytest.raises(DataFileError, match=r"d: the weights are declared symmetric.*weights\[0, 1\]"):
        read_connectome(d)
    read_connectome(d, symmetric=False)                     # the user may relax it
    # negative tract length
    lg = np.array(c.lengths)
    lg[2, 3] = -4.0
    np.savetxt(d / "tract_lengths.tsv", lg, delimiter="\t")
    with pytest.raises(DataFileError, match=r"d: lengths must be non-negative.*lengths\[2, 3\]"):
        read_connectome(d, symmetric=False)
    np.savetxt(d / "tract_lengths.tsv", c.lengths, delimiter="\t")
    # labels file with one region too few, and a centres file in another order
    (d / "labels.txt").write_text("\n".join(c.labels[:3]) + "\n")
    with pytest.raises(DataFileError, match=r"labels\.txt names 3 regions but .*centres\.tsv names 4|"
                                            r"centres\.tsv names 4 regions but .*labels\.txt names 3"):
        read_connectome(d, symmetric=False)
    (d / "labels.txt").write_text("\n".join(c.labels[::-1]) + "\n")
    with pytest.raises(DataFileError, match="disagree on the region labels"):
        read_connectome(d, symmetric=False)


# ----------------------------------------------------------------------------- matched by label
def _labelled_csv(path, m, labels):
    lines = ["," + ",".join(labels)]
    lines += [lab + "," + ",".join(repr(float(x)) for x in row) for lab, row in zip(labels, m)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("layout", ["folder", "table"])
def test_labelled_tract_lengths_are_matched_by_label_not_position(tmp_path, layout):
    # used to be read in file order: delays off by the difference of two tracts
    c = _conn(n=5)
    labels = list(c.labels)
    perm = [3, 0, 4, 2, 1]
    d = tmp_path / "lab"
    d.mkdir()
    _labelled_csv(d / "weights.csv", c.weights, labels)
    _labelled_csv(d / "tract_lengths.csv", c.lengths[np.ix_(perm, perm)], [labels[i] for i in perm])
    back = (read_connectome(d) if layout == "folder"
            else read_connectome(d / "weights.csv", lengths=d / "tract_lengths.csv"))
    np.testing.assert_array_equal(back.weights, c.weights)
    np.testing.assert_array_equal(back.lengths, c.lengths)      # in the weights' order
    assert list(back.labels) == labels
    # a labelled centres file in another order is matched the same way
    (d / "centres.tsv").write_text("".join(f"{labels[i]}\t{x}\t{y}\t{z}\n"
                                           for i, (x, y, z) in zip(perm, c.centres[perm])))
    back = (read_connectome(d) if layout == "folder"
            else read_connectome(d / "weights.csv", lengths=d / "tract_lengths.csv",
                                      centres=d / "centres.tsv"))
    np.testing.assert_array_equal(back.centres, c.centres)
    # labels that differ as sets are refused, naming both files
    other = [labels[i] for i in perm]
    other[0] = "lNowhere"
    _labelled_csv(d / "tract_lengths.csv", c.lengths[np.ix_(perm, perm)], other)
    with pytest.raises(DataFileError, match=r"tract_lengths\.csv and .*weights\.csv name different "
                                            r"regions.*'lNowhere'"):
        read_connectome(d) if layout == "folder" else read_connectome(
            d / "weights.csv", lengths=d / "tract_lengths.csv")


def test_lengths_override_file_is_matched_by_label(tmp_path):
    c = _conn(n=4)
    write_connectome(c, tmp_path / "c.npz")
    perm = [2, 3, 1, 0]
    _labelled_csv(tmp_path / "L.csv", c.lengths[np.ix_(perm, perm)], [c.labels[i] for i in perm])
    back = read_connectome(tmp_path / "c.npz", lengths=tmp_path / "L.csv")
    np.testing.assert_array_equal(back.lengths, c.lengths)


def test_unlabelled_weights_with_labelled_lengths_in_another_order_are_refused(tmp_path):
    # the weights cannot say which order is right: every label source must then agree
    c = _conn(n=4)
    d = tmp_path / "lab"
    d.mkdir()
    np.savetxt(d / "weights.csv", c.weights, delimiter=",")
    (d / "labels.txt").write_text("\n".join(c.labels) + "\n")
    _labelled_csv(d / "tract_lengths.csv", c.lengths[::-1, ::-1], list(c.labels)[::-1])
    with pytest.raises(DataFileError, match=r"disagree on the region labels.*weights table has no "
                                            r"labels"):
        read_connectome(d)


def test_duplicate_labels_are_refused(tmp_path):
    c = _conn(n=3)
    labels = ["lA", "rB", "lA"]
    _labelled_csv(tmp_path / "w.csv", c.weights, labels)
    with pytest.raises(DataFileError, match=r"w\.csv.*names region 'lA' more than once"):
        read_connectome(tmp_path / "w.csv")
    np.save(tmp_path / "w.npy", c.weights)
    with pytest.raises(DataFileError, match=r"names region 'lA' more than once"):
        read_connectome(tmp_path / "w.npy", labels=labels)


def test_tract_lengths_in_micrometres_are_refused_naming_the_file(tmp_path):
    c = _conn(n=4)
    d = tmp_path / "um"
    write_connectome(c, d, format="csv")
    np.savetxt(d / "tract_lengths.csv", c.lengths * 1000.0, delimiter=",")   # µm, 248 m at most
    with pytest.raises(DataFileError, match=r"um: lengths reach \d+ mm .*divided by 1000"):
        read_connectome(d)
