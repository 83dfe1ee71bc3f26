"""Beta convergence: the growth-on-initial-level regression and its half-life."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from sim.metrics.checks import (
    as_1d,
    check_len,
    positive,
)


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
    y0 = as_1d(y_start, "y_start")
    positive(y0, "y_start")
    y1 = as_1d(y_end, "y_end")
    check_len(y1, y0.size, "y_end", "y_start")
    positive(y1, "y_end")
    try:
        t = float(years)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"years must be a positive number: {exc}") from exc
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"years must be a positive finite number, got {years!r}")
    if weights is None:
        w = np.ones(y0.size)
    else:
        w = as_1d(weights, "weights")
        check_len(w, y0.size, "weights", "y_start")
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
