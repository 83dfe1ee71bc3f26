"""Inequality between regions: Gini, Theil and its decomposition, CV, coast/interior and max/min ratios."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.metrics.checks import (
    FloatArray,
    IntArray,
    as_1d,
    as_bool,
    check_len,
    group_codes,
    nonnegative,
    positive,
    weights_array,
)


class TheilDecomposition(NamedTuple):
    """Between/within decomposition of the Theil T index.

    Attributes:
        total: Theil T of the whole population.
        between: ``sum_g S_g ln(mu_g / mu)``.
        within: ``sum_g S_g T_g``.
    """

    total: float
    between: float
    within: float



# --------------------------------------------------------------------------
# unchecked kernels (inputs already validated)
# --------------------------------------------------------------------------


def _all_equal(y: FloatArray) -> bool:
    return bool(y.min() == y.max())


def _gini(y: FloatArray, w: FloatArray) -> float:
    if _all_equal(y):
        return 0.0
    return _gini_unequal(y, w)


def _gini_unequal(y: FloatArray, w: FloatArray) -> float:
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    cum_w = np.cumsum(ws)
    cum_y = np.cumsum(ws * ys)
    f = ws / cum_w[-1]  # population share of each unit
    gap = cum_w / cum_w[-1] - cum_y / cum_y[-1]  # F_i - L_i >= 0
    pairs = gap.copy()  # (F_i - L_i) + (F_{i-1} - L_{i-1}), with F_0 = L_0 = 0
    pairs[1:] += gap[:-1]
    g = float(np.dot(f, pairs))
    return min(max(g, 0.0), 1.0)


def _theil(y: FloatArray, w: FloatArray) -> float:
    if _all_equal(y):
        return 0.0
    wy = w * y
    total = wy.sum()
    mu = total / w.sum()
    return max(float(np.dot(wy / total, np.log(y / mu))), 0.0)


def _theil_decomposition(
    y: FloatArray, w: FloatArray, codes: IntArray, n_groups: int
) -> TheilDecomposition:
    if _all_equal(y):
        return TheilDecomposition(0.0, 0.0, 0.0)
    wy = w * y
    total_y = wy.sum()
    mu = total_y / w.sum()
    s = wy / total_y  # income share of each unit
    w_g = np.bincount(codes, weights=w, minlength=n_groups)
    y_g = np.bincount(codes, weights=wy, minlength=n_groups)
    occupied = w_g > 0
    mu_g = np.ones(n_groups)
    mu_g[occupied] = y_g[occupied] / w_g[occupied]
    s_g = y_g / total_y
    total = float(np.dot(s, np.log(y / mu)))
    within = float(np.dot(s, np.log(y / mu_g[codes])))
    between = float(np.dot(s_g[occupied], np.log(mu_g[occupied] / mu)))
    return TheilDecomposition(max(total, 0.0), max(between, 0.0), max(within, 0.0))


def _cv(y: FloatArray, w: FloatArray) -> float:
    if _all_equal(y):
        return 0.0
    big_w = w.sum()
    mu = float(np.dot(w, y) / big_w)
    if not mu > 0:
        raise ValueError("values must have a positive weighted mean")
    dev = y - mu
    return math.sqrt(float(np.dot(w, dev * dev) / big_w)) / mu


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Population-weighted Gini coefficient (exact for weighted data).

    Units are sorted by value ``y_(1) <= ... <= y_(n)``. With population
    shares ``f_i = w_i / W``, cumulative population shares ``F_i`` and
    cumulative income shares ``L_i = sum_{j<=i} w_j y_j / sum_j w_j y_j``
    (``F_0 = L_0 = 0``), the area formula under the piecewise-linear Lorenz
    curve gives::

        G = 1 - sum_i f_i (L_{i-1} + L_i)
          = sum_i f_i [(F_{i-1} - L_{i-1}) + (F_i - L_i)]

    The second (algebraically identical, numerically stabler) form is the one
    evaluated. It equals the mean-absolute-difference form
    ``G = sum_i sum_j w_i w_j |y_i - y_j| / (2 W^2 mu)``, i.e. the population
    Gini of the data with unit ``i`` repeated ``w_i`` times (no ``n/(n-1)``
    small-sample correction). ``0 <= G < 1`` for positive weights.

    Args:
        values: Non-negative values, e.g. GDP per capita, shape ``(n,)``.
        weights: Non-negative population weights, shape ``(n,)``; ``None`` for
            equal weights.

    Returns:
        The Gini coefficient (exactly 0.0 when all values are equal).

    Raises:
        ValueError: On empty/non-1-D/non-finite input, mismatched lengths,
            negative values or weights, or a non-positive total.
    """
    y = as_1d(values, "values")
    nonnegative(y, "values")
    w = weights_array(weights, y.size)
    if not np.dot(w, y) > 0:
        raise ValueError("values must have a positive weighted total")
    return _gini(y, w)


def theil(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Population-weighted Theil T index (GE(1)).

    ::

        mu  = sum_i w_i y_i / sum_i w_i
        s_i = w_i y_i / sum_j w_j y_j          (income shares)
        T   = sum_i s_i ln(y_i / mu)

    ``T >= 0`` with equality iff all (positively weighted) values are equal;
    the upper bound is ``ln(W / min w)``.

    Args:
        values: Strictly positive values (e.g. GDP per capita), shape ``(n,)``.
        weights: Non-negative population weights; ``None`` for equal weights.

    Returns:
        The Theil T index.

    Raises:
        ValueError: On empty/non-1-D/non-finite input, mismatched lengths,
            non-positive values or negative weights.
    """
    y = as_1d(values, "values")
    positive(y, "values")
    w = weights_array(weights, y.size)
    return _theil(y, w)


def theil_decomposition(
    values: ArrayLike, weights: ArrayLike | None, groups: ArrayLike
) -> TheilDecomposition:
    """Between/within-group decomposition of the Theil T index.

    With group totals ``W_g = sum_{i in g} w_i``, ``Y_g = sum_{i in g} w_i y_i``,
    group means ``mu_g = Y_g / W_g`` and group income shares ``S_g = Y_g / Y``::

        between = sum_g S_g ln(mu_g / mu)
        within  = sum_g S_g T_g,   T_g = sum_{i in g} (w_i y_i / Y_g) ln(y_i / mu_g)
        total   = between + within = T

    ``within`` is evaluated as ``sum_i s_i ln(y_i / mu_{g(i)})`` which is the
    same sum. The identity holds to floating-point rounding (~1e-15).

    Args:
        values: Strictly positive values, shape ``(n,)``.
        weights: Non-negative population weights or ``None``.
        groups: Group of each unit: non-negative integer codes (``0..G-1``;
            unused codes are ignored) or arbitrary comparable labels.

    Returns:
        ``TheilDecomposition(total, between, within)``.

    Raises:
        ValueError: As :func:`theil`, or if ``groups`` has the wrong shape.
    """
    y = as_1d(values, "values")
    positive(y, "values")
    w = weights_array(weights, y.size)
    codes, n_groups = group_codes(groups, y.size)
    return _theil_decomposition(y, w, codes, n_groups)


def coefficient_of_variation(
    values: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Population-weighted coefficient of variation.

    ::

        mu = sum_i w_i y_i / W
        CV = sqrt(sum_i w_i (y_i - mu)^2 / W) / mu

    (population variance, no degrees-of-freedom correction).

    Args:
        values: Values with a positive weighted mean, shape ``(n,)``.
        weights: Non-negative population weights; ``None`` for equal weights.

    Returns:
        The coefficient of variation (exactly 0.0 when all values are equal).

    Raises:
        ValueError: On empty/non-1-D/non-finite input, mismatched lengths,
            negative weights, or a non-positive weighted mean.
    """
    y = as_1d(values, "values")
    w = weights_array(weights, y.size)
    if not np.dot(w, y) > 0:
        raise ValueError("values must have a positive weighted mean")
    return _cv(y, w)


def coast_interior_ratio(
    gdp: ArrayLike, population: ArrayLike, coastal: ArrayLike
) -> float:
    """Ratio of coastal to interior aggregate GDP per capita.

    ::

        ratio = (sum_{coastal} gdp / sum_{coastal} pop)
                / (sum_{interior} gdp / sum_{interior} pop)

    Args:
        gdp: Non-negative regional GDP, shape ``(n,)``.
        population: Non-negative regional population, shape ``(n,)``.
        coastal: Boolean mask, True for coastal regions.

    Returns:
        The coastal/interior per-capita GDP ratio.

    Raises:
        ValueError: On invalid arrays, if either group is empty or has zero
            population, or if interior GDP is zero.
    """
    g = as_1d(gdp, "gdp")
    nonnegative(g, "gdp")
    p = as_1d(population, "population")
    check_len(p, g.size, "population", "gdp")
    nonnegative(p, "population")
    c = as_bool(coastal, g.size, "coastal", "gdp")
    return _coast_interior_ratio(g, p, c)


def _coast_interior_ratio(g: FloatArray, p: FloatArray, c: NDArray[np.bool_]) -> float:
    if c.all() or not c.any():
        raise ValueError("coastal must contain both coastal and interior regions")
    gdp_sum = np.bincount(c, weights=g, minlength=2)  # [interior, coastal]
    pop_sum = np.bincount(c, weights=p, minlength=2)
    if not (pop_sum > 0).all():
        raise ValueError(
            "population must be positive in both coastal and interior groups"
        )
    if not gdp_sum[0] > 0:
        raise ValueError("gdp of the interior group must be positive")
    return float((gdp_sum[1] / pop_sum[1]) / (gdp_sum[0] / pop_sum[0]))


def max_min_ratio(values: ArrayLike) -> float:
    """Unweighted ratio of the largest to the smallest value, ``max(y) / min(y)``.

    Args:
        values: Strictly positive values, shape ``(n,)``.

    Returns:
        ``max(values) / min(values)`` (1.0 for equal values).

    Raises:
        ValueError: On empty/non-1-D/non-finite or non-positive values.
    """
    y = as_1d(values, "values")
    positive(y, "values")
    return float(y.max() / y.min())



def inequality_summary(
    gdp: ArrayLike,
    population: ArrayLike,
    region: ArrayLike,
    coastal: ArrayLike,
) -> dict[str, float]:
    """All yearly inequality indices of GDP per capita in one call.

    With ``y = gdp / population`` and population weights ``w = population``:

    * ``gini``: :func:`gini` ``(y, w)``
    * ``theil``: :func:`theil` ``(y, w)``
    * ``theil_between_region`` / ``theil_within_region``: Theil decomposition
      by ``region`` codes
    * ``theil_between_coast`` / ``theil_within_coast``: decomposition by
      coastal vs interior
    * ``cv``: :func:`coefficient_of_variation` ``(y, w)``
    * ``coast_interior_ratio``: :func:`coast_interior_ratio` ``(gdp, population, coastal)``
    * ``max_min_ratio``: unweighted :func:`max_min_ratio` ``(y)``

    Args:
        gdp: Strictly positive regional GDP, shape ``(n,)``.
        population: Strictly positive regional population, shape ``(n,)``.
        region: Macro-region of each unit (integer codes or labels).
        coastal: Boolean mask, True for coastal units; must contain both kinds.

    Returns:
        Dict of the nine indices above as Python floats.

    Raises:
        ValueError: On invalid input (see the individual functions).
    """
    g = as_1d(gdp, "gdp")
    positive(g, "gdp")
    p = as_1d(population, "population")
    check_len(p, g.size, "population", "gdp")
    positive(p, "population")
    return InequalityGroups.of(region, coastal, g.size).summary(g, p)


class InequalityGroups:
    """The groupings of :func:`inequality_summary` (macro-region and coast), checked once.

    A model that computes the summary every year for the same regions prepares this once and
    calls :meth:`summary`, which gives the same numbers as :func:`inequality_summary` (the same
    operations in the same order; what the indices share, such as the income shares and the
    total Theil index, is computed once).

    Args:
        region: Macro-region of each unit (integer codes or labels).
        coastal: Boolean mask, True for coastal units; must contain both kinds.
        n: number of units.

    Raises:
        ValueError: As :func:`inequality_summary` for ``region`` and ``coastal``.
    """

    def __init__(self, codes: IntArray, n_regions: int, coastal: NDArray[np.bool_]) -> None:
        self.codes = codes
        self.n_regions = n_regions
        self.coastal = coastal
        self.coast_codes = coastal.astype(np.intp)
        # with positive weights a group's weight is positive exactly when it has a member
        self.region_occupied = np.bincount(codes, minlength=n_regions) > 0
        self.all_regions_occupied = bool(self.region_occupied.all())

    @classmethod
    def of(cls, region: ArrayLike, coastal: ArrayLike, n: int) -> InequalityGroups:
        codes, n_regions = group_codes(region, n, "region")
        c = as_bool(coastal, n, "coastal", "gdp")
        return cls(codes, n_regions, c)

    def summary(self, g: FloatArray, p: FloatArray) -> dict[str, float]:
        """The nine indices of :func:`inequality_summary` for GDP ``g`` and population ``p``:
        finite, strictly positive float arrays of the units' length (not checked here)."""
        c = self.coastal
        if c.all() or not c.any():
            raise ValueError("coastal must contain both coastal and interior regions")
        y = g / p
        low, high = y.min(), y.max()
        pop_sum = np.bincount(c, weights=p, minlength=2)  # [interior, coastal]: also the coast groups' weights
        gdp_sum = np.bincount(c, weights=g, minlength=2)
        if low == high:  # all equal: every index 0
            out = dict.fromkeys(_SPREAD_KEYS, 0.0)
        else:
            w = p
            wy = w * y
            total_y = wy.sum()
            big_w = w.sum()
            mu = total_y / big_w
            s = wy / total_y  # income share of each unit
            total = float(np.dot(s, np.log(y / mu)))
            between_r, within_r = _between_within(y, w, wy, total_y, mu, s, self.codes, self.n_regions,
                                                  None if self.all_regions_occupied else self.region_occupied)
            between_c, within_c = _between_within(y, w, wy, total_y, mu, s, self.coast_codes, 2, None, w_g=pop_sum)
            out = dict(zip(_SPREAD_KEYS, (_gini_unequal(y, w), max(total, 0.0), between_r, within_r, between_c,
                                          within_c, _cv_unequal(y, w, big_w)), strict=True))
        # as _coast_interior_ratio (both groups have positive population and GDP here)
        out["coast_interior_ratio"] = float((gdp_sum[1] / pop_sum[1]) / (gdp_sum[0] / pop_sum[0]))
        out["max_min_ratio"] = float(high / low)
        return out


_SPREAD_KEYS = ("gini", "theil", "theil_between_region", "theil_within_region", "theil_between_coast",
                "theil_within_coast", "cv")


def _between_within(y: FloatArray, w: FloatArray, wy: FloatArray, total_y, mu, s: FloatArray, codes: IntArray,
                    n_groups: int, occupied: NDArray[np.bool_] | None,
                    w_g: FloatArray | None = None) -> tuple[float, float]:
    """Between and within parts of the Theil index as :func:`_theil_decomposition` computes them, from
    its shared terms; ``occupied`` None when every group has a member, ``w_g`` the group weights when known."""
    if w_g is None:
        w_g = np.bincount(codes, weights=w, minlength=n_groups)
    y_g = np.bincount(codes, weights=wy, minlength=n_groups)
    s_g = y_g / total_y
    if occupied is None:
        mu_g = y_g / w_g
        between = float(np.dot(s_g, np.log(mu_g / mu)))
    else:
        mu_g = np.ones(n_groups)
        mu_g[occupied] = y_g[occupied] / w_g[occupied]
        between = float(np.dot(s_g[occupied], np.log(mu_g[occupied] / mu)))
    within = float(np.dot(s, np.log(y / mu_g[codes])))
    return max(between, 0.0), max(within, 0.0)


def _cv_unequal(y: FloatArray, w: FloatArray, big_w) -> float:
    """:func:`_cv` of values that are not all equal, ``big_w`` being ``w.sum()``."""
    mu = float(np.dot(w, y) / big_w)
    if not mu > 0:
        raise ValueError("values must have a positive weighted mean")
    dev = y - mu
    return math.sqrt(float(np.dot(w, dev * dev) / big_w)) / mu
