"""Experiment files: which scenarios, how many replicates, a root seed, sweeps, what to record.

An experiment is a TOML file in ``experiments/`` (the format is in docs/batch.md)::

    name = "investment_sweep"
    scenarios = ["../scenarios/baseline.toml"]   # relative to this file
    replicates = 10
    seed = 12345
    [sweep]                                      # only lists are swept
    "investment.rd_intensity_target" = [2.8, 3.2, 3.6]
    [set]                                        # fixed overrides for every scenario
    "run.end_year" = 2040
    [record]
    tables = ["national", "province", "events"]
    every = 1
    [executor]
    kind = "process"                             # serial | process | dask
    workers = 0                                  # 0 = all cores

:func:`load_experiment` reads and validates it into a :class:`ResolvedExperiment`: every scenario
loaded with :func:`~sim.scenario.load_scenario`, the ``[set]`` table and ``--set`` overrides
applied, every swept value checked against the scenario schema. The run list is the product
scenarios x sweep points x replicates, in that order (scenario-major, replicate fastest).

The file's schema is :mod:`sim.experiments.config`. Every error is an
:class:`~sim.errors.ExperimentError` naming the file, the key path and what is allowed (errors
inside a scenario file name that file, as a :class:`~sim.errors.ScenarioError`). Swept and ``[set]``
values are set with :meth:`Scenario.with_values <sim.scenario.schema.Scenario.with_values>`; only
``--set`` text from the command line is parsed (once, by :func:`~sim.scenario.parse_override`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sim.errors import ExperimentError, ScenarioError
from sim.experiments.config import (
    FORBIDDEN_KEYS,
    TABLE_NAMES,
    ExecutorConfig,
    Experiment,
    RecordConfig,
    SensitivityConfig,
    validate_experiment,
)
from sim.experiments.identity import name_problem
from sim.experiments.runlist import CommonSeedGridRunList, DrawRunList, GridRunList, column_name
from sim.scenario import Scenario, load_scenario, parse_override, with_overrides

__all__ = [
    "FORBIDDEN_KEYS",
    "TABLE_NAMES",
    "ExecutorConfig",
    "Experiment",
    "RecordConfig",
    "ResolvedExperiment",
    "SensitivityConfig",
    "column_name",
    "flatten",
    "load_experiment",
    "resolve_experiment",
    "validate_experiment",
]

MAX_CHECKED_COMBINATIONS = 500
"""Up to this many scenario x sweep-point combinations are each validated when loading (beyond, each
swept value is still checked on its own, and a run whose combination is invalid fails and is recorded)."""


# --------------------------------------------------------------------------------------
# The resolved experiment


@dataclass(frozen=True)
class ResolvedExperiment:
    """An experiment with its scenarios loaded and validated; :attr:`run_list` is its run list.

    Attributes:
        spec: the experiment as written (``set`` holds the file's fixed overrides).
        source: the experiment file (or ``"<experiment>"`` when built in Python).
        scenario_paths: the scenario files as written in the experiment.
        scenario_files: the scenario files as resolved (relative to the experiment file).
        scenarios: every scenario, with ``[set]`` and ``--set`` overrides applied (before sweeps).
        sweep: ``(key path, values)`` pairs in file order (the first varies slowest).
        overrides: the ``--set`` expressions from the command line.
    """

    spec: Experiment
    source: str
    scenario_paths: tuple[str, ...]
    scenario_files: tuple[str, ...]
    scenarios: tuple[Scenario, ...]
    sweep: tuple[tuple[str, tuple[Any, ...]], ...]
    overrides: tuple[str, ...] = ()

    # ---- sizes
    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.name

    @property
    def names(self) -> tuple[str, ...]:
        """Scenario names, in run-list order."""
        return tuple(s.name for s in self.scenarios)

    @property
    def replicates(self) -> int:
        """Replicates per scenario and sweep point."""
        return self.spec.replicates

    @property
    def seed(self) -> int:
        """The root seed."""
        return self.spec.seed

    @property
    def n_points(self) -> int:
        """Number of sweep points (1 without a sweep)."""
        return math.prod(len(values) for _key, values in self.sweep)

    @property
    def n_draws(self) -> int:
        """Parameter draws per scenario and sweep point (1 without ``[uncertainty]``)."""
        return self.spec.uncertainty.draws if self.spec.uncertainty is not None else 1

    @property
    def runs_total(self) -> int:
        """Length of the run list: scenarios x sweep points x parameter draws x replicates."""
        return len(self.scenarios) * self.n_points * self.n_draws * self.replicates

    def describe_size(self) -> str:
        """``7 scenario(s) x 1 sweep point(s) x 50 parameter draw(s) x 2 replicate(s)`` (draws only when drawn)."""
        draws = f" x {self.n_draws} parameter draw(s)" if self.spec.uncertainty is not None else ""
        return (f"{len(self.scenarios)} scenario(s) x {self.n_points} sweep point(s){draws} x "
                f"{self.replicates} replicate(s)")

    # ---- the run list
    @cached_property
    def run_list(self) -> GridRunList:
        """Scenarios x sweep points x replicates (see :class:`~sim.experiments.runlist.GridRunList`), with
        posterior draws when the file has ``[uncertainty]`` (:class:`~sim.experiments.runlist.DrawRunList`)."""
        if self.spec.uncertainty is not None:
            return DrawRunList(self.scenarios, self.replicates, self.seed, sweep=self.sweep, source=self.source,
                               token=self.hash, draws=posterior_draws(self.spec.uncertainty.draws,
                                                                     self.spec.uncertainty.posterior))
        if self.spec.robustness is not None:  # common random numbers across the derived scenarios
            return CommonSeedGridRunList(self.scenarios, self.replicates, self.seed, sweep=self.sweep,
                                         source=self.source, token=self.hash)
        return GridRunList(self.scenarios, self.replicates, self.seed, sweep=self.sweep, source=self.source,
                           token=self.hash)

    @property
    def sweep_columns(self) -> dict[str, str]:
        """Swept key path -> its column name in every table (dots replaced by ``__``)."""
        return {key: column_name(key) for key, _values in self.sweep}

    @property
    def column_dtypes(self) -> dict[str, str]:
        """pandas dtype of each label column (the same in every part of every table)."""
        return self.run_list.column_dtypes

    # ---- identity
    def to_json(self) -> dict[str, Any]:
        """The resolved experiment as JSON-ready data (for the manifest)."""
        return {
            "name": self.spec.name,
            "description": self.spec.description,
            "source": self.source,
            "scenarios": [{"path": p, "file": f, "name": s.name}
                          for p, f, s in zip(self.scenario_paths, self.scenario_files, self.scenarios, strict=True)],
            "replicates": self.replicates,
            "seed": self.seed,
            "sweep": {key: list(values) for key, values in self.sweep},
            "set": self.spec.set,
            "overrides": list(self.overrides),
            "record": self.spec.record.model_dump(mode="json"),
            "executor": self.spec.executor.model_dump(mode="json"),
            "sweep_points": self.n_points,
            "runs_total": self.runs_total,
            "run_order": "scenario, then sweep point (last sweep key fastest), then replicate",
            **({"robustness": self.spec.robustness.model_dump(mode="json"), "seeds": "common random numbers"}
               if self.spec.robustness is not None else {}),
        }

    @cached_property
    def hash(self) -> str:
        """A stable hash of everything that decides the runs' results.

        Covers the resolved scenarios (not their file names), the sweep, replicates, the root
        seed and what is recorded; leaves out the executor, the description and the part size,
        so a batch may be resumed with other workers or on another executor.
        """
        identity = {
            "scenarios": [s.model_dump(mode="json") for s in self.scenarios],
            "sweep": [[key, list(values)] for key, values in self.sweep],
            "replicates": self.replicates,
            "seed": self.seed,
            "tables": sorted(self.spec.record.tables),
            "every": self.spec.record.every,
        }
        payload = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


# --------------------------------------------------------------------------------------
# Helpers


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c.d": 2}`` -> ``{"a.b": 1, "c.d": 2}`` (leaves are any non-table value)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def _check_key(source: str, section: str, key: str) -> None:
    for forbidden, why in FORBIDDEN_KEYS.items():
        if key == forbidden:
            raise ExperimentError(source, f"{section}.{key}", f"cannot be set in an experiment: {why}")


def _read_experiment_file(path: Path) -> dict[str, Any]:
    from sim.scenario.loading import read_toml

    try:
        return read_toml(path)
    except ScenarioError as exc:
        raise ExperimentError(exc.source, exc.key, exc.message) from None


# --------------------------------------------------------------------------------------
# Loading


def resolve_experiment(spec: Experiment | dict[str, Any], *, base_dir: str | Path = ".",
                       source: str = "<experiment>", overrides: list[str] | tuple[str, ...] = ()) -> ResolvedExperiment:
    """Load an experiment's scenarios, apply ``[set]`` and ``overrides``, check the sweep.

    Args:
        spec: the experiment (or a dictionary of it, validated here).
        base_dir: the folder scenario paths are relative to (the experiment file's folder).
        source: what to name in error messages (the experiment file).
        overrides: ``key.path=value`` expressions applied to every scenario after ``[set]``.

    Raises:
        ExperimentError: an invalid experiment value, naming ``source`` and the key path.
        ScenarioError: an invalid scenario file (naming it) or ``--set`` override.
    """
    if not isinstance(spec, Experiment):
        spec = validate_experiment(spec, source)
    base_dir = Path(base_dir)
    fixed = flatten(spec.set)
    for key, value in fixed.items():
        _check_key(source, "set", key)
        if isinstance(value, dict):
            raise ExperimentError(source, f"set.{key}", "empty table; give a value")
    sweep_raw = flatten(spec.sweep)
    sweep: list[tuple[str, tuple[Any, ...]]] = []
    for key, values in sweep_raw.items():
        _check_key(source, "sweep", key)
        if not isinstance(values, list):
            raise ExperimentError(source, f"sweep.{key}",
                                  f"expected a list of values to sweep, got {values!r} "
                                  "(only lists are swept; put a single value under [set])")
        if not values:
            raise ExperimentError(source, f"sweep.{key}", "empty list; give at least one value")
        if key in fixed:
            raise ExperimentError(source, f"sweep.{key}", "is also under [set]; a key is either set or swept")
        sweep.append((key, tuple(values)))
    for expression in overrides:
        parts, _value = parse_override(expression)
        key = ".".join(parts)
        if key in FORBIDDEN_KEYS:
            raise ScenarioError(f"--set {expression}", key, f"cannot be set in a batch: {FORBIDDEN_KEYS[key]}")
        if key in sweep_raw:
            raise ScenarioError(f"--set {expression}", key, f"is swept by {source}; a key is either set or swept")

    paths: list[str] = []
    files: list[str] = []
    scenarios: list[Scenario] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(spec.scenarios):
        path = Path(os.path.normpath(Path(entry) if Path(entry).is_absolute() else base_dir / entry))
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "not found"
            raise ExperimentError(source, f"scenarios[{i}]",
                                  f"scenario file {entry!r} {what} (looked for {path.absolute()}; paths are relative to "
                                  "the experiment file)")
        scenario = _load_with_overrides(path, fixed, overrides, source)
        if scenario.name in seen:
            raise ExperimentError(source, f"scenarios[{i}]",
                                  f"scenario name {scenario.name!r} is also the name of scenarios[{seen[scenario.name]}]; "
                                  "names label the results and must differ")
        seen[scenario.name] = i
        paths.append(entry)
        files.append(str(path))
        scenarios.append(scenario)
    if spec.robustness is not None:
        from sim.experiments.robustness import condition_of, expand

        by_name = dict(zip([s.name for s in scenarios], zip(paths, files, strict=True), strict=True))
        scenarios = list(expand(tuple(scenarios), spec.robustness, source))
        paths = [by_name[condition_of(s.name)[0]][0] for s in scenarios]
        files = [by_name[condition_of(s.name)[0]][1] for s in scenarios]
    resolved = ResolvedExperiment(spec=spec, source=source, scenario_paths=tuple(paths),
                                  scenario_files=tuple(files), scenarios=tuple(scenarios), sweep=tuple(sweep),
                                  overrides=tuple(overrides))
    _check_sweep(resolved)
    return resolved


def _load_with_overrides(path: Path, fixed: dict[str, Any], overrides: tuple[str, ...] | list[str],
                         source: str) -> Scenario:
    scenario = load_scenario(path)
    if not fixed and not overrides:
        return scenario
    with_fixed = scenario
    for key, value in fixed.items():  # one at a time: an error names the [set] key at fault
        try:
            with_fixed = with_fixed.with_values({key: value}, source=f"{source} [set]")
        except ScenarioError as exc:
            raise ExperimentError(source, f"set.{key}", _scenario_message(exc, key, scenario.name)) from None
    return with_overrides(with_fixed, list(overrides))


def _scenario_message(exc: ScenarioError, key: str, scenario_name: str) -> str:
    inner = f"{exc.key}: " if exc.key and exc.key != key else ""
    return f"{inner}{exc.message} (in scenario {scenario_name!r})"


def _check_sweep(experiment: ResolvedExperiment) -> None:
    """Validate every swept value on every scenario, then every combination (when not too many)."""
    source = experiment.source
    for scenario in experiment.scenarios:
        for key, values in experiment.sweep:
            for j, value in enumerate(values):
                try:
                    scenario.with_values({key: value}, source=source)
                except ScenarioError as exc:
                    whole_key = exc.message.startswith("unknown key") or exc.message.endswith("not a table")
                    where = f"sweep.{key}" if whole_key else f"sweep.{key}[{j}]"
                    raise ExperimentError(source, where, _scenario_message(exc, key, scenario.name)) from None
    if len(experiment.sweep) < 2 or len(experiment.scenarios) * experiment.n_points > MAX_CHECKED_COMBINATIONS:
        return
    runs = experiment.run_list
    for s, scenario in enumerate(experiment.scenarios):
        for p in range(experiment.n_points):
            run = runs[(s * experiment.n_points + p) * experiment.replicates]
            try:
                runs.scenario_for(run)
            except ScenarioError as exc:
                point = ", ".join(f"{k} = {v!r}" for k, v in run.values.items())
                raise ExperimentError(source, "sweep", f"the combination {point} is invalid in scenario "
                                      f"{scenario.name!r}: {exc.key}: {exc.message}") from None


def load_experiment(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ResolvedExperiment:
    """Read, validate and resolve an experiment file.

    Args:
        path: the experiment TOML file.
        overrides: ``--set key.path=value`` expressions applied to every scenario.

    Returns:
        The :class:`ResolvedExperiment`; ``len`` of its run list is ``runs_total``.

    Raises:
        ExperimentError: naming the file, the key path and what is allowed.
        ScenarioError: an invalid scenario file or ``--set`` override.

    Example:
        >>> experiment = load_experiment("experiments/smoke.toml")  # doctest: +SKIP
        >>> experiment.runs_total  # doctest: +SKIP
        4
    """
    path = Path(path)
    data = _read_experiment_file(path)
    if "name" not in data:
        problem = name_problem(path.stem)
        if problem:
            raise ExperimentError(str(path), "name", f"no name given, and the file name {path.stem!r} cannot be one "
                                  f"({problem}); add name = \"...\" to the file")
        data["name"] = path.stem
    spec = validate_experiment(data, str(path))
    return resolve_experiment(spec, base_dir=path.parent, source=str(path), overrides=overrides)


def posterior_draws(n: int, posterior: str = "projection") -> tuple[dict[str, float], ...]:
    """``n`` evenly spaced rows of a shipped posterior, each as key path -> value."""
    import numpy as np

    from sim.data import load_posterior

    table = load_posterior(posterior).drop(columns="draw")
    rows = np.linspace(0, len(table) - 1, min(n, len(table))).round().astype(int)
    return tuple({key: float(table.iloc[row][key]) for key in table.columns} for row in rows)
