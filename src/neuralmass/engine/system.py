"""What the engine integrates: the :class:`System` protocol and :class:`NodeSystem`.

A system is a pure description of dynamics in canonical units. The engine never inspects a
system by duck typing: it calls exactly the members of :class:`System`. A single population of
uncoupled nodes is :class:`NodeSystem`; :class:`neuralmass.Network` adds coupling and delays
through the same members (``init_extra``, ``coupling_inputs``, ``push`` and, for its delay line,
``delay_state_keys`` / ``delay_source`` / ``read_delays`` / ``write_delays``).

Carried state of one lane: ``(state, extra, noise state, key, step, monitor states, bad)`` where
``extra`` is the system's own carried state (e.g. delay buffers).
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

from ..models.base import NodeModel
from ..models.system import NodeSystem

__all__ = ["System", "HasSystem", "NodeSystem", "Reader", "as_system"]


@runtime_checkable
class System(Protocol):
    """The engine's view of anything it can simulate (all values in canonical units).

    Structure (static; hashed into the compile cache)
        ``n`` (regions), ``node_model``, ``method``, ``structure_key()``.
    Parameters (traced)
        ``canonical_params(overrides) -> dict`` with a ``'node'`` entry, ``noise_params()``,
        ``batch_axes(params) -> dict`` (which leaves may carry a leading lane axis: see
        :meth:`NodeSystem.batch_axes`).
    Dynamics
        ``initial_state()``, ``init_extra(state, params, dt, key)``,
        ``coupling_inputs(extra, state, params, i, dt, delayed=None) -> (inputs, extra)``,
        ``push(extra, state, params, i, dt) -> extra``.
    Delay line read once for all lanes of a batched run (``delay_state_keys(dt)`` empty when the
    system has none)
        ``delay_state_keys(dt)``, ``delay_source(state, params)``,
        ``read_delays(line, params, i, dt)``, ``write_delays(line, h, i, dt)``.
    Read-out
        ``read(name, state, params, inputs=None)``, ``view(state, params, inputs=None)``,
        ``output_unit(name)`` (``inputs``: the last step's inputs, for input-dependent
        observables).
    Optional
        ``divergence_hint(params) -> str | None``: why a run of this system diverged when the
        system itself explains it (e.g. a network with a negative coupling strength); the engine
        quotes it instead of its step-size advice.
    """

    n: int
    method: str

    @property
    def node_model(self) -> NodeModel: ...

    def structure_key(self) -> Any: ...

    def canonical_params(self, overrides: Mapping | None = None) -> dict: ...

    def noise_params(self) -> dict: ...

    def per_node_params(self) -> dict: ...

    def initial_state(self, key=None) -> dict: ...

    def init_extra(self, state, params, dt, key): ...

    def coupling_inputs(self, extra, state, params, i, dt, delayed=None): ...

    def push(self, extra, state, params, i, dt): ...

    def delay_state_keys(self, dt) -> tuple: ...

    def delay_source(self, state, params): ...

    def read_delays(self, line, params, i, dt): ...

    def write_delays(self, line, h, i, dt): ...

    def read(self, name, state, params, inputs=None): ...

    def view(self, state, params, inputs=None): ...

    def output_unit(self, name): ...


class Reader:
    """``read(name)`` for monitors, plus ``.view`` for callable monitors (``inputs``: the inputs
    of the step that produced ``state``, for input-dependent observables)."""

    def __init__(self, system, state, params, inputs=None):
        self._system, self._state, self._params, self._inputs = system, state, params, inputs

    def __call__(self, name):
        return self._system.read(name, self._state, self._params, self._inputs)

    @property
    def view(self):
        return self._system.view(self._state, self._params, self._inputs)


@runtime_checkable
class HasSystem(Protocol):
    """Anything that can describe itself as a :class:`System`: a node module
    (:class:`neuralmass.models.module.NodeModule`), a :class:`neuralmass.Network`, a sweep's
    system with replaced noise values. The engine recognises them by this protocol and never
    imports the classes that implement it (they live in layers above it)."""

    def as_system(self) -> System: ...


def as_system(model) -> System:
    """The system behind what a user passes to the Simulator (node module, Network, NodeModel)."""
    if isinstance(model, NodeModel):
        return NodeSystem(model, 1)
    if isinstance(model, HasSystem):
        return model.as_system()
    if isinstance(model, System):
        return model
    raise TypeError(
        f"Simulator cannot run {type(model).__name__}; pass a node module (e.g. WilsonCowanStep(n)), "
        f"a Network, or a NodeModel.")
