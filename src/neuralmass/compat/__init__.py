"""brainmass 0.1.1 names and call conventions on neuralmass.

``import neuralmass as brainmass`` runs code written for brainmass 0.1.1 where this registry says a
name is provided. :data:`BRAINMASS_NAMES` lists every brainmass public name that neuralmass
provides with brainmass's keyword names (checked against a recorded fixture by
``tests/test_brainmass_compat.py``), each with a note of what differs; docs/brainmass.md is the
migration page (differences, and the names still missing).

The conventions themselves live with the code they concern, so that no layer imports this one:
keyword aliases and conversions in each model's table (``HopfStep(w=...)``,
``MontbrioPazoRoxinStep(delta=...)``), ``init_<state>`` spellings, initialiser callables and
``brainstate.nn.Param`` values in the generated node modules, ``'exp_euler'`` and ``'rk2'`` in
:mod:`neuralmass.integrators`, ``Simulator.run(jit=, sample_every=)`` in the engine.
"""

from __future__ import annotations

import inspect

__all__ = ["BRAINMASS_VERSION", "BRAINMASS_NAMES", "accepted_keywords", "provided", "coverage"]

BRAINMASS_VERSION = "0.1.1"

#: brainmass public name -> what differs in neuralmass (empty: nothing known)
BRAINMASS_NAMES: dict[str, str] = {
    "HopfStep": "default w = 2*pi*10 Hz (brainmass 0.2 rad/ms), start x = y = 0.1 (brainmass 0); "
                "update returns x, not (x, y); default integrator heun (brainmass exp_euler)",
    "StuartLandauStep": "starts at x = y = 0 (brainmass: uniform in [0, 0.05]); update returns x",
    "VanDerPolStep": "starts at x = y = 0 (brainmass: uniform in [0, 0.05]); update returns x",
    "ThresholdLinearStep": "inhibitory rate relaxes (-I); brainmass 0.1.1 has +I, an unstable "
                           "equation; rates in Hz, currents in pA; no clipping of the state",
    "FitzHughNagumoStep": "without the cubic form's parameter names it is the classic FitzHugh "
                          "form (a, b, eps, I); with alpha/beta/gamma/delta/epsilon or init_V it "
                          "builds FitzHughNagumoCubicStep, brainmass's form",
    "MontbrioPazoRoxinStep": "rate r in 1/ms (brainmass Hz); Delta dimensionless (brainmass delta "
                             "in Hz, read as Delta = delta*tau with a warning); coupling of rates "
                             "enters dV/dt (TVB form), brainmass adds r input to dr/dt",
    "HRFKernel": "plain-number time grids in ms, as brainmass; h(t) = 0 for t < 0",
    "FirstOrderVolterraHRFKernel": "same values; over- and critically damped parameters give the "
                                   "oscillator's impulse response (brainmass: NaN)",
    "GammaHRFKernel": "divided by the analytic peak at (n-1)*tau, not by the maximum over the "
                      "caller's grid (brainmass: k(t) depends on the grid t)",
    "DoubleExponentialHRFKernel": "divided by the maximum over the kernel's own support, not over "
                                  "the caller's grid",
    "MixtureOfGammasHRFKernel": "same values",
    "HRFBold": "convolution is the Riemann sum Delta*sum h z (brainmass omits Delta: its values "
               "scale with 1/downsample_period); kernel sampled at k*Delta (brainmass: "
               "linspace(0, duration, n)); periods must be whole multiples (brainmass rounds)",
    "Noise": "base class of neuralmass's stateful noises (WhiteNoise, OUProcess, ColoredNoise)",
    "ColoredNoise": "spectrum shaped over time (brainmass: across the last axis of in_size, white "
                    "over time); PSD sigma^2 |2 pi f|^-beta, f in kHz, fixed in physical "
                    "frequency so it does not change with dt; not run by the compiled engine",
    "PinkNoise": "as ColoredNoise, beta = 1",
    "BlueNoise": "beta = -1, PSD ~ f (brainmass -2, which is violet)",
    "VioletNoise": "beta = -2, PSD ~ f^2 (brainmass -4)",
    "BrownianNoise": "same process (x += sigma sqrt(dt/ms) xi); sigma read in input unit x sqrt(ms)",
    "additive_coupling": "same values; also takes (n_in,) sources without delays",
    "diffusive_coupling": "same values",
    "sigmoidal_coupling": "same values (brainmass's parameterisation; the SigmoidalCoupling class "
                          "is TVB's, with cmin/cmax/sigma)",
    "sigmoidal_jansen_rit_coupling": "same values",
    "hyperbolic_tangent_coupling": "same values",
    "HyperbolicTangentCoupling": "same values; a coupling kind of Network ('hyperbolic_tangent'); "
                                 "conn must be square when the object is called",
    "list_models": "read from the model tables (every registered model; our CoombesByrneStep has "
                   "4 states)",
    "ModelInfo": "same fields (name, category, n_state_vars, use_case)",
    "sigmoid": "same values (the Jansen-Rit sigmoid, vmax = 2 e0)",
    "sys2nd": "same values; the Jansen-Rit drift uses it",
    "bounded_input": "same values; bound must be positive",
    "delay_index": "same values",
    "laplacian_connectivity": "same values: W - D (the sign of nabla^2), the negative of spectral "
                              "graph theory's D - W",
    "LaplacianConnParam": "same value; a brainstate.nn.Param",
    "LeadfieldReadout": "same values; lm is a plain array, not a trainable Param",
    "Array": "type alias", "Initializer": "type alias",
    "Parameter": "type alias (also admits neuralmass.Param)",
    "typing": "module of the type aliases",
    "LorenzStep": "same drift and runs (time in ms); update returns x",
    "WongWangExcInhStep": "the model WongWang (Deco et al. 2014) with TVB's/brainmass's names; "
                          "G defaults to 1 (brainmass 2: in a Network, k is G); start S_E = 0.164, "
                          "S_I = 0.05 (brainmass 0.001); gamma_e/gamma_i read in 1/(ms Hz)",
    "WongWangStep": "the model WongWangDecision (Wong & Wang 2006); same rates, drift and runs with "
                    "theta given (theta selects brainmass's threshold-linear f-I curve, b = a*theta, "
                    "d = inf); defaults are the paper's: f-I curve (aI - b)/(1 - exp(-d(aI - b))) "
                    "(brainmass: threshold-linear, theta = 0.31 nA) and J_A_ext = 5.2e-4 nA/Hz "
                    "(brainmass 2.243e-4); S not clipped (exp_euler keeps it in [0, 1)); "
                    "update(coherence) also takes currents I1_ext, I2_ext",
    "WilsonCowanStep": "same drift and runs with brainmass's keywords: the ...Step classes read "
                       "wIE (I onto E) and wEI (E onto I) with brainmass's meaning and warn "
                       "(KeywordConventionWarning) how they map onto the table's target-source names "
                       "(wEI = I onto E); table_names=True reads the table's names",
    "WilsonCowanNoSaturationStep": "same drift and runs; wIE/wEI read as WilsonCowanStep does",
    "WilsonCowanSymmetricStep": "same drift and runs; wIE/wEI read as WilsonCowanStep does",
    "WilsonCowanSimplifiedStep": "same drift and runs",
    "WilsonCowanLinearStep": "same drift and runs; wIE/wEI read as WilsonCowanStep does",
    "JansenRitStep": "same drift and runs with brainmass's names (Ae, Ai, be, bi, s_max = 2 e0, "
                     "M..Iv_init = y0..y5_init, inputs M_inp/I_inp); fr_scale only the identity; "
                     "update(x) with one argument is the coupling input p (brainmass: M_inp)",
    "LinearStep": "gamma read as tau = -1/gamma (must be negative); same run; default tau 10 ms "
                  "(brainmass gamma = -10: tau 0.1 ms)",
    "CoombesByrneStep": "v is an alias of V; a different model (4 states with conductance gating, "
                        "brainmass 2)",
    "AdditiveCoupling": "same values; b is added when the object is called, a Network refuses b != 0",
    "SigmoidalCoupling": "TVB's sigmoidal; with b or slope, brainmass's form (a = gain), same values",
    "SigmoidalJansenRitCoupling": "same values; midpoint = v0, e0 = (cmax - cmin)/2, cmin added to "
                                  "each source's rate",
    "WhiteNoise": "mean is a constant added; white noise scaled by 1/sqrt(dt) (Euler-Maruyama)",
    "GaussianNoise": "as WhiteNoise",
    "OUProcess": "sigma is the stationary standard deviation (brainmass's sigma gives sigma/sqrt(2)); "
                 "without init the engine starts in the stationary distribution",
    "WilsonCowanAdaptiveStep": "same drift and runs; weights named as brainmass (this variant reads "
                               "wEI as I onto E, as neuralmass does), so its defaults wEI = 13, "
                               "wIE = 4 differ from WilsonCowanStep's",
    "WilsonCowanDelayedStep": "same runs (delays rounded to whole steps, history = the initial "
                              "state, as brainmass with constant initialisers); the delayed rates "
                              "are inputs of the drift filled by the node's history; in a Network "
                              "too; a run's override may shorten a delay, not lengthen it",
    "WilsonCowanDivisiveStep": "same drift and runs; weights named as brainmass",
    "WilsonCowanDivisiveInputStep": "same drift and runs; weights named as brainmass",
    "WilsonCowanThreePopBase": "the base class of the three-population modules; not instantiated "
                               "(brainmass: raises on update); a variant is a subclass naming a "
                               "table (model = wilson_cowan_three_pop_family(...)), not methods "
                               "drE/drI/drM",
    "WilsonCowanThreePopulationStep": "same drift and runs; weights named as brainmass",
    "KuramotoNetwork": "same runs with method='euler' (brainmass's step); default heun; omega "
                       "and K plain numbers in rad/ms; takes method=",
    "process_sequence": "same reductions; an unknown mode is an error naming it",
    "Simulator": "run(transient=) is a time (a plain number is ms), never a step count; "
                 "run(init_states=) is not taken",
    "HORNStep": "same steps (symplectic Euler, the default method; any integrator via method=); "
                "the model HORN; time in ms (dt = 1 ms is the paper's unit step h = 1)",
    "HORNSeqLayer": "same forward pass; recurrent weights stored (source, target) and the "
                    "recurrent bias applied also with delay= (brainmass's delayed path uses "
                    "(target, source) and drops the bias); takes method=",
    "HORNSeqNetwork": "same forward pass and hidden_activation; as HORNSeqLayer for delays",
    "JansenRitTR": "same runs (delays in TRs); lateral weights symmetrised as Momi et al. 2023 "
                   "(brainmass's transpose over axes (0, 1) is the identity); std_in is white "
                   "noise scaled by sqrt(dt); state/input_saturation have no effect (as in brainmass)",
    "XY_Oscillator": "same base: a subclass defines dx, dy; update returns (x, y); runs in "
                     "Simulator and Network; default integrator heun (brainmass exp_euler), "
                     "starts at 0 (brainmass uniform in [0, 0.05])",
    "Fitter": "brainmass's call form returns a ModuleFitter on neuralmass's backends; every fitted "
              "parameter needs bounds; predict must be a JAX function for 'grad' (make_run_fn); "
              "'scipy' takes minimize methods that search inside bounds, or 'DE'; callbacks run for "
              "every backend",
    "FitResult": "one class: best_loss/best_params are loss/params; history is the best loss of "
                 "each step (every candidate's in losses)",
}


def _module_keywords(cls) -> set[str]:
    from ..models.module import table_keywords

    M = cls.model
    out = {"in_size", "method", "name"} | table_keywords(M)
    variant = M.extra.get("variant")
    if variant is not None:
        out |= set(variant[0]) | _module_keywords(variant[1]())
    return out


def accepted_keywords(obj) -> set[str] | None:
    """Keyword names ``obj`` (a class or function of neuralmass) accepts; ``None`` when it takes
    any keyword (``**kwargs`` that is not a node module's table)."""
    from ..models.module import NodeModule
    from ..network.coupling import Coupling

    if isinstance(obj, type) and issubclass(obj, NodeModule):
        return _module_keywords(obj)
    if isinstance(obj, type) and issubclass(obj, Coupling):
        named = {n for n, p in inspect.signature(obj.__init__).parameters.items()
                 if n != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD}
        return named | set(obj().defaults) | set(obj.extra_keywords)
    target = obj.__init__ if isinstance(obj, type) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {n for n in sig.parameters if n != "self"}


def provided(name: str, brainmass_params=()) -> tuple[bool, list[str]]:
    """Whether ``neuralmass.<name>`` exists, and which of ``brainmass_params`` it does not accept."""
    import neuralmass

    try:
        obj = getattr(neuralmass, name)
    except AttributeError:
        return False, list(brainmass_params)
    if not callable(obj):
        return True, []
    acc = accepted_keywords(obj)
    if acc is None:
        return True, []
    return True, [p for p in brainmass_params if p not in acc]


def fixture_keywords(fixture: dict, name: str) -> list[str]:
    """brainmass's keyword names of ``name`` as recorded in the fixture (``*args``/``**kwargs``
    excluded)."""
    sig = fixture["signatures"].get(name) or []
    return [p["name"] for p in sig if p["kind"] not in ("VAR_POSITIONAL", "VAR_KEYWORD")]


def coverage(fixture: dict) -> tuple[list[str], dict[str, list[str] | None]]:
    """Which brainmass names of ``fixture`` (``tests/fixtures/brainmass_0_1_1.json``) neuralmass
    provides with brainmass's keywords: ``(provided, missing)``, where ``missing[name]`` is the
    list of keywords not taken, or ``None`` when the name is absent."""
    ok, missing = [], {}
    for name in fixture["names"]:
        have, bad = provided(name, fixture_keywords(fixture, name))
        if have and not bad:
            ok.append(name)
        else:
            missing[name] = bad if have else None
    return ok, missing
