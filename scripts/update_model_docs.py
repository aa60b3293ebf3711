"""Rewrite the model table of docs/models.md and the model count of README.md from the registry.

The table between ``<!-- models-table:start -->`` and ``<!-- models-table:end -->`` in
docs/models.md has one row per entry of :data:`neuralmass.models.REGISTRY` (model, module
class, states, coupled variable → input, category, reference), read from the model tables; the
README's "N models (...)" phrase lists the same names. ``tests/test_models.py`` fails when either
is stale, so adding a model (one file + one registry line) ends with

    PYTHONPATH=src python scripts/update_model_docs.py
"""

from __future__ import annotations

import pathlib
import re

from neuralmass.models import MODULES, REGISTRY

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "models.md"
README = ROOT / "README.md"
START, END = "<!-- models-table:start -->", "<!-- models-table:end -->"
README_PHRASE = re.compile(r"\d+ models \([^)]*\)")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_table() -> str:
    """The Markdown table of every registered model, in registry order."""
    lines = ["| model | module | states | coupling (variable → input) | category | reference |",
             "|---|---|---|---|---|---|"]
    for table, *_ in REGISTRY:
        cls = MODULES[table.name].__name__
        lines.append(f"| `{table.name}` | `nm.{cls}` | {', '.join(table.state_names)} | "
                     f"`{table.coupled_var}` → `{table.coupling_input}` | {table.category} | "
                     f"{_cell(table.reference)} |")
    return "\n".join(lines)


def readme_phrase() -> str:
    """``"N models (A, B, ...)"``: the README's summary of the registry."""
    return f"{len(REGISTRY)} models ({', '.join(table.name for table, *_ in REGISTRY)})"


def updated_doc(text: str) -> str:
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{render_table()}\n{END}{tail}"


def updated_readme(text: str) -> str:
    text, n = README_PHRASE.subn(readme_phrase(), text)
    if n != 1:
        raise SystemExit("README.md: the phrase 'N models (...)' was not found exactly once")
    return text


def main():
    DOC.write_text(updated_doc(DOC.read_text()))
    README.write_text(updated_readme(README.read_text()))
    print(f"docs/models.md and README.md: {len(REGISTRY)} models")


if __name__ == "__main__":
    main()
