"""Scheduled events from a scenario's ``[[events]]`` tables.

Each event fires at the start of its year (step 1 of the year). Lasting events (a real-estate
decline, a temporary FDI shock) keep acting in later years. Every event that fires is logged
to the ``events`` table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.scenario import Breakthrough, FdiShock, Infrastructure, Megaproject, RealEstateDecline
from sim.vocabulary import FIELD_INDEX, FIELD_SECTOR, SECTOR_INDEX

if TYPE_CHECKING:
    from sim.model.interface import ModelServices


class EventSchedule:
    """The scenario's events, fired year by year on a model."""

    def __init__(self, model: ModelServices, events: list) -> None:
        self.model = model
        self.events = sorted(events, key=lambda e: e.year)
        self._restore_openness: dict[int, float] = {}

    def fire(self, year: int) -> None:
        """Apply every event of ``year`` and the continuing effects of earlier ones."""
        model = self.model
        state = model.state
        if year in self._restore_openness:
            state.openness = self._restore_openness.pop(year)
            model.log_event("fdi_shock", None, f"openness back to {state.openness:.2f}")
        for event in self.events:
            if isinstance(event, RealEstateDecline) and event.year <= year < event.year + event.years:
                state.demand_shift[SECTOR_INDEX["real_estate"]] *= 1.0 - event.annual_decline
                if year == event.year:
                    model.log_event("real_estate_decline", None,
                                    f"real-estate demand falls {100 * event.annual_decline:.0f} % a year "
                                    f"for {event.years} years")
            if event.year != year:
                continue
            if isinstance(event, FdiShock):
                if event.duration:
                    self._restore_openness[year + event.duration] = state.openness
                state.openness = event.openness
                model.log_event("fdi_shock", None, f"global openness falls to {event.openness:.2f}" +
                                (f" for {event.duration} years" if event.duration else ""))
            elif isinstance(event, Infrastructure):
                mask = model.group_mask(event.provinces)
                state.connectivity[mask] *= 1.0 + event.connectivity_gain
                where = ", ".join(event.provinces)
                model.log_event("infrastructure", None,
                                f"{event.name}: connectivity +{100 * event.connectivity_gain:.0f} % in {where}")
            elif isinstance(event, Megaproject):
                host = model.province_names.index(event.province)
                model.found_institute(host, "megafacility", event.field, event.capacity, funded_by="central",
                                      name=event.name)
            elif isinstance(event, Breakthrough):
                field = FIELD_INDEX[event.field]
                if event.province == "auto":
                    host = int(state.research_by_field[:, field].argmax())
                else:
                    host = model.province_names.index(event.province)
                state.productivity[host, FIELD_SECTOR[field]] *= 1.0 + event.productivity_jump
                model.log_event("breakthrough", host, f"scheduled breakthrough in {event.field} "
                                f"(productivity +{100 * event.productivity_jump:.0f} %)")
