"""Tests of amortized Jansen–Rit inference (neuralmass.inference)."""

import numpy as np
import pytest
import jax
import jax.numpy as jnp

from neuralmass.inference import diagnostics as dg
from neuralmass.inference.erp import (ERPConfig, add_sensor_noise, erp_source, project, simulate_erps,
                                      synthetic_gain)
from neuralmass.inference.priors import make_prior
from neuralmass.models.jansen_rit import JANSEN_RIT


def test_erp_matches_scipy_integration():
    """Noise-free ERP equals an independent SciPy (RK45) integration of the same equations."""
    from scipy.integrate import solve_ivp

    cfg = ERPConfig(dt=0.1, integrator="rk4", fs=250.0, transient=800.0, tmax=400.0)
    P = JANSEN_RIT.default_params()
    ours = np.asarray(erp_source(P, cfg))
    A, B, a, b, C, e0, v0, r = 3.25, 22.0, 0.1, 0.05, 135.0, 0.0025, 6.0, 0.56
    S = lambda v: 2 * e0 / (1 + np.exp(r * (v0 - v)))  # noqa: E731

    def rhs(t, y):
        p = (90.0 + 200.0 * (0 <= t < 50.0)) * 1e-3
        y0, y1, y2, y3, y4, y5 = y
        return [y3, y4, y5, A * a * S(y1 - y2) - 2 * a * y3 - a * a * y0,
                A * a * (p + 0.8 * C * S(C * y0)) - 2 * a * y4 - a * a * y1,
                B * b * 0.25 * C * S(0.25 * C * y0) - 2 * b * y5 - b * b * y2]

    ts = np.arange(-1000.0, 400.0, 0.1)
    sol = solve_ivp(rhs, (ts[0], ts[-1] + 0.1), np.zeros(6), t_eval=ts + 0.1, max_step=0.1, rtol=1e-8, atol=1e-10)
    v = (sol.y[1] - sol.y[2])[ts >= -200.0]
    v = v.reshape(-1, 40).mean(1)
    v = v - v[:50].mean()
    assert np.max(np.abs(ours - v)) < 1e-3 * np.max(np.abs(v))
    assert np.max(np.abs(v)) > 1.0  # a real evoked response (mV)


def test_sensor_noise_has_stated_snr():
    gain = synthetic_gain(64)
    np.testing.assert_allclose(gain.mean(), 0.0, atol=1e-12)
    src = jnp.sin(jnp.linspace(0, 6, 300))[None].repeat(50, 0) * jnp.linspace(1, 5, 50)[:, None]
    x = project(src, gain)
    y = add_sensor_noise(x, jax.random.PRNGKey(0), 0.0)
    snr = 10 * np.log10(np.mean(np.asarray(x) ** 2, axis=(1, 2)) / np.var(np.asarray(y - x), axis=(1, 2)))
    np.testing.assert_allclose(snr, 0.0, atol=0.15)


def test_unit_error_removes_C_sensitivity():
    """The reference's volts/mV mix flattens the sigmoid: the ERP stops depending on C;
    correct units restore a substantial dependence (autodiff sensitivity over the prior)."""
    cfg = ERPConfig(fs=100.0)
    # around the standard column: C in 65-300 (contains C = 135), other ranges as the reference
    prior = make_prior(ranges={**make_prior().ranges, "C": (65.0, 300.0)})
    ok = dg.erp_sensitivity(prior, cfg, n=24, key=jax.random.PRNGKey(3))
    bad = dg.erp_sensitivity(prior, cfg, n=24, key=jax.random.PRNGKey(3), units_error=True)
    iC, iA = prior.names.index("C"), prior.names.index("A")
    assert ok["median"][iC] > 0.5          # C moves the ERP by tens of percent or more
    assert bad["median"][iC] < 1e-3       # volts/mV mix: C's effect vanishes
    assert bad["median"][iA] > 0.3        # ... although the ERP itself is not empty
    # over the reference's full prior (C up to 1350, interneurons often saturated) the upper
    # quartile still shows a strong effect of C with correct units and none with the mix
    full = make_prior()
    ok = dg.erp_sensitivity(full, cfg, n=24, key=jax.random.PRNGKey(3))
    bad = dg.erp_sensitivity(full, cfg, n=24, key=jax.random.PRNGKey(3), units_error=True)
    assert np.percentile(ok["per_sample"][:, iC], 75) > 1.0
    assert np.percentile(bad["per_sample"][:, iC], 90) < 1e-4


def test_jacobian_matches_finite_differences():
    prior = make_prior()
    cfg = ERPConfig(fs=100.0, tmax=400.0)
    th = np.array([[5.0, 40.0, 80.0, 40.0, 200.0, 1.0, 0.8, 0.25, 0.25]])
    erps, jac = dg.erp_jacobian(th, prior, cfg)
    for j, h in ((1, 1e-2), (4, 1e-1)):
        tp, tm = th.copy(), th.copy()
        tp[0, j] += h
        tm[0, j] -= h
        fd = (simulate_erps(tp, prior, cfg)[0] - simulate_erps(tm, prior, cfg)[0])[0] / (2 * h)
        np.testing.assert_allclose(jac[0, :, j], fd, atol=2e-2 * np.max(np.abs(fd)))


def test_sbc_uniformity_detects_miscalibration():
    """Exact posteriors (conjugate normal model) pass; overconfident ones fail."""
    rng = np.random.default_rng(0)
    n, L = 400, 99
    theta = rng.normal(size=(n, 2))
    x = theta + rng.normal(size=(n, 2))
    post_sd = np.sqrt(0.5)
    good = x[:, None, :] / 2 + post_sd * rng.normal(size=(n, L, 2))
    bad = x[:, None, :] / 2 + 0.3 * post_sd * rng.normal(size=(n, L, 2))
    pg = dg.sbc_uniformity(dg.sbc_ranks(good, theta), L)
    pb = dg.sbc_uniformity(dg.sbc_ranks(bad, theta), L)
    assert np.all(pg["chi2_p"] > 0.01) and np.all(pg["ks_p"] > 0.01)
    assert np.all(pb["chi2_p"] < 1e-4)
    cov = dg.coverage(good, theta)
    np.testing.assert_allclose(cov[0.9], 0.9, atol=0.05)
    np.testing.assert_allclose(dg.shrinkage(good, 1.0).mean(0), 0.5, atol=0.05)


def test_point_metrics_against_numpy():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(200, 3))
    p = t + rng.normal(size=(200, 3)) * [0.1, 1.0, 10.0]
    r = dg.pearson_r(t, p)
    np.testing.assert_allclose(r, [np.corrcoef(t[:, j], p[:, j])[0, 1] for j in range(3)], rtol=1e-12)
    from scipy import stats
    np.testing.assert_allclose(dg.r2_score(t, p)[0], 1 - np.sum((t[:, 0] - p[:, 0]) ** 2) / np.sum((t[:, 0] - t[:, 0].mean()) ** 2))
    assert stats.pearsonr(t[:, 1], p[:, 1])[0] == pytest.approx(r[1])


def test_exact_scaling_symmetries_of_the_erp():
    """The drift depends on C, a1..a4 only through C*a_k and on B only through B*C*a4: the ERP is
    unchanged under (C, a_k) -> (lam C, a_k / lam) and (B, a4) -> (lam B, a4 / lam), checked both by
    finite transformation and by the autodiff null vectors; a direction that is not a symmetry
    changes the ERP."""
    prior = make_prior(preset="nonsaturated")
    cfg = ERPConfig(fs=100.0)
    th = np.array([[5.0, 40.0, 80.0, 40.0, 150.0, 1.0, 0.8, 0.25, 0.25]])
    lam = 1.3
    sym_c = th * [1, 1, 1, 1, lam, 1 / lam, 1 / lam, 1 / lam, 1 / lam]
    sym_b = th * [1, lam, 1, 1, 1, 1, 1, 1, 1 / lam]
    not_sym = th * [1, 1, 1, 1, lam, 1 / lam, 1, 1, 1]
    e = simulate_erps(np.concatenate([th, sym_c, sym_b, not_sym]), prior, cfg)[0]
    amp = np.max(np.abs(e[0]))
    assert amp > 1.0
    assert np.max(np.abs(e[1] - e[0])) < 1e-4 * amp
    assert np.max(np.abs(e[2] - e[0])) < 1e-4 * amp
    assert np.max(np.abs(e[3] - e[0])) > 1e-2 * amp
    res = dg.symmetry_residuals(prior, cfg, n=12, key=jax.random.PRNGKey(1))
    assert np.nanmedian(res["C_scaling"]) < 1e-3
    assert np.nanmedian(res["B_a4_scaling"]) < 1e-3
    # the 5-parameter prior with the multipliers fixed has no such symmetry to test
    assert np.all(np.isnan(dg.symmetry_residuals(make_prior(preset="jr95"), cfg, n=2)["C_scaling"]))


def test_matched_filter_is_least_squares_and_source_noise_matches_sensor_noise():
    """g^T x / |g|^2 equals numpy's least-squares solution, and the source-space noise used in
    training has the variance of the matched-filtered sensor noise (sigma^2 / |g|^2)."""
    from neuralmass.inference.estimators import InputScaler, matched_filter
    from neuralmass.inference.study import _source_prep

    gain = synthetic_gain(64)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 64, 50)).astype(np.float32)
    ours = np.asarray(matched_filter(x, gain))[:, 0]
    ls = np.stack([np.linalg.lstsq(gain[:, None], xi, rcond=None)[0][0] for xi in x])
    np.testing.assert_allclose(ours, ls, rtol=1e-4, atol=1e-5)
    src = jnp.asarray(np.sin(np.linspace(0, 8, 100))[None].repeat(400, 0) * np.linspace(1, 3, 400)[:, None],
                      dtype=jnp.float32)
    snr = 0.0
    via_sensors = matched_filter(add_sensor_noise(project(src, gain), jax.random.PRNGKey(1), snr), gain)[:, 0]
    direct = _source_prep(InputScaler(1.0, "linear"), jnp.asarray(gain, jnp.float32), snr)(src, jax.random.PRNGKey(2))[:, 0]
    v1 = np.var(np.asarray(via_sensors - src), axis=1)
    v2 = np.var(np.asarray(direct - src), axis=1)
    expected = np.mean(np.asarray(src) ** 2, axis=1) / np.sum(gain ** 2)  # sigma^2 / |g|^2, mean(g^2) = 1
    np.testing.assert_allclose(v1.mean() / expected.mean(), 1.0, atol=0.05)
    np.testing.assert_allclose(v2.mean() / expected.mean(), 1.0, atol=0.05)


def test_laplace_ceiling_against_direct_posterior_variance():
    """The Laplace estimate equals 1 - E[(F + Sigma0^-1)^-1_ii] / Sigma0_ii computed by hand from
    the Jacobian, and information falls with the SNR."""
    prior = make_prior(preset="jr95")
    cfg = ERPConfig(fs=100.0, tmax=600.0)
    th = prior.sample(jax.random.PRNGKey(4), 6)
    res = dg.laplace_r_ceiling(prior, cfg, snr_db=(20.0, -10.0), theta=th)
    erps, jac = dg.erp_jacobian(th, prior, cfg)
    ok = np.all(np.isfinite(jac), axis=(1, 2))
    erps, jac = erps[ok].astype(float), jac[ok].astype(float)
    sig2 = np.mean(erps ** 2, axis=1) / 10.0 ** 2 / 64.0  # unit-RMS gain: |g|^2 = 64
    v0 = prior.std ** 2
    post = [np.diag(np.linalg.inv(j.T @ j / s2 + np.diag(1 / v0))) / v0 for j, s2 in zip(jac, sig2)]
    np.testing.assert_allclose(res["r"][0], np.sqrt(np.clip(1 - np.mean(post, 0), 0, 1)), rtol=1e-6)
    assert np.all(res["r"][0] >= res["r"][1] - 1e-9)


def test_prior_presets():
    p = make_prior(preset="jr95")
    assert p.names == ("A", "B", "a", "b", "C") and tuple(p.ranges["C"]) == (65.0, 300.0)
    full = make_prior(C=(65, 300))
    assert full.dim == 9 and tuple(full.ranges["C"]) == (65.0, 300.0)
    with pytest.raises(ValueError, match="preset"):
        make_prior(preset="nope")


def test_quick_study_recovers_strong_parameters(tmp_path):
    """--quick size: the matched-filter network, the transformer and NPE recover A_e and b_e (the
    parameters the ERP is most sensitive to under the reference's prior) far above chance."""
    pytest.importorskip("equinox")
    pytest.importorskip("flowjax")
    from neuralmass.inference.study import StudyConfig, run_study

    cfg = StudyConfig.quick(progress=False)
    res = run_study(tmp_path, cfg)
    r = {(row["method"], row["param"]): row["r"] for row in res["results"]}
    # chance level for 400 test cases: |r| < 0.1 with 95 % probability
    # measured on 2 shared cores (see docs/inference.md): source_mlp A_e ~0.8, b_e ~0.92;
    # transformer A_e ~0.68, b_e ~0.87; NPE A_e ~0.8, b_e ~0.91
    assert r[("source_mlp", "a")] > 0.8
    assert r[("source_mlp", "A")] > 0.6
    assert r[("transformer", "a")] > 0.6
    assert r[("npe", "a")] > 0.7
    assert r[("npe", "A")] > 0.5
    calib = {c["param"]: c for c in res["calibration"]}
    # the data constrain b_e strongly (posterior variance far below the prior's); a1..a4 barely
    assert calib["a"]["shrinkage"] > 0.5
    assert max(calib[k]["shrinkage"] for k in ("a1", "a2", "a3")) < 0.3
    # SBC: no gross miscalibration for any parameter
    assert min(c["sbc_ks_p"] for c in res["calibration"]) > 1e-3
    assert (tmp_path / "results.md").exists() and (tmp_path / "report.md").exists()


def test_eeg_gain_uses_the_real_head_model_when_tvb_data_is_installed(monkeypatch):
    """'auto' = the average-referenced, unit-RMS row of tvb76's EEG lead field; falls back only if absent."""
    import neuralmass.datasets as datasets
    from neuralmass.datasets import TVBDataMissingError
    from neuralmass.inference.erp import eeg_gain

    pytest.importorskip("tvb_data", reason="tvb-data not installed (pip install tvb-data)")
    lf = datasets.load_dataset("tvb76_eeg65")
    row = np.asarray(getattr(lf.L, "mantissa", lf.L), dtype=float)[7]
    ref = (row - row.mean()) / np.sqrt(np.mean((row - row.mean()) ** 2))
    g, desc = eeg_gain("auto", region=7)
    assert "tvb76_eeg65" in desc and g.shape == (lf.n_sensors,)
    np.testing.assert_allclose(g, ref, rtol=1e-10)
    g_named, _ = eeg_gain("tvb76_eeg65", region=str(lf.region_labels[7]))
    np.testing.assert_allclose(g_named, ref, rtol=1e-10)
    with pytest.raises(ValueError, match="not a tvb76 region"):
        eeg_gain("tvb76_eeg65", region="nowhere")

    def missing(name, *a, **k):
        raise TVBDataMissingError("tvb-data absent")

    monkeypatch.setattr(datasets, "load_dataset", missing)
    g_syn, desc_syn = eeg_gain("auto")
    assert "synthetic" in desc_syn and g_syn.shape == (64,)
    with pytest.raises(TVBDataMissingError):
        eeg_gain("tvb76_eeg65")
