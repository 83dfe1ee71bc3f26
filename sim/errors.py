"""The package's exception hierarchy.

Every error a user can cause by what they typed or wrote in a file derives from
:class:`SimError`; the command line prints such an error as one line and exits with status 2.
"""

from __future__ import annotations


class SimError(Exception):
    """Base class of every error caused by user input (files, options, overrides)."""


class ScenarioError(SimError):
    """A scenario or experiment file (or a ``--set`` override) is missing, unreadable or invalid.

    Args:
        source: the file path or ``--set`` expression the problem is in.
        key: the dotted key path inside it (empty when the whole file is at fault).
        message: what is wrong and what is allowed.
    """

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = str(source)
        self.key = key
        self.message = message
        where = f"{self.source}: {key}: " if key else f"{self.source}: "
        super().__init__(where + message)


class ExperimentError(ScenarioError):
    """An experiment file is invalid (same fields as :class:`ScenarioError`)."""


class ResultsError(SimError):
    """A results folder is missing, not a results folder, or belongs to another experiment."""


class ModelInvariantError(RuntimeError):
    """A model invariant was broken during a step (a bug, never a user error)."""
