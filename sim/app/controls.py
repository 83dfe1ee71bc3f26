"""What the sidebar sets, as scenario values, and where the app finds its scenarios.

:class:`Controls` is the state of the sidebar; :meth:`Controls.values` turns it into
``{dotted key path: value}`` for :meth:`sim.scenario.Scenario.with_values`, and
:meth:`Controls.origins` names the control behind each key, so that a setting the schema refuses
becomes a message naming the control. :class:`AppConfig` reads the environment ``sim app`` sets,
parsing its ``--set`` expressions once into values. Plain Python: nothing here knows Solara.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import SimError
from sim.vocabulary import REGIONS

if TYPE_CHECKING:
    from sim.scenario import Scenario

logger = logging.getLogger(__name__)

FROM_FILE = "file"
"""Group-selector value meaning "keep what the scenario file assigns"."""

REGION_GROUPS: tuple[str, ...] = REGIONS
"""The groups the sidebar offers a strategy selector for (the four NBS regions)."""

STRATEGY_LABELS: dict[str, str] = {
    "baseline": "baseline: business as usual",
    "hefei": "hefei: flagship lab + guidance fund",
    "cas_branch": "cas_branch: CAS branch institutes",
    "foreign_multinational": "foreign_multinational: open zone",
    "consumer_niche": "consumer_niche: market champions",
    "megacity": "megacity: money to the megacities",
}
"""Strategy names with a few words on what each does, for selectors and legends."""

BASE_SOURCE = "sim app --set"
"""What error messages name as the origin of the values given on the command line."""


@dataclass(frozen=True)
class Controls:
    """Everything the sidebar sets. ``scenario`` is a file path ("" = the built-in defaults)."""

    scenario: str
    rd_intensity_target: float
    graduate_mobility: float
    openness: float
    coordination: str
    imitation: bool
    end_year: int
    seed: int
    east: str = FROM_FILE
    central: str = FROM_FILE
    west: str = FROM_FILE
    northeast: str = FROM_FILE

    def values(self) -> dict[str, Any]:
        """The ``{key path: value}`` these controls set on the scenario file's scenario."""
        result: dict[str, Any] = {
            "investment.rd_intensity_target": round(float(self.rd_intensity_target), 4),
            "migration.graduate_mobility": round(float(self.graduate_mobility), 4),
            "economy.openness": round(float(self.openness), 4),
            "strategy.consumer_niche.coordination": str(self.coordination),
            "imitation.enabled": bool(self.imitation),
            "run.end_year": int(self.end_year),
            "run.seed": int(self.seed),
        }
        for group in REGION_GROUPS:
            strategy = getattr(self, group)
            if strategy != FROM_FILE:  # "as in the scenario file" sets nothing
                result[f"strategies.assign.{group}"] = str(strategy)
        return result

    @staticmethod
    def origins() -> dict[str, str]:
        """Key path -> the control that sets it, as an error message names it."""
        names = {
            "investment.rd_intensity_target": "National R&D intensity",
            "migration.graduate_mobility": "Graduate mobility",
            "economy.openness": "Global openness",
            "strategy.consumer_niche.coordination": "Consumer-niche coordination",
            "imitation.enabled": "Imitation",
            "run.end_year": "Horizon",
            "run.seed": "Random seed",
            **{f"strategies.assign.{g}": f"{g.capitalize()} strategy" for g in REGION_GROUPS},
        }
        return {key: f"the '{name}' setting" for key, name in names.items()}

    def describe_difference(self, other: Controls) -> str:
        """A few words on what ``other`` had that these controls changed (for chart legends)."""
        labels = {
            "scenario": ("scenario", lambda v: Path(v).stem if v else "defaults"),
            "rd_intensity_target": ("R&D", lambda v: f"{v:.1f} %"),
            "graduate_mobility": ("mobility", lambda v: f"{v:.2f}"),
            "openness": ("openness", lambda v: f"{v:.2f}"),
            "coordination": ("niche", str),
            "imitation": ("imitation", lambda v: "on" if v else "off"),
            "end_year": ("horizon", str),
            "seed": ("seed", str),
            **{g: (g, lambda v: "from file" if v == FROM_FILE else v) for g in REGION_GROUPS},
        }
        parts = [f"{name} {show(getattr(other, key))}" for key, (name, show) in labels.items()
                 if getattr(other, key) != getattr(self, key)]
        if not parts:
            return "same settings"
        return ", ".join(parts[:3]) + (", ..." if len(parts) > 3 else "")


def load_base(path: str, base_values: Mapping[str, Any] | None = None) -> Scenario:
    """The scenario of the file at ``path`` ("" = the built-in defaults) with ``base_values`` set.

    Raises:
        ScenarioError: when the file is not a valid scenario, or a base value is refused (naming
            ``sim app --set``).
    """
    from sim.scenario import load_scenario

    return load_scenario(path or None).with_values(dict(base_values or {}), source=BASE_SOURCE)


def scenario_with_controls(controls: Controls, base_values: Mapping[str, Any] | None = None) -> Scenario:
    """The scenario ``controls`` describe: their file, then ``base_values``, then the controls' values.

    Raises:
        ScenarioError: naming the setting whose value the schema refuses (e.g. the 'Central
            strategy' when it conflicts with a group the file assigns), the key path and what is allowed.
    """
    from sim.scenario import apply_values

    scenario = load_base(controls.scenario, base_values)
    return apply_values(scenario, controls.values(), Controls.origins(), "the dashboard settings")


def controls_from_scenario(path: str, base_values: Mapping[str, Any] | None = None) -> Controls:
    """The controls showing what the scenario file at ``path`` ("" = defaults) says.

    Raises:
        ScenarioError: when the file (with ``base_values``) is not a valid scenario.
    """
    scenario = load_base(path, base_values)
    return Controls(
        scenario=path,
        rd_intensity_target=float(scenario.investment.rd_intensity_target),
        graduate_mobility=float(scenario.migration.graduate_mobility),
        openness=float(scenario.economy.openness),
        coordination=scenario.strategy.consumer_niche.coordination,
        imitation=bool(scenario.imitation.enabled),
        end_year=int(scenario.run.end_year),
        seed=int(scenario.run.seed),
    )


@dataclass(frozen=True)
class AppConfig:
    """Where the app finds scenarios: the folder to list, the file to open, values set on every run."""

    scenario_dir: Path | None
    initial_scenario: str
    base_values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> AppConfig:
        """Read ``SIM_APP_SCENARIO``, ``SIM_APP_SCENARIO_DIR`` and ``SIM_APP_OVERRIDES``.

        ``SIM_APP_OVERRIDES`` is a JSON list of ``--set`` expressions (as ``sim app --set`` takes
        them); they are parsed here, once, into values. Unreadable ones are logged and ignored
        (``sim app`` checks them before it starts the server).
        """
        scenario = os.environ.get("SIM_APP_SCENARIO", "")
        folder = os.environ.get("SIM_APP_SCENARIO_DIR", "")
        if folder:
            scenario_dir: Path | None = Path(folder)
        elif scenario:
            scenario_dir = Path(scenario).parent
        else:
            scenario_dir = default_scenario_dir()
        if not scenario and scenario_dir is not None and (scenario_dir / "baseline.toml").exists():
            scenario = str(scenario_dir / "baseline.toml")
        return cls(scenario_dir, scenario, base_values_from_json(os.environ.get("SIM_APP_OVERRIDES", "")))

    def scenario_choices(self) -> list[tuple[str, str]]:
        """(label, path) of every scenario file on offer; the path "" is the built-in defaults."""
        files = sorted(self.scenario_dir.glob("*.toml")) if self.scenario_dir and self.scenario_dir.is_dir() else []
        choices = [(p.name, str(p)) for p in files]
        if self.initial_scenario and all(Path(p).resolve() != Path(self.initial_scenario).resolve()
                                         for _, p in choices):
            choices.insert(0, (Path(self.initial_scenario).name, self.initial_scenario))
        choices.append(("(built-in defaults)", ""))
        return choices


def base_values_from_json(text: str) -> dict[str, Any]:
    """``{key path: value}`` from a JSON list of ``--set`` expressions ({} for "" or anything unreadable)."""
    from sim.scenario import overrides_to_values

    if not text:
        return {}
    try:
        expressions = json.loads(text)
        if not isinstance(expressions, list):
            raise TypeError("not a list")
        return overrides_to_values([str(e) for e in expressions])
    except (json.JSONDecodeError, TypeError, SimError) as exc:
        logger.warning("SIM_APP_OVERRIDES ignored: %s", exc)
        return {}


def default_scenario_dir() -> Path | None:
    """``./scenarios`` if it exists, else the ``scenarios`` folder next to the package, else None."""
    for candidate in (Path.cwd() / "scenarios", Path(__file__).resolve().parents[2] / "scenarios"):
        if candidate.is_dir():
            return candidate
    return None
