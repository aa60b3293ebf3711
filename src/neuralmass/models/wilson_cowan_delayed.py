r"""Wilson–Cowan populations with delays inside the node (one per connection).

.. math::

    \tau_E \dot r_E(t) &= -r_E(t) + (1 - r\,r_E(t))\,
        F_E\bigl(w_{EE} r_E(t - d_{EE}) - w_{EI} r_I(t - d_{EI}) + I_E(t)\bigr),\\
    \tau_I \dot r_I(t) &= -r_I(t) + (1 - r\,r_I(t))\,
        F_I\bigl(w_{IE} r_E(t - d_{IE}) - w_{II} r_I(t - d_{II}) + I_I(t)\bigr),

with the sigmoid :math:`F_j` of :mod:`~neuralmass.models.wilson_cowan`: local synaptic and
conduction delays :math:`d_{XY}` (ms) on each of the four connections, target–source as the weights
(``delay_EI``: I onto E). A delay differential equation: the node keeps its own history
(:mod:`~neuralmass.models.node_delays`; delays rounded to whole steps, the history before the start
is the initial state). With all delays zero it is the Wilson–Cowan model. Delays alone can make
a node oscillate: an inhibitory population inhibiting itself (r = 0; one variable, which without delay
only relaxes) with loop gain :math:`g = w_{II} F_I'(x^*) > 1` at its rest loses stability through a
Hopf bifurcation at :math:`d_{II} = \tau_I \arccos(-1/g) / \sqrt{g^2 - 1}` (Coombes & Laing 2009
review delayed rate models). The drift reads the delayed rates from the
inputs ``rE_dEE, rE_dIE, rI_dEI, rI_dII``, which the node's history fills. Weights and defaults as
brainmass 0.1.1's variant (``wEI = 13``: I onto E, ``wIE = 4``: E onto I).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
Coombes, S., & Laing, C. (2009). Delays in activity-based neural networks. *Philosophical
Transactions of the Royal Society A*, 367(1891), 1117–1129.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, Parameter
from .wilson_cowan import TABLE_NAMED_VARIANT, wc_relax, wc_sigmoid, wilson_cowan_family
from .wilson_cowan_adaptive import WC_VARIANT_PARAMS

__all__ = ["WILSON_COWAN_DELAYED", "wilson_cowan_delayed_drift"]

#: delayed input channel -> (state it carries, delay parameter)
_DELAYED = {"rE_dEE": ("rE", "delay_EE"), "rE_dIE": ("rE", "delay_IE"),
            "rI_dEI": ("rI", "delay_EI"), "rI_dII": ("rI", "delay_II")}


def wilson_cowan_delayed_drift(state, params, inputs):
    """Wilson–Cowan drift on the delayed rates ``inputs['rE_dEE']``, ... (time in ms)."""
    P = params
    rE, rI = state["rE"], state["rI"]
    xE = P["wEE"] * inputs["rE_dEE"] - P["wEI"] * inputs["rI_dEI"] + inputs["rE_inp"]
    xI = P["wIE"] * inputs["rE_dIE"] - P["wII"] * inputs["rI_dII"] + inputs["rI_inp"]
    return {"rE": wc_relax(rE, wc_sigmoid(xE, P["a_E"], P["theta_E"]), P["r"], P["tau_E"]),
            "rI": wc_relax(rI, wc_sigmoid(xI, P["a_I"], P["theta_I"]), P["r"], P["tau_I"])}


WILSON_COWAN_DELAYED = wilson_cowan_family(
    "WilsonCowanDelayed", "Wilson–Cowan E/I populations with delayed local connections",
    (*WC_VARIANT_PARAMS,
     Parameter("delay_EE", 2.0, u.ms, u.ms, (0.0, 20.0), "E -> E delay"),
     Parameter("delay_IE", 2.0, u.ms, u.ms, (0.0, 20.0), "E -> I delay"),
     Parameter("delay_EI", 1.5, u.ms, u.ms, (0.0, 20.0), "I -> E delay"),
     Parameter("delay_II", 1.5, u.ms, u.ms, (0.0, 20.0), "I -> I delay")),
    wilson_cowan_delayed_drift, "Wilson & Cowan (1972) Biophys J 12:1; Coombes & Laing (2009) "
    "Phil Trans R Soc A 367:1117",
    inputs=tuple(InputVar(k, None, None, None, f"{s} delayed by {p} (filled by the node's history)")
                 for k, (s, p) in _DELAYED.items()),
    extra={"node_delays": _DELAYED, **TABLE_NAMED_VARIANT})
