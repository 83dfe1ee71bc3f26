"""Recording the model's years: the national, province and events tables and Mesa's DataCollector.

:class:`Recording` is a base class of :class:`~sim.model.model.RegionalGrowthModel`: one path
records every year (called once after the base year is set up and at the end of each step) and
feeds the tables, the DataCollector and the dashboard.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import mesa
import numpy as np

import sim.metrics as metrics
import sim.model.economy as economy
from sim.vocabulary import HIGH_TECH_INDEX, REGIONS, SECTORS

_OUTPUT_KEYS = tuple(f"output_{name}_cny_bn" for name in SECTORS)


# The rows of one year's per-province record (each N long), in the order they are kept; then come the
# sector outputs (N x S) and the research capacity per field (N x (F + 1)), flattened.
_ROWS = ("gdp_real", "population", "gdp", "papers", "budget", "spent", "central", "instruments", "proceeds",
         "foreign_money", "own_science", "central_tax", "installed", "investment_cut", "consumption_cut", "skilled",
         "graduates", "workers", "graduate_arrivals", "graduate_stayers", "net_migration", "income_outflow")
_ROW = {name: i for i, name in enumerate(_ROWS)}


class Recording:
    """Records each year of the model; mixed into the model.

    A year's record is one flat copy of the per-province arrays (:data:`_ROWS`, sector output,
    research capacity per field) and a few national numbers (real GDP, research output, institutes,
    openness); real GDP, population and research output are checked as they are recorded. The
    year's inequality indices and the interior's research share are computed from its record the
    first time the DataCollector (every year), a table or :meth:`national_row` asks for them. The
    tables are derived from these records when asked for, with the same operations on the same
    numbers as year by year (element by element, and each total summed over the provinces of one
    year).
    """

    def start_recording(self, collect: bool = True) -> None:
        """Empty records, the DataCollector (when ``collect``; else ``datacollector`` is None), and the
        base year's record."""
        # per year what the national table and the DataCollector report: the inequality indices are
        # filled in when first asked for (see _year_row)
        self._year_values: list[dict[str, Any]] = []
        # per year a row: the flat per-province record (rows of _ROWS, sector output, research capacity)
        width = self.n * (len(_ROWS) + self.state.sector_output.shape[1] + self.state.research_by_field.shape[1])
        self._record_rows = np.empty((max(1, self.end_year - self.start_year + 1), width))
        self._years_recorded = 0
        self._strategy_records: list[tuple[str, ...]] = []
        self._tables_cache: dict[str, tuple[int, Any]] = {}
        data = self.data
        self._inequality_groups = metrics.InequalityGroups.of(data.region, data.coastal, self.n)
        self.datacollector = mesa.DataCollector(model_reporters={
            "year": "year",
            "seed": "seed",
            "gdp_real_cny_bn": lambda m: m._year_row(-1)["gdp_real_cny_bn"],
            "gini": lambda m: m._year_row(-1)["gini"],
            "theil_between_region": lambda m: m._year_row(-1)["theil_between_region"],
            "research_output": lambda m: m._year_row(-1)["research_output"],
            "interior_research_share": lambda m: m._year_row(-1)["interior_research_share"],
        }) if collect else None
        self.record_year()
        if self.datacollector is not None:
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
        """Keep this year's record: the per-province arrays and the numbers reported every year.

        Raises:
            ValueError: when real GDP or population is not finite and positive, or research
                output not finite (as the metrics refuse such numbers).
        """
        state = self.state
        n = self.n
        t = self._years_recorded
        if t == len(self._record_rows):  # stepped past the end year: room for as many years again
            self._record_rows = np.concatenate((self._record_rows, np.empty_like(self._record_rows)))
        block = self._record_rows[t]
        np.concatenate((
            state.gdp_real, state.population, state.gdp, state.papers, state.budget, state.spent, state.central,
            state.instruments, state.proceeds, state.foreign_money, state.own_science, state.central_tax,
            state.installed, state.investment_cut, state.consumption_cut, state.skilled, state.graduates,
            state.workers, state.graduate_arrivals, state.graduate_stayers, state.net_migration, state.income_outflow,
            state.sector_output.ravel(), state.research_by_field.ravel()), out=block)
        real, population, papers = block[:n], block[n:2 * n], block[3 * n:4 * n]
        both = block[:2 * n]
        if not (both.min() > 0 and both.max() < np.inf):  # the metrics say what is wrong
            metrics.inequality_summary(real, population, self.data.region, self.data.coastal)
        values: dict[str, Any] = {"year": self.year, "gdp_real_cny_bn": float(state.gdp_real_national)}
        research_total = float(papers.sum())
        if not math.isfinite(research_total):  # ranks are computed later; refuse what they would refuse
            metrics.rank_descending(papers)
        # the interior's share is computed with the inequality indices (_year_row) unless there is no
        # research, where the metric says now why it cannot be computed
        interior_share = None if research_total > 0 else metrics.interior_share(papers, self.data.coastal)
        values["research_output"] = research_total
        values["interior_research_share"] = interior_share
        values["institutes"] = int(np.count_nonzero(self.registry.capacity[: self.registry.count] > 0))
        values["openness"] = float(state.openness)
        self._year_values.append(values)
        self._years_recorded = t + 1
        self._strategy_records.append(self.roles.names)

    def _year_row(self, t: int) -> dict[str, Any]:
        """Year ``t``'s national values (an index into the recorded years, -1 the last), with its
        inequality indices, computed from that year's record the first time they are asked for."""
        t = range(self._years_recorded)[t]
        values = self._year_values[t]
        if "gini" not in values:  # the indices of this year not computed yet
            n = self.n
            block = self._record_rows[t]
            row = {"year": values["year"], "gdp_real_cny_bn": values["gdp_real_cny_bn"]}
            row.update(self._inequality_groups.summary(block[:n], block[n:2 * n]))
            row.update((key, value) for key, value in values.items() if key not in row)
            if row["interior_research_share"] is None:
                papers = block[3 * n:4 * n]
                row["interior_research_share"] = float(papers[self.interior].sum() / row["research_output"])
            self._year_values[t] = values = row
        return values

    @property
    def national_rows(self) -> list[dict[str, float]]:
        """The national record so far, one dict per year (the last is the current year)."""
        return self._cached("national_rows", lambda: _rows_of(self.national_columns()))

    @property
    def event_log(self) -> list[tuple[int, str, str, str]]:
        """Events so far as ``(year, type, province, detail)`` tuples, oldest first."""
        return self._events_log

    def _cached(self, key: str, make):
        """``make()``, kept until another year is recorded."""
        years = len(self._year_values)
        kept = self._tables_cache.get(key)
        if kept is None or kept[0] != years:
            kept = (years, make())
            self._tables_cache[key] = kept
        return kept[1]

    def _records(self, first: int = 0) -> dict[str, np.ndarray]:
        """The per-province records of every year (from recorded year ``first`` on: made anew, not kept)
        as read-only arrays: each row name of :data:`_ROWS` (years x N, contiguous), ``output``
        (years x N x S), ``by_sector`` (S x years x N, contiguous), ``capacity`` (years x N x (F + 1)),
        ``ranks`` by research output and ``cost``. Each year's numbers are computed from its row alone."""

        def make() -> dict[str, np.ndarray]:
            n, t = self.n, self._years_recorded - first
            flat = self._record_rows[first: self._years_recorded]
            # one copy that puts each quantity's years together: its column is then a view
            rows = np.ascontiguousarray(flat[:, : len(_ROWS) * n].reshape(t, len(_ROWS), n).transpose(1, 0, 2))
            out = {name: rows[i] for i, name in enumerate(_ROWS)}
            sectors = len(SECTORS)
            start = len(_ROWS) * n
            out["output"] = flat[:, start: start + n * sectors].reshape(t, n, sectors)
            out["by_sector"] = np.ascontiguousarray(out["output"].transpose(2, 0, 1))
            out["capacity"] = flat[:, start + n * sectors:].reshape(t, n, -1)
            # ranks by research output, 1 = largest, ties in province order (as metrics.rank_descending)
            order = np.argsort(-out["papers"], axis=1, kind="stable")
            ranks = np.empty((t, n), dtype=np.intp)
            np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, n + 1, dtype=np.intp), (t, n)), axis=1)
            out["ranks"] = ranks
            # what the province pays: its own science, its share of the centre's pool, instruments, less proceeds
            out["cost"] = out["own_science"] + out["central_tax"] + out["instruments"] - out["proceeds"]
            for value in (rows, *out.values()):
                value.flags.writeable = False  # shared by the tables: columns are views of these
            return out

        return make() if first else self._cached("records", make)

    def national_columns(self) -> dict[str, np.ndarray]:
        """The national table as columns: one entry per recorded year."""
        return {key: value.copy() for key, value in self._cached("national", self._national_columns).items()}

    def national_row(self) -> dict[str, float]:
        """The national table's row of the last recorded year (the same numbers), computed from that
        year's record alone: for ensembles that read end-year outcomes (a model made with
        ``datacollector=False`` then computes the yearly inequality indices of that year only)."""
        return _rows_of(self._national_columns(self._years_recorded - 1))[0]

    def _national_columns(self, first: int = 0) -> dict[str, np.ndarray]:
        """The national table's columns from recorded year ``first`` (an index) on."""
        rec = self._records(first)
        years = [self._year_row(i) for i in range(first, self._years_recorded)]
        # every national total is the sum over one year's provinces (a row of a C-ordered matrix)
        totals = np.stack([rec[name] for name in ("gdp", "population", "budget", "spent", "central", "instruments",
                                                  "proceeds", "foreign_money", "cost", "installed", "investment_cut",
                                                  "consumption_cut", "skilled", "graduates")], axis=1).sum(axis=2)
        (nominal, population, budget, spent, central, instruments, proceeds, foreign_money, cost, installed,
         investment_cut, consumption_cut, skilled, graduates) = totals.T
        real = np.array([v["gdp_real_cny_bn"] for v in self._year_values[max(first - 1, 0):]])
        growth = np.full(len(real), np.nan)
        growth[1:] = real[1:] / real[:-1] - 1.0
        if first > 0:  # the year before the first is there for the growth of the first
            real, growth = real[1:], growth[1:]
        # the sum of a year's (N, h) matrix, as it was summed year by year (a sum over two axes adds in
        # another order than one over the flattened years)
        high_tech = np.array([year.sum() for year in rec["output"][:, :, HIGH_TECH_INDEX]])
        interior = self.interior
        columns: dict[str, np.ndarray] = {
            "year": np.array([v["year"] for v in years], dtype=np.int64),
            "gdp_real_cny_bn": real,
            "gdp_nominal_cny_bn": nominal,
            "gdp_growth": growth,
            "population_m": population,
            "gdp_per_capita_cny": 1000.0 * real / population,
        }
        for key in years[0]:
            if key not in columns and key not in ("institutes", "openness"):
                columns[key] = np.array([v[key] for v in years], dtype=float)
        columns.update({
            # interior regions among the top k by research output (ties broken by position, as ranks are)
            "interior_in_top10": np.count_nonzero((rec["ranks"] <= min(10, self.n)) & interior, axis=1),
            "interior_in_top20": np.count_nonzero((rec["ranks"] <= min(20, self.n)) & interior, axis=1),
            "high_tech_share": high_tech / nominal,
            "rd_budget_cny_bn": budget,
            "rd_spent_cny_bn": spent,
            "central_rd_cny_bn": central,
            "instruments_cny_bn": instruments,
            "proceeds_cny_bn": proceeds,
            "foreign_money_cny_bn": foreign_money,
            "cost_provincial_cny_bn": cost,
            "investment_cny_bn": installed,
            "investment_cut_cny_bn": investment_cut,
            "consumption_cut_cny_bn": consumption_cut,
            "skilled_m": skilled,
            "graduates_k": graduates,
            "institutes": np.array([v["institutes"] for v in years], dtype=np.int64),
            "openness": np.array([v["openness"] for v in years], dtype=float),
        })
        return columns

    def province_columns(self, categorical: bool = True) -> dict[str, Any]:
        """The province table as columns: one entry per province and recorded year.

        Args:
            categorical: province names as a pandas Categorical (else plain strings).
        """
        import pandas as pd

        rec = self._records()
        t = self._years_recorded
        index = np.tile(np.arange(self.n), t)  # the province of each row
        real, population, nominal = rec["gdp_real"], rec["population"], rec["gdp"]
        skilled, graduates = rec["skilled"], rec["graduates"]
        output = rec["output"]
        columns: dict[str, Any] = {
            "year": np.repeat(np.array([v["year"] for v in self._year_values], dtype=np.int64), self.n),
            "province": pd.Categorical.from_codes(index, dtype=_categories(tuple(self.province_names))) if categorical
            else _every_year(tuple(self.province_names), "string", t).copy(),
            "capital": _every_year(tuple(self.data.capitals), "str", t).copy(),
            "region": _text(REGIONS).take(self.data.region[index]),  # each row's region code
            "coastal": self.data.coastal[index],
            "strategy": self._strategy_column(),
        }
        per_province = {
            "population_m": population,
            "gdp_real_cny_bn": real,
            "gdp_nominal_cny_bn": nominal,
            "gdp_per_capita_cny": 1000.0 * real / population,
            "skilled_m": skilled,
            "skilled_share": skilled / rec["workers"],
            "graduates_k": graduates,
            "graduates_arrived_k": rec["graduate_arrivals"],
            "graduate_retention": economy.divide_positive(rec["graduate_stayers"], graduates, 1.0),
            "net_migration_k": 1000.0 * rec["net_migration"],
            "research_output": rec["papers"],
            "research_rank": rec["ranks"],
            "research_capacity_cny_bn": rec["capacity"].sum(axis=2),
            "rd_budget_cny_bn": rec["budget"],
            "rd_spent_cny_bn": rec["spent"],
            "central_rd_cny_bn": rec["central"],
            "own_science_cny_bn": rec["own_science"],
            "central_tax_cny_bn": rec["central_tax"],
            "instruments_cny_bn": rec["instruments"],
            "proceeds_cny_bn": rec["proceeds"],
            "foreign_money_cny_bn": rec["foreign_money"],
            "cost_provincial_cny_bn": rec["cost"],
            "cost_central_cny_bn": rec["central"],
            "cost_foreign_cny_bn": rec["foreign_money"],
            "investment_cny_bn": rec["installed"],
            "investment_cut_cny_bn": rec["investment_cut"],
            "consumption_cut_cny_bn": rec["consumption_cut"],
            "high_tech_share": output[:, :, HIGH_TECH_INDEX].sum(axis=2) / nominal,
            "income_outflow_cny_bn": rec["income_outflow"],
        }
        per_province.update(zip(_OUTPUT_KEYS, rec["by_sector"], strict=True))
        for key, value in per_province.items():
            columns[key] = value.reshape(-1)  # year by year, provinces in order (of the records: read-only)
        return columns

    def _strategy_column(self):
        """The strategy of every province and recorded year, as text (a year's names are one tuple,
        the same object until a province adopts another strategy)."""
        first = self._strategy_records[0]
        if all(names is first for names in self._strategy_records):  # no province changed its strategy
            return _every_year(first, "str", len(self._strategy_records)).copy()
        codes: dict[str, int] = {}
        rows: dict[int, np.ndarray] = {}
        for names in self._strategy_records:
            if id(names) not in rows:
                rows[id(names)] = np.array([codes.setdefault(name, len(codes)) for name in names], dtype=np.intp)
        index = np.concatenate([rows[id(names)] for names in self._strategy_records])
        return _text(tuple(codes)).take(index)

    def event_columns(self) -> dict[str, Any]:
        """The events table as columns: year, type, province, detail."""
        import pandas as pd

        log = self._events_log
        k = len(log)
        # the three text columns made as one string array, then cut in three
        text = pd.array([e[1] for e in log] + [e[2] for e in log] + [e[3] for e in log], dtype="string")
        return {
            "year": np.array([e[0] for e in log], dtype=np.int64),
            "type": text[:k],
            "province": text[k: 2 * k],
            "detail": text[2 * k:],
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


def _rows_of(columns: dict[str, np.ndarray]) -> list[dict[str, float]]:
    """Table columns as one dict per row, with Python numbers."""
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*(columns[k].tolist() for k in keys), strict=True)]


@functools.lru_cache(maxsize=256)
def _text(values: tuple[str, ...], dtype: str = "str"):
    """Strings as a pandas text array: ``str`` is the type a DataFrame gives a column of Python strings.
    Kept (the same names come back run after run): use it only through ``take``, which makes a new array."""
    import pandas as pd

    return pd.array(np.array(values, dtype=object), dtype=dtype)


@functools.lru_cache(maxsize=64)
def _every_year(values: tuple[str, ...], dtype: str, years: int):
    """``values`` (one per province) repeated for ``years`` years, as a pandas text array: kept (every
    run of the same provinces and horizon has the same column); hand out copies."""
    return _text(values, dtype).take(np.tile(np.arange(len(values)), years))


@functools.lru_cache(maxsize=64)
def _categories(names: tuple[str, ...]):
    """The categorical type of these names (checking the names costs more than coding the rows)."""
    import pandas as pd

    return pd.CategoricalDtype(list(names))
