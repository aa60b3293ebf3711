"""HCP fits scored on held-out subjects: SC alone, a 2-parameter grid, a regional gradient fit,
an effective-connectivity gradient fit, and CMA-ES in the regional space at an equal budget.

Every method starts from the study of ``examples/configs/fit_hcp_regional.toml`` (80 Hopf nodes,
online BOLD at TR 0.72 s, 1200 frames), fits to the group FC and pooled FCD of HCP subjects 0-3
and is scored, with noise seeds the fit never used, on subjects 4-6:

(a) **SC alone** — the structural weights as a predictor of FC (no dynamics, no FCD);
(b) **grid** — ``k`` x ``speed`` (12 x 3), FC loss (``Fitter.grid_search``);
(c) **regional gradient** — ``a`` per region + ``k`` (81 parameters), FC + FCD loss, Adam;
(d) **effective connectivity** — (c) plus every connection weight (6401 parameters): the shipped
    config as it is (``neuralmass fit``);
(e) **CMA-ES** — the space of (c) with nevergrad's CMA-ES at the simulation budget of (c);
(f) **(d) with fixed noise** — the same fit with one noise realisation pair reused at every step
    (common random numbers), to measure what new noise per step does for held-out scores.

Prints one table: held-out loss (the shipped objective, (1 - r) + W1 of FCD values, on the held-out
subjects), held-out group FC r (mean over 3 new-noise runs), per-subject FC r, FCD KS
(exact two-sample KS of each run's FCD values against the held-out subjects' pooled values,
mean over runs), the same on the fit subjects, simulations and wall time (compilation included).

Run: ``python benchmarks/fit_regional.py [--steps N] [--only a,b,c,d,e] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "configs" / "fit_hcp_regional.toml"


def _row(name, summary):
    te, tr = summary["scores"]["test"], summary["scores"]["train"]
    w = summary.get("objective", {"fc": 1.0, "fcd": 1.0})
    held_loss = (w["fc"] * (1 - te["fc_r_group"]) + w["fcd"] * te["fcd_w1"] + w.get("fcd_ks", 0.0) * te["fcd_ks"]
                 if "fcd_w1" in te else None)
    return {"method": name, "held_loss": held_loss, "n_parameters": summary["n_parameters"], "held_fc_r": te["fc_r_group"],
            "held_subject_r": list(te["fc_r_subjects"].values()), "held_fcd_ks": te.get("fcd_ks"),
            "fit_fc_r": tr["fc_r_group"], "fit_fcd_ks": tr.get("fcd_ks"),
            "simulations": summary["simulations"], "wall_s": summary["fit_wall_time_s"]}


def _fit(name, cfg, spec, out: Path, **changes):
    from neuralmass.studies.fitting import run_fit

    spec = copy.deepcopy(spec)
    spec.update(changes)
    folder = out / name.split()[0].strip("()")
    t0 = time.perf_counter()
    summary = run_fit(cfg, spec, folder, config_path=str(CONFIG), quiet=True)
    print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return _row(name, summary)


def _grid(cfg, spec, steps_k=12):
    """(b): k x speed grid on the FC loss, scored like the others."""
    import jax

    from neuralmass.fit import Fitter
    from neuralmass.forward.bold import BOLDMonitor
    from neuralmass.studies.build import build_study
    from neuralmass.studies.fitting import fit_loss, score_fit

    study = build_study(cfg)
    train, test = study.targets, study.targets_for(spec["test_subjects"])
    t0 = time.perf_counter()
    fitter = Fitter(study.network, loss_fn=fit_loss(study.n_regions, None, {"fc": 1.0}), backend="nevergrad",
                    space={"k": (0.0, 8e-3), "speed": (1.0, 20.0, "log")}, dt=study.dt, duration=study.duration,
                    transient=study.transient, monitors=[BOLDMonitor(study.variable, name="bold", **study.bold_options())],
                    distance=np.asarray(study.connectome.lengths_mm, float), seed=spec["seed"], progress=False)
    res = fitter.grid_search({"fc": train.fc_group, "fcd": np.zeros(1)},
                             {"k": np.linspace(0.0, 8e-3, steps_k), "speed": np.array([1.0, 4.5, 20.0])}, chunk=steps_k)
    wall = time.perf_counter() - t0
    key = jax.random.PRNGKey(int(spec["seed"]) + 104_729)
    sims = fitter.simulate(res, key=key, batch_size=spec["score_seeds"])["bold"]
    summary = {"n_parameters": 2, "simulations": res.n_simulations, "fit_wall_time_s": wall,
               "objective": spec["objective"],       # held loss: the shipped objective, as for the fits
               "scores": {"train": score_fit(sims, train, train.fcd), "test": score_fit(sims, test, test.fcd)}}
    return _row("(b) grid k x v", summary)


def _sc_alone(cfg, spec):
    from neuralmass.studies.build import build_study

    study = build_study(cfg)
    test = study.targets_for(spec["test_subjects"])
    W = np.asarray(study.connectome.weights, float)
    iu = np.triu_indices(study.n_regions, 1)
    Ws = (W + W.T) / 2
    r = lambda a, b: float(np.corrcoef(a[iu], b[iu])[0, 1])  # noqa: E731
    return {"method": "(a) SC alone", "n_parameters": 0, "held_loss": None, "held_fc_r": r(Ws, test.fc_group),
            "held_subject_r": [r(Ws, np.asarray(f, float)) for f in test.fc], "held_fcd_ks": None,
            "fit_fc_r": r(Ws, study.targets.fc_group), "fit_fcd_ks": None, "simulations": 0, "wall_s": 0.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, help="gradient steps of (c) and (d) (default: the config's)")
    ap.add_argument("--only", default="a,b,c,d,e,f", help="methods to run, e.g. 'a,d'")
    ap.add_argument("--out", help="folder for the fits' outputs (default: a temporary folder)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args(argv)

    from neuralmass.studies.fitting import load_fit_config

    cfg, spec = load_fit_config(CONFIG)
    if args.steps:
        spec["steps"] = args.steps
    only = set(args.only.split(","))
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="fit-regional-"))
    regional = {k: v for k, v in spec["parameters"].items() if k != "conn.w"}
    rows = []
    if "a" in only:
        rows.append(_sc_alone(cfg, spec))
    if "b" in only:
        rows.append(_grid(cfg, spec))
    sims_c = spec["steps"] * spec["realizations"] * spec["restarts"]
    if "c" in only:
        rows.append(_fit("(c) regional grad", cfg, spec, out, parameters=regional))
    if "d" in only:
        rows.append(_fit("(d) effective-connectivity grad", cfg, spec, out))
    if "e" in only:
        # CMA-ES in the space of (c), one noise run per candidate, the same number of simulations
        batch = 16
        rows.append(_fit("(e) regional CMA-ES", cfg, spec, out, parameters=regional, backend="nevergrad",
                         batch_size=batch, realizations=1, steps=max(1, sims_c // batch)))

    if "f" in only:
        rows.append(_fit("(f) (d) with fixed noise", cfg, spec, out, fixed_noise=True))

    print(f"\nHCP AAL2-80: fit on subjects {cfg['data']['subjects']}, scored on {spec['test_subjects']} "
          f"with {spec['score_seeds']} new noise runs")
    hdr = (f"{'method':<34} {'params':>6} {'held loss':>9} {'held FC r':>9} {'held per subject':>18} {'held KS':>8} "
           f"{'fit FC r':>8} {'fit KS':>7} {'sims':>5} {'wall s':>7}")
    print(hdr)
    print("-" * len(hdr))
    f = lambda x: "—" if x is None else f"{x:.3f}"  # noqa: E731
    for r in rows:
        subj = " ".join(f"{x:.2f}" for x in r["held_subject_r"])
        print(f"{r['method']:<34} {r['n_parameters']:>6} {f(r['held_loss']):>9} {r['held_fc_r']:>9.3f} {subj:>18} {f(r['held_fcd_ks']):>8} "
              f"{r['fit_fc_r']:>8.3f} {f(r['fit_fcd_ks']):>7} {r['simulations']:>5} {r['wall_s']:>7.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
