"""Scenario files: extends, overrides and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS

from sim.errors import ScenarioError
from sim.scenario import Scenario, load_scenario, parse_override


def error_of(path=None, overrides=()):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, list(overrides))
    return info.value


def test_defaults_are_valid():
    scenario = Scenario()
    assert scenario.run.start_year == 2022
    assert scenario.run.end_year == 2050
    assert scenario.strategies.default == "baseline"


def test_extends_merges_tables_and_overrides_values(write_toml):
    write_toml("parent.toml", '[run]\nend_year = 2040\nseed = 5\n[migration]\ngraduate_mobility = 0.2\n')
    child = write_toml("child.toml", 'extends = "parent.toml"\n[run]\nseed = 9\n')
    scenario = load_scenario(child)
    assert scenario.run.end_year == 2040  # from the parent
    assert scenario.run.seed == 9  # the child wins
    assert scenario.migration.graduate_mobility == 0.2
    assert scenario.name == "child"


def test_set_overrides_are_typed():
    scenario = load_scenario(SCENARIOS / "baseline.toml",
                             ["migration.graduate_mobility=0.6", "strategies.default=hefei", "imitation.enabled=true",
                              'strategies.assign={Anhui="cas_branch"}'])
    assert scenario.migration.graduate_mobility == 0.6
    assert scenario.strategies.default == "hefei"
    assert scenario.imitation.enabled is True
    assert scenario.strategies.assign == {"Anhui": "cas_branch"}


def test_parse_override_reads_toml_values():
    assert parse_override("a.b=1") == (["a", "b"], 1)
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    assert parse_override("a=plain words") == (["a"], "plain words")


def test_missing_file():
    exc = error_of("no/such/file.toml")
    assert "no/such/file.toml" in str(exc) and "file not found" in str(exc)


def test_broken_toml(write_toml):
    path = write_toml("broken.toml", "[run\nseed = 1\n")
    exc = error_of(path)
    assert str(path) in str(exc) and "not valid TOML" in str(exc)


def test_unknown_key_suggests_close_match(write_toml):
    path = write_toml("typo.toml", "[migration]\ngraduate_mobilty = 0.5\n")
    exc = error_of(path)
    assert exc.key == "migration.graduate_mobilty"
    assert "did you mean 'graduate_mobility'" in exc.message
    assert str(path) in str(exc)


def test_unknown_section(write_toml):
    exc = error_of(write_toml("typo.toml", "[migraton]\nx = 1\n"))
    assert exc.key == "migraton" and "did you mean 'migration'" in exc.message


def test_wrong_type(write_toml):
    exc = error_of(write_toml("type.toml", '[run]\nseed = "abc"\n'))
    assert exc.key == "run.seed" and "'abc'" in exc.message


@pytest.mark.parametrize("text,key", [
    ("[investment]\ncentral_share = 1.5\n", "investment.central_share"),
    ("[investment]\nrd_intensity_target = -1.0\n", "investment.rd_intensity_target"),
    ("[migration]\ngraduate_mobility = -0.1\n", "migration.graduate_mobility"),
])
def test_out_of_range(write_toml, text, key):
    exc = error_of(write_toml("range.toml", text))
    assert exc.key == key
    assert "greater than or equal" in exc.message or "less than or equal" in exc.message


def test_end_year_before_start_year(write_toml):
    exc = error_of(write_toml("years.toml", "[run]\nstart_year = 2022\nend_year = 2020\n"))
    assert exc.key == "run" and "must be after start_year" in exc.message


def test_unknown_province_is_named_with_suggestion(write_toml):
    exc = error_of(write_toml("prov.toml", '[strategies]\nassign = { Anhiu = "hefei" }\n'))
    assert exc.key == "strategies.assign.Anhiu" and "did you mean 'Anhui'" in exc.message


def test_unknown_strategy(write_toml):
    exc = error_of(write_toml("strat.toml", '[strategies]\ndefault = "hefie"\n'))
    assert exc.key == "strategies.default" and "did you mean 'hefei'" in exc.message


def test_province_named_twice(write_toml):
    path = write_toml("twice.toml", '[strategies]\nassign = { Anhui = "hefei" }\ncas_branch = ["Anhui"]\n')
    exc = error_of(path)
    assert "assigned a strategy twice" in exc.message and exc.key == "strategies.cas_branch"


def test_extends_cycle(write_toml):
    write_toml("a.toml", 'extends = "b.toml"\n')
    b = write_toml("b.toml", 'extends = "a.toml"\n')
    exc = error_of(b)
    assert exc.key == "extends" and "cycle" in exc.message


def test_bad_set_path_names_the_override():
    exc = error_of(SCENARIOS / "baseline.toml", ["migration.nope=1"])
    assert exc.source == "--set migration.nope=1"
    assert exc.key == "migration.nope" and "unknown key" in exc.message


def test_set_without_equals():
    exc = error_of(SCENARIOS / "baseline.toml", ["migration.graduate_mobility"])
    assert "expected key.path=value" in exc.message


def test_unknown_event_type(write_toml):
    exc = error_of(write_toml("ev.toml", '[[events]]\ntype = "meteor"\nyear = 2030\n'))
    assert exc.key == "events[0].type" and "fdi_shock" in exc.message


def test_event_field_checked(write_toml):
    exc = error_of(write_toml("ev.toml", '[[events]]\ntype = "megaproject"\nyear = 2030\nprovince = "Guizhou"\n'
                                           'field = "astronomy"\n'))
    assert exc.key == "events[0].field"


def test_synthetic_form(write_toml):
    exc = error_of(write_toml("syn.toml", '[run]\nprovinces = "synthetic:1"\n'))
    assert exc.key == "run.provinces" and "synthetic:N" in exc.message


def test_parameter_reference_is_current_and_complete():
    from sim.scenario.reference import parameter_reference

    text = parameter_reference()
    shipped = (SCENARIOS.parent / "docs" / "parameters.md").read_text()
    assert text == shipped, "docs/parameters.md is stale: python -m sim.scenario.reference > docs/parameters.md"
    for key in ("strategy.hefei.failure_rate", "strategy.consumer_niche.coordination", "migration.home_bias",
                "economy.catch_up_rate"):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{key}` |"))
        assert row.split("|")[4].strip(), f"{key} has no description"


# --------------------------------------------------------------------------------------
# Values set by key path (no text)


def test_with_values_takes_python_and_numpy_values_and_validates() -> None:
    import numpy as np

    base = Scenario()
    changed = base.with_values({"migration.graduate_mobility": 0.6, "economy.catch_up_rate": np.float64(0.02),
                                "imitation.period": np.int64(7), "strategy.megacity.cities": np.array(["Beijing"]),
                                "structure.field_shares.biotech": np.float32(0.2)})
    assert changed.migration.graduate_mobility == 0.6
    assert changed.economy.catch_up_rate == 0.02 and type(changed.economy.catch_up_rate) is float
    assert changed.imitation.period == 7 and type(changed.imitation.period) is int
    assert changed.strategy.megacity.cities == ["Beijing"]
    assert changed.structure.field_shares["biotech"] == pytest.approx(0.2)
    assert base.migration.graduate_mobility == 0.35, "with_values returns a copy"
    assert base.with_values({}) is base
    # Mesa-style keywords (double underscore) are the same key paths
    assert Scenario().with_values({"economy__catch_up_rate": 0.03}).economy.catch_up_rate == 0.03


def test_with_values_errors_name_the_key_and_what_is_allowed() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario().with_values({"migration.graduate_mobility": 1.5}, source="my study")
    assert info.value.source == "my study" and info.value.key == "migration.graduate_mobility"
    assert "less than or equal to 1" in info.value.message
    with pytest.raises(ScenarioError, match="did you mean 'catch_up_rate'"):
        Scenario().with_values({"economy.catch_up_rat": 0.1})
    with pytest.raises(ScenarioError, match="is a value, not a table"):
        Scenario().with_values({"economy.catch_up_rate.x": 0.1})
    with pytest.raises(ScenarioError, match="sector shares must sum to 1"):
        Scenario().with_values({"structure.sector_shares.services": 0.9})


def test_cross_field_rules_do_not_depend_on_the_order_of_set_options(write_toml) -> None:
    path = write_toml("s.toml", "[run]\nstart_year = 2022\nend_year = 2030\n")
    one = load_scenario(path, ["run.start_year=2012", "run.end_year=2016"])
    two = load_scenario(path, ["run.end_year=2016", "run.start_year=2012"])
    assert one == two and (one.run.start_year, one.run.end_year) == (2012, 2016)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["economy.catch_up_rate=0.1", "run.end_year=2010"])
    assert info.value.source == "--set run.end_year=2010"


def test_no_code_builds_scenario_text_to_change_a_value() -> None:
    """Values travel as data: only the command-line edge parses ``key=value`` text."""
    import re

    root = Path(__file__).resolve().parent.parent / "sim"
    offenders = []
    for path in root.rglob("*.py"):
        text = path.read_text()
        if re.search(r"""f["'][^"']*\{[^}]*\}=\{""", text) or "tomllib.loads(f" in text and "loading.py" not in path.name:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_every_shipped_scenario_loads_with_a_valid_name() -> None:
    from sim.scenario.schema import NAME_PATTERN

    files = sorted(SCENARIOS.glob("*.toml"))
    assert files
    for path in files:
        assert NAME_PATTERN.fullmatch(load_scenario(path).name), path


@pytest.mark.parametrize("name", ["hefei", "run-1.2_x", "A" * 64, "_x", "-x", "x.."])
def test_names_that_are_names(name) -> None:
    assert Scenario.model_validate({"name": name}).name == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", "A" * 65, "a b", "a\x00b", "a\n", "é"])
def test_names_that_are_not_names_are_refused_everywhere(name) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario().with_values({"name": name}, source="values")
    assert info.value.key == "name" and "not a valid name" in info.value.message
    assert "\n" not in str(info.value)


def test_nesting_up_to_the_limit_is_read_and_beyond_it_refused(write_toml) -> None:
    from sim.scenario.loading import MAX_DEPTH, read_toml

    at_limit = write_toml("twenty.toml", "[" + ".".join(["t"] * (MAX_DEPTH - 1)) + "]\nx = 1\n")
    assert read_toml(at_limit)["t"]["t"]
    beyond = write_toml("deeper.toml", "[" + ".".join(["t"] * MAX_DEPTH) + "]\nx = 1\n")
    with pytest.raises(ScenarioError) as info:
        read_toml(beyond)
    assert info.value.source.endswith("deeper.toml") and "nested more than" in info.value.message
    # a.b and 18 arrays around a number: 20 levels
    assert parse_override("a.b=" + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2))[0] == ["a", "b"]
    with pytest.raises(ScenarioError, match="nested more than"):
        parse_override("a.b=" + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1))


def test_experiment_files_are_read_by_the_same_safe_reader(tmp_path) -> None:
    import os

    from sim.errors import ExperimentError
    from sim.experiments.spec import load_experiment

    os.mkfifo(tmp_path / "pipe.toml")
    with pytest.raises(ExperimentError, match="FIFO"):
        load_experiment(tmp_path / "pipe.toml")


def test_inf_and_nan_are_refused_in_python_values_too() -> None:
    for value in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ScenarioError, match="finite number"):
            Scenario().with_values({"economy.catch_up_rate": value})


def test_group_names_read_without_pandas_match_the_province_table():
    """china_groups reads provinces.csv with the csv module (no pandas at validation); it must give the
    members that sim.data's table gives."""
    from sim.data import load_provinces
    from sim.scenario import china_groups

    table = load_provinces()
    groups = china_groups()
    expected = {"all": set(table["province"]), "coastal": set(table.loc[table["coastal"], "province"]),
                "interior": set(table.loc[~table["coastal"], "province"])}
    for region in ("east", "central", "west", "northeast"):
        expected[region] = set(table.loc[table["region"] == region, "province"])
    assert groups == expected
    assert len(groups["all"]) == 31 and len(groups["coastal"]) == 12
