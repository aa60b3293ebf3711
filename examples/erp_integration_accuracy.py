"""Accuracy of the ERP integration and physiological checks of the simulated responses.

    python examples/erp_integration_accuracy.py [--n 128] [--out docs/inference_results/erp_checks]

1. Integration accuracy: relative L2 error ‖s − s_ref‖/‖s_ref‖ of the output-rate (100 Hz) ERP
   for several integrators and steps, against RK4 at 0.05 ms, over ``n`` draws of the
   ``reference`` and ``jr95`` priors (x64). Writes ``integration_accuracy.csv``.
2. Physiological checks (default ERPConfig): the fraction of prior draws flagged by
   ``erp_flags`` (peak deflection > 50 mV, oscillation before the stimulus), and the sensor
   amplitude in µV with the default dipole scaling and TVB's head model (or the synthetic lead
   field without tvb-data). Writes ``erp_flags.csv``.
"""

import argparse
import os
import csv
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from neuralmass.inference.erp import (ERPConfig, eeg_leadfield, erp_flags, simulate_erps,  # noqa: E402
                                      to_sensors_uv)
from neuralmass.inference.priors import make_prior  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    quick = os.environ.get("NEURALMASS_QUICK", "") not in ("", "0")   # the test suite's smoke run
    ap.add_argument("--n", type=int, default=4 if quick else 128)
    ap.add_argument("--out", default="docs/inference_results/erp_checks")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rows = []
    for preset in ("reference", "jr95"):
        prior = make_prior(preset=preset)
        th = prior.sample(jax.random.PRNGKey(1), a.n)
        ref, _ = simulate_erps(th, prior, ERPConfig(fs=100.0, dt=0.05, integrator="rk4"), batch_size=64)
        ref = ref.astype(float)
        for integ, dt in (("heun", 1.0), ("rk4", 1.0), ("heun", 0.5), ("heun", 0.25), ("rk4", 0.25)):
            e, _ = simulate_erps(th, prior, ERPConfig(fs=100.0, dt=dt, integrator=integ), batch_size=64)
            err = np.linalg.norm(e - ref, axis=1) / np.linalg.norm(ref, axis=1)
            err = err[np.isfinite(err)]
            rows.append(dict(prior=preset, integrator=integ, dt_ms=dt, median=float(np.median(err)),
                             p95=float(np.percentile(err, 95)), max=float(err.max()), n=len(err)))
            print(rows[-1], flush=True)
    with open(out / "integration_accuracy.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    lf, desc = eeg_leadfield("auto", "lFEF")
    cfg = ERPConfig(fs=100.0)
    flag_rows = []
    std = make_prior(preset="jr95")
    s0, _ = simulate_erps(np.array([[3.25, 22.0, 100.0, 50.0, 135.0]]), std, cfg)
    x0 = np.asarray(to_sensors_uv(s0, lf))
    flag_rows.append(dict(prior="standard column", n=1, too_large=0.0, prestim_oscillation=0.0, ok=1.0,
                          source_peak_mV_median=float(np.abs(s0).max()),
                          sensor_peak_uV_median=float(np.abs(x0).max()), leadfield=desc))
    for preset in ("reference", "nonsaturated", "jr95"):
        prior = make_prior(preset=preset)
        th = prior.sample(jax.random.PRNGKey(2), 4 * a.n)
        e, fin = simulate_erps(th, prior, cfg, batch_size=256)
        fl = erp_flags(e, cfg)
        peak_src = np.max(np.abs(np.nan_to_num(e)), axis=1)
        peak_uv = peak_src * 10.0 * np.max(np.abs(lf))
        flag_rows.append(dict(prior=preset, n=len(e), too_large=float(fl["too_large"].mean()),
                              prestim_oscillation=float(fl["prestim_oscillation"].mean()), ok=float(fl["ok"].mean()),
                              source_peak_mV_median=float(np.median(peak_src[fl["ok"]])),
                              sensor_peak_uV_median=float(np.median(peak_uv[fl["ok"]])), leadfield=desc))
        print(flag_rows[-1], flush=True)
    with open(out / "erp_flags.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(flag_rows[0]))
        w.writeheader()
        w.writerows(flag_rows)
    print(f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
