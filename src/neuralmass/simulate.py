"""The compiled simulation engine and the :class:`Simulator` front end.

The engine is a pure function of ``(params, initial state, key)`` built from :func:`jax.lax.scan`:

* parameters (node parameters, coupling strength, noise amplitudes …) are **traced** arguments,
  so a new value never recompiles, and compiled segments are cached by structure and shape: a
  second :meth:`Simulator.run` of the same shape compiles nothing;
* monitors reduce inside the loop (:mod:`neuralmass.monitors`); the transient is integrated
  without being stored;
* long runs are executed in chunks of bounded memory with a progress bar, the state (including
  delay buffers and monitor state) carried from chunk to chunk;
* a leading batch axis on any parameter or on the key runs the whole simulation under
  :func:`jax.vmap`, each lane with its own independent random stream.

Systems
-------
The engine integrates a *system*: an object with the attributes used below. A single population
of ``n`` uncoupled nodes is :class:`NodeSystem`; :class:`neuralmass.Network` adds coupling
and delays through the same hooks (``init_extra``, ``coupling_inputs``, ``push``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Mapping, Sequence

import brainunit as u
import jax
import jax.numpy as jnp
import jax.scipy.special  # noqa: F401  (erfinv)
import numpy as np

from .integrators import get_integrator
from .models.base import NodeModel
from .monitors import Expression, Monitor, Raw
from .units import TIME, is_quantity, time_ms, to_canonical

__all__ = ["NodeSystem", "Simulator", "SimulationDiverged", "trace_count", "lane_keys", "make_run_fn"]

_TRACES = {"segment": 0}

#: steps of standard normals drawn per random-number call (see ``_make_step``)
NOISE_BLOCK = 64



def standard_normals(key, block, shape, dtype=jnp.float32):
    """Standard normal draws of noise block ``block`` of the stream ``key`` (pure, counter-based).

    The bits come from XLA's Threefry bit generator (:func:`jax.lax.rng_bit_generator` with
    ``RNG_THREE_FRY``) keyed by ``fold_in(key, block)``, so the stream depends only on the key and
    the block index — not on chunking, monitors or batching — and costs about 2.5x less on CPUs
    than :func:`jax.random.normal`. Uniforms ``u = (m + 1/2) 2^-23`` from the top 23 bits ``m``
    lie strictly inside (0, 1), and ``z = sqrt(2) erfinv(2u - 1)`` is inverse-CDF sampling
    (|z| <= 5.33, the same tail cut as :func:`jax.random.normal` in float32). Under
    :func:`jax.vmap` every lane draws from its own key (a batching rule maps over the keys: XLA's
    generator would otherwise serve all lanes from the first key). As for every XLA bit
    generator, the bits may differ between JAX versions or backends; a given installation
    reproduces them exactly.
    """
    return _normals_fn(tuple(int(d) for d in shape), jnp.dtype(dtype))(key, jnp.asarray(block, jnp.uint32))


_NORMALS: dict = {}
_LANE_GROUP = 64   # lanes drawn per unrolled group in batched runs


def _normals_fn(shape, dtype):
    fn = _NORMALS.get((shape, dtype))
    if fn is not None:
        return fn

    @jax.custom_batching.custom_vmap
    def draw(key, block):
        k = jax.random.fold_in(key, block)
        if jnp.issubdtype(k.dtype, jax.dtypes.prng_key):
            k = jax.random.key_data(k)
        state = jnp.concatenate([k.reshape(-1)[:2].astype(jnp.uint32), jnp.zeros(2, jnp.uint32)])
        _, bits = jax.lax.rng_bit_generator(state, shape, jnp.uint32,
                                            algorithm=jax.lax.RandomAlgorithm.RNG_THREE_FRY)
        # v = 2u - 1 with u = (m + 1/2) 2^-23 from the top 23 bits m: an odd integer over 2^23,
        # exact in float32 and never +-1
        m = (bits >> 9).astype(jnp.int32)
        v = (2 * m + 1 - (1 << 23)).astype(jnp.float32) * (2.0 ** -23)
        return (np.sqrt(2.0) * jax.scipy.special.erfinv(v)).astype(dtype)

    @draw.def_vmap
    def _draw_lanes(axis_size, in_batched, key, block):
        key_b, block_b = in_batched
        if not key_b:
            key = jnp.broadcast_to(key, (axis_size,) + key.shape)
        if not block_b:
            block = jnp.broadcast_to(block, (axis_size,))

        def lanes(k, b):   # one generator call per lane, unrolled (a loop costs ~2x more)
            return jnp.stack([draw(k[j], b[j]) for j in range(k.shape[0])])

        g = _LANE_GROUP
        full = (axis_size // g) * g
        parts = []
        if full:
            grouped = jax.lax.map(lambda kb: lanes(*kb),
                                  (key[:full].reshape((-1, g) + key.shape[1:]), block[:full].reshape(-1, g)))
            parts.append(grouped.reshape((full,) + grouped.shape[2:]))
        if full < axis_size:
            parts.append(lanes(key[full:], block[full:]))
        return (parts[0] if len(parts) == 1 else jnp.concatenate(parts)), True

    _NORMALS[(shape, dtype)] = draw
    return draw


def trace_count() -> int:
    """Number of times a simulation segment has been traced (compiled) in this process."""
    return _TRACES["segment"]


class SimulationDiverged(FloatingPointError):
    """The state became NaN or infinite."""


def lane_keys(key, batch_size: int):
    """The per-lane keys a batched run of ``batch_size`` lanes uses for ``key``.

    ``Simulator.run(..., key=key)`` with a batch of ``B`` lanes runs lane ``b`` with
    ``lane_keys(key, B)[b]``; a single run with that key reproduces the lane exactly.
    """
    key = _as_key(key)
    return jax.random.split(key, batch_size)


def _as_key(key):
    if key is None:
        key = 0
    if isinstance(key, (int, np.integer)):
        return jax.random.PRNGKey(int(key))
    return jnp.asarray(key)


# --------------------------------------------------------------------------------------- systems
class _Reader:
    """``read(name)`` for monitors, plus ``.view`` for callable monitors."""

    def __init__(self, system, state, params):
        self._system, self._state, self._params = system, state, params

    def __call__(self, name):
        return self._system.read(name, self._state, self._params)

    @property
    def view(self):
        return self._system.view(self._state, self._params)


class _VarView:
    def __init__(self, value):
        self.value = value


class NodeSystem:
    """``n`` uncoupled copies of a node model (the engine's simplest system).

    Parameters
    ----------
    model : NodeModel
    n : int
        Number of nodes.
    params : dict
        Parameter overrides (user units).
    noise : dict
        Input name -> :class:`~neuralmass.noise.NoiseSpec` (or a noise module with ``.spec``).
    init : dict, optional
        Initial state values (canonical units), broadcastable to ``(n,)``.
    """

    def __init__(self, model: NodeModel, n: int = 1, params: Mapping | None = None,
                 noise: Mapping | None = None, init: Mapping | None = None, method: str = "heun"):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n={n!r} must be a positive integer number of nodes.")
        self.model = model
        self.n = int(n)
        self.user_params = dict(params or {})
        self.noise = {k: (v.spec if hasattr(v, "spec") else v) for k, v in (noise or {}).items() if v is not None}
        for k in self.noise:
            model.input(k)  # raises a clear KeyError for unknown inputs
        self.init = dict(init or {})
        self.method = method

    # --- structure ------------------------------------------------------------------------
    def structure_key(self):
        return ("node", self.model, self.n, tuple(sorted((k, v.kind) for k, v in self.noise.items())))

    @property
    def node_model(self) -> NodeModel:
        return self.model

    def param_spec(self, name):
        return self.model.param(name)

    def canonical_params(self, overrides: Mapping | None = None) -> dict:
        merged = {**self.user_params, **dict(overrides or {})}
        return self.model.canonical_params(merged)

    def noise_params(self) -> dict:
        out = {}
        for name, spec in self.noise.items():
            inp = self.model.input(name)
            if spec.kind == "white":
                # sigma in input-unit * sqrt(ms): convert the input part only
                sig = to_canonical(spec.sigma, f"noise on {name}: sigma", inp.unit, inp.canonical) \
                    if not is_quantity(spec.sigma) or spec.sigma.dim == (inp.unit.dim if inp.unit is not None else spec.sigma.dim) \
                    else jnp.asarray(spec.sigma.mantissa)
                out[name] = {"sigma": jnp.asarray(sig, dtype=float)}
            else:
                out[name] = {
                    "sigma": jnp.asarray(inp.to_canonical(spec.sigma) if not (inp.unit is None and is_quantity(spec.sigma)) else spec.sigma.mantissa, dtype=float),
                    "mean": jnp.asarray(inp.to_canonical(spec.mean) if not (inp.unit is None and is_quantity(spec.mean)) else spec.mean.mantissa, dtype=float),
                    "tau": jnp.asarray(spec.tau, dtype=float),
                }
        return out

    def initial_state(self, key=None) -> dict:
        st = self.model.initial_state(self.n)
        for k, v in self.init.items():
            self.model.state(k)
            st[k] = jnp.broadcast_to(jnp.asarray(v, dtype=float), (self.n,))
        return st

    # --- dynamics hooks -------------------------------------------------------------------
    def init_extra(self, state, params, dt, key):
        return ()

    def coupling_inputs(self, extra, state, params, i, dt):
        return {}, extra

    def push(self, extra, state, params, i, dt):
        return extra

    def read(self, name, state, params):
        return self.model.read(name, state, params["node"])

    def view(self, state, params):
        ns = {k: _VarView(v) for k, v in state.items()}
        for o in self.model.observables:
            ns[o.name] = _VarView(o.fn(state, params["node"]))
        node = SimpleNamespace(**ns)
        root = SimpleNamespace(**ns)
        root.node = node
        return root

    def output_unit(self, name):
        try:
            return self.model.variable_unit(name)
        except KeyError:
            return None


# --------------------------------------------------------------------------------------- engine
@dataclass(frozen=True)
class _Plan:
    """Static structure of a compiled run (its hash keys the compile cache)."""

    system_key: Any
    dt: float
    method: str
    monitors: tuple
    inner: int                  # steps per outer iteration (gcd of the monitor periods)
    input_kinds: tuple          # (name, 'const'|'fn') for external inputs
    ratios: tuple = ()          # outer iterations per sample, per monitor


_CACHE: dict = {}


def _external_inputs(model: NodeModel, inputs: Mapping | None, n: int):
    """Split user inputs into traced constants and time functions (canonical units)."""
    consts, fns = {}, {}
    for name, val in (inputs or {}).items():
        inp = model.input(name)
        if callable(val) and not is_quantity(val):
            fns[name] = (val, inp)
        else:
            consts[name] = inp.to_canonical(val)
    return consts, fns


def _make_step(system, plan: _Plan, fns, native: bool = False):
    """One integration step of one lane: ``step(carry, params, ext_const) -> carry``.

    With ``native=True`` (batched runs of a system with a delay line) the delayed sums are read by
    the caller for all lanes at once: the step is ``step(carry, params, ext_const, delayed) ->
    (carry, h)``, where ``h`` is what the lane sends into the delay line.
    """
    model = system.node_model
    integrate = get_integrator(plan.method)
    dt = plan.dt
    drift = model.drift

    def step(carry, params, ext_const, delayed=None):
        state, extra, nstate, key, i, mon, bad = carry
        inputs = {name: jnp.zeros(()) for name in model.input_names}
        for name, v in ext_const.items():
            inputs[name] = inputs[name] + v
        t = i * dt
        for name, (fn, inp) in fns.items():
            inputs[name] = inputs[name] + inp.to_canonical(fn(t))
        # noise: standard normals come from a block of NOISE_BLOCK steps drawn at once (one RNG
        # call per block instead of per step); the stream depends only on the key and step index
        # (the carried key never changes)
        if nstate:
            states, buf = nstate["states"], nstate["xi"]

            buf = jax.lax.cond(i % NOISE_BLOCK == 0,
                               lambda: standard_normals(key, i // NOISE_BLOCK, buf.shape, buf.dtype),
                               lambda: buf)
            xi = buf[i % NOISE_BLOCK]
            new_s = {}
            for row, name in enumerate(sorted(states)):
                p = params["noise"][name]
                st = states[name]
                if st is None:  # white: sigma * xi / sqrt(dt) -> Euler–Maruyama increment
                    val = p["sigma"] * xi[row] / jnp.sqrt(dt)
                else:  # Ornstein–Uhlenbeck, exact discretisation
                    decay = jnp.exp(-dt / p["tau"])
                    st = p["mean"] + (st - p["mean"]) * decay + p["sigma"] * jnp.sqrt(1 - decay ** 2) * xi[row]
                    val = st
                new_s[name] = st
                inputs[name] = inputs[name] + val
            nstate = {"states": new_s, "xi": buf}
        if native:
            coupled, extra = system.coupling_inputs(extra, state, params, i, dt, delayed=delayed)
        else:
            coupled, extra = system.coupling_inputs(extra, state, params, i, dt)
        for name, v in coupled.items():
            inputs[name] = inputs[name] + v
        state = integrate(drift, state, params["node"], inputs, dt)
        if native:
            h = system.delay_source(state, params)
        else:
            extra = system.push(extra, state, params, i, dt)
        reader = _Reader(system, state, params)
        mon = tuple((m.step(ms, reader, dt), cnt) for m, (ms, cnt) in zip(plan.monitors, mon))
        # first non-finite step, per state variable
        finite = jnp.stack([jnp.all(jnp.isfinite(state[k])) for k in model.state_names])
        bad = jnp.where((bad < 0) & ~finite, i, bad)
        carry = (state, extra, nstate, key, i + 1, mon, bad)
        return (carry, h) if native else carry

    return step


def _native_keys(system, dt) -> tuple:
    """Carried-state keys a system lets the engine batch natively (its delay line), or ``()``."""
    fn = getattr(system, "delay_state_keys", None)
    return tuple(fn(dt)) if fn is not None else ()


def _batched_step(system, plan: _Plan, fns, axes):
    """One step of all lanes of a batched run whose system has a delay line.

    Everything per lane (noise, node dynamics, monitors) runs under :func:`jax.vmap`; the delay
    line is read and written once for all lanes, with its buffers laid out lanes-last
    ``(n, 2L, B)``, so each edge's read is one contiguous copy of ``K * B`` values instead of ``B``
    separate small gathers (the vmapped per-edge gather is the slow part of batched delayed
    networks on CPUs). The carry's ``extra`` is ``(per-lane part, delay-line part)``.
    """
    p_axes, c_axes, e_axes = axes
    lane_axes = (c_axes[0], c_axes[1][0]) + tuple(c_axes[2:])
    lane = jax.vmap(_make_step(system, plan, fns, native=True),
                    in_axes=(lane_axes, p_axes, e_axes, -1), out_axes=(lane_axes, -1))
    dt = plan.dt

    def step(carry, params, params_last, ext_const):
        state, (rest, line), nstate, key, i, mon, bad = carry
        s, line = system.read_delays(line, params_last, i, dt)
        lane_carry, h = lane((state, rest, nstate, key, i, mon, bad), params, ext_const, s)
        state, rest, nstate, key, i1, mon, bad = lane_carry
        line = system.write_delays(line, h, i, dt)
        return (state, (rest, line), nstate, key, i1, mon, bad)

    return step


def _lanes_last(params, p_axes):
    """``params`` with every batched leaf's lane axis moved last (the delay line's layout)."""
    return jax.tree.map(lambda ax, a: a if ax is None else jnp.moveaxis(a, ax, -1), p_axes, params,
                        is_leaf=lambda x: x is None)


def _sampler(system, plan: _Plan):
    """``sample(params, carry) -> (carry, outputs)``: every monitor's sample of one lane."""

    def sample(params, c):
        state, extra, nstate, key, i, mon, bad = c
        reader = _Reader(system, state, params)
        outs, new_mon = [], []
        for m, r, (ms, cnt) in zip(plan.monitors, plan.ratios, mon):
            if r == 1:
                ms, o = m.sample(ms, reader)
            else:
                # sample every r-th outer iteration; zeros in between (dropped on the host)
                cnt = cnt + 1
                shape = jax.eval_shape(lambda s_: m.sample(s_, reader)[1], ms)
                ms, o = jax.lax.cond(
                    cnt >= r, lambda s_: m.sample(s_, reader),
                    lambda s_: (s_, jnp.zeros(shape.shape, shape.dtype)), ms)
                cnt = jnp.where(cnt >= r, 0, cnt)
            new_mon.append((ms, cnt))
            outs.append(o)
        return (state, extra, nstate, key, i, tuple(new_mon), bad), tuple(outs)

    return sample


def _segment_fn(system, plan: _Plan, fns, n_outer: int, record: bool, lanes=None):
    """Pure function advancing ``n_outer * plan.inner`` steps, recording when ``record``.

    ``lanes``: the vmap axes of a batched run whose system reads its delay line for all lanes at
    once (:func:`_batched_step`); ``None`` for a single lane (batched runs of other systems vmap
    this function as a whole).
    """
    sample = _sampler(system, plan)
    if lanes is None:
        step = _make_step(system, plan, fns)
    else:
        p_axes, c_axes, _ = lanes
        bstep = _batched_step(system, plan, fns, lanes)
        sample = jax.vmap(sample, in_axes=(p_axes, c_axes), out_axes=(c_axes, 0))

    def run(params, carry, ext_const):
        _TRACES["segment"] += 1
        if lanes is None:
            body = lambda c: step(c, params, ext_const)  # noqa: E731
        else:
            params_last = _lanes_last(params, lanes[0])
            body = lambda c: bstep(c, params, params_last, ext_const)  # noqa: E731

        def inner(c, _):
            return body(c), None

        def outer(c, _):
            c, _ = jax.lax.scan(inner, c, None, length=plan.inner)
            if not record:
                return c, None
            return sample(params, c)

        # batched (lanes) runs return time-major (T, B, ...) outputs; the Simulator swaps the axes
        return jax.lax.scan(outer, carry, None, length=n_outer)

    return run


def _begin_recording(system, plan, params, carry):
    """Let monitors reset accumulators when recording starts (after the transient)."""
    state, extra, nstate, key, i, mon, bad = carry
    reader = _Reader(system, state, params)
    mon = tuple((m.begin(ms, reader), jnp.zeros_like(cnt)) for m, (ms, cnt) in zip(plan.monitors, mon))
    return (state, extra, nstate, key, i, mon, bad)


def _init_carry(system, plan, params, key, native: tuple = ()):
    state = system.initial_state()
    key, k_extra, k_noise = jax.random.split(key, 3)
    extra = system.init_extra(state, params, plan.dt, k_extra)
    if native:   # batched run with a delay line: (per-lane part, delay-line part)
        extra = ({k: v for k, v in extra.items() if k not in native},
                 {k: v for k, v in extra.items() if k in native})
    states = {}
    for name in sorted(params["noise"]):
        p = params["noise"][name]
        if "tau" in p:
            # start the OU process in its stationary distribution
            k_noise, kk = jax.random.split(k_noise)
            states[name] = p["mean"] + p["sigma"] * jax.random.normal(kk, (system.n,))
        else:
            states[name] = None
    nstate = {"states": states, "xi": jnp.zeros((NOISE_BLOCK, len(states), system.n))} if states else {}
    reader = _Reader(system, state, params)
    mon = tuple((m.init(reader, plan.dt), jnp.zeros((), jnp.int32)) for m in plan.monitors)
    bad = jnp.full((len(system.node_model.state_names),), -1, dtype=jnp.int32)
    return (state, extra, nstate, key, jnp.asarray(0, dtype=jnp.int32), mon, bad)


def _split(n: int, segments: int):
    """``n = S * q + r``: ``S`` (about ``segments``) equal pieces of ``q`` steps plus ``r``."""
    segments = max(1, min(int(segments), n))
    q = n // segments
    return segments, q, n - segments * q


def make_run_fn(system, dt, duration, *, monitors=None, transient=0.0, period=None,
                method=None, inputs=None, remat: int | None = None):
    """A pure, differentiable ``run(params, key) -> dict`` for fitting and inference.

    The whole run (transient + recording) is built from ``lax.scan`` with no host-side checks, so
    it can be wrapped in :func:`jax.grad`, :func:`jax.vmap` or :func:`jax.jit`. ``params`` is the
    canonical parameter pytree returned by ``Simulator.params()``.

    Parameters
    ----------
    remat : int, optional
        Gradient checkpointing: the transient and the recording are each split into about
        ``remat`` equal segments wrapped in :func:`jax.checkpoint`, so reverse-mode
        differentiation stores the state only at segment boundaries and recomputes inside a
        segment — memory grows like ``remat + steps / remat`` instead of ``steps`` for about one
        extra forward pass (``remat ≈ sqrt(steps)`` is the usual choice).
    """
    sim = Simulator(system, dt=dt, method=method)
    plan, n_trans, n_outer, fns, consts = sim._prepare(duration, monitors, transient, period, inputs)
    system = sim.system
    ck = jax.checkpoint if remat else (lambda f: f)
    S = int(remat) if remat else 1

    def pieces_for(n, inner, record):
        out = []
        if n:
            segs, q, r = _split(n, S)
            if q:
                out.append((ck(_segment_fn(system, _replace_inner(plan, inner), fns, q, record)), segs))
            if r:
                out.append((ck(_segment_fn(system, _replace_inner(plan, inner), fns, r, record)), 1))
        return out

    trans = pieces_for(n_trans, 1, False)
    rec = pieces_for(n_outer, plan.inner, True)

    def apply(pieces, params, carry):
        outs = []
        for fn, count in pieces:
            if count == 1:
                carry, o = fn(params, carry, consts)
            else:
                carry, o = jax.lax.scan(lambda c, _, fn=fn: fn(params, c, consts), carry, None, length=count)
                o = None if o is None else jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), o)
            outs.append(o)
        return carry, outs

    def run(params, key):
        carry = _init_carry(system, plan, params, _as_key(key))
        carry, _ = apply(trans, params, carry)
        carry = _begin_recording(system, plan, params, carry)
        carry, outs = apply(rec, params, carry)
        result = {}
        for idx, (m, r) in enumerate(zip(plan.monitors, plan.ratios)):
            o = jnp.concatenate([out[idx] for out in outs], axis=0)
            result[m.key] = o if r == 1 else o[r - 1::r]
        return result

    run.monitor_keys = tuple(m.key for m in plan.monitors)
    run.n_steps = n_trans + n_outer * plan.inner
    return run


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

    Examples
    --------
    >>> import neuralmass as nm, brainunit as u
    >>> sim = nm.Simulator(nm.HopfStep(1, a=0.25, omega=10 * u.Hz), dt=0.1 * u.ms)
    >>> res = sim.run(1000 * u.ms, monitors=['x'], transient=200 * u.ms)
    >>> res['x'].shape, res['ts'].shape
    ((8000, 1), (8000,))
    """

    def __init__(self, model, dt=0.1 * u.ms, method: str | None = None, chunk_steps: int = 1_000_000,
                 progress: bool | None = None):
        self.system = _as_system(model)
        self.dt = time_ms(dt, "dt")
        if not np.isfinite(self.dt) or self.dt <= 0:
            raise ValueError(f"dt={dt!r} must be a positive time step, e.g. dt=0.1 * u.ms.")
        self.method = method or getattr(self.system, "method", None) or "heun"
        get_integrator(self.method)
        if chunk_steps < 1:
            raise ValueError(f"chunk_steps={chunk_steps!r} must be >= 1.")
        self.chunk_steps = int(chunk_steps)
        self.progress = progress

    # ---------------------------------------------------------------------- parameters
    def params(self, **overrides) -> dict:
        """Canonical parameter pytree (node parameters, system parameters, noise)."""
        sysp = self.system.canonical_params(
            {k: v for k, v in overrides.items() if k != "noise"})
        out = {"node": sysp["node"] if "node" in sysp else sysp}
        if "node" in sysp:
            out.update({k: v for k, v in sysp.items() if k != "node"})
        out["noise"] = self.system.noise_params()
        return out

    # ---------------------------------------------------------------------- planning
    def _resolve_monitors(self, monitors, period_ms) -> tuple:
        sysm = self.system.node_model
        if monitors is None:
            monitors = [sysm.output or sysm.state_names[0]]
        if isinstance(monitors, (str, Monitor)) or (callable(monitors) and not isinstance(monitors, Sequence)):
            monitors = [monitors]
        out = []
        for m in monitors:
            if isinstance(m, str):
                try:
                    sysm.read(m, sysm.initial_state(1), sysm.default_params())
                except KeyError as e:
                    raise ValueError(f"monitors: {e.args[0]}") from None
                out.append(Raw(variable=m, period=period_ms))
            elif isinstance(m, Monitor):
                out.append(m)
            elif callable(m):
                out.append(Expression(fn=m, period=period_ms))
            else:
                raise TypeError(f"monitors entry {m!r} is not a variable name, a Monitor or a callable.")
        keys = [m.key for m in out]
        if len(set(keys)) != len(keys):
            raise ValueError(f"monitors have duplicate names {keys}; give Monitor(name=...) to distinguish.")
        return tuple(out)

    def _prepare(self, duration, monitors, transient, period, inputs):
        dt = self.dt
        dur = time_ms(duration, "duration")
        if not np.isfinite(dur) or dur <= 0:
            raise ValueError(f"duration={duration!r} must be positive, e.g. duration=1000 * u.ms.")
        trans = time_ms(transient if transient is not None else 0.0, "transient")
        if trans < 0:
            raise ValueError(f"transient={transient!r} must be >= 0.")
        if trans >= dur:
            raise ValueError(
                f"transient={transient!r} must be shorter than duration={duration!r}: the transient is "
                f"part of the duration and is discarded.")
        period_ms = dt if period is None else time_ms(period, "period")
        mons = self._resolve_monitors(monitors, period_ms)
        periods = {m.period if m.period is not None else period_ms for m in mons}
        steps = []
        for p in periods:
            s = p / dt
            if p <= 0 or abs(s - round(s)) > 1e-6 * max(1.0, s):
                raise ValueError(
                    f"monitor period {p} ms is not a positive multiple of dt={dt} ms; choose a period "
                    f"that is an integer number of steps.")
            steps.append(int(round(s)))
        inner = steps[0]
        for s in steps[1:]:
            inner = math.gcd(inner, s)
        mon_steps = [int(round((m.period if m.period is not None else period_ms) / dt)) for m in mons]
        ratios = tuple(s_ // inner for s_ in mon_steps)
        n_trans = int(round(trans / dt))
        n_rec = int(round((dur - trans) / dt))
        n_outer = n_rec // inner
        if n_outer < max(ratios):
            raise ValueError(
                f"duration - transient = {dur - trans} ms is shorter than the longest sampling period "
                f"{max(ratios) * inner * dt} ms: nothing would be recorded.")
        consts, fns = _external_inputs(self.system.node_model, inputs, self.system.n)
        plan = _Plan(self.system.structure_key(), dt, self.method, mons, inner,
                     tuple(sorted((k, "fn" if k in fns else "const") for k in list(consts) + list(fns))),
                     ratios)
        return plan, n_trans, n_outer, fns, consts

    def _compiled(self, plan, fns, n_outer, record, batched_axes):
        key = (plan, n_outer, record, _axes_key(batched_axes), tuple(sorted((k, id(f[0])) for k, f in fns.items())))
        fn = _CACHE.get(key)
        if fn is None:
            if batched_axes is not None and _is_native(batched_axes):
                seg = _segment_fn(self.system, plan, fns, n_outer, record, lanes=batched_axes)
            else:
                seg = _segment_fn(self.system, plan, fns, n_outer, record)
                if batched_axes is not None:
                    p_axes, c_axes, e_axes = batched_axes
                    seg = jax.vmap(seg, in_axes=(p_axes, c_axes, e_axes), out_axes=(c_axes, 0))
            fn = jax.jit(seg)
            _CACHE[key] = fn
        return fn

    # ---------------------------------------------------------------------- running
    def run(self, duration, monitors=None, transient=0.0, period=None, inputs=None, key=None,
            params: Mapping | None = None, batch_size: int | None = None):
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
            Noise seed. An array of keys of shape ``(B, 2)`` runs ``B`` lanes.
        params : dict, optional
            Parameter overrides (user units). Arrays with a leading batch axis run batched:
            shape ``(B,)`` for a global scalar (e.g. ``k``) or a single node, ``(B, n)`` or
            ``(B, 1)`` for node parameters.
        batch_size : int, optional
            Run ``B`` independent noise realisations of the same parameters.

        Returns
        -------
        dict
            One entry per monitor (``(T, n)`` or ``(B, T, n)``, with units where the variable has
            one) plus ``'ts'``, the sample times (ms Quantity) after the transient.
        """
        plan, n_trans, n_outer, fns, consts = self._prepare(duration, monitors, transient, period, inputs)
        P = self.params(**dict(params or {}))
        P, consts, keys, B, axes = self._batching(P, consts, key, batch_size)
        carry = self._init(plan, P, keys, axes)
        # transient, then recording, both chunked by steps
        chunk_outer = max(1, self.chunk_steps // plan.inner)
        n_t_chunks = math.ceil(n_trans / max(self.chunk_steps, 1))
        n_r_chunks = math.ceil(n_outer / chunk_outer)
        total = n_t_chunks + n_r_chunks
        show = self.progress if self.progress is not None else total > 2
        bar = _progress(total, show, desc="simulating")
        # transient: blocks of `block` steps (noise drawn per block), then the remainder
        block = _transient_block(plan, n_trans)
        n_blocks, rest = divmod(n_trans, block)
        t_plan = _replace_inner(plan, block)
        per_call = max(1, self.chunk_steps // block)
        while n_blocks > 0:
            m = min(n_blocks, per_call)
            carry, _ = self._compiled(t_plan, fns, m, False, axes)(P, carry, consts)
            n_blocks -= m
            self._check(carry, B, plan)
            bar.update(1)
        if rest:
            carry, _ = self._compiled(_replace_inner(plan, 1), fns, rest, False, axes)(P, carry, consts)
            self._check(carry, B, plan)
        carry = self._begin(plan, P, carry, axes)
        outs = []
        left = n_outer
        while left > 0:
            m = min(left, chunk_outer)
            fn = self._compiled(plan, fns, m, True, axes)
            carry, o = fn(P, carry, consts)
            self._check(carry, B, plan)
            outs.append(jax.tree.map(np.asarray, o))
            left -= m
            bar.update(1)
        bar.close()
        self.last_state = carry[0]
        result = {}
        # batched runs that read their delay line for all lanes return time-major (T, B, ...)
        # blocks; they are returned as (B, T, ...) views without another copy
        time_major = bool(B) and _is_native(axes)
        t_axis = 1 if (B and not time_major) else 0
        rmin = min(plan.ratios)
        for idx, (mon, r) in enumerate(zip(plan.monitors, plan.ratios)):
            parts = [o[idx] for o in outs]
            arr = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=t_axis)
            if r > 1:
                arr = np.take(arr, np.arange(r - 1, n_outer, r), axis=t_axis)
            if not _all_finite(arr):
                bad_t = np.argwhere(~np.isfinite(arr).all(axis=tuple(a for a in range(arr.ndim) if a != t_axis)))
                j = int(bad_t[0, 0]) * r + r - 1
                raise SimulationDiverged(
                    f"monitor {mon.key!r} produced NaN/Inf at sample {int(bad_t[0, 0])} (t = "
                    f"{(n_trans + plan.inner * (j + 1)) * self.dt:g} ms) while the model state stayed "
                    f"finite; its input is out of the monitor's valid range (for BOLD: lower `scale` "
                    f"so the vasodilatory drive stays of order 1).")
            if time_major:
                arr = np.swapaxes(arr, 0, 1)
            unit = mon.unit if not isinstance(mon, (Raw,)) else self.system.output_unit(mon.variable)
            result[mon.key] = u.Quantity(arr, unit=unit) if unit is not None else arr
            if r != rmin:
                ts_m = (n_trans + plan.inner * (np.arange(r - 1, n_outer, r) + 1)) * self.dt
                result[f"ts_{mon.key}"] = u.Quantity(ts_m, unit=TIME)
        ts = (n_trans + plan.inner * (np.arange(rmin - 1, n_outer, rmin) + 1)) * self.dt
        result["ts"] = u.Quantity(ts, unit=TIME)
        return result

    def _lane_fn(self, name, fn, plan, axes, second_axis):
        """``fn(params, x)`` jitted (and vmapped over lanes when batched), cached by structure."""
        ckey = (name, plan, _axes_key(axes))
        compiled = _CACHE.get(ckey)
        if compiled is None:
            compiled = jax.jit(fn if axes is None else
                               jax.vmap(fn, in_axes=(axes[0], second_axis(axes)), out_axes=axes[1]))
            _CACHE[ckey] = compiled
        return compiled

    def _begin(self, plan, P, carry, axes):
        system = self.system
        fn = self._lane_fn("begin", lambda p, c: _begin_recording(system, plan, p, c), plan, axes,
                           lambda a: a[1])
        return fn(P, carry)

    def _init(self, plan, P, keys, axes):
        system = self.system
        native = _native_keys(system, plan.dt) if axes is not None and _is_native(axes) else ()
        fn = self._lane_fn("init", lambda p, k: _init_carry(system, plan, p, k, native), plan, axes,
                           lambda a: 0)
        return fn(P, keys)

    def _batching(self, P, consts, key, batch_size):
        """Find the batch size and build vmap axes for params, carry and inputs."""
        n = self.system.n
        sizes = {}

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
            return v.shape[0] if v.ndim >= 1 else None

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
            per_node = getattr(self.system, "per_node_params", {}).get(k, False)
            if isinstance(v, (jnp.ndarray, np.ndarray, float)) and not isinstance(v, dict):
                b = lead(k, v, per_node)
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
        key_arr = _as_key(key)
        if key_arr.ndim == 2:
            sizes["key"] = key_arr.shape[0]
        if batch_size is not None:
            sizes["batch_size"] = int(batch_size)
        if not sizes:
            return P, consts, key_arr, 0, None
        vals = set(sizes.values())
        if len(vals) > 1:
            raise ValueError(f"inconsistent batch sizes: {sizes}; all batched arguments must share B.")
        B = vals.pop()
        keys = key_arr if key_arr.ndim == 2 else lane_keys(key_arr, B)
        p_axes = {"node": node_axes, "noise": noise_axes, **sys_axes}
        # the step counter is shared by all lanes (unbatched), so index-dependent control flow of
        # a system (e.g. blocked delay reads under lax.cond) stays a branch instead of a select
        # a delay line is read for all lanes at once, its buffers kept lanes-last (axis -1)
        extra_axes = (0, -1) if _native_keys(self.system, self.dt) else 0
        carry_axes = (0, extra_axes, 0, 0, None, 0, 0)
        return P, consts, keys, B, (p_axes, carry_axes, const_axes)

    def _check(self, carry, B, plan):
        bad = np.asarray(carry[-1])
        if np.all(bad < 0):
            return
        names = self.system.node_model.state_names
        if bad.ndim == 1:
            bad = bad[None]
        lane, var = np.argwhere(bad >= 0)[0]
        step = int(bad[lane, var])
        where = f" in batch lane {lane}" if B else ""
        raise SimulationDiverged(
            f"the state variable {names[var]!r} became NaN/Inf at step {step} (t = {step * self.dt:g} ms)"
            f"{where}. Try a smaller dt (now {self.dt:g} ms), the 'heun' or 'rk4' method (now "
            f"{self.method!r}), or check parameters and inputs.")


def _transient_block(plan: _Plan, n_trans: int) -> int:
    """Steps per block while integrating the transient (noise is drawn once per block)."""
    return plan.inner if plan.inner > 1 else max(1, min(64, n_trans))


def _all_finite(arr) -> bool:
    """Whether every value is finite — one pass without a boolean temporary in the usual case."""
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.floating):
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(arr, dtype=np.float64)):
            return True
    return bool(np.isfinite(arr).all())


def _is_native(axes) -> bool:
    """Whether batching ``axes`` keep a delay line lanes-last (see :func:`_batched_step`)."""
    return isinstance(axes[1][1], tuple)


def _axes_key(axes):
    if axes is None:
        return None
    leaves, tree = jax.tree_util.tree_flatten(axes, is_leaf=lambda x: x is None)
    return (tuple(leaves), str(tree))


def _replace_inner(plan: _Plan, inner: int) -> _Plan:
    return _Plan(plan.system_key, plan.dt, plan.method, plan.monitors, inner, plan.input_kinds,
                 plan.ratios)


def _progress(total, show, desc):
    if show:
        from tqdm.auto import tqdm
        return tqdm(total=total, desc=desc, unit="chunk")
    return SimpleNamespace(update=lambda *_: None, close=lambda: None)


def _as_system(model):
    if hasattr(model, "as_system"):
        return model.as_system()
    if isinstance(model, NodeModel):
        return NodeSystem(model, 1)
    if hasattr(model, "structure_key") and hasattr(model, "coupling_inputs"):
        return model
    raise TypeError(
        f"Simulator cannot run {type(model).__name__}; pass a node module (e.g. WilsonCowanStep(n)), "
        f"a Network, or a NodeModel.")
