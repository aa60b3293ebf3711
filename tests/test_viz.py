"""Plots draw what they are given, leave global matplotlib state alone and fail clearly without it."""

import sys

import brainunit as u
import numpy as np
import pytest
import scipy.signal as sps

mpl = pytest.importorskip("matplotlib", reason="matplotlib is the optional 'viz' extra")
from matplotlib.figure import Figure  # noqa: E402

from neuralmass import viz  # noqa: E402


def _ax():
    return Figure().add_subplot()          # not registered with pyplot: headless, no global state


def _signal(T=400, N=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, N)) @ (np.eye(N) + 0.5 * rng.standard_normal((N, N))).T


def test_plot_connectivity_shows_the_matrix():
    W = np.random.default_rng(1).random((6, 6))
    ax = viz.plot_connectivity(W, labels=[f"R{i}" for i in range(6)], ax=_ax())
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), W)
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"R{i}" for i in range(6)]
    D = W * u.mm
    ax = viz.plot_connectivity(D, ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), W)


def test_plot_timeseries_lines_and_time_unit():
    x = _signal()
    ts = np.arange(x.shape[0]) * 0.1 * u.ms
    ax = viz.plot_timeseries(x[:, :3], ts=ts, labels=["a", "b", "c"], ax=_ax())
    assert len(ax.lines) == 3
    for j, line in enumerate(ax.lines):
        np.testing.assert_allclose(line.get_xdata(), np.arange(x.shape[0]) * 0.1)
        np.testing.assert_allclose(line.get_ydata(), x[:, j])
    assert "ms" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


def test_plot_functional_connectivity_matrix_or_signal():
    x = _signal(seed=2)
    ax = viz.plot_functional_connectivity(x, ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), np.corrcoef(x.T), atol=1e-5)
    fc = np.corrcoef(x.T)
    ax = viz.plot_functional_connectivity(fc, is_matrix=True, labels=list("abcd"), ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), fc)
    vmin, vmax = ax.images[0].get_clim()
    assert vmin == -vmax                              # diverging map centred on zero


def test_plot_power_spectrum_is_welch():
    x = _signal(T=1024, N=2, seed=3)
    ax = viz.plot_power_spectrum(x, fs=100.0, nperseg=128, ax=_ax())
    f, p = sps.welch(x, 100.0, nperseg=128, axis=0)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), f)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), p[:, 0], rtol=1e-4)
    assert ax.get_yscale() == "log"


def test_plot_fc_comparison_reports_correlation():
    a, b = _signal(seed=4), _signal(seed=5)
    fa, fb = np.corrcoef(a.T), np.corrcoef(b.T)
    iu = np.triu_indices(4, 1)
    r = np.corrcoef(fa[iu], fb[iu])[0, 1]
    ax = viz.plot_fc_comparison(fa, fb, is_matrix=True, ax=_ax())
    assert f"{r:.3f}" in ax.get_title()
    fig = Figure()
    axes = [fig.add_subplot(1, 3, k + 1) for k in range(3)]
    out = viz.plot_fc_comparison(a, b, ax=axes)
    assert len(out) == 3 and f"{r:.3f}" in out[2].get_title()
    np.testing.assert_allclose(np.asarray(out[0].images[0].get_array()), fa, atol=1e-5)


def test_plot_fcd_shows_fcd_matrix():
    x = _signal(T=600, seed=6)
    ax = viz.plot_fcd(x, window=100, step=50, ax=_ax())
    fcs = []
    for s in range(0, 600 - 100 + 1, 50):
        c = np.corrcoef(x[s:s + 100].T)
        fcs.append(c[np.triu_indices(4, 1)])
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), np.corrcoef(np.array(fcs)),
                               atol=1e-4)


def test_global_state_untouched(monkeypatch):
    import matplotlib.pyplot as plt
    before = dict(mpl.rcParams)
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() was called"))
    figs = plt.get_fignums()
    x = _signal(seed=7)
    viz.plot_timeseries(x, ax=_ax())
    viz.plot_functional_connectivity(x, ax=_ax())
    viz.plot_power_spectrum(x, fs=100.0, ax=_ax())
    viz.plot_fcd(x, window=100, step=50, ax=_ax())
    assert plt.get_fignums() == figs                  # given an Axes, no pyplot figure is made
    assert dict(mpl.rcParams) == before
    ax = viz.plot_connectivity(np.eye(3))             # no Axes: a new figure is created
    assert ax.figure.number in plt.get_fignums()
    plt.close(ax.figure)


def test_missing_matplotlib_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"neuralmass\[viz\]"):
        viz.plot_connectivity(np.eye(3))


def test_plot_functional_connectivity_detects_a_matrix():
    # a square FC used to be read as a signal (the FC of the FC) unless is_matrix=True
    x = _signal(seed=4)
    fc = np.corrcoef(x.T)
    ax = viz.plot_functional_connectivity(fc, ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), fc)
    # any square input counts as a matrix; is_matrix=False still forces the signal reading
    sq = _signal(T=4, N=4, seed=5)
    ax = viz.plot_functional_connectivity(sq, ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), sq)
    ax = viz.plot_functional_connectivity(sq, is_matrix=False, ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), np.corrcoef(sq.T), atol=1e-5)


def test_axes_say_what_and_in_which_unit():
    """Seen: region axes without labels, no y label on the neural figure, a spectrum without
    units (issue 25)."""
    W = np.random.default_rng(1).random((6, 6))
    ax = viz.plot_connectivity(W, ax=_ax())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("source region index j", "target region index i")
    ax = viz.plot_functional_connectivity(np.corrcoef(_signal().T), is_matrix=True, labels=list("abcd"),
                                          ax=_ax())
    assert ax.get_xlabel() == ax.get_ylabel() == "region"
    x = _signal()
    assert viz.plot_timeseries(x, ax=_ax(), ylabel="x").get_ylabel() == "x (dimensionless)"
    assert viz.plot_timeseries(x * u.mV, ax=_ax(), ylabel="V").get_ylabel() == "V (mV)"
    assert viz.plot_timeseries(x, ax=_ax()).get_ylabel() == "signal (dimensionless)"
    assert viz.plot_power_spectrum(x, fs=100.0, nperseg=64, ax=_ax()).get_ylabel() == "PSD (1/Hz)"
    ax = viz.plot_power_spectrum(x * u.mV, fs=100.0, nperseg=64, ax=_ax())
    assert ax.get_ylabel() == "PSD (mV²/Hz)"
    f = np.linspace(0, 50, 11)
    ax = viz.plot_power_spectrum(np.ones(11), freqs=f, unit="uV", ax=_ax())
    assert ax.get_ylabel() == "PSD (uV²/Hz)"
