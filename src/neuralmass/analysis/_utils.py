"""Shared helpers of :mod:`neuralmass.analysis`: sampling rates, units, xarray labels, safe maths.

Every analysis function works on arrays shaped ``(time, regions)`` with optional leading batch axes,
so the time axis is ``-2`` (a 1-D input is one region, time axis ``0``). Inputs may be plain arrays,
:mod:`brainunit` quantities (the magnitude is used; linear operations give the unit back) or
:class:`xarray.DataArray` objects with dims ``('time', 'regions')`` (labels are given back).
"""

from __future__ import annotations

from typing import Any

import brainunit as u
import jax.numpy as jnp
import numpy as np

from ..units import magnitude

__all__ = ["sampling_rate", "samples", "Unwrapped", "unwrap", "safe_abs", "safe_div", "pearson"]


def _is_dataarray(x: Any) -> bool:
    # xarray is optional: recognise a DataArray without importing xarray.
    return type(x).__name__ == "DataArray" and type(x).__module__.startswith("xarray")


def sampling_rate(fs: Any, name: str = "fs") -> float:
    """Sampling rate as a Python float in Hz.

    ``fs`` may be a plain number (read in Hz) or a brainunit Quantity with the dimension of a
    frequency (e.g. ``100 * u.Hz``). A time (a sampling interval) is refused with a hint.
    """
    if fs is None:
        raise ValueError(f"{name} is None; pass the sampling rate in Hz, e.g. {name}=100.0 or "
                         f"{name}=100 * u.Hz.")
    if isinstance(fs, u.Quantity):
        if fs.dim == u.ms.dim:
            raise ValueError(f"{name}={fs!r} is a time, but {name} is a sampling rate; pass "
                             f"{name}=1 / dt (e.g. 1 / (0.1 * u.ms)).")
        if fs.dim != u.Hz.dim:
            raise ValueError(f"{name}={fs!r} has unit {u.get_unit(fs)}; a sampling rate in Hz is "
                             f"expected, e.g. {name}=100 * u.Hz.")
        fs = magnitude(fs, u.Hz, name)
    if isinstance(fs, (str, bytes)):
        raise TypeError(f"{name}={fs!r} is a string; pass the sampling rate in Hz as a number.")
    try:
        value = float(np.asarray(fs))
    except Exception as exc:  # traced values cannot design filters
        raise TypeError(f"{name}={fs!r} must be a concrete number in Hz (filter design happens "
                        f"outside jit); close over it instead of tracing it.") from exc
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value} must be a positive sampling rate in Hz.")
    return value


def samples(value: Any, name: str, fs: Any = None) -> int:
    """A window length or step as a number of samples.

    A plain integer is a sample count. A brainunit time (``2 * u.second``) is converted with ``fs``.
    """
    if isinstance(value, u.Quantity):
        if value.dim != u.ms.dim:
            raise ValueError(f"{name}={value!r} must be a time or a number of samples.")
        if fs is None:
            raise ValueError(f"{name}={value!r} is a time; pass fs= (Hz) to convert it to samples.")
        n = magnitude(value, u.second, name) * sampling_rate(fs)
        return int(round(float(n)))
    if isinstance(value, (bool, np.bool_)) or not float(value).is_integer():
        raise ValueError(f"{name}={value!r} must be a whole number of samples (or a brainunit time "
                         f"with fs=).")
    n = int(value)
    if n < 1:
        raise ValueError(f"{name}={n} must be at least 1 sample.")
    return n


class Unwrapped:
    """A plain JAX array taken out of a Quantity / DataArray, with what is needed to wrap results."""

    def __init__(self, x: Any, allow_complex: bool = False):
        self.da = None
        self.unit = None
        if _is_dataarray(x):
            dims = x.dims
            if "time" not in dims:
                raise ValueError(f"x is a DataArray with dims {dims}; a 'time' dimension is required "
                                 f"(dims ('time', 'regions') with optional leading batch dims).")
            if "regions" in dims:
                x = x.transpose(..., "time", "regions")
            elif dims[-1] != "time":
                x = x.transpose(..., "time")
            self.da = x
            data = x.data
        else:
            data = x
        if isinstance(data, u.Quantity):
            self.unit = u.get_unit(data)
            data = magnitude(data)
        arr = jnp.asarray(data)
        if not jnp.issubdtype(arr.dtype, jnp.inexact):
            arr = arr.astype(jnp.result_type(float))
        if jnp.iscomplexobj(arr) and not allow_complex:
            raise TypeError("x is complex; pass a real signal (time, regions).")
        self.one_d = arr.ndim == 1
        self.x = arr[:, None] if self.one_d else arr
        if self.x.ndim < 2:
            raise ValueError("x must be shaped (time, regions) with optional batch axes; got a scalar.")

    # -- wrapping results ------------------------------------------------------------------
    def _unit(self, y, keep_unit):
        if keep_unit and self.unit is not None and not self.unit.is_unitless:
            return u.Quantity(y, unit=self.unit)
        return y

    def signal(self, y, keep_unit: bool = True, time=None):
        """Wrap a result shaped like the input (..., time, regions)."""
        if self.one_d:
            y = y[..., 0]
        if self.da is not None:
            return self._dataarray_like(y, keep_unit, time)
        return self._unit(y, keep_unit)

    def _dataarray_like(self, y, keep_unit, time=None):
        import xarray as xr
        da = self.da
        coords = {k: c for k, c in da.coords.items() if k != "time" or time is None}
        if time is not None:
            coords["time"] = np.asarray(time)
        data = np.asarray(y)
        attrs = dict(da.attrs)
        if keep_unit and self.unit is not None and not self.unit.is_unitless:
            attrs["units"] = str(self.unit)
        return xr.DataArray(data, dims=da.dims, coords=coords, attrs=attrs, name=da.name)

    def time_series(self, y):
        """Wrap a per-time result (..., time) (e.g. an order parameter)."""
        if self.da is not None:
            import xarray as xr
            dims = self.da.dims[:-1] if "regions" in self.da.dims else self.da.dims
            coords = {k: c for k, c in self.da.coords.items()
                      if set(c.dims) <= set(dims)}
            return xr.DataArray(np.asarray(y), dims=dims, coords=coords)
        return y

    def matrix(self, m):
        """Wrap a region-by-region result (..., regions, regions)."""
        if self.da is not None:
            import xarray as xr
            batch = [d for d in self.da.dims if d not in ("time", "regions")]
            dims = tuple(batch) + ("regions_i", "regions_j")
            coords = {k: c for k, c in self.da.coords.items() if set(c.dims) <= set(batch)}
            if "regions" in self.da.coords:
                labels = np.asarray(self.da.coords["regions"].values)
                coords["regions_i"] = labels
                coords["regions_j"] = labels
            return xr.DataArray(np.asarray(m), dims=dims, coords=coords)
        return m

    def per_region(self, v, dim: str, coord=None, keep_unit: bool = False):
        """Wrap a result (..., K, regions) whose axis -2 is ``dim`` (e.g. 'frequency')."""
        if self.one_d:
            v = v[..., 0]
        if self.da is not None:
            import xarray as xr
            dims = tuple(d if d != "time" else dim for d in self.da.dims)
            coords = {k: c for k, c in self.da.coords.items() if "time" not in c.dims}
            if coord is not None:
                coords[dim] = np.asarray(coord)
            return xr.DataArray(np.asarray(v), dims=dims, coords=coords)
        return self._unit(v, keep_unit)


def unwrap(x: Any, allow_complex: bool = False) -> Unwrapped:
    """Take a plain array out of ``x`` (array, Quantity or DataArray); 1-D becomes (time, 1)."""
    return Unwrapped(x, allow_complex=allow_complex)


def plain(x: Any):
    """Magnitude of a Quantity / values of a DataArray, as a JAX array (no reshaping)."""
    if _is_dataarray(x):
        if "time" in x.dims and "regions" in x.dims:
            x = x.transpose(..., "time", "regions")
        x = x.data
    return jnp.asarray(magnitude(x))


# -- safe maths (finite values *and* finite gradients at the singular points) ----------------

def safe_abs(z):
    """``|z|`` of a complex array whose gradient is finite (zero) where ``z == 0``."""
    r2 = jnp.real(z) ** 2 + jnp.imag(z) ** 2
    pos = r2 > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, r2, 1.0)), 0.0)


def safe_div(a, b):
    """``a / b`` with ``0`` (and a zero gradient) where ``b == 0``."""
    nz = b != 0
    return jnp.where(nz, a / jnp.where(nz, b, 1.0), 0.0)


def pearson(a, b, axis: int = -1, xp=jnp):
    """Pearson correlation of ``a`` and ``b`` along ``axis`` (broadcasting other axes): the one
    Pearson r of the library (FC scores, fits, inference diagnostics, lead-field registration).

    .. math:: r = \\frac{\\sum (a-\\bar a)(b-\\bar b)}{\\sqrt{\\sum (a-\\bar a)^2 \\sum (b-\\bar b)^2}}

    Constant inputs give ``0`` (not NaN) with a finite gradient. ``xp=numpy`` computes it in NumPy
    (float64, outside JAX) for reports and diagnostics; the default is :mod:`jax.numpy`.
    """
    a = a - xp.mean(a, axis=axis, keepdims=True)
    b = b - xp.mean(b, axis=axis, keepdims=True)
    num = xp.sum(a * b, axis=axis)
    den2 = xp.sum(a * a, axis=axis) * xp.sum(b * b, axis=axis)
    pos = den2 > 0
    return xp.where(pos, num / xp.sqrt(xp.where(pos, den2, 1.0)), 0.0)
