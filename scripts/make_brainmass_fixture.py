"""Write tests/fixtures/brainmass_0_1_1.json: the public API and reference numbers of brainmass 0.1.1.

The migration tests (tests/test_brainmass_compat.py) compare neuralmass with this file; brainmass
itself is never imported by the test suite.

Regenerate (brainmass lives in its own virtual environment, never in the project's):

    python3 -m venv ../bm-venv
    ../bm-venv/bin/pip install brainmass==0.1.1
    ../bm-venv/bin/python scripts/make_brainmass_fixture.py

What is recorded
----------------
* ``names``: ``sorted(n for n in dir(brainmass) if not n.startswith('_'))``;
* ``signatures``: for every public callable, its parameters (name, kind, default as ``repr`` text,
  or null when there is none);
* ``models``: for a few node models, the time derivative (per ms, brainmass's ``derivative``) at
  fixed states, inputs and parameters, and a short noise-free run (brainmass's own ``update``
  stepped with ``brainstate.transform.for_loop``, float64, the state after every 10th of 200 steps
  of 0.05 ms; 0.005 ms for the Lorenz system) for the integrators ``exp_euler``, ``euler`` and
  ``rk2``.  Values are plain numbers in brainmass's units (noted per model);
* ``hrf``: each HRF kernel (defaults and one other parameter set) on a time grid in ms, and
  ``HRFBold`` applied to a fixed signal;
* ``couplings``: the functional couplings (``additive_coupling``, ...) at fixed source values,
  square, non-square and flattened connectivity;
* ``utils``: ``list_models()``, ``sigmoid``, ``bounded_input``, ``sys2nd``, ``delay_index``,
  ``laplacian_connectivity`` (three normalisations) and ``LeadfieldReadout`` at fixed inputs;
* ``wilson_cowan_variants``: the Wilson–Cowan variants with adaptation, divisive normalisation,
  delays inside the node and a third population, recorded as ``models`` (the delayed variant's
  runs only);
* ``noise``: the log-log slope over time of the power spectrum of brainmass's coloured noises
  (4096 successive ``update`` calls of one node among 64), which shows what they generate;
* ``modules``: for each of brainmass's submodules (``brainmass.hopf``, ...), its ``__all__``;
* ``wong_wang_step``: ``WongWangStep`` (Wong & Wang's 2006 decision circuit): rates and drift
  at fixed states, and 400-step runs of its ``update`` at coherence 0.3 (given parameters and
  brainmass's defaults), with ``get_decision()`` at the end;
* ``keywords``: classes called with brainmass's own keyword names where neuralmass's differ
  (``JansenRitStep(Ae=..., s_max=..., M_init=...)`` drift and runs, ``LinearStep(gamma=...)`` run,
  the coupling classes ``AdditiveCoupling(b=...)``, ``SigmoidalCoupling(b=..., slope=...)``,
  ``SigmoidalJansenRitCoupling(cmin=..., cmax=..., midpoint=...)``).
"""

from __future__ import annotations

import inspect
import json
import pathlib
import sys

import brainmass
import brainstate
import braintools
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "brainmass_0_1_1.json"

N_STEPS = 200
DT_MS = 0.05
RECORD_EVERY = 10   # the run keeps the state after steps 10, 20, ..., 200


def _default_text(p):
    if p.default is inspect.Parameter.empty:
        return None
    d = p.default
    if callable(d) and not isinstance(d, type):
        return f"<{type(d).__name__}>"
    text = repr(d)
    # object reprs with memory addresses change between runs
    return f"<{type(d).__name__}>" if " at 0x" in text else text


def signature(obj):
    target = obj.__init__ if isinstance(obj, type) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.name != "self"]
    return [{"name": p.name, "kind": p.kind.name, "default": _default_text(p)} for p in params]


def mag(x, unit=None):
    if unit is not None:
        x = u.Quantity(x).to_decimal(unit)
    else:
        x = u.get_magnitude(x)
    return np.vectorize(lambda v: float(f"{v:.12g}"))(np.asarray(x, dtype=float)).tolist()


# model name -> (constructor kwargs, state names, brainmass unit per state, input-args builder,
#                states at which the drift is evaluated, inputs)
STATES_2D = [[0.1, 0.5, -0.3, 1.2], [0.2, -0.4, 0.6, 0.0]]
WC_POINTS = [[0.05, 0.3, 0.6, 0.9], [0.02, 0.4, 0.1, 0.7]]
WC_INPUTS = [[0.0, 1.5, -0.5, 3.0], [0.0, 0.5, 2.0, -1.0]]
CASES = {
    "HopfStep": dict(kwargs=dict(a=0.25, w=0.2, beta=1.0), states=("x", "y"), units=(None, None),
                     points=STATES_2D, inputs=[[0.0, 0.1, -0.2, 0.3], [0.0, 0.0, 0.05, -0.1]],
                     init=[0.1, 0.0]),
    "HopfStep_beta2": dict(cls="HopfStep", kwargs=dict(a=-0.1, w=0.5, beta=2.0), states=("x", "y"),
                           units=(None, None), points=STATES_2D, inputs=[[0.0] * 4, [0.0] * 4],
                           init=[0.4, 0.1]),
    "StuartLandauStep": dict(kwargs=dict(a=0.25, w=0.2), states=("x", "y"), units=(None, None),
                             points=STATES_2D, inputs=[[0.0, 0.1, -0.2, 0.3], [0.0, 0.0, 0.05, -0.1]],
                             init=[0.1, 0.0]),
    "VanDerPolStep": dict(kwargs=dict(mu=1.0), states=("x", "y"), units=(None, None),
                          points=STATES_2D, inputs=[[0.0, 0.1, -0.2, 0.3], [0.0, 0.0, 0.05, -0.1]],
                          init=[0.5, 0.0]),
    "VanDerPolStep_mu3": dict(cls="VanDerPolStep", kwargs=dict(mu=3.0), states=("x", "y"),
                              units=(None, None), points=STATES_2D, inputs=[[0.0] * 4, [0.0] * 4],
                              init=[0.5, 0.0]),
    "FitzHughNagumoStep": dict(kwargs=dict(alpha=3.0, beta=4.0, gamma=-1.5, delta=0.0, epsilon=0.5,
                                           tau=20.0 * u.ms),
                               states=("V", "w"), units=(None, None),
                               points=[[0.1, 0.5, -0.3, 1.2], [0.2, -0.4, 0.6, 0.0]],
                               inputs=[[0.0, 0.6, -0.2, 0.3], [0.0, 0.0, 0.05, -0.1]], init=[0.3, 0.1]),
    "MontbrioPazoRoxinStep": dict(kwargs=dict(tau=1.0 * u.ms, eta=-5.0, delta=1.0 * u.Hz, J=15.0),
                                  states=("r", "v"), units=(u.Hz, None),
                                  points=[[10.0, 50.0, 200.0, 1000.0], [-2.0, -0.5, 0.3, 1.0]],
                                  inputs=[[0.0, 1.0, -2.0, 5.0], [0.0, 0.5, -1.0, 2.0]],
                                  init=[20.0, -1.0]),
    # rho = 14: the fixed points C+- are stable (no chaos), so a 200-step run compares to float32
    "LorenzStep": dict(kwargs=dict(sigma=10.0, rho=14.0, beta=8.0 / 3.0), states=("x", "y", "z"),
                       units=(None, None, None),
                       points=[[0.1, 5.0, -3.0, 12.0], [0.2, -4.0, 6.0, 15.0], [1.0, 20.0, 10.0, 30.0]],
                       inputs=[[0.0, 0.5, -1.0, 2.0]], init=[1.0, 2.0, 3.0], dt_ms=0.005),
    "LorenzStep_chaotic": dict(cls="LorenzStep", kwargs=dict(), states=("x", "y", "z"),
                               units=(None, None, None),
                               points=[[0.1, 5.0, -3.0, 12.0], [0.2, -4.0, 6.0, 15.0], [1.0, 20.0, 10.0, 30.0]],
                               inputs=[[0.0, 0.5, -1.0, 2.0]], init=[1.0, 1.0, 1.0], no_runs=True),
    # G and lamda given (brainmass's G default is 2, neuralmass's 1: the network's k is G)
    "WongWangExcInhStep": dict(kwargs=dict(G=2.0, lamda=0.3, J_i=1.2, I_ext=0.05), states=("S_e", "S_i"),
                               units=(None, None),
                               points=[[0.164, 0.05, 0.4, 0.9], [0.05, 0.2, 0.01, 0.5]],
                               inputs=[[0.0, 0.1, 0.3, -0.05]], init=[0.1, 0.05], dt_ms=0.1),
    # Wilson-Cowan variants; brainmass's wIE is I onto E (neuralmass: wEI), its wEI E onto I
    "WilsonCowanStep": dict(kwargs=dict(tau_I=2.0 * u.ms, a_E=1.3, wEE=11.0, wIE=3.0, wEI=14.0, wII=10.0, r=0.9),
                            states=("rE", "rI"), units=(None, None), points=WC_POINTS, inputs=WC_INPUTS,
                            init=[0.1, 0.05]),
    "WilsonCowanNoSaturationStep": dict(kwargs=dict(tau_E=2.0 * u.ms, wEE=11.0, wIE=3.0, wEI=14.0, wII=10.0),
                                        states=("rE", "rI"), units=(None, None), points=WC_POINTS,
                                        inputs=WC_INPUTS, init=[0.1, 0.05]),
    "WilsonCowanSymmetricStep": dict(kwargs=dict(tau=1.5 * u.ms, a=1.3, theta=3.0, wEE=11.0, wIE=3.0,
                                                 wEI=14.0, wII=10.0, r=0.8),
                                     states=("rE", "rI"), units=(None, None), points=WC_POINTS,
                                     inputs=WC_INPUTS, init=[0.1, 0.05]),
    "WilsonCowanSimplifiedStep": dict(kwargs=dict(w_exc=9.0, w_inh=11.0, a_I=1.3, theta_E=3.1),
                                      states=("rE", "rI"), units=(None, None), points=WC_POINTS,
                                      inputs=WC_INPUTS, init=[0.1, 0.05]),
    "WilsonCowanLinearStep": dict(kwargs=dict(tau_I=2.0 * u.ms, wEE=0.7, wIE=0.4, wEI=1.1, wII=0.9, r=0.5),
                                  states=("rE", "rI"), units=(None, None), points=WC_POINTS,
                                  inputs=WC_INPUTS, init=[0.1, 0.05]),
    "ThresholdLinearStep": dict(kwargs=dict(), states=("E", "I"), units=(None, None),
                                points=[[0.1, 0.5, 0.0, 1.2], [0.2, 0.0, 0.6, 0.1]],
                                inputs=[[0.0, 1.0, -2.0, 5.0], [0.0, 0.5, 3.0, -1.0]], init=[0.1, 0.2]),
}


def _with_units(values, unit):
    arr = jnp.asarray(values, dtype=float)
    return arr if unit is None else arr * unit


def model_case(label, spec):
    cls = getattr(brainmass, spec.get("cls", label))
    out = {"class": cls.__name__, "kwargs": {k: (mag(v, u.ms) if isinstance(v, u.Quantity) and
                                                  u.get_unit(v).dim == u.ms.dim else
                                                  mag(v, u.Hz) if isinstance(v, u.Quantity) else v)
                                              for k, v in spec["kwargs"].items()},
           "states": list(spec["states"]), "points": spec["points"], "inputs": spec["inputs"],
           "dt_ms": spec.get("dt_ms", DT_MS), "n_steps": N_STEPS, "record_every": RECORD_EVERY, "init": spec["init"]}
    n = len(spec["points"][0])
    units = spec["units"]
    with brainstate.environ.context(dt=spec.get("dt_ms", DT_MS) * u.ms):
        m = cls(n, **spec["kwargs"])
        brainstate.nn.init_all_states(m)
        state = tuple(_with_units(p, un) for p, un in zip(spec["points"], units))
        if label.startswith("ThresholdLinear"):
            # ThresholdLinearStep has no `derivative`; its drift is written inline in `update`
            out["derivative"] = None
        else:
            inp = [jnp.asarray(v) * (u.Hz if i == 0 and units[0] is u.Hz else 1.0)
                   for i, v in enumerate(spec["inputs"])]
            d = m.derivative(state, 0.0 * u.ms, *inp)
            out["derivative"] = [mag(di, un / u.ms if un is not None else u.ms ** -1)
                                 for di, un in zip(d, units)]
        runs = {}
        methods = (() if spec.get("no_runs") else ("exp_euler",) if label.startswith("ThresholdLinear")
                   else ("exp_euler", "euler", "rk2"))
        for method in methods:
            kw = dict(spec["kwargs"])
            if not label.startswith("ThresholdLinear"):
                kw["method"] = method
            m = cls(1, **kw)
            brainstate.nn.init_all_states(m)
            for name, val, un in zip(spec["states"], spec["init"], units):
                getattr(m, name).value = _with_units([val], un)
            ext = [v[1] * (u.Hz if i == 0 and units[0] is u.Hz else 1.0)
                   for i, v in enumerate(spec["inputs"])]

            def step(i):
                m.update(*ext)
                return tuple(getattr(m, s).value for s in spec["states"])

            traj = brainstate.transform.for_loop(step, np.arange(N_STEPS))
            runs[method] = {"inputs": [v[1] for v in spec["inputs"]],
                            **{s: mag(t[RECORD_EVERY - 1::RECORD_EVERY, 0], un) for s, t, un in zip(spec["states"], traj, units)}}
        out["runs"] = runs
    return out


# Wilson-Cowan variants with more than two states or with delays inside the node; recorded under
# their own key ("wilson_cowan_variants"). These variants name their weights target-source as
# neuralmass does (wEI: I onto E), so their keywords are compared as they are. Runs call the module
# (m(...)), which also records the delayed states, and start from constant initialisers, so that
# the delay history before the start equals the initial state.
WC_VARIANT_CASES = {
    "WilsonCowanAdaptiveStep": dict(
        kwargs=dict(tau_I=2.0 * u.ms, wEE=11.0, wEI=12.0, wIE=5.0, r=0.9, tau_aE=20.0 * u.ms,
                    tau_aI=15.0 * u.ms, b_E=1.5, b_I=0.8),
        states=("rE", "rI", "aE", "aI"), points=WC_POINTS + [[0.0, 0.05, 0.2, -0.1], [0.0, 0.02, 0.1, 0.3]],
        inputs=WC_INPUTS, init=[0.1, 0.05, 0.02, 0.01]),
    "WilsonCowanDivisiveStep": dict(
        kwargs=dict(tau_I=2.0 * u.ms, wEE=7.0, wEI=5.0, wIE=3.0, wII=4.0, sigma_E=0.8, sigma_I=1.2, r=0.9),
        states=("rE", "rI"), points=WC_POINTS, inputs=WC_INPUTS, init=[0.1, 0.05]),
    "WilsonCowanDivisiveInputStep": dict(
        kwargs=dict(tau_E=1.5 * u.ms, wEE=7.0, wEI=5.0, wIE=3.0, wII=4.0, sigma_E=0.8, sigma_I=1.2, a_E=1.4),
        states=("rE", "rI"), points=WC_POINTS, inputs=WC_INPUTS, init=[0.1, 0.05]),
    # delays of 8, 5, 6 and 3 steps of 0.05 ms: all act within the 200-step run
    "WilsonCowanDelayedStep": dict(
        kwargs=dict(tau_I=2.0 * u.ms, wEE=11.0, wEI=12.0, wIE=5.0, delay_EE=0.4 * u.ms,
                    delay_IE=0.25 * u.ms, delay_EI=0.3 * u.ms, delay_II=0.15 * u.ms),
        states=("rE", "rI"), points=None, inputs=WC_INPUTS, init=[0.1, 0.05]),
    "WilsonCowanDelayedStep_defaults": dict(
        cls="WilsonCowanDelayedStep", kwargs=dict(), states=("rE", "rI"), points=None, inputs=WC_INPUTS,
        init=[0.3, 0.05]),
    "WilsonCowanThreePopulationStep": dict(
        kwargs=dict(tau_M=3.0 * u.ms, theta_M=3.0, wME=7.0, wMI=5.0, wEM=3.0, wIM=2.5, wMM=1.5, r=0.9),
        states=("rE", "rI", "rM"), points=WC_POINTS + [[0.1, 0.3, 0.0, 0.8]],
        inputs=WC_INPUTS + [[0.0, 1.0, -0.5, 2.0]], init=[0.1, 0.05, 0.2]),
}


def wilson_cowan_variant_case(label, spec):
    """One record of ``wilson_cowan_variants``: the drift at ``points`` (none for the delayed
    variant, whose drift reads its history) and 200-step runs for three integrators."""
    import braintools

    cls = getattr(brainmass, spec.get("cls", label))
    out = {"class": cls.__name__, "kwargs": {k: mag(v, u.ms) if isinstance(v, u.Quantity) else v
                                              for k, v in spec["kwargs"].items()},
           "states": list(spec["states"]), "points": spec["points"], "inputs": spec["inputs"],
           "dt_ms": DT_MS, "n_steps": N_STEPS, "record_every": RECORD_EVERY, "init": spec["init"],
           "derivative": None, "runs": {}}
    with brainstate.environ.context(dt=DT_MS * u.ms):
        if spec["points"] is not None:
            m = cls(len(spec["points"][0]), **spec["kwargs"])
            brainstate.nn.init_all_states(m)
            d = m.derivative(tuple(jnp.asarray(p) for p in spec["points"]), 0.0 * u.ms,
                             *[jnp.asarray(v) for v in spec["inputs"]])
            out["derivative"] = [mag(di, u.ms ** -1) for di in d]
        for method in ("exp_euler", "euler", "rk2"):
            inits = {f"{s}_init": braintools.init.Constant(v) for s, v in zip(spec["states"], spec["init"])}
            m = cls(1, **spec["kwargs"], **inits, method=method)
            brainstate.nn.init_all_states(m)
            ext = [v[1] for v in spec["inputs"]]

            def step(i):
                with brainstate.environ.context(i=i, t=i * DT_MS * u.ms):
                    m(*ext)
                return tuple(getattr(m, s).value for s in spec["states"])

            traj = brainstate.transform.for_loop(step, np.arange(N_STEPS))
            out["runs"][method] = {"inputs": ext, **{s: mag(t[RECORD_EVERY - 1::RECORD_EVERY, 0])
                                                    for s, t in zip(spec["states"], traj)}}
    return out


def wilson_cowan_variant_cases():
    return {label: wilson_cowan_variant_case(label, spec) for label, spec in WC_VARIANT_CASES.items()}


def _grid_ms(duration_ms, step_ms):
    return np.arange(0.0, duration_ms + 0.5 * step_ms, step_ms)


HRF_CASES = {
    # label: (class, kwargs, grid step in ms); grids from 0 to the kernel's duration
    "FirstOrderVolterraHRFKernel": ("FirstOrderVolterraHRFKernel", {}, 60.0),
    "FirstOrderVolterraHRFKernel_b": ("FirstOrderVolterraHRFKernel", dict(tau_s=1.2, tau_f=0.5, scaling=0.5), 60.0),
    "GammaHRFKernel": ("GammaHRFKernel", {}, 60.0),
    "GammaHRFKernel_b": ("GammaHRFKernel", dict(tau=0.9, n=4.0, a=1.0), 60.0),
    "DoubleExponentialHRFKernel": ("DoubleExponentialHRFKernel", {}, 60.0),
    "DoubleExponentialHRFKernel_b": ("DoubleExponentialHRFKernel", dict(tau_1=5.0, f_1=0.05, a=1.0), 60.0),
    "MixtureOfGammasHRFKernel": ("MixtureOfGammasHRFKernel", {}, 60.0),
    "MixtureOfGammasHRFKernel_b": ("MixtureOfGammasHRFKernel", dict(a_1=5.0, a_2=11.0, l=1.3, c=0.3), 60.0),
}


def hrf_cases():
    out = {}
    for label, (cls, kw, step) in HRF_CASES.items():
        k = getattr(brainmass, cls)(**kw)
        dur = float(k.duration.to_decimal(u.ms))
        t = _grid_ms(dur, step)
        out[label] = {"class": cls, "kwargs": kw, "duration_ms": dur, "step_ms": step,
                      "h": mag(k(jnp.asarray(t) * u.ms))}
    # HRFBold on z(t) = 1 + 0.5 sin(2 pi t / 8 s) + 0.2 sin(2 pi t / 3 s), two regions (phase shift)
    dt_ms, n = 1.0, 30000
    t = np.arange(n) * dt_ms
    z = np.stack([1.0 + 0.5 * np.sin(2 * np.pi * t / 8000.0) + 0.2 * np.sin(2 * np.pi * t / 3000.0),
                  1.0 + 0.5 * np.cos(2 * np.pi * t / 8000.0)], axis=1)
    bolds = {}
    for label, kernel in (("volterra", brainmass.FirstOrderVolterraHRFKernel()),
                          ("gamma", brainmass.GammaHRFKernel())):
        b = brainmass.HRFBold(period=1000. * u.ms, downsample_period=4. * u.ms, kernel=kernel)
        bolds[label] = mag(b(jnp.asarray(z), dt=dt_ms * u.ms))
    out["HRFBold"] = {"signal": "z = [1 + 0.5 sin(2 pi t/8 s) + 0.2 sin(2 pi t/3 s), 1 + 0.5 cos(2 pi t/8 s)]",
                      "dt_ms": dt_ms, "n_steps": n, "period_ms": 1000.0, "downsample_period_ms": 4.0,
                      "k_1": 5.6, "V_0": 0.02, "bold": bolds}
    return out


def coupling_cases():
    rng = np.random.default_rng(23)
    r = lambda *shape: np.round(rng.uniform(-1.0, 1.0, size=shape), 3)
    w_sq = np.round(rng.uniform(0.0, 1.0, size=(3, 3)), 3)
    w_ns = np.round(rng.uniform(0.0, 1.0, size=(2, 4)), 3)
    x_sq, x_ns, y_sq, y_ns = r(3, 3), r(2, 4), r(3), r(2)
    v_sq = np.round(rng.uniform(2.0, 10.0, size=(3, 3)), 3)     # potentials (mV) for Jansen-Rit
    cases = []

    def add(fn, args, kw, note):
        res = getattr(brainmass, fn)(*[jnp.asarray(a) for a in args], **kw)
        cases.append({"function": fn, "args": [np.asarray(a).tolist() for a in args], "kwargs": kw,
                      "note": note, "out": mag(res)})

    add("additive_coupling", (x_sq, w_sq), {}, "square")
    add("additive_coupling", (x_ns, w_ns), dict(k=0.7, b=0.1), "non-square")
    add("additive_coupling", (x_sq.reshape(-1), w_sq), dict(k=2.0), "flattened x")
    add("diffusive_coupling", (x_sq, y_sq, w_sq, 0.5), {}, "square")
    add("diffusive_coupling", (x_ns, y_ns, w_ns, 1.5), {}, "non-square")
    add("diffusive_coupling", (x_ns.reshape(-1), y_ns, w_ns.reshape(-1), 1.5), {}, "flattened, non-square")
    add("sigmoidal_coupling", (x_sq, w_sq), {}, "defaults")
    add("sigmoidal_coupling", (x_ns, w_ns), dict(k=2.0, a=1.5, b=0.2, slope=3.0, midpoint=0.4), "non-square")
    add("sigmoidal_jansen_rit_coupling", (v_sq, w_sq), {}, "defaults")
    add("sigmoidal_jansen_rit_coupling", (v_sq, w_sq), dict(k=3.0, cmin=0.001, cmax=0.006, midpoint=5.0, r=0.7),
        "cmin > 0")
    add("hyperbolic_tangent_coupling", (x_sq, w_sq), {}, "defaults")
    add("hyperbolic_tangent_coupling", (x_ns, w_ns), dict(k=1.2, scale=0.8), "non-square")
    cls = brainmass.HyperbolicTangentCoupling(lambda: jnp.asarray(x_sq), jnp.asarray(w_sq), k=0.9, scale=1.7)
    cases.append({"function": "HyperbolicTangentCoupling", "args": [x_sq.tolist(), w_sq.tolist()],
                  "kwargs": dict(k=0.9, scale=1.7), "note": "class, called", "out": mag(cls())})
    return cases


def _slope(series, dt_ms):
    from scipy.signal import welch
    f, p = welch(series, fs=1.0 / dt_ms, nperseg=512, axis=0)
    keep = (f > 4 * f[1]) & (f < 0.4 / dt_ms)
    return float(np.polyfit(np.log(f[keep]), np.log(p[keep].mean(axis=-1)), 1)[0])


def noise_cases():
    out = {}
    brainstate.random.seed(1)
    for cls in ("WhiteNoise", "PinkNoise", "BlueNoise", "VioletNoise", "BrownianNoise"):
        with brainstate.environ.context(dt=0.1 * u.ms):
            nz = getattr(brainmass, cls)(64, sigma=1.0 * u.nA)
            brainstate.nn.init_all_states(nz)
            xs = np.asarray(brainstate.transform.for_loop(lambda i: u.get_magnitude(nz.update()), np.arange(4096)))
        out[cls] = {"psd_slope_over_time": round(_slope(xs, 0.1), 3),
                    "beta": getattr(nz, "beta", None), "std": round(float(xs.std()), 4)}
    return out


def utility_cases():
    """list_models, sigmoid, bounded_input, sys2nd, delay_index, laplacian_connectivity and
    LeadfieldReadout at fixed inputs."""
    rng = np.random.default_rng(5)
    x = np.round(rng.uniform(-10.0, 20.0, size=6), 3)
    W = np.round(rng.uniform(0.0, 1.0, size=(4, 4)), 3)
    W[0, 1] = W[1, 0] = 0.0
    lm = np.round(rng.normal(size=(5, 4)), 3)
    src = np.round(rng.normal(size=(3, 4)), 3)
    out = {
        "list_models": [list(m) for m in brainmass.list_models()],
        "x": x.tolist(),
        "sigmoid": mag(brainmass.sigmoid(jnp.asarray(x), 0.005, 6.0, 0.56)),
        "bounded_input": mag(brainmass.bounded_input(jnp.asarray(x * 40.0), 300.0)),
        "sys2nd": mag(brainmass.sys2nd(3.25, 0.1, jnp.asarray(x), jnp.asarray(x[::-1]), jnp.asarray(x * 0.5))),
        "delay_index_3": np.asarray(brainmass.delay_index(3)).tolist(),
        "W": W.tolist(),
        "laplacian": {str(n): mag(brainmass.laplacian_connectivity(jnp.asarray(W), normalize=n))
                      for n in (None, "rw", "sym")},
        "lm": lm.tolist(), "sources": src.tolist(), "leadfield": {},
    }
    # KuramotoNetwork: 200 steps of 0.05 ms from fixed phases (its step freezes the coupling over
    # the step, then exp_euler on a drift that does not depend on theta: forward Euler)
    omega = np.round(rng.uniform(0.01, 0.05, size=4), 4)
    theta0 = np.round(rng.uniform(0.0, 6.0, size=4), 3)
    kn = {}
    for label, kw in (("all_to_all", dict(K=0.4, alpha=0.3)),
                      ("conn", dict(K=0.7, alpha=-0.2, conn=jnp.asarray(W), normalize_by_n=False,
                                    exclude_self=False))):
        with brainstate.environ.context(dt=DT_MS * u.ms):
            net = brainmass.KuramotoNetwork(4, omega=jnp.asarray(omega), init_theta=lambda s, **k: jnp.asarray(theta0), **kw)
            brainstate.nn.init_all_states(net)
            traj = brainstate.transform.for_loop(lambda i: net.update(), np.arange(N_STEPS))
        kn[label] = {"kwargs": {k: (v if not hasattr(v, "shape") else "W") for k, v in kw.items()},
                     "theta": mag(np.asarray(traj)[RECORD_EVERY - 1::RECORD_EVERY])}
    out["kuramoto_network"] = {"omega": omega.tolist(), "theta0": theta0.tolist(), "dt_ms": DT_MS,
                               "record_every": RECORD_EVERY, "n_steps": N_STEPS, "cases": kn}
    for norm in (True, "l2", False):
        for demean in (True, False):
            r = brainmass.LeadfieldReadout(jnp.asarray(lm), y0=brainstate.nn.Param(0.3),
                                           cy0=brainstate.nn.Param(1.7), normalize=norm, demean=demean)
            out["leadfield"][f"{norm}-{demean}"] = mag(r.update(jnp.asarray(src)))
    return out


# --------------------------------------------------------------------------- HORN and XY_Oscillator
def horn_weight(shape, phase=0.3):
    """Deterministic weights for the HORN records: 0.6 sin(1.3 k + phase) / sqrt(shape[0]) over the
    flat index k = 0, 1, ... (the test builds the same arrays with the same formula)."""
    size = int(np.prod(shape))
    return jnp.asarray(0.6 * np.sin(1.3 * np.arange(size) + phase).reshape(shape) / np.sqrt(shape[0]))


def horn_bias(shape):
    """Deterministic biases for the HORN records: 0.1 cos(0.7 k)."""
    return jnp.asarray(0.1 * np.cos(0.7 * np.arange(int(np.prod(shape)))).reshape(shape))


HORN_KW = dict(alpha=0.5, omega=0.4, gamma=0.05, v=0.3)


def horn_cases():
    """HORNStep stepped with a fixed input sequence; HORNSeqLayer (with and without recurrent
    delays) and HORNSeqNetwork forward passes on a fixed input sequence with the fixed weights of
    ``horn_weight``/``horn_bias``; a user subclass of XY_Oscillator (a damped rotation) run with
    each integrator. dt = 1 ms (brainmass's HORN step is h = dt/ms); float64."""
    out = {"kwargs": HORN_KW, "dt_ms": 1.0, "weight": "0.6 sin(1.3 k + phase) / sqrt(shape[0])",
           "bias": "0.1 cos(0.7 k)"}
    rng = np.random.default_rng(31)
    T = 40
    drive = np.round(rng.normal(size=(T, 4)), 3)
    x0, y0 = np.round(rng.normal(size=4), 3), np.round(rng.normal(size=4), 3)
    with brainstate.environ.context(dt=1.0 * u.ms):
        m = brainmass.HORNStep(4, **HORN_KW, x_init=lambda s: jnp.asarray(x0), y_init=lambda s: jnp.asarray(y0))
        brainstate.nn.init_all_states(m)
        traj = brainstate.transform.for_loop(lambda i: (m.update(jnp.asarray(drive)[i]), m.y.value), np.arange(T))
    out["step"] = {"x0": x0.tolist(), "y0": y0.tolist(), "inputs": drive.tolist(),
                   "x": mag(traj[0]), "y": mag(traj[1])}

    seq = np.round(rng.normal(size=(T, 3)), 3)
    out["sequence"] = seq.tolist()
    delay = rng.integers(0, 4, size=(4, 4)).astype(float)
    out["delay_ms"] = delay.tolist()
    layers = {}
    for label, kw in (("plain", {}), ("delayed", dict(delay=jnp.asarray(delay) * u.ms))):
        with brainstate.environ.context(dt=1.0 * u.ms):
            layer = brainmass.HORNSeqLayer(3, 4, **HORN_KW, rec_w_init=lambda s: horn_weight(s, 0.9),
                                           rec_b_init=horn_bias, inp_w_init=horn_weight, inp_b_init=horn_bias, **kw)
            brainstate.nn.init_all_states(layer)
            st, xs = layer.update(jnp.asarray(seq), record_state=True)
        layers[label] = {"x": mag(xs), "y": mag(st["y"])}
    out["layer"] = layers
    with brainstate.environ.context(dt=1.0 * u.ms):
        net = brainmass.HORNSeqNetwork(3, [4, 5], 2, **HORN_KW, rec_w_init=lambda s: horn_weight(s, 0.9),
                                       rec_b_init=horn_bias, inp_w_init=horn_weight, inp_b_init=horn_bias)
        brainstate.nn.init_all_states(net)
        o = net.update(jnp.asarray(seq))
        brainstate.nn.init_all_states(net)
        hidden = net.hidden_activation(jnp.asarray(seq))
    out["network"] = {"n_hidden": [4, 5], "n_output": 2, "output": mag(o), "hidden": [mag(h) for h in hidden]}

    class DampedRotation(brainmass.XY_Oscillator):
        def __init__(self, in_size, g=0.2, w=0.5, **kw):
            super().__init__(in_size, **kw)
            self.g, self.w = g, w

        def dx(self, x, y, x_ext):
            return (-self.g * x - self.w * y + x_ext) / u.ms

        def dy(self, y, x, y_ext):
            return (self.w * x - self.g * y + x * x * 0.1 + y_ext) / u.ms

    xy = {"equations": "dx = -g x - w y + x_ext, dy = w x - g y + 0.1 x^2 + y_ext (per ms)",
          "g": 0.2, "w": 0.5, "init": [0.5, -0.2], "inputs": [0.1, -0.05], "dt_ms": DT_MS,
          "n_steps": N_STEPS, "record_every": RECORD_EVERY, "runs": {}}
    for method in ("exp_euler", "euler", "rk2"):
        with brainstate.environ.context(dt=DT_MS * u.ms):
            osc = DampedRotation(1, method=method, init_x=lambda s: jnp.full(s, 0.5),
                                 init_y=lambda s: jnp.full(s, -0.2))
            brainstate.nn.init_all_states(osc)
            tr = brainstate.transform.for_loop(lambda i: osc.update(0.1, -0.05), np.arange(N_STEPS))
        xy["runs"][method] = {"x": mag(tr[0][RECORD_EVERY - 1::RECORD_EVERY, 0]),
                              "y": mag(tr[1][RECORD_EVERY - 1::RECORD_EVERY, 0])}
    out["xy_oscillator"] = xy
    return out


DT_TR_MS = 0.125


def jansen_rit_tr_cases():
    """JansenRitTR: 3 regions, symmetric sc and w_ll (brainmass does not symmetrise w_ll: its
    transpose over axes (0, 1) is the identity), delays in TRs, 20 TRs of 1 ms at dt = 0.1 ms with a
    fixed input (and a second run with delay_init = 0.5 mV and input given per step); the
    normalised lateral weights brainmass builds from an asymmetric w_ll. dt = 0.125 ms, a binary
    fraction: brainmass reads ``delay * dt`` back as a number of steps, and in float64 3 * 0.1 ms
    is 0.30000000000000004 ms, which it reads as 4 TRs."""
    rng = np.random.default_rng(41)
    n = 3
    sc = np.round(rng.uniform(0.2, 1.0, size=(n, n)), 3)
    sc = 0.5 * (sc + sc.T)
    np.fill_diagonal(sc, 0.0)
    delay = np.array([[0.0, 1.0, 3.0], [2.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    w_ll = np.round(rng.normal(size=(n, n)) * 0.3, 3)
    w_ll = 0.5 * (w_ll + w_ll.T)
    w_ff = np.round(rng.normal(size=(n, n)) * 0.3, 3)
    w_bb = np.round(rng.normal(size=(n, n)) * 0.3, 3)
    gains = dict(k=2.0, g_l=400.0, g_f=300.0, g_b=200.0)
    inp = np.array([1.5, -0.5, 3.0])
    n_tr = 20
    out = {"sc": sc.tolist(), "delay": delay.tolist(), "w_ll": w_ll.tolist(), "w_ff": w_ff.tolist(),
           "w_bb": w_bb.tolist(), "gains": gains, "input": inp.tolist(), "n_tr": n_tr, "tr_ms": 1.0,
           "dt_ms": DT_TR_MS, "runs": {}}
    for label, delay_init, iterate in (("constant_input", 0.0, False), ("delay_init", 0.5, True)):
        with brainstate.environ.context(dt=DT_TR_MS * u.ms):
            m = brainmass.JansenRitTR(n, delay=jnp.asarray(delay), sc=jnp.asarray(sc), w_ll=jnp.asarray(w_ll),
                                      w_ff=jnp.asarray(w_ff), w_bb=jnp.asarray(w_bb), tr=1.0 * u.ms,
                                      delay_init=braintools.init.Constant(delay_init), **gains)
            brainstate.nn.init_all_states(m)
            acts, Ms = [], []
            for i in range(n_tr):
                x = jnp.tile(jnp.asarray(inp) * (1.0 + 0.1 * i), (8, 1)) if iterate else jnp.asarray(inp)
                a, st = m.update(x, record_state=True, iter_input=iterate)
                acts.append(mag(a))
                Ms.append(mag(st["M"], u.mV))
        out["runs"][label] = {"delay_init": delay_init, "iter_input": iterate,
                              "input_scale": "input * (1 + 0.1 i) at TR i" if iterate else "constant",
                              "activity": acts, "M": Ms}
    w_asym = np.round(rng.normal(size=(n, n)) * 0.5, 3)
    with brainstate.environ.context(dt=DT_TR_MS * u.ms):
        m = brainmass.JansenRitTR(n, delay=jnp.asarray(delay), sc=jnp.asarray(sc), w_ll=jnp.asarray(w_asym),
                                  w_ff=jnp.asarray(w_ff), w_bb=jnp.asarray(w_bb), **gains)
        W_l, dg_l = m.conn.w_ll.value()
    out["lateral_from_asymmetric"] = {"w_ll": w_asym.tolist(), "W_l": mag(W_l), "dg_l": mag(dg_l)}
    return out


def wong_wang_step_cases():
    """brainmass's WongWangStep (Wong & Wang 2006 decision circuit, threshold-linear f-I curve):
    rates and drift at fixed states, coherences and noise currents (asymmetric cross-inhibition,
    so J_N12/J_N21 cannot be read the other way round), and noise-free runs of its own update
    (exp_euler, S clipped to [0, 1]) from S = (0.1, 0.05): 400 steps of 0.5 ms at coherence 0.3,
    with those parameters and with brainmass's defaults. Units: currents nA, rates Hz, dS/dt per
    ms, J_A_ext nA/Hz, tau_S ms."""
    kw = dict(theta=0.33 * u.nA, J_N12=0.06 * u.nA, J_N21=0.04 * u.nA, J_A_ext=0.0003 * u.nA / u.Hz,
              I_0=0.32 * u.nA, tau_S=90.0 * u.ms)
    plain = {"theta": 0.33, "J_N12": 0.06, "J_N21": 0.04, "J_A_ext": 0.0003, "I_0": 0.32, "tau_S": 90.0}
    S1, S2 = [0.0, 0.1, 0.4, 0.8], [0.0, 0.3, 0.05, 0.6]
    coh, n1, n2 = [0.0, 0.3, -0.5, 1.0], [0.0, 0.01, -0.02, 0.005], [0.0, -0.01, 0.03, 0.0]
    dt_ms, n_steps = 0.5, 400
    out = {"kwargs": plain, "units": "currents nA, rates Hz, dS/dt per ms, J_A_ext nA/Hz, tau_S ms",
           "S1": S1, "S2": S2, "coherence": coh, "noise_1": n1, "noise_2": n2,
           "dt_ms": dt_ms, "n_steps": n_steps, "record_every": RECORD_EVERY, "init": [0.1, 0.05],
           "run_coherence": 0.3, "runs": {}}
    with brainstate.environ.context(dt=dt_ms * u.ms):
        m = brainmass.WongWangStep(4, **kw)
        brainstate.nn.init_all_states(m)
        m.S1.value, m.S2.value = jnp.asarray(S1), jnp.asarray(S2)
        I1, I2 = m.compute_inputs(jnp.asarray(coh), jnp.asarray(n1) * u.nA, jnp.asarray(n2) * u.nA)
        r1, r2 = m.phi(I1), m.phi(I2)
        out["r1"], out["r2"] = mag(r1, u.Hz), mag(r2, u.Hz)
        out["dS1"] = mag(m.dS1_dt(m.S1.value, r1), u.ms ** -1)
        out["dS2"] = mag(m.dS2_dt(m.S2.value, r2), u.ms ** -1)
        for label, kwargs in (("given", kw), ("defaults", {})):
            m = brainmass.WongWangStep(1, **kwargs)
            brainstate.nn.init_all_states(m)
            m.S1.value, m.S2.value = jnp.asarray([0.1]), jnp.asarray([0.05])

            def step(i):
                r1, r2 = m.update(coherence=0.3)
                return m.S1.value, m.S2.value, r1, r2

            traj = brainstate.transform.for_loop(step, np.arange(n_steps))
            sl = slice(RECORD_EVERY - 1, None, RECORD_EVERY)
            out["runs"][label] = {"S1": mag(traj[0][sl, 0]), "S2": mag(traj[1][sl, 0]),
                                  "r1": mag(traj[2][sl, 0], u.Hz), "r2": mag(traj[3][sl, 0], u.Hz),
                                  "decision": int(np.asarray(m.get_decision())[0])}
    return out


def keyword_cases():
    """brainmass's keyword names where neuralmass's tables name the parameters otherwise."""
    import braintools

    out = {}
    # Jansen-Rit: states M, E, I (mV) and Mv, Ev, Iv (recorded in mV/ms), inputs M_inp (mV),
    # E_inp (Hz), I_inp (mV); derivatives of M.. in mV/ms, of Mv.. in mV/ms^2
    kw = dict(Ae=3.5 * u.mV, Ai=20.0 * u.mV, be=90.0 * u.Hz, bi=55.0 * u.Hz, C=130.0, s_max=6.0 * u.Hz,
              v0=6.5 * u.mV, r=0.6)
    pts = [[0.5, 2.0, -1.0, 8.0], [3.0, 12.0, 0.0, 25.0], [4.0, 9.0, 2.0, 16.0],
           [0.01, -0.2, 0.5, 0.1], [0.3, 0.1, -0.4, 1.2], [-0.05, 0.2, 0.08, 0.0]]
    inputs = [[0.0, 1.0, -2.0, 3.0], [0.0, 120.0, 220.0, 320.0], [0.0, -1.5, 2.0, 0.5]]
    vel = u.mV / u.ms
    with brainstate.environ.context(dt=DT_MS * u.ms):
        m = brainmass.JansenRitStep(4, **kw)
        brainstate.nn.init_all_states(m)
        state = tuple(jnp.asarray(p) * (u.mV if i < 3 else vel) for i, p in enumerate(pts))
        d = m.derivative(state, 0.0 * u.ms, jnp.asarray(inputs[0]) * u.mV, jnp.asarray(inputs[1]) * u.Hz,
                         jnp.asarray(inputs[2]) * u.mV)
        jr = {"kwargs": {"Ae": 3.5, "Ai": 20.0, "be": 90.0, "bi": 55.0, "C": 130.0, "s_max": 6.0, "v0": 6.5,
                         "r": 0.6},
              "units": "Ae, Ai, v0 mV; be, bi, s_max Hz; M..I mV, Mv..Iv mV/ms",
              "states": ["M", "E", "I", "Mv", "Ev", "Iv"], "points": pts, "inputs": inputs,
              "derivative": [mag(di, vel if i < 3 else vel / u.ms) for i, di in enumerate(d)],
              "init": {"M": 0.2, "E": 1.0, "I": 0.5, "Mv": 0.01}, "run_inputs": [0.5, 220.0, -0.3],
              "dt_ms": DT_MS, "n_steps": N_STEPS, "record_every": RECORD_EVERY, "runs": {}}
        for method in ("exp_euler", "euler", "rk2"):
            m = brainmass.JansenRitStep(1, method=method, M_init=braintools.init.Constant(0.2 * u.mV),
                                        E_init=braintools.init.Constant(1.0 * u.mV),
                                        I_init=braintools.init.Constant(0.5 * u.mV),
                                        Mv_init=braintools.init.Constant(10.0 * u.mV / u.second), **kw)
            brainstate.nn.init_all_states(m)
            ext = (0.5 * u.mV, 220.0 * u.Hz, -0.3 * u.mV)

            def step(i):
                m.update(*ext)
                return m.M.value, m.E.value, m.I.value

            traj = brainstate.transform.for_loop(step, np.arange(N_STEPS))
            jr["runs"][method] = {s: mag(t[RECORD_EVERY - 1::RECORD_EVERY, 0], u.mV) for s, t in zip("MEI", traj)}
        out["JansenRitStep"] = jr
        # LinearStep: dx/dt = gamma x + x_inp (exp_euler is exact)
        m = brainmass.LinearStep(1, gamma=-0.5, init_x=braintools.init.Constant(0.3))
        brainstate.nn.init_all_states(m)
        traj = brainstate.transform.for_loop(lambda i: (m.update(0.2), m.x.value)[1], np.arange(N_STEPS))
        out["LinearStep"] = {"kwargs": {"gamma": -0.5}, "init_x": 0.3, "x_inp": 0.2, "dt_ms": DT_MS,
                             "record_every": RECORD_EVERY,
                             "x": mag(np.asarray(traj)[RECORD_EVERY - 1::RECORD_EVERY, 0])}
    # coupling classes with brainmass's keywords (square connectivity, delayed sources (n, n))
    rng = np.random.default_rng(11)
    W = np.round(rng.uniform(0.0, 1.0, size=(3, 3)), 3)
    X = np.round(rng.uniform(2.0, 9.0, size=(3, 3)), 3)
    classes = {"AdditiveCoupling": dict(k=0.7, b=0.3),
               "SigmoidalCoupling": dict(k=0.7, a=0.15, b=-0.5, slope=0.8, midpoint=0.4),
               "SigmoidalJansenRitCoupling": dict(k=0.7, cmin=0.001, cmax=0.006, midpoint=5.5, r=0.5)}
    out["couplings"] = {"conn": W.tolist(), "x": X.tolist(), "cases": {
        n: {"kwargs": ckw, "out": mag(getattr(brainmass, n)(lambda: jnp.asarray(X), jnp.asarray(W), **ckw).update())}
        for n, ckw in classes.items()}}
    return out


def module_cases():
    """``{submodule: its __all__}`` for every public submodule of brainmass (``brainmass.hopf``, ...)."""
    mods = {n: getattr(brainmass, n) for n in dir(brainmass)
            if not n.startswith("_") and inspect.ismodule(getattr(brainmass, n))}
    return {n: list(getattr(m, "__all__", ())) for n, m in sorted(mods.items())}


def main():
    jax.config.update("jax_enable_x64", True)
    brainstate.environ.set(precision=64)
    names = sorted(n for n in dir(brainmass) if not n.startswith("_"))
    sigs = {}
    for n in names:
        obj = getattr(brainmass, n)
        if callable(obj) and not inspect.ismodule(obj):
            sigs[n] = signature(obj)
    kinds = {n: ("module" if inspect.ismodule(getattr(brainmass, n)) else
                 "class" if isinstance(getattr(brainmass, n), type) else
                 "function" if callable(getattr(brainmass, n)) else type(getattr(brainmass, n)).__name__)
             for n in names}
    models = {label: model_case(label, spec) for label, spec in CASES.items()}
    hrf, couplings, noise, utils = hrf_cases(), coupling_cases(), noise_cases(), utility_cases()
    doc = {"brainmass_version": brainmass.__version__, "python": sys.version.split()[0],
           "units": {"MontbrioPazoRoxinStep": "r in Hz, dr/dt in Hz/ms; other models dimensionless, d/dt per ms"},
           "names": names, "kinds": kinds, "signatures": sigs, "models": models,
           "hrf": hrf, "couplings": couplings, "noise": noise, "utils": utils,
           "wilson_cowan_variants": wilson_cowan_variant_cases(), "modules": module_cases(),
           "keywords": keyword_cases()}
    doc["horn"] = horn_cases()
    doc["jansen_rit_tr"] = jansen_rit_tr_cases()
    doc["wong_wang_step"] = wong_wang_step_cases()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(names)} names)")


if __name__ == "__main__":
    main()
