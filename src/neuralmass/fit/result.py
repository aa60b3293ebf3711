"""The outcome of a fit: :class:`FitResult` (best parameters, loss history, saving and plotting)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FitResult"]


@dataclass(init=False)
class FitResult:
    """Outcome of :meth:`Fitter.fit`.

    Attributes
    ----------
    params : dict
        Best parameters, ``name -> Quantity`` in the documented unit (plain float when the
        parameter is dimensionless or has no table entry). ``best_params`` is the same dict
        (brainmass's name).
    canonical : dict
        Best parameters in canonical units (what the compiled core uses).
    loss : float
        Best loss found (``best_loss``, brainmass's name).
    history : ndarray (steps,)
        Lowest loss of the batch at each step / generation.
    losses : ndarray (steps, batch)
        Every evaluated loss (the batch members of each step).
    trace : ndarray (steps, dim)
        Parameters (documented units) of the best member of each step.
    n_simulations : int
        Simulations run (a gradient step of ``B`` restarts counts ``B``, each with its backward
        pass; differential evolution also counts its initial population), including steps
        done before a resume.
    wall_time : float
        Seconds spent in :meth:`Fitter.fit` (summed over resumed calls), compilation included.
    backend : str
    names : tuple of str
    n_steps : int
        Steps run (fewer than asked when a callback stopped the fit).
    resumed_from : int
        Step at which this call continued from a checkpoint (0: fresh start).
    prediction, optimizer, raw, model
        Set by the fit of a model object (``Fitter(model, optimizer, predict=...)``, see
        :class:`~neuralmass.fit.module_fitter.ModuleFitter`): the prediction (or ``loss_fn``'s
        aux) at the best point, the optimiser used, the backend's own result (SciPy's
        ``OptimizeResult``, nevergrad's best values) and the model, which holds the best values.
        ``None`` otherwise.

    Every field may be given by keyword, brainmass's ``best_loss`` and ``best_params`` included
    (they are :attr:`loss` and :attr:`params`; giving both names of one field is an error).
    """

    params: dict
    canonical: dict
    loss: float
    history: np.ndarray
    losses: np.ndarray
    trace: np.ndarray
    n_simulations: int
    wall_time: float
    backend: str
    names: tuple
    n_steps: int
    resumed_from: int = 0
    space: list = field(default_factory=list)
    prediction: object = None
    optimizer: object = None
    raw: object = None
    model: object = None

    def __init__(self, params=None, canonical=None, loss=None, history=(), losses=None, trace=None,
                 n_simulations=0, wall_time=0.0, backend=None, names=None, n_steps=None, resumed_from=0,
                 space=None, *, best_loss=None, best_params=None, prediction=None, optimizer=None, raw=None,
                 model=None):
        for ours, theirs, a, b in (("params", "best_params", params, best_params),
                                   ("loss", "best_loss", loss, best_loss)):
            if a is not None and b is not None:
                raise TypeError(f"FitResult got both {ours}= and {theirs}=, two names of one field; give one.")
        params = dict(best_params if params is None else params or {})
        loss = best_loss if loss is None else loss
        if loss is None:
            raise TypeError("FitResult needs the best loss: loss= (or best_loss=).")
        history = np.asarray(history, dtype=float).reshape(-1)
        self.params = params
        self.canonical = dict(canonical) if canonical is not None else dict(params)
        self.loss = float(loss)
        self.history = history
        self.losses = np.asarray(losses) if losses is not None else history[:, None]
        self.trace = np.asarray(trace) if trace is not None else np.empty((len(history), 0))
        self.n_simulations = int(n_simulations)
        self.wall_time = float(wall_time)
        self.backend = backend
        self.names = tuple(names) if names is not None else tuple(params)
        self.n_steps = int(n_steps) if n_steps is not None else len(history)
        self.resumed_from = int(resumed_from)
        self.space = list(space or [])
        self.prediction, self.optimizer, self.raw, self.model = prediction, optimizer, raw, model

    @property
    def best_loss(self) -> float:
        """:attr:`loss` (brainmass's name)."""
        return self.loss

    @property
    def best_params(self) -> dict:
        """:attr:`params` (brainmass's name)."""
        return self.params

    @property
    def best_history(self) -> np.ndarray:
        """Running minimum of :attr:`history` (best loss so far)."""
        h = np.where(np.isfinite(self.history), self.history, np.inf)
        return np.minimum.accumulate(h)

    def __repr__(self):
        ps = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return (f"FitResult(backend={self.backend!r}, loss={self.loss:.4g}, {ps}, steps={self.n_steps}, "
                f"n_simulations={self.n_simulations}, wall_time={self.wall_time:.1f} s)")

    def plot(self, ax=None):
        """Loss per step (batch minimum) and best-so-far; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2))
        steps = np.arange(1, len(self.history) + 1)
        ax.plot(steps, self.history, ".", ms=3, alpha=0.6, label="best of batch")
        ax.plot(steps, self.best_history, "-", lw=1.5, label="best so far")
        ax.set_xlabel("generation" if self.backend != "grad" else "step")
        ax.set_ylabel("loss")
        ax.set_title(f"{self.backend}: {self.n_simulations} simulations, {self.wall_time:.0f} s")
        ax.legend(frameon=False)
        return ax

    def save(self, path):
        """Write the result to ``path`` (``.npz``; units stored as text)."""
        meta = {"canonical": self.canonical, "loss": self.loss, "n_simulations": self.n_simulations,
                "wall_time": self.wall_time, "backend": self.backend, "names": list(self.names),
                "n_steps": self.n_steps, "resumed_from": self.resumed_from, "space": self.space}
        np.savez(path, history=self.history, losses=self.losses, trace=self.trace,
                 meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path) -> "FitResult":
        """Read a result written by :meth:`save`."""
        import brainunit as u

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            hist, losses, trace = z["history"], z["losses"], z["trace"]
        params = {}
        for d in meta["space"]:
            c = meta["canonical"][d["name"]]
            val = np.asarray(c, dtype=float) / d["factor"] if isinstance(c, list) else c / d["factor"]
            unit = _unit_from_text(d["unit"])
            params[d["name"]] = u.Quantity(val, unit=unit) if unit is not None else val
        return cls(params=params, canonical=meta["canonical"], loss=meta["loss"], history=hist,
                   losses=losses, trace=trace, n_simulations=meta["n_simulations"],
                   wall_time=meta["wall_time"], backend=meta["backend"], names=tuple(meta["names"]),
                   n_steps=meta["n_steps"], resumed_from=meta["resumed_from"], space=meta["space"])


def _unit_from_text(text):
    if text is None:
        return None
    import brainunit as u

    for cand in (u.ms, u.ms ** -1, u.Hz, u.mV, u.mm, u.mm / u.ms, u.second, u.nA, u.pA):
        if str(cand) == text:
            return cand
    return None
