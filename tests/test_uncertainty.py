"""Parameter uncertainty in experiments: posterior draws x seeds, common random numbers across scenarios."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import EXPERIMENTS

from sim.data import load_posterior
from sim.experiments.runlist import DrawRunList
from sim.experiments.spec import load_experiment, posterior_draws, resolve_experiment


def test_draws_are_rows_of_the_shipped_posterior() -> None:
    draws = posterior_draws(5)
    table = load_posterior().drop(columns="draw")
    assert len(draws) == 5 and set(draws[0]) == set(table.columns)
    first = table.iloc[0].to_dict()
    assert draws[0] == pytest.approx(first)
    assert draws[-1] == pytest.approx(table.iloc[-1].to_dict())


def test_an_uncertainty_experiment_runs_every_scenario_with_every_draw_and_common_seeds(tmp_path) -> None:
    spec = {"name": "u", "scenarios": ["baseline.toml", "cas_branch.toml"], "replicates": 2, "seed": 11,
            "uncertainty": {"draws": 3}}
    experiment = resolve_experiment(spec, base_dir=EXPERIMENTS.parent / "scenarios")
    runs = experiment.run_list
    assert isinstance(runs, DrawRunList) and len(runs) == 2 * 3 * 2
    by_key = {}
    for run in runs:
        draw = runs.labels(run)["draw"]
        by_key.setdefault((draw, run.replicate), []).append(run)
    assert len(by_key) == 6
    for pair in by_key.values():
        baseline, cas = pair
        assert baseline.scenario_index == 0 and cas.scenario_index == 1
        # the same draw and replicate: the same seed and the same parameter values in both scenarios
        assert baseline.seed.spawn_key == cas.seed.spawn_key
        assert dict(baseline.values) == dict(cas.values)
    seeds = {run.seed.spawn_key for run in runs}
    assert len(seeds) == 6, "each draw-replicate pair has its own seed"
    scenario = runs.scenario_for(runs[0])
    assert scenario.economy.knowledge_effect == pytest.approx(runs[0].values["economy.knowledge_effect"])
    assert {"draw", "economy__knowledge_effect"} <= set(runs.column_dtypes)


def test_the_shipped_uncertainty_experiment_loads() -> None:
    experiment = load_experiment(EXPERIMENTS / "strategy_comparison_uncertainty.toml")
    assert len(experiment.run_list) == 7 * 50 * 2
    assert experiment.spec.uncertainty.draws == 50


def test_a_small_uncertainty_batch_records_draws_and_values(tmp_path) -> None:
    from sim.experiments.batch import run_batch

    spec = {"name": "u", "scenarios": ["baseline.toml", "hefei.toml"], "replicates": 1, "seed": 5,
            "set": {"run.end_year": 2024}, "uncertainty": {"draws": 2}}
    experiment = resolve_experiment(spec, base_dir=EXPERIMENTS.parent / "scenarios")
    result = run_batch(experiment, out=tmp_path / "u", progress=False, executor="serial")
    national = pd.read_parquet(tmp_path / "u" / "national")
    assert set(national["draw"]) == {0, 1}
    assert national.groupby(["scenario", "draw"]).ngroups == 4
    values = national.groupby("draw")["economy__knowledge_effect"].first()
    assert values[0] != values[1]
    assert result is not None
    # the report states each effect as a share of the draw-and-seed pairs
    from sim.report import build_report

    report = build_report(tmp_path / "u")
    text = (report / "report.md").read_text()
    assert "## Summary" in text
    assert "* baseline against baseline" not in text, "the reference is not compared with itself"
    line = next(line for line in text.splitlines() if line.startswith("* hefei against baseline"))
    assert "of 2 draw-and-seed pairs (parameter and seed uncertainty)" in line
    assert "real GDP" in line and "the Gini" in line
    effects = pd.read_csv(report / "summary_effects.csv")
    assert set(effects["metric"]) >= {"gini", "gdp_real_cny_bn"} and effects["parameter_draws"].all()
    assert effects["share_higher"].between(0, 1).all()


def test_the_size_of_an_uncertainty_experiment_counts_its_draws() -> None:
    experiment = load_experiment(EXPERIMENTS / "strategy_comparison_uncertainty.toml")
    assert experiment.runs_total == len(experiment.run_list) == 700
    assert experiment.to_json()["runs_total"] == 700
    assert experiment.describe_size() == "7 scenario(s) x 1 sweep point(s) x 50 parameter draw(s) x 2 replicate(s)"
