"""The scan kernel: one integration step, a recorded segment, and the carried state.

Everything here is pure and traced by :func:`jax.jit`; the host side lives in
:mod:`neuralmass.engine.run` and :mod:`neuralmass.engine.simulator`.

Carry of one lane: ``(state, extra, nstate, key, i, mon, seen, comp, bad)`` — model state, the
system's own state (delay buffers), noise state (OU values and the current block of normals), the
lane's key (constant: normals are counter-based), the step counter, monitor states, the inputs of
the last step (only for models with input-dependent observables, else empty), the Kahan
compensation of each state variable (only with ``plan.compensated``, else empty), and the first
step at which each state variable stopped being finite (``-1`` while finite).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..integrators import compensated_add, get_increment, get_integrator
from ..noise import ou_step, white_input
from .plan import Plan
from .rng import NOISE_BLOCK, standard_normals
from .system import Reader

__all__ = ["make_step", "batched_step", "segment_fn", "init_carry", "begin_recording", "trace_count"]

_TRACES = {"segment": 0}


def trace_count() -> int:
    """Number of times a simulation segment has been traced (compiled) in this process."""
    return _TRACES["segment"]


def _noise_inputs(nstate, params, key, i, dt):
    """Noise added to each input at step ``i`` and the new noise state.

    Standard normals come from a block of :data:`NOISE_BLOCK` steps drawn at once (one RNG call
    per block); the stream depends only on the key and the step index."""
    states, buf = nstate["states"], nstate["xi"]
    buf = jax.lax.cond(i % NOISE_BLOCK == 0,
                       lambda: standard_normals(key, i // NOISE_BLOCK, buf.shape, buf.dtype),
                       lambda: buf)
    xi = buf[i % NOISE_BLOCK]
    added, new_s = {}, {}
    for row, name in enumerate(sorted(states)):
        p = params["noise"][name]
        if states[name] is None:
            added[name] = p["mean"] + white_input(p["sigma"], xi[row], dt)
            new_s[name] = None
        else:
            new_s[name] = added[name] = ou_step(states[name], xi[row], p["mean"], p["sigma"], p["tau"], dt)
    return added, {"states": new_s, "xi": buf}


def make_step(system, plan: Plan, fns, native: bool = False):
    """One integration step of one lane: ``step(carry, params, ext_const) -> carry``.

    With ``native=True`` (batched runs of a system with a delay line) the delayed sums are read by
    the caller for all lanes at once: the step is ``step(carry, params, ext_const, delayed) ->
    (carry, h)``, where ``h`` is what the lane sends into the delay line.
    """
    model = system.node_model
    integrate = get_integrator(plan.method)
    increment = get_increment(plan.method) if plan.compensated else None
    dt = plan.dt
    drift = model.drift

    def step(carry, params, ext_const, delayed=None):
        state, extra, nstate, key, i, mon, seen, comp, bad = carry
        inputs = {name: jnp.zeros(()) for name in model.input_names}
        for name, v in ext_const.items():
            inputs[name] = inputs[name] + v
        t = i * dt
        for name, (fn, inp) in fns.items():
            inputs[name] = inputs[name] + inp.to_canonical(fn(t))
        if nstate:
            added, nstate = _noise_inputs(nstate, params, key, i, dt)
            for name, v in added.items():
                inputs[name] = inputs[name] + v
        coupled, extra = system.coupling_inputs(extra, state, params, i, dt, delayed=delayed)
        for name, v in coupled.items():
            inputs[name] = inputs[name] + v
        if seen:
            seen = _seen_inputs(inputs, state)
        if increment is None:
            state = integrate(drift, state, params["node"], inputs, dt)
        else:
            state, comp = compensated_add(state, increment(drift, state, params["node"], inputs, dt), comp)
        if native:
            h = system.delay_source(state, params)
        else:
            extra = system.push(extra, state, params, i, dt)
        reader = Reader(system, state, params, seen)
        mon = tuple((m.step(ms, reader, dt), cnt) for m, (ms, cnt) in zip(plan.monitors, mon))
        finite = jnp.stack([jnp.all(jnp.isfinite(state[k])) for k in model.state_names])
        bad = jnp.where((bad < 0) & ~finite, i, bad)
        carry = (state, extra, nstate, key, i + 1, mon, seen, comp, bad)
        return (carry, h) if native else carry

    return step


def batched_step(system, plan: Plan, fns, axes):
    """One step of all lanes of a batched run whose system has a delay line.

    Everything per lane (noise, node dynamics, monitors) runs under :func:`jax.vmap`; the delay
    line is read and written once for all lanes, with its buffers laid out lanes-last
    ``(n, 2L, B)``, so each edge's read is one contiguous copy of ``K * B`` values instead of ``B``
    separate small gathers (the vmapped per-edge gather is the slow part of batched delayed
    networks on CPUs). The carry's ``extra`` is ``(per-lane part, delay-line part)``.
    """
    p_axes, c_axes, e_axes = axes
    lane_axes = (c_axes[0], c_axes[1][0]) + tuple(c_axes[2:])
    lane = jax.vmap(make_step(system, plan, fns, native=True),
                    in_axes=(lane_axes, p_axes, e_axes, -1), out_axes=(lane_axes, -1))
    dt = plan.dt

    def step(carry, params, params_last, ext_const):
        state, (rest, line), nstate, key, i, mon, seen, comp, bad = carry
        s, line = system.read_delays(line, params_last, i, dt)
        lane_carry, h = lane((state, rest, nstate, key, i, mon, seen, comp, bad), params, ext_const, s)
        state, rest, nstate, key, i1, mon, seen, comp, bad = lane_carry
        line = system.write_delays(line, h, i, dt)
        return (state, (rest, line), nstate, key, i1, mon, seen, comp, bad)

    return step


def lanes_last(params, p_axes):
    """``params`` with every batched leaf's lane axis moved last (the delay line's layout)."""
    return jax.tree.map(lambda ax, a: a if ax is None else jnp.moveaxis(a, ax, -1), p_axes, params,
                        is_leaf=lambda x: x is None)


def _sampler(system, plan: Plan):
    """``sample(params, carry) -> (carry, outputs)``: every monitor's sample of one lane."""

    def sample(params, c):
        state, extra, nstate, key, i, mon, seen, comp, bad = c
        reader = Reader(system, state, params, seen)
        outs, new_mon = [], []
        for m, r, (ms, cnt) in zip(plan.monitors, plan.ratios, mon):
            if r == 1:
                ms, o = m.sample(ms, reader)
            else:
                # sample every r-th outer iteration; zeros in between (dropped on the host)
                cnt = cnt + 1
                shape = jax.eval_shape(lambda s_: m.sample(s_, reader)[1], ms)
                ms, o = jax.lax.cond(
                    cnt >= r, lambda s_: m.sample(s_, reader),
                    lambda s_: (s_, jnp.zeros(shape.shape, shape.dtype)), ms)
                cnt = jnp.where(cnt >= r, 0, cnt)
            new_mon.append((ms, cnt))
            outs.append(o)
        return (state, extra, nstate, key, i, tuple(new_mon), seen, comp, bad), tuple(outs)

    return sample


def segment_fn(system, plan: Plan, fns, n_outer: int, record: bool, lanes=None):
    """Pure ``run(params, carry, ext_const) -> (carry, outputs)`` advancing ``n_outer * plan.inner``
    steps, recording when ``record``.

    ``lanes``: the vmap axes of a batched run whose system reads its delay line for all lanes at
    once (:func:`batched_step`); ``None`` for a single lane (batched runs of other systems vmap
    this function as a whole). Batched (lanes) runs return time-major ``(T, B, ...)`` outputs.
    """
    sample = _sampler(system, plan)
    if lanes is None:
        step = make_step(system, plan, fns)
    else:
        p_axes, c_axes, _ = lanes
        bstep = batched_step(system, plan, fns, lanes)
        sample = jax.vmap(sample, in_axes=(p_axes, c_axes), out_axes=(c_axes, 0))

    def run(params, carry, ext_const):
        _TRACES["segment"] += 1
        if lanes is None:
            body = lambda c: step(c, params, ext_const)  # noqa: E731
        else:
            params_last = lanes_last(params, lanes[0])
            body = lambda c: bstep(c, params, params_last, ext_const)  # noqa: E731

        def inner(c, _):
            return body(c), None

        def outer(c, _):
            c, _ = jax.lax.scan(inner, c, None, length=plan.inner)
            if not record:
                return c, None
            return sample(params, c)

        return jax.lax.scan(outer, carry, None, length=n_outer)

    return run


def begin_recording(system, plan, params, carry):
    """Let monitors reset accumulators when recording starts (after the transient)."""
    state, extra, nstate, key, i, mon, seen, comp, bad = carry
    reader = Reader(system, state, params, seen)
    mon = tuple((m.begin(ms, reader), jnp.zeros_like(cnt)) for m, (ms, cnt) in zip(plan.monitors, mon))
    return (state, extra, nstate, key, i, mon, seen, comp, bad)


def init_carry(system, plan, params, key, native: tuple = (), state=None):
    """The carry at step 0 (``native``: delay-line keys kept apart, lanes-last, in batched runs;
    ``state``: a starting state in place of the system's initial state, e.g. the end of another
    run)."""
    state = system.initial_state() if state is None else state
    key, k_extra, k_noise = jax.random.split(key, 3)
    extra = system.init_extra(state, params, plan.dt, k_extra)
    if native:
        extra = ({k: v for k, v in extra.items() if k not in native},
                 {k: v for k, v in extra.items() if k in native})
    states = {}
    for name in sorted(params["noise"]):
        p = params["noise"][name]
        if "init" in p:   # an OU process with a given start
            states[name] = jnp.broadcast_to(jnp.asarray(p["init"], dtype=float), (system.n,))
        elif "tau" in p:
            # start the OU process in its stationary distribution
            k_noise, kk = jax.random.split(k_noise)
            states[name] = p["mean"] + p["sigma"] * jax.random.normal(kk, (system.n,))
        else:
            states[name] = None
    nstate = {"states": states, "xi": jnp.zeros((NOISE_BLOCK, len(states), system.n))} if states else {}
    model = system.node_model
    # inputs seen by input-dependent observables: none before the first step
    seen = _seen_inputs({k: jnp.zeros(()) for k in model.input_names}, state) if model.uses_inputs else {}
    reader = Reader(system, state, params, seen)
    mon = tuple((m.init(reader, plan.dt), jnp.zeros((), jnp.int32)) for m in plan.monitors)
    comp = {k: jnp.zeros_like(v) for k, v in state.items()} if plan.compensated else {}
    bad = jnp.full((len(system.node_model.state_names),), -1, dtype=jnp.int32)
    return (state, extra, nstate, key, jnp.asarray(0, dtype=jnp.int32), mon, seen, comp, bad)


def _seen_inputs(inputs, state):
    """A step's inputs as carried for input-dependent observables: every channel ``(n,)``, in the
    state's dtype (so the carry keeps one shape whatever feeds each channel)."""
    ref = next(iter(state.values()))
    return {k: jnp.broadcast_to(v, ref.shape).astype(ref.dtype) for k, v in inputs.items()}
