"""The validation scorecard: the hindcast targets and the Hefei case test, each with its value and
pass or fail (docs/validation.md, "Scorecard").

Parameters: the median of the posterior estimated on 2012-2016 only (``load_posterior("2012-2016")``),
so that nothing after 2016 has been seen by the model when it forecasts 2016-2020.

Targets (observed real growth of a province from its GRP index; levels from nominal GRP):

* out of sample 2016-2020, both re-initialised in 2016 from the observed provinces and continuous
  from 2012: correlation of predicted and observed relative growth of real GDP per person
  (r >= 0.5); skill > 0 against "every province at the national rate" and against the
  beta-convergence regression fitted on 2012-2016; national real growth within 0.5 points a year;
  research output (SCI papers) growth within 2 points a year;
* continuous run 2012-2022: the population-weighted Gini of real GDP per person within 0.01 of the
  observed Gini in every year. The observed real levels are the 2012 nominal levels carried forward
  by each province's GRP index, as the model's are carried by its real growth; the Gini of nominal
  levels (which also moves with provinces' relative price levels) is shown beside it;
* the Hefei case: Anhui adopts ``hefei`` from 2012 in the continuous run; the model's gap in Anhui's
  relative GDP per person (with the strategy minus without it) lies inside the synthetic-control
  placebo band of the observed panel (:mod:`sim.analysis.synthetic_gap`);
* the shipped projection's first years: business as usual from 2022 with the shipped defaults (the
  posterior estimated on 2012-2019, which has seen no year after 2019) against China's real growth in
  2023-2024 (each province's 2022 GDP carried forward by its GRP index), within 0.5 points a year.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim.metrics as metrics
from sim.analysis.hindcast import hindcast
from sim.analysis.patterns import observed_estimation_panel, simulated_panel
from sim.scenario import Scenario

OUT_OF_SAMPLE = (2016, 2020)
"""The out-of-sample window."""
CONTINUOUS = (2012, 2022)
"""The continuous run."""
PROJECTION_CHECK = (2022, 2024)
"""The shipped projection's first years, against the latest observed ones (the GRP index ends in 2024)."""


@dataclass(frozen=True)
class Target:
    """One line of the scorecard."""

    name: str
    value: float
    rule: str
    passed: bool
    note: str = ""


@dataclass
class Scorecard:
    """Every target, with the parameter values used."""

    targets: list[Target]
    values: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        """How many targets pass."""
        return sum(t.passed for t in self.targets)

    def frame(self) -> pd.DataFrame:
        """One row per target."""
        return pd.DataFrame([t.__dict__ for t in self.targets])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``sim validate --json``)."""
        return {"targets": [t.__dict__ for t in self.targets], "passed": self.passed, "total": len(self.targets),
                "values": self.values, "details": self.details}

    def format(self) -> str:
        """The scorecard as text."""
        lines = [f"Scorecard: {self.passed} of {len(self.targets)} targets pass "
                 "(parameters: the posterior median estimated on 2012-2016 only)"]
        width = max(len(t.name) for t in self.targets)
        for t in self.targets:
            mark = "pass" if t.passed else "FAIL"
            lines.append(f"  {mark}  {t.name:<{width}}  {t.value:>9.4f}   {t.rule}" + (f"   ({t.note})" if t.note else ""))
        return "\n".join(lines)

    def write_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, default=float) + "\n")


def out_of_sample_values() -> dict[str, float]:
    """The posterior median of the 2012-2016 estimate, key path -> value."""
    from sim.data import load_posterior

    return {k: float(v) for k, v in load_posterior("2012-2016").drop(columns="draw").median().items()}


def _wide(panel: pd.DataFrame, column: str) -> pd.DataFrame:
    return panel.pivot(index="province", columns="year", values=column).sort_index()


def relative_growth(panel: pd.DataFrame, a: int, b: int) -> pd.Series:
    """Each province's annual log growth of real GDP per person minus the nation's, ``a`` to ``b``."""
    real, pop = _wide(panel, "gdp_real_cny_bn"), _wide(panel, "population_m")
    own = np.log((real[b] / pop[b]) / (real[a] / pop[a])) / (b - a)
    nation = np.log((real[b].sum() / pop[b].sum()) / (real[a].sum() / pop[a].sum())) / (b - a)
    return own - nation


def _log_level(panel: pd.DataFrame, year: int) -> pd.Series:
    real, pop = _wide(panel, "gdp_real_cny_bn"), _wide(panel, "population_m")
    return np.log((real[year] / pop[year]) / (real[year].sum() / pop[year].sum()))


def _skill(predicted: np.ndarray, observed: np.ndarray, benchmark: np.ndarray) -> float:
    return 1.0 - float(np.mean((predicted - observed) ** 2) / np.mean((benchmark - observed) ** 2))


def _national_growth(panel: pd.DataFrame, a: int, b: int) -> float:
    totals = panel.groupby("year")["gdp_real_cny_bn"].sum()
    return float(np.log(totals[b] / totals[a]) / (b - a))


def _papers_growth(panel: pd.DataFrame, a: int, b: int) -> float:
    totals = panel.groupby("year")["research_output"].sum()
    return float(np.log(totals[b] / totals[a]) / (b - a))


def observed_gini_path(years: range) -> pd.Series:
    """The observed population-weighted Gini of GDP per person (nominal levels of each year)."""
    from sim.data import load_history

    history = load_history()
    out = {}
    for year in years:
        rows = history[history["year"] == year]
        out[year] = metrics.gini((rows["gdp_100m_yuan"] / rows["population_10k"]).to_numpy(),
                                 rows["population_10k"].to_numpy())
    return pd.Series(out)


def real_gini_path(panel: pd.DataFrame, years: range) -> pd.Series:
    """The population-weighted Gini of real GDP per person in each of ``years`` (a panel in
    :func:`~sim.analysis.patterns.panel_moments`'s columns)."""
    pc = _wide(panel, "gdp_real_cny_bn") / _wide(panel, "population_m")
    pop = _wide(panel, "population_m")
    return pd.Series({y: metrics.gini(pc[y].to_numpy(), pop[y].to_numpy()) for y in years})


def hefei_gap(values: Mapping[str, float], scenario: Scenario | str | None = None, start: int = 2012,
              end: int = 2022, seed: int = 20120101) -> pd.Series:
    """The model's Anhui-with-``hefei`` minus Anhui-without, in relative GDP per person (points of 100).

    Both runs are continuous hindcasts from ``start`` with the same seed; Anhui's relative GDP per
    person is 100 x its real GDP per person over the 31 provinces'.
    """
    def relative(model) -> pd.Series:
        frame = model.province_frame()
        frame["province"] = frame["province"].astype(str)
        nation = frame.groupby("year")[["gdp_real_cny_bn", "population_m"]].sum()
        anhui = frame[frame["province"] == "Anhui"].set_index("year")
        return 100.0 * (anhui["gdp_real_cny_bn"] / anhui["population_m"]) / (
            nation["gdp_real_cny_bn"] / nation["population_m"])

    base = hindcast(scenario, start_year=start, end_year=end, seed=seed, values=dict(values))
    treated = hindcast(scenario, start_year=start, end_year=end, seed=seed,
                       values={**values, "strategies.assign": {"Anhui": "hefei"}})
    return relative(treated) - relative(base)


def observed_projection_growth(start: int = PROJECTION_CHECK[0], end: int = PROJECTION_CHECK[1]) -> float:
    """China's real GDP growth a year from ``start`` to ``end``: each province's ``start`` GDP carried
    forward by its GRP index (constant prices), summed, as the model's real GDP is."""
    from sim.data import load_grp_index, load_history

    history = load_history()
    base = history[history["year"] == start].set_index("province")["gdp_100m_yuan"]
    index = load_grp_index().pivot(index="province", columns="year", values="grp_index") / 100.0
    years = list(range(start + 1, end + 1))
    if base.empty or not set(years) <= set(index.columns):
        raise ValueError(f"no observed real growth for {start}-{end}")
    level = base * index.loc[base.index, years].prod(axis=1)
    return float((level.sum() / base.sum()) ** (1.0 / (end - start)) - 1.0)


def projection_path(scenario: Scenario | str | None = None, *, seed: int = 20120101,
                    start: int = PROJECTION_CHECK[0], end: int = PROJECTION_CHECK[1]) -> pd.Series:
    """National real GDP (CNY bn at ``start`` prices) by year of ``scenario``'s parameters (default: the
    shipped defaults) run from the observed ``start`` to ``end`` as business as usual, without events."""
    from sim.model import RegionalGrowthModel
    from sim.scenario import load_scenario, validate_scenario

    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    data = base.model_dump(mode="python")
    data["events"] = []
    data["strategies"] = {"default": "baseline"}
    data["run"].update({"start_year": start, "end_year": end, "provinces": "china"})
    model = RegionalGrowthModel(validate_scenario(data, "projection check"), seed=seed).run()
    return model.national_frame().set_index("year")["gdp_real_cny_bn"]


def projection_growth(scenario: Scenario | str | None = None, *, seed: int = 20120101,
                      start: int = PROJECTION_CHECK[0], end: int = PROJECTION_CHECK[1]) -> float:
    """Real GDP growth a year from ``start`` to ``end`` of :func:`projection_path`."""
    return growth_rate(projection_path(scenario, seed=seed, start=start, end=end), start, end)


def growth_rate(path: pd.Series, start: int, end: int) -> float:
    """Growth a year of ``path`` (indexed by year) from ``start`` to ``end``."""
    return float((path[end] / path[start]) ** (1.0 / (end - start)) - 1.0)


def scorecard(values: Mapping[str, float] | None = None, *, scenario: Scenario | str | None = None,
              seed: int = 20120101, hefei: bool = True) -> Scorecard:
    """Compute every target (see the module docstring).

    Args:
        values: parameter values (default: :func:`out_of_sample_values`).
        scenario: base scenario (default: the package defaults).
        seed: the hindcasts' seed.
        hefei: include the Hefei case test (needs pysyncon).
    """
    values = dict(out_of_sample_values() if values is None else values)
    a, b = OUT_OF_SAMPLE
    observed = observed_estimation_panel(2012, 2022)
    continuous = simulated_panel(hindcast(scenario, start_year=CONTINUOUS[0], end_year=CONTINUOUS[1], seed=seed,
                                          values=values).province_frame())
    reinit = simulated_panel(hindcast(scenario, start_year=a, end_year=b, seed=seed, values=values).province_frame())
    obs_growth = relative_growth(observed, a, b)
    # the beta benchmark: relative growth on the log relative level, fitted on 2012-2016
    fit_growth = relative_growth(observed, 2012, a)
    slope, intercept = np.polyfit(_log_level(observed, 2012).loc[fit_growth.index], fit_growth, 1)
    beta_pred = intercept + slope * _log_level(observed, a).loc[obs_growth.index]
    targets: list[Target] = []
    details: dict[str, Any] = {"beta_benchmark": {"slope": float(slope), "intercept": float(intercept)}}
    for label, run in (("re-initialised 2016", reinit), ("continuous from 2012", continuous)):
        pred = relative_growth(run, a, b).loc[obs_growth.index]
        r = float(np.corrcoef(pred, obs_growth)[0, 1])
        targets.append(Target(f"relative growth r, {label}", r, ">= 0.5", r >= 0.5))
        skill_nat = _skill(pred.to_numpy(), obs_growth.to_numpy(), np.zeros(len(obs_growth)))
        targets.append(Target(f"skill vs national rate, {label}", skill_nat, "> 0", skill_nat > 0))
        skill_beta = _skill(pred.to_numpy(), obs_growth.to_numpy(), beta_pred.to_numpy())
        targets.append(Target(f"skill vs beta convergence, {label}", skill_beta, "> 0", skill_beta > 0))
        diff = _national_growth(run, a, b) - _national_growth(observed, a, b)
        targets.append(Target(f"national real growth, model - observed, {label}", diff, "|x| <= 0.005",
                              abs(diff) <= 0.005, f"observed {100 * _national_growth(observed, a, b):.2f} %/yr"))
        diff = _papers_growth(run, a, b) - _papers_growth(observed, a, b)
        targets.append(Target(f"papers growth, model - observed, {label}", diff, "|x| <= 0.02",
                              abs(diff) <= 0.02, f"observed {100 * _papers_growth(observed, a, b):.1f} %/yr"))
    years = range(CONTINUOUS[0], CONTINUOUS[1] + 1)
    nominal_gini = observed_gini_path(years)
    observed_gini = real_gini_path(observed, years)
    model_gini = real_gini_path(continuous, years)
    worst = float((model_gini - observed_gini).abs().max())
    targets.append(Target("Gini path (real), largest |model - observed| 2012-2022", worst, "<= 0.01", worst <= 0.01,
                          f"observed {observed_gini[2012]:.3f} -> {observed_gini[2022]:.3f} (nominal levels: "
                          f"{nominal_gini[2012]:.3f} -> {nominal_gini[2022]:.3f}), "
                          f"model {model_gini[2012]:.3f} -> {model_gini[2022]:.3f}"))
    details["gini"] = {"observed_real": observed_gini.round(4).to_dict(), "observed_nominal": nominal_gini.round(4).to_dict(),
                       "model": model_gini.round(4).to_dict()}
    first, last = PROJECTION_CHECK
    seen, shipped = observed_projection_growth(), projection_growth(scenario, seed=seed)
    targets.append(Target(f"national real growth {first}-{last}, shipped projection - observed", shipped - seen,
                          "|x| <= 0.005", abs(shipped - seen) <= 0.005,
                          f"observed {100 * seen:.2f} %/yr, model {100 * shipped:.2f} %/yr; shipped defaults"))
    if hefei:
        from sim.analysis import synthetic_control, synthetic_gap

        result = synthetic_control.estimate()
        gap = hefei_gap(values, scenario, seed=seed)
        check = synthetic_gap.compare_model_gap(result, gap)
        share = check.share_inside
        last = int(check.table.index.max())
        targets.append(Target("Hefei case: model gap inside the synthetic-control band (share of years)",
                              share, "= 1 (every year)", check.inside,
                              f"{last}: model {check.table.loc[last, 'model_gap']:+.2f}, observed "
                              f"{check.table.loc[last, 'observed_gap']:+.2f}, band "
                              f"[{check.table.loc[last, 'lower']:+.2f}, {check.table.loc[last, 'upper']:+.2f}] "
                              f"points; placebo p = {result.p_value:.2f}"))
        details["hefei"] = {"table": check.table.reset_index().to_dict(orient="records"),
                            "weights": result.weights.round(4).to_dict(), "p_value": result.p_value,
                            "pre_rmspe": result.pre_rmspe}
    for t in targets:
        if not math.isfinite(t.value):
            raise ValueError(f"scorecard: {t.name} is not finite")
    return Scorecard(targets, values, details)
