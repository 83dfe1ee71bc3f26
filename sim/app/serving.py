"""Serving helpers: drawing outside Solara's per-session settings, and warming up before the first page.

Plain Python: nothing here knows Solara's components.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sim.app.charts import CHARTS, draw_chart, draw_tile_map
from sim.app.controls import AppConfig, controls_from_scenario
from sim.app.session import Dashboard
from sim.errors import SimError

_drawer: ThreadPoolExecutor | None = None
_drawer_lock = threading.Lock()


def draw_outside_session(function: Callable[..., bytes], *args) -> bytes:
    """Run a drawing function in a plain worker thread and wait for its PNG bytes.

    Solara makes matplotlib's settings per session, which makes every settings lookup inside a
    session several times slower; a thread outside any session draws with the plain settings.
    """
    global _drawer
    with _drawer_lock:
        if _drawer is None:
            _drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-draw")
    return _drawer.submit(function, *args).result()


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
    draw_tile_map(snapshot, "gdp_per_capita")
    for key in CHARTS:
        draw_chart(snapshot, key)
