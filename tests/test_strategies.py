"""Strategies, assignment, events and imitation."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIOS

from sim import RegionalGrowthModel, load_scenario
from sim.errors import ScenarioError
from sim.model.imitation import fermi_probability
from sim.model.strategies import STRATEGIES, SpendingPlan


def model_with(*overrides, path=SCENARIOS / "baseline.toml", seed=1):
    return RegionalGrowthModel(load_scenario(path, list(overrides)), seed=seed)


def test_six_strategies_are_registered():
    assert set(STRATEGIES) == {"baseline", "hefei", "cas_branch", "foreign_multinational", "consumer_niche",
                               "megacity"}


def test_assignment_by_group_and_name():
    model = model_with('strategies.assign={interior="cas_branch", Anhui="hefei"}')
    by_name = {p.name: p.strategy.name for p in model.provinces}
    assert by_name["Anhui"] == "hefei"  # a named province overrides its group
    assert by_name["Yunnan"] == "cas_branch"
    assert by_name["Shanghai"] == "baseline"  # coastal: the default
    assert sum(v == "cas_branch" for v in by_name.values()) == 18


def test_overlapping_groups_with_different_strategies_are_refused():
    with pytest.raises(ScenarioError, match="name the provinces instead") as info:
        model_with('strategies.assign={west="cas_branch", interior="hefei"}')
    assert info.value.source.startswith("--set")


def test_overlapping_groups_with_the_same_strategy_or_named_provinces_are_fine():
    model = model_with('strategies.assign={west="cas_branch", interior="cas_branch"}')
    assert sum(p.strategy.name == "cas_branch" for p in model.provinces) == 20  # interior + Guangxi
    # northeast and coastal overlap only in Liaoning, which is named: no conflict
    model = model_with('strategies.assign={northeast="cas_branch", coastal="hefei", Liaoning="baseline"}')
    by_name = {p.name: p.strategy.name for p in model.provinces}
    assert (by_name["Liaoning"], by_name["Jilin"], by_name["Fujian"]) == ("baseline", "cas_branch", "hefei")


def test_spending_plan_science_and_instruments():
    plan = SpendingPlan(existing=1.0, institutes=[("national_lab", "biotech", 2.0)], equity={3: 0.5},
                        education=0.25, incentives=0.25, extra_existing=0.1, proceeds=0.2)
    assert plan.science() == pytest.approx(3.25)
    assert plan.instruments() == pytest.approx(0.85)


def test_hefei_founds_a_national_lab_and_logs_it():
    model = model_with('strategies.assign={Anhui="hefei"}', "run.end_year=2024").run()
    events = model.events_frame()
    founded = events[(events["province"] == "Anhui") & (events["type"] == "institute_founded")]
    assert len(founded) == 1 and "national lab founded" in founded.iloc[0]["detail"]
    anhui = next(p for p in model.provinces if p.name == "Anhui")
    assert anhui.strategy.stake > 0
    assert any(inst.kind == "national_lab" for inst in anhui.institutes)


def test_cas_branch_fields_follow_endowment():
    model = model_with('strategies.assign={Yunnan="cas_branch"}')
    yunnan = next(p for p in model.provinces if p.name == "Yunnan")
    assert "biotech" in yunnan.strategy.fields  # the most biodiverse province


def test_consumer_niche_coordination_spreads_segments():
    names = ["Anhui", "Hubei", "Sichuan", "Shaanxi"]
    assign = "strategies.assign={" + ", ".join(f'{n}="consumer_niche"' for n in names) + "}"
    independent = model_with(assign, 'strategy.consumer_niche.coordination="independent"')
    coordinated = model_with(assign, 'strategy.consumer_niche.coordination="coordinated"')
    seg_ind = {p.strategy.segment for p in independent.provinces if p.strategy.name == "consumer_niche"}
    seg_co = {p.strategy.segment for p in coordinated.provinces if p.strategy.name == "consumer_niche"}
    assert len(seg_ind) == 1 and len(seg_co) >= 2


def test_foreign_labs_arrive_and_are_logged():
    model = model_with(path=SCENARIOS / "foreign_multinational.toml").run()
    events = model.events_frame()
    assert (events["detail"].str.contains("multinational lab founded")).sum() > 0


def test_megacity_concentrates_central_money():
    base = model_with()
    mega = model_with(path=SCENARIOS / "megacity.toml")
    base.step()
    mega.step()
    cities = [base.province_names.index(c) for c in ("Beijing", "Shanghai", "Guangdong")]
    assert mega.state.central[cities].sum() > 2 * base.state.central[cities].sum()
    assert mega.state.central.sum() == pytest.approx(base.state.central.sum(), rel=1e-9)


@pytest.mark.parametrize("event,kind", [
    ('{type="fdi_shock", year=2024, openness=0.3}', "fdi_shock"),
    ('{type="real_estate_decline", year=2024, annual_decline=0.1, years=3}', "real_estate_decline"),
    ('{type="infrastructure", year=2024, connectivity_gain=0.5, provinces=["west"]}', "infrastructure"),
    ('{type="breakthrough", year=2024, field="biotech"}', "breakthrough"),
])
def test_every_event_type_fires_and_is_logged(event, kind):
    model = model_with(f"events=[{event}]", "run.end_year=2026").run()
    events = model.events_frame()
    assert ((events["type"] == kind) & (events["year"] == 2024)).any()


def test_events_have_their_effect():
    shock = model_with('events=[{type="fdi_shock", year=2024, openness=0.3, duration=2}]', "run.end_year=2027")
    shock.run()
    assert shock.state.openness == pytest.approx(1.0)  # restored after two years
    decline = model_with('events=[{type="real_estate_decline", year=2024, annual_decline=0.1, years=3}]',
                         "run.end_year=2028").run()
    assert decline.state.demand_shift[7] == pytest.approx(0.9**3)
    rail = model_with('events=[{type="infrastructure", year=2024, connectivity_gain=0.5, provinces=["west"]}]',
                      "run.end_year=2024").run()
    west = rail.data.region == 2
    assert np.all(rail.state.connectivity[west] == pytest.approx(1.5))
    assert np.all(rail.state.connectivity[~west] == pytest.approx(1.0))


def test_fermi_probability():
    assert fermi_probability(0.05, 0.05, 100.0) == pytest.approx(0.5)
    assert fermi_probability(0.01, 0.05, 100.0) == pytest.approx(1 / (1 + np.exp(-4.0)))
    assert fermi_probability(0.05, 0.01, 100.0) < 0.1


def test_imitation_switches_are_events_and_change_strategies():
    model = model_with(path=SCENARIOS / "mixed.toml").run()
    events = model.events_frame()
    switches = events[events["type"] == "strategy_switch"]
    assert len(switches) > 0
    assert set(switches["year"]) <= {2027, 2032, 2037, 2042, 2047}
    province = model.province_frame()
    first = province[province["year"] == 2022].set_index("province")["strategy"]
    last = province[province["year"] == 2050].set_index("province")["strategy"]
    changed = set(first.index[first != last])
    assert changed and changed <= set(switches["province"])


def test_imitation_off_means_no_switch():
    model = model_with("imitation.enabled=false", path=SCENARIOS / "mixed.toml").run()
    assert not (model.events_frame()["type"] == "strategy_switch").any()


def test_hefei_field_choice_skips_fields_without_national_capacity() -> None:
    """The automatic flagship field is the province's strongest high-tech field relative to the nation; a
    field with no national capacity at all is nobody's strength (it used to give 0/0 and a nan argmax)."""
    import warnings

    from sim.model.strategies import make_strategy
    from sim.vocabulary import FIELD_INDEX, FIELDS, HIGH_TECH

    model = RegionalGrowthModel(load_scenario(SCENARIOS / "hefei.toml").with_values({"run.end_year": 2023}), seed=1)
    anhui = next(p for p in model.provinces if p.name == "Anhui")
    candidates = [f for f in FIELDS if f in HIGH_TECH]
    kept = candidates[-1]
    for field in candidates[:-1]:
        model.state.research_by_field[:, FIELD_INDEX[field]] = 0.0
    strategy = make_strategy("hefei", model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        strategy.attach(anhui)
    assert strategy.field == kept
