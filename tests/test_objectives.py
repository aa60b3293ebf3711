"""Objectives: values against NumPy/SciPy, composition rules, and gradients vs finite differences."""

import functools

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal as sps
import scipy.stats

from neuralmass import analysis as A
from neuralmass import objectives as O


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def _signals(T=240, N=4, seed=0):
    rng = np.random.default_rng(seed)
    mix = np.eye(N) + 0.6 * rng.standard_normal((N, N))
    sim = rng.standard_normal((T, N)) @ mix.T
    target = rng.standard_normal((T, N)) @ (mix + 0.4 * rng.standard_normal((N, N))).T
    return sim, target


def _triu(m):
    return m[np.triu_indices(m.shape[0], 1)]


def test_fc_corr_matches_numpy_and_accepts_precomputed_fc(x64):
    sim, target = _signals()
    ref = np.corrcoef(_triu(np.corrcoef(sim.T)), _triu(np.corrcoef(target.T)))[0, 1]
    assert float(O.fc_corr()(sim, target)) == pytest.approx(ref, abs=1e-12)
    assert float(O.fc_corr(target_is_fc=True)(sim, np.corrcoef(target.T))) == pytest.approx(ref, abs=1e-12)
    assert float(O.fc_corr()(sim, sim)) == pytest.approx(1.0, abs=1e-12)
    # units are stripped, seed-style call on quantities works
    assert float(O.fc_corr()(sim * u.mV, target * u.mV)) == pytest.approx(ref, abs=1e-12)
    with pytest.raises(ValueError, match="target_is_fc"):
        O.fc_corr(target_is_fc=True)(sim, target)


def test_fc_rmse_matches_numpy(x64):
    sim, target = _signals(seed=1)
    d = _triu(np.corrcoef(sim.T)) - _triu(np.corrcoef(target.T))
    assert float(O.fc_rmse()(sim, target)) == pytest.approx(np.sqrt(np.mean(d ** 2)), abs=1e-12)
    assert float(O.fc_rmse()(sim, sim)) == 0.0


def test_batched_sim_with_vmap_and_jit(x64):
    sim, target = _signals(seed=2)
    batch = np.stack([sim, target, sim[::-1]])
    f = O.fc_corr()
    direct = np.asarray(f(batch, target))
    mapped = np.asarray(jax.vmap(f, in_axes=(0, None))(batch, target))
    jitted = np.asarray(jax.jit(f)(batch, target))
    np.testing.assert_allclose(direct, mapped, atol=1e-12)
    np.testing.assert_allclose(direct, jitted, atol=1e-12)
    assert direct[1] == pytest.approx(1.0)


def _fcd_values_numpy(x, window, step, offset):
    fcs = [_triu(np.corrcoef(x[s:s + window].T)) for s in range(0, len(x) - window + 1, step)]
    F = np.corrcoef(np.array(fcs))
    return F[np.triu_indices(F.shape[0], offset)]


def test_fcd_ks_exact_matches_scipy_ks_2samp(x64):
    sim, target = _signals(T=900, N=5, seed=3)
    target = np.concatenate([target[:450], target[450:] @ np.diag([1, -1, 1, -1, 1])])
    window, step = 90, 30
    ref = scipy.stats.ks_2samp(_fcd_values_numpy(sim, window, step, 3),
                               _fcd_values_numpy(target, window, step, 3)).statistic
    exact = float(O.fcd_ks(window, step, smooth=False)(sim, target))
    assert exact == pytest.approx(ref, abs=1e-12)
    smooth = float(O.fcd_ks(window, step, smooth=0.01)(sim, target))
    assert abs(smooth - exact) < 0.06
    pre = O.fcd_ks(window, step, smooth=False, target_is_fcd=True)
    assert float(pre(sim, A.fcd(target, window, step))) == pytest.approx(ref, abs=1e-12)


def test_exact_ks_distance_with_ties_and_batches_matches_scipy():
    """Tied values (rounded data), unequal sizes and a batch axis: every value is scipy's."""
    rng = np.random.default_rng(8)
    a = np.round(rng.normal(size=(3, 700)), 1).astype(np.float32)
    b = np.round(rng.normal(0.2, 1.1, size=1100), 1).astype(np.float32)
    got = np.asarray(O.ks_distance(a, b))
    want = [scipy.stats.ks_2samp(x, b).statistic for x in a]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert float(O.ks_distance(b, b)) == 0.0
    # the exact statistic is piecewise constant: its gradient exists and is zero
    g = jax.grad(lambda x: O.ks_distance(x, b))(a[0])
    assert np.all(np.asarray(g) == 0.0)


def test_psd_distance_matches_scipy_welch(x64):
    sim, target = _signals(T=1024, N=3, seed=4)
    fs = 200.0
    f = O.psd_distance(fs, fmin=2.0, fmax=60.0, nperseg=128)
    fr, ps = sps.welch(sim, fs, nperseg=128, axis=0)
    _, pt = sps.welch(target, fs, nperseg=128, axis=0)
    sel = (fr >= 2) & (fr <= 60)
    ls = np.log10(ps[sel] / ps[sel].sum(0))
    lt = np.log10(pt[sel] / pt[sel].sum(0))
    assert float(f(sim, target)) == pytest.approx(np.sqrt(np.mean((ls - lt) ** 2)), rel=1e-10)
    assert float(f(sim, sim)) == pytest.approx(0.0, abs=1e-12)
    g = O.psd_distance(fs, fmin=2.0, fmax=60.0, nperseg=128, target_is_psd=True)
    assert float(g(sim, pt)) == pytest.approx(float(f(sim, target)), rel=1e-10)


def test_combine_and_as_loss(x64):
    sim, target = _signals(seed=5)
    r = float(O.fc_corr()(sim, target))
    rmse = float(O.fc_rmse()(sim, target))
    loss = O.as_loss(O.fc_corr())
    assert loss.higher_is_better is False and O.fc_corr().higher_is_better is True
    assert float(loss(sim, target)) == pytest.approx(1 - r)
    both = O.combine({loss: 2.0, O.fc_rmse(): 0.5})
    assert float(both(sim, target)) == pytest.approx(2 * (1 - r) + 0.5 * rmse)
    pairs = O.combine((loss, 2.0), (O.fc_rmse(), 0.5))
    assert float(pairs(sim, target)) == pytest.approx(float(both(sim, target)))
    with pytest.raises(ValueError, match="as_loss"):
        O.combine({O.fc_corr(): 1.0, O.fc_rmse(): 1.0})


def _check_grad(f, sim, target, seed=0, eps=1e-6, rtol=1e-4):
    jf = jax.jit(f)
    g = np.asarray(jax.jit(jax.grad(f))(jnp.asarray(sim), target))
    assert np.all(np.isfinite(g))
    v = np.random.default_rng(seed).standard_normal(sim.shape)
    fd = (float(jf(sim + eps * v, target)) - float(jf(sim - eps * v, target))) / (2 * eps)
    an = float(np.sum(g * v))
    assert abs(fd) > 1e-8, "degenerate test case: zero directional derivative"
    assert an == pytest.approx(fd, rel=rtol, abs=1e-8)


@pytest.mark.parametrize("name", ["fc_corr", "fc_rmse", "fcd_ks", "psd_distance", "combine",
                                  "fc_corr_orth"])
def test_gradient_matches_finite_differences(x64, name):
    sim, target = _signals(T=240, N=4, seed=6)
    if name == "fc_corr":
        f = O.fc_corr()
    elif name == "fc_rmse":
        f = O.fc_rmse()
    elif name == "fcd_ks":
        f = O.fcd_ks(window=40, step=20, smooth=0.1)
    elif name == "psd_distance":
        f = O.psd_distance(100.0, fmin=1.0, fmax=40.0, nperseg=64)
    elif name == "combine":
        f = O.combine({O.as_loss(O.fc_corr()): 1.0, O.psd_distance(100.0, nperseg=64): 0.3})
    else:
        fc = functools.partial(A.orthogonalized_fc, fs=100.0, band=(8, 20), low_pass=5.0)
        f = O.fc_corr(fc=fc)
    _check_grad(f, sim, target)
