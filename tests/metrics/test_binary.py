"""AUROC, average precision, Brier score, log loss and the confusion-count helper."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import auprc, auroc, brier, log_loss
from assay.metrics._binary import confusion_counts

Y = [0, 0, 1, 1]
S = [0.1, 0.4, 0.35, 0.8]


def test_auroc_counts_concordant_pairs() -> None:
    # cases 0.35 and 0.8 against controls 0.1 and 0.4: 3 of 4 pairs ranked right
    assert auroc(Y, S) == 0.75


def test_auroc_counts_ties_one_half() -> None:
    # case 0.5 ties control 0.5 (1/2), beats 0.2 (1); case 0.9 beats both (2): 3.5 / 4
    assert auroc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875
    assert auroc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]) == 0.5


def test_auroc_extremes_and_reversal() -> None:
    assert auroc([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0
    assert auroc([0, 0, 1, 1], [4, 3, 2, 1]) == 0.0
    assert auroc(Y, -np.asarray(S)) == pytest.approx(1 - auroc(Y, S))


def test_auroc_weights_are_frequencies() -> None:
    weighted = auroc(Y, S, sample_weight=[2, 1, 1, 3])
    counts = [2, 1, 1, 3]
    assert weighted == pytest.approx(auroc(np.repeat(Y, counts), np.repeat(S, counts)))
    # 2x control 0.1 + control 0.4 against case 0.35 and 3x case 0.8: (2 + 0) + 3*(2 + 1) = 11
    assert weighted == pytest.approx(11 / (3 * 4))


@pytest.mark.parametrize(
    ("y", "reason"), [([0, 0, 0], "no positive cases"), ([1, 1, 1], "no negative cases")]
)
def test_auroc_needs_both_classes(y: list[int], reason: str) -> None:
    with pytest.raises(UndefinedMetricError, match=reason):
        auroc(y, [0.1, 0.2, 0.3])


def test_auroc_with_all_positive_weight_on_one_class_is_undefined() -> None:
    with pytest.raises(UndefinedMetricError, match="no negative cases"):
        auroc(Y, S, sample_weight=[0, 0, 1, 1])


def test_auprc_is_step_wise_average_precision() -> None:
    # thresholds 0.8, 0.4, 0.35: recall steps 1/2, 0, 1/2 at precision 1, 1/2, 2/3
    assert auprc(Y, S) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_auprc_with_tied_scores() -> None:
    # at 0.5 one case and one control (P=1/2, R=1/2); at 0.1 P=2/3, R=1
    assert auprc([1, 0, 1], [0.5, 0.5, 0.1]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)


def test_auprc_is_one_without_negatives_and_undefined_without_positives() -> None:
    assert auprc([1, 1], [0.2, 0.9]) == 1.0
    with pytest.raises(UndefinedMetricError, match="no positive cases"):
        auprc([0, 0], [0.2, 0.9])


def test_brier_is_weighted_mean_squared_error() -> None:
    assert brier([0, 1], [0.2, 0.6]) == pytest.approx(0.1)
    assert brier([0, 1], [0.2, 0.6], sample_weight=[3, 1]) == pytest.approx((0.12 + 0.16) / 4)
    assert brier([0, 1], [0.0, 1.0]) == 0.0


def test_brier_rejects_non_probabilities() -> None:
    with pytest.raises(InputError, match=r"probabilities in \[0, 1\] \(found 1 rows outside"):
        brier([0, 1], [0.2, 1.5])


def test_log_loss_value() -> None:
    assert log_loss([0, 1], [0.2, 0.6]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_log_loss_accepts_certain_right_predictions() -> None:
    assert log_loss([0, 1, 1], [0.0, 1.0, 0.5]) == pytest.approx(math.log(2) / 3)


def test_log_loss_refuses_certain_wrong_predictions() -> None:
    with pytest.raises(UndefinedMetricError, match="infinite: 2 rows"):
        log_loss([1, 0, 1], [0.0, 1.0, 0.5])


def test_log_loss_ignores_impossible_rows_of_weight_zero() -> None:
    value = log_loss([1, 0, 1], [0.0, 0.2, 0.5], sample_weight=[0, 1, 1])
    assert value == pytest.approx(log_loss([0, 1], [0.2, 0.5]))


@pytest.mark.parametrize("metric", [auroc, auprc, brier, log_loss])
def test_metrics_reject_bad_inputs(metric: Callable[..., float]) -> None:
    with pytest.raises(InputError, match=r"y_true must contain only 0/1 \(found 2 in 1 rows\)"):
        metric([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="different lengths"):
        metric([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="NaN or infinite values in 1 rows"):
        metric([0, 1], [0.1, math.nan])
    with pytest.raises(InputError, match="negative values"):
        metric([0, 1], [0.1, 0.2], sample_weight=[1, -1])


def test_confusion_counts_at_several_thresholds_in_the_given_order() -> None:
    y = np.array([1, 1, 0, 1, 0], dtype=np.int8)
    score = np.array([0.9, 0.2, 0.7, 0.5, 0.5])
    weights = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    c = confusion_counts(y, score, weights, [0.5, 0.95, 0.0, 0.7])
    for k, t in enumerate([0.5, 0.95, 0.0, 0.7]):
        flag = score >= t
        assert c.tp[k] == np.sum(weights * (flag & (y == 1)))
        assert c.fp[k] == np.sum(weights * (flag & (y == 0)))
        assert c.fn[k] == np.sum(weights * (~flag & (y == 1)))
        assert c.tn[k] == np.sum(weights * (~flag & (y == 0)))
    # a score equal to the threshold is flagged: at 0.5 cases 0.9, 0.5 and controls 0.7, 0.5
    assert (c.tp[0], c.fp[0], c.fn[0], c.tn[0]) == (2.0, 4.0, 2.0, 0.0)
