"""Weak-segment discovery: slices of one or two features where a metric is significantly worse.

How the slices are formed is described in :mod:`assay.subgroups._segment_types`. Each slice
with at least ``min_size`` patients, and ``min_size`` outside it, is compared with the *rest*
(the patients outside it; two independent samples), one-sided in the direction that is worse
for the metric:

- AUROC: ``z = (θ_slice − θ_rest) / sqrt(V_slice + V_rest)``, DeLong's variance
  ``V = S10/m + S01/n`` of each AUROC (:mod:`assay.metrics._delong`), with each component
  variance ``S10``, ``S01`` floored at its value on all patients. A small slice's own
  estimate is noisy, and when it comes out too small the z-test finds weak segments that are
  not there: with 5% prevalence, 2,000 patients and no segment, 17 of 200 simulated searches
  reported one without the floor, 5 with it. The rest's components are not recomputed per
  slice: a case's placement among the rest's controls is its placement among all controls
  minus that among the slice's controls, a step function of the score that changes only at
  the slice's scores, so the rest's sums come from prefix sums in ``O(slice size)``.
- proportions (the metrics the registry gives a Wilson interval): Fisher's exact test on the
  metric's successes and trials in the slice and the rest (given the margins, the slice's
  successes are hypergeometric). The pooled two-proportion z-test was anti-conservative in
  slices with few trials (14 of 200 searches at 30% prevalence reported a segment with none).

Other metrics are refused: a per-slice bootstrap would cost hundreds of thousands of metric
evaluations and a z-test on it would be as poorly calibrated in small slices. Weights are
integer frequency weights, as for the DeLong and Wilson intervals. The Benjamini–Hochberg
procedure runs over all tested slices.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError
from assay.metrics import Estimate, estimate, get_metric, list_metrics
from assay.metrics._inputs import as_binary_target, as_float_array, as_weights
from assay.metrics._registry import MetricSpec
from assay.subgroups._cells import GroupValues
from assay.subgroups._multiplicity import benjamini_hochberg
from assay.subgroups._segment_tests import RestComparison, SliceOutcome
from assay.subgroups._segment_types import (
    SegmentRow,
    SegmentTable,
    SegmentTest,
    read_features,
    slices,
)

__all__ = ["SegmentRow", "SegmentTable", "SegmentTest", "weak_segments"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def weak_segments(
    metric: str,
    y_true: ArrayLike,
    y_score: ArrayLike,
    features: pd.DataFrame | Mapping[str, GroupValues],
    *,
    max_features: int = 2,
    n_bins: int = 4,
    min_size: int = 50,
    fdr: float = 0.05,
    level: float = 0.95,
    sample_weight: ArrayLike | None = None,
    small_cell_threshold: int = 11,
    max_segments: int | None = None,
    **params: Any,
) -> SegmentTable:
    """Slices of one or two features where a metric is significantly worse than in the rest.

    Every slice (a level of a feature, or a pair of levels of two features) with at least
    ``min_size`` patients, and at least ``min_size`` outside it, is tested one-sided against
    the rest of the patients; the Benjamini–Hochberg procedure over all tested slices keeps
    the expected share of false segments among those reported at most ``fdr``. The module
    notes describe the tests, :mod:`assay.subgroups._segment_types` the binning.

    Parameters
    ----------
    metric
        ``auroc``, or a proportion with a direction: ``sensitivity``, ``specificity``,
        ``ppv``, ``npv``, ``accuracy``, ``false_positive_rate``.
    y_true, y_score
        0/1 outcome and score, one entry (row) per patient.
    features
        A DataFrame (one column per feature) or a mapping of feature name to values, each as
        long as ``y_true`` and taken by position. Pass a numeric code as text or as a pandas
        categorical to keep it from being binned.
    max_features
        1 (slices of one feature) or 2 (also pairs of features).
    n_bins
        Most bins for a numeric feature (at least 2).
    min_size
        Fewest patients in a slice, and outside it, for the slice to be tested; at least
        ``small_cell_threshold``, so no reported number comes from a small cell.
    fdr
        False discovery rate, in (0, 1).
    level
        Confidence level of the intervals.
    sample_weight
        Optional integer frequency weights.
    small_cell_threshold
        Fewest patients in a group that may be reported.
    max_segments
        Report at most this many segments (the highest impact); ``None`` reports all.
    **params
        Metric parameters, for example ``threshold``.

    Returns
    -------
    SegmentTable
        The segments ranked by impact (``n × shortfall``), and the counts of the slices
        formed, skipped, untested and tested.

    Raises
    ------
    InputError
        For an unknown metric, a metric without a direction or a closed-form test, a missing
        metric parameter, a feature of the wrong length, non-integer weights, or a setting
        out of range; the message names the field.
    UndefinedMetricError
        When the metric has no value on all the patients.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> site = rng.choice(["A", "B", "C"], 3000)
    >>> y = rng.integers(0, 2, 3000)
    >>> score = np.where(site == "C", rng.normal(size=3000), y + rng.normal(size=3000))
    >>> table = weak_segments("auroc", y, score, {"site": site})
    >>> [(row.description, row.n, round(row.value, 3)) for row in table.rows]
    [('site = C', 1043, 0.502)]
    """
    spec = checked_metric(metric, params)
    _check_settings(max_features, n_bins, min_size, fdr, small_cell_threshold, max_segments)
    y = as_binary_target(y_true)
    score = as_float_array(y_score, "y_score")
    if score.shape != y.shape:
        raise InputError(f"y_score has {score.shape[0]} rows, expected {y.shape[0]}")
    weights = as_weights(sample_weight, y.shape[0])
    if weights is not None and not np.array_equal(weights, np.round(weights)):
        raise InputError(
            "sample_weight must be integer frequency weights: the tests of weak_segments "
            "count a row of weight k as k patients"
        )
    read = read_features(features, y.shape[0], n_bins)
    overall = estimate(spec.name, y, score, level=level, sample_weight=weights, **params)

    order = np.argsort(score, kind="stable")
    data = (y[order], score[order], None if weights is None else weights[order])
    tester = RestComparison(spec, *data, params)
    sign = 1.0 if spec.greater_is_better else -1.0
    counts = {"slices": 0, "duplicate": 0, "small": 0, "untested": 0}
    tested: list[SliceOutcome] = []
    for piece in slices([feature.reordered(order) for feature in read], max_features):
        counts["slices"] += 1
        n = piece.rows.shape[0]
        if piece.duplicate:
            counts["duplicate"] += 1
        elif n < min_size or y.shape[0] - n < min_size:
            counts["small"] += 1
        elif (result := tester.test(piece.rows)) is None:
            counts["untested"] += 1
        else:
            value, rest_value, statistic = result
            impact = n * sign * (overall.value - value)
            tested.append(SliceOutcome(piece, rest_value, impact, statistic))

    p_values = tester.p_values([piece.statistic for piece in tested])
    adjusted = benjamini_hochberg(p_values)
    found = np.flatnonzero(adjusted <= fdr)
    ranked = sorted(found, key=lambda i: (-tested[i].impact, p_values[i], i))
    rows = [
        _row(spec, tested[i], data, params, overall, (float(p_values[i]), float(adjusted[i])))
        for i in ranked[:max_segments]
    ]
    rows.sort(key=lambda row: -row.impact)  # the same order, unless estimate's last digit differs
    return SegmentTable(
        metric=spec.name,
        params=params,
        greater_is_better=bool(spec.greater_is_better),
        test=tester.kind,
        fdr=fdr,
        level=level,
        max_features=max_features,
        n_bins=n_bins,
        min_size=min_size,
        small_cell_threshold=small_cell_threshold,
        max_segments=max_segments,
        n_rows=int(y.shape[0]),
        overall=overall,
        feature_levels={feature.name: feature.labels for feature in read},
        n_slices=counts["slices"],
        n_duplicate=counts["duplicate"],
        n_skipped_small=counts["small"],
        n_untested=counts["untested"],
        n_tested=len(tested),
        n_found=int(found.size),
        rows=tuple(rows),
    )


def checked_metric(metric: str, params: Mapping[str, Any]) -> MetricSpec:
    """The metric's spec, if it has a direction, a closed-form test and its parameters."""
    try:
        spec = get_metric(metric)
    except KeyError as exc:
        raise InputError(f"metric: {exc.args[0]}") from exc
    if spec.greater_is_better is None:
        raise InputError(
            f"metric {spec.name!r} has no better direction (closer to {spec.ideal} is better), "
            "so no slice is worse than another; choose a metric with a direction"
        )
    if spec.interval not in ("delong", "wilson"):
        usable = [
            name
            for name in list_metrics("binary")
            if get_metric(name).interval in ("delong", "wilson")
            and get_metric(name).greater_is_better is not None
        ]
        raise InputError(
            f"metric {spec.name!r} has no closed-form test of a slice against the rest; "
            f"weak_segments tests {', '.join(usable)}"
        )
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InputError(f"metric {spec.name!r} takes no parameter {', '.join(unknown)}")
    signature = inspect.signature(spec.fn).parameters.values()
    needed = [p.name for p in signature if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    missing = [name for name in needed if name not in params]
    if missing:
        raise InputError(f"metric {spec.name!r} needs {missing[0]} (for example {missing[0]}=0.5)")
    return spec


def _check_settings(
    max_features: int,
    n_bins: int,
    min_size: int,
    fdr: float,
    small_cell_threshold: int,
    max_segments: int | None,
) -> None:
    def whole(name: str, value: Any, least: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InputError(f"{name} must be an integer, got {value!r}")
        if value < least:
            raise InputError(f"{name} must be at least {least}, got {value}")

    if isinstance(max_features, bool) or max_features not in (1, 2):
        raise InputError(f"max_features must be 1 or 2, got {max_features!r}")
    whole("n_bins", n_bins, 2)
    whole("small_cell_threshold", small_cell_threshold, 1)
    whole("min_size", min_size, small_cell_threshold)
    if max_segments is not None:
        whole("max_segments", max_segments, 1)
    if isinstance(fdr, bool) or not isinstance(fdr, int | float) or not 0 < fdr < 1:
        raise InputError(f"fdr must be a number between 0 and 1 (exclusive), got {fdr!r}")


def _row(
    spec: MetricSpec,
    tested: SliceOutcome,
    data: tuple[NDArray[np.int8], FloatArray, FloatArray | None],
    params: Mapping[str, Any],
    overall: Estimate,
    p_values: tuple[float, float],
) -> SegmentRow:
    """The reported row of a segment, with the slice's interval from ``estimate``."""
    y, score, weights = data
    rows = tested.slice.rows
    subset = None if weights is None else weights[rows]
    result = estimate(
        spec.name, y[rows], score[rows], level=overall.level, sample_weight=subset, **params
    )
    shortfall = (overall.value - result.value) * (1 if spec.greater_is_better else -1)
    return SegmentRow(
        features=tested.slice.features,
        levels=tested.slice.levels,
        description=tested.slice.description,
        n=int(rows.shape[0]),
        n_positive=int(np.count_nonzero(y[rows] == 1)),
        value=result.value,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        method=result.method,
        rest_n=int(y.shape[0] - rows.shape[0]),
        rest_value=tested.rest_value,
        overall_value=overall.value,
        shortfall=shortfall,
        impact=rows.shape[0] * shortfall,
        p_value=p_values[0],
        p_adjusted=p_values[1],
    )
