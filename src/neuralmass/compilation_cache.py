"""Opt-in persistent JAX compilation cache: compiled simulations reused across processes.

Every new process compiles its simulation again (seconds for a delayed network). With the cache
on, XLA executables are stored in a folder and a later process with the same shapes loads them.
Off by default (the folder grows with every new shape); turn it on with the environment variable
``NEURALMASS_COMPILATION_CACHE=/path/to/folder`` or a study config's
``simulation.compilation_cache = "/path/to/folder"``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["enable_compilation_cache", "ENV_VAR"]

ENV_VAR = "NEURALMASS_COMPILATION_CACHE"
logger = logging.getLogger("neuralmass")


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Store compiled XLA executables in ``path`` (default: ``$NEURALMASS_COMPILATION_CACHE``).

    Returns the folder, or ``None`` when neither ``path`` nor the variable is set (nothing done).
    Every compilation is cached (JAX's default skips those under one second).
    """
    path = path or os.environ.get(ENV_VAR) or None
    if not path:
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
