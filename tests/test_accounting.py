"""Accounting identities: real output at base-year prices, costs that come out of something, budgets
never exceeded, placebos that spend the same money as their strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS

from sim import RegionalGrowthModel, load_scenario
from sim.model.strategies import Placebo


def _run(path: str, end: int = 2030, **values) -> RegionalGrowthModel:
    scenario = load_scenario(SCENARIOS / path).with_values({"run.end_year": end, **values})
    return RegionalGrowthModel(scenario, seed=3).run()


@pytest.fixture(scope="module")
def hefei():
    return _run("hefei.toml")


def test_real_gdp_equals_nominal_in_the_base_year_and_sums_its_sectors(hefei) -> None:
    national = hefei.national_frame()
    first = national.iloc[0]
    assert first["gdp_real_cny_bn"] == pytest.approx(first["gdp_nominal_cny_bn"], rel=1e-12)
    province = hefei.province_frame()
    sectors = [c for c in province.columns if c.startswith("output_") and c.endswith("_cny_bn")]
    np.testing.assert_allclose(province[sectors].sum(axis=1), province["gdp_nominal_cny_bn"], rtol=1e-10)
    base = province[province["year"] == 2022]
    np.testing.assert_allclose(base["gdp_real_cny_bn"], base["gdp_nominal_cny_bn"], rtol=1e-12)
    # chained volumes are not additive: the provinces' sum stays close to the national chain
    by_year = province.groupby("year")["gdp_real_cny_bn"].sum().to_numpy()
    np.testing.assert_allclose(by_year, national["gdp_real_cny_bn"], rtol=0.02)
    # prices move in the consumer segments, so nominal and real part after the base year
    assert not np.allclose(national["gdp_real_cny_bn"].iloc[1:], national["gdp_nominal_cny_bn"].iloc[1:])


def test_real_growth_is_a_chained_volume_index() -> None:
    model = RegionalGrowthModel(load_scenario(SCENARIOS / "consumer_niche.toml").with_values({"run.end_year": 2024}),
                                seed=1)
    model.step()
    quantities, prices = model.state.real_output.copy(), model.state.price.copy()
    level = model.state.gdp_real_national
    model.step()
    expected = level * (model.state.real_output.sum(axis=0) @ prices) / (quantities.sum(axis=0) @ prices)
    assert model.state.gdp_real_national == pytest.approx(expected, rel=1e-12)


def test_growth_and_inequality_use_the_real_series(hefei) -> None:
    national = hefei.national_frame()
    growth = national["gdp_real_cny_bn"].pct_change().iloc[1:].to_numpy()
    np.testing.assert_allclose(national["gdp_growth"].iloc[1:], growth, rtol=1e-12)
    province = hefei.province_frame()
    last = province[province["year"] == 2030]
    np.testing.assert_allclose(last["gdp_per_capita_cny"], 1000 * last["gdp_real_cny_bn"] / last["population_m"])
    from sim.metrics import gini

    assert national["gini"].iloc[-1] == pytest.approx(gini(last["gdp_per_capita_cny"], last["population_m"]))


def test_costs_equal_spending_and_come_out_of_investment(hefei) -> None:
    province = hefei.province_frame()
    later = province[province["year"] > 2022]
    # the science budget is financed by the provinces (own part) and the centre's pool (by GDP)
    per_year = later.groupby("year")[["own_science_cny_bn", "central_tax_cny_bn", "rd_budget_cny_bn"]].sum()
    np.testing.assert_allclose(per_year["own_science_cny_bn"] + per_year["central_tax_cny_bn"],
                               per_year["rd_budget_cny_bn"], rtol=1e-9)
    # what a province pays is investment or consumption given up
    due = (later["own_science_cny_bn"] + later["central_tax_cny_bn"] + later["instruments_cny_bn"]
           - later["proceeds_cny_bn"])
    np.testing.assert_allclose(later["investment_cut_cny_bn"] + later["consumption_cut_cny_bn"], due, rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(later["cost_provincial_cny_bn"], due, rtol=1e-9, atol=1e-9)
    hefei_rows = later[later["strategy"] == "hefei"]
    assert (hefei_rows["instruments_cny_bn"] > 0).all(), "the guidance fund costs money every year"
    fund_share = hefei.scenario.strategy.hefei.fund_share
    np.testing.assert_allclose(hefei_rows["instruments_cny_bn"], fund_share * hefei_rows["rd_budget_cny_bn"],
                               rtol=1e-9)


def test_no_province_spends_more_science_money_than_its_budget() -> None:
    for path in ("hefei.toml", "cas_branch.toml", "foreign_multinational.toml", "consumer_niche.toml", "mixed.toml"):
        province = _run(path, end=2035).province_frame()
        assert (province["rd_spent_cny_bn"] <= province["rd_budget_cny_bn"] * (1 + 1e-9) + 1e-9).all(), path
        totals = province.groupby("province", observed=True)[["rd_spent_cny_bn", "rd_budget_cny_bn"]].sum()
        assert (totals["rd_spent_cny_bn"] <= totals["rd_budget_cny_bn"] * (1 + 1e-9)).all(), path


def test_switching_costs_off_raises_investment() -> None:
    with_costs = _run("baseline.toml", end=2026).national_frame()
    without = _run("baseline.toml", end=2026, **{"economy.science_from_investment": False}).national_frame()
    assert (without["investment_cny_bn"].iloc[2:] > with_costs["investment_cny_bn"].iloc[2:]).all()


@pytest.mark.parametrize("strategy", ["hefei", "foreign_multinational", "consumer_niche", "cas_branch"])
def test_a_placebo_spends_the_same_money_as_its_strategy_as_business_as_usual(strategy) -> None:
    real = _run(f"{strategy}.toml", end=2024)
    placebo = _run(f"{strategy}.toml", end=2024, **{"strategies.placebo_of": [strategy]})
    provinces = [p for p in placebo.provinces if isinstance(p.strategy, Placebo)]
    assert provinces and all(p.strategy.name == f"{strategy}_placebo" for p in provinces)
    frame_real = real.province_frame().set_index(["year", "province"])
    frame_placebo = placebo.province_frame().set_index(["year", "province"])
    rows = frame_placebo["strategy"] == f"{strategy}_placebo"
    # the same rule: instruments are the same share of the (slightly different) budget
    ratio_real = (frame_real.loc[rows[rows].index, "instruments_cny_bn"]
                  / frame_real.loc[rows[rows].index, "rd_budget_cny_bn"]).dropna()
    ratio_placebo = (frame_placebo.loc[rows, "instruments_cny_bn"] / frame_placebo.loc[rows, "rd_budget_cny_bn"]).dropna()
    ratio_real = ratio_real[ratio_real.index.get_level_values("year") > 2022]
    ratio_placebo = ratio_placebo[ratio_placebo.index.get_level_values("year") > 2022]
    np.testing.assert_allclose(ratio_placebo.to_numpy(), ratio_real.to_numpy(), rtol=1e-9)
    # the central claim follows the same rule too (cas_branch's match), spent on existing institutes
    kinds = {inst.kind for inst in placebo.institute_agents}
    assert kinds <= {"research_base", "university"}, kinds
    assert (placebo.state.transfer == 1.0).all()


def test_multinational_labs_grow_with_the_economy() -> None:
    model = _run("foreign_multinational.toml", end=2040)
    labs = [inst for inst in model.institute_agents if inst.kind == "multinational_lab"]
    assert labs, "labs arrive"
    events = model.events_frame()
    assert (events["type"] == "institute_founded").any()
    size = model.scenario.strategy.foreign_multinational.lab_size
    assert model.economy_scale > 1.5
    late = [inst for inst in labs if inst.founded >= 2035]
    if late:
        registry = model.registry
        founded_capacity = [registry.capacity[inst.row] for inst in late]
        assert max(founded_capacity) > size, "a lab founded late is larger than a base-year lab"
    province = model.province_frame()
    assert province["foreign_money_cny_bn"].sum() > 0


def test_equal_marginal_returns_weights_are_neutral_on_average() -> None:
    model = RegionalGrowthModel(load_scenario(SCENARIOS / "baseline.toml"))
    from sim.vocabulary import FIELD_SECTOR

    weights = model.knowledge_weights[FIELD_SECTOR]
    output = model.state.sector_output[:, FIELD_SECTOR].sum(axis=0)
    assert np.dot(weights, output) / output.sum() == pytest.approx(1.0)
    uniform = RegionalGrowthModel(load_scenario(SCENARIOS / "baseline.toml").with_values(
        {"economy.field_returns": "uniform"}))
    assert (uniform.knowledge_weights == 1.0).all()
    assert isinstance(pd.Series(weights).max(), float)


def test_switch_off_decomposition_compares_like_with_like() -> None:
    """The ODD 6c table's runs: baseline against itself is zero; switching the fund off removes its money."""
    from sim.analysis.decomposition import RULES, VARIANTS, Variant, decomposition, markdown

    variants = [Variant("baseline", "baseline"), VARIANTS[0], VARIANTS[2]]
    table = decomposition(variants, seeds=(1, 2), end_year=2027, progress=False)
    assert list(table["rule"]) == list(RULES) * 3
    itself = table[table["label"] == "baseline"]
    assert np.allclose(itself[["gdp_pct", "gini", "theil_between", "instruments_tn"]], 0.0)
    assert itself["return_per_yuan"].isna().all()
    hefei = table[table["label"] == "hefei"].set_index("rule")
    no_fund = table[table["label"] == VARIANTS[2].label].set_index("rule")
    assert (hefei["instruments_tn"] > 0.05).all()
    assert np.allclose(no_fund["instruments_tn"], 0.0)
    # the return is real GDP gained per yuan of instruments: its sign follows the GDP gained
    assert np.isfinite(hefei["return_per_yuan"]).all()
    text = markdown(table)
    assert text.count("\n| hefei |") == 1 and "Baseline at the end year: Gini" in text
