"""PCA reconstruction: sees a change of correlation that leaves every marginal as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.drift import compare_features, pca_reconstruction
from assay.errors import InputError


def _cohort(rng: np.random.Generator, n: int, correlation: float = 0.8) -> pd.DataFrame:
    """Systolic and diastolic pressure correlated, plus independent age, sodium and ward."""
    pressure = rng.multivariate_normal([0.0, 0.0], [[1.0, correlation], [correlation, 1.0]], n)
    frame = pd.DataFrame({
        "systolic": 130.0 + 15.0 * pressure[:, 0],
        "diastolic": 80.0 + 10.0 * pressure[:, 1],
        "age": rng.normal(62.0, 12.0, n),
        "sodium": rng.normal(139.0, 3.0, n),
        "ward": rng.choice(["med", "surg", "icu"], n),
    })
    frame.loc[rng.random(n) < 0.05, "age"] = np.nan
    return frame


def test_a_flipped_correlation_drifts_although_no_marginal_does() -> None:
    rng = np.random.default_rng(41)
    reference, current = _cohort(rng, 3000), _cohort(rng, 3000, correlation=-0.8)
    univariate = compare_features(reference, current)
    assert univariate.drifted_features == []
    result = pca_reconstruction(reference, current, n_boot=300)
    assert result.drifted
    assert result.relative_increase.ci_low is not None and result.relative_increase.ci_low > 0.3
    assert result.current_error.value > result.reference_error.value
    assert result.top_features(2) in (["systolic", "diastolic"], ["diastolic", "systolic"])
    shares = {c.feature: c.share for c in result.contributions}
    assert shares["systolic"] + shares["diastolic"] > 0.95
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert result.categorical_features == ("ward",)
    assert "reconstructed worse" in result.summary()


def test_the_reference_error_matches_the_theory_of_one_kept_component() -> None:
    # Two standardised features with correlation 0.8: the first component explains 90 % of the
    # variance; the residual is the second component, N(0, 1 - 0.8), so the mean Euclidean
    # error is sqrt(0.2) * sqrt(2 / pi) = 0.3568; with the correlation flipped the residual
    # variance is 1 + 0.8 and the error sqrt(1.8) * sqrt(2 / pi) = 1.0705.
    rng = np.random.default_rng(42)
    cov = [[1.0, 0.8], [0.8, 1.0]]
    flipped = [[1.0, -0.8], [-0.8, 1.0]]
    reference = pd.DataFrame(rng.multivariate_normal([0, 0], cov, 20000), columns=["a", "b"])
    current = pd.DataFrame(rng.multivariate_normal([0, 0], flipped, 20000), columns=["a", "b"])
    result = pca_reconstruction(reference, current, n_boot=100)
    assert result.n_components == 1
    assert result.explained_variance == pytest.approx(0.9, abs=0.01)
    assert result.reference_error.value == pytest.approx(np.sqrt(0.2 * 2 / np.pi), rel=0.02)
    assert result.current_error.value == pytest.approx(np.sqrt(1.8 * 2 / np.pi), rel=0.02)


def test_a_stable_sample_does_not_drift() -> None:
    rng = np.random.default_rng(43)
    result = pca_reconstruction(_cohort(rng, 3000), _cohort(rng, 3000), n_boot=300, seed=5)
    assert not result.drifted
    # The reference error is measured on the rows the PCA was fitted on, so it is slightly
    # optimistic: the stable current sample comes out about 1 % higher, far below the 10 % rule.
    assert result.relative_increase.ci_high is not None
    assert result.relative_increase.ci_high < 0.05
    assert abs(result.relative_increase.value) < 0.03
    assert "not reliably" in result.summary()


def test_an_unseen_category_raises_the_error_and_names_the_feature() -> None:
    rng = np.random.default_rng(44)
    reference, current = _cohort(rng, 2000), _cohort(rng, 2000)
    current["ward"] = "ed"
    result = pca_reconstruction(reference, current, n_boot=200)
    assert result.drifted
    assert result.top_features(1) == ["ward"]


def test_same_inputs_and_seed_give_the_same_result() -> None:
    rng = np.random.default_rng(45)
    reference, current = _cohort(rng, 500), _cohort(rng, 500, correlation=0.2)
    first = pca_reconstruction(reference, current, n_boot=100, seed=3)
    assert pca_reconstruction(reference, current, n_boot=100, seed=3) == first


def test_bad_input_is_named() -> None:
    rng = np.random.default_rng(46)
    reference = _cohort(rng, 100)
    with pytest.raises(InputError, match="at least two features"):
        pca_reconstruction(reference, reference, ["age"])
    with pytest.raises(InputError, match="variance must be a share"):
        pca_reconstruction(reference, reference, variance=1.5)
    numeric_ward = reference.assign(ward=1.0)
    with pytest.raises(InputError, match="'ward' is categorical"):
        pca_reconstruction(reference, numeric_ward)


def test_large_samples_get_normal_intervals_that_match_the_bootstrap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import assay.drift._pca as pca_module

    rng = np.random.default_rng(4)

    def frame(n: int, rho: float) -> pd.DataFrame:
        a = rng.normal(size=n)
        b = rho * a + np.sqrt(1 - rho**2) * rng.normal(size=n)
        return pd.DataFrame({"a": a, "b": b, "c": rng.normal(size=n)})

    reference, current = frame(20_000, 0.8), frame(20_000, 0.6)
    booted = pca_reconstruction(reference, current, n_boot=2000, seed=1)
    monkeypatch.setattr(pca_module, "NORMAL_ABOVE", 10_000)
    normal = pca_reconstruction(reference, current, n_boot=2000, seed=1)
    assert booted.relative_increase.method == "bootstrap-percentile"
    assert normal.relative_increase.method == "normal"
    assert normal.relative_increase.value == booted.relative_increase.value
    for bound in ("ci_low", "ci_high"):
        assert getattr(normal.relative_increase, bound) == pytest.approx(
            getattr(booted.relative_increase, bound), abs=0.004)
