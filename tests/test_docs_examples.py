"""Every Python code block of README.md and docs/*.md runs (the scripts in examples/: test_example_scripts.py).

Each markdown file's blocks run in order as one script (later blocks use earlier names), each
example script as ``python examples/NAME.py`` would run it, all with the current folder in a
temporary folder. The scripts run in one long-lived interpreter per test file
(``tests/_script_runner.py``: each script as ``__main__`` in a fresh namespace, with what it
changes in the process put back afterwards), so the imports and what an earlier page compiled
are paid once, not once per page; set ``NEURALMASS_TEST_FRESH_INTERPRETER=1`` to run each in a
fresh interpreter instead. The environment switch ``NEURALMASS_QUICK=1`` shortens the
runs: example scripts read it themselves, and a code block may be preceded by a comment
``<!-- quick: OLD => NEW; OLD2 => NEW2 -->`` whose replacements are applied to it under the
switch (the page shows the real values). ``<!-- no-run: REASON -->`` before a block skips it;
``<!-- requires: MODULE -->`` skips it when an optional package is not installed.
"""

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
_BLOCK = re.compile(r"((?:<!--[^\n]*-->\n)*)```python\n(.*?)```", re.S)
_QUICK = re.compile(r"<!--\s*quick:(.*?)-->")
_NORUN = re.compile(r"<!--\s*no-run:(.*?)-->")
_REQUIRES = re.compile(r"<!--\s*requires:(.*?)-->")


def _importable(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is not None


def code_blocks(page: Path, quick: bool = True) -> list[tuple[int, str]]:
    """(line, code) of each runnable python block of ``page``, with its quick replacements."""
    text = page.read_text()
    out = []
    for m in _BLOCK.finditer(text):
        comments, code = m.group(1), m.group(2)
        if _NORUN.search(comments):
            continue
        needs = [m.strip() for spec in _REQUIRES.findall(comments) for m in spec.split(",")]
        if not all(_importable(m) for m in needs):
            continue
        for spec in _QUICK.findall(comments) if quick else []:
            for pair in spec.split(";"):
                old, new = (s.strip() for s in pair.split("=>"))
                assert old in code, f"{page.name}: quick replacement {old!r} not in its block"
                code = code.replace(old, new)
        out.append((text[:m.start(2)].count("\n") + 1, code))
    return out


def _env(tmp_path):
    env = dict(os.environ, NEURALMASS_QUICK="1", MPLBACKEND="Agg",
               NEURALMASS_CACHE=os.environ.get("NEURALMASS_CACHE", str(tmp_path / "cache")))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


class ScriptRunner:
    """Runs scripts in one long-lived interpreter (``tests/_script_runner.py``), or each in a fresh
    one with ``NEURALMASS_TEST_FRESH_INTERPRETER=1``; restarted after a crash or a time-out."""

    RUNNER = Path(__file__).with_name("_script_runner.py")

    def __init__(self, env, log_dir: Path):
        self.env, self.log_dir, self.proc = env, log_dir, None
        self.fresh = os.environ.get("NEURALMASS_TEST_FRESH_INTERPRETER", "") not in ("", "0")

    def _start(self):
        self.log = open(self.log_dir / "runner_stderr.txt", "a")
        self.proc = subprocess.Popen([sys.executable, str(self.RUNNER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, env=self.env)

    def run(self, script: Path, cwd: Path, argv=(), timeout: float = 900) -> tuple[bool, str]:
        if self.fresh:
            r = subprocess.run([sys.executable, str(script), *argv], cwd=cwd, env=self.env,
                               capture_output=True, text=True, timeout=timeout)
            return r.returncode == 0, r.stderr[-4000:]
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps({"script": str(script), "cwd": str(cwd), "argv": list(argv)}) + "\n")
        self.proc.stdin.flush()
        reply = []
        reader = threading.Thread(target=lambda: reply.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not reply or not reply[0]:
            self.close()        # timed out or crashed: the next script gets a new interpreter
            log = (self.log_dir / "runner_stderr.txt").read_text()[-4000:]
            return False, f"the runner died or timed out after {timeout} s:\n{log}"
        result = json.loads(reply[0])
        return result["ok"], result["error"]

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            self.proc = None


@pytest.fixture(scope="module")
def script_runner(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runner")
    runner = ScriptRunner(_env(folder), folder)
    yield runner
    runner.close()


def test_every_page_has_its_blocks_found():
    found = {p.name: len(code_blocks(p)) for p in PAGES}
    assert found["README.md"] >= 1 and sum(found.values()) >= 15, found


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_markdown_code_blocks_run(page, tmp_path, script_runner):
    blocks = code_blocks(page)
    if not blocks:
        pytest.skip("no python blocks")
    script = "\n".join(f"# --- {page.name}, line {line}\n{code}" for line, code in blocks)
    (tmp_path / "blocks.py").write_text(script)
    ok, error = script_runner.run(tmp_path / "blocks.py", tmp_path)
    assert ok, f"{page.name}:\n{error}"


def test_runner_isolates_scripts_and_reports_failures(tmp_path):
    """What a script changes in the long-lived interpreter is put back before the next one, and a
    failing script is reported with its traceback (the harness of the two tests above)."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "s.py").write_text(
        "import os, sys, jax\n"
        "jax.config.update('jax_enable_x64', True)\n"
        "os.environ['NEURALMASS_RUNNER_PROBE'] = '1'\n"
        "sys.argv.append('extra')\n"
        "os.chdir('/')\n"
        "print('to stdout.txt')\n"
        "raise RuntimeError('probe failure')\n")
    (second / "s.py").write_text(
        "import os, sys, jax\n"
        "assert __name__ == '__main__'\n"
        "assert not jax.config.jax_enable_x64\n"
        "assert 'NEURALMASS_RUNNER_PROBE' not in os.environ\n"
        "assert sys.argv[1:] == ['--flag'], sys.argv\n"
        f"assert os.getcwd() == {str(second)!r}, os.getcwd()\n"
        "x = 1\n")
    runner = ScriptRunner(_env(tmp_path), tmp_path)
    runner.fresh = False
    try:
        ok, error = runner.run(first / "s.py", first)
        assert not ok and "RuntimeError: probe failure" in error
        assert (first / "stdout.txt").read_text() == "to stdout.txt\n"
        ok, error = runner.run(second / "s.py", second, ["--flag"])
        assert ok, error
    finally:
        runner.close()
