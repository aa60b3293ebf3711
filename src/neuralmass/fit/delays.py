r"""Conduction speed as a traced (batchable, differentiable) parameter of a delayed network.

A :class:`~neuralmass.Network` turns ``distance / speed`` into integer lags when a run is planned,
so the speed is part of the compiled structure. Fitting the speed needs it *traced*:
:class:`TracedSpeedNetwork` wraps a network and computes the lags inside the run,

.. math:: \lambda_{ij}(v) = \frac{\ell_{ij}}{v\,\Delta t}, \qquad
          h_j(t - \lambda\Delta t) \approx (1-f)\,h_j(t - \lfloor\lambda\rfloor\Delta t)
          + f\,h_j(t - (\lfloor\lambda\rfloor + 1)\Delta t),\quad f = \lambda - \lfloor\lambda\rfloor,

with linear interpolation between buffer samples, so the delayed input is a continuous,
piecewise-differentiable function of :math:`v`. The ring buffer holds the last :math:`L` values of
every region, :math:`L` sized for the slowest allowed speed, so any speed in ``[v_min, v_max]``
runs in the same compiled program — a batch of candidates with different speeds is one vmapped
run. The delayed sum is computed as :math:`s(t) = \sum_{l=0}^{L-1} W_l\, h(t - l\,\Delta t)`
with per-lag weight matrices :math:`W_l` (built once per run from the weights and the
interpolation coefficients, stacked side by side), i.e. one dense ``(n, L n)`` mat-vec per step — fast on CPUs for the
coarse steps and short rings of BOLD-scale models (e.g. :math:`L \approx 9` for 250 mm at
1 m/s and :math:`\Delta t` = 36 ms).
"""

from __future__ import annotations

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..models.base import Parameter
from ..network.delays import initial_history

__all__ = ["TracedSpeedNetwork"]

_SPEED = u.mm / u.ms


class TracedSpeedNetwork:
    """A network whose conduction speed ``params['speed']`` (mm/ms = m/s) is traced.

    Parameters
    ----------
    network : Network
        The delayed (or undelayed) network: weights, node model, coupling, noise and history.
    distance : array (n, n)
        Tract lengths in mm.
    speed_range : (float, float)
        Allowed speeds ``(v_min, v_max)`` in mm/ms; values outside are clipped.
    speed : float, optional
        Default speed (mm/ms) of the parameter pytree (default: the geometric mean of the range).
    """

    def __init__(self, network, distance, speed_range, speed=None):
        self.net = network
        D = np.asarray(getattr(distance, "mantissa", distance), dtype=float)
        if D.shape != network.weights.shape:
            raise ValueError(f"distance has shape {D.shape}; expected {network.weights.shape} (mm).")
        vmin, vmax = (float(v) for v in speed_range)
        if not 0 < vmin < vmax:
            raise ValueError(f"speed range {speed_range!r} must satisfy 0 < v_min < v_max (mm/ms).")
        self.vmin, self.vmax = vmin, vmax
        self.default_speed = float(np.sqrt(vmin * vmax) if speed is None else speed)
        self.tgt, self.src = (np.asarray(a) for a in network._edges())
        self.dist_e = D[self.tgt, self.src]
        self.live = network.weights[self.tgt, self.src] != 0
        self.method = network.method
        self._key = ("traced_speed", network.structure_key(), vmin, vmax, hash(self.dist_e.tobytes()))

    # ----------------------------------------------------------------- geometry
    def _length(self, dt) -> int:
        lam_max = float(self.dist_e.max()) / (self.vmin * dt) if len(self.dist_e) else 0.0
        return int(np.floor(lam_max)) + 2

    def _lag_weights(self, params, dt):
        """Weights ``(n, L*n)`` such that ``W @ past`` is the delayed sum, where ``past[l*n + j]``
        is ``h_j(t - l dt)``."""
        L, n = self._length(dt), self.net.n_node
        v = jnp.clip(params["speed"], self.vmin, self.vmax)
        lam = jnp.asarray(self.dist_e, dtype=float) / (v * dt)
        lo = jnp.floor(lam)
        frac = lam - lo
        lo = jnp.minimum(lo.astype(jnp.int32), L - 2)
        w = params["conn"]["w"]
        tgt, src = jnp.asarray(self.tgt), jnp.asarray(self.src)
        Wc = jnp.zeros((n, L * n), dtype=w.dtype)
        Wc = Wc.at[tgt, lo * n + src].add(w * (1.0 - frac))
        return Wc.at[tgt, (lo + 1) * n + src].add(w * frac)

    # ----------------------------------------------------------------- system protocol
    @property
    def n(self) -> int:
        return self.net.n_node

    def structure_key(self):
        return self._key

    @property
    def node_model(self):
        return self.net.node_model

    @property
    def per_node_params(self) -> dict:
        return {}

    def param_spec(self, name):
        if name == "speed":
            return Parameter("speed", self.default_speed, _SPEED, _SPEED, (self.vmin, self.vmax),
                             "axonal conduction speed")
        raise KeyError(name)

    def canonical_params(self, overrides=None) -> dict:
        over = dict(overrides or {})
        speed = over.pop("speed", self.default_speed)
        out = self.net.canonical_params(over)
        out["speed"] = jnp.asarray(self.param_spec("speed").to_canonical(speed), dtype=float)
        return out

    def noise_params(self) -> dict:
        return self.net.noise_params()

    def initial_state(self, key=None) -> dict:
        return self.net.initial_state(key)

    def init_extra(self, state, params, dt, key):
        net = self.net
        L = self._length(dt)
        extra = {"rowsum": net._rowsum(params)} if net.coupling.uses_local else {}
        h0 = net._pre(state, params)
        hist = initial_history(net.history, h0, L, key, dtype=h0.dtype)   # row L-1 = step 0
        if net.history is not None:
            hist = hist.at[:-1].set(net.coupling.pre(hist[:-1], net._coupling_p(params)))
        rows = (np.arange(L) - (L - 1)) % L                                 # step -m -> row -m mod L
        extra["buf"] = jnp.zeros((L, h0.shape[0]), h0.dtype).at[rows].set(hist)
        return extra

    def coupling_inputs(self, extra, state, params, i, dt):
        net = self.net
        buf = extra["buf"]
        L = buf.shape[0]
        past = jnp.take(buf, jnp.mod(i - jnp.arange(L), L), axis=0).reshape(-1)   # h(t - l dt)
        Wc = self._lag_weights(params, dt)      # loop-invariant: hoisted out of the scan by XLA
        s = Wc @ past
        local = net.model.read(net.coupled_var, state, params["node"]) if net.coupling.uses_local else None
        c = net.coupling.post(s, local, extra.get("rowsum"), net._coupling_p(params))
        return {net.coupling_input: c}, extra

    def push(self, extra, state, params, i, dt):
        x = self.net._pre(state, params)
        L = extra["buf"].shape[0]
        buf = jax.lax.dynamic_update_slice(extra["buf"], x[None, :].astype(extra["buf"].dtype),
                                           (jnp.mod(i + 1, L), 0))
        return {**extra, "buf": buf}

    def read(self, name, state, params):
        return self.net.read(name, state, params)

    def view(self, state, params):
        return self.net.view(state, params)

    def output_unit(self, name):
        return self.net.output_unit(name)
