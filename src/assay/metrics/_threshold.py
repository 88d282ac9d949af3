"""Metrics at an operating threshold: a patient is flagged when ``score >= threshold``.

Every metric here has the signature ``fn(y_true, y_score, /, *, sample_weight=None,
threshold)``: ``y_true`` the 0/1 outcome, ``y_score`` any real score where higher means more
likely positive, ``sample_weight`` optional non-negative frequency weights and ``threshold``
the operating point (required). TP, FP, FN and TN below are weighted counts.

All of them read one weighted confusion matrix (:func:`assay.metrics._binary.confusion_counts`).
The proportions (sensitivity, specificity, false positive rate, PPV, NPV, accuracy, flag
rate) also register a ``counts`` function giving the unweighted numerator and denominator
for the Wilson interval.
"""

from __future__ import annotations

from collections.abc import Callable

from numpy.typing import ArrayLike

from assay.errors import UndefinedMetricError
from assay.metrics._binary import Cell, confusion_at
from assay.metrics._registry import (
    CountsFunction,
    MetricSpec,
    register_metric,
)


def _ratio(numerator: float, denominator: float, reason: str) -> float:
    if denominator <= 0:
        raise UndefinedMetricError(reason)
    return numerator / denominator


def _nobody_flagged(c: Cell) -> str:
    return f"nobody was flagged at threshold {c.threshold:g}"


def _everybody_flagged(c: Cell) -> str:
    return f"everybody was flagged at threshold {c.threshold:g}"


def _wilson_counts(select: Callable[[Cell], tuple[float, float]]) -> CountsFunction:
    """A ``counts(y_true, y_score, *, threshold)`` function for a proportion metric."""

    def counts(y_true: ArrayLike, y_score: ArrayLike, /, *, threshold: float) -> tuple[int, int]:
        successes, trials = select(confusion_at(y_true, y_score, None, threshold))
        return round(successes), round(trials)

    return counts


def _register(
    fn: Callable[..., float],
    title: str,
    description: str,
    *,
    greater_is_better: bool | None,
    ideal: float | None,
    wilson: Callable[[Cell], tuple[float, float]] | None = None,
) -> None:
    """Register a threshold metric; ``wilson`` selects its (successes, trials) if a proportion."""
    register_metric(
        MetricSpec(
            name=fn.__name__,
            fn=fn,
            title=title,
            task="binary",
            score_kind="threshold",
            greater_is_better=greater_is_better,
            interval="bootstrap" if wilson is None else "wilson",
            ideal=ideal,
            params=("threshold",),
            counts=None if wilson is None else _wilson_counts(wilson),
            description=f"{description} Flag = score >= threshold.",
            tags=frozenset({"threshold"}),
        )
    )


def sensitivity(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Sensitivity (recall, true positive rate): the share of cases that are flagged.

    ``TP / (TP + FN)`` with flag ``score >= threshold`` (Altman & Bland, 1994).

    Raises
    ------
    UndefinedMetricError
        With no positive cases.

    Examples
    --------
    >>> sensitivity([1, 1, 0, 1], [0.9, 0.2, 0.7, 0.5], threshold=0.5)
    0.6666666666666666
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.tp, c.positives, "no positive cases")


_register(
    sensitivity,
    "Sensitivity",
    "Share of cases flagged (recall).",
    greater_is_better=True,
    ideal=1.0,
    wilson=lambda c: (c.tp, c.positives),
)


def specificity(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Specificity (true negative rate): the share of non-cases that are not flagged.

    ``TN / (TN + FP)`` with flag ``score >= threshold`` (Altman & Bland, 1994).

    Raises
    ------
    UndefinedMetricError
        With no negative cases.
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.tn, c.negatives, "no negative cases")


_register(
    specificity,
    "Specificity",
    "Share of non-cases not flagged.",
    greater_is_better=True,
    ideal=1.0,
    wilson=lambda c: (c.tn, c.negatives),
)


def false_positive_rate(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """False positive rate: the share of non-cases that are flagged (1 − specificity).

    ``FP / (FP + TN)`` with flag ``score >= threshold``; with sensitivity, the second half of
    the equalized-odds criterion.

    Raises
    ------
    UndefinedMetricError
        With no negative cases.
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.fp, c.negatives, "no negative cases")


_register(
    false_positive_rate,
    "False positive rate",
    "Share of non-cases flagged (1 - specificity).",
    greater_is_better=False,
    ideal=0.0,
    wilson=lambda c: (c.fp, c.negatives),
)


def ppv(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Positive predictive value (precision): the share of flagged patients who are cases.

    ``TP / (TP + FP)`` with flag ``score >= threshold`` (Altman & Bland, 1994b).

    Raises
    ------
    UndefinedMetricError
        When nobody is flagged at the threshold.
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.tp, c.flagged, _nobody_flagged(c))


_register(
    ppv,
    "PPV",
    "Share of flagged patients who are cases (precision).",
    greater_is_better=True,
    ideal=1.0,
    wilson=lambda c: (c.tp, c.flagged),
)


def npv(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Negative predictive value: the share of patients not flagged who are not cases.

    ``TN / (TN + FN)`` with flag ``score >= threshold`` (Altman & Bland, 1994b).

    Raises
    ------
    UndefinedMetricError
        When everybody is flagged at the threshold.
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.tn, c.not_flagged, _everybody_flagged(c))


_register(
    npv,
    "NPV",
    "Share of patients not flagged who are not cases.",
    greater_is_better=True,
    ideal=1.0,
    wilson=lambda c: (c.tn, c.not_flagged),
)


def f1(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """F1 score: the harmonic mean of PPV and sensitivity.

    ``2 TP / (2 TP + FP + FN)`` with flag ``score >= threshold`` (van Rijsbergen, 1979).

    Raises
    ------
    UndefinedMetricError
        With no positive cases and nobody flagged (0/0).
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(
        2 * c.tp,
        2 * c.tp + c.fp + c.fn,
        f"no positive cases and nobody was flagged at threshold {c.threshold:g}",
    )


_register(
    f1, "F1 score", "Harmonic mean of PPV and sensitivity.", greater_is_better=True, ideal=1.0
)


def accuracy(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Accuracy: the share of patients whose flag matches their outcome.

    ``(TP + TN) / (TP + FP + FN + TN)`` with flag ``score >= threshold``.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.tp + c.tn, c.total, "no rows (or every weight is zero)")


_register(
    accuracy,
    "Accuracy",
    "Share of patients whose flag matches the outcome.",
    greater_is_better=True,
    ideal=1.0,
    wilson=lambda c: (c.tp + c.tn, c.total),
)


def flag_rate(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Flag rate: the share of patients flagged, the workload the threshold creates.

    ``(TP + FP) / (TP + FP + FN + TN)`` with flag ``score >= threshold``. The outcome is only
    used for its length; the rate is descriptive, with no better direction.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    return _ratio(c.flagged, c.total, "no rows (or every weight is zero)")


_register(
    flag_rate,
    "Flag rate",
    "Share of patients flagged (workload); descriptive, no better direction.",
    greater_is_better=None,
    ideal=None,
    wilson=lambda c: (c.flagged, c.total),
)


def lr_positive(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Positive likelihood ratio: how much a flag raises the odds of being a case.

    ``LR+ = sensitivity / (1 − specificity) = (TP / (TP + FN)) / (FP / (FP + TN))``
    (Deeks & Altman, 2004).

    Raises
    ------
    UndefinedMetricError
        With no positive or no negative cases, or specificity 1 (no false positives: LR+ is
        infinite).
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    sens = _ratio(c.tp, c.positives, "no positive cases")
    false_positive_rate = _ratio(c.fp, c.negatives, "no negative cases")
    return _ratio(
        sens,
        false_positive_rate,
        f"specificity is 1 at threshold {c.threshold:g} (no false positives), so LR+ is infinite",
    )


_register(
    lr_positive,
    "LR+",
    "Sensitivity / (1 - specificity).",
    greater_is_better=True,
    ideal=None,
)


def lr_negative(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Negative likelihood ratio: how much the absence of a flag lowers the odds of a case.

    ``LR− = (1 − sensitivity) / specificity = (FN / (TP + FN)) / (TN / (FP + TN))``
    (Deeks & Altman, 2004).

    Raises
    ------
    UndefinedMetricError
        With no positive or no negative cases, or specificity 0 (every non-case flagged).
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    miss_rate = _ratio(c.fn, c.positives, "no positive cases")
    spec = _ratio(c.tn, c.negatives, "no negative cases")
    return _ratio(
        miss_rate,
        spec,
        f"specificity is 0 at threshold {c.threshold:g} (every non-case was flagged), "
        "so LR- is infinite",
    )


_register(
    lr_negative,
    "LR-",
    "(1 - sensitivity) / specificity.",
    greater_is_better=False,
    ideal=0.0,
)


def nne(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Number needed to evaluate: flagged patients reviewed per case found, ``1 / PPV``.

    ``NNE = (TP + FP) / TP`` with flag ``score >= threshold`` (Romero-Brufau et al., 2015).

    Raises
    ------
    UndefinedMetricError
        When nobody is flagged, or no flagged patient is a case.
    """
    c = confusion_at(y_true, y_score, sample_weight, threshold)
    if c.flagged <= 0:
        raise UndefinedMetricError(_nobody_flagged(c))
    return _ratio(c.flagged, c.tp, f"no flagged patient is a case at threshold {c.threshold:g}")


_register(
    nne,
    "Number needed to evaluate",
    "Flagged patients reviewed per case found (1/PPV).",
    greater_is_better=False,
    ideal=1.0,
)
