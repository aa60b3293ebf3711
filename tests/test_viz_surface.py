"""Surface figures (viz.plot_surface): the values drawn are the vertex values given, read back from
the figure's artists, with matplotlib (default) and nilearn (optional, the ``brain`` extra)."""

import importlib.util
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from _surfaces import icosphere  # noqa: E402
from neuralmass import viz  # noqa: E402
from neuralmass.surface import Surface  # noqa: E402

HAS_NILEARN = importlib.util.find_spec("nilearn") is not None


@pytest.fixture(scope="module")
def mesh():
    v, t = icosphere(2, 50.0)                                   # 162 vertices, 320 triangles
    vals = np.sin(v[:, 0] / 20.0) * np.cos(v[:, 2] / 30.0) + 0.3 * v[:, 1] / 50.0
    mask = v[:, 0] > -10.0                                      # part of the mesh: vertices are renumbered
    return Surface(v, t), vals, mask


def _face_means(surface, vals, mask):
    tris = surface.triangles[mask[surface.triangles].all(axis=1)]
    return vals[tris].mean(axis=1)


def _values_from_colours(colours, cmap, vmin, vmax):
    """Invert a colour map: the value whose colour is nearest (resolution (vmax - vmin) / 255)."""
    lut = cmap(np.linspace(0.0, 1.0, cmap.N))
    idx = np.argmin(((np.asarray(colours)[:, None, :3] - lut[None, :, :3]) ** 2).sum(-1), axis=1)
    return vmin + (vmax - vmin) * idx / (cmap.N - 1)


def test_matplotlib_backend_draws_the_face_means(mesh):
    import matplotlib.pyplot as plt

    surf, vals, mask = mesh
    poly = viz.plot_surface(surf, vals, mask=mask)
    want = _face_means(surf, vals, mask)
    assert 0 < want.size < surf.n_triangles
    np.testing.assert_allclose(np.asarray(poly.get_array()), want, rtol=1e-12)
    lim = np.abs(vals).max()
    assert poly.get_clim() == pytest.approx((-lim, lim))
    plt.close("all")


@pytest.mark.skipif(not HAS_NILEARN, reason="nilearn is not installed (pip install 'neuralmass[brain]')")
def test_nilearn_backend_draws_the_vertex_values(mesh):
    """nilearn colours each triangle by the mean of its vertices' values through the colour map;
    inverting the map recovers them, triangle by triangle, to the map's resolution."""
    import matplotlib.pyplot as plt

    surf, vals, mask = mesh
    poly = viz.plot_surface(surf, vals, mask=mask, backend="nilearn", vmin=-1.5, vmax=1.5, cmap="RdBu_r")
    # matplotlib keeps the colours in the order the triangles were given in _facecolor3d
    # (get_facecolor() is sorted by depth once the axes have been projected)
    colours = poly._facecolor3d
    got = _values_from_colours(colours, plt.get_cmap("RdBu_r"), -1.5, 1.5)
    want = _face_means(surf, vals, mask)
    assert len(colours) == want.size and np.ptp(want) > 1.0
    np.testing.assert_allclose(got, want, atol=1.5 * 3.0 / 255)
    plt.close("all")


def test_nilearn_backend_without_nilearn_falls_back_to_matplotlib(mesh, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setitem(sys.modules, "nilearn", None)          # import nilearn -> ImportError
    surf, vals, mask = mesh
    with pytest.warns(UserWarning, match=r"needs nilearn.*neuralmass\[brain\].*drawing with matplotlib"):
        poly = viz.plot_surface(surf, vals, mask=mask, backend="nilearn")
    np.testing.assert_allclose(np.asarray(poly.get_array()), _face_means(surf, vals, mask), rtol=1e-12)
    with pytest.raises(ValueError, match=r"backend='plotly' is not known"):
        viz.plot_surface(surf, vals, backend="plotly")
    plt.close("all")
