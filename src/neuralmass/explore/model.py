"""What a sweep simulates: a network, its monitors, targets and the batched engine call of a chunk.

:class:`SweepModel` holds a :class:`~neuralmass.Network` (or any engine system), the run
settings, the recorded signals (the activity and optionally online BOLD) and the targets of the
features (or, with ``record``, the monitors a study gives: a surface study's region means and
region BOLD, :func:`neuralmass.studies.surface.surface_monitors`). :meth:`SweepModel.run_lanes` runs ``B`` lanes — one per (point, seed) of a chunk — in
**one** batched call of :meth:`neuralmass.Simulator.run` and returns their features.

Parameter names are those of :meth:`neuralmass.Simulator.params` overrides: node parameters by
name (``'a'`` or ``'node.a'``, in the unit of the model's parameter table), network parameters
(``'k'``, coupling parameters), ``'speed'`` (conduction speed, mm/ms = m/s; needs tract lengths)
and noise amplitudes as ``'noise.<input>.<field>'`` (e.g. ``'noise.x_ext.sigma'``, canonical
units). A surface network (:class:`~neuralmass.surface.SurfaceNetwork`) also has
``'local_strength'``, the strength of its local coupling (when it has a local kernel).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..analysis.fcd import window_in_samples
from ..params import known_names, resolve_path
from ..units import magnitude

__all__ = ["SweepModel", "speed_system"]

_SPEED_NAME = "speed"


# --------------------------------------------------------------------------- engine adapters
def speed_system(network, distance, bounds):
    """The system to run when the conduction speed is swept: the network with its speed traced in
    ``bounds`` (:meth:`~neuralmass.Network.with_traced_speed`: lags computed inside the run with
    linear interpolation, ring buffer sized for the slowest speed); the speeds are then passed as
    ``params={'speed': array}`` like any other batched parameter.
    """
    if distance is None and network.distance_mm is None:
        raise ValueError("sweeping 'speed' needs tract lengths: build the Network from a Connectome "
                         "with lengths_mm, or pass Sweep(..., distance=lengths_mm).")
    lo, hi = bounds
    if not lo > 0:
        raise ValueError(f"space['speed'] must stay positive (mm/ms); its lowest value is {lo}.")
    if hi <= lo:
        hi = lo * (1.0 + 1e-6)
    return network.with_traced_speed((lo, hi), distance=distance, speed=lo)


class _NoiseValues:
    """A system whose noise parameters are replaced by (batched) values; all else delegated."""

    def __init__(self, system, values: Mapping):
        self._system = system
        self._values = values

    def __getattr__(self, name):
        return getattr(self._system, name)

    def as_system(self):
        return self

    def noise_params(self) -> dict:
        import jax.numpy as jnp

        out = {k: dict(v) for k, v in self._system.noise_params().items()}
        for (inp, fld), v in self._values.items():
            out[inp][fld] = jnp.asarray(v, dtype=float)
        return out


# --------------------------------------------------------------------------- the model
@dataclass
class SweepModel:
    """A network with its run settings, recorded signals and feature targets.

    Parameters
    ----------
    network : Network or engine system
    dt, duration, transient : float
        Milliseconds (transient included in the duration).
    method : str, optional
        Integration method (default: the network's).
    variable : str, optional
        The activity variable (default: the model's coupled variable).
    period : float
        Sampling period of the activity (ms; averaged over each period).
    bold : dict, optional
        :class:`~neuralmass.forward.bold.BOLDMonitor` keywords (``tr``, ``coefficients``,
        ``scale``, ``baseline``); with it, FC-type features use the BOLD signal.
    distance : array (n, n), optional
        Tract lengths (mm), needed to sweep ``'speed'``.
    targets : dict
        ``'fc'`` (n, n) target FC; ``'fcd'`` target FCD values (1-D).
    options : dict
        Feature options: ``fmin``/``fmax`` (Hz), ``fcd_window``/``fcd_step`` (ms),
        ``metastability_band`` (Hz).
    fingerprint : str, optional
        Identity of the model in the sweep's spec (default: a digest of the network's weights,
        delays, parameters and noise).
    source : dict, optional
        The study config the model was built from
        (:func:`neuralmass.studies.build.sweep_model_from_config`); a model with a source and a
        ``builder`` travels to Dask workers as its config and is rebuilt there by ``builder``.
    data : dict, optional
        What the targets were computed from (data source, subjects, checksums of a lab's files);
        part of the model's identity in the sweep's spec when given.
    builder : callable, optional
        ``builder(source) -> SweepModel``, a module-level function (pickled by name) that rebuilds
        a model with a ``source`` on a worker (the studies layer passes
        :func:`neuralmass.studies.build.sweep_model_from_config`); without one the model travels
        whole.
    record : sequence of Monitor, optional
        The run's monitors instead of a temporal average of ``variable`` and BOLD of it: the one
        keyed ``'activity'`` (required) is the activity the features use, ``'bold'`` (required
        with ``bold``) the BOLD; any other (e.g. ``'eeg'``) is recorded only when ``timeseries``
        asks for it by its key. A surface study passes its region means and region BOLD here
        (:func:`neuralmass.studies.surface.surface_monitors`), so features see regions, not
        vertices.
    """

    network: Any
    dt: float
    duration: float
    transient: float = 0.0
    method: str | None = None
    variable: str | None = None
    period: float = 1.0
    bold: dict | None = None
    distance: Any = None
    targets: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    fingerprint: str | None = None
    source: dict | None = None
    data: dict | None = None
    builder: Any = None
    record: tuple | None = None

    def __post_init__(self):
        from ..engine import Simulator

        self._base = Simulator(self.network, dt=self.dt, method=self.method, progress=False)
        system = self._base.system
        if self.variable is None:
            self.variable = getattr(system, "coupled_var", None) or system.node_model.output \
                or system.node_model.state_names[0]
        self.weights = np.asarray(getattr(system, "weights", None)) if hasattr(system, "weights") else None
        self._params = self._base.params()
        self._systems: dict = {}
        if self.record is not None:
            self.record = tuple(self.record)
            keys = [m.key for m in self.record]
            if "activity" not in keys or (self.bold and "bold" not in keys) or len(set(keys)) != len(keys):
                raise ValueError(f"record={keys}: give distinct monitor keys with one 'activity'"
                                 f"{' and one bold' if self.bold else ''} monitor.")
        if self.options.get("fcd_window") is not None:      # refuse a too-short window before any run
            interval = self.bold["tr"] if self.bold else self.period
            try:
                window_in_samples(self.options["fcd_window"], self.options.get("fcd_step"), interval)
            except ValueError as exc:
                raise ValueError(f"options['fcd_window']: {exc}") from None

    # ------------------------------------------------------------------ pickling (Dask workers)
    # A worker keeps one model per identity, so the engine's compiled programs (cached by the
    # network's structure) are reused by every chunk and every later sweep of the same model.
    def __getstate__(self):
        if self.source is not None and self.builder is not None:
            return {"source": self.source, "builder": self.builder}
        token = json.dumps(self.describe(), sort_keys=True, default=str)
        return {"token": token, "fields": {k: getattr(self, k) for k in self.__dataclass_fields__}}

    def __setstate__(self, state):
        if "source" in state:
            self.__dict__.update(_cached_config_model(state["source"], state["builder"]).__dict__)
            return
        cached = _WORKER_MODELS.get(state["token"])
        if cached is None:
            self.__dict__.update(state["fields"])
            self.__post_init__()
            _WORKER_MODELS[state["token"]] = self
        else:
            self.__dict__.update(cached.__dict__)

    # ------------------------------------------------------------------ names and units
    def kind(self, name: str) -> str:
        """``'node'``, ``'system'``, ``'noise'`` or ``'speed'``; a clear error for unknown names."""
        if name == _SPEED_NAME:
            return "speed"
        try:
            path = resolve_path(name, self._params)
        except KeyError as exc:
            if name.removeprefix("node.") == "local_strength":
                raise ValueError(f"space[{name!r}]: 'local_strength' scales a surface network's local "
                                 f"coupling, and this network has none (no local kernel); give the "
                                 f"SurfaceNetwork local=LocalCoupling(...) (surface.local in a config), "
                                 f"or remove {name!r} from the space.") from None
            raise ValueError(f"space has an unknown parameter {name!r}; known: "
                             f"{', '.join(self.known_names())}. ({exc.args[0]})") from None
        if path[0] == "conn":
            raise ValueError(f"space[{name!r}]: a sweep varies scalars per lane; connection weights "
                             f"cannot be swept (scale them with the coupling strength 'k').")
        return path[0] if path[0] in ("node", "noise") else "system"

    def known_names(self) -> list:
        out = [n for n in known_names(self._params) if n != "conn.w"]
        if hasattr(self._base.system, "weights") and _SPEED_NAME not in out:
            out.append(_SPEED_NAME)
        return out

    def convert(self, name: str):
        """``convert(value, where) -> float``: a value with a unit (Quantity or ``"10 mm/ms"``) in
        the parameter's documented unit; plain numbers pass through."""
        import brainunit as u

        from ..units import SPEED, parse_quantity, to_numpy

        kind = self.kind(name)

        def conv(v, where):
            q = parse_quantity(v, where) if isinstance(v, str) else v
            if not isinstance(q, u.Quantity):
                return q
            if kind == "speed":
                return float(to_numpy(q, where, SPEED, hint='write e.g. "10 mm/ms"'))
            if kind == "node":
                spec = self._base.system.node_model.param(name.removeprefix("node."))
                try:
                    return float(np.asarray(spec.to_canonical(q))) / float(spec.factor)
                except ValueError as exc:
                    raise ValueError(f"{where} = {v!r}: {exc}") from None
            raise ValueError(f"{where} = {v!r}: {name!r} takes plain numbers (canonical units).")

        return conv

    # ------------------------------------------------------------------ identity
    def describe(self) -> dict:
        """JSON description for the sweep's spec (what must match to resume a store)."""
        ident = {"config": {k: v for k, v in self.source.items() if k != "_base_dir"}} \
            if self.source is not None else {"fingerprint": self.fingerprint or self._digest()}
        if self.data is not None:
            ident["data"] = self.data
        if self.record is not None and self.source is None:   # absent otherwise: older stores resume
            ident["record"] = [[type(m).__name__, m.variable, m.period, m.key] for m in self.record]
        return {**ident, "dt": self.dt,
                "duration": self.duration, "transient": self.transient,
                "method": self._base.method, "variable": self.variable, "period": self.period,
                "bold": self.bold, "options": self.options, "targets": sorted(self.targets)}

    def _digest(self) -> str:
        import jax

        h = hashlib.sha1()
        sysm = self._base.system
        h.update(json.dumps([type(sysm).__name__, sysm.node_model.name, str(getattr(sysm, "coupling", "")),
                             getattr(sysm, "coupled_var", ""), self._base.method]).encode())
        arrays = [getattr(sysm, "weights", None), getattr(sysm, "delays_ms", None), self.distance]
        surface, local = getattr(sysm, "surface", None), getattr(sysm, "local", None)
        if surface is not None:           # a surface network: its mesh, mapping and local kernel
            arrays += [surface.vertices, surface.triangles, surface.region_mapping]
        if local is not None:
            arrays += [local.rows, local.cols, local.weights]
        arrays += jax.tree.leaves(self._params)
        arrays += [self.targets[k] for k in sorted(self.targets)]
        for a in arrays:
            if a is not None:
                a = np.ascontiguousarray(np.asarray(a, dtype=float))
                h.update(str(a.shape).encode())
                h.update(a.tobytes())
        return h.hexdigest()

    # ------------------------------------------------------------------ running
    def monitors(self, timeseries=None) -> list:
        """The run's monitors: ``activity``, ``bold`` when recorded, and ``timeseries`` (a temporal
        average at ``period``) when a :class:`.TimeseriesSpec` asks for another node variable."""
        from ..monitors import TemporalAverage

        want = {"activity", "bold"} | ({timeseries.monitor_key} if timeseries is not None else set())
        if self.record is not None:
            out = [m for m in self.record if m.key in want]
        else:
            out = [TemporalAverage(self.variable, period=self.period, name="activity")]
            if self.bold:
                from ..forward.bold import BOLDMonitor

                kw = dict(self.bold)
                out.append(BOLDMonitor(kw.pop("variable", None) or self.variable, name="bold", **kw))
        if timeseries is not None and timeseries.monitor_key == "timeseries":
            # another variable, recorded as the activity is (a temporal average, or region means)
            out.append(dataclasses.replace(out[0], variable=timeseries.signal, name="timeseries"))
        return out

    def extra_signals(self) -> dict:
        """``key -> monitor`` of the ``record`` monitors other than the activity and BOLD (e.g. a
        surface study's ``'eeg'``): signals a ``timeseries`` option may store."""
        return {m.key: m for m in (self.record or ()) if m.key not in ("activity", "bold")}

    def signal_width(self, key: str = "activity") -> int:
        """Values per sample of the recorded signal ``key`` (regions, or sensors)."""
        mons = {m.key: m for m in self.monitors()}
        mons.update(self.extra_signals())
        return mons.get(key, mons["activity"]).output_width(self._base.system)

    def lane_estimate(self, names=(), bounds: Mapping | None = None, timeseries=None):
        """Memory (bytes by part) and time (a lower bound) of **one** lane of a chunk
        (:meth:`neuralmass.Simulator.estimate`, the engine's own estimate): the state with the
        integrator's stages, the delay line and local kernel, and the recorded outputs.

        Returns
        -------
        RunEstimate
        """
        from ..engine import Simulator

        system = self.system_for(tuple(names), dict(bounds or {}))
        sim = Simulator(system, dt=self.dt, method=self._base.method, progress=False)
        return sim.estimate(self.duration, monitors=self.monitors(timeseries), transient=self.transient)

    def system_for(self, names, bounds: Mapping) -> Any:
        """The system to run for a space with parameter ``names`` (``bounds`` of the speed axis)."""
        key = (_SPEED_NAME in names, tuple(bounds.get(_SPEED_NAME, ())))
        if key not in self._systems:
            self._systems[key] = (speed_system(self._base.system, self.distance, bounds[_SPEED_NAME])
                                  if key[0] else self._base.system)
        return self._systems[key]

    def run_lanes(self, values: Mapping, keys, bounds: Mapping, features) -> dict:
        """Run ``B`` lanes in one batched engine call and return ``feature -> array (B,)``.

        Parameters
        ----------
        values : dict
            ``name -> array (B,)`` in documented units.
        keys : array (B, 2)
            One noise key per lane.
        bounds : dict
            ``name -> (low, high)`` of each axis (sizes the speed sweep's delay buffer).
        features : list of str
        """
        return self.run_chunk(values, keys, bounds, features)[0]

    def run_chunk(self, values: Mapping, keys, bounds: Mapping, features, timeseries=None):
        """As :meth:`run_lanes`, and the lanes' down-sampled time series: ``(features, series)``
        with ``series`` an array ``(B, n_times, n)`` (``float32``) when ``timeseries`` (a
        :class:`.TimeseriesSpec`) is given, else ``None``."""
        from ..engine import Simulator
        from .features import FeatureContext, compute_features

        system = self.system_for(tuple(values), bounds)
        params, noise = {}, {}
        for name, v in values.items():
            v = np.asarray(v, dtype=float)
            kind = self.kind(name)
            if kind == "noise":
                _, inp, fld = name.split(".")
                noise[(inp, fld)] = v[:, None]
            elif kind == "node":
                params[name] = v[:, None]        # (B, 1): one value for all nodes of a lane
            else:
                params[name] = v
        if noise:
            system = _NoiseValues(system, noise)
        sim = Simulator(system, dt=self.dt, method=self._base.method, progress=False,
                        chunk_steps=self._base.chunk_steps)
        res = sim.run(self.duration, monitors=self.monitors(timeseries), transient=self.transient,
                      key=keys, params=params, on_divergence="nan")
        # lanes that diverged get NaN features and series; the others are computed as usual
        ok = ~np.asarray(res["diverged"]).reshape(-1)
        act = np.asarray(magnitude(res["activity"]))[ok]
        fs = 1000.0 / self.period
        if self.bold:
            fc_sig, fc_fs = np.asarray(magnitude(res["bold"]))[ok], 1000.0 / self.bold["tr"]
        else:
            fc_sig, fc_fs = act, fs
        opts = dict(self.options)
        win_ms, step_ms = opts.pop("fcd_window", None), opts.pop("fcd_step", None)
        if win_ms is not None:
            opts["fcd_window"], opts["fcd_step"] = window_in_samples(win_ms, step_ms, 1000.0 / fc_fs)
        feats = {f: np.full(ok.size, np.nan) for f in features}
        if ok.any():
            ctx = FeatureContext(act, fs, fc_sig, fc_fs, self.weights, self.targets, opts)
            for f, v in compute_features(features, ctx).items():
                feats[f][ok] = v
        series = None
        if timeseries is not None:
            sig = np.asarray(magnitude(res[timeseries.monitor_key]))
            series = np.full((ok.size, *timeseries.shape), np.nan, np.float32)
            if ok.any():
                series[ok] = timeseries.reduce(sig[ok])
        return feats, series


# --------------------------------------------------------------------------- study configs
_CONFIG_MODELS: dict = {}
_WORKER_MODELS: dict = {}


def _cached_config_model(source: Mapping, builder) -> SweepModel:
    key = json.dumps(source, sort_keys=True, default=str)
    if key not in _CONFIG_MODELS:
        _CONFIG_MODELS[key] = builder(source)
    return _CONFIG_MODELS[key]
