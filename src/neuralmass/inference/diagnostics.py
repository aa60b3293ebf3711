r"""Diagnostics for amortized parameter inference.

Point estimates (per parameter, over held-out simulations):

* Pearson correlation :math:`r` between true and estimated values;
* :math:`R^2 = 1 - \sum(\hat\theta-\theta)^2 / \sum(\theta-\bar\theta)^2`;
* NRMSE :math:`= \mathrm{RMSE} / (\max\theta - \min\theta)` over the test set.

Posteriors (samples :math:`\theta^{(s)}` for each test case with truth :math:`\theta^*`):

* z-score :math:`|\mathrm E[\theta] - \theta^*| / \mathrm{sd}[\theta]` and shrinkage
  :math:`1 - \mathrm{Var}_\text{post} / \mathrm{Var}_\text{prior}` (Schad et al. 2021, Psychol.
  Methods) — shrinkage near 0 means the data say nothing about that parameter;
* simulation-based calibration (Talts et al. 2018, arXiv:1804.06788): the rank of :math:`\theta^*`
  among :math:`L` posterior draws is uniform on ``0..L`` when the posterior is calibrated; tested by
  a chi-square test on binned ranks (and a Kolmogorov–Smirnov test on rank/(L+1));
* coverage of central credible intervals at several levels (calibrated: empirical = nominal).

Identifiability by autodiff: :func:`erp_sensitivity` differentiates the ERP with respect to each
parameter (:func:`jax.jacfwd`), scales by the prior width and divides by the ERP norm:

.. math::

    S_i = \mathrm{median}_{\theta\sim p(\theta)}
          \frac{\lVert \partial s(\cdot;\theta) / \partial\theta_i \rVert_2\, w_i}{\lVert s(\cdot;\theta)\rVert_2},

the relative change of the ERP when :math:`\theta_i` moves across its prior range to first order.

Exact symmetries (:func:`symmetry_residuals`). The Jansen–Rit drift depends on ``C`` and
``a1..a4`` only through :math:`C_k = a_k C` and on ``B`` only through :math:`B C_4`, so the ERP
is invariant under :math:`(C, a_k) \to (\lambda C, a_k/\lambda)` and under
:math:`(B, a_4) \to (\lambda B, a_4/\lambda)`. Differentiating at :math:`\lambda = 1` gives two
null vectors of the Jacobian, :math:`C\,\partial_C s - \sum_k a_k \partial_{a_k} s = 0` and
:math:`B\,\partial_B s - a_4 \partial_{a_4} s = 0`: the data carry no information along them,
whatever the estimator. Both hold for this library's model, whose stimulus enters only the
extrinsic input of the excitatory interneurons (:math:`y_1`). They are properties of that
model, not of ERPs in general: in the reference's variant (:mod:`.paper`) the stimulus also
drives the inhibitory population through :math:`B b\,(I_p + C_4 S)`, which breaks the
:math:`(B, a_4)` symmetry (B then scales the whole response).
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from ..analysis import pearson

__all__ = ["symmetry_residuals", "laplace_r_ceiling", "laplace_r_from_jacobian", "pearson_r", "r2_score", "nrmse", "point_metrics", "posterior_zscore", "shrinkage",
           "sbc_ranks", "sbc_uniformity", "coverage", "erp_sensitivity", "erp_jacobian"]


def _check(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true shape {y_true.shape} differs from y_pred shape {y_pred.shape}.")
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    return y_true, y_pred


def pearson_r(y_true, y_pred) -> np.ndarray:
    """Per-column Pearson correlation (0 where a column is constant)."""
    t, p = _check(y_true, y_pred)
    return np.asarray(pearson(t, p, axis=0, xp=np))


def r2_score(y_true, y_pred) -> np.ndarray:
    """Per-column coefficient of determination."""
    t, p = _check(y_true, y_pred)
    ss_res = ((t - p) ** 2).sum(0)
    ss_tot = ((t - t.mean(0)) ** 2).sum(0)
    return 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, np.nan)


def nrmse(y_true, y_pred) -> np.ndarray:
    """Per-column RMSE divided by the range of the true values."""
    t, p = _check(y_true, y_pred)
    rng = t.max(0) - t.min(0)
    return np.sqrt(((t - p) ** 2).mean(0)) / np.where(rng > 0, rng, np.nan)


def point_metrics(y_true, y_pred, names) -> list[dict]:
    """Rows ``{'param', 'r', 'R2', 'NRMSE'}`` per parameter."""
    r, r2, e = pearson_r(y_true, y_pred), r2_score(y_true, y_pred), nrmse(y_true, y_pred)
    return [dict(param=n, r=float(r[i]), R2=float(r2[i]), NRMSE=float(e[i])) for i, n in enumerate(names)]


def posterior_zscore(samples, theta_true) -> np.ndarray:
    """|posterior mean − truth| / posterior sd, shape (n_cases, dim). ``samples``: (n_cases, S, dim)."""
    s = np.asarray(samples, dtype=float)
    return np.abs(s.mean(1) - np.asarray(theta_true)) / s.std(1)


def shrinkage(samples, prior_std) -> np.ndarray:
    """1 − posterior variance / prior variance, shape (n_cases, dim)."""
    s = np.asarray(samples, dtype=float)
    return 1.0 - s.var(1) / np.asarray(prior_std, dtype=float) ** 2


def sbc_ranks(samples, theta_true) -> np.ndarray:
    """Rank of each truth among its posterior draws: integers in ``0..S`` (n_cases, dim)."""
    s = np.asarray(samples)
    return np.sum(s < np.asarray(theta_true)[:, None, :], axis=1)


def sbc_uniformity(ranks, n_draws: int, n_bins: int | None = None) -> dict:
    """Uniformity tests of SBC ranks per parameter.

    Parameters
    ----------
    ranks : (n_cases, dim) integers in ``0..n_draws``
    n_draws : int
        Number of posterior draws per case (L).
    n_bins : int, optional
        Bins for the chi-square test; default ``min(20, n_cases // 5)`` bins of equal rank width
        (``n_draws + 1`` must be divisible; otherwise the bins are made as equal as possible).

    Returns
    -------
    dict with arrays ``chi2_p`` and ``ks_p`` (one p-value per parameter).
    """
    ranks = np.asarray(ranks)
    n = ranks.shape[0]
    n_bins = max(2, min(20, n // 5)) if n_bins is None else int(n_bins)
    edges = np.linspace(0, n_draws + 1, n_bins + 1)
    # expected count per bin from the exact number of integer ranks it holds
    ints = np.arange(n_draws + 1)
    per_bin = np.histogram(ints, edges)[0] / (n_draws + 1)
    chi_p, ks_p = [], []
    for j in range(ranks.shape[1]):
        obs = np.histogram(ranks[:, j], edges)[0]
        chi_p.append(stats.chisquare(obs, per_bin * n).pvalue)
        u_ = (ranks[:, j] + np.random.default_rng(j).uniform(size=n)) / (n_draws + 1)
        ks_p.append(stats.kstest(u_, "uniform").pvalue)
    return dict(chi2_p=np.array(chi_p), ks_p=np.array(ks_p))


def coverage(samples, theta_true, levels=(0.5, 0.8, 0.9, 0.95)) -> dict:
    """Empirical coverage of central credible intervals, per level and parameter."""
    s = np.asarray(samples)
    t = np.asarray(theta_true)
    out = {}
    for lv in levels:
        lo = np.quantile(s, 0.5 - lv / 2, axis=1)
        hi = np.quantile(s, 0.5 + lv / 2, axis=1)
        out[float(lv)] = np.mean((t >= lo) & (t <= hi), axis=0)
    return out


@lru_cache(maxsize=32)
def _erp_and_jacobian_fns(names: tuple, config, units_error: bool):
    """Compiled (vmapped) ERP and Jacobian functions; they depend on the prior only through its
    parameter names (:meth:`Prior.to_model_params`), so priors with other ranges share them."""
    from .erp import erp_batch, volts_params
    from .priors import Prior
    prior = Prior(names)

    def f(th):            # (n, dim) -> (n, T): the n sets are the uncoupled columns of one run
        p = prior.to_model_params(th)
        if units_error:
            p = volts_params(p)
        return erp_batch(p, config)

    def jac(th):          # (n, T, dim): column i depends on row i of th only, so one tangent per
        def along(e):     # parameter, the same for every row, gives every row's Jacobian column
            return jax.jvp(f, (th,), (jnp.broadcast_to(e, th.shape),))[1]
        return jnp.moveaxis(jax.vmap(along)(jnp.eye(th.shape[1], dtype=th.dtype)), 0, -1)

    return jax.jit(f), jax.jit(jac)


def erp_jacobian(theta, prior, config, units_error: bool = False):
    """ERPs and their Jacobians w.r.t. ``theta`` (user units): shapes (n, T) and (n, T, dim)."""
    f, jac_f = _erp_and_jacobian_fns(tuple(prior.names), config, bool(units_error))
    th = jnp.asarray(np.asarray(theta, dtype=float))
    return np.asarray(f(th)), np.asarray(jac_f(th))


def erp_sensitivity(prior, config=None, n: int = 64, key=None, units_error: bool = False,
                    theta=None) -> dict:
    """Normalised sensitivity :math:`S_i` of the source ERP to each parameter across the prior.

    Parameters
    ----------
    prior : Prior
    config : ERPConfig, optional (noise-free response is used)
    n : int
        Prior samples (ignored when ``theta`` is given).
    units_error : bool
        Evaluate the reference's volts/mV variant (:func:`~neuralmass.inference.erp.volts_params`).

    Returns
    -------
    dict with ``names``, ``median`` and ``mean`` (per parameter), ``per_sample`` (n, dim) and
    ``ranking`` (names by decreasing median sensitivity).
    """
    from .erp import ERPConfig
    config = ERPConfig() if config is None else config
    if config.n_trials:
        config = config.replace(n_trials=0)
    if theta is None:
        key = jax.random.PRNGKey(0) if key is None else key
        theta = prior.sample(key, n)
    erps, jac = erp_jacobian(theta, prior, config, units_error)
    norm = np.linalg.norm(erps, axis=1)
    sens = np.linalg.norm(jac, axis=1) * prior.width[None, :] / norm[:, None]
    ok = np.all(np.isfinite(sens), axis=1) & (norm > 0)
    sens = sens[ok]
    med = np.median(sens, axis=0)
    order = np.argsort(-med)
    return dict(names=tuple(prior.names), median=med, mean=sens.mean(0), per_sample=sens,
                ranking=tuple(prior.names[i] for i in order))


def symmetry_residuals(prior, config=None, n: int = 16, key=None, theta=None) -> dict:
    r"""Check the two exact scaling symmetries of the Jansen–Rit ERP by autodiff.

    For each prior draw, the Jacobian :math:`J = \partial s / \partial\theta` is applied to the
    generators :math:`v_C = (C, -a_1, -a_2, -a_3, -a_4)` (on ``C, a1..a4``) and
    :math:`v_B = (B, -a_4)` (on ``B, a4``), and compared with the size of the individual terms:

    .. math::

        \rho = \frac{\lVert J v \rVert}{\sum_i \lVert J_{:,i} v_i \rVert}.

    :math:`\rho \approx 0` (float precision) means the direction is exactly non-identifiable.
    Draws where the terms themselves are negligible (:math:`\sum_i\lVert J_{:,i} v_i\rVert <
    10^{-3}\lVert s\rVert`, e.g. saturated interneurons) carry no test and give NaN.

    Returns
    -------
    dict with ``C_scaling`` and ``B_a4_scaling`` arrays (n,) of ρ (NaN where the prior lacks the
    parameters or the draw is uninformative).
    """
    from .erp import ERPConfig
    config = ERPConfig(fs=100.0) if config is None else config.replace(n_trials=0)
    if theta is None:
        theta = prior.sample(jax.random.PRNGKey(0) if key is None else key, n)
    theta = np.asarray(theta, dtype=float)
    erps, jac = erp_jacobian(theta, prior, config)
    idx = {nm: i for i, nm in enumerate(prior.names)}
    out = {}
    for label, gen in (("C_scaling", {"C": 1.0, "a1": -1.0, "a2": -1.0, "a3": -1.0, "a4": -1.0}),
                       ("B_a4_scaling", {"B": 1.0, "a4": -1.0})):
        if not all(k in idx for k in gen):
            out[label] = np.full(len(theta), np.nan)
            continue
        terms = np.stack([jac[:, :, idx[k]] * (sgn * theta[:, idx[k]])[:, None] for k, sgn in gen.items()], -1)
        num = np.linalg.norm(terms.sum(-1), axis=1)
        den = np.linalg.norm(terms, axis=1).sum(-1)
        big = den > 1e-3 * np.linalg.norm(erps, axis=1)
        out[label] = np.where(big & np.isfinite(num), num / np.where(big, den, 1.0), np.nan)
    return out


def laplace_r_from_jacobian(jac, sigma2, prior_var):
    r"""Laplace estimate of the attainable r from Jacobians and white-noise variances.

    ``jac`` (n, T, dim) = ∂s/∂θ of the (matched-filtered) signal, ``sigma2`` (n,) its noise
    variance per sample, ``prior_var`` (dim,). Returns ``r`` (dim,) and the per-draw ratios
    :math:`[(J^\top J/\sigma^2 + \Sigma_0^{-1})^{-1}]_{ii}/\Sigma_{0,ii}` (n, dim); see
    :func:`laplace_r_ceiling`.
    """
    jac = np.asarray(jac, dtype=float)
    prior_var = np.asarray(prior_var, dtype=float)
    jtj = np.einsum("nti,ntj->nij", jac, jac)
    prec = jtj / np.asarray(sigma2, dtype=float)[:, None, None] + np.diag(1.0 / prior_var)[None]
    diag = np.arange(len(prior_var))
    ratio = np.linalg.inv(prec)[:, diag, diag] / prior_var
    return np.sqrt(np.clip(1.0 - ratio.mean(0), 0.0, 1.0)), ratio


def laplace_r_ceiling(prior, config=None, snr_db: float = 20.0, n_sensors: int = 64, gain_norm2=None,
                      n: int = 256, key=None, theta=None) -> dict:
    r"""Laplace (Fisher-information) estimate of the best achievable Pearson r per parameter.

    For the source ERP seen through a lead field with :math:`\lVert g\rVert^2` under white sensor
    noise of variance :math:`\sigma^2` (set by ``snr_db`` from the mean sensor power, as in
    :func:`~neuralmass.inference.erp.add_sensor_noise`), the matched-filter course has noise
    variance :math:`\sigma_s^2 = \sigma^2/\lVert g\rVert^2` and the Fisher information is
    :math:`F = J^\top J / \sigma_s^2` (:math:`J = \partial s/\partial\theta`). A Gaussian
    approximation of the posterior has precision :math:`F + \Sigma_0^{-1}` (prior variances
    :math:`\Sigma_0`); the posterior mean then attains

    .. math::

        r_i^2 \approx 1 - \frac{\mathrm E_\theta[(F + \Sigma_0^{-1})^{-1}]_{ii}}{\Sigma_{0,ii}} .

    The approximation is local. It is optimistic where posteriors are near-degenerate or
    multimodal, and pessimistic where the local Fisher information vanishes but the data still tell
    *which regime* the parameters are in (e.g. saturated interneurons: there ∂s/∂B ≈ 0, yet a
    saturated-looking ERP says that B·C·a4 is large), and it ignores the prior's bounds. It is a
    reference for what the ERP can tell about each parameter, not a strict bound.

    Draws whose ERP or Jacobian is not finite (e.g. large oscillations) are left out.

    Parameters
    ----------
    snr_db : float or sequence of float
        Sensor SNR(s); with a sequence the outputs gain a leading SNR axis.

    Returns
    -------
    dict with ``r`` (per parameter), ``var_ratio`` (mean posterior / prior variance),
    ``per_sample`` (n, dim) variance ratios and ``n_used``.
    """
    from .erp import ERPConfig
    config = ERPConfig(fs=100.0) if config is None else config.replace(n_trials=0)
    if theta is None:
        theta = prior.sample(jax.random.PRNGKey(0) if key is None else key, n)
    erps, jac = erp_jacobian(theta, prior, config)
    g2 = float(n_sensors) if gain_norm2 is None else float(gain_norm2)
    mean_g2 = g2 / n_sensors
    ok = np.all(np.isfinite(jac), axis=(1, 2)) & np.all(np.isfinite(erps), axis=1)
    erps, jac = erps[ok].astype(float), jac[ok].astype(float)
    prior_var = np.asarray(prior.std, dtype=float) ** 2
    out_r, out_vr, out_ps = [], [], []
    for snr in np.atleast_1d(np.asarray(snr_db, dtype=float)):
        sigma2 = mean_g2 * np.mean(erps ** 2, axis=1) / 10.0 ** (snr / 10.0) / g2
        r, ratio = laplace_r_from_jacobian(jac, sigma2, prior_var)
        out_r.append(r)
        out_vr.append(ratio.mean(0))
        out_ps.append(ratio)
    if np.ndim(snr_db) == 0:
        out_r, out_vr, out_ps = out_r[0], out_vr[0], out_ps[0]
    return dict(names=tuple(prior.names), r=np.asarray(out_r), var_ratio=np.asarray(out_vr),
                per_sample=np.asarray(out_ps), n_used=int(ok.sum()))
