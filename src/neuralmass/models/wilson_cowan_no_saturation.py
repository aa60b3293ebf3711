r"""Wilson–Cowan populations without the refractory (saturation) factor.

.. math::

    \tau_E \dot r_E = -r_E + F_E(w_{EE} r_E - w_{EI} r_I + I_E), \qquad
    \tau_I \dot r_I = -r_I + F_I(w_{IE} r_E - w_{II} r_I + I_I),

the model of :mod:`~neuralmass.models.wilson_cowan` with :math:`r = 0` (the common reduction,
Ermentrout & Terman 2010 §11.3). Weights are named target–source (``wEI``: I onto E; brainmass
names it ``wIE``); defaults as Wilson–Cowan's.

References
----------
Wilson, H. R., & Cowan, J. D. (1972). *Biophysical Journal*, 12, 1–24.
Ermentrout, G. B., & Terman, D. H. (2010). *Mathematical Foundations of Neuroscience*, ch. 11.
Springer.
"""

from __future__ import annotations

from .wilson_cowan import WILSON_COWAN, wilson_cowan_drift, wilson_cowan_family

__all__ = ["WILSON_COWAN_NO_SATURATION", "wilson_cowan_no_saturation_drift"]


def wilson_cowan_no_saturation_drift(state, params, inputs):
    """Wilson–Cowan drift with r = 0 (time in ms)."""
    return wilson_cowan_drift(state, {**params, "r": 0.0}, inputs)


WILSON_COWAN_NO_SATURATION = wilson_cowan_family(
    "WilsonCowanNoSaturation", "Wilson–Cowan E/I populations without the refractory factor",
    tuple(p for p in WILSON_COWAN.params if p.name != "r"), wilson_cowan_no_saturation_drift,
    "Wilson & Cowan (1972) Biophys J 12:1; Ermentrout & Terman (2010) §11.3")
