"""The tasks of an ensemble and the loop that hands them to an executor.

Two kinds of task run on the workers (:func:`work`):

* ``run``: record a block of consecutive units with the recorder and write its parts and commit
  (:func:`sim.experiments.parts.write_block`), or return its tables when there is no folder;
* ``compact``: rewrite a chunk of committed blocks as one file per table
  (:func:`sim.experiments.compact.compact_task`), planned by a
  :class:`~sim.experiments.compact.Compactor` as blocks are committed, so that compaction runs on
  the workers between runs instead of after them.

:func:`drive` feeds the executor (a bounded window of tasks in flight), counts progress, stops at
the first failure with ``fail_fast``, and compacts what is left once every block is done.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.compact import Compactor, compact_task
from sim.experiments.parts import Commit, write_block
from sim.experiments.progress import Progress
from sim.experiments.runlist import RunList

__all__ = ["Outcome", "Task", "Tally", "describe_exception", "drive", "work"]

Outcome = tuple[int, str, str]
"""What became of a unit: ``(unit id, "ok" | "failed", error)``."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line in function)``, one line, for the ``error`` column."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    message = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {message}{where}"


@dataclass
class Task:
    """What every ``run`` task needs (shared once per worker on Dask, pickled with each task on a pool)."""

    runs: RunList
    recorder: Any


def work(kind: str, *args: Any) -> tuple[str, Any, Any]:
    """Run one task on a worker: ``("run", task, start, stop, folder, width)`` or
    ``("compact", folder, chunk, tables, width)``.

    Returns:
        ``("run", outcomes, tables or commit)`` (tables without a folder) or ``("compact", chunk, new commit)``.
    """
    if kind == "compact":
        folder, chunk, tables, width = args
        return kind, chunk, compact_task(folder, chunk, tables, width)
    task, start, stop, folder, width = args
    tables, outcomes = task.recorder.record(task.runs, range(start, stop))
    if folder is None:
        return kind, outcomes, tables
    data_tables = tuple(t for t in task.recorder.tables if t != "runs")
    return kind, outcomes, write_block(folder, tables, start, stop, width, data_tables)


@dataclass
class Tally:
    """What :func:`drive` has done so far."""

    runs_run: int = 0
    run_s: float = 0.0
    compact_s: float = 0.0
    stopped: bool = False
    chunks_compacted: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    blocks_in_memory: list[tuple[int, dict[str, pd.DataFrame]]] = field(default_factory=list)


def _calls(task: Any, blocks: Iterable[tuple[int, int]], folder: str | None, width: int,
           compactor: Compactor | None) -> Iterator[tuple]:
    """Run tasks, with each ready compaction slipped in before the next run."""
    tables = compactor.tables[1:] if compactor is not None else ()
    for start, stop in blocks:
        while compactor is not None and (chunk := compactor.take()) is not None:
            yield "compact", folder, chunk, tables, width
        yield "run", task, start, stop, folder, width


def drive(pool: Any, task: Any, blocks: Iterable[tuple[int, int]], *, folder: str | None, width: int,
          units_total: int, done: int, compactor: Compactor | None, progress: bool, fail_fast: bool) -> Tally:
    """Run every block on ``pool`` (compacting on the way when ``compactor``); see the module."""
    tally = Tally()
    bar = Progress(units_total, done, enabled=progress)
    started = time.monotonic()
    try:
        for kind, first, second in pool.imap_unordered(work, _calls(task, blocks, folder, width, compactor)):
            if kind == "compact":
                tally.chunks_compacted += second is not None
                continue
            outcomes: list[Outcome] = first
            tally.runs_run += len(outcomes)
            tally.outcomes.extend(o for o in outcomes if folder is None or o[1] != "ok")
            if isinstance(second, Commit):
                if compactor is not None:
                    compactor.add(second)
            elif second is not None and outcomes:
                tally.blocks_in_memory.append((outcomes[0][0], second))
            bar.update(len(outcomes))
            if fail_fast and any(status != "ok" for _unit, status, _error in outcomes):
                tally.stopped = True
                break
    finally:
        bar.close()
        tally.run_s = time.monotonic() - started
    if compactor is not None and folder is not None:
        compacting = time.monotonic()
        calls = (("compact", folder, chunk, compactor.tables[1:], width) for chunk in compactor.remaining())
        for _kind, _chunk, new in pool.imap_unordered(work, calls):
            tally.chunks_compacted += new is not None
        tally.compact_s = time.monotonic() - compacting
    return tally
