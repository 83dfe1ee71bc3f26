"""Writing a report: :func:`write_report` (figures, pages, CSV tables) and :func:`build_report`.

The report is built in a temporary folder next to the report folder and swapped in whole when it
is complete (:mod:`sim.report.atomic`): an exception or a kill while it is built leaves the old
report as it was. The figures are drawn in forked worker processes of a child process that loads
matplotlib while this process computes the tables (:mod:`sim.report.drawing`,
:func:`sim.report.figures.run_jobs`); the scorecard of the trust section, when it is not cached
yet, is computed in a worker too.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from sim.report.data import ReportData, load_report_data

log = logging.getLogger(__name__)

CSV_FILES = ("summary.csv", "comparisons.csv", "costs.csv", "runs.csv", "summary_effects.csv")
"""The tables written beside ``report.html``."""


def write_report(data: ReportData, out: str | Path | None = None, *, svg: bool = False,
                 scorecard: Path | str | bool | None = None, workers: int | None = None, cache: bool = True) -> Path:
    """Write the figures, ``report.html``, ``report.md`` and the CSV tables of ``data`` into ``out``.

    Args:
        out: the report folder (default ``<results>/report``); replaced whole when the new report is
            complete, left as it was when building fails.
        svg: also write every figure as SVG.
        scorecard: the trust section's scorecard (:func:`sim.report.trust.scorecard_for`): None to
            compute it for the current code (cached in the results folder), a path to read one written by
            ``sim validate --json``, False to leave it out.
        workers: processes drawing the figures (default: the CPUs available, at most 4; 1 draws them here).
        cache: copy figures drawn by an earlier build from the same results with the same code
            (:class:`sim.report.figures.FigureCache`) instead of drawing them again; False draws every one.

    Returns:
        ``out``.
    """
    from sim.report.atomic import building

    out = Path(out) if out is not None else data.folder / "report"
    with building(out) as work:
        _write(data, work, svg=svg, scorecard=scorecard, workers=workers, cache=cache)
    log.info("report written to %s", out)
    return out


def _write(data: ReportData, out: Path, *, svg: bool, scorecard: Path | str | bool | None,
           workers: int | None, cache: bool) -> None:
    # the drawing modules import matplotlib and scipy: only when a report is written
    from sim.report.content import ReportContext
    from sim.report.figure_files import SAVE_OPTIONS, FigureCache, collect_figures, figure_names
    from sim.report.html import render_html
    from sim.report.markdown import render_markdown
    from sim.report.trust import Trust, cache_path, parameter_drivers, scorecard_for

    figure_dir = out / "figures"
    figure_dir.mkdir()
    SAVE_OPTIONS["svg"] = svg
    figure_cache = FigureCache(data.folder, svg) if cache else None
    # every figure drawn before from these results by this code: copied, and matplotlib is not even loaded
    hits = None
    if figure_cache is not None:
        figure_cache.prune()
        names = figure_names(data)
        hits = [figure_cache.get(name, figure_dir) for name in names]
        if any(hit is None for hit in hits):
            hits = None
    cached = False
    if scorecard is None:
        from sim.experiments.identity import code_hash

        cached = cache_path(data.folder, code_hash()).is_file()
    # the scorecard is a job of its own when it has to be computed (a few seconds of hindcasts)
    score_job = scorecard is None and not cached
    score = [("scorecard", partial(scorecard_for, data.folder, data.manifest, None))] if score_job else []

    def make_jobs() -> list:
        from sim.report.figures import figure_jobs

        return [*score, *figure_jobs(data, figure_dir)]

    from sim.report.drawing import can_fork, start_drawing

    drawing = None
    if hits is None:
        figure_names(data)  # the notes the jobs' makers add (some bump charts left out), here too
    if hits is not None:
        jobs = [*score, *((name, None) for name in names)]
    elif workers != 1 and can_fork():
        # the figures drawn by a child that loads matplotlib while this process computes the tables
        drawing = start_drawing(make_jobs, workers, figure_cache)
    else:
        jobs = make_jobs()

    def tables() -> dict:
        from sim.report.costs import cost_table
        from sim.report.summary import strategy_sentences, summary_table
        from sim.report.tables import comparison_table, end_year_table, events_table

        costs = cost_table(data)
        return {"end_year": end_year_table(data), "comparison": comparison_table(data), "events": events_table(data),
                "costs": costs, "sentences": strategy_sentences(data, costs), "effects": summary_table(data),
                "drivers": parameter_drivers(data),
                "trust": None if score_job else scorecard_for(data.folder, data.manifest, scorecard)}

    if drawing is not None:
        try:
            computed = tables()
        except BaseException:
            drawing.stop()
            raise
        try:
            names, results = drawing.results()
            jobs = [(name, None) for name in names]
        except RuntimeError as exc:  # the child failed: the figures are drawn here
            log.warning("figures not drawn in a child process (%s); drawing them here", exc)
            from sim.report.figures import run_jobs

            jobs = make_jobs()
            results, _ = run_jobs(jobs, workers, cache=figure_cache)
    elif hits is None:
        from sim.report.figures import run_jobs

        results, computed = run_jobs(jobs, workers, meanwhile=tables, cache=figure_cache)
    else:  # only the scorecard may be left to compute: here, while nothing else runs
        computed = tables()
        results = [(files, notes, None) for files, notes in hits]
        if score_job:
            results = [(scorecard_for(data.folder, data.manifest, None), [], None), *results]
    trust = computed["trust"]
    if score_job:
        card, _, error = results[0]
        trust = card if isinstance(card, Trust) else Trust(None, "failed", problem=f"The scorecard failed: {error}")
        jobs, results = jobs[1:], results[1:]
    trust.drivers = computed["drivers"]
    made = collect_figures(data, jobs, results)
    context = ReportContext(data=data, figures=made, end_year=computed["end_year"],
                            comparison=computed["comparison"], events=computed["events"], costs=computed["costs"],
                            sentences=computed["sentences"], trust=trust)
    write_tables(context, out)
    (out / "report.html").write_text(render_html(context), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(context), encoding="utf-8")
    computed["effects"].to_csv(out / "summary_effects.csv", index=False)
    log.info("report built in %s (%d figures)", out, len(made))


def write_tables(ctx, out: Path) -> None:
    """``summary.csv``, ``comparisons.csv``, ``costs.csv`` and ``runs.csv`` beside the pages."""
    from sim.report.tables import METRICS

    end = ctx.end_year.copy()
    if not end.empty:
        end.insert(2, "label", end["metric"].map(lambda m: METRICS[m].label))
        end.insert(3, "unit", end["metric"].map(lambda m: METRICS[m].unit))
    end.rename(columns={"group": "scenario"}).to_csv(out / "summary.csv", index=False)
    ctx.comparison.rename(columns={"group": "scenario"}).to_csv(out / "comparisons.csv", index=False)
    ctx.costs.rename(columns={"group": "scenario"}).to_csv(out / "costs.csv", index=False)
    seeds = ctx.data.provenance.get("seeds")
    if seeds is not None:
        seeds.to_csv(out / "runs.csv", index=False)


def build_report(results: str | Path, out: str | Path | None = None, **options) -> Path:
    """``build_report(results)`` -> the report folder (default ``<results>/report``).

    Reads the results folder, writes PNG figures under ``figures/`` (SVG too with ``svg=True``),
    ``report.html`` (one self-contained file: figures embedded, opens offline), ``report.md`` and
    the CSV tables. A partial folder is reported on as far as it goes, with the missing and failed
    runs listed at the top. ``options`` go to :func:`write_report`.

    Folders written by ``sim validate`` and ``sim sensitivity`` get a report of their figures and
    statistics (:mod:`sim.report.analysis`).

    Raises:
        ResultsError: when ``results`` is not a results folder or holds no complete run.
    """
    from sim.report.analysis import build_analysis_report, is_analysis_folder
    from sim.report.robustness import build_robustness_report, is_robustness_folder

    if is_analysis_folder(results):
        return build_analysis_report(results, out)
    if is_robustness_folder(results):  # which effects keep their sign across conditions
        return build_robustness_report(results, out, svg=bool(options.get("svg", False)))
    return write_report(load_report_data(results), out, **options)
