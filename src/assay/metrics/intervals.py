"""Confidence intervals: Wilson for proportions, DeLong for AUROC, bootstrap for any metric.

Every function here is pure and seeded where randomness is involved: the same inputs and seed
give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._bootstrap import replicates
from assay.metrics._compare import PairedComparison, paired_bootstrap
from assay.metrics._delong import delong_auroc_ci, delong_test
from assay.metrics._estimate import Estimate
from assay.metrics._registry import MetricSpec

__all__ = [
    "BootstrapMethod",
    "BootstrapResult",
    "PairedComparison",
    "bootstrap_ci",
    "bootstrap_metric",
    "delong_auroc_ci",
    "delong_test",
    "paired_bootstrap",
    "proportion_estimate",
    "wilson_interval",
]

BootstrapMethod = Literal["percentile", "bca"]
FloatArray = NDArray[np.float64]


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for binomial proportions, vectorised over arrays of counts.

    For ``k`` successes in ``n`` trials, with ``z`` the two-sided normal quantile,
    the bounds are ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` where ``p = k/n``
    (Wilson, 1927). Unlike the Wald interval it stays inside [0, 1] and keeps close to nominal
    coverage at small ``n`` and extreme ``p``. Where ``n == 0`` both bounds are NaN.

    Examples
    --------
    >>> low, high = wilson_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4902, 0.9433)
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("successes must lie between 0 and trials")
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half_width = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = np.where(n > 0, np.clip(centre - half_width, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(centre + half_width, 0.0, 1.0), np.nan)
    return low, high


def proportion_estimate(events: int, n: int, level: float = 0.95) -> Estimate:
    """``events / n`` as an :class:`Estimate` with its Wilson interval (``n`` must be > 0).

    Examples
    --------
    >>> e = proportion_estimate(8, 10)
    >>> e.value, round(e.ci_low, 4), e.method, e.n_events
    (0.8, 0.4902, 'wilson', 8)
    """
    if n <= 0:
        raise InputError("a proportion needs at least one trial")
    low, high = wilson_interval(events, n, level)
    return Estimate(value=events / n, ci_low=float(low), ci_high=float(high), level=level,
                    method="wilson", n=n, n_events=events)


@dataclass(frozen=True)
class BootstrapResult:
    """A bootstrap interval with the replicates it came from.

    Attributes
    ----------
    metric
        Metric name.
    estimate
        The point estimate on all rows and the interval.
    replicates
        The kept replicate values, in replicate order (read-only).
    n_boot
        Replicates drawn.
    n_undefined
        Replicates dropped because the metric was undefined on them.
    seed
        The seed used.
    stratified
        Whether the resampling kept the class counts (never for a regression outcome).
    bias_correction, acceleration
        BCa's ``z0`` and ``a`` (``None`` for the percentile interval).
    jackknife_groups
        Groups of the jackknife behind ``acceleration`` (``None`` for the percentile interval).
    """

    metric: str
    estimate: Estimate
    replicates: FloatArray = field(repr=False)
    n_boot: int
    n_undefined: int
    seed: int
    stratified: bool
    bias_correction: float | None = None
    acceleration: float | None = None
    jackknife_groups: int | None = None


def bootstrap_metric(
    metric: str | MetricSpec,
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    method: BootstrapMethod = "percentile",
    seed: int = 0,
    stratified: bool = True,
    sample_weight: ArrayLike | None = None,
    jackknife_groups: int = 50,
    max_undefined_share: float = 0.01,
    n_threads: int | None = None,
    fast_path: bool = True,
    **params: Any,
) -> BootstrapResult:
    """Bootstrap interval of any registered metric, with its replicates.

    Resampling (see :mod:`assay.metrics._bootstrap` for the exact scheme): ``n_boot``
    replicates, each drawing every stratum's rows with replacement (stratified by outcome by
    default, so the numbers of cases and controls are those of the data), passed to the metric
    as integer count weights times ``sample_weight``. Replicate ``r`` has its own generator
    from ``SeedSequence(seed).spawn``, so the result depends only on the inputs and ``seed``,
    never on threads or global state.

    Intervals, with ``θ̂`` the estimate on all rows, ``θ*_b`` the kept replicates and
    ``α = 1 − level``:

    ``"percentile"``
        the ``α/2`` and ``1 − α/2`` quantiles of ``θ*`` (linear interpolation).
    ``"bca"``
        bias-corrected and accelerated (Efron 1987): the quantiles at
        ``Φ(z0 + (z0 + z_q) / (1 − a (z0 + z_q)))`` for ``z_q = Φ⁻¹(α/2), Φ⁻¹(1 − α/2)``, with
        ``z0 = Φ⁻¹((#{θ* < θ̂} + ½ #{θ* = θ̂}) / B)`` (ties split, which matters for
        discrete metrics) and the acceleration
        ``a = Σ_g d_g³ / (6 (Σ_g d_g²)^{3/2})``, ``d_g = θ̄_(·) − θ̂_(g)``, from a *grouped*
        jackknife: the rows are dealt at random into ``jackknife_groups`` groups (50 by
        default), stratified by outcome, and ``θ̂_(g)`` is the metric without group ``g``.
        Exact leave-one-out would need one metric evaluation per row, infeasible for a
        generic metric on a million rows; since third and second cumulants add over rows,
        the grouped sums estimate the same ratio as leave-one-out, with more noise. With at
        most ``jackknife_groups`` rows the jackknife is exact leave-one-out.

    Replicates where the metric is undefined (for example nobody flagged at a threshold) are
    counted; if they exceed ``max_undefined_share`` of ``n_boot`` (1 % by default) an
    :class:`~assay.errors.UndefinedMetricError` says so, otherwise they are dropped and
    ``n_undefined`` reports how many.

    Parameters
    ----------
    metric
        Registered metric name, or a :class:`MetricSpec` (for a metric not in the registry).
    y_true, y_score
        Outcome and score, as the metric takes them.
    level
        Confidence level.
    n_boot
        Number of replicates (at least 10; 1,000 or more for a reported interval, 2,000 or
        more for BCa).
    method
        ``"percentile"`` or ``"bca"``.
    seed
        Non-negative integer seed.
    stratified
        Resample cases and controls separately (binary and multiclass outcomes). A regression
        outcome is always one stratum, and so are metrics registered with ``stratify=False``
        (the O:E ratio and calibration-in-the-large, whose variance comes from the event count).
    sample_weight
        Optional non-negative weights, carried with each resampled row.
    jackknife_groups
        Groups of the BCa jackknife.
    max_undefined_share
        Largest share of undefined replicates that is tolerated.
    n_threads
        Worker threads; by default up to 8 for 20,000 rows or more. The numbers do not depend
        on it.
    fast_path
        Use the exact fast paths when they apply: AUROC (stratified, any weights) and Brier
        score draw the same resamples as the generic path and give the same replicates for
        the same seed; threshold metrics on unweighted data draw each replicate's confusion
        counts directly, the same distribution with other numbers for a seed. ``False``
        forces the generic path.
    **params
        Metric parameters, for example ``threshold``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y = rng.integers(0, 2, 300)
    >>> score = y + rng.normal(size=300)
    >>> result = bootstrap_metric("auroc", y, score, n_boot=200, seed=7)
    >>> result.estimate.method, result.replicates.shape, result.n_undefined
    ('bootstrap-percentile', (200,), 0)
    """
    _check_level(level)
    if method not in ("percentile", "bca"):
        raise InputError(f"method must be 'percentile' or 'bca', got {method!r}")
    result = replicates(
        metric,
        y_true,
        y_score,
        n_boot=n_boot,
        seed=seed,
        stratified=stratified,
        sample_weight=sample_weight,
        max_undefined_share=max_undefined_share,
        n_threads=n_threads,
        fast_path=fast_path,
        **params,
    )
    values = result.replicates[:, 0]
    point = result.point[0]
    z0 = acceleration = None
    groups = None
    if method == "percentile":
        low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    else:
        if isinstance(jackknife_groups, bool) or jackknife_groups < 2:
            raise InputError(f"jackknife_groups must be at least 2, got {jackknife_groups}")
        jackknife = result.jackknife(jackknife_groups, seed)[:, 0]
        groups = jackknife.size
        acceleration = jackknife_acceleration(jackknife)
        z0, (low, high) = bca_bounds(values, point, acceleration, level)
    return BootstrapResult(
        metric=result.metric,
        estimate=Estimate(
            value=point,
            ci_low=float(low),
            ci_high=float(high),
            level=level,
            method="bootstrap-percentile" if method == "percentile" else "bootstrap-bca",
            n=result.n,
            n_events=result.n_events,
        ),
        replicates=values,
        n_boot=result.n_boot,
        n_undefined=result.n_undefined,
        seed=seed,
        stratified=result.stratified,
        bias_correction=z0,
        acceleration=acceleration,
        jackknife_groups=groups,
    )


def bootstrap_ci(
    metric: str | MetricSpec,
    y_true: ArrayLike,
    y_score: ArrayLike,
    **options: Any,
) -> Estimate:
    """The :class:`Estimate` of :func:`bootstrap_metric` (same arguments)."""
    return bootstrap_metric(metric, y_true, y_score, **options).estimate


def jackknife_acceleration(jackknife_values: ArrayLike) -> float:
    """BCa acceleration ``a = Σ d³ / (6 (Σ d²)^{3/2})``, ``d = mean − θ̂_(g)`` (Efron 1987).

    Returns 0 when all jackknife values are equal.
    """
    values = np.asarray(jackknife_values, dtype=np.float64)
    d = values.mean() - values
    spread = float(np.sum(d**2))
    return 0.0 if spread == 0 else float(np.sum(d**3) / (6 * spread**1.5))


def bca_bounds(
    replicate_values: ArrayLike, point: float, acceleration: float, level: float
) -> tuple[float, tuple[float, float]]:
    """BCa bias correction ``z0`` and interval bounds from replicates (Efron 1987).

    Raises
    ------
    UndefinedMetricError
        When all replicates lie on one side of ``point`` (``z0`` infinite) or the adjusted
        quantile levels leave (0, 1).
    """
    values = np.asarray(replicate_values, dtype=np.float64)
    share_below = (
        np.count_nonzero(values < point) + 0.5 * np.count_nonzero(values == point)
    ) / values.size
    if not 0 < share_below < 1:
        raise UndefinedMetricError(
            "the BCa interval is undefined: every bootstrap replicate lies on one side of the "
            "estimate; use the percentile interval"
        )
    z0 = float(stats.norm.ppf(share_below))
    adjusted = []
    for z in stats.norm.ppf([(1 - level) / 2, (1 + level) / 2]):
        denominator = 1 - acceleration * (z0 + z)
        if denominator <= 0:
            raise UndefinedMetricError(
                f"the BCa interval is undefined for acceleration {acceleration:.3g}; use the "
                "percentile interval"
            )
        adjusted.append(float(stats.norm.cdf(z0 + (z0 + z) / denominator)))
    low, high = np.quantile(values, adjusted)
    return z0, (float(low), float(high))


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), got {level}")
