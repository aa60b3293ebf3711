r"""Harmonic oscillator recurrent network (HORN) unit (Effenberger et al. 2022, 2025).

Each unit is a damped harmonic oscillator driven through a saturating nonlinearity:

.. math::

    \dot x = y,\qquad
    \dot y = \alpha \tanh\!\big(I + v\,x\big) - 2\gamma\, y - \omega^2 x,

with position :math:`x` (the unit's activation), velocity :math:`y`, natural frequency
:math:`\omega` (rad/ms), damping :math:`\gamma` (1/ms), excitability :math:`\alpha` (1/ms²), an
amplitude feedback :math:`v` and the total input :math:`I` (external plus recurrent, dimensionless;
in a HORN network :math:`I_i = \sum_j W_{ij} y_j + b_i + (W^{ih} s)_i + b^{ih}_i`). Time is in ms; a
step of ``dt = 1 ms`` is the HORN paper's unit step :math:`h = 1`.

Without input (:math:`I = 0`, :math:`v = 0`) a unit is the linear damped oscillator
:math:`\ddot x + 2\gamma\dot x + \omega^2 x = 0`, whose solution for :math:`\gamma < \omega` is
:math:`x(t) = e^{-\gamma t}\,[x_0\cos\omega_d t + (y_0 + \gamma x_0)\sin(\omega_d t)/\omega_d]`,
:math:`\omega_d = \sqrt{\omega^2 - \gamma^2}`. A constant input :math:`I` displaces the rest
point to :math:`x^* = \alpha\tanh(I)/\omega^2` (for :math:`v = 0`).

The HORN papers integrate with the symplectic (semi-implicit) Euler scheme, velocity first,
:math:`y_{n+1} = y_n + h\,\dot y(x_n, y_n)`, :math:`x_{n+1} = x_n + h\,y_{n+1}`; that is this
model's default integrator (``'symplectic_euler'``, :mod:`neuralmass.integrators`, which reads the
order from the drift's ``update_order``); any other integrator may be chosen with ``method=``.

References
----------
Effenberger, F., Carvalho, P., Dubinin, I., & Singer, W. (2022). A biology-inspired recurrent
oscillator network for computations in high-dimensional state space. *bioRxiv*,
2022.11.29.518360; published as: The functional role of oscillatory dynamics in neocortical
circuits: a computational perspective. *PNAS*, 122(4), e2412830122 (2025).
Rusch, T. K., & Mishra, S. (2021). Coupled oscillatory recurrent neural network (coRNN): an
accurate and (gradient) stable architecture for learning long time dependencies. *ICLR*.
Hairer, E., Lubich, C., & Wanner, G. (2006). *Geometric Numerical Integration*, 2nd ed. Springer.
"""

from __future__ import annotations

import math

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["HORN", "horn_drift"]

PER_MS = u.ms ** -1
PER_MS2 = u.ms ** -2


def horn_drift(state, params, inputs):
    """Pure drift of a HORN unit (time in ms): ``dx = y``, ``dy = alpha tanh(I + v x) - 2 gamma y
    - omega^2 x``."""
    x, y = state["x"], state["y"]
    P = params
    return {"x": y,
            "y": (P["alpha"] * jnp.tanh(inputs["I"] + P["v"] * x) - 2.0 * P["gamma"] * y
                  - P["omega"] ** 2 * x + inputs["y_ext"])}


#: symplectic Euler advances the velocity first, then the position from the new velocity
horn_drift.update_order = ("y", "x")


HORN = NodeModel(
    name="HORN",
    doc="Harmonic oscillator recurrent network unit (damped driven oscillator)",
    category="phenomenological",
    states=(
        StateVar("x", 0.0, None, (-0.05, 0.05), "position (the unit's activation)"),
        StateVar("y", 0.0, PER_MS, (-0.05, 0.05), "velocity dx/dt (1/ms)"),
    ),
    params=(
        Parameter("alpha", 0.04, PER_MS2, PER_MS2, (0.0, 1.0), "excitability: gain of the input forcing"),
        Parameter("omega", 2.0 * math.pi / 28.0, PER_MS, PER_MS, (0.0, 2.0),
                  "natural angular frequency (rad/ms; 2 pi/28 is a 28 ms period)"),
        Parameter("gamma", 0.01, PER_MS, PER_MS, (0.0, 1.0), "damping rate (amplitude decays as e^{-gamma t})"),
        Parameter("v", 0.0, None, None, (-1.0, 1.0), "amplitude feedback: v x is added to the input"),
    ),
    inputs=(
        InputVar("I", None, None, None, "total input inside tanh (external + recurrent, e.g. W y + b)"),
        InputVar("y_ext", PER_MS2, PER_MS2, "y", "additive input to dy/dt (noise, 1/ms^2)"),
    ),
    drift=horn_drift,
    coupled_var="y",
    coupling_input="I",
    noise_inputs=("y_ext",),
    output="x",
    default_dt=1.0,
    reference="Effenberger et al. (2025) PNAS 122:e2412830122 (bioRxiv 2022.11.29.518360); "
              "Rusch & Mishra (2021) ICLR",
    extra={"noise_slots": {"y": "y_ext"}, "default_method": "symplectic_euler"},
)
