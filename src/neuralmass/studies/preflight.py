"""Checks a study makes before it simulates: everything that could fail later fails here.

A study that fails after a long simulation costs the user the simulation. The helpers below turn
every such failure into an error raised up front, with the reason and the fix:

* :func:`exact_ms` and :func:`sampling_period`: sampling periods from the repetition time and the
  time step in exact rational arithmetic (a floating-point ``TR % dt`` never reaches zero for most
  step sizes, e.g. ``720 % 0.1``);
* :func:`fcd_samples`: FCD window and hop in samples, checked against the recordings;
* :func:`require_modules`: the optional packages a step needs, named with the extra to install;
* :func:`seed_key`: a full 64-bit seed as a JAX key (rejected outside ``0 <= seed < 2**64``);
* :func:`zero_delay_edges`: the edges whose conduction delay rounds to zero steps at ``dt``.
"""

from __future__ import annotations

import importlib
import math
from fractions import Fraction

import numpy as np

from ..analysis.fcd import window_in_samples
from ..errors import PreflightError  # beside ConfigError, in the lowest layer
from ..network.delays import zero_delay_edges  # the one count, beside the delay lines that round

__all__ = ["PreflightError", "exact_ms", "sampling_period", "fcd_samples", "require_modules",
           "seed_key", "zero_delay_edges", "TIME_RESOLUTION"]

#: Times are read to this resolution (1 ns = 1e-6 ms) before exact arithmetic.
TIME_RESOLUTION = Fraction(1, 1_000_000)


def exact_ms(value: float, name: str) -> Fraction:
    """A time in ms as an exact fraction, rounded to :data:`TIME_RESOLUTION` (1 ns).

    Decimal inputs such as ``0.1`` or ``720.0000000000001`` (``0.72 s`` converted in floating
    point) become exactly ``1/10`` and ``720``.
    """
    if not isinstance(value, (int, float, Fraction)) or not math.isfinite(value):
        raise PreflightError(f"{name} = {value!r} must be a finite number of ms.")
    q = round(Fraction(value) / TIME_RESOLUTION)
    if q <= 0:
        raise PreflightError(f"{name} = {value!r} ms must be positive and at least 1 ns.")
    return q * TIME_RESOLUTION


def _divisors(n: int) -> list[int]:
    small, large = [], []
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            small.append(d)
            if d * d != n:
                large.append(n // d)
    return small + large[::-1]


def sampling_period(tr_ms: float, dt_ms: float, max_period_ms: float = 50.0) -> tuple[Fraction, int]:
    r"""The longest neural sampling period that is a whole number of steps and divides the TR.

    With :math:`N = \mathrm{TR}/\Delta t` (which must be an integer: BOLD is sampled on the step
    grid), the period is :math:`m\,\Delta t` for the largest divisor :math:`m` of :math:`N` with
    :math:`m\,\Delta t \le \min(\mathrm{max\_period}, \mathrm{TR})`. :math:`m = 1` always
    qualifies, so the search ends (it enumerates the divisors of :math:`N`, :math:`O(\sqrt N)`).

    Parameters
    ----------
    tr_ms, dt_ms : float
        Repetition time and time step in ms (read to 1 ns, see :func:`exact_ms`).
    max_period_ms : float
        Upper bound on the period (default 50 ms: fine enough for 10 Hz rhythms' envelopes).

    Returns
    -------
    (period_ms, steps) : (Fraction, int)
        The period as an exact fraction of ms and as a number of steps.

    Raises
    ------
    PreflightError
        When the TR is not a whole number of steps; the message lists nearby time steps that work.
    """
    tr, dt = exact_ms(tr_ms, "bold.tr"), exact_ms(dt_ms, "simulation.dt")
    n = tr / dt
    if n.denominator != 1:
        raise PreflightError(
            f"bold.tr = {float(tr):g} ms is not a whole number of steps of simulation.dt = "
            f"{float(dt):g} ms ({float(tr):g} / {float(dt):g} = {float(n):.6g}); BOLD is sampled on the "
            f"step grid, so choose a dt that divides the TR, e.g. {_nearby_steps(tr, dt)}.")
    n = n.numerator
    limit = min(exact_ms(max_period_ms, "max_period"), tr)
    m = max(d for d in _divisors(n) if d * dt <= limit) if dt <= limit else 1
    return m * dt, m


def _nearby_steps(tr: Fraction, dt: Fraction, count: int = 3) -> str:
    """Time steps dividing ``tr`` closest to ``dt`` (those a user can type: a few decimals)."""
    cands = set()
    for digits in range(0, 4):
        unit = Fraction(1, 10 ** digits)
        n_units = tr / unit
        if n_units.denominator != 1:
            continue
        for d in _divisors(n_units.numerator):
            cands.add(d * unit)
    best = sorted(cands, key=lambda c: (abs(c - dt), c))[:count]
    return ", ".join(f"\"{float(c):g} ms\"" for c in sorted(best))


def fcd_samples(window_ms: float, step_ms: float, tr_ms: float, frames: dict[str, int],
                advice: dict[str, str] | None = None) -> tuple[int, int, int]:
    """FCD window and hop in BOLD frames, checked against every recording that will be analysed.

    Parameters
    ----------
    window_ms, step_ms, tr_ms : float
        Window, hop and sampling interval (ms).
    frames : dict
        Name of each recording (e.g. ``"simulated BOLD"``) -> number of frames.
    advice : dict, optional
        Name of a recording -> the fix when it is too short (default: "Shorten the window or
        lengthen simulation.duration", right for simulated recordings only).

    Returns
    -------
    (window, step, offset) : ints
        Samples per window, samples per hop, and the diagonal offset from which FCD values come
        from non-overlapping windows.

    Raises
    ------
    PreflightError
        When the window has fewer than 3 frames, or a recording is too short to give at least one
        FCD value from non-overlapping windows.
    """
    try:
        w, s = window_in_samples(window_ms, step_ms, tr_ms)
    except ValueError as exc:
        raise PreflightError(f"analysis.fcd_window = {window_ms:g} ms at TR = {tr_ms:g} ms: {exc}") from None
    offset = int(math.ceil(w / s))
    for name, n in frames.items():
        n_windows = (n - w) // s + 1 if n >= w else 0
        if n_windows <= offset:
            need = w + offset * s
            raise PreflightError(
                f"analysis.fcd_window = {window_ms:g} ms (hop {step_ms:g} ms) does not fit the {name}: "
                f"{n} frames ({n * tr_ms / 1000:g} s) give {n_windows} windows, but FCD values compare "
                f"non-overlapping windows and need at least {need} frames ({need * tr_ms / 1000:g} s). "
                + (advice or {}).get(name, "Shorten the window or lengthen simulation.duration.").rstrip(".")
                + ".")
    return w, s, offset


#: optional package -> extra that installs it
EXTRAS = {"xarray": "io", "h5netcdf": "io", "h5py": "io", "matplotlib": "viz", "tvb_data": "data",
          "optax": "fit", "nevergrad": "fit", "flowjax": "infer", "equinox": "infer"}


def require_modules(modules, purpose: str) -> None:
    """Import ``modules`` or raise naming the extra(s) that install them.

    Raises
    ------
    PreflightError
        ``"<purpose> needs xarray, matplotlib: pip install 'neuralmass[io,viz]'"``.
    """
    missing = []
    for mod in modules:
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        extras = sorted({EXTRAS.get(m, m) for m in missing})
        raise PreflightError(f"{purpose} needs {', '.join(missing)}: pip install "
                             f"'neuralmass[{','.join(extras)}]' (nothing was simulated).")


SEED_LIMIT = 2 ** 64


def seed_key(seed, name: str = "seed"):
    """A JAX PRNG key from a seed ``0 <= seed < 2**64``, every bit used.

    The key is :func:`neuralmass.engine.rng.as_key` of the seed: the pair of 32-bit words
    ``(seed >> 32, seed & 0xFFFFFFFF)``, the same key ``jax.random.PRNGKey(seed)`` gives for seeds
    below ``2**32`` (so those results are unchanged) and with 64-bit mode on; with 32-bit mode,
    ``PRNGKey`` silently truncates larger seeds. A bad seed is a :class:`PreflightError` naming
    ``name``.
    """
    from ..engine.rng import as_key

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise PreflightError(f"{name} = {seed!r} must be an integer, 0 <= {name} < 2**64.")
    seed = int(seed)
    if not 0 <= seed < SEED_LIMIT:
        raise PreflightError(f"{name} = {seed} is outside 0 <= {name} < 2**64 "
                             f"(= {SEED_LIMIT}); pick a seed in that range.")
    return as_key(seed)       # the engine's one seed -> key conversion
