"""Every figure of a report, in report order, drawn by :func:`make_figures` (in parallel processes).

The figure makers live in one module per family: :mod:`~sim.report.figures_time` (national
metrics over time and the trade-off), :mod:`~sim.report.figures_maps` (tile-grid maps) and
:mod:`~sim.report.figures_provinces` (rankings and strategy adoption); what they share is
:mod:`~sim.report.figures_common`. All draw with matplotlib's object-oriented API (no pyplot, no
global backend) under :data:`sim.plotting.FIGURE_STYLE`; colours come from :mod:`sim.plotting`
(scenarios Okabe-Ito, strategies as in the dashboard).

:func:`figure_jobs` splits the work into one job per figure file (each map and each bump chart on
its own); :func:`run_jobs` runs them, with any extra job such as the scorecard, in forked worker
processes (each job's figures drawn once, in one process; the longest jobs handed out first) and
returns the results in job order.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

from sim.plotting import FIGURE_STYLE
from sim.report.figure_files import SAVE_OPTIONS, FigureCache, FigureFile, collect_figures
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
    # no cyclic garbage collection while a figure is drawn: it would walk the figure's thousands of
    # young objects again and again (most of them live until the figure is saved); the figure's
    # garbage is collected once, when it is done, from the youngest generation, where it all still is
    collecting = gc.isenabled()
    gc.disable()
    try:
        with mpl.rc_context(FIGURE_STYLE):
            result = job()
    except Exception as exc:  # one broken figure must not lose the rest of the report
        log.warning("%s failed: %s", name, exc, exc_info=True)
        return None, [], f"{type(exc).__name__}: {exc}"
    finally:
        if collecting:
            gc.enable()
            gc.collect(0)
    added = list(notes[before:]) if notes is not None else []
    if cache is not None and isinstance(folder, Path) and isinstance(result, list):
        cache.put(name, result, added)
    return result, added, None


JOB_COSTS: dict[str, float] = {
    "scorecard": 2.5, "maps": 0.5, "theil": 0.6, "tradeoff": 0.45, "gdp": 0.4, "research": 0.4,
    "rankings": 0.27, "gini": 0.22, "interior_share": 0.22, "adoption": 0.15,
}
"""Rough CPU seconds of each kind of job (the name before any " (...)") on the 210-run strategy
comparison, measured on 2 cores: the order in which :func:`run_jobs` hands jobs to the workers."""


def dispatch_order(names: list[str]) -> list[int]:
    """The indices of the jobs ``names`` in the order the workers get them: the longest first (by
    :data:`JOB_COSTS`; an unknown kind counts as 0.3 s), in report order among equals. Handed out in
    that order to whichever worker is free, the jobs end at about the same time on every worker."""
    costs = [JOB_COSTS.get(name.split(" (")[0], 0.3) for name in names]
    return sorted(range(len(names)), key=lambda i: -costs[i])


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
    available), handed out longest first (:func:`dispatch_order`); calls ``meanwhile()`` in this
    process while they run. Figure jobs found in ``cache`` are copied from it rather than drawn.

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
        # the objects of this process (the report data, matplotlib, pandas...) out of the collector's
        # reach while the workers are forked: their collections then never walk (and so never copy) them
        freeze = gc.get_freeze_count() == 0
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            if freeze:
                gc.freeze()
            try:
                # every worker forked at the first; the longest jobs first
                futures = {i: pool.submit(_run, i) for i in dispatch_order([name for name, _ in jobs])}
            finally:
                if freeze:
                    gc.unfreeze()
            try:
                extra = meanwhile() if meanwhile is not None else None
                results = [futures[i].result() for i in range(len(jobs))]
            except BaseException:
                for future in futures.values():
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
