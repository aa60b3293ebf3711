"""The reproducible amortized-inference study (Tilwani & O'Reilly 2025, done with correct units).

:func:`run_study` simulates ERPs over the prior, trains every estimator at every sensor-noise
level, evaluates on held-out simulations and writes

* ``results.csv`` / ``results.md`` — Pearson r, R² and NRMSE per parameter × method × SNR (the
  layout of the reference's Figure 4), with the reference's transformer numbers alongside;
* ``npe_calibration.csv`` — SBC p-values, mean shrinkage, mean z-score and 90 % coverage per
  parameter and SNR;
* ``sensitivity.csv`` — autodiff sensitivity of the ERP per parameter, correct units vs the
  reference's volts/mV mix;
* ``report.md`` and plots (``*.png``, when matplotlib is installed); checkpoints in ``checkpoints/``.

``StudyConfig.quick()`` is a small size used by the tests and ``--quick``.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from . import diagnostics as dg
from .erp import ERPConfig, add_sensor_noise, eeg_gain, project, simulate_erps
from .estimators import InputScaler, ConvEmbedding, fit, make_estimator, predict
from .npe import PosteriorEstimator, ThetaTransform, make_flow, sample_posteriors
from .priors import OURS_TO_PAPER, make_prior

__all__ = ["StudyConfig", "run_study", "PAPER_TRANSFORMER_R"]

#: Reference transformer Pearson r at noise factor 1 (Tilwani & O'Reilly 2025, Fig. 4).
PAPER_TRANSFORMER_R = {"A": 0.12, "B": 0.99, "a": 0.54, "b": 0.93, "C": 0.17,
                       "a1": -0.05, "a2": 0.08, "a3": -0.03, "a4": 0.04}


@dataclass
class StudyConfig:
    """Sizes and settings of the study (defaults: the full study)."""

    n_sims: int = 10_000
    snr_db: tuple = (20.0, 0.0, -10.0)
    estimators: tuple = ("transformer", "transformer_patch", "lstm", "cnn_bilstm")
    npe: bool = True
    epochs: int = 40
    batch_size: int = 64
    lr: float = 1e-3
    patience: int = 6
    seed: int = 0
    prior: str = "uniform"
    leadfield: str = "auto"
    erp: ERPConfig = field(default_factory=ERPConfig)
    model_kw: dict = field(default_factory=dict)
    n_posterior: int = 199
    n_sbc: int = 500
    max_seconds_per_model: float | None = None
    sensitivity_samples: int = 128
    progress: bool = True

    @classmethod
    def quick(cls, **kw) -> "StudyConfig":
        base = dict(n_sims=2000, snr_db=(20.0,), estimators=("transformer",), epochs=8,
                    batch_size=64, patience=4, n_posterior=99, n_sbc=200,
                    model_kw={"transformer": dict(d_model=64, n_heads=4, d_ff=128)},
                    erp=ERPConfig(fs=100.0), max_seconds_per_model=None, sensitivity_samples=32)
        base.update(kw)
        return cls(**base)


def _mse_loss(scaler, gain, snr):
    def loss(model, batch, key):
        src, y = batch
        x = scaler(add_sensor_noise(project(src, gain), key, snr))
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)
    return loss


def _nll_loss(scaler, gain, snr, transform):
    def loss(model, batch, key):
        src, theta = batch
        x = scaler(add_sensor_noise(project(src, gain), key, snr))
        z = transform.forward(theta)
        return -jnp.mean(jax.vmap(model.log_prob)(z, x))
    return loss


def _write_csv(path, rows):
    if not rows:
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def run_study(out_dir="jr_inference_results", config: StudyConfig | None = None, *, quick: bool = False) -> dict:
    """Run the study and write its outputs to ``out_dir``; returns the result tables as dicts."""
    cfg = config if config is not None else (StudyConfig.quick() if quick else StudyConfig())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    timings = {}
    prior = make_prior(cfg.prior)
    names = prior.names
    key = jax.random.PRNGKey(cfg.seed)
    k_theta, k_sim, k_test, k_post = jax.random.split(key, 4)

    # --- simulate
    t0 = time.time()
    theta = prior.sample(k_theta, cfg.n_sims)
    erps, finite = simulate_erps(theta, prior, cfg.erp, k_sim, progress=cfg.progress)
    theta, erps = theta[finite], erps[finite]
    timings["simulate_s"] = time.time() - t0
    n = len(theta)
    n_tr, n_va = int(0.8 * n), int(0.1 * n)
    split = dict(train=slice(0, n_tr), val=slice(n_tr, n_tr + n_va), test=slice(n_tr + n_va, n))
    gain, lf_desc = eeg_gain(cfg.leadfield)
    gain = jnp.asarray(gain, dtype=jnp.float32)
    scaler = InputScaler.from_data(np.asarray(project(erps[:1000], gain)))
    y = prior.to_unit(theta).astype(np.float32)
    tr, va, te = (split[s] for s in ("train", "val", "test"))
    n_ch, n_t = int(gain.shape[0]), cfg.erp.n_times

    rows, calib = [], []
    for si, snr in enumerate(cfg.snr_db):
        x_test = np.asarray(scaler(add_sensor_noise(project(erps[te], gain), jax.random.fold_in(k_test, si), snr)))
        for name in cfg.estimators:
            model = make_estimator(name, n_ch, n_t, len(names), seed=cfg.seed, **cfg.model_kw.get(name, {}))
            res = fit(model, _mse_loss(scaler, gain, snr), (erps[tr], y[tr]), (erps[va], y[va]),
                      epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, patience=cfg.patience,
                      seed=cfg.seed, checkpoint=out / "checkpoints" / f"{name}_snr{snr:g}.eqx",
                      progress=cfg.progress, desc=f"{name} SNR {snr:g} dB",
                      max_seconds=cfg.max_seconds_per_model)
            timings[f"{name}_snr{snr:g}_s"] = res.seconds
            pred = prior.from_unit(predict(res.model, x_test))
            for m in dg.point_metrics(theta[te], pred, names):
                rows.append(dict(method=name, snr_db=snr, paper_name=OURS_TO_PAPER[m["param"]], **m,
                                 epochs=len(res.val_loss)))
        if cfg.npe:
            transform = ThetaTransform(prior)
            kf, ke = jax.random.split(jax.random.PRNGKey(cfg.seed + 1))
            emb = ConvEmbedding(n_ch, n_t, 64, key=ke)
            est = PosteriorEstimator(emb, make_flow(len(names), 64, key=kf))
            res = fit(est, _nll_loss(scaler, gain, snr, transform), (erps[tr], theta[tr].astype(np.float32)),
                      (erps[va], theta[va].astype(np.float32)), epochs=cfg.epochs, batch_size=cfg.batch_size,
                      lr=cfg.lr, patience=cfg.patience, seed=cfg.seed,
                      checkpoint=out / "checkpoints" / f"npe_snr{snr:g}.eqx", progress=cfg.progress,
                      desc=f"NPE SNR {snr:g} dB", max_seconds=cfg.max_seconds_per_model)
            timings[f"npe_snr{snr:g}_s"] = res.seconds
            m_sbc = min(cfg.n_sbc, len(x_test))
            post = sample_posteriors(res.model, transform, x_test[:m_sbc], cfg.n_posterior,
                                     jax.random.fold_in(k_post, si))
            truth = theta[te][:m_sbc]
            pmean = post.mean(1)
            for m in dg.point_metrics(truth, pmean, names):
                rows.append(dict(method="npe", snr_db=snr, paper_name=OURS_TO_PAPER[m["param"]], **m,
                                 epochs=len(res.val_loss)))
            ranks = dg.sbc_ranks(post, truth)
            uni = dg.sbc_uniformity(ranks, cfg.n_posterior)
            shr = dg.shrinkage(post, prior.std)
            zs = dg.posterior_zscore(post, truth)
            cov = dg.coverage(post, truth)
            for j, nm in enumerate(names):
                calib.append(dict(snr_db=snr, param=nm, paper_name=OURS_TO_PAPER[nm],
                                  sbc_chi2_p=float(uni["chi2_p"][j]), sbc_ks_p=float(uni["ks_p"][j]),
                                  shrinkage=float(np.mean(shr[:, j])), zscore=float(np.median(zs[:, j])),
                                  coverage50=float(cov[0.5][j]), coverage90=float(cov[0.9][j])))
            np.savez(out / f"npe_ranks_snr{snr:g}.npz", ranks=ranks, n_draws=cfg.n_posterior)

    # --- sensitivity (correct units vs the reference's unit error)
    t0 = time.time()
    ks = jax.random.PRNGKey(cfg.seed + 7)
    sens = {ue: dg.erp_sensitivity(prior, cfg.erp, n=cfg.sensitivity_samples, key=ks, units_error=ue)
            for ue in (False, True)}
    timings["sensitivity_s"] = time.time() - t0
    sens_rows = [dict(param=nm, paper_name=OURS_TO_PAPER[nm], correct_units=float(sens[False]["median"][j]),
                      volts_mV_mix=float(sens[True]["median"][j])) for j, nm in enumerate(names)]
    timings["total_s"] = time.time() - t_start

    _write_csv(out / "results.csv", rows)
    _write_csv(out / "npe_calibration.csv", calib)
    _write_csv(out / "sensitivity.csv", sens_rows)
    md = _markdown(rows, calib, sens_rows, names, cfg)
    (out / "results.md").write_text(md)
    meta = dict(config=asdict(cfg),
                n_valid=int(n), n_dropped=int(cfg.n_sims - n), leadfield=lf_desc, timings=timings,
                jax=jax.__version__, devices=str(jax.devices()))
    (out / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    (out / "report.md").write_text(_report(md, meta))
    try:
        _plots(out, rows, calib, sens_rows, names, cfg)
    except ImportError:  # matplotlib absent
        pass
    return dict(results=rows, calibration=calib, sensitivity=sens_rows, meta=meta)


def _markdown(rows, calib, sens_rows, names, cfg) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = ["## Pearson r (held-out simulations)", "",
             "| method | SNR (dB) | " + " | ".join(OURS_TO_PAPER[n] for n in names) + " |",
             "|---|---|" + "---|" * len(names)]
    lines.append("| paper transformer | noise factor 1 | " +
                 " | ".join(f"{PAPER_TRANSFORMER_R[n]:.2f}" for n in names) + " |")
    for m in methods:
        for snr in cfg.snr_db:
            sel = {r["param"]: r for r in rows if r["method"] == m and r["snr_db"] == snr}
            if sel:
                lines.append(f"| {m} | {snr:g} | " + " | ".join(f"{sel[n]['r']:.2f}" for n in names) + " |")
    lines += ["", "## R² / NRMSE", "", "| method | SNR (dB) | " + " | ".join(OURS_TO_PAPER[n] for n in names) + " |",
              "|---|---|" + "---|" * len(names)]
    for m in methods:
        for snr in cfg.snr_db:
            sel = {r["param"]: r for r in rows if r["method"] == m and r["snr_db"] == snr}
            if sel:
                lines.append(f"| {m} | {snr:g} | " +
                             " | ".join(f"{sel[n]['R2']:.2f} / {sel[n]['NRMSE']:.2f}" for n in names) + " |")
    if calib:
        lines += ["", "## NPE calibration (SBC p-values chi² / KS, mean shrinkage, median z, 90 % coverage)", "",
                  "| SNR (dB) | param | SBC χ² p | SBC KS p | shrinkage | z | cov90 |", "|---|---|---|---|---|---|---|"]
        for c in calib:
            lines.append(f"| {c['snr_db']:g} | {c['paper_name']} | {c['sbc_chi2_p']:.3f} | {c['sbc_ks_p']:.3f} | "
                         f"{c['shrinkage']:.2f} | {c['zscore']:.2f} | {c['coverage90']:.2f} |")
    lines += ["", "## ERP sensitivity (median over the prior, relative ERP change across the prior range)", "",
              "| param | correct units | volts/mV mix |", "|---|---|---|"]
    for s in sens_rows:
        lines.append(f"| {s['paper_name']} | {s['correct_units']:.3g} | {s['volts_mV_mix']:.3g} |")
    return "\n".join(lines) + "\n"


def _report(md, meta) -> str:
    t = meta["timings"]
    return ("# Amortized Jansen–Rit inference: study report\n\n"
            f"Valid simulations: {meta['n_valid']} (dropped {meta['n_dropped']} non-finite). "
            f"Lead field: {meta['leadfield']}. Total time {t['total_s']:.0f} s "
            f"(simulation {t['simulate_s']:.1f} s) on {meta['devices']}.\n\n" + md +
            "\nConfiguration and timings: `meta.json`. Checkpoints: `checkpoints/`.\n")


def _plots(out, rows, calib, sens_rows, names, cfg):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(1, len(cfg.snr_db), figsize=(4.5 * len(cfg.snr_db), 3.5), squeeze=False)
    x = np.arange(len(names))
    for ax, snr in zip(axes[0], cfg.snr_db):
        for i, m in enumerate(methods):
            sel = {r["param"]: r["r"] for r in rows if r["method"] == m and r["snr_db"] == snr}
            ax.bar(x + i * 0.8 / len(methods), [sel.get(n, np.nan) for n in names], 0.8 / len(methods), label=m)
        ax.set_xticks(x + 0.4, [OURS_TO_PAPER[n] for n in names], rotation=45)
        ax.set_title(f"SNR {snr:g} dB")
        ax.set_ylim(-0.2, 1.0)
        ax.set_ylabel("Pearson r")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "correlations.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(x - 0.2, [s["correct_units"] for s in sens_rows], 0.4, label="correct units")
    ax.bar(x + 0.2, [s["volts_mV_mix"] for s in sens_rows], 0.4, label="volts/mV mix")
    ax.set_yscale("log")
    ax.set_xticks(x, [OURS_TO_PAPER[n] for n in names], rotation=45)
    ax.set_ylabel("ERP sensitivity")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "sensitivity.png", dpi=120)
    plt.close(fig)
