"""Research output across regions: ranks, the interior's share, interior regions in the top k."""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.metrics.checks import (
    FloatArray,
    as_1d,
    as_bool,
    nonnegative,
)


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
    y = as_1d(values, "values")
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
    q = as_1d(output, "output")
    nonnegative(q, "output")
    c = as_bool(coastal, q.size, "coastal", "output")
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
    q = as_1d(output, "output")
    c = as_bool(coastal, q.size, "coastal", "output")
    try:
        kk = operator.index(k)
    except TypeError as exc:
        raise ValueError(f"k must be an integer, got {k!r}") from exc
    if not 0 <= kk <= q.size:
        raise ValueError(f"k must be between 0 and {q.size}, got {kk}")
    top = _rank_descending(q) <= kk
    return int(np.count_nonzero(top & ~c))
