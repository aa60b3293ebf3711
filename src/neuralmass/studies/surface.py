"""Surface studies: the ``[surface]`` table of a study config built and written (``neuralmass run``).

A study config with a ``[surface]`` table puts its node model on every vertex of a cortical mesh
(:class:`~neuralmass.surface.SurfaceNetwork`, TVB's scheme: local coupling through a sparse
vertex kernel, long-range coupling through the ``[data]`` connectome with delays). The study is
built by :func:`neuralmass.studies.build.build_study` like any other, which calls
:func:`build_surface` here to read and check the mesh, region mapping, local kernel and EEG gain
before anything is simulated. :func:`neuralmass.studies.resting_state.run_study` runs it; the
region-level outputs (``neural.nc`` = region means, ``bold.nc`` = online BOLD per region, FC) are
those of a region study, and :func:`write_surface_outputs` adds the vertex activity
(``vertex.nc``), the EEG sensors (``eeg.nc``), the figure ``figures/surface.png`` and the
``surface`` entry of ``summary.json``.

``[surface]`` keys (docs/surface.md, "Surface studies from a config"):

=================  ==========================================================================
``mesh``           tvb-data surface name (``"cortex_16384"``) or a file: TVB zip, GIFTI
                   ``*.surf.gii``, FreeSurfer (``lh.pial``, ...); relative to the config file
``region_mapping`` tvb-data mapping name (``"regionMapping_16k_76"``) or a file (``*.txt``,
                   ``*.annot``, ``*.label.gii``): one region of the connectome per vertex
``local``          ``"tvb"`` (tvb-data's ``local_connectivity_<n_vertices>``), ``"none"``, a
                   ``*.mat`` file (TVB's format), or a kernel table ``{kernel = "gaussian",
                   sigma = "5 mm", cutoff = "20 mm", metric = "geodesic"}``
``local_strength`` the kernel's strength (TVB's ``coupling_strength``; default 1 with a kernel)
``period``         sampling period of the region means and the EEG (default ``"1 ms"``)
``vertex_period``  period of the vertex means written to ``vertex.nc`` (default ``"10 ms"``)
``eeg``            ``true``: tvb-data's 65-electrode vertex gain of ``cortex_16384`` (the 63
                   usable channels); a ``*.npy`` gain (sensors x vertices, V/(A*m)); ``false``
``eeg_sensors``    sensor positions for the topography (TVB's text format: name x y z); default
                   tvb-data's ``eeg_brainstorm_65`` with ``eeg = true``
``eeg_scale``      dipole moment of a vertex per unit of the variable (default ``"1 nA*m"``)
=================  ==========================================================================
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .preflight import PreflightError

__all__ = ["SurfaceParts", "build_surface", "surface_network", "surface_monitors", "write_surface_outputs",
           "hemisphere_mask", "read_sensor_file", "TVB_EEG_GAIN", "TVB_EEG_SENSORS"]

logger = logging.getLogger("neuralmass")

#: tvb-data's vertex EEG gain of cortex_16384 and its electrode positions (``surface.eeg = true``)
TVB_EEG_GAIN = "projectionMatrix/projection_eeg_65_surface_16k.npy"
TVB_EEG_SENSORS = "sensors/eeg_brainstorm_65.txt"


@dataclass(eq=False)
class SurfaceParts:
    """The ``[surface]`` table read and checked (:func:`build_surface`).

    Attributes
    ----------
    surface : Surface
    local : LocalCoupling or None
    local_strength : float
    gain : ndarray (sensors, vertices) or None
        EEG gain in V/(A*m), usable channels only.
    sensor_names : list of str
    sensor_positions : ndarray (sensors, 3) or None
        Electrode positions (mm) for the topography, when known.
    node_regions : ndarray
        Region of every node of the network: the vertices, then one node per region without
        vertices (:class:`~neuralmass.surface.SurfaceNetwork`).
    files : dict
        What was read: role -> name or path.
    """

    surface: Any
    local: Any
    local_strength: float
    gain: Any = None
    sensor_names: list = field(default_factory=list)
    sensor_positions: Any = None
    node_regions: Any = None
    files: dict = field(default_factory=dict)

    @property
    def n_vertices(self) -> int:
        return int(self.surface.n_vertices)


def _path(value: str, base_dir) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else Path(base_dir or ".") / p


def _is_file_name(value: str) -> bool:
    return any(c in value for c in "/\\") or Path(value).suffix != ""


def _read_mesh(scfg: Mapping, base_dir):
    from ..surface import Surface

    mesh, rm = scfg["mesh"], scfg["region_mapping"]
    rm_src: Any = rm
    if _is_file_name(rm):
        rm_src = _path(rm, base_dir)
        if not rm_src.exists():
            raise PreflightError(f"surface.region_mapping = {rm!r}: no such file ({rm_src}); give a file "
                                 f"(one region index per vertex) or a tvb-data mapping name such as "
                                 f"\"regionMapping_16k_76\".")
    try:
        if not _is_file_name(mesh):
            return Surface.from_tvb_data(mesh, region_mapping=str(rm_src) if isinstance(rm_src, Path) else rm_src)
        path = _path(mesh, base_dir)
        if not path.exists():
            raise PreflightError(f"surface.mesh = {mesh!r}: no such file ({path}); give a TVB zip, a *.surf.gii, "
                                 f"a FreeSurfer surface, or a tvb-data name such as \"cortex_16384\".")
        if isinstance(rm_src, str):   # a tvb-data mapping name for a file mesh
            from ..tvbdata import tvb_data_path

            rm_src = tvb_data_path() / "regionMapping" / (rm if rm.endswith(".txt") else rm + ".txt")
            if not rm_src.exists():
                raise PreflightError(f"surface.region_mapping = {rm!r} is neither a file nor a tvb-data "
                                     f"region mapping; give the mapping file of this mesh.")
        if path.suffix == ".zip":
            return Surface.from_tvb_zip(path, rm_src)
        if path.name.endswith(".gii"):
            return Surface.from_gifti(path, rm_src)
        return Surface.from_freesurfer(path, rm_src)
    except PreflightError:
        raise
    except ImportError as exc:
        raise PreflightError(f"surface.mesh = {mesh!r}: {exc}") from None
    except (ValueError, FileNotFoundError, OSError) as exc:
        key = "region_mapping" if "region_mapping" in str(exc) else "mesh"
        raise PreflightError(f"surface.{key} = {scfg[key]!r}: {exc}") from None


def _read_local(scfg: Mapping, surface, base_dir):
    from ..surface import LocalCoupling

    local = scfg["local"]
    try:
        if isinstance(local, dict):
            kw = {k: v for k, v in local.items() if k not in ("kernel", "cutoff", "metric", "homogenise")}
            return LocalCoupling.from_kernel(surface, local["kernel"], cutoff=local["cutoff"],
                                             metric=local["metric"], homogenise=local["homogenise"], **kw)
        if local == "none":
            return None
        if local == "tvb":
            return LocalCoupling.from_tvb_data(f"local_connectivity_{surface.n_vertices}", surface)
        if _is_file_name(local):
            path = _path(local, base_dir)
            if not path.exists():
                raise PreflightError(f"surface.local = {local!r}: no such file ({path}).")
            return LocalCoupling.from_mat(path, surface)
        return LocalCoupling.from_tvb_data(local, surface)
    except PreflightError:
        raise
    except (ValueError, TypeError, OSError) as exc:
        fix = (" (\"tvb\" needs tvb-data's local connectivity of a mesh with this many vertices, i.e. "
               "cortex_16384; for another mesh use a kernel table)" if local == "tvb" else "")
        raise PreflightError(f"surface.local = {local!r}: {exc}{fix}") from None


def read_sensor_file(path: Path):
    """Sensor names and positions (mm) from TVB's text format (``name x y z`` per line)."""
    names, pos = [], []
    for line in path.read_text().splitlines():
        if line.strip():
            parts = line.split()
            names.append(parts[0])
            pos.append([float(c) for c in parts[1:4]])
    return names, np.asarray(pos, dtype=float)


def _read_eeg(scfg: Mapping, n_vertices: int, base_dir):
    """(gain V/(A*m) of the usable channels, names, positions or None, files) of ``surface.eeg``."""
    eeg = scfg["eeg"]
    if eeg is False:
        return None, [], None, {}
    from ..tvbdata import tvb_data_path

    files = {}
    if eeg is True:
        gpath = tvb_data_path() / TVB_EEG_GAIN
        spath = _path(scfg["eeg_sensors"], base_dir) if "eeg_sensors" in scfg else tvb_data_path() / TVB_EEG_SENSORS
        files["eeg_gain"] = f"tvb-data {TVB_EEG_GAIN}"
    else:
        gpath = _path(eeg, base_dir)
        spath = _path(scfg["eeg_sensors"], base_dir) if "eeg_sensors" in scfg else None
        files["eeg_gain"] = str(gpath)
    if not gpath.exists():
        raise PreflightError(f"surface.eeg = {eeg!r}: no gain matrix at {gpath}; give a *.npy file "
                             f"(sensors x vertices, V/(A*m)) or set surface.eeg = false.")
    G = np.load(gpath)
    if G.ndim != 2 or G.shape[1] != n_vertices:
        raise PreflightError(f"surface.eeg = {eeg!r}: the gain matrix has shape {G.shape} but the mesh "
                             f"(surface.mesh) has {n_vertices} vertices; it must be (sensors, {n_vertices}) "
                             f"— tvb-data's EEG gain (eeg = true) is for cortex_16384 only.")
    ok = np.isfinite(G).all(axis=1)
    names, pos = [f"E{i}" for i in range(G.shape[0])], None
    if spath is not None:
        if not spath.exists():
            raise PreflightError(f"surface.eeg_sensors = {str(spath)!r}: no such file.")
        names, pos = read_sensor_file(spath)
        files["eeg_sensors"] = str(spath)
        if len(names) != G.shape[0]:
            raise PreflightError(f"surface.eeg_sensors = {str(spath)!r} lists {len(names)} sensors but the gain "
                                 f"has {G.shape[0]} rows; give the sensor file of this gain matrix.")
        pos = pos[ok]
    if not ok.all():
        logger.info("surface.eeg: %d of %d channels have non-finite gains and are dropped", int((~ok).sum()),
                    ok.size)
    return G[ok], [n for n, k in zip(names, ok) if k], pos, files


def build_surface(scfg: Mapping, conn, base_dir=None) -> SurfaceParts:
    """Read and check everything ``[surface]`` names, before any simulation.

    Parameters
    ----------
    scfg : dict
        The validated ``[surface]`` table (:func:`neuralmass.config.load_config`).
    conn : Connectome
        The study's connectome (its region count is checked against the mapping).
    base_dir : path, optional
        Folder relative file names are read from (the config file's).

    Returns
    -------
    SurfaceParts

    Raises
    ------
    PreflightError
        Naming the key, the value and the fix: a missing file or tvb-data name, a mapping whose
        length differs from the mesh's vertex count or that indexes regions the connectome does
        not have, a kernel for another mesh, an EEG gain of the wrong shape.
    """
    from ..surface.mesh import node_regions

    surface = _read_mesh(scfg, base_dir)
    n_regions = int(conn.n_regions)
    if surface.n_regions > n_regions:
        raise PreflightError(
            f"surface.region_mapping = {scfg['region_mapping']!r} refers to region {surface.n_regions - 1}, but "
            f"the connectome of [data] has {n_regions} regions (0..{n_regions - 1}); use the mapping made for "
            f"this parcellation (e.g. regionMapping_16k_{n_regions} with the tvb{n_regions} dataset) or "
            f"another [data] connectome.")
    local = _read_local(scfg, surface, base_dir)
    gain, names, pos, files = _read_eeg(scfg, surface.n_vertices, base_dir)
    nodes = node_regions(surface, n_regions)
    files = {"mesh": scfg["mesh"], "region_mapping": scfg["region_mapping"],
             "local": local.description if local is not None else "none", **files}
    return SurfaceParts(surface, local, float(scfg["local_strength"]), gain, names, pos, nodes, files)


def surface_network(cfg: Mapping, conn, parts: SurfaceParts, node):
    """The :class:`~neuralmass.surface.SurfaceNetwork` of a study: ``node`` (one entry per network
    node, :attr:`SurfaceParts.node_regions`) on the mesh, ``[network]`` for the long range."""
    from ..surface import SurfaceNetwork

    net_cfg = cfg["network"]
    speed = net_cfg.get("speed") if net_cfg.get("delays", True) else None
    try:
        return SurfaceNetwork(node, conn, parts.surface, local=parts.local,
                              local_strength=parts.local_strength if parts.local is not None else 0.0,
                              coupling=net_cfg.get("coupling", "diffusive"), k=float(net_cfg.get("k", 1.0)),
                              speed=speed, coupled_var=net_cfg.get("coupled_var"),
                              coupling_input=net_cfg.get("coupling_input"),
                              delay_mode=net_cfg.get("delay_mode", "integer"))
    except (ValueError, KeyError, TypeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise PreflightError(f"[surface] with [network]: {msg}") from None


def surface_monitors(study, vertex: bool = True) -> list:
    """The monitors of a surface study: ``'neural'`` (region means of the variable every
    ``surface.period``), ``'bold'`` (online BOLD of the region means every TR, when on),
    ``'vertex'`` (means over ``surface.vertex_period`` at every node; left out with
    ``vertex=False``, as sweeps do) and ``'eeg'`` (sensor means over ``surface.period``, with
    ``surface.eeg``). ``neuralmass run`` and ``neuralmass sweep`` both record these
    (:meth:`neuralmass.studies.build.Study.sweep_model`)."""
    import brainunit as u

    from ..forward.bold import BOLDMonitor
    from ..monitors import TemporalAverage
    from ..surface import REGION_SUFFIX, RegionAverage, SensorProjection

    s = study.cfg["surface"]
    var = study.variable
    out = [RegionAverage(var, period=float(s["period"]), name="neural")]
    opts = study.bold_options()
    if opts is not None:
        out.append(BOLDMonitor(var + REGION_SUFFIX, name="bold", **opts))
    if vertex:
        out.append(TemporalAverage(var, period=float(s["vertex_period"]), name="vertex"))
    parts = study.surface
    if parts.gain is not None:
        out.append(SensorProjection(var, parts.gain * u.volt / (u.amp * u.meter),
                                    scale=float(s["eeg_scale"]) * u.nA * u.meter, sensor_unit=u.uvolt,
                                    period=float(s["period"]), name="eeg"))
    return out


def hemisphere_mask(surface, labels) -> np.ndarray | None:
    """Vertices of the left hemisphere by region label (TVB's ``lM1`` / HCP's ``..._L`` /
    ``lh-`` / ``ctx-lh-``), or ``None`` when the labels do not say."""
    labels = [str(x) for x in labels]

    def is_left(s):
        low = s.lower()
        return (s.startswith("l") and len(s) > 1 and s[1].isupper()) or low.endswith(("_l", "-l", ".l")) \
            or low.startswith(("lh-", "lh_", "lh.", "ctx-lh-", "left"))

    left = np.array([is_left(s) for s in labels])
    if not left.any() or left.all():
        return None
    mask = left[surface.region_mapping]
    return mask if mask.any() and not mask.all() else None


def write_surface_outputs(res: dict, study, work: Path, figs: Path, summary: dict, save, cfg) -> None:
    """Vertex activity (``vertex.nc``), EEG (``eeg.nc``), ``figures/surface.png`` and
    ``summary['surface']`` of a finished surface run.

    ``save(result, keys, name, title, labels, attrs, dim)`` writes one NetCDF file (the study's
    writer, :func:`neuralmass.studies.resting_state._save_signals`); ``vertex.nc`` has the
    dimensions ``(time, vertices)`` (vertex indices of the mesh), ``eeg.nc`` ``(time, sensors)``.
    """
    from ..units import magnitude

    parts, s = study.surface, cfg["surface"]
    nv = parts.n_vertices
    vertex = {"vertex": res["vertex"][..., :nv], "ts": res["ts_vertex"] if "ts_vertex" in res else res["ts"]}
    save(vertex, ("vertex", "ts"), "vertex", f"{study.variable} at every vertex ({s['vertex_period']:g} ms means)",
         list(range(nv)), {"variable": study.variable, "period_ms": float(s["vertex_period"])}, "vertices")
    out = {"n_vertices": nv, "n_triangles": int(parts.surface.n_triangles),
           "n_region_nodes": int(parts.node_regions.size - nv),
           "local_nonzeros": 0 if parts.local is None else int(parts.local.nnz),
           "local_strength": parts.local_strength, "files": parts.files,
           "vertex": {"period_ms": float(s["vertex_period"]), "samples": int(np.shape(res["vertex"])[0])}}
    if "eeg" in res:
        eeg_t = res["ts_eeg"] if "ts_eeg" in res else res["ts"]
        save({"eeg": res["eeg"], "ts": eeg_t}, ("eeg", "ts"), "eeg", "EEG sensors (vertex gain)",
             parts.sensor_names, {"eeg_scale_nAm": float(s["eeg_scale"]), "unit": "uV"}, "sensors")
        E = np.asarray(magnitude(res["eeg"]))
        out["eeg"] = {"sensors": int(E.shape[1]), "unit": "uV", "period_ms": float(s["period"]),
                      "rms": float(np.sqrt(np.mean(E ** 2)))}
    summary["surface"] = out
    _figure(res, study, figs, out)


def _figure(res: dict, study, figs: Path, out: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import viz
    from ..units import magnitude

    parts = study.surface
    nv = parts.n_vertices
    # fluctuations: each vertex's (and electrode's) mean over the recording removed, so that the
    # maps show the activity patterns rather than the common resting level
    V = np.asarray(magnitude(res["vertex"]))[:, :nv]
    V = V - V.mean(axis=0)
    tv = np.asarray(magnitude(res["ts_vertex"] if "ts_vertex" in res else res["ts"]))
    eeg = t_eeg = None
    if "eeg" in res:
        eeg = np.asarray(magnitude(res["eeg"]))
        eeg = eeg - eeg.mean(axis=0)
        t_eeg = np.asarray(magnitude(res["ts_eeg"] if "ts_eeg" in res else res["ts"]))
    vp = float(study.cfg["surface"]["vertex_period"])
    fig = viz.plot_surface_activity(parts.surface, V, tv, eeg=eeg, eeg_ts=t_eeg,
                                    sensor_positions=parts.sensor_positions,
                                    mask=hemisphere_mask(parts.surface, study.labels),
                                    variable=f"{study.variable} ({vp:g} ms means), mean removed",
                                    eeg_label="EEG (µV, mean removed)",
                                    title=f"{study.model.name} on {parts.surface.name or 'the mesh'} "
                                          f"({nv} vertices): {study.variable} on "
                                          f"{'the left hemisphere' if hemisphere_mask(parts.surface, study.labels) is not None else 'the mesh'}"
                                          f" and the EEG")
    fig.savefig(figs / "surface.png", dpi=100)
    plt.close(fig)
    out["figure"] = "figures/surface.png"
