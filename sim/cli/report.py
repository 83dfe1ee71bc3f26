"""``sim report RESULTS [--out DIR]``: figures, ``report.html`` and ``report.md`` from a results folder."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from sim.errors import ResultsError

MAX_MANIFEST_BYTES = 100_000_000
"""Largest ``manifest.json`` read (a batch manifest holds every resolved scenario: a few MB at most)."""


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim report``."""
    # no --set: a report shows the results as they were run
    parser = subparsers.add_parser(
        "report", help="build figures and an HTML report from a results folder",
        description="Turn a results folder (from `sim batch` or `sim run`) into PNG and SVG figures, "
                    "report.html (one self-contained file that opens offline) and report.md. A partial "
                    "folder is reported on as far as it goes; the missing runs are listed.")
    parser.add_argument("results", type=Path, help="results folder (holds manifest.json)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="report folder (default: RESULTS/report)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Build the report and say where it is."""
    from sim.cli import check_out_folder
    from sim.report import load_report_data, write_report
    from sim.report.analysis import build_analysis_report, is_analysis_folder

    check_manifest(args.results)
    # the report folder is replaced when it exists; a file there, or no way to write, is refused now
    check_out_folder(args.out if args.out is not None else args.results / "report", replace=True)
    if is_analysis_folder(args.results):
        out = build_analysis_report(args.results, args.out)
        figures = sorted((out / "figures").glob("*.png"))
        print(f"Report written to {out}/: report.html, report.md and {len(figures)} figure(s)")
        return 0
    try:
        data = load_report_data(args.results)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a manifest or table not as written
        raise ResultsError(f"{args.results}: cannot read this results folder ({type(exc).__name__}: {exc}); "
                           "was its manifest.json or a table edited?") from exc
    if not data.completeness.is_complete:
        print(f"warning: partial results: {data.completeness.summary()}; reporting on what is there",
              file=sys.stderr)
    out = write_report(data, args.out)
    figures = sorted((out / "figures").glob("*.png"))
    print(f"Report written to {out}/: report.html, report.md and {len(figures)} figures (PNG and SVG) "
          f"for {len(data.groups)} scenario(s), {len(data.completeness.complete)} run(s).")
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


# the shape of the manifest keys a report reads: key -> (allowed types, what to say)
_MANIFEST_SHAPE: dict[str, tuple[tuple[type, ...], str]] = {
    "kind": ((str,), "a string"),
    "scenario": ((dict,), "a table"),
    "scenarios": ((dict,), "a table"),
    "experiment": ((dict,), "a table"),
    "runs_total": ((int,), "an integer"),
    "sweep_columns": ((list,), "a list"),
}


def check_manifest(folder: Path) -> dict[str, Any]:
    """Read ``folder/manifest.json`` safely and check the shape of the keys a report reads.

    Returns:
        The manifest.

    Raises:
        ResultsError: one line naming the folder or the manifest: no such folder, no manifest, a
            manifest that is not a regular file (a FIFO would hang), too large, not JSON, not a JSON
            object, or a key of the wrong type.
    """
    path = folder / "manifest.json"
    try:
        if not folder.is_dir():
            raise ResultsError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: is a file, "
                               "expected a results folder")
        info = os.stat(path)
    except FileNotFoundError:
        raise ResultsError(f"{folder}: not a results folder (no manifest.json)") from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{folder}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ResultsError(f"{path}: not a regular file; expected the JSON manifest of a results folder")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise ResultsError(f"{path}: {info.st_size:,} bytes, larger than the {MAX_MANIFEST_BYTES:,} allowed")
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise ResultsError(f"{path}: malformed manifest ({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: malformed manifest (expected a JSON object, got {type(manifest).__name__})")
    for key, (types, what) in _MANIFEST_SHAPE.items():
        value = manifest.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise ResultsError(f"{path}: {key}: malformed manifest (expected {what}, got {json.dumps(value)[:60]})")
    if not isinstance(manifest.get("kind"), str):
        raise ResultsError(f"{path}: kind: malformed manifest (missing; a results folder's manifest names its kind)")
    return manifest
