"""Score, flag-rate and outcome-rate drift against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from assay.drift import prediction_drift, prevalence_drift, psi
from assay.errors import InputError


def _wilson(k: int, n: int) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def test_prevalence_rate_difference_and_newcombe_interval() -> None:
    # 100 / 1000 events in the reference, 150 / 1000 now: +50 % relative, +0.05 absolute.
    result = prevalence_drift([1] * 100 + [0] * 900, [1] * 150 + [0] * 850)
    assert result.reference.value == 0.1 and result.current.value == 0.15
    ref_low, ref_high = _wilson(100, 1000)
    cur_low, cur_high = _wilson(150, 1000)
    assert result.reference.ci_low == pytest.approx(ref_low, abs=1e-12)
    assert result.current.ci_high == pytest.approx(cur_high, abs=1e-12)
    # Newcombe (1998) method 10 from the two Wilson intervals
    low = 0.05 - math.sqrt((0.15 - cur_low) ** 2 + (ref_high - 0.1) ** 2)
    high = 0.05 + math.sqrt((cur_high - 0.15) ** 2 + (0.1 - ref_low) ** 2)
    assert result.difference.value == pytest.approx(0.05, abs=1e-15)
    assert result.difference.ci_low == pytest.approx(low, abs=1e-12)
    assert result.difference.ci_high == pytest.approx(high, abs=1e-12)
    statsmodels_low, statsmodels_high = confint_proportions_2indep(
        150, 1000, 100, 1000, method="newcomb", compare="diff")
    assert result.difference.ci_low == pytest.approx(statsmodels_low, abs=1e-12)
    assert result.difference.ci_high == pytest.approx(statsmodels_high, abs=1e-12)
    assert result.relative_change == pytest.approx(0.5)
    assert result.drifted and result.reference.n_events == 100
    assert "outcome rate rose from 0.100" in result.summary()


def test_a_large_relative_change_in_a_small_sample_is_not_drift() -> None:
    # 4 / 40 to 6 / 40 is +50 %, but the interval of the difference spans 0.
    result = prevalence_drift([1] * 4 + [0] * 36, [1] * 6 + [0] * 34)
    assert result.relative_change == pytest.approx(0.5)
    assert result.difference.ci_low is not None and result.difference.ci_low < 0
    assert not result.drifted


def test_a_significant_change_within_25_percent_is_not_drift() -> None:
    # 1000 / 10000 to 1200 / 10000: +20 %, clearly beyond noise, inside the ±25 % band.
    result = prevalence_drift([1] * 1000 + [0] * 9000, [1] * 1200 + [0] * 8800)
    assert result.difference.ci_low is not None and result.difference.ci_low > 0
    assert result.relative_change == pytest.approx(0.2)
    assert not result.drifted


def test_a_fall_drifts_too() -> None:
    result = prevalence_drift([1] * 200 + [0] * 800, [1] * 100 + [0] * 900)
    assert result.relative_change == pytest.approx(-0.5)
    assert result.drifted and "fell" in result.summary()


def test_prediction_drift_scores_psi_ks_and_the_flag_rate() -> None:
    rng = np.random.default_rng(51)
    reference, current = rng.beta(2, 8, 5000), rng.beta(3, 7, 5000)
    result = prediction_drift(reference, current, threshold=0.3)
    by_method = {r.method: r for r in result.score}
    assert by_method["psi"].statistic == pytest.approx(psi(reference, current), abs=1e-15)
    assert by_method["ks"].statistic == pytest.approx(
        stats.ks_2samp(reference, current).statistic, abs=1e-15)
    assert by_method["psi"].threshold == 0.2 and by_method["ks"].threshold == 0.1
    assert by_method["ks"].p_value is not None and by_method["psi"].p_value is None
    flags = result.flag_rate
    assert flags is not None
    assert flags.reference.value == pytest.approx(np.mean(reference >= 0.3), abs=1e-15)
    assert flags.current.value == pytest.approx(np.mean(current >= 0.3), abs=1e-15)
    # Beta(2, 8) exceeds 0.3 with probability 0.1960; Beta(3, 7) with 0.4628
    assert flags.reference.value == pytest.approx(stats.beta.sf(0.3, 2, 8), abs=0.02)
    assert flags.current.value == pytest.approx(stats.beta.sf(0.3, 3, 7), abs=0.02)
    assert flags.drifted and result.drifted
    assert "At decision threshold 0.3, the flag rate rose" in result.summary()


def test_a_stable_score_does_not_drift_and_the_threshold_counts_ties_as_flagged() -> None:
    reference = np.array([0.1, 0.2, 0.3, 0.4] * 250)
    result = prediction_drift(reference, reference[::-1].copy(), threshold=0.3)
    assert [r.statistic for r in result.score] == [0.0, 0.0]
    assert result.flag_rate is not None and result.flag_rate.reference.value == 0.5
    assert result.flag_rate.relative_change == 0.0
    assert not result.drifted
    assert prediction_drift(reference, reference).flag_rate is None


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="current_score contains NaN"):
        prediction_drift([0.1, 0.2], [0.3, float("nan")])
    with pytest.raises(InputError, match="must contain only 0/1"):
        prevalence_drift([0, 1], [0, 2])
    with pytest.raises(InputError, match="is 0 in the reference"):
        prevalence_drift([0, 0, 0], [0, 1, 0])
    with pytest.raises(InputError, match="no rows"):
        prediction_drift([], [0.2])
