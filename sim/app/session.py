"""One student's session: a model built from a scenario and the controls, stepped, and snapshotted.

:class:`Dashboard` builds a :class:`~sim.model.RegionalGrowthModel` from the scenario that
:class:`~sim.app.controls.Controls` describe, steps it, and takes a :class:`Snapshot` (immutable)
of what the page shows about the current year. The run a change of settings replaces stays as a
:class:`Ghost`, the dashed "before" line of the charts. Plain Python: nothing here knows Solara.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.app.controls import AppConfig, Controls, scenario_with_controls

MAX_EVENTS_SHOWN = 250
"""The event log shows this many of the newest events."""

MAP_KEYS: tuple[str, ...] = ("gdp_per_capita", "research_output", "skilled_share", "growth")
"""The numeric variables the map can show (see :func:`map_values`)."""

SETTLED_FROM_YEAR = 3
"""The growth map's fixed scale is taken from this many years into the run on (the first years'
annualised growth swings widely and would flatten the colours of every later year)."""


def map_values(model: Any, start_pc: np.ndarray) -> dict[str, np.ndarray]:
    """The map's numeric variables for the model's current year.

    GDP per person (CNY thousand, this year's prices), research output (papers a year), the skilled
    share of workers (%) and the growth of GDP per person since the start (% a year; 0 in the start year).
    """
    years = model.year - model.start_year
    pc = model.gdp_per_capita
    growth = (pc / start_pc) ** (1.0 / years) - 1.0 if years > 0 else np.zeros(model.n)
    return {
        "gdp_per_capita": pc / 1000.0,
        "research_output": model.state.papers.copy(),
        "skilled_share": 100.0 * model.state.skilled_share,
        "growth": 100.0 * growth,
    }


def national_growth(model: Any, start_national_pc: float) -> float:
    """Growth of national GDP per person since the start (% a year, same prices as :func:`map_values`)."""
    years = model.year - model.start_year
    if years <= 0:
        return 0.0
    pc = 1000.0 * float(model.state.gdp.sum()) / float(model.state.population.sum())
    return 100.0 * ((pc / start_national_pc) ** (1.0 / years) - 1.0)


def national_pc(model: Any) -> float:
    """National GDP per person (CNY, this year's prices)."""
    return 1000.0 * float(model.state.gdp.sum()) / float(model.state.population.sum())


@dataclass(frozen=True)
class RunRange:
    """The range of every map variable over a whole run, for a colour scale fixed over the run.

    ``spans`` holds (low, high) of each variable of :data:`MAP_KEYS` except growth; ``growth_spread``
    is the largest gap (points of % a year) between a province's growth and the nation's, from
    :data:`SETTLED_FROM_YEAR` years in. Taken by running the same settings (same seed: the same run)
    to the horizon once when the run starts.
    """

    spans: dict[str, tuple[float, float]]
    growth_spread: float


def look_ahead(model: Any) -> RunRange:
    """Run ``model`` (fresh, in its start year) to its horizon and return the ranges it went through."""
    start_pc = model.gdp_per_capita.copy()
    start_national = national_pc(model)
    low = {key: np.inf for key in MAP_KEYS}
    high = {key: -np.inf for key in MAP_KEYS}
    spread = 0.0
    while True:
        values = map_values(model, start_pc)
        for key in MAP_KEYS:
            if key != "growth":
                low[key] = min(low[key], float(values[key].min()))
                high[key] = max(high[key], float(values[key].max()))
        if model.year - model.start_year >= min(SETTLED_FROM_YEAR, model.end_year - model.start_year):
            gap = np.abs(values["growth"] - national_growth(model, start_national))
            spread = max(spread, float(gap.max()))
        if not model.running:
            break
        model.step()
    spans = {key: (low[key], high[key]) for key in MAP_KEYS if key != "growth"}
    return RunRange(spans, spread if spread > 0 else 1.0)


@dataclass(frozen=True)
class ProvinceYear:
    """One year of every province, for the province plot: real GDP per person (CNY thousand, start-year
    prices), research output (papers), graduates (thousand), research institutes and strategy."""

    year: int
    gdp_per_capita: np.ndarray
    research_output: np.ndarray
    graduates: np.ndarray
    institutes: np.ndarray
    strategies: tuple[str, ...]


def province_year(model: Any) -> ProvinceYear:
    """The model's current year as a :class:`ProvinceYear`."""
    registry = model.registry
    alive = registry.capacity[: registry.count] > 0
    institutes = np.bincount(registry.host[: registry.count][alive], minlength=model.n)
    return ProvinceYear(
        year=int(model.year),
        gdp_per_capita=model.real_gdp_per_capita / 1000.0,
        research_output=model.state.papers.copy(),
        graduates=model.state.graduates.copy(),
        institutes=institutes,
        strategies=tuple(p.strategy.name for p in model.provinces),
    )


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
    history: tuple[ProvinceYear, ...] = ()
    """Every year of every province so far (for the province plot)."""
    run_range: RunRange | None = None
    """The range of each map variable over the whole run (for the fixed colour scale)."""
    national_growth: float = 0.0
    """Growth of national GDP per person since the start, % a year (the centre of the growth map)."""

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
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    versions: itertools.count = field(default_factory=itertools.count, repr=False)
    start_pc: np.ndarray | None = None
    """GDP per person of every province in the start year (for the growth map)."""
    start_rank: np.ndarray | None = None
    """Every province's research-output rank in the start year (for the top-10 table)."""
    start_national_pc: float = 0.0
    history: list[ProvinceYear] = field(default_factory=list)
    run_range: RunRange | None = None

    def build(self, controls: Controls) -> Snapshot:
        """Build a fresh model at its start year from ``controls``; returns its snapshot.

        The run being replaced becomes the dashed "before" line when it has stepped at least
        one year. Raises :class:`~sim.errors.SimError` for settings that cannot run (the model
        is then left as it was).
        """
        from sim.metrics import rank_descending
        from sim.model import RegionalGrowthModel

        scenario = scenario_with_controls(controls, self.config.base_values)
        model = RegionalGrowthModel(scenario, seed=scenario.run.seed)  # the seed control applies
        # the same settings and seed run once to the horizon: the fixed colour scale's range
        run_range = look_ahead(RegionalGrowthModel(scenario, seed=scenario.run.seed))
        with self.lock:
            old = self.model
            if old is not None and len(old.national_rows) > 1 and self.controls is not None:
                self.ghost_controls = self.controls
                self.ghost = Ghost(tuple(old.national_rows), "")
            self.model = model
            self.controls = controls
            self.start_pc = model.gdp_per_capita.copy()
            self.start_rank = np.asarray(rank_descending(model.state.papers))
            self.start_national_pc = national_pc(model)
            self.history = [province_year(model)]
            self.run_range = run_range
            return self.snapshot()

    def step(self, years: int = 1) -> Snapshot:
        """Simulate up to ``years`` more years (not past the horizon); returns the snapshot."""
        with self.lock:
            for _ in range(years):
                if not self.model.running:
                    break
                self.model.step()
                self.history.append(province_year(self.model))
            return self.snapshot()

    def run_to_end(self) -> Snapshot:
        """Simulate every remaining year; returns the snapshot of the last."""
        return self.step(self.model.end_year - self.model.year)

    def snapshot(self) -> Snapshot:
        """What the page shows about the model's current year."""
        with self.lock:
            ghost = None
            if self.ghost is not None and self.ghost_controls is not None:
                ghost = Ghost(self.ghost.rows, self.controls.describe_difference(self.ghost_controls))
            return take_snapshot(self.model, next(self.versions), self.start_pc, self.start_rank,
                                 self.start_national_pc, tuple(self.history), self.run_range, ghost)


def take_snapshot(model: Any, version: int, start_pc: np.ndarray, start_rank: np.ndarray, start_national_pc: float,
                  history: tuple[ProvinceYear, ...] = (), run_range: RunRange | None = None,
                  ghost: Ghost | None = None) -> Snapshot:
    """The :class:`Snapshot` of ``model``'s current year, given its start year's values."""
    return Snapshot(
        version=version,
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
        values=map_values(model, start_pc),
        strategies=tuple(p.strategy.name for p in model.provinces),
        start_rank=start_rank,
        events=tuple(model.event_log[-MAX_EVENTS_SHOWN:]),
        ghost=ghost,
        history=history,
        run_range=run_range,
        national_growth=national_growth(model, start_national_pc),
    )


def model_snapshot(model: Any, run_range: RunRange | None = None) -> Snapshot:
    """The :class:`Snapshot` of any :class:`~sim.model.RegionalGrowthModel`, stepped by anyone (Mesa's SolaraViz).

    The start year's values come from the model's data (its state in the start year); there is no
    province history (only a :class:`Dashboard` records one).
    """
    from sim.metrics import rank_descending

    data = model.data
    start_pc = 1000.0 * np.asarray(data.gdp_cny_bn, dtype=float) / np.asarray(data.population_m, dtype=float)
    start_national = 1000.0 * float(np.sum(data.gdp_cny_bn)) / float(np.sum(data.population_m))
    start_rank = np.asarray(rank_descending(np.asarray(data.sci_papers, dtype=float)))
    return take_snapshot(model, int(model.year), start_pc, start_rank, start_national, (), run_range)
