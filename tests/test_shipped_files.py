"""Every shipped scenario runs; every shipped experiment file validates; data tables are sound."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import EXPERIMENTS, SCENARIOS

from sim import RegionalGrowthModel, load_scenario
from sim.data import load_adjacency, load_endowments, load_history, load_provinces, load_tile_grid


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_scenario_runs(path):
    text = path.read_text()
    assert text.startswith("#"), "a scenario opens with a comment telling its story"
    scenario = load_scenario(path)
    model = RegionalGrowthModel(scenario, seed=1)
    for _ in range(3):
        model.step()
        model.check_invariants()


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.toml")), ids=lambda p: p.name)
def test_every_experiment_validates(path):
    experiment = pytest.importorskip("sim.experiments.spec")
    loaded = experiment.load_experiment(path)
    assert loaded is not None


def test_province_tables_are_complete_and_consistent():
    provinces = load_provinces()
    assert len(provinces) == 31 and provinces["province"].is_unique
    assert set(provinces["region"]) == {"east", "central", "west", "northeast"}
    assert provinces["coastal"].sum() == 12
    history = load_history()
    assert set(history["year"]) == set(range(2010, 2023))
    assert not history.isna().any().any()
    latest = history[history["year"] == 2022].set_index("province").loc[provinces["province"]]
    pd.testing.assert_series_equal(latest["gdp_100m_yuan"].reset_index(drop=True),
                                   provinces["gdp_100m_yuan"].reset_index(drop=True), check_names=False)
    assert provinces["heis"].sum() == 2760
    assert len(load_adjacency()) == 68
    grid = load_tile_grid()
    assert len(grid) == 31 and not grid.duplicated(["row", "col"]).any()
    endowments = load_endowments()
    assert endowments.drop(columns="province").stack().between(0, 1).all()


def test_sources_name_every_column():
    from importlib import resources

    text = resources.files("sim").joinpath("data", "SOURCES.md").read_text()
    for column in load_provinces().columns:
        assert f"`{column}`" in text, column
