"""Drifts against an independent implementation: The Virtual Brain's ``dfun``.

The fixture ``tests/fixtures/tvb_dfun.npz`` holds TVB's derivatives at random states, coupling
values and parameters (made by ``scripts/make_tvb_fixture.py`` in a separate environment with
tvb-library; only numbers are stored). Each test maps TVB's names onto the neuralmass model —
states, parameters (both in ms-based units, so TVB's numbers are our canonical values except
where noted) and the coupling terms onto input channels — and requires agreement to
``rtol=1e-9`` relative to the largest derivative (double precision).
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuralmass.models import MODELS

FIXTURE = Path(__file__).parent / "fixtures" / "tvb_dfun.npz"


@pytest.fixture(scope="module")
def tvb():
    data = np.load(FIXTURE)
    return data, json.loads(str(data["meta"]))


def _coupling(name, c):
    """TVB coupling columns -> our input channels."""
    if name == "MontbrioPazoRoxin":
        return {"r_ext": c[:, 0], "V_ext": c[:, 1]}
    if name in ("CoombesByrne",):
        return {"r_ext": c[:, 0]}
    if name == "Generic2dOscillator":
        return {"V_ext": c[:, 0]}
    if name == "Kuramoto":
        return {"theta_ext": c[:, 0]}
    if name == "Epileptor":
        return {"c_pop1": c[:, 0], "c_pop2": c[:, 1]}
    if name == "Epileptor2D":
        return {"c_pop": c[:, 0]}
    if name == "LarterBreakspear":
        return {"QV_ext": c[:, 0]}
    raise KeyError(name)


# TVB name -> (our model, {tvb state: our state}, {tvb param: (our param, factor)})
WW_PARAMS = {"a_e": ("a_E", 1.0), "b_e": ("b_E", 1.0), "d_e": ("d_E", 1.0), "gamma_e": ("gamma_E", 1e3),
             "tau_e": ("tau_E", 1.0), "w_p": ("w_plus", 1.0), "J_N": ("J_NMDA", 1.0), "W_e": ("W_E", 1.0),
             "a_i": ("a_I", 1.0), "b_i": ("b_I", 1.0), "d_i": ("d_I", 1.0), "gamma_i": ("gamma_I", 1e3),
             "tau_i": ("tau_I", 1.0), "J_i": ("J_i", 1.0), "W_i": ("W_I", 1.0), "I_o": ("I_0", 1.0),
             "I_ext": ("I_ext", 1.0)}
CASES = {
    "MontbrioPazoRoxin": "MontbrioPazoRoxin",
    "CoombesByrne": "CoombesByrne",
    "Generic2dOscillator": "Generic2dOscillator",
    "Kuramoto": "Kuramoto",
    "Epileptor": "Epileptor",
    "Epileptor2D": "Epileptor2D",
    "LarterBreakspear": "LarterBreakspear",
    "ReducedWongWangExcInh": "WongWang",
}


@pytest.mark.parametrize("tvb_name", sorted(CASES))
def test_drift_matches_tvb(tvb, tvb_name):
    data, meta = tvb
    model = MODELS[CASES[tvb_name]]
    info = meta["models"][tvb_name]
    states = data[f"{tvb_name}/states"]
    coup = data[f"{tvb_name}/coupling"]
    expected = data[f"{tvb_name}/dfun"]
    with jax.enable_x64(True):
        P = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in model.default_params().items()}
        inputs = {k: jnp.zeros((), jnp.float64) for k in model.input_names}
        if tvb_name == "ReducedWongWangExcInh":
            for p in info["varied"]:
                if p == "G":
                    continue
                ours, f = WW_PARAMS[p]
                P[ours] = jnp.asarray(data[f"{tvb_name}/param/{p}"] * f)
            st = {"S_E": jnp.asarray(states[:, 0]), "S_I": jnp.asarray(states[:, 1])}
            inputs["S_E_ext"] = jnp.asarray(data[f"{tvb_name}/param/G"] * coup[:, 0])
        else:
            for p in info["varied"]:
                P[p] = jnp.asarray(data[f"{tvb_name}/param/{p}"].astype(float))
            st = {s: jnp.asarray(states[:, j]) for j, s in enumerate(info["state_variables"])}
            for k, v in _coupling(tvb_name, coup).items():
                inputs[k] = jnp.asarray(v)
        d = model.drift(st, P, inputs)
        got = np.stack([np.asarray(d[s]) for s in model.state_names], axis=1)
    scale = np.abs(expected).max(axis=0)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * scale.max())


def test_fixture_provenance(tvb):
    data, meta = tvb
    assert meta["tvb_library_version"] and meta["samples"] >= 100
    assert FIXTURE.stat().st_size < 1_000_000
    for name in CASES:
        assert data[f"{name}/states"].shape[0] == meta["samples"]
