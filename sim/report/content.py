"""What the report's pages say, shared by ``report.html`` and ``report.md``.

Both pages are built from one :class:`ReportContext` and have the same sections in the same
order: at a glance, about these results (runs present, provenance), the figures by theme, the
tables, methods, runs and seeds. This module holds the content as plain text and rows;
:mod:`sim.report.html` and :mod:`sim.report.markdown` lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.report.costs import format_bn
from sim.report.figure_files import SECTIONS, FigureFile
from sim.report.statistics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CORRECTION, replicates_needed, smallest_rank_p
from sim.report.tables import METRICS, format_number, format_relative

if TYPE_CHECKING:
    from sim.report.data import ReportData

GLANCE_METRICS: tuple[str, ...] = ("gini", "gdp_real_cny_bn", "research_output", "interior_research_share")
"""Columns of the at-a-glance table (level and, where there is a reference, the relative difference)."""


@dataclass(frozen=True)
class ExtraSection:
    """A section added to the report from outside this package's fixed list (e.g. robustness).

    Attributes:
        anchor: the HTML id (and contents link).
        heading: the section heading.
        html: the section's body as HTML (already escaped).
        markdown: the same body as Markdown.
    """

    anchor: str
    heading: str
    html: str
    markdown: str


@dataclass
class ReportContext:
    """Everything a page needs.

    ``extra_sections`` are placed after the trust section and before the methods, in order, on both
    pages; they are where optional sections (such as a robustness section) go.
    """

    data: ReportData
    figures: list[FigureFile]
    end_year: pd.DataFrame
    comparison: pd.DataFrame
    events: pd.DataFrame
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    sentences: list[str] = field(default_factory=list)
    trust: object | None = None
    extra_sections: list[ExtraSection] = field(default_factory=list)


def report_title(ctx: ReportContext) -> str:
    return f"Report: {ctx.data.provenance['experiment']}"


def report_years(ctx: ReportContext) -> str:
    years = ctx.data.national["year"]
    return f"{int(years.min())}-{int(years.max())}"


def report_subtitle(ctx: ReportContext) -> str:
    p = ctx.data.provenance
    kind = "experiment" if p["kind"] == "batch" else "single run"
    text = (f"{kind.capitalize()} of {len(ctx.data.groups)} scenario(s), {report_years(ctx)}; "
            f"{ctx.data.completeness.summary()}.")
    if p.get("description"):
        text = f"{p['description']}. {text}"
    return text


def glance_rows(ctx: ReportContext) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Header and rows (cell text, css class) of the at-a-glance table."""
    data = ctx.data
    end = ctx.end_year.set_index(["group", "metric"]) if not ctx.end_year.empty else pd.DataFrame()
    comp = ctx.comparison.set_index(["group", "metric"]) if not ctx.comparison.empty else pd.DataFrame()
    metrics = [m for m in GLANCE_METRICS if not end.empty and m in end.index.get_level_values("metric")]
    with_reference = not comp.empty
    header = ["scenario", "runs"]
    for m in metrics:
        header.append(METRICS[m].short or METRICS[m].heading)
        if with_reference:
            header.append("vs baseline")
    costs = (ctx.costs[ctx.costs["comparison"] == "baseline"].set_index("group")
             if not ctx.costs.empty else pd.DataFrame())
    if not costs.empty:
        header += ["extra cost vs baseline, CNY bn", "return, yuan GDP per yuan"]
    rows = []
    runs = data.national.groupby("group")["run_id"].nunique()
    for group in data.groups:
        row = [(group, "name"), (str(int(runs.get(group, 0))), "num")]  # name: swatch added by the HTML writer
        for m in metrics:
            value = end["mean"].get((group, m), np.nan)
            row.append((format_number(value, METRICS[m].decimals), "num"))
            if with_reference:
                if (group, m) in comp.index:
                    r = comp.loc[(group, m)]
                    text = format_relative(r["relative"])
                    if np.isfinite(r["p_adjusted"]) and r["p_adjusted"] < 0.05:
                        text += " *"
                    row.append((text, "num"))
                else:
                    row.append(("reference" if data.reference.get(group) == group else "–", "num"))
        if not costs.empty:
            if group in costs.index:
                value = costs.at[group, "return_per_yuan"]
                row += [(format_bn(costs.at[group, "extra_cost_cny_bn"]), "num"),
                        (format_number(value, 1) if np.isfinite(value) else "–", "num")]
            else:
                row += [("reference" if data.reference.get(group) == group else "–", "num"), ("–", "num")]
        rows.append(row)
    return header, rows


COST_HEADER = ["scenario", "against", "runs", "extra cost, CNY bn [95 % interval]", "provincial", "central",
               "foreign", "real GDP gained, CNY bn [95 % interval]", "return, yuan of GDP per yuan"]
"""Columns of the cost table on the pages."""


def cost_rows(ctx: ReportContext) -> list[list[str]]:
    """Rows (plain text) of the cost table, one per comparison."""
    rows = []
    for r in ctx.costs.to_dict("records"):
        ret = r["return_per_yuan"]
        rows.append([
            r["group"], r["reference"] + (" (placebo)" if r["comparison"] == "placebo" else ""), str(r["runs"]),
            f"{format_bn(r['extra_cost_cny_bn'])} [{format_bn(r['extra_cost_low'])}, {format_bn(r['extra_cost_high'])}]",
            format_bn(r["extra_provincial_cny_bn"]), format_bn(r["extra_central_cny_bn"]),
            format_bn(r["extra_foreign_cny_bn"]),
            f"{format_bn(r['gdp_gained_cny_bn'])} [{format_bn(r['gdp_gained_low'])}, {format_bn(r['gdp_gained_high'])}]",
            format_number(ret, 1) if np.isfinite(ret) else "–",
        ])
    return rows


def cost_caption(ctx: ReportContext) -> str:
    years = report_years(ctx)
    return (f"What each scenario costs beyond its reference, summed over {years} and the provinces (CNY bn at "
            "start-year prices): science spending, the province's share of the centre's pool and the strategy's "
            "instruments, by who pays (the province, the centre, foreign firms), mean over runs minus the "
            "reference's mean; real GDP gained is the same difference of real GDP summed over the years; the "
            "return is real GDP gained per yuan of extra cost (against baseline, when the extra cost is above "
            "zero throughout its interval). Intervals: percentile bootstrap, 95 %. Also in summary.csv.")


def methods_paragraphs(ctx: ReportContext) -> list[str]:
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
    if ctx.data.has_draws:
        paragraphs.append(
            "Parameter uncertainty: every scenario ran with the same parameter draws from the posterior and the "
            "same seeds per draw, so the summary's shares count draw-and-seed pairs, and the intervals of the "
            "tables cover parameter and seed uncertainty together.")
    else:
        paragraphs.append(
            "Uncertainty: the parameters are fixed at their defaults (the posterior medians), so every interval "
            "and share in this report covers the model's randomness across seeds only, not the uncertainty of "
            "the parameters (the experiment `strategy_comparison_uncertainty` covers that).")
    if not ctx.comparison.empty:
        m = len(ctx.comparison)
        replicates = int(n.min())
        floor = smallest_rank_p(replicates, replicates)
        smallest = float(ctx.comparison["p_value"].min())
        paragraphs += [
            "Comparison with baseline: for every scenario and metric, the difference of end-year means "
            f"(scenario − baseline) with a percentile bootstrap 95 % interval ({BOOTSTRAP_RESAMPLES:,} "
            f"resamples, each scenario resampled independently, fixed seed {BOOTSTRAP_SEED}, so the report "
            "is reproducible), and the two-sided Mann-Whitney U rank test (`scipy.stats.mannwhitneyu`, exact "
            "for small samples without ties).",
            f"Multiple comparisons: the {m} p-values of the comparison table are corrected together with the "
            f"{CORRECTION} method (family-wise error rate 5 %); a difference is marked significant when its "
            f"Holm-adjusted p-value is below 0.05. " + power_sentence(m, replicates, floor, smallest),
        ]
    return paragraphs


def power_sentence(tests: int, replicates: int, floor: float, smallest: float) -> str:
    """What the replicates allow, in one consistent sentence."""
    if floor * tests >= 0.05:
        return (f"With {replicates} replicates per scenario the smallest p-value a rank test can give is "
                f"{floor:.3g}, which times {tests} tests is above 0.05: no difference can pass the correction, "
                f"and at least {replicates_needed(tests)} replicates per scenario are needed to detect one.")
    return (f"With {replicates} replicates per scenario the smallest p-value a rank test can give is {floor:.3g} "
            f"(the smallest here is {smallest:.3g}), so a difference on which the runs separate clearly passes "
            "the correction; a small difference may still go undetected (read the bootstrap intervals).")


def provenance_rows(ctx: ReportContext) -> list[tuple[str, str | list[str]]]:
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
        ("Years", report_years(ctx)),
        ("Package version", str(p.get("package_version") or "–")),
        ("Git commit", str(p.get("git_commit") or "–")),
        ("Results created", str(p.get("created") or "–")),
        ("Results folder", p["results_folder"]),
        ("Report built", f"{p['report_built']} with sim {p['report_version']} (commit {p['report_commit']})"),
    ]
    if p.get("python") or p.get("mesa"):
        rows.append(("Python / Mesa", f"{p.get('python') or '–'} / {p.get('mesa') or '–'}"))
    return rows


def completeness_messages(ctx: ReportContext) -> list[tuple[str, str]]:
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


def figure_sections(ctx: ReportContext) -> list[tuple[str, str, list[FigureFile]]]:
    out = []
    for key, heading in SECTIONS.items():
        figs = [f for f in ctx.figures if f.section == key]
        if figs or key == "adoption":
            out.append((key, heading, figs))
    return out


def no_comparison_text(ctx: ReportContext) -> str:
    """Why there is no comparison table (text with `code` marks)."""
    if "baseline" not in set(ctx.data.national["scenario"]):
        return ("No comparison: these results have no complete run of a scenario named `baseline`, the "
                "reference every other scenario is compared with.")
    return "No comparison: these results hold no scenario other than `baseline` to compare with it."


def power_note(tests: int, replicates: int) -> str:
    """A warning when no difference can pass the correction with this many replicates, else ""."""
    if smallest_rank_p(replicates, replicates) * tests < 0.05:
        return ""
    needed = replicates_needed(tests)
    return (f"With {replicates} replicate(s) per scenario and {tests} tests, no difference can be significant "
            f"after the {CORRECTION} correction (the smallest possible rank-test p-value, "
            f"{smallest_rank_p(replicates, replicates):.3g}, times {tests} is above 0.05). Run at least "
            f"{needed} replicates per scenario to be able to detect a difference; meanwhile read the bootstrap "
            "intervals.")


SCORECARD_HEADER = ["target", "value", "rule", "result", "note"]
"""Columns of the scorecard table."""


def _short_hash(value: str | None) -> str:
    return (value or "unknown").removeprefix("sha256:")[:12]


def trust_paragraphs(ctx: ReportContext) -> list[str]:
    """What the trust section says before its tables (plain text with `code` marks)."""
    trust = ctx.trust
    if trust is None:
        return ["No trust section: the scorecard was not asked for."]
    out = []
    card = trust.scorecard
    if card is None:
        out.append(trust.problem)
    else:
        targets = card.get("targets", [])
        passed = sum(bool(t.get("passed")) for t in targets)
        out.append(
            f"Validation scorecard of `sim validate`: {passed} of {len(targets)} targets pass. It tests the model "
            "against what was observed (out of sample 2016-2020 with parameters estimated on 2012-2016 only, the "
            "Gini path 2012-2022, the Hefei case against a synthetic control); docs/validation.md says what each "
            "target means and why the failing ones fail. A failing target is a reason to read the effects above "
            "as the model's, not as forecasts.")
        out.append(f"Scorecard {trust.source}.")
        if card.get("note"):
            out.append(str(card["note"]))
    if trust.same_code is True:
        out.append(f"Code: the scorecard and these results come from the same code (hash "
                   f"`{_short_hash(trust.code_hash)}`).")
    elif trust.same_code is False:
        out.append(f"Code: the scorecard is of the current code (hash `{_short_hash(trust.code_hash)}`), but these "
                   f"results were made with other code (hash `{_short_hash(trust.results_code_hash)}`): rerun the "
                   "batch, or read the scorecard with caution.")
    return out


def scorecard_rows(ctx: ReportContext) -> list[list[str]]:
    """One row per target: name, value, rule, pass/FAIL, note."""
    card = ctx.trust.scorecard if ctx.trust is not None else None
    if not card:
        return []
    return [[str(t["name"]), f"{float(t['value']):.4g}".replace("-", "−"), str(t["rule"]),
             "pass" if t["passed"] else "FAIL", str(t.get("note") or "")] for t in card.get("targets", [])]


def driver_paragraphs(ctx: ReportContext) -> list[str]:
    """The parameters that drive each comparison, in words (or why that cannot be said)."""
    from sim.report.trust import driver_sentences

    trust = ctx.trust
    if not ctx.data.has_draws:
        return ["Which parameters drive each comparison cannot be said from these results: they have no "
                "parameter draws (seeds only). The experiment `experiments/strategy_comparison_uncertainty.toml` "
                "runs every scenario over posterior draws, and its report names the drivers."]
    sentences = driver_sentences(trust.drivers if trust is not None else pd.DataFrame())
    if not sentences:
        return ["No comparison has enough draws (three or more) with an effect that varies to rank parameters."]
    return ["What drives each comparison: the Spearman rank correlation ρ, over the parameter draws, between a "
            "scenario's effect (end-year relative difference from baseline, mean over the seeds of a draw) and "
            "each drawn parameter. The parameters with |ρ| ≥ 0.3 among the three largest are named.", *sentences]
