"""A population of ``n`` uncoupled nodes of one model: :class:`NodeSystem`, the engine's simplest
system (it satisfies :class:`neuralmass.engine.system.System`).

It lives beside the node models, below the engine, so that a node module
(:meth:`neuralmass.models.module.NodeModule.as_system`) can describe itself without importing the
engine; :mod:`neuralmass.engine.system` re-exports it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..noise import NoiseSpec, noise_params
from ..params import regional
from .base import NodeModel
from .node_delays import history_length, init_history, node_delays, step_history

__all__ = ["NodeSystem"]


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
        return ("node", self.model, self.n, tuple(sorted((k, v.kind) for k, v in self.noise.items())), init,
                self._longest_delays())

    def _longest_delays(self) -> tuple:
        """The longest value of each delay inside the node (ms): the node history is sized from
        them, so they belong to the compiled program's key."""
        return tuple(float(np.max(np.asarray(self._params[p], dtype=float)))
                     for _, p in node_delays(self.model).values())

    def divergence_hint(self, params) -> str | None:
        """Why a run diverged when a run's override lengthened a delay inside the node past what
        the node's history was sized for (it then reads NaN); ``None`` otherwise."""
        for (_, p), longest in zip(node_delays(self.model).values(), self._longest_delays()):
            v = params["node"][p]
            if not isinstance(v, jax.core.Tracer) and float(np.max(np.asarray(v, dtype=float))) > longest:
                return (f"{p}={np.max(np.asarray(v, dtype=float)):g} ms is longer than the node's history "
                        f"was sized for ({longest:g} ms); set the delay on the node itself, e.g. "
                        f"{self.model.name}Step(n, {p}=...), not as a run's parameter override.")
        return None

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
        if not node_delays(self.model):
            return ()
        length = history_length(self.model, (self._params, params["node"]), dt)
        return {"node_history": init_history(self.model, state, length)}

    def coupling_inputs(self, extra, state, params, i, dt, delayed=None):
        if not node_delays(self.model):
            return {}, extra
        out, hist = step_history(self.model, extra["node_history"], state, params["node"], i, dt)
        return out, {**extra, "node_history": hist}

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
