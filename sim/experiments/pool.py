"""The process pool of this Python process: started once, reused by every ensemble that follows.

Starting worker processes costs about a second per batch (a fresh interpreter importing numpy,
pandas, Mesa and the model). :func:`get_pool` starts a ``concurrent.futures`` pool the first time
it is asked for one and hands the same pool to every later ensemble with the same number of
workers, so a session of many batches (a notebook, a calibration loop, the test suite) pays it once.

* Start method ``forkserver`` where the platform has it (else ``spawn``), chosen for this pool only:
  the fork server imports the model once and forks every worker from it, which on a 2-core
  machine starts two workers in about the time of one; never ``fork`` (the parent has threads).
* The pool is replaced when the number of workers changes, when it broke (a worker died), and
  when the package's code changed since it started (:func:`sim.experiments.identity.code_hash`),
  so that workers never run older code than the manifest records.
* :func:`discard_pool` with ``kill=True`` stops the workers at once (SIGTERM, then SIGKILL): used
  when an ensemble is interrupted, so that no worker outlives it or keeps writing.
* :func:`prestart_pool` starts it in the background while the caller prepares the batch.
* The pool is shut down when the interpreter exits.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sim.experiments.identity import code_hash

log = logging.getLogger(__name__)

__all__ = ["PRELOAD", "default_start_method", "discard_pool", "get_pool", "pool_info", "prestart_pool"]

PRELOAD: tuple[str, ...] = ("sim.model.model", "sim.experiments.single", "sim.experiments.batch")
"""Modules a worker imports when it starts (the fork server imports them once for all workers)."""


def _init_worker(preload: tuple[str, ...]) -> None:
    """Start a pool worker: leave Ctrl-C to the parent (which stops the ensemble), import ``preload``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in preload:
        importlib.import_module(module)


def _ready(delay: float) -> int:
    time.sleep(delay)
    return os.getpid()


def default_start_method() -> str:
    """``forkserver`` where available, else ``spawn``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


@dataclass
class _Pool:
    key: tuple[int, str, tuple[str, ...]]
    code: str
    executor: ProcessPoolExecutor
    started: float


_POOL: _Pool | None = None
_LOCK = threading.Lock()


def _broken(executor: ProcessPoolExecutor) -> bool:
    return bool(getattr(executor, "_broken", False)) or bool(getattr(executor, "_shutdown_thread", False))


def get_pool(workers: int, start_method: str | None = None,
             preload: tuple[str, ...] = PRELOAD) -> tuple[ProcessPoolExecutor, bool]:
    """The session's pool with ``workers`` processes, started when needed.

    Returns:
        ``(pool, started)``: ``started`` is True when this call started it (its workers are up).
    """
    global _POOL
    start_method = start_method or default_start_method()
    key = (int(workers), start_method, tuple(preload))
    code = code_hash()
    with _LOCK:
        if _POOL is not None and (_POOL.key != key or _POOL.code != code or _broken(_POOL.executor)):
            changed = _POOL.code != code
            _discard_locked(kill=False)
            if changed and start_method == "forkserver":
                _stop_forkserver()
        if _POOL is not None:
            return _POOL.executor, False
        context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            context.set_forkserver_preload(list(preload))
        executor = ProcessPoolExecutor(max_workers=key[0], mp_context=context, initializer=_init_worker,
                                       initargs=(key[2],))
        try:
            # start every worker now, so that start-up is not counted as run time
            for future in [executor.submit(_ready, 0.05) for _ in range(key[0])]:
                future.result()
        except BaseException:
            _kill(executor)
            raise
        _POOL = _Pool(key, code, executor, time.monotonic())
        return executor, True


def prestart_pool(workers: int, start_method: str | None = None, preload: tuple[str, ...] = PRELOAD) -> None:
    """Start the session's pool in a background thread (the next :func:`get_pool` waits for it), so
    that its start-up overlaps what the caller does meanwhile (checking a results folder)."""

    def start() -> None:
        try:
            get_pool(workers, start_method, preload)
        except Exception:  # noqa: BLE001 - get_pool will try again, and report, in the foreground
            log.debug("could not start the pool in the background", exc_info=True)

    threading.Thread(target=start, name="sim-pool-start", daemon=True).start()


def pool_info() -> dict[str, object] | None:
    """The live pool: workers, start method, pids (None when there is none)."""
    if _POOL is None:
        return None
    processes = getattr(_POOL.executor, "_processes", None) or {}
    return {"workers": _POOL.key[0], "start_method": _POOL.key[1], "pids": sorted(processes)}


_SILENCED_THREADS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
_HOOK_LOCK = threading.Lock()
_previous_excepthook = None


def _quiet_excepthook(args: threading.ExceptHookArgs) -> None:
    """Drop an exception raised in a killed pool's own thread; pass every other to the previous hook."""
    if args.thread is not None and args.thread in _SILENCED_THREADS:
        log.debug("killed pool's thread: %s: %s", args.exc_type.__name__, args.exc_value)
        return
    (_previous_excepthook or threading.__excepthook__)(args)


def _silence_manager_thread(executor: ProcessPoolExecutor) -> None:
    """From now on, an exception in ``executor``'s manager thread is logged at debug level, not printed.

    Killing the workers under the pool's feet makes Python 3.11's manager thread race with the
    shutdown (a work id whose item is gone: ``KeyError`` in ``add_call_item_to_queue``), and its
    traceback would follow the one line an interrupted batch prints."""
    global _previous_excepthook
    thread = getattr(executor, "_executor_manager_thread", None)
    if thread is None:
        return
    with _HOOK_LOCK:
        if threading.excepthook is not _quiet_excepthook:
            _previous_excepthook = threading.excepthook
            threading.excepthook = _quiet_excepthook
        _SILENCED_THREADS.add(thread)


def _kill(executor: ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Stop the workers now: SIGTERM, then SIGKILL after ``grace`` seconds; then shut the pool down."""
    _silence_manager_thread(executor)
    processes = list((getattr(executor, "_processes", None) or {}).values())
    # Python 3.11 sets an exception on every pending future when a worker dies, which fails (in the
    # pool's thread, with a traceback) for the futures already cancelled: forget those first
    pending = getattr(executor, "_pending_work_items", None)
    if isinstance(pending, dict):
        for key, item in list(pending.items()):
            if item.future.done():
                pending.pop(key, None)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
    executor.shutdown(wait=False, cancel_futures=True)


def _discard_locked(kill: bool) -> None:
    global _POOL
    if _POOL is None:
        return
    pool, _POOL = _POOL, None
    if kill:
        _kill(pool.executor)
    else:
        pool.executor.shutdown(wait=True, cancel_futures=True)


def discard_pool(kill: bool = False) -> None:
    """Shut the session's pool down (``kill``: stop its workers at once, work in flight is lost)."""
    with _LOCK:
        _discard_locked(kill)


def _stop_forkserver() -> None:
    """Stop the fork server, so that the next pool's workers import the current code."""
    try:
        from multiprocessing import forkserver

        forkserver._forkserver._stop()  # noqa: SLF001 - the only way to restart it with new code
    except Exception:  # noqa: BLE001 - an older server only costs freshness of preloaded modules
        log.debug("could not stop the fork server", exc_info=True)


def _at_exit() -> None:
    """Shut the pool down, then stop the fork server (it would exit on its own, unreaped, a moment later)."""
    had_pool = _POOL is not None
    discard_pool()
    if had_pool and default_start_method() == "forkserver":
        _stop_forkserver()


atexit.register(_at_exit)
