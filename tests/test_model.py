"""The model: base-year reproduction, reproducibility, invariants, synthetic regions, Mesa."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS

from sim import RegionalGrowthModel, load_scenario
from sim.data import load_provinces
from sim.data.national import national_population_growth
from sim.experiments.single import run_scenario


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


def test_base_year_reproduces_the_data(baseline):
    model = RegionalGrowthModel(baseline)
    province = model.province_frame()
    table = load_provinces().set_index("province")
    first = province[province["year"] == 2022].set_index("province")
    names = list(table.index)
    np.testing.assert_allclose(first.loc[names, "gdp_real_cny_bn"], table["gdp_100m_yuan"] / 10, rtol=1e-3)
    np.testing.assert_allclose(first.loc[names, "population_m"], table["population_10k"] / 100, rtol=1e-3)
    np.testing.assert_allclose(first.loc[names, "research_output"], table["sci_papers"], rtol=1e-3)
    np.testing.assert_allclose(first.loc[names, "graduates_k"], table["graduates_10k"] * 10, rtol=1e-3)
    # research output computed from capacity (not copied) also matches after calibration
    model.produce_research()
    np.testing.assert_allclose(model.state.papers, table.loc[model.province_names, "sci_papers"], rtol=1e-3)


def test_same_seed_same_tables_different_seed_different(baseline):
    a = run_scenario(baseline, seed=11)
    b = run_scenario(baseline, seed=11)
    c = run_scenario(baseline, seed=12)
    pd.testing.assert_frame_equal(a.national, b.national)
    pd.testing.assert_frame_equal(a.province, b.province)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not a.province["gdp_real_cny_bn"].equals(c.province["gdp_real_cny_bn"])


@pytest.mark.parametrize("name", ["baseline", "hefei", "foreign_multinational", "consumer_niche", "mixed"])
def test_invariants_hold_every_year(name):
    model = RegionalGrowthModel(load_scenario(SCENARIOS / f"{name}.toml"), seed=3)
    people = model.state.population.sum()
    while model.running:
        before = model.state.population.sum()
        model.step()
        model.check_invariants()
        state = model.state
        # graduate migration conserves people
        assert state.graduate_arrivals.sum() == pytest.approx(state.graduates.sum(), rel=1e-9)
        # general migration moves people without creating them: only natural change alters the total
        assert state.population.sum() == pytest.approx(before * (1 + national_population_growth(model.year)),
                                                       rel=1e-9)
        assert state.net_migration.sum() == pytest.approx(0.0, abs=1e-9 * people)
        # spending never exceeds budget, province by province
        assert np.all(state.spent <= state.budget * (1 + 1e-9) + 1e-12)
        assert np.all(state.skilled <= state.workers)
    assert model.year == model.end_year


def test_synthetic_regions_run_and_scale():
    model = RegionalGrowthModel(overrides=["run.provinces=\"synthetic:200\"", "run.end_year=2027"], seed=4).run()
    frame = model.province_frame()
    assert frame["province"].nunique() == 200
    assert len(frame) == 200 * 6
    assert model.neighbours.shape == (200, 48)
    assert np.all(model.neighbours[:, 0] == np.arange(200))
    model.check_invariants()


def test_synthetic_regions_depend_on_the_seed():
    a = RegionalGrowthModel(overrides=['run.provinces="synthetic:20"'], seed=1)
    b = RegionalGrowthModel(overrides=['run.provinces="synthetic:20"'], seed=2)
    assert not np.allclose(a.data.gdp_cny_bn, b.data.gdp_cny_bn)


def test_agents_are_mesa_agents_and_read_the_arrays(baseline):
    model = RegionalGrowthModel(baseline)
    provinces = model.agents_by_type[type(model.provinces[0])]
    assert len(provinces) == 31
    anhui = next(p for p in model.provinces if p.name == "Anhui")
    assert anhui.capital == "Hefei" and anhui.region == "central" and not anhui.coastal
    assert anhui.gdp_real_cny_bn == pytest.approx(4504.5, rel=1e-3)
    assert anhui.gdp_per_capita_cny == pytest.approx(1000 * anhui.gdp_real_cny_bn / anhui.population_m)
    assert {inst.kind for inst in anhui.institutes} == {"research_base", "university"}
    model.step()
    assert anhui.gdp_nominal_cny_bn == pytest.approx(float(model.state.gdp[anhui.index]))
    assert anhui.gdp_real_cny_bn == pytest.approx(float(model.state.gdp_real[anhui.index]))


def test_keyword_parameters_and_mesa_batch_run():
    model = RegionalGrowthModel(migration__graduate_mobility=0.6, run__end_year=2025)
    assert model.scenario.migration.graduate_mobility == 0.6
    results = mesa.batch_run(RegionalGrowthModel,
                             parameters={"migration__graduate_mobility": [0.1, 0.6], "run__end_year": 2025},
                             iterations=1, max_steps=10, number_processes=1, display_progress=False)
    frame = pd.DataFrame(results)
    assert set(frame["migration__graduate_mobility"]) == {0.1, 0.6}
    assert {"gdp_real_cny_bn", "gini", "research_output"} <= set(frame.columns)
    # the DataCollector's row of step k is year start + k (row 0 the base year); mesa 3.3's batch_run
    # returns step model.steps - 1 at the end (mesa #2514), later versions the last step
    assert (frame["year"] == 2022 + frame["Step"]).all()
    assert frame["year"].max() in (2024, 2025)


@pytest.mark.parametrize("scenario, overrides", [
    ("baseline.toml", ["run.end_year=2030"]),
    ("hefei.toml", ["imitation.enabled=true", "run.end_year=2034"]),
    ("baseline.toml", ["run.provinces=synthetic:40", "run.end_year=2027"]),
])
def test_without_the_datacollector_the_tables_and_the_last_row_are_the_same_numbers(scenario, overrides):
    """``datacollector=False`` (ensembles reading end-year outcomes) changes no number: the tables are
    equal and :meth:`national_row` is the national table's last row, value for value."""
    cfg = load_scenario(SCENARIOS / scenario, overrides)
    full = RegionalGrowthModel(cfg, seed=3).run()
    lean = RegionalGrowthModel(cfg, seed=3, datacollector=False).run()
    assert full.datacollector is not None and lean.datacollector is None
    row, last = lean.national_row(), full.national_rows[-1]
    assert list(row) == list(last)
    assert all(row[k] == last[k] or (np.isnan(row[k]) and np.isnan(last[k])) for k in row)
    assert full.national_row() == last  # also after the DataCollector has filled every year
    pd.testing.assert_frame_equal(lean.national_frame(), full.national_frame(), check_exact=True)
    pd.testing.assert_frame_equal(lean.province_frame(), full.province_frame(), check_exact=True)
    pd.testing.assert_frame_equal(lean.events_frame(), full.events_frame(), check_exact=True)
    early = RegionalGrowthModel(cfg, seed=3, datacollector=False)  # the base year alone: growth unknown
    assert np.isnan(early.national_row()["gdp_growth"])
    early.step()
    assert early.national_row()["gdp_growth"] == full.national_rows[1]["gdp_growth"]


def test_datacollector_has_a_row_for_the_base_year_then_one_per_step(baseline):
    model = RegionalGrowthModel(baseline, seed=5, run__end_year=2026)
    first = model.datacollector.get_model_vars_dataframe()
    assert list(first["year"]) == [2022]
    assert first["gdp_real_cny_bn"].iloc[0] == pytest.approx(model.state.gdp_real.sum())
    model.run()
    collected = model.datacollector.get_model_vars_dataframe()
    national = model.national_frame()
    assert list(collected["year"]) == list(national["year"]) == list(range(2022, 2027))
    np.testing.assert_array_equal(collected["gini"], national["gini"])
    np.testing.assert_array_equal(collected["gdp_real_cny_bn"], national["gdp_real_cny_bn"])
    assert (collected["seed"] == 5).all()
    steps = mesa.batch_run(RegionalGrowthModel, {"scenario": str(SCENARIOS / "baseline.toml"), "seed": 5,
                                                   "run__end_year": 2026},
                           data_collection_period=1, number_processes=1, display_progress=False)
    assert [row["Step"] for row in steps][:2] == [0, 1]
    assert [row["year"] for row in steps][:2] == [2022, 2023]


def test_no_seed_draws_fresh_entropy_and_records_it():
    scenario = load_scenario(SCENARIOS / "foreign_multinational.toml", ["run.end_year=2030"])
    a, b = RegionalGrowthModel(scenario), RegionalGrowthModel(scenario)
    assert isinstance(a.seed, int) and a.seed != b.seed and a.seed != scenario.run.seed
    assert a.seed_sequence.entropy == a.seed
    a.run()
    again = RegionalGrowthModel(scenario, seed=a.seed).run()  # the recorded seed reproduces the run
    pd.testing.assert_frame_equal(a.province_frame(), again.province_frame())
    pd.testing.assert_frame_equal(a.events_frame(), again.events_frame())
    assert RegionalGrowthModel(scenario, seed=7).seed == 7
    with pytest.raises(ValueError, match="either seed or rng"):
        RegionalGrowthModel(scenario, seed=1, rng=np.random.SeedSequence(1))


def test_mesa_batch_run_iterations_are_different_runs():
    results = mesa.batch_run(RegionalGrowthModel, {"scenario": str(SCENARIOS / "foreign_multinational.toml"),
                                                   "run__end_year": 2030},
                             iterations=5, number_processes=1, display_progress=False)
    frame = pd.DataFrame(results)
    assert len(frame) == 5 and frame["seed"].nunique() == 5
    assert frame["gdp_real_cny_bn"].nunique() == 5, "fresh entropy per iteration: five different runs"


def test_scenario_seed_applies_to_sim_run_and_run_scenario(tmp_path):
    from sim.cli import main

    scenario = load_scenario(SCENARIOS / "foreign_multinational.toml", ["run.end_year=2030"])
    a = run_scenario(scenario)
    b = run_scenario(scenario)
    pd.testing.assert_frame_equal(a.province, b.province)
    assert a.runs["seed_entropy"].iloc[0] == str(scenario.run.seed)
    seeded = RegionalGrowthModel(scenario, seed=scenario.run.seed).run()
    np.testing.assert_array_equal(a.province["gdp_real_cny_bn"], seeded.province_frame()["gdp_real_cny_bn"])
    assert main(["run", str(SCENARIOS / "foreign_multinational.toml"), "--set", "run.end_year=2030",
                 "--out", str(tmp_path / "run")]) == 0
    written = pd.read_parquet(tmp_path / "run" / "province")
    np.testing.assert_array_equal(written["gdp_real_cny_bn"], a.province["gdp_real_cny_bn"])


def test_megaproject_founds_an_institute_and_logs_it():
    model = RegionalGrowthModel(overrides=[
        'events=[{type="megaproject", year=2024, province="Guizhou", field="ict_consumer", capacity=4.0, '
        'name="FAST"}]', "run.end_year=2025"], seed=1).run()
    events = model.events_frame()
    row = events[events["type"] == "institute_founded"].iloc[0]
    assert row["year"] == 2024 and row["province"] == "Guizhou" and "FAST" in row["detail"]
    guizhou = next(p for p in model.provinces if p.name == "Guizhou")
    assert any(inst.kind == "megafacility" for inst in guizhou.institutes)


def test_hindcast_start_year_uses_history():
    model = RegionalGrowthModel(overrides=["run.start_year=2012", "run.end_year=2016", "investment.target_year=2016",
                                           "investment.observed_rd=true"], seed=1)
    assert model.year == 2012
    model.run()
    # driven by observed R&D: the national budget in 2015 equals the observed total
    national = model.national_frame().set_index("year")
    assert national.loc[2015, "rd_budget_cny_bn"] == pytest.approx(model.data.observed_rd[2015].sum(), rel=1e-9)


def test_first_year_knowledge_intensity_is_measured_from_the_year_before():
    """Every year compares this year's knowledge stock over last year's GDP with the same ratio a year
    earlier; the first year's earlier ratio divides by the observed GDP of the year before the start (real
    growth from the GRP index), not the start year's, or year one's productivity jumps."""
    from sim.data import load_grp_index, national_real_growth

    for start in (2012, 2022):
        model = RegionalGrowthModel(overrides=[f"run.start_year={start}", f"investment.target_year={start + 8}"],
                                    seed=1)
        index = load_grp_index().set_index(["province", "year"])["grp_index"]
        growth = np.array([index[(name, start)] / 100 - 1 for name in model.province_names])
        np.testing.assert_allclose(model.data.prior_growth, growth)
        stock = model.knowledge_stock()[1]
        np.testing.assert_allclose(model.knowledge_previous,
                                   stock / (model.state.gdp / (1 + growth))[:, None], rtol=1e-12)
    # synthetic regions take the nation's real growth of the start year (2022: 3.0 % published by NBS)
    assert national_real_growth(2022) == pytest.approx(0.030, abs=0.002)
    synthetic = RegionalGrowthModel(overrides=['run.provinces="synthetic:40"'], seed=3)
    np.testing.assert_allclose(synthetic.data.prior_growth, national_real_growth(2022))


def test_budgets_stay_positive_over_long_horizons_and_high_intensity():
    scenario = load_scenario(SCENARIOS / "mixed.toml", ["investment.rd_intensity_target=10",
                                                        "migration.graduate_mobility=1.0", "run.end_year=2100"])
    model = RegionalGrowthModel(scenario, seed=2)
    while model.running:
        gdp_before = model.state.gdp.sum()  # budgets are set on last year's GDP
        model.step()
        assert np.all(model.state.budget > 0)
        # the national budget follows the intensity path exactly (before strategies' extra money)
        national = model.national_intensity(model.year) * gdp_before
        assert model.state.central.sum() == pytest.approx(model.scenario.investment.central_share * national,
                                                          rel=1e-9)
    model.check_invariants()


def test_megacity_on_synthetic_regions_uses_the_largest_economies():
    model = RegionalGrowthModel(load_scenario(SCENARIOS / "teaching_synthetic.toml",
                                              ['strategies.assign={east="megacity"}']), seed=1)
    largest = np.argsort(-model.data.gdp_cny_bn)[:3]
    assert set(np.flatnonzero(model.megacities)) == set(largest)
    model.run()
    model.check_invariants()


def test_finished_models_are_freed():
    import gc
    import weakref

    model = RegionalGrowthModel(overrides=["run.end_year=2024"], seed=1).run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_mesa_batch_run_with_numpy_sweeps() -> None:
    results = mesa.batch_run(RegionalGrowthModel,
                             {"economy__catch_up_rate": np.linspace(0.01, 0.03, 3), "run__end_year": 2025},
                             iterations=1, max_steps=10, number_processes=1, display_progress=False)
    assert len(results) == 3
    by_rate = {round(float(row["economy__catch_up_rate"]), 6): row["gdp_real_cny_bn"] for row in results}
    assert sorted(by_rate) == [0.01, 0.02, 0.03]
    assert len(set(by_rate.values())) == 3, "each swept value changes the run"


def test_external_tools_pass_numpy_values_to_run_scenario() -> None:
    plain = run_scenario(None, seed=3, values={"run.end_year": 2026, "economy.catch_up_rate": 0.02})
    numpy = run_scenario(None, seed=np.int64(3), values={"run.end_year": np.int64(2026),
                                                        "economy.catch_up_rate": np.float64(0.02)})
    pd.testing.assert_frame_equal(plain.national, numpy.national)
    assert numpy.scenario.economy.catch_up_rate == 0.02
    model = RegionalGrowthModel(None, seed=3, run__end_year=np.int64(2026), economy__catch_up_rate=np.float64(0.02))
    model.run()
    assert model.national_frame()["gdp_real_cny_bn"].iloc[-1] == pytest.approx(plain.national["gdp_real_cny_bn"].iloc[-1])


def test_tables_are_the_year_by_year_numbers_of_the_province_records():
    """The tables are derived at the end from each year's per-province record: every national total is
    the sum of that year's province rows (in province order, bit for bit), per-person figures are the
    quotients of the recorded columns, and the per-province columns cannot be changed in place."""
    model = RegionalGrowthModel(load_scenario(SCENARIOS / "mixed.toml"), seed=3, run__end_year=2030).run()
    national, province = model.national_frame(), model.province_frame()
    for column in ("gdp_nominal_cny_bn", "population_m", "research_output", "rd_budget_cny_bn", "skilled_m",
                   "graduates_k", "cost_provincial_cny_bn", "investment_cny_bn"):
        for year, total in zip(national["year"], national[column], strict=True):
            assert total == province.loc[province["year"] == year, column].to_numpy().sum(), (column, year)
    np.testing.assert_array_equal(province["gdp_per_capita_cny"],
                                  1000.0 * province["gdp_real_cny_bn"] / province["population_m"])
    np.testing.assert_array_equal(province["cost_provincial_cny_bn"],
                                  province["own_science_cny_bn"] + province["central_tax_cny_bn"]
                                  + province["instruments_cny_bn"] - province["proceeds_cny_bn"])
    ranks = province.groupby("year", observed=True)["research_output"].rank(ascending=False, method="first")
    np.testing.assert_array_equal(province["research_rank"], ranks.astype(np.int64))
    collected = model.datacollector.get_model_vars_dataframe()
    for column in ("gini", "theil_between_region", "research_output", "interior_research_share"):
        np.testing.assert_array_equal(collected[column], national[column])
    columns = model.province_columns(categorical=False)
    with pytest.raises(ValueError, match="read-only"):
        columns["gdp_real_cny_bn"][0] = 0.0
    assert model.national_rows[-1]["year"] == 2030 and type(model.national_rows[-1]["gini"]) is float


def test_province_text_columns_are_each_run_s_own(baseline):
    """The province, capital and (unchanged) strategy columns of runs of the same provinces and horizon
    are built once and handed out as copies: changing one run's column changes no other run's."""
    cfg = load_scenario(SCENARIOS / "baseline.toml", ["run.end_year=2024"])
    first = RegionalGrowthModel(cfg, seed=1).run().province_columns(categorical=False)
    first["capital"][0] = "changed"
    first["province"][1] = "changed"
    first["strategy"][2] = "changed"
    second = RegionalGrowthModel(cfg, seed=2).run().province_columns(categorical=False)
    table = load_provinces().set_index("province")
    names = list(table.index)
    assert list(second["province"][:31]) == names
    assert list(second["capital"][:31]) == list(table["capital"])
    assert set(second["strategy"]) == {"baseline"}
