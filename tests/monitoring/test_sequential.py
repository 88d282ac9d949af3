"""Sequential change detection: false-alarm budgets, detection delays and missing windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from assay.errors import InputError
from assay.monitoring._calibrate import (
    calibrate_cusum_h,
    calibrate_page_hinkley,
    cusum_arl,
    page_hinkley_arl,
)
from assay.monitoring._sequential import Cusum, PageHinkley, detect, run_detector

ALLOWANCE = 0.5


def _threshold(method: str, arl0: float) -> float:
    if method == "cusum":
        return calibrate_cusum_h(arl0, ALLOWANCE)
    return calibrate_page_hinkley(arl0, ALLOWANCE)


def test_siegmund_matches_published_cusum_run_lengths() -> None:
    # Montgomery (2009), table 9.3, k = 1/2, h = 5: ARL 465 in control, 10.4 for a 1-SD shift
    assert cusum_arl(5.0, 0.5) == pytest.approx(465, rel=0.02)
    assert cusum_arl(5.0, 0.5, shift=1.0) == pytest.approx(10.4, rel=0.02)
    h = calibrate_cusum_h(520, 0.5)
    assert cusum_arl(h, 0.5) == pytest.approx(520, rel=1e-9)
    assert h == pytest.approx(5.1017, abs=1e-3)


@pytest.mark.parametrize("method", ["cusum", "page_hinkley"])
@pytest.mark.parametrize("arl0", [100, 520])
def test_empirical_in_control_run_length_is_the_requested_one(method: str, arl0: int) -> None:
    threshold = _threshold(method, arl0)
    rng = np.random.default_rng(1000 + arl0)
    streams, windows = 1000, 10 * arl0
    z = rng.standard_normal((streams, windows))
    _, _, alarms = run_detector(z, method, ALLOWANCE, threshold)  # type: ignore[arg-type]
    empirical = z.size / alarms.sum()
    print(f"\n{method} arl0={arl0}: threshold {threshold:.3f}, empirical ARL0 {empirical:.1f} "
          f"from {alarms.sum()} alarms in {z.size} windows")
    assert abs(empirical / arl0 - 1) <= 0.15


def test_cusum_detects_a_one_sd_shift_as_fast_as_theory_says() -> None:
    h = calibrate_cusum_h(520, ALLOWANCE)
    rng = np.random.default_rng(7)
    z = rng.standard_normal((4000, 200)) + 1.0
    upper, lower, alarms = run_detector(z, "cusum", ALLOWANCE, h)
    assert alarms.any(axis=1).all()
    first = np.argmax(alarms, axis=1)
    delay = float(np.mean(first + 1))
    expected = cusum_arl(h, ALLOWANCE, shift=1.0)
    print(f"\nCUSUM h={h:.3f}: mean delay for a 1-SD shift {delay:.2f} windows, "
          f"Siegmund ARL1 {expected:.2f}")
    assert delay == pytest.approx(expected, rel=0.05)
    rows = np.arange(first.size)
    assert np.mean(upper[rows, first] > lower[rows, first]) >= 0.999


def test_page_hinkley_detects_a_shift_during_monitoring() -> None:
    lambda_ = calibrate_page_hinkley(520, ALLOWANCE)
    rng = np.random.default_rng(8)
    z = rng.standard_normal((4000, 300))
    z[:, 100:] += 1.0
    _, _, alarms = run_detector(z, "page_hinkley", ALLOWANCE, lambda_)
    quiet = ~alarms[:, :100].any(axis=1)
    after = alarms[quiet, 100:]
    assert after.any(axis=1).all()
    delay = float(np.mean(np.argmax(after, axis=1) + 1))
    print(f"\nPage-Hinkley lambda={lambda_:.3f}: mean delay {delay:.2f} windows for a 1-SD shift "
          f"after 100 stable windows ({quiet.sum()} streams without an earlier alarm)")
    assert 9.0 <= delay <= 13.0


def test_page_hinkley_cannot_see_a_shift_present_from_the_first_window() -> None:
    # documents the limitation: the running mean absorbs a change that is there from the start
    lambda_ = calibrate_page_hinkley(520, ALLOWANCE)
    rng = np.random.default_rng(9)
    z = rng.standard_normal((4000, 52)) + 1.0
    _, _, alarms = run_detector(z, "page_hinkley", ALLOWANCE, lambda_)
    detected = float(alarms.any(axis=1).mean())
    print(f"\nPage-Hinkley, 1-SD shift from window 1: detected within 52 windows in "
          f"{detected:.1%} of streams (CUSUM: all)")
    assert detected < 0.15


@pytest.mark.parametrize("method", ["cusum", "page_hinkley"])
@pytest.mark.parametrize("arl0", [100, 520])
def test_false_alarms_per_year_stay_within_the_budget(method: str, arl0: int) -> None:
    rng = np.random.default_rng(arl0)
    reference, se = 0.80, 0.015
    counts = []
    for _ in range(200):
        values = reference + se * rng.standard_normal(52)
        result = detect(values, [se] * 52, reference,
                        method=method, arl0=arl0)  # type: ignore[arg-type]
        counts.append(len(result.alarms))
    mean = float(np.mean(counts))
    standard_error = float(np.std(counts, ddof=1) / math.sqrt(len(counts)))
    budget = 52 / arl0
    print(f"\n{method} arl0={arl0}: {mean:.3f} false alarms per 52 windows "
          f"(SE {standard_error:.3f}), budget {budget:.3f}")
    assert mean <= budget + 2 * standard_error


def test_missing_windows_are_skipped_without_restarting() -> None:
    values = [0.80, 0.77, None, 0.77, float("nan"), 0.78, 0.79, 0.75]
    ses = [0.01, 0.01, None, 0.01, 0.01, 0.01, 0.01, 0.01]
    result = detect(values, ses, 0.80)  # h = 5.10 for 520 windows between false alarms
    complete = detect([v for v in values if v is not None and not math.isnan(v)],
                      [0.01] * 6, 0.80)
    assert result.skipped == (2, 4)
    kept = [w for w in result.windows if not w.skipped]
    assert [w.lower for w in kept] == pytest.approx([w.lower for w in complete.windows])
    assert [w.alarm for w in kept] == [w.alarm for w in complete.windows]
    skipped = result.windows[2]
    assert skipped.value is None and skipped.z is None and skipped.se is None
    assert not skipped.alarm and skipped.direction is None
    # S- = 2.5 after window 1, carried over the gap; 5.0 after window 3 (just below h), carried
    # over the NaN; window 5 (z = -2) takes it to 6.5: an alarm, then a restart
    assert skipped.lower == result.windows[1].lower == pytest.approx(2.5)
    assert result.windows[4].lower == result.windows[3].lower == pytest.approx(5.0)
    assert result.windows[5].lower == pytest.approx(6.5)
    assert result.alarms == (5,)
    assert result.windows[5].direction == "down"
    assert result.windows[6].lower == pytest.approx(0.5)
    frame = result.to_frame()
    assert frame["skipped"].tolist() == [False, False, True, False, True, False, False, False]


def test_missing_values_do_not_move_the_page_hinkley_mean() -> None:
    z = np.array([[0.3, np.nan, -0.2, 1.4, np.nan, 0.1]])
    upper, lower, _ = run_detector(z, "page_hinkley", 0.5, 100.0)
    kept = z[:, ~np.isnan(z[0])]
    upper_kept, lower_kept, _ = run_detector(kept, "page_hinkley", 0.5, 100.0)
    assert upper[0, ~np.isnan(z[0])] == pytest.approx(upper_kept[0])
    assert lower[0, ~np.isnan(z[0])] == pytest.approx(lower_kept[0])


def test_standardisation_uses_both_standard_errors_and_states_the_budget() -> None:
    result = detect([0.85], [0.03], 0.80, reference_se=0.04)
    window = result.windows[0]
    assert window.z == pytest.approx(0.05 / 0.05)
    assert window.upper == pytest.approx(0.5)
    assert result.method == "cusum" and result.allowance == 0.5
    assert result.threshold == pytest.approx(calibrate_cusum_h(520, 0.5))
    assert result.budget == (
        "expected 520 windows between false alarms (0.10 false alarms per 52 windows)"
    )


def test_a_configured_detector_carries_its_own_budget() -> None:
    fixed = detect([0.8], [0.01], 0.8, method=Cusum(h=5.0))
    assert fixed.threshold == 5.0
    assert fixed.arl0 == pytest.approx(cusum_arl(5.0, 0.5))
    assert fixed.budget.startswith("expected 469 windows between false alarms")
    lambda_ = calibrate_page_hinkley(100, 0.5)
    assert PageHinkley(lambda_=lambda_).in_control_arl == pytest.approx(100, rel=1e-3)
    assert page_hinkley_arl(lambda_, 0.5) == pytest.approx(100, rel=1e-3)
    with pytest.raises(ValidationError, match="not both"):
        Cusum(h=5.0, arl0=100)
    with pytest.raises(InputError, match="arl0 is set on the detector"):
        detect([0.8], [0.01], 0.8, method=Cusum(arl0=100), arl0=100)


def test_bad_inputs_name_the_problem() -> None:
    with pytest.raises(InputError, match=r"windows \[1\] have a value but no positive standard"):
        detect([0.8, 0.7], [0.01, None], 0.8)
    with pytest.raises(InputError, match="same length"):
        detect([0.8, 0.7], [0.01], 0.8)
    with pytest.raises(InputError, match="method must be"):
        detect([0.8], [0.01], 0.8, method="ewma")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="must be above 1"):
        calibrate_cusum_h(1.0)
