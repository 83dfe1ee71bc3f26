"""The batch recorder builds a block's tables once per block; they must be the tables of one DataFrame per
run (``sim.experiments.single.tables_of``) concatenated: same rows, columns, dtypes and values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ensemble_helpers import FailingRuns
from pandas.testing import assert_frame_equal

from sim.experiments.recorder import ModelRecorder, _conform
from sim.experiments.single import tables_of
from sim.experiments.spec import load_experiment

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
CAS = ROOT / "scenarios" / "cas_branch.toml"
TEACHING = ROOT / "scenarios" / "teaching_synthetic.toml"


def per_run_tables(recorder: ModelRecorder, runs, units: range) -> dict[str, pd.DataFrame]:
    """The tables as one DataFrame per run, concatenated (the way a run's tables are built alone)."""
    label_dtypes = {"run_id": "int64", **runs.column_dtypes}
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in recorder.data_tables}
    for run_id in units:
        run = runs[run_id]
        try:
            model = recorder.evaluator(runs.scenario_for(run), run)
        except Exception:  # noqa: BLE001 - a failed run has no rows
            continue
        tables = tables_of(model, run_id, runs.labels(run), recorder.every, recorder.data_tables)
        for name in recorder.data_tables:
            frames[name].append(tables[name])
    return {name: _conform(pd.concat(parts, ignore_index=True), label_dtypes)
            for name, parts in frames.items() if parts}


@pytest.mark.parametrize("every", [1, 2])
def test_block_tables_equal_per_run_tables(every: int, tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(f"""
name = "blocks"
scenarios = ["{BASELINE}", "{CAS}", "{TEACHING}"]
replicates = 2
seed = 17
[sweep]
"migration.graduate_mobility" = [0.2, 0.6]
"strategies.default" = ["baseline", "hefei"]
[set]
"run.end_year" = 2025
[record]
every = {every}
""")
    experiment = load_experiment(path)
    recorder = ModelRecorder.for_experiment(experiment, evaluator=FailingRuns({3}))
    runs = experiment.run_list
    units = range(0, len(runs))
    tables, outcomes = recorder.record(runs, units)
    assert [o[1] for o in outcomes].count("failed") == 1
    expected = per_run_tables(recorder, runs, units)
    assert set(tables) == {"runs", *expected}
    for name, frame in expected.items():
        assert_frame_equal(tables[name], frame, obj=name)
    assert (tables["events"]["run_id"].value_counts() > 0).all()
    assert set(tables["national"]["run_id"]) == set(units) - {3}


def test_arrow_conversion_equals_from_pandas(tmp_path: Path) -> None:
    """Parts reuse the schema of the first frame of each shape; the table must be what from_pandas gives."""
    import numpy as np
    import pyarrow as pa

    from sim.experiments.columns import _SCHEMAS, annotate, to_arrow

    experiment = load_experiment(ROOT / "experiments" / "smoke.toml")
    recorder = ModelRecorder.for_experiment(experiment, evaluator=FailingRuns({1}))
    first, _ = recorder.record(experiment.run_list, range(0, 2))
    second, _ = recorder.record(experiment.run_list, range(2, 4))
    odd = pd.DataFrame({"run_id": np.arange(3, dtype=np.int64), "x": [1.0, np.nan, 3.0],
                        "s": pd.array(["a", None, "c"], dtype="string"), "t": ["u", None, "w"],
                        "b": [True, False, True], "c": pd.Categorical(["p", "q", "p"])})
    _SCHEMAS.clear()
    for tables in (first, second, {"odd": odd, "odd_again": odd.iloc[1:]}):
        for name, frame in tables.items():
            for _ in range(2):  # the first converts with from_pandas, the second reuses its schema
                expected = annotate(pa.Table.from_pandas(frame, preserve_index=False))
                got = to_arrow(frame)
                assert got.equals(expected, check_metadata=True), name
