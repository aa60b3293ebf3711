r"""A node model on every vertex of a cortical surface, with local and delayed long-range coupling.

TVB's surface scheme (Sanz-Leon et al. 2015, section 2.3), on the engine of region networks:

.. math::

    \dot x_v = f\Big(x_v,\ \theta,\ \underbrace{k\,\mathrm{post}\Big(\sum_s w_{r(v)s}\,
        \mathrm{pre}\big(\bar c_s(t-\tau_{r(v)s})\big),\ \bar c_{r(v)}(t)\Big)}_{\text{long range}}
        + \underbrace{\lambda \sum_u K_{vu}\, c_u(t)}_{\text{local}}\Big) + \text{noise}_v,
    \qquad \bar c_r = \frac{1}{|r|}\sum_{v \in r} c_v,

where :math:`c` is the coupled state variable, :math:`r(v)` the region of vertex :math:`v`
(region mapping), :math:`w, \tau` the connectome's weights and conduction delays, :math:`K` the
local kernel (:class:`~neuralmass.surface.LocalCoupling`) and :math:`\lambda` the traced
``local_strength`` (TVB's ``Cortex.coupling_strength``).

* Long range: the region means :math:`\bar c_r` (plain means over the region's nodes, as TVB)
  go through the connectome's delay line — the region :class:`~neuralmass.Network` of the same
  connectome, coupling and delays does this, unchanged — and the region's coupling is broadcast
  to each of its vertices. It is held fixed during a step (computed once per step, as TVB does).
* Local: instantaneous, so it is part of the right-hand side: it is evaluated at every stage of
  the integrator (Heun's predictor and corrector), as TVB's ``dfun(..., local_coupling)``. It
  enters where the model's TVB version adds it (``NodeModel.extra['local_coupling']``; the
  generic 2D oscillator: :math:`d\,\tau\,\ell` in :math:`\dot V`, not times :math:`\gamma`),
  else the coupling input, or ``local_input`` when given.
* Regions of the connectome that no vertex maps to (e.g. subcortical) are appended after the
  vertices as one node each, without local coupling, as TVB does.
* Noise is drawn per node; node parameters may be scalars or one value per node.

The system is batched and differentiated like a region network: the delay line is read once for
all lanes, the local product keeps lanes last under :func:`jax.vmap`, and ``local_strength``, ``k``,
coupling parameters, node parameters and the noise key are traced.

References
----------
Sanz-Leon P., Knock S.A., Spiegler A., Jirsa V.K. (2015) Mathematical framework for large-scale
brain network modeling in The Virtual Brain. NeuroImage 111, 385–430.
Spiegler A., Jirsa V. (2013) Systematic approximations of neural fields through networks of
neural masses in the virtual brain. NeuroImage 83, 704–725.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from typing import Mapping

import jax.numpy as jnp
import numpy as np

from ..engine.system import NodeSystem
from ..integrators import linear_part
from ..models.base import NodeModel, Parameter
from ..models.node_delays import node_delays
from ..network.coupling import strength_unit
from ..network.network import Network
from ..params import override_path
from .local import LocalCoupling, sparse_product
from .mesh import Surface
from .monitors import REGION_SUFFIX

__all__ = ["SurfaceNetwork"]

_DERIVED: dict = {}


def _with_local(model: NodeModel, local: LocalCoupling, var: str, inp: str | None, n_nodes: int) -> NodeModel:
    """``model`` whose drift adds ``local_strength * K @ state[var]`` to input ``inp`` (one derived
    model per structure and kernel, so equal networks share a compiled program).

    ``inp=None``: the model's own rule ``model.extra['local_coupling'](lc, params) -> {input: value}``
    (how TVB's version of the model adds its local term), else its coupling input."""
    h = hashlib.sha1(local.digest().encode())
    h.update(np.ascontiguousarray(local.weights).tobytes())
    key = (id(model), h.hexdigest(), var, inp, n_nodes)
    hit = _DERIVED.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    base = model.drift
    rule = model.extra.get("local_coupling") if inp is None else None
    if inp is None and rule is None:
        inp = model.coupling_input
    unit = None
    if inp is not None:
        spec = model.input(inp)
        unit = strength_unit(spec.canonical or spec.unit, model.variable_unit(var))

    def with_local(state, params, inputs):
        src = state[var] if var in state else model.read(var, state, params)
        lc = params["local_strength"] * local.matvec(src, n_out=n_nodes)
        added = rule(lc, params) if rule is not None else {inp: lc}
        return {**inputs, **{k: inputs[k] + v for k, v in added.items()}}

    def drift(state, params, inputs):
        return base(state, params, with_local(state, params, inputs))

    # what special integrators read from a drift: its update order (symplectic Euler) and its
    # own linear part (exponential Euler), the node's with the local input held like every input
    if hasattr(base, "update_order"):
        drift.update_order = base.update_order

    def linear_coefficient(state, params, inputs):
        return linear_part(base, state, params, with_local(state, params, inputs))

    drift.linear_coefficient = linear_coefficient

    row = Parameter("local_strength", 0.0, unit, unit,
                    doc=f"strength of the local (surface) coupling of {var} into {inp}")
    derived = dataclasses.replace(model, drift=drift, params=model.params + (row,))
    _DERIVED[key] = (model, derived)
    return derived


class SurfaceNetwork:
    """A node model on every vertex of ``surface``, coupled locally and through ``conn``.

    Parameters
    ----------
    node : node module or NodeModel
        E.g. ``Generic2dOscillatorStep(1, a=-1.5)`` or ``GENERIC_2D``; its parameters (scalars or
        one value per node), noise and integration method are used for every node.
    conn : Connectome or (R, R) array
        The long-range connectome; its regions are those the surface's region mapping indexes.
    surface : Surface
        Mesh with a region mapping (checked against ``conn``).
    local : LocalCoupling, optional
        The vertex kernel; ``None`` for no local coupling.
    local_strength : float
        Traced strength :math:`\\lambda` of the local coupling (TVB's ``coupling_strength``).
    coupling, k, speed, coupled_var, coupling_input, distance, delays, delay_mode, history, path,
    block, speed_range, **params
        As for :class:`~neuralmass.Network` (the long-range part is that network, run on region
        means). ``coupled_var`` names a state variable or an observable (read at every node, then
        averaged per region; TVB averages state variables, which is the same for observables
        linear in the state).
    noise : dict, optional
        Extra noise sources by input name (added to the node's own).
    local_var, local_input : str, optional
        Variable the kernel acts on and input receiving it. Defaults: the coupled variable, and the
        model's own rule for TVB's local term where it declares one (``extra['local_coupling']``;
        e.g. the generic 2D oscillator adds it to ``dV/dt`` as ``d·tau·lc``, not times ``gamma``),
        else the coupling input.
    init : dict, optional
        Initial state by variable: scalars or one value per node (canonical units).
    method : str, optional
        Integrator (default the node's, else Heun).

    Examples
    --------
    >>> surf = Surface.from_tvb_data("cortex_16384", region_mapping="regionMapping_16k_76")  # doctest: +SKIP
    >>> local = LocalCoupling.from_tvb_data("local_connectivity_16384", surf)               # doctest: +SKIP
    >>> net = SurfaceNetwork(GENERIC_2D, load_dataset('tvb76'), surf, local=local,          # doctest: +SKIP
    ...                      local_strength=0.5, coupling='linear', k=0.004, speed=4.0)
    >>> Simulator(net, dt=0.1).run(100, monitors=['V', RegionAverage('V')])                  # doctest: +SKIP
    """

    def __init__(self, node, conn, surface: Surface, local: LocalCoupling | None = None,
                 local_strength=0.0, coupling="diffusive", k=1.0, speed=None, noise: Mapping | None = None, *,
                 coupled_var=None, coupling_input=None, local_var=None, local_input=None, distance=None,
                 delays=None, delay_mode: str = "integer", history=None, path: str = "auto",
                 block: int | None = None, method: str | None = None, speed_range=None, init: Mapping | None = None,
                 **params):
        if not isinstance(surface, Surface):
            raise TypeError(f"surface={surface!r} must be a neuralmass.surface.Surface "
                            f"(e.g. Surface.from_tvb_data('cortex_16384')).")
        if conn is None:
            raise ValueError("SurfaceNetwork needs conn=, the long-range connectome (Connectome or (R, R) weights).")
        # --- node
        if isinstance(node, NodeModel):
            model, nparams, nnoise, ninit, ncanon = node, {}, {}, {}, None
            nmethod = method or "heun"
        elif hasattr(node, "as_system"):
            base = node.as_system()
            model, nparams, nnoise, ninit = base.model, base.user_params, base.noise, base.init
            ncanon = base.canonical_params()["node"]
            nmethod = method or base.method
        else:
            raise TypeError(f"node={node!r} must be a node module (e.g. Generic2dOscillatorStep(1)) or a NodeModel.")
        self.model_base = model
        # --- long range: the region network of the same connectome, run on region means
        self.regions = Network(model, conn, distance=distance, speed=speed, coupling=coupling,
                               coupled_var=coupled_var, k=k, coupling_input=coupling_input, delays=delays,
                               delay_mode=delay_mode, history=history, path=path, block=block,
                               method=nmethod, speed_range=speed_range, **params)
        for pw in self.regions.pathways:
            if not isinstance(pw.var, str):
                raise ValueError(
                    f"coupled_var={pw.var!r}: a surface network couples a state variable or observable "
                    f"of {model.name} by name (its region means go through the connectome); a function "
                    f"of the state cannot be averaged per region here. Add it as an observable.")
        n_regions = self.regions.n_node
        surface.check_regions(n_regions, f"conn ({n_regions} x {n_regions})")
        self.surface = surface
        rm = surface.region_mapping
        self.unmapped = np.setdiff1d(np.arange(n_regions), rm)
        self.node_regions = np.r_[rm, self.unmapped].astype(np.int32)
        self.n_vertices = surface.n_vertices
        self.n = int(self.node_regions.size)
        self._counts = np.bincount(self.node_regions, minlength=n_regions).astype(float)
        # region means as a sparse (regions x nodes) product: the compiled CPU kernel where it
        # applies (22 against 61 µs per step on the 16k cortex for XLA's scatter-add;
        # benchmarks/surface.py --profile), rows sorted for the JAX fallback
        by_region = np.argsort(self.node_regions, kind="stable")
        rows = self.node_regions[by_region]
        self._mean_w = 1.0 / self._counts[rows]
        self._mean = sparse_product(rows, by_region, n_regions, n_cols=self.n)
        # --- local coupling
        self.local = local
        if local is not None:
            if not isinstance(local, LocalCoupling):
                raise TypeError(f"local={local!r} must be a LocalCoupling (LocalCoupling.from_tvb_data or "
                                f".from_kernel) or None.")
            if local.n != self.n_vertices:
                raise ValueError(f"local is a {local.n}-vertex kernel but the surface has {self.n_vertices} "
                                 f"vertices; build it for this mesh.")
            self.local_var = local_var or self.regions.pathways[0].var
            model.read(self.local_var, model.initial_state(1), model.default_params())  # clear KeyError
            self.local_input = local_input
            if local_input is None and "local_coupling" not in model.extra:
                ci = self.regions.coupling_input
                self.local_input = next(iter(ci)) if isinstance(ci, Mapping) else ci
            if self.local_input is not None:
                model.input(self.local_input)
            model = _with_local(model, local, self.local_var, self.local_input, self.n)
            canon_ls = model.param("local_strength").to_canonical(local_strength)
            ncanon = {**(ncanon if ncanon is not None else {k_: model.param(k_).to_canonical(v)
                                                             for k_, v in nparams.items()}),
                      "local_strength": canon_ls}
        elif local_strength not in (0, 0.0, None):
            raise ValueError(f"local_strength={local_strength!r} needs local=LocalCoupling(...); without a "
                             f"kernel there is no local coupling to scale.")
        if node_delays(model):
            raise ValueError(f"{model.name} has delays inside its node (a history per node), which a "
                             f"SurfaceNetwork does not keep; use it in a Network, or a model without them "
                             f"(e.g. WilsonCowanStep).")
        self.model = model
        merged = dict(nnoise)
        merged.update({kk: v for kk, v in (noise or {}).items() if v is not None})
        ninit = {**ninit, **{kk: np.asarray(v, dtype=float) for kk, v in (init or {}).items()}}
        for kk, v in ninit.items():
            model.state(kk)
            if np.ndim(v) and np.shape(v)[-1] != self.n:
                raise ValueError(f"init[{kk!r}] has {np.shape(v)[-1]} values but the network has {self.n} nodes "
                                 f"({self.n_vertices} vertices + {self.unmapped.size} region nodes); give a "
                                 f"scalar or one value per node.")
        self._nodes = NodeSystem(model, self.n, nparams, merged, ninit, nmethod, canonical=ncanon)
        self.method = nmethod
        self._net_names = {p.name for pw in self.regions.pathways
                           for p in (*(row for _, row in pw.strengths), *pw.table)} | {"speed", "conn", "weights"}
        h = hashlib.sha1(self.node_regions.tobytes())
        self._key = ("surface", self._nodes.structure_key(), self.regions.structure_key(), h.hexdigest())

    # ------------------------------------------------------------------ user-facing
    @property
    def n_node(self) -> int:
        """Number of nodes: vertices plus one per region without vertices."""
        return self.n

    @property
    def n_regions(self) -> int:
        return self.regions.n_node

    @property
    def node(self):
        return self._nodes

    def as_system(self):
        return self

    def __repr__(self):
        return (f"SurfaceNetwork({self.n_vertices} vertices + {self.unmapped.size} region nodes, "
                f"{self.n_regions} regions, model={self.model.name}, local="
                f"{'none' if self.local is None else self.local.nnz} non-zeros)")

    @property
    def weights(self) -> np.ndarray:
        """The long-range (region) connectome's weights, (n_regions, n_regions)."""
        return self.regions.weights

    @property
    def distance_mm(self):
        """The long-range connectome's tract lengths (mm), or ``None``."""
        return self.regions.distance_mm

    def with_traced_speed(self, speed_range, distance=None, speed=None) -> "SurfaceNetwork":
        """This network with the long-range conduction speed traced in ``speed_range``
        (:meth:`neuralmass.Network.with_traced_speed` of its region network; the vertices, local
        kernel and node parameters are shared)."""
        out = copy.copy(self)
        out.regions = self.regions.with_traced_speed(speed_range, distance=distance, speed=speed)
        out._key = ("surface", self._nodes.structure_key(), out.regions.structure_key(), self._key[3])
        return out

    def read_width(self, name: str) -> int:
        """Values per lane of ``read(name)``: ``n_regions`` for a region mean (``'V@regions'``),
        else one per node (the engine's memory estimate of recorded outputs)."""
        return self.n_regions if name.endswith(REGION_SUFFIX) else self.n

    def region_mean(self, x):
        """Mean of ``x`` (..., n nodes) over each region's nodes: (..., n_regions)."""
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.result_type(float))
        lead = x.shape[:-1]
        xl = x if not lead else x.reshape(-1, self.n).T          # lanes last for the product
        m = self._mean(xl, jnp.asarray(self._mean_w, x.dtype))
        return m if not lead else m.T.reshape(lead + (self.n_regions,))

    def buffer_elements(self, dt) -> dict:
        out = dict(self.regions.buffer_elements(dt))
        if self.local is not None:
            out["local kernel"] = 3 * self.local.nnz
        return out

    # ------------------------------------------------------------------ system protocol
    def structure_key(self):
        return self._key

    @property
    def node_model(self) -> NodeModel:
        return self.model

    def per_node_params(self) -> dict:
        return {}

    def param_spec(self, name):
        if name in self._net_names:
            return self.regions.param_spec(name)
        return self.model.param(name)

    def canonical_params(self, overrides: Mapping | None = None) -> dict:
        net_over, node_over = {}, {}
        for key, v in dict(overrides or {}).items():
            path = ("conn",) if key in ("conn", "weights") else \
                override_path(key, self.model.param_names, self._net_names - {"conn", "weights"})
            if path[0] != "node":
                net_over[key] = v
            else:
                name = path[1]
                if name == "local_strength" and np.ndim(v) == 1 and np.shape(v)[0] != self.n:
                    v = jnp.reshape(jnp.asarray(v), (-1, 1))   # a batch of strengths, one per lane
                node_over[name] = v
        out = {k: v for k, v in self.regions.canonical_params(net_over).items() if k != "node"}
        out.update(self._nodes.canonical_params(node_over))
        return out

    def noise_params(self) -> dict:
        return self._nodes.noise_params()

    @property
    def noise(self):
        return self._nodes.noise

    def initial_state(self, key=None) -> dict:
        return self._nodes.initial_state(key)

    def _region_state(self, state, params):
        """What the region network sees: the region means of the coupled variables (read at every
        node, then averaged; for a state variable or an observable linear in the state, e.g.
        Jansen–Rit's y1 - y2, this is TVB's average of the state)."""
        return {pw.var: self.region_mean(self._nodes.read(pw.var, state, params)) for pw in self.regions.pathways}

    def init_extra(self, state, params, dt, key):
        return self.regions.init_extra(self._region_state(state, params), params, dt, key)

    def delay_state_keys(self, dt) -> tuple:
        return self.regions.delay_state_keys(dt)

    def delay_source(self, state, params):
        return self.regions.delay_source(self._region_state(state, params), params)

    def read_delays(self, line, params, i, dt):
        return self.regions.read_delays(line, params, i, dt)

    def write_delays(self, line, h, i, dt):
        return self.regions.write_delays(line, h, i, dt)

    def coupling_inputs(self, extra, state, params, i, dt, delayed=None):
        out, extra = self.regions.coupling_inputs(extra, self._region_state(state, params), params, i, dt, delayed)
        idx = jnp.asarray(self.node_regions)
        return {name: v[..., idx] for name, v in out.items()}, extra

    def push(self, extra, state, params, i, dt):
        return self.regions.push(extra, self._region_state(state, params), params, i, dt)

    def read(self, name, state, params, inputs=None):
        if name.endswith(REGION_SUFFIX):
            return self.region_mean(self._nodes.read(name[:-len(REGION_SUFFIX)], state, params, inputs))
        return self._nodes.read(name, state, params, inputs)

    def view(self, state, params, inputs=None):
        return self._nodes.view(state, params, inputs)

    def output_unit(self, name):
        if name.endswith(REGION_SUFFIX):
            name = name[:-len(REGION_SUFFIX)]
        return self._nodes.output_unit(name)
