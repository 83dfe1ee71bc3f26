"""sim.plotting: one colour per strategy and scenario (colour-blind safe), one province table, one tile-grid map,
used alike by the dashboard, the report and the analysis figures."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import plotting
from sim.data import load_provinces, load_tile_grid
from sim.plotting import (
    OKABE_ITO,
    OTHER_STRATEGY,
    PROVINCES,
    STRATEGY_COLOURS,
    draw_tiles,
    province_code,
    scenario_colours,
    short_name,
    strategies_in_order,
    strategy_colour,
    strategy_patches,
    tile_positions,
)
from sim.vocabulary import STRATEGY_NAMES

ROOT = Path(__file__).resolve().parents[1]

# Machado, Oliveira & Fernandes (2009): dichromat simulation at severity 1, on linear RGB
DICHROMATS = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
MIN_DELTA_E = 12.0
"""Smallest CIE76 colour difference between two strategies, for every vision (about 2.3 is just noticeable)."""


def _linear(colour: str) -> np.ndarray:
    c = np.array(mpl.colors.to_rgb(colour))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(
        linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _smallest_difference(colours: dict[str, str], vision: str) -> float:
    matrix = np.eye(3) if vision == "normal" else np.array(DICHROMATS[vision])
    lab = {name: _lab(matrix @ _linear(colour)) for name, colour in colours.items()}
    return min(float(np.linalg.norm(lab[a] - lab[b])) for a, b in itertools.combinations(lab, 2))


# --------------------------------------------------------------------------------------------------
# colours


def test_every_strategy_has_its_own_colour() -> None:
    assert list(STRATEGY_COLOURS) == list(STRATEGY_NAMES)
    assert len(set(STRATEGY_COLOURS.values())) == len(STRATEGY_NAMES)
    assert all(mpl.colors.is_color_like(c) for c in STRATEGY_COLOURS.values())
    assert strategy_colour("hefei") == STRATEGY_COLOURS["hefei"]
    assert strategy_colour("not_a_strategy") == OTHER_STRATEGY not in STRATEGY_COLOURS.values()


@pytest.mark.parametrize("vision", ["normal", *DICHROMATS])
def test_strategy_colours_stay_apart_for_colour_blind_readers(vision: str) -> None:
    assert _smallest_difference(STRATEGY_COLOURS, vision) > MIN_DELTA_E


def test_a_palette_that_confuses_colour_blind_readers_fails_the_check() -> None:
    # the dashboard's former strategy colours: blue and purple look alike to a protanope
    former = {"foreign_multinational": "#3a7dc9", "megacity": "#8e5ab5"}
    assert _smallest_difference(former, "normal") > MIN_DELTA_E
    assert _smallest_difference(former, "protanopia") < MIN_DELTA_E


def test_scenario_colours_are_okabe_ito_with_the_reference_black() -> None:
    colours = scenario_colours(["hefei", "baseline", "megacity"])
    assert colours == {"baseline": OKABE_ITO[0], "hefei": OKABE_ITO[1], "megacity": OKABE_ITO[2]}
    assert scenario_colours(["a", "b"]) == {"a": OKABE_ITO[1], "b": OKABE_ITO[2]}
    many = scenario_colours([f"s{i}" for i in range(10)])
    assert many["s7"] == OKABE_ITO[0] and many["s8"] == OKABE_ITO[1]  # the ninth repeats the first


def test_strategies_in_vocabulary_order_unknown_last() -> None:
    assert strategies_in_order(["megacity", "zeta", "baseline", "hefei", "baseline"]) == \
        ["baseline", "hefei", "megacity", "zeta"]
    patches = strategy_patches(["megacity", "hefei"])
    assert [p.get_label() for p in patches] == ["hefei", "megacity"]
    assert mpl.colors.to_hex(patches[0].get_facecolor()) == STRATEGY_COLOURS["hefei"].lower()


# --------------------------------------------------------------------------------------------------
# provinces and the tile grid


def test_one_province_table_covers_every_province() -> None:
    names = set(load_provinces()["province"])
    assert set(PROVINCES) == names == set(load_tile_grid()["province"])
    codes = [province_code(p) for p in names]
    assert len(set(codes)) == len(codes) and all(len(c) == 2 and c.isupper() for c in codes)
    assert province_code("Anhui") == "AH" and short_name("Inner Mongolia") == "Inner Mong."
    assert all(len(short_name(p)) <= 11 for p in names)  # fits a dashboard tile
    assert short_name("Atlantis") == "Atlantis" and province_code("Atlantis") == "At"


def test_tile_positions_follow_the_grid() -> None:
    grid = load_tile_grid().set_index("province")
    x, y = tile_positions(["Beijing", "Hainan"])
    assert (x[0], y[0]) == (grid.at["Beijing", "col"], grid.at["Beijing", "row"])
    assert (x[1], y[1]) == (grid.at["Hainan", "col"], grid.at["Hainan", "row"])
    assert tile_positions(["Beijing", "Region 7"]) is None


def test_draw_tiles_fills_labels_and_frames_the_tiles() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    faces = [STRATEGY_COLOURS["hefei"], "#000000"]
    draw_tiles(ax, np.array([0.0, 2.0]), np.array([1.0, 1.0]), faces, labels=["AH", "BJ"], details=["+5", ""],
               margin=0.5)
    (tiles,) = ax.collections
    assert [mpl.colors.to_hex(c) for c in tiles.get_facecolors()] == [f.lower() for f in faces]
    texts = {t.get_text(): t.get_color() for t in ax.texts}
    assert texts == {"AH": "#1a1a1a", "+5": "#1a1a1a", "BJ": "white"}  # dark ink on light tiles, white on dark
    assert ax.get_xlim() == (-0.5, 2.5) and ax.get_ylim() == (1.5, 0.5)  # rows run downwards


def test_the_module_stays_at_the_low_layer() -> None:
    tree = ast.parse(Path(plotting.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {m for m in imported if m and m.startswith("sim")} <= {"sim.vocabulary", "sim.data"}


# --------------------------------------------------------------------------------------------------
# the same colours in the dashboard, the report and the analysis figures


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(round(255 * v) for v in mpl.colors.to_rgb(colour))


def test_dashboard_map_and_table_use_the_strategy_colours() -> None:
    from dataclasses import replace

    from sim.app import AppConfig, Dashboard, controls_from_scenario, draw_tile_map, top10_html

    controls = replace(controls_from_scenario(str(ROOT / "scenarios" / "mixed.toml")), west="cas_branch")
    snapshot = Dashboard(AppConfig(ROOT / "scenarios", "")).build(controls)
    present = set(snapshot.strategies)
    assert {"baseline", "hefei", "cas_branch"} <= present
    svg = draw_tile_map(snapshot, "strategy").lower()  # the map is SVG: each tile's fill is a strategy colour
    for strategy in present:
        assert f'fill="{STRATEGY_COLOURS[strategy].lower()}"' in svg, strategy
    table = top10_html(snapshot)
    assert f"background:{STRATEGY_COLOURS['baseline']}" in table


def test_report_adoption_figure_uses_the_strategy_colours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.report.data import Completeness, ReportData
    from sim.report.figures_common import SAVE_OPTIONS
    from sim.report.figures_provinces import figure_adoption

    monkeypatch.setitem(SAVE_OPTIONS, "svg", True)  # SVG only on request (sim report --svg)

    years = [2022, 2023, 2024]
    province = pd.DataFrame([
        {"run_id": 0, "year": year, "province": name, "strategy": strategy, "group": "mixed"}
        for year in years
        for name, strategy in (("Anhui", "hefei"), ("Hubei", "hefei" if year > 2022 else "baseline"),
                               ("Yunnan", "cas_branch"), ("Beijing", "baseline"))])
    national = pd.DataFrame({"run_id": 0, "year": years, "scenario": "mixed", "group": "mixed"})
    data = ReportData(folder=tmp_path, manifest={}, national=national, province=province, events=pd.DataFrame(),
                      runs=pd.DataFrame(), groups=["mixed"], colours=scenario_colours(["mixed"]),
                      reference={"mixed": None}, adoption_groups=["mixed"], sweep_columns=[],
                      completeness=Completeness(1, [0]), provenance={})
    (made,) = figure_adoption(data, tmp_path)
    svg = made.svg.read_text().lower()
    for strategy in ("baseline", "hefei", "cas_branch"):
        assert STRATEGY_COLOURS[strategy].lower() in svg, strategy


def test_analysis_figures_use_the_okabe_ito_series_colours() -> None:
    from sim.analysis.figures import figure_growth

    provinces = pd.DataFrame({"window": "calibration", "province": ["Anhui", "Inner Mongolia", "Tibet"],
                              "relative_growth_observed": [0.01, -0.02, 0.005],
                              "relative_growth_simulated": [0.008, -0.01, 0.0],
                              "relative_growth_beta": [0.002, 0.001, 0.004]})
    fig = figure_growth(provinces)
    (ax,) = fig.axes
    model = [c for c in ax.collections if c.get_label() == "model"]
    assert mpl.colors.to_hex(model[0].get_facecolor()[0]) == plotting.BLUE.lower()
    assert "Inner Mong." in {t.get_text() for t in ax.texts}  # the one table of short names
