"""``neuralmass fit``: config checks, outputs, fitted.toml round trip into ``neuralmass run``'s
builder, resume, and the results folder rules."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config
from neuralmass.studies.build import build_study
from neuralmass.studies.fitting import load_fit_config

pytest.importorskip("optax", reason="the fit extra (optax) is not installed")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "configs" / "fit_hcp_regional.toml"


def _small(text: str) -> str:
    """The shipped config, shortened: 130 s (150 BOLD frames), 2 steps, 1 run per step/score."""
    for old, new in (('duration = "924 s"', 'duration = "118 s"'), ('transient = "60 s"', 'transient = "10 s"'),
                     ("steps = 100", "steps = 2"), ("realizations = 2", "realizations = 1"),
                     ):
        assert old in text
        text = text.replace(old, new)
    assert re.search(r"^score_seeds = \d+", text, re.M)
    return re.sub(r"^score_seeds = \d+", "score_seeds = 1", text, flags=re.M)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    d = tmp_path_factory.mktemp("fit")
    cfg = d / "fit.toml"
    cfg.write_text(_small(EXAMPLE.read_text()))
    out = d / "out"
    assert main(["fit", str(cfg), "--out", str(out), "--quiet"]) == 0
    return cfg, out


def test_fit_writes_its_outputs_and_counts(fitted):
    _, out = fitted
    for name in ("fitted.toml", "fitted_weights.csv", "fit_summary.json", "fit_report.md", "fit_loss.png",
                 "fit_result.npz", "fit_state.pkl"):
        assert (out / name).exists(), name
    s = json.loads((out / "fit_summary.json").read_text())
    assert s["n_parameters"] == 1 + 80 + 80 * 79          # k, a per region, every directed HCP edge
    assert s["backend"] == "grad" and s["steps"] == 2 and s["simulations"] == 2
    assert s["train_subjects"] == ["101309", "102311", "102816", "131217"]
    assert s["test_subjects"] == ["211619", "213522", "377451"]
    assert len(s["loss_history"]) == 2 and all(np.isfinite(s["loss_history"]))
    for part in ("train", "test"):
        sc = s["scores"][part]
        assert -1 <= sc["fc_r_group"] <= 1 and 0 <= sc["fcd_ks"] <= 1
    assert set(s["scores"]["test"]["fc_r_subjects"]) == set(s["test_subjects"])


def test_fitted_toml_is_a_study_with_the_fitted_values(fitted):
    """``neuralmass run``'s builder reads fitted.toml back: the network's weights are the fitted
    edge weights (by label from fitted_weights.csv), each region's ``a`` its fitted value, and k."""
    from neuralmass.fit import FitResult

    _, out = fitted
    res = FitResult.load(out / "fit_result.npz")
    study = build_study(load_config(out / "fitted.toml"))
    net = study.network
    tgt, src = np.nonzero(net.weights)
    w_fit = np.asarray(res.canonical["conn.w"])
    assert len(tgt) == len(w_fit)
    np.testing.assert_allclose(net.weights[tgt, src], w_fit, rtol=1e-12)
    a = np.asarray(study.network.canonical_params()["node"]["a"])
    np.testing.assert_allclose(a, np.asarray(res.canonical["a"]), rtol=1e-6)
    assert study.network.canonical_params()["k"] == pytest.approx(res.canonical["k"], rel=1e-9)
    # and the fitted model differs from the starting one
    start = build_study(load_config(EXAMPLE, skip=("fit",)))
    assert not np.allclose(start.network.weights[tgt, src], w_fit)


def test_running_again_resumes_and_continues(fitted):
    cfg, out = fitted
    before = json.loads((out / "fit_summary.json").read_text())
    assert main(["fit", str(cfg), "--out", str(out), "--steps", "3", "--quiet"]) == 0
    s = json.loads((out / "fit_summary.json").read_text())
    assert s["resumed_from"] == 2 and s["steps"] == 3 and s["simulations"] == 3
    np.testing.assert_allclose(s["loss_history"][:2], before["loss_history"], rtol=1e-6)


def test_output_folder_rules(fitted, tmp_path, capsys):
    cfg, out = fitted
    # another config in the same folder: refused, nothing changed
    other = tmp_path / "other.toml"
    other.write_text(cfg.read_text().replace("lr = 0.05", "lr = 0.1"))
    stamp = (out / "fit_summary.json").stat().st_mtime_ns
    assert main(["fit", str(other), "--out", str(out), "--quiet"]) == 1
    assert "different config" in capsys.readouterr().err
    assert (out / "fit_summary.json").stat().st_mtime_ns == stamp
    # a folder of the user's: refused without --overwrite, and the user's file is kept
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["fit", str(cfg), "--out", str(mine), "--quiet"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("edit, message", [
    (("[fit]", "[fit]\nbogus = 1"), "fit.bogus is not a known key"),
    (('backend = "grad"', 'backend = "adam"'), "fit.backend = 'adam'"),
    (("steps = 100", "steps = 0"), "fit.steps = 0"),
    (('fc = 1.0 ', 'fc = -1.0 '), "fit.objective.fc = -1.0"),
    (("fcd_ks = 1.0", "fcd_ks = -1.0"), "fit.objective.fcd_ks = -1.0"),
    (('a = { per = "region"', 'a = { per = "vertex"'), 'fit.parameters.a.per'),
    (("l1 = 0.0001", "l1 = 0.0001, l3 = 1"), "fit.parameters.conn.w.l3 is not a known key"),
    (('bounds = [0.001, 0.01]', 'bounds = [0.001]'), "fit.parameters.k.bounds"),
])
def test_bad_fit_tables_are_refused_naming_the_key(tmp_path, edit, message):
    text = EXAMPLE.read_text()
    assert edit[0] in text
    p = tmp_path / "bad.toml"
    p.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_fit_config(p)


def test_a_config_without_fit_table_is_refused(tmp_path):
    p = tmp_path / "study.toml"
    p.write_text(re.sub(r"\[fit[\s\S]*", "", EXAMPLE.read_text()))
    with pytest.raises(ConfigError, match=r"no \[fit\] table"):
        load_fit_config(p)


def test_the_fcd_ks_term_is_the_smoothed_ks_of_the_fcd_values():
    """fit.objective.fcd_ks: within the documented bias of SciPy's exact two-sample KS, and with a
    gradient (the exact statistic has none)."""
    import jax
    from scipy.stats import ks_2samp

    from neuralmass.analysis.fcd import fcd, fcd_values
    from neuralmass.studies.fitting import fit_loss

    r_sim, r_emp = np.random.default_rng(1), np.random.default_rng(2)
    smooth = lambda x: np.apply_along_axis(lambda c: np.convolve(c, np.ones(8) / 8, "same"), 0, x)  # noqa: E731
    # a shared component growing in time: FCD values spread wider than the target's
    sim = smooth(r_sim.standard_normal((300, 6))) + smooth(r_sim.standard_normal((300, 1))) * np.linspace(0, 2, 300)[:, None]
    emp = smooth(r_emp.standard_normal((300, 6)))
    window, step, offset = 30, 5, 6
    target = np.asarray(fcd_values(fcd(emp, window, step), offset))
    loss = fit_loss(6, (window, step, offset), {"fc": 0.0, "fcd_ks": 1.0})
    d_h = float(loss(sim, {"fc": np.eye(6), "fcd": target}))
    exact = ks_2samp(np.asarray(fcd_values(fcd(sim, window, step), offset)), target).statistic
    assert exact > 0.2 and 0.0 <= exact - d_h <= 0.03
    g = jax.grad(lambda x: loss(x, {"fc": np.eye(6), "fcd": target}))(sim)
    assert np.isfinite(np.asarray(g)).all() and float(np.abs(np.asarray(g)).max()) > 0
