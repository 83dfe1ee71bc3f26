"""``sim validate --calibrate``: the point estimate of the estimated parameters, in seconds.

The estimation's full answer is a posterior (:mod:`sim.analysis.estimation`, shipped as
``sim/data/posterior.csv``); this is its quick companion: simulated method of moments by bounded
least squares on the same patterns (:mod:`sim.analysis.patterns`) over the out-of-sample test's
window 2012-2016, with asymptotic standard errors, so a user can refit after changing a fixed
parameter and validate with the refitted values.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.analysis.estimation import ESTIMATED, ESTIMATION_WINDOW, EstimatedParameter, fit_point, moment_table
from sim.analysis.estimation import observed_table as observed_moment_table
from sim.analysis.patterns import PatternWindow
from sim.scenario import Scenario, load_scenario

__all__ = ["CalibrationResult", "calibrate", "format_calibration"]


@dataclass
class CalibrationResult:
    """A finished point fit: estimates with standard errors, and the moments it matches."""

    parameters: tuple[EstimatedParameter, ...]
    estimates: pd.DataFrame
    moments: pd.DataFrame
    windows: tuple[PatternWindow, ...]
    seconds: float

    def values(self) -> dict[str, float]:
        """Key path -> fitted value (to set on a scenario with ``with_values``)."""
        return dict(zip(self.estimates["parameter"], self.estimates["estimate"].astype(float), strict=True))

    def table(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error and prior range."""
        return self.estimates.copy()

    def moments_table(self) -> pd.DataFrame:
        """One row per window and moment: observed value and se, model value, z."""
        return self.moments.copy()

    @property
    def distance(self) -> float:
        """Sum of squared z over the moments."""
        return float((self.moments["z"] ** 2).sum())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (for the validation manifest)."""
        return {"method": "simulated method of moments, bounded least squares",
                "windows": [f"{w.start}-{w.end}" for w in self.windows], "values": self.values(),
                "standard_errors": dict(zip(self.estimates["parameter"], self.estimates["se"].astype(float),
                                            strict=True)),
                "distance": self.distance, "seconds": round(self.seconds, 2)}


def calibrate(scenario: Scenario | str | None = None, *, values: Mapping[str, Any] | None = None,
              parameters: Sequence[EstimatedParameter] = ESTIMATED, windows: Sequence[PatternWindow] = (ESTIMATION_WINDOW,),
              seed: int | None = None, max_evaluations: int = 400) -> CalibrationResult:
    """Fit ``parameters`` to the observed patterns of ``windows`` (default 2012-2016).

    Args:
        scenario: the base scenario (default: the package defaults); its values start the search.
        values: key path -> value, set on the scenario before the fit (held fixed).
        parameters: what to fit (default :data:`~sim.analysis.estimation.ESTIMATED`).
        windows: the windows whose patterns are matched.
        seed: unused by the deterministic fit; accepted so the command line can pass ``--seed``.
        max_evaluations: cap on model runs.
    """
    del seed
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    base = base.with_values(dict(values or {}))
    windows = tuple(windows)
    observed = observed_moment_table(windows)
    began = time.perf_counter()
    fitted, estimates = fit_point(parameters=parameters, scenario=base, windows=windows, observed=observed,
                                  max_evaluations=max_evaluations)
    moments = moment_table(fitted, observed, scenario=base, windows=windows)
    return CalibrationResult(tuple(parameters), estimates, moments, windows, time.perf_counter() - began)


def format_calibration(result: CalibrationResult) -> str:
    """The fit as text: parameters with standard errors, then the moments."""
    lines = [f"Point estimate on {', '.join(f'{w.start}-{w.end}' for w in result.windows)} "
             f"(simulated method of moments; distance {result.distance:.1f} over {len(result.moments)} moments, "
             f"{result.seconds:.0f} s). The posterior with the full uncertainty: sim/data/posterior.csv."]
    for row in result.estimates.itertuples(index=False):
        lines.append(f"  {row.parameter:<40} {row.estimate:>10.5f}  (s.e. {row.se:.5f}; prior "
                     f"{row.prior_low:g} to {row.prior_high:g})")
    lines.append("  moments (observed, model, z):")
    for row in result.moments.itertuples(index=False):
        lines.append(f"    {row.window} {row.moment:<24} {row.value:>9.4f} {row.model:>9.4f} {row.z:>6.2f}")
    return "\n".join(lines)
