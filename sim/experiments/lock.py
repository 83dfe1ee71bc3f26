"""One writer per results folder: a lock file held while a batch or a sensitivity analysis writes it.

The lock is ``<folder>/.sim.lock``: a small JSON file (pid, host, start time, command) on which the
writer holds an exclusive ``flock`` for as long as it runs. The kernel drops the ``flock`` when the
writer dies, however it dies (``kill -9`` included), so a lock file whose ``flock`` can be taken is
*stale*: its holder is gone. A second writer finds the ``flock`` taken and is refused with one line
naming the holder; a stale lock is taken over by the next writer that resumes the folder.

The file is created complete and already locked (written under a temporary name, locked, then
hard-linked into place), so no one ever sees a lock file without its holder's details.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import ResultsError

__all__ = ["LOCK_NAME", "FolderLock", "describe_holder", "lock_holder"]

LOCK_NAME = ".sim.lock"


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(holder: dict[str, Any]) -> str:
    """``pid 123 on host h since 2026-01-01T10:00:00+00:00 (sim batch x.toml)``."""
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} since {holder.get('started', '?')}"
    command = str(holder.get("command") or "")
    if command:
        text += f" ({command[:120]})"
    return text


def lock_holder(folder: str | Path) -> dict[str, Any] | None:
    """The holder of a live lock on ``folder`` (``pid``, ``host``, ``started``, ``command``), else None.

    Takes nothing: a stale lock (its holder died) counts as no lock.
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        if _try_flock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return _read_holder(path) or {"pid": "?", "host": "?", "started": "?"}
    finally:
        os.close(fd)


class FolderLock:
    """The lock of one results folder (the folder is created when missing).

    ``with FolderLock(folder, take_over=resume): ...``; :meth:`acquire` raises :class:`ResultsError`
    when another live writer holds it, or when it is stale and ``take_over`` is False.

    Attributes:
        folder: the results folder.
        took_over: the holder of the stale lock this one replaced (None when there was none).
    """

    def __init__(self, folder: str | Path, take_over: bool = False, command: str | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.take_over = take_over
        self.command = command if command is not None else " ".join(["sim", *sys.argv[1:]])[:300]
        self.took_over: dict[str, Any] | None = None
        self._fd: int | None = None

    def _content(self) -> bytes:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": datetime.now(UTC).isoformat(timespec="seconds"),
                           "command": self.command}).encode()

    def acquire(self) -> FolderLock:
        """Take the lock (see the class)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for _attempt in range(20):
            if self._create():
                return self
            if self._take_existing():
                return self
        raise ResultsError(f"--out {self.folder}: cannot take the lock {self.path}")  # pragma: no cover

    def _create(self) -> bool:
        """A new lock file, complete and locked before it appears; False when one exists."""
        tmp = self.folder / f"{LOCK_NAME}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        try:
            os.write(fd, self._content())
            os.fsync(fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                os.close(fd)
                return False
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._fd = fd
        return True

    def _take_existing(self) -> bool:
        """Take over a stale lock; False when it vanished meanwhile (try again); raises when live."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            if not _try_flock(fd):
                holder = _read_holder(self.path)
                raise ResultsError(f"--out {self.folder}: in use by another writer, {describe_holder(holder)}; "
                                   "wait for it to finish, or choose another --out")
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # released (unlinked) between our open and our flock
                os.close(fd)
                return False
            holder = _read_holder(self.path)
            if not self.take_over:
                raise ResultsError(f"--out {self.folder}: holds a stale lock of a writer that is gone "
                                   f"({describe_holder(holder)}); use --resume to take it over and finish its work")
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._content(), 0)
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        self.took_over = holder
        self._fd = fd
        return True

    def release(self) -> None:
        """Remove the lock file and drop the lock (nothing when not held)."""
        if self._fd is None:
            return
        try:
            if os.fstat(self._fd).st_ino == os.stat(self.path).st_ino:
                os.unlink(self.path)
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
