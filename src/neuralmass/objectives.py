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
=========================  ===========  ==========================================================
factory                    kind         value
=========================  ===========  ==========================================================
:func:`fc_corr`            score (↑)    Pearson r of the FC upper triangles, in [-1, 1]
:func:`fc_rmse`            loss (↓)     root-mean-square difference of the FC upper triangles
:func:`timeseries_rmse`    loss (↓)     root-mean-square difference of the signals themselves
:func:`fcd_ks`             loss (↓)     Kolmogorov–Smirnov distance of FCD value distributions
:func:`fcd_ks_smooth`      loss (↓)     the same with logistic-smoothed CDFs (differentiable)
:func:`fcd_wasserstein`    loss (↓)     Wasserstein-p distance of FCD value distributions
:func:`psd_distance`       loss (↓)     RMS difference of (normalised, log) Welch spectra
=========================  ===========  ==========================================================

Every returned function has an attribute ``higher_is_better``. Turn a score into a loss with
:func:`as_loss` (``1 - r`` for :func:`fc_corr`), and add weighted losses with :func:`combine`::

    loss = objectives.combine({objectives.as_loss(objectives.fc_corr()): 1.0,
                               objectives.fcd_ks(window=60, step=10): 0.5})
    total, parts = loss(sim, target, return_parts=True)    # parts: each term, unweighted

The pure distances between two samples, :func:`ks_distance` and :func:`wasserstein_distance`,
are also public.
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

__all__ = ["fc_corr", "fc_rmse", "timeseries_rmse", "fcd_ks", "fcd_ks_smooth", "fcd_wasserstein", "ks_distance",
           "wasserstein_distance", "smooth_ks_grid", "psd_distance", "combine", "as_loss"]


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


def timeseries_rmse():
    r"""Loss: root-mean-square difference of two signals, sample by sample.

    .. math:: \sqrt{\frac{1}{N}\sum_{i}\big(x^{sim}_i - x^{target}_i\big)^2}

    over the ``N`` entries of the target (all its axes: time, regions, ...); leading axes that
    ``sim`` has beyond the target's are batch axes and are kept. Only meaningful when the
    simulation and the data are aligned in time (a deterministic response, an evoked
    potential), unlike the FC-based objectives. The gradient at a perfect match is 0.

    Reference: the time-domain least-squares fit of dynamic causal modelling, K. J. Friston,
    L. Harrison & W. Penny, "Dynamic causal modelling", NeuroImage 19 (2003) 1273–1302.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> float(timeseries_rmse()(jnp.full((10, 3), 2.0), jnp.zeros((10, 3))))
    2.0
    """
    def f(sim, target):
        a, b = jnp.asarray(plain(sim)), jnp.asarray(plain(target))
        axes = tuple(range(a.ndim - b.ndim, a.ndim))
        d2 = jnp.mean((a - b) ** 2, axis=axes)
        pos = d2 > 0
        return jnp.where(pos, jnp.sqrt(jnp.where(pos, d2, 1.0)), 0.0)

    return _tag(f, "timeseries_rmse", False, "RMS difference of two aligned signals (loss).")


# ---------------------------------------------------------------------------------------------
# distances between two samples: Kolmogorov–Smirnov (exact, smoothed) and Wasserstein
# ---------------------------------------------------------------------------------------------

def _abs0(x):
    """``|x|`` whose gradient is 0 (not ``sign(0) = 1`` as :func:`jnp.abs`) where ``x == 0``, so a
    distance between identical samples is a stationary point."""
    nz = x != 0
    return jnp.where(nz, jnp.abs(jnp.where(nz, x, 1.0)), 0.0)


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
    return jnp.max(_abs0(fa - fb))


def smooth_ks_grid(lo: float, hi: float, bandwidth: float, n_grid: int | None = None) -> np.ndarray:
    """Evaluation grid of the smoothed KS distance: ``[lo - 2h, hi + 2h]`` with spacing at most
    ``h / 2`` (``n_grid`` points if given)."""
    h = float(bandwidth)
    lo, hi = float(lo) - 2 * h, float(hi) + 2 * h
    if n_grid is None:
        n_grid = int(np.ceil((hi - lo) / (h / 2))) + 1
    return np.linspace(lo, hi, max(int(n_grid), 2))


def ks_distance(a, b, smooth: float | bool = False, grid=None):
    r"""Two-sample Kolmogorov–Smirnov distance :math:`D = \sup_z |F_a(z) - F_b(z)|`.

    ``smooth=False`` gives the exact statistic of :func:`scipy.stats.ks_2samp` (its gradient is
    zero almost everywhere). ``smooth=h`` gives the smoothed distance

    .. math:: D_h = \max_{z \in \text{grid}} |F_{a,h}(z) - F_{b,h}(z)|, \qquad
              F_{x,h}(z) = \frac1n \sum_i \sigma\!\Big(\frac{z - x_i}{h}\Big),

    each CDF step replaced by a logistic sigmoid of width ``h``, which is differentiable. The
    default ``grid`` spans the data plus ``2h`` on each side with spacing ``h / 2``
    (:func:`smooth_ks_grid`; 512 points when traced under :func:`jax.jit`); pass a fixed grid
    (e.g. over [-1, 1] for correlations) to keep the grid out of the gradient. :math:`D_h \le D` always; the bias is bounded in
    :func:`fcd_ks_smooth`.

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
            try:
                grid = smooth_ks_grid(float(lo), float(hi), smooth)
            except jax.errors.ConcretizationTypeError:   # under jit: a fixed number of points
                grid = jnp.linspace(lo - 2 * smooth, hi + 2 * smooth, 512)
        fn = lambda x, y: _ks_smooth_1d(x, y, float(smooth), jnp.asarray(grid))  # noqa: E731
    else:
        fn = _ks_exact_1d
    return _batched(fn, a, b)


def _batched(fn, a, b):
    """``fn(a, b)`` of two 1-D samples, mapped over the leading axes of ``a`` (and of ``b``)."""
    batch = a.shape[:-1]
    if not batch:
        return fn(a, b)
    a2 = a.reshape((-1, a.shape[-1]))
    if b.ndim == 1:
        out = jax.vmap(lambda x: fn(x, b))(a2)
    else:
        out = jax.vmap(fn)(a2, b.reshape((-1, b.shape[-1])))
    return out.reshape(batch)


def _quantile_pairing(na: int, nb: int):
    """Exact pairing of two empirical quantile functions on their common grid of levels.

    The quantile function of a sorted sample of size ``n`` is ``x[i]`` on ``(i/n, (i+1)/n]``. The
    union of the levels ``i/na`` and ``j/nb`` (kept as integers ``i*nb``, ``j*na`` in units of
    ``1/(na*nb)``, so the union is exact) cuts ``[0, 1]`` into pieces on which both are
    constant; returns each piece's index into ``sort(a)``, into ``sort(b)`` and its length."""
    levels = np.union1d(np.arange(1, na + 1, dtype=np.int64) * nb,
                        np.arange(1, nb + 1, dtype=np.int64) * na)
    prev = np.concatenate([[0], levels[:-1]])
    mid2 = prev + levels                          # 2 * midpoint, in units of 1/(na*nb)
    ia = np.minimum(mid2 // (2 * nb), na - 1)
    ib = np.minimum(mid2 // (2 * na), nb - 1)
    return ia, ib, (levels - prev) / (na * nb)


def _wasserstein_1d(a, b, p):
    ia, ib, w = _quantile_pairing(a.shape[-1], b.shape[-1])
    d = _abs0(jnp.sort(a)[ia] - jnp.sort(b)[ib])
    s = jnp.sum(jnp.asarray(w, d.dtype) * d ** p)
    if p == 1:
        return s
    pos = s > 0
    return jnp.where(pos, jnp.where(pos, s, 1.0) ** (1.0 / p), 0.0)


def wasserstein_distance(a, b, p: float = 1):
    r"""Wasserstein-:math:`p` distance between the empirical distributions of two 1-D samples.

    In one dimension optimal transport pairs equal quantiles (Villani 2009; Panaretos & Zemel
    2019):

    .. math:: W_p(a, b) = \Big(\int_0^1 |Q_a(u) - Q_b(u)|^p\,du\Big)^{1/p},
              \qquad W_1 = \int |F_a(z) - F_b(z)|\,dz,

    with :math:`Q` the quantile function (inverse empirical CDF). Equal sizes give
    :math:`\big(\frac1n\sum_i |a_{(i)} - b_{(i)}|^p\big)^{1/p}` of the sorted samples; unequal
    sizes are integrated exactly over the union of both samples' quantile levels (at most
    ``na + nb`` pieces), so ``p=1`` equals :func:`scipy.stats.wasserstein_distance`. The value is
    in the units of the data, 0 only for identical distributions, and differentiable almost
    everywhere (through the sort); the gradient is 0 at identical samples.

    ``a`` may have leading batch axes; ``b`` is 1-D or has the same batch axes.

    References
    ----------
    C. Villani, *Optimal Transport: Old and New*, Springer (2009), ch. 2.
    V. M. Panaretos, Y. Zemel, "Statistical aspects of Wasserstein distances", Annu. Rev. Stat.
    Appl. 6 (2019) 405–431.
    """
    p = float(p)
    if not p >= 1:
        raise ValueError(f"p={p} must be >= 1.")
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    return _batched(lambda x, y: _wasserstein_1d(x, y, p), a, b)


# ---------------------------------------------------------------------------------------------
# distances between FCD distributions
# ---------------------------------------------------------------------------------------------

def _fcd_settings(window, step, fs, offset):
    w_n = samples(window, "window", fs)
    s_n = max(1, w_n // 2) if step is None else samples(step, "step", fs)
    if offset is None:
        offset = max(1, int(np.ceil(w_n / s_n)))
    return w_n, s_n, int(offset)


def _fcd_target(target, target_is_fcd, values_of, offset):
    """1-D pooled target FCD values: one subject or several (leading axis, or a list of arrays of
    different lengths) whose values form one empirical distribution."""
    items = list(target) if isinstance(target, (list, tuple)) else [target]
    out = []
    for t in items:
        t = plain(t)
        if target_is_fcd:
            if t.ndim == 1:
                out.append(t)
                continue
            if t.shape[-1] != t.shape[-2]:
                raise ValueError(f"target has shape {t.shape}; with target_is_fcd=True pass FCD "
                                 f"values (1-D), an FCD matrix (W, W), matrices (S, W, W) of "
                                 f"several subjects, or a list of these.")
            out.append(fcd_values(t, offset).reshape(-1))
        else:
            if t.ndim < 2:
                raise ValueError(f"target has shape {t.shape}; pass (time, regions) BOLD, "
                                 f"(subjects, time, regions), a list of subjects' BOLD, or FCD "
                                 f"values with target_is_fcd=True.")
            out.append(values_of(t).reshape(-1))
    return out[0] if len(out) == 1 else jnp.concatenate(out)


def _fcd_objective(name, doc, distance, window, step, fs, offset, target_is_fcd):
    """An objective ``f(sim, target) = distance(FCD values of sim, pooled target values)``."""
    w_n, s_n, offset = _fcd_settings(window, step, fs, offset)

    def values_of(x):
        return fcd_values(_fcd(x, w_n, s_n), offset)

    @jax.jit
    def core(sim, target):
        return distance(values_of(sim), _fcd_target(target, target_is_fcd, values_of, offset))

    def f(sim, target):
        t = [plain(x) for x in target] if isinstance(target, (list, tuple)) else plain(target)
        return core(plain(sim), t)

    return _tag(f, name, False, doc)


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
        correlation; the same as :func:`fcd_ks_smooth` with ``bandwidth=smooth``). ``False`` gives
        the exact, piecewise-constant statistic.

    Targets of several subjects are pooled as in :func:`fcd_wasserstein`.

    References
    ----------
    E. C. A. Hansen et al., NeuroImage 105 (2015) 525–535.
    """
    if smooth:
        return fcd_ks_smooth(window, step, fs, offset, target_is_fcd,
                             bandwidth=0.02 if smooth is True else float(smooth))
    return _fcd_objective("fcd_ks", "Exact KS distance of FCD value distributions (loss).",
                          _ks_exact_1d_batched, window, step, fs, offset, target_is_fcd)


def _ks_exact_1d_batched(a, b):
    return _batched(_ks_exact_1d, a, b)


def fcd_ks_smooth(window: Any, step: Any = None, fs: Any = None, offset: int | None = None,
                  target_is_fcd: bool = False, bandwidth: float = 0.02,
                  n_grid: int | None = None):
    r"""Loss: smoothed (differentiable) KS distance between simulated and target FCD values.

    .. math:: D_h = \max_{z \in G} \big|F_{sim,h}(z) - F_{emp,h}(z)\big|, \qquad
              F_{x,h}(z) = \frac1n \sum_{i} \sigma\!\Big(\frac{z - x_i}{h}\Big)

    over the FCD values :math:`x_i` (upper triangle above ``offset``), :math:`\sigma` the logistic
    function and :math:`G` a fixed grid over :math:`[-1 - 2h, 1 + 2h]` (FCD values are
    correlations) with spacing :math:`\Delta \le h/2`. :math:`F_{x,h}` is the empirical CDF
    convolved with a logistic density of scale :math:`h`; the exact KS distance
    :math:`D` (Hansen et al. 2015; :func:`fcd_ks` with ``smooth=False``) is the limit
    :math:`h \to 0`.

    **Bias.** Convolution with a probability density cannot raise a supremum, and the grid only
    lowers it, so :math:`0 \le D - D_h`. If :math:`D` is reached at :math:`z^*`, averaging
    :math:`F_a - F_b` over :math:`z^* - T`, :math:`T \sim \mathrm{Logistic}(0, h)` loses at most
    the mass either sample has within :math:`|T|` of :math:`z^*`:

    .. math:: D - D_h \le \mathbb E\big[m_a(|T|) + m_b(|T|)\big]
              + \tfrac{\Delta}{2} \sup_z \max(f_{a,h}, f_{b,h}),

    :math:`m_x(\delta)` the largest fraction of sample :math:`x` in an interval of length
    :math:`\delta` and :math:`f_{x,h} = F'_{x,h}`. For values with densities bounded by
    :math:`L_a, L_b` (and :math:`\mathbb E|T| = 2h\ln 2`) this is
    :math:`D - D_h \lesssim (2\ln 2 + \tfrac14)(L_a + L_b)\,h \approx 1.64\,(L_a + L_b)\,h`:
    linear in :math:`h`. FCD values spread over ~0.5 (densities of a few per unit) give a bias of
    about 0.01–0.03 at the default ``h = 0.02``; smaller ``h`` is more exact but its gradient is
    carried by fewer values near the maximising point (rougher loss).

    Parameters
    ----------
    window, step, fs, offset, target_is_fcd
        As in :func:`fcd_wasserstein`.
    bandwidth : float
        :math:`h`, in units of correlation.
    n_grid : int, optional
        Number of grid points (default: spacing ``h / 2``). Memory is ``n_grid × n_values`` per
        batch lane.

    References
    ----------
    E. C. A. Hansen et al., NeuroImage 105 (2015) 525–535.
    G. Deco et al., Sci. Rep. 7 (2017) 3095.
    """
    h = float(bandwidth)
    if not h > 0:
        raise ValueError(f"bandwidth={bandwidth} must be > 0; use fcd_ks(smooth=False) for the "
                         f"exact statistic.")
    grid = smooth_ks_grid(-1.0, 1.0, h, n_grid)
    return _fcd_objective("fcd_ks_smooth",
                          f"Smoothed KS distance (h={h:g}) of FCD value distributions (loss).",
                          lambda a, b: ks_distance(a, b, smooth=h, grid=grid),
                          window, step, fs, offset, target_is_fcd)


def fcd_wasserstein(window: Any, step: Any = None, fs: Any = None, offset: int | None = None,
                    target_is_fcd: bool = False, p: float = 1):
    r"""Loss: Wasserstein-:math:`p` distance between simulated and target FCD value distributions.

    .. math:: W_p = \Big(\int_0^1 \big|Q_{sim}(u) - Q_{emp}(u)\big|^p\,du\Big)^{1/p}

    of the quantile functions of the FCD values (upper triangle above ``offset``;
    :func:`wasserstein_distance`). Where the KS distance looks only at the largest CDF gap,
    :math:`W_1 = \int |F_{sim} - F_{emp}|\,dz` integrates every gap and weighs it by how far the
    values must move, so it has a useful gradient everywhere (every sorted FCD value is pulled
    towards its empirical quantile) and is not flat when the distributions do not overlap. Unit:
    correlation; 0 only for identical distributions.

    Parameters
    ----------
    window, step, fs
        Sliding windows, in samples or as brainunit times with ``fs`` (Hz), as in
        :func:`neuralmass.analysis.fcd`; ``step`` defaults to ``window // 2``.
    offset : int, optional
        Leave out window pairs closer than ``offset``; default ``ceil(window / step)`` (no
        overlapping windows).
    target_is_fcd : bool
        ``target`` holds FCD values (1-D), an FCD matrix (W, W), matrices (S, W, W), or a list of
        these, instead of BOLD.
    p : float
        Order (1 or 2 usual).

    ``sim`` is BOLD ``(..., time, regions)``; the value has its leading batch axes. ``target`` is
    BOLD ``(time, regions)`` of one subject, ``(subjects, time, regions)``, or a list of subjects'
    BOLD of different lengths: the FCD values of all subjects are pooled into one empirical
    distribution (the sizes of the two samples need not match). Precompute the target values
    (``target_is_fcd=True``) to save recomputing them at each step, and under :func:`jax.jit`
    pass them as an argument rather than closing over them (XLA constant-folds the sort of a
    closed-over array, slowly for tens of thousands of values).

    References
    ----------
    E. C. A. Hansen et al., NeuroImage 105 (2015) 525–535.
    G. Deco et al., Sci. Rep. 7 (2017) 3095.
    V. M. Panaretos, Y. Zemel, Annu. Rev. Stat. Appl. 6 (2019) 405–431.
    """
    p = float(p)
    if not p >= 1:
        raise ValueError(f"p={p} must be >= 1.")
    return _fcd_objective("fcd_wasserstein",
                          f"Wasserstein-{p:g} distance of FCD value distributions (loss).",
                          lambda a, b: wasserstein_distance(a, b, p),
                          window, step, fs, offset, target_is_fcd)


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


def combine(*terms, **named):
    r"""Weighted sum of objectives as one function: :math:`L = \sum_k w_k\,f_k(sim, target)`.

    Accepts a mapping ``{fn: weight}``, ``(fn, weight)`` pairs (a bare ``fn`` has weight 1), or
    named terms ``name=(fn, weight)`` / ``name=fn``::

        combine({as_loss(fc_corr()): 1.0, fcd_ks(window=60): 0.5})
        combine((as_loss(fc_corr()), 1.0), (psd_distance(fs=100), 0.2))
        combine(fc=(as_loss(fc_corr()), 1.0), fcd=(fcd_wasserstein(60, 10), 2.0))

    The result is ``f(sim, target, return_parts=False)``. ``return_parts=True`` returns
    ``(total, parts)`` with ``parts`` a dict of each term's *unweighted* value under its name (the
    keyword, else the function's ``__name__``, made unique by ``_2``, ``_3``, ...), e.g. for
    logging with ``jax.value_and_grad(lambda s: f(s, t, return_parts=True), has_aux=True)``. The
    weights are ``f.weights`` (same names) and the terms ``f.terms``. ``target`` may be one target
    for every term or a dict ``{name: target}`` with one entry per term (e.g. an empirical FC for
    ``fc_corr(target_is_fc=True)`` and FCD values for ``fcd_wasserstein(target_is_fcd=True)``).

    All terms must point the same way: mixing a score with losses raises an error (wrap the score
    in :func:`as_loss`). The result is a score if all terms are scores, otherwise a loss.
    """
    pairs = []
    for t in terms:
        if isinstance(t, Mapping):
            pairs.extend((None, fn, w) for fn, w in t.items())
        elif isinstance(t, tuple) and len(t) == 2 and callable(t[0]):
            pairs.append((None, *t))
        elif callable(t):
            pairs.append((None, t, 1.0))
        else:
            raise TypeError(f"combine() got {t!r}; expected a dict {{fn: weight}}, (fn, weight) "
                            f"pairs or objective functions.")
    for name, t in named.items():
        if isinstance(t, tuple) and len(t) == 2 and callable(t[0]):
            pairs.append((name, *t))
        elif callable(t):
            pairs.append((name, t, 1.0))
        else:
            raise TypeError(f"combine({name}={t!r}): expected (fn, weight) or an objective function.")
    if not pairs:
        raise ValueError("combine() needs at least one objective.")
    kinds = {bool(getattr(fn, "higher_is_better", False)) for _, fn, _ in pairs}
    if len(kinds) > 1:
        names = [f"{getattr(fn, '__name__', fn)}({'score' if getattr(fn, 'higher_is_better', False) else 'loss'})"
                 for _, fn, _ in pairs]
        raise ValueError(f"combine() mixes scores and losses: {names}; wrap scores in "
                         f"objectives.as_loss(...) so every term is minimised.")
    taken = {name for name, _, _ in pairs if name is not None}
    names = []
    for name, fn, _ in pairs:
        if name is None:
            base = getattr(fn, "__name__", "f")
            name, i = base, 1
            while name in taken or name in names:
                i += 1
                name = f"{base}_{i}"
        names.append(name)
    weights = [float(w) for _, _, w in pairs]
    fns = [fn for _, fn, _ in pairs]

    def f(sim, target, return_parts: bool = False):
        if isinstance(target, Mapping):
            missing = [n for n in names if n not in target]
            if missing:
                raise KeyError(f"combine(): the target dict has no entry for {missing}; its keys "
                               f"are {sorted(target)}, the terms {names}.")
        parts = {}
        total = 0.0
        for name, fn, w in zip(names, fns, weights):
            v = fn(sim, target[name] if isinstance(target, Mapping) else target)
            parts[name] = v
            total = total + w * v
        return (total, parts) if return_parts else total

    desc = " + ".join(f"{w:g}*{n}" for n, w in zip(names, weights))
    out = _tag(f, "combine", kinds.pop(), f"Weighted sum: {desc}.")
    out.weights = dict(zip(names, weights))
    out.terms = dict(zip(names, fns))
    return out
