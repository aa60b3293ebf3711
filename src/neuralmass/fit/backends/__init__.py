"""Optimisers behind :class:`neuralmass.fit.Fitter`, one module each, found through :data:`BACKENDS`.

A backend is a function ``setup(fitter, state, target) -> (step, state)``: ``state`` is the
checkpointed dict of :meth:`Fitter.fit` (its ``"opt"`` entry is the backend's own, ``None`` on a
fresh start) and ``step(state) -> (points, losses)`` runs one step or generation as one batched
evaluation, returning the evaluated points (unit box, ``(B, dim)``) and their losses ``(B,)``.

``'grad'`` (:mod:`.grad`)
    optax on the unconstrained coordinates, reverse-mode gradients through the simulation.
``'nevergrad'`` (:mod:`.nevergrad`)
    any nevergrad optimiser (default CMA-ES) through ask/tell.
``'scipy'`` (:mod:`.scipy`)
    SciPy's differential evolution, one generation per batch.
"""

from __future__ import annotations

import jax.numpy as jnp

from . import grad, nevergrad, scipy

__all__ = ["BACKENDS", "real_dtype"]

#: backend name -> ``setup(fitter, state, target)``
BACKENDS = {"grad": grad.setup, "nevergrad": nevergrad.setup, "scipy": scipy.setup}


def real_dtype():
    """JAX's default float type: float32, or float64 under ``jax_enable_x64`` (targets, points and
    losses follow it, so a float64 fit is float64 throughout)."""
    return jnp.dtype(jnp.result_type(float))
