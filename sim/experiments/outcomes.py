"""Outcomes per point: an evaluator's numbers for every point of a run list, averaged over its replicates.

:class:`OutcomeRecorder` is the recorder of ensembles that need a few numbers per parameter set, not
whole tables (a sensitivity design, a calibration or validation ensemble): one ``runs`` row per
point with ``run_id`` (the point), ``status``, ``error``, the point's values and the outcomes.

An *evaluator* turns one run into outcomes: ``evaluator(run, scenario) -> {outcome: value}``, where
``scenario`` is the run's scenario with its values set (None for a run list without a scenario).
:class:`ModelEvaluator` runs the model with the run's seed and reads end-year national outcomes.
Evaluators must be picklable (top-level classes) for process and Dask executors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.experiments.runlist import Run, RunList, column_name
from sim.experiments.runner import Outcome, describe_exception

__all__ = ["DEFAULT_OUTPUTS", "NATIONAL_OUTPUTS", "ModelEvaluator", "OutcomeRecorder"]

DEFAULT_OUTPUTS: tuple[str, ...] = ("gini", "theil_between_region", "gdp_real_cny_bn", "interior_research_share")
"""The key outcomes, read from the model's national table in the end year."""
NATIONAL_OUTPUTS: tuple[str, ...] = (
    "gdp_real_cny_bn", "gdp_nominal_cny_bn", "gdp_growth", "population_m", "gdp_per_capita_cny", "gini", "theil",
    "theil_between_region", "theil_within_region", "theil_between_coast", "theil_within_coast", "cv",
    "coast_interior_ratio", "max_min_ratio", "research_output", "interior_research_share", "interior_in_top10",
    "interior_in_top20", "high_tech_share", "rd_budget_cny_bn", "rd_spent_cny_bn", "central_rd_cny_bn",
    "instruments_cny_bn", "proceeds_cny_bn", "foreign_money_cny_bn", "cost_provincial_cny_bn", "investment_cny_bn",
    "investment_cut_cny_bn", "consumption_cut_cny_bn", "skilled_m", "graduates_k", "institutes", "openness",
)
"""End-year columns of the national table a :class:`ModelEvaluator` can return."""


class ModelEvaluator:
    """Runs the model of a run's scenario with the run's seed; returns end-year national outcomes.

    Args:
        outputs: columns of the national table (:data:`NATIONAL_OUTPUTS`), read in the end year.
    """

    def __init__(self, outputs: Sequence[str] = DEFAULT_OUTPUTS) -> None:
        unknown = [o for o in outputs if o not in NATIONAL_OUTPUTS]
        if unknown:
            raise ValueError(f"outputs: unknown national outcome(s) {unknown}; allowed: {', '.join(NATIONAL_OUTPUTS)}")
        self.outputs = tuple(outputs)

    def __call__(self, run: Run, scenario) -> dict[str, float]:
        """``{outcome: end-year value}`` of the model of ``scenario`` seeded with ``run.seed``."""
        from sim.model import RegionalGrowthModel

        if scenario is None:
            raise ValueError("the model needs a scenario: this run list has none")
        model = RegionalGrowthModel(scenario, rng=run.seed, datacollector=False).run()
        final = model.national_row()
        return {name: float(final[name]) for name in self.outputs}

    def describe(self) -> dict[str, Any]:
        """For the manifest."""
        return {"kind": "model", "outputs": list(self.outputs)}


@dataclass
class OutcomeRecorder:
    """Records one ``runs`` row per point: its values and the outcomes averaged over its replicates.

    A point whose evaluation raises (any replicate) is a row with ``status = "failed"``, the error
    and NaN outcomes.

    Attributes:
        evaluator: ``evaluator(run, scenario) -> {outcome: value}``.
        outputs: the outcomes to record (columns after the values, in this order).
    """

    evaluator: Callable[[Run, Any], Mapping[str, float]]
    outputs: tuple[str, ...]
    tables: tuple[str, ...] = field(default=("runs",), init=False)
    per_point: bool = field(default=True, init=False)

    def record(self, runs: RunList, units: range) -> tuple[dict[str, pd.DataFrame], list[Outcome]]:
        """Evaluate points ``units`` (every replicate) and return their ``runs`` rows and outcomes."""
        rows: list[dict[str, Any]] = []
        outcomes: list[Outcome] = []
        for point in units:
            _scenario_index, values = runs.point(point)
            row: dict[str, Any] = {"run_id": point, "status": "ok", "error": ""}
            row.update({column_name(k): v for k, v in values.items()})
            try:
                totals = dict.fromkeys(self.outputs, 0.0)
                for run in runs.runs_of_point(point):
                    result = self.evaluator(run, runs.scenario_for(run))
                    for name in self.outputs:
                        totals[name] += float(result[name]) / runs.replicates
            except Exception as exc:  # noqa: BLE001 - a failed point is recorded; the caller reports it
                row["status"] = "failed"
                row["error"] = describe_exception(exc)
                for name in self.outputs:
                    row[name] = math.nan
            else:
                row.update(totals)
            outcomes.append((point, row["status"], row["error"]))
            rows.append(row)
        frame = pd.DataFrame(rows).astype({"run_id": "int64", "status": "string", "error": "string"})
        return {"runs": frame}, outcomes
