r"""Wilson–Cowan populations with one excitatory and one inhibitory weight.

.. math::

    x = w_{exc}\, r_E - w_{inh}\, r_I, \qquad
    \tau_E \dot r_E = -r_E + (1 - r\,r_E) F_E(x + I_E), \qquad
    \tau_I \dot r_I = -r_I + (1 - r\,r_I) F_I(x + I_I),

the model of :mod:`~neuralmass.models.wilson_cowan` with :math:`w_{EE} = w_{IE} = w_{exc}` and
:math:`w_{EI} = w_{II} = w_{inh}` (both populations see the same recurrent input; defaults
w_exc = 8, w_inh = 12, as brainmass).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
"""

from __future__ import annotations

from .base import Parameter
from .wilson_cowan import WILSON_COWAN, wilson_cowan_drift, wilson_cowan_family

__all__ = ["WILSON_COWAN_SIMPLIFIED", "wilson_cowan_simplified_drift"]


def wilson_cowan_simplified_drift(state, params, inputs):
    """Wilson–Cowan drift with wEE = wIE = w_exc and wEI = wII = w_inh (time in ms)."""
    P = params
    return wilson_cowan_drift(state, {**P, "wEE": P["w_exc"], "wIE": P["w_exc"], "wEI": P["w_inh"],
                                      "wII": P["w_inh"]}, inputs)


WILSON_COWAN_SIMPLIFIED = wilson_cowan_family(
    "WilsonCowanSimplified", "Wilson–Cowan E/I populations with shared excitatory and inhibitory weights",
    (*(p for p in WILSON_COWAN.params if p.name in ("tau_E", "tau_I", "a_E", "a_I", "theta_E", "theta_I")),
     Parameter("w_exc", 8.0, None, None, (1.0, 20.0), "excitatory weight onto both populations"),
     Parameter("w_inh", 12.0, None, None, (1.0, 20.0), "inhibitory weight onto both populations"),
     *(p for p in WILSON_COWAN.params if p.name == "r")),
    wilson_cowan_simplified_drift, "Wilson & Cowan (1972) Biophys J 12:1")
