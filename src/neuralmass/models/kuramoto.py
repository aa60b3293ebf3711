r"""Kuramoto phase oscillators (Kuramoto 1975) with sine coupling and an order parameter.

.. math::

    \dot\theta_i = \omega_i + \sum_j K_{ij} \sin(\theta_j - \theta_i) + \theta^{ext}_i .

The sine coupling is written with the identity
:math:`\sin(\theta_j - \theta_i) = \sin\theta_j\cos\theta_i - \cos\theta_j\sin\theta_i`, so it is
two *linear* couplings: the observables ``sin_theta`` and ``cos_theta`` of the sources are summed
with the weights into the inputs ``sin_ext`` and ``cos_ext``, and the drift forms

.. math::

    \dot\theta_i = \omega_i + \cos\theta_i\, s_i - \sin\theta_i\, c_i + \theta^{ext}_i,\qquad
    s_i = \sum_j K_{ij}\sin\theta_j,\quad c_i = \sum_j K_{ij}\cos\theta_j .

This keeps the coupling's pre-synaptic transform a function of the source alone (so delays,
sparse paths and batching work unchanged) while being exactly Kuramoto's phase-difference
coupling (also with delays: :math:`\theta_j(t - \tau_{ij})`). ``theta_ext`` is added to
:math:`\dot\theta` directly (TVB's convention for a pre-computed coupling, and the noise slot).

In a :class:`~neuralmass.Network` the default pairing is ``coupled_var='theta'`` into
``theta_ext`` with :class:`~neuralmass.network.coupling.KuramotoCoupling` (``coupling="kuramoto"``)
(:math:`k\sum_j w_{ij}\sin(\theta_j(t-\tau_{ij}) - \theta_i)`); the two-input form above is the
same coupling for engines that route several coupled variables.

Observables: ``sin_theta``, ``cos_theta`` and ``order``, the Kuramoto order parameter
:math:`R = |\frac1N\sum_j e^{i\theta_j}|` of all nodes of the population (the same value for every
node). For Lorentzian natural frequencies of half width :math:`\Delta` and all-to-all coupling
:math:`K/N`, incoherence is stable below :math:`K_c = 2\Delta` and
:math:`R_\infty = \sqrt{1 - K_c/K}` above it (Kuramoto 1975; Strogatz 2000; Ott & Antonsen 2008).

References
----------
Kuramoto, Y. (1975). Self-entrainment of a population of coupled non-linear oscillators. In
*International Symposium on Mathematical Problems in Theoretical Physics*, LNP 39, 420–422.
Strogatz, S. H. (2000). From Kuramoto to Crawford. *Physica D*, 143, 1–20.
Ott, E., & Antonsen, T. M. (2008). Low dimensional behavior of large systems of globally coupled
oscillators. *Chaos*, 18, 037113.
"""

from __future__ import annotations

import math

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Observable, Parameter, StateVar

__all__ = ["KURAMOTO", "kuramoto_drift", "order_parameter"]

PER_MS = u.ms ** -1


def kuramoto_drift(state, params, inputs):
    """Pure drift of a Kuramoto oscillator (time in ms, omega in rad/ms)."""
    th = state["theta"]
    return {"theta": (params["omega"] + jnp.cos(th) * inputs["sin_ext"]
                      - jnp.sin(th) * inputs["cos_ext"] + inputs["theta_ext"])}


def order_parameter(theta, axis=-1):
    r"""Kuramoto order parameter :math:`|\langle e^{i\theta}\rangle|` over ``axis`` (the nodes)."""
    return jnp.hypot(jnp.mean(jnp.cos(theta), axis=axis), jnp.mean(jnp.sin(theta), axis=axis))


def _order(state, params):
    th = state["theta"]
    return jnp.broadcast_to(order_parameter(th)[..., None], jnp.shape(th))


KURAMOTO = NodeModel(
    name="Kuramoto",
    doc="Kuramoto phase oscillator with sine coupling",
    category="phenomenological",
    states=(StateVar("theta", 0.0, None, (0.0, 2 * math.pi), "phase (rad)"),),
    params=(
        Parameter("omega", 2 * math.pi * 10.0, u.Hz, PER_MS, (-2 * math.pi * 100.0, 2 * math.pi * 100.0),
                  "natural angular frequency in rad/s (2*pi*f; default f = 10 Hz)", angular=True),
    ),
    inputs=(
        InputVar("sin_ext", PER_MS, PER_MS, None, "sum_j K_ij sin(theta_j) (rate, rad/ms)"),
        InputVar("cos_ext", PER_MS, PER_MS, None, "sum_j K_ij cos(theta_j) (rate, rad/ms)"),
        InputVar("theta_ext", PER_MS, PER_MS, "theta", "additive input to dtheta/dt (noise, stimulus)"),
    ),
    observables=(
        Observable("sin_theta", lambda s, p: jnp.sin(s["theta"]), None, "sin(theta), sent to sin_ext"),
        Observable("cos_theta", lambda s, p: jnp.cos(s["theta"]), None, "cos(theta), sent to cos_ext"),
        Observable("order", _order, None, "Kuramoto order parameter R of all nodes"),
    ),
    drift=kuramoto_drift,
    coupled_var="theta",
    coupling_input="theta_ext",
    noise_inputs=("theta_ext",),
    output="theta",
    default_dt=0.1,
    reference="Kuramoto (1975) LNP 39:420; Strogatz (2000) Physica D 143:1",
    extra={"noise_slots": {"theta": "theta_ext"},
           "couplings": (("sin_theta", "sin_ext", "linear"), ("cos_theta", "cos_ext", "linear"))},
)
