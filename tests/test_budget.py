"""Runs that cannot fit in memory are refused, and long ones warned (or, in the CLI, refused
without --yes), before any work: cheap tests, nothing big is ever allocated."""

import time
import warnings

import brainunit as u
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.cli import main
from neuralmass.engine import budget
from neuralmass.engine.budget import LongRunWarning, RunTooLarge, check_budget, estimate_run
from neuralmass.engine.plan import make_plan
from neuralmass.engine.system import NodeSystem
from neuralmass.models import MODELS


def _hopf(n):
    return NodeSystem(MODELS["Hopf"], n)


def test_billion_nodes_refused_before_any_allocation():
    sim = nm.Simulator(_hopf(10**9), dt=0.1)
    t0 = time.perf_counter()
    with pytest.raises(RunTooLarge, match=r"(?s)needs about .*B of memory.*fewer nodes"):
        sim.run(2000.0, period=1.0)
    assert time.perf_counter() - t0 < 5


def test_huge_duration_refused_for_its_recorded_outputs():
    sim = nm.Simulator(_hopf(1), dt=0.1)
    with pytest.raises(RunTooLarge, match=r"recorded outputs .*coarser sampling period"):
        sim.run(1e12 * u.second, period=1.0)


def _delayed_network():
    rng = np.random.default_rng(0)
    n = 68
    w = rng.random((n, n))
    np.fill_diagonal(w, 0)
    d = 20 + 100 * rng.random((n, n))
    return nm.Network(nm.WilsonCowanStep(n), conn=w, distance=d, speed=1 * u.mm / u.ms,
                      coupling="diffusive", coupled_var="rE", k=0.1)


def test_tiny_dt_refused_for_its_delay_buffer(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda: 16e9)   # the buffer needs ~65 GB
    net = _delayed_network()
    sim = nm.Simulator(net, dt=1e-6 * u.ms)
    with pytest.raises(RunTooLarge, match=r"delay buffer .*coarser dt"):
        sim.run(10.0, period=1.0)
    # the same network at an ordinary step: the buffer is counted, and small
    rp = make_plan(sim.system, 0.1, "heun", 100.0, period=1.0)
    est = estimate_run(sim.system, rp)
    L = sim.system.delay_line(0.1).length
    assert est.parts["delay buffer"] == pytest.approx(68 * (2 * L + sim.system.delay_line(0.1).block) * 4)


def test_memory_check_uses_available_memory_and_falls_back(monkeypatch):
    sys_ = _hopf(1000)
    rp = make_plan(sys_, 0.1, "heun", 10_000.0, period=0.1)      # 1e5 samples x 1000 nodes: ~0.8 GB
    monkeypatch.setattr(budget, "available_memory", lambda: 1e8)
    with pytest.raises(RunTooLarge, match="only 100 MB is available"):
        check_budget(sys_, rp)
    # lanes multiply the estimate
    monkeypatch.setattr(budget, "available_memory", lambda: 1e9)
    check_budget(sys_, rp, lanes=1)
    with pytest.raises(RunTooLarge, match="4 lanes"):
        check_budget(sys_, rp, lanes=4)
    # where memory cannot be read, there is no check
    monkeypatch.setattr(budget, "available_memory", lambda: None)
    check_budget(sys_, rp, lanes=4)
    monkeypatch.setenv("NEURALMASS_SKIP_BUDGET", "1")
    monkeypatch.setattr(budget, "available_memory", lambda: 1.0)
    check_budget(sys_, rp)


def test_available_memory_reads_the_machine():
    m = budget.available_memory()
    assert m is None or m > 1e6


def test_long_run_warns_before_starting():
    sim = nm.Simulator(_hopf(1), dt=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LongRunWarning)
        with pytest.raises(LongRunWarning, match=r"at least .* h"):
            sim.run(2e9 * u.second, period=1e7)   # 2e13 steps; few samples, so it fits in memory
    fn_rp = make_plan(_hopf(1), 0.1, "heun", 1000.0)
    assert estimate_run(_hopf(1), fn_rp).seconds < 1


def test_make_run_fn_is_checked_too():
    with pytest.raises(RunTooLarge):
        nm.engine.make_run_fn(_hopf(10**9), 0.1, 2000.0, period=1.0)


def test_cli_refuses_with_the_estimate(tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["simulate", "Hopf", "--n", "1000000000", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "needs about" in err and "fewer nodes" in err and not out.exists()
    assert main(["simulate", "Hopf", "--duration", "2e9 s", "--period", "1e7 ms", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "estimated to take at least" in err and "--yes" in err and not out.exists()


def test_cli_yes_runs_a_long_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(budget, "LONG_RUN_S", 1e-12)      # every run is "long"
    out = tmp_path / "x.npz"
    args = ["simulate", "Hopf", "--duration", "10 ms", "--out", str(out)]
    assert main(args) == 1 and "--yes" in capsys.readouterr().err and not out.exists()
    with pytest.warns(LongRunWarning):
        assert main(args + ["--yes"]) == 0
    assert out.exists()
