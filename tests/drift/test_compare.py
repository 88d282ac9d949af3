"""compare_features: decisions by effect size, p-values corrected across features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.drift import DriftReport, compare_features
from assay.errors import InputError
from assay.subgroups._multiplicity import holm


def _cohort(rng: np.random.Generator, n: int, age_shift: float = 0.0,
            ward_p: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1)) -> pd.DataFrame:
    creatinine = rng.lognormal(0.0, 0.4, n)
    creatinine[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "age": rng.normal(62.0 + age_shift, 12.0, n),
        "creatinine": creatinine,
        "ward": rng.choice(["med", "surg", "icu", "onc"], n, p=list(ward_p)),
    })


def test_two_samples_of_one_distribution_do_not_drift() -> None:
    rng = np.random.default_rng(1)
    report = compare_features(_cohort(rng, 20_000), _cohort(rng, 20_000))
    frame = report.to_frame()
    assert report.drifted_features == []
    assert (frame["statistic"] < frame["threshold"] / 2).all()
    assert set(frame["method"]) == {"missing_share", "psi", "ks", "cramers_v"}
    assert "No feature moved" in report.summary()


def test_a_shifted_feature_drifts_and_the_others_do_not() -> None:
    rng = np.random.default_rng(2)
    report = compare_features(_cohort(rng, 5000),
                              _cohort(rng, 5000, age_shift=8.0, ward_p=(0.1, 0.2, 0.3, 0.4)))
    frame = report.to_frame().set_index(["feature", "method"])
    assert report.drifted_features == ["age", "ward"]
    assert frame.loc[("age", "psi"), "statistic"] > 0.2
    assert frame.loc[("age", "ks"), "statistic"] > 0.2
    assert frame.loc[("ward", "cramers_v"), "statistic"] > 0.3
    assert not frame.loc["creatinine", "drifted"].any()
    assert "age (psi" in report.summary()


def test_tiny_shift_on_a_huge_sample_has_a_tiny_p_value_but_does_not_drift() -> None:
    rng = np.random.default_rng(3)
    n = 400_000
    ref = pd.DataFrame({"lactate": rng.normal(2.0, 1.0, n)})
    cur = pd.DataFrame({"lactate": rng.normal(2.03, 1.0, n)})  # 0.03 SD
    report = compare_features(ref, cur, methods=["ks", "wasserstein"])
    ks = next(r for r in report.records if r.method == "ks")
    assert ks.p_value is not None and ks.p_value < 1e-10
    assert ks.p_adjusted is not None and ks.p_adjusted < 1e-9
    assert not ks.drifted and ks.statistic < 0.05
    assert report.drifted_features == []


def test_p_values_are_holm_adjusted_across_all_tests() -> None:
    rng = np.random.default_rng(4)
    report = compare_features(_cohort(rng, 3000), _cohort(rng, 3000, age_shift=1.0))
    tested = [r for r in report.records if r.p_value is not None]
    assert report.n_tests == len(tested) == 6 and report.multiplicity == "holm"
    expected = holm([r.p_value for r in tested])
    assert [r.p_adjusted for r in tested] == pytest.approx(expected, abs=1e-12)
    assert all(r.p_adjusted is None for r in report.records if r.method == "psi")
    plain = compare_features(_cohort(rng, 300), _cohort(rng, 300), multiplicity="none")
    assert all(r.p_adjusted == r.p_value for r in plain.records if r.p_value is not None)


def test_missing_share_is_compared_as_its_own_record() -> None:
    ref = pd.DataFrame({"bmi": np.r_[np.arange(90.0), np.full(10, np.nan)]})
    cur = pd.DataFrame({"bmi": np.r_[np.arange(70.0), np.full(30, np.nan)]})
    record = compare_features(ref, cur).records[0]
    assert record.method == "missing_share"
    assert record.statistic == pytest.approx(0.2) and record.drifted
    assert (record.n_reference, record.n_current) == (100, 100)


def test_methods_can_be_chosen_per_kind_and_the_report_is_frozen() -> None:
    rng = np.random.default_rng(5)
    ref, cur = _cohort(rng, 500), _cohort(rng, 500)
    report = compare_features(ref, cur, features=["age", "ward"],
                              methods={"numeric": ["wasserstein"], "categorical": ["hellinger"]})
    assert [(r.feature, r.method) for r in report.records] == [
        ("age", "missing_share"), ("age", "wasserstein"),
        ("ward", "missing_share"), ("ward", "hellinger")]
    with pytest.raises(ValueError):
        report.records[0].drifted = True  # type: ignore[misc]
    assert DriftReport.model_validate_json(report.model_dump_json()) == report


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"features": ["age", "potassium"]}, "column 'potassium' is not in the reference"),
    ({"features": []}, "no feature to compare"),
    ({"methods": ["kl"]}, "unknown drift method 'kl'"),
    ({"methods": {"categorical": ["ks"]}}, "'ks' does not accept categorical"),
])
def test_bad_input_names_the_column_or_method(kwargs: dict[str, object], message: str) -> None:
    rng = np.random.default_rng(6)
    with pytest.raises(InputError, match=message):
        compare_features(_cohort(rng, 50), _cohort(rng, 50), **kwargs)  # type: ignore[arg-type]


def test_empty_frames_and_frames_without_common_columns_are_rejected() -> None:
    with pytest.raises(InputError, match=r"ref\.csv has no rows"):
        compare_features(pd.DataFrame({"a": []}), pd.DataFrame({"a": [1.0]}),
                         reference_name="ref.csv")
    with pytest.raises(InputError, match="no column in common"):
        compare_features(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}))
    with pytest.raises(InputError, match="'a' is numeric in the reference but categorical"):
        compare_features(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": ["x"]}))
    with pytest.raises(InputError, match="'a' has no non-missing value in the current data"):
        compare_features(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [np.nan]}))
