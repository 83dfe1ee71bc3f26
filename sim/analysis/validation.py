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

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

import sim.metrics as metrics
from sim.analysis.hindcast import (
    CALIBRATION_WINDOW,
    DEFLATOR_SOURCE,
    GDP_DEFLATOR,
    HINDCAST_VALUES,
    Window,
    default_windows,
    deflator,
    hindcast,
    hindcast_scenario,
    observed_panel,
)
from sim.analysis.scores import (
    BetaBenchmark,
    annual_log_growth,
    fit_beta_benchmark,
    r2_log_levels,
    relative_growth,
    relative_level,
    rmse,
    skill_score,
    spearman,
)
from sim.scenario import Scenario

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
    "validate",
]

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
    frames = {init: _as_observed(model.province_frame()) for init, model in runs.items()}
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


def _as_observed(province: pd.DataFrame) -> pd.DataFrame:
    """A hindcast's province table with ``gdp_cny_bn`` = its real GDP (start-year yuan), the column the
    comparison reads from both the observed (deflated) and the simulated panels."""
    frame = province.copy()
    frame["gdp_cny_bn"] = frame["gdp_real_cny_bn"]
    return frame
