"""The run list: what every ensemble produces, one row per run.

A row (:class:`Run`) is a run id, a scenario, parameter values (dotted key path -> value, set with
:meth:`Scenario.with_values <sim.scenario.schema.Scenario.with_values>`) and a seed. Runs come in
*points*: the runs of a point share the scenario and the values and differ only in the replicate
(and so the seed). Points come first, replicates fastest: run ``point * replicates + replicate``.

Two run lists, both lazy (a row is built when asked for, so a list of a million runs costs nothing
and ships to workers cheaply):

* :class:`GridRunList`: scenarios x sweep points x replicates (``sim batch``). Run ``i`` is seeded
  with child ``i`` of ``SeedSequence(seed)``.
* :class:`DrawRunList`: a grid run with every parameter draw of a posterior (``[uncertainty]``),
  with common random numbers across scenarios.
* :class:`DesignRunList`: the rows of a design matrix x replicates (``sim sensitivity``). Common
  random numbers: replicate ``r`` of every point is seeded with child ``r`` of ``SeedSequence(seed)``,
  so differences between points come from the values, not from the draws.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from sim.scenario import Scenario

__all__ = ["CommonSeedGridRunList", "DesignRunList", "DrawRunList", "GridRunList", "Run", "RunList", "column_name", "label_value", "run_seed", "sweep_dtype"]


def run_seed(root_seed: int, index: int) -> np.random.SeedSequence:
    """Child ``index`` of ``SeedSequence(root_seed)``.

    Equal to ``np.random.SeedSequence(root_seed).spawn(n)[index]`` for any ``n > index``, but
    built without spawning the children before it.
    """
    return np.random.SeedSequence(root_seed, spawn_key=(index,))


def column_name(key: str) -> str:
    """The column of a key path in the tables: ``investment.rd_intensity_target`` -> ``investment__rd_intensity_target``."""
    return key.replace(".", "__")


def sweep_dtype(values: Sequence[Any]) -> str:
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


@dataclass(frozen=True)
class Run:
    """One row of a run list.

    Attributes:
        run_id: position in the run list.
        scenario: the base scenario (before ``values``), or None when the evaluator needs none.
        values: dotted key path -> value, set on the scenario for this run.
        seed: the run's ``SeedSequence``.
        point: the point (scenario and values) the run belongs to.
        replicate: 0 .. replicates - 1 within the point.
        scenario_index: the scenario's position in the run list's scenarios.
    """

    run_id: int
    scenario: Scenario | None
    values: Mapping[str, Any]
    seed: np.random.SeedSequence
    point: int
    replicate: int
    scenario_index: int = 0


_SCENARIOS: dict[tuple[str, int], Scenario] = {}
"""Scenarios of points already built in this process (workers build each point once)."""


@dataclass(frozen=True, eq=False)
class RunList(Sequence[Run]):
    """Points x replicates, point-major. Subclasses say what a point is.

    Attributes:
        scenarios: the base scenarios a point refers to (``(None,)`` for a function of the values alone).
        replicates: runs per point.
        seed: the root seed.
    """

    scenarios: tuple[Scenario | None, ...]
    replicates: int
    seed: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex, kw_only=True)
    """Names this run list in caches (kept when pickled to workers)."""

    common_seeds = False
    """True: replicate ``r`` of every point gets child ``r`` of the root seed; False: run ``i`` gets child ``i``."""

    # ---- what subclasses define
    @property
    def n_points(self) -> int:
        """Number of points."""
        raise NotImplementedError

    def point(self, index: int) -> tuple[int, dict[str, Any]]:
        """The scenario index and values of point ``index``."""
        raise NotImplementedError

    def describe_point(self, index: int) -> str:
        """How error messages name point ``index``."""
        return f"point {index}"

    def typed_values(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """``values`` as they are set on the scenario."""
        return values

    # ---- the rows
    def __len__(self) -> int:
        return self.n_points * self.replicates

    def __getitem__(self, run_id: int) -> Run:  # type: ignore[override]
        if not isinstance(run_id, (int, np.integer)):
            raise TypeError(f"run ids are integers, got {run_id!r}")
        if not 0 <= run_id < len(self):
            raise IndexError(f"run_id {run_id} out of range 0..{len(self) - 1}")
        point, replicate = divmod(int(run_id), self.replicates)
        scenario_index, values = self.point(point)
        seed = run_seed(self.seed, replicate if self.common_seeds else int(run_id))
        return Run(int(run_id), self.scenarios[scenario_index], values, seed, point, replicate, scenario_index)

    def __iter__(self) -> Iterator[Run]:
        return (self[i] for i in range(len(self)))

    def runs_of_point(self, point: int) -> list[Run]:
        """The runs of point ``point``, replicate 0 first."""
        start = point * self.replicates
        return [self[i] for i in range(start, start + self.replicates)]

    def scenario_for(self, run: Run) -> Scenario | None:
        """The scenario of ``run``: its base scenario with its values set (validated; built once per point)."""
        if run.scenario is None:
            return None
        if not run.values:
            return run.scenario
        key = (self.token, run.point)
        scenario = _SCENARIOS.get(key)
        if scenario is None:
            if len(_SCENARIOS) > 256:
                _SCENARIOS.clear()
            scenario = run.scenario.with_values(self.typed_values(run.values), source=self.describe_point(run.point))
            _SCENARIOS[key] = scenario
        return scenario


@dataclass(frozen=True, eq=False)
class GridRunList(RunList):
    """Scenarios x sweep points x replicates: scenario-major, then sweep point (last key fastest), then replicate.

    Attributes:
        sweep: ``(key path, values)`` pairs; the sweep points are their product.
        source: what error messages name (the experiment file).
    """

    sweep: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    source: str = "<experiment>"

    @property
    def sweep_points(self) -> int:
        """Number of sweep points (1 without a sweep)."""
        return math.prod(len(values) for _key, values in self.sweep)

    @property
    def n_points(self) -> int:
        """Scenarios x sweep points."""
        return len(self.scenarios) * self.sweep_points

    def sweep_point(self, index: int) -> dict[str, Any]:
        """Sweep point ``index`` as ``{key path: value}`` (the last key varies fastest)."""
        values: dict[str, Any] = {}
        for key, options in reversed(self.sweep):
            index, j = divmod(index, len(options))
            values[key] = options[j]
        return dict(reversed(list(values.items())))

    def point(self, index: int) -> tuple[int, dict[str, Any]]:
        """Scenario index and sweep values of point ``index``."""
        scenario_index, sweep_index = divmod(index, self.sweep_points)
        return scenario_index, self.sweep_point(sweep_index)

    def describe_point(self, index: int) -> str:
        """``<experiment file> (sweep point j)``."""
        return f"{self.source} (sweep point {index % self.sweep_points})"

    @cached_property
    def column_dtypes(self) -> dict[str, str]:
        """pandas dtype of each label column (the same in every part of every table)."""
        dtypes = {"scenario": "string", "replicate": "int64"}
        for key, values in self.sweep:
            dtypes[column_name(key)] = sweep_dtype(values)
        return dtypes

    def labels(self, run: Run) -> dict[str, Any]:
        """The label columns of a run: scenario, replicate and one column per swept key path."""
        labels: dict[str, Any] = {"scenario": self.scenarios[run.scenario_index].name, "replicate": run.replicate}
        for key, value in run.values.items():
            labels[column_name(key)] = label_value(value, self.column_dtypes[column_name(key)])
        return labels


@dataclass(frozen=True, eq=False)
class CommonSeedGridRunList(GridRunList):
    """A :class:`GridRunList` with common random numbers: replicate ``r`` of every scenario and sweep
    point is seeded with child ``r`` of the root seed (robustness experiments compare scenarios pairwise)."""

    common_seeds = True


@dataclass(frozen=True, eq=False)
class DrawRunList(GridRunList):
    """Scenarios x sweep points x parameter draws x replicates, with common random numbers.

    Each point of the grid is run with every draw (a dict of key path -> value, e.g. rows of the
    shipped posterior) and ``replicates`` seeds. Replicate ``r`` of draw ``d`` is seeded with child
    ``d * replicates + r`` of the root seed in every scenario and sweep point, so a difference
    between scenarios for the same draw and replicate comes from the scenarios, not from the draws.
    Tables get a ``draw`` column and one column per drawn key path.

    Attributes:
        draws: the parameter draws.
    """

    draws: tuple[Mapping[str, float], ...] = ()

    @property
    def n_draws(self) -> int:
        """Number of draws (1 without any)."""
        return max(1, len(self.draws))

    @property
    def n_points(self) -> int:
        """Scenarios x sweep points x draws."""
        return len(self.scenarios) * self.sweep_points * self.n_draws

    def point(self, index: int) -> tuple[int, dict[str, Any]]:
        """Scenario index and the sweep and draw values of point ``index``."""
        grid, draw = divmod(index, self.n_draws)
        scenario_index, values = super().point(grid)
        if self.draws:
            values = {**values, **self.draws[draw]}
        return scenario_index, values

    def describe_point(self, index: int) -> str:
        """``<experiment file> (sweep point j, draw d)``."""
        grid, draw = divmod(index, self.n_draws)
        return f"{self.source} (sweep point {grid % self.sweep_points}, draw {draw})"

    def __getitem__(self, run_id: int) -> Run:  # type: ignore[override]
        run = super().__getitem__(run_id)
        draw = run.point % self.n_draws
        seed = run_seed(self.seed, draw * self.replicates + run.replicate)
        return Run(run.run_id, run.scenario, run.values, seed, run.point, run.replicate, run.scenario_index)

    @cached_property
    def column_dtypes(self) -> dict[str, str]:
        """pandas dtype of each label column: the grid's, ``draw`` and every drawn key path."""
        dtypes = dict(super().column_dtypes)
        dtypes["draw"] = "int64"
        for key in (self.draws[0] if self.draws else {}):
            dtypes[column_name(key)] = "float64"
        return dtypes

    def labels(self, run: Run) -> dict[str, Any]:
        """The grid's labels, the draw and its values."""
        labels = super().labels(run)
        labels["draw"] = run.point % self.n_draws
        return labels


@dataclass(frozen=True, eq=False)
class DesignRunList(RunList):
    """The rows of a design matrix x replicates, with common random numbers.

    Attributes:
        design: the sample matrix, one row per point, one column per name.
        names: the key paths (or, for a function of the values, any names) of the columns.
    """

    design: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    names: tuple[str, ...] = ()

    common_seeds = True

    @classmethod
    def build(cls, design: np.ndarray, names: Sequence[str], scenario: Scenario | None = None, replicates: int = 1,
              seed: int = 0) -> DesignRunList:
        """The run list of ``design`` on ``scenario`` (None: the evaluator is a function of the values alone)."""
        design = np.asarray(design, dtype=float)
        if design.ndim != 2 or design.shape[1] != len(names):
            raise ValueError(f"design: expected {len(names)} columns, got shape {design.shape}")
        if replicates < 1:
            raise ValueError(f"replicates: expected at least 1, got {replicates}")
        return cls((scenario,), replicates, seed, design=design, names=tuple(names))

    @property
    def n_points(self) -> int:
        """Rows of the design."""
        return int(self.design.shape[0])

    def point(self, index: int) -> tuple[int, dict[str, Any]]:
        """Row ``index`` of the design as ``{name: float}``."""
        return 0, {name: float(v) for name, v in zip(self.names, self.design[index], strict=True)}

    def describe_point(self, index: int) -> str:
        """``sensitivity design point {values}``."""
        return f"sensitivity design point {self.point(index)[1]}"

    @cached_property
    def integer_keys(self) -> frozenset[str]:
        """Key paths whose value in the scenario is an integer (a design value is rounded for them)."""
        scenario = self.scenarios[0]
        if scenario is None:
            return frozenset()
        data = scenario.model_dump(mode="json")
        keys = set()
        for key in self.names:
            node: Any = data
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, int) and not isinstance(node, bool):
                keys.add(key)
        return frozenset(keys)

    def typed_values(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """Design values, rounded where the scenario holds an integer."""
        return {key: int(round(value)) if key in self.integer_keys else float(value) for key, value in values.items()}
