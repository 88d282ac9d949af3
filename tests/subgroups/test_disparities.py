"""``disparities`` on hand-checkable cases, against a naive resampling loop, and its boundary."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from assay.errors import InputError
from assay.metrics import brier
from assay.subgroups import DisparityRow, DisparityTable, disparities, metric_by_group


def _group(positives: int, negatives: int, true_positives: int) -> tuple[list[int], list[float]]:
    """Outcomes and scores of one group: ``true_positives`` cases scored above 0.5."""
    y = [1] * positives + [0] * negatives
    score = [0.9] * true_positives + [0.1] * (positives - true_positives) + [0.1] * negatives
    return y, score


def _data(spec: dict[str, tuple[int, int, int]]) -> tuple[Any, Any, dict[str, list[str]]]:
    ys: list[int] = []
    scores: list[float] = []
    site: list[str] = []
    for name, (positives, negatives, true_positives) in spec.items():
        y, score = _group(positives, negatives, true_positives)
        ys += y
        scores += score
        site += [name] * len(y)
    return np.array(ys), np.array(scores), {"site": site}


# A: sensitivity 0.8 on 250 cases (the largest group); B: 0.4 on 200 cases; C: exactly A's
# data again on 400 rows; D: 0.8 on 10 cases (small, noisy); E: 7 patients (suppressed).
Y, SCORE, GROUPS = _data(
    {
        "A": (250, 250, 200),
        "B": (200, 200, 80),
        "C": (200, 200, 160),
        "D": (10, 10, 8),
        "E": (4, 3, 2),
    }
)


def _row(table: DisparityTable, value: str) -> DisparityRow:
    (row,) = [r for r in table.rows if r.group_value == value]
    return row


@pytest.fixture(scope="module")
def table() -> DisparityTable:
    return disparities(
        "sensitivity", Y, SCORE, GROUPS, attribute="site", n_boot=400, threshold=0.5
    )


def test_known_sensitivities_give_ratio_one_half_and_a_clear_breach(table: DisparityTable) -> None:
    assert table.reference == "A"
    assert table.reference_rule == "largest"
    assert [row.group_value for row in table.rows] == ["B", "C", "D", "E"]
    row = _row(table, "B")
    assert (row.n, row.value, row.reference_metric_value) == (400, 0.4, 0.8)
    assert row.difference == pytest.approx(-0.4)
    assert row.ratio == pytest.approx(0.5)
    assert row.band_status == "clear_breach"
    assert row.ratio_ci_low is not None and row.ratio_ci_high is not None
    # delta method: SE of log ratio = sqrt(0.6 / (0.4 * 200) + 0.2 / (0.8 * 250)) = 0.0922
    se = np.sqrt(0.6 / 80 + 0.2 / 200)
    expected = 0.5 * np.exp(-1.96 * se), 0.5 * np.exp(1.96 * se)  # (0.417, 0.599)
    assert (row.ratio_ci_low, row.ratio_ci_high) == pytest.approx(expected, abs=0.02)
    assert row.difference_ci_low is not None and row.difference_ci_high is not None
    assert -0.5 < row.difference_ci_low < -0.4 < row.difference_ci_high < -0.3


def test_identical_groups_are_within_the_band(table: DisparityTable) -> None:
    row = _row(table, "C")
    assert row.ratio == pytest.approx(1.0)
    assert row.difference == pytest.approx(0.0)
    assert row.ratio_ci_low is not None and row.ratio_ci_high is not None
    assert 0.8 <= row.ratio_ci_low < 1.0 < row.ratio_ci_high <= 1.25
    assert row.band_status == "within"


def test_a_small_noisy_group_is_a_possible_breach(table: DisparityTable) -> None:
    row = _row(table, "D")
    assert row.ratio == pytest.approx(1.0)
    assert row.ratio_ci_low is not None and row.ratio_ci_high is not None
    assert row.ratio_ci_low < 0.8 <= row.ratio_ci_high
    assert row.band_status == "possible_breach"


def test_a_seven_patient_group_is_suppressed_with_no_numbers(table: DisparityTable) -> None:
    row = _row(table, "E")
    assert (row.n, row.band_status) == (None, "suppressed")
    assert row.reason == "suppressed: fewer than 11 patients"
    assert row.value is None and row.ratio is None and row.difference is None


def test_point_values_equal_metric_by_group(table: DisparityTable) -> None:
    by_group = metric_by_group("sensitivity", Y, SCORE, GROUPS, ci="none", threshold=0.5)
    values = {row.group_value: row.value for row in by_group.rows if row.group is not None}
    for row in table.rows:
        if row.band_status == "suppressed":
            continue
        assert row.value == values[row.group_value]
        assert row.difference == values[row.group_value] - values["A"]  # type: ignore[operator]
        assert row.ratio == values[row.group_value] / values["A"]  # type: ignore[operator]


def test_same_seed_same_numbers_other_seed_other_numbers(table: DisparityTable) -> None:
    again = disparities(
        "sensitivity", Y, SCORE, GROUPS, attribute="site", n_boot=400, threshold=0.5
    )
    assert again == table
    other = disparities(
        "sensitivity", Y, SCORE, GROUPS, attribute="site", n_boot=400, seed=1, threshold=0.5
    )
    assert _row(other, "B").ratio_ci_low != _row(table, "B").ratio_ci_low
    assert _row(other, "B").ratio == _row(table, "B").ratio


def test_to_frame_has_one_row_per_group_with_typed_columns(table: DisparityTable) -> None:
    frame = table.to_frame()
    assert list(frame["group_value"]) == ["B", "C", "D", "E"]
    assert str(frame["ratio"].dtype) == "Float64"
    assert str(frame["n"].dtype) == "Int64"
    assert frame["ratio"].isna().tolist() == [False, False, False, True]
    assert table.band == pytest.approx((0.8, 1.25))


# Brier: lower is better. P is well calibrated, Q is not, and Q is the larger group.
RNG = np.random.default_rng(7)
P_SCORE = RNG.uniform(0.05, 0.95, 60)
Q_SCORE = RNG.uniform(0.05, 0.95, 90)
P_Y = (RNG.uniform(size=60) < P_SCORE).astype(int)
Q_Y = (RNG.uniform(size=90) < 1 - Q_SCORE).astype(int)
BRIER_Y = np.concatenate([P_Y, Q_Y])
BRIER_SCORE = np.concatenate([P_SCORE, Q_SCORE])
BRIER_GROUPS = {"site": ["P"] * 60 + ["Q"] * 90}


def test_reference_rules_largest_best_and_named() -> None:
    args = ("brier", BRIER_Y, BRIER_SCORE, BRIER_GROUPS)
    largest = disparities(*args, attribute="site", n_boot=50)
    best = disparities(*args, attribute="site", reference="best", n_boot=50)
    named = disparities(*args, attribute="site", reference="P", n_boot=50)
    assert (largest.reference, largest.reference_rule) == ("Q", "largest")
    assert brier(P_Y, P_SCORE) < brier(Q_Y, Q_SCORE)
    assert (best.reference, best.reference_rule) == ("P", "best")
    assert (named.reference, named.reference_rule) == ("P", "named")
    assert best.rows == named.rows
    assert [row.group_value for row in best.rows] == ["Q"]


def test_unknown_reference_names_it_and_lists_the_values() -> None:
    with pytest.raises(InputError, match=r"'Z' is not a value.*'P', 'Q'"):
        disparities("brier", BRIER_Y, BRIER_SCORE, BRIER_GROUPS, attribute="site", reference="Z")


def test_best_needs_a_metric_with_a_direction() -> None:
    with pytest.raises(InputError, match="no better direction"):
        disparities(
            "calibration_slope", BRIER_Y, BRIER_SCORE, BRIER_GROUPS, attribute="site",
            reference="best",
        )


def test_boundary_errors() -> None:
    args = ("brier", BRIER_Y, BRIER_SCORE, BRIER_GROUPS)
    with pytest.raises(InputError, match="attribute 'sex' is not in groups"):
        disparities(*args, attribute="sex")
    with pytest.raises(InputError, match="tolerance must be a positive"):
        disparities(*args, attribute="site", tolerance=0.0)
    with pytest.raises(InputError, match="fewer than the small_cell_threshold"):
        disparities(*args, attribute="site", reference="P", small_cell_threshold=61)


def _naive_replicates(
    y: np.ndarray[Any, Any], score: np.ndarray[Any, Any], site: list[str], seed: int,
    n_boot: int,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Brier replicates of P and Q by a plain loop (the scheme of assay.metrics._bootstrap).

    Within each group and each outcome stratum the rows are ordered by score; replicate ``r``
    of a group draws with ``Generator(SFC64(SeedSequence(group_seed, spawn_key=(r,))))``.
    """
    labels = np.array(site)

    def draws(value: str) -> list[float]:
        rows = np.flatnonzero(labels == value)
        group_seed = (seed * 2**32 + zlib.crc32(f"site={value}".encode())) % 2**63
        strata = [rows[y[rows] == outcome] for outcome in (0, 1)]
        strata = [stratum[np.argsort(score[stratum], kind="stable")] for stratum in strata]
        out = []
        for r in range(n_boot):
            rng = np.random.Generator(
                np.random.SFC64(np.random.SeedSequence(group_seed, spawn_key=(r,)))
            )
            picked = np.concatenate(
                [s[rng.integers(0, s.size, s.size, dtype=np.int32)] for s in strata]
            )
            out.append(brier(y[picked], score[picked]))
        return out

    return np.array(draws("P")), np.array(draws("Q"))


def _naive_ratio_interval(
    y: np.ndarray[Any, Any], score: np.ndarray[Any, Any], site: list[str], seed: int,
    n_boot: int, level: float,
) -> tuple[float, float, float, float]:
    """Percentile intervals of the difference and ratio from the naive replicates."""
    group, reference = _naive_replicates(y, score, site, seed, n_boot)
    alpha = (1 - level) / 2
    d_low, d_high = np.quantile(group - reference, [alpha, 1 - alpha])
    r_low, r_high = np.quantile(group / reference, [alpha, 1 - alpha])
    return float(d_low), float(d_high), float(r_low), float(r_high)


def test_intervals_match_a_naive_resampling_loop() -> None:
    table = disparities(
        "brier", BRIER_Y, BRIER_SCORE, BRIER_GROUPS, attribute="site", n_boot=60, seed=3,
        level=0.9,
    )
    (row,) = table.rows
    expected = _naive_ratio_interval(BRIER_Y, BRIER_SCORE, BRIER_GROUPS["site"], 3, 60, 0.9)
    got = (row.difference_ci_low, row.difference_ci_high, row.ratio_ci_low, row.ratio_ci_high)
    assert got == pytest.approx(expected, rel=1e-12)


def test_undefined_in_group_and_zero_reference_are_reported() -> None:
    # F has no positive cases: sensitivity undefined there.
    y, score, groups = _data({"A": (30, 30, 24), "F": (0, 20, 0)})
    table = disparities("sensitivity", y, score, groups, attribute="site", n_boot=50,
                        threshold=0.5)
    (row,) = table.rows
    assert row.band_status == "undefined"
    assert row.reason is not None and row.reason.startswith("in this group:")
    # reference sensitivity 0: a difference but no ratio
    y, score, groups = _data({"A": (30, 30, 0), "B": (20, 20, 10)})
    (row,) = disparities("sensitivity", y, score, groups, attribute="site", n_boot=50,
                         threshold=0.5).rows
    assert (row.band_status, row.difference, row.ratio) == ("undefined", 0.5, None)
    assert row.reason == "no ratio: the reference value is 0, not positive"


def test_too_many_undefined_replicates_make_the_row_undefined() -> None:
    # G flags one of its 10 negatives and no case: PPV is 0/1, but undefined (nobody
    # flagged) in the resamples that miss that patient, about 0.9**10 = 35% of them.
    y, score, groups = _data({"A": (30, 30, 24), "G": (2, 10, 0)})
    score = np.array(score)
    score[np.flatnonzero(np.array(groups["site"]) == "G")[2]] = 0.9  # one flagged negative
    table = disparities("ppv", y, score, groups, attribute="site", n_boot=200, threshold=0.5)
    (row,) = table.rows
    assert row.value == 0.0
    assert row.band_status == "undefined"
    assert row.reason is not None and "bootstrap replicates" in row.reason


def test_an_intersection_can_be_the_attribute() -> None:
    frame = pd.DataFrame({"site": GROUPS["site"], "sex": (["F", "M"] * len(Y))[: len(Y)]})
    table = disparities(
        "sensitivity", Y, SCORE, frame, attribute="site*sex", reference="A*F", n_boot=50,
        threshold=0.5,
    )
    assert table.reference == "A*F"
    assert [row.group_value for row in table.rows][:3] == ["A*M", "B*F", "B*M"]


def _many_sites() -> tuple[list[int], list[float], dict[str, list[str]]]:
    """Reference A (sensitivity 0.8 on 400 cases); B, C, D at 0.68 on 100 cases each; E–H
    copies of A. With τ = 0.02 the band is [0.980, 1.02]: B–D's ratio intervals lie below it,
    each with a raw p-value near 0.015."""
    y, score, groups = _data(
        {"A": (400, 50, 320), "B": (100, 50, 68), "C": (100, 50, 68), "D": (100, 50, 68),
         **{name: (400, 50, 320) for name in "EFGH"}}
    )
    return list(y), list(score), groups


@pytest.mark.parametrize("correction", ["holm", "bh"])
def test_the_chosen_correction_decides_a_breach(correction: Any) -> None:
    from statsmodels.stats.multitest import multipletests

    y, score, groups = _many_sites()
    table = disparities("sensitivity", y, score, groups, attribute="site", reference="A",
                        tolerance=0.02, correction=correction, threshold=0.5)
    assert table.correction == correction
    p = np.array([row.p_value for row in table.rows])
    assert np.all(p[:3] < 0.05) and np.all(p[3:] == 1.0)  # identical data: difference 0
    assert [row.p_holm for row in table.rows] == pytest.approx(
        multipletests(p, method="holm")[1], abs=1e-12)
    assert [row.p_bh for row in table.rows] == pytest.approx(
        multipletests(p, method="fdr_bh")[1], abs=1e-12)
    for row in table.rows[:3]:
        assert row.ratio_ci_high is not None and row.ratio_ci_high < 1 / 1.02
        assert row.p_holm is not None and row.p_holm > 0.05  # 7 tests: Holm multiplies by ≥ 5
        assert row.p_bh is not None and row.p_bh < 0.05  # three small p-values share 7/3
    statuses = [row.band_status for row in table.rows[:3]]
    if correction == "bh":
        assert statuses == ["clear_breach"] * 3
        assert len(table.breaches) == 3
    else:
        assert statuses == ["possible_breach"] * 3
        assert table.breaches == ()
        reason = table.rows[0].reason
        assert reason is not None and "not significant after Holm correction across 7" in reason


def test_the_p_value_is_a_wald_test_with_the_bootstrap_standard_error() -> None:
    table = disparities("brier", BRIER_Y, BRIER_SCORE, BRIER_GROUPS, attribute="site",
                        n_boot=60, seed=3)
    (row,) = table.rows
    from scipy import stats

    group, reference = _naive_replicates(BRIER_Y, BRIER_SCORE, BRIER_GROUPS["site"], 3, 60)
    se = np.std(group - reference, ddof=1)
    assert row.difference is not None
    assert row.p_value == pytest.approx(2 * stats.norm.sf(abs(row.difference) / se), rel=1e-9)
    assert 0 < row.p_value < 1
    assert row.p_holm == row.p_bh == row.p_value  # one test: no adjustment


def test_the_ideal_value_can_stand_in_for_a_reference_group() -> None:
    table = disparities("oe_ratio", BRIER_Y, BRIER_SCORE, BRIER_GROUPS, attribute="site",
                        reference="ideal", n_boot=200)
    assert (table.reference, table.reference_rule) == ("ideal", "ideal")
    assert [row.group_value for row in table.rows] == ["P", "Q"]
    for row in table.rows:
        assert row.reference_metric_value == 1.0
        assert row.ratio == row.value
    with pytest.raises(InputError, match="no positive ideal value"):
        disparities("false_positive_rate", BRIER_Y, BRIER_SCORE, BRIER_GROUPS,
                    attribute="site", reference="ideal", threshold=0.5)
    with pytest.raises(InputError, match="correction must be 'holm' or 'bh'"):
        disparities("brier", BRIER_Y, BRIER_SCORE, BRIER_GROUPS, attribute="site",
                    correction="bonferroni")  # type: ignore[arg-type]
