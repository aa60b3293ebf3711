r"""Stimulation on cortical surfaces: where a stimulus acts on a surface network.

A stimulus on a :class:`~neuralmass.surface.SurfaceNetwork` is a time course of
:mod:`neuralmass.stimulus` times one weight per node (the vertices, then one node per region
without vertices):

.. math::

    I_v(t) \;\mathrel{+}=\; A\, s(t)\, w_v ,

added to the node input it is given to (``Simulator.run(inputs={"V_ext": stim})``), in that
input's unit, on top of the coupling and noise the input receives. :func:`surface_weights` builds
:math:`w` and :meth:`neuralmass.stimulus.Stimulus.at` attaches it::

    w = surface_weights(net, vertices=[120], profile="gaussian", sigma="5 mm", cutoff="15 mm")
    stim = st.pulse(onset=10 * u.ms, duration=2 * u.ms, amplitude=0.5).at(w)

Patterns:

==========================  ====================================================================
``regions=``                labels, indices, ``{label: weight}`` or a weight per region: every
                            vertex of region :math:`r` gets :math:`w_r` (through the region
                            mapping; a region without vertices: its region node). This is what
                            TVB's ``StimuliRegion`` does on a surface, and on a mesh whose
                            regions are single vertices it is the region network's stimulus.
``vertices=``               vertex indices (weight 1) or ``{vertex: weight}``; with a
                            ``profile``, the focal vertices of a patch
``point=``                  a point (or several, ``(k, 3)``) in mm, in the mesh's frame: the
                            centre of a patch (needs a ``profile``)
==========================  ====================================================================

A patch around focal vertices (or points) :math:`f` with coefficients :math:`c_f` (1 unless given
as ``{vertex: weight}``) is

.. math::

    w_v = \sum_f c_f\, \kappa\big(d(v, f)\big)\ \mathbb 1\big[d(v, f) \le d_c\big],

the sum over focal points of TVB's ``StimuliSurface`` (its spatial equation evaluated at the
distance from each focal vertex, summed), with :math:`\kappa` a named profile of the distance in
mm — ``'gaussian'`` :math:`a\,e^{-d^2/(2\sigma^2)}`, ``'mexican_hat'``, ``'exponential'`` (the
local kernels, :data:`neuralmass.surface.KERNELS`, with the same parameters) or ``'disk'`` (1
within the cutoff) — and :math:`d` the geodesic distance (``metric='geodesic'``: the shortest path
along mesh edges, as the local kernels; a point is first moved to its nearest vertex) or the
straight-line distance (``'euclidean'``, from the point itself). ``cutoff`` :math:`d_c` (default:
none) limits the patch; ``'disk'`` needs it.

Two conventions differ from TVB's: a stimulus here drives a named input of the node model (TVB
adds the pattern to the derivatives of the model's state variables; for the generic 2D
oscillator ``V_ext`` enters :math:`\dot V` as :math:`d\,\tau\,\gamma\,I`), and TVB's Gaussian
equation has a ``midpoint`` and an ``offset``, which are 0 here (its defaults).

References
----------
Sanz-Leon P., Knock S.A., Spiegler A., Jirsa V.K. (2015) Mathematical framework for large-scale
brain network modeling in The Virtual Brain. NeuroImage 111, 385–430 (section 2.6, stimulation).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..stimulus import Stimulus, region_weights
from ..units import DISTANCE, is_quantity, parse_quantity, to_canonical
from .local import KERNELS, _kernel_params, _kernel_spec, _mm, edge_graph
from .mesh import Surface, node_regions

__all__ = ["surface_weights", "on_surface", "read_profile", "PROFILES", "METRICS"]

#: Spatial profiles of a patch: the local kernels and ``'disk'`` (1 within the cutoff).
PROFILES = (*KERNELS, "disk")
#: Distances of a patch.
METRICS = ("geodesic", "euclidean")


def read_profile(profile=None, metric: str = "geodesic", cutoff=None, **params) -> dict:
    """A patch's profile checked and its lengths in mm.

    Parameters
    ----------
    profile : str or None
        One of :data:`PROFILES`; ``None`` for no patch (weights at the listed vertices only).
    metric : str
        ``'geodesic'`` or ``'euclidean'``.
    cutoff : length, optional
        Number (mm), Quantity or string such as ``'15 mm'``.
    **params
        The profile's parameters (e.g. ``sigma='5 mm'``, ``amp=2.0``).

    Returns
    -------
    dict
        ``profile``, ``metric``, ``cutoff`` (mm or None) and the parameters (lengths in mm).

    Raises
    ------
    ValueError, TypeError
        An unknown profile or metric, a parameter the profile does not have or lacks, a length that
        is not a positive length, ``'disk'`` without a cutoff.
    """
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is not known; use 'geodesic' (along the mesh) or 'euclidean'.")
    out = {"profile": profile, "metric": metric, "cutoff": None if cutoff is None else _mm(cutoff, "cutoff")}
    if profile is None or profile == "disk":
        if params:
            raise TypeError(f"profile={profile!r} takes no parameters; got {', '.join(sorted(params))} "
                            f"(give profile='gaussian' with sigma=..., or another of {', '.join(PROFILES)}).")
        if profile == "disk" and cutoff is None:
            raise ValueError("profile='disk' needs cutoff=, its radius (e.g. cutoff='10 mm').")
        return out
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not known; use one of {', '.join(PROFILES)}.")
    fn, table = _kernel_spec(profile)
    try:
        out.update(_kernel_params(profile, table, params))
    except TypeError as exc:   # the kernel's message, in the words of a stimulus
        raise TypeError(str(exc).replace("kernel=", "profile=")) from None
    return out


def _lengths(spec: dict) -> dict:
    """The lengths (mm) of a read profile, by name."""
    out = {} if spec["cutoff"] is None else {"cutoff": spec["cutoff"]}
    if spec["profile"] in KERNELS:
        out.update({k: spec[k] for k, (_, is_length) in KERNELS[spec["profile"]][1].items() if is_length})
    return out


def _check_lengths(spec: dict, surface: Surface, given: Mapping) -> None:
    """Refuse lengths far below the mesh spacing or far above its size (a width in metres)."""
    e = surface.edges()
    h = float(np.median(np.linalg.norm(surface.vertices[e[:, 0]] - surface.vertices[e[:, 1]], axis=1)))
    size = float(np.max(np.ptp(surface.vertices, axis=0)))
    for name, mm in _lengths(spec).items():
        shown = given.get(name, mm)
        if mm < 0.1 * h:
            raise ValueError(f"{name}={shown!r} is {mm:g} mm, far below the mesh's spacing (median edge "
                             f"{h:.3g} mm), so the pattern would not reach past one vertex; lengths are in mm "
                             f"(a width in metres? write e.g. {name}='5 mm').")
        if mm > 2 * size:
            raise ValueError(f"{name}={shown!r} is {mm:g} mm, more than twice the size of the mesh "
                             f"({size:.3g} mm); lengths are in mm (a width in metres? write e.g. {name}='5 mm').")


def _vertex_list(vertices, n_vertices: int):
    """(indices, coefficients) of ``vertices``: an index, indices or ``{index: weight}``."""
    if isinstance(vertices, Mapping):
        pairs = list(vertices.items())
    else:
        items = np.atleast_1d(np.asarray(vertices))
        if items.ndim != 1 or items.size == 0:
            raise ValueError(f"vertices={vertices!r} must be a vertex index, a list of indices or "
                             f"{{index: weight}}.")
        pairs = [(x, 1.0) for x in items.tolist()]
    idx, coef = [], []
    for v, c in pairs:
        if isinstance(v, str) and v.strip().lstrip("-").isdigit():
            v = int(v)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"vertices: {v!r} is not a vertex index (an integer 0..{n_vertices - 1}).")
        if not 0 <= v < n_vertices:
            raise ValueError(f"vertices: index {v} is out of range for a mesh of {n_vertices} vertices "
                             f"(0..{n_vertices - 1}).")
        idx.append(int(v))
        coef.append(float(c))
    return np.asarray(idx, dtype=np.int64), np.asarray(coef, dtype=float)


def _coordinate_mm(value) -> float:
    """A coordinate in mm: a number (mm), a length Quantity or a string such as ``'12 mm'``; any sign."""
    if isinstance(value, str):
        value = parse_quantity(value, "point")
    if is_quantity(value):
        return float(np.asarray(to_canonical(value, "point", DISTANCE)))
    return float(value)


def _points_mm(point, surface: Surface) -> np.ndarray:
    """``point`` as ``(k, 3)`` mm, refused when it lies far from the mesh (e.g. given in metres)."""
    if is_quantity(point):
        p = np.atleast_2d(np.asarray(to_canonical(point, "point", DISTANCE), dtype=float))
    elif isinstance(point, (list, tuple)):   # coordinates may mix numbers, strings and Quantities
        rows = point if point and isinstance(point[0], (list, tuple, np.ndarray)) else [point]
        p = np.asarray([[_coordinate_mm(c) for c in row] for row in rows], dtype=float)
    else:
        p = np.atleast_2d(np.asarray(point, dtype=float))
    if p.ndim != 2 or p.shape[1] != 3 or not np.all(np.isfinite(p)):
        raise ValueError(f"point={point!r} must be x, y, z in mm (or k points, shape (k, 3)), e.g. "
                         f"point=[12.0, -30.0, 48.0].")
    e = surface.edges()
    longest = float(np.max(np.linalg.norm(surface.vertices[e[:, 0]] - surface.vertices[e[:, 1]], axis=1)))
    for q in p:
        d = np.linalg.norm(surface.vertices - q, axis=1)
        if d.min() > 3 * longest:
            lo, hi = surface.vertices.min(axis=0), surface.vertices.max(axis=0)
            box = ", ".join(f"{a} {lo[i]:.3g}..{hi[i]:.3g}" for i, a in enumerate("xyz"))
            raise ValueError(f"point {q.tolist()} mm lies {d.min():.3g} mm from the nearest vertex "
                             f"({int(d.argmin())}); points are in mm in the mesh's frame ({box} mm). "
                             f"Coordinates in metres? multiply them by 1000.")
    return p


def _distances(surface: Surface, foci: np.ndarray | None, points: np.ndarray | None, metric: str,
               cutoff: float | None) -> np.ndarray:
    """``(k, n_vertices)`` distances (mm) from each focal vertex or point (``inf`` past the cutoff)."""
    if metric == "euclidean":
        centres = surface.vertices[foci] if points is None else points
        d = np.linalg.norm(surface.vertices[None, :, :] - centres[:, None, :], axis=-1)
    else:
        from scipy.sparse.csgraph import dijkstra

        if points is not None:
            foci = np.array([int(np.argmin(np.linalg.norm(surface.vertices - q, axis=1))) for q in points])
        d = np.atleast_2d(dijkstra(edge_graph(surface), directed=False, indices=foci,
                                   limit=np.inf if cutoff is None else cutoff))
    if cutoff is not None:
        d = np.where(d <= cutoff, d, np.inf)
    return d


def _profile_values(spec: dict, d: np.ndarray) -> np.ndarray:
    inside = np.isfinite(d)
    if spec["profile"] == "disk":
        return inside.astype(float)
    fn, table = KERNELS[spec["profile"]]
    vals = fn(np.where(inside, d, 0.0), **{k: spec[k] for k in table})
    return np.where(inside, vals, 0.0)


def _target(target, n_regions, labels):
    """(surface, node regions or None, labels) of a SurfaceNetwork or a Surface."""
    from .network import SurfaceNetwork

    if isinstance(target, SurfaceNetwork):
        if labels is None:   # the connectome's labels, else the mesh's when they name every region
            labels = target.regions.labels
            own = target.surface.region_labels
            if labels is None and own is not None and len(own) == target.n_regions:
                labels = own
        return target.surface, np.asarray(target.node_regions), labels
    if isinstance(target, Surface):
        if labels is None:
            labels = target.region_labels
        if target.region_mapping is None:
            return target, None, labels
        n = target.n_regions if n_regions is None else int(n_regions)
        target.check_regions(n, f"n_regions={n}")
        return target, node_regions(target, n), labels
    raise TypeError(f"target={target!r} must be a SurfaceNetwork or a Surface.")


def surface_weights(target, regions=None, *, vertices=None, point=None, profile: str | None = None,
                    metric: str = "geodesic", cutoff=None, labels=None, n_regions: int | None = None,
                    **profile_params) -> np.ndarray:
    r"""A stimulus pattern over the nodes of a surface network (see the module docstring).

    Parameters
    ----------
    target : SurfaceNetwork or Surface
        The network (its nodes: the vertices, then the regions without vertices) or a mesh (its
        vertices, plus those region nodes when it has a region mapping; ``n_regions`` regions).
    regions : str, int, sequence, mapping or array, optional
        Regions as for :meth:`neuralmass.stimulus.Stimulus.at`; each vertex gets its region's weight.
    vertices : int, sequence of int or {int: float}, optional
        Vertex indices (weight 1, or the mapping's weights); the focal vertices of a patch with
        ``profile``.
    point : (3,) or (k, 3) array, Quantity or strings, optional
        Centre(s) of a patch in mm (the mesh's frame); needs ``profile``.
    profile : str, optional
        One of :data:`PROFILES`: the patch :math:`w_v = \sum_f c_f \kappa(d(v, f))`.
    metric : {'geodesic', 'euclidean'}
        Distance of the patch.
    cutoff : length, optional
        Patch radius :math:`d_c` (e.g. ``'15 mm'``); default none (``'disk'`` needs it).
    labels : sequence of str or Connectome, optional
        Region labels (default: the network's connectome labels, or the mesh's ``region_labels``).
    n_regions : int, optional
        For a :class:`Surface` target: number of regions of the connectome (default the mapping's).
    **profile_params
        The profile's parameters: ``sigma`` (gaussian), ``amp``, ``lam`` (exponential), ``sigma_1``,
        ``sigma_2``, ``amp_1``, ``amp_2`` (mexican_hat); lengths as numbers (mm), Quantities or
        strings.

    Returns
    -------
    ndarray (n_nodes,)
        For :meth:`Stimulus.at <neuralmass.stimulus.Stimulus.at>`.

    Raises
    ------
    ValueError, TypeError
        Not exactly one of ``regions``/``vertices``/``point``; an unknown region label (with the
        closest labels) or an index out of range; a vertex index out of range; a point far from the
        mesh (in metres?); an unknown profile or metric; a length that is not a length, or far below
        the mesh spacing or above its size (a width in metres?); a pattern that is zero everywhere.

    Examples
    --------
    >>> w = surface_weights(net, vertices=[120], profile="gaussian", sigma="5 mm")   # doctest: +SKIP
    >>> stim = st.pulse(onset=10.0, duration=2.0, amplitude=0.5).at(w)                 # doctest: +SKIP
    """
    given = [k for k, v in (("regions", regions), ("vertices", vertices), ("point", point)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of regions=, vertices= or point= (got "
                         f"{', '.join(given) if given else 'none'}).")
    surface, nodes, labels = _target(target, n_regions, labels)
    nv = surface.n_vertices
    n = nv if nodes is None else nodes.size
    if regions is not None:
        if profile is not None or cutoff is not None or profile_params:
            raise ValueError("regions= takes no profile, cutoff or profile parameters (every vertex of a region "
                             "gets its weight); for a patch give vertices= or point= with profile=.")
        if nodes is None:
            raise ValueError("regions= needs a region mapping; build the Surface with region_mapping=.")
        w_regions = region_weights(regions, labels=labels, n=int(nodes.max()) + 1)
        return w_regions[nodes]
    spec = read_profile(profile, metric, cutoff, **profile_params)
    _check_lengths(spec, surface, {"cutoff": cutoff, **profile_params})
    w = np.zeros(n)
    if point is not None:
        if profile is None:
            raise ValueError("point= needs profile= (e.g. profile='gaussian', sigma='5 mm', or "
                             "profile='disk', cutoff='10 mm'); for single vertices give vertices=.")
        pts = _points_mm(point, surface)
        foci, coef = None, np.ones(len(pts))
    else:
        foci, coef = _vertex_list(vertices, nv)
        pts = None
        if profile is None:
            if cutoff is not None:
                raise ValueError("cutoff= needs profile= (profile='disk' for weight 1 within the cutoff).")
            np.add.at(w, foci, coef)
            return w
    d = _distances(surface, foci, pts, spec["metric"], spec["cutoff"])
    w[:nv] = coef @ _profile_values(spec, d)
    if not np.any(w):
        raise ValueError(f"the pattern is zero at every vertex (cutoff={cutoff!r} is shorter than the distance "
                         f"from the point to the nearest vertex?); lengthen the cutoff.")
    return w


def on_surface(stim: Stimulus, target, n_regions: int | None = None) -> Stimulus:
    """A region-level stimulus (patterns over regions, e.g. ``stim.at(["lM1"], labels=conn)``) on
    the nodes of a surface network: each term's weight per region goes to every vertex of that
    region (and its region node when it has no vertex); a term without a pattern is unchanged.

    Parameters
    ----------
    stim : Stimulus
    target : SurfaceNetwork or Surface
    n_regions : int, optional
        For a Surface: the number of regions.

    Returns
    -------
    Stimulus
    """
    from dataclasses import replace

    surface, nodes, _ = _target(target, n_regions, None)
    if nodes is None:
        raise ValueError("on_surface needs a region mapping; build the Surface with region_mapping=.")
    R = int(nodes.max()) + 1
    terms = stim.terms or (stim,)
    out = []
    for s in terms:
        if s.weights is not None and len(np.atleast_1d(s.weights)) != R:
            raise ValueError(f"{s.name} has a pattern over {len(np.atleast_1d(s.weights))} entries but the "
                             f"network has {R} regions; build it with the connectome's labels.")
        out.append(s if s.weights is None else replace(s, weights=np.asarray(s.weights, dtype=float)[nodes]))
    if not stim.terms:
        return out[0]
    return Stimulus(shape=None, span=stim.span, name=stim.name, terms=tuple(out))
