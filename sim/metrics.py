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
"""

from __future__ import annotations

import math
import operator
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BetaConvergence",
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

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


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


class BetaConvergence(NamedTuple):
    """Result of an (optionally weighted) beta-convergence regression.

    Attributes:
        slope: OLS slope ``beta`` of average annual log growth on log start level.
        intercept: OLS intercept ``alpha``.
        r_squared: Coefficient of determination (nan if growth has no variance).
        speed: Implied convergence speed ``b = -ln(1 + beta * years) / years``
            (nan when ``1 + beta * years <= 0``).
        half_life: ``ln 2 / b`` in years (inf when ``b <= 0``, nan when ``b`` is nan).
    """

    slope: float
    intercept: float
    r_squared: float
    speed: float
    half_life: float


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _as_1d(x: ArrayLike, name: str) -> FloatArray:
    """Convert to a non-empty, finite, 1-D float64 array or raise ValueError."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be convertible to a float array: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def _check_len(arr: np.ndarray, n: int, name: str, ref: str) -> None:
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but {ref} has length {n}")


def _weights(weights: ArrayLike | None, n: int, name: str = "weights") -> FloatArray:
    """Validate population weights (None -> ones)."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = _as_1d(weights, name)
    _check_len(w, n, name, "values")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if not w.sum() > 0:
        raise ValueError(f"{name} must have a positive sum")
    return w


def _positive(y: FloatArray, name: str) -> None:
    if (y <= 0).any():
        raise ValueError(f"{name} must be strictly positive (a logarithm is taken)")


def _nonnegative(y: FloatArray, name: str) -> None:
    if (y < 0).any():
        raise ValueError(f"{name} must be non-negative")


def _as_bool(x: ArrayLike, n: int, name: str, ref: str) -> NDArray[np.bool_]:
    """Validate a boolean mask (bool dtype or numbers in {0, 1})."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    _check_len(arr, n, name, ref)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise ValueError(f"{name} must be a boolean array")


def _group_codes(
    groups: ArrayLike, n: int, name: str = "groups"
) -> tuple[IntArray, int]:
    """Map group labels to dense-ish integer codes ``0..G-1``.

    Non-negative integer codes are used as they are (empty codes are allowed
    and ignored); any other labels are factorised with :func:`numpy.unique`.
    """
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    _check_len(arr, n, name, "values")
    if arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo >= 0 and hi <= 4 * n + 64:
            return arr.astype(np.intp, copy=False), hi + 1
    try:
        uniq, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"{name} labels must be mutually comparable: {exc}") from exc
    return codes.reshape(-1).astype(np.intp, copy=False), int(uniq.size)


# --------------------------------------------------------------------------
# unchecked kernels (inputs already validated)
# --------------------------------------------------------------------------


def _all_equal(y: FloatArray) -> bool:
    return bool(y.min() == y.max())


def _gini(y: FloatArray, w: FloatArray) -> float:
    if _all_equal(y):
        return 0.0
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    cum_w = np.cumsum(ws)
    cum_y = np.cumsum(ws * ys)
    f = ws / cum_w[-1]  # population share of each unit
    gap = cum_w / cum_w[-1] - cum_y / cum_y[-1]  # F_i - L_i >= 0
    gap_prev = np.concatenate(([0.0], gap[:-1]))  # F_{i-1} - L_{i-1}
    g = float(np.dot(f, gap + gap_prev))
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
    y = _as_1d(values, "values")
    _nonnegative(y, "values")
    w = _weights(weights, y.size)
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
    y = _as_1d(values, "values")
    _positive(y, "values")
    w = _weights(weights, y.size)
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
    y = _as_1d(values, "values")
    _positive(y, "values")
    w = _weights(weights, y.size)
    codes, n_groups = _group_codes(groups, y.size)
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
    y = _as_1d(values, "values")
    w = _weights(weights, y.size)
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
    g = _as_1d(gdp, "gdp")
    _nonnegative(g, "gdp")
    p = _as_1d(population, "population")
    _check_len(p, g.size, "population", "gdp")
    _nonnegative(p, "population")
    c = _as_bool(coastal, g.size, "coastal", "gdp")
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
    y = _as_1d(values, "values")
    _positive(y, "values")
    return float(y.max() / y.min())


def beta_convergence(
    y_start: ArrayLike,
    y_end: ArrayLike,
    years: float,
    weights: ArrayLike | None = None,
) -> BetaConvergence:
    """Absolute beta-convergence regression.

    Regresses the average annual log growth ``g_i = ln(y_end_i / y_start_i) / T``
    on ``x_i = ln(y_start_i)`` by (weighted) least squares, ``g = alpha + beta x``::

        xbar = sum w x / W,   gbar = sum w g / W
        Sxx = sum w (x - xbar)^2, Sxy = sum w (x - xbar)(g - gbar), Sgg = sum w (g - gbar)^2
        beta = Sxy / Sxx,  alpha = gbar - beta xbar,  R^2 = Sxy^2 / (Sxx Sgg)

    The implied convergence speed comes from ``1 + beta T = exp(-b T)``::

        b = -ln(1 + beta T) / T        (nan if 1 + beta T <= 0)
        half_life = ln 2 / b           (inf if b <= 0, nan if b is nan)

    Args:
        y_start: Strictly positive initial levels (e.g. GDP per capita).
        y_end: Strictly positive final levels, same length.
        years: Length ``T > 0`` of the period in years.
        weights: Optional non-negative regression weights (e.g. population).

    Returns:
        ``BetaConvergence(slope, intercept, r_squared, speed, half_life)``;
        ``r_squared`` is nan when all growth rates are identical.

    Raises:
        ValueError: On invalid arrays, non-positive ``years``, or when fewer
            than two distinct positively weighted start levels exist.
    """
    y0 = _as_1d(y_start, "y_start")
    _positive(y0, "y_start")
    y1 = _as_1d(y_end, "y_end")
    _check_len(y1, y0.size, "y_end", "y_start")
    _positive(y1, "y_end")
    try:
        t = float(years)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"years must be a positive number: {exc}") from exc
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"years must be a positive finite number, got {years!r}")
    if weights is None:
        w = np.ones(y0.size)
    else:
        w = _as_1d(weights, "weights")
        _check_len(w, y0.size, "weights", "y_start")
        if (w < 0).any():
            raise ValueError("weights must be non-negative")

    x = np.log(y0)
    g = np.log(y1 / y0) / t
    xw = x[w > 0]
    if xw.size < 2 or xw.min() == xw.max():
        raise ValueError(
            "y_start must have at least two distinct values with positive weight"
        )

    big_w = float(w.sum())
    xbar = float(np.dot(w, x)) / big_w
    gbar = float(np.dot(w, g)) / big_w
    dx = x - xbar
    dg = g - gbar
    sxx = float(np.dot(w, dx * dx))
    sxy = float(np.dot(w, dx * dg))
    sgg = float(np.dot(w, dg * dg))
    slope = sxy / sxx
    intercept = gbar - slope * xbar
    r_squared = min(sxy * sxy / (sxx * sgg), 1.0) if sgg > 0 else math.nan

    arg = 1.0 + slope * t
    speed = -math.log(arg) / t if arg > 0 else math.nan
    if math.isnan(speed):
        half_life = math.nan
    elif speed <= 0:
        half_life = math.inf
    else:
        half_life = math.log(2.0) / speed
    return BetaConvergence(slope, intercept, r_squared, speed, half_life)


def rank_descending(values: ArrayLike) -> NDArray[np.intp]:
    """Ranks with 1 = largest; ties keep their original order (stable).

    ``rank[i] = 1 + #{j : y_j > y_i} + #{j < i : y_j == y_i}``.

    Args:
        values: Finite values, shape ``(n,)``.

    Returns:
        Integer array of ranks ``1..n``, a permutation.

    Raises:
        ValueError: On empty/non-1-D/non-finite input.
    """
    y = _as_1d(values, "values")
    return _rank_descending(y)


def _rank_descending(y: FloatArray) -> NDArray[np.intp]:
    order = np.argsort(-y, kind="stable")
    ranks = np.empty(y.size, dtype=np.intp)
    ranks[order] = np.arange(1, y.size + 1, dtype=np.intp)
    return ranks


def interior_share(output: ArrayLike, coastal: ArrayLike) -> float:
    """Share of total output produced by non-coastal (interior) regions.

    ``share = sum_{i not coastal} output_i / sum_i output_i``.

    Args:
        output: Non-negative regional output with a positive total.
        coastal: Boolean mask, True for coastal regions.

    Returns:
        The interior share in ``[0, 1]``.

    Raises:
        ValueError: On invalid arrays, negative output or zero total output.
    """
    q = _as_1d(output, "output")
    _nonnegative(q, "output")
    c = _as_bool(coastal, q.size, "coastal", "output")
    total = q.sum()
    if not total > 0:
        raise ValueError("output must have a positive total")
    return float(q[~c].sum() / total)


def interior_in_top(output: ArrayLike, coastal: ArrayLike, k: int) -> int:
    """Number of interior (non-coastal) regions among the ``k`` largest by output.

    Ties are broken by position, as in :func:`rank_descending`.

    Args:
        output: Regional output, shape ``(n,)``.
        coastal: Boolean mask, True for coastal regions.
        k: How many top regions to inspect, ``0 <= k <= n``.

    Returns:
        ``#{i : rank_i <= k and not coastal_i}``.

    Raises:
        ValueError: On invalid arrays, or if ``k`` is not an integer in ``[0, n]``.
    """
    q = _as_1d(output, "output")
    c = _as_bool(coastal, q.size, "coastal", "output")
    try:
        kk = operator.index(k)
    except TypeError as exc:
        raise ValueError(f"k must be an integer, got {k!r}") from exc
    if not 0 <= kk <= q.size:
        raise ValueError(f"k must be between 0 and {q.size}, got {kk}")
    top = _rank_descending(q) <= kk
    return int(np.count_nonzero(top & ~c))


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
    g = _as_1d(gdp, "gdp")
    _positive(g, "gdp")
    p = _as_1d(population, "population")
    _check_len(p, g.size, "population", "gdp")
    _positive(p, "population")
    codes, n_regions = _group_codes(region, g.size, "region")
    c = _as_bool(coastal, g.size, "coastal", "gdp")

    y = g / p
    by_region = _theil_decomposition(y, p, codes, n_regions)
    by_coast = _theil_decomposition(y, p, c.astype(np.intp), 2)
    out = {
        "gini": _gini(y, p),
        "theil": by_region.total,
        "theil_between_region": by_region.between,
        "theil_within_region": by_region.within,
        "theil_between_coast": by_coast.between,
        "theil_within_coast": by_coast.within,
        "cv": _cv(y, p),
        "coast_interior_ratio": _coast_interior_ratio(g, p, c),
        "max_min_ratio": y.max() / y.min(),
    }
    return {key: float(val) for key, val in out.items()}
