r"""Power spectral density (Welch) and peak frequency, differentiable in JAX.

Welch's estimate averages modified periodograms of overlapping, windowed segments:

.. math:: \hat P(f_k) = \frac{1}{K}\sum_{m=1}^{K}
          \frac{c_k\,\big|\sum_n w[n]\,(x_m[n]-\bar x_m)\,e^{-2\pi i k n / L}\big|^2}{f_s \sum_n w[n]^2}

with :math:`c_k = 2` for the one-sided bins other than DC and Nyquist (density scaling). Defaults
are those of :func:`scipy.signal.welch`: Hann window (periodic), ``nperseg=256`` (or the signal
length if shorter), 50 % overlap, constant detrending, one-sided density, mean averaging.

References
----------
P. D. Welch, "The use of fast Fourier transform for the estimation of power spectra", IEEE Trans.
Audio Electroacoust. 15 (1967) 70–73.
"""

from __future__ import annotations


import jax.numpy as jnp
import numpy as np
import scipy.signal as sps

from ..typing import Array
from ._utils import sampling_rate, unwrap

__all__ = ["welch", "peak_frequency"]


def _median_bias(n):
    # bias of the median of chi^2_2 periodogram values, as in SciPy
    ii = np.arange(1, (n - 1) // 2 + 1)
    return 1 + np.sum(1.0 / (2 * ii + 1) - 1.0 / (2 * ii))


def _welch_t(x, fs, window="hann", nperseg=None, noverlap=None, nfft=None, detrend="constant",
             scaling="density", average="mean"):
    """Welch PSD of ``x`` (..., T, N) along axis -2; returns (freqs (F,), psd (..., F, N))."""
    T = x.shape[-2]
    if nperseg is None:
        nperseg = min(256, T)
    nperseg = int(nperseg)
    if nperseg < 1 or nperseg > T:
        raise ValueError(f"nperseg={nperseg} must be between 1 and the signal length {T}.")
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    if not 0 <= noverlap < nperseg:
        raise ValueError(f"noverlap={noverlap} must satisfy 0 <= noverlap < nperseg={nperseg}.")
    nfft = nperseg if nfft is None else int(nfft)
    if nfft < nperseg:
        raise ValueError(f"nfft={nfft} must be >= nperseg={nperseg}.")
    win = (np.asarray(window, dtype=float) if not isinstance(window, (str, tuple))
           else sps.get_window(window, nperseg))
    if win.shape != (nperseg,):
        raise ValueError(f"window has length {win.shape}, expected nperseg={nperseg}.")
    step = nperseg - noverlap
    starts = np.arange(0, T - nperseg + 1, step)
    idx = starts[:, None] + np.arange(nperseg)[None, :]
    seg = x[..., idx, :]                                    # (..., K, nperseg, N)
    if detrend == "constant":
        seg = seg - jnp.mean(seg, axis=-2, keepdims=True)
    elif detrend == "linear":
        t = np.arange(nperseg, dtype=float)
        basis = np.stack([np.ones(nperseg), t - t.mean()])
        basis = basis / np.linalg.norm(basis, axis=1, keepdims=True)
        B = jnp.asarray(basis, dtype=seg.dtype)
        coef = jnp.einsum("bt,...tn->...bn", B, seg)
        seg = seg - jnp.einsum("bt,...bn->...tn", B, coef)
    elif detrend not in (False, None):
        raise ValueError(f"detrend={detrend!r} must be 'constant', 'linear' or False.")
    seg = seg * jnp.asarray(win, dtype=seg.dtype)[:, None]
    spec = jnp.fft.rfft(seg, n=nfft, axis=-2)
    p = jnp.real(spec) ** 2 + jnp.imag(spec) ** 2
    if scaling == "density":
        scale = 1.0 / (fs * np.sum(win ** 2))
    elif scaling == "spectrum":
        scale = 1.0 / np.sum(win) ** 2
    else:
        raise ValueError(f"scaling={scaling!r} must be 'density' or 'spectrum'.")
    c = np.full(nfft // 2 + 1, 2.0)
    c[0] = 1.0
    if nfft % 2 == 0:
        c[-1] = 1.0
    p = p * jnp.asarray(c * scale, dtype=p.dtype)[:, None]
    if average == "mean":
        psd = jnp.mean(p, axis=-3)
    elif average == "median":
        psd = jnp.median(p, axis=-3) / _median_bias(p.shape[-3])
    else:
        raise ValueError(f"average={average!r} must be 'mean' or 'median'.")
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs)
    return freqs, psd


def welch(x: Array, fs: Array, window="hann", nperseg: int | None = None, noverlap: int | None = None,
          nfft: int | None = None, detrend="constant", scaling: str = "density",
          average: str = "mean") -> tuple[Array, Array]:
    """Welch power spectral density of every region (JAX; matches :func:`scipy.signal.welch`).

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    fs : float or Quantity
        Sampling rate in Hz.
    window : str, tuple or array
        Window (any :func:`scipy.signal.get_window` spec, periodic), default Hann.
    nperseg, noverlap, nfft : int, optional
        Segment length (default ``min(256, T)``), overlap (default ``nperseg // 2``), FFT length.
    detrend : {'constant', 'linear', False}
    scaling : {'density', 'spectrum'}
        Density in ``unit**2 / Hz`` or power spectrum in ``unit**2``.
    average : {'mean', 'median'}

    Returns
    -------
    freqs : numpy.ndarray (F,)
        Frequencies in Hz.
    psd : array (..., F, regions)
        A DataArray with dims ('frequency', 'regions') for DataArray input.
    """
    fs = sampling_rate(fs)
    w = unwrap(x)
    freqs, psd = _welch_t(w.x, fs, window, nperseg, noverlap, nfft, detrend, scaling, average)
    return freqs, w.per_region(psd, "frequency", freqs)


def _peak_from_psd(freqs, psd, fmin=None, fmax=None):
    freqs = np.asarray(freqs)
    mask = np.ones(freqs.shape, bool)
    if fmin is not None:
        mask &= freqs >= fmin
    if fmax is not None:
        mask &= freqs <= fmax
    if not mask.any():
        raise ValueError(f"no frequency bin lies in [fmin, fmax] = [{fmin}, {fmax}] Hz.")
    sel = np.nonzero(mask)[0]
    k = jnp.argmax(psd[..., sel, :], axis=-2)
    return jnp.asarray(freqs[sel])[k]


def peak_frequency(x: Array, fs: Array, fmin: float | None = None, fmax: float | None = None,
                   **welch_kwargs) -> Array:
    """Frequency (Hz) of the largest Welch PSD bin of each region within ``[fmin, fmax]``.

    The result changes in steps of the frequency resolution ``fs / nperseg``; it has no useful
    gradient (use :func:`neuralmass.objectives.psd_distance` to fit spectra).

    Returns
    -------
    array (..., regions)
    """
    fs = sampling_rate(fs)
    w = unwrap(x)
    freqs, psd = _welch_t(w.x, fs, **welch_kwargs)
    pk = _peak_from_psd(freqs, psd, fmin, fmax)
    if w.one_d:
        pk = pk[..., 0]
    if w.da is not None and "regions" in w.da.dims:
        import xarray as xr
        dims = tuple(d for d in w.da.dims if d != "time")
        coords = {k: c for k, c in w.da.coords.items() if "time" not in c.dims}
        return xr.DataArray(np.asarray(pk), dims=dims, coords=coords, name="peak_frequency")
    return pk
