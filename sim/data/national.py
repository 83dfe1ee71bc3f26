"""National series: the GDP deflator, real income per person relative to a reference year, population growth.

The model's money is in prices of its start year; the shipped history is in current prices. The
deflator turns one into the other (used by the hindcast) and gives national real GDP per person
over 2010-2022, which the model uses to place its start year on the path of national income
(docs/ODD.md, "Productivity").
"""

from __future__ import annotations

from functools import cache

GDP_DEFLATOR: dict[int, float] = {
    2010: 87.60, 2011: 94.68, 2012: 96.89, 2013: 98.98, 2014: 100.00, 2015: 100.00, 2016: 101.41,
    2017: 105.70, 2018: 109.40, 2019: 110.81, 2020: 111.50, 2021: 116.52, 2022: 118.75,
}
"""China's implicit GDP deflator, index 2015 = 100."""

DEFLATOR_SOURCE = (
    "World Bank, World Development Indicators, GDP deflator (NY.GDP.DEFL.ZS, base year varies by "
    "country), China: 2010-2020 as published with 2015 = 100 (World Bank national accounts data); "
    "2021 and 2022 extended with the growth of the same series rebased to 2020 = 100 "
    "(100.0, 104.5, 106.5), i.e. +4.5 % and +1.9 %. Implied annual deflator growth 2012-2022: "
    "2.2, 1.0, 0.0, 1.4, 4.2, 3.5, 1.3, 0.6, 4.5, 1.9 %."
)
"""Where :data:`GDP_DEFLATOR` comes from."""


def deflator(year: int, base_year: int) -> float:
    """Price level of ``year`` relative to ``base_year`` (multiply base-year prices by it).

    Raises:
        ValueError: for a year outside :data:`GDP_DEFLATOR`.
    """
    for y in (year, base_year):
        if y not in GDP_DEFLATOR:
            raise ValueError(f"year {y} has no GDP deflator (have {min(GDP_DEFLATOR)}-{max(GDP_DEFLATOR)})")
    return GDP_DEFLATOR[year] / GDP_DEFLATOR[base_year]


@cache
def real_income_relative(year: int, reference: int = 2012) -> float:
    """National real GDP per person in ``year`` over that in ``reference`` (history table, deflated).

    Raises:
        ValueError: for a year outside the history table or the deflator.
    """
    from sim.data import load_history

    history = load_history()
    totals = history.groupby("year")[["gdp_100m_yuan", "population_10k"]].sum()
    for y in (year, reference):
        if y not in totals.index:
            raise ValueError(f"year {y} is not in the history table ({totals.index.min()}-{totals.index.max()})")
    per_person = totals["gdp_100m_yuan"] / totals["population_10k"]
    return float(per_person[year] / per_person[reference] / deflator(year, reference))


@cache
def national_population_growth(year: int) -> float:
    """National population growth from ``year - 1`` to ``year``: observed, then the UN outlook.

    Up to the last year of the history table the observed growth of the provinces' total (NBS).
    After it, UN World Population Prospects 2024 (medium variant) as growth factors: between two
    shipped years of the outlook the constant yearly rate that joins them (a modelling choice:
    the outlook ships only some years), and after its last year the rate of its last interval.
    The level is never taken from the outlook (UN mid-year totals differ from NBS year-end totals).
    """
    from sim.data import load_history, load_population_outlook

    totals = load_history().groupby("year")["population_10k"].sum()
    if year - 1 in totals.index and year in totals.index:
        return float(totals[year] / totals[year - 1] - 1.0)
    outlook = load_population_outlook().set_index("year")["population_m"].sort_index()
    years = [int(y) for y in outlook.index if y >= int(totals.index.max())]
    rates = [(years[k], years[k + 1], (outlook[years[k + 1]] / outlook[years[k]]) ** (1.0 / (years[k + 1] - years[k])) - 1.0)
             for k in range(len(years) - 1)]
    for start, end, rate in rates:
        if start < year <= end:
            return float(rate)
    if year <= rates[0][0]:
        return float(rates[0][2])
    return float(rates[-1][2])
