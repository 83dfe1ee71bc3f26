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
