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
from sim.vocabulary import HIGH_TECH_INDEX, REGIONS, SECTORS


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
        nominal = state.gdp
        summary = metrics.inequality_summary(real, state.population, data.region, data.coastal)
        papers = state.papers
        ranks = metrics.rank_descending(papers)
        previous = self._national_rows[-1]["gdp_real_cny_bn"] if self._national_rows else float("nan")
        national_real = float(state.gdp_real_national)
        population = float(state.population.sum())
        provincial_cost = state.own_science + state.central_tax + state.instruments - state.proceeds
        row = {
            "year": self.year,
            "gdp_real_cny_bn": national_real,
            "gdp_nominal_cny_bn": float(nominal.sum()),
            "gdp_growth": national_real / previous - 1.0 if self._national_rows else float("nan"),
            "population_m": population,
            "gdp_per_capita_cny": 1000.0 * national_real / population,
            **summary,
            "research_output": float(papers.sum()),
            "interior_research_share": metrics.interior_share(papers, data.coastal),
            "interior_in_top10": metrics.interior_in_top(papers, data.coastal, min(10, self.n)),
            "interior_in_top20": metrics.interior_in_top(papers, data.coastal, min(20, self.n)),
            "high_tech_share": float(state.sector_output[:, HIGH_TECH_INDEX].sum() / nominal.sum()),
            "rd_budget_cny_bn": float(state.budget.sum()),
            "rd_spent_cny_bn": float(state.spent.sum()),
            "central_rd_cny_bn": float(state.central.sum()),
            "instruments_cny_bn": float(state.instruments.sum()),
            "proceeds_cny_bn": float(state.proceeds.sum()),
            "foreign_money_cny_bn": float(state.foreign_money.sum()),
            "cost_provincial_cny_bn": float(provincial_cost.sum()),
            "investment_cny_bn": float(state.installed.sum()),
            "investment_cut_cny_bn": float(state.investment_cut.sum()),
            "consumption_cut_cny_bn": float(state.consumption_cut.sum()),
            "skilled_m": float(state.skilled.sum()),
            "graduates_k": float(state.graduates.sum()),
            "institutes": int((self.registry.capacity[: self.registry.count] > 0).sum()),
            "openness": float(state.openness),
        }
        self._national_rows.append(row)
        record = {
            "population_m": state.population.copy(),
            "gdp_real_cny_bn": real.copy(),
            "gdp_nominal_cny_bn": nominal.copy(),
            "gdp_per_capita_cny": 1000.0 * real / state.population,
            "skilled_m": state.skilled.copy(),
            "skilled_share": state.skilled_share,
            "graduates_k": state.graduates.copy(),
            "graduates_arrived_k": state.graduate_arrivals.copy(),
            "graduate_retention": np.divide(state.graduate_stayers, state.graduates,
                                            out=np.ones(self.n), where=state.graduates > 0),
            "net_migration_k": 1000.0 * state.net_migration,
            "research_output": papers.copy(),
            "research_rank": ranks,
            "research_capacity_cny_bn": state.research_by_field.sum(axis=1),
            "rd_budget_cny_bn": state.budget.copy(),
            "rd_spent_cny_bn": state.spent.copy(),
            "central_rd_cny_bn": state.central.copy(),
            "own_science_cny_bn": state.own_science.copy(),
            "central_tax_cny_bn": state.central_tax.copy(),
            "instruments_cny_bn": state.instruments.copy(),
            "proceeds_cny_bn": state.proceeds.copy(),
            "foreign_money_cny_bn": state.foreign_money.copy(),
            "cost_provincial_cny_bn": provincial_cost,
            "cost_central_cny_bn": state.central.copy(),
            "cost_foreign_cny_bn": state.foreign_money.copy(),
            "investment_cny_bn": state.installed.copy(),
            "investment_cut_cny_bn": state.investment_cut.copy(),
            "consumption_cut_cny_bn": state.consumption_cut.copy(),
            "high_tech_share": state.sector_output[:, HIGH_TECH_INDEX].sum(axis=1) / nominal,
            "income_outflow_cny_bn": state.income_outflow.copy(),
        }
        for s, name in enumerate(SECTORS):
            record[f"output_{name}_cny_bn"] = state.sector_output[:, s].copy()
        self._province_records.append(record)
        self._strategy_records.append([p.strategy.name for p in self.provinces])

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
