"""``report.md``: the report in Markdown, with figures linked from ``figures/``.

The same sections as ``report.html``, from the same :class:`~sim.report.content.ReportContext`.
"""

from __future__ import annotations

from typing import Any

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
from sim.report.statistics import CORRECTION
from sim.report.tables import format_comparison, format_end_year


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
    out = [f"# {report_title(ctx)}", "", report_subtitle(ctx), ""]
    if ctx.sentences:
        out += ["## Summary", "", *[f"* {t}" for t in ctx.sentences], "",
                "Generated from the results. Percentages are end-year differences from the reference (mean over "
                "the paired runs); the counts say in how many paired runs the difference goes that way. Costs: see "
                "the cost table.", ""]
    out += ["## At a glance", ""]
    for level, text in completeness_messages(ctx):
        out += [f"> **{'Warning' if level == 'warning' else 'Note'}:** {text}", ""]
    header, rows = glance_rows(ctx)
    out += [_md_table(header, [[c for c, _ in row] for row in rows]), ""]
    out += ["## How far to trust these results", ""]
    for paragraph in trust_paragraphs(ctx):
        out += [paragraph, ""]
    rows = scorecard_rows(ctx)
    if rows:
        out += [_md_table(SCORECARD_HEADER, rows), ""]
    drivers = driver_paragraphs(ctx)
    out += [drivers[0], "", *[f"* {t}" for t in drivers[1:]], ""]
    if len(drivers) > 1:
        from sim.report.trust import driver_table

        table = driver_table(ctx.trust.drivers)
        if not table.empty:
            out += [_md_table(list(table.columns), table.astype(str).to_numpy().tolist()), ""]
    out += ["## About these results", "", _md_table(["", ""], [[f"**{k}**", "; ".join(v) if isinstance(v, list) else v]
                                                         for k, v in provenance_rows(ctx)]), ""]
    number = 0
    for key, heading, figs in figure_sections(ctx):
        out += [f"## {heading}", ""]
        for fig in figs:
            number += 1
            svg = f" ([SVG](figures/{fig.svg.name}))" if fig.svg is not None else ""
            out += [f"![{fig.title}](figures/{fig.png.name})", "", f"*Figure {number}. {fig.title}.* {fig.caption}{svg}", ""]
        if not figs and key == "adoption":
            out += ["No scenario in these results lets provinces switch strategy (`[imitation] enabled = true`), "
                    "so there is no adoption figure.", ""]
    out += ["## Tables", "", "### End-year metrics by scenario", ""]
    formatted = format_end_year(ctx.end_year, data.groups)
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
        out += [no_comparison_text(ctx), ""]
    else:
        comp = format_comparison(ctx.comparison)
        n_min = int(min(ctx.comparison["n"].min(), ctx.comparison["n_reference"].min()))
        guidance = power_note(len(comp), n_min)
        if guidance:
            out += [f"> **Note:** {guidance}", ""]
        out += [f"Difference of end-year means (scenario − baseline), bootstrap 95 % interval, Mann-Whitney U "
                f"p-value and the p-value after the {CORRECTION} correction over all {len(comp)} tests; "
                "significant: adjusted p < 0.05.", ""]
        out += [_md_table(list(comp.columns), comp.astype(str).to_numpy().tolist()), ""]
    out += ["### Costs and returns", ""]
    if ctx.costs.empty:
        out += ["No costs: these results have no province table with cost columns, or no reference.", ""]
    else:
        out += [cost_caption(ctx), "", _md_table(COST_HEADER, cost_rows(ctx)), ""]
    out += ["### Events", ""]
    if ctx.events.empty:
        out += ["No event fired in any run.", ""]
    else:
        out += ["Mean number per run, by type.", ""]
        out += [_md_table(["scenario", *map(str, ctx.events.columns)],
                          [[g, *(f"{v:.1f}" for v in ctx.events.loc[g])] for g in ctx.events.index]), ""]
    # optional sections (e.g. robustness) go here, between the tables and the methods
    for extra in ctx.extra_sections:
        out += [f"## {extra.heading}", "", extra.markdown, ""]
    out += ["## Methods", ""]
    for paragraph in methods_paragraphs(ctx):
        out += [paragraph, ""]
    out += ["## Runs and seeds", ""]
    seeds = data.provenance.get("seeds")
    if seeds is None or seeds.empty:
        out += ["No runs table in these results.", ""]
    else:
        out += [f"The {len(seeds)} runs with their seeds (`numpy.random.SeedSequence(entropy, spawn_key)`) are in "
                "[runs.csv](runs.csv); the report's tables are in [summary.csv](summary.csv), "
                "[comparisons.csv](comparisons.csv), [costs.csv](costs.csv) and "
                "[summary_effects.csv](summary_effects.csv).", ""]
    out += ["---", f"Built by `sim report` (sim {data.provenance['report_version']}) on "
            f"{data.provenance['report_built']}.", ""]
    return "\n".join(out)
