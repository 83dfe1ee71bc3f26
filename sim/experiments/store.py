"""Results folders: Parquet tables written part by part, atomically, plus a manifest.

Layout of a results folder::

    manifest.json           what was run: scenario(s) as resolved, seeds, versions, git commit
    runs/part-<id>.parquet     one row per run (status, seed, parameters)
    national/part-<id>.parquet one row per run and year
    province/part-<id>.parquet one row per run, year and province
    events/part-<id>.parquet   one row per event that fired

``pandas.read_parquet(folder / "province")`` reads every part of a table. A part is written to a
temporary name in the same folder and renamed into place, so a crash never leaves a half-written
part that is read as data (readers skip names starting with ``.`` or ``_``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ResultsError

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
    """Write one part of ``table`` atomically; returns its path."""
    directory = Path(folder) / table
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"part-{part}.parquet"
    tmp = directory / f".part-{part}.parquet.tmp-{os.getpid()}"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(Path(folder) / MANIFEST, json.dumps(manifest, indent=2, default=str).encode())


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a results folder.

    Raises:
        ResultsError: when ``folder`` is not a results folder.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    if not path.exists():
        raise ResultsError(f"{folder}: not a results folder (no {MANIFEST})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: unreadable manifest ({exc})") from None


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
    if not (folder.exists() and any(folder.iterdir())):
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


def done_runs(folder: str | Path) -> set[int]:
    """Ids of the runs that have a row in ``runs`` (done, whether ok or failed)."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    done: set[int] = set()
    for part in sorted(part_ids(folder, "runs")):
        table = pq.read_table(folder / "runs" / f"part-{part}.parquet", columns=["run_id"])
        done.update(int(v) for v in table.column("run_id").to_numpy())
    return done


def clean_partial(folder: str | Path, tables: tuple[str, ...] = TABLES) -> int:
    """Remove temporary files and data parts whose ``runs`` part is missing; returns how many.

    A block's data parts are written before its ``runs`` part: data parts without one are left by a
    crash between the two writes.
    """
    folder = Path(folder)
    committed = part_ids(folder, "runs")
    removed = 0
    for table in dict.fromkeys(("runs", *tables)):
        directory = folder / table
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            orphan = path.name.startswith(".part-") or (
                table != "runs" and path.name.startswith("part-") and path.name.endswith(".parquet")
                and path.name[len("part-"):-len(".parquet")] not in committed)
            if orphan:
                path.unlink()
                removed += 1
    for path in folder.glob(".manifest.json.tmp-*"):
        path.unlink()
    return removed


def count_runs(folder: str | Path) -> tuple[int, int]:
    """Rows of the ``runs`` table and how many of them failed (reads only the ``status`` column)."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    done = failed = 0
    for part in sorted(part_ids(folder, "runs")):
        status = pq.read_table(folder / "runs" / f"part-{part}.parquet", columns=["status"]).column("status")
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
    """Versions, git commit and time, for manifests."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import mesa
    import numpy

    try:
        package_version = version("sim-regional-growth")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree that was never installed
        package_version = "unknown"
    return {
        "package_version": package_version,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
