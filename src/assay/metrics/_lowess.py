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
(their fitted value is interpolated from the curve).

Computation
-----------
The fit points and each fit's window depend only on ``x`` (and the weights), so they are found
first: the chase from fit to fit is a bisection per fit point (at most about 200 with the
default ``delta``), and the window starts a vectorised bisection over all fit points.
Tied ``x`` are merged into one value carrying their total weight. All local fits then come from
five kernel-weighted sums per fit (``Σ k w``, ``Σ k w z``, ``Σ k w z²``, ``Σ k w y``,
``Σ k w z y``), formed for all fits at once (:func:`_window_sums`): away from the fit point and
from the window's ends the tricube is a degree-9 polynomial, so whole cells of consecutive
values contribute through their power moments (one matrix product for all fit/cell pairs), and
only the rest of each window (about two cells) is weighted value by value. The results equal
the fit-by-fit computation to rounding (about 1e-13 on probabilities; the few fits for which
the moments are ill-conditioned are recomputed fit by fit). The memory beyond the data is
bounded by blocks of about 2 MB (scratch arrays are reused per thread).

Median time per call on the development machine, probabilities with 0/1 outcomes, unweighted
or with bootstrap counts (before: the earlier fit-by-fit implementation): 2,000 rows 0.65-0.75
ms (before 7 ms), 20,000 rows 2-3 ms (before 16-22 ms), 100,000 rows 5-9 ms (before 120-190
ms), 1,000,000 rows 50-160 ms (before 1.3-1.7 s).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError
from assay.metrics._inputs import as_float_array, as_weights, check_same_length
from assay.metrics._lowess_sums import _BOUND_FACTORS, _direct_fit, _window_sums

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

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
    # the order among tied x does not matter: ties share every step and get the same value
    w_sorted: FloatArray | None = None
    unused = None
    used = np.ones(n, dtype=bool) if weights is None else weights > 0
    if not used.any():
        raise InputError("lowess needs at least one row with a positive weight")
    if weights is None:
        order = np.argsort(xs)
    else:
        unused = None if used.all() else ~used
        order = np.argsort(xs) if unused is None else np.flatnonzero(used)[np.argsort(xs[used])]
        w_sorted = weights[order]
    x_sorted, y_sorted = xs[order], ys[order]
    if delta is None:
        delta = 0.01 * float(x_sorted[-1] - x_sorted[0])
    fitted_sorted = _smooth(x_sorted, y_sorted, w_sorted, frac, delta)
    fitted = np.empty(n)
    fitted[order] = fitted_sorted
    if unused is not None:
        fitted[unused] = np.interp(xs[unused], x_sorted, fitted_sorted)
    return fitted


def lowess_sorted(
    x: FloatArray, y: FloatArray, weights: FloatArray, *, frac: float, delta: float
) -> FloatArray:
    """The clowess pass on data already sorted by ``x`` with positive weights (no checks)."""
    unit = x.size > 0 and bool((weights == 1.0).all())
    return _smooth(x, y, None if unit else weights, frac, delta)


def _smooth(
    x: FloatArray, y: FloatArray, weights: FloatArray | None, frac: float, delta: float
) -> FloatArray:
    """:func:`lowess_sorted`, with ``weights=None`` for unit weights."""
    n = x.size
    if n < 2:
        return y.copy()
    cumulative = None if weights is None else weights.cumsum()
    total = float(n) if cumulative is None else float(cumulative[-1])
    positions = math.floor(total + 1e-9)  # number of "copies" of rows
    span = max(2, min(positions, int(frac * total + 1e-7)))
    last_left = max(1, positions - span + 1)  # window start once its right end is the last copy

    # Tied x share every step of the algorithm, so the work is done on the distinct values,
    # each carrying its total weight and weighted sum of y.
    new_value = x[1:] != x[:-1]
    tied = not bool(new_value.all())
    wy = y if weights is None else weights * y
    if tied:
        starts = np.flatnonzero(np.concatenate(([True], new_value)))
        x_u = x[starts]
        sizes = np.diff(np.append(starts, n))
        w_u = sizes.astype(np.float64) if weights is None else np.add.reduceat(weights, starts)
        wy_u = np.add.reduceat(wy, starts)
    else:
        x_u, wy_u = x, wy
        w_u = np.ones(n) if weights is None else weights

    fits = _fit_points(x_u, delta)
    x_fit = x_u[fits]
    table = x if weights is None else _copy_table(x, weights, total, positions)
    if table is not None:  # the window's ends are within the table
        left = _window_starts(x_fit, last_left, span, _table_lookup(table), table)
        radius = np.maximum(x_fit - table[left - 1], table[left + (span - 2)] - x_fit)
    else:
        assert cumulative is not None  # weights were given
        x_at = _search_lookup(x, cumulative)
        left = _window_starts(x_fit, last_left, span, x_at, None)
        radius = np.maximum(x_fit - x_at(left), x_at(left + span - 1) - x_fit)
    fitted_at = _local_fits(x_u, w_u, wy_u, fits, radius, float(x[-1] - x[0]))
    # points skipped between consecutive fits are interpolated linearly (the fits themselves
    # are returned as they are)
    fitted_u = fitted_at if fits.size == x_u.size else np.interp(x_u, x_fit, fitted_at)
    if tied:
        return fitted_u.repeat(sizes)
    return fitted_u


_CONDITION_LIMIT = 1024.0
"""Fits whose centre and spread are worse conditioned than this (squared) as moments are
recomputed."""


def _fit_points(x_u: FloatArray, delta: float) -> IndexArray:
    """Indices (into the distinct ``x``) of the points clowess fits, in order.

    After a fit at ``x_i`` the next fit is at the last point within ``delta`` of ``x_i``, or the
    next point if that is ``x_i`` itself; the first and the last point are always fitted.
    """
    size = x_u.size
    if size == 1:
        return np.zeros(1, dtype=np.intp)
    if delta == 0:
        return np.arange(size)
    # bisection on a memoryview reads the values as Python floats, without a copy
    values = np.ascontiguousarray(x_u).data
    bisect_right = bisect.bisect_right
    fits = [0]
    add = fits.append
    i = 0
    last = size - 1
    while i < last:
        j = bisect_right(values, values[i] + delta, i) - 1
        i = j if j > i else i + 1
        add(i)
    return np.array(fits, dtype=np.intp)


def _copy_table(
    x: FloatArray, weights: FloatArray, total: float, positions: int
) -> FloatArray | None:
    """``x`` of every copy of the expanded data, when the weights are whole numbers (else None)."""
    if not (total < 2**52 and positions == total and positions <= 8 * x.size + 1024):
        return None
    if bool((weights == 1.0).all()):
        return x
    if bool((weights == np.floor(weights)).all()):
        return x.repeat(weights.astype(np.int64))
    return None


def _table_lookup(table: FloatArray) -> Callable[[IndexArray], FloatArray]:
    """``x`` of the given 1-based copies, read off the expanded data (the last one beyond)."""

    def x_at(position: IndexArray) -> FloatArray:
        values: FloatArray = table[np.minimum(position, table.size) - 1]
        return values

    return x_at


def _search_lookup(x: FloatArray, cumulative: FloatArray) -> Callable[[IndexArray], FloatArray]:
    """``x`` of the given 1-based copies in the expanded (frequency-weighted) data: a copy's row
    is the first whose cumulative weight reaches the copy number (the last row beyond the total
    weight), as clowess with weights counts them."""
    last_row = x.size - 1

    def x_at(position: IndexArray) -> FloatArray:
        rows = cumulative.searchsorted(position, side="left")
        return x[np.minimum(rows, last_row)]

    return x_at


_BEFORE_AND_AT = np.array([[-1], [0]])
"""Offsets of the two candidate starts checked around a guessed window start."""


def _window_starts(
    x_fit: FloatArray,
    last_left: int,
    span: int,
    x_at: Callable[[IndexArray], FloatArray],
    table: FloatArray | None,
) -> IndexArray:
    """The first copy of the ``span``-wide window around each fit point.

    The C code moves the window right one copy at a time while ``x_i - x[left] >
    x[left + span] - x_i``. That condition only gets falser as the window moves and truer as
    ``x_i`` grows, so the start is the first copy in ``[1, last_left)`` where it fails (or
    ``last_left``). With the expanded data at hand it is guessed from the window midpoints
    ``(x[left] + x[left + span]) / 2`` by bisection and checked; otherwise (or if a guess
    fails) it is found by a bisection run on all fit points at once.
    """
    count = last_left - 1  # candidate starts 1 .. last_left - 1
    if count <= 0:
        return np.ones(x_fit.size, dtype=np.intp)

    def moves(start: IndexArray) -> NDArray[np.bool_]:
        return (x_fit - x_at(start)) > (x_at(start + span) - x_fit)

    if table is not None:
        low, high = table[:count], table[span : span + count]  # x of copies m and m + span
        guess = (low + high).searchsorted(2.0 * x_fit) + 1
        # accept the guess if the window moves at guess - 1 and not at guess (with the ends
        # padded so that it always moves at 0 and never at last_left)
        low = np.concatenate(([-np.inf], low, [np.inf]))
        high = np.concatenate(([0.0], high, [0.0]))
        at = guess + _BEFORE_AND_AT
        moved = (x_fit - low[at]) > (high[at] - x_fit)
        if bool(moved[0].all()) and not bool(moved[1].any()):
            return guess
    base = np.zeros(x_fit.size, dtype=np.intp)  # moves(base + 1) holds for base > 0
    while count > 1:
        half = count // 2
        base = np.where(moves(base + half + 1), base + half, base)
        count -= half
    return 1 + base + moves(base + 1)


def _local_fits(
    x_u: FloatArray,
    w_u: FloatArray,
    wy_u: FloatArray,
    fits: IndexArray,
    radius: FloatArray,
    x_range: float,
) -> FloatArray:
    """clowess's ``lowest`` at every fit point: weighted local lines with tricube weights.

    With ``z = x − s`` (``s`` the weighted mean of ``x``) the sums ``Σ k w``, ``Σ k w z``,
    ``Σ k w z²``, ``Σ k w y`` and ``Σ k w z y`` (``k`` the tricube kernel) are formed for all fits
    at once (:func:`_window_sums`); the centre, spread and slope follow from them. A fit for
    which that is ill-conditioned (a window whose spread is small next to its distance from
    ``s``, or close to the no-slope threshold) is recomputed directly as clowess does.
    """
    flat = radius <= 0
    if flat.any():  # only the ties of x_i are in the window
        means: FloatArray = wy_u[fits] / w_u[fits]
        active = ~flat
        if active.any():
            means[active] = _local_fits(x_u, w_u, wy_u, fits[active], radius[active], x_range)
        return means
    t, h = x_u[fits], radius
    shift = float(np.dot(w_u, x_u) / w_u.sum())
    bounds = x_u.searchsorted(t + _BOUND_FACTORS * h)
    sums = _window_sums(x_u, w_u, wy_u, shift, t, h, bounds)
    cz, second, mean_y, mean_zy = (sums[:, 1:] / sums[:, :1]).T
    cz2 = cz * cz
    spread = second - cz2
    offset = (t - shift) - cz
    threshold = 0.001 * x_range
    limit = threshold * threshold
    sloped = spread > limit  # clowess: sqrt(spread) > threshold
    slope = offset / np.where(sloped, spread, np.inf)
    fitted: FloatArray = mean_y + slope * (mean_zy - cz * mean_y)
    # recompute the fits whose spread is at the threshold to rounding, whose slope term is
    # ill-conditioned as moments ((offset² + spread)(cz² + spread) large next to spread²), or
    # whose window is too narrow for the cells' common scale (max h)
    doubtful = np.abs(spread - limit) <= 1e-11 * second
    doubtful |= sloped & (
        (offset * offset + spread) * (cz2 + spread) > _CONDITION_LIMIT * spread**2
    )
    doubtful |= ~np.isfinite(fitted) | (h < 1e-20 * h.max())
    if doubtful.any():
        for k in np.flatnonzero(doubtful).tolist():
            window = slice(int(bounds[0, k]), int(bounds[1, k]))
            fitted[k] = _direct_fit(
                x_u[window], w_u[window], wy_u[window], float(t[k]), float(h[k]), threshold
            )
    return fitted
