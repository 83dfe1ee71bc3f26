"""The model: provinces investing in science, institutes, graduates, industries and growth.

:class:`RegionalGrowthModel` is a :class:`mesa.Model`. One step is one year, in the order of
docs/ODD.md ("Process overview"): events, budgets, strategies spend, institutes and research
output, graduate migration, knowledge and productivity, production, population, strategy review,
record. Provinces decide (agent code); the couplings between provinces are vectorised numpy
(:mod:`sim.model.economy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

import sim.model.economy as economy
from sim.data import china_data, national_real_growth, synthetic_data
from sim.data.national import real_income_relative
from sim.errors import ModelInvariantError, ScenarioError
from sim.model.agents import Institute, InstituteRegistry, Province, collector_paused
from sim.model.events import EventSchedule
from sim.model.imitation import review_strategies
from sim.model.processes import YearlyProcesses
from sim.model.recording import Recording
from sim.model.state import ModelState
from sim.model.strategies import ConsumerNiche, Strategy, assign_segments, make_strategy, placebo_name
from sim.model.structure import initial_sector_shares, knowledge_weights
from sim.scenario import Scenario, load_scenario, validate_scenario, with_overrides
from sim.vocabulary import (
    CONSUMER_SEGMENTS,
    FIELD_INDEX,
    FIELD_SECTOR,
    FIELDS,
    GENERAL_FIELD,
    GROUPS,
    KIND_INDEX,
    REGIONS,
    SECTOR_INDEX,
    SECTORS,
)


@dataclass(frozen=True)
class StrategyRoles:
    """The provinces grouped by what their strategies do, kept until a province adopts another strategy.

    Attributes:
        names: strategy name of every province, by index.
        planning: per province, whether its strategy plans its spending (else business as usual:
            the whole budget to existing institutes).
        claiming: provinces whose strategy claims central money before the centre allocates it.
        reacting: provinces whose strategy reacts to the year's outcome (``after_year``).
    """

    names: tuple[str, ...]
    planning: np.ndarray
    claiming: tuple[Province, ...]
    reacting: tuple[Province, ...]

    @classmethod
    def of(cls, provinces: list[Province]) -> StrategyRoles:
        kinds = [type(p.strategy) for p in provinces]
        return cls(names=tuple(p.strategy.name for p in provinces),
                   planning=np.array([kind.plan is not Strategy.plan for kind in kinds], dtype=bool),
                   claiming=tuple(p for p, kind in zip(provinces, kinds, strict=True)
                                  if kind.central_claim is not Strategy.central_claim),
                   reacting=tuple(p for p, kind in zip(provinces, kinds, strict=True)
                                  if kind.after_year is not Strategy.after_year))


class RegionalGrowthModel(YearlyProcesses, Recording, mesa.Model):
    """China's provinces (or N synthetic regions) turning science investment into growth.

    Args:
        scenario: a :class:`~sim.scenario.Scenario`, a path to a scenario TOML file, a dict of
            scenario values, or None for the defaults.
        seed: an int seed (``numpy.random.SeedSequence`` entropy). Default (None, and no ``rng``):
            fresh entropy from the operating system, as Mesa models do, so ``mesa.batch_run``
            iterations differ; it is recorded in :attr:`seed`. ``sim run``, :func:`run_scenario`
            and batches pass the scenario's ``run.seed`` (or a spawned child) explicitly.
        rng: a ``numpy.random.Generator`` or ``SeedSequence`` (instead of ``seed``); batches pass
            a spawned SeedSequence.
        overrides: ``key.path=value`` strings applied to the scenario.
        datacollector: keep Mesa's DataCollector (collected every year). False: ``datacollector`` is
            None and a year's inequality indices are computed only when a table or
            :meth:`national_row` asks for that year (the same numbers): ensembles that read a few
            end-year outcomes take about 15 % less time.
        **params: scenario values as keywords with ``__`` for dots, for ``mesa.batch_run``:
            ``RegionalGrowthModel(migration__graduate_mobility=0.6)``.

    After construction the model holds the base year; each :meth:`step` simulates one year.
    Results: :meth:`national_frame`, :meth:`province_frame`, :meth:`events_frame`, and Mesa's
    ``datacollector`` (one row for the base year, then one per step).

    Attributes:
        seed: the entropy of the run's ``SeedSequence`` (an int; the one drawn when ``seed`` and
            ``rng`` were None), or None when a ``Generator`` was passed as ``rng``.
        seed_sequence: that ``SeedSequence`` (None when a ``Generator`` was passed).
    """

    def __init__(
        self,
        scenario: Scenario | str | dict | None = None,
        *,
        seed: int | None = None,
        rng: np.random.Generator | np.random.SeedSequence | None = None,
        overrides: list[str] | tuple[str, ...] = (),
        datacollector: bool = True,
        **params: Any,
    ) -> None:
        scenario = _resolve_scenario(scenario, overrides, params)
        if seed is not None and rng is not None:
            raise ValueError("pass either seed or rng, not both")
        if rng is None:
            rng = np.random.SeedSequence(None if seed is None else _seed_entropy(seed))
        if isinstance(rng, np.random.SeedSequence):
            self.seed_sequence = rng
            rng = np.random.Generator(np.random.PCG64(rng))
        else:
            self.seed_sequence = None
        self.seed: int | None = None if self.seed_sequence is None else self.seed_sequence.entropy
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
        self.start_event_log()

        # ---- economy
        structure = cfg.structure
        shares = initial_sector_shares(data, structure)
        output = data.gdp_cny_bn[:, None] * shares
        ratio = np.array([structure.capital_output_ratio[s] for s in SECTORS])
        capital = output * ratio
        population = data.population_m.astype(float).copy()
        rel_pc = (data.gdp_cny_bn / population) / (data.gdp_cny_bn.sum() / population.sum())
        skilled_share0 = rel_pc**structure.skilled_income_elasticity
        workers = cfg.migration.participation * population
        skilled_share0 *= structure.skilled_share * workers.sum() / np.dot(skilled_share0, workers)
        skilled_share0 = np.minimum(skilled_share0, structure.max_initial_skilled_share)
        ec = cfg.economy
        effective = workers * economy.human_capital_index(skilled_share0, ec.skill_premium)
        unit = economy.sector_output(np.ones_like(capital), capital, effective, np.ones(len(SECTORS)),
                                     ec.capital_share)
        productivity = output / unit
        # ---- research
        rc = cfg.research
        capacity0 = data.rd_cny_bn / (rc.depreciation + rc.capacity_growth)
        national_fields = np.array([structure.field_shares[f] for f in FIELDS])
        sector_rel = shares[:, FIELD_SECTOR] / np.array([structure.sector_shares[f] for f in FIELDS])
        field_weights = national_fields * sector_rel
        field_weights /= field_weights.sum(axis=1, keepdims=True)
        self.registry = InstituteRegistry(capacity_hint=n * (len(FIELDS) + 1) + 64)
        self.institute_agents: list[Institute] = []
        self._institute_lookup: dict[tuple[int, int, int], int] = {}
        hosts = np.repeat(np.arange(n), len(FIELDS) + 1)
        fields = np.tile(np.arange(len(FIELDS) + 1), n)
        kinds = np.where(fields == GENERAL_FIELD, KIND_INDEX["university"], KIND_INDEX["research_base"])
        caps = np.column_stack([(1 - structure.university_share) * capacity0[:, None] * field_weights,
                                structure.university_share * capacity0]).ravel()
        rows = self.registry.add_many(hosts, fields, kinds, caps, self.start_year).tolist()
        labels = [f"{FIELDS[f]} research base" for f in range(len(FIELDS))] + ["universities"]
        hosts, fields, kinds = hosts.tolist(), fields.tolist(), kinds.tolist()
        with collector_paused():
            self.institute_agents.extend(Institute(self, row, f"{data.names[h]} {labels[f]}")
                                         for row, h, f in zip(rows, hosts, fields, strict=True))
        self._institute_lookup.update(zip(zip(hosts, kinds, fields, strict=True), rows, strict=True))
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
        self.unconstrained = np.isinf(elasticity)  # sectors whose price stays 1
        self.price_exponent = economy.price_exponents(elasticity)
        self.unit_price = np.ones(len(SECTORS))
        self.skill_intensity = np.array([structure.skill_intensity[s] for s in SECTORS])

        zeros = np.zeros(n)
        self.state = ModelState(
            population=population, skilled=skilled_share0 * workers, capital=capital,
            productivity=productivity, sector_output=output.copy(), gdp=data.gdp_cny_bn.astype(float).copy(),
            papers=data.sci_papers.astype(float).copy(), graduates=self.graduates0.copy(),
            graduate_arrivals=self.graduates0.copy(), graduate_stayers=self.graduates0.copy(),
            net_migration=zeros.copy(), research_by_field=by_field, transfer=np.ones_like(capital),
            connectivity=np.full(n, ec.connectivity), foreign_capital=np.zeros_like(capital),
            education_capacity=zeros.copy(), investment=np.zeros_like(capital),
            price=np.ones(len(SECTORS)), demand_shift=np.ones(len(SECTORS)),
            budget=data.rd_cny_bn.astype(float).copy(), spent=data.rd_cny_bn.astype(float).copy(), central=zeros.copy(), income_outflow=zeros.copy(), openness=ec.openness,
        )
        self.state.set_workers(cfg.migration.participation)
        self.state.real_output = output.copy()
        self.state.gdp_real = self.state.gdp.copy()
        self.state.gdp_real_national = float(self.state.gdp.sum())
        self.state.reset_costs(n)
        self.state.investment = self.allocate_investment(self.state.gdp)
        self.state.installed = self.state.investment.sum(axis=1)
        self.capacity0 = total_capacity.copy()
        # where the start year sits on the path of national real income (2012 = 1; synthetic: 1)
        self.income_level0 = real_income_relative(self.start_year) if n_synthetic is None else 1.0
        self.megacities = self.megacity_mask()
        self.amenity = self.calibrate_amenity()
        # knowledge intensity a year before the first step: this year's stock over last year's GDP, as
        # every later year compares this year's stock with last year's GDP
        prior = self.data.prior_growth
        gdp_before = self.state.gdp / (1.0 + (national_real_growth(self.data.year) if prior is None else prior))
        self.knowledge_previous = np.maximum(self.knowledge_stock()[1], 1e-12) / gdp_before[:, None]
        self.knowledge_weights = knowledge_weights(by_field, output, ec.field_returns)
        self.talent_push = self.group_mask(cfg.investment.talent_push) * cfg.investment.talent_push_size

        # ---- agents and strategies
        self.central_claims = np.zeros(n)
        with collector_paused():
            self.provinces = [Province(self, i, data.names[i], data.capitals[i], int(data.region[i]),
                                       bool(data.coastal[i])) for i in range(n)]
        self._segments_dirty = False
        for province, name in zip(self.provinces, self.resolve_assignment(), strict=True):
            province.adopt(make_strategy(name, self))
        self.assign_segments_if_needed()
        self.endorsed: str | None = None
        self.events = EventSchedule(self, cfg.events)
        self.growth_reference = self.gdp_per_capita.copy()

        # ---- recording
        self.start_recording(datacollector)

    # ------------------------------------------------------------------ assignment
    def group_mask(self, names: list[str]) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for name in names:
            mask |= self.group_members(name)
        return mask

    def megacity_mask(self) -> np.ndarray:
        """The regions that ``megacity`` concentrates central money on: the named cities, or for
        synthetic regions (which have no such names) the three largest economies."""
        names = self.scenario.strategy.megacity.cities
        if all(name in self.province_names for name in names):
            return self.group_mask(names)
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
        cfg = self.scenario.strategies
        chosen = [cfg.default] * self.n
        placebo = set(cfg.placebo_of)
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
        return [placebo_name(name) if name in placebo else name for name in chosen]

    def strategies_changed(self) -> None:
        """A province adopted another strategy: regroup the provinces (:attr:`roles`) when next needed."""
        self._roles = None

    @property
    def roles(self) -> StrategyRoles:
        """The provinces grouped by what their strategies do (see :class:`StrategyRoles`)."""
        if getattr(self, "_roles", None) is None:
            self._roles = StrategyRoles.of(self.provinces)
        return self._roles

    def request_segment_assignment(self) -> None:
        """Ask for consumer-niche segments to be (re)assigned before the next spending."""
        self._segments_dirty = True

    def assign_segments_if_needed(self) -> None:
        if self._segments_dirty:
            niche = [p for p in self.provinces if isinstance(p.strategy, ConsumerNiche)]
            assign_segments(niche, self)
            self._segments_dirty = False

    # ------------------------------------------------------------------ helpers used by strategies and events
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

    def record_foreign_money(self, province: int, amount: float) -> None:
        """Record money that foreign investors put into a province this year, CNY bn."""
        self.state.foreign_money[province] += amount

    # ------------------------------------------------------------------ derived values
    @property
    def gdp_per_capita(self) -> np.ndarray:
        """GDP per person at this year's prices (income), CNY."""
        return 1000.0 * self.state.gdp / self.state.population

    @property
    def real_gdp_per_capita(self) -> np.ndarray:
        """GDP per person at base-year prices (volume), CNY."""
        return 1000.0 * self.state.gdp_real / self.state.population

    @property
    def income_level(self) -> float:
        """National real GDP per person relative to 2012 (the reference of base productivity growth)."""
        state = self.state
        now = state.gdp_real_national / state.population.sum()
        return self.income_level0 * float(now / (self.gdp_national0 / self.population0.sum()))

    @property
    def economy_scale(self) -> float:
        """National GDP (nominal) this year relative to the base year: fixed CNY amounts grow with it."""
        return float(self.state.gdp.sum() / self.gdp_national0)

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
        self.allocate_budgets()  # 2
        self.spend_budgets()  # 3
        self.produce_research()  # 4
        self.place_graduates()  # 5
        self.grow_knowledge()  # 6
        self.produce()  # 7
        self.move_population()  # 8
        for province in self.roles.reacting:  # the other strategies do nothing after the year
            province.strategy.after_year(province)
        if self.scenario.imitation.enabled and (self.year - self.start_year) % self.scenario.imitation.period == 0:
            review_strategies(self)  # 9
        self.record_year()  # 10
        if self.datacollector is not None:
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


def _seed_entropy(seed: Any) -> int:
    """``seed`` as SeedSequence entropy: a non-negative int (Python or numpy integer)."""
    import operator

    try:
        value = operator.index(seed)
    except TypeError:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}") from None
    if value < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return value


def _resolve_scenario(scenario: Scenario | str | dict | None, overrides, params: dict[str, Any]) -> Scenario:
    """The scenario a model runs: from a Scenario, a file, a dict or the defaults, then ``overrides``
    (``--set`` text) and ``params`` (Mesa-style keywords, Python or numpy values) set as values."""
    if isinstance(scenario, Scenario):
        base = scenario
    elif isinstance(scenario, dict):
        base = validate_scenario(scenario, "scenario")
    else:
        base = load_scenario(scenario, list(overrides))
        overrides = ()
    base = with_overrides(base, list(overrides))
    if params:
        base = base.with_values({key.replace("__", "."): value for key, value in params.items()}, "keyword arguments")
    return base
