"""The shipped tables of real growth, structure, research fields, population outlook and the 2000-2009 panel."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from sim.data import (
    load_gdp_per_capita_history,
    load_gdp_population_panel,
    load_grp_index,
    load_history,
    load_industrial_rd_by_industry,
    load_national_gdp_index,
    load_population_outlook,
    load_provinces,
    load_research_field_map,
    load_research_fields,
    load_sci_papers_by_discipline,
    load_sector_structure,
)
from sim.vocabulary import FIELDS, SECTORS

PROVINCES = set(load_provinces()["province"])
FIELDS_AND_GENERAL = (*FIELDS, "general")
INDUSTRIAL = ("traditional_industry", "advanced_manufacturing", "ev_batteries", "green_energy", "ict_consumer", "biotech")

NEW_TABLES = {
    "grp_index.csv": load_grp_index,
    "national_gdp_index.csv": load_national_gdp_index,
    "population_outlook.csv": load_population_outlook,
    "sci_papers_by_discipline.csv": load_sci_papers_by_discipline,
    "research_field_map.csv": load_research_field_map,
    "research_fields.csv": load_research_fields,
    "sector_structure.csv": load_sector_structure,
    "industrial_rd_by_industry.csv": load_industrial_rd_by_industry,
    "gdp_per_capita_history.csv": load_gdp_per_capita_history,
}


def _complete_panel(frame: pd.DataFrame, years: range) -> None:
    """One row for every province and year, and no other."""
    assert not frame.duplicated(["province", "year"]).any()
    expected = {(p, y) for p in PROVINCES for y in years}
    assert set(zip(frame["province"], frame["year"], strict=True)) == expected


def test_grp_index_covers_every_province_and_year_with_plausible_values():
    grp = load_grp_index()
    _complete_panel(grp, range(2010, 2025))
    assert grp["grp_index"].notna().all()
    assert grp["grp_index"].between(80, 120).all()
    # published to one decimal
    assert np.allclose(grp["grp_index"], grp["grp_index"].round(1))
    medians = grp.groupby("year")["grp_index"].median()
    assert medians[2012] == pytest.approx(110.7) and medians[2020] == pytest.approx(103.6)
    assert grp.set_index(["province", "year"]).loc[("Hubei", 2020), "grp_index"] == pytest.approx(94.6)


def test_national_gdp_index_has_the_published_years_only():
    national = load_national_gdp_index()
    assert list(national["year"]) == list(range(2000, 2020))
    assert national["gdp_index"].between(100, 120).all()
    assert national.set_index("year").loc[2012, "gdp_index"] == pytest.approx(107.86, abs=0.005)


def test_population_outlook_is_wpp_2024_and_falls_after_2023():
    outlook = load_population_outlook().set_index("year")
    assert list(outlook.index) == [1980, 2000, 2010, 2023, 2024, 2030, 2050]
    assert set(outlook["source"]) == {"UN World Population Prospects 2024"}
    assert (outlook.loc[outlook.index <= 2023, "variant"] == "estimates").all()
    assert (outlook.loc[outlook.index >= 2024, "variant"] == "medium").all()
    later = outlook.loc[outlook.index >= 2023, "population_m"]
    assert later.is_monotonic_decreasing
    assert outlook.loc[2050, "population_m"] == pytest.approx(1260.3, abs=0.1)


def test_sci_disciplines_sum_to_the_published_total():
    papers = load_sci_papers_by_discipline()
    fields = load_research_fields()
    mapping = load_research_field_map()
    assert set(papers["year"]) == set(range(2014, 2019))
    assert papers.groupby("year").size().eq(len(mapping)).all()
    assert set(papers["discipline_zh"]) == set(mapping["discipline_zh"])
    totals = fields.groupby("year")["total_papers"].first()
    sums = papers.groupby("year")["papers"].sum()
    difference = (sums - totals).to_dict()
    assert difference == {2014: 0, 2015: 0, 2016: 2, 2017: 0, 2018: 0}  # 2016: as published, documented
    # the gaps are exactly the documented ones
    gaps = papers[papers["papers"].isna()]
    assert set(zip(gaps["year"], gaps["discipline_zh"], strict=True)) == {
        (2014, "测绘科学技术"), (2014, "轻工、纺织"), (2017, "测绘科学技术")}
    # the national total is the sum over provinces of sci_papers in history.csv
    history = load_history().groupby("year")["sci_papers"].sum()
    assert all(history[y] == totals[y] for y in totals.index)


def test_research_field_map_and_shares_are_consistent():
    mapping = load_research_field_map()
    assert mapping["discipline_zh"].is_unique and mapping["discipline_en"].is_unique
    assert set(mapping["field"]) == set(FIELDS_AND_GENERAL)
    fields = load_research_fields()
    assert fields.groupby("year").size().eq(len(FIELDS_AND_GENERAL)).all()
    assert set(fields["field"]) == set(FIELDS_AND_GENERAL)
    shares = fields.groupby("year")["share"].sum()
    assert np.allclose(shares, 1.0, atol=1e-5)
    recomputed = (load_sci_papers_by_discipline().merge(mapping, on="discipline_zh")
                  .groupby(["year", "field"])["papers"].sum())
    shipped = fields.set_index(["year", "field"])["papers"]
    assert (recomputed.loc[shipped.index].to_numpy() == shipped.to_numpy()).all()
    assert np.allclose(fields["share"], fields["papers"] / fields.groupby("year")["papers"].transform("sum"),
                       atol=5e-7)


def test_sector_structure_shares_sum_to_one():
    table = load_sector_structure().set_index("sector")
    assert set(SECTORS) <= set(table.index)
    assert set(table.index) - set(SECTORS) == {"industry_and_construction", "not_itemised"}
    added = table["value_added_share_2019"].dropna()
    assert set(added.index) == {"agriculture", "industry_and_construction", "real_estate", "services"}
    assert added.sum() == pytest.approx(1.0, abs=1e-5)
    # value added sums to the published GDP 2019
    assert table["value_added_100m_yuan_2019"].sum() == pytest.approx(986515.2, abs=0.05)
    for year, total in ((2019, 139710989.4), (2011, 59938054.5)):
        shares = table[f"industrial_rd_share_{year}"].dropna()
        assert set(shares.index) == {*INDUSTRIAL, "not_itemised"}
        assert shares.sum() == pytest.approx(1.0, abs=1e-5)
        assert table[f"industrial_rd_10k_yuan_{year}"].sum() == pytest.approx(total, abs=0.05)
    assert table.loc["not_itemised", "industrial_rd_share_2011"] < 0.001


def test_industrial_rd_by_industry_adds_up_to_the_sector_table():
    industries = load_industrial_rd_by_industry()
    assert industries["industry_zh"].is_unique
    assert set(industries["sector"]) == set(INDUSTRIAL)
    assert industries["rd_2011_10k_yuan"].notna().all()
    assert industries["rd_2019_10k_yuan"].notna().sum() == 28
    sectors = load_sector_structure().set_index("sector")
    for year in (2011, 2019):
        by_sector = industries.groupby("sector")[f"rd_{year}_10k_yuan"].sum()
        for sector in INDUSTRIAL:
            assert by_sector[sector] == pytest.approx(sectors.loc[sector, f"industrial_rd_10k_yuan_{year}"], abs=0.05)


def test_the_2000_2022_panel_joins_history_without_gaps():
    early = load_gdp_per_capita_history()
    _complete_panel(early, range(2000, 2010))
    assert early[["population_10k", "gdp_100m_yuan"]].notna().all().all()
    assert (early[["population_10k", "gdp_100m_yuan"]] > 0).all().all()
    panel = load_gdp_population_panel()
    _complete_panel(panel, range(2000, 2023))
    assert panel[["population_10k", "gdp_100m_yuan"]].notna().all().all()
    # the shipped years 2010-2022 are history.csv's, cell for cell
    history = load_history().set_index(["province", "year"])
    later = panel[panel["year"] >= 2010].set_index(["province", "year"])
    assert (later["population_10k"] == history.loc[later.index, "population_10k"]).all()
    assert (later["gdp_100m_yuan"] == history.loc[later.index, "gdp_100m_yuan"]).all()
    # no seam at 2009/2010: nominal GDP grows by 0-40 % a year in every province (2009 -> 2010 included)
    wide = panel.pivot(index="year", columns="province", values="gdp_100m_yuan")
    growth = wide.pct_change().loc[2001:2010]
    assert growth.gt(-0.05).all().all() and growth.lt(0.40).all().all()
    # population: the documented census steps stay within 6 %
    population = panel.pivot(index="year", columns="province", values="population_10k")
    assert population.pct_change().loc[2001:2022].abs().max().max() < 0.06


def test_sources_md_names_every_column_of_every_new_table():
    text = resources.files("sim").joinpath("data", "SOURCES.md").read_text()
    sections = set(re.findall(r"^## (\S+\.csv)", text, flags=re.MULTILINE))
    for name, loader in NEW_TABLES.items():
        assert name in sections, f"SOURCES.md has no section for {name}"
        for column in loader().columns:
            assert f"`{column}`" in text, f"{name}: column {column} not named in SOURCES.md"


def test_new_tables_ship_with_the_package():
    for name in NEW_TABLES:
        assert resources.files("sim").joinpath("data", name).is_file()
