r"""Objectives that compare simulated signals with data.

Each public function is a *factory*: it takes the settings and returns a pure function
``f(sim, target) -> value`` usable under :func:`jax.jit`, :func:`jax.vmap` and :func:`jax.grad`::

    r = objectives.fc_corr()(activity, target_activity)

``sim`` and ``target`` are ``(time, regions)`` arrays (brainunit quantities and xarray DataArrays
are accepted; magnitudes are used). ``sim`` may carry leading batch axes; the value then has those
axes. Targets may be given pre-computed (``target_is_fc=True`` etc.), which also saves the work of
recomputing them at every optimisation step.

Scores and losses
-----------------
=================  ===========  =============================================================
factory            kind         value
=================  ===========  =============================================================
:func:`fc_corr`    score (↑)    Pearson r of the FC upper triangles, in [-1, 1]
:func:`fc_rmse`    loss (↓)     root-mean-square difference of the FC upper triangles
:func:`fcd_ks`     loss (↓)     Kolmogorov–Smirnov distance of FCD value distributions, [0, 1]
:func:`psd_distance` loss (↓)   RMS difference of (normalised, log) Welch spectra
=================  ===========  =============================================================

Every returned function has an attribute ``higher_is_better``. Turn a score into a loss with
:func:`as_loss` (``1 - r`` for :func:`fc_corr`), and add weighted losses with :func:`combine`::

    loss = objectives.combine({objectives.as_loss(objectives.fc_corr()): 1.0,
                               objectives.fcd_ks(window=60, step=10): 0.5})
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .analysis._utils import pearson, plain, samples, sampling_rate
from .analysis.fc import _corrmat, upper_triangle
from .analysis.fcd import fcd as _fcd
from .analysis.fcd import fcd_values
from .analysis.spectra import _welch_t

__all__ = ["fc_corr", "fc_rmse", "fcd_ks", "ks_distance", "psd_distance", "combine", "as_loss"]


def _tag(f, name, higher_is_better, doc):
    f.__name__ = name
    f.__qualname__ = name
    f.higher_is_better = higher_is_better
    f.__doc__ = doc
    return f


def _fc_of(x, fc_fn):
    x = plain(x)
    if fc_fn is None:
        return _corrmat(x)
    return plain(fc_fn(x))


def _check_square(m, name):
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"{name} has shape {m.shape}; with target_is_fc=True pass an (N, N) FC "
                         f"matrix, otherwise a (time, regions) signal.")


def _fc_pair(sim, target, fc_fn, target_is_fc, k):
    fs = _fc_of(sim, fc_fn)
    if target_is_fc:
        ft = plain(target)
        _check_square(ft, "target")
    else:
        ft = _fc_of(target, fc_fn)
    if fs.shape[-1] != ft.shape[-1]:
        raise ValueError(f"simulated FC is {fs.shape[-1]}x{fs.shape[-1]} but the target FC is "
                         f"{ft.shape[-1]}x{ft.shape[-1]}; both must cover the same regions.")
    return upper_triangle(fs, k), upper_triangle(ft, k)


def fc_corr(target_is_fc: bool = False, fc: Callable | None = None, k: int = 1):
    r"""Score: Pearson correlation between the upper triangles of simulated and target FC.

    .. math:: r = \operatorname{corr}\big(\operatorname{triu}_k FC_{sim},\
              \operatorname{triu}_k FC_{target}\big)

    Higher is better (1 = same pattern); use ``as_loss(fc_corr())`` = ``1 - r`` to minimise.

    Parameters
    ----------
    target_is_fc : bool
        ``target`` is already an (N, N) FC matrix (e.g. empirical FC loaded from disk).
    fc : callable, optional
        FC of a ``(time, regions)`` signal; default Pearson
        (:func:`neuralmass.analysis.functional_connectivity`). E.g.
        ``functools.partial(analysis.orthogonalized_fc, fs=100, band=(8, 12), low_pass=2)``.
    k : int
        Diagonal offset of the upper triangle (1 leaves out the diagonal).

    Returns
    -------
    f(sim, target) -> array of shape ``sim``'s batch axes.

    References
    ----------
    C. J. Honey et al., "Predicting human resting-state functional connectivity from structural
    connectivity", PNAS 106 (2009) 2035–2040.
    """
    @jax.jit
    def core(sim, target):
        a, b = _fc_pair(sim, target, fc, target_is_fc, k)
        return pearson(a, b, axis=-1)

    def f(sim, target):
        return core(plain(sim), plain(target))

    return _tag(f, "fc_corr", True, "Pearson r of the FC upper triangles (score, higher is better).")


def fc_rmse(target_is_fc: bool = False, fc: Callable | None = None, k: int = 1):
    r"""Loss: root-mean-square difference of the FC upper triangles.

    .. math:: \sqrt{\frac{1}{P}\sum_{i<j}\big(FC^{sim}_{ij} - FC^{target}_{ij}\big)^2}

    Unlike :func:`fc_corr` it is sensitive to the overall level of correlation. Arguments as in
    :func:`fc_corr`.
    """
    @jax.jit
    def core(sim, target):
        a, b = _fc_pair(sim, target, fc, target_is_fc, k)
        d2 = jnp.mean((a - b) ** 2, axis=-1)
        pos = d2 > 0
        return jnp.where(pos, jnp.sqrt(jnp.where(pos, d2, 1.0)), 0.0)

    def f(sim, target):
        return core(plain(sim), plain(target))

    return _tag(f, "fc_rmse", False, "RMS difference of the FC upper triangles (loss).")


# ---------------------------------------------------------------------------------------------
# Kolmogorov–Smirnov distance
# ---------------------------------------------------------------------------------------------

def _ks_exact_1d(a, b):
    """Exact two-sample KS statistic. The supremum of :math:`|F_a - F_b|` is reached at a sample
    point, so both empirical CDFs are evaluated at the points of ``a`` and of ``b`` by binary
    search in the sorted samples (``side='right'`` counts ties). Under :func:`jax.vmap` over ``a``
    with one ``b``, everything that depends on ``b`` alone (its sort, ``F_b`` at its own points)
    is computed once for all lanes."""
    a = jnp.sort(a)
    b = jnp.sort(b)
    dt = jnp.result_type(a.dtype, b.dtype)
    na, nb = a.shape[0], b.shape[0]

    def cdf(sorted_x, n, z):
        return jnp.searchsorted(sorted_x, z, side="right").astype(dt) / n

    at_a = jnp.max(jnp.abs(cdf(a, na, a) - cdf(b, nb, a)))
    at_b = jnp.max(jnp.abs(cdf(a, na, b) - cdf(b, nb, b)))
    return jnp.maximum(at_a, at_b)


def _ks_smooth_1d(a, b, bandwidth, grid):
    fa = jnp.mean(jax.nn.sigmoid((grid[:, None] - a[None, :]) / bandwidth), axis=-1)
    fb = jnp.mean(jax.nn.sigmoid((grid[:, None] - b[None, :]) / bandwidth), axis=-1)
    return jnp.max(jnp.abs(fa - fb))


def ks_distance(a, b, smooth: float | bool = False, grid=None):
    r"""Two-sample Kolmogorov–Smirnov distance :math:`D = \sup_z |F_a(z) - F_b(z)|`.

    ``smooth=False`` gives the exact statistic of :func:`scipy.stats.ks_2samp` (its gradient is
    zero almost everywhere). ``smooth=h`` replaces each empirical CDF step by a logistic sigmoid
    of width ``h`` and evaluates the supremum on ``grid`` (default 256 points spanning the data),
    which is differentiable.

    ``a`` may have leading batch axes; ``b`` is 1-D or has the same batch axes.
    """
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    if smooth is True:
        smooth = 0.02
    if smooth:
        if grid is None:
            lo = jax.lax.stop_gradient(jnp.minimum(jnp.min(a), jnp.min(b)))
            hi = jax.lax.stop_gradient(jnp.maximum(jnp.max(a), jnp.max(b)))
            pad = 4 * float(smooth)
            grid = jnp.linspace(lo - pad, hi + pad, 256)
        fn = lambda x, y: _ks_smooth_1d(x, y, float(smooth), jnp.asarray(grid))  # noqa: E731
    else:
        fn = _ks_exact_1d
    batch = a.shape[:-1]
    if not batch:
        return fn(a, b)
    a2 = a.reshape((-1, a.shape[-1]))
    if b.ndim == 1:
        out = jax.vmap(lambda x: fn(x, b))(a2)
    else:
        out = jax.vmap(fn)(a2, b.reshape((-1, b.shape[-1])))
    return out.reshape(batch)


def fcd_ks(window: Any, step: Any = None, fs: Any = None, offset: int | None = None,
           target_is_fcd: bool = False, smooth: float | bool = 0.02):
    r"""Loss: KS distance between the distributions of simulated and target FCD values.

    Both signals are turned into FCD matrices (:func:`neuralmass.analysis.fcd`) with the same
    windows; the values above the ``offset``-th diagonal are compared with
    :func:`ks_distance`. The FCD distribution captures how FC changes over time
    (Hansen et al. 2015), which static FC cannot.

    Parameters
    ----------
    window, step, fs
        Sliding windows (see :func:`neuralmass.analysis.sliding_window_fc`).
    offset : int, optional
        Leave out window pairs closer than ``offset``; default ``ceil(window / step)`` (no
        overlapping pairs).
    target_is_fcd : bool
        ``target`` is an FCD matrix (W, W), or a 1-D array of FCD values.
    smooth : float or False
        Width of the logistic CDF steps of the differentiable version (default 0.02, in units of
        correlation). ``False`` gives the exact, piecewise-constant statistic.

    References
    ----------
    E. C. A. Hansen et al., NeuroImage 105 (2015) 525–535.
    """
    w_n = samples(window, "window", fs)
    s_n = max(1, w_n // 2) if step is None else samples(step, "step", fs)
    if offset is None:
        offset = max(1, int(np.ceil(w_n / s_n)))

    grid = None
    if smooth:
        h = 0.02 if smooth is True else float(smooth)
        # FCD values are correlations: a fixed grid over [-1, 1] keeps the loss a smooth function
        grid = np.linspace(-1.0 - 4 * h, 1.0 + 4 * h, 401)

    def values_of(x):
        return fcd_values(_fcd(plain(x), window, step, fs), offset)

    @jax.jit
    def core(sim, target):
        vs = values_of(sim)
        if target_is_fcd:
            t = plain(target)
            vt = t if t.ndim == 1 else fcd_values(t, offset)
        else:
            vt = values_of(target)
        return ks_distance(vs, vt, smooth=smooth, grid=grid)

    def f(sim, target):
        return core(plain(sim), plain(target))

    return _tag(f, "fcd_ks", False, "KS distance of FCD value distributions (loss).")


# ---------------------------------------------------------------------------------------------
# spectra
# ---------------------------------------------------------------------------------------------

def psd_distance(fs: Any, fmin: float | None = None, fmax: float | None = None, log: bool = True,
                 normalize: bool = True, mean_over_regions: bool = False,
                 target_is_psd: bool = False, **welch_kwargs):
    r"""Loss: RMS difference between Welch spectra of simulation and target.

    .. math:: d = \sqrt{\operatorname{mean}_{f,j}\big(g(P^{sim}_j(f)) - g(P^{target}_j(f))\big)^2},
              \quad g(P) = \log_{10}\frac{P}{\sum_{f} P}\ \text{(defaults)}

    over the bins in ``[fmin, fmax]``. ``normalize`` divides each region's spectrum by its total
    power in the range (compares shapes, not amplitudes); ``log`` compares decibel-like values.

    Parameters
    ----------
    fs : float or Quantity
        Sampling rate (Hz) of both signals.
    fmin, fmax : float, optional
        Frequency range in Hz.
    log, normalize : bool
    mean_over_regions : bool
        Compare the region-averaged spectra (e.g. when the target is a different set of sensors).
    target_is_psd : bool
        ``target`` is a PSD ``(F, regions)`` (or ``(F,)``) on the Welch grid of the same settings.
    **welch_kwargs
        Passed to :func:`neuralmass.analysis.welch` (``nperseg``, ``noverlap``, ...).
    """
    fs = sampling_rate(fs)

    def spectrum(x):
        freqs, p = _welch_t(plain(x), fs, **welch_kwargs)
        return freqs, p

    def prep(freqs, p):
        mask = np.ones(len(freqs), bool)
        if fmin is not None:
            mask &= freqs >= fmin
        if fmax is not None:
            mask &= freqs <= fmax
        if not mask.any():
            raise ValueError(f"no Welch frequency bin lies in [{fmin}, {fmax}] Hz.")
        p = p[..., np.nonzero(mask)[0], :]
        if mean_over_regions:
            p = jnp.mean(p, axis=-1, keepdims=True)
        if normalize:
            p = p / jnp.sum(p, axis=-2, keepdims=True)
        if log:
            tiny = jnp.finfo(p.dtype).tiny
            p = jnp.log10(jnp.maximum(p, tiny))
        return p

    @jax.jit
    def core(sim, target):
        freqs, ps = spectrum(sim)
        if target_is_psd:
            pt = plain(target)
            if pt.ndim == 1:
                pt = pt[:, None]
            if pt.shape[-2] != len(freqs):
                raise ValueError(f"target PSD has {pt.shape[-2]} frequency bins but the Welch grid "
                                 f"of the simulation has {len(freqs)}; use the same fs and "
                                 f"Welch settings.")
        else:
            _, pt = spectrum(target)
        a, b = prep(freqs, ps), prep(freqs, pt)
        d2 = jnp.mean((a - b) ** 2, axis=(-2, -1))
        pos = d2 > 0
        return jnp.where(pos, jnp.sqrt(jnp.where(pos, d2, 1.0)), 0.0)

    def f(sim, target):
        return core(plain(sim), plain(target))

    return _tag(f, "psd_distance", False, "RMS difference of Welch spectra (loss).")


# ---------------------------------------------------------------------------------------------
# composition
# ---------------------------------------------------------------------------------------------

def as_loss(score: Callable, offset: float = 1.0):
    """Turn a score (higher is better) into a loss: ``offset - score(sim, target)``.

    With the default ``offset=1`` a correlation score becomes ``1 - r`` (0 at a perfect match).
    A function that is already a loss is returned unchanged.
    """
    if not getattr(score, "higher_is_better", False):
        return score

    def f(sim, target):
        return offset - score(sim, target)

    name = getattr(score, "__name__", "score")
    return _tag(f, f"as_loss({name})", False, f"{offset} - {name} (loss).")


def combine(*terms, **kwargs):
    """Weighted sum of objectives: ``f(sim, target) = sum_k w_k * f_k(sim, target)``.

    Accepts a mapping ``{fn: weight}`` or ``(fn, weight)`` pairs (a bare ``fn`` has weight 1)::

        combine({as_loss(fc_corr()): 1.0, fcd_ks(window=60): 0.5})
        combine((as_loss(fc_corr()), 1.0), (psd_distance(fs=100), 0.2))

    All terms must point the same way: mixing a score with losses raises an error (wrap the score
    in :func:`as_loss`). The result is a score if all terms are scores, otherwise a loss.
    """
    if kwargs:
        raise TypeError(f"combine() takes objectives and weights positionally, got "
                        f"{sorted(kwargs)}; pass a dict {{fn: weight}} or (fn, weight) pairs.")
    pairs = []
    for t in terms:
        if isinstance(t, Mapping):
            pairs.extend(t.items())
        elif isinstance(t, tuple) and len(t) == 2 and callable(t[0]):
            pairs.append(t)
        elif callable(t):
            pairs.append((t, 1.0))
        else:
            raise TypeError(f"combine() got {t!r}; expected a dict {{fn: weight}}, (fn, weight) "
                            f"pairs or objective functions.")
    if not pairs:
        raise ValueError("combine() needs at least one objective.")
    kinds = {bool(getattr(fn, "higher_is_better", False)) for fn, _ in pairs}
    if len(kinds) > 1:
        names = [f"{getattr(fn, '__name__', fn)}({'score' if getattr(fn, 'higher_is_better', False) else 'loss'})"
                 for fn, _ in pairs]
        raise ValueError(f"combine() mixes scores and losses: {names}; wrap scores in "
                         f"objectives.as_loss(...) so every term is minimised.")
    weights = [float(w) for _, w in pairs]
    fns = [fn for fn, _ in pairs]

    def f(sim, target):
        total = 0.0
        for fn, w in zip(fns, weights):
            total = total + w * fn(sim, target)
        return total

    names = " + ".join(f"{w:g}*{getattr(fn, '__name__', 'f')}" for fn, w in zip(fns, weights))
    return _tag(f, "combine", kinds.pop(), f"Weighted sum: {names}.")
