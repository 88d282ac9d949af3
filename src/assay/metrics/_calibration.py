"""Calibration of predicted probabilities: logistic recalibration, observed/expected, ICI, E90,
ECE and the binned reliability curve.

The metrics have the signature ``fn(y_true, y_score, /, *, sample_weight=None)`` with
``y_true`` the 0/1 outcome, ``y_score`` the predicted probability ``p`` and ``sample_weight``
optional frequency weights. The logistic fits (slope and intercept) use one weighted
Newton-Raphson fitter; the smooth
calibration curve behind ICI and E90 is R's ``lowess(p, y, iter = 0)`` (see
:mod:`assay.metrics._lowess`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._binary import binary_inputs, class_totals, total_weight
from assay.metrics._curves import Curve
from assay.metrics._lowess import lowess
from assay.metrics._registry import MetricSpec, register_metric
from assay.metrics.intervals import wilson_interval

FloatArray = NDArray[np.float64]

_MAX_ITERATIONS = 100
_TOLERANCE = 1e-10
_NOT_CONVERGED = (
    f"the logistic calibration fit did not converge in {_MAX_ITERATIONS} Newton steps; the "
    "outcome is probably perfectly separated by the predicted probabilities"
)


def _register(
    fn: Callable[..., float],
    title: str,
    description: str,
    *,
    greater_is_better: bool | None,
    ideal: float,
    params: tuple[str, ...] = (),
    stratify: bool = True,
) -> None:
    register_metric(
        MetricSpec(
            name=fn.__name__,
            fn=fn,
            title=title,
            task="binary",
            score_kind="probability",
            greater_is_better=greater_is_better,
            ideal=ideal,
            params=params,
            description=description,
            tags=frozenset({"calibration"}),
            stratify=stratify,
        )
    )


def fit_logistic(
    design: FloatArray, y: NDArray[np.int8], weights: FloatArray, offset: FloatArray
) -> FloatArray:
    """Weighted maximum-likelihood logistic regression ``logit P(y=1) = offset + design @ β``.

    Newton-Raphson with step halving, from ``β = 0``, until no coefficient moves by more than
    ``1e-10 × (1 + |β|)``. ``weights`` are frequency weights.

    Raises
    ------
    UndefinedMetricError
        When the fit does not converge (the outcome is perfectly separated by the predictor, so
        the estimate is infinite) or the information matrix is singular.
    """
    beta = np.zeros(design.shape[1])
    eta = offset + design @ beta
    loglik = _log_likelihood(eta, y, weights)
    for _ in range(_MAX_ITERATIONS):
        mu = expit(eta)
        gradient = design.T @ (weights * (y - mu))
        information = design.T @ (design * (weights * mu * (1.0 - mu))[:, None])
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError as exc:
            raise UndefinedMetricError(_NOT_CONVERGED) from exc
        scale = 1.0
        while True:
            candidate = beta + scale * step
            eta_candidate = offset + design @ candidate
            loglik_candidate = _log_likelihood(eta_candidate, y, weights)
            if loglik_candidate >= loglik - 1e-12 * abs(loglik) or scale < 1e-8:
                break
            scale /= 2
        converged = np.all(np.abs(candidate - beta) <= _TOLERANCE * (1 + np.abs(candidate)))
        beta, eta, loglik = candidate, eta_candidate, loglik_candidate
        if converged and np.all(np.isfinite(beta)):
            return beta
    raise UndefinedMetricError(_NOT_CONVERGED)


def _log_likelihood(eta: FloatArray, y: NDArray[np.int8], weights: FloatArray) -> float:
    return float(np.sum(weights * (y * eta - np.logaddexp(0.0, eta))))


def _logit_inputs(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[NDArray[np.int8], FloatArray, FloatArray]:
    """Target, ``logit(p)`` and weights for the logistic recalibration fits."""
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    class_totals(y, weights)
    used = weights > 0
    extreme = int(np.count_nonzero(((p == 0) | (p == 1)) & used))
    if extreme:
        raise UndefinedMetricError(
            f"{extreme} rows have a predicted probability of exactly 0 or 1, whose logit is "
            "infinite"
        )
    y, p, weights = y[used], p[used], weights[used]
    return y, np.log(p) - np.log1p(-p), weights


def calibration_slope(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Calibration slope: ``β₁`` in the logistic regression ``logit P(y=1) = β₀ + β₁ logit(p)``.

    1 is ideal; below 1 the predictions are too extreme (typical of overfitting), above 1 too
    moderate (Cox, 1958; Van Calster et al., 2016).

    Raises
    ------
    UndefinedMetricError
        With no positive or no negative cases, a probability of exactly 0 or 1 (its logit is
        infinite), all probabilities equal, or perfect separation.
    """
    y, logit, weights = _logit_inputs(y_true, y_score, sample_weight)
    if np.all(logit == logit[0]):
        raise UndefinedMetricError("all predicted probabilities are equal")
    cases, controls = logit[y == 1], logit[y == 0]
    if cases.min() >= controls.max() or controls.min() >= cases.max():
        # (quasi-)complete separation: with one predictor the maximum-likelihood slope is
        # infinite exactly when the classes' ranges do not overlap (ties at one point included)
        raise UndefinedMetricError(
            "the outcome is perfectly separated by the predicted probabilities, so the "
            "calibration slope is infinite"
        )
    design = np.column_stack([np.ones_like(logit), logit])
    return float(fit_logistic(design, y, weights, np.zeros_like(logit))[1])


_register(
    calibration_slope,
    "Calibration slope",
    "Slope of logit(p) in a logistic regression of the outcome on logit(p).",
    greater_is_better=None,
    ideal=1.0,
)


def calibration_intercept(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Calibration-in-the-large: ``α`` in ``logit P(y=1) = α + logit(p)`` (``logit(p)`` offset).

    0 is ideal; above 0 the predictions are too low on average, below 0 too high
    (Van Calster et al., 2016).

    Raises
    ------
    UndefinedMetricError
        With no positive or no negative cases or a probability of exactly 0 or 1.
    """
    y, logit, weights = _logit_inputs(y_true, y_score, sample_weight)
    return float(fit_logistic(np.ones((logit.size, 1)), y, weights, logit)[0])


_register(
    calibration_intercept,
    "Calibration intercept",
    "Calibration-in-the-large: logistic intercept with logit(p) as offset.",
    greater_is_better=None,
    ideal=0.0,
    stratify=False,
)


def oe_ratio(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Observed/expected ratio: ``Σ w y / Σ w p``, observed events over predicted events.

    1 is ideal; above 1 the model under-predicts risk (Debray et al., 2017).

    Raises
    ------
    UndefinedMetricError
        When every predicted probability is 0 (no expected events).

    Examples
    --------
    >>> oe_ratio([1, 0, 1, 0], [0.5, 0.5, 0.25, 0.25])
    1.3333333333333333
    """
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    expected = float(np.sum(weights * p))
    if expected <= 0:
        raise UndefinedMetricError("no expected events: every predicted probability is 0")
    return float(np.sum(weights * y)) / expected


_register(
    oe_ratio,
    "Observed/expected ratio",
    "Observed events divided by the sum of predicted probabilities.",
    greater_is_better=None,
    ideal=1.0,
    stratify=False,
)


def _lowess_errors(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    """``|p − lowess curve at p|`` per row with positive weight, and those weights."""
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    total_weight(weights)
    used = weights > 0
    y, p, weights = y[used], p[used], weights[used]
    curve = lowess(p, y.astype(np.float64), sample_weight=weights)
    return np.abs(p - curve), weights


def ici(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """Integrated calibration index: the mean distance between ``p`` and the smooth calibration
    curve.

    ``ICI = Σ w |p − ĉ(p)| / Σ w`` where ``ĉ`` is the lowess smooth of ``y`` on ``p`` with span
    2/3 and no robustness iterations, exactly R's ``lowess(p, y, iter = 0)`` as used by
    ``rms::val.prob`` (Austin & Steyerberg, 2019, "Eavg"). 0 is ideal.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).
    """
    errors, weights = _lowess_errors(y_true, y_score, sample_weight)
    return float(np.sum(weights * errors) / weights.sum())


_register(
    ici,
    "Integrated calibration index (ICI)",
    "Mean |p - lowess calibration curve at p| (Austin & Steyerberg, 2019).",
    greater_is_better=False,
    ideal=0.0,
)


def e90(
    y_true: ArrayLike, y_score: ArrayLike, /, *, sample_weight: ArrayLike | None = None
) -> float:
    """E90: the 90th percentile of ``|p − ĉ(p)|``, with ``ĉ`` the curve of :func:`ici`.

    The percentile is R's default (type 7, linear between order statistics, as
    ``numpy.quantile``), with weights as frequencies (Austin & Steyerberg, 2019). 0 is ideal.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).
    """
    errors, weights = _lowess_errors(y_true, y_score, sample_weight)
    return weighted_quantile(errors, weights, 0.9)


_register(
    e90,
    "E90",
    "90th percentile of |p - lowess calibration curve at p|.",
    greater_is_better=False,
    ideal=0.0,
)


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """Type-7 quantile of ``values`` with frequency ``weights`` (integer weights give the
    quantile of the values repeated; weights of one give ``numpy.quantile``)."""
    order = np.argsort(values, kind="stable")
    sorted_values, cumulative = values[order], np.cumsum(weights[order])
    position = (cumulative[-1] - 1) * q  # 0-based position among the weighted copies
    below = np.floor(position)
    rows = np.searchsorted(cumulative, [below + 1, below + 2], side="left")
    low, high = sorted_values[np.minimum(rows, values.size - 1)]
    return float(low + (position - below) * (high - low))


def _bin_index(p: FloatArray, edges: FloatArray) -> NDArray[np.intp]:
    """Bin of each probability; bins are ``(a, b]`` except the first, ``[0, b]``, as
    scikit-learn's ``calibration_curve``."""
    return np.searchsorted(edges[1:-1], p, side="left")


def _uniform_edges(n_bins: int) -> FloatArray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise InputError(f"n_bins must be a positive integer, got {n_bins!r}")
    return np.linspace(0.0, 1.0, int(n_bins) + 1)


def ece(
    y_true: ArrayLike,
    y_score: ArrayLike,
    /,
    *,
    sample_weight: ArrayLike | None = None,
    n_bins: int = 10,
) -> float:
    """Expected calibration error over ``n_bins`` equal-width bins of ``p`` in [0, 1].

    ``ECE = Σ_b (W_b / W) |mean p in b − event rate in b|`` with ``W_b`` the weight in bin
    ``b``; empty bins contribute nothing (Naeini et al., 2015). Bins are ``(a, b]`` except the
    first, ``[0, b]``. 0 is ideal; the value depends on the binning.

    Raises
    ------
    UndefinedMetricError
        With no rows (or all weights zero).

    Examples
    --------
    >>> round(ece([0, 1, 1, 0], [0.1, 0.15, 0.9, 0.8], n_bins=2), 4)
    0.3625
    """
    edges = _uniform_edges(n_bins)
    y, p, weights = binary_inputs(y_true, y_score, sample_weight, probability=True)
    total = total_weight(weights)
    bins = _bin_index(p, edges)
    gap = np.bincount(bins, weights * (p - y), minlength=edges.size - 1)
    return float(np.abs(gap).sum() / total)


_register(
    ece,
    "Expected calibration error (ECE)",
    "Bin-share-weighted mean |mean p - event rate| over equal-width bins.",
    greater_is_better=False,
    ideal=0.0,
    params=("n_bins",),
)


def reliability_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
    level: float = 0.95,
) -> Curve:
    """The binned reliability diagram: per bin, mean predicted probability against event rate.

    Bins are equal-width on [0, 1] (``strategy="uniform"``) or at the quantiles of ``p``
    (``"quantile"``), ``(a, b]`` except the first, ``[a, b]``, as scikit-learn's
    ``calibration_curve``; empty bins are left out.

    Parameters
    ----------
    y_true, y_score
        0/1 outcome and predicted probability (unweighted: the interval is on counts).
    n_bins
        Number of bins.
    strategy
        ``"uniform"`` or ``"quantile"`` bin edges.
    level
        Confidence level of the Wilson interval for each bin's event rate.

    Returns
    -------
    Curve
        ``kind="reliability"`` with columns ``bin_low``, ``bin_high`` (edges), ``predicted``
        (mean ``p``), ``observed`` (event rate), ``observed_low``/``observed_high`` (Wilson
        interval at ``level``), ``n`` and ``n_events`` per bin.
    """
    y, p, _ = binary_inputs(y_true, y_score, None, probability=True)
    if p.size == 0:
        raise UndefinedMetricError("no rows")
    if strategy == "uniform":
        edges = _uniform_edges(n_bins)
    elif strategy == "quantile":
        edges = np.percentile(p, _uniform_edges(n_bins) * 100)
    else:
        raise InputError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    bins = _bin_index(p, edges)
    count = np.bincount(bins, minlength=edges.size - 1)
    events = np.bincount(bins, y.astype(np.float64), minlength=edges.size - 1)
    predicted = np.bincount(bins, p, minlength=edges.size - 1)
    keep = count > 0
    count, events, predicted = count[keep], events[keep], predicted[keep]
    low, high = wilson_interval(events, count, level)
    return Curve(
        kind="reliability",
        columns={
            "bin_low": edges[:-1][keep].tolist(),
            "bin_high": edges[1:][keep].tolist(),
            "predicted": (predicted / count).tolist(),
            "observed": (events / count).tolist(),
            "observed_low": low.tolist(),
            "observed_high": high.tolist(),
            "n": count.astype(np.float64).tolist(),
            "n_events": events.tolist(),
        },
        n=int(p.size),
        n_events=int(y.sum()),
        level=level,
    )
