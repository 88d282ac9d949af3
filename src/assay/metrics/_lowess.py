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
    total = float(cumulative[-1])
    positions = math.floor(total + 1e-9)  # number of "copies" of rows
    span = max(2, min(positions, int(frac * total + 1e-7)))
    last_left = max(1, positions - span + 1)  # window start once its right end is the last copy

    # Tied x share every step of the algorithm, so the work is done on the distinct values,
    # each carrying its total weight and weighted sum of y.
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    if starts.size == n:
        x_u, w_u, wy_u = x, weights, weights * y
    else:
        x_u = x[starts]
        w_u = np.add.reduceat(weights, starts)
        wy_u = np.add.reduceat(weights * y, starts)

    fits = _fit_points(x_u, delta)
    x_fit = x_u[fits]
    x_at = _copy_lookup(x, weights, cumulative, total, positions)
    left = _window_starts(x_fit, last_left, span, x_at)
    radius = np.maximum(x_fit - x_at(left), x_at(left + span - 1) - x_fit)
    fitted_at = _local_fits(x_u, w_u, wy_u, fits, radius, float(x[-1] - x[0]))

    fitted_u = np.empty(x_u.size)
    fitted_u[fits] = fitted_at
    if fits.size < x_u.size:  # points skipped between consecutive fits: linear interpolation
        skipped = np.ones(x_u.size, dtype=bool)
        skipped[fits] = False
        between = np.flatnonzero(skipped)
        following = np.searchsorted(fits, between)
        before, after = fits[following - 1], fits[following]
        alpha = (x_u[between] - x_u[before]) / (x_u[after] - x_u[before])
        fitted_u[between] = alpha * fitted_u[after] + (1 - alpha) * fitted_u[before]
    if starts.size == n:
        return fitted_u
    return np.repeat(fitted_u, np.diff(np.append(starts, n)))


_VECTOR_CHASE_LIMIT = 50_000
"""Up to this many distinct ``x`` the next-fit pointer is computed for all of them at once."""

_TILE = 1 << 15
"""Elements of one (fits x distinct x) block of kernel weights (a few hundred KB, in cache)."""

_GROUP = 16
"""Fit points per block row group."""


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
    fits = [0]
    i = 0
    if size <= _VECTOR_CHASE_LIMIT:
        within = (np.searchsorted(x_u, x_u + delta, side="right") - 1).tolist()
        while i < size - 1:
            i = max(i + 1, within[i])
            fits.append(i)
    else:
        while i < size - 1:
            beyond = int(np.searchsorted(x_u, x_u[i] + delta, side="right"))
            i = max(i + 1, beyond - 1)
            fits.append(i)
    return np.asarray(fits, dtype=np.intp)


def _copy_lookup(
    x: FloatArray, weights: FloatArray, cumulative: FloatArray, total: float, positions: int
) -> Callable[[IndexArray], FloatArray]:
    """``x`` of the given 1-based copies in the expanded (frequency-weighted) data.

    A copy's row is the first whose cumulative weight reaches the copy number (the last row for
    copies beyond the total weight). With whole-number weights the expanded data are built once.
    """
    n = x.size
    expanded: FloatArray | None = None
    if total < 2**52 and positions == total and positions <= 8 * n + 1024:
        if bool(np.all(weights == 1.0)):
            expanded = x
        elif bool(np.all(weights == np.floor(weights))):
            expanded = np.repeat(x, weights.astype(np.int64))
    if expanded is not None:
        table = expanded

        def from_table(position: IndexArray) -> FloatArray:
            return table[np.minimum(position, table.size) - 1]

        return from_table

    def from_search(position: IndexArray) -> FloatArray:
        rows = np.searchsorted(cumulative, position, side="left")
        return x[np.minimum(rows, n - 1)]

    return from_search


def _window_starts(
    x_fit: FloatArray, last_left: int, span: int, x_at: Callable[[IndexArray], FloatArray]
) -> IndexArray:
    """The first copy of the ``span``-wide window around each fit point.

    The C code moves the window right one copy at a time while ``x_i - x[left] >
    x[left + span] - x_i``. That condition only gets falser as the window moves and truer as
    ``x_i`` grows, so the start is the first copy in ``[1, last_left)`` where it fails (or
    ``last_left``), found by a bisection run on all fit points at once.
    """
    count = last_left - 1  # candidate starts 1 .. last_left - 1
    if count <= 0:
        return np.ones(x_fit.size, dtype=np.intp)

    def moves(start: IndexArray) -> NDArray[np.bool_]:
        return (x_fit - x_at(start)) > (x_at(start + span) - x_fit)

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

    For each fit the sums ``Σ k w``, ``Σ k w z``, ``Σ k w z²``, ``Σ k w y`` and ``Σ k w z y``
    (``k`` the tricube kernel, ``z = x − s`` for a shift ``s`` near the fit points) are built
    by blocks of fits x distinct values and one matrix product each. The centre, spread and
    slope follow from them; a fit whose spread is ill-conditioned that way (or close to the
    no-slope threshold) is recomputed directly as clowess does.
    """
    x_fit = x_u[fits]
    fitted = np.empty(fits.size)
    flat = radius <= 0
    if flat.any():  # only the ties of x_i are in the window
        fitted[flat] = wy_u[fits[flat]] / w_u[fits[flat]]
    active = np.flatnonzero(~flat)
    if active.size == 0:
        return fitted
    threshold = 0.001 * x_range
    h = radius[active]
    xa = x_fit[active]
    lo = np.searchsorted(x_u, xa - h, side="left")
    hi = np.searchsorted(x_u, xa + h, side="right")
    sums = np.zeros((active.size, 5))
    shift = np.empty(active.size)
    buffer = np.empty(_TILE)
    scratch = np.empty(_TILE)
    near_buffer = np.empty(_TILE, dtype=bool)
    far_buffer = np.empty(_TILE, dtype=bool)
    moments = np.empty((5, max(1, _TILE // 1)))
    for g0 in range(0, active.size, _GROUP):
        g1 = min(g0 + _GROUP, active.size)
        rows = g1 - g0
        s = float(xa[(g0 + g1 - 1) // 2])
        shift[g0:g1] = s
        c_lo, c_hi = int(lo[g0:g1].min()), int(hi[g0:g1].max())
        width = max(1, _TILE // rows)
        hg = h[g0:g1, None]
        xg = xa[g0:g1, None]
        near_limit = 0.001 * hg
        far_limit = 0.999 * hg
        for c0 in range(c_lo, c_hi, width):
            c1 = min(c0 + width, c_hi)
            cols = c1 - c0
            size = rows * cols
            kernel = buffer[:size].reshape(rows, cols)
            cube = scratch[:size].reshape(rows, cols)
            near = near_buffer[:size].reshape(rows, cols)
            far = far_buffer[:size].reshape(rows, cols)
            np.subtract(x_u[None, c0:c1], xg, out=kernel)
            np.abs(kernel, out=kernel)
            np.less_equal(kernel, near_limit, out=near)
            np.greater(kernel, far_limit, out=far)
            np.divide(kernel, hg, out=kernel)
            np.multiply(kernel, kernel, out=cube)
            cube *= kernel
            np.subtract(1.0, cube, out=cube)
            np.multiply(cube, cube, out=kernel)
            kernel *= cube
            np.copyto(kernel, 1.0, where=near)
            np.copyto(kernel, 0.0, where=far)
            m = moments[:, :cols]
            np.subtract(x_u[c0:c1], s, out=m[1])
            np.multiply(m[1], wy_u[c0:c1], out=m[4])
            m[1] *= w_u[c0:c1]
            np.multiply(m[1], x_u[c0:c1] - s, out=m[2])
            m[0] = w_u[c0:c1]
            m[3] = wy_u[c0:c1]
            sums[g0:g1] += kernel @ m.T
    s0, s1, s2, sy, szy = sums.T
    cz = s1 / s0
    mean_y = sy / s0
    second = s2 / s0
    spread = second - cz * cz
    centre = shift + cz
    offset = xa - centre
    sd = np.sqrt(np.maximum(spread, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = (np.abs(offset) + sd) * (np.abs(cz) + sd) / spread
        sloped = sd > threshold
        value = np.where(
            sloped, mean_y + offset / spread * (szy / s0 - cz * mean_y), mean_y
        )
    doubtful = (
        (np.abs(spread - threshold * threshold) <= 1e-9 * second + 1e-300)
        | (spread <= 0)
        | (sloped & ~(condition < 1e3))
    )
    for k in np.flatnonzero(doubtful).tolist():
        value[k] = _direct_fit(
            x_u[lo[k] : hi[k]], w_u[lo[k] : hi[k]], wy_u[lo[k] : hi[k]], float(xa[k]),
            float(h[k]), threshold,
        )
    fitted[active] = value
    return fitted


def _direct_fit(
    x_near: FloatArray, w_near: FloatArray, wy_near: FloatArray, x_i: float, radius: float,
    threshold: float,
) -> float:
    """One local fit computed as clowess does (two passes over the window), for the rare fits
    whose centre and spread are ill-conditioned as moments."""
    distance = np.abs(x_near - x_i)
    u = distance / radius
    v = 1.0 - u * u * u
    kernel = np.where(distance <= 0.001 * radius, 1.0, v * v * v)
    kernel[distance > 0.999 * radius] = 0.0
    total = float(np.sum(kernel * w_near))
    w = kernel * w_near / total
    centre = float(np.sum(w * x_near))
    spread = float(np.sum(w * (x_near - centre) ** 2))
    factor = kernel / total
    if math.sqrt(spread) > threshold:
        factor = factor * ((x_i - centre) / spread * (x_near - centre) + 1.0)
    return float(np.sum(factor * wy_near))
