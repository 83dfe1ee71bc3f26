"""Every documented value runs: parameters sampled within the schema's bounds give finite, non-negative outputs.

Each numeric key of the scenario schema (sections, strategy tables), each choice and each switch is
sampled within what the schema accepts (docs/parameters.md), on a scenario that uses every strategy,
imitation with endorsement, a talent push and events, run from 2022 to 2100. Besides random samples,
corners: every value at its lower bound, every value at its upper bound, and mixes of the two.
"""

from __future__ import annotations

import math
import typing
from typing import Any

import numpy as np
import pytest
from conftest import SCENARIOS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import sim.model.economy as economy
from sim import RegionalGrowthModel
from sim.errors import ScenarioError
from sim.scenario import Scenario, load_scenario
from sim.vocabulary import CONSUMER_SEGMENTS, SECTORS

FIXED = {"run.start_year", "run.end_year", "run.seed", "investment.target_year"}
"""Keys the test sets itself (the horizon) or that are not a model parameter."""


def _bounds(info) -> tuple[float | None, bool, float | None, bool]:
    """(low, low inclusive, high, high inclusive) of a schema field."""
    low = high = None
    low_in = high_in = True
    for meta in info.metadata:
        for attr, inclusive in (("ge", True), ("gt", False)):
            if getattr(meta, attr, None) is not None:
                low, low_in = getattr(meta, attr), inclusive
        for attr, inclusive in (("le", True), ("lt", False)):
            if getattr(meta, attr, None) is not None:
                high, high_in = getattr(meta, attr), inclusive
    return low, low_in, high, high_in


def schema_parameters(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, Any]:
    """Every scalar parameter of the schema: key path -> ("number", type, bounds) or ("choice", values)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.update(schema_parameters(annotation, f"{key}."))
        elif key in FIXED:
            continue
        elif annotation is bool:
            out[key] = ("choice", (False, True))
        elif typing.get_origin(annotation) is typing.Literal:
            out[key] = ("choice", typing.get_args(annotation))
        elif annotation in (int, float):
            low, low_in, high, high_in = _bounds(info)
            assert low is not None and high is not None, f"{key}: every number has both bounds"
            out[key] = ("number", annotation, (low, low_in, high, high_in))
    return out


PARAMETERS = schema_parameters()


def base_scenario() -> Scenario:
    """Every strategy in use (and a placebo), imitation with endorsement, a talent push, events; 2022-2100."""
    mixed = load_scenario(SCENARIOS / "mixed.toml")
    events = [*mixed.model_dump()["events"], {"type": "fdi_shock", "year": 2035, "openness": 0.3, "duration": 10},
              {"type": "breakthrough", "year": 2040, "field": "biotech", "productivity_jump": 0.3}]
    return mixed.with_values({
        "run.end_year": 2100,
        "strategies.assign": {"east": "foreign_multinational", "central": "hefei", "west": "cas_branch",
                              "northeast": "consumer_niche", "Beijing": "megacity", "Guizhou": "baseline"},
        "investment.talent_push": ["west"], "investment.targeted_provinces": ["Gansu", "Qinghai"],
        "events": events,
    })


BASE = base_scenario()


def corner(key: str, upper: bool) -> Any:
    """The extreme value a key accepts at its lower or upper end."""
    spec = PARAMETERS[key]
    if spec[0] == "choice":
        return spec[1][-1] if upper else spec[1][0]
    _, kind, (low, low_in, high, high_in) = spec
    if kind is int:
        return high - (not high_in) if upper else low + (not low_in)
    if upper:
        return float(high) if high_in else math.nextafter(high, -math.inf)
    return float(low) if low_in else math.nextafter(low, math.inf)


def tables(draw_factor) -> dict[str, Any]:
    """The per-sector and per-field tables of ``[structure]`` and ``[strategy.cas_branch]`` scaled within their bounds."""
    structure = BASE.structure
    shares = {s: max(0.001, structure.sector_shares[s] * draw_factor("sector_shares", s, 0.05, 3.0)) for s in SECTORS}
    total = sum(shares.values())
    shares = {s: max(0.001, v / total) for s, v in shares.items()}
    shares["services"] += 1.0 - sum(shares.values())
    return {
        "structure.sector_shares": shares,
        "structure.capital_output_ratio": {s: min(20.0, max(0.1, v * draw_factor("capital", s, 0.05, 5.0)))
                                           for s, v in structure.capital_output_ratio.items()},
        "structure.skill_intensity": {s: v * draw_factor("skill", s, 1e-3, 20.0) for s, v in structure.skill_intensity.items()},
        "structure.field_shares": {f: v * draw_factor("field", f, 1e-3, 1e3) for f, v in structure.field_shares.items()},
        "strategy.cas_branch.endowment_weights": {
            f: [w * draw_factor("endowment", f, 0.0, 10.0) for w in weights]
            for f, weights in BASE.strategy.cas_branch.endowment_weights.items()},
    }


def run(values: dict[str, Any]) -> None:
    """Build the scenario (a combination the schema refuses is refused with a ScenarioError, before any
    run) and run it: every year's national and province outputs are finite and non-negative."""
    try:
        scenario = BASE.with_values(values, "test values")
    except ScenarioError:
        return  # refused before the run starts, in one line: allowed
    model = RegionalGrowthModel(scenario, seed=1)
    model.run()
    assert model.year == 2100
    model.check_invariants()
    national = model.national_columns()
    for key in ("gdp_real_cny_bn", "gdp_nominal_cny_bn", "population_m", "research_output", "graduates_k", "gini",
                "theil", "skilled_m", "rd_budget_cny_bn"):
        assert np.all(np.isfinite(national[key])) and np.all(national[key] >= 0), (key, national[key])
    province = model.province_columns(categorical=False)
    for key in ("gdp_real_cny_bn", "population_m", "research_output", "graduates_k", "gdp_per_capita_cny"):
        assert np.all(np.isfinite(province[key])) and np.all(province[key] >= 0), key


@st.composite
def sampled_values(draw) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, spec in PARAMETERS.items():
        if spec[0] == "choice":
            values[key] = draw(st.sampled_from(spec[1]), label=key)
            continue
        _, kind, (low, low_in, high, high_in) = spec
        if kind is int:
            values[key] = draw(st.integers(low + (not low_in), high - (not high_in)), label=key)
        else:
            values[key] = draw(st.floats(low, high, exclude_min=not low_in, exclude_max=not high_in,
                                         allow_nan=False, allow_infinity=False), label=key)
    values["investment.target_year"] = draw(st.integers(2022, 2200), label="investment.target_year")
    values.update(tables(lambda *label_and_range: draw(st.floats(label_and_range[-2], label_and_range[-1]),
                                                       label=".".join(label_and_range[:2]))))
    return values


def test_every_number_of_the_schema_has_bounds_and_is_sampled() -> None:
    numbers = [key for key, spec in PARAMETERS.items() if spec[0] == "number"]
    assert len(numbers) >= 80
    assert {"economy.capital_share", "strategy.hefei.fund_share", "imitation.intensity",
            "migration.wage_weight"} <= set(numbers)
    assert "strategy.consumer_niche.segment" in PARAMETERS and set(CONSUMER_SEGMENTS) < set(
        PARAMETERS["strategy.consumer_niche.segment"][1])


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sampled_values())
def test_sampled_parameters_run_to_2100_with_finite_nonnegative_outputs(values: dict[str, Any]) -> None:
    run(values)


def corner_values(which: str) -> dict[str, Any]:
    """Every key at its lower or upper end (``lower``, ``upper``) or alternately at one and the other."""
    keys = list(PARAMETERS)
    if which in ("lower", "upper"):
        values = {key: corner(key, which == "upper") for key in keys}
    else:
        flip = which == "alternate_other"
        values = {key: corner(key, (i % 2 == 0) != flip) for i, key in enumerate(keys)}
    values["investment.target_year"] = 2200 if which == "upper" else 2022
    extreme = {"lower": lambda *r: r[-2], "upper": lambda *r: r[-1]}.get(which, lambda *r: r[-1] if len(r[1]) % 2 else r[-2])
    values.update(tables(extreme))
    return values


@pytest.mark.parametrize("which", ["lower", "upper", "alternate", "alternate_other"])
def test_corners_run_to_2100_with_finite_nonnegative_outputs(which: str) -> None:
    run(corner_values(which))


def test_migration_takes_at_most_a_share_of_a_province_under_heavy_outflow() -> None:
    """The upper corner: the centre's whole budget goes to Beijing and incomes diverge by orders of
    magnitude; the income gradient asks some provinces for more people than they have (it asked 82 %
    of one province's residents in a year before the bound), and every province keeps people."""
    model = RegionalGrowthModel(BASE.with_values(corner_values("upper"), "test values"), seed=1)
    shares = []
    while model.year < 2100:
        model.step()
        state = model.state
        assert np.all(state.population > 0.0), model.year
        assert abs(state.net_migration.sum()) <= 1e-9 * state.population.sum(), model.year
        shares.append(-state.net_migration / (state.population - state.net_migration))
    shares = np.array(shares)
    assert shares.max() <= economy.MAX_NET_OUTFLOW_SHARE * (1 + 1e-12)
    binding = np.isclose(shares, economy.MAX_NET_OUTFLOW_SHARE, rtol=1e-12)
    assert binding.any(axis=1).sum() >= 10  # the bound holds many provinces in many years, not once


def test_income_migration_bound_by_hand() -> None:
    # two regions of 10 million, incomes 1 and e^60: the gradient asks 0.05 x 10 x 30 = 15 million of
    # the poor one; a tenth of its residents (1 million) leaves, and all of them arrive in the rich one
    moves = economy.income_migration(np.array([10.0, 10.0]), np.array([1.0, math.exp(60.0)]), 0.05)
    np.testing.assert_allclose(moves, [-1.0, 1.0], rtol=1e-12)
    # three regions: two poor ones each lose their tenth, the rich one receives both
    moves = economy.income_migration(np.array([10.0, 20.0, 30.0]), np.array([1.0, 1.0, math.exp(100.0)]), 0.05)
    np.testing.assert_allclose(moves, [-1.0, -2.0, 3.0], rtol=1e-12)
    # below the bound the flows are the gradient's: m_i = rate P_i (ln y_i - mean ln y)
    population, income = np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 4.0])
    gap = np.log(income) - np.dot(population, np.log(income)) / population.sum()
    np.testing.assert_allclose(economy.income_migration(population, income, 0.01), 0.01 * population * gap,
                               rtol=1e-12)
    # a bound of zero stops net migration altogether
    assert economy.income_migration(population, income, 0.01, max_outflow_share=0.0).tolist() == [0.0, 0.0, 0.0]


def test_demands_limited_to_income_by_hand() -> None:
    # 60 + 90 = 150 asked of an income of 100: both scaled by 2/3, their ratio kept
    np.testing.assert_allclose(economy.limit_to_income(np.array([60.0, 0.0, 90.0]), 100.0), [40.0, 0.0, 60.0])
    within = np.array([30.0, 0.0, 40.0])
    assert economy.limit_to_income(within.copy(), 100.0).tolist() == within.tolist()  # untouched when within


@pytest.mark.parametrize("key, value", [
    ("economy.connectivity", 0.0), ("migration.participation", 0.05), ("economy.consumer_demand_elasticity", 0.2),
    ("economy.income_elasticity", 2.0), ("research.depreciation", 1.0), ("economy.base_tfp_growth", -0.1),
    ("strategy.foreign_multinational.lab_size", 1e12), ("migration.wage_weight", 1e300),
    ("structure.capital_output_ratio.agriculture", 1e-300), ("structure.sector_shares.agriculture", 1e-300),
    ("economy.catch_up_rate", float("nan")), ("economy.savings_rate", float("inf")),
    ("strategy.hefei.transfer", float("-inf")),
])
def test_values_that_cannot_run_are_refused_in_one_line_before_the_run(key: str, value: float) -> None:
    with pytest.raises(ScenarioError) as refused:
        BASE.with_values({key: value}, "--set")
    message = str(refused.value)
    assert "\n" not in message and key.split(".")[0] in message
