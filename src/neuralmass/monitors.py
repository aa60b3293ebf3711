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

__all__ = ["Monitor", "Raw", "TemporalAverage", "Expression"]


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

    def init(self, read: Callable, dt: float) -> Any:
        return ()

    def step(self, mstate, read: Callable, dt: float):
        return mstate

    def begin(self, mstate, read: Callable):
        return mstate

    def sample(self, mstate, read: Callable):
        raise NotImplementedError


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


@dataclass(frozen=True, eq=False)
class Expression(Monitor):
    """Records ``fn(view)`` where ``view`` exposes the model as attributes, e.g.
    ``lambda m: m.node.rE.value`` (the seed's callable monitors). Hashed by identity of ``fn``."""

    fn: Callable | None = None

    def __hash__(self):
        return hash((type(self), self.fn, self.period, self.name))

    def __eq__(self, other):
        return (type(self) is type(other) and self.fn is other.fn and self.period == other.period
                and self.name == other.name)

    @property
    def key(self) -> str:
        return self.name or "output"

    def sample(self, mstate, read):
        return mstate, self.fn(read.view)
