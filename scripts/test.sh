#!/usr/bin/env bash
# The project's test command (README "Run the tests"): a fresh virtual environment with every
# optional extra, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[all]"
export MPLBACKEND=Agg
# layers point down only ([tool.importlinter] in pyproject.toml): a new upward import, a circle
# between layers or an import between independent siblings fails here, before the tests
.venv/bin/lint-imports --no-cache
# pyflakes and syntax errors ([tool.ruff] in pyproject.toml)
.venv/bin/ruff check src tests benchmarks scripts examples
# two worker processes (pytest-xdist), each test file on one worker so that its module fixtures
# are built once; the slowest files are handed out first (SLOWEST_FILES in tests/conftest.py), so
# the two workers finish together; pass -n 0 to run in one process
# --durations=25: the slowest tests are listed on every run; with CI=true a test skipped for a
# missing optional import fails the run (tests/_ci_skips.py)
.venv/bin/python -m pytest -q -n 2 --dist loadfile --durations=25 "$@"
