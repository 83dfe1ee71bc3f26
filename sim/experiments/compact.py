"""Compaction: the many block parts of a batch rewritten as a few files per table.

A batch writes one part per block of runs and table (so that a kill loses at most the blocks in
flight). Committed blocks are grouped into *chunks* of consecutive units and each chunk is
rewritten as one file per table, ``part-<start>-<stop>.parquet`` (rows in unit order, the first
block's schema and pandas metadata, so ``pd.read_parquet`` gives the same table).

:class:`Compactor` plans chunks while the batch runs: a chunk is ready once its consecutive blocks
hold about 1/:data:`CHUNKS_TARGET` of the batch's expected bytes (at least :data:`MIN_CHUNK_BYTES`,
at most :data:`CHUNK_BYTES` in its largest table); the runner sends it to a worker as a task among
the runs, so compaction overlaps the runs and only the last chunk is left for the end. A compacted chunk is never rewritten. A batch
thus ends with about :data:`CHUNKS_TARGET` files per table at most (fewer when small; more only
beyond ``CHUNKS_TARGET x CHUNK_BYTES`` of data): the number of files grows with the volume of
data, not with the number of runs.

Crash safety, in the order of the writes: the chunk's files (each atomic), then its commit, then
the removal of the blocks' commits and then of their parts. A crash before the commit leaves files
no commit names (removed on resume); after it, blocks that the chunk supersedes (removed on
resume): rows are never lost, nor counted twice by a resume.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiments.parts import (
    Commit,
    file_entry,
    part_name,
    read_part,
    temporary_name,
    write_commit,
    write_options,
)

log = logging.getLogger(__name__)

__all__ = [
    "CHUNKS_TARGET",
    "CHUNK_BYTES",
    "MIN_CHUNK_BYTES",
    "Compactor",
    "compact",
    "compact_chunk",
    "compact_task",
    "plan_chunks",
]

CHUNK_BYTES = 256 * 2**20
"""Largest chunk: Parquet bytes of its largest table (the files a chunk replaces)."""
MIN_CHUNK_BYTES = 2**20
"""Smallest chunk compacted while the batch runs (the rest is compacted at the end)."""
CHUNKS_TARGET = 8
"""Chunks (files per table) a batch aims at."""
ROW_GROUP_ROWS = 16_384
"""Rows per row group of a compacted file (and most rows held in memory while compacting)."""


def plan_chunks(commits: Iterable[Commit], tables: Iterable[str], max_bytes: int | None = None) -> list[list[Commit]]:
    """Group commits (sorted by range) into chunks of consecutive units; only chunks of two or more.

    ``max_bytes`` (default :data:`CHUNK_BYTES`) bounds the Parquet bytes of a chunk's largest table.
    """
    tables = ("runs", *(t for t in tables if t != "runs"))
    max_bytes = CHUNK_BYTES if max_bytes is None else max_bytes
    chunks: list[list[Commit]] = []
    current: list[Commit] = []
    sizes = dict.fromkeys(tables, 0)
    for commit in commits:
        too_big = any(sizes[t] + commit.bytes_of(t) > max_bytes for t in tables)
        if current and (commit.start != current[-1].stop or too_big):
            chunks.append(current)
            current, sizes = [], dict.fromkeys(tables, 0)
        current.append(commit)
        for t in tables:
            sizes[t] += commit.bytes_of(t)
    if current:
        chunks.append(current)
    return [chunk for chunk in chunks if len(chunk) > 1]


def _merge(sources: list[Path], dest: Path) -> int:
    """Rewrite ``sources`` (in order) as one file ``dest``: temporary name, fsync, rename. Returns rows."""
    schema = pq.read_schema(sources[0])
    tmp = temporary_name(dest)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema, **write_options(schema)) as writer:
            pending: list[pa.Table] = []
            pending_rows = 0
            for source in sources:
                table = read_part(source)
                if not table.schema.equals(schema, check_metadata=False):
                    table = table.cast(schema)
                table = table.replace_schema_metadata(schema.metadata)
                pending.append(table)
                pending_rows += table.num_rows
                if pending_rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                    rows += pending_rows
                    pending, pending_rows = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                rows += pending_rows
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


def compact_chunk(folder: str | Path, chunk: list[Commit], tables: Iterable[str], width: int) -> Commit:
    """Rewrite a chunk of commits as one file per table and commit it; returns the new commit."""
    folder = Path(folder)
    start, stop = chunk[0].start, chunk[-1].stop
    name = part_name(start, width, stop)
    written: list[Path] = []
    files: dict[str, dict | None] = {}
    try:
        for table in (*tables, "runs"):
            sources = [folder / table / c.tables[table]["file"] for c in chunk if c.tables.get(table)]
            if not sources:
                files[table] = None
                continue
            dest = folder / table / name
            rows = _merge(sources, dest)
            written.append(dest)
            files[table] = file_entry(dest, rows)
        commit = write_commit(folder, name, start, stop, files)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for old in chunk:  # the chunk is committed: the blocks' commits go first, then their parts
        (folder / "runs" / old.name).unlink(missing_ok=True)
    for old in chunk:
        for table, file in old.files():
            (folder / table / file).unlink(missing_ok=True)
    return commit


def compact(folder: str | Path, commits: list[Commit], tables: Iterable[str], width: int,
            max_bytes: int | None = None) -> list[Commit]:
    """Compact every chunk of :func:`plan_chunks`; returns the commits afterwards (by range).

    A chunk that cannot be compacted (a part whose columns changed type) is left as blocks.
    """
    tables = tuple(t for t in tables if t != "runs")
    replaced: dict[int, Commit] = {}
    merged: set[str] = set()
    for chunk in plan_chunks(commits, tables, max_bytes):
        try:
            new = compact_chunk(folder, chunk, tables, width)
        except (pa.ArrowException, ValueError) as exc:
            log.warning("left %d parts of units %d..%d as they are: %s", len(chunk), chunk[0].start,
                        chunk[-1].stop - 1, exc)
            continue
        replaced[new.start] = new
        merged.update(c.name for c in chunk)
    out = [c for c in commits if c.name not in merged] + list(replaced.values())
    return sorted(out, key=lambda c: c.start)


class Compactor:
    """Plans chunks while an ensemble runs (see the module).

    Args:
        tables: the recorder's data tables.
        units_total: units of the run list (to estimate the batch's bytes from its first blocks).
        existing: commits already in the folder (a resumed ensemble).
        max_bytes: the largest chunk (default :data:`CHUNK_BYTES`).
    """

    def __init__(self, tables: Iterable[str], units_total: int, existing: Iterable[Commit] = (),
                 max_bytes: int | None = None) -> None:
        self.tables = ("runs", *(t for t in tables if t != "runs"))
        self.units_total = units_total
        self.max_bytes = CHUNK_BYTES if max_bytes is None else max_bytes
        self.target: int | None = None
        self.free: dict[int, Commit] = {}
        self.queue: list[list[Commit]] = []
        for commit in existing:
            self.add(commit)

    def _bytes(self, commit: Commit) -> int:
        return max(commit.bytes_of(t) for t in self.tables)

    def add(self, commit: Commit) -> None:
        """A commit is done (a block, or a compacted chunk): queue the chunks that are now ready."""
        if self.target is None and commit.size:
            expected = self._bytes(commit) / commit.size * self.units_total
            self.target = int(min(self.max_bytes, max(MIN_CHUNK_BYTES, expected / CHUNKS_TARGET)))
        if commit.compacted or (self.target is not None and self._bytes(commit) >= self.target):
            return  # a compacted chunk, or a block big enough: sealed (never rewritten again)
        self.free[commit.start] = commit
        group: list[Commit] = []
        for start in sorted(self.free):
            current = self.free[start]
            if group and current.start != group[-1].stop:
                group = []
            group.append(current)
            if len(group) > 1 and sum(self._bytes(c) for c in group) >= (self.target or 0):
                for member in group:
                    del self.free[member.start]
                self.queue.append(group)
                group = []

    def take(self) -> list[Commit] | None:
        """A ready chunk, or None."""
        return self.queue.pop(0) if self.queue else None

    def remaining(self) -> list[list[Commit]]:
        """The chunks of what is left uncompacted, for the end of the ensemble."""
        chunks, self.queue = self.queue, []
        free = sorted(self.free.values(), key=lambda c: c.start)
        self.free = {}
        return chunks + plan_chunks(free, self.tables, self.max_bytes)


def compact_task(folder: str, chunk: list[Commit], tables: tuple[str, ...], width: int) -> Commit | None:
    """Compact one chunk on a worker; None when it cannot be (logged; its blocks stay as they are)."""
    try:
        return compact_chunk(folder, chunk, tables, width)
    except (pa.ArrowException, ValueError, OSError) as exc:
        log.warning("left %d parts of units %d..%d as they are: %s", len(chunk), chunk[0].start,
                    chunk[-1].stop - 1, exc)
        return None
