"""Report figures of national metrics: over time (Gini, Theil split, GDP, research, interior share) and the trade-off.

One line and 95 % band per scenario in its colour; GDP and research output also get a panel of
the difference from baseline (Welch interval). The trade-off puts every scenario's end-year Gini
against national GDP and research output.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats

from sim.report.figures_common import (
    FigureFile,
    band_note,
    legend_height,
    panel_title,
    plot_band,
    save_figure,
    scenario_legend,
    year_axis,
    yearly_band,
)
from sim.report.statistics import LEVEL, mean_interval
from sim.report.tables import METRICS, end_values

if TYPE_CHECKING:
    from sim.report.data import ReportData

def _difference_band(frame: pd.DataFrame, reference: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per year: 100 (mean - mean_ref) / mean_ref with a Welch 95 % interval."""
    def stats_of(f: pd.DataFrame) -> pd.DataFrame:
        return f.groupby("year")[column].agg(["mean", "var", "count"])

    a, b = stats_of(frame), stats_of(reference)
    both = a.add_suffix("_a").join(b.add_suffix("_b"), how="inner")
    diff = both["mean_a"] - both["mean_b"]
    va = both["var_a"] / both["count_a"]
    vb = both["var_b"] / both["count_b"]
    se = np.sqrt(va + vb)
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = (va + vb) ** 2 / (va**2 / (both["count_a"] - 1) + vb**2 / (both["count_b"] - 1))
        t = stats.t.ppf(0.5 + LEVEL / 2.0, dof)
    half = np.where(se > 0, t * se, 0.0)
    half = np.where((both["count_a"] > 1) & (both["count_b"] > 1), half, np.nan)
    scale = 100.0 / both["mean_b"]
    return pd.DataFrame({"year": both.index, "mean": diff * scale, "low": (diff - half) * scale,
                         "high": (diff + half) * scale})


# --------------------------------------------------------------------------------------------------
# national metrics over time


def _timeseries(data: ReportData, folder: Path, name: str, column: str, title: str, ylabel: str,
                caption: str, relative: bool) -> FigureFile | None:
    national = data.national
    if column not in national:
        return None
    metric = METRICS[column]
    has_reference = relative and any(r is not None and r != g for g, r in data.reference.items())
    width = 10.0 if has_reference else 7.0
    fig = Figure(figsize=(width, 4.2 + legend_height(width, data.groups)), layout="constrained")
    axes = fig.subplots(1, 2 if has_reference else 1, squeeze=False)[0]
    ax = axes[0]
    for group in data.groups:
        band = yearly_band(national[national["group"] == group], column, metric.scale)
        # every national metric is non-negative and shares stop at 100 %: a t-interval from very
        # few runs can pass those bounds, the drawn band does not
        band["low"] = band["low"].clip(lower=0.0)
        if metric.unit == "%":
            band["high"] = band["high"].clip(upper=100.0)
        plot_band(ax, band, data.colours[group], group, data.linestyle(group))
    year_axis(ax, national["year"].unique())
    ax.set_ylabel(ylabel)
    ax.set_title(title if not has_reference else "Level")
    shown = list(data.groups)
    if has_reference:
        right = axes[1]
        # the baseline is the zero line, in its own colour (as in the legend)
        right.axhline(0.0, color=data.colours.get("baseline", "#555555"), lw=1.8)
        for group in data.groups:
            reference = data.reference.get(group)
            if reference is None or reference == group:
                continue
            band = _difference_band(national[national["group"] == group],
                                    national[national["group"] == reference], column)
            plot_band(right, band, data.colours[group], group, data.linestyle(group))
        year_axis(right, national["year"].unique())
        right.set_ylabel("Difference from baseline (% of baseline)")
        right.set_title("Against baseline")
        fig.suptitle(title)
        caption += (" Right: the difference of means from the baseline scenario as a percentage of the "
                    "baseline mean, with a 95 % Welch interval.")
    scenario_legend(fig, data, shown)
    png, svg = save_figure(fig, folder, name)
    return FigureFile(name, "output" if column != "gini" else "inequality", title,
                      caption + " " + band_note(data), png, svg)


def figure_gini(data: ReportData, folder: Path) -> list[FigureFile]:
    """Gini of provincial GDP per capita over time, one line and band per scenario."""
    made = _timeseries(
        data, folder, "gini", "gini", "Inequality between provinces: Gini of GDP per capita",
        "Gini coefficient (0 = equal)",
        "Population-weighted Gini coefficient of provincial GDP per capita; lower is more equal.", relative=False)
    return [made] if made else []


def figure_theil(data: ReportData, folder: Path) -> list[FigureFile]:
    """Theil T split into its between-region and within-region parts, stacked, one panel per scenario."""
    national = data.national
    needed = {"theil_between_region", "theil_within_region", "theil"}
    if not needed <= set(national.columns):
        return []
    groups = data.groups
    ncols = min(len(groups), 4)
    nrows = int(np.ceil(len(groups) / ncols))
    fig = Figure(figsize=(max(6.0, 2.6 * ncols + 0.6), 2.4 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    top = 0.0
    banded = False
    for i, group in enumerate(groups):
        ax = axes[i // ncols][i % ncols]
        runs = national[national["group"] == group]
        between = yearly_band(runs, "theil_between_region")
        within = yearly_band(runs, "theil_within_region")
        total = yearly_band(runs, "theil")
        colour = data.colours[group]
        ax.fill_between(between["year"], 0, between["mean"], color=colour, alpha=0.85, lw=0)
        ax.fill_between(between["year"], between["mean"], between["mean"] + within["mean"], color=colour,
                        alpha=0.3, lw=0, hatch="///", edgecolor="white")
        ax.plot(total["year"], total["mean"], color=colour, lw=1.2)
        if np.isfinite(total["low"]).any():
            banded = True
            ax.fill_between(total["year"], total["low"], total["high"], color="none", edgecolor=colour,
                            lw=0.6, linestyle="--")
        top = max(top, float(np.nanmax(np.r_[total["high"].to_numpy(float), total["mean"].to_numpy(float)])))
        panel_title(ax, group, colour, 2.6)
        year_axis(ax, runs["year"].unique(), max_ticks=5)
        if i % ncols == 0:
            ax.set_ylabel("Theil T (index)")
        if i + ncols < len(groups):
            ax.set_xlabel("")
        else:  # nothing below: this panel carries the year axis
            ax.xaxis.set_tick_params(labelbottom=True)
    for j in range(len(groups), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    axes[0][0].set_ylim(0, top * 1.08 if top > 0 else 1)
    handles = [Patch(facecolor="#444444", alpha=0.85, label="between the four regions"),
               Patch(facecolor="#444444", alpha=0.3, hatch="///", edgecolor="white", label="within regions")]
    if banded:
        handles.append(Line2D([], [], color="#444444", lw=0.6, linestyle="--", label="95 % interval of the total"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), title="Theil T of GDP per capita",
               title_fontsize=8.5)
    fig.suptitle("Inequality split: between and within regions (Theil T)")
    png, svg = save_figure(fig, folder, "theil_decomposition")
    caption = ("Theil T of provincial GDP per capita (population-weighted) split into the part between the four "
               "regions (east, central, west, northeast; solid) and the part within them (hatched); the two "
               "stack to the total (line). Means across replicates; the dashed outline is the 95 % interval "
               "of the total.")
    return [FigureFile("theil_decomposition", "inequality", "Theil T: between and within regions", caption,
                       png, svg)]


def figure_gdp(data: ReportData, folder: Path) -> list[FigureFile]:
    """National GDP over time, with its difference from baseline."""
    made = _timeseries(data, folder, "gdp", "gdp_real_cny_bn", "National GDP",
                       "Real GDP (CNY trillion of the start year, chained)",
                       "National GDP, sum of the provinces, in start-year prices.", relative=True)
    return [made] if made else []


def figure_research(data: ReportData, folder: Path) -> list[FigureFile]:
    """National research output over time, with its difference from baseline."""
    made = _timeseries(data, folder, "research_output", "research_output", "Research output",
                       "Research output (thousand SCI papers per year)",
                       "Research output of all provinces, in SCI-paper equivalents per year.", relative=True)
    return [made] if made else []


def figure_interior_share(data: ReportData, folder: Path) -> list[FigureFile]:
    """The interior provinces' share of national research output over time."""
    made = _timeseries(data, folder, "interior_research_share", "interior_research_share",
                       "Interior provinces' share of research output", "Interior share of research output (%)",
                       "Share of national research output produced by the interior (non-coastal) provinces.",
                       relative=False)
    return [made] if made else []


# --------------------------------------------------------------------------------------------------
# the trade-off


def figure_tradeoff(data: ReportData, folder: Path) -> list[FigureFile]:
    """End-year Gini against national GDP and against research output, one point per scenario."""
    end = end_values(data.national)
    pairs = [("gdp_real_cny_bn", "Real GDP (CNY trillion of the start year, chained)"),
             ("research_output", "Research output (thousand SCI papers per year)")]
    pairs = [p for p in pairs if p[0] in end]
    if "gini" not in end or not pairs:
        return []
    fig = Figure(figsize=(10.0, 4.4 + legend_height(10.0, data.groups)), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    for ax, (column, ylabel) in zip(axes, pairs, strict=True):
        scale = METRICS[column].scale
        for group in data.groups:
            runs = end[end["group"] == group]
            if runs.empty:
                continue
            x = mean_interval(runs["gini"].to_numpy(float))
            y = mean_interval(runs[column].to_numpy(float) * scale)
            xerr = None if not np.isfinite(x.low) else [[x.estimate - x.low], [x.high - x.estimate]]
            yerr = None if not np.isfinite(y.low) else [[y.estimate - y.low], [y.high - y.estimate]]
            ax.errorbar([x.estimate], [y.estimate], xerr=xerr, yerr=yerr, fmt="o", color=data.colours[group],
                        ms=7, mec="white", mew=0.8, capsize=3, elinewidth=1.4, label=group)
        ax.set_xlabel("Gini of GDP per capita at the end year (lower is more equal)")
        ax.set_ylabel(ylabel)
        ax.margins(x=0.15, y=0.15)
        ax.annotate("better: up and to the left", xy=(0.02, 0.97), xycoords="axes fraction", ha="left",
                    va="top", fontsize=7.5, color="#555555")
    years = sorted(end["year"].unique())
    year_text = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    fig.suptitle(f"Trade-off at {year_text}: inequality against output")
    ended = set(end["group"].unique())
    scenario_legend(fig, data, [g for g in data.groups if g in ended], marker=True)
    png, svg = save_figure(fig, folder, "tradeoff")
    caption = ("One point per scenario at the end year: the mean across replicates of the Gini coefficient "
               "(horizontal) against national GDP (left) and research output (right); whiskers are 95 % "
               "confidence intervals of the mean (Student t). Up and to the left is better on both counts.")
    return [FigureFile("tradeoff", "tradeoff", "Inequality against output at the end year", caption, png, svg)]
