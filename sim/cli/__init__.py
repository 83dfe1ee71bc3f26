"""The ``sim`` command line.

Each verb is a module in :mod:`sim.cli` with ``add_parser(subparsers)`` and
``main(args) -> int``. A user error (:class:`~sim.errors.SimError`) is printed as one line on
stderr with exit status 2; any other error as one line naming its type, with exit status 1; Ctrl-C
as ``interrupted`` with exit status 130. ``--debug`` shows the traceback instead.

:func:`check_out_folder` checks an ``--out`` folder before any work starts.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
from pathlib import Path

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
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()  # imports every verb's module
    except Exception as exc:
        if debug:
            raise
        return _unexpected(exc)
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
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected error (a bug, or an environment problem): one line
        if args.debug:
            raise
        return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    """Print an unexpected error as one line naming its type; exit status 1."""
    print(f"error: {type(exc).__name__}: {one_line(str(exc)) or '(no message)'} "
          "(run with --debug for the traceback)", file=sys.stderr)
    return 1


def one_line(text: str, limit: int = 4000) -> str:
    """``text`` on one line (line breaks as spaces), cut to ``limit`` characters."""
    text = " ".join(text.splitlines())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_out_folder(folder: Path, option: str = "--out", replace: bool = False) -> None:
    """Refuse an output folder that cannot take results, before any work starts; writes nothing.

    Args:
        folder: the folder to be created (or an empty one to fill).
        option: how the message names it (``--out``).
        replace: whether an existing non-empty folder is fine (it will be replaced, as a report is).

    Raises:
        SimError: one line, when ``folder`` is a file, is under a file, is a folder that is not empty
            (unless ``replace``), or its first existing folder is not writable.
    """
    where = f"{option} {folder}"
    if "\x00" in str(folder):
        raise SimError(f"{option} {str(folder)!r}: not a valid folder path (it holds a NUL byte)")
    try:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise SimError(f"{where}: is a file, expected a folder")
            if not replace and any(folder.iterdir()):
                raise SimError(f"{where}: folder exists and is not empty; choose another")
            existing = folder
        else:
            existing = folder.absolute().parent
            while not (existing.exists() or existing.is_symlink()):
                existing = existing.parent
            if not existing.is_dir():
                raise SimError(f"{where}: {existing} is a file, so no folder can be made under it")
        _probe_writable(existing, where)
    except ValueError:  # e.g. a NUL byte in the path
        raise SimError(f"{where}: not a valid folder path") from None
    except OSError as exc:
        raise SimError(f"{where}: cannot use this folder ({exc.strerror or exc})") from None


def _probe_writable(folder: Path, where: str) -> None:
    """Make and remove an empty folder in ``folder``: the only reliable test of writing there (root
    ignores permission bits, a read-only file system does not)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SimError(f"{where}: cannot write in {folder} (permission denied)")
    try:
        probe = tempfile.mkdtemp(prefix=".sim-write-check-", dir=folder)
    except OSError as exc:
        raise SimError(f"{where}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.rmdir(probe)


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
