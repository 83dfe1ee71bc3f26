"""The report of a robustness experiment (``[robustness]`` in the experiment file).

A robustness folder holds every strategy, its placebo and the baseline under many conditions
(:mod:`sim.experiments.robustness`). Its report says, in words and in one figure, whether each
strategy's end-year effect keeps its as-shipped sign across the conditions, and names the
conditions under which it flips (:mod:`sim.analysis.robustness`). Beside ``report.html`` and
``report.md``: ``robustness.csv`` (every effect), ``robustness_verdicts.csv`` (one row per strategy,
comparison and metric) and the figure as PNG (SVG too with ``svg=True``).
"""

from __future__ import annotations

import base64
import html
import logging
from pathlib import Path

import pandas as pd

from sim.errors import ResultsError
from sim.experiments.store import read_manifest
from sim.report.atomic import building

log = logging.getLogger(__name__)

__all__ = ["build_robustness_report", "is_robustness_folder", "robustness_figure"]


def is_robustness_folder(folder: str | Path) -> bool:
    """True when ``folder`` holds the results of an experiment with a ``[robustness]`` section."""
    try:
        return "robustness" in read_manifest(folder).get("experiment", {})
    except ResultsError:
        return False


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    national_dir = folder / "national"
    if not national_dir.is_dir():
        raise ResultsError(f"{folder}: no national table; a robustness report needs [record] tables with 'national'")
    national = pd.read_parquet(national_dir, columns=["run_id", "scenario", "replicate", "year", "gini",
                                                      "gdp_real_cny_bn", "research_output", "theil_between_region"])
    national["scenario"] = national["scenario"].astype(str)
    province = None
    if (folder / "province").is_dir():
        province = pd.read_parquet(folder / "province", columns=["run_id", "year", "province", "strategy",
                                                                 "gdp_real_cny_bn", "population_m"])
        province = province[province["year"] == province["year"].max()]
        province["strategy"] = province["strategy"].astype(str)
        province["province"] = province["province"].astype(str)
    return national, province


ROW_LABELS = {"gini": "Gini", "gdp_real_cny_bn": "real GDP", "research_output": "research",
              "theil_between_region": "Theil between", "adopter_gdp_per_capita": "adopters' GDP/head"}


def robustness_figure(table: pd.DataFrame, path: Path, svg: bool = False) -> list[Path]:
    """Draw the sign grid: per strategy, rows = comparison x metric, columns = conditions; returns the files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from sim.experiments.robustness import AS_SHIPPED

    strategies = list(dict.fromkeys(table["strategy"]))
    conditions = list(dict.fromkeys(table["condition"]))
    conditions = [AS_SHIPPED] + [c for c in conditions if c != AS_SHIPPED]
    metrics = list(dict.fromkeys(table["metric"]))
    # 0: same sign as shipped, 1: opposite sign, 2: no clear effect where shipped has one (or the reverse), 3: not run
    colours = ListedColormap(["#d9d9d9", "#d55e00", "#ffffff", "#f7f7f7"])
    fig, axes = plt.subplots(len(strategies), 1, figsize=(max(10, 0.42 * len(conditions) + 3),
                                                          1.0 + 2.9 * len(strategies)), squeeze=False)
    for ax, strategy in zip(axes[:, 0], strategies, strict=True):
        rows = [(against, metric) for against in ("baseline", "placebo") for metric in metrics]
        sub = table[table["strategy"] == strategy].set_index(["against", "metric", "condition"])
        grid, text = [], []
        for against, metric in rows:
            shipped = sub["sign"].get((against, metric, AS_SHIPPED), "?")
            line, words = [], []
            for condition in conditions:
                sign = sub["sign"].get((against, metric, condition))
                if sign is None:
                    line.append(3)
                    words.append("")
                    continue
                line.append(0 if sign == shipped else (1 if {sign, shipped} == {"+", "-"} else 2))
                words.append({"-": "\u2212"}.get(sign, sign))
            grid.append(line)
            text.append(words)
        ax.imshow(grid, cmap=colours, vmin=0, vmax=3, aspect="auto")
        for i, words in enumerate(text):
            for j, word in enumerate(words):
                ax.text(j, i, word, ha="center", va="center", fontsize=8)
        ax.set_yticks(range(len(rows)), [f"vs {'placebo' if a == 'placebo' else 'baseline'}: {ROW_LABELS.get(m, m)}"
                                         for a, m in rows], fontsize=8)
        ax.set_xticks(range(len(conditions)), conditions if ax is axes[-1, 0] else [""] * len(conditions),
                      rotation=60, ha="right", fontsize=8)
        ax.set_xticks([x - 0.5 for x in range(1, len(conditions))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
        ax.axhline(len(metrics) - 0.5, color="black", linewidth=1)
        ax.axvline(0.5, color="black", linewidth=1)
        ax.set_title(strategy, loc="left", fontsize=10, fontweight="bold")
    fig.legend(handles=[Patch(color="#d9d9d9", label="same sign as shipped"),
                        Patch(color="#d55e00", label="opposite sign"),
                        Patch(facecolor="white", edgecolor="#999", label="effect appears or vanishes (0 = within seed noise)")],
               loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    files = [path.with_suffix(".png")]
    fig.savefig(files[0], dpi=130)
    if svg:
        files.append(path.with_suffix(".svg"))
        fig.savefig(files[1])
    plt.close(fig)
    return files


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _clause_html(found: list[tuple[str, str, list[str]]]) -> list[str]:
    """Per strategy a heading, then per comparison a list of one clause per metric."""
    parts: list[str] = []
    for strategy, against, items in found:
        if against == "baseline" or not parts or f"<h3>{html.escape(strategy)}</h3>" not in parts:
            parts.append(f"<h3>{html.escape(strategy)}</h3>")
        ref = "the baseline" if against == "baseline" else "its same-cost placebo"
        parts.append(f"<p>Against {ref}, {html.escape(strategy)}:</p><ul>"
                     + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>")
    return parts


def _verdict_rows(verdicts: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy and comparison, one column per metric: the as-shipped effect and how often its sign holds."""
    from sim.analysis.robustness import ADOPTER_METRIC, METRICS, _fmt

    relative = {m.column: m.relative for m in (*METRICS, ADOPTER_METRIC)}
    cells = verdicts.assign(cell=[f"{_fmt(e, relative.get(m, True))} {'(0) ' if s == '0' else ''}· {a + 1}/{c + 1}"
                                  for e, m, s, a, c in zip(verdicts["shipped_effect"], verdicts["metric"],
                                                           verdicts["shipped_sign"], verdicts["agree"],
                                                           verdicts["conditions"], strict=True)])
    table = cells.pivot(index=["strategy", "against"], columns="metric", values="cell")
    table = table.reindex(index=list(dict.fromkeys(zip(verdicts["strategy"], verdicts["against"], strict=True))),
                          columns=list(dict.fromkeys(verdicts["metric"])))
    table.columns = [ROW_LABELS.get(c, c) for c in table.columns]
    return table.reset_index().fillna("")


METHOD = (
    "Each strategy, its same-cost placebo (the same money spent as business as usual) and the baseline ran "
    "as shipped and under every condition: the strategy's field (or sector, or consumer segment) forced to "
    "each field; each field's base-year share of national research multiplied by 0.5 and by 1.5 (every "
    "scenario, the baseline included); the strategy (and its placebo) adopted by one province, or by the whole "
    "interior, alone; and any assumption listed in the experiment file. Replicate r has the same seed in every "
    "scenario (common random numbers), so effects are paired by replicate. An effect is the end-year difference "
    "(Gini, between-region Theil) or relative change (real GDP, research output, the adopting provinces' real "
    "GDP per head); its sign counts as + or \u2212 when the mean over replicates exceeds twice its standard "
    "error and 0.01 %, and as 0 (no clear effect) otherwise. Conditions that change only the strategy "
    "(forced field, single adopter) compare with the as-shipped baseline; the others with the baseline under "
    "the same condition. Parameters are at the shipped posterior medians: this checks structural assumptions, "
    "not parameter uncertainty (see the uncertainty experiment for that).")


def build_robustness_report(results: str | Path, out: str | Path | None = None, svg: bool = False) -> Path:
    """``build_robustness_report(folder)`` -> the report folder (default ``<folder>/report``), replaced whole."""
    from sim.analysis.robustness import clauses, describe_condition, effects, sentences, verdicts

    folder = Path(results)
    manifest = read_manifest(folder)
    national, province = _read(folder)
    if national.empty:
        raise ResultsError(f"{folder}: the national table has no rows yet; run the batch first")
    table = effects(national, province)
    if table.empty:
        raise ResultsError(f"{folder}: no strategy with a baseline to compare; is this a robustness experiment?")
    table["description"] = table["condition"].map(describe_condition)
    verdict = verdicts(table)
    words = sentences(table)
    out = Path(out) if out is not None else folder / "report"
    with building(out) as work:
        (work / "figures").mkdir()
        figures = robustness_figure(table, work / "figures" / "robustness_signs", svg=svg)
        table.to_csv(work / "robustness.csv", index=False)
        verdict.to_csv(work / "robustness_verdicts.csv", index=False)
        experiment = manifest.get("experiment", {})
        name = experiment.get("name", folder.name)
        title = "Robustness of strategy effects" + ("" if name == "robustness" else f": {name}")
        runs = f"{manifest.get('runs_ok', '?')} runs of {manifest.get('runs_total', '?')}"
        png = base64.b64encode(figures[0].read_bytes()).decode()
        from sim.report.analysis import _STYLE

        page = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
                f"<style>{_STYLE} li{{margin:.4em 0}}</style></head><body><h1>{html.escape(title)}</h1>",
                f"<p>{html.escape(experiment.get('description', ''))} ({html.escape(runs)}; end year "
                f"{int(national['year'].max())}).</p>",
                "<h2 id='glance'>At a glance</h2><p>Each strategy's end-year effect as shipped, against the baseline "
                "and against its same-cost placebo, and in how many conditions its sign holds (as shipped "
                "included); (0) marks an effect within seed noise.</p>",
                _html_table(_verdict_rows(verdict)),
                "<h2 id='summary'>What holds and what flips</h2>",
                *_clause_html(clauses(table)),
                "<h2 id='figure'>Signs across conditions</h2>",
                f"<figure><img alt='Sign of each effect per condition' src='data:image/png;base64,{png}'>"
                "<figcaption>Each cell: the sign of a strategy's end-year effect under one condition (columns) "
                "against the baseline or its placebo (rows). Grey: the as-shipped sign holds; orange: the "
                "opposite sign; white: the effect appears or vanishes (0 = within seed noise).</figcaption></figure>",
                "<p>Every effect with its standard error: <a href='robustness.csv'>robustness.csv</a>; "
                "verdicts: <a href='robustness_verdicts.csv'>robustness_verdicts.csv</a>.</p>",
                f"<h2 id='method'>Method</h2><p>{html.escape(METHOD)}</p></body></html>"]
        (work / "report.html").write_text("\n".join(page), encoding="utf-8")
        md = [f"# {title}", "", f"{experiment.get('description', '')} ({runs}).", "", "## What holds and what flips", "",
              *[f"- {s}" for s in words], "", "## Signs across conditions", "",
              f"![Sign of each effect per condition](figures/{figures[0].name})", "", "## Verdicts", "",
              _verdict_rows(verdict).to_string(index=False), "", "## Method", "", METHOD, ""]
        (work / "report.md").write_text("\n".join(md), encoding="utf-8")
    log.info("robustness report written to %s", out)
    return out
