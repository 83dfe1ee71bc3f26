"""The base-year structure of each region's economy (docs/ODD.md, "Initialisation")."""

from __future__ import annotations

import numpy as np

from sim.data import RegionData
from sim.scenario.sections import StructureConfig
from sim.vocabulary import FIELD_SECTOR, FIELDS, SECTOR_INDEX, SECTORS


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
    total = gdp.sum()
    for s in range(len(SECTORS)):
        shares[:, s] *= national[s] * total / max(np.dot(shares[:, s], gdp), 1e-12)
    residual = np.array([SECTOR_INDEX["traditional_industry"], SECTOR_INDEX["services"]])
    targeted = np.array([s for s in range(len(SECTORS)) if s not in residual])  # ascending, as setdiff1d gives
    room = 1.0 - shares[:, targeted].sum(axis=1)
    if (room <= 0.05).any():
        shares[:, targeted] *= np.minimum(1.0, 0.95 / shares[:, targeted].sum(axis=1))[:, None]
        room = 1.0 - shares[:, targeted].sum(axis=1)
    split = national[residual] / national[residual].sum()
    shares[:, residual] = room[:, None] * split
    return shares


def knowledge_weights(research_by_field: np.ndarray, output: np.ndarray, rule: str) -> np.ndarray:
    """Per-sector multiplier of the knowledge effect, shape (S,) (docs/ODD.md, "Knowledge").

    ``"equal_marginal"``: a field's effect is scaled by its national research capacity over its
    sector's national output at the base year, so that one more yuan of research raises national
    output by the same amount in every field (research is allocated efficiently at the base year);
    the output-weighted mean over the field sectors is 1. ``"uniform"``: 1 everywhere, so a
    field's return per yuan is its sector's output over its research (large for a big sector with
    little research). Sectors without a field of their own keep 1.

    Args:
        research_by_field: (N, F + 1) base-year capacity, the last column multidisciplinary.
        output: (N, S) base-year sector output.
        rule: ``"equal_marginal"`` or ``"uniform"``.
    """
    weights = np.ones(output.shape[1])
    if rule == "uniform":
        return weights
    f = len(FIELDS)
    capacity = research_by_field[:, :f].sum(axis=0) + research_by_field[:, f].sum() / f
    sector_output = output[:, FIELD_SECTOR].sum(axis=0)
    ratio = capacity / sector_output
    weights[FIELD_SECTOR] = ratio * sector_output.sum() / capacity.sum()
    return weights
