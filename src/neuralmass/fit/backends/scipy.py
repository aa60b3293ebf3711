"""``backend='scipy'``: :func:`scipy.optimize.differential_evolution` semantics, one generation a batch.

``best1bin`` with deferred updating, so a whole generation is one batched evaluation (SciPy's
``vectorized=True``). Differential evolution is chosen over ``scipy.optimize.minimize`` because
its population *is* the batch and it is global; finite-difference quasi-Newton methods need a
smooth, noise-free objective and ``2 d`` evaluations per gradient.

Reference: R. Storn & K. Price, "Differential evolution", J. Global Optim. 11 (1997) 341–359.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

#: the solver attributes that ``__next__`` changes: checkpointed between generations
_DE_STATE = ("population", "population_energies", "random_number_generator", "_nfev", "feasible",
             "constraint_violation", "scale", "_random_population_index")


def setup(fitter, state, tgt):
    from scipy.optimize._differentialevolution import DifferentialEvolutionSolver

    from . import real_dtype

    f = fitter._batch_fn(tgt)
    d = fitter.space.dim
    cur = {"step": state["step"]}

    def func(X):  # X: (d, S) in the unit box
        X = np.atleast_2d(np.asarray(X).T)
        L = np.asarray(f(jnp.asarray(X, real_dtype()), tgt, fitter._key(cur["step"])))
        fitter.n_simulations += X.shape[0] * fitter.realizations
        return np.where(np.isfinite(L), L, 1e30)

    strategy = fitter.optimizer or "best1bin"
    solver = DifferentialEvolutionSolver(
        func, [(0.0, 1.0)] * d, strategy=strategy, init=fitter._start_points(fitter.batch_size),
        rng=np.random.default_rng(fitter.seed), polish=False, updating="deferred",
        vectorized=True, tol=0.0, maxiter=10 ** 9)
    if state["opt"] is not None:
        for k, v in state["opt"].items():
            setattr(solver, k, v)

    def step(state):
        cur["step"] = state["step"]
        next(solver)
        pop, en = np.asarray(solver.population), np.asarray(solver.population_energies)
        state["opt"] = {k: getattr(solver, k) for k in _DE_STATE if hasattr(solver, k)}
        return pop, en

    return step, state
