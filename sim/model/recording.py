"""Recording the model's years: the national, province and events tables and Mesa's DataCollector.

:class:`Recording` is a base class of :class:`~sim.model.model.RegionalGrowthModel`: one path
records every year (called once after the base year is set up and at the end of each step) and
feeds the tables, the DataCollector and the dashboard.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

import sim.metrics as metrics
import sim.model.economy as economy
from sim.vocabulary import HIGH_TECH_INDEX, REGIONS, SECTORS

_OUTPUT_KEYS = tuple(f"output_{name}_cny_bn" for name in SECTORS)


class Recording:
    """Records each year of the model; mixed into the model."""

    def start_recording(self) -> None:
        """Empty records, the DataCollector, and the base year's record."""
        self._national_rows: list[dict[str, float]] = []
        self._province_records: list[dict[str, np.ndarray]] = []
        self._strategy_records: list[list[str]] = []
        self.datacollector = mesa.DataCollector(model_reporters={
            "year": "year",
            "seed": "seed",
            "gdp_real_cny_bn": lambda m: m.national_rows[-1]["gdp_real_cny_bn"],
            "gini": lambda m: m.national_rows[-1]["gini"],
            "theil_between_region": lambda m: m.national_rows[-1]["theil_between_region"],
            "research_output": lambda m: m.national_rows[-1]["research_output"],
            "interior_research_share": lambda m: m.national_rows[-1]["interior_research_share"],
        })
        self.record_year()
        self.datacollector.collect(self)  # the base year is the DataCollector's first row (step 0)

    def start_event_log(self) -> None:
        """An empty event log (before anything of the base year happens)."""
        self._events_log: list[tuple[int, str, str, str]] = []

    def log_event(self, kind: str, province: int | None, detail: str) -> None:
        """Record an event of this year (written to the ``events`` table)."""
        name = self.province_names[province] if province is not None else ""
        self._events_log.append((self.year, kind, name, detail))

    # ------------------------------------------------------------------ recording
    def record_year(self) -> None:
        """Append this year's national row and province records (real output is the headline)."""
        state = self.state
        data = self.data
        real = state.gdp_real
        summary = metrics.inequality_summary(real, state.population, data.region, data.coastal)
        papers = state.papers
        ranks = metrics.rank_descending(papers)
        provincial_cost = state.own_science + state.central_tax + state.instruments - state.proceeds
        # one copy of every per-province array that has a national total: rows of a matrix, summed at once
        # (a row sum of a C-ordered matrix is the same sum, bit for bit, as the sum of that row alone)
        block = np.stack([state.gdp, state.population, papers, state.budget, state.spent, state.central,
                          state.instruments, state.proceeds, state.foreign_money, provincial_cost, state.installed,
                          state.investment_cut, state.consumption_cut, state.skilled, state.graduates])
        (nominal, population, papers_now, budget, spent, central, instruments, proceeds, foreign_money, cost,
         installed, investment_cut, consumption_cut, skilled, graduates) = block
        (nominal_total, population_total, research_total, budget_total, spent_total, central_total,
         instruments_total, proceeds_total, foreign_total, cost_total, installed_total, investment_cut_total,
         consumption_cut_total, skilled_total, graduates_total) = block.sum(axis=1).tolist()
        high_tech = state.sector_output[:, HIGH_TECH_INDEX]
        previous = self._national_rows[-1]["gdp_real_cny_bn"] if self._national_rows else float("nan")
        national_real = float(state.gdp_real_national)
        interior = self.interior
        if research_total > 0:
            interior_share = float(papers_now[interior].sum() / research_total)
        else:  # the metric says why it cannot be computed
            interior_share = metrics.interior_share(papers, data.coastal)
        row = {
            "year": self.year,
            "gdp_real_cny_bn": national_real,
            "gdp_nominal_cny_bn": nominal_total,
            "gdp_growth": national_real / previous - 1.0 if self._national_rows else float("nan"),
            "population_m": population_total,
            "gdp_per_capita_cny": 1000.0 * national_real / population_total,
            **summary,
            "research_output": research_total,
            "interior_research_share": interior_share,
            # interior regions among the top k by research output (ties broken by position, as ranks are)
            "interior_in_top10": int(np.count_nonzero((ranks <= min(10, self.n)) & interior)),
            "interior_in_top20": int(np.count_nonzero((ranks <= min(20, self.n)) & interior)),
            "high_tech_share": float(high_tech.sum() / nominal.sum()),
            "rd_budget_cny_bn": budget_total,
            "rd_spent_cny_bn": spent_total,
            "central_rd_cny_bn": central_total,
            "instruments_cny_bn": instruments_total,
            "proceeds_cny_bn": proceeds_total,
            "foreign_money_cny_bn": foreign_total,
            "cost_provincial_cny_bn": cost_total,
            "investment_cny_bn": installed_total,
            "investment_cut_cny_bn": investment_cut_total,
            "consumption_cut_cny_bn": consumption_cut_total,
            "skilled_m": skilled_total,
            "graduates_k": graduates_total,
            "institutes": int(np.count_nonzero(self.registry.capacity[: self.registry.count] > 0)),
            "openness": float(state.openness),
        }
        self._national_rows.append(row)
        output = state.sector_output.T.copy()  # one row per sector
        record = {
            "population_m": population,
            "gdp_real_cny_bn": real.copy(),
            "gdp_nominal_cny_bn": nominal,
            "gdp_per_capita_cny": 1000.0 * real / population,
            "skilled_m": skilled,
            "skilled_share": state.skilled_share,
            "graduates_k": graduates,
            "graduates_arrived_k": state.graduate_arrivals.copy(),
            "graduate_retention": economy.divide_positive(state.graduate_stayers, graduates, 1.0),
            "net_migration_k": 1000.0 * state.net_migration,
            "research_output": papers_now,
            "research_rank": ranks,
            "research_capacity_cny_bn": state.research_by_field.sum(axis=1),
            "rd_budget_cny_bn": budget,
            "rd_spent_cny_bn": spent,
            "central_rd_cny_bn": central,
            "own_science_cny_bn": state.own_science.copy(),
            "central_tax_cny_bn": state.central_tax.copy(),
            "instruments_cny_bn": instruments,
            "proceeds_cny_bn": proceeds,
            "foreign_money_cny_bn": foreign_money,
            "cost_provincial_cny_bn": cost,
            "cost_central_cny_bn": central,
            "cost_foreign_cny_bn": foreign_money,
            "investment_cny_bn": installed,
            "investment_cut_cny_bn": investment_cut,
            "consumption_cut_cny_bn": consumption_cut,
            "high_tech_share": high_tech.sum(axis=1) / nominal,
            "income_outflow_cny_bn": state.income_outflow.copy(),
        }
        record.update(zip(_OUTPUT_KEYS, output, strict=True))
        self._province_records.append(record)
        self._strategy_records.append(self.roles.names)

    @property
    def national_rows(self) -> list[dict[str, float]]:
        """The national record so far, one dict per year (the last is the current year)."""
        return self._national_rows

    @property
    def event_log(self) -> list[tuple[int, str, str, str]]:
        """Events so far as ``(year, type, province, detail)`` tuples, oldest first."""
        return self._events_log

    def national_columns(self) -> dict[str, np.ndarray]:
        """The national table as columns: one entry per recorded year."""
        rows = self._national_rows
        return {key: np.array([row[key] for row in rows]) for key in rows[0]}

    def province_columns(self, categorical: bool = True) -> dict[str, Any]:
        """The province table as columns: one entry per province and recorded year.

        Args:
            categorical: province names as a pandas Categorical (else plain strings).
        """
        import pandas as pd

        t = len(self._province_records)
        names = np.tile(np.array(self.province_names, dtype=object), t)
        columns: dict[str, Any] = {
            "year": np.repeat(np.array([row["year"] for row in self._national_rows], dtype=np.int64), self.n),
            "province": pd.Categorical(names, categories=self.province_names) if categorical
            else pd.array(names, dtype="string"),
            "capital": np.tile(np.array(self.data.capitals, dtype=object), t),
            "region": np.tile(np.array([REGIONS[r] for r in self.data.region], dtype=object), t),
            "coastal": np.tile(self.data.coastal, t),
            "strategy": np.concatenate([np.array(s, dtype=object) for s in self._strategy_records]),
        }
        for key in self._province_records[0]:
            columns[key] = np.concatenate([rec[key] for rec in self._province_records])
        return columns

    def event_columns(self) -> dict[str, Any]:
        """The events table as columns: year, type, province, detail."""
        import pandas as pd

        log = self._events_log
        return {
            "year": np.array([e[0] for e in log], dtype=np.int64),
            "type": pd.array([e[1] for e in log], dtype="string"),
            "province": pd.array([e[2] for e in log], dtype="string"),
            "detail": pd.array([e[3] for e in log], dtype="string"),
        }

    def national_frame(self):
        """One row per year: national totals and inequality metrics (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.national_columns())

    def province_frame(self):
        """One row per province and year (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.province_columns())

    def events_frame(self):
        """One row per event that fired: year, type, province, detail (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.event_columns())
