"""Report figures of provinces over time: research-output rankings (bump charts) and strategy adoption.

Rankings draw interior provinces in the scenario's colour and coastal ones in grey. Adoption
draws one line per strategy in its colour from :data:`sim.plotting.STRATEGY_COLOURS` (the
dashboard's), a palette separate from the scenarios'.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.plotting import strategies_in_order, strategy_colour, text_collection
from sim.report.data import manifest_scenarios
from sim.report.figure_files import RANKING_LIMIT, FigureFile, ranking_groups  # noqa: F401 (re-exported)
from sim.report.figures_common import LayoutSpace, panel_title, save_figure, slug, year_axis

if TYPE_CHECKING:
    from sim.report.data import ReportData

COASTAL_GREY = "#B0B0B0"


STRATEGY_DASHES: tuple[object, ...] = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (2, 2)))
"""Line styles of the adoption lines, so that lines lying on top of each other stay visible."""


# --------------------------------------------------------------------------------------------------
# bump charts


def research_ranks(province: pd.DataFrame) -> pd.DataFrame:
    """Ranks by mean research output across runs: one row per year, one column per province (1 = most)."""
    means = province.groupby(["year", "province"], observed=True)["research_output"].mean().unstack("province")
    return means.rank(axis=1, ascending=False, method="first")


def figure_rankings(data: ReportData, folder: Path, top: int = 20, only: list[str] | None = None) -> list[FigureFile]:
    """One bump chart per scenario (or per group of ``only``): the research-output ranking of the top
    provinces over time."""
    province = data.province
    if province.empty or "research_output" not in province:
        return []
    capitals = province.drop_duplicates("province").set_index("province")["capital"].astype(str)
    coastal = province.drop_duplicates("province").set_index("province")["coastal"].astype(bool)
    made = []
    groups = ranking_groups(data) if only is None else only
    for group in groups:
        runs = province[province["group"] == group]
        ranks = research_ranks(runs)
        years = ranks.index.to_numpy()
        k = min(top, ranks.shape[1])
        shown = [p for p in ranks.columns if (ranks[p] <= k).any()]
        colour = data.colours[group]
        fig = Figure(figsize=(7.6, 0.26 * k + 1.6), layout="constrained")
        ax = fig.subplots()
        labels: list[tuple[float, float, str, bool, str]] = []  # x, y, text, interior, side
        for p in sorted(shown, key=lambda p: bool(not coastal.get(p, True))):
            interior = not bool(coastal.get(p, True))
            line_colour = colour if interior else COASTAL_GREY
            ax.plot(years, ranks[p], color=line_colour, lw=2.0 if interior else 1.4, alpha=0.95,
                    marker="o" if len(years) <= 12 else None, ms=3, zorder=3 if interior else 2,
                    solid_capstyle="round")
            start, end = ranks[p].iloc[0], ranks[p].iloc[-1]
            name = capitals.get(p, p)
            if start <= k:
                labels.append((years[0] - 0.012 * max(1, years[-1] - years[0]), start, f"{name} {int(start)}",
                               interior, "right"))
            if end <= k:
                labels.append((years[-1] + 0.012 * max(1, years[-1] - years[0]), end, f"{int(end)} {name}",
                               interior, "left"))
        _rank_labels(ax, labels)
        ax.set_ylim(k + 0.6, 0.4)
        ax.set_yticks([])
        ax.grid(axis="y", visible=False)
        ax.spines["left"].set_visible(False)
        year_axis(ax, years)
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
        png, svg = save_figure(fig, folder, name)
        caption = (f"Bump chart of the {k} provinces with the most research output in scenario {group}, labelled "
                   f"with their capital cities (rank at the start on the left, at the end on the right). Ranks "
                   f"are of the mean research output across replicates. Interior provinces in the scenario's "
                   f"colour, coastal ones in grey.")
        made.append(FigureFile(name, "ranking", title, caption, png, svg))
    return made


def _rank_labels(ax, labels: list[tuple[float, float, str, bool, str]]) -> None:
    """The start and end labels of a bump chart, (x, y, text, interior: bold, ``ha``) each, 7 pt: drawn as
    glyph outlines, a collection per side and weight (40 text artists cost half the chart's drawing);
    the widest label of each side holds its room in the layout (:class:`LayoutSpace`)."""
    for ha in ("right", "left"):
        widest, width = None, -1.0
        for bold in (True, False):
            part = [label for label in labels if label[4] == ha and label[3] == bold]
            if not part:
                continue
            drawn = text_collection(ax, [x for x, *_ in part], [y for _, y, *_ in part], [t for _, _, t, *_ in part],
                                    [7.0] * len(part), ["#222222"] * len(part), weight="bold" if bold else "normal",
                                    ha=ha)
            for label, path in zip(part, drawn.get_paths(), strict=True):
                extent = float(np.ptp(path.vertices[:, 0]))
                if extent > width:
                    widest, width = label, extent
        if widest is not None:
            x, y, text, bold, _ = widest
            ax.add_artist(LayoutSpace(x, y, text, ha=ha, va="center", fontsize=7,
                                      fontweight="bold" if bold else "normal", clip_on=False))


# --------------------------------------------------------------------------------------------------
# strategy adoption


def strategy_counts(province: pd.DataFrame) -> pd.DataFrame:
    """Provinces per strategy and year, mean across runs: one row per year, one column per strategy."""
    counts = province.groupby(["run_id", "year", "strategy"], observed=True).size().unstack(fill_value=0)
    return counts.groupby(level="year").mean()


def default_strategy(data: ReportData, group: str) -> str | None:
    """The ``strategies.default`` of a group's scenario, from the manifest."""
    runs = data.national.loc[data.national["group"] == group, "scenario"]
    if runs.empty:
        return None
    resolved = (manifest_scenarios(data.manifest).get(runs.iloc[0]) or {}).get("resolved") or {}
    return (resolved.get("strategies") or {}).get("default")


def figure_adoption(data: ReportData, folder: Path) -> list[FigureFile]:
    """Provinces per strategy over time, one line per strategy, one panel per scenario with imitation on."""
    from matplotlib.ticker import MaxNLocator

    province = data.province
    present = set(province["group"].unique()) if not province.empty else set()
    groups = [g for g in data.adoption_groups if g in present]
    if not groups or "strategy" not in province:
        return []
    present = strategies_in_order(province.loc[province["group"].isin(groups), "strategy"].unique())
    colours = {s: strategy_colour(s) for s in present}
    ncols = min(len(groups), 3)
    nrows = int(np.ceil(len(groups) / ncols))
    fig = Figure(figsize=(max(6.5, 3.4 * ncols + 0.6), 3.0 * nrows + 1.1), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    used: set[str] = set()
    for i, group in enumerate(groups):
        ax = axes[i // ncols][i % ncols]
        counts = strategy_counts(province[province["group"] == group]).reindex(columns=present, fill_value=0.0)
        default = default_strategy(data, group)
        shown = [s for s in present if s != default and counts[s].max() > 0] or present
        for k, strategy in enumerate(shown):  # wide solid lines first, thinner dashed ones on top
            ax.step(counts.index, counts[strategy], where="post", color=colours[strategy],
                    lw=max(1.2, 3.0 - 0.45 * k), linestyle=STRATEGY_DASHES[k % len(STRATEGY_DASHES)])
            used.add(strategy)
        top = float(counts[shown].to_numpy().max())
        ax.set_ylim(0, top * 1.15 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        year_axis(ax, counts.index.to_numpy(), max_ticks=6)
        panel_title(ax, group, data.colours[group], 3.4)
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
    png, svg = save_figure(fig, folder, "adoption")
    caption = ("Number of provinces following each strategy, year by year (mean across replicates), in the "
               "scenarios where provinces review their strategy every planning period and may copy a "
               "faster-growing peer. The scenario's default strategy is left out of the lines (its count is "
               "noted in the panel) so that the spread of the others is visible. Strategy colours (Paul Tol's "
               "palette, as in the dashboard) are separate from scenario colours.")
    return [FigureFile("adoption", "adoption", "Strategy adoption over time", caption, png, svg)]
