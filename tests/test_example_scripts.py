"""Every script in examples/ runs, as ``python examples/NAME.py`` would run it (in the long-lived
interpreter of test_docs_examples.ScriptRunner) with the current folder in a temporary folder and
``NEURALMASS_QUICK=1`` (the scripts shorten their runs
themselves). A file of its own so that the two workers of the test command share the slow
documentation runs (pytest-xdist gives each file to one worker)."""

import pytest

from test_docs_examples import EXAMPLES, script_runner  # noqa: F401 - the fixture


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_scripts_run(script, tmp_path, script_runner):  # noqa: F811
    if script.name in ("multimodal.py", "jr_inference.py"):
        pytest.importorskip("tvb_data", reason=f"{script.name} uses TVB's head model")
    if script.name == "jr_inference.py":
        pytest.importorskip("flowjax", reason="inference extra")

    args = ["--out", str(tmp_path / "out")] if "--out" in script.read_text() else []
    ok, error = script_runner.run(script, tmp_path, args)
    assert ok, f"{script.name}:\n{error}"
