"""Every figure of a report, in report order, drawn by :func:`make_figures`.

The figure makers live in one module per family: :mod:`~sim.report.figures_time` (national
metrics over time and the trade-off), :mod:`~sim.report.figures_maps` (tile-grid maps) and
:mod:`~sim.report.figures_provinces` (rankings and strategy adoption); what they share is
:mod:`~sim.report.figures_common`. All draw with matplotlib's object-oriented API (no pyplot, no
global backend) under :data:`sim.plotting.FIGURE_STYLE`; colours come from :mod:`sim.plotting`
(scenarios Okabe-Ito, strategies as in the dashboard).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl

from sim.plotting import FIGURE_STYLE
from sim.report.figures_common import FigureFile
from sim.report.figures_maps import figure_maps
from sim.report.figures_provinces import figure_adoption, figure_rankings
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


def make_figures(data: ReportData, folder: Path) -> list[FigureFile]:
    """Draw every figure of ``data`` into ``folder``; a figure that fails is noted, not fatal."""
    made: list[FigureFile] = []
    with mpl.rc_context(FIGURE_STYLE):
        for maker in FIGURES:
            try:
                made.extend(maker(data, folder))
            except Exception as exc:  # one broken figure must not lose the rest of the report
                log.warning("figure %s failed: %s", maker.__name__, exc, exc_info=True)
                data.notes.append(f"Figure {maker.__name__.removeprefix('figure_')} could not be drawn: {exc}")
    return made
