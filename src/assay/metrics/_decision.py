"""Decision analysis: net benefit, decision curves and choosing an operating threshold."""

from __future__ import annotations

import math
from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._binary import (
    binary_inputs,
    class_totals,
    confusion_counts,
    ranked_confusion,
    total_weight,
)
from assay.metrics._curves import Curve
from assay.metrics._registry import MetricSpec, register_metric

FloatArray = NDArray[np.float64]

DEFAULT_THRESHOLDS: FloatArray = np.round(np.arange(1, 100) / 100, 2)
"""Threshold probabilities 0.01, 0.02, ..., 0.99 (0 and 1 are excluded: the exchange rate
``t / (1 − t)`` is 0 or infinite there)."""


def _net_benefits(
    y: NDArray[np.int8], p: FloatArray, weights: FloatArray, thresholds: FloatArray
) -> FloatArray:
    """``TP/n − FP/n · t/(1 − t)`` at each threshold ``t`` (flag ``p >= t``)."""
    if np.any(~np.isfinite(thresholds) | (thresholds <= 0) | (thresholds >= 1)):
        raise InputError("threshold probabilities must lie strictly between 0 and 1")
    total = total_weight(weights)
    c = confusion_counts(y, p, weights, thresholds)
    return np.asarray(c.tp / total - c.fp / total * thresholds / (1 - thresholds))


def net_benefit(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    threshold: float,
) -> float:
    """Net benefit of treating the patients flagged at a threshold probability.

    .. math:: \\mathrm{NB}(t) = \\frac{TP}{n} - \\frac{FP}{n} \\cdot \\frac{t}{1 - t}

    with weighted counts and flag ``p >= t``: true positives found per patient, minus false
    positives weighted by the exchange rate a clinician accepts at threshold ``t``
    (Vickers & Elkin, 2006). Compare with treating everybody and nobody (0), see
    :func:`decision_curve`.

    Raises
    ------
    InputError
        When ``threshold`` is not strictly between 0 and 1.
    UndefinedMetricError
        With no rows (or all weights zero).

    Examples
    --------
    >>> net_benefit([1, 0, 1, 0], [0.8, 0.6, 0.3, 0.1], threshold=0.5)
    0.0
    """
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    return float(_net_benefits(y, p, weights, np.array([threshold], dtype=np.float64))[0])


register_metric(
    MetricSpec(
        name="net_benefit",
        fn=net_benefit,
        title="Net benefit",
        task="binary",
        score_kind="probability",
        greater_is_better=True,
        params=("threshold",),
        description="TP/n - FP/n * t/(1-t) at threshold probability t (Vickers & Elkin).",
        tags=frozenset({"decision", "threshold"}),
    )
)


def decision_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    thresholds: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> Curve:
    """Decision curve: net benefit of the model, of treating all and of treating none.

    Parameters
    ----------
    y_true, y_score
        0/1 outcome and predicted probability.
    thresholds
        Threshold probabilities, strictly between 0 and 1; by default 0.01 to 0.99 by 0.01.
    sample_weight
        Optional frequency weights.

    Returns
    -------
    Curve
        ``kind="decision"`` with columns ``threshold``, ``model`` (:func:`net_benefit`),
        ``treat_all`` (``π − (1 − π) t/(1 − t)`` with ``π`` the prevalence) and ``treat_none``
        (0), one row per threshold in the order given.
    """
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    t = DEFAULT_THRESHOLDS if thresholds is None else np.atleast_1d(np.asarray(thresholds, float))
    if t.ndim != 1 or t.size == 0:
        raise InputError("thresholds must be a non-empty list of probabilities")
    model = _net_benefits(y, p, weights, t)
    prevalence = float(np.sum(weights * y)) / total_weight(weights)
    treat_all = prevalence - (1 - prevalence) * t / (1 - t)
    return Curve(
        kind="decision",
        columns={
            "threshold": t.tolist(),
            "model": model.tolist(),
            "treat_all": treat_all.tolist(),
            "treat_none": np.zeros(t.size).tolist(),
        },
        n=int(y.size),
        n_events=int(y.sum()),
    )


def select_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    rule: Literal["sensitivity", "flag_rate", "youden"],
    target: float | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Choose an operating threshold among the observed score values (flag ``score >= t``).

    Parameters
    ----------
    rule
        ``"sensitivity"``: the highest threshold whose sensitivity is at least ``target``
        (the fewest flags that still find that share of cases).
        ``"flag_rate"``: the lowest threshold whose flag rate is at most ``target`` (the most
        cases found within a workload budget).
        ``"youden"``: the threshold maximising sensitivity + specificity − 1; among thresholds
        within 1e-12 of the maximum, the highest (fewest flags) is chosen.
    target
        The sensitivity or flag rate in [0, 1]; not used with ``"youden"``.
    sample_weight
        Optional frequency weights.

    Raises
    ------
    UndefinedMetricError
        With no positive cases (sensitivity, Youden), no negative cases (Youden), or when even
        the highest score flags more than ``target`` of patients.

    Examples
    --------
    >>> select_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], rule="sensitivity", target=0.5)
    0.8
    """
    if rule not in ("sensitivity", "flag_rate", "youden"):
        raise InputError(f"rule must be 'sensitivity', 'flag_rate' or 'youden', got {rule!r}")
    if rule == "youden":
        if target is not None:
            raise InputError("target is not used with rule='youden'")
    elif target is None or not (math.isfinite(target) and 0 <= target <= 1):
        raise InputError(f"rule={rule!r} needs a target between 0 and 1, got {target!r}")
    y, score, weights = binary_inputs(y_true, y_score, sample_weight)
    total = total_weight(weights)
    distinct, c = ranked_confusion(y, score, weights)  # thresholds ascending
    if rule == "flag_rate":
        within = np.flatnonzero((c.tp + c.fp) / total <= cast(float, target))
        if within.size == 0:
            highest = float((c.tp + c.fp)[-1] / total)
            raise UndefinedMetricError(
                f"no observed score flags at most {target:g} of patients; the highest score "
                f"alone flags {highest:.4g}"
            )
        return float(distinct[within[0]])
    positives, negatives = (
        class_totals(y, weights) if rule == "youden" else (float(c.tp[0]), math.nan)
    )
    if positives <= 0:
        raise UndefinedMetricError("no positive cases")
    if rule == "sensitivity":
        reaching = np.flatnonzero(c.tp / positives >= cast(float, target))
        return float(distinct[reaching[-1]])
    youden = c.tp / positives - c.fp / negatives
    best = np.flatnonzero(youden >= youden.max() - 1e-12)
    return float(distinct[best[-1]])
