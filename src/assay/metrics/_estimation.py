"""The one way to get an :class:`Estimate` (and a paired comparison) for a registered metric."""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from assay.errors import InputError
from assay.metrics._compare import PairedComparison, paired_bootstrap
from assay.metrics._delong import delong_auroc_ci, delong_test
from assay.metrics._estimate import Estimate
from assay.metrics._inputs import as_binary_target, as_weights
from assay.metrics._registry import MetricSpec, get_metric
from assay.metrics.intervals import BootstrapMethod, bootstrap_metric, wilson_interval

__all__ = ["IntervalChoice", "compare", "estimate"]

logger = logging.getLogger(__name__)

IntervalChoice = Literal["auto", "delong", "wilson", "bootstrap", "none"]


def estimate(
    metric: str,
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    ci: IntervalChoice = "auto",
    level: float = 0.95,
    n_boot: int = 1000,
    bootstrap_method: BootstrapMethod = "percentile",
    seed: int = 0,
    sample_weight: ArrayLike | None = None,
    **params: Any,
) -> Estimate:
    """A registered metric on the given data, with its confidence interval and ``n``.

    Parameters
    ----------
    metric
        Registered metric name (see :func:`assay.metrics.list_metrics`).
    y_true, y_score
        Outcome and score.
    ci
        ``"auto"`` uses the interval the registry records for the metric: DeLong for AUROC,
        Wilson for proportions, the bootstrap otherwise. DeLong and Wilson treat weights as
        integer frequency weights (a row of weight ``k`` counts as ``k`` patients); with
        non-integer weights ``"auto"`` falls back to the bootstrap, and the method recorded in
        the result says so. ``"delong"`` (AUROC only), ``"wilson"`` (proportions only),
        ``"bootstrap"`` and ``"none"`` force a method.
    level
        Confidence level.
    n_boot, bootstrap_method, seed
        Bootstrap settings (see :func:`assay.metrics.intervals.bootstrap_metric`); the
        bootstrap is stratified by outcome.
    sample_weight
        Optional non-negative weights.
    **params
        Metric parameters, for example ``threshold``.

    Returns
    -------
    Estimate
        With ``n`` rows and, for binary outcomes, ``n_events`` positive rows.

    Raises
    ------
    UndefinedMetricError
        When the metric (or its interval) has no value on this data; the message says why.
    InputError
        For bad inputs or an interval that does not apply to the metric.

    Examples
    --------
    >>> y = [0, 0, 1, 1, 0, 1, 0, 0]
    >>> score = [0.1, 0.6, 0.35, 0.8, 0.2, 0.7, 0.3, 0.4]
    >>> estimate("sensitivity", y, score, threshold=0.5).method
    'wilson'
    """
    _check_level(level)
    spec = get_metric(metric)
    n = _n_rows(y_true)
    weights = as_weights(sample_weight, n)
    integer_weights = weights is None or bool(np.array_equal(weights, np.round(weights)))
    chosen = _choose(spec, ci, integer_weights)
    n_events = (
        int(np.count_nonzero(as_binary_target(y_true) == 1)) if spec.task == "binary" else None
    )
    if chosen == "delong":
        return delong_auroc_ci(y_true, y_score, level, sample_weight=weights)
    if chosen == "bootstrap":
        return bootstrap_metric(
            spec,
            y_true,
            y_score,
            level=level,
            n_boot=n_boot,
            method=bootstrap_method,
            seed=seed,
            sample_weight=weights,
            **params,
        ).estimate
    value = float(spec.fn(np.asarray(y_true), np.asarray(y_score), sample_weight=weights, **params))
    if chosen == "none":
        return Estimate(value=value, level=level, method="none", n=n, n_events=n_events)
    assert spec.counts is not None
    successes, trials = _wilson_counts(spec, y_true, y_score, weights, params)
    low, high = wilson_interval(successes, trials, level)
    return Estimate(
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        level=level,
        method="wilson",
        n=n,
        n_events=n_events,
    )


def compare(
    metric: str,
    y_true: ArrayLike,
    score_a: ArrayLike,
    score_b: ArrayLike,
    *,
    method: Literal["auto", "delong", "bootstrap"] = "auto",
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    sample_weight: ArrayLike | None = None,
    a: str = "a",
    b: str = "b",
    **params: Any,
) -> PairedComparison:
    """Difference of a registered metric between two scores on the same patients.

    ``difference = metric(score_a) − metric(score_b)``; ``a`` and ``b`` name the scores in
    the result. ``"auto"`` uses DeLong's test for AUROC (unweighted or integer frequency
    weights) and the stratified paired bootstrap (same resamples for both scores, percentile
    interval, p-value from the bootstrap distribution) for every other case; see
    :func:`assay.metrics.intervals.delong_test` and
    :func:`assay.metrics.intervals.paired_bootstrap`.

    Examples
    --------
    >>> y = [0, 0, 1, 1, 0, 1, 0, 1]
    >>> new = [0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.3, 0.9]
    >>> old = [0.5, 0.4, 0.3, 0.6, 0.2, 0.7, 0.9, 0.1]
    >>> result = compare("auroc", y, new, old, a="new", b="old")
    >>> result.method, round(result.difference, 4)
    ('delong', 0.5)
    """
    _check_level(level)
    spec = get_metric(metric)
    weights = as_weights(sample_weight, _n_rows(y_true))
    integer_weights = weights is None or bool(np.array_equal(weights, np.round(weights)))
    if method == "delong" or (method == "auto" and spec.name == "auroc" and integer_weights):
        if spec.name != "auroc":
            raise InputError(f"DeLong's test compares AUROCs only, not {spec.name!r}")
        return delong_test(y_true, score_a, score_b, level, sample_weight=weights, a=a, b=b)
    if method not in ("auto", "bootstrap"):
        raise InputError(f"method must be 'auto', 'delong' or 'bootstrap', got {method!r}")
    return paired_bootstrap(
        spec,
        y_true,
        score_a,
        score_b,
        level=level,
        n_boot=n_boot,
        seed=seed,
        sample_weight=weights,
        a=a,
        b=b,
        **params,
    )


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), got {level}")


def _n_rows(y_true: ArrayLike) -> int:
    shape = np.shape(y_true)
    if len(shape) != 1:
        raise InputError(f"y_true must be one-dimensional, got shape {shape}")
    return int(shape[0])


def _choose(spec: MetricSpec, ci: IntervalChoice, integer_weights: bool) -> IntervalChoice:
    if ci not in ("auto", "delong", "wilson", "bootstrap", "none"):
        raise InputError(
            f"ci must be one of 'auto', 'delong', 'wilson', 'bootstrap', 'none', got {ci!r}"
        )
    if (ci == "delong" or (ci == "auto" and spec.interval == "delong")) and spec.name != "auroc":
        raise InputError(f"the DeLong interval applies to auroc only, not {spec.name!r}")
    if ci == "wilson" and spec.counts is None:
        raise InputError(f"the Wilson interval applies to proportions only, not {spec.name!r}")
    if ci in ("delong", "wilson") and not integer_weights:
        raise InputError(
            f"the {ci.capitalize()} interval reads weights as integer frequency weights; "
            "these weights are not integers, use ci='bootstrap'"
        )
    if ci != "auto":
        return ci
    if spec.interval in ("delong", "wilson") and not integer_weights:
        logger.info("%s: non-integer weights, using the bootstrap interval", spec.name)
        return "bootstrap"
    return spec.interval


def _wilson_counts(
    spec: MetricSpec,
    y_true: ArrayLike,
    y_score: ArrayLike,
    weights: np.ndarray[Any, np.dtype[np.float64]] | None,
    params: dict[str, Any],
) -> tuple[int, int]:
    """Successes and trials; integer weights count as repeated rows."""
    assert spec.counts is not None
    y, score = np.asarray(y_true), np.asarray(y_score)
    if weights is not None:
        repeated = np.repeat(np.arange(y.shape[0]), weights.astype(np.int64))
        y, score = y[repeated], score[repeated]
    successes, trials = spec.counts(y, score, **params)
    return int(successes), int(trials)
