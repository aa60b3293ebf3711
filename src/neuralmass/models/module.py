"""Stateful brainstate modules generated from a :class:`~neuralmass.models.base.NodeModel`.

``make_node_module(MODEL, 'WilsonCowanStep')`` returns a :class:`brainstate.nn.Dynamics` subclass
that users drive step by step (``init_all_states()``, ``update(...)``, ``.rE.value``), inside
:func:`brainstate.transform.for_loop` as in the seed documents. Its ``update`` calls the model's one
pure ``drift`` through :mod:`neuralmass.integrators`; :class:`~neuralmass.Simulator` runs the same
module with the compiled engine (``Simulator(module, dt=...)``).
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import brainstate
import jax.numpy as jnp
import numpy as np

from ..integrators import get_integrator
from ..noise import NoiseSpec
from ..params import Param
from ..units import time_ms
from .base import NodeModel
from .node_delays import history_length, history_sources, init_history, node_delays, step_history
from .system import NodeSystem

__all__ = ["NodeModule", "make_node_module", "KeywordConventionWarning", "caller_stacklevel", "table_keywords"]


class KeywordConventionWarning(UserWarning):
    """A module class read a keyword in another library's convention (brainmass 0.1.1), which
    differs from the name's meaning in the model table; the message says how it maps."""


def caller_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` (called by this function's caller) that points at
    the first frame outside neuralmass and brainstate: the user's line that built the module
    (brainstate's module metaclass calls ``__init__``), so that the default filter shows a warning
    once per such line."""
    import sys

    skip = (str(pathlib.Path(__file__).resolve().parents[1]), str(pathlib.Path(brainstate.__file__).parent))
    frame, level = sys._getframe(2), 2
    while frame is not None and str(pathlib.Path(frame.f_code.co_filename).resolve()).startswith(skip):
        frame, level = frame.f_back, level + 1
    return level


def _size(in_size) -> int:
    if isinstance(in_size, (tuple, list)):
        return int(np.prod(in_size))
    if not isinstance(in_size, (int, np.integer)) or in_size < 1:
        raise ValueError(f"in_size={in_size!r} must be a positive number of nodes.")
    return int(in_size)


class NodeModule(brainstate.nn.Dynamics):
    """Base of generated node modules; see :func:`make_node_module`."""

    model: NodeModel = None  # set on subclasses
    #: the class's own keyword convention (``kwargs -> kwargs`` in table names), or None: e.g.
    #: ``WilsonCowanStep`` reads brainmass's ``wIE``/``wEI``; ``table_names=True`` bypasses it
    keyword_convention = None

    def __new__(cls, *args, **kwargs):
        # a model may name a variant built instead when a call uses the variant's own argument
        # names (e.g. FitzHughNagumoStep(alpha=...) -> the cubic-polynomial form); see model.extra
        variant = (cls.model.extra.get("variant") if cls.model is not None else None)
        if variant is not None:
            names, build = variant
            if any(k in names for k in kwargs):
                return build()(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, in_size=1, *, method: str | None = None, name: str | None = None,
                 table_names: bool = False, **kwargs):
        super().__init__(in_size=in_size, name=name)
        M = self.model
        self.n = _size(in_size)
        # the model's own scheme where it has one (HORN: symplectic Euler), else Heun
        method = M.extra.get("default_method", "heun") if method is None else method
        self.method = method
        get_integrator(method)
        slots = M.extra.get("noise_slots", {})
        object.__setattr__(self, "_slots", slots)
        params, inits = {}, {}
        convention = type(self).keyword_convention
        if convention is not None and not table_names:
            kwargs = convention(type(self), kwargs)
        kwargs = _translate_kwargs(M, kwargs)
        for k, v in kwargs.items():
            if isinstance(v, brainstate.nn.Param):
                v = v.value()
            if k.startswith("init_") and k[5:] in M.state_names:
                k = k[5:] + "_init"   # brainstate spelling init_x of x_init
            if k.startswith("noise_"):
                slot = k[len("noise_"):]
                if slot not in slots:
                    raise TypeError(
                        f"{type(self).__name__} got {k}=...; its noise slots are "
                        f"{', '.join('noise_' + s for s in slots) or 'none'}.")
                setattr(self, k, v)
            elif k.endswith("_init") and k[:-5] in M.state_names:
                inits[k[:-5]] = v
            elif k in M.param_names:
                if isinstance(v, Param):
                    self.fit_params = {**getattr(self, "fit_params", {}), k: v}
                    v = v.value
                params[k] = v
            else:
                raise TypeError(
                    f"{type(self).__name__} got an unexpected argument {k!r}; parameters: "
                    f"{', '.join(M.param_names)}; noise: {', '.join('noise_' + s for s in slots)}; "
                    f"initial values: {', '.join(s + '_init' for s in M.state_names)}.")
        # validate and convert once
        self._canonical = M.canonical_params(params)
        for k, v in self._canonical.items():
            shape = jnp.shape(v)
            if shape not in ((), (1,), (self.n,)):
                raise ValueError(
                    f"{k} has shape {shape}; a node parameter is a scalar or has one value per node "
                    f"({self.n},). For batched runs pass arrays to Simulator.run(params=...).")
        self.param_values = params
        self.init_values = {k: _initial_value(M, k, v, self.n) for k, v in inits.items()}
        if not hasattr(self, "fit_params"):
            self.fit_params = {}
        for s in slots:
            if not hasattr(self, "noise_" + s):
                setattr(self, "noise_" + s, None)

    # ------------------------------------------------------------------ parameters
    def __getattr__(self, item):
        model = type(self).model
        if model is not None and item in model.param_names and "_canonical" in self.__dict__:
            return self.param_values.get(item, model.param(item).default)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {item!r}")

    @property
    def canonical_params(self) -> dict:
        return dict(self._canonical)

    def set_param_value(self, name: str, value) -> None:
        """Give the table parameter ``name`` the value ``value`` (documented unit; a JAX value
        may be traced, as while fitting). A parameter given as :class:`~neuralmass.Param` keeps
        its fitting metadata (bounds, transform)."""
        row = self.model.param(name)
        if name in self.fit_params:
            self.fit_params = {**self.fit_params, name: dataclasses.replace(self.fit_params[name], value=value)}
        self.param_values = {**self.param_values, name: value}
        self._canonical = {**self._canonical, name: row.to_canonical(value)}

    # ------------------------------------------------------------------ states
    def init_state(self, batch_size=None, **kwargs):
        st = self.model.initial_state(self.n)
        for k, v in self.init_values.items():
            st[k] = jnp.broadcast_to(jnp.asarray(v, dtype=float), (self.n,))
        for k, v in st.items():
            if batch_size is not None:
                v = jnp.broadcast_to(v, (batch_size,) + v.shape)
            setattr(self, k, brainstate.HiddenState(v))
        if node_delays(self.model):   # the node's own history (delays inside the model)
            st = {k: getattr(self, k).value for k in self.model.state_names}
            length = history_length(self.model, (self._canonical,), self.step_dt())
            for k, v in init_history(self.model, st, length).items():
                setattr(self, f"history_{k}", brainstate.HiddenState(v))
            self.node_step = brainstate.HiddenState(jnp.zeros((), jnp.int32))

    def reset_state(self, batch_size=None, **kwargs):
        self.init_state(batch_size)

    def _noise_modules(self) -> dict:
        out = {}
        for slot, inp in self._slots.items():
            mod = getattr(self, "noise_" + slot, None)
            if mod is not None:
                out[inp] = mod
        return out

    # ------------------------------------------------------------------ stepping
    def update(self, *args, **inputs):
        """Advance one step of ``brainstate.environ`` dt (or the model's default dt).

        A positional argument is the coupling input (``model.coupling_input``); keyword
        arguments name input channels (e.g. ``p=220.`` for Jansen–Rit, read in Hz).
        Returns the model's main output (e.g. ``rE``, ``eeg``).
        """
        self.advance(self.step_inputs(*args, **inputs))
        return self.read(self.model.output)

    def step_inputs(self, *args, **inputs) -> dict:
        """The inputs of one step (canonical units, every channel of the model): the arguments
        of :meth:`update` read in their documented units, plus one draw of each noise module."""
        M = self.model
        positional = M.extra.get("positional_inputs")
        if positional and len(args) > 1:
            if len(args) > len(positional):
                raise TypeError(f"update() takes at most {len(positional)} positional inputs "
                                f"({', '.join(positional)}), got {len(args)}.")
            for name_, v in zip(positional, args):
                if name_ in inputs:
                    raise TypeError(f"input {name_!r} given twice.")
                inputs[name_] = v
            args = ()
        if len(args) > 1:
            raise TypeError(f"update() takes at most one positional input (the coupling input), got {len(args)}.")
        if args:
            if M.coupling_input in inputs:
                raise TypeError(f"coupling input {M.coupling_input!r} given twice.")
            inputs[M.coupling_input] = args[0]
        vals = {name: jnp.zeros(()) for name in M.input_names}
        for k, v in inputs.items():
            if v is None:
                continue
            vals[k] = vals[M.input(k).name] + M.input(k).to_canonical(v)
        for inp, mod in self._noise_modules().items():
            noise = mod()
            vals[inp] = vals[inp] + M.input(inp).to_canonical(noise)
        return vals

    def advance(self, vals: dict) -> None:
        """Advance the states by one step of :meth:`step_dt` with the inputs ``vals``
        (from :meth:`step_inputs`)."""
        M = self.model
        state = {k: getattr(self, k).value for k in M.state_names}
        if node_delays(M):
            i = self.node_step.value
            hist = {k: getattr(self, f"history_{k}").value for k in history_sources(M)}
            need, have = history_length(M, (self._canonical,), self.step_dt()), next(iter(hist.values())).shape[0]
            if need > have:
                raise ValueError(
                    f"{type(self).__name__}: its delays need {need} steps of history at dt = "
                    f"{self.step_dt():g} ms, but init_all_states() sized it for {have}; initialise the "
                    f"states inside the same brainstate.environ.context(dt=...) as the steps.")
            own, hist = step_history(M, hist, state, self._canonical, i, self.step_dt())
            for k, v in hist.items():
                getattr(self, f"history_{k}").value = v
            vals.update({k: vals[k] + v for k, v in own.items()})
            self.node_step.value = i + 1
        new = get_integrator(self.method)(M.drift, state, self._canonical, vals, self.step_dt())
        for k, v in new.items():
            getattr(self, k).value = v

    def read(self, name: str, inputs: dict | None = None):
        """Current value of a state variable or observable (canonical units); ``inputs`` (canonical
        units, missing channels zero) for observables that depend on the node's inputs."""
        state = {k: getattr(self, k).value for k in self.model.state_names}
        return self.model.read(name, state, self._canonical, inputs)

    def step_dt(self) -> float:
        try:
            return time_ms(brainstate.environ.get_dt(), "brainstate.environ dt")
        except KeyError:
            return self.model.default_dt

    # ------------------------------------------------------------------ engine
    def as_system(self):
        noise = {inp: m.spec for inp, m in self._noise_modules().items()}
        return NodeSystem(self.model, self.n, self.param_values, noise, self.init_values, self.method,
                          canonical=self._canonical)

    def __repr__(self):
        return f"{type(self).__name__}(in_size={self.n})"


def table_keywords(model: NodeModel) -> set[str]:
    """The keywords the module classes of ``model`` take besides ``in_size``, ``method``, ``name``
    and ``table_names``: the parameters, their aliases (``extra['aliases']``), the keywords its
    conversion hook reads (``extra['translate_keywords']``), ``init_<state>``/``<state>_init`` and
    ``noise_<slot>``."""
    out = set(model.param_names) | set(model.extra.get("aliases", {}))
    out |= {f"init_{s}" for s in model.state_names} | {f"{s}_init" for s in model.state_names}
    out |= {f"noise_{s}" for s in model.extra.get("noise_slots", {})}
    return out | set(model.extra.get("translate_keywords", ()))


def _translate_kwargs(model: NodeModel, kwargs: dict) -> dict:
    """Apply the model's keyword aliases (``extra['aliases']``, e.g. ``w`` for ``omega``) and its
    conversion hook (``extra['translate']``, for arguments given in another convention)."""
    aliases = model.extra.get("aliases", {})
    out = {}
    for k, v in kwargs.items():
        target = aliases.get(k, k)
        if target in out:
            raise TypeError(f"{model.name}: {k!r} and {target!r} name the same parameter; pass one.")
        out[target] = v
    hook = model.extra.get("translate")
    return hook(out) if hook is not None else out


def _initial_value(model: NodeModel, name: str, value, n: int):
    """An initial value given as a number, an array, a Quantity (converted with the state's
    ``extra['init_units']`` entry) or an initialiser called with the shape ``(n,)``."""
    if callable(value) and not hasattr(value, "shape"):
        value = value((n,))
    if isinstance(value, brainstate.nn.Param):
        value = value.value()
    unit = model.extra.get("init_units", {}).get(name)
    from ..units import to_canonical

    return to_canonical(value, f"init_{name}", unit, unit)


def make_node_module(model: NodeModel, class_name: str, doc: str | None = None,
                     keyword_convention=None) -> type:
    """Generate the stateful module class of ``model``; ``keyword_convention(cls, kwargs)``
    (optional) maps the class's keywords onto the table's names (see
    :attr:`NodeModule.keyword_convention`)."""
    body = {"model": model, "__doc__": (doc or "") + "\n\n" + _param_doc(model), "__module__": "neuralmass"}
    if keyword_convention is not None:
        body["keyword_convention"] = staticmethod(keyword_convention)
        body["__doc__"] += "\n\n" + (keyword_convention.__doc__ or "")
    # a model may name the base class of its module (e.g. WilsonCowanThreePopBase)
    return type(class_name, (model.extra.get("module_base", NodeModule),), body)


def _param_doc(model: NodeModel) -> str:
    lines = [f"Stateful {model.name} node population (generated from the model table).", "",
             "Parameters", "----------", "in_size : int", "    Number of nodes."]
    for p in model.params:
        unit = f" [{p.unit}]" if p.unit is not None else ""
        lines += [f"{p.name} : float, array or Quantity, default {p.default:g}{unit}", f"    {p.doc}"]
    for slot, inp in model.extra.get("noise_slots", {}).items():
        lines += [f"noise_{slot} : OUProcess or WhiteNoise, optional", f"    Noise added to input {inp!r}."]
    lines += ["method : {'euler', 'heun', 'rk4'}", "    Integrator used by ``update`` and the Simulator.",
              "table_names : bool, default False",
              "    Read every keyword with the model table's meaning (no keyword convention of the class).",
              "", "References", "----------", model.reference]
    return "\n".join(lines)


_ = (Any, NoiseSpec)
