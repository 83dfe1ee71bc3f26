"""The browser dashboard for students (Solara): move a slider, step the years, watch what happens.

Start it with ``sim app [SCENARIO] [--port N]`` (see :mod:`sim.cli.app`), or
``solara run sim.app.page``. The page has the controls in a sidebar (scenario file, the parameters
that matter, Step / Play / Run to end / Reset) and, updating as the model steps, the headline
metrics, a tile-grid map of the provinces coloured by a chosen variable, the top 10 provinces by
research output, four time-series charts and the event log.

The package is in two layers. The first is plain Python and knows nothing about Solara:

* :mod:`~sim.app.controls`: :class:`Controls` (what the sidebar sets, turned into
  ``{key path: value}`` for :meth:`sim.scenario.Scenario.with_values`) and :class:`AppConfig`
  (where scenarios are, and the values ``sim app --set`` gives every run);
* :mod:`~sim.app.session`: :class:`Dashboard` (builds a model from a scenario and the controls,
  steps it and takes a :class:`Snapshot` of what the page shows);
* :mod:`~sim.app.charts`: the time-series charts and the tile-grid map, as PNG bytes (colours
  and map from :mod:`sim.plotting`, as in the report);
* :mod:`~sim.app.fragments`: the HTML pieces (headline numbers, top-10 table, event log);
* :mod:`~sim.app.serving`: drawing outside Solara's session settings, warming up.

The second is the Solara components, which only hold state and lay things out:
:mod:`~sim.app.page` (the page), :mod:`~sim.app.widgets` (slider, ticker, drop-down list) and
:mod:`~sim.app.style` (CSS). UI controls live only here; the model never sees them.

The app is configured through the environment (set by ``sim app``): ``SIM_APP_SCENARIO`` (the
scenario file to open), ``SIM_APP_SCENARIO_DIR`` (the folder whose ``*.toml`` files the scenario
selector lists) and ``SIM_APP_OVERRIDES`` (a JSON list of ``--set`` expressions, parsed once into
values applied to every run).
"""

from __future__ import annotations

import solara

from sim.app.charts import CHARTS, MAP_VARIABLES, ChartSpec, draw_chart, draw_tile_map
from sim.app.controls import (
    FROM_FILE,
    REGION_GROUPS,
    STRATEGY_LABELS,
    AppConfig,
    Controls,
    controls_from_scenario,
    default_scenario_dir,
    scenario_with_controls,
)
from sim.app.fragments import event_line, events_html, kpi_html, top10_html
from sim.app.page import Layout, Page
from sim.app.serving import warm_up
from sim.app.session import Dashboard, Ghost, Snapshot

__all__ = [
    "CHARTS",
    "FROM_FILE",
    "MAP_VARIABLES",
    "REGION_GROUPS",
    "STRATEGY_LABELS",
    "AppConfig",
    "ChartSpec",
    "Controls",
    "Dashboard",
    "Ghost",
    "Layout",
    "Page",
    "Snapshot",
    "controls_from_scenario",
    "default_scenario_dir",
    "draw_chart",
    "draw_tile_map",
    "event_line",
    "events_html",
    "kpi_html",
    "routes",
    "scenario_with_controls",
    "top10_html",
    "warm_up",
]

routes = [solara.Route(path="/", component=Page, layout=Layout)]
"""One page, so that ``solara run sim.app`` serves it alone (not one route per module of the package)."""
