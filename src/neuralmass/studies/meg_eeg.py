"""The EEG/MEG sub-study of ``neuralmass run`` (``[meg_eeg] enabled = true``): a Jansen–Rit network on
TVB's 76-region connectome, its region EEG observable projected through tvb-data's EEG-65 and
MEG-276 lead fields, saved as NetCDF with spectra and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..units import magnitude
from . import preflight
from .report import cf_dataset

__all__ = ["run_meg_eeg", "WELCH_SEGMENT"]

#: Samples per Welch segment of the sensor spectra (1 kHz sampling).
WELCH_SEGMENT = 2048


def run_meg_eeg(meg_cfg, seed, work: Path, figs: Path, quiet: bool) -> dict:
    """Jansen–Rit network on tvb76 → region EEG observable → EEG-63 / MEG-248 sensors + spectra."""
    import brainunit as u
    import matplotlib.pyplot as plt

    from .. import Simulator, analysis, datasets, viz
    from ..forward.leadfield import EEGLeadFieldModel, MEGLeadFieldModel
    from ..io import to_xarray, write_netcdf_atomic
    from ..models import JansenRitModel
    from ..network import Network
    from ..noise import OUProcess

    conn = datasets.load_dataset("tvb76").normalized("max")
    n = conn.n_regions
    node = JansenRitModel(n, noise_p=OUProcess(n, sigma=30.0, tau=5.0))
    net = Network(node, conn=conn, speed=4.0, coupling="sigmoidal_jansen_rit", k=10.0)
    sim = Simulator(net, dt=0.1, progress=not quiet)
    dur = float(meg_cfg.get("duration", 20_000.0))
    res = sim.run(dur + 2000.0, monitors=["eeg"], period=1.0, transient=2000.0,
                  inputs={"p": 220.0}, key=preflight.seed_key((seed + 1) % preflight.SEED_LIMIT))
    src = res["eeg"]  # (T, 76) mV
    src = src - u.math.mean(src, axis=0, keepdims=True)  # DC removed, as after the usual high-pass
    eeg_lf = datasets.load_dataset("tvb76_eeg65")
    meg_lf = datasets.load_dataset("tvb76_meg276")
    # mV of y1 - y2 -> region dipole moment: an order-of-magnitude assumption (about 0.1 nA*m/mm^2
    # per mV over ~1000 mm^2 of cortex; cf. Murakami & Okada 2006), stated in the report
    scale = 100.0 * u.nA * u.meter / u.mV
    eeg = EEGLeadFieldModel(n, eeg_lf.L.shape[1], eeg_lf.L, scale=scale, sensor_unit=u.uvolt,
                            reference="average")(src)
    meg = MEGLeadFieldModel(n, meg_lf.L.shape[1], meg_lf.L, scale=scale, sensor_unit=u.ftesla)(src)
    fs = 1000.0
    out = {}
    for name, sig, lf, unit in (("eeg", eeg, eeg_lf, "uV"), ("meg", meg, meg_lf, "fT")):
        arr = np.asarray(magnitude(sig))
        ds = to_xarray({name: sig, "ts": res["ts"]}, f"{name.upper()} sensors", regions=list(lf.sensor_names))
        ds = ds.rename({"regions": "sensors"})
        ds = cf_dataset(ds, f"neuralmass study: {name.upper()} sensors", {"meg_eeg": dict(meg_cfg)},
                 (seed + 1) % preflight.SEED_LIMIT)
        write_netcdf_atomic(ds, work / f"{name}.nc")
        f, p = analysis.welch(arr, fs, nperseg=WELCH_SEGMENT)
        f, p = np.asarray(f), np.asarray(p)
        mean_p = p.mean(axis=-1)
        band = (f >= 2) & (f <= 40)
        peak = float(f[band][np.argmax(mean_p[band])])
        out[name] = {"sensors": int(arr.shape[1]), "unit": unit, "peak_frequency_hz": round(peak, 2),
                     "rms": float(np.sqrt((arr ** 2).mean()))}
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        t = np.asarray(magnitude(res["ts"])) / 1000.0
        sl = slice(0, 3000)
        viz.plot_timeseries(arr[sl, :5], ts=t[sl], labels=list(lf.sensor_names[:5]), ax=axes[0],
                            ylabel=f"{name.upper()} ({unit})")
        axes[0].set_xlabel("time (s)"); axes[0].set_title(f"{name.upper()} sensors (3 s)")
        viz.plot_power_spectrum(p, freqs=f, ax=axes[1], fmin=1, fmax=45, average=True, unit=unit)
        axes[1].set_title(f"{name.upper()} spectrum (mean over sensors), peak {peak:.1f} Hz")
        fig.tight_layout(); fig.savefig(figs / f"{name}.png", dpi=110); plt.close(fig)
    out["note"] = ("Jansen-Rit network (p = 220 Hz, OU input noise, sigmoidal JR coupling) on TVB's 76-region "
                   "connectome; each region's dipole moment is 100 nA*m per mV of y1 - y2 (an order-of-magnitude "
                   "assumption), DC removed; lead fields from tvb-data (units as documented in docs/datasets.md).")
    return out
