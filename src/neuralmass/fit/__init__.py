"""Fitting model parameters to data.

:class:`Fitter` (gradients through the compiled simulation with optax, CMA-ES and other
evolution strategies with nevergrad, differential evolution with SciPy; every step one batched
run), :class:`FitResult`, and :class:`SearchSpace` (bounds, transforms and units of the fitted
parameters). See ``docs/fitting.md``.
"""

from .fitter import FitResult, Fitter, build_run
from .space import Dimension, SearchSpace

__all__ = ["Fitter", "FitResult", "SearchSpace", "Dimension", "build_run"]
