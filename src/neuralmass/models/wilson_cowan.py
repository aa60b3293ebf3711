r"""Wilson–Cowan excitatory/inhibitory population model (Wilson & Cowan 1972).

.. math::

    \tau_E \dot r_E &= -r_E + (1 - r\, r_E)\, F_E(w_{EE} r_E - w_{EI} r_I + I_E),\\
    \tau_I \dot r_I &= -r_I + (1 - r\, r_I)\, F_I(w_{IE} r_E - w_{II} r_I + I_I),\\
    F_j(x) &= \frac{1}{1 + e^{-a_j (x - \theta_j)}} - \frac{1}{1 + e^{a_j \theta_j}} .

Weights are named *target–source*: ``wEI`` is the inhibitory weight onto the excitatory
population, ``wIE`` the excitatory weight onto the inhibitory population. (The brainmass-named
``WilsonCowanStep`` classes read ``wIE``/``wEI`` with brainmass's source→target meaning and warn
how they map; see :func:`brainmass_weight_names`.) Defaults are the
classic values (c_ee = 12, c_ei = 4, c_ie = 13, c_ii = 11, a_E = 1.2, θ_E = 2.8, a_I = 1,
θ_I = 4) also used by TVB and brainmass, with τ_E = τ_I = 1 ms (TVB uses 10 ms; pass
``tau_E=10 * u.ms`` for its slower time scale). These are Wilson & Cowan's (1972) values for
*hysteresis*, not for oscillations: the isolated node has **no limit cycle for any constant drive**
``I_E`` (with ``I_I = 0``). Every fixed point is a stable node (real eigenvalues); for
``-0.5 ≲ I_E ≲ 0.28`` a low- and a high-activity state coexist (a pulse switches between them),
elsewhere there is one. Oscillations need Wilson & Cowan's (1972) limit-cycle set
``wEE=16, wEI=12, wIE=15, wII=3, a_E=1.3, theta_E=4, a_I=2, theta_I=3.7``, which has a limit
cycle for about ``1.1 ≲ I_E ≲ 1.9`` (a stable fixed point below and above; checked by
simulation in ``tests/test_zoo.py``), or a network (delayed coupling).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). Excitatory and inhibitory interactions in localized
populations of model neurons. *Biophysical Journal*, 12, 1–24.
Sanz-Leon, P., Knock, S. A., Spiegler, A., & Jirsa, V. K. (2015). Mathematical framework for
large-scale brain network modeling in The Virtual Brain. *NeuroImage*, 111, 385–430.
"""

from __future__ import annotations

import warnings

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Parameter, StateVar
from .module import KeywordConventionWarning, caller_stacklevel

__all__ = ["WILSON_COWAN", "wilson_cowan_drift", "wc_sigmoid", "wc_relax", "wc_rates", "wilson_cowan_family", "TABLE_NAMED_VARIANT",
           "brainmass_weight_names"]

_SWAP = {"wEI": "wIE", "wIE": "wEI"}


def brainmass_weight_names(cls, kwargs: dict) -> dict:
    """Keyword convention of the brainmass-named ``...Step`` classes of the Wilson–Cowan family.

    Notes
    -----
    brainmass 0.1.1 names the cross weights *source→target*: its ``wIE`` is the inhibitory weight
    onto the excitatory population (this table's ``wEI``), its ``wEI`` the excitatory weight onto
    the inhibitory population (this table's ``wIE``). The ``...Step`` classes read ``wIE`` and
    ``wEI`` with brainmass's meaning, so code written for brainmass sets the same connections,
    and a :class:`~neuralmass.models.module.KeywordConventionWarning` says how they map (once per
    calling line). The model table, ``Simulator.run(params=...)``, study configs, fitting and
    ``WilsonCowanModel`` use the table's *target←source* names; ``table_names=True`` makes a
    ``...Step`` class read them too.
    """
    given = [k for k in ("wIE", "wEI") if k in kwargs]
    if not given or not set(_SWAP) <= set(cls.model.param_names):
        return kwargs
    warnings.warn(
        f"{cls.__name__}: {' and '.join(given)} read with brainmass's meaning (source→target): wIE is "
        "inhibitory onto excitatory (the model table's wEI), wEI excitatory onto inhibitory (the "
        "table's wIE). The model table, Simulator.run(params=...), configs, fitting and "
        "WilsonCowanModel name them target←source; pass table_names=True to read them so here.",
        KeywordConventionWarning, stacklevel=caller_stacklevel())
    return {_SWAP.get(k, k): v for k, v in kwargs.items()}


def wc_sigmoid(x, a, theta):
    """Wilson–Cowan transfer function, shifted so that ``F(0) = 0``."""
    return 1.0 / (1.0 + jnp.exp(-a * (x - theta))) - 1.0 / (1.0 + jnp.exp(a * theta))


def wc_relax(rate, drive, r, tau):
    r"""One Wilson–Cowan population: :math:`\dot r_j = (-r_j + (1 - r\,r_j)\,D_j) / \tau_j` for its
    (transferred) drive :math:`D_j`. Shared by the Wilson–Cowan family."""
    return (-rate + (1.0 - r * rate) * drive) / tau


def wc_rates(state, P, inputs, F_E, F_I):
    r"""The Wilson–Cowan right-hand side for transfer functions ``F_E(x)``, ``F_I(x)``:
    :math:`\tau_j \dot r_j = -r_j + (1 - r\,r_j) F_j(x_j)` with the currents of the module
    docstring (weights named target–source). Shared by the Wilson–Cowan family."""
    rE, rI = state["rE"], state["rI"]
    xE = P["wEE"] * rE - P["wEI"] * rI + inputs["rE_inp"]
    xI = P["wIE"] * rE - P["wII"] * rI + inputs["rI_inp"]
    return {"rE": wc_relax(rE, F_E(xE), P["r"], P["tau_E"]), "rI": wc_relax(rI, F_I(xI), P["r"], P["tau_I"])}


def wilson_cowan_drift(state, params, inputs):
    """Pure drift of the Wilson–Cowan model (time in ms)."""
    P = params
    return wc_rates(state, P, inputs, lambda x: wc_sigmoid(x, P["a_E"], P["theta_E"]),
                    lambda x: wc_sigmoid(x, P["a_I"], P["theta_I"]))


#: ``extra`` of the variants whose brainmass classes already name the weights target←source, as
#: the tables do (no weight-name swap), and whose ``update`` takes the inputs positionally
TABLE_NAMED_VARIANT = {"positional_inputs": ("rE_inp", "rI_inp"), "step_keywords": None}


def wilson_cowan_family(name, doc, params, drift, reference, default_dt=0.1, extra=None, states=(),
                        inputs=()) -> NodeModel:
    """A model of the Wilson–Cowan family: this model's states, inputs, coupling and noise slots
    with its own parameter table and drift (the variants of brainmass 0.1.1); ``states`` and
    ``inputs`` are a variant's own rows after rE, rI and rE_inp, rI_inp; ``extra`` adds to
    Wilson–Cowan's (its ``noise_slots``: the inputs that receive noise)."""
    extra = {**WILSON_COWAN.extra, **(extra or {})}
    return NodeModel(
        name=name, doc=doc, category="physiological", states=WILSON_COWAN.states + tuple(states),
        params=params, inputs=WILSON_COWAN.inputs + tuple(inputs), drift=drift, coupled_var="rE",
        coupling_input="rE_inp", noise_inputs=tuple(extra["noise_slots"].values()), output="rE",
        default_dt=default_dt, reference=reference, extra=extra)


WILSON_COWAN = NodeModel(
    name="WilsonCowan",
    doc="Wilson–Cowan excitatory/inhibitory populations (defaults: fixed points, no oscillation)",
    category="physiological",
    states=(
        StateVar("rE", 0.0, None, (0.0, 0.05), "excitatory activity (fraction active)"),
        StateVar("rI", 0.0, None, (0.0, 0.05), "inhibitory activity (fraction active)"),
    ),
    params=(
        Parameter("tau_E", 1.0, u.ms, u.ms, (0.5, 20.0), "excitatory time constant"),
        Parameter("tau_I", 1.0, u.ms, u.ms, (0.5, 20.0), "inhibitory time constant"),
        Parameter("a_E", 1.2, None, None, (0.5, 2.0), "excitatory sigmoid gain"),
        Parameter("a_I", 1.0, None, None, (0.5, 2.0), "inhibitory sigmoid gain"),
        Parameter("theta_E", 2.8, None, None, (1.0, 5.0), "excitatory sigmoid threshold"),
        Parameter("theta_I", 4.0, None, None, (2.0, 6.0), "inhibitory sigmoid threshold"),
        Parameter("wEE", 12.0, None, None, (5.0, 20.0), "E -> E weight"),
        Parameter("wEI", 4.0, None, None, (1.0, 15.0), "I -> E weight"),
        Parameter("wIE", 13.0, None, None, (5.0, 20.0), "E -> I weight"),
        Parameter("wII", 11.0, None, None, (1.0, 20.0), "I -> I weight"),
        Parameter("r", 1.0, None, None, (0.0, 2.0), "refractoriness"),
    ),
    inputs=(
        InputVar("rE_inp", None, None, None, "input to the excitatory population"),
        InputVar("rI_inp", None, None, None, "input to the inhibitory population"),
    ),
    drift=wilson_cowan_drift,
    coupled_var="rE",
    coupling_input="rE_inp",
    noise_inputs=("rE_inp", "rI_inp"),
    output="rE",
    default_dt=0.1,
    reference="Wilson & Cowan (1972) Biophys J 12:1",
    extra={"noise_slots": {"E": "rE_inp", "I": "rI_inp"}, "step_keywords": brainmass_weight_names},
)
