"""Every Python code block of README.md and docs/*.md runs (the scripts in examples/: test_example_scripts.py).

Each markdown file's blocks run in order in one fresh interpreter (later blocks use earlier
names), each example script as ``python examples/NAME.py``, all with the current folder and the
data cache in a temporary folder. The environment switch ``NEURALMASS_QUICK=1`` shortens the
runs: example scripts read it themselves, and a code block may be preceded by a comment
``<!-- quick: OLD => NEW; OLD2 => NEW2 -->`` whose replacements are applied to it under the
switch (the page shows the real values). ``<!-- no-run: REASON -->`` before a block skips it;
``<!-- requires: MODULE -->`` skips it when an optional package is not installed.
"""

import os
import re
import subprocess
import sys
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


def test_every_page_has_its_blocks_found():
    found = {p.name: len(code_blocks(p)) for p in PAGES}
    assert found["README.md"] >= 1 and sum(found.values()) >= 15, found


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_markdown_code_blocks_run(page, tmp_path):
    blocks = code_blocks(page)
    if not blocks:
        pytest.skip("no python blocks")
    script = "\n".join(f"# --- {page.name}, line {line}\n{code}" for line, code in blocks)
    (tmp_path / "blocks.py").write_text(script)
    r = subprocess.run([sys.executable, "blocks.py"], cwd=tmp_path, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{page.name}:\n{r.stderr[-4000:]}"
