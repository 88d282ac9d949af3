"""The bootstrap fast paths for threshold metrics (drawn cell counts) and the Brier score
(draws summed directly): exact values given a resample, the exact replicate distribution, the
same percentile-interval coverage as the generic path, and where they do not apply.

Monte Carlo tolerances are stated where they are used; every test has fixed seeds, so its
numbers are reproducible, and the tolerances are about 4 standard errors wide.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from assay.errors import UndefinedMetricError
from assay.metrics import get_metric, list_metrics
from assay.metrics._bootstrap import Resampler, make_strata, paired_replicates, replicates
from assay.metrics._bootstrap_kernels import ConfusionKernel, confusion_kernel, mean_kernel
from assay.metrics._registry import MetricSpec
from assay.metrics.intervals import bootstrap_metric

THRESHOLD = 0.5
THRESHOLD_METRICS = [
    name for name in list_metrics("binary") if get_metric(name).score_kind == "threshold"
]


@pytest.fixture(scope="module")
def data() -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(41)
    y = (rng.random(900) < 0.3).astype(np.int64)
    signal = 1.2 * y + rng.normal(size=y.size)
    a = 1 / (1 + np.exp(-(signal - 0.8)))
    b = 1 / (1 + np.exp(-(signal + rng.normal(size=y.size) - 0.8)))
    return y, a, b


def _value_or_reason(fn: Any, *args: Any, **kwargs: Any) -> float | str:
    try:
        return float(fn(*args, **kwargs))
    except UndefinedMetricError as exc:
        return f"undefined: {exc}"


def test_the_registry_has_threshold_metrics_for_the_kernel() -> None:
    assert {"sensitivity", "specificity", "ppv", "npv", "accuracy", "flag_rate"} <= set(
        THRESHOLD_METRICS
    )


@pytest.mark.parametrize("metric", THRESHOLD_METRICS)
@pytest.mark.parametrize("scheme", ["stratified", "unstratified", "paired"])
def test_kernel_value_is_the_metric_on_a_resample_with_those_counts(
    data: Any, metric: str, scheme: str
) -> None:
    """Given the cell counts of a generic resample, the kernel gives the metric's value on
    that resample bit for bit (or the same undefined reason), for every threshold metric."""
    y, a, b = data
    spec = get_metric(metric)
    scores = [a, b] if scheme == "paired" else [a]
    labels = None if scheme == "unstratified" else y
    resampler = Resampler(make_strata(labels, scores, y.size), y.size)
    kernel = ConfusionKernel(spec, y, scores, resampler.strata, {"threshold": THRESHOLD})
    cell = y + sum((s >= THRESHOLD).astype(np.int64) << (j + 1) for j, s in enumerate(scores))
    for r in range(40):
        counts = resampler.counts(resampler.draws(Resampler.generator(3, r)))
        cell_counts = np.bincount(cell, weights=counts, minlength=2 ** (len(scores) + 1))
        try:
            ours: list[float | str] = list(kernel.from_counts(cell_counts))
        except UndefinedMetricError as exc:
            ours = [f"undefined: {exc}"]
        expected = [
            _value_or_reason(spec.fn, y, s, sample_weight=counts, threshold=THRESHOLD)
            for s in scores
        ]
        assert ours == expected[: len(ours)]


def _binomial_fit(successes: NDArray[np.int64], trials: int, p: float) -> float:
    """Chi-square goodness-of-fit p-value of counts against Binomial(trials, p), tails pooled
    so that every bin expects at least 5."""
    k = np.arange(trials + 1)
    expected = stats.binom.pmf(k, trials, p) * successes.size
    observed = np.bincount(successes, minlength=trials + 1).astype(float)
    low = int(np.argmax(np.cumsum(expected) >= 5))
    high = int(trials - np.argmax(np.cumsum(expected[::-1]) >= 5))

    def pooled(counts: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.r_[counts[: low + 1].sum(), counts[low + 1 : high], counts[high:].sum()]

    return float(stats.chisquare(pooled(observed), pooled(expected)).pvalue)


@pytest.mark.parametrize("fast_path", [True, False], ids=["kernel", "generic"])
def test_replicates_follow_the_exact_binomial_distribution(data: Any, fast_path: bool) -> None:
    """Stratified: drawn TP ~ Binomial(cases, sensitivity), drawn TN ~ Binomial(controls,
    specificity); unstratified: correct flags ~ Binomial(n, accuracy). 4,000 replicates, the
    goodness of fit must not be rejected at the 0.1 % level (both paths)."""
    y, a, _ = data
    cases, controls = int(y.sum()), int(y.size - y.sum())
    for metric, trials, options in [
        ("sensitivity", cases, {}),
        ("specificity", controls, {}),
        ("accuracy", y.size, {"stratified": False}),
    ]:
        result = replicates(
            metric, y, a, n_boot=4000, seed=5, fast_path=fast_path, threshold=THRESHOLD, **options
        )
        successes = np.round(result.replicates[:, 0] * trials).astype(np.int64)
        assert _binomial_fit(successes, trials, result.point[0]) > 1e-3, metric


def _agree_in_distribution(fast: NDArray[np.float64], slow: NDArray[np.float64]) -> None:
    """Means within 4 standard errors of their difference; the 2.5, 50 and 97.5 % quantiles
    within 0.25 replicate SDs (about 4 standard errors of a difference of two such quantiles
    at 4,000 replicates each)."""
    spread = float(np.std(slow))
    se = np.sqrt(np.var(fast) / fast.size + np.var(slow) / slow.size)
    assert abs(fast.mean() - slow.mean()) < 4 * se
    quantiles = [0.025, 0.5, 0.975]
    assert np.quantile(fast, quantiles) == pytest.approx(
        np.quantile(slow, quantiles), abs=0.25 * spread
    )


@pytest.mark.parametrize("metric", ["ppv", "npv", "f1", "lr_positive", "nne"])
def test_kernel_and_generic_replicates_agree_in_distribution(data: Any, metric: str) -> None:
    y, a, _ = data
    fast = replicates(metric, y, a, n_boot=4000, seed=6, threshold=THRESHOLD)
    slow = replicates(metric, y, a, n_boot=4000, seed=6, threshold=THRESHOLD, fast_path=False)
    assert fast.point == slow.point
    _agree_in_distribution(fast.replicates[:, 0], slow.replicates[:, 0])


def test_paired_kernel_keeps_the_pairing(data: Any) -> None:
    """The difference of two scores' sensitivities has the generic path's distribution, which
    depends on the joint draws (independent draws per score would widen it)."""
    y, a, b = data
    fast = paired_replicates("sensitivity", y, a, b, n_boot=4000, seed=7, threshold=THRESHOLD)
    slow = paired_replicates(
        "sensitivity", y, a, b, n_boot=4000, seed=7, threshold=THRESHOLD, fast_path=False
    )
    _agree_in_distribution(
        fast.replicates[:, 0] - fast.replicates[:, 1], slow.replicates[:, 0] - slow.replicates[:, 1]
    )
    same = paired_replicates("sensitivity", y, a, a, n_boot=50, seed=7, threshold=THRESHOLD)
    assert np.array_equal(same.replicates[:, 0], same.replicates[:, 1])


def test_undefined_replicates_are_counted_at_their_rate() -> None:
    """One of 50 patients flagged: PPV is undefined when that row is not drawn, with
    probability (49/50)^50 = 0.364; with 2,000 replicates the share must be within 4 SE."""
    y = np.zeros(50, dtype=np.int64)
    y[:20] = 1
    score = np.zeros(50)
    score[0] = 1.0
    result = replicates(
        "ppv",
        y,
        score,
        n_boot=2000,
        seed=8,
        max_undefined_share=0.5,
        stratified=False,
        threshold=THRESHOLD,
    )
    rate = (49 / 50) ** 50
    assert abs(result.n_undefined / 2000 - rate) < 4 * np.sqrt(rate * (1 - rate) / 2000)
    assert set(result.replicates[:, 0].tolist()) == {1.0}


def test_numbers_depend_only_on_the_seed_not_on_threads_or_n_boot(data: Any) -> None:
    y, a, _ = data
    one = replicates("ppv", y, a, n_boot=100, seed=9, n_threads=1, threshold=THRESHOLD)
    three = replicates("ppv", y, a, n_boot=100, seed=9, n_threads=3, threshold=THRESHOLD)
    longer = replicates("ppv", y, a, n_boot=300, seed=9, threshold=THRESHOLD)
    other = replicates("ppv", y, a, n_boot=100, seed=10, threshold=THRESHOLD)
    assert np.array_equal(one.replicates, three.replicates)
    assert np.array_equal(one.replicates, longer.replicates[:100])
    assert not np.array_equal(one.replicates, other.replicates)


@pytest.mark.slow
def test_percentile_interval_coverage_is_that_of_the_generic_path() -> None:
    """200 samples of 60 cases (true sensitivity 0.7) and 140 controls; 95 % percentile
    intervals from 200 replicates by each path. Each coverage must lie in 90-99 % (the Monte
    Carlo SE is 1.5 points), and the two paths may disagree on at most 5 % of the samples
    (they differ only by Monte Carlo noise at the interval ends)."""
    rng = np.random.default_rng(4100)
    y = np.r_[np.ones(60, int), np.zeros(140, int)]
    covered = {True: 0, False: 0}
    disagree = 0
    for i in range(200):
        score = np.r_[(rng.random(60) < 0.7).astype(float), rng.random(140) * 0.8]
        hit = {}
        for fast_path in (True, False):
            est = bootstrap_metric(
                "sensitivity",
                y,
                score,
                n_boot=200,
                seed=i,
                fast_path=fast_path,
                threshold=THRESHOLD,
            ).estimate
            assert est.ci_low is not None and est.ci_high is not None
            hit[fast_path] = est.ci_low <= 0.7 <= est.ci_high
            covered[fast_path] += hit[fast_path]
        disagree += hit[True] != hit[False]
    assert 0.90 <= covered[True] / 200 <= 0.99
    assert 0.90 <= covered[False] / 200 <= 0.99
    assert disagree <= 10


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("paired", [False, True])
def test_brier_sums_the_same_resamples(data: Any, weighted: bool, paired: bool) -> None:
    y, a, b = data
    weights = np.random.default_rng(11).uniform(0.2, 3, y.size) if weighted else None
    run = paired_replicates if paired else replicates
    scores = (a, b) if paired else (a,)
    fast = run("brier", y, *scores, n_boot=100, seed=12, sample_weight=weights)
    slow = run("brier", y, *scores, n_boot=100, seed=12, sample_weight=weights, fast_path=False)
    assert fast.point == slow.point
    np.testing.assert_allclose(fast.replicates, slow.replicates, rtol=0, atol=1e-12)


def test_brier_with_zero_total_weight_is_undefined_in_the_same_replicates() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    weights = np.array([1.0, 0, 0, 1, 0, 0])
    options: dict[str, Any] = {"n_boot": 400, "seed": 13, "max_undefined_share": 0.3}
    fast = replicates("brier", y, p, sample_weight=weights, **options)
    slow = replicates("brier", y, p, sample_weight=weights, fast_path=False, **options)
    assert fast.n_undefined == slow.n_undefined > 0
    np.testing.assert_allclose(fast.replicates, slow.replicates, rtol=0, atol=1e-15)


def test_kernels_apply_only_where_they_are_exact(data: Any) -> None:
    y, a, _ = data
    strata = make_strata(y, [a], y.size)
    sensitivity, brier = get_metric("sensitivity"), get_metric("brier")
    params = {"threshold": THRESHOLD}
    assert confusion_kernel(sensitivity, y, [a], strata, None, params) is not None
    weights = np.ones(y.size)
    assert confusion_kernel(sensitivity, y, [a], strata, weights, params) is None  # weighted
    lookalike = MetricSpec(
        name="sensitivity",
        fn=sensitivity.fn,
        title="mine",
        task="binary",
        score_kind="threshold",
        greater_is_better=True,
    )
    assert confusion_kernel(lookalike, y, [a], strata, None, params) is None  # not registered
    assert confusion_kernel(brier, y, [a], strata, None, {}) is None
    assert mean_kernel(brier, y, [a], strata, None, {}) is not None
    assert mean_kernel(brier, y, [a], strata, weights, {}) is not None  # weights are summed
    assert mean_kernel(get_metric("log_loss"), y, [a], strata, None, {}) is None
    assert confusion_kernel(sensitivity, y, [], strata, None, params) is None  # no 1-D score
