"""Multiclass metrics: ``y_true`` holds class labels ``0 .. k−1`` and ``y_score`` is an
``(n, k)`` matrix whose column ``c`` scores class ``c`` (class probabilities).

The predicted class is the column with the highest score (the first one on ties, as
``numpy.argmax``). ``sample_weight`` acts as frequency weights.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._binary import auroc
from assay.metrics._inputs import as_float_array, as_weights, check_same_length
from assay.metrics._registry import MetricSpec, register_metric

FloatArray = NDArray[np.float64]


def _multiclass_inputs(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Class labels, the score matrix and the weights (ones when ``None``)."""
    scores = np.asarray(y_score, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise InputError(
            f"y_score must be an (n, k) matrix of class scores with k >= 2, got shape "
            f"{scores.shape}"
        )
    bad = ~np.isfinite(scores).all(axis=1)
    if bad.any():
        raise InputError(f"y_score contains NaN or infinite values in {int(bad.sum())} rows")
    labels = as_float_array(y_true, "y_true")
    k = scores.shape[1]
    invalid = (labels != np.round(labels)) | (labels < 0) | (labels >= k)
    if invalid.any():
        examples = ", ".join(f"{v:g}" for v in np.unique(labels[invalid])[:3])
        raise InputError(
            f"y_true must hold class labels 0 to {k - 1} matching the columns of y_score "
            f"(found {examples} in {int(invalid.sum())} rows)"
        )
    n = check_same_length(y_true=labels, y_score=scores)
    weights = as_weights(sample_weight, n)
    return labels.astype(np.intp), scores, np.ones(n) if weights is None else weights


def _one_vs_rest_auroc(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    """AUROC of each class against the rest, and each class's weighted prevalence."""
    labels, scores, weights = _multiclass_inputs(y_true, y_score, sample_weight)
    k = scores.shape[1]
    prevalence = np.bincount(labels, weights=weights, minlength=k).astype(np.float64)
    if np.count_nonzero(prevalence > 0) < 2:
        raise UndefinedMetricError("only one class is present")
    areas = np.full(k, np.nan)
    for c in np.flatnonzero(prevalence > 0):
        try:
            areas[c] = auroc((labels == c).astype(np.int8), scores[:, c], sample_weight=weights)
        except UndefinedMetricError as exc:
            raise UndefinedMetricError(f"class {c}: {exc}") from exc
    return areas, prevalence


def multiclass_auroc_macro(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Macro-averaged one-vs-rest AUROC: the mean over classes of the AUROC of column ``c``
    for telling class ``c`` from the others (Fawcett, 2006).

    Raises
    ------
    UndefinedMetricError
        When a class has no cases (its AUROC is undefined).
    """
    areas, prevalence = _one_vs_rest_auroc(y_true, y_score, sample_weight)
    missing = np.flatnonzero(prevalence <= 0)
    if missing.size:
        raise UndefinedMetricError(f"class {int(missing[0])} has no cases")
    return float(areas.mean())


register_metric(
    MetricSpec(
        name="multiclass_auroc_macro",
        fn=multiclass_auroc_macro,
        title="AUROC (one-vs-rest, macro)",
        task="multiclass",
        score_kind="class_probabilities",
        greater_is_better=True,
        ideal=1.0,
        description="Mean over classes of the one-vs-rest AUROC.",
        tags=frozenset({"discrimination"}),
    )
)


def multiclass_auroc_weighted(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Prevalence-weighted one-vs-rest AUROC: ``Σ_c π_c AUROC_c`` with ``π_c`` the (weighted)
    share of class ``c``. A class with no cases has weight 0 and is left out.

    Raises
    ------
    UndefinedMetricError
        When only one class is present.
    """
    areas, prevalence = _one_vs_rest_auroc(y_true, y_score, sample_weight)
    present = prevalence > 0
    return float(np.sum(prevalence[present] * areas[present]) / prevalence.sum())


register_metric(
    MetricSpec(
        name="multiclass_auroc_weighted",
        fn=multiclass_auroc_weighted,
        title="AUROC (one-vs-rest, prevalence-weighted)",
        task="multiclass",
        score_kind="class_probabilities",
        greater_is_better=True,
        ideal=1.0,
        description="Prevalence-weighted mean over classes of the one-vs-rest AUROC.",
        tags=frozenset({"discrimination"}),
    )
)


def multiclass_accuracy(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Accuracy of the predicted class (highest score): ``Σ w [ŷ = y] / Σ w``.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).

    Examples
    --------
    >>> multiclass_accuracy([0, 2, 1], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    0.6666666666666666
    """
    labels, scores, weights = _multiclass_inputs(y_true, y_score, sample_weight)
    total = float(weights.sum())
    if total <= 0:
        raise UndefinedMetricError("no rows (or every weight is zero)")
    return float(np.sum(weights * (scores.argmax(axis=1) == labels)) / total)


register_metric(
    MetricSpec(
        name="multiclass_accuracy",
        fn=multiclass_accuracy,
        title="Accuracy (multiclass)",
        task="multiclass",
        score_kind="class_probabilities",
        greater_is_better=True,
        ideal=1.0,
        description="Share of rows whose highest-scored class is the observed class.",
        tags=frozenset({"overall"}),
    )
)


def macro_f1(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Macro-averaged F1 of the predicted class (highest score).

    For each class ``c``, ``F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c)`` with weighted counts; the
    mean is over the classes that occur in ``y_true`` or among the predictions (a class in
    neither has no F1; rows of weight 0 count as absent), as scikit-learn's
    ``f1_score(average="macro")``.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).
    """
    labels, scores, weights = _multiclass_inputs(y_true, y_score, sample_weight)
    if float(weights.sum()) <= 0:
        raise UndefinedMetricError("no rows (or every weight is zero)")
    k = scores.shape[1]
    predicted = scores.argmax(axis=1)
    hit = predicted == labels
    true_positive = np.bincount(labels[hit], weights=weights[hit], minlength=k)
    observed = np.bincount(labels, weights=weights, minlength=k)
    flagged = np.bincount(predicted, weights=weights, minlength=k)
    seen = (observed + flagged) > 0  # rows of weight 0 count as absent
    return float(np.mean(2 * true_positive[seen] / (observed + flagged)[seen]))


register_metric(
    MetricSpec(
        name="macro_f1",
        fn=macro_f1,
        title="Macro F1",
        task="multiclass",
        score_kind="class_probabilities",
        greater_is_better=True,
        ideal=1.0,
        description="Mean over classes of the F1 score of the highest-scored class.",
        tags=frozenset({"overall"}),
    )
)
