"""tests/_ci_skips.py: with CI=true a skip for a missing optional import fails the run; other
skips, and every skip outside CI, do not."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _pytest(tmp_path, body, ci):
    (tmp_path / "test_x.py").write_text(body)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    env.pop("PYTEST_ADDOPTS", None)
    env["CI"] = "true" if ci else ""
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "_ci_skips", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_x.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


MISSING = ("import pytest\n\ndef test_a():\n    pytest.importorskip('no_such_module_xyz')\n\n"
           "def test_b():\n    pass\n")
MODULE = "import pytest\npytest.importorskip('no_such_module_xyz')\n\ndef test_a():\n    pass\n"
OTHER = "import pytest\n\n@pytest.mark.skip(reason='needs a GPU')\ndef test_a():\n    pass\n\ndef test_b():\n    pass\n"


@pytest.mark.parametrize("ci, code", [(True, 1), (False, 0)])
def test_missing_import_skip_fails_only_in_ci(tmp_path, ci, code):
    r = _pytest(tmp_path, MISSING, ci)
    assert r.returncode == code, r.stdout + r.stderr
    if ci:
        assert "no_such_module_xyz" in r.stdout


def test_other_skips_pass_in_ci(tmp_path):
    r = _pytest(tmp_path, OTHER, True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_module_level_missing_import_fails_in_ci(tmp_path):
    r = _pytest(tmp_path, MODULE, True)
    assert r.returncode == 1, r.stdout + r.stderr
