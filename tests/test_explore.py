"""Sweeps (neuralmass.explore): designs, batched chunks, Zarr store, resume, Dask, devices, CLI."""

from __future__ import annotations

import json
import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")
pytest.importorskip("zarr")
pytest.importorskip("xarray")

import neuralmass as nm  # noqa: E402
from neuralmass.monitors import TemporalAverage  # noqa: E402
from neuralmass.explore import (SchedulerError, Sweep, SweepStoreMismatch, design_points,  # noqa: E402
                                open_sweep, parse_space)

HERE = Path(__file__).parent
SRC = str(HERE.parent / "src")
N = 4
DT = 1.0


def geometry():
    rng = np.random.default_rng(3)
    W = rng.uniform(0.2, 1.0, (N, N))
    np.fill_diagonal(W, 0.0)
    D = rng.uniform(10.0, 40.0, (N, N))
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0.0)
    return W, D


def tiny_network(sigma=0.05):
    W, _ = geometry()
    node = nm.HopfStep(N, a=-0.2, omega=2 * np.pi * 0.02, noise_x=nm.WhiteNoise(N, sigma=sigma))
    return nm.Network(node, conn=W, coupling="diffusive", k=0.1)


def tiny_sweep(space=None, **kw):
    """4 Hopf nodes, 1 s at dt = 1 ms (0.1 s transient); default space: k x noise amplitude, 6 points x 2 seeds.
    (Two cheap features: every test process compiles the engine and the features once.)"""
    space = space or {"k": {"range": [0.0, 0.4], "steps": 3}, "noise.x_ext.sigma": [0.004, 0.01]}
    args = dict(seeds=2, chunk=1, dt=DT, duration=1000.0, transient=100.0, period=5.0,
                features=["rate_mean", "rate_var"])
    args.update(kw)
    return Sweep(tiny_network(), space, **args)


def _features(ds):
    return {f: np.asarray(ds[f].values) for f in ds.attrs["spec"]["features"]}


def _assert_same(a, b):
    fa, fb = _features(a), _features(b)
    assert fa.keys() == fb.keys()
    for f in fa:
        np.testing.assert_array_equal(fa[f], fb[f], err_msg=f)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted serial sweep (the reference store)."""
    path = tmp_path_factory.mktemp("ref") / "ref.zarr"
    sw = tiny_sweep()
    ds = sw.run(path, scheduler="serial", progress=False)
    assert sw.last_run["computed"] == list(range(sw.n_chunks))
    return path, ds


# ------------------------------------------------------------------------------------ designs
def test_designs_grid_lhs_sobol_random():
    axes = parse_space({"k": (0.0, 1.0), "speed": {"range": [1.0, 100.0], "scale": "log"}}, steps=5)
    grid = design_points(axes, "grid")
    assert grid.shape == (25, 2) and len({tuple(p) for p in grid}) == 25
    np.testing.assert_allclose(np.unique(grid[:, 1]), [1.0, np.sqrt(10), 10.0, 10 ** 1.5, 100.0])
    # Latin hypercube: each of the n equal strata of every axis holds exactly one point
    n = 16
    lhs = design_points(axes, "lhs", n, seed=4)
    assert np.array_equal(np.sort(np.floor(lhs[:, 0] * n)), np.arange(n))
    u_log = np.log(lhs[:, 1]) / np.log(100.0)
    assert np.array_equal(np.sort(np.floor(u_log * n)), np.arange(n))
    # Sobol': balanced in every axis half for a power of 2, and reproducible from its seed
    sob = design_points(axes, "sobol", 32, seed=1)
    assert (sob[:, 0] < 0.5).sum() == 16 and np.array_equal(sob, design_points(axes, "sobol", 32, seed=1))
    assert not np.array_equal(sob, design_points(axes, "sobol", 32, seed=2))
    rnd = design_points(axes, "random", 50, seed=0)
    assert rnd[:, 0].min() >= 0.0 and rnd[:, 1].max() <= 100.0 and rnd[:, 1].min() >= 1.0


# ------------------------------------------------------------------------------------ bad input
def test_bad_input_fails_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"unknown parameter 'kk'.*known: .*k"):
        tiny_sweep({"kk": (0.0, 1.0)})
    # an FCD window of 2 samples (correlations of +-1) is refused, as by `neuralmass run`
    with pytest.raises(ValueError, match=r"fcd_window.*2 samples.*at least 3 samples \(15 ms\)"):
        tiny_sweep(options={"fcd_window": 10.0, "fcd_step": 5.0})
    with pytest.raises(ValueError, match=r"space\['k'\].*empty range"):
        tiny_sweep({"k": {"range": [0.3, 0.3], "steps": 3}})
    with pytest.raises(ValueError, match=r"space\['k'\] = \[\] has no values"):
        tiny_sweep({"k": []})
    with pytest.raises(ValueError, match="needs tract lengths"):
        tiny_sweep({"speed": [2.0, 5.0]})
    sw = tiny_sweep()
    store = tmp_path / "never.zarr"
    t0 = time.perf_counter()
    with pytest.raises(SchedulerError, match=r"tcp://127\.0\.0\.1:9.*cannot be reached"):
        sw.run(store, scheduler="tcp://127.0.0.1:9", connect_timeout=2.0, progress=False)
    assert time.perf_counter() - t0 < 30
    assert not store.exists()           # nothing was created, nothing computed


def test_store_of_another_sweep_is_refused(reference, tmp_path):
    path, _ = reference
    other = tiny_sweep({"k": {"range": [0.0, 0.5], "steps": 3}, "noise.x_ext.sigma": [0.004, 0.01]})
    with pytest.raises(SweepStoreMismatch, match=r"space\.k\.range: the store has \[0\.0, 0\.4\], this sweep has \[0\.0, 0\.5\]"):
        other.run(path, scheduler="serial", progress=False)
    with pytest.raises(SweepStoreMismatch, match=r"seeds"):
        tiny_sweep(seeds=[0, 5]).run(path, scheduler="serial", progress=False)
    # a folder that is not a sweep store is never touched
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("user data")
    with pytest.raises(SweepStoreMismatch, match="not a neuralmass sweep store"):
        tiny_sweep().run(mine, scheduler="serial", progress=False)
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]


# ------------------------------------------------------------------------------------ semantics
def test_lane_equals_unbatched_run_and_noise_is_common_across_points(reference):
    """A stored lane equals an unbatched Simulator run of its point and seed (lane layout, keys,
    noise override); the two seeds differ at every point, and one seed's noise realisation is
    common to all points (common random numbers): in the nearly linear regime at k = 0 the
    variance ratio of two noise amplitudes is exactly their squared ratio."""
    _, ds = reference
    spec = ds.attrs["spec"]
    p = 3                                   # some point
    k, sig = float(ds.k.values[p]), float(ds["noise.x_ext.sigma"].values[p])
    for s, seed in enumerate(spec["seeds"]):
        net = nm.Network(nm.HopfStep(N, a=-0.2, omega=2 * np.pi * 0.02, noise_x=nm.WhiteNoise(N, sigma=sig)),
                         conn=geometry()[0], coupling="diffusive", k=k)
        res = nm.Simulator(net, dt=DT).run(1000.0, monitors=[TemporalAverage("x", period=5.0, name="a")],
                                           transient=100.0, key=jax.random.PRNGKey(seed))
        a = np.asarray(res["a"])
        np.testing.assert_allclose(ds.rate_var.values[p, s], a.var(axis=0).mean(), rtol=1e-5)
        np.testing.assert_allclose(ds.rate_mean.values[p, s], a.mean(), rtol=1e-4, atol=1e-7)
    v = ds.rate_var.values
    assert np.all(v[:, 0] != v[:, 1])
    # noise amplitude scales an (almost) linear system: the variance ratio of two sigmas at k = 0,
    # same seed, is the ratio of sigma^2 when the noise realisation is common
    k0 = np.nonzero(ds.k.values == 0.0)[0]
    sig0 = ds["noise.x_ext.sigma"].values[k0]
    ratio = v[k0[1]] / v[k0[0]]
    np.testing.assert_allclose(ratio, (sig0[1] / sig0[0]) ** 2, rtol=0.01)


def test_diverging_lanes_get_nan_and_the_others_their_values(tmp_path):
    """k = 40 per ms with dt = 1 ms makes diffusive coupling explode: in a chunk holding all
    points, those lanes get NaN features and NaN time series while the finite lanes equal an
    unbatched run of their point and seed (one batched run, no reruns)."""
    space = {"k": [0.0, 40.0, 0.2]}
    sw = tiny_sweep(space, chunk=3, timeseries=TS)
    ds = sw.run(tmp_path / "div.zarr", scheduler="serial", progress=False)
    v = ds.rate_var.values
    assert np.isnan(v[1]).all() and np.isfinite(v[[0, 2]]).all()
    assert np.isnan(ds.timeseries.values[1]).all() and np.isfinite(ds.timeseries.values[[0, 2]]).all()
    spec = ds.attrs["spec"]
    for p in (0, 2):
        net = nm.Network(nm.HopfStep(N, a=-0.2, omega=2 * np.pi * 0.02, noise_x=nm.WhiteNoise(N, sigma=0.05)),
                         conn=geometry()[0], coupling="diffusive", k=float(ds.k.values[p]))
        for s, seed in enumerate(spec["seeds"]):
            res = nm.Simulator(net, dt=DT).run(1000.0, monitors=[TemporalAverage("x", period=5.0, name="a")],
                                               transient=100.0, key=jax.random.PRNGKey(seed))
            np.testing.assert_allclose(v[p, s], np.asarray(res["a"]).var(axis=0).mean(), rtol=1e-5)


def test_best_point_recovers_the_target_fc(tmp_path):
    """Target FC = the FC of one point (k, speed) and seed 0, simulated alone; the report ranks
    that point first, with r = 1 for seed 0."""
    from neuralmass.explore.model import speed_system
    from neuralmass.explore.report import best_points, write_report

    W, D = geometry()
    space = {"k": [0.1, 0.6], "speed": {"range": [2.0, 8.0], "steps": 2}}
    net = tiny_network()
    system = speed_system(net, D, (2.0, 8.0))
    res = nm.Simulator(system, dt=DT).run(1200.0, monitors=[TemporalAverage("x", period=5.0, name="a")],
                                          transient=200.0, key=jax.random.PRNGKey(0),
                                          params={"k": 0.6, "speed": 2.0})
    fc = np.corrcoef(np.asarray(res["a"]).T)
    sw = Sweep(net, space, seeds=[0, 1], chunk=2, dt=DT, duration=1200.0, transient=200.0, period=5.0,
               distance=D, targets={"fc": fc}, features=["fc_corr", "sfc"])
    ds = sw.run(tmp_path / "fc.zarr", scheduler="serial", progress=False)
    best = best_points(ds)["fc_corr"][0]
    assert (best["k"], best["speed"]) == (0.6, 2.0)
    assert ds.fc_corr.values[best["point"], 0] == pytest.approx(1.0, abs=1e-5)
    report = write_report(ds, tmp_path / "report")
    text = report.read_text()
    assert "highest `fc_corr`" in text and "| 1 | " + str(best["point"]) in text
    assert (tmp_path / "report" / "figures" / "fc_corr.png").stat().st_size > 1000


def test_heat_map_keeps_columns_whose_lanes_all_diverged():
    """A grid column without any finite lane (e.g. k = 0 when its BOLD diverges) stays on the map
    as masked cells; the axis is not silently narrowed. One seed's NaN does not mask a cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    from neuralmass.explore.report import best_points, plot_feature

    ks, speeds = [0.0, 0.1, 0.2], [1.0, 2.0]
    kk, ss = np.meshgrid(ks, speeds, indexing="ij")
    v = np.stack([kk.ravel() + ss.ravel(), kk.ravel() + ss.ravel() + 0.5], axis=1)
    v[kk.ravel() == 0.0] = np.nan               # the k = 0 column: every lane diverged
    v[3, 1] = np.nan                            # one seed of one point
    ds = xr.Dataset({"fc_corr": (("point", "seed"), v)},
                    coords={"k": ("point", kk.ravel()), "speed": ("point", ss.ravel())})
    ds.attrs["spec"] = {"space": {"k": {"values": ks}, "speed": {"values": speeds}}, "design": "grid",
                        "seeds": [0, 1], "features": ["fc_corr"]}
    fig, ax = plt.subplots()
    plot_feature(ds, "fc_corr", ax)
    mesh = ax.collections[0]
    cells = np.ma.asarray(mesh.get_array()).reshape(len(speeds), len(ks))
    assert cells.mask[:, 0].all() and not cells.mask[:, 1:].any()
    assert cells[1, 1] == pytest.approx(2.1)    # point 3 (k = 0.1, speed 2): its finite seed only
    assert ax.get_xlim()[0] < 0.0               # the k = 0 column is on the axis
    plt.close(fig)
    assert best_points(ds)["fc_corr"][0]["point"] == 5


# ------------------------------------------------------------------------------------ resume
_KILL_SCRIPT = """
import sys, time
sys.path[:0] = [{src!r}, {tests!r}]
from {module} import {factory}
def on_chunk(rec):
    print("stored", rec["index"], flush=True)
    time.sleep(0.4)           # leave the parent time to kill us between chunks
{factory}(**{kw!r}).run({store!r}, scheduler="serial", progress=False, on_chunk=on_chunk)
print("finished", flush=True)
"""


def _sigkill_after_two_chunks(store, factory=("test_explore", "tiny_sweep"), **kw):
    """Run ``factory(**kw)`` (a sweep; ``(test module, function)``, default ``tiny_sweep``) into
    ``store`` in a child process and SIGKILL it after two chunks."""
    script = _KILL_SCRIPT.format(src=SRC, tests=str(HERE), store=str(store), kw=kw, module=factory[0],
                                 factory=factory[1])
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "JAX_PLATFORMS": "cpu"})
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if len(seen) == 2:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait()
    assert seen[:2] == ["stored 0", "stored 1"] and "finished" not in seen


def test_sigkill_then_resume_equals_uninterrupted_sweep(reference, tmp_path):
    ref_path, ref = reference
    store = tmp_path / "killed.zarr"
    _sigkill_after_two_chunks(store)
    sw = tiny_sweep()
    before = np.asarray(open_sweep(store)["chunk_done"].values) == 1
    assert 2 <= before.sum() < sw.n_chunks
    ds = sw.run(store, scheduler="serial", progress=False)
    assert sorted(sw.last_run["computed"]) == [int(i) for i in np.nonzero(~before)[0]]
    assert sw.last_run["skipped"] == before.sum()
    _assert_same(ds, ref)
    np.testing.assert_array_equal(ds.chunk_done.values, 1)
    # a finished sweep computes nothing
    again = tiny_sweep()
    again.run(store, scheduler="serial", progress=False)
    assert again.last_run["computed"] == [] and again.last_run["skipped"] == sw.n_chunks


# ------------------------------------------------------------------------------------ time series
TS = {"signal": "activity", "period": 20.0}       # 4 activity samples of 5 ms per window


@pytest.fixture(scope="module")
def ts_reference(tmp_path_factory):
    """An uninterrupted serial sweep that also stores the down-sampled activity."""
    path = tmp_path_factory.mktemp("ts") / "ts.zarr"
    sw = tiny_sweep(timeseries=TS)
    return path, sw.run(path, scheduler="serial", progress=False)


def _direct(k, sig, seed, monitors, bold=False):
    """One unbatched engine run of a tiny-sweep point (the sweep's key for ``seed``)."""
    net = nm.Network(nm.HopfStep(N, a=-0.2, omega=2 * np.pi * 0.02, noise_x=nm.WhiteNoise(N, sigma=sig)),
                     conn=geometry()[0], coupling="diffusive", k=k)
    return nm.Simulator(net, dt=DT).run(1000.0, monitors=monitors, transient=100.0,
                                        key=jax.random.PRNGKey(seed))


def test_timeseries_sigkill_then_resume_equals_uninterrupted_sweep(ts_reference, tmp_path):
    _, ref = ts_reference
    assert ref.timeseries.dims == ("point", "seed", "time", "region")
    assert ref.timeseries.shape == (6, 2, 45, N) and ref.timeseries.dtype == np.float32
    assert ref.attrs["spec"]["timeseries"] == {"signal": "activity", "period": 20.0, "reduce": "window-mean"}
    store = tmp_path / "killed_ts.zarr"
    _sigkill_after_two_chunks(store, timeseries=TS)
    part = open_sweep(store)
    done = np.asarray(part.chunk_done.values) == 1
    assert 2 <= done.sum() < 6
    assert np.isnan(part.timeseries.values[~done]).all()      # chunk = 1 point: chunk i = point i
    sw = tiny_sweep(timeseries=TS)
    ds = sw.run(store, scheduler="serial", progress=False)
    assert sorted(sw.last_run["computed"]) == [int(i) for i in np.nonzero(~done)[0]]
    _assert_same(ds, ref)
    np.testing.assert_array_equal(ds.timeseries.values, ref.timeseries.values)
    np.testing.assert_array_equal(ds.time.values, ref.time.values)
    assert np.isfinite(ds.timeseries.values).all()
    # the option is part of the sweep's identity
    with pytest.raises(SweepStoreMismatch, match=r"timeseries\.period: the store has 20\.0, this sweep has 10\.0"):
        tiny_sweep(timeseries={**TS, "period": 10.0}).run(store, scheduler="serial", progress=False)
    with pytest.raises(SweepStoreMismatch, match=r"timeseries: the store has .*this sweep has none"):
        tiny_sweep().run(store, scheduler="serial", progress=False)


@pytest.mark.parametrize("option", [None, {"signal": "y", "period": "25 ms"},
                                    {"signal": "bold", "period": 100.0}])
def test_timeseries_lane_equals_direct_run_window_means(ts_reference, tmp_path, option):
    """A stored lane's series equals an unbatched engine run of its point and seed, averaged over
    the same windows: the sweep's activity (the coupled variable x), another state variable (y,
    one more temporal-average monitor) and online BOLD (sampled per TR, then window-averaged)."""
    from neuralmass.forward.bold import BOLDMonitor

    if option is None:
        _, ds = ts_reference
        signal, period, factor = "x", 20.0, 4
        mon = TemporalAverage("x", period=5.0, name="s")
    else:
        signal, factor = option["signal"], (5 if option["signal"] == "y" else 2)
        period = 5.0 * factor if signal == "y" else 50.0 * factor
        bold = {"tr": 50.0} if signal == "bold" else None
        ds = tiny_sweep({"k": [0.1, 0.4]}, seeds=[3], chunk=2, bold=bold, timeseries=option,
                        features=["rate_mean"]).run(tmp_path / "s.zarr", scheduler="serial", progress=False)
        mon = (BOLDMonitor("x", tr=50.0, name="s") if signal == "bold"
               else TemporalAverage("y", period=5.0, name="s"))
    assert ds.timeseries.attrs["signal"] == ("activity" if signal == "x" else signal)
    p = 1
    k = float(ds.k.values[p])
    sig = float(ds["noise.x_ext.sigma"].values[p]) if "noise.x_ext.sigma" in ds else 0.05
    for s, seed in enumerate(ds.seed.values):
        res = _direct(k, sig, int(seed), [mon])
        x = np.asarray(nm.units.magnitude(res["s"]))
        T = x.shape[0] // factor
        want = x[:T * factor].reshape(T, factor, N).mean(axis=1)
        np.testing.assert_allclose(ds.timeseries.values[p, s], want, rtol=2e-5, atol=1e-7 * np.abs(want).max())
        ts = np.asarray(nm.units.magnitude(res["ts"]))
        np.testing.assert_allclose(ds.time.values, ts[factor - 1::factor][:T])
    assert ds.timeseries.attrs["period_ms"] == period


def test_timeseries_bad_values_fail_before_any_work(tmp_path):
    from neuralmass.config import ConfigError
    from neuralmass.studies.sweep import load_sweep_config

    bad = [
        ("bold", r"'bold' needs a sweep that records BOLD"),
        ({"signal": "z"}, r"'z' is not recorded; choose 'activity' or a variable of .*: x, y"),
        ({"period": 12.0}, r"12 ms is not a whole multiple of the 'activity' sampling period 5 ms; use e\.g\. 10 or 15 ms"),
        ({"period": "2 mV"}, r"timeseries\.period = '2 mV'.*not a time"),
        ({"period": -5.0}, r"must be a positive time"),
        ({"period": "5 s"}, r"longer than the recorded time 900 ms"),
        ({"perod": 10.0}, r"timeseries\.perod is not a known key; allowed: signal, period, max_mb"),
        ({"max_mb": 0}, r"max_mb = 0 must be a positive number"),
        ({"max_mb": 0.001}, r"would store 0 MiB \(6 points x 2 seeds x 180 times x 4 regions x 4 bytes = "
                            r"0\.00549 MiB per point\), over max_mb = 0\.001"),
        (3, r"give a signal name or a table"),
    ]
    for option, msg in bad:
        with pytest.raises(ValueError, match=msg):
            tiny_sweep(timeseries=option)
    ok = tiny_sweep(timeseries={"signal": "y", "period": "0.02 s"})
    assert (ok.timeseries.period, ok.timeseries.factor, ok.timeseries.n_times) == (20.0, 4, 45)
    assert ok.timeseries.bytes_per_point(2) == 2 * 45 * N * 4
    cfg = tmp_path / "bad.toml"
    cfg.write_text(_TOML.format(out=tmp_path / "res", extra='timeseries = { signal = "x", period = "7 ms" }'))
    with pytest.raises(ConfigError, match=r"\[sweep\]: timeseries\.period = 7 ms is not a whole multiple"):
        load_sweep_config(cfg)
    assert not (tmp_path / "res").exists()


# ------------------------------------------------------------------------------------ Dask
def test_two_worker_local_cluster_matches_serial(reference, tmp_path, monkeypatch):
    """... and the cluster's scratch space (worker folders, lock files) lives under the library's
    cache folder while it runs and is removed afterwards (it went to the system's temporary
    folder, lock files left behind)."""
    _, ref = reference
    monkeypatch.setenv("NEURALMASS_CACHE", str(tmp_path / "cache"))
    scratch = tmp_path / "cache" / "dask-scratch"
    seen = []
    sw = tiny_sweep()
    ds = sw.run(tmp_path / "dask.zarr", scheduler=None, workers=2, progress=False,
                on_chunk=lambda rec: seen.append([p.name for p in scratch.iterdir()]))
    assert seen and all(len(names) == 1 and names[0].startswith("sweep-") for names in seen)
    assert list(scratch.iterdir()) == []
    _assert_same(ds, ref)
    assert sorted(sw.last_run["computed"]) == list(range(sw.n_chunks))
    pids = set(np.asarray(ds.chunk_pid.values).tolist())
    assert os.getpid() not in pids and len(pids) == 2


_DEVICE_SCRIPT = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
import jax
assert len(jax.devices()) == 2, jax.devices()
from test_explore import tiny_sweep
tiny_sweep().run({store!r}, scheduler="serial", progress=False)
"""


def test_chunks_spread_over_two_devices(reference, tmp_path):
    _, ref = reference
    store = tmp_path / "devices.zarr"
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()}
    out = subprocess.run([sys.executable, "-c", _DEVICE_SCRIPT.format(src=SRC, tests=str(HERE), store=str(store))],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    ds = open_sweep(store)
    dev = np.asarray(ds.chunk_device.values)
    np.testing.assert_array_equal(dev, np.arange(len(dev)) % 2)
    for f, v in _features(ref).items():
        np.testing.assert_allclose(np.asarray(ds[f].values), v, rtol=1e-6, atol=1e-9, err_msg=f)


# ------------------------------------------------------------------------------------ CLI
_TOML = """
[study]
name = "tiny-sweep"
output = "{out}"

[data]
dataset = "example_connectome"

[model]
name = "Hopf"
params = {{ a = "-5 / s", omega = "62.8 / s" }}

[network]
coupling = "diffusive"
speed = "5 mm/ms"

[noise]
kind = "white"
sigma = 0.01

[simulation]
dt = "1 ms"
duration = "1.2 s"
transient = "0.2 s"

[bold]
enabled = false

[meg_eeg]
enabled = false

[sweep]
seeds = 1
chunk = 4
features = ["sfc", "rate_var", "metastability"]
{extra}

[sweep.space]
k = {{ range = [0.0, 0.05], steps = 2 }}
speed = {{ values = ["2 mm/ms", "8 mm/ms"] }}
"""


def test_cli_sweep_writes_store_maps_and_report(tmp_path, capsys):
    from neuralmass.cli import sweep_main

    cfg = tmp_path / "sweep.toml"
    cfg.write_text(_TOML.format(out=tmp_path / "res", extra='timeseries = { signal = "y", period = "0.1 s" }'))
    assert sweep_main([str(cfg), "--scheduler", "serial", "--out", str(tmp_path / "s.zarr"), "--quiet"]) == 0
    ds = open_sweep(tmp_path / "s.zarr")
    n = ds.sizes["region"]
    assert ds.timeseries.shape == (4, 1, 10, n) and np.isfinite(ds.timeseries.values).all()
    assert len(json.loads(ds.timeseries.attrs["region_labels"])) == n
    assert ds.attrs["spec"]["model"]["config"]["data"]["dataset"] == "example_connectome"
    np.testing.assert_array_equal(np.unique(ds.speed.values), [2.0, 8.0])   # "2 mm/ms" read in mm/ms
    sfc = ds.sfc.values[:, 0]
    assert np.all(np.isfinite(sfc)) and sfc[ds.k.values > 0].min() > sfc[ds.k.values == 0].max()
    assert (tmp_path / "s-report" / "figures" / "sfc.png").exists()
    # bad [sweep] input: one line naming the key, before any work
    cfg.write_text(_TOML.format(out=tmp_path / "res", extra="chunks = 3"))
    assert sweep_main([str(cfg), "--scheduler", "serial", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "sweep.chunks is not a known key" in err and not (tmp_path / "res").exists()
    cfg.write_text(_TOML.format(out=tmp_path / "res", extra="").replace('k = {{', 'kappa = {{')
                   .replace("k = {", "kappa = {"))
    assert sweep_main([str(cfg), "--scheduler", "serial", "--quiet"]) == 1
    assert "unknown parameter 'kappa'" in capsys.readouterr().err


# ------------------------------------------------------------------------ two runs on one store
def test_two_sweeps_creating_one_store_join_instead_of_failing(reference, tmp_path):
    """Seen: a second sweep creating the same store at the same time failed with an internal
    '.creating-' path. The store that lost the race says so; the same sweep joins it, another
    sweep is refused with the differences."""
    from neuralmass.explore import store as st

    path, _ = reference
    sw = tiny_sweep()
    target = tmp_path / "race.zarr"
    shutil.copytree(path, target)                     # the other run moved its store into place
    with pytest.raises(st.SweepStoreExists, match=r"race\.zarr' was created by another process") as err:
        st.create_store(target, sw.spec(), sw.names, sw.points, sw.seeds, sw.features, sw.chunk, {})
    assert ".creating-" not in str(err.value)
    assert not [p for p in tmp_path.iterdir() if ".creating-" in p.name]
    sw._create(target, sw.spec())                     # the same sweep joins (no error)
    other = tiny_sweep({"k": {"range": [0.0, 0.5], "steps": 3}, "noise.x_ext.sigma": [0.004, 0.01]})
    with pytest.raises(SweepStoreMismatch, match=r"space\.k\.range"):
        other._create(target, other.spec())


def test_chunk_locks_keep_two_resumes_apart(reference, tmp_path):
    """Seen: two resumes of one store computed the same chunks. A chunk held by another live run
    is skipped (and reported); a lock left by a dead process is taken over."""
    import socket

    import xarray as xr

    from neuralmass.explore import store as st

    path, ref = reference
    sw = tiny_sweep()
    target = tmp_path / "resume.zarr"
    sw.run(target, scheduler="serial", progress=False)
    # forget chunks 1 and 3: a run resuming the store would compute them
    man = xr.Dataset({"chunk_done": (("chunk",), np.zeros(1, np.int8))})
    for i in (1, 3):
        man.to_zarr(target, region={"chunk": slice(i, i + 1)}, mode="r+")
    locks = Path(str(target) + ".locks")
    locks.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (locks / "chunk-1").write_text(f"{socket.gethostname()} {os.getppid()}")   # a live process
    (locks / "chunk-3").write_text(f"{socket.gethostname()} {dead}")            # a dead one
    sw2 = tiny_sweep()
    ds = sw2.run(target, scheduler="serial", progress=False)
    assert sw2.last_run["computed"] == [3] and list(sw2.last_run["held"]) == [1]
    assert st.done_chunks(target).tolist() == [i != 1 for i in range(sw.n_chunks)]
    np.testing.assert_array_equal(ds["rate_mean"].values[3], ref["rate_mean"].values[3])
    assert [p.name for p in locks.iterdir()] == ["chunk-1"]       # ours removed, theirs kept
    claimed, held = st.claim_chunks(target, [1, 2])
    assert claimed == [2] and 1 in held
    st.release_chunks(target, claimed)
