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


# Two workers (scripts/test.sh: -n 2 --dist loadfile) each take whole files from a queue. By
# default pytest-xdist orders that queue by the number of tests in a file, so the few-but-slow
# files (the documentation and example runs, a handful of tests each) were handed out last and one
# worker ran on alone at the end. Longest file first instead (the classic longest-processing-time
# rule): the files below, slowest first (their times in the test command's --durations list and
# CPU seconds measured one file at a time), then every other file, those with more tests first (as
# pytest-xdist would). A new slow file belongs in this list.
SLOWEST_FILES = (                 # seconds in the --durations list of a full run (2026-12-06, 2 cores)
    "test_example_scripts.py",    # 168 (the scripts in one long-lived interpreter)
    "test_docs_examples.py",      # 155
    "test_inference.py",          # 181, of which its quick study runs in a background process
    "test_explore.py",            # 143
    "test_float64.py",            # 77
    "test_engine.py",             # 48
    "test_fit_cli.py",
    "test_fit.py",
    "test_gradient_checks.py",
    "test_study.py",
    "test_program_cache.py",
    "test_gradients.py",
)


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):      # pytest-xdist installed
        config.option.loadscopereorder = False          # keep the order set below


def pytest_collection_modifyitems(config, items):
    from collections import Counter

    rank = {name: i for i, name in enumerate(SLOWEST_FILES)}
    n_tests = Counter(item.path for item in items)
    # stable sort, one key per file: each file's tests stay together and in their order
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), -n_tests[item.path]))
