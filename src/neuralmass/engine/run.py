"""The pure core every caller uses: :func:`make_run_fn` and the compiled-segment cache.

:func:`make_run_fn` returns a pure, differentiable ``run(params, key) -> outputs`` (no host-side
work), used by the Fitter, the inference simulator and sweeps. :func:`compiled_segment` is the
cached, jitted segment the chunked :class:`~neuralmass.engine.simulator.Simulator` calls.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp

from ..integrators import get_integrator
from ..typing import Array
from ..units import time_ms
from .budget import check_budget
from .kernel import begin_recording, init_carry, segment_fn
from .plan import Plan, make_plan
from .program_cache import Program
from .rng import as_key
from .system import as_system

__all__ = ["make_run_fn", "compiled_segment", "default_params", "clear_cache"]

_CACHE: dict = {}


def clear_cache():
    """Forget every compiled program of this process (the next run compiles again)."""
    _CACHE.clear()


def cached(key, build):
    """``_CACHE[key]``, built by ``build()`` on first use."""
    fn = _CACHE.get(key)
    if fn is None:
        fn = _CACHE[key] = build()
    return fn


def axes_key(axes):
    if axes is None:
        return None
    leaves, tree = jax.tree_util.tree_flatten(axes, is_leaf=lambda x: x is None)
    return (tuple(leaves), str(tree))


def is_native(axes) -> bool:
    """Whether batching ``axes`` keep a delay line lanes-last (see ``kernel.batched_step``)."""
    return axes is not None and isinstance(axes[1][1], tuple)


def compiled_segment(system, rp, plan: Plan, n_outer: int, record: bool, axes):
    """The jitted segment of ``n_outer`` outer iterations of ``plan`` (cached by structure)."""
    key = (plan, n_outer, record, axes_key(axes), rp.fns_key)

    def build():
        if is_native(axes):
            seg = segment_fn(system, plan, rp.fns, n_outer, record, lanes=axes)
        else:
            seg = segment_fn(system, plan, rp.fns, n_outer, record)
            if axes is not None:
                p_axes, c_axes, e_axes = axes
                seg = jax.vmap(seg, in_axes=(p_axes, c_axes, e_axes), out_axes=(c_axes, 0))
        return Program(seg, "segment")

    return cached(key, build)


def default_params(system, overrides=None) -> dict:
    """Canonical parameter pytree ``{'node': ..., <system params>, 'noise': ...}``."""
    sysp = system.canonical_params({k: v for k, v in dict(overrides or {}).items() if k != "noise"})
    return {**sysp, "noise": system.noise_params()}


def _split(n: int, segments: int):
    """``n = S * q + r``: ``S`` (about ``segments``) equal pieces of ``q`` steps plus ``r``."""
    segments = max(1, min(int(segments), n))
    q = n // segments
    return segments, q, n - segments * q


def make_run_fn(system: Any, dt: Array, duration: Array, *, monitors: Any = None, transient: Array = 0.0,
                period: Array | None = None, method: str | None = None, inputs: Mapping | None = None,
                remat: int | None = None, compensated: bool | None = None,
                return_state: bool = False) -> Callable:
    """A pure, differentiable ``run(params, key, state=None) -> dict`` for fitting, inference and
    sweeps.

    The whole run (transient + recording) is built from ``lax.scan`` with no host-side checks, so
    it can be wrapped in :func:`jax.grad`, :func:`jax.vmap` or :func:`jax.jit`. ``params`` is the
    canonical parameter pytree returned by ``Simulator.params()`` (or :func:`default_params`);
    ``key`` is a PRNG key or an int; ``state`` (optional, traced) is the model state to start
    from, ``{name: array (n,)}`` in canonical units, in place of the system's initial state — e.g.
    the ``'state'`` a previous run returned.

    Parameters
    ----------
    remat : int, optional
        Gradient checkpointing: the transient and the recording are each split into about
        ``remat`` equal segments wrapped in :func:`jax.checkpoint`, so reverse-mode
        differentiation stores the state only at segment boundaries and recomputes inside a
        segment — memory grows like ``remat + steps / remat`` instead of ``steps`` for about one
        extra forward pass (``remat ≈ sqrt(steps)`` is the usual choice).
    compensated : bool, optional
        Kahan-compensated state updates; ``None`` follows the node model's policy (see
        :class:`~neuralmass.engine.simulator.Simulator`).
    return_state : bool
        Also return the model state at the end of the run as ``result['state']`` (a dict of
        ``(n,)`` arrays), to continue from it with another run's ``state=``.
    """
    system = as_system(system)
    dt = time_ms(dt, "dt")
    method = method or system.method or "heun"
    get_integrator(method)
    rp = make_plan(system, dt, method, duration, monitors, transient, period, inputs, compensated)
    check_budget(system, rp, 1, "run")    # per lane: a vmapped caller multiplies it
    plan = rp.plan
    if return_state and "state" in (m.key for m in plan.monitors):
        raise ValueError("return_state=True puts the final state under 'state', which is also a "
                         "monitor's name; rename that monitor (Monitor(name=...)).")
    ck = jax.checkpoint if remat else (lambda f: f)
    S = int(remat) if remat else 1

    def pieces_for(n, inner, record):
        out = []
        if n:
            segs, q, r = _split(n, S)
            p = plan.with_inner(inner)
            if q:
                out.append((ck(segment_fn(system, p, rp.fns, q, record)), segs))
            if r:
                out.append((ck(segment_fn(system, p, rp.fns, r, record)), 1))
        return out

    trans = pieces_for(rp.n_trans, 1, False)
    rec = pieces_for(rp.n_outer, plan.inner, True)

    def apply(pieces, params, carry):
        outs = []
        for fn, count in pieces:
            if count == 1:
                carry, o = fn(params, carry, rp.consts)
            else:
                carry, o = jax.lax.scan(lambda c, _, fn=fn: fn(params, c, rp.consts), carry, None, length=count)
                o = None if o is None else jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), o)
            outs.append(o)
        return carry, outs

    def run(params, key, state=None):
        carry = init_carry(system, plan, params, as_key(key), state=state)
        carry, _ = apply(trans, params, carry)
        carry = begin_recording(system, plan, params, carry)
        carry, outs = apply(rec, params, carry)
        result = {}
        for idx, (m, r) in enumerate(zip(plan.monitors, plan.ratios)):
            o = jnp.concatenate([out[idx] for out in outs], axis=0)
            result[m.key] = o if r == 1 else o[r - 1::r]
        if return_state:
            result["state"] = carry[0]
        return result

    run.monitor_keys = tuple(m.key for m in plan.monitors)
    run.n_steps = rp.n_steps
    run.system = system
    run.plan = rp
    return run
