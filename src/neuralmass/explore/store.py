"""The Zarr store of a sweep (written through xarray), its spec check and its manifest.

Layout of ``STORE`` (a Zarr group; open it with :func:`open_sweep` or ``xarray.open_zarr``):

* one variable per feature, dims ``(point, seed)``; parameter values as coordinates along
  ``point`` (``ds.k``, ``ds.speed``); the seeds as the ``seed`` coordinate;
* with a ``timeseries`` option, ``timeseries`` (``float32``), dims ``(point, seed, time, region)``,
  with the ``time`` (ms, end of each window) and ``region`` coordinates
  (:mod:`neuralmass.explore.timeseries`);
* the manifest, dims ``(chunk,)``: ``chunk_done`` (1 once a chunk's features are stored),
  ``chunk_seconds`` (wall time of its engine call and features), ``chunk_device`` (index in
  ``jax.devices()`` of the worker that ran it), ``chunk_pid`` (its process id) and
  ``chunk_finished`` (POSIX time);
* attributes ``sweep_spec`` (the JSON spec: model, space, design, seeds, chunking, features) and
  ``sweep_versions`` (package versions at creation).

Zarr chunks along ``point`` are the sweep's chunks, so every finished chunk is one region write
of its own Zarr chunks (:meth:`xarray.Dataset.to_zarr` with ``region=``; features and time
series in one write), followed by its
manifest entry: a chunk counts as stored only when its manifest entry is. The empty store is
built in a temporary folder and moved into place, so a half-created store never exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np

from ..io import process_alive

__all__ = ["SweepStoreMismatch", "SweepStoreExists", "spec_difference", "check_store", "create_store",
           "write_chunk", "done_chunks", "open_sweep", "claim_chunks", "release_chunks"]

SPEC_ATTR = "sweep_spec"
VERSIONS_ATTR = "sweep_versions"


class SweepStoreMismatch(ValueError):
    """A store belongs to another sweep (or is not a sweep store)."""


class SweepStoreExists(FileExistsError):
    """Another process created the store while this one was creating it (two sweeps started on
    one store at once); :meth:`neuralmass.explore.Sweep.run` then resumes it if it holds the same
    sweep."""


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


def spec_difference(old, new, path: str = "") -> list:
    """Human-readable differences ``'key: store has A, this sweep has B'`` between two specs."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append(f"{p}: not in the store, this sweep has {json.dumps(new[k])}")
            elif k not in new:
                out.append(f"{p}: the store has {json.dumps(old[k])}, this sweep has none")
            else:
                out += spec_difference(old[k], new[k], p)
        return out
    if old != new:
        return [f"{path}: the store has {json.dumps(old)}, this sweep has {json.dumps(new)}"]
    return []


def _normalise(spec: Mapping) -> dict:
    return json.loads(json.dumps(spec, sort_keys=True, default=str))


def check_store(path, spec: Mapping) -> str:
    """``'new'`` when ``path`` does not exist, ``'resume'`` when it holds this sweep.

    Raises :class:`SweepStoreMismatch` naming the differences when the store belongs to another
    sweep, or when ``path`` exists and is not a sweep store (it is never overwritten).
    """
    p = Path(path)
    if not p.exists():
        return "new"
    import xarray as xr

    try:
        with _quiet():
            ds = xr.open_zarr(p, consolidated=None)
        old = json.loads(ds.attrs[SPEC_ATTR])
    except Exception:
        raise SweepStoreMismatch(
            f"--out {str(p)!r} exists and is not a neuralmass sweep store; choose another path "
            f"(nothing there is modified).") from None
    diff = spec_difference(old, _normalise(spec))
    if diff:
        shown = "; ".join(diff[:5]) + (f"; and {len(diff) - 5} more" if len(diff) > 5 else "")
        raise SweepStoreMismatch(
            f"the store {str(p)!r} belongs to a different sweep ({shown}). Use another --out path "
            f"to run this sweep, or restore the store's settings to resume it.")
    return "resume"


def create_store(path, spec: Mapping, names, points: np.ndarray, seeds, features, chunk_points: int,
                 versions: Mapping, descriptions: Mapping | None = None, timeseries=None) -> None:
    """Create the empty store (coordinates, NaN features and time series, empty manifest)
    atomically; ``timeseries`` is a :class:`.TimeseriesSpec` or ``None``."""
    import dask.array as da
    import xarray as xr

    p = Path(path)
    P, S = points.shape[0], len(seeds)
    n_chunks = -(-P // chunk_points)
    coords = {"point": np.arange(P), "seed": np.asarray(seeds, dtype=np.int64),
              "chunk": np.arange(n_chunks)}
    for j, name in enumerate(names):
        coords[name] = ("point", points[:, j])
    data = {}
    for f in features:
        data[f] = (("point", "seed"), da.full((P, S), np.nan, chunks=(chunk_points, S)),
                   {"description": (descriptions or {}).get(f, "")})
    if timeseries is not None:
        T, n = timeseries.shape
        coords["time"] = ("time", timeseries.times, {"units": "ms", "description": "end of each window, "
                                                     "from the start of the run (transient included)"})
        coords["region"] = np.arange(n)
        attrs = {"signal": timeseries.signal, "period_ms": timeseries.period, "units": timeseries.unit,
                 "description": f"{timeseries.signal} averaged over windows of {timeseries.period:g} ms "
                                f"({timeseries.factor} samples of {timeseries.base_period:g} ms)"}
        if timeseries.labels is not None:
            attrs["region_labels"] = json.dumps(list(timeseries.labels))
        data["timeseries"] = (("point", "seed", "time", "region"),
                              da.full((P, S, T, n), np.nan, dtype=np.float32, chunks=(chunk_points, S, T, n)),
                              attrs)
    data["chunk_done"] = (("chunk",), da.zeros((n_chunks,), dtype=np.int8, chunks=1))
    data["chunk_seconds"] = (("chunk",), da.full((n_chunks,), np.nan, chunks=1))
    data["chunk_device"] = (("chunk",), da.full((n_chunks,), -1, dtype=np.int32, chunks=1))
    data["chunk_finished"] = (("chunk",), da.full((n_chunks,), np.nan, chunks=1))
    data["chunk_pid"] = (("chunk",), da.full((n_chunks,), -1, dtype=np.int64, chunks=1))
    ds = xr.Dataset(data, coords=coords, attrs={SPEC_ATTR: json.dumps(_normalise(spec), sort_keys=True),
                                                VERSIONS_ATTR: json.dumps(dict(versions))})
    enc = {f: {"chunks": (chunk_points, S)} for f in features}
    if timeseries is not None:
        enc["timeseries"] = {"chunks": (chunk_points, S, *timeseries.shape)}
    enc.update({k: {"chunks": (1,)} for k in ("chunk_done", "chunk_seconds", "chunk_device", "chunk_finished",
                                         "chunk_pid")})
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.creating-", dir=p.parent))
    try:
        with _quiet():
            ds.to_zarr(tmp / "store.zarr", mode="w-", compute=False, encoding=enc)
        try:
            os.replace(tmp / "store.zarr", p)
        except OSError:
            if p.exists():       # another sweep moved its store into place first
                raise SweepStoreExists(
                    f"the store {str(p)!r} was created by another process while this sweep was "
                    f"creating it (two sweeps started on one store at once).") from None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- chunk locks
def _locks(path) -> Path:
    return Path(str(path) + ".locks")


def claim_chunks(path, chunks) -> tuple[list, dict]:
    """Lock the chunks this process will compute, so that two runs resuming one store never
    compute the same chunk.

    Each lock is a file ``STORE.locks/chunk-<i>`` created exclusively (``O_EXCL``) holding
    ``host pid``; a lock whose process is gone (same host) is stale and taken over.

    Parameters
    ----------
    path : path
        The store.
    chunks : iterable of int
        Chunks to claim.

    Returns
    -------
    (list of int, dict)
        The chunks claimed, and ``{chunk: 'host pid'}`` of those held by another live process.
    """
    import socket

    d = _locks(path)
    d.mkdir(parents=True, exist_ok=True)
    me = f"{socket.gethostname()} {os.getpid()}"
    claimed, held = [], {}
    for i in chunks:
        f = d / f"chunk-{int(i)}"
        for _ in range(2):
            try:
                fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    host, pid = f.read_text().split()
                    owner_alive = process_alive(int(pid), host)
                except (OSError, ValueError):
                    host, pid, owner_alive = "?", "?", False      # unreadable: a torn write
                if owner_alive:
                    held[int(i)] = f"{host} {pid}"
                    break
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()                                   # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            claimed.append(int(i))
            break
    return claimed, held


def release_chunks(path, chunks) -> None:
    """Remove this process's locks of ``chunks`` (and the lock folder once it is empty)."""
    d = _locks(path)
    for i in chunks:
        with contextlib.suppress(FileNotFoundError):
            (d / f"chunk-{int(i)}").unlink()
    with contextlib.suppress(OSError):
        d.rmdir()


def write_chunk(path, index: int, chunk_points: int, n_points: int, features: Mapping,
                seconds: float, device: int, pid: int = -1, timeseries=None) -> None:
    """Store one finished chunk: its features and time series (one region write), then its
    manifest entry. ``timeseries``: ``(points, seeds, time, region)`` or ``None``."""
    import xarray as xr

    a, b = index * chunk_points, min((index + 1) * chunk_points, n_points)
    feats = xr.Dataset({k: (("point", "seed"), np.asarray(v, dtype=float)) for k, v in features.items()})
    if timeseries is not None:
        feats["timeseries"] = (("point", "seed", "time", "region"), np.asarray(timeseries, dtype=np.float32))
    man = xr.Dataset({"chunk_done": (("chunk",), np.ones(1, np.int8)),
                      "chunk_seconds": (("chunk",), np.array([seconds], float)),
                      "chunk_device": (("chunk",), np.array([device], np.int32)),
                      "chunk_finished": (("chunk",), np.array([time.time()], float)),
                      "chunk_pid": (("chunk",), np.array([pid], np.int64))})
    with _quiet():
        feats.to_zarr(path, region={"point": slice(a, b)}, mode="r+")
        man.to_zarr(path, region={"chunk": slice(index, index + 1)}, mode="r+")


def done_chunks(path) -> np.ndarray:
    """Boolean array: which chunks the manifest marks as stored."""
    import xarray as xr

    with _quiet():
        ds = xr.open_zarr(path, consolidated=None)
        return np.asarray(ds["chunk_done"].values) == 1


def open_sweep(path):
    """The sweep's results as an :class:`xarray.Dataset` (lazy), with ``spec`` and ``versions``
    decoded into ``ds.attrs['spec']`` and ``ds.attrs['versions']``."""
    import xarray as xr

    with _quiet():
        ds = xr.open_zarr(path, consolidated=None)
    ds.attrs["spec"] = json.loads(ds.attrs[SPEC_ATTR])
    ds.attrs["versions"] = json.loads(ds.attrs.get(VERSIONS_ATTR, "{}"))
    return ds
