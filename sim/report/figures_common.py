"""What every report figure shares: the figure record, the sections, saving, bands, axes and legends.

Every figure is written as PNG (:data:`sim.plotting.DPI`) and SVG by :func:`save_figure`; a figure
maker returns a :class:`FigureFile` with a title and a caption for the HTML and Markdown pages.
Scenario colours are :attr:`ReportData.colours <sim.report.data.ReportData>` (Okabe-Ito, from
:func:`sim.plotting.scenario_colours`), the same in every figure and table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredOffsetbox, DrawingArea, HPacker, TextArea
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from scipy.special import stdtrit

from sim.plotting import DPI
from sim.report.figure_files import SAVE_OPTIONS
from sim.report.statistics import LEVEL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.layout_engine import LayoutEngine

    from sim.report.data import ReportData

class LayoutSpace(Text):
    """A text that constrained layout makes room for but that is not drawn: it holds the place of a
    label drawn otherwise (as glyph outlines, :func:`sim.plotting.text_collection`, which take no part
    in the layout)."""

    def draw(self, renderer) -> None:
        pass


def slug(text: str) -> str:
    """A file-name-safe form of a scenario or group name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


PNG_COMPRESSION = 3
"""zlib level of the PNG files: level 6 (Pillow's default) takes about 1.7 times as long to write the
figures for files about a tenth smaller."""


def save_figure(fig: Figure, folder: Path, name: str) -> tuple[Path, Path | None]:
    """Write ``fig`` as ``<name>.png`` (and ``<name>.svg`` when :data:`SAVE_OPTIONS` asks); returns the paths.

    Each figure is drawn once per file at its own size: constrained layout keeps every artist that
    takes part in the layout inside the figure, so no tight bounding box (a second drawing) is needed.
    The PNG's layout is computed here, at the PNG's resolution with the renderer that draws it, and
    the PNG is saved with the layout engine off: ``savefig`` with a layout engine would first draw the
    whole figure without output only to run the same layout (about a third of the drawing time).
    """
    png = folder / f"{name}.png"
    png_options = {"compress_level": PNG_COMPRESSION}
    engine = fig.get_layout_engine()
    if engine is None:
        fig.savefig(png, dpi=DPI, facecolor="white", pil_kwargs=png_options)
    else:
        _layout_at(fig, engine, DPI)
        fig.set_layout_engine(None)  # laid out: savefig draws once
        try:
            fig.savefig(png, dpi=DPI, facecolor="white", pil_kwargs=png_options)
        finally:
            fig.set_layout_engine(engine)  # an SVG is laid out again, at its own resolution
    svg = None
    if SAVE_OPTIONS["svg"]:
        svg = folder / f"{name}.svg"
        fig.savefig(svg, facecolor="white", metadata={"Date": None})
    return png, svg


def _layout_at(fig: Figure, engine: LayoutEngine, dpi: float) -> None:
    """Run ``engine`` on ``fig`` as ``savefig(dpi=dpi)`` to PNG would: with an Agg renderer at ``dpi``,
    the aspect of every axes (and of its child axes) applied first, and only when there are axes, as
    :meth:`Figure.draw` does."""
    canvas = FigureCanvasAgg(fig)  # the canvas savefig draws the PNG on; its renderer is kept for it
    if not fig.axes:
        return
    before = fig.dpi
    fig.dpi = dpi
    try:
        renderer = canvas.get_renderer()
        for ax in fig.axes:
            for axes in (ax, *(child for child in ax.get_children() if hasattr(child, "apply_aspect"))):
                locator = axes.get_axes_locator()
                axes.apply_aspect(locator(axes, renderer) if locator else None)
        try:
            engine.execute(fig)
        except ValueError:  # as Figure.draw: a layout that cannot be made leaves the axes where they are
            pass
    finally:
        fig.dpi = before


def _t_half(std: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Half-width of the Student-t interval of a mean (NaN with fewer than two values)."""
    count = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stdtrit(np.where(count > 1, count - 1, np.nan), 0.5 + LEVEL / 2.0)
        return t * np.asarray(std, dtype=float) / np.sqrt(count)


def yearly_band(frame: pd.DataFrame, column: str, scale: float = 1.0) -> pd.DataFrame:
    """Per year: the mean of ``column`` across runs and its 95 % t-interval (``year, mean, low, high, n``)."""
    values = frame[["year", column]].assign(value=frame[column].astype(float) * scale)
    agg = values.groupby("year")["value"].agg(["mean", "std", "count"]).reset_index()
    half = _t_half(agg["std"].to_numpy(), agg["count"].to_numpy())
    return pd.DataFrame({"year": agg["year"], "mean": agg["mean"], "low": agg["mean"] - half,
                         "high": agg["mean"] + half, "n": agg["count"]})


def plot_band(ax: Axes, band: pd.DataFrame, colour: str, label: str, linestyle: str = "-") -> None:
    ax.plot(band["year"], band["mean"], color=colour, lw=1.8, label=label, linestyle=linestyle)
    if np.isfinite(band["low"]).any():
        ax.fill_between(band["year"], band["low"], band["high"], color=colour, alpha=0.18, lw=0)


def year_axis(ax: Axes, years: np.ndarray, max_ticks: int = 9) -> None:
    """Years on the x axis: whole years, at most ``max_ticks`` ticks at a round step."""
    years = np.asarray(sorted(set(int(y) for y in years)))
    if years.size == 0:
        return
    span = years[-1] - years[0]
    ax.set_xlim(years[0], years[-1] if span > 0 else years[0] + 1)
    step = next((k for k in (1, 2, 5, 10, 20, 25, 50, 100) if span / k + 1 <= max_ticks), 100)
    first = years[0] if step == 1 else int(np.ceil(years[0] / step) * step)
    ticks = list(range(first, int(years[-1]) + 1, step))
    ax.set_xticks(ticks)
    ax.set_xlabel("Year")


def legend_columns(width_in: float, labels: list[str], fontsize: float = 8.5, most: int = 6) -> int:
    """How many legend entries fit side by side across ``width_in`` inches (about 0.55 em per character)."""
    entry = max(len(label) for label in labels) * 0.55 * fontsize + 3.5 * fontsize  # points
    fit = int(width_in * 72 / entry)
    return max(1, min(len(labels), most, fit))


def legend_height(width_in: float, labels: list[str], fontsize: float = 8.5) -> float:
    """Inches a bottom legend of ``labels`` (with a title) takes beyond a one-row legend."""
    rows = int(np.ceil(len(labels) / legend_columns(width_in, labels, fontsize)))
    return max(0, rows - 2) * fontsize * 1.45 / 72


def scenario_legend(fig: Figure, data: ReportData, groups: list[str], title: str = "Scenario",
                     marker: bool = False) -> None:
    if marker:
        handles = [Line2D([], [], color=data.colours[g], marker="o", ms=7, mec="white", lw=0) for g in groups]
    else:
        handles = [Line2D([], [], color=data.colours[g], lw=2.2, linestyle=data.linestyle(g)) for g in groups]
    fig.legend(handles, groups, loc="outside lower center", ncol=legend_columns(fig.get_figwidth(), groups),
               title=title, title_fontsize=8.5)


def band_note(data: ReportData) -> str:
    n = data.national.groupby("group")["run_id"].nunique()
    if n.max() < 2:
        return "One run per scenario, so no interval is drawn."
    return (f"Lines are means across replicates ({_count_text(n)} per scenario); shaded bands are 95 % "
            "confidence intervals of the mean (Student t).")


def _count_text(counts: pd.Series) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo} runs" if lo == hi else f"{lo} to {hi} runs"


def panel_title(ax: Axes, text: str, colour: str, width_in: float) -> None:
    """A panel title led by a square of the scenario's colour, wrapped to the panel's width (inches)."""
    import textwrap

    swatch = DrawingArea(9, 9, 0, 0)
    swatch.add_artist(Rectangle((0, 0), 9, 9, facecolor=colour, edgecolor="none"))
    chars = max(12, int((width_in * 72 - 14) / (0.62 * 9.5)))
    wrapped = textwrap.fill(text, chars, break_on_hyphens=False)  # sweep labels break at their spaces
    props = {"fontsize": 9.5, "fontweight": "bold", "linespacing": 1.15}
    label = TextArea(wrapped, textprops=props)
    # an invisible real title of the same size, so that constrained layout leaves room for the box
    ax.set_title("\u25a0 " + wrapped, color=(0, 0, 0, 0), pad=4, **props)
    box = HPacker(children=[swatch, label], align="center", pad=0, sep=4)
    ax.add_artist(AnchoredOffsetbox(loc="lower center", child=box, bbox_to_anchor=(0.5, 1.01),
                                    bbox_transform=ax.transAxes, frameon=False, pad=0, borderpad=0))
