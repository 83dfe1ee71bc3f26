"""Scenario files: reading TOML, ``extends`` chains, and ``--set`` text parsed once into values.

:func:`load_scenario` is the way in from files and the command line: it reads the file and the
files it ``extends``, validates, and applies ``key.path=value`` overrides, each parsed once into a
typed value (:func:`parse_override`) and set with :meth:`~sim.scenario.schema.Scenario.with_values`.

:func:`read_toml` is the one reader of TOML files a user hands the program (scenario and experiment
files): it refuses, with one line naming the file, anything that is not a regular file (a folder, a
FIFO, a device), a file over :data:`MAX_FILE_BYTES`, and nesting deeper than :data:`MAX_DEPTH`, before
or instead of reading it, so no input hangs, exhausts memory or overflows the stack.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.schema import Scenario, validate_scenario

MAX_FILE_BYTES = 1_000_000
"""Largest scenario or experiment file read (and longest ``--set`` value), in bytes."""
MAX_DEPTH = 20
"""Deepest nesting of tables and arrays accepted (key path length, an array index counting as one)."""
MAX_EXTENDS = 20
"""Longest ``extends`` chain (files extending files)."""


def _shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (with ``...``) for a one-line message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind_of(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, when it is not a regular file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "is a character device"
    if stat.S_ISBLK(mode):
        return "is a block device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is not a regular file"


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a TOML file (missing, not a regular file, too large), or None."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except NotADirectoryError:
        return "file not found (a part of the path is a file, not a folder)"
    except ValueError:  # e.g. an embedded NUL byte
        return "not a valid file path"
    except OSError as exc:
        return f"cannot read the file ({exc.strerror or exc})"
    return _stat_problem(info)


def _stat_problem(info: os.stat_result) -> str | None:
    kind = _kind_of(info.st_mode)
    if kind is not None:
        return f"{kind}, expected a TOML file"
    if info.st_size > MAX_FILE_BYTES:
        return f"is {info.st_size:,} bytes, larger than the {MAX_FILE_BYTES:,} bytes allowed for a TOML file"
    return None


def _read_bytes(path: Path) -> bytes:
    """The bytes of the regular file ``path`` (at most :data:`MAX_FILE_BYTES`), checked before reading."""
    problem = file_problem(path)
    if problem is not None:
        raise ScenarioError(str(path), "", problem)
    # non-blocking: should the file have been swapped for a FIFO since the check, open does not hang
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read the file ({exc.strerror or exc})") from None
    try:
        problem = _stat_problem(os.fstat(fd))  # the file actually opened
        if problem is not None:
            raise ScenarioError(str(path), "", problem)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), "", f"larger than the {MAX_FILE_BYTES:,} bytes allowed for a TOML file")
    return b"".join(chunks)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The key path at which ``value`` nests deeper than ``limit`` levels, or None (no recursion).

    A key of a table and an index of an array each count as one level: ``{"a": {"b": [1]}}`` has
    depth 3 (``a.b[0]``).
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            children = [(child, (*where, str(key))) for key, child in node.items()]
        elif isinstance(node, list):
            children = [(child, (*where, f"[{i}]")) for i, child in enumerate(node)]
        else:
            continue
        for child, path in children:
            if len(path) > limit:
                return ".".join(path).replace(".[", "[")
            stack.append((child, path))
    return None


DEPTH_MESSAGE = f"nested more than {MAX_DEPTH} levels deep (tables and arrays); flatten it"


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file a user handed the program (scenario or experiment), safely.

    Raises:
        ScenarioError: naming the file when it is missing, not a regular file (folder, FIFO, device),
            larger than :data:`MAX_FILE_BYTES`, not UTF-8, not valid TOML, or nested deeper than
            :data:`MAX_DEPTH`.
    """
    path = Path(path)
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not valid TOML (not UTF-8 text)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML ({exc})") from None
    except RecursionError:
        raise ScenarioError(str(path), "", DEPTH_MESSAGE) from None
    where = too_deep(data)
    if where is not None:
        raise ScenarioError(str(path), _shorten(where), DEPTH_MESSAGE)
    return data


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
        ScenarioError: missing or hostile file (see :func:`read_toml`), broken TOML, a bad
            ``extends`` (naming the file and the key), an ``extends`` cycle or a chain longer than
            :data:`MAX_EXTENDS` files.
    """
    path = Path(path)
    try:
        resolved = path.resolve()
    except (OSError, ValueError, RuntimeError):
        resolved = path.absolute()
    if resolved in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, resolved))
        raise ScenarioError(str(path), "extends", f"extends cycle: {cycle}")
    data = read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    parent_path = _extends_path(path, parent)
    if len(_chain) + 1 >= MAX_EXTENDS:
        raise ScenarioError(str(path), "extends", f"extends chain longer than {MAX_EXTENDS} files "
                            f"(starting at {_chain[0].name})")
    return deep_merge(read_scenario_dict(parent_path, (*_chain, resolved)), data)


def _extends_path(path: Path, parent: Any) -> Path:
    """The file that ``extends = parent`` in ``path`` names, checked to be a readable TOML file."""
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", f"expected a file name (string), got {_shorten(repr(parent))}")
    if not parent.strip():
        raise ScenarioError(str(path), "extends", "empty; expected the name of a scenario file, e.g. \"baseline.toml\"")
    if "\x00" in parent:
        raise ScenarioError(str(path), "extends", f"not a valid file name: {_shorten(repr(parent))}")
    parent_path = Path(parent) if Path(parent).is_absolute() else path.parent / parent
    problem = file_problem(parent_path)
    if problem == "file not found":
        raise ScenarioError(str(path), "extends", f"file {_shorten(parent)!r} not found next to {path.name}")
    if problem is not None:
        raise ScenarioError(str(path), "extends", f"{_shorten(parent)!r} {problem}")
    return parent_path


def parse_override(expression: str) -> tuple[list[str], Any]:
    """Split ``key.path=value`` into its path and a TOML-typed value.

    The value is read as a TOML value (``0.5``, ``true``, ``"hefei"``, ``[1, 2]``); anything
    that is not valid TOML is taken as a plain string, so ``--set strategies.default=hefei`` works.

    Raises:
        ScenarioError: when the expression has no ``=`` or an empty key, is longer than
            :data:`MAX_FILE_BYTES`, or nests deeper than :data:`MAX_DEPTH` levels.
    """
    source = f"--set {_shorten(expression)}"
    key, sep, raw = expression.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError(source, "", "expected key.path=value, e.g. migration.graduate_mobility=0.5")
    if len(expression) > MAX_FILE_BYTES:
        raise ScenarioError(source, _shorten(key), f"longer than the {MAX_FILE_BYTES:,} characters allowed")
    parts = key.split(".")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise ScenarioError(source, _shorten(key), DEPTH_MESSAGE) from None
    where = too_deep(value, MAX_DEPTH - len(parts))
    if len(parts) > MAX_DEPTH or where is not None:
        raise ScenarioError(source, _shorten(key), DEPTH_MESSAGE)
    return parts, value


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
        origins[".".join(parts)] = f"--set {_shorten(expression)}"
    return values, origins


def with_overrides(scenario: Scenario, overrides: list[str] | tuple[str, ...]) -> Scenario:
    """``scenario`` with ``--set`` expressions applied; an error names the expression at fault."""
    if not overrides:
        return scenario
    values, origins = parse_overrides(overrides)
    return apply_values(scenario, values, origins, "--set " + _shorten(" ".join(overrides)))


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


def name_from_file(path: str | Path) -> str:
    """A valid scenario name made from a file's name (for a file without ``name``): its stem with
    characters other than letters, digits, ``-``, ``_`` and ``.`` replaced by ``_``, no leading ``.``,
    at most 64 characters."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(path).stem).lstrip(".")[:64]
    return name or "scenario"


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
        data.setdefault("name", name_from_file(path))
    return with_overrides(validate_scenario(data, source), overrides)
