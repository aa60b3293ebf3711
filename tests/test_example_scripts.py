"""Every script in examples/ runs, as ``python examples/NAME.py`` in a fresh interpreter with the
data cache in a temporary folder and ``NEURALMASS_QUICK=1`` (the scripts shorten their runs
themselves). A file of its own so that the two workers of the test command share the slow
documentation runs (pytest-xdist gives each file to one worker)."""

import subprocess
import sys

import pytest

from test_docs_examples import EXAMPLES, _env


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_scripts_run(script, tmp_path):
    if script.name in ("multimodal.py", "jr_inference.py"):
        pytest.importorskip("tvb_data", reason=f"{script.name} uses TVB's head model")
    if script.name == "jr_inference.py":
        pytest.importorskip("flowjax", reason="inference extra")

    args = ["--out", str(tmp_path / "out")] if "--out" in script.read_text() else []
    r = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{script.name}:\n{r.stderr[-4000:]}"
