"""Every figure of a report, in report order, drawn by :func:`make_figures` (in parallel processes).

The figure makers live in one module per family: :mod:`~sim.report.figures_time` (national
metrics over time and the trade-off), :mod:`~sim.report.figures_maps` (tile-grid maps) and
:mod:`~sim.report.figures_provinces` (rankings and strategy adoption); what they share is
:mod:`~sim.report.figures_common`. All draw with matplotlib's object-oriented API (no pyplot, no
global backend) under :data:`sim.plotting.FIGURE_STYLE`; colours come from :mod:`sim.plotting`
(scenarios Okabe-Ito, strategies as in the dashboard).

:func:`figure_jobs` splits the work into one job per figure file (each map and each bump chart on
its own); :func:`run_jobs` runs them, with any extra job such as the scorecard, in forked worker
processes (each job's figures drawn once, in one process) and returns the results in job order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

from sim.plotting import FIGURE_STYLE
from sim.report.figures_common import SAVE_OPTIONS, FigureFile
from sim.report.figures_maps import MAP_KINDS, figure_map, figure_maps
from sim.report.figures_provinces import figure_adoption, figure_rankings, ranking_groups
from sim.report.figures_time import (
    figure_gdp,
    figure_gini,
    figure_interior_share,
    figure_research,
    figure_theil,
    figure_tradeoff,
)

if TYPE_CHECKING:
    from sim.report.data import ReportData

log = logging.getLogger(__name__)

FIGURES: tuple[Callable[[ReportData, Path], list[FigureFile]], ...] = (
    figure_gini, figure_theil, figure_gdp, figure_research, figure_interior_share, figure_tradeoff,
    figure_maps, figure_rankings, figure_adoption,
)
"""Every figure maker, in report order."""


Job = Callable[[], Any]


def figure_jobs(data: ReportData, folder: Path) -> list[tuple[str, Job]]:
    """(name, job) pairs in report order: one per figure maker of :data:`FIGURES`, the maps and the
    rankings split into one job per file. A job returns its list of :class:`FigureFile`."""
    jobs: list[tuple[str, Job]] = []
    for maker in FIGURES:
        if maker is figure_maps:
            jobs += [(f"maps ({stem})", partial(figure_map, data, folder, stem)) for _, _, stem, _ in MAP_KINDS]
        elif maker is figure_rankings:
            jobs += [(f"rankings ({g})", partial(figure_rankings, data, folder, only=[g]))
                     for g in ranking_groups(data)]
        else:
            jobs.append((maker.__name__.removeprefix("figure_"), partial(maker, data, folder)))
    return jobs


class FigureCache:
    """Figures already drawn from the same results by the same code, kept in ``<results>/.report-cache/``.

    A figure depends only on the results and the code, so a report built again from unchanged results
    with unchanged code copies its figures from here instead of drawing them again. The key of a
    figure job is the hash of the code (:func:`sim.experiments.identity.code_hash`), the manifest,
    the name, size and modification time of every table part, whether SVG is written, and the job's
    name; entries of any other key are removed when a report is built. Nothing is cached when the
    results folder cannot be written.
    """

    def __init__(self, results: Path, svg: bool) -> None:
        from sim.experiments.identity import code_hash

        self.folder = results / ".report-cache" / "figures"
        digest = hashlib.sha256(code_hash().encode())
        digest.update((results / "manifest.json").read_bytes() if (results / "manifest.json").is_file() else b"")
        for table in ("national", "province", "events", "runs"):
            for part in sorted((results / table).glob("*.parquet")) if (results / table).is_dir() else []:
                stat = part.stat()
                digest.update(f"{table}/{part.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        digest.update(b"svg" if svg else b"png")
        self.base = digest.hexdigest()[:16]

    def _key(self, name: str) -> str:
        return f"{self.base}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"

    def prune(self) -> None:
        """Remove the entries of other results or other code."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if not path.name.startswith(self.base):
                    path.unlink(missing_ok=True)

    def get(self, name: str, folder: Path) -> tuple[list[FigureFile], list[str]] | None:
        """The figures of job ``name`` copied into ``folder`` and the notes it made, or None when not cached."""
        key = self._key(name)
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            files = []
            for record in entry["figures"]:
                paths = {}
                for kind in ("png", "svg"):
                    if record[kind] is not None:
                        paths[kind] = folder / record[kind]
                        shutil.copyfile(self.folder / f"{key}-{record[kind]}", paths[kind])
                files.append(FigureFile(record["name"], record["section"], record["title"], record["caption"],
                                        paths["png"], paths.get("svg")))
            return files, list(entry["notes"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, name: str, files: list[FigureFile], notes: list[str]) -> None:
        """Keep the figures of job ``name`` (quietly nothing when the folder cannot be written)."""
        key = self._key(name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            records = []
            for f in files:
                for path in (f.png, f.svg):
                    if path is not None:
                        shutil.copyfile(path, self.folder / f"{key}-{path.name}")
                records.append({"name": f.name, "section": f.section, "title": f.title, "caption": f.caption,
                                "png": f.png.name, "svg": f.svg.name if f.svg is not None else None})
            temporary = self.folder / f".{key}.json.{os.getpid()}"
            temporary.write_text(json.dumps({"figures": records, "notes": notes}), encoding="utf-8")
            os.replace(temporary, self.folder / f"{key}.json")  # the entry exists only once its files do
        except OSError as exc:
            log.info("figure cache not written (%s)", exc)


_JOBS: list[tuple[str, Job]] = []
"""The jobs of the current :func:`run_jobs` call, inherited by its forked workers."""
_CACHE: list[FigureCache | None] = [None]
"""The figure cache of the current :func:`run_jobs` call (figure jobs only)."""


def _run(index: int) -> tuple[Any, list[str], str | None]:
    """Run job ``index`` (in a worker, or in-process): (result, notes it added, error text or None)."""
    name, job = _JOBS[index]
    data = getattr(job, "args", (None,))[0]
    notes = getattr(data, "notes", None)
    cache = _CACHE[0] if notes is not None else None  # figure jobs take the report data first
    folder = getattr(job, "args", (None, None))[1] if cache is not None else None
    if cache is not None and isinstance(folder, Path):
        hit = cache.get(name, folder)
        if hit is not None:
            return hit[0], hit[1], None
    before = len(notes) if notes is not None else 0
    try:
        with mpl.rc_context(FIGURE_STYLE):
            result = job()
    except Exception as exc:  # one broken figure must not lose the rest of the report
        log.warning("%s failed: %s", name, exc, exc_info=True)
        return None, [], f"{type(exc).__name__}: {exc}"
    added = list(notes[before:]) if notes is not None else []
    if cache is not None and isinstance(folder, Path) and isinstance(result, list):
        cache.put(name, result, added)
    return result, added, None


def default_workers() -> int:
    """Worker processes for the figures: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def run_jobs(jobs: list[tuple[str, Job]], workers: int | None = None,
             meanwhile: Callable[[], Any] | None = None,
             cache: FigureCache | None = None) -> tuple[list[tuple[Any, list[str], str | None]], Any]:
    """Run ``jobs`` in forked worker processes (in this process when ``workers`` is 1 or fork is not
    available); calls ``meanwhile()`` in this process while they run. Figure jobs found in ``cache``
    are copied from it rather than drawn.

    Returns:
        one (result, notes added, error or None) per job, in job order; and what ``meanwhile`` returned.
    """
    global _JOBS
    workers = default_workers() if workers is None else max(1, workers)
    forkable = "fork" in multiprocessing.get_all_start_methods()
    _JOBS = list(jobs)
    _CACHE[0] = cache
    if cache is not None:
        cache.prune()
    try:
        if workers == 1 or len(jobs) < 2 or not forkable:
            extra = meanwhile() if meanwhile is not None else None
            return [_run(i) for i in range(len(jobs))], extra
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            futures = [pool.submit(_run, i) for i in range(len(jobs))]
            try:
                extra = meanwhile() if meanwhile is not None else None
                results = [f.result() for f in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
                raise
        return results, extra
    finally:
        _JOBS = []
        _CACHE[0] = None


def make_figures(data: ReportData, folder: Path, *, svg: bool = False, workers: int | None = 1) -> list[FigureFile]:
    """Draw every figure of ``data`` into ``folder`` (PNG; SVG too with ``svg``); a figure that fails is
    noted in ``data.notes``, not fatal."""
    SAVE_OPTIONS["svg"] = svg
    jobs = figure_jobs(data, folder)
    results, _ = run_jobs(jobs, workers)
    return collect_figures(data, jobs, results)


def collect_figures(data: ReportData, jobs: list[tuple[str, Job]],
                    results: list[tuple[Any, list[str], str | None]]) -> list[FigureFile]:
    """The figures of ``results`` in job order; notes and failures added to ``data.notes`` (once each)."""
    made: list[FigureFile] = []
    for (name, _), (files, notes, error) in zip(jobs, results, strict=True):
        for note in notes:
            if note not in data.notes:
                data.notes.append(note)
        if error is not None:
            data.notes.append(f"Figure {name} could not be drawn: {error}")
        made.extend(files or [])
    return made
