"""Behaviour that must emerge from the mechanisms (not be scripted), over fixed-seed replicates.

Each test compares means over 10 replicates; docs/ODD.md ("Emergent behaviour") names the
mechanism behind each.
"""

from __future__ import annotations

import numpy as np
from conftest import SCENARIOS

from sim import RegionalGrowthModel, load_scenario
from sim.vocabulary import CONSUMER_SEGMENTS, SECTOR_INDEX

REPLICATES = 10
SEEDS = [9000 + r for r in range(REPLICATES)]


def finished(path, overrides=(), seeds=SEEDS):
    scenario = load_scenario(path, list(overrides))
    return [RegionalGrowthModel(scenario, seed=s).run() for s in seeds]


def end(models, key):
    return np.array([m.national_frame().iloc[-1][key] for m in models])


def test_crowding_coordinated_niches_beat_independent_ones():
    names = ["Anhui", "Hubei", "Sichuan", "Shaanxi", "Henan"]
    assign = "strategies.assign={" + ", ".join(f'{n}="consumer_niche"' for n in names) + "}"
    segments = [SECTOR_INDEX[s] for s in CONSUMER_SEGMENTS]
    totals = {}
    for coordination in ("independent", "coordinated"):
        models = finished(SCENARIOS / "baseline.toml", [assign, f'strategy.consumer_niche.coordination="{coordination}"'])
        totals[coordination] = np.mean([m.state.sector_output[:, segments].sum() for m in models])
    assert totals["coordinated"] > totals["independent"]


def _talent_push_effect(market):
    """Skilled workers gained by the coast and the interior from a talent-only push in the interior."""
    gains = {}
    for push in (0.0, 1.0):
        models = finished(SCENARIOS / "baseline.toml", market + ['investment.talent_push=["interior"]',
                                                                  f"investment.talent_push_size={push}",
                                                                  "run.end_year=2040"], seeds=SEEDS[:3])
        gains[push] = (np.mean([m.state.skilled[m.data.coastal].sum() for m in models]),
                       np.mean([m.state.skilled[~m.data.coastal].sum() for m in models]))
    return gains[1.0][0] - gains[0.0][0], gains[1.0][1] - gains[0.0][1]


def test_brain_drain_with_integrated_labour_markets():
    integrated = ["migration.graduate_mobility=1.0", "migration.home_bias=0.0", "migration.distance_cost=0.1"]
    coast, interior = _talent_push_effect(integrated)
    assert coast > interior > 0


def test_talent_stays_with_separate_labour_markets():
    coast, interior = _talent_push_effect(["migration.graduate_mobility=0.02"])
    assert interior > coast
    assert interior > 10 * abs(coast)


def test_megacity_raises_research_and_between_region_inequality():
    baseline = finished(SCENARIOS / "baseline.toml")
    megacity = finished(SCENARIOS / "megacity.toml")
    assert end(megacity, "research_output").mean() > end(baseline, "research_output").mean()
    assert end(megacity, "theil_between_region").mean() > end(baseline, "theil_between_region").mean()
    # central money matched to interior branches moves research inland and narrows the gap between regions
    branches = finished(SCENARIOS / "cas_branch.toml")
    assert end(branches, "interior_research_share").mean() > end(baseline, "interior_research_share").mean()
    assert end(branches, "theil_between_region").mean() < end(baseline, "theil_between_region").mean()


def test_fdi_shock_hurts_foreign_multinational_provinces_most():
    path = SCENARIOS / "foreign_multinational.toml"
    calm = finished(path)
    shocked = finished(path, ['events=[{type="fdi_shock", year=2030, openness=0.2}]'])
    open_zone = np.array([p.strategy.name == "foreign_multinational" for p in calm[0].provinces])

    def gdp(models, mask):
        return np.mean([m.state.gdp[mask].sum() for m in models])

    loss_open = 1 - gdp(shocked, open_zone) / gdp(calm, open_zone)
    loss_others = 1 - gdp(shocked, ~open_zone) / gdp(calm, ~open_zone)
    assert loss_open > 0
    assert loss_open > loss_others


def test_hefei_outcomes_vary_more_than_cas_branch():
    def spread(name):
        models = finished(SCENARIOS / f"{name}.toml")
        mask = np.array([p.strategy.name == name for p in models[0].provinces])
        gdp = np.array([m.state.gdp[mask].sum() for m in models])
        return gdp.std() / gdp.mean()

    assert spread("hefei") > spread("cas_branch")
