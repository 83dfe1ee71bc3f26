"""Drawing a report's figures in a child process that loads matplotlib itself (no matplotlib here).

:func:`start_drawing` forks one child as soon as the report data is loaded; the child imports the
drawing modules (matplotlib and the figure makers, most of a second of CPU) and runs the figure
jobs in its own forked workers (:func:`sim.report.figures.run_jobs`), while this process computes
the tables. Importing matplotlib here first and forking the workers then would leave the second
core idle for that second, with this process doing it alone.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_TASK: list[Any] = []
"""What the child of the current :func:`start_drawing` call runs (inherited by the fork)."""


def can_fork() -> bool:
    """Whether :func:`start_drawing` can be used here (a platform with fork)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt  # run_jobs then terminates its workers before the child ends


def _child(writer) -> None:
    signal.signal(signal.SIGTERM, _stop)
    make_jobs, workers, cache = _TASK[0]
    try:
        from sim.report.figures import run_jobs

        jobs = make_jobs()
        gc.freeze()  # the drawing modules too stay out of the workers' collections
        results, _ = run_jobs(jobs, workers, cache=cache)
        payload: tuple = ("done", [name for name, _ in jobs], results)
    except BaseException as exc:  # said to the parent, which draws the figures itself
        payload = ("failed", f"{type(exc).__name__}: {exc}", None)
    writer.send(payload)
    writer.close()


class Drawing:
    """The figure jobs running in a child process (:func:`start_drawing`)."""

    def __init__(self, process, reader) -> None:
        self.process = process
        self.reader = reader

    def results(self) -> tuple[list[str], list[tuple[Any, list[str], str | None]]]:
        """The job names and one (result, notes added, error or None) per job, in job order, once all
        are done; raises RuntimeError when the child failed or died."""
        try:
            payload = self.reader.recv()
        except EOFError:
            payload = ("failed", f"the drawing process ended (exit code {self.process.exitcode})", None)
        finally:
            self.reader.close()
            self.process.join()
        if payload[0] != "done":
            raise RuntimeError(payload[1])
        return payload[1], payload[2]

    def stop(self) -> None:
        """End the child and its workers (when the build fails in this process)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(30)
        self.reader.close()


def start_drawing(make_jobs: Callable[[], list[tuple[str, Any]]], workers: int | None,
                  cache: Any = None) -> Drawing:
    """Fork a child that runs ``make_jobs()`` (called there: the jobs' makers may import matplotlib)
    with :func:`sim.report.figures.run_jobs` in ``workers`` processes, and return at once."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    _TASK[:] = [(make_jobs, workers, cache)]
    freeze = gc.get_freeze_count() == 0
    if freeze:  # this process's objects out of the child's collections (no copies of their pages)
        gc.freeze()
    try:
        process = context.Process(target=_child, args=(writer,), name="sim-report-figures")
        process.start()
    finally:
        if freeze:
            gc.unfreeze()
        _TASK.clear()
        writer.close()
    log.debug("drawing the figures in process %d", process.pid)
    return Drawing(process, reader)

