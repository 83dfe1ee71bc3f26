"""The batch's recorder: every run's national, province and events tables and its ``runs`` row.

:class:`ModelRecorder` runs each unit of a block (the model of the run's scenario with the run's
seed, or a pluggable evaluator) and builds the block's tables from the model's own columns
(``national_columns``, ``province_columns``, ``event_columns``: no list of model columns here), with
``run_id`` and the run's labels (scenario, replicate, swept values) in front. The tables of a block
are built once per block, not once per run, because a DataFrame costs far more to build than the
columns it holds; the result is the same table a DataFrame per run concatenated would give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.runlist import GridRunList, Run
from sim.experiments.tasks import Outcome, describe_exception

__all__ = ["DATA_TABLES", "RUNS_FIELDS", "ModelRecorder", "block_frame", "simulate_run"]

DATA_TABLES: tuple[str, ...] = ("national", "province", "events")
RUNS_FIELDS: dict[str, str] = {
    "status": "string",
    "error": "string",
    "seed_entropy": "string",
    "spawn_key": "string",
    "scenario_file": "string",
    "start_year": "int64",
    "end_year": "int64",
    "final_gdp_real_cny_bn": "float64",
    "final_gdp_per_capita_cny": "float64",
    "final_gini": "float64",
    "final_theil_between_region": "float64",
    "final_coast_interior_ratio": "float64",
    "final_interior_research_share": "float64",
    "final_research_output": "float64",
}
"""Columns of the ``runs`` table after ``run_id`` and the labels, with their dtypes."""


def simulate_run(scenario, run: Run):
    """The default evaluator of a batch: the model of ``scenario``, seeded with the run's seed, run to its end year
    (without Mesa's DataCollector: the batch's tables come from the model's own records)."""
    from sim.model import RegionalGrowthModel

    return RegionalGrowthModel(scenario, rng=run.seed, datacollector=False).run()


def _conform(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """The same column types in every part: labels as declared, categoricals as plain strings."""
    changes: dict[str, str] = {}
    for column, dtype in frame.dtypes.items():
        if column in dtypes:
            if str(dtype) != dtypes[column]:
                changes[column] = dtypes[column]
        elif isinstance(dtype, pd.CategoricalDtype):
            changes[column] = "str"
    if not changes:
        return frame
    frame = frame.copy(deep=False)
    for column, dtype in changes.items():  # column by column: much faster than DataFrame.astype(dict)
        frame[column] = frame[column].astype(dtype)
    return frame


def _join(pieces: Sequence[Any]) -> Any:
    """Columns of consecutive runs joined: numpy arrays and pandas extension arrays alike."""
    if len(pieces) == 1:
        return pieces[0]
    if isinstance(pieces[0], np.ndarray):
        return np.concatenate(pieces)
    return type(pieces[0])._concat_same_type(list(pieces))


def block_frame(pieces: Sequence[tuple[int, dict[str, Any], dict[str, Any]]]) -> pd.DataFrame:
    """One DataFrame of several runs' columns: ``run_id``, the labels, then the columns.

    Args:
        pieces: ``(run_id, labels, columns)`` per run, in run order; every run has the same columns.
    """
    rows = [len(next(iter(columns.values()))) if columns else 0 for _run_id, _labels, columns in pieces]
    front: dict[str, Any] = {"run_id": np.repeat(np.array([p[0] for p in pieces], dtype=np.int64), rows)}
    for key, value in pieces[0][1].items():
        values = [labels[key] for _run_id, labels, _columns in pieces]
        if isinstance(value, str):
            front[key] = pd.array(np.repeat(np.array(values, dtype=object), rows), dtype="string")
        else:
            front[key] = np.concatenate([np.full(n, v) for n, v in zip(rows, values, strict=True)])
    names = list(pieces[0][2])
    return pd.DataFrame({**front, **{name: _join([columns[name] for _r, _l, columns in pieces]) for name in names}})


@dataclass
class ModelRecorder:
    """Records every run of a batch: its national, province and events tables and a ``runs`` row.

    A run that raises is a ``runs`` row with ``status = "failed"``, the error and its labels, and
    no rows in the other tables.

    Attributes:
        data_tables: which of ``national``, ``province``, ``events`` to record.
        every: keep every k-th year of ``national`` and ``province`` (first and last always).
        scenario_files: the scenario file of each scenario of the run list.
        evaluator: ``evaluator(scenario, run) -> finished model``; the default runs the model with
            the run's seed (:func:`simulate_run`). Must be picklable for process and Dask executors.
    """

    data_tables: tuple[str, ...]
    every: int
    scenario_files: tuple[str, ...]
    evaluator: Callable[[Any, Run], Any] = simulate_run
    per_point: bool = field(default=False, init=False)

    @classmethod
    def for_experiment(cls, experiment: Any, evaluator: Callable[[Any, Run], Any] | None = None) -> ModelRecorder:
        """The recorder of an experiment's ``[record]`` table (a resolved experiment)."""
        record = experiment.spec.record
        return cls(tuple(t for t in DATA_TABLES if t in record.tables), record.every, experiment.scenario_files,
                   evaluator or simulate_run)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables written, ``runs`` last."""
        return (*self.data_tables, "runs")

    def _columns(self, model: Any) -> dict[str, dict[str, Any]]:
        """The recorded tables of a finished model as columns (every k-th year kept)."""
        def keep_years(columns: dict[str, Any]) -> dict[str, Any]:
            if self.every <= 1:
                return columns
            years = columns["year"]
            mask = ((years - model.start_year) % self.every == 0) | (years == model.end_year)
            return {key: value[mask] for key, value in columns.items()}

        out = {}
        if "national" in self.data_tables:
            out["national"] = keep_years(model.national_columns())
        if "province" in self.data_tables:
            out["province"] = keep_years(model.province_columns(categorical=False))
        if "events" in self.data_tables:
            out["events"] = model.event_columns()
        return out

    def record(self, runs: GridRunList, units: range) -> tuple[dict[str, pd.DataFrame], list[Outcome]]:
        """Run runs ``units`` and return their tables (a data table only when it has rows) and outcomes."""
        label_dtypes = {"run_id": "int64", **runs.column_dtypes}
        pieces: dict[str, list[tuple[int, dict[str, Any], dict[str, Any]]]] = {name: [] for name in self.data_tables}
        rows: list[dict[str, Any]] = []
        outcomes: list[Outcome] = []
        for run_id in units:
            run = runs[run_id]
            labels = runs.labels(run)
            base = run.scenario
            row: dict[str, Any] = {
                "run_id": run_id, **labels, "status": "failed", "error": "",
                "seed_entropy": str(run.seed.entropy), "spawn_key": ",".join(map(str, run.seed.spawn_key)),
                "scenario_file": self.scenario_files[run.scenario_index],
                "start_year": base.run.start_year, "end_year": base.run.end_year,
            }
            try:
                scenario = runs.scenario_for(run)
                row["start_year"], row["end_year"] = scenario.run.start_year, scenario.run.end_year
                model = self.evaluator(scenario, run)
                columns = self._columns(model)
                national = columns["national"] if "national" in columns else model.national_columns()
                final = {key: float(national[key[len("final_"):]][-1]) for key in RUNS_FIELDS
                         if key.startswith("final_")}
                seed = model.seed_sequence
                done = {"status": "ok", "error": "", "start_year": model.start_year, "end_year": model.end_year,
                        "seed_entropy": str(seed.entropy) if seed is not None else "",
                        "spawn_key": ",".join(map(str, seed.spawn_key)) if seed is not None else ""}
                del model
            except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, the batch goes on
                row["error"] = describe_exception(exc)
                outcomes.append((run_id, "failed", row["error"]))
            else:
                row.update(done)
                row.update(final)
                for name in self.data_tables:
                    pieces[name].append((run_id, labels, columns[name]))
                outcomes.append((run_id, "ok", ""))
            rows.append(row)
        out: dict[str, pd.DataFrame] = {}
        for name in self.data_tables:
            if pieces[name]:
                out[name] = _conform(block_frame(pieces[name]), label_dtypes)
        runs_frame = pd.DataFrame(rows).reindex(columns=[*label_dtypes, *RUNS_FIELDS])
        out["runs"] = runs_frame.astype({**label_dtypes, **RUNS_FIELDS})
        return out, outcomes
