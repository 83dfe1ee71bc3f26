"""``report.html``: one self-contained page (figures embedded as base64 PNG, styles inline).

The content comes from :mod:`sim.report.content`; the page skeleton and its styles are package
data in ``sim/report/templates/`` (``report.html``, a :class:`string.Template`, and ``report.css``).
"""

from __future__ import annotations

import base64
import html
import struct
from importlib import resources
from string import Template
from typing import Any

import numpy as np

from sim.plotting import DPI
from sim.report.content import (
    COST_HEADER,
    SCORECARD_HEADER,
    ReportContext,
    completeness_messages,
    cost_caption,
    cost_rows,
    driver_paragraphs,
    figure_sections,
    glance_rows,
    methods_paragraphs,
    no_comparison_text,
    power_note,
    provenance_rows,
    report_subtitle,
    report_title,
    scorecard_rows,
    trust_paragraphs,
)
from sim.report.figure_files import FigureFile
from sim.report.statistics import CORRECTION
from sim.report.tables import END_YEAR_METRICS, METRICS, format_comparison, format_number


def _template(name: str) -> str:
    return resources.files("sim.report").joinpath("templates", name).read_text(encoding="utf-8")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


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
    files = f'<a href="figures/{_e(fig.png.name)}">PNG</a>'
    if fig.svg is not None:
        files += f', <a href="figures/{_e(fig.svg.name)}">SVG</a>'
    return (f'<figure id="fig-{_e(fig.name)}"><img src="data:image/png;base64,{encoded}" alt="{_e(fig.title)}" '
            f'{size} loading="eager"><figcaption><span class="label">Figure {number}. {_e(fig.title)}.</span> '
            f'{_e(fig.caption)} <span class="files">Files: {files}.</span></figcaption></figure>')


def _end_year_html(ctx: ReportContext) -> str:
    table = ctx.end_year
    if table.empty:
        return "<p>No end-year values.</p>"
    groups = [g for g in ctx.data.groups if g in set(table["group"])]
    metrics = [m for m in END_YEAR_METRICS if m in set(table["metric"])]
    indexed = table.set_index(["group", "metric"])
    header = ["metric", *groups]
    rows = []
    for m in metrics:
        metric = METRICS[m]
        row = [(_e(metric.short or metric.heading), "name")]
        for g in groups:
            r = indexed.loc[(g, m)]
            cell = format_number(r["mean"], metric.decimals)
            if np.isfinite(r["low"]):
                cell += (f"<small>[{format_number(r['low'], metric.decimals)}, "
                         f"{format_number(r['high'], metric.decimals)}]</small>")
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
        return f'<p class="callout">{_code(no_comparison_text(ctx))}</p>'
    formatted = format_comparison(ctx.comparison)
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
    guidance = power_note(m, n_min)
    caption = (f"Each scenario against baseline at the end year: difference of means (scenario − baseline) with "
               f"its bootstrap 95 % interval, the Mann-Whitney U p-value and that p-value after the "
               f"{CORRECTION} correction over all {m} tests of this table. Rows in bold: adjusted p < 0.05.")
    note = f'<div class="callout"><p>{_e(guidance)}</p></div>' if guidance else ""
    return note + _html_table(header, rows, caption=caption, row_classes=classes)


def _sentence(ctx: ReportContext, text: str) -> str:
    """A summary sentence with its scenario's colour square and name in bold."""
    group = next((g for g in sorted(ctx.data.groups, key=len, reverse=True) if text.startswith(g + " ")), None)
    if group is None:
        return _e(text)
    swatch = f'<span class="swatch" style="background:{ctx.data.colours[group]}"></span>'
    return f"{swatch}<strong>{_e(group)}</strong>{_e(text[len(group):])}"


def _trust_html(ctx: ReportContext) -> str:
    from sim.report.trust import driver_table

    parts = [f"<p>{_code(p)}</p>" for p in trust_paragraphs(ctx)]
    rows = scorecard_rows(ctx)
    if rows:
        body = [[(_e(r[0]), "name"), (_e(r[1]), "num"), (_e(r[2]), "name"),
                 (f'<span class="{"pass" if r[3] == "pass" else "fail"}">{_e(r[3])}</span>', "name"), (_e(r[4]), "")]
                for r in rows]
        parts.append(_html_table(SCORECARD_HEADER, body, table_class="scorecard"))
    drivers = driver_paragraphs(ctx)
    parts.append(f"<p>{_code(drivers[0])}</p>")
    if len(drivers) > 1:
        parts.append('<ul class="drivers">' + "".join(f"<li>{_e(t)}</li>" for t in drivers[1:]) + "</ul>")
        table = driver_table(ctx.trust.drivers)
        if not table.empty:
            body = [[(_e(v), "num" if c in ("rank", "Spearman ρ", "draws") else "name") for c, v in rec.items()]
                    for rec in table.astype(str).to_dict("records")]
            parts.append(_html_table(list(table.columns), body))
    return "".join(parts)


def _costs_html(ctx: ReportContext) -> str:
    if ctx.costs.empty:
        return "<p>No costs: these results have no province table with cost columns, or no reference.</p>"
    rows = []
    for row in cost_rows(ctx):
        rows.append([(_swatch(ctx, row[0]), "name"), (_e(row[1]), "name")] + [(_e(c), "num") for c in row[2:]])
    return _html_table(COST_HEADER, rows, caption=_e(cost_caption(ctx)))


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

    summary = ""
    if ctx.sentences:  # above the contents: the first thing a reader sees
        items = "".join(f"<li>{_sentence(ctx, t)}</li>" for t in ctx.sentences)
        summary = (f'<section id="summary" class="summary"><h2>Summary</h2><ul class="summary">{items}</ul>'
                   '<p class="note">Generated from the results. Percentages are end-year differences from the '
                   "reference (mean over the paired runs); the counts say in how many paired runs the difference "
                   'goes that way. Costs and returns: the <a href="#costs">cost table</a>. How far to trust these '
                   'numbers: the <a href="#trust">validation scorecard</a>.</p></section>')

    header, rows = glance_rows(ctx)
    for row in rows:
        row[0] = (_swatch(ctx, row[0][0]), "name")
    glance_caption = "End-year means across replicates."
    if not ctx.comparison.empty:
        glance_caption += (" “vs baseline”: relative difference of the means; * marks a difference that remains "
                           f"significant after the {CORRECTION} correction (see the comparison table).")
    callouts = "".join(f'<div class="callout {level}"><p>{_e(text)}</p></div>'
                       for level, text in completeness_messages(ctx))
    section("glance", "At a glance", callouts + _html_table(header, rows, caption=glance_caption))

    section("trust", "How far to trust these results", _trust_html(ctx))

    meta = "".join(f"<tr><th>{_e(k)}</th><td>{'<br>'.join(map(_e, v)) if isinstance(v, list) else _e(v)}</td></tr>"
                   for k, v in provenance_rows(ctx))
    section("provenance", "About these results",
            f'<div class="table-wrap"><table class="meta"><tbody>{meta}</tbody></table></div>')

    number = 0
    for key, heading, figs in figure_sections(ctx):
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
                   f'<h3 id="costs">Costs and returns</h3>{_costs_html(ctx)}'
                   f'<h3 id="events">Events</h3>{_events_html(ctx)}')
    section("tables", "Tables", tables_html, [("end-year", "End-year metrics by scenario"),
                                              ("comparison", "Each scenario against baseline"),
                                              ("costs", "Costs and returns"), ("events", "Events")])
    # optional sections (e.g. robustness) go here, between the tables and the methods
    for extra in ctx.extra_sections:
        section(extra.anchor, extra.heading, extra.html)
    section("methods", "Methods", "".join(f"<p>{_code(p)}</p>" for p in methods_paragraphs(ctx)))

    seeds = data.provenance.get("seeds")
    if seeds is None or seeds.empty:
        runs_html = "<p>No runs table in these results.</p>"
    else:
        runs_html = (f"<p>The {len(seeds)} runs, each with its scenario, replicate, status and random stream "
                     f"(<code>numpy.random.SeedSequence(entropy, spawn_key)</code> with the values listed: re-running "
                     f'with them reproduces the run), are in <a href="runs.csv">runs.csv</a>. The tables of this '
                     f'report are also beside it: <a href="summary.csv">summary.csv</a> (end-year metrics per '
                     f'scenario with intervals), <a href="comparisons.csv">comparisons.csv</a> (each scenario against '
                     f'baseline), <a href="costs.csv">costs.csv</a> and <a href="summary_effects.csv">'
                     f"summary_effects.csv</a> (the summary's effects).</p>")
    section("runs", "Runs and seeds", runs_html)

    footer = (f"Built by <code>sim report</code> (sim {_e(data.provenance['report_version'])}) on "
              f"{_e(data.provenance['report_built'])}. Figures are also in <code>figures/</code> (PNG; SVG with "
              "<code>--svg</code>); "
              f"<code>report.md</code> holds the same content in Markdown.")
    page = Template(_template("report.html")).substitute(
        title=_e(report_title(ctx)), subtitle=_e(report_subtitle(ctx)), css=_template("report.css"),
        summary=summary,
        toc=f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav>',
        body="\n".join(body), footer=footer, version=_e(data.provenance["report_version"]))
    return page
