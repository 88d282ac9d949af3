"""Thresholds of the sequential detectors from a false-alarm budget.

The budget is the in-control average run length ``ARL0``: the expected number of windows
between false alarms while the metric stays at its reference value (standardised values
N(0, 1)).

- CUSUM: ``h`` from Siegmund's (1985) approximation of the one-sided ARL, combined for two
  sides as ``1/ARL = 1/ARL+ + 1/ARL-``, solved by bisection.
- Page-Hinkley: ``lambda_`` from a seeded Monte Carlo on N(0, 1) streams (deterministic and
  cached), solved by bisection.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import bisect

from assay.errors import InputError

__all__ = [
    "DEFAULT_ARL0",
    "calibrate_cusum_h",
    "calibrate_page_hinkley",
    "cusum_arl",
    "page_hinkley_arl",
]

DEFAULT_ARL0 = 520.0
"""Ten years of weekly windows between false alarms."""

_SIEGMUND_CORRECTION = 1.166
_MC_STREAMS = 4000
_MC_HORIZON = 2000
_MC_CHUNK = 500
_MC_SEED = 20_240_601


def cusum_arl(h: float, k: float = 0.5, shift: float = 0.0) -> float:
    """Average run length of the two-sided CUSUM on N(shift, 1) values (Siegmund, 1985).

    One side: ``ARL = (exp(-2Δb) + 2Δb - 1) / (2Δ²)`` with ``b = h + 1.166`` and ``Δ = shift - k``
    (upper side) or ``Δ = -shift - k`` (lower side), ``b²`` when ``Δ = 0``; two sides:
    ``1/ARL = 1/ARL+ + 1/ARL-``.

    Examples
    --------
    >>> round(cusum_arl(5.0, 0.5), 1), round(cusum_arl(5.0, 0.5, shift=1.0), 1)
    (469.1, 10.3)
    """
    b = h + _SIEGMUND_CORRECTION

    def one_side(drift: float) -> float:
        if abs(drift) < 1e-9:
            return b**2
        return (math.exp(-2 * drift * b) + 2 * drift * b - 1) / (2 * drift**2)

    return 1.0 / (1.0 / one_side(shift - k) + 1.0 / one_side(-shift - k))


def calibrate_cusum_h(arl0: float = DEFAULT_ARL0, k: float = 0.5) -> float:
    """The CUSUM threshold ``h`` whose two-sided in-control ARL is ``arl0``, by bisection.

    The ARL is Siegmund's approximation (:func:`cusum_arl`), accurate to a few per cent for
    ``h`` between 2 and 10.

    Examples
    --------
    >>> round(calibrate_cusum_h(520, 0.5), 3)
    5.102
    """
    _check_arl0(arl0)
    if not math.isfinite(k) or k < 0:
        raise InputError(f"the CUSUM allowance k must be a non-negative number, got {k}")
    if cusum_arl(0.0, k) >= arl0:
        raise InputError(f"with k={k:g} even h=0 gives more than {arl0:g} windows between false "
                         "alarms; lower k or raise arl0")
    high = 1.0
    while cusum_arl(high, k) < arl0:
        high *= 2
    return float(bisect(lambda h: cusum_arl(h, k) - arl0, 0.0, high, xtol=1e-9))


@lru_cache(maxsize=16)
def _page_hinkley_maxima(delta: float) -> NDArray[np.float32]:
    """Running maximum of the two-sided Page-Hinkley statistic on seeded N(0, 1) streams.

    Shape ``(streams, horizon)``; without alarms the statistic does not depend on ``lambda_``, so
    the first alarm at any ``lambda_`` is the first window whose running maximum exceeds it.
    """
    rng = np.random.default_rng(_MC_SEED)
    windows = np.arange(1, _MC_HORIZON + 1)
    maxima = np.empty((_MC_STREAMS, _MC_HORIZON), dtype=np.float32)
    for start in range(0, _MC_STREAMS, _MC_CHUNK):
        z = rng.standard_normal((_MC_CHUNK, _MC_HORIZON))
        centred = z - np.cumsum(z, axis=1) / windows
        upper_sum = np.cumsum(centred - delta, axis=1)
        lower_sum = np.cumsum(centred + delta, axis=1)
        upper = upper_sum - np.minimum.accumulate(np.minimum(upper_sum, 0.0), axis=1)
        lower = np.maximum.accumulate(np.maximum(lower_sum, 0.0), axis=1) - lower_sum
        maxima[start:start + _MC_CHUNK] = np.maximum.accumulate(np.maximum(upper, lower), axis=1)
    return maxima


def page_hinkley_arl(lambda_: float, delta: float = 0.5) -> float:
    """In-control ARL of the two-sided Page-Hinkley test, by seeded Monte Carlo.

    4000 N(0, 1) streams of 2000 windows (seeded, cached per ``delta``); run lengths beyond 2000
    windows are extrapolated with the alarm rate of windows 1001-2000 (a constant hazard, which
    the test nearly has once the running mean has settled).
    """
    maxima = _page_hinkley_maxima(float(delta))
    horizon = maxima.shape[1]
    censored = maxima[:, -1] <= lambda_
    run_length = np.count_nonzero(maxima <= lambda_, axis=1) + 1.0
    observed = np.minimum(run_length, horizon)
    half = horizon // 2
    late = run_length > half
    exposure = float(np.sum(observed[late] - half))
    late_alarms = int(np.count_nonzero(late & ~censored))
    total = float(observed.sum())
    if censored.any():
        if late_alarms == 0:
            return math.inf
        total += float(censored.sum()) * exposure / late_alarms
    return float(total / maxima.shape[0])


def calibrate_page_hinkley(arl0: float = DEFAULT_ARL0, delta: float = 0.5) -> float:
    """The Page-Hinkley threshold ``lambda_`` whose in-control ARL is ``arl0``, by bisection.

    The ARL comes from :func:`page_hinkley_arl` (seeded Monte Carlo, deterministic); about 2 %
    Monte Carlo error at ``arl0 = 520``. Cached per ``(arl0, delta)``.
    """
    _check_arl0(arl0)
    if not math.isfinite(delta) or delta < 0:
        raise InputError(f"the Page-Hinkley allowance delta must be non-negative, got {delta}")
    return _calibrated_lambda(float(arl0), float(delta))


@lru_cache(maxsize=64)
def _calibrated_lambda(arl0: float, delta: float) -> float:
    high = 1.0
    while page_hinkley_arl(high, delta) < arl0:
        high *= 2
        if high > 1e4:
            raise InputError(f"arl0={arl0:g} is beyond what the Page-Hinkley calibration reaches")
    return float(bisect(lambda lam: page_hinkley_arl(lam, delta) - arl0, 0.0, high, xtol=1e-6))


def _check_arl0(arl0: float) -> None:
    if not math.isfinite(arl0) or arl0 <= 1:
        raise InputError(
            f"arl0 (expected windows between false alarms) must be above 1, got {arl0}"
        )
