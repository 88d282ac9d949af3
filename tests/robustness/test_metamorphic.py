"""Metamorphic tests: monotonicity, invariance and counterfactual flips."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from assay.errors import InputError
from assay.metrics.intervals import wilson_interval
from assay.robustness import (
    Missingness,
    PrevalenceShift,
    counterfactual_flips,
    invariance,
    monotonicity,
)

LACTATE = pd.DataFrame({"lactate": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, np.nan, 4.0]})


def test_logistic_model_is_monotone_in_a_positive_feature(
    model: Pipeline, cohort: pd.DataFrame
) -> None:
    before = cohort.copy(deep=True)
    result = monotonicity(model, cohort, "prior_admissions_12m")
    assert (result.n, result.n_skipped, result.n_violations, result.passed) == (3000, 0, 0, True)
    assert result.step == pytest.approx(cohort["prior_admissions_12m"].std())
    assert result.step_sd == pytest.approx(1.0)
    low, high = wilson_interval(0, 3000)
    assert (result.share, result.ci_low, result.ci_high) == (0.0, float(low), float(high))
    assert result.worst_rows == () and result.largest_violation == 0.0
    reversed_ = monotonicity(model, cohort, "prior_admissions_12m", direction="decreasing")
    assert (reversed_.n_violations, reversed_.share, reversed_.passed) == (3000, 1.0, False)
    assert len(reversed_.worst_rows) == 5 and reversed_.largest_violation > 0.05
    pd.testing.assert_frame_equal(cohort, before)


def test_missing_values_are_skipped(model: Pipeline, cohort: pd.DataFrame) -> None:
    result = monotonicity(model, cohort, "lactate_mmol_l", step=0.5)
    assert result.n_skipped == int(cohort["lactate_mmol_l"].isna().sum()) > 0
    assert result.n + result.n_skipped == len(cohort) and result.n_violations == 0
    assert "without a value were not tested" in result.summary()


def test_violations_of_a_u_shaped_risk_are_counted_by_hand() -> None:
    def u_shaped(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray((frame["lactate"].fillna(2.0) - 2.0) ** 2 / 10)

    result = monotonicity(u_shaped, LACTATE, "lactate", step=1.0, tolerance=0.0)
    # raising by 1 lowers (x − 2)² where |x + 1 − 2| < |x − 2|: x = 0.5, 1.0 (not 1.5: equal)
    assert (result.n, result.n_skipped, result.n_violations) == (7, 1, 2)
    assert result.worst_rows == (0, 1)  # 0.5 → 1.5 lowers the risk by 0.2, 1.0 → 2.0 by 0.1
    assert result.largest_violation == pytest.approx(0.2)
    assert result.summary() == (
        "Raising lactate by 1 (0.83 SD) lowered the risk of 2 of 7 patients (28.6%, 95% CI "
        "8.22%–64.1%); 1 patient without a value was not tested"
    )
    with pytest.raises(ValidationError):
        result.n = 3  # type: ignore[misc]


def test_monotonicity_bad_inputs() -> None:
    with pytest.raises(InputError, match="direction must be 'increasing' or 'decreasing'"):
        monotonicity(lambda f: f["lactate"] / 10, LACTATE, "lactate", direction="up")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="the step must be a positive number"):
        monotonicity(lambda f: f["lactate"] / 10, LACTATE, "lactate", step=-1)
    with pytest.raises(InputError, match="monotonicity: column 'sex' must be numeric"):
        monotonicity(lambda f: f["lactate"] / 10, LACTATE.assign(sex="F"), "sex")


def test_invariance_to_unused_features(model: Pipeline, cohort: pd.DataFrame) -> None:
    unused = invariance(model, cohort, ["sex", "temp_c", "race_ethnicity"], seed=3)
    assert (unused.n, unused.n_changed, unused.max_abs_change, unused.passed) == (
        3000,
        0,
        0.0,
        True,
    )
    used = invariance(model, cohort, ["prior_admissions_12m"], seed=3)
    assert used.n_changed > 1500 and used.max_abs_change > 0.1 and not used.passed
    # the documented stream: SeedSequence(seed, spawn_key=(crc32(kind), crc32(column)))
    key = (zlib.crc32(b"invariance"), zlib.crc32(b"prior_admissions_12m"))
    order = np.random.Generator(np.random.PCG64(np.random.SeedSequence(3, spawn_key=key)))
    shuffled = cohort.assign(
        prior_admissions_12m=cohort["prior_admissions_12m"].to_numpy()[order.permutation(3000)]
    )
    features = list(model.feature_names_in_)
    change = np.abs(
        model.predict_proba(shuffled[features])[:, 1] - model.predict_proba(cohort[features])[:, 1]
    )
    assert used.worst_rows == tuple(np.argsort(-change, kind="stable")[:5])
    assert used.max_abs_change == change.max() and used.mean_abs_change == pytest.approx(
        change.mean()
    )
    assert used.change == "prior_admissions_12m shuffled among patients"


def test_invariance_under_a_perturbation(model: Pipeline, cohort: pd.DataFrame) -> None:
    blank = Missingness(features=["temp_c", "sodium_mmol_l"], rate=0.5)
    result = invariance(model, cohort, perturbation=blank)
    assert result.n_changed == 0 and result.features == ("temp_c", "sodium_mmol_l")
    assert result.change == "50% of temp_c and sodium_mmol_l missing at random"
    hurt = invariance(model, cohort, perturbation=Missingness(features=["albumin_g_dl"], rate=0.5))
    missing_now = hurt.n_changed / len(cohort)
    assert 0.3 < missing_now < 0.5  # about half the observed albumins were blanked
    with pytest.raises(InputError, match="keeps the rows, not prevalence_shift"):
        invariance(model, cohort, perturbation=PrevalenceShift(prevalence=0.3))
    with pytest.raises(InputError, match="either features to shuffle or a perturbation"):
        invariance(model, cohort)


def test_no_flips_for_a_model_that_ignores_the_attribute(
    model: Pipeline, cohort: pd.DataFrame
) -> None:
    result = counterfactual_flips(model, cohort, "sex", threshold=0.2)
    assert (result.n_flipped, result.flip_rate, result.passed) == (0, 0.0, True)
    assert (result.mean_abs_change, result.max_abs_change) == (0.0, 0.0)
    assert result.n == 3000 and result.n_skipped == 0
    assert result.counterfactual == "sex set to each of its other 2 observed values"


def test_flips_for_a_model_that_uses_the_attribute(
    model_with_sex: Pipeline, cohort: pd.DataFrame
) -> None:
    result = counterfactual_flips(model_with_sex, cohort, "sex", threshold=0.2)
    assert result.n_flipped > 100 and result.flip_rate > 0.03 and not result.passed
    assert result.mean_abs_change > 0.01 and result.ci_low > 0
    assert len(result.flipped_rows) == 5
    swapped = counterfactual_flips(model_with_sex, cohort, "sex", threshold=0.2, swap={"F": "M"})
    assert swapped.n == int((cohort["sex"] == "F").sum()) and swapped.n_skipped == 3000 - swapped.n
    assert 0 < swapped.n_flipped <= result.n_flipped
    unused = counterfactual_flips(model_with_sex, cohort, "race_ethnicity", threshold=0.2)
    assert unused.n_flipped == 0


def test_flips_counted_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "lactate": [1.0, 2.4, 2.6, 3.0, 4.0, 2.45],
            "sex": pd.Categorical(["F", "F", "M", "M", None, "M"]),
        }
    )

    def risk(f: pd.DataFrame) -> np.ndarray:
        return np.asarray(f["lactate"] / 5 + 0.02 * (f["sex"] == "M"))

    result = counterfactual_flips(risk, frame, "sex", threshold=0.5)
    # flags at 0.5: F 2.4 → 0.48 (M: 0.50, flips); M 2.6 → 0.54 (F: 0.52, no);
    # M 2.45 → 0.51 (F: 0.49, flips); row 4 has no sex and is skipped
    assert (result.n, result.n_skipped, result.n_flipped) == (5, 1, 2)
    assert result.flipped_rows == (1, 5)
    assert result.mean_abs_change == pytest.approx(0.02)
    assert result.counterfactual == "sex swapped ('F' ↔ 'M')"
    assert result.summary().startswith(
        "With sex swapped ('F' ↔ 'M'), the flag at 0.5 changed for 2"
    )


def test_counterfactual_bad_inputs() -> None:
    frame = pd.DataFrame({"lactate": [1.0, 2.0], "sex": ["F", "F"]})
    with pytest.raises(InputError, match="fewer than 2 values"):
        counterfactual_flips(lambda f: f["lactate"] / 5, frame, "sex", threshold=0.5)
    with pytest.raises(InputError, match="no patient has a value of 'sex' to change"):
        counterfactual_flips(
            lambda f: f["lactate"] / 5, frame, "sex", threshold=0.5, swap={"M": "F"}
        )
    with pytest.raises(InputError, match="threshold must be a risk from 0 to 1"):
        counterfactual_flips(lambda f: f["lactate"] / 5, frame, "sex", threshold=5)
    with pytest.raises(InputError, match="counterfactual_flips: the frame has no column 'race'"):
        counterfactual_flips(lambda f: f["lactate"] / 5, frame, "race", threshold=0.5)
