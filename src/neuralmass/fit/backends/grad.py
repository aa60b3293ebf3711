"""``backend='grad'``: an optax optimiser (default Adam) on the unconstrained coordinates.

Gradients come from reverse-mode differentiation through the whole simulation
(:meth:`Fitter._grad_fn`); ``restarts`` independent starts run as one batch; the global gradient
norm is clipped to ``clip``.

Reference: D. P. Kingma & J. Ba, "Adam: a method for stochastic optimization", ICLR (2015).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def setup(fitter, state, tgt):
    import optax

    from . import real_dtype

    opt = fitter.optimizer if fitter.optimizer is not None else optax.adam(fitter.lr)
    if fitter.clip:
        opt = optax.chain(optax.clip_by_global_norm(float(fitter.clip)), opt)
    vg = fitter._grad_fn(tgt)
    update = jax.jit(jax.vmap(lambda g, s, z: _apply(opt, g, s, z)))
    if state["opt"] is None:
        Z = jnp.asarray(fitter.space.box_to_z(fitter._start_points(fitter.batch_size)), real_dtype())
        state["opt"] = {"z": np.asarray(Z), "s": jax.device_get(jax.vmap(opt.init)(Z))}

    def step(state):
        Z = jnp.asarray(state["opt"]["z"])
        L, G = vg(Z, tgt, fitter._key(state["step"]))
        fitter.n_simulations += Z.shape[0] * fitter.realizations
        Bx = np.asarray(fitter.space.z_to_box(Z))
        Z, S = update(G, state["opt"]["s"], Z)
        state["opt"] = {"z": np.asarray(Z), "s": jax.device_get(S)}
        return Bx, np.asarray(L)

    return step, state


def _apply(opt, g, s, z):
    import optax

    upd, s = opt.update(g, s, z)
    return optax.apply_updates(z, upd), s
