"""Node models: one declarative table and one pure drift per model, plus generated modules."""

from .base import InputVar, NodeModel, Observable, Parameter, StateVar
from .hopf import HOPF
from .jansen_rit import JANSEN_RIT
from .linear import LINEAR
from .module import NodeModule, make_node_module
from .wilson_cowan import WILSON_COWAN
from .wong_wang import WONG_WANG

MODELS = {m.name: m for m in (HOPF, JANSEN_RIT, WILSON_COWAN, WONG_WANG, LINEAR)}

WilsonCowanStep = make_node_module(WILSON_COWAN, "WilsonCowanStep", "Wilson–Cowan E/I node population.")
WilsonCowanModel = WilsonCowanStep
JansenRitStep = make_node_module(JANSEN_RIT, "JansenRitStep", "Jansen–Rit cortical column population.")
JansenRitModel = JansenRitStep
WongWangModel = make_node_module(WONG_WANG, "WongWangModel", "Reduced Wong–Wang E/I node population.")
WongWangStep = WongWangModel
HopfStep = make_node_module(HOPF, "HopfStep", "Hopf normal form (Stuart–Landau) node population.")
HopfModel = HopfStep
LinearStep = make_node_module(LINEAR, "LinearStep", "Leaky linear node population.")

#: the stateful module class of every registered model (one class per model)
MODULES = {HOPF.name: HopfStep, JANSEN_RIT.name: JansenRitStep, WILSON_COWAN.name: WilsonCowanStep,
           WONG_WANG.name: WongWangModel, LINEAR.name: LinearStep}


def module_class(model) -> type:
    """The stateful module class of ``model`` (a NodeModel or a registered name); generated once."""
    if isinstance(model, str):
        if model not in MODELS:
            raise KeyError(f"unknown model {model!r}; known: {', '.join(sorted(MODELS))}")
        model = MODELS[model]
    cls = MODULES.get(model.name)
    if cls is None or cls.model is not model:
        cls = MODULES[model.name] = make_node_module(model, f"{model.name}Module")
    return cls

__all__ = [
    "Parameter", "StateVar", "InputVar", "Observable", "NodeModel", "NodeModule", "make_node_module",
    "HOPF", "JANSEN_RIT", "LINEAR", "LinearStep", "WILSON_COWAN", "WONG_WANG", "MODELS",
    "WilsonCowanStep", "WilsonCowanModel", "JansenRitStep", "JansenRitModel", "WongWangModel",
    "WongWangStep", "HopfStep", "HopfModel", "MODULES", "module_class",
]
