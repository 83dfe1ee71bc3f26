"""One runner for every ensemble: a run list, a recorder, an executor, and optionally a results folder.

The path of every ensemble (a batch, a sensitivity design, a small validation ensemble)::

    run list (sim.experiments.runlist) --> blocks of consecutive units --> executor (serial | process | Dask)
      --> on the worker: recorder.record(run list, units) --> tables
      --> the worker writes the block's parts: data tables first, the committing ``runs`` part last
          (sim.experiments.parts)   (or returns them: no folder)
      --> in the parent: progress, failures, fail-fast, signals, the manifest; at the end the
          blocks are compacted into a few files per table (sim.experiments.compact)

:func:`run_ensemble` is the one function. What a run computes and what is recorded of it is the
*recorder*'s business (:class:`Recorder`): the batch records the national, province, events and
runs tables of every run (:class:`sim.experiments.batch.ModelRecorder`); a sensitivity analysis
records end-year outcomes per design point (:class:`sim.experiments.outcomes.OutcomeRecorder`).

Design choices, each for one promise:

* Units: a recorder records either every run (``per_point = False``) or every point, with its
  replicates together (``per_point = True``). The ``run_id`` column of the ``runs`` table holds the
  unit: the run id, or the point.
* Parts: a block holds a contiguous range of units and is named by its first unit, zero-padded
  (:func:`part_width`). A block never crosses a multiple of ``runs_per_part`` (:func:`plan_blocks`),
  so an uninterrupted ensemble and a resumed one lay out the same blocks.
* Commit and resume: a unit is done exactly when a valid commit covers it
  (:mod:`sim.experiments.parts`). ``resume`` verifies every commit (sizes, row counts, checksums)
  and reruns what is missing or damaged: it never trusts a part it has not checked.
* One writer: the folder is locked while the ensemble writes it (:mod:`sim.experiments.lock`).
* Signals: SIGINT and SIGTERM stop the workers, keep the finished parts and leave the manifest
  ``interrupted`` (:mod:`sim.experiments.signals`); the exception carries what was kept.
* Memory: the parent keeps a bounded window of tasks in flight and the ids of the units done.
* Failures: the recorder turns a run that raises into a ``runs`` row with ``status = "failed"`` and
  the error (:func:`describe_exception`); the ensemble goes on, or stops with ``fail_fast``.
* Without a results folder nothing is written: the tables come back in memory, in unit order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from sim.experiments.compact import Compactor
from sim.experiments.executors import DaskExecutor, ExecutorChoice, SerialExecutor
from sim.experiments.folder import FolderSession, ResultsFolder
from sim.experiments.parts import count_status, scan
from sim.experiments.runlist import RunList
from sim.experiments.signals import Interrupted, stop_on_signals
from sim.experiments.tasks import Outcome, Tally, Task, describe_exception, drive

log = logging.getLogger(__name__)

__all__ = [
    "EnsembleResult",
    "Interrupted",
    "Outcome",
    "Recorder",
    "ResultsFolder",
    "WorkerLost",
    "describe_exception",
    "part_width",
    "plan_blocks",
    "run_ensemble",
]

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
# run_ensemble


@dataclass
class EnsembleResult:
    """What :func:`run_ensemble` did.

    Attributes:
        units_total: units of the run list (runs, or points when the recorder records points).
        runs_run: units run by this call.
        runs_resumed: units already in the folder (and verified) when this call started.
        runs_repaired: units whose parts were missing or damaged when this call started (run again).
        runs_done: units done (this call and before), whether ok or failed.
        runs_failed: failed units (in the whole folder, or of this call without a folder).
        stopped: True when ``fail_fast`` stopped the ensemble early.
        executor: the executor used, as one line.
        startup_s: time to open the folder and start the executor, seconds.
        run_s: time from the first task submitted to the last result, seconds.
        compact_s: time spent compacting the parts at the end, seconds.
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
    runs_repaired: int = 0
    compact_s: float = 0.0
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
                 on_start: Callable[[int, str], None] | None = None,
                 allow_code_change: bool = False, compact_parts: bool = True) -> EnsembleResult:
    """Run every unit of a run list on an executor, recording each with ``recorder``.

    Args:
        runs: the run list.
        recorder: what each run computes and records (see :class:`Recorder`).
        executor: an :class:`~sim.experiments.executors.ExecutorChoice`, an executor not yet
            entered, or None (serial).
        folder: stream parts and a manifest into this folder; None keeps the tables in memory.
        resume: finish the ensemble already in ``folder``: verify what is there, run what is
            missing or damaged.
        runs_per_part: units per block (part and task), for a new folder (a resumed one keeps its own).
        fail_fast: stop at the first failed unit (units in flight finish and are kept).
        progress: show progress on stderr.
        on_open: called with the folder once it exists and its manifest says ``running``,
            before any unit runs (to write files that describe the ensemble).
        on_start: called with the number of units to run and the executor, once it has started.
        allow_code_change: resume a folder whose runs were made by other code (recorded in the manifest).
        compact_parts: at the end, rewrite the blocks as a few files per table.

    Returns:
        An :class:`EnsembleResult`.

    Raises:
        ResultsError: the folder cannot take this ensemble (see :mod:`sim.experiments.folder`).
        WorkerLost: a worker process died (the units finished so far are kept).
        Interrupted: SIGINT or SIGTERM; workers are stopped, finished parts kept, the manifest
            says ``interrupted``; the exception's ``folder`` and ``units_done`` say what was kept.
    """
    started = time.monotonic()
    units_total = runs.n_points if recorder.per_point else len(runs)
    data_tables = tuple(t for t in recorder.tables if t != "runs")
    session: FolderSession | None = None
    if folder is not None:
        session = folder.open(resume, data_tables, units_total, runs_per_part, allow_code_change=allow_code_change)
        runs_per_part = session.runs_per_part
    done: set[int] = session.done if session is not None else set()
    runs_per_part = max(1, runs_per_part)
    missing = units_total - len(done)
    where = str(session.path.resolve()) if session is not None else None
    width = part_width(units_total)
    described, startup_s = "serial (this process)", 0.0
    try:
        with stop_on_signals():
            if not missing or executor is None:
                pool = SerialExecutor()
            elif isinstance(executor, ExecutorChoice):
                pool = executor.make(tasks=-(-missing // runs_per_part))
            else:
                pool = executor
            with pool:
                startup_s, described = time.monotonic() - started, pool.describe()
                if session is not None:
                    if isinstance(pool, DaskExecutor):
                        pool.check_folder(Path(where))
                    session.start(described)
                    if on_open is not None:
                        on_open(session.path)
                if on_start is not None:
                    on_start(missing, described)
                compactor = (Compactor(data_tables, units_total, session.state.commits)
                             if session is not None and compact_parts else None)
                blocks = plan_blocks((i for i in range(units_total) if i not in done), runs_per_part)
                tally = drive(pool, pool.share(Task(runs, recorder)), blocks, folder=where, width=width,
                              units_total=units_total, done=len(done), compactor=compactor, progress=progress,
                              fail_fast=fail_fast)
            if session is not None:
                return _finish(session, tally, runs_per_part, units_total, described, startup_s, started)
    except BaseException as exc:
        if session is not None:
            interrupted = isinstance(exc, Interrupted)
            session.finish("interrupted" if interrupted else "incomplete")
            if interrupted:  # the workers are stopped: count what they committed
                kept = scan(session.path, data_tables, deep=False, runs_per_part=runs_per_part, units_total=units_total)
                exc.folder = session.path  # type: ignore[attr-defined]
                exc.units_done = len(kept.done)  # type: ignore[attr-defined]
        if _worker_died(exc):
            what = folder.what if folder is not None else "ensemble"
            raise WorkerLost(f"a worker process died ({exc}); the runs finished so far are kept in "
                             f"{folder.path if folder else None}: rerun with --resume to finish the {what}") from exc
        raise
    finally:
        if session is not None:
            session.close()
    tally.outcomes.sort()
    runs_failed = sum(status != "ok" for _unit, status, _error in tally.outcomes)
    return EnsembleResult(
        units_total=units_total, runs_run=tally.runs_run, runs_resumed=0, runs_done=len(tally.outcomes),
        runs_failed=runs_failed, stopped=tally.stopped, executor=described, startup_s=startup_s,
        run_s=tally.run_s, elapsed_s=time.monotonic() - started, tables=_concat(tally.blocks_in_memory),
        outcomes=tally.outcomes)


def _finish(session: FolderSession, tally: Tally, runs_per_part: int, units_total: int, described: str,
            startup_s: float, started: float) -> EnsembleResult:
    """Count the runs and write the manifest's status: the end of a session."""
    state = scan(session.path, session.data_tables, deep=False, runs_per_part=runs_per_part, units_total=units_total)
    runs_done, runs_failed = count_status(session.path, state.commits)
    left = units_total - runs_done
    status = "complete" if left == 0 and not runs_failed else (
        "complete_with_failures" if left == 0 else "incomplete")
    session.manifest["parts"] = {"files_per_table": len(state.commits), "chunks_compacted": tally.chunks_compacted}
    session.finish(status, runs_done - runs_failed, runs_failed)
    tally.outcomes.sort()
    return EnsembleResult(
        units_total=units_total, runs_run=tally.runs_run, runs_resumed=len(session.done),
        runs_repaired=session.repaired, runs_done=runs_done, runs_failed=runs_failed, stopped=tally.stopped,
        executor=described, startup_s=startup_s, run_s=tally.run_s, compact_s=tally.compact_s,
        elapsed_s=time.monotonic() - started, folder=session.path, manifest=session.manifest,
        outcomes=tally.outcomes)


def _worker_died(exc: BaseException) -> bool:
    """A lost worker process (a process pool's, or a Dask worker that died running a task)."""
    if isinstance(exc, BrokenProcessPool):
        return True
    return type(exc).__name__ == "KilledWorker"


def _concat(blocks: list[tuple[int, Mapping[str, pd.DataFrame]]]) -> dict[str, pd.DataFrame]:
    """The tables of blocks returned in memory, in unit order."""
    blocks.sort(key=lambda block: block[0])
    names = dict.fromkeys(name for _start, tables in blocks for name in tables)
    out = {}
    for name in names:
        frames = [tables[name] for _start, tables in blocks if name in tables]
        out[name] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    return out
