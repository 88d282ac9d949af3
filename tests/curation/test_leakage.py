"""Leakage: injected problems in a synthetic cohort are each found, with column and count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.curation._feature_leakage import features_after_prediction, target_leakage
from assay.curation._leakage import (
    SplitOverlap,
    check_leakage,
    patients_across_splits,
    rows_across_splits,
)
from assay.datasets import make_inpatient_cohort
from assay.errors import InputError


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_inpatient_cohort(3000, seed=11)


def _time_splits(cohort: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Train / validation / test by discharge date, each patient in the first split only."""
    discharged = cohort["discharged_at"]
    train = cohort[discharged < "2024-10-01"]
    validation = cohort[(discharged >= "2024-10-01") & (discharged < "2025-01-01")]
    validation = validation[~validation["patient_id"].isin(train["patient_id"])]
    test = cohort[discharged >= "2025-01-01"]
    test = test[~test["patient_id"].isin(pd.concat([train, validation])["patient_id"])]
    return {"train": train.copy(), "validation": validation.copy(), "test": test.copy()}


@pytest.fixture(scope="module")
def leaky_splits(cohort: pd.DataFrame) -> dict[str, pd.DataFrame]:
    splits = _time_splits(cohort)
    train, test = splits["train"], splits["test"]
    # One patient deliberately in both train and test: a test encounter is given a train
    # patient's id.
    test.loc[test.index[0], "patient_id"] = train["patient_id"].iloc[5]
    # Ten train rows copied into test under new encounter and patient ids.
    copies = train.iloc[100:110].copy()
    copies["encounter_id"] = [f"EDUP{k:03d}" for k in range(10)]
    copies["patient_id"] = [f"PDUP{k:03d}" for k in range(10)]
    splits["test"] = pd.concat([test, copies], ignore_index=True)
    return splits


def _pair_counts(pairs: tuple[SplitOverlap, ...]) -> dict[tuple[str, str], int]:
    return {(pair.first, pair.second): pair.count for pair in pairs}


def test_clean_time_splits_share_no_patient_and_no_row(cohort: pd.DataFrame) -> None:
    splits = _time_splits(cohort)
    assert min(len(frame) for frame in splits.values()) > 200
    patients = patients_across_splits(splits)
    assert patients.n_patients == 0
    assert patients.message == "No patient (column 'patient_id') appears in more than one split."
    assert rows_across_splits(splits).n_rows == 0


def test_a_patient_in_train_and_test_is_found_with_the_pair_named(
    leaky_splits: dict[str, pd.DataFrame],
) -> None:
    found = patients_across_splits(leaky_splits, "patient_id")
    assert found.n_patients == 1
    assert _pair_counts(found.pairs) == {
        ("train", "validation"): 0, ("train", "test"): 1, ("validation", "test"): 0,
    }
    assert found.example_patient_ids == (leaky_splits["train"]["patient_id"].iloc[5],)
    assert found.message == (
        "1 patient (column 'patient_id') appears in more than one split: "
        "1 in both 'train' and 'test'."
    )


def test_ten_duplicated_rows_are_found_by_hash_ids_left_out(
    leaky_splits: dict[str, pd.DataFrame],
) -> None:
    found = rows_across_splits(leaky_splits)
    assert found.n_rows == 10
    assert _pair_counts(found.pairs) == {
        ("train", "validation"): 0, ("train", "test"): 10, ("validation", "test"): 0,
    }
    assert "patient_id" not in found.columns and "encounter_id" not in found.columns
    assert "readmit_30d" in found.columns
    assert "10 distinct rows" in found.message and "10 in both 'train' and 'test'" in found.message


def test_hashing_with_the_ids_finds_no_duplicate(leaky_splits: dict[str, pd.DataFrame]) -> None:
    columns = list(leaky_splits["train"].columns)
    assert rows_across_splits(leaky_splits, columns).n_rows == 0
    # A changed value makes a copy distinct again.
    changed = dict(leaky_splits)
    changed["test"] = leaky_splits["test"].assign(age=leaky_splits["test"]["age"] + 1)
    assert rows_across_splits(changed).n_rows == 0


def test_a_feature_taken_after_discharge_is_flagged_with_its_row_count(
    cohort: pd.DataFrame,
) -> None:
    frame = cohort.copy()
    # Post-discharge follow-up calls, known only once the outcome window closes, for stays of
    # five days or more; a same-day admission vital for everyone else.
    late = frame["length_of_stay_days"] >= 5
    frame["followup_calls"] = np.where(late, 2, 0)
    frame["followup_calls_at"] = frame["admitted_at"].where(~late, frame["label_available_at"])
    frame["triage_at"] = frame["admitted_at"] + pd.Timedelta(hours=1)
    found = features_after_prediction(
        frame, "discharged_at",
        {"followup_calls": "followup_calls_at", "heart_rate_bpm": "triage_at"},
    )
    assert len(found) == 1
    assert found[0].feature == "followup_calls"
    assert found[0].time_column == "followup_calls_at"
    assert 0 < found[0].n_rows == int(late.sum()) < len(frame)
    assert found[0].n_timed == 3000
    assert found[0].message == (
        f"Feature 'followup_calls' is recorded ('followup_calls_at') after the prediction time "
        f"('discharged_at') on {int(late.sum())} of 3000 rows."
    )


def test_features_after_prediction_counts_by_hand_and_skips_missing_times() -> None:
    frame = pd.DataFrame({
        "predicted_at": pd.to_datetime(["2024-01-02"] * 5),
        "lab_at": pd.to_datetime(["2024-01-01", "2024-01-03", None, "2024-01-05", "2024-01-02"]),
    })
    (found,) = features_after_prediction(frame, "predicted_at", {"lactate": "lab_at"})
    assert (found.n_rows, found.n_timed) == (2, 4)


def test_features_after_prediction_rejects_a_time_column_of_text() -> None:
    frame = pd.DataFrame({"predicted_at": pd.to_datetime(["2024-01-02"]), "lab_at": ["x"]})
    with pytest.raises(InputError, match="column 'lab_at' must hold datetimes"):
        features_after_prediction(frame, "predicted_at", {"lactate": "lab_at"})


def test_outcome_copies_and_near_copies_are_flagged_honest_features_are_not(
    cohort: pd.DataFrame,
) -> None:
    rng = np.random.default_rng(3)
    y = cohort["readmit_30d"].to_numpy()
    flipped = np.where(rng.random(len(y)) < 0.02, 1 - y, y)
    frame = cohort.assign(
        outcome_plus_noise=y + rng.normal(0.0, 0.1, len(y)),
        outcome_copy=y,
        readmission_clinic_code=np.where(y == 1, "RC", "none"),
        coded_with_errors=np.where(flipped == 1, "A", "B"),
        weakly_related=y + rng.normal(0.0, 1.0, len(y)),
    )
    features = ["age", "true_risk", "payer", "lactate_mmol_l", "outcome_plus_noise",
                "outcome_copy", "readmission_clinic_code", "coded_with_errors", "weakly_related"]
    found = {leak.feature: leak for leak in target_leakage(frame, "readmit_30d", features)}
    assert set(found) == {"outcome_plus_noise", "outcome_copy", "readmission_clinic_code",
                          "coded_with_errors"}
    assert found["outcome_copy"].kind == "identical"
    assert found["readmission_clinic_code"].kind == "derived"
    assert found["outcome_plus_noise"].kind == "high_auroc"
    noisy = found["outcome_plus_noise"].auroc
    assert noisy is not None and noisy.ci_low is not None
    assert noisy.ci_low > 0.95 and noisy.n == 3000 and noisy.method == "delong"
    coded = found["coded_with_errors"]
    assert coded.kind == "high_auroc" and coded.auroc is not None
    assert 0.95 < coded.auroc.value < 1.0
    assert found["outcome_plus_noise"].message.startswith(
        "Feature 'outcome_plus_noise' alone separates the outcome 'readmit_30d' with AUROC"
    )


def test_a_feature_inversely_related_to_the_outcome_is_flagged_in_its_direction(
    cohort: pd.DataFrame,
) -> None:
    y = cohort["readmit_30d"].to_numpy()
    rng = np.random.default_rng(4)
    frame = cohort.assign(days_alive_after=-y + rng.normal(0.0, 0.1, len(y)))
    (leak,) = target_leakage(frame, "readmit_30d", ["days_alive_after"])
    assert leak.auroc is not None and leak.auroc.value > 0.99


def test_target_must_be_zero_or_one() -> None:
    frame = pd.DataFrame({"readmit_30d": [0, 1, 2, 2, None], "x": [1.0, 2, 3, 4, 5]})
    with pytest.raises(InputError, match=r"column 'readmit_30d' must contain only 0/1 "
                                         r"\(found 2 other value\(s\) in 3 rows\)"):
        target_leakage(frame, "readmit_30d", ["x"])


def test_check_leakage_runs_every_check(leaky_splits: dict[str, pd.DataFrame]) -> None:
    splits = dict(leaky_splits)
    train = splits["train"]
    splits["train"] = train.assign(outcome_copy=train["readmit_30d"])
    for name in ("validation", "test"):
        splits[name] = splits[name].assign(outcome_copy=splits[name]["readmit_30d"])
    report = check_leakage(
        splits, target="readmit_30d", prediction_time="discharged_at",
        feature_times={"days_to_label": "label_available_at"},
    )
    assert report.patients is not None and report.patients.n_patients == 1
    assert report.rows is not None and report.rows.n_rows == 10
    (late,) = report.features_after_prediction
    assert late.feature == "days_to_label"
    assert late.n_rows == sum(len(frame) for frame in splits.values())
    assert [leak.feature for leak in report.target_leaks] == ["outcome_copy"]
    assert report.has_findings
    assert len(report.messages()) == 4


def test_fewer_than_two_splits_is_an_input_error(cohort: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="at least two splits"):
        patients_across_splits({"all": cohort})
