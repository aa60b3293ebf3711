r"""Larter–Breakspear conductance-based neural mass (Larter et al. 1999; Breakspear et al. 2003).

A Morris–Lecar-type population of pyramidal cells (mean membrane potential :math:`V`, fraction
of open potassium channels :math:`W`) coupled to inhibitory interneurons (:math:`Z`):

.. math::

    \dot V &= -\big(g_{Ca} + (1-C)\, r_{NMDA} a_{ee} Q_V + C\, r_{NMDA} a_{ee} \langle Q_V\rangle\big)\, m_{Ca} (V - V_{Ca})
              - g_K W (V - V_K) - g_L (V - V_L)\\
           &\quad - \big(g_{Na} m_{Na} + (1-C)\, a_{ee} Q_V + C\, a_{ee}\langle Q_V\rangle\big)(V - V_{Na})
              - a_{ie} Z Q_Z + a_{ne} I,\\
    \dot W &= \phi\,(m_K - W)/\tau_K,\\
    \dot Z &= b\,(a_{ni} I + a_{ei} V Q_V),

with :math:`m_{ion} = \tfrac12(1 + \tanh((V - T_{ion})/\delta_{ion}))`,
:math:`Q_V = \tfrac12 Q_{V,max}(1 + \tanh((V - V_T)/\delta_V))` and
:math:`Q_Z = \tfrac12 Q_{Z,max}(1 + \tanh((Z - Z_T)/\delta_Z))`. All quantities are
dimensionless (Breakspear's scaled units); time in ms with ``t_scale = 1``. Names and defaults are
The Virtual Brain's ``LarterBreakspear``. Raising :math:`\delta_V` takes an isolated node from a
stable fixed point (a stable focus up to :math:`\delta_V \approx 0.516`, where a complex pair of
eigenvalues crosses into the right half-plane; ``tests/test_stability.py``) to periodic and, for
:math:`\delta_V` above about
0.59, to complex oscillations (Breakspear et al. 2003, Fig. 2). In that range chaotic windows are
interleaved with periodic ones: with Honey et al.'s (2007) :math:`a_{ee} = 0.36`, ``C = 0`` and
:math:`\delta_Z = \delta_V`, the largest Lyapunov exponent is about 0.005 per ms at
:math:`\delta_V = 0.69` and zero (a limit cycle) at 0.65 (``tests/test_zoo.py``).

At the defaults (:math:`\delta_V = 0.65`, :math:`a_{ee} = 0.4`, ``C = 0.1``) an isolated node
oscillates periodically (largest Lyapunov exponent about 0), it is **not** chaotic; pass
``d_V=0.69, d_Z=0.69, aee=0.36, C=0`` for the chaotic regime.

The network input ``QV_ext`` is :math:`\langle Q_V\rangle`, the weighted mean firing rate of the
other regions (e.g. linear coupling of the observable ``QV`` with row-normalised weights); ``C``
balances it against the node's own firing.

References
----------
Larter, R., Speelman, B., & Worth, R. M. (1999). A coupled ordinary differential equation
lattice model for the simulation of epileptic seizures. *Chaos*, 9(3), 795–804.
Breakspear, M., Terry, J. R., & Friston, K. J. (2003). Modulation of excitatory synaptic coupling
facilitates synchronization and complex dynamics in a biophysical model of neuronal dynamics.
*Network: Computation in Neural Systems*, 14(4), 703–732.
Honey, C. J., Kötter, R., Breakspear, M., & Sporns, O. (2007). Network structure of cerebral
cortex shapes functional connectivity on multiple time scales. *PNAS*, 104(24), 10240–10245.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Observable, Parameter, StateVar

__all__ = ["LARTER_BREAKSPEAR", "larter_breakspear_drift"]

PER_MS = u.ms ** -1


def _gate(x, T, d):
    return 0.5 * (1.0 + jnp.tanh((x - T) / d))


def _QV(state, P):
    return P["QV_max"] * _gate(state["V"], P["VT"], P["d_V"])


def larter_breakspear_drift(state, params, inputs):
    """Pure drift of the Larter–Breakspear model (dimensionless, time in ms)."""
    V, W, Z = state["V"], state["W"], state["Z"]
    P = params
    m_Ca = _gate(V, P["TCa"], P["d_Ca"])
    m_Na = _gate(V, P["TNa"], P["d_Na"])
    m_K = _gate(V, P["TK"], P["d_K"])
    QV = _QV(state, P)
    QZ = P["QZ_max"] * _gate(Z, P["ZT"], P["d_Z"])
    C, cin = P["C"], inputs["QV_ext"]
    exc = (1.0 - C) * QV + C * cin
    dV = (-(P["gCa"] + P["rNMDA"] * P["aee"] * exc) * m_Ca * (V - P["VCa"])
          - P["gK"] * W * (V - P["VK"])
          - P["gL"] * (V - P["VL"])
          - (P["gNa"] * m_Na + P["aee"] * exc) * (V - P["VNa"])
          - P["aie"] * Z * QZ
          + P["ane"] * P["Iext"])
    dW = P["phi"] * (m_K - W) / P["tau_K"]
    dZ = P["b"] * (P["ani"] * P["Iext"] + P["aei"] * V * QV)
    ts = P["t_scale"]
    return {"V": ts * dV + inputs["V_noise"], "W": ts * dW + inputs["W_noise"],
            "Z": ts * dZ + inputs["Z_noise"]}


LARTER_BREAKSPEAR = NodeModel(
    name="LarterBreakspear",
    doc="Larter–Breakspear conductance-based neural mass (periodic by default; chaotic at d_V ≈ 0.69)",
    category="physiological",
    states=(
        StateVar("V", -0.1, None, (-1.5, 1.5), "mean membrane potential of pyramidal cells"),
        StateVar("W", 0.2, None, (-1.5, 1.5), "fraction of open K channels"),
        StateVar("Z", 0.05, None, (-1.5, 1.5), "mean membrane potential of inhibitory interneurons"),
    ),
    params=(
        Parameter("gCa", 1.1, None, None, (0.9, 1.5), "Ca conductance"),
        Parameter("gK", 2.0, None, None, (1.95, 2.05), "K conductance"),
        Parameter("gL", 0.5, None, None, (0.4, 0.6), "leak conductance"),
        Parameter("phi", 0.7, None, None, (0.3, 0.9), "temperature scaling of K channels"),
        Parameter("gNa", 6.7, None, None, (0.0, 10.0), "Na conductance"),
        Parameter("TK", 0.0, None, None, (-0.1, 0.1), "threshold of K channels"),
        Parameter("TCa", -0.01, None, None, (-0.02, -0.01), "threshold of Ca channels"),
        Parameter("TNa", 0.3, None, None, (0.25, 0.3), "threshold of Na channels"),
        Parameter("VCa", 1.0, None, None, (0.9, 1.1), "Ca Nernst potential"),
        Parameter("VK", -0.7, None, None, (-0.8, 1.0), "K Nernst potential"),
        Parameter("VL", -0.5, None, None, (-0.7, -0.4), "leak Nernst potential"),
        Parameter("VNa", 0.53, None, None, (0.4, 0.7), "Na Nernst potential"),
        Parameter("d_K", 0.3, None, None, (0.1, 0.4), "spread of K channel thresholds"),
        Parameter("tau_K", 1.0, None, None, (1.0, 10.0), "K relaxation time (in units of t)"),
        Parameter("d_Na", 0.15, None, None, (0.1, 0.2), "spread of Na channel thresholds"),
        Parameter("d_Ca", 0.15, None, None, (0.1, 0.2), "spread of Ca channel thresholds"),
        Parameter("aei", 2.0, None, None, (0.1, 2.0), "excitatory-to-inhibitory synaptic strength"),
        Parameter("aie", 2.0, None, None, (0.5, 2.0), "inhibitory-to-excitatory synaptic strength"),
        Parameter("b", 0.1, None, None, (0.0001, 1.0), "time constant scaling of inhibition"),
        Parameter("C", 0.1, None, None, (0.0, 1.0), "strength of excitatory coupling (balance with self)"),
        Parameter("ane", 1.0, None, None, (0.4, 1.0), "non-specific-to-excitatory synaptic strength"),
        Parameter("ani", 0.4, None, None, (0.3, 0.5), "non-specific-to-inhibitory synaptic strength"),
        Parameter("aee", 0.4, None, None, (0.0, 0.6), "excitatory-to-excitatory synaptic strength"),
        Parameter("Iext", 0.3, None, None, (0.165, 0.3), "subcortical (non-specific) input"),
        Parameter("rNMDA", 0.25, None, None, (0.2, 0.3), "ratio of NMDA to AMPA receptors"),
        Parameter("VT", 0.0, None, None, (-0.1, 0.1), "threshold potential of pyramidal cells"),
        Parameter("d_V", 0.65, None, None, (0.49, 0.7), "spread of pyramidal thresholds"),
        Parameter("ZT", 0.0, None, None, (-0.1, 0.1), "threshold potential of interneurons"),
        Parameter("d_Z", 0.7, None, None, (0.49, 0.7), "spread of interneuron thresholds"),
        Parameter("QV_max", 1.0, None, None, (0.1, 1.0), "maximal firing rate of pyramidal cells"),
        Parameter("QZ_max", 1.0, None, None, (0.1, 1.0), "maximal firing rate of interneurons"),
        Parameter("t_scale", 1.0, None, None, (0.01, 10.0), "time-scale factor"),
    ),
    inputs=(
        InputVar("QV_ext", None, None, None, "mean firing <Q_V> of the other regions (network input)"),
        InputVar("V_noise", PER_MS, PER_MS, "V", "additive input to dV/dt (noise, stimulus)"),
        InputVar("W_noise", PER_MS, PER_MS, "W", "additive input to dW/dt (noise)"),
        InputVar("Z_noise", PER_MS, PER_MS, "Z", "additive input to dZ/dt (noise)"),
    ),
    observables=(
        Observable("QV", lambda s, p: _QV(s, p), None, "firing rate of pyramidal cells"),
    ),
    drift=larter_breakspear_drift,
    coupled_var="QV",
    coupling_input="QV_ext",
    noise_inputs=("V_noise", "W_noise", "Z_noise"),
    output="V",
    default_dt=0.1,
    reference="Breakspear, Terry & Friston (2003) Network 14:703; Larter et al. (1999) Chaos 9:795",
    extra={"noise_slots": {"V": "V_noise", "W": "W_noise", "Z": "Z_noise"}},
)
