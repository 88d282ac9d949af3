"""The fast paths of ``compare_features`` give the plain computations' numbers.

KS above 10,000 rows (read at a grid, then only where the statistic can be), categorical levels
counted by one hash pass, and columns compared on several threads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from assay.drift import compare_features, ks_statistic
from assay.drift._methods import _ks_statistic_sorted, counts, ks_p_value
from assay.errors import InputError


def _scipy_statistic(ref: np.ndarray, cur: np.ndarray) -> float:
    """``ks_2samp``'s statistic as its source computes it, before the exact mode rounds it:
    both ECDFs at every value of both samples."""
    points = np.concatenate([ref, cur])
    gaps = (np.searchsorted(ref, points, side="right") / ref.size
            - np.searchsorted(cur, points, side="right") / cur.size)
    below, above = float(np.clip(-gaps.min(), 0, 1)), float(gaps.max())
    return below if below > above else above


@pytest.mark.parametrize("step", [1, 3, 64])
@pytest.mark.parametrize("case", ["continuous", "ties", "disjoint", "unequal"])
def test_ks_above_ten_thousand_rows_is_scipys(case: str, step: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assay.drift._methods.KS_GRID_STEP", step)
    rng = np.random.default_rng(31)
    ref, cur = rng.normal(0.0, 1.0, 15_000), rng.normal(0.05, 1.1, 12_000)
    if case == "ties":  # few distinct values, shared by both samples
        ref, cur = np.round(ref * 4) / 4, np.round(cur * 4) / 4
    elif case == "disjoint":
        cur = cur + 20.0
    elif case == "unequal":
        cur = cur[:11]
    result = stats.ks_2samp(ref, cur)
    assert ks_statistic(ref, cur) == result.statistic
    assert ks_p_value(ref, cur) == pytest.approx(result.pvalue, rel=1e-12, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(ref=st.lists(st.integers(-6, 6), min_size=1, max_size=60),
       cur=st.lists(st.integers(-6, 6), min_size=1, max_size=60),
       step=st.integers(1, 8))
def test_the_grid_bound_never_misses_the_statistic(ref: list[int], cur: list[int],
                                                   step: int) -> None:
    import assay.drift._methods as methods

    a, b = np.sort(np.array(ref, dtype=np.float64)), np.sort(np.array(cur, dtype=np.float64))
    saved = methods.KS_GRID_STEP
    methods.KS_GRID_STEP = step
    try:
        assert _ks_statistic_sorted(a, b) == _scipy_statistic(a, b)
    finally:
        methods.KS_GRID_STEP = saved


def _plain_levels(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    ref = reference.dropna().astype(str).value_counts()
    cur = current.dropna().astype(str).value_counts()
    table = pd.concat([ref, cur], axis=1).fillna(0.0)
    return table.iloc[:, 0].to_numpy(np.float64), table.iloc[:, 1].to_numpy(np.float64)


def _plain_psi_and_cramers_v(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    r, c = _plain_levels(reference, current)
    p, q = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
    chi2 = stats.chi2_contingency(np.vstack([r, c]), correction=False).statistic
    return float(np.sum((q - p) * np.log(q / p))), float(np.sqrt(chi2 / (r.sum() + c.sum())))


def _columns(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    mixed = rng.choice(np.array([1, "1", True, 1.0, "a", None], dtype=object), n,
                       p=[0.2, 0.2 - shift, 0.2, 0.1, 0.2 + shift, 0.1])
    words = rng.choice(np.array(["low", "mid", "high", None, np.nan, pd.NA], dtype=object), n,
                       p=[0.4 - shift, 0.3, 0.2 + shift, 0.04, 0.03, 0.03])
    return pd.DataFrame({
        "mixed": pd.Series(mixed, dtype=object),  # 1, "1", True, 1.0 read as 3 levels
        "words": pd.Series(words, dtype=object),
        "ward": pd.Categorical(rng.choice(["icu", "med", "surg"], n, p=[0.2, 0.5 - shift,
                                                                        0.3 + shift]),
                               categories=["icu", "med", "surg", "unused"]),
        "flag": rng.random(n) < 0.3 + shift,
        "code": pd.array(rng.choice(["x", "y", None], n), dtype="string"),
    })


@pytest.mark.parametrize("feature", ["mixed", "words", "ward", "flag", "code"])
def test_categorical_levels_are_counted_as_the_plain_value_counts(feature: str) -> None:
    rng = np.random.default_rng(32)
    reference, current = _columns(rng, 3000, 0.0), _columns(rng, 2000, 0.05)
    report = compare_features(reference, current, features=[feature])
    psi, cramers_v = _plain_psi_and_cramers_v(reference[feature], current[feature])
    got = {r.method: r for r in report.records}
    assert got["psi"].statistic == pytest.approx(psi, abs=1e-12)
    assert got["cramers_v"].statistic == pytest.approx(cramers_v, abs=1e-12)
    assert got["psi"].n_reference == reference[feature].notna().sum()
    missing = current[feature].isna().mean() - reference[feature].isna().mean()
    assert got["missing_share"].statistic == pytest.approx(abs(missing), abs=1e-15)


def test_counts_of_raw_values_group_as_value_counts_does() -> None:
    ref = np.array([1, True, 1.0, "1", "a", None], dtype=object)
    cur = np.array(["a", "a", "1", 2], dtype=object)
    r, c = counts(ref, cur)
    assert sorted(zip(r, c, strict=True)) == [(0.0, 1.0), (1.0, 1.0), (1.0, 2.0), (3.0, 0.0)]


def test_the_report_does_not_depend_on_the_threads() -> None:
    rng = np.random.default_rng(33)
    n = 25_000
    reference = pd.concat([_columns(rng, n, 0.0),
                           pd.DataFrame({f"x{j}": rng.normal(0, 1, n) for j in range(4)})],
                          axis=1)
    current = pd.concat([_columns(rng, n, 0.05),
                         pd.DataFrame({f"x{j}": rng.normal(0.02 * j, 1, n) for j in range(4)})],
                        axis=1)
    frames = [compare_features(reference, current, n_threads=t).to_frame() for t in (1, 3)]
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)
    assert list(dict.fromkeys(frames[0]["feature"])) == list(reference.columns)


def test_n_threads_below_one_is_bad_input() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="n_threads"):
        compare_features(frame, frame, n_threads=0)


def test_a_categorical_column_missing_throughout_is_named() -> None:
    reference = pd.DataFrame({"ward": ["icu", "med", None]})
    current = pd.DataFrame({"ward": pd.Series([None, None, None], dtype=object)})
    with pytest.raises(InputError, match="'ward' has no non-missing value in the current data"):
        compare_features(reference, current)
