r"""Wilson–Cowan populations with divisive inhibition of the output gain.

.. math::

    \tau_E \dot r_E = -r_E + \frac{1 - r\,r_E}{\sigma_E + w_{EI} r_I}\,F_E(w_{EE} r_E + I_E), \qquad
    \tau_I \dot r_I = -r_I + \frac{1 - r\,r_I}{\sigma_I + w_{II} r_I}\,F_I(w_{IE} r_E + I_I),

with the sigmoid :math:`F_j` of :mod:`~neuralmass.models.wilson_cowan`: inhibition divides the
population's gain instead of being subtracted from its input (normalisation, Carandini & Heeger
2012). The semisaturation constants :math:`\sigma_j > 0` set the gain without inhibition
(:math:`1/\sigma_j`). Weights are named target–source (``wEI``: I onto E), as brainmass 0.1.1
reads them in this variant; defaults are brainmass's (weights about half the classic ones).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
Carandini, M., & Heeger, D. J. (2012). Normalization as a canonical neural computation. *Nature
Reviews Neuroscience*, 13(1), 51–62.
"""

from __future__ import annotations

from .base import Parameter
from .wilson_cowan import TABLE_NAMED_VARIANT, WILSON_COWAN, wc_relax, wc_sigmoid, wilson_cowan_family

__all__ = ["WILSON_COWAN_DIVISIVE", "wilson_cowan_divisive_drift", "DIVISIVE_PARAMS"]

_WEIGHTS = {"wEE": (6.0, "E -> E weight"), "wEI": (6.5, "I -> E weight (divides E's gain or input)"),
            "wIE": (2.0, "E -> I weight"), "wII": (5.5, "I -> I weight (divides I's gain or input)")}

#: the table of both divisive variants (gain and input normalisation)
DIVISIVE_PARAMS = (
    *(Parameter(p.name, _WEIGHTS[p.name][0], None, None, (0.0, 20.0), _WEIGHTS[p.name][1])
      if p.name in _WEIGHTS else p for p in WILSON_COWAN.params),
    Parameter("sigma_E", 1.0, None, None, (0.05, 10.0), "excitatory semisaturation constant (> 0)"),
    Parameter("sigma_I", 1.0, None, None, (0.05, 10.0), "inhibitory semisaturation constant (> 0)"),
)


def wilson_cowan_divisive_drift(state, params, inputs):
    """Wilson–Cowan drift with divisive gain normalisation (time in ms)."""
    P = params
    rE, rI = state["rE"], state["rI"]
    FE = wc_sigmoid(P["wEE"] * rE + inputs["rE_inp"], P["a_E"], P["theta_E"])
    FI = wc_sigmoid(P["wIE"] * rE + inputs["rI_inp"], P["a_I"], P["theta_I"])
    return {"rE": wc_relax(rE, FE / (P["sigma_E"] + P["wEI"] * rI), P["r"], P["tau_E"]),
            "rI": wc_relax(rI, FI / (P["sigma_I"] + P["wII"] * rI), P["r"], P["tau_I"])}


WILSON_COWAN_DIVISIVE = wilson_cowan_family(
    "WilsonCowanDivisive", "Wilson–Cowan E/I populations, inhibition divides the gain",
    DIVISIVE_PARAMS, wilson_cowan_divisive_drift,
    "Wilson & Cowan (1972) Biophys J 12:1; Carandini & Heeger (2012) Nat Rev Neurosci 13:51",
    extra=TABLE_NAMED_VARIANT)
