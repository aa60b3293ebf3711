"""The shipped surface study (examples/configs/surface_tvb16k.toml) at dt 0.5 ms against 0.1 ms.

Noise off, the same smooth initial state, 300 ms: prints the largest difference of the region
means between the two steps, absolute and relative to their range (docs/surface.md). Needs
tvb-data.

    python benchmarks/surface_study_dt.py
"""
from pathlib import Path

import brainunit as u
import numpy as np

import neuralmass as nm
from neuralmass.config import load_config
from neuralmass.studies.build import build_study
from neuralmass.surface import RegionAverage

ROOT = Path(__file__).resolve().parents[1]
out = {}
for dt in ("0.1 ms", "0.5 ms"):
    cfg = load_config(ROOT / "examples" / "configs" / "surface_tvb16k.toml", overrides={"simulation": {"dt": dt}, "noise": {"kind": "none"}})
    st = build_study(cfg)   # the study's node (g = -1), connectome, mesh and kernel; a smooth start instead
    x, y, z = st.surface.surface.vertices.T
    init = {"V": -0.19 + 0.3 * np.sin(0.1 * x) * np.cos(0.1 * y), "W": np.full(st.surface.n_vertices, 1.65)}
    net = nm.surface.SurfaceNetwork(st.node, st.connectome, st.surface.surface, local=st.surface.local,
                                    local_strength=st.surface.local_strength, coupling=cfg["network"]["coupling"],
                                    k=cfg["network"]["k"], speed=cfg["network"]["speed"], init=init)
    res = nm.Simulator(net, dt=st.dt, progress=False).run(300.0, monitors=[RegionAverage("V", period=1.0)], key=0)
    out[dt] = np.asarray(u.get_magnitude(res["V_regions"]))
a, b = out["0.1 ms"], out["0.5 ms"]
print("shape", a.shape, "range of region means", float(a.max() - a.min()))
print("max |dt0.5 - dt0.1| =", float(np.abs(a - b).max()), " relative to range:", float(np.abs(a - b).max() / (a.max() - a.min())))
