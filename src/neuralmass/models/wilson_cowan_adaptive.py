r"""Wilson–Cowan populations with spike-frequency adaptation.

.. math::

    \tau_E \dot r_E &= -r_E + (1 - r\,r_E)\,F_E(w_{EE} r_E - w_{EI} r_I + I_E - a_E),\\
    \tau_I \dot r_I &= -r_I + (1 - r\,r_I)\,F_I(w_{IE} r_E - w_{II} r_I + I_I - a_I),\\
    \tau_{aE} \dot a_E &= -a_E + b_E\,r_E, \qquad \tau_{aI} \dot a_I = -a_I + b_I\,r_I,

with the sigmoid :math:`F_j` of :mod:`~neuralmass.models.wilson_cowan`. Each population carries a
slow adaptation current that follows its own rate and is subtracted from its input (the linear
adaptation of Benda & Herz 2003, in rate form). At a fixed point :math:`a_j^* = b_j r_j^*`, so the
fixed points are those of the Wilson–Cowan model with :math:`w_{EE} - b_E` in place of
:math:`w_{EE}` and :math:`w_{II} + b_I` in place of :math:`w_{II}`: adaptation lowers the steady
rates by exactly the effect of that weaker recurrent drive.

Weights are named target–source as in the rest of the family (``wEI``: I onto E); brainmass 0.1.1
reads this variant's names the same way, so its keywords and defaults are taken as they are:
``wEI = 13`` (I onto E) and ``wIE = 4`` (E onto I), which are *not* the classic values of
:mod:`~neuralmass.models.wilson_cowan` (4 and 13). Time constants in ms.

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
Benda, J., & Herz, A. V. M. (2003). A universal model for spike-frequency adaptation. *Neural
Computation*, 15(11), 2523–2564.
"""

from __future__ import annotations

import brainunit as u

from .base import Parameter, StateVar
from .wilson_cowan import TABLE_NAMED_VARIANT, WILSON_COWAN, wc_rates, wc_sigmoid, wilson_cowan_family

__all__ = ["WILSON_COWAN_ADAPTIVE", "wilson_cowan_adaptive_drift", "WC_VARIANT_PARAMS"]

#: Wilson–Cowan's table with brainmass's variant defaults of the cross weights (wEI = 13 is I onto
#: E, wIE = 4 is E onto I; see the module docstring); shared by the adaptive and delayed variants
WC_VARIANT_PARAMS = tuple(
    Parameter("wEI", 13.0, None, None, p.bounds, p.doc) if p.name == "wEI" else
    Parameter("wIE", 4.0, None, None, (1.0, 20.0), p.doc) if p.name == "wIE" else p
    for p in WILSON_COWAN.params)


def wilson_cowan_adaptive_drift(state, params, inputs):
    """Wilson–Cowan drift with adaptation currents aE, aI (time in ms)."""
    P = params
    aE, aI = state["aE"], state["aI"]
    out = wc_rates(state, P, {"rE_inp": inputs["rE_inp"] - aE, "rI_inp": inputs["rI_inp"] - aI},
                   lambda x: wc_sigmoid(x, P["a_E"], P["theta_E"]),
                   lambda x: wc_sigmoid(x, P["a_I"], P["theta_I"]))
    out["aE"] = (-aE + P["b_E"] * state["rE"]) / P["tau_aE"]
    out["aI"] = (-aI + P["b_I"] * state["rI"]) / P["tau_aI"]
    return out


WILSON_COWAN_ADAPTIVE = wilson_cowan_family(
    "WilsonCowanAdaptive", "Wilson–Cowan E/I populations with slow adaptation currents",
    (*WC_VARIANT_PARAMS,
     Parameter("tau_aE", 100.0, u.ms, u.ms, (10.0, 1000.0), "excitatory adaptation time constant"),
     Parameter("tau_aI", 80.0, u.ms, u.ms, (10.0, 1000.0), "inhibitory adaptation time constant"),
     Parameter("b_E", 0.1, None, None, (0.0, 5.0), "excitatory adaptation strength"),
     Parameter("b_I", 0.08, None, None, (0.0, 5.0), "inhibitory adaptation strength")),
    wilson_cowan_adaptive_drift, "Wilson & Cowan (1972) Biophys J 12:1; Benda & Herz (2003) Neural Comput 15:2523",
    states=(StateVar("aE", 0.0, None, (0.0, 0.005), "excitatory adaptation current"),
            StateVar("aI", 0.0, None, (0.0, 0.005), "inhibitory adaptation current")),
    extra=TABLE_NAMED_VARIANT)
