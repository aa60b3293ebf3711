"""Stimulation example: a TMS-like single pulse and a tACS-like sinusoid on the HCP connectome.

A Jansen–Rit network (80 HCP regions, tract-length delays at 5 mm/ms, Jansen–Rit sigmoidal
coupling) rests at a stable fixed point (p = 90 Hz). At t = 600 ms a 10 ms, 2 kHz pulse is
delivered to the left precentral gyrus (TMS-like); from 1200 ms a 10 Hz sinusoid of 60 Hz
amplitude drives both occipital poles (tACS-like). The script plots the EEG-like potential of the
stimulated and a few connected regions and writes ``docs/images/stimulation_example.png``; the
numbers quoted in ``docs/stimulation.md`` are printed here.

    python scripts/stimulation_example.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import brainunit as u  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neuralmass as nm  # noqa: E402
from neuralmass import stimulus as st  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    conn = nm.datasets.load_dataset("hcp", bold=False)
    labels = [str(x) for x in conn.labels]
    n = len(labels)
    tms = st.single_pulse(onset=600 * u.ms, amplitude=2000 * u.Hz, width=10 * u.ms).at(["Precentral_L"], labels=conn)
    tacs = st.sinusoid(frequency=10 * u.Hz, amplitude=60 * u.Hz, onset=1200 * u.ms, duration=800 * u.ms,
                       rise=20 * u.ms).at(["Occipital_Sup_L", "Occipital_Sup_R"], labels=conn)
    stim = tms + tacs
    duration = 2200.0
    stim.check(duration, n)
    net = nm.Network(nm.JansenRitStep(n), conn=conn, speed=5 * u.mm / u.ms, coupling="sigmoidal_jansen_rit", k=5.0)
    res = nm.Simulator(net, dt=0.1, progress=False).run(
        duration * u.ms, monitors=["eeg"], transient=400 * u.ms, period=1 * u.ms,
        inputs={"p": st.constant(90 * u.Hz) + stim})
    t = np.asarray(res["ts"].mantissa)
    x = np.asarray(res["eeg"].mantissa)
    base = x[(t > 450) & (t < 590)].mean(axis=0)
    dev = np.abs(x - base)
    i0 = labels.index("Precentral_L")
    w = np.asarray(conn.weights)[:, i0]
    neigh = [int(j) for j in np.argsort(w)[::-1][:3]]
    win = (t >= 600) & (t < 1100)
    lat = {j: t[win][np.argmax(dev[win, j])] - 600.0 for j in [i0] + neigh}
    print("evoked peak |eeg - baseline| (mV) and latency (ms) after the pulse:")
    for j in [i0] + neigh:
        print(f"  {labels[j]:<18} weight from Precentral_L {w[j]:.3f}: {dev[win, j].max():7.3f} mV at {lat[j]:5.1f} ms")
    far = np.argsort(w)[:20]
    print(f"  20 least-connected regions: median peak {np.median(dev[win][:, far].max(axis=0)):.3f} mV")
    occ = [labels.index("Occipital_Sup_L"), labels.index("Occipital_Sup_R")]
    seg = (t >= 1400) & (t < 2000)
    f = np.fft.rfftfreq(seg.sum(), 1e-3)
    for j in occ:
        p = np.abs(np.fft.rfft(x[seg, j] - x[seg, j].mean())) ** 2
        print(f"  {labels[j]:<18} peak frequency during tACS: {f[1:][np.argmax(p[1:])]:.1f} Hz")

    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for j in [i0] + neigh:
        axes[0].plot(t, x[:, j] - base[j], lw=0.8, label=labels[j])
    axes[0].axvspan(600, 610, color="k", alpha=0.2)
    axes[0].set_ylabel("eeg − baseline (mV)")
    axes[0].legend(fontsize=7, loc="upper right")
    axes[0].set_title("TMS-like pulse to Precentral_L at 600 ms; tACS-like 10 Hz to the occipital poles from 1200 ms",
                      fontsize=9)
    for j in occ:
        axes[1].plot(t, x[:, j] - base[j], lw=0.8, label=labels[j])
    axes[1].plot(t, stim.sample(t)[:, occ[0]] / 60.0, "k", lw=0.5, alpha=0.5, label="stimulus (scaled)")
    axes[1].set_xlabel("time (ms)")
    axes[1].set_ylabel("eeg − baseline (mV)")
    axes[1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    out = ROOT / "docs" / "images" / "stimulation_example.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
