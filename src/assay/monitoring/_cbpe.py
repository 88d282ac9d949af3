"""Label-free performance estimation for binary classifiers: confidence-based (CBPE).

While the outcomes of a monitoring window are not known yet, a calibrated score is its own
forecast of them: a patient with probability ``p`` is a case with probability ``p``. CBPE (as in
NannyML) takes the expected confusion matrix at the operating threshold,

.. math:: E[TP] = \\sum_i p_i [s_i \\ge t], \\quad E[FP] = \\sum_i (1 - p_i) [s_i \\ge t], \\dots

and the expected ROC curve (expected TPR and FPR with each distinct score as threshold), and
reads the metrics off them. The interval is a parametric bootstrap: outcomes ``y* ~ Bernoulli(p)``
are drawn and the metric they would give is recomputed; it is the range the realised metric
falls in if the calibration assumption holds.

That assumption is checked on the reference (where outcomes are known) and stated in every
result: the score must be calibrated there, and must stay so in production. Covariate shift
(a different mix of patients, same ``P(outcome | score)``) is handled; concept drift (a change in
``P(outcome | score)``) is invisible to CBPE by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict
from scipy.stats import rankdata

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import Estimate, estimate, get_metric
from assay.metrics._inputs import as_binary_target, as_float_array, check_same_length
from assay.monitoring._intervals import closed_form_estimate

__all__ = ["CBPE", "CBPE_METRICS", "CalibrationCheck", "fit_cbpe", "isotonic_knots"]

FloatArray = NDArray[np.float64]
CbpeMetric = Literal["auroc", "sensitivity", "specificity", "ppv", "npv", "accuracy"]
Recalibrate = Literal["auto", "always", "never"]

CBPE_METRICS: tuple[CbpeMetric, ...] = (
    "auroc", "sensitivity", "specificity", "ppv", "npv", "accuracy"
)
"""Metrics CBPE estimates. Flag rate is observed, not estimated; O/E is 1 by construction."""

_CELLS_PER_CHUNK = 4_000_000


class CalibrationCheck(BaseModel):
    """The calibration of the scores on the reference, and whether it fails the CBPE assumption.

    The scores count as miscalibrated when the calibration slope's interval excludes 1 (the
    spread of the scores is wrong), or the lower bound of the ICI's interval is above
    ``ici_tolerance`` (the scores are off by a material amount on average, which is how an
    error in calibration-in-the-large shows): evidence of miscalibration, not a point estimate
    that noise alone can push past a cut-off. The calibration intercept is reported but not
    tested: a third test would raise the share of calibrated references that get recalibrated,
    and an intercept error too small to move the ICI past the tolerance barely moves the
    estimates.
    """

    model_config = ConfigDict(frozen=True)

    calibration_slope: Estimate
    calibration_intercept: Estimate
    ici: Estimate
    ici_tolerance: float
    reasons: tuple[str, ...]
    """Each failed criterion in words; empty when the scores look calibrated."""

    @property
    def miscalibrated(self) -> bool:
        return bool(self.reasons)


class CBPE(BaseModel):
    """A fitted confidence-based performance estimator (see :func:`fit_cbpe`)."""

    model_config = ConfigDict(frozen=True)

    method: Literal["cbpe"] = "cbpe"
    threshold: float
    """Operating threshold on the raw score: flag when ``score >= threshold``."""
    level: float
    n_replicates: int
    seed: int
    n_reference: int
    check: CalibrationCheck
    calibrator_fitted: bool
    """Whether the estimates use isotonic-recalibrated probabilities instead of the raw score."""
    calibrator_scores: tuple[float, ...] = ()
    calibrator_probabilities: tuple[float, ...] = ()
    """Knots of the isotonic calibrator, linearly interpolated and clipped at the ends."""
    assumption: str

    def probabilities(self, score: ArrayLike) -> FloatArray:
        """The probability of the outcome CBPE uses for each score."""
        values = _probability_scores(score, "score")
        if not self.calibrator_fitted:
            return values
        return np.interp(values, self.calibrator_scores, self.calibrator_probabilities)

    def estimate(
        self, score: ArrayLike, *, metrics: Sequence[CbpeMetric] = CBPE_METRICS
    ) -> dict[str, Estimate]:
        """Estimated metrics of a sample whose outcomes are not known yet.

        Parameters
        ----------
        score
            The model's scores (probabilities) in the monitoring window.
        metrics
            Which of :data:`CBPE_METRICS` to estimate.

        Returns
        -------
        dict of str to Estimate
            Keyed by metric name, in the order asked. The value is the metric of the expected
            confusion matrix (ROC curve for AUROC); the interval is the parametric-bootstrap
            percentile interval of the realised metric, over the replicates where it is defined.
            ``method`` is ``"cbpe"`` and ``n_events`` is ``None`` (no outcomes).

        Raises
        ------
        UndefinedMetricError
            When a metric has no expected value (for example PPV when nobody is flagged).
        """
        unknown = [m for m in metrics if m not in CBPE_METRICS]
        if unknown:
            raise InputError(f"CBPE estimates {', '.join(CBPE_METRICS)}; not {unknown}")
        values = _probability_scores(score, "score")
        p = self.probabilities(values)
        n = values.size
        replicates = _replicate_metrics(values, p, self.threshold, self.n_replicates, self.seed)
        expected_y = np.concatenate([np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)])
        doubled_score, weight = np.concatenate([values, values]), np.concatenate([p, 1.0 - p])
        tail = (1 - self.level) / 2
        results: dict[str, Estimate] = {}
        for name in metrics:
            spec = get_metric(name)
            params = {"threshold": self.threshold} if "threshold" in spec.params else {}
            try:
                value = spec.fn(expected_y, doubled_score, sample_weight=weight, **params)
            except UndefinedMetricError as exc:
                raise UndefinedMetricError(f"CBPE {name}: {exc}") from exc
            defined = replicates[name][np.isfinite(replicates[name])]
            if defined.size == 0:
                raise UndefinedMetricError(f"CBPE {name}: undefined in every bootstrap replicate")
            low, high = np.quantile(defined, [tail, 1 - tail])
            results[name] = Estimate(value=float(value), ci_low=float(low), ci_high=float(high),
                                     level=self.level, method="cbpe", n=n)
        return results


def fit_cbpe(
    reference_y: ArrayLike,
    reference_score: ArrayLike,
    *,
    threshold: float,
    level: float = 0.95,
    seed: int = 0,
    n_replicates: int = 500,
    recalibrate: Recalibrate = "auto",
    ici_tolerance: float = 0.02,
    n_boot: int = 200,
) -> CBPE:
    """Check the calibration assumption on the reference and set up CBPE.

    Parameters
    ----------
    reference_y, reference_score
        Outcomes and scores (probabilities) on the reference data, usually the validation set.
    threshold
        Operating threshold: a patient is flagged when ``score >= threshold``, as in
        :func:`assay.metrics.sensitivity`.
    level
        Confidence level of the calibration intervals and of the estimates' intervals.
    seed
        Seed of the calibration bootstrap and of the parametric bootstrap.
    n_replicates
        Parametric-bootstrap replicates per estimate.
    recalibrate
        ``"auto"`` fits an isotonic calibrator when the check finds the reference miscalibrated
        (see :class:`CalibrationCheck`); ``"always"`` and ``"never"`` force the choice.
    ici_tolerance
        The ICI (mean absolute calibration error) above which the scores count as miscalibrated.
    n_boot
        Bootstrap replicates of the calibration slope, intercept and ICI intervals.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> score = 1 / (1 + np.exp(-rng.normal(-1, 1, 3000)))
    >>> y = rng.binomial(1, score)
    >>> cbpe = fit_cbpe(y, score, threshold=0.5)
    >>> cbpe.calibrator_fitted
    False
    >>> sorted(cbpe.estimate(score[:500]))
    ['accuracy', 'auroc', 'npv', 'ppv', 'sensitivity', 'specificity']
    """
    y = as_binary_target(reference_y, "reference_y")
    score = _probability_scores(reference_score, "reference_score")
    check_same_length(reference_y=y, reference_score=score)
    if isinstance(threshold, bool) or not np.isfinite(threshold):
        raise InputError(f"threshold must be a finite number, got {threshold!r}")
    if recalibrate not in ("auto", "always", "never"):
        raise InputError(f"recalibrate must be 'auto', 'always' or 'never', got {recalibrate!r}")
    if n_replicates < 20:
        raise InputError(f"n_replicates must be at least 20, got {n_replicates}")
    check = check_calibration(y, score, level=level, seed=seed, n_boot=n_boot,
                              ici_tolerance=ici_tolerance)
    fitted = recalibrate == "always" or (recalibrate == "auto" and check.miscalibrated)
    knots_x, knots_y = isotonic_knots(score, y) if fitted else (np.empty(0), np.empty(0))
    return CBPE(threshold=float(threshold), level=level, n_replicates=n_replicates, seed=seed,
                n_reference=int(y.size), check=check, calibrator_fitted=fitted,
                calibrator_scores=tuple(knots_x.tolist()),
                calibrator_probabilities=tuple(knots_y.tolist()),
                assumption=_assumption(check, fitted))


def check_calibration(
    y: NDArray[np.int8], score: FloatArray, *, level: float, seed: int, n_boot: int,
    ici_tolerance: float,
) -> CalibrationCheck:
    """Calibration slope and intercept (Wald intervals) and ICI (bootstrap), and the verdict."""
    slope, intercept = (closed_form_estimate(name, y, score, level=level)
                        for name in ("calibration_slope", "calibration_intercept"))
    ici = estimate("ici", y, score, ci="bootstrap", level=level, seed=seed, n_boot=n_boot)
    reasons = []
    assert slope.ci_low is not None and slope.ci_high is not None
    assert ici.ci_low is not None
    if not slope.ci_low <= 1 <= slope.ci_high:
        reasons.append(f"calibration slope {slope} excludes 1")
    if ici.ci_low > ici_tolerance:
        reasons.append(f"ICI {ici} is above {ici_tolerance:g}")
    return CalibrationCheck(calibration_slope=slope, calibration_intercept=intercept, ici=ici,
                            ici_tolerance=ici_tolerance, reasons=tuple(reasons))


def _assumption(check: CalibrationCheck, fitted: bool) -> str:
    measured = (f"calibration slope {check.calibration_slope}, ICI {check.ici.value:.3f}")
    blind = "they cannot see concept drift (a change in P(outcome | score))."
    if not fitted:
        return ("Estimates assume the scores stay calibrated in production as they were on the "
                f"reference ({measured}); {blind}")
    if check.reasons:
        head = (f"The scores were miscalibrated on the reference ({'; '.join(check.reasons)}), "
                "so they were recalibrated by isotonic regression on the reference.")
    else:
        head = ("The scores were recalibrated by isotonic regression on the reference, as "
                f"requested ({measured}).")
    return (f"{head} Estimates assume the recalibrated scores stay calibrated in production as "
            f"they were on the reference; {blind}")


def isotonic_knots(score: FloatArray, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Isotonic (non-decreasing) regression of ``y`` on ``score``, as knots to interpolate.

    Tied scores are pooled first (mean outcome, weighted by their count); the pool-adjacent-
    violators algorithm then fits the non-decreasing step values. Interpolating linearly between
    the knots and clipping outside them gives scikit-learn's
    ``IsotonicRegression(out_of_bounds="clip")``.
    """
    outcome = np.asarray(y, dtype=np.float64)
    knots, inverse = np.unique(score, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    means = np.bincount(inverse, weights=outcome) / counts
    block_mean: list[float] = []
    block_weight: list[float] = []
    block_size: list[int] = []
    for mean, weight in zip(means.tolist(), counts.tolist(), strict=True):
        block_mean.append(mean)
        block_weight.append(weight)
        block_size.append(1)
        while len(block_mean) > 1 and block_mean[-2] > block_mean[-1]:
            weight = block_weight[-2] + block_weight[-1]
            merged = (block_mean[-2] * block_weight[-2] + block_mean[-1] * block_weight[-1])
            size = block_size[-2] + block_size[-1]
            del block_mean[-1], block_weight[-1], block_size[-1]
            block_mean[-1], block_weight[-1], block_size[-1] = merged / weight, weight, size
    fitted = np.repeat(np.asarray(block_mean), block_size)
    return knots, fitted


def _replicate_metrics(
    score: FloatArray, p: FloatArray, threshold: float, n_replicates: int, seed: int
) -> dict[str, FloatArray]:
    """The realised metrics under ``n_replicates`` draws of ``y* ~ Bernoulli(p)``; NaN if undefined.

    Flags do not depend on the outcome, so each replicate needs only its number of cases, of
    flagged cases and the rank sum of its cases (AUROC by the Mann-Whitney statistic with
    mid-ranks, which counts ties one half as :func:`assay.metrics.auroc` does).
    """
    rng = np.random.default_rng(seed)
    n = score.size
    flagged = score >= threshold
    n_flagged = float(np.count_nonzero(flagged))
    ranks = rankdata(score)
    cases, true_pos, rank_sum = (np.empty(n_replicates) for _ in range(3))
    chunk = max(1, _CELLS_PER_CHUNK // max(n, 1))
    for start in range(0, n_replicates, chunk):
        stop = min(start + chunk, n_replicates)
        outcomes = rng.random((stop - start, n)) < p
        cases[start:stop] = outcomes.sum(axis=1)
        true_pos[start:stop] = outcomes[:, flagged].sum(axis=1)
        rank_sum[start:stop] = outcomes.astype(np.float64) @ ranks
    controls = n - cases
    false_neg = cases - true_pos
    true_neg = (n - n_flagged) - false_neg
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "auroc": np.where((cases > 0) & (controls > 0),
                              (rank_sum - cases * (cases + 1) / 2) / (cases * controls), np.nan),
            "sensitivity": np.where(cases > 0, true_pos / cases, np.nan),
            "specificity": np.where(controls > 0, true_neg / controls, np.nan),
            "ppv": np.where(n_flagged > 0, true_pos / n_flagged, np.nan),
            "npv": np.where(n_flagged < n, true_neg / (n - n_flagged), np.nan),
            "accuracy": (true_pos + true_neg) / n if n else np.full(n_replicates, np.nan),
        }


def _probability_scores(values: ArrayLike, name: str) -> FloatArray:
    score = as_float_array(values, name)
    outside = (score < 0) | (score > 1)
    if outside.any():
        raise InputError(f"{name} must be probabilities in [0, 1] (found {int(outside.sum())} "
                         f"rows outside, e.g. {score[outside][0]:g})")
    if score.size == 0:
        raise InputError(f"{name} is empty")
    return score

