"""The Solara page: the sidebar of controls, and what the model does, laid out and kept in step.

The components only hold state and lay things out: the model lives in a
:class:`~sim.app.session.Dashboard`, the pictures come from :mod:`sim.app.charts` and the HTML
pieces from :mod:`sim.app.fragments`. Serve it with ``sim app`` (or ``solara run sim.app.page``).
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import replace
from typing import Any

import solara

from sim.app.charts import CHARTS, MAP_VARIABLES, draw_chart, draw_tile_map
from sim.app.controls import FROM_FILE, REGION_GROUPS, STRATEGY_LABELS, AppConfig, Controls, controls_from_scenario
from sim.app.fragments import TIPS_HTML, error_text, events_html, header_html, interior_in_top10, kpi_html, top10_html
from sim.app.serving import draw_outside_session
from sim.app.session import Dashboard, Snapshot
from sim.app.style import CSS, set_theme
from sim.app.widgets import Choice, Slider, Ticker, select_items, vuetify_props
from sim.errors import SimError

logger = logging.getLogger(__name__)


@solara.component
def Layout(children=[]):  # noqa: B006 (Solara's layout signature)
    """No app bar or drawer from Solara: :func:`Page` lays out its own sidebar and main area."""
    return solara.Div(children=children)


@solara.component
def Page():
    """The dashboard: controls on the left, what the model does on the right."""
    def initialise():
        config = AppConfig.from_environment()
        dashboard = Dashboard(config)
        try:
            controls = controls_from_scenario(config.initial_scenario, config.base_values)
            return dashboard, controls, dashboard.build(controls), None
        except Exception as exc:  # show the problem on the page, with the built-in defaults behind it
            logger.exception("opening %s failed", config.initial_scenario)
            controls = controls_from_scenario("")
            return dashboard, controls, dashboard.build(controls), error_text(exc)

    dashboard, controls0, snapshot0, error0 = solara.use_memo(initialise, [])
    solara.use_memo(set_theme, [])
    controls = solara.use_reactive(controls0)
    snapshot = solara.use_reactive(snapshot0)
    error = solara.use_reactive(error0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    map_variable = solara.use_reactive("gdp_per_capita")
    timing = solara.use_reactive("")
    last_update_ms = solara.use_ref(0.0)

    def rebuild(new: Controls) -> None:
        playing.set(False)
        controls.set(new)
        try:
            snapshot.set(dashboard.build(new))
            error.set(None)
        except SimError as exc:
            error.set(error_text(exc))
        except Exception as exc:  # a model that cannot start must not take the page down
            logger.exception("building the model failed")
            error.set(f"These settings cannot run: {type(exc).__name__}: {exc}")

    def change(**values: Any) -> None:
        rebuild(replace(controls.value, **values))

    def choose_scenario(path: str) -> None:
        try:
            new = controls_from_scenario(path, dashboard.config.base_values)
        except Exception as exc:  # a broken file is a message, not a crash
            playing.set(False)
            controls.set(replace(controls.value, scenario=path))
            error.set(error_text(exc))
            return
        rebuild(new)

    def advance(action) -> None:
        started = time.perf_counter()
        try:
            snapshot.set(action())
        except Exception as exc:  # a failing model must not take the page down
            logger.exception("model step failed")
            playing.set(False)
            error.set(f"The model stopped in {snapshot.value.year + 1} with an error: {type(exc).__name__}: {exc}. "
                      "Press Reset or change a setting to start again.")
            return
        last_update_ms.current = 1000 * (time.perf_counter() - started)
        timing.set(f"last update took {last_update_ms.current:.0f} ms")

    def tick() -> None:
        advance(dashboard.step)
        if not snapshot.value.running:
            playing.set(False)

    snap = snapshot.value
    c = controls.value
    can_step = snap.running and error.value is None
    solara.Title(f"{snap.year} · {snap.scenario_name} · sim")
    solara.Style(CSS)
    strategy_items = [("as in the scenario file", FROM_FILE)] + [(label, name) for name, label in STRATEGY_LABELS.items()]

    with solara.Div(classes=["sim-app"]):
        with solara.Div(classes=["sim-side"]):
            solara.HTML(tag="div", classes=["brand"], unsafe_innerHTML=(
                "<div class='t'>Science and regional growth</div>"
                "<div class='s'>China's 31 provinces invest in science: move a slider, press Step</div>"))
            with solara.Div(classes=["buttons"]):
                solara.Button("Step", icon_name="mdi-skip-next", color="primary", disabled=not can_step,
                              on_click=lambda: advance(dashboard.step), classes=["btn-step"])
                solara.Button("Pause" if playing.value else "Play",
                              icon_name="mdi-pause" if playing.value else "mdi-play", color="primary",
                              outlined=True, disabled=not can_step and not playing.value,
                              on_click=lambda: playing.set(not playing.value), classes=["btn-play"])
                solara.Button("To the end", icon_name="mdi-fast-forward", outlined=True, disabled=not can_step,
                              on_click=lambda: advance(dashboard.run_to_end), classes=["btn-end"])
                solara.Button("Reset", icon_name="mdi-restart", outlined=True,
                              on_click=lambda: rebuild(controls.value), classes=["btn-reset"])
            Slider("Play speed", speed.value, 1, 10, 1, 0, " years a second", "", "ctl-speed",
                   lambda v: speed.set(int(v)))
            Ticker(playing.value and can_step, max(30, 1000 / speed.value - last_update_ms.current), snap.version,
                   tick)

            solara.HTML(tag="div", unsafe_innerHTML="Scenario", classes=["section"])
            Choice("Scenario file", c.scenario, dashboard.config.scenario_choices(),
                   "Any change below starts the run again from the first year.", "ctl-scenario", choose_scenario)

            solara.HTML(tag="div", unsafe_innerHTML="Science money and people", classes=["section"])
            Slider("National R&D intensity", c.rd_intensity_target, 0.0, 10.0, 0.1, 1, " % of GDP",
                   "R&D spending reached in the target year (2.54 % of GDP in 2022).", "ctl-rd",
                   lambda v: change(rd_intensity_target=float(v)))
            Slider("Graduate mobility", c.graduate_mobility, 0.0, 1.0, 0.05, 2, "",
                   "Share of new graduates who look for work outside their home province.", "ctl-mobility",
                   lambda v: change(graduate_mobility=float(v)))

            solara.HTML(tag="div", unsafe_innerHTML="Strategy by region", classes=["section"])
            for group in REGION_GROUPS:
                Choice(group.capitalize(), getattr(c, group), strategy_items, "", f"ctl-{group}",
                       lambda v, g=group: change(**{g: v}))
            Choice("Consumer-niche coordination", c.coordination,
                   [("independent: all chase the biggest market", "independent"),
                    ("coordinated: each its own market", "coordinated")],
                   "How consumer_niche provinces choose their market segment.", "ctl-coordination",
                   lambda v: change(coordination=v))
            solara.Switch(label="Imitation: every 5 years, copy a faster-growing neighbour", value=c.imitation,
                          on_value=lambda v: change(imitation=bool(v)), color="primary", classes=["ctl-imitation"])

            solara.HTML(tag="div", unsafe_innerHTML="World and time", classes=["section"])
            Slider("Global openness", c.openness, 0.0, 1.0, 0.05, 2, "",
                   "How open the world is to multinational R&D labs (1 = as in 2022).", "ctl-openness",
                   lambda v: change(openness=float(v)))
            Slider("Horizon", c.end_year, snap.start_year + 1, max(2100, c.end_year), 1, 0, "",
                   "The last year to simulate.", "ctl-horizon", lambda v: change(end_year=int(v)))
            solara.InputInt("Random seed", value=c.seed, on_value=lambda v: change(seed=int(v or 0)),
                            classes=["ctl-seed"], dense=True)
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(timing.value), classes=["timing"])

        with solara.Div(classes=["sim-main"]):
            Header(snap, playing.value)
            if error.value:
                solara.Error(f"{error.value} (The page still shows the last settings that worked.)",
                             classes=["sim-message", "sim-error"])
            solara.HTML(tag="div", unsafe_innerHTML=kpi_html(snap), classes=["sim-kpis"])
            with solara.Div(classes=["sim-row"]):
                with solara.Div(classes=["sim-stack"]):
                    with solara.Div(classes=["sim-card", "sim-map"]):
                        with solara.Div(classes=["head"]):
                            solara.HTML(tag="h3", unsafe_innerHTML=f"The provinces in {snap.year}")
                            solara.v.Select(v_model=map_variable.value, on_v_model=map_variable.set,
                                            hide_details=True, class_="ctl-map-variable", style_="max-width: 330px",
                                            items=select_items([(label, key) for key, label in MAP_VARIABLES.items()]),
                                            **vuetify_props(outlined=True))
                        TileMap(snap, map_variable.value)
                    with solara.Div(classes=["sim-card", "sim-events"]):
                        solara.HTML(tag="h3", unsafe_innerHTML="What happened, newest first")
                        solara.HTML(tag="div", unsafe_innerHTML=events_html(snap), classes=["sim-events-box"])
                with solara.Div(classes=["sim-stack"]):
                    with solara.Div(classes=["sim-card", "sim-top10"]):
                        interior = interior_in_top10(snap)
                        solara.HTML(tag="h3", unsafe_innerHTML=f"Top 10 by research output, {snap.year}")
                        solara.HTML(tag="div", classes=["sub"],
                                    unsafe_innerHTML=f"{interior} of the 10 are interior provinces.")
                        solara.HTML(tag="div", unsafe_innerHTML=top10_html(snap), classes=["sim-table"])
                    solara.HTML(tag="div", unsafe_innerHTML=TIPS_HTML, classes=["sim-card", "sim-tips"])
            with solara.Div(classes=["sim-charts"]):
                for key in CHARTS:
                    Chart(snap, key)


@solara.component
def Header(snapshot: Snapshot, playing: bool):
    """The big year, the scenario's name and description, and how far the run has got."""
    solara.HTML(tag="div", classes=["sim-header"], unsafe_innerHTML=header_html(snapshot, playing))


@solara.component
def TileMap(snapshot: Snapshot, variable: str):
    """The tile-grid map; redrawn only when the year or the variable changes."""
    png = solara.use_memo(lambda: draw_outside_session(draw_tile_map, snapshot, variable),
                          [snapshot.version, variable])
    solara.Image(png, classes=["sim-map-image"])


@solara.component
def Chart(snapshot: Snapshot, key: str):
    """One time-series chart in a card; redrawn only when the snapshot changes."""
    png = solara.use_memo(lambda: draw_outside_session(draw_chart, snapshot, key), [snapshot.version, key])
    with solara.Div(classes=["sim-card", f"sim-chart-{key}"]):
        solara.HTML(tag="h3", unsafe_innerHTML=html.escape(CHARTS[key].title))
        solara.Image(png)
