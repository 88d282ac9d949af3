"""DeLong's interval and test: small exact cases, weights, edge cases, and invariances."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import Estimate
from assay.metrics._delong import delong_components
from assay.metrics.intervals import delong_auroc_ci, delong_test


def _textbook_variance(y: NDArray[np.int64], score: NDArray[np.float64]) -> tuple[float, float]:
    x, c = score[y == 1], score[y == 0]
    psi = (x[:, None] > c[None, :]) + 0.5 * (x[:, None] == c[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / x.size + v01.var(ddof=1) / c.size)


def _bounds(est: Estimate) -> tuple[float, float]:
    assert est.ci_low is not None and est.ci_high is not None
    return est.ci_low, est.ci_high


def test_a_hand_checked_example_with_a_tie() -> None:
    # cases 0.35, 0.8, 0.7 and controls 0.1, 0.4, 0.2, 0.35: pairs won 3+4+4 with one tie
    y = [0, 0, 1, 1, 0, 1, 0]
    score = [0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.35]
    est = delong_auroc_ci(y, score)
    assert est.value == pytest.approx((2.5 + 4 + 4) / 12)
    auc, variance = _textbook_variance(np.array(y), np.array(score))
    assert est.value == pytest.approx(auc, abs=1e-15)
    low, high = _bounds(est)
    assert est.value - low == pytest.approx(1.959963984540054 * variance**0.5, abs=1e-12)
    assert high == 1.0  # clipped
    assert (est.n, est.n_events, est.method) == (7, 3, "delong")


def test_the_interval_is_clipped_to_the_unit_interval() -> None:
    y = [0, 0, 0, 1, 1, 0, 1, 1]
    score = [0.1, 0.2, 0.3, 0.9, 0.8, 0.4, 0.7, 0.35]
    est = delong_auroc_ci(y, score)
    low, high = _bounds(est)
    assert est.value > 0.9
    assert high == 1.0
    assert 0 <= low < est.value


def test_perfect_separation_gives_the_degenerate_interval() -> None:
    est = delong_auroc_ci([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert (est.value, est.ci_low, est.ci_high) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(("y", "reason"), [([0, 0, 0, 1], "2 positive"), ([1, 1, 1, 0], "2 pos")])
def test_fewer_than_two_in_a_class_is_undefined(y: list[int], reason: str) -> None:
    with pytest.raises(UndefinedMetricError, match=reason):
        delong_auroc_ci(y, [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(UndefinedMetricError):
        delong_test(y, [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1])


def test_integer_weights_equal_repeated_rows_and_zero_weight_drops_a_row() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 60)
    score = np.round(rng.normal(size=60) + y, 1)
    weights = rng.integers(0, 4, 60)
    repeated = np.repeat(np.arange(60), weights)
    weighted = delong_auroc_ci(y, score, sample_weight=weights)
    expanded = delong_auroc_ci(y[repeated], score[repeated])
    assert weighted.value == pytest.approx(expanded.value, abs=1e-14)
    assert weighted.ci_low == pytest.approx(expanded.ci_low, abs=1e-12)
    assert weighted.ci_high == pytest.approx(expanded.ci_high, abs=1e-12)
    other = rng.normal(size=60)
    test_w = delong_test(y, score, other, sample_weight=weights)
    test_x = delong_test(y[repeated], score[repeated], other[repeated])
    assert test_w.p_value == pytest.approx(test_x.p_value, rel=1e-10)
    assert test_w.ci_low == pytest.approx(test_x.ci_low, abs=1e-12)


def test_non_integer_weights_are_refused_with_a_pointer_to_the_bootstrap() -> None:
    with pytest.raises(InputError, match="bootstrap"):
        delong_auroc_ci([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], sample_weight=[1.0, 0.5, 1.0, 2.0])


def test_bad_inputs_are_input_errors() -> None:
    with pytest.raises(InputError, match="0/1"):
        delong_auroc_ci([0, 2, 1, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(InputError, match="NaN"):
        delong_auroc_ci([0, 0, 1, 1], [0.1, np.nan, 0.3, 0.4])
    with pytest.raises(InputError, match="lengths"):
        delong_test([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="level"):
        delong_auroc_ci([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], level=95)


def test_identical_scores_differ_by_zero_with_p_one() -> None:
    y = [0, 1, 0, 1, 1, 0]
    score = [0.3, 0.6, 0.2, 0.5, 0.4, 0.45]
    result = delong_test(y, score, score, a="new", b="old")
    assert (result.difference, result.ci_low, result.ci_high, result.p_value) == (0, 0, 0, 1)
    assert (result.a, result.b, result.metric, result.method) == ("new", "old", "auroc", "delong")


def test_swapping_the_scores_negates_the_difference() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 200)
    a, b = y + rng.normal(size=200), y + 2 * rng.normal(size=200)
    ab, ba = delong_test(y, a, b), delong_test(y, b, a)
    assert ab.difference == pytest.approx(-ba.difference, abs=1e-15)
    assert ab.p_value == pytest.approx(ba.p_value, rel=1e-12)
    assert (ab.ci_low, ab.ci_high) == pytest.approx((-ba.ci_high, -ba.ci_low), abs=1e-12)
    assert ab.value_a == pytest.approx(delong_auroc_ci(y, a).value, abs=1e-15)


def test_components_of_several_scores_are_row_aligned() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 300)
    scores = np.vstack([y + rng.normal(size=300), rng.normal(size=300), -y + rng.normal(size=300)])
    components = delong_components(y, scores)
    for k in range(3):
        auc, variance = _textbook_variance(y, scores[k])
        assert components.auc[k] == pytest.approx(auc, abs=1e-14)
        assert components.covariance[k, k] == pytest.approx(variance, rel=1e-12)
    # the covariance matrix is symmetric and positive semi-definite
    assert np.allclose(components.covariance, components.covariance.T)
    assert np.linalg.eigvalsh(components.covariance).min() > -1e-15


# --- Hypothesis: invariance under row permutation and strictly increasing transforms ---------

_rows = st.integers(min_value=4, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda v: 2 <= sum(v) <= n - 2),
        st.lists(st.integers(-6, 6), min_size=n, max_size=n),  # small integers: many ties
        st.lists(st.integers(-6, 6), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)

Transform = Callable[[NDArray[np.float64]], NDArray[np.float64]]
Rows = tuple[list[int], list[int], list[int], Random]

_TRANSFORMS: dict[str, Transform] = {
    "affine": lambda s: 3.0 * s - 7.0,
    "cubic": lambda s: s**3 + s,
    "exp": lambda s: np.exp(s / 2.0),
    "logistic": lambda s: 1.0 / (1.0 + np.exp(-s / 3.0)),
}


def _summary_ci(y: NDArray[np.int64], s: NDArray[np.float64]) -> tuple[float, float, float]:
    est = delong_auroc_ci(y, s)
    return (est.value, *_bounds(est))


@settings(max_examples=60, deadline=None)
@given(_rows)
def test_row_permutation_changes_nothing(data: Rows) -> None:
    y_list, a_list, b_list, random = data
    y, a, b = np.array(y_list), np.array(a_list, float), np.array(b_list, float)
    order = np.array(random.sample(range(y.size), y.size))
    assert _summary_ci(y[order], a[order]) == _summary_ci(y, a)
    try:
        before = delong_test(y, a, b)
    except UndefinedMetricError:
        return  # a non-zero difference with zero variance: undefined either way
    after = delong_test(y[order], a[order], b[order])
    assert after.difference == pytest.approx(before.difference, abs=1e-14)
    assert after.p_value == pytest.approx(before.p_value, rel=1e-9, abs=1e-14)
    assert after.ci_low == pytest.approx(before.ci_low, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(_rows, st.sampled_from(sorted(_TRANSFORMS)))
def test_strictly_increasing_transforms_change_nothing(data: Rows, name: str) -> None:
    y_list, a_list, b_list, _ = data
    y, a, b = np.array(y_list), np.array(a_list, float), np.array(b_list, float)
    transform = _TRANSFORMS[name]
    assert _summary_ci(y, transform(a)) == _summary_ci(y, a)
    try:
        before = delong_test(y, a, b)
    except UndefinedMetricError:
        return
    after = delong_test(y, transform(a), transform(b))
    assert after.difference == before.difference
    assert after.p_value == pytest.approx(before.p_value, rel=1e-12, abs=1e-15)
