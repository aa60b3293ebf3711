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

__all__ = ["BRAINMASS_VERSION", "BRAINMASS_NAMES", "accepted_keywords", "provided"]

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
    "Simulator": "run(transient=) is a time (a plain number is ms), never a step count; "
                 "run(init_states=) is not taken",
}


def _module_keywords(cls) -> set[str]:
    M = cls.model
    out = {"in_size", "method", "name"}
    out |= set(M.param_names)
    out |= set(M.extra.get("aliases", {}))
    out |= {f"init_{s}" for s in M.state_names} | {f"{s}_init" for s in M.state_names}
    out |= {f"noise_{s}" for s in M.extra.get("noise_slots", {})}
    if "translate" in M.extra and M.name == "MontbrioPazoRoxin":
        out.add("delta")
    variant = M.extra.get("variant")
    if variant is not None:
        out |= set(variant[0]) | _module_keywords(variant[1]())
    return out


def accepted_keywords(obj) -> set[str] | None:
    """Keyword names ``obj`` (a class or function of neuralmass) accepts; ``None`` when it takes
    any keyword (``**kwargs`` that is not a node module's table)."""
    from ..models.module import NodeModule

    if isinstance(obj, type) and issubclass(obj, NodeModule):
        return _module_keywords(obj)
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
