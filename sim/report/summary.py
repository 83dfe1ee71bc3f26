"""The executive summary: one plain sentence per strategy, generated from the results.

For every scenario with a reference (``baseline``): the end-year effect on inequality (the Gini of
real GDP per person), real output, research output; the extra money it costs over the run (who
pays) and the real GDP it returns per extra yuan (:mod:`sim.report.costs`); and, when the
experiment has its same-cost placebo (``<name>_placebo``), the same effects against the placebo.

Uncertainty as the data allow. With parameter draws in the results (an ``[uncertainty]``
experiment) each effect is stated as the share of the draw-and-seed pairs in which it holds: the
runs of a scenario and of its reference share seeds and parameter values pair by pair, so the
difference is paired. Without draws the pairs are seeds only, and the sentence says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.report.costs import cost_table, format_bn, return_text, year_span

if TYPE_CHECKING:
    from sim.report.data import ReportData

SUMMARY_METRICS: tuple[str, ...] = ("gini", "gdp_real_cny_bn", "research_output", "theil_between_region")
"""End-year metrics of the summary (the sentences name the first three)."""


@dataclass(frozen=True)
class Effect:
    """A scenario's effect on one metric against a reference, over the paired runs."""

    metric: str
    mean_relative: float
    share_up: float
    pairs: int
    share_down: float = 0.0


def _end_rows(national: pd.DataFrame) -> pd.DataFrame:
    last = national.groupby("run_id")["year"].transform("max")
    return national[national["year"] == last]


def _pair_keys(frame: pd.DataFrame) -> list[str]:
    return [c for c in ("draw", "replicate") if c in frame.columns]


def effects(data: ReportData, group: str, reference: str | None = None) -> dict[str, Effect]:
    """Paired end-year effects of ``group`` against ``reference`` (default: its ``baseline``), per metric."""
    reference = data.reference.get(group) if reference is None else reference
    if reference is None or reference == group:
        return {}
    end = _end_rows(data.national)
    keys = _pair_keys(end)
    own = end[end["group"] == group]
    ref = end[end["group"] == reference]
    if keys:
        own, ref = own.set_index(keys), ref.set_index(keys)
    common = own.index.intersection(ref.index)
    out: dict[str, Effect] = {}
    for metric in SUMMARY_METRICS:
        if metric not in end.columns or len(common) == 0:
            continue
        a = own.loc[common, metric].to_numpy(float)
        b = ref.loc[common, metric].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = float(np.nanmean(a / b - 1.0))
        out[metric] = Effect(metric, relative, float(np.mean(a > b)), len(common), float(np.mean(a < b)))
    return out


_WORDS = {"gini": ("the Gini", "more unequal", "more equal"),
          "gdp_real_cny_bn": ("real GDP", "higher", "lower"),
          "research_output": ("research output", "higher", "lower")}


def _effect_text(effect: Effect) -> str:
    """``the Gini −3.1 % (more equal in 28 of 30)``."""
    name, up, down = _WORDS[effect.metric]
    if effect.share_up == 0 and effect.share_down == 0:
        return f"{name} unchanged (equal in every pair)"
    # the direction of the mean effect, and in how many pairs it holds
    rising = effect.mean_relative > 0 or (effect.mean_relative == 0 and effect.share_up >= effect.share_down)
    word, share = (up, effect.share_up) if rising else (down, effect.share_down)
    count = int(round(share * effect.pairs))
    percent = f"{100 * effect.mean_relative:+.1f} %".replace("-", "−")
    return f"{name} {percent} ({word} in {count} of {effect.pairs})"


def _effects_text(found: dict[str, Effect]) -> str:
    parts = [_effect_text(found[m]) for m in ("gini", "gdp_real_cny_bn", "research_output") if m in found]
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else ""


def uncertainty_label(data: ReportData, pairs: int) -> str:
    """How many pairs the shares count, and which uncertainty they cover."""
    if data.has_draws:
        return f"of {pairs} draw-and-seed pairs (parameter and seed uncertainty)"
    return f"of {pairs} seeds (seeds only: parameters fixed at their defaults)"


def _cost_clause(costs: pd.DataFrame, group: str, reference: str, span: str) -> str:
    rows = costs[(costs["group"] == group) & (costs["reference"] == reference)]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    extra = row["extra_cost_cny_bn"]
    who = (f"provincial {format_bn(row['extra_provincial_cny_bn'])}, central {format_bn(row['extra_central_cny_bn'])},"
           f" foreign {format_bn(row['extra_foreign_cny_bn'])}")
    more = "more" if extra >= 0 else "less"
    if row["comparison"] == "placebo":
        return f"costing CNY {format_bn(abs(extra))} bn {more} than the placebo ({who})"
    text = f"it costs CNY {format_bn(abs(extra))} bn {more} over {span} ({who})"
    if np.isfinite(row["return_per_yuan"]):
        return text + f" and returns {return_text(row)}"
    return text + f", {return_text(row)}"


def strategy_sentences(data: ReportData, costs: pd.DataFrame | None = None) -> list[str]:
    """One sentence per strategy with a reference, in report order (empty when there is none).

    A placebo that is compared within its strategy's sentence gets no sentence of its own.
    """
    sentences: list[str] = []
    costs = cost_table(data) if costs is None else costs
    span = year_span(data)
    end_year = int(data.national["year"].max())
    for group in data.groups:
        if data.is_placebo(group) and any(data.placebos.get(g) == group for g in data.groups):
            continue
        found = effects(data, group)
        if not found:
            continue
        reference = data.reference[group]
        pairs = next(iter(found.values())).pairs
        text = f"{group} against {reference} in {end_year}: {_effects_text(found)}"
        money = _cost_clause(costs, group, reference, span)
        if money:
            text += f"; {money}"
        placebo = data.placebos.get(group)
        against = effects(data, group, placebo) if placebo else {}
        if against:
            text += f"; against its same-cost placebo {placebo}: {_effects_text(against)}"
            money = _cost_clause(costs, group, placebo, span)
            if money:
                text += f", {money}"
        sentences.append(text + f"; shares {uncertainty_label(data, pairs)}.")
    return sentences


def summary_table(data: ReportData) -> pd.DataFrame:
    """The effects as a table (``summary_effects.csv``): group, reference, comparison (``baseline``
    or ``placebo``), metric, mean relative effect, shares of pairs higher and lower, pairs, and
    whether the pairs include parameter draws."""
    rows = []
    draws = data.has_draws
    for group in data.groups:
        for kind, reference in (("baseline", data.reference.get(group)), ("placebo", data.placebos.get(group))):
            if reference is None or reference == group:
                continue
            for metric, effect in effects(data, group, reference).items():
                rows.append({"group": group, "reference": reference, "comparison": kind, "metric": metric,
                             "mean_relative_effect": effect.mean_relative, "share_higher": effect.share_up,
                             "share_lower": effect.share_down, "pairs": effect.pairs, "parameter_draws": draws})
    return pd.DataFrame(rows, columns=["group", "reference", "comparison", "metric", "mean_relative_effect",
                                       "share_higher", "share_lower", "pairs", "parameter_draws"])
