"""Regression metrics: errors of a predicted value against the observed value.

Every metric has the signature ``fn(y_true, y_score, /, *, sample_weight=None)``: ``y_true``
the observed values, ``y_score`` the predictions on the same scale and ``sample_weight``
optional non-negative frequency weights ``w``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import UndefinedMetricError
from assay.metrics._inputs import as_float_array, as_weights, check_same_length
from assay.metrics._registry import MetricSpec, register_metric

FloatArray = NDArray[np.float64]


def _regression_inputs(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Observed values, predictions and weights normalised to sum to one."""
    y = as_float_array(y_true, "y_true")
    prediction = as_float_array(y_score, "y_score")
    n = check_same_length(y_true=y, y_score=prediction)
    weights = as_weights(sample_weight, n)
    w = np.ones(n) if weights is None else weights
    total = float(w.sum())
    if total <= 0:
        raise UndefinedMetricError("no rows (or every weight is zero)")
    return y, prediction, w / total


def mae(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean absolute error, ``Σ w |y − ŷ| / Σ w``, on the scale of the target.

    Examples
    --------
    >>> mae([1.0, 2.0, 4.0], [1.5, 2.0, 3.0])
    0.5
    """
    y, prediction, w = _regression_inputs(y_true, y_score, sample_weight)
    return float(np.sum(w * np.abs(y - prediction)))


register_metric(
    MetricSpec(
        name="mae",
        fn=mae,
        title="Mean absolute error",
        task="regression",
        score_kind="value",
        greater_is_better=False,
        ideal=0.0,
        description="Mean absolute difference between prediction and observed value.",
        tags=frozenset({"error"}),
    )
)


def rmse(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Root mean squared error, ``sqrt(Σ w (y − ŷ)² / Σ w)``, on the scale of the target.

    Examples
    --------
    >>> rmse([0.0, 0.0, 0.0, 0.0], [3.0, 3.0, 3.0, 3.0])
    3.0
    """
    y, prediction, w = _regression_inputs(y_true, y_score, sample_weight)
    return math.sqrt(float(np.sum(w * (y - prediction) ** 2)))


register_metric(
    MetricSpec(
        name="rmse",
        fn=rmse,
        title="Root mean squared error",
        task="regression",
        score_kind="value",
        greater_is_better=False,
        ideal=0.0,
        description="Square root of the mean squared difference between prediction and value.",
        tags=frozenset({"error"}),
    )
)


def r2(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Coefficient of determination, ``1 − Σ w (y − ŷ)² / Σ w (y − ȳ)²`` with ``ȳ`` the
    weighted mean of ``y``; 1 is perfect, 0 is no better than predicting the mean, and it can
    be negative.

    Raises
    ------
    UndefinedMetricError
        When the observed values are all equal (no variance to explain).
    """
    y, prediction, w = _regression_inputs(y_true, y_score, sample_weight)
    residual = float(np.sum(w * (y - prediction) ** 2))
    total = float(np.sum(w * (y - np.sum(w * y)) ** 2))
    if total <= 0:
        raise UndefinedMetricError("the observed values are all equal (no variance to explain)")
    return 1.0 - residual / total


register_metric(
    MetricSpec(
        name="r2",
        fn=r2,
        title="R²",
        task="regression",
        score_kind="value",
        greater_is_better=True,
        ideal=1.0,
        description="Share of the variance of the observed values explained by the prediction.",
        tags=frozenset({"error"}),
    )
)


def calibration_in_the_large(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Calibration-in-the-large for a continuous target: ``mean(y) − mean(ŷ)`` (weighted).

    0 is ideal; a positive value means the predictions are too low on average.

    Examples
    --------
    >>> calibration_in_the_large([2.0, 4.0], [1.0, 3.0])
    1.0
    """
    y, prediction, w = _regression_inputs(y_true, y_score, sample_weight)
    return float(np.sum(w * (y - prediction)))


register_metric(
    MetricSpec(
        name="calibration_in_the_large",
        fn=calibration_in_the_large,
        title="Calibration-in-the-large",
        task="regression",
        score_kind="value",
        greater_is_better=None,
        ideal=0.0,
        description="Mean observed value minus mean prediction.",
        tags=frozenset({"calibration"}),
    )
)
