"""``sim batch EXPERIMENT``: many runs in parallel, streamed to a results folder, resumable."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from sim.errors import SimError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim batch``."""
    parser = subparsers.add_parser(
        "batch", parents=[common], help="run an experiment: scenarios x sweeps x replicates, in parallel",
        description="Run every run of an experiment file (scenarios x sweep points x replicates) on a process "
                    "pool (default), serially or on Dask; each finished run is written at once as Parquet parts "
                    "(runs, national, province, events) in the results folder. A killed batch is finished "
                    "with --resume. See docs/batch.md.")
    parser.add_argument("experiment", help="experiment TOML file, e.g. experiments/strategy_comparison.toml")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--serial", action="store_true", help="run in this process, one run after another")
    where.add_argument("--dask", metavar="ADDRESS|local", default=None,
                       help="run on Dask: 'local' starts a LocalCluster, or a scheduler address tcp://host:port")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes of the process pool (or local Dask cluster); 0 = all cores "
                             "(default: the experiment's [executor])")
    parser.add_argument("--resume", action="store_true",
                        help="finish the batch in --out: verify the runs there, run those missing or damaged")
    parser.add_argument("--allow-code-change", action="store_true",
                        help="with --resume: accept that the runs already there were made by other code "
                             "(the manifest records both)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="results folder (default: results/batch-<experiment name>)")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failed run")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the batch; print the summary and where the results are. Exit 1 when a run failed.

    Exit 2 for bad input (nothing written), 130/143 when SIGINT/SIGTERM stopped it (finished runs kept).
    """
    # the options and the experiment file are checked before the model's imports (about 2 s)
    from sim.experiments.executors import ExecutorChoice, check_dask_address
    from sim.experiments.spec import load_experiment

    if args.workers is not None and args.workers < 0:
        raise SimError(f"--workers: expected 0 (all cores) or more, got {args.workers}")
    if args.serial and args.workers is not None:
        raise SimError("--workers: not used with --serial")
    if args.allow_code_change and not args.resume:
        raise SimError("--allow-code-change: only with --resume")
    if args.dask is not None:
        check_dask_address(args.dask)
    experiment = load_experiment(args.experiment, args.overrides)
    if experiment.spec.sensitivity is not None:
        raise SimError(f"{args.experiment}: sensitivity: a sensitivity experiment samples its parameters: "
                       f"run it with `sim sensitivity {args.experiment}`")
    if args.dask is not None and not args.debug:
        _quiet_dask()
    from sim.experiments.batch_folder import check_folder, default_folder
    from sim.experiments.pool import prestart_pool

    out = args.out or default_folder(experiment)
    check_folder(out, experiment, args.resume, args.allow_code_change)
    config = experiment.spec.executor
    choice = ExecutorChoice.pick(config.kind, config.workers, config.address, workers=args.workers, dask=args.dask,
                                 executor="serial" if args.serial else None)
    if choice.kind == "process" and experiment.runs_total > 0:
        # the workers start while this process loads the batch modules and opens (and verifies) the folder
        prestart_pool(choice.workers or os.cpu_count() or 1)
    from sim.experiments.batch import run_batch
    from sim.experiments.runner import WorkerLost
    from sim.experiments.signals import Interrupted, stop_on_signals
    from sim.experiments.summary import format_summary
    resume_hint = f"sim batch {shlex.quote(args.experiment)} --resume --out {shlex.quote(str(out))}"
    if args.overrides:
        resume_hint += "".join(f" --set {shlex.quote(o)}" for o in args.overrides)
    try:
        with stop_on_signals():
            result = run_batch(experiment, workers=args.workers, dask=args.dask, resume=args.resume, out=out,
                               fail_fast=args.fail_fast, progress=not args.no_progress,
                               executor="serial" if args.serial else None, allow_code_change=args.allow_code_change)
    except Interrupted as exc:
        kept = getattr(exc, "units_done", None)
        what = f"{kept} finished run(s) are kept" if kept is not None else "the runs finished so far are kept"
        print(f"interrupted by {exc.name}; {what} in {out}/. To finish: {resume_hint}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"interrupted; the runs finished so far are kept. To finish: {resume_hint}", file=sys.stderr)
        return 130
    except WorkerLost as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sweep_columns = list(experiment.sweep_columns.values())
    print(format_summary(result.summary, sweep_columns))
    ran = f"{result.runs_run} run(s) in {result.elapsed_s:.1f} s on {result.executor}"
    if result.runs_resumed:
        ran += f"; {result.runs_resumed} were already done (verified)"
    if result.runs_repaired:
        ran += f"; {result.runs_repaired} repaired (their parts were missing or damaged, so they were run again)"
    print(f"\n{ran}.\nResults written to {result.folder}/")
    if result.ok:
        return 0
    if result.runs_failed:
        print(f"\n{result.runs_failed} of {result.runs_total} run(s) failed:", file=sys.stderr)
        for row in result.failed.head(10).itertuples(index=False):
            print(f"  run {row.run_id} ({row.scenario}, replicate {row.replicate}): {row.error}", file=sys.stderr)
        if result.runs_failed > 10:
            print(f"  ... and {result.runs_failed - 10} more (status = 'failed' in {result.folder}/runs)",
                  file=sys.stderr)
    if result.stopped or result.runs_missing:
        print(f"stopped at the first failure (--fail-fast): {result.runs_missing} run(s) not run. "
              f"To finish: {resume_hint}", file=sys.stderr)
    return 1


def _quiet_dask() -> None:
    """Keep Dask's start-up and shut-down chatter out of the terminal (``--debug`` shows it)."""
    import logging

    try:
        import distributed  # noqa: F401  (its import sets the level of its loggers)
    except ImportError:
        return
    for name in ("distributed", "distributed.http.proxy"):
        logging.getLogger(name).setLevel(logging.WARNING)
