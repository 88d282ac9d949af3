"""``weak_segments``: finds an injected drop, stays quiet without one, and its boundary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from assay.errors import InputError
from assay.metrics import estimate, get_metric
from assay.subgroups._segment_tests import RestComparison
from assay.subgroups._segments import SegmentRow, SegmentTable, weak_segments


def _patients(
    seed: int, n: int, *, drop: bool, prevalence: float = 0.3
) -> tuple[Any, Any, pd.DataFrame]:
    """Outcome, score and features; with ``drop`` the score is noise for site C and age ≥ 70."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "age": rng.permutation(40 + np.arange(n) % 40),  # 40 to 79, equally common
            "lactate": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(0.3, 0.5, n).round(1)),
            "sex": rng.choice(["F", "M"], n),
            "site": rng.choice(["A", "B", "C", "D"], n),
            "admission": rng.choice(["ED", "elective", "transfer"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    y = (rng.random(n) < prevalence).astype(int)
    noise = rng.normal(size=n)
    score = 1.5 * y + noise
    if drop:
        score = np.where((features["site"] == "C") & (features["age"] >= 70), noise, score)
    return y, score, features


@pytest.fixture(scope="module")
def dropped() -> tuple[Any, Any, pd.DataFrame]:
    return _patients(11, 4000, drop=True)


@pytest.fixture(scope="module")
def auroc_table(dropped: tuple[Any, Any, pd.DataFrame]) -> SegmentTable:
    return weak_segments("auroc", *dropped)


# Finding an injected drop


def test_the_top_segment_is_the_injected_slice(
    dropped: tuple[Any, Any, pd.DataFrame], auroc_table: SegmentTable
) -> None:
    y, score, features = dropped
    assert auroc_table.feature_levels["age"] == ("< 50", "[50, 60)", "[60, 70)", "≥ 70")
    top = auroc_table.rows[0]
    assert (top.features, top.levels) == (("age", "site"), ("≥ 70", "C"))
    assert top.description == "age ≥ 70 and site = C"
    in_slice = (features["age"] >= 70) & (features["site"] == "C")
    assert top.n == int(in_slice.sum())
    assert top.n_positive == int(y[in_slice].sum())
    assert top.rest_n == 4000 - top.n
    # the slice's value and interval are estimate()'s; the score is noise there
    expected = estimate("auroc", y[in_slice], score[in_slice])
    assert top.value == expected.value
    assert (top.ci_low, top.ci_high) == (expected.ci_low, expected.ci_high)
    assert top.method == "delong"
    assert top.ci_low is not None and top.ci_high is not None
    assert top.ci_low < 0.5 < top.ci_high
    rest = estimate("auroc", y[~in_slice], score[~in_slice])
    assert top.rest_value == pytest.approx(rest.value, abs=1e-12)
    assert top.overall_value == auroc_table.overall.value == estimate("auroc", y, score).value
    assert top.shortfall == pytest.approx(top.overall_value - top.value)
    assert top.impact == pytest.approx(top.n * top.shortfall)
    assert top.p_value < 1e-12


def test_sensitivity_finds_the_same_slice(dropped: tuple[Any, Any, pd.DataFrame]) -> None:
    table = weak_segments("sensitivity", *dropped, threshold=0.75)
    assert table.test == "fisher"
    assert table.rows[0].description == "age ≥ 70 and site = C"
    assert table.rows[0].method == "wilson"


def test_every_other_segment_is_a_parent_or_a_slice_rich_in_the_drop(
    dropped: tuple[Any, Any, pd.DataFrame], auroc_table: SegmentTable
) -> None:
    _, _, features = dropped
    in_drop = ((features["age"] >= 70) & (features["site"] == "C")).to_numpy()
    assert in_drop.mean() == pytest.approx(0.06)
    assert [row.description for row in auroc_table.rows] == [
        "age ≥ 70 and site = C",
        "age ≥ 70",
        "site = C",
        "sex = M and site = C",
        "age ≥ 70 and sex = M",
    ]
    for row in auroc_table.rows[1:]:
        in_slice = np.ones(len(in_drop), dtype=bool)
        for name, level in zip(row.features, row.levels, strict=True):
            in_slice &= _level_mask(features[name], level)
        assert in_drop[in_slice].mean() > 0.2  # over three times the share overall


def test_rows_are_ranked_by_impact_and_the_table_is_consistent(auroc_table: SegmentTable) -> None:
    impacts = [row.impact for row in auroc_table.rows]
    assert impacts == sorted(impacts, reverse=True)
    assert all(row.p_adjusted <= 0.05 for row in auroc_table.rows)
    table = auroc_table
    assert table.n_slices == table.n_duplicate + table.n_skipped_small + table.n_untested + (
        table.n_tested
    )
    # 4 + 5 + 2 + 4 + 3 one-feature levels and the non-empty pairs of them
    assert table.n_slices == 18 + sum(
        len(table.feature_levels[a]) * len(table.feature_levels[b])
        for i, a in enumerate(table.feature_levels)
        for b in list(table.feature_levels)[i + 1 :]
    )


def test_a_small_severe_drop_outranks_a_large_mild_one_by_impact() -> None:
    rng = np.random.default_rng(5)
    n = 6000
    unit = rng.choice(["ward", "icu", "other"], n, p=[0.5, 0.1, 0.4])
    y = (rng.random(n) < 0.4).astype(int)
    noise = rng.normal(size=n)
    # ward: a third of the signal, 3,052 patients; icu: pure noise, 633 patients
    score = np.select([unit == "ward", unit == "icu"], [0.5 * y + noise, noise], 1.5 * y + noise)
    table = weak_segments("auroc", y, score, {"unit": unit})
    assert [(row.levels, row.n) for row in table.rows] == [(("ward",), 3052), (("icu",), 633)]
    ward, icu = table.rows
    # overall 0.711; ward 0.638 (shortfall 0.073), icu 0.531 (0.180)
    assert (ward.shortfall, icu.shortfall) == pytest.approx((0.073, 0.180), abs=0.001)
    assert (ward.impact, icu.impact) == pytest.approx((221.4, 113.6), abs=0.1)


def test_lower_is_better_metric_reports_a_rise() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    site = rng.choice(["A", "B", "C"], n)
    y = (rng.random(n) < 0.3).astype(int)
    score = y + rng.normal(size=n) + np.where(site == "B", 0.8, 0.0)  # B flags more controls
    table = weak_segments("false_positive_rate", y, score, {"site": site}, threshold=1.0)
    assert table.greater_is_better is False
    (row,) = table.rows
    assert row.levels == ("B",)
    assert row.value > row.rest_value
    assert row.shortfall == pytest.approx(row.value - row.overall_value)
    assert row.shortfall > 0


# Calibration without a drop


@pytest.mark.slow
def test_without_a_drop_at_most_5_percent_of_searches_report_a_segment() -> None:
    # AUROC at 5% prevalence, where slices hold few cases (without the variance floor of the
    # module notes 17 of these 200 searches report a segment); sensitivity at 30%
    reported = {"auroc": 0, "sensitivity": 0}
    tested = []
    for seed in range(200):
        auroc = weak_segments("auroc", *_patients(seed, 2000, drop=False, prevalence=0.05))
        y, score, features = _patients(seed, 2000, drop=False)
        sensitivity = weak_segments("sensitivity", y, score, features, threshold=0.75)
        reported["auroc"] += auroc.n_found > 0
        reported["sensitivity"] += sensitivity.n_found > 0
        tested += [auroc.n_tested, sensitivity.n_tested]
    assert min(tested) > 100  # a real search: over a hundred slices tested in every run
    assert reported["auroc"] <= 10, reported  # 5 observed
    assert reported["sensitivity"] <= 10, reported  # 4 observed


# p-values against independent computations


def test_proportion_p_values_equal_fisher_exact_one_sided(
    dropped: tuple[Any, Any, pd.DataFrame],
) -> None:
    y, score, features = dropped
    table = weak_segments("sensitivity", y, score, features, fdr=0.9, threshold=0.75)
    assert len(table.rows) > 20
    flagged = score >= 0.75
    for row in table.rows:
        in_slice = np.ones(len(y), dtype=bool)
        for name, level in zip(row.features, row.levels, strict=True):
            in_slice &= _level_mask(features[name], level)
        cases, rest = (y == 1) & in_slice, (y == 1) & ~in_slice
        hit, miss = (flagged & cases).sum(), (~flagged & cases).sum()
        rest_hit, rest_miss = (flagged & rest).sum(), (~flagged & rest).sum()
        expected = stats.fisher_exact([[hit, miss], [rest_hit, rest_miss]], alternative="less")
        assert row.n == in_slice.sum()
        assert row.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert row.value == hit / (hit + miss)


def test_auroc_p_values_equal_a_pairwise_delong_z_with_the_floor() -> None:
    rng = np.random.default_rng(9)
    n = 600
    site = rng.choice(["A", "B", "C"], n)
    band = rng.choice(["low", "high"], n)
    y = (rng.random(n) < 0.35).astype(int)
    score = np.round(np.where(site == "C", 0.4, 1.2) * y + rng.normal(size=n), 1)  # ties
    table = weak_segments("auroc", y, score, {"site": site, "band": band}, fdr=0.95, min_size=40)
    assert len(table.rows) >= 3
    floor = _pairwise_delong(y, score)[1:]
    for row in table.rows:
        in_slice = np.ones(n, dtype=bool)
        for name, level in zip(row.features, row.levels, strict=True):
            in_slice &= (site if name == "site" else band) == level
        value, s10, s01 = _pairwise_delong(y[in_slice], score[in_slice])
        rest, r10, r01 = _pairwise_delong(y[~in_slice], score[~in_slice])
        m, k = y[in_slice].sum(), (1 - y[in_slice]).sum()
        rm, rk = y[~in_slice].sum(), (1 - y[~in_slice]).sum()
        variance = max(s10, floor[0]) / m + max(s01, floor[1]) / k
        variance += max(r10, floor[0]) / rm + max(r01, floor[1]) / rk
        expected = stats.norm.cdf((value - rest) / np.sqrt(variance))
        assert row.value == pytest.approx(value, abs=1e-12)
        assert row.rest_value == pytest.approx(rest, abs=1e-12)
        assert row.p_value == pytest.approx(expected, rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 6), st.integers(0, 3), st.booleans()),
        min_size=4,
        max_size=60,
    )
)
def test_the_rest_from_prefix_sums_equals_delong_on_the_rest_expanded(
    rows: list[tuple[int, int, int, bool]],
) -> None:
    """Any data (scores with ties, integer weights with zeros), any slice: the O(slice size)
    AUROC and z of the rest equal the pairwise DeLong computation on repeated rows."""
    y, score, weight, in_slice = (np.array(column) for column in zip(*rows, strict=True))
    assume(_classes(y, weight) >= 2)  # as weak_segments requires of all the data
    order = np.argsort(score, kind="stable")
    auroc = get_metric("auroc")
    sorted_data = (y[order].astype(np.int8), score[order] / 2.0, weight[order].astype(float))
    tester = RestComparison(auroc, *sorted_data, {})
    result = tester._auroc(np.flatnonzero(in_slice[order]))
    repeated = np.repeat(np.arange(len(y)), weight)
    y, score, in_slice = y[repeated], score[repeated] / 2.0, in_slice[repeated]
    if min(_classes(y[in_slice]), _classes(y[~in_slice])) < 2:
        assert result is None
        return
    _, *floor = _pairwise_delong(y, score)
    value, s10, s01 = _pairwise_delong(y[in_slice], score[in_slice])
    rest, r10, r01 = _pairwise_delong(y[~in_slice], score[~in_slice])
    m, k = y[in_slice].sum(), (1 - y[in_slice]).sum()
    rm, rk = y[~in_slice].sum(), (1 - y[~in_slice]).sum()
    variance = max(s10, floor[0]) / m + max(s01, floor[1]) / k
    variance += max(r10, floor[0]) / rm + max(r01, floor[1]) / rk
    if variance == 0:
        assert result is None
        return
    assert result is not None
    assert result[0] == pytest.approx(value, abs=1e-12)
    assert result[1] == pytest.approx(rest, abs=1e-12)
    assert result[2][0] == pytest.approx((rest - value) / np.sqrt(variance), rel=1e-9, abs=1e-9)


def _classes(y: Any, weight: Any = None) -> int:
    """The smaller of the (weighted) numbers of cases and controls."""
    w = np.ones(len(y)) if weight is None else weight
    return int(min((w * y).sum(), (w * (1 - y)).sum()))


def _pairwise_delong(y: Any, score: Any) -> tuple[float, float, float]:
    """AUROC and DeLong's S10, S01 from the full case × control comparison matrix."""
    cases, controls = score[y == 1], score[y == 0]
    psi = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
    auc = float(psi.mean())
    return auc, float(np.var(psi.mean(axis=1), ddof=1)), float(np.var(psi.mean(axis=0), ddof=1))


def _level_mask(values: pd.Series, level: str) -> Any:
    """The rows of a feature at one of the levels ``weak_segments`` formed (as in the test data)."""
    if level == "(missing)":
        return values.isna().to_numpy()
    if values.dtype == object:
        return (values == level).to_numpy()
    x = values.to_numpy(dtype=float)
    if level.startswith("< "):
        return x < float(level[2:])
    if level.startswith("≥ "):
        return x >= float(level[2:])
    low, high = (float(part) for part in level.strip("[)").split(", "))
    return (x >= low) & (x < high)


# Slices: binning, missing values, sizes, duplicates, untested


def test_binning_labels_quartiles_of_0_to_99() -> None:
    values = np.arange(100)
    table = weak_segments(
        "auroc", values % 2, values, {"x": values, "half": values * 0.5}, min_size=11
    )
    assert table.feature_levels["x"] == ("< 25", "[25, 50)", "[50, 75)", "≥ 75")
    assert table.feature_levels["half"] == ("< 12.5", "[12.5, 25)", "[25, 37.5)", "≥ 37.5")


def test_binning_keeps_few_values_and_splits_off_a_heavy_minimum() -> None:
    n = 1000
    y = np.tile([0, 1], n // 2)
    score = np.linspace(0, 1, n)
    admissions = np.where(np.arange(n) < 900, 0, np.arange(n) % 7 + 1)  # 90% zero
    table = weak_segments(
        "auroc",
        y,
        score,
        {"grade": np.arange(n) % 3 + 1, "admissions": admissions, "flag": np.arange(n) < 10},
        n_bins=3,
    )
    assert table.feature_levels["grade"] == ("1", "2", "3")
    assert table.feature_levels["admissions"] == ("< 1", "≥ 1")
    assert table.feature_levels["flag"] == ("False", "True")


def test_missing_values_are_a_level_and_can_be_the_segment() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    lactate = np.where(rng.random(n) < 0.2, np.nan, rng.normal(2, 0.5, n))
    insurance = rng.choice(np.array(["public", "private", None], dtype=object), n)
    y = (rng.random(n) < 0.4).astype(int)
    noise = rng.normal(size=n)
    score = np.where(np.isnan(lactate), noise, 1.5 * y + noise)
    table = weak_segments(
        "auroc", y, score, {"lactate": lactate, "insurance": list(insurance)}, max_features=1
    )
    assert table.feature_levels["lactate"][-1] == "(missing)"
    assert table.feature_levels["insurance"] == ("private", "public", "(missing)")
    assert table.rows[0].description == "lactate is missing"
    assert table.rows[0].n == int(np.isnan(lactate).sum())


def _toy(sizes: dict[str, int], seed: int = 0) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    site = np.repeat(list(sizes), list(sizes.values()))
    y = (rng.random(site.size) < 0.5).astype(int)
    return y, y + rng.normal(size=site.size), {"site": site}


def test_slices_smaller_than_min_size_or_with_a_small_rest_are_skipped() -> None:
    y, score, groups = _toy({"A": 500, "B": 300, "C": 40})
    table = weak_segments("auroc", y, score, groups, max_features=1)
    assert (table.n_slices, table.n_skipped_small, table.n_tested) == (3, 1, 2)
    y, score, groups = _toy({"A": 900, "B": 45})  # B is small, and A's rest is B
    table = weak_segments("auroc", y, score, groups, max_features=1)
    assert (table.n_slices, table.n_skipped_small, table.n_tested) == (2, 2, 0)
    table = weak_segments("auroc", y, score, groups, max_features=1, min_size=40)
    assert (table.n_skipped_small, table.n_tested) == (0, 2)


def test_a_slice_without_cases_is_counted_untested_not_an_error() -> None:
    y, score, groups = _toy({"A": 500, "B": 300, "C": 100})
    y = np.where(groups["site"] == "C", 0, y)
    table = weak_segments("auroc", y, score, groups, max_features=1)
    assert (table.n_untested, table.n_tested) == (1, 2)
    sensitivity = weak_segments("sensitivity", y, score, groups, max_features=1, threshold=0.5)
    assert (sensitivity.n_untested, sensitivity.n_tested) == (1, 2)  # no cases: no trials


def test_a_pair_with_the_rows_of_one_of_its_levels_is_a_duplicate() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    sex = rng.choice(["F", "M"], n)
    pregnant = np.where((sex == "F") & (rng.random(n) < 0.1), "yes", "no")
    y = (rng.random(n) < 0.5).astype(int)
    table = weak_segments("auroc", y, y + rng.normal(size=n), {"sex": sex, "pregnant": pregnant})
    # pregnant = yes is all F: "sex = F and pregnant = yes" duplicates "pregnant = yes"
    # and "sex = M and pregnant = no" duplicates "sex = M"; "M and yes" is empty
    assert (table.n_slices, table.n_duplicate) == (4 + 3, 2)


def test_same_call_same_table_and_row_order_does_not_matter(
    dropped: tuple[Any, Any, pd.DataFrame], auroc_table: SegmentTable
) -> None:
    y, score, features = dropped
    assert weak_segments("auroc", y, score, features) == auroc_table
    order = np.random.default_rng(0).permutation(len(y))
    shuffled = weak_segments("auroc", y[order], score[order], features.iloc[order])
    assert [row.description for row in shuffled.rows] == [
        row.description for row in auroc_table.rows
    ]
    for a, b in zip(shuffled.rows, auroc_table.rows, strict=True):
        assert a.value == pytest.approx(b.value, abs=1e-12)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-6, abs=1e-300)


def test_integer_weights_count_as_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    n = 1500
    site = rng.choice(["A", "B", "C"], n)
    y = (rng.random(n) < 0.4).astype(int)
    score = np.where(site == "B", 0.5, 1.2) * y + rng.normal(size=n)
    weights = rng.integers(1, 4, n)
    weighted = weak_segments(
        "auroc", y, score, {"site": site}, sample_weight=weights, fdr=0.5, min_size=11
    )
    rows = np.repeat(np.arange(n), weights)
    repeated = weak_segments("auroc", y[rows], score[rows], {"site": site[rows]}, fdr=0.5)
    assert [r.levels for r in weighted.rows] == [r.levels for r in repeated.rows] != []
    for a, b in zip(weighted.rows, repeated.rows, strict=True):
        assert a.value == pytest.approx(b.value, abs=1e-12)
        assert (a.ci_low, a.ci_high) == pytest.approx((b.ci_low, b.ci_high), abs=1e-12)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-9)
        assert a.n < b.n  # n counts rows


def test_max_segments_keeps_the_highest_impact(
    dropped: tuple[Any, Any, pd.DataFrame], auroc_table: SegmentTable
) -> None:
    table = weak_segments("auroc", *dropped, max_segments=2)
    assert table.n_found == auroc_table.n_found > 2
    assert table.rows == auroc_table.rows[:2]


def test_to_frame_has_one_typed_row_per_segment(auroc_table: SegmentTable) -> None:
    frame = auroc_table.to_frame()
    assert list(frame.columns) == list(SegmentRow.model_fields)
    assert len(frame) == len(auroc_table.rows)
    assert frame.loc[0, "features"] == "age*site"
    assert frame.loc[0, "levels"] == "≥ 70*C"
    assert str(frame["n"].dtype) == "Int64"
    assert str(frame["p_value"].dtype) == "Float64"
    assert str(frame["description"].dtype) == "string"


# Input errors


@pytest.mark.parametrize(
    ("metric", "params", "message"),
    [
        ("no_such_metric", {}, "unknown metric 'no_such_metric'"),
        ("flag_rate", {"threshold": 0.5}, "has no better direction"),
        ("calibration_slope", {}, "has no better direction"),
        ("brier", {}, "weak_segments tests accuracy, auroc"),
        ("sensitivity", {}, "needs threshold"),
        ("auroc", {"threshold": 0.5}, "takes no parameter threshold"),
    ],
)
def test_metric_errors(metric: str, params: dict[str, Any], message: str) -> None:
    y, score, groups = _toy({"A": 100, "B": 100})
    with pytest.raises(InputError, match=message):
        weak_segments(metric, y, score, groups, **params)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_bins": 1}, "n_bins must be at least 2"),
        ({"n_bins": 2.5}, "n_bins must be an integer"),
        ({"min_size": 5}, "min_size must be at least 11"),
        ({"min_size": 20, "small_cell_threshold": 30}, "min_size must be at least 30"),
        ({"fdr": 0.0}, "fdr must be a number between 0 and 1"),
        ({"fdr": 1.5}, "fdr must be a number between 0 and 1"),
        ({"max_features": 3}, "max_features must be 1 or 2"),
        ({"max_segments": 0}, "max_segments must be at least 1"),
        ({"sample_weight": np.full(200, 0.5)}, "sample_weight must be integer"),
    ],
)
def test_setting_errors_name_the_field(options: dict[str, Any], message: str) -> None:
    y, score, groups = _toy({"A": 100, "B": 100})
    with pytest.raises(InputError, match=message):
        weak_segments("auroc", y, score, groups, **options)


def test_feature_errors_name_the_feature() -> None:
    y, score, groups = _toy({"A": 100, "B": 100})
    with pytest.raises(InputError, match="feature 'age' has 150 rows, expected 200"):
        weak_segments("auroc", y, score, {**groups, "age": np.arange(150)})
    with pytest.raises(InputError, match="feature 'age' has infinite values in 1 rows"):
        weak_segments("auroc", y, score, {"age": np.r_[np.arange(199.0), np.inf]})
    with pytest.raises(InputError, match="features is empty"):
        weak_segments("auroc", y, score, {})
    with pytest.raises(InputError, match="y_score has 199 rows, expected 200"):
        weak_segments("auroc", y, score[:-1], groups)
