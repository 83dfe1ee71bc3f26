"""Robustness of strategy effects: does each effect keep its sign across conditions?

Reads the national (and, when recorded, province) table of a robustness experiment
(:mod:`sim.experiments.robustness`) and, for every strategy, condition and comparison (against the
baseline, against the strategy's same-cost placebo), computes the end-year effect on the Gini,
real GDP, research output and between-region Theil, paired by replicate (common random numbers).

An effect's sign is ``+`` or ``-`` when the replicates' mean difference is larger than twice its
standard error and than a relative tolerance (:data:`TOLERANCE`), and ``0`` otherwise. For the
single-adopter conditions the adopter's own real GDP per head is also compared (province table).

:func:`effects` gives the long table; :func:`verdicts` one row per strategy, comparison and metric
with the as-shipped sign, how many conditions agree and which flip; :func:`sentences` says it in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiments.robustness import AS_SHIPPED, condition_of

__all__ = ["ADOPTER_METRIC", "METRICS", "TOLERANCE", "Metric", "clauses", "describe_condition", "effects", "sentences", "verdicts"]

TOLERANCE = 1e-4
"""Relative effects smaller than this (0.01 %) count as no effect, whatever the noise."""


@dataclass(frozen=True)
class Metric:
    """An end-year outcome compared between scenarios."""

    column: str
    label: str
    relative: bool
    """True: the effect is a relative change (%); False: a difference in the metric's units."""
    up: str
    down: str


METRICS: tuple[Metric, ...] = (
    Metric("gini", "Gini", False, "raises the Gini", "lowers the Gini"),
    Metric("gdp_real_cny_bn", "real GDP", True, "raises real GDP", "lowers real GDP"),
    Metric("research_output", "research output", True, "raises research output", "lowers research output"),
    Metric("theil_between_region", "between-region Theil", False, "raises the between-region Theil",
           "lowers the between-region Theil"),
)
ADOPTER_METRIC = Metric("adopter_gdp_per_capita", "the adopting provinces' real GDP per head", True,
                        "raises the adopters' real GDP per head", "lowers the adopters' real GDP per head")


def _end_year(national: pd.DataFrame) -> pd.DataFrame:
    end = national[national["year"] == national["year"].max()].copy()
    names = end["scenario"].astype(str)
    parts = names.map(condition_of)
    end["base"] = [p[0] for p in parts]
    end["condition"] = [p[1] for p in parts]
    return end


def _pair(a: dict[str, np.ndarray], b: dict[str, np.ndarray], column: str,
          relative: bool) -> tuple[float, float, float, float, int]:
    """Mean, standard error, min and max over replicates of a - b (relative: a / b - 1), paired by replicate."""
    common, ia, ib = np.intersect1d(a["replicate"], b["replicate"], return_indices=True)
    if not len(common):
        return (np.nan, np.nan, np.nan, np.nan, 0)
    x, y = a[column][ia].astype(float), b[column][ib].astype(float)
    diff = x / y - 1.0 if relative else x - y
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return float(diff.mean()), se, float(diff.min()), float(diff.max()), len(diff)


def _sign(mean: float, se: float, scale: float) -> str:
    if not np.isfinite(mean):
        return "?"
    if abs(mean) <= max(2.0 * se, TOLERANCE * scale):
        return "0"
    return "+" if mean > 0 else "-"


def effects(national: pd.DataFrame, province: pd.DataFrame | None = None,
            conditions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every strategy's end-year effect per condition, against the baseline and its placebo.

    Args:
        national: the national table of a robustness experiment (scenarios named ``<name>--<condition>``).
        province: its province table, for the adopters' own GDP per head (optional).
        conditions: optional ``condition -> description`` table (columns ``condition``, ``description``).

    Returns:
        One row per strategy, condition, comparison (``baseline`` or ``placebo``) and metric, with the
        mean effect over replicates, its standard error, min and max, the number of pairs and the sign.
        Conditions that vary only the strategy (forced field, single adopter) compare with the
        as-shipped baseline; the others with the baseline under the same condition.
    """
    end = _end_year(national)
    by_run = _adopter_gdp(province) if province is not None else {}
    columns = ["replicate", "run_id", *(m.column for m in METRICS)]
    groups = {key: {c: g[c].to_numpy() for c in columns}
              for key, g in end.groupby(["base", "condition"], sort=False)}
    strategies = [b for b in dict.fromkeys(end["base"]) if b != "baseline" and not b.endswith("_placebo")]
    rows = []
    for strategy in strategies:
        for (base, condition), run in groups.items():
            if base != strategy:
                continue
            references = {"baseline": groups.get(("baseline", condition), groups.get(("baseline", AS_SHIPPED))),
                          "placebo": groups.get((f"{strategy}_placebo", condition))}
            metrics = list(METRICS) + ([ADOPTER_METRIC] if province is not None else [])
            for against, reference in references.items():
                if reference is None:
                    continue
                for metric in metrics:
                    if metric is ADOPTER_METRIC:
                        mean, se, lo, hi, n = _adopter_pair(run, reference, by_run)
                    else:
                        mean, se, lo, hi, n = _pair(run, reference, metric.column, metric.relative)
                    scale = 1.0 if metric.relative else float(np.abs(reference[metric.column]).mean() or 1.0)
                    rows.append({"strategy": strategy, "condition": condition, "against": against,
                                 "metric": metric.column, "effect": mean, "se": se, "low": lo, "high": hi,
                                 "pairs": n, "relative": metric.relative, "sign": _sign(mean, se, scale)})
    table = pd.DataFrame(rows)
    if conditions is not None and not table.empty:
        table = table.merge(conditions[["condition", "description"]].drop_duplicates("condition"),
                            on="condition", how="left")
    return table


def _adopter_gdp(province: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """End-year province rows per run (real GDP, population, strategy), indexed by province."""
    last = province[province["year"] == province["year"].max()]
    return {int(run): g.sort_values("province")[["strategy", "gdp_real_cny_bn", "population_m"]]
            for run, g in last.groupby("run_id", sort=False)}


def _adopter_pair(run: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                  by_run: dict[int, pd.DataFrame]) -> tuple[float, float, float, float, int]:
    """The adopting provinces' real GDP per head, strategy run against reference run, paired by replicate.

    The adopters are the provinces whose strategy is not ``baseline`` in the strategy's run."""
    ref_runs = dict(zip(reference["replicate"], reference["run_id"], strict=True))
    diffs = []
    for replicate, run_id in zip(run["replicate"], run["run_id"], strict=True):
        mine, theirs = by_run.get(int(run_id)), by_run.get(int(ref_runs.get(replicate, -1)))
        if mine is None or theirs is None:
            continue
        mask = (mine["strategy"] != "baseline").to_numpy()
        if not mask.any() or len(theirs) != len(mine):
            continue
        a = mine["gdp_real_cny_bn"].to_numpy()[mask].sum() / mine["population_m"].to_numpy()[mask].sum()
        b = theirs["gdp_real_cny_bn"].to_numpy()[mask].sum() / theirs["population_m"].to_numpy()[mask].sum()
        diffs.append(a / b - 1.0)
    if not diffs:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    d = np.asarray(diffs)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
    return float(d.mean()), se, float(d.min()), float(d.max()), len(d)


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy, comparison and metric: the as-shipped sign, agreeing conditions, flips."""
    rows = []
    for (strategy, against, metric), g in table.groupby(["strategy", "against", "metric"], sort=False):
        shipped = g[g["condition"] == AS_SHIPPED]
        if shipped.empty:
            continue
        sign = shipped["sign"].iloc[0]
        others = g[g["condition"] != AS_SHIPPED]
        agree = others[others["sign"] == sign]
        flipped = others[(others["sign"] != sign)]
        rows.append({"strategy": strategy, "against": against, "metric": metric, "shipped_sign": sign,
                     "shipped_effect": float(shipped["effect"].iloc[0]), "conditions": len(others),
                     "agree": len(agree),
                     "flips": "; ".join(f"{c} ({s}, {_fmt(e, r)})" for c, s, e, r in
                                        zip(flipped["condition"], flipped["sign"], flipped["effect"],
                                            flipped["relative"], strict=True))})
    return pd.DataFrame(rows)


def _fmt(effect: float, relative: bool) -> str:
    if not np.isfinite(effect):
        return "n/a"
    if effect == 0:
        return "0"
    if relative:
        return f"{100 * effect:+.2f} %" if abs(effect) >= 5e-5 else f"{100 * effect:+.1e} %"
    return f"{effect:+.4f}" if abs(effect) >= 5e-4 else f"{effect:+.1e}"


def describe_condition(condition: str) -> str:
    """A condition's name in words: ``field-biotech`` -> "its field is forced to biotech"."""
    if condition == AS_SHIPPED:
        return "as shipped"
    kind, _, rest = condition.partition("-")
    if kind == "field" and rest:
        return f"its field is forced to {rest}"
    if kind == "share" and rest:
        field, _, factor = rest.rpartition("-x")
        return f"{field}'s share of research is x{factor}"
    if kind == "adopt" and rest:
        return "the whole interior adopts it" if rest == "interior" else f"{rest} adopts it alone"
    key, _, value = condition.partition("-")
    return f"{key} = {value}" if value else condition


_VERB = {"+": "raises", "-": "lowers"}


def _object(metric: str) -> str:
    by_column = {m.column: m for m in (*METRICS, ADOPTER_METRIC)}
    label = by_column[metric].label
    return f"the {label}" if metric in ("gini", "theil_between_region") else label


def _listing(items: list[str], max_named: int) -> str:
    more = len(items) - max_named
    shown = items[:max_named] + ([f"{more} more"] if more > 0 else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def clauses(table: pd.DataFrame, max_named: int = 5) -> list[tuple[str, str, list[str]]]:
    """Per strategy and comparison (``baseline`` or ``placebo``), one clause per metric in plain words:
    its as-shipped effect, in how many conditions that sign holds, and the conditions where it does not."""
    out = []
    verdict = verdicts(table)
    for (strategy, against), g in verdict.groupby(["strategy", "against"], sort=False):
        parts = []
        for row in g.itertuples():
            what = _object(row.metric)
            relative = bool(table.loc[table["metric"] == row.metric, "relative"].iloc[0])
            total = row.conditions + 1
            rows = table[(table["strategy"] == strategy) & (table["against"] == against)
                         & (table["metric"] == row.metric) & (table["condition"] != AS_SHIPPED)]
            if row.shipped_sign in _VERB:
                head = (f"{_VERB[row.shipped_sign]} {what} ({_fmt(row.shipped_effect, relative)} as shipped) "
                        f"in {row.agree + 1} of {total} conditions")
            else:
                head = (f"has no clear effect on {what} ({_fmt(row.shipped_effect, relative)} as shipped, within "
                        f"seed noise) in {row.agree + 1} of {total} conditions")
            others = []
            for sign in ("+", "-", "0"):
                if sign == row.shipped_sign:
                    continue
                hit = rows[rows["sign"] == sign]
                if hit.empty:
                    continue
                named = [f"{describe_condition(c)} ({_fmt(e, relative)})" for c, e in zip(hit["condition"], hit["effect"],
                                                                                          strict=True)]
                verb = _VERB.get(sign, "has no clear effect")
                others.append(f"{verb} {'it ' if sign in _VERB else ''}when {_listing(named, max_named)}")
            parts.append(head + ("; " + "; ".join(others) if others else ""))
        out.append((strategy, against, parts))
    return out


def sentences(table: pd.DataFrame, max_named: int = 5) -> list[str]:
    """Plain sentences, one per strategy and comparison: which effects hold across conditions and where they flip."""
    out = []
    for strategy, against, parts in clauses(table, max_named):
        ref = "the baseline" if against == "baseline" else "its same-cost placebo"
        out.append(f"Against {ref}, {strategy} " + ". It ".join(parts) + ".")
    return out
