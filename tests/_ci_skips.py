"""In CI (``CI=true``), a test skipped because an optional import is missing fails the run.

The test command installs every extra, so in CI such a skip means a dependency silently went
missing and its tests silently stopped running. Locally, skips stay skips. Use as a plugin
(``-p _ci_skips``) or import the hooks into a conftest.
"""

import os
import re

import pytest

#: skip reasons that mean "an optional package is not importable"
MISSING_IMPORT = re.compile(r"could not import|No module named|not installed|requires? the .* package",
                            re.IGNORECASE)
_FOUND: list = []


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _reason(report) -> str:
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2])
    return str(lr)


def _note(report):
    if report.skipped and _in_ci():
        reason = _reason(report)
        if MISSING_IMPORT.search(reason):
            _FOUND.append((report.nodeid, reason))


def pytest_runtest_logreport(report):
    _note(report)


def pytest_collectreport(report):
    _note(report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _FOUND and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _FOUND:
        terminalreporter.section("skipped for a missing optional import (an error with CI=true)")
        for nodeid, reason in _FOUND:
            terminalreporter.write_line(f"{nodeid}: {reason}")
