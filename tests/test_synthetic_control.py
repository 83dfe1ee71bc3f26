"""The synthetic-control estimate of the Hefei case (sim.analysis.synthetic_control)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pysyncon")

from sim.analysis import synthetic_control as sc  # noqa: E402
from sim.analysis import synthetic_gap  # noqa: E402
from sim.data import load_gdp_population_panel, load_provinces  # noqa: E402

TREATMENT = 2012
EFFECT = 5.0
NOISE = 0.2


def factor_panel(seed: int, effect: float = EFFECT, noise: float = NOISE) -> tuple[pd.DataFrame, np.ndarray]:
    """12 donors from a three-factor model (level, trend, cycle) plus noise, 2000-2022; the treated
    unit ``T`` is 0.5 D00 + 0.3 D01 + 0.2 D02 plus its own noise, plus ``effect`` from 2012 on."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2023)
    t = np.arange(len(years))
    n = 12
    factors = np.column_stack([np.ones(len(t)), t / 10.0, np.sin(t / 3.0)])
    loadings = rng.uniform([50.0, -5.0, -3.0], [120.0, 5.0, 3.0], size=(n, 3))
    donors = factors @ loadings.T + rng.normal(0.0, noise, (len(t), n))
    weights = np.zeros(n)
    weights[:3] = [0.5, 0.3, 0.2]
    treated = donors @ weights + rng.normal(0.0, noise, len(t)) + effect * (years >= TREATMENT)
    columns = {f"D{i:02d}": donors[:, i] for i in range(n)}
    columns["T"] = treated
    return pd.DataFrame(columns, index=years), weights


@pytest.fixture(scope="module")
def anhui() -> sc.SyntheticControlResult:
    return sc.estimate()


# Tolerance. The treated unit and the donors carry independent noise of sd 0.2 a year, and the
# synthetic twin extrapolates the donors' trend loadings over 11 post-treatment years, so the
# recovered gap is the injected effect plus an error that does not vanish: over 20 seeds (0-19) of
# this design the mean post-treatment error was at most 0.66 in absolute value (sd about 0.23) and
# the largest single-year error 1.21. We allow 0.75 on the mean (15 % of the effect of 5) and 1.5
# (7.5 noise sd) in any single year: a broken estimator (wrong sign, weights ignored, gap measured
# against the donor mean) misses by far more, while the seeds' sampling error stays inside.
MEAN_TOLERANCE = 0.75
YEAR_TOLERANCE = 1.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_an_injected_effect(seed):
    panel, _ = factor_panel(seed)
    result = sc.estimate("synthetic", treated="T", panel=panel, treatment_year=TREATMENT)
    post = result.gap[result.gap.index >= TREATMENT]
    assert post.mean() == pytest.approx(EFFECT, abs=MEAN_TOLERANCE)
    assert (post - EFFECT).abs().max() < YEAR_TOLERANCE
    # before treatment the twin tracks the treated unit to within the noise
    assert result.pre_rmspe < 3 * NOISE
    # a clear effect puts the treated unit first among all units
    assert result.rank == 1
    assert result.p_value == pytest.approx(1 / 13)


def test_finds_no_effect_where_none_was_injected():
    panel, _ = factor_panel(0, effect=0.0)
    result = sc.estimate("synthetic", treated="T", panel=panel, treatment_year=TREATMENT)
    assert result.mean_post_gap == pytest.approx(0.0, abs=MEAN_TOLERANCE)
    assert result.p_value > 0.1


def test_weights_are_non_negative_and_sum_to_one():
    panel, _ = factor_panel(3)
    result = sc.estimate("synthetic", treated="T", panel=panel)
    assert (result.weights >= 0).all()
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert list(result.weights.index) == [c for c in panel.columns if c != "T"]
    # the synthetic path is the weighted donors
    donors = panel[result.weights.index].to_numpy() @ result.weights.to_numpy()
    assert np.allclose(result.synthetic.to_numpy(), donors)
    assert np.allclose(result.gap.to_numpy(), panel["T"].to_numpy() - donors)


def test_permutation_p_value_on_a_hand_built_case():
    # treated ratio 2.0; placebos 1.0, 3.0, 2.0, 0.5: two are at least as large (the tie counts
    # against the treated unit), so the treated unit ranks 3rd of 5 and p = 3/5
    assert sc.permutation_p_value(2.0, [1.0, 3.0, 2.0, 0.5]) == (3, pytest.approx(0.6))
    assert sc.permutation_p_value(10.0, [1.0, 2.0, 3.0]) == (1, pytest.approx(0.25))
    assert sc.permutation_p_value(0.1, [1.0, 2.0, 3.0]) == (4, pytest.approx(1.0))
    with pytest.raises(ValueError):
        sc.permutation_p_value(1.0, [])


def test_p_value_of_an_estimate_follows_its_placebo_ratios():
    panel, _ = factor_panel(4, effect=0.5)
    result = sc.estimate("synthetic", treated="T", panel=panel)
    placebo = result.placebo_ratio.to_numpy()
    assert len(placebo) == 12
    assert result.rank == 1 + int((placebo >= result.ratio).sum())
    assert result.p_value == pytest.approx(result.rank / 13)
    for unit in result.placebo_ratio.index:
        assert result.placebo_ratio[unit] == pytest.approx(
            result.placebo_post_rmspe[unit] / result.placebo_pre_rmspe[unit])
        assert "T" not in result.placebo_gaps.columns


def test_model_gap_band_rule():
    panel, _ = factor_panel(0)
    result = sc.estimate("synthetic", treated="T", panel=panel)
    zero = synthetic_gap.compare_model_gap(result, {year: 0.0 for year in range(2000, 2030)})
    assert list(zero.table.index) == list(range(TREATMENT, 2023))
    assert zero.inside and zero.share_inside == 1.0
    # the observed (injected) gap itself lies outside the chance band
    assert zero.observed_outside == 1.0
    far = synthetic_gap.compare_model_gap(result, pd.Series(EFFECT, index=range(TREATMENT, 2023)))
    assert not far.inside and far.share_inside == 0.0
    band = synthetic_gap.placebo_band(result, k=5.0)
    kept = (result.placebo_pre_rmspe <= 5.0 * result.pre_rmspe).sum()
    assert (band["n_placebos"] == kept).all()
    assert (band["lower"] <= band["upper"]).all()
    with pytest.raises(ValueError, match="raise k"):
        synthetic_gap.placebo_band(result, k=0.0)
    with pytest.raises(ValueError, match="no post-treatment year"):
        synthetic_gap.compare_model_gap(result, {1990: 0.0})


def test_missing_pysyncon_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pysyncon", None)
    panel, _ = factor_panel(0)
    with pytest.raises(ImportError, match=r"evidence"):
        sc.estimate("synthetic", treated="T", panel=panel, placebos=False)


def test_observed_outcomes_are_shares_of_the_nation():
    relative = sc.outcome_panel("relative_gdp_per_capita")
    assert list(relative.index) == list(range(2000, 2023)) and relative.shape[1] == 31
    population = load_gdp_population_panel().pivot(index="year", columns="province", values="population_10k")
    weighted = (relative * population).sum(axis=1) / population.sum(axis=1)
    assert np.allclose(weighted, 100.0)
    share = sc.outcome_panel("sci_share")
    assert list(share.index) == list(range(2010, 2023))
    assert np.allclose(share.sum(axis=1), 100.0)
    with pytest.raises(ValueError, match="unknown outcome"):
        sc.outcome_panel("happiness")


def test_donors_are_the_other_interior_provinces():
    donors = sc.donor_pool()
    provinces = load_provinces().set_index("province")
    assert "Anhui" not in donors and len(donors) == 18
    assert not provinces.loc[donors, "coastal"].any()


def test_the_real_anhui_estimate_runs_and_is_finite(anhui):
    result = anhui
    assert result.treated == "Anhui" and result.treatment_year == sc.DEFAULT_TREATMENT_YEAR
    assert set(result.weights.index) == set(sc.donor_pool())
    assert (result.weights >= 0).all() and result.weights.sum() == pytest.approx(1.0)
    assert np.isfinite(result.gap.to_numpy()).all()
    assert list(result.gap.index) == list(range(2000, 2023))
    assert np.isfinite(result.pre_rmspe) and result.pre_rmspe > 0
    assert np.isfinite(result.post_rmspe) and np.isfinite(result.last_gap)
    assert len(result.placebo_ratio) == 18 and result.placebo_gaps.shape == (23, 18)
    assert np.isfinite(result.placebo_gaps.to_numpy()).all()
    assert 1 <= result.rank <= 19 and 0 < result.p_value <= 1
    assert not result.exact_pre_fit
    text = result.summary()
    assert "Anhui" in text and "permutation p" in text and "press and company reports" in text
    check = synthetic_gap.compare_model_gap(result, {year: 0.0 for year in result.post_years})
    assert len(check.table) == len(result.post_years)


def test_sci_share_with_two_pre_years_is_flagged_as_exact_fit():
    result = sc.estimate("sci_share", placebos=False)
    assert list(result.gap.index) == list(range(2010, 2023))
    assert result.pre_years == [2010, 2011]
    assert result.exact_pre_fit
    assert np.isfinite(result.gap.to_numpy()).all()
