"""The base-year structure of each region's economy (docs/ODD.md, "Initialisation")."""

from __future__ import annotations

import numpy as np

from sim.data import RegionData
from sim.scenario.sections import StructureConfig
from sim.vocabulary import SECTOR_INDEX, SECTORS


def initial_sector_shares(data: RegionData, structure: StructureConfig) -> np.ndarray:
    """Sector shares of each region's GDP at the base year, shape (N, S).

    High-tech sectors scale with the region's R&D intensity relative to the nation (elasticity
    ``structure.high_tech_intensity_elasticity``), agriculture with relative GDP per capita
    (``structure.agriculture_income_elasticity``), green energy, biotech and agriculture with the
    matching natural endowment; traditional industry and services take up the rest in their
    national proportion. Each column is rescaled so that national shares match
    ``structure.sector_shares``.
    """
    gdp = data.gdp_cny_bn
    pc = gdp / data.population_m
    rel_pc = pc / (gdp.sum() / data.population_m.sum())
    intensity = data.rd_cny_bn / gdp
    rel_int = intensity / (data.rd_cny_bn.sum() / gdp.sum())
    bio, energy, agri, _port = data.endowments.T
    national = np.array([structure.sector_shares[s] for s in SECTORS])
    tilt = np.ones((data.size, len(SECTORS)))
    for s in ("advanced_manufacturing", "ev_batteries", "ict_consumer", "biotech", "green_energy"):
        tilt[:, SECTOR_INDEX[s]] = rel_int**structure.high_tech_intensity_elasticity
    tilt[:, SECTOR_INDEX["agriculture"]] = rel_pc**structure.agriculture_income_elasticity * (0.5 + agri)
    tilt[:, SECTOR_INDEX["green_energy"]] *= 0.5 + energy
    tilt[:, SECTOR_INDEX["biotech"]] *= 0.75 + 0.5 * bio
    shares = national * tilt
    # rescale each targeted sector so that the national share holds
    for s in range(len(SECTORS)):
        shares[:, s] *= national[s] * gdp.sum() / max(np.dot(shares[:, s], gdp), 1e-12)
    residual = np.array([SECTOR_INDEX["traditional_industry"], SECTOR_INDEX["services"]])
    targeted = np.setdiff1d(np.arange(len(SECTORS)), residual)
    room = 1.0 - shares[:, targeted].sum(axis=1)
    if (room <= 0.05).any():
        shares[:, targeted] *= np.minimum(1.0, 0.95 / shares[:, targeted].sum(axis=1))[:, None]
        room = 1.0 - shares[:, targeted].sum(axis=1)
    split = national[residual] / national[residual].sum()
    shares[:, residual] = room[:, None] * split
    return shares
