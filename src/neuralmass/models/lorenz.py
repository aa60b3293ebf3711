r"""Lorenz system (Lorenz 1963), a chaotic test node.

.. math::

    \dot x = \sigma (y - x) + I_x, \qquad \dot y = x(\rho - z) - y, \qquad \dot z = x y - \beta z ,

time in ms (one natural time unit of the system per ms). For :math:`\rho > 1` the fixed points
are the origin and :math:`C_\pm = (\pm\sqrt{\beta(\rho-1)}, \pm\sqrt{\beta(\rho-1)}, \rho - 1)`;
they lose stability at :math:`\rho_H = \sigma(\sigma+\beta+3)/(\sigma-\beta-1)` (24.74 for
:math:`\sigma = 10, \beta = 8/3`), and at the classic :math:`\rho = 28` the flow is chaotic (largest
Lyapunov exponent ≈ 0.906 per unit time; Sprott 2003). The flow contracts volume at the rate
:math:`\nabla\cdot f = -(\sigma + 1 + \beta)`. Network coupling and noise enter :math:`\dot x`.

References
----------
Lorenz, E. N. (1963). Deterministic nonperiodic flow. *Journal of the Atmospheric Sciences*,
20(2), 130–141.
Sprott, J. C. (2003). *Chaos and Time-Series Analysis*. Oxford University Press.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["LORENZ", "lorenz_drift"]

PER_MS = u.ms ** -1


def lorenz_drift(state, params, inputs):
    """Pure drift of the Lorenz system (time in ms)."""
    x, y, z = state["x"], state["y"], state["z"]
    P = params
    return {"x": P["sigma"] * (y - x) + inputs["x_ext"],
            "y": x * (P["rho"] - z) - y,
            "z": x * y - P["beta"] * z}


LORENZ = NodeModel(
    name="Lorenz",
    doc="Lorenz (1963) system: chaos, a test node for coupling and synchronisation",
    category="phenomenological",
    states=(
        StateVar("x", 1.0, None, (-20.0, 20.0), "convection intensity"),
        StateVar("y", 1.0, None, (-25.0, 25.0), "temperature difference (horizontal)"),
        StateVar("z", 1.0, None, (0.0, 50.0), "temperature difference (vertical)"),
    ),
    params=(
        Parameter("sigma", 10.0, None, None, (1.0, 20.0), "Prandtl number"),
        Parameter("rho", 28.0, None, None, (0.5, 50.0), "Rayleigh number (relative)"),
        Parameter("beta", 8.0 / 3.0, None, None, (0.5, 5.0), "geometric factor"),
    ),
    inputs=(InputVar("x_ext", PER_MS, PER_MS, "x", "input to dx/dt (coupling, noise)"),),
    drift=lorenz_drift,
    coupled_var="x",
    coupling_input="x_ext",
    noise_inputs=("x_ext",),
    output="x",
    default_dt=0.005,
    reference="Lorenz (1963) J Atmos Sci 20:130",
    extra={"noise_slots": {"x": "x_ext"}, "positional_inputs": ("x_ext",)},
)
