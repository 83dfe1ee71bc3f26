"""The Solara page: the sidebar of controls, and what the model does, laid out and kept in step.

The components only hold state and lay things out: the model lives in a
:class:`~sim.app.session.Dashboard`, the pictures (SVG) come from :mod:`sim.app.charts` and the
HTML pieces from :mod:`sim.app.fragments`. Every control has a tooltip (:data:`TIPS`); a click on
a province of the map plots its history against the nation's; the Model tab explains the yearly
cycle and the strategies. Serve it with ``sim app`` (or ``solara run sim.app.page``).
"""

from __future__ import annotations

import html
import logging
import math
import time
from dataclasses import replace
from typing import Any

import solara

from sim.app.charts import CHARTS, MAP_VARIABLES, draw_chart, draw_province, draw_tile_map
from sim.app.controls import FROM_FILE, REGION_GROUPS, STRATEGY_LABELS, AppConfig, Controls, controls_from_scenario
from sim.app.fragments import (
    TIPS_HTML,
    error_text,
    events_html,
    header_html,
    interior_in_top10,
    kpi_html,
    model_html,
    top10_html,
)
from sim.app.session import Dashboard, Snapshot
from sim.app.style import CSS, set_theme
from sim.app.widgets import Choice, Picture, Slider, Ticker, select_items, vuetify_props
from sim.errors import SimError

logger = logging.getLogger(__name__)


@solara.component
def Layout(children=[]):  # noqa: B006 (Solara's layout signature)
    """No app bar or drawer from Solara: :func:`Page` lays out its own sidebar and main area."""
    return solara.Div(children=children)


class Actions:
    """What the buttons and controls do: one object per page, so that its methods stay the same objects
    from render to render (components whose arguments did not change are then not rendered again)."""

    def __init__(self, dashboard: Dashboard, controls, snapshot, error, playing, speed, tab) -> None:
        self.dashboard = dashboard
        self.controls, self.snapshot, self.error, self.playing, self.speed = controls, snapshot, error, playing, speed
        self.tab = tab
        self.timing = ""
        self.play_rate = ""
        self.ticks: list[tuple[float, int]] = []
        self.years_per_tick = 1

    def rebuild(self, new: Controls) -> None:
        self.playing.set(False)
        self.controls.set(new)
        try:
            self.snapshot.set(self.dashboard.build(new))
            self.error.set(None)
        except SimError as exc:
            self.error.set(error_text(exc, new.scenario))
        except Exception as exc:  # a model that cannot start must not take the page down
            logger.exception("building the model failed")
            self.error.set(f"These settings cannot run: {type(exc).__name__}: {exc}")

    def reset(self) -> None:
        self.rebuild(self.controls.value)

    def change(self, **values: Any) -> None:
        self.rebuild(replace(self.controls.value, **values))

    def choose_scenario(self, path: str) -> None:
        try:
            new = controls_from_scenario(path, self.dashboard.config.base_values)
        except Exception as exc:  # a broken file is a message, not a crash
            self.playing.set(False)
            self.controls.set(replace(self.controls.value, scenario=path))
            self.error.set(error_text(exc, path))
            return
        self.rebuild(new)

    def advance(self, action) -> None:
        """Run ``action`` (a step, or to the end) and show its snapshot: one state change, one render."""
        started = time.perf_counter()
        try:
            snapshot = action()
        except Exception as exc:  # a failing model must not take the page down
            logger.exception("model step failed")
            self.playing.set(False)
            self.error.set(f"The model stopped in {self.snapshot.value.year + 1} with an error: "
                           f"{type(exc).__name__}: {exc}. Press Reset or change a setting to start again.")
            return
        self.timing = f"The model took {1000 * (time.perf_counter() - started):.0f} ms for the last update."
        self.snapshot.set(snapshot)

    def step(self) -> None:
        self.advance(self.dashboard.step)

    def to_the_end(self) -> None:
        self.advance(self.dashboard.run_to_end)

    def toggle_play(self) -> None:
        self.ticks = []
        self.years_per_tick = 1
        self.playing.set(not self.playing.value)

    def tick_interval_ms(self) -> int:
        """How long the play ticker waits between two requests: the time ``years_per_tick`` years take at the speed."""
        return int(1000 * self.years_per_tick / self.speed.value)

    def tick(self) -> None:
        """One request of Play: simulate ``years_per_tick`` years and show the last.

        Play keeps the speed it states: when the page takes longer to show a year than the speed
        allows (the ticks come further apart than asked), each request simulates more years and the
        page draws every second or third of them. The rate reached, in years a second, is measured
        over the latest requests and shown.
        """
        speed = self.speed.value
        now = time.perf_counter()
        self.ticks = (self.ticks + [(now, self.snapshot.value.year)])[-PLAY_WINDOW:]
        recent = self.ticks[-4:]
        if len(recent) >= 3:
            gap = (recent[-1][0] - recent[0][0]) / (len(recent) - 1)  # seconds between requests
            if gap > 1.1 * self.years_per_tick / speed:  # falling behind: more years per request
                self.years_per_tick = min(MAX_YEARS_PER_TICK, max(self.years_per_tick, math.ceil(speed * gap)))
        if len(self.ticks) >= 3:
            (t0, y0), (t1, y1) = self.ticks[0], self.ticks[-1]
            drawn = "" if self.years_per_tick == 1 else f", drawing every {ordinal(self.years_per_tick)} year"
            self.play_rate = f"Playing at {(y1 - y0) / (t1 - t0):.1f} years a second{drawn} (asked for {speed})."
        self.advance(lambda: self.dashboard.step(self.years_per_tick))
        if not self.snapshot.value.running:
            self.playing.set(False)


def ordinal(n: int) -> str:
    """2nd, 3rd, 4th, ..."""
    return f"{n}{'nd' if n == 2 else 'rd' if n == 3 else 'th'}"


MAX_YEARS_PER_TICK = 5
"""Play never skips drawing more than this many years in a row."""


@solara.component
def Page():
    """The dashboard: controls on the left, what the model does on the right (with a Model tab)."""
    def initialise():
        config = AppConfig.from_environment()
        dashboard = Dashboard(config)
        try:
            controls = controls_from_scenario(config.initial_scenario, config.base_values)
            return dashboard, controls, dashboard.build(controls), None
        except Exception as exc:  # show the problem on the page, with the built-in defaults behind it
            logger.exception("opening %s failed", config.initial_scenario)
            controls = controls_from_scenario("")
            return dashboard, controls, dashboard.build(controls), error_text(exc, config.initial_scenario)

    dashboard, controls0, snapshot0, error0 = solara.use_memo(initialise, [])
    solara.use_memo(set_theme, [])
    controls = solara.use_reactive(controls0)
    snapshot = solara.use_reactive(snapshot0)
    error = solara.use_reactive(error0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    map_variable = solara.use_reactive("gdp_per_capita")
    map_scale = solara.use_reactive("fixed")
    selected = solara.use_reactive(None)
    tab = solara.use_reactive(0)
    actions = solara.use_memo(lambda: Actions(dashboard, controls, snapshot, error, playing, speed, tab), [])

    # the page reads every state it shows here, once: a change is then one render of the tree, in which
    # components whose arguments did not change (the sidebar's controls during a run) are not run again
    snap = snapshot.value
    can_step = snap.running and error.value is None
    solara.Style(CSS)
    with solara.Div(classes=["sim-app"]):
        with solara.Div(classes=["sim-side"]):
            SidebarTop(can_step, playing.value, speed.value, actions)
            PlayStatus(snap.version, playing.value and can_step, speed.value, actions)
            SidebarControls(controls.value, actions)
        with solara.Div(classes=["sim-main"]):
            MainArea(snap, error.value, playing.value, actions, map_variable, map_scale, selected, tab.value)


@solara.component
def MainArea(snap: Snapshot, error: str | None, playing: bool, actions: Actions, map_variable, map_scale, selected,
             tab: int):
    """The year, any message, and the two tabs: what every year redraws."""
    solara.Title(f"{snap.year} · {snap.scenario_name} · sim")
    Header(snap, playing)
    if error:
        solara.Error(f"{error} (The page still shows the last settings that worked.)",
                     classes=["sim-message", "sim-error"])
    solara.v.Tabs(v_model=tab, on_v_model=lambda v: actions.tab.set(int(v or 0)), color="primary",
                  class_="sim-tabs", children=[
                      solara.v.Tab(children=["The run"], class_="tab-run", value=0),
                      solara.v.Tab(children=["The model: how it works"], class_="tab-model", value=1)])
    if tab == 1:
        ModelTab()
    else:
        RunView(snap, map_variable, map_scale, selected)


@solara.component
def SidebarTop(can_step: bool, playing: bool, speed: int, actions: Actions):
    """The title, the Step / Play / To the end / Reset buttons and the play speed."""
    solara.HTML(tag="div", classes=["brand"], unsafe_innerHTML=(
        "<div class='t'>Science and regional growth</div>"
        "<div class='s'>China's 31 provinces invest in science: move a slider, press Step</div>"))
    with solara.Div(classes=["buttons"]):
        with Tip(TIPS["step"]):
            solara.Button("Step", icon_name="mdi-skip-next", color="primary", disabled=not can_step,
                          on_click=actions.step, classes=["btn-step"])
        with Tip(TIPS["play"]):
            solara.Button("Pause" if playing else "Play", icon_name="mdi-pause" if playing else "mdi-play",
                          color="primary", outlined=True, disabled=not can_step and not playing,
                          on_click=actions.toggle_play, classes=["btn-play"])
        with Tip(TIPS["end"]):
            solara.Button("To the end", icon_name="mdi-fast-forward", outlined=True, disabled=not can_step,
                          on_click=actions.to_the_end, classes=["btn-end"])
        with Tip(TIPS["reset"]):
            solara.Button("Reset", icon_name="mdi-restart", outlined=True, on_click=actions.reset,
                          classes=["btn-reset"])
    Slider("Play speed", speed, 1, 10, 1, 0, " years a second", "", "ctl-speed",
           lambda v: actions.speed.set(int(v)), TIPS["speed"])


@solara.component
def PlayStatus(version: int, active: bool, speed: int, actions: Actions):
    """The play ticker, the speed Play reaches and how long the model took (rendered at every update)."""
    Ticker(active, actions.tick_interval_ms(), version, actions.tick)
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(actions.play_rate), classes=["play-rate"])
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(actions.timing), classes=["timing"])


@solara.component
def SidebarControls(c: Controls, actions: Actions):
    """The scenario file and the parameters (rendered again only when a setting changes)."""
    change = actions.change
    start_year = actions.dashboard.model.start_year
    strategy_items = [("as in the scenario file", FROM_FILE)] + [(label, name) for name, label in STRATEGY_LABELS.items()]
    solara.HTML(tag="div", unsafe_innerHTML="Scenario", classes=["section"])
    Choice("Scenario file", c.scenario, actions.dashboard.config.scenario_choices(),
           "Any change below starts the run again from the first year.", "ctl-scenario", actions.choose_scenario,
           TIPS["scenario"])

    solara.HTML(tag="div", unsafe_innerHTML="Science money and people", classes=["section"])
    Slider("National R&D intensity", c.rd_intensity_target, 0.0, 10.0, 0.1, 1, " % of GDP",
           "R&D spending reached in the target year (2.54 % of GDP in 2022).", "ctl-rd",
           lambda v: change(rd_intensity_target=float(v)), TIPS["rd"])
    Slider("Graduate mobility", c.graduate_mobility, 0.0, 1.0, 0.05, 2, "",
           "Share of new graduates who look for work outside their home province.", "ctl-mobility",
           lambda v: change(graduate_mobility=float(v)), TIPS["mobility"])

    solara.HTML(tag="div", unsafe_innerHTML="Strategy by region", classes=["section"])
    for group in REGION_GROUPS:
        Choice(group.capitalize(), getattr(c, group), strategy_items, "", f"ctl-{group}",
               lambda v, g=group: change(**{g: v}), TIPS["region"].format(region=group))
    Choice("Consumer-niche coordination", c.coordination,
           [("independent", "independent"), ("coordinated", "coordinated")],
           "Independent: consumer_niche provinces all chase the biggest market; coordinated: each is "
           "given its own.", "ctl-coordination", lambda v: change(coordination=v), TIPS["coordination"])
    with Tip(TIPS["imitation"], "ctl-imitation-box"):
        solara.Switch(label="Imitation: every 5 years, copy a faster-growing neighbour", value=c.imitation,
                      on_value=lambda v: change(imitation=bool(v)), color="primary", classes=["ctl-imitation"])

    solara.HTML(tag="div", unsafe_innerHTML="World and time", classes=["section"])
    Slider("Global openness", c.openness, 0.0, 1.0, 0.05, 2, "",
           "How open the world is to multinational R&D labs (1 = as in 2022).", "ctl-openness",
           lambda v: change(openness=float(v)), TIPS["openness"])
    Slider("Horizon", c.end_year, start_year + 1, max(2100, c.end_year), 1, 0, "",
           "The last year to simulate.", "ctl-horizon", lambda v: change(end_year=int(v)), TIPS["horizon"])
    with Tip(TIPS["seed"]):
        solara.InputInt("Random seed", value=c.seed, on_value=lambda v: change(seed=int(v or 0)),
                        classes=["ctl-seed"], dense=True)


@solara.component
def ModelTab():
    """The Model tab: the yearly cycle and the strategies in plain words."""
    solara.HTML(tag="div", unsafe_innerHTML=model_html(), classes=["sim-card", "sim-model"])


PLAY_WINDOW = 12
"""The play rate shown is measured over this many of the latest years."""

TIPS: dict[str, str] = {
    "step": "Simulate one more year.",
    "play": "Keep simulating, year after year, at the play speed; press again to pause.",
    "end": "Simulate every year up to the horizon at once.",
    "reset": "Start again from the first year with the same settings (the run you leave becomes the dashed lines).",
    "speed": "How many years Play simulates each second. The line below says the speed actually reached.",
    "scenario": "The scenario file the run starts from: its story, its strategies and its events. "
                "The controls below change it.",
    "rd": "National spending on research and development as a share of GDP, reached in 2035 (2.54 % in 2022). "
          "More money means more research everywhere, but it is shared out by GDP: rich provinces get most.",
    "mobility": "Share of new graduates who look for work beyond their home province, where pay is best. "
                "0 = everyone stays at home.",
    "region": "The development strategy of the {region} region's provinces ('as in the scenario file' keeps "
              "what the file gives them). The Model tab explains each strategy.",
    "coordination": "Consumer-niche provinces either all chase the biggest national market (independent) or "
                    "are each given their own (coordinated).",
    "imitation": "When on, every five years each province looks at a neighbour and may copy its strategy if "
                 "that neighbour grew faster.",
    "openness": "How open the world is to multinational research labs: 1 = as open as in 2022, 0 = closed. "
                "Matters for the foreign_multinational strategy.",
    "horizon": "The last year the run simulates.",
    "seed": "Chance events (fund failures, labs arriving, strategy copying) come from this number: "
            "another seed, another draw. Same seed, same run.",
    "map_variable": "What the map's colours show.",
    "map_scale": "On: one colour scale from the first year to the horizon, so a colour means the same value "
                 "in every year. Off: the colours stretch over this year's range.",
    "map": "Click a province to plot its history against the nation's.",
    "province": "Pick a province to plot its history (or click it on the map).",
}
"""The tooltip of every control (what it changes, in the page's words)."""


@solara.component
def Tip(text: str, css: str = "", children=[]):  # noqa: B006 (Solara's children signature)
    """A box whose tooltip (the browser's, on hover) is ``text``, around a control."""
    return solara.Div(children=children, classes=["ctl", css] if css else ["ctl"], attributes={"title": text})


@solara.component
def RunView(snap: Snapshot, map_variable, map_scale, selected):
    """The run tab: headline numbers, the map, the events, the top 10, a chosen province and the charts."""
    solara.HTML(tag="div", unsafe_innerHTML=kpi_html(snap), classes=["sim-kpis"])
    with solara.Div(classes=["sim-row"]):
        with solara.Div(classes=["sim-stack"]):
            with solara.Div(classes=["sim-card", "sim-map"]):
                with solara.Div(classes=["head"]):
                    solara.HTML(tag="h3", unsafe_innerHTML=f"The provinces in {snap.year}")
                    with Tip(TIPS["map_variable"], "map-variable-box"):
                        solara.v.Select(v_model=map_variable.value, on_v_model=map_variable.set,
                                        hide_details=True, class_="ctl-map-variable",
                                        items=select_items([(label, key) for key, label in MAP_VARIABLES.items()]),
                                        **vuetify_props(outlined=True))
                with solara.Div(classes=["map-options"]):
                    with Tip(TIPS["map_scale"]):
                        solara.Switch(label="Same colours all run", value=map_scale.value == "fixed",
                                      on_value=lambda v: map_scale.set("fixed" if v else "per_year"),
                                      color="primary", classes=["ctl-map-scale"],
                                      disabled=map_variable.value == "strategy")
                    solara.HTML(tag="div", classes=["map-hint"], unsafe_innerHTML="Click a province to plot it.")
                TileMap(snap, map_variable.value, map_scale.value, selected.value, selected.set)
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
    if selected.value in snap.names:
        ProvinceCard(snap, selected.value, selected.set)
    with solara.Div(classes=["sim-charts"]):
        for key in CHARTS:
            Chart(snap, key)


@solara.component
def Header(snapshot: Snapshot, playing: bool):
    """The big year, the scenario's name and description, and how far the run has got."""
    solara.HTML(tag="div", classes=["sim-header"], unsafe_innerHTML=header_html(snapshot, playing))


@solara.component
def TileMap(snapshot: Snapshot, variable: str, scale: str, selected: str | None, on_pick):
    """The tile-grid map (SVG); a click on a province calls ``on_pick`` with its name."""
    picture = solara.use_memo(lambda: draw_tile_map(snapshot, variable, scale, selected),
                              [snapshot.version, variable, scale, selected])
    Picture(picture, "sim-map-picture", TIPS["map"], on_pick)


@solara.component
def ProvinceCard(snapshot: Snapshot, name: str, on_choose):
    """One province's history against the nation's, with a list to pick another and a button to close it."""
    i = snapshot.names.index(name)
    picture = solara.use_memo(lambda: draw_province(snapshot, name), [snapshot.version, name])
    with solara.Div(classes=["sim-card", "sim-province"]):
        with solara.Div(classes=["head"]):
            solara.HTML(tag="h3", unsafe_innerHTML=(
                f"{html.escape(name)} ({html.escape(snapshot.capitals[i])}) against the nation, "
                f"{snapshot.start_year}–{snapshot.year}"))
            with solara.Div(classes=["province-tools"]):
                with Tip(TIPS["province"], "province-box"):
                    solara.v.Select(v_model=name, on_v_model=lambda v: on_choose(v) if v else None,
                                    hide_details=True, class_="ctl-province",
                                    items=select_items([(n, n) for n in sorted(snapshot.names)]),
                                    **vuetify_props(outlined=True))
                with Tip("Close the province plot."):
                    solara.Button("Close", icon_name="mdi-close", text=True, on_click=lambda: on_choose(None),
                                  classes=["btn-close-province"])
        Picture(picture, "sim-province-picture")


@solara.component
def Chart(snapshot: Snapshot, key: str):
    """One time-series chart in a card; redrawn only when the snapshot changes."""
    picture = solara.use_memo(lambda: draw_chart(snapshot, key), [snapshot.version, key])
    with solara.Div(classes=["sim-card", f"sim-chart-{key}"]):
        solara.HTML(tag="h3", unsafe_innerHTML=html.escape(CHARTS[key].title))
        Picture(picture, "sim-chart-picture")
