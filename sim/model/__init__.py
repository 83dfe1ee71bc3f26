"""The model layer: the Mesa model, its agents, the strategies they run, events and imitation.

:class:`RegionalGrowthModel` is the entry point; :mod:`sim.model.economy` holds the pure
vectorised functions of the yearly flows.
"""

from sim.model.model import RegionalGrowthModel

__all__ = ["RegionalGrowthModel"]
