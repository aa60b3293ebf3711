"""The ``neuralmass`` command line: a thin layer over :mod:`neuralmass.studies` and the library.

::

    neuralmass run [CONFIG] [--out DIR] [--overwrite] [--strict] [--quiet] [--json] [--print-config] [--yes]
    neuralmass simulate MODEL [--n N] [--duration T] [--dt DT] [--param NAME=VALUE ...] [--out FILE] [--yes]
    neuralmass datasets [list | describe NAME | where]
    neuralmass models [NAME]

Every subcommand has ``--help``. Every check runs before anything is simulated, including an
estimate of the run's memory (refused when it cannot fit) and time (over an hour needs ``--yes``). Exit status: 0 on
success; 1 with a one-line cause on stderr for any error (``--debug`` prints the traceback); 2 for
a malformed command line; 3 when a study simulated and saved its signals but a later step failed
(the report in the results folder says what is missing); 130 when interrupted.
Messages and warnings go to stderr (the ``neuralmass`` logger); results and ``--json`` to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

_RUN_EPILOG = """\
results folder (--out, or study.output in the config):
  - a new folder is created whole at the end (written first to a hidden .NAME.partial-* folder
    next to it; partial folders of killed runs are removed by the next run);
  - an empty folder is filled;
  - a folder holding earlier neuralmass results is kept: it is renamed NAME.<YYYYmmdd-HHMMSS>
    (nothing is deleted);
  - any other non-empty folder is refused; --overwrite writes the results into it, replacing only
    files of the same names.
If a step after the simulation fails, the simulated signals are still saved, report.md says what
is missing, and the exit status is 3.
environment: NEURALMASS_COMPILATION_CACHE=DIR reuses compiled simulations across runs.
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="neuralmass",
        description="Whole-brain modeling with differentiable neural mass models.")
    ap.add_argument("--version", action="store_true", help="print the version and exit")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on errors, print the full traceback")
    ap.add_argument("--debug", action="store_true", help="on errors, print the full traceback")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a study (default: resting state on the bundled HCP data)",
                         parents=[common], epilog=_RUN_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="Run a reproducible study described by a TOML config. Without "
                                     "CONFIG, the default study runs on the bundled HCP connectome.")
    run.add_argument("config", nargs="?", help="TOML study file (see --print-config)")
    run.add_argument("--out", help="results folder (overrides study.output); see below")
    run.add_argument("--overwrite", action="store_true",
                     help="write into an existing non-empty folder not made by neuralmass")
    run.add_argument("--strict", action="store_true",
                     help="treat warnings (parameters outside their plausible range) as errors")
    run.add_argument("--seed", type=int, help="noise seed, 0 <= SEED < 2**64 (overrides study.seed)")
    run.add_argument("--duration", help='simulated time, e.g. "120 s" (overrides simulation.duration)')
    run.add_argument("--print-config", action="store_true", help="print the default config and exit")
    run.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    run.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    run.add_argument("--yes", action="store_true",
                     help="run even when the simulation is estimated to take more than an hour")

    simp = sub.add_parser("simulate", help="simulate uncoupled nodes of one model and save the signals",
                          parents=[common],
                          description="Simulate N uncoupled nodes of a model and save the main output.")
    simp.add_argument("model", help="model name (see `neuralmass models`)")
    simp.add_argument("--n", type=int, default=1, help="number of nodes (default 1)")
    simp.add_argument("--duration", default="2 s", help='simulated time (default "2 s")')
    simp.add_argument("--transient", default="0 ms", help='discarded initial time (default "0 ms")')
    simp.add_argument("--dt", default=None, help="time step (default: the model's stable step, e.g. 0.1 ms)")
    simp.add_argument("--period", default="1 ms", help='sampling period (default "1 ms")')
    simp.add_argument("--method", default="heun", choices=["euler", "heun", "rk4"])
    simp.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                      help='model parameter, e.g. --param "A=3.5 mV" (repeatable)')
    simp.add_argument("--input", action="append", default=[], metavar="NAME=VALUE",
                      help='constant input, e.g. --input "p=220 Hz" (repeatable)')
    simp.add_argument("--monitor", action="append", default=[], help="variable to record (repeatable)")
    simp.add_argument("--out", default="simulation.npz",
                      help="output file: NAME.npz (NumPy) or NAME.nc (NetCDF, needs the io extra)")
    simp.add_argument("--plot", help="also save a plot of the signals (.png, .pdf or .svg)")
    simp.add_argument("--yes", action="store_true",
                      help="run even when the simulation is estimated to take more than an hour")
    simp.add_argument("--strict", action="store_true",
                      help="treat warnings (parameters outside their plausible range) as errors")

    ds = sub.add_parser("datasets", help="list, describe or locate datasets", parents=[common])
    ds.add_argument("action", nargs="?", default="list", choices=["list", "describe", "where"])
    ds.add_argument("name", nargs="?", help="dataset name (for describe)")

    mo = sub.add_parser("models", help="list models, or show one model's parameter table", parents=[common])
    mo.add_argument("name", nargs="?", help="model name")

    fp = sub.add_parser("fit", help="fit a study's parameters to data and score them on held-out subjects",
                        parents=[common],
                        description="Fit the [fit.parameters] of a study config to the empirical FC/FCD "
                                    "of data.subjects, score the fitted model with new noise on "
                                    "fit.test_subjects, and write fitted.toml (runnable by `neuralmass "
                                    "run`), fit_summary.json, fit_loss.png and fit_report.md. Running the "
                                    "same command again resumes an interrupted fit.")
    fp.add_argument("config", help="TOML study file with a [fit] table (see docs/fitting.md)")
    fp.add_argument("--out", required=True, help="output folder (created; a folder of the same fit resumes)")
    fp.add_argument("--steps", type=int, help="optimiser steps (overrides fit.steps)")
    fp.add_argument("--overwrite", action="store_true",
                    help="write into an existing non-empty folder not made by neuralmass fit")
    fp.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    fp.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")


    sw = add_sweep_parser(sub)
    sw.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return ap


# ------------------------------------------------------------------ neuralmass sweep
def add_sweep_parser(sub):
    """Register ``sweep`` on an ``argparse`` sub-parser set (``neuralmass sweep``)."""
    sp = sub.add_parser("sweep", help="explore a parameter space (Dask, resumable Zarr store)",
                        description="Run the [sweep] of a study config: chunks of batched simulations on "
                                    "Dask, features stored in a resumable Zarr store, heat maps and a "
                                    "report naming the best points.")
    sp.add_argument("config", help="TOML study file with a [sweep] table")
    sp.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786); 'serial' runs in this "
                                        "process; default: a local cluster of worker processes")
    sp.add_argument("--workers", type=int, help="worker processes of the local cluster (default: CPU count)")
    sp.add_argument("--out", help="Zarr store (overrides sweep.store)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    return sp


def run_sweep_args(args) -> int:
    """Run ``neuralmass sweep`` from parsed arguments; returns the exit status."""
    from .explore.report import write_report
    from .studies.sweep import load_sweep_config

    sweep, store = load_sweep_config(args.config)
    store = args.out or store
    if not args.quiet:
        from .engine.budget import format_bytes

        print(f"sweep: {sweep.n_points} points x {len(sweep.seeds)} seeds in {sweep.n_chunks} chunks "
              f"-> {store}", flush=True)
        print(f"memory: about {format_bytes(sweep.lane_bytes)} per lane ({sweep.lane_estimate.describe()}), "
              f"{sweep.chunk * len(sweep.seeds)} lanes per chunk", flush=True)
        ts = sweep.timeseries
        if ts is not None:
            per_point = ts.bytes_per_point(len(sweep.seeds)) / 2**20
            print(f"time series: {ts.signal} averaged over {ts.period:g} ms ({ts.n_times} x {ts.n_regions} per "
                  f"lane), {per_point:.3g} MiB per point, {per_point * sweep.n_points:.3g} MiB in all "
                  f"(uncompressed)", flush=True)
    ds = sweep.run(store, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    report = write_report(ds, _report_dir(store))
    if not args.quiet:
        run = sweep.last_run
        held = (f", {len(run['held'])} left to another run of this sweep (rerun when it has finished)"
                if run.get("held") else "")
        print(f"computed {len(run['computed'])} chunk(s), {run['skipped']} already stored{held}; report: {report}")
    return 0


def _report_dir(store) -> Path:
    p = Path(store)
    return p.with_name(p.name.removesuffix(".zarr") + "-report")


def sweep_main(argv=None) -> int:
    """Stand-alone entry point: ``neuralmass sweep`` without the word ``sweep``."""
    ap = argparse.ArgumentParser(prog="neuralmass")
    add_sweep_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(["sweep", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run_sweep_args(args)
    except KeyboardInterrupt:
        print("neuralmass: error: interrupted; finished chunks are stored and a rerun resumes.", file=sys.stderr)
        return 1
    except (ValueError, KeyError, TypeError, FileNotFoundError, ImportError, FloatingPointError,
            RuntimeError) as exc:
        msg = exc.args[0] if exc.args else repr(exc)
        print(f"neuralmass: error: {str(msg).splitlines()[0]}", file=sys.stderr)
        return 1


def _cmd_sweep(args) -> int:
    return run_sweep_args(args)


def _cmd_fit(args) -> int:
    from .studies.fitting import load_fit_config, run_fit

    over = {"fit": {"steps": args.steps}} if args.steps is not None else None
    cfg, spec = load_fit_config(args.config, over)
    summary = run_fit(cfg, spec, args.out, config_path=args.config, overwrite=args.overwrite,
                      quiet=args.quiet or args.json)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    elif not args.quiet:
        for name, sc in summary["scores"].items():
            ks = f", FCD KS {sc['fcd_ks']:.3f}" if "fcd_ks" in sc else ""
            print(f"{name}: group FC r {sc['fc_r_group']:.3f}{ks}")
        print(f"fit written to {args.out} (fitted.toml, fit_summary.json, fit_report.md)")
    return 0


def _fail(msg: str, status: int = 1) -> int:
    print(f"neuralmass: error: {msg}", file=sys.stderr)
    return status


def _cmd_datasets(args) -> int:
    from . import datasets

    if args.action == "list":
        print(datasets.list_datasets())
    elif args.action == "describe":
        if not args.name:
            return _fail("datasets describe needs a NAME; see `neuralmass datasets list`.")
        print(datasets.describe(args.name))
    else:
        print(datasets.cache_dir())
    return 0


def _cmd_models(args) -> int:
    from .models import MODELS

    if args.name:
        if args.name not in MODELS:
            return _fail(f"unknown model {args.name!r}; choose one of {', '.join(MODELS)}.")
        print(MODELS[args.name].describe())
        return 0
    wn = max(len(n) for n in MODELS) + 2
    ws = min(max(len(", ".join(m.state_names)) for m in MODELS.values()), 34) + 2
    print(f"{'model':<{wn}}{'states':<{ws}}reference")
    for name, m in MODELS.items():
        states = ", ".join(m.state_names)
        if len(states) > ws - 2:
            states = f"{m.state_names[0]}..{m.state_names[-1]} ({len(m.state_names)})"
        print(f"{name:<{wn}}{states:<{ws}}{m.reference}")
    print("\n`neuralmass models NAME` prints a parameter table.")
    return 0


def _kv(items, what):
    from .config import ConfigError, parse_quantity

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--{what} {item!r}: write NAME=VALUE, e.g. --{what} \"p=220 Hz\".")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_quantity(v.strip(), f"--{what} {k.strip()}")
    return out


_SUFFIXES = {".npz": "NumPy arrays", ".nc": "NetCDF"}
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _writable_file(path: Path, flag: str) -> Path:
    """Check before simulating that ``path`` can be written (its folder exists and is writable)."""
    from .studies.output import OutputError

    if path.is_dir():
        raise OutputError(f"{flag} {str(path)!r} is a folder; give a file name.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{flag} {str(path)!r}: folder {str(parent)!r} does not exist; create it first.")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"{flag} {str(path)!r}: permission denied; choose a writable location.")
    return path


def _cmd_simulate(args) -> int:
    import numpy as np

    from . import models
    from .config import ConfigError, check_param_range, parse_quantity
    from .units import magnitude
    from .io import save_arrays
    from . import NodeSystem, Simulator
    from .studies.preflight import require_modules

    # ---- every check before simulating
    if args.model not in models.MODELS:
        raise ConfigError(f"unknown model {args.model!r}; choose one of {', '.join(models.MODELS)}.")
    if args.n < 1:
        raise ConfigError(f"--n {args.n}: the number of nodes must be >= 1.")
    spec = models.MODELS[args.model]
    params = _kv(args.param, "param")
    texts = dict(item.split("=", 1) for item in args.param)
    texts = {k.strip(): v.strip() for k, v in texts.items()}
    for name, value in params.items():
        if name not in spec.param_names:
            raise ConfigError(f"--param {name}: not a parameter of {spec.name}; parameters: "
                              f"{', '.join(spec.param_names)}.")
        check_param_range(spec, name, value, f"--param {name}", args.strict, shown=texts[name])
    inputs = _kv(args.input, "input")
    out = Path(args.out).expanduser()
    if out.suffix not in _SUFFIXES:
        raise ConfigError(f"--out {args.out!r}: the file name must end in .npz (NumPy) or .nc (NetCDF), "
                          f"e.g. --out {out.with_suffix('.npz').name}.")
    _writable_file(out, "--out")
    if out.suffix == ".nc":
        require_modules(("xarray", "h5netcdf", "h5py"), "--out *.nc")
    if args.plot:
        plot = Path(args.plot).expanduser()
        if plot.suffix not in _PLOT_SUFFIXES:
            raise ConfigError(f"--plot {args.plot!r}: the file name must end in {', '.join(_PLOT_SUFFIXES)}.")
        _writable_file(plot, "--plot")
        require_modules(("matplotlib",), "--plot")
    times = {k: parse_quantity(getattr(args, k), f"--{k}") for k in ("duration", "transient", "period")}
    times["dt"] = parse_quantity(args.dt, "--dt") if args.dt is not None else spec.default_dt
    system = NodeSystem(spec, args.n, params)
    sim = Simulator(system, dt=times["dt"], method=args.method)

    # ---- simulate, save
    res = sim.run(times["duration"], monitors=args.monitor or None, transient=times["transient"],
                  period=times["period"], inputs=inputs)
    arrays = {k: np.asarray(magnitude(v)) for k, v in res.items()}
    units = {k: str(getattr(v, "unit", "")) for k, v in res.items()}
    if out.suffix == ".nc":
        from .io import to_xarray, write_netcdf_atomic

        write_netcdf_atomic(to_xarray(res, spec.name), out)
    else:
        save_arrays(out, arrays, units)
    bad = [k for k, a in arrays.items() if not np.all(np.isfinite(a))]
    summary = {k: {"mean": float(a.mean()), "std": float(a.std()), "unit": units[k]}
               for k, a in arrays.items() if k != "ts"}
    print(json.dumps({"model": spec.name, "n": args.n, "file": str(out), "signals": summary}, indent=2))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from . import viz

        key = next(k for k in arrays if k != "ts")
        fig, ax = plt.subplots(figsize=(8, 3))
        viz.plot_timeseries(arrays[key], ts=arrays["ts"], ax=ax)
        ax.set_title(f"{spec.name}: {key} [{units[key]}]")
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        plt.close(fig)
    if bad:
        logging.getLogger("neuralmass").warning("non-finite values in %s (saved as they are)", ", ".join(bad))
    return 0


def _cmd_run(args) -> int:
    from .config import default_config_toml, load_config

    if args.print_config:
        sys.stdout.write(default_config_toml())
        return 0
    overrides: dict = {}
    if args.out:
        overrides.setdefault("study", {})["output"] = args.out
    if args.seed is not None:
        overrides.setdefault("study", {})["seed"] = args.seed
    if args.duration:
        overrides.setdefault("simulation", {})["duration"] = args.duration
    cfg = load_config(args.config, overrides, strict=args.strict)
    from .studies import StudyIncomplete, run_study

    try:
        summary = run_study(cfg, quiet=args.quiet or args.json, overwrite=args.overwrite)
        status = 0
    except StudyIncomplete as exc:
        summary, status = exc.summary, 3
        print(f"neuralmass: error: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    elif not args.quiet:
        if summary.get("previous_results_kept_as"):
            print(f"earlier results kept in {summary['previous_results_kept_as']}")
        print(f"results written to {summary['output']}")
    return status


class _Format(logging.Formatter):
    def format(self, record):
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"neuralmass: {record.levelname.lower()}: {msg}"
        return msg


def _setup_logging(quiet: bool) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    log = logging.getLogger("neuralmass")
    log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
    return handler


def _one_line(exc: BaseException) -> str:
    """One line naming the cause (for an OSError: its reason and the file)."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc)
    lines = text.strip().splitlines()
    text = lines[0] if lines else ""
    if not text or not isinstance(exc, (ValueError, OSError, ImportError)):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text


def main(argv=None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    debug = getattr(args, "debug", False)
    handler = _setup_logging(getattr(args, "quiet", False) or getattr(args, "json", False))
    handlers = {"run": _cmd_run, "simulate": _cmd_simulate, "datasets": _cmd_datasets,
                "models": _cmd_models, "sweep": _cmd_sweep, "fit": _cmd_fit}
    try:
        from .compilation_cache import enable_compilation_cache

        enable_compilation_cache()
        import warnings

        from .engine.budget import LongRunWarning

        with warnings.catch_warnings():
            if not getattr(args, "yes", True):
                # a run estimated to last over an hour is refused unless --yes is given
                warnings.simplefilter("error", LongRunWarning)
            try:
                return handlers[args.command](args)
            except LongRunWarning as exc:
                return _fail(f"{exc} Pass --yes to run it anyway.")
    except KeyboardInterrupt as exc:
        if debug:
            raise
        kept = getattr(exc, "output", None)     # studies.StudyInterrupted: the signals were saved
        if kept is not None:
            return _fail(f"interrupted; the signals simulated so far are kept in {kept}, with a "
                         f"report of what is missing.", 130)
        if args.command == "run":
            return _fail("interrupted before the signals were saved; nothing was kept (the results "
                         "folder is as it was).", 130)
        return _fail("interrupted; nothing half-written is left looking complete.", 130)
    except Exception as exc:  # every error: one line (the traceback with --debug)
        if debug:
            import traceback

            traceback.print_exc()
        return _fail(_one_line(exc))
    finally:
        logging.getLogger("neuralmass").removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
