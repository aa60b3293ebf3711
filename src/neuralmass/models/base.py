"""Declarative node-model definitions.

A node model is *data plus one pure function*:

* a table of :class:`Parameter` rows (name, default, unit, plausible range, meaning, reference),
* a table of :class:`StateVar` rows (the integrated variables),
* a table of :class:`InputVar` rows (external input channels: coupling, stimulus, noise),
* a pure ``drift(state, params, inputs) -> dstate/dt`` working on plain arrays in canonical units
  (time in ms, so derivatives are per ms),
* named observables ``name -> (fn(state, params) -> array, unit)``.

Everything else — the compiled engine (:mod:`neuralmass.simulate`), gradients, batching and the
stateful brainstate modules (:mod:`neuralmass.models.module`) — is generated from a
:class:`NodeModel` and calls its ``drift``; no model equation is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jax.numpy as jnp

from ..params import Parameter  # the row type of every parameter table (models, couplings, noise)
from ..units import to_canonical

__all__ = ["Parameter", "StateVar", "InputVar", "Observable", "NodeModel"]

Array = Any


@dataclass(frozen=True)
class StateVar:
    """An integrated state variable (value in canonical units; ``init_range`` for random starts)."""

    name: str
    init: float = 0.0
    unit: Any = None
    init_range: tuple[float, float] | None = None
    doc: str = ""


@dataclass(frozen=True)
class InputVar:
    """An external input channel of the drift (coupling, stimulus or noise enter here).

    Values are read in ``unit`` and converted to ``canonical`` before they reach the drift.
    ``additive_to`` names the state variable whose derivative the input adds to *linearly*
    (``dx/dt = ... + input``); for such channels white noise is an exact Euler–Maruyama increment.
    """

    name: str
    unit: Any = None
    canonical: Any = None
    additive_to: str | None = None
    doc: str = ""

    def to_canonical(self, value) -> Array:
        return to_canonical(value, self.name, self.unit, self.canonical)


@dataclass(frozen=True)
class Observable:
    """A named read-out ``fn(state, params) -> array`` in ``unit``.

    With ``uses_inputs=True`` the read-out also depends on the node's inputs (e.g. a firing rate
    that is a function of the total synaptic current, coupling and stimuli included) and is called
    as ``fn(state, params, inputs)``. The engine passes the inputs of the step that produced the
    state (the inputs at t - dt for the state at t); read outside a
    simulation without inputs, they are zero.
    """

    name: str
    fn: Callable[..., Array]
    unit: Any = None
    doc: str = ""
    uses_inputs: bool = False


@dataclass(frozen=True, eq=False)
class NodeModel:
    """A neural mass model: parameter/state/input tables and one pure drift function.

    Parameters
    ----------
    name : str
    states, params, inputs : tuple
        The tables.
    drift : callable
        ``drift(state, params, inputs) -> dict`` of time derivatives (per ms). ``state``,
        ``params`` and ``inputs`` are dicts of plain arrays in canonical units that broadcast
        against each other (node axis last).
    observables : tuple of Observable
    coupled_var : str
        Default variable (state or observable name) sent to other regions.
    coupling_input : str
        Default input channel that receives the network coupling.
    noise_inputs : tuple of str
        Input channels that receive noise by default.
    output : str
        What :meth:`update` of the stateful module returns (state or observable name).
    default_dt : float
        A step (ms) that is stable with Heun for default parameters.
    reference : str
    doc : str
        One line: what the model is and what it is used for.
    category : str
        ``'phenomenological'`` (normal forms and abstract oscillators) or ``'physiological'``
        (populations with biophysical parameters); listed by :func:`~neuralmass.models.list_models`.
    compensated : bool
        Precision policy: ``True`` for models with slow variables whose per-step change falls
        below float32 resolution (their float32 runs then use Kahan-compensated updates, see
        :func:`neuralmass.integrators.compensated_add`).
    """

    name: str
    states: tuple[StateVar, ...]
    params: tuple[Parameter, ...]
    inputs: tuple[InputVar, ...]
    drift: Callable[..., dict]
    observables: tuple[Observable, ...] = ()
    coupled_var: str | None = None
    coupling_input: str | None = None
    noise_inputs: tuple[str, ...] = ()
    output: str | None = None
    default_dt: float = 0.1
    reference: str = ""
    doc: str = ""
    category: str = ""
    extra: dict = field(default_factory=dict)
    compensated: bool = False

    # ----------------------------------------------------------------- lookups
    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)

    @property
    def observable_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.observables)

    def param(self, name: str) -> Parameter:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(self._unknown("parameter", name, self.param_names))

    def input(self, name: str) -> InputVar:
        for i in self.inputs:
            if i.name == name:
                return i
        raise KeyError(self._unknown("input", name, self.input_names))

    def state(self, name: str) -> StateVar:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(self._unknown("state variable", name, self.state_names))

    def observable(self, name: str) -> Observable:
        for o in self.observables:
            if o.name == name:
                return o
        raise KeyError(self._unknown("observable", name, self.observable_names))

    def _unknown(self, kind, name, known):
        return f"{self.name} has no {kind} {name!r}; known: {', '.join(known) or 'none'}"

    def variable_unit(self, name: str):
        """Unit of a state variable or observable (for labelling outputs)."""
        if name in self.state_names:
            return self.state(name).unit
        return self.observable(name).unit

    @property
    def uses_inputs(self) -> bool:
        """Whether some observable depends on the inputs (the engine then carries them)."""
        return any(o.uses_inputs for o in self.observables)

    def read(self, name: str, state: Mapping[str, Array], params: Mapping[str, Array],
             inputs: Mapping[str, Array] | None = None) -> Array:
        """Value of a state variable or observable ``name`` (canonical units).

        ``inputs``: the node's inputs (canonical units) for observables that depend on them;
        missing channels count as zero."""
        if name in state:
            return state[name]
        if name in self.observable_names:
            obs = self.observable(name)
            if obs.uses_inputs:
                return obs.fn(state, params, {**self.zero_inputs(), **dict(inputs or {})})
            return obs.fn(state, params)
        raise KeyError(
            f"monitor {name!r} is neither a state variable nor an observable of {self.name}; "
            f"states: {', '.join(self.state_names)}; observables: "
            f"{', '.join(self.observable_names) or 'none'}")

    # ----------------------------------------------------------------- defaults
    def default_params(self) -> dict[str, Array]:
        """Default parameters in canonical units."""
        return {p.name: jnp.asarray(p.default * p.factor, dtype=float) for p in self.params}

    def canonical_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Array]:
        """Defaults updated with user ``overrides`` (Quantities or numbers in documented units)."""
        out = self.default_params()
        for k, v in (overrides or {}).items():
            out[k] = self.param(k).to_canonical(v)
        return out

    def zero_inputs(self) -> dict[str, Array]:
        return {i.name: jnp.zeros(()) for i in self.inputs}

    def initial_state(self, n: int, key=None, dtype=float) -> dict[str, Array]:
        """State of ``n`` nodes: defaults, or uniform in ``init_range`` when ``key`` is given."""
        import jax

        out = {}
        keys = jax.random.split(key, len(self.states)) if key is not None else [None] * len(self.states)
        for s, k in zip(self.states, keys):
            if k is not None and s.init_range is not None:
                lo, hi = s.init_range
                out[s.name] = jax.random.uniform(k, (n,), dtype=dtype, minval=lo, maxval=hi)
            else:
                out[s.name] = jnp.full((n,), s.init, dtype=dtype)
        return out

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"NodeModel({self.name!r}, states={self.state_names}, params={len(self.params)})"

    def describe(self) -> str:
        """A human-readable parameter table."""
        lines = [f"{self.name}: {self.doc}".rstrip(": "), f"Reference: {self.reference}", "",
                 f"{'parameter':<12}{'default':>12}  {'unit':<10}{'range':<24}meaning"]
        for p in self.params:
            unit = p.unit_label
            rng = f"[{p.bounds[0]:g}, {p.bounds[1]:g}]"
            lines.append(f"{p.name:<12}{p.default:>12g}  {unit:<10}{rng:<24}{p.doc}")
        lines.append("")
        lines.append("states: " + ", ".join(self.state_names))
        lines.append("inputs: " + ", ".join(self.input_names))
        if self.observables:
            lines.append("observables: " + ", ".join(self.observable_names))
        return "\n".join(lines)
