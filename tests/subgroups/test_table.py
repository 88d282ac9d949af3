"""``metric_by_group`` on small hand-computed cases, its input boundary and its invariances."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import assay.subgroups
from assay.errors import InputError
from assay.metrics import estimate
from assay.metrics.intervals import wilson_interval
from assay.subgroups import SubgroupRow, SubgroupTable, metric_by_group

# 20 patients. F: 8, all north. M: 5 north, 7 south. So the cell F*south is empty and the
# south group (7 patients) is below the default small-cell threshold of 11.
Y = np.array([*[1, 1, 1, 0, 0, 0, 0, 1], *[1, 1, 0, 0, 0], *[1, 0, 1, 0, 0, 1, 0]])
SCORE = np.array(
    [
        *[0.9, 0.6, 0.3, 0.7, 0.2, 0.1, 0.4, 0.8],
        *[0.55, 0.45, 0.65, 0.15, 0.05],
        *[0.95, 0.35, 0.25, 0.5, 0.3, 0.85, 0.75],
    ]
)
SEX = ["F"] * 8 + ["M"] * 12
SITE = ["north"] * 13 + ["south"] * 7
GROUPS = {"sex": SEX, "site": SITE}


def _row(table: SubgroupTable, group: str | None, value: str | None) -> SubgroupRow:
    (row,) = [r for r in table.rows if r.group == group and r.group_value == value]
    return row


def test_public_names_are_pinned() -> None:
    assert assay.subgroups.__all__ == [
        "CRITERIA", "BandStatus", "DisparityRow", "DisparityTable", "FairnessAudit",
        "FairnessCriterion", "FairnessStatus", "MultiplicityMethod", "SegmentRow",
        "SegmentTable", "SegmentTest", "SubgroupRow", "SubgroupStatus", "SubgroupTable",
        "adjust", "benjamini_hochberg", "disparities", "fairness_audit", "holm",
        "metric_by_group", "weak_segments",
    ]


def test_rows_come_in_the_documented_order() -> None:
    table = metric_by_group(
        "sensitivity", Y, SCORE, GROUPS, intersections=[("sex", "site")], threshold=0.5
    )
    keys = [(row.group, row.group_value) for row in table.rows]
    assert keys == [
        (None, None),
        ("sex", "F"), ("sex", "M"),
        ("site", "north"), ("site", "south"),
        ("sex*site", "F*north"), ("sex*site", "F*south"),
        ("sex*site", "M*north"), ("sex*site", "M*south"),
    ]
    assert [row.n for row in table.rows] == [20, 8, 12, 13, 7, 8, 0, 5, 7]
    assert [row.n_positive for row in table.rows] == [9, 4, 5, 6, 3, 4, 0, 2, 3]


def test_sensitivity_per_group_by_hand_with_wilson_intervals() -> None:
    table = metric_by_group("sensitivity", Y, SCORE, GROUPS, threshold=0.5)
    # F: positives scored 0.9, 0.6, 0.3, 0.8 -> 3 of 4 flagged at 0.5
    # south: positives scored 0.95, 0.25, 0.85 -> 2 of 3 flagged
    # north: F's 3/4 plus M north's positives 0.55 (flagged), 0.45 (not) -> 4 of 6
    expected = {("sex", "F"): (3, 4), ("site", "south"): (2, 3), ("site", "north"): (4, 6)}
    for (group, value), (flagged, positives) in expected.items():
        row = _row(table, group, value)
        low, high = wilson_interval(flagged, positives)
        assert row.status == "ok"
        assert row.method == "wilson"
        assert row.value == pytest.approx(flagged / positives, abs=1e-12)
        assert row.ci_low == pytest.approx(float(low), abs=1e-12)
        assert row.ci_high == pytest.approx(float(high), abs=1e-12)


def test_auroc_per_group_by_hand() -> None:
    table = metric_by_group("auroc", Y, SCORE, GROUPS)
    # F: positives {0.9, 0.6, 0.3, 0.8} vs negatives {0.7, 0.2, 0.1, 0.4}: 4+3+2+4 = 13 of 16
    # south: positives {0.95, 0.25, 0.85} vs negatives {0.35, 0.5, 0.3, 0.75}: 4+0+4 = 8 of 12
    assert _row(table, "sex", "F").value == pytest.approx(13 / 16, abs=1e-12)
    assert _row(table, "site", "south").value == pytest.approx(8 / 12, abs=1e-12)
    assert all(row.method == "delong" for row in table.rows)


def test_overall_row_is_estimate_on_all_rows() -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("auroc", {}), ("ppv", {"threshold": 0.5}), ("brier", {})
    ]
    for metric, params in cases:
        table = metric_by_group(metric, Y, SCORE, GROUPS, n_boot=200, seed=3, **params)
        overall = estimate(metric, Y, SCORE, n_boot=200, seed=3, **params)
        row = table.rows[0]
        assert (row.group, row.group_value, row.n, row.n_positive) == (None, None, 20, 9)
        assert (row.value, row.ci_low, row.ci_high, row.method) == (
            overall.value, overall.ci_low, overall.ci_high, overall.method
        )


def test_empty_intersection_cell_is_kept() -> None:
    table = metric_by_group("auroc", Y, SCORE, GROUPS, intersections=[("sex", "site")])
    row = _row(table, "sex*site", "F*south")
    assert (row.status, row.n, row.value, row.reason) == (
        "empty", 0, None, "no patients in this group"
    )
    assert row.suppressed


def test_small_group_is_suppressed_and_hidden_for_distribution() -> None:
    table = metric_by_group("sensitivity", Y, SCORE, GROUPS, threshold=0.5)
    south = _row(table, "site", "south")
    assert south.suppressed and south.n == 7 and south.value == pytest.approx(2 / 3)
    assert not _row(table, "site", "north").suppressed

    shared = table.for_distribution()
    hidden = _row(shared, "site", "south")
    assert (hidden.group, hidden.group_value, hidden.status, hidden.suppressed) == (
        "site", "south", "ok", True
    )
    assert (hidden.n, hidden.n_positive, hidden.value, hidden.ci_low, hidden.ci_high) == (
        None, None, None, None, None
    )
    assert hidden.reason == "suppressed: fewer than 11 patients"
    assert _row(shared, "site", "north") == _row(table, "site", "north")
    assert len(shared.rows) == len(table.rows) and shared.redacted and not table.redacted
    # the original table is untouched
    assert _row(table, "site", "south").n == 7

    frame = shared.to_frame()
    assert frame.loc[4, "n"] is pd.NA and frame.loc[4, "status"] == "ok"


def test_threshold_of_one_suppresses_only_empty_cells() -> None:
    table = metric_by_group(
        "auroc", Y, SCORE, GROUPS, intersections=[("sex", "site")], small_cell_threshold=1
    )
    assert [row.group_value for row in table.rows if row.suppressed] == ["F*south"]


def test_group_without_positives_is_undefined_for_auroc() -> None:
    y = [0, 0, 0, 1, 1, 0, 1, 0]
    score = [0.1, 0.2, 0.3, 0.8, 0.6, 0.7, 0.4, 0.5]
    ward = ["a", "a", "a", "b", "b", "b", "b", "b"]
    table = metric_by_group("auroc", y, score, {"ward": ward})
    row = _row(table, "ward", "a")
    assert (row.status, row.n, row.n_positive, row.value) == ("undefined", 3, 0, None)
    assert row.reason is not None and "positive" in row.reason
    # b: positives {0.8, 0.6, 0.4} vs negatives {0.7, 0.5}: 2 + 1 + 0 = 3 of 6
    assert _row(table, "ward", "b").value == pytest.approx(0.5)


def test_missing_values_form_their_own_group() -> None:
    ward = ["a", None, "b", np.nan, "a", "b", None, "a"]
    y = [0, 1, 1, 0, 1, 0, 1, 0]
    table = metric_by_group("brier", y, [0.5] * 8, {"ward": ward}, ci="none")
    assert [(r.group_value, r.n) for r in table.rows] == [
        (None, 8), ("a", 3), ("b", 2), ("(missing)", 3)
    ]
    assert all(row.value == pytest.approx(0.25) for row in table.rows)


def test_numeric_and_categorical_attributes_sort_by_value() -> None:
    age_band = pd.Categorical(["65+", "18-40", "41-64"] * 4, categories=["18-40", "41-64", "65+"])
    frame = pd.DataFrame({"age_band": age_band, "visits": [10, 2, 1] * 4})
    y = [0, 1] * 6
    table = metric_by_group("brier", y, [0.3] * 12, frame, ci="none")
    assert [row.group_value for row in table.rows[1:]] == ["18-40", "41-64", "65+", "1", "2", "10"]


def test_same_seed_same_table_and_groups_do_not_disturb_each_other() -> None:
    kwargs = {"ci": "bootstrap", "n_boot": 200, "seed": 5}
    one = metric_by_group("brier", Y, SCORE, {"sex": SEX}, **kwargs)  # type: ignore[arg-type]
    assert one == metric_by_group("brier", Y, SCORE, {"sex": SEX}, **kwargs)  # type: ignore[arg-type]
    more = metric_by_group(
        "brier", Y, SCORE, {"site": SITE, "sex": SEX}, intersections=[("site", "sex")],
        **kwargs,  # type: ignore[arg-type]
    )
    for value in ("F", "M"):
        assert _row(more, "sex", value) == _row(one, "sex", value)
    other_seed = metric_by_group("brier", Y, SCORE, {"sex": SEX}, ci="bootstrap", n_boot=200)
    assert _row(other_seed, "sex", "F").ci_low != _row(one, "sex", "F").ci_low
    assert _row(one, "sex", "F").method == "bootstrap-percentile"


def test_weights_are_carried_into_each_group() -> None:
    weights = np.arange(1, 21, dtype=float)
    table = metric_by_group("brier", Y, SCORE, GROUPS, ci="none", sample_weight=weights)
    south = slice(13, 20)
    expected = np.average((SCORE[south] - Y[south]) ** 2, weights=weights[south])
    assert _row(table, "site", "south").value == pytest.approx(expected, abs=1e-12)


def test_to_frame_has_one_typed_row_per_row() -> None:
    table = metric_by_group("auroc", Y, SCORE, GROUPS, intersections=[("sex", "site")])
    frame = table.to_frame()
    assert len(frame) == len(table.rows) == 9
    assert list(frame.columns) == list(SubgroupRow.model_fields)
    assert str(frame["n"].dtype) == "Int64" and str(frame["value"].dtype) == "Float64"
    assert frame.loc[6, "status"] == "empty" and frame.loc[6, "value"] is pd.NA


@pytest.mark.parametrize(
    ("groups", "kwargs", "message"),
    [
        ({"sex": SEX[:-1]}, {}, "group attribute 'sex' has 19 rows, expected 20"),
        (GROUPS, {"intersections": [("sex", "ward")]}, "'ward' not in groups"),
        (GROUPS, {"intersections": ["sex"]}, "sequence of attribute names"),
        (GROUPS, {"intersections": [("sex", "sex")]}, "two different attributes"),
        (GROUPS, {"small_cell_threshold": 0}, "small_cell_threshold must be at least 1"),
        ({"sex*site": SEX}, {}, "contains '*'"),
        ([SEX], {}, "groups must be a pandas DataFrame or a mapping"),
    ],
)
def test_bad_inputs_raise_input_error(
    groups: object, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        metric_by_group("auroc", Y, SCORE, groups, **kwargs)  # type: ignore[arg-type]


def test_bad_outcome_and_score_raise_input_error() -> None:
    with pytest.raises(InputError, match="y_score"):
        metric_by_group("auroc", Y, SCORE[:-1], GROUPS)
    with pytest.raises(InputError, match="only 0/1"):
        metric_by_group("auroc", Y * 2, SCORE, GROUPS)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1), st.floats(0, 1), st.sampled_from("ab"), st.sampled_from("xyz")
        ),
        min_size=1,
        max_size=40,
    )
)
def test_groups_partition_the_rows_and_match_estimate(
    rows: list[tuple[int, float, str, str]],
) -> None:
    y = np.array([r[0] for r in rows])
    score = np.array([r[1] for r in rows])
    groups = {"first": [r[2] for r in rows], "second": [r[3] for r in rows]}
    table = metric_by_group("brier", y, score, groups, intersections=[("first", "second")],
                            ci="none")
    for group in ("first", "second", "first*second"):
        members = [row for row in table.rows if row.group == group]
        assert sum(row.n or 0 for row in members) == len(rows)
    assert len([row for row in table.rows if row.group == "first*second"]) == len(
        set(groups["first"])
    ) * len(set(groups["second"]))
    for row in table.rows[1:]:
        assert row.group_value is not None
        values = row.group_value.split("*")
        names = (row.group or "").split("*")
        mask = np.all([np.array(groups[n]) == v for n, v in zip(names, values, strict=True)],
                      axis=0)
        assert row.n == int(mask.sum())
        if row.n:
            assert row.value == estimate("brier", y[mask], score[mask], ci="none").value
        else:
            assert row.status == "empty"


def test_groups_are_tested_against_the_other_patients_with_holm_and_bh() -> None:
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(4)
    n = 3000
    site = rng.choice(["A", "B", "C", "D"], n)
    risk = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < risk).astype(int)
    risk = np.where((site == "D") & (y == 1), risk * 0.5, risk)  # D's cases flagged less
    groups = {"site": site, "sex": rng.choice(["F", "M"], n)}
    table = metric_by_group("sensitivity", y, risk, groups, ci="none", threshold=0.5)
    tested = [row for row in table.rows if row.group is not None]
    assert table.rows[0].p_value is None  # the overall row is not tested
    for row in tested:
        rows = groups[row.group] == row.group_value  # type: ignore[index]
        flagged = (risk >= 0.5) & (y == 1)
        inside = [int(flagged[rows].sum()), int((y[rows] == 1).sum() - flagged[rows].sum())]
        rest = [int(flagged[~rows].sum()), int((y[~rows] == 1).sum() - flagged[~rows].sum())]
        tails = [fisher_exact([inside, rest], alternative=side)[1] for side in ("less", "greater")]
        assert row.p_value == pytest.approx(min(1.0, 2 * min(tails)), rel=1e-9)
    p = [row.p_value for row in tested]
    assert [row.p_holm for row in tested] == pytest.approx(multipletests(p, method="holm")[1])
    assert [row.p_bh for row in tested] == pytest.approx(multipletests(p, method="fdr_bh")[1])
    d = next(row for row in tested if row.group_value == "D")
    assert d.p_holm is not None and d.p_holm < 0.001


def test_metrics_without_a_closed_form_test_carry_no_p_value() -> None:
    table = metric_by_group("brier", Y, SCORE, GROUPS, ci="none")
    assert all(row.p_value is None for row in table.rows)


def test_suppressed_groups_hide_their_p_values_when_shared() -> None:
    table = metric_by_group("auroc", Y, SCORE, GROUPS, small_cell_threshold=10, ci="none")
    south = _row(table, "site", "south")
    shared = _row(table.for_distribution(), "site", "south")
    assert south.suppressed and south.p_value is not None
    assert (shared.p_value, shared.p_holm, shared.p_bh) == (None, None, None)
