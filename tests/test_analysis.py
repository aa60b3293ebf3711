"""Analysis tools against SciPy/NumPy and against the theory they implement."""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal as sps
import scipy.stats

from neuralmass import analysis as A


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def _noise(T, N, seed=0):
    return np.random.default_rng(seed).standard_normal((T, N))


def _narrowband(T, fs, band, rng, order=4):
    """Independent band-limited Gaussian noise (one column)."""
    b, a = sps.butter(order, [band[0] / (fs / 2), band[1] / (fs / 2)], "band")
    return sps.filtfilt(b, a, rng.standard_normal(T))


# ------------------------------------------------------------------ agreement with SciPy / NumPy

@pytest.mark.parametrize("method", ["sos", "ba"])
def test_bandpass_lowpass_match_scipy_filtfilt(x64, method):
    x = _noise(700, 3)
    fs = 100.0
    b, a = sps.butter(3, [8 / 50, 12 / 50], "band")
    ref = sps.filtfilt(b, a, x, axis=0)
    got = np.asarray(A.bandpass(x, 8, 12, fs, order=3, method=method))
    np.testing.assert_allclose(got, ref, atol=1e-9 * np.abs(ref).max())
    b, a = sps.butter(3, 4 / 50)
    ref = sps.filtfilt(b, a, x, axis=0)
    got = np.asarray(A.lowpass(x, 4.0, 100 * u.Hz, method=method))
    np.testing.assert_allclose(got, ref, atol=1e-9 * np.abs(ref).max())


def test_generic_filters_match_scipy(x64):
    x = _noise(400, 2, seed=1)
    b, a = sps.butter(4, 0.2, "high")
    np.testing.assert_allclose(np.asarray(A.filtfilt(b, a, x, axis=0)),
                               sps.filtfilt(b, a, x, axis=0), atol=1e-10)
    np.testing.assert_allclose(np.asarray(A.filtfilt(b, a, x, axis=0, padtype="even", padlen=20)),
                               sps.filtfilt(b, a, x, axis=0, padtype="even", padlen=20),
                               atol=1e-10)
    np.testing.assert_allclose(np.asarray(A.lfilter(b, a, x.T)), sps.lfilter(b, a, x.T),
                               atol=1e-10)
    sos = sps.butter(5, [0.1, 0.3], "band", output="sos")
    np.testing.assert_allclose(np.asarray(A.sosfiltfilt(sos, x, axis=0)),
                               sps.sosfiltfilt(sos, x, axis=0), atol=1e-10)


def test_float32_filtfilt_close_to_scipy():
    x = _noise(1000, 4, seed=2).astype(np.float32)
    b, a = sps.butter(3, [8 / 50, 12 / 50], "band")
    ref = sps.filtfilt(b, a, x.astype(float), axis=0)
    got = np.asarray(A.bandpass(x, 8, 12, 100.0))
    assert got.dtype == np.float32
    assert np.abs(got - ref).max() < 1e-5 * np.abs(x).max()


def test_batch_axis_equals_separate_calls(x64):
    x = np.stack([_noise(500, 3, seed=s) for s in range(2)])
    got = np.asarray(A.bandpass(x, 8, 12, 100.0))
    for k in range(2):
        np.testing.assert_allclose(got[k], np.asarray(A.bandpass(x[k], 8, 12, 100.0)), atol=1e-12)


@pytest.mark.parametrize("T", [512, 513])
def test_hilbert_matches_scipy(x64, T):
    x = _noise(T, 3, seed=3)
    np.testing.assert_allclose(np.asarray(A.hilbert(x)), sps.hilbert(x, axis=0), atol=1e-12)
    np.testing.assert_allclose(np.asarray(A.envelope(x)), np.abs(sps.hilbert(x, axis=0)),
                               atol=1e-12)


def test_envelope_of_am_sinusoid_is_modulation(x64):
    fs, T = 1000.0, 4000
    t = np.arange(T) / fs
    mod = 1 + 0.5 * np.cos(2 * np.pi * 2 * t)          # 2 Hz AM of a 50 Hz carrier (periodic)
    env = np.asarray(A.envelope(mod * np.cos(2 * np.pi * 50 * t)))
    np.testing.assert_allclose(env, mod, atol=1e-9)


@pytest.mark.parametrize("nperseg,kw", [(None, {}), (128, {"noverlap": 100}),
                                        (200, {"nfft": 301, "detrend": "linear"}),
                                        (100, {"average": "median"})])
def test_welch_matches_scipy(x64, nperseg, kw):
    x = _noise(1500, 3, seed=4)
    f, p = A.welch(x, 250.0, nperseg=nperseg, **kw)
    fr, pr = sps.welch(x, 250.0, nperseg=nperseg, axis=0, **kw)
    np.testing.assert_allclose(f, fr)
    np.testing.assert_allclose(np.asarray(p), pr, rtol=1e-10)


def test_peak_frequency_of_alpha_oscillation(x64):
    fs = 200.0
    t = np.arange(4000) / fs
    rng = np.random.default_rng(5)
    x = np.stack([np.sin(2 * np.pi * 10.0 * t), np.sin(2 * np.pi * 23.0 * t)], 1)
    x = x + 0.3 * rng.standard_normal(x.shape)
    pk = np.asarray(A.peak_frequency(x, fs, nperseg=400))      # resolution 0.5 Hz
    np.testing.assert_allclose(pk, [10.0, 23.0], atol=0.5)
    assert float(A.peak_frequency(x, fs, fmin=15, nperseg=400)[0]) > 15


def test_functional_connectivity_matches_corrcoef(x64):
    x = _noise(300, 6, seed=6) @ np.random.default_rng(7).standard_normal((6, 6))
    np.testing.assert_allclose(np.asarray(A.functional_connectivity(x)), np.corrcoef(x.T),
                               atol=1e-12)
    fc0 = np.asarray(A.functional_connectivity(x, zero_diagonal=True))
    assert np.all(np.diag(fc0) == 0)


@pytest.mark.parametrize("num", [150, 151, 777])
def test_resample_matches_scipy(x64, num):
    x = _noise(600, 2, seed=8)
    np.testing.assert_allclose(np.asarray(A.resample(x, 600.0, None, num=num)),
                               sps.resample(x, num, axis=0), atol=1e-12)


def test_resample_rate_rule_and_time_axis(x64):
    x = _noise(10000, 2, seed=9)
    y, t = A.resample(x, 10_000 * u.Hz, 100 * u.Hz, return_time=True)
    assert y.shape == (100, 2)
    np.testing.assert_allclose(np.diff(t), 0.01)
    np.testing.assert_allclose(np.asarray(y), sps.resample(x, 100, axis=0), atol=1e-12)


def test_zscore_matches_scipy(x64):
    x = _noise(200, 3, seed=10) * 5 + 2
    np.testing.assert_allclose(np.asarray(A.zscore(x)), scipy.stats.zscore(x, axis=0), atol=1e-12)


# ------------------------------------------------------------------ orthogonalized envelopes

def _seed_orth_fc(x, band, fs, low_pass, order=3):
    """The per-region loop of the resting-state MEG example, in SciPy."""
    n = x.shape[1]
    x = (x - x.mean(0)) / x.std(0)
    b, a = sps.butter(order, [band[0] / (fs / 2), band[1] / (fs / 2)], "band")
    c = sps.hilbert(sps.filtfilt(b, a, x, axis=0), axis=0)
    env = np.abs(c)
    cde = c.conj() / env
    bl, al = sps.butter(order, low_pass / (fs / 2))
    lpe = sps.filtfilt(bl, al, env, axis=0)
    fc = np.zeros((n, n))
    for i in range(n):
        o = sps.filtfilt(bl, al, np.abs((c[:, i][:, None] * cde).imag), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            fc[i] = np.diag(np.corrcoef(o.T, lpe.T), k=n)
    fc = (fc + fc.T) / 2
    np.fill_diagonal(fc, 0)
    return fc


def test_orthogonalized_fc_matches_seed_loop(x64):
    x = _noise(1500, 5, seed=11) @ np.random.default_rng(12).standard_normal((5, 5))
    ref = _seed_orth_fc(x, (8, 12), 100.0, 2.0)
    got = np.asarray(A.orthogonalized_fc(x, 100.0, (8, 12), low_pass=2.0, block_size=2))
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_orthogonalization_removes_zero_lag_leakage(x64):
    fs, T = 100.0, 12000
    rng = np.random.default_rng(13)
    s = _narrowband(T, fs, (8, 12), rng)
    s /= s.std()
    noise = np.stack([_narrowband(T, fs, (8, 12), rng) for _ in range(2)], 1)
    noise /= noise.std(0)
    x = np.stack([s, 0.7 * s], 1) + 0.1 * noise          # two instantaneous mixtures of one source
    plain = np.asarray(A.envelope_fc(x, fs, band=(8, 12), low_pass=2.0))[0, 1]
    orth = np.asarray(A.orthogonalized_fc(x, fs, band=(8, 12), low_pass=2.0))[0, 1]
    assert plain > 0.95
    assert abs(orth) < 0.15


def test_orthogonalization_keeps_true_envelope_coupling(x64):
    fs, T = 100.0, 12000
    rng = np.random.default_rng(14)
    t = np.arange(T) / fs
    slow = 1.0 + 0.8 * np.sin(2 * np.pi * 0.1 * t + 0.3)            # shared 0.1 Hz modulation
    carriers = np.stack([_narrowband(T, fs, (8, 12), rng) for _ in range(2)], 1)
    carriers /= carriers.std(0)
    x = slow[:, None] * carriers                                    # independent phases
    third = _narrowband(T, fs, (8, 12), rng)[:, None]               # uncoupled region
    x = np.concatenate([x, third / third.std()], 1)
    orth = np.asarray(A.orthogonalized_fc(x, fs, band=(8, 12), low_pass=0.5))
    plain = np.asarray(A.envelope_fc(x, fs, band=(8, 12), low_pass=0.5))
    assert orth[0, 1] > 0.6                                          # coupling survives
    assert orth[0, 1] > 0.75 * plain[0, 1]
    assert abs(orth[0, 2]) < 0.3 and abs(orth[1, 2]) < 0.3


def test_orthogonalized_fc_gradient_is_finite(x64):
    x = jnp.asarray(_noise(400, 3, seed=15))
    g = jax.grad(lambda y: jnp.sum(A.orthogonalized_fc(y, 100.0, (8, 12), low_pass=3.0) ** 2))(x)
    assert np.all(np.isfinite(np.asarray(g))) and float(jnp.abs(g).max()) > 0


# ------------------------------------------------------------------ FCD

def _mixture(T, W, rng):
    return rng.standard_normal((T, W.shape[0])) @ W.T


def _fcd_numpy(x, window, step):
    fcs = []
    for s in range(0, x.shape[0] - window + 1, step):
        c = np.corrcoef(x[s:s + window].T)
        fcs.append(c[np.triu_indices(c.shape[0], 1)])
    return np.corrcoef(np.array(fcs))


def test_fcd_matches_numpy(x64):
    x = _mixture(1000, np.random.default_rng(16).standard_normal((5, 5)), np.random.default_rng(17))
    np.testing.assert_allclose(np.asarray(A.fcd(x, 100, 50)), _fcd_numpy(x, 100, 50), atol=1e-10)


def test_fcd_stationary_vs_switching(x64):
    rng = np.random.default_rng(18)
    N, T_state, n_states, window, step = 8, 1200, 6, 200, 100
    # two connectivity states: region blocks {0..3},{4..7} vs the interleaved {even},{odd}
    def block_mixing(groups):
        W = 0.35 * np.eye(N)
        for g in groups:
            for i in g:
                W[i, g[0]] += 1.0
        return W
    WA = block_mixing([[0, 1, 2, 3], [4, 5, 6, 7]])
    WB = block_mixing([[0, 2, 4, 6], [1, 3, 5, 7]])
    stationary = _mixture(T_state * n_states, WA, rng)
    switching = np.concatenate([_mixture(T_state, WA if k % 2 == 0 else WB, rng)
                                for k in range(n_states)])
    off = int(np.ceil(window / step))
    v_stat = np.asarray(A.fcd_values(A.fcd(stationary, window, step), off))
    F = np.asarray(A.fcd(switching, window, step))
    v_switch = np.asarray(A.fcd_values(F, off))
    # stationary: uniformly high similarity
    assert np.percentile(v_stat, 5) > 0.6
    # switching: windows fully inside a state; same-state pairs high, different-state pairs low
    starts = np.arange(0, switching.shape[0] - window + 1, step)
    state = starts // T_state
    inside = (starts + window) <= (state + 1) * T_state
    idx = np.nonzero(inside)[0]
    same = (state[idx][:, None] % 2) == (state[idx][None, :] % 2)
    sub = F[np.ix_(idx, idx)]
    offd = ~np.eye(len(idx), dtype=bool)
    assert sub[same & offd].mean() > 0.6
    assert sub[~same].mean() < 0.2
    # so the switching FCD distribution is broad / bimodal and far from the stationary one
    assert np.mean(v_switch < 0.3) > 0.3
    assert scipy.stats.ks_2samp(v_stat, v_switch).statistic > 0.4


# ------------------------------------------------------------------ synchrony

def test_kuramoto_order_parameter_limits(x64):
    fs = 200.0
    t = np.arange(4000) / fs
    N = 6
    locked = np.cos(2 * np.pi * 10 * t[:, None] + 0.0 * np.arange(N))
    splay = np.cos(2 * np.pi * 10 * t[:, None] + 2 * np.pi * np.arange(N) / N)
    core = slice(200, -200)                                   # away from the FFT edges
    R_locked = np.asarray(A.kuramoto_order(locked))[core]
    R_splay = np.asarray(A.kuramoto_order(splay))[core]
    np.testing.assert_allclose(R_locked, 1.0, atol=1e-6)
    np.testing.assert_allclose(R_splay, 0.0, atol=1e-6)
    # phases given directly; R alternates between 1 and 0 -> std = 0.5
    ph = np.where((np.arange(1000) // 100 % 2 == 0)[:, None], 0.0, 2 * np.pi * np.arange(N) / N)
    np.testing.assert_allclose(float(A.metastability(ph, is_phase=True)), 0.5, atol=1e-9)


# ------------------------------------------------------------------ units, labels, errors

def test_units_and_labels_roundtrip(x64):
    xr = pytest.importorskip("xarray", reason="xarray is an optional dependency")
    x = _noise(500, 3, seed=19)
    q = A.bandpass(x * u.mV, 8, 12, 100 * u.Hz)
    assert u.get_unit(q) == u.mV
    np.testing.assert_allclose(np.asarray(q.to_decimal(u.mV)), np.asarray(A.bandpass(x, 8, 12, 100)))
    da = xr.DataArray(x.T, dims=("regions", "time"),
                      coords={"regions": ["a", "b", "c"], "time": np.arange(500) / 100})
    y = A.bandpass(da, 8, 12, 100.0)
    assert y.dims == ("regions", "time") or y.dims == ("time", "regions")
    np.testing.assert_allclose(y.transpose("time", "regions").values,
                               np.asarray(A.bandpass(x, 8, 12, 100.0)))
    fc = A.functional_connectivity(da)
    assert list(fc.coords["regions_i"].values) == ["a", "b", "c"]
    np.testing.assert_allclose(fc.values, np.corrcoef(x.T), atol=1e-12)
    r = A.resample(da, 100.0, 50.0)
    np.testing.assert_allclose(np.diff(r.time.values), 0.02)


def test_bad_inputs_raise_clear_errors():
    x = _noise(20, 2)
    with pytest.raises(ValueError, match="padlen"):
        A.bandpass(x, 8, 12, 100.0)
    with pytest.raises(ValueError, match="sampling rate"):
        A.lowpass(_noise(200, 2), 4, 10 * u.ms)
    with pytest.raises(ValueError, match="Nyquist"):
        A.lowpass(_noise(200, 2), 60, 100.0)
    with pytest.raises(ValueError, match="window"):
        A.fcd(x, 50, 10)


def test_functional_connectivity_propagates_nan_like_numpy():
    # one NaN sample used to turn the region's row (diagonal included) into 0
    x = _noise(300, 5, seed=11)
    x[17, 2] = np.nan
    fc = np.asarray(A.functional_connectivity(x))
    ref = np.corrcoef(x.T)
    assert np.all(np.isnan(fc[2])) and np.all(np.isnan(fc[:, 2]))
    keep = [0, 1, 3, 4]
    np.testing.assert_allclose(fc[np.ix_(keep, keep)], ref[np.ix_(keep, keep)], atol=1e-5)
    # a constant region still correlates 0 (finite gradients), as documented
    x = _noise(300, 3, seed=12)
    x[:, 1] = 4.0
    fc = np.asarray(A.functional_connectivity(x))
    assert np.all(fc[1] == 0) and np.all(np.isfinite(fc))


def test_functional_connectivity_refuses_a_regions_by_time_array():
    x = _noise(40, 100, seed=13)          # 40 regions x 100 samples would give a 100 x 100 "FC"
    with pytest.raises(ValueError, match=r"40 samples .* of 100 regions.*Pass x\.T.*"
                                         r"allow_few_samples=True"):
        A.functional_connectivity(x)
    assert A.functional_connectivity(x.T).shape == (40, 40)
    assert A.functional_connectivity(x, allow_few_samples=True).shape == (100, 100)
