"""Rewrite the generated parts of docs/brainmass.md from the brainmass 0.1.1 fixture.

The coverage sentence ("neuralmass provides N of the M public names") and the block between
``<!-- missing-names:start -->`` and ``<!-- missing-names:end -->`` are computed by
:func:`neuralmass.compat.coverage`; ``tests/test_brainmass_compat.py`` fails when they are stale.

    PYTHONPATH=src python scripts/update_brainmass_docs.py
"""

from __future__ import annotations

import json
import pathlib
import re

from neuralmass.compat import coverage

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "brainmass.md"
FIX = ROOT / "tests" / "fixtures" / "brainmass_0_1_1.json"
START, END = "<!-- missing-names:start -->", "<!-- missing-names:end -->"


def render(fixture: dict) -> tuple[int, str]:
    ok, missing = coverage(fixture)
    kinds = fixture["kinds"]
    partial = {n: bad for n, bad in missing.items() if bad is not None}
    absent = sorted(n for n, bad in missing.items() if bad is None and kinds.get(n) != "module")
    modules = sorted(n for n, bad in missing.items() if bad is None and kinds.get(n) == "module")
    lines = []
    if partial:
        lines += ["**Present, but brainmass keywords not taken** (the keywords in brackets):", ""]
        lines += [f"- `{n}` ({', '.join(bad)})" for n, bad in sorted(partial.items())]
        lines.append("")
    if absent:
        lines += ["**Absent** — classes and functions:", "", ", ".join(f"`{n}`" for n in absent), ""]
    if modules:
        lines += ["**Absent** — brainmass's implementation modules (`brainmass.hopf`, ...; aliased by "
                  "the table `neuralmass.compat.modules.BRAINMASS_MODULES`):", "",
                  ", ".join(f"`{n}`" for n in modules)]
    if not lines:
        lines = ["None: every public name of brainmass 0.1.1 is provided with brainmass's keyword names."]
    return len(ok), "\n".join(lines).rstrip("\n")


def main():
    fixture = json.loads(FIX.read_text())
    n_ok, block = render(fixture)
    text = DOC.read_text()
    head, rest = text.split(START)
    _, tail = rest.split(END)
    text = f"{head}{START}\n{block}\n{END}{tail}"
    text, n = re.subn(r"provides \d+ of the \d+ public names",
                      f"provides {n_ok} of the {len(fixture['names'])} public names", text)
    if n != 1:
        raise SystemExit("docs/brainmass.md: the coverage sentence was not found exactly once")
    DOC.write_text(text)
    print(f"docs/brainmass.md: {n_ok} of {len(fixture['names'])} names provided")


if __name__ == "__main__":
    main()
