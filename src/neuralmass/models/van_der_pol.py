r"""Van der Pol relaxation oscillator in Liénard form.

.. math::

    \dot x = \mu\,(x - x^3/3 - y) + I_x, \qquad \dot y = x/\mu + I_y .

Eliminating :math:`y` gives :math:`\ddot x - \mu(1 - x^2)\dot x + x = 0` (time in ms). For every
:math:`\mu > 0` there is a unique stable limit cycle; its amplitude in :math:`x` tends to 2 as
:math:`\mu \to 0` (nearly sinusoidal, period :math:`2\pi` ms) and stays close to 2 for large
:math:`\mu` (relaxation oscillations, period :math:`\approx (3 - 2\ln 2)\mu` ms).

References
----------
van der Pol, B. (1926). On "relaxation-oscillations". *The London, Edinburgh, and Dublin
Philosophical Magazine*, 2(11), 978–992.
Strogatz, S. H. (2015). *Nonlinear Dynamics and Chaos*, 2nd ed., §7.5–7.6. Westview Press.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["VAN_DER_POL", "van_der_pol_drift"]

PER_MS = u.ms ** -1


def van_der_pol_drift(state, params, inputs):
    """Pure drift of the Van der Pol oscillator in Liénard form (time in ms)."""
    x, y = state["x"], state["y"]
    mu = params["mu"]
    return {"x": mu * (x - x ** 3 / 3.0 - y) + inputs["x_ext"], "y": x / mu + inputs["y_ext"]}


VAN_DER_POL = NodeModel(
    name="VanDerPol",
    doc="Van der Pol relaxation oscillator (Liénard form)",
    category="phenomenological",
    states=(
        StateVar("x", 0.0, None, (0.0, 0.05), "oscillating variable"),
        StateVar("y", 0.0, None, (0.0, 0.05), "Liénard variable"),
    ),
    params=(Parameter("mu", 1.0, None, None, (0.01, 20.0), "nonlinear damping (relaxation for mu >> 1)"),),
    inputs=(
        InputVar("x_ext", PER_MS, PER_MS, "x", "input to dx/dt (coupling, noise)"),
        InputVar("y_ext", PER_MS, PER_MS, "y", "input to dy/dt (noise)"),
    ),
    drift=van_der_pol_drift,
    coupled_var="x",
    coupling_input="x_ext",
    noise_inputs=("x_ext", "y_ext"),
    output="x",
    default_dt=0.01,
    reference="van der Pol (1926) Phil Mag 2:978; Strogatz (2015) Nonlinear Dynamics and Chaos §7.5",
    extra={"noise_slots": {"x": "x_ext", "y": "y_ext"}, "positional_inputs": ("x_ext", "y_ext")},
)
