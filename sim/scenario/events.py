"""The ``[[events]]`` tables: scheduled shocks and interventions, one model per event type."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sim.scenario.sections import FieldName, Fraction, Positive, Year, _Section
from sim.vocabulary import EVENT_TYPES


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
EVENT_MODELS: dict[str, type[BaseModel]] = {
    "fdi_shock": FdiShock, "real_estate_decline": RealEstateDecline, "infrastructure": Infrastructure,
    "megaproject": Megaproject, "breakthrough": Breakthrough,
}
"""The schema class of each event type."""
assert tuple(EVENT_MODELS) == EVENT_TYPES, "every event type in sim.vocabulary has one schema class"

