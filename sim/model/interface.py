"""What strategies, events and imitation may use of the model: a small public interface.

:class:`ModelServices` lists the model's attributes and operations that the agents' decision code
(strategies in :mod:`sim.model.strategies`, events in :mod:`sim.model.events`, imitation in
:mod:`sim.model.imitation`) reads or calls; :class:`~sim.model.model.RegionalGrowthModel`
provides it. Those modules depend on this interface, never on the model class, so the model
imports them and nothing imports back. :class:`SpendingPlan` is what a strategy returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from sim.data import RegionData
    from sim.model.state import ModelState
    from sim.scenario import Scenario


@dataclass
class SpendingPlan:
    """How one province spends one year's science budget (CNY bn).

    The science budget pays ``existing``, ``institutes`` and ``education`` (together never more
    than the budget); the strategy's instruments, ``equity``, ``incentives`` and
    ``extra_existing``, are paid beyond it out of the province's investment, and ``proceeds``
    (a fund selling stakes) go back to it.

    Attributes:
        existing: funding spread over the province's institutes in proportion to their capacity.
        institutes: ``(kind, field, amount)``: funding for the province's institute of that kind
            and field; the model founds one when the province has none.
        education: higher-education places (a talent push): adds graduates every year after.
        equity: sector index -> capital injected into that sector (a guidance fund's stake).
        incentives: open-zone incentives (land, office space, tax breaks) that attract labs.
        extra_existing: money beyond the budget spent on existing institutes (a placebo).
        proceeds: money returned to the province's investment (stakes sold on).
    """

    existing: float = 0.0
    institutes: list[tuple[str, str, float]] = field(default_factory=list)
    education: float = 0.0
    equity: dict[int, float] = field(default_factory=dict)
    incentives: float = 0.0
    extra_existing: float = 0.0
    proceeds: float = 0.0

    def science(self) -> float:
        """What the plan spends of the science budget."""
        return self.existing + sum(a for _, _, a in self.institutes) + self.education

    def instruments(self) -> float:
        """What the plan pays beyond the science budget, before proceeds."""
        return sum(self.equity.values()) + self.incentives + self.extra_existing


class ModelServices(Protocol):
    """The model as strategies, events and imitation see it.

    Read: ``rng`` (every random draw), ``year``, ``n`` (regions), ``state`` (the arrays),
    ``data`` (base-year tables), ``scenario``, ``provinces`` (agents, by index), ``province_names``,
    ``neighbours`` (nearest regions per region, itself first), ``registry`` (institutes),
    ``gdp_per_capita``. Read and written by imitation: ``endorsed`` and ``growth_reference``.
    """

    rng: np.random.Generator
    year: int
    n: int
    state: ModelState
    data: RegionData
    scenario: Scenario
    provinces: list[Any]
    province_names: list[str]
    neighbours: np.ndarray
    registry: Any
    endorsed: str | None
    growth_reference: np.ndarray

    @property
    def gdp_per_capita(self) -> np.ndarray:
        """GDP per person, CNY."""

    def found_institute(self, host: int, kind: str, field: str, capacity: float, funded_by: str = "province",
                        name: str | None = None) -> int:
        """Create an institute in ``host`` and log it; returns its registry row."""

    def close_institute(self, row: int, reason: str) -> None:
        """Set an institute's capacity to zero and log why."""

    def log_event(self, kind: str, province: int | None, detail: str) -> None:
        """Record an event of this year."""

    def destroy_capital(self, province: int, sector: int, amount: float) -> None:
        """Remove capital from a sector (a failed bet)."""

    def add_foreign_capital(self, province: int, sector: int, amount: float) -> None:
        """Foreign direct investment into a sector."""

    def group_mask(self, names: list[str]) -> np.ndarray:
        """Boolean mask of the regions that province or group names cover."""

    def request_segment_assignment(self) -> None:
        """Ask for consumer-niche segments to be (re)assigned before the next spending."""

    def strategies_changed(self) -> None:
        """Say that a province adopted another strategy (the model regroups provinces by what their strategies do)."""

    @property
    def economy_scale(self) -> float:
        """National GDP (nominal) this year relative to the base year: fixed CNY amounts grow with it."""

    def record_foreign_money(self, province: int, amount: float) -> None:
        """Record money that foreign investors put into a province this year, CNY bn."""


class StrategyLike(Protocol):
    """What a province's strategy offers the model (see :class:`sim.model.strategies.Strategy`)."""

    name: str

    def attach(self, province: Any) -> None:
        """Set the province up for this strategy."""

    def detach(self, province: Any) -> None:
        """Undo :meth:`attach`."""

    def plan(self, province: Any, budget: float) -> SpendingPlan:
        """Spend ``budget``."""
