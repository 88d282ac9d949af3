"""Window sums for the vectorised lowess: the weighted moments of every local fit at once.

Away from the fit point and the window's ends the tricube weight ``(1 − (r/h)³)³`` is a
polynomial of degree 9 in ``x``, so blocks ("cells") of consecutive values contribute through
precomputed power moments in one matrix product; only the stretches where R's 0.001/0.999
clamps can act are weighted value by value. Split from :mod:`assay.metrics._lowess`, which
documents the algorithm as a whole.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

_CELL_FACTOR = 1.0
"""Cells hold about sqrt(_CELL_FACTOR * size) distinct values."""

_CHUNK = 1 << 18
"""Elements of the largest temporary array (2 MB of float64)."""

_WORKSPACE_LIMIT = 1 << 20
"""Scratch arrays up to this many float64 (8 MB) are kept per thread and reused."""

_workspace_local = threading.local()


def _scratch(name: str, shape: tuple[int, ...], dtype: type[Any] = np.float64) -> NDArray[Any]:
    """An uninitialised array of ``shape``, reused across calls in this thread.

    Fresh large arrays cost page faults that, repeated on every one of a bootstrap's thousand
    calls, can take longer than the arithmetic on them; the caller must not hold two arrays of
    the same ``name`` at once.
    """
    size = math.prod(shape)
    if size > _WORKSPACE_LIMIT:
        return np.empty(shape, dtype=dtype)
    buffers: dict[str, NDArray[Any]] | None = getattr(_workspace_local, "buffers", None)
    if buffers is None:
        buffers = _workspace_local.buffers = {}
    buffer = buffers.get(name)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = buffers[name] = np.empty(max(size, 1024), dtype=dtype)
    return buffer[:size].reshape(shape)


_BOUND_FACTORS = np.array([[-1.0], [1.0], [-0.998], [-0.0011], [0.0011], [0.998]])
"""Multiples of the radius around ``x_i`` bounding the window and the two stretches where the
tricube is a plain polynomial (away from ``x_i`` and from the window's ends, so that neither
0.001/0.999 clamp can act)."""

_CELL_ROUNDING = np.array([[1], [0], [1], [0]])
"""Round the stretches' starts up and their ends down to whole cells."""

_TRICUBE = np.zeros((10, 10))
"""``(1 − (τ + s)³)³ = Σ_p s^p Σ_i τ^i _TRICUBE[i, p]``: the tricube about a cell's midpoint."""
for _k, _kappa in ((0, 1.0), (3, -3.0), (6, 3.0), (9, -1.0)):
    for _p in range(_k + 1):
        _TRICUBE[_k - _p, _p] = _kappa * math.comb(_k, _p)


def _window_sums(
    x_u: FloatArray,
    w_u: FloatArray,
    wy_u: FloatArray,
    shift: float,
    t: FloatArray,
    h: FloatArray,
    bounds: NDArray[np.intp],
) -> NDArray[np.float64]:
    """``Σ_j k_ij · moments[j]`` for each fit ``i``, with ``k_ij`` clowess's tricube weight of
    the distinct value ``x_j`` in the window of radius ``h_i`` around ``t_i``.

    The distinct values are cut into cells of ``c`` consecutive values. Inside either half of a
    window, away from ``t_i`` and from the window's ends, the weight is the degree-9 polynomial
    ``(1 − u³)³`` of ``u = |x − t_i| / h_i``. About a cell's midpoint ``a``, with
    ``τ = |a − t_i| / h_i`` and ``w = (x − a) / S`` (``S`` a common scale), it is
    ``Σ_p q_p(τ) (±S / h_i)^p w^p``, so a whole cell lying there contributes
    ``Σ_p q_p(τ) (±S / h_i)^p Σ_{x in cell} w^p moments``: the cells' power moments are computed
    once, and the polynomials ``q_p`` for all (fit, cell) pairs together. The rest of each
    window (its ends, and around ``t_i`` where the 0.001 clamp acts: about two cells) is summed
    value by value exactly as clowess does. Every term of the expansion is bounded by the
    weight's own scale (``τ + |x − a| / h_i ≤ 1`` in a whole cell), so the sums are as accurate
    as direct ones, to a few units of rounding.
    """
    size, fits = x_u.size, t.size
    lo, hi = bounds[0], bounds[1]
    cell = int(min(4096, max(8, math.sqrt(_CELL_FACTOR * size))))
    n_cells = size // cell
    if n_cells < 2:
        return _direct_sums(x_u, w_u, wy_u, shift, t, h, bounds[:2].T)
    # whole cells of the stretches: [left0, left1) and [right0, right1); an empty stretch is
    # moved to the window's end, so that the direct ranges [lo, left0), [left1, right0),
    # [right1, hi) stay in order
    whole = (bounds[2:] + _CELL_ROUNDING * (cell - 1)) // cell
    np.minimum(whole, n_cells, out=whole)
    has = whole[1::2] > whole[0::2]
    edges = whole * cell
    edges[:2, ~has[0]] = lo[~has[0]]
    edges[2:, ~has[1]] = hi[~has[1]]
    ranges = np.empty((fits, 6), dtype=np.intp)  # [lo, left0) [left1, right0) [right1, hi)
    ranges[:, 0], ranges[:, 1:5], ranges[:, 5] = lo, edges.T, hi
    sums = _direct_sums(x_u, w_u, wy_u, shift, t, h, ranges)
    if not has.any():
        return sums
    scale = float(h.max())
    anchor, cell_moments = _cell_moments(x_u, w_u, wy_u, shift, cell, n_cells, scale)
    # the (fit, cell) pairs with a whole cell in a stretch, as runs along each fit's row:
    # not whole, whole (left), not whole, whole (right), not whole
    bounds_in_cells = np.zeros((fits, 6), dtype=np.intp)
    np.floor_divide(edges.T, cell, out=bounds_in_cells[:, 1:5])
    bounds_in_cells[:, 5] = n_cells
    runs = bounds_in_cells[:, 1:] - bounds_in_cells[:, :-1]
    rows = max(1, _CHUNK // (10 * n_cells))
    powers = _scratch("powers", (10, min(rows, fits), n_cells))
    polynomials = _scratch("polynomials", powers.shape)
    run_values = np.broadcast_to(_RUN_VALUES, (min(rows, fits), 5)).ravel()
    for r0 in range(0, fits, rows):
        r1 = min(r0 + rows, fits)
        count = r1 - r0
        p = powers[:, :count]
        p[0].reshape(-1)[:] = np.repeat(run_values[: 5 * count], runs[r0:r1].ravel())
        gap = anchor - t[r0:r1, None]  # (a − t_i) / h_i of each cell's midpoint
        gap /= h[r0:r1, None]
        tau = np.abs(gap)
        for j in range(1, 10):
            np.multiply(p[j - 1], tau, out=p[j])
        q = polynomials[:, :count]
        np.matmul(_TRICUBE.T, p.reshape(10, -1), out=q.reshape(10, -1))
        q[1::2] *= np.sign(gap)  # odd powers of the cell coordinate change sign on the left
        partial = np.matmul(q, cell_moments).transpose(1, 0, 2)  # (fit, power, moment)
        ratio = (scale / h[r0:r1, None]) ** _POWERS  # (S / h)^p
        sums[r0:r1] += (partial * ratio[:, :, None]).sum(axis=1)
    return sums


_RUN_VALUES = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
"""Along a fit's row of cells: not whole, whole on the left, not whole, whole on the right, not."""

_POWERS = np.arange(10)
"""The powers 0..9 of the polynomial expansion."""


def _cell_moments(
    x_u: FloatArray,
    w_u: FloatArray,
    wy_u: FloatArray,
    shift: float,
    cell: int,
    n_cells: int,
    scale: float,
) -> tuple[FloatArray, NDArray[np.float64]]:
    """The midpoints ``a`` of the first ``n_cells`` cells of ``cell`` consecutive values and
    the cells' power moments ``Σ_{x in cell} ((x − a) / scale)^p (w, w z, w z², w y, w y z)``
    (p = 0..9, ``z = x − shift``), laid out as ``[p, cell, moment]``."""
    grid = x_u[: n_cells * cell].reshape(n_cells, cell)
    anchor = 0.5 * (grid[:, 0] + grid[:, -1])
    result = np.empty((n_cells, 5, 10))
    step = max(1, _CHUNK // (10 * cell))
    powers = _scratch("cell powers", (10, min(step, n_cells), cell))
    moments = _scratch("cell moments", (5, min(step, n_cells), cell))
    for c0 in range(0, n_cells, step):
        c1 = min(c0 + step, n_cells)
        columns = slice(c0 * cell, c1 * cell)
        shape = (c1 - c0, cell)
        m = moments[:, : c1 - c0]
        m[0] = w_u[columns].reshape(shape)
        m[3] = wy_u[columns].reshape(shape)
        np.subtract(grid[c0:c1], shift, out=m[2])  # z, for now
        np.multiply(m[0], m[2], out=m[1])
        np.multiply(m[3], m[2], out=m[4])
        m[2] *= m[1]
        p = powers[:, : c1 - c0]
        p[0] = 1.0
        np.subtract(grid[c0:c1], anchor[c0:c1, None], out=p[1])
        p[1] /= scale
        for j in range(2, 10):
            np.multiply(p[j - 1], p[1], out=p[j])
        np.matmul(m.transpose(1, 0, 2), p.transpose(1, 2, 0), out=result[c0:c1])
    return anchor, np.ascontiguousarray(result.transpose(2, 0, 1))


def _direct_sums(
    x_u: FloatArray,
    w_u: FloatArray,
    wy_u: FloatArray,
    shift: float,
    t: FloatArray,
    h: FloatArray,
    edges: NDArray[np.intp],
) -> NDArray[np.float64]:
    """The five sums of :func:`_local_fits` over the index ranges ``[edges[i, 0], edges[i, 1])``,
    ``[edges[i, 2], edges[i, 3])``, ... of each fit ``i``, with clowess's weights: tricube
    ``(1 − (r/h)³)³`` of the distance ``r``, 1 for ``r ≤ 0.001 h`` and 0 for ``r > 0.999 h``."""
    starts = edges[:, 0::2]
    counts = edges[:, 1::2] - starts
    per_fit = counts.sum(axis=1)
    if per_fit.sum() > _CHUNK and t.size > 1:  # in blocks of fits (delta = 0 on many rows)
        cuts = np.unique(per_fit.cumsum().searchsorted(np.arange(_CHUNK, per_fit.sum(), _CHUNK)))
        blocks = np.split(np.arange(t.size), cuts[(cuts > 0) & (cuts < t.size)])
        return np.concatenate(
            [_direct_block(x_u, w_u, wy_u, shift, t[b], h[b], edges[b]) for b in blocks]
        )
    return _direct_block(x_u, w_u, wy_u, shift, t, h, edges)


def _direct_block(
    x_u: FloatArray,
    w_u: FloatArray,
    wy_u: FloatArray,
    shift: float,
    t: FloatArray,
    h: FloatArray,
    edges: NDArray[np.intp],
) -> NDArray[np.float64]:
    """:func:`_direct_sums` for one block of fits."""
    starts = edges[:, 0::2]
    counts = edges[:, 1::2] - starts
    per_fit = counts.sum(axis=1)
    flat = counts.ravel()
    column = (starts.ravel() - (flat.cumsum() - flat)).repeat(flat)
    column += np.arange(column.size)
    centre, radius = t.repeat(per_fit), h.repeat(per_fit)
    x = x_u.take(column)
    distance = np.abs(x - centre)
    u = distance / radius
    v = u * u
    v *= u
    np.subtract(1.0, v, out=v)
    kernel = v * v
    kernel *= v
    kernel[distance <= 0.001 * radius] = 1.0
    kernel[distance > 0.999 * radius] = 0.0
    x -= shift
    weighted = _scratch("weighted", (5, column.size))
    np.multiply(kernel, w_u.take(column), out=weighted[0])
    np.multiply(weighted[0], x, out=weighted[1])
    np.multiply(weighted[1], x, out=weighted[2])
    np.multiply(kernel, wy_u.take(column), out=weighted[3])
    np.multiply(weighted[3], x, out=weighted[4])
    if bool(per_fit.all()):
        return np.add.reduceat(weighted, per_fit.cumsum() - per_fit, axis=1).T
    sums = np.zeros((t.size, 5))
    np.add.at(sums, np.repeat(np.arange(t.size), per_fit), weighted.T)
    return sums


def _direct_fit(
    x_near: FloatArray,
    w_near: FloatArray,
    wy_near: FloatArray,
    x_i: float,
    radius: float,
    threshold: float,
) -> float:
    """One local fit computed as clowess does (two passes over the window), for the rare fits
    that are ill-conditioned as moments."""
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
