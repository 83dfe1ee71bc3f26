"""The shipped province tables, and synthetic regions for teaching and scale tests.

The tables live in ``sim/data/`` (their sources: ``sim/data/SOURCES.md``). They are read once per
process and cached. :func:`region_data` turns them into the arrays a model starts from, in model
units: population in millions, money in CNY billions (current prices of the start year), graduates
in thousands per year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from sim.vocabulary import REGIONS

ENDOWMENT_COLUMNS: tuple[str, ...] = ("biodiversity", "energy_resources", "agriculture", "port_access")


def _table(name: str) -> pd.DataFrame:
    with resources.files("sim").joinpath("data", name).open("rb") as handle:
        return pd.read_csv(handle)


@cache
def load_provinces() -> pd.DataFrame:
    """The base-year (2022) table: one row per province (see ``sim/data/SOURCES.md``)."""
    frame = _table("provinces.csv")
    frame["coastal"] = frame["coastal"].astype(str).str.lower().isin(("true", "1"))
    return frame


@cache
def load_history() -> pd.DataFrame:
    """The yearly history 2010-2022: one row per province and year."""
    return _table("history.csv")


@cache
def load_endowments() -> pd.DataFrame:
    """Natural-endowment scores in [0, 1] per province (see ``sim/data/ENDOWMENTS.md``)."""
    return _table("endowments.csv")


@cache
def load_tile_grid() -> pd.DataFrame:
    """Tile-grid cartogram layout: ``province, row, col``."""
    return _table("tile_grid.csv")


@cache
def load_adjacency() -> pd.DataFrame:
    """Pairs of provinces that share a land border."""
    return _table("adjacency.csv")


def _typed(name: str, dtypes: dict[str, str]) -> pd.DataFrame:
    """A shipped table with its columns converted to ``dtypes`` (empty cells stay NaN / <NA>)."""
    frame = _table(name)
    if list(frame.columns) != list(dtypes):
        raise ValueError(f"{name}: expected columns {list(dtypes)}, found {list(frame.columns)}")
    return frame.astype(dtypes)


@cache
def load_grp_index() -> pd.DataFrame:
    """Real growth by province 2010-2024: ``province, year, grp_index`` (preceding year = 100, constant prices)."""
    return _typed("grp_index.csv", {"province": "str", "year": "int64", "grp_index": "float64"})


@cache
def load_national_gdp_index() -> pd.DataFrame:
    """National real GDP growth 2000-2019: ``year, gdp_index`` (preceding year = 100, constant prices)."""
    return _typed("national_gdp_index.csv", {"year": "int64", "gdp_index": "float64"})


@cache
def load_population_outlook() -> pd.DataFrame:
    """China's total population, UN WPP 2024 (estimates to 2023, medium variant after): ``year, population_m,
    variant, source``."""
    return _typed("population_outlook.csv",
                  {"year": "int64", "population_m": "float64", "variant": "str", "source": "str"})


@cache
def load_sci_papers_by_discipline() -> pd.DataFrame:
    """China's SCI-indexed papers by discipline 2014-2018: ``year, discipline_zh, papers`` (<NA> = not published)."""
    return _typed("sci_papers_by_discipline.csv", {"year": "int64", "discipline_zh": "str", "papers": "Int64"})


@cache
def load_research_field_map() -> pd.DataFrame:
    """Which research field each SCI discipline counts towards: ``discipline_zh, discipline_en, field``."""
    return _typed("research_field_map.csv", {"discipline_zh": "str", "discipline_en": "str", "field": "str"})


@cache
def load_research_fields() -> pd.DataFrame:
    """SCI papers by model research field (plus ``general``) 2014-2018: ``year, field, papers, share,
    total_papers``."""
    return _typed("research_fields.csv", {"year": "int64", "field": "str", "papers": "int64", "share": "float64",
                                          "total_papers": "int64"})


@cache
def load_sector_structure() -> pd.DataFrame:
    """National value added (2019) and industrial R&D (2019, 2011) by model sector; NaN where the data do not split."""
    return _typed("sector_structure.csv", {
        "sector": "str",
        "value_added_100m_yuan_2019": "float64", "value_added_share_2019": "float64",
        "industrial_rd_10k_yuan_2019": "float64", "industrial_rd_share_2019": "float64",
        "industrial_rd_10k_yuan_2011": "float64", "industrial_rd_share_2011": "float64",
    })


@cache
def load_industrial_rd_by_industry() -> pd.DataFrame:
    """R&D expenditure of industrial enterprises by industry (2011, 2019) and the model sector each counts towards."""
    return _typed("industrial_rd_by_industry.csv", {"industry_zh": "str", "industry_en": "str", "sector": "str",
                                                    "rd_2011_10k_yuan": "float64", "rd_2019_10k_yuan": "float64"})


@cache
def load_gdp_per_capita_history() -> pd.DataFrame:
    """GDP and year-end population by province 2000-2009 (the years before ``history.csv``)."""
    return _typed("gdp_per_capita_history.csv",
                  {"province": "str", "year": "int64", "population_10k": "int64", "gdp_100m_yuan": "float64"})


@cache
def load_gdp_population_panel() -> pd.DataFrame:
    """The observed panel 2000-2022: ``province, year, population_10k, gdp_100m_yuan`` (2000-2009 from
    ``gdp_per_capita_history.csv``, 2010-2022 from ``history.csv``), sorted by province and year."""
    columns = ["province", "year", "population_10k", "gdp_100m_yuan"]
    early = load_gdp_per_capita_history()[columns]
    later = load_history()[columns].astype({"year": "int64", "population_10k": "int64", "gdp_100m_yuan": "float64"})
    overlap = set(early["year"]) & set(later["year"])
    if overlap:
        raise ValueError(f"the two GDP tables overlap in {sorted(overlap)}")
    panel = pd.concat([early, later], ignore_index=True)
    return panel.sort_values(["province", "year"], ignore_index=True)


@dataclass(frozen=True)
class RegionData:
    """Everything a model needs to initialise its regions, as arrays in model units.

    Attributes:
        names: region names (provinces, or ``R0001``... for synthetic regions).
        capitals: capital city names.
        lon, lat: capital coordinates, degrees.
        region: NBS region code per region (index into :data:`sim.vocabulary.REGIONS`).
        coastal: True where the region has a sea coast.
        population_m: resident population, millions.
        gdp_cny_bn: gross regional product, CNY billion.
        rd_cny_bn: R&D expenditure, CNY billion.
        sci_papers: SCI papers per year (research output).
        graduates_k: higher-education graduates per year, thousands.
        heis: regular higher-education institutions.
        endowments: (N, 4) scores in [0, 1] in the order of :data:`ENDOWMENT_COLUMNS`.
        year: the year the figures describe.
        synthetic: True for generated regions.
    """

    names: list[str]
    capitals: list[str]
    lon: np.ndarray
    lat: np.ndarray
    region: np.ndarray
    coastal: np.ndarray
    population_m: np.ndarray
    gdp_cny_bn: np.ndarray
    rd_cny_bn: np.ndarray
    sci_papers: np.ndarray
    graduates_k: np.ndarray
    heis: np.ndarray
    endowments: np.ndarray
    year: int
    synthetic: bool = False
    observed_rd: dict[int, np.ndarray] = field(default_factory=dict)
    """Observed R&D expenditure (CNY bn) per later year, for hindcasts."""
    prior_growth: np.ndarray | None = None
    """Real GDP growth from the year before ``year`` to ``year`` (0.03 = 3 %), per region: where GDP
    stood a year before the start, which the first year's change in knowledge intensity is measured
    from. None: the national growth of ``year`` (:func:`national_real_growth`)."""

    @property
    def size(self) -> int:
        """Number of regions."""
        return len(self.names)


def _column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Values of ``column``, which must be complete."""
    values = frame[column].to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError(f"province table has no {column} for some provinces")
    return values


@lru_cache(maxsize=32)
def china_data(year: int = 2022) -> RegionData:
    """The 31 provinces as observed in ``year`` (2010-2022).

    Raises:
        ValueError: for a year the history table does not cover.
    """
    static = load_provinces().set_index("province")
    history = load_history()
    years = sorted(history["year"].unique())
    if year not in years:
        raise ValueError(f"year {year} is not in the history table ({years[0]}-{years[-1]})")
    filled = history
    at_year = filled[filled["year"] == year].set_index("province").loc[static.index]
    endowments = load_endowments().set_index("province").loc[static.index, list(ENDOWMENT_COLUMNS)]
    region_codes = static["region"].map({name: i for i, name in enumerate(REGIONS)})
    if region_codes.isna().any():
        raise ValueError("province table has an unknown region name")
    observed = {}
    for later in years:
        if later > year:
            rows = filled[filled["year"] == later].set_index("province").loc[static.index]
            observed[int(later)] = rows["rd_expenditure_100m_yuan"].to_numpy(float) / 10.0
    index = load_grp_index()
    prior = index[index["year"] == year].set_index("province")["grp_index"].reindex(static.index)
    if prior.isna().any():
        raise ValueError(f"grp_index.csv has no {year} growth for {', '.join(prior.index[prior.isna()])}")
    return RegionData(
        names=list(static.index),
        capitals=list(static["capital"]),
        lon=static["capital_lon"].to_numpy(float),
        lat=static["capital_lat"].to_numpy(float),
        region=region_codes.to_numpy(int),
        coastal=static["coastal"].to_numpy(bool),
        population_m=_column(at_year, "population_10k") / 100.0,
        gdp_cny_bn=_column(at_year, "gdp_100m_yuan") / 10.0,
        rd_cny_bn=_column(at_year, "rd_expenditure_100m_yuan") / 10.0,
        sci_papers=_column(at_year, "sci_papers"),
        graduates_k=_column(at_year, "graduates_10k") * 10.0,
        heis=_column(at_year, "heis"),
        endowments=endowments.to_numpy(float),
        year=year,
        observed_rd=observed,
        prior_growth=prior.to_numpy(float) / 100.0 - 1.0,
    )


@lru_cache(maxsize=32)
def national_real_growth(year: int) -> float:
    """China's real GDP growth in ``year`` (0.03 = 3 %): the provinces' real growth (``grp_index.csv``)
    weighted by their GDP of the year before.

    Raises:
        ValueError: for a year either table does not cover.
    """
    index = load_grp_index()
    panel = load_gdp_population_panel()
    growth = index[index["year"] == year].set_index("province")["grp_index"] / 100.0
    weights = panel[panel["year"] == year - 1].set_index("province")["gdp_100m_yuan"]
    if growth.empty or weights.empty:
        raise ValueError(f"no real growth for {year} (grp_index.csv covers {index['year'].min()}-"
                         f"{index['year'].max()}, the GDP panel {panel['year'].min()}-{panel['year'].max()})")
    weights = weights.reindex(growth.index)
    return float((growth * weights).sum() / weights.sum() - 1.0)


def synthetic_data(n: int, rng: np.random.Generator, year: int = 2022) -> RegionData:
    """``n`` synthetic regions with China-like spreads, drawn from ``rng``.

    Regions sit at random points of a box of 60 by 30 degrees; the easternmost fifth is coastal
    and richer; population, income, R&D intensity, papers and graduates are log-normal with
    spreads close to the provinces'. National totals scale with ``n`` (31 regions give about
    China's totals).
    """
    lon = rng.uniform(75.0, 135.0, n)
    lat = rng.uniform(20.0, 50.0, n)
    coastal = lon >= np.quantile(lon, 0.8)
    region = np.where(coastal | (lon > 115), 0, np.where(lon > 105, 1, 2))
    region = np.where((lat > 42) & (lon > 118), 3, region)
    population = rng.lognormal(np.log(45.0), 0.8, n)
    gdp_pc = rng.lognormal(np.log(75_000.0), 0.35, n) * np.where(coastal, 1.5, 1.0)  # CNY per person
    gdp = population * gdp_pc / 1_000.0  # CNY bn
    intensity = np.clip(rng.lognormal(np.log(0.02), 0.45, n), 0.002, 0.07)
    rd = gdp * intensity
    papers = 220.0 * rd * rng.lognormal(0.0, 0.3, n)  # about China's papers per CNY bn of R&D
    graduates = population * rng.lognormal(np.log(7.0), 0.25, n)
    endowments = rng.uniform(0.0, 1.0, (n, len(ENDOWMENT_COLUMNS)))
    endowments[:, 3] = np.where(coastal, endowments[:, 3], 0.1 * endowments[:, 3])
    width = len(str(n))
    return RegionData(
        names=[f"R{i:0{width}d}" for i in range(n)],
        capitals=[f"C{i:0{width}d}" for i in range(n)],
        lon=lon,
        lat=lat,
        region=region.astype(int),
        coastal=coastal,
        population_m=population,
        gdp_cny_bn=gdp,
        rd_cny_bn=rd,
        sci_papers=papers,
        graduates_k=graduates,
        heis=np.maximum(1.0, np.round(population * 2.0)),
        endowments=endowments,
        year=year,
        synthetic=True,
        prior_growth=np.full(n, national_real_growth(year)),
    )


@cache
def load_posterior(windows: str = "projection") -> pd.DataFrame:
    """Draws from the estimated parameters' posterior: one row per draw, one column per key path.

    Args:
        windows: ``"projection"`` (estimated on 2012-2016 and 2016-2019: what experiments draw
            from) or ``"2012-2016"`` (no observation after 2016: the out-of-sample test).

    The provenance (method, windows, moments, priors, sampler settings, summary) is in the JSON file
    of the same name; ``python -m sim.analysis.estimation`` remakes both.
    """
    name = {"projection": "posterior.csv", "2012-2016": "posterior_2012_2016.csv"}.get(windows)
    if name is None:
        raise ValueError(f"windows: expected 'projection' or '2012-2016', got {windows!r}")
    return _table(name)


@cache
def posterior_provenance(windows: str = "projection") -> dict:
    """The JSON provenance of :func:`load_posterior`'s table."""
    import json

    name = {"projection": "posterior.json", "2012-2016": "posterior_2012_2016.json"}[windows]
    with resources.files("sim").joinpath("data", name).open("rb") as handle:
        return json.load(handle)
