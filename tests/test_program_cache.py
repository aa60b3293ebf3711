"""Compiled engine programs stored on disk and reloaded (``neuralmass.engine.program_cache``)."""

import json
import subprocess
import sys

import brainunit as u
import numpy as np
import pytest

import neuralmass as nm
from neuralmass.engine import program_cache
from neuralmass.engine.run import clear_cache

from _networks import seed_pipeline_simulator


def _network_run():
    """A small delayed, noisy network: the programs of a typical run (init, segment, begin)."""
    sim = seed_pipeline_simulator(k=1.0, progress=False)
    return np.asarray(sim.run(100 * u.ms, monitors=["rE"], transient=20 * u.ms, key=3)["rE"])


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv(program_cache.ENV_VAR, str(tmp_path))
    clear_cache()
    yield tmp_path / "engine"
    clear_cache()


def _delta(before):
    after = program_cache.stats()
    return {k: after[k] - before[k] for k in after}


def test_programs_are_stored_and_reloaded_with_identical_results(store):
    s0 = program_cache.stats()
    first = _network_run()
    d = _delta(s0)
    files = sorted(p.name for p in store.glob("*.nmx"))
    assert d["compiled"] == d["stored"] == len(files) >= 3
    assert {f.split("-")[0] for f in files} >= {"init", "segment", "begin"}
    # a fresh start of this process's programs: everything comes from the store
    clear_cache()
    s1 = program_cache.stats()
    again = _network_run()
    d = _delta(s1)
    assert d["compiled"] == 0 and d["loaded"] == len(files)
    np.testing.assert_array_equal(again, first)


def test_a_new_process_loads_the_stored_programs(store):
    first = _network_run()
    code = ("import json, numpy as np, sys\n"
            f"sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r})\n"
            "from test_program_cache import _network_run\n"
            "from neuralmass.engine import program_cache\n"
            "x = _network_run()\n"
            "print(json.dumps([program_cache.stats(), x.tolist()]))\n")
    env_out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    stats, x = json.loads(env_out.stdout.strip().splitlines()[-1])
    assert stats["compiled"] == 0 and stats["loaded"] >= 3
    np.testing.assert_array_equal(np.asarray(x, dtype=first.dtype), first)


def test_a_damaged_program_is_compiled_again_and_replaced(store):
    first = _network_run()
    files = sorted(store.glob("*.nmx"))
    for f in files:
        f.write_bytes(b"not an executable")
    clear_cache()
    s0 = program_cache.stats()
    again = _network_run()
    d = _delta(s0)
    assert d["load_failed"] == len(files) and d["compiled"] == len(files)
    np.testing.assert_array_equal(again, first)
    clear_cache()
    s1 = program_cache.stats()
    _network_run()
    assert _delta(s1)["loaded"] == len(files)   # the replacements are whole programs


@pytest.mark.parametrize("value", ["0", "off", "False"])
def test_the_store_can_be_turned_off(tmp_path, monkeypatch, value):
    monkeypatch.setenv(program_cache.ENV_VAR, value)
    monkeypatch.setenv("NEURALMASS_CACHE", str(tmp_path))   # where the default store would go
    clear_cache()
    s0 = program_cache.stats()
    _network_run()
    clear_cache()
    assert program_cache.folder() is None
    assert _delta(s0) == {"loaded": 0, "compiled": 0, "stored": 0, "load_failed": 0}
    assert not any(tmp_path.rglob("*.nmx"))


def test_default_folder_follows_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(program_cache.ENV_VAR, raising=False)
    monkeypatch.setenv("NEURALMASS_CACHE", str(tmp_path))
    assert program_cache.folder() == tmp_path / "xla"


def test_eviction_drops_the_oldest_programs_and_nothing_else(tmp_path):
    import os

    for i in range(5):
        p = tmp_path / f"segment-{i}.nmx"
        p.write_bytes(b"x" * 1000)
        os.utime(p, (1000 + i, 1000 + i))
    mine = tmp_path / "notes.txt"
    mine.write_bytes(b"y" * 10_000)
    program_cache._evict(tmp_path, limit=2500)
    assert sorted(p.name for p in tmp_path.glob("*.nmx")) == ["segment-3.nmx", "segment-4.nmx"]
    assert mine.read_bytes() == b"y" * 10_000


def test_a_machine_that_cannot_reload_its_programs_turns_the_store_off(store, monkeypatch):
    from jax.experimental import serialize_executable

    def refuse(*a, **k):
        raise RuntimeError("Target machine feature +prefer-no-gather is not supported")

    monkeypatch.setattr(serialize_executable, "deserialize_and_load", refuse)
    monkeypatch.setattr(program_cache, "_CHECKED", set())
    first = _network_run()
    assert not any(store.glob("*.nmx"))
    assert any(store.glob("off-*"))
    clear_cache()
    s0 = program_cache.stats()
    np.testing.assert_array_equal(_network_run(), first)
    assert _delta(s0)["stored"] == 0


def test_several_devices_leave_placement_to_jit(store):
    """With two devices an executable would be pinned to the device it was compiled for; the
    store steps aside so that ``jax.default_device`` (how sweeps spread chunks) still places runs."""
    code = ("import json, jax, neuralmass as nm\n"
            "from neuralmass.engine import program_cache\n"
            "sim = nm.Simulator(nm.LinearStep(2, noise_x=nm.WhiteNoise(2, sigma=0.1)), dt=0.1)\n"
            "with jax.default_device(jax.devices()[1]):\n"
            "    sim.run(5.0, key=0)\n"
            "print(json.dumps([len(jax.devices()), program_cache.stats()]))\n")
    import os

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    n_dev, stats = json.loads(out.stdout.strip().splitlines()[-1])
    assert n_dev == 2 and stats["stored"] == stats["compiled"] == stats["loaded"] == 0
    assert not any(store.glob("*.nmx"))


def test_arguments_a_program_does_not_use_still_key_it(store):
    """The init program does not read ``tau``: JAX prunes it from the program's text, but the
    executable checks its shape; a batch of ``tau`` and then a batch of keys with one ``tau`` must
    not share a stored program (they did, before the argument types entered the key)."""
    sim = nm.Simulator(nm.LinearStep(2, noise_x=nm.WhiteNoise(2, sigma=0.1)), dt=0.1, progress=False)
    for _ in range(2):                                  # compiled, then loaded from the store
        a = np.asarray(sim.run(5.0, params={"tau": np.array([[5.0], [10.0], [20.0]])}, key=1)["x"])
        b = np.asarray(sim.run(5.0, batch_size=3, key=1)["x"])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)  # same lane key, same tau = 10 ms
        clear_cache()


def test_an_unusable_folder_never_stops_a_run(tmp_path, monkeypatch):
    """A file where the store's folder should be: the run compiles as usual and stores nothing."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a user's file")
    monkeypatch.setenv(program_cache.ENV_VAR, str(blocker))
    clear_cache()
    s0 = program_cache.stats()
    x = np.asarray(nm.Simulator(nm.LinearStep(2, noise_x=nm.WhiteNoise(2, sigma=0.1)), dt=0.1,
                                progress=False).run(5.0, key=0)["x"])
    clear_cache()
    assert np.isfinite(x).all() and _delta(s0)["stored"] == 0
    assert blocker.read_text() == "a user's file"
