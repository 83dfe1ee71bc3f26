"""Hindcast against the observed history, and the statistics that score it.

``validate()`` initialises the 31 provinces from the shipped history table (``sim/data/history.csv``)
in a start year, drives every province with its observed R&D spending year by year
(``investment.observed_rd = true``) and compares the simulated provinces with the observed ones over
a set of :class:`Window` s: GDP per capita (levels and growth), research output (SCI papers),
graduates, population, and the national inequality path (population-weighted Gini and CV).

Prices. The model's money is in prices of its start year (real); ``history.csv`` holds current
prices (nominal). Growth across provinces is compared as *relative growth*, the province's annual
log growth of GDP per capita minus the national one, which needs no deflator when one national
price level applies to every province. Where a real level or a national real growth rate is needed,
the observed figures are deflated with the national GDP deflator :data:`GDP_DEFLATOR` (World Bank WDI
``NY.GDP.DEFL.ZS``, see :data:`DEFLATOR_SOURCE`); the observed R&D series that drives the hindcast is
deflated with the same index, so that the model receives real money. Inequality indices of GDP per
capita are scale-free and need no deflator.

Benchmarks. Every statistic is also computed for two benchmark forecasts that see the same observed
start-of-window levels: *national rate* (every province grows at the national rate: relative growth
zero, relative levels frozen) and *beta convergence* (relative growth from a regression of relative
growth on the log relative level, fitted on the calibration window :data:`CALIBRATION_WINDOW` only).
Skill is ``1 - MSE(model) / MSE(benchmark)``: positive when the model beats the benchmark.

The statistics are pure functions (:func:`r2_log_levels`, :func:`spearman`, :func:`rmse`,
:func:`skill_score`, :func:`annual_log_growth`, :func:`relative_growth`, :func:`fit_beta_benchmark`),
tested against hand-computed values in ``tests/test_validation.py``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

import sim.metrics as metrics
from sim.scenario import Scenario, load_scenario, set_path, validate_scenario

logger = logging.getLogger(__name__)

__all__ = [
    "CALIBRATION_WINDOW",
    "DEFLATOR_SOURCE",
    "GDP_DEFLATOR",
    "HINDCAST_VALUES",
    "BetaBenchmark",
    "ValidationResult",
    "Window",
    "annual_log_growth",
    "compare_window",
    "default_windows",
    "deflator",
    "fit_beta_benchmark",
    "format_validation",
    "hindcast",
    "hindcast_scenario",
    "observed_beta_benchmark",
    "observed_panel",
    "r2_log_levels",
    "relative_growth",
    "relative_level",
    "rmse",
    "skill_score",
    "spearman",
    "summary_table",
    "validate",
    "write_results",
]

# --------------------------------------------------------------------------------------
# Prices

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


# --------------------------------------------------------------------------------------
# Pure statistics


def _paired(simulated: ArrayLike, observed: ArrayLike, name: str = "simulated") -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(simulated, dtype=float).ravel()
    o = np.asarray(observed, dtype=float).ravel()
    if s.shape != o.shape:
        raise ValueError(f"{name} has {s.size} values but observed has {o.size}")
    if s.size == 0:
        raise ValueError(f"{name} is empty")
    if not (np.isfinite(s).all() and np.isfinite(o).all()):
        raise ValueError(f"{name} and observed must be finite")
    return s, o


def r2_log_levels(simulated: ArrayLike, observed: ArrayLike) -> float:
    """Coefficient of determination of log levels against the 1:1 line.

    ``R^2 = 1 - sum (ln s - ln o)^2 / sum (ln o - mean ln o)^2``: the share of the observed
    cross-sectional variance of ``ln o`` that the simulation reproduces. It is *not* the squared
    correlation: a simulation that ranks right but is off in level or spread scores lower, and
    R^2 can be negative (worse than predicting the observed mean for everyone).

    Raises:
        ValueError: on mismatched, empty, non-finite or non-positive input, or when the observed
            values are all equal.
    """
    s, o = _paired(simulated, observed)
    if (s <= 0).any() or (o <= 0).any():
        raise ValueError("simulated and observed levels must be positive")
    ls, lo = np.log(s), np.log(o)
    total = float(np.sum((lo - lo.mean()) ** 2))
    if total == 0:
        raise ValueError("observed levels are all equal: R^2 is undefined")
    return 1.0 - float(np.sum((ls - lo) ** 2)) / total


def spearman(simulated: ArrayLike, observed: ArrayLike) -> float:
    """Spearman rank correlation (ties get average ranks); nan when either side is constant."""
    s, o = _paired(simulated, observed)
    if s.size < 2 or np.ptp(s) == 0 or np.ptp(o) == 0:
        return math.nan
    return float(stats.spearmanr(s, o).statistic)


def rmse(simulated: ArrayLike, observed: ArrayLike) -> float:
    """Root mean squared error ``sqrt(mean((s - o)^2))``."""
    s, o = _paired(simulated, observed)
    return float(np.sqrt(np.mean((s - o) ** 2)))


def skill_score(simulated: ArrayLike, observed: ArrayLike, benchmark: ArrayLike) -> float:
    """MSE skill score ``1 - MSE(simulated) / MSE(benchmark)`` against the same observations.

    1 is a perfect forecast, 0 is no better than the benchmark, negative is worse. nan when the
    benchmark itself is perfect.
    """
    s, o = _paired(simulated, observed)
    b, _ = _paired(benchmark, observed, "benchmark")
    mse_bench = float(np.mean((b - o) ** 2))
    if mse_bench == 0:
        return math.nan
    return 1.0 - float(np.mean((s - o) ** 2)) / mse_bench


def annual_log_growth(start: ArrayLike, end: ArrayLike, years: float) -> np.ndarray:
    """Average annual log growth ``ln(end / start) / years``.

    Raises:
        ValueError: on non-positive levels or ``years``.
    """
    a = np.asarray(start, dtype=float)
    b = np.asarray(end, dtype=float)
    if not years > 0:
        raise ValueError(f"years must be positive, got {years!r}")
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError("levels must be positive to take growth rates")
    return np.log(b / a) / years


def relative_growth(value_start: ArrayLike, value_end: ArrayLike, population_start: ArrayLike,
                    population_end: ArrayLike, years: float) -> np.ndarray:
    """Annual log growth of each region's per-capita value minus the national one.

    ``g_i - g_nat`` with ``g_i = ln(y_i,end / y_i,start) / T``, ``y = value / population`` and
    ``g_nat`` the same for the national aggregate ``sum value / sum population``. A common price
    level cancels, so nominal and real series give the same answer.

    Args:
        value_start, value_end: e.g. GDP per region at the window's start and end.
        population_start, population_end: population per region (any unit).
        years: length of the window.
    """
    v0, v1 = np.asarray(value_start, float), np.asarray(value_end, float)
    p0, p1 = np.asarray(population_start, float), np.asarray(population_end, float)
    own = annual_log_growth(v0 / p0, v1 / p1, years)
    national = annual_log_growth(v0.sum() / p0.sum(), v1.sum() / p1.sum(), years)
    return own - national


def relative_level(value: ArrayLike, population: ArrayLike) -> np.ndarray:
    """Per-capita value of each region divided by the national per-capita value."""
    v, p = np.asarray(value, float), np.asarray(population, float)
    return (v / p) / (v.sum() / p.sum())


class BetaBenchmark(NamedTuple):
    """Beta-convergence forecast ``g_rel = intercept + slope * ln(relative level)``.

    Attributes:
        slope, intercept: OLS fit on the calibration window.
        r_squared: its in-sample R^2.
        start_year, end_year: the window it was fitted on.
    """

    slope: float
    intercept: float
    r_squared: float
    start_year: int
    end_year: int

    def predict(self, level_start: ArrayLike) -> np.ndarray:
        """Relative annual growth forecast from relative levels (province / national per capita)."""
        return self.intercept + self.slope * np.log(np.asarray(level_start, float))


def fit_beta_benchmark(level_start: ArrayLike, level_end: ArrayLike, start_year: int, end_year: int) -> BetaBenchmark:
    """Fit the beta-convergence benchmark on observed relative levels of one window.

    Regresses relative growth ``ln(r_end / r_start) / T`` on ``ln r_start`` by unweighted OLS
    (provinces as units, like the RMSE it competes on), with :func:`sim.metrics.beta_convergence`.

    Args:
        level_start, level_end: relative per-capita levels (province / national) at the window's ends.
        start_year, end_year: the window.
    """
    fit = metrics.beta_convergence(level_start, level_end, end_year - start_year)
    return BetaBenchmark(fit.slope, fit.intercept, fit.r_squared, start_year, end_year)


# --------------------------------------------------------------------------------------
# Observed data and hindcast runs


@dataclass(frozen=True)
class Window:
    """A comparison window.

    Attributes:
        name: label in the tables (``calibration``, ``validation``...).
        start, end: first and last year compared (growth is over ``end - start`` years).
        init_year: the year the model run was initialised from observed data (``<= start``).
        sample: ``"in"`` when parameters were fitted on it, ``"out"`` otherwise.
    """

    name: str
    start: int
    end: int
    init_year: int
    sample: str = "out"

    @property
    def years(self) -> int:
        """Length of the window in years."""
        return self.end - self.start


CALIBRATION_WINDOW = Window("calibration", 2012, 2016, 2012, "in")
"""The window the calibrated parameters and the beta benchmark are fitted on."""

HINDCAST_VALUES: dict[str, Any] = {
    "investment.observed_rd": True,
    "investment.central_share": 0.0,
    "imitation.enabled": False,
    "strategies.default": "baseline",
}
"""Settings of every hindcast run: observed R&D drives each province (the observed series already
includes the central government's spending in the province, so no separate central pool), business
as usual, no strategy reviews."""


def default_windows(last_year: int | None = None) -> tuple[Window, ...]:
    """The windows ``sim validate`` reports.

    * ``calibration`` 2012-2016, run from 2012 (in sample);
    * ``validation`` 2016-2020, run re-initialised from observed 2016 data (out of sample; the
      benchmarks see the same 2016 data);
    * ``validation_continuous`` 2016-2020 from the run started in 2012 (out of sample);
    * ``hindcast`` 2012 to the last year of the table (2022), run from 2012 (mixed: 2012-2016 in
      sample).
    """
    last = int(observed_panel()["year"].max()) if last_year is None else last_year
    return (
        CALIBRATION_WINDOW,
        Window("validation", 2016, 2020, 2016, "out"),
        Window("validation_continuous", 2016, 2020, 2012, "out"),
        Window("hindcast", 2012, last, 2012, "mixed"),
    )


def observed_panel() -> pd.DataFrame:
    """The history table in model units, one row per province and year.

    Columns: ``province, year, population_m, gdp_cny_bn`` (nominal), ``gdp_per_capita_cny``
    (nominal), ``research_output`` (SCI papers), ``graduates_k``, ``rd_cny_bn`` (nominal).
    """
    from sim.data import load_history

    h = load_history()
    frame = pd.DataFrame({
        "province": h["province"].astype(str),
        "year": h["year"].astype(np.int64),
        "population_m": h["population_10k"] / 100.0,
        "gdp_cny_bn": h["gdp_100m_yuan"] / 10.0,
        "research_output": h["sci_papers"].astype(float),
        "graduates_k": h["graduates_10k"] * 10.0,
        "rd_cny_bn": h["rd_expenditure_100m_yuan"] / 10.0,
    })
    frame["gdp_per_capita_cny"] = 1000.0 * frame["gdp_cny_bn"] / frame["population_m"]
    return frame


def hindcast_scenario(scenario: Scenario | str | None = None, values: Mapping[str, Any] | None = None,
                      start_year: int = 2012, end_year: int = 2022) -> Scenario:
    """The scenario of a hindcast: ``scenario``'s parameters with business as usual, no events,
    :data:`HINDCAST_VALUES`, the years, and then the caller's ``values`` (key path -> value).

    Raises:
        ScenarioError: naming the key path of a bad value.
    """
    if isinstance(scenario, Scenario):
        base, source = scenario, "hindcast"
    else:
        base = load_scenario(scenario)
        source = str(scenario) if scenario is not None else "defaults"
    data = base.model_dump(mode="python")
    data["events"] = []
    data["strategies"] = {"default": "baseline"}  # business as usual everywhere: no assignments
    fixed = {"run.start_year": start_year, "run.end_year": end_year, "run.provinces": "china",
             "investment.target_year": max(start_year, data["investment"]["target_year"]), **HINDCAST_VALUES}
    for key, value in {**fixed, **dict(values or {})}.items():
        set_path(data, key, value, source)
    return validate_scenario(data, source if not values else "values " + ", ".join(values))


def hindcast(scenario: Scenario | str | None = None, *, start_year: int = 2012, end_year: int = 2022,
             seed: int | None = None, values: Mapping[str, Any] | None = None):
    """Run the model from observed ``start_year`` data to ``end_year``, driven by observed R&D.

    The observed R&D (current prices) is deflated to ``start_year`` prices with
    :data:`GDP_DEFLATOR` before it reaches the model, whose money is in start-year prices.

    Args:
        scenario: a :class:`Scenario`, a scenario file or None (the defaults); events are dropped.
        start_year, end_year: the years (2010-2022).
        seed: the model seed (default: the scenario's ``run.seed``).
        values: key path -> value, applied last (Python or numpy values).

    Returns:
        The finished :class:`~sim.model.model.RegionalGrowthModel`.
    """
    from sim.model import RegionalGrowthModel

    cfg = hindcast_scenario(scenario, values, start_year, end_year)
    model = RegionalGrowthModel(cfg, seed=seed)
    real_rd = {year: values / deflator(year, start_year) for year, values in model.data.observed_rd.items()}
    # a private copy: model.data comes from a cache shared by every model of this start year
    model.data = dataclasses.replace(model.data, observed_rd=real_rd)
    return model.run()


# --------------------------------------------------------------------------------------
# Comparison


def _wide(frame: pd.DataFrame, column: str, year: int, provinces: list[str]) -> np.ndarray:
    rows = frame[frame["year"] == year].set_index("province")
    return rows.loc[provinces, column].to_numpy(float)


def _path(values: Sequence[np.ndarray], populations: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    gini = np.array([metrics.gini(v, p) for v, p in zip(values, populations, strict=True)])
    cv = np.array([metrics.coefficient_of_variation(v, p) for v, p in zip(values, populations, strict=True)])
    return gini, cv


class _Comparison(NamedTuple):
    statistics: list[dict[str, Any]]
    provinces: pd.DataFrame
    inequality: pd.DataFrame


def compare_window(simulated: pd.DataFrame, observed: pd.DataFrame, window: Window,
                   beta: BetaBenchmark) -> _Comparison:
    """Statistics of one window for the model and both benchmarks.

    Args:
        simulated: the model's ``province_frame()`` (money in prices of ``window.init_year``).
        observed: :func:`observed_panel`.
        window: the window to compare.
        beta: the fitted beta-convergence benchmark.

    Returns:
        ``(statistics rows, per-province table, inequality path)``; see :func:`validate`.
    """
    provinces = list(observed[observed["year"] == window.start]["province"])
    years = window.years
    a, b = window.start, window.end
    price = deflator(b, window.init_year)

    def sim(col: str, year: int) -> np.ndarray:
        return _wide(simulated, col, year, provinces)

    def obs(col: str, year: int) -> np.ndarray:
        return _wide(observed, col, year, provinces)

    rows: list[dict[str, Any]] = []

    def add(variable: str, statistic: str, model: float, national: float = math.nan,
            beta_value: float = math.nan, skill_national: float = math.nan, skill_beta: float = math.nan,
            observed_value: float = math.nan) -> None:
        rows.append({"window": window.name, "sample": window.sample, "start": a, "end": b,
                     "init_year": window.init_year, "variable": variable, "statistic": statistic,
                     "model": model, "observed": observed_value, "national_rate": national,
                     "beta_convergence": beta_value,
                     "skill_vs_national_rate": skill_national, "skill_vs_beta_convergence": skill_beta})

    # ---- GDP per capita
    pop_o0, pop_o1 = obs("population_m", a), obs("population_m", b)
    gdp_o0, gdp_o1 = obs("gdp_cny_bn", a), obs("gdp_cny_bn", b)
    pop_s0, pop_s1 = sim("population_m", a), sim("population_m", b)
    gdp_s0, gdp_s1 = sim("gdp_cny_bn", a), sim("gdp_cny_bn", b)
    rel_o0, rel_o1 = relative_level(gdp_o0, pop_o0), relative_level(gdp_o1, pop_o1)
    rel_s1 = relative_level(gdp_s1, pop_s1)
    g_rel_obs = relative_growth(gdp_o0, gdp_o1, pop_o0, pop_o1, years)
    g_rel_sim = relative_growth(gdp_s0, gdp_s1, pop_s0, pop_s1, years)
    g_rel_nat = np.zeros_like(g_rel_obs)
    g_rel_beta = beta.predict(rel_o0)
    rel_beta1 = rel_o0 * np.exp(g_rel_beta * years)
    rel_beta1 /= np.dot(rel_beta1, pop_o1) / pop_o1.sum()  # renormalise to a national mean of 1
    g_obs_real = annual_log_growth(gdp_o0 / pop_o0 / deflator(a, window.init_year), gdp_o1 / pop_o1 / price, years)
    g_sim = annual_log_growth(gdp_s0 / pop_s0, gdp_s1 / pop_s1, years)
    nat_obs = float(annual_log_growth(gdp_o0.sum() / pop_o0.sum() / deflator(a, window.init_year),
                                      gdp_o1.sum() / pop_o1.sum() / price, years))
    nat_sim = float(annual_log_growth(gdp_s0.sum() / pop_s0.sum(), gdp_s1.sum() / pop_s1.sum(), years))
    pc_obs_real = 1000.0 * gdp_o1 / pop_o1 / price
    pc_sim = 1000.0 * gdp_s1 / pop_s1
    add("gdp_per_capita", "r2_log_level", r2_log_levels(pc_sim, pc_obs_real))
    add("gdp_per_capita", "r2_log_relative_level", r2_log_levels(rel_s1, rel_o1),
        r2_log_levels(rel_o0, rel_o1), r2_log_levels(rel_beta1, rel_o1))
    add("gdp_per_capita", "spearman_growth", spearman(g_rel_sim, g_rel_obs), math.nan,
        spearman(g_rel_beta, g_rel_obs))
    add("gdp_per_capita", "rmse_relative_growth", rmse(g_rel_sim, g_rel_obs), rmse(g_rel_nat, g_rel_obs),
        rmse(g_rel_beta, g_rel_obs), skill_score(g_rel_sim, g_rel_obs, g_rel_nat),
        skill_score(g_rel_sim, g_rel_obs, g_rel_beta))
    add("gdp_per_capita", "rmse_real_growth", rmse(g_sim, g_obs_real))
    add("gdp_per_capita", "national_real_growth", nat_sim, observed_value=nat_obs)
    # annual relative growth, pooled over province-years
    sims, obss, bets = [], [], []
    for year in range(a, b):
        go = relative_growth(obs("gdp_cny_bn", year), obs("gdp_cny_bn", year + 1), obs("population_m", year),
                             obs("population_m", year + 1), 1)
        gs = relative_growth(sim("gdp_cny_bn", year), sim("gdp_cny_bn", year + 1), sim("population_m", year),
                             sim("population_m", year + 1), 1)
        obss.append(go)
        sims.append(gs)
        bets.append(g_rel_beta)
    so, ss, sb = np.concatenate(obss), np.concatenate(sims), np.concatenate(bets)
    add("gdp_per_capita", "spearman_annual_growth", spearman(ss, so), math.nan, spearman(sb, so))
    add("gdp_per_capita", "rmse_annual_relative_growth", rmse(ss, so), rmse(np.zeros_like(so), so), rmse(sb, so),
        skill_score(ss, so, np.zeros_like(so)), skill_score(ss, so, sb))

    table = pd.DataFrame({
        "window": window.name, "province": provinces,
        "gdp_per_capita_observed_cny": 1000.0 * gdp_o1 / pop_o1,
        "gdp_per_capita_observed_real_cny": pc_obs_real,
        "gdp_per_capita_simulated_cny": pc_sim,
        "relative_growth_observed": g_rel_obs, "relative_growth_simulated": g_rel_sim,
        "relative_growth_beta": g_rel_beta,
    })

    # ---- research output, graduates, population: counts, no prices
    for variable in ("research_output", "graduates_k", "population_m"):
        o0, o1 = obs(variable, a), obs(variable, b)
        s0, s1 = sim(variable, a), sim(variable, b)
        go, gs = annual_log_growth(o0, o1, years), annual_log_growth(s0, s1, years)
        nat_o = float(annual_log_growth(o0.sum(), o1.sum(), years))
        nat_s = float(annual_log_growth(s0.sum(), s1.sum(), years))
        go_rel, gs_rel = go - nat_o, gs - nat_s
        zero = np.zeros_like(go_rel)
        name = {"graduates_k": "graduates", "population_m": "population"}.get(variable, variable)
        frozen = o0 * (o1.sum() / o0.sum())  # national-rate benchmark level
        add(name, "r2_log_level", r2_log_levels(s1, o1), r2_log_levels(frozen, o1))
        add(name, "spearman_growth", spearman(gs, go))
        add(name, "rmse_growth", rmse(gs, go), rmse(np.full_like(go, nat_o), go),
            skill_national=skill_score(gs, go, np.full_like(go, nat_o)))
        add(name, "rmse_relative_growth", rmse(gs_rel, go_rel), rmse(zero, go_rel),
            skill_national=skill_score(gs_rel, go_rel, zero))
        add(name, "national_growth", nat_s, observed_value=nat_o)
        table[f"{name}_observed"] = o1
        table[f"{name}_simulated"] = s1
        table[f"{name}_growth_observed"] = go
        table[f"{name}_growth_simulated"] = gs

    # ---- inequality path
    path_years = list(range(a, b + 1))
    obs_pc = [obs("gdp_per_capita_cny", y) for y in path_years]
    obs_pop = [obs("population_m", y) for y in path_years]
    sim_pc = [sim("gdp_per_capita_cny", y) for y in path_years]
    sim_pop = [sim("population_m", y) for y in path_years]
    nat_pc = [rel_o0 for _ in path_years]
    beta_pc = [rel_o0 * np.exp(g_rel_beta * (y - a)) for y in path_years]
    gini_o, cv_o = _path(obs_pc, obs_pop)
    gini_s, cv_s = _path(sim_pc, sim_pop)
    gini_n, cv_n = _path(nat_pc, obs_pop)
    gini_b, cv_b = _path(beta_pc, obs_pop)
    inequality = pd.DataFrame({
        "window": window.name, "year": path_years,
        "gini_observed": gini_o, "gini_simulated": gini_s, "gini_national_rate": gini_n,
        "gini_beta_convergence": gini_b,
        "cv_observed": cv_o, "cv_simulated": cv_s, "cv_national_rate": cv_n, "cv_beta_convergence": cv_b,
    })
    later = slice(1, None)  # the start year is observed data for the benchmarks (and the model when init there)
    for name, o, s, n, bb in (("gini", gini_o, gini_s, gini_n, gini_b), ("cv", cv_o, cv_s, cv_n, cv_b)):
        add("inequality", f"{name}_end", float(s[-1]), float(n[-1]), float(bb[-1]), observed_value=float(o[-1]))
        add("inequality", f"{name}_change", float(s[-1] - s[0]), float(n[-1] - n[0]), float(bb[-1] - bb[0]),
            observed_value=float(o[-1] - o[0]))
        add("inequality", f"rmse_{name}_path", rmse(s[later], o[later]), rmse(n[later], o[later]),
            rmse(bb[later], o[later]), skill_score(s[later], o[later], n[later]),
            skill_score(s[later], o[later], bb[later]))
    return _Comparison(rows, table, inequality)


@dataclass
class ValidationResult:
    """What :func:`validate` returns.

    Attributes:
        statistics: one row per window, variable and statistic; columns ``model``,
            ``national_rate``, ``beta_convergence`` (the statistic for each forecast), ``observed``
            (for rows that compare a value, e.g. the end-year Gini) and the MSE skill of the model
            against each benchmark (for RMSE rows).
        provinces: per window and province, observed and simulated end levels and growth.
        inequality: per window and year, the Gini and CV paths (observed, model, benchmarks).
        beta: the beta-convergence benchmark.
        runs: the hindcast models by initialisation year.
        scenario: the hindcast scenario (of the first run).
    """

    statistics: pd.DataFrame
    provinces: pd.DataFrame
    inequality: pd.DataFrame
    beta: BetaBenchmark
    runs: dict[int, Any]
    scenario: Scenario

    def headline(self) -> pd.DataFrame:
        """The key rows: GDP per capita growth and levels, papers, graduates and the Gini path."""
        keep = {
            ("gdp_per_capita", "r2_log_relative_level"), ("gdp_per_capita", "r2_log_level"),
            ("gdp_per_capita", "spearman_growth"), ("gdp_per_capita", "rmse_relative_growth"),
            ("gdp_per_capita", "national_real_growth"),
            ("research_output", "r2_log_level"), ("research_output", "spearman_growth"),
            ("research_output", "rmse_growth"), ("graduates", "r2_log_level"), ("graduates", "rmse_growth"),
            ("inequality", "gini_end"), ("inequality", "rmse_gini_path"),
            ("inequality", "cv_end"), ("inequality", "rmse_cv_path"),
        }
        mask = [(v, s) in keep for v, s in zip(self.statistics["variable"], self.statistics["statistic"], strict=True)]
        return self.statistics[mask].reset_index(drop=True)


def observed_beta_benchmark(observed: pd.DataFrame | None = None,
                            window: Window = CALIBRATION_WINDOW) -> BetaBenchmark:
    """The beta-convergence benchmark fitted on observed relative GDP per capita in ``window``."""
    observed = observed_panel() if observed is None else observed
    provinces = list(observed[observed["year"] == window.start]["province"])
    levels = [relative_level(_wide(observed, "gdp_cny_bn", y, provinces), _wide(observed, "population_m", y, provinces))
              for y in (window.start, window.end)]
    return fit_beta_benchmark(levels[0], levels[1], window.start, window.end)


def validate(scenario: Scenario | str | None = None, *, values: Mapping[str, Any] | None = None,
             windows: Sequence[Window] | None = None, seed: int | None = None) -> ValidationResult:
    """Hindcast the provinces and score them against the observed history and both benchmarks.

    One model run per distinct ``init_year`` of ``windows`` (to the last window end of that
    initialisation), each driven by observed R&D (see :func:`hindcast`).

    Args:
        scenario: a :class:`Scenario`, scenario file or None (the package defaults).
        values: key path -> value, applied to every hindcast.
        windows: the windows (default :func:`default_windows`).
        seed: model seed (default: the scenario's ``run.seed``).
    """
    observed = observed_panel()
    windows = tuple(default_windows() if windows is None else windows)
    beta = observed_beta_benchmark(observed)
    ends: dict[int, int] = {}
    for w in windows:
        if not w.init_year <= w.start < w.end:
            raise ValueError(f"window {w.name}: need init_year <= start < end, got {w}")
        ends[w.init_year] = max(ends.get(w.init_year, w.end), w.end)
    runs = {init: hindcast(scenario, start_year=init, end_year=end, seed=seed, values=values)
            for init, end in sorted(ends.items())}
    frames = {init: model.province_frame() for init, model in runs.items()}
    for frame in frames.values():
        frame["province"] = frame["province"].astype(str)
    rows: list[dict[str, Any]] = []
    tables, paths = [], []
    for w in windows:
        result = compare_window(frames[w.init_year], observed, w, beta)
        rows += result.statistics
        tables.append(result.provinces)
        paths.append(result.inequality)
    first = runs[min(runs)]
    return ValidationResult(statistics=pd.DataFrame(rows), provinces=pd.concat(tables, ignore_index=True),
                            inequality=pd.concat(paths, ignore_index=True), beta=beta, runs=runs,
                            scenario=first.scenario)


# --------------------------------------------------------------------------------------
# Terminal table and results folder

SUMMARY_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("gdp_per_capita", "r2_log_relative_level", "GDP pc: R2 of log relative level", "{:.3f}"),
    ("gdp_per_capita", "r2_log_level", "GDP pc: R2 of log level (real)", "{:.3f}"),
    ("gdp_per_capita", "spearman_growth", "GDP pc: Spearman of growth", "{:.2f}"),
    ("gdp_per_capita", "rmse_relative_growth", "GDP pc: RMSE of relative growth", "{:.4f}"),
    ("gdp_per_capita", "rmse_annual_relative_growth", "GDP pc: RMSE of annual rel. growth", "{:.4f}"),
    ("gdp_per_capita", "national_real_growth", "GDP pc: national real growth", "{:.4f}"),
    ("research_output", "r2_log_level", "papers: R2 of log level", "{:.3f}"),
    ("research_output", "spearman_growth", "papers: Spearman of growth", "{:.2f}"),
    ("research_output", "rmse_relative_growth", "papers: RMSE of relative growth", "{:.4f}"),
    ("research_output", "national_growth", "papers: national growth", "{:.4f}"),
    ("graduates", "r2_log_level", "graduates: R2 of log level", "{:.3f}"),
    ("graduates", "spearman_growth", "graduates: Spearman of growth", "{:.2f}"),
    ("graduates", "rmse_relative_growth", "graduates: RMSE of relative growth", "{:.4f}"),
    ("inequality", "gini_end", "Gini, end year", "{:.4f}"),
    ("inequality", "rmse_gini_path", "Gini path: RMSE", "{:.4f}"),
    ("inequality", "cv_end", "CV, end year", "{:.4f}"),
    ("inequality", "rmse_cv_path", "CV path: RMSE", "{:.4f}"),
)
"""Rows of the terminal table: variable, statistic, label, format."""


def summary_table(statistics: pd.DataFrame) -> pd.DataFrame:
    """The terminal table: one row per window and key statistic, values formatted as text.

    Columns: ``window``, ``statistic``, ``model``, ``observed``, ``national rate``, ``beta conv.``,
    ``skill/national``, ``skill/beta`` (skill = 1 - MSE(model) / MSE(benchmark), for RMSE rows).
    """
    rows = []
    for window, frame in statistics.groupby("window", sort=False):
        first = frame.iloc[0]
        sample = {"in": "in sample", "out": "out of sample"}.get(first["sample"], f"{first['sample']} sample")
        label = f"{window} {int(first['start'])}-{int(first['end'])} ({sample})"
        for variable, statistic, text, fmt in SUMMARY_ROWS:
            match = frame[(frame["variable"] == variable) & (frame["statistic"] == statistic)]
            if match.empty:
                continue
            row = match.iloc[0]

            def cell(value: float, form: str = fmt) -> str:
                return "" if pd.isna(value) else form.format(value)

            rows.append({"window": label, "statistic": text, "model": cell(row["model"]),
                         "observed": cell(row["observed"]), "national rate": cell(row["national_rate"]),
                         "beta conv.": cell(row["beta_convergence"]),
                         "skill/national": cell(row["skill_vs_national_rate"], "{:+.2f}"),
                         "skill/beta": cell(row["skill_vs_beta_convergence"], "{:+.2f}")})
            label = ""
    return pd.DataFrame(rows)


def format_validation(result: ValidationResult) -> str:
    """The statistics of a validation as a terminal table, with a header that says what was done."""
    beta = result.beta
    header = [
        "Hindcast of the 31 provinces: initialised from sim/data/history.csv, driven by observed provincial R&D",
        "(deflated to start-year prices with the World Bank GDP deflator); relative growth = province minus national.",
        f"Benchmarks: national rate (relative growth 0); beta convergence fitted on {beta.start_year}-{beta.end_year} "
        f"(slope {beta.slope:+.4f}/yr, R2 {beta.r_squared:.3f}).",
        "skill = 1 - MSE(model)/MSE(benchmark): > 0 beats the benchmark.",
        "",
    ]
    table = summary_table(result.statistics)
    columns = list(table.columns)
    widths = {c: max(len(c), *(len(v) for v in table[c])) for c in columns}
    left = {"window", "statistic"}

    def line(values: dict[str, str]) -> str:
        return "  ".join(values[c].ljust(widths[c]) if c in left else values[c].rjust(widths[c]) for c in columns)

    body = [line({c: c for c in columns})]
    for _, row in table.iterrows():
        if row["window"]:
            body.append("")
        body.append(line(row.to_dict()))
    return "\n".join(header + body)


def write_results(folder: str | Path, result: ValidationResult, calibration: Any = None,
                  extra_manifest: dict[str, Any] | None = None, figures: bool = True) -> Path:
    """Write a validation results folder.

    Layout::

        manifest.json            kind "validation": scenario, windows, deflator, benchmark, calibration
        statistics.csv/.parquet  every statistic (see ValidationResult.statistics)
        provinces.csv/.parquet   per window and province, observed and simulated
        inequality.csv/.parquet  per window and year, the Gini and CV paths
        calibration.csv          the fitted parameters (with --calibrate)
        national/, province/     the hindcast runs' tables (part-init<year>.parquet)
        figures/*.png            see sim.analysis.figures

    Raises:
        FileExistsError: when ``folder`` exists and is not empty.
    """
    from sim.experiments.store import provenance, write_manifest, write_part

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("statistics", result.statistics), ("provinces", result.provinces),
                        ("inequality", result.inequality)):
        frame.to_csv(folder / f"{name}.csv", index=False)
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    for init, model in result.runs.items():
        for table, frame in (("national", model.national_frame()), ("province", model.province_frame())):
            frame.insert(0, "init_year", init)
            if "province" in frame:
                frame["province"] = frame["province"].astype(str)
            write_part(folder, table, f"init{init}", frame)
    manifest: dict[str, Any] = {
        "kind": "validation",
        "scenario": result.scenario.model_dump(mode="json"),
        "hindcast_values": dict(HINDCAST_VALUES),
        "windows": [{"name": n, "start": int(a), "end": int(b), "init_year": int(i), "sample": smp}
                    for n, a, b, i, smp in result.statistics[["window", "start", "end", "init_year", "sample"]]
                    .drop_duplicates().itertuples(index=False)],
        "deflator": {"index_2015_100": GDP_DEFLATOR, "source": DEFLATOR_SOURCE},
        "beta_benchmark": result.beta._asdict(),
        **provenance(),
    }
    if calibration is not None:
        manifest["calibration"] = calibration.to_dict()
        calibration.table().to_csv(folder / "calibration.csv", index=False)
        calibration.moments_table().to_csv(folder / "calibration_moments.csv", index=False)
    manifest.update(extra_manifest or {})
    write_manifest(folder, manifest)
    if figures:
        from sim.analysis.figures import write_validation_figures

        write_validation_figures(folder, result.statistics, result.provinces, result.inequality)
    return folder
