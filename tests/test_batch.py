"""Tests for sim.experiments.batch and the runner under it: streaming results, seeds, executors, resume after
SIGKILL, failures (injected through the pluggable evaluator), and the runner without a results folder."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from ensemble_helpers import FailingRuns
from pandas.testing import assert_frame_equal

import sim.experiments.batch as batch_module
import sim.experiments.compact as compact_module
from sim.cli import main as cli_main
from sim.experiments.batch import ModelRecorder, run_batch
from sim.experiments.identity import code_hash
from sim.experiments.progress import Progress
from sim.experiments.runner import plan_blocks, run_ensemble
from sim.experiments.spec import load_experiment
from sim.experiments.store import TABLES, read_manifest
from sim.experiments.summary import summarise_runs

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
TEACHING = ROOT / "scenarios" / "teaching_synthetic.toml"

EXPERIMENT = f"""
name = "batch_test"
scenarios = ["{BASELINE}", "{TEACHING}"]
replicates = 2
seed = 4242
[sweep]
"migration.graduate_mobility" = [0.2, 0.6]
[set]
"run.end_year" = 2026
"""
RUNS = 8
SORT_KEYS = {
    "runs": ["run_id"],
    "national": ["run_id", "year"],
    "province": ["run_id", "year", "province"],
    "events": ["run_id", "year", "type", "province", "detail"],
}


def read_sorted(folder: Path, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(folder / table)
    return frame.sort_values(SORT_KEYS[table], kind="stable").reset_index(drop=True)


def assert_same_tables(left: Path, right: Path, tables=TABLES) -> None:
    for table in tables:
        assert_frame_equal(read_sorted(left, table), read_sorted(right, table), obj=table)


def write_experiment(folder: Path, body: str = EXPERIMENT, name: str = "exp.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body)
    return path


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    return write_experiment(tmp_path_factory.mktemp("experiment"))


@pytest.fixture(scope="module")
def reference(experiment: Path, tmp_path_factory) -> Path:
    """The experiment run serially in this process: the tables every other executor must match."""
    out = tmp_path_factory.mktemp("reference") / "results"
    result = run_batch(experiment, executor="serial", out=out, progress=False)
    assert result.ok and result.runs_run == RUNS
    return out


# --------------------------------------------------------------------------------------
# Layout, labels, seeds


def test_streaming_layout_manifest_and_labels(reference: Path, experiment: Path) -> None:
    for table in TABLES:  # blocks compacted at the end: one file per table, named by its range of runs
        names = sorted(p.name for p in (reference / table).iterdir())
        expected = ["_commit-000000-000008.json"] if table == "runs" else []
        assert names == [*expected, "part-000000-000008.parquet"], table
    assert sorted(p.name for p in reference.iterdir()) == ["events", "manifest.json", "national", "province", "runs"]
    manifest = read_manifest(reference)
    assert manifest["kind"] == "batch" and manifest["runs_total"] == RUNS
    assert manifest["status"] == "complete" and manifest["runs_ok"] == RUNS
    assert manifest["experiment_file"] == str(experiment)
    assert manifest["experiment_hash"].startswith("sha256:")
    assert manifest["experiment"]["sweep"] == {"migration.graduate_mobility": [0.2, 0.6]}
    assert set(manifest["scenarios"]) == {"baseline", "teaching_synthetic"}
    assert manifest["scenarios"]["baseline"]["file"] == str(BASELINE)
    assert manifest["scenarios"]["baseline"]["resolved"]["run"]["end_year"] == 2026
    for key in ("package_version", "git_commit", "mesa", "numpy", "created"):
        assert key in manifest
    assert manifest["code_hash"] == code_hash() == manifest["sessions"][0]["code_hash"]
    json.dumps(manifest)

    for table in TABLES:
        frame = pd.read_parquet(reference / table)
        assert list(frame.columns[:4]) == ["run_id", "scenario", "replicate", "migration__graduate_mobility"]
        assert frame["run_id"].dtype == "int64" and frame["replicate"].dtype == "int64"
        assert frame["migration__graduate_mobility"].dtype == "float64"
        assert str(frame["scenario"].dtype) in ("string", "str")

    runs = read_sorted(reference, "runs")
    assert list(runs["run_id"]) == list(range(RUNS))
    assert list(runs["scenario"]) == ["baseline"] * 4 + ["teaching_synthetic"] * 4
    assert list(runs["migration__graduate_mobility"]) == [0.2, 0.2, 0.6, 0.6] * 2
    assert list(runs["replicate"]) == [0, 1] * 4
    assert set(runs["status"]) == {"ok"} and set(runs["error"]) == {""}
    # one SeedSequence(4242) spawned per run, in run-list order
    assert set(runs["seed_entropy"]) == {"4242"}
    assert list(runs["spawn_key"]) == [str(i) for i in range(RUNS)]
    assert list(runs["scenario_file"]) == [str(BASELINE)] * 4 + [str(TEACHING)] * 4
    national = read_sorted(reference, "national")
    assert len(national) == RUNS * 5  # 2022-2026
    last = national[national["year"] == 2026].set_index("run_id")
    assert list(runs["final_gdp_real_cny_bn"]) == list(last["gdp_real_cny_bn"])
    assert list(runs["final_gini"]) == list(last["gini"])
    # different seeds give different runs: replicates 0 and 1 of the same point differ
    province = read_sorted(reference, "province")
    a = province[province["run_id"] == 4].drop(columns=["run_id", "replicate"]).reset_index(drop=True)
    b = province[province["run_id"] == 5].drop(columns=["run_id", "replicate"]).reset_index(drop=True)
    assert not a.equals(b)


def test_same_experiment_same_tables(reference: Path, experiment: Path, tmp_path: Path) -> None:
    run_batch(experiment, executor="serial", out=tmp_path / "again", progress=False)
    assert_same_tables(reference, tmp_path / "again")


@pytest.mark.parametrize("executor,workers", [("process", 1), ("process", 2), ("dask", 2)],
                         ids=["process-1", "process-2", "dask-localcluster-2"])
def test_executors_give_identical_tables(executor: str, workers: int, reference: Path, experiment: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "results"
    if executor == "dask":
        # LocalCluster(n_workers=2, processes=True): two worker processes, completion order free
        result = run_batch(experiment, dask="local", workers=2, out=out, progress=False)
        assert result.executor.startswith("Dask LocalCluster (2 worker processes")
    else:
        result = run_batch(experiment, workers=workers, out=out, progress=False)
        assert result.executor.startswith(f"process pool ({workers} worker")
    assert result.ok and result.runs_run == RUNS
    assert_same_tables(reference, out)


def test_parts_may_group_runs(reference: Path, tmp_path: Path, monkeypatch) -> None:
    path = write_experiment(tmp_path, EXPERIMENT + "[record]\nruns_per_part = 3\n")
    monkeypatch.setattr(compact_module, "CHUNK_BYTES", 1)  # every block its own chunk: nothing compacted
    out = tmp_path / "results"
    run_batch(path, executor="serial", out=out, progress=False)
    assert sorted(p.name for p in (out / "runs").glob("part-*")) == [
        "part-000000.parquet", "part-000003.parquet", "part-000006.parquet"]
    assert_same_tables(reference, out)


def test_record_every_and_tables(tmp_path: Path) -> None:
    body = EXPERIMENT.replace('"run.end_year" = 2026', '"run.end_year" = 2025') + \
        '[record]\ntables = ["national"]\nevery = 2\n'
    out = tmp_path / "results"
    run_batch(write_experiment(tmp_path, body), executor="serial", out=out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "national", "runs"]
    national = pd.read_parquet(out / "national")
    assert sorted(national["year"].unique()) == [2022, 2024, 2025]


# --------------------------------------------------------------------------------------
# Failures


def inject_failures(monkeypatch, run_ids) -> None:
    """``sim batch`` (in this process) runs with an evaluator that raises at ``run_ids``."""
    monkeypatch.setattr(batch_module, "run_batch", partial(run_batch, evaluator=FailingRuns(run_ids)))


def test_failed_runs_are_recorded_and_the_batch_goes_on(reference: Path, experiment: Path, tmp_path: Path,
                                                         monkeypatch, capsys) -> None:
    inject_failures(monkeypatch, {2, 5})
    out = tmp_path / "results"
    status = cli_main(["batch", str(experiment), "--serial", "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert status == 1
    assert "2 of 8 run(s) failed" in captured.err
    assert "run 2 (baseline, replicate 0): RuntimeError: failure injected" in captured.err
    assert "(at ensemble_helpers.py:" in captured.err  # where it was raised
    assert f"Results written to {out}/" in captured.out
    runs = read_sorted(out, "runs")
    assert list(runs["run_id"]) == list(range(RUNS))
    failed = runs[runs["status"] == "failed"]
    assert list(failed["run_id"]) == [2, 5]
    assert failed["error"].str.startswith("RuntimeError: failure injected").all()
    assert list(failed["migration__graduate_mobility"]) == [0.6, 0.2]  # parameters kept
    assert failed["final_gdp_real_cny_bn"].isna().all()
    assert read_manifest(out)["status"] == "complete_with_failures"
    for table in ("national", "province", "events"):
        frame = read_sorted(out, table)
        assert not frame["run_id"].isin([2, 5]).any()
        expected = read_sorted(reference, table)
        expected = expected[~expected["run_id"].isin([2, 5])].reset_index(drop=True)
        assert_frame_equal(frame, expected)


def test_fail_fast_stops_then_resume_finishes(reference: Path, experiment: Path, tmp_path: Path,
                                              monkeypatch, capsys) -> None:
    out = tmp_path / "results"
    inject_failures(monkeypatch, {2})
    status = cli_main(["batch", str(experiment), "--serial", "--fail-fast", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1 and "--fail-fast" in err and "5 run(s) not run" in err and "--resume" in err
    assert list(read_sorted(out, "runs")["run_id"]) == [0, 1, 2]
    assert read_manifest(out)["status"] == "incomplete"
    monkeypatch.undo()
    status = cli_main(["batch", str(experiment), "--serial", "--resume", "--out", str(out), "--no-progress"])
    assert status == 1  # run 2 stays failed: it is recorded, so it is not missing
    runs = read_sorted(out, "runs")
    assert list(runs["run_id"]) == list(range(RUNS))
    assert list(runs.loc[runs["status"] == "failed", "run_id"]) == [2]
    expected = read_sorted(reference, "national")
    assert_frame_equal(read_sorted(out, "national"), expected[expected["run_id"] != 2].reset_index(drop=True))


# --------------------------------------------------------------------------------------
# Resume


def test_resume_removes_partial_parts_and_runs_only_what_is_missing(reference: Path, experiment: Path,
                                                                    tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "results"
    monkeypatch.setattr(compact_module, "CHUNK_BYTES", 1)  # leave the blocks as a killed batch leaves them
    run_batch(experiment, executor="serial", out=out, progress=False)
    # a crash between a block's data parts and its runs part, and a half-written temporary file
    (out / "runs" / "part-000003.parquet").unlink()
    (out / "runs" / "part-000006.parquet").unlink()
    (out / "province" / "part-000006.parquet").unlink()
    (out / "national" / ".part-000007.parquet.tmp-12345").write_bytes(b"PAR1 half written")
    result = run_batch(experiment, executor="serial", out=out, resume=True, progress=False)
    assert result.ok and result.runs_run == 2 and result.runs_resumed == 6
    assert not list(out.rglob(".part-*"))
    assert_same_tables(reference, out)
    again = run_batch(experiment, executor="serial", out=out, resume=True, progress=False)
    assert again.runs_run == 0 and again.ok


def test_resume_refuses_a_different_experiment(reference: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    shutil.copytree(reference, out)
    before = (out / "manifest.json").read_text()
    other = write_experiment(tmp_path, EXPERIMENT.replace("replicates = 2", "replicates = 3"), "other.toml")
    status = cli_main(["batch", str(other), "--serial", "--resume", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and "different experiment" in err[0] and "Traceback" not in err[0]
    assert (out / "manifest.json").read_text() == before


def test_existing_folder_needs_resume(reference: Path, experiment: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    shutil.copytree(reference, out)
    assert cli_main(["batch", str(experiment), "--serial", "--out", str(out)]) == 2
    assert "use --resume" in capsys.readouterr().err
    assert cli_main(["batch", str(experiment), "--serial", "--out", str(out),
                     "--set", "economy.savings_rate=0.3", "--resume"]) == 2
    assert "different experiment" in capsys.readouterr().err


def test_resume_after_sigkill_in_a_real_subprocess(tmp_path: Path) -> None:
    total = 80
    body = (f'name = "killed"\nscenarios = ["{BASELINE}"]\nreplicates = {total}\nseed = 77\n'
            '[set]\n"run.end_year" = 2030\n[record]\nruns_per_part = 1\n')
    path = write_experiment(tmp_path, body)
    out = tmp_path / "results"
    command = [sys.executable, "-m", "sim", "batch", str(path), "--out", str(out), "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "first.log", "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 120
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if len(list((out / "runs").glob("part-*.parquet"))) >= 10:
                    break
                time.sleep(0.005)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker processes
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()
    done_at_kill = len(list((out / "runs").glob("part-*.parquet")))
    assert 10 <= done_at_kill < total, "the batch finished before it could be killed; make it longer"
    assert read_manifest(out)["status"] == "running"

    resumed = subprocess.run([*command, "--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"\d+ run\(s\) in .*; \d+ were already done", resumed.stdout), resumed.stdout
    assert not list(out.rglob(".part-*"))

    reference = tmp_path / "reference"
    run_batch(path, executor="serial", out=reference, progress=False)
    runs = pd.read_parquet(out / "runs")
    assert runs["run_id"].is_unique and sorted(runs["run_id"]) == list(range(total))
    assert len(pd.read_parquet(out / "national")) == total * 9
    assert_same_tables(reference, out)
    assert read_manifest(out)["status"] == "complete"


# --------------------------------------------------------------------------------------
# Pieces


def test_finished_models_are_released(experiment: Path, tmp_path: Path) -> None:
    """mesa 3.3 keeps every model in ``mesa.Agent._ids`` (mesa #3179); the model's agents count
    their ids in a weak registry instead, so models a batch has finished with are freed."""
    import gc
    import weakref

    from sim.model import RegionalGrowthModel
    from sim.model.agents import SimAgent
    from sim.scenario import load_scenario

    mine = RegionalGrowthModel(load_scenario(TEACHING).with_values({"run.end_year": 2023}))  # a user's live model
    existing = {id(obj) for obj in gc.get_objects() if isinstance(obj, RegionalGrowthModel)}
    run_batch(experiment, executor="serial", out=tmp_path / "results", progress=False)
    assert mine in SimAgent._ids
    mine.step()  # still usable
    built = [weakref.ref(obj) for obj in gc.get_objects()
             if isinstance(obj, RegionalGrowthModel) and id(obj) not in existing]
    gc.collect()
    assert not [ref for ref in built if ref() is not None]


def test_plan_blocks_never_cross_part_boundaries() -> None:
    assert list(plan_blocks([0, 1, 2, 4, 5, 9], 1)) == [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (9, 10)]
    assert list(plan_blocks([0, 1, 2, 4, 5, 9], 3)) == [(0, 3), (4, 6), (9, 10)]
    assert list(plan_blocks([1, 2, 3, 4], 2)) == [(1, 2), (2, 4), (4, 5)]
    assert list(plan_blocks([], 5)) == []


def test_summary_mean_and_t_interval() -> None:
    runs = pd.DataFrame({
        "run_id": range(5), "scenario": ["a", "a", "a", "b", "b"], "status": ["ok", "ok", "ok", "ok", "failed"],
        "end_year": 2030,
        **{column: [1.0, 2.0, 3.0, 7.0, float("nan")] for column in (
            "final_gdp_real_cny_bn", "final_gini", "final_theil_between_region", "final_interior_research_share",
            "final_research_output")},
    })
    summary = summarise_runs(runs).set_index("scenario")
    half = 4.302652729749464 / math.sqrt(3)  # t(0.975, 2) * sd 1 / sqrt(3)
    assert summary.loc["a", "runs"] == 3 and summary.loc["a", "failed"] == 0
    assert summary.loc["a", "final_gini_mean"] == pytest.approx(2.0)
    assert summary.loc["a", "final_gini_lo"] == pytest.approx(2.0 - half)
    assert summary.loc["a", "final_gini_hi"] == pytest.approx(2.0 + half)
    assert summary.loc["b", "runs"] == 1 and summary.loc["b", "failed"] == 1
    assert summary.loc["b", "final_gini_mean"] == 7.0 and math.isnan(summary.loc["b", "final_gini_lo"])


def test_progress_plain_lines() -> None:
    stream = io.StringIO()
    progress = Progress(200, done=20, stream=stream, interval=0.0)
    progress.update(20)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[ 40/200\] 20 % [0-9.]+ runs/s ETA [0-9.]+ (s|min|h)", lines[0]), lines[0]
    quiet = io.StringIO()
    progress = Progress(10, stream=quiet, interval=3600.0)
    progress.update(5)
    assert quiet.getvalue() == ""
    progress.update(5)
    progress.close()
    assert re.fullmatch(r"\[10/10\] 100 % [0-9.]+ runs/s done in \d+ s\n", quiet.getvalue())


# --------------------------------------------------------------------------------------
# The runner without a results folder


def test_runner_in_memory_gives_the_batch_tables(reference: Path, experiment: Path) -> None:
    """The batch's run list and recorder run serially, in memory: the same tables, nothing written."""
    exp = load_experiment(experiment)
    result = run_ensemble(exp.run_list, ModelRecorder.for_experiment(exp))
    assert result.folder is None and result.manifest is None
    assert result.runs_run == result.runs_done == RUNS and result.runs_failed == 0
    assert [unit for unit, _status, _error in result.outcomes] == list(range(RUNS))
    for table in TABLES:
        frame = result.tables[table].sort_values(SORT_KEYS[table], kind="stable").reset_index(drop=True)
        assert_frame_equal(frame, read_sorted(reference, table), obj=table)


def test_runner_in_memory_records_failures(experiment: Path) -> None:
    exp = load_experiment(experiment)
    recorder = ModelRecorder.for_experiment(exp, evaluator=FailingRuns({1}))
    result = run_ensemble(exp.run_list, recorder, fail_fast=True, runs_per_part=2)
    assert result.stopped and result.runs_run == 2 and result.runs_failed == 1
    runs = result.tables["runs"]
    assert list(runs["status"]) == ["ok", "failed"]
    assert runs.loc[1, "error"].startswith("RuntimeError: failure injected")
    assert set(result.tables["national"]["run_id"]) == {0}


def test_the_manifest_records_mesa_s_version_without_importing_mesa() -> None:
    """The driving process of a batch on a pool never runs the model: its manifest reads Mesa's version
    from the installed distribution (importing Mesa would add about a second to every batch's start)."""
    import mesa

    code = ("import sys, json; from sim.experiments.store import provenance; p = provenance(); "
            "print(json.dumps([p['mesa'], 'mesa' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, imported = json.loads(out.stdout)
    assert version == mesa.__version__
    assert imported is False
