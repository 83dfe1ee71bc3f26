"""The model's agents: provinces, which decide, and research institutes.

Agents hold identity and decisions; their numeric state lives in arrays owned by the model (one
row per province, one entry per institute) so that the yearly flows are vectorised. An agent's
properties read those arrays, so ``province.gdp_real_cny_bn`` is always the current value.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.vocabulary import FIELDS, GENERAL_FIELD, INSTITUTE_KINDS, REGIONS

if TYPE_CHECKING:
    from sim.model.interface import ModelServices, SpendingPlan, StrategyLike


class _IdCounters(weakref.WeakKeyDictionary):
    """Per-model counters of agent ids that do not keep finished models alive.

    ``mesa.Agent`` (3.3) numbers agents from a class-level dict keyed by model, which holds every
    model ever built; a session that runs thousands of models would never free them.
    """

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many agents are created.

    Each Mesa agent adds a few container objects (weak references in the model's agent sets); a
    collector pass every few hundred of them scans everything alive in the process again, which
    made creating 25,000 agents take about three times as long. Reference counting still frees
    memory meanwhile, and the collector is restored (if it was on) when the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class SimAgent(mesa.Agent):
    """Base of the model's agents: a Mesa agent whose id counter lets its model be freed."""

    _ids = _IdCounters()


class Province(SimAgent):
    """A province (or a synthetic region): it receives a science budget and its strategy spends it.

    Attributes:
        index: row of this province in the model's arrays.
        name, capital: names.
        region: NBS region group (east, central, west, northeast).
        coastal: whether it has a sea coast.
        strategy: the :class:`~sim.model.strategies.Strategy` that spends its budget.
    """

    def __init__(self, model: ModelServices, index: int, name: str, capital: str,
                 region: int, coastal: bool) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.capital = capital
        self.region = REGIONS[region]
        self.coastal = bool(coastal)
        self.strategy: StrategyLike | None = None

    def __repr__(self) -> str:
        return f"Province({self.name!r}, strategy={self.strategy.name if self.strategy else None!r})"

    @property
    def budget_cny_bn(self) -> float:
        """This year's science budget (set by the budget step), CNY bn."""
        return float(self.model.state.budget[self.index])

    @property
    def central_claim_cny_bn(self) -> float:
        """Part of this year's budget matched by the centre for the strategy (CAS branches), CNY bn."""
        return float(self.model.central_claims[self.index])

    @property
    def gdp_real_cny_bn(self) -> float:
        """Gross regional product this year, a chained volume in CNY bn of the start year."""
        return float(self.model.state.gdp_real[self.index])

    @property
    def gdp_nominal_cny_bn(self) -> float:
        """Gross regional product this year at the model's prices of the year, CNY bn."""
        return float(self.model.state.gdp[self.index])

    @property
    def population_m(self) -> float:
        """Resident population, millions."""
        return float(self.model.state.population[self.index])

    @property
    def gdp_per_capita_cny(self) -> float:
        """Real GDP per person (chained volume), CNY of the start year."""
        return 1000.0 * self.gdp_real_cny_bn / self.population_m

    @property
    def research_output(self) -> float:
        """SCI papers this year."""
        return float(self.model.state.papers[self.index])

    @property
    def skilled_m(self) -> float:
        """Skilled (higher-education) workers, millions."""
        return float(self.model.state.skilled[self.index])

    @property
    def institutes(self) -> list[Institute]:
        """The institutes this province hosts."""
        return [inst for inst in self.model.institute_agents if inst.host == self.index]

    def adopt(self, strategy: StrategyLike) -> None:
        """Switch to ``strategy`` (its per-province set-up runs now)."""
        if self.strategy is not None:
            self.strategy.detach(self)
        self.strategy = strategy
        strategy.attach(self)
        self.model.strategies_changed()

    def plan_spending(self) -> SpendingPlan:
        """Decide how this year's science budget is spent (the strategy decides)."""
        return self.strategy.plan(self, self.budget_cny_bn)


class InstituteRegistry:
    """Numeric state of every institute as growable arrays (struct of arrays).

    Columns: host province index, field index (``GENERAL_FIELD`` for multidisciplinary),
    kind code, capacity (CNY bn) and founding year. Capacity is a funding stock that
    depreciates and grows with funding.
    """

    def __init__(self, capacity_hint: int = 256) -> None:
        self.count = 0
        self.host = np.zeros(capacity_hint, dtype=np.int64)
        self.field = np.zeros(capacity_hint, dtype=np.int64)
        self.kind = np.zeros(capacity_hint, dtype=np.int64)
        self.capacity = np.zeros(capacity_hint, dtype=float)
        self.founded = np.zeros(capacity_hint, dtype=np.int64)

    def _grow(self) -> None:
        size = max(16, 2 * len(self.capacity))
        for name in ("host", "field", "kind", "capacity", "founded"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)

    def add(self, host: int, field: int, kind: int, capacity: float, founded: int) -> int:
        """Append an institute and return its row."""
        if self.count == len(self.capacity):
            self._grow()
        row = self.count
        self.host[row], self.field[row], self.kind[row] = host, field, kind
        self.capacity[row], self.founded[row] = capacity, founded
        self.count += 1
        return row

    def add_many(self, host: np.ndarray, field: np.ndarray, kind: np.ndarray, capacity: np.ndarray,
                 founded: int) -> np.ndarray:
        """Append many institutes at once and return their rows."""
        n = len(host)
        while self.count + n > len(self.capacity):
            self._grow()
        rows = np.arange(self.count, self.count + n)
        self.host[rows], self.field[rows], self.kind[rows] = host, field, kind
        self.capacity[rows], self.founded[rows] = capacity, founded
        self.count += n
        return rows

    def by_province_field(self, regions: int) -> np.ndarray:
        """Capacity summed per (province, field), shape (regions, F + 1); last column general."""
        n = self.count
        width = len(FIELDS) + 1
        flat = np.bincount(self.host[:n] * width + self.field[:n], weights=self.capacity[:n],
                           minlength=regions * width)
        return flat.reshape(regions, width)

    def by_province_kind(self, regions: int) -> np.ndarray:
        """Capacity summed per (province, kind), shape (regions, kinds)."""
        n = self.count
        width = len(INSTITUTE_KINDS)
        flat = np.bincount(self.host[:n] * width + self.kind[:n], weights=self.capacity[:n],
                           minlength=regions * width)
        return flat.reshape(regions, width)


class Institute(SimAgent):
    """A research institute: a university, national lab, CAS branch, multinational lab or facility.

    Its capacity (a funding stock in CNY bn) lives in the model's :class:`InstituteRegistry`.
    """

    def __init__(self, model: ModelServices, row: int, name: str) -> None:
        super().__init__(model)
        self.row = row
        self.name = name

    def __repr__(self) -> str:
        return f"Institute({self.name!r}, {self.kind}, {self.field_name}, capacity={self.capacity:.2f})"

    @property
    def host(self) -> int:
        """Index of the host province."""
        return int(self.model.registry.host[self.row])

    @property
    def host_name(self) -> str:
        """Name of the host province."""
        return self.model.province_names[self.host]

    @property
    def kind(self) -> str:
        """Kind of institute."""
        return INSTITUTE_KINDS[int(self.model.registry.kind[self.row])]

    @property
    def field_name(self) -> str:
        """Research field (``general`` for multidisciplinary)."""
        field = int(self.model.registry.field[self.row])
        return "general" if field == GENERAL_FIELD else FIELDS[field]

    @property
    def capacity(self) -> float:
        """Capacity, CNY bn."""
        return float(self.model.registry.capacity[self.row])

    @property
    def founded(self) -> int:
        """Founding year."""
        return int(self.model.registry.founded[self.row])
