r"""Threshold-linear excitatory/inhibitory rate node (Chaudhuri et al. 2015).

.. math::

    \tau_E\,\dot\nu_E = -\nu_E + \beta_E\,[I_E]_+, \qquad
    \tau_I\,\dot\nu_I = -\nu_I + \beta_I\,[I_I]_+ ,

with :math:`[\cdot]_+ = \max(\cdot, 0)`. :math:`\nu_{E,I}` are firing rates (Hz) and
:math:`I_{E,I}` the synaptic input currents (pA) of the excitatory and inhibitory populations;
:math:`\beta` is the slope of the threshold-linear f–I curve (Hz/pA). Each rate relaxes to
:math:`\beta[I]_+` with its own time constant, so rates that start non-negative stay so.

Inputs: ``E_inp``/``I_inp`` are the currents inside the rectifier (network coupling goes to
``E_inp``); ``E_noise``/``I_noise`` add to :math:`\dot\nu` directly (Hz/ms), so white noise is a
proper Euler–Maruyama increment.

References
----------
Chaudhuri, R., Knoblauch, K., Gariel, M.-A., Kennedy, H., & Wang, X.-J. (2015). A large-scale
circuit mechanism for hierarchical dynamical processing in the primate cortex. *Neuron*, 88(2),
419–431.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["THRESHOLD_LINEAR", "threshold_linear_drift"]

HZ_PER_PA = u.Hz / u.pA
HZ_PER_MS = u.Hz / u.ms


def threshold_linear_drift(state, params, inputs):
    """Pure drift of the threshold-linear E/I node (rates in Hz, time in ms)."""
    E, I = state["E"], state["I"]
    P = params
    dE = (-E + P["beta_E"] * jnp.maximum(inputs["E_inp"], 0.0)) / P["tau_E"]
    dI = (-I + P["beta_I"] * jnp.maximum(inputs["I_inp"], 0.0)) / P["tau_I"]
    return {"E": dE + inputs["E_noise"], "I": dI + inputs["I_noise"]}


THRESHOLD_LINEAR = NodeModel(
    name="ThresholdLinear",
    doc="threshold-linear E/I rate node (Chaudhuri et al. 2015)",
    category="phenomenological",
    states=(
        StateVar("E", 0.0, u.Hz, (0.0, 10.0), "excitatory rate (Hz)"),
        StateVar("I", 0.0, u.Hz, (0.0, 10.0), "inhibitory rate (Hz)"),
    ),
    params=(
        Parameter("tau_E", 20.0, u.ms, u.ms, (1.0, 200.0), "excitatory time constant"),
        Parameter("tau_I", 10.0, u.ms, u.ms, (1.0, 200.0), "inhibitory time constant"),
        Parameter("beta_E", 0.066, HZ_PER_PA, HZ_PER_PA, (0.0, 1.0), "slope of the excitatory f-I curve"),
        Parameter("beta_I", 0.351, HZ_PER_PA, HZ_PER_PA, (0.0, 2.0), "slope of the inhibitory f-I curve"),
    ),
    inputs=(
        InputVar("E_inp", u.pA, u.pA, None, "current into the excitatory rectifier (coupling, stimulus)"),
        InputVar("I_inp", u.pA, u.pA, None, "current into the inhibitory rectifier"),
        InputVar("E_noise", HZ_PER_MS, HZ_PER_MS, "E", "additive input to dE/dt (noise)"),
        InputVar("I_noise", HZ_PER_MS, HZ_PER_MS, "I", "additive input to dI/dt (noise)"),
    ),
    drift=threshold_linear_drift,
    coupled_var="E",
    coupling_input="E_inp",
    noise_inputs=("E_noise", "I_noise"),
    output="E",
    default_dt=0.1,
    reference="Chaudhuri et al. (2015) Neuron 88:419",
    extra={"noise_slots": {"E": "E_noise", "I": "I_noise"}, "positional_inputs": ("E_inp", "I_inp")},
)
