"""The model: provinces investing in science, institutes, graduates, industries and growth.

:class:`RegionalGrowthModel` is a :class:`mesa.Model`. One step is one year, in the order of
docs/ODD.md ("Process overview"): events, budgets, strategies spend, institutes and research
output, graduate migration, knowledge and productivity, production, population, strategy review,
record. Provinces decide (agent code); the couplings between provinces are vectorised numpy
(:mod:`sim.model.economy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from sim import metrics
from sim.model import economy
from sim.model.agents import Institute, InstituteRegistry, Province
from sim.data import RegionData, china_data, synthetic_data
from sim.errors import ModelInvariantError
from sim.model.events import EventSchedule
from sim.scenario import Scenario, apply_overrides, load_scenario, validate_scenario
from sim.vocabulary import (
    CONSUMER_SEGMENTS,
    FIELD_INDEX,
    FIELD_SECTOR,
    FIELDS,
    GENERAL_FIELD,
    GROUPS,
    HIGH_TECH_INDEX,
    KIND_INDEX,
    REGIONS,
    SECTOR_INDEX,
    SECTORS,
    SKILL_INTENSITY,
)
from sim.model.strategies import ConsumerNiche, assign_segments, make_strategy

# --------------------------------------------------------------------------------------
# Base-year structure (documented in docs/ODD.md, "Initialisation")

NATIONAL_SECTOR_SHARES = {
    "agriculture": 0.073,
    "traditional_industry": 0.220,
    "advanced_manufacturing": 0.090,
    "ev_batteries": 0.015,
    "green_energy": 0.020,
    "ict_consumer": 0.050,
    "biotech": 0.015,
    "real_estate": 0.061,
    "services": 0.456,
}
"""Shares of national GDP by sector at the base year."""

CAPITAL_OUTPUT_RATIO = {
    "agriculture": 2.0,
    "traditional_industry": 2.8,
    "advanced_manufacturing": 2.6,
    "ev_batteries": 2.6,
    "green_energy": 4.5,
    "ict_consumer": 2.2,
    "biotech": 2.4,
    "real_estate": 6.0,
    "services": 2.6,
}
"""Capital stock per unit of output by sector at the base year."""

NATIONAL_FIELD_SHARES = {
    "agriculture": 0.07,
    "advanced_manufacturing": 0.22,
    "ev_batteries": 0.15,
    "green_energy": 0.08,
    "ict_consumer": 0.18,
    "biotech": 0.30,
}
"""Shares of research capacity by field at the base year."""

UNIVERSITY_SHARE = 0.25
"""Share of a province's research capacity held by its (multidisciplinary) universities."""
NATIONAL_SKILLED_SHARE = 0.22
"""Share of the workforce with higher education at the base year."""
SKILLED_INCOME_ELASTICITY = 0.7
"""Elasticity of a province's skilled share to its relative GDP per capita at the base year."""
GRADUATE_COST_CNY_BN_PER_K = 0.12
"""Cost of one thousand extra graduates a year (four years of places), CNY bn."""
EDUCATION_DEPRECIATION = 0.05


def initial_sector_shares(data: RegionData) -> np.ndarray:
    """Sector shares of each region's GDP at the base year, shape (N, S).

    High-tech sectors scale with the region's R&D intensity relative to the nation (elasticity
    0.7), agriculture with relative GDP per capita (elasticity -0.8), green energy, biotech and
    agriculture with the matching natural endowment; traditional industry and services take up
    the rest in their national proportion. Each column is rescaled so that national shares
    match :data:`NATIONAL_SECTOR_SHARES`.
    """
    gdp = data.gdp_cny_bn
    pc = gdp / data.population_m
    rel_pc = pc / (gdp.sum() / data.population_m.sum())
    intensity = data.rd_cny_bn / gdp
    rel_int = intensity / (data.rd_cny_bn.sum() / gdp.sum())
    bio, energy, agri, _port = data.endowments.T
    national = np.array([NATIONAL_SECTOR_SHARES[s] for s in SECTORS])
    tilt = np.ones((data.size, len(SECTORS)))
    for s in ("advanced_manufacturing", "ev_batteries", "ict_consumer", "biotech", "green_energy"):
        tilt[:, SECTOR_INDEX[s]] = rel_int**0.7
    tilt[:, SECTOR_INDEX["agriculture"]] = rel_pc**-0.8 * (0.5 + agri)
    tilt[:, SECTOR_INDEX["green_energy"]] *= 0.5 + energy
    tilt[:, SECTOR_INDEX["biotech"]] *= 0.75 + 0.5 * bio
    shares = national * tilt
    # rescale each targeted sector so that the national share holds
    for s in range(len(SECTORS)):
        shares[:, s] *= national[s] * gdp.sum() / max(np.dot(shares[:, s], gdp), 1e-12)
    residual = np.array([SECTOR_INDEX["traditional_industry"], SECTOR_INDEX["services"]])
    targeted = np.setdiff1d(np.arange(len(SECTORS)), residual)
    room = 1.0 - shares[:, targeted].sum(axis=1)
    if (room <= 0.05).any():
        shares[:, targeted] *= np.minimum(1.0, 0.95 / shares[:, targeted].sum(axis=1))[:, None]
        room = 1.0 - shares[:, targeted].sum(axis=1)
    split = national[residual] / national[residual].sum()
    shares[:, residual] = room[:, None] * split
    return shares


@dataclass
class ModelState:
    """Every numeric array of the model (N regions, S sectors, F fields). Units in the names."""

    population: np.ndarray  # millions
    skilled: np.ndarray  # millions of skilled workers
    capital: np.ndarray  # (N, S) CNY bn
    productivity: np.ndarray  # (N, S)
    sector_output: np.ndarray  # (N, S) CNY bn
    gdp: np.ndarray  # CNY bn
    papers: np.ndarray  # SCI papers a year
    graduates: np.ndarray  # thousands a year
    graduate_arrivals: np.ndarray  # thousands a year
    graduate_stayers: np.ndarray  # thousands a year
    net_migration: np.ndarray  # millions a year
    research_by_field: np.ndarray  # (N, F + 1) CNY bn
    transfer: np.ndarray  # (N, S) technology-transfer multiplier
    connectivity: np.ndarray  # per region
    foreign_capital: np.ndarray  # (N, S) CNY bn
    education_capacity: np.ndarray  # extra graduates a year from talent pushes, thousands
    investment: np.ndarray  # (N, S) CNY bn, installed next year
    price: np.ndarray  # (S,)
    demand_shift: np.ndarray  # (S,)
    budget: np.ndarray  # CNY bn
    spent: np.ndarray  # CNY bn
    central: np.ndarray  # CNY bn
    income_outflow: np.ndarray  # CNY bn
    openness: float = 1.0

    @property
    def skilled_share(self) -> np.ndarray:
        """Skilled workers per worker."""
        return self.skilled / self._workers

    def set_workers(self, participation: float) -> None:
        """Recompute the workforce from population."""
        self._workers = participation * self.population

    @property
    def workers(self) -> np.ndarray:
        """Workforce, millions."""
        return self._workers


class RegionalGrowthModel(mesa.Model):
    """China's provinces (or N synthetic regions) turning science investment into growth.

    Args:
        scenario: a :class:`~sim.scenario.Scenario`, a path to a scenario TOML file, a dict of
            scenario values, or None for the defaults.
        seed: an int seed (``numpy.random.SeedSequence`` entropy). Default: ``run.seed``.
        rng: a ``numpy.random.Generator`` or ``SeedSequence`` (instead of ``seed``); batches pass
            a spawned SeedSequence.
        overrides: ``key.path=value`` strings applied to the scenario.
        **params: scenario values as keywords with ``__`` for dots, for ``mesa.batch_run``:
            ``RegionalGrowthModel(migration__graduate_mobility=0.6)``.

    After construction the model holds the base year; each :meth:`step` simulates one year.
    Results: :meth:`national_frame`, :meth:`province_frame`, :meth:`events_frame`.
    """

    def __init__(
        self,
        scenario: Scenario | str | dict | None = None,
        *,
        seed: int | None = None,
        rng: np.random.Generator | np.random.SeedSequence | None = None,
        overrides: list[str] | tuple[str, ...] = (),
        **params: Any,
    ) -> None:
        scenario = _resolve_scenario(scenario, overrides, params)
        if rng is None:
            rng = np.random.SeedSequence(scenario.run.seed if seed is None else seed)
        if isinstance(rng, np.random.SeedSequence):
            self.seed_sequence = rng
            rng = np.random.Generator(np.random.PCG64(rng))
        else:
            self.seed_sequence = None
        super().__init__(rng=rng)
        self.scenario = scenario
        cfg = scenario
        self.start_year = cfg.run.start_year
        self.end_year = cfg.run.end_year
        self.year = self.start_year
        n_synthetic = cfg.run.synthetic_regions
        self.data = china_data(self.start_year) if n_synthetic is None else synthetic_data(n_synthetic, self.rng)
        data = self.data
        n = data.size
        self.n = n
        self.province_names = data.names
        self.interior = ~data.coastal
        self._events_log: list[tuple[int, str, str, str]] = []

        # ---- economy
        shares = initial_sector_shares(data)
        output = data.gdp_cny_bn[:, None] * shares
        ratio = np.array([CAPITAL_OUTPUT_RATIO[s] for s in SECTORS])
        capital = output * ratio
        population = data.population_m.astype(float).copy()
        rel_pc = (data.gdp_cny_bn / population) / (data.gdp_cny_bn.sum() / population.sum())
        skilled_share0 = rel_pc**SKILLED_INCOME_ELASTICITY
        workers = cfg.migration.participation * population
        skilled_share0 *= NATIONAL_SKILLED_SHARE * workers.sum() / np.dot(skilled_share0, workers)
        skilled_share0 = np.minimum(skilled_share0, 0.6)
        ec = cfg.economy
        effective = workers * economy.human_capital_index(skilled_share0, ec.skill_premium)
        unit = economy.sector_output(np.ones_like(capital), capital, effective, np.ones(len(SECTORS)),
                                     ec.capital_share)
        productivity = output / unit
        # ---- research
        rc = cfg.research
        capacity0 = data.rd_cny_bn / (rc.depreciation + rc.capacity_growth)
        national_fields = np.array([NATIONAL_FIELD_SHARES[f] for f in FIELDS])
        sector_rel = shares[:, FIELD_SECTOR] / np.array([NATIONAL_SECTOR_SHARES[f] for f in FIELDS])
        field_weights = national_fields * sector_rel
        field_weights /= field_weights.sum(axis=1, keepdims=True)
        self.registry = InstituteRegistry(capacity_hint=n * (len(FIELDS) + 1) + 64)
        self.institute_agents: list[Institute] = []
        self._institute_lookup: dict[tuple[int, int, int], int] = {}
        hosts = np.repeat(np.arange(n), len(FIELDS) + 1)
        fields = np.tile(np.arange(len(FIELDS) + 1), n)
        kinds = np.where(fields == GENERAL_FIELD, KIND_INDEX["university"], KIND_INDEX["research_base"])
        caps = np.column_stack([(1 - UNIVERSITY_SHARE) * capacity0[:, None] * field_weights,
                                UNIVERSITY_SHARE * capacity0]).ravel()
        rows = self.registry.add_many(hosts, fields, kinds, caps, self.start_year)
        for row, h, f, k in zip(rows, hosts, fields, kinds, strict=True):
            label = "universities" if f == GENERAL_FIELD else f"{FIELDS[f]} research base"
            self.institute_agents.append(Institute(self, int(row), f"{data.names[h]} {label}"))
            self._institute_lookup[(int(h), int(k), int(f))] = int(row)
        by_field = self.registry.by_province_field(n)
        total_capacity = by_field.sum(axis=1)
        self.reference_capacity = float(total_capacity.mean())
        self.paper_efficiency = data.sci_papers / economy.research_output(
            total_capacity, np.ones(n), rc.returns_to_scale, rc.agglomeration, self.reference_capacity)
        # ---- spatial structure
        self.neighbours, self.distance_km = economy.neighbour_lists(data.lon, data.lat, cfg.migration.neighbours)
        # ---- budgets
        self.rd_intensity0 = data.rd_cny_bn / data.gdp_cny_bn
        self.national_intensity0 = data.rd_cny_bn.sum() / data.gdp_cny_bn.sum()
        self.observed_share = data.rd_cny_bn / data.rd_cny_bn.sum()
        self.graduates0 = data.graduates_k.astype(float).copy()
        self.population0 = population.copy()
        self.gdp_national0 = float(data.gdp_cny_bn.sum())
        self.demand0 = output.sum(axis=0)
        elasticity = np.full(len(SECTORS), np.inf)
        for s in CONSUMER_SEGMENTS:
            elasticity[SECTOR_INDEX[s]] = ec.consumer_demand_elasticity
        elasticity[SECTOR_INDEX["real_estate"]] = 1.0
        self.demand_elasticity = elasticity

        zeros = np.zeros(n)
        self.state = ModelState(
            population=population, skilled=skilled_share0 * workers, capital=capital,
            productivity=productivity, sector_output=output.copy(), gdp=data.gdp_cny_bn.astype(float).copy(),
            papers=data.sci_papers.astype(float).copy(), graduates=self.graduates0.copy(),
            graduate_arrivals=self.graduates0.copy(), graduate_stayers=self.graduates0.copy(),
            net_migration=zeros.copy(), research_by_field=by_field, transfer=np.ones_like(capital),
            connectivity=np.full(n, ec.connectivity), foreign_capital=np.zeros_like(capital),
            education_capacity=zeros.copy(), investment=np.zeros_like(capital),
            price=np.ones(len(SECTORS)), demand_shift=np.ones(len(SECTORS)), budget=zeros.copy(),
            spent=zeros.copy(), central=zeros.copy(), income_outflow=zeros.copy(), openness=ec.openness,
        )
        self.state.set_workers(cfg.migration.participation)
        self.state.investment = self._allocate_investment(self.state.gdp)
        self.megacities = self._megacity_mask()
        self.amenity = self._calibrate_amenity()
        self.reference_intensity = self._knowledge_intensity()[1].mean(axis=0)
        self.talent_push = self._group_mask(cfg.investment.talent_push) * cfg.investment.talent_push_size

        # ---- agents and strategies
        self.provinces = [Province(self, i, data.names[i], data.capitals[i], int(data.region[i]),
                                   bool(data.coastal[i])) for i in range(n)]
        self._segments_dirty = False
        for province, name in zip(self.provinces, self.resolve_assignment(), strict=True):
            province.adopt(make_strategy(name, self))
        self._assign_segments_if_needed()
        self.endorsed: str | None = None
        self.events = EventSchedule(self, cfg.events)
        self.growth_reference = self.gdp_per_capita.copy()

        # ---- recording
        self._national_rows: list[dict[str, float]] = []
        self._province_records: list[dict[str, np.ndarray]] = []
        self._strategy_records: list[list[str]] = []
        self.datacollector = mesa.DataCollector(model_reporters={
            "year": "year",
            "gdp_cny_bn": lambda m: m._national_rows[-1]["gdp_cny_bn"],
            "gini": lambda m: m._national_rows[-1]["gini"],
            "theil_between_region": lambda m: m._national_rows[-1]["theil_between_region"],
            "research_output": lambda m: m._national_rows[-1]["research_output"],
            "interior_research_share": lambda m: m._national_rows[-1]["interior_research_share"],
        })
        self.running = True
        self._record()

    # ------------------------------------------------------------------ assignment
    def _group_mask(self, names: list[str]) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for name in names:
            mask |= self.group_members(name)
        return mask

    def _megacity_mask(self) -> np.ndarray:
        """The regions that ``megacity`` concentrates central money on: the named cities, or for
        synthetic regions (which have no such names) the three largest economies."""
        names = self.scenario.strategy.megacity.cities
        if all(name in self.province_names for name in names):
            return self._group_mask(names)
        mask = np.zeros(self.n, dtype=bool)
        mask[np.argsort(-self.data.gdp_cny_bn, kind="stable")[: min(3, self.n)]] = True
        return mask

    def group_members(self, name: str) -> np.ndarray:
        """Boolean mask of the regions a province or group name covers."""
        data = self.data
        if name == "all":
            return np.ones(self.n, dtype=bool)
        if name in REGIONS:
            return data.region == REGIONS.index(name)
        if name == "coastal":
            return data.coastal.copy()
        if name == "interior":
            return ~data.coastal
        mask = np.zeros(self.n, dtype=bool)
        if name in self.province_names:
            mask[self.province_names.index(name)] = True
            return mask
        raise ValueError(f"unknown province or group {name!r}")

    def resolve_assignment(self) -> list[str]:
        """Strategy name of every region: the default, then groups, then named provinces.

        Raises:
            ScenarioError: when two groups that overlap assign different strategies to a region.
        """
        from sim.errors import ScenarioError

        cfg = self.scenario.strategies
        chosen = [cfg.default] * self.n
        source: list[str | None] = [None] * self.n
        pairs = cfg.assignments()
        named = set()
        for name, _strategy, _key in pairs:
            if name not in GROUPS:
                named |= set(np.flatnonzero(self.group_members(name)).tolist())
        for name, strategy, key in sorted(pairs, key=lambda p: p[0] not in GROUPS):
            for i in np.flatnonzero(self.group_members(name)):
                if name in GROUPS and i not in named and source[i] is not None and chosen[i] != strategy:
                    raise ScenarioError(self.scenario.name, key,
                                        f"group {name!r} assigns {strategy!r} to {self.province_names[i]}, "
                                        f"which {source[i]} assigns {chosen[i]!r}; name the province instead")
                chosen[i] = strategy
                source[i] = key
        return chosen

    def request_segment_assignment(self) -> None:
        """Ask for consumer-niche segments to be (re)assigned before the next spending."""
        self._segments_dirty = True

    def _assign_segments_if_needed(self) -> None:
        if self._segments_dirty:
            niche = [p for p in self.provinces if isinstance(p.strategy, ConsumerNiche)]
            assign_segments(niche, self)
            self._segments_dirty = False

    # ------------------------------------------------------------------ helpers used by strategies and events
    def log_event(self, kind: str, province: int | None, detail: str) -> None:
        """Record an event of this year (written to the ``events`` table)."""
        name = self.province_names[province] if province is not None else ""
        self._events_log.append((self.year, kind, name, detail))

    def found_institute(self, host: int, kind: str, field: str, capacity: float, funded_by: str = "province",
                        name: str | None = None) -> int:
        """Create an institute (agent and registry row) and log it; returns its row."""
        field_index = FIELD_INDEX[field]
        kind_index = KIND_INDEX[kind]
        row = self.registry.add(host, field_index, kind_index, capacity, self.year)
        label = name or f"{self.province_names[host]} {kind.replace('_', ' ')} ({field})"
        self.institute_agents.append(Institute(self, row, label))
        self._institute_lookup.setdefault((host, kind_index, field_index), row)
        what = kind.replace("_", " ")
        self.log_event("institute_founded", host, f"{what} founded in {field}" +
                       (f" ({funded_by} money)" if funded_by != "province" else "") + (f": {name}" if name else ""))
        return row

    def close_institute(self, row: int, reason: str) -> None:
        """Set an institute's capacity to zero and log why."""
        self.registry.capacity[row] = 0.0
        host = int(self.registry.host[row])
        key = (host, int(self.registry.kind[row]), int(self.registry.field[row]))
        if self._institute_lookup.get(key) == row:
            del self._institute_lookup[key]
        self.log_event("institute_closed", host, reason)

    def destroy_capital(self, province: int, sector: int, amount: float) -> None:
        """Remove ``amount`` CNY bn of capital from a sector (at most 90 % of it)."""
        capital = self.state.capital
        capital[province, sector] -= min(amount, 0.9 * capital[province, sector])

    def add_foreign_capital(self, province: int, sector: int, amount: float) -> None:
        """Foreign direct investment into a sector."""
        self.state.capital[province, sector] += amount
        self.state.foreign_capital[province, sector] += amount

    # ------------------------------------------------------------------ derived values
    @property
    def gdp_per_capita(self) -> np.ndarray:
        """GDP per person, CNY."""
        return 1000.0 * self.state.gdp / self.state.population

    def national_intensity(self, year: int) -> float:
        """National R&D spending as a share of GDP in ``year`` (linear to the target)."""
        inv = self.scenario.investment
        target = inv.rd_intensity_target / 100.0
        if year >= inv.target_year:
            return target
        span = inv.target_year - self.start_year
        return self.national_intensity0 + (target - self.national_intensity0) * (year - self.start_year) / span

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """Simulate one year (see docs/ODD.md, "Process overview")."""
        self.year += 1
        state = self.state
        self.events.fire(self.year)  # 1
        self._budgets()  # 2
        self._spend()  # 3
        self._research()  # 4
        self._graduates()  # 5
        self._knowledge()  # 6
        self._production()  # 7
        self._population()  # 8
        for province in self.provinces:
            province.strategy.after_year(province)
        if self.scenario.imitation.enabled and (self.year - self.start_year) % self.scenario.imitation.period == 0:
            from sim.model.imitation import review_strategies

            review_strategies(self)  # 9
        self._record()  # 10
        self.datacollector.collect(self)
        if state.spent.sum() > state.budget.sum() * (1 + 1e-9) + 1e-9:
            raise ModelInvariantError(f"{self.year}: spending exceeds budget")
        if self.year >= self.end_year:
            self.running = False

    def run(self) -> RegionalGrowthModel:
        """Step until the end year; returns the model."""
        while self.running:
            self.step()
        return self

    def _central_weights(self) -> np.ndarray:
        inv = self.scenario.investment
        state = self.state
        rule = inv.central_allocation
        if rule == "observed":
            weights = self.observed_share.copy()
        elif rule == "per_capita":
            weights = state.population.copy()
        elif rule == "merit":
            weights = state.papers.copy()
        elif rule == "need":
            weights = state.population * (self.gdp_per_capita.mean() / self.gdp_per_capita)
        else:
            weights = self._group_mask(inv.targeted_provinces).astype(float)
        weights = weights / weights.sum()
        if self.endorsed is not None:
            adopters = np.array([p.strategy.name == self.endorsed for p in self.provinces])
            weights = weights * np.where(adopters, 1.0 + self.scenario.imitation.endorsement_boost, 1.0)
            weights /= weights.sum()
        if any(p.strategy.name == "megacity" for p in self.provinces):
            mc = self.scenario.strategy.megacity
            cities = self.megacities.astype(float)
            weights = (1 - mc.concentration) * weights + mc.concentration * cities / cities.sum()
        return weights

    def _budgets(self) -> None:
        state = self.state
        inv = self.scenario.investment
        intensity = self.national_intensity(self.year)
        observed = self.data.observed_rd.get(self.year) if inv.observed_rd else None
        if observed is not None:
            provincial = (1 - inv.central_share) * observed
            pool = inv.central_share * observed.sum()
        else:
            national = intensity * state.gdp.sum()
            own = self.rd_intensity0 * state.gdp  # each province's own intensity of its own GDP
            provincial = (1 - inv.central_share) * national * own / own.sum()
            pool = inv.central_share * national
        # strategies that are matched by the centre claim their share of the pool first; the
        # rest is allocated by the rule, so the national budget stays the same
        claims = np.array([p.strategy.central_claim(p, float(provincial[p.index])) for p in self.provinces])
        total_claims = claims.sum()
        if total_claims > pool:
            claims *= pool / total_claims
        state.central = claims + (pool - claims.sum()) * self._central_weights()
        state.budget = provincial + state.central
        for province in self.provinces:
            province.budget_cny_bn = float(state.budget[province.index])
            province.central_claim_cny_bn = float(claims[province.index])
        for province in self.provinces:
            extra = province.strategy.extra_budget(province)
            if extra:
                state.budget[province.index] += extra
                province.budget_cny_bn += extra

    def _spend(self) -> None:
        state = self.state
        registry = self.registry
        self._assign_segments_if_needed()
        n_inst = registry.count
        registry.capacity[:n_inst] *= 1.0 - self.scenario.research.depreciation
        existing = np.zeros(self.n)
        spent = np.zeros(self.n)
        for i in self.rng.permutation(self.n):
            province = self.provinces[i]
            plan = province.plan_spending()
            total = plan.total()
            if total > province.budget_cny_bn * (1 + 1e-9) + 1e-12:
                raise ModelInvariantError(f"{self.year} {province.name}: plan spends {total} of "
                                          f"{province.budget_cny_bn}")
            spent[i] = total
            existing[i] = plan.existing
            for kind, field, amount in plan.institutes:
                key = (int(i), KIND_INDEX[kind], FIELD_INDEX[field])
                row = self._institute_lookup.get(key)
                if row is None:
                    self.found_institute(int(i), kind, field, amount)
                else:
                    registry.capacity[row] += amount
            for sector, amount in plan.equity.items():
                state.capital[i, sector] += amount
            if plan.education:
                state.education_capacity[i] += plan.education / GRADUATE_COST_CNY_BN_PER_K
        # pro-rata funding of existing institutes
        n_inst = registry.count
        hosts = registry.host[:n_inst]
        caps = registry.capacity[:n_inst]
        host_total = np.bincount(hosts, weights=caps, minlength=self.n)
        share = np.divide(existing, host_total, out=np.zeros(self.n), where=host_total > 0)
        registry.capacity[:n_inst] += caps * share[hosts]
        state.spent = spent

    def _research(self) -> None:
        state = self.state
        rc = self.scenario.research
        state.research_by_field = self.registry.by_province_field(self.n)
        total = state.research_by_field.sum(axis=1)
        state.papers = economy.research_output(total, self.paper_efficiency, rc.returns_to_scale,
                                               rc.agglomeration, self.reference_capacity)

    def _graduates(self) -> None:
        state = self.state
        cfg = self.scenario
        years = self.year - self.start_year
        state.education_capacity *= 1.0 - EDUCATION_DEPRECIATION
        growth = math.exp(cfg.investment.education_spending_growth * years)
        state.graduates = (self.graduates0 * (state.population / self.population0) * growth * (1.0 + self.talent_push)
                           + state.education_capacity)
        mig = cfg.migration
        arrivals, stayers = economy.graduate_flows(state.graduates, self._attraction() + self.amenity,
                                                   self.neighbours, self.distance_km, self._pair_connectivity(),
                                                   mig.graduate_mobility, mig.distance_cost, mig.home_bias)
        state.graduate_arrivals = arrivals
        state.graduate_stayers = stayers
        state.skilled = state.skilled * (1.0 - mig.skilled_retirement) + arrivals / 1000.0
        np.minimum(state.skilled, 0.95 * state.workers, out=state.skilled)

    def _pair_connectivity(self) -> np.ndarray:
        conn = self.state.connectivity
        return np.sqrt(conn[:, None] * conn[self.neighbours])

    def _attraction(self) -> np.ndarray:
        """What draws graduates to each region, before its calibrated amenity: wages, matching
        skilled openings per skilled worker already there, and the number of openings."""
        state = self.state
        mig = self.scenario.migration
        per_worker = state.gdp / state.workers
        openings = state.sector_output @ SKILL_INTENSITY
        jobs = openings / np.maximum(state.skilled, 1e-9)
        return (mig.wage_weight * np.log(per_worker / per_worker.mean())
                + mig.jobs_weight * np.log(jobs / jobs.mean())
                + mig.size_weight * np.log(openings / openings.mean()))

    def _calibrate_amenity(self, iterations: int = 200) -> np.ndarray:
        """Amenity per region that makes base-year mobile graduates arrive in proportion to the
        skilled workforce (so that, with nothing changed, skilled shares keep their pattern)."""
        state = self.state
        mig = self.scenario.migration
        amenity = np.zeros(self.n)
        if mig.graduate_mobility == 0:
            return amenity
        target = mig.graduate_mobility * state.graduates.sum() * state.skilled / state.skilled.sum()
        base = self._attraction()
        conn = self._pair_connectivity()
        stay = (1.0 - mig.graduate_mobility) * state.graduates
        for _ in range(iterations):
            arrivals, _ = economy.graduate_flows(state.graduates, base + amenity, self.neighbours,
                                                 self.distance_km, conn, mig.graduate_mobility,
                                                 mig.distance_cost, mig.home_bias)
            movers = np.maximum(arrivals - stay, 1e-12)
            step = np.log(target / movers)
            amenity = np.clip(amenity + step, -20.0, 20.0)
            if np.max(np.abs(step)) < 1e-6:
                break
        return amenity - amenity.mean()

    def _knowledge_intensity(self) -> tuple[np.ndarray, np.ndarray]:
        """Own research capacity per field (N, F) and knowledge intensity per sector (N, S):
        own plus spilled-over capacity in the sector's field per unit of GDP (the mean over
        fields for sectors without one)."""
        state = self.state
        ec = self.scenario.economy
        f = len(FIELDS)
        own = state.research_by_field[:, :f] + state.research_by_field[:, f:] / f
        spill = economy.spillover_pool(own, self.neighbours, self.distance_km, ec.spillover_share,
                                       ec.spillover_distance_km * self._pair_connectivity())
        knowledge_field = own + spill
        knowledge = np.repeat(knowledge_field.mean(axis=1, keepdims=True), len(SECTORS), axis=1)
        knowledge[:, FIELD_SECTOR] = knowledge_field
        return own, knowledge / state.gdp[:, None]

    def _knowledge(self) -> None:
        state = self.state
        ec = self.scenario.economy
        rc = self.scenario.research
        own, intensity = self._knowledge_intensity()
        share = state.skilled_share
        absorptive = (share / (state.skilled.sum() / state.workers.sum())) ** ec.absorptive_elasticity
        growth = economy.productivity_growth(state.productivity, intensity, self.reference_intensity,
                                             state.transfer, absorptive, ec.base_tfp_growth,
                                             ec.knowledge_effect, ec.catch_up_rate)
        state.productivity *= np.exp(growth)
        # breakthroughs: a field's yearly chance is shared among regions by their capacity in it
        capacity_share = own / np.maximum(own.sum(axis=0), 1e-12)
        hits = self.rng.random(own.shape) < rc.breakthrough_chance * capacity_share
        if hits.any():
            for i, fi in zip(*np.nonzero(hits), strict=True):
                state.productivity[i, FIELD_SECTOR[fi]] *= 1.0 + rc.breakthrough_jump
                self.log_event("breakthrough", int(i), f"breakthrough in {FIELDS[fi]} "
                               f"(productivity +{100 * rc.breakthrough_jump:.0f} %)")

    def _allocate_investment(self, income: np.ndarray) -> np.ndarray:
        state = self.state
        ec = self.scenario.economy
        effective = state.workers * economy.human_capital_index(state.skilled_share, ec.skill_premium)
        returns = economy.sector_output(state.productivity, np.ones_like(state.capital), effective, state.price,
                                        ec.capital_share)
        # sector_output with unit capital gives p A (E N)^(1-a); rescale by the region's capital
        returns = returns / (state.capital.sum(axis=1, keepdims=True) ** (1.0 - ec.capital_share)) * (
            len(SECTORS) ** (1.0 - ec.capital_share))
        return economy.allocate_investment(ec.savings_rate * income, state.capital, returns,
                                           ec.investment_responsiveness)

    def _production(self) -> None:
        state = self.state
        ec = self.scenario.economy
        state.capital *= 1.0 - ec.depreciation
        state.capital += state.investment
        state.foreign_capital *= 1.0 - ec.depreciation
        effective = state.workers * economy.human_capital_index(state.skilled_share, ec.skill_premium)
        supply = economy.sector_output(state.productivity, state.capital, effective, np.ones(len(SECTORS)),
                                       ec.capital_share)
        demand = self.demand0 * (state.gdp.sum() / self.gdp_national0) ** ec.income_elasticity * state.demand_shift
        unconstrained = np.isinf(self.demand_elasticity)
        demand[unconstrained] = 1.0
        state.price = economy.market_prices(demand, supply.sum(axis=0), self.demand_elasticity)
        state.price[unconstrained] = 1.0
        state.sector_output = supply * state.price
        state.gdp = state.sector_output.sum(axis=1)
        foreign_share = np.divide(state.foreign_capital, state.capital, out=np.zeros_like(state.capital),
                                  where=state.capital > 0)
        outflow_share = self.scenario.strategy.foreign_multinational.profit_outflow
        state.income_outflow = outflow_share * ec.capital_share * (state.sector_output * foreign_share).sum(axis=1)
        state.investment = self._allocate_investment(state.gdp - state.income_outflow)

    def _population(self) -> None:
        state = self.state
        mig = self.scenario.migration
        state.population *= 1.0 + mig.natural_growth
        moves = economy.income_migration(state.population, self.gdp_per_capita, mig.population_migration_rate)
        state.population += moves
        state.net_migration = moves
        state.set_workers(mig.participation)
        np.minimum(state.skilled, 0.95 * state.workers, out=state.skilled)

    # ------------------------------------------------------------------ recording
    def _record(self) -> None:
        state = self.state
        data = self.data
        gdp = state.gdp
        pc = self.gdp_per_capita
        summary = metrics.inequality_summary(gdp, state.population, data.region, data.coastal)
        papers = state.papers
        ranks = metrics.rank_descending(papers)
        high_tech = state.sector_output[:, HIGH_TECH_INDEX].sum()
        previous = self._national_rows[-1]["gdp_cny_bn"] if self._national_rows else float("nan")
        national_gdp = float(gdp.sum())
        row = {
            "year": self.year,
            "gdp_cny_bn": national_gdp,
            "gdp_growth": national_gdp / previous - 1.0 if self._national_rows else float("nan"),
            "population_m": float(state.population.sum()),
            "gdp_per_capita_cny": 1000.0 * national_gdp / float(state.population.sum()),
            **summary,
            "research_output": float(papers.sum()),
            "interior_research_share": metrics.interior_share(papers, data.coastal),
            "interior_in_top10": metrics.interior_in_top(papers, data.coastal, min(10, self.n)),
            "interior_in_top20": metrics.interior_in_top(papers, data.coastal, min(20, self.n)),
            "high_tech_share": float(high_tech / national_gdp),
            "rd_budget_cny_bn": float(state.budget.sum()),
            "rd_spent_cny_bn": float(state.spent.sum()),
            "central_rd_cny_bn": float(state.central.sum()),
            "skilled_m": float(state.skilled.sum()),
            "graduates_k": float(state.graduates.sum()),
            "institutes": int((self.registry.capacity[: self.registry.count] > 0).sum()),
            "openness": float(state.openness),
        }
        self._national_rows.append(row)
        record = {
            "population_m": state.population.copy(),
            "gdp_cny_bn": gdp.copy(),
            "gdp_per_capita_cny": pc,
            "skilled_m": state.skilled.copy(),
            "skilled_share": state.skilled_share,
            "graduates_k": state.graduates.copy(),
            "graduates_arrived_k": state.graduate_arrivals.copy(),
            "graduate_retention": np.divide(state.graduate_stayers, state.graduates,
                                            out=np.ones(self.n), where=state.graduates > 0),
            "net_migration_k": 1000.0 * state.net_migration,
            "research_output": papers.copy(),
            "research_rank": ranks,
            "research_capacity_cny_bn": state.research_by_field.sum(axis=1),
            "rd_budget_cny_bn": state.budget.copy(),
            "rd_spent_cny_bn": state.spent.copy(),
            "central_rd_cny_bn": state.central.copy(),
            "high_tech_share": state.sector_output[:, HIGH_TECH_INDEX].sum(axis=1) / gdp,
            "income_outflow_cny_bn": state.income_outflow.copy(),
        }
        for s, name in enumerate(SECTORS):
            record[f"output_{name}_cny_bn"] = state.sector_output[:, s].copy()
        self._province_records.append(record)
        self._strategy_records.append([p.strategy.name for p in self.provinces])

    @property
    def national_rows(self) -> list[dict[str, float]]:
        """The national record so far, one dict per year (the last is the current year)."""
        return self._national_rows

    @property
    def event_log(self) -> list[tuple[int, str, str, str]]:
        """Events so far as ``(year, type, province, detail)`` tuples, oldest first."""
        return self._events_log

    def national_columns(self) -> dict[str, np.ndarray]:
        """The national table as columns: one entry per recorded year."""
        rows = self._national_rows
        return {key: np.array([row[key] for row in rows]) for key in rows[0]}

    def province_columns(self, categorical: bool = True) -> dict[str, Any]:
        """The province table as columns: one entry per province and recorded year.

        Args:
            categorical: province names as a pandas Categorical (else plain strings).
        """
        import pandas as pd

        t = len(self._province_records)
        names = np.tile(np.array(self.province_names, dtype=object), t)
        columns: dict[str, Any] = {
            "year": np.repeat(np.array([row["year"] for row in self._national_rows], dtype=np.int64), self.n),
            "province": pd.Categorical(names, categories=self.province_names) if categorical
            else pd.array(names, dtype="string"),
            "capital": np.tile(np.array(self.data.capitals, dtype=object), t),
            "region": np.tile(np.array([REGIONS[r] for r in self.data.region], dtype=object), t),
            "coastal": np.tile(self.data.coastal, t),
            "strategy": np.concatenate([np.array(s, dtype=object) for s in self._strategy_records]),
        }
        for key in self._province_records[0]:
            columns[key] = np.concatenate([rec[key] for rec in self._province_records])
        return columns

    def event_columns(self) -> dict[str, Any]:
        """The events table as columns: year, type, province, detail."""
        import pandas as pd

        log = self._events_log
        return {
            "year": np.array([e[0] for e in log], dtype=np.int64),
            "type": pd.array([e[1] for e in log], dtype="string"),
            "province": pd.array([e[2] for e in log], dtype="string"),
            "detail": pd.array([e[3] for e in log], dtype="string"),
        }

    def national_frame(self):
        """One row per year: national totals and inequality metrics (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.national_columns())

    def province_frame(self):
        """One row per province and year (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.province_columns())

    def events_frame(self):
        """One row per event that fired: year, type, province, detail (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.event_columns())

    def check_invariants(self) -> None:
        """Raise :class:`ModelInvariantError` unless every stock is finite and non-negative."""
        state = self.state
        for name in ("population", "skilled", "capital", "productivity", "sector_output", "gdp", "papers",
                     "graduates", "research_by_field", "budget", "spent", "central"):
            value = getattr(state, name)
            if not np.all(np.isfinite(value)):
                raise ModelInvariantError(f"{self.year}: {name} is not finite")
            if np.any(value < -1e-9):
                raise ModelInvariantError(f"{self.year}: {name} is negative")
        if np.any(state.spent > state.budget * (1 + 1e-9) + 1e-9):
            raise ModelInvariantError(f"{self.year}: a province spent more than its budget")
        if np.any(self.registry.capacity[: self.registry.count] < 0):
            raise ModelInvariantError(f"{self.year}: an institute has negative capacity")


def _resolve_scenario(scenario: Scenario | str | dict | None, overrides, params: dict[str, Any]) -> Scenario:
    extra = [f"{key.replace('__', '.')}={_toml_value(value)}" for key, value in params.items()]
    if isinstance(scenario, Scenario):
        if not overrides and not extra:
            return scenario
        data = scenario.model_dump(mode="json")
        return validate_scenario(apply_overrides(data, list(overrides) + extra), "overrides")
    if isinstance(scenario, dict):
        return validate_scenario(apply_overrides(scenario, list(overrides) + extra), "scenario")
    return load_scenario(scenario, list(overrides) + extra)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
