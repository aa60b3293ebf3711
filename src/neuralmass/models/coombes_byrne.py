r"""Coombes–Byrne next-generation neural mass with synaptic gating (Coombes & Byrne 2019).

QIF neurons with conductance-based synapses, reduced exactly as in Montbrió et al. (2015), and an
alpha-function synaptic conductance driven by the population rate:

.. math::

    \dot r &= \frac{\Delta}{\pi} + 2 r V - g\, r,\\
    \dot V &= V^2 - \pi^2 r^2 + \eta + g\,(v_{syn} - V) + I_{ext},\\
    \dot g &= \alpha\, q,\\
    \dot q &= \alpha\,(k \pi r - g - 2 q),

i.e. :math:`(1 + \alpha^{-1} d/dt)^2 g = k\pi r`. The conductance term :math:`-g\,r` in the rate
equation (the shunt of the QIF's :math:`-g v` current; Coombes & Byrne 2019, Byrne et al. 2020)
makes strong synaptic input shorten the rate response. Time is in ms with unit membrane time
constant, as in The Virtual Brain's ``CoombesByrne``; the network coupling (rates of other
regions) enters :math:`\dot V` through ``r_ext``.

With :math:`\Delta = 0.5`, :math:`\eta = 20`, :math:`v_{syn} = -10`, :math:`k = 1`,
:math:`\alpha = 0.95` (TVB's defaults) an isolated node oscillates (a stable limit cycle of the
rate; ``tests/test_zoo.py``).

References
----------
Coombes, S., & Byrne, Á. (2019). Next generation neural mass models. In *Nonlinear Dynamics in
Computational Neuroscience* (pp. 1–16). Springer.
Byrne, Á., O'Dea, R. D., Forrester, M., Ross, J., & Coombes, S. (2020). Next-generation neural
mass and field modeling. *Journal of Neurophysiology*, 123(2), 726–742.
"""

from __future__ import annotations

import math

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["COOMBES_BYRNE", "coombes_byrne_drift"]

PER_MS = u.ms ** -1


def coombes_byrne_drift(state, params, inputs):
    """Pure drift of the Coombes–Byrne model (time in ms, unit membrane time constant)."""
    r, V, g, q = state["r"], state["V"], state["g"], state["q"]
    P = params
    return {
        "r": P["Delta"] / math.pi + 2.0 * V * r - g * r + inputs["r_noise"],
        "V": (V * V - (math.pi * r) ** 2 + P["eta"] + (P["v_syn"] - V) * g
              + inputs["r_ext"] + inputs["I_ext"] + inputs["V_noise"]),
        "g": P["alpha"] * q,
        "q": P["alpha"] * (P["k"] * math.pi * r - g - 2.0 * q),
    }


COOMBES_BYRNE = NodeModel(
    name="CoombesByrne",
    doc="Coombes–Byrne next-generation neural mass (QIF mean field with synaptic gating)",
    category="physiological",
    states=(
        StateVar("r", 0.1, None, (0.0, 6.0), "population firing rate"),
        StateVar("V", -2.0, None, (-10.0, 10.0), "mean membrane potential (scaled QIF units)"),
        StateVar("g", 0.5, None, (0.0, 5.0), "synaptic conductance"),
        StateVar("q", 0.0, None, (-2.0, 2.0), "auxiliary variable (g' / alpha)"),
    ),
    params=(
        Parameter("Delta", 0.5, None, None, (0.0, 5.0), "half width of the excitability distribution"),
        Parameter("alpha", 0.95, None, None, (0.05, 5.0), "synaptic rate constant (alpha function)"),
        Parameter("v_syn", -10.0, None, None, (-20.0, 20.0), "synaptic reversal potential"),
        Parameter("k", 1.0, None, None, (0.0, 10.0), "synaptic strength (conductance per rate)"),
        Parameter("eta", 20.0, None, None, (-20.0, 40.0), "centre of the excitability distribution"),
    ),
    inputs=(
        InputVar("r_ext", None, None, "V", "coupling (rates of other regions) into dV/dt"),
        InputVar("I_ext", None, None, "V", "external current (stimulus) into dV/dt"),
        InputVar("r_noise", PER_MS, PER_MS, "r", "additive input to dr/dt (noise)"),
        InputVar("V_noise", PER_MS, PER_MS, "V", "additive input to dV/dt (noise)"),
    ),
    drift=coombes_byrne_drift,
    coupled_var="r",
    coupling_input="r_ext",
    noise_inputs=("r_noise", "V_noise"),
    output="r",
    default_dt=0.01,
    reference="Coombes & Byrne (2019) Nonlinear Dynamics in Computational Neuroscience, pp. 1-16",
    extra={"noise_slots": {"r": "r_noise", "V": "V_noise"},
           # brainmass 0.1.1 spells the potential v
           "aliases": {"init_v": "V_init", "noise_v": "noise_V"}},
)
