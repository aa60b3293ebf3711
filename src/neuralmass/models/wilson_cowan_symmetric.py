r"""Wilson–Cowan populations sharing one time constant and one transfer function.

.. math::

    \tau \dot r_E = -r_E + (1 - r\,r_E)\,F(w_{EE} r_E - w_{EI} r_I + I_E), \qquad
    \tau \dot r_I = -r_I + (1 - r\,r_I)\,F(w_{IE} r_E - w_{II} r_I + I_I),

:math:`F(x) = 1/(1 + e^{-a(x-\theta)}) - 1/(1 + e^{a\theta})`: the model of
:mod:`~neuralmass.models.wilson_cowan` with :math:`\tau_E = \tau_I = \tau`, :math:`a_E = a_I = a`,
:math:`\theta_E = \theta_I = \theta` (defaults a = 1.1, θ = 3.4, as brainmass). Weights are named
target–source (``wEI``: I onto E; brainmass names it ``wIE``).

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
"""

from __future__ import annotations

import brainunit as u

from .base import Parameter
from .wilson_cowan import WILSON_COWAN, wilson_cowan_drift, wilson_cowan_family

__all__ = ["WILSON_COWAN_SYMMETRIC", "wilson_cowan_symmetric_drift"]


def wilson_cowan_symmetric_drift(state, params, inputs):
    """Wilson–Cowan drift with shared tau, a, theta (time in ms)."""
    P = params
    return wilson_cowan_drift(state, {**P, "tau_E": P["tau"], "tau_I": P["tau"], "a_E": P["a"],
                                      "a_I": P["a"], "theta_E": P["theta"], "theta_I": P["theta"]}, inputs)


WILSON_COWAN_SYMMETRIC = wilson_cowan_family(
    "WilsonCowanSymmetric", "Wilson–Cowan E/I populations with one time constant and one sigmoid",
    (Parameter("tau", 1.0, u.ms, u.ms, (0.5, 20.0), "time constant of both populations"),
     Parameter("a", 1.1, None, None, (0.5, 2.0), "sigmoid gain"),
     Parameter("theta", 3.4, None, None, (1.0, 6.0), "sigmoid threshold"),
     *(p for p in WILSON_COWAN.params if p.name in ("wEE", "wEI", "wIE", "wII", "r"))),
    wilson_cowan_symmetric_drift, "Wilson & Cowan (1972) Biophys J 12:1")
