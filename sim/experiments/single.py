"""Running scenarios: one run from Python or the command line, returning pandas DataFrames.

:func:`run_scenario` is the Python entry point; :func:`simulate` is the unit of work that the
batch runner ships to worker processes (it takes only picklable values and returns tables).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ResultsError
from sim.experiments.store import provenance, write_manifest, write_part
from sim.model import RegionalGrowthModel
from sim.scenario import Scenario, load_scenario, with_overrides


@dataclass
class RunResult:
    """The tables of one run.

    Attributes:
        national: one row per year.
        province: one row per province and year.
        events: one row per event that fired.
        runs: one row describing the run (seed, status).
        scenario: the scenario as resolved.
        model: the model after its last year (None when not kept).
    """

    national: pd.DataFrame
    province: pd.DataFrame
    events: pd.DataFrame
    runs: pd.DataFrame
    scenario: Scenario
    model: RegionalGrowthModel | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four tables by name."""
        return {"runs": self.runs, "national": self.national, "province": self.province, "events": self.events}


def simulate(scenario: Scenario, seed: np.random.SeedSequence, run_id: int = 0,
             labels: dict[str, Any] | None = None, record_every: int = 1,
             tables: tuple[str, ...] = ("national", "province", "events")) -> dict[str, pd.DataFrame]:
    """Run one scenario with one seed and return its tables, each with ``run_id`` and ``labels``.

    Args:
        scenario: the resolved scenario.
        seed: the run's SeedSequence (spawned from the experiment's root seed).
        run_id: the run's number in its experiment.
        labels: extra columns for every row (scenario name, swept values).
        record_every: keep every k-th year (the first and last are always kept).
        tables: which of national, province, events to return (runs always).
    """
    model = RegionalGrowthModel(scenario, rng=seed).run()
    return tables_of(model, run_id, labels or {}, record_every, tables)


def tables_of(model: RegionalGrowthModel, run_id: int, labels: dict[str, Any], record_every: int = 1,
              tables: tuple[str, ...] = ("national", "province", "events")) -> dict[str, pd.DataFrame]:
    """The tables of a finished model, with ``run_id`` and ``labels`` columns first.

    Args:
        model: a model that has run.
        run_id: the run's number (a column of every table).
        labels: extra constant columns (scenario name, replicate, swept values).
        record_every: keep every k-th year (the first and last are always kept).
        tables: which of national, province, events to return (runs always).
    """
    seed = model.seed_sequence

    def frame(columns: dict[str, Any], rows: int) -> pd.DataFrame:
        front: dict[str, Any] = {"run_id": np.full(rows, run_id, dtype=np.int64)}
        for key, value in labels.items():
            front[key] = pd.array([value] * rows, dtype="string") if isinstance(value, str) else np.full(rows, value)
        return pd.DataFrame({**front, **columns})

    def keep_years(columns: dict[str, Any]) -> dict[str, Any]:
        if record_every <= 1:
            return columns
        years = columns["year"]
        mask = ((years - model.start_year) % record_every == 0) | (years == model.end_year)
        return {key: value[mask] for key, value in columns.items()}

    out: dict[str, pd.DataFrame] = {}
    national = model.national_columns()
    if "national" in tables:
        kept = keep_years(national)
        out["national"] = frame(kept, len(kept["year"]))
    if "province" in tables:
        kept = keep_years(model.province_columns(categorical=False))
        out["province"] = frame(kept, len(kept["year"]))
    if "events" in tables:
        events = model.event_columns()
        out["events"] = frame(events, len(events["year"]))
    out["runs"] = frame({
        "status": pd.array(["ok"], dtype="string"),
        "error": pd.array([""], dtype="string"),
        "seed_entropy": [str(seed.entropy) if seed is not None else ""],
        "spawn_key": [",".join(map(str, seed.spawn_key)) if seed is not None else ""],
        "start_year": [model.start_year],
        "end_year": [model.end_year],
        "final_gdp_real_cny_bn": [float(national["gdp_real_cny_bn"][-1])],
        "final_gini": [float(national["gini"][-1])],
    }, 1)
    return out


def run_scenario(scenario: Scenario | str | Path | None = None, *, seed: int | None = None,
                 values: Mapping[str, Any] | None = None, overrides: list[str] | tuple[str, ...] = (),
                 out: str | Path | None = None, keep_model: bool = False, source: str | None = None) -> RunResult:
    """Run one scenario and return its tables as pandas DataFrames.

    Args:
        scenario: a :class:`Scenario`, a scenario file, or None for the defaults.
        seed: the root seed (default: the scenario's ``run.seed``); an int or numpy integer.
        values: key path -> value set on the scenario (Python or numpy scalars and sequences),
            e.g. ``{"economy.catch_up_rate": np.float64(0.02)}``.
        overrides: ``key.path=value`` text from a command line, parsed once (applied before ``values``).
        out: when given, also write a results folder there (see :mod:`sim.experiments.store`).
        keep_model: keep the finished model on the result (for inspection).
        source: the scenario file to name in the manifest when ``scenario`` is already loaded.

    Example:
        >>> result = run_scenario("scenarios/baseline.toml", seed=1)  # doctest: +SKIP
        >>> result.national[["year", "gdp_real_cny_bn", "gini"]].tail(1)  # doctest: +SKIP
    """
    source = str(scenario) if isinstance(scenario, (str, Path)) else source
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        scenario = with_overrides(scenario, overrides)
    extra = dict(values or {})
    if seed is not None:
        extra["run.seed"] = seed
    scenario = scenario.with_values(extra, source="run_scenario values") if extra else scenario
    root = np.random.SeedSequence(scenario.run.seed)
    model = RegionalGrowthModel(scenario, rng=root).run()
    tables = tables_of(model, 0, {"scenario": scenario.name})
    result = RunResult(national=tables["national"], province=tables["province"], events=tables["events"],
                       runs=tables["runs"], scenario=scenario, model=model if keep_model else None)
    if out is not None:
        manifest = {"kind": "run", "scenario_file": source, "scenario": scenario.model_dump(mode="json"),
                    "seed": int(root.entropy), **provenance()}
        write_results_folder(Path(out), result.tables(), manifest)
    return result


def write_results_folder(folder: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> Path:
    """Write a complete single-run results folder atomically (built aside, then renamed); returns it.

    Raises:
        FileExistsError: when ``folder`` already exists and is not empty (nothing is written).
        ResultsError: when writing fails (a full disk, a read-only folder, ``folder`` under a file):
            the results are then kept whole in a temporary folder that the message names.
    """

    def write(staging: Path) -> None:
        for name, frame in tables.items():
            write_part(staging, name, "0", frame)
        write_manifest(staging, manifest)

    return write_folder_atomically(Path(folder), write)


def write_folder_atomically(folder: Path, write: Callable[[Path], None], what: str = "the finished run's results") -> Path:
    """``write(staging)`` into a new folder beside ``folder``, then rename it to ``folder``; returns ``folder``.

    Finished work is never lost to a write error: when ``folder`` cannot be written (no space, no
    permission, a file in the way), the results are left whole in a temporary folder (the complete
    staging folder, or else a new one in the system's temporary directory) and the error names it.

    Args:
        folder: the results folder to create (absent, or an empty folder).
        write: writes the results into the folder it is given.
        what: how the message names the results.

    Raises:
        FileExistsError: when ``folder`` exists and is not an empty folder (nothing is written).
        ResultsError: when writing failed, naming the folder that holds the results (or saying that
            no folder could hold them).
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} already exists and is not an empty folder")
    staging: Path | None = None
    written = False
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        write(staging)
        written = True
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
        return folder
    except (OSError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
        if written and staging is not None:
            kept: Path | None = staging
        else:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            kept = _write_to_temporary(write)
        if kept is None:
            raise ResultsError(f"{folder}: could not write {what} ({reason}), nor to a temporary folder") from exc
        raise ResultsError(f"{folder}: could not write {what} ({reason}); they are kept in {kept}/ "
                           "(move that folder where you want it)") from exc
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_to_temporary(write: Callable[[Path], None]) -> Path | None:
    """``write`` into a new folder in the system's temporary directory; that folder, or None when it failed."""
    try:
        kept = Path(tempfile.mkdtemp(prefix="sim-results-"))
    except OSError:
        return None
    try:
        write(kept)
    except (OSError, ValueError):
        shutil.rmtree(kept, ignore_errors=True)
        return None
    return kept
