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

Every error is an :class:`~sim.errors.ExperimentError` naming the file, the key path and what is
allowed (errors inside a scenario file name that file, as a :class:`~sim.errors.ScenarioError`).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ExperimentError, ScenarioError
from sim.scenario import Scenario, apply_values, load_scenario, parse_override, validate_scenario

TABLE_NAMES: tuple[str, ...] = ("national", "province", "events")
"""Tables an experiment can record (``runs`` is always written)."""
FORBIDDEN_KEYS: dict[str, str] = {
    "name": "the scenario name labels the results; give the scenario its own file instead",
    "description": "it does not change a run",
    "run.seed": "a batch seeds every run from the experiment's root seed (top-level key seed)",
}
"""Scenario key paths that may not be set or swept in an experiment, and why."""
MAX_CHECKED_COMBINATIONS = 500
"""Up to this many scenario x sweep-point combinations are each validated when loading (beyond, each
swept value is still checked on its own, and a run whose combination is invalid fails and is recorded)."""


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
    """End-year national outcomes to analyse (default: gini, theil_between_region, gdp_cny_bn,
    interior_research_share)."""


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


# --------------------------------------------------------------------------------------
# The resolved experiment


@dataclass(frozen=True)
class RunSpec:
    """One run of the run list: which scenario, which sweep point, which replicate."""

    run_id: int
    scenario_index: int
    point_index: int
    replicate: int


@dataclass(frozen=True)
class ResolvedExperiment:
    """An experiment with its scenarios loaded and validated; the run list is derived from it.

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
    _dumps: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)

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
    def runs_total(self) -> int:
        """Length of the run list: scenarios x sweep points x replicates."""
        return len(self.scenarios) * self.n_points * self.replicates

    # ---- the run list
    def run_spec(self, run_id: int) -> RunSpec:
        """The scenario, sweep point and replicate of run ``run_id`` (scenario-major order)."""
        if not 0 <= run_id < self.runs_total:
            raise IndexError(f"run_id {run_id} out of range 0..{self.runs_total - 1}")
        per_scenario = self.n_points * self.replicates
        scenario_index, rest = divmod(run_id, per_scenario)
        point_index, replicate = divmod(rest, self.replicates)
        return RunSpec(run_id, scenario_index, point_index, replicate)

    def point(self, index: int) -> dict[str, Any]:
        """Sweep point ``index`` as ``{key path: value}`` (the last key varies fastest)."""
        values: dict[str, Any] = {}
        for key, options in reversed(self.sweep):
            index, j = divmod(index, len(options))
            values[key] = options[j]
        return dict(reversed(list(values.items())))

    @property
    def sweep_columns(self) -> dict[str, str]:
        """Swept key path -> its column name in every table (dots replaced by ``__``)."""
        return {key: column_name(key) for key, _values in self.sweep}

    def labels(self, spec: RunSpec) -> dict[str, Any]:
        """The label columns of a run: scenario, replicate and one column per swept key path."""
        labels: dict[str, Any] = {"scenario": self.scenarios[spec.scenario_index].name,
                                  "replicate": spec.replicate}
        for key, value in self.point(spec.point_index).items():
            labels[column_name(key)] = label_value(value, self.column_dtypes[column_name(key)])
        return labels

    @cached_property
    def column_dtypes(self) -> dict[str, str]:
        """pandas dtype of each label column (the same in every part of every table)."""
        dtypes = {"scenario": "string", "replicate": "int64"}
        for key, values in self.sweep:
            dtypes[column_name(key)] = sweep_dtype(values)
        return dtypes

    def scenario_for(self, scenario_index: int, point_index: int) -> Scenario:
        """The scenario of one sweep point, validated (sweep values applied to the base scenario)."""
        base = self.scenarios[scenario_index]
        if not self.sweep:
            return base
        dumps = self._dumps or tuple(s.model_dump(mode="json") for s in self.scenarios)
        data = copy.deepcopy(dumps[scenario_index])
        for key, value in self.point(point_index).items():
            set_path(data, key, value, self.source)
        return validate_scenario(data, f"{self.source} (sweep point {point_index})")

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

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_dumps", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_dumps", tuple(s.model_dump(mode="json") for s in self.scenarios))


# --------------------------------------------------------------------------------------
# Helpers


def column_name(key: str) -> str:
    """The column name of a swept key path: ``investment.rd_intensity_target`` -> ``investment__rd_intensity_target``."""
    return key.replace(".", "__")


def sweep_dtype(values: tuple[Any, ...] | list[Any]) -> str:
    """The pandas dtype of a swept column: bool, int64, float64, or string (lists/tables as JSON)."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float64"
    return "string"


def label_value(value: Any, dtype: str) -> Any:
    """A swept value as it is stored in its column."""
    if dtype == "float64":
        return float(value)
    if dtype == "string":
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return value


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


def set_path(data: dict[str, Any], key: str, value: Any, source: str, where: str | None = None) -> None:
    """Set ``data[a][b]... = value`` for the key path ``a.b...`` (in place).

    Raises:
        ExperimentError: naming ``source`` and ``where`` (default ``key``) when a part of the path
            is a value, not a table.
    """
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ExperimentError(source, where or key, f"{part!r} is a value, not a table")
        node = child
    node[parts[-1]] = copy.deepcopy(value)


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
    resolved = ResolvedExperiment(spec=spec, source=source, scenario_paths=tuple(paths),
                                  scenario_files=tuple(files), scenarios=tuple(scenarios), sweep=tuple(sweep),
                                  overrides=tuple(overrides),
                                  _dumps=tuple(s.model_dump(mode="json") for s in scenarios))
    _check_sweep(resolved)
    return resolved


def _load_with_overrides(path: Path, fixed: dict[str, Any], overrides: tuple[str, ...] | list[str],
                         source: str) -> Scenario:
    scenario = load_scenario(path)
    if not fixed and not overrides:
        return scenario
    data = scenario.model_dump(mode="json")
    for key, value in fixed.items():
        set_path(data, key, value, source, f"set.{key}")
        try:
            validate_scenario(data, f"{source} [set]")
        except ScenarioError as exc:
            raise ExperimentError(source, f"set.{key}", _scenario_message(exc, key, scenario.name)) from None
    with_fixed = validate_scenario(data, str(path))
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for expression in overrides:
        parts, value = parse_override(expression)
        values[".".join(parts)] = value
        origins[".".join(parts)] = f"--set {expression}"
    return apply_values(with_fixed, values, origins, str(path))


def _scenario_message(exc: ScenarioError, key: str, scenario_name: str) -> str:
    inner = f"{exc.key}: " if exc.key and exc.key != key else ""
    return f"{inner}{exc.message} (in scenario {scenario_name!r})"


def _check_sweep(experiment: ResolvedExperiment) -> None:
    """Validate every swept value on every scenario, then every combination (when not too many)."""
    source = experiment.source
    for s, scenario in enumerate(experiment.scenarios):
        base = experiment._dumps[s]
        for key, values in experiment.sweep:
            for j, value in enumerate(values):
                data = copy.deepcopy(base)
                set_path(data, key, value, source, f"sweep.{key}")
                try:
                    validate_scenario(data, source)
                except ScenarioError as exc:
                    where = f"sweep.{key}" if exc.message.startswith("unknown key") else f"sweep.{key}[{j}]"
                    raise ExperimentError(source, where, _scenario_message(exc, key, scenario.name)) from None
    if len(experiment.sweep) < 2 or len(experiment.scenarios) * experiment.n_points > MAX_CHECKED_COMBINATIONS:
        return
    for s, scenario in enumerate(experiment.scenarios):
        for p in range(experiment.n_points):
            try:
                experiment.scenario_for(s, p)
            except ScenarioError as exc:
                point = ", ".join(f"{k} = {v!r}" for k, v in experiment.point(p).items())
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
    data.setdefault("name", path.stem)
    spec = validate_experiment(data, str(path))
    return resolve_experiment(spec, base_dir=path.parent, source=str(path), overrides=overrides)


def iter_points(experiment: ResolvedExperiment):
    """Every sweep point in run-list order (``itertools.product`` order of the sweep lists)."""
    keys = [key for key, _values in experiment.sweep]
    for combination in itertools.product(*(values for _key, values in experiment.sweep)):
        yield dict(zip(keys, combination, strict=True))
