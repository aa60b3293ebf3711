"""One neural run -> BOLD at TR, EEG and MEG sensors ("Simultaneous EEG/MEG/fMRI" of the guide).

A Jansen–Rit network on TVB's 76-region connectome (needs `pip install tvb-data`) is simulated
once; inside the same compiled loop the pyramidal potential y1 - y2 is recorded at 1 kHz and
drives an online Balloon–Windkessel BOLD monitor sampled at TR = 2 s. The recorded sources are
then projected to 63 EEG and 248 MEG sensors of TVB's head model. Figures go to --out.

Run:  python examples/multimodal.py [--seconds 60] [--out results/multimodal]
(``NEURALMASS_QUICK=1``: 6 s after a 3 s transient, to check the script works.)
"""

import argparse
import os
from pathlib import Path

import brainunit as u
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neuralmass as nm  # noqa: E402


QUICK = os.environ.get("NEURALMASS_QUICK", "") not in ("", "0")
TRANSIENT_S = 3.0 if QUICK else 10.0


def main(seconds: float, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_dataset("tvb76").normalized("max")
    n = conn.n_regions
    node = nm.JansenRitModel(n, noise_p=nm.OUProcess(n, sigma=30.0, tau=5.0 * u.ms))
    net = nm.Network(node, conn=conn, speed=4.0 * u.mm / u.ms, coupling="sigmoidal_jansen_rit", k=10.0)
    sim = nm.Simulator(net, dt=0.1 * u.ms)
    # resting level of y1 - y2 for the BOLD drive: the network's mean over a short pre-run
    # (one scalar for all regions, so region-specific offsets remain in the BOLD level)
    pre = sim.run(3.0 * u.second, monitors="eeg", period=1.0 * u.ms, transient=1.0 * u.second,
                  inputs={"p": 220.0}, key=1)["eeg"]
    bold_mon = nm.BOLDMonitor("eeg", tr=2.0 * u.second, scale=0.02, baseline=float(np.mean(pre.mantissa)))
    res = sim.run((seconds + TRANSIENT_S) * u.second, monitors=["eeg", bold_mon], period=1.0 * u.ms,
                  transient=TRANSIENT_S * u.second, inputs={"p": 220.0}, key=0)
    src = res["eeg"] - u.math.mean(res["eeg"], axis=0, keepdims=True)    # (T, 76) mV, DC removed
    scale = 100.0 * u.nA * u.meter / u.mV                                # order-of-magnitude source scale
    eeg_lf, meg_lf = nm.datasets.load_dataset("tvb76_eeg65"), nm.datasets.load_dataset("tvb76_meg276")
    eeg = nm.EEGLeadFieldModel(n, eeg_lf.L.shape[1], eeg_lf.L, scale=scale, sensor_unit=u.uvolt,
                               reference="average")(src)
    meg = nm.MEGLeadFieldModel(n, meg_lf.L.shape[1], meg_lf.L, scale=scale, sensor_unit=u.ftesla)(src)
    bold = np.asarray(res["bold"])
    print("sources", src.shape, "| EEG", eeg.shape, u.get_unit(eeg), "| MEG", meg.shape, u.get_unit(meg),
          "| BOLD", bold.shape)

    t = np.asarray(res["ts"].mantissa) / 1000.0
    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    sl = slice(0, 2000)
    nm.viz.plot_timeseries(np.asarray(eeg.mantissa)[sl, :4], ts=t[sl], labels=list(eeg_lf.sensor_names[:4]), ax=axes[0, 0])
    axes[0, 0].set_title("EEG (µV, average reference)")
    nm.viz.plot_timeseries(np.asarray(meg.mantissa)[sl, :4], ts=t[sl], labels=list(meg_lf.sensor_names[:4]), ax=axes[0, 1])
    axes[0, 1].set_title("MEG (fT)")
    nm.viz.plot_power_spectrum(np.asarray(eeg.mantissa), fs=1000.0, ax=axes[1, 0], fmin=1, fmax=45, average=True, nperseg=2048)
    axes[1, 0].set_title("EEG spectrum (mean over sensors)")
    tb = np.asarray(res["ts_bold"].mantissa) / 1000.0
    nm.viz.plot_timeseries(100 * bold[:, :6], ts=tb, labels=list(conn.labels[:6]), ax=axes[1, 1])
    axes[1, 1].set_title("BOLD (%), TR = 2 s"); axes[1, 1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(out / "multimodal.png", dpi=110)
    plt.close(fig)
    print("figure:", out / "multimodal.png")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=6.0 if QUICK else 60.0)
    ap.add_argument("--out", default="results/multimodal")
    args = ap.parse_args()
    main(args.seconds, Path(args.out))
