r"""Three Wilson–Cowan populations: excitatory (E), inhibitory (I) and modulatory (M).

.. math::

    \tau_E \dot r_E &= -r_E + (1 - r\,r_E)\,F_E(w_{EE} r_E - w_{EI} r_I + w_{EM} r_M + I_E),\\
    \tau_I \dot r_I &= -r_I + (1 - r\,r_I)\,F_I(w_{IE} r_E - w_{II} r_I + w_{IM} r_M + I_I),\\
    \tau_M \dot r_M &= -r_M + (1 - r\,r_M)\,F_M(w_{ME} r_E - w_{MI} r_I + w_{MM} r_M + I_M),

with the sigmoid :math:`F_j` of :mod:`~neuralmass.models.wilson_cowan` for each population: Wilson &
Cowan's (1972) population equations written for three interacting populations. The third, slower
population is excited by E, inhibited by I and excites both back, a rate model of a modulatory
(e.g. neuromodulatory or attentional) drive that follows the circuit's activity. Weights are named
target–source (``wEM``: M onto E, ``wME``: E onto M), as brainmass 0.1.1 reads them in this
variant; defaults are brainmass's (``wEI = 13`` is I onto E, ``wIE = 4`` E onto I: not the classic
values of :mod:`~neuralmass.models.wilson_cowan`). Time constants in ms.

:class:`WilsonCowanThreePopBase` is the base class of the stateful modules of such models (brainmass's
name and role): states ``rE, rI, rM``, inputs ``rE_inp, rI_inp, rM_inp``, noise slots
``noise_E, noise_I, noise_M``. A variant is a table built with :func:`wilson_cowan_three_pop_family`
and a subclass naming it (``class MyStep(WilsonCowanThreePopBase): model = MY_TABLE``).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar
from .module import NodeModule
from .wilson_cowan import WILSON_COWAN, wc_relax, wc_sigmoid, wilson_cowan_family
from .wilson_cowan_adaptive import WC_VARIANT_PARAMS

__all__ = ["WILSON_COWAN_THREE_POPULATION", "wilson_cowan_three_population_drift",
           "wilson_cowan_three_pop_family", "WilsonCowanThreePopBase"]


def wilson_cowan_three_population_drift(state, params, inputs):
    """Three-population Wilson–Cowan drift (time in ms)."""
    P = params
    rE, rI, rM = state["rE"], state["rI"], state["rM"]
    xE = P["wEE"] * rE - P["wEI"] * rI + P["wEM"] * rM + inputs["rE_inp"]
    xI = P["wIE"] * rE - P["wII"] * rI + P["wIM"] * rM + inputs["rI_inp"]
    xM = P["wME"] * rE - P["wMI"] * rI + P["wMM"] * rM + inputs["rM_inp"]
    return {"rE": wc_relax(rE, wc_sigmoid(xE, P["a_E"], P["theta_E"]), P["r"], P["tau_E"]),
            "rI": wc_relax(rI, wc_sigmoid(xI, P["a_I"], P["theta_I"]), P["r"], P["tau_I"]),
            "rM": wc_relax(rM, wc_sigmoid(xM, P["a_M"], P["theta_M"]), P["r"], P["tau_M"])}


def wilson_cowan_three_pop_family(name, doc, params, drift, reference, default_dt=0.1) -> NodeModel:
    """A three-population (E, I, M) Wilson–Cowan model: Wilson–Cowan's states, inputs and noise
    slots plus the modulatory population's (``rM``, ``rM_inp``, ``noise_M``)."""
    return wilson_cowan_family(
        name, doc, params, drift, reference, default_dt=default_dt,
        states=(StateVar("rM", 0.0, None, (0.0, 0.05), "modulatory activity (fraction active)"),),
        inputs=(InputVar("rM_inp", None, None, None, "input to the modulatory population"),),
        extra={"noise_slots": {**WILSON_COWAN.extra["noise_slots"], "M": "rM_inp"},
               "positional_inputs": ("rE_inp", "rI_inp", "rM_inp"),
               # brainmass names these weights target←source, as the table: no swap
               "step_keywords": None})


WILSON_COWAN_THREE_POPULATION = wilson_cowan_three_pop_family(
    "WilsonCowanThreePopulation", "Wilson–Cowan E/I populations with a third, modulatory population",
    (*WC_VARIANT_PARAMS,
     Parameter("tau_M", 2.0, u.ms, u.ms, (0.5, 50.0), "modulatory time constant"),
     Parameter("a_M", 1.0, None, None, (0.5, 2.0), "modulatory sigmoid gain"),
     Parameter("theta_M", 3.5, None, None, (1.0, 6.0), "modulatory sigmoid threshold"),
     Parameter("wME", 8.0, None, None, (0.0, 20.0), "E -> M weight"),
     Parameter("wMI", 6.0, None, None, (0.0, 20.0), "I -> M weight (inhibitory)"),
     Parameter("wEM", 4.0, None, None, (0.0, 20.0), "M -> E weight (excitatory)"),
     Parameter("wIM", 2.0, None, None, (0.0, 20.0), "M -> I weight (excitatory)"),
     Parameter("wMM", 2.0, None, None, (0.0, 20.0), "M -> M weight")),
    wilson_cowan_three_population_drift, "Wilson & Cowan (1972) Biophys J 12:1")


class WilsonCowanThreePopBase(NodeModule):
    """Base class of the three-population (E, I, M) Wilson–Cowan node modules.

    Not instantiated itself: use :class:`neuralmass.WilsonCowanThreePopulationStep`, or subclass it
    with ``model = wilson_cowan_three_pop_family(...)`` (a table and a pure drift of ``rE, rI, rM``).
    Its keywords are those of the three-population modules: ``in_size``, the table's parameters,
    ``noise_E``, ``noise_I``, ``noise_M``, ``rE_init``, ``rI_init``, ``rM_init`` and ``method``.
    """

    model = WILSON_COWAN_THREE_POPULATION

    def __new__(cls, *args, **kwargs):
        if cls is WilsonCowanThreePopBase:
            raise TypeError(
                "WilsonCowanThreePopBase is the base class of three-population Wilson-Cowan modules; "
                "instantiate WilsonCowanThreePopulationStep(in_size, ...), or subclass it with "
                "`model = wilson_cowan_three_pop_family(...)`.")
        return super().__new__(cls, *args, **kwargs)


WILSON_COWAN_THREE_POPULATION.extra["module_base"] = WilsonCowanThreePopBase
