"""Sweep configs: the study config of ``neuralmass sweep CONFIG.toml`` (:mod:`neuralmass.cli`).

The config is a study config (``neuralmass run --print-config``) with a ``[sweep]`` table::

    [sweep]
    design = "grid"               # grid | random | sobol | lhs
    points = 64                   # random / sobol / lhs: number of points
    steps = 24                    # grid: points of ranges without their own steps
    design_seed = 0
    seeds = 2                     # noise seeds per point (or a list, e.g. [1, 7])
    chunk = 16                    # points per batched engine call
    features = ["fc_corr", "fcd_ks"]   # default: all available
    timeseries = { signal = "bold", period = "2.16 s" }   # optional: store down-sampled series
    store = "results/sweep.zarr"  # default: <study.output>/sweep.zarr

    [sweep.space]
    k = { range = [0.0, 0.02], steps = 24 }
    speed = { range = ["1 mm/ms", "20 mm/ms"], steps = 24, scale = "log" }
    "noise.x_ext.sigma" = { values = [0.0003, 0.0006] }

The config side of a sweep lives here, in the studies layer (it builds its model through
:func:`neuralmass.studies.build.build_study`); :mod:`neuralmass.explore` runs sweeps and knows
nothing of configs.

Results: the Zarr store, and next to it ``<store>-report/`` with ``report.md`` (the best points),
``best_points.json`` and a heat map per feature.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigError, read_toml
from .build import sweep_model_from_config

__all__ = ["load_sweep_config"]

_SWEEP_KEYS = {"design", "points", "steps", "design_seed", "seeds", "chunk", "features", "timeseries", "store",
               "space"}


def load_sweep_config(path):
    """``(Sweep, store path)`` from a study TOML file with a ``[sweep]`` table; every key is
    checked before anything runs.

    The network, data and targets come from :func:`neuralmass.studies.build.build_study`, the
    builder of ``neuralmass run``: ``[data]`` files and ``data.subjects`` are honoured alike."""
    from ..explore.sweep import Sweep

    p = Path(path)
    raw = read_toml(p, "see docs/explore.md for a sweep config")
    sw = raw.pop("sweep", None)
    if not isinstance(sw, dict):
        raise ConfigError(f"{str(p)!r} has no [sweep] table; add one with [sweep.space] (see docs/explore.md).")
    bad = set(sw) - _SWEEP_KEYS
    if bad:
        raise ConfigError(f"sweep.{sorted(bad)[0]} is not a known key; allowed in [sweep]: "
                          f"{', '.join(sorted(_SWEEP_KEYS))}.")
    space = sw.get("space")
    if not isinstance(space, dict) or not space:
        raise ConfigError("[sweep.space] is missing or empty; give at least one parameter, e.g. "
                          "k = { range = [0.0, 0.02], steps = 24 }.")
    # [study] (name, output, seed) and [meg_eeg] do not change a sweep's numbers: they are left out
    # of its identity, so renaming a study does not orphan its store
    # the study is built as `neuralmass run` builds it (neuralmass.studies.build): a lab's [data]
    # files are read relative to this file's folder
    model = sweep_model_from_config({k: v for k, v in raw.items() if k not in ("study", "meg_eeg")},
                                    base_dir=p.resolve().parent)
    kw = {k: sw[k] for k in ("design", "points", "steps", "design_seed", "seeds", "chunk", "features", "timeseries")
          if k in sw}
    try:
        sweep = Sweep(model, space, **kw)
    except ValueError as exc:
        raise ConfigError(f"[sweep]: {exc}") from None
    output = raw.get("study", {}).get("output", "results")
    store = sw.get("store") or str(Path(output) / "sweep.zarr")
    return sweep, store
