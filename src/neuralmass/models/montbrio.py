r"""Montbrió–Pazó–Roxin mean field of quadratic integrate-and-fire neurons (Montbrió et al. 2015).

The exact low-dimensional description of an infinite population of QIF neurons with Lorentzian
distributed excitabilities (centre :math:`\bar\eta`, half width :math:`\Delta`):

.. math::

    \tau \dot r &= \frac{\Delta}{\pi\tau} + 2 r V,\\
    \tau \dot V &= V^2 - \pi^2\tau^2 r^2 + \bar\eta + J\tau r + I
                   + c_r\, r_{ext} + c_v\, V_{ext} + I_{ext},

with :math:`r` the population firing rate (per ms when :math:`\tau` is in ms) and :math:`V` the
mean membrane potential (dimensionless, in the scaled units of the QIF model). Network coupling
enters the :math:`V` equation twice: ``r_ext`` receives the coupling of the rates
(:math:`\sum_j w_{ij} r_j`, gain ``cr``) and ``V_ext`` the coupling of the potentials (typically
diffusive, :math:`\sum_j w_{ij}(V_j - V_i)`, gain ``cv``; an electrical/gap-junction-like term).
This is the form of The Virtual Brain's ``MontbrioPazoRoxin`` (Rabuffo et al. 2021), where both
coupling terms are currents into :math:`\dot V`.

With :math:`\Delta = 1`, :math:`J = 15`, :math:`\bar\eta = -5` (the paper's bistable example) an
isolated node has two stable fixed points — a low-rate node and a high-rate focus — whose rates
solve :math:`V = -\Delta/(2\pi\tau r)`, :math:`V^2 - \pi^2\tau^2 r^2 + \bar\eta + J\tau r = 0`.

Noise inputs ``r_noise``/``V_noise`` add to :math:`\dot r`/:math:`\dot V` (per ms).

References
----------
Montbrió, E., Pazó, D., & Roxin, A. (2015). Macroscopic description for networks of spiking
neurons. *Physical Review X*, 5(2), 021028.
Rabuffo, G., Fousek, J., Bernard, C., & Jirsa, V. (2021). Neuronal cascades shape whole-brain
functional dynamics at rest. *eNeuro*, 8(5).
"""

from __future__ import annotations

import math

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["MONTBRIO_PAZO_ROXIN", "montbrio_drift", "montbrio_fixed_point_residual"]

PER_MS = u.ms ** -1


def montbrio_drift(state, params, inputs):
    """Pure drift of the Montbrió–Pazó–Roxin model (time in ms)."""
    r, V = state["r"], state["V"]
    P = params
    tau = P["tau"]
    dr = (P["Delta"] / (math.pi * tau) + 2.0 * V * r) / tau
    dV = (V * V - (math.pi * tau * r) ** 2 + P["eta"] + P["J"] * tau * r + P["I"]
          + P["cr"] * inputs["r_ext"] + P["cv"] * inputs["V_ext"] + inputs["I_ext"]) / tau
    return {"r": dr + inputs["r_noise"], "V": dV + inputs["V_noise"]}


def montbrio_fixed_point_residual(r, params):
    r"""Residual of the fixed-point equation for the rate of an isolated node.

    Eliminating :math:`V = -\Delta/(2\pi\tau r)` gives
    :math:`\Delta^2/(4\pi^2\tau^2 r^2) - \pi^2\tau^2 r^2 + \bar\eta + J\tau r + I = 0`.
    """
    tau = params["tau"]
    V = -params["Delta"] / (2.0 * math.pi * tau * r)
    return V * V - (math.pi * tau * r) ** 2 + params["eta"] + params["J"] * tau * r + params["I"]


def _translate_kwargs(kw: dict) -> dict:
    """Read ``delta`` (a half width given as a rate, Hz) as ``Delta = delta * tau``.

    Some libraries write the rate equation as ``dr/dt = delta/(pi*tau) + ...`` with ``delta`` in
    Hz; the model's Delta is dimensionless and enters as ``Delta/(pi*tau**2)``, so the two agree
    for ``Delta = delta * tau``. The paper's ``Delta = 1`` is ``delta = 1/tau`` (1000 Hz for
    ``tau = 1 ms``); ``delta = 1 Hz`` is a thousand times narrower, which the warning says.
    """
    if "delta" not in kw:
        return kw
    import warnings

    from ..units import to_canonical

    if "Delta" in kw:
        raise TypeError("MontbrioPazoRoxin: pass either Delta (dimensionless) or delta (Hz), not both.")
    kw = dict(kw)
    d = to_canonical(kw.pop("delta"), "delta", u.Hz, PER_MS)
    tau = to_canonical(kw.get("tau", 1.0), "tau", u.ms, u.ms)
    kw["Delta"] = d * tau
    warnings.warn(
        f"MontbrioPazoRoxin: delta (a rate) is read as Delta = delta * tau = {float(jnp.mean(kw['Delta'])):g} "
        "(dimensionless half width of Montbrió et al. 2015, whose examples use Delta = 1, i.e. "
        "delta = 1/tau).", UserWarning, stacklevel=4)
    return kw


MONTBRIO_PAZO_ROXIN = NodeModel(
    name="MontbrioPazoRoxin",
    doc="Montbrió–Pazó–Roxin QIF mean field (firing rate r, mean potential V)",
    category="physiological",
    states=(
        StateVar("r", 0.1, None, (0.0, 2.0), "population firing rate (per ms for tau in ms)"),
        StateVar("V", -2.0, None, (-2.0, 1.5), "mean membrane potential (scaled QIF units)"),
    ),
    params=(
        Parameter("tau", 1.0, u.ms, u.ms, (0.1, 20.0), "membrane time constant"),
        Parameter("Delta", 1.0, None, None, (0.0, 10.0), "half width of the excitability distribution"),
        Parameter("eta", -5.0, None, None, (-20.0, 20.0), "centre of the excitability distribution"),
        Parameter("J", 15.0, None, None, (-25.0, 40.0), "mean synaptic weight (recurrent coupling)"),
        Parameter("I", 0.0, None, None, (-20.0, 20.0), "constant external current"),
        Parameter("cr", 1.0, None, None, (-10.0, 10.0), "gain of the rate coupling r_ext into dV/dt"),
        Parameter("cv", 0.0, None, None, (-10.0, 10.0), "gain of the potential coupling V_ext into dV/dt"),
    ),
    inputs=(
        InputVar("r_ext", None, None, None, "rate coupling sum_j w_ij r_j (enters dV/dt times cr/tau)"),
        InputVar("V_ext", None, None, None, "potential coupling, e.g. sum_j w_ij (V_j - V_i) (times cv/tau)"),
        InputVar("I_ext", None, None, None, "external current (stimulus), enters dV/dt divided by tau"),
        InputVar("r_noise", PER_MS, PER_MS, "r", "additive input to dr/dt (noise)"),
        InputVar("V_noise", PER_MS, PER_MS, "V", "additive input to dV/dt (noise)"),
    ),
    drift=montbrio_drift,
    coupled_var="r",
    coupling_input="r_ext",
    noise_inputs=("r_noise", "V_noise"),
    output="r",
    default_dt=0.01,
    reference="Montbrió, Pazó & Roxin (2015) Phys Rev X 5:021028",
    extra={"noise_slots": {"r": "r_noise", "V": "V_noise"}, "aliases": {"init_v": "V_init", "noise_v": "noise_V"},
           "init_units": {"r": PER_MS}, "translate": _translate_kwargs,
           "translate_keywords": ("delta",),
           "couplings": (("r", "r_ext", "linear"), ("V", "V_ext", "diffusive"))},
)
