"""The ``neuralmass`` command line.

::

    neuralmass run [CONFIG] [--out DIR] [--quiet] [--json] [--print-config]
    neuralmass simulate MODEL [--n N] [--duration T] [--dt DT] [--input NAME=VALUE ...] [--out FILE]
    neuralmass datasets [list | describe NAME | where]
    neuralmass models [NAME]

Every subcommand has ``--help``. Failures exit with status 1 and a one-line cause on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="neuralmass",
        description="Whole-brain modeling with differentiable neural mass models.")
    ap.add_argument("--version", action="store_true", help="print the version and exit")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a study (default: resting state on the bundled HCP data)",
                         description="Run a reproducible study described by a TOML config. Without "
                                     "CONFIG, the default study runs on the bundled HCP connectome.")
    run.add_argument("config", nargs="?", help="TOML study file (see --print-config)")
    run.add_argument("--out", help="results folder (overrides study.output)")
    run.add_argument("--seed", type=int, help="noise seed (overrides study.seed)")
    run.add_argument("--duration", help='simulated time, e.g. "120 s" (overrides simulation.duration)')
    run.add_argument("--print-config", action="store_true", help="print the default config and exit")
    run.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    run.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")

    simp = sub.add_parser("simulate", help="simulate uncoupled nodes of one model and save the signals",
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
    simp.add_argument("--out", default="simulation.npz", help="output .npz or .nc file")
    simp.add_argument("--plot", help="also save a PNG plot of the signals")

    ds = sub.add_parser("datasets", help="list, describe or locate datasets")
    ds.add_argument("action", nargs="?", default="list", choices=["list", "describe", "where"])
    ds.add_argument("name", nargs="?", help="dataset name (for describe)")

    mo = sub.add_parser("models", help="list models, or show one model's parameter table")
    mo.add_argument("name", nargs="?", help="model name")
    return ap


def _fail(msg: str) -> int:
    print(f"neuralmass: error: {msg}", file=sys.stderr)
    return 1


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
    from .config import parse_quantity

    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--{what} {item!r}: write NAME=VALUE, e.g. --{what} \"p=220 Hz\".")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_quantity(v.strip(), f"--{what} {k.strip()}")
    return out


def _cmd_simulate(args) -> int:
    import numpy as np

    from . import models
    from .config import parse_quantity
    from .simulate import NodeSystem, Simulator

    if args.model not in models.MODELS:
        return _fail(f"unknown model {args.model!r}; choose one of {', '.join(models.MODELS)}.")
    spec = models.MODELS[args.model]
    params = _kv(args.param, "param")
    inputs = _kv(args.input, "input")
    system = NodeSystem(spec, args.n, params)
    dt = parse_quantity(args.dt, "--dt") if args.dt is not None else spec.default_dt
    sim = Simulator(system, dt=dt, method=args.method)
    res = sim.run(parse_quantity(args.duration, "--duration"), monitors=args.monitor or None,
                  transient=parse_quantity(args.transient, "--transient"),
                  period=parse_quantity(args.period, "--period"), inputs=inputs)
    out = Path(args.out)
    arrays = {k: np.asarray(getattr(v, "mantissa", v)) for k, v in res.items()}
    units = {k: str(getattr(v, "unit", "")) for k, v in res.items()}
    if out.suffix == ".nc":
        from .io import to_xarray

        to_xarray(res, spec.name).to_netcdf(out)
    else:
        np.savez(out, **arrays, units=json.dumps(units))
    summary = {k: {"mean": float(a.mean()), "std": float(a.std()), "unit": units[k]}
               for k, a in arrays.items() if k != "ts"}
    print(json.dumps({"model": spec.name, "n": args.n, "file": str(out), "signals": summary}, indent=2))
    if args.plot:
        from . import viz

        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        key = next(k for k in arrays if k != "ts")
        fig, ax = plt.subplots(figsize=(8, 3))
        viz.plot_timeseries(arrays[key], ts=arrays["ts"], ax=ax)
        ax.set_title(f"{spec.name}: {key} [{units[key]}]")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        plt.close(fig)
    return 0


def _cmd_run(args) -> int:
    from .config import DEFAULT_CONFIG_TOML, load_config

    if args.print_config:
        sys.stdout.write(DEFAULT_CONFIG_TOML)
        return 0
    overrides: dict = {}
    if args.out:
        overrides.setdefault("study", {})["output"] = args.out
    if args.seed is not None:
        overrides.setdefault("study", {})["seed"] = args.seed
    if args.duration:
        overrides.setdefault("simulation", {})["duration"] = args.duration
    cfg = load_config(args.config, overrides)
    from .study import run_study

    summary = run_study(cfg, quiet=args.quiet or args.json)
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(f"\nresults written to {summary['output']}")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {"run": _cmd_run, "simulate": _cmd_simulate, "datasets": _cmd_datasets,
                "models": _cmd_models}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return _fail("interrupted; no partial result was left as complete.")
    except (ValueError, KeyError, TypeError, FileNotFoundError, ImportError, FloatingPointError) as exc:
        msg = exc.args[0] if exc.args else repr(exc)
        return _fail(str(msg).splitlines()[0] if isinstance(msg, str) else str(msg))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
