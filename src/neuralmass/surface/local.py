r"""Local (intra-cortical) coupling: a sparse vertex × vertex kernel.

The local input of vertex :math:`i` is

.. math::

    \ell_i(t) = \sum_j K_{ij}\, v_j(t), \qquad K_{ij} = \kappa(d_{ij})\ \text{for}\ d_{ij} \le d_c,
    \ i \ne j,

with :math:`v` the coupled variable, :math:`d_{ij}` the geodesic (or Euclidean) distance between
vertices, :math:`\kappa` a kernel and :math:`d_c` the cutoff; the network multiplies it by the
traced ``local_strength`` and adds it without delay (Sanz-Leon et al. 2015, eq. 12; Spiegler &
Jirsa 2013 for the kernels).

Kernels (distances in mm):

==================  ==========================================================================
``'gaussian'``      :math:`a\,e^{-d^2/(2\sigma^2)}` (``amp``, ``sigma``)
``'mexican_hat'``   :math:`a_1 e^{-d^2/(2\sigma_1^2)} - a_2 e^{-d^2/(2\sigma_2^2)}`
                    (``amp_1``, ``sigma_1``, ``amp_2``, ``sigma_2``; local excitation, surround
                    inhibition)
``'exponential'``   :math:`a\,e^{-d/\lambda}` (``amp``, ``lam``)
==================  ==========================================================================

``homogenise=True`` (TVB's ``LocalConnectivity.compute``) rescales each vertex's positive and
negative weights so that their row sums equal the mean over vertices, removing the effect of an
uneven mesh (vertices with more neighbours inside the cutoff would otherwise receive more input).

Distances: ``metric='geodesic'`` is the shortest path along mesh edges (Dijkstra, limited to the
cutoff), which overestimates the true surface geodesic because it zig-zags along edges instead of
crossing triangles: by 9 % in the median and up to 21 % for pairs 15–40 mm apart on an icosphere
with 5 mm edges (tests/test_surface.py; 2/√3 on a regular triangular lattice). TVB uses the exact
``gdist`` algorithm;
``'euclidean'`` is the straight-line distance, which also links vertices across a sulcus and is
therefore only an approximation for folded cortex.

Storage and product: the matrix is kept as sorted COO index arrays. On a CPU the product is a
compiled kernel (:mod:`.native`, ``csr_product.cpp``: rows in order of their length, 16-bit
columns where they fit, lanes last), elsewhere — and where it cannot be compiled — a gather and a
sorted :func:`jax.ops.segment_sum`; both have a :func:`jax.vmap` rule that moves the lanes last
and explicit reverse-mode derivatives (with explicit ``weights``, :meth:`LocalCoupling.matvec` is
differentiable with respect to them too). A row-slot layout (ELLPACK) is kept as an option.
Measurements: docs/surface.md.

References
----------
Sanz-Leon P., Knock S.A., Spiegler A., Jirsa V.K. (2015) Mathematical framework for large-scale
brain network modeling in The Virtual Brain. NeuroImage 111, 385–430.
Spiegler A., Jirsa V. (2013) Systematic approximations of neural fields through networks of
neural masses in the virtual brain. NeuroImage 83, 704–725.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap
import numpy as np
import scipy.sparse as sp

from ..tvbdata import tvb_data_path
from ..units import DISTANCE, is_quantity, parse_quantity, to_canonical
from .mesh import Surface
from . import native

__all__ = ["LocalCoupling", "sparse_product", "KERNELS", "kernel_values", "geodesic_distances",
           "euclidean_distances", "edge_graph", "MATVEC_METHODS"]

#: kernel name -> (function of distance in mm and parameters, {parameter: (default, is a length)})
KERNELS = {
    "gaussian": (lambda d, amp, sigma: amp * np.exp(-d ** 2 / (2.0 * sigma ** 2)),
                 {"amp": (1.0, False), "sigma": (None, True)}),
    "mexican_hat": (lambda d, amp_1, sigma_1, amp_2, sigma_2:
                    amp_1 * np.exp(-d ** 2 / (2.0 * sigma_1 ** 2)) - amp_2 * np.exp(-d ** 2 / (2.0 * sigma_2 ** 2)),
                    {"amp_1": (1.0, False), "sigma_1": (None, True), "amp_2": (0.5, False),
                     "sigma_2": (None, True)}),
    "exponential": (lambda d, amp, lam: amp * np.exp(-d / lam),
                    {"amp": (1.0, False), "lam": (None, True)}),
}

MATVEC_METHODS = ("auto", "slots", "segment_sum", "bcoo")


def _mm(value, name: str) -> float:
    """A length in mm from a number (mm), a Quantity or a string such as ``'20 mm'``."""
    if isinstance(value, str):
        value = parse_quantity(value, name)
    v = float(np.asarray(to_canonical(value, name, DISTANCE) if is_quantity(value) else value))
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name}={value!r} must be a positive length, e.g. {name}='10 mm'.")
    return v


def kernel_values(kernel: str, distances_mm, **params) -> np.ndarray:
    """The kernel ``kernel`` evaluated at ``distances_mm`` (see the module table)."""
    fn, table = _kernel_spec(kernel)
    vals = _kernel_params(kernel, table, params)
    return fn(np.asarray(distances_mm, dtype=float), **vals)


def _kernel_spec(kernel):
    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r} is not known; use one of {', '.join(KERNELS)}.")
    return KERNELS[kernel]


def _kernel_params(kernel, table, params) -> dict:
    unknown = set(params) - set(table)
    if unknown:
        raise TypeError(f"kernel={kernel!r} has parameters {', '.join(table)}; got unexpected "
                        f"{', '.join(sorted(unknown))}.")
    out = {}
    for name, (default, is_length) in table.items():
        v = params.get(name, default)
        if v is None:
            raise TypeError(f"kernel={kernel!r} needs {name}= (a length, e.g. {name}='5 mm').")
        out[name] = _mm(v, name) if is_length else float(v)
    return out


def euclidean_distances(surface: Surface, cutoff_mm: float) -> sp.csr_matrix:
    """Straight-line distances (mm) between distinct vertices closer than ``cutoff_mm`` (CSR)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(surface.vertices)
    pairs = tree.query_pairs(cutoff_mm, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.linalg.norm(surface.vertices[i] - surface.vertices[j], axis=1)
    n = surface.n_vertices
    m = sp.coo_matrix((np.r_[d, d], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    m.sort_indices()
    return m


def edge_graph(surface: Surface) -> sp.csr_matrix:
    """The mesh as a symmetric graph: ``(i, j)`` holds the length (mm) of edge ``i``–``j`` (CSR;
    for :func:`scipy.sparse.csgraph.dijkstra`)."""
    e = surface.edges()
    w = np.linalg.norm(surface.vertices[e[:, 0]] - surface.vertices[e[:, 1]], axis=1)
    n = surface.n_vertices
    return sp.coo_matrix((np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n)).tocsr()


def geodesic_distances(surface: Surface, cutoff_mm: float, block: int = 512) -> sp.csr_matrix:
    """Shortest-path distances along mesh edges (mm) between distinct vertices up to ``cutoff_mm``.

    Dijkstra from each vertex, limited to the cutoff, in blocks of ``block`` sources (a full
    distance matrix of a 16k mesh would take 2 GB)."""
    from scipy.sparse.csgraph import dijkstra

    n = surface.n_vertices
    graph = edge_graph(surface)
    rows, cols, vals = [], [], []
    for start in range(0, n, block):
        idx = np.arange(start, min(n, start + block))
        d = dijkstra(graph, directed=False, indices=idx, limit=cutoff_mm)
        r, c = np.nonzero(np.isfinite(d) & (d > 0))
        rows.append(idx[r])
        cols.append(c)
        vals.append(d[r, c])
    m = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    m.sort_indices()
    return m


def _homogenise(m: sp.csr_matrix) -> sp.csr_matrix:
    """TVB's homogenisation: positive and negative parts rescaled so every row sums to the mean."""
    out = m.copy()
    for sign in (1.0, -1.0):
        part = m.copy()
        part.data = np.where(sign * part.data > 0, part.data, 0.0)
        rows = np.asarray(part.sum(axis=1)).ravel()
        mean = rows.mean()
        if mean == 0:
            continue
        factor = np.divide(mean, rows, out=np.zeros_like(rows), where=rows != 0)
        sel = sign * out.data > 0
        row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        out.data[sel] = m.data[sel] * factor[row_of[sel]]
    return out


class _Slots:
    """Row-slot (ELLPACK) layout of a sparse pattern: row ``i``'s entries in slots ``0..width-1``.

    ``col[k, i]`` is the column of row ``i``'s ``k``-th entry and ``entry[k, i]`` its index in the
    weight vector; a row with fewer entries is padded with its own index as column and weight 0
    (so a padded slot reads the row's own value, never a far one). The product is a sum over the
    ``width`` slots of one contiguous gather each."""

    def __init__(self, rows, cols, n: int):
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        order = np.lexsort((cols, rows))
        r = rows[order]
        deg = np.bincount(r, minlength=n)
        self.width = int(deg.max()) if r.size else 0
        slot = np.arange(r.size) - np.repeat(np.r_[0, np.cumsum(deg)[:-1]], deg)
        self.entry = np.full((self.width, n), r.size, np.int32)   # index r.size: the padding weight 0
        self.col = np.tile(np.arange(n, dtype=np.int32), (self.width, 1))
        self.entry[slot, r] = order
        self.col[slot, r] = cols[order]
        self.n, self.nnz = n, int(r.size)

    def weights(self, w):
        """``(width, n[, lanes])`` slot weights from the ``(nnz[, lanes])`` values (NumPy in, NumPy out)."""
        xp = np if isinstance(w, np.ndarray) else jnp
        pad = xp.zeros((1,) + tuple(w.shape[1:]), w.dtype)
        return xp.concatenate([w, pad])[self.entry]

    def apply(self, x, ws):
        """``sum_k ws[k] * x[col[k]]``; ``x`` is ``(n,)`` or lanes-last ``(n, lanes)``."""
        out = jnp.zeros((self.n,) + x.shape[1:], x.dtype)
        for k in range(self.width):
            wk = ws[k] if ws.ndim - 1 == x.ndim else ws[k][:, None]
            out = out + wk * x[self.col[k]]
        return out


def _lanes_last(one, batched):
    """``one(x, w)`` for a single ``x`` of shape ``(n,)``, with a :func:`jax.vmap` rule that calls
    ``batched(x, w)`` on lanes-last ``x`` ``(n, lanes)`` (``w``: ``(nnz,)`` or ``(nnz, lanes)``).
    With the lanes last each gathered index moves all lanes in one contiguous read (about 4x faster
    for 8 lanes than vmapping the plain gather)."""

    @custom_vmap
    def prod(x, w):
        return one(x, w)

    @prod.def_vmap
    def _batched(axis_size, in_batched, x, w):
        xb, wb = in_batched
        xl = jnp.moveaxis(x, 0, -1) if xb else x[:, None]
        wl = jnp.moveaxis(w, 0, -1) if wb else w
        y = batched(xl, wl)
        return jnp.moveaxis(jnp.broadcast_to(y, (y.shape[0], axis_size)), -1, 0), True

    return prod


def _segment_sum(rows, cols, n, sorted_rows):
    def fn(x, w):
        wl = w if w.ndim == x.ndim else w[:, None]
        return jax.ops.segment_sum(wl * x[cols], rows, n, indices_are_sorted=sorted_rows)
    return fn


def _compiled_or(rows, cols, n, fallback):
    """The compiled CPU product (:mod:`.native`) of the pattern, ``fallback`` where it does not apply."""
    plan = native.csr_plan(rows, cols, n)

    def fn(x, w):
        return native.product(plan, n, x, w, fallback)
    return fn


def _slot_sum(slots: _Slots):
    def fn(x, w):
        return slots.apply(x, slots.weights(w))
    return fn


def sparse_product(rows, cols, n: int, layout: str = "auto", n_cols: int | None = None):
    r"""``product(x, w) = K @ x`` with :math:`K_{r_e c_e} = w_e` (COO, entries in any order), ``K`` of
    shape ``(n, n_cols)`` (``n_cols`` defaults to ``n``).

    Layouts: ``'auto'``, the compiled CPU kernel of :mod:`.native` where it applies (CPU,
    float32/float64, a C++ compiler), else a gather and a sorted :func:`jax.ops.segment_sum`;
    ``'segment_sum'``, always the latter; ``'slots'`` (ELLPACK: a sum of ``width`` contiguous
    gathers, no scatter; square kernels only), which was 3x slower per step inside the surface
    network's Heun step (docs/surface.md). Batched (:func:`jax.vmap`), the lanes are moved last
    and ``'slots'`` uses the segment sum. Reverse-mode derivatives are explicit: :math:`\partial/\partial x =
    K^\top g` (the same layout of the transposed pattern), :math:`\partial/\partial w_e = g_{r_e}
    x_{c_e}`."""
    # numpy index arrays (not jax arrays) so compiled programs embed them as constants
    r = np.asarray(rows, dtype=np.int64).ravel()
    c = np.asarray(cols, dtype=np.int64).ravel()
    if layout not in ("auto", "slots", "segment_sum"):
        raise ValueError(f"layout={layout!r}; use 'auto', 'slots' or 'segment_sum'.")
    m = n if n_cols is None else int(n_cols)
    if r.shape != c.shape:
        raise ValueError(f"rows has {r.size} entries but cols has {c.size}; give one (row, column) pair "
                         f"per non-zero.")
    # an index outside the matrix would be dropped or clamped by JAX and read or written out of
    # bounds by the compiled kernel: refuse it here, once
    for name, idx, size in (("rows", r, n), ("cols", c, m)):
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise ValueError(f"{name} must lie in [0, {size}) for a ({n} x {m}) matrix; got values from "
                             f"{idx.min()} to {idx.max()}.")
    r, c = r.astype(np.int32), c.astype(np.int32)
    slots = layout == "slots"
    if slots and m != n:
        raise ValueError(f"layout='slots' is for square kernels (n={n}, n_cols={m}); use 'auto'.")
    seg_f = _segment_sum(r, c, n, bool(np.all(np.diff(r) >= 0)))
    seg_t = _segment_sum(c, r, m, False)
    if layout == "auto":
        seg_f, seg_t = _compiled_or(r, c, n, seg_f), _compiled_or(c, r, m, seg_t)
    forward = _lanes_last(_slot_sum(_Slots(r, c, n)) if slots else seg_f, seg_f)
    transpose = _lanes_last(_slot_sum(_Slots(c, r, n)) if slots else seg_t, seg_t)

    @jax.custom_vjp
    def product(x, w):
        return forward(x, w)

    def fwd(x, w):
        return forward(x, w), (x, w)

    def bwd(res, g):
        x, w = res
        return transpose(g, w), g[r] * x[c]

    product.defvjp(fwd, bwd)

    def checked(x, w):
        # shapes are static: checked once when traced, never at run time
        if jnp.shape(x)[:1] != (m,) or jnp.shape(w)[:1] != (r.size,):
            raise ValueError(f"the sparse product of a ({n} x {m}) matrix with {r.size} non-zeros needs x of "
                             f"shape ({m},) or ({m}, lanes) and weights of shape ({r.size},) or ({r.size}, "
                             f"lanes); got x {jnp.shape(x)} and weights {jnp.shape(w)}.")
        return product(x, w)

    checked.layout = layout   # 'auto': the compiled kernel where native.product applies, else the segment sum
    return checked


@dataclass(frozen=True, eq=False)
class LocalCoupling:
    """A sparse vertex × vertex coupling kernel ``K`` (row ``i``: what vertex ``i`` receives).

    Build one with :meth:`from_tvb_data`, :meth:`from_kernel` or :meth:`from_matrix`.

    Attributes
    ----------
    rows, cols : (nnz,) int32 arrays
        Coordinates of the non-zeros, sorted by row then column.
    weights : (nnz,) float array
        The values :math:`K_{ij}`.
    n : int
        Number of vertices.
    description : str
        Where the kernel came from.
    """

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    n: int
    description: str = ""

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_matrix(cls, matrix, surface: Surface | None = None, description: str = "matrix") -> "LocalCoupling":
        """From a square SciPy sparse matrix or a dense array; the diagonal is kept as given."""
        m = sp.csr_matrix(matrix, dtype=float)
        if m.shape[0] != m.shape[1]:
            raise ValueError(f"matrix has shape {m.shape}; a local coupling kernel is square (vertices x vertices).")
        if surface is not None and m.shape[0] != surface.n_vertices:
            raise ValueError(f"matrix is {m.shape[0]} x {m.shape[1]} but the surface has {surface.n_vertices} "
                             f"vertices; use the kernel made for this mesh.")
        m.eliminate_zeros()
        m.sort_indices()
        if not np.all(np.isfinite(m.data)):
            raise ValueError("matrix contains NaN or infinite weights.")
        coo = m.tocoo()
        return cls(coo.row.astype(np.int32), coo.col.astype(np.int32), coo.data.astype(float), int(m.shape[0]),
                   description)

    @classmethod
    def from_tvb_data(cls, name: str = "local_connectivity_16384", surface: Surface | None = None) -> "LocalCoupling":
        """The local connectivity shipped by the user's ``tvb-data`` (``tvb_data/local_connectivity``).

        tvb-data's ``local_connectivity_16384`` is the row-normalised adjacency of the
        ``cortex_16384`` mesh (each vertex averages its 3–11 mesh neighbours: rows sum to 1, no
        self-coupling; 98 280 non-zeros); TVB multiplies it by ``Cortex.coupling_strength``, our
        ``local_strength``.
        """

        root = tvb_data_path()
        path = root / "local_connectivity" / (name if name.endswith(".mat") else name + ".mat")
        if not path.exists():
            have = sorted(p.stem for p in (root / "local_connectivity").glob("*.mat"))
            raise ValueError(f"name={name!r} is not a tvb-data local connectivity; available: {', '.join(have)}.")
        return cls.from_mat(path, surface, description=f"tvb-data {name}")

    @classmethod
    def from_mat(cls, path, surface: Surface | None = None, key: str = "LocalCoupling",
                 description: str | None = None) -> "LocalCoupling":
        """From a MATLAB file holding a sparse matrix (TVB's format: variable ``LocalCoupling``)."""
        import scipy.io as sio

        d = sio.loadmat(str(path))
        if key not in d:
            have = [k for k in d if not k.startswith("__")]
            raise ValueError(f"{str(path)!r} has no variable {key!r}; it holds {have} (pass key=...).")
        return cls.from_matrix(d[key], surface, description or Path(path).name)

    @classmethod
    def from_kernel(cls, surface: Surface, kernel: str = "gaussian", cutoff: Any = "20 mm",
                    metric: str = "geodesic", homogenise: bool = True, **params) -> "LocalCoupling":
        r"""A kernel of vertex distances: :math:`K_{ij} = \kappa(d_{ij})` for
        :math:`0 < d_{ij} \le` ``cutoff`` (no self-coupling).

        Parameters
        ----------
        surface : Surface
        kernel : {'gaussian', 'mexican_hat', 'exponential'}
        cutoff : length
            ``'20 mm'``, a Quantity or a number (mm).
        metric : {'geodesic', 'euclidean'}
            Shortest path along mesh edges, or straight-line distance (module docstring).
        homogenise : bool
            Rescale rows to the mean row sum as TVB does (module docstring).
        **params
            The kernel's parameters; lengths as strings (``sigma='5 mm'``), Quantities or mm.
        """
        fn, table = _kernel_spec(kernel)
        vals = _kernel_params(kernel, table, params)
        c = _mm(cutoff, "cutoff")
        if metric == "geodesic":
            d = geodesic_distances(surface, c)
        elif metric == "euclidean":
            d = euclidean_distances(surface, c)
        else:
            raise ValueError(f"metric={metric!r} must be 'geodesic' or 'euclidean'.")
        if d.nnz == 0:
            raise ValueError(f"cutoff={cutoff!r} is shorter than every edge of the mesh: the kernel would be "
                             f"empty. Use a cutoff above the mean edge length.")
        m = d.copy()
        m.data = fn(d.data, **vals)
        if homogenise:
            m = _homogenise(m)
        desc = f"{kernel} ({', '.join(f'{k}={v:g}' for k, v in vals.items())}; {metric}, cutoff {c:g} mm)"
        return cls.from_matrix(m, surface, desc)

    # ---------------------------------------------------------------- use
    @property
    def nnz(self) -> int:
        return int(self.weights.size)

    def to_scipy(self) -> sp.csr_matrix:
        """The kernel as a SciPy CSR matrix."""
        return sp.csr_matrix((self.weights, (self.rows, self.cols)), shape=(self.n, self.n))

    def digest(self) -> str:
        """Hash of the sparsity pattern (the compiled program depends on it, not on the values)."""
        h = hashlib.sha1()
        h.update(str(self.n).encode())
        h.update(np.ascontiguousarray(self.rows).tobytes())
        h.update(np.ascontiguousarray(self.cols).tobytes())
        return h.hexdigest()

    def matvec(self, x, weights=None, n_out: int | None = None, method: str = "auto"):
        """``K @ x`` for ``x`` of shape ``(n,)`` (entries past ``n`` are ignored), ``weights`` the
        traced values (``None``: the stored ones). ``n_out`` pads the result with zero rows (the region nodes
        a surface network appends after the vertices).

        ``method``: ``'auto'`` (the compiled CPU kernel where it applies, else the segment
        sum), ``'slots'``, ``'segment_sum'`` — all
        :func:`sparse_product`: differentiable, lanes last under :func:`jax.vmap` — or ``'bcoo'``
        (:class:`jax.experimental.sparse.BCOO`, kept for the measurement in
        benchmarks/surface.py)."""
        if method not in MATVEC_METHODS:
            raise ValueError(f"method={method!r}; use one of {', '.join(MATVEC_METHODS)}.")
        x = jnp.asarray(x)[:self.n]
        if method == "bcoo":
            from jax.experimental import sparse as jsp
            w = jnp.asarray(self.weights if weights is None else weights, x.dtype)
            idx = np.stack([self.rows, self.cols], axis=1)
            y = jsp.BCOO((w, idx), shape=(self.n, self.n), indices_sorted=True, unique_indices=True) @ x
        else:
            w = jnp.asarray(self.weights, x.dtype) if weights is None else jnp.asarray(weights)
            y = self._cached(method, lambda: sparse_product(self.rows, self.cols, self.n, method))(x, w)
        if n_out is not None and n_out > self.n:
            y = jnp.concatenate([y, jnp.zeros((n_out - self.n,) + y.shape[1:], y.dtype)])
        return y

    def _cached(self, key, make):
        ops = self.__dict__.setdefault("_ops", {})
        if key not in ops:
            ops[key] = make()
        return ops[key]

    @property
    def product(self):
        """The differentiable, batching-aware ``product(x, w) = K(w) @ x`` (:func:`sparse_product`)."""
        return self._cached("auto", lambda: sparse_product(self.rows, self.cols, self.n))

    def __repr__(self):
        return f"LocalCoupling({self.n} vertices, {self.nnz} non-zeros: {self.description})"
