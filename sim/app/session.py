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
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    versions: itertools.count = field(default_factory=itertools.count, repr=False)
    start_pc: np.ndarray | None = None
    """GDP per person of every province in the start year (for the growth map)."""
    start_rank: np.ndarray | None = None
    """Every province's research-output rank in the start year (for the top-10 table)."""

    def build(self, controls: Controls) -> Snapshot:
        """Build a fresh model at its start year from ``controls``; returns its snapshot.

        The run being replaced becomes the dashed "before" line when it has stepped at least
        one year. Raises :class:`~sim.errors.SimError` for settings that cannot run (the model
        is then left as it was).
        """
        from sim.metrics import rank_descending
        from sim.model import RegionalGrowthModel

        model = RegionalGrowthModel(scenario_with_controls(controls, self.config.base_values))
        with self.lock:
            old = self.model
            if old is not None and len(old.national_rows) > 1 and self.controls is not None:
                self.ghost_controls = self.controls
                self.ghost = Ghost(tuple(old.national_rows), "")
            self.model = model
            self.controls = controls
            self.start_pc = model.gdp_per_capita.copy()
            self.start_rank = np.asarray(rank_descending(model.state.papers))
            return self.snapshot()

    def step(self, years: int = 1) -> Snapshot:
        """Simulate up to ``years`` more years (not past the horizon); returns the snapshot."""
        with self.lock:
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
        with self.lock:
            model = self.model
            state = model.state
            years = max(model.year - model.start_year, 1)
            pc = model.gdp_per_capita
            if model.year > model.start_year:
                growth = (pc / self.start_pc) ** (1.0 / years) - 1.0
            else:
                growth = np.zeros(model.n)
            ghost = None
            if self.ghost is not None and self.ghost_controls is not None:
                ghost = Ghost(self.ghost.rows, self.controls.describe_difference(self.ghost_controls))
            return Snapshot(
                version=next(self.versions),
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
                start_rank=self.start_rank,
                events=tuple(model.event_log[-MAX_EVENTS_SHOWN:]),
                ghost=ghost,
            )
