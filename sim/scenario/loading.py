"""Scenario files: reading TOML, ``extends`` chains, and ``--set`` text parsed once into values.

:func:`load_scenario` is the way in from files and the command line: it reads the file and the
files it ``extends``, validates, and applies ``key.path=value`` overrides, each parsed once into a
typed value (:func:`parse_override`) and set with :meth:`~sim.scenario.schema.Scenario.with_values`.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.schema import Scenario, validate_scenario


def read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ScenarioError(str(path), "", "file not found")
    if path.is_dir():
        raise ScenarioError(str(path), "", "is a folder, expected a TOML file")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not valid TOML (not UTF-8 text)") from None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``: tables merge key by key, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_scenario_dict(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and the files it ``extends``, merged, without validating.

    Raises:
        ScenarioError: missing file, broken TOML, a bad ``extends`` or an ``extends`` cycle.
    """
    path = Path(path)
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, resolved))
        raise ScenarioError(str(path), "extends", f"extends cycle: {cycle}")
    data = read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", f"expected a file name (string), got {parent!r}")
    parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.exists():
        raise ScenarioError(str(path), "extends", f"file {parent!r} not found next to {path.name}")
    return deep_merge(read_scenario_dict(parent_path, (*_chain, resolved)), data)


def parse_override(expression: str) -> tuple[list[str], Any]:
    """Split ``key.path=value`` into its path and a TOML-typed value.

    The value is read as a TOML value (``0.5``, ``true``, ``"hefei"``, ``[1, 2]``); anything
    that is not valid TOML is taken as a plain string, so ``--set strategies.default=hefei`` works.

    Raises:
        ScenarioError: when the expression has no ``=`` or an empty key.
    """
    key, sep, raw = expression.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError(f"--set {expression}", "", "expected key.path=value, e.g. migration.graduate_mobility=0.5")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.split("."), value


def overrides_to_values(overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse ``--set`` expressions into ``{key path: typed value}`` (a later one for the same key wins)."""
    return parse_overrides(overrides)[0]


def parse_overrides(overrides: list[str] | tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse ``--set`` expressions once: ``({key path: value}, {key path: "--set <expression>"})``."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for expression in overrides:
        parts, value = parse_override(expression)
        values[".".join(parts)] = value
        origins[".".join(parts)] = f"--set {expression}"
    return values, origins


def with_overrides(scenario: Scenario, overrides: list[str] | tuple[str, ...]) -> Scenario:
    """``scenario`` with ``--set`` expressions applied; an error names the expression at fault."""
    if not overrides:
        return scenario
    values, origins = parse_overrides(overrides)
    return apply_values(scenario, values, origins, "--set " + " ".join(overrides))


def apply_values(scenario: Scenario, values: dict[str, Any], origins: dict[str, str], source: str) -> Scenario:
    """``scenario.with_values(values)``, with an error naming the entry of ``origins`` that set the bad key.

    Args:
        origins: key path -> what to name as the source of that value (e.g. ``--set a.b=1``).
        source: what to name when no single entry is at fault.
    """
    try:
        return scenario.with_values(values, source=source)
    except ScenarioError as exc:
        key = exc.key
        culprits = [origin for path, origin in origins.items()
                    if key and (key == path or key.startswith(path + ".") or path.startswith(key + ".")
                                or key.startswith(path + "["))]
        raise ScenarioError(culprits[-1] if culprits else source, key, exc.message) from None


def load_scenario(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge and validate a scenario file, then apply ``key.path=value`` overrides.

    Args:
        path: a scenario TOML file; None for the built-in defaults.
        overrides: ``--set`` expressions, applied after the file (and its ``extends`` chain); each is
            parsed once into a typed value and all are set together, so their order does not matter
            (except that a later one for the same key wins).

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: naming the file or the ``--set`` expression, the key path and what is allowed.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        data = read_scenario_dict(path)
        data.setdefault("name", Path(path).stem)
    return with_overrides(validate_scenario(data, source), overrides)
