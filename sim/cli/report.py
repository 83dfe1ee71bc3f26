"""``sim report RESULTS [--out DIR]``: figures, ``report.html`` and ``report.md`` from a results folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.errors import ResultsError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim report``."""
    # no --set: a report shows the results as they were run
    parser = subparsers.add_parser(
        "report", help="build figures and an HTML report from a results folder",
        description="Turn a results folder (from `sim batch` or `sim run`) into PNG figures (SVG too with --svg), "
                    "report.html (one self-contained file that opens offline), report.md and CSV tables "
                    "(summary.csv, comparisons.csv, costs.csv, runs.csv). The report folder is replaced whole "
                    "when the new report is complete. A partial folder is reported on as far as it goes; the "
                    "missing runs are listed.")
    parser.add_argument("results", type=Path, help="results folder (holds manifest.json)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="report folder (default: RESULTS/report)")
    parser.add_argument("--svg", action="store_true", help="also write every figure as SVG (PNG only by default)")
    parser.add_argument("--redraw", action="store_true",
                        help="draw every figure again (by default a figure drawn by an earlier build from the same "
                             "results with the same code is reused; it is kept in RESULTS/.report-cache)")
    card = parser.add_mutually_exclusive_group()
    card.add_argument("--scorecard", type=Path, default=None, metavar="FILE",
                      help="read the trust section's validation scorecard from FILE (written by `sim validate --json "
                           "FILE`) instead of computing it for the current code (cached in RESULTS)")
    card.add_argument("--no-scorecard", action="store_true", help="leave the validation scorecard out")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Build the report and say where it is."""
    from sim.cli import check_out_folder
    from sim.experiments.store import read_manifest
    from sim.report import load_report_data, write_report
    from sim.report.analysis import build_analysis_report, is_analysis_folder

    read_manifest(args.results)  # not a results folder, or a malformed manifest: one line, before anything else
    scorecard = False if args.no_scorecard else args.scorecard
    if args.scorecard is not None:
        from sim.report.trust import read_scorecard_file

        read_scorecard_file(args.scorecard)  # a missing or malformed file: one line, before any work
    # the report folder is replaced when it exists; a file there, or no way to write, is refused now
    check_out_folder(args.out if args.out is not None else args.results / "report", replace=True)
    if is_analysis_folder(args.results):
        out = build_analysis_report(args.results, args.out)
        figures = sorted((out / "figures").glob("*.png"))
        print(f"Report written to {out}/: report.html, report.md and {len(figures)} figure(s)")
        return 0
    from sim.report.robustness import build_robustness_report, is_robustness_folder

    if is_robustness_folder(args.results):
        out = build_robustness_report(args.results, args.out, svg=args.svg)
        print(f"Report written to {out}/: report.html, report.md, robustness.csv and robustness_verdicts.csv "
              "(which strategy effects keep their sign across conditions)")
        return 0
    try:
        data = load_report_data(args.results)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a manifest or table not as written
        raise ResultsError(f"{args.results}: cannot read this results folder ({type(exc).__name__}: {exc}); "
                           "was its manifest.json or a table edited?") from exc
    if not data.completeness.is_complete:
        print(f"warning: partial results: {data.completeness.summary()}; reporting on what is there",
              file=sys.stderr)
    out = write_report(data, args.out, svg=args.svg, scorecard=scorecard, cache=not args.redraw)
    figures = sorted((out / "figures").glob("*.png"))
    kinds = "PNG and SVG" if args.svg else "PNG"
    print(f"Report written to {out}/: report.html, report.md, CSV tables and {len(figures)} figures ({kinds}) "
          f"for {len(data.groups)} scenario(s), {len(data.completeness.complete)} run(s).")
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
