"""brainmass's submodule paths (``brainmass.hopf``, ``from brainmass.coupling import ...``) on neuralmass.

brainmass 0.1.1 lays its code out one module per model (``brainmass.hopf``, ``brainmass.wilson_cowan``,
...); neuralmass groups by layer (``neuralmass.models``, ``neuralmass.network``, ...). With
``import neuralmass as brainmass``, code that reaches a name through brainmass's module path,
``brainmass.hopf.HopfStep(...)``, needs ``neuralmass.hopf``. Each of those paths is a real,
importable module (``import neuralmass.hopf``, ``from neuralmass.hopf import HopfStep``) made on
first use by one import hook, :class:`AliasFinder`, from one table, :data:`BRAINMASS_MODULES`
(module -> the names brainmass's module exports, its ``__all__``, as recorded in
``tests/fixtures/brainmass_0_1_1.json``). An alias module holds nothing of its own: each name is
looked up on ``neuralmass`` when it is read, so a name added to neuralmass later appears in
every alias that lists it; a name neuralmass does not have is an ``AttributeError`` that says so.

Paths that are neuralmass modules of their own (``neuralmass.noise``, ``neuralmass.network``,
``neuralmass.datasets``, ``neuralmass.objectives``, ``neuralmass.viz``, ``neuralmass.typing``) are
those modules, never aliased: a real module always wins over the hook.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import types

__all__ = ["BRAINMASS_MODULES", "AliasFinder", "install"]

_PACKAGE = "neuralmass"

#: brainmass 0.1.1 submodule -> the public names it exports (its ``__all__``)
BRAINMASS_MODULES: dict[str, tuple[str, ...]] = {
    "coombes_byrne": ("CoombesByrneStep",),
    "coupling": ("DiffusiveCoupling", "AdditiveCoupling", "SigmoidalCoupling", "HyperbolicTangentCoupling",
                 "SigmoidalJansenRitCoupling", "diffusive_coupling", "additive_coupling", "sigmoidal_coupling",
                 "hyperbolic_tangent_coupling", "sigmoidal_jansen_rit_coupling", "laplacian_connectivity",
                 "LaplacianConnParam"),
    "epileptor": ("EpileptorStep",),
    "fhn": ("FitzHughNagumoStep",),
    "fitter": ("Fitter", "FitResult"),
    "forward_model": ("BOLDSignal", "LeadFieldModel", "EEGLeadFieldModel", "MEGLeadFieldModel"),
    "generic_2d_oscillator": ("Generic2dOscillatorStep",),
    "hopf": ("HopfStep",),
    "horn": ("HORNStep", "HORNSeqLayer", "HORNSeqNetwork", "HORN_TR", "DelayedAdditiveConnTR",
             "DelayedLaplacianConn", "DelayedLaplacianConnTR", "AdditiveConn", "AdditiveCoupling",
             "DelayedAdditiveConn", "LaplacianConnParam", "additive_coupling"),
    "jansen_rit": ("JansenRitStep", "JansenRitTR", "Identity", "LaplacianConnectivity", "LaplacianConnV2",
                   "JansenRitLayer", "JansenRit2Layer", "JansenRitNetwork"),
    "kuramoto": ("KuramotoNetwork",),
    "larter_breakspear": ("LarterBreakspearStep",),
    "leadfield": ("LeadfieldReadout",),
    "linear": ("ThresholdLinearStep", "LinearStep"),
    "lorenz": ("LorenzStep",),
    "observation": ("HRFKernel", "FirstOrderVolterraHRFKernel", "GammaHRFKernel", "DoubleExponentialHRFKernel",
                    "MixtureOfGammasHRFKernel", "TemporalAverage", "HRFBold"),
    "qif": ("MontbrioPazoRoxinStep",),
    "simulator": ("Simulator",),
    "sl": ("StuartLandauStep",),
    "utils": ("sys2nd", "sigmoid", "bounded_input", "process_sequence", "set_module_as", "delay_index"),
    "vdp": ("VanDerPolStep",),
    "wilson_cowan": ("WilsonCowanBase", "WilsonCowanStep", "WilsonCowanNoSaturationStep",
                     "WilsonCowanSymmetricStep", "WilsonCowanSimplifiedStep", "WilsonCowanLinearStep",
                     "WilsonCowanDivisiveStep", "WilsonCowanDivisiveInputStep", "WilsonCowanDelayedStep",
                     "WilsonCowanAdaptiveStep", "WilsonCowanThreePopBase", "WilsonCowanThreePopulationStep"),
    "wong_wang": ("WongWangStep",),
    "wong_wang_exc_inh": ("WongWangExcInhStep",),
}


class _AliasModule(types.ModuleType):
    """``neuralmass.<brainmass module>``: its names read from ``neuralmass`` on access."""

    def _names(self) -> tuple[str, ...]:
        return BRAINMASS_MODULES[self.__name__.rpartition(".")[2]]

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        short = self.__name__.rpartition(".")[2]
        if name not in self._names():
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r} (brainmass's "
                                 f"{short!r} module exports {', '.join(self._names())}).")
        try:
            return getattr(sys.modules[_PACKAGE], name)
        except AttributeError:
            raise AttributeError(f"{name!r} of brainmass's {short!r} module is not provided by neuralmass "
                                 f"(see docs/brainmass.md, 'Names still missing').") from None

    @property
    def __all__(self) -> list[str]:
        """The names of brainmass's module that neuralmass provides (for ``import *``)."""
        pkg = sys.modules[_PACKAGE]
        return [n for n in self._names() if hasattr(pkg, n)]

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.__all__))


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import hook answering ``neuralmass.<m>`` for ``m`` in :data:`BRAINMASS_MODULES`; consulted
    after the ordinary finders, so a module file of that name would take precedence."""

    def find_spec(self, fullname, path=None, target=None):
        parent, _, short = fullname.rpartition(".")
        if parent == _PACKAGE and short in BRAINMASS_MODULES:
            return importlib.util.spec_from_loader(fullname, self, origin="brainmass alias")
        return None

    def create_module(self, spec):
        return _AliasModule(spec.name, f"brainmass's {spec.name.rpartition('.')[2]!r} module: "
                                       f"its names as provided by neuralmass.")

    def exec_module(self, module):
        return None


def install() -> None:
    """Put the hook on ``sys.meta_path`` (once; after the ordinary finders)."""
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())
