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
