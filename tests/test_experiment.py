"""Tests for sim.experiments.spec and sim.experiments.runlist: the experiment schema, loading, the run list,
errors and seeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main as cli_main
from sim.errors import ExperimentError, ScenarioError
from sim.experiments.runlist import DesignRunList, column_name, run_seed
from sim.experiments.spec import load_experiment
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))

SYNTHETIC = """
name = "{name}"
[run]
provinces = "synthetic:6"
start_year = 2022
end_year = 2025
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture()
def scenario_dir(tmp_path: Path) -> Path:
    """Two small synthetic scenarios in ``tmp_path/scenarios``."""
    for name in ("alpha", "beta"):
        write(tmp_path / "scenarios" / f"{name}.toml", SYNTHETIC.format(name=name))
    return tmp_path / "scenarios"


def experiment_file(tmp_path: Path, body: str, name: str = "exp.toml") -> Path:
    return write(tmp_path / "experiments" / name, body)


GOOD = """
name = "two_by_six"
scenarios = ["../scenarios/alpha.toml", "../scenarios/beta.toml"]
replicates = 2
seed = 99
[sweep]
"migration.graduate_mobility" = [0.2, 0.6]
investment.rd_intensity_target = [2.8, 3.2, 3.6]
[set]
"run.end_year" = 2024
"""


# --------------------------------------------------------------------------------------
# Loading and the run list


def test_run_list_size_and_order(tmp_path: Path, scenario_dir: Path) -> None:
    experiment = load_experiment(experiment_file(tmp_path, GOOD))
    assert experiment.names == ("alpha", "beta")
    assert experiment.n_points == 6
    assert experiment.runs_total == 2 * 6 * 2
    # scenario-major, then sweep point (last key fastest), then replicate
    runs = experiment.run_list
    assert len(runs) == experiment.runs_total
    rows = list(runs)
    assert [run.run_id for run in rows] == list(range(24))
    assert [(r.scenario_index, r.point % 6, r.replicate) for r in rows] == [
        (sc, p, r) for sc in range(2) for p in range(6) for r in range(2)]
    assert [r.scenario.name for r in rows] == ["alpha"] * 12 + ["beta"] * 12
    mobility = [0.2, 0.6]
    target = [2.8, 3.2, 3.6]
    assert [rows[2 * p].values for p in range(6)] == [
        {"migration.graduate_mobility": m, "investment.rd_intensity_target": t} for m in mobility for t in target]
    assert rows[2].values == {"migration.graduate_mobility": 0.2, "investment.rd_intensity_target": 3.2}
    assert rows[6].values == {"migration.graduate_mobility": 0.6, "investment.rd_intensity_target": 2.8}
    # run i is seeded with child i of the root seed
    assert [(r.seed.entropy, r.seed.spawn_key) for r in rows] == [(99, (i,)) for i in range(24)]
    assert runs.labels(rows[-1]) == {"scenario": "beta", "replicate": 1, "migration__graduate_mobility": 0.6,
                                     "investment__rd_intensity_target": 3.6}
    assert [r.run_id for r in runs.runs_of_point(3)] == [6, 7]
    with pytest.raises(IndexError):
        runs[experiment.runs_total]


def test_set_and_sweep_reach_the_scenario(tmp_path: Path, scenario_dir: Path) -> None:
    experiment = load_experiment(experiment_file(tmp_path, GOOD), overrides=["economy.savings_rate=0.3"])
    runs = experiment.run_list
    scenario = runs.scenario_for(runs[23])  # beta, last sweep point
    assert scenario.name == "beta"
    assert scenario.run.end_year == 2024  # [set]
    assert scenario.economy.savings_rate == 0.3  # --set
    assert scenario.migration.graduate_mobility == 0.6 and scenario.investment.rd_intensity_target == 3.6
    assert experiment.scenario_files[0] == str(scenario_dir / "alpha.toml")


def test_hash_is_stable_and_tracks_what_decides_results(tmp_path: Path, scenario_dir: Path) -> None:
    first = load_experiment(experiment_file(tmp_path, GOOD))
    again = load_experiment(experiment_file(tmp_path, GOOD, "copy.toml"))
    executor = load_experiment(experiment_file(tmp_path, GOOD + '[executor]\nkind = "serial"\n', "serial.toml"))
    more = load_experiment(experiment_file(tmp_path, GOOD.replace("replicates = 2", "replicates = 3"), "more.toml"))
    overridden = load_experiment(experiment_file(tmp_path, GOOD), overrides=["economy.savings_rate=0.3"])
    assert first.hash == again.hash == executor.hash
    assert len({first.hash, more.hash, overridden.hash}) == 3


def test_column_names_and_types(tmp_path: Path, scenario_dir: Path) -> None:
    body = GOOD.replace('[set]', '"strategies.default" = ["baseline", "hefei"]\n[set]')
    experiment = load_experiment(experiment_file(tmp_path, body))
    assert column_name("investment.rd_intensity_target") == "investment__rd_intensity_target"
    assert experiment.column_dtypes == {
        "scenario": "string", "replicate": "int64", "migration__graduate_mobility": "float64",
        "investment__rd_intensity_target": "float64", "strategies__default": "string"}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_shipped_experiments_load(path: Path) -> None:
    import tomllib

    listed = tomllib.loads(path.read_text())["scenarios"]
    missing = [s for s in listed if not (path.parent / s).exists()]
    if missing:
        pytest.skip(f"scenario files not written yet: {missing}")
    experiment = load_experiment(path)
    assert experiment.runs_total >= 1
    if path.stem == "strategy_comparison":
        assert experiment.replicates >= 20
        assert set(experiment.names) >= {"baseline", "hefei", "cas_branch", "foreign_multinational",
                                         "consumer_niche", "megacity", "mixed"}
    if path.stem == "investment_sweep":
        assert set(experiment.sweep_columns) == {"investment.rd_intensity_target", "migration.graduate_mobility"}
    if path.stem == "smoke":
        assert experiment.runs_total == 4 and all(s.run.end_year <= 2030 for s in experiment.scenarios)


# --------------------------------------------------------------------------------------
# Seeds


def test_run_seeds_are_the_spawned_children_in_order() -> None:
    children = np.random.SeedSequence(12345).spawn(50)
    for i in (0, 1, 17, 49):
        seed = run_seed(12345, i)
        assert seed.entropy == children[i].entropy and seed.spawn_key == children[i].spawn_key == (i,)
        np.testing.assert_array_equal(seed.generate_state(8), children[i].generate_state(8))
    states = {tuple(run_seed(12345, i).generate_state(4)) for i in range(200)}
    assert len(states) == 200


def test_design_run_list_uses_common_random_numbers() -> None:
    base = load_scenario(SCENARIOS / "teaching_synthetic.toml")
    design = np.array([[0.01, 2.7], [0.03, 2.2]])
    runs = DesignRunList.build(design, ["economy.catch_up_rate", "imitation.neighbour_peers"], base, replicates=3,
                               seed=5)
    assert len(runs) == 6 and runs.n_points == 2
    rows = list(runs)
    assert [(r.point, r.replicate) for r in rows] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    # replicate r of every point gets child r of the root seed
    assert [r.seed.spawn_key for r in rows] == [(0,), (1,), (2,)] * 2
    assert rows[4].values == {"economy.catch_up_rate": 0.03, "imitation.neighbour_peers": 2.2}
    # the values are set with Scenario.with_values; integer keys are rounded
    scenario = runs.scenario_for(rows[4])
    assert scenario.economy.catch_up_rate == 0.03 and scenario.imitation.neighbour_peers == 2
    assert base.economy.catch_up_rate != 0.03  # the base is unchanged


# --------------------------------------------------------------------------------------
# Errors: one line naming file and key, exit 2, no traceback, no folder left behind

HEAD = 'scenarios = ["../scenarios/alpha.toml"]\nseed = 1\n'

BAD = {
    "unknown_key": (HEAD + "replicate = 3\n", "replicate", "did you mean 'replicates'"),
    "wrong_type": (HEAD + 'replicates = "ten"\n', "replicates", "valid integer"),
    "zero_replicates": (HEAD + "replicates = 0\n", "replicates", "greater than or equal to 1"),
    "missing_seed": ('scenarios = ["../scenarios/alpha.toml"]\n', "seed", "required key is missing"),
    "no_scenarios": ("scenarios = []\nseed = 1\n", "scenarios", "at least one scenario"),
    "missing_scenario": ('scenarios = ["../scenarios/nope.toml"]\nseed = 1\n', "scenarios[0]", "not found"),
    "sweep_not_a_list": (HEAD + '[sweep]\n"migration.graduate_mobility" = 0.5\n', "sweep.migration.graduate_mobility",
                         "only lists are swept"),
    "sweep_empty": (HEAD + '[sweep]\n"migration.graduate_mobility" = []\n', "sweep.migration.graduate_mobility",
                    "at least one value"),
    "sweep_unknown_key": (HEAD + '[sweep]\n"migration.graduate_mobilty" = [0.1]\n',
                          "sweep.migration.graduate_mobilty", "did you mean 'graduate_mobility'"),
    "sweep_bad_value": (HEAD + '[sweep]\n"migration.graduate_mobility" = [0.5, 1.5]\n',
                        "sweep.migration.graduate_mobility[1]", "less than or equal to 1"),
    "sweep_seed": (HEAD + '[sweep]\n"run.seed" = [1, 2]\n', "sweep.run.seed", "root seed"),
    "set_bad_value": (HEAD + '[set]\n"run.end_year" = "soon"\n', "set.run.end_year", "valid integer"),
    "record_unknown_table": (HEAD + '[record]\ntables = ["provinces"]\n', "record.tables[0]", "expected"),
    "executor_kind": (HEAD + '[executor]\nkind = "threads"\n', "executor.kind", "expected"),
}


def bad_experiment(tmp_path: Path, case: str) -> Path:
    return experiment_file(tmp_path, BAD[case][0], f"{case}.toml")


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_experiment_is_one_line_exit_2(case: str, tmp_path: Path, scenario_dir: Path, capsys) -> None:
    path = bad_experiment(tmp_path, case)
    _extra, key, text = BAD[case]
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert info.value.key == key and text in info.value.message
    out = tmp_path / "results"
    status = cli_main(["batch", str(path), "--out", str(out), "--serial"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {path}: {key}: ") and text in err[0]
    assert "Traceback" not in err[0]
    assert not out.exists()


def test_broken_toml(tmp_path: Path, scenario_dir: Path, capsys) -> None:
    path = experiment_file(tmp_path, 'scenarios = ["../scenarios/alpha.toml"\nseed = 1\n')
    out = tmp_path / "results"
    assert cli_main(["batch", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: not valid TOML")
    assert not out.exists()


def test_bad_scenario_and_override_name_their_source(tmp_path: Path, scenario_dir: Path, capsys) -> None:
    write(scenario_dir / "broken.toml", '[migration]\ngraduate_mobility = "high"\n')
    path = experiment_file(tmp_path, 'scenarios = ["../scenarios/broken.toml"]\nseed = 1\n')
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert info.value.source == str(scenario_dir / "broken.toml") and info.value.key == "migration.graduate_mobility"
    good = experiment_file(tmp_path, 'scenarios = ["../scenarios/alpha.toml"]\nseed = 1\n', "good.toml")
    out = tmp_path / "results"
    assert cli_main(["batch", str(good), "--out", str(out), "--set", "migration.home_bias=-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --set migration.home_bias=-1: migration.home_bias: ")
    assert cli_main(["batch", str(good), "--out", str(out), "--set", "run.seed=3"]) == 2
    assert "root seed" in capsys.readouterr().err
    assert not out.exists()


def test_duplicate_scenario_names_and_set_swept_conflict(tmp_path: Path, scenario_dir: Path) -> None:
    path = experiment_file(tmp_path, 'scenarios = ["../scenarios/alpha.toml", "../scenarios/alpha.toml"]\nseed = 1\n')
    with pytest.raises(ExperimentError, match="must differ") as info:
        load_experiment(path)
    assert info.value.key == "scenarios[1]"
    body = ('scenarios = ["../scenarios/alpha.toml"]\nseed = 1\n[set]\n"migration.home_bias" = 1.0\n'
            '[sweep]\n"migration.home_bias" = [0.5, 2.0]\n')
    with pytest.raises(ExperimentError, match="either set or swept"):
        load_experiment(experiment_file(tmp_path, body, "conflict.toml"))


def test_invalid_combination_of_swept_values(tmp_path: Path, scenario_dir: Path) -> None:
    body = ('scenarios = ["../scenarios/alpha.toml"]\nseed = 1\n[sweep]\n"run.start_year" = [2022, 2030]\n'
            '"run.end_year" = [2025, 2040]\n')
    with pytest.raises(ExperimentError) as info:
        load_experiment(experiment_file(tmp_path, body))
    assert info.value.key.startswith("sweep")


def test_cli_error_in_a_real_subprocess(tmp_path: Path, scenario_dir: Path) -> None:
    path = bad_experiment(tmp_path, "unknown_key")
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "batch", str(path), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: replicate: unknown key (did you mean 'replicates'?); allowed: description, executor, "
        "name, record, replicates, robustness, scenarios, seed, sensitivity, set, sweep, uncertainty"]
    assert not out.exists()
