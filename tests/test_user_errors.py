"""Errors and messages a user reads (issue 25, "smaller, all user-visible"): each says what is
wrong, with the argument, the value and the fix — and never claims what did not happen."""

import logging
import os

import jax
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.engine.rng import as_key


def test_integer_keys_beyond_64_bits_are_a_clear_error():
    """Seen: key=2**70 gave a raw OverflowError from jax; every 64-bit seed is a distinct key."""
    with pytest.raises(ValueError, match=r"key=1180591620717411303424 is out of range.*2\*\*64"):
        as_key(2 ** 70)
    sim = nm.Simulator(nm.HopfStep(1), dt=1.0, progress=False)
    with pytest.raises(ValueError, match="key=.*out of range"):
        sim.run(10.0, key=2 ** 70)
    np.testing.assert_array_equal(as_key(7), jax.random.PRNGKey(7))      # old seeds unchanged
    keys = {tuple(np.asarray(as_key(s)).tolist()) for s in (7, 2 ** 32 + 7, 2 ** 63, 2 ** 64 - 1)}
    assert len(keys) == 4
    assert np.asarray(sim.run(10.0, key=2 ** 64 - 1)["x"]).shape == (10, 1)


def _diverging_run(net):
    with pytest.raises(nm.SimulationDiverged) as err:
        nm.Simulator(net, dt=1.0, progress=False).run(2_000.0, monitors=["x"])
    return str(err.value)


def test_divergence_advice_names_a_negative_coupling_or_all_zero_weights():
    """Seen: k < 0 and all-zero weights got 'try a smaller dt' advice; the network says what it
    knows (a negative k pushes regions apart; zero weights mean the nodes diverge on their own)."""
    W = np.ones((3, 3)) - np.eye(3)

    def hopf(**kw):
        return nm.HopfStep(3, noise_x=nm.WhiteNoise(3, sigma=0.01), **kw)

    msg = _diverging_run(nm.Network(hopf(), conn=W, k=-5.0))
    assert "coupling strength k = -5 is negative" in msg and "network.k" in msg
    assert "smaller dt" not in msg
    # uncoupled nodes that blow up on their own (a Hopf node far past its bifurcation, coarse dt)
    msg = _diverging_run(nm.Network(hopf(a=5.0), conn=np.zeros((3, 3)), k=0.1))
    assert "all connection weights are zero" in msg and "node model diverges on its own" in msg
    # a plain step-size divergence keeps the step-size advice
    msg = _diverging_run(nm.Network(hopf(a=5.0), conn=W, k=0.1))
    assert "smaller dt" in msg


def test_zero_delay_warning_is_printed_once(tmp_path, caplog):
    """Seen: the study preflight and the network both warned about zero-step delays."""
    from neuralmass.config import load_config
    from neuralmass.studies.build import build_study

    cfg = load_config(None)
    cfg["simulation"].update(dt=5.0, duration=20_000.0, transient=2_000.0)
    cfg["data"]["dataset"] = "example_connectome"
    with caplog.at_level(logging.WARNING, logger="neuralmass"):
        study = build_study(cfg)
        study.network.delay_line(5.0)                         # what the run builds
    zero = [r for r in caplog.records if "delay" in r.getMessage() and "dt/2" in r.getMessage()]
    assert len(zero) == 1, [r.getMessage() for r in zero]
    assert "simulation.dt" in zero[0].getMessage()             # the config's terms
    # a Network built in Python still warns, in the API's terms
    caplog.clear()
    conn = study.connectome
    with caplog.at_level(logging.WARNING, logger="neuralmass"):
        nm.Network(nm.HopfStep(conn.n_regions), conn=conn, speed=10.0).delay_line(5.0)
    assert any("delay_mode='linear'" in r.getMessage() for r in caplog.records)


def test_report_html_renders_the_markdown():
    """Seen: report.html showed raw markdown (backticks, **, list dashes, a header row as data)."""
    from neuralmass.studies.report import report_html as _html

    md = ("# neuralmass study: a <b>\n\n- dataset: `hcp`; seed: **1**\n- wall time: 3 s\n\n## Table\n\n"
          "| measure | value |\n|---|---|\n| FC `r` | 0.5 |\n\n![fc](figures/fc.png)\n\n"
          "```json\n{\"x\": \"<i>\"}\n```\n")
    page = _html(md, {"study": "s"})
    body = page.split("<body>")[1]
    for raw in ("`", "**", "|", "- dataset", "<b>", "<i>"):
        assert raw not in body, raw
    assert "<ul>\n<li>dataset: <code>hcp</code>; seed: <strong>1</strong></li>" in body
    assert "<tr><th>measure</th><th>value</th></tr>" in body and "<td>FC <code>r</code></td>" in body
    assert "<h1>neuralmass study: a &lt;b&gt;</h1>" in body and '<img src="figures/fc.png"' in body
    assert "<pre><code>" in body and "&lt;i&gt;" in body


def test_model_name_alone_takes_that_models_defaults(tmp_path):
    """Seen: `[model] name = "JansenRit"` alone failed on Hopf's a and omega (the default study's
    parameters); the chosen model's defaults apply, its default step too unless dt is given."""
    from neuralmass.config import load_config
    from neuralmass.models import JANSEN_RIT

    p = tmp_path / "jr.toml"
    p.write_text('[model]\nname = "JansenRit"\n')
    cfg = load_config(p)
    assert cfg["model"] == {"name": "JansenRit", "params": {}}
    assert cfg["simulation"]["dt"] == JANSEN_RIT.default_dt
    p.write_text('[model]\nname = "JansenRit"\nparams = { C = 135.0 }\n[simulation]\ndt = "0.05 ms"\n')
    cfg = load_config(p)
    assert cfg["model"]["params"] == {"C": 135.0} and cfg["simulation"]["dt"] == 0.05
    default = load_config(None)                              # the default study is unchanged
    assert default["model"]["name"] == "Hopf" and set(default["model"]["params"]) == {"a", "omega"}
    assert default["simulation"]["dt"] == 5.0


def test_brainevent_cache_goes_to_the_library_cache_folder():
    """Seen: importing neuralmass made brainevent's kernel cache in ~/.cache/brainevent, ignoring
    the library's cache settings. (conftest points NEURALMASS_CACHE at the session's temporary
    folder before neuralmass, and with it brainstate and brainevent, is imported.)"""
    import brainevent

    from neuralmass.compilation_cache import cache_dir

    assert brainevent.get_cache_dir() == str(cache_dir() / "brainevent")
    assert str(cache_dir()).startswith(os.environ["NEURALMASS_TEST_SESSION_CACHE"])
