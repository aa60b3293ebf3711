"""The optional down-sampled time series of every lane, stored next to the features.

``Sweep(..., timeseries={"signal": "bold", "period": "2.16 s"})`` (TOML:
``timeseries = { signal = "bold", period = "2.16 s" }`` in ``[sweep]``) stores, per point and
seed, the chosen signal averaged over consecutive windows of ``period``:

``signal``
    ``"bold"`` — the online BOLD signal (needs ``bold``; sampled once per TR);
    ``"activity"`` — the sweep's activity (the coupled variable averaged over each ``period`` of
    the model);
    or the name of any state variable or observable of the node model (e.g. ``"y"`` of the
    Hopf model), recorded by one more temporal-average monitor at the model's ``period``.
    Default: ``"bold"`` when the sweep records BOLD, else ``"activity"``.
``period``
    Window length: ms, a Quantity or a string such as ``"2 s"``. It must be a whole multiple of
    the signal's own sampling period (the TR for BOLD, the model's ``period`` otherwise); default:
    that period (no down-sampling).
``max_mb``
    Refuse the sweep (before any work) when all time series together would exceed this many MiB
    (default 2048; uncompressed ``float32``). Not part of the spec: raising it does not orphan a
    store.

**Down-sampling by window means.** Each stored sample is the mean of the ``period / p`` samples
of the recorded signal (sampling period ``p``) in its window; a trailing part window is dropped.
For the activity and node variables, whose samples are themselves means over ``p`` (a temporal
average monitor), this is exactly the mean of the signal over the whole window — the same
anti-aliased value a temporal-average monitor with the longer period would record — so slow
features are kept and nothing faster than the window folds back into the stored series. For
BOLD, which is sampled instantaneously once per TR, it is a box-car low-pass over ``period``
before decimation (BOLD has little power above ~0.2 Hz, so windows of a few TRs lose little).
Averaging the already-recorded signal on the worker costs no extra monitor inside the compiled
loop and keeps the stored series and the features computed from the same run.

**Layout and size.** One variable ``timeseries`` with dims ``(point, seed, time, region)``,
``float32``, in the signal's canonical unit (BOLD: fractional signal change); coordinates
``time`` (ms from the start of the run, transient included, at the *end* of each window — the
engine's convention for monitor samples) and ``region`` (node index; labels in the variable's
attributes when the network has them). Zarr chunks along ``point`` are the sweep's chunks, and
each chunk's series are written in the same region write as its features, before its manifest
entry. Size per point: ``seeds × n_times × n_regions × 4`` bytes with
``n_times = floor((duration − transient) / period)`` (before compression).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

__all__ = ["TimeseriesSpec", "parse_timeseries", "window_mean", "DEFAULT_MAX_MB"]

DEFAULT_MAX_MB = 2048.0
_KEYS = ("signal", "period", "max_mb")


@dataclass(frozen=True)
class TimeseriesSpec:
    """A checked ``timeseries`` option (see the module docstring)."""

    signal: str                 # 'bold', 'activity' or a node variable / observable
    period: float               # window length, ms
    base_period: float          # sampling period of the recorded signal, ms
    factor: int                 # recorded samples per window
    n_times: int
    n_regions: int
    time_first: float           # end of the first window, ms from the start of the run
    unit: str
    labels: tuple | None = None
    recorded: bool = False      # a signal the model records under its own key (e.g. 'eeg')

    @property
    def monitor_key(self) -> str:
        """Key of the recorded signal in the engine's result."""
        return self.signal if self.signal in ("bold", "activity") or self.recorded else "timeseries"

    @property
    def times(self) -> np.ndarray:
        """End of each window, ms from the start of the run."""
        return self.time_first + self.period * np.arange(self.n_times)

    @property
    def shape(self) -> tuple:
        """Per lane: ``(n_times, n_regions)``."""
        return (self.n_times, self.n_regions)

    def bytes_per_point(self, n_seeds: int) -> int:
        return int(n_seeds) * self.n_times * self.n_regions * 4

    def describe(self) -> dict:
        """What goes into the sweep's spec (a changed option is a different sweep)."""
        return {"signal": self.signal, "period": self.period, "reduce": "window-mean"}

    def reduce(self, signal) -> np.ndarray:
        """``(B, T, n)`` recorded signal -> ``(B, n_times, n)`` window means, ``float32``."""
        out = window_mean(signal, self.factor)
        if out.shape[-2] != self.n_times:       # the engine's sample count is the contract
            raise RuntimeError(f"timeseries: expected {self.n_times} windows, got {out.shape[-2]}.")
        return out.astype(np.float32)


def window_mean(x, factor: int) -> np.ndarray:
    """Means over consecutive windows of ``factor`` samples along axis ``-2`` (time); a trailing
    part window is dropped. Computed in ``float64``."""
    x = np.asarray(x, dtype=np.float64)
    T = x.shape[-2] // int(factor)
    x = x[..., :T * factor, :]
    return x.reshape(*x.shape[:-2], T, int(factor), x.shape[-1]).mean(axis=-2)


def _period_ms(value, where: str) -> float:
    from ..units import parse_quantity
    from ..units import time_ms

    q = parse_quantity(value, where) if isinstance(value, str) else value
    if isinstance(q, bool):
        raise ValueError(f"{where} = {value!r} is not a time; write e.g. \"2 s\" or a number of ms.")
    try:
        v = time_ms(q, where)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} = {value!r}: {exc}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{where} = {value!r} must be a positive time.")
    return v


def parse_timeseries(value: Any, model, n_points: int, n_seeds: int) -> TimeseriesSpec | None:
    """Check a ``timeseries`` option against ``model`` (a :class:`.SweepModel`) before any work.

    ``value``: ``None`` (no time series), a signal name, or a dict with ``signal``, ``period``
    and ``max_mb``. Raises :class:`ValueError` naming what is wrong.
    """
    if value is None or value is False:
        return None
    if isinstance(value, str):
        value = {"signal": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"timeseries={value!r}: give a signal name or a table such as "
                         f"{{signal = \"bold\", period = \"2.16 s\"}}.")
    bad = [k for k in value if k not in _KEYS]
    if bad:
        raise ValueError(f"timeseries.{bad[0]} is not a known key; allowed: {', '.join(_KEYS)}.")
    node = model._base.system.node_model
    variables = tuple(node.state_names) + tuple(node.observable_names)
    signal = value.get("signal", "bold" if model.bold else "activity")
    if not isinstance(signal, str):
        raise ValueError(f"timeseries.signal = {signal!r} must be a name such as \"bold\".")
    extra = model.extra_signals()
    if signal in extra:                          # e.g. a surface study's 'eeg'
        mon = extra[signal]
        base = float(mon.period) if mon.period is not None else float(model.period)
        unit = str(mon.unit) if mon.unit is not None else ""
    elif signal == "bold":
        if not model.bold:
            raise ValueError("timeseries.signal = 'bold' needs a sweep that records BOLD (bold={'tr': ...} "
                             "or [bold] enabled = true); choose 'activity' or a variable instead.")
        base, unit = float(model.bold["tr"]), "1 (fractional BOLD signal change)"
    elif signal == "activity" or signal in variables:
        if signal == model.variable:
            signal = "activity"                  # the same recording: no second monitor
        base = float(model.period)
        var = model.variable if signal == "activity" else signal
        unit = str(node.variable_unit(var)) if var in variables else ""
    else:
        raise ValueError(f"timeseries.signal = {signal!r} is not recorded; choose 'activity'"
                         f"{', bold' if model.bold else ''}{''.join(', ' + k for k in extra)} or a "
                         f"variable of {node.name}: {', '.join(variables)}.")
    period = _period_ms(value["period"], "timeseries.period") if "period" in value else base
    ratio = period / base
    factor = int(round(ratio))
    if factor < 1 or abs(ratio - factor) > 1e-6 * max(1.0, ratio):
        lo, hi = max(1, int(np.floor(ratio))) * base, max(1, int(np.ceil(ratio))) * base
        raise ValueError(f"timeseries.period = {period:g} ms is not a whole multiple of the {signal!r} "
                         f"sampling period {base:g} ms; use e.g. {lo:g} or {hi:g} ms.")
    period = factor * base
    dt = float(model.dt)
    recorded = int(round((model.duration - model.transient) / dt))
    base_steps = int(round(base / dt))
    n_times = (recorded // base_steps) // factor
    if n_times < 1:
        raise ValueError(f"timeseries.period = {period:g} ms is longer than the recorded time "
                         f"{model.duration - model.transient:g} ms (duration - transient).")
    n = int(model.signal_width(signal if signal in extra else "activity"))
    max_mb = value.get("max_mb", DEFAULT_MAX_MB)
    if isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or not max_mb > 0:
        raise ValueError(f"timeseries.max_mb = {max_mb!r} must be a positive number of MiB.")
    labels = getattr(model.network, "labels", None)
    labels = tuple(str(x) for x in labels) if labels is not None and len(labels) == n else None
    n_trans = int(round(model.transient / dt))
    spec = TimeseriesSpec(signal, float(period), base, factor, n_times, n,
                          (n_trans + factor * base_steps) * dt, unit, labels, signal in extra)
    per_point = spec.bytes_per_point(n_seeds)
    total_mb = per_point * n_points / 2**20
    if total_mb > max_mb:
        raise ValueError(
            f"timeseries would store {total_mb:,.0f} MiB ({n_points} points x {n_seeds} seeds x "
            f"{n_times} times x {n} regions x 4 bytes = {per_point / 2**20:.3g} MiB per point), over "
            f"max_mb = {max_mb:g}; lengthen timeseries.period, sweep fewer points, or raise "
            f"timeseries.max_mb.")
    return spec
