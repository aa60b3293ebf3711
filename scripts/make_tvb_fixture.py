"""Evaluate The Virtual Brain's model derivatives at random states and parameters (fixture).

Run in a *separate* environment that has tvb-library installed (it is not a dependency of
neuralmass)::

    python3 -m venv /tmp/tvb-venv && /tmp/tvb-venv/bin/pip install tvb-library
    /tmp/tvb-venv/bin/python scripts/make_tvb_fixture.py

For every TVB model that neuralmass also implements, it draws ``N`` random states, coupling
values and parameter sets (each parameter uniformly within +-25 % of TVB's default, or +-0.1
around a zero default; flags at random), calls TVB's public ``Model.dfun`` one sample at a time
(so per-sample parameters need no broadcasting assumptions) and stores only the numbers — states,
coupling, parameters and derivatives, with TVB's names and units (time in ms) — plus the
provenance (TVB version, date, seed) in ``tests/fixtures/tvb_dfun.npz``. No TVB code is copied;
``tests/test_tvb_fixture.py`` maps the names onto neuralmass's models and compares the drifts.
"""

from __future__ import annotations

import datetime
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

N = 200
SEED = 20260413
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tvb_dfun.npz"

# TVB class name -> parameters to vary (others stay at TVB's defaults and are stored too)
MODELS = {
    "MontbrioPazoRoxin": ["tau", "Delta", "eta", "J", "I", "cr", "cv"],
    "CoombesByrne": ["Delta", "alpha", "v_syn", "k", "eta"],
    "Generic2dOscillator": ["tau", "I", "a", "b", "c", "d", "e", "f", "g", "alpha", "beta", "gamma"],
    "Kuramoto": ["omega"],
    "Epileptor": ["a", "b", "c", "d", "r", "x0", "Iext", "slope", "Iext2", "tau", "aa", "bb",
                  "Kvf", "Kf", "Ks", "tt", "modification"],
    "Epileptor2D": ["a", "b", "c", "d", "r", "x0", "Iext", "slope", "Kvf", "Ks", "tt", "modification"],
    "LarterBreakspear": ["gCa", "gK", "gL", "phi", "gNa", "TK", "TCa", "TNa", "VCa", "VK", "VL", "VNa",
                         "d_K", "tau_K", "d_Na", "d_Ca", "aei", "aie", "b", "C", "ane", "ani", "aee",
                         "Iext", "rNMDA", "VT", "d_V", "ZT", "d_Z", "QV_max", "QZ_max", "t_scale"],
    "ReducedWongWangExcInh": ["a_e", "b_e", "d_e", "gamma_e", "tau_e", "w_p", "J_N", "W_e", "a_i", "b_i",
                              "d_i", "gamma_i", "tau_i", "J_i", "W_i", "I_o", "I_ext", "G"],
}


def draw_param(rng, default):
    if default.dtype == bool:
        return bool(rng.integers(0, 2))
    d = float(default[0])
    return d * (1.0 + rng.uniform(-0.25, 0.25)) if d != 0.0 else rng.uniform(-0.1, 0.1)


def main() -> int:
    from tvb.simulator import models as tvb_models

    rng = np.random.default_rng(SEED)
    arrays, meta = {}, {
        "tvb_library_version": version("tvb-library"),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "seed": SEED, "samples": N,
        "method": "Model.dfun(state[nvar,1,1], coupling[ncvar,1,1]) per sample; parameters uniform "
                  "within +-25% of TVB's default (+-0.1 around zero defaults; booleans at random); "
                  "states uniform within TVB's state_variable_range; coupling uniform in [-0.5, 0.5].",
        "models": {},
    }
    for name, varied in MODELS.items():
        cls = getattr(tvb_models, name)
        base = cls()
        base.configure()
        svars = list(base.state_variables)
        ranges = dict(base.state_variable_range)
        ncvar = len(base.cvar)
        params = {p: [] for p in varied}
        states = np.empty((N, len(svars)))
        coup = np.empty((N, ncvar))
        out = np.empty((N, len(svars)))
        for i in range(N):
            kw = {p: np.array([draw_param(rng, getattr(base, p))]) for p in varied}
            m = cls(**kw)
            m.configure()
            for p in varied:
                params[p].append(float(kw[p][0]))
            for j, s in enumerate(svars):
                lo, hi = ranges[s]
                states[i, j] = rng.uniform(lo, hi)
            coup[i] = rng.uniform(-0.5, 0.5, ncvar)
            d = m.dfun(states[i][:, None, None], coup[i][:, None, None])
            out[i] = np.asarray(d)[:, 0, 0]
        key = name
        arrays[f"{key}/states"] = states
        arrays[f"{key}/coupling"] = coup
        arrays[f"{key}/dfun"] = out
        for p, v in params.items():
            arrays[f"{key}/param/{p}"] = np.asarray(v)
        fixed = {}
        for p in getattr(base, "parameter_names", None) or []:
            if p not in varied and hasattr(base, p):
                fixed[p] = np.asarray(getattr(base, p)).tolist()
        meta["models"][key] = {"state_variables": svars, "cvar": [svars[c] for c in base.cvar],
                               "varied": varied, "fixed_defaults": fixed}
        print(f"{name:<24} {N} samples, {len(svars)} states, {ncvar} coupling terms", flush=True)
    arrays["meta"] = np.asarray(json.dumps(meta))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
