"""The ``sim`` command line.

Each verb is a module in :mod:`sim.cli` with ``add_parser(subparsers)`` and
``main(args) -> int``. A user error (:class:`~sim.errors.SimError`) is printed as one line on
stderr with exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from sim import __version__
from sim.errors import SimError

COMMANDS: tuple[str, ...] = ("run", "batch", "report", "sensitivity", "validate", "app")
"""Verbs, in the order ``sim --help`` lists them; each is ``sim.cli.<verb>``."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb."""
    parser = OneLineParser(
        prog="sim",
        description="Science-led regional growth: simulate China's provinces investing in science.",
    )
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    common = OneLineParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    common.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a scenario value, e.g. --set migration.graduate_mobility=0.5 (repeatable)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sim.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sim.cli.{name}":
                continue
            raise
        module.add_parser(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except SimError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
