"""Fitting model parameters to data.

:class:`Fitter` (gradients through the compiled simulation with optax, CMA-ES and other
evolution strategies with nevergrad, differential evolution with SciPy; every step one batched
run), :class:`FitResult`, and :class:`SearchSpace` (bounds, transforms and units of the fitted
parameters). :class:`ModuleFitter` is brainmass's call form, ``Fitter(model, optimizer,
predict=...)``, which fits the ``Param`` values a model object holds. See ``docs/fitting.md``.
"""

from .fitter import FitResult, Fitter, build_run
from .module_fitter import ModuleFitter
from .space import Dimension, SearchSpace

__all__ = ["Fitter", "FitResult", "ModuleFitter", "SearchSpace", "Dimension", "build_run"]
