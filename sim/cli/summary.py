"""Terminal summaries of a run: start against end year, top provinces, strategies in use."""

from __future__ import annotations

import numpy as np
import pandas as pd

NATIONAL_SUMMARY = (
    ("gdp_real_cny_bn", "Real GDP (CNY bn of the start year, chained volume)", "{:,.0f}"),
    ("gdp_per_capita_cny", "GDP per capita (CNY)", "{:,.0f}"),
    ("gini", "Gini of GDP per capita (pop.-weighted)", "{:.3f}"),
    ("theil_between_region", "Theil T between regions", "{:.4f}"),
    ("theil_within_region", "Theil T within regions", "{:.4f}"),
    ("coast_interior_ratio", "Coast/interior GDP per capita", "{:.2f}"),
    ("research_output", "Research output (SCI papers/yr)", "{:,.0f}"),
    ("interior_research_share", "Interior share of research", "{:.1%}"),
    ("interior_in_top10", "Interior provinces in research top 10", "{:.0f}"),
)


def national_table(national: pd.DataFrame) -> pd.DataFrame:
    """Start and end year of the key national metrics, one row per metric, formatted."""
    first, last = national.iloc[0], national.iloc[-1]
    rows = []
    for key, label, fmt in NATIONAL_SUMMARY:
        rows.append({"metric": label, str(int(first["year"])): fmt.format(first[key]),
                     str(int(last["year"])): fmt.format(last[key])})
    return pd.DataFrame(rows).set_index("metric")


def top_research(province: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The ``k`` provinces with most research output in the last year, with their capitals."""
    last = province[province["year"] == province["year"].max()]
    top = last.nlargest(k, "research_output")
    first = province[province["year"] == province["year"].min()].set_index("province")["research_rank"]
    return pd.DataFrame({
        "rank": np.arange(1, len(top) + 1),
        "province": top["province"].astype(str).to_numpy(),
        "capital": top["capital"].to_numpy(),
        "papers": top["research_output"].map("{:,.0f}".format).to_numpy(),
        "rank at start": [int(first.get(p, 0)) for p in top["province"].astype(str)],
    }).set_index("rank")


def strategy_table(province: pd.DataFrame) -> pd.DataFrame:
    """Per strategy in use at the end: its provinces and their growth of GDP per capita and research."""
    start_year, end_year = province["year"].min(), province["year"].max()
    years = max(1, end_year - start_year)
    first = province[province["year"] == start_year].set_index("province")
    last = province[province["year"] == end_year].set_index("province")
    rows = []
    for strategy, group in last.groupby("strategy", observed=True):
        names = list(group.index.astype(str))
        start = first.loc[names]
        pc_growth = (group["gdp_real_cny_bn"].sum() / group["population_m"].sum()) / (
            start["gdp_real_cny_bn"].sum() / start["population_m"].sum())
        research_growth = group["research_output"].sum() / start["research_output"].sum()
        shown = ", ".join(names[:3]) + (f" +{len(names) - 3} more" if len(names) > 3 else "")
        rows.append({
            "strategy": strategy,
            "provinces": shown,
            "GDP/cap CNY": f"{1000 * group['gdp_real_cny_bn'].sum() / group['population_m'].sum():,.0f}",
            "GDP/cap %/yr": f"{100 * (pc_growth ** (1 / years) - 1):.2f}",
            "research %/yr": f"{100 * (research_growth ** (1 / years) - 1):.2f}",
        })
    return pd.DataFrame(rows).set_index("strategy")


def format_summary(national: pd.DataFrame, province: pd.DataFrame, title: str) -> str:
    """The whole terminal summary of one run as text."""
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        parts = [
            title,
            "",
            national_table(national).to_string(),
            "",
            "Top 10 provinces by research output, last year",
            top_research(province).to_string(),
            "",
            "Strategies in use, last year (growth rates are yearly averages over the whole run)",
            strategy_table(province).to_string(),
        ]
    return "\n".join(parts)
