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

Everything is written to a temporary folder and moved into place only when the study finishes,
so an interrupted run never leaves a half-written result that looks complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["run_study"]


def _log(quiet, *msg):
    if not quiet:
        print(*msg, flush=True)


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("neuralmass", "jax", "brainstate", "brainunit", "numpy", "scipy", "xarray", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _upper(m):
    i, j = np.triu_indices(m.shape[-1], 1)
    return m[..., i, j]


def _corr(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _node_module(model_name: str, n: int, params: dict, noise_cfg: dict):
    """The model's stateful population with the configured noise on each of its noise inputs."""
    from . import noise as noise_mod
    from .models import MODELS, make_node_module

    spec = MODELS[model_name]
    kwargs = dict(params)
    kind = noise_cfg.get("kind", "none")
    if kind != "none" and noise_cfg.get("sigma", 0.0):
        driven = set()
        for slot, inp in spec.extra.get("noise_slots", {}).items():
            if inp not in spec.noise_inputs or inp in driven:
                continue  # two slot names may alias one input (Jansen–Rit's noise_p / noise_E)
            driven.add(inp)
            if kind == "white":
                kwargs[f"noise_{slot}"] = noise_mod.WhiteNoise(n, sigma=noise_cfg["sigma"])
            else:
                kwargs[f"noise_{slot}"] = noise_mod.OUProcess(n, sigma=noise_cfg["sigma"],
                                                              tau=noise_cfg.get("tau", 10.0))
    return make_node_module(spec, spec.name)(n, **kwargs)


def _resting_level(spec, params, variable, dt) -> float:
    """Mean of ``variable`` for an isolated, noise-free node over 5–10 s (its resting level)."""
    from .simulate import NodeSystem, Simulator

    res = Simulator(NodeSystem(spec, 1, params), dt=dt, progress=False).run(
        10_000.0, monitors=[variable], transient=5_000.0)
    x = np.asarray(getattr(res[variable], "mantissa", res[variable]))
    return float(x.mean())


def run_study(cfg: dict, quiet: bool = False) -> dict:
    """Run the study described by a validated config (see :func:`neuralmass.config.load_config`).

    Returns the summary (also written to ``summary.json``).
    """
    t_start = time.perf_counter()
    study = cfg["study"]
    final = Path(study["output"]).expanduser()
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    try:
        summary = _run(cfg, work, quiet)
        summary["wall_time_s"] = round(time.perf_counter() - t_start, 2)
        _write_report(cfg, work, summary)
        # move into place: an existing result is kept as <output>.previous
        if final.exists():
            prev = final.with_name(final.name + ".previous")
            if prev.exists():
                shutil.rmtree(prev)
            os.replace(final, prev)
        os.replace(work, final)
        summary["output"] = str(final)
        return summary
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _run(cfg, work: Path, quiet: bool) -> dict:
    from . import analysis, datasets, objectives
    from .forward.bold import BOLDMonitor
    from .io import to_xarray, write_netcdf_atomic
    from .monitors import TemporalAverage
    from .network.network import Network
    from .simulate import Simulator

    study, sim_cfg, bold_cfg, net_cfg = cfg["study"], cfg["simulation"], cfg["bold"], cfg["network"]
    seed = int(study["seed"])
    figs = work / "figures"
    figs.mkdir()
    summary: dict = {"study": study["name"], "seed": seed, "dataset": cfg["data"]["dataset"],
                     "model": cfg["model"]["name"], "versions": _versions(),
                     "started": _dt.datetime.now().isoformat(timespec="seconds")}

    # ---------------------------------------------------------------- data
    _log(quiet, f"[1/5] loading dataset {cfg['data']['dataset']!r}")
    data = datasets.load_dataset(cfg["data"]["dataset"])
    conn = data.normalized(cfg["data"].get("normalize", "none")) if cfg["data"].get("normalize", "none") != "none" else data
    n = conn.n_regions
    labels = [str(x) for x in conn.labels]
    W = np.asarray(conn.weights)
    fc_emp_subjects = np.asarray(getattr(data, "fc", np.zeros((0, n, n))))
    fc_emp = np.asarray(getattr(data, "fc_group", np.full((n, n), np.nan)))
    has_emp = fc_emp_subjects.shape[0] > 0

    # ---------------------------------------------------------------- network
    from .models import MODELS

    spec = MODELS[cfg["model"]["name"]]
    node = _node_module(spec.name, n, cfg["model"]["params"], cfg["noise"])
    speed = net_cfg.get("speed") if net_cfg.get("delays", True) else None
    net = Network(node, conn=conn, speed=speed, coupling=net_cfg.get("coupling", "diffusive"),
                  k=float(net_cfg.get("k", 1.0)), delay_mode=net_cfg.get("delay_mode", "integer"))
    variable = bold_cfg.get("variable") or spec.coupled_var
    dt = sim_cfg["dt"]
    tr = bold_cfg["tr"]
    baseline = bold_cfg.get("baseline", "auto")
    if baseline == "auto":
        baseline = _resting_level(spec, cfg["model"]["params"], variable, dt)
    neural_period = dt * max(1, int(round(min(50.0, tr) / dt)))
    while (tr / dt) % (neural_period / dt):
        neural_period -= dt
    monitors = [TemporalAverage(variable, period=neural_period, name="neural")]
    if bold_cfg.get("enabled", True):
        monitors.append(BOLDMonitor(variable, tr=tr, coefficients=bold_cfg["coefficients"],
                                    scale=float(bold_cfg["scale"]), baseline=baseline, name="bold"))
    sim = Simulator(net, dt=dt, method=sim_cfg.get("method", "heun"), progress=not quiet,
                    chunk_steps=200_000)
    _log(quiet, f"[2/5] simulating {n} regions x {sim_cfg['duration'] / 1000:g} s at dt = {dt:g} ms "
                f"({spec.name}, {net_cfg.get('coupling')} coupling, k = {net_cfg.get('k')}, "
                f"speed = {speed} mm/ms)")
    t0 = time.perf_counter()
    res = sim.run(sim_cfg["duration"], monitors=monitors, transient=sim_cfg["transient"], key=seed)
    summary["simulation_time_s"] = round(time.perf_counter() - t0, 2)

    # ---------------------------------------------------------------- outputs (signals)
    neural = np.asarray(getattr(res["neural"], "mantissa", res["neural"]))
    ds = to_xarray({"neural": res["neural"], "ts": res["ts"]}, "neural activity", regions=labels,
                   attrs={"model": spec.name, "variable": variable, "seed": seed})
    write_netcdf_atomic(ds, work / "neural.nc")
    summary["neural"] = {"variable": variable, "period_ms": neural_period, "samples": int(neural.shape[0])}

    # ---------------------------------------------------------------- analysis
    _log(quiet, "[3/5] analysing: FC, FCD, structure-function coupling")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import viz

    fig, ax = plt.subplots(figsize=(6, 5))
    viz.plot_connectivity(W, labels=labels if n <= 20 else None, ax=ax, log=True)
    ax.set_title(f"Structural connectivity ({cfg['data']['dataset']}, {n} regions)")
    fig.tight_layout(); fig.savefig(figs / "connectome.png", dpi=110); plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    ts_n = np.asarray(getattr(res["ts"], "mantissa", res["ts"])) / 1000.0
    show = slice(0, min(len(ts_n), int(60_000 / neural_period)))
    viz.plot_timeseries(neural[show, :6], ts=ts_n[show], labels=labels[:6], ax=ax)
    ax.set_xlabel("time (s)"); ax.set_title(f"Simulated {variable} (first 60 s, 6 regions)")
    fig.tight_layout(); fig.savefig(figs / "timeseries.png", dpi=110); plt.close(fig)

    if "bold" in res:
        bold = np.asarray(res["bold"])
        ts_b = np.asarray(getattr(res.get("ts_bold", res["ts"]), "mantissa", res.get("ts_bold", res["ts"]))) / 1000.0
        bds = to_xarray({"bold": res["bold"], "ts": res.get("ts_bold", res["ts"])}, "BOLD", regions=labels,
                        attrs={"tr_ms": tr, "coefficients": bold_cfg["coefficients"], "seed": seed})
        write_netcdf_atomic(bds, work / "bold.nc")
        fc_sim = np.asarray(analysis.functional_connectivity(bold))
        sc_fc = _corr(_upper(W), _upper(fc_sim))
        summary["bold"] = {"frames": int(bold.shape[0]), "tr_s": tr / 1000.0,
                           "std_percent": float(100 * bold.std())}
        summary["structure_function_coupling"] = round(sc_fc, 4)
        fig, ax = plt.subplots(figsize=(9, 4))
        viz.plot_timeseries(100 * bold[:, :6], ts=ts_b, labels=labels[:6], ax=ax)
        ax.set_xlabel("time (s)"); ax.set_ylabel("BOLD (%)"); ax.set_title("Simulated BOLD (6 regions)")
        fig.tight_layout(); fig.savefig(figs / "bold.png", dpi=110); plt.close(fig)
        win, step = cfg["analysis"]["fcd_window"], cfg["analysis"]["fcd_step"]
        w_s, s_s = max(2, int(round(win / tr))), max(1, int(round(step / tr)))
        offset = int(np.ceil(w_s / s_s))
        fcd_sim = np.asarray(analysis.fcd(bold, w_s, s_s))
        if has_emp:
            fc_corr = _corr(_upper(fc_sim), _upper(fc_emp))
            per_subject = [_corr(_upper(fc_sim), _upper(f)) for f in fc_emp_subjects]
            summary["fc_correlation_group"] = round(fc_corr, 4)
            summary["fc_correlation_subjects"] = [round(x, 4) for x in per_subject]
            summary["empirical_structure_function_coupling"] = round(_corr(_upper(W), _upper(fc_emp)), 4)
            fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
            viz.plot_fc_comparison(fc_sim, fc_emp, is_matrix=True, ax=axes)
            fig.tight_layout(); fig.savefig(figs / "fc_comparison.png", dpi=110); plt.close(fig)
            emp_bold = np.asarray(getattr(data, "bold", np.zeros((0,))))
            if emp_bold.ndim == 3:
                fcd_emp_vals = np.concatenate([
                    np.asarray(analysis.fcd_values(analysis.fcd(b, w_s, s_s), offset)) for b in emp_bold])
                fcd_sim_vals = np.asarray(analysis.fcd_values(fcd_sim, offset))
                ks = float(objectives.ks_distance(fcd_sim_vals, fcd_emp_vals))
                summary["fcd_ks"] = round(ks, 4)
                fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
                viz.plot_fcd(fcd_sim, is_matrix=True, ax=axes[0])
                axes[0].set_title(f"Simulated FCD ({win / 1000:g} s windows)")
                axes[1].hist(fcd_emp_vals, bins=40, range=(-0.2, 1), density=True, alpha=0.6, label="empirical (7 subjects)")
                axes[1].hist(fcd_sim_vals, bins=40, range=(-0.2, 1), density=True, alpha=0.6, label="simulated")
                axes[1].set_xlabel("FCD value"); axes[1].legend(); axes[1].set_title(f"FCD distributions, KS = {ks:.3f}")
                fig.tight_layout(); fig.savefig(figs / "fcd.png", dpi=110); plt.close(fig)
        else:
            fig, ax = plt.subplots(figsize=(6, 5))
            viz.plot_functional_connectivity(fc_sim, is_matrix=True, ax=ax)
            fig.tight_layout(); fig.savefig(figs / "fc.png", dpi=110); plt.close(fig)

    # ---------------------------------------------------------------- M/EEG
    meg_cfg = cfg["meg_eeg"]
    enabled = meg_cfg.get("enabled", "auto")
    if enabled == "auto":
        import importlib.util

        enabled = importlib.util.find_spec("tvb_data") is not None
        if not enabled:
            summary["meg_eeg"] = "skipped: tvb-data is not installed (pip install neuralmass[data])"
    if enabled:
        _log(quiet, "[4/5] EEG and MEG from TVB's 76-region head model")
        summary["meg_eeg"] = _meg_eeg(meg_cfg, seed, work, figs, quiet)
    _log(quiet, "[5/5] writing report")
    return summary


def _meg_eeg(meg_cfg, seed, work: Path, figs: Path, quiet: bool) -> dict:
    """Jansen–Rit network on tvb76 → region EEG observable → EEG-63 / MEG-248 sensors + spectra."""
    import brainunit as u
    import matplotlib.pyplot as plt

    from . import analysis, datasets, viz
    from .forward.leadfield import EEGLeadFieldModel, MEGLeadFieldModel
    from .io import to_xarray, write_netcdf_atomic
    from .models import JansenRitModel
    from .noise import OUProcess
    from .network.network import Network
    from .simulate import Simulator

    conn = datasets.load_dataset("tvb76").normalized("max")
    n = conn.n_regions
    node = JansenRitModel(n, noise_p=OUProcess(n, sigma=30.0, tau=5.0))
    net = Network(node, conn=conn, speed=4.0, coupling="sigmoidal_jansen_rit", k=10.0)
    sim = Simulator(net, dt=0.1, progress=not quiet)
    dur = float(meg_cfg.get("duration", 20_000.0))
    res = sim.run(dur + 2000.0, monitors=["eeg"], period=1.0, transient=2000.0,
                  inputs={"p": 220.0}, key=seed + 1)
    src = res["eeg"]  # (T, 76) mV
    src = src - u.math.mean(src, axis=0, keepdims=True)  # DC removed, as after the usual high-pass
    eeg_lf = datasets.load_dataset("tvb76_eeg65")
    meg_lf = datasets.load_dataset("tvb76_meg276")
    # mV of y1 - y2 -> region dipole moment: an order-of-magnitude assumption (about 0.1 nA*m/mm^2
    # per mV over ~1000 mm^2 of cortex; cf. Murakami & Okada 2006), stated in the report
    scale = 100.0 * u.nA * u.meter / u.mV
    eeg = EEGLeadFieldModel(n, eeg_lf.L.shape[1], eeg_lf.L, scale=scale, sensor_unit=u.uvolt,
                            reference="average")(src)
    meg = MEGLeadFieldModel(n, meg_lf.L.shape[1], meg_lf.L, scale=scale, sensor_unit=u.ftesla)(src)
    fs = 1000.0
    out = {}
    for name, sig, lf, unit in (("eeg", eeg, eeg_lf, "uV"), ("meg", meg, meg_lf, "fT")):
        arr = np.asarray(sig.mantissa)
        ds = to_xarray({name: sig, "ts": res["ts"]}, f"{name.upper()} sensors", regions=list(lf.sensor_names))
        ds = ds.rename({"regions": "sensors"})
        write_netcdf_atomic(ds, work / f"{name}.nc")
        f, p = analysis.welch(arr, fs, nperseg=2048)
        f, p = np.asarray(f), np.asarray(p)
        mean_p = p.mean(axis=-1)
        band = (f >= 2) & (f <= 40)
        peak = float(f[band][np.argmax(mean_p[band])])
        out[name] = {"sensors": int(arr.shape[1]), "unit": unit, "peak_frequency_hz": round(peak, 2),
                     "rms": float(np.sqrt((arr ** 2).mean()))}
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        t = np.asarray(res["ts"].mantissa) / 1000.0
        sl = slice(0, 3000)
        viz.plot_timeseries(arr[sl, :5], ts=t[sl], labels=list(lf.sensor_names[:5]), ax=axes[0])
        axes[0].set_xlabel("time (s)"); axes[0].set_ylabel(unit); axes[0].set_title(f"{name.upper()} sensors (3 s)")
        viz.plot_power_spectrum(p, freqs=f, ax=axes[1], fmin=1, fmax=45, average=True)
        axes[1].set_title(f"{name.upper()} spectrum (mean over sensors), peak {peak:.1f} Hz")
        fig.tight_layout(); fig.savefig(figs / f"{name}.png", dpi=110); plt.close(fig)
    out["note"] = ("Jansen-Rit network (p = 220 Hz, OU input noise, sigmoidal JR coupling) on TVB's 76-region "
                   "connectome; each region's dipole moment is 100 nA*m per mV of y1 - y2 (an order-of-magnitude "
                   "assumption), DC removed; lead fields from tvb-data (units as documented in docs/datasets.md).")
    return out


def _write_report(cfg, work: Path, summary: dict) -> None:
    (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (work / "config.json").write_text(json.dumps(cfg, indent=2, default=str))
    lines = [f"# neuralmass study: {summary['study']}", "",
             f"- dataset: `{summary['dataset']}`; model: `{summary['model']}`; seed: **{summary['seed']}**",
             f"- wall time: {summary.get('wall_time_s', '?')} s (simulation {summary.get('simulation_time_s', '?')} s)",
             f"- started: {summary['started']}", ""]
    if "fc_correlation_group" in summary:
        subj = summary["fc_correlation_subjects"]
        lines += ["## Simulated vs empirical", "",
                  "| measure | value |", "|---|---|",
                  f"| FC correlation with the empirical group FC | {summary['fc_correlation_group']:.3f} |",
                  f"| FC correlation per subject (mean, range) | {np.mean(subj):.3f} ({min(subj):.3f} – {max(subj):.3f}) |",
                  f"| FCD KS distance (simulated vs empirical) | {summary.get('fcd_ks', float('nan')):.3f} |",
                  f"| structure–function coupling, simulated corr(SC, FC) | {summary['structure_function_coupling']:.3f} |",
                  f"| structure–function coupling, empirical corr(SC, FC) | {summary['empirical_structure_function_coupling']:.3f} |",
                  ""]
    for fig in ("connectome", "timeseries", "bold", "fc_comparison", "fcd", "eeg", "meg"):
        if (work / "figures" / f"{fig}.png").exists():
            lines += [f"![{fig}](figures/{fig}.png)", ""]
    if isinstance(summary.get("meg_eeg"), dict):
        m = summary["meg_eeg"]
        lines += ["## EEG / MEG", "", m["note"], "",
                  "| modality | sensors | unit | spectral peak (Hz) | RMS |", "|---|---|---|---|---|"]
        for k in ("eeg", "meg"):
            lines.append(f"| {k.upper()} | {m[k]['sensors']} | {m[k]['unit']} | {m[k]['peak_frequency_hz']} | {m[k]['rms']:.3g} |")
        lines.append("")
    elif "meg_eeg" in summary:
        lines += ["## EEG / MEG", "", str(summary["meg_eeg"]), ""]
    lines += ["## Configuration", "", "```json", json.dumps(cfg, indent=2, default=str), "```", "",
              "## Versions", "", "```json", json.dumps(summary["versions"], indent=2), "```", ""]
    text = "\n".join(lines)
    (work / "report.md").write_text(text)
    (work / "report.html").write_text(_html(text, summary))


def _html(markdown: str, summary: dict) -> str:
    """A minimal self-contained HTML rendering of the report (tables, images, code)."""
    import html

    out, in_code, in_table = [], False, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            out.append(f'<p><img src="{html.escape(src)}" style="max-width:900px"></p>')
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:]).replace('**', '')}</li>")
        elif line:
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    body = "\n".join(out)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(summary['study'])}</title>"
            "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}td{border:1px solid #ccc;"
            f"padding:4px 8px}}table{{border-collapse:collapse}}</style></head><body>{body}</body></html>")
