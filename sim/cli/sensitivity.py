"""``sim sensitivity EXPERIMENT``: Sobol or Morris indices of the key outcomes over parameter bounds."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from sim.errors import SimError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim sensitivity``."""
    parser = subparsers.add_parser(
        "sensitivity", parents=[common], help="global sensitivity analysis (SALib Sobol or Morris)",
        description="Sample the parameters named with [low, high] bounds under [sensitivity.parameters] in "
                    "an experiment file (SALib: Sobol' sequence for Sobol indices, trajectories for Morris), run "
                    "every point on the batch runner's executors (process pool, Dask; --resume finishes a "
                    "stopped analysis) and write first- and total-order indices with confidence intervals "
                    "for the end-year outcomes, as tables and a figure. Expected time on 2 cores, quiet: the "
                    "shipped experiments/sensitivity.toml (Sobol, N=512, 9 parameters, 5,632 runs to 2050) about "
                    "1.5 minutes; Sobol second order with N=1024 over 10 parameters (22,528 runs) 3.5-6 minutes "
                    "(the machine's speed varies: 65 runs a second were measured in a slow hour); Morris with 20 trajectories (200 runs) about 10 seconds. See docs/validation.md.")
    parser.add_argument("experiment", type=Path, help="sensitivity experiment file, e.g. experiments/sensitivity.toml")
    parser.add_argument("--method", default=None,
                        help="sobol (first and total order) or morris (a cheap screen); default: the file's")
    parser.add_argument("--samples", type=int, default=0,
                        help="Sobol base sample N (a power of 2; runs N*(D+2)) or Morris trajectories "
                             "(runs r*(D+1)); default: the file's when --method is the file's method, else 512 for "
                             "Sobol, 20 for Morris")
    parser.add_argument("--outputs", default=None,
                        help="comma-separated end-year national outcomes (default: the file's, else gini, "
                             "theil_between_region, gdp_real_cny_bn, interior_research_share)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (0 = all cores)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help='run on Dask: "local" (a LocalCluster) or a scheduler address tcp://host:8786')
    parser.add_argument("--serial", action="store_true", help="run in this process (no worker processes)")
    parser.add_argument("--resume", action="store_true",
                        help="finish the analysis already in --out (verifies what is there, reruns what is damaged)")
    parser.add_argument("--allow-code-change", action="store_true",
                        help="with --resume: accept that the points already there were made by other code")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default: results/sensitivity-<experiment>-<method>)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Load the experiment, run the design, print the indices."""
    from sim.analysis.sensitivity import check_folder, check_method, run_sensitivity
    from sim.analysis.sensitivity_files import format_indices, load_sensitivity
    from sim.experiments.executors import ExecutorChoice, check_dask_address
    from sim.experiments.signals import Interrupted, stop_on_signals

    method = check_method(args.method) if args.method is not None else None
    if args.samples < 0:
        raise SimError(f"--samples: expected a positive number, got {args.samples}")
    if args.workers is not None and args.workers < 0:
        raise SimError(f"--workers: expected a positive number (0 = all cores), got {args.workers}")
    if args.allow_code_change and not args.resume:
        raise SimError("--allow-code-change: only with --resume")
    if args.dask is not None:
        check_dask_address(args.dask)
    outputs = tuple(o.strip() for o in args.outputs.split(",") if o.strip()) if args.outputs else None
    spec, evaluator, experiment = load_sensitivity(args.experiment, args.overrides, method=method,
                                                   samples=args.samples, outputs=outputs)
    method = spec.method
    config = experiment.spec.executor
    choice = ExecutorChoice.pick(config.kind, config.workers, config.address, workers=args.workers, dask=args.dask,
                                 executor="serial" if args.serial else None)
    out = args.out or Path("results") / f"sensitivity-{spec.name}-{method}"  # spec.name is checked: a plain name
    scenario = experiment.scenarios[0]
    check_folder(out, spec, evaluator, scenario=scenario, replicates=experiment.replicates, resume=args.resume,
                 allow_code_change=args.allow_code_change)
    if choice.kind == "process":
        from sim.experiments.pool import prestart_pool

        prestart_pool(choice.workers or os.cpu_count() or 1)  # overlaps sampling the design (SALib's import)
    print(f"{method.capitalize()} analysis of {len(spec.parameters)} parameters on scenario "
          f"{scenario.name!r} ({scenario.run.start_year}-{scenario.run.end_year}): "
          f"{spec.runs_total} runs x {experiment.replicates} seed(s)")
    try:
        with stop_on_signals():
            result = run_sensitivity(spec, evaluator, scenario=scenario, replicates=experiment.replicates, out=out,
                                     executor=choice.kind, workers=choice.workers or None, address=choice.address,
                                     resume=args.resume, progress=not args.no_progress,
                                     manifest_extra={"experiment_file": str(args.experiment),
                                                     "experiment": experiment.to_json(),
                                                     "overrides": list(args.overrides)},
                                     allow_code_change=args.allow_code_change)
    except Interrupted as exc:
        hint = f"sim sensitivity {shlex.quote(str(args.experiment))} --resume --out {shlex.quote(str(out))}"
        hint += f" --method {method}" + (f" --samples {args.samples}" if args.samples else "")
        hint += "".join(f" --set {shlex.quote(o)}" for o in args.overrides)
        print(f"interrupted by {exc.name}; the points finished so far are kept in {out}/. To finish: {hint}",
              file=sys.stderr)
        return exc.exit_status
    done = f"{result.runs_run} runs in {result.elapsed_s:.0f} s on {result.executor}"
    if result.runs_resumed:
        done += f" ({result.runs_resumed} already done)"
    print(done)
    if not result.failed.empty:
        for _, row in result.failed.head(5).iterrows():
            print(f"  run {row['run_id']} failed: {row['error']}")
        raise SimError(f"{len(result.failed)} run(s) failed: no indices; fix the cause and run into a new --out")
    if result.indices.empty:
        raise SimError(f"some runs are missing in {out}: finish them with --resume")
    level = int(round(100 * spec.confidence))
    print(f"\nIndices ({'first order S1 and total order ST' if method == 'sobol' else 'Morris mu* and sigma'}; "
          f"+/- is the half-width of the {level} % bootstrap interval):\n")
    print(format_indices(result.indices, method))
    print(f"\nIndices, design, runs and figure written to {out}/")
    return 0
