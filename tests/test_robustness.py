"""Robustness experiments: conditions derived from the scenarios, sign verdicts, the report in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import EXPERIMENTS, SCENARIOS

from sim.analysis.robustness import describe_condition, effects, sentences, verdicts
from sim.errors import ExperimentError
from sim.experiments.robustness import AS_SHIPPED, condition_of
from sim.experiments.spec import load_experiment, resolve_experiment

PAIR = ["baseline.toml", "hefei.toml", "hefei_placebo.toml"]


def test_the_shipped_robustness_experiment_derives_every_condition() -> None:
    experiment = load_experiment(EXPERIMENTS / "robustness.toml")
    names = [s.name for s in experiment.scenarios]
    assert len(names) == len(set(names)) and max(map(len, names)) <= 64
    # 9 as shipped; fields: 6 per strategy (4 consumer segments) x strategy and placebo; shares: 6 x 2 x 9;
    # adopters: 5 x 4 x 2; three assumption values (field returns, two knowledge effects) x 9
    assert len(names) == 9 + 2 * (6 + 6 + 6 + 4) + 12 * 9 + 5 * 4 * 2 + 3 * 9
    assert experiment.runs_total == len(names) * experiment.replicates
    by_name = dict(zip(names, experiment.scenarios, strict=True))
    assert by_name["hefei--field-biotech"].strategy.hefei.field == "biotech"
    cas = by_name["cas_branch--field-agriculture"].strategy.cas_branch
    assert cas.institutes == 1 and cas.endowment_weights["agriculture"] == [1.0] * 4
    assert by_name["foreign_multinational--field-ev_batteries"].strategy.foreign_multinational.sectors == ["ev_batteries"]
    assert "consumer_niche--field-agriculture" not in by_name, "agriculture is not a consumer segment"
    shares = by_name["baseline--share-biotech-x0.5"].structure.field_shares
    shipped = by_name["baseline"].structure.field_shares
    assert shares["biotech"] == pytest.approx(0.5 * shipped["biotech"])
    assert all(shares[f] == shipped[f] for f in shipped if f != "biotech")
    alone = by_name["hefei--adopt-Anhui"].strategies
    assert alone.assign == {"Anhui": "hefei"} and alone.placebo_of == [] and alone.default == "baseline"
    assert by_name["hefei_placebo--adopt-Anhui"].strategies.placebo_of == ["hefei"]
    assert by_name["cas_branch--field_returns-uniform"].economy.field_returns == "uniform"
    assert by_name["baseline--field_returns-uniform"].economy.field_returns == "uniform"
    assert by_name["hefei_placebo--knowledge_effect-0.1"].economy.knowledge_effect == 0.1


def test_robustness_runs_share_seeds_across_scenarios() -> None:
    spec = {"name": "r", "scenarios": PAIR, "replicates": 2, "seed": 3,
            "robustness": {"strategies": ["hefei"], "forced_fields": False, "field_share_factors": [],
                           "adopters": ["Anhui"]}}
    experiment = resolve_experiment(spec, base_dir=SCENARIOS)
    runs = list(experiment.run_list)
    assert [s.name for s in experiment.scenarios] == ["baseline", "hefei", "hefei_placebo", "hefei--adopt-Anhui",
                                                       "hefei_placebo--adopt-Anhui"]
    for replicate in (0, 1):
        keys = {run.seed.spawn_key for run in runs if run.replicate == replicate}
        assert len(keys) == 1, "common random numbers: one seed per replicate"
    assert experiment.to_json()["robustness"]["adopters"] == ["Anhui"]


def test_robustness_needs_the_baseline_and_each_placebo() -> None:
    spec = {"name": "r", "scenarios": ["baseline.toml", "hefei.toml"], "replicates": 1, "seed": 3,
            "robustness": {"strategies": ["hefei"]}}
    with pytest.raises(ExperimentError) as error:
        resolve_experiment(spec, base_dir=SCENARIOS)
    assert "'hefei_placebo'" in str(error.value) and "scenarios" in str(error.value)


def test_an_unknown_adopter_is_one_line_naming_the_condition() -> None:
    spec = {"name": "r", "scenarios": PAIR, "replicates": 1, "seed": 3,
            "robustness": {"strategies": ["hefei"], "forced_fields": False, "field_share_factors": [],
                           "adopters": ["Atlantis"]}}
    with pytest.raises(ExperimentError) as error:
        resolve_experiment(spec, base_dir=SCENARIOS)
    message = str(error.value)
    assert "adopt-Atlantis" in message and "\n" not in message


def _national(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    """A national table's end year from (scenario, replicate, gini, gdp) rows."""
    frame = pd.DataFrame(rows, columns=["scenario", "replicate", "gini", "gdp_real_cny_bn"])
    frame["year"] = 2050
    frame["run_id"] = np.arange(len(frame))
    frame["research_output"] = 100.0
    frame["theil_between_region"] = 0.01
    return frame


def test_signs_agreements_and_flips_by_hand() -> None:
    rows = []
    for r in range(3):
        noise = 0.001 * r
        rows += [("baseline", r, 0.30 + noise, 1000.0 + r), ("hefei", r, 0.29 + noise, 1100.0 + r),
                 ("hefei_placebo", r, 0.295 + noise, 1050.0 + r),
                 # forced field: GDP below the (as-shipped) baseline, the Gini still lower
                 ("hefei--field-biotech", r, 0.28 + noise, 900.0 + r),
                 ("hefei_placebo--field-biotech", r, 0.295 + noise, 1050.0 + r),
                 # a share condition: its own baseline; effects within noise
                 ("baseline--share-biotech-x0.5", r, 0.31 + noise, 1200.0 + r),
                 ("hefei--share-biotech-x0.5", r, 0.31 + noise + (0.0001 if r == 1 else -0.0001), 1200.0 + r),
                 ("hefei_placebo--share-biotech-x0.5", r, 0.31 + noise, 1200.0 + r)]
    table = effects(_national(rows))
    sign = table.set_index(["condition", "against", "metric"])["sign"]
    assert sign[(AS_SHIPPED, "baseline", "gini")] == "-" and sign[(AS_SHIPPED, "baseline", "gdp_real_cny_bn")] == "+"
    assert sign[("field-biotech", "baseline", "gdp_real_cny_bn")] == "-", "forced fields compare with the shipped baseline"
    assert sign[("share-biotech-x0.5", "baseline", "gini")] == "0", "a difference within seed noise is no effect"
    effect = table.set_index(["condition", "against", "metric"])["effect"]
    assert effect[(AS_SHIPPED, "baseline", "gdp_real_cny_bn")] == pytest.approx(np.mean([100 / (1000 + r) for r in range(3)]))
    verdict = verdicts(table).set_index(["against", "metric"])
    assert verdict.loc[("baseline", "gini"), "agree"] == 1 and verdict.loc[("baseline", "gini"), "conditions"] == 2
    words = " ".join(sentences(table))
    assert "It raises real GDP (+9.99 % as shipped) in 1 of 3 conditions" in words
    assert "lowers it when its field is forced to biotech" in words
    assert "biotech's share of research is x0.5" in words


def test_condition_names_and_words() -> None:
    assert condition_of("hefei_placebo--adopt-Anhui") == ("hefei_placebo", "adopt-Anhui")
    assert condition_of("hefei") == ("hefei", AS_SHIPPED)
    assert describe_condition("adopt-Yunnan") == "Yunnan adopts it alone"
    assert describe_condition("adopt-interior") == "the whole interior adopts it"
    assert describe_condition("share-agriculture-x1.5") == "agriculture's share of research is x1.5"


def test_a_small_robustness_batch_gets_its_report(tmp_path) -> None:
    from sim.experiments.batch import run_batch
    from sim.report import build_report

    spec = {"name": "r", "scenarios": PAIR, "replicates": 2, "seed": 5, "set": {"run.end_year": 2025},
            "record": {"tables": ["national", "province"]},
            "robustness": {"strategies": ["hefei"], "forced_fields": False, "field_share_factors": [1.5],
                           "adopters": ["Anhui"]}}
    experiment = resolve_experiment(spec, base_dir=SCENARIOS)
    run_batch(experiment, out=tmp_path / "r", progress=False, executor="serial")
    old = tmp_path / "r" / "report"
    old.mkdir()
    (old / "stale.txt").write_text("from an earlier build")
    report = build_report(tmp_path / "r")
    assert not (report / "stale.txt").exists(), "the report folder is replaced whole"
    text = (report / "report.md").read_text()
    assert "## What holds and what flips" in text
    assert "Against the baseline, hefei" in text and "Against its same-cost placebo, hefei" in text
    table = pd.read_csv(report / "robustness.csv")
    assert set(table["condition"]) == {AS_SHIPPED, "share-biotech-x1.5", "share-agriculture-x1.5",
                                       "share-advanced_manufacturing-x1.5", "share-ev_batteries-x1.5",
                                       "share-green_energy-x1.5", "share-ict_consumer-x1.5", "adopt-Anhui"}
    assert "adopter_gdp_per_capita" in set(table["metric"])
    assert (report / "figures" / "robustness_signs.png").stat().st_size > 10_000
    assert "data:image/png;base64," in (report / "report.html").read_text()
