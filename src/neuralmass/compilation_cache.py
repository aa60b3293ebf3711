"""Opt-in persistent JAX compilation cache for whole studies: everything they compile reused
across processes.

The engine stores its own simulation programs by default (:mod:`neuralmass.engine.program_cache`).
A study compiles more than that (FC and FCD statistics, fitting and inference programs); JAX's
persistent cache stores all of it. It is global to the process, so it is off by default and turned
on only where neuralmass owns the process — the command-line studies — by the environment variable
``NEURALMASS_COMPILATION_CACHE=/path/to/folder`` or a study config's
``simulation.compilation_cache = "/path/to/folder"``. ``NEURALMASS_COMPILATION_CACHE=0`` leaves it
off (and the engine's store too).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

__all__ = ["enable_compilation_cache", "turned_off", "ENV_VAR", "cache_dir"]

ENV_VAR = "NEURALMASS_COMPILATION_CACHE"


def turned_off(value) -> bool:
    """Whether a value of :data:`ENV_VAR` (or of the config key) turns the caches off."""
    return str(value).strip().lower() in {"0", "off", "false", "no", "none"}
logger = logging.getLogger("neuralmass")


def cache_dir() -> Path:
    """Directory for derived data (e.g. lead fields built from tvb-data).

    ``$NEURALMASS_CACHE`` when set; otherwise ``$XDG_CACHE_HOME/neuralmass`` on Linux,
    ``~/Library/Caches/neuralmass`` on macOS, ``%LOCALAPPDATA%\\neuralmass\\Cache`` on Windows,
    falling back to ``~/.cache/neuralmass``. The directory is not created here.
    """
    env = os.environ.get("NEURALMASS_CACHE")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "neuralmass"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "neuralmass" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "neuralmass"


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Store compiled XLA executables in ``path`` (default: ``$NEURALMASS_COMPILATION_CACHE``).

    Returns the folder, or ``None`` when neither ``path`` nor the variable is set (nothing done).
    Every compilation is cached (JAX's default skips those under one second).
    """
    path = path or os.environ.get(ENV_VAR) or None
    if not path or turned_off(path):
        return None
    import jax

    folder = Path(path).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"compilation cache folder {str(folder)!r} is not writable; "
                              f"unset {ENV_VAR} or choose another folder.")
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    logger.debug("JAX compilation cache: %s", folder)
    return folder
