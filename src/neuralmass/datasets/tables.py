"""Plain data files: tables, label lists, centre lists, checksums and atomic writes.

The generic readers and writers of the datasets layer, used by the connectome formats
(:mod:`neuralmass.datasets.files`), a lab's signals (:mod:`neuralmass.datasets.signals`) and study
outputs. A table is ``.csv``, ``.tsv``, ``.txt`` (whitespace) or ``.npy``; a text table may carry a
header row and/or a first column of labels. Every problem is a :class:`DataFileError` (a
``ValueError``) naming the file and what is wrong with it.
"""

from __future__ import annotations

import bz2
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["DataFileError", "read_table", "write_table", "read_labels", "read_centres", "sha256sum",
           "file_record"]


_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".npy")


class DataFileError(ValueError):
    """A data file is missing, unreadable, of an unknown format or inconsistent.

    The message names the file and the problem (and, where there is one, the fix).
    """


# ----------------------------------------------------------------------------- checksums
def sha256sum(path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_record(path) -> dict:
    """``{'path', 'sha256', 'bytes'}`` of a file, or of every file in a folder (sorted)."""
    p = Path(path).resolve()
    if p.is_dir():
        files = sorted(q for q in p.rglob("*") if q.is_file())
        h = hashlib.sha256()
        for q in files:
            h.update(str(q.relative_to(p)).encode() + b"\0" + sha256sum(q).encode())
        return dict(path=str(p), sha256=h.hexdigest(), bytes=sum(q.stat().st_size for q in files))
    return dict(path=str(p), sha256=sha256sum(p), bytes=p.stat().st_size)


def _exists(path, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        hint = ""
        if p.parent.is_dir():
            near = sorted(x.name for x in p.parent.iterdir())[:8]
            hint = f" The folder {p.parent} contains: {near}."
        raise DataFileError(f"{what} file {p} does not exist.{hint}")
    return p


# ----------------------------------------------------------------------------- text tables
def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _split(line: str, delim: str | None) -> list[str]:
    cells = line.split(delim) if delim else line.split()
    return [c.strip().strip('"').strip("'") for c in cells]


def _parse_table(text: str, where: str, delim: str | None):
    """(values, column labels or None, row labels or None) of a text table."""
    rows = [(k + 1, _split(line, delim)) for k, line in enumerate(text.splitlines())
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise DataFileError(f"{where} is empty (no numbers found).")
    header = None
    first = rows[0][1]
    if not all(_is_number(c) for c in first[1:] if c != "") or (
            len(first) == 1 and not _is_number(first[0]) and len(rows) > 1
            and _is_number(rows[1][1][0])):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise DataFileError(f"{where} has a header row but no data rows (truncated?).")
    row_labels = None
    if not _is_number(rows[0][1][0]):
        row_labels = [r[1][0] for r in rows]
        rows = [(k, r[1:]) for k, r in rows]
    width = len(rows[0][1])
    for lineno, cells in rows:
        if len(cells) != width:
            raise DataFileError(f"{where}, line {lineno}: {len(cells)} values where the first data "
                                f"row has {width} (truncated or ragged file?).")
        bad = [c for c in cells if not _is_number(c)]
        if bad:
            raise DataFileError(f"{where}, line {lineno}: {bad[0]!r} is not a number.")
    values = np.array([[float(c) for c in cells] for _, cells in rows], dtype=float)
    if header is not None:
        if row_labels is not None or len(header) == width + 1:
            header = header[1:] if len(header) == width + 1 else header
        if len(header) != width:
            raise DataFileError(f"{where}: the header row has {len(header)} names but the rows "
                                f"have {width} values.")
    return values, header, row_labels


def _delimiter(name: str) -> str | None:
    base = name.lower().removesuffix(".bz2")
    return "," if base.endswith(".csv") else "\t" if base.endswith(".tsv") else None


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.lower().endswith(".bz2"):
        try:
            data = bz2.decompress(data)
        except (OSError, EOFError, ValueError) as err:
            raise DataFileError(f"{path}: not a readable bz2 file ({err}); truncated?") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(f"{path} is not a text file (not UTF-8); tables must be CSV/TSV/"
                            f"whitespace-separated text or .npy.") from None


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DataFileError(f"{path}: not a readable .npy array ({err}); the file may be "
                            f"truncated or hold pickled objects (not accepted).") from None


def read_table(path, *, what: str = "table"):
    """A numeric table: (values, column labels or None, row labels or None).

    ``.npy`` files hold the array alone; ``.csv``/``.tsv``/``.txt`` (optionally ``.bz2``) text
    may carry a header row and a first column of labels.
    """
    p = _exists(path, what)
    if p.suffix.lower() == ".npy":
        return _load_npy(p), None, None
    if not p.name.lower().removesuffix(".bz2").endswith((".csv", ".tsv", ".txt", ".dat")):
        raise DataFileError(f"{what} file {p} has an unknown format {p.suffix!r}; use .csv, .tsv, "
                            f".txt (whitespace) or .npy.")
    return _parse_table(_read_text(p), str(p), _delimiter(p.name))


def read_labels(path) -> list[str]:
    """Region or channel names, one per line (blank lines and ``#`` comments skipped)."""
    p = _exists(path, "labels")
    if p.suffix.lower() == ".npy":
        return [str(x) for x in _load_npy(p).ravel()]
    return [line.strip() for line in _read_text(p).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _parse_centres(text: str, where: str, delim: str | None):
    """(labels or None, (N, 3) array) from rows ``[label] x y z [ignored ...]``.

    A header row (``label x y z``) is skipped; columns after the coordinates (TVB's 66-region
    file has a trailing ``None``) are ignored.
    """
    rows = [(k + 1, _split(line, delim)) for k, line in enumerate(text.splitlines())
            if line.strip() and not line.lstrip().startswith("#")]
    if rows and not all(_is_number(c) for c in rows[0][1][1:4]):
        rows = rows[1:]
    if not rows:
        raise DataFileError(f"{where} has no rows of centre coordinates (empty or truncated?).")
    labelled = not _is_number(rows[0][1][0])
    labels, xyz = [], []
    for lineno, cells in rows:
        c = cells[1:4] if labelled else cells[:3]
        if len(c) < 3 or not all(_is_number(x) for x in c):
            raise DataFileError(f"{where}, line {lineno}: expected {'a label and ' if labelled else ''}"
                                f"x y z coordinates (mm), got {cells}.")
        if labelled:
            labels.append(cells[0])
        xyz.append([float(x) for x in c])
    return (labels if labelled else None), np.array(xyz)


def read_centres(path):
    """(labels or None, (N, 3) coordinates in mm) from rows ``label x y z`` or ``x y z``."""
    p = _exists(path, "centres")
    if p.suffix.lower() == ".npy":
        xyz = _load_npy(p)
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise DataFileError(f"{p}: centres need shape (N, 3) (x y z in mm), got {xyz.shape}.")
        return None, xyz
    return _parse_centres(_read_text(p), str(p), _delimiter(p.name))


def _atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fmt_matrix(a: np.ndarray, delim: str = " ") -> str:
    return "\n".join(delim.join(f"{x:.17g}" for x in row) for row in np.atleast_2d(a)) + "\n"


def write_table(path, values, labels, *, overwrite: bool = False) -> Path:
    """Write a square labelled matrix as CSV that :func:`read_table` reads back exactly: a header
    row ``region,<label>,...`` and one row ``<label>,<values>`` per region (17 significant digits).

    Parameters
    ----------
    path : str or Path
        ``*.csv`` file. An existing file is replaced only with ``overwrite=True``.
    values : array (N, N)
    labels : sequence of N str
        Region labels; they must not contain commas or be numbers.
    """
    p = Path(path)
    a = np.asarray(values, dtype=float)
    labels = [str(x) for x in labels]
    if a.ndim != 2 or a.shape != (len(labels), len(labels)):
        raise ValueError(f"write_table: values of shape {a.shape} do not match {len(labels)} labels.")
    bad = [x for x in labels if "," in x or not x.strip() or _is_number(x)]
    if bad:
        raise ValueError(f"write_table: label {bad[0]!r} cannot be written to a CSV header (comma, empty "
                         f"or a number).")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists; pass overwrite=True to replace it.")
    text = "region," + ",".join(labels) + "\n" + "".join(
        lab + "," + ",".join(f"{x:.17g}" for x in row) + "\n" for lab, row in zip(labels, a))
    _atomic_write(p, lambda tmp: tmp.write_text(text))
    return p
