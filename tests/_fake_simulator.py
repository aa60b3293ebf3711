"""A stand-in for ``neuralmass.Simulator`` used where the pipeline around the simulation is tested."""

import numpy as np
import pytest

import neuralmass


class FakeSimulator:
    """Stands in for ``neuralmass.Simulator`` in `neuralmass run`: random signals of the right
    shapes, calls counted."""

    calls = 0

    def __init__(self, system, dt, **kw):
        self.n = getattr(system, "n", 1)
        self.dt = dt

    def run(self, duration, monitors=None, transient=0.0, key=None, **kw):
        FakeSimulator.calls += 1
        rng = np.random.default_rng(0)
        out = {}
        for m in monitors:
            name = m if isinstance(m, str) else m.key
            period = (None if isinstance(m, str) else m.period) or self.dt
            t = np.arange(1, int((duration - transient) // period) + 1) * period
            out[name] = rng.standard_normal((len(t), self.n)).astype(np.float32)
            out["ts_bold" if name == "bold" else "ts"] = t
        return out


@pytest.fixture
def fake_sim(monkeypatch):
    FakeSimulator.calls = 0
    monkeypatch.setattr(neuralmass, "Simulator", FakeSimulator)
    return FakeSimulator
