"""Shared fixtures: paths of the shipped files and small scenario builders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
EXPERIMENTS = ROOT / "experiments"


@pytest.fixture
def root() -> Path:
    """The project root."""
    return ROOT


@pytest.fixture
def write_toml(tmp_path):
    """Write a TOML text into tmp_path and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
