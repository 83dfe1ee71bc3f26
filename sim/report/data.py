"""A results folder, read for a report: :class:`ReportData` and :func:`load_report_data`.

:func:`load_report_data` reads the tables of the complete runs, works out which runs are missing
or failed (:class:`Completeness`), labels every run with its group (the scenario, plus the swept
values when the experiment sweeps parameters), gives each group one colour
(:func:`sim.plotting.scenario_colours`) and notes what ran and how (provenance).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ResultsError
from sim.experiments.store import read_manifest
from sim.plotting import OKABE_ITO, scenario_colours

log = logging.getLogger(__name__)

REFERENCE = "baseline"
"""The scenario every other one is compared with."""


PLACEBO_SUFFIX = "_placebo"
"""``<strategy>_placebo`` is the same-cost placebo of scenario ``<strategy>`` (``strategies.placebo_of``)."""


CONDITION_SEPARATOR = "--"
"""Between a scenario's name and its robustness condition (``hefei--field-biotech``)."""


PROVINCE_COLUMNS: tuple[str, ...] = (
    "run_id", "scenario", "replicate", "year", "province", "capital", "coastal", "strategy", "population_m",
    "gdp_per_capita_cny", "research_output", "cost_provincial_cny_bn", "cost_central_cny_bn", "cost_foreign_cny_bn",
)
"""Columns of the province table a report reads (plus swept-parameter columns)."""


@dataclass
class Completeness:
    """Which runs of the experiment a results folder holds.

    Attributes:
        runs_total: how many runs the experiment has (from the manifest; None when unknown).
        complete: run ids that finished (status ok, with data).
        missing: run ids with no row at all (not run yet, or killed).
        failed: run id -> error message, for runs recorded with status ``failed``.
    """

    runs_total: int | None
    complete: list[int]
    missing: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def is_complete(self) -> bool:
        """True when every run of the experiment finished."""
        return not self.missing and not self.failed and (
            self.runs_total is None or len(self.complete) >= self.runs_total)

    def summary(self) -> str:
        """One line: how many runs are there, and which are missing or failed."""
        total = self.runs_total if self.runs_total is not None else len(self.complete)
        text = f"{len(self.complete)} of {total} runs complete"
        if self.missing:
            text += f"; missing run ids: {_id_list(self.missing)}"
        if self.failed:
            text += f"; failed run ids: {_id_list(sorted(self.failed))}"
        return text


def _id_list(ids: list[int], limit: int = 40) -> str:
    """``0-3, 7, 9`` (ranges collapsed), cut after ``limit`` items."""
    parts: list[str] = []
    ids = sorted(ids)
    start = prev = ids[0]
    for value in [*ids[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if value is not None:
            start = prev = value
    if len(parts) > limit:
        return ", ".join(parts[:limit]) + f", ... ({len(ids)} in all)"
    return ", ".join(parts)


@dataclass
class ReportData:
    """A results folder, read and prepared for a report.

    Attributes:
        folder: the results folder.
        manifest: its manifest.
        national, province, events: the tables of the complete runs, each with a ``group`` column
            (the scenario, plus the swept values when the experiment sweeps parameters).
        runs: the ``runs`` table as written (every run, failed ones included).
        groups: the groups in report order (manifest order of scenarios, then swept values).
        colours: one colour per group, the same in every figure.
        reference: group -> the group it is compared with (None when there is none).
        adoption_groups: groups where provinces can switch strategy (imitation on).
        sweep_columns: the swept-parameter columns (key paths with ``.`` written ``__``).
        completeness: which runs are there.
        provenance: what ran and how (experiment, files, seeds, versions, dates).
    """

    folder: Path
    manifest: dict[str, Any]
    national: pd.DataFrame
    province: pd.DataFrame
    events: pd.DataFrame
    runs: pd.DataFrame
    groups: list[str]
    colours: dict[str, str]
    reference: dict[str, str | None]
    adoption_groups: list[str]
    sweep_columns: list[str]
    completeness: Completeness
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    placebos: dict[str, str] = field(default_factory=dict)
    parameter_columns: list[str] = field(default_factory=list)

    @property
    def has_draws(self) -> bool:
        """True when the runs have parameter draws (an ``[uncertainty]`` experiment) with more than one draw."""
        return "draw" in self.national.columns and self.national["draw"].nunique() > 1

    def is_placebo(self, group: str) -> bool:
        """True when ``group`` is the same-cost placebo of another group in these results."""
        return group in self.placebos.values()

    def linestyle(self, group: str) -> str:
        """A line style per group: solid for the first eight, then dashed, dotted..."""
        return ("-", "--", ":", "-.")[(self.groups.index(group) // len(OKABE_ITO)) % 4]


# --------------------------------------------------------------------------------------------------
# reading


def _read(folder: Path, table: str, columns: tuple[str, ...] | None = None,
          extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every part of ``table``, read one by one (parts may differ in dtypes) and concatenated."""
    import pyarrow.parquet as pq

    directory = folder / table
    if not directory.is_dir():
        return pd.DataFrame()
    frames = []
    for path in sorted(directory.glob("part-*.parquet")):
        try:
            if columns is not None:
                names = pq.read_schema(path).names
                wanted = [c for c in names if c in columns or "__" in c or c in extra]
                frame = pd.read_parquet(path, columns=wanted)
            else:
                frame = pd.read_parquet(path)
        except Exception as exc:  # a damaged part must not hide the rest
            log.warning("%s: skipped unreadable part (%s)", path, exc)
            continue
        if not frame.empty:
            frames.append(frame)
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    for column in ("scenario", "province", "capital", "strategy", "type", "detail", "status", "error"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    return frame


def manifest_scenarios(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Scenario name -> {"file": ..., "resolved": {...}} for a batch or a single run."""
    if manifest.get("kind") == "run":
        resolved = manifest.get("scenario") or {}
        name = resolved.get("name", "scenario")
        return {name: {"file": manifest.get("scenario_file"), "resolved": resolved}}
    scenarios = manifest.get("scenarios") or {}
    return {str(k): (v if isinstance(v, dict) else {"file": v}) for k, v in scenarios.items()}


def _completeness(manifest: dict[str, Any], runs: pd.DataFrame, national: pd.DataFrame) -> Completeness:
    with_data = set(national["run_id"].astype(int).unique()) if not national.empty else set()
    failed: dict[int, str] = {}
    recorded: set[int] = set()
    if not runs.empty and "run_id" in runs:
        recorded = set(runs["run_id"].astype(int))
        status = runs.get("status", pd.Series(["ok"] * len(runs)))
        ok = set(runs.loc[status == "ok", "run_id"].astype(int))
        for row in runs.loc[status != "ok"].itertuples(index=False):
            failed[int(row.run_id)] = str(getattr(row, "error", "") or "failed")
        complete = sorted(ok & with_data)
    else:
        complete = sorted(with_data)
    total = manifest.get("runs_total")
    if total is None and manifest.get("kind") == "run":
        total = 1
    total = int(total) if total is not None else None
    expected = set(range(total)) if total is not None else set(complete) | set(failed) | recorded
    # not recorded at all, or recorded as finished but without data
    missing = sorted(expected - set(complete) - set(failed))
    return Completeness(total, complete, missing, failed)


def _group_labels(frame: pd.DataFrame, sweep_columns: list[str]) -> pd.Series:
    if not sweep_columns:
        return frame["scenario"].astype(str)
    shorts = [c.split("__")[-1] for c in sweep_columns]
    if len(set(shorts)) < len(shorts):
        shorts = [c.replace("__", ".") for c in sweep_columns]
    parts = [short + "=" + frame[c].astype(str) for short, c in zip(shorts, sweep_columns, strict=True)]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + ", " + part
    return frame["scenario"].astype(str) + " (" + joined + ")"


def _enabled(resolved: dict[str, Any], path: str) -> bool:
    node: Any = resolved
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return bool(node)


def load_report_data(results: str | Path) -> ReportData:
    """Read a results folder for a report.

    Raises:
        ResultsError: when ``results`` is not a results folder, or holds no complete run.
    """
    folder = Path(results)
    manifest = read_manifest(folder)
    kind = manifest.get("kind")
    if kind not in ("batch", "run"):
        raise ResultsError(f"{folder}: not a results folder (manifest kind is {kind!r}, expected 'batch' or 'run')")
    runs = _read(folder, "runs")
    national = _read(folder, "national")
    completeness = _completeness(manifest, runs, national)
    if not completeness.complete:
        raise ResultsError(f"{folder}: no complete run to report on ({completeness.summary()})")
    keep = set(completeness.complete)
    national = national[national["run_id"].astype(int).isin(keep)].copy()
    declared = manifest.get("sweep_columns")
    if isinstance(declared, dict):  # key path -> column, as sim batch writes it
        declared = list(declared.values())
    if isinstance(declared, list):
        sweep_columns = [str(c) for c in declared if str(c) in national.columns]
    else:  # older manifests: a swept key path is the only kind of column with "__" in its name
        sweep_columns = [c for c in national.columns if "__" in c]
    province = _read(folder, "province", PROVINCE_COLUMNS)
    if not province.empty:
        province = province[province["run_id"].astype(int).isin(keep)].copy()
    events = _read(folder, "events")
    if not events.empty:
        events = events[events["run_id"].astype(int).isin(keep)].copy()

    scenarios = manifest_scenarios(manifest)
    order = list(scenarios) + sorted(set(national["scenario"]) - set(scenarios))
    national = national.sort_values(["run_id", "year"]).reset_index(drop=True)
    national["group"] = _group_labels(national, sweep_columns)
    labels = national.drop_duplicates("run_id").set_index("run_id")["group"]
    for frame in (province, events):
        if not frame.empty:
            frame["group"] = frame["run_id"].map(labels).astype(str)

    # groups: scenarios in manifest order, then swept values in ascending order
    keys = national.drop_duplicates("group")[["group", "scenario", *sweep_columns]].copy()
    keys["_order"] = keys["scenario"].map({name: i for i, name in enumerate(order)})
    keys = keys.sort_values(["_order", *sweep_columns], kind="stable")
    groups = keys["group"].tolist()
    reference: dict[str, str | None] = {}
    by_key = {tuple(row[1:]): row[0] for row in keys[["group", "scenario", *sweep_columns]].itertuples(index=False)}
    for row in keys[["group", "scenario", *sweep_columns]].itertuples(index=False):
        reference[row[0]] = by_key.get((REFERENCE, *row[2:]))

    adoption = []
    for group in groups:
        scenario = keys.loc[keys["group"] == group, "scenario"].iloc[0]
        resolved = (scenarios.get(scenario) or {}).get("resolved") or {}
        switches = not province.empty and (
            province[province["group"] == group].groupby(["run_id", "province"], observed=True)["strategy"]
            .nunique().gt(1).any())
        swept_on = "imitation__enabled" in keys and bool(keys.loc[keys["group"] == group, "imitation__enabled"].iloc[0])
        if _enabled(resolved, "imitation.enabled") or swept_on or switches:
            adoption.append(group)

    notes = []
    if province.empty:
        notes.append("These results have no province table (see the experiment's [record] tables), so the maps, "
                     "rankings and strategy adoption are left out.")
    if all(ref is None for ref in reference.values()):
        notes.append(f"No scenario named {REFERENCE!r} in these results: the comparison with the "
                     "reference scenario is skipped.")
    placebos = _placebos(keys, sweep_columns, scenarios)
    parameter_columns = ([c for c in national.columns if "__" in c and c not in sweep_columns]
                         if "draw" in national.columns else [])
    data = ReportData(
        folder=folder, manifest=manifest, national=national, province=province, events=events, runs=runs,
        groups=groups, colours=scenario_colours(groups, REFERENCE), reference=reference, adoption_groups=adoption,
        sweep_columns=sweep_columns, completeness=completeness,
        provenance=_provenance(folder, manifest, scenarios, runs), notes=notes, placebos=placebos,
        parameter_columns=parameter_columns)
    return data


def placebo_name(scenario: str) -> str:
    """The name of ``scenario``'s same-cost placebo: ``hefei`` -> ``hefei_placebo``,
    ``hefei--field-biotech`` -> ``hefei_placebo--field-biotech``."""
    head, sep, condition = scenario.partition(CONDITION_SEPARATOR)
    return head + PLACEBO_SUFFIX + sep + condition


def _placebos(keys: pd.DataFrame, sweep_columns: list[str],
              scenarios: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Group -> the group of its same-cost placebo (same swept values), for the groups that have one.

    A placebo is found by name (``<scenario>_placebo``) or, failing that, by a scenario whose
    resolved ``strategies.placebo_of`` names only this scenario's strategy.
    """
    rows = keys[["group", "scenario", *sweep_columns]].itertuples(index=False)
    by_key = {tuple(row[1:]): row[0] for row in rows}
    declared: dict[str, str] = {}
    for name, entry in scenarios.items():
        of = (((entry or {}).get("resolved") or {}).get("strategies") or {}).get("placebo_of") or []
        if len(of) == 1:
            declared.setdefault(str(of[0]), name)
    out: dict[str, str] = {}
    for row in keys[["group", "scenario", *sweep_columns]].itertuples(index=False):
        group, scenario, *swept = row
        if scenario.partition(CONDITION_SEPARATOR)[0].endswith(PLACEBO_SUFFIX):
            continue
        match = by_key.get((placebo_name(scenario), *swept))
        if match is None and scenario in declared:
            match = by_key.get((declared[scenario], *swept))
        if match is not None and match != group:
            out[group] = match
    return out


def _provenance(folder: Path, manifest: dict[str, Any], scenarios: dict[str, dict[str, Any]],
                runs: pd.DataFrame) -> dict[str, Any]:
    import sim
    from sim.experiments.store import git_commit

    experiment = manifest.get("experiment") or {}
    if manifest.get("kind") == "run":
        name = (manifest.get("scenario") or {}).get("name", "scenario")
        replicates = 1
        seed = manifest.get("seed")
    else:
        name = experiment.get("name", folder.name)
        replicates = experiment.get("replicates")
        seed = experiment.get("seed")
    seeds = pd.DataFrame()
    if not runs.empty:
        wanted = [c for c in ("run_id", "scenario", "replicate", "status", "seed_entropy", "spawn_key")
                  if c in runs]
        seeds = runs[wanted].sort_values("run_id").reset_index(drop=True)
    return {
        "kind": manifest.get("kind"),
        "experiment": name,
        "experiment_file": manifest.get("experiment_file"),
        "description": experiment.get("description", ""),
        "scenario_files": {k: v.get("file") for k, v in scenarios.items()},
        "replicates": replicates,
        "root_seed": seed,
        "runs_total": manifest.get("runs_total", 1 if manifest.get("kind") == "run" else None),
        "package_version": manifest.get("package_version"),
        "git_commit": manifest.get("git_commit"),
        "created": manifest.get("created"),
        "python": manifest.get("python"),
        "mesa": manifest.get("mesa"),
        "results_folder": str(folder),
        "report_built": datetime.now(UTC).isoformat(timespec="seconds"),
        "report_version": sim.__version__,
        "report_commit": git_commit(),
        "seeds": seeds,
    }
