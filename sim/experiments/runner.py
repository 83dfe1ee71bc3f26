"""One runner for every ensemble: a run list, a recorder, an executor, and optionally a results folder.

The path of every ensemble (a batch, a sensitivity design, a small validation ensemble)::

    run list (sim.experiments.runlist) --> blocks of consecutive units --> executor (serial | process | Dask)
      --> on the worker: recorder.record(run list, units) --> tables
      --> the worker writes the block's parts: data tables first, ``runs`` last   (or returns them: no folder)
      --> in the parent: progress, failures, fail-fast, resume, the manifest

:func:`run_ensemble` is the one function. What a run computes and what is recorded of it is the
*recorder*'s business (:class:`Recorder`): the batch records the national, province, events and
runs tables of every run (:class:`sim.experiments.batch.ModelRecorder`); a sensitivity analysis
records end-year outcomes per design point (:class:`sim.experiments.outcomes.OutcomeRecorder`).

Design choices, each for one promise:

* Units: a recorder records either every run (``per_point = False``) or every point, with its
  replicates together (``per_point = True``). The ``run_id`` column of the ``runs`` table holds the
  unit: the run id, or the point.
* Parts: a part holds a contiguous block of units and is named by its first unit, zero-padded
  (:func:`part_width`). A block never crosses a multiple of ``runs_per_part`` (:func:`plan_blocks`),
  so an uninterrupted ensemble and a resumed one lay out the same parts. Parts are written by the
  worker that ran them, through :func:`sim.experiments.store.write_part` (a temporary name, then
  an atomic rename).
* Commit order: a block's data tables are written first and its ``runs`` part last. A unit is done
  exactly when its row is in ``runs``; ``resume`` removes data parts without a ``runs`` part (a crash
  between the two writes) and temporary files, then runs only the missing units.
* Memory: the parent keeps a bounded window of tasks in flight and the ids of the units done.
* Failures: the recorder turns a run that raises into a ``runs`` row with ``status = "failed"`` and
  the error (:func:`describe_exception`); the ensemble goes on, or stops with ``fail_fast``.
* Without a results folder nothing is written: the tables come back in memory, in unit order.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from sim.errors import ResultsError
from sim.experiments.executors import DaskExecutor, ExecutorChoice, SerialExecutor
from sim.experiments.progress import Progress
from sim.experiments.runlist import RunList
from sim.experiments.store import (
    clean_partial,
    count_runs,
    done_runs,
    existing_manifest,
    finish_manifest,
    git_commit,
    write_manifest,
    write_part,
)

log = logging.getLogger(__name__)

__all__ = [
    "EnsembleResult",
    "Outcome",
    "Recorder",
    "ResultsFolder",
    "WorkerLost",
    "describe_exception",
    "part_width",
    "plan_blocks",
    "run_ensemble",
]

Outcome = tuple[int, str, str]
"""What became of a unit: ``(unit id, "ok" | "failed", error)``."""


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory); the units finished so far are kept."""


class Recorder(Protocol):
    """What each run computes and what is recorded of it.

    Attributes:
        tables: the tables :meth:`record` returns, ``runs`` among them (it is written last).
        per_point: True to record points (a point's replicates together), False to record runs.
    """

    tables: tuple[str, ...]
    per_point: bool

    def record(self, runs: RunList, units: range) -> tuple[dict[str, pd.DataFrame], list[Outcome]]:
        """Run the units and return their tables (``runs`` always; others may be left out) and outcomes.

        A unit that fails is a ``runs`` row with ``status = "failed"``; only a bug in the recorder raises.
        Called on the workers: the recorder and the run list must be picklable.
        """
        ...


def describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line in function)``, one line, for the ``error`` column."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    message = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {message}{where}"


def part_width(units: int) -> int:
    """Digits of a part id (zero-padded first unit): at least 6."""
    return max(6, len(str(max(units - 1, 0))))


def plan_blocks(missing: Iterable[int], runs_per_part: int) -> Iterator[tuple[int, int]]:
    """Group sorted unit ids into ``(start, stop)`` blocks of consecutive ids.

    A block never crosses a multiple of ``runs_per_part``, so an uninterrupted ensemble and a
    resumed one lay out the same parts.
    """
    start = stop = None
    for unit in missing:
        if start is not None and (unit != stop or unit // runs_per_part != start // runs_per_part):
            yield start, stop
            start = None
        if start is None:
            start = unit
        stop = unit + 1
    if start is not None:
        yield start, stop


# --------------------------------------------------------------------------------------
# The worker side


@dataclass
class _Task:
    """What every task needs (shared once per worker on Dask, pickled with each task on a pool)."""

    runs: RunList
    recorder: Recorder


def _run_block(task: _Task, start: int, stop: int, folder: str | None,
               width: int) -> tuple[list[Outcome], dict[str, pd.DataFrame] | None]:
    """Record units ``start`` to ``stop - 1``; write their parts (data tables, then ``runs``) or return them."""
    tables, outcomes = task.recorder.record(task.runs, range(start, stop))
    if folder is None:
        return outcomes, tables
    part = f"{start:0{width}d}"
    for name, frame in tables.items():
        if name != "runs":
            write_part(Path(folder), name, part, frame)
    write_part(Path(folder), "runs", part, tables["runs"])
    return outcomes, None


# --------------------------------------------------------------------------------------
# The results folder


@dataclass
class ResultsFolder:
    """A results folder the runner streams into, and what makes it this ensemble's.

    Attributes:
        path: the folder.
        manifest: the manifest of a new folder: ``kind``, the identity (under ``identity_key``),
            what was run. The runner adds ``status``, ``sessions``, ``runs_per_part`` and the counts.
        identity_key: the manifest key whose value must be the same to resume.
        what: how messages name the ensemble ("batch", "sensitivity analysis").
        mismatch: the message when ``resume`` finds another ensemble's folder (given its manifest).
    """

    path: Path
    manifest: dict[str, Any]
    identity_key: str
    what: str
    mismatch: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False)

    def check(self, resume: bool) -> dict[str, Any] | None:
        """Check that the folder can take this ensemble, without touching it.

        Returns:
            The folder's manifest when there is an ensemble to resume, else None (a new folder).

        Raises:
            ResultsError: the folder is a file; is not empty and ``resume`` is False; or holds
                something other than this ensemble.
        """
        old = existing_manifest(self.path, resume, self.manifest["kind"], self.what)
        if old is not None and old.get(self.identity_key) != self.manifest[self.identity_key]:
            message = self.mismatch(old) if self.mismatch else (
                f"holds another {self.what} ({old.get(self.identity_key)}) than this one "
                f"({self.manifest[self.identity_key]})")
            raise ResultsError(f"--resume {self.path}: {message}; refusing to mix them: choose another --out")
        return old


# --------------------------------------------------------------------------------------
# run_ensemble


@dataclass
class EnsembleResult:
    """What :func:`run_ensemble` did.

    Attributes:
        units_total: units of the run list (runs, or points when the recorder records points).
        runs_run: units run by this call.
        runs_resumed: units already in the folder when this call started.
        runs_done: units done (this call and before), whether ok or failed.
        runs_failed: failed units (in the whole folder, or of this call without a folder).
        stopped: True when ``fail_fast`` stopped the ensemble early.
        executor: the executor used, as one line.
        startup_s: time to open the folder and start the executor, seconds.
        run_s: time from the first task submitted to the last result, seconds.
        elapsed_s: wall time of the call, seconds.
        folder: the results folder (None: in memory).
        manifest: the folder's manifest as written last (None: in memory).
        tables: without a folder, every table in unit order (empty with a folder).
        outcomes: ``(unit, status, error)`` of the units run by this call, in unit order (with a
            folder only the failed ones, so that memory does not grow with the number of runs).
    """

    units_total: int
    runs_run: int
    runs_resumed: int
    runs_done: int
    runs_failed: int
    stopped: bool
    executor: str
    startup_s: float
    run_s: float
    elapsed_s: float
    folder: Path | None = None
    manifest: dict[str, Any] | None = field(default=None, repr=False)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    outcomes: list[Outcome] = field(default_factory=list, repr=False)

    @property
    def runs_missing(self) -> int:
        """Units not done."""
        return self.units_total - self.runs_done


def run_ensemble(runs: RunList, recorder: Recorder, *, executor: ExecutorChoice | Any | None = None,
                 folder: ResultsFolder | None = None, resume: bool = False, runs_per_part: int = 1,
                 fail_fast: bool = False, progress: bool = False,
                 on_open: Callable[[Path], None] | None = None,
                 on_start: Callable[[int, str], None] | None = None) -> EnsembleResult:
    """Run every unit of a run list on an executor, recording each with ``recorder``.

    Args:
        runs: the run list.
        recorder: what each run computes and records (see :class:`Recorder`).
        executor: an :class:`~sim.experiments.executors.ExecutorChoice` (a process pool is made no
            larger than the blocks to run), an executor not yet entered, or None (serial).
        folder: stream parts and a manifest into this folder; None keeps the tables in memory.
        resume: finish the ensemble already in ``folder``: run only the missing units.
        runs_per_part: units per part and task, for a new folder (a resumed one keeps its own).
        fail_fast: stop at the first failed unit (units in flight finish and are kept).
        progress: show progress on stderr.
        on_open: called with the folder once it exists and its manifest says ``running``,
            before any unit runs (to write files that describe the ensemble).
        on_start: called with the number of units to run and the executor, once it has started.

    Returns:
        An :class:`EnsembleResult`.

    Raises:
        ResultsError: ``folder`` is not empty (without ``resume``) or holds another ensemble.
        WorkerLost: a worker process died (the units finished so far are kept).
    """
    started = time.monotonic()
    units_total = runs.n_points if recorder.per_point else len(runs)
    manifest: dict[str, Any] | None = None
    done: set[int] = set()
    created = False
    path: Path | None = None
    if folder is not None:
        path = folder.path
        old = folder.check(resume)
        if old is None:
            manifest = dict(folder.manifest)
            manifest.setdefault("runs_per_part", runs_per_part)
            created = not path.exists()
        else:
            manifest = old
            removed = clean_partial(path, recorder.tables)
            if removed:
                log.info("removed %d partial files from %s", removed, path)
            done = done_runs(path)
        runs_per_part = int(manifest.get("runs_per_part") or runs_per_part)
    runs_per_part = max(1, runs_per_part)
    missing = units_total - len(done)
    if not missing or executor is None:
        pool = SerialExecutor()
    elif isinstance(executor, ExecutorChoice):
        pool = executor.make(tasks=math.ceil(missing / runs_per_part))
    else:
        pool = executor
    width = part_width(units_total)
    where = str(path.resolve()) if path is not None else None
    stopped = False
    runs_run = 0
    outcomes: list[Outcome] = []
    blocks_in_memory: list[tuple[int, dict[str, pd.DataFrame]]] = []
    run_s = startup = 0.0
    try:
        with pool:
            startup = time.monotonic() - started
            if path is not None and manifest is not None:
                path.mkdir(parents=True, exist_ok=True)
                if isinstance(pool, DaskExecutor):
                    pool.check_folder(Path(where))
                manifest["status"] = "running"
                manifest.setdefault("sessions", []).append({
                    "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "executor": pool.describe(), "runs_done_before": len(done), "git_commit": git_commit(),
                })
                write_manifest(path, manifest)
                if on_open is not None:
                    on_open(path)
            if on_start is not None:
                on_start(missing, pool.describe())
            task = pool.share(_Task(runs, recorder))
            blocks = plan_blocks((i for i in range(units_total) if i not in done), runs_per_part)
            calls = ((task, start, stop, where, width) for start, stop in blocks)
            bar = Progress(units_total, len(done), enabled=progress)
            loop_started = time.monotonic()
            try:
                for block_outcomes, tables in pool.imap_unordered(_run_block, calls):
                    runs_run += len(block_outcomes)
                    outcomes.extend(o for o in block_outcomes if path is None or o[1] != "ok")
                    if tables is not None and block_outcomes:
                        blocks_in_memory.append((block_outcomes[0][0], tables))
                    bar.update(len(block_outcomes))
                    if fail_fast and any(status != "ok" for _unit, status, _error in block_outcomes):
                        stopped = True
                        break
            finally:
                bar.close()
                run_s = time.monotonic() - loop_started
    except BaseException as exc:
        if path is not None and manifest is not None:
            if created and path.exists() and not any(path.iterdir()):
                path.rmdir()
            finish_manifest(path, manifest, "incomplete")
        if isinstance(exc, BrokenProcessPool):
            what = folder.what if folder is not None else "ensemble"
            raise WorkerLost(f"a worker process died ({exc}); the runs finished so far are kept in {path}: "
                             f"rerun with --resume to finish the {what}") from exc
        raise
    outcomes.sort()
    if path is not None and manifest is not None:
        runs_done, runs_failed = count_runs(path)
        left = units_total - runs_done
        status = "complete" if left == 0 and not runs_failed else (
            "complete_with_failures" if left == 0 else "incomplete")
        finish_manifest(path, manifest, status, runs_done - runs_failed, runs_failed)
    else:
        runs_done = len(outcomes)
        runs_failed = sum(status != "ok" for _unit, status, _error in outcomes)
    return EnsembleResult(
        units_total=units_total, runs_run=runs_run, runs_resumed=len(done), runs_done=runs_done,
        runs_failed=runs_failed, stopped=stopped, executor=pool.describe(), startup_s=startup, run_s=run_s,
        elapsed_s=time.monotonic() - started, folder=path, manifest=manifest, tables=_concat(blocks_in_memory),
        outcomes=outcomes)


def _concat(blocks: list[tuple[int, Mapping[str, pd.DataFrame]]]) -> dict[str, pd.DataFrame]:
    """The tables of blocks returned in memory, in unit order."""
    blocks.sort(key=lambda block: block[0])
    names = dict.fromkeys(name for _start, tables in blocks for name in tables)
    out = {}
    for name in names:
        frames = [tables[name] for _start, tables in blocks if name in tables]
        out[name] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    return out
