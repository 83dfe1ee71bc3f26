"""The executive summary: one plain sentence per scenario against its reference, generated from the results.

For every scenario with a reference (``baseline``), the end-year effect on inequality (the Gini of
real GDP per person), real output, research output, and the money its instruments cost beyond the
science budget. With parameter draws in the results (an ``[uncertainty]`` experiment) each effect
is stated as the share of the draw-and-seed pairs in which it holds: the runs of a scenario and of
its reference share seeds and parameter values pair by pair, so the difference is paired. Without
draws the pairs are seeds only, and the sentence says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.report.data import ReportData


@dataclass(frozen=True)
class Effect:
    """A scenario's effect on one metric against its reference, over the paired runs."""

    metric: str
    mean_relative: float
    share_up: float
    pairs: int
    share_down: float = 0.0


def _end_rows(national: pd.DataFrame) -> pd.DataFrame:
    last = national["year"].max()
    return national[national["year"] == last]


def _pair_keys(frame: pd.DataFrame) -> list[str]:
    return [c for c in ("draw", "replicate") if c in frame.columns]


def effects(data: ReportData, group: str) -> dict[str, Effect]:
    """Paired end-year effects of ``group`` against its reference, per metric."""
    reference = data.reference.get(group)
    if reference is None or reference == group:
        return {}
    end = _end_rows(data.national)
    keys = _pair_keys(end)
    own = end[end["group"] == group].set_index(keys) if keys else end[end["group"] == group]
    ref = end[end["group"] == reference].set_index(keys) if keys else end[end["group"] == reference]
    common = own.index.intersection(ref.index)
    out: dict[str, Effect] = {}
    for metric in ("gini", "gdp_real_cny_bn", "research_output", "theil_between_region"):
        if metric not in end.columns or len(common) == 0:
            continue
        a = own.loc[common, metric].to_numpy(float)
        b = ref.loc[common, metric].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = float(np.nanmean(a / b - 1.0))
        out[metric] = Effect(metric, relative, float(np.mean(a > b)), len(common), float(np.mean(a < b)))
    return out


def _cost(data: ReportData, group: str) -> float | None:
    """Mean over runs of the instruments' money beyond the science budget, summed over the years, CNY tn."""
    province = data.province
    if "instruments_cny_bn" not in province.columns:
        return None
    rows = province[province["group"] == group]
    if rows.empty:
        return None
    per_run = rows.groupby("run_id")[["instruments_cny_bn", "proceeds_cny_bn"]].sum()
    return float((per_run["instruments_cny_bn"] - per_run["proceeds_cny_bn"]).mean() / 1000.0)


def _share(effect: Effect, lower_is: str, higher_is: str) -> str:
    if effect.share_up == 0 and effect.share_down == 0:
        return "equal in every pair"
    if effect.share_up >= effect.share_down:
        return f"{higher_is} in {100 * effect.share_up:.0f} %"
    return f"{lower_is} in {100 * effect.share_down:.0f} %"


def strategy_sentences(data: ReportData) -> list[str]:
    """One sentence per scenario with a reference, in report order (empty when there is none)."""
    sentences: list[str] = []
    draws = "draw" in data.national.columns and data.national["draw"].nunique() > 1
    for group in data.groups:
        found = effects(data, group)
        if not found:
            continue
        reference = data.reference[group]
        pairs = next(iter(found.values())).pairs
        unit = (f"of {pairs} draw-and-seed pairs (parameter and seed uncertainty)" if draws
                else f"of {pairs} seeds (seed uncertainty only: parameters fixed at their defaults)")
        parts = []
        if "gini" in found:
            g = found["gini"]
            parts.append(f"the Gini {100 * g.mean_relative:+.1f} % "
                         f"({_share(g, 'lower', 'higher')})")
        if "gdp_real_cny_bn" in found:
            y = found["gdp_real_cny_bn"]
            parts.append(f"real GDP {100 * y.mean_relative:+.1f} % ({_share(y, 'lower', 'higher')})")
        if "research_output" in found:
            r = found["research_output"]
            parts.append(f"research output {100 * r.mean_relative:+.1f} % ({_share(r, 'lower', 'higher')})")
        cost = _cost(data, group)
        money = (f"; its instruments cost {cost:,.1f} trillion CNY beyond the science budget over the run"
                 if cost and cost > 0.05 else "")
        sentences.append(f"{group} against {reference} at the end year: " + ", ".join(parts)
                         + f", shares {unit}{money}.")
    return sentences


def summary_table(data: ReportData) -> pd.DataFrame:
    """The effects as a table (``summary_effects.csv``): group, reference, metric, mean relative effect,
    share of pairs higher, pairs, and whether the pairs include parameter draws."""
    rows = []
    draws = "draw" in data.national.columns and data.national["draw"].nunique() > 1
    for group in data.groups:
        for metric, effect in effects(data, group).items():
            rows.append({"group": group, "reference": data.reference[group], "metric": metric,
                         "mean_relative_effect": effect.mean_relative, "share_higher": effect.share_up,
                         "share_lower": effect.share_down,
                         "pairs": effect.pairs, "parameter_draws": draws})
    return pd.DataFrame(rows)
