"""Compatibility name for :mod:`neuralmass.studies.resting_state` (the main job)."""

from .studies.resting_state import StudyIncomplete, StudyPlan, plan_study, run_study  # noqa: F401

__all__ = ["run_study", "plan_study", "StudyPlan", "StudyIncomplete"]
