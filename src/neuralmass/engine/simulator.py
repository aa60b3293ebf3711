"""The :class:`Simulator`: chunked, batched, checked runs — a thin layer on the pure core.

It plans a run (:func:`~neuralmass.engine.plan.make_plan`), finds the batch axes, and calls the
cached compiled segments of :mod:`neuralmass.engine.run` chunk by chunk (bounded memory, a
progress bar on long runs), checking for divergence between chunks and attaching units to the
results.
"""

from __future__ import annotations

import math
import threading
from types import SimpleNamespace
from typing import Any, Mapping

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..integrators import get_integrator
from ..monitors import Raw
from ..typing import Array
from ..units import TIME, time_ms
from .budget import check_budget
from .kernel import begin_recording, init_carry
from .plan import make_plan, resolve_compensated
from .program_cache import Program
from .rng import as_key, global_key_data, lane_keys, resolve_key, set_global_key_data, split_global
from .run import axes_key, cached, compiled_segment, default_params, is_native
from .system import as_system

__all__ = ["Simulator", "SimulationDiverged"]


_GLOBAL_KEY_LOCK = threading.Lock()


class SimulationDiverged(FloatingPointError):
    """The state became NaN or infinite."""


class Simulator:
    """Run a node population or a network with the compiled engine.

    Parameters
    ----------
    model : node module, Network, NodeSystem or NodeModel
        What to simulate. A stateful node module (e.g. ``JansenRitModel(in_size=4)``) or a
        :class:`neuralmass.Network`; a bare :class:`NodeModel` is run as a single node.
    dt : float or Quantity
        Integration step (plain numbers are ms).
    method : str, optional
        ``'euler'`` (Euler–Maruyama with noise), ``'heun'`` (stochastic Heun, default) or ``'rk4'``.
    chunk_steps : int, optional
        Upper bound on the steps executed per compiled call; longer runs are chunked (bounded
        memory) and show a progress bar.
    compensated : bool, optional
        Kahan-compensated state updates (:func:`neuralmass.integrators.compensated_add`), so a slow
        variable whose per-step change is below float32 resolution still moves. ``None`` (default)
        follows the node model's policy (on for Epileptor and Epileptor2D); float64 runs never
        need it and skip it.

    Notes
    -----
    Randomness: ``run(key=None)`` draws its key from brainstate's global random state, so
    ``brainstate.random.seed(n)`` makes the following runs reproducible and two unseeded runs
    differ; pass ``key=`` for explicit control (see :mod:`neuralmass.engine.rng`).

    Examples
    --------
    >>> import neuralmass as nm, brainunit as u
    >>> sim = nm.Simulator(nm.HopfStep(1, a=0.25, omega=10 * u.Hz), dt=0.1 * u.ms)
    >>> res = sim.run(1000 * u.ms, monitors=['x'], transient=200 * u.ms)
    >>> res['x'].shape, res['ts'].shape
    ((8000, 1), (8000,))
    """

    def __init__(self, model: Any, dt: Array = 0.1 * u.ms, method: str | None = None,
                 chunk_steps: int = 1_000_000, progress: bool | None = None,
                 compensated: bool | None = None) -> None:
        self.system = as_system(model)
        self.dt = time_ms(dt, "dt")
        if not np.isfinite(self.dt) or self.dt <= 0:
            raise ValueError(f"dt={dt!r} must be a positive time step, e.g. dt=0.1 * u.ms.")
        self.method = method or self.system.method or "heun"
        get_integrator(self.method)
        resolve_compensated(self.system, self.method, compensated)   # a bad value fails here
        self.compensated = compensated
        if chunk_steps < 1:
            raise ValueError(f"chunk_steps={chunk_steps!r} must be >= 1.")
        self.chunk_steps = int(chunk_steps)
        self.progress = progress

    # ---------------------------------------------------------------------- parameters
    def params(self, **overrides) -> dict:
        """Canonical parameter pytree (node parameters, system parameters, noise)."""
        return default_params(self.system, overrides)

    def _prepare(self, duration, monitors, transient, period, inputs):
        return make_plan(self.system, self.dt, self.method, duration, monitors, transient, period, inputs,
                         self.compensated)

    def estimate(self, duration: Array, monitors: Any = None, transient: Array = 0.0,
                 period: Array | None = None, lanes: int = 1):
        """Memory (bytes by part) and wall time (a lower bound) of ``run(duration, monitors,
        transient, period)`` with ``lanes`` batch lanes, planned but not run
        (:func:`neuralmass.engine.budget.estimate_run`, the estimate :meth:`run` checks).

        Returns
        -------
        RunEstimate
        """
        from .budget import estimate_run

        rp = self._prepare(duration, monitors, transient, period, None)
        return estimate_run(self.system, rp, lanes)

    # ---------------------------------------------------------------------- running
    def run(self, duration: Array, monitors: Any = None, transient: Array = 0.0, period: Array | None = None,
            inputs: Mapping | None = None, key: Array | int | None = None, params: Mapping | None = None,
            batch_size: int | None = None, on_divergence: str = "raise", *, jit: bool = True,
            sample_every: int | None = None) -> dict:
        """Simulate for ``duration`` (transient included) and return the recorded signals.

        Parameters
        ----------
        duration : float or Quantity
            Total simulated time (plain numbers are ms), transient included.
        monitors : str, list, Monitor or callable, optional
            Variable or observable names (``['rE']``), :class:`~neuralmass.monitors.Monitor`
            objects (e.g. ``BOLDMonitor``), or a callable such as ``lambda m: m.node.rE.value``
            (recorded under ``'output'``). Default: the model's main output.
        transient : float or Quantity
            Initial time integrated but not recorded.
        period : float or Quantity, optional
            Sampling period of name/callable monitors (default: every step).
        inputs : dict, optional
            External inputs by input name: constants (scalar, per node, or batched), Quantities,
            or functions of time ``f(t_ms)`` evaluated inside the loop.
        key : int or PRNGKey or array of keys, optional
            Noise seed. ``None`` draws one from brainstate's global random state
            (``brainstate.random.seed``). An array of keys of shape ``(B, 2)`` runs ``B`` lanes.
        params : dict, optional
            Parameter overrides (user units). Arrays with a leading batch axis run batched:
            shape ``(B,)`` for a global scalar (e.g. ``k``) or a single node, ``(B, n)`` or
            ``(B, 1)`` for node parameters.
        batch_size : int, optional
            Run ``B`` independent noise realisations of the same parameters.
        on_divergence : {'raise', 'nan'}
            What a state or monitor that becomes NaN/Inf does. ``'raise'`` (default) stops the run
            with :class:`SimulationDiverged`. ``'nan'`` finishes it: every output of a lane that
            diverged is NaN, and ``result['diverged']`` (one bool per lane, or a scalar for an
            unbatched run) says which — for parameter sweeps, where some lanes are expected to
            blow up and the others must not be recomputed.
        jit : bool
            ``False`` runs the same program op by op (``jax.disable_jit``): slow, for debugging
            with prints and breakpoints; the numbers are those of the compiled run.
        sample_every : int, optional
            Record every k-th step: the same as ``period = k * dt`` (give one of the two).

        Returns
        -------
        dict
            One entry per monitor (``(T, n)`` or ``(B, T, n)``, with units where the variable has
            one) plus ``'ts'``, the sample times (ms Quantity) after the transient (and
            ``'diverged'`` with ``on_divergence='nan'``).
        """
        if sample_every is not None:
            k = int(sample_every)
            if k != sample_every or k < 1:
                raise ValueError(f"sample_every={sample_every!r} must be a positive whole number of steps.")
            if period is not None:
                raise TypeError("give either period= or sample_every=, not both.")
            period = k * float(self.dt)
        if not jit:
            with jax.disable_jit():
                return self.run(duration, monitors, transient, period, inputs, key, params, batch_size,
                                on_divergence)
        if on_divergence not in ("raise", "nan"):
            raise ValueError(f"on_divergence={on_divergence!r}: use 'raise' (stop the run) or 'nan' "
                             f"(finish it, NaN outputs for the lanes that diverged).")
        check = on_divergence == "raise"
        rp = self._prepare(duration, monitors, transient, period, inputs)
        plan, n_trans, n_outer = rp.plan, rp.n_trans, rp.n_outer
        P = self.params(**dict(params or {}))
        consts = rp.consts
        key, B, axes = self._batching(P, consts, key, batch_size)
        # memory (refused) and time (warned) estimated before any work
        check_budget(self.system, rp, max(B, 1), "simulation")
        carry = self._init(plan, P, key, B, axes)
        chunk_outer = max(1, self.chunk_steps // plan.inner)
        n_t_chunks = math.ceil(n_trans / max(self.chunk_steps, 1))
        n_r_chunks = math.ceil(n_outer / chunk_outer)
        total = n_t_chunks + n_r_chunks
        show = self.progress if self.progress is not None else total > 2
        bar = _progress(total, show, desc="simulating")
        # transient: blocks of `block` steps (noise drawn per block), then the remainder
        block = plan.inner if plan.inner > 1 else max(1, min(64, n_trans))
        n_blocks, rest = divmod(n_trans, block)
        per_call = max(1, self.chunk_steps // block)
        while n_blocks > 0:
            m = min(n_blocks, per_call)
            carry, _ = compiled_segment(self.system, rp, plan.with_inner(block), m, False, axes)(P, carry, consts)
            n_blocks -= m
            if check:
                self._check(carry, B, plan, P)
            bar.update(1)
        if rest:
            carry, _ = compiled_segment(self.system, rp, plan.with_inner(1), rest, False, axes)(P, carry, consts)
            if check:
                self._check(carry, B, plan, P)
        carry = self._begin(plan, P, carry, axes)
        outs = []
        left = n_outer
        t_axis = 1 if (B and not is_native(axes)) else 0
        while left > 0:
            m = min(left, chunk_outer)
            carry, o = compiled_segment(self.system, rp, plan, m, True, axes)(P, carry, consts)
            if check:
                self._check(carry, B, plan, P)
            # a monitor sampled every r-th outer iteration returns zeros in between: keep only its
            # samples now, so what a long run holds grows with its samples, not with its steps
            done = n_outer - left
            outs.append(tuple(np.asarray(x) if r == 1 else
                              np.take(np.asarray(x), np.flatnonzero((done + np.arange(m) + 1) % r == 0), axis=t_axis)
                              for x, r in zip(o, plan.ratios)))
            left -= m
            bar.update(1)
        bar.close()
        self.last_state = carry[0]
        if check:
            return self._results(rp, outs, B, axes)
        diverged = np.asarray(carry[-1]) >= 0          # (B, n_vars) or (n_vars,)
        return self._results(rp, outs, B, axes, diverged=diverged.any(axis=-1))

    def _results(self, rp, outs, B, axes, diverged=None):
        """Outputs with units. ``diverged`` (``on_divergence='nan'``): lanes whose state stopped
        being finite; lanes whose monitors did are added, and all their outputs become NaN."""
        plan, n_trans, n_outer = rp.plan, rp.n_trans, rp.n_outer
        result = {}
        # batched runs that read their delay line for all lanes return time-major (T, B, ...)
        # blocks; they are returned as (B, T, ...) views without another copy
        time_major = bool(B) and is_native(axes)
        t_axis = 1 if (B and not time_major) else 0
        rmin = min(plan.ratios)
        keys = [m.key for m in plan.monitors]
        for idx, (mon, r) in enumerate(zip(plan.monitors, plan.ratios)):
            parts = [o[idx] for o in outs]
            arr = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=t_axis)
            # (monitors sampled every r-th outer iteration were thinned chunk by chunk in run())
            if diverged is not None:
                lane_axis = 1 if time_major else 0
                if not _all_finite(arr):
                    axes_ = tuple(a for a in range(arr.ndim) if a != lane_axis) if B else None
                    diverged = diverged | ~np.isfinite(arr).all(axis=axes_)
            elif not _all_finite(arr):
                bad_t = np.argwhere(~np.isfinite(arr).all(axis=tuple(a for a in range(arr.ndim) if a != t_axis)))
                j = int(bad_t[0, 0]) * r + r - 1
                raise SimulationDiverged(
                    f"monitor {mon.key!r} produced NaN/Inf at sample {int(bad_t[0, 0])} (t = "
                    f"{(n_trans + plan.inner * (j + 1)) * self.dt:g} ms) while the model state stayed "
                    f"finite: {mon.out_of_range()}")
            if time_major:
                arr = np.swapaxes(arr, 0, 1)
            unit = mon.unit if not isinstance(mon, Raw) else self.system.output_unit(mon.variable)
            result[mon.key] = u.Quantity(arr, unit=unit) if unit is not None else arr
            if r != rmin:
                ts_m = (n_trans + plan.inner * (np.arange(r - 1, n_outer, r) + 1)) * self.dt
                result[f"ts_{mon.key}"] = u.Quantity(ts_m, unit=TIME)
        ts = (n_trans + plan.inner * (np.arange(rmin - 1, n_outer, rmin) + 1)) * self.dt
        result["ts"] = u.Quantity(ts, unit=TIME)
        if diverged is not None:
            result = {k: _nan_lanes(v, diverged) if k in keys else v for k, v in result.items()}
            result["diverged"] = diverged
        return result

    def _begin(self, plan, P, carry, axes):
        system = self.system
        carry_axes = None if axes is None else axes[1]
        fn = cached(("begin", plan, axes_key(axes)), lambda: Program(
            _over_lanes(lambda p, c: begin_recording(system, plan, p, c), axes, carry_axes), "begin"))
        return fn(P, carry)

    def _init(self, plan, P, key, B, axes):
        """The carry at step 0 of every lane. The keys are derived inside the same compiled
        program: brainstate's global key is split there when ``key`` is ``None`` (exactly as
        :func:`brainstate.random.split_key` does) and a single key is split into ``B`` lane keys
        (:func:`~neuralmass.engine.rng.lane_keys`), so a run compiles no separate key programs."""
        system = self.system
        native = system.delay_state_keys(plan.dt) if is_native(axes) else ()
        with _GLOBAL_KEY_LOCK:
            bits = global_key_data() if key is None else None
            if key is None and bits is None:
                key = resolve_key(None)
            lanes_given = key is not None and key.ndim == 2

            def init(p, k):
                new_global = None
                if bits is not None:
                    new_global, k = split_global(k)
                if B and not lanes_given:
                    k = lane_keys(k, B)
                return new_global, _over_lanes(lambda p_, k_: init_carry(system, plan, p_, k_, native),
                                               axes, 0)(p, k)

            fn = cached(("init", plan, axes_key(axes), bits is not None, lanes_given, B),
                        lambda: Program(init, "init"))
            new_global, carry = fn(P, key if bits is None else bits)
            if new_global is not None:
                set_global_key_data(new_global)
        return carry

    def _batching(self, P, consts, key, batch_size):
        """Find the batch size and build vmap axes for params, carry and inputs."""
        n = self.system.n
        sizes = {}
        per_node_top = self.system.per_node_params()

        def lead(name, v, per_node):
            v = jnp.asarray(v)
            if v.ndim == 0:
                return None
            if per_node:
                if v.ndim == 1:
                    if v.shape[0] == n and n > 1:
                        return None
                    if n == 1:
                        return v.shape[0]
                    raise ValueError(
                        f"params[{name!r}] has shape {v.shape}, which is neither per-node (n={n}) nor a "
                        f"batch; pass shape (B, 1) for a batch of B values or (B, {n}) for per-node batches.")
                return v.shape[0]
            return v.shape[0]

        node_axes = {}
        for k, v in P["node"].items():
            b = lead(k, v, True)
            node_axes[k] = None if b is None else 0
            if b is not None:
                sizes[f"params[{k!r}]"] = b
        sys_axes = {}
        for k, v in P.items():
            if k in ("node", "noise"):
                continue
            sys_axes[k] = jax.tree.map(lambda _: None, v)
            if not isinstance(v, dict):
                b = lead(k, v, per_node_top.get(k, False))
                if b is not None:
                    sizes[f"params[{k!r}]"] = b
                    sys_axes[k] = 0
        noise_axes = jax.tree.map(lambda _: None, P["noise"])
        for name, d in P["noise"].items():
            for kk, v in d.items():
                b = lead(f"noise.{name}.{kk}", v, True)
                if b is not None:
                    sizes[f"noise {name}.{kk}"] = b
                    noise_axes[name][kk] = 0
        const_axes = {}
        for k, v in consts.items():
            b = lead(f"inputs[{k!r}]", v, True)
            const_axes[k] = None if b is None else 0
            if b is not None:
                sizes[f"inputs[{k!r}]"] = b
        key_arr = None if key is None else as_key(key)  # None: brainstate's global key (see _init)
        if key_arr is not None and key_arr.ndim == 2:
            sizes["key"] = key_arr.shape[0]
        if batch_size is not None:
            sizes["batch_size"] = int(batch_size)
        if not sizes:
            return key_arr, 0, None
        vals = set(sizes.values())
        if len(vals) > 1:
            raise ValueError(f"inconsistent batch sizes: {sizes}; all batched arguments must share B.")
        B = vals.pop()
        p_axes = {"node": node_axes, "noise": noise_axes, **sys_axes}
        # the step counter is shared by all lanes (unbatched), so index-dependent control flow of
        # a system (e.g. blocked delay reads under lax.cond) stays a branch instead of a select;
        # a delay line is read for all lanes at once, its buffers kept lanes-last (axis -1)
        extra_axes = (0, -1) if self.system.delay_state_keys(self.dt) else 0
        carry_axes = (0, extra_axes, 0, 0, None, 0, 0, 0, 0)
        return key_arr, B, (p_axes, carry_axes, const_axes)

    def _check(self, carry, B, plan=None, params=None):
        """Raise :class:`SimulationDiverged` after a chunk whose model state, or (with ``plan``)
        one of whose monitor states, stopped being finite: a long run stops at the chunk where it
        went wrong, not at the end."""
        bad = np.asarray(carry[-1])
        if np.all(bad < 0):
            if plan is not None:
                for m, (ms, _) in zip(plan.monitors, carry[5]):
                    if not all(_all_finite(np.asarray(a)) for a in jax.tree.leaves(ms)):
                        raise SimulationDiverged(
                            f"monitor {m.key!r} stopped being finite by step {int(np.max(carry[4]))} "
                            f"(t = {int(np.max(carry[4])) * self.dt:g} ms) while the model state "
                            f"stayed finite: {m.out_of_range()}")
            return
        names = self.system.node_model.state_names
        if bad.ndim == 1:
            bad = bad[None]
        lane, var = np.argwhere(bad >= 0)[0]
        step = int(bad[lane, var])
        where = f" in batch lane {lane}" if B else ""
        hint = getattr(self.system, "divergence_hint", None)
        hint = hint(params) if (hint is not None and params is not None) else None
        advice = hint or (f"Try a smaller dt (now {self.dt:g} ms), the 'heun' or 'rk4' method (now "
                          f"{self.method!r}), or check parameters and inputs.")
        raise SimulationDiverged(
            f"the state variable {names[var]!r} became NaN/Inf at step {step} (t = {step * self.dt:g} ms)"
            f"{where}. {advice}")


def _over_lanes(fn, axes, second_axis):
    """``fn(params, x)`` as it is (unbatched, ``axes`` None) or vmapped over the lanes: params by
    their batching axes, ``x`` along ``second_axis``, the carry out along the carry's axes."""
    if axes is None:
        return fn
    return jax.vmap(fn, in_axes=(axes[0], second_axis), out_axes=axes[1])


def _nan_lanes(x, diverged):
    """``x`` (``(B, ...)``, or unbatched with a scalar ``diverged``) with the diverged lanes NaN."""
    if not np.any(diverged):
        return x
    unit = x.unit if isinstance(x, u.Quantity) else None
    mag = np.asarray(u.get_magnitude(x) if unit is not None else x)
    arr = mag.astype(np.result_type(mag.dtype, np.float32), copy=True)
    if np.ndim(diverged) == 0:
        arr[...] = np.nan
    else:
        arr[np.asarray(diverged)] = np.nan
    return u.Quantity(arr, unit=unit) if unit is not None else arr


def _all_finite(arr) -> bool:
    """Whether every value is finite — one pass without a boolean temporary in the usual case."""
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.floating):
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(arr, dtype=np.float64)):
            return True
    return bool(np.isfinite(arr).all())


def _progress(total, show, desc):
    if show:
        from tqdm.auto import tqdm
        return tqdm(total=total, desc=desc, unit="chunk")
    return SimpleNamespace(update=lambda *_: None, close=lambda: None)
