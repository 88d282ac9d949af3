"""Paired comparisons: the result type, the paired bootstrap and ``compare``'s choice of method."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import ValidationError

from assay.errors import InputError
from assay.metrics._bootstrap import paired_replicates, replicates
from assay.metrics._compare import PairedComparison
from assay.metrics._estimation import compare
from assay.metrics.intervals import delong_test, paired_bootstrap


@pytest.fixture(scope="module")
def scores() -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(31)
    y = (rng.random(1500) < 0.3).astype(np.int64)
    signal = y + rng.normal(size=y.size)
    better = 1 / (1 + np.exp(-signal))
    worse = 1 / (1 + np.exp(-(signal + rng.normal(scale=1.2, size=y.size))))
    return y, better, worse


def test_paired_replicates_apply_the_same_resamples_to_both_scores(scores: Any) -> None:
    y, a, b = scores
    both = paired_replicates("brier", y, a, b, n_boot=40, seed=2, fast_path=False)
    # each column is the metric on that score under the resample the pair shares; the same
    # resample applied to one score alone reproduces the column when that score sets the order
    same = paired_replicates("brier", y, a, a, n_boot=40, seed=2)
    alone = replicates("brier", y, a, n_boot=40, seed=2)
    assert np.array_equal(same.replicates[:, 0], alone.replicates[:, 0])
    assert (
        float(np.corrcoef(both.replicates[:, 0], both.replicates[:, 1])[0, 1]) > 0.5
    )  # shared resamples: correlated columns


def test_paired_auroc_fast_path_equals_the_generic_path(scores: Any) -> None:
    y, a, b = scores
    fast = paired_replicates("auroc", y, a, b, n_boot=60, seed=3)
    slow = paired_replicates("auroc", y, a, b, n_boot=60, seed=3, fast_path=False)
    assert np.array_equal(fast.replicates, slow.replicates)


def test_paired_bootstrap_interval_and_p_value_follow_their_definitions(scores: Any) -> None:
    y, a, b = scores
    result = paired_bootstrap("auroc", y, a, b, n_boot=400, seed=4, a="new", b="old")
    reps = paired_replicates("auroc", y, a, b, n_boot=400, seed=4).replicates
    differences = reps[:, 0] - reps[:, 1]
    assert (result.ci_low, result.ci_high) == pytest.approx(
        tuple(np.quantile(differences, [0.025, 0.975])), abs=1e-15
    )
    far = min((differences <= 0).sum(), (differences >= 0).sum())
    assert result.p_value == pytest.approx(min(1.0, 2 * (1 + far) / 401))
    assert result.difference == pytest.approx(result.value_a - result.value_b)
    assert result.difference > 0 and result.ci_low > 0 and result.p_value < 0.05
    assert (result.a, result.b, result.method, result.n_undefined) == (
        "new",
        "old",
        "bootstrap-percentile",
        0,
    )


def test_paired_bootstrap_agrees_with_delong_on_auroc(scores: Any) -> None:
    y, a, b = scores
    boot = paired_bootstrap("auroc", y, a, b, n_boot=2000, seed=5)
    delong = delong_test(y, a, b)
    assert boot.difference == pytest.approx(delong.difference, abs=1e-15)
    width_ratio = (boot.ci_high - boot.ci_low) / (delong.ci_high - delong.ci_low)
    assert 0.85 < width_ratio < 1.15
    assert abs(boot.ci_low - delong.ci_low) < 0.01


def test_identical_scores_have_no_difference(scores: Any) -> None:
    y, a, _ = scores
    result = paired_bootstrap("sensitivity", y, a, a, n_boot=50, threshold=0.5)
    assert (result.difference, result.ci_low, result.ci_high, result.p_value) == (0, 0, 0, 1)


def test_compare_chooses_delong_for_auroc_and_the_bootstrap_otherwise(scores: Any) -> None:
    y, a, b = scores
    assert compare("auroc", y, a, b).method == "delong"
    assert compare("auroc", y, a, b, sample_weight=np.full(y.size, 2)).method == "delong"
    weights = np.random.default_rng(1).uniform(0.5, 2, y.size)
    weighted = compare("auroc", y, a, b, sample_weight=weights, n_boot=100)
    assert weighted.method == "bootstrap-percentile"
    brier = compare("brier", y, a, b, n_boot=100)
    assert brier.method == "bootstrap-percentile" and brier.difference < 0
    forced = compare("auroc", y, a, b, method="bootstrap", n_boot=100)
    assert forced.method == "bootstrap-percentile"
    with pytest.raises(InputError, match="AUROCs only"):
        compare("brier", y, a, b, method="delong")


def test_paired_comparison_rejects_inconsistent_values() -> None:
    fields: dict[str, Any] = {
        "metric": "auroc",
        "a": "a",
        "b": "b",
        "value_a": 0.8,
        "value_b": 0.7,
        "difference": 0.1,
        "ci_low": 0.05,
        "ci_high": 0.15,
        "p_value": 0.01,
        "method": "delong",
        "n": 100,
    }
    assert "+0.100" in str(PairedComparison(**fields))
    with pytest.raises(ValidationError):
        PairedComparison(**{**fields, "p_value": 1.5})
    with pytest.raises(ValidationError):
        PairedComparison(**{**fields, "ci_low": float("nan")})
    with pytest.raises(ValidationError):
        PairedComparison(**{**fields, "method": "bootstrap-bca"})
