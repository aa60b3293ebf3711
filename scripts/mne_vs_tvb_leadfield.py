"""Numbers quoted in docs/your_own_data.md: the offline MNE sphere forward vs TVB's EEG head
model on TVB's 76 regions, and the registration of TVB's electrode file.

    python scripts/mne_vs_tvb_leadfield.py          # ~10 s; needs mne and tvb-data
"""

import warnings

import brainunit as u
import mne
import numpy as np

from neuralmass.datasets import load_dataset
from neuralmass.datasets.tvb import register_tvb_eeg_sensors
from neuralmass.forward import connectome_sources, from_mne, make_sphere_forward

TVB_TO_HEAD = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
V_PER_AM = u.volt / (u.amp * u.meter)


def main():
    conn, lf = load_dataset("tvb76"), load_dataset("tvb76_eeg65")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        std = mne.channels.make_standard_montage("standard_1005")
    low = {c.lower(): c for c in std.ch_names}
    keep = [i for i, n in enumerate(lf.sensor_names) if n.split("/")[0].lower() in low]
    info = mne.create_info([low[lf.sensor_names[i].split("/")[0].lower()] for i in keep], 250.0, "eeg")
    info.set_montage(std)
    b = np.asarray(lf.L.to_decimal(V_PER_AM))[:, keep]
    b = b - b.mean(1, keepdims=True)
    print(f"{len(keep)} of TVB's {lf.n_sensors} electrodes have 10-05 positions")
    print("rotation  median corr  frac corr>0.5  median rms ratio (sphere / TVB)")
    for name, rot in (("TVB->MNE", TVB_TO_HEAD), ("none", None)):
        pos, nn, region, sphere = connectome_sources(conn, info, rotation=rot)
        ours = from_mne(make_sphere_forward(info, pos, nn, sphere=sphere), region, mode="mean",
                        region_names=conn.labels, regions=conn)
        a = np.asarray(ours.L.to_decimal(V_PER_AM))
        a = a - a.mean(1, keepdims=True)
        corr = np.array([np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)])
        ratio = np.sqrt((a ** 2).mean(1) / (b ** 2).mean(1))
        print(f"{name:9s} {np.median(corr):11.2f}  {np.mean(corr > 0.5):13.2f}  {np.median(ratio):16.2f}")
    reg = register_tvb_eeg_sensors(lf)
    print(f"TVB electrode registration: shift {np.round(reg['shift_mm'], 1)} mm, mean topography "
          f"correlation {reg['corr_before']:.2f} -> {reg['corr_after']:.2f}")


if __name__ == "__main__":
    main()
