"""The outcome of a fit: :class:`FitResult` (best parameters, loss history, saving and plotting)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FitResult"]


@dataclass
class FitResult:
    """Outcome of :meth:`Fitter.fit`.

    Attributes
    ----------
    params : dict
        Best parameters, ``name -> Quantity`` in the documented unit (plain float when the
        parameter is dimensionless or has no table entry).
    canonical : dict
        Best parameters in canonical units (what the compiled core uses).
    loss : float
        Best loss found.
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
    resumed_from : int
        Step at which this call continued from a checkpoint (0: fresh start).
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
