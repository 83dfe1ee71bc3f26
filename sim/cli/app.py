"""``sim app [SCENARIO] [--port N] [--host 127.0.0.1]``: the browser dashboard for students.

Serves :mod:`sim.app.page` with Solara's server in this process (what ``solara run sim.app.page
--production`` does), prints the address once the page answers and runs until Ctrl-C (or SIGTERM), which stops
the server cleanly.
The scenario file, the folder whose ``*.toml`` files the page lists and any ``--set`` expressions
reach the app through ``SIM_APP_*`` environment variables (the expressions as a JSON list, which the
app parses once into values: :meth:`sim.app.AppConfig.from_environment`).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
import webbrowser
from pathlib import Path

from sim.errors import SimError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765
STARTUP_TIMEOUT_S = 60.0
"""Give up when the server has not answered after this long."""


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Register ``sim app``."""
    parser = subparsers.add_parser(
        "app", parents=[common], help="start the browser dashboard for students",
        description="Start the browser dashboard (Solara) on this computer: pick a scenario, move the "
                    "sliders, step through the years and watch inequality, output, the map and the events. "
                    "Stop it with Ctrl-C.")
    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario TOML file to open first (default: scenarios/baseline.toml); the page "
                             "lists every *.toml file in its folder")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--open", action="store_true", help="open the page in the web browser")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Serve the dashboard until Ctrl-C; returns the exit status."""
    # solara reads its settings from the environment when it is first imported (sim.app imports it)
    os.environ.update({
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_THEME_TITLE": "sim: science and regional growth",
        "MPLBACKEND": "Agg",
    })
    from sim.scenario import load_scenario

    if not 0 <= args.port <= 65535:
        raise SimError(f"--port: expected 0 to 65535, got {args.port}")
    scenario = Path(args.scenario).resolve() if args.scenario else None
    load_scenario(scenario, args.overrides)  # a bad file or --set fails here, as one line
    port = _free_port(args.host) if args.port == 0 else args.port
    _check_port(args.host, port)
    try:
        import click
        from solara.__main__ import run as solara_run
        from solara.server import settings as solara_settings

        from sim.app import default_scenario_dir
    except ImportError:
        raise SimError("sim app needs Solara: pip install 'sim-regional-growth[app]'") from None
    solara_settings.theme.show_banner = False  # in case solara was imported before the environment was set
    folder = scenario.parent if scenario else default_scenario_dir()
    os.environ.update({
        "SIM_APP_SCENARIO": str(scenario) if scenario else "",
        "SIM_APP_SCENARIO_DIR": str(folder) if folder else "",
        "SIM_APP_OVERRIDES": json.dumps(list(args.overrides)),
    })
    # solara warns about cookies on every page load from 127.0.0.1 over http: harmless on loopback
    warnings.filterwarnings("ignore", message="Cookies with samesite", category=UserWarning)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}/"
    if not _is_loopback(args.host):
        print(f"warning: listening on {args.host}: other computers can reach the dashboard", file=sys.stderr)
    threading.Thread(target=_warm_up, daemon=True).start()
    threading.Thread(target=_announce, args=(url, args.open), daemon=True).start()
    command = ["sim.app.page", "--host", args.host, "--port", str(port), "--production", "--no-open",
               "--no-check-version", "--log-level", "debug" if args.debug else "warning"]
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stop on SIGTERM as on Ctrl-C
    try:
        solara_run.main(args=command, prog_name="sim app", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):  # click turns Ctrl-C into Abort
        pass
    except SystemExit as exc:  # uvicorn exits when it cannot start
        if exc.code not in (0, None):
            raise SimError(f"the dashboard server stopped (exit status {exc.code}); run with --debug to see why") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("sim app: stopped", flush=True)
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _warm_up() -> None:
    """Draw the first page's figures once in the background (imports, font caches)."""
    from sim.app import warm_up

    try:
        warm_up()
    except Exception:  # the page shows any real problem; warming up is only an optimisation
        logger.debug("warming up the dashboard failed", exc_info=True)


def _announce(url: str, open_browser: bool) -> None:
    """Print the address once the server answers (and open it in the browser if asked)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.1)
    else:
        print(f"sim app: no answer at {url} after {STARTUP_TIMEOUT_S:.0f} s", file=sys.stderr, flush=True)
        return
    print(f"sim app: the dashboard is at {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _free_port(host: str) -> int:
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise SimError(f"--port {port}: cannot listen on {host} ({exc.strerror}); choose another port") from None
