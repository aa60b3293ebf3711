"""Study configs and the command line."""

import json

import numpy as np
import pytest

from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config, parse_quantity


def test_parse_quantity_converts_units():
    import brainunit as u

    assert parse_quantity("10 mm/ms", "k").to_decimal(u.meter / u.second) == pytest.approx(10.0)
    assert parse_quantity("0.72 s", "k").to_decimal(u.ms) == pytest.approx(720.0)
    assert parse_quantity("-0.5 / ms", "k").to_decimal(u.Hz) == pytest.approx(-500.0)
    assert parse_quantity(3, "k") == 3.0


def test_default_config_is_valid_and_converted():
    cfg = load_config()
    assert cfg["simulation"]["dt"] > 0
    assert cfg["bold"]["tr"] == pytest.approx(720.0)  # HCP TR in ms
    assert cfg["network"]["speed"] == pytest.approx(10.0)  # mm/ms


@pytest.mark.parametrize("override, message", [
    ({"model": {"name": "Foo"}}, "model.name = 'Foo' is not a known model"),
    ({"simulation": {"dt": "-0.1 ms"}}, "simulation.dt = '-0.1 ms' must be positive"),
    ({"simulation": {"dt": "1 mV"}}, "simulation.dt = '1 mV' is not a time"),
    ({"network": {"speed": "3 ms"}}, "network.speed = '3 ms' is not a speed"),
    ({"data": {"dataset": "nope"}}, "data.dataset = 'nope' is not a known dataset"),
    ({"network": {"kk": 1.0}}, "network.kk is not a known key"),
    ({"network": {"coupling": "magic"}}, "network.coupling = 'magic' is not allowed"),
    ({"model": {"params": {"a": "1 mV"}}}, "model.params.a = '1 mV'"),
    ({"model": {"params": {"zz": 1.0}}}, "model.params.zz is not a parameter of Hopf"),
    ({"simulation": {"transient": "2000 s", "duration": "10 s"}}, "must be shorter"),
    ({"bogus": {}}, r"\[bogus\] is not a known section"),
    ({"bold": {"variable": "rE"}}, "bold.variable = 'rE' is not a state variable or observable of Hopf; choose one of x, y"),
    ({"study": {"seed": -1}}, r"study.seed = -1 must be in 0 <= seed < 2\*\*64"),
    ({"study": {"output": " "}}, "study.output = '' is empty"),
])
def test_bad_configs_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=override)


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulation\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_cli_bad_config_exits_nonzero_with_one_line(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text('[simulation]\ndt = "-1 ms"\n')
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "simulation.dt" in err[0]
    assert not out.exists()  # nothing left behind


def test_cli_print_config_roundtrip(tmp_path, capsys):
    assert main(["run", "--print-config"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert load_config(path) == load_config()


def test_cli_simulate_jansen_rit_alpha(tmp_path, capsys):
    out = tmp_path / "jr.npz"
    rc = main(["simulate", "JansenRit", "--input", "p=220 Hz", "--duration", "3 s",
               "--transient", "1 s", "--out", str(out)])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["signals"]["eeg"]["unit"] == "mV"
    data = np.load(out)
    x = data["eeg"][:, 0] - data["eeg"][:, 0].mean()
    f = np.fft.rfftfreq(len(x), 1e-3)
    assert 8 <= f[np.argmax(np.abs(np.fft.rfft(x)))] <= 13


def test_cli_models_and_datasets(capsys):
    assert main(["models", "WongWang"]) == 0
    assert "Deco et al. (2014)" in capsys.readouterr().out
    assert main(["models", "Nope"]) == 1
    assert main(["datasets", "list"]) == 0
    assert "hcp" in capsys.readouterr().out
