"""The cluster path (issue 13): ``dask scheduler`` and two ``dask worker tcp://...`` started as separate
processes on 127.0.0.1, ``sim batch --dask tcp://...`` on them gives the tables of a serial run, and a
worker killed mid-batch loses no run (the batch completes, or ``--resume`` finishes it).

Loopback only; every process is started in its own session and killed (its whole group) at the end,
whatever happens; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ensemble_helpers import assert_same_tables, commits_in, sim_env

from sim.experiments.batch import run_batch
from sim.experiments.store import read_manifest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
CAS = ROOT / "scenarios" / "cas_branch.toml"
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
TOTAL = 24


class Cluster:
    """A scheduler and workers, each a process group of its own; :meth:`close` kills them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}
        self.address = ""

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([DASK, *args], stdout=log, stderr=log, env=sim_env(), cwd=self.folder,
                                start_new_session=True)
        log.close()
        self.processes[name] = proc
        return proc

    def start_scheduler(self, timeout: float = 60) -> str:
        scheduler_file = self.folder / "scheduler.json"
        self.start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if scheduler_file.exists():
                try:
                    self.address = json.loads(scheduler_file.read_text())["address"]
                    return self.address
                except (ValueError, KeyError):
                    pass
            assert self.processes["scheduler"].poll() is None, self.log("scheduler")
            time.sleep(0.1)
        raise AssertionError(f"no scheduler after {timeout} s: {self.log('scheduler')}")

    def start_worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                          "--no-nanny", "--no-dashboard", "--death-timeout", "60", "--name", name)

    def wait_for_workers(self, count: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(count, timeout=timeout)

    def kill(self, name: str) -> None:
        proc = self.processes[name]
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        for name in list(self.processes):
            self.kill(name)


@pytest.fixture
def cluster(tmp_path: Path):
    if DASK is None:
        pytest.skip("the dask command is not installed")
    cluster = Cluster(tmp_path)
    try:
        cluster.start_scheduler()
        cluster.start_worker("worker-a")
        cluster.start_worker("worker-b")
        cluster.wait_for_workers(2)
        yield cluster
    finally:
        cluster.close()


def test_batch_on_a_scheduler_and_two_worker_processes_survives_a_killed_worker(cluster: Cluster,
                                                                               tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(f'name = "cluster"\nscenarios = ["{BASELINE}", "{CAS}"]\nreplicates = {TOTAL // 2}\nseed = 8\n'
                    '[set]\n"run.end_year" = 2030\n[record]\nruns_per_part = 1\n')
    out = tmp_path / "results"
    command = [sys.executable, "-m", "sim", "batch", str(path), "--dask", cluster.address, "--out", str(out),
               "--no-progress"]
    with open(tmp_path / "batch.log", "wb") as log:
        batch = subprocess.Popen(command, cwd=ROOT, env=sim_env(), stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while batch.poll() is None and time.monotonic() < deadline and commits_in(out) < 3:
                time.sleep(0.02)
            killed_mid_batch = batch.poll() is None and commits_in(out) < TOTAL
            cluster.kill("worker-a")  # SIGKILL, mid-batch: its task in flight is lost with it
            batch.wait(timeout=300)
        finally:
            if batch.poll() is None:
                os.killpg(batch.pid, signal.SIGKILL)
                batch.wait(timeout=30)
    output = (tmp_path / "batch.log").read_text()
    assert killed_mid_batch, "the batch finished before the worker could be killed; make it longer"
    if batch.returncode != 0:  # the scheduler gave up on a task: finish with the worker that is left
        assert batch.returncode == 1 and "--resume" in output, output
        resumed = subprocess.run([*command, "--resume"], cwd=ROOT, env=sim_env(), capture_output=True, text=True,
                                 timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"Dask scheduler {cluster.address}" in output, output
    assert read_manifest(out)["status"] == "complete"

    reference = tmp_path / "reference"
    run_batch(path, executor="serial", out=reference, progress=False)
    assert_same_tables(reference, out)
