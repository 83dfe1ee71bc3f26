"""Sensitivity experiment files (a batch experiment file with a ``[sensitivity]`` table), and the indices as text.

Read with one convention: ``[sensitivity.parameters]`` lists each varied key path with its
``[low, high]`` bounds, and the experiment names exactly one scenario and no ``[sweep]``.
``replicates`` is the number of seeds each design point is run with (outcomes averaged). The method,
the sample size and the outcomes come from the file's ``[sensitivity]`` table, or from the command
line (or the arguments of :func:`load_sensitivity`), and are recorded in the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.analysis.sensitivity import DEFAULT_OUTPUTS, ModelEvaluator, SensitivitySpec, check_method
from sim.errors import ExperimentError, ScenarioError
from sim.experiments.spec import ResolvedExperiment, load_experiment

__all__ = ["format_indices", "load_sensitivity"]


def load_sensitivity(path: str | Path, overrides: Sequence[str] = (), *, method: str | None = None,
                     samples: int | None = None,
                     outputs: Sequence[str] | None = None) -> tuple[SensitivitySpec, ModelEvaluator, ResolvedExperiment]:
    """Read a sensitivity experiment file: an experiment with a ``[sensitivity]`` table.

    Args:
        path: the experiment TOML file (see ``experiments/sensitivity.toml``).
        overrides: ``--set key.path=value`` expressions applied to the scenario.
        method, samples, outputs: override the file's ``[sensitivity]`` values when given
            (see :class:`~sim.analysis.sensitivity.SensitivitySpec`).

    Returns:
        ``(spec, evaluator, experiment)``: the :class:`~sim.analysis.sensitivity.SensitivitySpec`, a
        :class:`~sim.experiments.outcomes.ModelEvaluator` and the
        :class:`~sim.experiments.spec.ResolvedExperiment` (its one scenario, replicates and executor).
        Run them with ``run_sensitivity(spec, evaluator, scenario=experiment.scenarios[0],
        replicates=experiment.replicates, ...)``.

    Raises:
        ExperimentError: naming the file and key: no ``[sensitivity]`` table, a ``[sweep]``, not
            one scenario, a parameter without exactly two numbers ``[low, high]``, bounds the
            scenario does not allow, or a bad method/outcome.
    """
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
    base = experiment.scenarios[0]
    parameters = []
    for key, values in config.parameters.items():
        where = f"sensitivity.parameters.{key}"
        if len(values) != 2 or not values[0] < values[1]:
            raise ExperimentError(source, where, f"expected bounds [low, high] with low < high, got {values!r}")
        for value in values:
            try:
                base.with_values({key: value}, source=source)
            except ScenarioError as exc:
                raise ExperimentError(source, where, f"bound {value!r}: {exc.key}: {exc.message}") from None
        parameters.append((key, float(values[0]), float(values[1])))
    method = check_method(method) if method is not None else config.method
    # the file's sample size is for the file's method: with another method, that method's default
    samples = samples if samples else (config.samples if method == config.method else 0)
    outputs = tuple(outputs) if outputs else (tuple(config.outputs) or DEFAULT_OUTPUTS)
    try:
        spec = SensitivitySpec(name=experiment.name, parameters=tuple(parameters), outputs=outputs,
                               seed=experiment.seed, method=method, samples=samples,
                               runs_per_part=experiment.spec.record.runs_per_part)
        evaluator = ModelEvaluator(outputs)
    except ValueError as exc:
        raise ExperimentError(source, "sensitivity", str(exc)) from None
    return spec, evaluator, experiment


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
