r"""Jansen–Rit cortical column (Jansen & Rit 1995).

Three populations — pyramidal cells, excitatory and inhibitory interneurons — with second-order
synaptic kernels :math:`h(t) = A a\, t\, e^{-a t}` and a sigmoid
:math:`S(v) = 2 e_0 / (1 + e^{r (v_0 - v)})`:

.. math::

    \dot y_0 &= y_3, & \dot y_3 &= A a\, S(y_1 - y_2 + u_M) - 2 a y_3 - a^2 y_0,\\
    \dot y_1 &= y_4, & \dot y_4 &= A a\,[\,p + C_2 S(C_1 y_0)\,] - 2 a y_4 - a^2 y_1,\\
    \dot y_2 &= y_5, & \dot y_5 &= B b\, C_4 S(C_3 y_0 + u_I) - 2 b y_5 - b^2 y_2,

with :math:`C_1..C_4 = C\,[a_1, a_2, a_3, a_4]`. Besides the input rate :math:`p` (Hz), two
optional potentials (mV, default 0) shift the sigmoids' arguments: :math:`u_M` (input ``M_inp``)
at the pyramidal cells, :math:`u_I` (``I_inp``) at the inhibitory interneurons — the inputs
brainmass 0.1.1 calls ``M_inp`` and ``I_inp``. The EEG observable is the pyramidal membrane
potential :math:`y_1 - y_2` (mV). Units are kept consistent: potentials in mV, rates in ms⁻¹
internally (``a = 100 s⁻¹`` is ``0.1 ms⁻¹``), ``r`` in mV⁻¹ — mixing volts with ``r`` per mV
flattens the sigmoid and removes the model's nonlinearity.

With the defaults the model shows a ~10 Hz (alpha) limit cycle for constant input
``p ≈ 120–320 Hz`` and a stable fixed point for low input (``p = 90 Hz``).

References
----------
Jansen, B. H., & Rit, V. G. (1995). Electroencephalogram and visual evoked potential generation
in a mathematical model of coupled cortical columns. *Biological Cybernetics*, 73, 357–366.
Grimbert, F., & Faugeras, O. (2006). Bifurcation analysis of Jansen's neural mass model.
*Neural Computation*, 18, 3052–3068.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .base import InputVar, NodeModel, Observable, Parameter, StateVar

__all__ = ["JANSEN_RIT", "jansen_rit_drift", "jr_sigmoid", "sigmoid", "sys2nd", "bounded_input"]

PER_MS = u.ms ** -1


def jr_sigmoid(v, e0, v0, r):
    """Jansen–Rit potential-to-rate sigmoid ``2 e0 / (1 + exp(r (v0 - v)))`` (rate in e0's unit)."""
    return 2.0 * e0 / (1.0 + jnp.exp(r * (v0 - v)))


def sigmoid(x, vmax, v0, r):
    r"""Potential-to-rate sigmoid :math:`S(x) = v_{max} / (1 + e^{r (v_0 - x)})` (brainmass's
    ``sigmoid``): :func:`jr_sigmoid` with :math:`2 e_0 = v_{max}` (Jansen & Rit 1995)."""
    return jr_sigmoid(x, 0.5 * vmax, v0, r)


def sys2nd(A, a, u, x, v):
    r"""Second-order synaptic kernel in state-space form (brainmass's ``sys2nd``): the
    acceleration :math:`\dot v = A a u - 2 a v - a^2 x` of :math:`\ddot x + 2a\dot x + a^2 x = A a u`,
    the impulse response :math:`h(t) = A a t e^{-a t}` of Jansen & Rit (1995), with :math:`v = \dot x`.
    """
    return A * a * u - 2.0 * a * v - a * a * x


def bounded_input(x, bound=500.0):
    r"""Smooth saturation :math:`b \tanh(x / b)` of an input (brainmass's ``bounded_input``): the
    identity for :math:`|x| \ll b`, bounded by :math:`\pm b`."""
    if not bound > 0:
        raise ValueError(f"bound={bound!r} must be positive (the largest |output|).")
    return bound * jnp.tanh(x / bound)


def jansen_rit_drift(state, params, inputs):
    """Pure drift of the Jansen–Rit model (time in ms, potentials in mV)."""
    P = params
    y0, y1, y2, y3, y4, y5 = (state[k] for k in ("y0", "y1", "y2", "y3", "y4", "y5"))
    C = P["C"]
    C1, C2, C3, C4 = C * P["a1"], C * P["a2"], C * P["a3"], C * P["a4"]
    S = lambda v: jr_sigmoid(v, P["e0"], P["v0"], P["r"])
    A, B, a, b = P["A"], P["B"], P["a"], P["b"]
    return {
        "y0": y3,
        "y1": y4,
        "y2": y5,
        "y3": sys2nd(A, a, S(y1 - y2 + inputs["M_inp"]), y0, y3),
        "y4": sys2nd(A, a, inputs["p"] + C2 * S(C1 * y0), y1, y4),
        "y5": sys2nd(B, b, C4 * S(C3 * y0 + inputs["I_inp"]), y2, y5),
    }


#: brainmass 0.1.1's JansenRitStep keyword names -> the table's (states M, E, I, Mv, Ev, Iv are
#: y0, y1, y2, y3, y4, y5)
_BRAINMASS_NAMES = {"Ae": "A", "Ai": "B", "be": "a", "bi": "b",
                    **{f"{b}_init": f"y{i}_init" for i, b in enumerate(("M", "E", "I", "Mv", "Ev", "Iv"))}}


def _translate_brainmass(kw: dict) -> dict:
    """brainmass's ``s_max`` (the maximal rate, Hz) is ``2 e0``; its ``fr_scale`` (a function applied
    to the firing rates) is accepted only when it is the identity, its default."""
    kw = dict(kw)
    if "s_max" in kw:
        if "e0" in kw:
            raise TypeError("JansenRit: pass either e0 (half the maximal rate) or s_max (the maximal "
                            "rate, 2*e0), not both.")
        kw["e0"] = 0.5 * kw.pop("s_max")
    if "fr_scale" in kw:
        f = kw.pop("fr_scale")
        probe = jnp.linspace(-2.0, 7.0, 10)
        if f is not None and not (callable(f) and bool(jnp.allclose(jnp.asarray(f(probe)), probe))):
            raise ValueError(
                f"JansenRit: fr_scale={f!r} is not the identity; neuralmass's Jansen–Rit drift applies "
                "no function to the firing rates. Leave fr_scale out (its default is the identity).")
    return kw


JANSEN_RIT = NodeModel(
    name="JansenRit",
    doc="Jansen–Rit cortical column",
    category="physiological",
    states=(
        StateVar("y0", 0.0, u.mV, (-1.0, 1.0), "pyramidal output PSP (to interneurons)"),
        StateVar("y1", 0.0, u.mV, (-1.0, 1.0), "excitatory PSP on pyramidal cells"),
        StateVar("y2", 0.0, u.mV, (-1.0, 1.0), "inhibitory PSP on pyramidal cells"),
        StateVar("y3", 0.0, u.mV / u.ms, None, "dy0/dt"),
        StateVar("y4", 0.0, u.mV / u.ms, None, "dy1/dt"),
        StateVar("y5", 0.0, u.mV / u.ms, None, "dy2/dt"),
    ),
    params=(
        Parameter("A", 3.25, u.mV, u.mV, (2.6, 9.75), "excitatory synaptic gain (A_e)"),
        Parameter("B", 22.0, u.mV, u.mV, (17.6, 110.0), "inhibitory synaptic gain (A_i)"),
        Parameter("a", 100.0, u.Hz, PER_MS, (5.0, 150.0), "excitatory rate constant 1/tau_e (b_e)"),
        Parameter("b", 50.0, u.Hz, PER_MS, (25.0, 75.0), "inhibitory rate constant 1/tau_i (b_i)"),
        Parameter("C", 135.0, None, None, (65.0, 1350.0), "average number of synaptic contacts"),
        Parameter("a1", 1.0, None, None, (0.5, 1.5), "C1 = a1*C (pyramidal -> excitatory interneurons)"),
        Parameter("a2", 0.8, None, None, (0.4, 1.2), "C2 = a2*C (excitatory interneurons -> pyramidal)"),
        Parameter("a3", 0.25, None, None, (0.125, 0.375), "C3 = a3*C (pyramidal -> inhibitory interneurons)"),
        Parameter("a4", 0.25, None, None, (0.125, 0.375), "C4 = a4*C (inhibitory interneurons -> pyramidal)"),
        Parameter("e0", 2.5, u.Hz, PER_MS, (1.0, 5.0), "half of the maximal firing rate"),
        Parameter("v0", 6.0, u.mV, u.mV, (3.0, 9.0), "potential at half-maximal firing"),
        Parameter("r", 0.56, u.mV ** -1, u.mV ** -1, (0.3, 0.8), "sigmoid steepness"),
    ),
    inputs=(
        InputVar("p", u.Hz, PER_MS, None, "extrinsic input rate to pyramidal cells (e.g. 220 Hz)"),
        InputVar("M_inp", u.mV, u.mV, None, "potential added to the pyramidal sigmoid's argument"),
        InputVar("I_inp", u.mV, u.mV, None, "potential added to the inhibitory interneurons' sigmoid's argument"),
    ),
    observables=(
        Observable("eeg", lambda s, p: s["y1"] - s["y2"], u.mV, "pyramidal membrane potential y1 - y2"),
    ),
    drift=jansen_rit_drift,
    coupled_var="eeg",
    coupling_input="p",
    noise_inputs=("p",),
    output="eeg",
    default_dt=0.1,
    reference="Jansen & Rit (1995) Biol Cybern 73:357",
    extra={"noise_slots": {"p": "p", "E": "p", "M": "M_inp", "I": "I_inp"},
           "aliases": _BRAINMASS_NAMES, "translate": _translate_brainmass,
           "translate_keywords": ("s_max", "fr_scale"),
           "init_units": {**{f"y{i}": u.mV for i in range(3)}, **{f"y{i}": u.mV / u.ms for i in range(3, 6)}},
           "positional_inputs": ("M_inp", "p", "I_inp")},
)
