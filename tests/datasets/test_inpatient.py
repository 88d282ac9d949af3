"""The synthetic inpatient cohort: shape, determinism, plausibility and learnability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import assay.datasets
from assay.datasets import LabUnitChange, make_inpatient_cohort, units
from assay.errors import InputError

MEASUREMENTS = [
    "heart_rate_bpm",
    "sbp_mmhg",
    "resp_rate_bpm",
    "temp_c",
    "spo2_pct",
    "sodium_mmol_l",
    "creatinine_mg_dl",
    "hemoglobin_g_dl",
    "wbc_k_ul",
    "glucose_mg_dl",
    "lactate_mmol_l",
    "albumin_g_dl",
]
COUNTS = ["prior_admissions_12m", "length_of_stay_days", "charlson_index", "n_medications"]
CATEGORIES = {
    "sex": {"F", "M", "Unknown"},
    "race_ethnicity": {"White", "Black", "Hispanic", "Asian", "Other/Unknown"},
    "payer": {"Medicare", "Medicaid", "Commercial", "Self-pay"},
    "language": {"English", "Spanish", "Other"},
    "admission_type": {"Emergency", "Urgent", "Elective"},
    "discharge_disposition": {"Home", "Home health", "SNF", "Other"},
}
COLUMNS = [
    "encounter_id",
    "patient_id",
    "admitted_at",
    "discharged_at",
    "label_available_at",
    "age",
    *CATEGORIES,
    *MEASUREMENTS,
    *COUNTS,
    "true_risk",
    "readmit_30d",
]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_inpatient_cohort(20_000, seed=0)


def next_encounter_gap(frame: pd.DataFrame) -> pd.Series:
    """Time from each discharge to the same patient's next admission (NaT if none)."""
    ordered = frame.sort_values(["patient_id", "admitted_at"])
    next_admission = ordered.groupby("patient_id")["admitted_at"].shift(-1)
    return (next_admission - ordered["discharged_at"]).reindex(frame.index)


def test_public_names_are_pinned() -> None:
    assert assay.datasets.__all__ == [
        "MEDICATION_LIST_SCHEMA",
        "SUMMARISER_ERROR_RATES",
        "SUMMARY_ERROR_TYPES",
        "FeedOutage",
        "LabUnitChange",
        "NewPopulation",
        "Note",
        "PrevalenceChange",
        "Shift",
        "apply_shift",
        "make_clinical_notes",
        "make_extraction_records",
        "make_inpatient_cohort",
        "make_patient_message_records",
        "make_rag_records",
        "make_summariser_versions",
        "make_summary_records",
        "units",
    ]  # in ruff's order (RUF022): constants first, then classes, then functions


def test_same_arguments_give_the_same_frame() -> None:
    first = make_inpatient_cohort(3_000, start="2023-06-01", months=9, seed=5)
    second = make_inpatient_cohort(3_000, start="2023-06-01", months=9, seed=5)
    pd.testing.assert_frame_equal(first, second)
    other = make_inpatient_cohort(3_000, start="2023-06-01", months=9, seed=6)
    assert not first["true_risk"].equals(other["true_risk"])


def test_columns_and_dtypes(cohort: pd.DataFrame) -> None:
    assert list(cohort.columns) == COLUMNS
    assert isinstance(cohort.index, pd.RangeIndex)
    for name in ["admitted_at", "discharged_at", "label_available_at"]:
        assert cohort[name].dtype == np.dtype("datetime64[ns]")
    for name in ["encounter_id", "patient_id", *CATEGORIES]:
        assert cohort[name].dtype == object
        assert set(cohort[name].map(type)) == {str}
    for name in ["age", *COUNTS, "readmit_30d"]:
        assert cohort[name].dtype == np.int64
    for name in [*MEASUREMENTS, "true_risk"]:
        assert cohort[name].dtype == np.float64


def test_ids_target_and_timestamps_are_complete(cohort: pd.DataFrame) -> None:
    assert len(cohort) == 20_000
    complete = ["encounter_id", "patient_id", "admitted_at", "discharged_at"]
    complete += ["label_available_at", "age", *CATEGORIES, *COUNTS, "true_risk", "readmit_30d"]
    assert cohort[complete].notna().all().all()
    assert cohort["encounter_id"].is_unique
    assert cohort["encounter_id"].str.fullmatch(r"E\d{7}").all()
    assert cohort["patient_id"].str.fullmatch(r"P\d{7}").all()
    assert set(cohort["readmit_30d"].unique()) == {0, 1}


def test_discharges_fill_the_window_in_order(cohort: pd.DataFrame) -> None:
    discharged = cohort["discharged_at"]
    assert discharged.is_monotonic_increasing
    assert discharged.min() >= pd.Timestamp("2024-01-01")
    assert discharged.max() < pd.Timestamp("2025-07-01")
    assert discharged.min() < pd.Timestamp("2024-01-02")
    assert discharged.max() > pd.Timestamp("2025-06-30")
    assert (cohort["label_available_at"] - discharged == pd.Timedelta(days=30)).all()


def test_stays_are_plausible(cohort: pd.DataFrame) -> None:
    stay = cohort["discharged_at"] - cohort["admitted_at"]
    assert (stay > pd.Timedelta(0)).all()
    calendar_days = (
        cohort["discharged_at"].dt.normalize() - cohort["admitted_at"].dt.normalize()
    ).dt.days
    assert (calendar_days == cohort["length_of_stay_days"]).all()
    los = cohort["length_of_stay_days"]
    assert los.between(1, 30).all()
    assert 3 <= los.median() <= 5
    assert los.mean() > los.median()  # right-skewed
    assert (los >= 14).mean() < 0.05
    discharge_hour = cohort["discharged_at"].dt.hour
    assert discharge_hour.between(9, 20).all()


def test_repeat_encounters_come_later_and_keep_patient_traits(cohort: pd.DataFrame) -> None:
    per_patient = cohort.groupby("patient_id").size()
    assert 0.2 <= (per_patient >= 2).mean() <= 0.5
    assert per_patient.max() <= 25
    gap = next_encounter_gap(cohort)
    has_next = gap.notna()
    assert has_next.sum() == len(cohort) - len(per_patient)
    assert (gap[has_next] > pd.Timedelta(0)).all()
    traits = cohort.groupby("patient_id")[["sex", "race_ethnicity", "language"]].nunique()
    assert (traits == 1).all().all()
    ordered = cohort.sort_values(["patient_id", "admitted_at"])
    age_step = ordered.groupby("patient_id")["age"].diff().dropna()
    assert age_step.between(0, 2).all()


def test_outcome_agrees_with_the_timeline(cohort: pd.DataFrame) -> None:
    gap = next_encounter_gap(cohort)
    back_within_30_days = gap <= pd.Timedelta(days=30)
    assert (cohort.loc[back_within_30_days, "readmit_30d"] == 1).all()
    seen_here = back_within_30_days[cohort["readmit_30d"] == 1].mean()
    assert 0.55 <= seen_here <= 0.8


def test_prior_admissions_count_the_cohort_history(cohort: pd.DataFrame) -> None:
    ordered = cohort.sort_values(["patient_id", "admitted_at"])
    earlier = ordered.groupby("patient_id").cumcount()
    previous_admission = ordered.groupby("patient_id")["admitted_at"].shift(1)
    recent = (ordered["admitted_at"] - previous_admission) <= pd.Timedelta(days=365)
    assert (ordered.loc[recent, "prior_admissions_12m"] >= 1).all()
    first_rows = earlier == 0
    assert 0.5 <= ordered.loc[first_rows, "prior_admissions_12m"].eq(0).mean() <= 0.85
    prior = cohort["prior_admissions_12m"]
    assert 0.8 <= prior.mean() <= 1.8
    assert prior.quantile(0.9) <= 4


def test_prevalence_and_true_risk_calibration(cohort: pd.DataFrame) -> None:
    rate = cohort["readmit_30d"].mean()
    assert 0.12 <= rate <= 0.18
    assert abs(cohort["true_risk"].mean() - rate) < 0.01
    assert cohort["true_risk"].between(0, 1, inclusive="neither").all()
    deciles = pd.qcut(cohort["true_risk"], 10, labels=False)
    by_decile = cohort.groupby(deciles)[["true_risk", "readmit_30d"]].mean()
    assert (by_decile["true_risk"] - by_decile["readmit_30d"]).abs().max() < 0.035
    assert by_decile["readmit_30d"].iloc[-1] > 4 * by_decile["readmit_30d"].iloc[0]


@pytest.mark.parametrize(
    ("column", "category", "low", "high"),
    [
        ("sex", "F", 0.48, 0.56),
        ("sex", "Unknown", 0.0005, 0.01),
        ("race_ethnicity", "White", 0.55, 0.65),
        ("race_ethnicity", "Black", 0.14, 0.22),
        ("race_ethnicity", "Hispanic", 0.10, 0.17),
        ("payer", "Medicare", 0.40, 0.55),
        ("payer", "Self-pay", 0.03, 0.09),
        ("language", "Spanish", 0.04, 0.10),
        ("admission_type", "Emergency", 0.60, 0.78),
        ("admission_type", "Elective", 0.08, 0.18),
        ("discharge_disposition", "Home", 0.55, 0.75),
        ("discharge_disposition", "SNF", 0.06, 0.16),
    ],
)
def test_category_shares(
    cohort: pd.DataFrame, column: str, category: str, low: float, high: float
) -> None:
    assert set(cohort[column].unique()) == CATEGORIES[column]
    assert low <= (cohort[column] == category).mean() <= high


def test_payer_follows_age_and_language_follows_ethnicity(cohort: pd.DataFrame) -> None:
    older = cohort["age"] >= 70
    assert (cohort.loc[older, "payer"] == "Medicare").mean() > 0.75
    assert (cohort.loc[cohort["age"] < 50, "payer"] == "Medicare").mean() < 0.25
    hispanic = cohort["race_ethnicity"] == "Hispanic"
    assert (cohort.loc[hispanic, "language"] == "Spanish").mean() > 0.3
    assert (cohort.loc[~hispanic, "language"] == "Spanish").mean() < 0.03


@pytest.mark.parametrize(
    ("column", "low", "high", "median_low", "median_high"),
    [
        ("age", 18, 100, 55, 70),
        ("heart_rate_bpm", 40, 160, 75, 90),
        ("sbp_mmhg", 70, 220, 115, 135),
        ("resp_rate_bpm", 10, 40, 16, 20),
        ("temp_c", 35.0, 40.5, 36.5, 37.2),
        ("spo2_pct", 80, 100, 94, 98),
        ("sodium_mmol_l", 118, 160, 136, 141),
        ("creatinine_mg_dl", 0.3, 12.0, 0.9, 1.4),
        ("hemoglobin_g_dl", 5.0, 18.5, 10.5, 13.0),
        ("wbc_k_ul", 0.8, 45.0, 7.0, 10.0),
        ("glucose_mg_dl", 45, 600, 105, 145),
        ("lactate_mmol_l", 0.3, 15.0, 1.0, 2.0),
        ("albumin_g_dl", 1.2, 5.2, 2.8, 3.6),
        ("charlson_index", 0, 15, 1, 4),
        ("n_medications", 0, 35, 7, 12),
    ],
)
def test_values_are_in_plausible_ranges(
    cohort: pd.DataFrame,
    column: str,
    low: float,
    high: float,
    median_low: float,
    median_high: float,
) -> None:
    values = cohort[column].dropna()
    assert values.min() >= low
    assert values.max() <= high
    assert median_low <= values.median() <= median_high


def test_features_are_correlated_like_patients(cohort: pd.DataFrame) -> None:
    male = cohort["sex"] == "M"
    female = cohort["sex"] == "F"
    hemoglobin_gap = (
        cohort.loc[male, "hemoglobin_g_dl"].mean() - cohort.loc[female, "hemoglobin_g_dl"].mean()
    )
    assert 0.4 <= hemoglobin_gap <= 1.5
    correlation = cohort[["heart_rate_bpm", "resp_rate_bpm", "charlson_index", "n_medications"]]
    correlation = correlation.corr(method="spearman")
    assert correlation.loc["heart_rate_bpm", "resp_rate_bpm"] > 0.1
    assert correlation.loc["charlson_index", "n_medications"] > 0.3
    older = cohort["age"] >= 80
    assert (cohort.loc[older, "discharge_disposition"] == "SNF").mean() > 2 * (
        cohort.loc[cohort["age"] < 60, "discharge_disposition"] == "SNF"
    ).mean()


def test_missing_values_depend_on_recorded_values(cohort: pd.DataFrame) -> None:
    missing = cohort[MEASUREMENTS].isna().mean()
    routine = [name for name in MEASUREMENTS if name not in ("lactate_mmol_l", "albumin_g_dl")]
    assert missing[routine].between(0.002, 0.05).all()
    assert 0.35 <= missing["lactate_mmol_l"] <= 0.65
    assert 0.05 <= missing["albumin_g_dl"] <= 0.25
    fast = cohort["heart_rate_bpm"] >= 100
    calm = cohort["heart_rate_bpm"] <= 75
    lactate_measured = cohort["lactate_mmol_l"].notna()
    assert lactate_measured[fast].mean() > lactate_measured[calm].mean() + 0.15
    elective = cohort["admission_type"] == "Elective"
    assert cohort.loc[elective, "sodium_mmol_l"].isna().mean() > 1.5 * (
        cohort.loc[~elective, "sodium_mmol_l"].isna().mean()
    )


def test_volume_has_weekly_and_seasonal_texture(cohort: pd.DataFrame) -> None:
    month = cohort["discharged_at"].dt.to_period("M")
    per_day = cohort.groupby(month).size() / month.dt.days_in_month.groupby(month).first()
    calendar_month = per_day.index.month
    winter = per_day[np.isin(calendar_month, [12, 1, 2])].mean()
    summer = per_day[np.isin(calendar_month, [6, 7, 8])].mean()
    assert 1.05 <= winter / summer <= 1.35
    assert per_day.max() / per_day.min() < 1.45
    weekday = cohort["admitted_at"].dt.dayofweek
    assert (weekday >= 5).mean() < 2 / 7 - 0.01
    elective = cohort["admission_type"] == "Elective"
    assert (weekday[elective] < 5).all()
    assert cohort.loc[elective, "admitted_at"].dt.hour.between(6, 9).all()


def test_units_cover_the_numeric_clinical_columns(cohort: pd.DataFrame) -> None:
    table = units()
    assert set(table) == {"age", *MEASUREMENTS, *COUNTS}
    assert set(table) <= set(cohort.columns)
    assert table["glucose_mg_dl"] == "mg/dL"
    assert table["lactate_mmol_l"] == "mmol/L"
    assert table["temp_c"] == "°C"
    table["glucose_mg_dl"] = "changed"
    assert units()["glucose_mg_dl"] == "mg/dL"


def test_outcome_is_learnable_to_a_realistic_auroc(cohort: pd.DataFrame) -> None:
    numeric = ["age", *MEASUREMENTS, *COUNTS]
    categorical = list(CATEGORIES)
    model = make_pipeline(
        ColumnTransformer(
            [
                (
                    "numeric",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    numeric,
                ),
                ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ]
        ),
        LogisticRegression(max_iter=1_000),
    )
    first_six_months = cohort["discharged_at"] < pd.Timestamp("2024-07-01")
    train, test = cohort[first_six_months], cohort[~first_six_months]
    model.fit(train[numeric + categorical], train["readmit_30d"])
    score = model.predict_proba(test[numeric + categorical])[:, 1]
    auroc = roc_auc_score(test["readmit_30d"], score)
    assert 0.68 <= auroc <= 0.82
    assert roc_auc_score(test["readmit_30d"], test["true_risk"]) > auroc + 0.02


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_encounters": 0}, "n_encounters must be a whole number >= 1"),
        ({"n_encounters": 10.5}, "n_encounters must be a whole number >= 1"),
        ({"n_encounters": True}, "n_encounters must be a whole number >= 1"),
        ({"months": 0}, "months must be a whole number from 1 to 120"),
        ({"months": 121}, "months must be a whole number from 1 to 120"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"start": "first of March"}, "start must be a date like '2025-03-01'"),
        ({"start": "2024-01-01T00:00+01:00"}, "start must be a date without a time zone"),
        ({"shifts": LabUnitChange()}, "shifts must be a list of shifts"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        make_inpatient_cohort(**arguments)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    n_encounters=st.integers(min_value=1, max_value=400),
    months=st.integers(min_value=1, max_value=30),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_small_cohort_keeps_its_promises(n_encounters: int, months: int, seed: int) -> None:
    frame = make_inpatient_cohort(n_encounters, start="2022-02-15", months=months, seed=seed)
    assert len(frame) == n_encounters
    assert frame["encounter_id"].is_unique
    assert frame["discharged_at"].is_monotonic_increasing
    assert frame["discharged_at"].min() >= pd.Timestamp("2022-02-15")
    assert frame["discharged_at"].max() < pd.Timestamp("2022-02-15") + pd.DateOffset(months=months)
    assert (frame["discharged_at"] > frame["admitted_at"]).all()
    gap = next_encounter_gap(frame)
    assert (gap.dropna() > pd.Timedelta(0)).all()
    assert (frame.loc[gap <= pd.Timedelta(days=30), "readmit_30d"] == 1).all()
