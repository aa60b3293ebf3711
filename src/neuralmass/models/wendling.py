r"""Wendling model: Jansen–Rit with fast somatic (GABA_A,fast) inhibition (Wendling et al. 2002).

Four populations — pyramidal cells, excitatory interneurons, slow dendritic-targeting and fast
somatic-targeting inhibitory interneurons — with second-order synaptic kernels
:math:`h(t) = G g\,t e^{-g t}` and the Jansen–Rit sigmoid
:math:`S(v) = 2e_0/(1 + e^{r(v_0 - v)})`:

.. math::

    \ddot y_0 &= A a\, S(y_1 - y_2 - y_3) - 2a\dot y_0 - a^2 y_0,\\
    \ddot y_1 &= A a\,[\,p + C_2 S(C_1 y_0)\,] - 2a\dot y_1 - a^2 y_1,\\
    \ddot y_2 &= B b\, C_4 S(C_3 y_0) - 2b\dot y_2 - b^2 y_2,\\
    \ddot y_3 &= G g\, C_7 S(C_5 y_0 - C_6 y_4) - 2g\dot y_3 - g^2 y_3,\\
    \ddot y_4 &= B b\, S(C_3 y_0) - 2b\dot y_4 - b^2 y_4,

written as ten first-order equations (``y5..y9`` are the derivatives of ``y0..y4``). The EEG is
the pyramidal membrane potential :math:`y_1 - y_2 - y_3` (mV). Connectivity constants
:math:`C_1..C_7 = C\,[1, 0.8, 0.25, 0.25, 0.3, 0.1, 0.8]`. With ``G = 0`` and ``y3 = 0`` it is the
Jansen–Rit model.

Lowering the slow dendritic inhibition ``B`` with raised excitation ``A`` moves the column from
background activity through sporadic and rhythmic epileptiform spikes to low-voltage fast
activity when the fast inhibition takes over (Wendling et al. 2002, Fig. 4).

References
----------
Wendling, F., Bartolomei, F., Bellanger, J. J., & Chauvel, P. (2002). Epileptic fast activity
can be explained by a model of impaired GABAergic dendritic inhibition. *European Journal of
Neuroscience*, 15(9), 1499–1508.
Jansen, B. H., & Rit, V. G. (1995). *Biological Cybernetics*, 73, 357–366.
"""

from __future__ import annotations

import brainunit as u

from .base import InputVar, NodeModel, Observable, Parameter, StateVar
from .jansen_rit import jr_sigmoid

__all__ = ["WENDLING", "wendling_drift"]

PER_MS = u.ms ** -1


def wendling_drift(state, params, inputs):
    """Pure drift of the Wendling model (time in ms, potentials in mV, rates per ms)."""
    P = params
    y = [state[f"y{i}"] for i in range(10)]
    C = P["C"]
    S = lambda v: jr_sigmoid(v, P["e0"], P["v0"], P["r"])
    A, B, G, a, b, g = P["A"], P["B"], P["G"], P["a"], P["b"], P["g"]
    kern = lambda gain, rate, drive, x, dx: gain * rate * drive - 2.0 * rate * dx - rate * rate * x
    return {
        "y0": y[5], "y1": y[6], "y2": y[7], "y3": y[8], "y4": y[9],
        "y5": kern(A, a, S(y[1] - y[2] - y[3]), y[0], y[5]),
        "y6": kern(A, a, inputs["p"] + P["p_mean"] + P["C2"] * C * S(P["C1"] * C * y[0]), y[1], y[6]),
        "y7": kern(B, b, P["C4"] * C * S(P["C3"] * C * y[0]), y[2], y[7]),
        "y8": kern(G, g, P["C7"] * C * S(P["C5"] * C * y[0] - P["C6"] * C * y[4]), y[3], y[8]),
        "y9": kern(B, b, S(P["C3"] * C * y[0]), y[4], y[9]),
    }


_NAMES = ("pyramidal output PSP (to interneurons)", "excitatory PSP on pyramidal cells",
          "slow (dendritic) IPSP on pyramidal cells", "fast (somatic) IPSP on pyramidal cells",
          "slow IPSP on fast interneurons")

WENDLING = NodeModel(
    name="Wendling",
    doc="Wendling model (Jansen–Rit with fast somatic inhibition)",
    category="physiological",
    states=tuple(StateVar(f"y{i}", 0.0, u.mV, (-1.0, 1.0), _NAMES[i]) for i in range(5))
    + tuple(StateVar(f"y{i + 5}", 0.0, u.mV / u.ms, None, f"dy{i}/dt") for i in range(5)),
    params=(
        Parameter("A", 3.25, u.mV, u.mV, (2.0, 10.0), "excitatory synaptic gain"),
        Parameter("B", 22.0, u.mV, u.mV, (0.0, 60.0), "slow (dendritic) inhibitory synaptic gain"),
        Parameter("G", 10.0, u.mV, u.mV, (0.0, 40.0), "fast (somatic) inhibitory synaptic gain"),
        Parameter("a", 100.0, u.Hz, PER_MS, (50.0, 150.0), "excitatory rate constant"),
        Parameter("b", 50.0, u.Hz, PER_MS, (25.0, 75.0), "slow inhibitory rate constant"),
        Parameter("g", 500.0, u.Hz, PER_MS, (250.0, 750.0), "fast inhibitory rate constant"),
        Parameter("C", 135.0, None, None, (65.0, 1350.0), "average number of synaptic contacts"),
        Parameter("C1", 1.0, None, None, (0.5, 1.5), "pyramidal -> excitatory interneurons (times C)"),
        Parameter("C2", 0.8, None, None, (0.4, 1.2), "excitatory interneurons -> pyramidal (times C)"),
        Parameter("C3", 0.25, None, None, (0.1, 0.4), "pyramidal -> slow inhibitory interneurons (times C)"),
        Parameter("C4", 0.25, None, None, (0.1, 0.4), "slow inhibitory interneurons -> pyramidal (times C)"),
        Parameter("C5", 0.3, None, None, (0.1, 0.5), "pyramidal -> fast inhibitory interneurons (times C)"),
        Parameter("C6", 0.1, None, None, (0.0, 0.3), "slow -> fast inhibitory interneurons (times C)"),
        Parameter("C7", 0.8, None, None, (0.4, 1.2), "fast inhibitory interneurons -> pyramidal (times C)"),
        Parameter("e0", 2.5, u.Hz, PER_MS, (1.0, 5.0), "half of the maximal firing rate"),
        Parameter("v0", 6.0, u.mV, u.mV, (3.0, 9.0), "potential at half-maximal firing"),
        Parameter("r", 0.56, u.mV ** -1, u.mV ** -1, (0.3, 0.8), "sigmoid steepness"),
        Parameter("p_mean", 90.0, u.Hz, PER_MS, (0.0, 400.0), "mean extrinsic input rate to pyramidal cells"),
    ),
    inputs=(
        InputVar("p", u.Hz, PER_MS, None, "extra input rate to pyramidal cells (coupling, noise, stimulus)"),
    ),
    observables=(
        Observable("eeg", lambda s, p: s["y1"] - s["y2"] - s["y3"], u.mV,
                   "pyramidal membrane potential y1 - y2 - y3"),
    ),
    drift=wendling_drift,
    coupled_var="eeg",
    coupling_input="p",
    noise_inputs=("p",),
    output="eeg",
    default_dt=0.05,
    reference="Wendling et al. (2002) Eur J Neurosci 15:1499",
    extra={"noise_slots": {"p": "p"}},
)
