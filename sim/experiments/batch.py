"""Scenario batches (``sim batch``): an experiment's run list, recorded run by run into a results folder.

:func:`run_batch` turns an experiment (see :mod:`sim.experiments.spec`) into its run list
(scenarios x sweep points x replicates, :class:`~sim.experiments.runlist.GridRunList`) and runs it
with :func:`sim.experiments.runner.run_ensemble` and a :class:`ModelRecorder`, which writes each
finished part at once into a results folder laid out as :mod:`sim.experiments.store` documents::

    manifest.json                        the experiment as resolved, its hash, versions, code hash, git commit
    runs/part-000000-000210.parquet      one row per run: status, error, seed, parameters, end-year metrics
    national/part-000000-000210.parquet  one row per run and year
    province/part-000000-000210.parquet  one row per run, year and province
    events/part-000000-000210.parquet    one row per event that fired

Seeds: run ``i`` gets child ``i`` of ``numpy.random.SeedSequence(seed)``, so a run's result depends
only on the experiment and ``i``, never on the executor, the number of workers or the completion
order. Runs are recorded in blocks (:func:`auto_runs_per_part`), one part per block and table while
the batch runs, compacted into a few files per table at the end (:mod:`sim.experiments.compact`).
Streaming, resume, failures and the manifest are the runner's (see :mod:`sim.experiments.runner`);
the end-of-batch summary is :mod:`sim.experiments.summary`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.batch_folder import batch_manifest, check_folder, default_folder, results_folder
from sim.experiments.executors import ExecutorChoice
from sim.experiments.recorder import RUNS_FIELDS, ModelRecorder, simulate_run
from sim.experiments.runlist import Run, run_seed
from sim.experiments.runner import WorkerLost, run_ensemble
from sim.experiments.spec import Experiment, ResolvedExperiment, load_experiment, resolve_experiment
from sim.experiments.summary import format_summary, summarise_folder, summarise_runs

__all__ = [
    "RUNS_FIELDS",
    "BatchResult",
    "ModelRecorder",
    "WorkerLost",
    "auto_runs_per_part",
    "check_folder",
    "default_folder",
    "format_summary",
    "run_batch",
    "run_seed",
    "simulate_run",
    "summarise_runs",
]

MAX_AUTO_RUNS_PER_PART = 50
BLOCKS_TARGET = 48


def auto_runs_per_part(runs_total: int) -> int:
    """Runs per block (part and task) when the experiment leaves it to us.

    About :data:`BLOCKS_TARGET` blocks (at most :data:`MAX_AUTO_RUNS_PER_PART` runs each; one run
    per block below that many runs): each block costs a few Parquet files to write, which outweighs
    a short run, while enough blocks keep every worker busy to the end. Blocks are compacted at the
    end of the batch, so their number does not decide the number of files.
    """
    return min(MAX_AUTO_RUNS_PER_PART, max(1, -(-runs_total // BLOCKS_TARGET)))


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
        runs_resumed: runs already in the folder (and verified) when this call started (``resume``).
        runs_repaired: runs whose parts were missing or damaged when this call started (run again).
        failed: the failed runs of the whole folder (run_id, labels, error; the first 1,000).
        summary: per scenario and sweep point, end-year metrics (see :func:`summarise_runs`).
        stopped: True when ``fail_fast`` stopped the batch before every run was done.
        elapsed_s: wall time of the call, seconds.
        startup_s: part of it spent starting the executor, seconds.
        run_s: part of it spent running (from the first task submitted to the last result), seconds.
        compact_s: part of it spent compacting the last parts after the runs, seconds.
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
    compact_s: float = 0.0
    executor: str = ""
    runs_missing: int = 0
    runs_failed: int = 0
    runs_repaired: int = 0

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
              executor: str | None = None, *, evaluator: Callable[[Any, Run], Any] | None = None,
              allow_code_change: bool = False) -> BatchResult:
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
        evaluator: ``evaluator(scenario, run) -> finished model`` instead of running the model with
            the run's seed (see :class:`ModelRecorder`).
        allow_code_change: resume a folder whose runs were made by other code (the manifest records it).

    Returns:
        A :class:`BatchResult`: the folder, counts, failed runs and the end-year summary.

    Raises:
        ExperimentError, ScenarioError: invalid experiment or override (nothing is written).
        ResultsError: ``out`` cannot take the batch (see :func:`check_folder`).
        Interrupted: SIGINT or SIGTERM stopped it (finished runs kept; manifest ``interrupted``).

    Example:
        >>> result = run_batch("experiments/smoke.toml", out="results/smoke")  # doctest: +SKIP
        >>> pd.read_parquet(result.folder / "national")  # doctest: +SKIP
    """
    started = time.monotonic()
    exp = _resolve(experiment, tuple(overrides))
    config = exp.spec.executor
    choice = ExecutorChoice.pick(config.kind, config.workers, config.address, workers=workers, dask=dask,
                                 executor=executor)
    folder = Path(out) if out is not None else default_folder(exp)
    runs_per_part = exp.spec.record.runs_per_part or auto_runs_per_part(exp.runs_total)

    def announce(missing: int, where: str) -> None:
        print(f"Experiment {exp.name!r}: {missing} of {exp.runs_total} run(s) to run "
              f"({exp.describe_size()}) on {where} -> {folder}/", file=sys.stderr, flush=True)

    target = results_folder(folder, exp, batch_manifest(exp, runs_per_part))
    before = time.monotonic() - started
    result = run_ensemble(exp.run_list, ModelRecorder.for_experiment(exp, evaluator), executor=choice, folder=target,
                          resume=resume, runs_per_part=runs_per_part, fail_fast=fail_fast, progress=progress,
                          on_start=announce if progress else None, allow_code_change=allow_code_change)
    summary, failed, runs_done, runs_failed = summarise_folder(folder, list(exp.sweep_columns.values()))
    return BatchResult(folder=folder, experiment=exp, runs_total=exp.runs_total, runs_run=result.runs_run,
                       runs_resumed=result.runs_resumed, failed=failed, summary=summary, stopped=result.stopped,
                       elapsed_s=time.monotonic() - started, startup_s=before + result.startup_s, run_s=result.run_s,
                       compact_s=result.compact_s,
                       executor=result.executor, runs_missing=exp.runs_total - runs_done, runs_failed=runs_failed,
                       runs_repaired=result.runs_repaired)
