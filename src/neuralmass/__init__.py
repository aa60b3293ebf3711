"""neuralmass: differentiable whole-brain modeling with neural mass models.

Pipeline: connectome -> network (node model x coupling x delays x noise) -> simulate -> monitors
-> forward models (BOLD, EEG, MEG) -> analysis (FC, FCD, spectra) -> objectives -> fit / infer.
"""

__version__ = "0.1.0"

from . import datasets, forward, integrators, monitors, noise, units
from .forward import (BOLDMonitor, BOLDSignal, EEGLeadFieldModel, LeadFieldModel, MEGLeadFieldModel,
                      hrf_bold, simulate_bold)
from .network.connectome import Connectome
from .params import Param
from .models import (HOPF, JANSEN_RIT, LINEAR, MODELS, LinearStep, WILSON_COWAN, WONG_WANG, HopfModel, HopfStep,
                     JansenRitModel, JansenRitStep, NodeModel, WilsonCowanModel, WilsonCowanStep,
                     WongWangModel, WongWangStep)
from .monitors import Monitor, Raw, TemporalAverage
from .noise import GaussianNoise, OUProcess, WhiteNoise
from .simulate import NodeSystem, SimulationDiverged, Simulator, make_run_fn
from .network import (AdditiveCoupling, DiffusiveCoupling, LinearCoupling, Network, SigmoidalCoupling,
                      SigmoidalJansenRitCoupling, TanhCoupling)

__all__ = [
    "Simulator", "NodeSystem", "SimulationDiverged", "make_run_fn",
    "WilsonCowanStep", "WilsonCowanModel", "JansenRitStep", "JansenRitModel", "WongWangModel",
    "WongWangStep", "HopfStep", "HopfModel", "NodeModel", "MODELS",
    "HOPF", "JANSEN_RIT", "LINEAR", "LinearStep", "WILSON_COWAN", "WONG_WANG",
    "OUProcess", "WhiteNoise", "GaussianNoise", "Monitor", "Raw", "TemporalAverage",
    "Connectome", "Network", "DiffusiveCoupling", "LinearCoupling", "AdditiveCoupling",
    "SigmoidalCoupling", "SigmoidalJansenRitCoupling", "TanhCoupling", "Param", "datasets", "integrators", "monitors", "noise", "units",
]
