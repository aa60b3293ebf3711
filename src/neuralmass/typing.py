"""Type aliases of brainmass's public API (``brainmass.Array``, ``Initializer``, ``Parameter``).

For annotations only: neuralmass reads every value at the API boundary (:mod:`neuralmass.units`),
so these describe what is accepted, they convert nothing.
"""

from __future__ import annotations

from typing import Callable, Union

import brainstate
import jax

from .params import Param

__all__ = ["Array", "Initializer", "Parameter"]

#: an array-like value (arrays, numbers, Quantities)
Array = Union[jax.typing.ArrayLike, brainstate.typing.ArrayLike]
#: an initial value: an array-like or a callable ``f(shape)`` returning one
Initializer = Union[Callable, Array]
#: a model parameter: an array-like, a callable, a ``brainstate.nn.Param`` or a
#: :class:`neuralmass.Param` (which marks it for fitting)
Parameter = Union[Callable, Array, brainstate.nn.Param, Param]
