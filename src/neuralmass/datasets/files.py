"""Connectomes in files: TVB zips, NumPy archives, plain tables and a minimal folder layout.

Formats read by :func:`read_connectome` and written by :func:`write_connectome` (connectome files
are read and written only here, in the datasets layer):

``tvb-zip`` (``*.zip``)
    The Virtual Brain's connectivity archive: ``weights.txt``, ``tract_lengths.txt`` and
    ``centres.txt`` (one ``label x y z`` row per region), optionally ``hemispheres.txt``
    (1 = right), ``cortical.txt``, ``areas.txt``, ``average_orientations.txt``, ``info.txt``.
    Members may be ``bz2``-compressed (``weights.txt.bz2``) or inside a sub-folder. Written
    with 17 significant digits, so a saved float64 connectome reads back bit for bit.
``npz`` (``*.npz``)
    neuralmass's own archive (``numpy.savez``): ``weights``, ``lengths_mm``, ``labels`` and,
    when present, ``centres_mm``, ``hemispheres``, the name and JSON metadata. Read without
    pickle.
``folder`` (a directory): the **minimal layout**
    ::

        my_connectome/
          weights.csv          required: N x N table (.csv, .tsv, .txt or .npy)
          tract_lengths.csv    optional: N x N tract lengths in mm (also lengths.* or distances.*)
          labels.txt           optional: one region name per line
          centres.tsv          optional: N rows 'label x y z' or 'x y z' (mm)
          hemispheres.txt      optional: one tag per line (L/R)
          metadata.json        optional: {"name": ..., "symmetric": true, ...}

    An unzipped TVB connectivity is a folder of this kind.
``table`` (one ``*.csv``, ``*.tsv``, ``*.txt`` or ``*.npy`` file): the weight matrix, with
    the other parts given as keyword arguments (``lengths=``, ``labels=``, ``centres=``).
    A text table may carry a header row and/or a first column of region labels (as written by
    ``pandas.DataFrame.to_csv``); they must agree with each other and with ``labels=``.

Every problem is reported as a :class:`DataFileError` (a ``ValueError``) naming the file and
what is wrong with it, before anything is simulated.
"""

from __future__ import annotations

import bz2
import json
import logging
import os
import re
import zipfile
from pathlib import Path
from typing import Any, Callable
from zlib import error as zlib_error  # raised by truncated deflate streams

import numpy as np

from ..network.connectome import Connectome, check_unique_labels
from .tables import (_TABLE_SUFFIXES, DataFileError, _atomic_write, _delimiter, _exists, _fmt_matrix,  # noqa: F401
                     _parse_centres, _parse_table, _read_text, file_record, read_centres, read_labels,
                     read_table, sha256sum, write_table)

__all__ = ["DataFileError", "CONNECTOME_FORMATS", "read_connectome", "write_connectome",
           "read_table", "write_table", "read_labels", "read_centres", "sha256sum", "file_record"]

log = logging.getLogger("neuralmass")

#: Connectome formats and the file names that select them.
CONNECTOME_FORMATS = {
    "tvb-zip": "*.zip (TVB connectivity archive)",
    "npz": "*.npz (neuralmass archive)",
    "folder": "a directory with weights.* [tract_lengths.*, labels.txt, centres.*, ...]",
    "table": "one *.csv / *.tsv / *.txt / *.npy weight matrix (+ lengths=, labels=, centres=)",
}
_NPZ_VERSION = 1

# member stems (lower case, without .txt/.bz2) recognised in TVB zips and folders
_ALIASES = {
    "weights": ("weights",),
    "lengths": ("tract_lengths", "lengths", "distances", "tract_length"),
    "centres": ("centres", "centers", "centre", "center"),
    "labels": ("labels", "region_labels"),
    "hemispheres": ("hemispheres", "hemisphere"),
    "cortical": ("cortical",),
    "areas": ("areas",),
    "average_orientations": ("average_orientations", "orientations"),
    "info": ("info",),
}






























# ----------------------------------------------------------------------------- parts -> Connectome
def _unique(labels, src: str) -> None:
    """:func:`~neuralmass.network.connectome.check_unique_labels`, as a DataFileError naming ``src``."""
    try:
        check_unique_labels(labels, src)
    except ValueError as exc:
        raise DataFileError(str(exc)) from None


def _check_labels(parts: dict[str, tuple[list[str], str]], hint: str = "") -> list[str] | None:
    """One label list agreed by all sources, or an error naming the two that disagree."""
    items = [(src, list(lab)) for src, lab in parts.items() if lab is not None]
    if not items:
        return None
    for src, lab in items:
        _unique(lab, src)
    src0, lab0 = items[0]
    for src, lab in items[1:]:
        if lab != lab0:
            if len(lab) != len(lab0):
                raise DataFileError(f"{src} names {len(lab)} regions but {src0} names {len(lab0)}; "
                                    f"they must list the same regions.")
            k = next(i for i, (a, b) in enumerate(zip(lab, lab0)) if a != b)
            raise DataFileError(f"{src} and {src0} disagree on the region labels (first at "
                                f"position {k}: {lab[k]!r} vs {lab0[k]!r}); put both in the "
                                f"same order.{hint}")
    return lab0


def _table_labels(values, header, rows, src: str):
    """(values, labels or None) of a square table; rows reordered to the header's order when the
    header row and the first column list the same regions in another order."""
    for lab, what in ((header, "header row"), (rows, "first column")):
        if lab is not None:
            _unique(lab, f"{src} ({what})")
    if header is not None and rows is not None and list(header) != list(rows):
        if len(header) != len(rows) or set(header) != set(rows):
            extra = sorted(set(rows) - set(header))[:5] or sorted(set(header) - set(rows))[:5]
            raise DataFileError(f"{src}: the header row and the first column name different "
                                f"regions (e.g. {extra}); one table must label the same regions "
                                f"in its rows and columns.")
        pos = {x: i for i, x in enumerate(rows)}
        values = np.asarray(values)[[pos[x] for x in header]]
        log.info("%s: rows reordered to the order of the header row (matched by label).", src)
    return values, (list(header) if header is not None else
                    list(rows) if rows is not None else None)


def _align(values, labels, ref, src: str, ref_src: str, square: bool):
    """``values`` (a square table or one row per region) put in the order of ``ref`` by label."""
    if labels is None or ref is None or list(labels) == list(ref):
        return values
    _unique(labels, src)
    if len(labels) != len(ref) or set(labels) != set(ref):
        missing = [x for x in ref if x not in set(labels)][:5]
        unknown = [x for x in labels if x not in set(ref)][:5]
        raise DataFileError(f"{src} and {ref_src} name different regions ({len(labels)} vs "
                            f"{len(ref)}; missing from {src}: {missing}; not in {ref_src}: "
                            f"{unknown}); both must label the same regions.")
    pos = {x: i for i, x in enumerate(labels)}
    idx = [pos[x] for x in ref]
    log.info("%s: regions reordered by label to the order of %s.", src, ref_src)
    values = np.asarray(values)
    return values[np.ix_(idx, idx)] if square else values[idx]


_UNLABELLED_HINT = (" The weights table has no labels, so the other files must list the regions in "
                    "its order; give weights a header row/first column of labels to have the "
                    "other tables matched to it by label.")


def _assemble(weights, lengths, centres, label_lists: dict):
    """Weights, lengths, centres and labels put in one region order, matched by label.

    ``weights`` = (values, header, rows, src); ``lengths`` = (values, header, rows, src) or None;
    ``centres`` = (labels or None, xyz, src) or None; ``label_lists`` = {src: labels or None}
    (labels files / ``labels=``, which carry no data).

    A labelled weights table defines the order: labelled lengths and centres are reordered to it
    by label (refused when they name other regions), label lists must agree with it exactly.
    Unlabelled weights are taken in file order, and then every label source must agree exactly.
    """
    w, wh, wr, wsrc = weights
    w, wl = _table_labels(w, wh, wr, wsrc)
    lv = ll = lsrc = None
    if lengths is not None:
        lv, lh, lr, lsrc = lengths
        lv, ll = _table_labels(lv, lh, lr, lsrc)
    cl = ctr = csrc = None
    if centres is not None:
        cl, ctr, csrc = centres
    if wl is not None:
        labels = _check_labels({wsrc: wl, **label_lists})
        lv = _align(lv, ll, wl, lsrc, wsrc, True)
        ctr = _align(ctr, cl, wl, csrc, wsrc, False)
    else:
        labels = _check_labels({**label_lists, **({csrc: cl} if centres is not None else {}),
                                **({lsrc: ll} if lengths is not None else {})}, _UNLABELLED_HINT)
    return w, lv, ctr, labels


def _build(where: str, weights, lengths, labels, centres, hemispheres, name, metadata,
           symmetric) -> Connectome:
    w = np.asarray(weights, dtype=float)
    if symmetric:
        if w.ndim == 2 and w.shape[0] == w.shape[1] and not np.allclose(w, w.T, rtol=1e-8, atol=0):
            i, j = np.unravel_index(np.argmax(np.abs(w - w.T)), w.shape)
            raise DataFileError(f"{where}: the weights are declared symmetric but are not "
                                f"(weights[{i}, {j}] = {w[i, j]:g}, weights[{j}, {i}] = "
                                f"{w[j, i]:g}); fix the file or pass symmetric=False.")
        lg = None if lengths is None else np.asarray(lengths, dtype=float)
        if lg is not None and lg.shape == w.shape and not np.allclose(lg, lg.T, rtol=1e-8, atol=0):
            raise DataFileError(f"{where}: the tract lengths are declared symmetric but are not.")
    try:
        return Connectome(weights=w, lengths=lengths, labels=labels, centres=centres,
                          hemispheres=hemispheres, name=name, metadata=metadata)
    except (ValueError, TypeError) as err:
        raise DataFileError(f"{where}: {err}") from None


def _infer_hemispheres(labels) -> np.ndarray | None:
    """'L'/'R' from TVB-style ('lA1', 'rV1') or suffixed ('Precentral_L') labels, else None."""
    labels = list(labels)
    if labels and all(re.match(r"^[lr](?=[A-Z_])", s) for s in labels):
        return np.array([s[0].upper() for s in labels])
    if labels and all(re.search(r"_[LR]$", s) for s in labels):
        return np.array([s[-1] for s in labels])
    return None


class _Members:
    """Uniform access to the parts of a TVB zip or a folder, by alias."""

    def __init__(self, where: str, names: list[str], reader: Callable[[str], tuple[str, bytes]]):
        self.where, self.reader = where, reader
        self.by_stem: dict[str, str] = {}
        for n in names:
            base = n.rsplit("/", 1)[-1]
            if not base or base.startswith("."):
                continue
            stem = base.lower().removesuffix(".bz2")
            for ext in (".txt", ".csv", ".tsv", ".npy", ".dat", ".json"):
                stem = stem.removesuffix(ext)
            self.by_stem.setdefault(stem, n)

    def find(self, part: str) -> str | None:
        for a in _ALIASES[part]:
            if a in self.by_stem:
                return self.by_stem[a]
        return None

    def table(self, part: str):
        name = self.find(part)
        if name is None:
            return None
        where = f"{self.where}:{name}" if self.where else name
        if name.lower().endswith(".npy"):
            import io as _io
            try:
                arr = np.load(_io.BytesIO(self.reader(name)), allow_pickle=False)
            except (ValueError, OSError, EOFError) as err:
                raise DataFileError(f"{where}: not a readable .npy array ({err}).") from None
            if part in ("labels", "hemispheres"):
                return [str(x) for x in arr.ravel()], None, None
            return (None, arr) if part == "centres" else (arr, None, None)
        data = self.reader(name)
        if name.lower().endswith(".bz2"):
            try:
                data = bz2.decompress(data)
            except (OSError, EOFError, ValueError) as err:
                raise DataFileError(f"{where}: not a readable bz2 member ({err}).") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataFileError(f"{where} is not UTF-8 text.") from None
        if part in ("labels", "info", "hemispheres"):
            return [s.strip() for s in text.splitlines() if s.strip()], None, None
        if part == "centres":
            return _parse_centres(text, where, _delimiter(name))
        return _parse_table(text, where, _delimiter(name))


def _from_members(m: _Members, where: str, *, symmetric, name, extra_meta) -> Connectome:
    if m.find("weights") is None:
        raise DataFileError(f"{where} has no weights file (looked for weights.txt/.csv/.tsv/.npy"
                            f"[.bz2]); found {sorted(m.by_stem.values())}.")
    weights, wh, wr = m.table("weights")
    lengths = m.table("lengths")
    if lengths is not None:
        lengths = (*lengths, f"{where}:{m.find('lengths')}")
    centres = m.table("centres")
    if centres is not None:
        centres = (*centres, f"{where}:{m.find('centres')}")
    labels_from = {}
    t = m.table("labels")
    if t is not None:
        labels_from[f"{where}:{m.find('labels')}"] = t[0]
    weights, lengths_v, centres, labels = _assemble(
        (weights, wh, wr, f"{where}:{m.find('weights')}"), lengths, centres, labels_from)
    meta: dict[str, Any] = {}
    md_name = m.by_stem.get("metadata")
    if md_name is not None and md_name.lower().endswith(".json"):
        try:
            meta = json.loads(m.reader(md_name).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise DataFileError(f"{where}:{md_name} is not valid JSON ({err}).") from None
        if not isinstance(meta, dict):
            raise DataFileError(f"{where}:{md_name} must hold a JSON object.")
    hemis = None
    t = m.table("hemispheres")
    if t is not None:
        vals = t[0]
        if all(v in ("0", "1", "0.0", "1.0", "True", "False", "true", "false") for v in vals):
            hemis = np.where([v in ("1", "1.0", "True", "true") for v in vals], "R", "L")
        else:
            hemis = np.array(vals)
    elif "hemisphere_tags" in meta:
        hemis = np.array([str(h) for h in meta.pop("hemisphere_tags")])
    elif labels is not None:
        hemis = _infer_hemispheres(labels)
    for part, key, dtype in (("cortical", "cortical", bool), ("areas", "areas_mm2", float),
                             ("average_orientations", "average_orientations", float)):
        t = m.table(part)
        if t is not None:
            meta[key] = np.asarray(t[0], dtype=float).squeeze().astype(dtype)
    t = m.table("info")
    if t is not None:
        meta.setdefault("info", "\n".join(t[0]))
    if symmetric is None:
        symmetric = bool(meta.pop("symmetric", False))
    else:
        meta.pop("symmetric", None)
    nm = name if name is not None else str(meta.pop("name", "")) or Path(where).stem
    meta.pop("name", None)
    meta.update(extra_meta)
    return _build(where, weights, lengths_v, labels, centres, hemis, nm, meta, symmetric)


# ----------------------------------------------------------------------------- format dispatch
def _format_of(p: Path, format: str | None, *, writing: bool) -> str:
    if format is not None:
        fmt = {"zip": "tvb-zip", "tvb": "tvb-zip", "dir": "folder", "directory": "folder"}.get(
            format.lower(), format.lower())
        if fmt not in CONNECTOME_FORMATS and fmt not in ("csv", "tsv", "npy"):
            raise DataFileError(f"format={format!r} is not a connectome format; use one of "
                                f"{sorted(CONNECTOME_FORMATS)} (or 'csv'/'tsv'/'npy' for a folder).")
        return fmt
    if p.is_dir():
        return "folder"
    suffix = p.name.lower().removesuffix(".bz2")
    if suffix.endswith(".zip"):
        return "tvb-zip"
    if suffix.endswith(".npz"):
        return "npz"
    if suffix.endswith(_TABLE_SUFFIXES):
        return "table"
    if writing and p.suffix == "":
        return "folder"
    raise DataFileError(f"{p}: unknown connectome format {p.suffix or '(no suffix)'!r}; known "
                        f"formats: " + "; ".join(f"{k}: {v}" for k, v in CONNECTOME_FORMATS.items())
                        + ". Pass format= to choose one.")


def read_connectome(path, *, format: str | None = None, lengths=None, labels=None, centres=None,
                    hemispheres=None, symmetric: bool | None = None, name: str | None = None
                    ) -> Connectome:
    """Read a connectome from a file or folder (see the module docstring for the formats).

    Parameters
    ----------
    path : str or Path
        A ``.zip`` (TVB), ``.npz``, a folder in the minimal layout, or one weight table
        (``.csv``, ``.tsv``, ``.txt``, ``.npy``).
    format : str, optional
        Force a format (``'tvb-zip'``, ``'npz'``, ``'folder'``, ``'table'``) instead of the suffix.
    lengths, labels, centres : path or array, optional
        For a single weight table: the tract lengths (mm), region names and centres (mm), as
        files or arrays. With other formats they override what the file holds.
    hemispheres : sequence of str, optional
    symmetric : bool, optional
        ``True`` checks that weights and lengths are symmetric (a folder's ``metadata.json`` may
        declare ``"symmetric": true``).
    name : str, optional
        Defaults to the stored name or the file name.

    Returns
    -------
    Connectome
        ``metadata['source_file']`` and ``metadata['sha256']`` record where it came from.

    Raises
    ------
    DataFileError
        Missing, truncated or unknown-format files, inconsistent parts (the message names the file).
    """
    p = _exists(path, "connectome")
    fmt = _format_of(p, format, writing=False)
    where = str(p)
    rec = file_record(p)
    extra = dict(source_file=rec["path"], sha256=rec["sha256"])
    if fmt == "tvb-zip":
        try:
            zf = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError) as err:
            raise DataFileError(f"{where} is not a readable zip archive ({err}); the file may be "
                                f"truncated or not a TVB connectivity.") from None
        with zf:
            def _read(n):
                try:
                    return zf.read(n)
                except (zipfile.BadZipFile, OSError, EOFError, zlib_error) as err:
                    raise DataFileError(f"{where}:{n} cannot be read ({err}); the archive may "
                                        f"be truncated.") from None
            m = _Members(where, [n for n in zf.namelist() if not n.endswith("/")], _read)
            conn = _from_members(m, where, symmetric=symmetric, name=name, extra_meta=extra)
    elif fmt == "folder":
        m = _Members(where, [str(q.relative_to(p)) for q in sorted(p.iterdir()) if q.is_file()],
                     lambda n: (p / n).read_bytes())
        conn = _from_members(m, where, symmetric=symmetric, name=name, extra_meta=extra)
    elif fmt == "npz":
        conn = _read_npz(p, symmetric=symmetric, name=name, extra_meta=extra)
    elif fmt == "table":
        w, header, rows = read_table(p, what="weights")
        lg = None
        if lengths is not None:
            if isinstance(lengths, (str, os.PathLike)):
                lg = (*read_table(lengths, what="lengths"), str(lengths))
            else:
                lg = (lengths, None, None, "lengths=")
        ctr = None
        if centres is not None:
            if isinstance(centres, (str, os.PathLike)):
                ctr = (*read_centres(centres), str(centres))
            else:
                ctr = (None, centres, "centres=")
        labs = {}
        if labels is not None:
            labs["labels=" + (str(labels) if isinstance(labels, (str, os.PathLike)) else "(given)")] = (
                read_labels(labels) if isinstance(labels, (str, os.PathLike)) else [str(x) for x in labels])
        w, lg, ctr, labs_ok = _assemble((w, header, rows, where), lg, ctr, labs)
        hem = hemispheres if hemispheres is not None else (
            None if labs_ok is None else _infer_hemispheres(labs_ok))
        return _build(where, w, lg, labs_ok, ctr, hem, name if name is not None else p.stem,
                      extra, bool(symmetric))
    else:
        raise DataFileError(f"format={fmt!r} is for writing a folder; to read, pass the folder.")
    overrides = {}
    if labels is not None:
        overrides["labels"] = read_labels(labels) if isinstance(labels, (str, os.PathLike)) else labels
    # a labelled lengths/centres file is matched by label to the connectome's regions (unless
    # they are only the default names R0, R1, ..., when the file's order is taken as it is)
    ref = [str(x) for x in overrides.get("labels", conn.labels)]
    if "labels" not in overrides and ref == [f"R{i}" for i in range(conn.n_regions)]:
        ref = None
    ref_src = "labels=" if "labels" in overrides else where
    if lengths is not None:
        if isinstance(lengths, (str, os.PathLike)):
            lv, ll = _table_labels(*read_table(lengths, what="lengths"), str(lengths))
            overrides["lengths"] = _align(lv, ll, ref, str(lengths), ref_src, True)
        else:
            overrides["lengths"] = lengths
    if centres is not None:
        if isinstance(centres, (str, os.PathLike)):
            cl, xyz = read_centres(centres)
            overrides["centres"] = _align(xyz, cl, ref, str(centres), ref_src, False)
        else:
            overrides["centres"] = centres
    if hemispheres is not None:
        overrides["hemispheres"] = hemispheres
    if overrides:
        d = dict(weights=conn.weights, lengths=conn.lengths, labels=conn.labels,
                 centres=conn.centres, hemispheres=conn.hemispheres)
        d.update(overrides)
        conn = _build(where, d["weights"], d["lengths"], d["labels"], d["centres"],
                      d["hemispheres"], conn.name, conn.metadata, bool(symmetric))
    return conn


def _read_npz(p: Path, *, symmetric, name, extra_meta) -> Connectome:
    where = str(p)
    try:
        with np.load(p, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib_error) as err:
        raise DataFileError(f"{where} is not a readable .npz archive ({err}); the file may be "
                            f"truncated.") from None
    if "weights" not in d:
        raise DataFileError(f"{where} has no 'weights' array (found {sorted(d)}); save with "
                            f"write_connectome() or numpy.savez(path, weights=W, lengths_mm=L, "
                            f"labels=...).")
    meta = {}
    if "metadata_json" in d:
        try:
            meta = json.loads(str(d["metadata_json"]))
        except ValueError as err:
            raise DataFileError(f"{where}: metadata_json is not valid JSON ({err}).") from None
    for k, v in d.items():
        if k.startswith("meta__"):
            meta[k[len("meta__"):]] = v
    lengths = d.get("lengths_mm", d.get("lengths"))
    if symmetric is None:
        symmetric = bool(meta.pop("symmetric", False))
    nm = name if name is not None else str(d["name"]) if "name" in d else p.stem
    meta.update(extra_meta)
    return _build(where, d["weights"], lengths, d.get("labels"), d.get("centres_mm"),
                  d.get("hemispheres"), nm, meta, symmetric)


# ----------------------------------------------------------------------------- writing
def _json_safe(meta: dict) -> tuple[dict, dict]:
    """(JSON-serialisable entries, ndarray entries); other values are skipped with a log line."""
    js, arrays = {}, {}
    for k, v in meta.items():
        if k in ("source_file", "sha256"):
            continue
        if isinstance(v, np.ndarray):
            arrays[k] = v
            continue
        if isinstance(v, np.generic):
            v = v.item()
        try:
            json.dumps(v)
            js[k] = v
        except (TypeError, ValueError):
            log.info("write_connectome: metadata entry %r (%s) is not JSON-serialisable; not saved.",
                     k, type(v).__name__)
    return js, arrays






def _tvb_members(conn: Connectome, where: Path) -> dict[str, str]:
    if conn.centres is None:
        raise DataFileError(f"{where}: the TVB zip format needs region centres (centres.txt) and "
                            f"this connectome has none; save as .npz or a folder instead, or "
                            f"build it with centres=.")
    bad = [lab for lab in conn.labels if not lab or re.search(r"\s", lab)]
    if bad:
        raise DataFileError(f"{where}: label {bad[0]!r} contains white space, which centres.txt "
                            f"cannot hold; save as .npz or a folder instead.")
    members = {"weights.txt": _fmt_matrix(conn.weights),
               "tract_lengths.txt": _fmt_matrix(conn.lengths),
               "centres.txt": "".join(f"{lab} {x:.17g} {y:.17g} {z:.17g}\n"
                                      for lab, (x, y, z) in zip(conn.labels, conn.centres))}
    if conn.hemispheres is not None:
        if set(conn.hemispheres) <= {"L", "R"}:
            members["hemispheres.txt"] = "".join(f"{int(h == 'R')}\n" for h in conn.hemispheres)
    md = dict(conn.metadata)
    if conn.hemispheres is not None and not set(conn.hemispheres) <= {"L", "R"}:
        md["hemisphere_tags"] = [str(h) for h in conn.hemispheres]
    if "cortical" in md:
        members["cortical.txt"] = "".join(f"{int(bool(c))}\n" for c in np.ravel(md.pop("cortical")))
    if "areas_mm2" in md:
        members["areas.txt"] = "".join(f"{a:.17g}\n" for a in np.ravel(md.pop("areas_mm2")))
    if "average_orientations" in md:
        members["average_orientations.txt"] = _fmt_matrix(np.asarray(md.pop("average_orientations")))
    if md.get("info"):
        members["info.txt"] = str(md.pop("info")) + "\n"
    js, arrays = _json_safe(md)
    for k in arrays:
        log.info("write_connectome: array metadata %r is not stored in a TVB zip (use .npz).", k)
    members["metadata.json"] = json.dumps(dict(name=conn.name, **js), indent=1, default=str)
    return members


def write_connectome(conn: Connectome, path, *, format: str | None = None,
                     overwrite: bool = False) -> Path:
    """Write ``conn`` so that :func:`read_connectome` gives back identical arrays and labels.

    Parameters
    ----------
    conn : Connectome
    path : str or Path
        ``*.zip`` (TVB archive), ``*.npz`` or a folder (no suffix; minimal layout).
    format : {'tvb-zip', 'npz', 'folder', 'csv', 'tsv', 'npy'}, optional
        ``'csv'``/``'tsv'``/``'npy'`` write a folder whose matrices use that format
        (``'folder'`` = ``'tsv'``).
    overwrite : bool
        Existing files are never replaced unless True (and then only the files written here).

    Returns
    -------
    Path
    """
    conn = conn.connectome
    p = Path(path).expanduser()
    fmt = _format_of(p, format, writing=True)
    if fmt == "table":
        raise DataFileError(f"{p}: a single table cannot hold labels and lengths; save to a "
                            f".zip, .npz or a folder (e.g. {p.with_suffix('')}).")
    if fmt in ("tvb-zip", "npz"):
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p} exists; pass overwrite=True to replace it or choose "
                                  f"another path.")
        p.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "tvb-zip":
            members = _tvb_members(conn, p)

            def _zip(tmp: Path):
                with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    for n, text in members.items():
                        zf.writestr(n, text)
            _atomic_write(p, _zip)
        else:
            js, arrays = _json_safe(dict(conn.metadata))
            arrs = dict(weights=np.asarray(conn.weights), lengths_mm=np.asarray(conn.lengths),
                        labels=np.asarray(conn.labels, dtype=str), name=np.array(conn.name),
                        metadata_json=np.array(json.dumps(js, default=str)),
                        format_version=np.array(_NPZ_VERSION))
            if conn.centres is not None:
                arrs["centres_mm"] = np.asarray(conn.centres)
            if conn.hemispheres is not None:
                arrs["hemispheres"] = np.asarray(conn.hemispheres, dtype=str)
            for k, v in arrays.items():
                if v.dtype.kind in "biufcUS":
                    arrs["meta__" + k] = v

            def _npz(tmp: Path):
                with open(tmp, "wb") as fh:
                    np.savez(fh, **arrs)
            _atomic_write(p, _npz)
        return p
    # folder
    ext = {"folder": "tsv", "csv": "csv", "tsv": "tsv", "npy": "npy"}[fmt]
    files: dict[str, Any] = {f"weights.{ext}": np.asarray(conn.weights),
                             f"tract_lengths.{ext}": np.asarray(conn.lengths),
                             "labels.txt": "".join(f"{lab}\n" for lab in conn.labels)}
    bad = [lab for lab in conn.labels if "\n" in lab or lab != lab.strip() or not lab]
    if bad:
        raise DataFileError(f"{p}: label {bad[0]!r} is empty or has leading/trailing white space "
                            f"or a newline, which labels.txt cannot hold; save as .npz instead.")
    if conn.centres is not None:
        files["centres.tsv"] = "label\tx\ty\tz\n" + "".join(
            f"{lab}\t{x:.17g}\t{y:.17g}\t{z:.17g}\n" for lab, (x, y, z) in zip(conn.labels, conn.centres))
    if conn.hemispheres is not None:
        files["hemispheres.txt"] = "".join(f"{h}\n" for h in conn.hemispheres)
    js, arrays = _json_safe(dict(conn.metadata))
    for k in arrays:
        log.info("write_connectome: array metadata %r is not stored in a folder (use .npz).", k)
    files["metadata.json"] = json.dumps(dict(name=conn.name, **js), indent=1, default=str)
    if p.exists() and not p.is_dir():
        raise FileExistsError(f"{p} exists and is not a folder; choose another path.")
    clash = [n for n in files if (p / n).exists()]
    if clash and not overwrite:
        raise FileExistsError(f"{p} already holds {clash}; pass overwrite=True to replace those "
                              f"files or choose another folder.")
    p.mkdir(parents=True, exist_ok=True)
    for n, content in files.items():
        if isinstance(content, np.ndarray):
            if ext == "npy":
                def _w(tmp, a=content):
                    with open(tmp, "wb") as fh:
                        np.save(fh, a)
            else:
                delim = "," if ext == "csv" else "\t"

                def _w(tmp, a=content, d=delim):
                    tmp.write_text(_fmt_matrix(a, d))
        else:
            def _w(tmp, s=content):
                tmp.write_text(s)
        _atomic_write(p / n, _w)
    return p


