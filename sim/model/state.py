"""The model's numeric state: every array of the provinces, sectors and fields."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ModelState:
    """Every numeric array of the model (N regions, S sectors, F fields). Units in the names."""

    population: np.ndarray  # millions
    skilled: np.ndarray  # millions of skilled workers
    capital: np.ndarray  # (N, S) CNY bn
    productivity: np.ndarray  # (N, S)
    sector_output: np.ndarray  # (N, S) CNY bn
    gdp: np.ndarray  # CNY bn
    papers: np.ndarray  # SCI papers a year
    graduates: np.ndarray  # thousands a year
    graduate_arrivals: np.ndarray  # thousands a year
    graduate_stayers: np.ndarray  # thousands a year
    net_migration: np.ndarray  # millions a year
    research_by_field: np.ndarray  # (N, F + 1) CNY bn
    transfer: np.ndarray  # (N, S) technology-transfer multiplier
    connectivity: np.ndarray  # per region
    foreign_capital: np.ndarray  # (N, S) CNY bn
    education_capacity: np.ndarray  # extra graduates a year from talent pushes, thousands
    investment: np.ndarray  # (N, S) CNY bn, installed next year
    price: np.ndarray  # (S,)
    demand_shift: np.ndarray  # (S,)
    budget: np.ndarray  # CNY bn
    spent: np.ndarray  # CNY bn
    central: np.ndarray  # CNY bn
    income_outflow: np.ndarray  # CNY bn
    openness: float = 1.0
    real_output: np.ndarray | None = None  # (N, S) CNY bn at base-year prices
    gdp_real: np.ndarray | None = None  # chained volume, CNY bn of the base year
    gdp_real_national: float = 0.0  # chained volume of national GDP, CNY bn of the base year
    own_science: np.ndarray | None = None  # science money the province pays itself, CNY bn
    central_tax: np.ndarray | None = None  # the province's share of financing the centre's pool, CNY bn
    instruments: np.ndarray | None = None  # strategy instruments beyond the science budget, CNY bn
    proceeds: np.ndarray | None = None  # money returned by the instruments (stakes sold), CNY bn
    foreign_money: np.ndarray | None = None  # foreign labs' capacity and capital, CNY bn
    investment_cut: np.ndarray | None = None  # physical investment given up to pay the above, CNY bn
    consumption_cut: np.ndarray | None = None  # the rest, when investment was not enough, CNY bn
    installed: np.ndarray | None = None  # physical investment installed this year, CNY bn

    def reset_costs(self, n: int) -> None:
        """Zero this year's cost records (n regions)."""
        for name in ("own_science", "central_tax", "instruments", "proceeds", "foreign_money", "investment_cut",
                     "consumption_cut"):
            setattr(self, name, np.zeros(n))

    @property
    def skilled_share(self) -> np.ndarray:
        """Skilled workers per worker."""
        return self.skilled / self._workers

    def set_workers(self, participation: float) -> None:
        """Recompute the workforce from population."""
        self._workers = participation * self.population

    @property
    def workers(self) -> np.ndarray:
        """Workforce, millions."""
        return self._workers
