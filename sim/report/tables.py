"""Tables of a report: end-year metrics per scenario, each scenario against baseline, events.

The table builders take a :class:`~sim.report.data.ReportData` and return tidy DataFrames (the
statistics are :mod:`sim.report.statistics`); the HTML and Markdown writers format them with
:func:`format_end_year` and :func:`format_comparison`. :data:`METRICS` says how every national
metric is shown (label, unit, scale, decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.report.statistics import bootstrap_difference, holm_adjust, mean_interval, rank_test

if TYPE_CHECKING:
    from sim.report.data import ReportData

@dataclass(frozen=True)
class Metric:
    """A national metric as a report shows it.

    Attributes:
        column: the column of the ``national`` table.
        label: a short name for tables and axis titles.
        unit: the unit after scaling ("" for an index).
        scale: factor applied to the stored value for display (1e-3: billions to trillions).
        decimals: digits after the decimal point in tables.
        short: a compact name with its unit, for table headers.
    """

    column: str
    label: str
    unit: str
    scale: float = 1.0
    decimals: int = 3
    short: str = ""

    @property
    def heading(self) -> str:
        """``label (unit)``, or the label alone for an index."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


METRICS: dict[str, Metric] = {m.column: m for m in (
    Metric("gini", "Gini of GDP per capita", "", 1.0, 3, "Gini"),
    Metric("theil", "Theil T of GDP per capita", "", 1.0, 4, "Theil T"),
    Metric("theil_between_region", "Theil T between regions", "", 1.0, 4, "Theil T between regions"),
    Metric("theil_within_region", "Theil T within regions", "", 1.0, 4, "Theil T within regions"),
    Metric("cv", "Coefficient of variation", "", 1.0, 3, "Coefficient of variation"),
    Metric("coast_interior_ratio", "Coast / interior GDP per capita", "ratio", 1.0, 3, "Coast / interior ratio"),
    Metric("gdp_real_cny_bn", "National GDP", "CNY tn of the start year, chained volume", 1e-3, 1, "GDP, CNY tn"),
    Metric("gdp_per_capita_cny", "GDP per capita", "CNY thousand", 1e-3, 1, "GDP per capita, CNY k"),
    Metric("research_output", "Research output", "thousand SCI papers/yr", 1e-3, 1, "Research, k papers/yr"),
    Metric("interior_research_share", "Interior share of research", "%", 100.0, 1, "Interior research share, %"),
    Metric("interior_in_top20", "Interior provinces in research top 20", "count", 1.0, 1,
           "Interior in research top 20"),
    Metric("high_tech_share", "High-tech share of GDP", "%", 100.0, 1, "High-tech share of GDP, %"),
    Metric("rd_spent_cny_bn", "R&D spent", "CNY bn/yr", 1.0, 0, "R&D spent, CNY bn/yr"),
)}
"""Every metric a report can show, by column name."""


END_YEAR_METRICS: tuple[str, ...] = (
    "gini", "theil", "theil_between_region", "cv", "coast_interior_ratio", "gdp_real_cny_bn",
    "gdp_per_capita_cny", "research_output", "interior_research_share", "interior_in_top20",
    "high_tech_share", "rd_spent_cny_bn",
)
"""Rows of the end-year table."""


COMPARISON_METRICS: tuple[str, ...] = (
    "gini", "theil", "coast_interior_ratio", "gdp_real_cny_bn", "research_output", "interior_research_share",
    "high_tech_share",
)
"""Metrics compared against the reference scenario (one test each, all corrected together)."""


# --------------------------------------------------------------------------------------------------
# tables


def end_values(national: pd.DataFrame) -> pd.DataFrame:
    """The last recorded year of every run: one row per run (``group`` and the metric columns)."""
    if national.empty:
        return national
    last = national.groupby("run_id")["year"].transform("max")
    return national[national["year"] == last].reset_index(drop=True)


def end_year_table(data: ReportData, metrics: tuple[str, ...] = END_YEAR_METRICS) -> pd.DataFrame:
    """End-year metrics per scenario: one row per scenario and metric.

    Columns: ``group, metric, year, mean, low, high, n`` (values in display units, see
    :data:`METRICS`).
    """
    end = end_values(data.national)
    rows = []
    for group in data.groups:
        runs = end[end["group"] == group]
        if runs.empty:
            continue
        years = sorted(runs["year"].unique())
        year = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
        for column in metrics:
            if column not in runs:
                continue
            metric = METRICS[column]
            interval = mean_interval(runs[column].to_numpy(float) * metric.scale)
            rows.append({"group": group, "metric": column, "year": year, "mean": interval.estimate,
                         "low": interval.low, "high": interval.high, "n": interval.n})
    return pd.DataFrame(rows, columns=["group", "metric", "year", "mean", "low", "high", "n"])


def comparison_table(data: ReportData, metrics: tuple[str, ...] = COMPARISON_METRICS) -> pd.DataFrame:
    """Each scenario against its reference (``baseline``) at the end year: one row per pair and metric.

    Columns: ``group, reference, metric, reference_mean, mean, difference, relative, low, high,
    p_value, p_adjusted, n, n_reference``. ``difference`` is mean(group) - mean(reference) in display
    units, ``relative`` the difference as a share of the reference mean, ``low``/``high`` its
    bootstrap interval, ``p_value`` the Mann-Whitney U test and ``p_adjusted`` that p-value
    corrected by :func:`holm_adjust` over every row of the table. Empty when there is no reference.
    """
    columns = ["group", "reference", "metric", "reference_mean", "mean", "difference", "relative", "low",
               "high", "p_value", "p_adjusted", "n", "n_reference"]
    end = end_values(data.national)
    rows = []
    for group in data.groups:
        reference = data.reference.get(group)
        if reference is None or reference == group:
            continue
        sample = end[end["group"] == group]
        base = end[end["group"] == reference]
        if sample.empty or base.empty:
            continue
        for column in metrics:
            if column not in end:
                continue
            scale = METRICS[column].scale
            a = sample[column].to_numpy(float) * scale
            b = base[column].to_numpy(float) * scale
            diff = bootstrap_difference(a, b)
            base_mean = float(np.nanmean(b))
            rows.append({
                "group": group, "reference": reference, "metric": column, "reference_mean": base_mean,
                "mean": float(np.nanmean(a)), "difference": diff.estimate,
                "relative": diff.estimate / base_mean if base_mean != 0 else float("nan"),
                "low": diff.low, "high": diff.high, "p_value": rank_test(a, b),
                "n": int(np.isfinite(a).sum()), "n_reference": int(np.isfinite(b).sum()),
            })
    table = pd.DataFrame(rows, columns=columns)
    if not table.empty:
        table["p_adjusted"] = holm_adjust(table["p_value"].to_numpy(float))
    return table


def events_table(data: ReportData) -> pd.DataFrame:
    """Events that fired, as the mean count per run: one row per scenario, one column per type."""
    events = data.events
    if events.empty:
        return pd.DataFrame()
    counts = events.groupby(["group", "type"], observed=True).size().unstack(fill_value=0)
    runs = data.national.groupby("group", observed=True)["run_id"].nunique()
    per_run = counts.div(runs.reindex(counts.index), axis=0)
    order = [g for g in data.groups if g in per_run.index]
    return per_run.loc[order].rename_axis(index="scenario", columns=None)


# --------------------------------------------------------------------------------------------------
# formatting


def format_number(value: float, decimals: int) -> str:
    """``1,234.5`` with a true minus sign; ``–`` for a missing value."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:,.{decimals}f}".replace("-", "−")


def format_interval(mean: float, low: float, high: float, decimals: int) -> str:
    """``"1.234 [1.100, 1.300]"``, or the mean alone when the interval is undefined."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return format_number(mean, decimals)
    return f"{format_number(mean, decimals)} [{format_number(low, decimals)}, {format_number(high, decimals)}]"


def format_relative(share: float) -> str:
    """A relative difference in %: ``+1.2 %``; two decimals below 0.1 %, so small changes do not read as 0."""
    if share is None or not np.isfinite(share):
        return "–"
    percent = 100.0 * share
    if percent == 0.0:
        return "0.0 %"
    decimals = 2 if abs(percent) < 0.1 else 1
    return f"{percent:+.{decimals}f} %".replace("-", "−")


def format_p(p: float) -> str:
    """A p-value for a table: three significant digits, ``<0.001`` below that."""
    if p is None or not np.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def format_end_year(table: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """The end-year table as strings: one row per metric, one column per scenario."""
    if table.empty:
        return pd.DataFrame()
    cells = {}
    for group in groups:
        rows = table[table["group"] == group].set_index("metric")
        if rows.empty:
            continue
        cells[group] = {
            (METRICS[m].short or METRICS[m].heading): format_interval(rows.at[m, "mean"], rows.at[m, "low"], rows.at[m, "high"],
                                                METRICS[m].decimals)
            for m in rows.index
        }
    frame = pd.DataFrame(cells)
    frame.index.name = "metric"
    return frame


def format_comparison(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The comparison table as strings, one row per scenario and metric."""
    rows = []
    for row in table.itertuples(index=False):
        metric = METRICS[row.metric]
        d = metric.decimals
        dd = d + 1 if d >= 3 else d  # differences of indices are small: one more digit
        signed = format_number(row.difference, dd)
        if np.isfinite(row.difference) and row.difference > 0:
            signed = "+" + signed
        relative = format_relative(row.relative)
        rows.append({
            "scenario": row.group,
            "metric": metric.short or metric.heading,
            "baseline mean": format_number(row.reference_mean, d),
            "scenario mean": format_number(row.mean, d),
            "difference [95 % bootstrap interval]": f"{signed} [{format_number(row.low, dd)}, {format_number(row.high, dd)}]",
            "relative": relative,
            "p (Mann-Whitney)": format_p(row.p_value),
            "p (Holm)": format_p(row.p_adjusted),
            "n": f"{row.n} / {row.n_reference}",
            "significant": "yes" if np.isfinite(row.p_adjusted) and row.p_adjusted < alpha else "no",
        })
    return pd.DataFrame(rows)
