"""Names that are safe in paths, and the identity of the code that makes results.

* :func:`check_name`: an experiment (or scenario) name becomes part of a results path
  (``results/batch-<name>``): it must be letters, digits, ``-``, ``_`` and ``.``, at most 64
  characters, not starting with ``.``; :func:`child_folder` also checks that the path stays inside
  its parent folder.
* :func:`code_hash`: a hash of the package's source and data files (``sim/**/*.py``, ``sim/data/*``),
  recorded in every manifest, so that a batch is never resumed with other code without saying so.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from sim.errors import SimError

__all__ = ["MAX_NAME", "check_name", "child_folder", "code_files", "code_hash", "name_problem", "package_version"]

MAX_NAME = 64
"""Longest allowed name, in characters."""
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_PACKAGE = Path(__file__).resolve().parent.parent


def name_problem(name: object) -> str | None:
    """What is wrong with ``name`` as a name that becomes part of a path, or None when it is fine."""
    if not isinstance(name, str):
        return f"expected a string, got {type(name).__name__}"
    if not name:
        return "empty; give a name"
    if len(name) > MAX_NAME:
        return f"{len(name)} characters; at most {MAX_NAME}"
    if not _NAME.fullmatch(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "._-"))})
        if bad:
            shown = ", ".join(repr(c) for c in bad[:5])
            return f"character(s) {shown} not allowed; use letters, digits, '-', '_' and '.'"
        return "must not start with '.'"
    return None


def _shown(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 70 else text[:67] + "..."


def check_name(name: object, what: str = "name") -> str:
    """``name`` if it is safe as part of a path, else a :class:`SimError` naming ``what``."""
    problem = name_problem(name)
    if problem is not None:
        raise SimError(f"{what}: {_shown(name)}: {problem}")
    return name  # type: ignore[return-value]


def child_folder(parent: str | Path, name: str, what: str = "name") -> Path:
    """``parent / name`` after checking that ``name`` is a safe name and the path stays inside ``parent``."""
    check_name(name, what)
    parent = Path(parent)
    child = parent / name
    if os.path.commonpath([os.path.abspath(parent), os.path.abspath(child)]) != os.path.abspath(parent):
        raise SimError(f"{what}: {_shown(name)}: leads outside {parent}")  # pragma: no cover - excluded above
    return child


def code_files(package: Path = _PACKAGE) -> list[Path]:
    """The files whose content is the code's identity: ``sim/**/*.py`` and the files in ``sim/data/``."""
    files = [p for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    data = package / "data"
    if data.is_dir():
        files += [p for p in data.iterdir() if p.is_file() and p.suffix != ".py"]
    return sorted(files, key=lambda p: p.relative_to(package).as_posix())


def code_hash(package: Path = _PACKAGE) -> str:
    """``sha256:<hex>`` over the relative path and content of every file of :func:`code_files`."""
    digest = hashlib.sha256()
    for path in code_files(package):
        try:
            content = path.read_bytes()
        except OSError:  # pragma: no cover - a file removed while we read
            continue
        name = path.relative_to(package).as_posix().encode()
        digest.update(len(name).to_bytes(4, "big") + name + len(content).to_bytes(8, "big"))
        digest.update(content)
    return "sha256:" + digest.hexdigest()


def package_version() -> str:
    """The installed version of this package, or ``"unknown"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sim-regional-growth")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"
