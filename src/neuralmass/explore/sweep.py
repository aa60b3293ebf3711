r"""Sweeps: a network over a parameter space, chunk by chunk, on Dask, into a resumable Zarr store.

A :class:`Sweep` turns a space and a design into ``P`` points (:mod:`.space`), runs every point
with ``S`` noise seeds, and groups the points into chunks of ``chunk`` points. A chunk is **one
batched engine call** of ``chunk × S`` lanes (:meth:`.SweepModel.run_lanes`), so a worker keeps
its cores or its accelerator busy; only the per-lane features (:mod:`.features`) travel back.

Execution (:meth:`Sweep.run`):

* ``scheduler=None`` — a Dask ``LocalCluster`` of worker *processes* sized to the machine
  (``workers``, default the CPU count);
* ``scheduler='tcp://host:8786'`` or a ``distributed.Client`` — any Dask cluster, e.g. one of
  dask-jobqueue on SLURM (see ``docs/explore.md``);
* ``scheduler='serial'`` — the plain batched loop in this process (no Dask).

Chunks are spread over ``jax.devices()`` when there are several (chunk ``i`` runs on device
``i mod D``; a worker then runs ``D`` chunks at once). A worker that dies loses only its chunk,
which Dask reschedules (``retries``). Each finished chunk is written to the store at once (a
region write) and marked in the manifest, so a killed sweep resumes where it stopped and a
finished one computes nothing when run again; a store that belongs to a different sweep is
refused with the differences named.

Noise: lane ``(p, s)`` uses the key ``PRNGKey(seeds[s])`` at every point ``p`` (common random
numbers), so differences between points are differences of parameters, not of noise, and a
point's result does not depend on how points are chunked or scheduled.

Memory: before any work the sweep estimates the memory of one lane
(:meth:`.SweepModel.lane_estimate`, the engine's own estimate: state and integrator stages, delay
line, local kernel of a surface network, recorded outputs) and refuses a sweep whose single lane
does not fit in the available memory. A chunk whose ``chunk × S`` lanes would not fit in
:data:`MEMORY_SHARE` of the available memory (shared by the local workers) runs as several
engine calls of at most :meth:`Sweep.lanes_per_call` lanes (the last one padded to the same
compiled shape); lanes are independent, so the results do not depend on this split, and the
store's chunks (the unit of resuming) stay those of ``chunk``.

Time series: ``timeseries=`` additionally stores every lane's down-sampled signal (BOLD, the
activity or a node variable, averaged over windows) in the same region writes as the features;
see :mod:`neuralmass.explore.timeseries` for the option, the down-sampling and the size.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import store as _store
from .features import FEATURES, available, default_features
from .model import SweepModel
from .space import DESIGNS, design_points, parse_space
from .timeseries import parse_timeseries

__all__ = ["Sweep", "SchedulerError"]

log = logging.getLogger("neuralmass")

SPEC_FORMAT = 1
#: Share of the available memory that the engine calls of a sweep (all local workers together)
#: plan to use; the rest is left to the features, the store writes and the rest of the machine.
MEMORY_SHARE = 0.5


class SchedulerError(ValueError):
    """The Dask scheduler cannot be reached or started."""


class Sweep:
    """A parameter sweep of a network.

    Parameters
    ----------
    model : SweepModel or Network
        What to simulate. A :class:`~neuralmass.Network` is wrapped in a :class:`.SweepModel`
        with ``dt``, ``duration``, ``transient``, ``period``, ``bold``, ``distance``, ``targets``
        and ``options``.
    space : dict
        ``name -> (low, high) | [values] | {"range": [lo, hi], "steps": n, "scale": "log"}``
        (see :mod:`neuralmass.explore.space`). Names as in :meth:`neuralmass.Simulator.params`
        overrides, plus ``'speed'`` and ``'noise.<input>.<field>'``.
    design : {'grid', 'random', 'sobol', 'lhs'}
    points : int, optional
        Number of points of the random, Sobol' and Latin-hypercube designs.
    steps : int, optional
        Grid points of ranges that do not give their own ``steps``.
    design_seed : int
        Seed of the random designs (and the scrambling of Sobol').
    seeds : sequence of int or int
        Noise seeds run at every point (an int ``S`` means seeds ``0 .. S-1``).
    chunk : int
        Points per chunk (one batched engine call of ``chunk × len(seeds)`` lanes).
    features : list of str, optional
        Default: every feature whose inputs exist (see :data:`neuralmass.explore.FEATURES`).
    timeseries : str or dict, optional
        Also store each lane's down-sampled signal: ``{'signal': 'bold' | 'activity' | variable,
        'period': window (ms or "2 s"), 'max_mb': size cap}`` or just the signal name (see
        :mod:`neuralmass.explore.timeseries`). Default: features only.

    Examples
    --------
    >>> sw = Sweep(net, {'k': {'range': [0, 0.02], 'steps': 24}, 'speed': [1, 2, 5, 10, 20]},
    ...            seeds=2, dt=5.0, duration=300_000, transient=20_000, period=45.0,
    ...            distance=conn.lengths_mm)                                   # doctest: +SKIP
    >>> ds = sw.run('landscape.zarr', workers=4)                                # doctest: +SKIP
    """

    def __init__(self, model, space: Mapping, *, design: str = "grid", points: int | None = None,
                 steps: int | None = None, design_seed: int = 0, seeds=(0,), chunk: int = 16,
                 features=None, timeseries=None, **model_kw):
        if not isinstance(model, SweepModel):
            if "dt" not in model_kw or "duration" not in model_kw:
                raise ValueError("Sweep(network, ...) needs dt= and duration= (ms) to build its runs.")
            model = SweepModel(model, **model_kw)
        elif model_kw:
            raise TypeError(f"Sweep got {sorted(model_kw)} with a ready SweepModel; set them on the model.")
        self.model = model
        if design not in DESIGNS:
            raise ValueError(f"design={design!r} is not known; choose one of {', '.join(DESIGNS)}.")
        if not isinstance(space, Mapping) or not space:
            raise ValueError(f"space={space!r} is empty; give at least one parameter, e.g. "
                             f"space={{'k': (0.0, 0.02)}}.")
        for name in space:            # unknown names first: the clearest error
            model.kind(name)
        self.axes = parse_space(space, steps=steps, convert=lambda name, v, where: model.convert(name)(v, where))
        self.names = tuple(a.name for a in self.axes)
        self.design, self.n_design, self.design_seed = design, points, int(design_seed)
        self.points = design_points(self.axes, design, points, self.design_seed)
        if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ValueError(f"seeds={seeds!r} must be >= 1 (or a list of seeds).")
            seeds = list(range(int(seeds)))
        self.seeds = [int(s) for s in seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds={seeds!r} must be a non-empty list of distinct integers.")
        if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
            raise ValueError(f"chunk={chunk!r} must be a positive number of points per chunk.")
        self.chunk = int(min(chunk, len(self.points)))
        has_w = model.weights is not None
        self.features = (default_features(model.targets, has_w) if features is None
                         else available(list(features), model.targets, has_w))
        if not self.features:
            raise ValueError("features=[] leaves nothing to compute; name at least one feature.")
        if "fcd_ks" in self.features and "fcd_window" not in model.options:
            raise ValueError("feature 'fcd_ks' needs the FCD windows: options={'fcd_window': ms, 'fcd_step': ms}.")
        self.timeseries = parse_timeseries(timeseries, model, self.n_points, len(self.seeds))
        self.bounds = {a.name: a.bounds for a in self.axes}
        if "speed" in self.names:
            model.system_for(self.names, self.bounds)     # checks tract lengths before any work
        self.lane_estimate = model.lane_estimate(self.names, self.bounds, self.timeseries)
        self._check_one_lane()
        self.max_lanes: int | None = None                 # lanes per engine call (set by run)
        self.last_run: dict = {}

    def _check_one_lane(self) -> None:
        """Refuse, before any work, a sweep of which even one lane cannot fit in memory."""
        from ..engine.budget import RunTooLarge, format_bytes

        if os.environ.get("NEURALMASS_SKIP_BUDGET", "").strip() not in ("", "0"):
            return
        avail = _free_memory()
        est = self.lane_estimate
        if avail is not None and est.bytes > avail:
            n = int(self.model._base.system.n)
            raise RunTooLarge(
                f"one lane of this sweep needs about {format_bytes(est.bytes)} of memory ({est.describe()}; "
                f"{n} nodes) but only {format_bytes(avail)} is available, so not even chunk=1 with one seed "
                f"fits; shorten the duration (duration={self.model.duration:g} ms), record less often (a "
                f"longer period, e.g. surface.period), use a coarser mesh or fewer nodes, or a machine with "
                f"more memory (NEURALMASS_SKIP_BUDGET=1 skips this check).")

    @property
    def lane_bytes(self) -> float:
        """Estimated memory of one lane (bytes)."""
        return float(self.lane_estimate.bytes)

    def lanes_per_call(self, concurrent: int = 1, available: float | None = None) -> int:
        """Lanes per engine call: all ``chunk × S`` lanes of a chunk, or fewer when they would
        not fit in :data:`MEMORY_SHARE` of the ``available`` memory (default: what is available
        now, the host's or an accelerator's, whichever is less) shared by ``concurrent`` chunks
        running at once (at least 1)."""
        B = self.chunk * len(self.seeds)
        if os.environ.get("NEURALMASS_SKIP_BUDGET", "").strip() not in ("", "0"):
            return B
        avail = _free_memory() if available is None else float(available)
        if avail is None:
            return B
        fit = int(MEMORY_SHARE * avail / max(1, int(concurrent)) // max(self.lane_bytes, 1.0))
        return max(1, min(B, fit))

    # ------------------------------------------------------------------ description
    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_chunks(self) -> int:
        return -(-self.n_points // self.chunk)

    def spec(self) -> dict:
        """What identifies this sweep (stored with the results; must match to resume)."""
        out = {"format": SPEC_FORMAT, "model": self.model.describe(),
               "space": {a.name: a.describe() for a in self.axes},
               "design": self.design, "points": self.n_design, "design_seed": self.design_seed,
               "n_points": self.n_points, "seeds": self.seeds, "chunk": self.chunk,
               "features": list(self.features)}
        if self.timeseries is not None:      # absent otherwise: older stores keep resuming
            out["timeseries"] = self.timeseries.describe()
        return out

    def chunk_lanes(self, index: int):
        """``(values, keys, n_real)`` of chunk ``index``: ``name -> (chunk*S,)`` values, ``(chunk*S, 2)``
        keys; the last chunk is padded with copies of its last point (same compiled shape)."""
        import jax

        a = index * self.chunk
        pts = self.points[a:a + self.chunk]
        n_real = pts.shape[0]
        if n_real < self.chunk:
            pts = np.concatenate([pts, np.repeat(pts[-1:], self.chunk - n_real, axis=0)])
        S = len(self.seeds)
        lane_pts = np.repeat(pts, S, axis=0)                              # lane = p * S + s
        seed_keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in self.seeds])
        keys = np.tile(seed_keys, (self.chunk, 1))
        values = {name: lane_pts[:, j] for j, name in enumerate(self.names)}
        return values, keys, n_real

    def compute_chunk(self, index: int) -> dict:
        """Features of chunk ``index`` (``name -> (points_in_chunk, S)``), its wall time, device and
        process; runs on the device ``index mod len(jax.devices())``."""
        import jax

        t0 = time.perf_counter()
        devs = jax.devices()
        dev = index % len(devs)
        values, keys, n_real = self.chunk_lanes(index)
        B = keys.shape[0]
        L = min(B, self.max_lanes or B)
        feats, parts = {}, []
        with jax.default_device(devs[dev]):
            for a in range(0, B, L):    # engine calls of L lanes; the last padded to L (one compile)
                idx = np.minimum(np.arange(a, a + L), B - 1)
                # lanes that diverge get NaN features and series (the engine finishes the others)
                f, ser = self.model.run_chunk({k: v[idx] for k, v in values.items()}, keys[idx], self.bounds,
                                              self.features, self.timeseries)
                m = min(L, B - a)
                for k, v in f.items():
                    feats.setdefault(k, []).append(np.asarray(v)[:m])
                parts.append(None if ser is None else ser[:m])
        feats = {k: np.concatenate(v) for k, v in feats.items()}
        series = None if parts[0] is None else np.concatenate(parts)
        S = len(self.seeds)
        out = {k: v.reshape(self.chunk, S)[:n_real] for k, v in feats.items()}
        if series is not None:
            series = series.reshape(self.chunk, S, *series.shape[1:])[:n_real]
        return {"index": index, "features": out, "timeseries": series,
                "seconds": time.perf_counter() - t0, "device": dev, "pid": os.getpid()}

    # ------------------------------------------------------------------ running
    def run(self, store, scheduler: Any = None, workers: int | None = None, progress: bool = True,
            retries: int = 3, connect_timeout: float = 10.0,
            on_chunk: Callable[[dict], None] | None = None):
        """Run the chunks not yet in ``store`` and return the results (:func:`.open_sweep`).

        Parameters
        ----------
        store : path
            Zarr store (created if missing; resumed if it holds this sweep; refused otherwise).
            Two runs on one store at once compute disjoint chunks: each chunk is locked
            (``STORE.locks/chunk-<i>``, :func:`.store.claim_chunks`) while it is computed, a run
            skips the chunks another live run holds (``last_run['held']``), and a run that finds
            the store created under it by the same sweep joins it.
        scheduler : None, 'serial', address or distributed.Client
            ``None``: a LocalCluster of ``workers`` processes (scratch space under the library's
            cache folder, removed afterwards); ``'serial'``: this process.
        workers : int, optional
            Worker processes of the LocalCluster (default: the CPU count).
        retries : int
            Times a chunk whose worker died is rescheduled.
        connect_timeout : float
            Seconds to wait for a scheduler address.
        on_chunk : callable, optional
            Called with each stored chunk's record (index, seconds, device, pid).
        """
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer))
                                    or workers < 1):
            raise ValueError(f"workers={workers!r} must be a positive integer.")
        spec = self.spec()
        status = _store.check_store(store, spec)              # refuses another sweep's store
        if status == "resume" and _store.done_chunks(store).all():
            self.last_run = {"computed": [], "skipped": self.n_chunks, "store": str(store), "held": {}}
            log.info("sweep %s: all %d chunks already stored; nothing to compute", store, self.n_chunks)
            return _store.open_sweep(store)
        executor = _executor(scheduler, workers, connect_timeout, retries)   # fails before any write
        concurrent = (workers or os.cpu_count() or 1) if scheduler is None else 1
        self.max_lanes = self.lanes_per_call(concurrent)
        B = self.chunk * len(self.seeds)
        if self.max_lanes < B:
            from ..engine.budget import format_bytes

            log.warning("sweep %s: a chunk's %d lanes (about %s each) would not fit in %g of the available "
                        "memory shared by %d worker(s); each chunk runs as engine calls of %d lanes.",
                        store, B, format_bytes(self.lane_bytes), MEMORY_SHARE, concurrent, self.max_lanes)
        try:
            if status == "new":
                self._create(store, spec)
            done = _store.done_chunks(store)
            pending = [int(i) for i in np.nonzero(~done)[0]]
            self.last_run = {"computed": [], "skipped": int(done.sum()), "store": str(store), "held": {},
                             "lanes_per_call": self.max_lanes, "lane_bytes": self.lane_bytes}
            claimed, held = _store.claim_chunks(store, pending)
            # a chunk another run stored (and unlocked) between the two reads is not redone: a run
            # writes a chunk's manifest entry before it releases the chunk's lock
            done = _store.done_chunks(store)
            _store.release_chunks(store, [i for i in claimed if done[i]])
            claimed = [i for i in claimed if not done[i]]
            self.last_run["skipped"] = int(done.sum())
            self.last_run["held"] = held
            if held:
                log.warning("sweep %s: %d chunk(s) are being computed by another run of this sweep (%s); "
                            "this run computes the other %d. Rerun when it has finished to check that "
                            "every chunk is stored.", store, len(held), ", ".join(sorted(set(held.values()))),
                            len(claimed))
            try:
                bar = _bar(len(claimed), progress,
                           f"sweep ({self.n_chunks} chunks, {self.chunk * len(self.seeds)} lanes each)", initial=0)
                for rec in executor.map(self, claimed) if claimed else ():
                    _store.write_chunk(store, rec["index"], self.chunk, self.n_points, rec["features"],
                                       rec["seconds"], rec["device"], rec["pid"], timeseries=rec.get("timeseries"))
                    _store.release_chunks(store, [rec["index"]])
                    self.last_run["computed"].append(rec["index"])
                    bar.update(1)
                    if on_chunk is not None:
                        on_chunk({k: v for k, v in rec.items() if k not in ("features", "timeseries")})
                bar.close()
            finally:
                _store.release_chunks(store, claimed)
        finally:
            executor.close()
        return _store.open_sweep(store)

    def _create(self, store, spec) -> None:
        """Create the empty store; when another run of this same sweep created it first, join it
        (the chunk locks keep the two apart); another sweep's store is refused."""
        from ..io import software_versions as _versions

        versions = _versions()
        for pkg in ("dask", "distributed", "zarr"):
            try:
                import importlib.metadata as md

                versions[pkg] = md.version(pkg)
            except Exception:  # pragma: no cover - optional package metadata
                pass
        try:
            _store.create_store(store, spec, self.names, self.points, self.seeds, self.features,
                                self.chunk, versions, {f: FEATURES[f].description for f in self.features},
                                timeseries=self.timeseries)
        except _store.SweepStoreExists as exc:
            _store.check_store(store, spec)       # SweepStoreMismatch names the differences
            log.info("%s It holds this sweep, so this run resumes it.", exc)


def _free_memory() -> float | None:
    """Bytes available to a sweep's lanes: the host's available memory, or the default
    accelerator's free memory when that is less (:mod:`neuralmass.engine.budget`)."""
    from ..engine import budget

    known = [m for m in (budget.available_memory(), budget.accelerator_memory()) if m is not None]
    return min(known) if known else None


# --------------------------------------------------------------------------- executors
def _bar(total, show, desc, initial=0):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not show, desc=desc, unit="chunk", initial=initial)


class _Serial:
    """The plain batched loop in this process; one thread per JAX device when there are several."""

    def map(self, sweep, chunks):
        import jax

        n_dev = len(jax.devices())
        if n_dev == 1:
            for i in chunks:
                yield sweep.compute_chunk(i)
            return
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(n_dev) as pool:
            futs = [pool.submit(sweep.compute_chunk, i) for i in chunks]
            for f in as_completed(futs):
                yield f.result()

    def close(self):
        pass


def _compute(sweep, index):
    return sweep.compute_chunk(index)


def dask_scratch_dir() -> Path:
    """A new folder for the scratch space (worker folders, lock files) of one local Dask cluster:
    under the library's cache folder (:func:`neuralmass.compilation_cache.cache_dir`), not the
    system's temporary folder; removed when the cluster closes."""
    from ..compilation_cache import cache_dir

    root = cache_dir() / "dask-scratch"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"sweep-{os.getpid()}-", dir=root))


class _Dask:
    def __init__(self, client, cluster, retries, owned=True, scratch=None):
        self.client, self.cluster, self.retries, self.owned = client, cluster, int(retries), owned
        self.scratch = scratch

    def map(self, sweep, chunks):
        from distributed import as_completed

        remote = self.client.scatter(sweep, broadcast=True)
        futs = {self.client.submit(_compute, remote, i, retries=self.retries, pure=False): i for i in chunks}
        attempts = dict.fromkeys(chunks, 0)
        ac = as_completed(list(futs))
        failed = []
        for fut in ac:
            i = futs.pop(fut)
            if fut.status == "finished":
                yield fut.result()
                continue
            exc = fut.exception()
            attempts[i] += 1
            from distributed.scheduler import KilledWorker

            if isinstance(exc, KilledWorker) and attempts[i] <= self.retries:
                log.warning("chunk %d lost with its worker; resubmitting (attempt %d)", i, attempts[i] + 1)
                new = self.client.submit(_compute, remote, i, retries=self.retries, pure=False)
                futs[new] = i
                ac.add(new)
            else:
                failed.append((i, exc))
        if failed:
            i, exc = failed[0]
            raise RuntimeError(f"{len(failed)} chunk(s) failed (first: chunk {i}: {exc!r}); the finished "
                               f"chunks are stored and a rerun computes only the missing ones.") from exc

    def close(self):
        if not self.owned:            # the caller's client stays open
            return
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)


def _executor(scheduler, workers, connect_timeout, retries):
    if scheduler == "serial":
        return _Serial()
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("running a sweep on Dask needs the explore extra: pip install 'neuralmass[explore]' "
                          "(or use scheduler='serial').") from None
    if scheduler is None:
        import jax

        n = workers or os.cpu_count() or 1
        scratch = dask_scratch_dir()
        try:
            cluster = LocalCluster(n_workers=n, threads_per_worker=len(jax.devices()), processes=True,
                                   dashboard_address=None, local_directory=str(scratch))
        except Exception as exc:  # pragma: no cover - machine-specific
            shutil.rmtree(scratch, ignore_errors=True)
            raise SchedulerError(f"could not start a local Dask cluster of {n} workers: {exc}") from exc
        return _Dask(Client(cluster), cluster, retries, scratch=scratch)
    if isinstance(scheduler, Client):
        return _Dask(scheduler, None, retries, owned=False)
    if not isinstance(scheduler, str):
        raise ValueError(f"scheduler={scheduler!r}: give None (local cluster), 'serial', an address such as "
                         f"'tcp://host:8786', or a distributed.Client.")
    try:
        client = Client(scheduler, timeout=f"{connect_timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"--scheduler {scheduler!r} cannot be reached within {connect_timeout:g} s ({type(exc).__name__}); "
            f"check the address (e.g. tcp://host:8786) and that `dask scheduler` runs there. No chunk was "
            f"computed.") from None
    return _Dask(client, None, retries)
