"""Units in outputs: config.json and NetCDF provenance carry units, angular frequencies are not
confused with Hz, the study's NetCDF files carry CF attributes, the BOLD baseline is the settled
resting level."""

import json

import numpy as np
import pytest

from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config
from neuralmass.models import MODELS
from neuralmass.studies.build import resting_level
from neuralmass.studies.resting_state import _save_signals, config_with_units


def test_config_json_values_carry_units():
    cfg = config_with_units(load_config(None))
    assert cfg["simulation"]["dt"] == "5 ms"
    assert cfg["bold"]["tr"] == "720 ms"
    assert cfg["network"]["speed"] == "10 mm/ms"
    assert cfg["model"]["params"]["omega"].endswith("rad/ms")     # Hopf: rad/ms, not Hz


@pytest.mark.parametrize("text", ["0.3142 Hz", "0.3142 kHz"])
def test_angular_frequency_in_hz_refused(text):
    with pytest.raises(ConfigError, match=r"angular frequency in rad/ms.*2\*pi\*f"):
        load_config(None, {"model": {"params": {"omega": text}}})
    ok = load_config(None, {"model": {"params": {"omega": "1.974 rad/s"}}})
    assert float(MODELS["Hopf"].param("omega").to_canonical(ok["model"]["params"]["omega"])) == \
        pytest.approx(1.974e-3)


def test_cli_param_hz_refused(tmp_path, capsys):
    assert main(["simulate", "Kuramoto", "--param", "omega=10 Hz", "--out", str(tmp_path / "k.npz")]) == 1
    assert "rad/s" in capsys.readouterr().err


def test_kuramoto_omega_labelled_rad_per_s():
    line = next(l for l in MODELS["Kuramoto"].describe().splitlines() if l.startswith("omega"))
    assert " rad/s " in line and " Hz " not in line.split("rad/s")[0]


def test_study_netcdf_has_cf_attributes(tmp_path):
    xr = pytest.importorskip("xarray")
    import brainunit as u

    cfg = load_config(None)
    res = {"neural": np.zeros((4, 2)), "ts": u.Quantity(np.arange(4.0), unit=u.ms)}
    summary = {}
    _save_signals(res, ("neural", "ts"), "neural", "neural activity", ["a", "b"],
                  {"model": "Hopf", "variable": "x", "seed": 42}, tmp_path, summary, cfg)
    assert not summary.get("missing")
    ds = xr.open_dataset(tmp_path / "neural.nc")
    assert ds.attrs["Conventions"].startswith("CF-") and "history" in ds.attrs
    assert json.loads(ds.attrs["neuralmass_config"])["simulation"]["dt"] == "5 ms"
    assert int(ds.attrs["seed"]) == 42


def test_bold_baseline_is_the_settled_resting_level():
    """The default Hopf (a = -0.02 /s) is far from rest after 10 s; its resting level is x = 0
    (the old 5–10 s mean gave -0.0069, and the default study's BOLD a mean of +1.8 %)."""
    cfg = load_config(None)
    assert abs(resting_level(MODELS["Hopf"], cfg["model"]["params"], "x", 5.0)) < 1e-4
