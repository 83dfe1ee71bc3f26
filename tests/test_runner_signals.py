"""SIGTERM and SIGINT stop a batch cleanly (issue 14), tested on real subprocesses: workers stopped (no
orphans), finished parts kept, manifest ``interrupted``, one line saying how to resume, exit 143 / 130;
then ``--resume`` gives the tables of an uninterrupted batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ensemble_helpers import alive, assert_same_tables, commits_in, descendants, sim_env

from sim.experiments.batch import run_batch
from sim.experiments.lock import LOCK_NAME
from sim.experiments.parts import scan
from sim.experiments.store import read_manifest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
TOTAL = 40


def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(f'name = "stopped"\nscenarios = ["{BASELINE}"]\nreplicates = {TOTAL}\nseed = 61\n'
                    '[set]\n"run.end_year" = 2030\n[record]\nruns_per_part = 1\n')
    return path


def start_and_stop(path: Path, out: Path, sig: int, log: Path) -> tuple[subprocess.CompletedProcess, list[int]]:
    """Start ``sim batch`` on 2 workers, send ``sig`` to it alone once a few runs are done; its workers and exit."""
    command = [sys.executable, "-m", "sim", "batch", str(path), "--out", str(out), "--workers", "2", "--no-progress"]
    with open(log, "wb") as handle:
        proc = subprocess.Popen(command, cwd=ROOT, env=sim_env(), stdout=handle, stderr=subprocess.PIPE,
                                start_new_session=True)
        workers: list[int] = []
        try:
            deadline = time.monotonic() + 180
            while proc.poll() is None and time.monotonic() < deadline and commits_in(out) < 4:
                time.sleep(0.01)
            workers = descendants(proc.pid)
            assert proc.poll() is None, "the batch finished before it could be stopped; make it longer"
            os.kill(proc.pid, sig)  # the parent alone, as `kill PID` or a scheduler's SIGTERM
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None or any(alive(pid) for pid in workers):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=30)
    return subprocess.CompletedProcess(command, proc.returncode, "", err.decode()), workers


@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_batch_cleanly_and_resume_finishes_it(sig: int, status: int, tmp_path: Path) -> None:
    path = experiment(tmp_path)
    out = tmp_path / "results"
    proc, workers = start_and_stop(path, out, sig, tmp_path / "batch.log")
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    name = signal.Signals(sig).name
    assert lines[0].startswith(f"interrupted by {name}; ") and " finished run(s) are kept in " in lines[0]
    assert f"To finish: sim batch {path} --resume --out {out}" in lines[0]
    # no worker outlives the batch
    assert len(workers) >= 2, workers
    deadline = time.monotonic() + 120  # a hang detector: a busy machine may take a while to reap them
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], "orphaned workers"
    # finished parts kept and valid; the manifest says interrupted; the lock is released
    manifest = read_manifest(out)
    assert manifest["status"] == "interrupted"
    kept = scan(out, ("national", "province", "events"), deep=True, units_total=TOTAL)
    assert len(kept.done) >= 4 and not kept.rejected
    assert int(lines[0].split("; ")[1].split()[0]) == len(kept.done)
    assert not (out / LOCK_NAME).exists()
    if sig != signal.SIGTERM:
        return
    resumed = subprocess.run([sys.executable, "-m", "sim", "batch", str(path), "--out", str(out), "--workers", "2",
                              "--resume", "--no-progress"], cwd=ROOT, env=sim_env(), capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert read_manifest(out)["status"] == "complete"
    reference = tmp_path / "reference"
    run_batch(path, executor="serial", out=reference, progress=False)
    assert_same_tables(reference, out)


def test_a_killed_pools_thread_fails_quietly_and_other_threads_do_not(capsys) -> None:
    """Killing a pool's workers races with its manager thread (Python 3.11: KeyError in
    add_call_item_to_queue); that thread's exception must not print a traceback after the one line of
    an interrupted batch, while an exception in any other thread still reaches the previous hook."""
    import threading
    from types import SimpleNamespace

    from sim.experiments import pool

    def fail() -> None:
        raise KeyError(11)

    manager = threading.Thread(target=fail, name="pool manager")
    other = threading.Thread(target=fail, name="someone else")
    seen: list[str] = []
    before = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.thread.name)
    try:
        pool._silence_manager_thread(SimpleNamespace(_executor_manager_thread=manager))
        for thread in (manager, other):
            thread.start()
            thread.join()
    finally:
        threading.excepthook = before
    assert seen == ["someone else"]
    assert "KeyError" not in capsys.readouterr().err
