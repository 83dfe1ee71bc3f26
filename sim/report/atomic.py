"""Replacing a report folder whole: :func:`building`.

A report is written into a sibling temporary folder (``.<name>.building-<pid>-<random>`` next to
the report folder) and, once complete, swapped in. On Linux the swap is one ``renameat2`` call with
``RENAME_EXCHANGE``: the old and the new folder trade places atomically, so at every moment the
report folder is either the old report or the new one, whole. Elsewhere (or on a file system without
it) the old folder is first renamed aside, then the new one renamed in: a kill between the two
renames leaves no report folder but both reports next to it, never a mixed one.

An exception while building removes the temporary folder and leaves the old report as it was; a
kill leaves the temporary folder behind, and the next build removes it (its process is gone).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.errors import ResultsError

BUILDING = ".building-"
"""Marks a temporary folder of a report being built: ``.<name>.building-<pid>-<random>``."""
RETIRED = ".old-"
"""Marks a replaced report waiting to be removed: ``.<name>.old-<pid>-<random>``."""

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False when not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the temporary and replaced folders that killed builds of ``out`` left; returns them."""
    removed = []
    if not out.parent.is_dir():
        return removed
    for marker in (BUILDING, RETIRED):
        for path in out.parent.glob(f".{out.name}{marker}*"):
            pid_text = path.name[len(f".{out.name}{marker}"):].split("-", 1)[0]
            if pid_text.isdigit() and int(pid_text) != os.getpid() and _alive(int(pid_text)):
                continue  # another build of the same folder is running
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def swap_in(new: Path, out: Path) -> None:
    """Put the complete folder ``new`` at ``out``, replacing what is there; removes the old folder."""
    if out.is_dir() and not out.is_symlink():
        if _exchange(new, out):
            shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old report
            return
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}{RETIRED}{os.getpid()}-", dir=out.parent))
        os.rmdir(retired)
        os.rename(out, retired)
        os.rename(new, out)
        shutil.rmtree(retired, ignore_errors=True)
        return
    if out.is_symlink() or out.exists():
        out.unlink()  # a stray file or link where the folder goes (the command line refuses a file first)
    os.rename(new, out)


@contextlib.contextmanager
def building(out: Path) -> Iterator[Path]:
    """``with building(out) as work:`` write the report into ``work``; on leaving, it replaces ``out``.

    Raises:
        ResultsError: when no folder can be made next to ``out``.
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}{BUILDING}{os.getpid()}-", dir=out.parent))
        mask = os.umask(0)
        os.umask(mask)
        work.chmod(0o777 & ~mask)  # a report folder as any folder made here, not mkdtemp's private one
    except OSError as exc:
        raise ResultsError(f"{out}: cannot make a folder next to it to build the report in "
                           f"({exc.strerror or exc})") from exc
    try:
        yield work
        swap_in(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
