"""The scenario schema: every section of a scenario file as a validated pydantic model.

Each field carries its default, its allowed range and, in its docstring, its meaning and unit; the
basis of each value is in docs/ODD.md and docs/parameters.md is generated from these classes.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.vocabulary import FIELDS, SECTORS, STRATEGY_NAMES

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Year = Annotated[int, Field(ge=1990, le=2200)]
Weight = Annotated[float, Field(ge=0.0, le=100.0)]
"""A weight in a utility (graduates' choice): 0 to 100."""
Pull = Annotated[float, Field(gt=0.0, le=100.0)]
"""A positive attractiveness factor, at most 100."""
FieldName = Literal[FIELDS]  # type: ignore[valid-type]
SectorName = Literal[SECTORS]  # type: ignore[valid-type]
StrategyName = Literal[STRATEGY_NAMES]  # type: ignore[valid-type]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, use_attribute_docstrings=True, allow_inf_nan=False)


class RunConfig(_Section):
    """``[run]``: what is simulated and for how long."""

    start_year: Year = 2022
    """First simulated year: the provinces start from the data of this year (2010-2022 for China)."""
    end_year: Year = 2050
    """Last simulated year."""
    seed: Annotated[int, Field(ge=0)] = 20220101
    """Root seed of the run's random numbers (a batch spawns one child seed per run)."""
    provinces: str = "china"
    """``"china"`` (the 31 provinces from the shipped tables) or ``"synthetic:N"``."""

    @field_validator("provinces")
    @classmethod
    def _provinces_form(cls, value: str) -> str:
        if value == "china":
            return value
        match = re.fullmatch(r"synthetic:(\d+)", value)
        if not match or not 2 <= int(match.group(1)) <= 100_000:
            raise ValueError('expected "china" or "synthetic:N" with N from 2 to 100000')
        return value

    @model_validator(mode="after")
    def _years_in_order(self) -> RunConfig:
        if self.end_year <= self.start_year:
            raise ValueError(f"end_year ({self.end_year}) must be after start_year ({self.start_year})")
        if self.provinces == "china" and not 2010 <= self.start_year <= 2022:
            raise ValueError(f"start_year {self.start_year} has no province data: choose 2010 to 2022")
        return self

    @property
    def synthetic_regions(self) -> int | None:
        """Number of synthetic regions, or None for the 31 provinces."""
        return None if self.provinces == "china" else int(self.provinces.split(":")[1])


def _table(names: tuple[str, ...], what: str, low: float | None = None, high: float = float("inf")):
    """A validator factory: the table must name every one of ``names`` with a finite value > 0
    (from ``low`` to ``high`` when given)."""

    def check(value: dict[str, float]) -> dict[str, float]:
        missing = [n for n in names if n not in value]
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"unknown {what} {unknown[0]!r}; allowed: {', '.join(names)}")
        if missing:
            raise ValueError(f"needs a value for every {what}; missing: {', '.join(missing)}")
        bad = [k for k, v in value.items() if not (v > 0 and v < float("inf"))]
        if bad:
            raise ValueError(f"{bad[0]}: expected a finite number > 0, got {value[bad[0]]!r}")
        if low is not None or high < float("inf"):
            bad = [k for k, v in value.items() if not ((low is None or v >= low) and v <= high)]
            if bad:
                raise ValueError(f"{bad[0]}: expected a number from {low if low is not None else 0} to {high}, "
                                 f"got {value[bad[0]]!r}")
        return {n: float(value[n]) for n in names}

    return check


class StructureConfig(_Section):
    """``[structure]``: the base-year structure of the economy and of research (docs/ODD.md, Initialisation)."""

    sector_shares: dict[str, float] = {
        "agriculture": 0.0746, "traditional_industry": 0.2080, "advanced_manufacturing": 0.0851,
        "ev_batteries": 0.0142, "green_energy": 0.0189, "ict_consumer": 0.0473, "biotech": 0.0142,
        "real_estate": 0.0714, "services": 0.4663,
    }
    """Shares of national GDP by sector at the base year (sum to 1): agriculture, real estate, services and the industry-and-construction block from NBS value added 2019 (sector_structure.csv); the split of that block over its six sectors is assumed (docs/ODD.md). Each share from 0.001 to 1."""
    capital_output_ratio: dict[str, float] = {
        "agriculture": 2.0, "traditional_industry": 2.8, "advanced_manufacturing": 2.6, "ev_batteries": 2.6,
        "green_energy": 4.5, "ict_consumer": 2.2, "biotech": 2.4, "real_estate": 6.0, "services": 2.6,
    }
    """Capital stock per unit of output by sector at the base year (each from 0.1 to 20)."""
    field_shares: dict[str, float] = {
        "agriculture": 0.0367, "advanced_manufacturing": 0.1013, "ev_batteries": 0.0032, "green_energy": 0.0670,
        "ict_consumer": 0.0977, "biotech": 0.3235,
    }
    """Relative shares of national research capacity by field at the base year (normalised to sum to 1): China's SCI papers by discipline 2018, mapped to fields (research_fields.csv)."""
    skill_intensity: dict[str, float] = {
        "agriculture": 0.02, "traditional_industry": 0.10, "advanced_manufacturing": 0.35, "ev_batteries": 0.40,
        "green_energy": 0.30, "ict_consumer": 0.45, "biotech": 0.50, "real_estate": 0.15, "services": 0.25,
    }
    """Skilled jobs per unit of output by sector (relative weights; graduates' openings)."""
    high_tech_intensity_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = 0.7
    """Elasticity of a province's high-tech sector shares to its relative R&D intensity at the base year."""
    agriculture_income_elasticity: Annotated[float, Field(ge=-3.0, le=0.0)] = -0.8
    """Elasticity of a province's agriculture share to its relative GDP per capita at the base year."""
    university_share: Fraction = 0.37
    """Share of a province's research capacity that feeds every field alike (multidisciplinary): SCI papers 2018 in disciplines that feed no one sector (research_fields.csv, ``general``)."""
    skilled_share: Annotated[float, Field(gt=0.0, lt=0.6)] = 0.22
    """Share of the national workforce with higher education at the base year."""
    skilled_income_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = 0.7
    """Elasticity of a province's skilled share to its relative GDP per capita at the base year."""
    max_initial_skilled_share: Annotated[float, Field(gt=0.0, le=0.95)] = 0.6
    """Upper bound of a province's skilled share at the base year."""

    @field_validator("sector_shares")
    @classmethod
    def _sector_shares(cls, value: dict[str, float]) -> dict[str, float]:
        value = _table(SECTORS, "sector", low=0.001, high=1.0)(value)
        total = sum(value.values())
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"sector shares must sum to 1 (within 0.01), got {total:.4f}")
        return value

    @field_validator("capital_output_ratio")
    @classmethod
    def _capital_output(cls, value: dict[str, float]) -> dict[str, float]:
        return _table(SECTORS, "sector", low=0.1, high=20.0)(value)

    @field_validator("skill_intensity")
    @classmethod
    def _per_sector(cls, value: dict[str, float]) -> dict[str, float]:
        return _table(SECTORS, "sector")(value)

    @field_validator("field_shares")
    @classmethod
    def _per_field(cls, value: dict[str, float]) -> dict[str, float]:
        return _table(FIELDS, "field")(value)



class InvestmentConfig(_Section):
    """``[investment]``: the national science budget and how the centre allocates its part."""

    rd_intensity_target: Annotated[float, Field(ge=0.1, le=10.0)] = 3.2
    """National R&D spending, % of GDP, reached in ``target_year`` (2.54 % observed in 2022)."""
    target_year: Year = 2035
    """Year in which the national R&D intensity reaches ``rd_intensity_target`` (linear path; constant after)."""
    central_share: Fraction = 0.15
    """Share of the national budget that the centre allocates (the rest is provincial spending)."""
    central_allocation: Literal["observed", "per_capita", "merit", "need", "targeted"] = "observed"
    """How the centre allocates its pool: base-year shares, by population, by research output, by need (population x relative poverty), or to ``targeted_provinces``."""
    targeted_provinces: list[str] = []
    """Provinces that share the central budget when ``central_allocation = "targeted"``."""
    observed_rd: bool = False
    """Drive provincial R&D with the observed series while the history table has it (hindcast)."""
    education_spending_growth: Annotated[float, Field(ge=-0.2, le=0.5)] = 0.006326
    """Trend growth of higher-education places everywhere beyond population and research capacity, fraction a year; the median of the shipped posterior (sim/data/posterior.csv)."""
    talent_push: list[str] = []
    """Provinces or groups whose higher-education capacity gets ``talent_push_size`` extra."""
    talent_push_size: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    """Extra graduates as a multiple of the base-year graduates of the pushed provinces."""
    graduate_place_cost_cny_bn_per_k: Annotated[float, Field(gt=0.0, le=100.0)] = 0.12
    """Cost of one thousand extra graduates a year (four years of places), CNY bn."""
    education_depreciation: Fraction = 0.05
    """Yearly loss of the extra higher-education places that strategies pay for."""


class EconomyConfig(_Section):
    """``[economy]``: production, investment and productivity growth."""

    capital_share: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.4
    """Output elasticity of capital, a (China's labour share of GDP is about 0.5-0.6)."""
    savings_rate: Annotated[float, Field(ge=0.05, le=1.0)] = 0.40
    """Share of income invested each year (gross capital formation is about 42 % of China's GDP)."""
    depreciation: Annotated[float, Field(ge=0.0, le=0.3)] = 0.06
    """Yearly depreciation of physical capital."""
    base_tfp_growth: Annotated[float, Field(ge=-0.05, le=0.05)] = 0.03547
    """Yearly productivity growth every sector gets at the 2012 level of national income, g0; the median of the shipped posterior (sim/data/posterior.csv)."""
    tfp_income_elasticity: Annotated[float, Field(ge=0.0, le=10.0)] = 3.115
    """Convergence: base productivity growth falls with national real income per person, g0 (y_2012 / y)^lambda (lambda; a negative g0 is not scaled); the median of the shipped posterior (sim/data/posterior.csv)."""
    knowledge_effect: Annotated[float, Field(ge=0.0, le=1.0)] = 0.4091
    """Elasticity of productivity to the knowledge intensity (stock over GDP) a sector draws on, gamma (output-weighted mean over the field sectors); the median of the shipped posterior (sim/data/posterior.csv)."""
    max_knowledge_elasticity: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    """Upper bound of a sector's elasticity of productivity to knowledge intensity after field weights, transfer and absorptive capacity (at most proportional: a doubling of knowledge intensity at most doubles productivity)."""
    catch_up_rate: Annotated[float, Field(ge=0.0, le=0.2)] = 0.03201
    """Yearly closing of the log gap to the sector's most productive province, kappa; the median of the shipped posterior (sim/data/posterior.csv)."""
    absorptive_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = 0.5
    """Elasticity of absorptive capacity to the relative skilled share."""
    skill_premium: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """psi in the human-capital index exp(psi * skilled share)."""
    investment_responsiveness: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """How strongly investment moves to sectors with higher returns, eta (0 keeps the sector mix)."""
    spillover_share: Fraction = 0.3
    """Weight of a neighbour's research capacity at zero distance in the knowledge it spills over."""
    spillover_distance_km: Annotated[float, Field(ge=1.0, le=100_000.0)] = 600.0
    """Distance over which spillovers fall by a factor e (longer with connectivity)."""
    connectivity: Annotated[float, Field(ge=0.01, le=10.0)] = 1.0
    """Connectivity of every province at the start (1 = base year; infrastructure events raise it)."""
    consumer_demand_elasticity: Annotated[float, Field(ge=1.0, le=20.0)] = 1.5
    """Price elasticity of national demand in consumer segments (crowding when finite)."""
    income_elasticity: Annotated[float, Field(ge=0.0, le=1.5)] = 1.2
    """Growth of consumer-segment demand per unit growth of national income."""
    openness: Fraction = 1.0
    """Global openness to multinational R&D (1 = as in the base year)."""
    science_from_investment: bool = True
    """Science spending (R&D is part of gross capital formation), the centre's pool and strategy instruments are paid out of physical investment."""
    field_returns: Literal["equal_marginal", "uniform"] = "equal_marginal"
    """``equal_marginal``: one more yuan of research raises national output equally in every field at the base year; ``uniform``: the same knowledge effect in every sector (a field's return then scales with its sector's output over its research)."""


class ResearchConfig(_Section):
    """``[research]``: institutes, research output and graduates."""

    depreciation: Annotated[float, Field(ge=0.0, le=0.95)] = 0.12
    """Yearly depreciation of institutes' capacity."""
    capacity_growth: Annotated[float, Field(ge=0.0, le=0.5)] = 0.08
    """Growth of R&D spending before the base year, used to size the base-year capacity stock."""
    returns_to_scale: Annotated[float, Field(gt=0.0, le=1.5)] = 0.85
    """Elasticity of research output to a province's research capacity, b (diminishing when < 1)."""
    agglomeration: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    """Extra output elasticity for provinces above the mean capacity, g."""
    breakthrough_chance: Annotated[float, Field(ge=0.0, le=0.2)] = 0.02
    """Yearly chance of a breakthrough in a field for the province holding the most capacity."""
    breakthrough_jump: Annotated[float, Field(ge=0.0, le=0.5)] = 0.05
    """Productivity jump in the matching sector when a breakthrough happens."""
    efficiency_growth: Annotated[float, Field(ge=-0.1, le=0.3)] = 0.06179
    """Yearly growth of papers per unit of research capacity everywhere (publication practice, international indexing); the median of the shipped posterior (sim/data/posterior.csv)."""
    graduate_capacity_elasticity: Annotated[float, Field(ge=0.0, le=2.0)] = 0.175
    """Elasticity of a province's graduates (higher-education places) to the research capacity it hosts, epsilon; the median of the shipped posterior (sim/data/posterior.csv)."""

    @model_validator(mode="after")
    def _capacity_can_be_sized(self) -> ResearchConfig:
        if self.depreciation + self.capacity_growth < 0.01:
            raise ValueError(f"depreciation + capacity_growth ({self.depreciation} + {self.capacity_growth}) must be "
                             "at least 0.01: the base-year research capacity is R&D spending over their sum")
        return self


class MigrationConfig(_Section):
    """``[migration]``: graduates' choice of where to work, and general migration."""

    graduate_mobility: Fraction = 0.35
    """Share of new graduates who look beyond their home province (0 = all stay home)."""
    wage_weight: Weight = 1.0
    """Weight of the log wage (GDP per worker) relative to the mean in graduates' choice."""
    jobs_weight: Weight = 1.5
    """Weight of matching skilled openings per skilled worker already there."""
    size_weight: Weight = 1.0
    """Weight of the log number of skilled openings (bigger labour markets draw more)."""
    distance_cost: Weight = 0.8
    """Utility cost per 1,000 km (divided by connectivity)."""
    home_bias: Weight = 1.0
    """Extra utility of the home province among movers (hukou friction)."""
    population_migration_rate: Annotated[float, Field(ge=0.0, le=0.05)] = 0.005043
    """Net migration per unit of log income gap, a year; the median of the shipped posterior (sim/data/posterior.csv)."""
    population_path: Literal["observed_un", "constant"] = "observed_un"
    """National population growth: ``observed_un`` follows the observed growth (history table) and then the UN WPP 2024 medium outlook; ``constant`` uses ``natural_growth`` every year."""
    natural_growth: Annotated[float, Field(ge=-0.05, le=0.05)] = -0.0006
    """Yearly natural change of population with ``population_path = "constant"`` (NBS 2022: -0.06 %)."""
    participation: Annotated[float, Field(ge=0.1, le=1.0)] = 0.62
    """Workers per resident."""
    skilled_retirement: Fraction = 0.025
    """Yearly share of skilled workers who retire (a 40-year career)."""
    max_skilled_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    """Upper bound of a province's skilled workers per worker."""
    neighbours: Annotated[int, Field(ge=2, le=1000)] = 48
    """Destinations and spillover sources per region (all of them when there are fewer)."""




class StrategiesConfig(_Section):
    """``[strategies]``: a default strategy and assignments by province name or group."""

    default: StrategyName = "baseline"
    """Strategy of every province not assigned otherwise."""
    placebo_of: list[StrategyName] = []  # type: ignore[valid-type]
    """Strategies whose provinces run their placebo instead: the same money, spent as business as usual."""
    assign: dict[str, StrategyName] = {}
    """Province or group name -> strategy, e.g. ``{ Anhui = "hefei", west = "cas_branch" }``."""
    baseline: list[str] = []
    """Provinces or groups running ``baseline`` (the same for the other strategy names below)."""
    hefei: list[str] = []
    """Provinces or groups running ``hefei``."""
    cas_branch: list[str] = []
    """Provinces or groups running ``cas_branch``."""
    foreign_multinational: list[str] = []
    """Provinces or groups running ``foreign_multinational``."""
    consumer_niche: list[str] = []
    """Provinces or groups running ``consumer_niche``."""
    megacity: list[str] = []
    """Provinces or groups running ``megacity``."""

    def assignments(self) -> list[tuple[str, str, str]]:
        """Every (name, strategy, key path) pair, from ``assign`` and the per-strategy lists."""
        pairs = [(name, strategy, f"strategies.assign.{name}") for name, strategy in self.assign.items()]
        for strategy in STRATEGY_NAMES:
            pairs += [(name, strategy, f"strategies.{strategy}") for name in getattr(self, strategy)]
        return pairs


class ImitationConfig(_Section):
    """``[imitation]``: Five-Year-Plan reviews where provinces copy a better peer's strategy."""

    enabled: bool = False
    """Review strategies every ``period`` years and copy better peers."""
    period: Annotated[int, Field(ge=1, le=50)] = 5
    """Years between reviews (a Five-Year Plan)."""
    intensity: Annotated[float, Field(ge=0.0, le=1000.0)] = 150.0
    """Fermi-rule selection intensity per unit of annual growth difference."""
    peers: Literal["neighbour", "random"] = "neighbour"
    """Peer chosen among the ``neighbour_peers`` nearest provinces, or among all."""
    neighbour_peers: Annotated[int, Field(ge=1, le=1000)] = 5
    """How many nearest provinces a ``neighbour`` peer is drawn from."""
    endorsement: bool = False
    """The fastest grower's strategy gets more central money until the next review."""
    endorsement_boost: Annotated[float, Field(ge=0.0, le=5.0)] = 0.5
    """Extra weight of the endorsed strategy's adopters in the central allocation."""

