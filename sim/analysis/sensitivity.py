"""Global sensitivity analysis with SALib: Sobol indices (first and total order, with confidence
intervals) and the Morris screen, run through the one experiment runner.

The path of every analysis, whatever the evaluator::

    SensitivitySpec --design()--> sample matrix (SALib: Saltelli/Sobol' sequence or Morris trajectories)
      --> run list: design points x replicates (sim.experiments.runlist.DesignRunList)
      --> sim.experiments.runner.run_ensemble on an executor (serial | process pool | Dask)
          with an OutcomeRecorder: one ``runs`` row per design point, outcomes averaged over replicates
      --> ``runs`` parts streamed to a results folder (resumable), or kept in memory
      --> read back in point order --> SALib analyze --> indices table (+ figure)

An *evaluator* (``evaluator(run, scenario) -> {outcome: value}``, :mod:`sim.experiments.outcomes`)
turns a run into outcomes: :class:`ModelEvaluator` runs the model of the scenario with the point's
values set and reads end-year national outcomes; any function of the values plugs in the same way.
Seeds are common random numbers: replicate ``r`` of every point uses child ``r`` of
``SeedSequence(seed)``, so points differ by their parameters, not their draws, whatever the executor.
Experiment files with a ``[sensitivity]`` table are read by :mod:`sim.analysis.sensitivity_files`.

Results folder::

    manifest.json            kind "sensitivity": problem, method, samples, outcomes, experiment, status
    design.parquet           run_id and the parameter values of every design point
    runs/part-<id>.parquet   run_id (the design point), status, error, parameter values, outcomes
    indices.csv/.parquet     one row per outcome and parameter
    figures/sensitivity_indices.png
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import SimError
from sim.experiments.columns import to_arrow
from sim.experiments.executors import ExecutorChoice
from sim.experiments.folder import ResultsFolder
from sim.experiments.identity import name_problem
from sim.experiments.outcomes import DEFAULT_OUTPUTS, NATIONAL_OUTPUTS, ModelEvaluator, OutcomeRecorder
from sim.experiments.parts import write_table_atomic
from sim.experiments.runlist import DesignRunList, Run, column_name
from sim.experiments.runner import run_ensemble
from sim.experiments.store import provenance, read_table

__all__ = [
    "DEFAULT_OUTPUTS",
    "METHODS",
    "NATIONAL_OUTPUTS",
    "ModelEvaluator",
    "SensitivityResult",
    "SensitivitySpec",
    "analyse",
    "check_folder",
    "check_method",
    "column_name",
    "read_outputs",
    "run_sensitivity",
]

METHODS: tuple[str, ...] = ("sobol", "morris")
DEFAULT_SAMPLES = {"sobol": 512, "morris": 20}
"""Default sample size: Sobol base sample N (runs N (D + 2)); Morris trajectories (runs r (D + 1))."""
TARGET_PARTS = 200
"""Design points are grouped into about this many Parquet parts (one task each) unless told otherwise."""
Evaluator = Callable[[Run, Any], Mapping[str, float]]


# --------------------------------------------------------------------------------------
# The specification and its design


@dataclass(frozen=True)
class SensitivitySpec:
    """A sensitivity analysis: parameters with bounds, outcomes, method and sample size.

    Attributes:
        name: label for the results.
        parameters: ``(key, low, high)`` for each varied parameter (a scenario key path for the model).
        outputs: the outcome names the evaluator returns and the indices are computed for.
        seed: the root seed of the design, the bootstrap and the model runs.
        method: ``"sobol"`` or ``"morris"``.
        samples: Sobol base sample N (a power of 2; ``N (D + 2)`` runs, ``N (2 D + 2)`` with second
            order) or Morris trajectories (``r (D + 1)`` runs).
        levels: Morris grid levels.
        second_order: also compute Sobol second-order indices (more runs).
        confidence: level of the bootstrap confidence intervals.
        resamples: bootstrap resamples.
        runs_per_part: runs per Parquet part and task; 0 = about :data:`TARGET_PARTS` parts.
    """

    name: str
    parameters: tuple[tuple[str, float, float], ...]
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    seed: int = 0
    method: str = "sobol"
    samples: int = 0
    levels: int = 4
    second_order: bool = False
    confidence: float = 0.95
    resamples: int = 1000
    runs_per_part: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {self.method!r}")
        problem = name_problem(self.name)
        if problem:
            raise ValueError(f"name: {self.name!r:.70}: {problem}")
        if not self.parameters:
            raise ValueError("parameters: give at least one parameter with bounds")
        names = [p[0] for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"parameters: a name appears twice in {names}")
        for key, low, high in self.parameters:
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"parameters: {key}: expected finite bounds low < high, got [{low}, {high}]")
        if not self.outputs:
            raise ValueError("outputs: give at least one outcome")
        if self.samples < 0 or (self.samples and self.samples < 2):
            raise ValueError(f"samples: expected at least 2 (0 = the default), got {self.samples}")
        if self.levels < 2:
            raise ValueError(f"levels: expected at least 2, got {self.levels}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence: expected a level between 0 and 1, got {self.confidence}")
        if self.resamples < 10:
            raise ValueError(f"resamples: expected at least 10, got {self.resamples}")
        if self.seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {self.seed}")

    @property
    def n_samples(self) -> int:
        """The sample size, with the method's default when ``samples`` is 0."""
        return self.samples or DEFAULT_SAMPLES[self.method]

    @property
    def names(self) -> list[str]:
        """Parameter names in design-column order."""
        return [p[0] for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """The SALib problem dictionary."""
        return {"num_vars": len(self.parameters), "names": self.names,
                "bounds": [[float(low), float(high)] for _, low, high in self.parameters]}

    @property
    def runs_total(self) -> int:
        """Rows of the design."""
        d, n = len(self.parameters), self.n_samples
        if self.method == "sobol":
            return n * (2 * d + 2 if self.second_order else d + 2)
        return n * (d + 1)

    def design(self) -> np.ndarray:
        """The sample matrix, shape ``(runs_total, D)``, from SALib with this spec's seed."""
        problem = self.problem()
        if self.method == "sobol":
            from SALib.sample import sobol as sobol_sample

            n = self.n_samples
            if n & (n - 1):
                warnings.warn(f"samples = {n} is not a power of 2: the Sobol' sequence loses its balance "
                              "properties; prefer 2^k", UserWarning, stacklevel=2)
            with warnings.catch_warnings():  # said once above, in our words
                warnings.filterwarnings("ignore", category=UserWarning, module=r"(SALib|scipy)\..*")
                return sobol_sample.sample(problem, n, calc_second_order=self.second_order, seed=self.seed)
        from SALib.sample import morris as morris_sample

        return morris_sample.sample(problem, self.n_samples, num_levels=self.levels, seed=self.seed)

    def identity(self) -> dict[str, Any]:
        """Everything that decides the design and the analysis (for the manifest and resume)."""
        return {"name": self.name, "parameters": [list(p) for p in self.parameters], "outputs": list(self.outputs),
                "seed": self.seed, "method": self.method, "samples": self.n_samples, "levels": self.levels,
                "second_order": self.second_order}


# --------------------------------------------------------------------------------------
# Analysis


def analyse(spec: SensitivitySpec, design: np.ndarray, outputs: Mapping[str, np.ndarray],
            pool: Any = None) -> pd.DataFrame:
    """SALib indices of every outcome, as one long table.

    Args:
        spec: the analysis (method, problem, confidence, resamples, seed).
        design: the sample matrix, in run order.
        outputs: outcome name -> values in run order (no NaN).
        pool: an executor with ``map`` (a process pool) to analyse the outcomes side by side; each
            outcome's analysis is the same computation wherever it runs (the bootstrap is seeded
            with ``spec.seed``), so the numbers do not depend on it. None: one after the other.

    Returns:
        One row per outcome and parameter: ``outcome, parameter`` then ``S1, S1_conf, ST, ST_conf``
        (Sobol; ``*_conf`` is the half-width of the bootstrap interval at ``spec.confidence``) or
        ``mu, mu_star, mu_star_conf, sigma, mu_star_normalised`` (Morris).

    Raises:
        ValueError: when an outcome has missing values or the wrong length.
    """
    problem = spec.problem()
    checked: dict[str, np.ndarray] = {}
    for name, values in outputs.items():
        y = np.asarray(values, dtype=float)
        if y.shape != (design.shape[0],):
            raise ValueError(f"outputs: {name} has {y.size} values for {design.shape[0]} runs")
        if not np.isfinite(y).all():
            raise ValueError(f"outputs: {name} has {int((~np.isfinite(y)).sum())} missing values (failed runs)")
        if spec.method == "sobol" and np.ptp(y) == 0:
            warnings.warn(f"outcome {name} does not vary: its indices are undefined", UserWarning, stacklevel=2)
        checked[name] = y
    one = partial(_indices, spec, problem, design if spec.method == "morris" else None)
    each = pool.map if pool is not None and len(checked) > 1 else map
    return pd.concat(list(each(one, list(checked), list(checked.values()))), ignore_index=True)


def _indices(spec: SensitivitySpec, problem: dict, design: np.ndarray | None, name: str, y: np.ndarray) -> pd.DataFrame:
    """The rows of :func:`analyse` for one outcome ``name`` with values ``y`` (checked)."""
    if spec.method == "sobol":
        from SALib.analyze import sobol

        if np.ptp(y) == 0:  # undefined (the caller warns)
            res = {k: np.full(len(spec.names), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            res = sobol.analyze(problem, y, calc_second_order=spec.second_order, num_resamples=spec.resamples,
                                conf_level=spec.confidence, seed=spec.seed)
        return pd.DataFrame({"outcome": name, "parameter": spec.names, "S1": res["S1"],
                             "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]})
    from SALib.analyze import morris

    res = morris.analyze(problem, design, y, num_resamples=spec.resamples, conf_level=spec.confidence,
                         num_levels=spec.levels, seed=spec.seed)
    mu_star = np.asarray(res["mu_star"], dtype=float)
    top = np.nanmax(mu_star) if np.isfinite(mu_star).any() and np.nanmax(mu_star) > 0 else np.nan
    return pd.DataFrame({"outcome": name, "parameter": spec.names, "mu": np.asarray(res["mu"], float),
                         "mu_star": mu_star, "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                         "sigma": np.asarray(res["sigma"], float), "mu_star_normalised": mu_star / top})


# --------------------------------------------------------------------------------------
# Running


@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did.

    Attributes:
        folder: the results folder (None: run in memory); spec: the analysis; design: the sample matrix.
        outputs: outcome -> values in design-point order.
        indices: the long table of :func:`analyse` (empty when runs failed or are missing).
        failed: the failed design points (run_id, error).
        runs_run, runs_resumed: design points evaluated by this call, and found done in the folder.
        elapsed_s: wall time; executor: the executor, as one line; figures: the figures written.
        runs: the run list (design points x replicates).
    """

    folder: Path | None
    spec: SensitivitySpec
    design: np.ndarray
    outputs: dict[str, np.ndarray]
    indices: pd.DataFrame
    failed: pd.DataFrame
    runs_run: int
    runs_resumed: int
    elapsed_s: float
    executor: str
    figures: list[Path] = field(default_factory=list)
    runs: DesignRunList | None = field(default=None, repr=False)


def _outputs_of(runs: pd.DataFrame, spec: SensitivitySpec) -> tuple[dict[str, np.ndarray], pd.DataFrame, int]:
    total = spec.runs_total
    outputs = {name: np.full(total, np.nan) for name in spec.outputs}
    if runs.empty:
        return outputs, pd.DataFrame(columns=["run_id", "error"]), total
    runs = runs.drop_duplicates("run_id").sort_values("run_id")
    index = runs["run_id"].to_numpy(int)
    for name in spec.outputs:
        outputs[name][index] = runs[name].to_numpy(float)
    failed = runs.loc[runs["status"] != "ok", ["run_id", "error"]].reset_index(drop=True)
    return outputs, failed, total - len(runs)


def read_outputs(folder: str | Path, spec: SensitivitySpec) -> tuple[dict[str, np.ndarray], pd.DataFrame, int]:
    """The outcomes of a sensitivity folder in design-point order, the failed points, and how many are missing."""
    return _outputs_of(read_table(folder, "runs"), spec)


def _results_folder(out: str | Path, spec: SensitivitySpec, evaluator: Evaluator, scenario, replicates: int,
                    extra: dict[str, Any] | None) -> ResultsFolder:
    """The folder of an analysis; its hash covers the spec, the evaluator, the scenario and the seeds."""
    describe = getattr(evaluator, "describe", None)
    evaluated: dict[str, Any] | str = describe() if describe else type(evaluator).__name__
    if scenario is not None or replicates != 1:
        seeds = {"seed": spec.seed, "replicates": replicates,
                 "seeds": "common random numbers: replicate r of every point uses run_seed(seed, r)"}
        if scenario is not None:
            seeds["scenario"] = scenario.model_dump(mode="json")
        evaluated = {**evaluated, **seeds} if isinstance(evaluated, dict) else {"kind": evaluated, **seeds}
    payload = json.dumps({"spec": spec.identity(), "evaluator": evaluated}, sort_keys=True, separators=(",", ":"),
                         default=str)
    manifest = {"kind": "sensitivity", "hash": "sha256:" + hashlib.sha256(payload.encode()).hexdigest(),
                "spec": spec.identity(), "problem": spec.problem(), "evaluator": evaluated,
                "runs_total": spec.runs_total, "status": "running", **provenance(), **(extra or {})}

    def mismatch(old: dict[str, Any]) -> str:
        return (f"holds another analysis ({old.get('spec', {}).get('name', '?')!r}, {old.get('hash')}) than "
                f"this one ({manifest['hash']})")

    return ResultsFolder(Path(out), manifest, "hash", "sensitivity analysis", mismatch)


def check_folder(out: str | Path, spec: SensitivitySpec, evaluator: Evaluator, *, scenario=None, replicates: int = 1,
                 resume: bool = False, allow_code_change: bool = False) -> None:
    """Check that ``out`` can take this analysis, without touching it (raises ``ResultsError`` as
    :func:`run_sensitivity` would)."""
    _results_folder(out, spec, evaluator, scenario, replicates, None).check(resume, allow_code_change)


def run_sensitivity(spec: SensitivitySpec, evaluator: Evaluator, *, scenario=None, replicates: int = 1,
                    out: str | Path | None = None, executor: str = "serial", workers: int | None = None,
                    address: str = "local", resume: bool = False, progress: bool = False, figures: bool = True,
                    manifest_extra: dict[str, Any] | None = None, allow_code_change: bool = False) -> SensitivityResult:
    """Sample the design, evaluate every design point on an executor, analyse with SALib.

    Args:
        spec: the analysis.
        evaluator: ``evaluator(run, scenario) -> {outcome: value}``; picklable for process and Dask
            executors (e.g. :class:`ModelEvaluator`).
        scenario: the base scenario the design's key paths are set on (None: the evaluator is a
            function of the values alone).
        replicates: seeds per design point (common random numbers); outcomes are averaged over them.
        out: the results folder; None runs in memory and writes nothing.
        executor: ``"serial"``, ``"process"`` or ``"dask"`` (see :mod:`sim.experiments.executors`).
        workers: worker processes (process pool or local Dask cluster); 0/None = all cores.
        address: the Dask scheduler (``"local"`` starts a LocalCluster).
        resume: finish the analysis already in ``out`` (only the missing design points are run).
        progress: show progress on stderr.
        figures: write ``figures/sensitivity_indices.png`` (with ``out``).
        manifest_extra: more entries for the manifest (the experiment file, the overrides...).
        allow_code_change: resume a folder whose runs were made by other code (the manifest records it).

    Returns:
        A :class:`SensitivityResult`; its ``indices`` are empty when some points failed or are missing.

    Raises:
        ResultsError: ``out`` cannot take the analysis (a file, not writable, another writer, not
            empty without ``resume``, another analysis, other code; see :mod:`sim.experiments.folder`).
        Interrupted: SIGINT or SIGTERM stopped it (finished points kept; manifest ``interrupted``).
    """
    started = time.monotonic()
    design = spec.design()
    total = design.shape[0]
    runs = DesignRunList.build(design, spec.names, scenario, replicates, spec.seed)
    recorder = OutcomeRecorder(evaluator, tuple(spec.outputs))
    per_part = spec.runs_per_part or max(1, math.ceil(total / TARGET_PARTS))
    choice = ExecutorChoice(executor, workers, address)
    target = None if out is None else _results_folder(out, spec, evaluator, scenario, replicates, manifest_extra)

    def write_design(folder: Path) -> None:
        if not (folder / "design.parquet").exists():
            frame = pd.DataFrame(design, columns=[column_name(n) for n in spec.names])
            frame.insert(0, "run_id", np.arange(total, dtype=np.int64))
            write_table_atomic(folder / "design.parquet", to_arrow(frame))

    result = run_ensemble(runs, recorder, executor=choice, folder=target, resume=resume, runs_per_part=per_part,
                          progress=progress, on_open=write_design, allow_code_change=allow_code_change)
    if target is None:
        outputs, failed, missing = _outputs_of(result.tables.get("runs", pd.DataFrame()), spec)
    else:
        outputs, failed, missing = read_outputs(target.path, spec)
    indices = pd.DataFrame()
    written: list[Path] = []
    if failed.empty and missing == 0:
        indices = _analyse_on(choice, spec, design, outputs)
        if target is not None:
            indices.to_csv(target.path / "indices.csv", index=False)
            indices.to_parquet(target.path / "indices.parquet", index=False)
            if figures:
                from sim.analysis.figures import write_sensitivity_figures

                written = write_sensitivity_figures(target.path, indices, spec.method)
    return SensitivityResult(folder=result.folder, spec=spec, design=design, outputs=outputs, indices=indices,
                             failed=failed, runs_run=result.runs_run, runs_resumed=result.runs_resumed,
                             elapsed_s=time.monotonic() - started, executor=result.executor, figures=written, runs=runs)


def _long_analysis(spec: SensitivitySpec) -> bool:
    """Whether one outcome's analysis takes long enough (about 1.5 s or more on a 2-core machine of 2026)
    that analysing the outcomes side by side on a pool pays for the workers' import of SALib (about 2 s).

    Sobol's bootstrap does ``N x resamples`` work per index (2 D first and total-order indices, plus
    D (D - 1) / 2 second-order ones): 1024 x 1000 x 65 (10 parameters, second order) took 4.7 s an
    outcome, 512 x 1000 x 18 (the shipped file) 0.6 s. Morris's analysis takes a fraction of a second.
    Either way the numbers are the same; this only chooses the quicker path.
    """
    if spec.method != "sobol":
        return False
    d = len(spec.names)
    indices = 2 * d + (d * (d - 1) // 2 if spec.second_order else 0)
    return spec.samples * spec.resamples * indices >= 20_000_000


def _analyse_on(choice: ExecutorChoice, spec: SensitivitySpec, design: np.ndarray,
                outputs: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """:func:`analyse`, on the session's process pool when the runs used one and the analysis is long (the
    outcomes side by side); interrupted, the pool's workers stop."""
    if choice.kind != "process" or len(outputs) < 2 or not _long_analysis(spec):
        return analyse(spec, design, outputs)
    from sim.experiments.pool import discard_pool, get_pool

    pool, _started = get_pool(choice.workers or os.cpu_count() or 1)
    try:
        return analyse(spec, design, outputs, pool=pool)
    except BaseException:
        discard_pool(kill=True)
        raise


def check_method(method: str) -> str:
    """``method`` if it is known, else a :class:`SimError` naming the option."""
    if method not in METHODS:
        raise SimError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    return method
