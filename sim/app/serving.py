"""Serving helpers: warming up before the first page.

Plain Python: nothing here knows Solara's components.
"""

from __future__ import annotations

from sim.app.charts import CHARTS, MAP_VARIABLES, draw_chart, draw_province, draw_tile_map
from sim.app.controls import AppConfig, controls_from_scenario
from sim.app.session import Dashboard
from sim.errors import SimError


def warm_up() -> None:
    """Build a model and draw every figure once, so that the first page does not pay for imports.

    ``sim app`` calls it in a background thread while the server starts.
    """
    config = AppConfig.from_environment()
    try:
        controls = controls_from_scenario(config.initial_scenario, config.base_values)
    except SimError:
        controls = controls_from_scenario("")
    snapshot = Dashboard(config).build(controls)
    for variable in MAP_VARIABLES:
        draw_tile_map(snapshot, variable)
    for key in CHARTS:
        draw_chart(snapshot, key)
    draw_province(snapshot, snapshot.names[0])
