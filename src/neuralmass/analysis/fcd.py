r"""Functional connectivity dynamics (FCD): sliding-window FC and its window-by-window similarity.

.. math:: FCD_{ab} = \operatorname{corr}\big(\operatorname{triu}FC^{(a)},\ \operatorname{triu}FC^{(b)}\big)

where :math:`FC^{(a)}` is the Pearson FC in window :math:`a`. A stationary process gives uniformly
high FCD values; a process switching between connectivity states gives a block structure with low
between-state values, so the distribution of FCD values is broad or bimodal (Hansen et al. 2015).

References
----------
E. C. A. Hansen, D. Battaglia, A. Spiegler, G. Deco, V. K. Jirsa, "Functional connectivity dynamics:
modeling the switching behavior of the resting state", NeuroImage 105 (2015) 525–535.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from ..typing import Array
from ._utils import samples, unwrap
from .fc import _corrmat, upper_triangle

__all__ = ["MIN_WINDOW", "window_in_samples", "window_starts", "sliding_window_fc", "fcd", "fcd_values"]

#: fewest samples in an FCD window: a correlation of 2 samples is always +-1
MIN_WINDOW = 3


def window_in_samples(window_ms: float, step_ms: float | None, interval_ms: float) -> tuple[int, int]:
    """An FCD window and hop given in ms, as whole samples of a signal sampled every ``interval_ms``.

    The window is rounded to the nearest sample count and must hold at least :data:`MIN_WINDOW`
    samples; the hop defaults to half the window and is at least one sample.

    Raises
    ------
    ValueError
        When the window holds fewer than :data:`MIN_WINDOW` samples (the message names the shortest
        window that works).
    """
    w = int(round(float(window_ms) / float(interval_ms)))
    if w < MIN_WINDOW:
        raise ValueError(f"an FCD window of {float(window_ms):g} ms is {w} samples at {float(interval_ms):g} ms "
                         f"per sample; a window needs at least {MIN_WINDOW} samples "
                         f"({MIN_WINDOW * float(interval_ms):g} ms).")
    s = max(1, int(round((float(step_ms) if step_ms is not None else float(window_ms) / 2) / float(interval_ms))))
    return w, s


def window_starts(n_time: int, window: int, step: int) -> np.ndarray:
    """First sample of each full window: ``0, step, 2*step, ...`` while the window fits."""
    if window > n_time:
        raise ValueError(f"window={window} samples is longer than the signal ({n_time} samples).")
    return np.arange(0, n_time - window + 1, step)


def _windows(x, window, step):
    starts = window_starts(x.shape[-2], window, step)
    idx = starts[:, None] + np.arange(window)[None, :]       # (W, window)
    return x[..., idx, :], starts                            # (..., W, window, N)


def _resolve(window, step, fs):
    window = samples(window, "window", fs)
    step = max(1, window // 2) if step is None else samples(step, "step", fs)
    if window < MIN_WINDOW:
        raise ValueError(f"window={window} samples is too short for a correlation; use >= {MIN_WINDOW}.")
    return window, step


def _window_times(w, starts, window, fs):
    if w.da is not None and "time" in w.da.coords:
        t = np.asarray(w.da.coords["time"].values, dtype=float)
        return t[starts + window // 2]
    if fs is not None:
        from ._utils import sampling_rate
        return (starts + window / 2) / sampling_rate(fs)
    return starts + window // 2


def _row_corr(v):
    """Correlation matrix between the rows of ``v`` (..., W, P) via one matrix product."""
    vc = v - jnp.mean(v, axis=-1, keepdims=True)
    n2 = jnp.sum(vc * vc, axis=-1, keepdims=True)
    pos = n2 > 0
    vn = jnp.where(pos, vc / jnp.sqrt(jnp.where(pos, n2, 1.0)), 0.0)
    return jnp.einsum("...ap,...bp->...ab", vn, vn)


def sliding_window_fc(x: Array, window: Any, step: Any = None, fs: Array | None = None) -> Array:
    """Pearson FC in sliding windows.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    window : int or Quantity
        Window length in samples, or a brainunit time (then ``fs`` is needed).
    step : int or Quantity, optional
        Hop between window starts; ``window // 2`` by default.
    fs : float or Quantity, optional
        Sampling rate in Hz, used to convert times to samples.

    Returns
    -------
    array (..., n_windows, regions, regions)
    """
    w = unwrap(x)
    window, step = _resolve(window, step, fs)
    xs, starts = _windows(w.x, window, step)
    m = _corrmat(xs)
    if w.da is not None:
        import xarray as xr
        labels = (np.asarray(w.da.coords["regions"].values) if "regions" in w.da.coords
                  else np.arange(m.shape[-1]))
        batch = tuple(d for d in w.da.dims if d not in ("time", "regions"))
        return xr.DataArray(np.asarray(m), dims=batch + ("window", "regions_i", "regions_j"),
                            coords={"window": _window_times(w, starts, window, fs),
                                    "regions_i": labels, "regions_j": labels})
    return m


def fcd(x: Array, window: Any, step: Any = None, fs: Array | None = None) -> Array:
    """FCD matrix: correlation between the upper triangles of sliding-window FC matrices.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
    window, step, fs
        See :func:`sliding_window_fc`. Windows of 30–60 s with a few seconds of hop are usual for
        BOLD (Hansen et al. 2015); any length with enough samples works for faster signals.

    Returns
    -------
    array (..., n_windows, n_windows), symmetric with unit diagonal; a DataArray with dims
    ('window_i', 'window_j') and window-centre times for DataArray input.
    """
    w = unwrap(x)
    window, step = _resolve(window, step, fs)
    xs, starts = _windows(w.x, window, step)
    v = upper_triangle(_corrmat(xs), 1)                       # (..., W, P)
    m = _row_corr(v)
    if w.da is not None:
        import xarray as xr
        t = _window_times(w, starts, window, fs)
        batch = tuple(d for d in w.da.dims if d not in ("time", "regions"))
        return xr.DataArray(np.asarray(m), dims=batch + ("window_i", "window_j"),
                            coords={"window_i": t, "window_j": t})
    return m


def fcd_values(fcd_matrix: Array, offset: int = 1) -> Array:
    """FCD values above the ``offset``-th diagonal (``(..., n_values)``), the sample whose
    distribution is compared between model and data (e.g. by a KS distance).

    Use ``offset = ceil(window / step)`` to leave out pairs of overlapping windows, whose FCs are
    correlated by construction.
    """
    m = jnp.asarray(fcd_matrix.values if hasattr(fcd_matrix, "dims") else fcd_matrix)
    if offset >= m.shape[-1]:
        raise ValueError(f"offset={offset} leaves no FCD values for {m.shape[-1]} windows; "
                         f"use a longer signal, a smaller step or a smaller offset.")
    return upper_triangle(m, offset)
