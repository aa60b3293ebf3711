"""Fit a whole-brain Hopf network with online BOLD to empirical HCP resting-state FC.

Set-up (Deco et al. 2017, *Sci. Rep.* 7:3095, adapted): 80 AAL2 regions of the bundled HCP
connectome, one Stuart–Landau oscillator per region slightly below its bifurcation
(a = -0.02 s⁻¹) at the slow BOLD frequency f = 0.05 Hz, white noise of 0.02 s^-1/2, diffusive
coupling ``k * sum_j w_ij (x_j(t - d_ij / v) - x_i)``, and the Balloon–Windkessel BOLD model run
online in the compiled loop, sampled at the HCP TR of 0.72 s for 1200 frames (the length of the
empirical runs) after a 60 s transient. The engine works in ms: rates are given as Quantities
(``-0.02 * u.Hz``), ``k`` is per ms (the usual global coupling G in s⁻¹ is ``1000 * k``), the
speed in mm/ms (= m/s). With dynamics this slow a 72 ms step (10 per TR) is accurate; delays
(up to 250 ms, shorter than 4 steps for v > 1 m/s) are read with linear interpolation so the
conduction speed is a continuous, batchable parameter.

The fit uses the FC averaged over 4 subjects; the score is reported on the average FC of the
3 held-out subjects and per held-out subject.

Run: ``python examples/fit_hcp.py`` (about 2–3 minutes on 2 CPU cores). With
``NEURALMASS_QUICK=1`` it runs a shortened version (fewer frames and steps) that only checks the
script works.
"""

import os

import brainunit as u
import numpy as np

import neuralmass as nm
from neuralmass import objectives
from neuralmass.fit import Fitter
from neuralmass.forward.bold import BOLDMonitor
from neuralmass.network import Network

FIT_SUBJECTS, TEST_SUBJECTS = [0, 1, 2, 3], [4, 5, 6]
DT = 72.0                       # ms
TR = 720.0                      # ms
N_FRAMES = 1200
TRANSIENT = 60_000.0            # ms
QUICK = os.environ.get("NEURALMASS_QUICK", "") not in ("", "0")
if QUICK:                       # shortened run: checks the script, not the science
    N_FRAMES, TRANSIENT = 60, 7_200.0


def hcp_fitter(backend="nevergrad", **kw):
    """The Fitter of the HCP Hopf network (``backend`` and options as for :class:`Fitter`)."""
    hcp = nm.datasets.load_dataset("hcp")
    n = hcp.n_regions
    sigma = 0.02 / np.sqrt(1000.0)            # 0.02 s^-1/2 in ms^-1/2
    node = nm.HopfStep(n, a=-0.02 * u.Hz, omega=2 * np.pi * 0.05 * u.Hz,
                       noise_x=nm.WhiteNoise(n, sigma=sigma), noise_y=nm.WhiteNoise(n, sigma=sigma))
    net = Network(node, conn=hcp.weights, coupling="diffusive", k=1e-3)
    space = {"k": dict(bounds=(0.0, 8e-3), init=5e-4),
             "speed": dict(bounds=(1.0, 20.0), transform="log", init=2.0)}
    fitter = Fitter(net, loss_fn=objectives.as_loss(objectives.fc_corr(target_is_fc=True)),
                    backend=backend, space=space, dt=DT, duration=TRANSIENT + N_FRAMES * TR,
                    transient=TRANSIENT, monitors=[BOLDMonitor("x", tr=TR)], distance=hcp.lengths_mm,
                    **kw)
    return fitter, hcp


def fc(x):
    return np.corrcoef(np.asarray(x).T)


def corr_upper(a, b):
    iu = np.triu_indices(a.shape[0], 1)
    return float(np.corrcoef(a[iu], b[iu])[0, 1])


if __name__ == "__main__":
    fitter, hcp = hcp_fitter("nevergrad", batch_size=2 if QUICK else 16, seed=0)
    target = hcp.fc[FIT_SUBJECTS].mean(0)
    held_out = hcp.fc[TEST_SUBJECTS].mean(0)
    res = fitter.fit(target, n_steps=1 if QUICK else 10)
    print(res)
    bold = fitter.simulate(res, key=1)["bold"]          # a new noise realisation
    sim_fc = fc(bold)
    print(f"FC correlation, fit subjects' average:      {corr_upper(sim_fc, target):.3f}")
    print(f"FC correlation, held-out subjects' average: {corr_upper(sim_fc, held_out):.3f}")
    for s in TEST_SUBJECTS:
        print(f"  subject {hcp.subjects[s]}: {corr_upper(sim_fc, hcp.fc[s]):.3f}")
    try:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        res.plot(axes[0])
        axes[1].imshow(held_out, vmin=-0.2, vmax=1, cmap="RdBu_r")
        axes[1].set_title("held-out empirical FC")
        axes[2].imshow(sim_fc, vmin=-0.2, vmax=1, cmap="RdBu_r")
        axes[2].set_title("simulated FC (fitted k, v)")
        fig.tight_layout()
        fig.savefig("fit_hcp.png", dpi=120)
        print("wrote fit_hcp.png")
    except ImportError:
        pass
