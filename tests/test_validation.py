"""Tests for sim.analysis.validation, sim.analysis.calibration and ``sim validate``: hand-computed statistics, the
comparison wiring on a perfect forecast, the hindcast's prices, the fit, and the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim import metrics
from sim.analysis.estimation import (
    ESTIMATED,
    ESTIMATION_WINDOW,
    EstimatedParameter,
    fit_point,
    identification,
    observed_table,
    parameter_keys,
    simulated_moments,
)
from sim.analysis.patterns import MOMENTS, PatternWindow, observed_estimation_panel, observed_moments
from sim.analysis.validation import (
    CALIBRATION_WINDOW,
    GDP_DEFLATOR,
    Window,
    annual_log_growth,
    compare_window,
    deflator,
    fit_beta_benchmark,
    hindcast,
    observed_beta_benchmark,
    observed_panel,
    r2_log_levels,
    relative_growth,
    relative_level,
    rmse,
    skill_score,
    spearman,
    validate,
)
from sim.analysis.validation_output import format_validation, write_results
from sim.cli import main
from sim.data import china_data
from sim.scenario import Scenario

E = math.e
ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# statistics by hand


def test_r2_log_levels_by_hand() -> None:
    # ln o = (0, 1, 2): mean 1, total sum of squares 2; ln s = (1, 1, 2): residuals (1, 0, 0) -> R2 = 1 - 1/2
    assert r2_log_levels([E, E, E**2], [1.0, E, E**2]) == pytest.approx(0.5, abs=1e-12)
    assert r2_log_levels([1.0, E, E**2], [1.0, E, E**2]) == pytest.approx(1.0)
    # the observed mean for everyone scores 0; a worse forecast is negative
    assert r2_log_levels([E, E, E], [1.0, E, E**2]) == pytest.approx(0.0, abs=1e-12)
    assert r2_log_levels([E**2, E, 1.0], [1.0, E, E**2]) == pytest.approx(1 - 8 / 2)


def test_r2_log_levels_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        r2_log_levels([1.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="observed has 3"):
        r2_log_levels([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="all equal"):
        r2_log_levels([1.0, 2.0], [3.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        r2_log_levels([1.0, np.nan], [1.0, 2.0])


def test_spearman_by_hand() -> None:
    # ranks (1, 2, 3) and (1, 3, 2): d^2 = 0 + 1 + 1 = 2 -> rho = 1 - 6 * 2 / (3 * 8) = 0.5
    assert spearman([1.0, 2.0, 3.0], [10.0, 30.0, 20.0]) == pytest.approx(0.5)
    assert spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    # monotone transformations do not matter
    assert spearman(np.exp([1.0, 2.0, 3.0]), [0.1, 0.2, 0.3]) == pytest.approx(1.0)
    assert math.isnan(spearman([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]))


def test_rmse_and_skill_by_hand() -> None:
    assert rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(math.sqrt(12.5))
    # model errors (1, 1): MSE 1; benchmark errors (2, 2): MSE 4 -> skill 1 - 1/4
    assert skill_score([1.0, 3.0], [0.0, 2.0], [2.0, 4.0]) == pytest.approx(0.75)
    assert skill_score([2.0, 4.0], [0.0, 2.0], [2.0, 4.0]) == pytest.approx(0.0)
    assert skill_score([0.0, 2.0], [0.0, 2.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert skill_score([4.0, 6.0], [0.0, 2.0], [2.0, 4.0]) == pytest.approx(1 - 16 / 4)
    assert math.isnan(skill_score([1.0, 1.0], [0.0, 2.0], [0.0, 2.0]))


def test_growth_by_hand() -> None:
    assert_allclose(annual_log_growth([1.0, 2.0], [E**2, 2.0], 2), [1.0, 0.0])
    with pytest.raises(ValueError, match="positive"):
        annual_log_growth([1.0], [0.0], 1)
    with pytest.raises(ValueError, match="years"):
        annual_log_growth([1.0], [2.0], 0)
    # two regions of equal population; GDP (1, 1) -> (e, 1) in one year. National per capita
    # goes from 1 to (e + 1) / 2, so relative growth is (1, 0) - ln((e + 1) / 2).
    national = math.log((E + 1) / 2)
    got = relative_growth([1.0, 1.0], [E, 1.0], [1.0, 1.0], [1.0, 1.0], 1)
    assert_allclose(got, [1 - national, -national])
    # a common price level cancels: nominal and real give the same relative growth
    assert_allclose(relative_growth([1.0, 1.0], [1.3 * E, 1.3], [1.0, 1.0], [1.0, 1.0], 1), got)
    assert_allclose(relative_level([2.0, 6.0], [1.0, 1.0]), [0.5, 1.5])


def test_beta_benchmark_recovers_an_exact_line() -> None:
    # relative growth = -0.02 * ln r0 + 0.001 exactly, over 4 years
    r0 = np.array([0.5, 0.8, 1.0, 1.6, 2.5])
    growth = 0.001 - 0.02 * np.log(r0)
    r1 = r0 * np.exp(4 * growth)
    beta = fit_beta_benchmark(r0, r1, 2012, 2016)
    assert beta.slope == pytest.approx(-0.02)
    assert beta.intercept == pytest.approx(0.001)
    assert beta.r_squared == pytest.approx(1.0)
    assert_allclose(beta.predict(r0), growth)
    # the same slope as sim.metrics.beta_convergence on these levels
    assert beta.slope == pytest.approx(metrics.beta_convergence(r0, r1, 4).slope)


def test_deflator() -> None:
    assert deflator(2012, 2012) == 1.0
    assert deflator(2016, 2012) == pytest.approx(101.41 / 96.89)
    assert set(range(2010, 2023)) <= set(GDP_DEFLATOR)
    with pytest.raises(ValueError, match="2031"):
        deflator(2031, 2012)


# --------------------------------------------------------------------------------------
# the comparison wiring


def _perfect_simulation(observed: pd.DataFrame, init_year: int) -> pd.DataFrame:
    """The observed panel in the model's units: GDP in init-year prices."""
    frame = observed.copy()
    price = frame["year"].map(lambda y: deflator(int(y), init_year))
    frame["gdp_cny_bn"] = frame["gdp_cny_bn"] / price
    frame["gdp_per_capita_cny"] = 1000.0 * frame["gdp_cny_bn"] / frame["population_m"]
    return frame


def test_a_perfect_forecast_scores_perfectly() -> None:
    observed = observed_panel()
    window = Window("validation", 2016, 2020, 2016)
    beta = observed_beta_benchmark(observed)
    result = compare_window(_perfect_simulation(observed, 2016), observed, window, beta)
    stats = pd.DataFrame(result.statistics).set_index(["variable", "statistic"])
    for key in [("gdp_per_capita", "r2_log_level"), ("gdp_per_capita", "r2_log_relative_level"),
                ("gdp_per_capita", "spearman_growth"), ("research_output", "r2_log_level"),
                ("graduates", "spearman_growth"), ("population", "r2_log_level")]:
        assert stats.loc[key, "model"] == pytest.approx(1.0), key
    for key in [("gdp_per_capita", "rmse_relative_growth"), ("gdp_per_capita", "rmse_real_growth"),
                ("gdp_per_capita", "rmse_annual_relative_growth"), ("research_output", "rmse_growth"),
                ("inequality", "rmse_gini_path"), ("inequality", "rmse_cv_path")]:
        assert stats.loc[key, "model"] == pytest.approx(0.0, abs=1e-12), key
    assert stats.loc[("gdp_per_capita", "rmse_relative_growth"), "skill_vs_national_rate"] == pytest.approx(1.0)
    assert stats.loc[("gdp_per_capita", "rmse_relative_growth"), "skill_vs_beta_convergence"] == pytest.approx(1.0)
    assert stats.loc[("gdp_per_capita", "national_real_growth"), "model"] == pytest.approx(
        stats.loc[("gdp_per_capita", "national_real_growth"), "observed"])
    path = result.inequality
    assert_allclose(path["gini_simulated"], path["gini_observed"])
    # the observed Gini of 2020 as documented in sim/data/SOURCES.md
    assert path.set_index("year").loc[2020, "gini_observed"] == pytest.approx(0.193, abs=5e-4)


def test_benchmarks_are_what_they_say() -> None:
    observed = observed_panel()
    window = Window("calibration", 2012, 2016, 2012, "in")
    beta = observed_beta_benchmark(observed, window)
    result = compare_window(_perfect_simulation(observed, 2012), observed, window, beta)
    stats = pd.DataFrame(result.statistics).set_index(["variable", "statistic"])
    table = result.provinces
    g = table["relative_growth_observed"].to_numpy()
    # national rate: relative growth 0, so its RMSE is the root mean square of observed relative growth
    assert stats.loc[("gdp_per_capita", "rmse_relative_growth"), "national_rate"] == pytest.approx(
        np.sqrt(np.mean(g**2)))
    # beta convergence, in sample: OLS residuals; its R2 is the regression's
    residual = g - table["relative_growth_beta"].to_numpy()
    assert abs(residual.mean()) < 1e-12
    assert 1 - np.var(residual) / np.var(g) == pytest.approx(beta.r_squared)
    # the national-rate Gini path only moves with population shares
    assert stats.loc[("inequality", "gini_end"), "national_rate"] == pytest.approx(0.2017, abs=5e-4)


# --------------------------------------------------------------------------------------
# hindcast runs


def test_hindcast_feeds_real_observed_rd_and_leaves_the_cache_alone() -> None:
    cached = china_data(2012).observed_rd[2014].copy()
    model = hindcast(None, start_year=2012, end_year=2014)
    assert model.scenario.investment.observed_rd
    assert model.scenario.investment.central_share == 0.0
    assert_allclose(model.data.observed_rd[2014], cached / deflator(2014, 2012))
    assert_allclose(china_data(2012).observed_rd[2014], cached)
    # the budget of 2014 is the observed R&D in 2012 prices
    assert_allclose(model.state.budget, cached / deflator(2014, 2012))
    frame = model.national_frame()
    assert list(frame["year"]) == [2012, 2013, 2014]


def test_validate_small_window_and_table() -> None:
    windows = (Window("calibration", 2012, 2014, 2012, "in"), Window("validation", 2016, 2018, 2016))
    result = validate(windows=windows)
    stats = result.statistics
    assert set(stats["window"]) == {"calibration", "validation"}
    assert set(result.runs) == {2012, 2016}
    assert {"model", "observed", "national_rate", "beta_convergence", "skill_vs_national_rate",
            "skill_vs_beta_convergence"} <= set(stats.columns)
    assert len(result.provinces) == 2 * 31
    assert np.isfinite(stats.loc[stats["statistic"] == "rmse_relative_growth", "model"]).all()
    text = format_validation(result)
    assert "calibration 2012-2014 (in sample)" in text
    assert "skill/beta" in text
    with pytest.raises(ValueError, match="init_year"):
        validate(windows=(Window("bad", 2012, 2014, 2013),))


def test_write_results_refuses_a_full_folder(tmp_path) -> None:
    (tmp_path / "x.txt").write_text("taken")
    result = validate(windows=(Window("calibration", 2012, 2013, 2012, "in"),))
    with pytest.raises(FileExistsError):
        write_results(tmp_path, result, figures=False)


# --------------------------------------------------------------------------------------
# calibration


def test_observed_patterns_by_hand() -> None:
    panel = observed_estimation_panel(2012, 2016)
    moments = observed_moments(PatternWindow(2012, 2016), draws=50)
    table = moments.set_index("moment")
    national = panel.groupby("year")["gdp_real_cny_bn"].sum()
    assert table.at["national_growth", "value"] == pytest.approx(np.diff(np.log(national.to_numpy())).mean())
    papers = panel.groupby("year")["research_output"].sum()
    assert table.at["papers_growth", "value"] == pytest.approx(math.log(papers[2016] / papers[2012]) / 4)
    assert (moments["se"] > 0).all() and set(moments["moment"]) == set(MOMENTS)
    # real GDP of a province is its 2012 GRP carried by its GRP index (constant prices)
    anhui = panel[panel["province"] == "Anhui"].set_index("year")["gdp_real_cny_bn"]
    from sim.data import load_grp_index

    index = load_grp_index().query("province == 'Anhui'").set_index("year")["grp_index"]
    assert anhui[2013] / anhui[2012] == pytest.approx(index[2013] / 100)


def test_defaults_are_the_medians_of_the_shipped_posterior() -> None:
    """The estimated defaults in sim/scenario/sections.py are the posterior medians (4 digits). If this
    fails after a model change, re-run ``python -m sim.analysis.estimation --out sim/data/posterior.csv``
    and update the defaults (docs/validation.md, "Estimation")."""
    from sim.data import load_posterior, posterior_provenance

    posterior = load_posterior()
    defaults = Scenario()
    for key in parameter_keys():
        node = defaults
        for part in key.split("."):
            node = getattr(node, part)
        assert node == pytest.approx(float(posterior[key].median()), rel=1e-3), key
    provenance = posterior_provenance()
    assert provenance["windows"] == ["2012-2016", "2016-2019"]
    assert set(provenance["moments"]) == set(MOMENTS)
    assert len(posterior) >= 100
    out_of_sample = load_posterior("2012-2016")
    assert posterior_provenance("2012-2016")["windows"] == ["2012-2016"]
    assert list(out_of_sample.columns) == list(posterior.columns)


def test_estimation_recovers_known_parameters_from_a_model_made_panel() -> None:
    """Moments simulated with known parameters stand in for the data; the point estimate starting
    elsewhere recovers them within two of its standard errors."""
    truth = {"economy.knowledge_effect": 0.15, "economy.catch_up_rate": 0.03}
    windows = (PatternWindow(2012, 2016),)
    simulated = simulated_moments(truth, windows=windows)
    observed = observed_table(windows, draws=50)
    observed["value"] = [simulated[(w, m)] for w, m in zip(observed["window"], observed["moment"], strict=True)]
    parameters = [p for p in ESTIMATED if p.key in truth]
    values, table = fit_point(parameters=parameters, windows=windows, observed=observed,
                              start={"economy.knowledge_effect": 0.3, "economy.catch_up_rate": 0.06},
                              max_evaluations=80)
    for row in table.itertuples(index=False):
        assert np.isfinite(row.se) and row.se > 0
        assert abs(row.estimate - truth[row.parameter]) <= 2 * row.se + 1e-6, (row.parameter, row.estimate, row.se)
    assert values["economy.knowledge_effect"] == pytest.approx(0.15, abs=0.03)


def test_an_upper_bound_moment_counts_only_when_the_model_exceeds_it() -> None:
    """beta_rd (growth on R&D-stock growth) holds reverse causation the hindcast cannot have: a simulated
    value below the observed one costs nothing, one above it costs as a target would."""
    from sim.analysis.estimation import UPPER_BOUND_MOMENTS, Objective

    assert UPPER_BOUND_MOMENTS == {"beta_rd"}
    observed = pd.DataFrame({"window": ["w"] * 3, "moment": ["beta_rd", "beta_rd", "national_growth"],
                             "value": [0.4, 0.1, 0.05], "se": [0.1, 0.1, 0.01]})

    class Fixed(Objective):
        def moments(self, theta):  # the model's moments, given
            return {("w", "beta_rd"): 0.2, ("w", "national_growth"): 0.07}

    residuals = Fixed(observed, parameters=()).residuals([])
    # 0.2 against an observed 0.4: below, no cost; against 0.1: above by one se; growth: a target
    np.testing.assert_allclose(residuals, [0.0, 1.0, 2.0])


def test_identification_says_whether_the_data_narrowed_the_prior() -> None:
    rng = np.random.default_rng(0)
    parameters = (EstimatedParameter("a", 0.0, 1.0, ""), EstimatedParameter("b", 0.0, 1.0, ""))
    draws = pd.DataFrame({"a": rng.uniform(0, 1, 2000), "b": rng.normal(0.5, 0.01, 2000)})
    table = identification(draws, parameters).set_index("parameter")
    assert table.at["a", "narrowing"] == pytest.approx(0.0, abs=0.05) and not table.at["a", "identified"]
    assert table.at["b", "narrowing"] > 0.9 and table.at["b", "identified"] and table.at["b", "excludes_zero"]


def test_calibration_window_is_2012_2016() -> None:
    assert (CALIBRATION_WINDOW.start, CALIBRATION_WINDOW.end, CALIBRATION_WINDOW.sample) == (2012, 2016, "in")
    assert (ESTIMATION_WINDOW.start, ESTIMATION_WINDOW.end) == (2012, 2016)


# --------------------------------------------------------------------------------------
# the command line


def test_cli_validate_writes_a_results_folder(tmp_path, capsys) -> None:
    out = tmp_path / "validation"
    assert main(["validate", "--out", str(out), "--json", str(tmp_path / "card.json")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Scorecard: ")
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["total"] == len(card["targets"]) >= 12
    names = {t["name"] for t in card["targets"]}
    assert any("Hefei case" in n for n in names) and any("Gini path" in n for n in names)
    assert all(isinstance(t["passed"], bool) for t in card["targets"])
    assert json.loads((out / "scorecard.json").read_text())["targets"] == card["targets"]
    assert "validation 2016-2020 (out of sample)" in printed
    assert "skill/national" in printed
    for name in ("statistics.csv", "statistics.parquet", "provinces.parquet", "inequality.csv", "manifest.json",
                 "figures/validation_growth.png", "figures/validation_levels.png",
                 "figures/validation_inequality.png", "figures/posterior.png"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "validation"
    assert "World Bank" in manifest["deflator"]["source"]
    stats = pd.read_parquet(out / "statistics.parquet")
    assert {"calibration", "validation", "validation_continuous", "hindcast"} == set(stats["window"])
    assert pd.read_parquet(out / "province")["init_year"].nunique() == 2
    # a second run into the same folder is refused with one line
    assert main(["validate", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_validate_calibrate_prints_the_fit(capsys) -> None:
    assert main(["validate", "--calibrate", "--no-write", "--no-scorecard"]) == 0
    printed = capsys.readouterr().out
    assert "Point estimate on 2012-2016 (simulated method of moments" in printed
    assert "economy.catch_up_rate" in printed
    assert main(["validate", "--no-write", "--set", "economy.catch_up_rate=7"]) == 2
    assert "catch_up_rate" in capsys.readouterr().err


def test_hindcast_of_a_strategy_scenario_runs_business_as_usual() -> None:
    model = hindcast(ROOT / "scenarios" / "hefei.toml", start_year=2012, end_year=2013)
    assert {p.strategy.name for p in model.provinces} == {"baseline"}
    assert model.scenario.events == []
    assert not model.scenario.imitation.enabled


def test_the_posterior_figure_spans_each_prior_and_names_the_median() -> None:
    from sim.analysis.estimation import ESTIMATED
    from sim.analysis.figures import figure_posterior
    from sim.data import load_posterior

    figure = figure_posterior()
    axes = [ax for ax in figure.axes if ax.get_visible()]
    assert len(axes) == len(ESTIMATED)
    posterior = load_posterior()
    for ax, parameter in zip(axes, ESTIMATED, strict=True):
        assert ax.get_xlim() == pytest.approx((parameter.low, parameter.high))
        name, interval = ax.get_title().split("\n")
        assert name == parameter.key.split(".")[-1]
        assert interval.startswith(f"{posterior[parameter.key].median():.3g} [")
        assert len(ax.patches) == 2 * 40, "one histogram per shipped posterior"


def test_the_projection_check_compares_like_with_like() -> None:
    """The scorecard's projection check: observed growth 2022-2024 from the GRP index agrees with the
    published national figures (NBS: 5.2 % in 2023, 5.0 % in 2024); the model's is business as usual
    from the 2022 data, whatever strategies the scenario assigns."""
    from sim.analysis.scorecard import observed_projection_growth, projection_growth

    observed = observed_projection_growth()
    assert observed == pytest.approx((1.052 * 1.050) ** 0.5 - 1, abs=0.003)
    plain = projection_growth(seed=1)
    assert projection_growth(ROOT / "scenarios" / "hefei.toml", seed=1) == pytest.approx(plain, rel=1e-12)
    assert 0.0 < plain < 0.2


def test_the_latest_years_as_a_moment_match_the_projection_check() -> None:
    """``--recent-se``: the observed 2022-2024 growth is one more row, and the model's side of it is the
    projection of the parameters being tried, run from 2022 (the scorecard's projection check)."""
    from sim.analysis.estimation import RECENT_MOMENT, Objective, recent_row, with_values
    from sim.analysis.scorecard import observed_projection_growth, projection_growth

    row = recent_row(0.005)
    assert row[["window", "moment", "se"]].values.tolist() == [["2022-2024", RECENT_MOMENT, 0.005]]
    assert row.at[0, "value"] == observed_projection_growth(2022, 2024)
    # the data-based standard error: yearly growth around its 2013-2019 trend, over sqrt(2 years)
    from sim.analysis.estimation import RECENT_TREND_SE

    years = np.arange(2013, 2020)
    yearly = np.array([observed_projection_growth(y - 1, y) for y in years])
    trend = np.polyval(np.polyfit(years, yearly, 1), years)
    assert RECENT_TREND_SE == pytest.approx(np.std(yearly - trend, ddof=2) / np.sqrt(2), abs=5e-5)
    for bad in (0.0, -0.01, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="standard error of the latest years"):
            recent_row(bad)

    window = (PatternWindow(2012, 2014),)
    earlier = pd.DataFrame({"window": ["2012-2014"] * 2, "moment": ["national_growth", "papers_growth"],
                            "value": [0.08, 0.1], "se": [0.01, 0.02]})
    observed = pd.concat([earlier, row], ignore_index=True)
    objective = Objective(observed, ESTIMATED, None, window)
    theta = [p.low + 0.3 * (p.high - p.low) for p in ESTIMATED]
    residuals = objective.residuals(theta)
    assert len(residuals) == 3
    model = projection_growth(with_values(None, objective.values(theta)), seed=objective.seed)
    assert residuals[-1] == pytest.approx((model - row.at[0, "value"]) / 0.005, rel=1e-12)
    without = Objective(earlier, ESTIMATED, None, window).residuals(theta)
    np.testing.assert_array_equal(residuals[:-1], without)  # the earlier window is unchanged


def test_recent_sensitivity_reports_each_fit_and_its_projection() -> None:
    from sim.analysis.estimation import recent_sensitivity, recent_sensitivity_markdown, with_values
    from sim.analysis.scorecard import projection_growth

    window = (PatternWindow(2012, 2014),)
    observed = pd.DataFrame({"window": ["2012-2014"], "moment": ["national_growth"], "value": [0.08], "se": [0.01]})
    table = recent_sensitivity([0.005], windows=window, observed=observed, max_evaluations=1)
    assert len(table) == 2 and np.isnan(table.at[0, "recent_se"]) and table.at[1, "recent_se"] == 0.005
    for row in table.to_dict(orient="records"):
        values = {p.key: row[p.key] for p in ESTIMATED}
        assert row["growth_2022_2024"] == pytest.approx(projection_growth(with_values(None, values)), rel=1e-12)
        assert row["q_2012_2019"] >= 0 and 0 < row["growth_2035_2050"] < 0.2
    text = recent_sensitivity_markdown(table)
    assert "| not used |" in text and "| 0.50 |" in text and "Observed 2022-2024" in text


@pytest.mark.parametrize("args, message", [
    (["--recent-sensitivity", "abc"], "expected standard errors in points"),
    (["--recent-sensitivity", "0.2,-1"], "expected positive standard errors"),
    (["--recent-se", "0.2"], "--out is required"),
])
def test_estimation_cli_refuses_bad_options(args, message, capsys) -> None:
    from sim.analysis.estimation import main

    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2 and message in capsys.readouterr().err
