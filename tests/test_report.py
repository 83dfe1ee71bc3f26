"""Tests for sim.report: the statistics by hand, reports built end to end, partial and foreign folders,
the command line, and the page in headless Chromium."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.errors import ResultsError
from sim.experiments.single import simulate
from sim.experiments.store import provenance, write_manifest, write_part
from sim.report import build_report, load_report_data, scenario_colours
from sim.report.statistics import (
    BOOTSTRAP_SEED,
    benjamini_hochberg,
    bootstrap_difference,
    holm_adjust,
    mean_interval,
    rank_test,
    replicates_needed,
    smallest_rank_p,
)
from sim.report.tables import comparison_table, end_year_table
from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
END_YEAR = 2027
REPLICATES = 3


# --------------------------------------------------------------------------------------------------
# fixtures: results folders written with sim.experiments.store, independent of the batch runner


def scenario(name: str, *overrides: str, file: Path = BASELINE) -> Scenario:
    """The baseline (or ``file``) to END_YEAR, renamed, with overrides."""
    return load_scenario(file, [f"run.end_year={END_YEAR}", f'name="{name}"', *overrides])


def scenarios() -> list[Scenario]:
    """baseline, a different central allocation, and one with imitation on."""
    return [
        scenario("baseline"),
        scenario("need", 'investment.central_allocation="need"'),
        scenario("imitate", 'strategies.assign={ Anhui = "hefei", Yunnan = "cas_branch", Guangdong = "consumer_niche" }',
                 "imitation.enabled=true", "imitation.period=1", 'imitation.peers="random"'),
    ]


def make_results(folder: Path, runs: list[Scenario], replicates: int = REPLICATES, *, skip: frozenset[int] = frozenset(),
                 fail: frozenset[int] = frozenset(), seed: int = 11) -> Path:
    """A batch results folder as the batch runner writes it: one part per run, then the manifest."""
    total = len(runs) * replicates
    children = np.random.SeedSequence(seed).spawn(total)
    run_id = 0
    for sc in runs:
        for replicate in range(replicates):
            if run_id in fail:
                write_part(folder, "runs", f"{run_id:06d}", pd.DataFrame({
                    "run_id": np.array([run_id], dtype=np.int64), "scenario": [sc.name],
                    "replicate": np.array([replicate], dtype=np.int64), "status": ["failed"],
                    "error": ["ModelInvariantError: 2025: gdp is not finite"], "seed_entropy": [str(seed)],
                    "spawn_key": [str(run_id)]}))
            elif run_id not in skip:
                tables = simulate(sc, children[run_id], run_id, {"scenario": sc.name, "replicate": replicate})
                for name in ("national", "province", "events", "runs"):
                    write_part(folder, name, f"{run_id:06d}", tables[name])
            run_id += 1
    write_manifest(folder, {
        "kind": "batch",
        "experiment": {"name": "report_test", "description": "Report test", "replicates": replicates, "seed": seed},
        "experiment_file": "experiments/report_test.toml",
        "runs_total": total,
        "scenarios": {sc.name: {"file": "scenarios/baseline.toml", "resolved": sc.model_dump(mode="json")}
                      for sc in runs},
        "sweep_columns": {},
        **provenance(),
    })
    return folder


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "batch", scenarios())


@pytest.fixture(scope="module")
def report(results: Path) -> Path:
    """The report with SVG figures and the scorecard computed for the current code."""
    return build_report(results, svg=True)


@pytest.fixture(scope="module")
def scorecard_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scorecard file as `sim validate --json` writes it (for reports whose scorecard is not under test)."""
    path = tmp_path_factory.mktemp("scorecard") / "scorecard.json"
    path.write_text(json.dumps({"targets": [
        {"name": "relative growth r, re-initialised 2016", "value": 0.38, "rule": ">= 0.5", "passed": False, "note": ""},
        {"name": "papers growth, model - observed", "value": 0.011, "rule": "|x| <= 0.02", "passed": True,
         "note": "observed 13.6 %/yr"}], "passed": 1, "total": 2, "values": {}, "details": {}}))
    return path


@pytest.fixture(scope="module")
def placebo_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baseline, hefei and its same-cost placebo, 3 replicates each."""
    hefei = ROOT / "scenarios" / "hefei.toml"
    runs = [scenario("baseline"), scenario("hefei", file=hefei),
            scenario("hefei_placebo", 'strategies.placebo_of=["hefei"]', file=hefei)]
    return make_results(tmp_path_factory.mktemp("placebo") / "batch", runs)


# --------------------------------------------------------------------------------------------------
# statistics against hand-computed values


def test_mean_interval_by_hand() -> None:
    # mean 2, s = 1, t(0.975, 2) = 4.302653 (t table), half-width 4.302653 / sqrt(3) = 2.484138
    interval = mean_interval([1.0, 2.0, 3.0])
    assert interval.estimate == 2.0
    assert interval.n == 3
    assert_allclose([interval.low, interval.high], [2.0 - 2.484138, 2.0 + 2.484138], atol=1e-6)


def test_mean_interval_ignores_nan_and_has_no_interval_from_one_value() -> None:
    interval = mean_interval([5.0, float("nan")])
    assert interval.estimate == 5.0 and interval.n == 1
    assert math.isnan(interval.low) and math.isnan(interval.high)


def test_mean_interval_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="values"):
        mean_interval([])
    with pytest.raises(ValueError, match="level"):
        mean_interval([1.0, 2.0], level=1.5)


def test_bootstrap_of_constant_samples_is_exact() -> None:
    interval = bootstrap_difference([3.0, 3.0, 3.0], [1.0, 1.0])
    assert (interval.estimate, interval.low, interval.high) == (2.0, 2.0, 2.0)


def test_bootstrap_two_point_sample_by_hand() -> None:
    # resampled means of (0, 1): 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4, so the 2.5 % and 97.5 %
    # quantiles are 0 and 1; the reference (0) never moves.
    interval = bootstrap_difference([0.0, 1.0], [0.0])
    assert interval.estimate == 0.5
    assert (interval.low, interval.high) == (0.0, 1.0)


def test_bootstrap_matches_the_normal_approximation_for_a_large_sample() -> None:
    # 100 values half 0, half 1: mean 0.5, standard error 0.5 / sqrt(100) = 0.05, so about 0.5 +- 1.96 * 0.05
    interval = bootstrap_difference([0.0, 1.0] * 50, [0.0])
    assert_allclose([interval.low, interval.high], [0.402, 0.598], atol=0.012)


def test_bootstrap_is_reproducible_with_its_fixed_seed() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, 8), rng.normal(0.0, 1.0, 8)
    first, second = bootstrap_difference(a, b), bootstrap_difference(a, b)
    assert first == second
    other = bootstrap_difference(a, b, seed=BOOTSTRAP_SEED + 1)
    assert other.estimate == first.estimate and other.low != first.low


def test_rank_test_by_hand() -> None:
    # complete separation of 3 and 3 values: U = 0, exact two-sided p = 2 / C(6, 3) = 0.1
    assert_allclose(rank_test([1, 2, 3], [4, 5, 6]), 0.1)
    # 2 and 2: 2 / C(4, 2) = 1/3
    assert_allclose(rank_test([1, 2], [3, 4]), 1.0 / 3.0)
    assert rank_test([2.0, 2.0], [2.0, 2.0]) == 1.0


def test_rank_test_agrees_with_scipy_with_and_without_ties() -> None:
    from scipy import stats

    rng = np.random.default_rng(3)
    for _ in range(200):
        n1, n2 = rng.integers(2, 40, 2)
        decimals = rng.integers(0, 3)  # rounding makes ties
        a, b = np.round(rng.normal(0, 1, n1), decimals), np.round(rng.normal(0.4, 1, n2), decimals)
        if np.all(np.r_[a, b] == a[0]):
            continue
        expected = stats.mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue
        assert_allclose(rank_test(a, b), expected, rtol=1e-12, atol=1e-15)


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, 2 * 0.03, max(0.06, 1 * 0.04); returned in input order
    assert_allclose(holm_adjust([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    adjusted = holm_adjust([0.5, float("nan"), 0.2])
    assert_allclose(adjusted[[0, 2]], [0.5, 0.4])
    assert math.isnan(adjusted[1])
    assert_allclose(holm_adjust([0.6, 0.7]), [1.0, 1.0])


def test_benjamini_hochberg_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01 / 1, 3 * 0.03 / 2, 3 * 0.04 / 3 = 0.03, 0.045, 0.04; then the
    # running minimum from the largest down: 0.03, 0.04, 0.04
    assert_allclose(benjamini_hochberg([0.01, 0.04, 0.03]), [0.03, 0.04, 0.04])


def test_smallest_rank_p_and_replicates_needed() -> None:
    assert_allclose(smallest_rank_p(3, 3), 0.1)
    assert_allclose(smallest_rank_p(5, 5), 2.0 / 252.0)
    assert replicates_needed(1) == 4  # 2 / C(8, 4) = 0.029 < 0.05, 2 / C(6, 3) = 0.1 is not
    assert replicates_needed(42) == 7  # 42 * 2 / C(14, 7) = 0.0245; 42 * 2 / C(12, 6) = 0.09


def test_colours_are_okabe_ito_with_baseline_black() -> None:
    colours = scenario_colours(["hefei", "baseline", "megacity"])
    assert colours["baseline"] == "#000000"
    assert colours["hefei"] == "#0072B2" and colours["megacity"] == "#E69F00"
    assert scenario_colours(["a", "b"]) == {"a": "#0072B2", "b": "#E69F00"}


# --------------------------------------------------------------------------------------------------
# tables from a results folder


def test_end_year_table_matches_the_runs(results: Path) -> None:
    data = load_report_data(results)
    table = end_year_table(data).set_index(["group", "metric"])
    national = pd.read_parquet(results / "national")
    last = national[(national["scenario"] == "need") & (national["year"] == END_YEAR)]
    assert len(last) == REPLICATES
    row = table.loc[("need", "gini")]
    assert_allclose(row["mean"], last["gini"].mean())
    assert_allclose(row[["low", "high"]].to_numpy(float),
                    [mean_interval(last["gini"]).low, mean_interval(last["gini"]).high])
    assert_allclose(table.loc[("need", "gdp_real_cny_bn"), "mean"], last["gdp_real_cny_bn"].mean() / 1000.0)


def test_comparison_table_uses_baseline_and_holm(results: Path) -> None:
    data = load_report_data(results)
    table = comparison_table(data)
    assert set(table["group"]) == {"need", "imitate"}
    assert set(table["reference"]) == {"baseline"}
    assert_allclose(table["p_adjusted"], holm_adjust(table["p_value"]))
    national = pd.read_parquet(results / "national")
    end = national[national["year"] == END_YEAR]
    a = end.loc[end["scenario"] == "need", "gini"]
    b = end.loc[end["scenario"] == "baseline", "gini"]
    row = table[(table["group"] == "need") & (table["metric"] == "gini")].iloc[0]
    assert_allclose(row["difference"], a.mean() - b.mean())
    assert_allclose(row["p_value"], rank_test(a, b))
    assert row["low"] <= row["difference"] <= row["high"]


# --------------------------------------------------------------------------------------------------
# the executive summary and the costs


def _end(results: Path) -> pd.DataFrame:
    national = pd.read_parquet(results / "national")
    return national[national["year"] == END_YEAR].set_index(["scenario", "replicate"]).sort_index()


def test_summary_sentence_per_strategy_against_baseline_and_placebo(placebo_results: Path) -> None:
    from sim.report.summary import strategy_sentences

    data = load_report_data(placebo_results)
    assert data.placebos == {"hefei": "hefei_placebo"}
    sentences = strategy_sentences(data)
    assert len(sentences) == 1, "the placebo is compared inside its strategy's sentence, not on its own"
    (text,) = sentences
    end = _end(placebo_results)
    hefei, base, placebo = end.loc["hefei"], end.loc["baseline"], end.loc["hefei_placebo"]
    gini = 100 * float((hefei["gini"] / base["gini"] - 1).mean())
    up = int((hefei["gini"] > base["gini"]).sum())
    word, count = ("more unequal", up) if gini > 0 else ("more equal", REPLICATES - up)
    assert text.startswith(f"hefei against baseline in {END_YEAR}: the Gini {gini:+.1f} %".replace("-", "−"))
    assert f"({word} in {count} of {REPLICATES})" in text
    gdp = 100 * float((hefei["gdp_real_cny_bn"] / placebo["gdp_real_cny_bn"] - 1).mean())
    assert "against its same-cost placebo hefei_placebo: the Gini" in text
    assert f"real GDP {gdp:+.1f} %".replace("-", "−") in text.split("placebo hefei_placebo")[1]
    assert "research output" in text and "it costs CNY" in text
    assert text.endswith(f"shares of {REPLICATES} seeds (seeds only: parameters fixed at their defaults).")


def test_cost_table_by_hand(placebo_results: Path) -> None:
    from sim.report.costs import cost_table

    data = load_report_data(placebo_results)
    table = cost_table(data).set_index(["group", "reference"])
    assert set(table.index) == {("hefei", "baseline"), ("hefei", "hefei_placebo"), ("hefei_placebo", "baseline")}
    province = pd.read_parquet(placebo_results / "province")
    national = pd.read_parquet(placebo_results / "national")
    costs = ["cost_provincial_cny_bn", "cost_central_cny_bn", "cost_foreign_cny_bn"]
    per_run = province.groupby(["scenario", "run_id"])[costs].sum().groupby("scenario").mean()
    gdp = national.groupby(["scenario", "run_id"])["gdp_real_cny_bn"].sum().groupby("scenario").mean()
    row = table.loc[("hefei", "baseline")]
    extra = per_run.loc["hefei"] - per_run.loc["baseline"]
    assert_allclose(row[["extra_provincial_cny_bn", "extra_central_cny_bn", "extra_foreign_cny_bn"]].to_numpy(float),
                    extra.to_numpy(float))
    assert_allclose(row["extra_cost_cny_bn"], extra.sum())
    assert row["extra_cost_cny_bn"] > 0, "hefei's guidance fund costs money beyond the baseline's"
    assert_allclose(row["gdp_gained_cny_bn"], gdp["hefei"] - gdp["baseline"])
    assert row["extra_cost_low"] <= row["extra_cost_cny_bn"] <= row["extra_cost_high"]
    if row["extra_cost_low"] > 0:
        assert_allclose(row["return_per_yuan"], row["gdp_gained_cny_bn"] / row["extra_cost_cny_bn"])
    assert np.isnan(table.loc[("hefei", "hefei_placebo"), "return_per_yuan"]), "no return against a placebo"


def test_report_pages_show_summary_and_costs(placebo_results: Path, tmp_path: Path, scorecard_file: Path) -> None:
    out = build_report(placebo_results, tmp_path / "report", scorecard=scorecard_file)
    page = (out / "report.html").read_text()
    markdown = (out / "report.md").read_text()
    assert page.index('id="summary"') < page.index('class="toc"'), "the summary comes first, above the contents"
    assert "against its same-cost placebo hefei_placebo" in page
    assert "* hefei against baseline" in markdown and "### Costs and returns" in markdown
    assert "extra cost vs baseline, CNY bn" in page and "return, yuan GDP per yuan" in page
    costs = pd.read_csv(out / "costs.csv")
    assert {"extra_cost_cny_bn", "extra_provincial_cny_bn", "return_per_yuan"} <= set(costs.columns)
    effects = pd.read_csv(out / "summary_effects.csv")
    assert set(effects["comparison"]) == {"baseline", "placebo"}


# --------------------------------------------------------------------------------------------------
# the trust section, the CSV tables, the methods text


def test_trust_section_holds_the_scorecard_of_the_current_code(report: Path, results: Path) -> None:
    from sim.analysis.scorecard import scorecard
    from sim.experiments.identity import code_hash

    page = (report / "report.html").read_text()
    trust = page[page.index('<section id="trust">'):page.index('<section id="provenance">')]
    (cache,) = results.glob("scorecard-*.json")  # cached in the results folder, keyed by the code hash
    cached = json.loads(cache.read_text())
    assert cache.name == f"scorecard-{cached['code_hash'].removeprefix('sha256:')[:16]}.json"
    assert cached["code_hash"] == code_hash(), "the code has not changed since the report was built"
    assert f"cached as <code>{cache.name}</code>" in trust
    expected = scorecard().to_dict()  # the real scorecard of this code, computed here again
    assert [t["name"] for t in cached["scorecard"]["targets"]] == [t["name"] for t in expected["targets"]]
    assert_allclose([t["value"] for t in cached["scorecard"]["targets"]], [t["value"] for t in expected["targets"]])
    assert f"{expected['passed']} of {expected['total']} targets pass" in trust
    for target in expected["targets"]:
        assert html.escape(target["name"]) in trust, target["name"]
    assert trust.count(">FAIL<") == expected["total"] - expected["passed"]
    assert "Scorecard computed for this code when the report was built" in trust
    assert "no parameter draws (seeds only)" in trust


def test_scorecard_from_a_file_and_cache_reuse(results: Path, report: Path, scorecard_file: Path,
                                               tmp_path: Path) -> None:
    from sim.report.trust import scorecard_for

    data = load_report_data(results)
    cached = scorecard_for(results, data.manifest)  # the report fixture computed and cached it
    assert "read from the cache" in cached.source and cached.scorecard["total"] >= 1
    read = scorecard_for(results, data.manifest, scorecard_file)
    assert read.scorecard["passed"] == 1 and "read from" in read.source
    bad = tmp_path / "bad.json"
    bad.write_text('{"targets": 3}')
    result = _sim(str(results), "--out", str(tmp_path / "r"), "--scorecard", str(bad))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "--scorecard" in result.stderr and "targets" in result.stderr
    assert not (tmp_path / "r").exists()


def test_csv_tables_beside_the_report_and_runs_out_of_the_body(report: Path, results: Path) -> None:
    summary = pd.read_csv(report / "summary.csv")
    assert {"scenario", "metric", "label", "unit", "year", "mean", "low", "high", "n"} <= set(summary.columns)
    row = summary[(summary["scenario"] == "need") & (summary["metric"] == "gini")].iloc[0]
    end = _end(results).loc["need", "gini"]
    assert_allclose(row["mean"], end.mean())
    assert_allclose([row["low"], row["high"]], [mean_interval(end).low, mean_interval(end).high])
    comparisons = pd.read_csv(report / "comparisons.csv")
    assert set(comparisons["scenario"]) == {"need", "imitate"}
    assert {"reference", "difference", "low", "high", "p_value", "p_adjusted"} <= set(comparisons.columns)
    runs = pd.read_csv(report / "runs.csv")
    assert len(runs) == 3 * REPLICATES and {"run_id", "seed_entropy", "spawn_key"} <= set(runs.columns)
    page = (report / "report.html").read_text()
    body = page[page.index('<section id="runs">'):]
    assert '<a href="runs.csv">runs.csv</a>' in body and "<table" not in body, "no table of runs in the page"
    assert "(runs.csv)" in (report / "report.md").read_text()


def test_methods_text_never_contradicts_itself() -> None:
    from sim.report.content import power_sentence
    from sim.report.statistics import smallest_rank_p

    # 30 replicates: p can be tiny, so no call for more replicates
    text = power_sentence(42, 30, smallest_rank_p(30, 30), 1.7e-17)
    assert "more replicates" not in text and "are needed" not in text and "passes the correction" in text
    # 3 replicates and 42 tests: nothing can pass
    text = power_sentence(42, 3, smallest_rank_p(3, 3), 0.1)
    assert "no difference can pass the correction" in text and "at least 7 replicates" in text


@pytest.fixture(scope="module")
def draws_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baseline and hefei over 6 posterior draws x 1 seed, to 2026."""
    from sim.experiments.batch import run_batch
    from sim.experiments.spec import resolve_experiment

    spec = {"name": "drivers", "scenarios": ["baseline.toml", "hefei.toml"], "replicates": 1, "seed": 5,
            "set": {"run.end_year": 2026}, "uncertainty": {"draws": 6}}
    experiment = resolve_experiment(spec, base_dir=ROOT / "scenarios")
    out = tmp_path_factory.mktemp("draws") / "u"
    run_batch(experiment, out=out, progress=False, executor="serial")
    return out


def test_drivers_are_rank_correlations_with_the_drawn_parameters(draws_results: Path, tmp_path: Path,
                                                                 scorecard_file: Path) -> None:
    from sim.report.trust import driver_sentences, driver_table, parameter_drivers

    data = load_report_data(draws_results)
    assert data.has_draws and "economy__catch_up_rate" in data.parameter_columns
    drivers = parameter_drivers(data)
    assert set(drivers["group"]) == {"hefei"} and set(drivers["parameter"]) == set(data.parameter_columns)
    # by hand for one metric and parameter: Spearman = Pearson of the ranks
    national = pd.read_parquet(draws_results / "national")
    end = national[national["year"] == 2026].set_index(["scenario", "draw"])
    effect = (end.loc["hefei", "gini"] / end.loc["baseline", "gini"] - 1).sort_index()
    parameter = end.loc["baseline", "economy__catch_up_rate"].sort_index()
    expected = np.corrcoef(effect.rank(), parameter.rank())[0, 1]
    row = drivers[(drivers["metric"] == "gini") & (drivers["parameter"] == "economy__catch_up_rate")].iloc[0]
    assert_allclose(row["rho"], expected)
    assert row["draws"] == 6
    (sentence,) = driver_sentences(drivers)
    assert sentence.startswith("hefei against baseline: the effect is driven on the Gini by")
    out = build_report(draws_results, tmp_path / "report", scorecard=scorecard_file)
    page = (out / "report.html").read_text()
    table = driver_table(drivers)
    assert len(table) == 3 * 3, "the top three parameters per metric"
    assert "Spearman" in page and all(html.escape(name) in page for name in table["parameter"])
    assert "draw-and-seed pairs (parameter and seed uncertainty)" in page


# --------------------------------------------------------------------------------------------------
# replacing a report whole


def _report_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failed_build_leaves_the_old_report_whole(results: Path, tmp_path: Path, scorecard_file: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.report.figures as figures
    from sim.report.figures_time import figure_gdp

    out = tmp_path / "report"
    build_report(results, out, scorecard=scorecard_file, workers=1)
    before = _report_state(out)
    page = before["report.html"].decode()
    for name in re.findall(r'href="figures/([^"]+)"', page):  # consistent: every figure the page links is there
        assert f"figures/{name}" in before

    def broken(data, folder):
        figure_gdp(data, folder)  # a figure is written into the new report's folder...
        raise KeyboardInterrupt  # ... then the build is interrupted

    monkeypatch.setattr(figures, "FIGURES", (figures.figure_gini, broken, figures.figure_research))
    with pytest.raises(KeyboardInterrupt):
        build_report(results, out, scorecard=scorecard_file, workers=1, cache=False)
    assert _report_state(out) == before, "the old report is untouched"
    assert not list(tmp_path.glob(".report.building-*")), "the temporary folder is removed"

    import sim.report.markdown as markdown

    def failing(ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(markdown, "render_markdown", failing)
    monkeypatch.setattr(figures, "FIGURES", (figures.figure_gini,))
    with pytest.raises(RuntimeError, match="disk full"):
        build_report(results, out, scorecard=scorecard_file, workers=1)
    assert _report_state(out) == before


def test_figures_are_reused_only_for_the_same_results_and_code(placebo_results: Path, tmp_path: Path,
                                                               scorecard_file: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import sim.report.figures as figures

    results = tmp_path / "results"
    shutil.copytree(placebo_results, results, ignore=shutil.ignore_patterns("report", ".report-cache"))
    first = build_report(results, tmp_path / "one", scorecard=scorecard_file, workers=1)
    gini = (first / "figures" / "gini.png").read_bytes()

    def figure_gini(data, folder):  # the same job name as the real one: found in the cache, never called
        raise AssertionError("drawn again")

    monkeypatch.setattr(figures, "FIGURES", (figure_gini,))
    second = build_report(results, tmp_path / "two", scorecard=scorecard_file, workers=1)
    assert (second / "figures" / "gini.png").read_bytes() == gini
    assert "could not be drawn" not in (second / "report.html").read_text()
    # new results (a table part rewritten): drawn again
    part = next((results / "national").glob("*.parquet"))
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 1_000_000_000))
    third = build_report(results, tmp_path / "three", scorecard=scorecard_file, workers=1)
    assert "Figure gini could not be drawn: AssertionError: drawn again" in (third / "report.html").read_text()
    # and with the cache turned off, drawn again too
    monkeypatch.setattr(figures, "FIGURES", (figures.figure_gini,))
    build_report(results, tmp_path / "four", scorecard=scorecard_file, workers=1)
    monkeypatch.setattr(figures, "FIGURES", (figure_gini,))
    fifth = build_report(results, tmp_path / "five", scorecard=scorecard_file, workers=1, cache=False)
    assert "could not be drawn" in (fifth / "report.html").read_text()


def test_a_killed_build_leaves_the_old_report_whole(results: Path, tmp_path: Path, scorecard_file: Path) -> None:
    import os
    import signal
    import time

    out = tmp_path / "report"
    build_report(results, out, scorecard=scorecard_file, workers=1)
    before = _report_state(out)
    process = subprocess.Popen([sys.executable, "-m", "sim", "report", str(results), "--out", str(out),
                                "--scorecard", str(scorecard_file), "--redraw"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # wait until the new report's folder holds figures, then kill the build (and its workers)
        for _ in range(1200):
            building = list(tmp_path.glob(".report.building-*/figures/*.png"))
            if building or process.poll() is not None:
                break
            time.sleep(0.05)
        assert building, "the build writes into a temporary folder next to the report"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert _report_state(out) == before, "the old report is whole"
    assert list(tmp_path.glob(".report.building-*")), "the killed build's folder is left..."
    build_report(results, out, scorecard=scorecard_file, workers=1)
    assert not list(tmp_path.glob(".report.building-*")), "... and removed by the next build"
    assert (out / "report.html").read_bytes() != before["report.html"]


# --------------------------------------------------------------------------------------------------
# drawing the figures


def _laid_out_figure():
    """A figure with what constrained layout places in the report's figures: panel titles, an
    equal-aspect panel, a colorbar, a legend outside the axes, axis labels and a suptitle."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from sim.report.figures_common import panel_title

    fig = Figure(figsize=(6.0, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot([2022, 2036, 2050], [0.30, 0.36, 0.33], color="#000000", label="baseline")
    left.plot([2022, 2036, 2050], [0.30, 0.34, 0.31], color="#0072B2", label="hefei")
    left.set_ylabel("Gini coefficient (0 = equal)")
    panel_title(left, "baseline", "#000000", 3.0)
    image = right.imshow(np.arange(12.0).reshape(3, 4), cmap="viridis")
    right.set_aspect("equal")
    right.text(1.0, 1.0, "AH\n+12", ha="center", va="center", fontsize=7, in_layout=False)
    panel_title(right, "hefei", "#0072B2", 3.0)
    fig.colorbar(image, ax=[left, right], orientation="horizontal", shrink=0.5, location="bottom").set_label("%")
    fig.legend(loc="outside lower center", ncol=2, title="Scenario")
    fig.suptitle("Inequality between provinces")
    assert isinstance(fig.get_layout_engine(), mpl.layout_engine.ConstrainedLayoutEngine)
    return fig


def test_a_figure_is_laid_out_and_drawn_once_with_the_pixels_and_svg_of_savefig(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib as mpl
    from PIL import Image

    from sim.plotting import DPI, FIGURE_STYLE
    from sim.report.figures_common import SAVE_OPTIONS, save_figure

    monkeypatch.setitem(SAVE_OPTIONS, "svg", True)
    with mpl.rc_context(FIGURE_STYLE):
        fig = _laid_out_figure()
        engine = fig.get_layout_engine()
        draws: list[str] = []
        fig.canvas.mpl_connect("draw_event", lambda event: draws.append(type(event.renderer).__name__))
        png, svg = save_figure(fig, tmp_path, "once")
        reference = _laid_out_figure()  # the same figure saved as matplotlib saves it
        reference.savefig(tmp_path / "reference.png", dpi=DPI, facecolor="white")
        reference.savefig(tmp_path / "reference.svg", facecolor="white", metadata={"Date": None})
    # the PNG: one drawing, none without output before it (the SVG is laid out again at its own resolution)
    assert draws[0] == "RendererAgg" and draws.count("RendererAgg") == 1 and len(draws) > 1
    assert fig.get_layout_engine() is engine, "the layout engine is the figure's again after the PNG"
    drawn = np.asarray(Image.open(png))
    expected = np.asarray(Image.open(tmp_path / "reference.png"))
    assert drawn.shape == expected.shape == (int(3.4 * DPI), int(6.0 * DPI), 4)
    assert np.array_equal(drawn, expected)
    assert svg is not None and svg.read_text() == (tmp_path / "reference.svg").read_text()


def test_the_workers_get_the_longest_jobs_first_in_report_order_among_equals() -> None:
    from sim.report.figures import dispatch_order

    names = ["gini", "theil", "maps (map_a)", "rankings (baseline)", "maps (map_b)", "adoption", "scorecard",
             "rankings (hefei)", "something new"]
    order = [names[i] for i in dispatch_order(names)]
    assert order[:4] == ["scorecard", "theil", "maps (map_a)", "maps (map_b)"]
    assert order.index("rankings (baseline)") + 1 == order.index("rankings (hefei)")
    assert order[-1] == "adoption" and sorted(order) == sorted(names), "every job once"


def test_figures_drawn_by_a_child_that_loads_matplotlib_while_this_process_does_not(
        results: Path, tmp_path: Path, scorecard_file: Path) -> None:
    code = ("import sys; from sim.report import build_report; "
            f"out = build_report({str(results)!r}, {str(tmp_path / 'report')!r}, scorecard={str(scorecard_file)!r}, "
            "workers=2, cache=False); "
            "print('matplotlib' in sys.modules, len(list((out / 'figures').glob('*.png'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          check=True)
    loaded, count = done.stdout.split()
    in_process = build_report(results, tmp_path / "here", scorecard=scorecard_file, workers=1, cache=False)
    assert loaded == "False", "matplotlib is loaded by the child only"
    assert int(count) == len(list((in_process / "figures").glob("*.png"))) > 10
    page = (tmp_path / "report" / "report.html").read_text()
    assert "could not be drawn" not in page
    assert page.count("data:image/png;base64,") == (in_process / "report.html").read_text().count(
        "data:image/png;base64,")


def test_a_drawing_child_that_fails_leaves_the_figures_to_this_process(
        results: Path, tmp_path: Path, scorecard_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.report.drawing as drawing

    def broken(writer) -> None:
        raise SystemExit(3)  # ends before sending anything

    monkeypatch.setattr(drawing, "_child", broken)
    out = build_report(results, tmp_path / "report", scorecard=scorecard_file, workers=2, cache=False)
    assert "could not be drawn" not in (out / "report.html").read_text()
    assert (out / "figures" / "gini.png").is_file() and (out / "figures" / "adoption.png").is_file()


def _worker_state(index: int) -> tuple[int, int, int]:
    import gc
    import os

    return index, os.getpid(), gc.get_freeze_count()


def test_figure_jobs_run_in_forked_workers_in_job_order_and_the_collector_is_left_as_it_was() -> None:
    import gc
    import os
    from functools import partial

    from sim.report.figures import run_jobs

    jobs = [(f"job {i}", partial(_worker_state, i)) for i in range(5)]
    results, meanwhile = run_jobs(jobs, workers=2, meanwhile=gc.get_freeze_count)
    assert [error for _, _, error in results] == [None] * 5
    assert [result[0] for result, _, _ in results] == list(range(5)), "results in job order"
    assert all(result[1] != os.getpid() for result, _, _ in results), "drawn in worker processes"
    assert all(result[2] > 0 for result, _, _ in results), "the inherited objects are frozen in the workers"
    assert meanwhile == 0 and gc.get_freeze_count() == 0, "and in this process only while the workers are forked"


# --------------------------------------------------------------------------------------------------
# end to end


EXPECTED_FIGURES = (
    "gini", "theil_decomposition", "gdp", "research_output", "interior_research_share", "tradeoff",
    "map_gdp_per_capita", "map_gdp_per_capita_vs_baseline", "map_research_output",
    "map_research_output_vs_baseline", "ranking_baseline", "ranking_need", "ranking_imitate", "adoption",
)


def test_report_writes_figures_html_and_markdown(report: Path, results: Path) -> None:
    assert report == results / "report"
    for name in EXPECTED_FIGURES:
        png, svg = report / "figures" / f"{name}.png", report / "figures" / f"{name}.svg"
        assert png.stat().st_size > 5_000, name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert svg.read_text()[:200].lstrip().startswith("<?xml"), name
    page = (report / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(EXPECTED_FIGURES)
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not load anything from the network"
    assert "could not be drawn" not in page
    markdown = (report / "report.md").read_text()
    assert "![" in markdown and "(figures/gini.png)" in markdown


def test_report_states_provenance_and_statistics(report: Path, results: Path) -> None:
    manifest = json.loads((results / "manifest.json").read_text())
    page = (report / "report.html").read_text()
    for text in ("report_test", "experiments/report_test.toml", "scenarios/baseline.toml", manifest["git_commit"],
                 manifest["package_version"], manifest["created"], "Root seed", "Replicates",
                 "Holm-Bonferroni", "Mann-Whitney", "bootstrap", str(BOOTSTRAP_SEED), "9 of 9 runs complete"):
        assert text in page, text
    for anchor in ("glance", "trust", "provenance", "inequality", "output", "tradeoff", "maps", "ranking", "adoption",
                   "tables", "comparison", "costs", "methods", "runs"):
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page, anchor
    # one colour per scenario, the same in the tables as in the figures
    data = load_report_data(results)
    for group, colour in data.colours.items():
        assert f"background:{colour}" in page, group


def test_partial_folder_lists_missing_and_failed_runs(results: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(results, partial, ignore=shutil.ignore_patterns("report"))
    for table in ("national", "province", "events", "runs"):  # run 4 never finished
        (partial / table / "part-000004.parquet").unlink(missing_ok=True)
    for table in ("national", "province", "events"):  # run 7 failed: only its runs row is left
        (partial / table / "part-000007.parquet").unlink(missing_ok=True)
    runs = pd.read_parquet(partial / "runs" / "part-000007.parquet")
    runs["status"] = "failed"
    runs["error"] = "ValueError: boom"
    write_part(partial, "runs", "000007", runs)
    data = load_report_data(partial)
    assert data.completeness.missing == [4]
    assert list(data.completeness.failed) == [7]
    assert data.completeness.complete == [0, 1, 2, 3, 5, 6, 8]
    # built through the command line: exit 0, a warning on stderr, the report where --out says
    result = _sim(str(partial), "--out", str(tmp_path / "partial-report"), "--no-scorecard", "--svg")
    assert result.returncode == 0, result.stderr
    assert "warning: partial results: 7 of 9 runs complete; missing run ids: 4; failed run ids: 7" in result.stderr
    assert "Report written to" in result.stdout and "partial-report" in result.stdout
    out = tmp_path / "partial-report"
    assert (out / "figures" / "tradeoff.svg").exists()
    page = (out / "report.html").read_text()
    assert "Partial results: 7 of 9 runs complete; missing run ids: 4; failed run ids: 7" in page
    assert "Run 7 (imitate, replicate 1) failed: ValueError: boom" in page
    assert "Partial results" in (out / "report.md").read_text()


def test_folder_without_baseline_skips_the_comparison(tmp_path: Path) -> None:
    folder = make_results(tmp_path / "nobase", [scenario("alpha"), scenario("beta", "migration.home_bias=2.0")],
                          replicates=2)
    data = load_report_data(folder)
    assert comparison_table(data).empty
    out = build_report(folder, scorecard=False)
    page = (out / "report.html").read_text()
    assert "no complete run of a scenario named <code>baseline</code>" in page
    assert not (out / "figures" / "map_gdp_per_capita_vs_baseline.png").exists()
    assert not (out / "figures" / "adoption.png").exists()
    assert "so there is no adoption figure" in page


def test_single_run_folder(tmp_path: Path) -> None:
    from sim.experiments.single import run_scenario

    run_scenario(scenario("baseline"), seed=3, out=tmp_path / "run", source=str(BASELINE))
    out = build_report(tmp_path / "run", tmp_path / "run-report", scorecard=False)
    page = (out / "report.html").read_text()
    assert "1 of 1 runs complete" in page and "single run" in page
    assert (out / "figures" / "gini.png").exists()


def test_not_a_results_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not a results folder"):
        load_report_data(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "batch", "runs_total": 3}))
    with pytest.raises(ResultsError, match="no complete run"):
        load_report_data(tmp_path)


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", "report", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def test_cli_not_a_results_folder_exits_2_with_one_line(tmp_path: Path) -> None:
    for folder in (tmp_path, tmp_path / "nowhere"):
        result = _sim(str(folder))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""


# --------------------------------------------------------------------------------------------------
# the page in a browser


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`make test` installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto((report / "report.html").as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("Array.from(document.images).map(img => img.complete ? img.naturalWidth : 0)")
            assert len(widths) == len(EXPECTED_FIGURES)
            assert all(width > 0 for width in widths), widths
            assert page.title() == "Report: report_test"
            assert page.locator("nav.toc a").count() >= 12
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
            # what a reader sees first: the summary, above the contents, one sentence per strategy
            summary = page.locator("section#summary")
            assert summary.is_visible()
            box, toc = summary.bounding_box(), page.locator("nav.toc").bounding_box()
            assert box is not None and toc is not None and box["y"] < toc["y"]
            items = summary.locator("li")
            assert items.count() == 2
            first = items.nth(0).inner_text()
            assert first.startswith("need against baseline in 2027: the Gini ")
            assert f"of {REPLICATES} seeds (seeds only: parameters fixed at their defaults)" in first
            # the trust section: the scorecard with its targets and verdicts
            trust = page.locator("section#trust")
            trust.scroll_into_view_if_needed()
            assert trust.is_visible()
            text = trust.inner_text()
            assert re.search(r"Validation scorecard of sim validate: \d+ of \d+ targets pass", text), text[:300]
            rows = trust.locator("table.scorecard tbody tr")
            assert rows.count() >= 10
            verdicts = {trust.locator("table.scorecard tbody tr td:nth-child(4)").nth(i).inner_text()
                        for i in range(rows.count())}
            assert verdicts <= {"pass", "FAIL"} and verdicts
            assert "relative growth r, re-initialised 2016" in text
            assert page.locator('a[href="runs.csv"]').count() == 1
            page.screenshot(path=str(ARTIFACTS / "report.png"))
            page.locator("#fig-tradeoff").screenshot(path=str(ARTIFACTS / "report-tradeoff.png"))
        finally:
            browser.close()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
