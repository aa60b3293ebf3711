"""The main job: a reproducible resting-state study from one config (``neuralmass run``).

Pipeline (default config, bundled real data):

1. HCP connectome (80 AAL2 cortical regions, group SC and tract lengths) and the empirical
   resting BOLD of 7 subjects (TR 0.72 s);
2. a whole-brain network of noise-driven nodes with diffusive coupling and conduction delays;
3. online Balloon–Windkessel BOLD sampled at the HCP TR inside the compiled loop;
4. simulated FC vs empirical group FC (Pearson r of upper triangles), per-subject FC, FCD
   distributions (KS distance), structure–function coupling;
5. when ``tvb-data`` is installed: a Jansen–Rit network on TVB's 76-region connectome projected
   to 63 EEG and 248 MEG sensors of TVB's real head model, with sensor spectra.

Every check runs before the simulation (:func:`plan_study`). Everything is written to a partial
folder and moved into place when the study finishes, so an interrupted run never leaves a
half-written result that looks complete; a step that fails after the simulation leaves the
simulated signals in place and the report says what is missing (:class:`StudyIncomplete`).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..units import magnitude
from . import preflight
from .build import (NOISE_KINDS, Study, build_study, empirical_fcd_values, network_from_config,  # noqa: F401
                    regional_params)
from .meg_eeg import WELCH_SEGMENT as _WELCH_SEGMENT, run_meg_eeg
from .output import ResultsFolder
from .report import cf_dataset as _cf, config_with_units, write_report  # noqa: F401 (config_with_units: re-export)
from .stimulation import stimulus_summary

__all__ = ["run_study", "plan_study", "StudyPlan", "StudyIncomplete"]

logger = logging.getLogger("neuralmass")

#: Modules the study's outputs need, whatever the config (NetCDF files and figures).
NEEDS = ("xarray", "h5netcdf", "h5py", "matplotlib")


class StudyIncomplete(RuntimeError):
    """The simulation finished and its signals were saved, but a later step failed.

    ``summary`` is the study summary (its ``missing`` entry says what is missing and why);
    ``output`` the results folder.
    """

    def __init__(self, msg, summary, output):
        super().__init__(msg)
        self.summary, self.output = summary, output


class StudyInterrupted(KeyboardInterrupt):
    """The study was interrupted (Ctrl-C) after its signals were saved.

    ``output`` is the results folder holding the signals and a report of what is missing. An
    interruption before the signals were saved is a plain :class:`KeyboardInterrupt` (nothing was
    kept).
    """

    def __init__(self, output):
        super().__init__(str(output))
        self.output = output


def _versions() -> dict:
    from ..io import software_versions

    return software_versions()


def _upper(m):
    from ..analysis.fc import upper_triangle
    return np.asarray(upper_triangle(np.asarray(m)))


def _corr(a, b) -> float:
    from ..analysis import pearson
    return float(pearson(np.ravel(a), np.ravel(b)))


# the builder's names, kept importable from here (neuralmass.studies.build is their home)
_regional_params = regional_params


@dataclass
class StudyPlan:
    """Everything resolved and checked before the study simulates (see :func:`plan_study`)."""

    cfg: dict
    folder: ResultsFolder
    key: Any
    data: Any
    conn: Any
    neural_period: float
    neural_steps: int
    bold_frames: int
    fcd: tuple[int, int, int] | None
    meg_eeg: bool | str
    warnings: list[str] = field(default_factory=list)
    #: ``[[stimulus]]`` blocks as engine inputs: input name -> summed Stimulus (empty: none)
    stimuli: dict = field(default_factory=dict)
    #: the built study (:func:`neuralmass.studies.build.build_study`): network, monitors, targets
    study: Study | None = None


def plan_study(cfg: dict, overwrite: bool = False) -> StudyPlan:
    """Check everything the study will need, before any simulation.

    Raises :class:`~neuralmass.studies.preflight.PreflightError` (a ``ValueError``) or
    :class:`~neuralmass.studies.output.OutputError` (an ``OSError``) naming the setting and the fix:
    missing optional packages, an unusable results folder, a time step that does not divide the
    TR, FCD windows longer than the simulated or empirical recordings, a seed outside 64 bits,
    EEG/MEG requested without tvb-data, ``[[stimulus]]`` regions that the connectome does not have
    (labels, indices, weight vectors of the wrong length). Logs a warning when conduction delays
    round to zero steps.
    """
    import importlib.util

    preflight.require_modules(NEEDS, "`neuralmass run` (NetCDF results and figures)")
    key = preflight.seed_key(cfg["study"]["seed"], "study.seed")
    folder = ResultsFolder(cfg["study"]["output"], overwrite=overwrite)
    # data, data.subjects, node, network, stimuli: built and checked before simulating
    built = build_study(cfg)
    fcd = None
    if built.bold_enabled:
        fcd = preflight.fcd_samples(cfg["analysis"]["fcd_window"], cfg["analysis"]["fcd_step"], built.tr,
                                    {"simulated BOLD": built.bold_frames})

    meg = cfg["meg_eeg"].get("enabled", "auto")
    has_tvb = importlib.util.find_spec("tvb_data") is not None
    if built.surface is not None:   # the surface's own EEG (surface.eeg) replaces the region JR M/EEG
        meg = ("not run for a surface study: its EEG is the vertex projection of surface.eeg"
               if meg is not False else False)
    elif meg == "auto":
        meg = True if has_tvb else "skipped: tvb-data is not installed (pip install 'neuralmass[data]')"
    elif meg is True and not has_tvb:
        raise preflight.PreflightError(
            "meg_eeg.enabled = true needs tvb-data: pip install 'neuralmass[data]', or set "
            "meg_eeg.enabled = false (nothing was simulated).")
    if meg is True:
        dur = cfg["meg_eeg"].get("duration", 20_000.0)
        if dur < _WELCH_SEGMENT:
            raise preflight.PreflightError(
                f"meg_eeg.duration = {dur / 1000:g} s is shorter than one spectral segment "
                f"({_WELCH_SEGMENT / 1000:g} s at 1 kHz); use at least \"{_WELCH_SEGMENT / 1000:g} s\".")
    return StudyPlan(cfg, folder, key, built.data, built.connectome, built.neural_period, built.neural_steps,
                     built.bold_frames, fcd, meg, list(built.warnings), built.stimuli, built)


def run_study(cfg: dict, quiet: bool = False, overwrite: bool = False) -> dict:
    """Run the study described by a validated config (see :func:`neuralmass.config.load_config`).

    Every check runs first (:func:`plan_study`); then the study writes into a partial folder that
    is moved into place at the end (:class:`~neuralmass.studies.output.ResultsFolder`: earlier
    neuralmass results are kept as timestamped siblings, other folders are never touched without
    ``overwrite``). If a step after the simulation fails, the simulated signals and a report saying
    what is missing are still moved into place, and :class:`StudyIncomplete` is raised.

    Returns the summary (also written to ``summary.json``). ``quiet`` only silences the progress
    bars; messages go to the ``neuralmass`` logger.
    """
    from .. import __version__
    from ..compilation_cache import enable_compilation_cache

    t_start = time.perf_counter()
    enable_compilation_cache(cfg["simulation"].get("compilation_cache") or None)
    plan = plan_study(cfg, overwrite=overwrite)
    work = plan.folder.open()
    summary: dict = {}
    try:
        _run(plan, work, quiet, summary)
    except BaseException as exc:
        if not any((work / f).exists() for f in ("neural.nc", "neural.npz")):
            plan.folder.abandon()  # nothing finished: nothing worth keeping
            raise
        # interrupted (or failed) after the signals were saved: keep them, say what is missing
        summary.setdefault("missing", {})["rest of the study"] = (
            f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__} (interrupted)")
        _finish(plan, work, summary, t_start, __version__)
        if isinstance(exc, KeyboardInterrupt):
            raise StudyInterrupted(summary["output"]) from exc
        raise
    return _finish(plan, work, summary, t_start, __version__, check=True)


def _finish(plan: StudyPlan, work: Path, summary: dict, t_start: float, version: str,
            check: bool = False) -> dict:
    """Write the report, move the folder into place; raise StudyIncomplete if steps are missing."""
    cfg = plan.cfg
    wall = time.perf_counter() - t_start
    summary["wall_time_s"] = round(wall, 2)
    # brain time simulated (transient included) per minute of wall time, everything included
    summary["duration_s"] = float(cfg["simulation"]["duration"]) / 1000.0
    summary["brain_s_per_wall_min"] = round(summary["duration_s"] / (wall / 60.0), 3) if wall > 0 else None
    if plan.study is not None and plan.study.surface is not None:
        summary["n_vertices"] = plan.study.surface.n_vertices
    try:
        write_report(cfg, work, summary)
    except Exception as exc:  # the signals are there: keep them, say what is missing
        summary.setdefault("missing", {})["report"] = f"{type(exc).__name__}: {exc}"
        (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    final = plan.folder.commit(version)
    summary["output"] = str(final)
    if plan.folder.kept is not None:
        summary["previous_results_kept_as"] = str(plan.folder.kept)
    if check and summary.get("missing"):
        what = "; ".join(f"{k}: {v}" for k, v in summary["missing"].items())
        raise StudyIncomplete(f"the simulation finished and its signals are saved in {final}, but "
                              f"some results are missing ({what}); see report.md there.", summary, final)
    return summary


class _Steps:
    """Runs the post-simulation steps; a failing step is recorded in ``summary['missing']``."""

    def __init__(self, summary):
        self.summary = summary

    def __call__(self, name, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except Exception as exc:
            logger.warning("%s failed after the simulation: %s: %s", name, type(exc).__name__, exc)
            self.summary.setdefault("missing", {})[name] = f"{type(exc).__name__}: {exc}"
            return None


def _save_signals(result: dict, keys: tuple, name: str, title: str, labels, attrs, work: Path,
                  summary: dict, cfg: dict | None = None, dim: str = "regions") -> None:
    """``name``.nc (labelled, CF attributes and provenance), or ``name``.npz (NumPy only) if the
    NetCDF file cannot be written. ``dim`` names the second dimension (``'vertices'``, ``'sensors'``)."""
    from ..io import save_arrays, to_xarray, write_netcdf_atomic

    sub = {k: result[k] for k in keys}
    try:
        ds = to_xarray({keys[0]: sub[keys[0]], "ts": sub[keys[1]]}, title, regions=labels, attrs=attrs)
        if dim != "regions":
            ds = ds.rename({"regions": dim})
        ds = _cf(ds, f"neuralmass study: {title}", cfg, attrs.get("seed"))
        write_netcdf_atomic(ds, work / f"{name}.nc")
    except Exception as exc:
        save_arrays(work / f"{name}.npz", sub, {k: str(getattr(v, "unit", "")) for k, v in sub.items()})
        summary.setdefault("missing", {})[f"{name}.nc"] = (
            f"{type(exc).__name__}: {exc}; the signals are in {name}.npz instead")


def _run(plan: StudyPlan, work: Path, quiet: bool, summary: dict) -> dict:
    from .. import Simulator, analysis, objectives   # neuralmass.Simulator: tests replace it
    from ..models import MODELS

    cfg = plan.cfg
    study, sim_cfg, bold_cfg, net_cfg = cfg["study"], cfg["simulation"], cfg["bold"], cfg["network"]
    seed = int(study["seed"])
    figs = work / "figures"
    figs.mkdir()
    built = plan.study
    targets = built.targets
    if built.data_files:
        summary["data_files"] = built.data_files
    summary.update({"study": study["name"], "seed": seed, "dataset": built.source,
                    "data": {**targets.describe(), "n_regions": built.n_regions,
                             "n_subjects_available": len(built.all_subjects)},
                    "model": cfg["model"]["name"], "versions": _versions(),
                    "started": _dt.datetime.now().isoformat(timespec="seconds")})
    if plan.warnings:
        summary["warnings"] = list(plan.warnings)
    if cfg.get("stimulus"):
        summary["stimulus"] = stimulus_summary(cfg["stimulus"], MODELS[cfg["model"]["name"]],
                                               plan.conn.labels, plan.conn.n_regions,
                                               None if built.surface is None else built.surface.surface)

    # ---------------------------------------------------------------- data
    if targets.n_subjects:
        logger.info("[1/5] data: %s (%d regions; target: %d of %d subjects)", built.source, built.n_regions,
                    targets.n_subjects, len(built.all_subjects))
    else:
        logger.info("[1/5] data: %s (%d regions; no empirical target)", built.source, built.n_regions)
    conn = built.connectome
    n = conn.n_regions
    labels = list(built.labels)
    W = np.asarray(conn.weights)
    fc_emp_subjects = np.asarray(targets.fc)
    has_emp = targets.n_subjects > 0
    fc_emp = targets.fc_group if has_emp else np.full((n, n), np.nan)

    # ---------------------------------------------------------------- network
    spec = built.model
    speed = net_cfg.get("speed") if net_cfg.get("delays", True) else None
    variable = built.variable
    dt = built.dt
    tr = built.tr
    neural_period = built.neural_period
    monitors = built.monitors()
    # a surface run keeps 1 s chunks: its slow vertex monitor is held at the fast period within a
    # chunk (docs/surface.md, "Memory of long runs")
    sim = Simulator(built.network, dt=dt, method=built.method, progress=not quiet,
                    chunk_steps=10_000 if built.surface is not None else 200_000)
    if built.surface is not None:
        logger.info("[2/5] surface: %s, local coupling %s (strength %g)", built.surface.surface,
                    built.surface.files["local"], built.surface.local_strength)
    nodes = (f"{built.network.n_vertices} vertices of {n} regions" if built.surface is not None
             else f"{n} regions")
    logger.info("[2/5] simulating %s x %g s at dt = %g ms (%s, %s coupling, k = %s, "
                "%s%s)", nodes, sim_cfg["duration"] / 1000, dt, spec.name,
                net_cfg.get("coupling"), net_cfg.get("k"),
                f"speed = {speed} mm/ms" if speed is not None else "no conduction delays",
                f"; {len(cfg['stimulus'])} stimulus block(s) into {', '.join(plan.stimuli)}"
                if plan.stimuli else "")
    t0 = time.perf_counter()
    res = sim.run(sim_cfg["duration"], monitors=monitors, transient=sim_cfg["transient"], key=plan.key,
                  inputs=plan.stimuli or None)
    summary["simulation_time_s"] = round(time.perf_counter() - t0, 2)

    # ---------------------------------------------------------------- signals first: they are kept
    neural = np.asarray(magnitude(res["neural"]))
    _save_signals(res, ("neural", "ts"), "neural", "neural activity", labels,
                  {"model": spec.name, "variable": variable, "seed": seed}, work, summary, cfg)
    summary["neural"] = {"variable": variable, "period_ms": neural_period, "samples": int(neural.shape[0])}
    if "bold" in res:
        ts_key = "ts_bold" if "ts_bold" in res else "ts"
        _save_signals(res, ("bold", ts_key), "bold", "BOLD", labels,
                      {"tr_ms": tr, "coefficients": bold_cfg["coefficients"], "seed": seed}, work, summary,
                      cfg)
    if built.surface is not None:
        from .surface import write_surface_outputs

        def save(result, keys, name, title, lab, attrs, dim):
            _save_signals(result, keys, name, title, lab, {**attrs, "seed": seed}, work, summary, cfg, dim)

        logger.info("[2/5] writing vertex activity, EEG and the surface figure")
        try:
            write_surface_outputs(res, built, work, figs, summary, save, cfg)
        except Exception as exc:   # the region signals are saved: say what is missing
            logger.warning("surface outputs failed after the simulation: %s: %s", type(exc).__name__, exc)
            summary.setdefault("missing", {})["surface outputs"] = f"{type(exc).__name__}: {exc}"

    step = _Steps(summary)
    # ---------------------------------------------------------------- analysis
    logger.info("[3/5] analysing: FC, FCD, structure-function coupling")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import viz

    def _fig_connectome():
        fig, ax = plt.subplots(figsize=(6, 5))
        viz.plot_connectivity(W, labels=labels if n <= 20 else None, ax=ax, log=True)
        ax.set_title(f"Structural connectivity ({built.source}, {n} regions)")
        fig.tight_layout(); fig.savefig(figs / "connectome.png", dpi=110); plt.close(fig)

    def _fig_timeseries():
        fig, ax = plt.subplots(figsize=(9, 4))
        ts_n = np.asarray(magnitude(res["ts"])) / 1000.0
        show = slice(0, min(len(ts_n), int(60_000 / neural_period)))
        # the y label with the variable's unit (the temporal-average monitor returns plain
        # numbers); time counts from the start of the run
        unit = built.network.output_unit(variable)
        unit = None if unit is None or getattr(unit, "is_unitless", False) else str(unit)
        viz.plot_timeseries(neural[show, :6], ts=ts_n[show], labels=labels[:6], ax=ax,
                            ylabel=f"{variable} ({unit})" if unit else variable)
        t_a, t_b = float(ts_n[show][0]), float(ts_n[show][-1])
        ax.set_xlabel("time from the start of the run (s)")
        ax.set_title(f"Simulated {variable}, the first {t_b - t_a:.0f} s after the transient "
                     f"(t = {t_a:.0f}–{t_b:.0f} s), 6 regions")
        fig.tight_layout(); fig.savefig(figs / "timeseries.png", dpi=110); plt.close(fig)

    step("figure connectome.png", _fig_connectome)
    step("figure timeseries.png", _fig_timeseries)

    if "bold" in res:
        bold = np.asarray(res["bold"])
        tsb = res.get("ts_bold", res["ts"])
        ts_b = np.asarray(magnitude(tsb)) / 1000.0
        fc_sim = np.asarray(analysis.functional_connectivity(bold, allow_few_samples=True))  # (time, regions)
        summary["bold"] = {"frames": int(bold.shape[0]), "tr_s": tr / 1000.0,
                           "std_percent": float(100 * bold.std())}
        summary["structure_function_coupling"] = round(_corr(_upper(W), _upper(fc_sim)), 4)

        def _fig_bold():
            fig, ax = plt.subplots(figsize=(9, 4))
            viz.plot_timeseries(100 * bold[:, :6], ts=ts_b, labels=labels[:6], ax=ax,
                                ylabel="BOLD change from rest (%)")
            ax.set_xlabel("time from the start of the run (s)"); ax.set_title("Simulated BOLD (6 regions)")
            fig.tight_layout(); fig.savefig(figs / "bold.png", dpi=110); plt.close(fig)

        step("figure bold.png", _fig_bold)
        win = cfg["analysis"]["fcd_window"]
        w_s, s_s, offset = plan.fcd
        if has_emp:
            fc_corr = _corr(_upper(fc_sim), _upper(fc_emp))
            per_subject = [_corr(_upper(fc_sim), _upper(f)) for f in fc_emp_subjects]
            summary["fc_correlation_group"] = round(fc_corr, 4)
            summary["fc_correlation_subjects"] = [round(x, 4) for x in per_subject]
            summary["empirical_structure_function_coupling"] = round(_corr(_upper(W), _upper(fc_emp)), 4)

            def _fig_fc():
                fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
                viz.plot_fc_comparison(fc_sim, fc_emp, is_matrix=True, ax=axes)
                fig.tight_layout(); fig.savefig(figs / "fc_comparison.png", dpi=110); plt.close(fig)

            step("figure fc_comparison.png", _fig_fc)
            if targets.fcd is not None:
                def _fcd():
                    import jax

                    fcd_emp_vals = targets.fcd_values
                    fcd_sim = np.asarray(jax.jit(lambda b: analysis.fcd(b, w_s, s_s))(bold))
                    fcd_sim_vals = np.asarray(analysis.fcd_values(fcd_sim, offset))
                    ks = float(jax.jit(objectives.ks_distance)(fcd_sim_vals, fcd_emp_vals))
                    summary["fcd_ks"] = round(ks, 4)
                    summary["fcd"] = {"window_frames": w_s, "step_frames": s_s, "offset": offset}
                    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
                    viz.plot_fcd(fcd_sim, is_matrix=True, ax=axes[0])
                    axes[0].set_title(f"Simulated FCD ({win / 1000:g} s windows)")
                    axes[1].hist(fcd_emp_vals, bins=40, range=(-0.2, 1), density=True, alpha=0.6,
                                 label=f"empirical ({targets.n_subjects} subject{'s' if targets.n_subjects != 1 else ''})")
                    axes[1].hist(fcd_sim_vals, bins=40, range=(-0.2, 1), density=True, alpha=0.6, label="simulated")
                    axes[1].set_xlabel("FCD value"); axes[1].legend()
                    axes[1].set_title(f"FCD distributions, KS = {ks:.3f}")
                    fig.tight_layout(); fig.savefig(figs / "fcd.png", dpi=110); plt.close(fig)

                step("FCD", _fcd)
        else:
            def _fig_fc_only():
                fig, ax = plt.subplots(figsize=(6, 5))
                viz.plot_functional_connectivity(fc_sim, is_matrix=True, ax=ax)
                fig.tight_layout(); fig.savefig(figs / "fc.png", dpi=110); plt.close(fig)

            step("figure fc.png", _fig_fc_only)

    # ---------------------------------------------------------------- M/EEG
    if plan.meg_eeg is True:
        logger.info("[4/5] EEG and MEG from TVB's 76-region head model")
        out = step("EEG/MEG", run_meg_eeg, cfg["meg_eeg"], seed, work, figs, quiet)
        if out is not None:
            summary["meg_eeg"] = out
    else:
        summary["meg_eeg"] = plan.meg_eeg if isinstance(plan.meg_eeg, str) else "disabled"
    logger.info("[5/5] writing report")
    return summary


