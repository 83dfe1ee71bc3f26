"""The patterns the model is estimated on: moments of a province-year panel over a window.

One function, :func:`panel_moments`, computes every moment from a panel with the same columns
whether the panel is observed (:func:`observed_estimation_panel`) or simulated (a hindcast's
province table), so the model and the data are measured alike (pattern-oriented modelling:
several patterns at once, at the national and the provincial scale):

* ``national_growth``: mean annual real growth of national GDP;
* ``growth_slope``: the yearly change of that growth (the slowdown), OLS over the window;
* ``beta_level`` and ``beta_rd``: cross-section regression of each province's relative real growth
  of GDP per person on its log relative level at the start and the log growth of its R&D stock
  (perpetual inventory of its R&D spending) over the window;
* ``growth_dispersion``: standard deviation of relative real growth across provinces;
* ``gini_change``: change of the population-weighted Gini of real GDP per person;
* ``papers_growth`` and ``interior_papers_change``: growth of national SCI papers, and the change of
  the interior's share of them;
* ``graduates_growth`` and ``graduates_capacity``: growth of national graduates, and the
  cross-section slope of a province's graduate growth (per person) on the growth of its R&D stock;
* ``migration_gradient``: slope of population growth on log relative income at the start.

Observed real growth of a province comes from its GRP index (constant prices, NBS); its level at
the start from nominal GRP (the Gini and relative levels need no deflator). Standard errors of the
observed moments come from a bootstrap over provinces (cross-section moments) and from the OLS or
sample variance over the years (national moments): :func:`observed_moments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

import sim.metrics as metrics

MOMENTS: tuple[str, ...] = (
    "national_growth",
    "growth_slope",
    "beta_level",
    "beta_rd",
    "growth_dispersion",
    "gini_change",
    "papers_growth",
    "interior_papers_change",
    "graduates_growth",
    "graduates_capacity",
    "migration_gradient",
)
"""Every moment :func:`panel_moments` returns, in a fixed order."""

RD_DEPRECIATION = 0.12
"""Depreciation of the R&D stock built from spending for the graduates pattern (as the model's institutes)."""


@dataclass(frozen=True)
class PatternWindow:
    """The years a set of moments is measured over: ``start`` to ``end`` (both included)."""

    start: int
    end: int

    @property
    def years(self) -> int:
        """Length in years."""
        return self.end - self.start


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients of ``y`` on the columns of ``x`` (a constant added first) and their standard errors."""
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = max(len(y) - design.shape[1], 1)
    cov = (resid @ resid / dof) * np.linalg.pinv(design.T @ design)
    return coef, np.sqrt(np.clip(np.diag(cov), 0.0, None))


def _wide(panel: pd.DataFrame, column: str) -> pd.DataFrame:
    return panel.pivot(index="province", columns="year", values=column).sort_index()


def panel_moments(panel: pd.DataFrame, window: PatternWindow) -> dict[str, float]:
    """Every moment of :data:`MOMENTS` from a province-year panel.

    Args:
        panel: columns ``province, year, coastal, population_m, gdp_real_cny_bn`` (at the start
            year's prices), ``research_output, graduates_k, rd_cny_bn`` for every year of the window.
        window: the years.
    """
    a, b, years = window.start, window.end, window.years
    real = _wide(panel, "gdp_real_cny_bn")
    pop = _wide(panel, "population_m")
    papers = _wide(panel, "research_output")
    grads = _wide(panel, "graduates_k")
    rd = _wide(panel, "rd_cny_bn")
    coastal = panel.groupby("province")["coastal"].first().reindex(real.index).to_numpy(bool)
    span = list(range(a, b + 1))
    national = real[span].sum(axis=0).to_numpy()
    annual = np.diff(np.log(national))
    pc = real / pop
    growth = np.log(pc[b] / pc[a]).to_numpy() / years
    relative = growth - np.log((real[b].sum() / pop[b].sum()) / (real[a].sum() / pop[a].sum())) / years
    level = np.log(pc[a].to_numpy() / (real[a].sum() / pop[a].sum()))
    stock = rd[a] / (RD_DEPRECIATION + 0.08)
    stock_start = stock.copy()
    for y in range(a + 1, b + 1):
        stock = stock * (1 - RD_DEPRECIATION) + rd[y]
    stock_growth = np.log(stock / stock_start).to_numpy() / years
    coef, _ = _ols(np.column_stack([level, stock_growth - stock_growth.mean()]), relative)
    gini = [metrics.gini(pc[y].to_numpy(), pop[y].to_numpy()) for y in (a, b)]
    share = [metrics.interior_share(papers[y].to_numpy(), coastal) for y in (a, b)]
    grad_growth = (np.log(grads[b] / grads[a]) - np.log(pop[b] / pop[a])).to_numpy()
    slope_grads, _ = _ols(np.log(stock / stock_start).to_numpy(), grad_growth)
    pop_growth = np.log(pop[b] / pop[a]).to_numpy() / years
    pop_growth = pop_growth - np.log(pop[b].sum() / pop[a].sum()) / years
    slope_migration, _ = _ols(level, pop_growth)
    slope_growth, _ = _ols(np.arange(len(annual), dtype=float), annual)
    return {
        "national_growth": float(annual.mean()),
        "growth_slope": float(slope_growth[1]),
        "beta_level": float(coef[1]),
        "beta_rd": float(coef[2]),
        "growth_dispersion": float(relative.std(ddof=1)),
        "gini_change": float(gini[1] - gini[0]),
        "papers_growth": float(np.log(papers[b].sum() / papers[a].sum()) / years),
        "interior_papers_change": float(share[1] - share[0]),
        "graduates_growth": float(np.log(grads[b].sum() / grads[a].sum()) / years),
        "graduates_capacity": float(slope_grads[1]),
        "migration_gradient": float(slope_migration[1]),
    }


def observed_estimation_panel(start: int = 2012, end: int = 2022) -> pd.DataFrame:
    """The observed panel in :func:`panel_moments`'s columns, real GDP at ``start``-year prices.

    A province's real GDP is its nominal GRP in ``start`` carried forward by its GRP index
    (constant prices); the national real GDP of the moments is the sum of these.
    """
    from sim.data import load_grp_index, load_history, load_provinces

    history = load_history()
    history = history[(history["year"] >= start) & (history["year"] <= end)].copy()
    index = load_grp_index().pivot(index="province", columns="year", values="grp_index")
    base = history[history["year"] == start].set_index("province")["gdp_100m_yuan"] / 10.0
    real = {start: base}
    for year in range(start + 1, end + 1):
        real[year] = real[year - 1] * index[year].reindex(base.index) / 100.0
    real_long = pd.DataFrame(real).stack().rename("gdp_real_cny_bn").reset_index()
    real_long.columns = ["province", "year", "gdp_real_cny_bn"]
    coastal = load_provinces().set_index("province")["coastal"]
    panel = history.merge(real_long, on=["province", "year"])
    panel["coastal"] = panel["province"].map(coastal).astype(bool)
    panel["population_m"] = panel["population_10k"] / 100.0
    panel["research_output"] = panel["sci_papers"].astype(float)
    panel["graduates_k"] = panel["graduates_10k"] * 10.0
    panel["rd_cny_bn"] = panel["rd_expenditure_100m_yuan"] / 10.0
    return panel[["province", "year", "coastal", "population_m", "gdp_real_cny_bn", "research_output",
                  "graduates_k", "rd_cny_bn"]].reset_index(drop=True)


def simulated_panel(province: pd.DataFrame) -> pd.DataFrame:
    """A hindcast's province table in :func:`panel_moments`'s columns (its R&D is its science budget)."""
    panel = province[["province", "year", "coastal", "population_m", "gdp_real_cny_bn", "research_output",
                      "graduates_k"]].copy()
    panel["province"] = panel["province"].astype(str)
    panel["rd_cny_bn"] = province["rd_budget_cny_bn"].to_numpy()
    return panel


def observed_moments(window: PatternWindow, draws: int = 400, seed: int = 0) -> pd.DataFrame:
    """The observed moments with standard errors: one row per moment (``moment, value, se``).

    Cross-section moments get a bootstrap over provinces (``draws`` resamples, fixed ``seed``);
    national moments the same bootstrap (it resamples the provinces that make up the nation),
    with a floor at the OLS standard error of the yearly series for ``national_growth`` and
    ``growth_slope``, so that a short window is not read as more precise than its years allow.
    """
    panel = observed_estimation_panel(window.start, window.end)
    value = panel_moments(panel, window)
    provinces = panel["province"].unique()
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(draws):
        pick = rng.choice(provinces, size=len(provinces), replace=True)
        parts = [panel[panel["province"] == p].assign(province=f"{p}#{k}") for k, p in enumerate(pick)]
        boot = pd.concat(parts, ignore_index=True)
        if boot["coastal"].all() or not boot["coastal"].any():
            continue
        samples.append(panel_moments(boot, window))
    frame = pd.DataFrame(samples)
    se = frame.std(ddof=1)
    national = panel.groupby("year")["gdp_real_cny_bn"].sum()
    annual = np.diff(np.log(national.loc[window.start: window.end].to_numpy()))
    coef, errors = _ols(np.arange(len(annual), dtype=float), annual)
    se["national_growth"] = max(se["national_growth"], annual.std(ddof=1) / np.sqrt(len(annual)))
    se["growth_slope"] = max(se["growth_slope"], errors[1])
    return pd.DataFrame({"moment": list(MOMENTS), "value": [value[m] for m in MOMENTS],
                         "se": [float(se[m]) for m in MOMENTS]})


def distance(simulated: Mapping[str, float], observed: pd.DataFrame) -> float:
    """Sum over moments of ((simulated - observed) / se)^2: the estimation's objective."""
    table = observed.set_index("moment")
    z = [(simulated[m] - table.at[m, "value"]) / table.at[m, "se"] for m in table.index]
    return float(np.sum(np.square(z)))
