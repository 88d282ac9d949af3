"""Multiclass metrics on a small hand-computed case."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import (
    auroc,
    macro_f1,
    multiclass_accuracy,
    multiclass_auroc_macro,
    multiclass_auroc_weighted,
)

LABELS = [0, 0, 1, 1, 2, 2, 2]
SCORES = [
    [0.7, 0.2, 0.1],  # predicted 0 (right)
    [0.3, 0.6, 0.1],  # predicted 1 (wrong)
    [0.2, 0.5, 0.3],  # predicted 1 (right)
    [0.5, 0.4, 0.1],  # predicted 0 (wrong)
    [0.1, 0.2, 0.7],  # predicted 2 (right)
    [0.2, 0.2, 0.6],  # predicted 2 (right)
    [0.3, 0.3, 0.4],  # predicted 2 (right)
]


def _one_vs_rest() -> list[float]:
    scores = np.array(SCORES)
    return [auroc(np.equal(LABELS, c).astype(int), scores[:, c]) for c in range(3)]


def test_accuracy_of_the_highest_score() -> None:
    assert multiclass_accuracy(LABELS, SCORES) == pytest.approx(5 / 7)


def test_macro_f1_by_hand() -> None:
    # class 0: TP 1, FP 1, FN 1 -> 1/2; class 1: TP 1, FP 1, FN 1 -> 1/2; class 2: 1
    assert macro_f1(LABELS, SCORES) == pytest.approx((0.5 + 0.5 + 1.0) / 3)


def test_one_vs_rest_aurocs() -> None:
    per_class = _one_vs_rest()
    # class 0 scores: cases 0.7, 0.3 against 0.2, 0.5, 0.1, 0.2, 0.3: 5 + 3.5 of 10
    assert per_class[0] == pytest.approx(8.5 / 10)
    assert multiclass_auroc_macro(LABELS, SCORES) == pytest.approx(np.mean(per_class))
    expected = np.dot([2, 2, 3], per_class) / 7
    assert multiclass_auroc_weighted(LABELS, SCORES) == pytest.approx(expected)


def test_weights_are_frequencies() -> None:
    counts = [1, 2, 1, 1, 3, 1, 2]
    labels, scores = np.repeat(LABELS, counts), np.repeat(SCORES, counts, axis=0)
    for metric in (
        multiclass_accuracy,
        macro_f1,
        multiclass_auroc_macro,
        multiclass_auroc_weighted,
    ):
        assert metric(LABELS, SCORES, sample_weight=counts) == pytest.approx(metric(labels, scores))


def test_a_class_without_cases() -> None:
    labels = [0, 0, 1, 1]
    scores = [[0.6, 0.3, 0.1], [0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.3, 0.4, 0.3]]
    with pytest.raises(UndefinedMetricError, match="class 2 has no cases"):
        multiclass_auroc_macro(labels, scores)
    assert multiclass_auroc_weighted(labels, scores) == pytest.approx(1.0)
    for metric in (multiclass_auroc_macro, multiclass_auroc_weighted):
        with pytest.raises(UndefinedMetricError, match="only one class is present"):
            metric([1, 1], scores[:2])


def test_input_checks() -> None:
    with pytest.raises(InputError, match=r"class labels 0 to 2 .*found 3 in 1 rows"):
        multiclass_accuracy([0, 3], SCORES[:2])
    with pytest.raises(InputError, match=r"found 0.5 in 1 rows"):
        multiclass_accuracy([0, 0.5], SCORES[:2])
    with pytest.raises(InputError, match=r"\(n, k\) matrix"):
        multiclass_accuracy([0, 1], [0.2, 0.8])
    with pytest.raises(InputError, match="different lengths"):
        multiclass_accuracy([0, 1, 2], SCORES[:2])
