"""Perturbations: what each does, their seeding, their plan dicts and their errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.datasets import LabUnitChange
from assay.errors import InputError
from assay.robustness import (
    PERTURBATION_KINDS,
    CategoryChange,
    CovariateShift,
    FeatureUnavailable,
    GaussianNoise,
    Missingness,
    PrevalenceShift,
    UnitError,
    perturbation_from_dict,
    unit_conversions,
)
from tests.robustness.conftest import LABS

ALL_KINDS: list[Any] = [
    GaussianNoise(features=["albumin_g_dl", "age"], sd_fraction=0.5, seed=3),
    Missingness(features=LABS, rate=0.2),
    UnitError(feature="temp_c", conversion="celsius_as_fahrenheit", rate=0.3),
    CategoryChange(feature="admission_type", mapping={"Urgent": "Emergency"}, rate=0.5),
    CategoryChange(feature="sex", unseen_value="X", rate=0.1),
    FeatureUnavailable(features=["lactate_mmol_l"], fill="median"),
    FeatureUnavailable(features=["payer"], fill="value", value="Unknown", rate=0.5),
    PrevalenceShift(prevalence=0.3, seed=4),
    CovariateShift(feature="age", low=75, weight=3.0),
    CovariateShift(feature="race_ethnicity", values=["Black", "Hispanic"], weight=0.5),
]


@pytest.mark.parametrize("perturbation", ALL_KINDS, ids=lambda p: p.kind)
def test_input_is_never_modified_and_draws_are_seeded(
    perturbation: Any, cohort: pd.DataFrame, y: np.ndarray
) -> None:
    before = cohort.copy(deep=True)
    y_before = y.copy()
    first = perturbation.apply(cohort, y)
    again = perturbation.apply(cohort, y)
    pd.testing.assert_frame_equal(cohort, before)
    np.testing.assert_array_equal(y, y_before)
    assert first.frame is not cohort
    pd.testing.assert_frame_equal(first.frame, again.frame)
    np.testing.assert_array_equal(first.rows, again.rows)


@pytest.mark.parametrize("perturbation", ALL_KINDS, ids=lambda p: p.kind)
def test_plan_dicts_round_trip(perturbation: Any) -> None:
    data = perturbation.to_dict()
    assert data["kind"] in PERTURBATION_KINDS
    assert perturbation_from_dict(data) == perturbation


def test_noise_is_scaled_to_the_sd_and_shared_across_strengths(cohort: pd.DataFrame) -> None:
    noise = GaussianNoise(features=["albumin_g_dl", "age"], sd_fraction=0.5)
    half = noise.apply(cohort).frame
    full = noise.apply(cohort, strength=1.0).frame
    other_seed = noise.apply(cohort, seed=1).frame
    for name in ("albumin_g_dl", "age"):
        original = cohort[name].to_numpy(dtype=float)
        added_half = half[name].to_numpy() - original
        added_full = full[name].to_numpy() - original
        observed = ~np.isnan(original)
        np.testing.assert_array_equal(np.isnan(half[name].to_numpy()), ~observed)
        np.testing.assert_allclose(added_full[observed], 2 * added_half[observed], atol=1e-9)
        sd = np.std(original[observed], ddof=1)
        # 3,000 (2,500+) normal draws: the SD of the noise is within 5% of 0.5 SD
        assert np.std(added_half[observed]) == pytest.approx(0.5 * sd, rel=0.05)
        assert not np.allclose(other_seed[name].to_numpy()[observed], half[name][observed])
    assert half["age"].dtype == np.float64
    pd.testing.assert_series_equal(half["temp_c"], cohort["temp_c"])
    assert noise.apply(cohort, strength=0.0).frame.equals(cohort.astype({"age": float}))


def test_missingness_is_mcar_at_the_rate_and_nested(cohort: pd.DataFrame) -> None:
    missing = Missingness(features=["sex", "prior_admissions_12m", "albumin_g_dl"], rate=0.2)
    low = missing.apply(cohort, strength=0.1).frame
    high = missing.apply(cohort).frame
    n = len(cohort)
    for name in missing.features:
        blanked = high[name].isna() & cohort[name].notna()
        share = blanked.sum() / cohort[name].notna().sum()
        assert abs(share - 0.2) < 3 * np.sqrt(0.2 * 0.8 / n)  # within 3 binomial SEs
        assert (low[name].isna() <= high[name].isna()).all()  # 10% rows ⊂ 20% rows
        assert (cohort[name].isna() <= high[name].isna()).all()
    # columns are blanked independently
    both = (high["sex"].isna() & high["prior_admissions_12m"].isna()).mean()
    assert abs(both - 0.04) < 0.015
    assert high["sex"].dtype == object and high["prior_admissions_12m"].dtype == np.float64
    pd.testing.assert_series_equal(high["age"], cohort["age"])


def test_unit_errors_convert_the_drawn_rows() -> None:
    frame = pd.DataFrame({"temp_c": [37.0, 38.5, np.nan, 36.0], "kg": [70.0, 80, 90, 100]})
    hot = UnitError(feature="temp_c", conversion="celsius_as_fahrenheit").apply(frame).frame
    np.testing.assert_allclose(hot["temp_c"], [98.6, 101.3, np.nan, 96.8])
    pounds = UnitError(feature="kg", conversion="kg_as_lb").apply(frame).frame
    np.testing.assert_allclose(pounds["kg"], [154.324, 176.370, 198.416, 220.462], atol=1e-3)
    back = UnitError(feature="kg", conversion="lb_as_kg").apply(pounds).frame
    np.testing.assert_allclose(back["kg"], frame["kg"])
    none = UnitError(feature="kg", conversion="kg_as_lb", rate=0.0).apply(frame).frame
    pd.testing.assert_frame_equal(none, frame)
    assert "glucose_mgdl_as_mmol" in unit_conversions()


def test_glucose_conversion_matches_the_datasets_lab_unit_change(cohort: pd.DataFrame) -> None:
    ours = UnitError(feature="glucose_mg_dl", conversion="glucose_mgdl_as_mmol").apply(cohort)
    values = cohort["glucose_mg_dl"].to_numpy() * LabUnitChange().factor
    np.testing.assert_allclose(ours.frame["glucose_mg_dl"], values, rtol=1e-12)
    partly = UnitError(feature="glucose_mg_dl", conversion="glucose_mgdl_as_mmol", rate=0.25)
    converted = (partly.apply(cohort).frame["glucose_mg_dl"] < 40).sum()
    assert abs(converted / cohort["glucose_mg_dl"].notna().sum() - 0.25) < 0.03


def test_category_changes() -> None:
    frame = pd.DataFrame(
        {"kind": pd.Categorical(["A", "B", "C", None] * 250), "code": [1, 2] * 500}
    )
    recoded = CategoryChange(feature="kind", mapping={"A": "B"}).apply(frame).frame
    assert recoded["kind"].value_counts(dropna=False).to_dict() == {"B": 500, "C": 250, np.nan: 250}
    unseen = CategoryChange(feature="kind", unseen_value="Z", rate=0.4).apply(frame).frame
    changed = unseen["kind"] == "Z"
    assert abs(changed.sum() / 750 - 0.4) < 0.06 and frame["kind"][changed].notna().all()
    numbers = CategoryChange(feature="code", mapping={"1": 3}).apply(frame).frame
    assert sorted(numbers["code"].unique()) == [2, 3]  # "1" in a plan matches the number 1
    with pytest.raises(InputError, match="'A' is not unseen, column 'kind' holds it in 250 rows"):
        CategoryChange(feature="kind", unseen_value="A").apply(frame)
    with pytest.raises(ValidationError, match="exactly one of 'mapping' and 'unseen_value'"):
        CategoryChange(feature="kind", mapping={"A": "B"}, unseen_value="Z")


def test_feature_unavailable_fills(cohort: pd.DataFrame) -> None:
    median = FeatureUnavailable(features=["albumin_g_dl"], fill="median").apply(cohort).frame
    assert median["albumin_g_dl"].nunique() == 1
    assert median["albumin_g_dl"].iloc[0] == pytest.approx(cohort["albumin_g_dl"].median())
    gone = FeatureUnavailable(features=["lactate_mmol_l", "sex"]).apply(cohort).frame
    assert gone[["lactate_mmol_l", "sex"]].isna().all().all()
    mode = FeatureUnavailable(features=["payer"], fill="mode").apply(cohort).frame
    assert set(mode["payer"]) == {cohort["payer"].mode().iloc[0]}
    half = FeatureUnavailable(features=["age"], fill="value", value=-1, rate=0.5).apply(cohort)
    assert abs((half.frame["age"] == -1).mean() - 0.5) < 0.03
    with pytest.raises(ValidationError, match="exactly when fill is 'value'"):
        FeatureUnavailable(features=["age"], value=3)


def test_prevalence_shift_subsamples_without_replacement(y: np.ndarray) -> None:
    frame = pd.DataFrame({"row": np.arange(y.size)})
    for target in (0.05, 0.3, 0.5):
        shifted = PrevalenceShift(prevalence=target).apply(frame, y)
        assert shifted.y is not None and not shifted.same_rows
        assert abs(shifted.y.mean() - target) < 1 / len(shifted.y)
        assert np.unique(shifted.rows).size == shifted.rows.size
        assert (np.diff(shifted.rows) > 0).all()
        np.testing.assert_array_equal(shifted.frame["row"], shifted.rows)
        np.testing.assert_array_equal(shifted.y, y[shifted.rows])
    # the rarer class keeps every row: all positives kept at 30%, all negatives at 5%
    assert PrevalenceShift(prevalence=0.3).apply(frame, y).y.sum() == y.sum()  # type: ignore[union-attr]
    kept_30 = set(PrevalenceShift(prevalence=0.3).apply(frame, y).rows)
    kept_50 = set(PrevalenceShift(prevalence=0.5).apply(frame, y).rows)
    assert kept_50 <= kept_30  # nested across strengths
    with pytest.raises(InputError, match="needs the outcome y"):
        PrevalenceShift(prevalence=0.3).apply(frame)


def test_covariate_shift_weights_sum_and_shares() -> None:
    frame = pd.DataFrame({"age": [50, 60, 70, 80, 90, np.nan, 40, 85]})
    shift = CovariateShift(feature="age", low=75, weight=3.0)
    plain = shift.apply(frame)
    assert plain.weight is not None
    assert plain.weight.sum() == pytest.approx(8.0)
    old = np.array([False, False, False, True, True, False, False, True])
    share = 3 * 3 / (3 * 3 + 5)  # w·s / (w·s + 1 − s) with s = 3/8, in counts
    assert plain.weight[old].sum() / plain.weight.sum() == pytest.approx(share)
    np.testing.assert_allclose(plain.weight[old] / plain.weight[~old][0], 3.0)
    given = np.array([1.0, 2, 1, 1, 2, 1, 1, 1])
    weighted = shift.apply(frame, weight=given).weight
    assert weighted is not None
    assert weighted.sum() == pytest.approx(given.sum())
    # given weights total 10, the subgroup holds 1 + 2 + 1 = 4: (3·4 + 6) · scale = 10
    np.testing.assert_allclose(weighted / given, np.where(old, 3, 1) * (10 / 18))
    pd.testing.assert_frame_equal(plain.frame, frame)
    assert plain.same_rows
    with pytest.raises(InputError, match="no row has age ≥ 100"):
        CovariateShift(feature="age", low=100, weight=2).apply(frame)
    with pytest.raises(ValidationError, match="either 'values' or a range"):
        CovariateShift(feature="age", values=[50], low=40, weight=2)


def test_descriptions_are_plain_words() -> None:
    assert [p.describe() for p in ALL_KINDS] == [
        "Gaussian noise of 0.5 SD added to albumin_g_dl and age",
        "20% of creatinine_mg_dl, hemoglobin_g_dl, albumin_g_dl, lactate_mmol_l and "
        "glucose_mg_dl missing at random",
        "temp_c received in °F instead of °C for 30% of rows",
        "admission_type recoded ('Urgent' → 'Emergency') in 50% of rows",
        "sex replaced by the unseen value 'X' in 10% of rows",
        "lactate_mmol_l unavailable for 100% of rows, filled with the median",
        "payer unavailable for 50% of rows, filled with 'Unknown'",
        "rows resampled to a prevalence of 30%",
        "patients with age ≥ 75 weighted 3× (total weight kept)",
        "patients with race_ethnicity 'Black' or 'Hispanic' weighted 0.5× (total weight kept)",
    ]
    assert Missingness(features=["a"], rate=0.2).describe(0.025) == "2.5% of a missing at random"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"features": ["a"], "rate": 0.2}, "field 'kind' is required; use one of noise, "),
        ({"kind": "blur", "features": ["a"]}, "field 'kind' must be one of .* \\(got 'blur'\\)"),
        (
            {"kind": "missingness", "features": ["a"], "rate": 1.5},
            "missingness perturbation: field 'rate': input should be less than or equal to 1 "
            "\\(got 1.5\\)",
        ),
        ({"kind": "missingness", "features": ["a"]}, "field 'rate' is required"),
        (
            {"kind": "missingness", "features": "a", "rate": 0.1},
            "field 'features': input should be a valid tuple \\(got 'a'\\)",
        ),
        ({"kind": "missingness", "features": [], "rate": 0.1}, "field 'features'"),
        (
            {"kind": "missingness", "features": ["a", "a"], "rate": 0.1},
            "field 'features': value error, names these columns more than once",
        ),
        (
            {"kind": "noise", "features": ["a"], "sd_fraction": 0.5, "sd": 1},
            "'sd' is not a field of a noise perturbation",
        ),
        (
            {"kind": "noise", "features": ["a"], "sd_fraction": "0.5"},
            "field 'sd_fraction': input should be a valid number \\(got '0.5'\\)",
        ),
        ({"kind": "unit_error", "feature": "t", "conversion": "c_as_f"}, "field 'conversion'"),
        ({"kind": "prevalence_shift", "prevalence": 1.0}, "field 'prevalence'"),
        ({"kind": "covariate_shift", "feature": "age", "weight": 2}, "either 'values' or a range"),
        (
            {"kind": "covariate_shift", "feature": "age", "low": 80, "high": 70, "weight": 2},
            "'low' \\(80\\) must be below 'high' \\(70\\)",
        ),
        ({"kind": "missingness", "features": ["a"], "rate": 0.1, "seed": -1}, "field 'seed'"),
    ],
)
def test_bad_dicts_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        perturbation_from_dict(data)


def test_bad_inputs_to_apply() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]})
    with pytest.raises(InputError, match="noise: column 's' must be numeric"):
        GaussianNoise(features=["s"], sd_fraction=1.0).apply(frame)
    with pytest.raises(InputError, match="missingness: the frame has no column 'b'"):
        Missingness(features=["b"], rate=0.1).apply(frame)
    with pytest.raises(InputError, match=r"y has shape \(3,\), expected \(2,\)"):
        Missingness(features=["a"], rate=0.1).apply(frame, [0, 1, 1])
    with pytest.raises(InputError, match="field 'rate'"):
        Missingness(features=["a"], rate=0.1).apply(frame, strength=2.0)
    with pytest.raises(InputError, match="seed must be a non-negative integer"):
        Missingness(features=["a"], rate=0.1).apply(frame, seed=-3)
    generator = np.random.default_rng(5)
    drawn = Missingness(features=["a"], rate=0.5).apply(frame, seed=generator)
    assert drawn.frame.shape == (2, 2)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=2, max_size=60),
    low=st.floats(0, 1),
    high=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_missingness_is_nested_and_never_restores_a_value(
    values: list[float | None], low: float, high: float, seed: int
) -> None:
    low, high = min(low, high), max(low, high)
    frame = pd.DataFrame({"x": pd.array(values, dtype="Float64").astype(float)})
    before = frame.copy()
    spec = Missingness(features=["x"], rate=high, seed=seed)
    fewer = spec.apply(frame, strength=low).frame["x"].isna()
    more = spec.apply(frame).frame["x"].isna()
    assert (frame["x"].isna() <= fewer).all() and (fewer <= more).all()
    pd.testing.assert_frame_equal(frame, before)


@settings(max_examples=40, deadline=None)
@given(
    weights=st.lists(st.floats(0.01, 100), min_size=2, max_size=40),
    multiplier=st.floats(0.01, 100),
    data=st.data(),
)
def test_covariate_shift_keeps_the_total_weight(
    weights: list[float], multiplier: float, data: st.DataObject
) -> None:
    n = len(weights)
    member = data.draw(
        st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda m: 0 < sum(m) < n)
    )
    frame = pd.DataFrame({"g": ["in" if m else "out" for m in member]})
    given_weights = np.array(weights)
    shifted = (
        CovariateShift(feature="g", values=["in"], weight=multiplier)
        .apply(frame, weight=given_weights)
        .weight
    )
    assert shifted is not None
    assert shifted.sum() == pytest.approx(given_weights.sum(), rel=1e-9)
    ratio = shifted / given_weights
    inside = np.array(member)
    np.testing.assert_allclose(ratio[inside] / ratio[~inside][0], multiplier, rtol=1e-9)
