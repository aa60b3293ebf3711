"""Study configuration files (TOML): schema, unit parsing and validation.

A study is described by a TOML file (see ``neuralmass run --print-config``). Every key is checked
before anything runs; a bad file raises :class:`ConfigError` naming the key, the value and what is
allowed. Quantities are written as strings with a unit, e.g. ``dt = "0.1 ms"``,
``speed = "10 mm/ms"``, ``tr = "0.72 s"``; plain numbers are read in the unit the key documents.
"""

from __future__ import annotations

import copy
import difflib
import logging
import math
import re
import tomllib
from pathlib import Path

import brainunit as u
import numpy as np

__all__ = ["ConfigError", "read_toml", "DEFAULT_CONFIG_TOML", "default_config", "load_config", "validate_config",  # noqa: F822 (DEFAULT_CONFIG_TOML: module __getattr__)
           "parse_quantity", "choices", "check_param_range", "validate_stimulus_blocks", "ARGUMENT_READERS",
           "PLACEMENT_KEYS"]

logger = logging.getLogger("neuralmass")


# ConfigError lives beside PreflightError (neuralmass.errors) and parse_quantity in neuralmass.units,
# so that every layer can use them; both are re-exported here, where users look for them
from .errors import ConfigError
from .stimulus import WAVEFORMS, temporal_stimulus, waveform_arguments
from .units import magnitude, parse_in, parse_quantity


_DEFAULT_TEMPLATE = """\
# neuralmass study configuration (TOML). Quantities are strings with units ("0.1 ms");
# plain numbers are read in the unit given in the comment.

[study]
name = "hcp-resting-state"
seed = 42                    # noise seed, 0 <= seed < 2**64: the same seed reproduces the numbers
output = "results"           # results folder (earlier results there are kept as results.<time>)

[data]
dataset = "hcp"              # {datasets}
normalize = "max"            # structural weights: {normalize}

[model]
name = "Hopf"                # {models} (`neuralmass models NAME`)
# Slow noise-driven Hopf nodes just below the bifurcation (Deco et al. 2017): a = -0.02 / s,
# angular frequency omega = 2 pi 0.05 Hz = 0.314 rad/s. Units as in `neuralmass models Hopf`.
params = {{ a = "-0.02 / s", omega = "0.3142 / s" }}

[network]
coupling = "diffusive"       # {couplings}
k = 0.004                    # global coupling strength (per ms for the Hopf drift)
speed = "10 mm/ms"           # conduction speed (delays = tract length / speed)
delays = true                # false: instantaneous coupling
# coupled_var = "x"           # what regions send (default: the model's choice); several sums, one
#                             # per input: coupled_var = {{ r_ext = "r", V_ext = "V" }} together with
#                             # coupling = {{ r_ext = "linear", V_ext = "diffusive" }} and
#                             # coupling_input = {{ r_ext = 0.5, V_ext = 0.1 }} (strengths per input)

[noise]
kind = "white"               # {noise}
sigma = 0.00063              # white: input unit x sqrt(ms) (0.02 per sqrt(s) for the Hopf x, y)

[simulation]
dt = "5 ms"
duration = "900 s"           # transient included
transient = "36 s"
method = "heun"              # {methods}
# compilation_cache = "~/.cache/neuralmass/jax"  # JAX cache for all the study compiles (opt-in; the
#                                                 # engine keeps its own programs anyway)

[bold]
enabled = true
variable = ""                # empty: the model's coupled variable
tr = "0.72 s"                # HCP repetition time
coefficients = "revised"     # {coefficients}
scale = 5.0                  # neural activity -> vasodilatory drive (per s^2); keeps the flow physiological
baseline = "auto"            # activity subtracted before the hemodynamics ("auto": the node's rest value)

[analysis]
fcd_window = "60 s"          # sliding window for FCD
fcd_step = "2 s"

[meg_eeg]
enabled = "auto"             # auto: when tvb-data is installed; true | false
duration = "20 s"

# Cortical surface (optional): a node per vertex of a mesh, local + long-range coupling, vertex
# activity, EEG and a surface figure (docs/surface.md; examples/configs/surface_tvb16k.toml).
# [surface]
# mesh = "cortex_16384"                   # tvb-data name or a file (TVB zip, *.surf.gii, lh.pial)
# region_mapping = "regionMapping_16k_76" # one region of [data]'s connectome per vertex
# local = "tvb"                           # "none" | a *.mat file | {{kernel = "gaussian", sigma = "5 mm", cutoff = "20 mm"}}
# eeg = true                              # tvb-data's vertex EEG gain of cortex_16384

# Stimulation (optional): any number of [[stimulus]] blocks; blocks on one input add up.
# Keys are the arguments of the neuralmass.stimulus function named by kind (docs/stimulation.md).
# [[stimulus]]
# kind = "pulse"             # {stimulus_kinds}
# input = "x_ext"            # a node input of the model (default: its coupling input)
# onset = "60 s"             # from the start of the run, transient included
# duration = "2 s"
# amplitude = "0.001 / ms"   # in the input's unit (`neuralmass models NAME`); plain numbers too
# regions = ["Precentral_L"] # labels or indices, {{"label" = weight}}, "all"; or weights = [...]
"""



def default_config_toml() -> str:
    """The default study file, its choice comments filled from the registries (:func:`choices`)."""
    c = choices()
    j = " | ".join
    return _DEFAULT_TEMPLATE.format(
        datasets=j(c[("data", "dataset")]), normalize=j(c[("data", "normalize")]),
        models=j(c[("model", "name")]), couplings=j(c[("network", "coupling")]),
        noise=j(c[("noise", "kind")]), methods=j(c[("simulation", "method")]),
        coefficients=j(c[("bold", "coefficients")]), stimulus_kinds=j(c[("stimulus", "kind")]))


def __getattr__(name):
    if name == "DEFAULT_CONFIG_TOML":
        return default_config_toml()
    raise AttributeError(f"module 'neuralmass.config' has no attribute {name!r}")


_ALLOWED = {
    "study": {"name": str, "seed": int, "output": str},
    "data": {"dataset": str, "normalize": str, "connectome": str, "fc": str, "bold": str,
             "tr": (str, int, float), "labels": (str, list), "symmetric": bool, "subjects": list,
             "weights": str},
    "model": {"name": str, "params": dict},
    "network": {"coupling": (str, dict), "k": (int, float), "speed": (str, int, float), "delay_mode": str,
                "delays": bool, "coupled_var": (str, dict), "coupling_input": (str, dict)},
    "noise": {"kind": str, "sigma": (int, float, str), "tau": (str, int, float)},
    "simulation": {"dt": (str, int, float), "duration": (str, int, float),
                   "transient": (str, int, float), "method": str, "compilation_cache": str},
    "bold": {"enabled": bool, "variable": str, "tr": (str, int, float), "coefficients": str,
             "scale": (int, float), "baseline": (str, int, float)},
    "analysis": {"fcd_window": (str, int, float), "fcd_step": (str, int, float)},
    "meg_eeg": {"enabled": (bool, str), "duration": (str, int, float)},
    "surface": {"mesh": str, "region_mapping": str, "local": (str, dict), "local_strength": (int, float),
                "period": (str, int, float), "vertex_period": (str, int, float), "eeg": (bool, str),
                "eeg_sensors": str, "eeg_scale": (str, int, float)},
}

#: ``[surface]`` defaults (a study has a surface only when the config has a ``[surface]`` table)
SURFACE_DEFAULTS = {"local": "none", "period": 1.0, "vertex_period": 10.0, "eeg": False,
                    "eeg_scale": "1 nA*m"}
#: keys of a ``local = {...}`` kernel table besides the kernel's own parameters
_LOCAL_TABLE_KEYS = ("kernel", "cutoff", "metric", "homogenise")

def choices() -> dict[tuple[str, str], tuple[str, ...]]:
    """Allowed values of the keys that name a choice, read from the library's registries.

    Models (:data:`neuralmass.MODELS`), datasets, couplings (:data:`neuralmass.network.COUPLINGS`),
    connectome normalisations, integrators (:data:`neuralmass.integrators.INTEGRATORS`) and the
    study's noise kinds; a model or coupling added to a registry is accepted here without edits.
    """
    from .datasets import _REGISTRY as DATASETS
    from .forward.bold import BOLD_COEFFICIENT_SETS
    from .integrators import INTEGRATORS
    from .models import MODELS
    from .network.delays import DELAY_MODES
    from .network.connectome import NORMALIZATIONS
    from .network.coupling import COUPLINGS
    from .noise import NOISE_KINDS

    return {
        ("model", "name"): tuple(MODELS),
        ("data", "dataset"): tuple(DATASETS),
        ("data", "normalize"): tuple(NORMALIZATIONS),
        ("network", "coupling"): tuple(COUPLINGS),
        ("network", "delay_mode"): DELAY_MODES,
        ("noise", "kind"): tuple(NOISE_KINDS) + ("none",),
        ("simulation", "method"): tuple(INTEGRATORS),
        ("bold", "coefficients"): BOLD_COEFFICIENT_SETS,
        ("stimulus", "kind"): tuple(WAVEFORMS),            # waveforms of neuralmass.stimulus
    }

_TIMES = {("simulation", "dt"), ("simulation", "duration"), ("simulation", "transient"), ("bold", "tr"),
          ("analysis", "fcd_window"), ("analysis", "fcd_step"), ("noise", "tau"), ("meg_eeg", "duration"),
          ("surface", "period"), ("surface", "vertex_period")}

#: (section, key) of the times a validated config holds as plain numbers in ms
TIME_KEYS = frozenset(_TIMES)


def default_config() -> dict:
    """The default study as a dict (the content of ``--print-config``)."""
    return tomllib.loads(default_config_toml())


def _merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base`` (tables merged key by key, ``params`` replaced whole). A
    ``[model]`` naming another model than ``base`` does not inherit ``base``'s model parameters
    (the default study's Hopf ``a`` and ``omega``) nor its 5 ms step unless ``over`` sets
    ``simulation.dt``: the chosen model's own defaults apply (``NodeModel.default_dt``)."""
    model = over.get("model")
    if isinstance(model, dict) and isinstance(base.get("model"), dict) \
            and model.get("name", base["model"].get("name")) != base["model"].get("name"):
        base = {**base, "model": {k: v for k, v in base["model"].items() if k != "params"}}
        from .models import MODELS

        spec = MODELS.get(model.get("name"))
        if spec is not None and "dt" not in (over.get("simulation") or {}) and "simulation" in base:
            # the default study's 5 ms step is for slow Hopf nodes; another model gets its own
            base = {**base, "simulation": {**base["simulation"], "dt": f"{spec.default_dt:g} ms"}}
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "params":
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def read_toml(path, missing_hint: str = "write one with `neuralmass run --print-config > study.toml`") -> dict:
    """The tables of a TOML config file; :class:`ConfigError` naming the file when it is missing,
    not text (a binary file) or not valid TOML."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {str(p)!r} does not exist; {missing_hint}.")
    try:
        return tomllib.loads(p.read_text())
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(p)!r} is not a text file (binary content); give a TOML "
                          f"study file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None


def load_config(path: str | Path | None = None, overrides: dict | None = None, strict: bool = False,
                skip: tuple = ()) -> dict:
    """Read a TOML study file (missing keys take the defaults) and validate it.

    ``strict=True`` turns warnings (model parameters outside their plausible range) into errors.
    ``skip`` names sections that another command validates itself (``('fit',)`` for
    ``neuralmass fit``); they are left out of the returned config.
    """
    cfg = default_config()
    if path is not None:
        user = read_toml(path)
        for section in skip:
            user.pop(section, None)
        cfg = _merge(cfg, user)
    if overrides:
        cfg = _merge(cfg, overrides)
    out = validate_config(cfg, strict=strict)
    # user data files ([data] connectome/fc/bold, [surface] files) are read relative to the config file
    if any(out.get("data", {}).get(k) for k in ("connectome", "fc", "bold", "weights")) or "surface" in out:
        out["_base_dir"] = str(Path(path).resolve().parent) if path is not None else str(Path.cwd())
    return out


def _regional_param(spec, name: str, val: dict, strict: bool) -> dict:
    """``x0 = {default = "-2.2", regions = {"rHC" = "-1.6"}}``: parsed and range-checked values
    (labels are checked against the connectome when the study builds the network)."""
    where = f"model.params.{name}"
    bad = set(val) - {"default", "regions"}
    if bad:
        raise ConfigError(f"{where} has unknown key(s) {sorted(bad)}; a per-region value is "
                          f"{{default = \"...\", regions = {{\"label\" = \"...\"}}}}.")
    out = {}
    if "default" in val:
        q = parse_quantity(val["default"], f"{where}.default")
        check_param_range(spec, name, q if isinstance(q, u.Quantity) else float(q), f"{where}.default",
                          strict, shown=val["default"])
        out["default"] = q
    regions = val.get("regions", {})
    if not isinstance(regions, dict):
        raise ConfigError(f"{where}.regions must be a table of region label (or index) = value.")
    out["regions"] = {}
    for label, v in regions.items():
        q = parse_quantity(v, f"{where}.regions.{label}")
        check_param_range(spec, name, q if isinstance(q, u.Quantity) else float(q),
                          f"{where}.regions.{label}", strict, shown=v)
        out["regions"][int(label) if str(label).isdigit() else label] = q
    return out


def check_param_range(spec, name: str, value, where: str, strict: bool = False, shown=None) -> None:
    """Warn (``strict``: raise :class:`ConfigError`) when a model parameter is outside its range.

    The range is the ``bounds`` column of the model's parameter table (``neuralmass models
    NAME``), in the parameter's unit; ``value`` is a number in that unit or a Quantity.
    Non-finite values are always an error. ``shown`` is the value as the user wrote it (for
    messages).
    """
    p = spec.param(name)
    value_text = _show(value if shown is None else shown)
    if p.angular and isinstance(shown, str) and re.search(r"Hz\b", shown):
        # brainunit reads Hz as 1/s, so "0.3142 Hz" would silently become 0.3142 rad/s
        hz = parse_in(shown, where, u.Hz, what="a frequency", example='"10 Hz"')
        raise ConfigError(
            f"{where} = {value_text}: {spec.name}.{name} is an angular frequency in "
            f"{p.unit_label}, not a frequency in Hz; for f = {hz:g} Hz write "
            f"\"{2 * np.pi * hz:.6g} rad/s\" (2*pi*f), or \"{hz:g} rad/s\" if that is what you meant.")
    try:
        canon = np.asarray(p.to_canonical(value), dtype=float)
    except ValueError as exc:
        raise ConfigError(f"{where} = {value_text}: {exc}") from None
    if not np.all(np.isfinite(canon)):
        raise ConfigError(f"{where} = {value_text} is not a finite number.")
    x = canon / p.factor  # in the parameter's unit
    lo, hi = p.bounds
    if np.all((x >= lo) & (x <= hi)):
        return
    unit = f" {p.unit_label}" if p.unit is not None else ""
    msg = (f"{where} = {value_text} ({_fmt(x)}{unit}) is outside the plausible range of "
           f"{spec.name}.{name}, {lo:g} to {hi:g}{unit} ({p.doc}); check the value and its unit")
    if strict:
        raise ConfigError(msg + " (an error because of --strict).")
    logger.warning(msg + "; --strict makes this an error.")


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _fmt(x) -> str:
    x = np.asarray(x)
    return f"{float(x):g}" if x.ndim == 0 else np.array2string(x, precision=4)


def _check_finite(value, key: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key} = {value!r} is not a finite number.")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{key}.{k}")


def validate_config(cfg: dict, strict: bool = False) -> dict:
    """Check every section and key; convert quantities. Returns a new, parsed dict.

    Raises :class:`ConfigError` naming the key, the value and what is allowed. Model parameters
    outside their plausible range are logged as warnings (errors with ``strict=True``).
    """
    from .models import MODELS

    allowed_values = choices()
    out: dict = {}
    for section, body in cfg.items():
        if section == "stimulus":   # [[stimulus]] blocks: checked below, once the model is known
            continue
        if section not in _ALLOWED:
            raise ConfigError(f"[{section}] is not a known section; allowed: {', '.join(_ALLOWED)}, "
                              f"[[stimulus]].")
        if not isinstance(body, dict):
            raise ConfigError(f"[{section}] must be a table of keys.")
        out[section] = {}
        for key, value in body.items():
            full = f"{section}.{key}"
            if key not in _ALLOWED[section]:
                raise ConfigError(f"{full} is not a known key; allowed in [{section}]: "
                                  f"{', '.join(_ALLOWED[section])}.")
            types = _ALLOWED[section][key]
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))):
                raise ConfigError(f"{full} = {value!r} has the wrong type; expected "
                                  f"{_type_names(types)}.")
            _check_finite(value, full)
            allowed = allowed_values.get((section, key))
            for choice in (value.values() if isinstance(value, dict) and allowed else ()):
                if choice not in allowed:
                    raise ConfigError(f"{full} = {value!r}: {choice!r} is not allowed; choose one of "
                                      f"{', '.join(allowed)}.")
            if allowed and not isinstance(value, dict) and value not in allowed:
                what = {"model.name": "a known model", "data.dataset": "a known dataset"}.get(full, "allowed")
                raise ConfigError(f"{full} = {value!r} is not {what}; choose one of {', '.join(allowed)}.")
            if (section, key) in _TIMES:
                ms = parse_in(value, full, u.ms, what="a time", example='"10 ms"')
                if ms <= 0 and key != "transient":
                    raise ConfigError(f"{full} = {value!r} must be positive.")
                if ms < 0:
                    raise ConfigError(f"{full} = {value!r} must be >= 0.")
                value = float(ms)
            out[section][key] = value
    _check_subjects(out.get("data", {}).get("subjects"))
    seed = out["study"]["seed"]
    if not 0 <= seed < 2 ** 64:
        raise ConfigError(f"study.seed = {seed} must be in 0 <= seed < 2**64.")
    if not out["study"]["output"].strip():
        raise ConfigError("study.output = '' is empty; name a results folder, e.g. \"results\".")
    spec = MODELS[out["model"]["name"]]
    params = {}
    for name, val in out["model"].get("params", {}).items():
        if name not in spec.param_names:
            raise ConfigError(f"model.params.{name} is not a parameter of {spec.name}; parameters: "
                              f"{', '.join(spec.param_names)}.")
        if isinstance(val, dict):   # per region: {default = "...", regions = {label = "..."}}
            params[name] = _regional_param(spec, name, val, strict)
            continue
        q = parse_quantity(val, f"model.params.{name}")
        check_param_range(spec, name, q if isinstance(q, u.Quantity) else float(q),
                          f"model.params.{name}", strict, shown=val)
        params[name] = q
    out["model"]["params"] = params
    var = out["bold"].get("variable", "")
    readable = tuple(spec.state_names) + tuple(spec.observable_names)
    if var and var not in readable:
        raise ConfigError(f"bold.variable = {var!r} is not a state variable or observable of "
                          f"{spec.name}; choose one of {', '.join(readable)} (empty: "
                          f"{spec.coupled_var}).")
    _check_pathways(spec, out["network"])
    if "speed" in out["network"]:
        sp = parse_in(out["network"]["speed"], "network.speed", u.mm / u.ms, what="a speed",
                      example='"10 mm/ms"')
        if sp <= 0:
            raise ConfigError(f"network.speed = {out['network']['speed']!r} must be positive.")
        out["network"]["speed"] = float(sp)
    sim = out["simulation"]
    if sim["transient"] >= sim["duration"]:
        raise ConfigError(f"simulation.transient ({sim['transient']} ms) must be shorter than "
                          f"simulation.duration ({sim['duration']} ms).")
    if isinstance(out["noise"].get("sigma"), str):
        out["noise"]["sigma"] = parse_quantity(out["noise"]["sigma"], "noise.sigma")
    if isinstance(out["noise"].get("sigma"), float) and out["noise"]["sigma"] < 0:
        raise ConfigError(f"noise.sigma = {out['noise']['sigma']} must be >= 0.")
    b = out["bold"].get("baseline", "auto")
    if isinstance(b, str) and b != "auto":
        raise ConfigError(f"bold.baseline = {b!r}: use \"auto\" or a number.")
    e = out["meg_eeg"].get("enabled", "auto")
    if isinstance(e, str) and e != "auto":
        raise ConfigError(f"meg_eeg.enabled = {e!r}: use true, false or \"auto\".")
    if "stimulus" in cfg:
        out["stimulus"] = validate_stimulus_blocks(cfg["stimulus"], spec, sim["duration"], sim["transient"],
                                                   surface="surface" in out)
    if "surface" in out:
        out["surface"] = _check_surface(out["surface"], sim["dt"])
    return out


def _check_surface(surf: dict, dt: float) -> dict:
    """``[surface]``: required keys, the local kernel table, strengths and the EEG choice, with the
    defaults (:data:`SURFACE_DEFAULTS`) filled in. Files (mesh, mapping, gain) are read and checked
    against each other and the connectome when the study is built
    (:func:`neuralmass.studies.surface.build_surface`), still before any simulation."""
    from .surface.local import KERNELS

    out = {**SURFACE_DEFAULTS, **surf}
    for key, example in (("mesh", '"cortex_16384" (tvb-data) or a file: TVB zip, *.surf.gii, lh.pial'),
                         ("region_mapping", '"regionMapping_16k_76" (tvb-data) or a file: *.txt, *.annot, '
                                            '*.label.gii')):
        if not str(out.get(key, "")).strip():
            raise ConfigError(f"surface.{key} is missing or empty; add {key} = {example}.")
    local = out["local"]
    if isinstance(local, str):
        if not local.strip():
            raise ConfigError('surface.local = "": use "tvb" (tvb-data\'s local connectivity of the mesh), '
                              '"none", a *.mat file, or a kernel table {kernel = "gaussian", sigma = "5 mm", '
                              'cutoff = "20 mm"}.')
    else:
        local = dict(local)
        kernel = local.get("kernel")
        if kernel not in KERNELS:
            raise ConfigError(f"surface.local.kernel = {kernel!r} is not a known kernel"
                              f"{_did_you_mean(kernel, KERNELS)}; choose one of {', '.join(KERNELS)}.")
        params = KERNELS[kernel][1]
        allowed = _LOCAL_TABLE_KEYS + tuple(params)
        for key, val in local.items():
            where = f"surface.local.{key}"
            if key not in allowed:
                raise ConfigError(f"{where} is not a key of a {kernel!r} kernel{_did_you_mean(key, allowed)}; "
                                  f"allowed: {', '.join(allowed)}.")
            if key == "metric" and val not in ("geodesic", "euclidean"):
                raise ConfigError(f"{where} = {val!r}: use \"geodesic\" (along the mesh) or \"euclidean\".")
            if key == "homogenise" and not isinstance(val, bool):
                raise ConfigError(f"{where} = {val!r} must be true or false.")
            if key == "cutoff" or (key in params and params[key][1]):
                local[key] = _length_mm(where, val)
            elif key in params:
                if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
                    raise ConfigError(f"{where} = {val!r} must be a finite number.")
                local[key] = float(val)
        missing = [k for k, (default, _) in params.items() if default is None and k not in local]
        if missing:
            example = ", ".join(f'{k} = "5 mm"' for k in missing)
            raise ConfigError(f"surface.local ({kernel}) needs {', '.join(missing)}; add e.g. {example}.")
        local.setdefault("cutoff", 20.0)
        local.setdefault("metric", "geodesic")
        local.setdefault("homogenise", True)
        out["local"] = local
    if local == "none" and out.get("local_strength", 0.0) != 0.0:
        raise ConfigError(f"surface.local_strength = {out['local_strength']!r} needs a local kernel; set "
                          f"surface.local = \"tvb\" or a kernel table, or remove local_strength.")
    out.setdefault("local_strength", 0.0 if local == "none" else 1.0)
    for key in ("period", "vertex_period"):
        steps = out[key] / dt
        if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
            raise ConfigError(f"surface.{key} = {out[key]:g} ms is not a whole number of steps of "
                              f"simulation.dt = {dt:g} ms; use a multiple of dt.")
    eeg = out["eeg"]
    if isinstance(eeg, str) and not eeg.strip():
        raise ConfigError('surface.eeg = "": use true (tvb-data\'s 65-electrode vertex gain of cortex_16384), '
                          'false, or a *.npy gain matrix (sensors x vertices, V/(A*m)).')
    if "eeg_sensors" in out and eeg is False:
        raise ConfigError("surface.eeg_sensors is set but surface.eeg = false; set surface.eeg or remove "
                          "eeg_sensors.")
    q = parse_in(out["eeg_scale"], "surface.eeg_scale", u.nA * u.meter, what="a dipole moment",
                 example='"1 nA*m" (the dipole moment of a vertex per unit of the variable)')
    if not q > 0:
        raise ConfigError(f"surface.eeg_scale = {out['eeg_scale']!r} must be positive, e.g. \"1 nA*m\".")
    out["eeg_scale"] = float(q)       # nA*m per unit of the variable
    return out


def _length_mm(where: str, value) -> float:
    """A positive length in mm from ``"5 mm"`` or a plain number (mm)."""
    if isinstance(value, bool):
        raise ConfigError(f"{where} = {value!r} must be a length, e.g. \"5 mm\".")
    q = parse_in(value, where, u.mm, what="a length", example='"5 mm"')
    if not (isinstance(q, (int, float)) and math.isfinite(q) and q > 0):
        raise ConfigError(f"{where} = {value!r} must be a positive length, e.g. \"5 mm\".")
    return float(q)


def _check_subjects(subjects) -> None:
    """``data.subjects``: a non-empty list of indices (integers) and/or subject ids (strings),
    without repeats. Whether the data have them is checked when the study is built
    (:func:`neuralmass.studies.build.build_study`), before any simulation."""
    if subjects is None:
        return
    if not subjects:
        raise ConfigError("data.subjects = [] selects no subject; leave data.subjects out for all "
                          "subjects, or list indices (0, 1, ...) and/or subject ids (\"101309\").")
    for s in subjects:
        if isinstance(s, bool) or not isinstance(s, (int, str)):
            raise ConfigError(f"data.subjects = {subjects!r}: {s!r} is neither an index (an integer, "
                              f"0-based) nor a subject id (a string).")
        if isinstance(s, int) and s < 0:
            raise ConfigError(f"data.subjects = {subjects!r}: index {s} is negative; indices count "
                              f"from 0.")
    if len({(type(s), s) for s in subjects}) != len(subjects):
        raise ConfigError(f"data.subjects = {subjects!r} names a subject twice.")


def _check_pathways(spec, net: dict) -> None:
    """``network.coupled_var`` / ``coupling_input`` / ``coupling`` against the model (several coupled
    sums are tables keyed by input); strengths with units are converted like model parameters."""
    from .network.pathways import build_pathways

    readable = tuple(spec.state_names) + tuple(spec.observable_names)
    cv = net.get("coupled_var")
    for inp, var in (cv.items() if isinstance(cv, dict) else [(None, cv)] if cv else []):
        where = "network.coupled_var" + (f".{inp}" if inp else "")
        if not isinstance(var, str) or var not in readable:
            raise ConfigError(f"{where} = {var!r} is not a state variable or observable of {spec.name}; "
                              f"choose one of {', '.join(readable)}.")
    ci = net.get("coupling_input")
    if isinstance(ci, dict):
        for inp, val in ci.items():
            ci[inp] = parse_quantity(val, f"network.coupling_input.{inp}")
    try:
        pathways = build_pathways(spec, cv, net.get("coupling", "diffusive"), ci, net.get("k", 1.0), {}, None)
        for pw in pathways:
            for inp, row in pw.strengths:
                row.to_canonical(ci[inp] if isinstance(ci, dict) else net.get("k", 1.0))
    except (ValueError, KeyError, TypeError) as e:
        msg = e.args[0] if e.args else str(e)
        raise ConfigError(f"[network]: {msg}") from None


def _type_names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false", dict: "a table"}
    return " or ".join(names[t] for t in types)


# --------------------------------------------------------------------------- [[stimulus]] schema
# The stimulus blocks' keys and units (the build half, regions resolved against a connectome, is
# neuralmass.studies.stimulation).
#: How each waveform argument is read from the config: its quantity and an example value.
ARGUMENT_READERS = {
    "onset": ("time", '"2 s"'),
    "duration": ("time", '"100 ms"'),
    "width": ("time", '"5 ms"'),
    "rise": ("time", '"10 ms"'),
    "frequency": ("frequency", '"10 Hz"'),
    "amplitude": ("input", '"0.5"'),
    "offset": ("input", '"0.1"'),
    "phase": ("angle", "1.5708"),
    "n_pulses": ("count", "10"),
    "hold": ("flag", "true"),
}

#: Keys of a block that are not waveform arguments.
PLACEMENT_KEYS = ("kind", "input", "regions", "weights", "vertices", "point", "profile")
#: Placement keys that need a ``[surface]`` study (a node per vertex).
SURFACE_PLACEMENT_KEYS = ("vertices", "point", "profile")

#: Time arguments that must be positive (``rise`` may be 0; ``onset`` any sign).
_POSITIVE_TIMES = ("duration", "width")


def validate_stimulus_blocks(blocks, spec, duration_ms: float, transient_ms: float = 0.0,
                             surface: bool = False) -> list[dict]:
    """Check ``[[stimulus]]`` blocks and convert their values to plain numbers.

    Parameters
    ----------
    blocks : list of dict
        The ``stimulus`` entry of the TOML config (an array of tables).
    spec : neuralmass.models.base.NodeModel
        The study's node model (its inputs and their units).
    duration_ms, transient_ms : float
        ``simulation.duration`` and ``simulation.transient`` in ms.
    surface : bool
        The study has a ``[surface]`` table: blocks may also place the stimulus on vertices
        (``vertices``, ``point``, ``profile``; :func:`neuralmass.surface.surface_weights`).

    Returns
    -------
    list of dict
        One block per stimulus: ``kind``, ``input`` (filled with the default when omitted), the
        waveform arguments (times in ms, frequencies in Hz, amplitudes in the input's unit), and
        ``regions``, ``weights``, ``vertices`` or ``point`` (mm), with ``profile`` (lengths in mm).

    Raises
    ------
    ConfigError
        Naming the block (``stimulus[i]``, counted from 0 in file order), the key, the value and
        the fix: not a table, unknown key or waveform, missing argument, unknown input, a value
        of the wrong unit or sign, no spatial pattern, or a stimulus entirely outside
        ``[0, simulation.duration)``.
    """
    if isinstance(blocks, dict):
        raise ConfigError("[stimulus] is a single table; write each stimulus as a [[stimulus]] block "
                          "(double brackets), one block per stimulus.")
    if not isinstance(blocks, list):
        raise ConfigError(f"stimulus = {blocks!r}: write each stimulus as a [[stimulus]] block.")
    return [_validate_block(i, block, spec, duration_ms, transient_ms, surface) for i, block in enumerate(blocks)]


def _validate_block(i: int, block, spec, duration_ms: float, transient_ms: float, surface: bool = False) -> dict:
    where = f"stimulus[{i}]"
    if not isinstance(block, dict):
        raise ConfigError(f"{where} = {block!r} must be a [[stimulus]] table of keys.")
    kind = _read_kind(where, block)
    required, optional = waveform_arguments(kind)
    _check_keys(where, kind, block, required + optional, surface)
    inp = _read_input(where, block, spec)
    out = {"kind": kind, "input": inp.name}
    for name in required + optional:
        if name in block:
            out[name] = _read_argument(f"{where}.{name}", name, block[name], inp, spec)
    out.update(_read_placement(where, block, surface))
    _check_span(where, block, out, duration_ms, transient_ms)
    return out


def _read_kind(where: str, block: dict) -> str:
    kinds = ", ".join(f'"{k}"' for k in WAVEFORMS)
    if "kind" not in block:
        raise ConfigError(f"{where} has no kind; add kind = one of {kinds}.")
    kind = block["kind"]
    if not isinstance(kind, str) or kind not in WAVEFORMS:
        raise ConfigError(f"{where}.kind = {kind!r} is not a known waveform{_did_you_mean(kind, WAVEFORMS)}; "
                          f"choose one of {kinds}.")
    return kind


def _check_keys(where: str, kind: str, block: dict, arguments: tuple[str, ...], surface: bool = False) -> None:
    placement = PLACEMENT_KEYS if surface else tuple(k for k in PLACEMENT_KEYS if k not in SURFACE_PLACEMENT_KEYS)
    allowed = placement + arguments
    for key in block:
        if key in SURFACE_PLACEMENT_KEYS and not surface:
            raise ConfigError(f"{where}.{key} places a stimulus on the vertices of a cortical mesh, which "
                              f"needs a [surface] study; here give regions = [...] or weights = [...].")
        if key not in allowed:
            raise ConfigError(f"{where}.{key} is not a key of a {kind!r} stimulus"
                              f"{_did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}.")
    required, _ = waveform_arguments(kind)
    missing = [k for k in required if k not in block]
    if missing:
        example = ", ".join(f"{k} = {ARGUMENT_READERS[k][1]}" for k in missing)
        raise ConfigError(f"{where} ({kind}) needs {', '.join(missing)}; add e.g. {example}.")
    if kind == "pulse_train" and "n_pulses" not in block and "duration" not in block:
        raise ConfigError(f"{where} (pulse_train) needs n_pulses (e.g. n_pulses = 10) or duration "
                          f"(e.g. duration = \"1 s\") to know how many pulses to give.")


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_input(where: str, block: dict, spec):
    inputs = ", ".join(spec.input_names)
    name = block.get("input", spec.coupling_input)
    if name is None:
        raise ConfigError(f"{where} needs input = one of {spec.name}'s inputs: {inputs}.")
    if not isinstance(name, str) or name not in spec.input_names:
        raise ConfigError(f"{where}.input = {name!r} is not an input of {spec.name}"
                          f"{_did_you_mean(name, spec.input_names)}; choose one of {inputs} "
                          f"(`neuralmass models {spec.name}` describes them).")
    return spec.input(name)


def _read_argument(key: str, name: str, value, inp, spec):
    """One waveform argument as a plain number (ms, Hz, the input's unit, rad) or int/bool."""
    what = ARGUMENT_READERS[name][0]
    if what == "flag":
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} must be true or false.")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r} must be a number or a string with a unit, e.g. "
                          f"{key.rsplit('.', 1)[-1]} = {ARGUMENT_READERS[name][1]}.")
    if what == "count":
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} = {value!r} must be a whole number >= 1.")
        return value
    if what == "angle":
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{key} = {value!r} must be a finite number of radians, e.g. 1.5708 for 90 degrees.")
        return float(value)
    if what == "time":
        return _time_ms(key, name, value)
    if what == "frequency":
        return _frequency_hz(key, value)
    return _in_input_unit(key, value, parse_quantity(value, key), inp, spec)


def _time_ms(key: str, name: str, value) -> float:
    q = parse_in(value, key, u.ms, what="a time", example=ARGUMENT_READERS[name][1])
    if name in _POSITIVE_TIMES and q <= 0:
        raise ConfigError(f"{key} = {value!r} must be positive, e.g. {ARGUMENT_READERS[name][1]}.")
    if name == "rise" and q < 0:
        raise ConfigError(f"{key} = {value!r} must be >= 0 (0: sharp edges).")
    return float(q)


def _frequency_hz(key: str, value) -> float:
    q = parse_in(value, key, u.Hz, what="a frequency", example='"10 Hz"')
    if q <= 0:
        raise ConfigError(f"{key} = {value!r} must be positive, e.g. \"10 Hz\".")
    return float(q)


def _in_input_unit(key: str, value, q, inp, spec) -> float:
    """An amplitude as a plain number in the unit of input ``inp`` (plain numbers are already)."""
    if not isinstance(q, u.Quantity):
        return float(q)
    if inp.unit is None:
        if not q.dim.is_dimensionless:
            raise ConfigError(f"{key} = {value!r}: {spec.name}'s input {inp.name} is dimensionless; "
                              f"write a plain number.")
        return float(magnitude(q, u.UNITLESS, key))
    if q.dim != inp.unit.dim:
        raise ConfigError(f"{key} = {value!r} cannot be converted to {inp.unit}, the unit of "
                          f"{spec.name}'s input {inp.name}; write e.g. {_with_unit(1, inp.unit)} "
                          f"or a plain number (read in {inp.unit}).")
    return float(magnitude(q, inp.unit, key))


def _with_unit(number, unit) -> str:
    """``"1 Hz"``, ``"1 / ms"``: a value as the config writes it."""
    text = str(unit)
    if text.startswith("1 / "):
        return f'"{number:g} / {text[4:]}"'
    return f'"{number:g} {text}"'


def _read_placement(where: str, block: dict, surface: bool = False) -> dict:
    """``regions`` (labels, indices, {label = weight} or "all") or ``weights`` (one per region);
    in a ``[surface]`` study also ``vertices`` or ``point``, with a ``profile`` table."""
    given = [k for k in ("regions", "weights", "vertices", "point") if k in block]
    if len(given) > 1:
        raise ConfigError(f"{where} has {'both ' if len(given) == 2 else ''}{' and '.join(given)}; give one of them.")
    if not given:
        more = (", vertices = [12, 40] (vertex indices) or point = [x, y, z] (mm) with a profile table"
                if surface else "")
        raise ConfigError(f"{where} needs a spatial pattern: regions = [\"label\", 3] (labels or "
                          f"indices), regions = {{\"label\" = 0.5}}, regions = \"all\", or weights = "
                          f"[...] (one weight per region){more}.")
    key = given[0]
    if "profile" in block and key in ("regions", "weights"):
        raise ConfigError(f"{where}.profile shapes a patch around vertices or a point; with {key} every vertex "
                          f"of a region gets the region's weight. Give vertices = [...] or point = [x, y, z] "
                          f"with the profile, or drop the profile.")
    if key == "point" and "profile" not in block:
        raise ConfigError(f"{where}.point needs a profile, e.g. profile = {{kernel = \"gaussian\", sigma = "
                          f"\"5 mm\", cutoff = \"15 mm\"}} (or kernel = \"disk\" with a cutoff).")
    out = {}
    if key == "weights":
        out["weights"] = _read_weights(f"{where}.weights", block["weights"])
    elif key == "regions":
        out["regions"] = _read_regions(f"{where}.regions", block["regions"])
    elif key == "vertices":
        out["vertices"] = _read_vertices(f"{where}.vertices", block["vertices"])
    else:
        out["point"] = _read_point(f"{where}.point", block["point"])
    if "profile" in block:
        out["profile"] = _read_profile(f"{where}.profile", block["profile"])
    return out


def _read_vertices(key: str, vertices):
    """Vertex indices (a list) or ``{index = weight}`` (keys are strings in TOML)."""
    if isinstance(vertices, dict):
        ok = vertices and all(str(k).isdigit() for k in vertices) and all(_is_number(w) for w in vertices.values())
        if not ok:
            raise ConfigError(f"{key} = {vertices!r} must map vertex indices to numbers, e.g. "
                              f"{{\"120\" = 1.0, \"121\" = 0.5}}.")
        return {str(k): float(w) for k, w in vertices.items()}
    items = vertices if isinstance(vertices, list) else [vertices]
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items):
        raise ConfigError(f"{key} = {vertices!r} must be vertex indices (whole numbers >= 0, counted from 0), "
                          f"e.g. [120, 121].")
    return list(items)


def _read_point(key: str, point) -> list[float]:
    """``[x, y, z]`` in mm (numbers, read in mm, or strings with a length unit)."""
    if not isinstance(point, list) or len(point) != 3:
        raise ConfigError(f"{key} = {point!r} must be [x, y, z] in mm, e.g. [12.0, -30.0, 48.0] or "
                          f"[\"1.2 cm\", \"-3 cm\", \"4.8 cm\"].")
    out = []
    for c in point:
        q = parse_quantity(c, key) if isinstance(c, str) else c
        if isinstance(q, u.Quantity):
            if q.dim != u.mm.dim:
                raise ConfigError(f"{key} = {point!r}: {c!r} is not a length; write e.g. \"12 mm\".")
            q = float(magnitude(q, u.mm, key))
        if not _is_number(q):
            raise ConfigError(f"{key} = {point!r} must be [x, y, z] in mm (finite numbers).")
        out.append(float(q))
    return out


def _read_profile(key: str, profile) -> dict:
    """``{kernel = "gaussian", sigma = "5 mm", cutoff = "15 mm", metric = "geodesic"}`` with lengths
    in mm (:func:`neuralmass.surface.stimulus.read_profile` checks it)."""
    from .surface.local import KERNELS
    from .surface.stimulus import PROFILES, read_profile

    if not isinstance(profile, dict) or "kernel" not in profile:
        raise ConfigError(f"{key} = {profile!r} must be a table with a kernel, e.g. {{kernel = \"gaussian\", "
                          f"sigma = \"5 mm\", cutoff = \"15 mm\"}}; kernels: {', '.join(PROFILES)}.")
    kw = {k: v for k, v in profile.items() if k != "kernel"}
    kernel = profile["kernel"]
    try:
        spec = read_profile(kernel, **kw)
    except (ValueError, TypeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        # the key the message is about: the one it names last ("... got unexpected colour")
        hits = {k: max((m.start() for m in re.finditer(rf"\b{re.escape(k)}\b", msg)), default=-1) for k in kw}
        bad = max(hits, key=hits.get) if hits and max(hits.values()) >= 0 else None
        where = f"{key}.{bad}" if bad else key
        raise ConfigError(f"{where}: {msg}") from None
    out = {"kernel": kernel, "metric": spec["metric"]}
    if spec["cutoff"] is not None:
        out["cutoff"] = spec["cutoff"]
    if kernel in KERNELS:
        out.update({k: spec[k] for k in KERNELS[kernel][1]})
    return out


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _read_weights(key: str, weights) -> list[float]:
    if not isinstance(weights, list) or not weights or not all(_is_number(w) for w in weights):
        raise ConfigError(f"{key} = {weights!r} must be a list of finite numbers, one per region.")
    return [float(w) for w in weights]


def _read_regions(key: str, regions):
    if regions == "all":
        return "all"
    if isinstance(regions, dict):
        if not regions or not all(_is_number(w) for w in regions.values()):
            raise ConfigError(f"{key} = {regions!r} must map region labels (or indices) to numbers, "
                              f"e.g. {{\"rHC\" = 1.0, \"lHC\" = 0.5}}.")
        return {str(k): float(w) for k, w in regions.items()}
    items = regions if isinstance(regions, list) else [regions]
    if not items or not all(isinstance(r, (str, int)) and not isinstance(r, bool) for r in items):
        raise ConfigError(f"{key} = {regions!r} must be region labels (strings) or indices (integers), "
                          f"e.g. [\"rHC\", 3], or \"all\".")
    return list(items)


def _check_span(where: str, block: dict, parsed: dict, duration_ms: float, transient_ms: float) -> None:
    """Refuse a stimulus that never acts during the run; warn if it acts only in the transient."""
    stim = _temporal_or_error(where, parsed)
    lo, hi = stim.span
    onset = f"{where}.onset = {block['onset']!r}" if "onset" in block else f"{where} (onset 0 ms)"
    if lo >= duration_ms or hi <= 0:
        raise ConfigError(
            f"{onset}: the {parsed['kind']} acts during [{lo:.10g}, {hi:.10g}) ms, outside the simulated "
            f"time span [0, {duration_ms:.10g}) ms (simulation.duration, transient included); move its onset "
            f"into the run or lengthen simulation.duration.")
    if hi <= transient_ms:
        logger.warning("%s: the %s ends at %.10g ms, within the transient (%.10g ms), which is not recorded; "
                       "its effect is seen only in what it leaves behind.", onset, parsed["kind"], hi,
                       transient_ms)


def _temporal_or_error(where: str, parsed: dict):
    try:
        return temporal_stimulus(parsed)
    except ValueError as exc:  # the waveform function's own checks (e.g. width >= period)
        raise ConfigError(f"{where} ({parsed['kind']}): {exc}") from None
