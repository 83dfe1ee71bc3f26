"""Each strategy's effect taken apart by switch-off runs: the table of docs/ODD.md section 6c.

Every row is a shipped scenario file run with some of its values set (a mechanism switched off,
or the same-cost placebo), for several seeds and under both settings of ``economy.field_returns``
(the assumption the comparison turns on). Against ``baseline`` under the same rule and seeds it
reports, at the end year: real GDP (per cent), the Gini and the between-region Theil of real GDP
per person (differences); over the years after the start: the strategy's instruments (money
beyond the science budget, net of proceeds, CNY tn) and the real GDP gained per yuan of them.

    python -m sim.analysis.decomposition              # 5 seeds, 2022-2050: the Markdown table
    python -m sim.analysis.decomposition --csv FILE   # the numbers as well
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

RULES: tuple[str, ...] = ("equal_marginal", "uniform")
"""The two settings of ``economy.field_returns`` every row is run under."""


@dataclass(frozen=True)
class Variant:
    """One row: a scenario file (name in ``scenarios/``) with ``values`` set."""

    label: str
    scenario: str
    values: dict[str, object] = field(default_factory=dict)


VARIANTS: tuple[Variant, ...] = (
    Variant("hefei", "hefei"),
    Variant("hefei, placebo (same cost rule, business as usual)", "hefei_placebo"),
    Variant("hefei, no fund (`fund_share` 0)", "hefei", {"strategy.hefei.fund_share": 0.0}),
    Variant("hefei, no transfer (`transfer` 1)", "hefei", {"strategy.hefei.transfer": 1.0}),
    Variant("hefei, no lab (`lab_share` 0)", "hefei", {"strategy.hefei.lab_share": 0.0}),
    Variant("hefei, no failures (`failure_rate` 0)", "hefei", {"strategy.hefei.failure_rate": 0.0}),
    Variant("cas_branch", "cas_branch"),
    Variant("cas_branch, placebo", "cas_branch_placebo"),
    Variant("cas_branch, no central match", "cas_branch", {"strategy.cas_branch.central_match": 0.0}),
    Variant("cas_branch, no transfer", "cas_branch", {"strategy.cas_branch.transfer": 1.0}),
    Variant("foreign_multinational", "foreign_multinational"),
    Variant("foreign_multinational, placebo", "foreign_multinational_placebo"),
    Variant("foreign_multinational, no incentives", "foreign_multinational",
            {"strategy.foreign_multinational.incentive_share": 0.0}),
    Variant("foreign_multinational, no spillover", "foreign_multinational",
            {"strategy.foreign_multinational.spillover": 1.0}),
    Variant("consumer_niche (independent)", "consumer_niche"),
    Variant("consumer_niche, placebo", "consumer_niche_placebo"),
    Variant("consumer_niche, no equity", "consumer_niche", {"strategy.consumer_niche.equity_share": 0.0}),
    Variant("consumer_niche, no transfer", "consumer_niche", {"strategy.consumer_niche.transfer": 1.0}),
    Variant("consumer_niche, coordinated", "consumer_niche", {"strategy.consumer_niche.coordination": "coordinated"}),
    Variant("megacity", "megacity"),
)
"""The rows of the table, in order."""


def _scenario_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "scenarios"


def run_variant(scenario: str, values: dict[str, object], rule: str, seed: int, *,
                end_year: int | None = None, directory: Path | None = None) -> dict[str, float]:
    """One run's outcomes: end-year real GDP, Gini and between-region Theil; real GDP and instruments
    (net of proceeds) summed over the years after the start."""
    from sim.experiments.single import run_scenario
    from sim.scenario import load_scenario

    loaded = load_scenario((directory or _scenario_dir()) / f"{scenario}.toml")
    settings = {**values, "economy.field_returns": rule}
    if end_year is not None:
        settings["run.end_year"] = end_year
    national = run_scenario(loaded.with_values(settings), seed=seed).tables()["national"]
    later = national[national["year"] > national["year"].min()]
    last = national.iloc[-1]
    return {
        "gdp_real": float(last["gdp_real_cny_bn"]),
        "gini": float(last["gini"]),
        "theil_between": float(last["theil_between_region"]),
        "gdp_real_sum": float(later["gdp_real_cny_bn"].sum()),
        "instruments": float((later["instruments_cny_bn"] - later["proceeds_cny_bn"]).sum()),
    }


def decomposition(variants: Sequence[Variant] = VARIANTS, seeds: Sequence[int] = (1, 2, 3, 4, 5), *,
                  end_year: int | None = None, directory: Path | None = None,
                  progress: bool = True) -> pd.DataFrame:
    """One row per variant and rule: mean effects over ``seeds`` against ``baseline`` (same rule, same seeds).

    Columns: ``label, rule, gdp_pct, gini, theil_between, instruments_tn, return_per_yuan`` and the
    baseline's ``baseline_gini, baseline_theil_between``. The return is NaN when the instruments are
    below CNY 1 bn (nothing to divide by).
    """
    from tqdm.auto import tqdm

    jobs = [(v.scenario, v.values) for v in (Variant("baseline", "baseline"), *variants)]
    total = len(jobs) * len(RULES) * len(seeds)
    bar = tqdm(total=total, desc="decomposition runs", unit="run", disable=not progress)
    means: dict[tuple[int, str], dict[str, float]] = {}
    for j, (scenario, values) in enumerate(jobs):
        for rule in RULES:
            runs = []
            for seed in seeds:
                runs.append(run_variant(scenario, values, rule, seed, end_year=end_year, directory=directory))
                bar.update()
            means[(j, rule)] = pd.DataFrame(runs).mean().to_dict()
    bar.close()
    rows = []
    for j, variant in enumerate(variants, start=1):
        for rule in RULES:
            own, base = means[(j, rule)], means[(0, rule)]
            instruments = own["instruments"]
            gained = own["gdp_real_sum"] - base["gdp_real_sum"]
            rows.append({
                "label": variant.label, "rule": rule,
                "gdp_pct": 100.0 * (own["gdp_real"] / base["gdp_real"] - 1.0),
                "gini": own["gini"] - base["gini"],
                "theil_between": own["theil_between"] - base["theil_between"],
                "instruments_tn": instruments / 1000.0,
                "return_per_yuan": gained / instruments if instruments > 1.0 else float("nan"),
                "baseline_gini": base["gini"], "baseline_theil_between": base["theil_between"],
            })
    return pd.DataFrame(rows)


def _signed(value: float, digits: int, suffix: str = "") -> str:
    text = f"{value:+.{digits}f}{suffix}"
    return text.replace("+-", "-")


def markdown(table: pd.DataFrame) -> str:
    """The ODD table: one line per variant, both rules side by side."""
    head = ("| strategy, variant | equal_marginal: GDP | Gini | Theil between | uniform: GDP | Gini | Theil between "
            "| instruments (CNY tn) | return (equal / uniform) |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for label, rows in table.groupby("label", sort=False):
        by_rule = rows.set_index("rule")
        cells = [label]
        for rule in RULES:
            row = by_rule.loc[rule]
            cells += [_signed(row["gdp_pct"], 1, " %"), _signed(row["gini"], 3), _signed(row["theil_between"], 4)]
        instruments = by_rule.loc[RULES[0], "instruments_tn"]
        cells.append("0" if abs(instruments) < 0.05 else f"{instruments:.1f}")
        returns = [by_rule.loc[r, "return_per_yuan"] for r in RULES]
        cells.append("-" if not all(np.isfinite(returns)) else " / ".join(f"{r:.1f}" for r in returns))
        lines.append("| " + " | ".join(cells) + " |")
    base = table.drop_duplicates("rule").set_index("rule")
    lines.append("")
    lines.append("Baseline at the end year: Gini " + ", ".join(f"{base.loc[r, 'baseline_gini']:.3f} ({r})" for r in RULES)
                 + "; between-region Theil " + ", ".join(f"{base.loc[r, 'baseline_theil_between']:.4f} ({r})"
                                                        for r in RULES) + ".")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.analysis.decomposition``: run every switch-off variant and print the table."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sim.analysis.decomposition", description=main.__doc__)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 1..N for every variant and rule (default 5)")
    parser.add_argument("--end-year", type=int, default=None, help="end year (default: the scenario files')")
    parser.add_argument("--csv", type=Path, default=None, help="also write the numbers to this CSV file")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds: expected a whole number of at least 1")
    table = decomposition(seeds=tuple(range(1, args.seeds + 1)), end_year=args.end_year)
    if args.csv is not None:
        table.to_csv(args.csv, index=False)
    print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
