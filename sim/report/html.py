"""The report as pages: ``report.html`` (self-contained, figures embedded) and ``report.md``.

Both are built from one :class:`ReportContext` and share the same sections in the same order:
at a glance, about these results (runs present, provenance), the figures by theme, the tables,
methods, runs and seeds. The page skeleton and its styles are package data in
``sim/report/templates/`` (``report.html``, a :class:`string.Template`, and ``report.css``).
"""

from __future__ import annotations

import base64
import html
import struct
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.report import tables as T
from sim.report.figures import DPI, SECTIONS, FigureFile

if TYPE_CHECKING:
    from sim.report import ReportData

GLANCE_METRICS: tuple[str, ...] = ("gini", "gdp_cny_bn", "research_output", "interior_research_share")
"""Columns of the at-a-glance table (level and, where there is a reference, the relative difference)."""

SEED_ROWS_MAX = 2000
"""At most this many runs are listed in the runs-and-seeds appendix."""


@dataclass
class ReportContext:
    """Everything a page needs."""

    data: ReportData
    figures: list[FigureFile]
    end_year: pd.DataFrame
    comparison: pd.DataFrame
    events: pd.DataFrame


def _template(name: str) -> str:
    return resources.files("sim.report").joinpath("templates", name).read_text(encoding="utf-8")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _title(ctx: ReportContext) -> str:
    return f"Report: {ctx.data.provenance['experiment']}"


def _years(ctx: ReportContext) -> str:
    years = ctx.data.national["year"]
    return f"{int(years.min())}-{int(years.max())}"


def _subtitle(ctx: ReportContext) -> str:
    p = ctx.data.provenance
    kind = "experiment" if p["kind"] == "batch" else "single run"
    text = (f"{kind.capitalize()} of {len(ctx.data.groups)} scenario(s), {_years(ctx)}; "
            f"{ctx.data.completeness.summary()}.")
    if p.get("description"):
        text = f"{p['description']}. {text}"
    return text


# --------------------------------------------------------------------------------------------------
# shared content


def _glance_rows(ctx: ReportContext) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Header and rows (cell text, css class) of the at-a-glance table."""
    data = ctx.data
    end = ctx.end_year.set_index(["group", "metric"]) if not ctx.end_year.empty else pd.DataFrame()
    comp = ctx.comparison.set_index(["group", "metric"]) if not ctx.comparison.empty else pd.DataFrame()
    metrics = [m for m in GLANCE_METRICS if not end.empty and m in end.index.get_level_values("metric")]
    with_reference = not comp.empty
    header = ["scenario", "runs"]
    for m in metrics:
        header.append(T.METRICS[m].short or T.METRICS[m].heading)
        if with_reference:
            header.append("vs baseline")
    rows = []
    runs = data.national.groupby("group")["run_id"].nunique()
    for group in data.groups:
        row = [(group, "name"), (str(int(runs.get(group, 0))), "num")]  # name: swatch added by the HTML writer
        for m in metrics:
            value = end["mean"].get((group, m), np.nan)
            row.append((T._number(value, T.METRICS[m].decimals), "num"))
            if with_reference:
                if (group, m) in comp.index:
                    r = comp.loc[(group, m)]
                    text = T.format_relative(r["relative"])
                    if np.isfinite(r["p_adjusted"]) and r["p_adjusted"] < 0.05:
                        text += " *"
                    row.append((text, "num"))
                else:
                    row.append(("reference" if data.reference.get(group) == group else "–", "num"))
        rows.append(row)
    return header, rows


def _methods(ctx: ReportContext) -> list[str]:
    """Paragraphs of the methods section (plain text with `code` marks)."""
    n = ctx.data.national.groupby("group")["run_id"].nunique()
    paragraphs = [
        "Each scenario was run several times (replicates) with independent random streams spawned from the "
        "experiment's root seed. Unless stated otherwise a figure or table shows the mean across replicates; "
        "a 95 % interval of a mean is the Student-t confidence interval (mean ± t(0.975, n−1)·s/√n).",
        "End-year values are those of each run's last recorded year. Money is in CNY at start-year prices; "
        "research output is counted in SCI-paper equivalents per year; inequality indices are computed over "
        "provincial GDP per capita, weighted by population.",
    ]
    if not ctx.comparison.empty:
        m = len(ctx.comparison)
        floor = T.smallest_rank_p(int(n.min()), int(n.min()))
        paragraphs += [
            "Comparison with baseline: for every scenario and metric, the difference of end-year means "
            f"(scenario − baseline) with a percentile bootstrap 95 % interval ({T.BOOTSTRAP_RESAMPLES:,} "
            f"resamples, each scenario resampled independently, fixed seed {T.BOOTSTRAP_SEED}, so the report "
            "is reproducible), and the two-sided Mann-Whitney U rank test (`scipy.stats.mannwhitneyu`, exact "
            "for small samples without ties).",
            f"Multiple comparisons: the {m} p-values of the comparison table are corrected together with the "
            f"{T.CORRECTION} method (family-wise error rate 5 %); a difference is marked significant when its "
            f"Holm-adjusted p-value is below 0.05. With {int(n.min())} replicates per scenario the smallest "
            f"p-value a rank test can give is {floor:.3g}, so more replicates are needed to detect small "
            "differences.",
        ]
    return paragraphs


def _provenance_rows(ctx: ReportContext) -> list[tuple[str, str | list[str]]]:
    """(label, value) rows; a value may be a list of lines."""
    p = ctx.data.provenance
    files = p.get("scenario_files") or {}
    rows = [
        ("Experiment", p["experiment"]),
        ("Kind", "batch experiment" if p["kind"] == "batch" else "single run"),
    ]
    if p.get("experiment_file"):
        rows.append(("Experiment file", p["experiment_file"]))
    rows.append(("Scenario files", [f"{k}: {v or '(built-in defaults)'}" for k, v in files.items()] or "–"))
    if ctx.data.sweep_columns:
        rows.append(("Swept parameters", ", ".join(c.replace("__", ".") for c in ctx.data.sweep_columns)))
    rows += [
        ("Replicates", str(p.get("replicates") if p.get("replicates") is not None else "–")),
        ("Root seed", str(p.get("root_seed") if p.get("root_seed") is not None else "–")),
        ("Runs", ctx.data.completeness.summary()),
        ("Years", _years(ctx)),
        ("Package version", str(p.get("package_version") or "–")),
        ("Git commit", str(p.get("git_commit") or "–")),
        ("Results created", str(p.get("created") or "–")),
        ("Results folder", p["results_folder"]),
        ("Report built", f"{p['report_built']} with sim {p['report_version']} (commit {p['report_commit']})"),
    ]
    if p.get("python") or p.get("mesa"):
        rows.append(("Python / Mesa", f"{p.get('python') or '–'} / {p.get('mesa') or '–'}"))
    return rows


def _completeness_messages(ctx: ReportContext) -> list[tuple[str, str]]:
    """(level, text) callouts: partial results first, then notes."""
    c = ctx.data.completeness
    out = []
    if not c.is_complete:
        text = (f"Partial results: {c.summary()}. This report covers the {len(c.complete)} complete run(s) only; "
                "scenarios with fewer runs have wider intervals.")
        out.append(("warning", text))
        runs = ctx.data.runs
        for run_id, error in sorted(c.failed.items())[:20]:
            first = error.strip().splitlines()[0] if error.strip() else "failed"
            label = ""
            if not runs.empty and {"run_id", "scenario"} <= set(runs.columns):
                row = runs[runs["run_id"].astype(int) == run_id]
                if not row.empty:
                    replicate = f", replicate {row['replicate'].iloc[0]}" if "replicate" in row else ""
                    label = f" ({row['scenario'].iloc[0]}{replicate})"
            out.append(("warning", f"Run {run_id}{label} failed: {first[:300]}"))
        if len(c.failed) > 20:
            out.append(("warning", f"... and {len(c.failed) - 20} more failed runs (see the runs table)."))
    out += [("note", note) for note in ctx.data.notes]
    return out


def _seeds(ctx: ReportContext) -> pd.DataFrame:
    seeds = ctx.data.provenance.get("seeds")
    if seeds is None or seeds.empty:
        return pd.DataFrame()
    return seeds.head(SEED_ROWS_MAX)


def _figure_sections(ctx: ReportContext) -> list[tuple[str, str, list[FigureFile]]]:
    out = []
    for key, heading in SECTIONS.items():
        figs = [f for f in ctx.figures if f.section == key]
        if figs or key == "adoption":
            out.append((key, heading, figs))
    return out


def _no_comparison(ctx: ReportContext) -> str:
    """Why there is no comparison table (text with `code` marks)."""
    if "baseline" not in set(ctx.data.national["scenario"]):
        return ("No comparison: these results have no complete run of a scenario named `baseline`, the "
                "reference every other scenario is compared with.")
    return "No comparison: these results hold no scenario other than `baseline` to compare with it."


def _power_note(tests: int, replicates: int) -> str:
    """A warning when no difference can pass the correction with this many replicates, else ""."""
    if T.smallest_rank_p(replicates, replicates) * tests < 0.05:
        return ""
    needed = T.replicates_needed(tests)
    return (f"With {replicates} replicate(s) per scenario and {tests} tests, no difference can be significant "
            f"after the {T.CORRECTION} correction (the smallest possible rank-test p-value, "
            f"{T.smallest_rank_p(replicates, replicates):.3g}, times {tests} is above 0.05). Run at least "
            f"{needed} replicates per scenario to be able to detect a difference; meanwhile read the bootstrap "
            "intervals.")


# --------------------------------------------------------------------------------------------------
# HTML


def _html_table(header: list[str], rows: list[list[tuple[str, str]]], caption: str = "",
                row_classes: list[str] | None = None, table_class: str = "") -> str:
    head = "".join(f'<th class="{"num" if cls == "num" else ""}">{_e(h)}</th>'
                   for h, (_, cls) in zip(header, rows[0] if rows else [("", "")] * len(header), strict=False))
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="{c}">{text}</td>' for text, c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    cap = f'<p class="table-caption">{caption}</p>' if caption else ""
    klass = f' class="{table_class}"' if table_class else ""
    return (f'{cap}<div class="table-wrap"><table{klass}><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _swatch(ctx: ReportContext, group: str) -> str:
    """The group's colour square and its name (which may break after an underscore, never after the square)."""
    words = _e(group).split("_")
    head = words[0] + ("_" if len(words) > 1 else "")
    rest = "_<wbr>".join(words[1:])
    return (f'<span class="tag"><span class="swatch" style="background:{ctx.data.colours[group]}"></span>'
            f'{head}</span>{"<wbr>" + rest if rest else ""}')


def _code(text: str) -> str:
    """Escape ``text`` and turn `backticks` into <code>."""
    parts = _e(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _html_figure(fig: FigureFile, number: int) -> str:
    payload = fig.png.read_bytes()
    encoded = base64.b64encode(payload).decode("ascii")
    # shown at its printed size (150 dpi PNG on a 96 px-per-inch page), so type looks alike in every figure
    width, height = struct.unpack(">II", payload[16:24])
    scale = 96 / DPI
    size = f'width="{round(width * scale)}" height="{round(height * scale)}"'
    return (f'<figure id="fig-{_e(fig.name)}"><img src="data:image/png;base64,{encoded}" alt="{_e(fig.title)}" '
            f'{size} loading="eager"><figcaption><span class="label">Figure {number}. {_e(fig.title)}.</span> '
            f'{_e(fig.caption)} <span class="files">Files: <a href="figures/{_e(fig.png.name)}">PNG</a>, '
            f'<a href="figures/{_e(fig.svg.name)}">SVG</a>.</span></figcaption></figure>')


def _end_year_html(ctx: ReportContext) -> str:
    table = ctx.end_year
    if table.empty:
        return "<p>No end-year values.</p>"
    groups = [g for g in ctx.data.groups if g in set(table["group"])]
    metrics = [m for m in T.END_YEAR_METRICS if m in set(table["metric"])]
    indexed = table.set_index(["group", "metric"])
    header = ["metric", *groups]
    rows = []
    for m in metrics:
        metric = T.METRICS[m]
        row = [(_e(metric.short or metric.heading), "name")]
        for g in groups:
            r = indexed.loc[(g, m)]
            cell = T._number(r["mean"], metric.decimals)
            if np.isfinite(r["low"]):
                cell += (f"<small>[{T._number(r['low'], metric.decimals)}, "
                         f"{T._number(r['high'], metric.decimals)}]</small>")
            row.append((cell, "num"))
        rows.append(row)
    year = ", ".join(sorted(set(table["year"])))
    html_header = _html_table(header, rows, caption=(
        f"End year ({_e(year)}): mean across replicates and, below it, the 95 % confidence interval of the "
        "mean (Student t)."))
    # scenario names with their colour swatch in the header
    for g in groups:
        html_header = html_header.replace(f'<th class="num">{_e(g)}</th>', f'<th class="num">{_swatch(ctx, g)}</th>', 1)
    return html_header


def _comparison_html(ctx: ReportContext) -> str:
    if ctx.comparison.empty:
        return f'<p class="callout">{_code(_no_comparison(ctx))}</p>'
    formatted = T.format_comparison(ctx.comparison)
    header = [c for c in formatted.columns if c != "significant"]
    rows, classes = [], []
    previous = None
    for record in formatted.to_dict("records"):
        row = []
        for c in header:
            text = _e(record[c])
            if c == "scenario":
                text = _swatch(ctx, record[c]) if record[c] != previous else ""
            row.append((text, "name" if c in ("scenario", "metric") else "num"))
        rows.append(row)
        klass = []
        if record["significant"] == "yes":
            klass.append("sig")
        if record["scenario"] != previous and previous is not None:
            klass.append("group-start")
        classes.append(" ".join(klass))
        previous = record["scenario"]
    m = len(ctx.comparison)
    n_min = int(min(ctx.comparison["n"].min(), ctx.comparison["n_reference"].min()))
    guidance = _power_note(m, n_min)
    caption = (f"Each scenario against baseline at the end year: difference of means (scenario − baseline) with "
               f"its bootstrap 95 % interval, the Mann-Whitney U p-value and that p-value after the "
               f"{T.CORRECTION} correction over all {m} tests of this table. Rows in bold: adjusted p < 0.05.")
    note = f'<div class="callout"><p>{_e(guidance)}</p></div>' if guidance else ""
    return note + _html_table(header, rows, caption=caption, row_classes=classes)


def _events_html(ctx: ReportContext) -> str:
    events = ctx.events
    if events.empty:
        return "<p>No event fired in any run.</p>"
    header = ["scenario", *[str(c) for c in events.columns]]
    rows = [[(_swatch(ctx, g), "")] + [(f"{v:.1f}", "num") for v in events.loc[g]] for g in events.index]
    return _html_table(header, rows, caption="Events that fired: mean number per run, by type.")


def render_html(ctx: ReportContext) -> str:
    """The report page: one HTML file, figures embedded as base64 PNG, styles inline."""
    data = ctx.data
    toc: list[str] = []
    body: list[str] = []

    def section(anchor: str, heading: str, content: str, children: list[tuple[str, str]] = ()) -> None:
        sub = "".join(f'<li><a href="#{a}">{_e(h)}</a></li>' for a, h in children)
        toc.append(f'<li><a href="#{anchor}">{_e(heading)}</a>{f"<ol>{sub}</ol>" if sub else ""}</li>')
        body.append(f'<section id="{anchor}"><h2>{_e(heading)}</h2>{content}</section>')

    header, rows = _glance_rows(ctx)
    for row in rows:
        row[0] = (_swatch(ctx, row[0][0]), "name")
    glance_caption = "End-year means across replicates."
    if not ctx.comparison.empty:
        glance_caption += (" “vs baseline”: relative difference of the means; * marks a difference that remains "
                           f"significant after the {T.CORRECTION} correction (see the comparison table).")
    callouts = "".join(f'<div class="callout {level}"><p>{_e(text)}</p></div>'
                       for level, text in _completeness_messages(ctx))
    section("glance", "At a glance", callouts + _html_table(header, rows, caption=glance_caption))

    meta = "".join(f"<tr><th>{_e(k)}</th><td>{'<br>'.join(map(_e, v)) if isinstance(v, list) else _e(v)}</td></tr>"
                   for k, v in _provenance_rows(ctx))
    section("provenance", "About these results",
            f'<div class="table-wrap"><table class="meta"><tbody>{meta}</tbody></table></div>')

    number = 0
    for key, heading, figs in _figure_sections(ctx):
        parts = []
        children = []
        for fig in figs:
            number += 1
            parts.append(_html_figure(fig, number))
            children.append((f"fig-{fig.name}", fig.title))
        if not figs and key == "adoption":
            parts.append("<p>No scenario in these results lets provinces switch strategy "
                         "(<code>[imitation] enabled = true</code>), so there is no adoption figure.</p>")
            children = []
        section(key, heading, "".join(parts), children if 1 < len(children) <= 4 else [])

    tables_html = (f'<h3 id="end-year">End-year metrics by scenario</h3>{_end_year_html(ctx)}'
                   f'<h3 id="comparison">Each scenario against baseline</h3>{_comparison_html(ctx)}'
                   f'<h3 id="events">Events</h3>{_events_html(ctx)}')
    section("tables", "Tables", tables_html, [("end-year", "End-year metrics by scenario"),
                                              ("comparison", "Each scenario against baseline"),
                                              ("events", "Events")])
    section("methods", "Methods", "".join(f"<p>{_code(p)}</p>" for p in _methods(ctx)))

    seeds = _seeds(ctx)
    if seeds.empty:
        runs_html = "<p>No runs table in these results.</p>"
    else:
        seed_rows = [[(_e(v), "num" if c in ("run_id", "replicate") else "") for c, v in rec.items()]
                     for rec in seeds.astype(str).to_dict("records")]
        more = ""
        total = len(data.provenance["seeds"])
        if total > len(seeds):
            more = f"<p>First {len(seeds)} of {total} runs shown.</p>"
        runs_html = (f"<p>Each run's random stream is <code>numpy.random.SeedSequence(entropy, spawn_key)</code> "
                     f"with the values below; re-running with them reproduces the run.</p><details><summary>"
                     f"Show the {len(seeds)} runs</summary>{_html_table(list(seeds.columns), seed_rows)}{more}"
                     f"</details>")
    section("runs", "Runs and seeds", runs_html)

    footer = (f"Built by <code>sim report</code> (sim {_e(data.provenance['report_version'])}) on "
              f"{_e(data.provenance['report_built'])}. Figures are also in <code>figures/</code> as PNG and SVG; "
              f"<code>report.md</code> holds the same content in Markdown.")
    page = Template(_template("report.html")).substitute(
        title=_e(_title(ctx)), subtitle=_e(_subtitle(ctx)), css=_template("report.css"),
        toc=f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav>',
        body="\n".join(body), footer=footer, version=_e(data.provenance["report_version"]))
    return page


# --------------------------------------------------------------------------------------------------
# Markdown


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    numeric = [all(_looks_numeric(r[i]) for r in rows) for i in range(len(header))] if rows else []
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if numeric and numeric[i] else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _looks_numeric(text: str) -> bool:
    t = str(text).strip().lstrip("+−-[<").replace(",", "")
    return bool(t) and (t[0].isdigit() or t in ("–",))


def render_markdown(ctx: ReportContext) -> str:
    """The report in Markdown, with figures linked from ``figures/``."""
    data = ctx.data
    out = [f"# {_title(ctx)}", "", _subtitle(ctx), ""]
    out += ["## At a glance", ""]
    for level, text in _completeness_messages(ctx):
        out += [f"> **{'Warning' if level == 'warning' else 'Note'}:** {text}", ""]
    header, rows = _glance_rows(ctx)
    out += [_md_table(header, [[c for c, _ in row] for row in rows]), ""]
    out += ["## About these results", "", _md_table(["", ""], [[f"**{k}**", "; ".join(v) if isinstance(v, list) else v]
                                                         for k, v in _provenance_rows(ctx)]), ""]
    number = 0
    for key, heading, figs in _figure_sections(ctx):
        out += [f"## {heading}", ""]
        for fig in figs:
            number += 1
            out += [f"![{fig.title}](figures/{fig.png.name})", "",
                    f"*Figure {number}. {fig.title}.* {fig.caption} ([SVG](figures/{fig.svg.name}))", ""]
        if not figs and key == "adoption":
            out += ["No scenario in these results lets provinces switch strategy (`[imitation] enabled = true`), "
                    "so there is no adoption figure.", ""]
    out += ["## Tables", "", "### End-year metrics by scenario", ""]
    formatted = T.format_end_year(ctx.end_year, data.groups)
    if formatted.empty:
        out += ["No end-year values.", ""]
    else:
        year = ", ".join(sorted(set(ctx.end_year["year"])))
        out += [f"End year ({year}): mean across replicates [95 % confidence interval of the mean, Student t].", ""]
        out += [_md_table(["metric", *formatted.columns],
                          [[idx, *row] for idx, row in zip(formatted.index, formatted.to_numpy().tolist(),
                                                           strict=True)]), ""]
    out += ["### Each scenario against baseline", ""]
    if ctx.comparison.empty:
        out += [_no_comparison(ctx), ""]
    else:
        comp = T.format_comparison(ctx.comparison)
        n_min = int(min(ctx.comparison["n"].min(), ctx.comparison["n_reference"].min()))
        guidance = _power_note(len(comp), n_min)
        if guidance:
            out += [f"> **Note:** {guidance}", ""]
        out += [f"Difference of end-year means (scenario − baseline), bootstrap 95 % interval, Mann-Whitney U "
                f"p-value and the p-value after the {T.CORRECTION} correction over all {len(comp)} tests; "
                "significant: adjusted p < 0.05.", ""]
        out += [_md_table(list(comp.columns), comp.astype(str).to_numpy().tolist()), ""]
    out += ["### Events", ""]
    if ctx.events.empty:
        out += ["No event fired in any run.", ""]
    else:
        out += ["Mean number per run, by type.", ""]
        out += [_md_table(["scenario", *map(str, ctx.events.columns)],
                          [[g, *(f"{v:.1f}" for v in ctx.events.loc[g])] for g in ctx.events.index]), ""]
    out += ["## Methods", ""]
    for paragraph in _methods(ctx):
        out += [paragraph, ""]
    out += ["## Runs and seeds", ""]
    seeds = _seeds(ctx)
    if seeds.empty:
        out += ["No runs table in these results.", ""]
    else:
        out += ["Each run's random stream is `numpy.random.SeedSequence(entropy, spawn_key)` with these values.", ""]
        out += [_md_table(list(seeds.columns), seeds.astype(str).to_numpy().tolist()), ""]
    out += ["---", f"Built by `sim report` (sim {data.provenance['report_version']}) on "
            f"{data.provenance['report_built']}.", ""]
    return "\n".join(out)
