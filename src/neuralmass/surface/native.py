"""The local kernel's product on CPU as a compiled kernel (``csr_product.cpp``), with the pure-JAX
product as the fallback.

XLA's CPU gather and scatter-add cost 220–235 µs per product of the 16k cortex's kernel
(98 280 non-zeros) inside the surface network's Heun step; this loop over rows (in order of their
number of entries, 16-bit columns where they fit, weights in the loop's order, lanes last) costs
95–107 µs for one lane there (``python benchmarks/surface.py --profile``; docs/surface.md,
"Performance"). It is compiled once per machine by :func:`brainevent.load_cpp_inline` (the system
C++ compiler; brainevent is brainstate's own sparse-operator package) into the library's cache
folder, about 3 s, and registered as an XLA FFI target.

Used only where it applies: on the CPU platform (:func:`jax.lax.platform_dependent`; GPUs keep
the JAX product, and with a GPU as the default backend the kernel is not built), for float32 and
float64, and when it could be compiled — without a C++ compiler the JAX product is used and one
log message says why. ``NEURALMASS_NATIVE_KERNELS=0`` turns it off (the same numbers to rounding,
about 2x slower on a CPU).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["available", "csr_plan", "product", "ENV_VAR"]

logger = logging.getLogger("neuralmass")

ENV_VAR = "NEURALMASS_NATIVE_KERNELS"
_SOURCE = Path(__file__).with_name("csr_product.cpp")
_LOCK = threading.Lock()
_STATE: dict = {}


def _turned_off() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() in {"0", "off", "false", "no"}


def available() -> bool:
    """Whether the compiled product can be used in this process (compiling it on the first call)."""
    if _turned_off():
        return False
    with _LOCK:
        if "target" not in _STATE:
            _STATE["target"] = _load()
    return _STATE["target"] is not None


def _load():
    try:
        source = _SOURCE.read_text()
        import brainevent
        load = brainevent.load_cpp_inline
    except (OSError, ImportError, AttributeError) as e:
        logger.info("neuralmass: the compiled sparse product is unavailable (%s); using JAX's.", e)
        return None
    # the name carries the source's hash: a changed kernel is a new FFI target, never a stale one
    name = "neuralmass_csr_" + hashlib.sha1(source.encode()).hexdigest()[:12]
    try:
        load(name, source, functions=["csr_product"], extra_cflags=["-O3"])
    except Exception as e:  # noqa: BLE001 - no compiler, no headers, a failed build: fall back
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        logger.info("neuralmass: the compiled sparse product could not be built (%s); using JAX's "
                    "gather + segment sum (about 2x slower on a CPU).", first[:300])
        return None
    return f"{name}.csr_product"


def csr_plan(rows, cols, n: int) -> tuple:
    """``(order, ptr, col, entry)`` for :func:`product` of the ``n``-row matrix with entry ``e``
    at ``(rows[e], cols[e])``: rows sorted by their number of entries, and for each row its
    entries' columns (uint16 when every column fits, else int32) and their indices into the weight
    vector (int32)."""
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    by_row = np.lexsort((cols, rows))
    deg = np.bincount(rows, minlength=n)
    order = np.argsort(deg, kind="stable")
    start = np.r_[0, np.cumsum(deg)[:-1]]
    d = deg[order]
    ptr = np.r_[0, np.cumsum(d)]
    # entries of row order[r], in column order: by_row[start[order[r]] + 0 .. d[r] - 1]
    entry = by_row[np.repeat(start[order] - ptr[:-1], d) + np.arange(ptr[-1])]
    col = cols[entry]
    narrow = col.size == 0 or col.max() < 2 ** 16
    return (order.astype(np.int32), ptr.astype(np.int32), col.astype(np.uint16 if narrow else np.int32),
            entry.astype(np.int32))


def product(plan: tuple, n: int, x, w, fallback):
    """``K @ x`` by the compiled kernel on CPU (``x``: ``(n_in,)`` or lanes-last ``(n_in, B)``,
    ``w``: ``(nnz,)`` or ``(nnz, B)``), ``fallback(x, w)`` elsewhere."""
    # (with a GPU as the default backend the CPU kernel is not even built)
    if (x.dtype not in (jnp.float32, jnp.float64) or jnp.result_type(w) != x.dtype
            or jax.default_backend() != "cpu" or not available()):
        return fallback(x, w)
    if jnp.ndim(w) == 2:
        # weights per lane: the kernel reads x and w with the same lane count (a shared x arrives
        # as (n_in, 1) when only the weights are batched)
        lanes = x.shape[1] if x.ndim == 2 else 1
        if x.ndim != 2 or (lanes != w.shape[1] and 1 not in (lanes, w.shape[1])):
            return fallback(x, w)
        B = max(lanes, w.shape[1])
        x, w = jnp.broadcast_to(x, (x.shape[0], B)), jnp.broadcast_to(w, (w.shape[0], B))
    call = _kernel_call(_STATE["target"], x.ndim, jnp.ndim(w))
    order, ptr, col, entry = plan

    def compiled(x, w):
        # the weights in the kernel's order: a constant (the stored kernel) is permuted at compile time
        return call(jnp.asarray(order), jnp.asarray(ptr), jnp.asarray(col), w[entry], x)

    return jax.lax.platform_dependent(x, w, cpu=compiled, default=fallback)


def _kernel_call(target: str, x_ndim: int, w_ndim: int):
    """The FFI call ``(order, ptr, col, w, x) -> y``; with lanes (``x_ndim == 2``) it tells XLA's
    partitioner that lanes are independent (:func:`jax.experimental.custom_partitioning.custom_partitioning`),
    so lanes placed split over several devices (a ``NamedSharding``) run split, each device its
    own, instead of the whole call on every device."""
    key = ("call", target, x_ndim, w_ndim)
    if key in _STATE:
        return _STATE[key]

    def raw(order, ptr, col, w, x):
        return jax.ffi.ffi_call(target, jax.ShapeDtypeStruct((order.shape[0],) + x.shape[1:], x.dtype))(
            order, ptr, col, w, x)

    if x_ndim == 1:
        _STATE[key] = raw
        return raw
    from jax.experimental.custom_partitioning import custom_partitioning
    from jax.sharding import NamedSharding, PartitionSpec

    call = custom_partitioning(raw)

    def lane_axis(sharding):
        spec = tuple(getattr(sharding, "spec", ())) + (None, None)
        return spec[1]

    def shardings(mesh, arg_shapes):
        lane = lane_axis(arg_shapes[4].sharding)
        laned, whole = NamedSharding(mesh, PartitionSpec(None, lane)), NamedSharding(mesh, PartitionSpec(None))
        return laned, (whole, whole, whole, laned if w_ndim == 2 else whole, laned)

    def partition(mesh, arg_shapes, result_shape):
        out, args = shardings(mesh, arg_shapes)
        return mesh, raw, out, args

    def infer(mesh, arg_shapes, result_shape):
        return shardings(mesh, arg_shapes)[0]

    # factors: m rows out (order), q row pointers, k entries, n rows in, b lanes (the only split one)
    call.def_partition(partition, infer_sharding_from_operands=infer,
                       sharding_rule=f"m, q, k, k{' b' if w_ndim == 2 else ''}, n b -> m b",
                       need_replication_factors=("m", "q", "k", "n"))
    _STATE[key] = call
    return call
