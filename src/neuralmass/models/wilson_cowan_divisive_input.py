r"""Wilson–Cowan populations with divisive inhibition of the recurrent input.

.. math::

    \tau_E \dot r_E = -r_E + (1 - r\,r_E)\,F_E\!\left(\frac{w_{EE} r_E}{\sigma_E + w_{EI} r_I} + I_E\right),
    \qquad
    \tau_I \dot r_I = -r_I + (1 - r\,r_I)\,F_I\!\left(\frac{w_{IE} r_E}{\sigma_I + w_{II} r_I} + I_I\right),

with the sigmoid :math:`F_j` of :mod:`~neuralmass.models.wilson_cowan`: the excitatory input to each
population is divided by its inhibition before the transfer function (input normalisation, Carandini
& Heeger 2012); the external input :math:`I_j` is not divided. Parameters as
:mod:`~neuralmass.models.wilson_cowan_divisive` (weights target–source, brainmass's defaults).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
Carandini, M., & Heeger, D. J. (2012). Normalization as a canonical neural computation. *Nature
Reviews Neuroscience*, 13(1), 51–62.
"""

from __future__ import annotations

from .wilson_cowan import TABLE_NAMED_VARIANT, wc_relax, wc_sigmoid, wilson_cowan_family
from .wilson_cowan_divisive import DIVISIVE_PARAMS

__all__ = ["WILSON_COWAN_DIVISIVE_INPUT", "wilson_cowan_divisive_input_drift"]


def wilson_cowan_divisive_input_drift(state, params, inputs):
    """Wilson–Cowan drift with divisively normalised recurrent input (time in ms)."""
    P = params
    rE, rI = state["rE"], state["rI"]
    xE = P["wEE"] * rE / (P["sigma_E"] + P["wEI"] * rI) + inputs["rE_inp"]
    xI = P["wIE"] * rE / (P["sigma_I"] + P["wII"] * rI) + inputs["rI_inp"]
    return {"rE": wc_relax(rE, wc_sigmoid(xE, P["a_E"], P["theta_E"]), P["r"], P["tau_E"]),
            "rI": wc_relax(rI, wc_sigmoid(xI, P["a_I"], P["theta_I"]), P["r"], P["tau_I"])}


WILSON_COWAN_DIVISIVE_INPUT = wilson_cowan_family(
    "WilsonCowanDivisiveInput", "Wilson–Cowan E/I populations, inhibition divides the recurrent input",
    DIVISIVE_PARAMS, wilson_cowan_divisive_input_drift,
    "Wilson & Cowan (1972) Biophys J 12:1; Carandini & Heeger (2012) Nat Rev Neurosci 13:51",
    extra=TABLE_NAMED_VARIANT)
