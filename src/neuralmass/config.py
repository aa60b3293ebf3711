"""Study configuration files (TOML): schema, unit parsing and validation.

A study is described by a TOML file (see ``neuralmass run --print-config``). Every key is checked
before anything runs; a bad file raises :class:`ConfigError` naming the key, the value and what is
allowed. Quantities are written as strings with a unit, e.g. ``dt = "0.1 ms"``,
``speed = "10 mm/ms"``, ``tr = "0.72 s"``; plain numbers are read in the unit the key documents.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import brainunit as u

__all__ = ["ConfigError", "DEFAULT_CONFIG_TOML", "default_config", "load_config", "validate_config",
           "parse_quantity"]


class ConfigError(ValueError):
    """A study configuration is invalid."""


DEFAULT_CONFIG_TOML = """\
# neuralmass study configuration (TOML). Quantities are strings with units ("0.1 ms");
# plain numbers are read in the unit given in the comment.

[study]
name = "hcp-resting-state"
seed = 42                    # noise seed: the same seed reproduces the numbers
output = "results"           # results folder

[data]
dataset = "hcp"              # see `neuralmass datasets list`
normalize = "max"            # structural weights: max | rowsum | log | none

[model]
name = "Hopf"                # see `neuralmass models`
# Slow noise-driven Hopf nodes just below the bifurcation (Deco et al. 2017): a = -0.02 / s,
# angular frequency omega = 2 pi 0.05 Hz = 0.314 rad/s. Units as in `neuralmass models Hopf`.
params = { a = "-0.02 / s", omega = "0.3142 / s" }

[network]
coupling = "diffusive"       # linear | diffusive | sigmoidal | sigmoidal_jansen_rit | tanh
k = 0.004                    # global coupling strength (per ms for the Hopf drift)
speed = "10 mm/ms"           # conduction speed (delays = tract length / speed)
delays = true                # false: instantaneous coupling

[noise]
kind = "white"               # white | ou | none
sigma = 0.00063              # white: input unit x sqrt(ms) (0.02 per sqrt(s) for the Hopf x, y)

[simulation]
dt = "5 ms"
duration = "900 s"           # transient included
transient = "36 s"
method = "heun"              # euler | heun | rk4

[bold]
enabled = true
variable = ""                # empty: the model's coupled variable
tr = "0.72 s"                # HCP repetition time
coefficients = "revised"     # classic | revised
scale = 20.0                 # neural activity -> vasodilatory drive (per s^2)
baseline = "auto"            # activity subtracted before the hemodynamics ("auto": the node's rest value)

[analysis]
fcd_window = "60 s"          # sliding window for FCD
fcd_step = "2 s"

[meg_eeg]
enabled = "auto"             # auto: when tvb-data is installed; true | false
duration = "20 s"
"""

_ALLOWED = {
    "study": {"name": str, "seed": int, "output": str},
    "data": {"dataset": str, "normalize": str},
    "model": {"name": str, "params": dict},
    "network": {"coupling": str, "k": (int, float), "speed": (str, int, float), "delay_mode": str,
                "delays": bool},
    "noise": {"kind": str, "sigma": (int, float, str), "tau": (str, int, float)},
    "simulation": {"dt": (str, int, float), "duration": (str, int, float),
                   "transient": (str, int, float), "method": str},
    "bold": {"enabled": bool, "variable": str, "tr": (str, int, float), "coefficients": str,
             "scale": (int, float), "baseline": (str, int, float)},
    "analysis": {"fcd_window": (str, int, float), "fcd_step": (str, int, float)},
    "meg_eeg": {"enabled": (bool, str), "duration": (str, int, float)},
}

_CHOICES = {
    ("data", "normalize"): ("max", "rowsum", "log", "none"),
    ("network", "coupling"): ("linear", "diffusive", "sigmoidal", "sigmoidal_jansen_rit", "tanh"),
    ("network", "delay_mode"): ("integer", "linear"),
    ("noise", "kind"): ("white", "ou", "none"),
    ("simulation", "method"): ("euler", "heun", "rk4"),
    ("bold", "coefficients"): ("classic", "revised"),
}

_TIMES = {("simulation", "dt"), ("simulation", "duration"), ("simulation", "transient"), ("bold", "tr"),
          ("analysis", "fcd_window"), ("analysis", "fcd_step"), ("noise", "tau"), ("meg_eeg", "duration")}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_UNIT_TOKEN = re.compile(r"[A-Za-z_]+")


def parse_quantity(text: Any, key: str):
    """Parse ``"10 mm/ms"`` into a brainunit Quantity; numbers pass through unchanged.

    Units are brainunit names (ms, second or s, Hz, mV, mm, nA, ...) combined with ``*``, ``/``
    and ``**``.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        raise ConfigError(f"{key} = {text!r}: expected a number or a string such as \"10 ms\".")
    m = _QUANTITY.match(text)
    if not m:
        raise ConfigError(f"{key} = {text!r}: expected a number followed by a unit, e.g. \"10 ms\".")
    value, unit_text = float(m.group(1)), m.group(2)
    if not unit_text:
        return value
    names = {}
    for tok in set(_UNIT_TOKEN.findall(unit_text)):
        alias = {"s": "second", "sec": "second", "uV": "uvolt", "fT": "ftesla", "T": "tesla",
                 "V": "volt", "m": "meter"}.get(tok, tok)
        unit = getattr(u, alias, None)
        if not isinstance(unit, u.Unit):
            raise ConfigError(f"{key} = {text!r}: unknown unit {tok!r}.")
        names[tok] = unit
    if not re.fullmatch(r"[A-Za-z_\s\*/\(\)\d\.\-]+", unit_text):
        raise ConfigError(f"{key} = {text!r}: a unit may only combine names with *, / and **.")
    if unit_text.lstrip().startswith("/"):
        unit_text = "1 " + unit_text
    try:
        unit = eval(unit_text, {"__builtins__": {}}, names)  # noqa: S307 (names only)
    except Exception as exc:  # pragma: no cover - message path
        raise ConfigError(f"{key} = {text!r}: cannot read the unit ({exc}).") from None
    return value * unit


def default_config() -> dict:
    """The default study as a dict (the content of ``--print-config``)."""
    return tomllib.loads(DEFAULT_CONFIG_TOML)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "params":
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """Read a TOML study file (missing keys take the defaults) and validate it."""
    cfg = default_config()
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file {str(p)!r} does not exist; write one with "
                              f"`neuralmass run --print-config > study.toml`.")
        try:
            user = tomllib.loads(p.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
        cfg = _merge(cfg, user)
    if overrides:
        cfg = _merge(cfg, overrides)
    return validate_config(cfg)


def validate_config(cfg: dict) -> dict:
    """Check every section and key; convert quantities. Returns a new, parsed dict."""
    from .datasets import _REGISTRY as DATASETS  # registry of dataset names
    from .models import MODELS

    out: dict = {}
    for section, body in cfg.items():
        if section not in _ALLOWED:
            raise ConfigError(f"[{section}] is not a known section; allowed: {', '.join(_ALLOWED)}.")
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
            choices = _CHOICES.get((section, key))
            if choices and value not in choices:
                raise ConfigError(f"{full} = {value!r} is not allowed; choose one of {', '.join(choices)}.")
            if (section, key) in _TIMES:
                q = parse_quantity(value, full)
                if isinstance(q, u.Quantity) and q.dim != u.ms.dim:
                    raise ConfigError(f"{full} = {value!r} is not a time; write e.g. \"10 ms\".")
                ms = q.to_decimal(u.ms) if isinstance(q, u.Quantity) else q
                if ms <= 0 and key != "transient":
                    raise ConfigError(f"{full} = {value!r} must be positive.")
                if ms < 0:
                    raise ConfigError(f"{full} = {value!r} must be >= 0.")
                value = float(ms)
            out[section][key] = value
    model = out["model"]["name"]
    if model not in MODELS:
        raise ConfigError(f"model.name = {model!r} is not a known model; choose one of "
                          f"{', '.join(MODELS)}.")
    spec = MODELS[model]
    params = {}
    for name, val in out["model"].get("params", {}).items():
        if name not in spec.param_names:
            raise ConfigError(f"model.params.{name} is not a parameter of {model}; parameters: "
                              f"{', '.join(spec.param_names)}.")
        q = parse_quantity(val, f"model.params.{name}")
        try:
            spec.param(name).to_canonical(q)
        except ValueError as exc:
            raise ConfigError(f"model.params.{name} = {val!r}: {exc}") from None
        params[name] = q
    out["model"]["params"] = params
    ds = out["data"]["dataset"]
    if ds not in DATASETS:
        raise ConfigError(f"data.dataset = {ds!r} is not a known dataset; choose one of "
                          f"{', '.join(DATASETS)} (see `neuralmass datasets list`).")
    if "speed" in out["network"]:
        q = parse_quantity(out["network"]["speed"], "network.speed")
        if isinstance(q, u.Quantity) and q.dim != (u.mm / u.ms).dim:
            raise ConfigError(f"network.speed = {out['network']['speed']!r} is not a speed; write e.g. \"10 mm/ms\".")
        sp = q.to_decimal(u.mm / u.ms) if isinstance(q, u.Quantity) else q
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
    return out


def _type_names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false", dict: "a table"}
    return " or ".join(names[t] for t in types)
