"""Canonical units and conversion at the API boundary.

Inside the compiled core every number is a plain array in a canonical system:

=========  ==========
quantity   canonical
=========  ==========
time       ms
voltage    mV
distance   mm
speed      mm/ms (= m/s)
rate       1/ms  (models document the unit of each parameter)
=========  ==========

Users may pass :mod:`brainunit` quantities anywhere. They are checked and converted **once**, here,
by :func:`to_canonical`. A plain number is read in the unit that the argument documents.
A unit mismatch raises :class:`UnitMismatchError` naming the argument and the expected unit.
"""

from __future__ import annotations

import math
import re
from typing import Any

import brainunit as u
import jax.numpy as jnp
import numpy as np

from .errors import ConfigError

__all__ = [
    "TIME", "VOLTAGE", "DISTANCE", "SPEED", "UnitMismatchError",
    "is_quantity", "to_canonical", "to_numpy", "unit_factor", "time_ms", "magnitude", "with_unit",
    "parse_quantity", "parse_in",
]

TIME = u.ms
VOLTAGE = u.mV
DISTANCE = u.mm
SPEED = u.mm / u.ms


class UnitMismatchError(ValueError):
    """A value was given in a unit whose dimension does not match what the argument expects."""


def is_quantity(x: Any) -> bool:
    """True when ``x`` carries a physical unit (a brainunit Quantity)."""
    return isinstance(x, u.Quantity)


def _unit_name(unit) -> str:
    return "dimensionless" if unit is None else str(unit)


def _show(value) -> str:
    """A short description of a user value for error messages (arrays by shape, not content)."""
    size = int(np.size(value.mantissa if is_quantity(value) else value))
    if size <= 4:
        return repr(value)
    unit = f" in {u.get_unit(value)}" if is_quantity(value) else ""
    return f"<array of shape {np.shape(value.mantissa if is_quantity(value) else value)}{unit}>"


def _unwrap_param(value):
    """The value of a ``brainstate.nn.Param`` (its transform applied); other values unchanged.

    brainstate's parameter container carries a transform and a regulariser for its own training
    loops; here only its current value is read (to fit a parameter, pass ``neuralmass.Param``)."""
    import brainstate

    if isinstance(value, brainstate.nn.Param):
        return value.value()
    return value


def _check_dim(value, name: str, unit, hint: str | None = None) -> None:
    """Raise :class:`UnitMismatchError` unless the Quantity ``value`` can be expressed in ``unit``.

    The message names the argument, its value and unit, the expected unit, and the fix (``hint``
    when the caller knows a better one than "pass a Quantity in ``unit`` or a plain number")."""
    if unit is None:
        if not value.dim.is_dimensionless:
            raise UnitMismatchError(
                f"{name}={_show(value)} carries unit {u.get_unit(value)}, but {name} is dimensionless; "
                f"{hint or 'pass a plain number'}.")
        return
    if value.dim != unit.dim:
        fix = hint or (f"pass a Quantity in units of {_unit_name(unit)}, or a plain number "
                       f"(read in {_unit_name(unit)})")
        raise UnitMismatchError(
            f"{name}={_show(value)} has unit {u.get_unit(value)}, which cannot be converted to "
            f"{_unit_name(unit)}; {fix}.")


def _convert(value: Any, name: str, unit, canonical, xp, hint):
    """The shared rule of :func:`to_canonical` (``xp=jnp``) and :func:`to_numpy` (``xp=np``)."""
    canonical = unit if canonical is None else canonical
    value = _unwrap_param(value)
    if is_quantity(value):
        _check_dim(value, name, unit, hint)
        return xp.asarray(value.to_decimal() if unit is None else value.to_decimal(canonical), dtype=float)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}={value!r} is a string; pass a number or an array in {_unit_name(unit)}.")
    if xp is jnp:
        arr = jnp.asarray(value, dtype=float) if not isinstance(value, jnp.ndarray) else value
    else:
        arr = np.asarray(value, dtype=float)
    if unit is None or canonical is None or unit == canonical:
        return arr
    return arr * unit_factor(unit, canonical)


def to_canonical(value: Any, name: str, unit=None, canonical=None, *, hint: str | None = None):
    """Convert ``value`` to a plain array expressed in ``canonical`` units.

    Parameters
    ----------
    value : float, array or brainunit.Quantity
        The user's value. A Quantity must have the dimension of ``unit``; a plain number is read
        in ``unit`` (so ``p=220.`` for an input documented in Hz means 220 Hz). A
        ``brainstate.nn.Param`` is read through its current value.
    name : str
        Argument name used in error messages.
    unit : brainunit.Unit or None
        The documented unit of the argument (``None`` for dimensionless).
    canonical : brainunit.Unit or None
        The unit the compiled core works in. Defaults to ``unit``.
    hint : str, optional
        How to fix a unit mismatch, when the caller knows better than the generic advice.

    Returns
    -------
    jax.Array
        Magnitude in canonical units (float).

    Raises
    ------
    UnitMismatchError
        When a Quantity's dimension is not that of ``unit``.
    TypeError
        When ``value`` is a string.
    """
    return _convert(value, name, unit, canonical, jnp, hint)


def to_numpy(value: Any, name: str, unit=None, canonical=None, *, hint: str | None = None) -> np.ndarray:
    """:func:`to_canonical` for host-side values: the same rules, a float64 NumPy array.

    For data read outside the compiled core (sensor positions, sampling rates, gain matrices),
    where JAX's default float32 would lose precision.
    """
    return _convert(value, name, unit, canonical, np, hint)


def unit_factor(unit, target, name: str = "unit") -> float:
    """The multiplier from ``unit`` to ``target`` (``1 unit = factor * target``).

    Raises :class:`UnitMismatchError` naming ``name`` when the dimensions differ.
    """
    one = 1.0 * unit
    _check_dim(one, name, target, hint=f"choose a unit of the same dimension as {_unit_name(target)}")
    return float(one.to_decimal(target))


def time_ms(value: Any, name: str) -> float:
    """A time (duration, dt, transient, period) as a Python float in ms.

    Plain numbers are read in ms, as in the rest of the library.
    """
    if value is None:
        raise ValueError(f"{name} is None; pass a time such as {name}=1.0 * u.ms")
    if is_quantity(value):
        if value.dim != TIME.dim:
            raise UnitMismatchError(
                f"{name}={value!r} has unit {u.get_unit(value)}, which is not a time; pass e.g. "
                f"{name}=1.0 * u.ms.")
        v = np.asarray(value.to_decimal(TIME), dtype=np.float64)
    elif isinstance(value, (str, bytes)):
        raise TypeError(f"{name}={value!r} is a string; pass a time such as {name}=1.0 * u.ms.")
    else:
        v = np.asarray(value, dtype=np.float64)
    if v.ndim != 0:
        raise ValueError(f"{name} must be a scalar time, got shape {v.shape}.")
    return float(v)


def magnitude(x: Any, unit=None, name: str = "value"):
    """Plain magnitude of ``x`` (in ``unit`` if given and ``x`` is a Quantity); plain values unchanged.

    Unlike :func:`to_canonical` nothing is cast, so traced or integer values pass through as they
    are. A Quantity whose dimension is not that of ``unit`` raises :class:`UnitMismatchError`
    naming ``name``.
    """
    if is_quantity(x):
        if unit is None:
            return x.mantissa
        _check_dim(x, name, unit)
        return x.to_decimal(unit)
    return x


def with_unit(x, unit):
    """Attach ``unit`` to a plain array (returns ``x`` unchanged when ``unit`` is None)."""
    if unit is None:
        return x
    return u.Quantity(x, unit=unit)


# --------------------------------------------------------------------------- text quantities
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_UNIT_TOKEN = re.compile(r"[A-Za-z_]+")


def parse_quantity(text: Any, key: str):
    """Parse ``"10 mm/ms"`` into a brainunit Quantity; numbers pass through unchanged.

    Units are brainunit names (ms, second or s, Hz, mV, mm, nA, ...) combined with ``*``, ``/``
    and ``**``.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if not math.isfinite(text):
            raise ConfigError(f"{key} = {text!r} is not a finite number.")
        return float(text)
    if not isinstance(text, str):
        raise ConfigError(f"{key} = {text!r}: expected a number or a string such as \"10 ms\".")
    m = _QUANTITY.match(text)
    if not m:
        raise ConfigError(f"{key} = {text!r}: expected a number followed by a unit, e.g. \"10 ms\".")
    value, unit_text = float(m.group(1)), m.group(2)
    if not math.isfinite(value):
        raise ConfigError(f"{key} = {text!r} is not a finite number.")
    if not unit_text:
        return value
    names = {}
    for tok in set(_UNIT_TOKEN.findall(unit_text)):
        alias = {"s": "second", "sec": "second", "uV": "uvolt", "fT": "ftesla", "T": "tesla",
                 "V": "volt", "m": "meter", "rad": "radian"}.get(tok, tok)
        unit = getattr(u, alias, None)
        if not isinstance(unit, u.Unit):
            raise ConfigError(f"{key} = {text!r}: unknown unit {tok!r}.")
        names[tok] = unit
    if not re.fullmatch(r"[A-Za-z_\s\*/\(\)\d\.\-]+", unit_text):
        raise ConfigError(f"{key} = {text!r}: a unit may only combine names with *, / and **.")
    if unit_text.lstrip().startswith("/"):
        unit_text = "1 " + unit_text
    try:
        unit = eval(unit_text, {"__builtins__": {}}, names)  # noqa: S307 (names only)
    except Exception as exc:  # pragma: no cover - message path
        raise ConfigError(f"{key} = {text!r}: cannot read the unit ({exc}).") from None
    return value * unit



def parse_in(text: Any, key: str, unit, *, what: str, example: str) -> float:
    """A configuration value (``"10 ms"`` or a plain number, read in ``unit``) as a float in ``unit``.

    A Quantity of another dimension raises :class:`~neuralmass.config.ConfigError`
    ``"{key} = {text!r} is not {what}; write e.g. {example}."``.
    """
    q = parse_quantity(text, key)
    if is_quantity(q):
        if q.dim != unit.dim:
            raise ConfigError(f"{key} = {text!r} is not {what}; write e.g. {example}.")
        return float(q.to_decimal(unit))
    return float(q)
