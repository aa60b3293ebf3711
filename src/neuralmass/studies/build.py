"""The one place a study config becomes data, node, network, monitors and targets.

Every command that reads a study config — ``neuralmass run``
(:mod:`~neuralmass.studies.resting_state`), ``neuralmass sweep`` (:mod:`neuralmass.explore`) and
the fitting commands — builds its study here, so a ``[data]`` file or a ``data.subjects`` choice
can never be honoured by one command and ignored by another::

    >>> from neuralmass.config import load_config
    >>> from neuralmass.studies.build import build_study
    >>> study = build_study(load_config("study.toml"))            # doctest: +SKIP
    >>> study.network, study.dt, study.monitors()                 # doctest: +SKIP
    >>> study.targets.fc_group                                    # group-mean FC of data.subjects
    >>> held_out = study.targets_for([4, 5, 6])                   # another subject set, same data

The data are either a bundled dataset (``data.dataset``; the HCP dataset has 7 subjects) or a
lab's files named in ``[data]`` (``connectome``, ``fc``, ``bold``: read relative to the config
file, see :func:`neuralmass.datasets.load_user_data`; one recording, i.e. one subject).
``data.subjects`` picks the empirical recordings that form the target: integers are indices
(0-based, in the dataset's order), strings are subject ids (the HCP ids such as ``"101309"``;
for a lab's files the id is the name of the BOLD file, or of the FC file when there is no BOLD
file). Everything is checked here, before any simulation.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..noise import NOISE_KINDS
from ..units import magnitude
from . import preflight
from .stimulation import build_stimuli

__all__ = ["Study", "Targets", "build_study", "select_subjects", "sweep_model_from_config",
           "network_from_config", "node_from_config", "regional_params", "resting_level",
           "empirical_fcd_values", "NOISE_KINDS", "USER_FILE_KEYS"]

logger = logging.getLogger("neuralmass")

#: ``noise.kind`` -> the noise class driving each of the model's noise inputs (or ``"none"``).
#: ``[data]`` keys naming a lab's files; any of them switches the study to the lab's data.
USER_FILE_KEYS = ("connectome", "fc", "bold")
#: Sampling period of the neural activity when BOLD is off (ms, rounded to whole steps).
NEURAL_PERIOD_WITHOUT_BOLD = 50.0


# --------------------------------------------------------------------------- building blocks
def regional_params(spec, params: Mapping, n: int, labels) -> dict:
    """Model parameters with per-region tables resolved to one value per region.

    Parameters
    ----------
    spec : NodeModel
        The model's parameter table (``neuralmass.MODELS[name]``).
    params : mapping
        ``model.params`` of a validated config: a value, or ``{'default': ..., 'regions':
        {label or index: value}}``.
    n : int
        Number of regions.
    labels : sequence of str
        Region labels of the connectome (a table names regions by label or index).

    Returns
    -------
    dict
        Name -> value; per-region tables become Quantities (or arrays) of length ``n``.

    Raises
    ------
    KeyError, IndexError
        A region label or index the connectome does not have.
    """
    import brainunit as u

    from ..params import regional

    out = {}
    for name, v in params.items():
        if isinstance(v, dict):
            p = spec.param(name)
            arr = regional(v, n, labels, f"model.params.{name}", p.default, p.to_canonical)
            unit = p.canonical if p.canonical is not None else p.unit
            v = u.Quantity(arr, unit=unit) if unit is not None else arr
        out[name] = v
    return out


def node_from_config(cfg: Mapping, n: int, labels=None, nodes=None):
    """The model's stateful population for ``n`` regions, with ``[noise]`` on its noise inputs.

    Parameters
    ----------
    cfg : dict
        A validated study config (``[model]`` and ``[noise]`` are read).
    n : int
        Number of regions.
    labels : sequence of str, optional
        Region labels, for per-region parameter tables.
    nodes : int array, optional
        The region of every node when nodes are not regions (a surface network's vertices and
        region nodes): per-region values are repeated for each node of the region, and the
        population has ``len(nodes)`` members.

    Returns
    -------
    NodeModule
    """
    from .. import noise as noise_mod
    from ..models import MODELS, module_class

    spec = MODELS[cfg["model"]["name"]]
    kwargs = regional_params(spec, cfg["model"]["params"], n, labels)
    if nodes is not None:
        idx = np.asarray(nodes)
        kwargs = {k: (v[idx] if np.ndim(v) == 1 and np.shape(v)[0] == n and isinstance(
                      cfg["model"]["params"].get(k), dict) else v) for k, v in kwargs.items()}
        n = int(idx.size)
    noise_cfg = cfg["noise"]
    kind = noise_cfg.get("kind", "none")
    if kind != "none" and noise_cfg.get("sigma", 0.0):
        driven = set()
        for slot, inp in spec.extra.get("noise_slots", {}).items():
            if inp not in spec.noise_inputs or inp in driven:
                continue  # two slot names may alias one input (Jansen–Rit's noise_p / noise_E)
            driven.add(inp)
            cls = getattr(noise_mod, NOISE_KINDS[kind])
            extra = {"tau": noise_cfg.get("tau", 10.0)} if kind == "ou" else {}
            kwargs[f"noise_{slot}"] = cls(n, sigma=noise_cfg["sigma"], **extra)
    return module_class(spec)(n, table_names=True, **kwargs)


def network_from_config(cfg: Mapping, conn, node):
    """The study's :class:`~neuralmass.Network` from a validated config's ``[network]`` table.

    Parameters
    ----------
    cfg : dict
        A validated study config.
    conn : Connectome or array (n, n)
        The (normalised) connectome.
    node : NodeModule
        The node population (:func:`node_from_config`).

    Returns
    -------
    Network

    Notes
    -----
    ``coupling``, ``coupled_var`` and ``coupling_input`` may each be a string or a table keyed by
    input (several coupled sums, see :mod:`neuralmass.network.pathways`).
    """
    from ..network.network import Network

    net_cfg = cfg["network"]
    speed = net_cfg.get("speed") if net_cfg.get("delays", True) else None
    return Network(node, conn=conn, speed=speed, coupling=net_cfg.get("coupling", "diffusive"),
                   coupled_var=net_cfg.get("coupled_var"), coupling_input=net_cfg.get("coupling_input"),
                   k=float(net_cfg.get("k", 1.0)), delay_mode=net_cfg.get("delay_mode", "integer"),
                   warn_zero_delays=False)   # build_study's preflight warns, in the config's terms


def empirical_fcd_values(bold, window_frames: int, step_frames: int, offset: int) -> np.ndarray:
    """FCD values of every recording of ``bold`` (subjects, time, regions), pooled.

    One compiled call for all subjects (the study's and the sweeps' FCD target).

    Parameters
    ----------
    bold : array (subjects, time, regions)
    window_frames, step_frames, offset : int
        Window and hop in frames, and the first diagonal of non-overlapping windows.

    Returns
    -------
    ndarray (1-D)
    """
    import jax

    from .. import analysis

    fn = jax.jit(lambda b: analysis.fcd_values(analysis.fcd(b, window_frames, step_frames), offset))
    return np.asarray(fn(np.asarray(bold))).reshape(-1)


def resting_level(spec, params: Mapping, variable: str, dt: float) -> float:
    """Mean of ``variable`` for an isolated, noise-free node once it has settled (its resting level).

    The node runs 640 s; the level is the mean of the last 160 s (16 windows of 10 s, so a limit
    cycle is averaged over many periods). A slow node (e.g. the default Hopf, ``a = -0.02 /s``:
    a 50 s decay of a 20 s oscillation) is far from rest after 10 s; the old 5–10 s mean put the
    default study's BOLD baseline at x = -0.0069 instead of 0, and its BOLD mean at +1.8 %.
    A level still drifting at the end is logged.

    The BOLD baseline ``"auto"``. Per-region parameters (``{'default': ..., 'regions': ...}``)
    count with their default value: one baseline for all regions.
    """
    from .. import NodeSystem, Simulator   # through the public API (tests replace neuralmass.Simulator)

    params = {k: (v.get("default", spec.param(k).default) if isinstance(v, dict) else v)
              for k, v in params.items()}
    from ..monitors import TemporalAverage

    win = 10_000.0 if (10_000.0 / dt) == round(10_000.0 / dt) else dt * round(10_000.0 / dt)
    res = Simulator(NodeSystem(spec, 1, params), dt=dt, progress=False).run(
        64 * win, monitors=[TemporalAverage(variable, period=win)])
    m = np.asarray(magnitude(res[variable]), dtype=float).reshape(-1)
    level, before = float(m[-16:].mean()), float(m[-32:-16].mean())
    if abs(level - before) > 1e-3 * max(abs(level), float(np.ptp(m)), 1e-9):
        logging.getLogger("neuralmass").warning(
            "the resting level of %s (%s) still drifts after %g s (%g, then %g); set bold.baseline "
            "to a number to fix the BOLD baseline yourself.", spec.name, variable, 64 * win / 1000,
            before, level)
    return level


# --------------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class _Recordings:
    """All empirical recordings of the data (before ``data.subjects`` picks some)."""

    ids: tuple            # subject ids (str), one per recording
    fc: np.ndarray        # (S, N, N)
    bold: Any             # (S, T, N) or None
    tr_ms: float | None   # sampling interval of ``bold``
    bold_name: str        # the recordings in messages ("empirical BOLD of 'hcp'", "data.bold = ...")
    bold_advice: str      # the fix when a recording is too short for the FCD window


def _load_data(cfg: Mapping):
    """``(raw data, connectome, recordings, source, files)`` of a validated config."""
    from .. import datasets

    d = cfg["data"]
    if not any(d.get(k) for k in USER_FILE_KEYS):
        ds = datasets.load_dataset(d["dataset"])
        n = ds.n_regions
        fc = getattr(ds, "fc", None)
        if fc is not None and np.ndim(fc) == 3 and np.shape(fc)[0] > 0:
            bold = getattr(ds, "bold", None)
            rec = _Recordings(tuple(str(s) for s in ds.subjects), np.asarray(fc), bold,
                              float(getattr(ds, "tr_ms", 0.0)) or None,
                              f"empirical BOLD of {d['dataset']!r}",
                              "Shorten analysis.fcd_window (the bundled recordings cannot be lengthened)")
        else:
            rec = _Recordings((), np.zeros((0, n, n)), None, None, "", "")
        return ds, ds, rec, str(d["dataset"]), {}
    from ..datasets import load_user_data

    bundled = None if d.get("connectome") else datasets.load_dataset(d["dataset"])
    user = load_user_data(d, cfg.get("_base_dir", "."), connectome=bundled)
    conn = user.connectome
    n = conn.n_regions
    fc = user.fc_group
    if fc is None:
        rec = _Recordings((), np.zeros((0, n, n)), None, None, "", "")
    else:
        sid = Path(str(d["bold"] if d.get("bold") else d["fc"])).name
        bold = None if user.bold is None else np.asarray(user.bold.data, dtype=float)[None]
        tr = None if user.bold is None else 1000.0 / float(user.bold.sfreq)
        rec = _Recordings((sid,), np.asarray(fc, dtype=float)[None], bold, tr,
                          f"empirical BOLD file data.bold = {d.get('bold')!r}",
                          "Use a longer recording in data.bold, or shorten analysis.fcd_window")
    if d.get("connectome"):
        source = str(d["connectome"])
    else:
        parts = [f"{k} {d[k]}" for k in ("fc", "bold") if d.get(k)]
        source = f"{d['dataset']} connectome with " + ", ".join(parts)
    return user, conn, rec, source, dict(user.files)


def _replace_weights(conn, path, base_dir):
    """``(connectome with the weights of data.weights, file record)``.

    The file is a square table (e.g. ``fitted_weights.csv`` written by ``neuralmass fit``); with
    labels it is matched to the connectome's regions by label (any order), without labels by
    position. It is used as written: ``data.normalize`` does not apply to it, and tract lengths,
    recordings and subjects stay those of the data.
    """
    from ..datasets.tables import DataFileError, file_record, read_table

    p = Path(path)
    if not p.is_absolute():
        p = Path(base_dir) / p
    values, cols, rows = read_table(p, what="data.weights")
    labels = [str(x) for x in conn.labels]
    n = len(labels)
    if values.shape != (n, n):
        raise DataFileError(f"data.weights = {str(path)!r} is {values.shape[0]} x {values.shape[1]}; the "
                            f"connectome has {n} regions.")
    names = rows or cols
    if names is not None:
        if rows is not None and cols is not None and list(rows) != list(cols):
            raise DataFileError(f"data.weights = {str(path)!r}: its row and column labels differ; write "
                                f"both in one order.")
        missing = sorted(set(labels) - set(names))
        if missing or len(set(names)) != len(names):
            raise DataFileError(f"data.weights = {str(path)!r}: labels do not match the connectome's "
                                f"(missing {missing[:3]}); the file must name the same regions.")
        order = [list(names).index(x) for x in labels]
        values = values[np.ix_(order, order)]
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataFileError(f"data.weights = {str(path)!r} has negative or non-finite weights.")
    return conn._replace(weights=values), file_record(p)


def select_subjects(subjects, ids: Sequence[str], source: str, key: str = "data.subjects") -> tuple:
    """Indices of ``subjects`` among the recordings ``ids``.

    Parameters
    ----------
    subjects : None or sequence of int / str
        ``None``: all. Integers are 0-based indices, strings subject ids.
    ids : sequence of str
        The subject ids of the data, in order.
    source : str
        The data's name (for messages).
    key : str
        The setting named in messages.

    Returns
    -------
    tuple of int

    Raises
    ------
    PreflightError
        An empty list, a duplicate, an index out of range, an unknown id or a non-integer,
        non-string entry; or any selection when the data have no empirical recordings. The
        message names ``key``, the bad value and the valid choices.
    """
    n = len(ids)
    if subjects is None:
        return tuple(range(n))
    if isinstance(subjects, (str, int)) and not isinstance(subjects, bool):
        subjects = [subjects]
    valid = (f"indices 0..{n - 1} or ids {', '.join(repr(s) for s in ids)}" if n else "none")
    if n == 0:
        raise preflight.PreflightError(
            f"{key} = {list(subjects)!r}, but {source} has no empirical recordings (no FC or BOLD "
            f"target) to choose from; remove {key}.")
    subjects = list(subjects)
    if not subjects:
        raise preflight.PreflightError(f"{key} = [] selects no subject; leave {key} out for all, or "
                                       f"choose among {valid} ({source}).")
    out = []
    for s in subjects:
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            if not 0 <= int(s) < n:
                raise preflight.PreflightError(
                    f"{key} = {subjects!r}: index {int(s)} is out of range; {source} has {n} "
                    f"subject(s): {valid} (integers are indices, strings are ids).")
            i = int(s)
        elif isinstance(s, str):
            if s not in ids:
                raise preflight.PreflightError(
                    f"{key} = {subjects!r}: {s!r} is not a subject id of {source}; choose among "
                    f"{valid} (integers are indices, strings are ids).")
            i = list(ids).index(s)
        else:
            raise preflight.PreflightError(f"{key} = {subjects!r}: {s!r} is neither an index nor a subject "
                                           f"id; choose among {valid}.")
        if i in out:
            raise preflight.PreflightError(f"{key} = {subjects!r} names subject {ids[i]!r} (index {i}) twice.")
        out.append(i)
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Targets:
    """The empirical targets of a set of subjects.

    Attributes
    ----------
    source : str
        Human name of the data (``'hcp'``, or the lab's connectome path as written in ``[data]``).
    subjects : tuple of str
        The selected subject ids (empty when the data have no empirical recordings).
    indices : tuple of int
        Their 0-based indices among all the data's recordings.
    fc : ndarray (S, N, N)
        Per-subject empirical FC of the selected subjects.
    bold : ndarray (S, T, N) or None
        Their empirical BOLD time courses, when the data have them.
    tr : float or None
        Sampling interval of ``bold`` (ms).
    fcd : (window, step, offset) or None
        FCD geometry of the empirical BOLD in its own frames (``analysis.fcd_window`` /
        ``fcd_step`` at ``tr``); ``None`` without BOLD recordings or with ``bold.enabled = false``.
    """

    source: str
    subjects: tuple
    indices: tuple
    fc: np.ndarray
    bold: Any = None
    tr: float | None = None
    fcd: tuple | None = None

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def fc_group(self) -> np.ndarray | None:
        """The group-mean FC of the selected subjects (N, N), float64; ``None`` without targets."""
        if not self.n_subjects:
            return None
        return np.mean(np.asarray(self.fc, dtype=np.float64), axis=0)

    @cached_property
    def fcd_values(self) -> np.ndarray | None:
        """Pooled FCD values of the selected subjects' BOLD (the FCD target), or ``None``."""
        if self.fcd is None or self.bold is None or not self.n_subjects:
            return None
        return empirical_fcd_values(self.bold, *self.fcd)

    def describe(self) -> dict:
        """JSON summary: ``{'source', 'subjects', 'subject_indices'}``."""
        return {"source": self.source, "subjects": list(self.subjects),
                "subject_indices": list(self.indices)}


# --------------------------------------------------------------------------- the study
@dataclass(eq=False)
class Study:
    """A study config built into data, network, monitors and targets (see :func:`build_study`).

    Attributes
    ----------
    cfg : dict
        The validated config.
    source : str
        Human name of the data: the dataset (``'hcp'``) or the lab's files (the connectome path as
        written in ``[data]``, e.g. ``'lab/connectome'``).
    data : HCPDataset, Connectome or UserData
        The data as loaded.
    data_files : dict
        ``{role: {'path', 'sha256', 'bytes'}}`` of the lab's files read (empty for bundled data).
    connectome : Connectome
        Normalised as ``data.normalize`` says.
    labels : list of str
    node : NodeModule
    network : Network
    model : NodeModel
        The model's parameter table.
    variable : str
        The recorded (and BOLD-driving) variable.
    dt, duration, transient : float
        ms (the transient is included in the duration).
    method : str
        Integration method.
    tr : float
        BOLD repetition time (ms), ``bold.tr``.
    bold_enabled : bool
    neural_period : float
        Sampling period of the neural activity (ms): the longest whole number of steps up to 50 ms
        dividing the TR with BOLD on, 50 ms (rounded to steps) without.
    neural_steps : int
    bold_frames : int
        Simulated BOLD frames after the transient.
    all_subjects : tuple of str
        Every subject id of the data, in index order.
    targets : Targets
        The empirical targets of ``data.subjects`` (or of ``build_study(subjects=...)``).
    stimuli : dict
        ``[[stimulus]]`` blocks as engine inputs (input name -> Stimulus).
    warnings : list of str
        Warnings found while building (also logged).
    surface : SurfaceParts or None
        With a ``[surface]`` table: the mesh, local kernel and EEG gain
        (:class:`neuralmass.studies.surface.SurfaceParts`); ``network`` is then a
        :class:`~neuralmass.surface.SurfaceNetwork`.
    """

    cfg: dict
    source: str
    data: Any
    data_files: dict
    connectome: Any
    labels: list
    node: Any
    network: Any
    model: Any
    variable: str
    dt: float
    duration: float
    transient: float
    method: str
    tr: float
    bold_enabled: bool
    neural_period: float
    neural_steps: int
    bold_frames: int
    all_subjects: tuple
    targets: Targets
    stimuli: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    _recordings: Any = field(default=None, repr=False)
    surface: Any = None

    @property
    def n_regions(self) -> int:
        return int(self.connectome.n_regions)

    @property
    def subjects(self) -> tuple:
        """The selected subject ids (``targets.subjects``)."""
        return self.targets.subjects

    def targets_for(self, subjects=None) -> Targets:
        """The targets of another subject set of the same data (e.g. held-out subjects).

        Parameters
        ----------
        subjects : None or sequence of int / str
            ``None``: all subjects. Integers are indices, strings subject ids.

        Raises
        ------
        PreflightError
            As :func:`select_subjects`.
        """
        return _targets(self._recordings, subjects, self.source, self.cfg)

    @cached_property
    def bold_baseline(self) -> float:
        """Activity subtracted before the hemodynamics: ``bold.baseline``, or for ``"auto"`` the
        node's resting level (:func:`resting_level`, a short simulation of one node)."""
        b = self.cfg["bold"].get("baseline", "auto")
        if b == "auto":
            return resting_level(self.model, self.cfg["model"]["params"], self.variable, self.dt)
        return float(b)

    def bold_options(self) -> dict | None:
        """:class:`~neuralmass.forward.bold.BOLDMonitor` keywords (``tr``, ``coefficients``,
        ``scale``, ``baseline``), or ``None`` with ``bold.enabled = false``."""
        if not self.bold_enabled:
            return None
        b = self.cfg["bold"]
        return {"tr": self.tr, "coefficients": b["coefficients"], "scale": float(b["scale"]),
                "baseline": float(self.bold_baseline)}

    def monitors(self) -> list:
        """The run's monitors: ``'neural'`` (temporal average of :attr:`variable` per
        :attr:`neural_period`) and, with BOLD on, ``'bold'`` (online Balloon–Windkessel BOLD
        sampled every :attr:`tr`). A surface study records region means as ``'neural'``, BOLD of
        the region means, ``'vertex'`` and ``'eeg'``
        (:func:`neuralmass.studies.surface.surface_monitors`)."""
        from ..forward.bold import BOLDMonitor
        from ..monitors import TemporalAverage

        if self.surface is not None:
            from .surface import surface_monitors

            return surface_monitors(self)
        out = [TemporalAverage(self.variable, period=self.neural_period, name="neural")]
        opts = self.bold_options()
        if opts is not None:
            out.append(BOLDMonitor(self.variable, name="bold", **opts))
        return out

    def sweep_model(self, source: Mapping | None = None):
        """The :class:`~neuralmass.explore.SweepModel` of this study: its network, run settings,
        BOLD, and targets (group FC and pooled FCD values of the selected subjects).

        ``source`` is the config as given (a model with a source is rebuilt from it on Dask
        workers, through :func:`sweep_model_from_config`).

        A surface study's sweep records what :meth:`monitors` records except the vertex activity:
        the region means (the features' activity), BOLD of the region means and, with
        ``surface.eeg``, the EEG (stored when ``timeseries`` asks for ``'eeg'``); its space may
        name ``local_strength`` (with a local kernel) besides ``k``, ``speed``, node parameters
        and noise."""
        import dataclasses

        from ..explore.model import SweepModel

        record = None
        if self.surface is not None:
            from .surface import surface_monitors

            record = tuple(dataclasses.replace(m, name="activity") if m.key == "neural" else m
                           for m in surface_monitors(self, vertex=False))
        bold = self.bold_options()
        targets, options = {}, {}
        fc = self.targets.fc_group
        if fc is not None and fc.shape == (self.n_regions, self.n_regions) and np.all(np.isfinite(fc)):
            targets["fc"] = fc
        if bold and self.targets.fcd_values is not None:
            targets["fcd"] = self.targets.fcd_values
            options.update(fcd_window=self.cfg["analysis"]["fcd_window"], fcd_step=self.cfg["analysis"]["fcd_step"])
        data = None
        if self.data_files or self.cfg["data"].get("subjects") is not None:
            data = {**self.targets.describe(),
                    "files": {k: r["sha256"] for k, r in self.data_files.items()}}
        lengths = getattr(self.connectome, "lengths_mm", None)
        return SweepModel(self.network, dt=self.dt, duration=self.duration, transient=self.transient,
                          method=self.method, variable=self.variable, period=self.neural_period, bold=bold,
                          distance=None if lengths is None else np.asarray(lengths, dtype=float),
                          targets=targets, options=options, fingerprint="config",
                          source=None if source is None else json.loads(json.dumps(dict(source), default=str)),
                          data=data, builder=sweep_model_from_config if source is not None else None,
                          record=record)


def _targets(rec: _Recordings, subjects, source: str, cfg: Mapping) -> Targets:
    idx = select_subjects(subjects, rec.ids, source)
    bold = None if rec.bold is None else np.asarray(rec.bold)[list(idx)]
    fcd = None
    if bold is not None and cfg["bold"].get("enabled", True) and rec.tr_ms and idx:
        a = cfg["analysis"]
        fcd = preflight.fcd_samples(a["fcd_window"], a["fcd_step"], rec.tr_ms,
                                    {rec.bold_name: int(bold.shape[1])}, advice={rec.bold_name: rec.bold_advice})
    return Targets(source, tuple(rec.ids[i] for i in idx), idx, np.asarray(rec.fc)[list(idx)], bold,
                   rec.tr_ms, fcd)


def build_study(cfg: Mapping, subjects=None) -> Study:
    """Build a validated study config into data, node, network, monitors and targets.

    Parameters
    ----------
    cfg : dict
        A validated config (:func:`neuralmass.config.load_config`); a lab's files in ``[data]`` are
        read relative to ``cfg['_base_dir']`` (set by ``load_config`` from the file's folder).
    subjects : None or sequence of int / str, optional
        The subjects whose recordings form the target, instead of ``data.subjects`` (default: the
        config's choice, or all). Integers are indices, strings subject ids.

    Returns
    -------
    Study

    Raises
    ------
    PreflightError
        Per-region parameters or ``[[stimulus]]`` blocks naming regions the connectome does not
        have, a ``data.subjects`` choice the data do not offer, a TR that is not a whole number of
        steps, fewer than 3 simulated BOLD frames, an empirical BOLD recording shorter than the
        FCD window.
    DataFileError
        A lab's file is missing, unreadable or does not fit the others.

    Notes
    -----
    Nothing is simulated here except, lazily, the one-node resting level of the BOLD baseline
    ``"auto"`` (:attr:`Study.bold_baseline`, on first use).
    """
    from ..models import MODELS

    cfg = dict(cfg)
    data, raw_conn, rec, source, files = _load_data(cfg)
    norm = cfg["data"].get("normalize", "none")
    conn = raw_conn.normalized(norm) if norm != "none" else raw_conn
    if cfg["data"].get("weights"):
        conn, files["weights"] = _replace_weights(conn, cfg["data"]["weights"], cfg.get("_base_dir", "."))
        source = f"{source} with weights {cfg['data']['weights']}"
    n = conn.n_regions
    labels = [str(x) for x in conn.labels]
    spec = MODELS[cfg["model"]["name"]]
    chosen = cfg["data"].get("subjects") if subjects is None else subjects
    targets = _targets(rec, chosen, source, cfg)
    surface = None
    if "surface" in cfg:   # a node per vertex: mesh, mapping, kernel and EEG read and checked here
        from .surface import build_surface

        surface = build_surface(cfg["surface"], conn, cfg.get("_base_dir"))
    try:   # per-region parameters name regions of this connectome
        node = node_from_config(cfg, n, conn.labels, None if surface is None else surface.node_regions)
    except (KeyError, IndexError) as exc:
        raise preflight.PreflightError(str(exc.args[0])) from None
    # [[stimulus]] blocks name regions of this connectome too (PreflightError naming the block)
    stimuli = build_stimuli(cfg.get("stimulus", []), labels, n, None if surface is None else surface.surface)
    if surface is not None:
        from .surface import surface_network

        net = surface_network(cfg, conn, surface, node)
    else:
        net = network_from_config(cfg, conn, node)

    sim_cfg, bold_cfg, net_cfg = cfg["simulation"], cfg["bold"], cfg["network"]
    dt, tr = float(sim_cfg["dt"]), float(bold_cfg["tr"])
    bold_on = bool(bold_cfg.get("enabled", True))
    n_rec = int(round((sim_cfg["duration"] - sim_cfg["transient"]) / dt))
    if bold_on:
        period, steps = preflight.sampling_period(tr, dt)
        tr_steps = int(round(tr / dt))
        bold_frames = (n_rec // steps) // (tr_steps // steps)
        if bold_frames < 3:
            raise preflight.PreflightError(
                f"the recording (simulation.duration - simulation.transient = "
                f"{(sim_cfg['duration'] - sim_cfg['transient']) / 1000:g} s) gives {bold_frames} BOLD "
                f"frames at TR = {tr:g} ms; FC needs at least 3. Lengthen simulation.duration.")
    else:
        steps = max(1, int(round(NEURAL_PERIOD_WITHOUT_BOLD / dt)))
        period, bold_frames = steps * dt, 0

    if surface is not None:   # region means (and EEG) every surface.period
        steps = max(1, int(round(cfg["surface"]["period"] / dt)))
        period = steps * dt

    warnings = []
    if net_cfg.get("delays", True) and net_cfg.get("delay_mode", "integer") == "integer" \
            and net_cfg.get("speed") and conn.lengths is not None:
        n0 = preflight.zero_delay_edges(conn.weights, conn.delays_ms(net_cfg["speed"]), dt)
        if n0:
            msg = (f"{n0} of {int(np.count_nonzero(np.asarray(conn.weights)))} edges have a conduction "
                   f"delay below dt/2 = {dt / 2:g} ms at speed {net_cfg['speed']:g} mm/ms and are coupled "
                   f"without delay (delays are rounded to whole steps); use a smaller simulation.dt or "
                   f"network.delay_mode = \"linear\" to keep them.")
            logger.warning(msg)
            warnings.append(msg)

    return Study(cfg=cfg, source=source, data=data, data_files=files, connectome=conn, labels=labels,
                 node=node, network=net, model=spec, variable=bold_cfg.get("variable") or spec.coupled_var,
                 dt=dt, duration=float(sim_cfg["duration"]), transient=float(sim_cfg["transient"]),
                 method=sim_cfg.get("method", "heun"), tr=tr, bold_enabled=bold_on,
                 neural_period=float(period), neural_steps=int(steps), bold_frames=int(bold_frames),
                 all_subjects=tuple(rec.ids), targets=targets, stimuli=stimuli, warnings=warnings,
                 _recordings=rec, surface=surface)


def sweep_model_from_config(source: Mapping, base_dir=None):
    """The sweep model of a study config (the TOML tables as a dict, without ``[sweep]``).

    Built through :func:`build_study`, as ``neuralmass run`` builds its study: the same data
    (bundled or the lab's ``[data]`` files), ``data.subjects``, network, BOLD and targets.

    Parameters
    ----------
    source : mapping
        The config tables (missing keys take the defaults of
        :func:`neuralmass.config.load_config`). A ``'_base_dir'`` entry, or ``base_dir``, is the
        folder a lab's relative file paths are read from (default: the working directory).
    base_dir : path, optional

    Returns
    -------
    SweepModel

    Raises
    ------
    ConfigError
        ``[[stimulus]]`` blocks (not supported by sweeps yet) or an invalid config.
    PreflightError, DataFileError
        As :func:`build_study`.
    """
    from ..config import ConfigError, load_config

    src = json.loads(json.dumps(dict(source), default=str))
    base = src.pop("_base_dir", None) or base_dir
    cfg = load_config(None, overrides=src)
    if cfg.get("stimulus"):
        raise ConfigError("[[stimulus]] blocks are not supported by sweeps yet (they would be "
                          "ignored); remove them from the sweep config, or run the study with "
                          "`neuralmass run`.")
    if "_base_dir" in cfg:   # a lab's files: read relative to the config's folder, on every worker
        cfg["_base_dir"] = src["_base_dir"] = str(Path(base).resolve()) if base else cfg["_base_dir"]
    return build_study(cfg).sweep_model(source=src)
