"""Scores of a forecast against observations: R² of log levels, Spearman, RMSE, skill against a
benchmark, relative growth, and the beta-convergence benchmark (pure functions, tested by hand)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

import sim.metrics as metrics

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
