"""``sim run SCENARIO``: one run, a summary in the terminal and a results folder."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from sim.errors import SimError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim run``."""
    parser = subparsers.add_parser(
        "run", parents=[common], help="run one scenario and print a summary",
        description="Run one scenario, print a summary and write a results folder "
                    "(Parquet tables national, province, events, runs and a manifest).")
    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario TOML file (default: the built-in defaults)")
    parser.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's run.seed)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default: results/run-<scenario>-<time>)")
    parser.add_argument("--no-write", action="store_true", help="print the summary only")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the scenario and print the summary."""
    # the input is checked before the model's imports (about 2 s), so a bad input is refused at once
    from sim.cli import check_out_folder
    from sim.scenario import load_scenario

    if args.seed is not None and args.seed < 0:
        raise SimError(f"--seed: expected a non-negative integer, got {args.seed}")
    scenario = load_scenario(args.scenario, args.overrides)
    out = None
    if not args.no_write:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        # a scenario name is letters, digits, '-', '_' and '.' (the schema checks): it stays in results/
        out = args.out or Path("results") / f"run-{scenario.name}-{stamp}"
        check_out_folder(out)  # a file, a folder under a file or one not writable: refused before the run
    from sim.cli.summary import format_summary
    from sim.experiments.single import run_scenario

    result = run_scenario(scenario, seed=args.seed, out=out, source=args.scenario)
    seed = args.seed if args.seed is not None else scenario.run.seed
    title = (f"Scenario {scenario.name!r}, {scenario.run.start_year}-{scenario.run.end_year}, "
             f"{scenario.run.provinces}, seed {seed}")
    print(format_summary(result.national, result.province, title))
    if out is not None:
        print(f"\nResults written to {out}/")
    return 0
