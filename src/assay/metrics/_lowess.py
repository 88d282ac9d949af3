"""Cleveland's lowess smoother without robustness iterations, as R's ``lowess(iter = 0)``.

This is the smoother behind the flexible calibration curve, the integrated calibration index
(ICI) and E90 (Austin & Steyerberg, 2019), computed as ``rms::val.prob`` does in R:
``lowess(p, y, iter = 0)`` with span ``f = 2/3`` and ``delta = 0.01 * diff(range(p))``.

The algorithm follows ``clowess`` in R's C sources step for step:

* the data are sorted by ``x``; the neighbourhood of a point is the ``ns = ⌊f n + 1e-7⌋``
  nearest points (at least 2), found by sliding a window to the right while that shrinks the
  radius; the radius ``h`` is the larger distance from the point to the window's ends;
* the local fit is a weighted straight line with tricube weights ``(1 − (r/h)³)³``, except
  that distances ``r ≤ 0.001 h`` get weight 1 and distances ``r > 0.999 h`` weight 0; ties on
  the right end of the window are included; the slope is dropped (a weighted mean is used)
  when the weighted spread of ``x`` is at most ``0.001 × range(x)``;
* after a fit at ``x_i``, points tied with ``x_i`` take its value; the next fit is at the last
  point within ``delta`` of ``x_i`` (or the next point), and the points skipped in between are
  linearly interpolated.

statsmodels' ``lowess(it=0)`` differs from R in two places: it uses the plain tricube (no
0.001/0.999 clamps, always a slope) and, when the last point is within ``delta`` of the last
fit, it also fits the second-to-last point. The first changes values by about 1e-10, the second
by up to about 1e-6 within ``delta`` of the largest ``x`` (see
``tests/reference/test_statsmodels_calibration.py``).

``sample_weight`` acts as frequency weights: a row of weight ``k`` is the same as ``k`` copies
of it (the window counts weight, not rows), and rows of weight 0 do not take part in the fit
(their fitted value is interpolated from the curve). Each local fit is vectorised over the
rows inside the radius, so with the default ``delta`` a fit on 100,000 rows is about a hundred
vectorised local fits.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError
from assay.metrics._inputs import as_float_array, as_weights, check_same_length

FloatArray = NDArray[np.float64]

SPAN = 2 / 3
"""R's default span ``f`` for ``lowess``."""


def lowess(
    x: ArrayLike,
    y: ArrayLike,
    *,
    frac: float = SPAN,
    delta: float | None = None,
    sample_weight: ArrayLike | None = None,
) -> FloatArray:
    """Fitted values of R's ``lowess(x, y, f = frac, iter = 0, delta = delta)`` at each ``x``.

    Parameters
    ----------
    x, y
        The points; ``x`` need not be sorted.
    frac
        The span ``f``: the share of the (weighted) data in each local fit, in (0, 1].
    delta
        Points closer than ``delta`` to the last fitted point are interpolated instead of fitted;
        ``None`` means R's default ``0.01 * (max(x) - min(x))``.
    sample_weight
        Optional frequency weights (see the module notes).

    Returns
    -------
    numpy.ndarray
        The smoothed value at each ``x``, in the input order. Tied ``x`` get the same value.

    Examples
    --------
    >>> lowess([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]).round(6).tolist()
    [2.0, 4.0, 6.0, 8.0, 10.0]
    """
    xs = as_float_array(x, "x")
    ys = as_float_array(y, "y")
    n = check_same_length(x=xs, y=ys)
    weights = as_weights(sample_weight, n)
    if not 0 < frac <= 1:
        raise InputError(f"frac must be in (0, 1], got {frac}")
    if delta is not None and not (math.isfinite(delta) and delta >= 0):
        raise InputError(f"delta must be a non-negative number, got {delta}")
    used = np.ones(n, dtype=bool) if weights is None else weights > 0
    if not used.any():
        raise InputError("lowess needs at least one row with a positive weight")
    order = np.flatnonzero(used)[np.argsort(xs[used], kind="stable")]
    x_sorted, y_sorted = xs[order], ys[order]
    w_sorted = np.ones(order.size) if weights is None else weights[order]
    if delta is None:
        delta = 0.01 * float(x_sorted[-1] - x_sorted[0])
    fitted_sorted = lowess_sorted(x_sorted, y_sorted, w_sorted, frac=frac, delta=delta)
    fitted = np.empty(n)
    fitted[order] = fitted_sorted
    if not used.all():
        fitted[~used] = np.interp(xs[~used], x_sorted, fitted_sorted)
    return fitted


def lowess_sorted(
    x: FloatArray, y: FloatArray, weights: FloatArray, *, frac: float, delta: float
) -> FloatArray:
    """The clowess pass on data already sorted by ``x`` with positive weights (no checks)."""
    n = x.size
    if n < 2:
        return y.copy()
    cumulative = np.cumsum(weights)
    positions = math.floor(cumulative[-1] + 1e-9)  # number of "copies" of rows
    span = max(2, min(positions, int(frac * cumulative[-1] + 1e-7)))
    last_left = max(1, positions - span + 1)  # window start once its right end is the last copy

    def x_at(position: int) -> float:
        # x of the given 1-based copy in the expanded (frequency-weighted) data
        row = int(np.searchsorted(cumulative, position, side="left"))
        return float(x[min(row, n - 1)])

    x_range = float(x[-1] - x[0])
    fitted = np.empty(n)
    left, last, i = 1, -1, 0
    while True:
        x_i = float(x[i])
        left = _window_start(x_i, left, last_left, span, x_at)
        radius = max(x_i - x_at(left), x_at(left + span - 1) - x_i)
        fitted[i] = _local_fit(x, y, weights, x_i, radius, x_range)
        if last < i - 1:  # interpolate the points skipped since the last fit
            between = slice(last + 1, i)
            alpha = (x[between] - x[last]) / (x[i] - x[last])
            fitted[between] = alpha * fitted[i] + (1 - alpha) * fitted[last]
        tie_end = int(np.searchsorted(x, x_i, side="right"))
        fitted[i + 1 : tie_end] = fitted[i]
        last = tie_end - 1
        if last >= n - 1:
            return fitted
        beyond = int(np.searchsorted(x, x_i + delta, side="right"))
        i = max(last + 1, beyond - 1)


def _window_start(
    x_i: float,
    left: int,
    last_left: int,
    span: int,
    x_at: Callable[[int], float],
) -> int:
    """The first copy of the ``span``-wide window around ``x_i``.

    The C code moves the window right one copy at a time while ``x_i - x[left] >
    x[left + span] - x_i``; that condition only gets falser as the window moves, so the same
    stopping point is found by bisection between the previous start and the last possible one.
    """
    low, high = left, last_left
    while low < high:
        middle = (low + high) // 2
        if x_i - x_at(middle) > x_at(middle + span) - x_i:
            low = middle + 1
        else:
            high = middle
    return low


def _local_fit(
    x: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    x_i: float,
    radius: float,
    x_range: float,
) -> float:
    """clowess's ``lowest``: the weighted local line at ``x_i`` with tricube weights."""
    start = int(np.searchsorted(x, x_i - radius, side="left"))
    stop = int(np.searchsorted(x, x_i + radius, side="right"))
    x_near, y_near = x[start:stop], y[start:stop]
    distance = np.abs(x_near - x_i)
    if radius > 0:
        u = distance / radius
        v = 1.0 - u * u * u
        kernel = np.where(distance <= 0.001 * radius, 1.0, v * v * v)
        kernel[distance > 0.999 * radius] = 0.0
    else:
        kernel = (distance == 0).astype(np.float64)
    w = kernel * weights[start:stop]
    w /= w.sum()
    if radius > 0:
        centre = float(np.sum(w * x_near))
        spread = float(np.sum(w * (x_near - centre) ** 2))
        if math.sqrt(spread) > 0.001 * x_range:
            w = w * ((x_i - centre) / spread * (x_near - centre) + 1.0)
    return float(np.sum(w * y_near))
