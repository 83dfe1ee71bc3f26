"""SVG building blocks for the dashboard's pictures: tick positions, numbers, line charts, colour bars.

The page draws its charts and map as SVG text (a few kilobytes, built in about a millisecond),
not as matplotlib PNGs (tens of milliseconds each): a Step redraws five pictures, and SVG scales to
the width of its card without blurring or clipping. Coordinates are in a ``viewBox``; the browser
scales the picture to the card. Plain Python: nothing here knows Solara.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

FONT = "Roboto, 'DejaVu Sans', Arial, sans-serif"
INK = "#444444"
GRID = "#e9e9e9"
AXIS = "#bbbbbb"


def esc(text: object) -> str:
    """``text`` escaped for SVG text and attributes."""
    return html.escape(str(text), quote=True)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * step:
        ticks.append(0.0 if abs(value) < 1e-12 * step else value)
        value += step
    return ticks


def tick_decimals(ticks: Sequence[float]) -> int:
    """Decimals needed to tell the ticks apart."""
    if len(ticks) < 2:
        return 0
    step = abs(ticks[1] - ticks[0])
    power = math.floor(math.log10(step) + 1e-9)
    quarter = round(step / 10.0**power, 6) == 2.5 and power <= 0  # 2.5, 0.25, ...: one decimal more
    return max(0, -power) + (1 if quarter else 0)


def number(value: float, decimals: int) -> str:
    """``value`` with thousands separators and ``decimals`` decimals."""
    return f"{value:,.{decimals}f}"


def year_ticks(start: int, end: int, count: int = 7) -> list[int]:
    """Round years between ``start`` and ``end`` (steps of 1, 2, 5, 10, 20 or 50 years)."""
    span = max(end - start, 1)
    step = next((s for s in (1, 2, 5, 10, 20, 50) if span / s <= count - 1), 100)
    first = math.ceil(start / step) * step
    return list(range(first, end + 1, step))


@dataclass(frozen=True)
class Series:
    """One line of a chart: points, colour, width, dash pattern ("" = solid), legend label."""

    xs: Sequence[float]
    ys: Sequence[float]
    colour: str
    width: float = 2.6
    dash: str = ""
    label: str = ""
    opacity: float = 1.0
    end_marker: bool = False
    end_label: str = ""


@dataclass(frozen=True)
class Frame:
    """Where a chart's plotting area sits in its viewBox, and the data ranges it shows."""

    left: float
    top: float
    right: float
    bottom: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / ((self.x1 - self.x0) or 1.0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / ((self.y1 - self.y0) or 1.0) * (self.bottom - self.top)


def polyline(frame: Frame, series: Series) -> str:
    """The series as an SVG polyline (nothing for no points), with its end marker and end label."""
    points = [(frame.x(x), frame.y(y)) for x, y in zip(series.xs, series.ys, strict=True)
              if y is not None and math.isfinite(y)]
    if not points:
        return ""
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts = [f'<polyline points="{text}" fill="none" stroke="{series.colour}" stroke-width="{series.width}" '
             f'stroke-linejoin="round" stroke-linecap="round" opacity="{series.opacity}"{dash}/>']
    x, y = points[-1]
    if series.end_marker:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{series.colour}" stroke="white" '
                     'stroke-width="1.5"/>')
    if series.end_label:
        parts.append(f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="13" font-weight="bold" '
                     f'fill="{series.colour}">{esc(series.end_label)}</text>')
    return "".join(parts)


def axes(frame: Frame, x_ticks: Sequence[float], y_ticks: Sequence[float], y_decimals: int, y_label: str = "",
         font_size: float = 12.0) -> str:
    """Grid lines, the left and bottom axes, tick labels and the y-axis label."""
    parts = []
    for value in y_ticks:
        y = frame.y(value)
        parts.append(f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="0.8"/>')
        parts.append(f'<text x="{frame.left - 5:.1f}" y="{y + 3.5:.1f}" font-size="{font_size}" fill="{INK}" '
                     f'text-anchor="end">{number(value, y_decimals)}</text>')
    for value in x_ticks:
        x = frame.x(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top:.1f}" y2="{frame.bottom:.1f}" '
                     f'stroke="{GRID}" stroke-width="0.8"/>')
        parts.append(f'<text x="{x:.1f}" y="{frame.bottom + font_size + 4:.1f}" font-size="{font_size}" '
                     f'fill="{INK}" text-anchor="middle">{int(value)}</text>')
    parts.append(f'<polyline points="{frame.left:.1f},{frame.top:.1f} {frame.left:.1f},{frame.bottom:.1f} '
                 f'{frame.right:.1f},{frame.bottom:.1f}" fill="none" stroke="{AXIS}" stroke-width="1"/>')
    if y_label:
        middle = (frame.top + frame.bottom) / 2
        parts.append(f'<text transform="translate({font_size:.1f},{middle:.1f}) rotate(-90)" font-size="{font_size}" '
                     f'fill="{INK}" text-anchor="middle">{esc(y_label)}</text>')
    return "".join(parts)


def legend(entries: Sequence[tuple[str, str, str]], x: float, y: float, width: float, font_size: float = 12.0) -> str:
    """Legend entries (label, colour, dash) in rows from (x, y), wrapping within ``width``."""
    parts = []
    cx, cy = x, y
    for label, colour, dash in entries:
        need = 30 + 0.56 * font_size * len(label) + 14
        if cx > x and cx + need > x + width:
            cx, cy = x, cy + font_size + 6
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{cx:.1f}" x2="{cx + 22:.1f}" y1="{cy - 3.5:.1f}" y2="{cy - 3.5:.1f}" '
                     f'stroke="{colour}" stroke-width="2.4"{dash_attr}/>')
        parts.append(f'<text x="{cx + 27:.1f}" y="{cy:.1f}" font-size="{font_size}" fill="{INK}">{esc(label)}</text>')
        cx += need
    return "".join(parts)


def legend_rows(entries: Sequence[tuple[str, str, str]], width: float, font_size: float = 12.0) -> int:
    """How many rows :func:`legend` takes for ``entries`` within ``width``."""
    rows, cx = (1 if entries else 0), 0.0
    for label, _, _ in entries:
        need = 30 + 0.56 * font_size * len(label) + 14
        if cx > 0 and cx + need > width:
            rows, cx = rows + 1, 0.0
        cx += need
    return rows


def document(width: float, height: float, body: str, css_class: str = "", label: str = "") -> str:
    """A complete ``<svg>`` element of ``width`` x ``height`` viewBox units that scales to its container."""
    aria = f' role="img" aria-label="{esc(label)}"' if label else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" class="{css_class}" '
            f'width="100%" preserveAspectRatio="xMidYMid meet" font-family="{FONT}"{aria}>{body}</svg>')


def gradient_bar(stops: Sequence[tuple[float, str]], x: float, top: float, bottom: float, ticks: Sequence[float],
                 labels: Sequence[str], position, gradient_id: str, width: float = 14.0, font_size: float = 10.5) -> str:
    """A vertical colour bar (``stops``: fraction from the bottom, colour) with tick labels on its right.

    ``position`` maps a tick value to its fraction from the bottom (0 to 1).
    """
    stop_tags = "".join(f'<stop offset="{100 * (1 - f):.1f}%" stop-color="{c}"/>' for f, c in sorted(stops, reverse=True))
    parts = [f'<defs><linearGradient id="{gradient_id}" x1="0" x2="0" y1="0" y2="1">{stop_tags}</linearGradient></defs>',
             f'<rect x="{x:.1f}" y="{top:.1f}" width="{width}" height="{bottom - top:.1f}" fill="url(#{gradient_id})"/>']
    for value, text in zip(ticks, labels, strict=True):
        f = position(value)
        if not -1e-9 <= f <= 1 + 1e-9:
            continue
        y = bottom - f * (bottom - top)
        parts.append(f'<line x1="{x + width:.1f}" x2="{x + width + 4:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{INK}"/>')
        parts.append(f'<text x="{x + width + 7:.1f}" y="{y + 3.5:.1f}" font-size="{font_size}" fill="{INK}">'
                     f'{esc(text)}</text>')
    return "".join(parts)
