"""The drop of a metric under a perturbation, with its confidence interval.

``drop`` is positive when the perturbed data scores worse: ``baseline − perturbed`` for a
metric where greater is better, ``perturbed − baseline`` where smaller is better, and
``|perturbed − ideal| − |baseline − ideal|`` for a metric judged by closeness to an ideal
(calibration slope, O/E ratio).

Three ways to the interval, chosen by what the perturbation changed:

``delong`` / ``paired-bootstrap`` (same rows, same weights)
    :func:`assay.metrics.compare` on the two scores of the same patients: DeLong's paired test
    for AUROC, the stratified paired bootstrap otherwise (the correlation between the two
    scores of a patient is kept, so the interval is much narrower than an unpaired one).
``paired-bootstrap`` (same rows, other weights: a covariate shift; or an ideal-valued metric)
    the same stratified resamples of the patients applied to both (score, weight) pairs; the
    interval is the percentile interval of the replicate drops.
``unpaired-bootstrap`` (rows resampled: a prevalence shift)
    independent stratified bootstraps of the baseline and the perturbed data (the perturbed
    one seeded from ``SeedSequence(seed, spawn_key=(1,))``), the percentile interval of the
    differences of their replicates. The perturbed rows are a subset of the baseline's, so the
    two are positively correlated and this interval is conservative (wider than the true one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import compare
from assay.metrics._bootstrap import Resampler, make_strata
from assay.metrics._registry import MetricSpec
from assay.metrics.intervals import bootstrap_metric

__all__ = ["Drop", "DropMethod", "drop_interval", "drop_of"]

DropMethod = Literal["delong", "paired-bootstrap", "unpaired-bootstrap"]
FloatArray = NDArray[np.float64]
Transform = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Drop:
    """A drop with its interval."""

    value: float
    ci_low: float
    ci_high: float
    method: DropMethod

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high"):  # no negative zeros from a sign flip
            object.__setattr__(self, name, float(getattr(self, name)) + 0.0)


def drop_of(spec: MetricSpec) -> Transform:
    """``drop(baseline, perturbed)`` for the metric's direction (works on arrays)."""
    if spec.greater_is_better is True:
        return lambda base, perturbed: base - perturbed
    if spec.greater_is_better is False:
        return lambda base, perturbed: perturbed - base
    ideal = spec.ideal
    if ideal is None:
        raise InputError(f"{spec.name} has no direction and no ideal value, so no drop is defined")
    return lambda base, perturbed: np.abs(perturbed - ideal) - np.abs(base - ideal)


def drop_interval(
    spec: MetricSpec,
    baseline: tuple[NDArray[Any], FloatArray, FloatArray | None],
    perturbed: tuple[NDArray[Any], FloatArray, FloatArray | None],
    *,
    same_rows: bool,
    level: float,
    n_boot: int,
    seed: int,
    params: dict[str, Any],
) -> Drop:
    """The drop from ``baseline`` to ``perturbed``, each ``(y, score, weight)``."""
    y, score, weight = baseline
    _, score_new, weight_new = perturbed
    same_weights = (weight is None and weight_new is None) or (
        weight is not None and weight_new is not None and np.array_equal(weight, weight_new)
    )
    if same_rows and same_weights and spec.greater_is_better is not None:
        result = compare(
            spec.name,
            y,
            score,
            score_new,
            level=level,
            n_boot=n_boot,
            seed=seed,
            sample_weight=weight,
            a="baseline",
            b="perturbed",
            **params,
        )
        method: DropMethod = "delong" if result.method == "delong" else "paired-bootstrap"
        if spec.greater_is_better:
            return Drop(result.difference, result.ci_low, result.ci_high, method)
        return Drop(-result.difference, -result.ci_high, -result.ci_low, method)
    transform = drop_of(spec)
    if same_rows:
        return _paired(
            spec,
            y,
            (score, weight),
            (score_new, weight_new),
            transform,
            level=level,
            n_boot=n_boot,
            seed=seed,
            params=params,
        )
    return _unpaired(
        spec, baseline, perturbed, transform, level=level, n_boot=n_boot, seed=seed, params=params
    )


def _paired(
    spec: MetricSpec,
    y: NDArray[Any],
    first: tuple[FloatArray, FloatArray | None],
    second: tuple[FloatArray, FloatArray | None],
    transform: Transform,
    *,
    level: float,
    n_boot: int,
    seed: int,
    params: dict[str, Any],
) -> Drop:
    """Paired stratified bootstrap with a weight per score (the resampling of
    :mod:`assay.metrics._bootstrap`, same seeding)."""
    n_rows = int(y.shape[0])
    resampler = Resampler(make_strata(y, [first[0], second[0]], n_rows), n_rows)

    def both(counts: FloatArray | None) -> tuple[float, float]:
        values = []
        for score, weight in (first, second):
            w = weight if counts is None else counts if weight is None else counts * weight
            values.append(float(spec.fn(y, score, sample_weight=w, **params)))
        return values[0], values[1]

    point = float(transform(*both(None)))
    drops = []
    reason = ""
    for replicate in range(n_boot):
        draws = resampler.draws(Resampler.generator(seed, replicate))
        try:
            drops.append(float(transform(*both(resampler.counts(draws)))))
        except UndefinedMetricError as exc:
            reason = reason or str(exc)
    _check_undefined(spec, n_boot - len(drops), n_boot, reason)
    low, high = np.quantile(drops, [(1 - level) / 2, (1 + level) / 2])
    return Drop(point, float(low), float(high), "paired-bootstrap")


def _unpaired(
    spec: MetricSpec,
    baseline: tuple[NDArray[Any], FloatArray, FloatArray | None],
    perturbed: tuple[NDArray[Any], FloatArray, FloatArray | None],
    transform: Transform,
    *,
    level: float,
    n_boot: int,
    seed: int,
    params: dict[str, Any],
) -> Drop:
    other_seed = int(np.random.SeedSequence(seed, spawn_key=(1,)).generate_state(1)[0])
    results = [
        bootstrap_metric(
            spec, data[0], data[1], n_boot=n_boot, seed=s, sample_weight=data[2], **params
        )
        for data, s in ((baseline, seed), (perturbed, other_seed))
    ]
    kept = min(result.replicates.size for result in results)
    drops = transform(results[0].replicates[:kept], results[1].replicates[:kept])
    low, high = np.quantile(drops, [(1 - level) / 2, (1 + level) / 2])
    point = float(transform(results[0].estimate.value, results[1].estimate.value))
    return Drop(point, float(low), float(high), "unpaired-bootstrap")


def _check_undefined(spec: MetricSpec, n_undefined: int, n_boot: int, reason: str) -> None:
    if n_undefined > 0.01 * n_boot:
        raise UndefinedMetricError(
            f"the drop in {spec.name} was undefined in {n_undefined} of {n_boot} bootstrap "
            f"replicates (more than the 1% allowed), first because of: {reason}"
        )
