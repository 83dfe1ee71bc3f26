"""Development strategies: how a province spends its science budget, and what else it pays for.

A strategy is a small object per province with hooks that the model calls:

* :meth:`Strategy.attach` / :meth:`Strategy.detach` when a province adopts or leaves it
  (choose a field or segment, set technology-transfer multipliers);
* :meth:`Strategy.central_claim` before the centre allocates its pool (central matching);
* :meth:`Strategy.plan` returns a :class:`SpendingPlan`: the science budget (never more than it
  is given) and the strategy's own instruments beyond it (a guidance fund's equity, zone
  incentives, equity in a consumer segment), each a share of the science budget; the model takes
  the instruments out of the province's investment (docs/ODD.md, "Costs");
* :meth:`Strategy.after_year` after production (fund failures, multinational labs arriving).

:class:`Placebo` spends the same money as another strategy (its central claim and the money of
its instruments) on existing institutes, as business as usual would: the comparison of a
strategy with its placebo measures how the money is spent, not how much.

Every random draw goes through ``model.rng``. Adding a strategy means one subclass here and one
entry in :data:`STRATEGIES` (and its parameters in :mod:`sim.scenario`).
"""

from __future__ import annotations

import numpy as np

from sim.model.agents import Province
from sim.model.interface import ModelServices, SpendingPlan
from sim.vocabulary import (
    CONSUMER_SEGMENTS,
    FIELD_INDEX,
    FIELD_SECTOR,
    FIELDS,
    HIGH_TECH,
    PLACEBO_SUFFIX,
    SECTOR_INDEX,
    STRATEGY_NAMES,
)


class Strategy:
    """Business as usual: the whole budget goes to existing institutes. Base class of the others."""

    name = "baseline"

    def __init__(self, model: ModelServices) -> None:
        self.model = model
        self.params = getattr(model.scenario.strategy, self.name, None)

    def attach(self, province: Province) -> None:
        """Set up ``province`` for this strategy (called when it adopts it)."""

    def detach(self, province: Province) -> None:
        """Undo :meth:`attach` (technology transfer back to 1)."""
        self.model.state.transfer[province.index, :] = 1.0

    def central_claim(self, province: Province, provincial_budget: float) -> float:
        """Central money this strategy claims from the centre's pool before it is allocated, CNY bn."""
        return 0.0

    def plan(self, province: Province, budget: float) -> SpendingPlan:
        """Spend ``budget``: here all of it on existing institutes."""
        return SpendingPlan(existing=budget)

    def instrument_money(self, budget: float) -> float:
        """What this strategy's instruments cost the province beyond ``budget`` this year, CNY bn
        (before any proceeds), by the strategy's own rule; a :class:`Placebo` spends the same."""
        return 0.0

    def after_year(self, province: Province) -> None:
        """React to the year's outcome (random events of the strategy)."""

    def describe(self) -> str:
        """One line for event logs and dashboards."""
        return self.name


class Megacity(Strategy):
    """Reference: central science money concentrated in a few megacities.

    The concentration is an allocation rule of the centre (see the model's budget step); a
    province running it spends like ``baseline``.
    """

    name = "megacity"


class Hefei(Strategy):
    """Anchor and fund: a flagship national lab in one strategic field plus a guidance fund.

    The field is the strategic (high-tech) field where the province is strongest relative to the
    nation (``field = "auto"``), or the one named. The lab takes ``lab_share`` of the science
    budget. The fund is the province's money beyond the science budget (``fund_share`` of it a
    year, taken out of the province's investment): it takes equity in the matching sector, sells
    a share of its stake every year to private owners (the proceeds go back to the province's
    investment), and each year the bet can fail and the fund (and the firms it backed) lose a
    share of the stake.
    """

    name = "hefei"

    def __init__(self, model: ModelServices) -> None:
        super().__init__(model)
        self.field: str = FIELDS[0]
        self.stake = 0.0

    def attach(self, province: Province) -> None:
        if self.params.field != "auto":
            self.field = self.params.field
        else:
            state = self.model.state
            candidates = [FIELD_INDEX[f] for f in FIELDS if f in HIGH_TECH]
            capacity = state.research_by_field[province.index, candidates]
            national = state.research_by_field[:, candidates].sum(axis=0)
            # the province's share of its capacity in a field over the nation's: a field without
            # national capacity is nobody's strength (0, not 0/0)
            share = national / max(national.sum(), 1e-12)
            own = capacity / max(capacity.sum(), 1e-12)
            strength = np.divide(own, share, out=np.zeros_like(own), where=share > 0)
            self.field = FIELDS[candidates[int(np.argmax(strength))]]
        self.sector = FIELD_SECTOR[FIELD_INDEX[self.field]]
        self.model.state.transfer[province.index, self.sector] = self.params.transfer

    def instrument_money(self, budget: float) -> float:
        return self.params.fund_share * budget

    def plan(self, province: Province, budget: float) -> SpendingPlan:
        lab = self.params.lab_share * budget
        fund = self.instrument_money(budget)
        proceeds = self.params.exit_rate * self.stake
        self.stake = self.stake - proceeds + fund
        return SpendingPlan(existing=budget - lab, institutes=[("national_lab", self.field, lab)],
                            equity={self.sector: fund}, proceeds=proceeds)

    def after_year(self, province: Province) -> None:
        if self.stake > 0 and self.model.rng.random() < self.params.failure_rate:
            loss = self.params.failure_loss * self.stake
            state = self.model.state
            exposure = min(1.0, self.stake / max(state.capital[province.index, self.sector], 1e-12))
            self.stake -= loss
            self.model.destroy_capital(province.index, self.sector, loss)
            # the firms it backed fail: the sector loses the know-how they carried
            state.productivity[province.index, self.sector] *= 1.0 - self.params.failure_loss * exposure
            self.model.log_event("fund_failure", province.index,
                                 f"guidance-fund bet in {self.field} failed: CNY {loss:.1f} bn lost")

    def describe(self) -> str:
        return f"hefei ({self.field})"


class CasBranch(Strategy):
    """Endowment-matched branch institutes, mostly paid by the centre.

    The province's ``institutes`` best-matching fields by natural endowment get a CAS branch
    each; the centre adds ``central_match`` yuan per provincial yuan spent on them, taken from its
    pool before the rest is allocated (the national budget does not change).
    """

    name = "cas_branch"

    def attach(self, province: Province) -> None:
        endowment = self.model.data.endowments[province.index]
        scores = {f: float(np.dot(w, endowment)) for f, w in self.params.endowment_weights.items()}
        ranked = sorted(FIELDS, key=lambda f: (-scores[f], FIELDS.index(f)))
        self.fields = ranked[: self.params.institutes]
        for f in self.fields:
            self.model.state.transfer[province.index, FIELD_SECTOR[FIELD_INDEX[f]]] = self.params.transfer

    def central_claim(self, province: Province, provincial_budget: float) -> float:
        return self.params.central_match * self.params.branch_share * provincial_budget

    def plan(self, province: Province, budget: float) -> SpendingPlan:
        matched = province.central_claim_cny_bn
        branches = self.params.branch_share * (budget - matched) + matched
        each = branches / len(self.fields)
        return SpendingPlan(existing=budget - branches, institutes=[("cas_branch", f, each) for f in self.fields])

    def describe(self) -> str:
        return f"cas_branch ({', '.join(self.fields)})"


class ForeignMultinational(Strategy):
    """An open zone: incentives attract multinational R&D labs; spillovers; profit leaves.

    The science budget goes to existing institutes; the zone's incentives (land, offices, tax
    breaks: ``incentive_share`` of the science budget a year) are the province's money beyond it.
    Each year a lab arrives with probability ``arrival_rate`` x openness x attractiveness, where
    attractiveness rises with the skilled share, connectivity, a coast and the incentives spent
    (relative to the size of a lab). A lab's size grows with the national economy; labs bring
    foreign capital into their sector (a share of its profit leaves the province) and raise
    technology transfer there. When openness falls, labs leave.
    """

    name = "foreign_multinational"

    def __init__(self, model: ModelServices) -> None:
        super().__init__(model)
        self.incentives = 0.0
        self.labs: list[int] = []

    def instrument_money(self, budget: float) -> float:
        return self.params.incentive_share * budget

    def plan(self, province: Province, budget: float) -> SpendingPlan:
        incentives = self.instrument_money(budget)
        self.incentives = self.params.incentive_persistence * self.incentives + incentives
        return SpendingPlan(existing=budget, incentives=incentives)

    def lab_size(self) -> float:
        """Capacity of one multinational lab this year, CNY bn (``lab_size`` grown with the economy)."""
        return self.params.lab_size * self.model.economy_scale

    def attractiveness(self, province: Province) -> float:
        """Relative pull of the province on multinational labs (1 = average interior province)."""
        state = self.model.state
        i = province.index
        skilled = state.skilled_share[i] / max(state.skilled_share.mean(), 1e-12)
        coast = self.params.coastal_pull if province.coastal else self.params.interior_pull
        incentive = self.incentives / max(self.lab_size(), 1e-12)
        pull = min(self.params.incentive_pull_max, self.params.incentive_pull_base + incentive)
        return float(np.sqrt(skilled) * coast * state.connectivity[i] * pull)

    def after_year(self, province: Province) -> None:
        model = self.model
        openness = model.state.openness
        # labs leave when openness has fallen below its base level
        leave = max(0.0, 1.0 - openness) * self.params.departure_rate
        for row in list(self.labs):
            if model.rng.random() < leave:
                self.labs.remove(row)
                model.close_institute(row, reason="multinational lab left (openness fell)")
        chance = min(self.params.max_arrival_chance,
                     self.params.arrival_rate * openness * self.attractiveness(province))
        if model.rng.random() < chance:
            sector_name = self.params.sectors[int(model.rng.integers(len(self.params.sectors)))]
            field_name = sector_name if sector_name in FIELD_INDEX else "advanced_manufacturing"
            size = self.lab_size()
            row = model.found_institute(province.index, "multinational_lab", field_name, size, funded_by="foreign")
            self.labs.append(row)
            sector = SECTOR_INDEX[sector_name]
            model.add_foreign_capital(province.index, sector, self.params.capital_per_lab * size)
            model.record_foreign_money(province.index, size + self.params.capital_per_lab * size)
            model.state.transfer[province.index, sector] = max(model.state.transfer[province.index, sector],
                                                               self.params.spillover)


class ConsumerNiche(Strategy):
    """Target a national consumer segment and win market share from the other provinces in it.

    ``coordination = "independent"``: each province targets the biggest segment (herding);
    ``"coordinated"``: a planner spreads the niche provinces over segments in proportion to
    market size, each where it is relatively strong. ``research_share`` of the science budget
    funds research in the segment's field; the province also invests ``equity_share`` of its
    science budget a year, beyond it and out of its investment, in the segment's firms. Prices in
    each national segment clear with a finite demand elasticity, so provinces crowding one segment
    share its demand.
    """

    name = "consumer_niche"

    def __init__(self, model: ModelServices) -> None:
        super().__init__(model)
        self.segment: str = self.params.segment if self.params.segment != "auto" else CONSUMER_SEGMENTS[0]

    def attach(self, province: Province) -> None:
        self.model.request_segment_assignment()

    def set_segment(self, province: Province, segment: str) -> None:
        """Target ``segment`` (called by the model's segment assignment)."""
        self.model.state.transfer[province.index, :] = 1.0
        self.segment = segment
        self.model.state.transfer[province.index, SECTOR_INDEX[segment]] = self.params.transfer

    def instrument_money(self, budget: float) -> float:
        return self.params.equity_share * budget

    def plan(self, province: Province, budget: float) -> SpendingPlan:
        research = self.params.research_share * budget
        research_field = self.segment if self.segment in FIELD_INDEX else "advanced_manufacturing"
        return SpendingPlan(existing=budget - research, institutes=[("research_base", research_field, research)],
                            equity={SECTOR_INDEX[self.segment]: self.instrument_money(budget)})

    def describe(self) -> str:
        return f"consumer_niche ({self.segment})"


class Placebo(Strategy):
    """The same money as another strategy, spent as business as usual.

    A province running ``hefei``'s placebo claims what ``hefei`` would claim from the centre and
    pays, beyond its science budget and out of its investment, what ``hefei``'s instruments would
    cost by their rule (``instrument_money``); all of it goes to its existing institutes. No lab,
    fund, branch, zone or segment; no technology-transfer multiplier; no strategy events.
    """

    def __init__(self, model: ModelServices, of: str) -> None:
        self.of = STRATEGIES[of](model)
        self.name = placebo_name(of)
        self.model = model
        self.params = self.of.params

    def central_claim(self, province: Province, provincial_budget: float) -> float:
        return self.of.central_claim(province, provincial_budget)

    def instrument_money(self, budget: float) -> float:
        return self.of.instrument_money(budget)

    def plan(self, province: Province, budget: float) -> SpendingPlan:
        return SpendingPlan(existing=budget, extra_existing=self.instrument_money(budget))

    def describe(self) -> str:
        return f"{self.name} (same money as {self.of.name}, spent as business as usual)"


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Strategy, Hefei, CasBranch, ForeignMultinational, ConsumerNiche, Megacity)
}
"""Strategy classes by scenario name."""
assert tuple(STRATEGIES) == STRATEGY_NAMES, "every strategy name in sim.vocabulary has one class"


def placebo_name(of: str) -> str:
    """The name a placebo of strategy ``of`` carries in tables (``hefei_placebo``)."""
    return f"{of}{PLACEBO_SUFFIX}"


def make_strategy(name: str, model: ModelServices) -> Strategy:
    """A new strategy object of kind ``name`` for one province (``<name>_placebo`` for a placebo)."""
    if name.endswith(PLACEBO_SUFFIX):
        return Placebo(model, name[: -len(PLACEBO_SUFFIX)])
    return STRATEGIES[name](model)


def assign_segments(provinces: list[Province], model: ModelServices) -> None:
    """Choose the target segment of every consumer-niche province.

    Independent provinces herd into the segment with the largest national market. Coordinated
    provinces are assigned, largest economy first, to the segment with the most national market
    per niche province already assigned to it (times the square root of the province's relative
    strength there), so that competitors spread in proportion to market size.
    """
    if not provinces:
        return
    state = model.state
    segment_index = [SECTOR_INDEX[s] for s in CONSUMER_SEGMENTS]
    market = state.sector_output[:, segment_index].sum(axis=0)
    coordination = model.scenario.strategy.consumer_niche.coordination
    fixed = model.scenario.strategy.consumer_niche.segment
    taken = dict.fromkeys(CONSUMER_SEGMENTS, 0)
    for province in sorted(provinces, key=lambda p: -state.gdp[p.index]):
        if fixed != "auto":
            segment = fixed
        elif coordination == "independent":
            segment = CONSUMER_SEGMENTS[int(np.argmax(market))]
        else:
            # a planner spreads the provinces so that each segment's market per competitor stays
            # large, tilted towards segments where the province is relatively strong
            own = state.sector_output[province.index, segment_index]
            advantage = (own / max(own.sum(), 1e-12)) / (market / market.sum())
            room = np.array([market[i] / (1 + taken[s]) for i, s in enumerate(CONSUMER_SEGMENTS)])
            segment = CONSUMER_SEGMENTS[int(np.argmax(room * np.sqrt(advantage)))]
        taken[segment] += 1
        province.strategy.set_segment(province, segment)
