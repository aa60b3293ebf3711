"""The main job and CLI: no hangs, nothing of the user's lost, every check before the simulation.

Each test reproduces one failure a user met (the old behaviour is described in its docstring) and
shows the fix. Data-handling tests replace the simulator with a stand-in that returns signals of
the right shape (the numbers are tested in test_study.py) and counts its calls, so "nothing was
simulated" is checked directly.
"""

import ast
import json
import os
import random
import stat
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import neuralmass
from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config
from neuralmass.studies import output as out_mod
from neuralmass.studies import preflight
from neuralmass.studies.output import MARKER, PARTIAL_MARKER, OutputError, ResultsFolder
from neuralmass.studies.preflight import PreflightError, sampling_period

SRC = Path(neuralmass.__file__).parent

FAST = """
[study]
seed = 3
[data]
dataset = "example_connectome"
[simulation]
duration = "40 s"
transient = "4 s"
[analysis]
fcd_window = "10 s"
fcd_step = "2 s"
[meg_eeg]
enabled = false
"""


from _fake_simulator import FakeSimulator, fake_sim  # noqa: E402,F401  (fixture)


@pytest.fixture
def fast_cfg(tmp_path):
    p = tmp_path / "fast.toml"
    p.write_text(FAST)
    return p


def _one_error_line(capsys):
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("neuralmass: error")]
    assert len(err) == 1, err
    return err[0]


# ------------------------------------------------------------------ 1. the sampling-period search
def _old_search(tr, dt, max_iter=100_000):
    """The former loop (floating-point modulo), capped: None when it would not have ended."""
    neural_period = dt * max(1, int(round(min(50.0, tr) / dt)))
    for _ in range(max_iter):
        if not (tr / dt) % (neural_period / dt):
            return neural_period
        neural_period -= dt
    return None


@pytest.mark.parametrize("dt", [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.12, 0.15])
def test_period_search_terminates_for_steps_that_hung(dt):
    """Seen: `neuralmass run` spun forever for dt = 0.1 ms and the others listed."""
    assert _old_search(720.0, dt) is None  # the former search never ends (capped here)
    tr, d = Fraction(720), Fraction(str(dt))
    if (tr / d).denominator != 1:  # 0.7 ms: the TR is not a whole number of steps
        with pytest.raises(PreflightError, match="not a whole number of steps"):
            sampling_period(720.0, dt)
        return
    period, steps = sampling_period(720.0, dt)
    assert period == steps * d and (tr / period).denominator == 1 and period <= 50
    # the largest such period: no multiple of dt between it and 50 ms divides the TR
    for m in range(steps + 1, int(50 / d) + 1):
        assert (tr / (m * d)).denominator != 1


def test_period_search_rejects_7_ms_with_the_reason():
    """Seen: dt = "7 ms" crashed with a raw ZeroDivisionError."""
    with pytest.raises(ZeroDivisionError):
        _old_search(720.0, 7.0)
    with pytest.raises(PreflightError, match=r"bold.tr = 720 ms is not a whole number of steps.*\"7.2 ms\""):
        sampling_period(720.0, 7.0)


def test_period_search_property_random_dt_and_tr():
    """Many random dt in 0.05-10 ms and TRs: a period dividing the TR, or a validation error."""
    rng = random.Random(1234)
    ok = 0
    for i in range(3000):
        tr = rng.choice([720.0, 800.0, 1000.0, 2000.0, 2500.0, 3000.0, round(rng.uniform(300, 3000), 1)])
        if i % 3 == 0:
            dt = max(round(rng.uniform(0.05, 10.0), rng.choice([1, 2, 3])), 0.05)  # what users type
        elif i % 3 == 1:
            dt = rng.uniform(0.05, 10.0)                                           # any float
        else:  # a step that divides the TR (in units of 0.01 ms), as a float
            n = round(tr * 100)
            divs = [d for d in range(5, 1001) if n % d == 0]
            dt = rng.choice(divs) / 100
        try:
            period, steps = sampling_period(tr, dt)
        except PreflightError as exc:
            assert "not a whole number of steps" in str(exc)
            assert (preflight.exact_ms(tr, "tr") / preflight.exact_ms(dt, "dt")).denominator != 1
            continue
        ok += 1
        d = preflight.exact_ms(dt, "dt")
        assert period == steps * d and steps >= 1
        assert (preflight.exact_ms(tr, "tr") / period).denominator == 1
        assert period <= max(50, d)
    assert ok > 300  # the property was exercised on accepted steps too


def test_period_is_accepted_by_the_engine():
    """The float period handed to the monitors is a whole number of steps for the engine."""
    from neuralmass import HOPF, NodeSystem, Simulator
    from neuralmass.forward.bold import BOLDMonitor
    from neuralmass.monitors import TemporalAverage

    period, steps = sampling_period(720.0, 0.1)
    assert steps == 480
    res = Simulator(NodeSystem(HOPF, 2), dt=0.1, progress=False).run(
        1440.0, monitors=[TemporalAverage("x", period=float(period), name="neural"),
                          BOLDMonitor("x", tr=720.0, name="bold")])
    assert np.asarray(res["neural"]).shape == (30, 2)
    assert np.asarray(res["bold"]).shape[0] == 2


def test_run_with_7_ms_fails_before_simulating(fast_cfg, tmp_path, fake_sim, capsys):
    cfg = tmp_path / "seven.toml"
    cfg.write_text(FAST.replace('duration = "40 s"', 'duration = "40 s"\ndt = "7 ms"'))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r7")]) == 1
    assert "not a whole number of steps" in _one_error_line(capsys)
    assert fake_sim.calls == 0 and not (tmp_path / "r7").exists()


# ------------------------------------------------------------------ 2. the user's data
def test_existing_user_folder_is_refused_and_untouched(fast_cfg, tmp_path, fake_sim, capsys):
    """Seen: --out pointing at the user's folder moved it to <out>.previous; the next run deleted it."""
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    assert main(["run", str(fast_cfg), "--out", str(mine), "--quiet"]) == 1
    line = _one_error_line(capsys)
    assert "not made by neuralmass" in line and "--overwrite" in line
    assert fake_sim.calls == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fast.toml", "thesis"]
    assert (mine / "chapter1.tex").read_text() == "precious"


def test_overwrite_writes_into_the_folder_and_keeps_other_files(fast_cfg, tmp_path, fake_sim):
    mine = tmp_path / "shared"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    (mine / "summary.json").write_text("{}")  # same name as a result: replaced
    assert main(["run", str(fast_cfg), "--out", str(mine), "--overwrite", "--quiet"]) == 0
    assert (mine / "notes.txt").read_text() == "keep me"
    assert json.loads((mine / "summary.json").read_text())["seed"] == 3
    assert (mine / "bold.nc").is_file()
    assert not (mine / MARKER).exists()  # never marked as ours: a later run will not move it
    assert main(["run", str(fast_cfg), "--out", str(mine), "--quiet"]) == 1


def test_three_runs_keep_all_three_results(fast_cfg, tmp_path, fake_sim):
    """Seen: a third run to the same --out silently deleted the first run's results."""
    out = tmp_path / "res"
    seeds = [11, 12, 13]
    for s in seeds:
        assert main(["run", str(fast_cfg), "--out", str(out), "--seed", str(s), "--quiet"]) == 0
    folders = sorted(p for p in tmp_path.iterdir() if p.name.startswith("res"))
    assert len(folders) == 3
    found = sorted(json.loads((f / "summary.json").read_text())["seed"] for f in folders)
    assert found == seeds
    assert json.loads((out / "summary.json").read_text())["seed"] == 13  # the newest at --out
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_results_follow_the_umask(fast_cfg, tmp_path, fake_sim):
    """Seen: result folders were created 0700 and files 0600, so a lab could not share them."""
    old = os.umask(0o022)
    try:
        assert main(["run", str(fast_cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    finally:
        os.umask(old)
    r = tmp_path / "r"
    assert stat.S_IMODE(r.stat().st_mode) == 0o755
    assert stat.S_IMODE((r / "figures").stat().st_mode) == 0o755
    for f in ("bold.nc", "neural.nc", "summary.json", "report.md"):
        assert stat.S_IMODE((r / f).stat().st_mode) == 0o644, f


def test_stale_partial_folders_are_swept_only_if_ours_and_dead(tmp_path):
    """Seen: hidden .partial-* folders of killed runs were never removed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    def partial(name, pid, marker=True):
        p = tmp_path / name
        p.mkdir()
        (p / "neural.nc").write_text("x")
        if marker:
            (p / PARTIAL_MARKER).write_text(json.dumps({"pid": pid, "host": socket.gethostname()}))
        return p

    stale = partial(".res.partial-20260101-1", dead.pid)
    live = partial(".res.partial-20260101-2", os.getppid())           # a running process
    foreign = partial(".res.partial-20260101-3", dead.pid, marker=False)  # not made by us
    folder = ResultsFolder(tmp_path / "res")
    work = folder.open()
    assert not stale.exists() and live.exists() and foreign.exists()
    assert work.parent == tmp_path and (work / PARTIAL_MARKER).is_file()
    folder.abandon()
    assert not work.exists()


def test_out_dot(tmp_path, monkeypatch, fast_cfg, fake_sim, capsys):
    """Seen: `--out .` failed after the simulation (PosixPath('.') has an empty name)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert main(["run", str(fast_cfg), "--out", ".", "--quiet"]) == 0
    assert (empty / "bold.nc").is_file() and (empty / MARKER).is_file()
    assert Path.cwd() == empty and empty.is_dir()  # the folder itself stays (filled, not replaced)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "data.csv").write_text("1,2")
    monkeypatch.chdir(busy)
    fake_sim.calls = 0
    assert main(["run", str(fast_cfg), "--out", ".", "--quiet"]) == 1
    assert "--overwrite" in _one_error_line(capsys) and fake_sim.calls == 0


# ------------------------------------------------------------------ 3. checks before the simulation
def test_fcd_window_longer_than_recording_fails_first(fast_cfg, tmp_path, fake_sim, capsys):
    """Seen: an FCD window longer than the recording failed after the simulation."""
    cfg = tmp_path / "long.toml"
    cfg.write_text(FAST.replace('fcd_window = "10 s"', 'fcd_window = "60 s"'))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r")]) == 1
    line = _one_error_line(capsys)
    assert "analysis.fcd_window = 60000 ms" in line and "simulated BOLD" in line
    assert fake_sim.calls == 0 and not (tmp_path / "r").exists()


def test_fcd_window_checked_against_the_empirical_recording():
    with pytest.raises(PreflightError, match="empirical BOLD"):
        preflight.fcd_samples(600_000.0, 2000.0, 720.0, {"simulated BOLD": 10_000, "empirical BOLD": 1200})


def test_unwritable_output_fails_first(fast_cfg, tmp_path, fake_sim, capsys, monkeypatch):
    """Seen: an output folder that is not writable was discovered after the simulation."""
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root may write anywhere: make the folder read-only for the check
        real = os.access
        monkeypatch.setattr(out_mod.os, "access",
                            lambda p, m, **kw: False if Path(p) == locked else real(p, m, **kw))
    else:
        locked.chmod(0o500)
    try:
        assert main(["run", str(fast_cfg), "--out", str(locked / "r"), "--quiet"]) == 1
    finally:
        locked.chmod(0o755)
    assert "not writable" in _one_error_line(capsys)
    assert fake_sim.calls == 0 and not (locked / "r").exists()
    # a folder that cannot be created at all (a kernel file system) fails before simulating too
    assert main(["run", str(fast_cfg), "--out", "/proc/1/neuralmass-results", "--quiet"]) == 1
    _one_error_line(capsys)
    assert fake_sim.calls == 0


def test_late_failure_keeps_the_signals_and_says_what_is_missing(fast_cfg, tmp_path, fake_sim,
                                                                 monkeypatch, capsys):
    """Seen: a failure after the simulation deleted the written NetCDF files with the temp folder."""
    from neuralmass import viz

    def broken(*a, **k):
        raise RuntimeError("figure backend exploded")

    monkeypatch.setattr(viz, "plot_timeseries", broken)
    out = tmp_path / "r"
    assert main(["run", str(fast_cfg), "--out", str(out), "--quiet"]) == 3
    line = _one_error_line(capsys)
    assert "signals are saved in" in line and "figure timeseries.png" in line
    assert (out / "neural.nc").is_file() and (out / "bold.nc").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert "figure backend exploded" in summary["missing"]["figure bold.png"]
    report = (out / "report.md").read_text()
    assert "## Missing results" in report and "figure timeseries.png" in report
    assert "structure_function_coupling" in summary  # the rest of the analysis was done


def test_interrupt_during_analysis_keeps_the_signals(fast_cfg, tmp_path, fake_sim, monkeypatch, capsys):
    from neuralmass import viz

    def ctrl_c(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(viz, "plot_connectivity", ctrl_c)
    out = tmp_path / "r"
    assert main(["run", str(fast_cfg), "--out", str(out), "--quiet"]) == 130
    assert (out / "neural.nc").is_file() and (out / "bold.nc").is_file()
    assert "KeyboardInterrupt" in json.loads((out / "summary.json").read_text())["missing"]["rest of the study"]
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    err = capsys.readouterr().err
    assert f"signals simulated so far are kept in {out}" in err


def test_interrupt_during_simulation_leaves_nothing(fast_cfg, tmp_path, fake_sim, monkeypatch, capsys):
    def ctrl_c(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(FakeSimulator, "run", ctrl_c)
    assert main(["run", str(fast_cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fast.toml"]
    # the message says what happened: nothing was kept (it used to claim signals were kept)
    err = capsys.readouterr().err
    assert "before the signals were saved; nothing was kept" in err and "are kept" not in err


def test_failed_netcdf_falls_back_to_numpy(fast_cfg, tmp_path, fake_sim, monkeypatch):
    import neuralmass.io as nio

    def no_netcdf(ds, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nio, "write_netcdf_atomic", no_netcdf)
    out = tmp_path / "r"
    assert main(["run", str(fast_cfg), "--out", str(out), "--quiet"]) == 3
    with np.load(out / "bold.npz") as z:
        assert z["bold"].shape[1] == 8 and json.loads(str(z["units"]))
    assert "bold.npz instead" in json.loads((out / "summary.json").read_text())["missing"]["bold.nc"]


def test_failed_move_into_place_keeps_the_partial_folder(tmp_path, monkeypatch):
    folder = ResultsFolder(tmp_path / "r")
    work = folder.open()
    (work / "bold.nc").write_text("signals")

    def refuse(a, b):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(out_mod.os, "rename", refuse)
    with pytest.raises(OutputError, match="complete in .*partial.*nothing was deleted"):
        folder.commit()
    assert (work / "bold.nc").read_text() == "signals"


def test_missing_extra_stops_before_simulating(fast_cfg, tmp_path, fake_sim, monkeypatch, capsys):
    """Seen: a bare `pip install neuralmass` simulated for 12 s, then asked for the io extra."""
    monkeypatch.setitem(sys.modules, "xarray", None)  # `import xarray` now raises ImportError
    assert main(["run", str(fast_cfg), "--out", str(tmp_path / "r")]) == 1
    line = _one_error_line(capsys)
    assert "pip install 'neuralmass[io]'" in line and "xarray" in line
    assert fake_sim.calls == 0 and not (tmp_path / "r").exists()


def test_meg_eeg_true_without_tvb_data_fails_first(fast_cfg, tmp_path, fake_sim, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "tvb_data" else real(n, *a))
    cfg = tmp_path / "meg.toml"
    cfg.write_text(FAST.replace("enabled = false", "enabled = true"))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r")]) == 1
    assert "neuralmass[data]" in _one_error_line(capsys) and fake_sim.calls == 0


# ------------------------------------------------------------------ 4. values out of range
def test_out_of_range_parameter_warns_and_strict_refuses(tmp_path, capsys):
    """Seen: `simulate JansenRit --param "A=3.5 V"` gave an EEG mean of 25 V with exit 0."""
    out = tmp_path / "jr.npz"
    args = ["simulate", "JansenRit", "--param", "A=3.5 V", "--duration", "100 ms", "--out", str(out)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "warning: --param A = '3.5 V' (3500 mV) is outside the plausible range of JansenRit.A, " \
           "2.6 to 9.75 mV" in err
    out.unlink()
    assert main(args + ["--strict"]) == 1
    assert "--strict" in _one_error_line(capsys) and not out.exists()


def test_negative_rate_constant_warns(tmp_path, capsys):
    """Seen: `b=-50 Hz` gave 4e11 mV silently."""
    assert main(["simulate", "JansenRit", "--param", "b=-50 Hz", "--duration", "50 ms", "--strict",
                 "--out", str(tmp_path / "x.npz")]) == 1
    assert "JansenRit.b, 25 to 75 Hz" in _one_error_line(capsys)


@pytest.mark.parametrize("toml, key", [
    ("[network]\nk = nan\n", "network.k = nan is not a finite number"),
    ("[network]\nk = inf\n", "network.k = inf is not a finite number"),
    ("[model]\nparams = { a = nan }\n", "model.params.a = nan is not a finite number"),
    ("[simulation]\ndt = \"1e999 ms\"\n", "simulation.dt = '1e999 ms' is not a finite number"),
    ("[bold]\nscale = -inf\n", "bold.scale = -inf is not a finite number"),
])
def test_non_finite_values_are_rejected(tmp_path, toml, key):
    """Seen: `k = nan` in TOML passed validation, then failed with advice to use a smaller dt."""
    p = tmp_path / "c.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError, match=key.replace("(", r"\(")):
        load_config(p)


def test_config_range_warning_and_strict(caplog):
    over = {"model": {"name": "JansenRit", "params": {"b": "-50 Hz"}}}
    with caplog.at_level("WARNING", logger="neuralmass"):
        load_config(overrides=over)
    assert "model.params.b = '-50 Hz'" in caplog.text and "25 to 75 Hz" in caplog.text
    with pytest.raises(ConfigError, match="--strict"):
        load_config(overrides=over, strict=True)


# ------------------------------------------------------------------ 5. one-line errors
def test_simulate_out_in_missing_folder_fails_first(tmp_path, capsys, monkeypatch):
    """Seen: `simulate --out nodir/x.npz` printed `error: 2` after simulating."""
    monkeypatch.setattr(neuralmass.Simulator, "run", lambda *a, **k: pytest.fail("simulated"))
    assert main(["simulate", "Hopf", "--out", str(tmp_path / "nodir" / "x.npz")]) == 1
    line = _one_error_line(capsys)
    assert "does not exist" in line and "nodir" in line


def test_simulate_out_suffix(tmp_path, capsys, monkeypatch):
    """Seen: `--out result.txt` wrote result.txt.npz but reported result.txt."""
    monkeypatch.setattr(neuralmass.Simulator, "run", lambda *a, **k: pytest.fail("simulated"))
    assert main(["simulate", "Hopf", "--out", str(tmp_path / "result.txt")]) == 1
    assert ".npz" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_simulate_reports_the_file_it_wrote(tmp_path, capsys):
    out = tmp_path / "h.npz"
    assert main(["simulate", "Hopf", "--duration", "20 ms", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["file"] == str(out) and out.is_file()
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~out_mod.umask()


@pytest.mark.parametrize("exc", [PermissionError(13, "Permission denied", "/data/x"),
                                 ZeroDivisionError("float division by zero"),
                                 RuntimeError("multi\nline")])
def test_every_error_is_one_line_and_debug_shows_traceback(exc, monkeypatch, capsys):
    """Seen: PermissionError and ZeroDivisionError escaped as tracebacks."""
    import neuralmass.cli as cli

    def boom(args):
        raise exc

    monkeypatch.setattr(cli, "_cmd_models", boom)
    assert main(["models"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("neuralmass: error: ")
    if isinstance(exc, PermissionError):
        assert "Permission denied: /data/x" in captured.err
    assert main(["models", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


# ------------------------------------------------------------------ 7. smaller
def test_seeds_use_all_64_bits():
    """Seen: seeds above 32 bits were silently truncated (PRNGKey(2**32 + 7) == PRNGKey(7) bits)."""
    import jax

    assert np.array_equal(preflight.seed_key(7), jax.random.PRNGKey(7))  # old results unchanged
    keys = {tuple(np.asarray(preflight.seed_key(s)).tolist()) for s in (7, 2 ** 32 + 7, 2 ** 63 + 7, 2 ** 64 - 1)}
    assert len(keys) == 4
    for bad in (-1, 2 ** 64, 1.5, True):
        with pytest.raises(PreflightError):
            preflight.seed_key(bad)


def test_cli_seed_beyond_64_bits_is_refused(fast_cfg, tmp_path, fake_sim, capsys):
    assert main(["run", str(fast_cfg), "--seed", str(2 ** 64), "--out", str(tmp_path / "r")]) == 1
    assert "2**64" in _one_error_line(capsys) and fake_sim.calls == 0


def test_zero_step_delays_are_counted_and_reported(fast_cfg, tmp_path, fake_sim, caplog):
    """Seen: delays that round to zero steps at a coarse dt produced no warning."""
    d = neuralmass.datasets.load_dataset("example_connectome")
    W, L = np.asarray(d.weights), np.asarray(d.lengths_mm)
    expected = int(np.sum((W != 0) & (L > 0) & (L / 10.0 < 2.5)))  # speed 10 mm/ms, dt 5 ms
    assert expected > 0
    assert preflight.zero_delay_edges(W, d.delays_ms(10.0), 5.0) == expected
    assert preflight.zero_delay_edges(W, d.delays_ms(10.0), 0.01) == int(np.sum((W != 0) & (L > 0) & (L < 0.05)))
    with caplog.at_level("WARNING", logger="neuralmass"):
        assert main(["run", str(fast_cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["warnings"][0].startswith(f"{expected} of {int(np.count_nonzero(W))} edges")


def test_library_code_does_not_print():
    """Seen: library code reported with print instead of logging (only the CLI prints)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_json_output_is_clean(fast_cfg, tmp_path, fake_sim, capsys):
    assert main(["run", str(fast_cfg), "--out", str(tmp_path / "r"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)  # nothing but the JSON on stdout
    assert summary["output"] == str((tmp_path / "r").resolve())


def test_config_choices_come_from_the_registries(monkeypatch):
    """A coupling added to the library's registry is accepted by configs without other edits."""
    from neuralmass.network import coupling

    monkeypatch.setitem(coupling.COUPLINGS, "my_coupling", coupling.LinearCoupling)
    cfg = load_config(overrides={"network": {"coupling": "my_coupling"}})
    assert cfg["network"]["coupling"] == "my_coupling"
    from neuralmass.config import default_config_toml

    assert "my_coupling" in default_config_toml()
    with pytest.raises(ConfigError, match="choose one of .*my_coupling"):
        load_config(overrides={"network": {"coupling": "nope"}})


def test_compilation_cache_env_var(tmp_path, monkeypatch):
    import jax

    from neuralmass.compilation_cache import ENV_VAR, enable_compilation_cache

    before = jax.config.jax_compilation_cache_dir
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert enable_compilation_cache() is None and jax.config.jax_compilation_cache_dir == before
    # "0" turns the caches off: no folder named "0" in the working directory
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, "0")
    assert enable_compilation_cache() is None and not (tmp_path / "0").exists()
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "xla"))
    try:
        assert enable_compilation_cache() == (tmp_path / "xla").resolve()
        assert jax.config.jax_compilation_cache_dir == str((tmp_path / "xla").resolve())
    finally:
        jax.config.update("jax_compilation_cache_dir", before)


def test_compilation_cache_config_key(fast_cfg, tmp_path, fake_sim):
    import jax

    before = jax.config.jax_compilation_cache_dir
    cfg = tmp_path / "cached.toml"
    cfg.write_text(FAST.replace('duration = "40 s"', f'duration = "40 s"\ncompilation_cache = "{tmp_path / "xla"}"'))
    try:
        assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 0
        assert jax.config.jax_compilation_cache_dir == str((tmp_path / "xla").resolve())
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
