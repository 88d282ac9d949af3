"""Holm and Benjamini–Hochberg adjustments: hand cases, ties, validation and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from assay.errors import InputError
from assay.subgroups._multiplicity import adjust, benjamini_hochberg, holm

METHODS = [holm, benjamini_hochberg]

p_lists = st.lists(
    st.one_of(
        st.floats(0.0, 1.0, allow_nan=False),
        st.sampled_from([0.0, 0.01, 0.05, 0.5, 1.0]),  # favours ties
    ),
    min_size=1,
    max_size=30,
)


def test_holm_by_hand() -> None:
    # sorted: 0.005, 0.01, 0.03, 0.04 -> ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04
    # running max: 0.02, 0.03, 0.06, 0.06
    result = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(result, [0.03, 0.06, 0.06, 0.02], rtol=1e-14)


def test_bh_by_hand() -> None:
    # sorted: 0.005, 0.01, 0.03, 0.04 -> ×4/1, ×4/2, ×4/3, ×4/4 = 0.02, 0.02, 0.04, 0.04
    # running min from the top: 0.02, 0.02, 0.04, 0.04
    result = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(result, [0.02, 0.04, 0.04, 0.02], rtol=1e-14)


def test_bh_step_up_pulls_down_and_caps() -> None:
    # raw: 0.02×3 = 0.06, 0.04×3/2 = 0.06, 0.045×3/3 = 0.045 -> min from top: 0.045 each
    np.testing.assert_allclose(benjamini_hochberg([0.02, 0.04, 0.045]), [0.045] * 3, rtol=1e-14)
    np.testing.assert_allclose(benjamini_hochberg([0.9, 0.6]), [0.9, 0.9], rtol=1e-14)


def test_holm_caps_at_one() -> None:
    np.testing.assert_allclose(holm([0.3, 0.6, 0.2]), [0.6, 0.6, 0.6], rtol=1e-14)
    np.testing.assert_array_equal(holm([0.5, 0.7, 0.9]), [1.0, 1.0, 1.0])


def test_ties_get_equal_values() -> None:
    p = [0.02, 0.01, 0.02, 0.02]
    # Holm sorted: 0.01×4 = 0.04, 0.02×3 = 0.06, then running max 0.06 -> ties all 0.06
    np.testing.assert_allclose(holm(p), [0.06, 0.04, 0.06, 0.06], rtol=1e-14)
    # BH sorted: 0.04, 0.04, 0.02×4/3, 0.02 -> min from top: 0.02, 0.02, 0.02, 0.02
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02] * 4, rtol=1e-14)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", [0.0, 0.037, 1.0])
def test_single_p_value_unchanged(method: object, value: float) -> None:
    assert callable(method)
    np.testing.assert_array_equal(method([value]), [value])


@pytest.mark.parametrize("method", METHODS)
def test_empty_gives_empty(method: object) -> None:
    assert callable(method)
    result = method([])
    assert isinstance(result, np.ndarray)
    assert result.shape == (0,)
    assert result.dtype == np.float64


def test_adjust_dispatches() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_array_equal(adjust(p, "holm"), holm(p))
    np.testing.assert_array_equal(adjust(p, "bh"), benjamini_hochberg(p))
    with pytest.raises(InputError, match="unknown multiplicity method 'bonferroni'"):
        adjust(p, "bonferroni")  # type: ignore[arg-type]


def test_input_not_modified() -> None:
    p = np.array([0.04, 0.01, 0.03])
    holm(p)
    benjamini_hochberg(p)
    np.testing.assert_array_equal(p, [0.04, 0.01, 0.03])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("p", "message"),
    [
        ([0.1, 0.2, 0.3, 1.2], r"p-values must lie in \[0, 1\] \(found 1.2 at index 3\)"),
        ([0.1, -0.01], r"p-values must lie in \[0, 1\] \(found -0.01 at index 1\)"),
        ([0.1, float("nan")], r"p-values must be finite \(found nan at index 1\)"),
        ([float("inf")], r"p-values must be finite \(found inf at index 0\)"),
        ([[0.1, 0.2]], r"p-values must be a 1-D array \(got 2 dimensions\)"),
        (0.5, r"p-values must be a 1-D array \(got 0 dimensions\)"),
        (["a", "b"], r"p-values must be numbers"),
    ],
)
def test_invalid_input_named(method: object, p: object, message: str) -> None:
    assert callable(method)
    with pytest.raises(InputError, match=message):
        method(p)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=200, deadline=None)
@given(p=p_lists, data=st.data())
def test_order_invariance(method: object, p: list[float], data: st.DataObject) -> None:
    assert callable(method)
    perm = np.array(data.draw(st.permutations(range(len(p)))), dtype=np.int64)
    arr = np.asarray(p)
    np.testing.assert_array_equal(method(arr[perm]), method(arr)[perm])


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=200, deadline=None)
@given(p=p_lists)
def test_monotone_and_bounded(method: object, p: list[float]) -> None:
    assert callable(method)
    arr = np.asarray(p)
    adjusted: NDArray[np.float64] = method(arr)
    assert adjusted.shape == arr.shape
    order = np.argsort(arr, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0.0)
    assert np.all(adjusted >= arr)
    assert np.all(adjusted <= 1.0)
    # equal p-values get equal adjusted values
    for value in np.unique(arr):
        assert np.unique(adjusted[arr == value]).size == 1


@settings(max_examples=200, deadline=None)
@given(p=p_lists)
def test_bh_never_above_holm(p: list[float]) -> None:
    assert np.all(benjamini_hochberg(p) <= holm(p) + 1e-15)
