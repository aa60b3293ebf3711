r"""Wong & Wang's (2006) reduced two-population decision circuit.

Two populations of excitatory neurons, each selective for one of two choices, compete through slow
NMDA-mediated recurrent excitation and effective mutual inhibition: the two-variable reduction of
Wang's (2002) spiking decision network, in its simplest form (NMDA at the recurrent synapses only):

.. math::

    \frac{dS_i}{dt} &= -\frac{S_i}{\tau_S} + (1 - S_i)\,\gamma\,r_i, \qquad r_i = \phi(I_i),\\
    I_1 &= J_{N,11} S_1 - J_{N,12} S_2 + J_{A,ext}\,\mu_0\,(1 + c) + I_0 + I_{1,ext},\\
    I_2 &= J_{N,22} S_2 - J_{N,21} S_1 + J_{A,ext}\,\mu_0\,(1 - c) + I_0 + I_{2,ext},\\
    \phi(I) &= \frac{aI - b}{1 - e^{-d(aI - b)}} .

:math:`S_i` is the NMDA gating variable of population *i*, :math:`r_i` its rate (Hz), currents are
in nA and :math:`c \in [-1, 1]` is the motion coherence of the stimulus (positive favours
population 1); :math:`J_{N,ij}` is the coupling from population *j* onto *i*. Time is in ms
(:math:`\tau_S` = 100 ms); :math:`\gamma r_i` with the rate in Hz is a rate per second, so the
drift multiplies it by 1e-3. Defaults are the published values of this form of the model:
:math:`a` = 270 Hz/nA, :math:`b` = 108 Hz, :math:`d` = 0.154 s, :math:`\gamma` = 0.641,
:math:`J_{N,11} = J_{N,22}` = 0.2609 nA, :math:`J_{N,12} = J_{N,21}` = 0.0497 nA,
:math:`J_{A,ext}` = 5.2·10⁻⁴ nA/Hz, :math:`I_0` = 0.3255 nA, and a stimulus of
:math:`\mu_0` = 30 Hz. Without stimulus (``mu_0 = 0``) both populations rest near 1.8 Hz (the
spontaneous state); with the stimulus on and :math:`c = 0.5` population 1 rises past 15 Hz within
about 0.3 s while population 2 falls below 1 Hz (winner-take-all), and :math:`c = 0` without
noise stays on the symmetric, unstable state from which noise decides.

**Threshold-linear f–I curve.** ``d = inf`` is the limit of a sharp threshold,
:math:`\phi(I) = \max(aI - b, 0) = a\max(I - \theta, 0)` with :math:`\theta = b/a`
(:func:`~neuralmass.models.wong_wang.ww_rate` evaluates it without NaN, also at :math:`aI = b`).
This is the curve of brainmass 0.1.1's ``WongWangStep``; the keyword ``theta`` (nA) of
``WongWangStep`` selects it, setting ``b = a * theta`` and ``d = inf``, so that brainmass code gives
brainmass's numbers.

**Inputs.** ``coherence`` (:math:`c`); ``I1_ext``, ``I2_ext`` (nA): currents added to each
population's input: stimuli, the noise slots ``noise_s1``/``noise_s2`` and, in a
:class:`~neuralmass.Network`, the coupling (by default ``S1`` of the other regions into ``I1_ext``,
so ``k`` is in nA per unit of gating; ``coupled_var={'I1_ext': 'S1', 'I2_ext': 'S2'}`` couples the
two choices separately). Wong & Wang drive each population with an Ornstein–Uhlenbeck current of
time constant :math:`\tau_{AMPA}` = 2 ms and :math:`\sigma` = 0.02 nA in their equation, whose
stationary standard deviation is :math:`\sigma/\sqrt 2`:
``noise_s1=OUProcess(n, sigma=0.02 / np.sqrt(2), tau=2.0)`` (neuralmass's ``sigma`` is the
stationary standard deviation).

**Integration.** The default integrator is ``'exp_euler'`` with the rates held over the step (the
drift's ``linear_coefficient``, :math:`J_i = -1/\tau_S - \gamma r_i`): each step is the exact
solution for the frozen rate,
:math:`S_{n+1} = S^* + (S_n - S^*)\,e^{-(1/\tau_S + \gamma r)\Delta t}` with
:math:`S^* = \gamma r \tau_S/(1 + \gamma r \tau_S)`, which is brainmass's step. Since
:math:`\phi \ge 0`, :math:`S^*` lies in [0, 1) and a state that starts in [0, 1] stays there for
every :math:`\Delta t`, so the state is not clipped (brainmass clips :math:`S` to [0, 1] after each
step; under this scheme the clip never acts). The explicit schemes keep :math:`S` in [0, 1] only for
small steps (forward Euler: :math:`\Delta t\,(1/\tau_S + \gamma r) \le 1`).

References
----------
Wong, K.-F., & Wang, X.-J. (2006). A recurrent network mechanism of time integration in perceptual
decisions. *Journal of Neuroscience*, 26(4), 1314–1328.
Wang, X.-J. (2002). Probabilistic decision making by slow reverberation in cortical circuits.
*Neuron*, 36(5), 955–968.
"""

from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from ..params import Param
from ..units import to_canonical, with_unit
from .base import InputVar, NodeModel, Observable, Parameter, StateVar
from .module import NodeModule, table_keywords
from .wong_wang import WONG_WANG, nmda_gating, nmda_gating_coefficient, ww_rate

__all__ = ["WONG_WANG_DECISION", "wong_wang_decision_drift", "WongWangDecisionBase",
           "decision_only_keywords", "reduced_only_keywords"]

HZ_PER_NA = u.Hz / u.nA


def _currents(state, P, inputs):
    S1, S2 = state["S1"], state["S2"]
    stim = P["J_A_ext"] * P["mu_0"]
    c = inputs["coherence"]
    I1 = P["J_N11"] * S1 - P["J_N12"] * S2 + stim * (1.0 + c) + P["I_0"] + inputs["I1_ext"]
    I2 = P["J_N22"] * S2 - P["J_N21"] * S1 + stim * (1.0 - c) + P["I_0"] + inputs["I2_ext"]
    return I1, I2


def _rates(state, P, inputs):
    """``(r1, r2)`` in Hz: the f–I curve of each population's total current."""
    I1, I2 = _currents(state, P, inputs)
    return ww_rate(I1, P["a"], P["b"], P["d"]), ww_rate(I2, P["a"], P["b"], P["d"])


def wong_wang_decision_drift(state, params, inputs):
    """Pure drift of the Wong–Wang (2006) decision circuit (time in ms, rates in Hz)."""
    P = params
    r1, r2 = _rates(state, P, inputs)
    return {"S1": nmda_gating(state["S1"], r1, P["tau_S"], P["gamma"]),
            "S2": nmda_gating(state["S2"], r2, P["tau_S"], P["gamma"])}


def _linear_coefficient(state, params, inputs):
    """The factor of S_i in dS_i/dt with the rate held: -1/tau_S - gamma r_i (per ms)."""
    P = params
    r1, r2 = _rates(state, P, inputs)
    return {"S1": nmda_gating_coefficient(r1, P["tau_S"], P["gamma"]),
            "S2": nmda_gating_coefficient(r2, P["tau_S"], P["gamma"])}


wong_wang_decision_drift.linear_coefficient = _linear_coefficient


def decision_only_keywords() -> set[str]:
    """Keywords of the decision circuit's module that the reduced E/I model's do not take."""
    return table_keywords(WONG_WANG_DECISION) - table_keywords(WONG_WANG)


def reduced_only_keywords() -> set[str]:
    """Keywords of the reduced E/I model's modules (``WongWangExcInhStep``) that the decision
    circuit's do not take."""
    return table_keywords(WONG_WANG) - table_keywords(WONG_WANG_DECISION)


def _brainmass_threshold(kw: dict) -> dict:
    """brainmass's ``theta`` (nA): the threshold-linear f–I curve ``a * max(I - theta, 0)``, i.e.
    ``b = a * theta`` and ``d = inf``. The reduced E/I model's names are refused by name."""
    other = sorted(k for k in kw if k in reduced_only_keywords())
    if other:
        raise TypeError(
            f"WongWangStep got {', '.join(other)}: {'a parameter' if len(other) == 1 else 'parameters'} of "
            "the reduced excitatory/inhibitory Wong-Wang model of Deco et al. (2014), which is "
            "neuralmass.WongWangExcInhStep (also WongWangModel). WongWangStep is Wong & Wang's (2006) "
            "two-population decision circuit (brainmass's WongWangStep); its parameters are listed by "
            "help(neuralmass.WongWangStep).")
    if "theta" not in kw:
        return kw
    kw = dict(kw)
    both = [k for k in ("b", "d") if k in kw]
    if both:
        raise TypeError(
            f"WongWangStep: theta={kw['theta']!r} sets b = a * theta and d = inf (the threshold-linear "
            f"f-I curve of brainmass); it was given with {' and '.join(both)}. Pass theta alone, or b "
            "and d (d = inf for the threshold-linear curve).")
    theta, a = kw.pop("theta"), kw.get("a", WONG_WANG_DECISION.param("a").default)
    for name, value in (("theta", theta), ("a", a)):
        if isinstance(value, Param):
            raise TypeError(
                f"WongWangStep: {name}=neuralmass.Param(...) with theta: theta is read once as "
                "b = a * theta. To fit the threshold pass b (Hz) and d=float('inf') instead of theta.")
    a_val = WONG_WANG_DECISION.param("a").to_canonical(a)
    kw["b"] = a_val * to_canonical(theta, "theta", u.nA)
    kw["d"] = jnp.inf
    return kw


class WongWangDecisionBase(NodeModule):
    """Stateful module of the Wong–Wang (2006) decision circuit (``neuralmass.WongWangStep``).

    ``update(coherence)`` advances one step and returns the two rates ``(r1, r2)`` (Quantities in
    Hz) of the state before the step, at the step's inputs, as brainmass's ``WongWangStep`` does;
    the gating variables are the states ``S1``, ``S2``.
    """

    def update(self, coherence=0.0, **inputs):
        """One step of ``brainstate.environ`` dt (default 0.1 ms) at motion coherence ``coherence``.

        Parameters
        ----------
        coherence : float or array, default 0
            The coherence :math:`c \\in [-1, 1]`; positive favours population 1.
        **inputs
            ``I1_ext``, ``I2_ext``: currents added to each population (nA).

        Returns
        -------
        r1, r2 : Quantity
            Firing rates (Hz) of the state at the start of the step (noise included).
        """
        vals = self.step_inputs(coherence=coherence, **inputs)
        r1, r2 = self.read("r1", vals), self.read("r2", vals)
        self.advance(vals)
        return with_unit(r1, u.Hz), with_unit(r2, u.Hz)

    def get_decision(self, threshold=15.0 * u.Hz, coherence=0.0):
        """The choice of the current state: ``1`` if population 1's rate exceeds ``threshold``
        (Hz; a plain number is read in Hz) and population 2's, ``-1`` for population 2, else ``0``.

        The rates are those of the current gating variables without noise, at ``coherence``
        (0 by default, brainmass's definition).
        """
        thr = to_canonical(threshold, "threshold", u.Hz)
        vals = {"coherence": self.model.input("coherence").to_canonical(coherence)}
        r1, r2 = self.read("r1", vals), self.read("r2", vals)
        return jnp.where((r1 > thr) & (r1 > r2), 1, jnp.where((r2 > thr) & (r2 > r1), -1, 0))


WONG_WANG_DECISION = NodeModel(
    name="WongWangDecision",
    doc="Wong–Wang (2006) two-population decision circuit (perceptual choice)",
    category="physiological",
    states=(
        StateVar("S1", 0.0, None, (0.0, 0.1), "NMDA gating of population 1"),
        StateVar("S2", 0.0, None, (0.0, 0.1), "NMDA gating of population 2"),
    ),
    params=(
        Parameter("tau_S", 100.0, u.ms, u.ms, (50.0, 200.0), "NMDA decay time"),
        Parameter("gamma", 0.641, None, None, (0.3, 1.0), "kinetic (saturation) factor of S"),
        Parameter("a", 270.0, HZ_PER_NA, HZ_PER_NA, (200.0, 350.0), "gain of the f-I curve"),
        Parameter("b", 108.0, u.Hz, u.Hz, (60.0, 160.0), "threshold rate of the f-I curve (b/a: threshold current)"),
        Parameter("d", 0.154, u.second, u.second, (0.05, 0.3), "curvature of the f-I curve (inf: threshold-linear)"),
        Parameter("J_N11", 0.2609, u.nA, u.nA, (0.1, 0.4), "recurrent NMDA coupling of population 1 onto itself"),
        Parameter("J_N22", 0.2609, u.nA, u.nA, (0.1, 0.4), "recurrent NMDA coupling of population 2 onto itself"),
        Parameter("J_N12", 0.0497, u.nA, u.nA, (0.0, 0.15), "effective inhibition of population 1 by 2"),
        Parameter("J_N21", 0.0497, u.nA, u.nA, (0.0, 0.15), "effective inhibition of population 2 by 1"),
        Parameter("J_A_ext", 5.2e-4, u.nA / u.Hz, u.nA / u.Hz, (1e-4, 1e-3), "AMPA coupling of the stimulus"),
        Parameter("mu_0", 30.0, u.Hz, u.Hz, (0.0, 80.0), "stimulus rate at zero coherence"),
        Parameter("I_0", 0.3255, u.nA, u.nA, (0.25, 0.4), "background (effective) current"),
    ),
    inputs=(
        InputVar("coherence", None, None, None, "motion coherence c in [-1, 1] (positive favours population 1)"),
        InputVar("I1_ext", u.nA, u.nA, None, "current to population 1 (stimulus, noise, coupling)"),
        InputVar("I2_ext", u.nA, u.nA, None, "current to population 2 (stimulus, noise)"),
    ),
    observables=(
        Observable("r1", lambda s, p, i: _rates(s, p, i)[0], u.Hz,
                   "rate of population 1 (of the total current: stimulus and inputs included)", uses_inputs=True),
        Observable("r2", lambda s, p, i: _rates(s, p, i)[1], u.Hz,
                   "rate of population 2 (of the total current: stimulus and inputs included)", uses_inputs=True),
    ),
    drift=wong_wang_decision_drift,
    coupled_var="S1",
    coupling_input="I1_ext",
    noise_inputs=("I1_ext", "I2_ext"),
    output="r1",
    default_dt=0.1,
    reference="Wong & Wang (2006) J Neurosci 26:1314",
    extra={"noise_slots": {"s1": "I1_ext", "s2": "I2_ext"}, "translate": _brainmass_threshold,
           "translate_keywords": ("theta",), "default_method": "exp_euler",
           "module_base": WongWangDecisionBase},
)
