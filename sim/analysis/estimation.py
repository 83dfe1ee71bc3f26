"""Estimating the model's parameters on several observed patterns at once, with their uncertainty.

Method (docs/validation.md, "Estimation"): simulated method of moments with a quasi-Bayesian
(Laplace-type) posterior. For parameters theta, a hindcast over the estimation window gives the
moments of :mod:`sim.analysis.patterns`; their distance to the observed moments, each scaled by its
standard error, is Q(theta) = sum_m ((m_sim - m_obs) / se_m)^2. The quasi-posterior is
exp(-Q / 2) times a uniform prior over each parameter's plausible range (:data:`ESTIMATED`).
``emcee`` (an affine-invariant ensemble sampler) draws from it. A parameter that the patterns do
not pin down keeps a posterior as wide as its prior: that is the statement that the data do not
identify it, and every experiment that draws from the posterior carries its whole range.

The point estimate is the draw with the highest posterior; :func:`identification` compares each
parameter's posterior spread with its prior spread. The shipped posterior (``sim/data/posterior.csv``,
:func:`sim.data.load_posterior`) is made by ``python -m sim.analysis.estimation`` and records how.
"""

from __future__ import annotations

import logging
import math
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.hindcast import hindcast
from sim.analysis.patterns import MOMENTS, PatternWindow, observed_moments, panel_moments, simulated_panel
from sim.analysis.scorecard import (
    PROJECTION_CHECK,
    growth_rate,
    observed_projection_growth,
    projection_growth,
    projection_path,
)
from sim.scenario import Scenario, load_scenario

logger = logging.getLogger(__name__)

ESTIMATION_WINDOW = PatternWindow(2012, 2016)
"""The window of the out-of-sample test: no observation after 2016 enters that estimate."""

PROJECTION_WINDOWS: tuple[PatternWindow, ...] = (PatternWindow(2012, 2016), PatternWindow(2016, 2019))
"""The windows of the shipped posterior that projections draw from: every year up to 2019 (2020-2022
are left out: the pandemic years are no guide to the trend)."""


UPPER_BOUND_MOMENTS: frozenset[str] = frozenset({"beta_rd"})
"""Moments whose observed value bounds the model's from above rather than being a target: only a
simulated value above the observed one counts against a parameter set. ``beta_rd`` (relative growth
on R&D-stock growth across provinces) mixes the effect of research on growth with the effect of
growth on research budgets (faster-growing provinces spend more); the hindcast drives R&D by its
observed path, so its slope holds the first only. Matched as a target, it pushes the knowledge
effect to the upper end of its prior (docs/validation.md, "Estimation")."""


RECENT_WINDOW = PatternWindow(*PROJECTION_CHECK)
"""The latest observed years, 2022-2024, after the pandemic years the estimation windows leave out."""

RECENT_MOMENT = "projection_growth"
"""National real growth a year over :data:`RECENT_WINDOW` of the projection itself (the shipped scenario
run from the observed 2022 with the parameters set, as :func:`sim.analysis.scorecard.projection_growth`),
against the observed. Not among the shipped posterior's moments: an estimation adds it with a standard
error it is given (``--recent-se``), because the model has no business cycle and how far a two-year
mean may stray from the trend is an assumption (docs/validation.md, "The latest years")."""

RECENT_TREND_SE = 0.0021
"""A standard error for :data:`RECENT_MOMENT` with a basis in the data: the standard deviation of yearly
national real growth around its linear trend in 2013-2019 (0.30 point, from the GRP index) over the
square root of the window's two years."""


def window_label(window: PatternWindow) -> str:
    """``"2012-2016"``."""
    return f"{window.start}-{window.end}"


def observed_table(windows: Sequence[PatternWindow], draws: int = 400) -> pd.DataFrame:
    """Observed moments of every window, one row per window and moment (``window, moment, value, se``)."""
    parts = [observed_moments(w, draws=draws).assign(window=window_label(w)) for w in windows]
    table = pd.concat(parts, ignore_index=True)
    return table[["window", "moment", "value", "se"]]


def recent_row(se: float) -> pd.DataFrame:
    """The observed :data:`RECENT_MOMENT` as a row of an observed table, with standard error ``se``."""
    if not (math.isfinite(se) and se > 0):
        raise ValueError(f"the standard error of the latest years must be a positive number, not {se}")
    return pd.DataFrame([{"window": window_label(RECENT_WINDOW), "moment": RECENT_MOMENT,
                          "value": observed_projection_growth(RECENT_WINDOW.start, RECENT_WINDOW.end), "se": se}])


def with_values(scenario: Scenario | str | None, values: Mapping[str, Any]) -> Scenario:
    """``scenario`` (default: the package defaults) with ``values`` (key path -> value) set."""
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return base.with_values(values, "estimation")


def has_recent(observed: pd.DataFrame) -> bool:
    """Whether an observed table holds :data:`RECENT_MOMENT`."""
    return bool((observed["moment"] == RECENT_MOMENT).any())


@dataclass(frozen=True)
class EstimatedParameter:
    """A parameter the estimation varies, with its uniform prior ``[low, high]`` and the basis of the range."""

    key: str
    low: float
    high: float
    basis: str


ESTIMATED: tuple[EstimatedParameter, ...] = (
    EstimatedParameter("economy.base_tfp_growth", -0.01, 0.04,
                       "yearly productivity growth of every sector at the 2012 income level; -1 to 4 %"),
    EstimatedParameter("economy.tfp_income_elasticity", 0.0, 6.0,
                       "how fast base growth falls as national income rises; 0 (none) to 6"),
    EstimatedParameter("economy.catch_up_rate", 0.0, 0.1,
                       "yearly closing of the log gap to the most productive province; 0-10 %"),
    EstimatedParameter("economy.knowledge_effect", 0.0, 0.5,
                       "elasticity of productivity to the knowledge stock; 0-0.5 (studies of R&D capital: 0.05-0.2)"),
    EstimatedParameter("migration.population_migration_rate", 0.0, 0.02,
                       "net migration per unit of log income gap a year; 0-2 %"),
    EstimatedParameter("investment.education_spending_growth", -0.02, 0.08,
                       "trend growth of higher-education places beyond population and research; -2 to 8 %"),
    EstimatedParameter("research.graduate_capacity_elasticity", 0.0, 1.0,
                       "elasticity of graduates to the research capacity a province hosts; 0-1"),
    EstimatedParameter("research.efficiency_growth", -0.02, 0.15,
                       "yearly growth of papers per unit of research capacity; -2 to 15 %"),
)
"""What is estimated, with the prior ranges (docs/validation.md gives the reasons)."""


def parameter_keys(parameters: Sequence[EstimatedParameter] = ESTIMATED) -> list[str]:
    """The key paths of ``parameters``."""
    return [p.key for p in parameters]


def simulated_moments(values: Mapping[str, float], *, scenario: Scenario | str | None = None,
                      windows: Sequence[PatternWindow] = (ESTIMATION_WINDOW,),
                      seed: int = 20120101, recent: bool = False) -> dict[tuple[str, str], float]:
    """The moments of one continuous hindcast over ``windows`` with ``values`` set (key path -> value),
    and with ``recent`` :data:`RECENT_MOMENT` of the projection run from 2022.

    Returns:
        (window label, moment) -> value.
    """
    start = min(w.start for w in windows)
    end = max(w.end for w in windows)
    model = hindcast(scenario, start_year=start, end_year=end, seed=seed, values=dict(values))
    panel = simulated_panel(model.province_frame())
    out: dict[tuple[str, str], float] = {}
    for window in windows:
        part = panel[(panel["year"] >= window.start) & (panel["year"] <= window.end)]
        for moment, value in panel_moments(part, window).items():
            out[(window_label(window), moment)] = value
    if recent:
        out[(window_label(RECENT_WINDOW), RECENT_MOMENT)] = projection_growth(
            with_values(scenario, values), seed=seed, start=RECENT_WINDOW.start, end=RECENT_WINDOW.end)
    return out


@dataclass
class Objective:
    """Q(theta) and the log quasi-posterior for a vector theta in the order of ``parameters``."""

    observed: pd.DataFrame
    parameters: tuple[EstimatedParameter, ...] = ESTIMATED
    scenario: Scenario | str | None = None
    windows: tuple[PatternWindow, ...] = (ESTIMATION_WINDOW,)
    seed: int = 20120101
    fixed: dict[str, Any] = field(default_factory=dict)
    evaluations: int = 0

    @property
    def low(self) -> np.ndarray:
        """Lower prior bounds."""
        return np.array([p.low for p in self.parameters])

    @property
    def high(self) -> np.ndarray:
        """Upper prior bounds."""
        return np.array([p.high for p in self.parameters])

    def values(self, theta: Sequence[float]) -> dict[str, float]:
        """Key path -> value for ``theta`` (with the fixed values)."""
        return {**self.fixed, **{p.key: float(v) for p, v in zip(self.parameters, theta, strict=True)}}

    def moments(self, theta: Sequence[float]) -> dict[tuple[str, str], float]:
        """Simulated moments at ``theta``."""
        self.evaluations += 1
        return simulated_moments(self.values(theta), scenario=self.scenario, windows=self.windows, seed=self.seed,
                                 recent=has_recent(self.observed))

    def residuals(self, theta: Sequence[float]) -> np.ndarray:
        """(simulated - observed) / se for every row of ``observed`` (window and moment); for a moment of
        :data:`UPPER_BOUND_MOMENTS`, only the part of a simulated value above the observed one."""
        got = self.moments(theta)
        table = self.observed
        sim = np.array([got[(w, m)] for w, m in zip(table["window"], table["moment"], strict=True)])
        res = (sim - table["value"].to_numpy()) / table["se"].to_numpy()
        bound = table["moment"].isin(UPPER_BOUND_MOMENTS).to_numpy()
        return np.where(bound, np.maximum(res, 0.0), res)

    def log_posterior(self, theta: Sequence[float]) -> float:
        """-Q(theta) / 2 inside the prior box, -inf outside (or where the model cannot run)."""
        theta = np.asarray(theta, float)
        if np.any(theta < self.low) or np.any(theta > self.high):
            return -math.inf
        try:
            res = self.residuals(theta)
        except Exception as exc:  # a parameter set the model cannot run is outside the support
            logger.debug("log_posterior: %s at %s", exc, theta)
            return -math.inf
        value = -0.5 * float(res @ res)
        return value if math.isfinite(value) else -math.inf


@dataclass
class Estimate:
    """A finished estimation: the posterior draws and what describes them."""

    parameters: tuple[EstimatedParameter, ...]
    draws: pd.DataFrame
    """One row per posterior draw: a column per key path, and ``log_posterior``."""
    observed: pd.DataFrame
    windows: tuple[PatternWindow, ...]
    seconds: float
    acceptance: float
    settings: dict[str, Any]

    @property
    def best(self) -> dict[str, float]:
        """The draw with the highest posterior (the point estimate), key path -> value."""
        row = self.draws.loc[self.draws["log_posterior"].idxmax()]
        return {p.key: float(row[p.key]) for p in self.parameters}

    def summary(self) -> pd.DataFrame:
        """Per parameter: prior range, point estimate, posterior median and 95 % interval, and identification."""
        return identification(self.draws, self.parameters, self.best)


def identification(draws: pd.DataFrame, parameters: Sequence[EstimatedParameter],
                   best: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per parameter: the 95 % posterior interval and how much the data narrowed the prior.

    ``narrowing`` is 1 - (posterior sd / prior sd) of the uniform prior: near 0 means the patterns
    do not pin the parameter down (its posterior is as wide as its prior).
    """
    rows = []
    for p in parameters:
        x = draws[p.key].to_numpy()
        prior_sd = (p.high - p.low) / math.sqrt(12.0)
        narrowing = 1.0 - float(np.std(x, ddof=1)) / prior_sd
        low, median, high = np.quantile(x, [0.025, 0.5, 0.975])
        rows.append({"parameter": p.key, "prior_low": p.low, "prior_high": p.high,
                     "estimate": (best or {}).get(p.key, float(median)), "median": float(median),
                     "low_95": float(low), "high_95": float(high), "narrowing": narrowing,
                     "identified": narrowing >= 0.5, "excludes_zero": bool(low > 0.0 or high < 0.0)})
    return pd.DataFrame(rows)


def estimate(*, parameters: Sequence[EstimatedParameter] = ESTIMATED, scenario: Scenario | str | None = None,
             windows: Sequence[PatternWindow] = PROJECTION_WINDOWS, observed: pd.DataFrame | None = None,
             walkers: int | None = None, steps: int = 300, burn: int = 100, thin: int = 5, seed: int = 2012,
             fixed: Mapping[str, Any] | None = None, start: Mapping[str, float] | None = None,
             progress: bool = False, processes: int = 1) -> Estimate:
    """Sample the quasi-posterior of ``parameters`` with emcee.

    Args:
        parameters: what to estimate (default :data:`ESTIMATED`).
        scenario: the base scenario (default: the package defaults).
        windows: the estimation windows (default :data:`PROJECTION_WINDOWS`).
        observed: the observed moments (default :func:`observed_table` of ``windows``).
        walkers: ensemble size (default 2 x parameters + 2).
        steps, burn, thin: chain length, discarded start, keep every ``thin``-th step.
        seed: the sampler's seed (the hindcasts use a fixed model seed: common random numbers).
        fixed: values held fixed for every hindcast.
        start: where the walkers start (default: the scenario's values, clipped into the priors).
        progress: show emcee's progress bar.
        processes: worker processes for the hindcasts (the draws do not depend on it).

    Raises:
        ImportError: when emcee is missing (``pip install 'sim-regional-growth[evidence]'``).
    """
    try:
        import emcee
    except ImportError as exc:  # pragma: no cover - the evidence extra is part of the test install
        raise ImportError("the estimation needs emcee: pip install 'sim-regional-growth[evidence]'") from exc
    parameters = tuple(parameters)
    windows = tuple(windows)
    observed = observed_table(windows) if observed is None else observed
    objective = Objective(observed, parameters, scenario, windows, fixed=dict(fixed or {}))
    recent = has_recent(observed)
    dim = len(parameters)
    walkers = walkers or 2 * dim + 2
    rng = np.random.default_rng(seed)
    base = scenario if isinstance(scenario, Scenario) else Scenario()
    centre = np.array([(start or {}).get(p.key, _current(base, p.key)) for p in parameters])
    centre = np.clip(centre, objective.low, objective.high)
    spread = 0.02 * (objective.high - objective.low)
    p0 = np.clip(centre + spread * rng.standard_normal((walkers, dim)), objective.low, objective.high)
    began = time.perf_counter()
    pool = None
    if processes > 1:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(processes)
    try:
        sampler = emcee.EnsembleSampler(walkers, dim, objective.log_posterior, pool=pool)
        sampler.random_state = np.random.RandomState(seed).get_state()
        sampler.run_mcmc(p0, steps, progress=progress)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    chain = sampler.get_chain(discard=burn, thin=thin, flat=True)
    logp = sampler.get_log_prob(discard=burn, thin=thin, flat=True)
    keep = np.isfinite(logp)
    draws = pd.DataFrame(chain[keep], columns=[p.key for p in parameters])
    draws["log_posterior"] = logp[keep]
    return Estimate(parameters, draws, observed, windows, time.perf_counter() - began,
                    float(np.mean(sampler.acceptance_fraction)),
                    {"walkers": walkers, "steps": steps, "burn": burn, "thin": thin, "seed": seed,
                     "evaluations": walkers * steps, "moments": list(MOMENTS) + [RECENT_MOMENT] * recent,
                     "upper_bound_moments": sorted(UPPER_BOUND_MOMENTS),
                     "windows": [window_label(w) for w in windows] + [window_label(RECENT_WINDOW)] * recent})


def _current(scenario: Scenario, key: str) -> float:
    node: Any = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return float(node)


def fit_point(*, parameters: Sequence[EstimatedParameter] = ESTIMATED, scenario: Scenario | str | None = None,
              windows: Sequence[PatternWindow] = PROJECTION_WINDOWS, observed: pd.DataFrame | None = None,
              fixed: Mapping[str, Any] | None = None, start: Mapping[str, float] | None = None,
              max_evaluations: int = 400) -> tuple[dict[str, float], pd.DataFrame]:
    """The SMM point estimate by bounded least squares, with asymptotic standard errors.

    Returns:
        ``(values, table)``: key path -> estimate, and a table with each parameter's estimate and
        standard error from the Jacobian of the scaled residuals (sandwich with identity weights).
    """
    from scipy import optimize

    parameters = tuple(parameters)
    windows = tuple(windows)
    observed = observed_table(windows) if observed is None else observed
    objective = Objective(observed, parameters, scenario, windows, fixed=dict(fixed or {}))
    base = scenario if isinstance(scenario, Scenario) else Scenario()
    x0 = np.array([(start or {}).get(p.key, _current(base, p.key)) for p in parameters])
    x0 = np.clip(x0, objective.low, objective.high)
    fit = optimize.least_squares(objective.residuals, x0, bounds=(objective.low, objective.high), method="trf",
                                 x_scale=objective.high - objective.low, diff_step=1e-3, max_nfev=max_evaluations)
    try:
        errors = np.sqrt(np.clip(np.diag(np.linalg.inv(fit.jac.T @ fit.jac)), 0.0, None))
    except np.linalg.LinAlgError:
        errors = np.full(len(parameters), np.inf)
    values = {p.key: float(v) for p, v in zip(parameters, fit.x, strict=True)}
    table = pd.DataFrame({"parameter": [p.key for p in parameters], "estimate": fit.x, "se": errors,
                          "prior_low": objective.low, "prior_high": objective.high})
    return values, table


def moment_table(values: Mapping[str, float], observed: pd.DataFrame, *, scenario: Scenario | str | None = None,
                 windows: Sequence[PatternWindow] = PROJECTION_WINDOWS) -> pd.DataFrame:
    """Observed and simulated moments side by side, with the scaled difference ``z``."""
    got = simulated_moments(values, scenario=scenario, windows=tuple(windows),
                            recent=has_recent(observed))
    table = observed.copy()
    table["model"] = [got[(w, m)] for w, m in zip(table["window"], table["moment"], strict=True)]
    table["z"] = (table["model"] - table["value"]) / table["se"]
    table.attrs["distance"] = float(np.sum(np.square(table["z"])))
    return table


def recent_sensitivity(standard_errors: Sequence[float], *, scenario: Scenario | str | None = None,
                       windows: Sequence[PatternWindow] = PROJECTION_WINDOWS, observed: pd.DataFrame | None = None,
                       seed: int = 20120101, max_evaluations: int = 400) -> pd.DataFrame:
    """What the latest years would do to the estimate: point fits (:func:`fit_point`) on ``windows``
    (default: the shipped posterior's), first without :data:`RECENT_MOMENT`, then with it at each
    standard error.

    Returns:
        One row per fit: ``recent_se`` (NaN: without), the estimates, ``q_2012_2019`` (Q over the
        moments of ``windows`` alone: how much worse the earlier patterns fit), and the projection's
        real growth a year over 2022-2024, 2022-2035 and 2035-2050 (one seed).
    """
    windows = tuple(windows)
    observed = observed_table(windows) if observed is None else observed
    history = Objective(observed, ESTIMATED, scenario, windows, seed=seed)
    rows = []
    for se in [math.nan, *standard_errors]:
        table = observed if math.isnan(se) else pd.concat([observed, recent_row(se)], ignore_index=True)
        values, _ = fit_point(scenario=scenario, windows=windows, observed=table, max_evaluations=max_evaluations)
        residuals = history.residuals([values[p.key] for p in ESTIMATED])
        path = projection_path(with_values(scenario, values), seed=seed, start=RECENT_WINDOW.start, end=2050)
        rows.append({"recent_se": se, **values, "q_2012_2019": float(residuals @ residuals),
                     "growth_2022_2024": growth_rate(path, RECENT_WINDOW.start, RECENT_WINDOW.end),
                     "growth_2022_2035": growth_rate(path, 2022, 2035),
                     "growth_2035_2050": growth_rate(path, 2035, 2050)})
    return pd.DataFrame(rows)


def recent_sensitivity_markdown(table: pd.DataFrame) -> str:
    """:func:`recent_sensitivity` as a markdown table in points and percent a year."""
    short = {p.key: p.key.split(".")[-1] for p in ESTIMATED}
    lines = ["| 2022-2024 se (point) | " + " | ".join(short.values())
             + " | Q 2012-2019 | growth 2022-2024 | 2022-2035 | 2035-2050 |",
             "|---" * (len(short) + 5) + "|"]
    for row in table.to_dict(orient="records"):
        se = "not used" if math.isnan(row["recent_se"]) else f"{100 * row['recent_se']:.2f}"
        cells = [se, *(f"{row[key]:.4g}" for key in short), f"{row['q_2012_2019']:.1f}",
                 *(f"{100 * row[c]:.2f} %" for c in ("growth_2022_2024", "growth_2022_2035", "growth_2035_2050"))]
        lines.append("| " + " | ".join(cells) + " |")
    observed = observed_projection_growth(RECENT_WINDOW.start, RECENT_WINDOW.end)
    lines.append(f"\nObserved 2022-2024: {100 * observed:.2f} %/yr (GRP index). Point fits, one seed.")
    return "\n".join(lines)


def _points(text: str) -> list[float]:
    """``"0.21,0.5"`` (percentage points) -> ``[0.0021, 0.005]``; argparse reports a bad value."""
    import argparse

    try:
        values = [float(part) / 100.0 for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected standard errors in points, e.g. 0.21,0.5; got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive standard errors in points, e.g. 0.21,0.5; got {text!r}")
    return values


def write_posterior(result: Estimate, path: str | Path, draws: int = 200, command: str | None = None) -> pd.DataFrame:
    """Write ``draws`` evenly spaced posterior draws to ``path`` (CSV: ``draw`` and one column per
    key path) and the provenance beside it (``<path stem>.json``, with ``command``: how it was made);
    returns the written table."""
    import json
    from datetime import UTC, datetime

    path = Path(path)
    chosen = result.draws.iloc[np.linspace(0, len(result.draws) - 1, min(draws, len(result.draws))).astype(int)]
    table = chosen.drop(columns="log_posterior").reset_index(drop=True)
    table.insert(0, "draw", np.arange(len(table)))
    table.to_csv(path, index=False, float_format="%.8g")
    summary = result.summary()
    provenance = {
        "method": "simulated method of moments, Laplace-type quasi-posterior exp(-Q/2) x uniform priors, "
                  "sampled with emcee",
        "windows": result.settings["windows"], "moments": result.settings["moments"],
        "data": ["history.csv (NBS, CSY, CSYST)", "grp_index.csv (NBS GRP index, constant prices)"],
        "command": command or "python -m sim.analysis.estimation --out " + str(path),
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": result.settings, "seconds": round(result.seconds, 1),
        "acceptance": round(result.acceptance, 3),
        "priors": {p.key: [p.low, p.high, p.basis] for p in result.parameters},
        "summary": summary.to_dict(orient="records"),
        "observed": result.observed.to_dict(orient="records"),
    }
    path.with_suffix(".json").write_text(json.dumps(provenance, indent=1, default=float) + "\n")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.analysis.estimation --out FILE``: sample and write the posterior.
    ``--recent-sensitivity 0.21,0.5``: print what adding the observed 2022-2024 growth would do."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sim.analysis.estimation", description=main.__doc__)
    parser.add_argument("--out", type=Path, help="posterior CSV to write (JSON provenance beside it)")
    parser.add_argument("--windows", default="projection", choices=["projection", "out-of-sample"],
                        help="projection: 2012-2016 and 2016-2019; out-of-sample: 2012-2016 only")
    parser.add_argument("--recent-se", type=_points, default=None, metavar="POINTS",
                        help="also match the projection's 2022-2024 growth to the observed, with this standard "
                             f"error in points (a basis in the data: {100 * RECENT_TREND_SE:.2f})")
    parser.add_argument("--recent-sensitivity", type=_points, default=None, metavar="POINTS,...",
                        help="print point fits without and with the 2022-2024 growth at each standard error "
                             "(points), and the projection each gives; writes nothing")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--burn", type=int, default=80)
    parser.add_argument("--walkers", type=int, default=None)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2012)
    args = parser.parse_args(argv)
    if args.recent_sensitivity is not None:
        print(recent_sensitivity_markdown(recent_sensitivity(args.recent_sensitivity)))
        return 0
    if args.out is None:
        parser.error("--out is required (or --recent-sensitivity)")
    if args.recent_se is not None and len(args.recent_se) != 1:
        parser.error("--recent-se takes one standard error")
    windows = PROJECTION_WINDOWS if args.windows == "projection" else (ESTIMATION_WINDOW,)
    observed = observed_table(windows)
    if args.recent_se is not None:
        observed = pd.concat([observed, recent_row(args.recent_se[0])], ignore_index=True)
    start, _ = fit_point(windows=windows, observed=observed)
    result = estimate(windows=windows, observed=observed, steps=args.steps, burn=args.burn, walkers=args.walkers,
                      seed=args.seed, start=start, processes=args.processes, progress=True)
    given = list(sys.argv[1:] if argv is None else argv)
    write_posterior(result, args.out, command=shlex.join(["python", "-m", "sim.analysis.estimation", *given]))
    print(result.summary().to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
