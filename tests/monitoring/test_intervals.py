"""Closed-form window intervals agree with statsmodels' Wald intervals and cover O:E."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from assay.errors import UndefinedMetricError
from assay.monitoring._intervals import closed_form_estimate


def _sample(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = 1 / (1 + np.exp(-rng.normal(-2.0, 1.0, n)))
    return (rng.random(n) < risk).astype(np.int64), risk


def test_slope_and_intercept_equal_statsmodels_wald_intervals() -> None:
    y, risk = _sample(2, 3000)
    logit = np.log(risk / (1 - risk))
    slope_fit = sm.GLM(y, sm.add_constant(logit), family=sm.families.Binomial()).fit()
    intercept_fit = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(),
                           offset=logit).fit()
    slope = closed_form_estimate("calibration_slope", y, risk)
    intercept = closed_form_estimate("calibration_intercept", y, risk)
    assert slope.value == pytest.approx(slope_fit.params[1], abs=1e-8)
    assert (slope.ci_low, slope.ci_high) == pytest.approx(tuple(slope_fit.conf_int()[1]),
                                                          abs=1e-6)
    assert intercept.value == pytest.approx(intercept_fit.params[0], abs=1e-8)
    assert (intercept.ci_low, intercept.ci_high) == pytest.approx(
        tuple(intercept_fit.conf_int()[0]), abs=1e-6)
    assert slope.method == intercept.method == "normal"


def test_oe_interval_covers_one_on_calibrated_windows() -> None:
    covered = 0
    for seed in range(200):
        y, risk = _sample(100 + seed, 400)
        found = closed_form_estimate("oe_ratio", y, risk)
        assert found.ci_low is not None and found.ci_high is not None
        covered += found.ci_low <= 1.0 <= found.ci_high
    print(f"\nO:E closed-form interval covered 1 in {covered}/200 windows of 400")
    assert 180 <= covered <= 197


def test_oe_without_events_says_why() -> None:
    with pytest.raises(UndefinedMetricError, match="no observed event"):
        closed_form_estimate("oe_ratio", np.zeros(50, dtype=np.int64), np.full(50, 0.01))
