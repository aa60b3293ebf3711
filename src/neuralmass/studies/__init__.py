"""Studies built on the library: complete, reproducible pipelines run from one config.

* :mod:`~neuralmass.studies.resting_state`: the main job (``neuralmass run``), simulated vs
  empirical resting-state FC/FCD on the bundled HCP data, with EEG/MEG when tvb-data is installed;
* :mod:`~neuralmass.studies.preflight`: the checks a study makes before simulating;
* :mod:`~neuralmass.studies.stimulation`: ``[[stimulus]]`` config blocks -> engine inputs;
* :mod:`~neuralmass.studies.output`: results folders written whole, nothing of the user's touched;
* :mod:`~neuralmass.studies.erp_inference`: amortized Jansen–Rit inference from ERPs
  (:func:`run_erp_inference_study`, :class:`ERPInferenceConfig`; needs the ``infer`` extra);
* :mod:`~neuralmass.studies.erp_paper_comparison`: the like-for-like comparison on the reference's
  simulator (:func:`run_paper_comparison`, :class:`PaperComparisonConfig`).
"""

from .output import OutputError, ResultsFolder
from .preflight import PreflightError
from .resting_state import StudyIncomplete, StudyInterrupted, StudyPlan, plan_study, run_study

__all__ = ["run_study", "plan_study", "StudyPlan", "StudyIncomplete", "StudyInterrupted", "PreflightError", "OutputError",
           "ResultsFolder", "run_erp_inference_study", "ERPInferenceConfig", "run_paper_comparison",
           "PaperComparisonConfig"]

_LAZY = {"run_erp_inference_study": "erp_inference", "ERPInferenceConfig": "erp_inference",
         "run_paper_comparison": "erp_paper_comparison", "PaperComparisonConfig": "erp_paper_comparison"}


def __getattr__(name):  # lazy: the inference studies need equinox/optax/flowjax
    if _LAZY.get(name) == "erp_inference":
        from . import erp_inference
        return getattr(erp_inference, name)
    if _LAZY.get(name) == "erp_paper_comparison":
        from . import erp_paper_comparison
        return getattr(erp_paper_comparison, name)
    raise AttributeError(f"module 'neuralmass.studies' has no attribute {name!r}")
