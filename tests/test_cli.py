"""End-to-end command line: ``sim run`` and bad input."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS


def sim(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_run_prints_summary_and_writes_results(tmp_path):
    out = tmp_path / "res"
    proc = sim("run", SCENARIOS / "mixed.toml", "--seed", 5, "--out", out, "--set", "run.end_year=2035")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for needle in ("Real GDP", "Gini", "Theil T between regions", "Coast/interior", "Top 10 provinces",
                   "Nanjing", "Strategies in use", "hefei"):
        assert needle in text
    for table in ("national", "province", "events", "runs"):
        frame = pd.read_parquet(out / table)
        assert "run_id" in frame.columns
    national = pd.read_parquet(out / "national")
    assert list(national["year"]) == list(range(2022, 2036))
    manifest = (out / "manifest.json").read_text()
    assert '"seed": 5' in manifest and "git_commit" in manifest and "package_version" in manifest
    assert "mixed.toml" in manifest


def test_python_api_returns_frames():
    from sim.experiments.single import run_scenario

    result = run_scenario(SCENARIOS / "baseline.toml", seed=1, overrides=["run.end_year=2025"])
    assert list(result.national["year"]) == [2022, 2023, 2024, 2025]
    assert len(result.province) == 31 * 4
    assert result.runs.loc[0, "status"] == "ok"


BAD_INPUTS = [
    ("missing.toml", None, "file not found"),
    ("broken.toml", "[run\n", "not valid TOML"),
    ("typo.toml", "[migration]\ngraduate_mobilty = 0.5\n", "did you mean 'graduate_mobility'"),
    ("type.toml", '[run]\nseed = "x"\n', "run.seed"),
    ("negative.toml", "[investment]\nrd_intensity_target = -2\n", "investment.rd_intensity_target"),
    ("share.toml", "[investment]\ncentral_share = 2\n", "investment.central_share"),
    ("years.toml", "[run]\nend_year = 2000\n", "must be after start_year"),
    ("province.toml", '[strategies]\nassign = { Atlantis = "hefei" }\n', "unknown province or group 'Atlantis'"),
    ("cycle.toml", 'extends = "cycle.toml"\n', "extends cycle"),
]


@pytest.mark.parametrize("name,text,needle", BAD_INPUTS)
def test_bad_scenario_is_one_line_exit_2_and_no_folder(tmp_path, name, text, needle):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    out = tmp_path / "out"
    proc = sim("run", path, "--out", out)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and name in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_set_path(tmp_path):
    proc = sim("run", SCENARIOS / "baseline.toml", "--set", "economy.nonsense=1", "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: --set economy.nonsense=1: economy.nonsense: unknown key; allowed: "
                                   + proc.stderr.split("allowed: ")[1].strip())
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_traceback(tmp_path):
    proc = sim("run", tmp_path / "missing.toml", "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_out_folder_that_exists_is_refused(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    proc = sim("run", SCENARIOS / "baseline.toml", "--out", tmp_path / "full")
    assert proc.returncode == 2 and "exists" in proc.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "precious"


def test_help_lists_the_verbs():
    proc = sim("--help")
    assert proc.returncode == 0 and "run" in proc.stdout


def test_usage_errors_are_one_line():
    proc = sim("run", "--seed", "abc")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: sim run: argument --seed: invalid int value: 'abc' "
                                                "(see sim run --help)"]


def test_unknown_event_key_lists_the_allowed_keys(tmp_path):
    proc = sim("run", "--set", 'events=[{type="fdi_shock", year=2030, province="X"}]', "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "events[0].province: unknown key; allowed: duration, openness, type, year" in proc.stderr


def test_seed_option_is_the_seed_in_the_resolved_scenario(tmp_path):
    import json

    proc = sim("run", SCENARIOS / "baseline.toml", "--seed", 7, "--set", "run.end_year=2024", "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["scenario"]["run"]["seed"] == 7


def test_public_api():
    import sim

    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    with pytest.raises(AttributeError):
        sim.no_such_thing  # noqa: B018


def test_out_folder_check_writes_nothing(tmp_path):
    from sim.cli import check_out_folder
    from sim.errors import SimError

    check_out_folder(tmp_path / "new" / "deeper")  # absent: fine, and not made yet
    (tmp_path / "empty").mkdir()
    check_out_folder(tmp_path / "empty")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    check_out_folder(tmp_path / "full", replace=True)  # a report folder is replaced
    with pytest.raises(SimError, match="not empty"):
        check_out_folder(tmp_path / "full")
    with pytest.raises(SimError, match="is a file"):
        check_out_folder(tmp_path / "full" / "x")
    with pytest.raises(SimError, match="so no folder can be made under it"):
        check_out_folder(tmp_path / "full" / "x" / "y")
    with pytest.raises(SimError, match="not a valid folder path"):
        check_out_folder(tmp_path / "a\x00b")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["empty", "full", "x"]


def test_error_lines_are_one_line():
    from sim.cli import one_line

    assert one_line("a\nb\r\nc") == "a b c"
    assert len(one_line("x" * 10_000)) == 4000


@pytest.mark.parametrize("argv", [
    ["run", "missing.toml"],
    ["run", "scenarios/baseline.toml", "--set", "run.seed=x"],
    ["run", "scenarios/baseline.toml", "--set", "strategies.assign.Atlantis=hefei"],
    ["batch", "experiments/strategy_comparison.toml", "--set", "replicates=-1"],
    ["batch", "experiments/smoke.toml", "--out", "README.md"],  # the folder is checked before the pool starts
    ["validate", "--set", "economy.catch_up_rate=-1", "--no-write"],
])
def test_bad_input_is_refused_before_the_model_is_imported(argv):
    """A bad input is checked first: the refusal needs neither the model (Mesa) nor pandas."""
    code = ("import sys\nfrom sim.cli import main\nstatus = main(sys.argv[1:])\n"
            "print(status, sorted(m for m in ('mesa', 'pandas', 'sim.model') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.strip() == "2 []", proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
