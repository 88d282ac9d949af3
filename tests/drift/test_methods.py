"""Each drift method against an independent computation, and the registry's facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from assay.drift import (
    cramers_v,
    get_drift_method,
    hellinger,
    jensen_shannon,
    ks_statistic,
    list_drift_methods,
    psi,
    register_drift_method,
    wasserstein_normalised,
)
from assay.drift._methods import counts, reference_bins

RNG = np.random.default_rng(11)
REF = RNG.normal(0.0, 1.0, 3000)
CUR = RNG.normal(0.3, 1.2, 2500)
REF_LEVELS = RNG.choice(np.array(["a", "b", "c"], dtype=object), 2000, p=[0.5, 0.3, 0.2])
CUR_LEVELS = RNG.choice(np.array(["a", "b", "c", "d"], dtype=object), 1800,
                        p=[0.4, 0.3, 0.2, 0.1])


def _decile_proportions(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Independent binning: pandas.cut with the reference deciles and open outer bins.
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    bins = np.r_[-np.inf, edges, np.inf]
    p = pd.Series(pd.cut(ref, bins)).value_counts(sort=False).to_numpy() / ref.size
    q = pd.Series(pd.cut(cur, bins)).value_counts(sort=False).to_numpy() / cur.size
    return p, q


def test_registry_lists_every_method_with_kinds_and_effect_size_thresholds() -> None:
    assert list_drift_methods() == ["cramers_v", "hellinger", "jensen_shannon", "ks", "psi",
                                    "wasserstein"]
    assert list_drift_methods("categorical") == ["cramers_v", "hellinger", "jensen_shannon",
                                                 "psi"]
    assert get_drift_method("psi").threshold == 0.2
    assert get_drift_method("jensen_shannon").threshold == 0.1
    assert get_drift_method("ks").has_p_value and not get_drift_method("psi").has_p_value
    with pytest.raises(KeyError, match=r"unknown drift method 'kl'.*psi"):
        get_drift_method("kl")


def test_registering_a_second_method_with_a_taken_name_fails() -> None:
    spec = get_drift_method("psi")
    assert register_drift_method(spec) is spec
    with pytest.raises(ValueError, match="already registered"):
        register_drift_method(type(spec)(name="psi", fn=psi, title="x",
                                         kinds=frozenset({"numeric"}), threshold=0.1,
                                         definition="x"))


def test_psi_by_hand_on_known_bins() -> None:
    # Reference 0..99: deciles fall at 9.9, 19.8, ...; current piles into the top bins.
    ref = np.arange(100, dtype=float)
    cur = np.r_[np.full(50, 5.0), np.full(30, 95.0), np.full(20, 200.0)]
    r = np.full(10, 0.1)
    c = np.r_[0.5, np.full(8, 1e-4), 0.5]  # 30 + 20 rows above the top decile, empty middle
    c_raw = np.r_[0.5, np.zeros(8), 0.5]
    assert np.allclose(np.maximum(c_raw, 1e-4), c)
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert psi(ref, cur) == pytest.approx(expected, abs=1e-9)


def test_psi_numeric_and_categorical_match_the_formula() -> None:
    p, q = _decile_proportions(REF, CUR)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert psi(REF, CUR) == pytest.approx(float(np.sum((q - p) * np.log(q / p))), abs=1e-9)
    p = np.array([np.mean(REF_LEVELS == x) for x in "abcd"])
    q = np.array([np.mean(CUR_LEVELS == x) for x in "abcd"])
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert psi(REF_LEVELS, CUR_LEVELS) == pytest.approx(
        float(np.sum((q - p) * np.log(q / p))), abs=1e-9)


def test_jensen_shannon_matches_scipy() -> None:
    p, q = _decile_proportions(REF, CUR)
    assert jensen_shannon(REF, CUR) == pytest.approx(distance.jensenshannon(p, q, base=2),
                                                     abs=1e-9)
    p = np.array([np.mean(REF_LEVELS == x) for x in "abcd"])
    q = np.array([np.mean(CUR_LEVELS == x) for x in "abcd"])
    assert jensen_shannon(REF_LEVELS, CUR_LEVELS) == pytest.approx(
        distance.jensenshannon(p, q, base=2), abs=1e-9)


def test_hellinger_matches_the_euclidean_form() -> None:
    p, q = _decile_proportions(REF, CUR)
    expected = float(np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / np.sqrt(2))
    assert hellinger(REF, CUR) == pytest.approx(expected, abs=1e-9)
    assert hellinger(REF, REF) == pytest.approx(0.0, abs=1e-9)


def test_wasserstein_is_scipy_distance_over_reference_sd() -> None:
    expected = stats.wasserstein_distance(REF, CUR) / np.std(REF)
    assert wasserstein_normalised(REF, CUR) == pytest.approx(expected, abs=1e-9)
    assert wasserstein_normalised(np.ones(5), np.full(5, 3.0)) == pytest.approx(2.0)


def test_ks_statistic_and_p_value_match_scipy() -> None:
    result = stats.ks_2samp(REF, CUR)
    spec = get_drift_method("ks")
    assert ks_statistic(REF, CUR) == pytest.approx(result.statistic, abs=1e-9)
    assert spec.p_value is not None
    assert spec.p_value(REF, CUR) == pytest.approx(result.pvalue, rel=1e-9, abs=1e-300)


def test_cramers_v_matches_chi2_contingency() -> None:
    table = np.array([[np.sum(REF_LEVELS == x) for x in "abcd"],
                      [np.sum(CUR_LEVELS == x) for x in "abcd"]])
    table = table[:, table.sum(axis=0) > 0]
    result = stats.chi2_contingency(table, correction=False)
    assert cramers_v(REF_LEVELS, CUR_LEVELS) == pytest.approx(
        np.sqrt(result.statistic / table.sum()), abs=1e-9)
    spec = get_drift_method("cramers_v")
    assert spec.p_value is not None
    assert spec.p_value(REF_LEVELS, CUR_LEVELS) == pytest.approx(result.pvalue, rel=1e-9,
                                                                 abs=1e-300)


def test_values_outside_the_reference_range_land_in_the_outer_bins() -> None:
    ref = np.arange(100, dtype=float)
    assert reference_bins(ref).size == 9
    ref_counts, cur_counts = counts(ref, np.array([-1e9, 1e9]))
    assert ref_counts.sum() == 100 and cur_counts[0] == 1 and cur_counts[-1] == 1


@pytest.mark.parametrize("name", ["psi", "jensen_shannon", "hellinger", "wasserstein", "ks"])
def test_numeric_methods_ignore_row_order(name: str) -> None:
    fn = get_drift_method(name).fn
    assert fn(REF[::-1], CUR[::-1]) == pytest.approx(fn(REF, CUR), abs=1e-12)


@pytest.mark.parametrize("name", ["psi", "jensen_shannon", "hellinger", "cramers_v"])
def test_categorical_methods_ignore_level_names(name: str) -> None:
    fn = get_drift_method(name).fn
    rename = {"a": "z", "b": "y", "c": "x", "d": "w"}
    renamed = (np.array([rename[v] for v in REF_LEVELS], dtype=object),
               np.array([rename[v] for v in CUR_LEVELS], dtype=object))
    assert fn(*renamed) == pytest.approx(fn(REF_LEVELS, CUR_LEVELS), abs=1e-12)
