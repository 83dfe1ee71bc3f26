"""A model's gap against the synthetic-control placebo band (the Hefei case test).

:func:`placebo_band` gives, per year, the range of placebo gaps of provinces that fit their own past
nearly as well as Anhui; :func:`compare_model_gap` says whether a model's Anhui-minus-counterfactual
gap lies inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.synthetic_control import MIN_PLACEBOS, SyntheticControlResult


def placebo_band(result: SyntheticControlResult, k: float = 5.0, lower: float = 5.0,
                 upper: float = 95.0) -> pd.DataFrame:
    """Per year, the ``lower``-th and ``upper``-th percentiles of the placebo gaps, counting only the
    placebos whose pre-treatment RMSPE is at most ``k`` times the treated unit's.

    Returns:
        A frame indexed by year with ``lower``, ``upper`` and ``n_placebos``.

    Raises:
        ValueError: if fewer than three placebos meet the rule (raise ``k``).
    """
    if not 0.0 <= lower < upper <= 100.0:
        raise ValueError("need 0 <= lower < upper <= 100")
    kept = result.placebo_pre_rmspe[result.placebo_pre_rmspe <= k * result.pre_rmspe].index
    if len(kept) < MIN_PLACEBOS:
        raise ValueError(f"only {len(kept)} placebos have a pre-treatment RMSPE within {k} times "
                         f"{result.treated}'s; raise k")
    gaps = result.placebo_gaps[list(kept)].to_numpy(float)
    return pd.DataFrame({
        "lower": np.percentile(gaps, lower, axis=1),
        "upper": np.percentile(gaps, upper, axis=1),
        "n_placebos": len(kept),
    }, index=result.placebo_gaps.index)


@dataclass(frozen=True)
class ModelGapCheck:
    """Whether a model-produced gap path lies inside the observed placebo band.

    Attributes:
        table: per compared year: ``model_gap``, ``observed_gap`` (the synthetic-control estimate),
            ``lower``, ``upper`` (the band) and ``inside``.
        k, lower_percentile, upper_percentile: the band's rule.
    """

    table: pd.DataFrame
    k: float
    lower_percentile: float
    upper_percentile: float

    @property
    def share_inside(self) -> float:
        """Share of the compared years in which the model's gap is inside the band."""
        return float(self.table["inside"].mean())

    @property
    def inside(self) -> bool:
        """True if the model's gap is inside the band in every compared year."""
        return bool(self.table["inside"].all())

    @property
    def observed_outside(self) -> float:
        """Share of the compared years in which the observed gap itself is outside the band."""
        t = self.table
        return float(((t["observed_gap"] < t["lower"]) | (t["observed_gap"] > t["upper"])).mean())


def compare_model_gap(result: SyntheticControlResult, model_gap: pd.Series | dict, k: float = 5.0,
                      lower: float = 5.0, upper: float = 95.0) -> ModelGapCheck:
    """Compare a model-produced gap path with the observed placebo band (rule: module docstring).

    Args:
        result: the observed estimate (with placebos).
        model_gap: by year, the model's Anhui with its strategy minus the model's Anhui without it,
            in the outcome's units (e.g. percentage points of relative GDP per capita).
        k: placebos with a pre-treatment RMSPE above ``k`` times the treated unit's are left out.
        lower, upper: the band's percentiles.

    Raises:
        ValueError: if the model's gap shares no post-treatment year with the observed panel.
    """
    gap = pd.Series(model_gap, dtype=float)
    gap.index = gap.index.astype(int)
    band = placebo_band(result, k=k, lower=lower, upper=upper)
    years = [y for y in result.post_years if y in gap.index and np.isfinite(gap[y])]
    if not years:
        raise ValueError(f"the model gap has no post-treatment year in common with the observed "
                         f"{result.post_years[0]}-{result.post_years[-1]}")
    table = pd.DataFrame({
        "model_gap": gap.loc[years].to_numpy(),
        "observed_gap": result.gap.loc[years].to_numpy(),
        "lower": band.loc[years, "lower"].to_numpy(),
        "upper": band.loc[years, "upper"].to_numpy(),
    }, index=pd.Index(years, name="year"))
    table["inside"] = (table["model_gap"] >= table["lower"]) & (table["model_gap"] <= table["upper"])
    return ModelGapCheck(table=table, k=k, lower_percentile=lower, upper_percentile=upper)
