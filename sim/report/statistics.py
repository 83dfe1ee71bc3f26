"""The statistics of a report: pure functions of arrays, each tested against hand-computed values.

* :func:`mean_interval`: the mean and its 95 % confidence interval (Student t) across replicates;
* :func:`bootstrap_difference`: the difference of two means and its percentile-bootstrap interval,
  drawn from a fixed seed so that a report is the same every time it is built;
* :func:`rank_test`: the two-sided Mann-Whitney U test, as :func:`scipy.stats.mannwhitneyu` computes it
  (exact for small samples without ties, through scipy; otherwise its normal approximation with tie
  and continuity corrections, computed here so that a report need not load ``scipy.stats``);
* :func:`holm_adjust`: the Holm-Bonferroni correction for multiple comparisons (and
  :func:`benjamini_hochberg` for the false discovery rate, offered but not used by the report);
* :func:`smallest_rank_p` and :func:`replicates_needed`: how many replicates a test needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import stdtrit

LEVEL = 0.95
"""Coverage of every interval in a report."""


BOOTSTRAP_RESAMPLES = 10_000
"""Bootstrap resamples per difference."""


BOOTSTRAP_SEED = 20_240_605
"""Seed of every bootstrap: each comparison draws from its own generator seeded with this."""


CORRECTION = "Holm-Bonferroni"
"""The multiple-comparison correction applied to the rank tests of the comparison table."""


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval.

    Attributes:
        estimate: the point estimate (a mean, or a difference of means).
        low, high: the interval's bounds (NaN when it cannot be computed, e.g. from one value).
        n: the number of values the estimate is based on (for a difference: the smaller sample).
    """

    estimate: float
    low: float
    high: float
    n: int


def _values(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    array = array[np.isfinite(array)]
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one finite value")
    return array


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: expected a number in (0, 1), got {level}")


def mean_interval(values: ArrayLike, level: float = LEVEL) -> Interval:
    """``mean_interval(values)`` -> the mean and its Student-t confidence interval.

    The interval is mean +/- t(1 - (1 - level) / 2, n - 1) * s / sqrt(n), s the sample standard
    deviation. NaN values are ignored; with one value the bounds are NaN.

    Raises:
        ValueError: when there is no finite value or ``level`` is not in (0, 1).
    """
    _check_level(level)
    x = _values(values, "values")
    n = x.size
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, float("nan"), float("nan"), n)
    half = float(stdtrit(n - 1, 0.5 + level / 2.0) * x.std(ddof=1) / np.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def bootstrap_difference(sample: ArrayLike, reference: ArrayLike, *, level: float = LEVEL,
                         resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """``bootstrap_difference(a, b)`` -> mean(a) - mean(b) with its percentile-bootstrap interval.

    Each resample draws ``len(a)`` values of ``a`` and ``len(b)`` values of ``b`` with replacement,
    independently; the interval is the (1 - level) / 2 and (1 + level) / 2 quantiles of the
    resampled differences. The generator is ``numpy.random.default_rng(seed)``, so the same input
    always gives the same interval.

    Raises:
        ValueError: when a sample has no finite value, ``resamples < 1`` or ``level`` is not in (0, 1).
    """
    _check_level(level)
    if resamples < 1:
        raise ValueError(f"resamples: expected a positive integer, got {resamples}")
    a = _values(sample, "sample")
    b = _values(reference, "reference")
    difference = float(a.mean() - b.mean())
    index_a, index_b = _resample_indices(a.size, b.size, resamples, seed)
    means_a = a[index_a].mean(axis=1)
    means_b = b[index_b].mean(axis=1)
    low, high = np.quantile(means_a - means_b, [0.5 - level / 2.0, 0.5 + level / 2.0])
    return Interval(difference, float(low), float(high), int(min(a.size, b.size)))


@lru_cache(maxsize=8)
def _resample_indices(n_a: int, n_b: int, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The resampling indices of :func:`bootstrap_difference`: the same for every comparison of samples
    of these sizes (each drawn from ``default_rng(seed)``), so they are drawn once and reused."""
    rng = np.random.default_rng(seed)
    index_a = rng.integers(0, n_a, size=(resamples, n_a))
    index_b = rng.integers(0, n_b, size=(resamples, n_b))
    index_a.flags.writeable = False
    index_b.flags.writeable = False
    return index_a, index_b


def rank_test(sample: ArrayLike, reference: ArrayLike) -> float:
    """``rank_test(a, b)`` -> the two-sided p-value of the Mann-Whitney U test.

    Exact for small samples without ties, the normal approximation otherwise (scipy's
    ``method="auto"``). When every value of both samples is the same the samples cannot be told
    apart and the p-value is 1.

    Raises:
        ValueError: when a sample has no finite value.
    """
    a = _values(sample, "sample")
    b = _values(reference, "reference")
    both = np.concatenate([a, b])
    if np.all(both == both[0]):
        return 1.0
    values, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    ties = bool((counts > 1).any())
    n1, n2 = a.size, b.size
    if (n1 <= 8 or n2 <= 8) and not ties:  # scipy's "auto": the exact distribution
        from scipy import stats

        return float(stats.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue)
    # the normal approximation as scipy computes it: average ranks, tie-corrected variance, continuity
    ranks = (np.cumsum(counts) - counts + (counts + 1) / 2.0)[inverse.ravel()]
    u1 = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    tie_term = float(np.sum(counts.astype(float) ** 3 - counts))
    sd = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))))
    z = (u - n1 * n2 / 2.0 - 0.5) / sd
    return float(min(1.0, max(0.0, math.erfc(z / math.sqrt(2.0)))))


def holm_adjust(pvalues: ArrayLike) -> np.ndarray:
    """``holm_adjust(p)`` -> Holm-Bonferroni adjusted p-values, in the input order.

    Sorted ascending, the k-th smallest of m p-values (k from 0) becomes
    max over j <= k of min(1, (m - j) p_(j)). NaN values are left NaN and do not count in m.
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def benjamini_hochberg(pvalues: ArrayLike) -> np.ndarray:
    """``benjamini_hochberg(p)`` -> Benjamini-Hochberg adjusted p-values (q-values), input order.

    Sorted ascending, the k-th smallest (k from 1) becomes min over j >= k of min(1, m p_(j) / j).
    NaN values are left NaN and do not count in m.
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = m * p[order] / np.arange(1, m + 1)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out


def smallest_rank_p(n_sample: int, n_reference: int) -> float:
    """The smallest two-sided exact Mann-Whitney p-value two samples of these sizes can reach."""
    from math import comb

    if n_sample < 1 or n_reference < 1:
        return float("nan")
    return min(1.0, 2.0 / comb(n_sample + n_reference, n_sample))


def replicates_needed(tests: int, alpha: float = 0.05, limit: int = 1000) -> int:
    """The fewest replicates per group (equal sizes) for which the smallest exact rank-test p-value,
    Holm-corrected over ``tests`` tests, can fall below ``alpha``."""
    for n in range(1, limit + 1):
        if smallest_rank_p(n, n) * max(tests, 1) < alpha:
            return n
    return limit
