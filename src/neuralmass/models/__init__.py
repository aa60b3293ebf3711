"""Node models: one declarative table and one pure drift per model, plus generated modules."""

from typing import NamedTuple

from .base import InputVar, NodeModel, Observable, Parameter, StateVar
from .coombes_byrne import COOMBES_BYRNE
from .epileptor import EPILEPTOR, EPILEPTOR_2D
from .fitzhugh_nagumo import FITZHUGH_NAGUMO
from .fitzhugh_nagumo_cubic import FITZHUGH_NAGUMO_CUBIC
from .generic_2d import GENERIC_2D
from .hopf import HOPF
from .horn import HORN
from .jansen_rit import JANSEN_RIT, bounded_input, sigmoid, sys2nd
from .kuramoto import KURAMOTO
from .larter_breakspear import LARTER_BREAKSPEAR
from .linear import LINEAR
from .lorenz import LORENZ
from .module import KeywordConventionWarning, NodeModule, make_node_module
from .montbrio import MONTBRIO_PAZO_ROXIN
from .stuart_landau import STUART_LANDAU
from .threshold_linear import THRESHOLD_LINEAR
from .van_der_pol import VAN_DER_POL
from .wendling import WENDLING
from .wilson_cowan import WILSON_COWAN
from .wilson_cowan_adaptive import WILSON_COWAN_ADAPTIVE
from .wilson_cowan_delayed import WILSON_COWAN_DELAYED
from .wilson_cowan_divisive import WILSON_COWAN_DIVISIVE
from .wilson_cowan_divisive_input import WILSON_COWAN_DIVISIVE_INPUT
from .wilson_cowan_linear import WILSON_COWAN_LINEAR
from .wilson_cowan_no_saturation import WILSON_COWAN_NO_SATURATION
from .wilson_cowan_simplified import WILSON_COWAN_SIMPLIFIED
from .wilson_cowan_symmetric import WILSON_COWAN_SYMMETRIC
from .wilson_cowan_three_population import WILSON_COWAN_THREE_POPULATION, WilsonCowanThreePopBase  # noqa: F401 (MODULE_NAMES)
from .wong_wang import WONG_WANG
from .wong_wang_decision import WONG_WANG_DECISION
from .xy_oscillator import XY_OSCILLATOR, XY_Oscillator  # noqa: F401 (exported through MODULE_NAMES)
from .wong_wang_fic import UnstableFixedPointWarning, feedback_inhibition_control, fic_max_real_eigenvalue

#: THE registry: (table, module class name, aliases, one-line description). Adding a model is its
#: file (parameter table + pure drift) and one line here: the module class, ``MODELS``, ``MODULES``,
#: the package's and ``neuralmass``'s namespaces, ``list_models()``, the CLI's and configs' model
#: names and the docs' tables all come from this list.
REGISTRY = (
    (HOPF, "HopfStep", ("HopfModel",), "Hopf normal form (Stuart–Landau) node population."),
    (JANSEN_RIT, "JansenRitStep", ("JansenRitModel",), "Jansen–Rit cortical column population."),
    (WILSON_COWAN, "WilsonCowanStep", ("WilsonCowanModel",), "Wilson–Cowan E/I node population."),
    (WONG_WANG, "WongWangModel", (), "Reduced Wong–Wang E/I node population."),
    (WONG_WANG_DECISION, "WongWangStep", (), "Wong–Wang (2006) two-population decision circuit."),
    (LINEAR, "LinearStep", (), "Leaky linear node population."),
    (MONTBRIO_PAZO_ROXIN, "MontbrioPazoRoxinStep", (), "Montbrió–Pazó–Roxin QIF mean-field node population."),
    (COOMBES_BYRNE, "CoombesByrneStep", (), "Coombes–Byrne next-generation neural mass node population."),
    (FITZHUGH_NAGUMO, "FitzHughNagumoStep", (), "FitzHugh–Nagumo node population."),
    (KURAMOTO, "KuramotoStep", (), "Kuramoto phase oscillator population."),
    (GENERIC_2D, "Generic2dOscillatorStep", (), "TVB generic 2D oscillator node population."),
    (EPILEPTOR, "EpileptorStep", (), "Epileptor (6 variables) node population."),
    (EPILEPTOR_2D, "Epileptor2DStep", (), "Two-dimensional Epileptor node population."),
    (LARTER_BREAKSPEAR, "LarterBreakspearStep", (), "Larter–Breakspear neural mass node population."),
    (WENDLING, "WendlingStep", (), "Wendling cortical column node population."),
    (STUART_LANDAU, "StuartLandauStep", (), "Stuart–Landau oscillator node population."),
    (VAN_DER_POL, "VanDerPolStep", (), "Van der Pol oscillator node population."),
    (THRESHOLD_LINEAR, "ThresholdLinearStep", (),
     "Threshold-linear E/I rate node population (Chaudhuri et al. 2015)."),
    (FITZHUGH_NAGUMO_CUBIC, "FitzHughNagumoCubicStep", (), "FitzHugh–Nagumo node population, general cubic form."),
    (LORENZ, "LorenzStep", (), "Lorenz (1963) system node population."),
    (WILSON_COWAN_NO_SATURATION, "WilsonCowanNoSaturationStep", (),
     "Wilson–Cowan node population without refractoriness."),
    (WILSON_COWAN_SYMMETRIC, "WilsonCowanSymmetricStep", (),
     "Wilson–Cowan node population, shared time constant and sigmoid."),
    (WILSON_COWAN_SIMPLIFIED, "WilsonCowanSimplifiedStep", (), "Wilson–Cowan node population, shared weights."),
    (WILSON_COWAN_LINEAR, "WilsonCowanLinearStep", (), "Wilson–Cowan node population, threshold-linear transfer."),
    (WILSON_COWAN_ADAPTIVE, "WilsonCowanAdaptiveStep", (), "Wilson–Cowan node population with adaptation currents."),
    (WILSON_COWAN_DELAYED, "WilsonCowanDelayedStep", (),
     "Wilson–Cowan node population with delayed local connections."),
    (WILSON_COWAN_DIVISIVE, "WilsonCowanDivisiveStep", (), "Wilson–Cowan node population, divisive gain."),
    (WILSON_COWAN_DIVISIVE_INPUT, "WilsonCowanDivisiveInputStep", (),
     "Wilson–Cowan node population, divisively normalised input."),
    (WILSON_COWAN_THREE_POPULATION, "WilsonCowanThreePopulationStep", (),
     "Wilson–Cowan E, I and modulatory node populations."),
    (HORN, "HORNStep", (), "Harmonic oscillator recurrent network (HORN) units (Effenberger et al. 2025)."),
)

MODELS = {table.name: table for table, *_ in REGISTRY}
#: the stateful module class of every registered model (one class per model)
MODULES = {}
#: every generated module class name and alias (exported by ``neuralmass`` as well)
MODULE_NAMES = []
for _table, _name, _aliases, _doc in REGISTRY:
    # a table's "step_keywords" is the keyword convention of its brainmass-named class; its aliases
    # (neuralmass's own names, e.g. WilsonCowanModel) are then classes that read the table's names
    _conv = _table.extra.get("step_keywords")
    MODULES[_table.name] = globals()[_name] = make_node_module(_table, _name, _doc, _conv)
    for _alias in _aliases:
        globals()[_alias] = MODULES[_table.name] if _conv is None else make_node_module(_table, _alias, _doc)
    MODULE_NAMES += [_name, *_aliases]
del _table, _name, _aliases, _doc, _alias, _conv

# the base class of the three-population Wilson–Cowan modules (brainmass's name), not itself built
MODULE_NAMES.append("WilsonCowanThreePopBase")
# a second module class over the Wong–Wang table, with TVB's and brainmass's parameter names
WongWangExcInhStep = make_node_module(WONG_WANG, "WongWangExcInhStep",
                                      "Reduced Wong–Wang E/I node population (Deco et al. 2014), TVB's "
                                      "and brainmass's parameter names accepted.")
MODULE_NAMES.append("WongWangExcInhStep")
# the base of user-defined (x, y) oscillators (brainmass's XY_Oscillator): not in REGISTRY, whose
# models run as they are; a subclass defines dx and dy
MODULE_NAMES.append("XY_Oscillator")
# FitzHughNagumoStep(alpha=..., init_V=...) builds the cubic form: those names are its parameters
FITZHUGH_NAGUMO.extra["variant"] = (
    frozenset(FITZHUGH_NAGUMO_CUBIC.param_names) - frozenset(FITZHUGH_NAGUMO.param_names)
    | {"init_V", "V_init", "noise_V"}, lambda: MODULES[FITZHUGH_NAGUMO_CUBIC.name])


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
    "KeywordConventionWarning",
    "REGISTRY", "MODELS", "MODULES", "MODULE_NAMES", "module_class", "ModelInfo", "list_models",
    "feedback_inhibition_control", "fic_max_real_eigenvalue", "UnstableFixedPointWarning",
    "sigmoid", "sys2nd", "bounded_input",
    "HOPF", "JANSEN_RIT", "LINEAR", "WILSON_COWAN", "WONG_WANG", "WONG_WANG_DECISION", "MONTBRIO_PAZO_ROXIN", "COOMBES_BYRNE",
    "FITZHUGH_NAGUMO", "KURAMOTO", "GENERIC_2D", "EPILEPTOR", "EPILEPTOR_2D", "LARTER_BREAKSPEAR", "WENDLING",
    "STUART_LANDAU", "VAN_DER_POL", "THRESHOLD_LINEAR", "FITZHUGH_NAGUMO_CUBIC", "LORENZ",
    "WILSON_COWAN_NO_SATURATION", "WILSON_COWAN_SYMMETRIC", "WILSON_COWAN_SIMPLIFIED", "WILSON_COWAN_LINEAR",
    "WILSON_COWAN_ADAPTIVE", "WILSON_COWAN_DELAYED", "WILSON_COWAN_DIVISIVE", "WILSON_COWAN_DIVISIVE_INPUT",
    "WILSON_COWAN_THREE_POPULATION", "HORN", "XY_OSCILLATOR",
    *MODULE_NAMES,
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
