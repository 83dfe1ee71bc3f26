"""The model's vocabulary: sectors, research fields, groups, strategy names and event types.

Every research field matches one sector of the same name (research in ``biotech`` raises the
productivity of the ``biotech`` sector). The remaining sectors draw on general knowledge only.
"""

from __future__ import annotations

SECTORS: tuple[str, ...] = (
    "agriculture",
    "traditional_industry",
    "advanced_manufacturing",
    "ev_batteries",
    "green_energy",
    "ict_consumer",
    "biotech",
    "real_estate",
    "services",
)
"""The nine sectors, in the column order of every per-sector array."""

FIELDS: tuple[str, ...] = (
    "agriculture",
    "advanced_manufacturing",
    "ev_batteries",
    "green_energy",
    "ict_consumer",
    "biotech",
)
"""Research fields; each matches the sector of the same name."""

GENERAL_FIELD = len(FIELDS)
"""Column index of multidisciplinary capacity (universities), counted 1/F towards every field."""

HIGH_TECH: tuple[str, ...] = (
    "advanced_manufacturing",
    "ev_batteries",
    "green_energy",
    "ict_consumer",
    "biotech",
)
"""Sectors counted as high-tech (their share of GDP is a reported metric)."""

CONSUMER_SEGMENTS: tuple[str, ...] = ("ict_consumer", "ev_batteries", "biotech", "advanced_manufacturing")
"""Sectors that sell into national consumer markets where provinces compete for share."""

SECTOR_INDEX = {name: i for i, name in enumerate(SECTORS)}
FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}
FIELD_SECTOR = [SECTOR_INDEX[f] for f in FIELDS]
"""For each field, the index of its matching sector."""
HIGH_TECH_INDEX = [SECTOR_INDEX[s] for s in HIGH_TECH]

REGIONS: tuple[str, ...] = ("east", "central", "west", "northeast")
"""NBS four-region groups, in the order of the integer region codes."""

GROUPS: tuple[str, ...] = ("all", "east", "central", "west", "northeast", "coastal", "interior")
"""Group names that scenario files may use to assign strategies."""

INSTITUTE_KINDS: tuple[str, ...] = (
    "research_base",
    "university",
    "national_lab",
    "cas_branch",
    "multinational_lab",
    "megafacility",
)
"""Kinds of research institute, in the order of integer kind codes."""
KIND_INDEX = {name: i for i, name in enumerate(INSTITUTE_KINDS)}

STRATEGY_NAMES: tuple[str, ...] = (
    "baseline",
    "hefei",
    "cas_branch",
    "foreign_multinational",
    "consumer_niche",
    "megacity",
)
"""Strategy names as scenario files write them; each is one class in :mod:`sim.model.strategies`."""

PLACEBO_SUFFIX = "_placebo"
"""A strategy's placebo (same money, spent as business as usual) is named ``<strategy>_placebo``."""

EVENT_TYPES: tuple[str, ...] = ("fdi_shock", "real_estate_decline", "infrastructure", "megaproject", "breakthrough")
"""Event types of ``[[events]]`` tables; each is one schema class and one handler."""

ENDOWMENTS: tuple[str, ...] = ("biodiversity", "energy_resources", "agriculture", "port_access")
"""Natural-endowment scores of a province, in the column order of the endowment table."""
