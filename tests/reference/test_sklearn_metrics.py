"""Assay's point metrics against scikit-learn on real data, to 1e-9.

Datasets (see ``conftest.py``): breast cancer and SUPPORT2 held-out predictions, the SUPPORT
model's own estimate (949 distinct values among 9,104 rows: ties), and the coma score as a rank
score (11 values: heavy ties); each unweighted, with integer weights and with continuous weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sklearn.calibration
import sklearn.metrics as skm
from numpy.typing import NDArray

import assay.errors as am_errors
import assay.metrics as am
from tests.reference.conftest import Binary, Multiclass, Regression

TOLERANCE = 1e-9
PROBABILITY_DATA = ["breast_cancer", "support2", "support2_model_estimate"]
ALL_BINARY_DATA = [*PROBABILITY_DATA, "support2_coma"]
WEIGHTINGS = ["unweighted", "integer", "continuous"]


def _weight(data: Binary, weighting: str) -> NDArray[Any] | None:
    return {"unweighted": None, "integer": data.integer_weight, "continuous": data.weight}[
        weighting
    ]


@pytest.fixture(params=ALL_BINARY_DATA)
def any_binary(request: pytest.FixtureRequest) -> Binary:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture(params=PROBABILITY_DATA)
def probability_binary(request: pytest.FixtureRequest) -> Binary:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_the_data_has_what_the_tests_claim(
    support2_model_estimate: Binary, support2_coma: Binary, breast_cancer: Binary
) -> None:
    assert np.unique(support2_model_estimate.p).size < support2_model_estimate.p.size / 5
    assert np.unique(support2_coma.p).size == 11
    assert 0 < breast_cancer.p.min() and breast_cancer.p.max() < 1


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(am.auroc, skm.roc_auc_score), (am.auprc, skm.average_precision_score)],
    ids=["auroc", "auprc"],
)
def test_ranking_metrics_match_sklearn(
    any_binary: Binary,
    weighting: str,
    ours: Callable[..., float],
    theirs: Callable[..., float],
) -> None:
    w = _weight(any_binary, weighting)
    expected = theirs(any_binary.y, any_binary.p, sample_weight=w)
    assert ours(any_binary.y, any_binary.p, sample_weight=w) == pytest.approx(
        expected, abs=TOLERANCE
    )


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_brier_matches_sklearn(probability_binary: Binary, weighting: str) -> None:
    data, w = probability_binary, _weight(probability_binary, weighting)
    expected = skm.brier_score_loss(data.y, data.p, sample_weight=w)
    assert am.brier(data.y, data.p, sample_weight=w) == pytest.approx(expected, abs=TOLERANCE)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("probability_binary", ["breast_cancer", "support2"], indirect=True)
def test_log_loss_matches_sklearn(probability_binary: Binary, weighting: str) -> None:
    data, w = probability_binary, _weight(probability_binary, weighting)
    expected = skm.log_loss(data.y, data.p, sample_weight=w)
    assert am.log_loss(data.y, data.p, sample_weight=w) == pytest.approx(expected, abs=TOLERANCE)


def test_log_loss_refuses_certain_wrong_predictions_that_sklearn_clips(
    support2_model_estimate: Binary,
) -> None:
    data = support2_model_estimate
    wrong = ((data.p == 1) & (data.y == 0)) | ((data.p == 0) & (data.y == 1))
    assert wrong.sum() == 2  # the SUPPORT model gave 2-month survival 0 to two survivors
    with pytest.raises(am_errors.UndefinedMetricError, match="infinite: 2 rows"):
        am.log_loss(data.y, data.p)
    keep = ~wrong
    assert am.log_loss(data.y[keep], data.p[keep]) == pytest.approx(
        skm.log_loss(data.y[keep], data.p[keep]), abs=TOLERANCE
    )


def test_rounding_the_probabilities_makes_ties_and_still_matches(breast_cancer: Binary) -> None:
    p = np.round(breast_cancer.p, 1)
    assert np.unique(p).size <= 11
    y, w = breast_cancer.y, breast_cancer.weight
    assert am.auroc(y, p, sample_weight=w) == pytest.approx(
        skm.roc_auc_score(y, p, sample_weight=w), abs=TOLERANCE
    )
    assert am.auprc(y, p, sample_weight=w) == pytest.approx(
        skm.average_precision_score(y, p, sample_weight=w), abs=TOLERANCE
    )


def _sklearn_at(name: str, y: NDArray[Any], flag: NDArray[Any], w: NDArray[Any] | None) -> float:
    table: dict[str, Callable[[], float]] = {
        "sensitivity": lambda: skm.recall_score(y, flag, sample_weight=w),
        "specificity": lambda: skm.recall_score(y, flag, pos_label=0, sample_weight=w),
        "ppv": lambda: skm.precision_score(y, flag, sample_weight=w),
        "npv": lambda: skm.precision_score(y, flag, pos_label=0, sample_weight=w),
        "f1": lambda: skm.f1_score(y, flag, sample_weight=w),
        "accuracy": lambda: skm.accuracy_score(y, flag, sample_weight=w),
    }
    return float(table[name]())


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("name", ["sensitivity", "specificity", "ppv", "npv", "f1", "accuracy"])
def test_threshold_metrics_match_sklearn(any_binary: Binary, weighting: str, name: str) -> None:
    data, w = any_binary, _weight(any_binary, weighting)
    distinct = np.unique(data.p)
    ours = getattr(am, name)
    for threshold in distinct[[distinct.size // 4, distinct.size // 2, 3 * distinct.size // 4]]:
        flag = (data.p >= threshold).astype(np.int64)
        expected = _sklearn_at(name, data.y, flag, w)
        got = ours(data.y, data.p, sample_weight=w, threshold=float(threshold))
        assert got == pytest.approx(expected, abs=TOLERANCE), (name, threshold)


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_metrics_match_sklearn(
    support2_disease_class: Multiclass, weighted: bool
) -> None:
    labels, probabilities = support2_disease_class.labels, support2_disease_class.probabilities
    w = support2_disease_class.weight if weighted else None
    predicted = probabilities.argmax(axis=1)
    expected = {
        "multiclass_auroc_macro": skm.roc_auc_score(
            labels, probabilities, multi_class="ovr", average="macro", sample_weight=w
        ),
        "multiclass_auroc_weighted": skm.roc_auc_score(
            labels, probabilities, multi_class="ovr", average="weighted", sample_weight=w
        ),
        "multiclass_accuracy": skm.accuracy_score(labels, predicted, sample_weight=w),
        "macro_f1": skm.f1_score(labels, predicted, average="macro", sample_weight=w),
    }
    for name, value in expected.items():
        got = getattr(am, name)(labels, probabilities, sample_weight=w)
        assert got == pytest.approx(value, abs=TOLERANCE), name
    assert len(np.unique(predicted)) >= 3  # the macro F1 covers several predicted classes


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_metrics_match_sklearn(support2_physiology: Regression, weighted: bool) -> None:
    y, prediction = support2_physiology.y, support2_physiology.prediction
    w = support2_physiology.weight if weighted else None
    expected = {
        "mae": skm.mean_absolute_error(y, prediction, sample_weight=w),
        "rmse": skm.root_mean_squared_error(y, prediction, sample_weight=w),
        "r2": skm.r2_score(y, prediction, sample_weight=w),
    }
    for name, value in expected.items():
        got = getattr(am, name)(y, prediction, sample_weight=w)
        assert got == pytest.approx(value, abs=TOLERANCE), name
    mean_gap = np.average(y, weights=w) - np.average(prediction, weights=w)
    assert am.calibration_in_the_large(y, prediction, sample_weight=w) == pytest.approx(
        mean_gap, abs=TOLERANCE
    )


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_roc_curve_points_match_sklearn(any_binary: Binary, weighting: str) -> None:
    w = _weight(any_binary, weighting)
    fpr, tpr, thresholds = skm.roc_curve(any_binary.y, any_binary.p, sample_weight=w)
    curve = am.roc_curve(any_binary.y, any_binary.p, sample_weight=w, max_points=None)
    np.testing.assert_allclose(curve.columns["fpr"], fpr, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(curve.columns["tpr"], tpr, atol=TOLERANCE, rtol=0)
    np.testing.assert_array_equal(curve.columns["threshold"][1:], thresholds[1:])


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_matches_sklearn(probability_binary: Binary, strategy: str) -> None:
    data = probability_binary
    observed, predicted = sklearn.calibration.calibration_curve(
        data.y, data.p, n_bins=10, strategy=strategy
    )
    curve = am.reliability_curve(data.y, data.p, n_bins=10, strategy=strategy)  # type: ignore[arg-type]
    np.testing.assert_allclose(curve.columns["observed"], observed, atol=1e-12, rtol=0)
    np.testing.assert_allclose(curve.columns["predicted"], predicted, atol=1e-12, rtol=0)
    assert sum(curve.columns["n"]) == data.y.size
