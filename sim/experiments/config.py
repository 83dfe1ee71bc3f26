"""The schema of experiment files: :class:`Experiment` and its sections, validated with one-line errors.

:func:`validate_experiment` checks a dictionary read from TOML; a mistake is an
:class:`~sim.errors.ExperimentError` naming the file, the key path and what is allowed (with a
suggestion for a misspelt key). Loading and resolving the scenarios is :mod:`sim.experiments.spec`.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.errors import ExperimentError
from sim.experiments.identity import name_problem

__all__ = [
    "FORBIDDEN_KEYS",
    "TABLE_NAMES",
    "ExecutorConfig",
    "Experiment",
    "RecordConfig",
    "RobustnessConfig",
    "SensitivityConfig",
    "validate_experiment",
]

TABLE_NAMES: tuple[str, ...] = ("national", "province", "events")
"""Tables an experiment can record (``runs`` is always written)."""
FORBIDDEN_KEYS: dict[str, str] = {
    "name": "the scenario name labels the results; give the scenario its own file instead",
    "description": "it does not change a run",
    "run.seed": "a batch seeds every run from the experiment's root seed (top-level key seed)",
}
"""Scenario key paths that may not be set or swept in an experiment, and why."""

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class RecordConfig(_Section):
    """``[record]``: which tables to keep and how often."""

    tables: list[Literal[TABLE_NAMES]] = list(TABLE_NAMES)  # type: ignore[valid-type]
    """Tables to write besides ``runs`` (always written)."""
    every: Annotated[int, Field(ge=1, le=1000)] = 1
    """Keep every k-th year of ``national`` and ``province`` (first and last years always kept)."""
    runs_per_part: Annotated[int, Field(ge=0, le=10_000)] = 0
    """Runs per Parquet part; 0 = automatic (1 up to 1,000 runs, then more, at most 50)."""


class ExecutorConfig(_Section):
    """``[executor]``: where the runs run (the command line can override it)."""

    kind: Literal["serial", "process", "dask"] = "process"
    workers: Annotated[int, Field(ge=0, le=100_000)] = 0
    """Worker processes (process pool or local Dask cluster); 0 = all cores."""
    address: str = "local"
    """For ``kind = "dask"``: ``"local"`` (start a LocalCluster) or a scheduler ``tcp://host:port``."""


class SensitivityConfig(_Section):
    """``[sensitivity]``: a global sensitivity analysis, run with ``sim sensitivity`` (not ``sim batch``)."""

    parameters: Annotated[dict[str, list[float]], Field(min_length=1)]
    """Key path -> ``[low, high]`` bounds of each varied parameter."""
    method: Literal["sobol", "morris"] = "sobol"
    """``sobol`` (first- and total-order indices) or ``morris`` (a cheap screen)."""
    samples: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    """Sobol base sample N (runs N (D + 2)) or Morris trajectories (runs r (D + 1)); 0 = 512 / 20."""
    outputs: list[str] = []
    """End-year national outcomes to analyse (default: gini, theil_between_region, gdp_real_cny_bn,
    interior_research_share)."""


class UncertaintyConfig(_Section):
    """``[uncertainty]``: run every point with parameter draws from the shipped posterior."""

    draws: Annotated[int, Field(ge=1, le=200)] = 50
    """How many draws (evenly spaced rows of the posterior's 200), each run with ``replicates`` seeds."""
    posterior: Literal["projection", "2012-2016"] = "projection"
    """Which shipped posterior (``sim.data.load_posterior``)."""


class RobustnessConfig(_Section):
    """``[robustness]``: run each strategy, its placebo and the baseline under varied conditions.

    The experiment's scenarios must include ``baseline``, every strategy named here and its
    ``<strategy>_placebo``; :mod:`sim.experiments.robustness` derives one scenario per condition.
    """

    strategies: Annotated[list[Literal["hefei", "cas_branch", "foreign_multinational", "consumer_niche"]],
                          Field(min_length=1)] = ["hefei", "cas_branch", "foreign_multinational", "consumer_niche"]
    """Strategies whose effect is checked (each needs its scenario and placebo in ``scenarios``)."""
    forced_fields: bool = True
    """Run each strategy with its field (or sector, or segment) forced to each possible one."""
    field_share_factors: list[Annotated[float, Field(gt=0.0, le=10.0)]] = [0.5, 1.5]
    """Multiply one field's base-year share of research by each factor, field by field (all scenarios)."""
    adopters: list[str] = ["Anhui", "Yunnan", "Shanghai", "Guangdong", "interior"]
    """Provinces or groups that adopt the strategy alone (every other province runs the baseline)."""
    assumptions: dict[str, list[Any]] = {}
    """Key path -> values: each value is one more condition applied to every scenario."""


class Experiment(_Section):
    """An experiment file as written (before the scenarios are loaded)."""

    name: str = "experiment"
    description: str = ""
    scenarios: Annotated[list[str], Field(min_length=1)]
    """Scenario files, relative to the experiment file."""
    replicates: Annotated[int, Field(ge=1, le=10_000_000)] = 1
    seed: Annotated[int, Field(ge=0)]
    """Root seed: one ``numpy.random.SeedSequence`` for the whole experiment."""
    sweep: dict[str, Any] = {}
    """Key path -> list of values; the run list is the product of all lists."""
    set: dict[str, Any] = {}
    """Key path -> value, applied to every scenario before the sweep."""
    record: RecordConfig = RecordConfig()
    executor: ExecutorConfig = ExecutorConfig()
    sensitivity: SensitivityConfig | None = None
    """Makes the file a sensitivity experiment (``sim sensitivity``); ``sim batch`` refuses it."""
    uncertainty: UncertaintyConfig | None = None
    """Parameter uncertainty: every scenario and sweep point runs with posterior draws x replicates."""
    robustness: RobustnessConfig | None = None
    """Robustness conditions: every strategy, placebo and baseline run under each (see ``RobustnessConfig``)."""

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        """The name becomes part of a path: letters, digits, ``-``, ``_``, ``.``; at most 64 characters."""
        problem = name_problem(name)
        if problem:
            raise ValueError(problem)
        return name


def _describe(exc: ValidationError) -> tuple[str, str]:
    """The first pydantic error of an :class:`Experiment` as (key path, message)."""
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        model: type[BaseModel] = Experiment
        for part in loc[:-1]:
            annotation = model.model_fields[part].annotation if part in model.model_fields else None
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                break
            model = annotation
        allowed = sorted(model.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return key, f"unknown key{hint}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return key, "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return key, f"{value!r} is not allowed; expected {expected}"
    if kind == "too_short" and key == "scenarios":
        return key, "expected at least one scenario file"
    message = error["msg"]
    message = message[len("Value error, "):] if message.startswith("Value error, ") else message
    if value is not None and not isinstance(value, dict):
        message = f"{message}, got {value!r}"
    return key, message


def validate_experiment(data: dict[str, Any], source: str) -> Experiment:
    """Validate an experiment dictionary (as read from TOML) against the schema.

    Raises:
        ExperimentError: naming ``source``, the key path and what is allowed.
    """
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        key, message = _describe(exc)
        raise ExperimentError(source, key, message) from None
