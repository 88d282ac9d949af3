"""Comparing two scores on the same patients: the result type and the paired bootstrap.

DeLong's test for two AUROCs lives in :mod:`assay.metrics._delong`; the paired bootstrap here
works for any registered metric.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, model_validator

from assay.errors import InputError
from assay.metrics._estimate import format_interval
from assay.metrics._registry import MetricSpec

__all__ = ["ComparisonMethod", "PairedComparison", "paired_bootstrap"]

ComparisonMethod = Literal["delong", "bootstrap-percentile"]


class PairedComparison(BaseModel):
    """The difference of one metric between two scores on the same patients.

    Parameters
    ----------
    metric
        Registered metric name.
    a, b
        Names of the two scores; ``difference = value_a − value_b``.
    value_a, value_b
        The metric for each score on all rows.
    difference
        ``value_a − value_b``.
    ci_low, ci_high
        ``level`` confidence interval of the difference.
    level
        Confidence level.
    p_value
        Two-sided p-value of "no difference" (see the method's documentation).
    method
        ``"delong"`` or ``"bootstrap-percentile"``.
    n
        Number of rows.
    n_events
        Number of positive rows, for binary outcomes.
    n_undefined
        For the bootstrap, replicates dropped because the metric was undefined for either
        score; ``None`` for DeLong.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    a: str
    b: str
    value_a: float
    value_b: float
    difference: float
    ci_low: float
    ci_high: float
    level: float = 0.95
    p_value: float
    method: ComparisonMethod
    n: int
    n_events: int | None = None
    n_undefined: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PairedComparison:
        numbers = (self.value_a, self.value_b, self.difference, self.ci_low, self.ci_high)
        if not all(math.isfinite(v) for v in numbers):
            raise ValueError("a PairedComparison must have finite values and bounds")
        if not 0 <= self.p_value <= 1:
            raise ValueError(f"p_value must be in [0, 1], got {self.p_value}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")
        return self

    def __str__(self) -> str:
        interval = format_interval(self.difference, self.ci_low, self.ci_high, signed=True)
        return f"{self.metric} {self.a} − {self.b}: {interval}, p = {self.p_value:.3g}"


def paired_bootstrap(
    metric: str | MetricSpec,
    y_true: ArrayLike,
    score_a: ArrayLike,
    score_b: ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    stratified: bool = True,
    sample_weight: ArrayLike | None = None,
    a: str = "a",
    b: str = "b",
    max_undefined_share: float = 0.01,
    n_threads: int | None = None,
    **params: Any,
) -> PairedComparison:
    """Paired bootstrap of the difference of a metric between two scores.

    Each replicate resamples the patients once (stratified by outcome by default; see
    :func:`assay.metrics.intervals.bootstrap_metric` for the scheme and seeding) and applies
    the same resample to both scores, so their correlation is kept:
    ``Δ* = metric(a)* − metric(b)*``. The interval is the percentile interval of ``Δ*``.

    The two-sided p-value inverts that interval: with ``B`` kept replicates,

    .. math:: p = \\min\\left(1,\\; 2\\,\\frac{1 + \\min(\\#\\{Δ^* \\le 0\\},
              \\#\\{Δ^* \\ge 0\\})}{B + 1}\\right),

    the share of replicates on the far side of 0, doubled, with the ``+1`` of Davison & Hinkley
    (1997, §4.4) so that it is never 0 (its smallest value is ``2/(B+1)``). Up to that
    correction and the interpolation of quantiles, ``p < 1 − level`` exactly when the interval
    excludes 0.

    Parameters
    ----------
    metric
        Registered metric name (or a :class:`MetricSpec`).
    y_true
        Outcome.
    score_a, score_b
        The two scores, in the same row order.
    level, n_boot, seed, stratified, sample_weight, max_undefined_share, n_threads
        As for :func:`assay.metrics.intervals.bootstrap_metric`.
    a, b
        Names of the two scores, recorded in the result.
    **params
        Metric parameters, for example ``threshold``.

    Raises
    ------
    UndefinedMetricError
        When the metric is undefined on all rows for either score, or in more than
        ``max_undefined_share`` of the replicates.
    """
    from assay.metrics._bootstrap import paired_replicates

    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), got {level}")
    result = paired_replicates(
        metric,
        y_true,
        score_a,
        score_b,
        n_boot=n_boot,
        seed=seed,
        stratified=stratified,
        sample_weight=sample_weight,
        max_undefined_share=max_undefined_share,
        n_threads=n_threads,
        **params,
    )
    differences = result.replicates[:, 0] - result.replicates[:, 1]
    difference = result.point[0] - result.point[1]
    low, high = np.quantile(differences, [(1 - level) / 2, (1 + level) / 2])
    kept = differences.size
    far_side = min(np.count_nonzero(differences <= 0), np.count_nonzero(differences >= 0))
    p_value = min(1.0, 2 * (1 + far_side) / (kept + 1))
    return PairedComparison(
        metric=result.metric,
        a=a,
        b=b,
        value_a=result.point[0],
        value_b=result.point[1],
        difference=difference,
        ci_low=float(low),
        ci_high=float(high),
        level=level,
        p_value=p_value,
        method="bootstrap-percentile",
        n=result.n,
        n_events=result.n_events,
        n_undefined=result.n_undefined,
    )
