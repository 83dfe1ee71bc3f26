"""Scenario batches: the run list, seeds, executors, a streaming Parquet writer, resume, failures.

:func:`run_batch` runs every run of an experiment (see :mod:`sim.experiments.spec`) and writes each
finished part at once into a results folder laid out as :mod:`sim.experiments.store` documents::

    manifest.json                 the experiment as resolved, its hash, versions, git commit
    runs/part-000042.parquet      one row per run: status, error, seed, parameters, end-year metrics
    national/part-000042.parquet  one row per run and year
    province/part-000042.parquet  one row per run, year and province
    events/part-000042.parquet    one row per event that fired

Design choices, each for one promise of the batch runner:

* Seeds: one ``numpy.random.SeedSequence(seed)`` per experiment; run ``i`` gets its ``i``-th
  spawned child (``SeedSequence(seed, spawn_key=(i,))``, the same as ``root.spawn(n)[i]``), so a
  run's result depends only on the experiment and ``i``, never on the executor, the number of
  workers or the completion order.
* Streaming: a part holds a contiguous block of runs (one run per part up to 250 runs) and is
  written by the worker that ran it, through :func:`sim.experiments.store.write_part` (a temporary name, then
  an atomic rename). The parent keeps only a bounded window of tasks in flight and the ids of the
  runs already done, and builds the end-of-batch summary by reading the ``runs`` parts one at a
  time into mergeable statistics, so its memory does not grow with the number of runs.
* Commit order: a block's ``national``, ``province`` and ``events`` parts are written first and its
  ``runs`` part last. A run is done exactly when its row is in ``runs``; ``--resume`` removes the
  data parts that have no ``runs`` part (a crash between the two writes) and temporary files, then
  runs only the missing runs. Nothing is lost and nothing is doubled.
* Failures: a run that raises is a row in ``runs`` with ``status = "failed"`` and the error; its
  other tables have no rows. The batch goes on (or stops with ``fail_fast``).
* Executors are context managers: :class:`SerialExecutor` (in this process),
  :class:`ProcessExecutor` (``concurrent.futures`` with the ``spawn`` start method, chosen per
  pool, never set globally) and :class:`DaskExecutor` (a ``LocalCluster`` or a scheduler address;
  workers must see the results folder at the same path, as on a cluster's shared file system).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ResultsError, SimError
from sim.experiments.spec import Experiment, ResolvedExperiment, load_experiment, resolve_experiment
from sim.experiments.store import (
    TABLES,
    existing_manifest,
    git_commit,
    part_ids,
    provenance,
    write_manifest,
    write_part,
)

log = logging.getLogger(__name__)

FAIL_RUNS_ENV = "SIM_BATCH_FAIL_RUNS"
"""Test hook: comma-separated run ids that raise instead of running (read by the workers)."""

RUNS_FIELDS: dict[str, str] = {
    "status": "string",
    "error": "string",
    "seed_entropy": "string",
    "spawn_key": "string",
    "scenario_file": "string",
    "start_year": "int64",
    "end_year": "int64",
    "final_gdp_cny_bn": "float64",
    "final_gdp_per_capita_cny": "float64",
    "final_gini": "float64",
    "final_theil_between_region": "float64",
    "final_coast_interior_ratio": "float64",
    "final_interior_research_share": "float64",
    "final_research_output": "float64",
}
"""Columns of the ``runs`` table after ``run_id`` and the labels, with their dtypes."""

SUMMARY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("final_gdp_cny_bn", "GDP (CNY bn)", "{:,.0f}"),
    ("final_gini", "Gini", "{:.4f}"),
    ("final_theil_between_region", "Theil between regions", "{:.4f}"),
    ("final_interior_research_share", "interior research share", "{:.3f}"),
    ("final_research_output", "research output (papers)", "{:,.0f}"),
)
"""End-year metrics of the batch summary: runs-table column, label, format."""

MAX_AUTO_RUNS_PER_PART = 50
PARTS_TARGET = 250


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory); the runs finished so far are kept."""


# --------------------------------------------------------------------------------------
# Seeds and parts


def run_seed(root_seed: int, run_id: int) -> np.random.SeedSequence:
    """The seed of run ``run_id``: child ``run_id`` of ``SeedSequence(root_seed)``.

    Equal to ``np.random.SeedSequence(root_seed).spawn(n)[run_id]`` for any ``n > run_id``, but
    built without spawning the children before it.
    """
    return np.random.SeedSequence(root_seed, spawn_key=(run_id,))


def auto_runs_per_part(runs_total: int) -> int:
    """Runs per part when the experiment leaves it to us.

    One run per part up to :data:`PARTS_TARGET` runs; beyond, about that many parts per table
    (at most :data:`MAX_AUTO_RUNS_PER_PART` runs per part), because each Parquet file has a fixed
    cost to write and to read that outweighs a short run.
    """
    return min(MAX_AUTO_RUNS_PER_PART, max(1, math.ceil(runs_total / PARTS_TARGET)))


def part_width(runs_total: int) -> int:
    """Digits of a part id (zero-padded first run id): at least 6."""
    return max(6, len(str(max(runs_total - 1, 0))))


def plan_blocks(missing: Iterable[int], runs_per_part: int) -> Iterator[tuple[int, int]]:
    """Group sorted run ids into ``(start, stop)`` blocks of consecutive ids.

    A block never crosses a multiple of ``runs_per_part``, so an uninterrupted batch and a resumed
    one lay out the same parts.
    """
    start = stop = None
    for run_id in missing:
        if start is not None and (run_id != stop or run_id // runs_per_part != start // runs_per_part):
            yield start, stop
            start = None
        if start is None:
            start = run_id
        stop = run_id + 1
    if start is not None:
        yield start, stop


# --------------------------------------------------------------------------------------
# The worker side: run a block of runs and write its parts

_SCENARIO_CACHE: dict[tuple[str, int, int], Any] = {}


def _scenario(experiment: ResolvedExperiment, scenario_index: int, point_index: int):
    key = (experiment.hash, scenario_index, point_index)
    scenario = _SCENARIO_CACHE.get(key)
    if scenario is None:
        if len(_SCENARIO_CACHE) > 256:
            _SCENARIO_CACHE.clear()
        scenario = _SCENARIO_CACHE[key] = experiment.scenario_for(scenario_index, point_index)
    return scenario


def _injected_failures() -> set[int]:
    raw = os.environ.get(FAIL_RUNS_ENV, "")
    return {int(part) for part in raw.split(",") if part.strip()}


def _describe_exception(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    message = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {message}{where}"


def _conform(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """The same column types in every part: labels as declared, categoricals as plain strings."""
    changes: dict[str, str] = {}
    for column, dtype in frame.dtypes.items():
        if column in dtypes:
            if str(dtype) != dtypes[column]:
                changes[column] = dtypes[column]
        elif isinstance(dtype, pd.CategoricalDtype):
            changes[column] = "str"
    if not changes:
        return frame
    frame = frame.copy(deep=False)
    for column, dtype in changes.items():  # column by column: much faster than DataFrame.astype(dict)
        frame[column] = frame[column].astype(dtype)
    return frame


def run_block(experiment: ResolvedExperiment, start: int, stop: int, folder: str, width: int) -> list[tuple[int, str, str]]:
    """Run runs ``start`` to ``stop - 1`` and write their parts; returns ``(run_id, status, error)``.

    This is the unit of work shipped to workers. The data parts are written before the ``runs``
    part, which marks the block as done.
    """
    from sim.model import RegionalGrowthModel
    from sim.experiments.single import tables_of

    record = experiment.spec.record
    recorded = tuple(t for t in ("national", "province", "events") if t in record.tables)
    label_dtypes = {"run_id": "int64", **experiment.column_dtypes}
    failing = _injected_failures()
    data: dict[str, list[pd.DataFrame]] = {name: [] for name in recorded}
    rows: list[dict[str, Any]] = []
    outcomes: list[tuple[int, str, str]] = []
    for run_id in range(start, stop):
        spec = experiment.run_spec(run_id)
        labels = experiment.labels(spec)
        seed = run_seed(experiment.seed, run_id)
        base = experiment.scenarios[spec.scenario_index]
        row: dict[str, Any] = {
            "run_id": run_id, **labels, "status": "failed", "error": "",
            "seed_entropy": str(seed.entropy), "spawn_key": ",".join(map(str, seed.spawn_key)),
            "scenario_file": experiment.scenario_files[spec.scenario_index],
            "start_year": base.run.start_year, "end_year": base.run.end_year,
        }
        try:
            if run_id in failing:
                raise RuntimeError(f"failure injected by {FAIL_RUNS_ENV}")
            scenario = _scenario(experiment, spec.scenario_index, spec.point_index)
            row["start_year"], row["end_year"] = scenario.run.start_year, scenario.run.end_year
            model = RegionalGrowthModel(scenario, rng=seed).run()
            tables = tables_of(model, run_id, labels, record.every, recorded)
            national = tables["national"] if "national" in tables else model.national_frame()
            final = national.iloc[-1]
            del model
        except Exception as exc:  # noqa: BLE001 - any failure of a run is recorded, the batch goes on
            row["error"] = _describe_exception(exc)
            outcomes.append((run_id, "failed", row["error"]))
        else:
            first = tables["runs"].iloc[0]
            row.update({key: first[key] for key in ("status", "error", "seed_entropy", "spawn_key", "start_year",
                                                     "end_year") if key in first.index})
            for key in RUNS_FIELDS:
                if key.startswith("final_"):
                    row[key] = float(final[key[len("final_"):]])
            for name in recorded:
                data[name].append(tables[name])
            outcomes.append((run_id, "ok", ""))
        rows.append(row)
    part = f"{start:0{width}d}"
    for name in recorded:
        if data[name]:
            frame = pd.concat(data[name], ignore_index=True) if len(data[name]) > 1 else data[name][0]
            write_part(Path(folder), name, part, _conform(frame, label_dtypes))
    runs = pd.DataFrame(rows).reindex(columns=[*label_dtypes, *RUNS_FIELDS])
    write_part(Path(folder), "runs", part, runs.astype({**label_dtypes, **RUNS_FIELDS}))
    return outcomes


def _init_worker() -> None:
    """Start a pool worker: leave Ctrl-C to the parent (which stops the batch), import the model."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import sim.model.model  # noqa: F401
    import sim.experiments.single  # noqa: F401


def _ready(delay: float) -> int:
    time.sleep(delay)
    return os.getpid()


def _folder_writable(folder: str) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK)


# --------------------------------------------------------------------------------------
# Executors


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
    """A local process pool (``concurrent.futures``) whose workers are started with ``spawn``.

    Args:
        workers: number of worker processes (0 or None = all cores).
        start_method: ``"spawn"`` (default) or ``"forkserver"``; set for this pool only.
    """

    kind = "process"

    def __init__(self, workers: int | None = None, start_method: str = "spawn") -> None:
        self.workers = workers or os.cpu_count() or 1
        self.start_method = start_method
        self.window = 2 * self.workers + 2
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        context = multiprocessing.get_context(self.start_method)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_init_worker)
        # start every worker now, so that start-up is not counted as run time
        for future in [self._pool.submit(_ready, 0.05) for _ in range(self.workers)]:
            future.result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

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
            for future in pending:
                future.cancel()

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


# --------------------------------------------------------------------------------------
# Progress


class Progress:
    """Runs done, rate and ETA: a tqdm bar on a terminal, else a plain line every ``interval`` s."""

    def __init__(self, total: int, done: int = 0, enabled: bool = True, stream=None, interval: float = 5.0) -> None:
        self.total = total
        self.done = done
        self.session = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = self.started
        self._bar = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, unit="run", file=self.stream, dynamic_ncols=True,
                             smoothing=0.05)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more runs done."""
        self.done += n
        self.session += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.enabled and time.monotonic() - self._last >= self.interval:
            self._print()

    def line(self) -> str:
        """``[ 40/200] 20 % 3.1 runs/s ETA 52 s``"""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.session / elapsed
        remaining = self.total - self.done
        eta = f"ETA {_duration(remaining / rate)}" if rate > 0 and remaining > 0 else (
            f"done in {_duration(elapsed)}" if remaining == 0 else "ETA ?")
        width = len(str(self.total))
        percent = 100 * self.done / self.total if self.total else 100
        return f"[{self.done:>{width}}/{self.total}] {percent:.0f} % {rate:.1f} runs/s {eta}"

    def _print(self) -> None:
        self._last = time.monotonic()
        print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar (or print a last line)."""
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            self._print()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --------------------------------------------------------------------------------------
# Results folder: create, resume


def done_runs(folder: Path) -> set[int]:
    """Ids of the runs that have a row in ``runs`` (done, whether ok or failed)."""
    import pyarrow.parquet as pq

    done: set[int] = set()
    for part in sorted(part_ids(folder, "runs")):
        table = pq.read_table(folder / "runs" / f"part-{part}.parquet", columns=["run_id"])
        done.update(int(v) for v in table.column("run_id").to_numpy())
    return done


def clean_partial(folder: Path) -> int:
    """Remove temporary files and data parts whose ``runs`` part is missing; returns how many."""
    committed = part_ids(folder, "runs")
    removed = 0
    for table in TABLES:
        directory = folder / table
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            orphan = path.name.startswith(".part-") or (
                table != "runs" and path.name.startswith("part-") and path.name.endswith(".parquet")
                and path.name[len("part-"):-len(".parquet")] not in committed)
            if orphan:
                path.unlink()
                removed += 1
    for path in folder.glob(".manifest.json.tmp-*"):
        path.unlink()
    return removed


def default_folder(experiment: ResolvedExperiment) -> Path:
    """``results/batch-<experiment name>``."""
    return Path("results") / f"batch-{experiment.name}"


def _manifest(experiment: ResolvedExperiment, runs_per_part: int) -> dict[str, Any]:
    return {
        "kind": "batch",
        "experiment": experiment.to_json(),
        "experiment_file": experiment.source,
        "experiment_hash": experiment.hash,
        "runs_total": experiment.runs_total,
        "runs_per_part": runs_per_part,
        "scenarios": {s.name: {"file": f, "resolved": s.model_dump(mode="json")}
                      for s, f in zip(experiment.scenarios, experiment.scenario_files, strict=True)},
        "sweep_columns": experiment.sweep_columns,
        "status": "running",
        "sessions": [],
        **provenance(),
    }


def check_folder(folder: str | Path, experiment: ResolvedExperiment, resume: bool) -> dict[str, Any] | None:
    """Check that ``folder`` can take this batch, without touching it.

    Returns:
        The folder's manifest when there is a batch to resume, else None (a new batch).

    Raises:
        ResultsError: ``folder`` is a file; is not empty and ``resume`` is False; or holds
            something other than this experiment's batch.
    """
    folder = Path(folder)
    manifest = existing_manifest(folder, resume, "batch", "batch")
    if manifest is None:
        return None
    if manifest.get("experiment_hash") != experiment.hash:
        other = manifest.get("experiment", {}).get("name", "?")
        raise ResultsError(f"--resume {folder}: holds results of a different experiment ({other!r}, "
                           f"{manifest.get('experiment_hash')}) than {experiment.source} ({experiment.hash}); "
                           "refusing to mix them: choose another --out")
    return manifest


def _open_folder(folder: Path, experiment: ResolvedExperiment, resume: bool) -> tuple[dict[str, Any], set[int], bool]:
    """Check the folder and tidy a batch to resume; returns (manifest, runs done, created)."""
    manifest = check_folder(folder, experiment, resume)
    if manifest is None:
        runs_per_part = experiment.spec.record.runs_per_part or auto_runs_per_part(experiment.runs_total)
        return _manifest(experiment, runs_per_part), set(), not folder.exists()
    removed = clean_partial(folder)
    if removed:
        log.info("removed %d partial files from %s", removed, folder)
    return manifest, done_runs(folder), False


# --------------------------------------------------------------------------------------
# Summary


class _Moments:
    """Count, mean and sum of squared deviations of a stream of values, mergeable (Chan et al.)."""

    __slots__ = ("n", "mean", "m2")

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        values = values[~np.isnan(values)]
        if not len(values):
            return
        n_b, mean_b = len(values), float(values.mean())
        m2_b = float(((values - mean_b) ** 2).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n

    def interval(self) -> tuple[float, float, float]:
        """Mean and the 95 % t-interval of the mean (NaN bounds with fewer than two values)."""
        from scipy.special import stdtrit

        if self.n == 0:
            return math.nan, math.nan, math.nan
        if self.n == 1:
            return self.mean, math.nan, math.nan
        half = float(stdtrit(self.n - 1, 0.975)) * math.sqrt(self.m2 / (self.n - 1)) / math.sqrt(self.n)
        return self.mean, self.mean - half, self.mean + half


class RunsSummary:
    """End-year metrics per scenario and sweep point, fed ``runs`` rows part by part.

    Memory grows with the number of groups, not of runs. :meth:`frame` gives the table of
    :func:`summarise_runs`.
    """

    def __init__(self, sweep_columns: Iterable[str] = ()) -> None:
        self.keys = ["scenario", *sweep_columns]
        self.groups: dict[tuple, dict[str, Any]] = {}
        self.runs = 0

    def add(self, runs: pd.DataFrame) -> None:
        """Add some rows of a ``runs`` table."""
        self.runs += len(runs)
        if runs.empty:
            return
        for group, frame in runs.groupby(self.keys, sort=False, dropna=False):
            group = group if isinstance(group, tuple) else (group,)
            entry = self.groups.get(group)
            if entry is None:
                entry = self.groups[group] = {"ok": 0, "failed": 0, "end_years": set(),
                                              "moments": {m: _Moments() for m, _l, _f in SUMMARY_METRICS}}
            ok = frame[frame["status"] == "ok"]
            entry["ok"] += len(ok)
            entry["failed"] += len(frame) - len(ok)
            if "end_year" in ok:
                entry["end_years"].update(int(y) for y in ok["end_year"].unique())
            for metric, moments in entry["moments"].items():
                if metric in ok:
                    moments.add(ok[metric].to_numpy(dtype=float))

    def frame(self) -> pd.DataFrame:
        """One row per group: group columns, ``runs``, ``failed``, ``end_year``, ``<metric>_mean/_lo/_hi``."""
        rows = []
        for group, entry in self.groups.items():
            row: dict[str, Any] = dict(zip(self.keys, group, strict=True))
            row["runs"], row["failed"] = entry["ok"], entry["failed"]
            row["end_year"] = max(entry["end_years"]) if entry["end_years"] else pd.NA
            for metric, moments in entry["moments"].items():
                row[f"{metric}_mean"], row[f"{metric}_lo"], row[f"{metric}_hi"] = moments.interval()
            rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else self.keys)


def summarise_runs(runs: pd.DataFrame, sweep_columns: Iterable[str] = ()) -> pd.DataFrame:
    """End-year metrics per scenario and sweep point: mean and 95 % t-interval of the mean.

    The interval is ``mean +/- t(0.975, n-1) * sd / sqrt(n)`` over the runs that finished (NaN
    with one run). Groups keep run-list order.

    Args:
        runs: a ``runs`` table (or part of it).
        sweep_columns: the swept columns that, with ``scenario``, define a group.

    Returns:
        One row per group: the group columns, ``runs`` (ok), ``failed``, ``end_year``, and for
        each metric of :data:`SUMMARY_METRICS` ``<metric>_mean``, ``<metric>_lo``, ``<metric>_hi``.
    """
    summary = RunsSummary(sweep_columns)
    summary.add(runs.sort_values("run_id") if "run_id" in runs else runs)
    return summary.frame()


def summarise_folder(folder: str | Path, sweep_columns: Iterable[str] = (), max_failures: int = 1000,
                     parts_per_read: int = 8) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Read a batch's ``runs`` parts a few at a time: (summary, failed runs, runs done, runs failed).

    At most ``parts_per_read`` parts are in memory at once; only the first ``max_failures`` failed
    runs are returned in full (all are counted).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    sweep_columns = list(sweep_columns)
    summary = RunsSummary(sweep_columns)
    keep = ["run_id", "scenario", "replicate", *sweep_columns, "error"]
    wanted = [*keep, "status", "end_year", *(m for m, _l, _f in SUMMARY_METRICS)]
    failed: list[pd.DataFrame] = []
    n_failed = kept = 0
    parts = sorted(part_ids(folder, "runs"))
    for first in range(0, len(parts), parts_per_read):
        tables = [pq.read_table(folder / "runs" / f"part-{part}.parquet", columns=wanted)
                  for part in parts[first:first + parts_per_read]]
        frame = pa.concat_tables(tables).to_pandas()
        summary.add(frame)
        bad = frame[frame["status"] != "ok"]
        n_failed += len(bad)
        if len(bad) and kept < max_failures:
            failed.append(bad[keep].head(max_failures - kept))
            kept += len(failed[-1])
    failures = pd.concat(failed, ignore_index=True) if failed else pd.DataFrame(columns=keep)
    return summary.frame(), failures, summary.runs, n_failed


def format_summary(summary: pd.DataFrame, sweep_columns: Iterable[str] = ()) -> str:
    """The summary as a terminal table: ``mean [lo, hi]`` per metric."""
    if summary.empty:
        return "(no finished runs)"
    keys = ["scenario", *sweep_columns]
    table = summary[keys].copy()
    if summary["end_year"].nunique() > 1:
        table["end year"] = summary["end_year"]
    table["runs"] = summary["runs"].astype(str) + summary["failed"].map(lambda f: f" ({f} failed)" if f else "")
    for column, label, fmt in SUMMARY_METRICS:
        cells = []
        for mean, lo, hi in zip(summary[f"{column}_mean"], summary[f"{column}_lo"], summary[f"{column}_hi"], strict=True):
            if math.isnan(mean):
                cells.append("-")
            elif math.isnan(lo):
                cells.append(fmt.format(mean))
            else:
                cells.append(f"{fmt.format(mean)} [{fmt.format(lo)}, {fmt.format(hi)}]")
        table[label] = cells
    years = summary["end_year"].dropna().unique()
    title = (f"End-year ({int(years[0])}) " if len(years) == 1 else "End-year ") + \
        "metrics: mean [95 % confidence interval of the mean, t-distribution]"
    ok_runs = summary["runs"] - summary["failed"]
    note = ""
    if (ok_runs < 5).any():
        note = ("\nnote: with fewer than 5 runs per group the intervals are wide and can pass a metric's natural "
                "bounds (a share above 100 %); add replicates for a comparison")
    with pd.option_context("display.width", 250, "display.max_columns", 50, "display.max_colwidth", 40):
        return title + "\n" + table.to_string(index=False) + note


# --------------------------------------------------------------------------------------
# run_batch


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes:
        folder: the results folder.
        experiment: the experiment as resolved.
        runs_total: length of the run list.
        runs_run: runs run by this call.
        runs_resumed: runs already in the folder when this call started (``resume``).
        failed: the failed runs of the whole folder (run_id, labels, error; the first 1,000).
        summary: per scenario and sweep point, end-year metrics (see :func:`summarise_runs`).
        stopped: True when ``fail_fast`` stopped the batch before every run was done.
        elapsed_s: wall time of the call, seconds.
        startup_s: part of it spent starting the executor, seconds.
        run_s: part of it spent running (from the first task submitted to the last result), seconds.
        executor: the executor used, as one line.
        runs_missing: runs of the run list not in the folder (after ``fail_fast`` or a failure).
        runs_failed: failed runs in the whole folder.
    """

    folder: Path
    experiment: ResolvedExperiment = field(repr=False)
    runs_total: int
    runs_run: int
    runs_resumed: int
    failed: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)
    stopped: bool = False
    elapsed_s: float = 0.0
    startup_s: float = 0.0
    run_s: float = 0.0
    executor: str = ""
    runs_missing: int = 0
    runs_failed: int = 0

    @property
    def ok(self) -> bool:
        """Every run done and none failed."""
        return self.runs_failed == 0 and not self.stopped and self.runs_missing == 0

    def read(self, table: str) -> pd.DataFrame:
        """One table of the results folder (``runs``, ``national``, ``province`` or ``events``)."""
        from sim.experiments.store import read_table

        return read_table(self.folder, table)


def _resolve(experiment: str | Path | Experiment | ResolvedExperiment | dict[str, Any],
             overrides: tuple[str, ...] | list[str]) -> ResolvedExperiment:
    if isinstance(experiment, ResolvedExperiment):
        if overrides:  # scenario paths as resolved, so that they do not depend on the working folder
            spec = experiment.spec.model_copy(update={"scenarios": list(experiment.scenario_files)})
            return resolve_experiment(spec, base_dir=".", source=experiment.source,
                                      overrides=[*experiment.overrides, *overrides])
        return experiment
    if isinstance(experiment, (Experiment, dict)):
        return resolve_experiment(experiment, overrides=overrides)
    return load_experiment(experiment, overrides)


def run_batch(experiment: str | Path | Experiment | ResolvedExperiment | dict[str, Any], workers: int | None = None,
              dask: str | None = None, resume: bool = False, out: str | Path | None = None,
              overrides: tuple[str, ...] | list[str] = (), fail_fast: bool = False, progress: bool = True,
              executor: str | None = None) -> BatchResult:
    """Run every run of an experiment, streaming each finished part to a results folder.

    Args:
        experiment: an experiment file, an :class:`~sim.experiments.spec.Experiment` (or its dictionary,
            scenario paths relative to the working folder) or a resolved experiment.
        workers: worker processes (process pool, or local Dask cluster); 0 = all cores. Default:
            the experiment's ``[executor]``.
        dask: ``"local"`` (start a LocalCluster) or a scheduler address: run on Dask.
        resume: finish the batch already in ``out``: run only the missing runs. Refused when
            ``out`` holds another experiment.
        out: the results folder (default ``results/batch-<experiment name>``).
        overrides: ``key.path=value`` expressions applied to every scenario.
        fail_fast: stop at the first failed run (runs in flight finish and are kept).
        progress: show progress on stderr.
        executor: ``"serial"``, ``"process"`` or ``"dask"`` (default: from the arguments above,
            else the experiment's ``[executor] kind``).

    Returns:
        A :class:`BatchResult`: the folder, counts, failed runs and the end-year summary.

    Raises:
        ExperimentError, ScenarioError: invalid experiment or override (nothing is written).
        ResultsError: ``out`` is not empty (without ``resume``) or holds another experiment.

    Example:
        >>> result = run_batch("experiments/smoke.toml", out="results/smoke")  # doctest: +SKIP
        >>> pd.read_parquet(result.folder / "national")  # doctest: +SKIP
    """
    started = time.monotonic()
    exp = _resolve(experiment, tuple(overrides))
    config = exp.spec.executor
    if dask is not None:
        kind, address = "dask", dask
    elif executor is not None:
        kind, address = executor, config.address
    elif workers is not None:
        kind, address = "process", config.address
    else:
        kind, address = config.kind, config.address
    if workers is not None and workers < 0:
        raise SimError(f"--workers: expected a positive number (0 = all cores), got {workers}")
    n_workers = config.workers if workers is None else workers
    folder = Path(out) if out is not None else default_folder(exp)
    manifest, done, created = _open_folder(folder, exp, resume)
    runs_per_part = int(manifest.get("runs_per_part") or auto_runs_per_part(exp.runs_total))
    width = part_width(exp.runs_total)
    missing_count = exp.runs_total - len(done)
    if kind == "process" and missing_count:
        n_workers = min(n_workers or os.cpu_count() or 1, math.ceil(missing_count / runs_per_part))
    runner = make_executor(kind, n_workers, address) if missing_count else SerialExecutor()
    resolved_folder = folder.resolve()
    stopped = False
    runs_run = 0
    try:
        with runner:
            startup = time.monotonic() - started
            folder.mkdir(parents=True, exist_ok=True)
            if isinstance(runner, DaskExecutor):
                runner.check_folder(resolved_folder)
            manifest["status"] = "running"
            manifest.setdefault("sessions", []).append({
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "executor": runner.describe(), "runs_done_before": len(done), "git_commit": git_commit(),
            })
            write_manifest(folder, manifest)
            if progress:
                print(f"Experiment {exp.name!r}: {missing_count} of {exp.runs_total} run(s) to run "
                      f"({len(exp.scenarios)} scenario(s) x {exp.n_points} sweep point(s) x {exp.replicates} "
                      f"replicate(s)) on {runner.describe()} -> {folder}/", file=sys.stderr, flush=True)
            shared = runner.share(exp)
            blocks = plan_blocks((i for i in range(exp.runs_total) if i not in done), runs_per_part)
            calls = ((shared, start, stop, str(resolved_folder), width) for start, stop in blocks)
            bar = Progress(exp.runs_total, len(done), enabled=progress)
            loop_started = time.monotonic()
            try:
                for outcomes in runner.imap_unordered(run_block, calls):
                    runs_run += len(outcomes)
                    bar.update(len(outcomes))
                    if fail_fast and any(status != "ok" for _run, status, _err in outcomes):
                        stopped = True
                        break
            finally:
                bar.close()
                run_s = time.monotonic() - loop_started
    except BaseException as exc:
        if created and folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
        _finish_manifest(folder, manifest, "incomplete")
        if isinstance(exc, BrokenProcessPool):
            raise WorkerLost(f"a worker process died ({exc}); the runs finished so far are kept in {folder}: "
                               "rerun with --resume to finish the batch") from exc
        raise
    sweep_columns = list(exp.sweep_columns.values())
    summary, failed, runs_done, runs_failed = summarise_folder(folder, sweep_columns)
    missing = exp.runs_total - runs_done
    status = "complete" if missing == 0 and not runs_failed else (
        "complete_with_failures" if missing == 0 else "incomplete")
    _finish_manifest(folder, manifest, status, runs_done - runs_failed, runs_failed)
    return BatchResult(folder=folder, experiment=exp, runs_total=exp.runs_total, runs_run=runs_run,
                       runs_resumed=len(done), failed=failed, summary=summary, stopped=stopped,
                       elapsed_s=time.monotonic() - started, startup_s=startup, run_s=run_s,
                       executor=runner.describe(), runs_missing=missing, runs_failed=runs_failed)


def _finish_manifest(folder: Path, manifest: dict[str, Any], status: str, runs_ok: int | None = None,
                     runs_failed: int | None = None) -> None:
    if not (folder / "manifest.json").exists():
        return
    manifest["status"] = status
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    if runs_ok is not None:
        manifest["runs_ok"], manifest["runs_failed"] = runs_ok, runs_failed
    try:
        write_manifest(folder, manifest)
    except OSError:  # pragma: no cover - the folder went away
        log.warning("could not update %s/manifest.json", folder)
