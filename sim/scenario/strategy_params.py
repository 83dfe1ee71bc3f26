"""The ``[strategy.<name>]`` tables: parameters of each development strategy."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from sim.scenario.sections import Fraction, Pull, SectorName, _Section
from sim.vocabulary import CONSUMER_SEGMENTS, ENDOWMENTS, FIELDS


class HefeiConfig(_Section):
    """``[strategy.hefei]``: flagship lab plus a provincial guidance fund."""

    field: Literal[("auto",) + FIELDS] = "auto"  # type: ignore[valid-type]
    """The flagship's field; ``auto`` picks the strategic field where the province is strongest relative to the nation."""
    lab_share: Fraction = 0.45
    """Share of the science budget for the flagship national lab."""
    fund_share: Fraction = 0.35
    """Guidance-fund equity a year in the matching sector, as a share of the science budget, paid beyond it out of the province's investment."""
    transfer: Annotated[float, Field(ge=0.0, le=10.0)] = 2.5
    """Lab-to-industry transfer multiplier in the matching sector."""
    exit_rate: Fraction = 0.1
    """Share of the fund's stake sold on each year (the proceeds return to the province's investment)."""
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
    endowment_weights: dict[str, list[float]] = {
        "biotech": [1.0, 0.0, 0.2, 0.0],
        "green_energy": [0.0, 1.0, 0.0, 0.0],
        "agriculture": [0.2, 0.0, 1.0, 0.0],
        "advanced_manufacturing": [0.0, 0.2, 0.0, 0.8],
        "ev_batteries": [0.0, 0.6, 0.0, 0.3],
        "ict_consumer": [0.0, 0.0, 0.0, 0.5],
    }
    """Per field, how strongly each endowment (biodiversity, energy resources, agriculture, port access) favours it."""

    @field_validator("endowment_weights")
    @classmethod
    def _weights(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        missing = [f for f in FIELDS if f not in value]
        unknown = [k for k in value if k not in FIELDS]
        if unknown or missing:
            raise ValueError(f"needs one entry per field ({', '.join(FIELDS)})")
        for f, weights in value.items():
            if len(weights) != len(ENDOWMENTS) or not all(0.0 <= w < float("inf") for w in weights):
                raise ValueError(f"{f}: expected {len(ENDOWMENTS)} finite weights >= 0 ({', '.join(ENDOWMENTS)})")
        return {f: [float(w) for w in value[f]] for f in FIELDS}


class ForeignMultinationalConfig(_Section):
    """``[strategy.foreign_multinational]``: an open zone that attracts multinational R&D labs."""

    incentive_share: Fraction = 0.3
    """Zone incentives a year (land, offices, tax breaks) as a share of the science budget, paid beyond it out of the province's investment."""
    arrival_rate: Fraction = 0.35
    """Yearly chance of a lab at average attractiveness and full openness."""
    lab_size: Annotated[float, Field(gt=0.0, le=1000.0)] = 2.0
    """Capacity of one multinational lab at the base year, CNY bn (it grows with national GDP)."""
    spillover: Annotated[float, Field(ge=0.0, le=10.0)] = 1.5
    """Transfer multiplier in a lab's sector."""
    profit_outflow: Fraction = 0.3
    """Share of foreign capital's profit that leaves the province."""
    sectors: list[SectorName] = ["biotech", "ict_consumer", "advanced_manufacturing"]  # type: ignore[valid-type]
    """Sectors multinational labs come in."""
    incentive_persistence: Fraction = 0.8
    """Share of last year's incentives that still draws labs this year (the zone's incentive stock decays)."""
    coastal_pull: Pull = 1.5
    """Attractiveness factor of a coastal province for multinational labs."""
    interior_pull: Pull = 0.7
    """Attractiveness factor of an interior province for multinational labs."""
    incentive_pull_base: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    """Attractiveness factor from incentives with none spent (it rises by one per lab-size of incentives)."""
    incentive_pull_max: Pull = 2.0
    """Upper bound of the attractiveness factor from incentives."""
    max_arrival_chance: Fraction = 0.95
    """Upper bound of the yearly chance that a lab arrives."""
    departure_rate: Fraction = 0.5
    """Yearly chance that a lab leaves per unit by which openness is below 1."""
    capital_per_lab: Annotated[float, Field(ge=0.0, le=100.0)] = 4.0
    """Foreign capital a lab brings into its sector, in multiples of ``lab_size``."""


class ConsumerNicheConfig(_Section):
    """``[strategy.consumer_niche]``: target a national consumer segment."""

    coordination: Literal["coordinated", "independent"] = "independent"
    """``independent``: every niche province chases the biggest segment; ``coordinated``: a planner spreads them by market size."""
    segment: Literal[("auto",) + CONSUMER_SEGMENTS] = "auto"  # type: ignore[valid-type]
    """The targeted segment; ``auto`` lets ``coordination`` decide."""
    equity_share: Fraction = 0.5
    """Equity a year in the segment's firms, as a share of the science budget, paid beyond it out of the province's investment."""
    research_share: Fraction = 0.5
    """Share of the science budget for research in the segment's field (the rest funds existing institutes)."""
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


