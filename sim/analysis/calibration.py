"""Calibration: fit a few parameters to the observed 2012-2016 history with scipy.optimize.

The fit is by simulated moments (indirect inference). Each evaluation runs the hindcast of
:mod:`sim.analysis.validation` (the provinces initialised from observed 2012 data and driven by observed R&D)
to 2016 and computes three summary statistics ("moments") of the simulated provinces; bounded
nonlinear least squares (:func:`scipy.optimize.least_squares`, trust-region reflective) makes them
equal to the same statistics of the observed provinces. Each residual is divided by the standard
error of its observed moment, so that the Jacobian at the optimum gives delta-method standard
errors of the fitted parameters.

========================  ==========================================================  ==============================
moment                    definition (2012-2016, 31 provinces)                         identifies
========================  ==========================================================  ==============================
``national_growth``       annual log growth of national real GDP per capita            ``economy.base_tfp_growth``
                          (observed deflated with :data:`sim.analysis.validation.GDP_DEFLATOR`)
``beta_slope``            OLS slope of provinces' relative growth of GDP per capita    ``economy.catch_up_rate``
                          on their log relative level in 2012 (beta convergence)
``migration_gradient``    OLS slope of provinces' relative population growth on        ``migration.population_migration_rate``
                          their log relative GDP per capita in 2012
========================  ==========================================================  ==============================

Three moments for three parameters: the fit is exactly identified and its residuals go to zero.
Matching summary moments, rather than each province's growth, is deliberate: a province's growth
in four years is mostly shocks the model does not carry (the northeast's and Shanxi's slump), while
the convergence slope was stable (-0.0128 in 2012-2016, -0.0126 in 2016-2020). Province-by-province
errors, the Gini path and the benchmarks are then scored in and out of sample by ``sim validate``.
See ``docs/validation.md`` for why these parameters and not others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

import sim.metrics as metrics
from sim.analysis.validation import (
    CALIBRATION_WINDOW,
    Window,
    annual_log_growth,
    deflator,
    hindcast,
    observed_panel,
    relative_level,
)
from sim.scenario import Scenario, load_scenario

logger = logging.getLogger(__name__)

__all__ = [
    "CALIBRATED",
    "MOMENTS",
    "CalibrationParameter",
    "CalibrationResult",
    "calibrate",
    "format_calibration",
    "model_moments",
    "observed_moments",
    "panel_moments",
]

MOMENTS: tuple[str, ...] = ("national_growth", "beta_slope", "migration_gradient")
"""The summary statistics the calibration matches, in the order of :data:`CALIBRATED`."""


@dataclass(frozen=True)
class CalibrationParameter:
    """A fitted parameter: its scenario key, search bounds and the moment that identifies it.

    Attributes:
        key: dotted scenario key, e.g. ``economy.catch_up_rate``.
        low, high: bounds of the search (inside the scenario's allowed range).
        moment: the name in :data:`MOMENTS` that pins it down.
    """

    key: str
    low: float
    high: float
    moment: str


CALIBRATED: tuple[CalibrationParameter, ...] = (
    CalibrationParameter("economy.base_tfp_growth", -0.02, 0.05, "national_growth"),
    CalibrationParameter("economy.catch_up_rate", 0.0, 0.2, "beta_slope"),
    CalibrationParameter("migration.population_migration_rate", 0.0, 0.05, "migration_gradient"),
)
"""The parameters :func:`calibrate` fits (see ``docs/validation.md``)."""


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope of ``y`` on ``x`` (with intercept) and its standard error."""
    fit = stats.linregress(x, y)
    return float(fit.slope), float(fit.stderr)


def panel_moments(frame: pd.DataFrame, window: Window = CALIBRATION_WINDOW,
                  provinces: Sequence[str] | None = None, price_base: int | None = None) -> dict[str, tuple[float, float]]:
    """The calibration moments of a province-year table, each with its standard error.

    Args:
        frame: ``province, year, gdp_cny_bn, population_m`` rows (observed or simulated).
        window: the years.
        provinces: the order of provinces (default: as in ``frame``'s first year).
        price_base: deflate ``gdp_cny_bn`` from current prices to this year's with
            :data:`~sim.analysis.validation.GDP_DEFLATOR` (observed data); None when it is real already.

    Returns:
        ``{moment: (value, standard error)}``. The standard error of ``national_growth`` is that of
        the mean of its annual growth rates; the slopes' are the OLS ones.
    """
    a, b, years = window.start, window.end, window.years
    frame = frame.assign(province=frame["province"].astype(str))
    if provinces is None:
        provinces = list(frame[frame["year"] == a]["province"])

    def col(name: str, year: int) -> np.ndarray:
        rows = frame[frame["year"] == year].set_index("province")
        return rows.loc[list(provinces), name].to_numpy(float)

    def price(year: int) -> float:
        return 1.0 if price_base is None else deflator(year, price_base)

    gdp = {y: col("gdp_cny_bn", y) / price(y) for y in range(a, b + 1)}
    pop = {y: col("population_m", y) for y in range(a, b + 1)}
    national = np.array([gdp[y].sum() / pop[y].sum() for y in range(a, b + 1)])
    annual = np.diff(np.log(national))
    growth = float(annual_log_growth(national[0], national[-1], years))
    growth_se = float(annual.std(ddof=1) / np.sqrt(annual.size)) if annual.size > 1 else float("nan")
    r0, r1 = relative_level(gdp[a], pop[a]), relative_level(gdp[b], pop[b])
    beta = metrics.beta_convergence(r0, r1, years)
    _, beta_se = _ols(np.log(r0), np.log(r1 / r0) / years)
    p_rel = annual_log_growth(pop[a], pop[b], years) - float(annual_log_growth(pop[a].sum(), pop[b].sum(), years))
    gradient, gradient_se = _ols(np.log(r0), p_rel)
    return {"national_growth": (growth, growth_se), "beta_slope": (beta.slope, beta_se),
            "migration_gradient": (gradient, gradient_se)}


def observed_moments(window: Window = CALIBRATION_WINDOW) -> dict[str, tuple[float, float]]:
    """:func:`panel_moments` of the observed history (deflated to ``window.init_year`` prices)."""
    return panel_moments(observed_panel(), window, price_base=window.init_year)


def model_moments(values: Sequence[float], *, scenario: Scenario | str | None = None,
                  parameters: Sequence[CalibrationParameter] = CALIBRATED,
                  window: Window = CALIBRATION_WINDOW, seed: int | None = None,
                  values_fixed: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The moments of one hindcast over ``window`` with ``parameters`` set to ``values``."""
    model = hindcast(scenario, start_year=window.init_year, end_year=window.end, seed=seed,
                     values={**dict(values_fixed or {}), **_values(parameters, values)})
    frame = model.province_frame()
    frame["gdp_cny_bn"] = frame["gdp_real_cny_bn"]  # the model's real GDP, start-year yuan
    return {k: v for k, (v, _) in panel_moments(frame, window).items()}


def _values(parameters: Sequence[CalibrationParameter], values: Sequence[float]) -> dict[str, float]:
    return {p.key: float(v) for p, v in zip(parameters, values, strict=True)}


@dataclass
class CalibrationResult:
    """A finished fit.

    Attributes:
        parameters: what was fitted.
        initial, fitted: parameter values before (the scenario's) and after.
        standard_errors: delta-method standard errors from the observed moments' standard errors
            and the Jacobian at the optimum (nan if singular).
        observed: ``{moment: (value, standard error)}`` of the observed history.
        moments_initial, moments_fitted: the model's moments before and after.
        cost_initial, cost_fitted: half the sum of squared residuals (moment error over its SE).
        evaluations: model runs used; seconds: wall time.
        success, message: from ``least_squares``.
    """

    parameters: tuple[CalibrationParameter, ...]
    initial: np.ndarray
    fitted: np.ndarray
    standard_errors: np.ndarray
    observed: dict[str, tuple[float, float]]
    moments_initial: dict[str, float]
    moments_fitted: dict[str, float]
    cost_initial: float
    cost_fitted: float
    evaluations: int
    seconds: float
    success: bool
    message: str
    window: Window = CALIBRATION_WINDOW

    def values(self) -> dict[str, float]:
        """The fitted values as ``key.path=value`` strings."""
        return _values(self.parameters, self.fitted)

    def table(self) -> pd.DataFrame:
        """One row per parameter: initial, fitted, standard error, bounds and its moment."""
        return pd.DataFrame({
            "parameter": [p.key for p in self.parameters],
            "initial": self.initial, "fitted": self.fitted, "standard_error": self.standard_errors,
            "low": [p.low for p in self.parameters], "high": [p.high for p in self.parameters],
            "moment": [p.moment for p in self.parameters],
        })

    def moments_table(self) -> pd.DataFrame:
        """One row per moment: observed (with standard error), model before and after."""
        return pd.DataFrame({
            "moment": list(self.observed),
            "observed": [v for v, _ in self.observed.values()],
            "observed_se": [s for _, s in self.observed.values()],
            "model_initial": [self.moments_initial[k] for k in self.observed],
            "model_fitted": [self.moments_fitted[k] for k in self.observed],
        })

    def to_dict(self) -> dict:
        """JSON-friendly summary (for the validation manifest)."""
        return {
            "window": [self.window.start, self.window.end],
            "method": "simulated moments, scipy.optimize.least_squares (trf, bounded)",
            "parameters": {p.key: {"initial": float(i), "fitted": float(f), "standard_error": float(s),
                                   "bounds": [p.low, p.high], "moment": p.moment}
                           for p, i, f, s in zip(self.parameters, self.initial, self.fitted, self.standard_errors, strict=True)},
            "moments": {k: {"observed": v, "observed_se": s, "model_initial": self.moments_initial[k],
                            "model_fitted": self.moments_fitted[k]} for k, (v, s) in self.observed.items()},
            "cost_initial": self.cost_initial, "cost_fitted": self.cost_fitted,
            "evaluations": self.evaluations, "seconds": self.seconds, "success": self.success,
            "message": self.message,
        }


def _current_values(scenario: Scenario, parameters: Sequence[CalibrationParameter]) -> np.ndarray:
    values = []
    for p in parameters:
        node = scenario
        for part in p.key.split("."):
            node = getattr(node, part)
        values.append(float(node))
    return np.array(values)


def calibrate(scenario: Scenario | str | None = None, *, values: Mapping[str, Any] | None = None,
              parameters: Sequence[CalibrationParameter] = CALIBRATED, window: Window = CALIBRATION_WINDOW,
              seed: int | None = None, max_evaluations: int = 200) -> CalibrationResult:
    """Fit ``parameters`` to the observed moments of ``window`` by bounded least squares.

    Starts from the scenario's current values (clipped into the bounds). Takes a few seconds:
    one evaluation is a 4-year hindcast of the 31 provinces (about 20 ms).

    Args:
        scenario: the base scenario (default: the package defaults).
        values: key path -> value, set on the scenario before the fit.
        parameters: what to fit (default :data:`CALIBRATED`); each names its moment.
        window: the calibration window (default 2012-2016).
        seed: model seed (default: the scenario's; the hindcast is all but deterministic).
        max_evaluations: cap on model runs.

    Raises:
        ValueError: when a parameter names an unknown moment.
    """
    parameters = tuple(parameters)
    for p in parameters:
        if p.moment not in MOMENTS:
            raise ValueError(f"parameters: {p.key} names moment {p.moment!r}; known: {', '.join(MOMENTS)}")
    moments = [p.moment for p in parameters]
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    base = base.with_values(dict(values or {}))
    observed = observed_moments(window)
    target = np.array([observed[m][0] for m in moments])
    scale = np.array([observed[m][1] for m in moments])
    low = np.array([p.low for p in parameters])
    high = np.array([p.high for p in parameters])
    x0 = _current_values(base, parameters)
    counter = {"n": 0}

    def simulated(x: np.ndarray) -> dict[str, float]:
        counter["n"] += 1
        return model_moments(x, scenario=base, parameters=parameters, window=window, seed=seed)

    def residuals(x: np.ndarray) -> np.ndarray:
        got = simulated(x)
        return (np.array([got[m] for m in moments]) - target) / scale

    began = time.perf_counter()
    initial = simulated(x0)
    fit = optimize.least_squares(residuals, np.clip(x0, low, high), bounds=(low, high), method="trf",
                                 x_scale=high - low, diff_step=1e-4, max_nfev=max_evaluations,
                                 xtol=1e-10, ftol=1e-12, gtol=1e-12)
    fitted = simulated(fit.x)
    seconds = time.perf_counter() - began
    try:
        errors = np.sqrt(np.clip(np.diag(np.linalg.inv(fit.jac.T @ fit.jac)), 0.0, None))
    except np.linalg.LinAlgError:
        errors = np.full(len(parameters), np.nan)

    def cost(got: dict[str, float]) -> float:
        return 0.5 * float(np.sum(((np.array([got[m] for m in moments]) - target) / scale) ** 2))

    result = CalibrationResult(
        parameters=parameters, initial=x0, fitted=fit.x, standard_errors=errors, observed=observed,
        moments_initial=initial, moments_fitted=fitted, cost_initial=cost(initial), cost_fitted=cost(fitted),
        evaluations=counter["n"], seconds=seconds, success=bool(fit.success), message=str(fit.message),
        window=window,
    )
    logger.info("calibration: cost %.4g -> %.4g in %d runs", result.cost_initial, result.cost_fitted,
                result.evaluations)
    return result


def format_calibration(result: CalibrationResult) -> str:
    """A terminal table of the fit: parameters, then moments observed and simulated."""
    lines = [f"Calibration by simulated moments on {result.window.start}-{result.window.end} "
             f"({result.evaluations} model runs, {result.seconds:.1f} s; {result.message})", ""]
    width = max(len(p.key) for p in result.parameters)
    lines.append(f"  {'parameter':<{width}}  {'initial':>9}  {'fitted':>9}  {'std err':>9}  bounds")
    for p, i, f, s in zip(result.parameters, result.initial, result.fitted, result.standard_errors, strict=True):
        lines.append(f"  {p.key:<{width}}  {i:>9.5f}  {f:>9.5f}  {s:>9.5f}  [{p.low:g}, {p.high:g}]")
    lines += ["", f"  {'moment':<20}  {'observed':>9}  {'(s.e.)':>9}  {'initial':>9}  {'fitted':>9}"]
    for key, (value, se) in result.observed.items():
        lines.append(f"  {key:<20}  {value:>9.5f}  {se:>9.5f}  {result.moments_initial[key]:>9.5f}  "
                     f"{result.moments_fitted[key]:>9.5f}")
    lines.append(f"  {'cost':<20}  {'':>9}  {'':>9}  {result.cost_initial:>9.4g}  {result.cost_fitted:>9.4g}")
    return "\n".join(lines)
