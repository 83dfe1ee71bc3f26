"""Regional inequality and convergence metrics.

Pure-numpy functions evaluated once per simulated year on arrays of 31 to a
few thousand regions. All functions are vectorised (group sums use
:func:`numpy.bincount`; there are no Python loops over regions).

Conventions:
    * ``values`` / ``y`` are per-capita quantities (e.g. GDP per capita).
    * ``weights`` / ``w`` are population weights; ``None`` means equal weights.
      The weighted indices are the population indices of the "expanded" data
      set in which region ``i`` is repeated ``w_i`` times, so integer weights
      give exactly the unweighted index of the repeated data.
    * ``W = sum_i w_i``, ``mu = sum_i w_i y_i / W`` (weighted mean).

Illegal input (non 1-D or empty arrays, mismatched lengths, non-finite
numbers, negative weights, non-positive incomes where a logarithm is taken)
raises :class:`ValueError` whose message starts with the offending argument's
name.

Modules: :mod:`~sim.metrics.inequality`, :mod:`~sim.metrics.convergence`,
:mod:`~sim.metrics.research`; input checks in :mod:`~sim.metrics.checks`.
"""

from sim.metrics.convergence import BetaConvergence, beta_convergence
from sim.metrics.inequality import (
    InequalityGroups,
    TheilDecomposition,
    coast_interior_ratio,
    coefficient_of_variation,
    gini,
    inequality_summary,
    max_min_ratio,
    theil,
    theil_decomposition,
)
from sim.metrics.research import interior_in_top, interior_share, rank_descending

__all__ = [
    "BetaConvergence",
    "InequalityGroups",
    "TheilDecomposition",
    "beta_convergence",
    "coast_interior_ratio",
    "coefficient_of_variation",
    "gini",
    "inequality_summary",
    "interior_in_top",
    "interior_share",
    "max_min_ratio",
    "rank_descending",
    "theil",
    "theil_decomposition",
]
