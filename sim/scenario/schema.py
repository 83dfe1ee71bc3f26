"""The scenario as a value: :class:`Scenario`, its validation, and setting values by key path.

A scenario is validated once, by the pydantic schema, whichever way it was built: from a file
(:mod:`sim.scenario.loading`), from a dict, or from another scenario with
:meth:`Scenario.with_values`, which takes Python or numpy values by dotted key path. No code
changes a value by writing text.

Every error names the source (a file, ``--set ...`` or the caller's label), the dotted key path
and what is allowed, as a :class:`~sim.errors.ScenarioError`.
"""

from __future__ import annotations

import copy
import csv
import difflib
import functools
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from sim.errors import ScenarioError
from sim.scenario.events import EVENT_MODELS, Breakthrough, Event, Infrastructure, Megaproject
from sim.scenario.sections import (
    EconomyConfig,
    ImitationConfig,
    InvestmentConfig,
    MigrationConfig,
    ResearchConfig,
    RunConfig,
    StrategiesConfig,
    StructureConfig,
    _Section,
)
from sim.scenario.strategy_params import StrategyParameters
from sim.vocabulary import EVENT_TYPES, GROUPS


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
    structure: StructureConfig = StructureConfig()
    investment: InvestmentConfig = InvestmentConfig()
    economy: EconomyConfig = EconomyConfig()
    research: ResearchConfig = ResearchConfig()
    migration: MigrationConfig = MigrationConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    strategy: StrategyParameters = StrategyParameters()
    imitation: ImitationConfig = ImitationConfig()
    events: list[Event] = []  # type: ignore[valid-type]
    """Scheduled events (``[[events]]`` tables), each with a ``type``."""

    @field_validator("name")
    @classmethod
    def _name_is_a_name(cls, value: str) -> str:  # it becomes part of folder names: see NAME_PATTERN
        return check_name(value)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.investment.target_year < self.run.start_year:
            raise ValueError(
                f"investment.target_year ({self.investment.target_year}) is before run.start_year "
                f"({self.run.start_year})"
            )
        return self

    def with_values(self, values: Mapping[str, Any], source: str = "values") -> Scenario:
        """A copy of this scenario with ``values`` set, validated by the schema.

        Args:
            values: dotted key path (or ``__`` for dots, as Mesa keywords) -> value; Python or
                numpy scalars, sequences and arrays, e.g. ``{"economy.catch_up_rate": np.float64(0.02)}``.
            source: what error messages name as the origin of the values.

        Returns:
            A new validated :class:`Scenario`; this one is unchanged. All values are set before
            validation, so cross-field rules do not depend on their order.

        Raises:
            ScenarioError: naming ``source``, the key path and what is allowed.
        """
        if not values:
            return self
        data = self.model_dump(mode="python")
        for key, value in values.items():
            set_path(data, str(key).replace("__", "."), value, source)
        return validate_scenario(data, source)


NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
"""A scenario name: letters, digits, ``-``, ``_`` and ``.``, 1 to 64 characters, not starting with ``.``
(so a name used in a folder name never leaves its folder)."""


def check_name(value: str) -> str:
    """``value`` when it is a valid name (see :data:`NAME_PATTERN`).

    Raises:
        ValueError: saying what a name may hold (the value shown cut short, control characters escaped).
    """
    if NAME_PATTERN.fullmatch(value):
        return value
    shown = repr(value if len(value) <= 40 else value[:40] + "...")
    if len(value) > 64:
        problem = f"{len(value)} characters, at most 64 allowed"
    elif value.startswith("."):
        problem = "starts with '.'"
    elif not value:
        problem = "empty"
    else:
        bad = next(c for c in value if not re.fullmatch(r"[A-Za-z0-9._-]", c))
        problem = f"contains {bad!r}"
    raise ValueError(f"not a valid name ({problem}): {shown}; use letters, digits, '-', '_' and '.' "
                     "(at most 64 characters, not starting with '.')")


def plain_value(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists (others as given)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    return value


def set_path(data: dict[str, Any], key: str, value: Any, source: str, where: str | None = None) -> None:
    """Set ``data[a][b]... = value`` for the key path ``a.b...`` (in place; numpy values made plain).

    Raises:
        ScenarioError: naming ``source`` and ``where`` (default ``key``) when the path is empty or a
            part of it is a value, not a table.
    """
    parts = key.split(".")
    if not key or any(not part for part in parts):
        raise ScenarioError(source, where or key, "expected a dotted key path such as economy.catch_up_rate")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ScenarioError(source, where or key, f"{part!r} is a value, not a table")
        node = child
    node[parts[-1]] = copy.deepcopy(plain_value(value))


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
    """Members of every group name for the 31 provinces.

    Read with the csv module rather than :func:`sim.data.load_provinces`: validating a scenario then
    needs no pandas, so a bad scenario is refused in well under a second.
    """
    rows = _province_rows()
    coastal = {row["province"] for row in rows if row["coastal"].strip().lower() in ("true", "1")}
    names = {row["province"] for row in rows}
    members = {"all": names, "coastal": coastal, "interior": names - coastal}
    for region in ("east", "central", "west", "northeast"):
        members[region] = {row["province"] for row in rows if row["region"] == region}
    return members


@functools.cache
def _province_rows() -> tuple[dict[str, str], ...]:
    """The rows of ``sim/data/provinces.csv`` as text."""
    with resources.files("sim").joinpath("data", "provinces.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


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


