"""The study's written record: ``summary.json``, ``config.json`` (numbers with units), ``report.md``
and a self-contained ``report.html``, and the CF attributes and provenance of its NetCDF files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .stimulation import describe_block

__all__ = ["write_report", "config_with_units", "cf_dataset", "report_html"]


def config_with_units(cfg: dict) -> dict:
    """A copy of a validated study config whose numbers say their unit: times (held in ms),
    the conduction speed (mm/ms) and model parameters in the unit of the model's table
    (``"5 ms"``, ``"10 mm/ms"``, ``"0.3142 rad/s"``), as written to ``config.json`` and into the
    NetCDF files' provenance."""
    import copy

    import brainunit as u

    from ..config import TIME_KEYS
    from ..models import MODELS
    from ..units import magnitude

    out = copy.deepcopy(cfg)
    for sec, key in TIME_KEYS:
        v = out.get(sec, {}).get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[sec][key] = f"{v:g} ms"
    sp = out.get("network", {}).get("speed")
    if isinstance(sp, (int, float)) and not isinstance(sp, bool):
        out["network"]["speed"] = f"{sp:g} mm/ms"
    spec = MODELS.get(out.get("model", {}).get("name"))

    def show(p, v):
        if isinstance(v, dict):
            return {k: show(p, x) for k, x in v.items()}
        if p is None or p.unit is None:
            return v
        if isinstance(v, u.Quantity):
            v = float(magnitude(v, p.unit, p.name))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f"{v:g} {p.unit_label}"
        return v

    params = out.get("model", {}).get("params") or {}
    for name, v in list(params.items()):
        try:
            p = spec.param(name) if spec is not None else None
        except KeyError:
            p = None
        params[name] = show(p, v)
    return out


def cf_dataset(ds, title: str, cfg: dict | None, seed):
    """``ds`` with the CF attributes and the run's provenance (:func:`neuralmass.io.add_cf_attributes`)."""
    from ..io import add_cf_attributes

    return add_cf_attributes(ds, title=title, config=None if cfg is None else config_with_units(cfg),
                             seed=seed, history="simulated by `neuralmass run`")


def write_report(cfg, work: Path, summary: dict) -> None:
    """Write ``summary.json``, ``config.json``, ``report.md`` and ``report.html`` into ``work``."""
    (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    # every number with its unit ("dt": "5 ms", "omega": "0.3142 rad/s"), as a user would write it
    (work / "config.json").write_text(json.dumps(config_with_units(cfg), indent=2, default=str))
    lines = [f"# neuralmass study: {summary['study']}", "",
             f"- dataset: `{summary['dataset']}`; model: `{summary['model']}`; seed: **{summary['seed']}**",
             _subjects_line(summary.get("data", {})),
             f"- wall time: {summary.get('wall_time_s', '?')} s (simulation {summary.get('simulation_time_s', '?')} s)",
             f"- started: {summary['started']}", ""]
    if summary.get("missing"):
        lines += ["## Missing results", "",
                  "The simulation finished and its signals are saved; these steps failed after it:", ""]
        lines += [f"- **{k}**: {v}" for k, v in summary["missing"].items()] + [""]
    if summary.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in summary["warnings"]] + [""]
    if summary.get("stimulus"):
        lines += ["## Stimulation", "", "Times count from the start of the run, transient included.", ""]
        lines += [f"- {describe_block(i, e)}" for i, e in enumerate(summary["stimulus"])] + [""]
    if summary.get("data_files"):
        lines += ["## Data files", ""] + [f"- {role}: `{r['path']}` (sha256 {r['sha256'][:16]}…, {r['bytes']} bytes)"
                                          for role, r in summary["data_files"].items()] + [""]
    if "fc_correlation_group" in summary:
        subj = summary["fc_correlation_subjects"]
        lines += ["## Simulated vs empirical", "",
                  "| measure | value |", "|---|---|",
                  f"| FC correlation with the empirical group FC | {summary['fc_correlation_group']:.3f} |",
                  f"| FC correlation per subject (mean, range) | {np.mean(subj):.3f} ({min(subj):.3f} – {max(subj):.3f}) |",
                  f"| FCD KS distance (simulated vs empirical) | {summary.get('fcd_ks', float('nan')):.3f} |",
                  f"| structure–function coupling, simulated corr(SC, FC) | {summary['structure_function_coupling']:.3f} |",
                  f"| structure–function coupling, empirical corr(SC, FC) | {summary['empirical_structure_function_coupling']:.3f} |",
                  ""]
    if isinstance(summary.get("surface"), dict):
        sf = summary["surface"]
        lines += ["## Cortical surface", "",
                  f"- {sf['n_vertices']} vertices ({sf['n_region_nodes']} region nodes without vertices), "
                  f"{sf['n_triangles']} triangles; mesh `{sf['files']['mesh']}`, mapping "
                  f"`{sf['files']['region_mapping']}`",
                  f"- local coupling: {sf['files']['local']} ({sf['local_nonzeros']} non-zeros), strength "
                  f"{sf['local_strength']:g}",
                  f"- simulated {summary.get('duration_s', '?')} s in {summary.get('wall_time_s', '?')} s of wall "
                  f"time: {summary.get('brain_s_per_wall_min', '?')} s of brain time per wall minute "
                  f"(building, compilation and the outputs included; Python start-up and imports not)"]
        if "eeg" in sf:
            lines.append(f"- EEG: {sf['eeg']['sensors']} sensors, RMS {sf['eeg']['rms']:.3g} µV")
        lines += [""]
    for fig in ("surface", "connectome", "timeseries", "bold", "fc_comparison", "fcd", "eeg", "meg"):
        if (work / "figures" / f"{fig}.png").exists():
            lines += [f"![{fig}](figures/{fig}.png)", ""]
    if isinstance(summary.get("meg_eeg"), dict):
        m = summary["meg_eeg"]
        lines += ["## EEG / MEG", "", m["note"], "",
                  "| modality | sensors | unit | spectral peak (Hz) | RMS |", "|---|---|---|---|---|"]
        for k in ("eeg", "meg"):
            lines.append(f"| {k.upper()} | {m[k]['sensors']} | {m[k]['unit']} | {m[k]['peak_frequency_hz']} | {m[k]['rms']:.3g} |")
        lines.append("")
    elif "meg_eeg" in summary:
        lines += ["## EEG / MEG", "", str(summary["meg_eeg"]), ""]
    lines += ["## Configuration", "", "```json", json.dumps(cfg, indent=2, default=str), "```", "",
              "## Versions", "", "```json", json.dumps(summary["versions"], indent=2), "```", ""]
    text = "\n".join(lines)
    (work / "report.md").write_text(text)
    (work / "report.html").write_text(report_html(text, summary))


def _subjects_line(data: dict) -> str:
    """The report's line naming the subjects whose recordings were the target."""
    subj = data.get("subjects") or []
    if not subj:
        return "- empirical target: none (the data have no FC or BOLD recordings)"
    avail = data.get("n_subjects_available", len(subj))
    ids = ", ".join(f"{s} (#{i})" for s, i in zip(subj, data.get("subject_indices", [])))
    return f"- empirical target: {len(subj)} of {avail} subject(s): {ids}"


def _inline(text: str) -> str:
    """One line of the report's markdown as safe HTML: escaped, then ```code``` and ``**bold**``."""
    import html
    import re

    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def report_html(markdown: str, summary: dict) -> str:
    """The report's markdown as a self-contained HTML page.

    A minimal, safe conversion of exactly what :func:`write_report` writes (no ``markdown``
    dependency): headings, paragraphs, bulleted lists, pipe tables (first row as the header),
    images, fenced code blocks, and inline ``code`` and ``**bold**``; all text is escaped.
    """
    import html

    out, block = [], None            # block: None, 'code', 'table' (rows seen), 'list'

    def close():
        nonlocal block
        if block == "list":
            out.append("</ul>")
        elif block is not None and block != "code":
            out.append("</table>")
        block = None

    for line in markdown.splitlines():
        if block == "code":
            if line.startswith("```"):
                out.append("</code></pre>")
                block = None
            else:
                out.append(html.escape(line, quote=False))
            continue
        if line.startswith("```"):
            close()
            out.append("<pre><code>")
            block = "code"
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue                                   # the header separator row
            tag = "td"
            if not (isinstance(block, int)):
                close()
                out.append("<table>")
                block, tag = 0, "th"
            block += 1
            out.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if line.startswith("- "):
            if block != "list":
                close()
                out.append("<ul>")
                block = "list"
            out.append(f"<li>{_inline(line[2:])}</li>")
            continue
        close()
        if line.startswith("## "):
            out.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("!["):
            alt, src = line[2:line.index("]")], line[line.index("(") + 1:-1]
            out.append(f'<p><img src="{html.escape(src)}" alt="{html.escape(alt)}" '
                       f'style="max-width:900px"></p>')
        elif line:
            out.append(f"<p>{_inline(line)}</p>")
    close()
    if block == "code":
        out.append("</code></pre>")
    body = "\n".join(out)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(summary['study'])}</title>"
            "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}td,th{border:1px solid #ccc;"
            f"padding:4px 8px}}table{{border-collapse:collapse}}</style></head><body>{body}</body></html>")
