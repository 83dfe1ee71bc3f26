"""What each strategy costs beyond its reference, and what it returns: :func:`cost_table`.

For every run, the money paid for science and a strategy's instruments is summed over the
recorded years and the provinces, split by who pays (the province table's ``cost_provincial_cny_bn``,
``cost_central_cny_bn`` and ``cost_foreign_cny_bn``), and real GDP (``gdp_real_cny_bn`` of the
national table) is summed over the same years. A scenario's *extra cost* is the mean of its runs'
sums minus the mean of its reference's (``baseline``, or its same-cost placebo); the *real GDP
gained* is the same difference of the summed real GDP; the *return* is real GDP gained per yuan of
extra cost, against ``baseline`` only, and only when the extra cost is positive throughout its
interval (a placebo costs the same by construction, and a ratio to a cost near zero means nothing). Intervals are percentile-bootstrap 95 %
intervals of the differences (:func:`~sim.report.statistics.bootstrap_difference`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.report.statistics import bootstrap_difference

if TYPE_CHECKING:
    from sim.report.data import ReportData

COST_COLUMNS: dict[str, str] = {
    "cost_provincial_cny_bn": "provincial",
    "cost_central_cny_bn": "central",
    "cost_foreign_cny_bn": "foreign",
}
"""Province-table cost columns -> who pays."""


RETURN_FLOOR_BN = 1.0
"""Below this extra cost (CNY bn over the run) a return is not computed: there is nothing to divide by."""


COST_TABLE_COLUMNS = [
    "group", "reference", "comparison", "runs", "years", "extra_cost_cny_bn", "extra_cost_low", "extra_cost_high",
    "extra_provincial_cny_bn", "extra_central_cny_bn", "extra_foreign_cny_bn", "gdp_gained_cny_bn",
    "gdp_gained_low", "gdp_gained_high", "return_per_yuan",
]
"""Columns of :func:`cost_table` (money in CNY bn at start-year prices, summed over the years)."""


def run_totals(data: ReportData) -> pd.DataFrame:
    """One row per complete run: ``run_id, group`` and, summed over the recorded years, each cost
    column, ``cost_total_cny_bn`` and ``gdp_real_sum_cny_bn`` (empty without the cost columns)."""
    province = data.province
    costs = [c for c in COST_COLUMNS if c in province.columns]
    if province.empty or not costs or "gdp_real_cny_bn" not in data.national.columns:
        return pd.DataFrame()
    per_run = province.groupby("run_id", sort=True)[costs].sum()
    for column in COST_COLUMNS:
        if column not in per_run:
            per_run[column] = 0.0
    per_run["cost_total_cny_bn"] = per_run[list(COST_COLUMNS)].sum(axis=1)
    national = data.national
    per_run["gdp_real_sum_cny_bn"] = national.groupby("run_id")["gdp_real_cny_bn"].sum()
    per_run["group"] = national.drop_duplicates("run_id").set_index("run_id")["group"]
    return per_run.reset_index()


def comparisons(data: ReportData) -> list[tuple[str, str, str]]:
    """(group, reference group, kind) pairs in report order: each group against ``baseline``
    (kind ``"baseline"``), then against its same-cost placebo when it has one (kind ``"placebo"``)."""
    out = []
    for group in data.groups:
        reference = data.reference.get(group)
        if reference is not None and reference != group:
            out.append((group, reference, "baseline"))
        placebo = data.placebos.get(group)
        if placebo is not None:
            out.append((group, placebo, "placebo"))
    return out


def year_span(data: ReportData) -> str:
    """``2022-2050``: the recorded years the sums run over."""
    years = data.national["year"]
    return f"{int(years.min())}-{int(years.max())}"


def cost_table(data: ReportData) -> pd.DataFrame:
    """Extra cost, real GDP gained and return of every group against its reference and its placebo.

    One row per pair of :func:`comparisons`; columns :data:`COST_TABLE_COLUMNS`. Empty when the
    results have no cost columns (no province table) or no reference.
    """
    totals = run_totals(data)
    if totals.empty:
        return pd.DataFrame(columns=COST_TABLE_COLUMNS)
    span = year_span(data)
    rows = []
    for group, reference, kind in comparisons(data):
        own = totals[totals["group"] == group]
        ref = totals[totals["group"] == reference]
        if own.empty or ref.empty:
            continue
        cost = bootstrap_difference(own["cost_total_cny_bn"], ref["cost_total_cny_bn"])
        gdp = bootstrap_difference(own["gdp_real_sum_cny_bn"], ref["gdp_real_sum_cny_bn"])
        parts = {f"extra_{who}_cny_bn": float(own[c].mean() - ref[c].mean()) for c, who in COST_COLUMNS.items()}
        rows.append({
            "group": group, "reference": reference, "comparison": kind, "runs": len(own), "years": span,
            "extra_cost_cny_bn": cost.estimate, "extra_cost_low": cost.low, "extra_cost_high": cost.high, **parts,
            "gdp_gained_cny_bn": gdp.estimate, "gdp_gained_low": gdp.low, "gdp_gained_high": gdp.high,
            "return_per_yuan": (gdp.estimate / cost.estimate
                                if kind == "baseline" and cost.estimate > RETURN_FLOOR_BN and cost.low > 0
                                else float("nan")),
        })
    return pd.DataFrame(rows, columns=COST_TABLE_COLUMNS)


def format_bn(value: float) -> str:
    """``17,712`` (CNY bn, no decimals; one decimal below 10), true minus sign; ``–`` when missing."""
    if value is None or not np.isfinite(value):
        return "–"
    if abs(value) < 0.05:
        return "0"
    text = f"{value:,.1f}" if abs(value) < 10 else f"{value:,.0f}"
    return text.replace("-", "−")


def return_text(row: pd.Series | dict) -> str:
    """The return in words: ``20.7 yuan of real GDP per extra yuan``, or why there is none."""
    value = row["return_per_yuan"]
    if np.isfinite(value):
        return f"{value:.1f} yuan of real GDP per extra yuan".replace("-", "−")
    extra = row["extra_cost_cny_bn"]
    if row["comparison"] == "placebo":
        return "no return computed against a placebo (the same money by construction)"
    if extra < -RETURN_FLOOR_BN:
        return "no return computed: it costs less than baseline"
    if extra > RETURN_FLOOR_BN:
        return "no return computed: the extra cost's 95 % interval includes zero"
    return "no return computed: no extra cost"
