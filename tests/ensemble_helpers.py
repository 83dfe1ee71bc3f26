"""Test-only evaluators plugged into the experiment runner: the Ishigami function and failure injection.

They are top-level classes in an importable module, so that process-pool and Dask workers can
unpickle them (spawned workers get the test process's ``sys.path``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from sim.experiments.batch import simulate_run
from sim.experiments.runlist import Run

PI = math.pi
ISHIGAMI = (("x1", -PI, PI), ("x2", -PI, PI), ("x3", -PI, PI))
"""The Ishigami parameters with their bounds, as ``SensitivitySpec.parameters``."""


class IshigamiEvaluator:
    """The Ishigami-Homma function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` on ``[-pi, pi]^3``.

    Its Sobol indices are known analytically (:func:`ishigami_indices`); it checks that the design,
    the run list, the executor, the results folder and the analysis fit together. The parameters
    are named ``x1``, ``x2``, ``x3``; the outcome is ``y``. It needs no scenario and ignores the seed.
    """

    outputs: tuple[str, ...] = ("y",)

    def __init__(self, a: float = 7.0, b: float = 0.1) -> None:
        self.a = a
        self.b = b

    def value(self, x1: float, x2: float, x3: float) -> float:
        """``f(x1, x2, x3)``."""
        return math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3**4 * math.sin(x1)

    def __call__(self, run: Run, scenario: Any = None) -> dict[str, float]:
        """``{"y": f(x1, x2, x3)}`` at the run's values."""
        return {"y": self.value(run.values["x1"], run.values["x2"], run.values["x3"])}

    def describe(self) -> dict[str, Any]:
        """For the manifest."""
        return {"kind": "ishigami", "a": self.a, "b": self.b}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, np.ndarray]:
    """Analytic first- and total-order Sobol indices of the Ishigami function on ``[-pi, pi]^3``.

    ``V1 = 1/2 (1 + b pi^4 / 5)^2``, ``V2 = a^2 / 8``, ``V13 = b^2 pi^8 (1/18 - 1/50)``,
    ``V = V1 + V2 + V13``; ``S = (V1, V2, 0) / V`` and ``ST = (V1 + V13, V2, V13) / V``.
    """
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return {"S1": np.array([v1, v2, 0.0]) / total, "ST": np.array([v1 + v13, v2, v13]) / total}


class FailingPoints:
    """An outcome evaluator that raises ``RuntimeError("boom")`` at the given design points."""

    def __init__(self, inner: Callable[[Run, Any], dict[str, float]], points: Iterable[int]) -> None:
        self.inner = inner
        self.points = frozenset(points)

    def __call__(self, run: Run, scenario: Any = None) -> dict[str, float]:
        if run.point in self.points:
            raise RuntimeError("boom")
        return self.inner(run, scenario)

    def describe(self) -> dict[str, Any]:
        return {"kind": "failing", "points": sorted(self.points)}


class FailingRuns:
    """A batch evaluator that raises at the given run ids and runs the model for the others."""

    def __init__(self, run_ids: Iterable[int]) -> None:
        self.run_ids = frozenset(run_ids)

    def __call__(self, scenario: Any, run: Run):
        if run.run_id in self.run_ids:
            raise RuntimeError(f"failure injected by the test evaluator at run {run.run_id}")
        return simulate_run(scenario, run)


# --------------------------------------------------------------------------------------
# Results folders and processes in tests

SORT_KEYS = {
    "runs": ["run_id"],
    "national": ["run_id", "year"],
    "province": ["run_id", "year", "province"],
    "events": ["run_id", "year", "type", "province", "detail"],
}


def read_sorted(folder, table: str):
    """A table of a results folder in a fixed row order (parts may finish in any order)."""
    import pandas as pd

    frame = pd.read_parquet(folder / table)
    return frame.sort_values(SORT_KEYS[table], kind="stable").reset_index(drop=True)


def assert_same_tables(left, right, tables=("runs", "national", "province", "events")) -> None:
    """The tables of two results folders hold the same rows, columns, dtypes and values."""
    from pandas.testing import assert_frame_equal

    for table in tables:
        assert_frame_equal(read_sorted(left, table), read_sorted(right, table), obj=table)


def sim_env() -> dict[str, str]:
    """The environment of a ``python -m sim`` subprocess: this source tree first on the path."""
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    return {**os.environ, "PYTHONPATH": str(root)}


def descendants(pid: int) -> list[int]:
    """Process ids of every descendant of ``pid`` (its workers), from ``/proc``."""
    from pathlib import Path

    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie, finished but not reaped, does not count)."""
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def commits_in(folder) -> int:
    """Blocks committed so far in a results folder (its ``runs/_commit-*.json`` files)."""
    directory = folder / "runs"
    return len(list(directory.glob("_commit-*.json"))) if directory.is_dir() else 0
