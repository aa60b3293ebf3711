"""``backend='nevergrad'``: any optimiser of nevergrad's registry (default CMA-ES) via ask/tell.

Each generation of ``batch_size`` candidates is one batched evaluation. Candidates live on the
logit of the unit box, so every proposal is inside the bounds.

Reference: N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772 (2016).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def setup(fitter, state, tgt):
    try:
        import nevergrad as ng
    except ImportError as e:  # pragma: no cover - optional dependency
        raise ImportError("backend='nevergrad' needs nevergrad: pip install 'neuralmass[fit]'") from e
    from . import real_dtype

    f = fitter._batch_fn(tgt)
    Bsz = fitter.batch_size
    if state["opt"] is None:
        u0 = _logit(np.clip(fitter.space.init_box(), 0.02, 0.98))
        param = ng.p.Array(init=u0).set_mutation(sigma=1.0)
        param.random_state = np.random.RandomState(fitter.seed)
        # nevergrad's CMA needs the fcmaes package in one dimension; use DE there
        algo = fitter.optimizer or ("CMA" if fitter.space.dim > 1 else "TwoPointsDE")
        cls = ng.optimizers.registry[algo] if isinstance(algo, str) else algo
        state["opt"] = cls(parametrization=param, budget=None, num_workers=Bsz)
    opt = state["opt"]

    def step(state):
        cands = [opt.ask() for _ in range(Bsz)]
        Bx = _sigmoid(np.stack([c.value for c in cands]))
        L = np.asarray(f(jnp.asarray(Bx, real_dtype()), tgt, fitter._key(state["step"])))
        fitter.n_simulations += Bsz * fitter.realizations
        for c, l in zip(cands, L):
            opt.tell(c, float(l) if np.isfinite(l) else 1e30)
        return Bx, L

    return step, state


def _sigmoid(u):
    return 1.0 / (1.0 + np.exp(-np.asarray(u, dtype=float)))


def _logit(b):
    b = np.asarray(b, dtype=float)
    return np.log(b) - np.log1p(-b)
