"""Lead-field forward models: unit algebra by value, vertex compression, noise statistics."""

import importlib.util

import brainunit as u
import jax
import numpy as np
import pytest

from neuralmass.forward import EEGLeadFieldModel, LeadFieldModel, MEGLeadFieldModel
from neuralmass.units import UnitMismatchError

R, M = 5, 4


def _L():
    return np.arange(1.0, R * M + 1).reshape(R, M) / 10.0


def test_unit_algebra_mv_source_to_volt_then_microvolt():
    L = _L() * u.volt / (u.nA * u.meter)
    s = np.linspace(-2.0, 3.0, R)                       # mV
    expect_V = (2.0 * s) @ _L()                          # mV * nA·m/mV * V/(nA·m) = V
    eeg = EEGLeadFieldModel(R, M, L, dipole_scale=2.0 * u.nA * u.meter / u.mV)
    y = eeg(s * u.mV)
    assert u.get_unit(y).dim == u.volt.dim
    np.testing.assert_allclose(y.to_decimal(u.volt), expect_V, rtol=1e-6)
    # the same source given in volts is converted, not reinterpreted
    np.testing.assert_allclose(eeg(s * 1e-3 * u.volt).to_decimal(u.volt), expect_V, rtol=1e-5)
    # plain numbers are read in the source unit implied by the scale (mV)
    np.testing.assert_allclose(eeg(s).to_decimal(u.volt), expect_V, rtol=1e-6)
    # µV on request: the magnitude changes by 1e6
    eeg_uv = EEGLeadFieldModel(R, M, L, scale=2.0 * u.nA * u.meter / u.mV, sensor_unit=u.uvolt)
    y_uv = eeg_uv(s * u.mV)
    np.testing.assert_allclose(np.asarray(y_uv.mantissa), expect_V * 1e6, rtol=1e-6)
    # the generic model defaults to mV (published API); a lead field in fV/(pA·m) converts
    lf = LeadFieldModel(R, M, _L() * 1e3 * u.fvolt / (u.pA * u.meter), scale=2.0 * u.nA * u.meter / u.mV)
    np.testing.assert_allclose(lf(s * u.mV).to_decimal(u.volt), expect_V * 1e-9, rtol=1e-5)


def test_meg_snippet_scale_unit_gives_tesla_and_femtotesla():
    L = _L() * u.tesla / (u.nA * u.meter)
    s = np.linspace(0.5, 1.5, R)
    meg = MEGLeadFieldModel(R, M, L, scale=u.nA * u.meter / u.mV)   # a Unit as scale (seed snippet)
    y = meg(s * u.mV)
    assert u.get_unit(y).dim == u.tesla.dim
    np.testing.assert_allclose(y.to_decimal(u.tesla), s @ _L(), rtol=1e-6)
    meg_ft = MEGLeadFieldModel(R, M, _L() * 1e15 * u.ftesla / (u.nA * u.meter),
                               dipole_scale=u.nA * u.meter / u.mV, sensor_unit=u.ftesla)
    np.testing.assert_allclose(np.asarray(meg_ft(s * u.mV).mantissa), s @ _L() * 1e15, rtol=1e-5)


def test_unit_mismatches_name_the_argument():
    L_eeg = _L() * u.volt / (u.nA * u.meter)
    with pytest.raises(UnitMismatchError, match="scale"):
        EEGLeadFieldModel(R, M, L_eeg, scale=2.0 * u.tesla)
    with pytest.raises(UnitMismatchError, match="^L has unit"):
        EEGLeadFieldModel(R, M, _L() * u.tesla / (u.nA * u.meter))
    with pytest.raises(UnitMismatchError, match="sensor_unit"):
        MEGLeadFieldModel(R, M, L_eeg, sensor_unit=u.volt)
    eeg = EEGLeadFieldModel(R, M, L_eeg, scale=2.0 * u.nA * u.meter / u.mV)
    with pytest.raises(UnitMismatchError, match="nmm_obs_or_dipoles"):
        eeg(np.ones(R) * u.Hz)
    with pytest.raises(ValueError, match="transposed"):
        EEGLeadFieldModel(R, M, L_eeg.T)


def test_vertex_compression_equals_direct_vertex_sum():
    """A 6-vertex surface, 2 regions: region lead field = sum over its vertices of area·(n·L_v)."""
    rng = np.random.default_rng(0)
    V, Rr, Mm = 6, 2, 3
    normals = rng.standard_normal((V, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    parcel = np.zeros((V, Rr))
    parcel[[0, 1, 2], 0] = 1
    parcel[[3, 4, 5], 1] = 1
    area = rng.uniform(0.5, 2.0, V)
    Lv = rng.standard_normal((Mm, 3 * V))               # x, y, z columns per vertex
    W = LeadFieldModel.build_fixed_orientation_weights(normals, parcel, area)
    assert W.shape == (3 * V, Rr)
    Lr = np.asarray(LeadFieldModel.compress_vertex_leadfield(Lv, W))
    direct = np.zeros((Rr, Mm))
    for v in range(V):
        r = parcel[v].argmax()
        direct[r] += area[v] * Lv[:, 3 * v:3 * v + 3] @ normals[v]
    np.testing.assert_allclose(Lr, direct, rtol=1e-5, atol=1e-6)
    # with units: V/(nA·m) lead field, dimensionless weights -> same unit, same numbers
    Lq = LeadFieldModel.compress_vertex_leadfield(Lv * u.volt / (u.nA * u.meter), W)
    np.testing.assert_allclose(Lq.to_decimal(u.volt / (u.nA * u.meter)), direct, rtol=1e-5, atol=1e-6)


def test_noise_covariance_matches_noise_cov():
    A = np.array([[1.0, 0.0, 0.0, 0.0], [0.5, 1.0, 0.0, 0.0], [0.0, -0.3, 0.8, 0.0], [0.2, 0.0, 0.1, 0.5]])
    cov = A @ A.T                                          # µV²
    model = EEGLeadFieldModel(R, M, _L() * u.volt / (u.nA * u.meter), sensor_unit=u.uvolt,
                              noise_cov=cov * u.uvolt ** 2)
    n = 40_000
    y = np.asarray(model(np.zeros((2, n // 2, R)), key=jax.random.PRNGKey(3)).mantissa)
    samples = y.reshape(-1, M)
    emp = np.cov(samples.T)
    # standard error of a covariance entry ~ sqrt((S_ii S_jj + S_ij^2)/n)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / n)
    assert np.all(np.abs(emp - cov) < 5 * se)
    # independent across time steps and batch lanes: lag-1 and cross-lane correlations vanish
    lag = np.corrcoef(samples[:-1, 0], samples[1:, 0])[0, 1]
    lanes = np.corrcoef(y[0, :, 0], y[1, :, 0])[0, 1]
    assert abs(lag) < 5 / np.sqrt(n) and abs(lanes) < 5 / np.sqrt(n / 2)


def test_average_reference_sums_to_zero():
    model = EEGLeadFieldModel(R, M, _L() * u.volt / (u.nA * u.meter), reference="average",
                              noise_cov=np.eye(M) * 1e-2)
    y = np.asarray(model(np.random.default_rng(2).standard_normal((50, R)),
                         key=jax.random.PRNGKey(0)).mantissa)
    np.testing.assert_allclose(y.sum(axis=-1), 0.0, atol=1e-5 * np.abs(y).max())
    ref = np.asarray(EEGLeadFieldModel(R, M, _L() * u.volt / (u.nA * u.meter))(np.ones(R)).mantissa)
    y1 = np.asarray(EEGLeadFieldModel(R, M, _L() * u.volt / (u.nA * u.meter), reference="average")(np.ones(R)).mantissa)
    np.testing.assert_allclose(y1, ref - ref.mean(), rtol=1e-6)


def test_vmap_over_time_equals_batched_call():
    model = EEGLeadFieldModel(R, M, _L() * u.volt / (u.nA * u.meter),
                              dipole_scale=2.0 * u.nA * u.meter / u.mV)
    x = np.random.default_rng(1).standard_normal((30, R)) * u.mV
    a = jax.vmap(model)(x)
    b = model(x)
    np.testing.assert_allclose(a.to_decimal(u.volt), b.to_decimal(u.volt), rtol=1e-6)
    # with noise: per-lane keys under vmap reproduce the batched call lane by lane
    noisy = EEGLeadFieldModel(R, M, _L() * u.volt / (u.nA * u.meter), noise_cov=np.eye(M))
    keys = jax.random.split(jax.random.PRNGKey(0), 30)
    yv = np.asarray(jax.vmap(noisy)(np.zeros((30, R)), keys).mantissa)
    yk = np.stack([np.asarray(noisy(np.zeros(R), key=k).mantissa) for k in keys[:3]])
    np.testing.assert_allclose(yv[:3], yk, rtol=1e-6)
    assert np.linalg.matrix_rank(yv) == M                  # not one draw repeated
    with pytest.raises(ValueError, match="one key per lane"):
        jax.vmap(noisy)(np.zeros((30, R)))


# ----------------------------------------------------------------------------- TVB sensor frame
@pytest.mark.skipif(importlib.util.find_spec("tvb_data") is None, reason="needs tvb-data")
def test_tvb_eeg_sensors_registered_into_the_cortex_frame():
    """tvb-data's electrode file is offset from the cortex: the dipole topographies of the
    region centres fit TVB's own lead field much better after a translation, which is mostly
    downward in z and puts the electrodes on a head-sized sphere around the cortex."""
    from neuralmass.datasets import load_dataset
    from neuralmass.datasets.tvb import register_tvb_eeg_sensors
    lf = load_dataset("tvb76_eeg65")
    assert "not in the frame of the cortex" in lf.metadata["sensor_frame_note"]
    reg = register_tvb_eeg_sensors(lf)
    assert reg["corr_before"] < 0.6 and reg["corr_after"] > 0.8
    dx, dy, dz = reg["shift_mm"]
    assert dz < -40 and abs(dx) < 10 and abs(dy) < 10
    centres = lf.connectome.centres
    r = np.linalg.norm(np.asarray(reg["positions"].to_decimal(u.mm)) - centres.mean(0), axis=1)
    assert 75 < np.median(r) < 115                     # scalp radius of an adult head
    before = np.linalg.norm(np.asarray(lf.sensor_positions.to_decimal(u.mm)) - centres.mean(0), axis=1)
    assert np.median(before) > np.median(r) + 20


def test_dipole_potentials_closed_form_and_synthetic_columns():
    """phi = p.(s - q) / (4 pi sigma |s - q|^3) for a dipole at the origin, by hand; the synthetic
    columns are average-referenced (and unit RMS for synthetic_gain) and have the same pattern."""
    from neuralmass.forward.leadfield import (dipole_potentials, hemisphere_electrodes, synthetic_gain,
                                              synthetic_leadfield)

    s = np.array([[0.0, 0.0, 0.1], [0.1, 0.0, 0.0], [0.0, -0.05, 0.05]])
    p = np.array([[0.0, 0.0, 2e-8]])                       # 20 nA·m along z
    phi = dipole_potentials(s, np.zeros((1, 3)), p, conductivity=0.33)[0]
    by_hand = [2e-8 * 0.1 / (4 * np.pi * 0.33 * 0.1 ** 3), 0.0,
               2e-8 * 0.05 / (4 * np.pi * 0.33 * (0.05 * np.sqrt(2)) ** 3)]
    np.testing.assert_allclose(phi, by_hand, rtol=1e-12, atol=1e-20)
    el = hemisphere_electrodes(64, radius=0.09)
    np.testing.assert_allclose(np.linalg.norm(el, axis=1), 0.09, rtol=1e-12)
    assert np.all(el[:, 2] > 0)
    g, lf = synthetic_gain(64), synthetic_leadfield(64)
    np.testing.assert_allclose([g.mean(), lf.mean()], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.mean(g ** 2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(lf / np.sqrt(np.mean(lf ** 2)), g, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="conductivity"):
        dipole_potentials(s, np.zeros((1, 3)), p, conductivity=0.0)


def test_region_leadfield_from_vertices_by_hand():
    """Vertex gains collapsed per region: area-weighted mean, plain mean, TVB's plain sum."""
    from neuralmass.forward.leadfield import region_leadfield_from_vertices

    g = np.array([[1.0, 2.0, 3.0, 4.0],
                  [np.nan, np.nan, np.nan, np.nan],      # an unusable channel stays NaN
                  [-1.0, 5.0, 0.5, 2.0]])
    rm = np.array([0, 0, 1, 2])                          # region 3 has no vertex
    areas = np.array([1.0, 3.0, 2.0, 5.0])
    area = region_leadfield_from_vertices(g, rm, 4, areas)
    np.testing.assert_allclose(area[:, [0, 2]], [[(1 + 6) / 4, (-1 + 15) / 4], [3.0, 0.5], [4.0, 2.0],
                                                 [0.0, 0.0]], rtol=1e-15)
    assert np.isnan(area[:3, 1]).all()
    mean = region_leadfield_from_vertices(g, rm, 4, weighting="mean")
    np.testing.assert_allclose(mean[0, [0, 2]], [1.5, 2.0], rtol=1e-15)
    total = region_leadfield_from_vertices(g, rm, 4, weighting="sum")
    np.testing.assert_allclose(total[:, 0], [3.0, 3.0, 4.0, 0.0], rtol=1e-15)
    with pytest.raises(ValueError, match="region_mapping has 3 entries"):
        region_leadfield_from_vertices(g, rm[:3], 4, areas)
    with pytest.raises(ValueError, match=r"region_mapping values must lie in \[0, 2\)"):
        region_leadfield_from_vertices(g, rm, 2, areas)
    with pytest.raises(ValueError, match="needs the vertex areas"):
        region_leadfield_from_vertices(g, rm, 4)
