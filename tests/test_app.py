"""The student dashboard: its plain-Python layer, and the page in a real browser.

The browser tests start ``python -m sim app`` once as a subprocess on 127.0.0.1 and open pages in headless
Chromium (Debian's, at /usr/bin/chromium). They check what the page shows, waiting for its content (never
for a fixed time, never asserting how long anything took): a Step redraws the year, map and table; a slider
changes the charts and the top-10 table; a bad combination of settings becomes a message in the page's
words; a click on a province plots it against the nation; the map's colour bar stays fixed over the run;
the Model tab; a tooltip on every control; Play; no label clipped at 1280 and 1024 px. Screenshots go to
``test-artifacts/``. The server is always stopped at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from sim.app import (
    CHARTS,
    FROM_FILE,
    STRATEGY_LABELS,
    AppConfig,
    Dashboard,
    controls_from_scenario,
    draw_chart,
    draw_tile_map,
    event_line,
    events_html,
    scenario_with_controls,
    top10_html,
)
from sim.app.charts import colour_scale, draw_province
from sim.app.fragments import error_text, model_html
from sim.errors import SimError

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ARTEFACTS = ROOT / "test-artifacts"
STARTUP_TIMEOUT_S = 180
"""Fail when the page has not appeared after this long (a hang, not a speed check: timing is in benchmarks/;
generous, so that a machine whose cores are all busy still passes)."""
UPDATE_TIMEOUT_MS = 120_000
"""Fail when a click has not redrawn the page after this long (a hang, not a speed check; generous, as above)."""

# --------------------------------------------------------------------------------------
# The plain-Python layer (no browser)


@pytest.fixture
def dashboard():
    return Dashboard(AppConfig(ROOT / "scenarios", str(ROOT / "scenarios" / "baseline.toml")))


def test_controls_read_the_scenario_and_become_values():
    controls = controls_from_scenario(str(ROOT / "scenarios" / "baseline.toml"))
    assert controls.rd_intensity_target == 3.2 and controls.end_year == 2050
    values = replace(controls, west="cas_branch", imitation=True, graduate_mobility=0.6).values()
    assert values["strategies.assign.west"] == "cas_branch"
    assert values["imitation.enabled"] is True and values["migration.graduate_mobility"] == 0.6
    assert not any("assign.east" in key for key in values)  # "as in the scenario file" adds nothing
    scenario = scenario_with_controls(replace(controls, west="cas_branch", seed=7))
    assert scenario.strategies.assign["west"] == "cas_branch" and scenario.run.seed == 7


def test_command_line_values_are_parsed_once_and_apply_to_every_run(monkeypatch):
    monkeypatch.setenv("SIM_APP_SCENARIO", str(ROOT / "scenarios" / "baseline.toml"))
    monkeypatch.setenv("SIM_APP_OVERRIDES", json.dumps(["run.end_year=2030", "economy.openness=0.5"]))
    config = AppConfig.from_environment()
    assert config.base_values == {"run.end_year": 2030, "economy.openness": 0.5}
    controls = controls_from_scenario(config.initial_scenario, config.base_values)
    assert controls.end_year == 2030 and controls.openness == 0.5
    monkeypatch.setenv("SIM_APP_OVERRIDES", "not json")
    assert AppConfig.from_environment().base_values == {}


def test_scenario_choices_list_every_file(dashboard):
    names = [label for label, _ in dashboard.config.scenario_choices()]
    assert "baseline.toml" in names and names[-1] == "(built-in defaults)"
    assert len(names) == len(list((ROOT / "scenarios").glob("*.toml"))) + 1


def test_step_changes_what_the_page_shows(dashboard):
    controls = controls_from_scenario(str(ROOT / "scenarios" / "baseline.toml"))
    first = dashboard.build(controls)
    second = dashboard.step()
    assert (first.year, second.year) == (2022, 2023) and second.version > first.version
    assert top10_html(first) != top10_html(second)
    assert draw_tile_map(first, "gdp_per_capita") != draw_tile_map(second, "gdp_per_capita")
    for key in CHARTS:
        assert draw_chart(second, key).startswith("<svg")
    for variable in ("research_output", "skilled_share", "growth", "strategy"):
        picture = draw_tile_map(second, variable)
        assert picture.startswith("<svg") and picture.endswith("</svg>")
        assert all(f'data-province="{name}"' in picture for name in second.names)  # every tile can be clicked
    assert "Beijing" in top10_html(second)  # the capital city is in the table


def _tick_labels(picture: str) -> list[str]:
    """The colour bar's tick labels of a map (text right of the bar's tick marks)."""
    return re.findall(r'<line x1="[\d.]+" x2="[\d.]+" y1="[\d.]+" y2="[\d.]+" stroke="#444444"/><text [^>]*>([^<]*)</text>',
                      picture)


def test_the_map_scale_is_fixed_over_the_run_unless_asked_per_year(dashboard):
    dashboard.build(controls_from_scenario(str(ROOT / "scenarios" / "mixed.toml")))
    snapshots = [dashboard.snapshot()]
    while snapshots[-1].running:
        snapshots.append(dashboard.step())
    assert len(snapshots) == 2050 - 2022 + 1
    run_range = snapshots[0].run_range
    for snapshot in snapshots:  # the look-ahead saw every value the run shows (same settings, same seed)
        for variable, (low, high) in run_range.spans.items():
            values = snapshot.values[variable]
            assert values.min() >= low - 1e-9 * abs(low) and values.max() <= high + 1e-9 * abs(high), variable
    for variable in ("gdp_per_capita", "research_output", "skilled_share"):
        fixed = [colour_scale(s, variable, "fixed") for s in (snapshots[0], snapshots[10], snapshots[-1])]
        assert len({(cs.low, cs.high) for cs in fixed}) == 1, variable
        assert len({cs.colour(fixed[0].high / 2 + fixed[0].low / 2) for cs in fixed}) == 1  # a value keeps its colour
        per_year = {(colour_scale(s, variable, "per_year").low, colour_scale(s, variable, "per_year").high)
                    for s in (snapshots[0], snapshots[-1])}
        assert len(per_year) == 2, variable
    first, last = (draw_tile_map(s, "gdp_per_capita") for s in (snapshots[1], snapshots[-1]))
    assert _tick_labels(first) == _tick_labels(last) and len(_tick_labels(first)) >= 3
    assert "colours fixed over 2022–2050" in last
    per_year = draw_tile_map(snapshots[-1], "gdp_per_capita", "per_year")
    assert _tick_labels(per_year) != _tick_labels(draw_tile_map(snapshots[1], "gdp_per_capita", "per_year"))
    assert "colours stretched over 2050" in per_year


def test_the_growth_map_is_diverging_red_blue_around_the_nation(dashboard):
    import matplotlib as mpl

    dashboard.build(controls_from_scenario(str(ROOT / "scenarios" / "baseline.toml")))
    snapshot = dashboard.step(10)
    cs = colour_scale(snapshot, "growth")
    assert cs.centre == pytest.approx(snapshot.national_growth)
    assert cs.centre - cs.low == pytest.approx(cs.high - cs.centre)  # symmetric about the nation
    slow, middle, fast = (mpl.colors.to_rgb(cs.colour(v)) for v in (cs.low, cs.centre, cs.high))
    assert slow[0] > slow[2] + 0.2 and fast[2] > fast[0] + 0.2  # red below the nation, blue above
    assert min(middle) > 0.9  # near white at the nation's growth
    for end in (slow, fast):  # no red-green contrast: green never the strongest channel at either end
        assert end[1] < max(end[0], end[2])
    assert "than the nation" in draw_tile_map(snapshot, "growth")


def test_a_province_plot_shows_its_history_against_the_nation(dashboard):
    dashboard.build(controls_from_scenario(str(ROOT / "scenarios" / "mixed.toml")))
    snapshot = dashboard.step(12)
    assert [year.year for year in snapshot.history] == list(range(2022, 2035))
    picture = draw_province(snapshot, "Anhui")
    for title in ("GDP per person", "Research output", "Graduates", "Research institutes", "the nation"):
        assert title in picture
    anhui = snapshot.names.index("Anhui")
    assert f"{snapshot.history[-1].research_output[anhui]:,.0f}" in picture  # the end label is this year's value
    assert "2022: hefei" in picture  # the strategy band starts with the file's strategy
    with pytest.raises(ValueError):
        draw_province(snapshot, "Atlantis")


def test_errors_are_phrased_in_the_page_terms(dashboard):
    hefei = str(ROOT / "scenarios" / "hefei.toml")
    controls = controls_from_scenario(hefei)
    dashboard.build(controls)
    with pytest.raises(SimError) as error:
        dashboard.build(replace(controls, central="cas_branch"))
    text = error_text(error.value, hefei)
    assert text.startswith("Central strategy 'cas_branch' clashes with hefei.toml")
    assert "'as in the scenario file'" in text and "strategies.assign" not in text
    with pytest.raises(SimError) as error:
        dashboard.build(replace(controls, rd_intensity_target=50.0))
    assert error_text(error.value, hefei) == "National R&D intensity: 50.0 is too high; the most it can be is 10."
    broken = ROOT / "test-artifacts" / "broken_scenario.toml"
    broken.parent.mkdir(exist_ok=True)
    broken.write_text('[run]\nend_year = "soon"\n')
    with pytest.raises(SimError) as error:
        controls_from_scenario(str(broken))
    assert error_text(error.value, str(broken)).startswith("The scenario file broken_scenario.toml cannot be used: "
                                                           "[run] end_year:")


def test_the_model_tab_describes_the_yearly_cycle_and_every_strategy():
    text = model_html()
    for strategy in STRATEGY_LABELS:
        assert f"<b>{strategy}</b>" in text
    for step in ("Events", "Science budgets", "Strategies spend", "Research", "Graduates", "People move", "Record"):
        assert step in text


def test_a_changed_setting_keeps_the_last_run_as_a_dashed_line(dashboard):
    controls = controls_from_scenario(str(ROOT / "scenarios" / "baseline.toml"))
    dashboard.build(controls)
    dashboard.step(3)
    snapshot = dashboard.build(replace(controls, graduate_mobility=0.8))
    assert snapshot.year == 2022 and snapshot.ghost is not None
    assert len(snapshot.ghost.rows) == 4 and snapshot.ghost.label == "mobility 0.35"


def test_a_conflicting_group_assignment_is_a_one_line_error(dashboard):
    controls = controls_from_scenario(str(ROOT / "scenarios" / "hefei.toml"))
    dashboard.build(controls)
    with pytest.raises(SimError, match="strategies.assign") as error:
        dashboard.build(replace(controls, central="cas_branch"))
    assert "'Central strategy' setting" in str(error.value)  # the message names the control
    assert dashboard.controls == controls  # the last settings that worked stay
    assert replace(controls, central=FROM_FILE) == controls


def test_events_read_newest_first(dashboard):
    dashboard.build(controls_from_scenario(str(ROOT / "scenarios" / "mixed.toml")))
    snapshot = dashboard.run_to_end()
    assert snapshot.events, "the mixed scenario logs events"
    assert event_line((2031, "institute_founded", "Anhui", "national lab founded in ev_batteries")) == \
        "2031 Anhui: national lab founded in ev_batteries"
    years = [int(y) for y in re.findall(r"<span class='year'>(\d+)</span>", events_html(snapshot))]
    assert years == sorted(years, reverse=True)


def _button(rc, label: str):
    """The one button of a rendered Solara tree whose text is ``label``."""
    import ipyvuetify as v

    buttons = [w for w in rc.find(v.Btn).widgets if label in str(w.children)]
    assert len(buttons) == 1, f"{len(buttons)} buttons labelled {label!r}"
    return buttons[0]


def test_the_mesa_solaraviz_page_builds_and_steps():
    """``solara run sim/app/mesa_page.py``: Mesa's SolaraViz with the project's components, rendered without a browser."""
    import ipyvuetify as v
    import solara
    from mesa.visualization import Slider

    from sim.app import mesa_page

    assert isinstance(mesa_page.model_params["migration__graduate_mobility"], Slider)
    assert mesa_page.model_params["scenario"]["value"].endswith("baseline.toml")
    box, rc = solara.render(mesa_page.page, handle_error=False)
    try:
        def shown() -> str:
            return " ".join(str(w.children) for w in rc.find(v.Html).widgets)

        pictures = " ".join(getattr(w, "svg", "") for w in rc.find(v.VuetifyTemplate).widgets)
        assert "sim-year'>2022<" in shown() and "Top 10 by research output, 2022" in shown()
        assert pictures.count('data-province="') == 31  # the map, with every province
        assert pictures.count("sim-chart-svg") == len(CHARTS)  # the four charts
        # what SolaraViz's Step button does: step the model, then force_update() redraws the components
        from mesa.visualization.utils import force_update

        mesa_page.model.step()
        force_update()
        assert "sim-year'>2023<" in shown() and "Top 10 by research output, 2023" in shown()
    finally:
        rc.close()


# --------------------------------------------------------------------------------------
# The page in Chromium


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sim app scenarios/baseline.toml`` on a free loopback port: yields (url, log path).

    One server for the module; every test opens its own page (its own session, its own model).
    """
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    started = time.perf_counter()
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", "app", str(ROOT / "scenarios" / "baseline.toml"),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = started + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"sim app exited with status {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.perf_counter() > deadline:
                    pytest.fail(f"sim app did not answer within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")
                time.sleep(0.1)
        yield url, log
    finally:
        _stop(process)
    assert "Traceback" not in log.read_text(), log.read_text()


def _stop(process: subprocess.Popen) -> None:
    """SIGINT (Ctrl-C) to the server's process group, then SIGKILL if it does not stop in time."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), shared by the module's tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(server, browser):
    """A fresh page of the dashboard (its own session), 1440 px wide, once the map is on it."""
    url, _log = server
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    _open(page, url)
    try:
        yield page
    finally:
        page.close()


def _open(page, url: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url, timeout=STARTUP_TIMEOUT_S * 1000)
    try:
        page.locator(".sim-map svg [data-province]").first.wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
    except PlaywrightTimeout:
        _check_browser_assets(url)  # the usual cause on a machine without internet
        raise


def _year(page) -> str:
    return page.locator(".sim-year").inner_text().strip()


def _map(page) -> str:
    return page.locator(".sim-map svg").first.evaluate("e => e.outerHTML")


def _chart(page, key: str) -> str:
    return page.locator(f".sim-chart-{key} svg").first.evaluate("e => e.outerHTML")


def _wait_for_year(page, year: int) -> None:
    page.wait_for_function("y => document.querySelector('.sim-year')?.textContent.trim() === y", arg=str(year),
                           timeout=UPDATE_TIMEOUT_MS)


def _wait_for_text(page, css: str, text: str) -> None:
    """Wait until the element ``css`` shows ``text``."""
    page.wait_for_function("([css, text]) => (document.querySelector(css)?.textContent || '').includes(text)",
                           arg=[css, text], timeout=UPDATE_TIMEOUT_MS)


def _step(page, times: int = 1) -> None:
    for _ in range(times):
        year = int(_year(page))
        page.locator(".btn-step").click()
        _wait_for_year(page, year + 1)


OPEN_MENU_ITEM = ".v-overlay--active .v-list-item"
_NO_OPEN_MENU = f"() => !document.querySelector('{OPEN_MENU_ITEM}')"
_OPEN_MENUS = """() => [...document.querySelectorAll('.v-overlay--active')]
    .filter(e => e.querySelector('.v-list-item')).map(e => e.textContent.trim().slice(0, 120))"""


_SHOWS_CHOICE = """([css, option]) => [...document.querySelectorAll(css + ' .v-select__selection')]
    .some(e => e.textContent.trim().startsWith(option))"""  # 'name: label', 'variable (unit)'
PICK_ATTEMPTS = 4


def _close_menus(page) -> None:
    """Close any drop-down menu still open: Escape first, then a click outside it (at the page's top
    left corner, the title bar), each given a share of the update timeout, for ``PICK_ATTEMPTS`` rounds.

    On a busy machine a menu can stay open (or open again on a redraw) after its pick, and Escape does
    not reach a menu once the focus has moved elsewhere (after a click on the map, say)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    share = UPDATE_TIMEOUT_MS // (2 * PICK_ATTEMPTS)
    for _round in range(PICK_ATTEMPTS):
        for close in (lambda: page.keyboard.press("Escape"), lambda: page.mouse.click(2, 2)):
            if not page.locator(OPEN_MENU_ITEM).count():
                return
            close()
            try:
                page.wait_for_function(_NO_OPEN_MENU, timeout=share)
                return
            except PlaywrightTimeout:
                continue
    pytest.fail(f"a drop-down menu stays open after Escape and a click outside it: {page.evaluate(_OPEN_MENUS)}")


def _choose(page, control: str, option: str) -> None:
    """Pick ``option`` (its visible text) in the drop-down list with CSS class ``control``, and wait
    until the control shows it.

    A menu still open is closed first (:func:`_close_menus`), and a pick the control does not show (a
    click lost on a busy machine) is made again, at most ``PICK_ATTEMPTS`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _attempt in range(PICK_ATTEMPTS):
        _close_menus(page)
        page.locator(f".{control}").first.click()
        item = page.locator(OPEN_MENU_ITEM, has_text=option).first
        item.wait_for(state="visible", timeout=UPDATE_TIMEOUT_MS)
        item.click()
        try:
            page.wait_for_function(_SHOWS_CHOICE, arg=[f".{control}", option],
                                   timeout=UPDATE_TIMEOUT_MS // PICK_ATTEMPTS)
            return
        except PlaywrightTimeout:
            continue  # the pick was lost: pick again
    pytest.fail(f"the drop-down .{control} did not show {option!r} after {PICK_ATTEMPTS} picks")


def _check_browser_assets(url: str) -> None:
    """Fail with a fix when the server cannot serve Solara's browser files (no CDN on this machine)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode()
    missing = []
    for path in sorted(set(re.findall(r"/_solara/cdn/[^\"'\s]+", page))):
        try:
            with urllib.request.urlopen(url.rstrip("/") + path, timeout=60):
                pass
        except (urllib.error.URLError, OSError):
            missing.append(path)
    if missing:
        pytest.fail("Solara cannot serve " + ", ".join(missing) + ": this machine has no route to Solara's CDN. "
                    "Fill Solara's asset cache from npm once (see docs/for_students.md, 'Offline classrooms').")


@pytest.mark.browser
def test_step_sliders_and_a_bad_combination(page):
    assert _year(page) == "2022"

    # one Step: the year, the map and the top-10 table are redrawn
    table = page.locator(".sim-top10 table").inner_text()
    map_before = _map(page)
    page.locator(".btn-step").click()
    page.wait_for_function(
        """([table, map]) => document.querySelector('.sim-year').textContent.trim() === '2023'
            && document.querySelector('.sim-top10 table').innerText !== table
            && document.querySelector('.sim-map svg').outerHTML !== map""",
        arg=[table, map_before], timeout=UPDATE_TIMEOUT_MS)
    _step(page, 2)
    before_table = page.locator(".sim-top10 table").inner_text()
    before_chart = _chart(page, "research")

    # move the R&D slider (the run restarts from 2022), step to the same year, compare
    page.locator(".ctl-rd .v-slider-thumb").focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    _wait_for_text(page, ".ctl-rd", "5.2 % of GDP")
    _wait_for_year(page, 2022)
    _step(page, 3)
    assert page.locator(".sim-top10 table").inner_text() != before_table, "the top-10 table did not change"
    assert _chart(page, "research") != before_chart, "the research-output chart did not change"
    assert "before: R&amp;D 3.2 %" in _chart(page, "research")  # the dashed line of the previous run

    # a bad combination is a message in the page's words, and the page keeps working
    _choose(page, "ctl-scenario", "hefei.toml")
    _wait_for_year(page, 2022)
    _choose(page, "ctl-central", "cas_branch")
    error = page.locator(".sim-error")
    error.wait_for(timeout=UPDATE_TIMEOUT_MS)
    text = error.inner_text()
    assert "Central strategy 'cas_branch' clashes with hefei.toml" in text and "'as in the scenario file'" in text
    assert "strategies.assign" not in text and "--set" not in text
    assert page.locator(".btn-step").is_disabled()
    _choose(page, "ctl-central", "as in the scenario file")
    error.wait_for(state="detached", timeout=UPDATE_TIMEOUT_MS)
    _step(page)


@pytest.mark.browser
def test_a_click_on_a_province_plots_it_and_the_map_scale_stays_fixed(page):
    _step(page)
    scale_2023 = page.locator(".sim-map svg").first.evaluate(
        "e => [...e.querySelectorAll('text')].filter(t => t.getAttribute('x') > 530).map(t => t.textContent)")
    _step(page, 4)
    scale_2027 = page.locator(".sim-map svg").first.evaluate(
        "e => [...e.querySelectorAll('text')].filter(t => t.getAttribute('x') > 530).map(t => t.textContent)")
    assert scale_2023 == scale_2027 and len(scale_2023) >= 3  # the colour bar did not move
    assert "colours fixed over 2022–2050" in _map(page)

    page.locator(".sim-map svg [data-province='Anhui']").click()
    card = page.locator(".sim-province")
    card.wait_for(timeout=UPDATE_TIMEOUT_MS)
    _wait_for_text(page, ".sim-province h3", "Anhui (Hefei) against the nation, 2022–2027")
    plot = page.locator(".sim-province svg").first.evaluate("e => e.textContent")
    for title in ("GDP per person", "Research output", "Graduates", "Research institutes", "Strategy",
                  "the nation", "2022: baseline"):
        assert title in plot
    assert "stroke=\"#1565c0\"" in page.locator(".sim-map svg [data-province='Anhui'] rect").evaluate(
        "e => e.outerHTML")  # the chosen province is outlined on the map
    _step(page)  # the plot follows the run
    _wait_for_text(page, ".sim-province h3", "2022–2028")

    # per-year colours: the colour bar follows each year
    page.locator(".ctl-map-scale input").click()
    _wait_for_text(page, ".sim-map svg", "colours stretched over 2028")
    page.locator(".btn-close-province").click()
    card.wait_for(state="detached", timeout=UPDATE_TIMEOUT_MS)


@pytest.mark.browser
def test_the_model_tab_and_a_tooltip_on_every_control(page):
    controls = page.locator(".sim-side .ctl")
    assert controls.count() >= 14  # 4 buttons, speed, scenario, 2 sliders, 4 regions, coordination, ...
    titles = controls.evaluate_all("els => els.map(e => e.getAttribute('title') || '')")
    assert all(len(title) > 10 for title in titles), titles
    assert any("graduates" in title for title in titles)
    inputs = page.locator(".sim-side .v-input, .sim-side .v-btn, .sim-side .v-slider")
    uncovered = inputs.evaluate_all("els => els.filter(e => !e.closest('[title]')).length")
    assert uncovered == 0, "a control without a tooltip"

    page.locator(".tab-model").click()
    _wait_for_text(page, ".sim-model", "The strategies")
    text = page.locator(".sim-model").inner_text()
    for words in ("One press of Step is one year", "Graduates", "hefei", "cas_branch", "foreign_multinational",
                  "consumer_niche", "megacity", "baseline"):
        assert words in text
    assert page.locator(".sim-map").count() == 0
    page.locator(".tab-run").click()
    page.locator(".sim-map svg [data-province]").first.wait_for(timeout=UPDATE_TIMEOUT_MS)


@pytest.mark.browser
def test_play_keeps_going_and_says_its_speed(page):
    page.locator(".btn-play").click()
    # Play may draw every second year when the page cannot show four a second: at least 2026, not exactly
    page.wait_for_function("() => parseInt(document.querySelector('.sim-year').textContent) >= 2026",
                           timeout=UPDATE_TIMEOUT_MS)
    _wait_for_text(page, ".play-rate", "(asked for 4)")
    assert re.search(r"Playing at \d+\.\d years a second", page.locator(".play-rate").inner_text())
    page.locator(".btn-play").click()  # pause
    _wait_for_text(page, ".btn-play", "Play")
    paused = _year(page)
    page.wait_for_timeout(600)
    assert _year(page) == paused


CLIPPING_JS = """
() => {
  const out = [];
  const inside = (r, box) => r.left >= box.left - 1 && r.right <= box.right + 1
                             && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  for (const svg of document.querySelectorAll('.sim-main svg')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && !inside(r, box)) out.push('outside its picture: ' + t.textContent);
    }
  }
  for (const tile of document.querySelectorAll('.sim-map svg [data-province]')) {
    const rect = tile.querySelector('rect').getBoundingClientRect();
    for (const t of tile.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.left < rect.left - 0.5 || r.right > rect.right + 0.5) out.push('wider than its tile: ' + t.textContent);
    }
  }
  for (const e of document.querySelectorAll('.v-select__selection-text, .v-select__selection, .ctl-title, '
                                            + '.sim-main h3, .sim-top10 td, .sim-kpis .kpi-value, .v-btn__content')) {
    if (e.scrollWidth > e.clientWidth + 1) out.push('clipped: ' + e.textContent);
  }
  for (const e of document.querySelectorAll('.sim-main .sim-card')) {
    if (e.scrollWidth > e.clientWidth + 1) out.push('card overflows: ' + e.className);
  }
  return out;
}
"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 1024])
def test_no_clipped_labels(server, browser, width):
    url, _log = server
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        _open(page, url)
        for group, label in (("ctl-west", "hefei: flagship lab + guidance fund"),
                             ("ctl-east", "foreign_multinational: open zone")):  # the longest names
            _choose(page, group, label)
            _wait_for_text(page, f".{group}", label)
        page.locator(".btn-end").click()
        _wait_for_year(page, 2050)
        page.locator(".sim-map svg [data-province='Inner Mongolia']").click()
        page.locator(".sim-province svg").wait_for(timeout=UPDATE_TIMEOUT_MS)
        for variable in ("GDP per person", "Research output", "Growth of GDP per person", "Strategy"):
            _choose(page, "ctl-map-variable", variable)
            _wait_for_text(page, ".sim-map .v-select", variable)
            assert page.evaluate(CLIPPING_JS) == [], variable
        # the menu's items are not cut either
        page.locator(".ctl-map-variable").first.click()
        items = page.locator(".v-overlay--active .v-list-item-title")
        items.first.wait_for(timeout=UPDATE_TIMEOUT_MS)
        assert items.count() == 5
        assert items.evaluate_all("els => els.filter(e => e.scrollWidth > e.clientWidth + 1).length") == 0
        page.keyboard.press("Escape")
        ARTEFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"app-{width}.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.browser
def test_screenshots(server, browser):
    """docs/img/app.png and docs/img/dashboard_province.png, as test-artifacts/ (copied by hand to docs/img)."""
    url, _log = server
    page = browser.new_page(viewport={"width": 1440, "height": 1500})
    try:
        _open(page, url)
        _choose(page, "ctl-scenario", "hefei.toml")
        _wait_for_year(page, 2022)
        page.locator(".btn-end").click()
        _wait_for_year(page, 2050)
        page.locator(".ctl-mobility .v-slider-thumb").focus()
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        _wait_for_text(page, ".ctl-mobility", "0.75")
        _wait_for_year(page, 2022)
        _step(page, 18)
        _choose(page, "ctl-map-variable", "Growth of GDP per person")
        _wait_for_text(page, ".sim-map svg", "than the nation")
        ARTEFACTS.mkdir(exist_ok=True)
        page.mouse.move(5, 1400)  # no hover outline on the map
        page.keyboard.press("Escape")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # nothing scrolls back to it
        page.wait_for_function("() => { window.scrollTo(0, 0); return window.scrollY === 0 "
                               "&& document.querySelector('.sim-year').getBoundingClientRect().top >= 0; }",
                               timeout=UPDATE_TIMEOUT_MS)
        page.screenshot(path=str(ARTEFACTS / "app.png"))
        page.locator(".sim-map svg [data-province='Anhui']").click()
        card = page.locator(".sim-province")
        card.wait_for(timeout=UPDATE_TIMEOUT_MS)
        _wait_for_text(page, ".sim-province h3", "Anhui (Hefei) against the nation, 2022–2040")
        card.scroll_into_view_if_needed()
        card.screenshot(path=str(ARTEFACTS / "dashboard_province.png"))
        assert (ARTEFACTS / "app.png").stat().st_size > 50_000
        assert (ARTEFACTS / "dashboard_province.png").stat().st_size > 20_000
    finally:
        page.close()


@pytest.mark.browser
def test_the_mesa_solaraviz_page_in_chromium(browser, tmp_path):
    """``solara run sim/app/mesa_page.py``: Mesa's sidebar and parameters, the project's map and charts, Step."""
    port = _free_port()
    log = tmp_path / "solara.log"
    url = f"http://127.0.0.1:{port}/"
    environment = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "MPLBACKEND": "Agg"}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "solara", "run", "sim/app/mesa_page.py", "--host", "127.0.0.1", "--port", str(port),
             "--production", "--no-open", "--no-check-version"],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, env=environment)
    page = None
    try:
        deadline = time.perf_counter() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"solara run exited with status {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.perf_counter() > deadline:
                    pytest.fail(f"solara run did not answer within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")
                time.sleep(0.2)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url, timeout=STARTUP_TIMEOUT_S * 1000)
        page.locator(".sim-map svg [data-province]").first.wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
        assert _year(page) == "2022"
        sidebar = page.locator(".v-navigation-drawer").first.inner_text()
        for words in ("Model Parameters", "National R&D intensity", "Graduate mobility", "Scenario file", "STEP"):
            assert words.lower() in sidebar.lower(), words
        assert page.locator(".sim-map svg [data-province]").count() == 31
        assert page.locator(".sim-chart-svg").count() == len(CHARTS)
        page.get_by_role("button", name="Step").click()
        _wait_for_year(page, 2023)
        _wait_for_text(page, ".sim-top10 h3", "Top 10 by research output, 2023")
        ARTEFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "mesa_page.png"))
    finally:
        if page is not None:
            page.close()
        _stop(process)
    assert "Traceback" not in log.read_text(), log.read_text()
