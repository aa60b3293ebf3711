"""Empirical signals from files or MNE objects: parcellated BOLD, region or sensor M/EEG.

:func:`load_signal` reads a recording into an :class:`EmpiricalSignal` — samples × channels
(or epochs × samples × channels), the sampling rate and the region/sensor labels — from

* text tables ``*.tsv``/``*.csv``/``*.txt``: one column per region, one row per sample, a header
  row of labels (as in BIDS derivatives); the sampling rate from ``sfreq=``/``tr=`` or a JSON
  sidecar with the same stem (BIDS ``RepetitionTime`` in s or ``SamplingFrequency`` in Hz);
* ``*.npy`` (samples × channels, with ``sfreq=``/``tr=`` and optionally ``labels=``);
* ``*.npz`` with arrays ``data``, ``labels`` and ``sfreq`` (Hz) or ``tr`` (s);
* NetCDF ``*.nc`` (xarray; e.g. neuralmass's own outputs): a ``time`` dimension with a
  coordinate in ms or s and one channel dimension whose coordinate holds the labels;
* MNE ``Raw`` and ``Epochs`` objects or ``*.fif`` files (data in V / T / T/m).

:meth:`EmpiricalSignal.match` then checks the recording against a model: the sampling rate must
agree and every model region/sensor must be present; channels are put in the model's order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import brainunit as u
import numpy as np

from ..units import magnitude
from .tables import DataFileError, _exists, file_record, read_labels, read_table

__all__ = ["EmpiricalSignal", "load_signal"]

_MNE_UNITS = {"eeg": "V", "mag": "T", "grad": "T/m", "seeg": "V", "ecog": "V", "dbs": "V"}


@dataclass(frozen=True, eq=False)
class EmpiricalSignal:
    """A recorded signal with its sampling rate and channel labels.

    Attributes
    ----------
    data : ndarray, shape (samples, channels) or (epochs, samples, channels)
    sfreq : float
        Sampling rate in Hz (``1 / TR`` for BOLD).
    labels : ndarray of str
        Region or sensor names, one per channel.
    unit : str
        Unit of ``data`` (``'V'``, ``'T'``, ``'T/m'``; ``'1'`` when arbitrary, e.g. BOLD).
    kind : str
        ``'bold'``, ``'eeg'``, ``'meg'`` or ``'signal'``.
    channel_types : ndarray of str or None
        MNE channel types when known.
    source : dict
        ``path`` and ``sha256`` of the file read (empty for in-memory objects).
    """

    data: Any
    sfreq: float
    labels: Any
    unit: str = "1"
    kind: str = "signal"
    channel_types: Any = None
    source: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        where = self.source.get("path", "the signal")
        d = np.asarray(self.data, dtype=float)
        if d.ndim not in (2, 3):
            raise DataFileError(f"{where}: data must be (samples, channels) or (epochs, samples, "
                                f"channels), got shape {d.shape}.")
        if d.shape[-2] < 2:
            raise DataFileError(f"{where}: only {d.shape[-2]} sample(s); a signal needs at least 2 "
                                f"(is the table transposed?).")
        if not np.all(np.isfinite(d)):
            bad = np.argwhere(~np.isfinite(d))[0].tolist()
            raise DataFileError(f"{where}: data contain NaN or inf (first at index {bad}); "
                                f"interpolate or drop those samples first.")
        f = float(self.sfreq)
        if not np.isfinite(f) or f <= 0:
            raise DataFileError(f"{where}: sampling rate {self.sfreq!r} Hz must be finite and > 0.")
        n = d.shape[-1]
        labels = (np.array([f"R{i}" for i in range(n)]) if self.labels is None
                  else np.asarray([str(x) for x in self.labels]))
        if labels.shape != (n,):
            hint = (" (the data look transposed: channels in rows?)"
                    if labels.size == d.shape[-2] else "")
            raise DataFileError(f"{where}: {labels.size} labels for {n} channels{hint}.")
        if len(set(labels)) != n:
            dup = sorted({x for x in labels if list(labels).count(x) > 1})
            raise DataFileError(f"{where}: duplicate labels {dup[:5]}.")
        d.setflags(write=False)
        set_("data", d)
        set_("sfreq", f)
        set_("labels", labels)
        if self.channel_types is not None:
            set_("channel_types", np.asarray([str(t) for t in self.channel_types]))

    # ----------------------------------------------------------------- views
    @property
    def n_channels(self) -> int:
        return int(self.data.shape[-1])

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[-2])

    @property
    def tr(self) -> u.Quantity:
        """Sampling interval as a Quantity in s (the repetition time for BOLD)."""
        return (1.0 / self.sfreq) * u.second

    @property
    def times(self) -> np.ndarray:
        """Sample times in s from 0."""
        return np.arange(self.n_samples) / self.sfreq

    @property
    def quantity(self) -> u.Quantity:
        """``data`` as a brainunit Quantity (dimensionless when the unit is arbitrary)."""
        unit = {"V": u.volt, "T": u.tesla, "T/m": u.tesla / u.meter}.get(self.unit)
        return u.Quantity(self.data, unit=unit) if unit is not None else u.Quantity(self.data)

    def fc(self) -> np.ndarray:
        """Pearson functional connectivity (channels × channels) of a 2-D signal."""
        from ..analysis import functional_connectivity
        if self.data.ndim != 2:
            raise ValueError("fc() needs a (samples, channels) signal; average or concatenate "
                             "the epochs first.")
        # (samples, channels) by construction: a short recording is not a transposed one
        return np.asarray(functional_connectivity(self.data, allow_few_samples=True), dtype=float)

    def __repr__(self) -> str:
        return (f"EmpiricalSignal(kind={self.kind!r}, shape={self.data.shape}, sfreq={self.sfreq:g} "
                f"Hz, unit={self.unit!r}, labels={[str(x) for x in self.labels[:3]]}...)")

    # ----------------------------------------------------------------- checks against a model
    def match(self, labels: Sequence[str] | None = None, *, sfreq=None, tr=None,
              rtol: float = 1e-6) -> "EmpiricalSignal":
        """This recording in the model's channel order, after checking it fits the model.

        Parameters
        ----------
        labels : sequence of str or Connectome, optional
            The model's region or sensor names; all must be in the recording. Channels not in
            ``labels`` are dropped; the result's channels follow ``labels``.
        sfreq : float or Quantity, optional
            The model's sampling rate (Hz when plain); or ``tr`` (s when plain).
        rtol : float
            Relative tolerance of the sampling-rate check.

        Raises
        ------
        ValueError
            Model labels missing from the recording, or a different sampling rate (the message
            gives both and the fix).
        """
        where = self.source.get("path", "the recording")
        out = self
        if sfreq is not None or tr is not None:
            want = _rate(sfreq, tr, where)
            if not np.isclose(want, self.sfreq, rtol=rtol, atol=0):
                raise ValueError(f"{where} is sampled at {self.sfreq:g} Hz (every "
                                 f"{1e3 / self.sfreq:g} ms) but the model output at {want:g} Hz "
                                 f"(every {1e3 / want:g} ms); set the model's sampling period / "
                                 f"TR to the recording's, or resample the recording.")
        if labels is not None:
            want_l = [str(x) for x in getattr(labels, "labels", labels)]
            have = {lab: i for i, lab in enumerate(self.labels)}
            missing = [lab for lab in want_l if lab not in have]
            if missing:
                if list(self.labels) == [f"R{i}" for i in range(self.n_channels)]:
                    count = ("" if len(want_l) == self.n_channels else
                             f"; it also has {self.n_channels} channels for the model's "
                             f"{len(want_l)} (transposed?)")
                    raise ValueError(f"{where} has no channel labels (read as R0..R"
                                     f"{self.n_channels - 1}){count}; pass labels= when loading "
                                     f"it so they can be checked against the model's "
                                     f"{want_l[:3]} ...")
                raise ValueError(f"{len(missing)} of the model's {len(want_l)} channels are not "
                                 f"in {where} (first: {missing[:5]}); it has "
                                 f"{[str(x) for x in self.labels[:5]]} ... ({self.n_channels} "
                                 f"channels).")
            idx = [have[lab] for lab in want_l]
            out = replace(out, data=self.data[..., idx], labels=np.array(want_l),
                          channel_types=None if self.channel_types is None
                          else self.channel_types[idx])
        return out


def _rate(sfreq, tr, where) -> float:
    if sfreq is not None and tr is not None:
        raise ValueError(f"{where}: give sfreq= (Hz) or tr= (s), not both.")
    if sfreq is not None:
        return float(magnitude(sfreq, u.Hz, "sfreq"))
    t = float(magnitude(tr, u.second, "tr"))
    if t <= 0:
        raise ValueError(f"{where}: tr={tr!r} must be > 0 (seconds).")
    return 1.0 / t


def _sidecar_rate(p: Path) -> float | None:
    stem = p.name.split(".")[0]
    side = p.with_name(stem + ".json")
    if not side.exists():
        return None
    try:
        meta = json.loads(side.read_text())
    except ValueError as err:
        raise DataFileError(f"{side} is not valid JSON ({err}).") from None
    if "SamplingFrequency" in meta:
        return float(meta["SamplingFrequency"])
    if "RepetitionTime" in meta:
        return 1.0 / float(meta["RepetitionTime"])
    return None


def _from_mne(obj, kind, source) -> EmpiricalSignal:
    import mne
    types = obj.get_channel_types()
    units = {_MNE_UNITS.get(t, "?") for t in types}
    if len(units) != 1 or "?" in units:
        raise ValueError(f"the MNE object mixes channel types {sorted(set(types))} with different "
                         f"units; pick one first, e.g. raw.copy().pick('eeg').")
    data = obj.get_data()
    data = data.T if isinstance(obj, mne.io.BaseRaw) else np.transpose(data, (0, 2, 1))
    if kind is None:
        kind = "eeg" if set(types) <= {"eeg"} else "meg" if set(types) <= {"mag", "grad"} else "signal"
    return EmpiricalSignal(data=data, sfreq=float(obj.info["sfreq"]), labels=obj.ch_names,
                           unit=units.pop(), kind=kind, channel_types=types, source=source)


def load_signal(source, *, sfreq=None, tr=None, labels=None, kind: str | None = None,
                unit: str | None = None, variable: str | None = None) -> EmpiricalSignal:
    """Read an empirical signal (module docstring lists the formats).

    Parameters
    ----------
    source : path, mne.io.Raw or mne.Epochs
    sfreq, tr : float or Quantity, optional
        Sampling rate (Hz) or interval (s) when the file does not hold it; when it does, they
        must agree with it.
    labels : sequence of str or path, optional
        Channel names when the file has none (or to check those it has).
    kind : {'bold', 'eeg', 'meg', 'signal'}, optional
        Defaults from the MNE channel types, or ``'bold'`` when the sampling rate is below 5 Hz.
    unit : str, optional
        Unit of the values (``'V'``, ``'T'``, ``'1'``...). MNE objects are always in SI.
    variable : str, optional
        The NetCDF variable to read when the file holds several.

    Raises
    ------
    DataFileError
        Missing, truncated or unknown files, no sampling rate, labels that do not fit.
    """
    try:
        import mne
        if isinstance(source, (mne.io.BaseRaw, mne.BaseEpochs)):
            sig = _from_mne(source, kind, {})
            return _check_given(sig, sfreq, tr, labels)
    except ImportError:  # pragma: no cover - mne optional
        pass
    p = _exists(source, "signal")
    rec = file_record(p)
    src = dict(path=rec["path"], sha256=rec["sha256"])
    name = p.name.lower()
    given_labels = (read_labels(labels) if isinstance(labels, (str, os.PathLike)) else labels)
    file_rate, file_labels, file_unit = None, None, None
    if name.endswith(".fif") or name.endswith(".fif.gz"):
        import mne
        obj = (mne.read_epochs(p, verbose=False) if "-epo" in name or "_epo" in name
               else mne.io.read_raw_fif(p, preload=True, verbose=False))
        sig = _from_mne(obj, kind, src)
        return _check_given(sig, sfreq, tr, given_labels)
    if name.endswith(".npz"):
        try:
            with np.load(p, allow_pickle=False) as z:
                d = {k: z[k] for k in z.files}
        except Exception as err:  # zipfile/zlib/ValueError on truncated archives
            raise DataFileError(f"{p} is not a readable .npz archive ({err}); truncated?") from None
        if "data" not in d:
            raise DataFileError(f"{p} has no 'data' array (found {sorted(d)}); save with "
                                f"numpy.savez(path, data=X, sfreq=..., labels=...).")
        data = d["data"]
        file_labels = d.get("labels")
        file_rate = float(d["sfreq"]) if "sfreq" in d else 1.0 / float(d["tr"]) if "tr" in d else None
        file_unit = str(d["unit"]) if "unit" in d else None
    elif name.endswith(".nc"):
        data, file_rate, file_labels, file_unit = _read_netcdf(p, variable)
    elif name.endswith((".tsv", ".csv", ".txt", ".npy")):
        data, header, _rows = read_table(p, what="signal")
        file_labels = header
        file_rate = _sidecar_rate(p)
    else:
        raise DataFileError(f"signal file {p} has an unknown format {p.suffix!r}; use .tsv, .csv, "
                            f".txt, .npy, .npz, .nc or .fif (or pass an MNE Raw/Epochs object).")
    if file_rate is None and sfreq is None and tr is None:
        raise DataFileError(f"{p} does not state its sampling rate; pass sfreq= (Hz) or tr= (s), "
                            f"or add a JSON sidecar {p.name.split('.')[0]}.json with "
                            f"RepetitionTime (s) or SamplingFrequency (Hz).")
    if file_rate is not None and (sfreq is not None or tr is not None):
        want = _rate(sfreq, tr, str(p))
        if not np.isclose(want, file_rate, rtol=1e-6):
            raise DataFileError(f"{p} is sampled at {file_rate:g} Hz but sfreq/tr= says {want:g} Hz.")
    rate = file_rate if file_rate is not None else _rate(sfreq, tr, str(p))
    lab = file_labels
    if given_labels is not None:
        given_labels = [str(x) for x in given_labels]
        if lab is not None and [str(x) for x in lab] != given_labels:
            raise DataFileError(f"{p}: its channel labels {[str(x) for x in lab][:4]} ... differ "
                                f"from labels= {given_labels[:4]} ...")
        lab = given_labels
    if kind is None:
        kind = "bold" if rate < 5.0 else "signal"
    return EmpiricalSignal(data=data, sfreq=rate, labels=lab, unit=unit or file_unit or "1",
                           kind=kind, source=src)


def _check_given(sig: EmpiricalSignal, sfreq, tr, labels) -> EmpiricalSignal:
    if sfreq is not None or tr is not None:
        sig.match(sfreq=sfreq, tr=tr)
    if labels is not None and [str(x) for x in labels] != list(sig.labels):
        raise DataFileError(f"the recording's channels {list(sig.labels[:4])} ... differ from "
                            f"labels= {[str(x) for x in labels][:4]} ...")
    return sig


def _read_netcdf(p: Path, variable):
    try:
        import xarray as xr
    except ImportError as exc:  # pragma: no cover
        raise ImportError("reading NetCDF needs xarray: pip install 'neuralmass[io]'") from exc
    from ..io import _engine
    try:
        ds = xr.open_dataset(p, engine=_engine())
        ds.load()
    except Exception as err:  # backends raise OSError/ValueError/KeyError on damaged files
        raise DataFileError(f"{p} is not a readable NetCDF file ({err}); truncated?") from None
    with ds:
        names = [v for v in ds.data_vars if "time" in ds[v].dims and ds[v].ndim in (2, 3)]
        if variable is None:
            if len(names) != 1:
                raise DataFileError(f"{p} holds the time series {names}; pass variable= to pick one.")
            variable = names[0]
        if variable not in ds.data_vars:
            raise DataFileError(f"{p} has no variable {variable!r}; it has {list(ds.data_vars)}.")
        da = ds[variable]
        other = [dm for dm in da.dims if dm not in ("time", "batch", "epochs", "trial")]
        if "time" not in da.dims or len(other) != 1:
            raise DataFileError(f"{p}:{variable} must have a 'time' dimension and one channel "
                                f"dimension, has {da.dims}.")
        da = da.transpose(*[dm for dm in da.dims if dm != "time" and dm != other[0]], "time", other[0])
        t = np.asarray(da["time"].values, dtype=float)
        t_unit = str(da["time"].attrs.get("units", "ms")).strip()
        scale = {"ms": 1e-3, "s": 1.0, "second": 1.0, "seconds": 1.0, "msecond": 1e-3,
                 "millisecond": 1e-3, "milliseconds": 1e-3}.get(t_unit)
        if scale is None:
            raise DataFileError(f"{p}: time coordinate in {t_unit!r}; expected 'ms' or 's'.")
        dt = np.diff(t) * scale
        if dt.size == 0 or not np.allclose(dt, dt[0], rtol=1e-6):
            raise DataFileError(f"{p}: the time coordinate is not evenly spaced.")
        labels = [str(x) for x in da[other[0]].values] if other[0] in da.coords else None
        unit = da.attrs.get("units")
        unit = {"volt": "V", "tesla": "T"}.get(str(unit), unit)
        return np.asarray(da.values), 1.0 / dt[0], labels, unit
