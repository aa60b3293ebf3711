r"""Stuart–Landau oscillator (the normal form of a supercritical Hopf bifurcation), unit saturation.

.. math::

    \dot x = (a - x^2 - y^2)\,x - w\,y + I_x, \qquad
    \dot y = (a - x^2 - y^2)\,y + w\,x + I_y .

In polar coordinates :math:`\dot\rho = (a - \rho^2)\rho`, :math:`\dot\phi = w`: for :math:`a > 0`
a stable limit cycle of radius :math:`\sqrt a` rotating at :math:`w` rad/ms, for :math:`a < 0` a
stable focus. It is :mod:`neuralmass.models.hopf` with the saturation :math:`\beta = 1`
(the tests check that the two drifts agree); this table keeps the variable names of
Stuart–Landau node modules (``w`` for the angular frequency) and their defaults
(``a = 0.25`` ms⁻¹, ``w = 0.2`` rad/ms, i.e. 31.8 Hz).

References
----------
Stuart, J. T. (1960). On the non-linear mechanics of wave disturbances in stable and unstable
parallel flows. *Journal of Fluid Mechanics*, 9(3), 353–370.
Landau, L. D. (1944). On the problem of turbulence. *Doklady Akademii Nauk SSSR*, 44, 311–314.
Kuramoto, Y. (1984). *Chemical Oscillations, Waves, and Turbulence*. Springer.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["STUART_LANDAU", "stuart_landau_drift"]

PER_MS = u.ms ** -1


def stuart_landau_drift(state, params, inputs):
    """Pure drift of the Stuart–Landau oscillator (time in ms)."""
    x, y = state["x"], state["y"]
    a, w = params["a"], params["w"]
    g = a - (x * x + y * y)
    return {"x": g * x - w * y + inputs["x_ext"], "y": g * y + w * x + inputs["y_ext"]}


STUART_LANDAU = NodeModel(
    name="StuartLandau",
    doc="Stuart–Landau oscillator (Hopf normal form, unit saturation)",
    category="phenomenological",
    states=(
        StateVar("x", 0.0, None, (0.0, 0.05), "real part"),
        StateVar("y", 0.0, None, (0.0, 0.05), "imaginary part"),
    ),
    params=(
        Parameter("a", 0.25, PER_MS, PER_MS, (-1.0, 1.0), "bifurcation parameter (radius sqrt(a) for a > 0)"),
        Parameter("w", 0.2, PER_MS, PER_MS, (0.0, 2.0), "angular frequency in rad/ms (0.2 rad/ms = 31.8 Hz)"),
    ),
    inputs=(
        InputVar("x_ext", PER_MS, PER_MS, "x", "input to dx/dt (coupling, noise)"),
        InputVar("y_ext", PER_MS, PER_MS, "y", "input to dy/dt (noise)"),
    ),
    drift=stuart_landau_drift,
    coupled_var="x",
    coupling_input="x_ext",
    noise_inputs=("x_ext", "y_ext"),
    output="x",
    default_dt=0.1,
    reference="Stuart (1960) J Fluid Mech 9:353; Landau (1944); Kuramoto (1984)",
    extra={"noise_slots": {"x": "x_ext", "y": "y_ext"}, "positional_inputs": ("x_ext", "y_ext")},
)
