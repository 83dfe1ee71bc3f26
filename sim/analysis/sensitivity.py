"""Global sensitivity analysis with SALib: Sobol indices (first and total order, with confidence
intervals) and the Morris screen, run through the batch runner's executors.

The path of every analysis, whatever the evaluator::

    SensitivitySpec --design()--> sample matrix (SALib: Saltelli/Sobol' sequence or Morris trajectories)
      --> run list (run i = row i) --> executor (serial | process pool | Dask, from sim.experiments.batch)
      --> ``runs`` parts streamed to a results folder (resumable) --> read back in run order
      --> SALib analyze --> indices table (+ figure)

An *evaluator* turns one row of the design into outcomes: :class:`ModelEvaluator` runs the model
(a scenario with the row's values set) and reads end-year national outcomes; :class:`IshigamiEvaluator`
is the Ishigami-Homma function, whose indices are known analytically, to check the wiring.
Evaluators are picklable top-level classes, so the same code runs them in worker processes.

Experiment files (``experiments/sensitivity.toml``) are batch experiment files (:mod:`sim.experiments.spec`)
read with one convention: every key under ``[sweep]`` lists its ``[low, high]`` bounds, and the
experiment must name exactly one scenario. ``replicates`` is the number of seeds each design point
is run with (outcomes averaged). The method, the sample size and the outcomes come from the command
line (or the :class:`SensitivitySpec` in Python) and are recorded in the manifest.

Seeds: common random numbers. Replicate ``r`` of every design point uses the same seed
(``sim.experiments.batch.run_seed(seed, r)``), so differences between points come from the parameters, not
from the draws, and the result does not depend on the executor or the number of workers.

Results folder::

    manifest.json            kind "sensitivity": problem, method, samples, outcomes, experiment, status
    design.parquet           run_id and the parameter values of every run
    runs/part-<id>.parquet   run_id, status, error, parameter values, outcomes (written as runs finish)
    indices.csv/.parquet     one row per outcome and parameter
    figures/sensitivity_indices.png
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ExperimentError, ResultsError, SimError

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_OUTPUTS",
    "METHODS",
    "NATIONAL_OUTPUTS",
    "IshigamiEvaluator",
    "ModelEvaluator",
    "SensitivityResult",
    "SensitivitySpec",
    "analyse",
    "evaluate_block",
    "format_indices",
    "ishigami_indices",
    "load_sensitivity",
    "read_outputs",
    "run_sensitivity",
]

METHODS: tuple[str, ...] = ("sobol", "morris")
DEFAULT_OUTPUTS: tuple[str, ...] = ("gini", "theil_between_region", "gdp_cny_bn", "interior_research_share")
"""The key outcomes, read from the model's national table in the end year."""
NATIONAL_OUTPUTS: tuple[str, ...] = (
    "gdp_cny_bn", "gdp_growth", "population_m", "gdp_per_capita_cny", "gini", "theil", "theil_between_region",
    "theil_within_region", "theil_between_coast", "theil_within_coast", "cv", "coast_interior_ratio",
    "max_min_ratio", "research_output", "interior_research_share", "interior_in_top10", "interior_in_top20",
    "high_tech_share", "rd_budget_cny_bn", "rd_spent_cny_bn", "central_rd_cny_bn", "skilled_m", "graduates_k",
    "institutes", "openness",
)
"""End-year columns of the national table a :class:`ModelEvaluator` can return."""
DEFAULT_SAMPLES = {"sobol": 512, "morris": 20}
"""Default sample size: Sobol base sample N (runs N (D + 2)); Morris trajectories (runs r (D + 1))."""
TARGET_PARTS = 200
"""Runs are grouped into about this many Parquet parts (one task each) unless told otherwise."""


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


def column_name(key: str) -> str:
    """A parameter's column in the tables: dots become ``__`` (as in batch results)."""
    return key.replace(".", "__")


# --------------------------------------------------------------------------------------
# Evaluators


class IshigamiEvaluator:
    """The Ishigami-Homma function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` on ``[-pi, pi]^3``.

    Its Sobol indices are known analytically (:func:`ishigami_indices`); it checks that the design,
    the run list, the executor, the results folder and the analysis fit together. The parameters
    are named ``x1``, ``x2``, ``x3``; the outcome is ``y``.
    """

    outputs: tuple[str, ...] = ("y",)

    def __init__(self, a: float = 7.0, b: float = 0.1) -> None:
        self.a = a
        self.b = b

    def __call__(self, values: Mapping[str, float], run_id: int) -> dict[str, float]:
        """``{"y": f(x1, x2, x3)}``."""
        x1, x2, x3 = values["x1"], values["x2"], values["x3"]
        return {"y": math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3**4 * math.sin(x1)}

    def describe(self) -> dict[str, Any]:
        """For the manifest."""
        return {"kind": "ishigami", "a": self.a, "b": self.b}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, np.ndarray]:
    """Analytic first- and total-order Sobol indices of the Ishigami function on ``[-pi, pi]^3``.

    ``V1 = 1/2 (1 + b pi^4 / 5)^2``, ``V2 = a^2 / 8``, ``V13 = b^2 pi^8 (1/18 - 1/50)``,
    ``V = V1 + V2 + V13``; ``S = (V1, V2, 0) / V`` and ``ST = (V1 + V13, V2, V13) / V``.
    """
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return {"S1": np.array([v1, v2, 0.0]) / total, "ST": np.array([v1 + v13, v2, v13]) / total}


class ModelEvaluator:
    """Runs the model with one design row set on a scenario and returns end-year national outcomes.

    Args:
        scenario: the base scenario (with the experiment's ``[set]`` and ``--set`` applied).
        outputs: columns of the national table (:data:`NATIONAL_OUTPUTS`), read in the end year.
        seed: root seed; replicate ``r`` runs with ``sim.experiments.batch.run_seed(seed, r)`` at every point.
        replicates: seeds per point; outcomes are averaged over them.
    """

    def __init__(self, scenario, outputs: Sequence[str] = DEFAULT_OUTPUTS, seed: int = 0, replicates: int = 1) -> None:
        unknown = [o for o in outputs if o not in NATIONAL_OUTPUTS]
        if unknown:
            raise ValueError(f"outputs: unknown national outcome(s) {unknown}; allowed: {', '.join(NATIONAL_OUTPUTS)}")
        if replicates < 1:
            raise ValueError(f"replicates: expected at least 1, got {replicates}")
        self.scenario = scenario
        self.outputs = tuple(outputs)
        self.seed = seed
        self.replicates = replicates
        self._dump: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_dump"] = None
        return state

    def scenario_for(self, values: Mapping[str, float]):
        """The scenario with ``values`` set (integers rounded where the scenario holds an integer)."""
        from sim.experiments.spec import set_path
        from sim.scenario import validate_scenario

        if self._dump is None:
            self._dump = self.scenario.model_dump(mode="json")
        data = copy.deepcopy(self._dump)
        for key, value in values.items():
            current = data
            for part in key.split(".")[:-1]:
                current = current.get(part, {}) if isinstance(current, dict) else {}
            old = current.get(key.split(".")[-1]) if isinstance(current, dict) else None
            value = int(round(value)) if isinstance(old, int) and not isinstance(old, bool) else float(value)
            set_path(data, key, value, "sensitivity design")
        return validate_scenario(data, f"sensitivity design point {dict(values)}")

    def __call__(self, values: Mapping[str, float], run_id: int) -> dict[str, float]:
        """Mean end-year outcomes over the replicates."""
        from sim.experiments.batch import run_seed
        from sim.model import RegionalGrowthModel

        scenario = self.scenario_for(values)
        totals = dict.fromkeys(self.outputs, 0.0)
        for replicate in range(self.replicates):
            model = RegionalGrowthModel(scenario, rng=run_seed(self.seed, replicate)).run()
            final = model._national_rows[-1]
            for name in self.outputs:
                totals[name] += float(final[name]) / self.replicates
        return totals

    def describe(self) -> dict[str, Any]:
        """For the manifest."""
        return {"kind": "model", "scenario": self.scenario.model_dump(mode="json"), "seed": self.seed,
                "replicates": self.replicates, "outputs": list(self.outputs),
                "seeds": "common random numbers: replicate r of every point uses run_seed(seed, r)"}


# --------------------------------------------------------------------------------------
# The worker side


@dataclass
class SensitivityTask:
    """What a worker needs: the evaluator, the design and the names (pickled once per task)."""

    evaluator: Callable[[Mapping[str, float], int], dict[str, float]]
    design: np.ndarray
    names: tuple[str, ...]
    outputs: tuple[str, ...]


def _describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line in function)``, one line."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {str(exc).replace(chr(10), ' ')}{where}"


def evaluate_block(task: SensitivityTask, start: int, stop: int, folder: str, width: int) -> list[tuple[int, str, str]]:
    """Evaluate design rows ``start`` to ``stop - 1`` and write their ``runs`` part.

    The unit of work shipped to workers. A run that raises is recorded with ``status = "failed"``
    and the error; the others go on. Returns ``(run_id, status, error)`` per run.
    """
    from sim.experiments.store import write_part

    rows: list[dict[str, Any]] = []
    outcomes: list[tuple[int, str, str]] = []
    for run_id in range(start, stop):
        values = {name: float(v) for name, v in zip(task.names, task.design[run_id], strict=True)}
        row: dict[str, Any] = {"run_id": run_id, "status": "ok", "error": ""}
        row.update({column_name(k): v for k, v in values.items()})
        try:
            result = task.evaluator(values, run_id)
            for name in task.outputs:
                row[name] = float(result[name])
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the analysis reports it
            row["status"] = "failed"
            row["error"] = _describe_exception(exc)
            for name in task.outputs:
                row[name] = math.nan
        outcomes.append((run_id, row["status"], row["error"]))
        rows.append(row)
    frame = pd.DataFrame(rows).astype({"run_id": "int64", "status": "string", "error": "string"})
    write_part(Path(folder), "runs", f"{start:0{width}d}", frame)
    return outcomes


# --------------------------------------------------------------------------------------
# Analysis


def analyse(spec: SensitivitySpec, design: np.ndarray, outputs: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """SALib indices of every outcome, as one long table.

    Args:
        spec: the analysis (method, problem, confidence, resamples, seed).
        design: the sample matrix, in run order.
        outputs: outcome name -> values in run order (no NaN).

    Returns:
        One row per outcome and parameter: ``outcome, parameter`` then ``S1, S1_conf, ST, ST_conf``
        (Sobol; ``*_conf`` is the half-width of the bootstrap interval at ``spec.confidence``) or
        ``mu, mu_star, mu_star_conf, sigma, mu_star_normalised`` (Morris).

    Raises:
        ValueError: when an outcome has missing values or the wrong length.
    """
    problem = spec.problem()
    frames = []
    for name, values in outputs.items():
        y = np.asarray(values, dtype=float)
        if y.shape != (design.shape[0],):
            raise ValueError(f"outputs: {name} has {y.size} values for {design.shape[0]} runs")
        if not np.isfinite(y).all():
            raise ValueError(f"outputs: {name} has {int((~np.isfinite(y)).sum())} missing values (failed runs)")
        if spec.method == "sobol":
            from SALib.analyze import sobol

            if np.ptp(y) == 0:
                warnings.warn(f"outcome {name} does not vary: its indices are undefined", UserWarning, stacklevel=2)
                res = {k: np.full(len(spec.names), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                res = sobol.analyze(problem, y, calc_second_order=spec.second_order, num_resamples=spec.resamples,
                                    conf_level=spec.confidence, seed=spec.seed)
            frame = pd.DataFrame({"outcome": name, "parameter": spec.names, "S1": res["S1"],
                                  "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]})
        else:
            from SALib.analyze import morris

            res = morris.analyze(problem, design, y, num_resamples=spec.resamples, conf_level=spec.confidence,
                                 num_levels=spec.levels, seed=spec.seed)
            mu_star = np.asarray(res["mu_star"], dtype=float)
            top = np.nanmax(mu_star) if np.isfinite(mu_star).any() and np.nanmax(mu_star) > 0 else np.nan
            frame = pd.DataFrame({"outcome": name, "parameter": spec.names, "mu": np.asarray(res["mu"], float),
                                  "mu_star": mu_star, "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                                  "sigma": np.asarray(res["sigma"], float), "mu_star_normalised": mu_star / top})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------
# Loading an experiment file


def load_sensitivity(path: str | Path, overrides: Sequence[str] = (), *, method: str | None = None,
                     samples: int | None = None, outputs: Sequence[str] | None = None):
    """Read a sensitivity experiment file: an experiment with a ``[sensitivity]`` table.

    Args:
        path: the experiment TOML file (see ``experiments/sensitivity.toml``).
        overrides: ``--set key.path=value`` expressions applied to the scenario.
        method, samples, outputs: override the file's ``[sensitivity]`` values when given
            (see :class:`SensitivitySpec`).

    Returns:
        ``(spec, evaluator, experiment)``: the :class:`SensitivitySpec`, a :class:`ModelEvaluator`
        and the :class:`~sim.experiments.spec.ResolvedExperiment` (for the scenario and the executor).

    Raises:
        ExperimentError: naming the file and key: no ``[sensitivity]`` table, a ``[sweep]``, not
            one scenario, a parameter without exactly two numbers ``[low, high]``, bounds the
            scenario does not allow, or a bad method/outcome.
    """
    from sim.errors import ScenarioError
    from sim.experiments.spec import load_experiment, set_path
    from sim.scenario import validate_scenario

    source = str(path)
    experiment = load_experiment(path, list(overrides))
    config = experiment.spec.sensitivity
    if config is None:
        raise ExperimentError(source, "sensitivity", "not a sensitivity experiment: name the varied parameters "
                              'with their bounds, e.g. [sensitivity.parameters] "economy.catch_up_rate" = [0.005, 0.05]')
    if experiment.spec.sweep:
        raise ExperimentError(source, "sweep", "a sensitivity experiment samples [sensitivity.parameters]; "
                              "it has no [sweep]")
    if len(experiment.scenarios) != 1:
        raise ExperimentError(source, "scenarios", f"a sensitivity experiment takes one scenario, got "
                              f"{len(experiment.scenarios)}")
    base = experiment.scenarios[0].model_dump(mode="json")
    parameters = []
    for key, values in config.parameters.items():
        where = f"sensitivity.parameters.{key}"
        if len(values) != 2 or not values[0] < values[1]:
            raise ExperimentError(source, where, f"expected bounds [low, high] with low < high, got {values!r}")
        for value in values:
            trial = copy.deepcopy(base)
            set_path(trial, key, value, source)
            try:
                validate_scenario(trial, source)
            except ScenarioError as exc:
                raise ExperimentError(source, where, f"bound {value!r}: {exc.key}: {exc.message}") from None
        parameters.append((key, float(values[0]), float(values[1])))
    method = check_method(method) if method is not None else config.method
    samples = samples if samples else config.samples
    outputs = tuple(outputs) if outputs else (tuple(config.outputs) or DEFAULT_OUTPUTS)
    try:
        spec = SensitivitySpec(name=experiment.name, parameters=tuple(parameters), outputs=outputs,
                               seed=experiment.seed, method=method, samples=samples,
                               runs_per_part=experiment.spec.record.runs_per_part)
        evaluator = ModelEvaluator(experiment.scenarios[0], outputs, experiment.seed, experiment.replicates)
    except ValueError as exc:
        raise ExperimentError(source, "sensitivity", str(exc)) from None
    return spec, evaluator, experiment


# --------------------------------------------------------------------------------------
# Running


@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did.

    Attributes:
        folder: the results folder.
        spec: the analysis.
        design: the sample matrix.
        outputs: outcome -> values in run order.
        indices: the long table of :func:`analyse` (empty when runs failed or are missing).
        failed: the failed runs (run_id, error).
        runs_run, runs_resumed: runs evaluated by this call, and found done in the folder.
        elapsed_s: wall time; executor: the executor, as one line.
    """

    folder: Path
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


def _hash(identity: dict[str, Any]) -> str:
    payload = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def _open(folder: Path, manifest: dict[str, Any], resume: bool) -> set[int]:
    from sim.experiments.batch import clean_partial, done_runs
    from sim.experiments.store import existing_manifest

    old = existing_manifest(folder, resume, "sensitivity", "sensitivity analysis")
    if old is None:
        return set()
    if old.get("hash") != manifest["hash"]:
        raise ResultsError(f"--resume {folder}: holds another analysis ({old.get('spec', {}).get('name', '?')!r}, "
                           f"{old.get('hash')}) than this one ({manifest['hash']}); refusing to mix them: choose "
                           "another --out")
    clean_partial(folder)
    return done_runs(folder)


def read_outputs(folder: str | Path, spec: SensitivitySpec) -> tuple[dict[str, np.ndarray], pd.DataFrame, int]:
    """The outcomes of a sensitivity folder in run order, the failed runs, and how many runs are missing."""
    from sim.experiments.store import read_table

    runs = read_table(folder, "runs")
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


def run_sensitivity(spec: SensitivitySpec, evaluator: Callable[[Mapping[str, float], int], dict[str, float]], *,
                    out: str | Path, executor: str = "serial", workers: int | None = None, address: str = "local",
                    resume: bool = False, progress: bool = False, figures: bool = True,
                    manifest_extra: dict[str, Any] | None = None) -> SensitivityResult:
    """Sample the design, evaluate every run on an executor, stream the runs, analyse with SALib.

    Args:
        spec: the analysis.
        evaluator: ``evaluator(values, run_id) -> {outcome: value}``; picklable for process and Dask
            executors (:class:`ModelEvaluator`, :class:`IshigamiEvaluator`).
        out: the results folder.
        executor: ``"serial"``, ``"process"`` or ``"dask"`` (the executors of :mod:`sim.experiments.batch`).
        workers: worker processes (process pool or local Dask cluster); 0/None = all cores.
        address: the Dask scheduler (``"local"`` starts a LocalCluster).
        resume: finish the analysis already in ``out`` (only the missing runs are run).
        progress: show progress on stderr.
        figures: write ``figures/sensitivity_indices.png``.
        manifest_extra: more entries for the manifest (the experiment file, the evaluator...).

    Returns:
        A :class:`SensitivityResult`; its ``indices`` are empty when some runs failed or are missing.

    Raises:
        ResultsError: ``out`` is not empty (without ``resume``) or holds another analysis.
    """
    from sim.experiments.batch import DaskExecutor, Progress, make_executor, part_width, plan_blocks
    from sim.experiments.store import provenance, write_manifest

    started = time.monotonic()
    folder = Path(out)
    design = spec.design()
    total = design.shape[0]
    describe = getattr(evaluator, "describe", None)
    identity = {"spec": spec.identity(), "evaluator": describe() if describe else type(evaluator).__name__}
    manifest: dict[str, Any] = {
        "kind": "sensitivity", "hash": _hash(identity), "spec": spec.identity(), "problem": spec.problem(),
        "evaluator": identity["evaluator"], "runs_total": total, "status": "running", **provenance(),
        **(manifest_extra or {}),
    }
    done = _open(folder, manifest, resume)
    folder.mkdir(parents=True, exist_ok=True)
    names = spec.names
    design_frame = pd.DataFrame(design, columns=[column_name(n) for n in names])
    design_frame.insert(0, "run_id", np.arange(total, dtype=np.int64))
    if not (folder / "design.parquet").exists():
        design_frame.to_parquet(folder / "design.parquet", index=False)
    write_manifest(folder, manifest)
    per_part = spec.runs_per_part or max(1, math.ceil(total / TARGET_PARTS))
    width = part_width(total)
    runner = make_executor(executor, workers, address)
    runs_run = 0
    try:
        with runner:
            if isinstance(runner, DaskExecutor):
                runner.check_folder(folder.resolve())
            task = runner.share(SensitivityTask(evaluator, design, tuple(names), tuple(spec.outputs)))
            blocks = plan_blocks((i for i in range(total) if i not in done), per_part)
            calls = ((task, start, stop, str(folder.resolve()), width) for start, stop in blocks)
            bar = Progress(total, len(done), enabled=progress)
            try:
                for outcomes in runner.imap_unordered(evaluate_block, calls):
                    runs_run += len(outcomes)
                    bar.update(len(outcomes))
            finally:
                bar.close()
    except BaseException:
        manifest["status"] = "incomplete"
        write_manifest(folder, manifest)
        raise
    outputs, failed, missing = read_outputs(folder, spec)
    indices = pd.DataFrame()
    written: list[Path] = []
    if failed.empty and missing == 0:
        indices = analyse(spec, design, outputs)
        indices.to_csv(folder / "indices.csv", index=False)
        indices.to_parquet(folder / "indices.parquet", index=False)
        manifest["status"] = "complete"
        if figures:
            from sim.analysis.figures import write_sensitivity_figures

            written = write_sensitivity_figures(folder, indices, spec.method)
    else:
        manifest["status"] = "complete_with_failures" if missing == 0 else "incomplete"
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["runs_failed"] = len(failed)
    manifest["executor"] = runner.describe()
    write_manifest(folder, manifest)
    return SensitivityResult(folder=folder, spec=spec, design=design, outputs=outputs, indices=indices,
                             failed=failed, runs_run=runs_run, runs_resumed=len(done),
                             elapsed_s=time.monotonic() - started, executor=runner.describe(), figures=written)


def format_indices(indices: pd.DataFrame, method: str) -> str:
    """The indices as a terminal table, one block per outcome, parameters by importance."""
    if indices.empty:
        return "(no indices)"
    lines = []
    for outcome, rows in indices.groupby("outcome", sort=False):
        lines.append(f"{outcome}:")
        if method == "sobol":
            rows = rows.sort_values("ST", ascending=False)
            lines.append(f"  {'parameter':<40} {'S1':>7} {'+/-':>6} {'ST':>7} {'+/-':>6}")
            for _, r in rows.iterrows():
                lines.append(f"  {r['parameter']:<40} {r['S1']:>7.3f} {r['S1_conf']:>6.3f} {r['ST']:>7.3f} "
                             f"{r['ST_conf']:>6.3f}")
        else:
            rows = rows.sort_values("mu_star", ascending=False)
            lines.append(f"  {'parameter':<40} {'mu*':>10} {'+/-':>9} {'sigma':>10} {'mu*/max':>8}")
            for _, r in rows.iterrows():
                lines.append(f"  {r['parameter']:<40} {r['mu_star']:>10.4g} {r['mu_star_conf']:>9.3g} "
                             f"{r['sigma']:>10.4g} {r['mu_star_normalised']:>8.2f}")
        lines.append("")
    return "\n".join(lines).rstrip()


def check_method(method: str) -> str:
    """``method`` if it is known, else a :class:`SimError` naming the option."""
    if method not in METHODS:
        raise SimError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    return method
