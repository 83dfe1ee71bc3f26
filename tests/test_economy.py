"""The vectorised couplings, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import economy


def test_sector_output_by_hand():
    # one region, two sectors: K = (2, 6), E*N = 8, a = 0.5, A = (1, 2), p = (1, 0.5)
    # (E N / K_total)^(1-a) = (8 / 8)^0.5 = 1, so Y = p A K = (2, 6)
    out = economy.sector_output(np.array([[1.0, 2.0]]), np.array([[2.0, 6.0]]), np.array([8.0]),
                                np.array([1.0, 0.5]), 0.5)
    np.testing.assert_allclose(out, [[2.0, 6.0]])
    # doubling labour multiplies output by 2^0.5
    out2 = economy.sector_output(np.array([[1.0, 2.0]]), np.array([[2.0, 6.0]]), np.array([16.0]),
                                 np.array([1.0, 0.5]), 0.5)
    np.testing.assert_allclose(out2, out * np.sqrt(2))


def test_market_prices_by_hand():
    # demand 10 and supply 40 at elasticity 2 -> p = (10/40)^(1/2) = 0.5; infinite elasticity -> 1
    p = economy.market_prices(np.array([10.0, 5.0]), np.array([40.0, 9.0]), np.array([2.0, np.inf]))
    np.testing.assert_allclose(p, [0.5, 1.0])
    # unit elasticity: value p*X equals demand whatever the supply (crowding)
    for supply in (5.0, 50.0):
        p = economy.market_prices(np.array([20.0]), np.array([supply]), np.array([1.0]))
        assert p[0] * supply == pytest.approx(20.0)


def test_graduate_flows_by_hand():
    # two regions 1000 km apart, attraction (0, 0), distance cost 1, no home bias, mobility 0.5
    # a mover chooses home with e^0 / (e^0 + e^-1) = 0.7311
    neighbours = np.array([[0, 1], [1, 0]])
    distance = np.array([[0.0, 1000.0], [0.0, 1000.0]])
    arrivals, stayers = economy.graduate_flows(np.array([100.0, 0.0]), np.zeros(2), neighbours, distance,
                                               np.ones((2, 2)), 0.5, 1.0, 0.0)
    home = 1 / (1 + np.exp(-1))
    assert stayers[0] == pytest.approx(50 + 50 * home)
    assert arrivals[1] == pytest.approx(50 * (1 - home))
    assert arrivals.sum() == pytest.approx(100.0)


def test_no_mobility_everyone_stays():
    neighbours = np.array([[0, 1], [1, 0]])
    distance = np.array([[0.0, 10.0], [0.0, 10.0]])
    arrivals, stayers = economy.graduate_flows(np.array([7.0, 3.0]), np.array([5.0, -5.0]), neighbours, distance,
                                               np.ones((2, 2)), 0.0, 1.0, 0.0)
    np.testing.assert_allclose(arrivals, [7.0, 3.0])
    np.testing.assert_allclose(stayers, [7.0, 3.0])


@settings(max_examples=50, deadline=None)
@given(st.integers(3, 30), st.floats(0.0, 1.0), st.integers(0, 10_000))
def test_graduate_flows_conserve_people(n, mobility, seed):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(80, 130, n), rng.uniform(20, 50, n)
    neighbours, distance = economy.neighbour_lists(lon, lat, k=min(n, 5))
    graduates = rng.uniform(0, 100, n)
    arrivals, stayers = economy.graduate_flows(graduates, rng.normal(size=n), neighbours, distance,
                                               np.ones_like(distance), mobility, 0.5, 1.0)
    assert arrivals.sum() == pytest.approx(graduates.sum(), rel=1e-9)
    assert np.all(arrivals >= 0) and np.all(stayers <= graduates + 1e-9)


def test_income_migration_sums_to_zero_and_flows_to_income():
    population = np.array([10.0, 20.0, 30.0])
    income = np.array([1.0, 2.0, 4.0])
    moves = economy.income_migration(population, income, 0.01)
    assert moves.sum() == pytest.approx(0.0, abs=1e-12)
    assert moves[0] < 0 < moves[2]


def test_neighbour_lists_put_each_region_first_and_sort_by_distance():
    lon = np.array([100.0, 101.0, 110.0, 120.0])
    lat = np.array([30.0, 30.0, 30.0, 30.0])
    index, distance = economy.neighbour_lists(lon, lat, k=3)
    np.testing.assert_array_equal(index[:, 0], np.arange(4))
    assert index[0, 1] == 1 and index[3, 1] == 2
    assert np.all(np.diff(distance, axis=1) >= 0)
    # one degree of longitude at 30 N is about 96.3 km
    assert distance[0, 1] == pytest.approx(96.3, rel=0.01)


def test_neighbour_lists_kdtree_matches_dense():
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(80, 130, 60), rng.uniform(20, 50, 60)
    dense_index, dense_distance = economy.neighbour_lists(lon, lat, k=60)
    tree_index, tree_distance = economy.neighbour_lists(lon, lat, k=10)
    np.testing.assert_allclose(tree_distance, dense_distance[:, :10], rtol=1e-9)


def test_spillover_by_hand():
    # region 0 receives share * exp(-d/D) * R_1 = 0.5 * exp(-1) * 4 from region 1
    neighbours = np.array([[0, 1], [1, 0]])
    distance = np.array([[0.0, 100.0], [0.0, 100.0]])
    stock = np.array([[2.0], [4.0]])
    pool = economy.spillover_pool(stock, neighbours, distance, 0.5, np.full((2, 2), 100.0))
    np.testing.assert_allclose(pool, [[0.5 * np.exp(-1) * 4], [0.5 * np.exp(-1) * 2]])


def test_productivity_growth_by_hand():
    # two regions, one sector; knowledge stocks grow by log 0.1 and 0.3; region 0 is half the frontier
    growth = economy.productivity_growth(np.array([[1.0], [2.0]]), np.array([[0.1], [0.3]]),
                                         np.array([[1.0], [2.0]]), np.ones(2), 0.01, np.array([0.2]), 0.1)
    expected0 = 0.01 + 0.2 * 1.0 * 0.1 + 0.1 * np.log(2.0)
    expected1 = 0.01 + 0.2 * 2.0 * 0.3
    np.testing.assert_allclose(growth[:, 0], [expected0, expected1])


def test_the_knowledge_elasticity_is_capped():
    growth = economy.productivity_growth(np.ones((1, 2)), np.array([[0.1, 0.1]]), np.array([[1.0, 10.0]]),
                                         np.ones(1), 0.0, np.array([0.5, 0.5]), 0.0, max_elasticity=1.0)
    np.testing.assert_allclose(growth, [[0.05, 0.1]])


def test_a_knowledge_stock_that_stops_growing_adds_no_growth():
    growth = economy.productivity_growth(np.ones((3, 2)), np.zeros((3, 2)), 5.0 * np.ones((3, 2)), np.ones(3),
                                         0.0, 0.5, 0.1)
    np.testing.assert_allclose(growth, 0.0)


def test_allocate_investment_keeps_totals_and_tilts_to_returns():
    capital = np.array([[1.0, 1.0]])
    out = economy.allocate_investment(np.array([10.0]), capital, np.array([[1.0, 3.0]]), 1.0)
    assert out.sum() == pytest.approx(10.0)
    assert out[0, 1] == pytest.approx(7.5)  # weights 1*0.5 and 1*1.5
    flat = economy.allocate_investment(np.array([10.0]), capital, np.array([[1.0, 3.0]]), 0.0)
    np.testing.assert_allclose(flat, [[5.0, 5.0]])


def test_research_output_by_hand():
    # z R^b (R/R_ref)^g with z=2, R=4, b=0.5, g=1, R_ref=2 -> 2 * 2 * 2 = 8
    out = economy.research_output(np.array([4.0]), np.array([2.0]), 0.5, 1.0, 2.0)
    assert out[0] == pytest.approx(8.0)
