"""Run The Virtual Brain's *surface* simulator once, deterministically, and store a small fixture.

Run in a *separate* environment that has tvb-library and tvb-data installed (neither is a
dependency of neuralmass; nothing of TVB is copied, the script only imports it)::

    python3 -m venv ../tvb-venv && ../tvb-venv/bin/pip install tvb-library tvb-data
    ../tvb-venv/bin/python scripts/make_tvb_surface_fixture.py

Writes ``tests/fixtures/tvb_surface_16k.npz`` (numbers only, plus a JSON ``meta`` string), which
``tests/test_surface_tvb.py`` compares with neuralmass's surface network.

Set-up (all TVB defaults unless listed)
--------------------------------------
* Mesh: tvb-data ``surfaceData/cortex_16384.zip`` (16 384 vertices, coordinates in mm), region
  mapping ``regionMapping/regionMapping_16k_76.txt`` (all 76 regions occur, so there are no
  extra non-cortical nodes: the simulator has exactly 16 384 nodes).
* Local connectivity: the file ``local_connectivity/local_connectivity_16384.mat`` (variable
  ``LocalCoupling``), used as is. It is the *row-normalised 1-ring mesh adjacency*: entry (i, j) is
  1/deg(i) for each mesh neighbour j of vertex i (deg = number of distinct neighbours through
  triangles), zero diagonal, 98 280 non-zeros, rows sum to 1, not symmetric. The script checks
  this against the triangles and records it in ``meta``. Scaled by ``Cortex.coupling_strength``
  (``LC_STRENGTH`` below); no other normalisation.
* Long-range: tvb-data ``connectivity/connectivity_76.zip`` weights *as stored* (not normalised;
  diagonal non-zero, not symmetric), tract lengths in mm, ``Connectivity.speed`` = ``SPEED`` mm/ms
  (NB: ``Simulator.conduction_speed`` is *not* what sets the delays in TVB 2.10 — only
  ``Connectivity.speed`` is used when the delays are computed), ``coupling.Linear(a=A, b=0)``.
* Model: ``Generic2dOscillator`` with TVB's defaults (tau 1, I 0, a -2, b -10, c 0, d 0.02, e 3,
  f 1, g 0, alpha 1, beta 1, gamma 1), one mode; integrator ``HeunDeterministic(dt=0.1)`` (ms).
* Duration ``T_MS`` ms; samples every ``EVERY`` steps (including t = 0).

Initial conditions (formula id ``IC_ID``; reproduce them from the vertex coordinates)
-------------------------------------------------------------------------------------
With x, y, z the vertex coordinates in mm as stored in ``cortex_16384.zip``::

    V0 = sin(0.1 x) cos(0.1 y) + 0.5 sin(0.7 z + 0.3 x)
    W0 = -0.5 + 0.5 cos(0.05 (x + y + z))

The same (V0, W0) is used for *every* history time point (a constant initial history over the
whole delay horizon) and as the state at t = 0. The second term of V0 varies on the scale of the
mesh spacing (~4 mm) so that local coupling is not a mere gain on V.

TVB's surface scheme (tvb-library 2.10: simulator.py, history.py, coupling.py, integrators.py,
datatypes/cortex.py, backend/ref.py, models/oscillator.py), as implemented here
---------------------------------------------------------------------------------------------
Notation: X_n = (V, W) on all vertices after step n; rm = region mapping (vertex -> region);
V̄_r = plain mean of V over the vertices of region r (``bincount`` division: *not*
area-weighted); d_ij = rint(L_ij / speed / dt) integer steps; H = max d + 1 (the horizon).

1. History holds only the coupling variable (V) *region-averaged*, in a ring buffer of H slots.
   Initial history given at vertex level (H, 2, nv, 1) is reduced to region means per time point;
   the state at t = 0 is the last time point at vertex level. Time index n = 0 is the IC.
2. Long-range input for the step n -> n+1 (computed *before* the step, from the buffer that
   already holds step n):  c_r(n) = a * sum_j w[r, j] * V̄_j(n - d_rj) + b   (row = target,
   column = source; self-connections included, with their delay), then broadcast to vertices:
   c_v = c_rm[v]. It is held fixed for both Heun stages.
3. Local input is instantaneous and re-evaluated inside each stage: lc(X) = s * (M @ V)
   (s = coupling strength, M the matrix above); in the Generic2dOscillator it enters as
   dV = d*tau*(alpha W - f V^3 + e V^2 + g V + gamma I + gamma c_v + lc)  — lc is *not*
   multiplied by gamma (identical here since gamma = 1);  dW = d/tau (a + b V + c V^2 - beta W).
4. Heun (deterministic): k1 = F(X_n, c, lc(X_n)); X~ = X_n + dt k1; k2 = F(X~, c, lc(X~));
   X_{n+1} = X_n + dt/2 (k1 + k2). No bounds/clamping for this model.
5. After the step: region means of V(X_{n+1}) are written to buffer slot n+1; then c(n+1).
6. Precision: TVB keeps the history buffer and the weights in *float32* (simulator/history.py
   declares them with dtype 'f'), so each region mean is rounded to float32 when stored and the
   weighted sum is accumulated in float32 before ``a`` (float64) multiplies it. Everything else is
   float64. A float64 re-implementation of this scheme therefore agrees with the fixture only to
   about 1e-8 in the states (1e-7 in ``lr_coupling``), not to 1e-15 — measured, see the test.

Stored arrays (float64)
-----------------------
``t_ms`` (S,), sample times; ``vertex_idx`` (K,), the fixed vertex subset (evenly spaced indices);
``vertex_xyz`` (K, 3) and ``ic_vertices`` (2, K) to check the IC formula;
for each variant ``<v>`` in ``full``, ``nodelay`` (speed so high that all delays are 0 steps),
``nolocal`` (local coupling strength 0), ``nolongrange`` (a = 0):
``<v>/region`` (S, 2, 76) region means of V and W (plain mean), ``<v>/vertices`` (S, 2, K) for
``full`` and (S, 1, K) — V only — for the other variants,
``<v>/lr_coupling`` (S, 76) TVB's afferent long-range coupling c_r(n) at the sample steps (the
input for the step *after* the sample). ``idelays`` (76, 76) TVB's integer delays (full variant);
``vertex_region`` (K,) the region of each kept vertex; ``vertices_checksum`` (1,) the sum of all
vertex coordinates (to detect a different mesh file).
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tvb_surface_16k.npz"
DT = 0.1            # ms
T_MS = 50.0         # ms
EVERY = 10          # steps between samples (1 ms)
SPEED = 5.0         # mm/ms
A = 0.0152          # Linear coupling a (b = 0)
LC_STRENGTH = 1.0   # Cortex.coupling_strength
N_VERTICES_KEPT = 256
IC_ID = "sincos-v1"
VARIANTS = {
    "full": dict(speed=SPEED, a=A, lc=LC_STRENGTH),
    "nodelay": dict(speed=1e9, a=A, lc=LC_STRENGTH),
    "nolocal": dict(speed=SPEED, a=A, lc=0.0),
    "nolongrange": dict(speed=SPEED, a=0.0, lc=LC_STRENGTH),
}


def initial_state(xyz: np.ndarray) -> np.ndarray:
    """(2, nv) initial (V, W) from vertex coordinates in mm (formula id ``sincos-v1``)."""
    x, y, z = xyz.T
    V = np.sin(0.1 * x) * np.cos(0.1 * y) + 0.5 * np.sin(0.7 * z + 0.3 * x)
    W = -0.5 + 0.5 * np.cos(0.05 * (x + y + z))
    return np.stack([V, W])


def check_local_matrix(M, triangles, nv):
    """Is M the row-normalised 1-ring adjacency of the mesh? Returns a dict for ``meta``."""
    import scipy.sparse as sp

    t = np.asarray(triangles)
    rows = np.r_[t[:, 0], t[:, 1], t[:, 2]]
    cols = np.r_[t[:, 1], t[:, 2], t[:, 0]]
    adj = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(nv, nv)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    deg = np.asarray(adj.sum(1)).ravel()
    ref = sp.diags(1.0 / deg) @ adj
    M = sp.csr_matrix(M)
    return {"nnz": int(M.nnz), "format_in_tvb": type(M).__name__,
            "max_abs_diff_to_row_normalised_1ring": float(abs(M - ref).max()),
            "row_sum_min": float(np.asarray(M.sum(1)).min()),
            "row_sum_max": float(np.asarray(M.sum(1)).max()),
            "diagonal_max_abs": float(abs(M.diagonal()).max()),
            "symmetric": bool(abs(M - M.T).max() == 0)}


def build(speed, a, lc, n_hist=None):
    from tvb.datatypes import connectivity, cortex
    from tvb.simulator import coupling, integrators, models, monitors, simulator

    conn = connectivity.Connectivity.from_file("connectivity_76.zip")
    conn.speed = np.array([speed])
    conn.configure()
    ctx = cortex.Cortex.from_file(source_file="cortex_16384.zip",
                                  region_mapping_file="regionMapping_16k_76.txt",
                                  local_connectivity_file="local_connectivity_16384.mat")
    ctx.region_mapping_data.connectivity = conn
    ctx.coupling_strength = np.array([lc])
    model = models.Generic2dOscillator()
    model.variables_of_interest = ("V", "W")
    # the horizon TVB will use (Connectivity.set_idelays): rint(delay / dt).max() + 1
    horizon = int(np.rint(conn.tract_lengths / speed / DT).astype(np.int32).max()) + 1
    xyz = ctx.region_mapping_data.surface.vertices
    ic = initial_state(xyz)
    hist = np.broadcast_to(ic[None, :, :, None], (horizon, 2, ic.shape[1], 1)).copy()
    sim = simulator.Simulator(
        model=model, connectivity=conn, coupling=coupling.Linear(a=np.array([a]), b=np.array([0.0])),
        integrator=integrators.HeunDeterministic(dt=DT),
        monitors=(monitors.Raw(), monitors.AfferentCoupling()),
        surface=ctx, initial_conditions=hist, simulation_length=T_MS)
    sim.configure()
    assert conn.horizon == horizon, (conn.horizon, horizon)
    assert sim.number_of_nodes == ic.shape[1]
    return sim, ctx, conn, ic


def run(sim, ctx, conn, ic, keep):
    """Run TVB's own loop; return sample times (ms from the IC), region means, vertex subset, c_r."""
    rm = np.asarray(ctx.region_mapping)
    nreg = conn.number_of_regions
    counts = np.bincount(rm, minlength=nreg)
    first_vertex = np.array([np.flatnonzero(rm == r)[0] for r in range(nreg)])
    step0 = sim.current_step               # TVB's step index of the IC (= horizon - 1)
    n_steps = int(round(T_MS / DT))

    def region_mean(x):                     # x (2, nv)
        out = np.zeros((2, nreg))
        np.add.at(out.T, rm, x.T)
        return out / counts

    ts, regs, verts, lrc = [0.0], [region_mean(ic)], [ic[:, keep]], []
    # c_r(0): the input for the first step, from the initial history
    lrc.append(np.asarray(sim._loop_compute_node_coupling(step0 + 1))[0, first_vertex, 0])
    for raw, aff in sim(simulation_length=T_MS):
        n = int(round(raw[0] / DT)) - step0
        if n % EVERY:
            continue
        x = np.asarray(raw[1])[:, :, 0]
        ts.append(n * DT)
        regs.append(region_mean(x))
        verts.append(x[:, keep])
        lrc.append(np.asarray(aff[1])[0, first_vertex, 0])
    assert n == n_steps, (n, n_steps)
    return np.array(ts), np.array(regs), np.array(verts), np.array(lrc)


def main() -> int:
    import tvb_data  # noqa: F401  (tvb-data must be installed)

    arrays = {}
    meta = {
        "tvb_library_version": version("tvb-library"), "tvb_data_version": version("tvb-data"),
        "numpy": np.__version__, "python": sys.version.split()[0],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mesh": "tvb_data surfaceData/cortex_16384.zip", "region_mapping": "regionMapping_16k_76.txt",
        "connectivity": "tvb_data connectivity/connectivity_76.zip (weights as stored)",
        "local_connectivity": "tvb_data local_connectivity/local_connectivity_16384.mat (LocalCoupling), as is",
        "model": "Generic2dOscillator (TVB defaults)", "model_params": {},
        "integrator": "HeunDeterministic", "dt_ms": DT, "duration_ms": T_MS, "sample_every_steps": EVERY,
        "coupling": "Linear (b=0)", "coupling_a": A, "speed_mm_per_ms": SPEED,
        "local_coupling_strength": LC_STRENGTH, "ic_id": IC_ID,
        "ic_formula": "V0 = sin(0.1 x) cos(0.1 y) + 0.5 sin(0.7 z + 0.3 x); "
                      "W0 = -0.5 + 0.5 cos(0.05 (x + y + z)); x,y,z vertex coordinates in mm; "
                      "constant over the whole initial history",
        "region_average": "plain mean over the vertices of a region (not area-weighted)",
        "variants": {k: v for k, v in VARIANTS.items()}, "timing_s": {},
    }
    keep = None
    for name, kw in VARIANTS.items():
        t0 = time.perf_counter()
        sim, ctx, conn, ic = build(**kw)
        if keep is None:
            nv = ic.shape[1]
            keep = np.linspace(0, nv - 1, N_VERTICES_KEPT).round().astype(np.int64)
            surf = ctx.region_mapping_data.surface
            arrays["vertex_idx"] = keep
            arrays["vertex_xyz"] = np.asarray(surf.vertices)[keep]
            arrays["ic_vertices"] = ic[:, keep]
            arrays["vertex_region"] = np.asarray(ctx.region_mapping)[keep]
            arrays["vertices_checksum"] = np.array([np.asarray(surf.vertices, np.float64).sum()])
            meta["local_matrix"] = check_local_matrix(ctx.local_connectivity.matrix, surf.triangles, nv)
            lcm = sim._prepare_local_coupling()
            v = np.random.default_rng(0).standard_normal(nv)
            meta["local_matrix"]["tvb_prepared_type"] = type(lcm).__name__
            meta["local_matrix"]["tvb_star_is_matmul"] = bool(
                np.allclose(lcm * v, LC_STRENGTH * (ctx.local_connectivity.matrix @ v)))
            meta["model_params"] = {p: float(np.asarray(getattr(sim.model, p))[0])
                                    for p in ("tau", "I", "a", "b", "c", "d", "e", "f", "g",
                                              "alpha", "beta", "gamma")}
            meta["horizon_steps"] = int(conn.horizon)
            arrays["idelays"] = np.asarray(conn.idelays).astype(np.int16)
        t1 = time.perf_counter()
        ts, regs, verts, lrc = run(sim, ctx, conn, ic, keep)
        t2 = time.perf_counter()
        meta["timing_s"][name] = {"configure": round(t1 - t0, 2), "run": round(t2 - t1, 2)}
        arrays["t_ms"] = ts
        arrays[f"{name}/region"] = regs
        # the variants keep V only at the vertices (enough to localise a difference; size)
        arrays[f"{name}/vertices"] = verts if name == "full" else verts[:, :1]
        arrays[f"{name}/lr_coupling"] = lrc
        print(f"{name:<12} configure {t1 - t0:5.1f} s, run {t2 - t1:5.1f} s; V range "
              f"[{verts[:, 0].min():.3f}, {verts[:, 0].max():.3f}], horizon {conn.horizon}", flush=True)
        del sim
    full = arrays["full/vertices"][:, :1]
    for name in VARIANTS:
        if name != "full":
            d = np.abs(arrays[f"{name}/vertices"] - full).max()
            meta[f"max_abs_diff_full_vs_{name}"] = float(d)
            print(f"max |full - {name}| over the kept vertices: {d:.3g}")
    arrays["meta"] = np.asarray(json.dumps(meta))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
