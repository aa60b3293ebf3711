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

from types import SimpleNamespace
from typing import Any, Mapping, Protocol, runtime_checkable

import jax.numpy as jnp
import numpy as np

from ..models.base import NodeModel
from ..noise import NoiseSpec, noise_params
from ..params import regional

__all__ = ["System", "NodeSystem", "Reader", "as_system"]


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


class _VarView:
    def __init__(self, value):
        self.value = value


class NodeSystem:
    """``n`` uncoupled copies of a node model (the engine's simplest system).

    Parameters
    ----------
    model : NodeModel
    n : int
        Number of nodes.
    params : dict
        Parameter overrides (user units), converted once here.
    noise : dict
        Input name -> :class:`~neuralmass.noise.NoiseSpec` (or a noise module with ``.spec``).
    init : dict, optional
        Initial state values (canonical units), broadcastable to ``(n,)``.
    method : str
        Integrator name.
    canonical : dict, optional
        ``params`` already converted to canonical units (skips the conversion).
    labels : sequence of str, optional
        Region labels: parameters may then be given per region by label,
        ``{'default': -2.2, 'regions': {'rHC': -1.6}}`` (:func:`neuralmass.params.regional`).
    """

    def __init__(self, model: NodeModel, n: int = 1, params: Mapping | None = None,
                 noise: Mapping | None = None, init: Mapping | None = None, method: str = "heun",
                 canonical: Mapping | None = None, labels=None):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n={n!r} must be a positive integer number of nodes.")
        self.model = model
        self.n = int(n)
        self.user_params = dict(params or {})
        # converted once (a node module hands over the values it already converted)
        self.labels = None if labels is None else [str(x) for x in labels]
        self._params = model.default_params()
        if canonical is not None:
            self._params.update(canonical)
        else:
            self._params.update({k: self._convert(k, v) for k, v in self.user_params.items()})
        self.noise = {k: (v.spec if isinstance(getattr(v, "spec", None), NoiseSpec) else v)
                      for k, v in (noise or {}).items() if v is not None}
        for k in self.noise:
            model.input(k)  # raises a clear KeyError for unknown inputs
        self._noise = noise_params(model, self.noise)             # converted once
        self.init = dict(init or {})
        self.method = method

    # --- structure ------------------------------------------------------------------------
    def structure_key(self):
        # the initial values are compiled into the program: they belong to its key
        init = tuple(sorted((k, np.asarray(v, dtype=float).tobytes()) for k, v in self.init.items()))
        return ("node", self.model, self.n, tuple(sorted((k, v.kind) for k, v in self.noise.items())), init)

    @property
    def node_model(self) -> NodeModel:
        return self.model

    def param_spec(self, name):
        return self.model.param(name)

    def canonical_params(self, overrides: Mapping | None = None) -> dict:
        over = dict(overrides or {})
        if not over:
            return {"node": dict(self._params)}
        return {"node": {**self._params, **{k: self._convert(k, v) for k, v in over.items()}}}

    def _convert(self, name, value):
        """One override in canonical units; ``{'default': ..., 'regions': {...}}`` gives a vector."""
        spec = self.model.param(name)
        if isinstance(value, Mapping):
            return jnp.asarray(regional(value, self.n, self.labels, name, spec.default,
                                        lambda v: spec.to_canonical(v)))
        return spec.to_canonical(value)

    def per_node_params(self) -> dict:
        """Top-level (non-node) parameters whose 1-D values are per region, not a batch."""
        return {}

    def noise_params(self) -> dict:
        return {k: dict(v) for k, v in self._noise.items()}

    def initial_state(self, key=None) -> dict:
        st = self.model.initial_state(self.n)
        for k, v in self.init.items():
            self.model.state(k)
            st[k] = jnp.broadcast_to(jnp.asarray(v, dtype=float), (self.n,))
        return st

    # --- dynamics hooks -------------------------------------------------------------------
    def init_extra(self, state, params, dt, key):
        return ()

    def coupling_inputs(self, extra, state, params, i, dt, delayed=None):
        return {}, extra

    def push(self, extra, state, params, i, dt):
        return extra

    def delay_state_keys(self, dt) -> tuple:
        return ()

    def delay_source(self, state, params):
        raise NotImplementedError("a NodeSystem has no delay line")

    read_delays = write_delays = delay_source

    def read(self, name, state, params, inputs=None):
        return self.model.read(name, state, params["node"], inputs)

    def view(self, state, params, inputs=None):
        ns = {k: _VarView(v) for k, v in state.items()}
        for o in self.model.observables:
            ns[o.name] = _VarView(self.model.read(o.name, state, params["node"], inputs))
        node = SimpleNamespace(**ns)
        root = SimpleNamespace(**ns)
        root.node = node
        return root

    def output_unit(self, name):
        try:
            return self.model.variable_unit(name)
        except KeyError:
            return None


def as_system(model) -> System:
    """The system behind what a user passes to the Simulator (node module, Network, NodeModel)."""
    if isinstance(model, NodeModel):
        return NodeSystem(model, 1)
    from ..models.module import NodeModule
    from ..network.network import Network
    if isinstance(model, (NodeModule, Network)):
        return model.as_system()
    if isinstance(model, System):
        return model
    raise TypeError(
        f"Simulator cannot run {type(model).__name__}; pass a node module (e.g. WilsonCowanStep(n)), "
        f"a Network, or a NodeModel.")
