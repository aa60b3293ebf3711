r"""Linear (leaky) node: :math:`\dot x = -x/\tau + I`.

Driven by white noise of intensity :math:`\sigma` it is an Ornstein–Uhlenbeck process with
stationary variance :math:`\sigma^2\tau/2` and autocorrelation :math:`e^{-|s|/\tau}` — the
analytic reference used to check the stochastic integrators. In a network it gives the linear
(Gaussian) whole-brain model whose FC has a closed form. TVB and brainmass write the same node
as :math:`\dot x = \gamma x + I`; their damping ``gamma`` (per ms, negative) is accepted and read as
:math:`\tau = -1/\gamma` (brainmass's default ``gamma = -10`` is ``tau = 0.1 ms``; neuralmass's
default is ``tau = 10 ms``).

References
----------
Uhlenbeck, G. E., & Ornstein, L. S. (1930). On the theory of the Brownian motion. *Physical
Review*, 36, 823–841.
Galán, R. F. (2008). On how network architecture determines the dominant patterns of spontaneous
neural activity. *PLoS ONE*, 3(5), e2148.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["LINEAR", "linear_drift"]


def _translate_gamma(kw: dict) -> dict:
    r"""Read the damping coefficient ``gamma`` of :math:`\dot x = \gamma x + I` (1/ms, negative; the
    form of TVB's and brainmass's ``Linear``) as ``tau = -1/gamma``."""
    if "gamma" not in kw:
        return kw
    from ..units import to_canonical

    if "tau" in kw:
        raise TypeError("Linear: pass either tau (relaxation time) or gamma (= -1/tau, per ms), not both.")
    kw = dict(kw)
    g = kw.pop("gamma")
    gv = to_canonical(g, "gamma", u.ms ** -1, u.ms ** -1)
    if not bool(jnp.all(gv < 0)):
        raise ValueError(f"Linear: gamma={g!r} must be negative (dx/dt = gamma*x + I relaxes only for "
                         "gamma < 0; the node's relaxation time is tau = -1/gamma ms).")
    kw["tau"] = -1.0 / gv
    return kw


def linear_drift(state, params, inputs):
    """Pure drift ``dx/dt = -x / tau + I`` (time in ms)."""
    return {"x": -state["x"] / params["tau"] + inputs["x_ext"]}


LINEAR = NodeModel(
    name="Linear",
    doc="leaky linear node (Ornstein–Uhlenbeck when noise-driven)",
    category="phenomenological",
    states=(StateVar("x", 0.0, None, (-0.1, 0.1), "activity"),),
    params=(Parameter("tau", 10.0, u.ms, u.ms, (1.0, 1000.0), "relaxation time"),),
    inputs=(InputVar("x_ext", u.ms ** -1, u.ms ** -1, "x", "input to dx/dt (coupling, noise)"),),
    drift=linear_drift,
    coupled_var="x",
    coupling_input="x_ext",
    noise_inputs=("x_ext",),
    output="x",
    default_dt=0.1,
    reference="Uhlenbeck & Ornstein (1930); Galán (2008) PLoS ONE 3:e2148",
    extra={"noise_slots": {"x": "x_ext"}, "translate": _translate_gamma, "translate_keywords": ("gamma",)},
)
