"""Strategy review every planning period: provinces imitate better-performing peers.

At each review (every ``imitation.period`` years, a Five-Year Plan) every province picks a peer
(a random land neighbour, or a random province) and compares annual growth of GDP per capita
since the last review. It adopts the peer's strategy with the Fermi-rule probability
1 / (1 + exp(-s (g_peer - g_own))), s the selection intensity. With ``endorsement`` on, the
strategy of the fastest-growing province is endorsed nationally: its adopters get a larger share
of central science money until the next review.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.model.strategies import make_strategy

if TYPE_CHECKING:
    from sim.model.interface import ModelServices


def fermi_probability(own_growth: float, peer_growth: float, intensity: float) -> float:
    """Probability of copying a peer: 1 / (1 + exp(-intensity * (peer - own)))."""
    x = -intensity * (peer_growth - own_growth)
    if x > 700:
        return 0.0
    return 1.0 / (1.0 + math.exp(x))


def review_strategies(model: ModelServices) -> None:
    """Run one review: compare, imitate (all switches decided on the old strategies), endorse."""
    cfg = model.scenario.imitation
    years = cfg.period
    growth = np.log(model.gdp_per_capita / model.growth_reference) / years
    old = [p.strategy.name for p in model.provinces]
    switches: list[tuple[int, str]] = []
    for province in model.provinces:
        i = province.index
        if cfg.peers == "neighbour":
            candidates = model.neighbours[i, 1: min(cfg.neighbour_peers + 1, model.neighbours.shape[1])]
        else:
            candidates = np.delete(np.arange(model.n), i)
        peer = int(candidates[int(model.rng.integers(len(candidates)))])
        if old[peer] == old[i]:
            continue
        if model.rng.random() < fermi_probability(growth[i], growth[peer], cfg.intensity):
            switches.append((i, peer))
    for i, peer in switches:
        province = model.provinces[i]
        province.adopt(make_strategy(old[peer], model))
        model.log_event("strategy_switch", i, f"switched from {old[i]} to {old[peer]} "
                        f"(copying {model.province_names[peer]})")
    if cfg.endorsement:
        best = int(np.argmax(growth))
        endorsed = model.provinces[best].strategy.name
        if endorsed != model.endorsed:
            model.log_event("endorsement", best, f"national endorsement of {endorsed} "
                            f"({model.province_names[best]} grew fastest)")
        model.endorsed = endorsed
    model.growth_reference = model.gdp_per_capita.copy()
