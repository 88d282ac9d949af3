"""The domain classifier: AUROC near 0.5 without drift, high with it, shifted feature first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.drift import domain_classifier
from assay.errors import InputError


def _cohort(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    frame = pd.DataFrame({
        "age": rng.normal(62.0, 12.0, n),
        "sodium": rng.normal(139.0 + shift, 3.0, n),
        "ward": rng.choice(["med", "surg", "icu"], n),
    })
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    return frame


def test_same_distribution_gives_an_auroc_whose_interval_contains_one_half() -> None:
    rng = np.random.default_rng(21)
    result = domain_classifier(_cohort(rng, 1500), _cohort(rng, 1500), folds=3)
    assert result.auroc.ci_low is not None and result.auroc.ci_high is not None
    assert result.auroc.ci_low < 0.5 < result.auroc.ci_high
    assert not result.drifted
    assert result.auroc.n == 3000 and result.auroc.method == "delong"
    assert "cannot reliably" in result.summary()


def test_a_shifted_feature_is_detected_and_ranked_first() -> None:
    rng = np.random.default_rng(22)
    result = domain_classifier(_cohort(rng, 1500), _cohort(rng, 1500, shift=3.0), folds=3)
    assert result.auroc.value > 0.7  # theory for a 1-SD shift: 0.76
    assert result.drifted
    assert result.top_features(1) == ["sodium"]
    assert result.importances[0].importance > 0.1
    assert {f.feature for f in result.importances} == {"age", "sodium", "ward"}


def test_too_few_rows_for_the_folds_is_bad_input() -> None:
    rng = np.random.default_rng(23)
    with pytest.raises(InputError, match="at least 5 rows"):
        domain_classifier(_cohort(rng, 3), _cohort(rng, 100))


def test_importances_are_the_first_folds_permutation_importances() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(24)
    reference, current = (_cohort(rng, 600, shift=s)[["age", "sodium"]] for s in (0.0, 2.0))
    result = domain_classifier(reference, current, folds=3, seed=5, n_repeats=2)
    design = pd.concat([reference, current], ignore_index=True).to_numpy(dtype=np.float64)
    target = np.r_[np.zeros(600, dtype=int), np.ones(600, dtype=int)]
    train, test = next(StratifiedKFold(n_splits=3, shuffle=True, random_state=5)
                       .split(design, target))
    model = HistGradientBoostingClassifier(categorical_features=[False, False], random_state=5)
    model.fit(design[train], target[train])
    expected = permutation_importance(model, design[test], target[test], scoring="roc_auc",
                                      n_repeats=2, random_state=5).importances_mean
    got = {f.feature: f.importance for f in result.importances}
    assert got == pytest.approx({"age": expected[0], "sodium": expected[1]}, abs=1e-12)
    assert result.top_features(1) == ["sodium"]


def test_n_repeats_below_one_is_bad_input() -> None:
    rng = np.random.default_rng(25)
    with pytest.raises(InputError, match="n_repeats"):
        domain_classifier(_cohort(rng, 100), _cohort(rng, 100), n_repeats=0)
