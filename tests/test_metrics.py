"""Tests for sim.metrics: hand-computed cases, identities and property tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.metrics import (
    BetaConvergence,
    TheilDecomposition,
    beta_convergence,
    coast_interior_ratio,
    coefficient_of_variation,
    gini,
    inequality_summary,
    interior_in_top,
    interior_share,
    max_min_ratio,
    rank_descending,
    theil,
    theil_decomposition,
)

LN2 = math.log(2.0)
LN3 = math.log(3.0)


# ---------------------------------------------------------------------------
# hand-computed cases
# ---------------------------------------------------------------------------


def test_two_regions_equal_population_by_hand() -> None:
    # y = (1, 3), equal weights, mu = 2.
    # Gini = sum_ij |yi - yj| / (2 n^2 mu) = (2 + 2) / (2 * 4 * 2) = 4/16 = 0.25.
    #   Lorenz check: F = (.5, 1), L = (.25, 1):
    #   G = .5*[(.5-.25) + 0] + .5*[(1-1) + (.5-.25)] = .125 + .125 = .25
    # Theil: s = (1/4, 3/4); T = 1/4 ln(1/2) + 3/4 ln(3/2) = 3/4 ln3 - ln2 ~= 0.130812
    # CV: population std = sqrt(((1-2)^2 + (3-2)^2)/2) = 1 -> CV = 1/2
    y = [1.0, 3.0]
    assert gini(y) == pytest.approx(0.25, abs=1e-15)
    assert theil(y) == pytest.approx(0.75 * LN3 - LN2, abs=1e-15)
    assert theil(y) == pytest.approx(0.130812035941137, abs=1e-14)
    assert coefficient_of_variation(y) == pytest.approx(0.5, abs=1e-15)
    assert max_min_ratio(y) == 3.0


def test_weighted_two_regions_by_hand() -> None:
    # y = (1, 4), w = (3, 1), W = 4, mu = (3*1 + 1*4)/4 = 7/4.
    # Gini = sum_ij w_i w_j |yi - yj| / (2 W^2 mu) = 2*3*1*3 / (2*16*7/4) = 18/56 = 9/28.
    # Theil: s = (3/7, 4/7); T = 3/7 ln(4/7) + 4/7 ln(16/7).
    # CV: var = (3*(3/4)^2 + (9/4)^2)/4 = (27/16 + 81/16)/4 = 27/16;
    #     std = sqrt(27)/4; CV = (sqrt(27)/4)/(7/4) = 3 sqrt(3)/7 ~= 0.742307.
    y, w = [1.0, 4.0], [3.0, 1.0]
    assert gini(y, w) == pytest.approx(9 / 28, abs=1e-15)
    assert theil(y, w) == pytest.approx(
        3 / 7 * math.log(4 / 7) + 4 / 7 * math.log(16 / 7), abs=1e-15
    )
    assert coefficient_of_variation(y, w) == pytest.approx(
        3 * math.sqrt(3) / 7, abs=1e-15
    )


def test_theil_decomposition_by_hand() -> None:
    # y = (1, 3, 2, 6), unit weights, groups A = {1, 3}, B = {2, 6}.
    # Y = 12, mu = 3.  Y_A = 4, mu_A = 2, S_A = 1/3;  Y_B = 8, mu_B = 4, S_B = 2/3.
    # T_A = 1/4 ln(1/2) + 3/4 ln(3/2) = 3/4 ln3 - ln2; T_B = 2/8 ln(2/4) + 6/8 ln(6/4) = T_A.
    # within  = (1/3 + 2/3) * T_A = 3/4 ln3 - ln2                       ~= 0.130812
    # between = 1/3 ln(2/3) + 2/3 ln(4/3) = 5/3 ln2 - ln3               ~= 0.056633
    # total   = 1/12 ln(1/3) + 3/12 ln(1) + 2/12 ln(2/3) + 6/12 ln(2)
    #         = 2/3 ln2 - 1/4 ln3 = between + within                    ~= 0.187445
    # Gini: sorted (1,2,3,6), sum_{i<j}|diff| = (1+2+5) + (1+4) + 3 = 16,
    #       G = 2*16 / (2 * 4^2 * 3) = 1/3.
    y = np.array([1.0, 3.0, 2.0, 6.0])
    groups = np.array([0, 0, 1, 1])
    dec = theil_decomposition(y, None, groups)
    assert isinstance(dec, TheilDecomposition)
    assert dec.within == pytest.approx(0.75 * LN3 - LN2, abs=1e-15)
    assert dec.between == pytest.approx(5 / 3 * LN2 - LN3, abs=1e-15)
    assert dec.total == pytest.approx(2 / 3 * LN2 - 0.25 * LN3, abs=1e-15)
    assert dec.total == pytest.approx(0.187445, abs=1e-6)
    assert dec.total == pytest.approx(theil(y), abs=1e-15)
    assert gini(y) == pytest.approx(1 / 3, abs=1e-15)
    # string labels give the same result as integer codes
    labels = np.array(["east", "east", "west", "west"])
    assert theil_decomposition(y, None, labels) == pytest.approx(tuple(dec), abs=1e-15)


def test_theil_decomposition_ignores_unused_codes_and_single_group() -> None:
    y = np.array([1.0, 3.0, 2.0, 6.0])
    # codes 0 and 5 (1..4 unused) behave like two groups
    a = theil_decomposition(y, None, np.array([0, 0, 5, 5]))
    b = theil_decomposition(y, None, np.array([0, 0, 1, 1]))
    assert_allclose(tuple(a), tuple(b), atol=1e-15)
    # one group: everything is "within"
    one = theil_decomposition(y, None, np.zeros(4, dtype=int))
    assert one.between == pytest.approx(0.0, abs=1e-15)
    assert one.within == pytest.approx(one.total, abs=1e-15)
    # one group per unit: everything is "between"
    each = theil_decomposition(y, None, np.arange(4))
    assert each.within == pytest.approx(0.0, abs=1e-15)
    assert each.between == pytest.approx(each.total, abs=1e-15)


def test_coast_interior_ratio_by_hand() -> None:
    # coastal: gdp 10 + 30 = 40 over pop 1 + 5 = 6 -> 20/3; interior: 20 / 4 = 5.
    # ratio = (20/3) / 5 = 4/3.
    gdp = [10.0, 20.0, 30.0]
    pop = [1.0, 4.0, 5.0]
    coastal = np.array([True, False, True])
    assert coast_interior_ratio(gdp, pop, coastal) == pytest.approx(4 / 3, abs=1e-15)
    # 0/1 integers are accepted as a mask
    assert coast_interior_ratio(gdp, pop, [1, 0, 1]) == pytest.approx(4 / 3, abs=1e-15)


def test_max_min_ratio() -> None:
    assert max_min_ratio([2.0, 8.0, 5.0]) == 4.0
    assert max_min_ratio([7.0]) == 1.0


def test_rank_descending_with_ties() -> None:
    # 7 is largest -> 1; the two 5s tie and keep their order -> 2, 3; 1 -> 4.
    assert_array_equal(rank_descending([5.0, 7.0, 5.0, 1.0]), [2, 1, 3, 4])
    assert_array_equal(rank_descending([3, 3, 3]), [1, 2, 3])
    r = rank_descending(np.random.default_rng(0).normal(size=50))
    assert np.issubdtype(r.dtype, np.integer)
    assert_array_equal(np.sort(r), np.arange(1, 51))


def test_interior_share_and_top() -> None:
    # interior output = 20 + 40 = 60 of total 10 + 20 + 30 + 40 = 100 -> 0.6
    output = np.array([10.0, 20.0, 30.0, 40.0])
    coastal = np.array([True, False, True, False])
    assert interior_share(output, coastal) == pytest.approx(0.6, abs=1e-15)
    # ranks: 40 (interior) 1, 30 (coastal) 2, 20 (interior) 3, 10 (coastal) 4
    assert interior_in_top(output, coastal, 0) == 0
    assert interior_in_top(output, coastal, 1) == 1
    assert interior_in_top(output, coastal, 2) == 1
    assert interior_in_top(output, coastal, 3) == 2
    assert interior_in_top(output, coastal, 4) == 2
    # ties broken by position: the first 5 (coastal) ranks ahead of the second (interior)
    assert interior_in_top([5.0, 5.0], [True, False], 1) == 0
    assert interior_in_top([5.0, 5.0], [False, True], 1) == 1


# ---------------------------------------------------------------------------
# equal incomes and weighted == expanded
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 3.5, 0.25, 10.0]])
@pytest.mark.parametrize("level", [0.1, 1.0, 12345.678])
def test_equal_incomes_give_zero(level: float, weights: list[float] | None) -> None:
    y = np.full(5, level)
    assert gini(y, weights) == 0.0
    assert theil(y, weights) == 0.0
    assert coefficient_of_variation(y, weights) == 0.0
    assert tuple(theil_decomposition(y, weights, [0, 1, 1, 2, 2])) == (0.0, 0.0, 0.0)
    assert max_min_ratio(y) == 1.0
    summary = inequality_summary(
        y * np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [0, 0, 1, 1, 2],
        [True, False, True, False, False],
    )
    for key in (
        "gini",
        "theil",
        "theil_between_region",
        "theil_within_region",
        "theil_between_coast",
        "theil_within_coast",
        "cv",
    ):
        assert summary[key] == pytest.approx(0.0, abs=1e-14), key
    assert summary["coast_interior_ratio"] == pytest.approx(1.0, abs=1e-14)
    assert summary["max_min_ratio"] == pytest.approx(1.0, abs=1e-14)


def test_weighted_equals_expanded_unweighted() -> None:
    rng = np.random.default_rng(42)
    y = rng.lognormal(mean=9.0, sigma=0.6, size=31)
    w = rng.integers(1, 8, size=31)
    groups = rng.integers(0, 4, size=31)
    y_rep = np.repeat(y, w)
    g_rep = np.repeat(groups, w)
    assert gini(y, w) == pytest.approx(gini(y_rep), abs=1e-13)
    assert theil(y, w) == pytest.approx(theil(y_rep), abs=1e-13)
    assert coefficient_of_variation(y, w) == pytest.approx(
        coefficient_of_variation(y_rep), abs=1e-13
    )
    assert_allclose(
        tuple(theil_decomposition(y, w, groups)),
        tuple(theil_decomposition(y_rep, None, g_rep)),
        atol=1e-13,
    )


def test_gini_matches_mean_absolute_difference_form() -> None:
    # G = sum_ij w_i w_j |y_i - y_j| / (2 W^2 mu), evaluated by brute force
    rng = np.random.default_rng(7)
    y = rng.lognormal(size=40)
    w = rng.uniform(0.1, 5.0, size=40)
    big_w = w.sum()
    mu = np.dot(w, y) / big_w
    brute = (w[:, None] * w[None, :] * np.abs(y[:, None] - y[None, :])).sum() / (
        2 * big_w**2 * mu
    )
    assert gini(y, w) == pytest.approx(brute, rel=1e-12)


def test_zero_weight_units_are_ignored() -> None:
    y = np.array([1.0, 4.0, 100.0])
    w = np.array([3.0, 1.0, 0.0])
    assert gini(y, w) == pytest.approx(9 / 28, abs=1e-15)
    assert theil(y, w) == pytest.approx(theil([1.0, 4.0], [3.0, 1.0]), abs=1e-15)
    assert coefficient_of_variation(y, w) == pytest.approx(
        3 * math.sqrt(3) / 7, abs=1e-15
    )


def test_extreme_concentration_gini() -> None:
    # one of n units owns everything: G = 1 - 1/n (population Gini, no n/(n-1))
    y = np.zeros(10)
    y[3] = 5.0
    assert gini(y) == pytest.approx(0.9, abs=1e-15)


# ---------------------------------------------------------------------------
# inequality_summary
# ---------------------------------------------------------------------------


def test_inequality_summary_consistent_with_functions() -> None:
    rng = np.random.default_rng(3)
    n = 31
    pop = rng.uniform(3e5, 1.2e8, size=n)
    gdp = pop * rng.lognormal(mean=10.0, sigma=0.5, size=n)
    region = rng.integers(0, 6, size=n)
    coastal = np.arange(n) % 3 == 0
    s = inequality_summary(gdp, pop, region, coastal)
    assert set(s) == {
        "gini",
        "theil",
        "theil_between_region",
        "theil_within_region",
        "theil_between_coast",
        "theil_within_coast",
        "cv",
        "coast_interior_ratio",
        "max_min_ratio",
    }
    assert all(type(v) is float for v in s.values())
    y = gdp / pop
    assert s["gini"] == pytest.approx(gini(y, pop), abs=1e-15)
    assert s["theil"] == pytest.approx(theil(y, pop), abs=1e-15)
    assert s["cv"] == pytest.approx(coefficient_of_variation(y, pop), abs=1e-15)
    assert s["max_min_ratio"] == pytest.approx(max_min_ratio(y), abs=1e-15)
    assert s["coast_interior_ratio"] == pytest.approx(
        coast_interior_ratio(gdp, pop, coastal), abs=1e-15
    )
    dr = theil_decomposition(y, pop, region)
    dc = theil_decomposition(y, pop, coastal.astype(int))
    assert s["theil_between_region"] == pytest.approx(dr.between, abs=1e-15)
    assert s["theil_within_region"] == pytest.approx(dr.within, abs=1e-15)
    assert s["theil_between_coast"] == pytest.approx(dc.between, abs=1e-15)
    assert s["theil_within_coast"] == pytest.approx(dc.within, abs=1e-15)
    assert s["theil_between_region"] + s["theil_within_region"] == pytest.approx(
        s["theil"], abs=1e-12
    )
    assert s["theil_between_coast"] + s["theil_within_coast"] == pytest.approx(
        s["theil"], abs=1e-12
    )


# ---------------------------------------------------------------------------
# beta convergence
# ---------------------------------------------------------------------------


def test_beta_convergence_two_points_by_hand() -> None:
    # x = ln y0 = (0, 1); growth g = (0.03, 0.01) over T = 10 years.
    # slope = (0.01 - 0.03)/(1 - 0) = -0.02, intercept = 0.03, R^2 = 1.
    # speed b = -ln(1 - 0.02*10)/10 = -ln(0.8)/10 ~= 0.0223144; half-life = ln2/b ~= 31.06.
    y0 = np.array([1.0, math.e])
    y1 = y0 * np.exp(10 * np.array([0.03, 0.01]))
    res = beta_convergence(y0, y1, 10)
    assert isinstance(res, BetaConvergence)
    assert res.slope == pytest.approx(-0.02, abs=1e-14)
    assert res.intercept == pytest.approx(0.03, abs=1e-14)
    assert res.r_squared == pytest.approx(1.0, abs=1e-12)
    assert res.speed == pytest.approx(-math.log(0.8) / 10, abs=1e-13)
    assert res.speed == pytest.approx(0.0223144, abs=1e-7)
    assert res.half_life == pytest.approx(LN2 / res.speed, rel=1e-14)
    assert res.half_life == pytest.approx(31.06, abs=0.01)


def test_beta_convergence_recovers_known_slope() -> None:
    # g_i = alpha + beta ln y0_i + eps_i with beta chosen from speed b = 0.02 over T = 20:
    # 1 + beta T = exp(-b T)  ->  beta = -(1 - exp(-0.4))/20 ~= -0.016484
    rng = np.random.default_rng(123)
    years, b_true = 20.0, 0.02
    beta_true = -(1 - math.exp(-b_true * years)) / years
    alpha_true = 0.2
    y0 = np.exp(rng.uniform(7.0, 11.0, size=5000))
    eps = rng.normal(scale=1e-4, size=5000)
    g = alpha_true + beta_true * np.log(y0) + eps
    y1 = y0 * np.exp(g * years)
    res = beta_convergence(y0, y1, years)
    assert_allclose(res.slope, beta_true, rtol=2e-3)
    assert_allclose(res.intercept, alpha_true, rtol=2e-3)
    assert_allclose(res.speed, b_true, rtol=3e-3)
    assert_allclose(res.half_life, LN2 / b_true, rtol=3e-3)
    assert 0.99 < res.r_squared <= 1.0
    # noiseless data: exact recovery and R^2 = 1
    exact = beta_convergence(
        y0, y0 * np.exp((alpha_true + beta_true * np.log(y0)) * years), years
    )
    assert_allclose(exact.slope, beta_true, rtol=1e-10)
    assert_allclose(exact.speed, b_true, rtol=1e-10)
    assert_allclose(exact.half_life, LN2 / b_true, rtol=1e-10)
    assert_allclose(exact.r_squared, 1.0, rtol=1e-12)


def test_beta_convergence_weighted_equals_expanded() -> None:
    rng = np.random.default_rng(5)
    y0 = rng.lognormal(9.0, 0.5, size=31)
    y1 = y0 * np.exp(rng.normal(0.5, 0.2, size=31))
    w = rng.integers(1, 6, size=31)
    a = beta_convergence(y0, y1, 10, weights=w)
    b = beta_convergence(np.repeat(y0, w), np.repeat(y1, w), 10)
    assert_allclose(tuple(a), tuple(b), rtol=1e-10)
    # weighting changes the estimate relative to unweighted OLS on the 31 points
    c = beta_convergence(y0, y1, 10)
    assert a.slope != pytest.approx(c.slope, rel=1e-6)


def test_half_life_formula_and_divergence() -> None:
    # b = -ln(1 + beta T)/T; half-life = ln 2 / b. With beta = -0.03, T = 10:
    # 1 + beta T = 0.7, b = -ln(0.7)/10 ~= 0.0356675, half-life ~= 19.4335.
    y0 = np.array([1.0, math.e, math.e**2])
    g = 0.05 - 0.03 * np.log(y0)
    res = beta_convergence(y0, y0 * np.exp(10 * g), 10)
    assert res.speed == pytest.approx(-math.log(0.7) / 10, rel=1e-12)
    assert res.half_life == pytest.approx(LN2 * 10 / -math.log(0.7), rel=1e-12)
    assert res.half_life == pytest.approx(19.4335, abs=1e-4)
    # divergence (beta > 0): b < 0, half-life infinite
    div = beta_convergence(y0, y0 * np.exp(10 * (0.01 + 0.02 * np.log(y0))), 10)
    assert div.slope == pytest.approx(0.02, abs=1e-13)
    assert div.speed < 0
    assert div.half_life == math.inf
    # overshooting (1 + beta T <= 0): speed undefined
    over = beta_convergence(y0, y0 * np.exp(10 * (0.5 - 0.15 * np.log(y0))), 10)
    assert over.slope == pytest.approx(-0.15, abs=1e-13)
    assert math.isnan(over.speed)
    assert math.isnan(over.half_life)
    # identical growth everywhere: slope 0, speed 0, infinite half-life, R^2 undefined
    flat = beta_convergence(y0, y0 * 2.0, 10)
    assert flat.slope == pytest.approx(0.0, abs=1e-15)
    assert flat.half_life == math.inf or flat.speed == pytest.approx(0.0, abs=1e-15)
    assert math.isnan(flat.r_squared)


# ---------------------------------------------------------------------------
# invalid input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gini([]), "values"),
        (lambda: gini([[1.0, 2.0]]), "values"),
        (lambda: gini([1.0, -2.0]), "values"),
        (lambda: gini([1.0, np.nan]), "values"),
        (lambda: gini([0.0, 0.0]), "values"),
        (lambda: gini([1.0, 2.0], [1.0]), "weights"),
        (lambda: gini([1.0, 2.0], [1.0, -1.0]), "weights"),
        (lambda: gini([1.0, 2.0], [0.0, 0.0]), "weights"),
        (lambda: gini(["a", "b"]), "values"),
        (lambda: theil([1.0, 0.0]), "values"),
        (lambda: theil([1.0, -3.0]), "values"),
        (lambda: theil([1.0, 2.0], [1.0, 2.0, 3.0]), "weights"),
        (lambda: theil([1.0, 2.0], [-1.0, 2.0]), "weights"),
        (lambda: theil([]), "values"),
        (lambda: theil_decomposition([1.0, 2.0], None, [0]), "groups"),
        (lambda: theil_decomposition([1.0, 0.0], None, [0, 1]), "values"),
        (lambda: theil_decomposition([1.0, 2.0], [1.0, -1.0], [0, 1]), "weights"),
        (lambda: coefficient_of_variation([1.0, 2.0], [1.0, -2.0]), "weights"),
        (lambda: coefficient_of_variation([-1.0, -2.0]), "values"),
        (lambda: coefficient_of_variation([]), "values"),
        (lambda: coast_interior_ratio([1.0, 2.0], [1.0], [True, False]), "population"),
        (lambda: coast_interior_ratio([1.0, 2.0], [1.0, 1.0], [True]), "coastal"),
        (lambda: coast_interior_ratio([1.0, 2.0], [1.0, 1.0], [True, True]), "coastal"),
        (lambda: coast_interior_ratio([1.0, 2.0], [1.0, 1.0], ["x", "y"]), "coastal"),
        (
            lambda: coast_interior_ratio([1.0, 2.0], [1.0, -1.0], [True, False]),
            "population",
        ),
        (lambda: coast_interior_ratio([-1.0, 2.0], [1.0, 1.0], [True, False]), "gdp"),
        (lambda: max_min_ratio([1.0, 0.0]), "values"),
        (lambda: max_min_ratio([]), "values"),
        (lambda: beta_convergence([1.0, 2.0], [1.0], 5), "y_end"),
        (lambda: beta_convergence([1.0, 0.0], [1.0, 2.0], 5), "y_start"),
        (lambda: beta_convergence([1.0, 2.0], [1.0, -2.0], 5), "y_end"),
        (lambda: beta_convergence([1.0, 2.0], [1.0, 2.0], 0), "years"),
        (lambda: beta_convergence([1.0, 2.0], [1.0, 2.0], -3.0), "years"),
        (lambda: beta_convergence([2.0, 2.0], [1.0, 2.0], 5), "y_start"),
        (lambda: beta_convergence([1.0, 2.0], [1.0, 2.0], 5, [1.0]), "weights"),
        (lambda: beta_convergence([1.0, 2.0], [1.0, 2.0], 5, [1.0, -1.0]), "weights"),
        (lambda: rank_descending([]), "values"),
        (lambda: rank_descending([1.0, np.inf]), "values"),
        (lambda: interior_share([1.0, 2.0], [True]), "coastal"),
        (lambda: interior_share([1.0, -2.0], [True, False]), "output"),
        (lambda: interior_share([0.0, 0.0], [True, False]), "output"),
        (lambda: interior_in_top([1.0, 2.0], [True, False], 3), "k"),
        (lambda: interior_in_top([1.0, 2.0], [True, False], -1), "k"),
        (lambda: interior_in_top([1.0, 2.0], [True, False], 1.5), "k"),
        (lambda: interior_in_top([1.0, 2.0], [True], 1), "coastal"),
        (
            lambda: inequality_summary([1.0, 2.0], [1.0, 0.0], [0, 1], [True, False]),
            "population",
        ),
        (
            lambda: inequality_summary([1.0, 0.0], [1.0, 1.0], [0, 1], [True, False]),
            "gdp",
        ),
        (
            lambda: inequality_summary([1.0, 2.0], [1.0, 1.0], [0], [True, False]),
            "region",
        ),
        (lambda: inequality_summary([1.0, 2.0], [1.0, 1.0], [0, 1], [True]), "coastal"),
    ],
)
def test_invalid_input_raises_naming_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------
# hypothesis property tests
# ---------------------------------------------------------------------------

incomes = st.floats(
    min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False
)
pops = st.floats(min_value=1e-2, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def weighted_data(draw: st.DrawFn, min_size: int = 1, max_size: int = 60):
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    y = np.array(draw(st.lists(incomes, min_size=n, max_size=n)))
    w = np.array(draw(st.lists(pops, min_size=n, max_size=n)))
    return y, w


@settings(max_examples=200, deadline=None)
@given(weighted_data())
def test_gini_in_unit_interval(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, w = data
    for weights in (None, w):
        g = gini(y, weights)
        assert 0.0 <= g < 1.0
    # with positive weights, G <= 1 - min population share
    assert gini(y, w) <= 1.0 - w.min() / w.sum() + 1e-12
    assert gini(y) <= 1.0 - 1.0 / y.size + 1e-12


@settings(max_examples=200, deadline=None)
@given(weighted_data(), st.floats(min_value=1e-3, max_value=1e3))
def test_scale_invariance(data: tuple[np.ndarray, np.ndarray], c: float) -> None:
    y, w = data
    for weights in (None, w):
        assert gini(c * y, weights) == pytest.approx(
            gini(y, weights), rel=1e-9, abs=1e-12
        )
        assert theil(c * y, weights) == pytest.approx(
            theil(y, weights), rel=1e-9, abs=1e-12
        )
        assert coefficient_of_variation(c * y, weights) == pytest.approx(
            coefficient_of_variation(y, weights), rel=1e-9, abs=1e-12
        )
    # population weights are also scale free
    assert gini(y, c * w) == pytest.approx(gini(y, w), rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(weighted_data(), st.data())
def test_decomposition_identity_random_groups(
    data: tuple[np.ndarray, np.ndarray], draw_data: st.DataObject
) -> None:
    y, w = data
    n_groups = draw_data.draw(st.integers(min_value=1, max_value=6))
    groups = np.array(
        draw_data.draw(
            st.lists(
                st.integers(min_value=0, max_value=n_groups - 1),
                min_size=y.size,
                max_size=y.size,
            )
        )
    )
    dec = theil_decomposition(y, w, groups)
    assert dec.between >= 0.0
    assert dec.within >= 0.0
    assert dec.between + dec.within == pytest.approx(dec.total, abs=1e-12)
    assert dec.total == pytest.approx(theil(y, w), abs=1e-12)
    # within equals sum_g S_g T_g computed group by group (test-side reference loop)
    total_y = np.dot(w, y)
    ref_within = 0.0
    for g in np.unique(groups):
        m = groups == g
        ref_within += np.dot(w[m], y[m]) / total_y * theil(y[m], w[m])
    assert dec.within == pytest.approx(ref_within, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(weighted_data(min_size=2), st.randoms(use_true_random=False))
def test_permutation_invariance(data: tuple[np.ndarray, np.ndarray], rnd) -> None:
    y, w = data
    perm = np.array(rnd.sample(range(y.size), y.size))
    groups = np.arange(y.size) % 3
    assert gini(y[perm], w[perm]) == pytest.approx(gini(y, w), rel=1e-9, abs=1e-12)
    assert theil(y[perm], w[perm]) == pytest.approx(theil(y, w), rel=1e-9, abs=1e-12)
    assert coefficient_of_variation(y[perm], w[perm]) == pytest.approx(
        coefficient_of_variation(y, w), rel=1e-9, abs=1e-12
    )
    assert_allclose(
        tuple(theil_decomposition(y[perm], w[perm], groups[perm])),
        tuple(theil_decomposition(y, w, groups)),
        rtol=1e-9,
        atol=1e-12,
    )
    assert max_min_ratio(y[perm]) == max_min_ratio(y)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40))
def test_rank_descending_matches_definition(values: list[int]) -> None:
    # rank_i = 1 + #{j: y_j > y_i} + #{j < i: y_j == y_i}
    y = np.array(values)
    expected = [
        1 + int(np.sum(y > y[i])) + int(np.sum(y[:i] == y[i])) for i in range(y.size)
    ]
    assert_array_equal(rank_descending(y), expected)


def test_inequality_groups_give_the_single_indices_exactly() -> None:
    """InequalityGroups.summary (prepared once, shared terms computed once) gives the same numbers,
    bit for bit, as each index's own function, with unused region codes and with equal incomes."""
    from sim.metrics import InequalityGroups

    rng = np.random.default_rng(11)
    for n, equal in ((31, False), (200, False), (7, True)):
        pop = rng.uniform(1.0, 120.0, size=n)
        gdp = pop * (3.0 if equal else rng.lognormal(mean=1.0, sigma=0.6, size=n))
        region = rng.choice([0, 2, 3], size=n)  # code 1 unused
        coastal = np.arange(n) % 3 == 0
        s = InequalityGroups.of(region, coastal, n).summary(gdp, pop)
        y = gdp / pop
        by_region = theil_decomposition(y, pop, region)
        by_coast = theil_decomposition(y, pop, coastal.astype(int))
        assert s == {
            "gini": gini(y, pop), "theil": theil(y, pop),
            "theil_between_region": by_region.between, "theil_within_region": by_region.within,
            "theil_between_coast": by_coast.between, "theil_within_coast": by_coast.within,
            "cv": coefficient_of_variation(y, pop), "coast_interior_ratio": coast_interior_ratio(gdp, pop, coastal),
            "max_min_ratio": max_min_ratio(y),
        }
        assert s == inequality_summary(gdp, pop, region, coastal)
