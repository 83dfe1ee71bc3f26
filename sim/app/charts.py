"""The dashboard's pictures as SVG: four time-series charts, the tile-grid map and the province plot.

Built as SVG text by :mod:`sim.app.svg` (a Step redraws five of them in milliseconds; see
``benchmarks/app.py``). The map puts the provinces at their squares of the tile grid
(:func:`sim.plotting.tile_positions`, as the report's maps do), and strategies take
:data:`sim.plotting.STRATEGY_COLOURS`, the colours the report uses.

The map's colour scale is fixed over the run by default: the range of each variable from the start
to the horizon, which :func:`sim.app.session.look_ahead` takes when the run starts, so that a colour
means the same value in every year; ``per_year`` stretches it over each year's range instead.
Growth is coloured on a diverging, colour-blind-safe palette (red-blue, ColorBrewer RdBu, no
red-green) centred on the nation's growth: blue provinces grow faster than the nation, red ones slower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import sim.app.svg as svg
from sim.app.session import Snapshot
from sim.plotting import (
    BLUE,
    GREEN,
    REDDISH_PURPLE,
    VERMILLION,
    short_name,
    strategies_in_order,
    strategy_colour,
    text_colour,
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
                  "growth": "RdBu"}
"""The matplotlib colour map of each numeric map variable: sequential ones, and for growth ColorBrewer's
diverging red-blue (colour-blind safe: no red-green contrast)."""

LOG_VARIABLES = frozenset({"research_output"})
"""Map variables coloured on a log scale (they span orders of magnitude across provinces)."""

SCALES: dict[str, str] = {"fixed": "fixed over the run", "per_year": "stretched over each year"}
"""The map's colour scales (key -> what the page calls it)."""

# --------------------------------------------------------------------------------------
# time-series charts

CHART_W, CHART_H = 480.0, 250.0


def draw_chart(snapshot: Snapshot, key: str) -> str:
    """The time-series chart ``key`` of :data:`CHARTS` up to the snapshot's year, as SVG.

    The x axis spans the whole horizon so the line grows across it; the last value is written at
    the end of a single line, with room kept on the right for it at the horizon; a dashed line
    shows the earlier run (:attr:`Snapshot.ghost`) when there is one.
    """
    spec = CHARTS[key]
    years = [row["year"] for row in snapshot.national]
    series: list[svg.Series] = []
    shown: list[float] = []
    single = len(spec.lines) == 1
    for column, label, colour in spec.lines:
        values = [row[column] * spec.scale for row in snapshot.national]
        shown += values
        if snapshot.ghost is not None:
            ghost_values = [row[column] * spec.scale for row in snapshot.ghost.rows]
            shown += ghost_values
            series.append(svg.Series([row["year"] for row in snapshot.ghost.rows], ghost_values, colour, 1.6,
                                     "5 4", opacity=0.6))
        series.append(svg.Series(years, values, colour, 2.6, label=label, end_marker=True,
                                 end_label=svg.number(values[-1], spec.decimals) if single else ""))
    low, high = min(shown), max(shown)
    if spec.from_zero:
        low = 0.0
    if high - low < spec.min_span:
        middle = (high + low) / 2
        low, high = (0.0, spec.min_span) if spec.from_zero else (middle - spec.min_span / 2, middle + spec.min_span / 2)
    pad = 0.08 * (high - low)
    y0, y1 = (low if spec.from_zero else low - pad), high + pad
    y_ticks = svg.nice_ticks(y0, y1, 5)
    y0, y1 = min(y0, y_ticks[0]), max(y1, y_ticks[-1])
    entries = [(label, colour, "") for _, label, colour in spec.lines] if not single else []
    if snapshot.ghost is not None:
        entries.append((f"before: {snapshot.ghost.label}", "#777777", "5 4"))
    rows = svg.legend_rows(entries, CHART_W - 70)
    label_width = 10 + 8.4 * len(svg.number(max(shown), spec.decimals)) if single else 14
    top = 16 + 18 * rows
    frame = svg.Frame(left=62, top=top, right=CHART_W - label_width - 6, bottom=CHART_H - 26,
                      x0=snapshot.start_year - 0.5, x1=snapshot.end_year + 0.5, y0=y0, y1=y1)
    body = [svg.axes(frame, svg.year_ticks(snapshot.start_year, snapshot.end_year), y_ticks,
                     svg.tick_decimals(y_ticks), spec.ylabel)]
    body += [svg.polyline(frame, s) for s in series]
    if entries:
        body.append(svg.legend(entries, 62, 12, CHART_W - 70))
    return svg.document(CHART_W, CHART_H, "".join(body), f"sim-chart-svg chart-{key}", spec.title)


# --------------------------------------------------------------------------------------
# the tile-grid map

TILE = 64.0
"""The side of a map square in viewBox units."""


_GRID_CACHE: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray] | None] = {}


def map_layout(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every province's tile: the tile grid for China, scaled lon/lat otherwise."""
    if not snapshot.synthetic:
        if snapshot.names not in _GRID_CACHE:  # the grid file is read once per set of names
            _GRID_CACHE[snapshot.names] = tile_positions(snapshot.names)
        positions = _GRID_CACHE[snapshot.names]
        if positions is not None:
            return positions
    x = (snapshot.lon - snapshot.lon.min()) / max(np.ptp(snapshot.lon), 1e-9) * 9.0
    y = (snapshot.lat.max() - snapshot.lat) / max(np.ptp(snapshot.lat), 1e-9) * 6.0
    return x, y


def format_value(variable: str, value: float) -> str:
    """A map variable's value as a tile shows it."""
    if variable == "research_output":
        if value >= 1e6:
            return f"{value / 1e6:.1f}M"
        if value >= 1e5:
            return f"{value / 1000:.0f}k"
        return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
    if variable == "growth":
        return f"{value:+.1f} %"
    if variable == "skilled_share":
        return f"{value:.0f} %"
    return f"{value:.0f}"


@dataclass(frozen=True)
class ColourScale:
    """How a numeric map variable becomes a colour: the range, linear or log, and the colour map."""

    variable: str
    low: float
    high: float
    log: bool = False
    centre: float | None = None
    """Diverging scales: the value in the middle (the nation's growth)."""

    def fraction(self, value: float) -> float:
        """Where ``value`` sits on the scale, 0 to 1 (clipped)."""
        if self.log:
            low, high, value = math.log10(self.low), math.log10(self.high), math.log10(max(value, self.low))
        else:
            low, high = self.low, self.high
        return float(min(1.0, max(0.0, (value - low) / ((high - low) or 1.0))))

    def colour(self, value: float) -> str:
        """The colour of ``value`` (hex)."""
        return self.colours([value])[0]

    def colours(self, values) -> list[str]:
        """The colours of ``values`` (hex), in one call to the colour map."""
        cmap = _colour_map(MAP_COLOURMAPS[self.variable])
        return [mpl_hex(row) for row in cmap(np.array([self.fraction(v) for v in values]))]

    def ticks(self) -> list[float]:
        """Tick values for the colour bar."""
        if self.log:
            decades = range(math.floor(math.log10(self.low)), math.ceil(math.log10(self.high)) + 1)
            ticks = [m * 10.0 ** d for d in decades for m in (1, 3) if self.low <= m * 10.0 ** d <= self.high]
            return ticks if len(ticks) >= 2 else [self.low, self.high]
        return [t for t in svg.nice_ticks(self.low, self.high, 6) if self.low - 1e-9 <= t <= self.high + 1e-9]


_COLOUR_MAPS: dict[str, object] = {}


def _colour_map(name: str):
    """Matplotlib's colour map ``name`` (looked up once)."""
    if name not in _COLOUR_MAPS:
        import matplotlib as mpl

        _COLOUR_MAPS[name] = mpl.colormaps[name]
    return _COLOUR_MAPS[name]


def mpl_hex(rgba) -> str:
    """An RGBA row (0-1 floats) as hex."""
    red, green, blue = (int(round(255 * c)) for c in rgba[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _ink(colour: str) -> str:
    """Dark or white text on a tile of ``colour`` (hex or name)."""
    import matplotlib as mpl

    return text_colour(mpl.colors.to_rgb(colour))


def colour_scale(snapshot: Snapshot, variable: str, scale: str = "fixed") -> ColourScale:
    """The colour scale of numeric ``variable``: fixed over the run (from the look-ahead) or this year's range."""
    values = np.asarray(snapshot.values[variable], dtype=float)
    fixed = scale == "fixed" and snapshot.run_range is not None
    if variable == "growth":
        centre = snapshot.national_growth
        if fixed:
            spread = snapshot.run_range.growth_spread
        else:
            spread = float(np.abs(values - centre).max()) if snapshot.years_done else 1.0
        spread = max(spread, 0.1)
        return ColourScale(variable, centre - spread, centre + spread, centre=centre)
    low, high = snapshot.run_range.spans[variable] if fixed else (float(values.min()), float(values.max()))
    log = variable in LOG_VARIABLES and low > 0
    if high <= low:
        high = low * 1.01 + 1e-6
    return ColourScale(variable, low, high, log=log)


MAP_W, MAP_H = 8 * TILE + 172.0, 8 * TILE + 34.0


def draw_tile_map(snapshot: Snapshot, variable: str, scale: str = "fixed", selected: str | None = None) -> str:
    """The provinces as squares at (col, row) of the tile grid, coloured by ``variable``; SVG.

    Each square is a ``<g data-province="...">`` (the page plots the province a click lands on) with a
    ``<title>`` for the hover text. Numeric variables get a colour bar on the right, ``strategy`` a
    legend below. Provinces where something happened this year have a dark outline; the
    ``selected`` province a blue one.
    """
    x, y = map_layout(snapshot)
    numeric = variable != "strategy"
    labelled = not snapshot.synthetic
    cols = int(math.ceil(float(x.max()))) + 1 if len(x) else 1
    rows = int(math.ceil(float(y.max()))) + 1 if len(y) else 1
    tile = min(TILE, 8 * TILE / max(cols, rows))
    size = tile * (0.94 if labelled else 0.6)
    happened = {province for year, _kind, province, _detail in snapshot.events if year == snapshot.year}
    if numeric:
        cs = colour_scale(snapshot, variable, scale)
        values = np.asarray(snapshot.values[variable], dtype=float)
        faces = cs.colours(values)
        details = [format_value(variable, v) for v in values]
    else:
        cs = None
        faces = [strategy_colour(s) for s in snapshot.strategies]
        details = [s for s in snapshot.strategies]
    body = []
    ox, oy = 4.0, 4.0
    for i, name in enumerate(snapshot.names):
        cx, cy = ox + x[i] * tile + tile / 2, oy + y[i] * tile + tile / 2
        ink = _ink(faces[i])
        if name == selected:
            edge, edge_w = "#1565c0", 4.0
        elif name in happened:
            edge, edge_w = "#111111", 3.0
        else:
            edge, edge_w = "white", 1.2
        tip = f"{name} ({snapshot.capitals[i]}): {details[i] if numeric else snapshot.strategies[i]}"
        parts = [f'<g class="tile" data-province="{svg.esc(name)}" style="cursor:pointer"><title>{svg.esc(tip)} '
                 '(click for its history)</title>',
                 f'<rect x="{cx - size / 2:.1f}" y="{cy - size / 2:.1f}" width="{size:.1f}" height="{size:.1f}" '
                 f'rx="3" fill="{faces[i]}" stroke="{edge}" stroke-width="{edge_w}"/>']
        if labelled:
            label = short_name(name)
            font = 13.0 if len(label) <= 7 else 11.8 if len(label) <= 8 else 10.6 if len(label) <= 9 else 9.6
            parts.append(f'<text x="{cx:.1f}" y="{cy - 4:.1f}" font-size="{font}" font-weight="bold" fill="{ink}" '
                         f'text-anchor="middle">{svg.esc(label)}</text>')
            detail = details[i] if numeric else snapshot.capitals[i]
            dfont = 12.0 if numeric else (10.0 if len(detail) <= 9 else 8.6)
            parts.append(f'<text x="{cx:.1f}" y="{cy + 13:.1f}" font-size="{dfont}" fill="{ink}" '
                         f'text-anchor="middle">{svg.esc(detail)}</text>')
        parts.append("</g>")
        body.append("".join(parts))
    notes = []
    if happened:
        notes.append("dark outline: something happened there this year")
    if numeric:
        ticks = cs.ticks()
        if variable == "growth":
            labels = [f"{t:+.1f} %" for t in ticks]
        elif variable == "research_output":
            labels = [f"{t / 1e6:g}M" if t >= 1e6 else f"{t / 1000:g}k" if t >= 1000 else f"{t:g}" for t in ticks]
        else:
            labels = [svg.number(t, svg.tick_decimals(ticks)) for t in ticks]
        fractions = np.linspace(0.0, 1.0, 11)
        stops = list(zip(fractions, [mpl_hex(c) for c in _colour_map(MAP_COLOURMAPS[variable])(fractions)],
                         strict=True))
        bar_x, top, bottom = 8 * TILE + 22, 70.0, 8 * TILE - 40
        body.append(svg.gradient_bar(stops, bar_x, top, bottom, ticks, labels, cs.fraction, f"bar-{variable}",
                                     font_size=12))
        if cs.centre is not None:
            y_mid = bottom - cs.fraction(cs.centre) * (bottom - top)
            body.append(f'<line x1="{bar_x - 4:.1f}" x2="{bar_x + 14:.1f}" y1="{y_mid:.1f}" y2="{y_mid:.1f}" '
                        'stroke="#111" stroke-width="1.5"/>')
            body.append(f'<text x="{bar_x - 2:.1f}" y="{top - 22:.1f}" font-size="12" fill="#2166ac">blue: faster'
                        f'</text><text x="{bar_x - 2:.1f}" y="{top - 8:.1f}" font-size="12" fill="#2166ac">'
                        'than the nation</text>'
                        f'<text x="{bar_x - 2:.1f}" y="{bottom + 20:.1f}" font-size="12" fill="#b2182b">red: slower'
                        f'</text><text x="{bar_x - 2:.1f}" y="{bottom + 34:.1f}" font-size="12" fill="#111">'
                        f'nation {cs.centre:+.1f} %</text>')
        else:
            unit = MAP_VARIABLES[variable].split("(")[-1].rstrip(")")
            body.append(f'<text x="{bar_x - 2:.1f}" y="{top - 10:.1f}" font-size="12" fill="#444">{svg.esc(unit)}'
                        '</text>')
        fixed = scale == "fixed" and snapshot.run_range is not None
        notes.append(f"colours {'fixed over ' + str(snapshot.start_year) + '–' + str(snapshot.end_year) if fixed else 'stretched over ' + str(snapshot.year)}")
    else:
        present = strategies_in_order(snapshot.strategies)
        lx, ly = 8 * TILE + 16, 60.0
        for strategy in present:
            body.append(f'<rect x="{lx:.1f}" y="{ly - 10:.1f}" width="13" height="13" rx="2" '
                        f'fill="{strategy_colour(strategy)}"/><text x="{lx + 18:.1f}" y="{ly + 1:.1f}" '
                        f'font-size="12" fill="#333">{svg.esc(strategy)}</text>')
            ly += 22
    body.append(f'<text x="6" y="{MAP_H - 8:.1f}" font-size="12" fill="#555" class="map-note">'
                f'{svg.esc(" · ".join(notes))}</text>')
    return svg.document(MAP_W, MAP_H, "".join(body), f"sim-map-svg map-{variable}",
                        f"map of the provinces coloured by {MAP_VARIABLES[variable]}")


# --------------------------------------------------------------------------------------
# one province against the nation

PROVINCE_PANELS: tuple[tuple[str, str, str, int], ...] = (
    ("gdp_per_capita", "GDP per person", "CNY thousand, start-year prices", 1),
    ("research_output", "Research output", "SCI papers a year", 0),
    ("graduates", "Graduates", "thousand a year", 1),
    ("institutes", "Research institutes", "number", 0),
)
"""The province plot's panels: (ProvinceYear field, title, unit, decimals)."""

PANEL_W, PANEL_H = 316.0, 180.0


def national_line(snapshot: Snapshot, key: str) -> list[float]:
    """The nation's line of a province panel: GDP per person of the whole country, else the mean province."""
    if key == "gdp_per_capita":
        return [row["gdp_per_capita_cny"] / 1000.0 for row in snapshot.national]
    return [float(np.mean(getattr(year, key))) for year in snapshot.history]


def province_index(snapshot: Snapshot, name: str) -> int:
    """The position of province ``name`` in the snapshot (ValueError when it is not there)."""
    return snapshot.names.index(name)


def draw_province(snapshot: Snapshot, name: str) -> str:
    """Province ``name``'s trajectories so far against the nation's, and its strategy over the years; SVG.

    Four panels (GDP per person, research output, graduates, institutes): the province solid, the
    nation dashed (GDP per person of the whole country; for the others the mean of the provinces).
    Below them a band coloured by the province's strategy in each year.
    """
    i = province_index(snapshot, name)
    years = [year.year for year in snapshot.history]
    colour = BLUE
    body = []
    gap = 14.0
    width = 2 * PANEL_W + gap
    for k, (key, title, unit, decimals) in enumerate(PROVINCE_PANELS):
        ox = (k % 2) * (PANEL_W + gap)
        oy = (k // 2) * (PANEL_H + 10)
        own = [float(getattr(year, key)[i]) for year in snapshot.history]
        nation = national_line(snapshot, key)
        low = min(own + nation + [0.0])
        high = max(own + nation)
        ticks = svg.nice_ticks(low, high if high > low else low + 1, 4)
        frame = svg.Frame(left=ox + 52, top=oy + 34, right=ox + PANEL_W - 68, bottom=oy + PANEL_H - 24,
                          x0=snapshot.start_year - 0.5, x1=snapshot.end_year + 0.5,
                          y0=min(low, ticks[0]), y1=max(high, ticks[-1]))
        body.append(f'<text x="{ox + 4:.1f}" y="{oy + 13:.1f}" font-size="12.5" font-weight="bold" fill="#222">'
                    f'{svg.esc(title)}</text><text x="{ox + 4:.1f}" y="{oy + 27:.1f}" font-size="10" fill="#666">'
                    f'{svg.esc(unit)}</text>')
        body.append(svg.axes(frame, svg.year_ticks(snapshot.start_year, snapshot.end_year, 4), ticks,
                             svg.tick_decimals(ticks), "", font_size=11))
        body.append(svg.polyline(frame, svg.Series(years, nation, "#555555", 1.8, "5 4", end_marker=False,
                                                   end_label="")))
        body.append(svg.polyline(frame, svg.Series(years, own, colour, 2.4, end_marker=True,
                                                   end_label=svg.number(own[-1], decimals))))
    legend_y = 2 * (PANEL_H + 10) + 4
    nation_label = "the nation (GDP per person of China; otherwise the average province)"
    entries = [(name, colour, ""), (nation_label, "#555555", "5 4")]
    body.append(svg.legend(entries, 4, legend_y + 10, width - 8))
    # the strategy band, below the legend (one row, or two for a long province name)
    band_top = legend_y + 44 + 18 * (svg.legend_rows(entries, width - 8) - 1)
    frame = svg.Frame(left=52, top=band_top, right=width - 52, bottom=band_top + 20,
                      x0=snapshot.start_year - 0.5, x1=snapshot.end_year + 0.5, y0=0, y1=1)
    body.append(f'<text x="4" y="{band_top - 6:.1f}" font-size="12.5" font-weight="bold" fill="#222">Strategy, '
                'year by year</text>')
    strategies = [year.strategies[i] for year in snapshot.history]
    start = segment = 0
    for j in range(1, len(strategies) + 1):
        if j == len(strategies) or strategies[j] != strategies[start]:
            x0, x1 = frame.x(years[start] - 0.5), frame.x(years[j - 1] + 0.5)
            body.append(f'<rect x="{x0:.1f}" y="{band_top:.1f}" width="{x1 - x0:.1f}" height="20" '
                        f'fill="{strategy_colour(strategies[start])}"><title>{years[start]}–{years[j - 1]}: '
                        f'{svg.esc(strategies[start])}</title></rect>')
            label_y = band_top + 34 + 14 * (segment % 2)  # alternate rows: switches five years apart
            body.append(f'<text x="{x0 + 2:.1f}" y="{label_y:.1f}" font-size="10.5" fill="#333" '
                        f'class="strategy-label">{years[start]}: {svg.esc(strategies[start])}</text>')
            start = j
            segment += 1
    height = band_top + 58
    return svg.document(width, height, "".join(body), "sim-province-svg",
                        f"{name} against the nation: GDP per person, research output, graduates, institutes, strategy")
