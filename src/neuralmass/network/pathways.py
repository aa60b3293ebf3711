r"""Coupling pathways: what each region sends, how it is summed, and which inputs receive it.

A :class:`~neuralmass.Network` has one or several *pathways*. Pathway :math:`p` sends a coupled
variable :math:`v^{(p)}` (a state variable, an observable, or a function of several state
variables) through the connectome with the network's delays, and feeds the result into one or
more node inputs, each with its own strength:

.. math::

    \text{input}_{i}^{(p, c)}(t) = k_c\, \mathrm{post}_p\Big(\sum_j w_{ij}\,
        \mathrm{pre}_p\big(v^{(p)}_j(t - \tau_{ij})\big),\; v^{(p)}_i(t)\Big).

The common case is one pathway (``coupled_var='rE'``). Models whose equations couple through two
different sums — e.g. The Virtual Brain's Montbrió–Pazó–Roxin network, where the rates ``r`` enter
``r_ext`` and the potentials ``V`` enter ``V_ext`` (Rabuffo et al. 2021) — get one pathway per sum:

>>> Network(node, conn, coupled_var={'r_ext': 'r', 'V_ext': 'V'},
...         coupling={'r_ext': 'linear', 'V_ext': 'diffusive'},
...         coupling_input={'r_ext': 1.0, 'V_ext': 0.1})          # doctest: +SKIP

All pathways share the network's delay line: their pre-transformed sources are stacked on a
trailing axis and read with the same per-edge windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..models.base import NodeModel, Parameter
from ..monitors import _fn_identity
from .coupling import Coupling, get_coupling, strength_unit

__all__ = ["Pathway", "build_pathways"]


@dataclass(frozen=True, eq=False)
class Pathway:
    """One coupled sum of a network (static description; values are traced parameters).

    Attributes
    ----------
    name : str
        Label: the coupled variable's name, or ``'sum<i>'`` for a function.
    var : str or callable
        What each region sends (state variable, observable or ``f(state, node_params)``).
    coupling : Coupling
        The kind (``pre``/``post``) and its parameter values as given.
    strengths : tuple of (input, Parameter)
        Inputs fed by this sum and the traced strength parameter of each.
    table : tuple of Parameter
        The kind's parameters under their traced names.
    names : dict
        Traced name -> the kind's own parameter name.
    history : optional
        Initial history of this sum's source (see :func:`~neuralmass.network.delays.initial_history`).
    """

    name: str
    var: Any
    coupling: Coupling
    strengths: tuple
    table: tuple
    names: dict
    history: Any = None

    def key(self):
        """Hashable description of the structure (compile-cache key)."""
        var = _fn_identity(self.var) if callable(self.var) else self.var
        return (var, type(self.coupling), tuple(inp for inp, _ in self.strengths),
                tuple(sorted(self.names.items())))

    def kind_params(self, params: Mapping) -> dict:
        """The kind's parameters from the network's traced parameters."""
        return {own: params[traced] for traced, own in self.names.items()}


def _var_unit(model: NodeModel, var):
    if callable(var):
        return None
    try:
        model.read(var, model.initial_state(1), model.default_params())
    except KeyError as e:
        raise ValueError(f"coupled_var: {e.args[0]}") from None
    if var in model.observable_names and model.observable(var).uses_inputs:
        raise ValueError(
            f"coupled_var={var!r} is an observable that depends on the node's inputs, which include "
            f"the coupling itself; couple through a state variable or a function of the state.")
    return model.variable_unit(var)


def build_pathways(model: NodeModel, coupled_var, coupling, coupling_input, k, params: Mapping,
                   history) -> list[Pathway]:
    """The pathways of a network from the :class:`~neuralmass.Network` arguments.

    ``coupled_var`` may be a dict ``{input: variable}`` (one sum per distinct variable and coupling
    kind); ``coupling`` may then be a dict ``{input: kind}``; ``coupling_input`` must then be the
    dict ``{input: strength}`` of the same inputs. Coupling-kind parameters (``**params``) are
    given by their name (applies to every pathway whose kind has it) or, with several pathways,
    ``<name>_<pathway>``; a name used by several pathways is traced as ``<name>_<pathway>``.
    """
    if isinstance(coupled_var, Mapping):
        if not isinstance(coupling_input, Mapping):
            raise ValueError(
                "coupled_var={input: variable} needs coupling_input={input: strength} for the same inputs, "
                f"e.g. coupling_input={{{', '.join(repr(i) + ': 1.0' for i in coupled_var)}}}.")
        if set(coupled_var) != set(coupling_input):
            raise ValueError(
                f"coupled_var names inputs {sorted(coupled_var)} but coupling_input gives strengths for "
                f"{sorted(coupling_input)}; give both for the same inputs.")
        routes = dict(coupled_var)
        strengths = {inp: (f"k_{inp}", val) for inp, val in coupling_input.items()}
    else:
        var = model.coupled_var if coupled_var is None else coupled_var
        if isinstance(coupling_input, Mapping):
            if not coupling_input:
                raise ValueError("coupling_input={} names no input; give {'input_name': strength, ...}.")
            strengths = {inp: (f"k_{inp}", val) for inp, val in coupling_input.items()}
        else:
            strengths = {coupling_input or model.coupling_input: ("k", k)}
        routes = {inp: var for inp in strengths}
    if isinstance(coupling, Mapping):
        if set(coupling) != set(routes):
            raise ValueError(
                f"coupling names inputs {sorted(coupling)}; give a kind for each coupled input "
                f"{sorted(routes)} (or one kind for all).")
        kinds = dict(coupling)
    else:
        kinds = {inp: coupling for inp in routes}
    for inp in routes:
        model.input(inp)                      # clear KeyError for an unknown input

    # group inputs fed by the same variable through the same kind into one sum
    groups: dict = {}
    for inp, var in routes.items():
        var_id = _fn_identity(var) if callable(var) else var
        kind = kinds[inp]
        # inputs share a sum when they read the same variable through the same coupling: a kind
        # named by string, or the very same Coupling object (two objects may hold other parameters)
        kind_id = kind.lower().replace("-", "_") if isinstance(kind, str) else id(kind)
        groups.setdefault((var_id, kind_id), []).append(inp)
    several = len(groups) > 1
    if history is not None and several and not isinstance(history, Mapping):
        raise ValueError(
            "history= with several coupled sums must be a dict {pathway: spec}, pathway names "
            "being the coupled variables (e.g. history={'r': 0.0, 'V': (-2.0, -1.0)}).")

    drafts = []
    for idx, inputs in enumerate(groups.values()):
        var = routes[inputs[0]]
        name = var if isinstance(var, str) else f"sum{idx}"
        c = get_coupling(kinds[inputs[0]], None)
        drafts.append((name, var, c, inputs))

    # coupling-kind parameters: which pathways have each name
    owners: dict = {}
    for name, _, c, _ in drafts:
        for q in c.param_table():
            owners.setdefault(q.name, []).append(name)
    used = set()
    for name, _, c, _ in drafts:
        for q in c.param_table():
            for given in (q.name, f"{q.name}_{name}"):
                if given in params:
                    c.params[q.name] = params[given]
                    used.add(given)
    bad = set(params) - used
    if bad:
        known = sorted({f"{q}" for q in owners} | {f"{q}_{p}" for q, ps in owners.items() for p in ps
                                                    if several})
        raise TypeError(
            f"Network got unexpected argument(s) {sorted(bad)}; the coupling parameters are k and "
            f"{', '.join(known) or 'nothing else'}.")

    if several and len({c.complex_source for _, _, c, _ in drafts}) > 1:
        raise ValueError(
            "the coupled sums " + ", ".join(repr(d[0]) for d in drafts) + " mix a complex source (the "
            "Kuramoto kind sends e^{i theta}) with real ones, which cannot share a delay line; couple "
            "the phases through 'sin_theta'/'cos_theta' with linear couplings instead (docs/models.md).")
    out = []
    if history is not None and several:
        unknown = set(history) - {d[0] for d in drafts}
        if unknown:
            raise ValueError(f"history names unknown pathway(s) {sorted(unknown)}; pathways: "
                             f"{', '.join(d[0] for d in drafts)}.")
    for name, var, c, inputs in drafts:
        source = c.source_unit(_var_unit(model, var))
        rows = []
        for inp in inputs:
            pname, val = strengths[inp]
            spec = model.input(inp)
            unit = strength_unit(spec.canonical or spec.unit, c.post_unit(source))
            rows.append((inp, Parameter(pname, 1.0, unit, unit, doc=f"coupling strength into {inp}")))
        c.k = strengths[inputs[0]][1]
        table, names = [], {}
        for q in c.param_table(source):
            traced = f"{q.name}_{name}" if len(owners[q.name]) > 1 else q.name
            table.append(Parameter(traced, q.default, q.unit, q.canonical, q.bounds, q.doc))
            names[traced] = q.name
        hist = history.get(name) if (several and history is not None) else history
        out.append(Pathway(name, var, c, tuple(rows), tuple(table), names, hist))
    return out
