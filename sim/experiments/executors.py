"""Executors: where the units of work of an ensemble run.

Each is a context manager with the same three methods: ``share(value)`` (a handle to pass a large
value to every task), ``imap_unordered(fn, calls)`` (results as tasks finish, with a bounded
number in flight) and ``describe()`` (one line for the terminal).

* :class:`SerialExecutor`: in this process, in order (debugging, tests, small ensembles).
* :class:`ProcessExecutor`: a ``concurrent.futures`` process pool, started once per Python process
  and reused by the ensembles that follow (:mod:`sim.experiments.pool`); workers are started with
  ``forkserver`` (or ``spawn``), chosen for this pool only, never set globally.
* :class:`DaskExecutor`: a Dask ``LocalCluster`` or a scheduler address; workers that write results
  must see the results folder at the same path (a cluster's shared file system).

:class:`ExecutorChoice` is an executor not started yet: kind, workers, address, as the command line
and an experiment's ``[executor]`` give them.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ResultsError, SimError
from sim.experiments.pool import PRELOAD, default_start_method, discard_pool, get_pool

__all__ = [
    "KINDS",
    "DaskExecutor",
    "ExecutorChoice",
    "ProcessExecutor",
    "SerialExecutor",
    "check_dask_address",
    "make_executor",
]

KINDS: tuple[str, ...] = ("serial", "process", "dask")
_ADDRESS = re.compile(r"(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::\d{1,5})?/?")


def check_dask_address(address: str, option: str = "--dask") -> str:
    """``address`` if it is ``local`` or a scheduler address (``tcp://host:port``), else a one-line :class:`SimError`."""
    if address == "local" or (isinstance(address, str) and _ADDRESS.fullmatch(address)
                              and not address.startswith(("tcp:///", "tls:///"))):
        return address
    shown = repr(address) if len(repr(address)) <= 80 else repr(address)[:77] + "..."
    raise SimError(f"{option} {shown}: expected 'local' or a Dask scheduler address such as tcp://10.0.0.5:8786")


def _folder_writable(folder: str) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK)


class SerialExecutor:
    """Runs every task in this process, in order. ``with SerialExecutor() as ex: ...``"""

    kind = "serial"
    workers = 1

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def share(self, value: Any) -> Any:
        """A handle to pass ``value`` to every task (the value itself here)."""
        return value

    def imap_unordered(self, fn: Callable[..., Any], calls: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*args)`` for each ``args`` in ``calls``, as they finish."""
        for args in calls:
            yield fn(*args)

    def describe(self) -> str:
        """One line for the terminal."""
        return "serial (this process)"


class ProcessExecutor:
    """A local process pool (``concurrent.futures``), kept for the session (:mod:`sim.experiments.pool`).

    Entering reuses the session's pool when it has ``workers`` processes (else starts one); leaving
    normally waits for tasks still running (after a stop) and keeps the pool for the next ensemble;
    leaving on an exception (an interrupt, a lost worker) stops its workers at once.

    Args:
        workers: number of worker processes (0 or None = all cores).
        start_method: ``"forkserver"`` (default where available) or ``"spawn"``; for this pool only.
        preload: modules every worker imports when it starts.
    """

    kind = "process"

    def __init__(self, workers: int | None = None, start_method: str | None = None,
                 preload: tuple[str, ...] = PRELOAD) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.start_method = start_method or default_start_method()
        self.preload = tuple(preload)
        self.window = 2 * self.workers + 2
        self.started_pool = False
        self._pool = None
        self._running: set[Any] = set()

    def __enter__(self) -> ProcessExecutor:
        self._pool, self.started_pool = get_pool(self.workers, self.start_method, self.preload)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pool is None:
            return
        self._pool = None
        if exc_type is not None:
            discard_pool(kill=True)
        elif self._running:
            wait(self._running)
        self._running = set()

    def share(self, value: Any) -> Any:
        """A handle to pass ``value`` to every task (pickled with each task)."""
        return value

    def imap_unordered(self, fn: Callable[..., Any], calls: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*args)`` as they finish, with at most ``window`` tasks in flight."""
        assert self._pool is not None, "use the executor in a with-block"
        calls = iter(calls)
        pending: set[Any] = set()

        def fill() -> None:
            while len(pending) < self.window:
                args = next(calls, None)
                if args is None:
                    return
                pending.add(self._pool.submit(fn, *args))

        try:
            fill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pending.discard(future)
                    yield future.result()
                fill()
        finally:
            self._running |= {future for future in pending if not future.cancel()}

    def describe(self) -> str:
        """One line for the terminal."""
        return f"process pool ({self.workers} worker{'s' if self.workers != 1 else ''}, {self.start_method})"


class DaskExecutor:
    """Dask distributed: ``address="local"`` starts a ``LocalCluster``, else connects to a scheduler.

    Args:
        address: ``"local"`` or a scheduler address such as ``tcp://10.0.0.5:8786``.
        workers: worker processes of a local cluster (0 or None = all cores); ignored otherwise.
    """

    kind = "dask"

    def __init__(self, address: str = "local", workers: int | None = None) -> None:
        self.address = address
        self.local_workers = workers or os.cpu_count() or 1
        self.workers = self.local_workers
        self._client = None
        self._cluster = None
        self._dashboard = ""

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SimError("--dask: dask.distributed is not installed (pip install 'sim-regional-growth[dask]')") from None
        if self.address == "local":
            self._cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=True,
                                         silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.address, timeout="15s")
            except (OSError, TimeoutError) as exc:
                raise SimError(f"--dask {self.address}: cannot reach the Dask scheduler ({exc})") from None
            self.workers = self._threads()
        self.describe()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    @property
    def client(self):
        """The ``distributed.Client``."""
        return self._client

    def _threads(self) -> int:
        """Worker threads connected now (at least 1: tasks wait for workers to join)."""
        return max(1, sum(self._client.nthreads().values()))

    def check_folder(self, folder: Path) -> None:
        """Raise :class:`ResultsError` unless every worker can write ``folder`` (a shared file system)."""
        answers = self._client.run(_folder_writable, str(folder))
        blind = sorted(worker for worker, ok in answers.items() if not ok)
        if blind:
            raise ResultsError(f"--out {folder}: not writable from Dask worker(s) {', '.join(blind)}; the results "
                               "folder must be on a file system every worker sees at the same path")

    def share(self, value: Any) -> Any:
        """Send ``value`` to every worker once; returns the future to pass to tasks."""
        return self._client.scatter(value, broadcast=True)

    def imap_unordered(self, fn: Callable[..., Any], calls: Iterable[tuple]) -> Iterator[Any]:
        """Results of ``fn(*args)`` as they finish, with a bounded number of tasks in flight."""
        from distributed import as_completed

        calls = iter(calls)
        pending: set[Any] = set()
        completed = as_completed()
        checked = time.monotonic()
        window = 2 * self.workers + 4

        def submit() -> bool:
            args = next(calls, None)
            if args is None:
                return False
            future = self._client.submit(fn, *args, pure=False)
            pending.add(future)
            completed.add(future)
            return True

        try:
            while len(pending) < window and submit():
                pass
            for future in completed:
                pending.discard(future)
                result = future.result()
                future.release()
                if self.address != "local" and time.monotonic() - checked > 2.0:
                    # workers of a job-queue cluster join (and leave) while the batch runs
                    checked, self.workers = time.monotonic(), self._threads()
                    window = 2 * self.workers + 4
                while len(pending) < window and submit():
                    pass
                yield result
        finally:
            if pending:
                self._client.cancel(list(pending))

    def describe(self) -> str:
        """One line for the terminal."""
        if self._client is not None and self.address == "local":
            self._dashboard = getattr(self._client, "dashboard_link", "") or ""
        dashboard = f", dashboard {self._dashboard}" if self._dashboard else ""
        if self.address == "local":
            return f"Dask LocalCluster ({self.local_workers} worker processes{dashboard})"
        return f"Dask scheduler {self.address} ({self.workers} worker threads{dashboard})"


def make_executor(kind: str, workers: int | None = None, address: str = "local"):
    """An executor by kind: ``"serial"``, ``"process"`` or ``"dask"``."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(address, workers)
    raise SimError(f"executor: {kind!r} is not allowed; expected serial, process or dask")




@dataclass(frozen=True)
class ExecutorChoice:
    """An executor not started yet.

    Attributes:
        kind: ``"serial"``, ``"process"`` or ``"dask"``.
        workers: worker processes of a pool or local Dask cluster (0 or None = all cores).
        address: for Dask, ``"local"`` or a scheduler address.
    """

    kind: str = "serial"
    workers: int | None = None
    address: str = "local"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SimError(f"executor: {self.kind!r} is not allowed; expected serial, process or dask")
        if self.workers is not None and self.workers < 0:
            raise SimError(f"--workers: expected a positive number (0 = all cores), got {self.workers}")
        if self.kind == "dask":
            check_dask_address(self.address)

    @classmethod
    def pick(cls, default_kind: str = "process", default_workers: int = 0, default_address: str = "local", *,
             workers: int | None = None, dask: str | None = None, executor: str | None = None) -> ExecutorChoice:
        """The executor the options ask for, else the defaults (an experiment's ``[executor]``).

        ``dask`` (an address) wins, then ``executor`` (a kind), then ``workers`` (a process pool).
        """
        if dask is not None:
            kind, address = "dask", dask
        elif executor is not None:
            kind, address = executor, default_address
        elif workers is not None:
            kind, address = "process", default_address
        else:
            kind, address = default_kind, default_address
        return cls(kind, default_workers if workers is None else workers, address)

    def make(self, tasks: int | None = None):
        """Start nothing yet: the executor (``tasks``, the number of tasks to run, is not used:
        the session's process pool keeps its size from one ensemble to the next)."""
        return make_executor(self.kind, self.workers, self.address)
