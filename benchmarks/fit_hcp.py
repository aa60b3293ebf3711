"""HCP benchmark: fit global coupling k and conduction speed v of a Hopf network with online BOLD
to empirical FC, and compare backends with a grid search over the same range.

Split by subject: fit on the average FC of subjects 0-3, score on the average FC of subjects
4-6 (held out) and on each of them. Prints one table: best (k, v), FC correlation with the
fit target and with the held-out average (with the fit's noise seed and the mean over 3 new
seeds), per-subject held-out FC correlation, FCD KS distance to the held-out subjects' BOLD,
wall time (compilation included) and number of simulations.

Model set-up: see ``examples/fit_hcp.py``. Run: ``python benchmarks/fit_hcp.py [--quick]``.
"""

import argparse
import os
import sys
import time

import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from fit_hcp import FIT_SUBJECTS, TEST_SUBJECTS, corr_upper, fc, hcp_fitter  # noqa: E402

from neuralmass import objectives  # noqa: E402


def score(fitter, hcp, res, fcd_ks):
    target = hcp.fc[FIT_SUBJECTS].mean(0)
    held = hcp.fc[TEST_SUBJECTS].mean(0)
    same = fitter.simulate(res)["bold"]
    new = fitter.simulate(res, key=12345, batch_size=3)["bold"]
    r_new = [corr_upper(fc(b), held) for b in new]
    ks = [float(fcd_ks(jnp.asarray(b), jnp.asarray(hcp.bold[s]))) for b in new[:1] for s in TEST_SUBJECTS]
    return {"fit": corr_upper(fc(same), target), "held": corr_upper(fc(same), held),
            "held_new": float(np.mean(r_new)), "per_subject": [corr_upper(fc(new[0]), hcp.fc[s]) for s in TEST_SUBJECTS],
            "fcd_ks": float(np.mean(ks))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer generations / grid points")
    args = ap.parse_args()
    q = args.quick
    fcd_ks = objectives.fcd_ks(window=60, step=10, smooth=False)   # 43 s windows, 7.2 s steps
    rows = []

    # 1. grid search over the same range
    fitter, hcp = hcp_fitter("nevergrad", progress=False)
    target = hcp.fc[FIT_SUBJECTS].mean(0)
    t0 = time.perf_counter()
    k_axis = np.linspace(0.0, 8e-3, 6 if q else 12)
    v_axis = np.array([1.0, 4.5, 20.0]) if not q else np.array([2.0, 10.0])
    grid = fitter.grid_search(target, {"k": k_axis, "speed": v_axis}, chunk=len(k_axis))
    grid.wall_time = time.perf_counter() - t0
    rows.append(("grid", grid, score(fitter, hcp, grid, fcd_ks)))

    # 2. CMA-ES (nevergrad), 16 candidates per generation as one batch
    fitter, _ = hcp_fitter("nevergrad", batch_size=16, seed=0, progress=False)
    res = fitter.fit(target, n_steps=6 if q else 12)
    rows.append(("nevergrad CMA", res, score(fitter, hcp, res, fcd_ks)))

    # 3. differential evolution (SciPy), 16 members per generation
    fitter, _ = hcp_fitter("scipy", batch_size=16, seed=0, progress=False)
    res = fitter.fit(target, n_steps=5 if q else 10)
    rows.append(("scipy DE", res, score(fitter, hcp, res, fcd_ks)))

    # 4. gradient (Adam through simulation, delays and BOLD), 4 restarts as one batch
    fitter, _ = hcp_fitter("grad", restarts=4, lr=0.3, seed=0, progress=False)
    res = fitter.fit(target, n_steps=8 if q else 20)
    rows.append(("grad Adam", res, score(fitter, hcp, res, fcd_ks)))

    emp = corr_upper(hcp.fc[FIT_SUBJECTS].mean(0), hcp.fc[TEST_SUBJECTS].mean(0))
    sc = corr_upper(np.asarray(hcp.weights), hcp.fc[TEST_SUBJECTS].mean(0))
    print(f"\nHCP AAL2-80, fit subjects {FIT_SUBJECTS}, held-out {TEST_SUBJECTS}")
    print(f"reference: empirical fit-average vs held-out-average FC r = {emp:.3f}; SC vs held-out FC r = {sc:.3f}\n")
    hdr = (f"{'method':<14} {'k (1/ms)':>9} {'v (m/s)':>8} {'r fit':>6} {'r held':>7} {'r held*':>8} "
           f"{'per held-out subject':>22} {'FCD KS':>7} {'sims':>5} {'wall s':>7}")
    print(hdr)
    print("-" * len(hdr))
    for name, r, s in rows:
        v = float(np.asarray(r.canonical["speed"]))
        subj = " ".join(f"{x:.3f}" for x in s["per_subject"])
        print(f"{name:<14} {r.canonical['k']:9.2e} {v:8.2f} {s['fit']:6.3f} {s['held']:7.3f} {s['held_new']:8.3f} "
              f"{subj:>22} {s['fcd_ks']:7.3f} {r.n_simulations:5d} {r.wall_time:7.1f}")
    print("\nr fit / r held: FC correlation with the fit target / held-out average (fit's noise seed);"
          "\nr held*: mean over 3 new noise seeds; per-subject values and FCD KS use a new seed.")


if __name__ == "__main__":
    main()
