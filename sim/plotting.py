"""Colours, province labels and the tile-grid map, shared by the report, the analysis figures and the dashboard.

One place decides how the project draws things, so that a strategy or a scenario has the same
colour in the dashboard, in a report and in the validation figures:

* :data:`OKABE_ITO` and :func:`scenario_colours`: the Okabe-Ito colour-blind-safe palette, for
  scenarios (``baseline`` is black) and for the series of the analysis figures;
* :data:`STRATEGY_COLOURS`: one colour per strategy (:data:`sim.vocabulary.STRATEGY_NAMES`), from
  Paul Tol's colour-blind-safe "bright" palette, so strategies are never mistaken for scenarios;
  ``baseline`` (business as usual) is the neutral grey;
* :data:`PROVINCES`: each province's two-letter code (ISO 3166-2:CN) and the name that fits a map tile;
* :func:`draw_tiles`: the tile-grid map (one square per province at its ``(col, row)`` of
  ``sim/data/tile_grid.csv``), drawn on a matplotlib Axes;
* :data:`FIGURE_STYLE` and :data:`DPI`: the matplotlib settings of every saved figure.

This module sits low: it imports :mod:`sim.vocabulary` and :mod:`sim.data` only, and matplotlib
only inside the functions that draw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.vocabulary import STRATEGY_NAMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# --------------------------------------------------------------------------------------------------
# palettes

BLACK = "#000000"
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
SKY_BLUE = "#56B4E9"
YELLOW = "#F0E442"
GREY = "#999999"
"""A neutral grey for reference lines (not one of the eight)."""

OKABE_ITO: tuple[str, ...] = (BLACK, BLUE, ORANGE, GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, YELLOW)
"""The Okabe-Ito colour-blind-safe palette, in the order scenarios receive it (yellow last: faint on white)."""

TOL_BRIGHT: tuple[str, ...] = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")
"""Paul Tol's colour-blind-safe "bright" palette: blue, red, green, yellow, cyan, purple, grey."""

STRATEGY_COLOURS: dict[str, str] = {
    "baseline": "#BBBBBB",               # grey: business as usual, the background the others stand out from
    "hefei": "#EE6677",                  # red
    "cas_branch": "#228833",             # green
    "foreign_multinational": "#4477AA",  # blue
    "consumer_niche": "#CCBB44",         # yellow
    "megacity": "#AA3377",               # purple
}
"""One colour per strategy (Tol "bright"), the same in the dashboard, the report and every figure."""

OTHER_STRATEGY = "#66CCEE"
"""The colour of a strategy name not in :data:`STRATEGY_COLOURS` (Tol "bright" cyan, otherwise unused)."""

def strategy_colour(name: str) -> str:
    """The colour of strategy ``name`` (:data:`OTHER_STRATEGY` for a name the vocabulary does not know)."""
    return STRATEGY_COLOURS.get(name, OTHER_STRATEGY)


def strategies_in_order(names: Iterable[str]) -> list[str]:
    """``names`` without repeats, in :data:`~sim.vocabulary.STRATEGY_NAMES` order (unknown names last, sorted)."""
    known = list(STRATEGY_NAMES)
    return sorted(set(names), key=lambda s: (known.index(s) if s in known else len(known), s))


def scenario_colours(groups: Sequence[str], reference: str = "baseline") -> dict[str, str]:
    """One Okabe-Ito colour per group: black for ``reference``, the rest in order (cycling after eight)."""
    colours: dict[str, str] = {}
    if reference in groups:
        colours[reference] = OKABE_ITO[0]
    rest = OKABE_ITO[1:] + OKABE_ITO[:1]
    i = 0
    for group in groups:
        if group in colours:
            continue
        colours[group] = rest[i % len(rest)]
        i += 1
    return colours


def text_colour(rgb: Sequence[float], dark: str = "#1a1a1a") -> str:
    """Ink that reads on a background of colour ``rgb`` (0-1 floats): ``dark`` on light colours, else white."""
    r, g, b = rgb[:3]
    return dark if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


# --------------------------------------------------------------------------------------------------
# figures

DPI = 150
"""Resolution of every saved PNG figure."""

FIGURE_STYLE: dict[str, object] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "savefig.dpi": DPI,
    "svg.hashsalt": "sim-report",
    "svg.fonttype": "path",
}
"""Matplotlib settings every saved figure is drawn with (``with matplotlib.rc_context(FIGURE_STYLE)``)."""

# --------------------------------------------------------------------------------------------------
# provinces

PROVINCES: dict[str, tuple[str, str]] = {
    "Beijing": ("BJ", "Beijing"), "Tianjin": ("TJ", "Tianjin"), "Hebei": ("HE", "Hebei"),
    "Shanxi": ("SX", "Shanxi"), "Inner Mongolia": ("NM", "Inner Mong."), "Liaoning": ("LN", "Liaoning"),
    "Jilin": ("JL", "Jilin"), "Heilongjiang": ("HL", "Heilongj."), "Shanghai": ("SH", "Shanghai"),
    "Jiangsu": ("JS", "Jiangsu"), "Zhejiang": ("ZJ", "Zhejiang"), "Anhui": ("AH", "Anhui"),
    "Fujian": ("FJ", "Fujian"), "Jiangxi": ("JX", "Jiangxi"), "Shandong": ("SD", "Shandong"),
    "Henan": ("HA", "Henan"), "Hubei": ("HB", "Hubei"), "Hunan": ("HN", "Hunan"),
    "Guangdong": ("GD", "Guangdong"), "Guangxi": ("GX", "Guangxi"), "Hainan": ("HI", "Hainan"),
    "Chongqing": ("CQ", "Chongqing"), "Sichuan": ("SC", "Sichuan"), "Guizhou": ("GZ", "Guizhou"),
    "Yunnan": ("YN", "Yunnan"), "Tibet": ("XZ", "Tibet"), "Shaanxi": ("SN", "Shaanxi"),
    "Gansu": ("GS", "Gansu"), "Qinghai": ("QH", "Qinghai"), "Ningxia": ("NX", "Ningxia"),
    "Xinjiang": ("XJ", "Xinjiang"),
}
"""Province -> (two-letter code, ISO 3166-2:CN; name short enough for a map tile or a point label)."""


def province_code(name: str) -> str:
    """The two-letter code of a province (its first two letters for a name not in :data:`PROVINCES`)."""
    return PROVINCES[name][0] if name in PROVINCES else name[:2]


def short_name(name: str) -> str:
    """The province's name, shortened where it would not fit a map tile (others as they are)."""
    return PROVINCES[name][1] if name in PROVINCES else name


# --------------------------------------------------------------------------------------------------
# the tile-grid map

LABEL_OFFSET = -0.14
"""Where a tile's name sits, from its centre (tile widths; the y axis points down)."""
DETAIL_OFFSET = 0.2
"""Where a tile's second line (a value, a capital city) sits, from its centre."""


def tile_positions(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(col, row)`` of each province's tile in the tile grid, or None when a name is not on the grid."""
    from sim.data import load_tile_grid

    grid = load_tile_grid().set_index("province")
    if not all(name in grid.index for name in names):
        return None
    rows = grid.loc[list(names)]
    return rows["col"].to_numpy(float), rows["row"].to_numpy(float)


def grid_provinces() -> list[str]:
    """Every province of the tile grid, in the grid file's order."""
    from sim.data import load_tile_grid

    return [str(p) for p in load_tile_grid()["province"]]


def draw_tiles(ax: Axes, x: np.ndarray, y: np.ndarray, faces: Sequence[Any], *,
               labels: Sequence[str] | None = None, details: Sequence[str] | None = None,
               size: float = 0.92, edgecolors: Any = "white", linewidths: Any = 0.5,
               label_size: float | Callable[[str], float] = 7.0, detail_size: float = 5.6,
               dark_ink: str = "#1a1a1a", margin: float = 0.55, text_paths: bool = False) -> None:
    """Draw one square per province centred at ``(x[i], y[i])`` (tile units, y pointing down) on ``ax``.

    Args:
        faces: the fill of each tile (any matplotlib colour).
        labels: each tile's name (bold, above the centre); None for none.
        details: each tile's second line (below the centre; "" for none); None for none.
        size: the side of a tile (1 = tiles touch).
        edgecolors, linewidths: the outline, one for all or one per tile.
        label_size: font size of the names, or a function of the name giving it.
        detail_size: font size of the second lines.
        dark_ink: text colour on light tiles (white on dark ones).
        margin: space around the outermost tile centres, in tile units.
        text_paths: draw the names and second lines as the outlines of their glyphs, all of them in
            one collection of paths (:func:`text_collection`), rather than as one text artist each: the
            same words in the same font, size and ink, drawn several times faster (no text to pick
            or edit afterwards, and glyphs are not hinted to the pixel grid).

    Tiles and labels are left out of constrained layout (they lie inside the axes, and it is much
    faster). The axes get equal aspect, limits around the tiles and no frame.
    """
    import matplotlib as mpl
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    rgb = [mpl.colors.to_rgb(face) for face in faces]
    tiles = [Rectangle((x[i] - size / 2, y[i] - size / 2), size, size) for i in range(len(x))]
    collection = PatchCollection(tiles, facecolors=rgb, edgecolors=edgecolors, linewidths=linewidths,
                                 joinstyle="round", zorder=1)
    collection.set_in_layout(False)
    ax.add_collection(collection)
    if text_paths:
        inks = [text_colour(c, dark_ink) for c in rgb]
        if labels is not None:
            sizes = [label_size(t) if callable(label_size) else label_size for t in labels]
            text_collection(ax, x, y + LABEL_OFFSET, labels, sizes, inks, weight="bold")
        if details is not None:
            text_collection(ax, x, y + DETAIL_OFFSET, details, [detail_size] * len(x), inks)
    for i in range(0 if text_paths else len(x)):
        ink = text_colour(rgb[i], dark_ink)
        if labels is not None:
            size_pt = label_size(labels[i]) if callable(label_size) else label_size
            ax.text(x[i], y[i] + LABEL_OFFSET, labels[i], ha="center", va="center", fontsize=size_pt,
                    fontweight="bold", color=ink, in_layout=False)
        if details is not None and details[i]:
            ax.text(x[i], y[i] + DETAIL_OFFSET, details[i], ha="center", va="center", fontsize=detail_size,
                    color=ink, in_layout=False)
    if len(x):
        ax.set_xlim(x.min() - margin, x.max() + margin)
        ax.set_ylim(y.max() + margin, y.min() - margin)
    ax.set_aspect("equal")
    ax.axis("off")


_GLYPHS: dict[tuple[Any, ...], Any] = {}
"""Glyph outlines of a string in a font (:func:`text_collection`), centred on the origin, in points."""


def text_collection(ax: Axes, x: Sequence[float], y: Sequence[float], texts: Sequence[str],
                    sizes: Sequence[float], colours: Sequence[Any], weight: str = "normal", ha: str = "center",
                    transform: Any = None) -> Any:
    """Each of ``texts`` at ``(x[i], y[i])`` on ``ax``, as one collection of the glyphs' outlines filled in
    ``colours[i]`` at ``sizes[i]`` points: what ``ax.text(..., ha=ha, va="center")`` draws for each, at a
    fraction of the cost of one text artist per string. ``ha`` is "center", "left" or "right"; the coordinates
    are data coordinates unless ``transform`` says otherwise (``ax.transAxes``...). Empty strings are
    left out. As text artists, the strings are not clipped to the axes; unlike them, the collection
    takes no part in constrained layout. It is returned.
    """
    import matplotlib as mpl
    from matplotlib.collections import PathCollection
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    paths, offsets, faces = [], [], []
    for i, text in enumerate(texts):
        if not text:
            continue
        prop = FontProperties(size=sizes[i], weight=weight)
        path = _GLYPHS.get((text, prop, ha))
        if path is None:
            if len(_GLYPHS) > 4096:  # a long-lived process drawing many different strings
                _GLYPHS.clear()
            line = _GLYPHS.get(("lp", prop))
            if line is None:
                line = _GLYPHS[("lp", prop)] = TextPath((0, 0), "lp", prop=prop)
            # vertically centred as a text artist is: on its line box (from the descent of "p" to the
            # top of "l"), not on its own ink; horizontally on its ink
            (_, low), (_, high) = _outline_box(line)
            path = _figures_path(text, prop) if set(text) <= set(_FIGURES) else TextPath((0, 0), text, prop=prop)
            (left, _), (right, _) = _outline_box(path)
            shift = {"center": -(left + right) / 2, "left": -left, "right": -right}[ha]
            path = path.transformed(Affine2D().translate(shift, -(low + high) / 2))
            _GLYPHS[(text, prop, ha)] = path
        paths.append(path)
        offsets.append((x[i], y[i]))
        faces.append(mpl.colors.to_rgba(colours[i]))
    collection = PathCollection(paths, offsets=np.asarray(offsets, dtype=float).reshape(-1, 2),
                                offset_transform=ax.transData if transform is None else transform, facecolors=faces, edgecolors="none",
                                linewidths=0, zorder=2)
    collection.set_transform(Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans)  # points -> pixels
    collection.set_in_layout(False)
    ax.add_collection(collection, autolim=False)
    collection.set_clip_on(False)  # as a text artist: drawn outside the axes too
    return collection


_FIGURES = "0123456789+-\u2212.,% "
"""Characters :func:`_figures_path` sets: a font does not kern them (digits are of one width)."""


def _figures_path(text: str, prop: Any) -> Any:
    """The outline of ``text`` (digits and signs only) put together from the outlines of its characters,
    each kept once per font (:data:`_GLYPHS`), at their advance widths: what
    :class:`~matplotlib.textpath.TextPath` makes of it, without laying the string out."""
    from matplotlib.font_manager import findfont, get_font
    from matplotlib.ft2font import LoadFlags
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    vertices, codes, pen = [], [], 0.0
    for char in text:
        glyph = _GLYPHS.get((char, prop, "glyph"))
        if glyph is None:
            font = get_font(findfont(prop))
            font.set_size(prop.get_size_in_points(), 72)  # pixels at 72 dpi are points
            advance = font.load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536
            outline = TextPath((0, 0), char, prop=prop)
            glyph = _GLYPHS[(char, prop, "glyph")] = (outline.vertices, outline.codes, advance)
        if glyph[1] is not None and len(glyph[1]):
            vertices.append(glyph[0] + (pen, 0.0))
            codes.append(glyph[1])
        pen += glyph[2]
    if not vertices:
        return TextPath((0, 0), text, prop=prop)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _outline_box(path: Any) -> tuple[np.ndarray, np.ndarray]:
    """The lower-left and upper-right corners of the points of a glyph outline (a font's outlines have a
    point at each extreme, so this is their ink box, found without solving their curves)."""
    points = path.vertices[path.codes != path.CLOSEPOLY] if path.codes is not None else path.vertices
    return points.min(axis=0), points.max(axis=0)


def strategy_patches(strategies: Iterable[str], edgecolor: str = "white") -> list[Any]:
    """Legend handles: one coloured square per strategy present, in vocabulary order."""
    from matplotlib.patches import Patch

    return [Patch(facecolor=strategy_colour(s), edgecolor=edgecolor, label=s) for s in strategies_in_order(strategies)]
