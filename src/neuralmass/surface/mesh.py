r"""Cortical surface meshes: vertices (mm), triangles, normals, vertex areas and a region mapping.

A :class:`Surface` is plain data, checked once when it is made. Vertex areas are one third of the
area of every triangle touching a vertex,

.. math::

    a_v = \tfrac13 \sum_{t \ni v} A_t, \qquad \sum_v a_v = \sum_t A_t,

and vertex normals are the area-weighted mean of the incident triangles' normals (unit length),
as TVB computes them when a file does not provide them (Sanz-Leon et al. 2015).

The region mapping assigns each vertex to a region of the connectome (``0 .. n_regions - 1``).
Regions of the connectome that no vertex maps to (e.g. subcortical regions) are simulated as
single region nodes appended after the vertices, as TVB does (:class:`SurfaceNetwork`).

References
----------
Sanz-Leon P., Knock S.A., Spiegler A., Jirsa V.K. (2015) Mathematical framework for large-scale
brain network modeling in The Virtual Brain. NeuroImage 111, 385–430.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..tvbdata import tvb_data_path
from ..units import DISTANCE, is_quantity, to_canonical

__all__ = ["Surface", "vertex_areas", "vertex_normals", "mesh_edges", "read_region_mapping", "node_regions",
           "MIN_EXTENT_MM"]

#: A cortical mesh smaller than this (bounding-box diagonal, mm) was almost surely given in metres.
MIN_EXTENT_MM = 5.0


def vertex_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area associated with each vertex: one third of the area of every incident triangle.

    Parameters
    ----------
    vertices : (V, 3) array
    triangles : (F, 3) integer array of vertex indices

    Returns
    -------
    (V,) array, in the squared unit of ``vertices``; sums to the total surface area.
    """
    v = np.asarray(vertices, dtype=float)
    t = np.asarray(triangles, dtype=int)
    tri_area = 0.5 * np.linalg.norm(np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]]), axis=1)
    areas = np.zeros(v.shape[0])
    np.add.at(areas, t.ravel(), np.repeat(tri_area / 3.0, 3))
    return areas


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit vertex normals: the sum of incident triangles' (area-weighted) normals, normalised.

    The orientation follows the triangles' winding (counter-clockwise seen from outside gives
    outward normals). A vertex without triangles gets a zero normal.
    """
    v = np.asarray(vertices, dtype=float)
    t = np.asarray(triangles, dtype=int)
    tri_n = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])   # |.| = 2 * area
    n = np.zeros_like(v)
    for c in range(3):
        np.add.at(n, t[:, c], tri_n)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return np.divide(n, norm, out=np.zeros_like(n), where=norm > 0)


def mesh_edges(triangles: np.ndarray) -> np.ndarray:
    """Unique undirected edges ``(E, 2)`` (``i < j``) of a triangle mesh."""
    t = np.asarray(triangles, dtype=np.int64)
    e = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    e.sort(axis=1)
    return np.unique(e, axis=0)


def read_region_mapping(source, name: str = "region_mapping") -> np.ndarray:
    """A region mapping from an array, a text file (one integer per vertex, TVB's format) or a
    FreeSurfer ``.annot`` file (label indices, via nibabel)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{name}={str(source)!r}: no such file.")
        if path.suffix == ".annot":
            nib = _nibabel(f"{name}={str(source)!r}")
            labels, _, _ = nib.freesurfer.read_annot(str(path))
            return np.asarray(labels)
        if path.suffix == ".gii":
            nib = _nibabel(f"{name}={str(source)!r}")
            return np.asarray(nib.load(str(path)).darrays[0].data)
        return np.loadtxt(path)
    return np.asarray(source)


def _nibabel(what: str):
    try:
        import nibabel
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(f"{what} needs nibabel to read GIFTI/FreeSurfer files: "
                          f"`pip install nibabel` (or `pip install neuralmass[surface]`).") from None
    return nibabel


def _as_mm(vertices, name: str) -> np.ndarray:
    if is_quantity(vertices):
        v = np.asarray(to_canonical(vertices, name, DISTANCE), dtype=float)
    else:
        v = np.asarray(vertices, dtype=float)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] < 3:
        raise ValueError(f"{name} has shape {v.shape}; expected (n_vertices, 3) coordinates in mm.")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite coordinates; a mesh needs finite vertices.")
    extent = float(np.linalg.norm(v.max(axis=0) - v.min(axis=0)))
    if not is_quantity(vertices) and extent < MIN_EXTENT_MM:
        raise ValueError(
            f"{name} spans only {extent:.3g} across (bounding-box diagonal), but plain numbers are read "
            f"in mm: a cortex is ~150 mm across. The vertices look like metres; pass vertices * 1000 "
            f"or a Quantity (vertices * u.meter).")
    return v


def node_regions(surface, n_regions: int) -> np.ndarray:
    """Region of every node of a surface network: the vertices (the region mapping), then one node
    per region of ``0..n_regions-1`` that no vertex maps to (TVB's scheme,
    :class:`~neuralmass.surface.SurfaceNetwork`)."""
    rm = surface.region_mapping
    return np.r_[rm, np.setdiff1d(np.arange(n_regions), rm)].astype(np.int64)


@dataclass(frozen=True, eq=False)
class Surface:
    """A triangulated surface with a region mapping (all lengths in mm).

    Parameters
    ----------
    vertices : (N, 3) array or Quantity
        Vertex coordinates; plain numbers are mm (a mesh under 5 mm across is refused as metres).
    triangles : (M, 3) int array
        Vertex indices of each triangle (``0 .. N-1``).
    region_mapping : (N,) int array, optional
        Region index of each vertex (``0 .. n_regions - 1``); needed by :class:`SurfaceNetwork`.
    region_labels : sequence of str, optional
        Names of the regions the mapping indexes.
    normals : (N, 3) array, optional
        Unit vertex normals (computed from the triangles when not given).
    name : str
        A label for reports.

    Attributes
    ----------
    areas : (N,) array
        Vertex areas (mm², :func:`vertex_areas`).

    Examples
    --------
    >>> surf = Surface.from_tvb_data("cortex_16384", region_mapping="regionMapping_16k_76")  # doctest: +SKIP
    >>> surf.n_vertices, surf.n_regions                                                      # doctest: +SKIP
    (16384, 76)
    """

    vertices: Any
    triangles: Any
    region_mapping: Any = None
    region_labels: Any = None
    normals: Any = None
    name: str = ""
    areas: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        set_ = object.__setattr__
        v = _as_mm(self.vertices, "vertices")
        t = np.asarray(self.triangles)
        if t.ndim != 2 or t.shape[1] != 3 or t.shape[0] < 1:
            raise ValueError(f"triangles has shape {t.shape}; expected (n_triangles, 3) vertex indices.")
        if not np.issubdtype(t.dtype, np.integer):
            if not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
                raise ValueError("triangles must hold integer vertex indices.")
            t = t.astype(np.int64)
        if t.min() < 0 or t.max() >= v.shape[0]:
            bad = int(t.min()) if t.min() < 0 else int(t.max())
            raise ValueError(
                f"triangles index vertex {bad}, but there are {v.shape[0]} vertices (valid 0..{v.shape[0] - 1}); "
                f"are the triangles 1-based (subtract 1) or from another mesh?")
        set_(self, "vertices", v)
        set_(self, "triangles", t.astype(np.int64))
        if self.normals is None:
            set_(self, "normals", vertex_normals(v, t))
        else:
            nrm = np.asarray(self.normals, dtype=float)
            if nrm.shape != v.shape:
                raise ValueError(f"normals has shape {nrm.shape}; expected {v.shape} (one per vertex).")
            set_(self, "normals", nrm)
        set_(self, "areas", vertex_areas(v, t))
        if self.region_mapping is not None:
            set_(self, "region_mapping", self._check_mapping(self.region_mapping))
            if self.region_labels is not None:
                labels = [str(x) for x in self.region_labels]
                if len(labels) < self.n_regions:
                    raise ValueError(
                        f"region_labels has {len(labels)} names but region_mapping uses regions up to "
                        f"{self.n_regions - 1}; give one label per region.")
                set_(self, "region_labels", labels)

    def _check_mapping(self, mapping) -> np.ndarray:
        rm = np.asarray(mapping)
        n = self.vertices.shape[0]
        if rm.ndim != 1 or rm.size != n:
            raise ValueError(
                f"region_mapping has {rm.size} entries (shape {rm.shape}) but the surface has {n} vertices; "
                f"a region mapping gives one region index per vertex of this mesh (e.g. "
                f"regionMapping_16k_76 for cortex_16384).")
        if not np.issubdtype(rm.dtype, np.integer):
            if not np.all(np.isfinite(rm)) or np.any(rm != np.round(rm)):
                raise ValueError("region_mapping must hold integer region indices.")
        rm = rm.astype(np.int64)
        if rm.min() < 0:
            raise ValueError(f"region_mapping contains {int(rm.min())}; region indices run from 0 to "
                             f"n_regions - 1 (unassigned vertices must be mapped to a region).")
        return rm

    # ---------------------------------------------------------------- properties
    @property
    def n_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def n_triangles(self) -> int:
        return int(self.triangles.shape[0])

    @property
    def n_regions(self) -> int:
        """Regions the mapping refers to (largest index + 1)."""
        if self.region_mapping is None:
            return 0
        return int(self.region_mapping.max()) + 1

    @property
    def total_area(self) -> float:
        """Surface area in mm²."""
        return float(self.areas.sum())

    def edges(self) -> np.ndarray:
        """Unique undirected mesh edges ``(E, 2)``."""
        return mesh_edges(self.triangles)

    def with_region_mapping(self, region_mapping, region_labels=None) -> "Surface":
        """The same mesh with another region mapping (array, text file or ``.annot``)."""
        return Surface(self.vertices, self.triangles, read_region_mapping(region_mapping),
                       region_labels, self.normals, self.name)

    def check_regions(self, n_regions: int, what: str = "the connectome") -> None:
        """Refuse a mapping whose indices reach past ``n_regions`` (checked when a network is built)."""
        if self.region_mapping is None:
            raise ValueError("the surface has no region_mapping; build it with region_mapping=... "
                             "(one region index per vertex) to couple it to a connectome.")
        if self.n_regions > n_regions:
            raise ValueError(
                f"region_mapping refers to region {self.n_regions - 1}, but {what} has {n_regions} "
                f"regions (0..{n_regions - 1}); use the mapping made for this parcellation (e.g. "
                f"regionMapping_16k_{n_regions} for connectivity_{n_regions}).")

    def __repr__(self):
        return (f"Surface({self.name or 'mesh'}: {self.n_vertices} vertices, {self.n_triangles} "
                f"triangles, {self.n_regions} regions, area {self.total_area:.0f} mm²)")

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_tvb_zip(cls, path, region_mapping=None, region_labels=None, name: str | None = None) -> "Surface":
        """Read a TVB surface zip (``vertices.txt``, ``triangles.txt``, optional
        ``vertex_normals.txt``; plain or ``.bz2``), with a region mapping (array or text file)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path={str(path)!r}: no such TVB surface zip.")
        with zipfile.ZipFile(path) as zf:
            members = {m.rsplit("/", 1)[-1]: m for m in zf.namelist()}

            def text(stem):
                import bz2
                if stem in members:
                    return zf.read(members[stem]).decode()
                if stem + ".bz2" in members:
                    return bz2.decompress(zf.read(members[stem + ".bz2"])).decode()
                return None

            vt, tt = text("vertices.txt"), text("triangles.txt")
            if vt is None or tt is None:
                raise ValueError(f"path={str(path)!r} is not a TVB surface zip: it needs vertices.txt and "
                                 f"triangles.txt (found {sorted(members)}).")
            nt = text("vertex_normals.txt")
        verts = np.loadtxt(vt.splitlines())
        tris = np.loadtxt(tt.splitlines(), dtype=np.int64)
        normals = np.loadtxt(nt.splitlines()) if nt else None
        if normals is not None and normals.shape != verts.shape:
            normals = None
        rm = None if region_mapping is None else read_region_mapping(region_mapping)
        return cls(verts, tris, rm, region_labels, normals, name or path.stem)

    @classmethod
    def from_tvb_data(cls, name: str = "cortex_16384", region_mapping: Any = "regionMapping_16k_76",
                      region_labels=None) -> "Surface":
        """A surface of the user's installed ``tvb-data`` (read at run time, never copied).

        Parameters
        ----------
        name : str
            Surface in ``tvb_data/surfaceData`` (e.g. ``'cortex_16384'``).
        region_mapping : str, array or None
            A mapping in ``tvb_data/regionMapping`` by name (``'regionMapping_16k_76'``,
            ``'regionMapping_16k_192'``), a file path or an array.
        """
        root = tvb_data_path()
        zpath = root / "surfaceData" / (name if name.endswith(".zip") else name + ".zip")
        if not zpath.exists():
            have = sorted(p.stem for p in (root / "surfaceData").glob("*.zip"))
            raise ValueError(f"name={name!r} is not a tvb-data surface; available: {', '.join(have)}.")
        rm = region_mapping
        if isinstance(rm, str) and not Path(rm).exists():
            rpath = root / "regionMapping" / (rm if rm.endswith(".txt") else rm + ".txt")
            if not rpath.exists():
                have = sorted(p.stem for p in (root / "regionMapping").glob("*.txt"))
                raise ValueError(f"region_mapping={region_mapping!r} is not a tvb-data region mapping; "
                                 f"available: {', '.join(have)} (or pass a file path or an array).")
            rm = rpath
        return cls.from_tvb_zip(zpath, rm, region_labels, name=name)

    @classmethod
    def from_gifti(cls, path, region_mapping=None, region_labels=None, name: str | None = None) -> "Surface":
        """Read a GIFTI surface (``*.surf.gii``, coordinates in mm) with nibabel; ``region_mapping``
        may be an array, a text file, a GIFTI label file or a FreeSurfer ``.annot``."""
        nib = _nibabel(f"Surface.from_gifti({str(path)!r})")
        img = nib.load(str(path))
        coords = tris = None
        for d in img.darrays:
            code = nib.nifti1.intent_codes.niistring[d.intent] if hasattr(nib.nifti1, "intent_codes") else ""
            if code == "NIFTI_INTENT_POINTSET" or (coords is None and d.data.ndim == 2
                                                   and np.issubdtype(d.data.dtype, np.floating)):
                coords = np.asarray(d.data, dtype=float)
            elif code == "NIFTI_INTENT_TRIANGLE" or (tris is None and np.issubdtype(d.data.dtype, np.integer)):
                tris = np.asarray(d.data, dtype=np.int64)
        if coords is None or tris is None:
            raise ValueError(f"path={str(path)!r} holds no point set and triangle arrays; is it a "
                             f"*.surf.gii surface (not a *.func.gii or *.label.gii)?")
        rm = None if region_mapping is None else read_region_mapping(region_mapping)
        return cls(coords, tris, rm, region_labels, None, name or Path(path).name)

    @classmethod
    def from_freesurfer(cls, path, region_mapping=None, region_labels=None,
                        name: str | None = None) -> "Surface":
        """Read a FreeSurfer surface (``lh.pial``, ``rh.white``, ...; mm) with nibabel;
        ``region_mapping`` may be an ``.annot`` file (its label indices), a text file or an array."""
        nib = _nibabel(f"Surface.from_freesurfer({str(path)!r})")
        coords, faces = nib.freesurfer.read_geometry(str(path))
        rm = None if region_mapping is None else read_region_mapping(region_mapping)
        return cls(np.asarray(coords, dtype=float), np.asarray(faces, dtype=np.int64), rm, region_labels,
                   None, name or Path(path).name)
