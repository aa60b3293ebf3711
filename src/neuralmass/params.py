"""Marking parameters for fitting: ``Param(value, fit=True, bounds=..., transform=...)``.

Anywhere a model or network takes a parameter value, a :class:`Param` may be passed instead; the
model uses ``Param.value`` and :class:`neuralmass.fit.Fitter` collects every ``Param`` with
``fit=True`` as a trainable parameter (with its bounds and transform).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Param", "unwrap"]


@dataclass(frozen=True)
class Param:
    """A parameter value plus fitting metadata.

    Parameters
    ----------
    value : float, array or Quantity
        Initial value, in the parameter's documented unit (or a Quantity).
    fit : bool, default True
        Whether fitting may change it.
    bounds : (low, high), optional
        Search range in the same unit as ``value`` (defaults to the model table's plausible range).
    transform : {'identity', 'log', 'logit'}, optional
        Reparameterisation used by gradient fitting (``'logit'`` needs bounds).
    """

    value: Any
    fit: bool = True
    bounds: tuple | None = None
    transform: str | None = None

    def __post_init__(self):
        if self.transform not in (None, "identity", "log", "logit"):
            raise ValueError(f"transform={self.transform!r}; use 'identity', 'log' or 'logit'.")
        if self.bounds is not None:
            lo, hi = self.bounds
            if not lo < hi:
                raise ValueError(f"bounds={self.bounds!r} must satisfy low < high.")


def unwrap(value):
    """``value.value`` for a :class:`Param`, else ``value``."""
    return value.value if isinstance(value, Param) else value
