"""Writing a report: :func:`write_report` (figures, ``report.html``, ``report.md``) and :func:`build_report`."""

from __future__ import annotations

import logging
from pathlib import Path

from sim.report.data import ReportData, load_report_data

log = logging.getLogger(__name__)


def write_report(data: ReportData, out: str | Path | None = None) -> Path:
    """Write the figures, ``report.html`` and ``report.md`` of ``data`` into ``out``; returns ``out``.

    ``out`` defaults to ``<results>/report``. Figures go to ``out/figures`` as PNG (150 dpi) and
    SVG; figures an earlier build left there are removed first, so the folder matches the report.
    """
    # the drawing modules import matplotlib and scipy: only when a report is written
    from sim.report.content import ReportContext
    from sim.report.figures import make_figures
    from sim.report.html import render_html
    from sim.report.markdown import render_markdown
    from sim.report.tables import comparison_table, end_year_table, events_table

    out = Path(out) if out is not None else data.folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    figure_dir = out / "figures"
    if figure_dir.is_dir():
        for old in list(figure_dir.glob("*.png")) + list(figure_dir.glob("*.svg")):
            old.unlink()
    figure_dir.mkdir(exist_ok=True)
    made = make_figures(data, figure_dir)
    from sim.report.costs import cost_table
    from sim.report.summary import strategy_sentences, summary_table

    costs = cost_table(data)
    context = ReportContext(data=data, figures=made, end_year=end_year_table(data),
                            comparison=comparison_table(data), events=events_table(data), costs=costs,
                            sentences=strategy_sentences(data, costs))
    (out / "report.html").write_text(render_html(context), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(context), encoding="utf-8")
    summary_table(data).to_csv(out / "summary_effects.csv", index=False)
    costs.to_csv(out / "costs.csv", index=False)
    log.info("report written to %s (%d figures)", out, len(made))
    return out


def build_report(results: str | Path, out: str | Path | None = None) -> Path:
    """``build_report(results)`` -> the report folder (default ``<results>/report``).

    Reads the results folder, writes PNG and SVG figures under ``figures/``, ``report.html`` (one
    self-contained file: figures embedded, opens offline) and ``report.md``. A partial folder is
    reported on as far as it goes, with the missing and failed runs listed at the top.

    Folders written by ``sim validate`` and ``sim sensitivity`` get a report of their figures and
    statistics (:mod:`sim.report.analysis`); robustness experiments a report of which effects keep
    their sign across conditions (:mod:`sim.report.robustness`).

    Raises:
        ResultsError: when ``results`` is not a results folder or holds no complete run.
    """
    from sim.report.analysis import build_analysis_report, is_analysis_folder
    from sim.report.robustness import build_robustness_report, is_robustness_folder

    if is_analysis_folder(results):
        return build_analysis_report(results, out)
    if is_robustness_folder(results):
        return build_robustness_report(results, out)
    return write_report(load_report_data(results), out)
