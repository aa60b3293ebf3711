"""Amortized inference of neural-mass parameters from simulated data.

* :mod:`.erp` — batched Jansen–Rit event-related potentials projected to EEG sensors;
* :mod:`.priors` — priors over the inferred parameters (with the reference's names);
* :mod:`.estimators` — neural point estimators (transformer, LSTM, CNN-BiLSTM) and training;
* :mod:`.npe` — neural posterior estimation with a normalizing flow;
* :mod:`.diagnostics` — recovery metrics, calibration and autodiff sensitivity;
* :mod:`.study` — the reproducible study (:func:`run_study`).

The estimators and NPE need the ``infer`` extra (equinox, optax, flowjax).
"""

from .diagnostics import (coverage, erp_sensitivity, laplace_r_ceiling, nrmse, pearson_r, point_metrics, posterior_zscore,
                          r2_score, sbc_ranks, sbc_uniformity, shrinkage, symmetry_residuals)
from .erp import (ERPConfig, add_sensor_noise, eeg_gain, erp_source, erp_times, project, simulate_erps,
                  stimulus, synthetic_gain, volts_params)
from .priors import (OURS_TO_PAPER, PAPER_NAMES, PAPER_TO_OURS, PARAM_NAMES, PRESETS, BoxUniform, Normal, Prior,
                     make_prior, prior_preset)

__all__ = [
    "ERPConfig", "erp_source", "simulate_erps", "stimulus", "volts_params", "synthetic_gain", "eeg_gain",
    "project", "add_sensor_noise", "erp_times",
    "Prior", "BoxUniform", "Normal", "make_prior", "prior_preset", "PRESETS", "PARAM_NAMES", "PAPER_NAMES", "PAPER_TO_OURS",
    "OURS_TO_PAPER",
    "pearson_r", "r2_score", "nrmse", "point_metrics", "posterior_zscore", "shrinkage", "sbc_ranks",
    "sbc_uniformity", "coverage", "erp_sensitivity", "symmetry_residuals", "laplace_r_ceiling", "run_study", "StudyConfig",
]


def __getattr__(name):  # lazy: the study needs equinox/optax/flowjax
    if name in ("run_study", "StudyConfig"):
        from . import study
        return getattr(study, name)
    raise AttributeError(name)
