r"""Hopf normal form (Stuart–Landau oscillator).

.. math::

    \dot x = (a - \beta(x^2 + y^2))\,x - \omega y + I_x, \qquad
    \dot y = (a - \beta(x^2 + y^2))\,y + \omega x + I_y .

For :math:`a > 0` the node oscillates on a limit cycle of radius :math:`\sqrt{a/\beta}`
(:math:`\sqrt a` with the default :math:`\beta = 1`, TVB's SupHopf) at frequency
:math:`\omega / 2\pi`; for :math:`a < 0` it is a damped focus (noise-driven oscillations with a
spectral peak at :math:`\omega/2\pi`). Time is in ms, so ``a`` is a rate (default 0.25 ms⁻¹) and
``omega`` an angular frequency in rad/ms (TVB's convention: ``omega=1.0`` is 159 Hz); Quantities
such as ``omega=2 * pi * 10 * u.Hz`` are converted. ``w`` is accepted for ``omega`` (the
spelling of some libraries' Hopf nodes), as are ``init_x``/``init_y`` for ``x_init``/``y_init``.

References
----------
Kuznetsov, Y. A. (1998). *Elements of Applied Bifurcation Theory*. Springer.
Deco, G., Kringelbach, M. L., Jirsa, V. K., & Ritter, P. (2017). The dynamics of resting
fluctuations in the brain. *Scientific Reports*, 7, 3095.
"""

from __future__ import annotations

import math

import brainunit as u

from .base import InputVar, NodeModel, Parameter, StateVar

__all__ = ["HOPF", "hopf_drift"]


def hopf_drift(state, params, inputs):
    """Pure drift of the Hopf normal form (time in ms)."""
    x, y = state["x"], state["y"]
    a, w = params["a"], params["omega"]
    r2 = params["beta"] * (x * x + y * y)
    return {
        "x": (a - r2) * x - w * y + inputs["x_ext"],
        "y": (a - r2) * y + w * x + inputs["y_ext"],
    }


HOPF = NodeModel(
    name="Hopf",
    doc="Hopf normal form / Stuart–Landau oscillator",
    category="phenomenological",
    states=(
        StateVar("x", 0.1, None, (-0.5, 0.5), "real part of the oscillator"),
        StateVar("y", 0.1, None, (-0.5, 0.5), "imaginary part of the oscillator"),
    ),
    params=(
        Parameter("a", 0.25, u.ms ** -1, u.ms ** -1, (-1.0, 1.0),
                  "bifurcation parameter (limit-cycle radius sqrt(a) for a > 0)"),
        Parameter("omega", 2 * math.pi * 10.0e-3, u.ms ** -1, u.ms ** -1, (0.0, 2 * math.pi * 0.1),
                  "angular frequency in rad/ms, as TVB (2*pi*f; default f = 10 Hz = 0.01 /ms)", angular=True),
        Parameter("beta", 1.0, None, None, (0.01, 100.0),
                  "saturation of the cubic term (limit-cycle radius sqrt(a/beta))"),
    ),
    inputs=(
        InputVar("x_ext", u.ms ** -1, u.ms ** -1, "x", "input to dx/dt (coupling, noise)"),
        InputVar("y_ext", u.ms ** -1, u.ms ** -1, "y", "input to dy/dt (noise)"),
    ),
    drift=hopf_drift,
    coupled_var="x",
    coupling_input="x_ext",
    noise_inputs=("x_ext", "y_ext"),
    output="x",
    default_dt=0.1,
    reference="Kuznetsov (1998); Deco et al. (2017) Sci Rep 7:3095",
    extra={"noise_slots": {"x": "x_ext", "y": "y_ext"}, "aliases": {"w": "omega"},
           "positional_inputs": ("x_ext", "y_ext")},
)
