"""Scenario files: loading TOML, ``extends`` chains, ``--set`` overrides and validation.

A scenario is a plain value: a validated :class:`Scenario` built from a TOML file (which may
``extends`` another file and override it) plus command-line overrides. The model takes a
:class:`Scenario`; nothing inside the model reads files.

Every error names the file (or the ``--set`` expression), the dotted key path and what is
allowed, as a :class:`~sim.errors.ScenarioError`.
"""

from __future__ import annotations

import copy
import difflib
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import ScenarioError
from sim.vocabulary import CONSUMER_SEGMENTS, FIELDS, GROUPS, SECTORS

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Year = Annotated[int, Field(ge=1990, le=2200)]
FieldName = Literal[FIELDS]  # type: ignore[valid-type]
SectorName = Literal[SECTORS]  # type: ignore[valid-type]
StrategyName = Literal["baseline", "hefei", "cas_branch", "foreign_multinational", "consumer_niche", "megacity"]
STRATEGY_NAMES: tuple[str, ...] = StrategyName.__args__  # type: ignore[attr-defined]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, use_attribute_docstrings=True)


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


class InvestmentConfig(_Section):
    """``[investment]``: the national science budget and how the centre allocates its part."""

    rd_intensity_target: Annotated[float, Field(ge=0.0, le=10.0)] = 3.2
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
    education_spending_growth: Annotated[float, Field(ge=-0.2, le=0.5)] = 0.0
    """Extra yearly growth of higher-education capacity everywhere (a talent push), fraction."""
    talent_push: list[str] = []
    """Provinces or groups whose higher-education capacity gets ``talent_push_size`` extra."""
    talent_push_size: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    """Extra graduates as a multiple of the base-year graduates of the pushed provinces."""


class EconomyConfig(_Section):
    """``[economy]``: production, investment and productivity growth."""

    capital_share: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.4
    """Output elasticity of capital, a (China's labour share of GDP is about 0.5-0.6)."""
    savings_rate: Fraction = 0.40
    """Share of income invested each year (gross capital formation is about 42 % of China's GDP)."""
    depreciation: Fraction = 0.06
    """Yearly depreciation of physical capital."""
    base_tfp_growth: Annotated[float, Field(ge=-0.1, le=0.1)] = 0.00876
    """Yearly productivity growth every sector gets, g0 (fitted on 2012-2016)."""
    knowledge_effect: Annotated[float, Field(ge=0.0, le=0.2)] = 0.008
    """Productivity growth from knowledge at the base-year reference intensity, mu."""
    catch_up_rate: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0196
    """Yearly closing of the log gap to the sector's most productive province, kappa (fitted on 2012-2016)."""
    absorptive_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = 0.5
    """Elasticity of absorptive capacity to the relative skilled share."""
    skill_premium: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """psi in the human-capital index exp(psi * skilled share)."""
    investment_responsiveness: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """How strongly investment moves to sectors with higher returns, eta (0 keeps the sector mix)."""
    spillover_share: Fraction = 0.3
    """Weight of a neighbour's research capacity at zero distance in the knowledge it spills over."""
    spillover_distance_km: Positive = 600.0
    """Distance over which spillovers fall by a factor e (longer with connectivity)."""
    connectivity: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    """Connectivity of every province at the start (1 = base year; infrastructure events raise it)."""
    consumer_demand_elasticity: Annotated[float, Field(gt=0.0, le=20.0)] = 1.5
    """Price elasticity of national demand in consumer segments (crowding when finite)."""
    income_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = 1.2
    """Growth of consumer-segment demand per unit growth of national income."""
    openness: Fraction = 1.0
    """Global openness to multinational R&D (1 = as in the base year)."""


class ResearchConfig(_Section):
    """``[research]``: institutes, research output and graduates."""

    depreciation: Fraction = 0.12
    """Yearly depreciation of institutes' capacity."""
    capacity_growth: Annotated[float, Field(ge=0.0, le=0.5)] = 0.08
    """Growth of R&D spending before the base year, used to size the base-year capacity stock."""
    returns_to_scale: Annotated[float, Field(gt=0.0, le=1.5)] = 0.85
    """Elasticity of research output to a province's research capacity, b (diminishing when < 1)."""
    agglomeration: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    """Extra output elasticity for provinces above the mean capacity, g."""
    breakthrough_chance: Fraction = 0.02
    """Yearly chance of a breakthrough in a field for the province holding the most capacity."""
    breakthrough_jump: Annotated[float, Field(ge=0.0, le=2.0)] = 0.05
    """Productivity jump in the matching sector when a breakthrough happens."""


class MigrationConfig(_Section):
    """``[migration]``: graduates' choice of where to work, and general migration."""

    graduate_mobility: Fraction = 0.35
    """Share of new graduates who look beyond their home province (0 = all stay home)."""
    wage_weight: NonNegative = 1.0
    """Weight of the log wage (GDP per worker) relative to the mean in graduates' choice."""
    jobs_weight: NonNegative = 1.5
    """Weight of matching skilled openings per skilled worker already there."""
    size_weight: NonNegative = 1.0
    """Weight of the log number of skilled openings (bigger labour markets draw more)."""
    distance_cost: NonNegative = 0.8
    """Utility cost per 1,000 km (divided by connectivity)."""
    home_bias: NonNegative = 1.0
    """Extra utility of the home province among movers (hukou friction)."""
    population_migration_rate: Annotated[float, Field(ge=0.0, le=0.2)] = 0.00562
    """Net migration per unit of log income gap, a year (fitted on 2012-2016)."""
    natural_growth: Annotated[float, Field(ge=-0.05, le=0.05)] = -0.0006
    """Yearly natural change of population (NBS 2022: -0.06 %)."""
    participation: Annotated[float, Field(gt=0.0, le=1.0)] = 0.62
    """Workers per resident."""
    skilled_retirement: Fraction = 0.025
    """Yearly share of skilled workers who retire (a 40-year career)."""
    neighbours: Annotated[int, Field(ge=2, le=1000)] = 48
    """Destinations and spillover sources per region (all of them when there are fewer)."""


class HefeiConfig(_Section):
    """``[strategy.hefei]``: flagship lab plus a provincial guidance fund."""

    field: Literal[("auto",) + FIELDS] = "auto"  # type: ignore[valid-type]
    """The flagship's field; ``auto`` picks the strategic field where the province is strongest relative to the nation, weighted by market size."""
    lab_share: Fraction = 0.45
    """Share of the science budget for the flagship national lab."""
    fund_share: Fraction = 0.35
    """Share of the budget the guidance fund invests as equity in the matching sector."""
    transfer: Annotated[float, Field(ge=0.0, le=10.0)] = 2.5
    """Lab-to-industry transfer multiplier in the matching sector."""
    fund_return: Annotated[float, Field(ge=0.0, le=1.0)] = 0.06
    """Yearly return on the fund's stake, recycled into the budget."""
    exit_rate: Fraction = 0.1
    """Share of the fund's stake sold on each year."""
    failure_rate: Fraction = 0.05
    """Yearly chance that the bet fails."""
    failure_loss: Fraction = 0.8
    """Share of the stake (and of the backed firms' know-how, by exposure) lost when it fails."""


class CasBranchConfig(_Section):
    """``[strategy.cas_branch]``: endowment-matched branch institutes paid mostly by the centre."""

    branch_share: Fraction = 0.5
    """Share of the province's own budget spent on its branch institutes."""
    central_match: Annotated[float, Field(ge=0.0, le=10.0)] = 1.5
    """Central yuan added per provincial yuan spent on branches (from the centre's pool)."""
    transfer: Annotated[float, Field(ge=0.0, le=10.0)] = 1.2
    """Transfer multiplier in the branches' sectors."""
    institutes: Annotated[int, Field(ge=1, le=6)] = 2
    """Number of endowment-matched fields (one branch each)."""


class ForeignMultinationalConfig(_Section):
    """``[strategy.foreign_multinational]``: an open zone that attracts multinational R&D labs."""

    incentive_share: Fraction = 0.3
    """Share of the budget spent on zone incentives (land, offices, tax breaks)."""
    arrival_rate: Fraction = 0.35
    """Yearly chance of a lab at average attractiveness and full openness."""
    lab_size: Positive = 2.0
    """Capacity of one multinational lab, CNY bn."""
    spillover: Annotated[float, Field(ge=0.0, le=10.0)] = 1.5
    """Transfer multiplier in a lab's sector."""
    profit_outflow: Fraction = 0.3
    """Share of foreign capital's profit that leaves the province."""
    sectors: list[SectorName] = ["biotech", "ict_consumer", "advanced_manufacturing"]  # type: ignore[valid-type]
    """Sectors multinational labs come in."""


class ConsumerNicheConfig(_Section):
    """``[strategy.consumer_niche]``: target a national consumer segment."""

    coordination: Literal["coordinated", "independent"] = "independent"
    """``independent``: every niche province chases the biggest segment; ``coordinated``: a planner spreads them by market size."""
    segment: Literal[("auto",) + CONSUMER_SEGMENTS] = "auto"  # type: ignore[valid-type]
    """The targeted segment; ``auto`` lets ``coordination`` decide."""
    equity_share: Fraction = 0.5
    """Share of the budget invested in the segment's firms (the rest funds research in the matching field)."""
    transfer: Annotated[float, Field(ge=0.0, le=10.0)] = 2.0
    """Transfer multiplier in the targeted sector."""


class MegacityConfig(_Section):
    """``[strategy.megacity]``: central science money concentrated in a few megacities."""

    cities: list[str] = ["Beijing", "Shanghai", "Guangdong"]
    """Provinces that get the concentrated central money (synthetic regions: the three largest economies)."""
    concentration: Fraction = 0.8
    """Share of the central budget that goes to ``cities``."""


class StrategyParameters(_Section):
    """``[strategy.<name>]`` tables."""

    hefei: HefeiConfig = HefeiConfig()
    cas_branch: CasBranchConfig = CasBranchConfig()
    foreign_multinational: ForeignMultinationalConfig = ForeignMultinationalConfig()
    consumer_niche: ConsumerNicheConfig = ConsumerNicheConfig()
    megacity: MegacityConfig = MegacityConfig()


class StrategiesConfig(_Section):
    """``[strategies]``: a default strategy and assignments by province name or group."""

    default: StrategyName = "baseline"
    """Strategy of every province not assigned otherwise."""
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
    """Peer chosen among the 5 nearest provinces, or among all."""
    endorsement: bool = False
    """The fastest grower's strategy gets more central money until the next review."""
    endorsement_boost: Annotated[float, Field(ge=0.0, le=5.0)] = 0.5
    """Extra weight of the endorsed strategy's adopters in the central allocation."""


class _Event(_Section):
    year: Year
    """Year the event fires."""


class FdiShock(_Event):
    type: Literal["fdi_shock"]
    """Event type."""
    """Event type."""
    openness: Fraction = 0.4
    """Global openness from ``year`` on (1 = base year)."""
    duration: Annotated[int, Field(ge=0, le=200)] = 0
    """Years before openness returns to its earlier level (0 = permanent)."""


class RealEstateDecline(_Event):
    type: Literal["real_estate_decline"]
    """Event type."""
    annual_decline: Fraction = 0.05
    """Yearly fall of real-estate demand."""
    years: Annotated[int, Field(ge=1, le=200)] = 10
    """How many years it lasts."""


class Infrastructure(_Event):
    type: Literal["infrastructure"]
    """Event type."""
    connectivity_gain: Annotated[float, Field(ge=0.0, le=10.0)] = 0.3
    """Relative rise of connectivity in ``provinces``."""
    provinces: list[str] = ["all"]
    """Provinces or groups connected."""
    name: str = "high-speed rail"
    """Name shown in the events table."""


class Megaproject(_Event):
    type: Literal["megaproject"]
    """Event type."""
    province: str
    """Host province."""
    field: FieldName  # type: ignore[valid-type]
    """Research field of the facility."""
    capacity: Positive = 5.0
    """Capacity of the one-off central institute, CNY bn."""
    name: str = "megaproject"
    """Name shown in the events table."""


class Breakthrough(_Event):
    type: Literal["breakthrough"]
    """Event type."""
    field: FieldName  # type: ignore[valid-type]
    """Field of the breakthrough; its matching sector gets the jump."""
    province: str = "auto"
    """The province where it happens; ``auto`` = the one with the most capacity in the field."""
    productivity_jump: Annotated[float, Field(ge=0.0, le=2.0)] = 0.15
    """Productivity jump in the matching sector."""


Event = Annotated[
    FdiShock | RealEstateDecline | Infrastructure | Megaproject | Breakthrough,
    Field(discriminator="type"),
]
EVENT_TYPES = ("fdi_shock", "real_estate_decline", "infrastructure", "megaproject", "breakthrough")
EVENT_MODELS: dict[str, type[BaseModel]] = {
    "fdi_shock": FdiShock, "real_estate_decline": RealEstateDecline, "infrastructure": Infrastructure,
    "megaproject": Megaproject, "breakthrough": Breakthrough,
}


class Scenario(_Section):
    """A validated scenario: every parameter of one model run.

    Build one with :func:`load_scenario` (from a file) or ``Scenario()`` (all defaults) or
    ``Scenario.model_validate(dict)``.
    """

    name: str = "scenario"
    """Name of the scenario in tables and reports (default: the file name)."""
    description: str = ""
    """One line on what the scenario represents."""
    run: RunConfig = RunConfig()
    investment: InvestmentConfig = InvestmentConfig()
    economy: EconomyConfig = EconomyConfig()
    research: ResearchConfig = ResearchConfig()
    migration: MigrationConfig = MigrationConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    strategy: StrategyParameters = StrategyParameters()
    imitation: ImitationConfig = ImitationConfig()
    events: list[Event] = []  # type: ignore[valid-type]
    """Scheduled events (``[[events]]`` tables), each with a ``type``."""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.investment.target_year < self.run.start_year:
            raise ValueError(
                f"investment.target_year ({self.investment.target_year}) is before run.start_year "
                f"({self.run.start_year})"
            )
        return self


# --------------------------------------------------------------------------------------
# Loading


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ScenarioError(str(path), "", "file not found")
    if path.is_dir():
        raise ScenarioError(str(path), "", "is a folder, expected a TOML file")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not valid TOML (not UTF-8 text)") from None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``: tables merge key by key, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_scenario_dict(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and the files it ``extends``, merged, without validating.

    Raises:
        ScenarioError: missing file, broken TOML, a bad ``extends`` or an ``extends`` cycle.
    """
    path = Path(path)
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, resolved))
        raise ScenarioError(str(path), "extends", f"extends cycle: {cycle}")
    data = _read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", f"expected a file name (string), got {parent!r}")
    parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.exists():
        raise ScenarioError(str(path), "extends", f"file {parent!r} not found next to {path.name}")
    return deep_merge(read_scenario_dict(parent_path, (*_chain, resolved)), data)


def parse_override(expression: str) -> tuple[list[str], Any]:
    """Split ``key.path=value`` into its path and a TOML-typed value.

    The value is read as a TOML value (``0.5``, ``true``, ``"hefei"``, ``[1, 2]``); anything
    that is not valid TOML is taken as a plain string, so ``--set strategies.default=hefei`` works.

    Raises:
        ScenarioError: when the expression has no ``=`` or an empty key.
    """
    key, sep, raw = expression.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError(f"--set {expression}", "", "expected key.path=value, e.g. migration.graduate_mobility=0.5")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return a copy of ``data`` with every ``key.path=value`` override set."""
    data = copy.deepcopy(data)
    for expression in overrides:
        path, value = parse_override(expression)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"--set {expression}", ".".join(path), f"{part!r} is a value, not a table")
            node = child
        node[path[-1]] = value
    return data


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the key at ``loc`` (for suggestions)."""
    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if model is None or not isinstance(part, str):
            return None
        info = model.model_fields.get(part)
        if info is None:
            return None
        annotation = info.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """Turn the first pydantic error into a (key path, message) pair for one line of output."""
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    event_model = None
    # drop the discriminator tag that pydantic inserts into union locations
    if len(loc) >= 3 and loc[0] == "events":
        event_model = EVENT_MODELS.get(loc[2]) if isinstance(loc[2], str) else None
        loc = tuple(p for i, p in enumerate(loc) if not (i == 2 and isinstance(p, str) and p in EVENT_TYPES))
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        model = event_model if event_model is not None and len(loc) == 3 else _model_at(loc)
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return key, f"unknown key{hint}; allowed: {', '.join(allowed)}" if allowed else "unknown key"
    if kind == "missing":
        return key, "required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return key, f"expected a table of keys (e.g. [{key}] in the file), got {value!r}"
    if kind == "union_tag_invalid":
        return key + ".type" if key else "type", f"unknown event type {value.get('type')!r}; allowed: {', '.join(EVENT_TYPES)}"
    if kind == "union_tag_not_found":
        return key, f"event needs a type; allowed: {', '.join(EVENT_TYPES)}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        close = difflib.get_close_matches(str(value), re.findall(r"'([^']+)'", expected), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return key, f"{value!r} is not allowed{hint}; expected {expected}"
    message = error["msg"]
    message = message[len("Value error, "):] if message.startswith("Value error, ") else message
    if kind not in ("value_error",) and value is not None and not isinstance(value, dict):
        message = f"{message}, got {value!r}"
    return key, message


def _check_group_overlaps(scenario: Scenario, source: str, group_members: dict[str, set[str]]) -> None:
    """Refuse two groups that overlap and assign different strategies to a province in both."""
    groups = [(name, strategy, key) for name, strategy, key in scenario.strategies.assignments() if name in GROUPS]
    named = {name for name, _, _ in scenario.strategies.assignments() if name not in GROUPS}
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            (name_a, strat_a, key_a), (name_b, strat_b, key_b) = groups[a], groups[b]
            both = sorted((group_members[name_a] & group_members[name_b]) - named)
            if strat_a != strat_b and both:
                raise ScenarioError(source, key_b, f"group {name_b!r} assigns {strat_b!r} but {key_a} assigns "
                                    f"{strat_a!r} to the same provinces ({', '.join(both[:3])}"
                                    f"{'...' if len(both) > 3 else ''}); name the provinces instead")


def china_groups() -> dict[str, set[str]]:
    """Members of every group name for the 31 provinces."""
    from sim.data import load_provinces

    table = load_provinces()
    names = set(table["province"])
    members = {"all": names, "coastal": set(table.loc[table["coastal"], "province"]),
               "interior": set(table.loc[~table["coastal"], "province"])}
    for region in ("east", "central", "west", "northeast"):
        members[region] = set(table.loc[table["region"] == region, "province"])
    return members


def _check_names(scenario: Scenario, source: str, province_names: list[str] | None,
                 group_members: dict[str, set[str]] | None = None) -> None:
    """Check province and group names used in the scenario against the known provinces."""
    if province_names is None:
        return
    known = set(province_names)

    def check(name: str, key: str, groups_ok: bool = True) -> None:
        if name in known or (groups_ok and name in GROUPS):
            return
        choices = sorted(known) + (list(GROUPS) if groups_ok else [])
        close = difflib.get_close_matches(name, choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        what = "province or group" if groups_ok else "province"
        raise ScenarioError(source, key, f"unknown {what} {name!r}{hint}")

    seen: dict[str, str] = {}
    for name, _strategy, key in scenario.strategies.assignments():
        check(name, key)
        if name in seen:
            raise ScenarioError(source, key, f"{name!r} is assigned a strategy twice (also in {seen[name]})")
        seen[name] = key
    if group_members is not None:
        _check_group_overlaps(scenario, source, group_members)
    for name in scenario.investment.targeted_provinces:
        check(name, "investment.targeted_provinces", groups_ok=False)
    for name in scenario.investment.talent_push:
        check(name, "investment.talent_push")
    for name in scenario.strategy.megacity.cities:
        check(name, "strategy.megacity.cities", groups_ok=False)
    for i, event in enumerate(scenario.events):
        if isinstance(event, (Megaproject, Breakthrough)):
            if not (isinstance(event, Breakthrough) and event.province == "auto"):
                check(event.province, f"events[{i}].province", groups_ok=False)
        if isinstance(event, Infrastructure):
            for name in event.provinces:
                check(name, f"events[{i}].provinces")
    if scenario.investment.central_allocation == "targeted" and not scenario.investment.targeted_provinces:
        raise ScenarioError(source, "investment.targeted_provinces", 'needs at least one province when central_allocation = "targeted"')


def validate_scenario(data: dict[str, Any], source: str, province_names: list[str] | None = None) -> Scenario:
    """Validate a merged scenario dictionary.

    Args:
        data: the scenario as read from TOML (after ``extends`` and overrides).
        source: what to name in error messages (a file path or ``--set ...``).
        province_names: the known province names; when given, names in the scenario are checked.

    Raises:
        ScenarioError: naming ``source``, the key path and what is allowed.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        key, message = describe_validation_error(exc)
        raise ScenarioError(source, key, message) from None
    groups = None
    if province_names is None and scenario.run.provinces == "china":
        groups = china_groups()
        province_names = sorted(groups["all"])
    _check_names(scenario, source, province_names, groups)
    return scenario


def load_scenario(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge and validate a scenario file, then apply ``key.path=value`` overrides.

    Args:
        path: a scenario TOML file; None for the built-in defaults.
        overrides: ``--set`` expressions, applied after the file (and its ``extends`` chain).

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: naming the file or the ``--set`` expression, the key path and what is allowed.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        data = read_scenario_dict(path)
        data.setdefault("name", Path(path).stem)
        validate_scenario(data, source)
    if not overrides:
        return validate_scenario(data, source)
    # apply the overrides one by one, so that an error names the one that caused it
    for i, expression in enumerate(overrides):
        validate_scenario(apply_overrides(data, list(overrides[: i + 1])), f"--set {expression}")
    return validate_scenario(apply_overrides(data, list(overrides)), f"--set {overrides[-1]}")
