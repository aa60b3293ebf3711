r"""Whole-brain network: one node model per region, long-range coupling and conduction delays.

.. math::

    \dot x_i = f(x_i, \theta) + \text{input}_i, \qquad
    \text{input}_i(t) = \mathrm{post}\Big(\sum_j w_{ij}\, \mathrm{pre}\big(v_j(t-\ell_{ij}/c)\big)\Big),

where :math:`v` is the coupled variable (``coupled_var``), :math:`\ell_{ij}` tract lengths and
:math:`c` the conduction speed (Sanz-Leon et al. 2015, *NeuroImage* 111:385). The network is a
*system* of the compiled engine (:mod:`neuralmass.simulate`): parameters (node parameters,
``k`` and the coupling's parameters, edge weights) are traced, so new values never recompile, and
every run can be batched over ``k``, any node parameter and the noise key, delayed networks
included, each lane with independent noise.

The conduction speed is an ordinary parameter: with ``speed_range=(v_min, v_max)`` it is traced
(``params={'speed': ...}`` batches or differentiates it; delays are read with linear
interpolation); without it the delays are fixed when the network is built and read on the
integer step grid (or interpolated with ``delay_mode='linear'``).

The coupling may feed several inputs of a node, each with its own strength
(``coupling_input={'r_ext': 0.5, 'V_ext': 0.1}`` gives parameters ``k_r_ext`` and ``k_V_ext``),
the coupled variable may be a function of several state variables
(``coupled_var=lambda state, p: state['x'] - state['y']``), and different inputs may receive
different sums (``coupled_var={'r_ext': 'r', 'V_ext': 'V'}``: one pathway per sum, sharing the
delay line; :mod:`neuralmass.network.pathways`).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..engine.system import NodeSystem
from ..models.base import NodeModel, Parameter
from ..params import override_path
from ..typing import Array
from ..units import SPEED, TIME, DISTANCE, magnitude, to_canonical
from .coupling import Coupling
from .connectome import check_lengths_mm, validate_weights
from .delays import (DELAY_MODES, SPEED_RANGE_RTOL, DelayLine, TracedDelayLine, conduction_delays,
                     initial_history, zero_delay_edges)
from .pathways import build_pathways

__all__ = ["Network"]

_log = logging.getLogger("neuralmass")



def _digest(*arrays) -> str:
    h = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class Network:
    """A network of ``n`` regions running the same node model, coupled through a connectome.

    Parameters
    ----------
    node : node module or NodeModel
        E.g. ``WilsonCowanStep(N, noise_E=OUProcess(N, sigma=0.01))`` (its parameters, noise and
        integration method are used) or a bare :class:`~neuralmass.models.base.NodeModel`.
    conn : array (n, n) or Connectome
        Weights ``conn[i, j]`` from region ``j`` to region ``i``: finite, non-negative numbers
        (checked like :class:`~neuralmass.network.Connectome`'s, by
        :func:`~neuralmass.network.connectome.validate_weights`). A
        :class:`~neuralmass.network.Connectome` also provides tract lengths.
    distance : array or Quantity (n, n), optional
        Tract lengths (plain numbers in mm; ``D * u.meter`` is converted). With ``speed`` they give
        the delays. Lengths above 500 mm are refused (µm given as mm?; see
        :data:`~neuralmass.network.connectome.MAX_TRACT_LENGTH_MM`).
    speed : float or Quantity, optional
        Conduction speed (plain numbers in mm/ms = m/s). ``None`` or ``inf`` means no delays. A
        speed with a :class:`~neuralmass.network.Connectome` that has no tract lengths (all zero)
        and no ``distance`` raises ``ValueError`` instead of running without delays.
    speed_range : (float, float) or Quantity pair, optional
        Make the speed a traced parameter allowed in ``[v_min, v_max]`` (fitting, batches of speeds).
        Speeds are never clamped to the range: a concrete speed outside it (``speed=`` or
        ``params={'speed': ...}``) raises ``ValueError`` before the run; a traced one (inside
        ``jit``/``grad``/``vmap``) makes its lane NaN, which ``on_divergence`` reports.
    coupling : str, Coupling class or instance
        ``'diffusive'`` (default), ``'linear'``/``'additive'``, ``'sigmoidal'``,
        ``'sigmoidal_jansen_rit'``, ``'tanh'`` (see :mod:`neuralmass.network.coupling`).
    coupled_var : str, callable or dict, optional
        State variable or observable sent to other regions (default: the model's choice), or a
        function ``f(state, node_params) -> (n,)`` of several state variables. A dict
        ``{input: variable}`` couples each input through its own sum (several *pathways*, e.g.
        ``{'r_ext': 'r', 'V_ext': 'V'}`` for Montbrió–Pazó–Roxin; see
        :mod:`neuralmass.network.pathways`); ``coupling`` may then be a dict ``{input: kind}``.
    coupling_input : str or dict, optional
        Input channel receiving the coupling (default: the model's choice), or a dict
        ``{input: strength}`` feeding several inputs, each with its own strength ``k_<input>``.
    k : float or Quantity
        Global coupling strength, in (coupling input unit) / (summed source unit); plain numbers
        are read in canonical units (e.g. per ms for a Hopf network).
    noise : dict, optional
        Extra noise sources by input name (added to the node's own).
    delays : array or Quantity (n, n), optional
        Delays given directly (ms) instead of ``distance``/``speed``.
    delay_mode : {'integer', 'linear'}
        Read delays rounded to whole steps (default) or interpolate linearly.
    history : None, float, (low, high), array, callable or dict
        Initial history of the coupled variable before ``t = 0`` (see
        :func:`~neuralmass.network.delays.initial_history`); default: the initial value. With
        several pathways, a dict ``{variable: spec}``.
    path : {'auto', 'sparse', 'dense'}
        Read only non-zero edges (``'sparse'``, what ``'auto'`` picks) or all pairs (``'dense'``;
        gradients with respect to zero weights exist).
    block : int, optional
        Steps of delayed input read at once (default: the largest allowed by the shortest delay,
        at most :data:`~neuralmass.network.delays.MAX_BLOCK`); ``1`` reads every step.
    warn_zero_delays : bool
        Warn (once per ``dt``) about connections whose delay rounds to zero steps. ``False`` when
        the caller reports them itself (a study's preflight does, in its config's terms).
    **params
        Coupling parameters (e.g. ``midpoint=`` for the sigmoidal kinds).

    Examples
    --------
    >>> net = Network(WilsonCowanStep(8), conn=W, distance=D, speed=10 * u.mm / u.ms,
    ...               coupling='diffusive', coupled_var='rE', k=1.5)
    >>> res = Simulator(net, dt=0.1 * u.ms).run(1000 * u.ms, monitors=['rE'])
    """

    def __init__(self, node: Any, conn: Any = None, distance: Array | None = None, speed: Array | None = None,
                 coupling: Any = "diffusive", coupled_var: str | Mapping | None = None, k: Array = 1.0,
                 noise: Mapping | None = None, *, coupling_input: Any = None, delays: Array | None = None,
                 delay_mode: str = "integer", history: Any = None, path: str = "auto",
                 block: int | None = None, method: str | None = None,
                 speed_range: tuple[float, float] | None = None, warn_zero_delays: bool = True,
                 **params: Any) -> None:
        self._args = dict(node=node, conn=conn, distance=distance, speed=speed, coupling=coupling,
                          coupled_var=coupled_var, k=k, noise=noise, coupling_input=coupling_input,
                          delays=delays, delay_mode=delay_mode, history=history, path=path, block=block,
                          method=method, speed_range=speed_range, warn_zero_delays=warn_zero_delays,
                          **params)
        self.warn_zero_delays = bool(warn_zero_delays)
        if conn is None:
            raise ValueError("Network needs conn=W, an (n, n) weight matrix or a Connectome.")
        lengths = None
        if hasattr(conn, "weights") and hasattr(conn, "lengths_mm"):
            lengths = np.asarray(conn.lengths_mm, dtype=float)
            W = validate_weights(conn.weights, "conn.weights")
        else:
            # the same check as Connectome's: square, numeric (no strings), finite, >= 0
            W = validate_weights(conn, "conn")
        n = W.shape[0]
        self.weights = W

        # --- node
        if isinstance(node, NodeModel):
            model, nparams, nnoise, ninit, ncanon = node, {}, {}, {}, None
            nmethod = method or "heun"
        elif hasattr(node, "as_system"):
            base = node.as_system()
            if base.n != n:
                raise ValueError(
                    f"the node has {base.n} regions but conn is {n} x {n}; build the node with in_size={n}.")
            model, nparams, nnoise, ninit = base.model, base.user_params, base.noise, base.init
            ncanon = base.canonical_params()["node"]
            nmethod = method or base.method
        else:
            raise TypeError(f"node={node!r} must be a node module (e.g. WilsonCowanStep(n)) or a NodeModel.")
        self.node = node
        self.model = model
        merged_noise = dict(nnoise)
        merged_noise.update({kk: v for kk, v in (noise or {}).items() if v is not None})
        self.labels = getattr(conn, "labels", None)
        self._nodes = NodeSystem(model, n, nparams, merged_noise, ninit, nmethod, canonical=ncanon,
                                 labels=self.labels)
        self.method = nmethod

        # --- coupling: what is sent, what receives it, with which strength (one or more sums)
        self.coupled_var = model.coupled_var if coupled_var is None else coupled_var
        self.pathways = build_pathways(model, coupled_var, coupling, coupling_input, k, params, history)
        self.coupling: Coupling = self.pathways[0].coupling
        self.coupling_input = coupling_input or model.coupling_input
        # converted once
        self._cparams = {}
        for pw in self.pathways:
            for _, p in pw.strengths:
                self._cparams[p.name] = p.to_canonical(_given_strength(p.name, k, coupling_input))
            for q in pw.table:
                self._cparams[q.name] = q.to_canonical(pw.coupling.params[pw.names[q.name]])

        # --- delays (ms)
        if delay_mode not in DELAY_MODES:
            raise ValueError(f"delay_mode={delay_mode!r} must be one of {', '.join(DELAY_MODES)}.")
        self.delay_mode = delay_mode
        if path == "auto":
            path = "sparse"
        if path not in ("dense", "sparse"):
            raise ValueError(f"path={path!r} must be 'auto', 'sparse' or 'dense'.")
        self.path = path
        if distance is None:
            dist = lengths
        else:
            dist = check_lengths_mm(to_canonical(distance, "distance", DISTANCE), "distance")
        self.distance_mm = dist
        delays_wanted = speed_range is not None or (
            delays is None and speed is not None
            and not np.all(np.isposinf(np.asarray(to_canonical(speed, "speed", SPEED)))))
        if delays_wanted and distance is None and lengths is not None and not np.any(lengths > 0):
            raise ValueError(
                f"{'speed_range' if speed_range is not None else 'speed'}="
                f"{speed_range if speed_range is not None else speed!r} asks for conduction delays, "
                f"but the connectome {getattr(conn, 'name', '') or ''!s} has no tract lengths "
                f"(all zero), so every delay would be 0 and the network would silently run without "
                f"delays. Load a connectome with tract lengths, pass distance=D (mm), or leave "
                f"speed=None for instantaneous coupling (in a study configuration: "
                f"[network] delays = false).")
        self._speed_param = None
        if speed_range is not None:
            if delays is not None or dist is None:
                raise ValueError("speed_range needs tract lengths: pass distance=D (mm) or a Connectome, "
                                 "not delays=.")
            lo, hi = (float(to_canonical(v, "speed_range", SPEED)) for v in speed_range)
            if not 0 < lo < hi < np.inf:
                raise ValueError(f"speed_range={speed_range!r} must satisfy 0 < v_min < v_max (mm/ms = m/s).")
            v0 = np.sqrt(lo * hi) if speed is None else float(to_canonical(speed, "speed", SPEED))
            _check_speed(v0, (lo, hi), speed)
            self._speed_param = Parameter("speed", v0, SPEED, SPEED, (lo, hi), "axonal conduction speed")
            self._cparams["speed"] = self._speed_param.to_canonical(v0)
            D = np.zeros_like(W)
        elif delays is not None:
            D = np.asarray(to_canonical(delays, "delays", TIME), dtype=float)
        else:
            v = None if speed is None else np.asarray(to_canonical(speed, "speed", SPEED), dtype=float)
            if v is None or (v.ndim == 0 and np.isposinf(v)):
                D = np.zeros_like(W)
            else:
                if dist is None:
                    raise ValueError("speed was given but no distance: pass distance=D (mm) or a Connectome.")
                if np.any(~(v > 0)):
                    raise ValueError(f"speed={speed!r} must be positive, e.g. speed=10 * u.mm / u.ms.")
                D = conduction_delays(dist, v)
        D = np.broadcast_to(D, W.shape).astype(float)
        if np.any(~np.isfinite(D)) or np.any(D < 0):
            raise ValueError("delays (distance / speed) must be finite and >= 0.")
        self.delays_ms = D
        self.block = block
        self.history = history
        conn_mask = (W != 0) if path == "sparse" else np.ones_like(W, dtype=bool)
        self._has_delays = bool(np.any(D[conn_mask] > 0)) or self._speed_param is not None
        self._lines: dict = {}
        self._key = ("network", self._nodes.structure_key(), tuple(pw.key() for pw in self.pathways),
                     delay_mode, path, block, _digest(W != 0, D),
                     tuple(_history_kind(pw.history) for pw in self.pathways),
                     None if self._speed_param is None else (self._speed_param.bounds, _digest(dist)))

    # ----------------------------------------------------------------- user-facing
    @property
    def n_node(self) -> int:
        """Number of regions."""
        return self._nodes.n

    n = n_node

    @property
    def k(self):
        """The coupling strength as given (the first one when several inputs are coupled)."""
        return self.coupling.k

    def as_system(self):
        return self

    def __repr__(self):
        return (f"Network(n_node={self.n_node}, model={self.model.name}, coupling="
                f"{type(self.coupling).__name__}, k={self.coupling.k}, max delay="
                f"{float(self.delays_ms.max()):g} ms)")

    def with_traced_speed(self, speed_range, distance=None, speed=None) -> "Network":
        """This network with its conduction speed traced in ``speed_range`` (see ``speed_range``)."""
        args = {**self._args, "speed_range": speed_range, "delays": None}
        if distance is not None:
            args["distance"] = distance
        if speed is not None:
            args["speed"] = speed
        elif args.get("speed") is not None:
            # the network's own speed is only the default value of the traced one: outside the
            # new range (a fit's search space) the range's geometric mean is used instead
            lo, hi = (float(to_canonical(v, "speed_range", SPEED)) for v in speed_range)
            v = np.asarray(to_canonical(args["speed"], "speed", SPEED), dtype=float)
            if v.ndim != 0 or not lo <= float(v) <= hi:
                _log.info("with_traced_speed: speed=%s lies outside speed_range=(%g, %g); the "
                          "traced speed starts at sqrt(v_min * v_max) instead.", args["speed"], lo, hi)
                args["speed"] = None
        return Network(**args)

    def delay_line(self, dt: float):
        """The delay plan for step ``dt`` (ms), or ``None`` without delays."""
        dt = float(dt)
        if not self._has_delays:
            return None
        if dt not in self._lines:
            if self._speed_param is not None:
                tgt, src = self._edges()
                self._lines[dt] = TracedDelayLine.build(tgt, src, self.distance_mm[tgt, src], self.n_node,
                                                        self._speed_param.bounds, dt)
            else:
                self._lines[dt] = DelayLine.build(self.weights, self.delays_ms, dt, self.delay_mode,
                                                  self.path, self.block)
                zero = self.zero_step_edges(dt)
                if zero and self.delay_mode == "integer" and self.warn_zero_delays:
                    _log.warning("%d of %d connections have a delay shorter than dt/2 = %g ms and are read "
                                 "without delay at dt = %g ms; use a smaller dt or delay_mode='linear'.",
                                 zero, int(np.count_nonzero(self.weights)), dt / 2, dt)
        return self._lines[dt]

    def buffer_elements(self, dt) -> dict:
        """Array elements this network keeps per lane at step ``dt`` (ms), by part, computed
        without building them (the engine's memory estimate, :mod:`neuralmass.engine.budget`)."""
        n, P = self.n_node, len(self.pathways)
        line = self.delay_line(dt)
        if line is None:
            return {"coupling matrix": n * n}
        if self._speed_param is not None:
            # the ring (L, n, P) and the per-lag weights (n, L*n) built for the traced speed
            return {"delay buffer": line.length * n * P, "delay weights": n * line.length * n}
        return {"delay buffer": n * (2 * line.length + line.block) * P}

    def divergence_hint(self, params) -> str | None:
        """Advice for a run of this network whose state stopped being finite, when the network
        itself explains it (the engine's :class:`SimulationDiverged` quotes it instead of its
        step-size advice); ``None`` otherwise.

        Parameters
        ----------
        params : dict
            The run's canonical parameters (possibly batched).

        Returns
        -------
        str or None
            For all-zero weights: the regions are uncoupled, so the node model diverges on its own.
            For a negative coupling strength (``k`` or ``k_<input>``): the coupling pushes regions
            apart.
        """
        own = self._nodes.divergence_hint(params)     # a delay inside the node model
        if own is not None:
            return own
        for name in sorted(self._cparams):
            if name == "k" or name.startswith("k_"):
                v = np.asarray(params.get(name, self._cparams[name]), dtype=float)
                if v.size and np.nanmin(v) < 0:
                    return (f"the coupling strength {name} = {np.nanmin(v):g} is negative: the coupling "
                            f"then pushes regions apart instead of pulling them together, which is "
                            f"what drove the state to blow up, not the step size. Use {name} >= 0 "
                            f"(config: network.k).")
        w = np.asarray(params["conn"]["w"], dtype=float)
        if not np.any(w):
            return ("all connection weights are zero, so the regions are uncoupled and the coupling "
                    "(k, speed, delays) cannot have caused this: the node model diverges on its own at "
                    "these node parameters, inputs and noise. Check the node parameters, and the "
                    "weights file if zero weights were not intended.")
        return None

    def zero_step_edges(self, dt) -> int:
        """Number of connected edges whose (static) delay rounds to zero steps at ``dt`` (ms)."""
        if self._speed_param is not None:
            return 0
        return zero_delay_edges(self.weights, self.delays_ms, dt)

    # ----------------------------------------------------------------- system protocol
    def structure_key(self):
        return self._key

    @property
    def node_model(self) -> NodeModel:
        return self.model

    def per_node_params(self) -> dict:
        return {}

    def param_spec(self, name):
        """Parameter row of a network-level parameter (``speed``, strengths, coupling parameters)."""
        for pw in self.pathways:
            for p in (*(row for _, row in pw.strengths), *pw.table):
                if p.name == name:
                    return p
        if name == "speed" and self._speed_param is not None:
            return self._speed_param
        return self.model.param(name)

    def _edges(self):
        if self.path == "dense":
            return np.divmod(np.arange(self.n_node ** 2), self.n_node)
        return np.nonzero(self.weights)

    def canonical_params(self, overrides: Mapping | None = None) -> dict:
        cnames = set(self._cparams)
        node_over, net_over, W = {}, {}, self.weights
        for key, v in dict(overrides or {}).items():
            if key in ("weights", "conn"):
                W = np.asarray(to_canonical(getattr(v, "weights", v), f"params[{key!r}]"), dtype=float)
                if W.shape != self.weights.shape:
                    raise ValueError(f"params[{key!r}] has shape {W.shape}; expected {self.weights.shape}.")
                if self.path == "sparse" and np.any((W != 0) & (self.weights == 0)):
                    raise ValueError(
                        f"params[{key!r}] adds connections absent from the network's conn; the sparse "
                        f"path reads only the original edges. Build the Network with path='dense'.")
            elif key == "speed" and "speed" not in cnames:
                raise ValueError(
                    "params['speed'] needs a traced conduction speed: build the Network with "
                    "speed_range=(v_min, v_max) (mm/ms) to vary or fit the speed per run.")
            else:
                path = override_path(key, self.model.param_names, cnames)
                if path[0] == "node":
                    node_over[path[1]] = v
                else:
                    net_over[path[0]] = v
        out = self._nodes.canonical_params(node_over)
        for name in cnames:
            out[name] = self.param_spec(name).to_canonical(net_over.pop(name)) if name in net_over \
                else self._cparams[name]
        if "speed" in out and self._speed_param is not None:
            _check_speed(out["speed"], self._speed_param.bounds, out["speed"])
        if net_over:
            raise KeyError(f"unknown coupling parameter(s) {sorted(net_over)}; known: {', '.join(sorted(cnames))}")
        tgt, src = self._edges()
        out["conn"] = {"w": jnp.asarray(W[tgt, src], dtype=float)}
        return out

    def noise_params(self) -> dict:
        return self._nodes.noise_params()

    @property
    def noise(self):
        return self._nodes.noise

    def initial_state(self, key=None) -> dict:
        return self._nodes.initial_state(key)

    def _source(self, pw, state, params):
        if callable(pw.var):
            return pw.var(state, params["node"])
        return self.model.read(pw.var, state, params["node"])

    def _pre(self, state, params):
        """What every region sends: (n,) for one pathway, (n, P) for ``P`` pathways."""
        h = [pw.coupling.pre(self._source(pw, state, params), pw.kind_params(params)) for pw in self.pathways]
        return h[0] if len(h) == 1 else jnp.stack(h, axis=-1)

    def _rowsum(self, params):
        tgt, _ = self._edges()
        return jax.ops.segment_sum(params["conn"]["w"], jnp.asarray(tgt), self.n_node)

    def init_extra(self, state, params, dt, key):
        line = self.delay_line(dt)
        uses_local = any(pw.coupling.uses_local for pw in self.pathways)
        extra = {"rowsum": self._rowsum(params)} if uses_local else {}
        own = self._nodes.init_extra(state, params, dt, key)   # delays inside the node model
        if own:
            extra.update(own)
        if line is None:
            # without delays the sum is a dense mat-vec (fast on every backend)
            tgt, src = self._edges()
            n = self.n_node
            extra["W"] = jnp.zeros((n, n), params["conn"]["w"].dtype).at[tgt, src].set(params["conn"]["w"])
            return extra
        keys = jax.random.split(key, len(self.pathways)) if len(self.pathways) > 1 else [key]
        hists = []
        for pw, k in zip(self.pathways, keys):
            h0 = pw.coupling.pre(self._source(pw, state, params), pw.kind_params(params))
            hist = initial_history(pw.history, h0, line.length, k, dtype=h0.dtype)
            if pw.history is not None:
                hist = hist.at[:-1].set(pw.coupling.pre(hist[:-1], pw.kind_params(params)))
            hists.append(hist)
        hist = hists[0] if len(hists) == 1 else jnp.stack(hists, axis=-1)
        extra.update(line.init(hist, dtype=hist.dtype))
        return extra

    # delay-line hooks: lane-agnostic (buffers (n, 2L) in a single run, (n, 2L, B) with the lanes
    # last in a batched run, where the engine reads and writes them once for all lanes; several
    # pathways add a source axis before the lanes); a traced speed differs per lane, so its line is
    # vmapped with the rest of the step instead
    def delay_state_keys(self, dt) -> tuple:
        """Keys of the carried state that belong to a shared delay line (empty if none)."""
        line = self.delay_line(dt)
        return () if line is None or self._speed_param is not None else line.state_keys

    def delay_source(self, state, params):
        """The value each region sends into the delay line (pre-transformed coupled variables)."""
        return self._pre(state, params)

    def read_delays(self, extra, params, i, dt):
        """Delayed weighted sums at step ``i``: (n, [P,] [B]), and the updated line state."""
        line = self.delay_line(dt)
        if self._speed_param is not None:
            return line.read(extra, params["conn"]["w"], params["speed"], i, dt), extra
        return line.read(extra, params["conn"]["w"], i)

    def write_delays(self, extra, h, i, dt):
        """Store the sources ``h`` produced by step ``i`` (they are the values at step ``i + 1``)."""
        return self.delay_line(dt).write(extra, h, i + 1)

    def coupling_inputs(self, extra, state, params, i, dt, delayed=None):
        line = self.delay_line(dt)
        if line is None:
            s = extra["W"] @ self._pre(state, params)
        elif delayed is not None:   # read by the engine for all lanes at once
            s = delayed
        else:
            s, extra = self.read_delays(extra, params, i, dt)
        out = {}
        several = len(self.pathways) > 1
        for idx, pw in enumerate(self.pathways):
            local = self._source(pw, state, params) if pw.coupling.uses_local else None
            c = pw.coupling.post(s[..., idx] if several else s, local, extra.get("rowsum"),
                                 pw.kind_params(params))
            for inp, p in pw.strengths:
                out[inp] = params[p.name] * c
        own, extra = self._nodes.coupling_inputs(extra, state, params, i, dt)
        out.update(own)
        return out, extra

    def push(self, extra, state, params, i, dt):
        if self.delay_line(dt) is None:
            return extra
        return self.write_delays(extra, self.delay_source(state, params), i, dt)

    def read(self, name, state, params, inputs=None):
        return self._nodes.read(name, state, params, inputs)

    def view(self, state, params, inputs=None):
        return self._nodes.view(state, params, inputs)

    def output_unit(self, name):
        return self._nodes.output_unit(name)


def _check_speed(value, bounds, given) -> None:
    """Refuse a concrete traced-network speed outside ``speed_range`` (it is never clamped).

    Traced values (inside jit/grad/vmap) cannot be checked here; the delay line turns their lane
    into NaN instead (:class:`~neuralmass.network.delays.TracedDelayLine`)."""
    if isinstance(value, jax.core.Tracer):
        return
    v = np.asarray(value, dtype=float)
    lo, hi = bounds
    bad = ~((v >= lo * (1 - SPEED_RANGE_RTOL)) & (v <= hi * (1 + SPEED_RANGE_RTOL)))
    if np.any(bad):
        vals = [f"{x:g}" for x in np.atleast_1d(v[bad] if v.ndim else v).ravel()[:5]]
        shown = vals[0] if v.ndim == 0 else "[" + ", ".join(vals) + "]"
        raise ValueError(
            f"speed={shown} mm/ms is outside the network's speed_range=({lo:g}, {hi:g}) mm/ms "
            f"(= m/s); its delay line is sized for that range and the speed is never clamped. "
            f"Widen speed_range when building the Network (e.g. speed_range=({min(lo, float(np.min(v))):g}, "
            f"{max(hi, float(np.max(v))):g})) or pass a speed inside it.")


def _given_strength(name, k, coupling_input):
    """The strength value the user gave for the traced parameter ``name`` (``k`` or ``k_<input>``)."""
    if name == "k":
        return k
    return coupling_input[name[2:]]


def _history_kind(h):
    if h is None:
        return None
    if isinstance(h, tuple) and len(h) == 2 and all(np.ndim(v) == 0 for v in h):
        return ("uniform", float(h[0]), float(h[1]))
    if callable(h) and not hasattr(h, "shape"):
        return ("callable", id(h))
    arr = np.asarray(magnitude(h), dtype=float)
    return ("array", _digest(arr))
