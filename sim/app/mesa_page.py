"""Mesa's way in: the model in Mesa's own dashboard, :class:`mesa.visualization.SolaraViz`.

Run it with ``solara run sim/app/mesa_page.py`` (from the project folder). It is the page a Mesa user
expects: SolaraViz's sidebar with Step / Play / Reset, its play interval, the ``model_params``
(sliders, a drop-down list and a checkbox that re-create the model on Reset) and the project's
components, each a function of the model that Mesa calls again after every step:

* :func:`Headline`: the year and the six headline numbers;
* :func:`ProvinceMap`: the tile-grid map, coloured by a chosen variable on a scale fixed over the run;
* :func:`Top10`: the ten provinces with the most research output;
* :func:`NationalCharts`: inequality, GDP, research output and the interior's share;
* :func:`Events`: what happened, newest first.

The same pictures as ``sim app`` (:mod:`sim.app.charts`, :mod:`sim.app.fragments`); ``sim app``
adds what SolaraViz has no place for: the previous run as dashed lines, the province plot, the
strategy of each region, tooltips and messages in the page's words (docs/for_students.md maps one
page onto the other).
"""

from __future__ import annotations

import weakref
from pathlib import Path

import solara
from mesa.visualization import Slider, SolaraViz

from sim.app.charts import CHARTS, MAP_VARIABLES, draw_chart, draw_tile_map
from sim.app.controls import default_scenario_dir
from sim.app.fragments import events_html, header_html, interior_in_top10, kpi_html, top10_html
from sim.app.session import RunRange, Snapshot, look_ahead, model_snapshot
from sim.app.style import CSS
from sim.app.widgets import Picture, select_items, vuetify_props
from sim.model import RegionalGrowthModel


def scenario_files() -> list[str]:
    """Every scenario file on offer (paths), baseline.toml first."""
    folder = default_scenario_dir()
    files = sorted(folder.glob("*.toml"), key=lambda p: (p.name != "baseline.toml", p.name)) if folder else []
    here = Path.cwd().resolve()
    return [str(p.resolve().relative_to(here)) if p.resolve().is_relative_to(here) else str(p) for p in files]


SCENARIOS = scenario_files()


@solara.component
def ComponentsColumn(components: list, model):
    """Mesa's components, page by page, one below the other (SolaraViz's ``ComponentsView`` without its grid).

    The same (component, page) list and the same wrapping (each component drawn again after every
    step, through Mesa's ``update_counter``); tabs when there is more than one page.
    """
    from mesa.visualization.solara_viz import _wrap_component

    pages: dict[int, list] = {}
    for item in components:
        component, page_index = item if isinstance(item, tuple) else (item, 0)
        pages.setdefault(page_index, []).append(_wrap_component(component))
    current, set_current = solara.use_state(min(pages) if pages else 0)
    if len(pages) > 1:
        solara.v.Tabs(v_model=current, on_v_model=set_current,
                      children=[solara.v.Tab(children=[f"Page {index}"], value=index) for index in sorted(pages)])
    with solara.Column(classes=["sim-mesa-components"]):
        for component in pages.get(current, []):
            component(model)


def vuetify3_for_mesa() -> None:
    """Let Mesa 3.3's SolaraViz show its components with ipyvuetify 3 (which Solara 1.64 uses).

    SolaraViz 3.3 lays its components out with Vuetify 2's ``TabsItems``, which Vuetify 3 removed
    ("module 'reacton.ipyvuetify' has no attribute 'TabsItems'"; Mesa replaces it after 3.3, pull
    request mesa/mesa#2919), in Solara's draggable grid, whose browser code needs Vue 2 (a blank page
    and "GlobalVue.use is not a function" in the browser: issue mesa/mesa#3806). Under ipyvuetify 3
    this replaces SolaraViz's ``ComponentsView`` with :func:`ComponentsColumn`; under ipyvuetify 2
    nothing changes.
    """
    import mesa.visualization.solara_viz as solara_viz
    from solara.util import IPYVUETIFY_V3

    if IPYVUETIFY_V3:
        solara_viz.ComponentsView = ComponentsColumn


vuetify3_for_mesa()

model_params = {
    "scenario": {"type": "Select", "value": SCENARIOS[0] if SCENARIOS else "", "values": SCENARIOS,
                 "label": "Scenario file"},
    "investment__rd_intensity_target": Slider("National R&D intensity (% of GDP)", 3.2, 0.0, 10.0, 0.1),
    "migration__graduate_mobility": Slider("Graduate mobility", 0.35, 0.0, 1.0, 0.05),
    "economy__openness": Slider("Global openness", 1.0, 0.0, 1.0, 0.05),
    "imitation__enabled": {"type": "Checkbox", "value": False, "label": "Imitation every 5 years"},
    "run__end_year": Slider("Horizon", 2050, 2030, 2100, 1),
    "seed": Slider("Random seed", 1, 0, 99, 1),
}
"""SolaraViz's model parameters: keyword arguments of :class:`~sim.model.RegionalGrowthModel` (``__`` for
the dots of a scenario key), as ``mesa.batch_run`` takes them."""

class SolaraVizModel(RegionalGrowthModel):
    """:class:`~sim.model.RegionalGrowthModel` with its keyword parameters named ``**kwargs``.

    SolaraViz 3.3 checks a model's parameters against its ``__init__`` and accepts any keyword
    only when the catch-all is literally named ``kwargs`` (it reports "Missing required model
    parameter: params" otherwise). Nothing else differs.
    """

    def __init__(self, scenario=None, *, seed: int | None = None, **kwargs) -> None:
        super().__init__(scenario, seed=seed, **kwargs)


_RANGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def run_range(model: RegionalGrowthModel) -> RunRange:
    """The range of every map variable over the model's whole run (a look-ahead with the same scenario and seed,
    taken once per model)."""
    if model not in _RANGES:
        _RANGES[model] = look_ahead(RegionalGrowthModel(model.scenario, seed=model.seed))
    return _RANGES[model]


def snapshot(model: RegionalGrowthModel) -> Snapshot:
    """What the components show about the model's current year."""
    return model_snapshot(model, run_range(model))


def Headline(model: RegionalGrowthModel):
    """The year, the scenario, and the six headline numbers."""
    snap = snapshot(model)
    with solara.Div(classes=["sim-app-mesa"]):
        solara.Style(CSS)
        solara.HTML(tag="div", classes=["sim-header"], unsafe_innerHTML=header_html(snap, False))
        solara.HTML(tag="div", unsafe_innerHTML=kpi_html(snap), classes=["sim-kpis"])


def ProvinceMap(model: RegionalGrowthModel):
    """The tile-grid map, coloured by the variable chosen above it."""
    variable = solara.use_reactive("gdp_per_capita")
    snap = snapshot(model)
    with solara.Div(classes=["sim-card", "sim-map"]):
        solara.v.Select(v_model=variable.value, on_v_model=variable.set, hide_details=True,
                        class_="ctl-map-variable",
                        items=select_items([(label, key) for key, label in MAP_VARIABLES.items()]),
                        **vuetify_props(outlined=True))
        Picture(draw_tile_map(snap, variable.value), "sim-map-picture")


def Top10(model: RegionalGrowthModel):
    """The ten provinces with the most research output."""
    snap = snapshot(model)
    with solara.Div(classes=["sim-card", "sim-top10"]):
        solara.HTML(tag="h3", unsafe_innerHTML=f"Top 10 by research output, {snap.year}")
        solara.HTML(tag="div", classes=["sub"],
                    unsafe_innerHTML=f"{interior_in_top10(snap)} of the 10 are interior provinces.")
        solara.HTML(tag="div", unsafe_innerHTML=top10_html(snap), classes=["sim-table"])


def NationalCharts(model: RegionalGrowthModel):
    """The four time-series charts."""
    snap = snapshot(model)
    with solara.Div(classes=["sim-charts"]):
        for key, spec in CHARTS.items():
            with solara.Div(classes=["sim-card", f"sim-chart-{key}"]):
                solara.HTML(tag="h3", unsafe_innerHTML=spec.title)
                Picture(draw_chart(snap, key), "sim-chart-picture")


def Events(model: RegionalGrowthModel):
    """What happened, newest first."""
    snap = snapshot(model)
    with solara.Div(classes=["sim-card", "sim-events"]):
        solara.HTML(tag="h3", unsafe_innerHTML="What happened, newest first")
        solara.HTML(tag="div", unsafe_innerHTML=events_html(snap), classes=["sim-events-box"])


COMPONENTS = [(Headline, 0), (ProvinceMap, 0), (Top10, 0), (NationalCharts, 0), (Events, 0)]
"""The project's components on SolaraViz's first page (functions of the model, called after every step)."""


def make_model() -> SolaraVizModel:
    """The model SolaraViz starts with: the first scenario file and the parameters' initial values."""
    values = {name: (p.value if isinstance(p, Slider) else p["value"]) for name, p in model_params.items()}
    scenario = values.pop("scenario") or None
    return SolaraVizModel(scenario, **values)


model = make_model()
page = SolaraViz(model, components=COMPONENTS, model_params=model_params, play_interval=250,
                 name="Science and regional growth (Mesa SolaraViz)")
"""The page ``solara run sim/app/mesa_page.py`` serves."""

__all__ = ["COMPONENTS", "SCENARIOS", "SolaraVizModel", "make_model", "model_params", "page"]

if __name__ == "__main__":  # pragma: no cover - ``python sim/app/mesa_page.py`` says how to serve it
    print(f"Serve it with: solara run {Path(__file__)}")
