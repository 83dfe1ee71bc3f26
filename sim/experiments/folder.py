"""A results folder an ensemble writes into: checked, locked, verified on resume, its manifest kept.

:class:`ResultsFolder` says what the folder must hold (the manifest of a new ensemble, the manifest
key whose value must match to resume); :meth:`ResultsFolder.check` checks it without touching
anything; :meth:`ResultsFolder.open` takes the folder for writing and returns a
:class:`FolderSession` (the lock, the runs already done and verified, the manifest), which
:func:`sim.experiments.runner.run_ensemble` finishes and closes.

Checks, each a one-line :class:`~sim.errors.ResultsError` (exit status 2 on the command line):
``--out`` is a file, is under a file, or cannot be written; another live writer holds the folder
(:mod:`sim.experiments.lock`); the folder is not empty and ``resume`` is not set; it holds another
kind of results, another ensemble, a malformed manifest, or results made by other code
(:func:`sim.experiments.identity.code_hash`) unless ``allow_code_change``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import ResultsError
from sim.experiments.identity import code_hash, package_version
from sim.experiments.lock import FolderLock, describe_holder, lock_holder
from sim.experiments.parts import FORMAT, FolderState, clean, scan
from sim.experiments.store import existing_manifest, finish_manifest, git_commit, write_manifest

log = logging.getLogger(__name__)

__all__ = ["FolderSession", "ResultsFolder", "check_writable"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_writable(folder: Path, option: str = "--out") -> Path | None:
    """Raise :class:`ResultsError` unless ``folder`` is (or can be made as) a writable folder.

    Returns:
        The first missing folder on the way to ``folder`` (what creating it makes), or None when it exists.
    """
    where = f"{option} {folder}"
    try:
        if folder.exists():
            if not folder.is_dir():
                raise ResultsError(f"{where}: is a file, expected a folder")
            existing, first_missing = folder, None
        else:
            first_missing = folder.absolute()
            existing = first_missing.parent
            while not existing.exists():
                first_missing, existing = existing, existing.parent
            if not existing.is_dir():
                raise ResultsError(f"{where}: {existing} is a file, so no folder can be made under it")
        if not os.access(existing, os.W_OK | os.X_OK):
            read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
            reason = "read-only file system" if read_only else "permission denied"
            raise ResultsError(f"{where}: cannot write in {existing} ({reason})")
        probe = tempfile.mkdtemp(prefix=".sim-write-check-", dir=existing)  # root ignores permission bits
        os.rmdir(probe)
    except ValueError:
        raise ResultsError(f"{where}: not a valid folder path") from None
    except OSError as exc:
        raise ResultsError(f"{where}: cannot write there ({exc.strerror or exc})") from None
    return first_missing


@dataclass
class ResultsFolder:
    """A results folder the runner streams into, and what makes it this ensemble's.

    Attributes:
        path: the folder.
        manifest: the manifest of a new folder: ``kind``, the identity (under ``identity_key``),
            what was run. The runner adds ``status``, ``sessions``, ``runs_per_part`` and the counts.
        identity_key: the manifest key whose value must be the same to resume.
        what: how messages name the ensemble ("batch", "sensitivity analysis").
        mismatch: the message when ``resume`` finds another ensemble's folder (given its manifest).
    """

    path: Path
    manifest: dict[str, Any]
    identity_key: str
    what: str
    mismatch: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False)

    def check(self, resume: bool, allow_code_change: bool = False, *, locked: bool = False) -> dict[str, Any] | None:
        """Check that the folder can take this ensemble, without touching it (``locked``: we hold its lock).

        Returns:
            The folder's manifest when there is an ensemble to resume, else None (a new folder).

        Raises:
            ResultsError: see the module.
        """
        check_writable(self.path)
        holder = lock_holder(self.path) if self.path.is_dir() and not locked else None
        if holder is not None:
            raise ResultsError(f"--out {self.path}: in use by another writer, {describe_holder(holder)}; "
                               "wait for it to finish, or choose another --out")
        old = existing_manifest(self.path, resume, self.manifest["kind"], self.what)
        if old is None:
            return None
        if old.get(self.identity_key) != self.manifest[self.identity_key]:
            message = self.mismatch(old) if self.mismatch else (
                f"holds another {self.what} ({old.get(self.identity_key)}) than this one "
                f"({self.manifest[self.identity_key]})")
            raise ResultsError(f"--resume {self.path}: {message}; refusing to mix them: choose another --out")
        if old.get("parts_format") != FORMAT:
            raise ResultsError(f"--resume {self.path}: written by an older version of this package (its parts carry no "
                               "commits to verify); finish it with that version, or choose another --out")
        current = code_hash()
        if old.get("code_hash") != current and not allow_code_change:
            raise ResultsError(
                f"--resume {self.path}: its runs were made by other code (package {old.get('package_version', '?')}, "
                f"code {str(old.get('code_hash', 'not recorded'))[:19]}) than this one ({package_version()}, "
                f"{current[:19]}); finish it with that code, choose another --out, or pass --allow-code-change to mix them")
        return old

    def open(self, resume: bool, data_tables: Iterable[str], units_total: int, runs_per_part: int, *,
             allow_code_change: bool = False) -> FolderSession:
        """Check, lock and (on resume) verify the folder; see :class:`FolderSession`.

        Nothing is written when a check fails (a folder made for the lock is removed again).
        """
        self.check(resume, allow_code_change)
        first_missing = check_writable(self.path)
        lock = FolderLock(self.path, take_over=resume)
        try:
            lock.acquire()
        except OSError as exc:
            _remove_empty(first_missing, self.path)
            raise ResultsError(f"--out {self.path}: cannot write there ({exc.strerror or exc})") from None
        except BaseException:
            _remove_empty(first_missing, self.path)
            raise
        session = FolderSession(self, lock, first_missing, tuple(data_tables), units_total)
        try:
            old = self.check(resume, allow_code_change, locked=True)  # again, now that no one else can change it
            session.begin(old, runs_per_part)
        except BaseException:
            session.close()
            raise
        if lock.took_over:
            log.warning("took over the stale lock of %s", describe_holder(lock.took_over))
        return session


@dataclass
class FolderSession:
    """An open results folder: locked, verified, with the units already done.

    Attributes:
        folder: what it must hold; lock: the folder's lock; data_tables: the recorder's data tables.
        manifest: the manifest (the old one on resume); runs_per_part: units per part.
        state: the verified commits found when opening (empty for a new folder).
        repaired: units whose parts were missing or damaged (they are run again).
        removed: files removed when opening (damaged parts, partial writes).
    """

    folder: ResultsFolder
    lock: FolderLock
    first_missing: Path | None
    data_tables: tuple[str, ...]
    units_total: int
    manifest: dict[str, Any] = field(default_factory=dict)
    runs_per_part: int = 1
    state: FolderState = field(default_factory=FolderState)
    repaired: int = 0
    removed: int = 0
    resumed: bool = False

    @property
    def path(self) -> Path:
        """The folder."""
        return self.folder.path

    @property
    def done(self) -> set[int]:
        """Units done (verified) when the folder was opened."""
        return self.state.done

    def begin(self, old: dict[str, Any] | None, runs_per_part: int) -> None:
        """Take the manifest (new, or the old one to resume) and verify what is already there."""
        if old is None:
            self.manifest = dict(self.folder.manifest)
            self.manifest.setdefault("runs_per_part", runs_per_part)
            self.manifest["parts_format"] = FORMAT
        else:
            self.manifest, self.resumed = old, True
        self.runs_per_part = max(1, int(self.manifest.get("runs_per_part") or runs_per_part))
        self.manifest["runs_per_part"] = self.runs_per_part
        if old is not None:
            self.state = scan(self.path, self.data_tables, deep=True, runs_per_part=self.runs_per_part,
                              units_total=self.units_total)
            self.repaired = self.state.repaired()
            for name, reason, _units in self.state.rejected:
                log.warning("%s: rerunning %s: %s", self.path, name, reason)
            self.removed = clean(self.path, self.state, ("runs", *self.data_tables))

    def start(self, executor: str) -> None:
        """Record a new session (``running``) in the manifest: when, where, with which code."""
        current = code_hash()
        before = self.manifest.get("code_hash")
        if self.resumed and before != current:
            self.manifest.setdefault("code_changes", []).append(
                {"at": _now(), "from": before, "to": current, "package_version": package_version(),
                 "allowed_by": "--allow-code-change"})
        self.manifest.setdefault("code_hash", current)
        self.manifest["status"] = "running"
        self.manifest.setdefault("sessions", []).append({
            "started": _now(), "executor": executor, "runs_done_before": len(self.done),
            "runs_repaired": self.repaired, "git_commit": git_commit(), "code_hash": current,
            "package_version": package_version(),
        })
        write_manifest(self.path, self.manifest)

    def finish(self, status: str, runs_ok: int | None = None, runs_failed: int | None = None) -> None:
        """Record the end of the session in the manifest (when it has one)."""
        finish_manifest(self.path, self.manifest, status, runs_ok, runs_failed)

    def close(self) -> None:
        """Release the lock; remove the folder again when this session made it and left it empty."""
        self.lock.release()
        _remove_empty(self.first_missing, self.path)


def _remove_empty(first_missing: Path | None, path: Path) -> None:
    """Remove ``path`` and its parents up to ``first_missing`` while they are empty (what we made)."""
    if first_missing is None:
        return
    current = path.absolute()
    stop = first_missing.parent
    while current != stop and current.is_dir():
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
