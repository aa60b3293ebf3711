r"""Functional connectivity: Pearson FC, envelope FC and orthogonalized envelope correlation.

All functions take ``(time, regions)`` arrays with optional leading batch axes and return
``(..., regions, regions)`` matrices; they are differentiable with :func:`jax.grad`.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..typing import Array
from ._utils import pearson, safe_abs, safe_div, unwrap
from .signal import _hilbert_t, _sos_padlen, _sosfiltfilt_tc, band_envelope, bandpass, butter
from .signal import zscore as _zscore

__all__ = ["functional_connectivity", "envelope_fc", "orthogonalized_fc",
           "orthogonalized_envelope_correlation", "upper_triangle"]


def upper_triangle(m: Array, k: int = 1) -> Array:
    """Entries above the ``k``-th diagonal of the last two axes, shape ``(..., n_pairs)``.

    Row-major order, as ``m[np.triu_indices(N, k)]``.
    """
    m = jnp.asarray(m)
    n = m.shape[-1]
    if m.ndim < 2 or m.shape[-2] != n:
        raise ValueError(f"expected square matrices (..., N, N); got shape {m.shape}.")
    i, j = np.triu_indices(n, k)
    return m[..., i, j]


def _corrmat(x):
    """Pearson correlation matrix of the columns of ``x`` (..., T, N); constant columns give 0,
    columns with a NaN sample give NaN rows and columns (as NumPy)."""
    xc = x - jnp.mean(x, axis=-2, keepdims=True)
    cov = jnp.einsum("...ti,...tj->...ij", xc, xc)
    var = jnp.sum(xc * xc, axis=-2)
    den2 = var[..., :, None] * var[..., None, :]
    # a NaN sample makes den2 NaN: keep it (NaN > 0 is False and used to give a silent 0)
    use = (den2 > 0) | jnp.isnan(den2)
    return jnp.where(use, cov / jnp.sqrt(jnp.where(use, den2, 1.0)), 0.0)


def _check_orientation(x, allow_few_samples: bool, fn: str):
    T, N = (x.shape[-2], x.shape[-1]) if x.ndim >= 2 else (x.shape[0], 1)
    if T < N and not allow_few_samples:
        raise ValueError(
            f"{fn}: x has {T} samples (axis -2, time) of {N} regions (axis -1): fewer samples than "
            f"regions, which usually means a (regions, time) array. Pass x.T for (time, regions); "
            f"if it really is a short (time, regions) recording, pass allow_few_samples=True.")


def _zero_diag(m):
    n = m.shape[-1]
    return jnp.where(jnp.eye(n, dtype=bool), 0.0, m)


def functional_connectivity(x: Array, zero_diagonal: bool = False, allow_few_samples: bool = False) -> Array:
    r"""Pearson functional connectivity between regions.

    .. math:: FC_{ij} = \frac{\sum_t (x_{ti}-\bar x_i)(x_{tj}-\bar x_j)}
              {\sqrt{\sum_t (x_{ti}-\bar x_i)^2 \sum_t (x_{tj}-\bar x_j)^2}}

    Same as ``numpy.corrcoef(x.T)`` except that a constant region correlates 0 with everything
    (NumPy gives NaN), which keeps gradients finite. A region with a NaN sample gives a NaN
    row and column (diagonal included), as in NumPy — never a silent 0.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    zero_diagonal : bool
        Set the diagonal (self-correlation, 1) to 0.
    allow_few_samples : bool
        Accept fewer samples than regions. By default that raises ``ValueError``: it is almost
        always a (regions, time) array, whose "FC" would be a (time × time) matrix.

    Returns
    -------
    array (..., regions, regions); a DataArray with dims ('regions_i', 'regions_j') for
    DataArray input.

    References
    ----------
    K. J. Friston, "Functional and effective connectivity: a review", Brain Connect. 1 (2011) 13–36.
    """
    w = unwrap(x)
    _check_orientation(w.x, allow_few_samples, "functional_connectivity")
    m = _corrmat(w.x)
    if zero_diagonal:
        m = _zero_diag(m)
    return w.matrix(m)


def envelope_fc(x: Array, fs: Array | None = None, band: Sequence[float] | None = None,
                low_pass: float | None = None, order: int = 3, zero_diagonal: bool = False) -> Array:
    """Pearson FC of amplitude envelopes (amplitude-envelope correlation, AEC).

    ``x -> band-pass(band) -> |hilbert| -> low-pass(low_pass) -> functional_connectivity``.
    Unlike :func:`orthogonalized_fc` this is inflated by zero-lag leakage (volume conduction / field
    spread): two sensors seeing the same source correlate near 1.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    fs : float or Quantity
        Sampling rate in Hz (needed when ``band`` or ``low_pass`` is given).
    band : (low, high), optional
        Band-pass edges in Hz; omit for an already band-limited signal.
    low_pass : float, optional
        Low-pass cut-off for the envelopes in Hz.
    order : int
        Butterworth order of both filters.
    """
    w = unwrap(x)
    m = _corrmat(unwrap(band_envelope(w.x, fs, band, low_pass, order)).x)
    if zero_diagonal:
        m = _zero_diag(m)
    return w.matrix(m)


def _orth_core(z, sos, padlen, block_size, symmetric, unroll=1):
    """Orthogonalized envelope correlation of an analytic signal ``z`` (T, N)."""
    T, N = z.shape
    env = safe_abs(z)
    phasor = safe_div(jnp.conj(z), env)  # conj(z_j) / |z_j|

    if sos is not None:
        def smooth(a):
            return _sosfiltfilt_tc(sos, a, padlen, "odd", unroll=unroll)
    else:
        def smooth(a):
            return a
    env_f = smooth(env)

    def row(i):
        # leakage-free part of region i relative to every j: Im(z_i conj(z_j)/|z_j|)
        orth = jnp.abs(jnp.imag(z[:, i][:, None] * phasor))          # (T, N)
        return pearson(smooth(orth), env_f, axis=0)                 # (N,): r(orth_{i|j}, env_j)

    B = int(min(block_size, N))
    n_blocks = -(-N // B)
    # pad the row index to whole blocks (extra rows repeat the last one and are dropped) so the
    # filter is compiled once, not once more for a remainder block
    idx = jnp.minimum(jnp.arange(n_blocks * B), N - 1).reshape(n_blocks, B)
    m = jax.lax.map(jax.vmap(row), idx).reshape(n_blocks * B, N)[:N]   # m[i, j]
    if symmetric:
        m = 0.5 * (m + m.T)
    return _zero_diag(m)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _orth_batched(flat, sos, padlen, block_size, symmetric, unroll):
    sos = None if sos is None else np.asarray(sos)
    return jax.vmap(lambda a: _orth_core(a, sos, padlen, block_size, symmetric, unroll))(flat)


def _default_block(T, N, itemsize):
    budget = 256 * 2**20  # bytes for the (T, block, N) temporaries
    return int(max(1, min(N, budget // max(1, 6 * T * N * itemsize))))


def orthogonalized_envelope_correlation(z: Array, fs: Array | None = None, low_pass: float | None = None,
                                        order: int = 3, symmetric: bool = True,
                                        block_size: int | None = None) -> Array:
    r"""Orthogonalized amplitude-envelope correlation of an analytic signal.

    For every ordered pair :math:`(i, j)` the part of :math:`z_i` that is not in phase with
    :math:`z_j` is kept,

    .. math:: y_{i\perp j}(t) = \operatorname{Im}\!\left(z_i(t)\,\frac{z_j^*(t)}{|z_j(t)|}\right),
              \qquad C_{ij} = \operatorname{corr}_t\big(|y_{i\perp j}|,\ |z_j|\big),

    both envelopes optionally low-passed; ``symmetric=True`` returns :math:`(C + C^T)/2`
    (both directions averaged) and the diagonal is 0. Zero-lag (instantaneous) mixing only adds a
    real multiple of :math:`z_j` to :math:`z_i` and therefore leaves :math:`y_{i\perp j}` unchanged.

    All pairs are computed at once: rows are evaluated in vectorized blocks of ``block_size``
    regions (memory ``~ T * block_size * N``), no Python loop over regions.

    Parameters
    ----------
    z : complex array (..., time, regions)
        Analytic signal (e.g. :func:`neuralmass.analysis.hilbert` of a band-passed signal).
    fs : float or Quantity
        Sampling rate in Hz (only needed for ``low_pass``).
    low_pass : float, optional
        Low-pass cut-off (Hz) applied to both envelopes before correlating.
    order : int
        Butterworth order of the low-pass.
    symmetric : bool
        Average both directions (default); ``False`` returns :math:`C_{ij}` with ``i`` the
        orthogonalized region.
    block_size : int, optional
        Rows per vectorized block; chosen from a ~256 MB budget when omitted.

    References
    ----------
    J. F. Hipp, D. J. Hawellek, M. Corbetta, M. Siegel, A. K. Engel, "Large-scale cortical
    correlation structure of spontaneous oscillatory activity", Nat. Neurosci. 15 (2012) 884–890.
    """
    w = unwrap(z, allow_complex=True)
    zz = w.x
    if not jnp.iscomplexobj(zz):
        raise TypeError("z must be the complex analytic signal; use orthogonalized_fc for a real "
                        "signal (it applies the band-pass and Hilbert transform).")
    T, N = zz.shape[-2:]
    sos, padlen = None, 0
    if low_pass is not None:
        sos = butter(order, low_pass, fs, btype="low", output="sos")
        padlen = _sos_padlen(sos)
        if T <= padlen:
            raise ValueError(f"z has {T} samples; the low-pass needs more than {padlen}.")
    if block_size is None:
        block_size = _default_block(T, N, jnp.zeros((), zz.real.dtype).dtype.itemsize)
    batch = zz.shape[:-2]
    flat = zz.reshape((-1, T, N))
    sos_key = None if sos is None else tuple(tuple(float(v) for v in r) for r in sos)
    # unrolling the filter recursion speeds long signals up ~1.5x but triples compile time
    unroll = 4 if T * N * N >= 2**25 else 1
    out = _orth_batched(flat, sos_key, int(padlen), int(block_size), bool(symmetric), unroll)
    return w.matrix(out.reshape(batch + (N, N)))


def orthogonalized_fc(x: Array, fs: Array | None = None, band: Sequence[float] | None = None,
                      low_pass: float | None = None, order: int = 3, zscore: bool = True,
                      symmetric: bool = True, block_size: int | None = None) -> Array:
    """Orthogonalized amplitude-envelope FC of a real signal (Hipp et al. 2012).

    The pipeline of the resting-state MEG example, for all region pairs at once:
    z-score each region → band-pass ``band`` → analytic signal → orthogonalize every region with
    respect to every other → envelopes → optional low-pass ``low_pass`` → Pearson correlation,
    both directions averaged, zero diagonal. See :func:`orthogonalized_envelope_correlation` for
    the equations.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
        Real signal; a complex input is taken as the analytic signal already.
    fs : float or Quantity
        Sampling rate in Hz (needed for ``band`` / ``low_pass``).
    band : (low, high), optional
        Band-pass in Hz (e.g. ``(8, 12)`` for alpha). Omit for a band-limited input.
    low_pass : float, optional
        Envelope low-pass in Hz (the example uses 2–4 Hz).
    order : int
        Butterworth order (3 as in the example).
    zscore : bool
        Z-score each region first (does not change correlations of a linear pipeline, but keeps
        the numbers well scaled).
    symmetric, block_size
        See :func:`orthogonalized_envelope_correlation`.

    Examples
    --------
    >>> import numpy as np
    >>> from neuralmass.analysis import orthogonalized_fc
    >>> x = np.random.default_rng(0).standard_normal((3000, 4))
    >>> orthogonalized_fc(x, fs=100.0, band=(8, 12), low_pass=2.0).shape
    (4, 4)
    """
    w = unwrap(x, allow_complex=True)
    y = w.x
    if not jnp.iscomplexobj(y):
        if zscore:
            y = _zscore(y)
        if band is not None:
            y = bandpass(y, band[0], band[1], fs, order)
        y = _hilbert_t(y, -2)
    m = orthogonalized_envelope_correlation(y, fs=fs, low_pass=low_pass, order=order,
                                            symmetric=symmetric, block_size=block_size)
    return w.matrix(m)
