"""Robustness conditions: the strategy comparison rerun with its assumptions and adopters varied.

An experiment file with a ``[robustness]`` section (:class:`~sim.experiments.config.RobustnessConfig`)
lists ``baseline``, each checked strategy and its ``<strategy>_placebo`` under ``scenarios``.
:func:`expand` derives, from those scenarios, one scenario per condition and role:

* ``as-shipped``: the scenarios as written;
* ``field-<f>``: the strategy's field forced to ``f`` (hefei's flagship field, cas_branch's single
  branch, the multinational labs' sector, the consumer niche's segment), strategy and placebo;
* ``share-<f>-x<k>``: field ``f``'s base-year share of national research multiplied by ``k``
  (shares renormalised by the model), every scenario including the baseline;
* ``adopt-<p>``: the strategy (and its placebo) adopted by province or group ``p`` alone;
* ``<key>-<value>``: an entry of ``assumptions`` applied to every scenario.

A derived scenario is named ``<scenario>--<condition>`` (so it is a valid results name) and its
``description`` says what was changed. Runs use common random numbers: replicate ``r`` has the
same seed in every derived scenario, so a difference between a strategy and its baseline under one
condition comes from the strategy. :func:`condition_table` says, for each derived scenario, its
condition, role and strategy; the report's robustness section (:mod:`sim.report.robustness`) reads
it back from the scenario names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sim.errors import ExperimentError
from sim.experiments.config import RobustnessConfig
from sim.scenario import Scenario
from sim.vocabulary import CONSUMER_SEGMENTS, FIELDS, STRATEGY_NAMES

__all__ = ["AS_SHIPPED", "SEPARATOR", "Condition", "condition_of", "expand", "forced_field_values"]

SEPARATOR = "--"
"""Between a scenario's name and its condition in a derived scenario's name."""
AS_SHIPPED = "as-shipped"
"""The condition of the scenarios as written."""


@dataclass(frozen=True)
class Condition:
    """One robustness condition: its name, kind, a plain description and the values it sets."""

    name: str
    kind: str
    """``as-shipped``, ``field``, ``share``, ``adopt`` or ``assumption``."""
    description: str
    values: dict[str, Any]
    strategy: str | None = None
    """For ``field`` and ``adopt``: the one strategy the condition applies to; None: every scenario."""


def forced_field_values(strategy: str, field: str, scenario: Scenario) -> dict[str, Any] | None:
    """The values that force ``strategy``'s field (or sector, or segment) to ``field``; None if it has no such choice.

    hefei: the flagship's field; cas_branch: one branch, in ``field`` (its endowment weight on every
    endowment, every other field's weight zero); foreign_multinational: labs only in the sector of
    ``field``; consumer_niche: the segment, for the four fields that sell to consumers.
    """
    if strategy == "hefei":
        return {"strategy.hefei.field": field}
    if strategy == "cas_branch":
        weights = {f: ([1.0] * 4 if f == field else [0.0] * 4) for f in FIELDS}
        return {"strategy.cas_branch.institutes": 1, "strategy.cas_branch.endowment_weights": weights}
    if strategy == "foreign_multinational":
        return {"strategy.foreign_multinational.sectors": [field]}
    if strategy == "consumer_niche":
        return {"strategy.consumer_niche.segment": field} if field in CONSUMER_SEGMENTS else None
    return None


def _adopter_values(strategy: str, adopter: str, placebo: bool) -> dict[str, Any]:
    values: dict[str, Any] = {f"strategies.{s}": [] for s in STRATEGY_NAMES}
    values["strategies.default"] = "baseline"
    values["strategies.assign"] = {adopter: strategy}
    values["strategies.placebo_of"] = [strategy] if placebo else []
    return values


def _slug(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:24] or "value"


def conditions(config: RobustnessConfig, strategies: list[str]) -> list[Condition]:
    """Every condition of ``config`` (``as-shipped`` first), for the given strategies."""
    found = [Condition(AS_SHIPPED, "as-shipped", "the scenarios as written", {})]
    if config.forced_fields:
        for strategy in strategies:
            for field in FIELDS:
                found.append(Condition(f"field-{field}", "field", f"{strategy}'s field forced to {field}",
                                       {"field": field}, strategy))
    for field in FIELDS:
        for factor in config.field_share_factors:
            found.append(Condition(f"share-{field}-x{factor:g}", "share",
                                   f"{field}'s share of national research x{factor:g}",
                                   {"field": field, "factor": float(factor)}))
    for strategy in strategies:
        for adopter in config.adopters:
            found.append(Condition(f"adopt-{_slug(adopter)}", "adopt", f"{strategy} adopted by {adopter} alone",
                                   {"adopter": adopter}, strategy))
    for key, values in config.assumptions.items():
        for value in values:
            found.append(Condition(f"{_slug(key.rsplit('.', 1)[-1])}-{_slug(value)}", "assumption",
                                   f"{key} = {value!r}", {key: value}))
    return found


def _derive(scenario: Scenario, condition: Condition, strategy: str | None, placebo: bool,
            source: str) -> Scenario | None:
    """``scenario`` under ``condition`` (None when the condition does not apply to it)."""
    values: dict[str, Any]
    if condition.kind == "field":
        values = forced_field_values(condition.strategy or "", condition.values["field"], scenario) or {}
        if not values:
            return None
    elif condition.kind == "share":
        shares = dict(scenario.structure.field_shares)
        shares[condition.values["field"]] *= condition.values["factor"]
        values = {"structure.field_shares": shares}
    elif condition.kind == "adopt":
        values = _adopter_values(condition.strategy or "", condition.values["adopter"], placebo)
    else:
        values = dict(condition.values)
    name = f"{scenario.name}{SEPARATOR}{condition.name}"
    values = {**values, "name": name, "description": f"{scenario.description} [{condition.description}]"}
    try:
        return scenario.with_values(values, source=f"{source} [robustness] {condition.name}")
    except Exception as exc:  # a ScenarioError: say which condition made the scenario invalid
        message = getattr(exc, "message", str(exc))
        raise ExperimentError(source, f"robustness ({condition.name})",
                              f"{message} (deriving {scenario.name!r})") from None


def expand(scenarios: tuple[Scenario, ...], config: RobustnessConfig, source: str) -> tuple[Scenario, ...]:
    """The scenarios of a robustness experiment: the given ones, then one per condition and role.

    Raises:
        ExperimentError: ``baseline``, a strategy or its placebo missing from ``scenarios``, or a
            condition that makes a scenario invalid (an unknown adopter, a bad assumption value).
    """
    by_name = {s.name: s for s in scenarios}
    needed = ["baseline"] + [n for s in config.strategies for n in (s, f"{s}_placebo")]
    missing = [n for n in needed if n not in by_name]
    if missing:
        raise ExperimentError(source, "scenarios",
                              f"[robustness] needs scenarios named {', '.join(repr(n) for n in missing)} "
                              "(the baseline, each strategy and its placebo)")
    derived: list[Scenario] = list(scenarios)
    for condition in conditions(config, list(config.strategies)):
        if condition.kind == "as-shipped":
            continue
        roles: list[tuple[str, str | None, bool]]
        if condition.strategy is not None:
            roles = [(condition.strategy, condition.strategy, False),
                     (f"{condition.strategy}_placebo", condition.strategy, True)]
        else:
            roles = [("baseline", None, False)] + [(n, s, n.endswith("_placebo"))
                                                   for s in config.strategies for n in (s, f"{s}_placebo")]
        for scenario_name, strategy, placebo in roles:
            scenario = _derive(by_name[scenario_name], condition, strategy, placebo, source)
            if scenario is not None:
                derived.append(scenario)
    return tuple(derived)


def condition_of(name: str) -> tuple[str, str]:
    """``"hefei_placebo--adopt-Anhui"`` -> ``("hefei_placebo", "adopt-Anhui")``; a plain name -> ``(name, "as-shipped")``."""
    base, sep, condition = name.partition(SEPARATOR)
    return (base, condition) if sep else (name, AS_SHIPPED)
