r"""MNE-Python in and out: region lead fields from an MNE forward solution, simulated sensor
signals as MNE ``Raw``/``Epochs``, and a small offline head model.

In
--
:func:`from_mne` reduces a forward solution ``G`` (sensors × sources, fixed orientation) to a
region lead field ``L`` (regions × sensors) in SI units: V/(A·m) for EEG, T/(A·m) for
magnetometers, T/(m·A·m) for gradiometers (MNE's own units; Hämäläinen et al. 1993). For a
region :math:`r` with sources :math:`v \in r` (:math:`n_r` of them) the modes are

* ``'mean'``: :math:`L_r = \frac1{n_r}\sum_{v\in r} G_{:,v}` — the field of a total region dipole
  moment spread evenly over its sources with their own orientations;
* ``'mean_flip'``: :math:`L_r = \frac1{n_r}\sum_{v\in r} f_v G_{:,v}` with
  :math:`f_v = \operatorname{sign}(\mathbf n_v\cdot \mathbf d_r)`, :math:`\mathbf d_r` the first
  right singular vector of the region's source normals oriented along their mean (the sign flip
  of ``mne.label_sign_flip``): opposite walls of a sulcus no longer cancel;
* ``'pca'``: :math:`L_r = \sigma_1 \mathbf u_1 / \sqrt{n_r}` from the SVD
  :math:`G_r = U\Sigma V^\top` of the region's columns, signed to agree with ``'mean_flip'``:
  the dominant topography of the region, equal to ``'mean'`` when all columns are equal (the
  lead-field counterpart of MNE's ``'pca_flip'`` label time courses).

A free-orientation forward is first converted to fixed, surface-normal orientation with
``mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True)``.

Out
---
:func:`to_raw` and :func:`to_epochs` wrap simulated sensor signals (a Quantity in any prefix of
V, T or T/m) as ``mne.io.RawArray`` / ``mne.EpochsArray`` in SI units, with the channel names,
types and positions of the lead field's ``mne.Info`` (or a montage from its sensor positions).

Offline head model
------------------
:func:`connectome_sources` places dipoles at a connectome's region centres inside a sphere head
model fitted to a montage, and :func:`make_sphere_forward` computes their fixed-orientation
forward solution (``mne.make_sphere_model`` + ``mne.setup_volume_source_space(pos=...)`` +
``mne.make_forward_solution``): no MRI, no downloads. It is a teaching and testing model; a lab's
own BEM forward from its MRI replaces it unchanged in :func:`from_mne`.

``mne`` is an optional dependency: ``pip install 'neuralmass[mne]'``.

References
----------
Hämäläinen M. et al. (1993) Rev. Mod. Phys. 65, 413–497.
Gramfort A. et al. (2014) MNE software for processing MEG and EEG data. NeuroImage 86, 446–460.
Mosher J.C., Leahy R.M., Lewis P.S. (1999) EEG and MEG: forward solutions for inverse methods.
IEEE Trans. Biomed. Eng. 46, 245–259 (the multi-shell sphere model).
"""

from __future__ import annotations

import logging
from typing import Sequence

import brainunit as u
import numpy as np

from ..units import UnitMismatchError, magnitude, to_numpy
from .leadfield import RegionLeadField

__all__ = ["from_mne", "to_raw", "to_epochs", "connectome_sources", "make_sphere_forward",
           "MNE_MODES"]

log = logging.getLogger("neuralmass")

#: Label-reduction modes of :func:`from_mne`.
MNE_MODES = ("mean", "mean_flip", "pca")

# channel type -> (modality, SI lead-field unit, SI sensor unit, FIFF unit code name)
_CH = {
    "eeg": ("EEG", u.volt / (u.amp * u.meter), u.volt),
    "mag": ("MEG", u.tesla / (u.amp * u.meter), u.tesla),
    "grad": ("MEG", u.tesla / u.meter / (u.amp * u.meter), u.tesla / u.meter),
}


def _mne():
    try:
        import mne
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("MNE-Python is needed here: pip install 'neuralmass[mne]' "
                          "(or pip install mne).") from exc
    return mne


# ----------------------------------------------------------------------------- in: forward -> regions
def _fixed(fwd):
    mne = _mne()
    if not isinstance(fwd, mne.Forward):
        raise TypeError(f"fwd must be an mne.Forward (e.g. mne.read_forward_solution(path) or "
                        f"mne.make_forward_solution(...)), got {type(fwd).__name__}.")
    if fwd["source_ori"] == mne.io.constants.FIFF.FIFFV_MNE_FIXED_ORI:
        return fwd
    try:
        return mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True, copy=True,
                                            use_cps=True, verbose=False)
    except Exception as err:  # MNE raises ValueError/RuntimeError depending on the source space
        raise ValueError(f"fwd has free source orientations and could not be converted to fixed, "
                         f"surface-normal ones ({err}); compute the forward on a surface or "
                         f"discrete source space with normals, or convert it yourself with "
                         f"mne.convert_forward_solution(fwd, force_fixed=True).") from None


def _source_offsets(src) -> list[tuple[int, np.ndarray]]:
    """(first global column, vertno) of each source space in the forward's column order."""
    out, k = [], 0
    for s in src:
        out.append((k, np.asarray(s["vertno"])))
        k += len(s["vertno"])
    return out


def _groups_from_labels(labels, src, region_names) -> tuple[list[str], list[np.ndarray]]:
    """Region names and global source indices per region from the user's parcellation."""
    mne = _mne()
    offsets = _source_offsets(src)
    n_src = sum(len(v) for _, v in offsets)
    if isinstance(labels, dict):
        names = [str(k) for k in labels]
        groups = [np.asarray(v, dtype=int).ravel() for v in labels.values()]
        for nm, g in zip(names, groups):
            if g.size and (g.min() < 0 or g.max() >= n_src):
                raise ValueError(f"labels[{nm!r}] holds source indices outside [0, {n_src}) of "
                                 f"the forward's {n_src} sources.")
        return names, groups
    if isinstance(labels, str):
        raise ValueError(f"labels={labels!r}: to use an annotation, read it first with "
                         f"mne.read_labels_from_annot(subject, parc={labels!r}, "
                         f"subjects_dir=...) and pass the list of labels.")
    seq = list(labels)
    if seq and all(isinstance(x, (mne.Label, mne.BiHemiLabel)) for x in seq):
        hemi_src = {"lh": 0, "rh": 1}
        names, groups = [], []
        for lab in seq:
            parts = [lab.lh, lab.rh] if isinstance(lab, mne.BiHemiLabel) else [lab]
            idx = []
            for part in parts:
                if part.hemi not in hemi_src or hemi_src[part.hemi] >= len(offsets):
                    raise ValueError(f"label {lab.name!r} is on hemisphere {part.hemi!r}, which "
                                     f"this forward's source space does not have (it has "
                                     f"{len(offsets)} source space(s)); for volume or discrete "
                                     f"source spaces pass a per-source array or a dict instead.")
                k0, vertno = offsets[hemi_src[part.hemi]]
                pos = np.flatnonzero(np.isin(vertno, part.vertices))
                idx.append(k0 + pos)
            idx = np.concatenate(idx)
            if idx.size == 0:
                raise ValueError(f"label {lab.name!r} covers none of the forward's sources (its "
                                 f"{len(lab.vertices)} vertices are not in the source space: a "
                                 f"different subject or a coarser source space?).")
            names.append(str(lab.name))
            groups.append(idx)
        return names, groups
    arr = np.asarray(seq)
    if arr.ndim != 1 or arr.size != n_src:
        raise ValueError(f"labels must be a list of mne.Label, a dict {{region: source indices}} "
                         f"or one region per source ({n_src} entries for this forward); got "
                         f"{'shape ' + str(arr.shape) if arr.ndim else type(labels).__name__}.")
    if arr.dtype.kind in "iu":
        keys = [int(k) for k in np.unique(arr[arr >= 0])]
        if region_names is not None:
            names = [str(x) for x in region_names]
            if keys and max(keys) >= len(names):
                raise ValueError(f"labels uses region index {max(keys)} but region_names has only "
                                 f"{len(names)} names.")
            keys = list(range(len(names)))
        else:
            names = [str(k) for k in keys]
        return names, [np.flatnonzero(arr == k) for k in keys]
    s = arr.astype(str)
    names = list(dict.fromkeys(x for x in s if x not in ("", "None", "unknown")))
    return names, [np.flatnonzero(s == nm) for nm in names]


def _flip(normals: np.ndarray) -> np.ndarray:
    """Sign flips aligning a region's source normals with their dominant direction."""
    _, _, vh = np.linalg.svd(normals, full_matrices=False)
    dots = normals @ vh[0]
    if dots.mean() < 0:
        dots = -dots
    f = np.sign(dots)
    f[f == 0] = 1.0
    return f


def _reduce(G: np.ndarray, normals: np.ndarray, mode: str) -> np.ndarray:
    if mode == "mean":
        return G.mean(axis=1)
    f = _flip(normals)
    mean_flip = (G * f).mean(axis=1)
    if mode == "mean_flip":
        return mean_flip
    uu, s, _ = np.linalg.svd(G, full_matrices=False)
    top = uu[:, 0] * s[0] / np.sqrt(G.shape[1])
    return top if top @ mean_flip >= 0 else -top


def from_mne(fwd, labels, mode: str = "mean_flip", *, ch_type: str | None = None,
             regions=None, region_names: Sequence[str] | None = None):
    """A region lead field from an MNE forward solution and a parcellation.

    Parameters
    ----------
    fwd : mne.Forward
        Fixed or free orientation (free is converted to fixed, surface-normal orientation).
    labels : list of mne.Label, dict, or array
        The parcellation of the forward's sources: ``mne.Label`` objects (surface source spaces;
        e.g. from ``mne.read_labels_from_annot``), a dict ``{region: global source indices}``,
        or one region id/name per source (``-1``/``''`` = unassigned).
    mode : {'mean', 'mean_flip', 'pca'}
        How a region's source columns are combined (module docstring).
    ch_type : {'eeg', 'mag', 'grad', 'meg'}, optional
        The channels to keep. Needed when ``fwd`` mixes channel types of different units.
    regions : sequence of str or Connectome, optional
        Put the rows in this region order (e.g. ``connectome.labels``); every region must have
        a label in the parcellation, labels of other regions are dropped.
    region_names : sequence of str, optional
        Names of integer region ids ``0..R-1`` in a per-source ``labels`` array.

    Returns
    -------
    neuralmass.datasets.RegionLeadField
        ``L`` as a Quantity (regions, sensors) in V/(A·m), T/(A·m) or T/(m·A·m);
        ``sensor_names`` and ``sensor_types`` from ``fwd['info']``; ``metadata['mne_info']``
        holds the picked ``mne.Info`` (used by :func:`to_raw`).

    Raises
    ------
    ValueError
        Unknown mode or channel type, mixed channel units without ``ch_type``, a label that
        covers no source of ``fwd``, a region of ``regions`` with no label — before any work.
    """
    mne = _mne()

    if mode not in MNE_MODES:
        raise ValueError(f"mode={mode!r} is not a label-reduction mode; use one of {MNE_MODES}.")
    if not isinstance(fwd, mne.Forward):
        raise TypeError(f"fwd must be an mne.Forward, got {type(fwd).__name__}.")
    types = np.array(fwd["info"].get_channel_types())
    present = [t for t in ("eeg", "mag", "grad") if t in types]
    if ch_type is None:
        if len(present) != 1:
            raise ValueError(f"fwd holds {present} channels, whose lead fields have different "
                             f"units; pass ch_type= one of {present}.")
        ch_type = present[0]
    if ch_type == "meg":
        meg = [t for t in present if t in ("mag", "grad")]
        if len(meg) != 1:
            raise ValueError(f"ch_type='meg' is ambiguous for a forward with {meg or 'no MEG'} "
                             f"channels; pass ch_type='mag' or 'grad'.")
        ch_type = meg[0]
    if ch_type not in _CH or ch_type not in present:
        raise ValueError(f"ch_type={ch_type!r}: this forward has {present} channels.")
    names, groups = _groups_from_labels(labels, fwd["src"], region_names)
    empty = [nm for nm, g in zip(names, groups) if g.size == 0]
    if empty:
        raise ValueError(f"regions {empty} of the parcellation have no source in the forward "
                         f"solution; drop them or use a source space that covers them.")
    if regions is not None:
        wanted = [str(x) for x in getattr(regions, "labels", regions)]
        lut = dict(zip(names, groups))
        missing = [r for r in wanted if r not in lut]
        if missing:
            raise ValueError(f"{len(missing)} of the {len(wanted)} regions have no label in the "
                             f"parcellation (first: {missing[:5]}); the parcellation names "
                             f"{names[:5]}{' ...' if len(names) > 5 else ''}.")
        dropped = [nm for nm in names if nm not in set(wanted)]
        if dropped:
            log.info("from_mne: %d labels not among the regions are dropped: %s", len(dropped),
                     dropped[:10])
        names, groups = wanted, [lut[r] for r in wanted]
    fixed = _fixed(fwd)
    picks = np.flatnonzero(np.array(fixed["info"].get_channel_types()) == ch_type)
    G = np.asarray(fixed["sol"]["data"], dtype=float)[picks]
    normals = np.asarray(fixed["source_nn"], dtype=float)
    L = np.stack([_reduce(G[:, g], normals[g], mode) for g in groups])
    info = mne.pick_info(fixed["info"], picks)
    pos_mm = np.array([ch["loc"][:3] for ch in info["chs"]]) * 1e3
    modality, lf_unit, _ = _CH[ch_type]
    covered = np.zeros(G.shape[1], dtype=bool)
    for g in groups:
        covered[g] = True
    md = dict(source="MNE forward solution", mode=mode, ch_type=ch_type, mne_info=info,
              coord_frame="head", units_note="SI units as computed by MNE",
              orientation="fixed, normal to the source space",
              sources_per_region=[int(g.size) for g in groups],
              sources_unassigned=int((~covered).sum()))
    return RegionLeadField(L=u.Quantity(L, unit=lf_unit), modality=modality,
                           sensor_names=np.array(info["ch_names"]),
                           sensor_positions=u.Quantity(pos_mm, unit=u.mm),
                           region_labels=np.array(names), region_areas_mm2=None,
                           vertices_per_region=np.array([g.size for g in groups]),
                           weighting=mode, name="mne", metadata=md,
                           sensor_types=np.array([ch_type] * len(picks)))


# ----------------------------------------------------------------------------- out: signals -> MNE
def _info_for(target, n_ch: int):
    """An mne.Info for ``n_ch`` channels from a RegionLeadField, an mne.Info or a Forward."""
    mne = _mne()
    if isinstance(target, mne.Forward):
        target = target["info"]
    if isinstance(target, mne.Info):
        info = target
    else:
        md = getattr(target, "metadata", None)
        if md is None or not hasattr(target, "sensor_names"):
            raise TypeError(f"pass a RegionLeadField, an mne.Info or an mne.Forward for the "
                            f"channels, got {type(target).__name__}.")
        info = md.get("mne_info")
        if info is None:
            types = getattr(target, "sensor_types", None)
            if types is None:
                types = ["eeg" if target.modality == "EEG" else "mag"] * len(target.sensor_names)
            info = mne.create_info([str(s) for s in target.sensor_names], 1000.0, list(types))
            if target.modality == "EEG" and target.sensor_positions is not None:
                pos = to_numpy(target.sensor_positions, "sensor_positions", u.meter)
                mont = mne.channels.make_dig_montage(
                    ch_pos=dict(zip(info["ch_names"], pos)), coord_frame="head")
                info.set_montage(mont, on_missing="ignore")
                note = getattr(target, "metadata", {}).get("sensor_frame_note")
                if note:
                    log.warning("to_raw: %s", note)
    if len(info["ch_names"]) != n_ch:
        raise ValueError(f"the signal has {n_ch} channels but the channel description has "
                         f"{len(info['ch_names'])} ({info['ch_names'][:3]} ...); pass the lead "
                         f"field that produced the signal.")
    return _measurement_info(info)


def _measurement_info(info):
    """A complete measurement Info with the channels (names, types, positions, coils) and
    digitisation of ``info`` (a forward solution's Info lacks the measurement fields)."""
    mne = _mne()
    out = mne.create_info(list(info["ch_names"]), 1000.0, info.get_channel_types())
    with out._unlock():
        for new, old in zip(out["chs"], info["chs"]):
            for key in ("loc", "coil_type", "coord_frame", "kind", "unit", "unit_mul", "cal",
                        "range"):
                if key in old:
                    new[key] = np.array(old[key]) if key == "loc" else old[key]
        if info.get("dig"):
            out["dig"] = list(info["dig"])
        if info.get("dev_head_t") is not None:
            out["dev_head_t"] = info["dev_head_t"]
    eeg = [ch for ch in out["chs"] if ch["kind"] == mne.io.constants.FIFF.FIFFV_EEG_CH]
    if eeg and not out.get("dig") and all(np.all(np.isfinite(ch["loc"][:3])) for ch in eeg):
        # a forward's Info keeps electrode positions only in 'loc': rebuild the montage (head frame)
        out.set_montage(mne.channels.make_dig_montage(
            ch_pos={ch["ch_name"]: ch["loc"][:3] for ch in eeg}, coord_frame="head"))
    return out


def _si(y, info) -> np.ndarray:
    """Channel data in SI units (V, T, T/m) from a Quantity; plain arrays are refused."""
    types = info.get_channel_types()
    if not isinstance(y, u.Quantity):
        raise TypeError("pass the sensor signal as a brainunit Quantity (the output of "
                        "EEGLeadFieldModel/MEGLeadFieldModel), so that its unit is known; e.g. "
                        "y * u.volt for plain numbers in V.")
    kinds = set(types)
    units = {_CH[t][2] for t in kinds if t in _CH}
    if len(units) != 1:
        raise ValueError(f"channels of types {sorted(kinds)} need one signal unit each; export "
                         f"each channel type separately.")
    unit = units.pop()
    if y.dim != unit.dim:
        raise UnitMismatchError(f"the signal has unit {u.get_unit(y)} but {sorted(kinds)} "
                                f"channels are measured in {unit}; pass the lead field that "
                                f"produced it.")
    return to_numpy(y, "y", unit)


def _sfreq(sfreq, ts) -> float:
    if (sfreq is None) == (ts is None):
        raise ValueError("give the sampling rate as sfreq= (Hz) or the time vector ts= (the "
                         "simulation's result['ts']), exactly one of them.")
    if sfreq is not None:
        f = float(magnitude(sfreq, u.Hz, "sfreq"))
    else:
        t = to_numpy(ts, "ts", u.second) if isinstance(ts, u.Quantity) else np.asarray(ts) / 1e3
        dt = np.diff(t)
        if t.ndim != 1 or dt.size == 0 or not np.allclose(dt, dt[0], rtol=1e-6):
            raise ValueError("ts= must be an evenly spaced 1-D time vector (ms when plain).")
        f = 1.0 / dt[0]
    if not np.isfinite(f) or f <= 0:
        raise ValueError(f"sampling rate {f} Hz must be finite and > 0.")
    return f


def to_raw(y, channels, *, sfreq=None, ts=None, first_time: float = 0.0):
    """Simulated sensor signals as an ``mne.io.RawArray`` in SI units.

    Parameters
    ----------
    y : brainunit.Quantity, shape (time, sensors)
        In any prefix of V (EEG), T (magnetometers) or T/m (gradiometers).
    channels : RegionLeadField, mne.Info or mne.Forward
        Channel names, types and positions (the lead field that produced ``y``).
    sfreq : float or Quantity, optional
        Sampling rate (Hz when plain). Or give ``ts``.
    ts : array or Quantity, optional
        The time vector of the samples (ms when plain), e.g. ``result['ts']``.
    first_time : float
        Time of the first sample in s.

    Returns
    -------
    mne.io.RawArray
        ``raw.get_data()`` equals ``y`` in V / T / T/m, shape (sensors, time).
    """
    mne = _mne()
    shape = tuple(y.shape)
    if len(shape) != 2:
        raise ValueError(f"y must be (time, sensors), got shape {shape}; use to_epochs for "
                         f"(epochs, time, sensors).")
    info = _info_for(channels, shape[1]).copy()
    f = _sfreq(sfreq, ts)
    with info._unlock():
        info["sfreq"] = f
    return mne.io.RawArray(_si(y, info).T, info, first_samp=int(round(first_time * f)),
                           verbose=False)


def to_epochs(y, channels, *, sfreq=None, ts=None, tmin: float = 0.0, events=None,
              event_id=None):
    """Simulated trials (e.g. ERPs) as an ``mne.EpochsArray`` in SI units.

    Parameters
    ----------
    y : brainunit.Quantity, shape (epochs, time, sensors)
    channels, sfreq, ts
        As in :func:`to_raw`.
    tmin : float
        Time of each epoch's first sample in s (e.g. -0.1 for a 100 ms baseline).
    events, event_id
        Passed to ``mne.EpochsArray`` (default: one event per epoch, id 1).
    """
    mne = _mne()
    shape = tuple(y.shape)
    if len(shape) != 3:
        raise ValueError(f"y must be (epochs, time, sensors), got shape {shape}.")
    info = _info_for(channels, shape[2]).copy()
    f = _sfreq(sfreq, ts)
    with info._unlock():
        info["sfreq"] = f
    data = np.transpose(_si(y, info), (0, 2, 1))
    return mne.EpochsArray(data, info, events=events, tmin=tmin, event_id=event_id, verbose=False)


# ----------------------------------------------------------------------------- offline head model
def connectome_sources(conn, info, *, sources_per_region: int = 1, spread_mm: float = 4.0,
                       orientations=None, rotation=None, sphere="auto", seed: int = 0):
    """Dipole positions and normals at a connectome's region centres inside a sphere head model.

    The centres (mm, the connectome's frame) are translated so that their centroid sits at the
    centre of the sphere fitted to the montage in ``info`` (no rotation or scaling; a real
    head model uses the MRI→head transform from coregistration instead).

    Parameters
    ----------
    conn : Connectome
        With ``centres``.
    info : mne.Info
        Channels with a montage (e.g. ``info.set_montage('biosemi64')``).
    sources_per_region : int
        ``1`` puts one dipole at each centre; more scatter that many dipoles within
        ``spread_mm`` of it, with normals tilted at random around the region's orientation, so
        the label-reduction modes of :func:`from_mne` differ.
    orientations : (N, 3) array or 'radial', optional
        Region dipole orientations; default ``conn.metadata['average_orientations']`` when
        present (TVB connectivities), else ``'radial'`` (outward from the sphere centre; note
        that radial dipoles are silent in MEG over a sphere).
    rotation : (3, 3) array, optional
        Applied to centres and orientations first, when the connectome's axes are not MNE's
        head axes (x right, y anterior, z up). TVB's connectivities use x anterior, y left,
        z up: ``rotation=[[0, -1, 0], [1, 0, 0], [0, 0, 1]]``.
    sphere : 'auto' or mne ConductorModel
    seed : int

    Returns
    -------
    positions_mm : (V, 3) head-frame positions in mm
    normals : (V, 3) unit vectors
    region : (V,) int region index of each dipole
    sphere : the mne ConductorModel used
    """
    mne = _mne()
    if conn.centres is None:
        raise ValueError("the connectome has no region centres; build it with centres= (mm) to "
                         "place sources.")
    if isinstance(sphere, str):
        sphere = mne.make_sphere_model("auto", "auto", info, verbose=False)
    r0 = np.asarray(sphere["r0"]) * 1e3
    rot = np.eye(3) if rotation is None else np.asarray(rotation, dtype=float)
    if rot.shape != (3, 3) or not np.allclose(rot @ rot.T, np.eye(3), atol=1e-6):
        raise ValueError(f"rotation must be an orthogonal (3, 3) matrix, got {rot.tolist()}.")
    c = np.asarray(conn.centres, dtype=float) @ rot.T
    centres = c - c.mean(axis=0) + r0
    if orientations is None:
        orientations = conn.metadata.get("average_orientations", "radial")
    if isinstance(orientations, str):
        if orientations != "radial":
            raise ValueError(f"orientations={orientations!r}; pass an (N, 3) array or 'radial'.")
        ori = centres - r0
    else:
        ori = np.asarray(orientations, dtype=float) @ rot.T
        if ori.shape != c.shape:
            raise ValueError(f"orientations must have shape {c.shape}, got {ori.shape}.")
    norm = np.linalg.norm(ori, axis=1, keepdims=True)
    if np.any(norm == 0):
        raise ValueError("an orientation is the zero vector (a centre at the sphere centre?); "
                         "pass orientations=.")
    ori = ori / norm
    k = int(sources_per_region)
    if k < 1:
        raise ValueError(f"sources_per_region={sources_per_region} must be >= 1.")
    rng = np.random.default_rng(seed)
    pos = np.repeat(centres, k, axis=0)
    nn = np.repeat(ori, k, axis=0)
    if k > 1:
        pos = pos + rng.normal(0.0, spread_mm / np.sqrt(3), pos.shape)
        nn = nn + rng.normal(0.0, 0.6, nn.shape)
        nn /= np.linalg.norm(nn, axis=1, keepdims=True)
    inner = float(sphere["layers"][0]["rad"]) * 1e3 if sphere.get("layers") else np.inf
    dist = np.linalg.norm(pos - r0, axis=1)
    if np.any(dist >= inner - 2.0):
        i = int(np.argmax(dist))
        raise ValueError(f"region {str(conn.labels[i // k])!r} lies {dist[i]:.0f} mm from the sphere "
                         f"centre, outside the brain sphere ({inner:.0f} mm); the connectome's "
                         f"centres do not fit this head (different units or frame?).")
    return pos, nn, np.repeat(np.arange(conn.n_regions), k), sphere


def make_sphere_forward(info, positions_mm, normals, *, sphere="auto", mindist: float = 0.0):
    """A fixed-orientation MNE forward solution for dipoles in a multi-shell sphere model.

    Parameters
    ----------
    info : mne.Info
        EEG channels with a montage and/or MEG channels with their coil definitions.
    positions_mm, normals : (V, 3) arrays
        Dipole positions (head frame, mm) and orientations (normalised here).
    sphere : 'auto' or mne ConductorModel
        ``'auto'`` fits ``mne.make_sphere_model('auto', 'auto', info)`` (four shells for EEG).

    Returns
    -------
    mne.Forward with fixed orientation: one column per dipole, in the order given.
    """
    mne = _mne()
    if isinstance(sphere, str):
        sphere = mne.make_sphere_model("auto", "auto", info, verbose=False)
    rr = np.asarray(positions_mm, dtype=float) / 1e3
    nn = np.asarray(normals, dtype=float)
    nn = nn / np.linalg.norm(nn, axis=1, keepdims=True)
    # a shell-less sphere (MEG only) bounds nothing: use a 1 m sphere around its centre
    bound = sphere if sphere.get("layers") else tuple(np.asarray(sphere["r0"])) + (1.0,)
    src = mne.setup_volume_source_space(pos=dict(rr=rr, nn=nn), sphere=bound,
                                        mindist=mindist, verbose=False)
    if src[0]["nuse"] != rr.shape[0]:
        raise ValueError(f"{rr.shape[0] - src[0]['nuse']} of the {rr.shape[0]} dipoles lie "
                         f"outside the sphere model's inner shell; move them inwards.")
    types = set(info.get_channel_types())
    fwd = mne.make_forward_solution(info, trans=None, src=src, bem=sphere, eeg="eeg" in types,
                                    meg=bool(types & {"mag", "grad"}), verbose=False)
    return mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True, copy=False,
                                        verbose=False)
