"""Input checks shared by the metrics: arrays, weights and group codes, with errors naming the argument."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def as_1d(x: ArrayLike, name: str) -> FloatArray:
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


def check_len(arr: np.ndarray, n: int, name: str, ref: str) -> None:
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but {ref} has length {n}")


def weights_array(weights: ArrayLike | None, n: int, name: str = "weights") -> FloatArray:
    """Validate population weights (None -> ones)."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_1d(weights, name)
    check_len(w, n, name, "values")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if not w.sum() > 0:
        raise ValueError(f"{name} must have a positive sum")
    return w


def positive(y: FloatArray, name: str) -> None:
    if (y <= 0).any():
        raise ValueError(f"{name} must be strictly positive (a logarithm is taken)")


def nonnegative(y: FloatArray, name: str) -> None:
    if (y < 0).any():
        raise ValueError(f"{name} must be non-negative")


def as_bool(x: ArrayLike, n: int, name: str, ref: str) -> NDArray[np.bool_]:
    """Validate a boolean mask (bool dtype or numbers in {0, 1})."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    check_len(arr, n, name, ref)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise ValueError(f"{name} must be a boolean array")


def group_codes(
    groups: ArrayLike, n: int, name: str = "groups"
) -> tuple[IntArray, int]:
    """Map group labels to dense-ish integer codes ``0..G-1``.

    Non-negative integer codes are used as they are (empty codes are allowed
    and ignored); any other labels are factorised with :func:`numpy.unique`.
    """
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    check_len(arr, n, name, "values")
    if arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo >= 0 and hi <= 4 * n + 64:
            return arr.astype(np.intp, copy=False), hi + 1
    try:
        uniq, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"{name} labels must be mutually comparable: {exc}") from exc
    return codes.reshape(-1).astype(np.intp, copy=False), int(uniq.size)
