"""Amortized inference of neural-mass parameters from simulated data.

* :mod:`.erp` — batched Jansen–Rit event-related potentials projected to EEG sensors;
* :mod:`.priors` — priors over the inferred parameters (with the reference's names);
* :mod:`.estimators` — neural point estimators (transformer, LSTM, CNN-BiLSTM) and training;
* :mod:`.npe` — neural posterior estimation with a normalizing flow;
* :mod:`.posterior` — :class:`Posterior`, a trained posterior to sample, evaluate, save and check;
* :mod:`.paper` — the reference's simulator (Tilwani & O'Reilly 2025) as an option;
* :mod:`.diagnostics` — recovery metrics, calibration and autodiff sensitivity.

The studies built on them are applications and live with the other studies:
:mod:`neuralmass.studies.erp_inference` (:func:`~neuralmass.studies.erp_inference.run_erp_inference_study`,
formerly ``run_study``/``StudyConfig`` here) and :mod:`neuralmass.studies.erp_paper_comparison`
(:func:`~neuralmass.studies.erp_paper_comparison.run_paper_comparison`). The old names still
import from here, with a DeprecationWarning.

The estimators and NPE need the ``infer`` extra (equinox, optax, flowjax).
"""

from .diagnostics import (coverage, erp_sensitivity, laplace_r_ceiling, nrmse, pearson_r, point_metrics, posterior_zscore,
                          r2_score, sbc_ranks, sbc_uniformity, shrinkage, symmetry_residuals)
from .erp import (DIPOLE_NAM_PER_MV, ERPConfig, add_absolute_noise, add_sensor_noise, eeg_gain, eeg_leadfield,
                  erp_batch, erp_flags, erp_source, erp_stimulus, erp_times, project, simulate_erps, stimulus,
                  synthetic_gain, synthetic_leadfield, to_sensors_uv, volts_params)
from .paper import PaperERPConfig, clean_mask, paper_erp_source, paper_sensor_noise, simulate_paper_erps
from .priors import (OURS_TO_PAPER, PAPER_NAMES, PAPER_TO_OURS, PARAM_NAMES, PRESETS, BoxUniform, Normal, Prior,
                     make_prior, prior_preset)

__all__ = [
    "ERPConfig", "erp_source", "erp_batch", "simulate_erps", "stimulus", "erp_stimulus", "volts_params", "synthetic_gain", "eeg_gain",
    "project", "add_sensor_noise", "erp_times", "eeg_leadfield", "synthetic_leadfield", "to_sensors_uv",
    "add_absolute_noise", "erp_flags", "DIPOLE_NAM_PER_MV",
    "PaperERPConfig", "paper_erp_source", "simulate_paper_erps", "paper_sensor_noise", "clean_mask",
    "Posterior", "posterior_predictive", "plot_posterior_predictive",
    "Prior", "BoxUniform", "Normal", "make_prior", "prior_preset", "PRESETS", "PARAM_NAMES", "PAPER_NAMES", "PAPER_TO_OURS",
    "OURS_TO_PAPER",
    "pearson_r", "r2_score", "nrmse", "point_metrics", "posterior_zscore", "shrinkage", "sbc_ranks",
    "sbc_uniformity", "coverage", "erp_sensitivity", "symmetry_residuals", "laplace_r_ceiling",
]

# deprecated names (moved to neuralmass.studies): old name -> (new module, new name)
_MOVED = {"run_study": ("erp_inference", "run_erp_inference_study"),
          "StudyConfig": ("erp_inference", "ERPInferenceConfig"),
          "run_paper_comparison": ("erp_paper_comparison", "run_paper_comparison"),
          "PaperComparisonConfig": ("erp_paper_comparison", "PaperComparisonConfig")}


def __getattr__(name):  # lazy: these need equinox/optax/flowjax
    if name in _MOVED:
        import warnings

        module, new = _MOVED[name]
        warnings.warn(f"neuralmass.inference.{name} is deprecated: use neuralmass.studies.{module}.{new}.",
                      DeprecationWarning, stacklevel=2)
        if module == "erp_inference":
            from . import study as old
        else:
            from . import paper_study as old
        return getattr(old, name)
    if name in ("Posterior", "posterior_predictive", "plot_posterior_predictive"):
        from . import posterior
        return getattr(posterior, name)
    raise AttributeError(f"module 'neuralmass.inference' has no attribute {name!r}")
