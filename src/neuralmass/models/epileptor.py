r"""Epileptor (Jirsa et al. 2014) and its two-dimensional reduction (Proix et al. 2014).

**Epileptor** — two coupled oscillators and a slow permittivity variable :math:`z`:

.. math::

    \dot x_1 &= y_1 - f_1(x_1, x_2, z) - z + I_{ext1} + K_{vf}\,c_1,\\
    \dot y_1 &= c - d x_1^2 - y_1,\\
    \dot z &= r\,\big(h(x_1) - z + K_s\,c_1\big) \;[\,-0.1 z^7 \text{ inside } h \text{ for } z < 0\,],\\
    \dot x_2 &= -y_2 + x_2 - x_2^3 + I_{ext2} + b_b\, g - 0.3 (z - 3.5) + K_f\, c_2,\\
    \dot y_2 &= \big(-y_2 + f_2(x_2)\big)/\tau,\\
    \dot g &= -0.01\,(g - 0.1 x_1),

with :math:`f_1 = a x_1^3 - b x_1^2` for :math:`x_1 < 0` and
:math:`f_1 = -(\mathrm{slope} - x_2 + 0.6 (z - 4)^2)\,x_1` otherwise,
:math:`f_2 = 0` for :math:`x_2 < -0.25` and :math:`a_a (x_2 + 0.25)` otherwise, and
:math:`h = 4 (x_1 - x_0)` (or, with ``modification = 1``, the sigmoidal
:math:`h = x_0 + 3/(1 + e^{-(x_1 + 0.5)/0.1})`). The term :math:`-0.1 z^7` for :math:`z < 0`
keeps :math:`z` bounded below (as in The Virtual Brain). ``x0`` is the excitability: an isolated
node shows recurrent seizures for :math:`x_0` above about :math:`-2.05` (with
:math:`I_{ext1} = 3.1`) and rests below. ``r`` (:math:`1/\tau_0`) is small, so :math:`z` is slow
and seizures last and recur on the slow time scale. The field potential is :math:`x_2 - x_1`.

Network coupling follows TVB: ``c_pop1`` receives the coupling of :math:`x_1` (usually the
difference coupling :math:`\sum_j w_{ij}(x_{1,j} - x_{1,i})`) and enters :math:`\dot x_1` with
gain ``Kvf`` and :math:`\dot z` with gain ``Ks`` (the slow permittivity coupling of Proix et al.
2014; ``Ks`` is usually negative, i.e. :math:`-K\sum_j w_{ij}(x_{1,j} - x_{1,i})` in the paper);
``c_pop2`` receives the coupling of :math:`x_2` (gain ``Kf``).

**Epileptor2D** (Proix et al. 2014) keeps only :math:`x_1` and :math:`z`, with
:math:`y_1 = c - d x_1^2` eliminated:

.. math::

    \dot x_1 &= c - z + I_{ext1} + K_{vf}\,c_1 - f(x_1, z)\,x_1,\\
    \dot z &= r\,\big(h(x_1) - z + K_s\,c_1\big),

:math:`f = a x_1^2 + (d - b) x_1` for :math:`x_1 < 0`, :math:`f = -\mathrm{slope} - 0.6 (z - 4)^2 + d x_1`
otherwise.

Time is in ms with TVB's time-scale factor ``tt = 1`` (Jirsa's dimensionless time; the seizure
period is set by ``r``).

References
----------
Jirsa, V. K., Stacey, W. C., Quilichini, P. P., Ivanov, A. I., & Bernard, C. (2014). On the
nature of seizure dynamics. *Brain*, 137(8), 2210–2230.
Proix, T., Bartolomei, F., Chauvel, P., Bernard, C., & Jirsa, V. K. (2014). Permittivity
coupling across brain regions determines seizure recruitment in partial epilepsy. *Journal of
Neuroscience*, 34(45), 15009–15021.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Observable, Parameter, StateVar

__all__ = ["EPILEPTOR", "EPILEPTOR_2D", "epileptor_drift", "epileptor_2d_drift"]

PER_MS = u.ms ** -1


def _h(x1, z, P):
    """Target of the slow variable: linear 4 (x1 - x0) (+ -0.1 z^7 for z < 0) or sigmoidal."""
    lin = 4.0 * (x1 - P["x0"]) + jnp.where(z < 0.0, -0.1 * z ** 7, 0.0)
    sig = P["x0"] + 3.0 / (1.0 + jnp.exp(-(x1 + 0.5) / 0.1))
    return jnp.where(P["modification"] > 0.5, sig, lin)


def epileptor_drift(state, params, inputs):
    """Pure drift of the six-variable Epileptor (time in ms, tt = time-scale factor)."""
    x1, y1, z, x2, y2, g = (state[k] for k in ("x1", "y1", "z", "x2", "y2", "g"))
    P = params
    c1, c2 = inputs["c_pop1"], inputs["c_pop2"]
    f1 = jnp.where(x1 < 0.0, -P["a"] * x1 ** 2 + P["b"] * x1, P["slope"] - x2 + 0.6 * (z - 4.0) ** 2)
    f2 = jnp.where(x2 < -0.25, 0.0, P["aa"] * (x2 + 0.25))
    tt = P["tt"]
    return {
        "x1": tt * (y1 - z + P["Iext"] + P["Kvf"] * c1 + f1 * x1) + inputs["x1_noise"],
        "y1": tt * (P["c"] - P["d"] * x1 ** 2 - y1) + inputs["y1_noise"],
        "z": tt * P["r"] * (_h(x1, z, P) - z + P["Ks"] * c1) + inputs["z_noise"],
        "x2": tt * (-y2 + x2 - x2 ** 3 + P["Iext2"] + P["bb"] * g - 0.3 * (z - 3.5) + P["Kf"] * c2)
              + inputs["x2_noise"],
        "y2": tt * (-y2 + f2) / P["tau"] + inputs["y2_noise"],
        "g": tt * (-0.01 * (g - 0.1 * x1)) + inputs["g_noise"],
    }


def epileptor_2d_drift(state, params, inputs):
    """Pure drift of the two-variable Epileptor (Proix et al. 2014)."""
    x1, z = state["x1"], state["z"]
    P = params
    c = inputs["c_pop"]
    f = jnp.where(x1 < 0.0, P["a"] * x1 ** 2 + (P["d"] - P["b"]) * x1,
                  -P["slope"] - 0.6 * (z - 4.0) ** 2 + P["d"] * x1)
    tt = P["tt"]
    return {
        "x1": tt * (P["c"] - z + P["Iext"] + P["Kvf"] * c - f * x1) + inputs["x1_noise"],
        "z": tt * P["r"] * (_h(x1, z, P) - z + P["Ks"] * c) + inputs["z_noise"],
    }


def _common_params():
    return (
        Parameter("a", 1.0, None, None, (0.5, 1.5), "cubic coefficient of the first subsystem"),
        Parameter("b", 3.0, None, None, (2.0, 4.0), "squared coefficient of the first subsystem"),
        Parameter("c", 1.0, None, None, (0.5, 1.5), "additive coefficient of y1"),
        Parameter("d", 5.0, None, None, (4.0, 6.0), "squared coefficient in dy1/dt"),
        Parameter("r", 0.00035, None, None, (0.0, 0.001), "slow time-scale 1/tau_0 of z"),
        Parameter("x0", -1.6, None, None, (-5.0, 0.0), "excitability (seizures for x0 > about -2.05)"),
        Parameter("Iext", 3.1, None, None, (1.5, 5.0), "external input to the first subsystem"),
        Parameter("slope", 0.0, None, None, (-16.0, 6.0), "slope of the first subsystem's nullcline"),
        Parameter("Kvf", 0.0, None, None, (-10.0, 10.0), "fast coupling gain of c_pop into dx1/dt"),
        Parameter("Ks", 0.0, None, None, (-10.0, 10.0), "slow (permittivity) coupling gain of c_pop into dz/dt"),
        Parameter("tt", 1.0, None, None, (0.001, 10.0), "time-scale factor"),
        Parameter("modification", 0.0, None, None, (0.0, 1.0), "1: sigmoidal (nonlinear) z target"),
    )


_SIX = (("x1", "first subsystem (fast) x"), ("y1", "first subsystem (fast) y"),
        ("z", "slow permittivity variable"), ("x2", "second subsystem (spike-wave) x"),
        ("y2", "second subsystem (spike-wave) y"), ("g", "low-pass filter of x1 (coupling of the subsystems)"))

EPILEPTOR = NodeModel(
    name="Epileptor",
    doc="Epileptor (6 variables; excitability x0, slow permittivity z)",
    category="physiological",
    states=(
        StateVar("x1", -1.8, None, (-2.0, 1.0), _SIX[0][1]),
        StateVar("y1", -15.0, None, (-20.0, 2.0), _SIX[1][1]),
        StateVar("z", 3.6, None, (2.0, 5.0), _SIX[2][1]),
        StateVar("x2", -1.0, None, (-2.0, 0.0), _SIX[3][1]),
        StateVar("y2", 0.0, None, (0.0, 2.0), _SIX[4][1]),
        StateVar("g", -0.2, None, (-1.0, 1.0), _SIX[5][1]),
    ),
    params=_common_params()[:8] + (
        Parameter("Iext2", 0.45, None, None, (0.0, 1.0), "external input to the second subsystem"),
        Parameter("tau", 10.0, None, None, (1.0, 20.0), "time constant of y2 (spike-wave events)"),
        Parameter("aa", 6.0, None, None, (3.0, 9.0), "gain of f2"),
        Parameter("bb", 2.0, None, None, (1.0, 3.0), "gain of g into dx2/dt"),
        Parameter("Kf", 0.0, None, None, (-10.0, 10.0), "coupling gain of c_pop2 into dx2/dt"),
    ) + _common_params()[8:],
    inputs=(
        InputVar("c_pop1", None, None, None, "coupling of x1 (Kvf into dx1/dt, Ks into dz/dt)"),
        InputVar("c_pop2", None, None, None, "coupling of x2 (Kf into dx2/dt)"),
    ) + tuple(InputVar(f"{s}_noise", PER_MS, PER_MS, s, f"additive input to d{s}/dt (noise, stimulus)")
              for s, _ in _SIX),
    observables=(
        Observable("lfp", lambda s, p: s["x2"] - s["x1"], None, "field potential x2 - x1"),
    ),
    drift=epileptor_drift,
    coupled_var="x1",
    coupling_input="c_pop1",
    noise_inputs=("x1_noise", "y1_noise", "z_noise", "x2_noise", "y2_noise", "g_noise"),
    output="lfp",
    default_dt=0.05,
    reference="Jirsa et al. (2014) Brain 137:2210",
    compensated=True,       # z moves by r * dt * (h - z): below float32 resolution near rest
    extra={"noise_slots": {s: f"{s}_noise" for s, _ in _SIX},
           "couplings": (("x1", "c_pop1", "difference"), ("x2", "c_pop2", "difference"))},
)

EPILEPTOR_2D = NodeModel(
    name="Epileptor2D",
    doc="two-dimensional Epileptor (fast x1, slow permittivity z)",
    category="physiological",
    states=(
        StateVar("x1", -1.8, None, (-2.0, 1.0), "fast variable"),
        StateVar("z", 3.6, None, (2.0, 5.0), "slow permittivity variable"),
    ),
    params=_common_params(),
    inputs=(
        InputVar("c_pop", None, None, None, "coupling of x1 (Kvf into dx1/dt, Ks into dz/dt)"),
        InputVar("x1_noise", PER_MS, PER_MS, "x1", "additive input to dx1/dt (noise, stimulus)"),
        InputVar("z_noise", PER_MS, PER_MS, "z", "additive input to dz/dt (noise)"),
    ),
    drift=epileptor_2d_drift,
    coupled_var="x1",
    coupling_input="c_pop",
    noise_inputs=("x1_noise", "z_noise"),
    output="x1",
    default_dt=0.05,
    reference="Proix et al. (2014) J Neurosci 34:15009",
    compensated=True,       # z moves by r * dt * (h - z): below float32 resolution near rest
    extra={"noise_slots": {"x1": "x1_noise", "z": "z_noise"}},
)
