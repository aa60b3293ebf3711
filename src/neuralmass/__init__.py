"""neuralmass: differentiable whole-brain modeling with neural mass models.

Pipeline: connectome -> network (node model x coupling x delays x noise) -> simulate -> monitors
-> forward models (BOLD, EEG, MEG) -> analysis (FC, FCD, spectra) -> objectives -> fit / infer.

The names of the seed documents work with ``import neuralmass as brainmass``.
"""

import importlib as _importlib

import jax as _jax

__version__ = "0.1.0"

# brainevent (imported by brainstate) makes its kernel cache at import, by default in the user's
# home cache folder; keep it in the library's cache folder (a BRAINEVENT_CACHE_DIR set by the user
# wins; an earlier import of brainstate by the user has already chosen)
import os as _os  # noqa: E402

from .compilation_cache import cache_dir as _cache_dir  # noqa: E402

_os.environ.setdefault("BRAINEVENT_CACHE_DIR", str(_cache_dir() / "brainevent"))

# brainstate sets JAX's float64 mode when it is imported; keep the user's choice instead
_X64 = bool(_jax.config.jax_enable_x64)
import brainstate as _brainstate  # noqa: E402,F401

_jax.config.update("jax_enable_x64", _X64)

from . import datasets, forward, integrators, monitors, noise, typing, units
from .forward import (BOLDMonitor, BOLDSignal, EEGLeadFieldModel, LeadFieldModel, MEGLeadFieldModel,
                      hrf_bold, simulate_bold)
from .forward import LeadfieldReadout
from .forward import (DoubleExponentialHRFKernel, FirstOrderVolterraHRFKernel, GammaHRFKernel, HRFBold,
                      HRFKernel, MixtureOfGammasHRFKernel)
from . import models as _models
from .models import HOPF, JANSEN_RIT, LINEAR, MODELS, WILSON_COWAN, WONG_WANG, NodeModel
from .models import ModelInfo, bounded_input, list_models, sigmoid, sys2nd
# every model's module class (HopfStep, JansenRitStep, ...) from the registry (models.REGISTRY)
globals().update({_n: getattr(_models, _n) for _n in _models.MODULE_NAMES})
from .monitors import Monitor, Raw, TemporalAverage, process_sequence
from .network import (AdditiveCoupling, DiffusiveCoupling, LinearCoupling, Network, SigmoidalCoupling,
                      SigmoidalJansenRitCoupling, TanhCoupling, KuramotoCoupling, HyperbolicTangentCoupling,
                      additive_coupling, diffusive_coupling, sigmoidal_coupling,
                      sigmoidal_jansen_rit_coupling, hyperbolic_tangent_coupling, laplacian_connectivity,
                      LaplacianConnParam, delay_index, KuramotoNetwork, HORNSeqLayer, HORNSeqNetwork,
                      JansenRitTR)
from .network.connectome import Connectome
from .noise import (BlueNoise, BrownianNoise, ColoredNoise, GaussianNoise, Noise, OUProcess, PinkNoise,
                    VioletNoise, WhiteNoise)
from .params import Param
from .typing import Array, Initializer, Parameter
from .engine import NodeSystem, SimulationDiverged, Simulator, make_run_fn

# modules with optional or heavier dependencies load on first use
_LAZY_MODULES = ("analysis", "objectives", "viz", "fit", "inference", "io", "config", "study", "cli",
                 "stimulus")
_LAZY_NAMES = {"Fitter": "fit", "FitResult": "fit", "SearchSpace": "fit"}

# brainmass's submodule paths (neuralmass.hopf, neuralmass.wilson_cowan, ...): made on first use
from .compat.modules import BRAINMASS_MODULES as _BRAINMASS_MODULES, install as _install_aliases  # noqa: E402

_install_aliases()


def __getattr__(name):
    if name in _LAZY_MODULES or name in _BRAINMASS_MODULES:
        return _importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(_importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'neuralmass' has no attribute {name!r}")


__all__ = [
    "Simulator", "NodeSystem", "SimulationDiverged", "make_run_fn",
    *_models.MODULE_NAMES, "NodeModel", "MODELS", "HOPF", "JANSEN_RIT", "LINEAR", "WILSON_COWAN", "WONG_WANG",
    "OUProcess", "WhiteNoise", "GaussianNoise", "Noise", "ColoredNoise", "PinkNoise", "BlueNoise",
    "VioletNoise", "BrownianNoise", "Monitor", "Raw", "TemporalAverage",
    "Connectome", "Network", "DiffusiveCoupling", "LinearCoupling", "AdditiveCoupling",
    "SigmoidalCoupling", "SigmoidalJansenRitCoupling", "TanhCoupling", "KuramotoCoupling", "Param",
    "HyperbolicTangentCoupling", "additive_coupling", "diffusive_coupling", "sigmoidal_coupling",
    "sigmoidal_jansen_rit_coupling", "hyperbolic_tangent_coupling", "laplacian_connectivity",
    "LaplacianConnParam", "delay_index", "LeadfieldReadout", "ModelInfo", "list_models", "sigmoid",
    "sys2nd", "bounded_input", "process_sequence", "KuramotoNetwork", "HORNSeqLayer", "HORNSeqNetwork", "JansenRitTR", "Array", "Initializer", "Parameter",
    "typing",
    "BOLDMonitor", "BOLDSignal", "LeadFieldModel", "EEGLeadFieldModel", "MEGLeadFieldModel",
    "hrf_bold", "simulate_bold", "HRFKernel", "HRFBold", "FirstOrderVolterraHRFKernel",
    "GammaHRFKernel", "DoubleExponentialHRFKernel", "MixtureOfGammasHRFKernel", "Fitter", "FitResult", "SearchSpace",
    "datasets", "forward", "integrators", "monitors", "noise", "units", *_LAZY_MODULES,
]
