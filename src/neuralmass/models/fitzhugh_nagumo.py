r"""FitzHugh–Nagumo excitable/oscillatory unit (FitzHugh 1961; Nagumo et al. 1962).

.. math::

    \dot v &= \big(v - v^3/3 - w + I + I_{ext}\big) / \tau,\\
    \dot w &= \varepsilon\,(v + a - b w) / \tau .

``v`` is a fast voltage-like and ``w`` a slow recovery variable (both dimensionless); ``tau``
sets the time unit (1 ms by default, so :math:`\varepsilon` is a rate per ms). With FitzHugh's
classic values :math:`a = 0.7`, :math:`b = 0.8`, :math:`\varepsilon = 0.08` the unique fixed
point loses stability in Hopf bifurcations where :math:`1 - v^{*2} - \varepsilon b = 0`, i.e. for
currents :math:`I_H = (v^* + a)/b - v^* + v^{*3}/3` with :math:`v^* = \mp\sqrt{1 - \varepsilon b}`:
:math:`I \approx 0.331` and :math:`I \approx 1.419`. Between them the unit fires periodically
(relaxation oscillations); outside it rests (excitable below, depolarised block above).

Coupling and noise enter through ``v_ext`` and ``w_ext`` (added to :math:`\dot v`, :math:`\dot w`
per ms); ``I_ext`` is a current in the units of ``I`` (stimulus).

References
----------
FitzHugh, R. (1961). Impulses and physiological states in theoretical models of nerve membrane.
*Biophysical Journal*, 1(6), 445–466.
Nagumo, J., Arimoto, S., & Yoshizawa, S. (1962). An active pulse transmission line simulating
nerve axon. *Proceedings of the IRE*, 50(10), 2061–2070.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["FITZHUGH_NAGUMO", "fitzhugh_nagumo_drift", "fhn_hopf_currents"]

PER_MS = u.ms ** -1


def fitzhugh_nagumo_drift(state, params, inputs):
    """Pure drift of the FitzHugh–Nagumo model (time in ms)."""
    v, w = state["v"], state["w"]
    P = params
    return {
        "v": (v - v ** 3 / 3.0 - w + P["I"] + inputs["I_ext"]) / P["tau"] + inputs["v_ext"],
        "w": P["eps"] * (v + P["a"] - P["b"] * w) / P["tau"] + inputs["w_ext"],
    }


def fhn_hopf_currents(a=0.7, b=0.8, eps=0.08):
    """Currents ``(I_low, I_high)`` of the two Hopf bifurcations of the fixed point.

    The fixed point :math:`v^*` of the current :math:`I` solves
    :math:`I = (v^* + a)/b - v^* + v^{*3}/3`; its Jacobian has trace
    :math:`1 - v^{*2} - \\varepsilon b` and positive determinant for :math:`b < 1`, so the Hopf points
    are at :math:`v^* = \\mp\\sqrt{1 - \\varepsilon b}`.
    """
    import math

    vs = math.sqrt(1.0 - eps * b)
    cur = lambda v: (v + a) / b - v + v ** 3 / 3.0
    return cur(-vs), cur(vs)


FITZHUGH_NAGUMO = NodeModel(
    name="FitzHughNagumo",
    doc="FitzHugh–Nagumo excitable/oscillatory unit",
    category="phenomenological",
    states=(
        StateVar("v", -1.2, None, (-2.0, 2.0), "fast (voltage-like) variable"),
        StateVar("w", -0.6, None, (-1.0, 2.0), "slow recovery variable"),
    ),
    params=(
        Parameter("a", 0.7, None, None, (-1.0, 1.5), "recovery offset"),
        Parameter("b", 0.8, None, None, (0.0, 1.0), "recovery self-coupling"),
        Parameter("eps", 0.08, None, None, (0.001, 1.0), "time-scale ratio (slow/fast)"),
        Parameter("I", 0.5, None, None, (-2.0, 3.0), "constant current (periodic firing for 0.331 < I < 1.419)"),
        Parameter("tau", 1.0, u.ms, u.ms, (0.01, 100.0), "time unit of the model"),
    ),
    inputs=(
        InputVar("I_ext", None, None, None, "external current (stimulus), in units of I"),
        InputVar("v_ext", PER_MS, PER_MS, "v", "additive input to dv/dt (coupling, noise)"),
        InputVar("w_ext", PER_MS, PER_MS, "w", "additive input to dw/dt (noise)"),
    ),
    drift=fitzhugh_nagumo_drift,
    coupled_var="v",
    coupling_input="v_ext",
    noise_inputs=("v_ext", "w_ext"),
    output="v",
    default_dt=0.05,
    reference="FitzHugh (1961) Biophys J 1:445; Nagumo et al. (1962) Proc IRE 50:2061",
    extra={"noise_slots": {"v": "v_ext", "w": "w_ext"}},
)
