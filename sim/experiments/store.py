"""Results folders: Parquet tables written part by part, atomically, plus a manifest.

Layout of a results folder::

    manifest.json           what was run: scenario(s) as resolved, seeds, versions, git commit
    runs/part-<id>.parquet     one row per run (status, seed, parameters)
    national/part-<id>.parquet one row per run and year
    province/part-<id>.parquet one row per run, year and province
    events/part-<id>.parquet   one row per event that fired

``pandas.read_parquet(folder / "province")`` reads every part of a table. A part is written to a
temporary name in the same folder, fsynced and renamed into place, so a crash never leaves a
half-written part that is read as data (readers skip names starting with ``.`` or ``_``).
Ensembles write their parts with commits (:mod:`sim.experiments.parts`) and compact them
(:mod:`sim.experiments.compact`); this module holds the manifest and the plain part writer.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ResultsError
from sim.experiments.identity import code_hash

if TYPE_CHECKING:  # pandas is imported where tables are read: writing a manifest needs none
    import pandas as pd

log = logging.getLogger(__name__)

TABLES: tuple[str, ...] = ("runs", "national", "province", "events")
MANIFEST = "manifest.json"


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_part(folder: Path, table: str, part: str, frame: pd.DataFrame) -> Path:
    """Write one part of ``table`` atomically (temporary name, fsync, rename); returns its path."""
    directory = Path(folder) / table
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"part-{part}.parquet"
    tmp = directory / f".part-{part}.parquet.tmp-{os.getpid()}"
    try:
        frame.to_parquet(tmp, index=False)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(Path(folder) / MANIFEST, json.dumps(manifest, indent=2, default=str).encode())


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a results folder.

    Raises:
        ResultsError: one line, when ``folder`` is not a results folder or its manifest is unreadable
            or malformed (not a JSON object, a key of the wrong type).
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    if not path.exists():
        raise ResultsError(f"{folder}: not a results folder (no {MANIFEST})")
    if not path.is_file():
        raise ResultsError(f"{path}: not a regular file")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ResultsError(f"{path}: malformed manifest (larger than {MAX_MANIFEST_BYTES // 2**20} MB)")
    try:
        manifest = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        message = " ".join(str(exc).split())[:200]
        raise ResultsError(f"{path}: malformed manifest ({type(exc).__name__}: {message})") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise ResultsError(f"{path}: {problem}")
    return manifest


MAX_MANIFEST_BYTES = 64 * 2**20
_MANIFEST_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,), "scenario": (dict,), "scenarios": (dict,), "experiment": (dict,),
    "sessions": (list,), "code_changes": (list,), "spec": (dict,), "code_hash": (str,), "parts_format": (int,),
}
_MANIFEST_COUNTS = ("runs_total", "runs_ok", "runs_failed", "runs_per_part")


def _manifest_problem(manifest: Any) -> str:
    """What makes a manifest unusable, as ``key: malformed manifest (...)`` ('' when nothing)."""
    if not isinstance(manifest, dict):
        return f"malformed manifest (expected a JSON object, got {type(manifest).__name__})"
    if "kind" not in manifest:
        return "kind: malformed manifest (missing; it says what the folder holds)"
    for key, types in _MANIFEST_TYPES.items():
        if key in manifest and not (isinstance(manifest[key], types) and not isinstance(manifest[key], bool)):
            return f"{key}: malformed manifest (expected {' or '.join(t.__name__ for t in types)}, " \
                   f"got {type(manifest[key]).__name__})"
    for key in _MANIFEST_COUNTS:
        value = manifest.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0
                                  or (key == "runs_per_part" and value < 1)):
            return f"{key}: malformed manifest (expected a count, got {str(value)[:40]!r})"
    return ""


HIDDEN_WRITER_FILES = (".sim.lock", ".sim-write-check-")
"""Names (prefixes) of the lock and probe files a writer keeps in a folder; they do not make it non-empty."""


def _has_results(folder: Path) -> bool:
    return any(not p.name.startswith(HIDDEN_WRITER_FILES) for p in folder.iterdir())


def existing_manifest(folder: str | Path, resume: bool, kind: str, what: str) -> dict[str, Any] | None:
    """Check that ``folder`` can take new results of ``kind``, without touching it.

    Args:
        folder: the ``--out`` folder.
        resume: whether the user asked to finish the results already there.
        kind: the manifest kind the folder must hold to be resumed (``batch``, ``sensitivity``).
        what: how messages name the work ("batch", "sensitivity analysis").

    Returns:
        None for a new folder (absent or empty); the folder's manifest when there is work to resume.

    Raises:
        ResultsError: ``folder`` is a file; is not empty and ``resume`` is False; or holds another kind.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"--out {folder}: is a file, expected a folder")
    if not (folder.exists() and _has_results(folder)):
        return None
    if not resume:
        raise ResultsError(f"--out {folder}: folder exists and is not empty; use --resume to finish that {what} "
                           "or choose another folder")
    manifest = read_manifest(folder)
    if manifest.get("kind") != kind:
        raise ResultsError(f"--resume {folder}: holds a {manifest.get('kind', 'unknown')!r} results folder, "
                           f"not a {what}; choose another folder")
    return manifest


def part_ids(folder: str | Path, table: str) -> set[str]:
    """Ids of the complete parts of ``table`` in ``folder``."""
    directory = Path(folder) / table
    if not directory.is_dir():
        return set()
    return {p.name[len("part-"):-len(".parquet")] for p in directory.glob("part-*.parquet")}


def count_runs(folder: str | Path) -> tuple[int, int]:
    """Rows of the ``runs`` table and how many of them failed (reads only the ``status`` column)."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    done = failed = 0
    for part in sorted(part_ids(folder, "runs")):
        status = pq.ParquetFile(folder / "runs" / f"part-{part}.parquet").read(columns=["status"]).column("status")
        done += len(status)
        failed += sum(value != "ok" for value in status.to_pylist())
    return done, failed


def finish_manifest(folder: str | Path, manifest: dict[str, Any], status: str, runs_ok: int | None = None,
                    runs_failed: int | None = None) -> None:
    """Record the end of a session in ``manifest.json`` (when the folder has one): status, time, counts."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        return
    manifest["status"] = status
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    if runs_ok is not None:
        manifest["runs_ok"], manifest["runs_failed"] = runs_ok, runs_failed
    try:
        write_manifest(folder, manifest)
    except OSError:  # pragma: no cover - the folder went away
        log.warning("could not update %s/%s", folder, MANIFEST)


def read_table(folder: str | Path, table: str) -> pd.DataFrame:
    """Every part of ``table`` as one DataFrame (empty when there is none)."""
    import pandas as pd

    directory = Path(folder) / table
    if not directory.is_dir() or not any(directory.glob("part-*.parquet")):
        return pd.DataFrame()
    return pd.read_parquet(directory)


def read_results(folder: str | Path) -> dict[str, pd.DataFrame]:
    """All four tables of a results folder, plus its manifest under ``"manifest"``."""
    manifest = read_manifest(folder)
    tables: dict[str, Any] = {name: read_table(folder, name) for name in TABLES}
    tables["manifest"] = manifest
    return tables


def git_commit() -> str:
    """The git commit of the source tree the package runs from, or ``"unknown"``."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    """Versions, the hash of the package's code (:func:`sim.experiments.identity.code_hash`), git commit and time."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import numpy

    try:
        package_version = version("sim-regional-growth")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree that was never installed
        package_version = "unknown"
    return {
        "package_version": package_version,
        "code_hash": code_hash(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "mesa": version("mesa"),  # the installed distribution's version: importing Mesa takes about a second
        "numpy": numpy.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
