"""Tests for sim.analysis.sensitivity and ``sim sensitivity``: the whole path (design -> run list -> executor ->
results folder -> SALib analyze) on the Ishigami function, whose indices are known, then on the model
at a small N, resume, executors, and the command line."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ensemble_helpers import ISHIGAMI, FailingPoints, IshigamiEvaluator, ishigami_indices
from numpy.testing import assert_allclose, assert_array_equal

import sim.experiments.compact as compact_module
from sim.analysis.sensitivity import (
    NATIONAL_OUTPUTS,
    ModelEvaluator,
    SensitivitySpec,
    analyse,
    read_outputs,
    run_sensitivity,
)
from sim.analysis.sensitivity_files import load_sensitivity
from sim.cli import main
from sim.errors import ExperimentError, ResultsError

ROOT = Path(__file__).resolve().parent.parent
PI = math.pi


def ishigami_spec(samples: int = 1024, method: str = "sobol", seed: int = 7) -> SensitivitySpec:
    return SensitivitySpec("ishigami", ISHIGAMI, outputs=("y",), seed=seed, method=method, samples=samples)


def small_experiment(tmp_path: Path, sweep: str, scenarios: str = '["baseline.toml"]') -> Path:
    shutil.copy(ROOT / "scenarios" / "baseline.toml", tmp_path / "baseline.toml")
    path = tmp_path / "small.toml"
    path.write_text(f'name = "small"\nscenarios = {scenarios}\nseed = 3\n[sensitivity.parameters]\n{sweep}\n'
                    '[set]\n"run.end_year" = 2026\n[executor]\nkind = "serial"\n')
    return path


# --------------------------------------------------------------------------------------
# the analytic reference


def test_ishigami_analytic_indices_match_the_literature() -> None:
    # Saltelli et al. (2008), The Primer: S = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
    known = ishigami_indices()
    assert_allclose(known["S1"], [0.3139, 0.4424, 0.0], atol=1e-4)
    assert_allclose(known["ST"], [0.5576, 0.4424, 0.2437], atol=1e-4)
    assert IshigamiEvaluator().value(PI / 2, PI / 2, 1.0) == pytest.approx(1 + 7 + 0.1)


def test_sobol_on_ishigami_through_the_batch_path(tmp_path: Path) -> None:
    spec = ishigami_spec(1024)
    result = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "ishigami", executor="serial")
    assert result.runs_run == spec.runs_total == 1024 * 5
    known = ishigami_indices()
    got = result.indices.set_index("parameter")
    assert_allclose(got["S1"], known["S1"], atol=0.05)
    assert_allclose(got["ST"], known["ST"], atol=0.05)
    # the analytic values lie inside (a slightly widened) bootstrap interval
    assert np.all(np.abs(got["ST"] - known["ST"]) <= 1.5 * got["ST_conf"])
    assert np.all(np.abs(got["S1"] - known["S1"]) <= 1.5 * got["S1_conf"])
    # what was written: design, runs in parts, indices, figure, manifest
    folder = result.folder
    design = pd.read_parquet(folder / "design.parquet")
    assert_allclose(design[["x1", "x2", "x3"]].to_numpy(), result.design)
    runs = pd.read_parquet(folder / "runs").sort_values("run_id")
    assert list(runs["run_id"]) == list(range(spec.runs_total))
    assert_allclose(runs["y"], [IshigamiEvaluator().value(*row) for row in result.design])
    assert (folder / "indices.csv").is_file() and (folder / "figures" / "sensitivity_indices.png").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["status"] == "complete"
    assert manifest["problem"]["names"] == ["x1", "x2", "x3"]


def test_morris_on_ishigami_ranks_x3_alone_last_at_first_order(tmp_path: Path) -> None:
    spec = ishigami_spec(40, method="morris")
    result = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "morris", executor="serial", figures=False)
    assert spec.runs_total == 40 * 4
    got = result.indices.set_index("parameter")
    assert {"mu", "mu_star", "mu_star_conf", "sigma", "mu_star_normalised"} <= set(got.columns)
    assert got["mu_star_normalised"].max() == pytest.approx(1.0)
    # x3 acts only through its interaction with x1: a small mean effect (mu ~ 0) but a large sigma
    assert abs(got.loc["x3", "mu"]) < got.loc["x3", "sigma"]
    assert got.loc["x2", "mu_star"] > 0 and got.loc["x1", "mu_star"] > 0


def test_executors_give_identical_runs(tmp_path: Path) -> None:
    spec = ishigami_spec(64)
    serial = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "serial", executor="serial", figures=False)
    pooled = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "pool", executor="process", workers=2,
                             figures=False)
    assert_array_equal(serial.outputs["y"], pooled.outputs["y"])
    pd.testing.assert_frame_equal(serial.indices, pooled.indices)
    assert "process pool" in pooled.executor


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_outcomes_analysed_side_by_side_in_a_pool_equal_one_after_the_other(method: str) -> None:
    from sim.experiments.pool import get_pool

    spec = SensitivitySpec("ishigami", ISHIGAMI, outputs=("y", "z", "flat"), seed=7, method=method,
                           samples=64 if method == "sobol" else 10, resamples=50)
    design = spec.design()
    y = np.array([IshigamiEvaluator().value(*row) for row in design])
    outputs = {"y": y, "z": np.sin(y) + design[:, 2], "flat": np.full(len(y), 2.0)}
    with pytest.warns(UserWarning, match="flat does not vary") if method == "sobol" else contextlib.nullcontext():
        alone = analyse(spec, design, outputs)
    with pytest.warns(UserWarning, match="flat does not vary") if method == "sobol" else contextlib.nullcontext():
        pooled = analyse(spec, design, outputs, pool=get_pool(2)[0])  # the warning is the caller's, not a worker's
    pd.testing.assert_frame_equal(alone, pooled, check_exact=True)
    assert list(pooled["outcome"].unique()) == ["y", "z", "flat"]


def test_only_a_long_analysis_goes_to_the_pool() -> None:
    """The pool (whose workers import SALib first) is used for long Sobol analyses only: the N = 1024
    second-order case over ten parameters, not the shipped file's N = 512 first-order one, nor Morris."""
    from sim.analysis.sensitivity import _long_analysis

    shipped, _evaluator, _experiment = load_sensitivity(ROOT / "experiments" / "sensitivity.toml")
    assert not _long_analysis(shipped)
    ten = (*shipped.parameters, ("economy.savings_rate", 0.3, 0.5))
    assert _long_analysis(dataclasses.replace(shipped, parameters=ten, samples=1024, second_order=True))
    assert not _long_analysis(dataclasses.replace(shipped, method="morris", samples=20))


def test_dask_executor_gives_identical_runs(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    spec = ishigami_spec(16)
    serial = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "serial", executor="serial", figures=False)
    dask = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "dask", executor="dask", workers=1,
                           figures=False)
    assert_array_equal(serial.outputs["y"], dask.outputs["y"])
    assert "Dask" in dask.executor


def test_resume_runs_only_the_missing_runs(tmp_path: Path, monkeypatch) -> None:
    spec = SensitivitySpec("ishigami", ISHIGAMI, outputs=("y",), seed=1, samples=64, runs_per_part=20)
    out = tmp_path / "resume"
    monkeypatch.setattr(compact_module, "CHUNK_BYTES", 1)  # leave the blocks as a killed run leaves them
    first = run_sensitivity(spec, IshigamiEvaluator(), out=out, executor="serial", figures=False)
    parts = sorted((out / "runs").glob("part-*.parquet"))
    assert len(parts) == math.ceil(spec.runs_total / 20)
    for part in parts[3:6]:  # as if the process had been killed before these were written
        part.unlink()
    (out / "runs" / ".part-000999.parquet.tmp-1").write_bytes(b"half a file")
    _, _, missing = read_outputs(out, spec)
    assert missing == 60
    again = run_sensitivity(spec, IshigamiEvaluator(), out=out, executor="serial", resume=True, figures=False)
    assert again.runs_run == 60 and again.runs_resumed == spec.runs_total - 60
    assert not list((out / "runs").glob(".part-*"))
    pd.testing.assert_frame_equal(first.indices, again.indices)
    monkeypatch.undo()  # compacted at the end of a resume: one file
    run_sensitivity(spec, IshigamiEvaluator(), out=out, executor="serial", resume=True, figures=False)
    assert [p.name for p in (out / "runs").glob("part-*")] == ["part-000000-000320.parquet"]
    assert_array_equal(read_outputs(out, spec)[0]["y"], first.outputs["y"])
    # without --resume a full folder is refused; another analysis is never mixed in
    with pytest.raises(ResultsError, match="not empty"):
        run_sensitivity(spec, IshigamiEvaluator(), out=out, executor="serial")
    other = SensitivitySpec("ishigami", ISHIGAMI, outputs=("y",), seed=2, samples=64)
    with pytest.raises(ResultsError, match="another analysis"):
        run_sensitivity(other, IshigamiEvaluator(), out=out, executor="serial", resume=True)


def test_in_memory_without_a_folder_matches_the_folder(tmp_path: Path) -> None:
    spec = ishigami_spec(64)
    folder = run_sensitivity(spec, IshigamiEvaluator(), out=tmp_path / "folder", executor="serial", figures=False)
    memory = run_sensitivity(spec, IshigamiEvaluator())
    assert memory.folder is None and memory.runs_run == spec.runs_total
    assert_array_equal(folder.outputs["y"], memory.outputs["y"])
    pd.testing.assert_frame_equal(folder.indices, memory.indices)


def test_a_failed_run_is_recorded_and_blocks_the_analysis(tmp_path: Path) -> None:
    spec = ishigami_spec(8)
    result = run_sensitivity(spec, FailingPoints(IshigamiEvaluator(), {5}), out=tmp_path / "failing",
                             executor="serial")
    assert list(result.failed["run_id"]) == [5]
    assert "RuntimeError: boom" in result.failed["error"].iloc[0]
    assert result.indices.empty
    assert json.loads((tmp_path / "failing" / "manifest.json").read_text())["status"] == "complete_with_failures"
    with pytest.raises(ValueError, match="missing values"):
        analyse(spec, result.design, result.outputs)


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="method"):
        SensitivitySpec("x", ISHIGAMI, method="fast")
    with pytest.raises(ValueError, match="low < high"):
        SensitivitySpec("x", (("a", 1.0, 1.0),))
    with pytest.raises(ValueError, match="twice"):
        SensitivitySpec("x", (("a", 0.0, 1.0), ("a", 0.0, 2.0)))
    with pytest.warns(UserWarning, match="power of 2"):
        SensitivitySpec("x", ISHIGAMI, samples=100).design()
    assert SensitivitySpec("x", ISHIGAMI, second_order=True, samples=8).runs_total == 8 * 8
    assert SensitivitySpec("x", ISHIGAMI, method="morris", samples=5).runs_total == 5 * 4


# --------------------------------------------------------------------------------------
# the model


def test_national_outputs_are_the_national_table_columns() -> None:
    from sim.model import RegionalGrowthModel
    from sim.scenario import Scenario

    model = RegionalGrowthModel(Scenario().with_values({"run.end_year": 2023})).run()
    assert set(NATIONAL_OUTPUTS) == set(model.national_frame().columns) - {"year"}


def test_model_sensitivity_at_small_n(tmp_path: Path) -> None:
    path = small_experiment(tmp_path, '"economy.catch_up_rate" = [0.0, 0.05]\n'
                                      '"research.returns_to_scale" = [0.6, 1.1]')
    spec, evaluator, experiment = load_sensitivity(path, method="sobol", samples=8)
    assert isinstance(evaluator, ModelEvaluator)
    assert spec.parameters == (("economy.catch_up_rate", 0.0, 0.05), ("research.returns_to_scale", 0.6, 1.1))
    scenario = experiment.scenarios[0]
    result = run_sensitivity(spec, evaluator, scenario=scenario, replicates=experiment.replicates,
                             out=tmp_path / "model", executor="serial")
    assert result.runs_run == 8 * 4
    got = result.indices.set_index(["outcome", "parameter"])
    assert set(got.index.get_level_values("outcome")) == {"gini", "theil_between_region", "gdp_real_cny_bn",
                                                          "interior_research_share"}
    # returns to scale in research only shapes research output: with common random numbers it
    # cannot move the Gini or GDP at all, while catch-up drives the Gini
    assert got.loc[("gini", "research.returns_to_scale"), "ST"] == pytest.approx(0.0, abs=1e-12)
    assert got.loc[("gdp_real_cny_bn", "research.returns_to_scale"), "ST"] == pytest.approx(0.0, abs=1e-12)
    assert got.loc[("gini", "economy.catch_up_rate"), "ST"] > 0.5
    assert got.loc[("interior_research_share", "research.returns_to_scale"), "ST"] > 0
    # each run is the model with the row's values set (Scenario.with_values), seeded with the run's seed
    row = dict(zip(spec.names, result.design[3], strict=True))
    (run,) = result.runs.runs_of_point(3)
    assert run.values == row and run.seed.spawn_key == (0,)  # common random numbers
    point_scenario = result.runs.scenario_for(run)
    assert point_scenario.economy.catch_up_rate == row["economy.catch_up_rate"]
    assert point_scenario.run.end_year == 2026
    assert evaluator(run, point_scenario)["gini"] == result.outputs["gini"][3]


def test_load_sensitivity_errors(tmp_path: Path) -> None:
    bad = small_experiment(tmp_path, '"economy.catch_up_rate" = [0.0, 0.02, 0.05]')
    with pytest.raises(ExperimentError, match=r"sensitivity.parameters.economy.catch_up_rate.*\[low, high\]"):
        load_sensitivity(bad)
    (tmp_path / "other.toml").write_text('name = "other"\n')
    two = small_experiment(tmp_path, '"economy.catch_up_rate" = [0.0, 0.05]',
                           scenarios='["baseline.toml", "other.toml"]')
    with pytest.raises(ExperimentError, match="one scenario"):
        load_sensitivity(two)
    good = small_experiment(tmp_path, '"economy.catch_up_rate" = [0.0, 0.05]')
    with pytest.raises(ExperimentError, match="unknown national outcome"):
        load_sensitivity(good, outputs=("happiness",))
    outside = small_experiment(tmp_path, '"economy.catch_up_rate" = [0.0, 0.9]')
    with pytest.raises(ExperimentError, match="catch_up_rate"):
        load_sensitivity(outside)


def test_shipped_sensitivity_experiment_loads() -> None:
    spec, evaluator, experiment = load_sensitivity(ROOT / "experiments" / "sensitivity.toml")
    assert spec.method == "sobol" and spec.n_samples == 512
    assert len(spec.parameters) >= 5
    assert set(spec.outputs) == {"gini", "theil_between_region", "gdp_real_cny_bn", "interior_research_share"}
    assert experiment.scenarios[0].name == "baseline"


def test_another_method_does_not_take_the_files_sample_size() -> None:
    """The file's samples (512, for Sobol) are not Morris trajectories: --method morris is the cheap
    screen its comment promises (20 trajectories, 200 runs), unless --samples says otherwise."""
    path = ROOT / "experiments" / "sensitivity.toml"
    d = len(load_sensitivity(path)[0].parameters)
    morris = load_sensitivity(path, method="morris")[0]
    assert (morris.method, morris.n_samples, morris.runs_total) == ("morris", 20, 20 * (d + 1))
    assert load_sensitivity(path, method="morris", samples=6)[0].runs_total == 6 * (d + 1)
    assert load_sensitivity(path, method="sobol")[0].n_samples == 512  # the file's method: the file's size
    assert "200 runs" in path.read_text() and 20 * (d + 1) == 200


def test_cli_sensitivity_end_to_end(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    argv = ["sensitivity", str(ROOT / "experiments" / "sensitivity.toml"), "--method", "morris", "--samples", "2",
            "--serial", "--set", "run.end_year=2024", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Morris analysis of 9 parameters" in printed
    assert "interior_research_share:" in printed
    assert (out / "indices.parquet").is_file() and (out / "figures" / "sensitivity_indices.png").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == ["run.end_year=2024"]
    # finished: resume has nothing to do; without --resume the folder is refused
    assert main([*argv, "--resume"]) == 0
    assert "0 runs" in capsys.readouterr().out
    assert main(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["sensitivity", str(ROOT / "experiments" / "sensitivity.toml"), "--method", "fast"]) == 2
    assert "--method" in capsys.readouterr().err


def test_batch_refuses_a_sensitivity_experiment(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["batch", str(ROOT / "experiments" / "sensitivity.toml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run it with `sim sensitivity" in err[0]
    assert not out.exists()


def test_file_values_and_command_line_overrides() -> None:
    spec, _, _ = load_sensitivity(ROOT / "experiments" / "sensitivity.toml", method="morris", samples=3,
                                  outputs=("gini",))
    assert (spec.method, spec.runs_total, spec.outputs) == ("morris", 3 * (len(spec.parameters) + 1), ("gini",))
