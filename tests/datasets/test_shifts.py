"""Shifts injected into the synthetic inpatient cohort act from their date only."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from assay.datasets import (
    FeedOutage,
    LabUnitChange,
    NewPopulation,
    PrevalenceChange,
    apply_shift,
    make_inpatient_cohort,
)
from assay.errors import InputError

N_ENCOUNTERS = 8_000
SEED = 3
STARTS = "2025-01-01"


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return make_inpatient_cohort(N_ENCOUNTERS, seed=SEED)


def split_at(frame: pd.DataFrame, starts: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    before = frame["discharged_at"] < pd.Timestamp(starts)
    return frame[before], frame[~before]


def assert_unchanged_before(shifted: pd.DataFrame, base: pd.DataFrame, starts: str) -> None:
    """Rows discharged before ``starts`` are identical, in the same positions."""
    n_before = int((base["discharged_at"] < pd.Timestamp(starts)).sum())
    assert 0 < n_before < len(base)
    assert int((shifted["discharged_at"] < pd.Timestamp(starts)).sum()) == n_before
    pd.testing.assert_frame_equal(shifted.iloc[:n_before], base.iloc[:n_before])


def assert_timeline_consistent(frame: pd.DataFrame) -> None:
    """No discharge without a readmission is followed within 30 days by the same patient."""
    ordered = frame.sort_values(["patient_id", "admitted_at"])
    gap = ordered.groupby("patient_id")["admitted_at"].shift(-1) - ordered["discharged_at"]
    assert (gap.dropna() > pd.Timedelta(0)).all()
    assert (ordered.loc[gap <= pd.Timedelta(days=30), "readmit_30d"] == 1).all()


def logit(p: pd.Series) -> pd.Series:
    return np.log(p / (1 - p))


class TestLabUnitChange:
    def test_glucose_turns_into_mmol_per_litre_from_the_date(self, base: pd.DataFrame) -> None:
        shift = LabUnitChange()
        shifted = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=[shift])
        assert_unchanged_before(shifted, base, shift.starts)
        _, base_after = split_at(base, shift.starts)
        _, after = split_at(shifted, shift.starts)
        ratio = after["glucose_mg_dl"].median() / base_after["glucose_mg_dl"].median()
        assert ratio == pytest.approx(1 / 18.016, rel=1e-9)
        assert 5.0 <= after["glucose_mg_dl"].median() <= 8.5
        np.testing.assert_allclose(
            after["glucose_mg_dl"], base_after["glucose_mg_dl"] / 18.016, rtol=1e-12
        )
        pd.testing.assert_frame_equal(
            shifted.drop(columns="glucose_mg_dl"), base.drop(columns="glucose_mg_dl")
        )

    def test_make_and_apply_give_the_same_frame(self, base: pd.DataFrame) -> None:
        shift = LabUnitChange(column="creatinine_mg_dl", factor=88.42, starts="2024-11-15")
        made = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=[shift])
        pd.testing.assert_frame_equal(made, apply_shift(base, shift, seed=99))
        _, after = split_at(made, shift.starts)
        assert after["creatinine_mg_dl"].median() > 60  # µmol/L now

    def test_input_frame_is_not_modified(self, base: pd.DataFrame) -> None:
        before = base.copy()
        apply_shift(base, LabUnitChange())
        pd.testing.assert_frame_equal(base, before)


class TestFeedOutage:
    def test_column_is_missing_inside_the_window_only(self, base: pd.DataFrame) -> None:
        shift = FeedOutage(column="lactate_mmol_l", starts="2024-10-01", ends="2024-11-15")
        shifted = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=[shift])
        assert_unchanged_before(shifted, base, shift.starts)
        inside = shifted["discharged_at"].between(
            pd.Timestamp(shift.starts), pd.Timestamp(shift.ends), inclusive="left"
        )
        assert inside.sum() > 300
        assert shifted.loc[inside, "lactate_mmol_l"].isna().mean() == 1.0
        assert base.loc[inside, "lactate_mmol_l"].isna().mean() < 0.7
        pd.testing.assert_frame_equal(shifted[~inside], base[~inside])
        pd.testing.assert_frame_equal(
            shifted.drop(columns="lactate_mmol_l"), base.drop(columns="lactate_mmol_l")
        )


class TestPrevalenceChange:
    def test_higher_odds_raise_the_outcome_rate_from_the_date(self, base: pd.DataFrame) -> None:
        shift = PrevalenceChange(starts=STARTS, odds_ratio=1.8)
        shifted = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=[shift])
        assert_unchanged_before(shifted, base, STARTS)
        _, base_after = split_at(base, STARTS)
        _, after = split_at(shifted, STARTS)
        np.testing.assert_allclose(
            logit(after["true_risk"]) - logit(base_after["true_risk"]), math.log(1.8), atol=1e-9
        )
        assert after["readmit_30d"].mean() > base_after["readmit_30d"].mean() + 0.04
        assert abs(after["readmit_30d"].mean() - after["true_risk"].mean()) < 0.02
        # Only new readmissions: no outcome is taken away.
        assert (after["readmit_30d"] >= base_after["readmit_30d"]).all()
        pd.testing.assert_frame_equal(
            shifted.drop(columns=["true_risk", "readmit_30d"]),
            base.drop(columns=["true_risk", "readmit_30d"]),
        )
        assert_timeline_consistent(shifted)

    def test_lower_odds_lower_the_rate_and_keep_the_timeline_consistent(
        self, base: pd.DataFrame
    ) -> None:
        shift = PrevalenceChange(starts=STARTS, odds_ratio=0.5)
        shifted = apply_shift(base, shift, seed=4)
        assert_unchanged_before(shifted, base, STARTS)
        _, base_after = split_at(base, STARTS)
        _, after = split_at(shifted, STARTS)
        np.testing.assert_allclose(
            logit(after["true_risk"]) - logit(base_after["true_risk"]), math.log(0.5), atol=1e-9
        )
        assert after["readmit_30d"].mean() < base_after["readmit_30d"].mean() - 0.04
        assert abs(after["readmit_30d"].mean() - after["true_risk"].mean()) < 0.02
        assert (after["readmit_30d"] <= base_after["readmit_30d"]).all()
        assert_timeline_consistent(shifted)
        moved = shifted["patient_id"] != base["patient_id"]
        assert moved.any()
        assert (shifted.loc[moved, "discharged_at"] > pd.Timestamp(STARTS)).all()
        assert not set(shifted.loc[moved, "patient_id"]) & set(base["patient_id"])


class TestNewPopulation:
    def test_new_patients_take_the_given_share_from_the_date(self, base: pd.DataFrame) -> None:
        shift = NewPopulation(
            starts=STARTS,
            share=0.3,
            age_shift=-15,
            race_mix={"Hispanic": 0.5, "White": 0.3, "Black": 0.2},
            payer_mix={"Medicaid": 0.6, "Commercial": 0.3, "Self-pay": 0.1},
        )
        shifted = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=[shift])
        assert len(shifted) == N_ENCOUNTERS
        assert shifted["encounter_id"].is_unique
        assert shifted["discharged_at"].is_monotonic_increasing
        assert_unchanged_before(shifted, base, STARTS)
        assert_timeline_consistent(shifted)

        _, base_after = split_at(base, STARTS)
        _, after = split_at(shifted, STARTS)
        newcomer = ~after["patient_id"].isin(base["patient_id"])
        assert newcomer.sum() == round(0.3 * len(base_after))
        assert not after.loc[newcomer, "encounter_id"].isin(base["encounter_id"]).any()
        new_rows = after[newcomer]
        assert 0.40 <= (new_rows["race_ethnicity"] == "Hispanic").mean() <= 0.60
        assert (new_rows["race_ethnicity"] == "Asian").sum() == 0
        assert 0.50 <= (new_rows["payer"] == "Medicaid").mean() <= 0.70
        assert (new_rows["payer"] == "Medicare").sum() == 0
        assert (new_rows["language"] == "Spanish").mean() > 0.15
        assert -20 <= new_rows["age"].mean() - base_after["age"].mean() <= -10
        assert new_rows["age"].between(18, 100).all()
        assert (new_rows["admitted_at"] >= pd.Timestamp(STARTS)).all()

        # Encounters of the original population that stay are unchanged.
        kept = after[~newcomer].set_index("encounter_id")
        pd.testing.assert_frame_equal(kept, base_after.set_index("encounter_id").loc[kept.index])

    def test_defaults_give_younger_patients(self, base: pd.DataFrame) -> None:
        shifted = apply_shift(base, NewPopulation(starts=STARTS), seed=1)
        _, base_after = split_at(base, STARTS)
        _, after = split_at(shifted, STARTS)
        assert after["age"].mean() < base_after["age"].mean() - 3
        assert_unchanged_before(shifted, base, STARTS)

    def test_whole_population_can_be_replaced(self, base: pd.DataFrame) -> None:
        shifted = apply_shift(base, NewPopulation(starts="2025-05-01", share=1.0), seed=2)
        _, after = split_at(shifted, "2025-05-01")
        assert not after["patient_id"].isin(base["patient_id"]).any()


def test_several_shifts_are_deterministic_and_compose(base: pd.DataFrame) -> None:
    shifts = [
        NewPopulation(starts="2025-02-01", share=0.2),
        FeedOutage(column="albumin_g_dl", starts="2024-09-01", ends="2024-10-01"),
        PrevalenceChange(starts="2025-03-01", odds_ratio=1.5),
        LabUnitChange(),
    ]
    first = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=shifts)
    second = make_inpatient_cohort(N_ENCOUNTERS, seed=SEED, shifts=shifts)
    pd.testing.assert_frame_equal(first, second)
    assert_unchanged_before(first, base, "2024-09-01")
    assert len(first) == N_ENCOUNTERS
    assert first["encounter_id"].is_unique


@pytest.mark.parametrize(
    ("make_shift", "message"),
    [
        (lambda: LabUnitChange(column="age"), "LabUnitChange.column must be one of"),
        (lambda: LabUnitChange(factor=0.0), "LabUnitChange.factor must be finite and > 0"),
        (lambda: LabUnitChange(starts="soon"), "LabUnitChange.starts must be a date"),
        (lambda: NewPopulation(starts=STARTS, share=0.0), r"share must be in \(0, 1\]"),
        (lambda: NewPopulation(starts=STARTS, share=1.5), r"share must be in \(0, 1\]"),
        (lambda: NewPopulation(starts=STARTS, age_shift=25), "between -20 and 20 years"),
        (
            lambda: NewPopulation(starts=STARTS, race_mix={"Martian": 1.0}),
            r"race_mix has unknown categories \['Martian'\]",
        ),
        (
            lambda: NewPopulation(starts=STARTS, payer_mix={"Medicaid": -1.0}),
            "payer_mix shares must be finite and >= 0",
        ),
        (lambda: PrevalenceChange(starts=STARTS, odds_ratio=0.0), "odds_ratio must be finite"),
        (
            lambda: PrevalenceChange(starts=STARTS, odds_ratio=float("nan")),
            "odds_ratio must be finite",
        ),
        (
            lambda: FeedOutage(column="lactate_mmol_l", starts="2025-02-01", ends="2025-01-01"),
            "must be after FeedOutage.starts",
        ),
        (
            lambda: FeedOutage(column="lactate", starts="2025-01-01", ends="2025-02-01"),
            "FeedOutage.column must be one of",
        ),
    ],
)
def test_bad_shifts_are_refused_with_a_reason(make_shift: object, message: str) -> None:
    assert callable(make_shift)
    with pytest.raises(InputError, match=message):
        make_shift()


def test_shift_outside_the_cohort_is_an_error_not_a_silent_no_op(base: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="no encounters discharged on or after 2030-01-01"):
        apply_shift(base, PrevalenceChange(starts="2030-01-01"))
    with pytest.raises(InputError, match="no encounters discharged from 2020-01-01"):
        apply_shift(base, FeedOutage(column="temp_c", starts="2020-01-01", ends="2020-02-01"))
    with pytest.raises(InputError, match="lacks the columns"):
        apply_shift(base.drop(columns="true_risk"), PrevalenceChange(starts=STARTS))
    bad_label = base.copy()
    bad_label.loc[5, "readmit_30d"] = 2
    with pytest.raises(
        InputError, match=r"'readmit_30d' must contain only 0/1 \(found 2 in 1 rows"
    ):
        apply_shift(bad_label, PrevalenceChange(starts=STARTS))
    text_times = base.assign(discharged_at=base["discharged_at"].astype(str))
    with pytest.raises(InputError, match="'discharged_at' must hold time-zone-naive datetimes"):
        apply_shift(text_times, LabUnitChange())
    with pytest.raises(InputError, match="is not a shift"):
        apply_shift(base, "LabUnitChange")  # type: ignore[arg-type]


def test_shifts_are_frozen_and_mixes_are_normalised() -> None:
    shift = NewPopulation(starts=STARTS, race_mix={"Hispanic": 3, "White": 1})
    assert shift.race_mix is not None
    assert shift.race_mix["Hispanic"] == pytest.approx(0.75)
    assert shift.race_mix["Asian"] == 0.0
    assert sum(shift.race_mix.values()) == pytest.approx(1.0)
    with pytest.raises(TypeError):
        shift.race_mix["Asian"] = 0.5  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        shift.share = 0.5  # type: ignore[misc]
    assert hash(shift) == hash(NewPopulation(starts=STARTS, race_mix={"Hispanic": 3, "White": 1}))
    assert LabUnitChange() == LabUnitChange(
        column="glucose_mg_dl", factor=1 / 18.016, starts="2025-03-01", unit="mmol/L"
    )
