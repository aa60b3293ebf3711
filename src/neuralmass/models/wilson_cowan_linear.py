r"""Wilson–Cowan populations with a threshold-linear transfer function.

.. math::

    \tau_E \dot r_E = -r_E + (1 - r\,r_E)\,[w_{EE} r_E - w_{EI} r_I + I_E]_+, \qquad
    \tau_I \dot r_I = -r_I + (1 - r\,r_I)\,[w_{IE} r_E - w_{II} r_I + I_I]_+,

:math:`[x]_+ = \max(x, 0)` in place of the sigmoid (the rectified-linear rate model of Dayan &
Abbott 2001, §7.5, with Wilson–Cowan's refractory factor). Weights are named target–source
(``wEI``: I onto E, default 0.3; ``wIE``: E onto I, default 1.0 — brainmass names them the other
way round). With the defaults and no input the origin is a stable fixed point.

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
Dayan, P., & Abbott, L. F. (2001). *Theoretical Neuroscience*, §7.5. MIT Press.
"""

from __future__ import annotations

import jax.numpy as jnp

from .base import Parameter
from .wilson_cowan import WILSON_COWAN, wc_rates, wilson_cowan_family

__all__ = ["WILSON_COWAN_LINEAR", "wilson_cowan_linear_drift"]


def _relu(x):
    return jnp.maximum(x, 0.0)


def wilson_cowan_linear_drift(state, params, inputs):
    """Wilson–Cowan drift with a rectified-linear transfer (time in ms)."""
    return wc_rates(state, params, inputs, _relu, _relu)


WILSON_COWAN_LINEAR = wilson_cowan_family(
    "WilsonCowanLinear", "Wilson–Cowan E/I populations with a threshold-linear transfer",
    (*(p for p in WILSON_COWAN.params if p.name in ("tau_E", "tau_I")),
     Parameter("wEE", 0.8, None, None, (0.0, 2.0), "E -> E weight"),
     Parameter("wEI", 0.3, None, None, (0.0, 2.0), "I -> E weight"),
     Parameter("wIE", 1.0, None, None, (0.0, 2.0), "E -> I weight"),
     Parameter("wII", 0.85, None, None, (0.0, 2.0), "I -> I weight"),
     *(p for p in WILSON_COWAN.params if p.name == "r")),
    wilson_cowan_linear_drift, "Wilson & Cowan (1972) Biophys J 12:1; Dayan & Abbott (2001) §7.5")
