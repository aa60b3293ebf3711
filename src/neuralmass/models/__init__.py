"""Node models: one declarative table and one pure drift per model, plus generated modules."""

from typing import NamedTuple

from .base import InputVar, NodeModel, Observable, Parameter, StateVar
from .coombes_byrne import COOMBES_BYRNE
from .epileptor import EPILEPTOR, EPILEPTOR_2D
from .fitzhugh_nagumo import FITZHUGH_NAGUMO
from .fitzhugh_nagumo_cubic import FITZHUGH_NAGUMO_CUBIC
from .generic_2d import GENERIC_2D
from .hopf import HOPF
from .jansen_rit import JANSEN_RIT, bounded_input, sigmoid, sys2nd
from .kuramoto import KURAMOTO
from .larter_breakspear import LARTER_BREAKSPEAR
from .linear import LINEAR
from .lorenz import LORENZ
from .module import NodeModule, make_node_module
from .montbrio import MONTBRIO_PAZO_ROXIN
from .stuart_landau import STUART_LANDAU
from .threshold_linear import THRESHOLD_LINEAR
from .van_der_pol import VAN_DER_POL
from .wendling import WENDLING
from .wilson_cowan import WILSON_COWAN
from .wilson_cowan_linear import WILSON_COWAN_LINEAR
from .wilson_cowan_no_saturation import WILSON_COWAN_NO_SATURATION
from .wilson_cowan_simplified import WILSON_COWAN_SIMPLIFIED
from .wilson_cowan_symmetric import WILSON_COWAN_SYMMETRIC
from .wong_wang import WONG_WANG
from .wong_wang_fic import UnstableFixedPointWarning, feedback_inhibition_control, fic_max_real_eigenvalue

MODELS = {m.name: m for m in (HOPF, JANSEN_RIT, WILSON_COWAN, WONG_WANG, LINEAR, MONTBRIO_PAZO_ROXIN,
                              COOMBES_BYRNE, FITZHUGH_NAGUMO, KURAMOTO, GENERIC_2D, EPILEPTOR,
                              EPILEPTOR_2D, LARTER_BREAKSPEAR, WENDLING, STUART_LANDAU, VAN_DER_POL,
                              THRESHOLD_LINEAR, FITZHUGH_NAGUMO_CUBIC, LORENZ, WILSON_COWAN_NO_SATURATION,
                              WILSON_COWAN_SYMMETRIC, WILSON_COWAN_SIMPLIFIED, WILSON_COWAN_LINEAR)}

WilsonCowanStep = make_node_module(WILSON_COWAN, "WilsonCowanStep", "Wilson–Cowan E/I node population.")
WilsonCowanModel = WilsonCowanStep
JansenRitStep = make_node_module(JANSEN_RIT, "JansenRitStep", "Jansen–Rit cortical column population.")
JansenRitModel = JansenRitStep
WongWangModel = make_node_module(WONG_WANG, "WongWangModel", "Reduced Wong–Wang E/I node population.")
WongWangStep = WongWangModel
WongWangExcInhStep = make_node_module(WONG_WANG, "WongWangExcInhStep",
                                      "Reduced Wong–Wang E/I node population (Deco et al. 2014), TVB's "
                                      "and brainmass's parameter names accepted.")
HopfStep = make_node_module(HOPF, "HopfStep", "Hopf normal form (Stuart–Landau) node population.")
HopfModel = HopfStep
LinearStep = make_node_module(LINEAR, "LinearStep", "Leaky linear node population.")
MontbrioPazoRoxinStep = make_node_module(MONTBRIO_PAZO_ROXIN, "MontbrioPazoRoxinStep",
                                         "Montbrió–Pazó–Roxin QIF mean-field node population.")
CoombesByrneStep = make_node_module(COOMBES_BYRNE, "CoombesByrneStep",
                                    "Coombes–Byrne next-generation neural mass node population.")
FitzHughNagumoStep = make_node_module(FITZHUGH_NAGUMO, "FitzHughNagumoStep", "FitzHugh–Nagumo node population.")
KuramotoStep = make_node_module(KURAMOTO, "KuramotoStep", "Kuramoto phase oscillator population.")
Generic2dOscillatorStep = make_node_module(GENERIC_2D, "Generic2dOscillatorStep",
                                           "TVB generic 2D oscillator node population.")
EpileptorStep = make_node_module(EPILEPTOR, "EpileptorStep", "Epileptor (6 variables) node population.")
Epileptor2DStep = make_node_module(EPILEPTOR_2D, "Epileptor2DStep", "Two-dimensional Epileptor node population.")
LarterBreakspearStep = make_node_module(LARTER_BREAKSPEAR, "LarterBreakspearStep",
                                        "Larter–Breakspear neural mass node population.")
WendlingStep = make_node_module(WENDLING, "WendlingStep", "Wendling cortical column node population.")
StuartLandauStep = make_node_module(STUART_LANDAU, "StuartLandauStep", "Stuart–Landau oscillator node population.")
VanDerPolStep = make_node_module(VAN_DER_POL, "VanDerPolStep", "Van der Pol oscillator node population.")
ThresholdLinearStep = make_node_module(THRESHOLD_LINEAR, "ThresholdLinearStep",
                                       "Threshold-linear E/I rate node population (Chaudhuri et al. 2015).")
WilsonCowanNoSaturationStep = make_node_module(WILSON_COWAN_NO_SATURATION, "WilsonCowanNoSaturationStep",
                                               "Wilson–Cowan node population without refractoriness.")
WilsonCowanSymmetricStep = make_node_module(WILSON_COWAN_SYMMETRIC, "WilsonCowanSymmetricStep",
                                            "Wilson–Cowan node population, shared time constant and sigmoid.")
WilsonCowanSimplifiedStep = make_node_module(WILSON_COWAN_SIMPLIFIED, "WilsonCowanSimplifiedStep",
                                             "Wilson–Cowan node population, shared weights.")
WilsonCowanLinearStep = make_node_module(WILSON_COWAN_LINEAR, "WilsonCowanLinearStep",
                                         "Wilson–Cowan node population, threshold-linear transfer.")
LorenzStep = make_node_module(LORENZ, "LorenzStep", "Lorenz (1963) system node population.")
FitzHughNagumoCubicStep = make_node_module(FITZHUGH_NAGUMO_CUBIC, "FitzHughNagumoCubicStep",
                                           "FitzHugh–Nagumo node population, general cubic form.")
# FitzHughNagumoStep(alpha=..., init_V=...) builds the cubic form: those names are its parameters
FITZHUGH_NAGUMO.extra["variant"] = (
    frozenset(FITZHUGH_NAGUMO_CUBIC.param_names) - frozenset(FITZHUGH_NAGUMO.param_names)
    | {"init_V", "V_init", "noise_V"}, lambda: FitzHughNagumoCubicStep)

#: the stateful module class of every registered model (one class per model)
MODULES = {HOPF.name: HopfStep, JANSEN_RIT.name: JansenRitStep, WILSON_COWAN.name: WilsonCowanStep,
           WONG_WANG.name: WongWangModel, LINEAR.name: LinearStep,
           MONTBRIO_PAZO_ROXIN.name: MontbrioPazoRoxinStep, COOMBES_BYRNE.name: CoombesByrneStep,
           FITZHUGH_NAGUMO.name: FitzHughNagumoStep, KURAMOTO.name: KuramotoStep,
           GENERIC_2D.name: Generic2dOscillatorStep, EPILEPTOR.name: EpileptorStep,
           EPILEPTOR_2D.name: Epileptor2DStep, LARTER_BREAKSPEAR.name: LarterBreakspearStep,
           WENDLING.name: WendlingStep, STUART_LANDAU.name: StuartLandauStep,
           VAN_DER_POL.name: VanDerPolStep, THRESHOLD_LINEAR.name: ThresholdLinearStep,
           FITZHUGH_NAGUMO_CUBIC.name: FitzHughNagumoCubicStep, LORENZ.name: LorenzStep,
           WILSON_COWAN_NO_SATURATION.name: WilsonCowanNoSaturationStep,
           WILSON_COWAN_SYMMETRIC.name: WilsonCowanSymmetricStep,
           WILSON_COWAN_SIMPLIFIED.name: WilsonCowanSimplifiedStep, WILSON_COWAN_LINEAR.name: WilsonCowanLinearStep}


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
    "MONTBRIO_PAZO_ROXIN", "COOMBES_BYRNE", "FITZHUGH_NAGUMO", "KURAMOTO", "GENERIC_2D", "EPILEPTOR",
    "EPILEPTOR_2D", "LARTER_BREAKSPEAR", "WENDLING", "MontbrioPazoRoxinStep", "CoombesByrneStep",
    "FitzHughNagumoStep", "KuramotoStep", "Generic2dOscillatorStep", "EpileptorStep", "Epileptor2DStep",
    "LarterBreakspearStep", "WendlingStep", "feedback_inhibition_control", "fic_max_real_eigenvalue",
    "UnstableFixedPointWarning",
    "STUART_LANDAU", "VAN_DER_POL", "THRESHOLD_LINEAR", "FITZHUGH_NAGUMO_CUBIC", "StuartLandauStep",
    "VanDerPolStep", "ThresholdLinearStep", "FitzHughNagumoCubicStep", "LORENZ", "LorenzStep", "WongWangExcInhStep",
    "WILSON_COWAN_NO_SATURATION", "WILSON_COWAN_SYMMETRIC", "WILSON_COWAN_SIMPLIFIED", "WILSON_COWAN_LINEAR",
    "WilsonCowanNoSaturationStep", "WilsonCowanSymmetricStep", "WilsonCowanSimplifiedStep",
    "WilsonCowanLinearStep",
    "ModelInfo", "list_models", "sigmoid", "sys2nd", "bounded_input",
]


class ModelInfo(NamedTuple):
    """One registered model: its module class ``name`` (``neuralmass.<name>``), ``category``
    (``'phenomenological'`` or ``'physiological'``), ``n_state_vars`` and ``use_case`` (the model's
    one-line description) — brainmass's catalogue record, read from the model tables."""

    name: str
    category: str
    n_state_vars: int
    use_case: str


def list_models() -> list[ModelInfo]:
    """Every registered model (:data:`MODELS`), as :class:`ModelInfo` records, from the tables."""
    return [ModelInfo(module_class(m).__name__, m.category, len(m.states), m.doc) for m in MODELS.values()]


def _models_table() -> str:
    rows = [("name", "category", "#states", "use_case")]
    rows += [(i.name, i.category, str(i.n_state_vars), i.use_case) for i in list_models()]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)


list_models.to_table = _models_table
