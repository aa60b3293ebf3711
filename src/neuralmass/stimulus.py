r"""Stimulation: time courses times spatial patterns, passed to the engine as inputs.

A :class:`Stimulus` is a function of time ``s(t)`` (ms, counted from the start of the run,
transient included) times a spatial pattern over regions. It is what ``Simulator.run(inputs=...)``
accepts as a time function::

    import neuralmass as nm, brainunit as u
    from neuralmass import stimulus as st

    tms = st.single_pulse(onset=500 * u.ms, amplitude=200 * u.Hz).at(["rM1"], labels=conn)
    tacs = st.sinusoid(frequency=10 * u.Hz, amplitude=20 * u.Hz, onset=1000, duration=2000).at(
        {"lV1": 1.0, "rV1": 0.5}, labels=conn)
    res = nm.Simulator(net, dt=0.1).run(4000, inputs={"p": tms + tacs})

Temporal shapes (amplitudes in the unit of the input channel they are given to — e.g. Hz for
Jansen–Rit's ``p`` — as plain numbers or Quantities):

=========================  ==============================================================
:func:`constant`           :math:`A` from ``onset`` for ``duration`` (tDCS-like; default: always)
:func:`pulse`              a rectangular pulse :math:`A\,\mathbb 1[t_0 \le t < t_0 + w]`
:func:`single_pulse`       a brief pulse (TMS-like; default width 1 ms)
:func:`smooth_pulse`       a raised-cosine pulse :math:`2A\sin^2(\pi (t - t_0)/w)` on
                           :math:`[t_0, t_0 + w)`, the area of the rectangular pulse
:func:`pulse_train`        ``n`` pulses of width ``w`` every ``1/frequency``
:func:`sinusoid`           :math:`A \sin(2\pi f (t - t_0) + \varphi) + c` (tACS-like)
:func:`ramp`               linear rise from 0 to :math:`A` over ``duration`` (optionally held)
=========================  ==============================================================

Every shape takes ``rise`` (ms): with ``rise > 0`` the edges are logistic,
:math:`\sigma((t - t_0)/r) - \sigma((t - t_1)/r)` with :math:`\sigma(x) = 1/(1 + e^{-4x})` (10–90 %
rise in about ``rise``), so the stimulus is differentiable in its timing (``onset``, ``duration``,
``width``, ``frequency``) as well as in its amplitude; with ``rise = 0`` edges are exact steps
(differentiable in amplitude only). Stimuli add (``a + b``), scale (``2 * a``) and take a spatial
pattern with :meth:`Stimulus.at` (region labels, indices, a ``{label: weight}`` mapping or a weight
vector). :meth:`Stimulus.check` (and :func:`check_inputs` for a whole ``inputs`` dict) raises a
clear error for a stimulus that lies outside the run's time span or does not fit the number of
regions.
"""

from __future__ import annotations

import difflib
import inspect
import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .units import magnitude, time_ms, to_numpy

__all__ = ["Stimulus", "constant", "pulse", "single_pulse", "smooth_pulse", "pulse_train", "sinusoid", "ramp",
           "check_inputs", "region_weights", "WAVEFORMS", "waveform_arguments", "temporal_stimulus"]



def _step(x, rise):
    """Unit step at 0: exact (rise = 0) or logistic with 10-90 % width about ``rise`` ms."""
    if isinstance(rise, (int, float)) and rise == 0:
        return jnp.where(x >= 0, 1.0, 0.0)
    return jax.nn.sigmoid(4.394 * x / rise)     # stable for large |x| (values and gradients)


def _box(t, start, stop, rise):
    return _step(t - start, rise) - _step(t - stop, rise)


def _ms(value, name):
    """Time in ms; traced JAX values (for gradients) pass through as they are."""
    if value is None:
        return None
    if isinstance(value, jnp.ndarray) and not isinstance(value, np.ndarray):
        return value
    return time_ms(value, name)


@dataclass(frozen=True, eq=False)
class Stimulus:
    """A stimulus ``amplitude * shape(t) * weights`` (see the module docstring).

    Parameters
    ----------
    shape : callable
        ``shape(t_ms) -> array``, dimensionless time course.
    amplitude : float, array or Quantity
        Scale, in the unit of the input channel (a Quantity is converted by the engine).
    span : (float, float)
        Times (ms) outside which the stimulus is zero (``inf`` for unbounded).
    weights : array (n,), optional
        Spatial pattern over regions (``None``: the same in every region).
    name : str
        For messages.
    """

    shape: Callable
    amplitude: Any = 1.0
    span: tuple = (0.0, math.inf)
    weights: Any = None
    name: str = "stimulus"
    terms: tuple = field(default=())

    # ------------------------------------------------------------------ evaluation
    def __call__(self, t):
        """Value at time ``t`` (ms from the start of the run): scalar or (n,) per region."""
        if self.terms:
            out = self.terms[0](t)
            for s in self.terms[1:]:
                out = out + s(t)
            return out
        val = self.amplitude * self.shape(t)
        if self.weights is not None:
            val = val * jnp.asarray(self.weights)
        return val

    def sample(self, ts):
        """Values on a grid of times ``ts`` (ms or Quantity): shape ``(T,)`` or ``(T, n)``."""
        ts = to_numpy(ts, "ts", u.ms)
        vals = [self(jnp.asarray(t)) for t in ts]
        vals = [magnitude(v) for v in vals]
        return np.stack([np.broadcast_to(np.asarray(v), np.shape(vals[0])) for v in vals])

    # ------------------------------------------------------------------ composition
    def __add__(self, other):
        if not isinstance(other, Stimulus):
            return NotImplemented
        terms = (self.terms or (self,)) + (other.terms or (other,))
        n = {len(np.atleast_1d(s.weights)) for s in terms if s.weights is not None}
        if len(n) > 1:
            raise ValueError(f"cannot add stimuli with spatial patterns over {sorted(n)} regions; "
                             f"build them with the same labels or n.")
        lo = min(s.span[0] for s in terms)
        hi = max(s.span[1] for s in terms)
        return Stimulus(shape=None, span=(lo, hi), name=" + ".join(s.name for s in terms), terms=terms)

    __radd__ = lambda self, other: self if other == 0 else NotImplemented

    def __mul__(self, factor):
        if isinstance(factor, Stimulus):
            return NotImplemented
        if self.terms:
            return Stimulus(shape=None, span=self.span, name=self.name,
                            terms=tuple(s * factor for s in self.terms))
        return replace(self, amplitude=self.amplitude * factor)

    __rmul__ = __mul__

    def at(self, regions, labels=None, n: int | None = None) -> "Stimulus":
        """The same time course restricted to (or weighted over) regions.

        Parameters
        ----------
        regions : str, int, sequence of str/int, mapping {label or index: weight}, or array (n,)
            Where the stimulus acts (weight 1 for listed regions) or a full weight vector.
        labels : sequence of str or Connectome, optional
            Region labels (a Connectome's ``labels``); needed for labels, gives ``n``.
        n : int, optional
            Number of regions when only indices are given.
        """
        w = region_weights(regions, labels=labels, n=n)
        if self.terms:
            return Stimulus(shape=None, span=self.span, name=self.name,
                            terms=tuple(s.at(w) for s in self.terms))
        if self.weights is not None:
            w = np.asarray(self.weights) * w
        return replace(self, weights=w)

    # ------------------------------------------------------------------ validation
    @property
    def n_regions(self) -> int | None:
        for s in (self.terms or (self,)):
            if s.weights is not None:
                return len(np.atleast_1d(s.weights))
        return None

    def check(self, duration, n: int | None = None, name: str = "inputs") -> "Stimulus":
        """Raise if the stimulus never acts within ``[0, duration)`` or does not fit ``n`` regions.

        A stimulus that starts inside the run but outside it ends is cut with a warning.
        """
        dur = time_ms(duration, "duration")
        lo, hi = self.span
        if not (isinstance(lo, float) and isinstance(hi, float)):
            return self  # traced timing (inside a gradient): nothing to check
        if lo >= dur or hi <= 0:
            raise ValueError(
                f"{name}: {self.name} acts during [{lo:g}, {hi:g}) ms, outside the run's time span "
                f"[0, {dur:g}) ms (times count from the start of the run, transient included); "
                f"move its onset or lengthen the run.")
        if hi > dur and math.isfinite(hi):
            warnings.warn(f"{name}: {self.name} lasts until {hi:g} ms but the run ends at {dur:g} ms; "
                          f"it is cut.", stacklevel=2)
        m = self.n_regions
        if n is not None and m is not None and m != n:
            raise ValueError(f"{name}: {self.name} has a spatial pattern over {m} regions but the "
                             f"system has {n}; build it with the system's labels or n={n} (on a cortical "
                             f"surface: neuralmass.surface.surface_weights, or on_surface for a region "
                             f"pattern).")
        return self

    def __repr__(self):
        where = "" if self.n_regions is None else f", {self.n_regions} regions"
        return f"Stimulus({self.name}, span=[{self.span[0]:g}, {self.span[1]:g}) ms{where})"


def check_inputs(inputs: Mapping | None, duration, n: int | None = None) -> None:
    """Check every :class:`Stimulus` of a ``Simulator.run(inputs=...)`` dict (see :meth:`Stimulus.check`)."""
    for k, v in (inputs or {}).items():
        if isinstance(v, Stimulus):
            v.check(duration, n, name=f"inputs[{k!r}]")


# ---------------------------------------------------------------------------------- spatial
def region_weights(regions, labels=None, n: int | None = None) -> np.ndarray:
    """A weight vector over regions from labels, indices, a mapping or a vector (see :meth:`Stimulus.at`)."""
    labels = getattr(labels, "labels", labels)
    if labels is not None:
        labels = [str(x) for x in labels]
        if n is not None and n != len(labels):
            raise ValueError(f"n={n} but {len(labels)} labels were given.")
        n = len(labels)
    if isinstance(regions, np.ndarray) or (isinstance(regions, (list, tuple)) and regions
                                           and all(isinstance(x, float) for x in regions)):
        w = np.asarray(regions, dtype=float)
        if w.ndim != 1 or (n is not None and len(w) != n):
            raise ValueError(f"regions: a weight vector must have one value per region ({n}), got shape {w.shape}.")
        return w
    if isinstance(regions, (str, int, np.integer)):
        regions = [regions]
    items = regions.items() if isinstance(regions, Mapping) else ((r, 1.0) for r in regions)
    pairs = []
    for r, weight in items:
        if isinstance(r, str):
            if labels is None:
                raise ValueError(f"region {r!r} is a label but no labels were given; pass labels=conn "
                                 f"(a Connectome or a list of labels).")
            if r not in labels:
                close = difflib.get_close_matches(r, labels, n=3)
                hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ValueError(f"unknown region label {r!r}.{hint} Known labels: "
                                 f"{', '.join(labels[:12])}{', ...' if len(labels) > 12 else ''}.")
            pairs.append((labels.index(r), float(weight)))
        elif isinstance(r, (int, np.integer)):
            if n is None:
                raise ValueError(f"region index {r} needs the number of regions: pass n= or labels=.")
            if not -n <= r < n:
                raise ValueError(f"region index {r} is out of range for {n} regions.")
            pairs.append((int(r) % n, float(weight)))
        else:
            raise TypeError(f"regions entry {r!r} must be a label (str) or an index (int).")
    if n is None:
        raise ValueError("regions: give labels= or n= so the pattern has one weight per region.")
    w = np.zeros(n)
    for i, weight in pairs:
        w[i] += weight
    return w


# ---------------------------------------------------------------------------------- shapes
def _end(onset, duration):
    if duration is None:
        return math.inf
    return onset + duration


def _span(onset, stop):
    lo = float(onset) if isinstance(onset, (int, float)) else onset
    hi = float(stop) if isinstance(stop, (int, float)) else stop
    return (lo, hi)


def constant(amplitude, onset=0.0, duration=None, rise=0.0) -> Stimulus:
    """A constant input (tDCS-like) from ``onset`` for ``duration`` (default: to the end)."""
    t0, r = _ms(onset, "onset"), _ms(rise, "rise")
    dur = _ms(duration, "duration")
    t1 = _end(t0, dur)
    if dur is not None and isinstance(dur, float) and dur <= 0:
        raise ValueError(f"duration={duration!r} must be positive.")
    shape = (lambda t: _step(t - t0, r)) if t1 == math.inf else (lambda t: _box(t, t0, t1, r))
    return Stimulus(shape, amplitude, _span(t0, t1), name="constant")


def pulse(onset, duration, amplitude, rise=0.0) -> Stimulus:
    """A rectangular pulse of ``amplitude`` during ``[onset, onset + duration)``."""
    t0, w, r = _ms(onset, "onset"), _ms(duration, "duration"), _ms(rise, "rise")
    if isinstance(w, float) and w <= 0:
        raise ValueError(f"duration={duration!r} must be positive, e.g. 5 * u.ms.")
    return Stimulus(lambda t: _box(t, t0, t0 + w, r), amplitude, _span(t0, t0 + w), name="pulse")


def single_pulse(onset, amplitude, width=1.0, rise=0.0) -> Stimulus:
    """A single brief pulse (TMS-like), ``width`` 1 ms by default."""
    s = pulse(onset, width, amplitude, rise)
    return replace(s, name="single pulse")


def smooth_pulse(onset, duration, amplitude, rise=0.0) -> Stimulus:
    r"""A raised-cosine pulse :math:`2A\sin^2(\pi (t - t_0)/w)` during ``[onset, onset + duration)``.

    It starts and ends at zero with zero slope and has the area :math:`A w` of the rectangular
    :func:`pulse` of the same ``amplitude``; ``rise`` smooths the gate as for the other shapes.

    Parameters
    ----------
    onset : float or Quantity
        :math:`t_0` (ms from the start of the run).
    duration : float or Quantity
        :math:`w` (ms), positive.
    amplitude : float, array or Quantity
        :math:`A`, in the unit of the input channel.
    rise : float or Quantity
        Edge width of the gate (ms); 0 for exact edges.

    Returns
    -------
    Stimulus
    """
    t0, w, r = _ms(onset, "onset"), _ms(duration, "duration"), _ms(rise, "rise")
    if isinstance(w, float) and w <= 0:
        raise ValueError(f"duration={duration!r} must be positive, e.g. 50 * u.ms.")

    def shape(t):
        x = t - t0
        return 2.0 * jnp.sin(jnp.pi * x / w) ** 2 * _box(x, 0.0, w, r)

    return Stimulus(shape, amplitude, _span(t0, t0 + w), name="smooth pulse")


def pulse_train(onset, frequency, width, amplitude, n_pulses=None, duration=None, rise=0.0) -> Stimulus:
    """``n_pulses`` (or as many as fit in ``duration``) pulses of ``width`` every ``1/frequency``."""
    t0, w, r = _ms(onset, "onset"), _ms(width, "width"), _ms(rise, "rise")
    f = magnitude(frequency, u.Hz, "frequency")   # Hz
    period = 1000.0 / f
    if isinstance(period, float) and isinstance(w, float) and not 0 < w < period:
        raise ValueError(f"width={width!r} must be positive and shorter than the period {period:g} ms "
                         f"(frequency={frequency!r}).")
    if n_pulses is None and duration is None:
        raise ValueError("pulse_train needs n_pulses= or duration=.")
    if n_pulses is None:
        n_pulses = max(1, int(math.floor(time_ms(duration, "duration") / period + 1e-9)))
    n_pulses = int(n_pulses)
    if n_pulses < 1:
        raise ValueError(f"n_pulses={n_pulses} must be at least 1.")

    def shape(t):
        x = t - t0
        k = jnp.clip(jnp.floor(x / period), 0, n_pulses - 1)
        phase = x - k * period                      # time since the start of the current pulse
        return _box(phase, 0.0, w, r)     # k is clipped, so nothing before the first or after the last

    return Stimulus(shape, amplitude, _span(t0, t0 + (n_pulses - 1) * period + w), name="pulse train")


def sinusoid(frequency, amplitude, phase=0.0, onset=0.0, duration=None, offset=0.0, rise=0.0) -> Stimulus:
    """``amplitude * sin(2 pi f (t - onset) + phase) + offset`` between ``onset`` and ``onset + duration``."""
    t0, r = _ms(onset, "onset"), _ms(rise, "rise")
    dur = _ms(duration, "duration")
    t1 = _end(t0, dur)
    f = magnitude(frequency, u.Hz, "frequency")
    om = 2 * math.pi * f * 1e-3      # rad/ms
    gate = (lambda t: _step(t - t0, r)) if t1 == math.inf else (lambda t: _box(t, t0, t1, r))
    s = Stimulus(lambda t: jnp.sin(om * (t - t0) + phase) * gate(t), amplitude, _span(t0, t1), name="sinusoid")
    if not (isinstance(offset, (int, float)) and offset == 0):
        s = s + replace(constant(offset, onset, duration, rise), name="offset")
    return s


def ramp(onset, duration, amplitude, hold=False, rise=0.0) -> Stimulus:
    """A linear rise from 0 at ``onset`` to ``amplitude`` at ``onset + duration``; then held
    (``hold=True``) or switched off."""
    t0, d, r = _ms(onset, "onset"), _ms(duration, "duration"), _ms(rise, "rise")
    if isinstance(d, float) and d <= 0:
        raise ValueError(f"duration={duration!r} must be positive.")

    def shape(t):
        frac = jnp.clip((t - t0) / d, 0.0, 1.0)
        return frac * (_step(t - t0, r) if hold else _box(t, t0, t0 + d, r))

    return Stimulus(shape, amplitude, _span(t0, math.inf if hold else t0 + d), name="ramp")


# --------------------------------------------------------------------------- waveforms by name
#: ``kind`` -> the :mod:`neuralmass.stimulus` function that builds the time course.
WAVEFORMS = {
    "constant": constant,
    "pulse": pulse,
    "single_pulse": single_pulse,
    "smooth_pulse": smooth_pulse,
    "pulse_train": pulse_train,
    "sinusoid": sinusoid,
    "ramp": ramp,
}


def waveform_arguments(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The required and optional arguments of waveform ``kind``, read from its function.

    Parameters
    ----------
    kind : str
        A key of :data:`WAVEFORMS`.

    Returns
    -------
    (required, optional) : tuples of str
        Argument names without and with a default, in the function's order.
    """
    params = inspect.signature(WAVEFORMS[kind]).parameters.values()
    required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
    optional = tuple(p.name for p in params if p.default is not inspect.Parameter.empty)
    return required, optional


def temporal_stimulus(block: dict) -> Stimulus:
    """The time course of a validated block (the same in every region).

    Parameters
    ----------
    block : dict
        A validated ``[[stimulus]]`` block (:func:`neuralmass.config.validate_stimulus_blocks`):
        ``kind`` (a key of :data:`WAVEFORMS`) and the waveform's arguments.

    Returns
    -------
    neuralmass.stimulus.Stimulus
    """
    required, optional = waveform_arguments(block["kind"])
    kwargs = {k: block[k] for k in required + optional if k in block}
    return WAVEFORMS[block["kind"]](**kwargs)
