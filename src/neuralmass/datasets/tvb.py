r"""Connectivities and region-level lead fields read from the user's installed ``tvb-data``.

``tvb-data`` (The Virtual Brain's data package) is GPL-3 licensed. Its files are read at run time
from the user's installation and are never copied into this package; derived lead fields are
cached in the user's cache directory (:func:`neuralmass.datasets.cache_dir`).

Region lead fields
------------------
tvb-data ships vertex-level gain ("projection") matrices ``G`` of shape (sensors, 16384) for the
16k-vertex cortical surface ``cortex_16384``: one column per vertex, i.e. the forward solution of a
dipole whose orientation is fixed along the cortical surface normal (TVB's monitors apply such
matrices directly to vertex activity; a free-orientation gain would have three columns per vertex).
A region lead field needs an assumption about how a region's source is spread over its vertices.
We use the **area-weighted mean**

.. math::

    L_{r m} = \sum_{v \in r} \frac{a_v}{A_r}\, G_{m v}, \qquad A_r = \sum_{v \in r} a_v,

where :math:`a_v` is the vertex area (one third of the area of every triangle touching
:math:`v`). This is the field of a total region dipole moment :math:`Q_r` spread with uniform
surface density :math:`Q_r / A_r` over the region's cortex, so ``L`` maps a region's total dipole
moment (nA·m) to sensors and does not depend on how finely the region is meshed. TVB itself uses
the plain sum :math:`\sum_{v \in r} G_{mv}` (available as ``weighting='sum'``), which treats every
vertex as carrying the region's full moment and therefore scales with the vertex count.

Units. tvb-data does not state the unit of its projection matrices. They were computed with
Brainstorm, whose gain matrices are in SI units (V/(A·m) for EEG, T/(A·m) for MEG), and their
magnitudes agree with that reading (EEG: median |G| ≈ 9.5 V/(A·m), max ≈ 254; MEG: median
≈ 8.7e-7 T/(A·m), max ≈ 2.7e-5, compared with µ0/(4π r²) ≈ 6e-5 T/(A·m) at r = 4 cm). We
**assume** SI units and return ``L`` in µV/(nA·m) (EEG) and fT/(nA·m) (MEG).

Channels. Some rows of the tvb-data matrices are entirely NaN: two EEG channels (IO1, IO2,
infra-orbital electrodes) and 28 MEG channels (reference coils, trigger, EOG/ECG and other
auxiliary channels of the 248-magnetometer 4D/BTi system). ``channels='valid'`` (default) drops
them, leaving 63 EEG and 248 MEG sensors; ``channels='all'`` keeps all 65 / 276 rows with NaN.
"""

from __future__ import annotations

import bz2
import os
import zipfile
from pathlib import Path

import brainunit as u
import numpy as np

from ..analysis import pearson
from ..compilation_cache import cache_dir
from ..forward.leadfield import (RegionLeadField, average_reference, dipole_potentials,
                                 region_leadfield_from_vertices)
from ..network.connectome import Connectome
from ..surface.mesh import vertex_areas
from ..tvbdata import TVBDataMissingError, tvb_data_path, tvb_data_version
from ..units import magnitude, to_numpy
from .files import read_connectome

__all__ = ["TVBDataMissingError", "RegionLeadField", "tvb_data_path", "load_tvb_connectivity",
           "load_tvb_leadfield", "vertex_areas",
           "register_tvb_eeg_sensors",
           "TVB_CONNECTIVITIES", "TVB_LEADFIELDS"]

TVB_CITATION = ("Sanz Leon P, Knock SA, Woodman MM, Domide L, Mersmann J, McIntosh AR, Jirsa V "
                "(2013) The Virtual Brain: a simulator of primate brain network dynamics. "
                "Front. Neuroinform. 7:10.")
TVB_LICENCE = "GPL-3.0 (tvb-data); read from the user's installation, not redistributed"

TVB_CONNECTIVITIES = {
    "tvb76": dict(file="connectivity_76.zip", n=76,
                  description="TVB's default 76-region connectivity (38 regions per hemisphere; the "
                              "parcellation of the 16k cortical surface used by the tvb-data EEG/MEG "
                              "projection matrices). Raw weights (0-3) with self-connections."),
    "tvb66": dict(file="connectivity_66.zip", n=66,
                  description="66-region connectivity (Desikan-Killiany-style cortical regions, "
                              "33 per hemisphere) from diffusion spectrum imaging (Hagmann et al. "
                              "2008, PLoS Biol 6:e159)."),
    "tvb68": dict(file="connectivity_68.zip", n=68,
                  description="68-region Desikan-Killiany cortical connectivity (FreeSurfer "
                              "aparc labels, 34 per hemisphere)."),
    "tvb96": dict(file="connectivity_96.zip", n=96,
                  description="96-region connectivity in the Regional Map (RM) parcellation "
                              "(Kötter & Wanke 2005), including subcortical regions."),
    "tvb192": dict(file="connectivity_192.zip", n=192,
                   description="192-region connectivity (cortical and subcortical regions; "
                               "matches regionMapping_16k_192)."),
}

TVB_LEADFIELDS = {
    "tvb76_eeg65": dict(modality="EEG", gain="projection_eeg_65_surface_16k.npy",
                        sensors="eeg_brainstorm_65.txt", mapping="regionMapping_16k_76.txt",
                        connectivity="tvb76", unit=u.uvolt / (u.nA * u.meter),
                        si_to_unit=1e-3,  # V/(A·m) -> µV/(nA·m)
                        description="Region-level EEG lead field (76 TVB regions x 63 usable of 65 "
                                    "Brainstorm electrodes) from tvb-data's 16k-vertex gain matrix, "
                                    "in µV/(nA·m)."),
    "tvb76_meg276": dict(modality="MEG", gain="projection_meg_276_surface_16k.npy",
                         sensors="meg_brainstorm_276.txt", mapping="regionMapping_16k_76.txt",
                         connectivity="tvb76", unit=u.ftesla / (u.nA * u.meter),
                         si_to_unit=1e6,  # T/(A·m) -> fT/(nA·m)
                         description="Region-level MEG lead field (76 TVB regions x 248 usable "
                                     "magnetometers of the 276-channel 4D/BTi file) from tvb-data's "
                                     "16k-vertex gain matrix, in fT/(nA·m)."),
}

_LEADFIELD_CACHE_VERSION = 1

_SENSOR_FRAME_NOTE = (
    "tvb-data's EEG sensor coordinates (eeg_brainstorm_65.txt) are not in the frame of the "
    "cortex and the connectome centres: they sit about 60 mm too high (z). Distances and "
    "topographies computed from sensor_positions as given are wrong; use "
    "neuralmass.datasets.tvb.register_tvb_eeg_sensors(lf) for positions translated into the "
    "cortex frame. The lead field L itself is unaffected.")


_tvb_data_version = tvb_data_version


def _read_member(zf: zipfile.ZipFile, stem: str) -> str | None:
    """Text of the member whose basename is ``stem`` (or ``stem.bz2``), or None."""
    for name in zf.namelist():
        base = name.rsplit("/", 1)[-1]
        if base == stem:
            return zf.read(name).decode()
        if base == stem + ".bz2":
            return bz2.decompress(zf.read(name)).decode()
    return None


def _matrix(text: str) -> np.ndarray:
    return np.array([[float(x) for x in line.split()] for line in text.splitlines() if line.strip()])


def load_tvb_connectivity(name: str = "tvb76") -> Connectome:
    """Read a connectivity from tvb-data (weights as distributed, lengths in mm).

    Parameters
    ----------
    name : {'tvb76', 'tvb66', 'tvb68', 'tvb96', 'tvb192'}
    """
    if name not in TVB_CONNECTIVITIES:
        raise ValueError(f"name={name!r} is not a tvb-data connectivity; use one of "
                         f"{sorted(TVB_CONNECTIVITIES)}.")
    spec = TVB_CONNECTIVITIES[name]
    conn = read_connectome(tvb_data_path() / "connectivity" / spec["file"], name=name)
    md = dict(conn.metadata)
    md.update(description=spec["description"], source=f"tvb-data {_tvb_data_version()}: "
              f"connectivity/{spec['file']}", licence=TVB_LICENCE, citation=TVB_CITATION,
              info=str(md.get("info", "")).strip(), weights_unit="arbitrary (as distributed)")
    return Connectome(weights=conn.weights, lengths=conn.lengths, labels=conn.labels,
                      centres=conn.centres, hemispheres=conn.hemispheres, name=name, metadata=md)


# ----------------------------------------------------------------------------- lead fields
class TVBRegionLeadField(RegionLeadField):
    """A :class:`~neuralmass.forward.leadfield.RegionLeadField` built from tvb-data: it knows the
    tvb-data connectivity whose regions index its rows (:attr:`connectome`)."""

    @property
    def connectome(self) -> Connectome:
        """The tvb-data connectivity whose regions index the rows of :attr:`L`."""
        name = self.metadata.get("connectivity")
        if name is None:
            return super().connectome
        return load_tvb_connectivity(name)


def _read_surface(zip_path: Path) -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(zip_path) as zf:
        vertices = _matrix(_read_member(zf, "vertices.txt"))
        triangles = _matrix(_read_member(zf, "triangles.txt")).astype(int)
    return vertices, triangles


def _read_sensors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    names = np.array([r[0] for r in rows])
    pos = np.array([[float(x) for x in r[1:4]] for r in rows])
    return names, pos


def _build_leadfield(name: str, weighting: str) -> dict:
    spec = TVB_LEADFIELDS[name]
    root = tvb_data_path()
    gain = np.load(root / "projectionMatrix" / spec["gain"])
    rmap = np.loadtxt(root / "regionMapping" / spec["mapping"]).astype(int)
    vertices, triangles = _read_surface(root / "surfaceData" / "cortex_16384.zip")
    if vertices.shape[0] != rmap.size or gain.shape[1] != rmap.size:
        raise ValueError(f"tvb-data files disagree: {vertices.shape[0]} vertices, "
                         f"{rmap.size} region-mapping entries, {gain.shape[1]} gain columns.")
    conn = load_tvb_connectivity(spec["connectivity"])
    n_reg = conn.n_regions
    areas = vertex_areas(vertices, triangles)
    lf_si = region_leadfield_from_vertices(gain, rmap, n_reg, areas, weighting)
    names, pos = _read_sensors(root / "sensors" / spec["sensors"])
    if names.size != gain.shape[0]:
        raise ValueError(f"{spec['sensors']} lists {names.size} sensors but {spec['gain']} has "
                         f"{gain.shape[0]} rows.")
    valid = np.isfinite(gain).all(axis=1)
    return dict(L=lf_si * spec["si_to_unit"], sensor_names=names, sensor_positions_mm=pos,
                valid=valid, region_labels=np.asarray(conn.labels),
                region_areas_mm2=np.bincount(rmap, weights=areas, minlength=n_reg),
                vertices_per_region=np.bincount(rmap, minlength=n_reg),
                tvb_data_version=np.array(_tvb_data_version()),
                cache_version=np.array(_LEADFIELD_CACHE_VERSION))


def load_tvb_leadfield(name: str = "tvb76_eeg65", weighting: str = "area", channels: str = "valid",
                       cache: bool = True) -> RegionLeadField:
    """Region-level EEG/MEG lead field for the 76-region TVB connectivity.

    Parameters
    ----------
    name : {'tvb76_eeg65', 'tvb76_meg276'}
    weighting : {'area', 'mean', 'sum'}
        How vertex gains are combined within a region (module docstring); default ``'area'``.
    channels : {'valid', 'all'}
        ``'valid'`` drops the channels whose gain is undefined (NaN) in tvb-data.
    cache : bool
        Read/write the derived lead field in ``cache_dir()/leadfields`` (rebuilt when the
        tvb-data version changes).
    """

    if name not in TVB_LEADFIELDS:
        raise ValueError(f"name={name!r} is not a lead-field dataset; use one of {sorted(TVB_LEADFIELDS)}.")
    if weighting not in ("area", "mean", "sum"):
        raise ValueError(f"weighting={weighting!r}; use 'area', 'mean' or 'sum'.")
    if channels not in ("valid", "all"):
        raise ValueError(f"channels={channels!r}; use 'valid' (drop NaN channels) or 'all'.")
    spec = TVB_LEADFIELDS[name]
    tvb_data_path()  # clear error first when tvb-data is absent
    version = _tvb_data_version()
    fname = f"{name}_{weighting}_tvbdata-{version}_v{_LEADFIELD_CACHE_VERSION}.npz"
    path = cache_dir() / "leadfields" / fname
    d = None
    from_cache = False
    if cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                d = {k: z[k] for k in z.files}
            from_cache = True
        except (OSError, ValueError):
            d = None
    if d is None:
        d = _build_leadfield(name, weighting)
        if cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez_compressed(tmp, **d)
            os.replace(tmp, path)
    keep = d["valid"] if channels == "valid" else np.ones(d["valid"].size, dtype=bool)
    L = u.Quantity(np.asarray(d["L"])[:, keep], unit=spec["unit"])
    positions = None
    if spec["modality"] == "EEG":
        positions = u.Quantity(np.asarray(d["sensor_positions_mm"])[keep], unit=u.mm)
    dropped = [str(s) for s in d["sensor_names"][~d["valid"]]]
    md = dict(description=spec["description"], connectivity=spec["connectivity"],
              source=f"tvb-data {version}: projectionMatrix/{spec['gain']}, "
                     f"regionMapping/{spec['mapping']}, surfaceData/cortex_16384.zip, "
                     f"sensors/{spec['sensors']}",
              licence=TVB_LICENCE, citation=TVB_CITATION,
              units_note="tvb-data gain assumed in SI units (V/(A·m), T/(A·m)); see "
                         "neuralmass.datasets.tvb",
              orientation="fixed, normal to the cortical surface (one gain column per vertex)",
              dropped_channels=dropped if channels == "valid" else [],
              nan_channels=dropped, cache_file=str(path) if cache else None,
              from_cache=from_cache,
              sensor_frame_note=(_SENSOR_FRAME_NOTE if spec["modality"] == "EEG" else None),
              regions_without_vertices=[str(lab) for lab, nv in
                                        zip(d["region_labels"], d["vertices_per_region"]) if nv == 0])
    return TVBRegionLeadField(L=L, modality=spec["modality"], sensor_names=d["sensor_names"][keep],
                           sensor_positions=positions, region_labels=d["region_labels"],
                           region_areas_mm2=d["region_areas_mm2"],
                           vertices_per_region=d["vertices_per_region"], weighting=weighting,
                           name=name, metadata=md)


# ----------------------------------------------------------------------------- sensor registration
def _dipole_topographies(sensors_mm, centres_mm, orientations) -> np.ndarray:
    """Average-referenced potentials (regions, sensors) of unit dipoles in an infinite
    homogeneous conductor (:func:`neuralmass.forward.leadfield.dipole_potentials`)."""
    return average_reference(dipole_potentials(sensors_mm, centres_mm, orientations))


def _mean_row_corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(pearson(a, b, axis=1, xp=np)))


def register_tvb_eeg_sensors(lf: RegionLeadField | None = None, conn: Connectome | None = None,
                             min_distance_mm: float = 10.0) -> dict:
    r"""Translate tvb-data's EEG sensor positions into the frame of the cortex and connectome.

    The sensor file's coordinates share the axes of the connectome centres (x anterior, y left,
    z up) but not their origin. We find the translation :math:`\mathbf t` that makes the
    topographies of a dipole at each region centre (orientation: TVB's average orientation of
    the region's cortex) in an infinite homogeneous conductor best match the rows of the lead
    field ``L`` (mean Pearson correlation over regions after average reference; Nelder–Mead
    from vertical offsets of 0, -30, -60 and -90 mm; sensors kept at least
    ``min_distance_mm`` from every centre). Only a translation is fitted: a scale factor would also absorb the skull's spatial smoothing,
    which the homogeneous model lacks.

    Parameters
    ----------
    lf : RegionLeadField, optional
        Default ``load_tvb_leadfield('tvb76_eeg65')``.
    conn : Connectome, optional
        Default: the lead field's connectivity (needs ``average_orientations``).

    Returns
    -------
    dict
        ``positions`` (Quantity (sensors, 3) in mm, registered), ``shift_mm`` (3,),
        ``corr_before`` and ``corr_after`` (mean topography correlation with ``L``).
        For tvb-data 2.x/3.0: a shift of about -60 mm in z; the correlation rises from
        about 0.5 to about 0.87.
    """
    from scipy.optimize import minimize

    lf = load_tvb_leadfield("tvb76_eeg65") if lf is None else lf
    if lf.modality != "EEG" or lf.sensor_positions is None:
        raise ValueError(f"register_tvb_eeg_sensors needs an EEG lead field with sensor "
                         f"positions, got {lf!r}.")
    conn = lf.connectome if conn is None else conn
    ori = conn.metadata.get("average_orientations")
    if ori is None or conn.centres is None:
        raise ValueError("the connectivity needs centres and metadata['average_orientations'] "
                         "(tvb-data's connectivity_76 has both).")
    ori = np.asarray(ori, dtype=float)
    ori = ori / np.linalg.norm(ori, axis=1, keepdims=True)
    centres = np.asarray(conn.centres, dtype=float)
    sensors = to_numpy(lf.sensor_positions, "sensor_positions", u.mm)
    L = np.asarray(magnitude(lf.L), dtype=float)

    def loss(t):
        moved = sensors + t
        if np.linalg.norm(moved[None] - centres[:, None], axis=-1).min() < min_distance_mm:
            return 2.0
        return 1.0 - _mean_row_corr(_dipole_topographies(moved, centres, ori), L)

    # the loss has local minima: start from vertical offsets 0..-90 mm and keep the best
    res = min((minimize(loss, np.array([0.0, 0.0, z0]), method="Nelder-Mead",
                        options=dict(xatol=0.05, fatol=1e-6, maxiter=2000))
               for z0 in (0.0, -30.0, -60.0, -90.0)), key=lambda r: r.fun)
    return dict(positions=u.Quantity(sensors + res.x, unit=u.mm), shift_mm=np.asarray(res.x),
                corr_before=1.0 - loss(np.zeros(3)), corr_after=1.0 - float(res.fun))
