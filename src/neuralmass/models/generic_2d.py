r"""Generic planar oscillator of The Virtual Brain (Sanz-Leon et al. 2015).

A general two-dimensional system with a cubic fast nullcline and a quadratic slow one, which
contains FitzHugh–Nagumo, Morris–Lecar-like and Hindmarsh–Rose-like planar reductions as
special cases:

.. math::

    \dot V &= d\,\tau\,\big(-f V^3 + e V^2 + g V + \alpha W + \gamma I + \gamma\,V_{ext}\big),\\
    \dot W &= \frac{d}{\tau}\,\big(c V^2 + b V - \beta W + a\big).

Parameter names and defaults are TVB's ``Generic2dOscillator`` (time in ms; ``d`` scales both
rates, ``tau`` the ratio of the two time scales). The defaults are TVB's FitzHugh–Nagumo-like
*excitable* configuration (a stable fixed point that answers a large enough kick with one
excursion); ``a = 2`` turns it into a limit cycle (TVB's documentation, Table 1).

References
----------
Sanz-Leon, P., Knock, S. A., Spiegler, A., & Jirsa, V. K. (2015). Mathematical framework for
large-scale brain network modeling in The Virtual Brain. *NeuroImage*, 111, 385–430.
FitzHugh, R. (1961). Impulses and physiological states in theoretical models of nerve membrane.
*Biophysical Journal*, 1(6), 445–466.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["GENERIC_2D", "generic_2d_drift"]

PER_MS = u.ms ** -1


def generic_2d_drift(state, params, inputs):
    """Pure drift of the generic 2D oscillator (time in ms)."""
    V, W = state["V"], state["W"]
    P = params
    dV = P["d"] * P["tau"] * (P["alpha"] * W - P["f"] * V ** 3 + P["e"] * V ** 2 + P["g"] * V
                              + P["gamma"] * (P["I"] + inputs["V_ext"]))
    dW = P["d"] * (P["a"] + P["b"] * V + P["c"] * V ** 2 - P["beta"] * W) / P["tau"]
    return {"V": dV + inputs["V_noise"], "W": dW + inputs["W_noise"]}


def _local_coupling(lc, params):
    """Where TVB's Generic2dOscillator adds local (surface) coupling ``lc``: ``d * tau * lc`` in dV/dt."""
    return {"V_noise": params["d"] * params["tau"] * lc}


GENERIC_2D = NodeModel(
    name="Generic2dOscillator",
    doc="TVB's generic planar oscillator",
    category="phenomenological",
    states=(
        StateVar("V", 0.0, None, (-2.0, 4.0), "fast (voltage-like) variable"),
        StateVar("W", 0.0, None, (-6.0, 6.0), "slow (recovery-like) variable"),
    ),
    params=(
        Parameter("tau", 1.0, None, None, (1.0, 5.0), "time-scale ratio of V and W"),
        Parameter("I", 0.0, None, None, (-5.0, 5.0), "baseline input current"),
        Parameter("a", -2.0, None, None, (-5.0, 5.0), "offset of the W nullcline"),
        Parameter("b", -10.0, None, None, (-20.0, 15.0), "linear slope of the W nullcline"),
        Parameter("c", 0.0, None, None, (-10.0, 10.0), "quadratic term of the W nullcline"),
        Parameter("d", 0.02, PER_MS, PER_MS, (0.0001, 1.0), "temporal scale factor (rate)"),
        Parameter("e", 3.0, None, None, (-5.0, 5.0), "quadratic term of the V nullcline"),
        Parameter("f", 1.0, None, None, (-5.0, 5.0), "cubic term of the V nullcline"),
        Parameter("g", 0.0, None, None, (-5.0, 5.0), "linear term of the V nullcline"),
        Parameter("alpha", 1.0, None, None, (-5.0, 5.0), "W feedback onto V"),
        Parameter("beta", 1.0, None, None, (-5.0, 5.0), "W self-decay"),
        Parameter("gamma", 1.0, None, None, (-1.0, 1.0), "gain of the input current (and coupling)"),
    ),
    inputs=(
        InputVar("V_ext", None, None, None, "coupling / stimulus current (enters like I, times gamma)"),
        InputVar("V_noise", PER_MS, PER_MS, "V", "additive input to dV/dt (noise)"),
        InputVar("W_noise", PER_MS, PER_MS, "W", "additive input to dW/dt (noise)"),
    ),
    drift=generic_2d_drift,
    coupled_var="V",
    coupling_input="V_ext",
    noise_inputs=("V_noise", "W_noise"),
    output="V",
    default_dt=0.1,
    reference="Sanz-Leon et al. (2015) NeuroImage 111:385 (TVB Generic2dOscillator)",
    extra={"noise_slots": {"V": "V_noise", "W": "W_noise"},
           # TVB adds a surface's local coupling lc inside the bracket of dV/dt without gamma
           "local_coupling": _local_coupling},
)
