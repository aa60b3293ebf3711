"""Monitors: what a simulation records, reduced inside the compiled loop.

A monitor is a small, hashable, pure object (its fields are static configuration):

``init(read, dt) -> mstate``
    Initial monitor state; ``read(name)`` returns the current value (canonical units, shape
    ``(n,)``) of a state variable or observable, ``dt`` is the step in ms.
``step(mstate, read, dt) -> mstate``
    Called after every integration step, during the transient too (so online BOLD is warm).
``sample(mstate, read) -> (mstate, out)``
    Called once per ``period``; ``out`` is recorded.
``begin(mstate, read) -> mstate``
    Called once when recording starts (after the transient): accumulating monitors reset here,
    so the first sample covers only recorded time; stateful ones (BOLD) keep their state.

Because monitors reduce online, a long run never materialises every step: a sub-sampled raw
monitor stores one value per period, :class:`TemporalAverage` one mean per period, and the BOLD
monitor (:class:`neuralmass.forward.bold.BOLDMonitor`) one BOLD value per TR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax.numpy as jnp

__all__ = ["Monitor", "Raw", "TemporalAverage", "Expression", "process_sequence"]


@dataclass(frozen=True)
class Monitor:
    """Base class: records ``variable`` every ``period`` (ms; ``None`` = the run's period)."""

    variable: str = ""
    period: float | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.variable

    @property
    def unit(self):
        return None

    def output_width(self, system) -> int:
        """Values recorded per sample and lane (the engine's memory estimate): what
        ``read(variable)`` returns (``system.read_width`` where the system has it, e.g. a
        surface network's region means), else one per node."""
        width = getattr(system, "read_width", None)
        if callable(width) and isinstance(self.variable, str) and self.variable:
            return int(width(self.variable))
        return int(system.n)

    def init(self, read: Callable, dt: float) -> Any:
        return ()

    def step(self, mstate, read: Callable, dt: float):
        return mstate

    def begin(self, mstate, read: Callable):
        return mstate

    def sample(self, mstate, read: Callable):
        raise NotImplementedError

    def out_of_range(self) -> str:
        """Why this monitor's output stopped being finite while the model state stayed finite,
        and the fix (the engine's :class:`SimulationDiverged` message quotes it)."""
        return "its input is out of the monitor's valid range."


@dataclass(frozen=True)
class Raw(Monitor):
    """Instantaneous value of ``variable`` sampled every ``period`` (sub-sampling)."""

    def sample(self, mstate, read):
        return mstate, read(self.variable)


@dataclass(frozen=True)
class TemporalAverage(Monitor):
    """Mean of ``variable`` over each period (an anti-aliased sub-sampling)."""

    def init(self, read, dt):
        x = read(self.variable)
        return (jnp.zeros_like(x), jnp.zeros(()))

    def step(self, mstate, read, dt):
        acc, count = mstate
        return (acc + read(self.variable), count + 1.0)

    def begin(self, mstate, read):
        acc, _ = mstate
        return (jnp.zeros_like(acc), jnp.zeros(()))

    def sample(self, mstate, read):
        acc, count = mstate
        return (jnp.zeros_like(acc), jnp.zeros(())), acc / jnp.maximum(count, 1.0)


def _code_identity(code):
    """What a code object computes, without where it was written (file, line numbers)."""
    consts = tuple(_code_identity(c) if hasattr(c, "co_code") else c for c in code.co_consts)
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars, code.co_argcount)


def _fn_identity(fn):
    """What a callable computes: its code plus every value it reads from outside (closure cells,
    defaults, referenced globals, bound ``self``), so two lambdas written the same way — on each
    call of a loop, or in two notebook cells — are one compiled program, while a lambda reading a
    different value is another. Values that cannot be hashed fall back to their identity."""
    fn_self = getattr(fn, "__self__", None)
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is None:
        return ("obj", id(fn))

    def h(v):
        try:
            hash(v)
            return v
        except TypeError:
            return ("id", id(v))

    cells = tuple(h(c.cell_contents) for c in (func.__closure__ or ()))
    glb = getattr(func, "__globals__", {})
    used = tuple((n, h(glb[n])) for n in code.co_names if n in glb)
    return ("code", _code_identity(code), cells, used, h(func.__defaults__),
            None if fn_self is None else h(fn_self))


@dataclass(frozen=True, eq=False)
class Expression(Monitor):
    """Records ``fn(view)`` where ``view`` exposes the model as attributes, e.g.
    ``lambda m: m.node.rE.value`` (the seed's callable monitors).

    Two expressions are the same monitor (and reuse one compiled program) when their functions
    have the same code and capture the same values — so the seeds' pattern of passing a new
    ``lambda`` on every ``run()`` call compiles once."""

    fn: Callable | None = None

    def _ident(self):
        return (type(self), _fn_identity(self.fn), self.period, self.name)

    def __hash__(self):
        return hash(self._ident())

    def __eq__(self, other):
        return isinstance(other, Expression) and self._ident() == other._ident()

    @property
    def key(self) -> str:
        return self.name or "output"

    def sample(self, mstate, read):
        return mstate, self.fn(read.view)


_REDUCTIONS = {
    "stack": lambda x: x,
    "last": lambda x: x[-1],
    "first": lambda x: x[0],
    "avg": lambda x: jnp.mean(x, axis=0),
    "mean": lambda x: jnp.mean(x, axis=0),
    "max": lambda x: jnp.max(x, axis=0),
    "min": lambda x: jnp.min(x, axis=0),
}


def process_sequence(data, mode="stack"):
    """Reduce recorded sequences (time on axis 0 of every leaf of the pytree ``data``) with
    ``mode``: ``'stack'`` (unchanged), ``'last'``, ``'first'``, ``'avg'``/``'mean'``, ``'max'``,
    ``'min'``, or a function applied to each leaf (brainmass's ``process_sequence``)."""
    import jax

    if callable(mode):
        fn = mode
    elif mode in _REDUCTIONS:
        fn = _REDUCTIONS[mode]
    else:
        raise ValueError(f"mode={mode!r} is not known; use one of {', '.join(_REDUCTIONS)} or a function.")
    return jax.tree_util.tree_map(lambda x: fn(jnp.asarray(x)), data)
