"""Memory and time a run will need, estimated before any work (DESIGN principle 12).

:func:`check_budget` is called by :meth:`Simulator.run <neuralmass.engine.simulator.Simulator.run>`
and :func:`~neuralmass.engine.run.make_run_fn` right after planning, so the Python API,
``neuralmass run``, ``neuralmass simulate``, fits and sweeps all get it:

* **memory**: the model state (with the integrator's temporaries), the system's buffers (delay
  lines, coupling matrices: ``system.buffer_elements(dt)`` where the system has it) and the
  recorded outputs, times the batch lanes. A run whose estimate exceeds the available memory
  (``MemAvailable`` of ``/proc/meminfo``, else ``os.sysconf``; no check where neither exists) is
  refused with :class:`RunTooLarge`, which gives the estimate and what to change.
* **time**: a lower bound from the step count × nodes × lanes. Above :data:`LONG_RUN_S` (1 h) the
  run warns with :class:`LongRunWarning`; the command line turns that warning into a refusal
  unless ``--yes`` is given.

Set the environment variable ``NEURALMASS_SKIP_BUDGET=1`` to skip both checks (e.g. a machine
whose swap you mean to use).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

__all__ = ["RunTooLarge", "LongRunWarning", "RunEstimate", "estimate_run", "check_budget",
           "available_memory", "accelerator_memory", "LONG_RUN_S", "format_bytes", "format_seconds"]

#: Estimated wall time (s) above which a run warns (the CLI asks for ``--yes``).
LONG_RUN_S = 3600.0

# lower bounds of the cost of a step (scan overhead) and of a node-step (a few flops per state
# variable and stage) on one CPU core or a GPU; the estimate is "at least", never alarmist
_STEP_S = 1e-8
_NODE_STEP_S = 1e-9
_EDGE_STEP_S = 1e-10
# live copies of the state in a step: the state, the stages of the integrator, noise, drift
_STAGES = {"euler": 4, "heun": 6, "rk4": 10}
# the recorded chunks are kept on the host and concatenated once at the end
_OUTPUT_COPIES = 2


class RunTooLarge(MemoryError):
    """A run whose estimated memory exceeds what is available (refused before it starts)."""


class LongRunWarning(UserWarning):
    """A run estimated to take longer than :data:`LONG_RUN_S` seconds."""


@dataclass
class RunEstimate:
    """Estimated bytes by part, and the estimated wall time (a lower bound)."""

    parts: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def bytes(self) -> float:
        return float(sum(self.parts.values()))

    def describe(self) -> str:
        return ", ".join(f"{k} {format_bytes(v)}" for k, v in self.parts.items() if v)


def format_bytes(b: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(b) < 1000 or unit == "PB":
            return f"{b:.3g} {unit}"
        b /= 1000.0
    return f"{b:.3g} PB"  # pragma: no cover


def format_seconds(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    days = s / 86400
    return f"{s / 3600:.3g} h ({days:.3g} days)" if days < 3650 else f"{s / 3600:.3g} h ({days / 365.25:.3g} years)"


def available_memory() -> float | None:
    """Bytes of memory available to a new allocation, or ``None`` where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES")) * float(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def accelerator_memory() -> float | None:
    """Bytes free on JAX's default device when it is an accelerator that reports its memory
    (``Device.memory_stats()``: ``bytes_limit - bytes_in_use`` on a GPU), else ``None`` (CPU)."""
    try:
        import jax

        dev = jax.devices()[0]
        if dev.platform == "cpu":
            return None
        stats = dev.memory_stats() or {}
        limit = stats.get("bytes_limit")
        return None if limit is None else float(limit) - float(stats.get("bytes_in_use", 0))
    except Exception:  # pragma: no cover - backend-specific
        return None


def _itemsize() -> int:
    import jax

    return 8 if jax.config.read("jax_enable_x64") else 4


def estimate_run(system, rp, lanes: int = 1, itemsize: int | None = None) -> RunEstimate:
    """Memory (bytes by part) and wall time (s, a lower bound) of the planned run ``rp``."""
    isz = itemsize or _itemsize()
    plan = rp.plan
    n = int(system.n)
    lanes = max(1, int(lanes))
    n_vars = len(system.node_model.state_names)
    stages = _STAGES.get(plan.method, 6)
    parts = {"state": float(n) * n_vars * stages * lanes * isz}
    buffers = getattr(system, "buffer_elements", None)
    extra = buffers(plan.dt) if callable(buffers) else {}
    edges = 0.0
    for name, elements in extra.items():
        parts[name] = float(elements) * lanes * isz
        edges += float(elements)
    # values per sample: a monitor's own width (region means, sensors), else one per node
    values = sum((rp.n_outer // r) * _width(m, system, n) for m, r in zip(plan.monitors, plan.ratios))
    parts["recorded outputs"] = float(values) * lanes * isz * _OUTPUT_COPIES
    steps = float(rp.n_steps)
    seconds = steps * (_STEP_S + lanes * (_NODE_STEP_S * n * n_vars + _EDGE_STEP_S * min(edges, n * n)))
    return RunEstimate(parts, seconds)


def _width(monitor, system, n: int) -> int:
    width = getattr(monitor, "output_width", None)
    return int(width(system)) if callable(width) else n


def _fixes(est: RunEstimate, system, rp) -> str:
    big = max(est.parts, key=est.parts.get)
    if big == "recorded outputs":
        return (f"record less: fewer nodes (now {system.n}), a coarser sampling period (period=..., or a TemporalAverage/BOLD "
                "monitor), fewer monitors, a shorter run, or run it in shorter pieces and write each "
                "to disk (chunked writing)")
    if big == "state":
        return f"simulate fewer nodes (now {system.n}) or fewer batch lanes"
    return (f"the {big} grows with the longest delay / dt (dt = {rp.plan.dt:g} ms) and with the "
            f"number of regions ({system.n}): use a coarser dt, fewer regions, or fewer batch lanes")


def check_budget(system, rp, lanes: int = 1, where: str = "run") -> RunEstimate:
    """Refuse (:class:`RunTooLarge`) a run that cannot fit in memory; warn
    (:class:`LongRunWarning`) on one estimated to last longer than :data:`LONG_RUN_S`."""
    est = estimate_run(system, rp, lanes)
    if os.environ.get("NEURALMASS_SKIP_BUDGET", "").strip() not in ("", "0"):
        return est
    avail = available_memory()
    if avail is not None and est.bytes > avail:
        raise RunTooLarge(
            f"this {where} needs about {format_bytes(est.bytes)} of memory ({est.describe()}; "
            f"{system.n} nodes, {rp.n_steps:,} steps of {rp.plan.dt:g} ms"
            f"{f', {lanes} lanes' if lanes > 1 else ''}) but only {format_bytes(avail)} is "
            f"available; {_fixes(est, system, rp)}. Refused before starting "
            f"(NEURALMASS_SKIP_BUDGET=1 skips this check).")
    if est.seconds > LONG_RUN_S and math.isfinite(est.seconds):
        warnings.warn(
            f"this {where} is estimated to take at least {format_seconds(est.seconds)} "
            f"({rp.n_steps:,} steps of {rp.plan.dt:g} ms × {system.n} nodes"
            f"{f' × {lanes} lanes' if lanes > 1 else ''}); shorten the duration or use a coarser dt "
            f"if that is not intended.", LongRunWarning, stacklevel=3)
    return est
