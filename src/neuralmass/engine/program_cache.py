"""Compiled engine programs kept on disk, so a new process loads them instead of compiling.

XLA compiles a simulation's programs anew in every process: for the 80-region delayed network
of the benchmarks (W1) that is about 1.5 s of a 2.9 s first call whose steady run takes 0.9 s.
:class:`Program` is :func:`jax.jit` plus a store of the compiled executables: each one is keyed
by the program's lowered StableHLO text and by everything that changes the machine code (JAX and
jaxlib versions, backend and its version, device kind, the host CPU's feature flags, ``XLA_FLAGS``),
serialized with :mod:`jax.experimental.serialize_executable` and reloaded by a later process with
the same program. Only the engine's own programs are stored (JAX's global options are left alone).

Where
-----
On by default, in ``neuralmass.datasets.cache_dir() / "xla"`` (``~/.cache/neuralmass/xla`` on
Linux). ``NEURALMASS_COMPILATION_CACHE=/some/folder`` moves it (the same variable also turns on
JAX's own cache for the command-line studies, see :mod:`neuralmass.compilation_cache`);
``NEURALMASS_COMPILATION_CACHE=0`` (or ``off``) turns it off. The store holds at most
:data:`MAX_BYTES`; the least recently used programs are dropped first. Only files this module
wrote (``*.nmx``) are ever removed. When JAX's own persistent cache is on, it already stores these
programs and this store steps aside.

With several devices (a multi-GPU node, or ``--xla_force_host_platform_device_count``) the store
steps aside too: a stored executable belongs to one device, while :func:`jax.jit` places each call.

A stored program that cannot be loaded (a different machine sharing the folder, a damaged file)
is compiled again and replaced; if a freshly written program of this machine cannot be read back,
the store turns itself off for this machine (a marker file records it) instead of compiling and
writing on every run. Loading an executable runs its code: keep the folder private, as for any
compiler cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import tempfile
import threading
from pathlib import Path

import jax

from ..compilation_cache import ENV_VAR, cache_dir, turned_off  # one variable for both stores

__all__ = ["Program", "folder", "MAX_BYTES", "stats"]

logger = logging.getLogger("neuralmass")

#: largest total size of the stored programs (bytes); older ones are removed beyond it
MAX_BYTES = 2 * 1024 ** 3
_SUFFIX = ".nmx"
_FORMAT = "1"  # bump when the stored layout changes
_LOCK = threading.Lock()
_STATS = {"loaded": 0, "compiled": 0, "stored": 0, "load_failed": 0}


def stats() -> dict:
    """Counts of this process: programs ``loaded`` from disk, ``compiled``, ``stored``,
    ``load_failed`` (stored files that could not be used and were compiled again)."""
    return dict(_STATS)


def folder() -> Path | None:
    """The folder of the store, or ``None`` when it is off (see the module docs)."""
    env = os.environ.get(ENV_VAR)
    if env is not None and (not env.strip() or turned_off(env)):
        return None
    if jax.config.jax_compilation_cache_dir:  # JAX's own cache stores every program already
        return None
    if env:
        return Path(env).expanduser() / "engine"
    return cache_dir() / "xla"


def _machine() -> str:
    """What, besides the program, decides the machine code."""
    import jaxlib

    dev = jax.devices()[0]
    client = getattr(dev, "client", None)
    parts = [_FORMAT, jax.__version__, getattr(jaxlib, "__version__", ""), dev.platform,
             getattr(client, "platform_version", ""), getattr(dev, "device_kind", ""),
             os.environ.get("XLA_FLAGS", ""), platform.machine(), _cpu_flags()]
    return "\n".join(map(str, parts))


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


_MACHINE: list = []


def _fingerprint() -> tuple[str, str]:
    """``(description, short hash)`` of this machine and installation (computed once)."""
    if not _MACHINE:
        text = _machine()
        _MACHINE.append((text, hashlib.sha256(text.encode()).hexdigest()[:16]))
    return _MACHINE[0]


class Program:
    """``jax.jit(fn)`` whose compiled executables are stored on disk and reloaded (see the module
    docs). Called like the jitted function; one executable per argument signature."""

    def __init__(self, fn, name: str = "program"):
        self.jitted = jax.jit(fn)
        self.name = name
        self._by_signature: dict = {}

    def __call__(self, *args):
        if jax.config.jax_disable_jit:  # debugging: run op by op, as jax.jit would
            return self.jitted(*args)
        leaves, tree = jax.tree_util.tree_flatten(args)
        sig = (tree, tuple(_aval(x) for x in leaves))
        exe = self._by_signature.get(sig)
        if exe is None:
            exe = self._by_signature[sig] = self._build(args, sig)
        return exe(*args)

    def _build(self, args, sig):
        where = folder()
        if where is None or len(jax.devices()) > 1:
            # several devices: the executable belongs to the device it was compiled for, and
            # jax.jit picks the device per call (sweeps spread chunks over devices)
            return self.jitted
        try:
            lowered = self.jitted.lower(*args)
            text = lowered.as_text()
        except Exception:  # noqa: BLE001  (let jit raise its own error on the call)
            return self.jitted
        machine, fp = _fingerprint()
        if (where / f"off-{fp}").exists():
            return self.jitted
        # the argument types belong to the key: arguments a program does not use are pruned from
        # its text, but the executable still checks them on every call
        key = hashlib.sha256("\n".join([machine, repr(sig), str(lowered.out_tree), text]).encode()).hexdigest()
        path = where / f"{self.name}-{key[:40]}{_SUFFIX}"
        exe = _load(path, lowered)
        if exe is not None:
            return exe
        compiled = lowered.compile()
        _STATS["compiled"] += 1
        _store(path, compiled, lowered, where, fp)
        return compiled


def _aval(x):
    try:
        a = jax.api_util.shaped_abstractify(x)
        return (a.shape, str(a.dtype), getattr(a, "weak_type", False))
    except TypeError:
        return ("static", repr(x))


def _load(path: Path, lowered):
    from jax.experimental import serialize_executable

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        exe = serialize_executable.deserialize_and_load(blob, lowered.in_tree, lowered.out_tree)
    except Exception as e:  # noqa: BLE001  (a damaged file or another machine's code)
        _STATS["load_failed"] += 1
        logger.debug("stored program %s could not be loaded (%s); compiling it again", path.name, e)
        return None
    try:
        os.utime(path)  # least recently used is removed first
    except OSError:
        pass
    _STATS["loaded"] += 1
    return exe


def _store(path: Path, compiled, lowered, where: Path, fp: str):
    from jax.experimental import serialize_executable

    try:
        blob, _, _ = serialize_executable.serialize(compiled)
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=_SUFFIX)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)  # atomic: a concurrent process sees the whole file or none
    except Exception as e:  # noqa: BLE001  (a read-only folder, a backend without serialization)
        logger.debug("compiled program not stored in %s: %s", where, e)
        return
    _STATS["stored"] += 1
    if not _readable(path, blob, lowered):
        # this machine cannot reload its own programs (e.g. an XLA:CPU feature check that always
        # fails): stop writing here instead of compiling and storing on every run
        try:
            path.unlink()
            (where / f"off-{fp}").touch()
        except OSError:
            pass
        logger.debug("stored programs cannot be reloaded on this machine; store off for it")
        return
    _evict(where)


_CHECKED: set = set()


def _readable(path, blob, lowered) -> bool:
    """Whether this process can load what it just stored (checked once per folder)."""
    if path.parent in _CHECKED:
        return True
    from jax.experimental import serialize_executable

    try:
        serialize_executable.deserialize_and_load(blob, lowered.in_tree, lowered.out_tree)
    except Exception:  # noqa: BLE001
        return False
    _CHECKED.add(path.parent)
    return True


def _evict(where: Path, limit: int | None = None):
    """Remove the least recently used ``*.nmx`` files until the total is under ``limit``."""
    limit = MAX_BYTES if limit is None else limit
    with _LOCK:
        try:
            entries = [(p.stat().st_mtime, p.stat().st_size, p) for p in where.glob(f"*{_SUFFIX}")
                       if not p.name.startswith(".")]
        except OSError:
            return
        total = sum(s for _, s, _ in entries)
        for _, size, p in sorted(entries, key=lambda e: e[0]):
            if total <= limit:
                break
            try:
                p.unlink()
                total -= size
            except OSError:
                pass
