"""Closed-form intervals for the calibration signals of a window.

A monitor measures dozens of windows per run; the bootstrap of the validation report would
make each window cost seconds. Two calibration signals have standard large-sample intervals:

* O:E ratio: ``SE(ln O/E) = sqrt((1 − O/n) / O)`` (the observed count is binomial; Debray et
  al., 2017), interval ``O/E · exp(±z · SE)``;
* calibration slope: the Wald interval of ``β₁`` in ``logit P(y=1) = β₀ + β₁ logit(p)``, from
  the inverse Fisher information of the fit;
* calibration intercept (calibration-in-the-large): the Wald interval of ``α`` in
  ``logit P(y=1) = α + logit(p)``.

Other metrics use :func:`assay.metrics.estimate` (DeLong, Wilson or a bootstrap).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from scipy.stats import norm

from assay.errors import UndefinedMetricError
from assay.metrics import Estimate, calibration_intercept, calibration_slope, oe_ratio
from assay.metrics._calibration import fit_logistic

__all__ = ["CLOSED_FORM", "closed_form_estimate"]

CLOSED_FORM = ("oe_ratio", "calibration_slope", "calibration_intercept")
"""Metrics a window measures with a closed-form interval."""


def closed_form_estimate(metric: str, y: np.ndarray[Any, Any], p: np.ndarray[Any, Any], *,
                         level: float = 0.95) -> Estimate:
    """A metric of :data:`CLOSED_FORM` with its large-sample interval (method ``normal``).

    Raises
    ------
    UndefinedMetricError
        With no observed event (O:E), or when the slope cannot be fitted.
    """
    z = float(norm.ppf(0.5 + level / 2))
    n, events = int(y.size), int(np.sum(y))
    if metric == "oe_ratio":
        value = oe_ratio(y, p)
        if events == 0:
            raise UndefinedMetricError("no observed event: the O:E interval needs at least one")
        se = float(np.sqrt((1 - events / n) / events))
        low, high = value * np.exp(-z * se), value * np.exp(z * se)
    elif metric == "calibration_slope":
        value = calibration_slope(y, p)  # checks the inputs and says why when undefined
        logit = np.log(p) - np.log1p(-p)
        design = np.column_stack([np.ones_like(logit), logit])
        beta = fit_logistic(design, y.astype(np.int8), np.ones_like(logit), np.zeros_like(logit))
        mu = expit(design @ beta)
        information = design.T @ (design * (mu * (1 - mu))[:, None])
        try:
            se = float(np.sqrt(np.linalg.inv(information)[1, 1]))
        except np.linalg.LinAlgError as exc:
            raise UndefinedMetricError("the calibration slope's information is singular") from exc
        low, high = value - z * se, value + z * se
    elif metric == "calibration_intercept":
        value = calibration_intercept(y, p)
        logit = np.log(p) - np.log1p(-p)
        mu = expit(logit + value)
        se = float(1 / np.sqrt(np.sum(mu * (1 - mu))))
        low, high = value - z * se, value + z * se
    else:
        raise ValueError(f"no closed-form interval for {metric!r}")
    return Estimate(value=float(value), ci_low=float(low), ci_high=float(high), level=level,
                    method="normal", n=n, n_events=events)

