"""Parts of a results folder: written atomically, committed, verified before a resume trusts them.

Each table (``runs``, ``national``, ...) is a folder of Parquet files, each holding the rows of a
contiguous range of *units* (runs, or design points)::

    runs/part-000040.parquet           a block as a worker wrote it: units 40 .. (the block's end)
    runs/_commit-000040.json           its commit: what the block's files are
    runs/part-000000-000210.parquet    a compacted chunk: units 0 .. 209 (sim.experiments.compact)
    runs/_commit-000000-000210.json    its commit
    national/part-000040.parquet ...   the same ranges in every data table
    .part-....tmp-<host>-<pid>-...     being written

Parquet readers (``pd.read_parquet(folder / "runs")``, ``pyarrow.dataset``) skip names starting
with ``.`` or ``_``: they see the parts only.

* **Atomic.** Every file is written under a temporary name, fsynced, then renamed into place.
* **Commit.** A range's parts are written first, its commit last: a small JSON file recording the
  range and, for ``runs`` and each data table the recorder records, the file with its row count,
  size and SHA-256 (or ``null``: the range has no rows in that table). A unit is done exactly when
  a valid commit covers it.
* **Verify.** A commit is valid when every file it names exists with the recorded size and row
  count (from the Parquet footer) and, when ``deep``, the recorded SHA-256, and the ``runs`` part
  holds exactly the run ids of its range. :func:`scan` sorts the commits into valid and rejected;
  :func:`clean` removes rejected commits, parts no valid commit names, and temporary files, so that
  a resume reruns exactly what is missing or damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas and pyarrow are imported where they are used: checking a folder needs neither
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "FORMAT",
    "Commit",
    "FolderState",
    "PartError",
    "clean",
    "commit_name",
    "count_status",
    "file_entry",
    "part_name",
    "read_part",
    "scan",
    "write_block",
    "write_commit",
    "write_options",
    "write_table_atomic",
]

FORMAT = 1
"""Version of the parts and commits layout (``parts_format`` in the manifest)."""
_PART = re.compile(r"part-(\d+)(?:-(\d+))?\.parquet")
_COMMIT = re.compile(r"_commit-(\d+)(?:-(\d+))?\.json")


class PartError(Exception):
    """A part or commit is missing, unreadable or not what its commit records."""


def part_name(start: int, width: int, stop: int | None = None) -> str:
    """``part-<start>.parquet`` (a block) or ``part-<start>-<stop>.parquet`` (a compacted chunk)."""
    if stop is None:
        return f"part-{start:0{width}d}.parquet"
    return f"part-{start:0{width}d}-{stop:0{width}d}.parquet"


def commit_name(part: str) -> str:
    """The commit file of a part: ``part-000040.parquet`` -> ``_commit-000040.json``."""
    return "_commit-" + part[len("part-"):-len(".parquet")] + ".json"


def temporary_name(path: Path) -> Path:
    """A temporary file beside ``path``, unique across hosts and processes (starts with '.')."""
    return path.with_name(f".{path.name}.tmp-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _write_bytes_atomic(path: Path, payload) -> None:
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_options(schema: pa.Schema) -> dict[str, Any]:
    """Parquet writer options: page checksums; dictionary encoding for text columns only (for numbers it
    costs three times the writing time of a part and saves nothing after compression)."""
    import pyarrow as pa

    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return {"write_page_checksum": True, "use_dictionary": text}


def write_table_atomic(path: Path, table: pa.Table) -> dict[str, Any]:
    """Write ``table`` to ``path`` (:func:`write_options`): temporary name, fsync, rename. Returns its entry."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **write_options(table.schema))
    payload = sink.getvalue()
    _write_bytes_atomic(path, memoryview(payload))
    return {"file": path.name, "rows": table.num_rows, "bytes": payload.size,
            "sha256": hashlib.sha256(memoryview(payload)).hexdigest()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file, read directly (``pq.read_table`` builds a dataset: five times slower for small files)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).read(columns=columns, use_threads=False)


def file_entry(path: Path, rows: int) -> dict[str, Any]:
    """What a commit records of a file: name, rows, size and SHA-256."""
    return {"file": path.name, "rows": rows, "bytes": path.stat().st_size, "sha256": _sha256(path)}


def write_commit(folder: Path, part: str, start: int, stop: int, files: Mapping[str, dict[str, Any] | None]) -> Commit:
    """Commit units ``start`` .. ``stop - 1``: ``runs/_commit-<...>.json`` naming every file (``runs`` among them)."""
    commit = {"format": FORMAT, "units": [start, stop], "tables": dict(files)}
    _write_bytes_atomic(Path(folder) / "runs" / commit_name(part), json.dumps(commit).encode())
    return Commit(commit_name(part), start, stop, dict(files))


def write_block(folder: str | Path, tables: Mapping[str, pd.DataFrame], start: int, stop: int, width: int,
                data_tables: Iterable[str]) -> Commit:
    """Write the parts of units ``start`` .. ``stop - 1`` (data tables, ``runs``), then their commit.

    Args:
        folder: the results folder.
        tables: ``runs`` and the data tables that have rows.
        start, stop: the block's range of units.
        width: digits of the zero-padded part names.
        data_tables: every data table the recorder records (a missing one has no rows in the block).

    Returns:
        The block's :class:`Commit`.
    """
    from sim.experiments.columns import to_arrow

    folder = Path(folder)
    name = part_name(start, width)
    files: dict[str, dict[str, Any] | None] = {}
    for table in (*data_tables, "runs"):
        frame = tables.get(table)
        if frame is None or (len(frame) == 0 and table != "runs"):
            files[table] = None
            continue
        directory = folder / table
        directory.mkdir(parents=True, exist_ok=True)
        files[table] = write_table_atomic(directory / name, to_arrow(frame))
    return write_commit(folder, name, start, stop, files)


# --------------------------------------------------------------------------------------
# Commits


@dataclass
class Commit:
    """A commit: a range of units and the file of each table that holds their rows.

    Attributes:
        name: the commit file's name (in ``runs/``).
        start, stop: the range of units.
        tables: table -> ``{"file", "rows", "bytes", "sha256"}`` (``runs`` always), or None when
            the range has no rows in that table.
    """

    name: str
    start: int
    stop: int
    tables: dict[str, dict[str, Any] | None]

    @property
    def size(self) -> int:
        """Number of units."""
        return self.stop - self.start

    @property
    def compacted(self) -> bool:
        """A compacted chunk (its name holds its range), not a block."""
        return self.name.count("-") == 2

    @property
    def runs_file(self) -> str:
        """The ``runs`` part's file name."""
        return self.tables["runs"]["file"]  # type: ignore[index]

    def files(self) -> Iterable[tuple[str, str]]:
        """``(table, file name)`` of every part of the commit."""
        for table, entry in self.tables.items():
            if entry is not None:
                yield table, entry["file"]

    def bytes_of(self, table: str) -> int:
        """Size of the commit's part of ``table`` (0 when none)."""
        entry = self.tables.get(table)
        return int(entry.get("bytes") or 0) if entry else 0

    def rows_of(self, table: str) -> int:
        """Rows of the commit's part of ``table`` (0 when none)."""
        entry = self.tables.get(table)
        return int(entry.get("rows") or 0) if entry else 0


def read_commit(folder: Path, name: str) -> Commit:
    """The commit ``runs/<name>``; :class:`PartError` when it is unreadable or malformed."""
    try:
        data = json.loads((folder / "runs" / name).read_bytes())
        start, stop = (int(v) for v in data["units"])
        tables = {str(k): (dict(v) if v is not None else None) for k, v in data["tables"].items()}
        for entry in tables.values():
            if entry is not None and not (isinstance(entry.get("file"), str) and _PART.fullmatch(entry["file"])):
                raise ValueError(f"bad file entry {entry!r}")
        if tables.get("runs") is None:
            raise ValueError("no runs part")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PartError(f"runs/{name}: unreadable commit ({exc})") from None
    return Commit(name, start, stop, tables)


def verify_commit(folder: Path, commit: Commit, data_tables: Iterable[str], deep: bool = True) -> None:
    """Raise :class:`PartError` unless every part of the commit is there and as recorded.

    Args:
        folder: the results folder.
        commit: from :func:`read_commit`.
        data_tables: the data tables the recorder records (each must be in the commit).
        deep: also check every part's SHA-256 and the run ids of the ``runs`` part (reads every
            byte); otherwise sizes and footers only.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    for table in (*data_tables, "runs"):
        if table not in commit.tables:
            raise PartError(f"runs/{commit.name}: does not record table {table}")
        entry = commit.tables[table]
        if entry is None:
            continue
        path = folder / table / entry["file"]
        where = f"{table}/{entry['file']}"
        try:
            size = path.stat().st_size
        except OSError:
            raise PartError(f"{where}: missing") from None
        if size != entry.get("bytes"):
            raise PartError(f"{where}: {size} bytes, {entry.get('bytes')} were written")
        if deep and _sha256(path) != entry.get("sha256"):
            raise PartError(f"{where}: content differs from what was written (SHA-256)")
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException) as exc:
            raise PartError(f"{where}: unreadable ({exc})") from None
        if rows != entry.get("rows"):
            raise PartError(f"{where}: {rows} rows, {entry.get('rows')} were written")
    if deep:
        try:
            ids = read_part(folder / "runs" / commit.runs_file, ["run_id"]).column("run_id").to_pylist()
        except (OSError, pa.ArrowException, KeyError) as exc:
            raise PartError(f"runs/{commit.runs_file}: unreadable ({exc})") from None
        if sorted(ids) != list(range(commit.start, commit.stop)):
            raise PartError(f"runs/{commit.runs_file}: run ids are not those of units {commit.start}..{commit.stop - 1}")


# --------------------------------------------------------------------------------------
# The state of a folder


@dataclass
class FolderState:
    """The commits of a results folder, sorted into valid (``commits``) and not.

    Attributes:
        commits: valid, non-overlapping commits, by range.
        done: the units they cover.
        rejected: ``(commit file, reason, (start, stop))`` of damaged commits (their units are rerun).
        superseded: valid commits whose units a larger valid commit covers (left by a compaction
            that stopped before removing them).
    """

    commits: list[Commit] = field(default_factory=list)
    done: set[int] = field(default_factory=set)
    rejected: list[tuple[str, str, tuple[int, int]]] = field(default_factory=list)
    superseded: list[Commit] = field(default_factory=list)

    def repaired(self) -> int:
        """Units of damaged commits that no valid commit covers: they are rerun."""
        lost: set[int] = set()
        for _name, _reason, (start, stop) in self.rejected:
            lost.update(u for u in range(start, stop) if u not in self.done)
        return len(lost)


def _implied_range(name: str, runs_per_part: int, total: int) -> tuple[int, int]:
    """The range of an unreadable commit, from its name (a block ends at the next multiple of ``runs_per_part``)."""
    match = _COMMIT.fullmatch(name)
    start = int(match.group(1)) if match else 0
    if match and match.group(2):
        return start, min(int(match.group(2)), total)
    return start, min(total, (start // runs_per_part + 1) * runs_per_part)


def scan(folder: str | Path, data_tables: Iterable[str], *, deep: bool, runs_per_part: int = 1,
         units_total: int | None = None) -> FolderState:
    """Read and verify every commit of ``folder``; see :class:`FolderState`."""
    folder = Path(folder)
    data_tables = tuple(data_tables)
    state = FolderState()
    directory = folder / "runs"
    if not directory.is_dir():
        return state
    valid: list[Commit] = []
    total = units_total if units_total is not None else 1 << 62
    for path in sorted(directory.iterdir()):
        if not _COMMIT.fullmatch(path.name):
            continue
        units = _implied_range(path.name, max(1, runs_per_part), total)
        try:
            commit = read_commit(folder, path.name)
            if not 0 <= commit.start < commit.stop <= total:
                raise PartError(f"runs/{path.name}: units {commit.start}..{commit.stop - 1} outside the run list")
            units = (commit.start, commit.stop)
            verify_commit(folder, commit, data_tables, deep=deep)
        except PartError as exc:
            state.rejected.append((path.name, str(exc), units))
            continue
        valid.append(commit)
    valid.sort(key=lambda c: (-c.size, c.start))
    for commit in valid:
        if any(u in state.done for u in range(commit.start, commit.stop)):
            state.superseded.append(commit)
            continue
        state.done.update(range(commit.start, commit.stop))
        state.commits.append(commit)
    state.commits.sort(key=lambda c: c.start)
    return state


def clean(folder: str | Path, state: FolderState, tables: Iterable[str]) -> int:
    """Remove what :func:`scan` did not accept; returns the number of files removed.

    Rejected and superseded commits go first (their units are no longer done), then parts that no
    valid commit names, then temporary files (of every table and of the manifest).
    """
    folder = Path(folder)
    keep: dict[str, set[str]] = {}
    for commit in state.commits:
        for table, name in commit.files():
            keep.setdefault(table, set()).add(name)
    removed = 0
    for name in [*(n for n, _r, _u in state.rejected), *(c.name for c in state.superseded)]:
        path = folder / "runs" / name
        if path.exists():
            path.unlink()
            removed += 1
    for table in dict.fromkeys(("runs", *tables)):
        directory = folder / table
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            stray = path.name.startswith((".part-", "._commit-")) or (
                _PART.fullmatch(path.name) is not None and path.name not in keep.get(table, set()))
            if stray and path.is_file():
                path.unlink()
                removed += 1
    for path in folder.glob(".manifest.json.tmp-*"):
        path.unlink()
    return removed


def count_status(folder: str | Path, commits: Iterable[Commit]) -> tuple[int, int]:
    """Rows of the committed ``runs`` parts and how many of them failed (reads the ``status`` column)."""
    folder = Path(folder)
    done = failed = 0
    for commit in commits:
        status = read_part(folder / "runs" / commit.runs_file, ["status"]).column("status")
        done += len(status)
        failed += len(status) - status.to_pylist().count("ok")
    return done, failed
