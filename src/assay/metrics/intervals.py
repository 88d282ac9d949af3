"""Confidence intervals: Wilson for proportions, DeLong for AUROC, stratified bootstrap for any metric.

Every function here is pure and seeded where randomness is involved: the same inputs and seed
give the same numbers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = ["wilson_interval"]


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for binomial proportions, vectorised over arrays of counts.

    For ``k`` successes in ``n`` trials, with ``z`` the two-sided normal quantile,
    the bounds are ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` where ``p = k/n``
    (Wilson, 1927). Unlike the Wald interval it stays inside [0, 1] and keeps close to nominal
    coverage at small ``n`` and extreme ``p``. Where ``n == 0`` both bounds are NaN.

    Examples
    --------
    >>> low, high = wilson_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4902, 0.9433)
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("successes must lie between 0 and trials")
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half_width = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = np.where(n > 0, np.clip(centre - half_width, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(centre + half_width, 0.0, 1.0), np.nan)
    return low, high
