"""Regression metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import calibration_in_the_large, mae, r2, rmse

Y = [1.0, 2.0, 4.0, 5.0]
PREDICTION = [1.5, 2.0, 3.0, 6.0]  # errors -0.5, 0, 1, -1


def test_values_by_hand() -> None:
    assert mae(Y, PREDICTION) == pytest.approx(2.5 / 4)
    assert rmse(Y, PREDICTION) == pytest.approx(math.sqrt(2.25 / 4))
    # mean 3, total sum of squares 4 + 1 + 1 + 4 = 10
    assert r2(Y, PREDICTION) == pytest.approx(1 - 2.25 / 10)
    assert calibration_in_the_large(Y, PREDICTION) == pytest.approx(3.0 - 3.125)


def test_weights_are_frequencies() -> None:
    weights = [1, 1, 2, 0]
    rows = ([1.0, 2.0, 4.0, 4.0], [1.5, 2.0, 3.0, 3.0])
    assert mae(Y, PREDICTION, sample_weight=weights) == pytest.approx(mae(*rows))
    assert rmse(Y, PREDICTION, sample_weight=weights) == pytest.approx(rmse(*rows))
    assert r2(Y, PREDICTION, sample_weight=weights) == pytest.approx(r2(*rows))


def test_perfect_prediction() -> None:
    assert (mae(Y, Y), rmse(Y, Y), r2(Y, Y), calibration_in_the_large(Y, Y)) == (0, 0, 1, 0)


def test_r2_undefined_for_a_constant_target() -> None:
    with pytest.raises(UndefinedMetricError, match="observed values are all equal"):
        r2([2.0, 2.0], [1.0, 3.0])


def test_undefined_with_zero_weight_and_bad_input() -> None:
    with pytest.raises(UndefinedMetricError, match="every weight is zero"):
        mae(Y, PREDICTION, sample_weight=[0, 0, 0, 0])
    with pytest.raises(InputError, match="NaN or infinite"):
        rmse([1.0, math.inf], [1.0, 2.0])
