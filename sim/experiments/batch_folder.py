"""The results folder of a batch: its default place, its manifest, and the check before a batch starts.

Kept apart from :mod:`sim.experiments.batch` so that it needs neither pandas nor pyarrow nor the
model: ``sim batch`` checks the folder, starts the worker pool, and only then imports the rest,
which then loads while the pool starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.folder import ResultsFolder
from sim.experiments.identity import check_name
from sim.experiments.store import provenance

if TYPE_CHECKING:
    from sim.experiments.spec import ResolvedExperiment

__all__ = ["batch_manifest", "check_folder", "default_folder", "results_folder"]


def default_folder(experiment: ResolvedExperiment) -> Path:
    """``results/batch-<experiment name>`` (the name is checked: it cannot lead outside ``results``)."""
    check_name(experiment.name, f"{experiment.source}: name")
    return Path("results") / f"batch-{experiment.name}"


def batch_manifest(experiment: ResolvedExperiment, runs_per_part: int) -> dict[str, Any]:
    """The manifest of a new batch folder: the experiment as resolved, its hash and the provenance."""
    return {
        "kind": "batch",
        "experiment": experiment.to_json(),
        "experiment_file": experiment.source,
        "experiment_hash": experiment.hash,
        "runs_total": experiment.runs_total,
        "runs_per_part": runs_per_part,
        "scenarios": {s.name: {"file": f, "resolved": s.model_dump(mode="json")}
                      for s, f in zip(experiment.scenarios, experiment.scenario_files, strict=True)},
        "sweep_columns": experiment.sweep_columns,
        "status": "running",
        "sessions": [],
        **provenance(),
    }


def results_folder(folder: str | Path, experiment: ResolvedExperiment, manifest: dict[str, Any]) -> ResultsFolder:
    """``folder`` as the results folder of this experiment's batch (with ``manifest`` for a new one)."""

    def mismatch(old: dict[str, Any]) -> str:
        other = old.get("experiment", {}).get("name", "?")
        return (f"holds results of a different experiment ({other!r}, {old.get('experiment_hash')}) than "
                f"{experiment.source} ({experiment.hash})")

    return ResultsFolder(Path(folder), manifest, "experiment_hash", "batch", mismatch)


def check_folder(folder: str | Path, experiment: ResolvedExperiment, resume: bool,
                 allow_code_change: bool = False) -> dict[str, Any] | None:
    """Check that ``folder`` can take this batch, without touching it.

    Returns:
        The folder's manifest when there is a batch to resume, else None (a new batch).

    Raises:
        ResultsError: ``folder`` is a file, under a file or not writable; another writer holds it;
            it is not empty and ``resume`` is False; it holds something other than this experiment's
            batch, or (unless ``allow_code_change``) runs made by other code.
    """
    identity = {"kind": "batch", "experiment_hash": experiment.hash}
    return results_folder(folder, experiment, identity).check(resume, allow_code_change)
