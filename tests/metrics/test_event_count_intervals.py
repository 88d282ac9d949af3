"""O:E and calibration-in-the-large draw their bootstrap over all rows, not per outcome.

A bootstrap stratified by outcome holds the number of events fixed, and for these two metrics
the event count is most of the sampling variance: the interval came out about three times too
narrow (coverage near 40 %).
"""

from __future__ import annotations

import numpy as np

from assay.metrics import estimate, get_metric


def _calibrated(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = 1 / (1 + np.exp(-rng.normal(-2.0, 1.0, n)))
    return (rng.random(n) < risk).astype(int), risk


def test_event_count_metrics_are_not_stratified() -> None:
    assert not get_metric("oe_ratio").stratify
    assert not get_metric("calibration_intercept").stratify
    assert get_metric("auroc").stratify


def test_oe_interval_covers_one_on_calibrated_data() -> None:
    covered = 0
    for seed in range(100):
        y, risk = _calibrated(seed, 800)
        found = estimate("oe_ratio", y, risk, n_boot=200, seed=seed)
        assert found.ci_low is not None and found.ci_high is not None
        covered += found.ci_low <= 1.0 <= found.ci_high
    print(f"O:E 95% interval covered 1 in {covered} of 100 calibrated samples")
    assert covered >= 88


def test_oe_interval_width_matches_the_event_count_variance() -> None:
    y, risk = _calibrated(3, 4000)
    found = estimate("oe_ratio", y, risk, n_boot=1000)
    assert found.ci_low is not None and found.ci_high is not None
    # O is a sum of Bernoulli(p): its SD is sqrt(sum p(1-p)); O:E's relative SD is that over E.
    expected_sd = np.sqrt(np.sum(risk * (1 - risk))) / np.sum(risk)
    width = (found.ci_high - found.ci_low) / (2 * 1.96)
    assert abs(width - expected_sd) / expected_sd < 0.15
