"""Reports from a results folder: figures (PNG and SVG), ``report.html`` and ``report.md``.

:func:`build_report` is the one call::

    from sim.report import build_report
    build_report("results/strategy_comparison")          # -> results/strategy_comparison/report

It reads the folder with :func:`load_report_data` (what ran, which runs are missing or failed, one
colour per scenario) and writes the report with :func:`write_report`. The modules, each importing
only those listed before it:

* :mod:`~sim.report.data`: :class:`ReportData`, :class:`Completeness`, :func:`load_report_data`;
* :mod:`~sim.report.statistics`: intervals, bootstrap, rank test, multiple-comparison corrections;
* :mod:`~sim.report.tables`: the metrics and the tables built from them, and their formatting;
* :mod:`~sim.report.figures_common`, :mod:`~sim.report.figures_time`, :mod:`~sim.report.figures_maps`,
  :mod:`~sim.report.figures_provinces` and :mod:`~sim.report.figures` (every figure, in order),
  drawn with :mod:`sim.plotting`'s colours and tile-grid map, in a child process that loads them
  (:mod:`~sim.report.drawing`);
* :mod:`~sim.report.content` (what the pages say), :mod:`~sim.report.html` and
  :mod:`~sim.report.markdown` (the two pages);
* :mod:`~sim.report.build`: :func:`write_report` and :func:`build_report`;
* :mod:`~sim.report.analysis`: the simpler report of a validation or sensitivity folder.

``docs/report.md`` explains how to read every figure and table.
"""

from __future__ import annotations

from sim.plotting import scenario_colours
from sim.report.build import build_report, write_report
from sim.report.data import Completeness, ReportData, load_report_data

__all__ = [
    "Completeness",
    "ReportData",
    "build_report",
    "load_report_data",
    "scenario_colours",
    "write_report",
]
