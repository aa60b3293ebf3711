"""Delays inside a node: inputs of a model that carry its own states from ``d`` ms ago.

A model declares them in ``extra['node_delays']``: ``{input: (state, delay parameter)}``, e.g.
``{'rE_dEE': ('rE', 'delay_EE')}`` — the drift then reads ``inputs['rE_dEE']`` as
:math:`r_E(t - d_{EE})`. The node's history is a ring of the last ``L`` states of those variables
(``L`` = the longest lag + 1, sized from concrete delay values); each step first stores the
current state (step ``i``) at slot ``i mod L`` and then reads slot ``(i - k) mod L`` for a lag of
``k = round(d / dt)`` steps (a delay is rounded to whole steps; ``k = 0`` reads the current state).
Before the start the history is the initial state (constant), and the delayed values are held over
the step (as a network's delay line). :class:`~neuralmass.models.system.NodeSystem` (the engine),
:class:`neuralmass.Network` and the stateful node modules all step it with these functions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["node_delays", "history_sources", "history_length", "init_history", "step_history"]


def node_delays(model) -> dict:
    """``{input: (state, delay parameter)}`` of ``model`` (empty when it has none)."""
    return model.extra.get("node_delays", {})


def history_sources(model) -> list:
    """The state variables whose history the node keeps."""
    return sorted({s for s, _ in node_delays(model).values()})


def _concrete(v) -> bool:
    return not isinstance(v, jax.core.Tracer)


def history_length(model, params_list, dt: float) -> int:
    """Ring length ``L`` (longest lag + 1 steps) for the concrete delay values among the parameter
    dicts ``params_list`` (canonical units: ms); a delay must be finite and >= 0."""
    longest = 0
    for params in params_list:
        for _, p in node_delays(model).values():
            v = params[p]
            if not _concrete(v):
                continue
            d = np.asarray(v, dtype=float)
            if np.any(~np.isfinite(d)) or np.any(d < 0):
                raise ValueError(f"{model.name}: {p}={d.tolist()} ms; a delay must be finite and >= 0 ms "
                                 f"(0 reads the current state).")
            longest = max(longest, int(np.max(np.rint(d / float(dt)))))
    return longest + 1


def init_history(model, state, length: int) -> dict:
    """The history before the start: every slot holds the initial state."""
    return {s: jnp.broadcast_to(state[s], (length,) + jnp.shape(state[s])) for s in history_sources(model)}


def step_history(model, hist, state, params, i, dt):
    """Store the state of step ``i`` and read the delayed inputs: ``(inputs, hist)``.

    A lag longer than the ring (a delay raised by a traced override past the values the ring was
    sized for) reads NaN, which the engine reports as a divergence, never a wrong value."""
    L = next(iter(hist.values())).shape[0]
    slot = jnp.mod(jnp.asarray(i), L)
    hist = {s: h.at[slot].set(jnp.broadcast_to(state[s], h.shape[1:]).astype(h.dtype)) for s, h in hist.items()}
    out = {}
    for inp, (s, p) in node_delays(model).items():
        h = hist[s]
        k = jnp.rint(jnp.asarray(params[p]) / dt).astype(jnp.int32)
        idx = jnp.broadcast_to(jnp.mod(i - k, L), h.shape[1:])
        val = jnp.take_along_axis(h, idx[None], axis=0)[0]
        out[inp] = jnp.where((k >= 0) & (k < L), val, jnp.nan)
    return out, hist
