"""Weighted kappa against scikit-learn, ICC against a two-way ANOVA (statsmodels) and Shrout &
Fleiss's published example, and the gating verdict."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from assay.errors import InputError, UndefinedMetricError
from assay.genai._agreement import calibration, icc, weighted_kappa

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
                          [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float)


def noisy_ratings(n: int, seed: int, noise: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=n)
    other = np.clip(np.rint(truth + rng.normal(0, noise, size=n)), 1, 5).astype(int)
    return truth, other


@pytest.mark.parametrize("weights", ["quadratic", "linear", "none"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kappa_matches_scikit_learn(weights: str, seed: int) -> None:
    a, b = noisy_ratings(200, seed)
    ours = weighted_kappa(a, b, weights=weights, categories=range(1, 6), n_boot=0)  # type: ignore[arg-type]
    reference = cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5],
                                  weights=None if weights == "none" else weights)
    assert ours.value == pytest.approx(reference, abs=1e-9)
    assert ours.method == "none" and ours.n == 200


def test_kappa_bootstrap_interval_is_the_percentile_of_resampled_kappas() -> None:
    a, b = noisy_ratings(60, 7)
    result = weighted_kappa(a, b, n_boot=200, seed=11, categories=range(1, 6))
    # the documented scheme: one SFC64 stream from SeedSequence(seed), items drawn with replacement
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(11)))
    drawn = rng.integers(0, 60, size=(200, 60))
    replicates = [cohen_kappa_score(a[i], b[i], labels=[1, 2, 3, 4, 5], weights="quadratic")
                  for i in drawn]
    low, high = np.quantile(replicates, [0.025, 0.975])
    assert result.ci_low == pytest.approx(low, abs=1e-9)
    assert result.ci_high == pytest.approx(high, abs=1e-9)
    assert result.ci_low < result.value < result.ci_high
    assert result.method == "bootstrap-percentile" and result.n_undefined == 0
    again = weighted_kappa(a, b, n_boot=200, seed=11, categories=range(1, 6))
    other = weighted_kappa(a, b, n_boot=200, seed=12, categories=range(1, 6))
    assert (again.ci_low, again.ci_high) == (result.ci_low, result.ci_high)
    assert (other.ci_low, other.ci_high) != (result.ci_low, result.ci_high)


def test_kappa_weights_use_the_distance_between_values() -> None:
    # 3 is never used: with the full scale, 2 vs 4 is two steps apart, not one
    a, b = [1, 2, 4, 5, 2, 4], [1, 4, 2, 5, 2, 4]
    full = weighted_kappa(a, b, weights="linear", categories=range(1, 6), n_boot=0)
    observed = weighted_kappa(a, b, weights="linear", n_boot=0)
    assert full.value == pytest.approx(cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5],
                                                         weights="linear"), abs=1e-12)
    assert observed.value == pytest.approx(full.value, abs=1e-12)


def test_kappa_bad_and_undefined_inputs() -> None:
    with pytest.raises(InputError, match=r"rater_b has 2\.5"):
        weighted_kappa([1, 2, 3], [1, 2.5, 3])
    with pytest.raises(InputError, match="different numbers of items"):
        weighted_kappa([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="value 6 is not among the categories"):
        weighted_kappa([1, 2, 6], [1, 2, 3], categories=range(1, 6))
    with pytest.raises(UndefinedMetricError, match="both used one value"):
        weighted_kappa([3, 3, 3], [3, 3, 3])
    # a tiny sample: some resamples have one value only and are dropped, and counted
    small = weighted_kappa([1, 2, 1, 2], [1, 2, 2, 2], n_boot=500, seed=0)
    assert small.n_undefined > 0 and small.n_boot == 500


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=3, max_size=40),
       st.randoms(use_true_random=False))
def test_kappa_is_symmetric_and_ignores_item_order(pairs: list[tuple[int, int]],
                                                   shuffle: random.Random) -> None:
    a, b = (list(x) for x in zip(*pairs, strict=True))
    try:
        forward = weighted_kappa(a, b, n_boot=0).value
    except UndefinedMetricError:
        return
    order = list(range(len(a)))
    shuffle.shuffle(order)
    assert weighted_kappa(b, a, n_boot=0).value == pytest.approx(forward, abs=1e-12)
    shuffled = weighted_kappa([a[i] for i in order], [b[i] for i in order], n_boot=0)
    assert shuffled.value == pytest.approx(forward, abs=1e-12)


def anova_mean_squares(table: np.ndarray) -> tuple[float, float, float, float, float]:
    n, k = table.shape
    long = pd.DataFrame({"score": table.ravel(), "item": np.repeat(np.arange(n), k),
                         "rater": np.tile(np.arange(k), n)})
    anova = anova_lm(ols("score ~ C(item) + C(rater)", data=long).fit())
    ms = anova["mean_sq"]
    return (float(ms["C(item)"]), float(ms["C(rater)"]), float(ms["Residual"]),
            float(anova.loc["C(item)", "F"]), float(anova.loc["Residual", "df"]))


@pytest.mark.parametrize("table", [
    SHROUT_FLEISS,
    np.column_stack(noisy_ratings(150, 5)).astype(float),
    np.random.default_rng(3).normal(size=(40, 5)).cumsum(axis=1),
], ids=["shrout-fleiss", "judge-vs-human", "five-raters"])
def test_icc_matches_a_two_way_anova(table: np.ndarray) -> None:
    n, k = table.shape
    ms_items, ms_raters, ms_error, f_items, df_error = anova_mean_squares(table)
    icc3 = (ms_items - ms_error) / (ms_items + (k - 1) * ms_error)
    icc2 = (ms_items - ms_error) / (ms_items + (k - 1) * ms_error
                                    + k * (ms_raters - ms_error) / n)
    ours3, ours2 = icc(table, form="ICC(3,1)"), icc(table, form="ICC(2,1)")
    assert ours3.value == pytest.approx(icc3, abs=1e-9)
    assert ours2.value == pytest.approx(icc2, abs=1e-9)
    # ICC(3,1)'s interval from the ANOVA's F statistic (Shrout & Fleiss 1979)
    f_low = f_items / stats.f.ppf(0.975, n - 1, df_error)
    f_high = f_items * stats.f.ppf(0.975, df_error, n - 1)
    assert ours3.ci_low == pytest.approx((f_low - 1) / (f_low + k - 1), abs=1e-9)
    assert ours3.ci_high == pytest.approx((f_high - 1) / (f_high + k - 1), abs=1e-9)
    assert ours2.ci_low < ours2.value < ours2.ci_high
    assert (ours2.n, ours2.raters, ours2.method) == (n, k, "f-distribution")


def test_icc_reproduces_shrout_and_fleiss_table() -> None:
    # Shrout & Fleiss (1979), Table 4: ICC(2,1) = .29, ICC(3,1) = .71; the intervals as
    # R's psych::ICC reports them for the same data (0.019-0.76, 0.342-0.95)
    icc2, icc3 = icc(SHROUT_FLEISS), icc(SHROUT_FLEISS, form="ICC(3,1)")
    assert round(icc2.value, 2) == 0.29 and round(icc3.value, 2) == 0.71
    assert (round(icc2.ci_low, 3), round(icc2.ci_high, 2)) == (0.019, 0.76)  # type: ignore[arg-type]
    assert (round(icc3.ci_low, 3), round(icc3.ci_high, 2)) == (0.342, 0.95)  # type: ignore[arg-type]


def test_icc3_ignores_a_constant_offset_that_icc2_penalises() -> None:
    truth, _ = noisy_ratings(50, 9)
    offset = np.column_stack([truth, truth + 1]).astype(float)
    icc3 = icc(offset, form="ICC(3,1)")
    assert (icc3.value, icc3.ci_low, icc3.ci_high) == (1.0, 1.0, 1.0)
    assert icc(offset).value < 0.9


def test_icc_bad_and_undefined_inputs() -> None:
    with pytest.raises(InputError, match="missing values in 1 rows"):
        icc([[1, 2], [3, float("nan")], [2, 2]])
    with pytest.raises(InputError, match="at least 2 x 2"):
        icc([[1, 2, 3]])
    with pytest.raises(UndefinedMetricError, match="every rating is the same"):
        icc([[2, 2], [2, 2], [2, 2]])


def test_calibration_says_fit_when_the_lower_bound_reaches_the_minimum() -> None:
    judge, human = noisy_ratings(300, 21, noise=0.4)
    result = calibration(list(judge), list(human), min_kappa=0.6, n_boot=500)
    assert result.kappa is not None and result.kappa.ci_low is not None
    assert result.kappa.ci_low >= 0.6 and result.fit_for_gating
    assert result.pairs == 300 and (result.unscored, result.unlabelled) == (0, 0)
    assert "reaches the required 0.60" in result.verdict
    assert "well enough to be used for gating" in result.verdict
    # at the bound exactly it still passes; just above it, it does not
    assert calibration(list(judge), list(human), min_kappa=result.kappa.ci_low,
                       n_boot=500).fit_for_gating
    strict = calibration(list(judge), list(human), min_kappa=result.kappa.ci_low + 1e-9,
                         n_boot=500)
    assert not strict.fit_for_gating and "should not be used for gating" in strict.verdict


def test_calibration_of_a_poor_judge_with_gaps() -> None:
    judge, human = noisy_ratings(80, 4, noise=2.0)
    scores: list[float | None] = list(judge)
    labels: list[float | None] = list(human)
    scores[:5] = [None] * 5
    labels[10:12] = [None, None]
    result = calibration(scores, labels, min_kappa=0.6, n_boot=300)
    assert (result.pairs, result.unscored, result.unlabelled) == (73, 5, 2)
    assert not result.fit_for_gating
    assert result.kappa is not None and result.kappa.ci_low is not None
    assert result.kappa.ci_low < 0.6
    assert "(5 the judge left unscored and 2 without a human label left out)" in result.verdict
    assert "is below the required 0.60" in result.verdict


def test_calibration_without_measurable_agreement() -> None:
    assert not calibration([3, 3, 3], [3, 3, 3]).fit_for_gating
    assert "cannot be measured" in calibration([3, 3, 3], [3, 3, 3]).verdict
    assert "Only 1 item(s)" in calibration([2, None], [2, 4]).verdict
    with pytest.raises(InputError, match="aligned item by item"):
        calibration([1, 2], [1])
