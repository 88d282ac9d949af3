"""Binary-outcome basics: input coercion, the one weighted confusion-count helper, and the
threshold-free metrics (AUROC, average precision, Brier score, log loss).

Every metric has the signature ``fn(y_true, y_score, /, *, sample_weight=None)``: ``y_true``
the 0/1 outcome, ``y_score`` the score (a probability for the Brier score and log loss) and
``sample_weight`` optional non-negative frequency weights: an integer weight ``k`` gives the
same value as the row repeated ``k`` times, and rows of weight 0 are as if absent.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._inputs import (
    as_binary_target,
    as_float_array,
    as_weights,
    check_same_length,
)
from assay.metrics._registry import MetricSpec, register_metric

FloatArray = NDArray[np.float64]


def binary_inputs(
    y_true: ArrayLike,
    y_score: ArrayLike,
    sample_weight: ArrayLike | None,
    *,
    probability: bool = False,
) -> tuple[NDArray[np.int8], FloatArray, FloatArray]:
    """Coerce and check the inputs of a binary metric.

    Returns the 0/1 target, the float score and the weights (all ones when ``sample_weight``
    is ``None``, so weighted and unweighted calls share one code path). With
    ``probability=True`` a score outside [0, 1] is an :class:`~assay.errors.InputError`.
    """
    y = as_binary_target(y_true, "y_true")
    score = as_float_array(y_score, "y_score")
    n = check_same_length(y_true=y, y_score=score)
    weights = as_weights(sample_weight, n)
    if probability:
        outside = (score < 0) | (score > 1)
        if outside.any():
            raise InputError(
                f"y_score must be probabilities in [0, 1] (found {int(outside.sum())} rows "
                f"outside, e.g. {score[outside][0]:g})"
            )
    return y, score, np.ones(n) if weights is None else weights


def class_totals(y: NDArray[np.int8], weights: FloatArray) -> tuple[float, float]:
    """Weighted number of positive and negative cases; either being zero is undefined."""
    positives = float(np.sum(weights * y))
    negatives = float(weights.sum()) - positives
    if positives <= 0:
        raise UndefinedMetricError("no positive cases")
    if negatives <= 0:
        raise UndefinedMetricError("no negative cases")
    return positives, negatives


class Confusion(NamedTuple):
    """Weighted confusion counts, one entry per threshold (flag = ``score >= threshold``)."""

    tp: FloatArray
    fp: FloatArray
    fn: FloatArray
    tn: FloatArray


def confusion_counts(
    y: NDArray[np.int8], score: FloatArray, weights: FloatArray, thresholds: ArrayLike
) -> Confusion:
    """Weighted true/false positives/negatives at each threshold, in the order given.

    A row is flagged at threshold ``t`` when ``score >= t``. The counts for all thresholds come
    from one pass: each row is placed by binary search among the sorted thresholds and the
    per-slot weights are accumulated, so the cost is ``O(n log k)`` for ``k`` thresholds.
    This is the only place where Assay counts a confusion matrix.
    """
    t = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    order = np.argsort(t, kind="stable")
    # slot j = number of sorted thresholds <= score: flagged at sorted threshold i iff i < j
    slot = np.searchsorted(t[order], score, side="right")
    positive_weight = weights * y
    pos = np.bincount(slot, weights=positive_weight, minlength=t.size + 1)
    neg = np.bincount(slot, weights=weights - positive_weight, minlength=t.size + 1)
    tp, fp = np.empty(t.size), np.empty(t.size)
    fn, tn = np.empty(t.size), np.empty(t.size)
    tp[order] = np.cumsum(pos[::-1])[::-1][1:]
    fp[order] = np.cumsum(neg[::-1])[::-1][1:]
    fn[order] = np.cumsum(pos)[:-1]
    tn[order] = np.cumsum(neg)[:-1]
    return Confusion(tp=tp, fp=fp, fn=fn, tn=tn)


class Cell(NamedTuple):
    """Weighted confusion counts at one threshold."""

    tp: float
    fp: float
    fn: float
    tn: float
    threshold: float

    @property
    def positives(self) -> float:
        return self.tp + self.fn

    @property
    def negatives(self) -> float:
        return self.fp + self.tn

    @property
    def flagged(self) -> float:
        return self.tp + self.fp

    @property
    def not_flagged(self) -> float:
        return self.fn + self.tn

    @property
    def total(self) -> float:
        return self.tp + self.fp + self.fn + self.tn


def confusion_at(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None, threshold: float
) -> Cell:
    """Coerce the inputs and count the weighted confusion matrix at ``threshold``."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise InputError(f"threshold must be a number, got {threshold!r}")
    if not math.isfinite(threshold):
        raise InputError(f"threshold must be finite, got {threshold}")
    y, score, weights = binary_inputs(y_true, y_score, sample_weight)
    c = confusion_counts(y, score, weights, [threshold])
    return Cell(float(c.tp[0]), float(c.fp[0]), float(c.fn[0]), float(c.tn[0]), threshold)


def ranked_confusion(
    y: NDArray[np.int8], score: FloatArray, weights: FloatArray
) -> tuple[FloatArray, Confusion]:
    """The distinct scores (ascending) and the confusion counts with each as the threshold."""
    distinct = np.unique(score)
    return distinct, confusion_counts(y, score, weights, distinct)


def auroc(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Area under the ROC curve: the probability that a random case outranks a random control.

    .. math:: \\mathrm{AUROC} = \\frac{\\sum_{i:y_i=1}\\sum_{j:y_j=0} w_i w_j
              \\left([s_i > s_j] + \\tfrac12 [s_i = s_j]\\right)}{W_1 W_0}

    with ``W_1``, ``W_0`` the total weight of cases and controls (Hanley & McNeil, 1982). Ties
    count one half, which is the trapezoidal area under the empirical ROC curve.

    Parameters
    ----------
    y_true
        0/1 outcome.
    y_score
        Any score where higher means more likely positive; only its ranking is used.
    sample_weight
        Optional non-negative frequency weights.

    Raises
    ------
    UndefinedMetricError
        With no positive or no negative cases.

    Examples
    --------
    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, score, weights = binary_inputs(y_true, y_score, sample_weight)
    positives, negatives = class_totals(y, weights)
    _, c = ranked_confusion(y, score, weights)
    tp, fp = np.append(c.tp, 0.0), np.append(c.fp, 0.0)
    area = np.sum((fp[:-1] - fp[1:]) * (tp[:-1] + tp[1:])) / 2
    return float(area / (positives * negatives))


register_metric(
    MetricSpec(
        name="auroc",
        fn=auroc,
        title="AUROC",
        task="binary",
        score_kind="rank",
        greater_is_better=True,
        interval="delong",
        ideal=1.0,
        description="Area under the ROC curve (ties count one half).",
        tags=frozenset({"discrimination"}),
    )
)


def auprc(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Area under the precision-recall curve, as average precision.

    .. math:: \\mathrm{AP} = \\sum_k (R_k - R_{k+1})\\, P_k

    over the distinct score values ``t_k`` taken as thresholds (flag ``score >= t_k``), with
    ``P_k`` and ``R_k`` the weighted precision and recall there and ``R`` of the threshold
    above the highest score equal to 0. This is the step-wise (not interpolated) definition of
    scikit-learn's ``average_precision_score`` (Boyd, Eng & Page, 2013). Its value for a random
    score is the prevalence.

    Parameters
    ----------
    y_true
        0/1 outcome.
    y_score
        Any score where higher means more likely positive; only its ranking is used.
    sample_weight
        Optional non-negative frequency weights.

    Raises
    ------
    UndefinedMetricError
        With no positive cases.

    Examples
    --------
    >>> round(auprc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y, score, weights = binary_inputs(y_true, y_score, sample_weight)
    positives = float(np.sum(weights * y))
    if positives <= 0:
        raise UndefinedMetricError("no positive cases")
    _, c = ranked_confusion(y, score, weights)
    flagged = c.tp + c.fp
    precision = np.divide(c.tp, flagged, out=np.zeros_like(flagged), where=flagged > 0)
    recall_step = (c.tp - np.append(c.tp[1:], 0.0)) / positives
    return float(np.sum(recall_step * precision))


register_metric(
    MetricSpec(
        name="auprc",
        fn=auprc,
        title="AUPRC (average precision)",
        task="binary",
        score_kind="rank",
        greater_is_better=True,
        ideal=1.0,
        description="Average precision: precision averaged over the recall steps.",
        tags=frozenset({"discrimination"}),
    )
)


def brier(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Brier score: the weighted mean squared difference between probability and outcome.

    .. math:: \\mathrm{BS} = \\frac{\\sum_i w_i (p_i - y_i)^2}{\\sum_i w_i}

    (Brier, 1950). 0 is perfect; always predicting the prevalence ``π`` scores ``π(1 − π)``.

    Raises
    ------
    UndefinedMetricError
        When all weights are zero.

    Examples
    --------
    >>> round(brier([0, 1], [0.2, 0.6]), 4)
    0.1
    """
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    return float(np.sum(weights * (p - y) ** 2) / total_weight(weights))


register_metric(
    MetricSpec(
        name="brier",
        fn=brier,
        title="Brier score",
        task="binary",
        score_kind="probability",
        greater_is_better=False,
        ideal=0.0,
        description="Mean squared difference between predicted probability and outcome.",
        tags=frozenset({"calibration", "overall"}),
    )
)


def log_loss(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Log loss (cross-entropy): the weighted mean negative log-likelihood of the outcomes.

    .. math:: \\mathrm{LL} = -\\frac{\\sum_i w_i \\left(y_i \\ln p_i +
              (1 - y_i) \\ln(1 - p_i)\\right)}{\\sum_i w_i}

    No clipping is applied: a probability of exactly 0 for an outcome that occurred (or 1 for
    one that did not) makes the loss infinite, which is reported as undefined instead
    (Good, 1952).

    Raises
    ------
    UndefinedMetricError
        When some rows have probability 0 or 1 for the wrong outcome (the message says how
        many), or all weights are zero.

    Examples
    --------
    >>> round(log_loss([0, 1], [0.2, 0.6]), 4)
    0.367
    """
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    total = total_weight(weights)
    used = weights > 0
    prob_of_outcome = np.where(y[used] == 1, p[used], 1 - p[used])
    impossible = int(np.count_nonzero(prob_of_outcome == 0))
    if impossible:
        raise UndefinedMetricError(
            f"log loss is infinite: {impossible} rows have a predicted probability of exactly "
            "0 or 1 for the outcome that did not happen"
        )
    return float(-np.sum(weights[used] * np.log(prob_of_outcome)) / total)


register_metric(
    MetricSpec(
        name="log_loss",
        fn=log_loss,
        title="Log loss",
        task="binary",
        score_kind="probability",
        greater_is_better=False,
        ideal=0.0,
        description="Mean negative log-likelihood of the observed outcomes.",
        tags=frozenset({"calibration", "overall"}),
    )
)


def total_weight(weights: FloatArray) -> float:
    """The sum of the weights; zero total weight leaves every metric undefined."""
    total = float(weights.sum())
    if total <= 0:
        raise UndefinedMetricError("no rows (or every weight is zero)")
    return total
