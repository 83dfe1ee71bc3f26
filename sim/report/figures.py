"""Figures of a report, drawn with matplotlib's object-oriented API (no pyplot, no global backend).

Each scenario keeps one colour in every figure (:func:`sim.report.scenario_colours`, Okabe-Ito);
strategies in the adoption figure use Paul Tol's "bright" palette so they are never mistaken for
scenarios. Every figure is written as PNG (150 dpi) and SVG by :func:`make_figures`, which returns
what it wrote with a title and a caption for the HTML and Markdown pages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredOffsetbox, DrawingArea, HPacker, TextArea
from matplotlib.patches import Patch, Rectangle
from scipy import stats

from sim.report.tables import LEVEL, METRICS, end_values

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.report import ReportData

log = logging.getLogger(__name__)

DPI = 150

STYLE: dict[str, object] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "savefig.dpi": DPI,
    "svg.hashsalt": "sim-report",
    "svg.fonttype": "path",
}
"""Matplotlib settings every report figure is drawn with."""

TOL_BRIGHT: tuple[str, ...] = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")
"""Paul Tol's colour-blind-safe "bright" palette, for strategies."""

COASTAL_GREY = "#B0B0B0"

STRATEGY_DASHES: tuple[object, ...] = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (2, 2)))
"""Line styles of the adoption lines, so that lines lying on top of each other stay visible."""

PROVINCE_CODES: dict[str, str] = {
    "Beijing": "BJ", "Tianjin": "TJ", "Hebei": "HE", "Shanxi": "SX", "Inner Mongolia": "NM", "Liaoning": "LN",
    "Jilin": "JL", "Heilongjiang": "HL", "Shanghai": "SH", "Jiangsu": "JS", "Zhejiang": "ZJ", "Anhui": "AH",
    "Fujian": "FJ", "Jiangxi": "JX", "Shandong": "SD", "Henan": "HA", "Hubei": "HB", "Hunan": "HN",
    "Guangdong": "GD", "Guangxi": "GX", "Hainan": "HI", "Chongqing": "CQ", "Sichuan": "SC", "Guizhou": "GZ",
    "Yunnan": "YN", "Tibet": "XZ", "Shaanxi": "SN", "Gansu": "GS", "Qinghai": "QH", "Ningxia": "NX",
    "Xinjiang": "XJ",
}
"""Two-letter province codes (ISO 3166-2:CN) used on the tile-grid maps."""


@dataclass(frozen=True)
class FigureFile:
    """A figure written to disk.

    Attributes:
        name: the file stem (``figures/<name>.png`` and ``.svg``).
        section: the report section it belongs to.
        title: a one-line title.
        caption: how to read it.
        png, svg: the files.
    """

    name: str
    section: str
    title: str
    caption: str
    png: Path
    svg: Path


SECTIONS: dict[str, str] = {
    "inequality": "Inequality between provinces",
    "output": "National output and research",
    "tradeoff": "The trade-off: inequality against output",
    "maps": "Provinces on the map",
    "ranking": "Research-output ranking of provinces",
    "adoption": "Strategy adoption",
}
"""Report sections that hold figures, in order."""


def slug(text: str) -> str:
    """A file-name-safe form of a scenario or group name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _save(fig: Figure, folder: Path, name: str) -> tuple[Path, Path]:
    png = folder / f"{name}.png"
    svg = folder / f"{name}.svg"
    fig.draw_without_rendering()  # a first layout pass places the titles; the save then lays out around them
    fig.savefig(png, dpi=DPI, bbox_inches="tight", facecolor="white")
    fig.savefig(svg, bbox_inches="tight", facecolor="white", metadata={"Date": None})
    return png, svg


def _t_half(std: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Half-width of the Student-t interval of a mean (NaN with fewer than two values)."""
    count = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + LEVEL / 2.0, np.where(count > 1, count - 1, np.nan))
        return t * np.asarray(std, dtype=float) / np.sqrt(count)


def yearly_band(frame: pd.DataFrame, column: str, scale: float = 1.0) -> pd.DataFrame:
    """Per year: the mean of ``column`` across runs and its 95 % t-interval (``year, mean, low, high, n``)."""
    values = frame[["year", column]].assign(value=frame[column].astype(float) * scale)
    agg = values.groupby("year")["value"].agg(["mean", "std", "count"]).reset_index()
    half = _t_half(agg["std"].to_numpy(), agg["count"].to_numpy())
    return pd.DataFrame({"year": agg["year"], "mean": agg["mean"], "low": agg["mean"] - half,
                         "high": agg["mean"] + half, "n": agg["count"]})


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


def _plot_band(ax: Axes, band: pd.DataFrame, colour: str, label: str, linestyle: str = "-") -> None:
    ax.plot(band["year"], band["mean"], color=colour, lw=1.8, label=label, linestyle=linestyle)
    if np.isfinite(band["low"]).any():
        ax.fill_between(band["year"], band["low"], band["high"], color=colour, alpha=0.18, lw=0)


def _year_axis(ax: Axes, years: np.ndarray, max_ticks: int = 9) -> None:
    """Years on the x axis: whole years, at most ``max_ticks`` ticks at a round step."""
    years = np.asarray(sorted(set(int(y) for y in years)))
    if years.size == 0:
        return
    span = years[-1] - years[0]
    ax.set_xlim(years[0], years[-1] if span > 0 else years[0] + 1)
    step = next((k for k in (1, 2, 5, 10, 20, 25, 50, 100) if span / k + 1 <= max_ticks), 100)
    first = years[0] if step == 1 else int(np.ceil(years[0] / step) * step)
    ticks = list(range(first, int(years[-1]) + 1, step))
    ax.set_xticks(ticks)
    ax.set_xlabel("Year")


def legend_columns(width_in: float, labels: list[str], fontsize: float = 8.5, most: int = 6) -> int:
    """How many legend entries fit side by side across ``width_in`` inches (about 0.55 em per character)."""
    entry = max(len(label) for label in labels) * 0.55 * fontsize + 3.5 * fontsize  # points
    fit = int(width_in * 72 / entry)
    return max(1, min(len(labels), most, fit))


def legend_height(width_in: float, labels: list[str], fontsize: float = 8.5) -> float:
    """Inches a bottom legend of ``labels`` (with a title) takes beyond a one-row legend."""
    rows = int(np.ceil(len(labels) / legend_columns(width_in, labels, fontsize)))
    return max(0, rows - 2) * fontsize * 1.45 / 72


def _scenario_legend(fig: Figure, data: ReportData, groups: list[str], title: str = "Scenario",
                     marker: bool = False) -> None:
    if marker:
        handles = [Line2D([], [], color=data.colours[g], marker="o", ms=7, mec="white", lw=0) for g in groups]
    else:
        handles = [Line2D([], [], color=data.colours[g], lw=2.2, linestyle=data.linestyle(g)) for g in groups]
    fig.legend(handles, groups, loc="outside lower center", ncol=legend_columns(fig.get_figwidth(), groups),
               title=title, title_fontsize=8.5)


def _band_note(data: ReportData) -> str:
    n = data.national.groupby("group")["run_id"].nunique()
    if n.max() < 2:
        return "One run per scenario, so no interval is drawn."
    return (f"Lines are means across replicates ({_count_text(n)} per scenario); shaded bands are 95 % "
            "confidence intervals of the mean (Student t).")


def _count_text(counts: pd.Series) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo} runs" if lo == hi else f"{lo} to {hi} runs"


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
        _plot_band(ax, band, data.colours[group], group, data.linestyle(group))
    _year_axis(ax, national["year"].unique())
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
            _plot_band(right, band, data.colours[group], group, data.linestyle(group))
        _year_axis(right, national["year"].unique())
        right.set_ylabel("Difference from baseline (% of baseline)")
        right.set_title("Against baseline")
        fig.suptitle(title)
        caption += (" Right: the difference of means from the baseline scenario as a percentage of the "
                    "baseline mean, with a 95 % Welch interval.")
    _scenario_legend(fig, data, shown)
    png, svg = _save(fig, folder, name)
    return FigureFile(name, "output" if column != "gini" else "inequality", title,
                      caption + " " + _band_note(data), png, svg)


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
        _panel_title(ax, group, colour, 2.6)
        _year_axis(ax, runs["year"].unique(), max_ticks=5)
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
    png, svg = _save(fig, folder, "theil_decomposition")
    caption = ("Theil T of provincial GDP per capita (population-weighted) split into the part between the four "
               "regions (east, central, west, northeast; solid) and the part within them (hatched); the two "
               "stack to the total (line). Means across replicates; the dashed outline is the 95 % interval "
               "of the total.")
    return [FigureFile("theil_decomposition", "inequality", "Theil T: between and within regions", caption,
                       png, svg)]


def figure_gdp(data: ReportData, folder: Path) -> list[FigureFile]:
    """National GDP over time, with its difference from baseline."""
    made = _timeseries(data, folder, "gdp", "gdp_cny_bn", "National GDP",
                       "National GDP (CNY trillion, start-year prices)",
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
    pairs = [("gdp_cny_bn", "National GDP (CNY trillion, start-year prices)"),
             ("research_output", "Research output (thousand SCI papers per year)")]
    pairs = [p for p in pairs if p[0] in end]
    if "gini" not in end or not pairs:
        return []
    fig = Figure(figsize=(10.0, 4.4 + legend_height(10.0, data.groups)), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    from sim.report.tables import mean_interval

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
    _scenario_legend(fig, data, [g for g in data.groups if g in ended], marker=True)
    png, svg = _save(fig, folder, "tradeoff")
    caption = ("One point per scenario at the end year: the mean across replicates of the Gini coefficient "
               "(horizontal) against national GDP (left) and research output (right); whiskers are 95 % "
               "confidence intervals of the mean (Student t). Up and to the left is better on both counts.")
    return [FigureFile("tradeoff", "tradeoff", "Inequality against output at the end year", caption, png, svg)]


# --------------------------------------------------------------------------------------------------
# tile-grid maps


def _province_change(province: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per group and province: mean across runs of the % change of ``column`` from first to last year."""
    first = province.groupby("run_id")["year"].transform("min")
    last = province.groupby("run_id")["year"].transform("max")
    start = province[province["year"] == first].set_index(["run_id", "province"])[column]
    end = province[province["year"] == last].set_index(["run_id", "province", "group"])[column]
    change = (end / start.reindex(end.index.droplevel("group")).to_numpy() - 1.0) * 100.0
    return change.groupby(level=["group", "province"], observed=True).mean().unstack("province")


def _province_vs_reference(data: ReportData, province: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per group and province: 100 (end-year mean / reference's end-year mean - 1), groups with a reference."""
    last = province.groupby("run_id")["year"].transform("max")
    means = (province[province["year"] == last].groupby(["group", "province"], observed=True)[column].mean()
             .unstack("province"))
    rows = {}
    for group in data.groups:
        reference = data.reference.get(group)
        if reference is None or reference == group or group not in means.index or reference not in means.index:
            continue
        rows[group] = (means.loc[group] / means.loc[reference] - 1.0) * 100.0
    return pd.DataFrame(rows).T


def _text_colour(rgba: tuple[float, ...]) -> str:
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _panel_title(ax: Axes, text: str, colour: str, width_in: float) -> None:
    """A panel title led by a square of the scenario's colour, wrapped to the panel's width (inches)."""
    import textwrap

    swatch = DrawingArea(9, 9, 0, 0)
    swatch.add_artist(Rectangle((0, 0), 9, 9, facecolor=colour, edgecolor="none"))
    chars = max(12, int((width_in * 72 - 14) / (0.62 * 9.5)))
    wrapped = textwrap.fill(text, chars, break_on_hyphens=False)  # sweep labels break at their spaces
    props = {"fontsize": 9.5, "fontweight": "bold", "linespacing": 1.15}
    label = TextArea(wrapped, textprops=props)
    # an invisible real title of the same size, so that constrained layout leaves room for the box
    ax.set_title("\u25a0 " + wrapped, color=(0, 0, 0, 0), pad=4, **props)
    box = HPacker(children=[swatch, label], align="center", pad=0, sep=4)
    ax.add_artist(AnchoredOffsetbox(loc="lower center", child=box, bbox_to_anchor=(0.5, 1.01),
                                    bbox_transform=ax.transAxes, frameon=False, pad=0, borderpad=0))


def _tile_maps(data: ReportData, folder: Path, name: str, values: pd.DataFrame, title: str, bar_label: str,
               caption: str, centre_zero: bool) -> FigureFile | None:
    """Tile-grid maps, one panel per row of ``values`` (groups x provinces), one colour scale."""
    from sim.data import load_tile_grid

    grid = load_tile_grid()
    groups = [g for g in data.groups if g in values.index]
    if not groups:
        return None
    values = values.loc[groups, [p for p in grid["province"] if p in values.columns]]
    finite = values.to_numpy(float)
    finite = finite[np.isfinite(finite)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if centre_zero or vmin < 0 < vmax:
        bound = max(abs(vmin), abs(vmax), 1e-9)
        norm = mpl.colors.Normalize(-bound, bound)
        cmap = mpl.colormaps["PuOr_r"]
    else:
        if vmin == vmax:
            vmin, vmax = vmin - 1.0, vmax + 1.0
        norm = mpl.colors.Normalize(vmin, vmax)
        cmap = mpl.colormaps["viridis"]
    ncols = min(len(groups), 3)
    nrows = int(np.ceil(len(groups) / ncols))
    rows, cols = int(grid["row"].max()) + 1, int(grid["col"].max()) + 1
    fig = Figure(figsize=(3.3 * ncols + 0.3, 3.3 * nrows * rows / cols + 1.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    largest = max(abs(vmin), abs(vmax))
    decimals = 0 if largest >= 20 else 1 if largest >= 2 else 2
    for i, group in enumerate(groups):
        ax = axes[i // ncols][i % ncols]
        ax.set_aspect("equal")
        ax.set_xlim(-0.05, cols + 0.05)
        ax.set_ylim(rows + 0.05, -0.05)
        ax.axis("off")
        for tile in grid.itertuples(index=False):
            value = values.at[group, tile.province] if tile.province in values.columns else np.nan
            face = cmap(norm(value)) if np.isfinite(value) else (0.9, 0.9, 0.9, 1.0)
            # tiles and their labels lie inside the axes: leave them out of the layout (it is much faster)
            ax.add_patch(Rectangle((tile.col + 0.04, tile.row + 0.04), 0.92, 0.92, facecolor=face,
                                   edgecolor="white", lw=0.5, in_layout=False))
            ink = _text_colour(face)
            ax.text(tile.col + 0.5, tile.row + 0.36, PROVINCE_CODES.get(tile.province, tile.province[:2]),
                    ha="center", va="center", fontsize=7, fontweight="bold", color=ink, in_layout=False)
            if np.isfinite(value):
                ax.text(tile.col + 0.5, tile.row + 0.7, f"{value:+.{decimals}f}".replace("-", "−"), ha="center",
                        va="center", fontsize=5.6, color=ink, in_layout=False)
        _panel_title(ax, group, data.colours[group], 3.3)
    for j in range(len(groups), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(mappable, ax=axes.ravel().tolist(), orientation="horizontal", shrink=0.5, aspect=35,
                       pad=0.02, location="bottom")
    bar.set_label(bar_label)
    fig.suptitle(title)
    png, svg = _save(fig, folder, name)
    return FigureFile(name, "maps", title, caption, png, svg)


TILE_NOTE = ("Tile-grid map of China's 31 provinces: each tile is one province, placed roughly where it lies, "
             "with its two-letter code (ISO 3166-2:CN). ")


def figure_maps(data: ReportData, folder: Path) -> list[FigureFile]:
    """Tile-grid maps: change in GDP per capita and research output, and each scenario against baseline."""
    from sim.data import load_tile_grid

    province = data.province
    if province.empty:
        return []
    grid = set(load_tile_grid()["province"])
    names = province.drop_duplicates(["group", "province"])
    on_map = set(names.loc[names["province"].isin(grid), "group"].unique())
    off_map = [g for g in data.groups if g in set(names["group"].unique()) and g not in on_map]
    if off_map:
        data.notes.append(f"Not on the maps (synthetic regions, not China's provinces): {', '.join(off_map)}.")
    if not on_map:
        return []
    province = province[province["group"].isin(on_map)]
    years = sorted(province["year"].unique())
    span = f"{years[0]}-{years[-1]}"
    made = []
    for column, what, stem in (("gdp_per_capita_cny", "GDP per capita", "gdp_per_capita"),
                               ("research_output", "research output", "research_output")):
        if column not in province:
            continue
        made.append(_tile_maps(
            data, folder, f"map_{stem}", _province_change(province, column),
            f"Change in {what}, {span}, by province", f"Change in {what}, {years[0]} to {years[-1]} (%)",
            TILE_NOTE + f"Colour and number: the change in {what} from {years[0]} to {years[-1]} in %, the mean "
            "across replicates; one panel per scenario, one colour scale for all panels.", centre_zero=False))
        made.append(_tile_maps(
            data, folder, f"map_{stem}_vs_baseline", _province_vs_reference(data, province, column),
            f"{what[0].upper() + what[1:]} in {years[-1]} against baseline, by province",
            f"{what[0].upper() + what[1:]} in {years[-1]}: difference from baseline (% of baseline)",
            TILE_NOTE + f"Colour and number: how much higher (orange) or lower (purple) {what} is in {years[-1]} "
            "than in the baseline scenario, in % of baseline (ratio of the means across replicates); one panel "
            "per scenario.", centre_zero=True))
    return [m for m in made if m is not None]


# --------------------------------------------------------------------------------------------------
# bump charts


RANKING_LIMIT = 8
"""At most this many bump charts (one per scenario) in a report."""


def research_ranks(province: pd.DataFrame) -> pd.DataFrame:
    """Ranks by mean research output across runs: one row per year, one column per province (1 = most)."""
    means = province.groupby(["year", "province"], observed=True)["research_output"].mean().unstack("province")
    return means.rank(axis=1, ascending=False, method="first")


def figure_rankings(data: ReportData, folder: Path, top: int = 20) -> list[FigureFile]:
    """One bump chart per scenario: the research-output ranking of the top provinces over time."""
    province = data.province
    if province.empty or "research_output" not in province:
        return []
    capitals = province.drop_duplicates("province").set_index("province")["capital"].astype(str)
    coastal = province.drop_duplicates("province").set_index("province")["coastal"].astype(bool)
    made = []
    present = set(province["group"].unique())
    groups = [g for g in data.groups if g in present]
    if len(groups) > RANKING_LIMIT:
        data.notes.append(f"Ranking charts are drawn for the first {RANKING_LIMIT} of {len(groups)} scenarios "
                          "only (one chart each).")
        groups = groups[:RANKING_LIMIT]
    for group in groups:
        runs = province[province["group"] == group]
        ranks = research_ranks(runs)
        years = ranks.index.to_numpy()
        k = min(top, ranks.shape[1])
        shown = [p for p in ranks.columns if (ranks[p] <= k).any()]
        colour = data.colours[group]
        fig = Figure(figsize=(7.6, 0.26 * k + 1.6), layout="constrained")
        ax = fig.subplots()
        for p in sorted(shown, key=lambda p: bool(not coastal.get(p, True))):
            interior = not bool(coastal.get(p, True))
            line_colour = colour if interior else COASTAL_GREY
            ax.plot(years, ranks[p], color=line_colour, lw=2.0 if interior else 1.4, alpha=0.95,
                    marker="o" if len(years) <= 12 else None, ms=3, zorder=3 if interior else 2,
                    solid_capstyle="round")
            start, end = ranks[p].iloc[0], ranks[p].iloc[-1]
            name = capitals.get(p, p)
            if start <= k:
                ax.text(years[0] - 0.012 * max(1, years[-1] - years[0]), start, f"{name} {int(start)}",
                        ha="right", va="center", fontsize=7, color="#222222",
                        fontweight="bold" if interior else "normal")
            if end <= k:
                ax.text(years[-1] + 0.012 * max(1, years[-1] - years[0]), end, f"{int(end)} {name}",
                        ha="left", va="center", fontsize=7, color="#222222",
                        fontweight="bold" if interior else "normal")
        ax.set_ylim(k + 0.6, 0.4)
        ax.set_yticks([])
        ax.grid(axis="y", visible=False)
        ax.spines["left"].set_visible(False)
        _year_axis(ax, years)
        if years[-1] == years[0]:
            ax.set_xlim(years[0] - 0.5, years[0] + 0.5)
        ax.text(0.5, 1.0, f"rank by research output (1 = most), mean of {runs['run_id'].nunique()} run(s); "
                f"start on the left, end on the right", transform=ax.transAxes, ha="center", va="bottom",
                fontsize=8, color="#555555")
        handles = [Line2D([], [], color=colour, lw=2.0, label="interior province"),
                   Line2D([], [], color=COASTAL_GREY, lw=1.4, label="coastal province")]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2)
        title = f"Research-output ranking, top {k}: {group}"
        ax.set_title(title, pad=16)
        name = f"ranking_{slug(group)}"
        png, svg = _save(fig, folder, name)
        caption = (f"Bump chart of the {k} provinces with the most research output in scenario {group}, labelled "
                   f"with their capital cities (rank at the start on the left, at the end on the right). Ranks "
                   f"are of the mean research output across replicates. Interior provinces in the scenario's "
                   f"colour, coastal ones in grey.")
        made.append(FigureFile(name, "ranking", title, caption, png, svg))
    return made


# --------------------------------------------------------------------------------------------------
# strategy adoption


def strategy_counts(province: pd.DataFrame) -> pd.DataFrame:
    """Provinces per strategy and year, mean across runs: one row per year, one column per strategy."""
    counts = province.groupby(["run_id", "year", "strategy"], observed=True).size().unstack(fill_value=0)
    return counts.groupby(level="year").mean()


def _default_strategy(data: ReportData, group: str) -> str | None:
    """The ``strategies.default`` of a group's scenario, from the manifest."""
    from sim.report import _manifest_scenarios

    runs = data.national.loc[data.national["group"] == group, "scenario"]
    if runs.empty:
        return None
    resolved = (_manifest_scenarios(data.manifest).get(runs.iloc[0]) or {}).get("resolved") or {}
    return (resolved.get("strategies") or {}).get("default")


def figure_adoption(data: ReportData, folder: Path) -> list[FigureFile]:
    """Provinces per strategy over time, one line per strategy, one panel per scenario with imitation on."""
    from matplotlib.ticker import MaxNLocator

    from sim.scenario import STRATEGY_NAMES

    province = data.province
    present = set(province["group"].unique()) if not province.empty else set()
    groups = [g for g in data.adoption_groups if g in present]
    if not groups or "strategy" not in province:
        return []
    known = list(STRATEGY_NAMES)
    in_groups = province[province["group"].isin(groups)]
    present = sorted(set(in_groups["strategy"].unique()), key=lambda s: (known.index(s) if s in known else 99, s))
    colours = {s: TOL_BRIGHT[(known.index(s) if s in known else len(known) + i) % len(TOL_BRIGHT)]
               for i, s in enumerate(present)}
    ncols = min(len(groups), 3)
    nrows = int(np.ceil(len(groups) / ncols))
    fig = Figure(figsize=(max(6.5, 3.4 * ncols + 0.6), 3.0 * nrows + 1.1), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    used: set[str] = set()
    for i, group in enumerate(groups):
        ax = axes[i // ncols][i % ncols]
        counts = strategy_counts(province[province["group"] == group]).reindex(columns=present, fill_value=0.0)
        default = _default_strategy(data, group)
        shown = [s for s in present if s != default and counts[s].max() > 0] or present
        for k, strategy in enumerate(shown):  # wide solid lines first, thinner dashed ones on top
            ax.step(counts.index, counts[strategy], where="post", color=colours[strategy],
                    lw=max(1.2, 3.0 - 0.45 * k), linestyle=STRATEGY_DASHES[k % len(STRATEGY_DASHES)])
            used.add(strategy)
        top = float(counts[shown].to_numpy().max())
        ax.set_ylim(0, top * 1.15 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _year_axis(ax, counts.index.to_numpy(), max_ticks=6)
        _panel_title(ax, group, data.colours[group], 3.4)
        if default in counts and default not in shown:
            start, end = counts[default].iloc[0], counts[default].iloc[-1]
            ax.text(0.98, 0.97, f"the rest follow {default}: {start:.0f} → {end:.1f} provinces",
                    transform=ax.transAxes, ha="right", va="top", fontsize=7.5, color="#555555")
        if i % ncols == 0:
            ax.set_ylabel("Provinces following it (mean count)")
    for j in range(len(groups), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    handles = [Line2D([], [], color=colours[s], lw=2.0, label=s) for s in present if s in used]
    # the legend cannot show each panel's dash pattern, so it shows colours only
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6), title="Strategy",
               title_fontsize=8.5)
    fig.suptitle("Strategy adoption where provinces imitate their peers")
    png, svg = _save(fig, folder, "adoption")
    caption = ("Number of provinces following each strategy, year by year (mean across replicates), in the "
               "scenarios where provinces review their strategy every planning period and may copy a "
               "faster-growing peer. The scenario's default strategy is left out of the lines (its count is "
               "noted in the panel) so that the spread of the others is visible. Strategy colours (Paul Tol's "
               "palette) are separate from scenario colours.")
    return [FigureFile("adoption", "adoption", "Strategy adoption over time", caption, png, svg)]


FIGURES: tuple[Callable[[ReportData, Path], list[FigureFile]], ...] = (
    figure_gini, figure_theil, figure_gdp, figure_research, figure_interior_share, figure_tradeoff,
    figure_maps, figure_rankings, figure_adoption,
)
"""Every figure maker, in report order."""


def make_figures(data: ReportData, folder: Path) -> list[FigureFile]:
    """Draw every figure of ``data`` into ``folder``; a figure that fails is noted, not fatal."""
    made: list[FigureFile] = []
    with mpl.rc_context(STYLE):
        for maker in FIGURES:
            try:
                made.extend(maker(data, folder))
            except Exception as exc:  # one broken figure must not lose the rest of the report
                log.warning("figure %s failed: %s", maker.__name__, exc, exc_info=True)
                data.notes.append(f"Figure {maker.__name__.removeprefix('figure_')} could not be drawn: {exc}")
    return made
