"""Glass-brain views of a connectome (nilearn, optional)."""

import numpy as np
import pytest

pytest.importorskip("nilearn")
pytest.importorskip("matplotlib")

from neuralmass.network.connectome import Connectome  # noqa: E402
from neuralmass.viz import TVB_TO_MNI, plot_glass_brain, plot_region_map  # noqa: E402


def _conn():
    centres = np.array([[-40.0, -20, 50], [40, -20, 50], [-30, 40, 10], [30, 40, 10]])
    w = np.array([[0, 5, 1, 0], [5, 0, 0, 1], [1, 0, 0, 4], [0, 1, 4, 0.0]])
    return Connectome(weights=w, centres=centres, labels=["lM1", "rM1", "lPFC", "rPFC"])


def test_glass_brain_draws_the_strong_edges_at_the_centres():
    import matplotlib.pyplot as plt
    c = _conn()
    disp = plot_glass_brain(c, edge_threshold=3.0, display_mode="z")
    ax = disp.axes["z"].ax
    # the axial view shows x (right) and y (anterior) of each node; edges above 3: two lines
    xy = np.vstack([coll.get_offsets() for coll in ax.collections if len(coll.get_offsets())])
    for x, y, _ in c.centres:
        assert np.min(np.hypot(xy[:, 0] - x, xy[:, 1] - y)) < 1e-6
    segs = [ln for ln in ax.lines if len(ln.get_xdata()) == 2]
    assert len(segs) == 2
    plt.close("all")


def test_region_map_and_the_tvb_rotation():
    import matplotlib.pyplot as plt
    c = _conn()
    tvb = Connectome(weights=c.weights, centres=c.centres @ np.asarray(TVB_TO_MNI), labels=c.labels)
    disp = plot_region_map([1.0, 2.0, 3.0, 4.0], tvb, rotation=TVB_TO_MNI, display_mode="z")
    xy = np.vstack([coll.get_offsets() for coll in disp.axes["z"].ax.collections
                    if len(coll.get_offsets())])
    for x, y, _ in c.centres:                          # rotated back to MNI axes
        assert np.min(np.hypot(xy[:, 0] - x, xy[:, 1] - y)) < 1e-6
    with pytest.raises(ValueError, match="one entry per region"):
        plot_region_map([1.0, 2.0], c)
    with pytest.raises(ValueError, match="no region centres"):
        plot_glass_brain(Connectome(weights=np.ones((2, 2))))
    plt.close("all")
