"""Scenarios: the schema of every model parameter, loading from TOML, and values set by key path.

A scenario is a plain value: a validated :class:`Scenario` built from a TOML file (which may
``extends`` another file and override it), from a dict, or from another scenario with
:meth:`Scenario.with_values`. The model takes a :class:`Scenario`; nothing inside the model reads
files. Modules: :mod:`~sim.scenario.sections` (the sections), :mod:`~sim.scenario.strategy_params`
(``[strategy.<name>]``), :mod:`~sim.scenario.events` (``[[events]]``), :mod:`~sim.scenario.schema`
(:class:`Scenario`, validation, ``with_values``), :mod:`~sim.scenario.loading` (files and ``--set``),
:mod:`~sim.scenario.reference` (docs/parameters.md).
"""

from sim.scenario.events import (
    EVENT_MODELS,
    Breakthrough,
    Event,
    FdiShock,
    Infrastructure,
    Megaproject,
    RealEstateDecline,
)
from sim.scenario.loading import (
    apply_values,
    deep_merge,
    load_scenario,
    overrides_to_values,
    parse_override,
    parse_overrides,
    read_scenario_dict,
    with_overrides,
)
from sim.scenario.schema import (
    Scenario,
    china_groups,
    describe_validation_error,
    plain_value,
    set_path,
    validate_scenario,
)
from sim.vocabulary import EVENT_TYPES, STRATEGY_NAMES

__all__ = [
    "EVENT_MODELS",
    "EVENT_TYPES",
    "STRATEGY_NAMES",
    "Breakthrough",
    "Event",
    "FdiShock",
    "Infrastructure",
    "Megaproject",
    "RealEstateDecline",
    "Scenario",
    "apply_values",
    "china_groups",
    "deep_merge",
    "describe_validation_error",
    "load_scenario",
    "overrides_to_values",
    "parse_override",
    "parse_overrides",
    "plain_value",
    "read_scenario_dict",
    "set_path",
    "validate_scenario",
    "with_overrides",
]
