"""Run planning: step size, durations, step counts, monitors and inputs resolved once.

:func:`make_plan` turns what a user asks for (``duration``, ``transient``, ``monitors``,
``period``, ``inputs``) into a :class:`RunPlan`: the static :class:`Plan` (hashable; it keys the
compile cache), the step counts, and the external inputs split into traced constants and time
functions. Every check that can fail runs here, before any simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ..monitors import Expression, Monitor, Raw, _fn_identity
from ..units import is_quantity, time_ms

__all__ = ["Plan", "RunPlan", "make_plan", "resolve_monitors", "external_inputs", "resolve_compensated"]


@dataclass(frozen=True)
class Plan:
    """Static structure of a compiled run (its hash keys the compile cache)."""

    system_key: Any
    dt: float
    method: str
    monitors: tuple
    inner: int                  # steps per outer iteration (gcd of the monitor periods)
    input_kinds: tuple          # (name, 'const'|'fn') for external inputs
    ratios: tuple = ()          # outer iterations per sample, per monitor
    compensated: bool = False   # Kahan-compensated state updates (integrators.compensated_add)

    def with_inner(self, inner: int) -> "Plan":
        return replace(self, inner=inner)


@dataclass(frozen=True)
class RunPlan:
    """A planned run: the static plan, step counts and the external inputs."""

    plan: Plan
    n_trans: int                # transient steps (integrated, not recorded)
    n_outer: int                # recorded outer iterations of ``plan.inner`` steps
    fns: dict                   # input name -> (f(t_ms), InputVar), evaluated in the loop
    consts: dict                # input name -> canonical array (traced)

    @property
    def fns_key(self):
        return tuple(sorted((k, _fn_identity(f[0])) for k, f in self.fns.items()))

    @property
    def n_steps(self) -> int:
        return self.n_trans + self.n_outer * self.plan.inner


def resolve_monitors(model, monitors, period_ms) -> tuple:
    """Monitor objects from names, :class:`Monitor` instances and callables."""
    if monitors is None:
        monitors = [model.output or model.state_names[0]]
    if isinstance(monitors, (str, Monitor)) or (callable(monitors) and not isinstance(monitors, Sequence)):
        monitors = [monitors]
    out = []
    for m in monitors:
        if isinstance(m, str):
            try:
                model.read(m, model.initial_state(1), model.default_params())
            except KeyError as e:
                raise ValueError(f"monitors: {e.args[0]}") from None
            out.append(Raw(variable=m, period=period_ms))
        elif isinstance(m, Monitor):
            out.append(m)
        elif callable(m):
            out.append(Expression(fn=m, period=period_ms))
        else:
            raise TypeError(f"monitors entry {m!r} is not a variable name, a Monitor or a callable.")
    keys = [m.key for m in out]
    if len(set(keys)) != len(keys):
        raise ValueError(f"monitors have duplicate names {keys}; give Monitor(name=...) to distinguish.")
    return tuple(out)


def resolve_compensated(system, method, compensated: bool | None) -> bool:
    """Whether a run uses compensated updates: ``compensated`` if given (checked against
    ``method``), else the node model's policy; never in float64 runs (nothing stalls there)."""
    import jax

    if compensated is None:
        compensated = bool(getattr(system.node_model, "compensated", False))
        if compensated and callable(method):
            return False
    elif not isinstance(compensated, bool):
        raise ValueError(f"compensated={compensated!r} must be True, False or None (the model's policy).")
    if compensated:
        from ..integrators import get_increment

        get_increment(method)
    return compensated and not jax.config.read("jax_enable_x64")


def external_inputs(model, inputs: Mapping | None):
    """Split user inputs into traced constants and time functions (canonical units)."""
    consts, fns = {}, {}
    for name, val in (inputs or {}).items():
        inp = model.input(name)
        if callable(val) and not is_quantity(val):
            fns[name] = (val, inp)
        else:
            consts[name] = inp.to_canonical(val)
    return consts, fns


def make_plan(system, dt: float, method: str, duration, monitors=None, transient=0.0, period=None,
              inputs=None, compensated: bool | None = None) -> RunPlan:
    """Plan a run of ``system`` with step ``dt`` (ms); raises before any work on bad input.

    ``compensated``: Kahan-compensated state updates; ``None`` follows the node model's policy
    (``NodeModel.compensated``, on for models with slow variables), on only in float32 runs
    (float64 has no stall to compensate)."""
    dur = time_ms(duration, "duration")
    if not np.isfinite(dur) or dur <= 0:
        raise ValueError(f"duration={duration!r} must be positive, e.g. duration=1000 * u.ms.")
    trans = time_ms(transient if transient is not None else 0.0, "transient")
    if not np.isfinite(trans) or trans < 0:
        raise ValueError(f"transient={transient!r} must be >= 0.")
    if trans >= dur:
        raise ValueError(
            f"transient={transient!r} must be shorter than duration={duration!r}: the transient is "
            f"part of the duration and is discarded.")
    period_ms = dt if period is None else time_ms(period, "period")
    mons = resolve_monitors(system.node_model, monitors, period_ms)
    mon_steps = []
    for m in mons:
        p = m.period if m.period is not None else period_ms
        s = p / dt
        if p <= 0 or abs(s - round(s)) > 1e-6 * max(1.0, s):
            raise ValueError(
                f"monitor {m.key!r}: period {p} ms is not a positive multiple of dt={dt} ms; choose a "
                f"period that is an integer number of steps.")
        mon_steps.append(int(round(s)))
    inner = math.gcd(*mon_steps)
    ratios = tuple(s // inner for s in mon_steps)
    n_trans = int(round(trans / dt))
    n_outer = int(round((dur - trans) / dt)) // inner
    if n_outer < max(ratios):
        raise ValueError(
            f"duration - transient = {dur - trans} ms is shorter than the longest sampling period "
            f"{max(ratios) * inner * dt} ms: nothing would be recorded.")
    if inputs:
        from ..stimulus import check_inputs

        check_inputs(inputs, dur, system.n)    # a stimulus outside the run fails before any work
    consts, fns = external_inputs(system.node_model, inputs)
    plan = Plan(system.structure_key(), dt, method, mons, inner,
                tuple(sorted((k, "fn" if k in fns else "const") for k in list(consts) + list(fns))),
                ratios, resolve_compensated(system, method, compensated))
    return RunPlan(plan, n_trans, n_outer, fns, consts)
