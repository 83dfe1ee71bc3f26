"""End-year summary of a batch: mean and 95 % t-interval of each metric per scenario and sweep point.

The summary is built from the ``runs`` table part by part (:class:`RunsSummary` keeps mergeable
moments per group), so memory grows with the number of groups, not of runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.store import part_ids

__all__ = ["SUMMARY_METRICS", "RunsSummary", "format_summary", "summarise_folder", "summarise_runs"]

SUMMARY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("final_gdp_real_cny_bn", "GDP (CNY bn)", "{:,.0f}"),
    ("final_gini", "Gini", "{:.4f}"),
    ("final_theil_between_region", "Theil between regions", "{:.4f}"),
    ("final_interior_research_share", "interior research share", "{:.3f}"),
    ("final_research_output", "research output (papers)", "{:,.0f}"),
)
"""End-year metrics of the batch summary: runs-table column, label, format."""


class _Moments:
    """Count, mean and sum of squared deviations of a stream of values, mergeable (Chan et al.)."""

    __slots__ = ("n", "mean", "m2")

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        values = values[~np.isnan(values)]
        if not len(values):
            return
        n_b, mean_b = len(values), float(values.mean())
        m2_b = float(((values - mean_b) ** 2).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n

    def interval(self) -> tuple[float, float, float]:
        """Mean and the 95 % t-interval of the mean (NaN bounds with fewer than two values)."""
        from scipy.special import stdtrit

        if self.n == 0:
            return math.nan, math.nan, math.nan
        if self.n == 1:
            return self.mean, math.nan, math.nan
        half = float(stdtrit(self.n - 1, 0.975)) * math.sqrt(self.m2 / (self.n - 1)) / math.sqrt(self.n)
        return self.mean, self.mean - half, self.mean + half


class RunsSummary:
    """End-year metrics per scenario and sweep point, fed ``runs`` rows part by part.

    Memory grows with the number of groups, not of runs. :meth:`frame` gives the table of
    :func:`summarise_runs`.
    """

    def __init__(self, sweep_columns: Iterable[str] = ()) -> None:
        self.keys = ["scenario", *sweep_columns]
        self.groups: dict[tuple, dict[str, Any]] = {}
        self.runs = 0

    def add(self, runs: pd.DataFrame) -> None:
        """Add some rows of a ``runs`` table."""
        self.runs += len(runs)
        if runs.empty:
            return
        for group, frame in runs.groupby(self.keys, sort=False, dropna=False):
            group = group if isinstance(group, tuple) else (group,)
            entry = self.groups.get(group)
            if entry is None:
                entry = self.groups[group] = {"ok": 0, "failed": 0, "end_years": set(),
                                              "moments": {m: _Moments() for m, _l, _f in SUMMARY_METRICS}}
            ok = frame[frame["status"] == "ok"]
            entry["ok"] += len(ok)
            entry["failed"] += len(frame) - len(ok)
            if "end_year" in ok:
                entry["end_years"].update(int(y) for y in ok["end_year"].unique())
            for metric, moments in entry["moments"].items():
                if metric in ok:
                    moments.add(ok[metric].to_numpy(dtype=float))

    def frame(self) -> pd.DataFrame:
        """One row per group: group columns, ``runs``, ``failed``, ``end_year``, ``<metric>_mean/_lo/_hi``."""
        rows = []
        for group, entry in self.groups.items():
            row: dict[str, Any] = dict(zip(self.keys, group, strict=True))
            row["runs"], row["failed"] = entry["ok"], entry["failed"]
            row["end_year"] = max(entry["end_years"]) if entry["end_years"] else pd.NA
            for metric, moments in entry["moments"].items():
                row[f"{metric}_mean"], row[f"{metric}_lo"], row[f"{metric}_hi"] = moments.interval()
            rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else self.keys)


def summarise_runs(runs: pd.DataFrame, sweep_columns: Iterable[str] = ()) -> pd.DataFrame:
    """End-year metrics per scenario and sweep point: mean and 95 % t-interval of the mean.

    The interval is ``mean +/- t(0.975, n-1) * sd / sqrt(n)`` over the runs that finished (NaN
    with one run). Groups keep run-list order.

    Args:
        runs: a ``runs`` table (or part of it).
        sweep_columns: the swept columns that, with ``scenario``, define a group.

    Returns:
        One row per group: the group columns, ``runs`` (ok), ``failed``, ``end_year``, and for
        each metric of :data:`SUMMARY_METRICS` ``<metric>_mean``, ``<metric>_lo``, ``<metric>_hi``.
    """
    summary = RunsSummary(sweep_columns)
    summary.add(runs.sort_values("run_id") if "run_id" in runs else runs)
    return summary.frame()


def summarise_folder(folder: str | Path, sweep_columns: Iterable[str] = (), max_failures: int = 1000,
                     rows_per_read: int = 50_000) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Read a batch's ``runs`` table in batches of rows: (summary, failed runs, runs done, runs failed).

    At most ``rows_per_read`` rows are in memory at once, however large the parts (compacted parts
    hold many runs); only the first ``max_failures`` failed runs are returned in full (all are counted).
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    sweep_columns = list(sweep_columns)
    summary = RunsSummary(sweep_columns)
    keep = ["run_id", "scenario", "replicate", *sweep_columns, "error"]
    wanted = [*keep, "status", "end_year", *(m for m, _l, _f in SUMMARY_METRICS)]
    failed: list[pd.DataFrame] = []
    n_failed = kept = 0
    for part in sorted(part_ids(folder, "runs")):
        source = pq.ParquetFile(folder / "runs" / f"part-{part}.parquet")
        for batch in source.iter_batches(batch_size=rows_per_read, columns=wanted, use_threads=False):
            frame = batch.to_pandas()
            summary.add(frame)
            bad = frame[frame["status"] != "ok"]
            n_failed += len(bad)
            if len(bad) and kept < max_failures:
                failed.append(bad[keep].head(max_failures - kept))
                kept += len(failed[-1])
    failures = pd.concat(failed, ignore_index=True) if failed else pd.DataFrame(columns=keep)
    return summary.frame(), failures, summary.runs, n_failed


def format_summary(summary: pd.DataFrame, sweep_columns: Iterable[str] = ()) -> str:
    """The summary as a terminal table: ``mean [lo, hi]`` per metric."""
    if summary.empty:
        return "(no finished runs)"
    keys = ["scenario", *sweep_columns]
    table = summary[keys].copy()
    if summary["end_year"].nunique() > 1:
        table["end year"] = summary["end_year"]
    table["runs"] = summary["runs"].astype(str) + summary["failed"].map(lambda f: f" ({f} failed)" if f else "")
    for column, label, fmt in SUMMARY_METRICS:
        cells = []
        for mean, lo, hi in zip(summary[f"{column}_mean"], summary[f"{column}_lo"], summary[f"{column}_hi"], strict=True):
            if math.isnan(mean):
                cells.append("-")
            elif math.isnan(lo):
                cells.append(fmt.format(mean))
            else:
                cells.append(f"{fmt.format(mean)} [{fmt.format(lo)}, {fmt.format(hi)}]")
        table[label] = cells
    years = summary["end_year"].dropna().unique()
    title = (f"End-year ({int(years[0])}) " if len(years) == 1 else "End-year ") + \
        "metrics: mean [95 % confidence interval of the mean, t-distribution]"
    ok_runs = summary["runs"] - summary["failed"]
    note = ""
    if (ok_runs < 5).any():
        note = ("\nnote: with fewer than 5 runs per group the intervals are wide and can pass a metric's natural "
                "bounds (a share above 100 %); add replicates for a comparison")
    with pd.option_context("display.width", 250, "display.max_columns", 50, "display.max_colwidth", 40):
        return title + "\n" + table.to_string(index=False) + note
