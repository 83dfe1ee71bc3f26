"""Reliability of results folders (issue 14): resume verifies every part, one writer per folder, code
identity, names that cannot escape the results folder, and one-line refusals that write nothing.

Signals and the cluster path, which need real subprocesses, are in test_runner_signals.py and
test_cluster.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from ensemble_helpers import assert_same_tables, sim_env

import sim.experiments.compact as compact_module
from sim.cli import main as cli_main
from sim.errors import ResultsError, SimError
from sim.experiments.batch import run_batch
from sim.experiments.identity import check_name, code_hash
from sim.experiments.lock import LOCK_NAME, FolderLock
from sim.experiments.store import read_manifest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
CAS = ROOT / "scenarios" / "cas_branch.toml"
EXPERIMENT = f"""
name = "reliable"
scenarios = ["{BASELINE}", "{CAS}"]
replicates = 2
seed = 515
[set]
"run.end_year" = 2024
[record]
runs_per_part = 1
"""
RUNS = 4
DAMAGED = 2  # cas_branch, replicate 0: it has events


def write(folder: Path, body: str = EXPERIMENT, name: str = "exp.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(body)
    return folder / name


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content: to show that nothing was written."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("experiment"))


@pytest.fixture(scope="module")
def reference(experiment: Path, tmp_path_factory) -> Path:
    """The experiment, compacted: one file per table."""
    out = tmp_path_factory.mktemp("reference") / "results"
    assert run_batch(experiment, executor="serial", out=out, progress=False).ok
    return out


@pytest.fixture(scope="module")
def blocks(experiment: Path, tmp_path_factory) -> Path:
    """The experiment as a killed batch leaves it: one part per run and table, not compacted."""
    out = tmp_path_factory.mktemp("blocks") / "results"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compact_module, "CHUNK_BYTES", 1)
        assert run_batch(experiment, executor="serial", out=out, progress=False).ok
    return out


# --------------------------------------------------------------------------------------
# Storage: a dataset of a few files, with column metadata


def test_compacted_tables_are_a_dataset_with_units(reference: Path, blocks: Path) -> None:
    assert_same_tables(reference, blocks)  # compaction changes the files, not the tables
    for table in ("runs", "national", "province", "events"):
        assert [p.name for p in (reference / table).glob("*.parquet")] == ["part-000000-000004.parquet"]
        dataset = ds.dataset(reference / table, format="parquet")
        assert dataset.count_rows() == len(pd.read_parquet(reference / table))
    schema = pq.read_schema(reference / "national" / "part-000000-000004.parquet")
    assert schema.field("gdp_real_cny_bn").metadata[b"unit"] == b"CNY billion"
    assert b"Gini" in schema.field("gini").metadata[b"description"]
    assert schema.field("run_id").metadata[b"description"]
    manifest = read_manifest(reference)
    assert manifest["parts"]["files_per_table"] == 1 and manifest["parts"]["chunks_compacted"] >= 1


# --------------------------------------------------------------------------------------
# Resume verifies, never trusts


def damage(path: Path, how: str) -> None:
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:  # flip bytes in the middle: same size, footer intact
        data = bytearray(path.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 8] = bytes(255 - b for b in data[middle:middle + 8])
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["delete", "truncate", "corrupt"])
@pytest.mark.parametrize("table", ["runs", "national", "province", "events"])
def test_resume_reruns_a_missing_or_damaged_part(table: str, how: str, blocks: Path, reference: Path,
                                                  experiment: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    shutil.copytree(blocks, out)
    damage(out / table / f"part-{DAMAGED:06d}.parquet", how)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "running"  # as after a kill
    (out / "manifest.json").write_text(json.dumps(manifest))
    status = cli_main(["batch", str(experiment), "--serial", "--resume", "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "1 run(s) in" in printed and "3 were already done (verified)" in printed
    assert "1 repaired (their parts were missing or damaged" in printed
    assert_same_tables(reference, out)
    manifest = read_manifest(out)
    assert manifest["status"] == "complete" and manifest["sessions"][-1]["runs_repaired"] == 1


def test_resume_reruns_a_damaged_compacted_chunk_and_a_torn_commit(reference: Path, experiment: Path,
                                                                   blocks: Path, tmp_path: Path) -> None:
    out = tmp_path / "compacted"
    shutil.copytree(reference, out)
    damage(out / "province" / "part-000000-000004.parquet", "corrupt")
    result = run_batch(experiment, executor="serial", out=out, resume=True, progress=False)
    assert result.runs_run == RUNS and result.runs_repaired == RUNS and result.runs_resumed == 0
    assert_same_tables(reference, out)

    torn = tmp_path / "torn"
    shutil.copytree(blocks, torn)
    (torn / "runs" / "_commit-000001.json").write_text('{"format": 1, "units": [1, 2], "tab')
    (torn / "runs" / "_commit-000003.json").unlink()  # a crash between the parts and the commit
    (torn / "national" / ".part-000003.parquet.tmp-host-1-abc").write_bytes(b"PAR1 half")
    result = run_batch(experiment, executor="serial", out=torn, resume=True, progress=False)
    assert result.runs_run == 2 and result.runs_repaired == 1 and result.runs_resumed == 2
    assert not list(torn.rglob(".part-*"))
    assert_same_tables(reference, torn)


def test_resume_after_an_interrupted_compaction(reference: Path, experiment: Path, blocks: Path,
                                                tmp_path: Path) -> None:
    """A compaction stopped after its commit but before removing the blocks: no run is counted twice."""
    from sim.experiments.compact import compact_chunk
    from sim.experiments.parts import scan

    out = tmp_path / "results"
    shutil.copytree(blocks, out)
    state = scan(out, ("national", "province", "events"), deep=True, units_total=RUNS)
    chunk = state.commits[:3]
    saved = {p: p.read_bytes() for c in chunk for t, f in c.files() for p in [out / t / f]}
    saved.update({out / "runs" / c.name: (out / "runs" / c.name).read_bytes() for c in chunk})
    compact_chunk(out, chunk, ("national", "province", "events"), 6)
    for path, content in saved.items():  # as if the removal of the blocks had not happened
        path.write_bytes(content)
    result = run_batch(experiment, executor="serial", out=out, resume=True, progress=False)
    assert result.runs_run == 0 and result.ok
    assert_same_tables(reference, out)
    # the compacted chunk is kept as it is (never rewritten); the block left over stays a block
    assert sorted(p.name for p in (out / "runs").glob("part-*")) == ["part-000000-000003.parquet",
                                                                    "part-000003.parquet"]


# --------------------------------------------------------------------------------------
# One writer per folder


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(experiment: Path, reference: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "results"
    shutil.copytree(reference, out)
    before = listing(out)
    with FolderLock(out, command="sim batch first.toml"):  # a live writer (this process)
        during = listing(out)
        for args in (["--resume"], []):
            proc = subprocess.run([sys.executable, "-m", "sim", "batch", str(experiment), "--serial", "--out", str(out),
                                   *args], capture_output=True, text=True, env=sim_env(), timeout=120)
            assert proc.returncode == 2, proc.stderr
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1, proc.stderr
            assert f"in use by another writer, pid {os.getpid()} on host {socket.gethostname()} since " in lines[0]
            assert "(sim batch first.toml)" in lines[0]
            assert listing(out) == during
    assert listing(out) == before  # the lock is gone with its holder


def test_a_stale_lock_is_taken_over_on_resume(experiment: Path, blocks: Path, reference: Path, tmp_path: Path,
                                              capsys) -> None:
    out = tmp_path / "results"
    shutil.copytree(blocks, out)
    (out / "runs" / "_commit-000003.json").unlink()
    dead = {"pid": 999_999_999, "host": socket.gethostname(), "started": "2026-01-01T00:00:00+00:00",
            "command": "sim batch killed.toml"}
    (out / LOCK_NAME).write_text(json.dumps(dead))  # its holder was killed: nobody holds the flock
    assert cli_main(["batch", str(experiment), "--serial", "--out", str(out)]) == 2
    assert "use --resume" in one_line(capsys)
    assert cli_main(["batch", str(experiment), "--serial", "--resume", "--out", str(out), "--no-progress"]) == 0
    assert not (out / LOCK_NAME).exists()
    assert_same_tables(reference, out)


def test_lock_only_folder_counts_as_empty_and_is_taken_only_on_resume(tmp_path: Path) -> None:
    folder = tmp_path / "stale"
    folder.mkdir()
    (folder / LOCK_NAME).write_text("{}")
    with pytest.raises(ResultsError, match="stale lock"):
        FolderLock(folder).acquire()
    lock = FolderLock(folder, take_over=True).acquire()
    assert lock.took_over == {} and json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
    with pytest.raises(ResultsError, match="in use by another writer"):
        FolderLock(folder, take_over=True).acquire()
    lock.release()
    assert not any(folder.iterdir())


# --------------------------------------------------------------------------------------
# Code identity


def test_resume_with_other_code_is_refused_unless_allowed(experiment: Path, blocks: Path, reference: Path,
                                                         tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    shutil.copytree(blocks, out)
    (out / "runs" / "_commit-000003.json").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["code_hash"] = "sha256:" + "0" * 64  # made by other code
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = listing(out)
    assert cli_main(["batch", str(experiment), "--serial", "--resume", "--out", str(out)]) == 2
    line = one_line(capsys)
    assert "made by other code" in line and "--allow-code-change" in line and "sha256:000000000000" in line
    assert listing(out) == before
    assert cli_main(["batch", str(experiment), "--serial", "--out", str(out), "--allow-code-change"]) == 2
    assert "only with --resume" in one_line(capsys)

    assert cli_main(["batch", str(experiment), "--serial", "--resume", "--allow-code-change", "--out", str(out),
                     "--no-progress"]) == 0
    manifest = read_manifest(out)
    assert manifest["code_hash"] == "sha256:" + "0" * 64  # what made the first runs
    assert manifest["code_changes"][-1]["from"] == "sha256:" + "0" * 64
    assert manifest["code_changes"][-1]["to"] == code_hash() == manifest["sessions"][-1]["code_hash"]
    assert_same_tables(reference, out)


def test_code_hash_covers_source_and_data(tmp_path: Path) -> None:
    package = tmp_path / "sim"
    (package / "data").mkdir(parents=True)
    (package / "model.py").write_text("x = 1\n")
    (package / "data" / "table.csv").write_text("a\n1\n")
    first = code_hash(package)
    (package / "data" / "table.csv").write_text("a\n2\n")
    second = code_hash(package)
    (package / "model.py").write_text("x = 2\n")
    assert len({first, second, code_hash(package)}) == 3
    (package / "notes.txt").write_text("not code")
    assert code_hash(package) == code_hash(package)


# --------------------------------------------------------------------------------------
# Names are names


@pytest.mark.parametrize("name,problem", [
    ("../../escape", "not allowed"),
    ("a" * 300, "at most 64"),
    ("a\\u0000b", "not allowed"),
    (".hidden", "must not start with '.'"),
    ("", "empty"),
])
def test_experiment_names_cannot_become_paths(name: str, problem: str, tmp_path: Path, capsys,
                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, EXPERIMENT.replace('name = "reliable"', f'name = "{name}"'))
    before = listing(tmp_path)
    assert cli_main(["batch", str(path), "--serial"]) == 2
    line = one_line(capsys)
    assert f"{path}: name: " in line and problem in line
    assert listing(tmp_path) == before and not (tmp_path / "results").exists()


def test_a_file_name_that_is_not_a_name(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, EXPERIMENT.replace('name = "reliable"\n', ""), "my experiment.toml")
    assert cli_main(["batch", str(path), "--serial"]) == 2
    assert "the file name 'my experiment' cannot be one" in one_line(capsys)


def test_check_name() -> None:
    assert check_name("strategy_comparison-2.v1") == "strategy_comparison-2.v1"
    for bad in ("a/b", "a\\b", "..", "a b", "é", "x" * 65):
        with pytest.raises(SimError):
            check_name(bad)


# --------------------------------------------------------------------------------------
# One line, exit 2, nothing written


@pytest.mark.parametrize("command", ["batch", "sensitivity"])
def test_dask_address_that_is_not_an_address(command: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    experiment = ROOT / "experiments" / ("smoke.toml" if command == "batch" else "sensitivity.toml")
    assert cli_main([command, str(experiment), "--dask", "not a url", "--out", "out"]) == 2
    assert "--dask 'not a url': expected 'local' or a Dask scheduler address" in one_line(capsys)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("text,needle", [
    ("[]", "expected a JSON object"),
    ("{", "malformed manifest (JSONDecodeError"),
    ('{"kind": "batch", "runs_per_part": "many"}', "runs_per_part: malformed manifest"),
    ('{"kind": "batch", "sessions": {}}', "sessions: malformed manifest"),
])
def test_malformed_manifest_on_resume(text: str, needle: str, experiment: Path, reference: Path, tmp_path: Path,
                                      capsys) -> None:
    out = tmp_path / "results"
    shutil.copytree(reference, out)
    (out / "manifest.json").write_text(text)
    before = listing(out)
    assert cli_main(["batch", str(experiment), "--serial", "--resume", "--out", str(out)]) == 2
    line = one_line(capsys)
    assert str(out / "manifest.json") in line and needle in line
    assert listing(out) == before
    sensitivity = write(tmp_path / "exp", SENSITIVITY)
    assert cli_main(["sensitivity", str(sensitivity), "--serial", "--resume", "--out", str(out)]) == 2
    line = one_line(capsys)
    assert str(out / "manifest.json") in line and needle in line
    assert listing(out) == before


SENSITIVITY = f"""
name = "tiny"
scenarios = ["{BASELINE}"]
seed = 3
[set]
"run.end_year" = 2023
[sensitivity]
method = "morris"
samples = 2
[sensitivity.parameters]
"economy.catch_up_rate" = [0.01, 0.03]
"""


def out_problems(tmp_path: Path) -> list[tuple[str, str]]:
    (tmp_path / "taken").write_text("a file")
    return [("taken", "is a file"), ("taken/sub/out", "is a file, so no folder can be made under it")]


@pytest.mark.parametrize("command", ["batch", "sensitivity"])
def test_out_that_is_a_file_or_under_a_file(command: str, tmp_path: Path, capsys, monkeypatch) -> None:
    experiment = write(tmp_path / "exp", EXPERIMENT if command == "batch" else SENSITIVITY)
    monkeypatch.chdir(tmp_path)
    for out, needle in out_problems(tmp_path):
        before = listing(tmp_path)
        assert cli_main([command, str(experiment), "--serial", "--out", out]) == 2
        line = one_line(capsys)
        assert f"--out {out}" in line and needle in line
        assert listing(tmp_path) == before


@pytest.mark.parametrize("command", ["batch", "sensitivity"])
def test_out_on_a_read_only_file_system(command: str, tmp_path: Path) -> None:
    """A read-only folder: a read-only mount in a private mount namespace when running as root (root
    ignores permission bits), else a folder without write permission."""
    experiment = write(tmp_path / "exp", EXPERIMENT if command == "batch" else SENSITIVITY)
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    (readonly / "keep.txt").write_text("untouched")
    sim = [sys.executable, "-m", "sim", command, str(experiment), "--serial", "--out", str(readonly / "out")]
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.skip("no unshare to make a read-only mount")
        script = f'mount --bind "{readonly}" "{readonly}" && mount -o remount,bind,ro "{readonly}" && exec "$@"'
        command_line = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *sim]
        probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
        if probe.returncode != 0:
            pytest.skip("not allowed to make a mount namespace here")
    else:
        readonly.chmod(0o555)
        command_line = sim
    try:
        proc = subprocess.run(command_line, capture_output=True, text=True, env=sim_env(), timeout=120)
    finally:
        readonly.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --out ") and "Traceback" not in proc.stderr, proc.stderr
    assert ("read-only file system" if os.geteuid() == 0 else "permission denied") in lines[0]
    assert sorted(p.name for p in readonly.iterdir()) == ["keep.txt"]
