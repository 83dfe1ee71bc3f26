"""The yearly processes of the model, steps 2-8 of docs/ODD.md ("Process overview").

:class:`YearlyProcesses` is a base class of :class:`~sim.model.model.RegionalGrowthModel`: each
method is one process over the model's arrays (budgets, spending, research, graduates, knowledge,
production, population) and the helpers they share. The maths is in :mod:`sim.model.economy`.
"""

from __future__ import annotations

import math

import numpy as np

import sim.model.economy as economy
from sim.data.national import national_population_growth
from sim.errors import ModelInvariantError
from sim.vocabulary import FIELD_INDEX, FIELD_SECTOR, FIELDS, KIND_INDEX, SECTORS


class YearlyProcesses:
    """The processes of one year; mixed into the model, which holds ``state``, ``scenario`` and ``rng``."""

    def central_weights(self) -> np.ndarray:
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
            weights = self.group_mask(inv.targeted_provinces).astype(float)
        weights = weights / weights.sum()
        if self.endorsed is not None:
            adopters = np.array([name == self.endorsed for name in self.roles.names])
            weights = weights * np.where(adopters, 1.0 + self.scenario.imitation.endorsement_boost, 1.0)
            weights /= weights.sum()
        if "megacity" in self.roles.names:
            mc = self.scenario.strategy.megacity
            cities = self.megacities.astype(float)
            weights = (1 - mc.concentration) * weights + mc.concentration * cities / cities.sum()
        return weights

    def allocate_budgets(self) -> None:
        state = self.state
        inv = self.scenario.investment
        intensity = self.national_intensity(self.year)
        gdp_total = state.gdp.sum()
        observed = self.data.observed_rd.get(self.year) if inv.observed_rd else None
        if observed is not None:
            provincial = (1 - inv.central_share) * observed
            pool = inv.central_share * observed.sum()
        else:
            national = intensity * gdp_total
            own = self.rd_intensity0 * state.gdp  # each province's own intensity of its own GDP
            provincial = (1 - inv.central_share) * national * own / own.sum()
            pool = inv.central_share * national
        # who pays: each province its own part; the centre's pool from every province by GDP
        state.reset_costs(self.n)
        state.own_science = provincial.copy()
        state.central_tax = pool * state.gdp / gdp_total
        # strategies that are matched by the centre claim their share of the pool first; the
        # rest is allocated by the rule, so the national budget stays the same
        claims = np.zeros(self.n)
        for province in self.roles.claiming:  # the other strategies claim nothing
            claims[province.index] = province.strategy.central_claim(province, float(provincial[province.index]))
        total_claims = claims.sum()
        if total_claims > pool:
            claims *= pool / total_claims
        state.central = claims + (pool - claims.sum()) * self.central_weights()
        state.budget = provincial + state.central
        self.central_claims = claims  # what each province's budget holds of matched central money

    def spend_budgets(self) -> None:
        state = self.state
        registry = self.registry
        self.assign_segments_if_needed()
        n_inst = registry.count
        registry.capacity[:n_inst] *= 1.0 - self.scenario.research.depreciation
        order = self.rng.permutation(self.n)
        # a province spending as business as usual puts its whole budget into its existing institutes
        # (no other effect, whatever the order); the others plan, in the drawn order
        planning = self.roles.planning
        existing = np.where(planning, 0.0, state.budget)
        spent = existing.copy()
        for i in order[planning[order]]:
            province = self.provinces[i]
            plan = province.plan_spending()
            total = plan.science()
            if total > province.budget_cny_bn * (1 + 1e-9) + 1e-12:
                raise ModelInvariantError(f"{self.year} {province.name}: plan spends {total} of "
                                          f"{province.budget_cny_bn}")
            spent[i] = total
            existing[i] = plan.existing + plan.extra_existing
            state.instruments[i] = plan.instruments()
            state.proceeds[i] = plan.proceeds
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
                place_cost = self.scenario.investment.graduate_place_cost_cny_bn_per_k
                state.education_capacity[i] += plan.education / place_cost
        # pro-rata funding of existing institutes
        n_inst = registry.count
        hosts = registry.host[:n_inst]
        caps = registry.capacity[:n_inst]
        host_total = np.bincount(hosts, weights=caps, minlength=self.n)
        share = economy.divide_positive(existing, host_total, 0.0)
        registry.capacity[:n_inst] += caps * share[hosts]
        state.spent = spent
        self.pay_from_investment()

    def pay_from_investment(self) -> None:
        """Take this year's costs out of the investment about to be installed (docs/ODD.md, "Costs").

        Science (R&D is part of gross capital formation), the province's share of the centre's
        pool and the strategy's instruments, less the proceeds of stakes sold, reduce the
        province's physical investment, sector by sector in proportion; what investment cannot
        cover is consumption given up. Equity bought by an instrument is capital in its sector
        already (added by the spending step).
        """
        state = self.state
        due = state.central_tax + state.instruments - state.proceeds
        if self.scenario.economy.science_from_investment:
            due = due + state.own_science
        available = state.investment.sum(axis=1)
        cut = np.minimum(due, available)  # what np.clip(due, None, available) computes
        state.investment *= economy.divide_positive(available - cut, available, 0.0)[:, None]
        state.investment_cut = cut
        state.consumption_cut = np.maximum(due - cut, 0.0)

    def produce_research(self) -> None:
        state = self.state
        rc = self.scenario.research
        state.research_by_field = self.registry.by_province_field(self.n)
        total = state.research_by_field.sum(axis=1)
        efficiency = self.paper_efficiency * (1.0 + rc.efficiency_growth) ** (self.year - self.start_year)
        state.papers = economy.research_output(total, efficiency, rc.returns_to_scale,
                                               rc.agglomeration, self.reference_capacity)

    def place_graduates(self) -> None:
        state = self.state
        cfg = self.scenario
        years = self.year - self.start_year
        state.education_capacity *= 1.0 - cfg.investment.education_depreciation
        growth = math.exp(cfg.investment.education_spending_growth * years)
        # places follow population, the trend of education spending and the research capacity the
        # province hosts (universities and institutes), with elasticity epsilon
        capacity = state.research_by_field.sum(axis=1)
        hosted = economy.divide_positive(capacity, self.capacity0, 1.0)
        places = hosted ** cfg.research.graduate_capacity_elasticity
        state.graduates = (self.graduates0 * (state.population / self.population0) * growth * places
                           * (1.0 + self.talent_push) + state.education_capacity)
        mig = cfg.migration
        arrivals, stayers = economy.graduate_flows(state.graduates, self.attraction() + self.amenity,
                                                   self.neighbours, self.distance_km, self.pair_connectivity(),
                                                   mig.graduate_mobility, mig.distance_cost, mig.home_bias,
                                                   distance_term=self._connectivity_terms()["graduate_distance"])
        state.graduate_arrivals = arrivals
        state.graduate_stayers = stayers
        state.skilled = state.skilled * (1.0 - mig.skilled_retirement) + arrivals / 1000.0
        np.minimum(state.skilled, self.scenario.migration.max_skilled_share * state.workers, out=state.skilled)

    def pair_connectivity(self) -> np.ndarray:
        """Connectivity of each region and neighbour pair, (N, k): the geometric mean of the two.

        It changes only when an event raises connectivity, so it is kept with what is derived from
        it (the distance terms of graduates' choice and of spillovers) until connectivity changes.
        """
        return self._connectivity_terms()["pair"]

    def _connectivity_terms(self) -> dict[str, np.ndarray]:
        cached = getattr(self, "_connectivity_cache", None)
        if cached is not None and cached["year"] == self.year:  # checked this year: events, which fire
            return cached  # first in the year, are what changes connectivity
        conn = self.state.connectivity
        if cached is not None and (cached["connectivity"] == conn).all():
            cached["year"] = self.year
            return cached
        pair = np.sqrt(conn[:, None] * conn[self.neighbours])
        ec, mig = self.scenario.economy, self.scenario.migration
        self._connectivity_cache = cached = {
            "connectivity": conn.copy(), "year": self.year, "pair": pair,
            "graduate_distance": economy.graduate_distance_cost(self.distance_km, pair, mig.distance_cost),
            "spillover_weights": economy.spillover_weights(self.distance_km, ec.spillover_share,
                                                           ec.spillover_distance_km * pair),
        }
        return cached

    def attraction(self) -> np.ndarray:
        """What draws graduates to each region, before its calibrated amenity: wages, matching
        skilled openings per skilled worker already there, and the number of openings."""
        state = self.state
        mig = self.scenario.migration
        per_worker = state.gdp / state.workers
        openings = state.sector_output @ self.skill_intensity
        jobs = openings / np.maximum(state.skilled, 1e-9)
        n = self.n  # x.sum() / n is x.mean(), the same number, without numpy's mean machinery
        return (mig.wage_weight * np.log(per_worker / (per_worker.sum() / n))
                + mig.jobs_weight * np.log(jobs / (jobs.sum() / n))
                + mig.size_weight * np.log(openings / (openings.sum() / n)))

    def calibrate_amenity(self, iterations: int = 200) -> np.ndarray:
        """Amenity per region that makes base-year mobile graduates arrive in proportion to the
        skilled workforce (so that, with nothing changed, skilled shares keep their pattern)."""
        state = self.state
        mig = self.scenario.migration
        amenity = np.zeros(self.n)
        if mig.graduate_mobility == 0:
            return amenity
        target = mig.graduate_mobility * state.graduates.sum() * state.skilled / state.skilled.sum()
        base = self.attraction()
        distance_term = self._connectivity_terms()["graduate_distance"]
        stay = (1.0 - mig.graduate_mobility) * state.graduates
        # the arrivals of economy.graduate_flows, with what does not change from one iteration to the next
        # computed once
        mobile = (mig.graduate_mobility * state.graduates)[:, None]
        destinations, n = self.neighbours.ravel(), self.n
        for _ in range(iterations):
            flows = economy.mover_flows(base + amenity, self.neighbours, distance_term, mig.home_bias, mobile)
            arrivals = np.bincount(destinations, weights=flows.ravel(), minlength=n)
            arrivals += stay
            movers = np.maximum(arrivals - stay, 1e-12)
            step = np.log(target / movers)
            amenity = np.clip(amenity + step, -20.0, 20.0)
            if np.abs(step).max() < 1e-6:
                break
        return amenity - amenity.mean()

    def knowledge_stock(self) -> tuple[np.ndarray, np.ndarray]:
        """Own research capacity per field (N, F) and the knowledge stock each sector draws on (N, S):
        own plus spilled-over capacity in the sector's field (the mean over fields for sectors
        without one). Productivity responds to the stock relative to the province's GDP (its
        knowledge intensity), see :func:`sim.model.economy.productivity_growth`."""
        state = self.state
        ec = self.scenario.economy
        f = len(FIELDS)
        own = state.research_by_field[:, :f] + state.research_by_field[:, f:] / f
        spill = economy.spillover_pool(own, self.neighbours, self.distance_km, ec.spillover_share,
                                       None, weights=self._connectivity_terms()["spillover_weights"])
        knowledge_field = own + spill
        knowledge = np.empty((len(own), len(SECTORS)))
        knowledge[:] = knowledge_field.sum(axis=1, keepdims=True) / f  # the mean
        knowledge[:, FIELD_SECTOR] = knowledge_field
        return own, knowledge

    def base_growth(self) -> float:
        """Base productivity growth this year: g0 (y_2012 / y)^lambda for a positive g0, which slows as
        national income rises; a negative g0 stays as it is (scaled by income it would fall without
        bound as income falls, and the run would collapse)."""
        ec = self.scenario.economy
        if ec.base_tfp_growth <= 0.0:
            return float(ec.base_tfp_growth)
        return ec.base_tfp_growth * self.income_level ** -ec.tfp_income_elasticity

    def grow_knowledge(self) -> None:
        state = self.state
        ec = self.scenario.economy
        rc = self.scenario.research
        own, knowledge = self.knowledge_stock()
        intensity = np.maximum(knowledge, 1e-12) / state.gdp[:, None]
        knowledge_growth = np.log(intensity / self.knowledge_previous)
        self.knowledge_previous = intensity
        share = state.skilled_share
        absorptive = (share / (state.skilled.sum() / state.workers.sum())) ** ec.absorptive_elasticity
        growth = economy.productivity_growth(state.productivity, knowledge_growth, state.transfer, absorptive,
                                             self.base_growth(),
                                             ec.knowledge_effect * self.knowledge_weights, ec.catch_up_rate,
                                             ec.max_knowledge_elasticity)
        state.productivity *= np.exp(growth)
        # breakthroughs: a field's yearly chance is shared among regions by their capacity in it
        capacity_share = own / np.maximum(own.sum(axis=0), 1e-12)
        hits = self.rng.random(own.shape) < rc.breakthrough_chance * capacity_share
        if hits.any():
            for i, fi in zip(*np.nonzero(hits), strict=True):
                state.productivity[i, FIELD_SECTOR[fi]] *= 1.0 + rc.breakthrough_jump
                self.log_event("breakthrough", int(i), f"breakthrough in {FIELDS[fi]} "
                               f"(productivity +{100 * rc.breakthrough_jump:.0f} %)")

    def allocate_investment(self, income: np.ndarray, effective: np.ndarray | None = None) -> np.ndarray:
        """Next year's investment per region and sector out of ``income`` (``effective``: E*N, when known)."""
        state = self.state
        ec = self.scenario.economy
        if effective is None:
            effective = state.workers * economy.human_capital_index(state.skilled_share, ec.skill_premium)
        returns = economy.sector_output(state.productivity, np.ones_like(state.capital), effective, state.price,
                                        ec.capital_share)
        # sector_output with unit capital gives p A (E N)^(1-a); rescale by the region's capital
        returns = returns / (state.capital.sum(axis=1, keepdims=True) ** (1.0 - ec.capital_share)) * (
            len(SECTORS) ** (1.0 - ec.capital_share))
        return economy.allocate_investment(ec.savings_rate * income, state.capital, returns,
                                           ec.investment_responsiveness)

    def produce(self) -> None:
        state = self.state
        ec = self.scenario.economy
        state.capital *= 1.0 - ec.depreciation
        state.capital += state.investment
        state.installed = state.investment.sum(axis=1)
        state.foreign_capital *= 1.0 - ec.depreciation
        effective = state.workers * economy.human_capital_index(state.skilled_share, ec.skill_premium)
        supply = economy.sector_output(state.productivity, state.capital, effective, self.unit_price,
                                       ec.capital_share)
        national_supply = supply.sum(axis=0)
        # real GDP: a chained volume index (last year's prices weight this year's quantities), in
        # base-year yuan; a fixed-price index would let a sector whose price keeps falling dominate
        last_price = state.price
        previous = state.real_output
        growth = (supply @ last_price) / np.maximum(previous @ last_price, 1e-300)
        national_growth = (national_supply @ last_price) / max(previous.sum(axis=0) @ last_price, 1e-300)
        state.gdp_real = state.gdp_real * growth
        state.gdp_real_national = state.gdp_real_national * national_growth
        state.real_output = supply  # quantities (base-year prices are 1)
        income = state.gdp.sum()
        demand = self.demand0 * (income / self.gdp_national0) ** ec.income_elasticity * state.demand_shift
        unconstrained = self.unconstrained
        demand[unconstrained] = 0.0
        economy.limit_to_income(demand, income)  # budget shares cannot pass the whole income
        demand[unconstrained] = 1.0
        state.price = economy.market_prices(demand, national_supply, self.demand_elasticity, self.price_exponent)
        state.price[unconstrained] = 1.0
        state.sector_output = supply * state.price
        state.gdp = state.sector_output.sum(axis=1)
        if state.foreign_capital.any():
            foreign_share = economy.divide_positive(state.foreign_capital, state.capital, 0.0)
            outflow_share = self.scenario.strategy.foreign_multinational.profit_outflow
            state.income_outflow = outflow_share * ec.capital_share * (state.sector_output * foreign_share).sum(axis=1)
        else:  # no foreign capital: no profit leaves
            state.income_outflow = np.zeros(self.n)
        state.investment = self.allocate_investment(state.gdp - state.income_outflow, effective)

    def move_population(self) -> None:
        state = self.state
        mig = self.scenario.migration
        synthetic = self.scenario.run.synthetic_regions is not None
        if mig.population_path == "constant" or synthetic:
            natural = mig.natural_growth
        else:
            natural = national_population_growth(self.year)
        state.population *= 1.0 + natural
        moves = economy.income_migration(state.population, self.gdp_per_capita, mig.population_migration_rate)
        state.population += moves
        state.net_migration = moves
        state.set_workers(mig.participation)
        np.minimum(state.skilled, self.scenario.migration.max_skilled_share * state.workers, out=state.skilled)
