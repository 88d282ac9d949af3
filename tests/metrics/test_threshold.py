"""Metrics at an operating threshold, on a small table counted by hand."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import assay.metrics as am
from assay.errors import InputError, UndefinedMetricError
from assay.metrics import get_metric

# flag = score >= 0.5: cases 0.9, 0.8 flagged, 0.3 missed; controls 0.7, 0.6 flagged,
# 0.2, 0.1, 0.4 not: TP = 2, FP = 2, FN = 1, TN = 3
Y = [1, 1, 1, 0, 0, 0, 0, 0]
S = [0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.4, 0.6]

EXPECTED = {
    "sensitivity": 2 / 3,
    "specificity": 3 / 5,
    "ppv": 2 / 4,
    "npv": 3 / 4,
    "f1": 4 / 7,
    "accuracy": 5 / 8,
    "flag_rate": 4 / 8,
    "lr_positive": (2 / 3) / (2 / 5),
    "lr_negative": (1 / 3) / (3 / 5),
    "nne": 2.0,
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_value_at_threshold(name: str, expected: float) -> None:
    assert getattr(am, name)(Y, S, threshold=0.5) == pytest.approx(expected, rel=1e-15)


def test_a_score_equal_to_the_threshold_is_flagged() -> None:
    assert am.flag_rate(Y, S, threshold=0.6) == 4 / 8
    assert am.flag_rate(Y, S, threshold=0.6000001) == 3 / 8


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("sensitivity", (2, 3)),
        ("specificity", (3, 5)),
        ("ppv", (2, 4)),
        ("npv", (3, 4)),
        ("accuracy", (5, 8)),
        ("flag_rate", (4, 8)),
    ],
)
def test_proportions_register_wilson_counts(name: str, counts: tuple[int, int]) -> None:
    spec = get_metric(name)
    assert spec.interval == "wilson"
    assert spec.counts is not None
    got = spec.counts(Y, S, threshold=0.5)
    assert got == counts
    assert all(isinstance(v, int) for v in got)


@pytest.mark.parametrize("name", ["f1", "lr_positive", "lr_negative", "nne"])
def test_ratios_use_the_bootstrap(name: str) -> None:
    spec = get_metric(name)
    assert (spec.interval, spec.counts, spec.params) == ("bootstrap", None, ("threshold",))


def test_weights_count_as_frequencies() -> None:
    weights = [1, 2, 1, 1, 1, 1, 1, 3]  # case 0.8 twice, control 0.6 three times
    # TP = 3, FN = 1, FP = 1 + 3 = 4, TN = 3
    assert am.sensitivity(Y, S, threshold=0.5, sample_weight=weights) == 3 / 4
    assert am.ppv(Y, S, threshold=0.5, sample_weight=weights) == 3 / 7
    assert am.specificity(Y, S, threshold=0.5, sample_weight=weights) == 3 / 7


@pytest.mark.parametrize(
    ("metric", "threshold", "reason"),
    [
        (am.ppv, 0.95, "nobody was flagged at threshold 0.95"),
        (am.nne, 0.95, "nobody was flagged at threshold 0.95"),
        (am.npv, 0.0, "everybody was flagged at threshold 0"),
        (am.lr_positive, 0.75, "specificity is 1 at threshold 0.75"),
        (am.lr_negative, 0.1, "specificity is 0 at threshold 0.1"),
    ],
)
def test_undefined_at_threshold(
    metric: Callable[..., float], threshold: float, reason: str
) -> None:
    with pytest.raises(UndefinedMetricError, match=reason):
        metric(Y, S, threshold=threshold)


@pytest.mark.parametrize(
    ("metric", "reason"),
    [
        (am.sensitivity, "no positive cases"),
        (am.lr_positive, "no positive cases"),
        (am.lr_negative, "no positive cases"),
    ],
)
def test_undefined_without_cases(metric: Callable[..., float], reason: str) -> None:
    with pytest.raises(UndefinedMetricError, match=reason):
        metric([0, 0, 0], [0.2, 0.4, 0.9], threshold=0.5)


def test_nne_undefined_when_no_flagged_patient_is_a_case() -> None:
    with pytest.raises(
        UndefinedMetricError, match=r"no flagged patient is a case at threshold 0\.5"
    ):
        am.nne([0, 1], [0.9, 0.2], threshold=0.5)


def test_specificity_undefined_without_controls() -> None:
    with pytest.raises(UndefinedMetricError, match="no negative cases"):
        am.specificity([1, 1], [0.2, 0.9], threshold=0.5)


def test_f1_undefined_without_cases_and_flags() -> None:
    with pytest.raises(UndefinedMetricError, match="no positive cases and nobody was flagged"):
        am.f1([0, 0], [0.2, 0.3], threshold=0.5)
    assert am.f1([0, 0], [0.2, 0.9], threshold=0.5) == 0.0


def test_accuracy_undefined_with_zero_weight() -> None:
    with pytest.raises(UndefinedMetricError, match="every weight is zero"):
        am.accuracy([0, 1], [0.2, 0.9], threshold=0.5, sample_weight=[0, 0])


def test_threshold_must_be_a_finite_number() -> None:
    with pytest.raises(InputError, match="threshold must be finite"):
        am.sensitivity(Y, S, threshold=math.nan)
    with pytest.raises(InputError, match="threshold must be a number"):
        am.sensitivity(Y, S, threshold="0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        am.sensitivity(Y, S)  # type: ignore[call-arg]


def test_any_real_score_works_with_its_own_threshold() -> None:
    lab_value = np.array(S) * 100 - 20  # a score on another scale
    assert am.sensitivity(Y, lab_value, threshold=30.0) == EXPECTED["sensitivity"]
