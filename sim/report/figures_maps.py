"""Report figures on the tile-grid map: each province's change, and each scenario against baseline.

One panel per scenario, one colour scale for all panels, drawn with :func:`sim.plotting.draw_tiles`
(the renderer the dashboard uses) and labelled with the provinces' two-letter codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plotting import draw_tiles, grid_provinces, province_code, text_collection, tile_positions
from sim.report.figure_files import MAP_KINDS, FigureFile
from sim.report.figures_common import panel_title, save_figure

if TYPE_CHECKING:
    from sim.report.data import ReportData

MISSING = (0.9, 0.9, 0.9, 1.0)
"""The colour of a province without a value."""

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


def _tile_maps(data: ReportData, folder: Path, name: str, values: pd.DataFrame, title: str, bar_label: str,
               caption: str, centre_zero: bool) -> FigureFile | None:
    """Tile-grid maps, one panel per row of ``values`` (groups x provinces), one colour scale."""
    provinces = grid_provinces()
    x, y = tile_positions(provinces)
    groups = [g for g in data.groups if g in values.index]
    if not groups:
        return None
    values = values.loc[groups, [p for p in provinces if p in values.columns]]
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
    rows, cols = int(y.max()) + 1, int(x.max()) + 1
    width = 3.3 * ncols + 0.3
    key_columns = 8 if width >= 9 else 5 if width >= 6 else 3
    key_lines = int(np.ceil(len(provinces) / key_columns))
    key_height = 0.16 * key_lines + 0.2
    panel_height = 3.3 * rows / cols + 0.35
    fig = Figure(figsize=(width, panel_height * nrows + 1.3 + key_height), layout="constrained")
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[panel_height] * nrows + [key_height])
    # one axes per panel drawn: the grid's empty cells get none (an invisible axes adds nothing to the
    # layout or the picture, but costs as much to make and lay out as a visible one)
    axes = [fig.add_subplot(grid[i // ncols, i % ncols]) for i in range(len(groups))]
    largest = max(abs(vmin), abs(vmax))
    decimals = 0 if largest >= 20 else 1 if largest >= 2 else 2
    codes = [province_code(p) for p in provinces]
    for i, group in enumerate(groups):
        ax = axes[i]
        shown = np.array([values.at[group, p] if p in values.columns else np.nan for p in provinces], dtype=float)
        faces = [cmap(norm(v)) if np.isfinite(v) else MISSING for v in shown]
        details = [_signed(v, decimals) for v in shown]
        # tile centres at (col + 0.5, row + 0.5): the grid spans [0, cols] x [0, rows]
        draw_tiles(ax, x + 0.5, y + 0.5, faces, labels=codes, details=details, size=0.92, label_size=7.0,
                   detail_size=5.6, text_paths=True)
        ax.set_xlim(-0.05, cols + 0.05)
        ax.set_ylim(rows + 0.05, -0.05)
        ax.xaxis.set_visible(False)  # no ticks to lay out (the axes are off): a much faster layout
        ax.yaxis.set_visible(False)
        panel_title(ax, group, data.colours[group], 3.3)
    _province_key(fig.add_subplot(grid[nrows, :]), provinces, key_columns)
    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(mappable, ax=axes, orientation="horizontal", shrink=0.5, aspect=35,
                       pad=0.02, location="bottom")
    bar.set_label(bar_label)
    fig.suptitle(title)
    png, svg = save_figure(fig, folder, name)
    return FigureFile(name, "maps", title, caption, png, svg)


def _signed(value: float, decimals: int) -> str:
    """``+12``, ``−3``, ``0`` (a value that rounds to zero has no sign); "" for a missing value."""
    if not np.isfinite(value):
        return ""
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        return f"{0:.{decimals}f}"
    return text.replace("-", "−")


def _province_key(ax, provinces: list[str], columns: int) -> None:
    """The key of the tile labels under the maps: two-letter code and full name, in columns, by code."""
    ax.set_axis_off()
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    pairs = sorted((province_code(p), p) for p in provinces)
    lines = int(np.ceil(len(pairs) / columns))
    places = [divmod(k, lines) for k in range(len(pairs))]  # (column, line)
    # the entries as one collection of glyph outlines: one text artist each costs several times more
    text_collection(ax, [(column + 0.05) / columns for column, _ in places],
                    [1.0 - (line + 0.5) / lines for _, line in places], [f"{code}  {name}" for code, name in pairs],
                    [6.8] * len(pairs), ["#333333"] * len(pairs), ha="left", transform=ax.transAxes)
    ax.text(0.0, 1.0, "Province codes", transform=ax.transAxes, ha="left", va="bottom", fontsize=7.5,
            fontweight="bold", color="#333333")


TILE_NOTE = ("Tile-grid map of China's 31 provinces: each tile is one province, placed roughly where it lies, "
             "with its two-letter code (ISO 3166-2:CN; the key under the maps gives the full names). ")


def _map_province(data: ReportData) -> pd.DataFrame:
    """The province rows of the groups on China's map (a note names the groups that are not)."""
    province = data.province
    if province.empty:
        return province
    grid = set(grid_provinces())
    names = province.drop_duplicates(["group", "province"])
    on_map = set(names.loc[names["province"].isin(grid), "group"].unique())
    off_map = [g for g in data.groups if g in set(names["group"].unique()) and g not in on_map]
    note = f"Not on the maps (synthetic regions, not China's provinces): {', '.join(off_map)}."
    if off_map and note not in data.notes:
        data.notes.append(note)
    return province[province["group"].isin(on_map)]


def figure_map(data: ReportData, folder: Path, stem: str) -> list[FigureFile]:
    """One tile-map figure of :data:`MAP_KINDS` (by its file stem)."""
    column, what, _, against = next(kind for kind in MAP_KINDS if kind[2] == stem)
    province = _map_province(data)
    if province.empty or column not in province:
        return []
    years = sorted(province["year"].unique())
    span = f"{years[0]}-{years[-1]}"
    if not against:
        made = _tile_maps(
            data, folder, stem, _province_change(province, column),
            f"Change in {what}, {span}, by province", f"Change in {what}, {years[0]} to {years[-1]} (%)",
            TILE_NOTE + f"Colour and number: the change in {what} from {years[0]} to {years[-1]} in %, the mean "
            "across replicates; one panel per scenario, one colour scale for all panels.", centre_zero=False)
    else:
        made = _tile_maps(
            data, folder, stem, _province_vs_reference(data, province, column),
            f"{what[0].upper() + what[1:]} in {years[-1]} against baseline, by province",
            f"{what[0].upper() + what[1:]} in {years[-1]}: difference from baseline (% of baseline)",
            TILE_NOTE + f"Colour and number: how much higher (orange) or lower (purple) {what} is in {years[-1]} "
            "than in the baseline scenario, in % of baseline (ratio of the means across replicates); one panel "
            "per scenario.", centre_zero=True)
    return [made] if made is not None else []


def figure_maps(data: ReportData, folder: Path) -> list[FigureFile]:
    """Tile-grid maps: change in GDP per capita and research output, and each scenario against baseline."""
    return [f for _, _, stem, _ in MAP_KINDS for f in figure_map(data, folder, stem)]
