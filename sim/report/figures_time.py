"""Report figures of national metrics: over time (Gini, Theil split, GDP, research, interior share) and the trade-off.

One line and 95 % band per scenario in its colour; GDP and research output also get a panel of
the difference from baseline (Welch interval). The trade-off puts every scenario's end-year Gini
against national GDP and research output.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.special import stdtrit

from sim.report.figure_files import FigureFile
from sim.report.figures_common import (
    band_note,
    legend_height,
    panel_title,
    plot_band,
    save_figure,
    scenario_legend,
    year_axis,
    yearly_band,
)
from sim.report.statistics import LEVEL
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
        t = stdtrit(dof, 0.5 + LEVEL / 2.0)
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
    # one scale for all panels, set on each rather than shared: shared axes lay out and draw each
    # other's ticks again for every panel (most of this figure's cost)
    axes = fig.subplots(nrows, ncols, squeeze=False)
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
        else:  # the left column carries the scale
            ax.yaxis.set_tick_params(labelleft=False)
        if i + ncols < len(groups):  # the panel below carries the year axis
            ax.set_xlabel("")
            ax.xaxis.set_tick_params(labelbottom=False)
    for j in range(len(groups), nrows * ncols):
        axes[j // ncols][j % ncols].remove()  # nothing to lay out or draw there
    for ax in fig.axes:
        ax.set_ylim(0, top * 1.08 if top > 0 else 1)
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


def _relative_points(data: ReportData, end: pd.DataFrame, column: str) -> dict[str, tuple[float, float, float]]:
    """Group -> (difference of end-year means from baseline in % of baseline, interval low, high)."""
    from sim.report.statistics import bootstrap_difference

    out = {}
    for group in data.groups:
        reference = data.reference.get(group)
        if reference is None:
            continue
        own = end.loc[end["group"] == group, column].to_numpy(float)
        ref = end.loc[end["group"] == reference, column].to_numpy(float)
        if own.size == 0 or ref.size == 0:
            continue
        base = float(np.nanmean(ref))
        if group == reference:
            out[group] = (0.0, np.nan, np.nan)
            continue
        diff = bootstrap_difference(own, ref)
        out[group] = (100 * diff.estimate / base, 100 * diff.low / base, 100 * diff.high / base)
    return out


def _baseline_spread(end: pd.DataFrame, reference: str, column: str) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the reference's own runs, in % of its mean (seed noise)."""
    values = end.loc[end["group"] == reference, column].to_numpy(float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (0.0, 0.0)
    low, high = np.percentile(100 * (values / values.mean() - 1.0), [2.5, 97.5])
    return float(low), float(high)


def _place_labels(ax, points: list[tuple[float, float, str, str]], fontsize: float = 8.0,
                  whiskers: list[tuple[float, float, float, float]] = ()) -> None:
    """Label each point next to it, choosing for each the first of eight positions that does not overlap a
    label, a point or a whisker (``whiskers``: x0, x1, y0, y1 in data units) already there (estimated in
    points; the axes limits must be final)."""
    fig = ax.figure
    to_pt = ax.transData + fig.dpi_scale_trans.inverted()  # data -> inches
    placed: list[tuple[float, float, float, float]] = []
    marks = [(to_pt.transform((x, y)) * 72.0) for x, y, _, _ in points]
    placed += [(px[0] - 5, px[1] - 5, px[0] + 5, px[1] + 5) for px in marks]
    for x0, x1, y0, y1 in whiskers:
        a, b = to_pt.transform((x0, y0)) * 72.0, to_pt.transform((x1, y1)) * 72.0
        placed.append((min(a[0], b[0]) - 4, min(a[1], b[1]) - 4, max(a[0], b[0]) + 4, max(a[1], b[1]) + 4))
    offsets = [(7, 2), (7, -12), (-7, 2), (-7, -12), (0, 7), (0, -17), (12, -5), (-12, -5)]
    for (x, y, text, colour), mark in zip(points, marks, strict=True):
        if not text:
            continue
        width = len(text) * 0.62 * fontsize  # bold
        height = fontsize * 1.2
        chosen = offsets[0]
        for dx, dy in offsets:
            left = mark[0] + dx - (width if dx < 0 else width / 2 if dx == 0 else 0)
            box = (left, mark[1] + dy, left + width, mark[1] + dy + height)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                chosen = (dx, dy)
                placed.append(box)
                break
        else:
            dx, dy = chosen
            left = mark[0] + dx
            placed.append((left, mark[1] + dy, left + width, mark[1] + dy + height))
        dx, dy = chosen
        ha = "left" if dx > 0 else "right" if dx < 0 else "center"
        # in the point's colour (a light colour darkened), so that a label is read with its point
        rgb = np.array(mpl.colors.to_rgb(colour))
        ink = rgb * 0.6 if rgb @ np.array([0.299, 0.587, 0.114]) > 0.6 else rgb
        ax.annotate(text, (x, y), xytext=(dx, dy + height / 2), textcoords="offset points", ha=ha, va="center",
                    fontsize=fontsize, color=tuple(ink), fontweight="bold")


def figure_tradeoff(data: ReportData, folder: Path) -> list[FigureFile]:
    """Each scenario's end-year change in the Gini against its change in real GDP and in research output,
    in % of baseline, one labelled point per scenario, baseline's own spread drawn around the origin."""
    end = end_values(data.national)
    pairs = [("gdp_real_cny_bn", "Real GDP"), ("research_output", "Research output")]
    pairs = [p for p in pairs if p[0] in end]
    references = {r for r in data.reference.values() if r is not None}
    if "gini" not in end or not pairs or len(references) != 1:
        return []
    (reference,) = references
    gini = _relative_points(data, end, "gini")
    fig = Figure(figsize=(10.0, 4.9), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    gx = _baseline_spread(end, reference, "gini")
    for ax, (column, label) in zip(axes, pairs, strict=True):
        values = _relative_points(data, end, column)
        gy = _baseline_spread(end, reference, column)
        ax.add_patch(mpl.patches.Rectangle((gx[0], gy[0]), gx[1] - gx[0], gy[1] - gy[0], facecolor="#d0d0d0",
                                           edgecolor="#909090", lw=0.6, alpha=0.6, zorder=1))
        ax.axhline(0.0, color="#555555", lw=0.8, zorder=1)
        ax.axvline(0.0, color="#555555", lw=0.8, zorder=1)
        points = []
        whiskers = []
        xs, ys = [0.0, *gx], [0.0, *gy]
        for group in data.groups:
            if group not in values or group not in gini:
                continue
            x, xl, xh = gini[group]
            y, yl, yh = values[group]
            xerr = None if not np.isfinite(xl) else [[x - xl], [xh - x]]
            yerr = None if not np.isfinite(yl) else [[y - yl], [yh - y]]
            ax.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="o", color=data.colours[group], ms=7, mec="white",
                        mew=0.8, capsize=2.5, elinewidth=1.2, zorder=3)
            # the reference is the origin, said in the corner: its point is kept clear but not labelled
            points.append((x, y, group if group != reference else "", data.colours[group]))
            if np.isfinite(xl):
                whiskers.append((xl, xh, y, y))
            if np.isfinite(yl):
                whiskers.append((x, x, yl, yh))
            xs += [x, xl if np.isfinite(xl) else x, xh if np.isfinite(xh) else x]
            ys += [y, yl if np.isfinite(yl) else y, yh if np.isfinite(yh) else y]
        # both axes through zero (the baseline) with a margin; nothing is cut off or blown up
        xspan = max(max(xs) - min(xs), 1.0)
        yspan = max(max(ys) - min(ys), 1.0)
        ax.set_xlim(min(xs) - 0.12 * xspan, max(xs) + 0.22 * xspan)
        ax.set_ylim(min(ys) - 0.12 * yspan, max(ys) + 0.15 * yspan)
        ax.set_xlabel("Gini: change from baseline (%; left = more equal)")
        ax.set_ylabel(f"{label}: change from baseline (%)")
        ax.set_title(f"Inequality against {label[0].lower() + label[1:]}")
        ax.annotate(f"black point at the origin: {reference}\nup and to the left: more equal, more output",
                    xy=(0.01, 0.99), xycoords="axes fraction", ha="left", va="top", fontsize=7.5, color="#555555")
        _place_labels(ax, points, whiskers=whiskers)
    years = sorted(end["year"].unique())
    year_text = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    fig.suptitle(f"Trade-off in {year_text}: each scenario against {reference}")
    png, svg = save_figure(fig, folder, "tradeoff")
    n = int(end.loc[end["group"] == reference, "run_id"].nunique())
    caption = (f"One labelled point per scenario in the end year: its change in the Gini coefficient (horizontal) "
               f"against its change in real GDP (left) and in research output (right), each as the difference of "
               f"the means across replicates from {reference}, in % of {reference}; whiskers are percentile-bootstrap "
               f"95 % intervals. Both axes are differences from {reference} and pass through zero ({reference} is "
               f"the origin). The grey box is {reference}'s own spread, the 2.5th to 97.5th percentile of its "
               f"{n} runs around their mean: how far seed noise alone moves one run. Up and to the left is better on "
               "both counts.")
    return [FigureFile("tradeoff", "tradeoff", "Inequality against output at the end year", caption, png, svg)]
