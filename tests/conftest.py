"""Test session setup: hermetic (nothing written outside temporary folders)."""

import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")

# with CI=true, a skip for a missing optional import fails the run (tests/_ci_skips.py)
from _ci_skips import (pytest_collectreport, pytest_runtest_logreport,  # noqa: E402,F401
                       pytest_sessionfinish, pytest_terminal_summary)

# Derived data (lead fields) and the engine's compiled programs are cached under a temporary
# folder for the session, never in the user's cache; JAX's own persistent cache is off unless a
# test turns it on. With pytest-xdist the workers share the controller's folder (both stores
# write atomically), and only the process that made it removes it.
_SHARED = "NEURALMASS_TEST_SESSION_CACHE"
_OWNER = not (os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get(_SHARED))
if _OWNER:
    os.environ[_SHARED] = tempfile.mkdtemp(prefix="neuralmass-test-cache-")
_CACHE = os.environ[_SHARED]
os.environ["NEURALMASS_CACHE"] = _CACHE
os.environ.pop("NEURALMASS_COMPILATION_CACHE", None)


def pytest_unconfigure(config):
    if _OWNER:
        shutil.rmtree(_CACHE, ignore_errors=True)
