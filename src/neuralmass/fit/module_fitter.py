r"""Fitting the parameters a model object holds: ``Fitter(model, optimizer, predict=...)``.

This is the call form of brainmass 0.1.1's ``Fitter``: the model is an object (a node module or
any user class) that *holds* its trainable parameters as :class:`~neuralmass.Param` values, and
the user says how to turn the model into a prediction (``predict(model)``) or into a loss
(``loss_fn(model) -> (loss, aux)``). The loss minimised is

.. math:: \mathcal L(\theta) = \ell\big(\mathrm{predict}(M_\theta)[t_0{:}],\ \mathrm{target}\big)
          \quad\text{or}\quad \mathcal L(\theta) = \mathrm{loss\_fn}(M_\theta)_0,

where :math:`M_\theta` is the model holding the values :math:`\theta`, :math:`t_0` the
``transient`` samples dropped from axis 0 and :math:`\ell` the ``objective`` (default
:func:`neuralmass.objectives.timeseries_rmse`).

Each parameter becomes one :class:`~neuralmass.fit.space.Dimension` of a
:class:`~neuralmass.fit.space.SearchSpace` (its ``bounds`` and ``transform``, or the model
table's plausible range, or ``search_space={name: (low, high)}``), and the three backends are
neuralmass's own (:mod:`neuralmass.fit.backends`): optax on the unconstrained coordinates
(one start, no clipping, so the run is the plain optax loop), nevergrad through ask/tell (each
generation of ``n_sample`` candidates one batch), and SciPy's differential evolution; a SciPy
method name of :func:`scipy.optimize.minimize` (``'Nelder-Mead'``, ``'L-BFGS-B'``, ...) runs
that method inside the bounds, ``n_steps`` starts (the model's values, then Latin-hypercube
points).

A candidate is evaluated by writing its values into the model, calling ``predict`` (or
``loss_fn``) and restoring the previous values. Under ``backend='grad'`` that call is traced by
:func:`jax.value_and_grad`, so ``predict`` must be a JAX function of the parameters (inside it,
run a neuralmass model with :func:`neuralmass.make_run_fn`; :meth:`Simulator.run` returns NumPy
arrays). The gradient-free backends evaluate a generation as one :func:`jax.vmap` call when
``predict`` can be traced, and one candidate after another otherwise (e.g. ``predict`` calls
:meth:`Simulator.run`, or the model holds ``brainstate.nn.Param`` values).

References
----------
D. P. Kingma & J. Ba, "Adam: a method for stochastic optimization", ICLR (2015).
R. Storn & K. Price, "Differential evolution", J. Global Optim. 11 (1997) 341–359.
J. A. Nelder & R. Mead, "A simplex method for function minimization", Comput. J. 7 (1965) 308–313.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import time
from collections.abc import Mapping
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..objectives import as_loss, timeseries_rmse
from ..params import Param
from ..units import is_quantity
from .backends import BACKENDS, real_dtype
from .fitter import Fitter, _bar, _plain_target
from .result import FitResult
from .space import Dimension, SearchSpace

__all__ = ["ModuleFitter", "is_module_form", "trainable_params"]

#: SciPy differential-evolution strategies (run by the project's DE backend)
_DE_NAMES = ("DE", "differential_evolution", "best1bin", "best1exp", "rand1bin", "rand1exp", "rand2bin",
             "rand2exp", "best2bin", "best2exp", "randtobest1bin", "randtobest1exp",
             "currenttobest1bin", "currenttobest1exp")
#: scipy.optimize.minimize methods that take bounds
_BOUNDED = ("Nelder-Mead", "L-BFGS-B", "TNC", "SLSQP", "Powell", "trust-constr", "COBYLA", "COBYQA")
#: ... and those of them that use the gradient
_GRADIENT = ("L-BFGS-B", "TNC", "SLSQP", "trust-constr")
_KEYWORDS = ("predict", "objective", "callbacks", "search_space")
#: what tracing a function that cannot be traced raises: JAX's tracer errors (NumPy or Python
#: control flow on a traced value) and compiled programs called with tracers are TypeErrors; a
#: genuine TypeError of the user's code is raised again by the one-by-one evaluation
_UNTRACEABLE = (TypeError,)


# --------------------------------------------------------------------------------------------
# which form a Fitter call has
# --------------------------------------------------------------------------------------------
def _is_optax(obj) -> bool:
    try:
        import optax
    except ImportError:  # pragma: no cover - optax is a dependency
        return False
    return isinstance(obj, optax.GradientTransformation)


def _model_loss(fn) -> bool:
    """Whether ``fn`` takes one argument (``loss_fn(model)``) rather than ``(sim, target)``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    pos = [p for p in sig.parameters.values()
           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    var = any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())
    return len(pos) == 1 and not var


def is_module_form(args: tuple, kwargs: Mapping) -> bool:
    """Whether ``Fitter(*args, **kwargs)`` is brainmass's call form.

    It is when one of ``predict``, ``objective``, ``callbacks``, ``search_space`` is given, when
    the second positional argument is an optimiser (an optax transformation, an object with an
    optax ``tx`` such as a braintools optimiser, an options dict or a method name), or when the
    loss takes the model alone (``loss_fn(model)``; neuralmass's takes ``(sim, target)``).
    """
    if any(kwargs.get(k) is not None for k in _KEYWORDS):
        return True
    if len(args) > 2:
        return False
    if len(args) == 2:
        second = args[1]
        if isinstance(second, (str, Mapping)) or _is_optax(second) or _is_optax(getattr(second, "tx", None)):
            return True
        if callable(second):
            return _model_loss(second)
    loss = kwargs.get("loss_fn")
    return loss is not None and _model_loss(loss)


# --------------------------------------------------------------------------------------------
# where the trainable parameters are, and how to write them
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Slot:
    """One trainable parameter held by the model: how to read and write its value."""

    name: str
    owner: Any
    key: str
    kind: str                 # 'attr' (a Param attribute), 'node' (a node module's table), 'brainstate'
    bounds: tuple | None
    transform: str | None

    def get(self):
        if self.kind == "attr":
            return getattr(self.owner, self.key).value
        if self.kind == "node":
            return self.owner.fit_params[self.key].value
        return self.owner.value()

    def set(self, value):
        if self.kind == "attr":
            object.__setattr__(self.owner, self.key, dataclasses.replace(getattr(self.owner, self.key), value=value))
        elif self.kind == "node":
            self.owner.set_param_value(self.key, value)
        else:
            self.owner.set_value(value)


def _finite_box(transform):
    """``(low, high)`` of a brainstate transform with a finite interval (``lower`` and ``width``
    or ``upper``), else ``None``."""
    lower = getattr(transform, "lower", None)
    if lower is None:
        return None
    width, upper = getattr(transform, "width", None), getattr(transform, "upper", None)
    hi = lower + width if width is not None else upper
    return None if hi is None else (float(np.asarray(lower)), float(np.asarray(hi)))


def trainable_params(model) -> dict:
    """``{name: slot}`` of the trainable parameters ``model`` holds, in attribute order.

    Found are :class:`~neuralmass.Param` values with ``fit=True`` held as attributes, those a
    node module was built with (its table parameters, with the table's range as default bounds),
    and ``brainstate.nn.Param`` values with ``fit=True``; nested node and brainstate modules are
    searched, and a nested parameter is named by its path (``'node.a'``).
    """
    import brainstate

    from ..models.module import NodeModule
    from ..network.network import Network

    out: dict[str, _Slot] = {}
    seen: set[int] = set()

    def visit(obj, prefix):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, Network):
            # a Network copies its node's parameters when it is built: writing them would not reach it
            raise TypeError(f"{prefix or 'model'} is a Network, whose parameters this call form cannot write; "
                            f"fit a network with neuralmass's Fitter(net, loss_fn(sim, target), backend, "
                            f"space={{'k': (low, high), 'a': (low, high)}}, dt=..., duration=...).")
        if isinstance(obj, NodeModule):
            for k, p in obj.fit_params.items():
                if p.fit:
                    row = obj.model.param(k)
                    bounds = p.bounds if p.bounds is not None else (
                        row.bounds if all(np.isfinite(row.bounds)) else None)
                    out[prefix + k] = _Slot(prefix + k, obj, k, "node", bounds, p.transform)
        attrs = vars(obj) if hasattr(obj, "__dict__") else {}
        for k, v in list(attrs.items()):
            if k.startswith("_") or (isinstance(obj, NodeModule) and k == "fit_params"):
                continue
            if isinstance(v, Param):
                if v.fit:
                    out[prefix + k] = _Slot(prefix + k, obj, k, "attr", v.bounds, v.transform)
            elif isinstance(v, brainstate.nn.Param):
                if getattr(v, "fit", True):
                    out[prefix + k] = _Slot(prefix + k, v, k, "brainstate", _finite_box(getattr(v, "t", None)),
                                            None)
            elif isinstance(v, (brainstate.nn.Module, Network)):
                visit(v, f"{prefix}{k}.")

    visit(model, "")
    return out


# --------------------------------------------------------------------------------------------
# the fitter
# --------------------------------------------------------------------------------------------
class ModuleFitter:
    r"""Fit the parameters a model holds to data, brainmass's ``Fitter`` call form.

    ``neuralmass.Fitter(model, optimizer, predict=...)`` (or with ``loss_fn(model)``, or any of
    ``objective``, ``callbacks``, ``search_space``) returns this object. It minimises

    .. math:: \mathcal L(\theta) = \ell\big(\mathrm{predict}(M_\theta)[t_0{:}],\ y\big)
              \quad\text{or}\quad \mathcal L(\theta) = \mathrm{loss\_fn}(M_\theta)_0

    over the values :math:`\theta` of the parameters the model :math:`M` holds, inside their
    bounds (:math:`\ell`: ``objective``, :math:`y`: the target, :math:`t_0`: ``transient``).

    Parameters
    ----------
    model : object
        Holds the trainable parameters: :class:`~neuralmass.Param` attributes with ``fit=True``
        (e.g. ``self.k = Param(1.0, bounds=(0.5, 3.0))``), a node module built with ``Param``
        values (``HopfStep(1, a=Param(-0.5, bounds=(-1, 1)))``), nested node or brainstate
        modules, or ``brainstate.nn.Param`` values (gradient-free backends only).
    optimizer : optional
        ``'grad'``: an optax ``GradientTransformation`` or an object carrying one as ``tx`` (a
        braintools ``OptaxOptimizer`` such as ``braintools.optim.Adam(lr=0.1)``); default
        ``optax.adam(1e-2)``. ``'nevergrad'``: ``None``, a registry name (default ``'DE'``) or a
        dict with ``method``, ``n_sample`` (candidates per generation, default 8) and ``seed``.
        ``'scipy'``: ``None`` (:func:`scipy.optimize.minimize`'s default for bounded problems,
        L-BFGS-B), a method name (``'Nelder-Mead'``, ``'L-BFGS-B'``, ...; or ``'DE'`` / a
        differential-evolution strategy such as ``'best1bin'``) or a dict with ``method``,
        ``options`` (passed to ``minimize``), ``popsize`` (DE members, default 16) and ``seed``.
    loss_fn : callable, optional
        ``loss_fn(model) -> (loss, aux)`` (or a scalar loss). Exclusive with ``predict``.
    objective : callable, optional
        ``objective(prediction, target) -> scalar``; default
        :func:`~neuralmass.objectives.timeseries_rmse`. Scores (``higher_is_better``) are turned
        into losses with :func:`~neuralmass.objectives.as_loss`.
    predict : callable, optional
        ``predict(model) -> prediction``.
    backend : {'grad', 'nevergrad', 'scipy'}
    callbacks : list of callable, optional
        ``callback(info)`` after every step (gradient step, generation, or SciPy start) with
        ``info = {'step', 'loss', 'best_loss', 'model'}``; returning ``True`` stops the fit.
    transient : int, optional
        Samples dropped from axis 0 of the prediction before the objective.
    search_space : dict, optional
        ``{name: (low, high)}`` or ``(low, high, transform)``: bounds that override a
        parameter's own (in its unit).

    Examples
    --------
    >>> import jax.numpy as jnp, neuralmass as nm
    >>> class Toy:
    ...     def __init__(self):
    ...         self.k = nm.Param(1.0, bounds=(0.5, 3.0))
    >>> fitter = nm.Fitter(Toy(), predict=lambda m: m.k.value * jnp.ones(5), backend='scipy')
    >>> res = fitter.fit(target=2.0 * jnp.ones(5), n_steps=1)
    >>> round(float(res.best_params['k']), 3)
    2.0

    References
    ----------
    D. P. Kingma & J. Ba, "Adam: a method for stochastic optimization", ICLR (2015).
    J. A. Nelder & R. Mead, "A simplex method for function minimization", Comput. J. 7 (1965) 308–313.
    """

    def __init__(self, model: Any, optimizer: Any = None, *, loss_fn: Callable | None = None,
                 objective: Callable | None = None, predict: Callable | None = None, backend: str = "grad",
                 callbacks: Any = None, transient: int | None = None, search_space: Mapping | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r} is not known; use one of {tuple(BACKENDS)}.")
        if (loss_fn is None) == (predict is None):
            raise ValueError("give either loss_fn=f(model) -> (loss, aux) or predict=f(model) -> prediction "
                             f"(got {'both' if loss_fn is not None else 'neither'}); with loss_fn, objective "
                             f"and target are not used.")
        if loss_fn is not None and objective is not None:
            raise ValueError("objective= is applied to predict(model); with loss_fn= the loss is loss_fn's: "
                             "drop objective= or pass predict= instead of loss_fn=.")
        for name, fn in (("loss_fn", loss_fn), ("predict", predict), ("objective", objective)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}={fn!r} must be callable.")
        if callable(callbacks):
            callbacks = [callbacks]
        callbacks = list(callbacks or [])
        bad = [c for c in callbacks if not callable(c)]
        if bad:
            raise TypeError(f"callbacks contains {bad[0]!r}, which is not callable; give a list of "
                            f"functions callback(info) -> bool | None.")
        if transient is not None and (isinstance(transient, bool) or not isinstance(transient, (int, np.integer))
                                      or transient < 0):
            raise ValueError(f"transient={transient!r} must be a number of samples >= 0 (or None).")
        if search_space is not None and not isinstance(search_space, Mapping):
            raise TypeError(f"search_space={search_space!r} must be a dict {{name: (low, high)}}.")
        self.model = model
        self.backend = backend
        self.loss_fn, self.predict = loss_fn, predict
        if objective is None and predict is not None:
            objective = timeseries_rmse()
        elif getattr(objective, "higher_is_better", False):
            objective = as_loss(objective)
        self.objective = objective
        self.callbacks = callbacks
        self.transient = None if transient is None else int(transient)
        self.search_space = search_space
        self._optimizer_arg = optimizer
        self._optimizer = None
        self._slots = trainable_params(model)
        self.space = self._build_space()
        self._options = self._backend_options()

    # ------------------------------------------------------------------ construction
    @property
    def optimizer(self):
        """The optimiser: the argument before :meth:`fit`, the one the fit used afterwards."""
        return self._optimizer if self._optimizer is not None else self._optimizer_arg

    def _build_space(self) -> SearchSpace:
        user = dict(self.search_space or {})
        if not self._slots:
            raise ValueError(f"{type(self.model).__name__} holds no trainable parameter: give one as "
                             f"neuralmass.Param(value, bounds=(low, high)) (fit=True), e.g. "
                             f"self.k = Param(1.0, bounds=(0.5, 3.0)) or HopfStep(1, a=Param(-0.5, bounds=(-1, 1))).")
        unknown = [n for n in user if n not in self._slots]
        if unknown:
            raise ValueError(f"search_space names {unknown[0]!r}, which is not a trainable parameter of the "
                             f"model; trainable: {', '.join(self._slots)}.")
        dims, self._shapes = [], {}
        for name, slot in self._slots.items():
            bounds, transform = slot.bounds, slot.transform
            if name in user:
                entry = user[name]
                if not (isinstance(entry, (tuple, list)) and len(entry) in (2, 3)):
                    raise ValueError(f"search_space[{name!r}]={entry!r}: give (low, high) or (low, high, transform).")
                bounds = tuple(float(np.asarray(b)) for b in entry[:2])
                transform = entry[2] if len(entry) == 3 else transform
            if bounds is None:
                raise ValueError(f"trainable parameter {name!r} has no bounds; give them with "
                                 f"Param(value, bounds=(low, high)) or search_space={{{name!r}: (low, high)}}.")
            lo, hi = (float(np.asarray(b)) for b in bounds)
            if is_quantity(slot.get()):
                raise ValueError(f"parameter {name!r} holds a Quantity ({slot.get()!r}); give its Param a plain "
                                 f"number in the model's documented unit.")
            value = np.asarray(slot.get(), dtype=float)
            self._shapes[name] = value.shape
            # a value outside bounds narrowed by search_space starts at the nearest bound
            init = np.clip(value, lo, hi)
            per = "region" if value.ndim else None    # an array: one coordinate per entry
            dims.append(Dimension(name, (name,), lo, hi, transform or "logit",
                                  init.ravel() if per else float(init), per=per, count=max(int(value.size), 1)))
        return SearchSpace(dims)

    def _backend_options(self) -> dict:
        """The optimiser argument as the backend's settings (checked before any run)."""
        arg, backend = self._optimizer_arg, self.backend
        if backend == "grad":
            if arg is None:
                import optax

                return {"tx": optax.adam(1e-2)}
            tx = arg if _is_optax(arg) else getattr(arg, "tx", None)
            if not _is_optax(tx):
                raise TypeError(f"optimizer={arg!r} is not a gradient optimiser: backend='grad' takes an optax "
                                f"GradientTransformation (e.g. optax.adam(0.1)), a braintools optimiser "
                                f"(braintools.optim.Adam(lr=0.1)) or None; an options dict or a method name is "
                                f"for backend='nevergrad' or 'scipy'.")
            return {"tx": tx}
        if arg is None:
            opts = {}
        elif isinstance(arg, str):
            opts = {"method": arg}
        elif isinstance(arg, Mapping):
            opts = dict(arg)
        else:
            raise TypeError(f"optimizer={arg!r}: backend={backend!r} takes a method name (str), an options dict "
                            f"or None (an optax or braintools optimiser is for backend='grad').")
        allowed = ("method", "n_sample", "seed") if backend == "nevergrad" else (
            "method", "options", "popsize", "n_sample", "seed")
        bad = sorted(set(opts) - set(allowed))
        if bad:
            raise ValueError(f"optimizer options {bad} are not known for backend={backend!r}; use "
                             f"{', '.join(allowed)}.")
        if backend == "nevergrad":
            try:
                import nevergrad as ng
            except ImportError as e:  # pragma: no cover - optional dependency
                raise ImportError("backend='nevergrad' needs nevergrad: pip install 'neuralmass[fit]'") from e
            method = opts.get("method", "DE")
            if isinstance(method, str) and method not in ng.optimizers.registry:
                raise ValueError(f"optimizer method={method!r} is not in nevergrad's registry; e.g. 'DE', "
                                 f"'TwoPointsDE', 'CMA', 'OnePlusOne'.")
            size = int(opts.get("n_sample", 8))
        else:
            method = opts.get("method")
            if method is not None and method not in _DE_NAMES and method not in _BOUNDED:
                raise ValueError(f"optimizer method={method!r} cannot search inside bounds; use one of "
                                 f"{', '.join(_BOUNDED)}, or 'DE' (differential evolution).")
            size = int(opts.get("popsize", opts.get("n_sample", 16)))
        need = 5 if (backend == "scipy" and method in _DE_NAMES) else 1
        if size < need:
            raise ValueError(f"optimizer population {size} is too small; give n_sample/popsize >= {need}.")
        return {"method": method, "size": size, "seed": int(opts.get("seed", 0)),
                "options": dict(opts.get("options") or {})}

    # ------------------------------------------------------------------ evaluation
    @contextlib.contextmanager
    def _written(self, x):
        """The model holding the values ``x`` (flat, documented units) inside the block."""
        old = {n: s.get() for n, s in self._slots.items()}
        try:
            for (name, sl), dim in zip(self.space.slices().items(), self.space.dims):
                v = x[sl]
                self._slots[name].set(v.reshape(self._shapes[name]) if dim.per is not None else v[0])
            yield
        finally:
            for n, s in self._slots.items():
                s.set(old[n])

    def _evaluate(self, x, target):
        """``(loss, aux)`` with the model holding ``x``."""
        with self._written(x):
            if self.loss_fn is not None:
                out = self.loss_fn(self.model)
                loss, aux = out if isinstance(out, tuple) else (out, None)
            else:
                pred = self.predict(self.model)
                aux = pred
                if self.transient is not None:
                    pred = pred[self.transient:]
                loss = self.objective(pred, target)
            if any(s.kind == "brainstate" for s in self._slots.values()) and callable(getattr(self.model, "reg_loss", None)):
                loss = loss + self.model.reg_loss()
        loss = jnp.asarray(loss)
        if loss.size != 1:
            raise ValueError(f"the loss has shape {loss.shape}; "
                             f"{'loss_fn' if self.loss_fn is not None else 'objective'} must return one number.")
        return loss.reshape(()).astype(real_dtype()), aux

    def _box_loss(self, b, target):
        return self._evaluate(self.space.box_to_user(b), target)[0]

    # ------------------------------------------------------------------ fit
    def fit(self, target: Any = None, n_steps: int = 100, *, verbose: bool = False) -> FitResult:
        """Optimise for ``n_steps`` steps (``'grad'``), generations (``'nevergrad'``, SciPy's DE) or
        starts (a ``scipy.optimize.minimize`` method); callbacks may stop earlier.

        Returns
        -------
        FitResult
            ``best_loss``/``loss``, ``best_params``/``params`` (values in the parameters' own
            units), ``history`` (best loss of each step), ``losses`` (every evaluated loss),
            ``prediction`` (``predict`` or ``loss_fn``'s aux at the best point), ``optimizer``,
            ``raw`` (the best ``OptimizeResult`` for SciPy, the best values for nevergrad) and
            ``model`` (which holds the best values).
        """
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValueError(f"n_steps={n_steps!r} must be a whole number >= 1.")
        if target is None and self.predict is not None:
            raise ValueError("fit(target=None): with predict= the objective compares the prediction with a "
                             "target; pass fit(target=data, ...).")
        tgt = None if target is None else _plain_target(target)
        t0 = time.perf_counter()
        problem = _Problem(self, tgt)
        state = {"step": 0, "opt": None}
        if self.backend == "scipy" and self._options["method"] not in _DE_NAMES:
            step_fn = self._minimize_steps(problem, int(n_steps))
        else:
            step_fn, state = BACKENDS[self.backend](problem, state, tgt)
        if self.backend == "grad":
            self._optimizer = self._optimizer_arg if self._optimizer_arg is not None else self._options["tx"]
        elif self.backend == "nevergrad":
            self._optimizer = state["opt"]
        else:
            self._optimizer = self._options["method"] or "L-BFGS-B"
        losses, trace, best_loss, best_b, raw = [], [], np.inf, None, None
        bar = _bar(int(n_steps), 0, verbose, self.backend)     # verbose=True: a progress bar
        for step in range(int(n_steps)):
            state["step"] = step
            B, L = step_fn(state)
            L = np.where(np.isfinite(np.asarray(L, dtype=float)), np.asarray(L, dtype=float), np.inf)
            i = int(np.argmin(L))
            losses.append(L)
            trace.append(np.asarray(self.space.box_to_user(np.asarray(B[i], dtype=float))))
            if L[i] < best_loss:
                best_loss, best_b = float(L[i]), np.asarray(B[i], dtype=float)
                raw = getattr(step_fn, "last", None)
            bar.update(1)
            bar.set_postfix(loss=f"{L[i]:.6g}", best=f"{best_loss:.6g}")
            info = {"step": step, "loss": float(L[i]), "best_loss": best_loss, "model": self.model}
            if any([cb(info) is True for cb in self.callbacks]):
                break
        bar.close()
        if best_b is None:
            best_b = self.space.init_box()
        x = np.asarray(self.space.box_to_user(best_b))
        values = {d.name: (x[sl].reshape(self._shapes[d.name]) if d.per else float(x[sl][0]))
                  for d, sl in zip(self.space.dims, self.space.slices().values())}
        for name, v in values.items():        # the model keeps the best values
            self._slots[name].set(v)
        aux = self._evaluate(jnp.asarray(x, real_dtype()), tgt)[1]
        if self.backend == "nevergrad":
            raw = dict(values)
        losses_arr = np.array(losses)
        return FitResult(values, {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in values.items()},
                         best_loss, losses_arr.min(axis=1), losses_arr, np.array(trace), problem.n_simulations,
                         time.perf_counter() - t0, self.backend, self.space.names, len(losses),
                         space=self.space.describe(), prediction=aux, optimizer=self.optimizer, raw=raw,
                         model=self.model)

    def _minimize_steps(self, problem, n_starts):
        """``scipy.optimize.minimize`` with the chosen method inside the bounds: one start a step."""
        from scipy.optimize import minimize

        method = self._options["method"]
        d = self.space
        lo = np.concatenate([np.full(dm.count, dm.low) for dm in d.dims])
        hi = np.concatenate([np.full(dm.count, dm.high) for dm in d.dims])
        starts = d.box_to_user(problem._start_points(n_starts))
        value = problem.value_fn()
        grad = problem.value_and_grad_x() if (method in _GRADIENT or method is None) else None

        def step(state):
            x0 = np.asarray(starts[state["step"]], dtype=float)
            if grad is not None:
                def fun(x):
                    v, g = grad(jnp.asarray(x, real_dtype()))
                    return float(v), np.asarray(g, dtype=float)
            else:
                def fun(x):
                    return float(value(jnp.asarray(x, real_dtype())))
            res = minimize(fun, x0, method=method, jac=grad is not None, bounds=list(zip(lo, hi)),
                           options=self._options["options"] or None)
            problem.n_simulations += int(getattr(res, "nfev", 0))
            res.x = np.clip(res.x, lo, hi)
            step.last = res
            return d.user_to_box(res.x)[None], np.array([res.fun], dtype=float)

        step.last = None
        return step

    def __repr__(self):
        return (f"Fitter(model={type(self.model).__name__}, backend={self.backend!r}, "
                f"parameters={list(self._slots)})")


class _Problem:
    """What a backend of :mod:`neuralmass.fit.backends` reads from its fitter, for a model object:
    the space, the optimiser settings and the batched (and differentiated) loss."""

    realizations = 1
    lr = 1e-2
    clip = None

    def __init__(self, fitter: ModuleFitter, target):
        self.fitter, self.space = fitter, fitter.space
        opts = fitter._options
        self.optimizer = opts.get("tx") if fitter.backend == "grad" else (
            opts["method"] if opts["method"] not in ("DE", "differential_evolution") or fitter.backend == "nevergrad"
            else None)
        self.batch_size = 1 if fitter.backend == "grad" else opts["size"]
        self.seed = opts.get("seed", 0)
        self.n_simulations = 0
        self.target = target
        self._traced = not any(s.kind == "brainstate" for s in fitter._slots.values())

    # the model's values first, then Latin-hypercube points; one key (no noise of the Fitter's)
    fixed_noise = True
    _start_points = Fitter._start_points
    _key = Fitter._key

    def _batch_fn(self, target):
        """``f(B, target, key) -> losses (B,)``: one vmapped call, or a loop where ``predict``
        cannot be traced."""
        fitter = self.fitter
        vm = jax.jit(jax.vmap(lambda b, t: fitter._box_loss(b, t), in_axes=(0, None)))

        def f(B, tgt, key):
            if self._traced:
                try:
                    return vm(B, tgt)
                except _UNTRACEABLE:
                    self._traced = False
            return jnp.stack([fitter._box_loss(b, tgt) for b in np.asarray(B)])

        return f

    def _grad_fn(self, target):
        """``vg(Z, target, key) -> (losses, gradients)`` in the unconstrained coordinates."""
        fitter = self.fitter
        if not self._traced:
            raise TypeError("backend='grad' cannot write brainstate.nn.Param values inside jax.grad; hold the "
                            "trainable values as neuralmass.Param, or use backend='nevergrad' or 'scipy'.")
        vg = jax.jit(jax.vmap(jax.value_and_grad(lambda z, t: fitter._box_loss(self.space.z_to_box(z), t)),
                              in_axes=(0, None)))

        def f(Z, tgt, key):
            try:
                return vg(Z, tgt)
            except _UNTRACEABLE as exc:
                raise TypeError(
                    "backend='grad' differentiates predict(model) (or loss_fn(model)) with jax.grad, but it "
                    "could not be traced: it converts a traced value to NumPy or a Python number (e.g. "
                    "Simulator.run returns NumPy arrays). Run the model with neuralmass.make_run_fn(model, dt, "
                    "duration)(Simulator(model).params(), key) inside predict, or use backend='nevergrad' "
                    f"or 'scipy'. JAX said: {str(exc).splitlines()[0]}") from exc

        return f

    def value_fn(self):
        """``x -> loss`` at values ``x`` (documented units), jitted when ``predict`` can be traced."""
        fitter, tgt = self.fitter, self.target
        jf = jax.jit(lambda x: fitter._evaluate(x, tgt)[0])

        def f(x):
            if self._traced:
                try:
                    return jf(x)
                except _UNTRACEABLE:
                    self._traced = False
            return fitter._evaluate(x, tgt)[0]

        return f

    def value_and_grad_x(self):
        """``x -> (loss, gradient)`` at values ``x`` (documented units), for SciPy's gradient
        methods; ``None`` when ``predict`` cannot be traced (SciPy then uses finite differences)."""
        if not self._traced:
            return None
        fitter, tgt = self.fitter, self.target
        vg = jax.jit(jax.value_and_grad(lambda x: fitter._evaluate(x, tgt)[0]))
        try:
            vg(jnp.asarray(np.asarray(self.space.box_to_user(self.space.init_box())), real_dtype()))
        except _UNTRACEABLE:
            self._traced = False
            return None
        return vg
