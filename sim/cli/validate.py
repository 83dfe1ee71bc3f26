"""``sim validate [--out DIR] [--calibrate] [--json FILE]``: the scorecard, and the hindcast 2012 onwards
against the observed history."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from sim.errors import SimError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim validate``."""
    parser = subparsers.add_parser(
        "validate", parents=[common], help="hindcast the provinces against observed data and score it",
        description="Initialise the 31 provinces in 2012 from the shipped history table, drive them with the "
                    "observed provincial R&D spending year by year and compare with what was observed up to "
                    "the last year of the table: GDP per capita (levels and growth), SCI papers, graduates and "
                    "the inequality path, against two benchmarks (every province at the national rate; beta "
                    "convergence fitted on 2012-2016). First prints the scorecard: every hindcast target and the "
                    "Hefei case test with its value and pass or fail, using the parameters estimated on "
                    "2012-2016 only, and the shipped projection's 2022-2024 growth against the observed. "
                    "Then the statistics; writes a folder with CSV and Parquet tables, "
                    "scorecard.json and PNG figures. See docs/validation.md.")
    parser.add_argument("--scenario", default=None,
                        help="scenario file whose parameters to validate (default: the package defaults); "
                             "its strategies and events are replaced by business as usual")
    parser.add_argument("--calibrate", action="store_true",
                        help="first refit the estimated parameters on 2012-2016 (simulated method of moments, "
                             "about a minute) and score and validate with the fitted values")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write the scorecard as JSON to FILE")
    parser.add_argument("--no-scorecard", action="store_true", help="skip the scorecard (statistics only)")
    parser.add_argument("--seed", type=int, default=None, help="model seed (default: the scenario's run.seed)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default: results/validation-<time>)")
    parser.add_argument("--no-write", action="store_true", help="print the statistics only")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the hindcast (and the fit), print the statistics, write the folder."""
    # the input is checked before the model's imports (about 2 s), so a bad input is refused at once
    from sim.cli import check_out_folder
    from sim.scenario import load_scenario, overrides_to_values, parse_override

    if args.seed is not None and args.seed < 0:
        raise SimError(f"--seed: expected a non-negative integer, got {args.seed}")
    out = None
    if not args.no_write:
        out = args.out or Path("results") / f"validation-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        check_out_folder(out)  # a file, a folder under a file or one not writable: refused before the run
    load_scenario(args.scenario, args.overrides)  # a bad --set is named here, before any run
    values = overrides_to_values(args.overrides)  # the --set text, parsed once
    if values.get("run.provinces", "china") != "china":  # a file's provinces are replaced by the 31
        setter = [o for o in args.overrides if parse_override(o)[0] == ["run", "provinces"]][-1]
        raise SimError(f"--set {setter}: run.provinces: validation compares the 31 provinces with observed data; "
                       "synthetic regions have none (leave run.provinces out or set it to \"china\")")
    from sim.analysis.validation import validate
    from sim.analysis.validation_output import format_validation, write_results
    from sim.experiments.single import write_folder_atomically

    calibration = None
    if args.calibrate:
        from sim.analysis.calibration import calibrate, format_calibration

        calibration = calibrate(args.scenario, values=values, seed=args.seed)
        print(format_calibration(calibration))
        print()
        values = {**values, **calibration.values()}
    card = None
    if not args.no_scorecard:
        from sim.analysis.scorecard import out_of_sample_values, scorecard

        score_values = {**out_of_sample_values(), **values}
        card = scorecard(score_values, scenario=args.scenario)
        print(card.format())
        print()
        if args.json is not None:
            card.write_json(args.json)
    result = validate(args.scenario, values=values, seed=args.seed)
    print(format_validation(result))
    if out is not None:
        manifest = {"scenario_file": args.scenario, "values": values}

        def write(folder: Path) -> None:
            write_results(folder, result, calibration, extra_manifest=manifest)
            if card is not None:
                card.write_json(folder / "scorecard.json")

        write_folder_atomically(out, write, what="the validation results")
        print(f"\nStatistics, tables and figures written to {out}/")
    return 0
