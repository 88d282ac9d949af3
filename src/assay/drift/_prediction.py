"""Output drift: has the model's score, its flag rate or the outcome rate moved?

:func:`prediction_drift` compares the score distribution of the current sample with the
reference by the registry's PSI and KS statistic (each with its default threshold) and, given a
decision threshold, the share of patients flagged (``score >= threshold``).
:func:`prevalence_drift` compares the outcome rate.

A rate is an :class:`~assay.metrics.Estimate` with its Wilson interval; the difference
``current − reference`` carries Newcombe's hybrid score interval (Newcombe 1998, method 10),
built from the two Wilson intervals. A rate drifts when its relative change
``(current − reference) / reference`` lies outside ±25 % (:data:`RATE_CHANGE_THRESHOLD`) *and*
the interval of the difference excludes 0, so that sampling noise in a small week alone does
not raise it.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict

from assay.drift._compare import DriftRecord
from assay.drift._registry import get_drift_method
from assay.errors import InputError
from assay.metrics import Estimate
from assay.metrics._inputs import as_binary_target, as_float_array
from assay.metrics.intervals import wilson_interval

RATE_CHANGE_THRESHOLD = 0.25
"""A rate drifts when it moves more than 25 % of its reference value (the governance
standard's heuristic "flag rate outside ±25 % of baseline"), and the difference is beyond
sampling noise (its 95 % interval excludes 0)."""

Rows = TypeVar("Rows", bound=np.ndarray[Any, Any])

SCORE_METHODS = ("psi", "ks")
"""Registry methods applied to the score distribution, each with its default threshold."""


class RateDrift(BaseModel):
    """A proportion (flag rate or outcome rate) in the reference and the current sample."""

    model_config = ConfigDict(frozen=True)

    name: str
    """What the rate counts, in words: ``"flag rate"`` or ``"outcome rate"``."""
    reference: Estimate
    current: Estimate
    """Each with its Wilson interval."""
    difference: Estimate
    """``current − reference`` with Newcombe's hybrid score interval (``method`` reads
    ``"wilson"``: the interval is built from the two Wilson intervals)."""
    relative_change: float
    """``(current − reference) / reference``."""
    threshold: float
    drifted: bool
    """``|relative_change| > threshold`` and the interval of ``difference`` excludes 0."""

    def summary(self) -> str:
        """The result in plain words."""
        direction = "rose" if self.relative_change > 0 else "fell"
        if self.relative_change == 0:
            direction = "did not change"
        verdict = ("beyond" if self.drifted else "within")
        return (f"The {self.name} {direction} from {self.reference} to {self.current} "
                f"({self.relative_change:+.0%} relative; difference {self.difference}), "
                f"{verdict} the drift rule (more than ±{self.threshold:.0%} of the reference "
                "with an interval of the difference that excludes 0).")


class PredictionDriftResult(BaseModel):
    """Score distribution drift and, with a decision threshold, flag-rate drift."""

    model_config = ConfigDict(frozen=True)

    score: tuple[DriftRecord, ...]
    """One record per method of :data:`SCORE_METHODS`, with feature name ``"score"``."""
    flag_rate: RateDrift | None
    """``None`` when no decision threshold was given."""
    decision_threshold: float | None
    n_reference: int
    n_current: int

    @property
    def drifted(self) -> bool:
        """Whether any score statistic or the flag rate drifted."""
        return (any(r.drifted for r in self.score)
                or (self.flag_rate is not None and self.flag_rate.drifted))

    def summary(self) -> str:
        """The result in plain words."""
        moved = [r for r in self.score if r.drifted]
        statistics = ", ".join(f"{r.method} {r.statistic:.3g} (threshold {r.threshold:g})"
                               for r in self.score)
        head = ("The score distribution moved beyond its effect-size threshold: "
                if moved else "The score distribution did not move beyond its effect-size "
                              "thresholds: ")
        text = head + statistics + "."
        if self.flag_rate is not None:
            rate = self.flag_rate.summary()
            text += (f" At decision threshold {self.decision_threshold:g}, "
                     f"{rate[0].lower()}{rate[1:]}")
        return text


def prediction_drift(
    reference_score: ArrayLike,
    current_score: ArrayLike,
    *,
    threshold: float | None = None,
) -> PredictionDriftResult:
    """Drift of the model's score and, given a decision threshold, of its flag rate.

    Parameters
    ----------
    reference_score, current_score
        Model scores of the reference (validation) and the current patients; no missing values.
    threshold
        Decision threshold: a patient is flagged when ``score >= threshold``. When given, the
        result includes the flag-rate comparison.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = prediction_drift(rng.beta(2, 8, 4000), rng.beta(3, 7, 4000), threshold=0.3)
    >>> result.flag_rate.drifted, [r.method for r in result.score if r.drifted]
    (True, ['psi', 'ks'])
    """
    reference = _non_empty(as_float_array(reference_score, "reference_score"),
                           "reference_score")
    current = _non_empty(as_float_array(current_score, "current_score"), "current_score")
    records = []
    for method in SCORE_METHODS:
        spec = get_drift_method(method)
        statistic = spec.fn(reference, current)
        records.append(DriftRecord(
            feature="score", kind="numeric", method=method, statistic=statistic,
            threshold=spec.threshold, drifted=statistic > spec.threshold,
            p_value=None if spec.p_value is None else spec.p_value(reference, current),
            n_reference=reference.size, n_current=current.size))
    flags = None
    if threshold is not None:
        if not math.isfinite(threshold):
            raise InputError(f"threshold must be a finite number (got {threshold})")
        flags = _rate_drift("flag rate", int((reference >= threshold).sum()), reference.size,
                           int((current >= threshold).sum()), current.size)
    return PredictionDriftResult(score=tuple(records), flag_rate=flags,
                                 decision_threshold=threshold,
                                 n_reference=reference.size, n_current=current.size)


def prevalence_drift(reference_y: ArrayLike, current_y: ArrayLike) -> RateDrift:
    """Drift of the outcome rate (prevalence) between the reference and the current sample.

    Parameters
    ----------
    reference_y, current_y
        0/1 outcomes (1 = event) of the reference and the current patients.

    Examples
    --------
    >>> result = prevalence_drift([1] * 100 + [0] * 900, [1] * 150 + [0] * 850)
    >>> round(result.relative_change, 2), result.drifted
    (0.5, True)
    """
    reference = _non_empty(as_binary_target(reference_y, "reference_y"), "reference_y")
    current = _non_empty(as_binary_target(current_y, "current_y"), "current_y")
    return _rate_drift("outcome rate", int(reference.sum()), reference.size,
                      int(current.sum()), current.size)


def _rate_drift(name: str, reference_events: int, reference_n: int, current_events: int,
               current_n: int, *, threshold: float = RATE_CHANGE_THRESHOLD) -> RateDrift:
    """Compare two proportions: Wilson intervals, Newcombe's difference, the drift rule."""
    if reference_events == 0:
        raise InputError(f"the {name} is 0 in the reference ({reference_n} rows), so its "
                         "relative change is undefined")
    (ref_low, cur_low), (ref_high, cur_high) = wilson_interval(
        [reference_events, current_events], [reference_n, current_n])
    ref_rate, cur_rate = reference_events / reference_n, current_events / current_n
    difference = cur_rate - ref_rate
    low = difference - math.hypot(cur_rate - cur_low, ref_high - ref_rate)
    high = difference + math.hypot(cur_high - cur_rate, ref_rate - ref_low)
    relative = difference / ref_rate
    return RateDrift(
        name=name,
        reference=Estimate(value=ref_rate, ci_low=float(ref_low), ci_high=float(ref_high),
                           method="wilson", n=reference_n, n_events=reference_events),
        current=Estimate(value=cur_rate, ci_low=float(cur_low), ci_high=float(cur_high),
                         method="wilson", n=current_n, n_events=current_events),
        difference=Estimate(value=difference, ci_low=float(low), ci_high=float(high),
                            method="wilson", n=reference_n + current_n),
        relative_change=relative, threshold=threshold,
        drifted=abs(relative) > threshold and (low > 0 or high < 0))


def _non_empty(values: Rows, name: str) -> Rows:
    if values.size == 0:
        raise InputError(f"{name} has no rows")
    return values
