r"""``neuralmass fit``: fit a study's parameters to the empirical data of some subjects and score
the fit on others.

A fit config is a study config (the one ``neuralmass run`` reads) with a ``[fit]`` table::

    [data]
    dataset = "hcp"
    subjects = [0, 1, 2, 3]          # the fit's targets: these subjects' group FC and FCD

    [fit]
    backend = "grad"                 # grad | nevergrad | scipy
    steps = 100                      # optimiser steps (gradient) or generations
    seed = 0                         # optimiser, starting points and noise
    realizations = 2                 # noise runs averaged in each evaluation
    fixed_noise = false              # new noise at every step (a stochastic objective)
    lr = 0.05                        # grad: Adam learning rate in unconstrained coordinates
    restarts = 1                     # grad: starts optimised together
    batch_size = 16                  # nevergrad / scipy: candidates per generation
    test_subjects = [4, 5, 6]        # scored after the fit (default: the subjects not fitted)
    score_seeds = 3                  # new-noise runs of the fitted model that are scored

    [fit.objective]                  # weights of the loss terms
    fc = 1.0                         # 1 - Pearson r of the FC upper triangles
    fcd = 1.0                        # Wasserstein-1 distance of the FCD value distributions
    fcd_ks = 0.0                     # smoothed KS distance of the FCD value distributions

    [fit.parameters]                 # what is fitted, its bounds (documented units) and prior
    k = { bounds = [0.001, 0.01] }
    a = { per = "region", bounds = ["-0.07 / s", "0.03 / s"] }
    "conn.w" = { per = "connection", bounds = [0.0, 3.0], l1 = 0.001 }

Parameters are global (``k``), per group of regions (``"a[rHC,lHC]"``), per region
(``per = "region"``) or per connection (``"conn.w"`` with ``per = "connection"``: every edge of the
structural connectome, directed). The loss of a parameter point :math:`\theta` is

.. math::

    \mathcal L(\theta) = \frac{1}{R}\sum_{r=1}^{R}\Big[ w_{FC}\,\big(1 - \rho(FC_r(\theta),
    \overline{FC}_{train})\big) + w_{FCD}\, W_1\big(FCD_r(\theta), FCD_{train}\big)\Big]
    + \sum_p \lambda_p\, \Omega_p(\theta_p),

with :math:`R` noise realisations, the group-mean empirical FC of the fit subjects, the pooled
FCD values of their recordings, the 1-D Wasserstein distance :math:`W_1` and optional priors
:math:`\Omega` (``l1``: sparsity; ``l2``: stay near the starting values).

``neuralmass fit CONFIG --out DIR`` writes into ``DIR``:

* ``fitted.toml`` — the study config with the fitted values (regional values by label, fitted
  connection weights in ``fitted_weights.csv`` named by ``data.weights``), which ``neuralmass
  run`` accepts as it is;
* ``fit_summary.json`` — ``n_parameters``, backend, steps, simulations, wall time, train and
  test subjects, losses and scores (group and per-subject FC r, FCD KS, on new noise);
* ``fit_loss.png`` and ``fit_report.md``; ``fit_result.npz`` (:class:`~neuralmass.fit.FitResult`);
* ``fit_state.pkl`` — the optimiser state after every step: running the same command again
  continues where an interrupted fit stopped (a finished fit is scored again, not refitted).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..analysis import pearson
from ..config import ConfigError, load_config, parse_quantity, read_toml
from .build import build_study

__all__ = ["FitSpec", "load_fit_config", "run_fit", "fit_loss", "score_fit", "FIT_MARKER"]

logger = logging.getLogger("neuralmass")

#: File marking a folder as a ``neuralmass fit`` output (JSON: the fit's config hash).
FIT_MARKER = ".neuralmass-fit"

_FIT_KEYS = {"backend": str, "steps": int, "seed": int, "realizations": int, "fixed_noise": bool,
             "lr": (int, float), "restarts": int, "batch_size": int, "test_subjects": list,
             "score_seeds": int, "objective": dict, "parameters": dict, "clip": (int, float)}
_OBJECTIVE_KEYS = ("fc", "fcd", "fcd_ks")
#: bandwidth h of the smoothed KS term (units of correlation; objectives.fcd_ks_smooth's default)
KS_BANDWIDTH = 0.02
_PARAM_KEYS = {"bounds", "per", "transform", "init", "l1", "l2"}
_BACKENDS = ("grad", "nevergrad", "scipy")


class FitSpec(dict):
    """The validated ``[fit]`` table (a dict with defaults filled in)."""


def _fit_error(key, value, allowed):
    return ConfigError(f"fit.{key} = {value!r} is not valid; {allowed}.")


def validate_fit(raw: Mapping, model_name: str | None = None) -> FitSpec:
    """Check a ``[fit]`` table and fill in defaults; raise :class:`ConfigError` naming the key."""
    if not isinstance(raw, Mapping):
        raise ConfigError("[fit] must be a table of keys (see docs/fitting.md, 'One command').")
    for key, value in raw.items():
        if key not in _FIT_KEYS:
            raise ConfigError(f"fit.{key} is not a known key; allowed in [fit]: {', '.join(sorted(_FIT_KEYS))}.")
        types = _FIT_KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and types in (int, (int, float))):
            raise _fit_error(key, value, f"expected {getattr(types, '__name__', 'a number')}")
    spec = FitSpec(backend="grad", steps=100, seed=0, realizations=1, fixed_noise=True, lr=0.05,
                   restarts=1, batch_size=16, test_subjects=None, score_seeds=3, clip=1.0,
                   objective={"fc": 1.0, "fcd": 0.0}, parameters={})
    spec.update({k: v for k, v in raw.items() if k not in ("objective", "parameters")})
    if spec["backend"] not in _BACKENDS:
        raise _fit_error("backend", spec["backend"], f"use one of {', '.join(_BACKENDS)}")
    for key, low in (("steps", 1), ("realizations", 1), ("restarts", 1), ("batch_size", 1), ("score_seeds", 1)):
        if spec[key] < low:
            raise _fit_error(key, spec[key], f"it must be >= {low}")
    if not 0 <= spec["seed"] < 2 ** 32:
        raise _fit_error("seed", spec["seed"], "use 0 <= seed < 2**32")
    if not (math.isfinite(spec["lr"]) and spec["lr"] > 0):
        raise _fit_error("lr", spec["lr"], "use a positive learning rate such as 0.05")
    if spec["backend"] == "scipy" and spec["batch_size"] < 5:
        raise _fit_error("batch_size", spec["batch_size"], "differential evolution needs >= 5 members")
    obj = dict(raw.get("objective", {}))
    for key, w in obj.items():
        if key not in _OBJECTIVE_KEYS:
            raise ConfigError(f"fit.objective.{key} is not a known term; allowed: {', '.join(_OBJECTIVE_KEYS)}.")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ConfigError(f"fit.objective.{key} = {w!r}: a weight must be a number >= 0.")
    objective = {"fc": 1.0, "fcd": 0.0, **{k: float(v) for k, v in obj.items()}}
    if not any(objective.values()):
        raise ConfigError("fit.objective: every weight is 0; give fc and/or fcd a positive weight.")
    spec["objective"] = objective
    params = raw.get("parameters")
    if not params:
        raise ConfigError("[fit.parameters] is missing or empty; name at least one parameter, e.g. "
                          "k = { bounds = [0.001, 0.01] }.")
    out = {}
    for name, entry in params.items():
        where = f"fit.parameters.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} = {entry!r}: give a table, e.g. {{ bounds = [0.0, 1.0] }}.")
        bad = set(entry) - _PARAM_KEYS
        if bad:
            raise ConfigError(f"{where}.{sorted(bad)[0]} is not a known key; allowed: {', '.join(sorted(_PARAM_KEYS))}.")
        e = dict(entry)
        if "bounds" in e:
            b = e["bounds"]
            if not (isinstance(b, list) and len(b) == 2):
                raise ConfigError(f"{where}.bounds = {b!r}: give [low, high] (numbers in the documented "
                                  f"unit, or strings with units such as \"-0.07 / s\").")
            e["bounds"] = tuple(parse_quantity(v, f"{where}.bounds") if isinstance(v, str) else float(v) for v in b)
        if "init" in e and isinstance(e["init"], str):
            e["init"] = parse_quantity(e["init"], f"{where}.init")
        if e.get("per") not in (None, "region", "connection"):
            raise ConfigError(f"{where}.per = {e['per']!r}: use \"region\" or \"connection\" (or leave it out "
                              f"for one value).")
        for prior in ("l1", "l2"):
            if prior in e:
                w = e[prior]
                if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                    raise ConfigError(f"{where}.{prior} = {w!r}: a prior weight must be a number >= 0.")
        if "l1" in e and "l2" in e:
            raise ConfigError(f"{where}: give one prior, l1 or l2, not both.")
        out[name] = e
    spec["parameters"] = out
    return spec


def load_fit_config(path, overrides: Mapping | None = None) -> tuple[dict, FitSpec]:
    """``(study config, fit spec)`` from a TOML file with a ``[fit]`` table, every key checked.

    ``overrides`` may hold ``{'fit': {...}}`` (e.g. ``steps`` from the command line) and study
    sections, as for :func:`neuralmass.config.load_config`.
    """
    p = Path(path)
    raw = read_toml(p, "start from examples/configs/fit_hcp_regional.toml")
    over = dict(overrides or {})
    fit_raw = raw.get("fit")
    if fit_raw is None:
        raise ConfigError(f"{str(p)!r} has no [fit] table; add [fit] and [fit.parameters] (see "
                          f"docs/fitting.md, 'One command').")
    fit_raw = {**fit_raw, **over.pop("fit", {})}
    cfg = load_config(p, over, strict=False, skip=("fit",))
    spec = validate_fit(fit_raw, cfg["model"]["name"])
    return cfg, spec


# ----------------------------------------------------------------------------------- the loss
def _fc(x):
    import jax.numpy as jnp

    x = x - jnp.mean(x, axis=0)
    c = x.T @ x
    d = jnp.sqrt(jnp.clip(jnp.diag(c), 1e-30, None))
    return c / d[:, None] / d[None, :]


def _upper_corr(a, b, iu):
    return pearson(a[iu], b[iu])


def fit_loss(n_regions: int, fcd_geometry: tuple | None, weights: Mapping):
    r"""The fit's data loss ``loss(bold, target)`` (pure, differentiable).

    ``bold`` is one simulated BOLD run ``(T, N)``; ``target`` is ``{'fc': (N, N), 'fcd': (V,)}``
    (group-mean FC, pooled FCD values). The loss is
    :math:`w_{FC}(1 - \rho) + w_{FCD} W_1 + w_{KS} D_h`, with :math:`\rho` the Pearson
    correlation of the FC upper triangles, :math:`W_1` the Wasserstein-1 distance between the FCD
    value distributions (:func:`neuralmass.objectives.wasserstein_distance`) and :math:`D_h` their
    smoothed Kolmogorov–Smirnov distance (logistic kernel of scale h = 0.02,
    :func:`neuralmass.objectives.fcd_ks_smooth`; the exact KS is its limit h -> 0). W1 pulls every
    FCD quantile towards its empirical value; D_h pushes on the largest CDF gap, the statistic
    the fit is scored with.
    """
    import jax.numpy as jnp

    from ..analysis.fcd import fcd, fcd_values
    from ..objectives import ks_distance, smooth_ks_grid, wasserstein_distance

    iu = np.triu_indices(n_regions, 1)
    w_fc, w_fcd = float(weights.get("fc", 1.0)), float(weights.get("fcd", 0.0))
    w_ks = float(weights.get("fcd_ks", 0.0))
    for key, w in (("fcd", w_fcd), ("fcd_ks", w_ks)):
        if w and fcd_geometry is None:
            raise ConfigError(f"fit.objective.{key} > 0 needs empirical BOLD recordings and BOLD on "
                              f"(bold.enabled = true); set fit.objective.{key} = 0 or use data with BOLD.")
    window, step, offset = fcd_geometry or (0, 0, 0)
    grid = smooth_ks_grid(-1.0, 1.0, KS_BANDWIDTH) if w_ks else None

    def loss(bold, target):
        total = 0.0
        if w_fc:
            total = total + w_fc * (1.0 - _upper_corr(_fc(bold), target["fc"], iu))
        if w_fcd or w_ks:
            vals = fcd_values(fcd(bold, window, step), offset)
            if w_fcd:
                total = total + w_fcd * wasserstein_distance(vals, target["fcd"])
            if w_ks:
                total = total + w_ks * ks_distance(vals, target["fcd"], smooth=KS_BANDWIDTH, grid=grid)
        return jnp.asarray(total)

    return loss


# ----------------------------------------------------------------------------------- scoring
def _ks(a, b) -> float:
    from scipy.stats import ks_2samp

    return float(ks_2samp(np.asarray(a, float), np.asarray(b, float)).statistic)


def _corr_upper_np(a, b) -> float:
    iu = np.triu_indices(a.shape[0], 1)
    return float(pearson(a[iu], b[iu], xp=np))


def score_fit(bolds, targets, fcd_geometry) -> dict:
    """Scores of simulated BOLD runs ``(S, T, N)`` against the empirical targets of some subjects.

    Returns ``{'fc_r_group', 'fc_r_group_runs', 'fc_r_subjects', 'fcd_ks', 'fcd_ks_runs',
    'fcd_w1'}``: the Pearson r of each run's FC with the subjects' group-mean FC (mean over runs
    and each run), the mean over runs of each subject's FC r, the exact two-sample KS distance of
    each run's FCD values with the subjects' pooled FCD values (mean and each run), and the mean
    Wasserstein-1 distance of the same (the fit's FCD term, so ``w_fc (1 - fc_r_group) + w_fcd
    fcd_w1`` is the loss on these subjects).
    """
    from scipy.stats import wasserstein_distance
    from ..analysis.fcd import fcd, fcd_values

    bolds = np.asarray(bolds, dtype=float)
    fcs = [np.corrcoef(b.T) for b in bolds]
    group = targets.fc_group
    out: dict[str, Any] = {}
    runs = [_corr_upper_np(f, group) for f in fcs]
    out["fc_r_group"], out["fc_r_group_runs"] = float(np.mean(runs)), runs
    out["fc_r_subjects"] = {s: float(np.mean([_corr_upper_np(f, np.asarray(targets.fc[i], float)) for f in fcs]))
                            for i, s in enumerate(targets.subjects)}
    emp = targets.fcd_values
    if fcd_geometry is not None and emp is not None:
        w, st, off = fcd_geometry
        vals = [np.asarray(fcd_values(fcd(b, w, st), off), dtype=float) for b in bolds]
        ks = [_ks(v, emp) for v in vals]
        out["fcd_ks"], out["fcd_ks_runs"] = float(np.mean(ks)), ks
        out["fcd_w1"] = float(np.mean([wasserstein_distance(v, np.asarray(emp, float)) for v in vals]))
    return out


# ----------------------------------------------------------------------------------- outputs
def _config_hash(cfg: Mapping, spec: Mapping) -> str:
    keep = {k: v for k, v in cfg.items() if k not in ("study", "meg_eeg") and not k.startswith("_")}
    fit = {k: v for k, v in spec.items() if k not in ("steps", "test_subjects", "score_seeds")}
    text = json.dumps({"study": keep, "fit": fit}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _prepare_out(out: Path, digest: str, overwrite: bool) -> bool:
    """Make ``out`` ready; returns True when it holds a fit of the same config (resume)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a file; give a folder.")
    marker = out / FIT_MARKER
    if marker.exists():
        try:
            got = json.loads(marker.read_text()).get("config")
        except (OSError, ValueError):
            got = None
        if got != digest:
            raise ConfigError(
                f"--out {str(out)!r} holds a fit of a different config (parameters, objective, data or "
                f"model changed); choose another folder (nothing in it was changed).")
        return True
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"--out {str(out)!r} is a non-empty folder that neuralmass fit did not make; "
                          f"choose another folder, or pass --overwrite to write the fit's files into it "
                          f"(nothing else in it is touched).")
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"tool": "neuralmass fit", "config": digest}))
    return False


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if hasattr(v, "unit") and hasattr(v, "mantissa"):
        return json.dumps(str(v))
    raise TypeError(f"cannot write {v!r} to TOML")


def _key(k) -> str:
    k = str(k)
    return k if k.replace("_", "").isalnum() and not k[0].isdigit() else json.dumps(k)


def _write_toml(cfg: Mapping) -> str:
    lines = []
    for section, body in cfg.items():
        if section.startswith("_") or not isinstance(body, Mapping):
            continue
        lines.append(f"[{section}]")
        for k, v in body.items():
            if v is None:
                continue
            lines.append(f"{_key(k)} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def _raw_study_sections(path: Path) -> dict:
    raw = read_toml(path)
    raw.pop("fit", None)
    return raw


def fitted_config(raw: Mapping, study, space, result, out: Path) -> dict:
    """The study config with the fitted values: global values replace the config's, per-region
    values become ``{default, regions = {label: value}}`` tables, per-group values set their
    regions, and fitted connection weights are written to ``fitted_weights.csv`` (labelled)
    and named by ``data.weights``. Values are written in the parameters' documented units."""
    from ..datasets.tables import write_table

    cfg = json.loads(json.dumps(raw, default=str))
    for sec in ("model", "network", "data", "noise"):
        cfg.setdefault(sec, {})
    base = Path(study.cfg.get("_base_dir", "."))
    for k in ("connectome", "fc", "bold", "weights"):     # the lab's files, wherever fitted.toml lives
        if isinstance(cfg["data"].get(k), str) and not Path(cfg["data"][k]).is_absolute():
            cfg["data"][k] = str((base / cfg["data"][k]).resolve())
    params = dict(cfg["model"].get("params", {}))
    labels = list(study.labels)
    values = space.to_user(space.canonical_to_box(result.canonical))
    for d in space.dims:
        v = values[d.name]
        unit = getattr(v, "unit", None)
        mag = np.asarray(getattr(v, "mantissa", v), dtype=float)

        text = "" if unit is None else str(unit)
        text = "/ " + text[4:] if text.startswith("1 / ") else text

        def fmt(x):
            return f"{float(x)!r} {text}" if text not in ("", "1") else float(x)

        base = d.path[-1]
        if d.path == ("conn", "w"):
            W = np.zeros((study.n_regions, study.n_regions))
            tgt, src = study.network._edges()
            W[tgt, src] = mag
            write_table(out / "fitted_weights.csv", W, labels, overwrite=True)   # our own folder
            cfg["data"]["weights"] = "fitted_weights.csv"
        elif d.path[0] == "node":
            if d.per == "region" or d.regions is not None:
                old = params.get(base)
                table = dict(old) if isinstance(old, Mapping) else {"default": old if old is not None else fmt(
                    np.asarray(getattr(study.node, base, 0.0)))}
                regions = dict(table.get("regions", {}))
                if d.per == "region":
                    for lab, x in zip(labels, mag):
                        regions[lab] = fmt(x)
                else:
                    for i in d.regions:
                        regions[labels[i]] = fmt(mag)
                table["regions"] = regions
                params[base] = table
            else:
                params[base] = fmt(mag)
        elif d.path == ("k",):
            cfg["network"]["k"] = float(mag)
        elif d.path == ("speed",):
            cfg["network"]["speed"] = f"{float(mag)!r} mm/ms"
        else:
            raise ConfigError(f"fit.parameters.{d.name}: writing this parameter to a study config is not "
                              f"supported; fit node parameters, k, speed or conn.w.")
    cfg["model"]["params"] = params
    return cfg


# ----------------------------------------------------------------------------------- the fit
def _space_and_penalty(spec: FitSpec):
    space, penalty = {}, {}
    for name, e in spec["parameters"].items():
        entry = {k: e[k] for k in ("bounds", "per", "transform", "init") if k in e}
        space[name] = entry
        for prior in ("l1", "l2"):
            if prior in e and e[prior] > 0:
                penalty[name] = (prior, float(e[prior]))
    return space, penalty


def run_fit(cfg: dict, spec: FitSpec, out, *, config_path=None, overwrite: bool = False,
            quiet: bool = False) -> dict:
    """Fit, score and write the outputs (see the module docstring); returns the summary."""
    import brainunit as u
    import jax

    from ..fit import Fitter
    from ..forward.bold import BOLDMonitor

    t0 = time.perf_counter()
    out = Path(out)
    study = build_study(cfg)
    if not study.bold_enabled:
        raise ConfigError("neuralmass fit fits BOLD FC/FCD: set bold.enabled = true.")
    train = study.targets
    if train.n_subjects == 0 or train.fc_group is None:
        raise ConfigError(f"data {study.source!r} has no empirical recordings to fit; use a dataset with FC "
                          f"(e.g. hcp) or give data.fc / data.bold.")
    test_sel = spec["test_subjects"]
    if test_sel is None:
        test_sel = [i for i in range(len(study.all_subjects)) if study.all_subjects[i] not in train.subjects]
    test = study.targets_for(test_sel) if test_sel else None
    overlap = set(train.subjects) & set(test.subjects) if test is not None else set()
    if overlap:
        logger.warning("fit.test_subjects %s are also fitted (data.subjects): their score is not held out.",
                       sorted(overlap))
    space, penalty = _space_and_penalty(spec)
    weights = spec["objective"]
    geometry = train.fcd if (train.fcd is not None and train.fcd_values is not None) else None
    loss = fit_loss(study.n_regions, geometry if weights.get("fcd") else None, weights)
    digest = _config_hash(cfg, spec)
    resume = _prepare_out(out, digest, overwrite)
    bold_monitor = BOLDMonitor(study.variable, name="bold", **study.bold_options())
    lengths = getattr(study.connectome, "lengths_mm", None)
    kw = dict(dt=study.dt, duration=study.duration, transient=study.transient, method=study.method,
              monitors=[bold_monitor], inputs=study.stimuli or None, seed=spec["seed"],
              fixed_noise=spec["fixed_noise"], realizations=spec["realizations"], penalty=penalty or None,
              progress=not quiet, distance=None if lengths is None else np.asarray(lengths, float))
    if spec["backend"] == "grad":
        kw.update(lr=spec["lr"], restarts=spec["restarts"], clip=spec["clip"])
    else:
        kw.update(batch_size=spec["batch_size"])
    fitter = Fitter(study.network, loss_fn=loss, backend=spec["backend"], space=space, **kw)
    target = {"fc": np.asarray(train.fc_group, dtype=float),
              "fcd": np.asarray(train.fcd_values if train.fcd_values is not None else [0.0], dtype=float)}
    logger.info("fit: %d parameters (%s), backend %s, %d steps; train subjects %s; data %s%s",
                fitter.space.dim, ", ".join(fitter.space.names), spec["backend"], spec["steps"],
                ", ".join(train.subjects), study.source, " (resuming)" if resume else "")
    result = fitter.fit(target, n_steps=spec["steps"], checkpoint=out / "fit_state.pkl")
    result.save(out / "fit_result.npz")

    # score the fitted model with new noise (keys never used by the fit)
    key = jax.random.PRNGKey(int(spec["seed"]) + 104_729)
    sims = fitter.simulate(result, key=key, batch_size=spec["score_seeds"])["bold"]
    score_geometry = train.fcd
    scores = {"train": score_fit(sims, train, score_geometry)}
    if test is not None:
        scores["test"] = score_fit(sims, test, test.fcd)
    start = fitter.simulate({n: v for n, v in fitter.space.to_user(fitter.space.init_box()).items()},
                            key=key, batch_size=spec["score_seeds"])["bold"]
    scores["start_test" if test is not None else "start_train"] = score_fit(start, test or train,
                                                                            (test or train).fcd)

    raw = _raw_study_sections(Path(config_path)) if config_path else json.loads(json.dumps(
        {k: v for k, v in cfg.items() if not k.startswith("_")}, default=str))
    fitted = fitted_config(raw, study, fitter.space, result, out)
    fitted.setdefault("study", {})["output"] = "results-fitted"
    header = (f"# written by `neuralmass fit` from {config_path or 'a config'}: the study with the fitted "
              f"values ({fitter.space.dim} parameters).\n# `neuralmass run fitted.toml` simulates it.\n\n")
    (out / "fitted.toml").write_text(header + _write_toml(fitted))
    # data paths of the original config are relative to it: make them absolute in fitted.toml
    summary = {
        "n_parameters": int(fitter.space.dim), "parameters": fitter.space.describe(),
        "backend": spec["backend"], "steps": int(result.n_steps), "simulations": int(result.n_simulations),
        "realizations": spec["realizations"], "fixed_noise": spec["fixed_noise"],
        "wall_time_s": float(time.perf_counter() - t0), "fit_wall_time_s": float(result.wall_time),
        "resumed_from": int(result.resumed_from), "data": study.source,
        "train_subjects": list(train.subjects), "test_subjects": list(test.subjects) if test else [],
        "objective": weights, "penalty": {k: list(v) for k, v in penalty.items()},
        "loss": float(result.loss), "loss_history": [float(x) for x in result.history],
        "scores": scores, "score_seeds": spec["score_seeds"],
        "versions": {"jax": jax.__version__, "neuralmass": _version()},
    }
    (out / "fit_summary.json").write_text(json.dumps(summary, indent=2, default=float))
    _figure(result, summary, out)
    _report(summary, out, config_path)
    _ = u
    return summary


def _version() -> str:
    from .. import __version__

    return __version__


def _figure(result, summary, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - viz extra absent
        logger.warning("matplotlib is not installed: fit_loss.png not written (pip install 'neuralmass[viz]').")
        return
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    result.plot(ax)
    ax.set_title(f"{summary['backend']}: {summary['n_parameters']} parameters, "
                 f"{summary['simulations']} simulations")
    fig.tight_layout()
    fig.savefig(out / "fit_loss.png", dpi=120)
    plt.close(fig)


def _report(summary: dict, out: Path, config_path) -> None:
    s = summary["scores"]
    lines = ["# Fit report", "",
             f"- config: `{config_path}`", f"- data: {summary['data']}",
             f"- fitted: {summary['n_parameters']} parameters, backend `{summary['backend']}`, "
             f"{summary['steps']} steps, {summary['simulations']} simulations, "
             f"{summary['fit_wall_time_s']:.0f} s fitting ({summary['wall_time_s']:.0f} s in all)",
             f"- train subjects: {', '.join(summary['train_subjects'])}",
             f"- test subjects (never fitted): {', '.join(summary['test_subjects']) or 'none'}",
             f"- final loss: {summary['loss']:.4f}", "",
             "| scored on | runs (new noise) | group FC r | per-subject FC r | FCD KS |", "|---|---|---|---|---|"]
    for name, sc in s.items():
        subj = ", ".join(f"{v:.2f}" for v in sc["fc_r_subjects"].values())
        ks = f"{sc['fcd_ks']:.3f}" if "fcd_ks" in sc else "—"
        lines.append(f"| {name} | {summary['score_seeds']} | {sc['fc_r_group']:.3f} | {subj} | {ks} |")
    lines += ["", "`start_*`: the model before fitting, same noise. ![loss](fit_loss.png)", ""]
    (out / "fit_report.md").write_text("\n".join(lines))
