"""The dashboard's pictures: four time-series charts and the tile-grid map, as PNG bytes.

Drawn with matplotlib's object-oriented API (no pyplot: figures are local and thread-safe). The
map is :func:`sim.plotting.draw_tiles`, and strategies take :data:`sim.plotting.STRATEGY_COLOURS`,
the colours the report uses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from sim.app.session import Snapshot
from sim.plotting import (
    BLUE,
    GREEN,
    REDDISH_PURPLE,
    VERMILLION,
    draw_tiles,
    short_name,
    strategy_colour,
    strategy_patches,
    tile_positions,
)


@dataclass(frozen=True)
class ChartSpec:
    """One time-series chart: title, y-axis label with unit, lines (column, label, colour), y-axis range."""

    title: str
    ylabel: str
    lines: tuple[tuple[str, str, str], ...]
    scale: float = 1.0
    decimals: int = 1
    min_span: float = 0.0
    """The y axis spans at least this much, so that tiny wiggles do not look like big changes."""
    from_zero: bool = False


CHARTS: dict[str, ChartSpec] = {
    "inequality": ChartSpec(
        "Inequality between provinces (of GDP per person)", "index (0 = all equal)",
        (("gini", "Gini", VERMILLION),
         ("theil_between_region", "Theil between the 4 regions", BLUE),
         ("theil_within_region", "Theil within regions", GREEN)), decimals=3, min_span=0.1, from_zero=True),
    "gdp": ChartSpec("National GDP", "CNY trillion a year",
                     (("gdp_real_cny_bn", "GDP", BLUE),), scale=1e-3, decimals=0, min_span=10.0),
    "research": ChartSpec("Research output", "thousand SCI papers a year",
                          (("research_output", "papers", REDDISH_PURPLE),), scale=1e-3, decimals=0, min_span=50.0),
    "interior": ChartSpec("Interior provinces' share of research output", "% of national papers",
                          (("interior_research_share", "interior share", VERMILLION),), scale=100.0, decimals=1,
                          min_span=4.0),
}
"""The charts below the map, in page order."""

MAP_VARIABLES: dict[str, str] = {
    "gdp_per_capita": "GDP per person (CNY thousand)",
    "research_output": "Research output (SCI papers a year)",
    "skilled_share": "Skilled share of workers (%)",
    "growth": "Growth of GDP per person (% a year)",
    "strategy": "Strategy",
}
"""Variables the map can be coloured by (key -> label with unit)."""

MAP_COLOURMAPS = {"gdp_per_capita": "YlGnBu", "research_output": "PuRd", "skilled_share": "BuPu",
                  "growth": "RdYlGn"}
"""The matplotlib colour map of each numeric map variable."""


def new_figure(width: float, height: float):
    """A white matplotlib figure of ``width`` x ``height`` inches at 100 dpi (no pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.patch.set_facecolor("white")
    return fig


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (fast compression: they only cross the loopback)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def draw_chart(snapshot: Snapshot, key: str) -> bytes:
    """The time-series chart ``key`` of :data:`CHARTS` up to the snapshot's year, as PNG bytes.

    The x axis spans the whole horizon so the line grows across it; a dashed line shows the
    earlier run (:attr:`Snapshot.ghost`) when there is one.
    """
    from matplotlib.ticker import MaxNLocator

    spec = CHARTS[key]
    fig = new_figure(5.4, 2.7)
    entries = (len(spec.lines) if len(spec.lines) > 1 else 0) + (snapshot.ghost is not None)
    legend_rows = 0 if entries == 0 else (1 if entries <= 2 else 2)
    ax = fig.add_axes((0.12, 0.12, 0.84, 0.8 - 0.075 * legend_rows))
    years = [row["year"] for row in snapshot.national]
    shown: list[float] = []
    for column, label, colour in spec.lines:
        values = [row[column] * spec.scale for row in snapshot.national]
        shown += values
        if snapshot.ghost is not None:
            ghost_years = [row["year"] for row in snapshot.ghost.rows]
            ghost_values = [row[column] * spec.scale for row in snapshot.ghost.rows]
            shown += ghost_values
            ax.plot(ghost_years, ghost_values, color=colour, lw=1.5, ls=(0, (4, 3)), alpha=0.6)
        ax.plot(years, values, color=colour, lw=2.6, label=label, solid_capstyle="round")
        ax.plot(years[-1:], values[-1:], "o", color=colour, ms=7, mec="white", mew=1.5)
        if len(spec.lines) == 1:
            ax.annotate(f"{values[-1]:,.{spec.decimals}f}", (years[-1], values[-1]), xytext=(7, 5),
                        textcoords="offset points", fontsize=11, fontweight="bold", color=colour)
    low, high = min(shown), max(shown)
    if spec.from_zero:
        low = 0.0
    if high - low < spec.min_span:
        middle = (high + low) / 2
        low, high = (0.0, spec.min_span) if spec.from_zero else (middle - spec.min_span / 2, middle + spec.min_span / 2)
    pad = 0.08 * (high - low)
    ax.set_ylim(low if spec.from_zero else low - pad, high + pad)
    ax.set_xlim(snapshot.start_year - 0.5, snapshot.end_year + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, integer=True))
    ax.set_ylabel(spec.ylabel, fontsize=9.5, color="#444")
    ax.tick_params(labelsize=9, colors="#444")
    ax.grid(True, color="#e9e9e9", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#bbbbbb")
    handles, labels = ax.get_legend_handles_labels()
    if len(spec.lines) == 1:
        handles, labels = [], []
    if snapshot.ghost is not None:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="#777777", lw=1.5, ls=(0, (4, 3))))
        labels.append(f"before: {snapshot.ghost.label}")
    if handles:
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.1, 1.0), ncol=2 if len(handles) > 1 else 1,
                   fontsize=8.5, frameon=False, handlelength=1.8, columnspacing=1.2)
    return png_bytes(fig)


def map_layout(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every province's tile: the tile grid for China, scaled lon/lat otherwise."""
    if not snapshot.synthetic:
        positions = tile_positions(snapshot.names)
        if positions is not None:
            return positions
    x = (snapshot.lon - snapshot.lon.min()) / max(np.ptp(snapshot.lon), 1e-9) * 9.0
    y = (snapshot.lat.max() - snapshot.lat) / max(np.ptp(snapshot.lat), 1e-9) * 6.0
    return x, y


def label_size(label: str) -> float:
    """Font size (points) at which a bold province name fits its tile."""
    return 8.6 if len(label) <= 7 else 7.8 if len(label) <= 8 else 6.9


def format_value(variable: str, value: float) -> str:
    """A map variable's value as a tile shows it."""
    if variable == "research_output":
        return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
    if variable == "growth":
        return f"{value:+.1f} %"
    if variable == "skilled_share":
        return f"{value:.0f} %"
    return f"{value:.0f}"


def draw_tile_map(snapshot: Snapshot, variable: str) -> bytes:
    """The provinces as squares at (col, row) of the tile grid, coloured by ``variable``; PNG bytes.

    Numeric variables get a colour bar; ``strategy`` gets a legend. Provinces where something
    happened this year have a dark outline.
    """
    import matplotlib as mpl

    x, y = map_layout(snapshot)
    fig = new_figure(6.4, 5.9)
    numeric = variable != "strategy"
    ax = fig.add_axes((0.0, 0.07, 0.85, 0.93) if numeric else (0.0, 0.12, 1.0, 0.88))
    happened = {province for year, _kind, province, _detail in snapshot.events if year == snapshot.year}
    if numeric:
        values = np.asarray(snapshot.values[variable], dtype=float)
        low, high = float(values.min()), float(values.max())
        if variable == "growth" and snapshot.years_done == 0:
            low, high = -1.0, 1.0
        norm = mpl.colors.Normalize(vmin=low, vmax=high if high > low else low + 1e-6)
        cmap = mpl.colormaps[MAP_COLOURMAPS[variable]]
        faces = [cmap(norm(v)) for v in values]
        details = [format_value(variable, v) for v in values]
    else:
        faces = [strategy_colour(s) for s in snapshot.strategies]
        details = list(snapshot.capitals)
    labelled = not snapshot.synthetic
    draw_tiles(ax, x, y, faces,
               labels=[short_name(name) for name in snapshot.names] if labelled else None,
               details=details if labelled else None,
               size=0.94 if labelled else 0.55,
               edgecolors=["#111111" if name in happened else "white" for name in snapshot.names],
               linewidths=[3.0 if name in happened else 1.2 for name in snapshot.names],
               label_size=label_size, detail_size=8.2 if numeric else 7.4, margin=0.52)
    note = "dark outline: something happened there this year" if happened else ""
    if numeric:
        cax = fig.add_axes((0.87, 0.2, 0.03, 0.62))
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        bar.ax.tick_params(labelsize=8.5)
        bar.outline.set_visible(False)
        bar.set_label(MAP_VARIABLES[variable], fontsize=9)
        if note:
            fig.text(0.02, 0.025, note, fontsize=8, color="#555")
    else:
        handles = strategy_patches(snapshot.strategies)
        fig.legend(handles=handles, loc="lower center", ncol=min(3, len(handles)), fontsize=9, frameon=False,
                   bbox_to_anchor=(0.5, 0.04))
        if note:
            fig.text(0.5, 0.01, note, ha="center", fontsize=8, color="#555")
    return png_bytes(fig)
