"""Speed of the dashboard: how long a Step takes, what it spends the time on, and the rate Play reaches.

    python benchmarks/app.py                 # 20 Steps, Play at 4 and 10 years a second for 5 s each
    python benchmarks/app.py --steps 40 --play-seconds 10 --no-browser

Three measurements, each a median over ``--steps`` Steps of the baseline scenario from 2022:

1. **What a Step redraws** (no server, no browser): the model's year (``Dashboard.step``), the
   pictures (the map and four charts as SVG, the province plot) and the HTML pieces (headline
   numbers, top 10, event log), each timed alone.
2. **A Step on the server**: the page rendered by Solara without a browser (``solara.render``) and a
   click on Step: the model, the pictures and Solara's render of the page, which sends the changes.
3. **A Step in the browser**: ``sim app`` on a free loopback port and headless Chromium (Debian's, at
   /usr/bin/chromium): from the click on Step until the page shows the next year, with its map redrawn.
   Then Play at each speed for ``--play-seconds``: years shown per second, measured from the page,
   and the rate the page itself reports.

Timing belongs here, not in the tests. The machine's load changes every figure: the load average
is printed with them.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "baseline.toml"
CHROMIUM = "/usr/bin/chromium"


def median_ms(samples: list[float]) -> str:
    return f"{1000 * statistics.median(samples):7.1f} ms (min {1000 * min(samples):.1f}, max {1000 * max(samples):.1f})"


def parts_of_a_step(steps: int) -> None:
    """Each part of what a Step recomputes, timed alone."""
    from sim.app import CHARTS, AppConfig, Dashboard, controls_from_scenario, draw_chart, draw_tile_map
    from sim.app.charts import draw_province
    from sim.app.fragments import events_html, kpi_html, top10_html

    dashboard = Dashboard(AppConfig(SCENARIO.parent, str(SCENARIO)))
    controls = controls_from_scenario(str(SCENARIO))
    dashboard.build(controls)  # imports, data tables
    started = time.perf_counter()
    dashboard.build(controls)
    build = time.perf_counter() - started
    parts: dict[str, list[float]] = {name: [] for name in ("model year + snapshot", "map", "4 charts",
                                                           "province plot", "HTML pieces")}
    for _ in range(steps):
        started = time.perf_counter()
        snapshot = dashboard.step()
        parts["model year + snapshot"].append(time.perf_counter() - started)
        started = time.perf_counter()
        draw_tile_map(snapshot, "gdp_per_capita")
        parts["map"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for key in CHARTS:
            draw_chart(snapshot, key)
        parts["4 charts"].append(time.perf_counter() - started)
        started = time.perf_counter()
        draw_province(snapshot, "Anhui")
        parts["province plot"].append(time.perf_counter() - started)
        started = time.perf_counter()
        kpi_html(snapshot), top10_html(snapshot), events_html(snapshot)
        parts["HTML pieces"].append(time.perf_counter() - started)
    print(f"1. What a Step redraws (median of {steps}):")
    print(f"   {'a new run (model + look-ahead to 2050)':40s} {1000 * build:7.1f} ms (once per change of setting)")
    for name, samples in parts.items():
        print(f"   {name:40s} {median_ms(samples)}")


def step_on_the_server(steps: int) -> None:
    """A click on Step in the page rendered by Solara without a browser."""
    os.environ["SIM_APP_SCENARIO"] = str(SCENARIO)
    import ipyvuetify as v
    import solara

    from sim.app.page import Page

    _box, rc = solara.render(Page(), handle_error=False)
    button = rc.find(v.Btn, class_="btn-step").widget
    button.click()  # first render of the pictures at their final size
    samples, cpu = [], []
    for _ in range(steps):
        started, started_cpu = time.perf_counter(), time.process_time()
        button.click()
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    rc.close()
    print(f"2. A Step on the server (model, pictures, Solara's render; median of {steps}):")
    print(f"   {'Step, wall clock':40s} {median_ms(samples)}")
    print(f"   {'Step, CPU time of this process':40s} {median_ms(cpu)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


IN_PAGE_STEP_JS = """
() => new Promise(resolve => {
  const year = document.querySelector('.sim-year').textContent.trim();
  const map = document.querySelector('.sim-map svg').outerHTML;
  const started = performance.now();
  const done = () => {
    const y = document.querySelector('.sim-year');
    const m = document.querySelector('.sim-map svg');
    if (y && m && y.textContent.trim() !== year && m.outerHTML !== map) {
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - started));  // once it is painted
    }
  };
  const observer = new MutationObserver(done);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  document.querySelector('.btn-step').click();
})
"""
"""Click Step from inside the page and resolve with the milliseconds until the next year and its map are painted."""


def in_the_browser(steps: int, play_seconds: float, speeds: list[int]) -> None:
    """Step and Play in headless Chromium against ``sim app``."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    # a horizon of 2100, so that Play at 10 years a second runs long enough to be measured
    server = subprocess.Popen([sys.executable, "-m", "sim", "app", str(SCENARIO), "--port", str(port),
                               "--set", "run.end_year=2100"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("sim app did not start") from None
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url, timeout=60_000)
            page.locator(".sim-map svg [data-province]").first.wait_for(timeout=60_000)
            year_js = "() => parseInt(document.querySelector('.sim-year').textContent)"
            samples = []
            for _ in range(steps):
                year = page.evaluate(year_js)
                old_map = page.locator(".sim-map svg").first.evaluate("e => e.outerHTML")
                started = time.perf_counter()
                page.locator(".btn-step").click()
                page.wait_for_function(
                    """([year, map]) => parseInt(document.querySelector('.sim-year').textContent) === year + 1
                       && document.querySelector('.sim-map svg').outerHTML !== map""",
                    arg=[year, old_map], timeout=30_000, polling="raf")
                samples.append(time.perf_counter() - started)
            in_page = []
            for _ in range(steps):  # the same, timed inside the page: no Playwright round trips
                in_page.append(page.evaluate(IN_PAGE_STEP_JS) / 1000)
            print(f"3. A Step in the browser (click until the next year and its map are shown; median of {steps}):")
            print(f"   {'Step, driven by Playwright':40s} {median_ms(samples)}")
            print(f"   {'Step, timed inside the page':40s} {median_ms(in_page)}")
            for speed in speeds:
                page.locator(".btn-reset").click()
                page.wait_for_function("() => document.querySelector('.sim-year').textContent.trim() === '2022'")
                slider = page.locator(".ctl-speed .v-slider-thumb")
                slider.focus()
                for _ in range(12):
                    page.keyboard.press("ArrowLeft")
                for _ in range(speed - 1):
                    page.keyboard.press("ArrowRight")
                page.wait_for_function(f"() => document.querySelector('.ctl-speed').innerText.includes('{speed} years')")
                page.wait_for_timeout(500)  # the slider applies its value once it rests
                page.locator(".btn-play").click()
                page.wait_for_function("() => parseInt(document.querySelector('.sim-year').textContent) >= 2023")
                first_year, started = page.evaluate(year_js), time.perf_counter()
                page.wait_for_timeout(1000 * play_seconds)
                last_year, elapsed = page.evaluate(year_js), time.perf_counter() - started
                reported = page.locator(".play-rate").inner_text()
                if "Pause" in page.locator(".btn-play").inner_text():
                    page.locator(".btn-play").click()
                print(f"   Play at {speed:2d} years a second: {(last_year - first_year) / elapsed:5.2f} years a second shown "
                      f"over {elapsed:.1f} s; the page says: {reported}")
            browser.close()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="Steps per measurement (default 20)")
    parser.add_argument("--play-seconds", type=float, default=5.0, help="seconds of Play per speed (default 5)")
    parser.add_argument("--speeds", type=int, nargs="+", default=[4, 10], help="play speeds to try (default 4 10)")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser measurements")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    parts_of_a_step(args.steps)
    step_on_the_server(args.steps)
    if not args.no_browser and Path(CHROMIUM).exists():
        in_the_browser(args.steps, args.play_seconds, args.speeds)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
