"""Self-describing NetCDF outputs: CF attributes and provenance inside the file."""

import brainunit as u
import numpy as np
import pytest

xr = pytest.importorskip("xarray")

from neuralmass.datasets import load_signal  # noqa: E402
from neuralmass.io import add_cf_attributes, read_provenance, to_xarray, write_netcdf_atomic  # noqa: E402


def test_cf_attributes_and_provenance_survive_a_write(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 3))
    res = {"neural": x * u.mV, "ts": np.arange(40) * 0.5 * u.ms}
    ds = to_xarray(res, "run", regions=["a", "b", "c"])
    cfg = {"study": {"name": "t", "seed": 7}, "data": {"connectome": "conn.zip"}}
    out = add_cf_attributes(ds, title="test run", config=cfg, seed=7, history="simulated")
    assert "Conventions" not in ds.attrs                   # a copy; the input is unchanged
    p = write_netcdf_atomic(out, tmp_path / "run.nc")
    with xr.open_dataset(p) as back:
        assert back.attrs["Conventions"].startswith("CF-")
        assert back["neural"].attrs["units"] == "mV"
        assert back["time"].attrs["units"] == "ms"
        assert back["neural"].attrs["long_name"].startswith("neural-mass activity")
        assert back.attrs["source"].startswith("neuralmass")
    prov = read_provenance(p)
    assert prov["config"] == cfg and prov["seed"] == 7
    assert prov["history"].endswith(": simulated") and "numpy" in prov["versions"]
    # a second pass appends to the history instead of replacing it
    again = add_cf_attributes(out, history="re-referenced")
    assert again.attrs["history"].count("\n") == 1 and again.attrs["neuralmass_config"] == out.attrs["neuralmass_config"]
    # the file is a valid empirical-signal input: units, rate and labels come from the attributes
    sig = load_signal(p)
    assert sig.sfreq == pytest.approx(2000.0) and list(sig.labels) == ["a", "b", "c"]
    np.testing.assert_allclose(sig.data, x, rtol=1e-6)
