"""A synthetic-control estimate of the Hefei case: what Anhui's science-and-fund strategy did to Anhui.

A pure analysis of the **observed** panel (the shipped tables of :mod:`sim.data`; no model run). The
synthetic Anhui is a weighted average of donor provinces, the weights (non-negative, summing to one)
chosen so that it tracks Anhui's outcome before the treatment year; after it, the gap between Anhui
and its synthetic twin is the estimated effect (Abadie, Diamond and Hainmueller 2010).

Donors
    The other interior provinces (``coastal`` false in ``provinces.csv``; 18 after removing Anhui):
    provinces that shared Anhui's starting point far from the coast and the ports, none of which ran
    a city-scale programme of the same size over the same years.

Outcomes
    ``relative_gdp_per_capita``
        100 x the province's GDP per capita / GDP per capita of the 31 provinces together (sum of
        GDP over sum of year-end population), 2000-2022 (``load_gdp_population_panel``). A ratio of
        two current-price figures of the same year, so no deflator is needed. The population series
        has census steps in 2005 and 2010 (``SOURCES.md``); both lie before the default treatment
        year and enter the pre-treatment fit, and the estimate depends on the first year used:
        compare ``start_year=2005`` (after the first step) with the default 2000.
    ``sci_share``
        100 x the province's SCI papers / the sum over the 31 provinces, 2010-2022 (``history.csv``).
        With the default treatment year only two pre-treatment years exist (2010, 2011), so the fit
        is nearly exact by construction and the estimate is weak; treat it as descriptive.

Treatment year (default 2012)
    The Hefei strategy is a sequence of city and provincial equity bets on firms that brought
    science-intensive industry, alongside the national science facilities around the University of
    Science and Technology of China. Its first large bet, an equity stake in a display-panel line
    taken in 2008 (about a third of that year's city fiscal revenue), entered production around
    2010-2011; the later rounds followed in memory chips (2016) and electric vehicles (2020) (press
    and company reports). 2012 is the first year in which the strategy's first investment was
    producing, so that its effects on output and research could show; it keeps twelve
    pre-treatment years for GDP per capita (2000-2011) and eleven post-treatment years (2012-2022)
    that span the later rounds. Any effect of the 2008-2011 construction years falls in the
    pre-treatment period and, if anything, biases the estimate towards zero. The year is a parameter.

Method
    Weights minimise the pre-treatment mean squared prediction error of the outcome itself (every
    pre-treatment year a predictor, all years weighted equally), solved with :class:`pysyncon.Synth`
    given a fixed predictor-weight matrix. Inference is by in-space placebos: each donor in turn is
    treated as if it had been Anhui, with the other donors (never Anhui) as its pool; the ratio of
    post- to pre-treatment root mean squared prediction error (RMSPE) ranks Anhui among all units,
    and ``p = rank / (number of placebos + 1)``, ties counted against Anhui.

Comparing a model run with the observed band (:func:`sim.analysis.synthetic_gap.compare_model_gap`)
    Rule: the model's gap (model Anhui with its strategy minus model Anhui without, same outcome and
    units) lies inside the placebo band in a post-treatment year if it is between the 5th and 95th
    percentiles (linear interpolation) of that year's placebo gaps, counting only placebos whose
    pre-treatment RMSPE is at most ``k`` times Anhui's (default ``k = 5``: placebos the method cannot
    reproduce before treatment say nothing about chance gaps after it). The run is *consistent with
    no effect distinguishable from chance* if it is inside in every compared year.

``pysyncon`` is an optional dependency: install the ``evidence`` extra
(``pip install 'sim-regional-growth[evidence]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.data import load_gdp_population_panel, load_history, load_provinces

OUTCOMES: tuple[str, ...] = ("relative_gdp_per_capita", "sci_share")
"""Observed outcomes the analysis can use (see the module docstring)."""

OUTCOME_UNITS: dict[str, str] = {
    "relative_gdp_per_capita": "% of the GDP per capita of the 31 provinces",
    "sci_share": "% of the SCI papers of the 31 provinces",
}

TREATED = "Anhui"
DEFAULT_TREATMENT_YEAR = 2012
TREATMENT_YEAR_NOTE = (
    "Treatment year 2012: the first large investment of the Hefei strategy (an equity stake in a "
    "display-panel line, 2008) was producing from about 2010-2011, and the later rounds (memory chips "
    "2016, electric vehicles 2020) lie in the post-treatment years (press and company reports). "
    "Pre-treatment years: 2000-2011 for GDP per capita, only 2010-2011 for the SCI share."
)
"""The short note on the default treatment year, repeated in :meth:`SyntheticControlResult.summary`."""

MIN_PLACEBOS = 3


def _synth_class():
    """``pysyncon.Synth``, or an ImportError that names the extra to install."""
    try:
        from pysyncon import Synth
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the synthetic-control analysis needs the optional package pysyncon: "
            "pip install 'sim-regional-growth[evidence]' (or pip install 'pysyncon>=1.4')"
        ) from error
    return Synth


# --------------------------------------------------------------------------------------
# Observed outcomes and donors


def outcome_panel(outcome: str = "relative_gdp_per_capita") -> pd.DataFrame:
    """The observed outcome as a wide table: one row per year, one column per province.

    Raises:
        ValueError: for an unknown outcome.
    """
    if outcome == "relative_gdp_per_capita":
        panel = load_gdp_population_panel()
        gdp = panel.pivot(index="year", columns="province", values="gdp_100m_yuan")
        population = panel.pivot(index="year", columns="province", values="population_10k").astype(float)
        national = gdp.sum(axis=1) / population.sum(axis=1)
        wide = (gdp / population).div(national, axis=0) * 100.0
    elif outcome == "sci_share":
        history = load_history()
        papers = history.pivot(index="year", columns="province", values="sci_papers").astype(float)
        wide = papers.div(papers.sum(axis=1), axis=0) * 100.0
    else:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of {', '.join(OUTCOMES)}")
    wide.index = wide.index.astype(int)
    wide.columns.name = "province"
    return wide


def donor_pool(treated: str = TREATED) -> list[str]:
    """The interior provinces (``coastal`` false) other than ``treated``, in table order."""
    provinces = load_provinces()
    interior = provinces.loc[~provinces["coastal"], "province"].tolist()
    return [p for p in interior if p != treated]


# --------------------------------------------------------------------------------------
# The estimator


def _rmspe(gap: pd.Series) -> float:
    return float(np.sqrt(np.mean(np.square(gap.to_numpy(float))))) if len(gap) else float("nan")


def fit_weights(panel: pd.DataFrame, treated: str, donors: Sequence[str], treatment_year: int) -> pd.Series:
    """Donor weights (non-negative, sum 1) that minimise the pre-treatment MSPE of ``treated``.

    ``panel`` is wide (years x units). Every pre-treatment year is a predictor with equal weight:
    pysyncon scales each predictor by its standard deviation across units, so the predictor weights
    passed to it are those variances, which makes its objective the plain pre-treatment MSPE.
    """
    synth_class = _synth_class()
    donors = list(donors)
    pre = panel.loc[panel.index < treatment_year, [*donors, treated]]
    if pre.isna().any().any():
        raise ValueError("the outcome panel has gaps in the pre-treatment years")
    if len(pre) == 0:
        raise ValueError(f"no pre-treatment year before {treatment_year}")
    spread = pre.std(axis=1)
    pre = pre.loc[spread > 0]  # a year in which every unit is equal cannot discriminate between weights
    if len(pre) == 0:
        raise ValueError("no pre-treatment year in which the units differ")
    x0 = pre[donors]
    x1 = pre[treated]
    synth = synth_class()
    synth.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=np.square(pre.std(axis=1).to_numpy(float)))
    weights = np.clip(np.asarray(synth.W, dtype=float), 0.0, None)
    weights = weights / weights.sum()
    return pd.Series(weights, index=pd.Index(donors, name="province"), name="weight")


@dataclass(frozen=True)
class UnitFit:
    """One synthetic control: a unit, its donor weights and its gap path."""

    unit: str
    weights: pd.Series
    observed: pd.Series
    synthetic: pd.Series
    gap: pd.Series
    pre_rmspe: float
    post_rmspe: float

    @property
    def ratio(self) -> float:
        """Post- over pre-treatment RMSPE."""
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else float("inf")


def _fit_unit(panel: pd.DataFrame, unit: str, donors: Sequence[str], treatment_year: int) -> UnitFit:
    weights = fit_weights(panel, unit, donors, treatment_year)
    synthetic = panel[list(donors)].to_numpy(float) @ weights.to_numpy()
    synthetic = pd.Series(synthetic, index=panel.index, name="synthetic")
    observed = panel[unit].rename("observed")
    gap = (observed - synthetic).rename("gap")
    pre, post = gap[gap.index < treatment_year], gap[gap.index >= treatment_year]
    return UnitFit(unit, weights, observed, synthetic, gap, _rmspe(pre), _rmspe(post))


def permutation_p_value(treated_ratio: float, placebo_ratios: Sequence[float]) -> tuple[int, float]:
    """Rank of the treated unit's post/pre RMSPE ratio among all units, and the permutation p-value.

    The rank counts the treated unit and every placebo whose ratio is at least as large (ties count
    against the treated unit), so ``rank = 1`` means the treated unit has the largest ratio;
    ``p = rank / (number of placebos + 1)``.
    """
    ratios = np.asarray(list(placebo_ratios), dtype=float)
    if ratios.size == 0:
        raise ValueError("no placebo ratios")
    rank = 1 + int(np.sum(ratios >= treated_ratio))
    return rank, rank / (ratios.size + 1)


@dataclass(frozen=True)
class SyntheticControlResult:
    """The synthetic-control estimate for one treated unit, with its in-space placebos.

    Attributes:
        treated: the treated province.
        outcome: outcome name (see :data:`OUTCOMES`); ``units`` its unit.
        treatment_year: first post-treatment year.
        observed, synthetic, gap: the treated unit's path, its synthetic twin's and their
            difference (treated minus synthetic), by year.
        weights: donor weights (non-negative, sum 1), by donor.
        pre_rmspe, post_rmspe: root mean squared gap before and from the treatment year.
        placebo_gaps: each donor's gap path when it is treated in turn (years x donors).
        placebo_pre_rmspe, placebo_post_rmspe, placebo_ratio: the same statistics per placebo.
        rank, p_value: the treated unit's rank by post/pre RMSPE ratio among all units and the
            permutation p-value (:func:`permutation_p_value`).
    """

    treated: str
    outcome: str
    units: str
    treatment_year: int
    observed: pd.Series
    synthetic: pd.Series
    gap: pd.Series
    weights: pd.Series
    pre_rmspe: float
    post_rmspe: float
    placebo_gaps: pd.DataFrame
    placebo_pre_rmspe: pd.Series
    placebo_post_rmspe: pd.Series
    placebo_ratio: pd.Series
    rank: int
    p_value: float

    @property
    def ratio(self) -> float:
        """The treated unit's post/pre RMSPE ratio."""
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else float("inf")

    @property
    def pre_years(self) -> list[int]:
        return [int(y) for y in self.gap.index if y < self.treatment_year]

    @property
    def post_years(self) -> list[int]:
        return [int(y) for y in self.gap.index if y >= self.treatment_year]

    @property
    def exact_pre_fit(self) -> bool:
        """True if the synthetic twin reproduces the pre-treatment path (almost) exactly.

        With fewer pre-treatment years than donors this is usually possible; the weights are then
        not unique (the solver returns one of many exact fits), and the post/pre RMSPE ratios, the
        rank and the p-value carry no information.
        """
        pre = self.observed[self.observed.index < self.treatment_year]
        spread = float(pre.std()) if len(pre) > 1 else 0.0
        scale = max(spread, 1e-3 * abs(float(pre.mean())), 1e-12)
        return self.pre_rmspe < 1e-3 * scale

    @property
    def last_gap(self) -> float:
        """The gap in the last observed year."""
        return float(self.gap.iloc[-1])

    @property
    def mean_post_gap(self) -> float:
        """The mean gap over the post-treatment years."""
        return float(self.gap[self.gap.index >= self.treatment_year].mean())

    def summary(self, threshold: float = 0.001) -> str:
        """A few lines for a reader: weights, fit, gap and p-value."""
        shown = self.weights[self.weights > threshold].sort_values(ascending=False)
        weights = ", ".join(f"{name} {w:.3f}" for name, w in shown.items())
        years = self.gap.index
        lines = [
            f"Synthetic control for {self.treated}, outcome {self.outcome} ({self.units}), "
            f"{years.min()}-{years.max()}, treatment year {self.treatment_year}",
            f"  donor weights: {weights}",
            f"  pre-treatment RMSPE {self.pre_rmspe:.3f}; post-treatment RMSPE {self.post_rmspe:.3f} "
            f"(ratio {self.ratio:.2f})",
            f"  gap {int(years.max())}: {self.last_gap:+.3f}; mean post-treatment gap {self.mean_post_gap:+.3f}",
            f"  placebos: {len(self.placebo_ratio)}; rank {self.rank} of {len(self.placebo_ratio) + 1}; "
            f"permutation p = {self.p_value:.3f}",
        ]
        if self.exact_pre_fit:
            lines.append("  caution: the pre-treatment fit is exact (few pre-treatment years); the weights are "
                         "not unique and the RMSPE ratios and p-value are not informative")
        if self.treatment_year == DEFAULT_TREATMENT_YEAR:
            lines.append(f"  {TREATMENT_YEAR_NOTE}")
        return "\n".join(lines)


def estimate(
    outcome: str = "relative_gdp_per_capita",
    treatment_year: int = DEFAULT_TREATMENT_YEAR,
    treated: str = TREATED,
    donors: Sequence[str] | None = None,
    start_year: int | None = None,
    end_year: int | None = None,
    panel: pd.DataFrame | None = None,
    placebos: bool = True,
) -> SyntheticControlResult:
    """Estimate the effect on ``treated`` of a treatment from ``treatment_year`` on.

    Args:
        outcome: one of :data:`OUTCOMES` (ignored for its data when ``panel`` is given, but kept as
            the label).
        treatment_year: first post-treatment year; the weights are fitted on the years before it.
        treated: the treated unit (a province, or a column of ``panel``).
        donors: the donor pool; default :func:`donor_pool` (or every other column of ``panel``).
        start_year, end_year: restrict the years used.
        panel: a wide outcome table (years x units) to use instead of the observed one (tests,
            other outcomes).
        placebos: run the in-space placebos (needed for the p-value and the band).

    Raises:
        ImportError: if pysyncon is not installed (extra ``evidence``).
        ValueError: for an unknown unit, too few years, or a panel with gaps.
    """
    units = OUTCOME_UNITS.get(outcome, "outcome units")
    if panel is None:
        panel = outcome_panel(outcome)
        if donors is None:
            donors = donor_pool(treated)
    elif donors is None:
        donors = [c for c in panel.columns if c != treated]
    donors = [d for d in donors if d != treated]
    missing = [u for u in (treated, *donors) if u not in panel.columns]
    if missing:
        raise ValueError(f"not in the outcome panel: {', '.join(map(str, missing))}")
    if len(donors) < 2:
        raise ValueError("a synthetic control needs at least two donors")
    years = panel.index
    if start_year is not None:
        years = years[years >= start_year]
    if end_year is not None:
        years = years[years <= end_year]
    panel = panel.loc[years, [treated, *donors]].astype(float)
    if panel.isna().any().any():
        raise ValueError("the outcome panel has gaps")
    if not (panel.index < treatment_year).any() or not (panel.index >= treatment_year).any():
        raise ValueError(f"treatment year {treatment_year} leaves no pre- or no post-treatment year "
                         f"in {panel.index.min()}-{panel.index.max()}")

    main = _fit_unit(panel, treated, donors, treatment_year)
    gaps, pre, post = {}, {}, {}
    if placebos:
        for unit in donors:
            fit = _fit_unit(panel, unit, [d for d in donors if d != unit], treatment_year)
            gaps[unit], pre[unit], post[unit] = fit.gap, fit.pre_rmspe, fit.post_rmspe
    placebo_gaps = pd.DataFrame(gaps, index=panel.index)
    placebo_gaps.columns.name = "placebo"
    pre_s = pd.Series(pre, dtype=float, name="pre_rmspe")
    post_s = pd.Series(post, dtype=float, name="post_rmspe")
    ratio_s = pd.Series({u: post[u] / pre[u] if pre[u] > 0 else np.inf for u in pre}, dtype=float, name="ratio")
    if placebos:
        rank, p_value = permutation_p_value(main.ratio, ratio_s.to_numpy())
    else:
        rank, p_value = 0, float("nan")
    return SyntheticControlResult(
        treated=treated, outcome=outcome, units=units, treatment_year=treatment_year,
        observed=main.observed, synthetic=main.synthetic, gap=main.gap, weights=main.weights,
        pre_rmspe=main.pre_rmspe, post_rmspe=main.post_rmspe,
        placebo_gaps=placebo_gaps, placebo_pre_rmspe=pre_s, placebo_post_rmspe=post_s, placebo_ratio=ratio_s,
        rank=rank, p_value=p_value,
    )
