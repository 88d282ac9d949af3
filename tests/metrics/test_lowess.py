"""The lowess smoother (R's clowess without robustness iterations).

Agreement with statsmodels and with a point-by-point statement of the algorithm is tested in
``tests/reference/test_statsmodels_calibration.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.metrics._lowess import lowess


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
    with pytest.raises(InputError, match="different lengths"):
        lowess([0, 1], [0, 1, 2])
