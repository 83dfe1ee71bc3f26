"""Reports of validation and sensitivity folders (written by ``sim validate`` and ``sim sensitivity``).

These folders hold figures and a table of statistics rather than runs of scenarios, so their
report is simpler than an experiment's: provenance, every figure the folder holds (with its
caption, from :data:`sim.analysis.figures.CAPTIONS`) and the statistics table, as one
self-contained ``report.html`` and a ``report.md``.
"""

from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path

import pandas as pd

from sim.errors import ResultsError
from sim.experiments.store import read_manifest

KINDS = {"validation": ("statistics.csv", "Validation against observed data"),
         "sensitivity": ("indices.csv", "Global sensitivity analysis")}
"""Manifest kinds this module reports on: the table each holds and the report's title."""

_STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}h1{font-size:1.7em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:1em 0}td,th{padding:.25em .6em;border-bottom:1px solid #eee;
text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}
img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.9em;color:#444}
.prov td{text-align:left}"""


def is_analysis_folder(folder: str | Path) -> bool:
    """True when ``folder`` is a validation or sensitivity folder."""
    return read_manifest(folder).get("kind") in KINDS


def _table(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        return pd.DataFrame()
    frame = pd.read_csv(path)
    for column in frame.select_dtypes("float").columns:
        frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
    return frame.fillna("")


def build_analysis_report(results: str | Path, out: str | Path | None = None) -> Path:
    """``build_analysis_report(folder)`` -> the report folder (default ``<folder>/report``).

    Raises:
        ResultsError: when the folder is not a validation or sensitivity folder, or holds no figure.
    """
    from sim.analysis.figures import report_figures

    folder = Path(results)
    manifest = read_manifest(folder)
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise ResultsError(f"{folder}: not a validation or sensitivity folder (manifest kind {kind!r})")
    figures = report_figures(folder)
    if not figures:
        raise ResultsError(f"{folder}: holds no figures to report (expected them under {folder / 'figures'})")
    table_name, title = KINDS[kind]
    table = _table(folder, table_name)
    out = Path(out) if out is not None else folder / "report"
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for path, _, _ in figures:
        shutil.copyfile(path, out / "figures" / path.name)
        svg = path.with_suffix(".svg")
        if svg.is_file():
            shutil.copyfile(svg, out / "figures" / svg.name)

    provenance = [(key, manifest[key]) for key in ("kind", "method", "scenario_file", "created",
                                                   "package_version", "git_commit", "python", "mesa")
                  if manifest.get(key) not in (None, "")]
    esc = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{esc(title)}</h1>",
             f"<p>Results folder <code>{esc(str(folder))}</code>.</p><h2>Provenance</h2><table class='prov'>"]
    parts += [f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>" for k, v in provenance]
    parts.append("</table><h2>Figures</h2>")
    md = [f"# {title}", "", f"Results folder `{folder}`.", "", "## Provenance", "", "| | |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in provenance]
    md += ["", "## Figures", ""]
    for number, (path, fig_title, caption) in enumerate(figures, start=1):
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<figure><img alt='{esc(fig_title)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption><b>Figure {number}. {esc(fig_title)}.</b> {esc(caption)}</figcaption></figure>")
        md += [f"![{fig_title}](figures/{path.name})", "", f"**Figure {number}. {fig_title}.** {caption}", ""]
    if not table.empty:
        parts.append(f"<h2>Table: {esc(table_name)}</h2>" + table.to_html(index=False, border=0, escape=True))
        md += [f"## Table: {table_name}", "", table.to_markdown(index=False) if _has_tabulate() else
               "```\n" + table.to_string(index=False) + "\n```", ""]
    parts.append("</body></html>")
    (out / "report.html").write_text("".join(parts), encoding="utf-8")
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    return out


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
