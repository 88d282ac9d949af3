"""The public interval surface: Wilson, and ``estimate`` choosing and recording its interval."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from statsmodels.stats.proportion import proportion_confint

import assay.metrics.intervals as intervals
from assay.errors import InputError, UndefinedMetricError
from assay.metrics._estimation import estimate


def test_public_names_are_pinned() -> None:
    assert sorted(intervals.__all__) == [
        "BootstrapMethod",
        "BootstrapResult",
        "PairedComparison",
        "bootstrap_ci",
        "bootstrap_metric",
        "delong_auroc_ci",
        "delong_test",
        "paired_bootstrap",
        "proportion_estimate",
        "wilson_interval",
    ]


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (8, 10), (10, 10), (1, 1000), (517, 1000)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(k: int, n: int, level: float) -> None:
    low, high = intervals.wilson_interval(k, n, level)
    expected = proportion_confint(k, n, alpha=1 - level, method="wilson")
    assert (float(low), float(high)) == pytest.approx(expected, abs=1e-12)


def test_wilson_is_vectorised_and_nan_for_zero_trials() -> None:
    low, high = intervals.wilson_interval([1, 0, 5], [4, 0, 5])
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert low[0] < 0.25 < high[0] and high[2] == 1.0
    with pytest.raises(ValueError, match="between 0 and trials"):
        intervals.wilson_interval(5, 4)


@pytest.fixture(scope="module")
def cohort() -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    rng = np.random.default_rng(41)
    y = (rng.random(600) < 0.3).astype(np.int64)
    risk = 1 / (1 + np.exp(-(-1.0 + 1.5 * y + rng.normal(size=600))))
    return y, risk


def test_auto_uses_the_registry_interval(cohort: Any) -> None:
    y, risk = cohort
    auroc = estimate("auroc", y, risk)
    assert auroc == intervals.delong_auroc_ci(y, risk)
    sens = estimate("sensitivity", y, risk, threshold=0.4)
    tp = int(((risk >= 0.4) & (y == 1)).sum())
    low, high = intervals.wilson_interval(tp, int(y.sum()))
    assert (sens.value, sens.ci_low, sens.ci_high) == (tp / y.sum(), float(low), float(high))
    assert (sens.method, sens.n, sens.n_events) == ("wilson", 600, int(y.sum()))
    brier = estimate("brier", y, risk, n_boot=200, seed=3)
    assert brier == intervals.bootstrap_ci("brier", y, risk, n_boot=200, seed=3)
    assert brier.method == "bootstrap-percentile"


def test_integer_weights_keep_wilson_and_delong_as_repeated_rows(cohort: Any) -> None:
    y, risk = cohort
    weights = np.random.default_rng(2).integers(0, 4, y.size)
    repeated = np.repeat(np.arange(y.size), weights)
    cases: list[tuple[str, dict[str, Any]]] = [("sensitivity", {"threshold": 0.4}), ("auroc", {})]
    for metric, params in cases:
        weighted = estimate(metric, y, risk, sample_weight=weights, **params)
        expanded = estimate(metric, y[repeated], risk[repeated], **params)
        assert weighted.method == expanded.method
        assert weighted.value == pytest.approx(expanded.value, abs=1e-14)
        assert weighted.ci_low == pytest.approx(expanded.ci_low, abs=1e-12)
        assert weighted.n == y.size  # rows, not the sum of the weights


def test_non_integer_weights_fall_back_to_the_bootstrap(
    cohort: Any, caplog: pytest.LogCaptureFixture
) -> None:
    y, risk = cohort
    weights = np.random.default_rng(3).uniform(0.5, 2.0, y.size)
    with caplog.at_level(logging.INFO, logger="assay.metrics._estimation"):
        sens = estimate("sensitivity", y, risk, sample_weight=weights, threshold=0.4, n_boot=100)
        auroc = estimate("auroc", y, risk, sample_weight=weights, n_boot=100)
    assert sens.method == auroc.method == "bootstrap-percentile"
    assert "non-integer weights" in caplog.text
    with pytest.raises(InputError, match="integer"):
        estimate("auroc", y, risk, ci="delong", sample_weight=weights)
    with pytest.raises(InputError, match="integer"):
        estimate("ppv", y, risk, ci="wilson", sample_weight=weights, threshold=0.4)


def test_forced_methods(cohort: Any) -> None:
    y, risk = cohort
    none = estimate("auroc", y, risk, ci="none")
    assert (none.method, none.ci_low, none.n_events) == ("none", None, int(y.sum()))
    bca = estimate("auroc", y, risk, ci="bootstrap", bootstrap_method="bca", n_boot=300)
    assert bca.method == "bootstrap-bca"
    assert bca.ci_low is not None and bca.ci_low < bca.value
    boot = estimate("ppv", y, risk, ci="bootstrap", threshold=0.4, n_boot=100, level=0.9)
    assert (boot.method, boot.level) == ("bootstrap-percentile", 0.9)


def test_intervals_that_do_not_apply_are_input_errors(cohort: Any) -> None:
    y, risk = cohort
    with pytest.raises(InputError, match="auroc only"):
        estimate("brier", y, risk, ci="delong")
    with pytest.raises(InputError, match="proportions only"):
        estimate("auroc", y, risk, ci="wilson")
    with pytest.raises(InputError, match="ci must be"):
        estimate("auroc", y, risk, ci="exact")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="unknown metric"):
        estimate("c_statistic", y, risk)


def test_undefined_metrics_say_why(cohort: Any) -> None:
    y, risk = cohort
    with pytest.raises(UndefinedMetricError, match="nobody was flagged"):
        estimate("ppv", y, risk, threshold=2.0)
    with pytest.raises(UndefinedMetricError, match="at least 2 positive"):
        estimate("auroc", [0, 0, 1, 0], [0.1, 0.2, 0.3, 0.4])


def test_non_binary_metrics_go_through_the_bootstrap_without_events() -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(size=300)
    prediction = truth + rng.normal(scale=0.5, size=300)
    est = estimate("mae", truth, prediction, n_boot=200)
    assert est.method == "bootstrap-percentile" and est.n_events is None
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low < est.value < est.ci_high
    labels = rng.integers(0, 3, 300)
    probabilities = rng.dirichlet(np.ones(3), size=300)
    multi = estimate("multiclass_accuracy", labels, probabilities, n_boot=100)
    assert multi.method == "bootstrap-percentile" and multi.n == 300
