"""Degradation curves: direction of the effects, intervals, determinism and the result type."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import compare, estimate
from assay.robustness import (
    CovariateShift,
    DegradationCurve,
    FeatureUnavailable,
    GaussianNoise,
    Missingness,
    PrevalenceShift,
    UnitError,
    stress_test,
)
from tests.robustness.conftest import LABS, STRONG

N_BOOT = 200


def _values(curve: DegradationCurve, field: str) -> list[float]:
    return [float(getattr(row, field)) for row in curve.rows]


def test_auroc_falls_with_noise(model: Pipeline, cohort: pd.DataFrame, y: np.ndarray) -> None:
    noise = GaussianNoise(features=STRONG, sd_fraction=1.0)
    curve = stress_test(model, cohort, y, noise, n_boot=N_BOOT)
    assert _values(curve, "strength") == [0.0, 0.25, 0.5, 1.0, 2.0]
    values = _values(curve, "value")
    assert values[0] == curve.baseline.value
    assert all(later <= earlier + 0.003 for earlier, later in itertools.pairwise(values))
    assert values[-1] < values[0] - 0.05
    first, *_, strongest = curve.rows
    assert (first.drop, first.drop_ci_low, first.drop_ci_high) == (0.0, 0.0, 0.0)
    assert strongest.drop_ci_low is not None and strongest.drop_ci_low > 0.03
    assert strongest.drop_method == "delong" and strongest.method == "delong"
    assert strongest.drop == pytest.approx(curve.baseline.value - values[-1], abs=1e-12)


def test_drop_is_the_paired_comparison_of_the_same_patients(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    noise = GaussianNoise(features=STRONG, sd_fraction=1.0, seed=7)
    curve = stress_test(model, cohort, y, noise, strengths=[1.0], n_boot=N_BOOT)
    base = model.predict_proba(cohort[list(model.feature_names_in_)])[:, 1]
    blurred = noise.apply(cohort).frame
    new = model.predict_proba(blurred[list(model.feature_names_in_)])[:, 1]
    expected = compare("auroc", y, base, new)
    row = curve.rows[0]
    assert (row.drop, row.drop_ci_low, row.drop_ci_high) == (
        expected.difference,
        expected.ci_low,
        expected.ci_high,
    )
    assert row.value == estimate("auroc", y, new).value


def test_missingness_drop_grows_with_the_rate(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    curve = stress_test(
        model,
        cohort,
        y,
        {"kind": "missingness", "features": STRONG, "rate": 0.2},
        strengths=[0.1, 0.2, 0.5],
        n_boot=N_BOOT,
    )
    drops = _values(curve, "drop")
    assert drops[0] < drops[1] < drops[2]
    assert _values(curve, "drop_ci_low")[2] > 0
    assert curve.rows[1].perturbation == (
        "20% of prior_admissions_12m, charlson_index, n_medications and albumin_g_dl missing "
        "at random"
    )


def test_unit_errors_matter_only_on_used_features(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    used = UnitError(feature="creatinine_mg_dl", conversion="creatinine_mgdl_as_umol")
    unused = UnitError(feature="temp_c", conversion="celsius_as_fahrenheit")
    hit = stress_test(model, cohort, y, used, strengths=[0.1, 0.25], n_boot=N_BOOT)
    assert all(low > 0.01 for low in _values(hit, "drop_ci_low"))
    missed = stress_test(model, cohort, y, unused, strengths=[0.1, 1.0], n_boot=N_BOOT)
    for row in missed.rows:
        assert (row.value, row.drop, row.drop_ci_low, row.drop_ci_high) == (
            missed.baseline.value,
            0.0,
            0.0,
            0.0,
        )


def test_a_whole_feed_in_the_wrong_unit_hurts_calibration_most(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    whole = UnitError(feature="creatinine_mg_dl", conversion="creatinine_mgdl_as_umol", rate=1.0)
    ranking = stress_test(model, cohort, y, whole, strengths=[0.5, 1.0], n_boot=N_BOOT)
    # a half-converted feed scrambles the ranking more than a wholly converted one (which is
    # monotone in the true value); the Brier score (lower is better) and the O/E ratio (ideal 1)
    # collapse when the whole feed is converted
    half, full = _values(ranking, "drop")
    assert 0 < full < half
    brier = stress_test(model, cohort, y, whole, metric="brier", strengths=[1.0], n_boot=N_BOOT)
    assert brier.rows[0].drop_ci_low is not None and brier.rows[0].drop_ci_low > 0.5
    assert brier.rows[0].drop_method == "paired-bootstrap"
    oe = stress_test(model, cohort, y, whole, metric="oe_ratio", strengths=[1.0], n_boot=N_BOOT)
    row = oe.rows[0]
    assert row.value is not None and row.value < 0.3
    assert row.drop == pytest.approx(abs(row.value - 1) - abs(oe.baseline.value - 1), abs=1e-12)


def test_prevalence_shift_keeps_auroc_and_moves_ppv(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    shift = PrevalenceShift(prevalence=0.3)
    auroc = stress_test(model, cohort, y, shift, strengths=[0.05, 0.3, 0.5], n_boot=N_BOOT)
    for row in auroc.rows:
        assert row.drop_method == "unpaired-bootstrap"
        assert row.drop_ci_low is not None and row.drop_ci_high is not None
        assert row.drop_ci_low < 0 < row.drop_ci_high
        assert row.ci_low is not None and row.ci_high is not None
        assert row.ci_low < auroc.baseline.value < row.ci_high
    assert _values(auroc, "n") == [
        round((y == 0).sum() / 0.95),
        round((y == 1).sum() / 0.3),
        2 * int((y == 1).sum()),
    ]
    ppv = stress_test(
        model, cohort, y, shift, metric="ppv", strengths=[0.05, 0.5], n_boot=N_BOOT, threshold=0.2
    )
    low, high = ppv.rows
    assert low.drop_ci_low is not None and low.drop_ci_low > 0.1  # rarer outcome, lower PPV
    assert high.drop_ci_high is not None and high.drop_ci_high < -0.2  # "negative drop": better
    assert high.method == "wilson"


def test_covariate_shift_reweights_with_a_paired_bootstrap(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    shift = CovariateShift(feature="age", low=75, weight=2.0)
    curve = stress_test(model, cohort, y, shift, strengths=[1.0, 5.0], n_boot=N_BOOT)
    neutral, heavy = curve.rows
    assert (neutral.drop, neutral.drop_ci_low, neutral.drop_ci_high) == (0.0, 0.0, 0.0)
    assert heavy.drop_method == "paired-bootstrap" and heavy.method == "bootstrap-percentile"
    weights = shift.apply(cohort, strength=5.0).weight
    score = model.predict_proba(cohort[list(model.feature_names_in_)])[:, 1]
    assert heavy.value == pytest.approx(estimate("auroc", y, score, sample_weight=weights).value)
    assert heavy.n == len(cohort)


def test_same_inputs_give_the_same_curve_and_leave_the_inputs_alone(
    model: Pipeline, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    before, y_before = cohort.copy(deep=True), y.copy()
    spec = Missingness(features=LABS, rate=0.3, seed=11)
    settings: dict[str, Any] = {"strengths": [0.3], "n_boot": N_BOOT, "metric": "brier"}
    first = stress_test(model, cohort, y, spec, **settings)
    second = stress_test(model, cohort, y, spec.to_dict(), **settings)
    assert first.model_dump_json() == second.model_dump_json()
    reseeded = stress_test(model, cohort, y, spec.model_copy(update={"seed": 12}), **settings)
    assert reseeded.rows[0].value != first.rows[0].value
    pd.testing.assert_frame_equal(cohort, before)
    np.testing.assert_array_equal(y, y_before)


def test_curve_frame_and_estimates(model: Pipeline, cohort: pd.DataFrame, y: np.ndarray) -> None:
    spec = FeatureUnavailable(features=LABS)
    curve = stress_test(model, cohort, y, spec, strengths=[0.0, 1.0], n_boot=N_BOOT)
    frame = curve.to_frame()
    assert list(frame.columns) == [
        "strength",
        "perturbation",
        "value",
        "ci_low",
        "ci_high",
        "drop",
        "drop_ci_low",
        "drop_ci_high",
        "n",
        "n_events",
        "method",
        "drop_method",
        "status",
        "reason",
        "metric",
        "level",
    ]
    assert frame["metric"].tolist() == ["auroc", "auroc"] and frame["level"].tolist() == [0.95] * 2
    assert frame["n"].tolist() == [3000, 3000]
    drop = curve.drop_at(1.0)
    row = curve.row_at(1.0)
    assert (drop.value, drop.ci_low, drop.ci_high, drop.method) == (
        row.drop,
        row.drop_ci_low,
        row.drop_ci_high,
        "delong",
    )
    assert curve.value_at(1.0).value == row.value
    assert curve.summary().startswith("AUROC 0.7")
    assert "unavailable for 100% of rows, left missing: a drop of +0.0" in curve.summary()
    with pytest.raises(InputError, match=r"the curve has no strength 0\.5; it has 0, 1"):
        curve.row_at(0.5)
    with pytest.raises(ValidationError):
        curve.rows[0].value = 0.5  # type: ignore[misc]
    assert DegradationCurve.model_validate_json(curve.model_dump_json()) == curve


def test_undefined_points_are_rows_with_a_reason() -> None:
    frame = pd.DataFrame({"lab": np.linspace(0, 10, 200)})
    y = (np.arange(200) % 3 == 0).astype(int)
    risk = lambda f: (f["lab"].fillna(0) / 10).clip(0, 1)  # noqa: E731
    spec = FeatureUnavailable(features=["lab"], fill="value", value=0.0)
    curve = stress_test(risk, frame, y, spec, metric="ppv", strengths=[0.0, 1.0], threshold=0.5)
    assert curve.rows[0].status == "ok"
    assert curve.rows[1].status == "undefined" and curve.rows[1].value is None
    assert "flagged" in (curve.rows[1].reason or "")
    with pytest.raises(UndefinedMetricError):
        curve.drop_at(1.0)
    with pytest.raises(UndefinedMetricError):
        stress_test(risk, frame, y, spec, metric="ppv", threshold=2.0)


def test_bad_arguments(model: Pipeline, cohort: pd.DataFrame, y: np.ndarray) -> None:
    spec = Missingness(features=LABS, rate=0.1)
    with pytest.raises(InputError, match="unknown metric 'auc'"):
        stress_test(model, cohort, y, spec, metric="auc")
    with pytest.raises(InputError, match="'rmse' is a regression metric"):
        stress_test(model, cohort, y, spec, metric="rmse")
    with pytest.raises(InputError, match="flag_rate has no direction and no ideal"):
        stress_test(model, cohort, y, spec, metric="flag_rate", threshold=0.2)
    with pytest.raises(InputError, match="y has 10 rows, the frame 3000"):
        stress_test(model, cohort, y[:10], spec)
    with pytest.raises(InputError, match="strengths must not repeat"):
        stress_test(model, cohort, y, spec, strengths=[0.1, 0.1])
    with pytest.raises(InputError, match="missingness perturbation: field 'rate'"):
        stress_test(model, cohort, y, spec, strengths=[0.1, 1.5])
    with pytest.raises(InputError, match="must be a perturbation or its dict, got str"):
        stress_test(model, cohort, y, "missingness")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="field 'kind' is required"):
        stress_test(model, cohort, y, {"features": LABS})
