"""Hostile files, names and paths (issue 14): each refused with one line naming the file or key,
a non-zero exit status and nothing written; finished work is never lost to a write error.

Every command runs in a subprocess with a timeout (so a hang fails the test instead of stalling
the suite) and in a fresh working folder, whose contents are compared before and after.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
SHORT = ("--set", "run.end_year=2023")


def sim(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)


def listing(folder: Path) -> set[str]:
    """Every path under ``folder`` (relative), without following links into other places."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def error_line(proc: subprocess.CompletedProcess, status: int = 2) -> str:
    """The one line of stderr, after checking the exit status and that there is no traceback."""
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def refused(cwd: Path, *args, needles: tuple[str, ...], status: int = 2) -> str:
    """Run ``sim *args`` in ``cwd``; check one error line holding every needle and nothing written."""
    before = listing(cwd)
    line = error_line(sim(*args, cwd=cwd), status)
    for needle in needles:
        assert needle in line, line
    assert listing(cwd) == before, "something was written"
    return line


# ---------------------------------------------------------------------------------------------
# Files that are not regular files are refused before reading


@pytest.mark.parametrize("command", ["run", "batch", "validate"])
def test_fifo_is_refused_before_reading(tmp_path, command):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # opening it to read would block until a writer came: the timeout catches a hang
    args = ("validate", "--scenario", fifo.name) if command == "validate" else (command, fifo.name)
    refused(tmp_path, *args, "--out", "out", needles=("pipe.toml", "FIFO"))


@pytest.mark.parametrize("command", ["run", "batch"])
def test_character_device_is_refused_before_reading(tmp_path, command):
    # /dev/zero never ends: reading it would take all the memory
    refused(tmp_path, command, "/dev/zero", "--out", "out", needles=("/dev/zero", "character device"))


@pytest.mark.parametrize("command", ["run", "batch"])
def test_folder_is_refused(tmp_path, command):
    (tmp_path / "folder.toml").mkdir()
    refused(tmp_path, command, "folder.toml", "--out", "out", needles=("folder.toml", "is a folder"))


@pytest.mark.parametrize("command", ["run", "batch"])
def test_file_over_the_size_limit_is_refused(tmp_path, command):
    big = tmp_path / "big.toml"
    big.write_text(f'description = "{"x" * 2_000_000}"\n')
    refused(tmp_path, command, big.name, "--out", "out", needles=("big.toml", "larger than the 1,000,000 bytes"))


# ---------------------------------------------------------------------------------------------
# Nesting deeper than 20 levels: in a file, through extends, in --set (no RecursionError)

DEEP_FILES = {
    "arrays.toml": "a = " + "[" * 50 + "]" * 50 + "\n",  # parsed, then refused by depth
    "recursion.toml": "a = " + "[" * 20_000 + "]" * 20_000 + "\n",  # deeper than the parser's stack
    "tables.toml": "[" + ".".join(["t"] * 30) + "]\nx = 1\n",
    "inline.toml": "a = " + "{b = " * 40 + "1" + "}" * 40 + "\n",
}


@pytest.mark.parametrize("name", sorted(DEEP_FILES))
def test_deep_nesting_in_a_file_is_refused(tmp_path, name):
    (tmp_path / name).write_text(DEEP_FILES[name])
    for command in ("run", "batch"):
        refused(tmp_path, command, name, "--out", "out", needles=(name, "nested more than 20 levels"))


def test_deep_nesting_through_extends_names_the_deep_file(tmp_path):
    (tmp_path / "deep.toml").write_text(DEEP_FILES["arrays.toml"])
    (tmp_path / "child.toml").write_text('extends = "deep.toml"\n')
    refused(tmp_path, "run", "child.toml", "--out", "out", needles=("deep.toml", "nested more than 20 levels"))


def test_extends_chain_longer_than_the_limit_is_refused(tmp_path):
    for i in range(30):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (tmp_path / "c30.toml").write_text('name = "end"\n')
    refused(tmp_path, "run", "c0.toml", "--out", "out", needles=("extends:", "chain longer than 20 files", "c0.toml"))


@pytest.mark.parametrize("value", ["[" * 30 + "]" * 30, "[" * 20_000 + "]" * 20_000,
                                   "{" + "a = {" * 30 + "}" * 30 + "}"])
def test_deep_nesting_in_set_is_refused(tmp_path, value):
    refused(tmp_path, "run", BASELINE, "--set", f"economy.catch_up_rate={value}", "--out", "out",
            needles=("--set economy.catch_up_rate=", "economy.catch_up_rate:", "nested more than 20 levels"))


# ---------------------------------------------------------------------------------------------
# Bad extends values name the file and the key

BAD_EXTENDS = [
    ('extends = ""', "empty"),
    ('extends = "  "', "empty"),
    ("extends = 3", "expected a file name"),
    ("extends = []", "expected a file name"),
    ('extends = "."', "is a folder"),
    ('extends = "missing.toml"', "not found"),
    ('extends = "pipe.toml"', "FIFO"),
    ('extends = "/dev/zero"', "character device"),
    ('extends = "a\\u0000b.toml"', "not a valid file name"),
]


@pytest.mark.parametrize("text,needle", BAD_EXTENDS)
def test_bad_extends_names_the_file_and_the_key(tmp_path, text, needle):
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "child.toml").write_text(text + "\n")
    refused(tmp_path, "run", "child.toml", "--out", "out", needles=("child.toml: extends:", needle))


# ---------------------------------------------------------------------------------------------
# Names are names: a name never becomes a path outside results/

BAD_NAMES = [
    ('"../../x"', "'../../x'"),
    ('"a/b"', "contains '/'"),
    ('".hidden"', "starts with '.'"),
    ('""', "empty"),
    (f'"{"n" * 300}"', "300 characters, at most 64"),
    ('"a\\u0000b"', "contains '\\x00'"),
    ('"new\\nline"', "contains '\\n'"),
]


@pytest.mark.parametrize("value,needle", BAD_NAMES)
def test_bad_name_in_a_file_is_refused(tmp_path, value, needle):
    (tmp_path / "named.toml").write_text(f"name = {value}\n")
    # no --out: the default results/run-<name>-<time> must not be made
    refused(tmp_path, "run", "named.toml", needles=("named.toml: name: not a valid name", needle))
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("value,needle", BAD_NAMES)
def test_bad_name_in_set_is_refused(tmp_path, value, needle):
    refused(tmp_path, "run", BASELINE, "--set", f"name={value}", needles=("--set name=", "name: not a valid name", needle))
    assert not (tmp_path / "results").exists()


def test_a_file_name_that_is_not_a_name_gives_a_sanitised_default_name(tmp_path):
    from sim.scenario import load_scenario

    path = tmp_path / "my scenario (v2).toml"
    path.write_text("[run]\nend_year = 2030\n")
    assert load_scenario(path).name == "my_scenario__v2_"


# ---------------------------------------------------------------------------------------------
# --out problems are found before the run starts


@pytest.mark.parametrize("command", [("run", BASELINE), ("validate",)])
def test_out_that_is_a_file_is_refused_before_the_run(tmp_path, command):
    (tmp_path / "taken").write_text("not a folder")
    refused(tmp_path, *command, "--out", "taken", needles=("--out taken", "is a file"))


@pytest.mark.parametrize("command", [("run", BASELINE), ("validate",)])
def test_out_under_a_file_is_refused_before_the_run(tmp_path, command):
    (tmp_path / "taken").write_text("not a folder")
    refused(tmp_path, *command, "--out", "taken/sub/out", needles=("--out taken/sub/out", "is a file"))


@pytest.mark.parametrize("command", [("run", BASELINE), ("validate",)])
def test_out_that_cannot_be_written_is_refused_before_the_run(tmp_path, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            # running as root: write bits do not apply, so a read-only folder cannot be simulated with
            # permissions; a folder under a file cannot be written by anyone, so it stands in for it
            locked.chmod(0o755)
            locked.rmdir()
            locked.write_text("a file")
        refused(tmp_path, *command, "--out", "locked/out", needles=("--out locked/out",))
    finally:
        if locked.is_dir():
            locked.chmod(0o755)


def test_report_out_problems_are_refused(tmp_path, run_folder):
    (tmp_path / "taken").write_text("not a folder")
    refused(tmp_path, "report", run_folder, "--out", "taken", needles=("--out taken", "is a file"))
    refused(tmp_path, "report", run_folder, "--out", "taken/report", needles=("--out taken/report", "is a file"))
    assert not (run_folder / "report").exists()


# ---------------------------------------------------------------------------------------------
# A write that fails after the run: the finished results are kept in a temporary folder


def _kept_folder(line: str) -> Path:
    match = re.search(r"kept in (.+?)/ \(move", line)
    assert match, line
    return Path(match.group(1))


def test_full_disk_after_run_keeps_the_results(tmp_path, monkeypatch, capsys):
    import shutil

    import sim.experiments.single as single
    from sim.cli import main

    real = single.write_part

    def full_disk(folder, *args, **kwargs):
        if Path(folder).parent == tmp_path:  # the folder beside --out: the disk there is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(single, "write_part", full_disk)
    status = main(["run", str(BASELINE), *SHORT, "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert status == 2 and len(lines) == 1, captured.err
    assert str(tmp_path / "out") in lines[0] and "No space left on device" in lines[0]
    kept = _kept_folder(lines[0])
    try:
        assert not kept.is_relative_to(tmp_path)
        assert list(pd.read_parquet(kept / "national")["year"]) == [2022, 2023]
        for table in ("province", "events", "runs"):
            assert "run_id" in pd.read_parquet(kept / table).columns
        assert json.loads((kept / "manifest.json").read_text())["kind"] == "run"
        assert listing(tmp_path) == set()  # no half-written folder, no staging left behind
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def test_full_disk_after_validation_keeps_the_results(tmp_path, monkeypatch, capsys):
    import shutil

    import sim.analysis.validation_output as output
    from sim.cli import main

    real = output.write_results

    def full_disk(folder, *args, **kwargs):
        if Path(folder).parent == tmp_path:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(output, "write_results", full_disk)
    status = main(["validate", "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().err.splitlines()
    assert status == 2 and len(lines) == 1, lines
    assert "could not write the validation results" in lines[0] and "No space left on device" in lines[0]
    kept = _kept_folder(lines[0])
    try:
        assert json.loads((kept / "manifest.json").read_text())["kind"] == "validation"
        assert (kept / "statistics.csv").is_file()
        assert listing(tmp_path) == set()
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def test_failed_rename_after_run_keeps_the_complete_staging_folder(tmp_path, monkeypatch, capsys):
    import shutil

    import sim.experiments.single as single
    from sim.cli import main

    real = os.replace

    def no_rename(src, dst, *args, **kwargs):
        if Path(dst) == tmp_path / "out":  # the last step, the staging folder renamed to --out, fails
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(single.os, "replace", no_rename)
    status = main(["run", str(BASELINE), *SHORT, "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().err.splitlines()
    assert status == 2 and len(lines) == 1
    kept = _kept_folder(lines[0])
    try:
        assert kept.parent == tmp_path and not (tmp_path / "out").exists()
        assert len(pd.read_parquet(kept / "province")) == 31 * 2
    finally:
        shutil.rmtree(kept, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Every command's unexpected error is one line, exit 1 (the traceback with --debug)


def _crashing(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = textwrap.dedent(f"""
        import sys
        import sim.cli.run

        def crash(args):
            raise RuntimeError("something broke\\non two lines")

        sim.cli.run.main = crash
        from sim.cli import main
        sys.exit(main({list(args)!r}))
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_unexpected_error_is_one_line_and_exit_1(tmp_path):
    line = error_line(_crashing("run", str(BASELINE), cwd=tmp_path), status=1)
    assert line == "error: RuntimeError: something broke on two lines (run with --debug for the traceback)"
    assert listing(tmp_path) == set()


def test_unexpected_error_with_debug_shows_the_traceback(tmp_path):
    proc = _crashing("run", str(BASELINE), "--debug", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "RuntimeError" in proc.stderr


def test_validate_with_synthetic_regions_is_refused(tmp_path):
    refused(tmp_path, "validate", "--set", "run.provinces=synthetic:40", "--out", "out",
            needles=("--set run.provinces=synthetic:40: run.provinces:", "31 provinces"))


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A small results folder of ``sim run`` (two years)."""
    out = tmp_path_factory.mktemp("run") / "results"
    proc = sim("run", BASELINE, *SHORT, "--out", out, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


MALFORMED_MANIFESTS = [
    ("[]", "expected a JSON object"),
    ("{", "malformed manifest (JSONDecodeError"),
    ('"run"', "expected a JSON object"),
    ("{}", "kind: malformed manifest"),
    ('{"kind": 5}', "kind: malformed manifest"),
    ('{"kind": "run", "scenario": [1]}', "scenario: malformed manifest"),
    ('{"kind": "batch", "scenarios": [1]}', "scenarios: malformed manifest"),
    ('{"kind": "batch", "runs_total": "many"}', "runs_total: malformed manifest"),
    ('{"kind": "run", "scenario": {"name": ["x"]}}', "results"),  # fails deeper in reading: still one line
]


@pytest.mark.parametrize("text,needle", MALFORMED_MANIFESTS)
def test_malformed_manifest_is_one_line(tmp_path, run_folder, text, needle):
    import shutil

    folder = tmp_path / "results"
    shutil.copytree(run_folder, folder)
    (folder / "manifest.json").write_text(text)
    refused(tmp_path, "report", "results", needles=("results", needle))


def test_manifest_that_is_a_fifo_is_refused(tmp_path, run_folder):
    import shutil

    folder = tmp_path / "results"
    shutil.copytree(run_folder, folder)
    (folder / "manifest.json").unlink()
    os.mkfifo(folder / "manifest.json")
    refused(tmp_path, "report", "results", needles=("results/manifest.json", "not a regular file"))


# ---------------------------------------------------------------------------------------------
# inf and nan are refused in every scenario value


@pytest.mark.parametrize("text,key", [
    ("[economy]\ncatch_up_rate = inf\n", "economy.catch_up_rate"),
    ("[economy]\ncatch_up_rate = nan\n", "economy.catch_up_rate"),
    ("[investment]\nrd_intensity_target = -inf\n", "investment.rd_intensity_target"),
    ("[structure.sector_shares]\nagriculture = nan\n", "structure.sector_shares.agriculture"),
])
def test_inf_and_nan_in_a_file_are_refused(tmp_path, text, key):
    (tmp_path / "infinite.toml").write_text(text)
    refused(tmp_path, "run", "infinite.toml", "--out", "out", needles=(f"infinite.toml: {key}:", "finite number"))


@pytest.mark.parametrize("value", ["inf", "nan", "+inf", "-nan"])
def test_inf_and_nan_in_set_are_refused(tmp_path, value):
    refused(tmp_path, "run", BASELINE, "--set", f"migration.graduate_mobility={value}", "--out", "out",
            needles=(f"--set migration.graduate_mobility={value}: migration.graduate_mobility:", "finite number"))
