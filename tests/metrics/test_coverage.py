"""Coverage of the 95 % intervals in repeated samples from known truths (fixed seeds).

A band of 93-97 % is a meaningful test when the Monte Carlo standard error of the observed
coverage is small: with ``R`` repetitions it is ``sqrt(0.95 · 0.05 / R)``, 0.34 points at
R = 4,000, so the band is ±5.8 standard errors around 95 % and a method whose true coverage is
below about 94 % or above 96 % is likely to fail it only if it is off by more than one point.

* DeLong: binormal scores, cases ~ N(δ, 1) and controls ~ N(0, 1), true AUROC Φ(δ/√2).
* DeLong's test: two scores that are equally good noisy copies of one latent score (true
  difference 0): the interval for the difference should cover 0 in 93-97 % (type I error
  3-7 %).
* Wilson: sensitivity through :func:`estimate`, with each case flagged with probability p.
  The exact coverage of the Wilson interval at (n, p) is also computed from the binomial
  distribution; it oscillates with n and p, so the settings below are ones where it lies
  well inside the band.
* Bootstrap percentile: only 200 repetitions (each is 400 replicates), so the standard error
  is 1.5 points and the band is honestly 90-99 % (about ±3 standard errors).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from assay.metrics._estimation import estimate
from assay.metrics.intervals import (
    bootstrap_metric,
    delong_auroc_ci,
    delong_test,
    wilson_interval,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("delta", "cases", "controls"), [(1.0, 60, 140), (1.8, 100, 300), (0.5, 40, 160)]
)
def test_delong_interval_covers_the_binormal_auroc(delta: float, cases: int, controls: int) -> None:
    rng = np.random.default_rng(1000 + cases)
    true_auroc = stats.norm.cdf(delta / np.sqrt(2))
    y = np.r_[np.ones(cases, int), np.zeros(controls, int)]
    repetitions, covered = 4000, 0
    for _ in range(repetitions):
        score = np.r_[rng.normal(delta, 1, cases), rng.normal(0, 1, controls)]
        est = delong_auroc_ci(y, score)
        assert est.ci_low is not None and est.ci_high is not None
        covered += est.ci_low <= true_auroc <= est.ci_high
    assert 0.93 <= covered / repetitions <= 0.97, covered / repetitions


def test_delong_test_interval_covers_a_zero_difference() -> None:
    rng = np.random.default_rng(2000)
    cases, controls = 80, 220
    y = np.r_[np.ones(cases, int), np.zeros(controls, int)]
    repetitions, covered = 3000, 0
    for _ in range(repetitions):
        latent = np.r_[rng.normal(1, 1, cases), rng.normal(0, 1, controls)]
        a = latent + rng.normal(0, 0.7, y.size)
        b = latent + rng.normal(0, 0.7, y.size)
        result = delong_test(y, a, b)
        covered += result.ci_low <= 0 <= result.ci_high
        assert (result.p_value >= 0.05) == (result.ci_low <= 0 <= result.ci_high)
    assert 0.93 <= covered / repetitions <= 0.97, covered / repetitions


@pytest.mark.parametrize(("cases", "p"), [(120, 0.2), (200, 0.4)])
def test_wilson_interval_covers_a_known_sensitivity(cases: int, p: float) -> None:
    k = np.arange(cases + 1)
    low, high = wilson_interval(k, cases)
    exact = stats.binom.pmf(k, cases, p)[(low <= p) & (p <= high)].sum()
    assert 0.94 <= exact <= 0.96  # the setting is a fair one for the simulation below
    rng = np.random.default_rng(3000 + cases)
    y = np.ones(cases, int)
    repetitions, covered = 4000, 0
    for _ in range(repetitions):
        flagged = (rng.random(cases) < p).astype(float)
        est = estimate("sensitivity", y, flagged, threshold=0.5)
        assert est.method == "wilson" and est.ci_low is not None and est.ci_high is not None
        covered += est.ci_low <= p <= est.ci_high
    observed = covered / repetitions
    assert 0.93 <= observed <= 0.97, observed
    assert abs(observed - exact) < 4 * np.sqrt(exact * (1 - exact) / repetitions)


def test_bootstrap_percentile_interval_covers_the_binormal_auroc() -> None:
    rng = np.random.default_rng(4000)
    cases, controls = 50, 150
    true_auroc = stats.norm.cdf(1 / np.sqrt(2))
    y = np.r_[np.ones(cases, int), np.zeros(controls, int)]
    repetitions, covered = 200, 0
    for i in range(repetitions):
        score = np.r_[rng.normal(1, 1, cases), rng.normal(0, 1, controls)]
        est = bootstrap_metric("auroc", y, score, n_boot=400, seed=i).estimate
        assert est.ci_low is not None and est.ci_high is not None
        covered += est.ci_low <= true_auroc <= est.ci_high
    assert 0.90 <= covered / repetitions <= 0.99, covered / repetitions
