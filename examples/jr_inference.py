"""Amortized Jansen–Rit parameter inference from simulated EEG (the full study in one command).

    python examples/jr_inference.py [--quick] [--out DIR] [--n-sims N] [--epochs E]

Writes results.csv/.md, npe_calibration.csv, sensitivity.csv, report.md, plots and checkpoints.
"""

import argparse

from neuralmass.inference.study import StudyConfig, run_study


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small size (< 3 minutes on 2 CPU cores)")
    ap.add_argument("--out", default="jr_inference_results", help="output folder")
    ap.add_argument("--n-sims", type=int, default=None, help="number of simulations")
    ap.add_argument("--epochs", type=int, default=None, help="maximum training epochs")
    ap.add_argument("--snr", type=float, nargs="+", default=None, help="sensor SNRs in dB")
    ap.add_argument("--estimators", nargs="+", default=None,
                    help="subset of transformer transformer_patch lstm cnn_bilstm")
    ap.add_argument("--no-npe", action="store_true", help="skip neural posterior estimation")
    ap.add_argument("--max-seconds", type=float, default=None, help="time budget per trained model")
    ap.add_argument("--fs", type=float, default=None, help="ERP sampling rate (Hz)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    cfg = StudyConfig.quick() if a.quick else StudyConfig()
    for k, v in dict(n_sims=a.n_sims, epochs=a.epochs, snr_db=tuple(a.snr) if a.snr else None,
                     estimators=tuple(a.estimators) if a.estimators else None,
                     max_seconds_per_model=a.max_seconds).items():
        if v is not None:
            setattr(cfg, k, v)
    if a.fs is not None:
        cfg.erp = cfg.erp.replace(fs=a.fs)
    cfg.npe = cfg.npe and not a.no_npe
    cfg.seed = a.seed
    res = run_study(a.out, cfg)
    print(open(f"{a.out}/results.md").read())
    print(f"total {res['meta']['timings']['total_s']:.0f} s; outputs in {a.out}/")


if __name__ == "__main__":
    main()
