"""Calibration metrics on cases whose values are known in closed form."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import (
    calibration_intercept,
    calibration_slope,
    e90,
    ece,
    ici,
    oe_ratio,
    reliability_curve,
)
from assay.metrics._calibration import weighted_quantile
from assay.metrics.intervals import wilson_interval


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _groups(*groups: tuple[float, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows for (probability, n, events) groups."""
    y = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for _, n, k in groups])
    p = np.concatenate([np.full(n, prob) for prob, n, _ in groups])
    return y, p


def test_slope_with_two_groups_is_the_saturated_fit() -> None:
    # predicted 0.2 (observed 3/10) and 0.6 (observed 5/10): the logistic line passes through
    # both observed log-odds, so the slope is their ratio of differences
    y, p = _groups((0.2, 10, 3), (0.6, 10, 5))
    expected = (_logit(0.5) - _logit(0.3)) / (_logit(0.6) - _logit(0.2))
    assert calibration_slope(y, p) == pytest.approx(expected, abs=1e-12)


def test_intercept_with_one_group_is_the_log_odds_gap() -> None:
    y, p = _groups((0.2, 10, 3))
    assert calibration_intercept(y, p) == pytest.approx(_logit(0.3) - _logit(0.2), abs=1e-12)


def test_perfect_calibration_gives_slope_one_and_intercept_zero() -> None:
    y, p = _groups((0.25, 8, 2), (0.5, 6, 3), (0.75, 4, 3))
    assert calibration_slope(y, p) == pytest.approx(1.0, abs=1e-10)
    assert calibration_intercept(y, p) == pytest.approx(0.0, abs=1e-10)


def test_weights_are_frequencies_in_the_fits() -> None:
    y, p = _groups((0.2, 10, 3), (0.6, 10, 5))
    doubled_y, doubled_p = np.r_[y, y[:10]], np.r_[p, p[:10]]
    weights = np.r_[np.full(10, 2.0), np.ones(10)]
    assert calibration_slope(y, p, sample_weight=weights) == pytest.approx(
        calibration_slope(doubled_y, doubled_p), abs=1e-10
    )
    assert calibration_intercept(y, p, sample_weight=weights) == pytest.approx(
        calibration_intercept(doubled_y, doubled_p), abs=1e-10
    )


@pytest.mark.parametrize("metric", [calibration_slope, calibration_intercept])
def test_probability_zero_or_one_makes_the_logit_infinite(metric: Callable[..., float]) -> None:
    with pytest.raises(UndefinedMetricError, match=r"^2 rows have a predicted probability of"):
        metric([0, 1, 1, 0], [0.0, 0.3, 1.0, 0.4])
    # a row of weight 0 does not count
    value = metric([0, 1, 1, 0], [0.0, 0.3, 0.6, 0.4], sample_weight=[0, 1, 1, 1])
    assert value == metric([1, 1, 0], [0.3, 0.6, 0.4])


def test_slope_undefined_cases() -> None:
    with pytest.raises(UndefinedMetricError, match="all predicted probabilities are equal"):
        calibration_slope([0, 1, 1], [0.3, 0.3, 0.3])
    with pytest.raises(UndefinedMetricError, match="no positive cases"):
        calibration_slope([0, 0, 0], [0.1, 0.3, 0.5])
    with pytest.raises(UndefinedMetricError, match="perfectly separated"):
        calibration_slope([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])


def test_oe_ratio() -> None:
    assert oe_ratio([1, 0, 1, 0], [0.5, 0.5, 0.25, 0.25]) == pytest.approx(2 / 1.5)
    assert oe_ratio([1, 0], [0.5, 0.5], sample_weight=[3, 1]) == pytest.approx(3 / 2)
    assert oe_ratio([0, 0], [0.5, 0.5]) == 0.0
    with pytest.raises(UndefinedMetricError, match="no expected events"):
        oe_ratio([1, 0], [0.0, 0.0])


def test_ici_and_e90_on_three_points() -> None:
    # with 3 points the span holds 2: each local fit puts all weight on the point itself
    # (the other end of the window sits at the radius, weight 0), so the curve is y itself
    p, y = [0.1, 0.5, 0.9], [0, 1, 1]
    errors = np.array([0.1, 0.5, 0.1])
    assert ici(y, p) == pytest.approx(errors.mean(), abs=1e-15)
    assert e90(y, p) == pytest.approx(np.quantile(errors, 0.9), abs=1e-15)
    assert e90(y, p) == pytest.approx(0.1 + 0.8 * 0.4, abs=1e-15)


def test_ici_is_small_for_calibrated_predictions_and_large_for_shifted_ones() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=4000)
    y = (rng.random(4000) < p).astype(int)
    assert ici(y, p) < 0.02
    shifted = np.clip(p + 0.2, 0, 1)
    assert ici(y, shifted) == pytest.approx(0.2, abs=0.03)
    assert e90(y, shifted) >= ici(y, shifted)


def test_weighted_quantile_matches_numpy_and_repetition() -> None:
    values = np.array([0.3, 0.1, 0.7, 0.2, 0.5])
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert weighted_quantile(values, np.ones(5), q) == pytest.approx(np.quantile(values, q))
        counts = np.array([1, 3, 2, 1, 4])
        expected = np.quantile(np.repeat(values, counts), q)
        assert weighted_quantile(values, counts.astype(float), q) == pytest.approx(expected)


def test_ece_by_hand() -> None:
    # bin [0, 0.5]: p 0.1 (y 0), 0.15 (y 1): gap |0.125 - 0.5| = 0.375 on half the rows
    # bin (0.5, 1]: p 0.9 (y 1), 0.8 (y 0): gap |0.85 - 0.5| = 0.35 on the other half
    assert ece([0, 1, 1, 0], [0.1, 0.15, 0.9, 0.8], n_bins=2) == pytest.approx(0.3625)
    assert ece([0, 1], [0.5, 0.5], n_bins=1) == 0.0
    # 0.5 sits in the lower bin: one bin holds both rows
    assert ece([0, 1], [0.5, 0.2], n_bins=2) == pytest.approx(abs(0.35 - 0.5))
    with pytest.raises(InputError, match="n_bins must be a positive integer"):
        ece([0, 1], [0.5, 0.2], n_bins=0)


def test_reliability_curve_uniform_bins() -> None:
    y = [0, 1, 0, 1, 1, 1]
    p = [0.05, 0.15, 0.45, 0.55, 0.95, 0.9]
    curve = reliability_curve(y, p, n_bins=2)
    assert curve.kind == "reliability"
    assert curve.columns["predicted"] == pytest.approx([0.65 / 3, 2.4 / 3])
    assert curve.columns["observed"] == pytest.approx([1 / 3, 1.0])
    assert curve.columns["n"] == (3.0, 3.0)
    low, high = wilson_interval([1, 3], [3, 3], 0.95)
    assert curve.columns["observed_low"] == pytest.approx(low)
    assert curve.columns["observed_high"] == pytest.approx(high)
    assert (curve.n, curve.n_events, curve.level) == (6, 4, 0.95)


def test_reliability_curve_leaves_out_empty_bins_and_supports_quantiles() -> None:
    curve = reliability_curve([0, 1, 1], [0.05, 0.07, 0.95], n_bins=10)
    assert curve.columns["bin_low"] == pytest.approx([0.0, 0.9])
    quantile = reliability_curve([0, 1, 1, 0], [0.1, 0.2, 0.3, 0.4], n_bins=2, strategy="quantile")
    assert quantile.columns["n"] == (2.0, 2.0)
    with pytest.raises(InputError, match="strategy"):
        reliability_curve([0, 1], [0.1, 0.2], strategy="kmeans")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("y", "p"),
    [([0, 1, 1], [0.375, 0.875, 0.875]),          # complete separation
     ([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9]),        # quasi-complete: the classes meet at 0.5
     ([1, 1, 0, 0], [0.2, 0.3, 0.6, 0.9])],       # separated the other way round
)
def test_calibration_slope_is_undefined_under_separation(y: list[int], p: list[float]) -> None:
    with pytest.raises(UndefinedMetricError, match="perfectly separated"):
        calibration_slope(y, p)
    assert np.isfinite(calibration_slope([*y, 0, 1, 0, 1], [*p, 0.7, 0.25, 0.1, 0.95]))
