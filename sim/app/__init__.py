"""The browser dashboard for students (Solara): move a slider, step the years, watch what happens.

Start it with ``sim app [SCENARIO] [--port N]`` (see :mod:`sim.cli.app`), or
``solara run sim.app``. The page has the controls in a sidebar (scenario file, the parameters
that matter, Step / Play / Run to end / Reset) and, updating as the model steps, the headline
metrics, a tile-grid map of the provinces coloured by a chosen variable, the top 10 provinces by
research output, four time-series charts and the event log.

The module is in two layers. The first is plain Python and knows nothing about Solara:
:class:`Controls` (what the sidebar sets, turned into ``key.path=value`` overrides),
:class:`Dashboard` (builds a model from a scenario file plus the overrides, steps it and takes a
:class:`Snapshot` of what the page shows) and the drawing functions (matplotlib figures rendered to
PNG bytes). The second is the Solara components, which only hold state and lay things out. UI
controls live only here; the model never sees them.

The app is configured through the environment (set by ``sim app``): ``SIM_APP_SCENARIO`` (the
scenario file to open), ``SIM_APP_SCENARIO_DIR`` (the folder whose ``*.toml`` files the scenario
selector lists) and ``SIM_APP_OVERRIDES`` (a JSON list of ``--set`` overrides applied to every run).
"""

from __future__ import annotations

import html
import io
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import solara

from sim.errors import SimError

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# What the sidebar offers

FROM_FILE = "file"
"""Group-selector value meaning "keep what the scenario file assigns"."""

REGION_GROUPS: tuple[str, ...] = ("east", "central", "west", "northeast")

STRATEGY_LABELS: dict[str, str] = {
    "baseline": "baseline: business as usual",
    "hefei": "hefei: flagship lab + guidance fund",
    "cas_branch": "cas_branch: CAS branch institutes",
    "foreign_multinational": "foreign_multinational: open zone",
    "consumer_niche": "consumer_niche: market champions",
    "megacity": "megacity: money to the megacities",
}
"""Strategy names with a few words on what each does, for selectors and legends."""

STRATEGY_COLOURS: dict[str, str] = {
    "baseline": "#c7ccd6",
    "hefei": "#e4572e",
    "cas_branch": "#3f9e6d",
    "foreign_multinational": "#3a7dc9",
    "consumer_niche": "#f2a541",
    "megacity": "#8e5ab5",
}

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

SHORT_NAMES = {"Inner Mongolia": "Inner Mong.", "Heilongjiang": "Heilongj."}
"""Names shortened to fit a map tile (all others fit as they are)."""

EVENT_COLOURS = {
    "institute_founded": "#2e8b57",
    "institute_closed": "#7a7a7a",
    "breakthrough": "#d4a017",
    "strategy_switch": "#3a7dc9",
    "endorsement": "#8e5ab5",
    "fund_failure": "#c0392b",
    "fdi_shock": "#c0392b",
    "infrastructure": "#16a085",
    "real_estate_decline": "#a0522d",
}

MAX_EVENTS_SHOWN = 250
"""The event log shows this many of the newest events."""


@dataclass(frozen=True)
class Controls:
    """Everything the sidebar sets. ``scenario`` is a file path ("" = the built-in defaults)."""

    scenario: str
    rd_intensity_target: float
    graduate_mobility: float
    openness: float
    coordination: str
    imitation: bool
    end_year: int
    seed: int
    east: str = FROM_FILE
    central: str = FROM_FILE
    west: str = FROM_FILE
    northeast: str = FROM_FILE

    def overrides(self) -> list[str]:
        """The ``key.path=value`` overrides these controls put on the scenario file."""
        result = [
            f"investment.rd_intensity_target={round(float(self.rd_intensity_target), 4)!r}",
            f"migration.graduate_mobility={round(float(self.graduate_mobility), 4)!r}",
            f"economy.openness={round(float(self.openness), 4)!r}",
            f'strategy.consumer_niche.coordination="{self.coordination}"',
            f"imitation.enabled={'true' if self.imitation else 'false'}",
            f"run.end_year={int(self.end_year)}",
            f"run.seed={int(self.seed)}",
        ]
        for group in REGION_GROUPS:
            strategy = getattr(self, group)
            if strategy != FROM_FILE:
                result.append(f'strategies.assign.{group}="{strategy}"')
        return result

    def describe_difference(self, other: Controls) -> str:
        """A few words on what ``other`` had that these controls changed (for chart legends)."""
        labels = {
            "scenario": ("scenario", lambda v: Path(v).stem if v else "defaults"),
            "rd_intensity_target": ("R&D", lambda v: f"{v:.1f} %"),
            "graduate_mobility": ("mobility", lambda v: f"{v:.2f}"),
            "openness": ("openness", lambda v: f"{v:.2f}"),
            "coordination": ("niche", str),
            "imitation": ("imitation", lambda v: "on" if v else "off"),
            "end_year": ("horizon", str),
            "seed": ("seed", str),
            **{g: (g, lambda v: "from file" if v == FROM_FILE else v) for g in REGION_GROUPS},
        }
        parts = [f"{name} {show(getattr(other, key))}" for key, (name, show) in labels.items()
                 if getattr(other, key) != getattr(self, key)]
        if not parts:
            return "same settings"
        return ", ".join(parts[:3]) + (", ..." if len(parts) > 3 else "")


def controls_from_scenario(path: str, base_overrides: list[str] | tuple[str, ...] = ()) -> Controls:
    """The controls showing what the scenario file at ``path`` ("" = defaults) says.

    Raises:
        ScenarioError: when the file (with ``base_overrides``) is not a valid scenario.
    """
    from sim.scenario import load_scenario

    scenario = load_scenario(path or None, list(base_overrides))
    return Controls(
        scenario=path,
        rd_intensity_target=float(scenario.investment.rd_intensity_target),
        graduate_mobility=float(scenario.migration.graduate_mobility),
        openness=float(scenario.economy.openness),
        coordination=scenario.strategy.consumer_niche.coordination,
        imitation=bool(scenario.imitation.enabled),
        end_year=int(scenario.run.end_year),
        seed=int(scenario.run.seed),
    )


@dataclass(frozen=True)
class AppConfig:
    """Where the app finds scenarios: the folder to list, the file to open, overrides for every run."""

    scenario_dir: Path | None
    initial_scenario: str
    base_overrides: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls) -> AppConfig:
        """Read ``SIM_APP_SCENARIO``, ``SIM_APP_SCENARIO_DIR`` and ``SIM_APP_OVERRIDES``."""
        scenario = os.environ.get("SIM_APP_SCENARIO", "")
        folder = os.environ.get("SIM_APP_SCENARIO_DIR", "")
        if folder:
            scenario_dir: Path | None = Path(folder)
        elif scenario:
            scenario_dir = Path(scenario).parent
        else:
            scenario_dir = default_scenario_dir()
        try:
            overrides = tuple(str(o) for o in json.loads(os.environ.get("SIM_APP_OVERRIDES", "[]")))
        except (json.JSONDecodeError, TypeError):
            overrides = ()
        if not scenario and scenario_dir is not None and (scenario_dir / "baseline.toml").exists():
            scenario = str(scenario_dir / "baseline.toml")
        return cls(scenario_dir, scenario, overrides)

    def scenario_choices(self) -> list[tuple[str, str]]:
        """(label, path) of every scenario file on offer; the path "" is the built-in defaults."""
        files = sorted(self.scenario_dir.glob("*.toml")) if self.scenario_dir and self.scenario_dir.is_dir() else []
        choices = [(p.name, str(p)) for p in files]
        if self.initial_scenario and all(Path(p).resolve() != Path(self.initial_scenario).resolve()
                                         for _, p in choices):
            choices.insert(0, (Path(self.initial_scenario).name, self.initial_scenario))
        choices.append(("(built-in defaults)", ""))
        return choices


def default_scenario_dir() -> Path | None:
    """``./scenarios`` if it exists, else the ``scenarios`` folder next to the package, else None."""
    for candidate in (Path.cwd() / "scenarios", Path(__file__).resolve().parent.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return None


# --------------------------------------------------------------------------------------
# The session: one model, rebuilt on every change of the controls


@dataclass(frozen=True)
class Ghost:
    """The national rows of an earlier run, drawn dashed for comparison, and what differed."""

    rows: tuple[dict[str, float], ...]
    label: str


@dataclass(frozen=True)
class Snapshot:
    """Everything the page shows about one year of one run (immutable, cheap to take)."""

    version: int
    scenario_name: str
    description: str
    year: int
    start_year: int
    end_year: int
    running: bool
    national: tuple[dict[str, float], ...]
    names: tuple[str, ...]
    capitals: tuple[str, ...]
    coastal: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    synthetic: bool
    values: dict[str, np.ndarray]
    strategies: tuple[str, ...]
    start_rank: np.ndarray
    events: tuple[tuple[int, str, str, str], ...]
    ghost: Ghost | None = None

    @property
    def years_done(self) -> int:
        """Years simulated so far."""
        return self.year - self.start_year


@dataclass
class Dashboard:
    """One student's session: the model built from the chosen scenario and controls.

    Thread-safe: the play loop and button clicks both go through :meth:`step`.
    """

    config: AppConfig
    model: Any = None
    controls: Controls | None = None
    ghost: Ghost | None = None
    ghost_controls: Controls | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _versions: itertools.count = field(default_factory=itertools.count)
    _start_pc: np.ndarray | None = None
    _start_rank: np.ndarray | None = None

    def build(self, controls: Controls) -> Snapshot:
        """Build a fresh model at its start year from ``controls``; returns its snapshot.

        The run being replaced becomes the dashed "before" line when it has stepped at least
        one year. Raises :class:`~sim.errors.SimError` for settings that cannot run (the model
        is then left as it was).
        """
        from sim.metrics import rank_descending
        from sim.model import RegionalGrowthModel

        overrides = list(self.config.base_overrides) + controls.overrides()
        model = RegionalGrowthModel(controls.scenario or None, overrides=overrides)
        with self._lock:
            old = self.model
            if old is not None and len(old.national_rows) > 1 and self.controls is not None:
                self.ghost_controls = self.controls
                self.ghost = Ghost(tuple(old.national_rows), "")
            self.model = model
            self.controls = controls
            self._start_pc = model.gdp_per_capita.copy()
            self._start_rank = np.asarray(rank_descending(model.state.papers))
            return self.snapshot()

    def step(self, years: int = 1) -> Snapshot:
        """Simulate up to ``years`` more years (not past the horizon); returns the snapshot."""
        with self._lock:
            for _ in range(years):
                if not self.model.running:
                    break
                self.model.step()
            return self.snapshot()

    def run_to_end(self) -> Snapshot:
        """Simulate every remaining year; returns the snapshot of the last."""
        return self.step(self.model.end_year - self.model.year)

    def snapshot(self) -> Snapshot:
        """What the page shows about the model's current year."""
        with self._lock:
            model = self.model
            state = model.state
            years = max(model.year - model.start_year, 1)
            pc = model.gdp_per_capita
            growth = (pc / self._start_pc) ** (1.0 / years) - 1.0 if model.year > model.start_year else np.zeros(model.n)
            ghost = None
            if self.ghost is not None and self.ghost_controls is not None:
                ghost = Ghost(self.ghost.rows, self.controls.describe_difference(self.ghost_controls))
            return Snapshot(
                version=next(self._versions),
                scenario_name=model.scenario.name,
                description=model.scenario.description,
                year=int(model.year),
                start_year=int(model.start_year),
                end_year=int(model.end_year),
                running=bool(model.running),
                national=tuple(model.national_rows),
                names=tuple(model.province_names),
                capitals=tuple(model.data.capitals),
                coastal=np.asarray(model.data.coastal, dtype=bool).copy(),
                lon=np.asarray(model.data.lon, dtype=float),
                lat=np.asarray(model.data.lat, dtype=float),
                synthetic=bool(model.data.synthetic),
                values={
                    "gdp_per_capita": pc / 1000.0,
                    "research_output": state.papers.copy(),
                    "skilled_share": 100.0 * state.skilled_share,
                    "growth": 100.0 * growth,
                },
                strategies=tuple(p.strategy.name for p in model.provinces),
                start_rank=self._start_rank,
                events=tuple(model.event_log[-MAX_EVENTS_SHOWN:]),
                ghost=ghost,
            )


# --------------------------------------------------------------------------------------
# Drawing (matplotlib, no pyplot: figures are local and thread-safe)


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
        (("gini", "Gini", "#c0392b"),
         ("theil_between_region", "Theil between the 4 regions", "#2c7fb8"),
         ("theil_within_region", "Theil within regions", "#41ae76")), decimals=3, min_span=0.1, from_zero=True),
    "gdp": ChartSpec("National GDP", "CNY trillion a year",
                     (("gdp_cny_bn", "GDP", "#2c7fb8"),), scale=1e-3, decimals=0, min_span=10.0),
    "research": ChartSpec("Research output", "thousand SCI papers a year",
                          (("research_output", "papers", "#8e5ab5"),), scale=1e-3, decimals=0, min_span=50.0),
    "interior": ChartSpec("Interior provinces' share of research output", "% of national papers",
                          (("interior_research_share", "interior share", "#e4572e"),), scale=100.0, decimals=1,
                          min_span=4.0),
}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.patch.set_facecolor("white")
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 1})  # fast: it only crosses loopback
    return buffer.getvalue()


def draw_chart(snapshot: Snapshot, key: str) -> bytes:
    """The time-series chart ``key`` of :data:`CHARTS` up to the snapshot's year, as PNG bytes.

    The x axis spans the whole horizon so the line grows across it; a dashed line shows the
    earlier run (:attr:`Snapshot.ghost`) when there is one.
    """
    from matplotlib.ticker import MaxNLocator

    spec = CHARTS[key]
    fig = _figure(5.4, 2.7)
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
    return _png(fig)


def _tile_layout(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every province's tile: the tile grid for China, scaled lon/lat otherwise."""
    if not snapshot.synthetic:
        from sim.data import load_tile_grid

        grid = load_tile_grid().set_index("province")
        if all(name in grid.index for name in snapshot.names):
            rows = grid.loc[list(snapshot.names)]
            return rows["col"].to_numpy(float), rows["row"].to_numpy(float)
    x = (snapshot.lon - snapshot.lon.min()) / max(np.ptp(snapshot.lon), 1e-9) * 9.0
    y = (snapshot.lat.max() - snapshot.lat) / max(np.ptp(snapshot.lat), 1e-9) * 6.0
    return x, y


def _label_size(label: str) -> float:
    """Font size (points) at which a bold province name fits its tile."""
    return 8.6 if len(label) <= 7 else 7.8 if len(label) <= 8 else 6.9


def _format_value(variable: str, value: float) -> str:
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
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, Rectangle

    x, y = _tile_layout(snapshot)
    fig = _figure(6.4, 5.9)
    numeric = variable != "strategy"
    ax = fig.add_axes((0.0, 0.07, 0.85, 0.93) if numeric else (0.0, 0.12, 1.0, 0.88))
    size = 0.94 if not snapshot.synthetic else 0.55
    happened = {province for year, _kind, province, _detail in snapshot.events if year == snapshot.year}
    values = None
    if numeric:
        values = np.asarray(snapshot.values[variable], dtype=float)
        low, high = float(values.min()), float(values.max())
        if variable == "growth" and snapshot.years_done == 0:
            low, high = -1.0, 1.0
        norm = mpl.colors.Normalize(vmin=low, vmax=high if high > low else low + 1e-6)
        cmap = mpl.colormaps[MAP_COLOURMAPS[variable]]
        colours = [cmap(norm(v)) for v in values]
    else:
        colours = [STRATEGY_COLOURS.get(s, "#cccccc") for s in snapshot.strategies]
    rgb = [mpl.colors.to_rgb(colour) for colour in colours]
    edges = ["#111111" if name in happened else "white" for name in snapshot.names]
    widths = [3.0 if name in happened else 1.2 for name in snapshot.names]
    tiles = [Rectangle((x[i] - size / 2, y[i] - size / 2), size, size) for i in range(len(snapshot.names))]
    ax.add_collection(PatchCollection(tiles, facecolors=rgb, edgecolors=edges, linewidths=widths,
                                      joinstyle="round", zorder=1))
    for i, name in enumerate(snapshot.names if not snapshot.synthetic else ()):
        luminance = 0.299 * rgb[i][0] + 0.587 * rgb[i][1] + 0.114 * rgb[i][2]
        ink = "#1a1a1a" if luminance > 0.5 else "white"
        label = SHORT_NAMES.get(name, name)
        ax.text(x[i], y[i] - 0.14, label, ha="center", va="center", fontsize=_label_size(label),
                fontweight="bold", color=ink)
        detail = _format_value(variable, values[i]) if values is not None else snapshot.capitals[i]
        ax.text(x[i], y[i] + 0.2, detail, ha="center", va="center", fontsize=8.2 if values is not None else 7.4,
                color=ink)
    ax.set_xlim(x.min() - 0.52, x.max() + 0.52)
    ax.set_ylim(y.max() + 0.52, y.min() - 0.52)
    ax.set_aspect("equal")
    ax.axis("off")
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
        present = [s for s in STRATEGY_COLOURS if s in snapshot.strategies]
        handles = [Patch(facecolor=STRATEGY_COLOURS[s], edgecolor="white", label=s) for s in present]
        fig.legend(handles=handles, loc="lower center", ncol=min(3, len(handles)), fontsize=9, frameon=False,
                   bbox_to_anchor=(0.5, 0.04))
        if note:
            fig.text(0.5, 0.01, note, ha="center", fontsize=8, color="#555")
    return _png(fig)


def warm_up() -> None:
    """Build a model and draw every figure once, so that the first page does not pay for imports.

    ``sim app`` calls it in a background thread while the server starts.
    """
    config = AppConfig.from_environment()
    try:
        controls = controls_from_scenario(config.initial_scenario, config.base_overrides)
    except SimError:
        controls = controls_from_scenario("", ())
    snapshot = Dashboard(config).build(controls)
    draw_tile_map(snapshot, "gdp_per_capita")
    for key in CHARTS:
        draw_chart(snapshot, key)


# --------------------------------------------------------------------------------------
# HTML pieces (escaped: province and event names come from scenario files)


def _fmt_delta(value: float, decimals: int, unit: str = "") -> str:
    if abs(value) < 0.5 * 10 ** (-decimals):
        return "no change"
    arrow = "▲" if value > 0 else "▼"
    return f"{arrow} {abs(value):,.{decimals}f}{unit}"


def kpi_html(snapshot: Snapshot) -> str:
    """The row of headline numbers, each with its change since the start year."""
    first, last = snapshot.national[0], snapshot.national[-1]
    items = [
        ("Gini", "inequality of GDP per person (0 = equal)", "gini", 1.0, 3, ""),
        ("Theil between", "gap between the 4 regions", "theil_between_region", 1.0, 3, ""),
        ("Theil within", "gaps inside each region", "theil_within_region", 1.0, 3, ""),
        ("National GDP", "CNY trillion a year", "gdp_cny_bn", 1e-3, 1, ""),
        ("Research output", "thousand SCI papers a year", "research_output", 1e-3, 0, ""),
        ("Interior share", "of research output, %", "interior_research_share", 100.0, 1, " pts"),
    ]
    cells = []
    for title, unit, column, scale, decimals, delta_unit in items:
        value = last[column] * scale
        delta = ""
        if snapshot.years_done:
            change = _fmt_delta((last[column] - first[column]) * scale, decimals, delta_unit)
            delta = f"{change} <span>since {snapshot.start_year}</span>"
        cells.append(f'<div class="kpi kpi-{column}"><div class="kpi-title">{title}</div>'
                     f'<div class="kpi-value">{value:,.{decimals}f}</div><div class="kpi-unit">{unit}</div>'
                     f'<div class="kpi-delta">{delta}</div></div>')
    return "".join(cells)


def top10_html(snapshot: Snapshot) -> str:
    """The top 10 provinces by research output with capital city, papers, share, rank change, strategy."""
    papers = snapshot.values["research_output"]
    order = np.argsort(-papers, kind="stable")[:10]
    total = float(papers.sum())
    rows = []
    for rank, i in enumerate(order, start=1):
        moved = int(snapshot.start_rank[i]) - rank
        if snapshot.years_done == 0 or moved == 0:
            change = '<span class="same">–</span>'
        elif moved > 0:
            change = f'<span class="up">▲ {moved}</span>'
        else:
            change = f'<span class="down">▼ {-moved}</span>'
        strategy = snapshot.strategies[i]
        tag = "" if snapshot.coastal[i] else ' <span class="tag">interior</span>'
        rows.append(
            f"<tr><td class='rank'>{rank}</td>"
            f"<td><div class='prov'>{html.escape(snapshot.names[i])}{tag}</div>"
            f"<div class='cap'>{html.escape(snapshot.capitals[i])}</div></td>"
            f"<td class='num'>{papers[i]:,.0f}</td><td class='num'>{100 * papers[i] / total:.1f} %</td>"
            f"<td class='num'>{change}</td>"
            f"<td><span class='chip' style='background:{STRATEGY_COLOURS.get(strategy, '#ccc')}'></span>"
            f"{html.escape(strategy)}</td></tr>")
    head = ("<thead><tr><th>#</th><th>Province<div class='cap'>capital city</div></th><th class='num'>Papers a year</th>"
            f"<th class='num'>Share</th><th class='num' title='places moved since {snapshot.start_year}'>Moved</th>"
            "<th>Strategy</th></tr></thead>")
    return f"<table class='top10'>{head}<tbody>{''.join(rows)}</tbody></table>"


def event_line(event: tuple[int, str, str, str]) -> str:
    """One event as a student reads it: ``2031 Anhui: national lab founded in ev_batteries``."""
    year, _kind, province, detail = event
    return f"{year} {province}: {detail}" if province else f"{year}: {detail}"


def events_html(snapshot: Snapshot) -> str:
    """The event log, newest first; this year's events are highlighted."""
    if not snapshot.events:
        return "<div class='empty'>Nothing has happened yet: press Step or Play.</div>"
    items = []
    for event in reversed(snapshot.events):
        year, kind, province, detail = event
        colour = EVENT_COLOURS.get(kind, "#888888")
        fresh = " fresh" if year == snapshot.year else ""
        where = f"<b>{html.escape(province)}</b>: " if province else ""
        items.append(f"<li class='event{fresh}'><span class='year'>{year}</span>"
                     f"<span class='text'>{where}{html.escape(detail)}</span>"
                     f"<span class='kind' style='background:{colour}'>{html.escape(kind.replace('_', ' '))}</span>"
                     "</li>")
    return f"<ul class='events'>{''.join(items)}</ul>"


# --------------------------------------------------------------------------------------
# The page (Solara components)

CSS = """
.sim-app { display: flex; align-items: flex-start; min-height: 100vh; background: #f3f5f9;
  font-family: Roboto, 'DejaVu Sans', sans-serif; }
.sim-side { flex: none; width: 330px; position: sticky; top: 0; height: 100vh; overflow-y: auto;
  background: white; border-right: 1px solid #e2e6ec; padding: 0 14px 16px 14px; }
.sim-side .brand { margin: 0 -14px 10px -14px; padding: 12px 14px; background: #1565c0; color: white; }
.sim-side .brand .t { font-size: 1.05rem; font-weight: 700; line-height: 1.2; }
.sim-side .brand .s { font-size: 0.78rem; opacity: .85; }
.sim-side .buttons { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; margin-bottom: 4px; }
.sim-side .buttons .v-btn { width: 100%; }
.sim-side .section { font-size: 0.72rem; font-weight: 700; letter-spacing: .08em; text-transform: uppercase;
  color: #5c6b7a; margin: 16px 0 2px 0; padding-top: 8px; border-top: 1px solid #eef0f3; }
.sim-side .ctl-title { font-size: 0.88rem; font-weight: 600; color: #222; display: flex;
  justify-content: space-between; margin-top: 8px; }
.sim-side .ctl-title .val { color: #1565c0; font-variant-numeric: tabular-nums; white-space: nowrap; padding-left: 6px; }
.sim-side .ctl-help { font-size: 0.74rem; color: #6b6b6b; line-height: 1.25; margin-bottom: 2px; }
.sim-side .timing { font-size: 0.72rem; color: #999; margin-top: 10px; }
.sim-side .v-slider.v-input--horizontal { margin-inline: 4px; }
.sim-side .v-select, .sim-side .v-text-field { margin-top: 4px; }
.sim-main { flex: 1; min-width: 0; padding: 12px 16px 24px 16px; }
.sim-header { display: flex; align-items: center; gap: 20px; margin-bottom: 10px; }
.sim-header .year { font-size: 3.2rem; font-weight: 800; color: #1565c0; line-height: 1;
  font-variant-numeric: tabular-nums; }
.sim-header .meta { flex: 1; min-width: 0; }
.sim-header .meta .name { font-size: 1.2rem; font-weight: 700; }
.sim-header .meta .desc { color: #555; font-size: 0.9rem; }
.sim-header .progress { height: 8px; background: #dfe6ef; border-radius: 4px; margin-top: 8px; overflow: hidden; }
.sim-header .progress > div { height: 100%; background: linear-gradient(90deg, #64b5f6, #1565c0);
  transition: width .2s; }
.sim-header .progress-label { font-size: 0.78rem; color: #666; margin-top: 3px; }
.sim-kpis { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 10px; margin-bottom: 12px; }
.sim-kpis .kpi { background: white; border-radius: 10px; padding: 8px 12px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
.sim-kpis .kpi-title { font-size: 0.72rem; font-weight: 700; color: #5c6b7a; text-transform: uppercase;
  letter-spacing: .04em; }
.sim-kpis .kpi-value { font-size: 1.55rem; font-weight: 700; color: #1a1a1a; font-variant-numeric: tabular-nums;
  line-height: 1.25; }
.sim-kpis .kpi-unit { font-size: 0.7rem; color: #777; line-height: 1.2; min-height: 2.4em; }
.sim-kpis .kpi-delta { font-size: 0.78rem; color: #1565c0; min-height: 1.2em; white-space: nowrap; }
.sim-kpis .kpi-delta span { color: #888; }
.sim-card { background: white; border-radius: 10px; padding: 10px 12px; box-shadow: 0 1px 3px rgba(0,0,0,.1);
  min-width: 0; }
.sim-card h3 { font-size: 0.98rem; font-weight: 700; margin: 0 0 2px 0; color: #222; }
.sim-card .sub { font-size: 0.78rem; color: #666; margin-bottom: 4px; }
.sim-card img { width: 100%; height: auto; display: block; }
.sim-card .head { display: flex; align-items: center; justify-content: space-between; gap: 10px; }
.sim-row { display: grid; grid-template-columns: minmax(0, 1.08fr) minmax(0, 1fr); gap: 12px; margin-bottom: 12px; }
.sim-stack { display: flex; flex-direction: column; gap: 12px; min-width: 0; }
.sim-charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
table.top10 { width: 100%; border-collapse: collapse; font-size: 0.84rem; }
table.top10 th { text-align: left; font-size: 0.7rem; color: #5c6b7a; text-transform: uppercase;
  border-bottom: 2px solid #e3e3e3; padding: 3px 5px; vertical-align: bottom; }
table.top10 th .cap { text-transform: none; }
table.top10 td { padding: 3px 5px; border-bottom: 1px solid #f0f0f0; vertical-align: middle; }
table.top10 .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.top10 .rank { color: #888; font-weight: 700; width: 1.5em; }
table.top10 .prov { font-weight: 700; white-space: nowrap; }
table.top10 .cap { font-size: 0.74rem; color: #777; font-weight: 400; }
table.top10 .up { color: #2e7d32; font-weight: 700; }
table.top10 .down { color: #c62828; font-weight: 700; }
table.top10 .same { color: #bbb; }
table.top10 .tag { font-size: 0.64rem; background: #fff0e3; color: #b2541a; border-radius: 4px; padding: 0 4px;
  font-weight: 600; }
table.top10 td:last-child { white-space: nowrap; }
table.top10 .chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.sim-events-box { max-height: 250px; overflow-y: auto; }
.sim-tips ul { padding-left: 18px; margin: 4px 0 0 0; font-size: 0.85rem; color: #333; }
.sim-tips li { margin-bottom: 5px; line-height: 1.35; }
ul.events { list-style: none; padding: 0 !important; margin: 0; font-size: 0.83rem; }
ul.events li { display: flex; gap: 8px; align-items: baseline; padding: 3px 4px; border-bottom: 1px solid #f3f3f3; }
ul.events li.fresh { background: #fff8d6; }
ul.events .year { font-weight: 700; color: #1565c0; font-variant-numeric: tabular-nums; }
ul.events .text { flex: 1; }
ul.events .kind { color: white; font-size: 0.66rem; border-radius: 4px; padding: 0 5px; white-space: nowrap; }
.sim-events-box .empty { color: #777; font-style: italic; }
.sim-message { margin-bottom: 10px; }
.sim-error { position: sticky; top: 6px; z-index: 10; background: #fff6f6 !important;
  box-shadow: 0 2px 8px rgba(0,0,0,.15); }
@media (max-width: 1150px) { .sim-row, .sim-charts { grid-template-columns: minmax(0, 1fr); }
  .sim-kpis { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
"""


TIPS_HTML = """
<h3>Things to try</h3>
<ul>
<li><b>Press Play</b> and watch the Gini and the Theil <i>between regions</i>: does the gap between the coast
and the interior close, and how fast?</li>
<li><b>Move graduate mobility</b> up or down, then step again: the dashed lines are your last run. Where do the
graduates go, and what happens to the interior's share of research?</li>
<li><b>Give the West a strategy</b> (cas_branch, hefei, ...) and compare. Colour the map by
<i>Growth of GDP per person</i> to see who catches up.</li>
<li><b>Switch imitation on</b> and colour the map by <i>Strategy</i>: which strategy spreads, and where?</li>
<li><b>Turn global openness down</b> in foreign_multinational.toml: what happens to the open zones?</li>
</ul>
"""
"""Suggestions for students, shown beside the top-10 table."""


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    if "assigns" in text and "strategies" in text:
        text += (". Tip: set that region back to 'as in the scenario file', give it the strategy the file "
                 "gives, or start from baseline.toml, which assigns no groups.")
    return text


def _set_theme() -> None:
    from solara.lab import theme

    theme.themes.light.primary = "#1565c0"
    theme.themes.light.secondary = "#42a5f5"


def _vuetify_props(dense: bool = True, outlined: bool = False) -> dict[str, Any]:
    """Props for a compact (and outlined) input in Vuetify 3 (ipyvuetify 3) or Vuetify 2."""
    from solara.util import IPYVUETIFY_V3

    if IPYVUETIFY_V3:
        return {"density": "compact" if dense else "default", **({"variant": "outlined"} if outlined else {})}
    return {"dense": dense, **({"outlined": True} if outlined else {})}


def _items(pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """(label, value) pairs as select items for Vuetify 3 (title) and Vuetify 2 (text)."""
    return [{"title": label, "text": label, "value": value} for label, value in pairs]


SLIDER_SETTLE_MS = 300
"""A slider applies its value once it has rested this long, so dragging does not rebuild the model."""

_SLIDER_TEMPLATE = """
<template>
  <div :class="css_class">
    <div class="ctl-title"><span>{{ title }}</span><span class="val">{{ label }}</span></div>
    <div v-if="help" class="ctl-help">{{ help }}</div>
    <v-slider v-model="shown" :min="low" :max="high" :step="step" hide-details density="compact" dense
              color="primary"></v-slider>
  </div>
</template>
<script>
module.exports = {
  data() { return { shown: null, timer: null }; },
  created() { this.shown = this.committed; },
  computed: {
    label() { return Number(this.shown).toFixed(this.decimals) + this.suffix; },
  },
  watch: {
    committed(value) { clearTimeout(this.timer); this.shown = value; },
    shown(value) {
      clearTimeout(this.timer);
      if (value !== this.committed) {
        this.timer = setTimeout(() => this.commit(value), this.settle_ms);
      }
    },
  },
}
</script>
"""

_TICKER_TEMPLATE = """
<template><span class="sim-ticker" style="display: none"></span></template>
<script>
module.exports = {
  data() { return { timer: null }; },
  mounted() { this.schedule(); },
  beforeUnmount() { clearTimeout(this.timer); },
  beforeDestroy() { clearTimeout(this.timer); },
  watch: {
    active() { this.schedule(); },
    done() { this.schedule(); },
  },
  methods: {
    schedule() {
      clearTimeout(this.timer);
      if (this.active) { this.timer = setTimeout(() => this.tick(this.done), this.interval_ms); }
    },
  },
}
</script>
"""


def _widget_classes() -> tuple[type, type]:
    """The two widgets whose logic runs in the browser (built on first use, then cached)."""
    if not _WIDGETS:
        import ipyvuetify
        import traitlets

        class SliderWidget(ipyvuetify.VuetifyTemplate):
            """A titled slider that shows its value while it moves and commits it once it rests."""

            template = traitlets.Unicode(_SLIDER_TEMPLATE).tag(sync=True)
            title = traitlets.Unicode("").tag(sync=True)
            help = traitlets.Unicode("").tag(sync=True)
            css_class = traitlets.Unicode("").tag(sync=True)
            committed = traitlets.Float(0.0).tag(sync=True)
            low = traitlets.Float(0.0).tag(sync=True)
            high = traitlets.Float(1.0).tag(sync=True)
            step = traitlets.Float(0.1).tag(sync=True)
            decimals = traitlets.Int(1).tag(sync=True)
            suffix = traitlets.Unicode("").tag(sync=True)
            settle_ms = traitlets.Int(SLIDER_SETTLE_MS).tag(sync=True)
            commit_callback = traitlets.Any(None)

            def vue_commit(self, data):
                if self.commit_callback is not None:
                    self.commit_callback(data)

        class TickerWidget(ipyvuetify.VuetifyTemplate):
            """Asks for the next year ``interval_ms`` after the last one arrived, while ``active``.

            Playing is driven from the browser so that every step runs where clicks run: one year
            at a time, never faster than the page can draw them.
            """

            template = traitlets.Unicode(_TICKER_TEMPLATE).tag(sync=True)
            active = traitlets.Bool(False).tag(sync=True)
            interval_ms = traitlets.Int(250).tag(sync=True)
            done = traitlets.Int(0).tag(sync=True)
            tick_callback = traitlets.Any(None)

            def vue_tick(self, data):
                if self.active and self.tick_callback is not None:
                    self.tick_callback()

        _WIDGETS.extend([SliderWidget, TickerWidget])
    return _WIDGETS[0], _WIDGETS[1]


_WIDGETS: list[type] = []


@solara.component
def Layout(children=[]):  # noqa: B006 (Solara's layout signature)
    """No app bar or drawer from Solara: :func:`Page` lays out its own sidebar and main area."""
    return solara.Div(children=children)


@solara.component
def ControlTitle(title: str, value: str = "", help: str = ""):
    """A control's title with its current value on the right, and a line of help below."""
    solara.HTML(tag="div", unsafe_innerHTML=f"<span>{html.escape(title)}</span>"
                                            f"<span class='val'>{html.escape(value)}</span>", classes=["ctl-title"])
    if help:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(help), classes=["ctl-help"])


@solara.component
def Slider(title: str, value: float, low: float, high: float, step: float, decimals: int, suffix: str, help: str,
           css: str, on_change):
    """A slider with a title, its value and a line of help; ``on_change`` gets the value once it rests."""
    slider_widget, _ = _widget_classes()
    return slider_widget.element(title=title, help=help, css_class=css, committed=float(value), low=float(low),
                                 high=float(high), step=float(step), decimals=decimals, suffix=suffix,
                                 commit_callback=lambda new: on_change(new) if new is not None else None)


@solara.component
def Ticker(active: bool, interval_ms: int, done: int, on_tick):
    """While ``active``, calls ``on_tick`` about ``interval_ms`` after each update ``done`` arrived."""
    _, ticker_widget = _widget_classes()
    return ticker_widget.element(active=active, interval_ms=int(interval_ms), done=done, tick_callback=on_tick)


@solara.component
def Choice(title: str, value: Any, items: list[tuple[str, Any]], help: str, css: str, on_change):
    """A drop-down list of (label, value) items."""
    ControlTitle(title, "", help)
    solara.v.Select(v_model=value, items=_items(items), on_v_model=lambda v: on_change(v) if v != value else None,
                    hide_details=True, class_=css, **_vuetify_props(outlined=True))


@solara.component
def Page():
    """The dashboard: controls on the left, what the model does on the right."""
    def initialise():
        config = AppConfig.from_environment()
        dashboard = Dashboard(config)
        try:
            controls = controls_from_scenario(config.initial_scenario, config.base_overrides)
            return dashboard, controls, dashboard.build(controls), None
        except Exception as exc:  # show the problem on the page, with the built-in defaults behind it
            logger.exception("opening %s failed", config.initial_scenario)
            controls = controls_from_scenario("", ())
            return dashboard, controls, dashboard.build(controls), _error_text(exc)

    dashboard, controls0, snapshot0, error0 = solara.use_memo(initialise, [])
    solara.use_memo(_set_theme, [])
    controls = solara.use_reactive(controls0)
    snapshot = solara.use_reactive(snapshot0)
    error = solara.use_reactive(error0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    map_variable = solara.use_reactive("gdp_per_capita")
    timing = solara.use_reactive("")
    last_update_ms = solara.use_ref(0.0)

    def rebuild(new: Controls) -> None:
        playing.set(False)
        controls.set(new)
        try:
            snapshot.set(dashboard.build(new))
            error.set(None)
        except SimError as exc:
            error.set(_error_text(exc))
        except Exception as exc:  # a model that cannot start must not take the page down
            logger.exception("building the model failed")
            error.set(f"These settings cannot run: {type(exc).__name__}: {exc}")

    def change(**values: Any) -> None:
        rebuild(replace(controls.value, **values))

    def choose_scenario(path: str) -> None:
        try:
            new = controls_from_scenario(path, dashboard.config.base_overrides)
        except Exception as exc:  # a broken file is a message, not a crash
            playing.set(False)
            controls.set(replace(controls.value, scenario=path))
            error.set(_error_text(exc))
            return
        rebuild(new)

    def advance(action) -> None:
        started = time.perf_counter()
        try:
            snapshot.set(action())
        except Exception as exc:  # a failing model must not take the page down
            logger.exception("model step failed")
            playing.set(False)
            error.set(f"The model stopped in {snapshot.value.year + 1} with an error: {type(exc).__name__}: {exc}. "
                      "Press Reset or change a setting to start again.")
            return
        last_update_ms.current = 1000 * (time.perf_counter() - started)
        timing.set(f"last update took {last_update_ms.current:.0f} ms")

    def tick() -> None:
        advance(dashboard.step)
        if not snapshot.value.running:
            playing.set(False)

    snap = snapshot.value
    c = controls.value
    can_step = snap.running and error.value is None
    solara.Title(f"{snap.year} · {snap.scenario_name} · sim")
    solara.Style(CSS)
    strategy_items = [("as in the scenario file", FROM_FILE)] + [(label, name) for name, label in STRATEGY_LABELS.items()]

    with solara.Div(classes=["sim-app"]):
        with solara.Div(classes=["sim-side"]):
            solara.HTML(tag="div", classes=["brand"], unsafe_innerHTML=(
                "<div class='t'>Science and regional growth</div>"
                "<div class='s'>China's 31 provinces invest in science: move a slider, press Step</div>"))
            with solara.Div(classes=["buttons"]):
                solara.Button("Step", icon_name="mdi-skip-next", color="primary", disabled=not can_step,
                              on_click=lambda: advance(dashboard.step), classes=["btn-step"])
                solara.Button("Pause" if playing.value else "Play",
                              icon_name="mdi-pause" if playing.value else "mdi-play", color="primary",
                              outlined=True, disabled=not can_step and not playing.value,
                              on_click=lambda: playing.set(not playing.value), classes=["btn-play"])
                solara.Button("To the end", icon_name="mdi-fast-forward", outlined=True, disabled=not can_step,
                              on_click=lambda: advance(dashboard.run_to_end), classes=["btn-end"])
                solara.Button("Reset", icon_name="mdi-restart", outlined=True,
                              on_click=lambda: rebuild(controls.value), classes=["btn-reset"])
            Slider("Play speed", speed.value, 1, 10, 1, 0, " years a second", "", "ctl-speed",
                   lambda v: speed.set(int(v)))
            Ticker(playing.value and can_step, max(30, 1000 / speed.value - last_update_ms.current), snap.version,
                   tick)

            solara.HTML(tag="div", unsafe_innerHTML="Scenario", classes=["section"])
            Choice("Scenario file", c.scenario, dashboard.config.scenario_choices(),
                   "Any change below starts the run again from the first year.", "ctl-scenario", choose_scenario)

            solara.HTML(tag="div", unsafe_innerHTML="Science money and people", classes=["section"])
            Slider("National R&D intensity", c.rd_intensity_target, 0.0, 10.0, 0.1, 1, " % of GDP",
                   "R&D spending reached in the target year (2.54 % of GDP in 2022).", "ctl-rd",
                   lambda v: change(rd_intensity_target=float(v)))
            Slider("Graduate mobility", c.graduate_mobility, 0.0, 1.0, 0.05, 2, "",
                   "Share of new graduates who look for work outside their home province.", "ctl-mobility",
                   lambda v: change(graduate_mobility=float(v)))

            solara.HTML(tag="div", unsafe_innerHTML="Strategy by region", classes=["section"])
            for group in REGION_GROUPS:
                Choice(group.capitalize(), getattr(c, group), strategy_items, "", f"ctl-{group}",
                       lambda v, g=group: change(**{g: v}))
            Choice("Consumer-niche coordination", c.coordination,
                   [("independent: all chase the biggest market", "independent"),
                    ("coordinated: each its own market", "coordinated")],
                   "How consumer_niche provinces choose their market segment.", "ctl-coordination",
                   lambda v: change(coordination=v))
            solara.Switch(label="Imitation: every 5 years, copy a faster-growing neighbour", value=c.imitation,
                          on_value=lambda v: change(imitation=bool(v)), color="primary", classes=["ctl-imitation"])

            solara.HTML(tag="div", unsafe_innerHTML="World and time", classes=["section"])
            Slider("Global openness", c.openness, 0.0, 1.0, 0.05, 2, "",
                   "How open the world is to multinational R&D labs (1 = as in 2022).", "ctl-openness",
                   lambda v: change(openness=float(v)))
            Slider("Horizon", c.end_year, snap.start_year + 1, max(2100, c.end_year), 1, 0, "",
                   "The last year to simulate.", "ctl-horizon", lambda v: change(end_year=int(v)))
            solara.InputInt("Random seed", value=c.seed, on_value=lambda v: change(seed=int(v or 0)),
                            classes=["ctl-seed"], dense=True)
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(timing.value), classes=["timing"])

        with solara.Div(classes=["sim-main"]):
            Header(snap, playing.value)
            if error.value:
                solara.Error(f"{error.value} (The page still shows the last settings that worked.)",
                             classes=["sim-message", "sim-error"])
            solara.HTML(tag="div", unsafe_innerHTML=kpi_html(snap), classes=["sim-kpis"])
            with solara.Div(classes=["sim-row"]):
                with solara.Div(classes=["sim-stack"]):
                    with solara.Div(classes=["sim-card", "sim-map"]):
                        with solara.Div(classes=["head"]):
                            solara.HTML(tag="h3", unsafe_innerHTML=f"The provinces in {snap.year}")
                            solara.v.Select(v_model=map_variable.value, on_v_model=map_variable.set,
                                            hide_details=True, class_="ctl-map-variable", style_="max-width: 330px",
                                            items=_items([(label, key) for key, label in MAP_VARIABLES.items()]),
                                            **_vuetify_props(outlined=True))
                        TileMap(snap, map_variable.value)
                    with solara.Div(classes=["sim-card", "sim-events"]):
                        solara.HTML(tag="h3", unsafe_innerHTML="What happened, newest first")
                        solara.HTML(tag="div", unsafe_innerHTML=events_html(snap), classes=["sim-events-box"])
                with solara.Div(classes=["sim-stack"]):
                    with solara.Div(classes=["sim-card", "sim-top10"]):
                        papers = snap.values["research_output"]
                        interior = int((~snap.coastal[np.argsort(-papers)[:10]]).sum())
                        solara.HTML(tag="h3", unsafe_innerHTML=f"Top 10 by research output, {snap.year}")
                        solara.HTML(tag="div", classes=["sub"],
                                    unsafe_innerHTML=f"{interior} of the 10 are interior provinces.")
                        solara.HTML(tag="div", unsafe_innerHTML=top10_html(snap), classes=["sim-table"])
                    solara.HTML(tag="div", unsafe_innerHTML=TIPS_HTML, classes=["sim-card", "sim-tips"])
            with solara.Div(classes=["sim-charts"]):
                for key in CHARTS:
                    Chart(snap, key)


@solara.component
def Header(snapshot: Snapshot, playing: bool):
    """The big year, the scenario's name and description, and how far the run has got."""
    done = snapshot.years_done
    span = max(snapshot.end_year - snapshot.start_year, 1)
    if playing:
        status = "playing…"
    elif not snapshot.running:
        status = "reached the horizon: press Reset, or move a slider to try something else"
    else:
        status = "press Step for one year, Play to keep going"
    solara.HTML(tag="div", classes=["sim-header"], unsafe_innerHTML=(
        f"<div class='year sim-year'>{snapshot.year}</div>"
        f"<div class='meta'><div class='name'>{html.escape(snapshot.scenario_name)}</div>"
        f"<div class='desc'>{html.escape(snapshot.description)}</div>"
        f"<div class='progress'><div style='width:{100 * done / span:.1f}%'></div></div>"
        f"<div class='progress-label'>year {done} of {span} ({snapshot.start_year}–{snapshot.end_year}) · "
        f"{status}</div></div>"))


def _draw_outside_session(function, *args) -> bytes:
    """Run a drawing function in a plain worker thread and wait for its PNG bytes.

    Solara makes matplotlib's settings per session, which makes every settings lookup inside a
    session several times slower; a thread outside any session draws with the plain settings.
    """
    global _DRAWER
    if _DRAWER is None:
        from concurrent.futures import ThreadPoolExecutor

        _DRAWER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-draw")
    return _DRAWER.submit(function, *args).result()


_DRAWER = None


@solara.component
def TileMap(snapshot: Snapshot, variable: str):
    """The tile-grid map; redrawn only when the year or the variable changes."""
    png = solara.use_memo(lambda: _draw_outside_session(draw_tile_map, snapshot, variable),
                          [snapshot.version, variable])
    solara.Image(png, classes=["sim-map-image"])


@solara.component
def Chart(snapshot: Snapshot, key: str):
    """One time-series chart in a card; redrawn only when the snapshot changes."""
    png = solara.use_memo(lambda: _draw_outside_session(draw_chart, snapshot, key), [snapshot.version, key])
    with solara.Div(classes=["sim-card", f"sim-chart-{key}"]):
        solara.HTML(tag="h3", unsafe_innerHTML=html.escape(CHARTS[key].title))
        solara.Image(png)
