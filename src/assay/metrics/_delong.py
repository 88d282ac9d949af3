"""DeLong's variance of the AUROC, in O(n log n) (DeLong et al. 1988; Sun & Xu 2014).

For ``m`` cases with scores ``x_i`` and ``n`` controls with scores ``y_j``, let
``ψ(x, y) = [x > y] + ½[x = y]``. The AUROC is the two-sample U-statistic
``θ = (1/mn) Σ_i Σ_j ψ(x_i, y_j)``. DeLong, DeLong & Clarke-Pearson (1988) estimate its
variance from the *structural components*

.. math::

    V_{10}(x_i) = \\frac1n \\sum_j ψ(x_i, y_j), \\qquad
    V_{01}(y_j) = \\frac1m \\sum_i ψ(x_i, y_j),

    S_{10} = \\frac{1}{m-1} \\sum_i (V_{10}(x_i) - θ)^2, \\qquad
    S_{01} = \\frac{1}{n-1} \\sum_j (V_{01}(y_j) - θ)^2, \\qquad
    \\widehat{\\mathrm{Var}}(θ) = S_{10}/m + S_{01}/n,

and, for several scores on the same patients, the covariance from the cross-products of the
components (``S^{rs}_{10}`` and ``S^{rs}_{01}`` in place of the squares). Sun & Xu (2014) showed
that the components follow from midranks: with ``T_Z``, ``T_X``, ``T_Y`` the midranks of a
score in the pooled sample, among the cases and among the controls,
``V_{10}(x_i) = (T_Z(x_i) − T_X(x_i))/n`` and ``V_{01}(y_j) = 1 − (T_Z(y_j) − T_Y(y_j))/m``.
``T_Z(x_i) − T_X(x_i)`` is the number of controls below ``x_i`` plus half of those tied with
it, so this module counts it directly by binary search in the sorted controls (and
symmetrically for the controls), which is the same number as the midrank difference and costs
two sorts and four ``searchsorted`` passes, O(n log n) overall; ties count one half exactly.

Weights are supported only as integer frequency weights, for which every formula above is
applied to the data with each row repeated ``w`` times (exactly, without expanding it).
Non-integer weights (inverse-probability or survey weights) have no exact DeLong form here:
:func:`assay.metrics.estimate` then uses the bootstrap instead.

References
----------
E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson (1988). Comparing the areas under two or more
correlated receiver operating characteristic curves: a nonparametric approach. *Biometrics*
44(3):837-845.

X. Sun, W. Xu (2014). Fast implementation of DeLong's algorithm for comparing the areas under
correlated receiver operating characteristic curves. *IEEE Signal Processing Letters*
21(11):1389-1393.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._compare import PairedComparison
from assay.metrics._estimate import Estimate
from assay.metrics._inputs import (
    as_binary_target,
    as_float_array,
    as_weights,
    check_same_length,
)

__all__ = ["DeLongComponents", "delong_auroc_ci", "delong_components", "delong_test"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DeLongComponents:
    """AUROCs of ``k`` scores on the same patients and their DeLong covariance.

    Attributes
    ----------
    auc
        ``(k,)`` AUROCs.
    covariance
        ``(k, k)`` matrix ``S_10/m + S_01/n``.
    v10, v01
        ``(k, m)`` and ``(k, n)`` structural components, cases and controls in row order
        (rows of weight 0 left out).
    case_weight, control_weight
        The weights of those cases and controls (ones when unweighted).
    n_positive, n_negative
        ``m`` and ``n``: the (weighted) number of cases and controls.
    """

    auc: FloatArray
    covariance: FloatArray
    v10: FloatArray
    v01: FloatArray
    case_weight: FloatArray
    control_weight: FloatArray
    n_positive: float
    n_negative: float


def _placements(
    sorted_other: FloatArray, cumulative_weight: FloatArray, queries: FloatArray
) -> FloatArray:
    """Weight of ``sorted_other`` strictly below each query plus half the weight tied with it."""
    below = cumulative_weight[np.searchsorted(sorted_other, queries, side="left")]
    below_or_tied = cumulative_weight[np.searchsorted(sorted_other, queries, side="right")]
    return 0.5 * (below + below_or_tied)


def _sorted_with_cumulative(
    values: FloatArray, weights: FloatArray | None
) -> tuple[FloatArray, FloatArray]:
    """The values sorted, and the cumulative weight before each position (length + 1)."""
    if weights is None:
        return np.sort(values), np.arange(values.size + 1, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    cumulative = np.concatenate(([0.0], np.cumsum(weights[order])))
    return values[order], cumulative


def delong_components(
    y_true: ArrayLike,
    scores: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
) -> DeLongComponents:
    """Structural components, AUROCs and DeLong covariance of one or more scores.

    Parameters
    ----------
    y_true
        0/1 outcome, length ``N``.
    scores
        ``(N,)`` or ``(k, N)`` scores; higher means more likely positive.
    sample_weight
        Optional integer frequency weights (see the module notes).

    Raises
    ------
    InputError
        For bad inputs or non-integer weights.
    UndefinedMetricError
        With fewer than two cases or two controls (the variance needs both).
    """
    y = as_binary_target(y_true)
    matrix = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if matrix.ndim != 2:
        raise InputError(f"scores must be one- or two-dimensional, got shape {matrix.shape}")
    for row in matrix:
        as_float_array(row, "y_score")
    check_same_length(y_true=y, y_score=matrix[0])
    weights = _frequency_weights(sample_weight, y.size)
    is_case = y == 1
    if weights is not None:
        used = weights > 0
        is_case, matrix, weights = is_case[used], matrix[:, used], weights[used]
    case_weights = None if weights is None else weights[is_case]
    control_weights = None if weights is None else weights[~is_case]
    m = float(is_case.sum()) if case_weights is None else float(case_weights.sum())
    n = float((~is_case).sum()) if control_weights is None else float(control_weights.sum())
    _check_class_sizes(m, n)
    v10 = np.empty((matrix.shape[0], int(is_case.sum())))
    v01 = np.empty((matrix.shape[0], int((~is_case).sum())))
    for k, score in enumerate(matrix):
        cases, controls = score[is_case], score[~is_case]
        sorted_controls, control_cum = _sorted_with_cumulative(controls, control_weights)
        sorted_cases, case_cum = _sorted_with_cumulative(cases, case_weights)
        v10[k] = _placements(sorted_controls, control_cum, cases) / n
        v01[k] = 1.0 - _placements(sorted_cases, case_cum, controls) / m
    case_w = np.ones(v10.shape[1]) if case_weights is None else case_weights
    control_w = np.ones(v01.shape[1]) if control_weights is None else control_weights
    auc = v10 @ case_w / m
    d10, d01 = v10 - auc[:, None], v01 - auc[:, None]
    s10 = (d10 * case_w) @ d10.T / (m - 1)
    s01 = (d01 * control_w) @ d01.T / (n - 1)
    return DeLongComponents(
        auc=auc,
        covariance=s10 / m + s01 / n,
        v10=v10,
        v01=v01,
        case_weight=case_w,
        control_weight=control_w,
        n_positive=m,
        n_negative=n,
    )


def _frequency_weights(sample_weight: ArrayLike | None, n: int) -> FloatArray | None:
    weights = as_weights(sample_weight, n)
    if weights is not None and not np.array_equal(weights, np.round(weights)):
        raise InputError(
            "the DeLong interval takes only integer (frequency) weights; for other weights "
            "use the bootstrap (ci='bootstrap')"
        )
    return weights


def _single_auc_variance(y: NDArray[np.int8], score: FloatArray) -> tuple[float, float]:
    """AUROC and its DeLong variance for one unweighted score, on sorted arrays.

    The placements are kept doubled so that they are exact integers and the AUROC is their
    exact sum divided once.
    """
    is_case = y == 1
    cases, controls = np.sort(score[is_case]), np.sort(score[~is_case])
    m, n = cases.size, controls.size
    _check_class_sizes(m, n)
    twice_v10 = 2 * _placements(controls, np.arange(n + 1, dtype=np.float64), cases)
    twice_v01 = 2 * (m - _placements(cases, np.arange(m + 1, dtype=np.float64), controls))
    auc = float(twice_v10.sum()) / (2.0 * m * n)
    s10 = float(np.var(twice_v10 / (2 * n), ddof=1))
    s01 = float(np.var(twice_v01 / (2 * m), ddof=1))
    return auc, s10 / m + s01 / n


def _check_class_sizes(m: float, n: float) -> None:
    if m < 2 or n < 2:
        raise UndefinedMetricError(
            "the DeLong interval needs at least 2 positive and 2 negative cases "
            f"(found {m:g} and {n:g})"
        )


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), got {level}")
    return float(stats.norm.ppf(0.5 + level / 2))


def delong_auroc_ci(
    y_true: ArrayLike,
    y_score: ArrayLike,
    level: float = 0.95,
    *,
    sample_weight: ArrayLike | None = None,
) -> Estimate:
    """AUROC with its DeLong confidence interval.

    The interval is the plain normal (Wald) interval ``θ ± z·sqrt(Var(θ))`` with DeLong's
    variance (see the module notes), clipped to [0, 1]. It is computed on the AUROC scale,
    not the logit scale: this keeps it the interval DeLong et al. and most software (pROC,
    the DeLong test) report, so the numbers are comparable. Its coverage is near nominal for
    moderate samples and AUROC away from 1; close to 1 with few cases it can undercover, and a
    perfectly separating score has variance 0 and the degenerate interval [1, 1].

    Parameters
    ----------
    y_true
        0/1 outcome.
    y_score
        Any score where higher means more likely positive.
    level
        Confidence level, for example 0.95.
    sample_weight
        Optional integer frequency weights (non-integer weights raise :class:`InputError`).

    Returns
    -------
    Estimate
        ``method="delong"``, with ``n`` rows and ``n_events`` positive rows.

    Raises
    ------
    UndefinedMetricError
        With fewer than two cases or two controls.

    Examples
    --------
    >>> est = delong_auroc_ci([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.7])
    >>> round(est.value, 4), est.method
    (0.8889, 'delong')
    """
    z = _z(level)
    y = as_binary_target(y_true)
    score = as_float_array(y_score, "y_score")
    check_same_length(y_true=y, y_score=score)
    if sample_weight is None:
        auc, variance = _single_auc_variance(y, score)
    else:
        c = delong_components(y, score, sample_weight=sample_weight)
        auc, variance = float(c.auc[0]), float(c.covariance[0, 0])
    half_width = z * float(np.sqrt(max(variance, 0.0)))
    return Estimate(
        value=auc,
        ci_low=max(0.0, auc - half_width),
        ci_high=min(1.0, auc + half_width),
        level=level,
        method="delong",
        n=int(y.size),
        n_events=int((y == 1).sum()),
    )


def delong_test(
    y_true: ArrayLike,
    score_a: ArrayLike,
    score_b: ArrayLike,
    level: float = 0.95,
    *,
    sample_weight: ArrayLike | None = None,
    a: str = "a",
    b: str = "b",
) -> PairedComparison:
    """DeLong's test and interval for the difference of two AUROCs on the same patients.

    With ``θ_a``, ``θ_b`` the AUROCs and ``S`` their DeLong covariance,
    ``Var(θ_a − θ_b) = S_aa + S_bb − 2 S_ab`` (computed as the variance of the differences of
    the structural components, which cannot go negative by rounding),
    ``z = (θ_a − θ_b) / sqrt(Var)``, the two-sided p-value is ``2(1 − Φ(|z|))`` and the
    interval is ``θ_a − θ_b ± z_{1−α/2} sqrt(Var)`` (DeLong et al. 1988).

    Parameters
    ----------
    y_true
        0/1 outcome.
    score_a, score_b
        The two scores, one value per patient, in the same row order.
    level
        Confidence level of the interval for ``a − b``.
    sample_weight
        Optional integer frequency weights.
    a, b
        Names of the two scores, recorded in the result.

    Returns
    -------
    PairedComparison
        ``difference = AUROC(a) − AUROC(b)``, ``method="delong"``. When the two scores rank
        every case-control pair the same way the difference has variance 0: the p-value is
        then 1 if the difference is 0.

    Raises
    ------
    UndefinedMetricError
        With fewer than two cases or two controls, or a non-zero difference with zero
        variance.
    """
    z = _z(level)
    y = as_binary_target(y_true)
    first = as_float_array(score_a, "score_a")
    second = as_float_array(score_b, "score_b")
    check_same_length(y_true=y, score_a=first, score_b=second)
    c = delong_components(y, np.vstack([first, second]), sample_weight=sample_weight)
    difference = float(c.auc[0] - c.auc[1])
    d10 = c.v10[0] - c.v10[1] - difference
    d01 = c.v01[0] - c.v01[1] - difference
    m, n = c.n_positive, c.n_negative
    variance = float(c.case_weight @ d10**2) / ((m - 1) * m) + float(c.control_weight @ d01**2) / (
        (n - 1) * n
    )
    if variance > 0:
        sd = float(np.sqrt(variance))
        p_value = float(2 * stats.norm.sf(abs(difference) / sd))
    elif difference == 0:
        sd, p_value = 0.0, 1.0
    else:
        raise UndefinedMetricError(
            "the two AUROCs differ but the DeLong variance of the difference is 0"
        )
    return PairedComparison(
        metric="auroc",
        a=a,
        b=b,
        value_a=float(c.auc[0]),
        value_b=float(c.auc[1]),
        difference=difference,
        ci_low=difference - z * sd,
        ci_high=difference + z * sd,
        level=level,
        p_value=p_value,
        method="delong",
        n=int(y.size),
        n_events=int((y == 1).sum()),
    )
