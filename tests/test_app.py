"""The student dashboard: its plain-Python layer, and the page in a real browser.

The browser test starts ``python -m sim app`` as a subprocess on 127.0.0.1, opens the page in headless Chromium
(Debian's, at /usr/bin/chromium), checks that a click on Step redraws the year, map and table, moves a slider, steps, checks that the charts and the top-10 table change,
shows that a bad combination of settings becomes a message on the page, and saves a screenshot
to ``test-artifacts/app.png``. The server is always stopped at the end.
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
from sim.errors import SimError

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ARTEFACTS = ROOT / "test-artifacts"
STARTUP_TIMEOUT_S = 60
"""Fail when the page has not appeared after this long (a hang, not a speed check: timing is in benchmarks/)."""
UPDATE_TIMEOUT_MS = 15_000
"""Fail when a click has not redrawn the page after this long."""

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
        assert draw_chart(second, key).startswith(b"\x89PNG")
    for variable in ("research_output", "skilled_share", "growth", "strategy"):
        assert draw_tile_map(second, variable).startswith(b"\x89PNG")
    assert "Beijing" in top10_html(second)  # the capital city is in the table


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


# --------------------------------------------------------------------------------------
# The page in Chromium


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path):
    """``sim app scenarios/baseline.toml`` on a free loopback port: yields (url, start time, log path)."""
    port = _free_port()
    log = tmp_path / "server.log"
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
        yield url, started, log
    finally:
        _stop(process)


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


def _year(page) -> str:
    return page.locator(".sim-year").inner_text().strip()


def _image_src(page, css: str) -> str:
    return page.locator(f"{css} img").first.get_attribute("src") or ""


def _image_bytes(page, css: str) -> bytes:
    return page.locator(f"{css} img").first.screenshot()


def _wait_for_year(page, year: int) -> None:
    page.wait_for_function("y => document.querySelector('.sim-year')?.textContent.trim() === y", arg=str(year),
                           timeout=UPDATE_TIMEOUT_MS)


def _step(page, times: int = 1) -> None:
    for _ in range(times):
        year = int(_year(page))
        page.locator(".btn-step").click()
        _wait_for_year(page, year + 1)


def _choose(page, control: str, option: str) -> None:
    """Pick ``option`` (its visible text) in the drop-down list with CSS class ``control``."""
    page.locator(f".{control}").first.click()
    page.locator(".v-overlay--active .v-list-item", has_text=option).first.click()


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
def test_dashboard_in_chromium(server):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    url, started, log = server
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1800})
            page.goto(url, timeout=STARTUP_TIMEOUT_S * 1000)
            try:
                page.locator(".sim-map img").first.wait_for(timeout=STARTUP_TIMEOUT_S * 1000)
            except sync_api.TimeoutError:
                _check_browser_assets(url)  # the usual cause on a machine without internet
                raise
            assert _year(page) == "2022"

            # one Step: the year, the map and the top-10 table are redrawn
            table = page.locator(".sim-top10 table").inner_text()
            map_src = _image_src(page, ".sim-map")
            page.locator(".btn-step").click()
            page.wait_for_function(
                """([table, src]) => document.querySelector('.sim-year').textContent.trim() === '2023'
                    && document.querySelector('.sim-top10 table').innerText !== table
                    && document.querySelector('.sim-map img').getAttribute('src') !== src""",
                arg=[table, map_src], timeout=UPDATE_TIMEOUT_MS)
            _step(page, 2)
            before_table = page.locator(".sim-top10 table").inner_text()
            before_chart = _image_bytes(page, ".sim-chart-research")

            # move the R&D slider (the run restarts from 2022), step to the same year, compare
            page.locator(".ctl-rd .v-slider-thumb").focus()
            for _ in range(20):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("() => document.querySelector('.ctl-rd').closest('.sim-side')"
                                   ".innerText.includes('5.2 % of GDP')", timeout=UPDATE_TIMEOUT_MS)
            _wait_for_year(page, 2022)
            _step(page, 3)
            after_table = page.locator(".sim-top10 table").inner_text()
            after_chart = _image_bytes(page, ".sim-chart-research")
            assert after_table != before_table, "the top-10 table did not change with the R&D slider"
            assert after_chart != before_chart, "the research-output chart did not change with the R&D slider"

            # a bad combination is a message on the page, and the page keeps working
            _choose(page, "ctl-scenario", "hefei.toml")
            _wait_for_year(page, 2022)
            _choose(page, "ctl-central", "cas_branch")
            error = page.locator(".sim-error")
            error.wait_for(timeout=UPDATE_TIMEOUT_MS)
            assert "strategies.assign" in error.inner_text()
            assert page.locator(".btn-step").is_disabled()
            _choose(page, "ctl-central", "as in the scenario file")
            error.wait_for(state="detached", timeout=UPDATE_TIMEOUT_MS)

            # the screenshot: hefei.toml run to the end, then more graduate mobility and a run to 2040
            page.locator(".btn-end").click()
            _wait_for_year(page, 2050)
            page.locator(".ctl-mobility .v-slider-thumb").focus()
            for _ in range(8):
                page.keyboard.press("ArrowRight")
            _wait_for_year(page, 2022)
            _step(page, 18)
            _choose(page, "ctl-map-variable", "Growth of GDP per person")
            page.wait_for_timeout(1000)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ARTEFACTS / "app.png"), full_page=True)
            assert (ARTEFACTS / "app.png").stat().st_size > 50_000
        finally:
            browser.close()
    assert "Traceback" not in log.read_text(), log.read_text()
