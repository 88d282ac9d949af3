"""Clinical plausibility: impossible values and unit mismatches injected into synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.curation._plausibility import (
    MEASUREMENTS,
    check_plausibility,
    unit_mismatch,
)
from assay.datasets import LabUnitChange, make_inpatient_cohort, units
from assay.errors import InputError

COHORT_MEASUREMENTS = {
    "age": "age",
    "heart_rate_bpm": "heart_rate",
    "sbp_mmhg": "systolic_bp",
    "resp_rate_bpm": "respiratory_rate",
    "temp_c": "temperature",
    "spo2_pct": "spo2",
    "sodium_mmol_l": "sodium",
    "creatinine_mg_dl": "creatinine",
    "hemoglobin_g_dl": "hemoglobin",
    "wbc_k_ul": "white_cell_count",
    "glucose_mg_dl": "glucose",
    "lactate_mmol_l": "lactate",
}


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_inpatient_cohort(20_000, seed=3)


def test_library_covers_the_measurements_with_units_and_sources() -> None:
    expected = {"heart_rate", "systolic_bp", "diastolic_bp", "temperature", "spo2",
                "respiratory_rate", "glucose", "creatinine", "sodium", "potassium", "lactate",
                "hemoglobin", "white_cell_count", "weight", "height", "age"}
    assert set(MEASUREMENTS) == expected
    assert all(m.low < m.typical < m.high and m.unit and m.source for m in MEASUREMENTS.values())
    assert {n for n, m in MEASUREMENTS.items() if m.alternative} == {
        "temperature", "glucose", "creatinine", "weight"}
    cohort_units = units()
    for column, name in COHORT_MEASUREMENTS.items():
        assert MEASUREMENTS[name].unit == cohort_units[column]


def test_clean_cohort_has_no_impossible_value_and_no_unit_mismatch(cohort: pd.DataFrame) -> None:
    findings = check_plausibility(cohort, COHORT_MEASUREMENTS, time_column="discharged_at")
    assert len(findings) == len(COHORT_MEASUREMENTS) + 3
    assert [(f.columns, f.n_rows) for f in findings if f.n_rows] == []
    assert {f.status for f in findings} == {"pass"}


def test_impossible_values_are_counted_per_column(cohort: pd.DataFrame) -> None:
    broken = cohort.copy()
    rng = np.random.default_rng(1)
    hr_rows = rng.choice(len(broken), size=25, replace=False)
    broken.loc[hr_rows, "heart_rate_bpm"] = np.r_[np.full(20, 999.0), np.zeros(5)]
    spo2_rows = rng.choice(len(broken), size=9, replace=False)
    broken.loc[spo2_rows, "spo2_pct"] = 104.0
    findings = {f.columns[0]: f for f in check_plausibility(
        broken, {"heart_rate_bpm": "heart_rate", "spo2_pct": "spo2", "sodium_mmol_l": "sodium"})}
    assert (findings["heart_rate_bpm"].n_rows, findings["heart_rate_bpm"].status) == (25, "fail")
    assert set(findings["heart_rate_bpm"].examples) <= set(hr_rows.tolist())
    assert findings["spo2_pct"].n_rows == 9
    assert (findings["sodium_mmol_l"].n_rows, findings["sodium_mmol_l"].status) == (0, "pass")
    assert "999" not in findings["heart_rate_bpm"].message


def test_creatinine_unit_change_is_dated_and_counted() -> None:
    change = LabUnitChange(column="creatinine_mg_dl", factor=88.4, starts="2025-03-01",
                           unit="µmol/L")
    shifted = make_inpatient_cohort(20_000, seed=3, shifts=[change])
    after = shifted["discharged_at"] >= "2025-03-01"
    changed = int(shifted.loc[after, "creatinine_mg_dl"].notna().sum())
    finding = unit_mismatch(shifted, "creatinine_mg_dl", "creatinine",
                            time_column="discharged_at")
    assert finding.columns == ("creatinine_mg_dl",)
    assert finding.status == "fail"
    starts = pd.Timestamp(str(finding.details["starts"]))
    assert abs(starts - pd.Timestamp("2025-03-01")) <= pd.Timedelta(days=1)
    assert abs(finding.n_rows - changed) <= 0.01 * changed
    assert changed > 3_000
    assert finding.details["alternative_unit"] == "µmol/L"
    assert "2025-03-0" in finding.message


def test_glucose_in_mmol_from_a_date_is_found(cohort: pd.DataFrame) -> None:
    shifted = make_inpatient_cohort(20_000, seed=3, shifts=[LabUnitChange(starts="2024-10-15")])
    changed = int(shifted.loc[shifted["discharged_at"] >= "2024-10-15",
                              "glucose_mg_dl"].notna().sum())
    finding = unit_mismatch(shifted, "glucose_mg_dl", "glucose", time_column="discharged_at")
    starts = pd.Timestamp(str(finding.details["starts"]))
    assert abs(starts - pd.Timestamp("2024-10-15")) <= pd.Timedelta(days=1)
    assert abs(finding.n_rows - changed) <= 0.01 * changed


def test_scattered_fahrenheit_temperatures_are_counted(cohort: pd.DataFrame) -> None:
    mixed = cohort.copy()
    rows = np.random.default_rng(2).choice(
        np.flatnonzero(mixed["temp_c"].notna().to_numpy()), size=300, replace=False)
    mixed.loc[rows, "temp_c"] = mixed.loc[rows, "temp_c"] * 1.8 + 32
    finding = unit_mismatch(mixed, "temp_c", "temperature")
    assert (finding.n_rows, finding.status, finding.details["alternative_unit"]) == (
        300, "fail", "°F")
    assert set(finding.examples) <= set(rows.tolist())


def test_weight_in_pounds_among_kilograms_is_estimated() -> None:
    rng = np.random.default_rng(4)
    weight_kg = np.exp(rng.normal(np.log(78.0), 0.2, size=8_000))
    in_pounds = rng.random(8_000) < 0.25
    recorded = np.where(in_pounds, weight_kg * 2.20462, weight_kg)
    frame = pd.DataFrame({"weight": recorded})
    finding = unit_mismatch(frame, "weight", "weight")
    assert abs(finding.n_rows - int(in_pounds.sum())) <= 0.05 * int(in_pounds.sum())
    assert finding.details["alternative_unit"] == "lb"
    clean = unit_mismatch(pd.DataFrame({"weight": weight_kg}), "weight", "weight")
    assert clean.n_rows <= 8


def test_errors_name_the_measurement_or_column(cohort: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="unknown measurement 'pulse'"):
        check_plausibility(cohort, {"heart_rate_bpm": "pulse"})
    with pytest.raises(InputError, match="'sex' must be numeric"):
        check_plausibility(cohort, {"sex": "age"})
    with pytest.raises(InputError, match="no alternative unit"):
        unit_mismatch(cohort, "sodium_mmol_l", "sodium")


def test_values_in_the_other_unit_are_counted_once(cohort: pd.DataFrame) -> None:
    frame = cohort[["temp_c"]].copy()
    fahrenheit = np.zeros(len(frame), dtype=bool)
    fahrenheit[::50] = True  # 2% of temperatures sent in °F
    frame.loc[fahrenheit, "temp_c"] = frame.loc[fahrenheit, "temp_c"] * 1.8 + 32
    frame.loc[7, "temp_c"] = 0.0  # impossible in either unit
    in_range, unit = check_plausibility(frame, {"temp_c": "temperature"})
    sent_in_f = int((fahrenheit & frame["temp_c"].notna().to_numpy()).sum())
    assert (in_range.rule, in_range.n_rows, in_range.examples) == ("plausible_range", 1, (7,))
    assert f"A further {sent_in_f - (1 if fahrenheit[7] else 0):,} look recorded in °F" \
        in in_range.message
    assert unit.rule == "unit_mismatch" and unit.n_rows == sent_in_f - int(fahrenheit[7])


def test_scattered_values_in_the_other_unit_are_dated_by_first_and_last(
        cohort: pd.DataFrame) -> None:
    frame = cohort[["temp_c", "discharged_at"]].sort_values("discharged_at").reset_index(drop=True)
    late = (frame["discharged_at"] >= "2024-10-01").to_numpy()
    ward = late & (np.arange(len(frame)) % 25 == 0)  # 4% of one period, not a switch
    frame.loc[ward, "temp_c"] = frame.loc[ward, "temp_c"] * 1.8 + 32
    finding = unit_mismatch(frame, "temp_c", "temperature", time_column="discharged_at")
    sent = frame.loc[ward & frame["temp_c"].notna().to_numpy(), "discharged_at"]
    assert "starts" not in finding.details
    assert finding.details["first"] == sent.min().date().isoformat()
    assert finding.details["last"] == sent.max().date().isoformat()
    assert f"scattered between {sent.min().date()} and {sent.max().date()}" in finding.message
