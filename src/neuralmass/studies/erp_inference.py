"""The reproducible amortized-inference study (Tilwani & O'Reilly 2025, done with correct units).

:func:`run_erp_inference_study` simulates ERPs over each prior preset, trains every estimator at every
sensor-noise level, evaluates on held-out simulations and writes

* ``results.csv`` / ``results.md`` — Pearson r, R² and NRMSE per prior × parameter × method × SNR
  (the layout of the reference's Figure 4), with the reference's transformer numbers alongside and
  the Laplace estimate of the attainable r (:func:`~neuralmass.inference.diagnostics.laplace_r_ceiling`);
* ``npe_calibration.csv`` — SBC p-values, mean shrinkage, median z-score and coverage per
  parameter and SNR; ``npe_combinations.csv`` — NPE recovery of the identifiable products
  C·a_k and B·C·a4;
* ``sensitivity.csv`` — autodiff sensitivity of the ERP per parameter, correct units vs the
  reference's volts/mV mix;
* ``report.md`` (tables, exact-symmetry residuals, target check and identifiability verdict),
  plots (``*.png``, when matplotlib is installed), ``meta.json`` (configuration, timings) and
  checkpoints in ``checkpoints/``.

Budgets are counts, never seconds: each model trains for at most ``epochs`` (``paper_epochs``
for the paper's architectures) with early stopping on the validation loss, optionally capped at
``max_steps`` / ``paper_max_steps`` / ``npe_max_steps`` optimizer steps. With the seed fixed, the
same configuration gives the same numbers on any machine (up to float reassociation); wall-clock
times are recorded in ``meta.json`` only.

``ERPInferenceConfig.quick()`` is a small size used by the tests and ``--quick``.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..inference import diagnostics as dg
from ..inference.erp import ERPConfig, add_sensor_noise, eeg_gain, erp_flags, project, simulate_erps
from ..inference.estimators import InputScaler, fit, make_estimator, matched_filter, predict
from ..inference.npe import ThetaTransform, frozen_embedding, sample_posteriors
from ..inference.paper import PAPER_TRANSFORMER_R
from ..inference.posterior import Posterior, build_estimator
from ..inference.priors import OURS_TO_PAPER, make_prior

__all__ = ["ERPInferenceConfig", "run_erp_inference_study", "PAPER_TRANSFORMER_R"]



@dataclass
class ERPInferenceConfig:
    """Sizes and settings of the study (defaults: the full study, about 1 h on 2 CPU cores, estimated).

    Attributes
    ----------
    npe_sims : int
        Separate simulations on which the flow of the ``'summary'`` NPE is trained (the frozen
        summary network has seen its own training set, where it is more accurate than on new
        data; a flow fitted there would be overconfident).
    n_sims : int
        Simulations per prior (80/10/10 split; validation and test sets capped by ``n_val_max``
        and ``n_test_max``).
    snr_db : tuple of float
        Sensor SNRs (dB, per sample, see :func:`~neuralmass.inference.erp.add_sensor_noise`).
    priors : tuple of str
        Prior presets (:data:`~neuralmass.inference.priors.PRESETS`); every prior gets the
        matched-filter estimator and NPE, the first one also the paper's architectures.
    prior : {'uniform', 'normal'}
        Distribution family of the presets.
    estimators : tuple of str
        The paper's sensor-level architectures (trained on the first prior, ``paper_epochs``
        epochs each, capped at ``paper_max_steps`` optimizer steps).
    source_estimator : bool
        Train :class:`~neuralmass.inference.estimators.SourceMLP` on the matched-filter output.
    npe : bool
        Neural posterior estimation; ``npe_embedding`` ``'summary'`` (the trained matched-filter
        network, frozen, as summary statistic; needs ``source_estimator``), ``'source'`` (matched
        filter + MLP trained jointly with the flow) or ``'conv'`` (Conv1D embedding of the sensor
        array, trained jointly).
    exclude_flagged : bool
        Drop simulations flagged by :func:`~neuralmass.inference.erp.erp_flags` (peak deflection
        above 50 mV or oscillating before the stimulus); the flagged fractions are always
        recorded in ``meta.json``.
    max_steps, paper_max_steps, npe_max_steps : int or None
        Caps in optimizer steps for the matched-filter network, the paper's architectures and
        the NPE flow (``None``: only ``epochs`` / early stopping limit training).
    """

    n_sims: int = 100_000
    npe_sims: int = 50_000
    snr_db: tuple = (20.0, 0.0, -10.0)
    priors: tuple = ("reference", "jr95")
    prior: str = "uniform"
    estimators: tuple = ("transformer", "transformer_patch", "lstm", "cnn_bilstm")
    source_estimator: bool = True
    npe: bool = True
    npe_embedding: str = "summary"
    epochs: int = 30
    batch_size: int = 256
    lr: float = 2e-3
    npe_lr: float = 1e-3
    patience: int = 6
    paper_epochs: int = 40
    paper_batch_size: int = 64
    paper_lr: float = 1e-3
    paper_max_steps: int | None = 400
    max_steps: int | None = 3000
    npe_max_steps: int | None = 2000
    seed: int = 0
    leadfield: str = "auto"
    erp: ERPConfig = field(default_factory=lambda: ERPConfig(fs=100.0))
    model_kw: dict = field(default_factory=dict)
    n_val_max: int = 2000
    n_test_max: int = 2000
    n_posterior: int = 199
    n_sbc: int = 500
    sensitivity_samples: int = 128   # 0 skips sensitivity, symmetry and Laplace diagnostics
    exclude_flagged: bool = False
    progress: bool = True

    @classmethod
    def quick(cls, **kw) -> "ERPInferenceConfig":
        """The small size of ``--quick`` (committed in ``docs/inference_results/quick``): 1 ms Heun
        steps, named here so that the committed numbers do not move with ``ERPConfig``'s default."""
        base = dict(n_sims=4000, npe_sims=3000, snr_db=(20.0,), priors=("reference",), estimators=("transformer",),
                    epochs=25, batch_size=128, paper_epochs=4, paper_max_steps=None, patience=6,
                    n_posterior=99, n_sbc=300, n_test_max=400, max_steps=None, npe_max_steps=None,
                    model_kw={"transformer": dict(d_model=64, n_heads=4, d_ff=128)},
                    sensitivity_samples=32, erp=ERPConfig(fs=100.0, dt=1.0, integrator="heun"))
        base.update(kw)
        return cls(**base)


def _mse_loss(prep):
    def loss(model, batch, key):
        src, y = batch
        return jnp.mean((jax.vmap(model)(prep(src, key)) - y) ** 2)
    return loss


def _nll_loss(prep, transform):
    def loss(model, batch, key):
        src, theta = batch
        return -jnp.mean(jax.vmap(model.log_prob)(transform.forward(theta), prep(src, key)))
    return loss


def _sensor_prep(scaler, gain, snr):
    """Training input of sensor-level networks: project, add sensor noise, transform."""
    def prep(src, key):
        return scaler(add_sensor_noise(project(src, gain), key, snr))
    return prep


def _source_prep(scaler, gain, snr):
    """Training input of matched-filter networks, drawn directly in source space.

    With white sensor noise of variance σ², the matched-filter output is
    ``s + σ/‖g‖ · ξ`` exactly in distribution, so the (M, T) sensor array need not be formed.
    """
    g2 = jnp.sum(gain ** 2)
    mean_g2 = jnp.mean(gain ** 2)

    def prep(src, key):
        s = src
        if snr is not None and np.isfinite(snr):
            power = mean_g2 * jnp.mean(src ** 2, axis=-1, keepdims=True)
            sd = jnp.sqrt(power / 10.0 ** (snr / 10.0) / g2)
            s = src + sd * jax.random.normal(key, src.shape, src.dtype)
        return scaler(s[..., None, :])
    return prep


def _write_csv(path, rows):
    if not rows:
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


_COMBOS = {"C·a1": ("C", "a1"), "C·a2": ("C", "a2"), "C·a3": ("C", "a3"), "A_i·C·a4": ("B", "C", "a4")}


def run_erp_inference_study(out_dir="jr_inference_results", config: ERPInferenceConfig | None = None, *, quick: bool = False) -> dict:
    """Run the study and write its outputs to ``out_dir``; returns the result tables as dicts.

    Returns
    -------
    dict with ``results`` (rows: prior, method, snr_db, param, r, R2, NRMSE, epochs, steps),
    ``calibration`` (NPE rows per prior × SNR × parameter), ``combinations`` (NPE recovery of the
    identifiable products), ``sensitivity``, ``symmetry``, ``verdict`` and ``meta``.
    """
    cfg = config if config is not None else (ERPInferenceConfig.quick() if quick else ERPInferenceConfig())
    if cfg.npe_embedding not in ("summary", "source", "conv"):
        raise ValueError(f"npe_embedding={cfg.npe_embedding!r}; use 'summary', 'source' or 'conv'.")
    if cfg.npe_embedding == "summary" and not cfg.source_estimator:
        raise ValueError("npe_embedding='summary' uses the matched-filter network; set "
                         "source_estimator=True or choose npe_embedding='source'.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    timings = {}
    gain, lf_desc = eeg_gain(cfg.leadfield)
    gain = jnp.asarray(gain, dtype=jnp.float32)
    n_ch, n_t = int(gain.shape[0]), cfg.erp.n_times
    rows, calib, combos, sens_rows, sym_rows, n_valid, flags, posteriors = [], [], [], [], [], {}, {}, {}

    for pi, preset in enumerate(cfg.priors):
        prior = make_prior(cfg.prior, preset=preset)
        names = prior.names
        key = jax.random.fold_in(jax.random.PRNGKey(cfg.seed), pi)
        k_theta, k_sim, k_test, k_post = jax.random.split(key, 4)
        t0 = time.time()
        theta = prior.sample(k_theta, cfg.n_sims)
        erps, finite = simulate_erps(theta, prior, cfg.erp, k_sim, batch_size=2048, progress=cfg.progress)
        fl = erp_flags(erps, cfg.erp)
        flags[preset] = dict(too_large=float(fl["too_large"].mean()),
                             prestim_oscillation=float(fl["prestim_oscillation"].mean()), ok=float(fl["ok"].mean()))
        keep = finite & fl["ok"] if cfg.exclude_flagged else finite
        theta, erps = theta[keep], erps[keep]
        timings[f"{preset}_simulate_s"] = time.time() - t0
        n = len(theta)
        n_valid[preset] = n
        n_tr, n_va = int(0.8 * n), int(0.1 * n)
        tr = slice(0, n_tr)
        va = slice(n_tr, n_tr + min(n_va, cfg.n_val_max))
        te = slice(n_tr + n_va, min(n, n_tr + n_va + cfg.n_test_max))
        y = prior.to_unit(theta).astype(np.float32)
        th32 = theta.astype(np.float32)
        sens_scaler = InputScaler.from_data(np.asarray(project(erps[:1000], gain)))
        src_scaler = InputScaler.from_data(np.asarray(matched_filter(project(erps[:1000], gain), gain)), "linear")
        paper = cfg.estimators if pi == 0 else ()
        if cfg.npe and cfg.npe_embedding == "summary":
            k_npe = jax.random.fold_in(k_sim, 1)
            th_npe = prior.sample(jax.random.fold_in(k_theta, 1), cfg.npe_sims)
            e_npe, f_npe = simulate_erps(th_npe, prior, cfg.erp, k_npe, batch_size=2048)
            npe_train = (e_npe[f_npe], th_npe[f_npe].astype(np.float32))
        else:
            npe_train = (erps[tr], th32[tr])

        for si, snr in enumerate(cfg.snr_db):
            x_sens = add_sensor_noise(project(erps[te], gain), jax.random.fold_in(k_test, si), snr)
            x_src = np.asarray(src_scaler(matched_filter(x_sens, gain)))
            x_sens = np.asarray(sens_scaler(x_sens))
            jobs = [(nm, n_ch, _sensor_prep(sens_scaler, gain, snr), x_sens) for nm in paper]
            if cfg.source_estimator:
                jobs.append(("source_mlp", 1, _source_prep(src_scaler, gain, snr), x_src))
            trained = {}
            for name, ch, prep, x_test in jobs:
                is_paper = name in paper
                model = make_estimator(name, ch, n_t, len(names), seed=cfg.seed, **cfg.model_kw.get(name, {}))
                res = fit(model, _mse_loss(prep), (erps[tr], y[tr]), (erps[va], y[va]),
                          epochs=cfg.paper_epochs if is_paper else cfg.epochs,
                          batch_size=cfg.paper_batch_size if is_paper else cfg.batch_size,
                          lr=cfg.paper_lr if is_paper else cfg.lr,
                          patience=cfg.patience, seed=cfg.seed,
                          checkpoint=out / "checkpoints" / f"{preset}_{name}_snr{snr:g}.eqx",
                          progress=cfg.progress, desc=f"{preset} {name} SNR {snr:g} dB",
                          max_steps=cfg.paper_max_steps if is_paper else cfg.max_steps)
                timings[f"{preset}_{name}_snr{snr:g}_s"] = res.seconds
                trained[name] = res.model
                pred = prior.from_unit(predict(res.model, x_test))
                for m in dg.point_metrics(theta[te], pred, names):
                    rows.append(dict(prior=preset, method=name, snr_db=snr,
                                     paper_name=OURS_TO_PAPER[m["param"]], **m,
                                     epochs=len(res.val_loss), steps=res.steps))
            if cfg.npe:
                t1 = time.time()
                transform = ThetaTransform(prior)
                spec = dict(embedding=cfg.npe_embedding, n_channels=n_ch, n_times=n_t, dim=len(names), cond_dim=64)
                if cfg.npe_embedding == "summary":
                    spec.update(embedding="source_mlp_frozen", cond_dim=len(names),
                                emb_kw=dict(cfg.model_kw.get("source_mlp", {})))
                elif cfg.npe_embedding == "source":
                    spec.update(emb_kw=dict(width=256, depth=2))
                est = build_estimator(spec, jax.random.PRNGKey(cfg.seed + 1))
                if cfg.npe_embedding == "summary":
                    est = eqx.tree_at(lambda e: e.embedding, est, frozen_embedding(trained["source_mlp"]))
                if cfg.npe_embedding == "conv":
                    prep, x_test = _sensor_prep(sens_scaler, gain, snr), x_sens
                else:
                    prep, x_test = _source_prep(src_scaler, gain, snr), x_src
                res = fit(est, _nll_loss(prep, transform), npe_train, (erps[va], th32[va]),
                          epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.npe_lr, patience=cfg.patience,
                          seed=cfg.seed, checkpoint=out / "checkpoints" / f"{preset}_npe_snr{snr:g}.eqx",
                          progress=cfg.progress, desc=f"{preset} NPE SNR {snr:g} dB",
                          max_steps=cfg.npe_max_steps)
                posterior = Posterior(res.model, prior, spec, np.asarray(gain),
                                      src_scaler if cfg.npe_embedding != "conv" else sens_scaler,
                                      "sensor" if cfg.npe_embedding == "conv" else "source", None, cfg.erp)
                posteriors[(preset, snr)] = posterior.save(out / "checkpoints" / f"posterior_{preset}_snr{snr:g}.nmpost")
                m_sbc = min(cfg.n_sbc, len(x_test))
                post = sample_posteriors(res.model, transform, x_test[:m_sbc], cfg.n_posterior,
                                         jax.random.fold_in(k_post, si))
                timings[f"{preset}_npe_snr{snr:g}_s"] = time.time() - t1
                truth = theta[te][:m_sbc]
                for m in dg.point_metrics(truth, post.mean(1), names):
                    rows.append(dict(prior=preset, method="npe", snr_db=snr,
                                     paper_name=OURS_TO_PAPER[m["param"]], **m,
                                     epochs=len(res.val_loss), steps=res.steps))
                ranks = dg.sbc_ranks(post, truth)
                uni = dg.sbc_uniformity(ranks, cfg.n_posterior)
                shr = dg.shrinkage(post, prior.std)
                zs = dg.posterior_zscore(post, truth)
                cov = dg.coverage(post, truth)
                for j, nm in enumerate(names):
                    calib.append(dict(prior=preset, snr_db=snr, param=nm, paper_name=OURS_TO_PAPER[nm],
                                      sbc_chi2_p=float(uni["chi2_p"][j]), sbc_ks_p=float(uni["ks_p"][j]),
                                      shrinkage=float(np.mean(shr[:, j])), zscore=float(np.median(zs[:, j])),
                                      coverage50=float(cov[0.5][j]), coverage90=float(cov[0.9][j]),
                                      n_cases=int(m_sbc)))
                # identifiable products (posterior mean of the product, from joint draws)
                idx = {nm: j for j, nm in enumerate(names)}
                for label, parts in _COMBOS.items():
                    if all(p in idx for p in parts):
                        prod_post = np.prod([post[:, :, idx[p]] for p in parts], axis=0)
                        prod_true = np.prod([truth[:, idx[p]] for p in parts], axis=0)
                        r = float(dg.pearson_r(np.log(prod_true), np.log(prod_post).mean(1))[0])
                        combos.append(dict(prior=preset, snr_db=snr, combination=label, r_log=r))
                np.savez(out / f"npe_ranks_{preset}_snr{snr:g}.npz", ranks=ranks, n_draws=cfg.n_posterior)

        # --- sensitivity (correct units; the reference's unit error on the first prior) and symmetries
        if cfg.sensitivity_samples > 0:
            t0 = time.time()
            ks = jax.random.PRNGKey(cfg.seed + 7)
            s_ok = dg.erp_sensitivity(prior, cfg.erp, n=cfg.sensitivity_samples, key=ks)
            s_bad = dg.erp_sensitivity(prior, cfg.erp, n=cfg.sensitivity_samples, key=ks, units_error=True) \
                if pi == 0 else None
            for j, nm in enumerate(names):
                sens_rows.append(dict(prior=preset, param=nm, paper_name=OURS_TO_PAPER[nm],
                                      correct_units=float(s_ok["median"][j]),
                                      correct_units_q75=float(np.percentile(s_ok["per_sample"][:, j], 75)),
                                      volts_mV_mix=float(s_bad["median"][j]) if s_bad is not None else float("nan")))
            lap = dg.laplace_r_ceiling(prior, cfg.erp, snr_db=tuple(cfg.snr_db), n_sensors=n_ch,
                                       gain_norm2=float(jnp.sum(gain ** 2)), n=cfg.sensitivity_samples, key=ks)
            for si, snr in enumerate(cfg.snr_db):
                for m in [dict(param=nm, r=float(lap["r"][si, j]), R2=float("nan"), NRMSE=float("nan"))
                          for j, nm in enumerate(names)]:
                    rows.append(dict(prior=preset, method="laplace_ceiling", snr_db=snr,
                                     paper_name=OURS_TO_PAPER[m["param"]], **m, epochs=0, steps=0))
            sym = dg.symmetry_residuals(prior, cfg.erp, n=min(32, cfg.sensitivity_samples), key=ks)
            for label, v in sym.items():
                if np.any(np.isfinite(v)):
                    sym_rows.append(dict(prior=preset, symmetry=label, median_residual=float(np.nanmedian(v))))
            timings[f"{preset}_sensitivity_s"] = time.time() - t0

    timings["total_s"] = time.time() - t_start
    verdict = _verdict(rows, calib, sens_rows, sym_rows, cfg)
    _write_csv(out / "results.csv", rows)
    _write_csv(out / "npe_calibration.csv", calib)
    _write_csv(out / "npe_combinations.csv", combos)
    _write_csv(out / "sensitivity.csv", sens_rows)
    md = _markdown(rows, calib, combos, sens_rows, sym_rows, cfg) + "\n" + verdict["text"]
    (out / "results.md").write_text(md)
    meta = dict(config=asdict(cfg), n_valid=n_valid, flagged=flags, leadfield=lf_desc, timings=timings,
                jax=jax.__version__, devices=str(jax.devices()))
    (out / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    (out / "report.md").write_text(_report(md, meta))
    try:
        _plots(out, rows, sens_rows, cfg)
    except ImportError:  # matplotlib absent
        pass
    return dict(results=rows, calibration=calib, combinations=combos, sensitivity=sens_rows,
                symmetry=sym_rows, verdict=verdict, meta=meta, posteriors=posteriors)


_TARGET = ("A", "B", "a", "b")


def _verdict(rows, calib, sens_rows, sym_rows, cfg) -> dict:
    """Target check (r ≥ 0.95 for A_e, A_i, b_e, b_i at the highest SNR) and identifiability verdict."""
    best_snr = max(cfg.snr_db)
    lines = ["## Verdict", ""]
    target = {}
    for preset in cfg.priors:
        sel = [r for r in rows if r["prior"] == preset and r["snr_db"] == best_snr]
        best = {}
        for r in sel:
            if r["method"] != "laplace_ceiling" and r["param"] in _TARGET and r["r"] > best.get(r["param"], (-1, ""))[0]:
                best[r["param"]] = (r["r"], r["method"])
        if not best:
            continue
        met = all(best[p][0] >= 0.95 for p in _TARGET if p in best)
        ceil = {r["param"]: r["r"] for r in sel if r["method"] == "laplace_ceiling"}
        target[preset] = dict(met=bool(met), best={OURS_TO_PAPER[p]: v for p, v in best.items()},
                              laplace_ceiling={OURS_TO_PAPER[p]: ceil.get(p) for p in best})
        lines.append(f"* Target r ≥ 0.95 for A_e, A_i, b_e, b_i at {best_snr:g} dB, prior `{preset}`: "
                     f"**{'met' if met else 'not met'}** (best: " +
                     ", ".join(f"{OURS_TO_PAPER[p]} {v[0]:.3f} [{v[1]}; Laplace ceiling "
                               f"{ceil.get(p, float('nan')):.2f}]" for p, v in best.items()) + ")")
    for s in sym_rows:
        lines.append(f"* Exact symmetry `{s['symmetry']}` under `{s['prior']}`: median residual "
                     f"{s['median_residual']:.1e} (0 = the ERP cannot change along it).")
    ident = {}
    for c in calib:
        if c["snr_db"] != best_snr:
            continue
        sens = next((s for s in sens_rows if s["prior"] == c["prior"] and s["param"] == c["param"]), None)
        if sens is None:
            continue
        sh = c["shrinkage"]
        label = ("identifiable" if sh > 0.7 else "partially identifiable" if sh > 0.2 else "not identifiable")
        ident[(c["prior"], c["param"])] = label
        lines.append(f"* `{c['prior']}` {c['paper_name']}: sensitivity median {sens['correct_units']:.2g} "
                     f"(upper quartile {sens['correct_units_q75']:.2g}), NPE shrinkage {sh:.2f} → {label}")
    return dict(target=target, identifiability=ident, text="\n".join(lines) + "\n")


def _markdown(rows, calib, combos, sens_rows, sym_rows, cfg) -> str:
    lines = []
    for metric, title in (("r", "Pearson r (held-out simulations)"), ("R2", "R²"), ("NRMSE", "NRMSE")):
        lines += [f"## {title}", ""]
        for preset in cfg.priors:
            sel_p = [r for r in rows if r["prior"] == preset]
            if not sel_p:
                continue
            names = list(dict.fromkeys(r["param"] for r in sel_p))
            lines += [f"Prior `{preset}`:", "",
                      "| method | SNR (dB) | " + " | ".join(OURS_TO_PAPER[n] for n in names) + " | epochs | steps |",
                      "|---|---|" + "---|" * (len(names) + 2)]
            if metric == "r" and preset == cfg.priors[0]:
                lines.append("| paper transformer | noise factor 1 | " +
                             " | ".join(f"{PAPER_TRANSFORMER_R[n]:.2f}" for n in names) + " | 50 | |")
            for m in dict.fromkeys(r["method"] for r in sel_p):
                if m == "laplace_ceiling" and metric != "r":
                    continue
                for snr in cfg.snr_db:
                    sel = {r["param"]: r for r in sel_p if r["method"] == m and r["snr_db"] == snr}
                    if sel:
                        any_r = next(iter(sel.values()))
                        lines.append(f"| {m} | {snr:g} | " + " | ".join(f"{sel[n][metric]:.2f}" for n in names)
                                     + f" | {any_r['epochs']} | {any_r['steps']} |")
            lines.append("")
    if calib:
        lines += ["## NPE calibration (SBC p-values χ² / KS, mean shrinkage, median z, 90 % coverage)", "",
                  "| prior | SNR (dB) | param | SBC χ² p | SBC KS p | shrinkage | z | cov90 |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in calib:
            lines.append(f"| {c['prior']} | {c['snr_db']:g} | {c['paper_name']} | {c['sbc_chi2_p']:.3f} | "
                         f"{c['sbc_ks_p']:.3f} | {c['shrinkage']:.2f} | {c['zscore']:.2f} | {c['coverage90']:.2f} |")
        lines += ["", "SBC passes (every parameter χ² p > 0.01 and KS p > 0.01):", ""]
        for preset in cfg.priors:
            for snr in cfg.snr_db:
                sel = [c for c in calib if c["prior"] == preset and c["snr_db"] == snr]
                if sel:
                    mn = min(min(c["sbc_chi2_p"], c["sbc_ks_p"]) for c in sel)
                    lines.append(f"* `{preset}` {snr:g} dB: min p = {mn:.3f} → {'pass' if mn > 0.01 else 'fail'}")
        lines.append("")
    if combos:
        lines += ["## NPE recovery of the identifiable products (Pearson r of log values)", "",
                  "| prior | SNR (dB) | " + " | ".join(_COMBOS) + " |", "|---|---|" + "---|" * len(_COMBOS)]
        for preset in cfg.priors:
            for snr in cfg.snr_db:
                sel = {c["combination"]: c["r_log"] for c in combos if c["prior"] == preset and c["snr_db"] == snr}
                if sel:
                    lines.append(f"| {preset} | {snr:g} | " + " | ".join(f"{sel.get(k, float('nan')):.2f}"
                                                                    for k in _COMBOS) + " |")
        lines.append("")
    lines += ["## ERP sensitivity (median over the prior of the relative ERP change across each range)", "",
              "| prior | param | correct units (median) | correct units (upper quartile) | volts/mV mix |",
              "|---|---|---|---|---|"]
    for s in sens_rows:
        lines.append(f"| {s['prior']} | {s['paper_name']} | {s['correct_units']:.3g} | {s['correct_units_q75']:.3g} | "
                     f"{s['volts_mV_mix']:.3g} |")
    return "\n".join(lines) + "\n"


def _report(md, meta) -> str:
    t = meta["timings"]
    return ("# Amortized Jansen–Rit inference: study report\n\n"
            f"Valid simulations per prior: {meta['n_valid']}. "
            f"Lead field: {meta['leadfield']}. Total time {t['total_s']:.0f} s on {meta['devices']}.\n\n" + md +
            "\nConfiguration and timings: `meta.json`. Checkpoints: `checkpoints/`.\n")


def _plots(out, rows, sens_rows, cfg):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for preset in cfg.priors:
        sel_p = [r for r in rows if r["prior"] == preset]
        if not sel_p:
            continue
        names = list(dict.fromkeys(r["param"] for r in sel_p))
        methods = list(dict.fromkeys(r["method"] for r in sel_p))
        fig, axes = plt.subplots(1, len(cfg.snr_db), figsize=(4.5 * len(cfg.snr_db), 3.5), squeeze=False)
        x = np.arange(len(names))
        for ax, snr in zip(axes[0], cfg.snr_db):
            for i, m in enumerate(methods):
                sel = {r["param"]: r["r"] for r in sel_p if r["method"] == m and r["snr_db"] == snr}
                ax.bar(x + i * 0.8 / len(methods), [sel.get(n, np.nan) for n in names], 0.8 / len(methods), label=m)
            ax.set_xticks(x + 0.4, [OURS_TO_PAPER[n] for n in names], rotation=45)
            ax.set_title(f"{preset}, SNR {snr:g} dB")
            ax.set_ylim(-0.2, 1.0)
            ax.set_ylabel("Pearson r")
        axes[0][0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / f"correlations_{preset}.png", dpi=120)
        plt.close(fig)
    first = [s for s in sens_rows if s["prior"] == cfg.priors[0]]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    x = np.arange(len(first))
    ax.bar(x - 0.2, [s["correct_units"] for s in first], 0.4, label="correct units")
    ax.bar(x + 0.2, [max(s["volts_mV_mix"], 1e-12) for s in first], 0.4, label="volts/mV mix")
    ax.set_yscale("log")
    ax.set_xticks(x, [s["paper_name"] for s in first], rotation=45)
    ax.set_ylabel("ERP sensitivity")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "sensitivity.png", dpi=120)
    plt.close(fig)
