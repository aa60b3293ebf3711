r"""Differentiable signal processing on ``(time, regions)`` arrays.

Zero-phase Butterworth filters, the Hilbert analytic signal and its envelope, FFT resampling and
z-scoring, written in JAX so that ``jax.grad`` flows through them. Filter *design* (the
coefficients) uses :func:`scipy.signal.butter` on concrete numbers, outside the gradient path;
filter *application* is a JAX recursion (:func:`jax.lax.scan`).

Conventions
-----------
* Arrays are shaped ``(time, regions)`` with optional leading batch axes; the time axis is ``-2``.
  A 1-D array is one region.
* ``fs`` is the sampling rate in Hz (a number or a brainunit Quantity such as ``100 * u.Hz``).
* Brainunit quantities keep their unit through linear operations (filters, Hilbert transform,
  envelope, resampling); :func:`zscore` returns a dimensionless array.
* An :class:`xarray.DataArray` with dims ``('time', 'regions')`` comes back as a DataArray with the
  same labels (new time coordinates after resampling).

Zero-phase filtering reproduces :func:`scipy.signal.filtfilt` / :func:`scipy.signal.sosfiltfilt`:
the signal is extended at both ends by an odd reflection of ``padlen = 3 * max(len(a), len(b))``
samples, filtered forward with the steady-state initial conditions of :func:`scipy.signal.lfilter_zi`
scaled by the first sample, then backward the same way, and the extension is cut off
(Gustafsson 1996; the scheme of SciPy). The Butterworth helpers apply the filter as a cascade of
second-order sections, which is numerically robust for narrow bands and low cut-offs; the result is
the same filter as the transfer-function form.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal as sps

from ..typing import Array
from ._utils import safe_abs, sampling_rate, unwrap

__all__ = [
    "butter", "lfilter", "filtfilt", "sosfilt", "sosfiltfilt",
    "bandpass", "lowpass", "highpass", "hilbert", "envelope", "band_envelope",
    "resample", "zscore",
]


# ---------------------------------------------------------------------------------------------
# filter design (SciPy, concrete numbers only)
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _butter_cached(order, wn, btype, output):
    return sps.butter(order, wn, btype=btype, output=output)


def butter(order: int, cutoff: float | Sequence[float], fs: Array, btype: str = "low",
           output: str = "sos"):
    """Butterworth filter coefficients (SciPy design; not traced).

    Parameters
    ----------
    order : int
        Filter order (a band-pass of order ``n`` has ``2n`` poles, as in SciPy).
    cutoff : float or (float, float)
        Cut-off frequency in Hz, or ``(low, high)`` for ``btype='band'`` / ``'bandstop'``.
    fs : float or Quantity
        Sampling rate in Hz.
    btype : {'low', 'high', 'band', 'bandstop'}
    output : {'sos', 'ba'}

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        ``sos`` of shape (n_sections, 6) or ``(b, a)``.
    """
    fs = sampling_rate(fs)
    nyq = 0.5 * fs
    if int(order) != order or order < 1:
        raise ValueError(f"order={order!r} must be a positive integer.")
    cut = np.atleast_1d(np.asarray(cutoff, dtype=float))
    if btype in ("band", "bandpass", "bandstop"):
        if cut.shape != (2,) or not cut[0] < cut[1]:
            raise ValueError(f"cutoff={cutoff!r} must be (low, high) in Hz with low < high for a "
                             f"{btype} filter.")
    elif cut.shape != (1,):
        raise ValueError(f"cutoff={cutoff!r} must be a single frequency in Hz for btype={btype!r}.")
    if np.any(cut <= 0) or np.any(cut >= nyq):
        raise ValueError(f"cutoff={cutoff!r} Hz must lie strictly between 0 and the Nyquist "
                         f"frequency fs/2 = {nyq} Hz.")
    wn = tuple(float(c) / nyq for c in cut)
    return _butter_cached(int(order), wn if len(wn) > 1 else wn[0], btype, output)


# ---------------------------------------------------------------------------------------------
# recursive filters in JAX (time-leading, channels flattened)
# ---------------------------------------------------------------------------------------------

def _as_ba(b, a):
    b = np.atleast_1d(np.asarray(b, dtype=float))
    a = np.atleast_1d(np.asarray(a, dtype=float))
    if a[0] == 0:
        raise ValueError("a[0] must be non-zero.")
    b, a = b / a[0], a / a[0]
    n = max(len(a), len(b))
    b = np.pad(b, (0, n - len(b)))
    a = np.pad(a, (0, n - len(a)))
    return b, a


def _lfilter_tc(b, a, x, z0, reverse=False, unroll=1):
    """Direct-form II transposed IIR filter along axis 0 of ``x`` (T, C); state ``z0`` (n-1, C)."""
    b = [float(v) for v in b]
    a = [float(v) for v in a]
    n = len(b) - 1
    if n == 0:
        return b[0] * x, z0

    def step(z, xk):
        yk = b[0] * xk + z[0]
        rows = [b[i + 1] * xk - a[i + 1] * yk + (z[i + 1] if i + 1 < n else 0.0) for i in range(n)]
        return jnp.stack(rows), yk

    zf, y = jax.lax.scan(step, z0, x, reverse=reverse, unroll=unroll)
    return y, zf


def _sosfilt_tc(sos, x, z0, reverse=False, unroll=1):
    """Cascade of second-order sections along axis 0 of ``x`` (T, C); state ``z0`` (S, 2, C)."""
    sos = [[float(v) / float(s[3]) for v in s] for s in np.asarray(sos, dtype=float)]

    def step(z, xk):
        out = []
        v = xk
        for s, (b0, b1, b2, _, a1, a2) in enumerate(sos):
            y = b0 * v + z[s, 0]
            out.append(jnp.stack([b1 * v - a1 * y + z[s, 1], b2 * v - a2 * y]))
            v = y
        return jnp.stack(out), v

    zf, y = jax.lax.scan(step, z0, x, reverse=reverse, unroll=unroll)
    return y, zf


def _to_tc(x, axis):
    """Move ``axis`` to the front and flatten the rest: returns (T, C) and a function undoing it."""
    x = jnp.moveaxis(x, axis, 0)
    shape = x.shape
    xt = x.reshape(shape[0], -1)

    def back(y):
        return jnp.moveaxis(y.reshape((y.shape[0],) + shape[1:]), 0, axis)

    return xt, back


def lfilter(b: Array, a: Array, x: Array, axis: int = -1, zi: Array | None = None):
    """IIR filter ``x`` along ``axis`` with coefficients ``(b, a)`` (JAX :func:`scipy.signal.lfilter`).

    Direct-form II transposed recursion

    .. math:: a_0 y[n] = \\sum_k b_k x[n-k] - \\sum_{k\\ge 1} a_k y[n-k].

    Parameters
    ----------
    b, a : array_like
        Filter coefficients (concrete numbers).
    x : array
        Input; differentiable.
    axis : int
        Axis along which to filter (SciPy's default, ``-1``).
    zi : array, optional
        Initial state, shape ``(max(len(a), len(b)) - 1,)`` + the other axes of ``x``, as in SciPy.

    Returns
    -------
    y or (y, zf)
        ``zf`` (final state) only when ``zi`` is given.
    """
    b, a = _as_ba(b, a)
    x = jnp.asarray(x)
    xt, back = _to_tc(x, axis)
    n = len(b) - 1
    if zi is None:
        z0 = jnp.zeros((n, xt.shape[1]), xt.dtype)
    else:
        z0 = jnp.moveaxis(jnp.asarray(zi), axis, 0).reshape(n, -1).astype(xt.dtype)
    y, zf = _lfilter_tc(b, a, xt, z0)
    y = back(y)
    if zi is None:
        return y
    return y, jnp.moveaxis(zf.reshape((n,) + tuple(np.delete(x.shape, axis % x.ndim))), 0, axis)


def sosfilt(sos: Array, x: Array, axis: int = -1, zi: Array | None = None):
    """Filter ``x`` along ``axis`` with second-order sections (JAX :func:`scipy.signal.sosfilt`).

    ``zi`` has shape ``(n_sections, ..., 2, ...)`` as in SciPy (the 2 at position ``axis``).
    Returns ``y`` or ``(y, zf)`` when ``zi`` is given.
    """
    sos = np.atleast_2d(np.asarray(sos, dtype=float))
    x = jnp.asarray(x)
    xt, back = _to_tc(x, axis)
    S = sos.shape[0]
    if zi is None:
        z0 = jnp.zeros((S, 2, xt.shape[1]), xt.dtype)
    else:
        zi = jnp.asarray(zi)
        z0 = jnp.moveaxis(zi, axis % x.ndim + 1, 1).reshape(S, 2, -1).astype(xt.dtype)
    y, zf = _sosfilt_tc(sos, xt, z0)
    y = back(y)
    if zi is None:
        return y
    rest = tuple(np.delete(x.shape, axis % x.ndim))
    return y, jnp.moveaxis(zf.reshape((S, 2) + rest), 1, axis % x.ndim + 1)


def _extend(xt, padlen, padtype):
    """Extend a (T, C) signal at both ends (SciPy's odd / even / constant extensions)."""
    if padlen == 0 or padtype is None:
        return xt
    left, right = xt[padlen:0:-1], xt[-2:-(padlen + 2):-1]
    if padtype == "odd":
        return jnp.concatenate([2 * xt[:1] - left, xt, 2 * xt[-1:] - right])
    if padtype == "even":
        return jnp.concatenate([left, xt, right])
    if padtype == "constant":
        return jnp.concatenate([jnp.repeat(xt[:1], padlen, 0), xt, jnp.repeat(xt[-1:], padlen, 0)])
    raise ValueError(f"padtype={padtype!r} must be 'odd', 'even', 'constant' or None.")


def _check_padlen(T, padlen, name):
    if T <= padlen:
        raise ValueError(f"x has {T} samples along the time axis; zero-phase filtering ({name}) "
                         f"needs more than padlen={padlen}. Use a longer signal, a lower order or "
                         f"pass a smaller padlen.")


def _filtfilt_tc(b, a, xt, padlen, padtype, unroll=1):
    b, a = _as_ba(b, a)
    _check_padlen(xt.shape[0], padlen, "filtfilt")
    return _filtfilt_jit(tuple(map(float, b)), tuple(map(float, a)), xt, int(padlen), padtype,
                         int(unroll))


@functools.partial(jax.jit, static_argnums=(0, 1, 3, 4, 5))
def _filtfilt_jit(b, a, xt, padlen, padtype, unroll):
    # compiled once per (coefficients, shape, dtype); inlined when called under an outer jit
    ext = _extend(xt, padlen, padtype)
    zi = np.asarray(sps.lfilter_zi(b, a)) if len(a) > 1 else np.zeros((0,))
    zi = jnp.asarray(zi, dtype=xt.dtype)[:, None]
    y, _ = _lfilter_tc(b, a, ext, zi * ext[:1], unroll=unroll)
    y, _ = _lfilter_tc(b, a, y, zi * y[-1:], reverse=True, unroll=unroll)
    if padlen > 0 and padtype is not None:
        y = y[padlen:-padlen]
    return y


def _sos_padlen(sos):
    sos = np.atleast_2d(sos)
    ntaps = 2 * sos.shape[0] + 1
    ntaps -= min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * ntaps


def _sosfiltfilt_tc(sos, xt, padlen, padtype, unroll=1):
    sos = np.atleast_2d(np.asarray(sos, dtype=float))
    _check_padlen(xt.shape[0], padlen, "sosfiltfilt")
    key = tuple(tuple(float(v) for v in row) for row in sos)
    return _sosfiltfilt_jit(key, xt, int(padlen), padtype, int(unroll))


@functools.partial(jax.jit, static_argnums=(0, 2, 3, 4))
def _sosfiltfilt_jit(sos, xt, padlen, padtype, unroll):
    sos = np.asarray(sos, dtype=float)
    ext = _extend(xt, padlen, padtype)
    zi = jnp.asarray(sps.sosfilt_zi(sos), dtype=xt.dtype)[:, :, None]  # (S, 2, 1)
    y, _ = _sosfilt_tc(sos, ext, zi * ext[:1][None], unroll=unroll)
    y, _ = _sosfilt_tc(sos, y, zi * y[-1:][None], reverse=True, unroll=unroll)
    if padlen > 0 and padtype is not None:
        y = y[padlen:-padlen]
    return y


def filtfilt(b: Array, a: Array, x: Array, axis: int = -1, padtype: str | None = "odd",
             padlen: int | None = None) -> Array:
    """Zero-phase forward–backward IIR filter (JAX :func:`scipy.signal.filtfilt`, ``method='pad'``).

    The output is ``x`` filtered twice (once forward, once backward), so the magnitude response is
    ``|H(f)|^2`` and the phase is zero. Defaults follow SciPy: odd extension of
    ``padlen = 3 * max(len(a), len(b))`` samples and :func:`scipy.signal.lfilter_zi` initial
    conditions.

    Parameters
    ----------
    b, a : array_like
        Transfer-function coefficients (concrete).
    x : array
        Signal (differentiable).
    axis : int
        Axis to filter along (SciPy's default ``-1``; analysis helpers use the time axis).
    padtype : {'odd', 'even', 'constant', None}
    padlen : int, optional

    References
    ----------
    F. Gustafsson, "Determining the initial states in forward-backward filtering", IEEE Trans.
    Signal Process. 44 (1996) 988–992.
    """
    b, a = _as_ba(b, a)
    if padlen is None:
        padlen = 3 * len(a)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    xt, back = _to_tc(x, axis)
    return back(_filtfilt_tc(b, a, xt, int(padlen), padtype))


def sosfiltfilt(sos: Array, x: Array, axis: int = -1, padtype: str | None = "odd",
                padlen: int | None = None) -> Array:
    """Zero-phase filter with second-order sections (JAX :func:`scipy.signal.sosfiltfilt`).

    Same filter as :func:`filtfilt` with the equivalent ``(b, a)``, the same default ``padlen``,
    but numerically robust for narrow bands.
    """
    sos = np.atleast_2d(np.asarray(sos, dtype=float))
    if padlen is None:
        padlen = _sos_padlen(sos)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    xt, back = _to_tc(x, axis)
    return back(_sosfiltfilt_tc(sos, xt, int(padlen), padtype))


def _zero_phase(x, fs, order, cutoff, btype, method, padlen):
    w = unwrap(x)
    xt, back = _to_tc(w.x, -2)
    if method == "sos":
        sos = butter(order, cutoff, fs, btype=btype, output="sos")
        pl = _sos_padlen(sos) if padlen is None else int(padlen)
        y = _sosfiltfilt_tc(sos, xt, pl, "odd")
    elif method == "ba":
        b, a = butter(order, cutoff, fs, btype=btype, output="ba")
        pl = 3 * max(len(a), len(b)) if padlen is None else int(padlen)
        y = _filtfilt_tc(b, a, xt, pl, "odd")
    else:
        raise ValueError(f"method={method!r} must be 'sos' (robust, default) or 'ba'.")
    return w.signal(back(y))


def bandpass(x: Array, low: float, high: float, fs: Array, order: int = 3, method: str = "sos",
             padlen: int | None = None) -> Array:
    """Zero-phase Butterworth band-pass along the time axis.

    Equivalent to ``scipy.signal.filtfilt(*butter(order, [low, high] / (fs/2), 'band'), x, axis=0)``
    (the seed pipeline's ``butter_bandpass_filter``); magnitude response
    :math:`|H(f)|^2 = 1 / (1 + ((f^2 - f_0^2)/(f\\,\\Delta f))^{2n})` with
    :math:`f_0^2 = f_{lo} f_{hi}` (prewarped), :math:`\\Delta f = f_{hi}-f_{lo}`.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    low, high : float
        Band edges in Hz.
    fs : float or Quantity
        Sampling rate in Hz.
    order : int
        Butterworth order (default 3 as in the seed pipeline).
    method : {'sos', 'ba'}
        Second-order sections (default, robust) or transfer function (bit-for-bit SciPy filtfilt
        algorithm; ill-conditioned for narrow bands at high sampling rates).
    padlen : int, optional
        Odd-extension length; SciPy's default when omitted.
    """
    return _zero_phase(x, fs, order, (low, high), "band", method, padlen)


def lowpass(x: Array, cutoff: float, fs: Array, order: int = 3, method: str = "sos",
            padlen: int | None = None) -> Array:
    """Zero-phase Butterworth low-pass along the time axis (see :func:`bandpass`).

    Forward and backward passes give the squared Butterworth magnitude
    :math:`|H(f)|^2 = 1/(1+(f/f_c)^{2n})` (``f_c`` prewarped) with zero phase.
    """
    return _zero_phase(x, fs, order, cutoff, "low", method, padlen)


def highpass(x: Array, cutoff: float, fs: Array, order: int = 3, method: str = "sos",
             padlen: int | None = None) -> Array:
    """Zero-phase Butterworth high-pass along the time axis (see :func:`bandpass`)."""
    return _zero_phase(x, fs, order, cutoff, "high", method, padlen)


# ---------------------------------------------------------------------------------------------
# analytic signal, envelope
# ---------------------------------------------------------------------------------------------

def _hilbert_t(x, axis=-2, n=None):
    """Analytic signal along ``axis`` via the FFT (the algorithm of :func:`scipy.signal.hilbert`)."""
    N = x.shape[axis] if n is None else int(n)
    Xf = jnp.fft.fft(x, n=N, axis=axis)
    h = np.zeros(N)
    if N % 2 == 0:
        h[0] = h[N // 2] = 1.0
        h[1:N // 2] = 2.0
    else:
        h[0] = 1.0
        h[1:(N + 1) // 2] = 2.0
    shape = [1] * x.ndim
    shape[axis] = N
    return jnp.fft.ifft(Xf * jnp.asarray(h.reshape(shape), dtype=Xf.real.dtype), axis=axis)


def hilbert(x: Array, n: int | None = None) -> Array:
    """Analytic signal :math:`x_a = x + i\\,\\mathcal{H}[x]` along the time axis.

    Computed as in :func:`scipy.signal.hilbert`: FFT, zero the negative frequencies, double the
    positive ones (DC and Nyquist kept once), inverse FFT. The FFT treats the signal as periodic,
    so expect edge effects over a few cycles at both ends.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
        Real signal.
    n : int, optional
        FFT length (zero-padding), as in SciPy.

    Returns
    -------
    complex array (same shape; the unit of a Quantity is kept).

    References
    ----------
    L. Marple, "Computing the discrete-time analytic signal via FFT", IEEE Trans. Signal Process.
    47 (1999) 2600–2603.
    """
    w = unwrap(x)
    return w.signal(_hilbert_t(w.x, -2, n))


def envelope(x: Array) -> Array:
    """Amplitude envelope :math:`|x_a(t)|` of the analytic signal (see :func:`hilbert`).

    The gradient is finite where the envelope vanishes.
    """
    w = unwrap(x)
    return w.signal(safe_abs(_hilbert_t(w.x, -2)))


def band_envelope(x: Array, fs: Array, band: Sequence[float] | None = None, low_pass: float | None = None,
                  order: int = 3) -> Array:
    """Envelope of a band-limited signal, optionally smoothed: the seed's MEG envelope pipeline.

    ``band-pass(band) -> |hilbert| -> low-pass(low_pass)``, each zero-phase Butterworth of ``order``.
    """
    w = unwrap(x)
    y = w.x
    if band is not None:
        y = bandpass(y, band[0], band[1], fs, order)
    env = safe_abs(_hilbert_t(y, -2))
    if low_pass is not None:
        env = lowpass(env, low_pass, fs, order)
    return w.signal(env)


# ---------------------------------------------------------------------------------------------
# resampling, z-score
# ---------------------------------------------------------------------------------------------

def _resample_t(x, num, axis=-2):
    """FFT resampling along ``axis`` (the real-input branch of :func:`scipy.signal.resample`)."""
    n_x = x.shape[axis]
    s_fac = n_x / num
    m = min(num, n_x)
    m2 = m // 2 + 1
    X = jnp.fft.rfft(x, axis=axis)
    X = jax.lax.slice_in_dim(X, 0, m2, axis=axis)
    if m % 2 == 0 and num != n_x:
        scale = np.ones(m2)
        scale[m // 2] = 2.0 if num < n_x else 0.5
        shape = [1] * x.ndim
        shape[axis] = m2
        X = X * jnp.asarray(scale.reshape(shape), dtype=X.real.dtype)
    return jnp.fft.irfft(X / s_fac, n=num, axis=axis)


def resample(x: Array, fs: Array, target_fs: Array, num: int | None = None, return_time: bool = False):
    """Resample to ``target_fs`` with the FFT method (like :func:`scipy.signal.resample`).

    The spectrum is truncated (down-sampling) or zero-padded (up-sampling), so the output is the
    band-limited periodic interpolation of the input. The number of output samples is
    ``num = floor(T * target_fs / fs)`` (the seed's rule) unless given; the exact new sample
    spacing is ``T / (num * fs)`` seconds. Being periodic, the method can ring at the two ends when
    the first and last samples differ; detrend or discard the edges if that matters. (A polyphase
    FIR resampler is not provided.)

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    fs, target_fs : float or Quantity
        Original and target sampling rates in Hz.
    num : int, optional
        Number of output samples (overrides ``target_fs``).
    return_time : bool
        Also return the new sample times in seconds (starting at 0, or at the first time coordinate
        of a DataArray).

    Returns
    -------
    y or (y, t)
    """
    fs = sampling_rate(fs)
    w = unwrap(x)
    T = w.x.shape[-2]
    if num is None:
        target_fs = sampling_rate(target_fs, "target_fs")
        num = int(np.floor(T * target_fs / fs + 1e-9))
    num = int(num)
    if num < 1:
        raise ValueError(f"resampling {T} samples from {fs} Hz gives num={num} samples; "
                         f"use a longer signal or a higher target_fs.")
    y = _resample_t(w.x, num)
    t0 = 0.0
    if w.da is not None and "time" in w.da.coords:
        t0 = float(np.asarray(w.da.coords["time"].values)[0])
        tt = np.asarray(w.da.coords["time"].values, dtype=float)
        dt_old = (tt[1] - tt[0]) if len(tt) > 1 else 1.0 / fs
    else:
        dt_old = 1.0 / fs
    t = t0 + dt_old * (T / num) * np.arange(num)
    out = w.signal(y, time=t)
    return (out, t) if return_time else out


def zscore(x: Array, ddof: int = 0) -> Array:
    """Z-score each region over time: :math:`(x - \\bar x) / s_x` (``ddof=0`` as scipy.stats.zscore).

    A constant region gives zeros. The result is dimensionless.
    """
    w = unwrap(x)
    xc = w.x - jnp.mean(w.x, axis=-2, keepdims=True)
    T = w.x.shape[-2]
    var = jnp.sum(xc * xc, axis=-2, keepdims=True) / (T - ddof)
    pos = var > 0
    z = jnp.where(pos, xc / jnp.sqrt(jnp.where(pos, var, 1.0)), 0.0)
    return w.signal(z, keep_unit=False)
