r"""Reduced Wong–Wang excitatory/inhibitory model (Deco et al. 2014).

.. math::

    I_E &= W_E I_0 + w_+ J_{NMDA} S_E + G J_{NMDA} S_E^{ext} - J_i S_I + I_E^{ext},\\
    I_I &= W_I I_0 + J_{NMDA} S_E - S_I + \lambda G J_{NMDA} S_E^{ext} + I_I^{ext},\\
    H_x &= \frac{a_x I_x - b_x}{1 - e^{-d_x (a_x I_x - b_x)}}, \qquad x\in\{E, I\}\\
    \dot S_E &= -S_E/\tau_E + (1 - S_E)\,\gamma_E H_E,\\
    \dot S_I &= -S_I/\tau_I + \gamma_I H_I .

Currents in nA, rates ``H`` in Hz, time constants in ms. ``S_E_ext`` receives the network
coupling of gating variables (Deco et al.'s :math:`G \sum_j C_{ij} S_{E,j}`, which enters the
current multiplied by :math:`J_{NMDA}`); ``G`` (default 1: in a :class:`~neuralmass.Network` the
coupling strength ``k`` is Deco et al.'s G) scales it, and a fraction ``lamda`` of it reaches the
inhibitory pool (TVB's ``ReducedWongWangExcInh``; 0 in Deco et al. 2014). With the published defaults (``J_i = 1``, no coupling) an
isolated node settles at :math:`H_E \approx 3` Hz, the firing rate the feedback inhibition control
of the paper targets.

``WongWangExcInhStep`` takes TVB's and brainmass's names (``a_e``, ``w_p``, ``J_N``, ``I_o``,
``init_S_e``, ``noise_e``, ...; ``gamma_e``/``gamma_i`` in their unit 1/(ms·Hz), i.e. 0.641/1000,
read as ``gamma_E = 1000 * gamma_e``).

Noise slots ``noise_E``/``noise_I`` add to :math:`\dot S_E`/:math:`\dot S_I` (unit Hz, as in the
paper's :math:`\sigma\nu_i(t)` term).

References
----------
Deco, G., Ponce-Alvarez, A., Hagmann, P., Romani, G. L., Mantini, D., & Corbetta, M. (2014).
How local excitation–inhibition ratio impacts the whole brain dynamics. *Journal of
Neuroscience*, 34(23), 7886–7898.
Wong, K.-F., & Wang, X.-J. (2006). A recurrent network mechanism of time integration in
perceptual decisions. *Journal of Neuroscience*, 26(4), 1314–1328.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Observable, Parameter, StateVar

__all__ = ["WONG_WANG", "wong_wang_drift", "ww_rate", "nmda_gating", "nmda_gating_coefficient"]

PER_MS = u.ms ** -1
HZ_PER_NA = u.Hz / u.nA


def ww_rate(current, a, b, d):
    r"""Population transfer function (f–I curve) of Wong & Wang (2006), in Hz.

    .. math::

        H(I) = \frac{aI - b}{1 - e^{-d(aI - b)}},

    ``a`` in Hz/nA, ``b`` in Hz, ``d`` in s, ``current`` in nA. Written as
    :math:`H = g(z)/d` with :math:`z = d(aI - b)` and :math:`g(z) = z/(1 - e^{-z})`, evaluated
    without cancellation on each side of 0 (``expm1``) and by its series
    :math:`1 + z/2 + z^2/12` near the removable singularity :math:`aI = b` (where
    :math:`H = 1/d`), so values and gradients stay finite for any current. ``d = inf`` is the
    limit of a sharp threshold, :math:`H = \max(aI - b, 0)`: the threshold-linear curve
    :math:`a\max(I - \theta, 0)` with :math:`b = a\theta`.

    References
    ----------
    Abbott, L. F., & Chance, F. S. (2005). Drivers and modulators from push-pull and balanced
    synaptic input. *Progress in Brain Research*, 149, 147–155 (the form of H).
    Wong, K.-F., & Wang, X.-J. (2006). *Journal of Neuroscience*, 26(4), 1314–1328 (a = 270 Hz/nA,
    b = 108 Hz, d = 0.154 s).
    """
    x = a * current - b
    sharp = jnp.isinf(d)
    ds = jnp.where(sharp, 1.0, d)
    z = ds * x
    small = jnp.abs(z) < 1e-4
    zs = jnp.where(small, 1.0, z)
    pos = zs > 0
    zp, zn = jnp.where(pos, zs, 1.0), jnp.where(pos, -1.0, zs)
    g = jnp.where(pos, zp / -jnp.expm1(-zp), zn * jnp.exp(zn) / jnp.expm1(zn))
    g = jnp.where(small, 1.0 + 0.5 * z + z * z / 12.0, g)
    return jnp.where(sharp, jnp.maximum(x, 0.0), g / ds)


def nmda_gating(S, rate, tau, gamma):
    r"""NMDA gating kinetics :math:`\dot S = -S/\tau + (1 - S)\,\gamma\,r` per ms (``tau`` in ms,
    ``rate`` in Hz: :math:`\gamma r` is per second, hence the factor 1e-3); Wong & Wang (2006),
    Brunel & Wang (2001)."""
    return -S / tau + (1.0 - S) * gamma * rate * 1e-3


def nmda_gating_coefficient(rate, tau, gamma):
    """The factor of ``S`` in :func:`nmda_gating` with the rate held, ``-1/tau - gamma * rate``
    (per ms): the linear part exponential Euler integrates exactly."""
    return -1.0 / tau - gamma * rate * 1e-3


#: TVB's and brainmass's names (ReducedWongWangExcInh, WongWangExcInhStep) -> this table's
_TVB_NAMES = {"a_e": "a_E", "b_e": "b_E", "d_e": "d_E", "tau_e": "tau_E", "w_p": "w_plus", "W_e": "W_E",
              "a_i": "a_I", "b_i": "b_I", "d_i": "d_I", "tau_i": "tau_I", "W_i": "W_I", "J_N": "J_NMDA",
              "I_o": "I_0", "init_S_e": "S_E_init", "init_S_i": "S_I_init", "noise_e": "noise_E",
              "noise_i": "noise_I"}


def _translate_gamma(kw: dict) -> dict:
    """TVB's/brainmass's ``gamma_e``, ``gamma_i`` (1/(ms·Hz): 0.641/1000) -> ``gamma_E = 1000 gamma_e``
    (this table multiplies H in Hz by 1e-3 instead). Names of the 2006 decision model are refused."""
    from .wong_wang_decision import decision_only_keywords

    other = [k for k in kw if k in decision_only_keywords()]
    if other:
        raise TypeError(
            f"WongWang: {', '.join(other)} {'is a parameter' if len(other) == 1 else 'are parameters'} of "
            "Wong & Wang's (2006) two-population decision model: use neuralmass.WongWangStep (model "
            "WongWangDecision, brainmass's WongWangStep). WongWangModel and WongWangExcInhStep are the "
            "reduced excitatory/inhibitory model of Deco et al. (2014); their parameters are listed by "
            "help(neuralmass.WongWangExcInhStep).")
    kw = dict(kw)
    for low, up in (("gamma_e", "gamma_E"), ("gamma_i", "gamma_I")):
        if low in kw:
            if up in kw:
                raise TypeError(f"WongWang: pass {up} (dimensionless, 0.641) or {low} (TVB's, "
                                f"0.641/1000), not both.")
            from ..units import _unwrap_param

            kw[up] = 1000.0 * jnp.asarray(_unwrap_param(kw.pop(low)))
    return kw


def _currents(state, P, inputs):
    S_E, S_I = state["S_E"], state["S_I"]
    long_range = P["G"] * P["J_NMDA"] * inputs["S_E_ext"]
    I_E = (P["W_E"] * P["I_0"] + P["w_plus"] * P["J_NMDA"] * S_E
           + long_range - P["J_i"] * S_I + inputs["I_E_ext"] + P["I_ext"])
    I_I = P["W_I"] * P["I_0"] + P["J_NMDA"] * S_E - S_I + P["lamda"] * long_range + inputs["I_I_ext"]
    return I_E, I_I


def _rates(state, P, inputs):
    I_E, I_I = _currents(state, P, inputs)
    return ww_rate(I_E, P["a_E"], P["b_E"], P["d_E"]), ww_rate(I_I, P["a_I"], P["b_I"], P["d_I"])


def wong_wang_drift(state, params, inputs):
    """Pure drift of the reduced Wong–Wang E/I model (time in ms, H in Hz)."""
    P = params
    H_E, H_I = _rates(state, P, inputs)
    S_E, S_I = state["S_E"], state["S_I"]
    return {
        "S_E": nmda_gating(S_E, H_E, P["tau_E"], P["gamma_E"]) + inputs["S_E_noise"],
        "S_I": -S_I / P["tau_I"] + P["gamma_I"] * H_I * 1e-3 + inputs["S_I_noise"],
    }


WONG_WANG = NodeModel(
    name="WongWang",
    doc="reduced Wong–Wang excitatory/inhibitory model",
    category="physiological",
    states=(
        StateVar("S_E", 0.164, None, (0.0, 0.3), "NMDA gating of excitatory synapses"),
        StateVar("S_I", 0.05, None, (0.0, 0.1), "GABA gating of inhibitory synapses"),
    ),
    params=(
        Parameter("a_E", 310.0, HZ_PER_NA, HZ_PER_NA, (200.0, 400.0), "E gain (n/C)"),
        Parameter("b_E", 125.0, u.Hz, u.Hz, (80.0, 160.0), "E threshold rate"),
        Parameter("d_E", 0.16, u.second, u.second, (0.05, 0.3), "E curvature"),
        Parameter("a_I", 615.0, HZ_PER_NA, HZ_PER_NA, (400.0, 800.0), "I gain (n/C)"),
        Parameter("b_I", 177.0, u.Hz, u.Hz, (120.0, 220.0), "I threshold rate"),
        Parameter("d_I", 0.087, u.second, u.second, (0.03, 0.2), "I curvature"),
        Parameter("tau_E", 100.0, u.ms, u.ms, (50.0, 200.0), "NMDA decay time"),
        Parameter("tau_I", 10.0, u.ms, u.ms, (5.0, 20.0), "GABA decay time"),
        Parameter("gamma_E", 0.641, None, None, (0.3, 1.0), "kinetic parameter of S_E"),
        Parameter("gamma_I", 1.0, None, None, (0.5, 2.0), "kinetic parameter of S_I"),
        Parameter("I_0", 0.382, u.nA, u.nA, (0.2, 0.5), "overall effective external input"),
        Parameter("W_E", 1.0, None, None, (0.5, 1.5), "scaling of I_0 for E"),
        Parameter("W_I", 0.7, None, None, (0.3, 1.0), "scaling of I_0 for I"),
        Parameter("w_plus", 1.4, None, None, (1.0, 2.0), "local excitatory recurrence"),
        Parameter("J_NMDA", 0.15, u.nA, u.nA, (0.05, 0.3), "excitatory synaptic coupling"),
        Parameter("J_i", 1.0, u.nA, u.nA, (0.5, 2.0), "inhibitory synaptic coupling (FIC)"),
        Parameter("I_ext", 0.0, u.nA, u.nA, (0.0, 0.1), "constant external current to E"),
        Parameter("G", 1.0, None, None, (0.0, 10.0), "scaling of the long-range input S_E_ext"),
        Parameter("lamda", 0.0, None, None, (0.0, 1.0), "fraction of the long-range input to I"),
    ),
    inputs=(
        InputVar("S_E_ext", None, None, None, "gating input from other regions (enters as J_NMDA * S_E_ext)"),
        InputVar("I_E_ext", u.nA, u.nA, None, "external current to E"),
        InputVar("I_I_ext", u.nA, u.nA, None, "external current to I"),
        InputVar("S_E_noise", u.Hz, PER_MS, "S_E", "additive input to dS_E/dt (noise)"),
        InputVar("S_I_noise", u.Hz, PER_MS, "S_I", "additive input to dS_I/dt (noise)"),
    ),
    observables=(
        Observable("H_E", lambda s, p, i: _rates(s, p, i)[0], u.Hz,
                   "excitatory firing rate (of the total current: coupling and stimuli included)",
                   uses_inputs=True),
        Observable("H_I", lambda s, p, i: _rates(s, p, i)[1], u.Hz,
                   "inhibitory firing rate (of the total current: coupling and stimuli included)",
                   uses_inputs=True),
    ),
    drift=wong_wang_drift,
    coupled_var="S_E",
    coupling_input="S_E_ext",
    noise_inputs=("S_E_noise", "S_I_noise"),
    output="S_E",
    default_dt=0.1,
    reference="Deco et al. (2014) J Neurosci 34:7886",
    extra={"noise_slots": {"E": "S_E_noise", "I": "S_I_noise"}, "aliases": _TVB_NAMES,
           "translate": _translate_gamma, "translate_keywords": ("gamma_e", "gamma_i")},
)
