"""Studies built on the library: complete, reproducible pipelines run from one config.

* :mod:`~neuralmass.studies.resting_state`: the main job (``neuralmass run``), simulated vs
  empirical resting-state FC/FCD on the bundled HCP data, with EEG/MEG when tvb-data is installed;
* :mod:`~neuralmass.studies.preflight`: the checks a study makes before simulating;
* :mod:`~neuralmass.studies.stimulation`: ``[[stimulus]]`` config blocks -> engine inputs;
* :mod:`~neuralmass.studies.output`: results folders written whole, nothing of the user's touched.
"""

from .output import OutputError, ResultsFolder
from .preflight import PreflightError
from .resting_state import StudyIncomplete, StudyInterrupted, StudyPlan, plan_study, run_study

__all__ = ["run_study", "plan_study", "StudyPlan", "StudyIncomplete", "StudyInterrupted",
           "PreflightError", "OutputError", "ResultsFolder"]
