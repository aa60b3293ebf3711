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


# ---------------------------------------------------------------------------------------------
# objectives for dynamics: Wasserstein and smoothed KS distances of FCD distributions, combine
# ---------------------------------------------------------------------------------------------

def _switching(T=900, N=5, seed=3, flip=True):
    """Signals whose FC switches between two states half-way (a broad FCD distribution)."""
    sim, target = _signals(T=T, N=N, seed=seed)
    if flip:
        target = np.concatenate([target[:T // 2], target[T // 2:] @ np.diag([1, -1] * (N // 2) + [1] * (N % 2))])
    return sim, target


def test_wasserstein_distance_matches_scipy_and_exact_quantile_integral(x64):
    rng = np.random.default_rng(11)
    a = rng.normal(size=(3, 37))
    b = rng.normal(0.3, 1.2, size=53)
    got = np.asarray(O.wasserstein_distance(a, b))
    np.testing.assert_allclose(got, [scipy.stats.wasserstein_distance(x, b) for x in a], atol=1e-12)
    c = rng.normal(size=37)                                    # equal sizes: sorted pairing
    assert float(O.wasserstein_distance(a[0], c)) == pytest.approx(
        scipy.stats.wasserstein_distance(a[0], c), abs=1e-12)
    # W2, unequal sizes: repeating each sample to a common size leaves the distributions as they
    # are, and equal sizes pair sorted values
    x, y = rng.normal(size=30), rng.exponential(size=45)
    xr, yr = np.sort(np.repeat(x, 3)), np.sort(np.repeat(y, 2))
    w2 = np.sqrt(np.mean((xr - yr) ** 2))
    assert float(O.wasserstein_distance(x, y, p=2)) == pytest.approx(w2, abs=1e-12)
    assert float(O.wasserstein_distance(b, b)) == 0.0 and float(O.wasserstein_distance(b, b, 2)) == 0.0
    # identical samples are a stationary point (not sign(0) = 1 of |x|)
    for p in (1, 2):
        assert np.all(np.asarray(jax.grad(O.wasserstein_distance)(jnp.asarray(b), b, p)) == 0.0)
    # a closer distribution ranks lower
    assert float(O.wasserstein_distance(b + 0.1, b)) < float(O.wasserstein_distance(b + 0.3, b))


def test_fcd_wasserstein_against_scipy_subjects_pooled_and_window_in_time(x64):
    sim, target = _switching()
    window, step = 90, 30
    vs = _fcd_values_numpy(sim, window, step, 3)
    vt = _fcd_values_numpy(target, window, step, 3)
    f = O.fcd_wasserstein(window, step)
    assert float(f(sim, target)) == pytest.approx(scipy.stats.wasserstein_distance(vs, vt), abs=1e-12)
    assert float(f(sim, sim)) == pytest.approx(0.0, abs=1e-12)
    # precomputed targets: values, FCD matrix
    pre = O.fcd_wasserstein(window, step, target_is_fcd=True)
    assert float(pre(sim, vt)) == pytest.approx(float(f(sim, target)), abs=1e-12)
    assert float(pre(sim, A.fcd(target, window, step))) == pytest.approx(float(f(sim, target)), abs=1e-12)
    # several subjects, stacked or of different lengths, are pooled into one distribution
    short = target[:600]
    pooled = np.concatenate([vt, _fcd_values_numpy(short, window, step, 3)])
    ref = scipy.stats.wasserstein_distance(vs, pooled)
    assert float(f(sim, [target, short])) == pytest.approx(ref, abs=1e-12)
    two = np.concatenate([vt, vt])
    assert float(f(sim, np.stack([target, target]))) == pytest.approx(
        scipy.stats.wasserstein_distance(vs, two), abs=1e-12)
    # batch axes of sim; window and step as times with fs (the analysis.fcd convention)
    batch = np.asarray(f(np.stack([sim, target]), target))
    assert batch.shape == (2,) and batch[1] == pytest.approx(0.0, abs=1e-12)
    assert batch[0] == pytest.approx(float(f(sim, target)), abs=1e-12)
    ft = O.fcd_wasserstein(90 * u.second, 30 * u.second, fs=1.0)
    assert float(ft(sim, target)) == pytest.approx(float(f(sim, target)), abs=1e-12)
    # p=2 and the ranking: a target nearer in time structure is closer
    f2 = O.fcd_wasserstein(window, step, p=2)
    assert float(f2(sim, target)) >= float(f(sim, target))          # W2 >= W1
    near = sim + 0.3 * target
    assert float(f(near, sim)) < float(f(target, sim))


def _max_mass(x, deltas):
    """m(δ): largest fraction of the sample in a half-open interval of length δ."""
    x = np.sort(x)
    right = np.searchsorted(x, x, side="right")
    return np.array([np.max(right - np.searchsorted(x, x - d, side="right")) for d in deltas]) / len(x)


def test_smoothed_ks_converges_to_exact_within_the_derived_bound(x64):
    """0 <= KS - KS_h <= E[m_a(|T|) + m_b(|T|)] + Δ/2 max f_h, T ~ Logistic(0, h) (fcd_ks_smooth),
    and the error falls below 0.01 as h -> 0."""
    sim, target = _switching(T=900, N=6, seed=5)
    window, step = 60, 15
    a = _fcd_values_numpy(sim, window, step, 4)
    b = _fcd_values_numpy(target, window, step, 4)
    ks = scipy.stats.ks_2samp(a, b).statistic
    errs = []
    for h in [0.04, 0.005, 0.001]:
        got = float(O.ks_distance(a, b, smooth=h, grid=O.smooth_ks_grid(-1, 1, h)))
        err = ks - got
        # upper bound of E[m(|T|)]: m is non-decreasing; |T| has CDF 2σ(δ/h) - 1
        d = np.linspace(0, 40 * h, 201)
        G = 2 / (1 + np.exp(-d / h)) - 1
        m = _max_mass(a, d[1:]) + _max_mass(b, d[1:])
        smoothing = np.sum(m * np.diff(G)) + (1 - G[-1]) * 2
        fine = np.linspace(-1, 1, 4001)
        dens = lambda x: np.mean(np.exp(-np.abs(fine[:, None] - x[None]) / h)  # noqa: E731
                                 / (h * (1 + np.exp(-np.abs(fine[:, None] - x[None]) / h)) ** 2), axis=1)
        spacing = np.diff(O.smooth_ks_grid(-1, 1, h))[0]
        grid_term = spacing / 2 * max(dens(a).max(), dens(b).max()) * 1.2   # f_h on a grid: margin
        assert -1e-12 <= err <= smoothing + grid_term, (h, err, smoothing, grid_term)
        errs.append(err)
    assert errs[-1] < 0.01 and errs[-1] < errs[0]
    assert all(e2 <= e1 + 0.002 for e1, e2 in zip(errs, errs[1:])), errs   # decreasing with h
    # the objective is this distance of the FCD values; fcd_ks(smooth=h) is the same function
    f = O.fcd_ks_smooth(window, step, bandwidth=0.005)
    assert float(f(sim, target)) == pytest.approx(
        float(O.ks_distance(a, b, smooth=0.005, grid=O.smooth_ks_grid(-1, 1, 0.005))), abs=1e-12)
    assert O.fcd_ks(window, step, smooth=0.005)(sim, target) == f(sim, target)
    assert float(f(sim, sim)) == pytest.approx(0.0, abs=1e-12)
    assert float(f(sim + 0.3 * target, sim)) < float(f(target, sim))


@pytest.mark.parametrize("name", ["fcd_wasserstein", "fcd_wasserstein_p2", "fcd_ks_smooth"])
def test_fcd_distance_gradients_match_finite_differences(x64, name):
    sim, target = _switching(T=300, N=4, seed=6)
    f = {"fcd_wasserstein": O.fcd_wasserstein(40, 10),
         "fcd_wasserstein_p2": O.fcd_wasserstein(40, 10, p=2),
         "fcd_ks_smooth": O.fcd_ks_smooth(40, 10, bandwidth=0.05)}[name]
    _check_grad(f, sim, target)                  # finite, non-zero, equal to central differences


def test_combined_objective_is_weighted_sum_of_parts_and_of_their_gradients(x64):
    sim, target = _switching(T=300, N=4, seed=7)
    fs = 1.0 / 0.72
    terms = {"fc": (O.as_loss(O.fc_corr()), 1.0),
             "fcd": (O.fcd_wasserstein(40, 10), 2.0),
             "psd": (O.psd_distance(fs, fmax=0.25, nperseg=64), 0.3)}
    f = O.combine(**terms)
    total, parts = f(sim, target, return_parts=True)
    assert set(parts) == {"fc", "fcd", "psd"} and f.weights == {"fc": 1.0, "fcd": 2.0, "psd": 0.3}
    assert f.terms == {k: fn for k, (fn, _) in terms.items()} and f.higher_is_better is False
    want = sum(w * float(fn(sim, target)) for fn, w in terms.values())
    assert float(total) == pytest.approx(want, rel=1e-12)
    assert float(f(sim, target)) == pytest.approx(want, rel=1e-12)
    for k, (fn, _) in terms.items():
        assert float(parts[k]) == pytest.approx(float(fn(sim, target)), rel=1e-12)
    # one gradient, equal to the weighted sum of the parts' gradients; parts as aux for logging
    (v, aux), g = jax.value_and_grad(lambda s: f(s, target, return_parts=True), has_aux=True)(
        jnp.asarray(sim))
    gs = [w * np.asarray(jax.grad(fn)(jnp.asarray(sim), target)) for fn, w in terms.values()]
    np.testing.assert_allclose(np.asarray(g), sum(gs), rtol=1e-10, atol=1e-14)
    assert float(v) == pytest.approx(want, rel=1e-12) and set(aux) == set(parts)
    # one target per term: precomputed FC and FCD values give the same loss
    vt = _fcd_values_numpy(target, 40, 10, 4)
    g2 = O.combine(fc=(O.as_loss(O.fc_corr(target_is_fc=True)), 1.0),
                   fcd=(O.fcd_wasserstein(40, 10, target_is_fcd=True), 2.0),
                   psd=terms["psd"])
    t2 = {"fc": np.corrcoef(target.T), "fcd": vt, "psd": target}
    assert float(g2(sim, t2)) == pytest.approx(want, rel=1e-10)
    with pytest.raises(KeyError, match="psd"):
        g2(sim, {"fc": t2["fc"], "fcd": vt})
    # unnamed terms are named after their functions, made unique
    h = O.combine({O.fcd_wasserstein(40, 10): 1.0, O.fcd_wasserstein(40, 10, p=2): 1.0})
    assert set(h(sim, target, return_parts=True)[1]) == {"fcd_wasserstein", "fcd_wasserstein_2"}
