"""Plots of connectomes, time series, spectra, FC, FCD and cortical surfaces (matplotlib, optional).

Every function draws into ``ax=`` (a new figure is made with :func:`matplotlib.pyplot.subplots`
when it is None) and returns the Axes. Nothing here calls ``plt.show()``, changes ``rcParams`` or
selects a backend, so the functions work headless (e.g. with the Agg backend) and inside larger
figures. Arrays may be brainunit quantities (magnitudes are plotted, the unit goes into the axis
label) or xarray DataArrays.

matplotlib is an optional dependency: ``pip install neuralmass[viz]``.
"""

from __future__ import annotations

from typing import Any, Sequence

from .units import magnitude

import numpy as np

__all__ = ["plot_connectivity", "plot_timeseries", "plot_functional_connectivity",
           "plot_power_spectrum", "plot_fc_comparison", "plot_fcd", "plot_glass_brain",
           "plot_region_map", "plot_surface", "plot_sensor_topography", "plot_surface_activity",
           "SURFACE_BACKENDS"]


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in tests
        raise ImportError("neuralmass.viz needs matplotlib, which is not installed. Install the "
                          "plotting extra with `pip install neuralmass[viz]` (or "
                          "`pip install matplotlib`).") from exc
    return plt


def _axes(ax, figsize=(6, 5)):
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize)
    else:
        _plt()
    return ax


def _split_unit(x):
    """(numpy magnitude, unit string or None) of an array, Quantity or DataArray."""
    import brainunit as u
    unit = None
    if type(x).__name__ == "DataArray":
        unit = x.attrs.get("units")
        if "time" in x.dims and "regions" in x.dims:
            x = x.transpose(..., "time", "regions")
        x = x.data
    if isinstance(x, u.Quantity):
        un = u.get_unit(x)
        unit = None if un.is_unitless else str(un)
        x = magnitude(x)
    return np.asarray(x), unit


def _labels_of(x, labels):
    if labels is None and type(x).__name__ == "DataArray":
        for dim in ("regions", "regions_i"):
            if dim in x.coords:
                return [str(v) for v in np.asarray(x.coords[dim].values)]
    return None if labels is None else [str(v) for v in labels]


def _region_ticks(ax, labels, n):
    if labels is None:
        return
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but the matrix has {n} regions.")
    step = max(1, n // 20)
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xticklabels([labels[i] for i in ticks], rotation=90, fontsize=8)
    ax.set_yticklabels([labels[i] for i in ticks], fontsize=8)


def _matrix(ax, m, labels, cmap, vmin, vmax, colorbar, cbar_label=None, directed=False):
    """A region x region heat map with labelled region axes (``directed``: rows are targets,
    columns sources, as in ``W[i, j]`` from region ``j`` to ``i``)."""
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.8)
        if cbar_label:
            cb.set_label(cbar_label)
    _region_ticks(ax, labels, m.shape[0])
    what = "region" if labels is not None else "region index"
    ax.set_xlabel(f"source {what} j" if directed else what)
    ax.set_ylabel(f"target {what} i" if directed else what)
    return im


def plot_connectivity(W, labels: Sequence[str] | None = None, ax=None, cmap: str = "viridis",
                      log: bool = False, colorbar: bool = True, vmin=None, vmax=None):
    """Heat map of a structural connectivity (or distance / delay) matrix.

    Parameters
    ----------
    W : array (N, N), Quantity or DataArray
    labels : sequence of str, optional
        Region names for the ticks (every ``N // 20``-th shown).
    ax : matplotlib Axes, optional
    cmap : str
    log : bool
        Show ``log10(W)`` for the positive entries (zeros are blank), useful for tract weights
        spanning orders of magnitude.
    colorbar : bool
    vmin, vmax : float, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    labels = _labels_of(W, labels)
    m, unit = _split_unit(W)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"W must be a square (N, N) matrix; got shape {m.shape}.")
    m = m.astype(float)
    if log:
        m = np.where(m > 0, np.log10(np.where(m > 0, m, 1.0)), np.nan)
    if unit is None:
        label = "log10 weight" if log else "weight"
    else:
        label = f"log10 ({unit})" if log else f"[{unit}]"
    _matrix(ax, m, labels, cmap, vmin, vmax, colorbar, label, directed=True)
    return ax


def plot_timeseries(x, ts=None, labels: Sequence[str] | None = None, ax=None, fs: Any = None,
                    offset: float = 0.0, ylabel: str | None = None, **plot_kwargs):
    """Line plot of region time series.

    Parameters
    ----------
    x : array (T,) or (T, N), Quantity or DataArray
    ts : array (T,) or Quantity, optional
        Sample times. A brainunit time is plotted in ms. Without ``ts``: seconds from ``fs``, the
        DataArray time coordinate, or the sample index.
    labels : sequence of str, optional
        One legend entry per region.
    ax : matplotlib Axes, optional
    fs : float or Quantity, optional
        Sampling rate in Hz (used when ``ts`` is None).
    offset : float
        Vertical shift between successive regions (0 overlays them).
    ylabel : str, optional
        What the signal is (e.g. ``'x'``, ``'BOLD change from rest'``); the axis shows it with the
        signal's unit, or "(dimensionless)" for a plain array. Default: the DataArray's name, else
        "signal".

    Returns
    -------
    matplotlib.axes.Axes
    """
    import brainunit as u
    ax = _axes(ax, figsize=(9, 4))
    labels = _labels_of(x, labels)
    if ts is None and type(x).__name__ == "DataArray" and "time" in x.coords:
        ts = np.asarray(x.coords["time"].values)
        xlabel = "time (s)"
    else:
        xlabel = None
    y, unit = _split_unit(x)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"x must be (time,) or (time, regions); got shape {y.shape}.")
    T = y.shape[0]
    if ts is None:
        if fs is not None:
            from .analysis._utils import sampling_rate
            t = np.arange(T) / sampling_rate(fs)
            xlabel = "time (s)"
        else:
            t = np.arange(T)
            xlabel = "sample"
    elif isinstance(ts, u.Quantity):
        t = np.asarray(magnitude(ts, u.ms, "ts"))
        xlabel = "time (ms)"
    else:
        t = np.asarray(ts)
        xlabel = xlabel or "time"
    if t.shape != (T,):
        raise ValueError(f"ts has shape {t.shape} but x has {T} samples.")
    if labels is not None and len(labels) != y.shape[1]:
        raise ValueError(f"labels has {len(labels)} entries but x has {y.shape[1]} regions.")
    for j in range(y.shape[1]):
        ax.plot(t, y[:, j] + j * offset,
                label=None if labels is None else labels[j], **plot_kwargs)
    ax.set_xlabel(xlabel)
    name = ylabel or (getattr(x, "name", None) if type(x).__name__ == "DataArray" else None) or "signal"
    ax.set_ylabel(f"{name} ({unit})" if unit is not None else
                  (name if "(" in name else f"{name} (dimensionless)"))
    if labels is not None:
        ax.legend(loc="upper right", fontsize=8)
    return ax


def _fc_matrix(x, is_matrix):
    if is_matrix is None:
        # a square input is a matrix already (its FC would be the FC of an FC); a (time, regions)
        # signal is never square in practice. is_matrix=False forces the signal reading.
        shape = np.shape(_split_unit(x)[0])
        is_matrix = (len(shape) == 2 and shape[0] == shape[1]
                     and "time" not in getattr(x, "dims", ()))
    if is_matrix:
        m, _ = _split_unit(x)
    else:
        from .analysis.fc import functional_connectivity
        m, _ = _split_unit(x)
        m = np.asarray(functional_connectivity(m))
    m = np.asarray(m, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"expected an (N, N) FC matrix (is_matrix=True) or a (time, regions) "
                         f"signal; got shape {m.shape}.")
    return m


def _sym_limit(m):
    off = m[~np.eye(m.shape[0], dtype=bool)]
    v = float(np.nanmax(np.abs(off))) if off.size else 1.0
    return v if v > 0 else 1.0


def plot_functional_connectivity(x, is_matrix: bool | None = None, labels: Sequence[str] | None = None,
                                 ax=None, cmap: str = "RdBu_r", vmax: float | None = None,
                                 colorbar: bool = True):
    """Heat map of a functional connectivity matrix.

    Parameters
    ----------
    x : array
        An (N, N) FC matrix, or a (time, regions) signal whose Pearson FC is computed.
    is_matrix : bool, optional
        ``None`` (default): a square input is taken as the matrix, anything else as a signal.
        ``True``/``False`` overrides (``False`` for a square signal with as many samples as
        regions).
    labels : sequence of str, optional
    ax : matplotlib Axes, optional
    cmap : str
        Diverging map centred on 0.
    vmax : float, optional
        Colour limit (symmetric); default the largest off-diagonal magnitude.
    colorbar : bool

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    labels = _labels_of(x, labels)
    m = _fc_matrix(x, is_matrix)
    v = _sym_limit(m) if vmax is None else float(vmax)
    _matrix(ax, m, labels, cmap, -v, v, colorbar, "correlation")
    return ax


def plot_power_spectrum(x, fs: Any = None, freqs=None, ax=None,
                        labels: Sequence[str] | None = None, fmin: float | None = None,
                        fmax: float | None = None, logy: bool = True, average: bool = False,
                        unit: str | None = None, **welch_kwargs):
    """Power spectral density per region (Welch) or of a given spectrum.

    Parameters
    ----------
    x : array
        A (time, regions) signal (PSD by :func:`neuralmass.analysis.welch`, needs ``fs``), or a
        PSD (F, regions) / (F,) when ``freqs`` is given.
    fs : float or Quantity, optional
    freqs : array (F,), optional
        Frequencies of a precomputed PSD ``x``.
    ax : matplotlib Axes, optional
    labels : sequence of str, optional
    fmin, fmax : float, optional
        Frequency range shown (Hz).
    logy : bool
        Logarithmic power axis.
    average : bool
        Plot the mean over regions only.
    unit : str, optional
        The signal's unit (e.g. ``'uV'``), for the power axis ``PSD (unit²/Hz)``; default the
        unit of a Quantity ``x`` (a signal), else dimensionless (``PSD (1/Hz)``).
    **welch_kwargs
        Passed to :func:`neuralmass.analysis.welch`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, figsize=(6, 4))
    labels = _labels_of(x, labels)
    if freqs is None:
        if fs is None:
            raise ValueError("plot_power_spectrum needs fs= (Hz) to compute a spectrum, or "
                             "freqs= with a precomputed PSD.")
        from .analysis.spectra import welch
        y, sig_unit = _split_unit(x)
        unit = unit or sig_unit
        f, p = welch(y, fs, **welch_kwargs)
        p = np.asarray(p)
    else:
        f = np.asarray(freqs)
        p, _ = _split_unit(x)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[0] != f.shape[0]:
        raise ValueError(f"the PSD has {p.shape[0]} frequency bins but freqs has {f.shape[0]}.")
    sel = np.ones(f.shape, bool)
    if fmin is not None:
        sel &= f >= fmin
    if fmax is not None:
        sel &= f <= fmax
    if average:
        ax.plot(f[sel], p[sel].mean(axis=1), label="mean")
    else:
        for j in range(p.shape[1]):
            ax.plot(f[sel], p[sel, j], label=None if labels is None else labels[j])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"PSD ({unit}²/Hz)" if unit else "PSD (1/Hz)")
    if labels is not None and not average:
        ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_fc_comparison(sim, empirical, is_matrix: bool = False,
                       labels: Sequence[str] | None = None, ax=None, cmap: str = "RdBu_r"):
    """Simulated vs empirical FC, with their correlation in the title.

    The correlation is that of :func:`neuralmass.objectives.fc_corr` (Pearson r of the upper
    triangles).

    Parameters
    ----------
    sim, empirical : array
        FC matrices (``is_matrix=True``) or (time, regions) signals.
    is_matrix : bool
    labels : sequence of str, optional
    ax : Axes or sequence of Axes, optional
        One Axes: scatter of the upper triangles. Two: the two matrices. Three: matrices and
        scatter. None: a new 1×3 figure.
    cmap : str

    Returns
    -------
    matplotlib.axes.Axes or numpy array of Axes (same layout as ``ax``)
    """
    plt = _plt()
    a = _fc_matrix(sim, is_matrix)
    b = _fc_matrix(empirical, is_matrix)
    if a.shape != b.shape:
        raise ValueError(f"simulated FC {a.shape} and empirical FC {b.shape} differ in size.")
    from .analysis.fc import upper_triangle
    from .analysis import pearson
    ua, ub = np.asarray(upper_triangle(a)), np.asarray(upper_triangle(b))
    r = float(pearson(ua, ub))
    if ax is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
    if len(axes) not in (1, 2, 3):
        raise ValueError(f"ax must be one, two or three Axes; got {len(axes)}.")
    title = f"FC correlation r = {r:.3f}"
    if len(axes) >= 2:
        v = max(_sym_limit(a), _sym_limit(b))
        _matrix(axes[0], a, labels, cmap, -v, v, True, "correlation")
        axes[0].set_title("simulated FC")
        _matrix(axes[1], b, labels, cmap, -v, v, True, "correlation")
        axes[1].set_title("empirical FC")
    if len(axes) in (1, 3):
        s = axes[-1]
        s.scatter(ub, ua, s=8, alpha=0.6)
        lo = float(min(ua.min(), ub.min()))
        hi = float(max(ua.max(), ub.max()))
        s.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--")
        s.set_xlabel("empirical FC")
        s.set_ylabel("simulated FC")
        s.set_title(title)
    else:
        axes[0].figure.suptitle(title)
    single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
    return axes[0] if single else axes


def plot_fcd(x, window: Any = None, step: Any = None, fs: Any = None, is_matrix: bool = False,
             ax=None, cmap: str = "viridis", colorbar: bool = True):
    """Heat map of a functional connectivity dynamics (FCD) matrix.

    Parameters
    ----------
    x : array
        An FCD matrix (W, W) with ``is_matrix=True``, otherwise a (time, regions) signal whose FCD
        is computed with :func:`neuralmass.analysis.fcd` (``window`` required).
    window, step, fs
        Sliding windows (samples, or brainunit times with ``fs``). With ``fs`` the axes show the
        window-centre time in seconds.
    is_matrix : bool
    ax : matplotlib Axes, optional
    cmap : str
    colorbar : bool

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    extent = None
    if is_matrix:
        m, _ = _split_unit(x)
    else:
        if window is None:
            raise ValueError("plot_fcd needs window= (samples or a time with fs=) to compute the "
                             "FCD of a signal, or is_matrix=True for an FCD matrix.")
        from .analysis._utils import sampling_rate, samples
        from .analysis.fcd import fcd
        y, _ = _split_unit(x)
        m = np.asarray(fcd(y, window, step, fs))
        if fs is not None:
            wn = samples(window, "window", fs)
            sn = max(1, wn // 2) if step is None else samples(step, "step", fs)
            f = sampling_rate(fs)
            t0 = (wn / 2) / f
            t1 = t0 + (m.shape[0] - 1) * sn / f
            h = 0.5 * sn / f                  # pixel edges half a step around window centres
            extent = (t0 - h, t1 + h, t1 + h, t0 - h)
    m = np.asarray(m, dtype=float)
    im = ax.imshow(m, cmap=cmap, vmin=-1 if m.min() < 0 else 0, vmax=1, extent=extent,
                   interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8).set_label("FC correlation")
    lab = "window centre (s)" if extent is not None else "window"
    ax.set_xlabel(lab)
    ax.set_ylabel(lab)
    return ax


# ----------------------------------------------------------------------------- brain views (nilearn)
#: Axes change from TVB's connectivity frame (x anterior, y left, z up) to MNI (x right,
#: y anterior, z up), for ``rotation=``.
TVB_TO_MNI = ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def _nilearn_plotting():
    try:
        from nilearn import plotting
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("brain views need nilearn: pip install 'neuralmass[brain]' "
                          "(or pip install nilearn).") from exc
    return plotting


def _centres_mni(conn, rotation):
    centres = getattr(conn, "centres", None)
    if centres is None:
        raise ValueError(f"{getattr(conn, 'name', 'the connectome')!r} has no region centres; "
                         f"brain views need centres (mm, MNI-like frame).")
    c = np.asarray(centres, dtype=float)
    if rotation is not None:
        c = c @ np.asarray(rotation, dtype=float).T
    return c


def plot_glass_brain(conn, weights=None, *, edge_threshold="95%", node_values=None,
                     rotation=None, title=None, axes=None, figure=None, display_mode="ortho",
                     **kwargs):
    """Glass-brain view of a connectome: nodes at the region centres, strongest edges as lines.

    Parameters
    ----------
    conn : Connectome
        With ``centres`` in mm in an MNI-like frame (x right, y anterior, z up).
    weights : (N, N) array, optional
        Edge weights to draw (default ``conn.weights``; e.g. an FC matrix).
    edge_threshold : str or float
        Edges below it are hidden (``'95%'``: only the strongest 5 %).
    node_values : (N,) array, optional
        Node colours (e.g. node strength, a fitted parameter).
    rotation : (3, 3) array, optional
        Applied to the centres first; :data:`TVB_TO_MNI` for TVB connectivities.
    **kwargs
        Passed to ``nilearn.plotting.plot_connectome``.

    Returns
    -------
    nilearn display object (``.frame_axes.figure`` is the matplotlib figure).
    """
    plotting = _nilearn_plotting()
    c = _centres_mni(conn, rotation)
    w = np.asarray(conn.weights if weights is None else weights, dtype=float)
    if w.shape != (c.shape[0], c.shape[0]):
        raise ValueError(f"weights has shape {w.shape}; expected ({c.shape[0]}, {c.shape[0]}).")
    node_color = "auto"
    if node_values is not None:
        plt = _plt()
        v = np.asarray(node_values, dtype=float)
        if v.shape != (c.shape[0],):
            raise ValueError(f"node_values needs {c.shape[0]} entries, got {v.shape}.")
        rng = np.ptp(v) or 1.0
        node_color = [plt.cm.viridis((x - v.min()) / rng) for x in v]
    return plotting.plot_connectome(0.5 * (w + w.T), c, edge_threshold=edge_threshold,
                                    node_color=node_color, title=title, axes=axes,
                                    figure=figure, display_mode=display_mode, **kwargs)


def plot_region_map(values, conn, *, rotation=None, cmap="viridis", title=None, axes=None,
                    figure=None, display_mode="ortho", node_size=60, **kwargs):
    """One value per region drawn as coloured markers at the region centres (glass brain).

    Parameters
    ----------
    values : (N,) array
        E.g. node strength, a fitted parameter, or the peak frequency per region.
    conn : Connectome
        With ``centres`` (see :func:`plot_glass_brain`).
    **kwargs
        Passed to ``nilearn.plotting.plot_markers``.
    """
    plotting = _nilearn_plotting()
    c = _centres_mni(conn, rotation)
    v = np.asarray(magnitude(values), dtype=float)
    if v.shape != (c.shape[0],):
        raise ValueError(f"values needs one entry per region ({c.shape[0]}), got {v.shape}.")
    return plotting.plot_markers(v, c, node_cmap=cmap, title=title, axes=axes, figure=figure,
                                 display_mode=display_mode, node_size=node_size, **kwargs)


# --------------------------------------------------------------------------- cortical surfaces
def _view(vertices, mask):
    """(azimuth, left-right axis, sign) looking at the lateral side of the ``mask`` hemisphere
    (``mask`` None: along +x, with x as the left-right axis)."""
    if mask is None:
        return 0.0, 0, 1.0
    gap = vertices[mask].mean(axis=0) - vertices[~mask].mean(axis=0)
    lr = int(np.argmax(np.abs(gap)))
    sign = 1.0 if gap[lr] >= 0 else -1.0
    return {0: 0.0, 1: 90.0}.get(lr, 0.0) + (180.0 if sign < 0 else 0.0), lr, sign


#: Drawing backends of :func:`plot_surface`.
SURFACE_BACKENDS = ("matplotlib", "nilearn")


def plot_surface(surface, values, ax=None, mask=None, vmin=None, vmax=None, cmap: str = "RdBu_r",
                 title: str | None = None, azim: float | None = None, backend: str = "matplotlib"):
    """Values at the vertices of a mesh, drawn as triangles coloured by their vertices' mean.

    Parameters
    ----------
    surface : neuralmass.surface.Surface
        Or any object with ``vertices`` (N, 3) and ``triangles`` (M, 3).
    values : (N,) array
    ax : 3D Axes, optional
        A ``projection='3d'`` Axes (a new figure when None).
    mask : (N,) bool array, optional
        Vertices to draw (e.g. the left hemisphere: :func:`neuralmass.studies.surface.hemisphere_mask`);
        the view then looks at its lateral side. Default: every vertex, seen along +x.
    vmin, vmax : float, optional
        Colour limits (default symmetric around 0 at the largest magnitude).
    azim : float, optional
        Azimuth of the view (degrees), instead of the one ``mask`` implies.
    backend : {'matplotlib', 'nilearn'}
        ``'matplotlib'`` (default) draws a :class:`~mpl_toolkits.mplot3d.art3d.Poly3DCollection`
        itself; ``'nilearn'`` draws with :func:`nilearn.plotting.plot_surf_stat_map` (its
        matplotlib engine, the same face means, colour limits and view; nilearn centres the mesh).
        Without nilearn (the ``brain`` extra) it warns and draws with matplotlib.

    Returns
    -------
    mpl_toolkits.mplot3d.art3d.Poly3DCollection
        The drawn triangles (for a colour bar; with nilearn their face colours hold the values).
    """
    plt = _plt()
    if backend not in SURFACE_BACKENDS:
        raise ValueError(f"backend={backend!r} is not known; use 'matplotlib' (default) or 'nilearn'.")
    if backend == "nilearn":
        try:
            from nilearn import plotting
        except ImportError:
            import warnings

            warnings.warn("plot_surface(backend='nilearn') needs nilearn, which is not installed "
                          "(pip install 'neuralmass[brain]' or pip install nilearn); drawing with matplotlib "
                          "instead.", stacklevel=2)
            backend = "matplotlib"
    if ax is None:
        ax = plt.figure(figsize=(5, 4)).add_subplot(projection="3d")
    v = np.asarray(surface.vertices, dtype=float)
    tris = np.asarray(surface.triangles)
    vals = np.asarray(magnitude(values), dtype=float)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        tris = tris[mask[tris].all(axis=1)]
    if vmin is None or vmax is None:
        lim = float(np.nanmax(np.abs(vals))) or 1.0
        vmin, vmax = (-lim if vmin is None else vmin), (lim if vmax is None else vmax)
    view = _view(v, mask)[0] if azim is None else azim
    if backend == "nilearn":
        used = np.unique(tris)                      # the drawn vertices only (nilearn centres them)
        index = np.full(v.shape[0], -1)
        index[used] = np.arange(used.size)
        plotting.plot_surf_stat_map((v[used], index[tris]), vals[used], axes=ax, figure=ax.figure,
                                    engine="matplotlib", view=(0.0, view), cmap=cmap, vmin=vmin, vmax=vmax,
                                    symmetric_cbar=False, colorbar=False, threshold=None, title=title)
        return ax.collections[-1]
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    poly = Poly3DCollection(v[tris], linewidths=0)
    poly.set_array(vals[tris].mean(axis=1))
    poly.set_clim(vmin, vmax)
    poly.set_cmap(cmap)
    ax.add_collection3d(poly)
    used = v[np.unique(tris)]
    lo, hi = used.min(axis=0), used.max(axis=0)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), zlim=(lo[2], hi[2]))
    ax.view_init(elev=0, azim=view)
    ax.set_box_aspect(np.maximum(hi - lo, 1e-9))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return poly


def plot_sensor_topography(positions, values, ax=None, axes=(0, 1), unit: str = "µV", title: str | None = None):
    """Sensor values at their positions, seen from above (a scatter of ``positions[:, axes]``).

    Parameters
    ----------
    positions : (S, 3) array
        Sensor positions (mm).
    values : (S,) array
    axes : (int, int)
        The coordinates plotted horizontally and vertically (x, y: from above in TVB's frame).

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    pos = np.asarray(positions, dtype=float)
    vals = np.asarray(magnitude(values), dtype=float)
    lim = float(np.nanmax(np.abs(vals))) or 1.0
    sc = ax.scatter(pos[:, axes[0]], pos[:, axes[1]], c=vals, cmap="RdBu_r", vmin=-lim, vmax=lim, s=60)
    ax.set_aspect("equal")
    ax.set(xlabel=f"{'xyz'[axes[0]]} (mm)", ylabel=f"{'xyz'[axes[1]]} (mm)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.colorbar(sc, ax=ax, label=unit)
    return ax


def plot_surface_activity(surface, values, ts, eeg=None, eeg_ts=None, sensor_positions=None, mask=None,
                          times=None, variable: str = "V", title: str | None = None, n_traces: int = 8,
                          eeg_label: str = "EEG (µV)"):
    """Activity on a cortical surface at four times, with EEG traces and the EEG topography.

    Parameters
    ----------
    surface : neuralmass.surface.Surface
    values : (T, N) array
        Vertex activity (e.g. the ``vertex`` output of a surface study).
    ts : (T,) array
        Times of ``values`` (ms).
    eeg : (T_e, S) array, optional
        Sensor signals (µV); the traces of ``n_traces`` sensors within 1 s around the maps' times
        and, with ``sensor_positions``, the topography at the time of the largest magnitude there.
    eeg_ts : (T_e,) array, optional
        Times of ``eeg`` (ms).
    sensor_positions : (S, 3) array, optional
    mask : (N,) bool array, optional
        Vertices drawn (e.g. the left hemisphere, seen from its lateral side).
    times : sequence of 4 float, optional
        Times shown (ms; default four consecutive samples in the middle of the run).
    variable, eeg_label : str
        Labels of the colour bar and of the EEG axes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    V = np.asarray(magnitude(values), dtype=float)
    t = np.asarray(magnitude(ts), dtype=float)
    rows = 2 if eeg is not None else 1
    fig = plt.figure(figsize=(12, 3.4 * rows + 0.3))
    if title:
        fig.suptitle(title, fontsize=10)
    if times is None:   # four consecutive samples in the middle of the run: the pattern as it moves
        start = max(0, (len(t) - 4) // 2)
        picks = np.arange(start, start + 4).clip(0, len(t) - 1)
    else:
        picks = np.searchsorted(t, times).clip(0, len(t) - 1)
    # colour limits: the 99th percentile of the shown maps (a few extreme vertices would wash them out)
    lim = float(np.nanpercentile(np.abs(V[picks]), 99)) or float(np.nanmax(np.abs(V))) or 1.0
    poly = None
    for i, k in enumerate(picks):
        ax = fig.add_subplot(rows, 4, i + 1, projection="3d")
        poly = plot_surface(surface, V[k], ax=ax, mask=mask, vmin=-lim, vmax=lim, title=f"t = {t[k]:.0f} ms")
    fig.colorbar(poly, ax=fig.axes[:4], shrink=0.6, label=variable)
    if eeg is not None:
        E = np.asarray(magnitude(eeg), dtype=float)
        te = t if eeg_ts is None else np.asarray(magnitude(eeg_ts), dtype=float)
        # traces and topography within 1 s around the maps' times (the whole run when shorter)
        near = (te >= t[picks[0]] - 500.0) & (te <= t[picks[-1]] + 500.0)
        if near.sum() < 2:
            near = np.ones(te.shape, dtype=bool)
        E, te = E[near], te[near]
        ax = fig.add_subplot(2, 2, 3)
        ax.plot(te, E[:, :n_traces], lw=0.8)
        ax.set(xlabel="time (ms)", ylabel=eeg_label, title=f"{min(n_traces, E.shape[1])} of {E.shape[1]} electrodes")
        if sensor_positions is not None:
            k = int(np.argmax(np.abs(E).max(axis=1)))
            _, lr, _ = _view(np.asarray(surface.vertices, dtype=float), mask)
            other = next(a for a in (0, 1) if a != lr)
            plot_sensor_topography(sensor_positions, E[k], ax=fig.add_subplot(2, 2, 4), axes=(lr, other),
                                   title=f"EEG topography at t = {te[k]:.0f} ms (seen from above)")
    return fig
