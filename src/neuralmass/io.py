"""Labelled results: simulation outputs as xarray objects and NetCDF files.

xarray is an optional dependency (``pip install neuralmass[io]``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .units import magnitude

__all__ = ["process_alive", "software_versions", "to_xarray", "write_netcdf_atomic", "save_arrays", "umask", "apply_umask",
           "add_cf_attributes", "read_provenance"]


def process_alive(pid: int, host: str | None = None) -> bool:
    """Whether process ``pid`` still runs. A process on another machine (``host`` given and not
    this one) is assumed to; so is one this user may not signal."""
    import socket

    if host is not None and host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def umask() -> int:
    """The process umask, read without changing it (from /proc when available)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)  # pragma: no cover - non-Linux fallback (not thread-safe)
    os.umask(old)
    return old


def apply_umask(path, directory: bool = False) -> None:
    """Give ``path`` the permissions a plain ``open``/``mkdir`` would: 0666/0777 minus the umask.

    ``tempfile`` creates private files (0600) and folders (0700); results are shared in a lab.
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


def _xr():
    try:
        import xarray as xr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("labelled outputs need xarray: pip install 'neuralmass[io]'") from exc
    return xr


def to_xarray(result: dict, name: str = "simulation", regions=None, time_key: str = "ts", attrs=None):
    """A ``Simulator.run`` result as an :class:`xarray.Dataset`.

    Each monitor becomes a variable with dims ``('time', 'regions')`` (``('batch', 'time',
    'regions')`` when batched), coordinates ``time`` (ms, from ``result['ts']``) and ``regions``
    (``regions`` labels or ``R0..``); units are stored in ``attrs['units']``.
    """
    xr = _xr()
    ts = result[time_key]
    t_unit = str(getattr(ts, "unit", "ms"))
    t = np.asarray(magnitude(ts))
    data_vars = {}
    for key, val in result.items():
        if key == time_key:
            continue
        arr = np.asarray(magnitude(val))
        unit = str(getattr(val, "unit", "")) if hasattr(val, "unit") else ""
        n = arr.shape[-1]
        labels = [str(x) for x in regions] if regions is not None and len(regions) == n else [f"R{i}" for i in range(n)]
        dims = ("time", "regions") if arr.ndim == 2 else ("batch", "time", "regions")
        data_vars[key] = xr.DataArray(arr, dims=dims, coords={"regions": ("regions", labels)},
                                      attrs={"units": unit or "1"})
    ds = xr.Dataset(data_vars, coords={"time": ("time", t, {"units": t_unit})}, attrs={"title": name, **(attrs or {})})
    return ds


def write_netcdf_atomic(ds, path) -> Path:
    """Write ``ds`` to ``path`` via a temporary file and an atomic rename, so an interrupted run
    never leaves a half-written file under the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _atomic_write(path, ".part", lambda tmp: ds.to_netcdf(tmp, engine=_engine()))


def _atomic_write(path: Path, suffix: str, write) -> Path:
    """``write(tmp)`` into a temporary file beside ``path``, then rename it into place (umask
    permissions); nothing half-written is ever left under ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        apply_umask(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _engine():
    """The first NetCDF backend whose modules import (h5netcdf needs h5py; scipy writes NetCDF3)."""
    for mods, eng in ((("h5netcdf", "h5py"), "h5netcdf"), (("netCDF4",), "netcdf4"), (("scipy",), "scipy")):
        try:
            for mod in mods:
                __import__(mod)
            return eng
        except ImportError:
            continue
    return None


def save_arrays(path, arrays: dict, units: dict | None = None) -> Path:
    """Save plain arrays to ``path`` (``.npz``, NumPy only) atomically, with their units as JSON.

    The fallback that keeps simulated signals when a labelled (NetCDF) file cannot be written.
    """
    import json

    path = Path(path)
    return _atomic_write(path, ".part.npz", lambda tmp: np.savez(
        tmp, **{k: np.asarray(magnitude(v)) for k, v in arrays.items()}, units=json.dumps(units or {})))


# ----------------------------------------------------------------------------- CF attributes
#: The CF conventions version the attributes follow.
CF_CONVENTIONS = "CF-1.10"

_LONG_NAMES = {
    "time": "time since the start of the recorded simulation",
    "regions": "brain region (connectome label)",
    "sensors": "sensor (channel) name",
    "batch": "batch lane (parameter set)",
    "bold": "simulated BOLD signal (fractional change from rest)",
    "neural": "neural-mass activity averaged over each sampling period",
    "eeg": "simulated EEG potential",
    "meg": "simulated MEG magnetic field",
}


def add_cf_attributes(ds, *, title: str | None = None, source: str | None = None,
                      config=None, versions=None, seed=None, history: str | None = None,
                      long_names=None, references: str | None = None):
    """A copy of ``ds`` that describes itself: CF-style attributes and the run's provenance.

    Global attributes: ``Conventions`` (``CF-1.10``), ``title``, ``source`` (the software and
    version that made the data), ``history`` (a time-stamped line, appended to any existing
    history), ``references``, and the provenance ``neuralmass_config`` and
    ``neuralmass_versions`` (JSON text) and ``seed``. Every variable and coordinate gets
    ``long_name`` and ``units`` (``'1'`` when dimensionless, as CF asks).

    Parameters
    ----------
    ds : xarray.Dataset
    title, source, history, references : str, optional
    config : mapping, optional
        The configuration that produced the data (stored as JSON).
    versions : mapping, optional
        Package versions (default: neuralmass, jax, numpy, brainunit, xarray).
    seed : int, optional
    long_names : mapping, optional
        ``{variable: description}``; defaults exist for time, regions, sensors, bold, neural,
        eeg and meg.

    Returns
    -------
    xarray.Dataset
        :func:`read_provenance` reads the provenance back from a written file.
    """
    import datetime as _dt
    import json

    ds = ds.copy()
    if versions is None:
        versions = _package_versions()
    names = dict(_LONG_NAMES)
    names.update(long_names or {})
    for key in list(ds.data_vars) + list(ds.coords):
        attrs = ds[key].attrs
        attrs.setdefault("long_name", names.get(str(key), str(key)))
        if ds[key].dtype.kind in "fiuc":
            unit = str(attrs.get("units", "") or "1")
            attrs["units"] = unit
    sw = f"neuralmass {versions.get('neuralmass', 'unknown')}"
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    line = f"{stamp}: {history or 'written by ' + sw}"
    old = ds.attrs.get("history")
    ds.attrs.update(Conventions=CF_CONVENTIONS, source=source or sw,
                    history=f"{old}\n{line}" if old else line)
    if title is not None:
        ds.attrs["title"] = title
    if references is not None:
        ds.attrs["references"] = references
    if config is not None:
        ds.attrs["neuralmass_config"] = json.dumps(config, sort_keys=True, default=str)
    ds.attrs["neuralmass_versions"] = json.dumps(dict(versions), sort_keys=True, default=str)
    if seed is not None:
        ds.attrs["seed"] = int(seed)
    return ds


def read_provenance(path) -> dict:
    """``{'config', 'versions', 'seed', 'history', 'source', 'Conventions'}`` of a NetCDF file
    written with :func:`add_cf_attributes` (missing entries are None)."""
    import json

    xr = _xr()
    with xr.open_dataset(path, engine=_engine()) as ds:
        attrs = dict(ds.attrs)
    out = {k: attrs.get(k) for k in ("history", "source", "Conventions", "title")}
    out["config"] = json.loads(attrs["neuralmass_config"]) if "neuralmass_config" in attrs else None
    out["versions"] = (json.loads(attrs["neuralmass_versions"])
                       if "neuralmass_versions" in attrs else None)
    out["seed"] = int(attrs["seed"]) if "seed" in attrs else None
    return out


def software_versions() -> dict:
    """Python and the installed versions of neuralmass and the packages its results depend on
    (jax, brainstate, brainunit, numpy, scipy, xarray, matplotlib; missing ones left out), for
    the provenance of a study's summary or a sweep's store."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("neuralmass", "jax", "brainstate", "brainunit", "numpy", "scipy", "xarray", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _package_versions() -> dict:
    from importlib import metadata

    out = {}
    for pkg in ("neuralmass", "jax", "numpy", "brainunit", "brainstate", "xarray"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
