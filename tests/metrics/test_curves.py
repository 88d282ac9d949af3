"""The Curve result type and the ROC, PR, calibration and threshold-table curves."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from pydantic import ValidationError

import assay.metrics as am
from assay.errors import InputError, UndefinedMetricError
from assay.metrics import Curve, calibration_curve, pr_curve, roc_curve, threshold_table
from assay.metrics._lowess import lowess
from assay.metrics.intervals import wilson_interval

Y = [0, 0, 1, 1]
S = [0.1, 0.4, 0.35, 0.8]


def test_curve_columns_must_have_equal_lengths() -> None:
    with pytest.raises(ValidationError, match="equal lengths"):
        Curve(kind="roc", columns={"fpr": [0.0, 1.0], "tpr": [0.0]}, n=2)
    with pytest.raises(ValidationError):
        Curve(kind="roc", columns={}, n=2, colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="level"):
        Curve(kind="roc", columns={}, n=2, level=95)


def test_curve_is_frozen_and_round_trips_through_standard_json() -> None:
    curve = Curve(kind="threshold", columns={"ppv": [0.5, math.nan]}, n=4, n_events=2)
    with pytest.raises(ValidationError):
        curve.n = 5  # type: ignore[misc]
    text = curve.model_dump_json()
    assert "NaN" not in text and json.loads(text)["columns"]["ppv"] == [0.5, None]
    again = Curve.model_validate_json(text)
    assert again == curve and again.columns["ppv"] == (0.5, None)
    assert np.isnan(again.array("ppv")[1])


def test_roc_curve_by_hand() -> None:
    curve = roc_curve(Y, S)
    assert curve.kind == "roc"
    assert curve.columns["fpr"] == (0.0, 0.0, 0.5, 0.5, 1.0)
    assert curve.columns["tpr"] == (0.0, 0.5, 0.5, 1.0, 1.0)
    assert curve.columns["threshold"][1:] == (0.8, 0.4, 0.35, 0.1)
    assert curve.columns["threshold"][0] == np.nextafter(0.8, 1.0)  # nobody flagged
    assert np.trapezoid(curve.columns["tpr"], curve.columns["fpr"]) == am.auroc(Y, S)


def test_roc_curve_drops_points_on_straight_segments() -> None:
    # three controls in a row below all cases: the points between (0, 1) and (1, 1) go, as
    # in scikit-learn (which judges collinearity before adding the origin)
    curve = roc_curve([1, 1, 0, 0, 0], [0.9, 0.8, 0.3, 0.2, 0.1])
    assert curve.columns["fpr"] == (0.0, 0.0, 0.0, 1.0)
    assert curve.columns["tpr"] == (0.0, 0.5, 1.0, 1.0)
    assert curve.columns["threshold"][1:] == (0.9, 0.8, 0.1)


def test_roc_curve_on_a_million_rows_is_thinned_for_plotting() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(1_000_000) < 0.2).astype(np.int8)
    score = rng.normal(size=y.size) + y
    curve = roc_curve(y, score)
    fpr, tpr = curve.columns["fpr"], curve.columns["tpr"]
    assert 1000 < len(fpr) <= 2000
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(am.auroc(y, score), abs=1e-4)


def test_pr_curve_by_hand() -> None:
    curve = pr_curve(Y, S)
    assert curve.kind == "pr"
    assert curve.columns["recall"] == (0.5, 0.5, 1.0, 1.0)
    assert curve.columns["precision"] == pytest.approx([1.0, 0.5, 2 / 3, 0.5])
    assert curve.columns["threshold"] == (0.8, 0.4, 0.35, 0.1)
    with pytest.raises(UndefinedMetricError, match="no positive cases"):
        pr_curve([0, 0], [0.1, 0.2])


def test_pr_curve_thinning_keeps_the_ends() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(20_000) < 0.3).astype(int)
    score = rng.normal(size=y.size) + y
    curve = pr_curve(y, score, max_points=100)
    full = pr_curve(y, score, max_points=None)
    assert len(curve.columns["recall"]) <= 100 and len(full.columns["recall"]) == 20_000
    assert curve.columns["recall"][0] == full.columns["recall"][0]
    assert curve.columns["recall"][-1] == full.columns["recall"][-1] == 1.0


def _calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.9, size=n)
    return (rng.random(n) < p).astype(int), p


def test_calibration_curve_is_the_lowess_curve_with_a_band() -> None:
    y, p = _calibrated(2000, 2)
    curve = calibration_curve(y, p, n_boot=30, grid_size=21)
    predicted = np.array(curve.columns["predicted"])
    observed = np.array(curve.columns["observed"])
    low, high = np.array(curve.columns["observed_low"]), np.array(curve.columns["observed_high"])
    assert curve.kind == "calibration" and curve.level == 0.95
    assert (predicted[0], predicted[-1], predicted.size) == (p.min(), p.max(), 21)
    order = np.argsort(p)
    expected = np.interp(predicted, p[order], lowess(p, y.astype(float))[order])
    np.testing.assert_allclose(observed, expected, rtol=0, atol=1e-12)
    assert np.all(low <= high)
    assert np.mean((low <= observed) & (observed <= high)) > 0.9
    assert np.all(np.abs(observed - predicted) < 0.1)  # the data are calibrated


def test_calibration_curve_band_is_reproducible_from_the_seed() -> None:
    y, p = _calibrated(500, 3)
    first = calibration_curve(y, p, n_boot=10, seed=5, grid_size=11)
    assert first == calibration_curve(y, p, n_boot=10, seed=5, grid_size=11)
    other = calibration_curve(y, p, n_boot=10, seed=6, grid_size=11)
    assert other.columns["observed"] == first.columns["observed"]
    assert other.columns["observed_low"] != first.columns["observed_low"]


def test_calibration_curve_arguments() -> None:
    with pytest.raises(UndefinedMetricError, match="at least two rows"):
        calibration_curve([1], [0.3])
    with pytest.raises(InputError, match="level"):
        calibration_curve([0, 1], [0.3, 0.4], level=1.5)


def test_threshold_table_matches_the_scalar_metrics_and_wilson() -> None:
    y = [1, 1, 1, 0, 0, 0, 0, 0]
    s = [0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.4, 0.6]
    thresholds = [0.5, 0.05, 0.95, 0.35]
    table = threshold_table(y, s, thresholds, level=0.9)
    assert table.kind == "threshold" and table.level == 0.9
    assert table.columns["threshold"] == tuple(thresholds)
    assert table.columns["n_flagged"] == (4.0, 8.0, 0.0, 5.0)
    assert table.columns["defined"] == (1.0, 0.0, 0.0, 1.0)
    for name in ("flag_rate", "sensitivity", "specificity", "ppv", "npv"):
        metric = getattr(am, name)
        spec = am.get_metric(name)
        assert spec.counts is not None
        for row, t in enumerate(thresholds):
            value = table.columns[name][row]
            try:
                expected = metric(y, s, threshold=t)
            except UndefinedMetricError:
                assert value is None and table.columns["defined"][row] == 0.0
                continue
            assert value == pytest.approx(expected)
            low, high = wilson_interval(*spec.counts(y, s, threshold=t), 0.9)
            assert table.columns[f"{name}_low"][row] == pytest.approx(float(low))
            assert table.columns[f"{name}_high"][row] == pytest.approx(float(high))


def test_threshold_table_needs_both_classes() -> None:
    with pytest.raises(UndefinedMetricError, match="no positive cases"):
        threshold_table([0, 0], [0.1, 0.2], [0.5])
    with pytest.raises(InputError, match="thresholds"):
        threshold_table([0, 1], [0.1, 0.2], [])
