"""Bring your own data, offline: a lab's connectome files -> an MNE sphere head model -> a
Jansen-Rit network -> simulated EEG as MNE objects, plus a recording checked against the model.

    python examples/your_own_data.py --out your_own_data_out      # ~1 min on 2 CPU cores

Needs the ``mne`` extra (``pip install 'neuralmass[mne,io]'``); nothing is downloaded.
The numbers printed are quoted in docs/your_own_data.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import brainunit as u
import numpy as np


def write_lab_files(folder: Path) -> None:
    """Stand-in for a lab pipeline's output: the bundled 8-region HCP connectome written as
    CSV tables with region names, plus approximate MNI centres of its AAL2 regions (mm)."""
    from neuralmass import datasets
    ex = datasets.load_dataset("example_connectome")
    names = ex.metadata["region_names"]
    mni = {"Frontal_Sup_2": (20, 35, 45), "Precentral": (40, -12, 50),
           "Parietal_Sup": (25, -60, 58), "Occipital_Mid": (33, -80, 14)}
    folder.mkdir(parents=True, exist_ok=True)
    header = "," + ",".join(names)
    for fname, m in (("weights.csv", ex.weights), ("tract_lengths.csv", ex.lengths)):
        rows = [f"{n}," + ",".join(f"{x:.17g}" for x in row) for n, row in zip(names, m)]
        (folder / fname).write_text(header + "\n" + "\n".join(rows) + "\n")
    lines = ["label\tx\ty\tz"]
    for n in names:
        x, y, z = mni[n.rsplit("_", 1)[0]]
        lines.append(f"{n}\t{-x if n.endswith('_L') else x}\t{y}\t{z}")
    (folder / "centres.tsv").write_text("\n".join(lines) + "\n")


def main(out: Path) -> dict:
    import mne

    import neuralmass as nm
    from neuralmass.datasets import load_signal, read_connectome, write_connectome
    from neuralmass.forward import (EEGLeadFieldModel, connectome_sources, from_mne,
                                    make_sphere_forward, to_epochs, to_raw)

    out.mkdir(parents=True, exist_ok=True)
    lab = out / "lab_data"
    if not (lab / "weights.csv").exists():
        write_lab_files(lab)

    # 1. the lab's connectome (a folder of CSV tables; a TVB .zip or .npz works the same way)
    conn = read_connectome(lab, symmetric=True)
    print(conn, "\n  labels:", [str(x) for x in conn.labels])
    write_connectome(conn, out / "connectome.npz", overwrite=True)        # round-trips bit for bit

    # 2. an offline MNE head model: 64 BioSemi electrodes, a multi-shell sphere fitted to them,
    #    3 dipoles per region around its centre, radially oriented (no MRI, no download)
    info = mne.create_info(mne.channels.make_standard_montage("biosemi64").ch_names, 1000.0, "eeg")
    info.set_montage("biosemi64")
    pos, nn, region, sphere = connectome_sources(conn, info, sources_per_region=3, seed=0)
    fwd = make_sphere_forward(info, pos, nn, sphere=sphere)
    lf = from_mne(fwd, region, mode="mean_flip", region_names=conn.labels, regions=conn)
    gain = np.abs(np.asarray(lf.L.to_decimal(u.volt / (u.amp * u.meter))))
    print(f"  lead field {lf.L.shape} in V/(A*m): median |L| = {np.median(gain):.1f}, "
          f"max = {gain.max():.1f}")

    # 3. a Jansen-Rit network on that connectome (2 s after a 1 s transient)
    n = conn.n_regions
    node = nm.JansenRitModel(n, noise_p=nm.OUProcess(n, sigma=30.0, tau=5.0))
    net = nm.Network(node, conn=conn.normalized("max"), speed=4.0,
                     coupling="sigmoidal_jansen_rit", k=10.0)
    res = nm.Simulator(net, dt=0.1, progress=False).run(
        3000.0, monitors=["eeg"], period=1.0, transient=1000.0, inputs={"p": 220.0}, key=1)
    src = res["eeg"] - u.math.mean(res["eeg"], axis=0, keepdims=True)        # mV, DC removed

    # 4. sensors: 100 nA*m of region dipole per mV (an order-of-magnitude assumption), in µV
    eeg = EEGLeadFieldModel(n, lf.n_sensors, lf.L, scale=100.0 * u.nA * u.meter / u.mV,
                            sensor_unit=u.uvolt, reference="average")(src)
    raw = to_raw(eeg, lf, ts=res["ts"])
    print(f"  {raw}")
    print(f"  EEG rms over channels and time: {np.sqrt((raw.get_data() ** 2).mean()) * 1e6:.2f} µV")
    psd = raw.compute_psd(fmin=2.0, fmax=40.0, n_fft=1024, verbose=False)
    peak = float(psd.freqs[np.argmax(psd.get_data().mean(axis=0))])
    print(f"  peak of the mean EEG spectrum: {peak:.1f} Hz")
    raw.save(out / "simulated_eeg_raw.fif", overwrite=True, verbose=False)
    epochs = to_epochs(u.math.stack([eeg[:500], eeg[500:1000], eeg[1000:1500]]), lf,
                       sfreq=1000.0, tmin=-0.1)
    print(f"  {epochs}")

    # 5. the simulated recording read back as empirical data and checked against the model
    rec = load_signal(out / "simulated_eeg_raw.fif")
    rec = rec.match(lf.sensor_names, sfreq=1000.0)
    print(f"  {rec}")
    return dict(median_gain=float(np.median(gain)), rms_uV=float(np.sqrt((raw.get_data() ** 2).mean()) * 1e6),
                peak_hz=peak)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("your_own_data_out"))
    main(p.parse_args().out)
