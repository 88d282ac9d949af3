"""The lowess smoother (R's clowess without robustness iterations).

Agreement with statsmodels and with a point-by-point statement of the algorithm is tested in
``tests/reference/test_statsmodels_calibration.py``. Here the vectorised implementation is
checked against ``_reference_lowess``, the earlier fit-by-fit implementation kept as an oracle.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

import assay.metrics._lowess as lowess_module
import assay.metrics._lowess_sums as lowess_sums_module
from assay.errors import InputError
from assay.metrics._lowess import lowess, lowess_sorted

Array = NDArray[np.floating]


def test_a_straight_line_is_reproduced() -> None:
    x = np.random.default_rng(0).uniform(0, 1, size=300)
    for delta in (None, 0.0, 0.05):
        np.testing.assert_allclose(lowess(x, 2 * x + 1, delta=delta), 2 * x + 1, atol=1e-12)


def test_a_constant_stays_constant() -> None:
    x = np.linspace(0, 1, 50)
    np.testing.assert_allclose(lowess(x, np.full(50, 0.3)), 0.3, atol=1e-15)


def test_three_points_by_hand() -> None:
    # span 2 of 3: every local window has its far end at the radius (weight 0)
    assert lowess([0.1, 0.5, 0.9], [0.0, 1.0, 1.0]).tolist() == [0.0, 1.0, 1.0]


def test_four_points_by_hand() -> None:
    # span 2 of 4 points 0, 1, 2, 4: at x = 2 the window {1, 2} has radius 1 (weight 0 at 1),
    # so the fit is y(2); with a wide delta the points 1 and 2 are skipped and interpolated
    x, y = [0.0, 1.0, 2.0, 4.0], [0.0, 3.0, 1.0, 5.0]
    assert lowess(x, y, delta=0.0).tolist() == [0.0, 3.0, 1.0, 5.0]
    # delta 2.5: after x=0 the next fit is at x=2 (last within 2.5), x=1 is interpolated
    assert lowess(x, y, delta=2.5).tolist() == [0.0, 0.5, 1.0, 5.0]


def test_result_is_in_input_order_and_does_not_depend_on_it() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=500)
    y = (rng.random(500) < x).astype(float)
    fitted = lowess(x, y)
    order = rng.permutation(500)
    np.testing.assert_allclose(lowess(x[order], y[order]), fitted[order], rtol=0, atol=1e-13)
    sort = np.argsort(x)
    assert np.all(np.diff(fitted[sort]) > -0.05)  # a smooth, roughly increasing curve


def test_tied_x_get_the_same_value() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 20, size=400) / 20
    y = (rng.random(400) < x).astype(float)
    fitted = lowess(x, y)
    for value in np.unique(x):
        assert np.ptp(fitted[x == value]) == 0.0


def test_integer_weights_are_row_repetition() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 60, size=120) / 60  # with ties
    y = (rng.random(120) < x).astype(float)
    counts = rng.integers(1, 4, size=120)
    weighted = lowess(x, y, sample_weight=counts)
    repeated = lowess(np.repeat(x, counts), np.repeat(y, counts))
    np.testing.assert_allclose(np.repeat(weighted, counts), repeated, rtol=0, atol=1e-12)


def test_weight_zero_rows_do_not_take_part() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.uniform(size=200), rng.uniform(size=200)
    weights = np.where(np.arange(200) % 5 == 0, 0.0, 1.0)
    fitted = lowess(x, y, sample_weight=weights)
    kept = weights > 0
    np.testing.assert_allclose(fitted[kept], lowess(x[kept], y[kept]), rtol=0, atol=1e-13)
    order = np.argsort(x[kept])
    expected = np.interp(x[~kept], x[kept][order], fitted[kept][order])
    np.testing.assert_allclose(fitted[~kept], expected, rtol=0, atol=1e-13)


def test_a_single_point_is_its_own_fit() -> None:
    assert lowess([0.3], [1.0]).tolist() == [1.0]


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="frac must be in"):
        lowess([0, 1], [0, 1], frac=0.0)
    with pytest.raises(InputError, match="delta must be a non-negative number"):
        lowess([0, 1], [0, 1], delta=-1.0)
    with pytest.raises(InputError, match="at least one row with a positive weight"):
        lowess([0, 1], [0, 1], sample_weight=[0, 0])
    with pytest.raises(InputError, match="at least one row with a positive weight"):
        lowess([], [])
    with pytest.raises(InputError, match="different lengths"):
        lowess([0, 1], [0, 1, 2])


# ---------------------------------------------------------------------------------------------
# The earlier implementation (clowess step for step, one Python-level local fit at a time),
# kept as the oracle. ``dtype`` lets it run in extended precision for the accuracy checks.


def _reference_lowess(
    x: Array,
    y: Array,
    weights: Array | None = None,
    *,
    frac: float = 2 / 3,
    delta: float | None = None,
    dtype: type[np.floating] = np.float64,
) -> Array:
    xs, ys = np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)
    n = xs.size
    used = np.ones(n, dtype=bool) if weights is None else np.asarray(weights) > 0
    order = np.flatnonzero(used)[np.argsort(xs[used], kind="stable")]
    x_sorted, y_sorted = xs[order], ys[order]
    w_sorted = np.ones(order.size, dtype=dtype)
    if weights is not None:
        w_sorted = np.asarray(weights, dtype=dtype)[order]
    if delta is None:
        delta = 0.01 * float(x_sorted[-1] - x_sorted[0])
    fitted_sorted = _reference_sorted(x_sorted, y_sorted, w_sorted, frac=frac, delta=delta)
    fitted = np.empty(n, dtype=dtype)
    fitted[order] = fitted_sorted
    if not used.all():
        fitted[~used] = np.interp(
            xs[~used].astype(float), x_sorted.astype(float), fitted_sorted.astype(float)
        )
    return fitted


def _reference_sorted(x: Array, y: Array, weights: Array, *, frac: float, delta: float) -> Array:
    n = x.size
    if n < 2:
        return y.copy()
    cumulative = np.cumsum(weights)
    positions = math.floor(float(cumulative[-1]) + 1e-9)
    span = max(2, min(positions, int(frac * float(cumulative[-1]) + 1e-7)))
    last_left = max(1, positions - span + 1)

    def x_at(position: int) -> np.floating:
        row = int(np.searchsorted(cumulative, position, side="left"))
        value: np.floating = x[min(row, n - 1)]
        return value

    x_range = x[-1] - x[0]
    fitted = np.empty(n, dtype=x.dtype)
    left, last, i = 1, -1, 0
    while True:
        x_i = x[i]
        low, high = left, last_left
        while low < high:  # the window moves right while that shrinks the radius
            middle = (low + high) // 2
            if x_i - x_at(middle) > x_at(middle + span) - x_i:
                low = middle + 1
            else:
                high = middle
        left = low
        radius = max(x_i - x_at(left), x_at(left + span - 1) - x_i)
        fitted[i] = _reference_fit(x, y, weights, x_i, radius, x_range)
        if last < i - 1:
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


def _reference_fit(
    x: Array, y: Array, weights: Array, x_i: np.floating, radius: np.floating, x_range: np.floating
) -> np.floating:
    start = int(np.searchsorted(x, x_i - radius, side="left"))
    stop = int(np.searchsorted(x, x_i + radius, side="right"))
    x_near, y_near = x[start:stop], y[start:stop]
    distance = np.abs(x_near - x_i)
    if radius > 0:
        u = distance / radius
        v = 1 - u * u * u
        kernel = np.where(distance <= 0.001 * radius, 1, v * v * v)
        kernel[distance > 0.999 * radius] = 0
    else:
        kernel = (distance == 0).astype(x.dtype)
    w = kernel * weights[start:stop]
    w /= w.sum()
    if radius > 0:
        centre = np.sum(w * x_near)
        spread = np.sum(w * (x_near - centre) ** 2)
        if np.sqrt(spread) > 0.001 * x_range:
            w = w * ((x_i - centre) / spread * (x_near - centre) + 1)
    result: np.floating = np.sum(w * y_near)
    return result


# ---------------------------------------------------------------------------------------------


def _random_x(rng: np.random.Generator, n: int, kind: int) -> Array:
    if kind == 0:
        return rng.uniform(size=n)
    if kind == 1:
        return rng.integers(0, 10, size=n) / 10  # heavy ties: 10 distinct values
    if kind == 2:
        return rng.beta(0.3, 8, size=n)  # skewed
    if kind == 3:
        return np.full(n, 0.37)  # constant
    if kind == 4:
        return np.round(rng.normal(size=n), 2)  # ties
    if kind == 5:
        return rng.integers(0, 3, size=n).astype(float)
    if kind == 6:
        return np.append(rng.uniform(0, 1e-3, size=n - 1), 1.0)  # a cluster and a far point
    if kind == 7:
        return rng.exponential(size=n) * 100
    return np.append(rng.normal(0, 1e-4, size=n - n // 10), rng.uniform(5, 10, n // 10))


def _random_case(
    rng: np.random.Generator,
) -> tuple[Array, Array, Array | None, float, float | None]:
    """x, y, weights, frac and delta for one randomised comparison with the oracle."""
    n = int(rng.choice([2, 3, 4, 5, 7, 10, 30, 100, 400, 1500]))
    x = _random_x(rng, n, int(rng.integers(0, 9)))
    y = rng.random(n) if rng.random() < 0.5 else (rng.random(n) < 0.4).astype(float)
    weights = [
        None,
        rng.integers(0, 4, size=n).astype(float),  # with zeros
        rng.uniform(0, 2, size=n) * (rng.random(n) < 0.8),
        rng.multinomial(n, np.full(n, 1 / n)).astype(float),  # bootstrap counts
        rng.uniform(0.01, 0.3, size=n),  # total weight below n
        10.0 ** rng.uniform(-3, 3, size=n),
    ][int(rng.integers(0, 6))]
    if weights is not None and not (weights > 0).any():
        weights[0] = 1.0
    frac = float(rng.choice([2 / 3, 0.02, 0.1, 0.3, 0.5, 0.9, 1.0]))
    spread = float(np.ptp(x))
    delta = [None, 0.0, float(rng.uniform(0, 0.2)) * spread, 1e-3 * spread][int(rng.integers(0, 4))]
    return x, y, weights, frac, delta


@pytest.mark.parametrize("seed", range(8))
def test_matches_the_fit_by_fit_implementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(25):
        x, y, weights, frac, delta = _random_case(rng)
        expected = _reference_lowess(x, y, weights, frac=frac, delta=delta)
        got = lowess(x, y, frac=frac, delta=delta, sample_weight=weights)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 50, 2000, 6000])
def test_calibration_shaped_data_match(n: int) -> None:
    # the use inside ICI, E90 and the calibration band: probabilities, 0/1 outcomes,
    # bootstrap counts as weights, and row resamples (ties) through lowess_sorted
    rng = np.random.default_rng(n)
    p = rng.beta(2, 5, size=n)
    y = (rng.random(n) < p).astype(float)
    counts = rng.multinomial(n, np.full(n, 1 / n)).astype(float)
    for weights in (None, counts):
        np.testing.assert_allclose(
            lowess(p, y, sample_weight=weights), _reference_lowess(p, y, weights), atol=1e-12
        )
    rows = np.sort(rng.integers(0, n, size=n))
    order = np.argsort(p[rows], kind="stable")
    xs, ys = p[rows][order], y[rows][order]
    delta = 0.01 * float(xs[-1] - xs[0])
    np.testing.assert_allclose(
        lowess_sorted(xs, ys, np.ones(n), frac=2 / 3, delta=delta),
        _reference_sorted(xs, ys, np.ones(n), frac=2 / 3, delta=delta),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "setting", [("_CHUNK", 64), ("_WORKSPACE_LIMIT", 16), ("_CELL_FACTOR", 0.05)]
)
def test_chunking_does_not_change_the_result(
    setting: tuple[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # small chunks run every loop over blocks of fits and of cells several times
    rng = np.random.default_rng(7)
    x = rng.beta(2, 5, size=3000)
    y = (rng.random(3000) < x).astype(float)
    weights = rng.multinomial(3000, np.full(3000, 1 / 3000)).astype(float)
    monkeypatch.setattr(lowess_sums_module, *setting)
    for w in (None, weights):
        np.testing.assert_allclose(
            lowess(x, y, sample_weight=w), _reference_lowess(x, y, w), rtol=0, atol=1e-12
        )


def test_direct_refits_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # with every sloped fit treated as ill-conditioned, all fits go through _direct_fit
    monkeypatch.setattr(lowess_module, "_CONDITION_LIMIT", 0.0)
    rng = np.random.default_rng(8)
    for _ in range(10):
        x, y, weights, frac, delta = _random_case(rng)
        np.testing.assert_allclose(
            lowess(x, y, frac=frac, delta=delta, sample_weight=weights),
            _reference_lowess(x, y, weights, frac=frac, delta=delta),
            rtol=0,
            atol=1e-12,
        )


@pytest.mark.skipif(
    np.finfo(np.longdouble).precision <= np.finfo(np.float64).precision,
    reason="no extended precision on this platform",
)
@pytest.mark.parametrize("seed", range(3))
def test_far_from_zero_at_least_as_accurate_as_before(seed: int) -> None:
    # x = 1e6 + noise: the fit-by-fit implementation loses about 1e-9 to rounding there; the
    # vectorised one is at least as close to the same algorithm run in extended precision
    rng = np.random.default_rng(seed)
    x = 1e6 + rng.normal(size=500)
    y = rng.random(500)
    weights = 10.0 ** rng.uniform(-3, 3, size=500)
    for frac in (0.3, 2 / 3):
        exact = _reference_lowess(x, y, weights, frac=frac, dtype=np.longdouble).astype(float)
        before = np.max(np.abs(_reference_lowess(x, y, weights, frac=frac) - exact))
        now = np.max(np.abs(lowess(x, y, frac=frac, sample_weight=weights) - exact))
        assert now <= before + 1e-12


def _sliding_window_starts(
    x_fit: Array, last_left: int, span: int, x_at: Callable[[int], float]
) -> list[int]:
    # clowess: move the window right one copy at a time while that shrinks the radius
    starts, left = [], 1
    for x_i in x_fit:
        while left < last_left and x_i - x_at(left) > x_at(left + span) - x_i:
            left += 1
        starts.append(left)
    return starts


@pytest.mark.parametrize("seed", range(6))
def test_window_starts_follow_the_sliding_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    x = np.sort(rng.integers(0, 12, size=n) / 12 if seed % 2 else rng.uniform(size=n))
    counts = rng.integers(1, 4, size=n).astype(float)
    table = np.repeat(x, counts.astype(int))
    positions = table.size
    span = max(2, min(positions, int(0.3 * positions + 1e-7)))
    last_left = max(1, positions - span + 1)
    x_fit = np.unique(x)
    expected = _sliding_window_starts(
        x_fit, last_left, span, lambda m: float(table[min(m, positions) - 1])
    )
    by_table = lowess_module._window_starts(
        x_fit, last_left, span, lowess_module._table_lookup(table), table
    )
    by_search = lowess_module._window_starts(
        x_fit, last_left, span, lowess_module._search_lookup(x, np.cumsum(counts)), None
    )
    assert by_table.tolist() == expected
    assert by_search.tolist() == expected


def test_threads_do_not_share_scratch_space() -> None:
    rng = np.random.default_rng(9)
    data = [(rng.beta(2, 5, size=n), rng.random(n)) for n in (500, 1500, 3000, 800)]
    expected = [lowess(x, y) for x, y in data]
    results: dict[int, list[NDArray[np.float64]]] = {}

    def run(k: int) -> None:
        results[k] = [lowess(x, y) for x, y in data for _ in range(3)][::3]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(4):
        for got, want in zip(results[k], expected, strict=True):
            np.testing.assert_array_equal(got, want)
