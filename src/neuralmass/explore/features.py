r"""Per-point features of a sweep, computed on the worker from one chunk's batched signals.

Every feature maps the signals of ``B`` lanes to ``B`` numbers, so only a few numbers per lane
travel back from a worker. All are thin calls of :mod:`neuralmass.analysis` and
:mod:`neuralmass.objectives` (one definition of each measure):

``fc_corr``
    :func:`~neuralmass.objectives.fc_corr` — Pearson correlation of the upper triangles of the
    simulated FC and a target FC (Honey et al. 2009). Higher is better.
``fcd_ks``
    Kolmogorov–Smirnov distance :math:`\sup_z |F_{sim}(z) - F_{target}(z)|` between the
    simulated FCD values (:func:`~neuralmass.analysis.fcd`, window pairs that do not overlap) and
    target FCD values (:func:`~neuralmass.objectives.ks_distance`, exact statistic; Hansen et
    al. 2015). Lower is better.
``sfc``
    structure–function coupling: the correlation of the upper triangles of the simulated FC and
    the structural weights (the same :func:`~neuralmass.objectives.fc_corr` with the weights as
    target).
``peak_freq``
    median over regions of the frequency (Hz) of each region's largest Welch PSD bin in
    ``[fmin, fmax]`` (:func:`~neuralmass.analysis.peak_frequency`).
``power``
    power of the activity in ``[fmin, fmax]``: :math:`\int_{f_{min}}^{f_{max}} S(f)\,df` of the
    Welch PSD :math:`S` (:func:`~neuralmass.analysis.welch`), averaged over regions.
``rate_mean``, ``rate_var``
    mean of the activity over time and regions; temporal variance averaged over regions.
``metastability``
    standard deviation over time of the Kuramoto order parameter
    (:func:`~neuralmass.analysis.metastability`; Shanahan 2010, Deco et al. 2017).

FC, FCD, structure–function coupling and metastability use the *FC signal* (BOLD when the sweep
records it, otherwise the activity); the others use the *activity* (the model's coupled variable
averaged over each sampling period).

References
----------
C. J. Honey et al., PNAS 106 (2009) 2035–2040. E. C. A. Hansen et al., NeuroImage 105 (2015)
525–535. M. Shanahan, Chaos 20 (2010) 013108. G. Deco et al., NeuroImage 151 (2017) 83–93.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["FEATURES", "FeatureContext", "compute_features", "feature_info"]


@dataclass
class FeatureContext:
    """What the features of one chunk see.

    Attributes
    ----------
    activity : array (B, T, n)
        The activity (model's coupled variable averaged per period), canonical units.
    fs : float
        Sampling rate of ``activity`` (Hz).
    fc_signal : array (B, T', n)
        The signal FC is computed from (BOLD if recorded, else ``activity``).
    fc_fs : float
        Its sampling rate (Hz).
    weights : array (n, n) or None
        Structural weights (for ``sfc``).
    targets : dict
        ``'fc'``: target FC (n, n); ``'fcd'``: target FCD values (1-D).
    options : dict
        ``fmin``, ``fmax`` (Hz) of spectral features, ``fcd_window``, ``fcd_step`` (samples of
        the FC signal), ``metastability_band`` ((low, high) Hz or None).
    """

    activity: Any
    fs: float
    fc_signal: Any
    fc_fs: float
    weights: Any = None
    targets: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


_SCORERS: dict = {}


def _fc_score():
    """One compiled :func:`~neuralmass.objectives.fc_corr` for every chunk of the process."""
    if "fc_corr" not in _SCORERS:
        from ..objectives import fc_corr

        _SCORERS["fc_corr"] = fc_corr(target_is_fc=True)
    return _SCORERS["fc_corr"]


def _fc_corr(c: FeatureContext):
    return _fc_score()(c.fc_signal, c.targets["fc"])


def _sfc(c: FeatureContext):
    return _fc_score()(c.fc_signal, c.weights)


def _fcd_ks(c: FeatureContext):
    from ..analysis import fcd, fcd_values
    from ..objectives import ks_distance

    w, s = c.options["fcd_window"], c.options["fcd_step"]
    offset = max(1, int(np.ceil(w / s)))
    vals = fcd_values(fcd(c.fc_signal, w, s), offset)
    return ks_distance(vals, c.targets["fcd"])


def _band(c: FeatureContext):
    fmin = c.options.get("fmin")
    fmax = c.options.get("fmax")
    return fmin, (c.fs / 2 if fmax is None else min(fmax, c.fs / 2))


def _nperseg(c: FeatureContext) -> int:
    return int(min(c.options.get("nperseg", 256), c.activity.shape[-2]))


def _peak(c: FeatureContext):
    import jax.numpy as jnp

    from ..analysis import peak_frequency

    fmin, fmax = _band(c)
    pk = peak_frequency(c.activity, c.fs, fmin=fmin, fmax=fmax, nperseg=_nperseg(c))
    return jnp.median(pk, axis=-1)


def _power(c: FeatureContext):
    import jax.numpy as jnp

    from ..analysis import welch

    fmin, fmax = _band(c)
    freqs, psd = welch(c.activity, c.fs, nperseg=_nperseg(c))
    sel = (freqs >= (fmin or 0.0)) & (freqs <= fmax)
    df = float(freqs[1] - freqs[0]) if len(freqs) > 1 else 1.0
    return jnp.mean(jnp.sum(jnp.asarray(psd)[..., np.nonzero(sel)[0], :], axis=-2) * df, axis=-1)


def _rate_mean(c: FeatureContext):
    import jax.numpy as jnp

    return jnp.mean(jnp.asarray(c.activity), axis=(-2, -1))


def _rate_var(c: FeatureContext):
    import jax.numpy as jnp

    return jnp.mean(jnp.var(jnp.asarray(c.activity), axis=-2), axis=-1)


def _metastability(c: FeatureContext):
    from ..analysis import metastability

    band = c.options.get("metastability_band")
    return metastability(c.fc_signal, c.fc_fs if band is not None else None, band=band)


@dataclass(frozen=True)
class Feature:
    name: str
    fn: Callable
    needs: tuple            # 'fc' / 'fcd' targets, 'weights'
    higher_is_better: bool | None
    description: str


FEATURES = {f.name: f for f in (
    Feature("fc_corr", _fc_corr, ("fc",), True, "Pearson r of simulated vs target FC (upper triangles)"),
    Feature("fcd_ks", _fcd_ks, ("fcd",), False, "KS distance of simulated vs target FCD values"),
    Feature("sfc", _sfc, ("weights",), None, "structure-function coupling corr(SC, FC)"),
    Feature("peak_freq", _peak, (), None, "median over regions of the spectral peak (Hz)"),
    Feature("power", _power, (), None, "band power of the activity, mean over regions"),
    Feature("rate_mean", _rate_mean, (), None, "mean activity"),
    Feature("rate_var", _rate_var, (), None, "temporal variance of the activity, mean over regions"),
    Feature("metastability", _metastability, (), None, "std over time of the Kuramoto order parameter"),
)}


def feature_info(name: str) -> Feature:
    if name not in FEATURES:
        raise ValueError(f"feature {name!r} is not known; choose from {', '.join(FEATURES)}.")
    return FEATURES[name]


def available(names, targets: dict, has_weights: bool) -> list:
    """The features among ``names`` whose inputs exist; raise for an explicitly unavailable one."""
    out = []
    for name in names:
        f = feature_info(name)
        for need in f.needs:
            ok = has_weights if need == "weights" else need in targets
            if not ok:
                what = "structural weights (a Network)" if need == "weights" else f"targets={{'{need}': ...}}"
                raise ValueError(f"feature {name!r} needs {what}; give it or leave {name!r} out of features.")
        out.append(name)
    return out


def default_features(targets: dict, has_weights: bool) -> list:
    """All features whose inputs exist."""
    return [n for n, f in FEATURES.items()
            if all((has_weights if nd == "weights" else nd in targets) for nd in f.needs)]


def compute_features(names, ctx: FeatureContext) -> dict:
    """``name -> numpy array (B,)`` for each feature of one chunk."""
    return {n: np.asarray(FEATURES[n].fn(ctx), dtype=float).reshape(-1) for n in names}
