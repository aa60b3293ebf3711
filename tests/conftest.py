"""Test session setup: hermetic (nothing written outside temporary folders)."""

import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")

# Derived data (lead fields) are cached under a temporary folder for the session, never in the
# user's cache; the persistent compilation cache is off unless a test turns it on.
_CACHE = tempfile.mkdtemp(prefix="neuralmass-test-cache-")
os.environ["NEURALMASS_CACHE"] = _CACHE
os.environ.pop("NEURALMASS_COMPILATION_CACHE", None)


def pytest_unconfigure(config):
    shutil.rmtree(_CACHE, ignore_errors=True)
