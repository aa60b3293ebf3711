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
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..models.base import NodeModel
from ..simulate import NodeSystem
from ..units import to_canonical
from .coupling import Coupling, get_coupling
from .delays import DelayLine, initial_history

__all__ = ["Network"]

_SPEED = u.mm / u.ms


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
        Weights ``conn[i, j]`` from region ``j`` to region ``i``. A
        :class:`~neuralmass.network.Connectome` also provides tract lengths.
    distance : array or Quantity (n, n), optional
        Tract lengths (plain numbers in mm). With ``speed`` they give the delays.
    speed : float or Quantity, optional
        Conduction speed (plain numbers in mm/ms = m/s). ``None`` or ``inf`` means no delays.
    coupling : str, Coupling class or instance
        ``'diffusive'`` (default), ``'linear'``/``'additive'``, ``'sigmoidal'``,
        ``'sigmoidal_jansen_rit'``, ``'tanh'`` (see :mod:`neuralmass.network.coupling`).
    coupled_var : str, optional
        State variable or observable sent to other regions (default: the model's choice).
    coupling_input : str, optional
        Input channel receiving the coupling (default: the model's choice).
    k : float
        Global coupling strength.
    noise : dict, optional
        Extra noise sources by input name (added to the node's own).
    delays : array or Quantity (n, n), optional
        Delays given directly (ms) instead of ``distance``/``speed``.
    delay_mode : {'integer', 'linear'}
        Read delays rounded to whole steps (default) or interpolate linearly.
    history : None, float, (low, high), array or callable
        Initial history of the coupled variable before ``t = 0`` (see
        :func:`~neuralmass.network.delays.initial_history`); default: the initial value.
    path : {'auto', 'sparse', 'dense'}
        Read only non-zero edges (``'sparse'``, what ``'auto'`` picks) or all pairs (``'dense'``;
        gradients with respect to zero weights exist).
    block : int, optional
        Steps of delayed input read at once (default: the largest allowed by the shortest delay,
        at most :data:`~neuralmass.network.delays.MAX_BLOCK`); ``1`` reads every step.
    **params
        Coupling parameters (e.g. ``midpoint=`` for the sigmoidal kinds).

    Examples
    --------
    >>> net = Network(WilsonCowanStep(8), conn=W, distance=D, speed=10 * u.mm / u.ms,
    ...               coupling='diffusive', coupled_var='rE', k=1.5)
    >>> res = Simulator(net, dt=0.1 * u.ms).run(1000 * u.ms, monitors=['rE'])
    """

    def __init__(self, node, conn=None, distance=None, speed=None, coupling: Any = "diffusive",
                 coupled_var: str | None = None, k: float = 1.0, noise: Mapping | None = None, *,
                 coupling_input: str | None = None, delays=None, delay_mode: str = "integer",
                 history=None, path: str = "auto", block: int | None = None, method: str | None = None,
                 **params):
        if conn is None:
            raise ValueError("Network needs conn=W, an (n, n) weight matrix or a Connectome.")
        lengths = None
        if hasattr(conn, "weights") and hasattr(conn, "lengths_mm"):
            lengths = np.asarray(conn.lengths_mm, dtype=float)
            W = np.asarray(conn.weights, dtype=float)
        else:
            W = np.asarray(getattr(conn, "mantissa", conn), dtype=float)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"conn has shape {W.shape}; it must be a square (n, n) weight matrix.")
        if not np.all(np.isfinite(W)):
            raise ValueError("conn contains NaN or infinite weights; clean the weight matrix first.")
        n = W.shape[0]
        self.weights = W

        # --- node
        if isinstance(node, NodeModel):
            model, nparams, nnoise, ninit = node, {}, {}, {}
            nmethod = method or "heun"
        elif hasattr(node, "as_system"):
            base = node.as_system()
            if base.n != n:
                raise ValueError(
                    f"the node has {base.n} regions but conn is {n} x {n}; build the node with in_size={n}.")
            model, nparams, nnoise, ninit = base.model, base.user_params, base.noise, base.init
            nmethod = method or base.method
        else:
            raise TypeError(f"node={node!r} must be a node module (e.g. WilsonCowanStep(n)) or a NodeModel.")
        self.node = node
        self.model = model
        merged_noise = dict(nnoise)
        merged_noise.update({kk: v for kk, v in (noise or {}).items() if v is not None})
        self._nodes = NodeSystem(model, n, nparams, merged_noise, ninit, nmethod)
        self.method = nmethod

        # --- coupling
        self.coupled_var = coupled_var or model.coupled_var
        try:
            model.read(self.coupled_var, model.initial_state(1), model.default_params())
        except KeyError as e:
            raise ValueError(f"coupled_var: {e.args[0]}") from None
        self.coupling_input = coupling_input or model.coupling_input
        model.input(self.coupling_input)
        self.coupling: Coupling = get_coupling(coupling, k)
        bad = set(params) - set(self.coupling.defaults)
        if bad:
            raise TypeError(
                f"Network got unexpected argument(s) {sorted(bad)}; {type(self.coupling).__name__} "
                f"parameters are k and {', '.join(self.coupling.defaults) or 'nothing else'}.")
        self.coupling.params.update(params)

        # --- delays (ms)
        if delays is not None:
            D = np.asarray(to_canonical(delays, "delays", u.ms, u.ms), dtype=float)
        elif speed is None or (np.ndim(getattr(speed, "mantissa", speed)) == 0
                               and not np.isfinite(float(getattr(speed, "mantissa", speed)))):
            D = np.zeros_like(W)
        else:
            dist = lengths if distance is None else np.asarray(
                to_canonical(distance, "distance", u.mm, u.mm), dtype=float)
            if dist is None:
                raise ValueError("speed was given but no distance: pass distance=D (mm) or a Connectome.")
            v = np.asarray(to_canonical(speed, "speed", _SPEED, _SPEED), dtype=float)
            if np.any(v <= 0):
                raise ValueError(f"speed={speed!r} must be positive, e.g. speed=10 * u.mm / u.ms.")
            D = dist / v
        D = np.broadcast_to(D, W.shape).astype(float)
        if np.any(~np.isfinite(D)) or np.any(D < 0):
            raise ValueError("delays (distance / speed) must be finite and >= 0.")
        self.delays_ms = D
        if delay_mode not in ("integer", "linear"):
            raise ValueError(f"delay_mode={delay_mode!r} must be 'integer' or 'linear'.")
        self.delay_mode = delay_mode
        if path == "auto":
            path = "sparse"
        if path not in ("dense", "sparse"):
            raise ValueError(f"path={path!r} must be 'auto', 'sparse' or 'dense'.")
        self.path = path
        self.block = block
        self.history = history
        conn_mask = (W != 0) if path == "sparse" else np.ones_like(W, dtype=bool)
        self._has_delays = bool(np.any(D[conn_mask] > 0))
        self._lines: dict = {}
        self._key = ("network", self._nodes.structure_key(), type(self.coupling), self.coupled_var,
                     self.coupling_input, delay_mode, path, block, _digest(W != 0, D),
                     _history_kind(history))

    # ----------------------------------------------------------------- user-facing
    @property
    def n_node(self) -> int:
        """Number of regions."""
        return self._nodes.n

    n = n_node

    def as_system(self):
        return self

    def __repr__(self):
        return (f"Network(n_node={self.n_node}, model={self.model.name}, coupling="
                f"{type(self.coupling).__name__}, k={self.coupling.k}, max delay="
                f"{float(self.delays_ms.max()):g} ms)")

    def delay_line(self, dt: float) -> DelayLine | None:
        """The delay plan for step ``dt`` (ms), or ``None`` without delays."""
        dt = float(dt)
        if not self._has_delays:
            return None
        if dt not in self._lines:
            self._lines[dt] = DelayLine.build(self.weights, self.delays_ms, dt, self.delay_mode,
                                              self.path, self.block)
        return self._lines[dt]

    # ----------------------------------------------------------------- system protocol
    def structure_key(self):
        return self._key

    @property
    def node_model(self) -> NodeModel:
        return self.model

    @property
    def per_node_params(self) -> dict:
        return {}

    def _edges(self):
        if self.path == "dense":
            return np.divmod(np.arange(self.n_node ** 2), self.n_node)
        return np.nonzero(self.weights)

    def canonical_params(self, overrides: Mapping | None = None) -> dict:
        cnames = set(self.coupling.param_values())
        node_over, coup_over, W = {}, {}, self.weights
        for key, v in dict(overrides or {}).items():
            if key.startswith("node."):
                node_over[key[5:]] = v
            elif key.startswith("coupling."):
                coup_over[key[9:]] = v
            elif key in ("weights", "conn"):
                W = np.asarray(getattr(v, "weights", v), dtype=float)
                if W.shape != self.weights.shape:
                    raise ValueError(f"params[{key!r}] has shape {W.shape}; expected {self.weights.shape}.")
                if self.path == "sparse" and np.any((W != 0) & (self.weights == 0)):
                    raise ValueError(
                        f"params[{key!r}] adds connections absent from the network's conn; the sparse "
                        f"path reads only the original edges. Build the Network with path='dense'.")
            elif key in cnames and key in self.model.param_names:
                raise ValueError(
                    f"{key!r} is both a node and a coupling parameter; write 'node.{key}' or 'coupling.{key}'.")
            elif key in cnames:
                coup_over[key] = v
            else:
                node_over[key] = v
        out = {"node": self._nodes.canonical_params(node_over)}
        for name, val in {**self.coupling.param_values(), **coup_over}.items():
            if name not in cnames:
                raise KeyError(f"unknown coupling parameter {name!r}; known: {', '.join(sorted(cnames))}")
            out[name] = jnp.asarray(getattr(val, "mantissa", val), dtype=float)
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

    def _coupling_p(self, params):
        return {k: params[k] for k in self.coupling.param_values()}

    def _pre(self, state, params):
        x = self.model.read(self.coupled_var, state, params["node"])
        return self.coupling.pre(x, self._coupling_p(params))

    def _rowsum(self, params):
        tgt, _ = self._edges()
        return jax.ops.segment_sum(params["conn"]["w"], jnp.asarray(tgt), self.n_node)

    def init_extra(self, state, params, dt, key):
        line = self.delay_line(dt)
        extra = {"rowsum": self._rowsum(params)} if self.coupling.uses_local else {}
        if line is None:
            # without delays the sum is a dense mat-vec (fast on every backend)
            tgt, src = self._edges()
            n = self.n_node
            extra["W"] = jnp.zeros((n, n), params["conn"]["w"].dtype).at[tgt, src].set(params["conn"]["w"])
            return extra
        h0 = self._pre(state, params)
        hist = initial_history(self.history, h0, line.length, key, dtype=h0.dtype)
        if self.history is not None:
            hist = hist.at[:-1].set(self.coupling.pre(hist[:-1], self._coupling_p(params)))
        extra.update(line.init(hist, dtype=h0.dtype))
        return extra

    # delay-line hooks: lane-agnostic (buffers (n, 2L) in a single run, (n, 2L, B) with the lanes
    # last in a batched run, where the engine reads and writes them once for all lanes)
    def delay_state_keys(self, dt) -> tuple:
        """Keys of the carried state that belong to the delay line (empty without delays)."""
        line = self.delay_line(dt)
        return () if line is None else line.state_keys

    def delay_source(self, state, params):
        """The value each region sends into the delay line (pre-transformed coupled variable)."""
        return self._pre(state, params)

    def read_delays(self, extra, params, i, dt):
        """Delayed weighted sums at step ``i``: (n,) or (n, B), and the updated line state."""
        return self.delay_line(dt).read(extra, params["conn"]["w"], i)

    def write_delays(self, extra, h, i, dt):
        """Store the sources ``h`` produced by step ``i`` (they are the values at step ``i + 1``)."""
        return self.delay_line(dt).write(extra, h, i + 1)

    def coupling_inputs(self, extra, state, params, i, dt, delayed=None):
        line = self.delay_line(dt)
        p = self._coupling_p(params)
        if line is None:
            s = extra["W"] @ self._pre(state, params)
        elif delayed is not None:   # read by the engine for all lanes at once
            s = delayed
        else:
            s, extra = self.read_delays(extra, params, i, dt)
        local = self.model.read(self.coupled_var, state, params["node"]) if self.coupling.uses_local else None
        c = self.coupling.post(s, local, extra.get("rowsum"), p)
        return {self.coupling_input: c}, extra

    def push(self, extra, state, params, i, dt):
        if self.delay_line(dt) is None:
            return extra
        return self.write_delays(extra, self.delay_source(state, params), i, dt)

    def read(self, name, state, params):
        return self._nodes.read(name, state, params)

    def view(self, state, params):
        return self._nodes.view(state, params)

    def output_unit(self, name):
        return self._nodes.output_unit(name)


def _history_kind(h):
    if h is None:
        return None
    if isinstance(h, tuple) and len(h) == 2 and all(np.ndim(v) == 0 for v in h):
        return ("uniform", float(h[0]), float(h[1]))
    if callable(h) and not hasattr(h, "shape"):
        return ("callable", id(h))
    arr = np.asarray(getattr(h, "mantissa", h), dtype=float)
    return ("array", _digest(arr))
