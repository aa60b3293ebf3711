"""Deprecated: the amortized-inference study moved to :mod:`neuralmass.studies.erp_inference`.

``StudyConfig`` is now :class:`~neuralmass.studies.erp_inference.ERPInferenceConfig` and
``run_study`` :func:`~neuralmass.studies.erp_inference.run_erp_inference_study` (the old names
clashed with :func:`neuralmass.studies.run_study`, the resting-state study). This module keeps
the old names for existing scripts and warns; it will be removed.
"""

import warnings

from ..studies.erp_inference import (PAPER_TRANSFORMER_R, ERPInferenceConfig, _mse_loss, _nll_loss,  # noqa: F401
                                     _sensor_prep, _source_prep, run_erp_inference_study)

StudyConfig = ERPInferenceConfig
run_study = run_erp_inference_study

__all__ = ["StudyConfig", "run_study", "PAPER_TRANSFORMER_R"]

warnings.warn("neuralmass.inference.study is deprecated: use neuralmass.studies.erp_inference "
              "(ERPInferenceConfig, run_erp_inference_study).", DeprecationWarning, stacklevel=2)
