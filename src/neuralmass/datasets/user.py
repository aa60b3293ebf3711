"""A lab's own data for a study: connectome, target FC and BOLD from files, checked together.

:func:`load_user_data` is what a study configuration's ``[data]`` table calls::

    [data]
    connectome = "data/sub-01_connectome.zip"   # any read_connectome format
    fc = "data/sub-01_fc.tsv"                    # N x N target FC (optional)
    bold = "data/sub-01_bold.tsv"                # samples x regions (optional)
    tr = 2.0                                     # s, when the BOLD file does not state it

Paths are relative to the configuration file's folder. Every file is checked — that it exists,
reads, and fits the others (region counts and labels, a symmetric FC with unit diagonal) —
before anything is simulated, and each is recorded with its SHA-256 for the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import brainunit as u
import numpy as np

from ..network.connectome import Connectome
from .files import DataFileError, file_record, read_connectome, read_table
from .signals import EmpiricalSignal, load_signal

__all__ = ["UserData", "load_user_data", "USER_DATA_KEYS"]

#: Keys of a ``[data]`` table that name user files or describe them.
USER_DATA_KEYS = ("connectome", "fc", "bold", "tr", "labels", "symmetric")
_OTHER_KEYS = ("dataset", "normalize", "subjects")   # read by the study itself


@dataclass(frozen=True, eq=False)
class UserData:
    """Checked user data: a connectome, a target FC and/or a BOLD recording, with checksums.

    Attributes
    ----------
    connectome : Connectome or None
    fc : ndarray (N, N) or None
        The target functional connectivity, in the connectome's region order.
    bold : EmpiricalSignal or None
        In the connectome's region order.
    files : dict
        ``{role: {'path', 'sha256', 'bytes'}}`` for every file read (``'connectome'``, ``'fc'``,
        ``'bold'``).
    """

    connectome: Connectome | None = None
    fc: Any = None
    bold: EmpiricalSignal | None = None
    files: dict = field(default_factory=dict)

    @property
    def fc_group(self) -> np.ndarray | None:
        """The target FC: the FC file, or the Pearson FC of the BOLD recording."""
        if self.fc is not None:
            return self.fc
        return None if self.bold is None else self.bold.fc()

    @property
    def fc_subjects(self) -> np.ndarray:
        """``fc_group`` as a (1, N, N) stack, or (0, N, N) when there is no target."""
        fc = self.fc_group
        if fc is None:
            n = 0 if self.connectome is None else self.connectome.n_regions
            return np.zeros((0, n, n))
        return fc[None]

    def report_lines(self) -> list[str]:
        """One line per file: role, path and SHA-256 (for the study report)."""
        return [f"{role}: {rec['path']} (sha256 {rec['sha256']}, {rec['bytes']} bytes)"
                for role, rec in self.files.items()]


def _resolve(value, base: Path, key: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise DataFileError(f"data.{key} = {value!r} must be a file path (relative to the "
                            f"configuration file's folder {base}).")
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _read_fc(path: Path, n: int | None, labels) -> tuple[np.ndarray, list[str] | None]:
    values, header, rows = read_table(path, what="fc")
    where = str(path)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise DataFileError(f"{where}: a functional connectivity matrix must be square (N x N), "
                            f"got {values.shape}; a (samples x regions) time series goes in "
                            f"data.bold instead.")
    if not np.all(np.isfinite(values)):
        raise DataFileError(f"{where}: FC contains NaN or inf (a region with a constant signal?).")
    if not np.allclose(values, values.T, atol=1e-6):
        i, j = np.unravel_index(np.argmax(np.abs(values - values.T)), values.shape)
        raise DataFileError(f"{where}: FC is not symmetric (fc[{i}, {j}] = {values[i, j]:g}, "
                            f"fc[{j}, {i}] = {values[j, i]:g}).")
    if np.abs(values).max() > 1 + 1e-6:
        raise DataFileError(f"{where}: FC values must be correlations in [-1, 1], found "
                            f"{np.abs(values).max():g}.")
    if header is not None and rows is not None and list(header) != list(rows):
        raise DataFileError(f"{where}: the header and the first column name different regions.")
    lab = header if header is not None else rows
    if lab is not None and len(set(lab)) != len(lab):
        dup = next(x for i, x in enumerate(lab) if x in lab[:i])
        raise DataFileError(f"{where} names region {dup!r} more than once; region labels must be "
                            f"unique.")
    if n is not None and values.shape[0] != n:
        raise DataFileError(f"{where} is {values.shape[0]} x {values.shape[0]} but the connectome "
                            f"has {n} regions; the target FC must use the connectome's "
                            f"parcellation.")
    if lab is not None and labels is not None:
        want = [str(x) for x in labels]
        if sorted(lab) != sorted(want):
            miss = [x for x in want if x not in lab][:5]
            raise DataFileError(f"{where}: its region labels differ from the connectome's "
                                f"(connectome regions missing from it: {miss}).")
        idx = [list(lab).index(x) for x in want]
        values = values[np.ix_(idx, idx)]
    return values, lab


def load_user_data(spec: Mapping[str, Any], base_dir=".", *, connectome: Connectome | None = None
                   ) -> UserData:
    """Read and cross-check the user files named in a study's ``[data]`` table.

    Parameters
    ----------
    spec : mapping
        ``connectome`` (path), ``fc`` (path to an N x N table), ``bold`` (path to a samples x
        regions signal), ``tr`` (for BOLD files that do not state it: a Quantity, a string such
        as ``"0.72 s"`` or a plain number of seconds), ``labels`` (path or
        list; region names for unlabelled FC/BOLD files), ``symmetric`` (bool; check the
        connectome's symmetry). ``dataset``, ``normalize`` and ``subjects`` are ignored here
        (the study reads them).
    base_dir : path
        The configuration file's folder; relative paths are resolved against it.
    connectome : Connectome, optional
        The model's connectome when ``spec`` names none (e.g. a bundled dataset); FC and BOLD
        are checked against it.

    Returns
    -------
    UserData

    Raises
    ------
    DataFileError
        Unknown keys, missing files (all listed at once), unreadable files, or files that do not
        fit each other — before any simulation.
    """
    unknown = sorted(set(spec) - set(USER_DATA_KEYS) - set(_OTHER_KEYS))
    if unknown:
        raise DataFileError(f"unknown data key(s) {unknown}; the [data] table understands "
                            f"{list(USER_DATA_KEYS) + list(_OTHER_KEYS)}.")
    base = Path(base_dir).expanduser()
    paths = {k: _resolve(spec[k], base, k) for k in ("connectome", "fc", "bold") if spec.get(k)}
    missing = [f"data.{k} = {spec[k]!r} -> {p}" for k, p in paths.items() if not p.exists()]
    if missing:
        raise DataFileError("these data files do not exist: " + "; ".join(missing)
                            + f" (relative paths are read from {base.resolve()}).")
    files = {k: file_record(p) for k, p in paths.items()}
    conn = connectome
    if "connectome" in paths:
        conn = read_connectome(paths["connectome"], symmetric=spec.get("symmetric"))
    labels = spec.get("labels")
    if isinstance(labels, (str, os.PathLike)):
        from .tables import read_labels
        labels = read_labels(_resolve(labels, base, "labels"))
    model_labels = None if conn is None else [str(x) for x in conn.labels]
    n = None if conn is None else conn.n_regions
    if labels is not None and n is not None and len(labels) != n:
        raise DataFileError(f"data.labels names {len(labels)} regions but the connectome has {n}.")
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(set(labels)) != len(labels):
            dup = next(x for i, x in enumerate(labels) if x in labels[:i])
            raise DataFileError(f"data.labels names region {dup!r} more than once; region labels "
                                f"must be unique.")
        if model_labels is not None and set(labels) != set(model_labels):
            miss = [x for x in model_labels if x not in set(labels)][:5]
            raise DataFileError(f"data.labels and the connectome name different regions "
                                f"(connectome regions missing from data.labels: {miss}).")
    fc = None
    if "fc" in paths:
        # a labelled FC file is matched to the connectome by its own labels; data.labels names
        # the regions of an unlabelled one
        fc, fc_labels = _read_fc(paths["fc"], n, model_labels)
        if fc_labels is None and labels is not None and model_labels is not None:
            if [str(x) for x in labels] != model_labels:
                idx = [list(map(str, labels)).index(x) for x in model_labels]
                fc = fc[np.ix_(idx, idx)]
    bold = None
    if "bold" in paths:
        tr = spec.get("tr")
        if isinstance(tr, str):
            from ..units import parse_quantity   # "0.72 s" -> Quantity; a bare number is s
            tr = parse_quantity(tr, "data.tr")
        if tr is not None and not isinstance(tr, u.Quantity) and not isinstance(tr, (int, float)):
            raise DataFileError(f"data.tr = {tr!r} must be a number of seconds or a time such "
                                f"as \"0.72 s\".")
        sig = load_signal(paths["bold"], tr=tr, labels=None, kind="bold") if tr is not None else \
            _load_bold_without_tr(paths["bold"])
        if labels is not None:
            if list(sig.labels) != [f"R{i}" for i in range(sig.n_channels)] and \
                    list(sig.labels) != [str(x) for x in labels]:
                raise DataFileError(f"{paths['bold']}: its column labels differ from data.labels.")
            sig = EmpiricalSignal(data=sig.data, sfreq=sig.sfreq, labels=list(map(str, labels)),
                                  unit=sig.unit, kind="bold", source=sig.source)
        if n is not None and sig.n_channels != n:
            raise DataFileError(f"{paths['bold']} has {sig.n_channels} regions (columns) but the "
                                f"connectome has {n}; the BOLD must use the connectome's "
                                f"parcellation (is the table transposed?).")
        if model_labels is not None:
            unlabeled = list(sig.labels) == [f"R{i}" for i in range(sig.n_channels)]
            if not unlabeled:
                try:
                    sig = sig.match(model_labels)
                except ValueError as err:
                    raise DataFileError(str(err)) from None
            else:
                sig = EmpiricalSignal(data=sig.data, sfreq=sig.sfreq, labels=model_labels,
                                      unit=sig.unit, kind="bold", source=sig.source)
        bold = sig
    return UserData(connectome=conn, fc=fc, bold=bold, files=files)


def _load_bold_without_tr(path: Path) -> EmpiricalSignal:
    try:
        return load_signal(path, kind="bold")
    except DataFileError as err:
        if "sampling rate" in str(err):
            raise DataFileError(f"{err} In a configuration, set data.tr = <seconds>.") from None
        raise
