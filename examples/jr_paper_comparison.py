"""Like-for-like comparison with Tilwani & O'Reilly (2025) on their own simulator (one command).

    python examples/jr_paper_comparison.py [--quick] [--full] [--out DIR]

Simulates the reference's ERP experiment (their Jansen–Rit variant, stimulus, 1 kHz sampling,
normal prior, 1000 simulations, sensor noise × noise factor 1, 59-epoch averages), trains their
transformer, LSTM and CNN-BiLSTM, an NPE on the sensor array (their SNPE's analogue) and our
matched-filter network and NPE, for their volts/mV units and for consistent mV units, and writes
``paper_comparison.csv``/``.md``, ``identifiability.csv`` and ``meta.json`` (with timings).

The default run caps the four sensor-level networks at 150 optimizer steps each (see
``PaperComparisonConfig``); it took 14 minutes (836 s) on 2 CPU cores shared at a load of about 4.
``--full`` lifts the caps (the reference's 50 epochs; up to about 1.6 hours on such a machine,
estimated, not run); ``--quick`` is a small smoke-test size.
"""

import argparse
import os

from neuralmass.studies.erp_paper_comparison import PaperComparisonConfig, run_paper_comparison


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small smoke-test size (a few minutes)")
    ap.add_argument("--full", action="store_true", help="no step caps: 50 epochs for every network")
    ap.add_argument("--out", default="docs/inference_results/paper_comparison", help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise-facts", type=float, nargs="+", default=None, help="noise factors (default 1)")
    ap.add_argument("--methods", nargs="+", default=None,
                    help="methods for every unit convention (default: all on 'paper', three on 'mV')")
    ap.add_argument("--units", nargs="+", default=None, help="unit conventions: paper mV")
    ap.add_argument("--max-steps", type=int, default=None, help="step cap for the sensor-level networks")
    ap.add_argument("--progress", action="store_true")
    a = ap.parse_args(argv)
    if os.environ.get("NEURALMASS_QUICK", "") not in ("", "0"):   # the test suite's smoke run: every kind of
        # method (sensor-level network, matched-filter network, NPE with its µV Posterior) at toy size
        cfg = PaperComparisonConfig.quick(n_sims=60, epochs=1, methods=("transformer", "source_mlp", "npe"),
                                          model_kw={"transformer": dict(d_model=8, n_heads=1, d_ff=8)},
                                          n_posterior=9, sensitivity_samples=2)
    else:
        cfg = PaperComparisonConfig.quick() if a.quick else PaperComparisonConfig()
    if a.full:
        cfg.max_steps = {}
        cfg.methods_by_units = {}
    if a.methods:
        cfg.methods, cfg.methods_by_units = tuple(a.methods), {}
    if a.units:
        cfg.units = tuple(a.units)
    if a.max_steps is not None:
        cfg.max_steps = {m: a.max_steps for m in ("transformer", "lstm", "cnn_bilstm", "npe_conv")}
    if a.noise_facts:
        cfg.noise_facts = tuple(a.noise_facts)
    cfg.seed, cfg.progress = a.seed, a.progress
    res = run_paper_comparison(a.out, cfg)
    print(open(f"{a.out}/paper_comparison.md").read())
    print(f"total {res['meta']['timings']['total_s']:.0f} s; outputs in {a.out}/")


if __name__ == "__main__":
    main()
