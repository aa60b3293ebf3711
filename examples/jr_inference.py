"""Amortized Jansen–Rit parameter inference from simulated EEG (the full study in one command).

    python examples/jr_inference.py [--quick] [--out DIR] [--n-sims N] [--epochs E]
                                    [--priors reference jr95] [--snr 20 0 -10]

The default study (two priors × three SNRs; the paper's four architectures on the reference prior,
the matched-filter network and NPE on both) takes about an hour on 2 CPU cores (estimated from
timed pieces; not run with the current step budgets and RK4 steps); ``--quick`` 2–4 minutes; with
``NEURALMASS_QUICK=1`` a still smaller run (a few hundred simulations, two epochs, no paper
architectures, no NPE; tests/test_inference.py trains those) that checks the script and the
sensitivity, Laplace and verdict steps. Writes results.csv/.md, npe_calibration.csv, npe_combinations.csv,
sensitivity.csv, report.md (with the verdict), plots and checkpoints.
"""

import argparse
import os

from neuralmass.studies.erp_inference import ERPInferenceConfig, run_erp_inference_study


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small size (< 3 minutes on 2 CPU cores)")
    ap.add_argument("--out", default="jr_inference_results", help="output folder")
    ap.add_argument("--n-sims", type=int, default=None, help="simulations per prior")
    ap.add_argument("--epochs", type=int, default=None, help="maximum training epochs (matched filter, NPE)")
    ap.add_argument("--snr", type=float, nargs="+", default=None, help="sensor SNRs in dB")
    ap.add_argument("--priors", nargs="+", default=None, help="prior presets: reference nonsaturated jr95")
    ap.add_argument("--estimators", nargs="*", default=None,
                    help="paper architectures: transformer transformer_patch lstm cnn_bilstm (none: skip)")
    ap.add_argument("--no-npe", action="store_true", help="skip neural posterior estimation")
    ap.add_argument("--max-steps", type=int, default=None, help="optimizer-step cap for the matched-filter network")
    ap.add_argument("--npe-max-steps", type=int, default=None, help="optimizer-step cap for the NPE flow")
    ap.add_argument("--paper-max-steps", type=int, default=None, help="optimizer-step cap per paper architecture")
    ap.add_argument("--fs", type=float, default=None, help="ERP sampling rate (Hz)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    if os.environ.get("NEURALMASS_QUICK", "") not in ("", "0"):   # checks the script, not the science
        cfg = ERPInferenceConfig.quick(n_sims=600, npe_sims=400, epochs=2, paper_epochs=1, estimators=(),
                                npe=False, n_posterior=20, n_sbc=20, n_test_max=40, sensitivity_samples=4)
    else:
        cfg = ERPInferenceConfig.quick() if a.quick else ERPInferenceConfig()
    for k, v in dict(n_sims=a.n_sims, epochs=a.epochs, snr_db=tuple(a.snr) if a.snr else None,
                     priors=tuple(a.priors) if a.priors else None,
                     estimators=tuple(a.estimators) if a.estimators is not None else None,
                     max_steps=a.max_steps, npe_max_steps=a.npe_max_steps,
                     paper_max_steps=a.paper_max_steps).items():
        if v is not None:
            setattr(cfg, k, v)
    if a.fs is not None:
        cfg.erp = cfg.erp.replace(fs=a.fs)
    cfg.npe = cfg.npe and not a.no_npe
    cfg.seed = a.seed
    cfg.progress = not a.no_progress
    res = run_erp_inference_study(a.out, cfg)
    print(open(f"{a.out}/results.md").read())
    print(f"total {res['meta']['timings']['total_s']:.0f} s; outputs in {a.out}/")


if __name__ == "__main__":
    main()
