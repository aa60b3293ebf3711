r"""Fitting model parameters to data: gradients (optax), evolution strategies (nevergrad), SciPy.

:class:`Fitter` wraps a model (node population or network) and a loss into one compiled, batched
objective

.. math:: \mathcal L(\theta) = \ell\big(\mathrm{sim}(\theta, \xi),\ \mathrm{target}\big),

where :math:`\mathrm{sim}` is the compiled simulation (delays, noise and online BOLD included),
:math:`\xi` the noise realisation and :math:`\ell` a loss such as ``1 - FC correlation``
(:mod:`neuralmass.objectives`). Every step of every backend evaluates a whole *batch* of
parameter points as **one** :func:`jax.vmap` call — restarts of the gradient backend, a generation
of CMA-ES or of differential evolution — so a batch of 64 candidates costs far less than 64 runs.

By default every evaluation uses the same noise realisation (common random numbers,
``fixed_noise=True``): the objective is then a deterministic, smooth function of the
parameters, which both gradient descent and evolution strategies need; set
``fixed_noise=False`` to draw new noise at each step (a stochastic objective).

Backends
--------
``'grad'``
    optax optimiser (default Adam) on the unconstrained coordinates of the
    :class:`~neuralmass.fit.space.SearchSpace`, gradients by reverse-mode differentiation through
    the whole simulation, global-norm gradient clipping, ``restarts`` independent starts run as
    one batch. Long runs are differentiated with gradient checkpointing (``remat``).
``'nevergrad'``
    any optimiser of the nevergrad registry (default ``'CMA'``) through ask/tell; each generation
    of ``batch_size`` candidates is one batch.
``'scipy'``
    :func:`scipy.optimize.differential_evolution` semantics (``best1bin``, deferred updating), one
    generation of ``batch_size`` members per batch. Differential evolution is chosen over
    ``scipy.optimize.minimize`` because its population *is* the batch (SciPy's
    ``vectorized=True``) and it is global: finite-difference quasi-Newton methods need a smooth,
    noise-free objective and would spend ``2 d`` sequential-looking evaluations per gradient.

References
----------
N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772 (2016).
R. Storn & K. Price, "Differential evolution", J. Global Optim. 11 (1997) 341–359.
D. P. Kingma & J. Ba, "Adam: a method for stochastic optimization", ICLR (2015).
"""

from __future__ import annotations

import math
import os
import pickle
import time
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..objectives import as_loss, fc_corr
from ..params import Param
from ..typing import Array
from ..units import magnitude
from ..engine import Simulator, as_system, default_params, make_run_fn
from ..engine.program_cache import Program
from ..engine.rng import as_key as _as_key
from .backends import BACKENDS, real_dtype
from .result import FitResult
from .space import SearchSpace

__all__ = ["Fitter", "FitResult", "build_run"]

_CKPT_VERSION = 1


# --------------------------------------------------------------------------------------------
# the pure run function (with optional gradient checkpointing)
# --------------------------------------------------------------------------------------------
def build_run(system, dt, duration, *, monitors=None, transient=0.0, period=None, method=None,
              inputs=None, remat: int | None = None):
    """A pure ``run(params, key)``; see :func:`neuralmass.make_run_fn` (``remat`` enables
    gradient checkpointing)."""
    return make_run_fn(system, dt, duration, monitors=monitors, transient=transient, period=period,
                       method=method, inputs=inputs, remat=remat)


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------
# the fitter
# --------------------------------------------------------------------------------------------
def _collect_marks(model) -> dict:
    """Parameters marked ``Param(..., fit=True)`` in a node module or in a Network's node module."""
    from ..models.module import NodeModule
    from ..network.network import Network

    node = model.node if isinstance(model, Network) else model
    if not isinstance(node, NodeModule):
        return {}
    return {k: v for k, v in node.fit_params.items() if isinstance(v, Param) and v.fit}


def _plain_target(target):
    if isinstance(target, Mapping):
        return {k: _plain_target(v) for k, v in target.items()}
    v = getattr(target, "values", target) if hasattr(target, "dims") else target
    return jnp.asarray(np.asarray(magnitude(v), dtype=real_dtype()))


class Fitter:
    r"""Fit parameters of a model so that its simulated signals match a target.

    Parameters
    ----------
    model : node module, Network, or engine system
        What to simulate. Parameters marked ``Param(value, fit=True, bounds=...)`` in the node
        module (or the network's node) are fitted; ``space`` adds to or overrides them.
    loss_fn : callable, optional
        ``loss_fn(sim, target) -> scalar``, pure and differentiable for ``backend='grad'``
        (e.g. ``objectives.as_loss(objectives.fc_corr(target_is_fc=True))`` or a
        ``objectives.combine(...)``). ``sim`` is the single monitor's ``(T, n)`` array, or a
        dict when there are several monitors. Scores (``higher_is_better``) are turned into
        losses with :func:`~neuralmass.objectives.as_loss`. Default: ``1 - FC correlation``
        (the target may be a signal ``(T, n)`` or an FC matrix ``(n, n)``).
    backend : {'grad', 'nevergrad', 'scipy'}
    space : dict or SearchSpace, optional
        ``name -> (low, high)`` or ``(low, high, transform)`` or ``{'bounds', 'transform',
        'init'}``; names as in :meth:`Simulator.params` (``'k'``, ``'a'``, ``'speed'``,
        ``'noise.x_ext.sigma'``). Bounds and initial values in the documented units.
    dt, duration, transient, monitors, period, method, inputs
        The simulation (as for :meth:`neuralmass.Simulator.run`; plain numbers in ms).
    optimizer : optax transformation or str, optional
        ``'grad'``: an optax optimiser (default ``optax.adam(lr)``). ``'nevergrad'``: a registry
        name (default ``'CMA'``; ``'TwoPointsDE'`` for a single parameter) or a configured
        optimiser family. ``'scipy'``: the
        differential-evolution strategy (default ``'best1bin'``).
    lr : float
        Learning rate of the default Adam (unconstrained coordinates, where the whole range is a
        few units wide).
    clip : float or None
        Global-norm gradient clipping threshold.
    restarts : int
        Starting points of the gradient backend, optimised together as one batch: the space's
        ``init`` (or the box centre) and Latin-hypercube points.
    batch_size : int
        Candidates per generation of the gradient-free backends (default 16).
    seed : int
        Seed of starting points, optimiser randomness and noise.
    fixed_noise : bool
        Use the same noise realisation for every evaluation (common random numbers).
    distance : array (n, n), optional
        Tract lengths (mm), needed to fit ``'speed'`` of a network (the speed becomes a traced
        parameter, see ``Network(speed_range=...)``).
    remat : int, 'auto' or None
        Gradient checkpointing segments for ``'grad'`` (``'auto'``: about ``sqrt(steps)``
        segments when a run has more than 20 000 steps).
    realizations : int
        Noise realisations per evaluation: the loss is the mean of ``loss_fn`` over
        ``realizations`` runs with independent noise (lanes of one vmapped run). Averaging
        makes the loss of a noise-driven model less tied to one realisation, at ``realizations``
        times the cost; each counts as a simulation.
    penalty : dict, optional
        Priors on fitted parameters added to the loss, ``name -> (kind, weight)`` with values in
        documented units: ``'l1'`` adds :math:`\lambda\,\mathrm{mean}_i |x_i|` (sparsity, e.g. of
        connection weights); ``'l2'`` adds :math:`\lambda\,\mathrm{mean}_i ((x_i - x_{0,i}) /
        (u - l))^2` (stay near the starting values :math:`x_0`, e.g. the structural weights).
    progress : bool
        Show a tqdm progress bar.
    objective, predict, callbacks, search_space
        brainmass's call form ``Fitter(model, optimizer, *, loss_fn, objective, predict, backend,
        callbacks, transient, search_space)``: given any of these, an optimiser as second
        argument, or a ``loss_fn(model)`` of the model alone, ``Fitter(...)`` returns a
        :class:`~neuralmass.fit.module_fitter.ModuleFitter`, which fits the ``Param`` values the
        model object holds (see ``docs/fitting.md``, "Coming from brainmass").

    Examples
    --------
    >>> node = brainmass.HopfStep(8, a=brainmass.Param(-0.1, bounds=(-0.5, 0.5)))   # doctest: +SKIP
    >>> fitter = Fitter(net, loss_fn=objectives.as_loss(objectives.fc_corr(target_is_fc=True)),
    ...                 backend='nevergrad', space={'k': (0.0, 3.0)}, dt=0.1, duration=60_000)
    >>> res = fitter.fit(empirical_fc, n_steps=30)                                   # doctest: +SKIP
    >>> res.params, res.n_simulations
    """

    def __new__(cls, *args, **kwargs):
        # brainmass's call form (an optimiser as second argument, predict=, loss_fn(model), ...)
        # fits the parameters the model object holds: a ModuleFitter
        from .module_fitter import ModuleFitter, is_module_form

        if cls is Fitter and is_module_form(args, kwargs):
            return ModuleFitter(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, model: Any, loss_fn: Callable | None = None, backend: str = "grad",
                 space: Mapping | SearchSpace | None = None, *, dt: Array | None = None, duration: Array = 1000.0,
                 transient: Array = 0.0, monitors: Any = None, period: Array | None = None,
                 method: str | None = None, inputs: Mapping | None = None, optimizer: Any = None,
                 lr: float = 0.1, clip: float | None = 1.0, restarts: int = 4, batch_size: int | None = None,
                 seed: int = 0, fixed_noise: bool = True, distance: Array | None = None,
                 remat: bool | str = "auto", progress: bool = True, realizations: int = 1,
                 penalty: Mapping | None = None, objective: Callable | None = None,
                 predict: Callable | None = None, callbacks: Any = None,
                 search_space: Mapping | None = None) -> None:
        # objective, predict, callbacks, search_space belong to the model-object form, which
        # __new__ hands to ModuleFitter; they are never set here
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r} is not known; use one of {tuple(BACKENDS)}.")
        self.backend = backend
        self.model = model
        system = as_system(model)
        if dt is None:
            dt = system.node_model.default_dt
        marks = _collect_marks(model)
        names = set(marks) | (set(space) if isinstance(space, Mapping) else set())
        if "speed" in names and "speed" not in default_params(system):
            system = self._traced_speed(system, space, marks, distance)
        self.system = system
        self.sim = Simulator(system, dt=dt, method=method)
        self.base_params = self.sim.params()
        self.space = space if isinstance(space, SearchSpace) else SearchSpace.from_spec(
            space, system, self.base_params, marks)
        self.loss_fn = loss_fn
        self.realizations = int(realizations)
        if self.realizations < 1:
            raise ValueError(f"realizations={realizations!r} must be >= 1 (noise runs averaged per evaluation).")
        self._penalty = _penalty_terms(self.space, penalty)
        self.restarts = int(restarts)
        if self.restarts < 1:
            raise ValueError(f"restarts={restarts!r} must be >= 1.")
        self.batch_size = int(batch_size) if batch_size is not None else (
            self.restarts if backend == "grad" else 16)
        if self.batch_size < 1 or (backend == "scipy" and self.batch_size < 5):
            raise ValueError(f"batch_size={batch_size!r} is too small; differential evolution needs >= 5 "
                             f"members, the other backends >= 1.")
        self.optimizer = optimizer
        self.lr, self.clip, self.seed = float(lr), clip, int(seed)
        self.fixed_noise = bool(fixed_noise)
        self.progress = progress
        run_kw = dict(monitors=monitors, transient=transient, period=period, method=method, inputs=inputs)
        probe = build_run(system, dt, duration, **run_kw)
        if remat == "auto":
            remat = int(math.ceil(math.sqrt(probe.n_steps))) if (backend == "grad" and probe.n_steps > 20_000) else None
        self.remat = remat
        self.run_fn = build_run(system, dt, duration, remat=remat if backend == "grad" else None, **run_kw)
        self._eval_run = probe if (backend == "grad" and remat) else self.run_fn
        self.dt, self.duration = dt, duration
        self._compiled: dict = {}
        self.n_simulations = 0

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _traced_speed(system, space, marks, distance):
        from ..network.network import Network

        if not isinstance(system, Network):
            raise ValueError("'speed' can only be fitted for a Network (it sets the conduction delays).")
        if distance is None and system.distance_mm is None:
            raise ValueError("fitting 'speed' needs the tract lengths: pass Fitter(..., distance=lengths_mm).")
        entry = (space or {}).get("speed", marks.get("speed")) if isinstance(space, Mapping) else marks.get("speed")
        bounds = None
        if isinstance(entry, Param):
            bounds = entry.bounds
        elif isinstance(entry, Mapping):
            bounds = entry.get("bounds")
        elif isinstance(entry, (tuple, list)):
            bounds = entry[:2]
        if bounds is None:
            raise ValueError("give bounds for 'speed', e.g. space={'speed': (1.0, 20.0)} (mm/ms = m/s).")
        return system.with_traced_speed(tuple(bounds), distance=distance)

    def _loss(self, target):
        f = self.loss_fn
        if f is None:
            t = target if not isinstance(target, Mapping) else None
            square = t is not None and t.ndim == 2 and t.shape[0] == t.shape[1]
            f = as_loss(fc_corr(target_is_fc=bool(square)))
        elif getattr(f, "higher_is_better", False):
            f = as_loss(f)
        return f

    def _key(self, step):
        key = jax.random.PRNGKey(self.seed)
        return key if self.fixed_noise else jax.random.fold_in(key, step)

    def _single_loss(self, run, loss, b, target, key):
        P = self.space.apply(self.base_params, b)

        def data_loss(k):
            out = run(P, k)
            sim = out[run.monitor_keys[0]] if len(run.monitor_keys) == 1 else out
            return jnp.asarray(loss(sim, target)).reshape(())

        if self.realizations > 1:
            val = jnp.mean(jax.vmap(data_loss)(jax.random.split(key, self.realizations)))
        else:
            val = data_loss(key)
        if self._penalty:
            x = self.space.box_to_user(b)
            for sl, kind, weight, x0, scale in self._penalty:
                xs = x[sl]
                val = val + weight * (jnp.mean(jnp.abs(xs)) if kind == "l1" else jnp.mean(((xs - x0) / scale) ** 2))
        return val.astype(real_dtype())

    def _batch_fn(self, target):
        key = ("batch", id(self.loss_fn))
        if key not in self._compiled:
            loss = self._loss(target)
            run = self._eval_run

            def f(B, tgt, k):
                return jax.vmap(lambda b: self._single_loss(run, loss, b, tgt, k))(B)

            self._compiled[key] = Program(f, "fit_batch")   # stored for later processes
        return self._compiled[key]

    def _grad_fn(self, target):
        key = ("grad", id(self.loss_fn))
        if key not in self._compiled:
            loss = self._loss(target)
            run = self.run_fn

            def fz(z, tgt, k):
                return self._single_loss(run, loss, self.space.z_to_box(z), tgt, k)

            vg = jax.vmap(jax.value_and_grad(fz), in_axes=(0, None, None))

            def f(Z, tgt, k):
                val, g = vg(Z, tgt, k)
                ok = jnp.isfinite(val)[:, None] & jnp.all(jnp.isfinite(g), axis=1, keepdims=True)
                return jnp.where(jnp.isfinite(val), val, jnp.inf), jnp.where(ok, g, 0.0)

            self._compiled[key] = Program(f, "fit_grad")
        return self._compiled[key]

    # ------------------------------------------------------------------ public helpers
    def evaluate(self, points: Mapping | Array, target: Any, key: Array | int | None = None,
                 chunk: int | None = None) -> np.ndarray:
        """Losses of parameter points as batched runs.

        Parameters
        ----------
        points : array (P, dim) in documented units, or dict ``name -> array (P,)``
        target : the fit target
        chunk : int, optional
            Points per vmapped batch (default: all at once).
        """
        X = self._points(points)
        B = self.space.user_to_box(X)
        tgt = _plain_target(target)
        f = self._batch_fn(tgt)
        k = self._key(0) if key is None else _as_key(key)
        chunk = chunk or len(B)
        out = []
        for i in range(0, len(B), chunk):
            part = B[i:i + chunk]
            pad = chunk - len(part)
            if pad:
                part = np.concatenate([part, np.repeat(part[-1:], pad, 0)])
            out.append(np.asarray(f(jnp.asarray(part, real_dtype()), tgt, k))[:chunk - pad])
            self.n_simulations += (chunk - pad) * self.realizations
        return np.concatenate(out)

    def _points(self, points) -> np.ndarray:
        if isinstance(points, Mapping):
            if any(d.per is not None for d in self.space.dims):
                cols = [np.asarray(self.space.user_value(d.name, points[d.name]), dtype=float).reshape(-1, d.count)
                        for d in self.space.dims]
                P = max(len(c) for c in cols)
                X = np.concatenate([np.broadcast_to(c, (P, c.shape[1])) for c in cols], axis=1)
                return X
            cols = []
            for name in self.space.names:
                cols.append(self.space.user_value(name, points[name]))
            X = np.stack(np.broadcast_arrays(*cols), axis=-1)
        else:
            X = np.asarray(points, dtype=float)
        return X.reshape(-1, self.space.dim)

    def params_for(self, values: Mapping | Array) -> dict:
        """Canonical parameter pytree for ``values`` (a FitResult, or dict name -> value in
        documented units)."""
        if isinstance(values, FitResult):
            b = self.space.canonical_to_box(values.canonical)
        else:
            b = self.space.user_to_box(self._points(values)[0])
        return self.space.apply(self.base_params, jnp.asarray(b))

    def simulate(self, values: Mapping | Array, key: Array | int | None = None,
                 batch_size: int | None = None) -> dict:
        """Run the fitted model at ``values`` (FitResult or dict); ``batch_size`` independent noise
        realisations give a leading axis. Returns ``{monitor: ndarray}``."""
        P = self.params_for(values)
        k = self._key(0) if key is None else _as_key(key)
        run = jax.jit(self._eval_run)
        if batch_size:
            keys = jax.random.split(k, batch_size)
            out = jax.jit(jax.vmap(self._eval_run, in_axes=(None, 0)))(P, keys)
        else:
            out = run(P, k)
        return {name: np.asarray(v) for name, v in out.items()}

    def grid_search(self, target: Any, points: int | Mapping = 8, chunk: int | None = None) -> FitResult:
        """Exhaustive search on a grid over the space (``points`` per dimension, or explicit
        ``name -> values`` in documented units), evaluated in vmapped chunks."""
        t0 = time.perf_counter()
        n0 = self.n_simulations
        axes = []
        if any(d.per is not None for d in self.space.dims):
            raise ValueError("grid_search needs scalar parameters; a per-region or per-connection space "
                             "is searched with backend='grad', 'nevergrad' or 'scipy'.")
        for d in self.space.dims:
            if isinstance(points, Mapping):
                axes.append(self.space.user_value(d.name, points[d.name]))
            else:
                axes.append(np.asarray(d.box_to_user(np.linspace(0, 1, int(points)))))
        mesh = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=-1)
        L = self.evaluate(mesh, target, chunk=chunk)
        Lf = np.where(np.isfinite(L), L, np.inf)
        i = int(np.argmin(Lf))
        b = self.space.user_to_box(mesh[i])
        return FitResult(self.space.to_user(b), self.space.to_canonical_dict(b), float(Lf[i]),
                         np.array([Lf[i]]), L[None], mesh[i][None], self.n_simulations - n0,
                         time.perf_counter() - t0, "grid", self.space.names, 1,
                         space=self.space.describe())

    # ------------------------------------------------------------------ fit
    def fit(self, target: Any, n_steps: int = 100, checkpoint: str | os.PathLike | None = None) -> FitResult:
        """Optimise for ``n_steps`` steps (gradient) or generations (gradient-free).

        Parameters
        ----------
        target
            Passed to ``loss_fn`` as its second argument (e.g. an empirical FC matrix or a signal).
        n_steps : int
            Total steps. With ``checkpoint``, steps already done in an earlier call count.
        checkpoint : path, optional
            Pickle the optimiser state after every step; if the file exists, continue from it.
        """
        if n_steps < 1:
            raise ValueError(f"n_steps={n_steps!r} must be >= 1.")
        tgt = _plain_target(target)
        state = self._load(checkpoint)
        t_start = time.perf_counter()
        if state is None:
            state = {"version": _CKPT_VERSION, "backend": self.backend, "names": self.space.names,
                     "batch": self.batch_size, "step": 0, "losses": [], "trace": [], "best_b": None,
                     "best_loss": np.inf, "n_sims": 0, "wall": 0.0, "opt": None}
        resumed_from = state["step"]
        n_sims0 = self.n_simulations
        step_fn, state = BACKENDS[self.backend](self, state, tgt)
        bar = _bar(n_steps, state["step"], self.progress, self.backend)
        try:
            while state["step"] < n_steps:
                B, L = step_fn(state)
                L = np.where(np.isfinite(L), L, np.inf)
                i = int(np.argmin(L))
                state["losses"].append(L)
                state["trace"].append(np.asarray(self.space.box_to_user(B[i])))
                if L[i] < state["best_loss"]:
                    state["best_loss"], state["best_b"] = float(L[i]), np.asarray(B[i])
                state["step"] += 1
                state["n_sims"] += self.n_simulations - n_sims0
                n_sims0 = self.n_simulations
                state["wall"] += time.perf_counter() - t_start
                t_start = time.perf_counter()
                if checkpoint is not None:
                    self._save(checkpoint, state)
                bar.update(1)
                bar.set_postfix(loss=f"{state['best_loss']:.4g}")
        finally:
            bar.close()
        state["wall"] += time.perf_counter() - t_start
        b = state["best_b"] if state["best_b"] is not None else self.space.init_box()
        losses = np.array(state["losses"])
        return FitResult(self.space.to_user(b), self.space.to_canonical_dict(b), float(state["best_loss"]),
                         losses.min(axis=1), losses, np.array(state["trace"]), int(state["n_sims"]),
                         float(state["wall"]), self.backend, self.space.names, int(state["step"]),
                         resumed_from, self.space.describe())

    # ------------------------------------------------------------------ checkpoints
    def _load(self, path):
        if path is None or not os.path.exists(path):
            return None
        with open(path, "rb") as fh:
            state = pickle.load(fh)
        want = (_CKPT_VERSION, self.backend, tuple(self.space.names), self.batch_size)
        got = (state.get("version"), state.get("backend"), tuple(state.get("names", ())), state.get("batch"))
        if want != got:
            raise ValueError(
                f"checkpoint {os.fspath(path)!r} was written by a different fit (version, backend, "
                f"parameters, batch size = {got}, this fit: {want}); delete it or use another path.")
        return state

    def _save(self, path, state):
        tmp = os.fspath(path) + ".tmp"
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh)
        os.replace(tmp, path)

    def _start_points(self, n):
        rng = np.random.default_rng(self.seed)
        pts = self.space.sample_box(rng, n)
        pts[0] = self.space.init_box()
        return pts

def _penalty_terms(space, penalty) -> list:
    """``[(slice, kind, weight, x0, scale), ...]`` of the priors named in ``penalty``."""
    if not penalty:
        return []
    if not isinstance(penalty, Mapping):
        raise TypeError(f"penalty={penalty!r} must be a dict {{name: (kind, weight)}}, e.g. "
                        f"{{'conn.w': ('l1', 1e-3)}}.")
    slices = space.slices()
    out = []
    for name, spec in penalty.items():
        if name not in slices:
            raise KeyError(f"penalty names {name!r}, which is not fitted; fitted: {', '.join(space.names)}.")
        if not (isinstance(spec, (tuple, list)) and len(spec) == 2 and spec[0] in ("l1", "l2")):
            raise ValueError(f"penalty[{name!r}]={spec!r}: give (kind, weight) with kind 'l1' or 'l2'.")
        weight = float(spec[1])
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"penalty[{name!r}] weight {spec[1]!r} must be a finite number >= 0.")
        d = space.dims[space.names.index(name)]
        x0 = jnp.asarray(d.box_to_user(d.init_box()))
        out.append((slices[name], spec[0], weight, x0, float(d.high - d.low)))
    return out


class _NoBar:
    def update(self, *_):
        pass

    def set_postfix(self, **_):
        pass

    def close(self):
        pass


def _bar(total, initial, show, desc):
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=f"fit[{desc}]", unit="step")
