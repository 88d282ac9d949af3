"""The drift statistics of ``compare_features`` against scipy and written-out formulas.

Real data, two splits:

* scikit-learn's breast cancer data (569 tumours): the first 284 rows in the file's order as
  the reference, the other 285 as the current sample, on six continuous features;
* the SUPPORT2 cohort (survset): men as the reference, women as the current sample, on numeric
  features (some with missing values, the coma score with heavy ties) and on five categorical
  ones (race, disease group, income, cancer, DNR status).

Every statistic must agree to 1e-9 with the peer, computed here from the data without Assay's
binning code:

* the histogram methods (PSI, Jensen–Shannon, Hellinger) on bins rebuilt with ``pandas.cut``
  at the distinct reference deciles, intervals closed on the right (categorical: per level,
  from ``pandas.crosstab``); PSI written out as ``Σ (c − r) ln(c / r)``; Jensen–Shannon from
  ``scipy.spatial.distance.jensenshannon(base=2)``; Hellinger as ``‖√r − √c‖₂ / √2``;
* Wasserstein: ``scipy.stats.wasserstein_distance`` divided by the reference SD (``ddof=0``,
  Assay's normaliser), and the same distance integrated from the two ECDFs by hand;
* KS: ``scipy.stats.ks_2samp`` (statistic and p-value);
* Cramér's V: ``scipy.stats.contingency.association(method="cramer")`` of the sample × level
  table, and the p-value of ``scipy.stats.chi2_contingency`` without continuity correction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.stats.contingency import association
from sklearn.datasets import load_breast_cancer

from assay.drift import DriftReport, compare_features

TOLERANCE = 1e-9
NUMERIC_METHODS = ["psi", "jensen_shannon", "hellinger", "wasserstein", "ks"]
CATEGORICAL_METHODS = ["psi", "jensen_shannon", "hellinger", "cramers_v"]
BREAST_CANCER_FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean concavity",
                          "worst area", "worst symmetry"]
SUPPORT2_NUMERIC = ["num_age", "num_meanbp", "num_scoma", "num_pafi", "num_alb", "num_sod"]
SUPPORT2_CATEGORICAL = ["fac_race", "fac_dzgroup", "fac_income", "fac_ca", "fac_dnr"]

FloatArray = NDArray[np.float64]
Split = tuple[pd.DataFrame, pd.DataFrame]


@pytest.fixture(scope="module")
def breast_cancer_halves() -> Split:
    frame = load_breast_cancer(as_frame=True).frame
    half = len(frame) // 2
    return frame.iloc[:half], frame.iloc[half:]


@pytest.fixture(scope="module")
def support2_by_sex(support2_frame: pd.DataFrame) -> Split:
    male = (support2_frame["fac_sex"] == "male").to_numpy()
    return support2_frame[male], support2_frame[~male]


def _report(split: Split, numeric: list[str], categorical: list[str]) -> DriftReport:
    reference, current = split
    return compare_features(reference, current, features=numeric + categorical,
                            methods={"numeric": NUMERIC_METHODS,
                                     "categorical": CATEGORICAL_METHODS},
                            multiplicity="none")


def _proportions(reference: pd.Series, current: pd.Series) -> tuple[FloatArray, FloatArray]:
    """Bin (numeric) or level (categorical) proportions, rebuilt without Assay's code."""
    reference, current = reference.dropna(), current.dropna()
    if pd.api.types.is_numeric_dtype(reference):
        edges = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
        cuts = np.r_[-np.inf, edges, np.inf]
        ref_bins = pd.cut(reference, cuts, right=True, labels=False)
        cur_bins = pd.cut(current, cuts, right=True, labels=False)
        levels = np.arange(cuts.size - 1)
        ref_counts = ref_bins.value_counts().reindex(levels, fill_value=0)
        cur_counts = cur_bins.value_counts().reindex(levels, fill_value=0)
        table = np.vstack([ref_counts.to_numpy(), cur_counts.to_numpy()]).astype(np.float64)
    else:
        table = _table(reference, current)
    return table[0] / table[0].sum(), table[1] / table[1].sum()


def _table(reference: pd.Series, current: pd.Series) -> FloatArray:
    """Sample × level counts of a categorical feature (levels seen in either sample)."""
    sample = np.r_[np.zeros(len(reference), int), np.ones(len(current), int)]
    levels = np.r_[reference.astype(str).to_numpy(), current.astype(str).to_numpy()]
    return pd.crosstab(sample, levels).to_numpy(dtype=np.float64)


def _wasserstein_by_ecdf(reference: FloatArray, current: FloatArray) -> float:
    """∫ |F_ref(x) − F_cur(x)| dx, exactly, over the merged sorted values."""
    grid = np.sort(np.r_[reference, current])
    ref_cdf = np.searchsorted(np.sort(reference), grid[:-1], side="right") / reference.size
    cur_cdf = np.searchsorted(np.sort(current), grid[:-1], side="right") / current.size
    return float(np.sum(np.abs(ref_cdf - cur_cdf) * np.diff(grid)))


def _peer(method: str, reference: pd.Series, current: pd.Series) -> tuple[float, float | None]:
    """The peer's statistic and p-value for one feature."""
    if method in {"psi", "jensen_shannon", "hellinger"}:
        r, c = _proportions(reference, current)
        if method == "psi":
            r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
            return float(np.sum((c - r) * np.log(c / r))), None
        if method == "jensen_shannon":
            return float(jensenshannon(r, c, base=2)), None
        return float(np.linalg.norm(np.sqrt(r) - np.sqrt(c)) / np.sqrt(2)), None
    if method == "cramers_v":
        table = _table(reference.dropna(), current.dropna())
        chi2 = stats.chi2_contingency(table, correction=False)
        cramer = association(table.astype(np.int64), method="cramer", correction=False)
        return float(cramer), float(chi2.pvalue)
    ref = reference.dropna().to_numpy(np.float64)
    cur = current.dropna().to_numpy(np.float64)
    if method == "wasserstein":
        return float(stats.wasserstein_distance(ref, cur) / np.std(ref)), None
    ks = stats.ks_2samp(ref, cur)
    return float(ks.statistic), float(ks.pvalue)


def _check_against_peers(report: DriftReport, split: Split) -> int:
    reference, current = split
    checked = 0
    for record in report.records:
        if record.method == "missing_share":
            continue
        statistic, p_value = _peer(record.method, reference[record.feature],
                                   current[record.feature])
        assert abs(record.statistic - statistic) <= TOLERANCE, (record.feature, record.method)
        if p_value is not None:
            assert record.p_value is not None
            assert abs(record.p_value - p_value) <= TOLERANCE, (record.feature, record.method)
        checked += 1
    return checked


def test_breast_cancer_first_half_against_second_half(breast_cancer_halves: Split) -> None:
    report = _report(breast_cancer_halves, BREAST_CANCER_FEATURES, [])
    assert _check_against_peers(report, breast_cancer_halves) == 6 * len(NUMERIC_METHODS)
    # The file's two halves differ: the statistics are not all near zero.
    assert max(r.statistic for r in report.records if r.method == "psi") > 0.05


def test_support2_men_against_women(support2_by_sex: Split) -> None:
    report = _report(support2_by_sex, SUPPORT2_NUMERIC, SUPPORT2_CATEGORICAL)
    expected = 6 * len(NUMERIC_METHODS) + 5 * len(CATEGORICAL_METHODS)
    assert _check_against_peers(report, support2_by_sex) == expected
    reference = support2_by_sex[0]
    assert reference["num_pafi"].isna().any()  # missing values were dropped, not compared
    pafi = next(r for r in report.records if r.feature == "num_pafi" and r.method == "ks")
    assert pafi.n_reference == reference["num_pafi"].notna().sum()


@pytest.mark.parametrize("feature", BREAST_CANCER_FEATURES)
def test_wasserstein_matches_the_ecdf_integral(breast_cancer_halves: Split,
                                               feature: str) -> None:
    reference, current = breast_cancer_halves
    ref = reference[feature].to_numpy(np.float64)
    cur = current[feature].to_numpy(np.float64)
    report = compare_features(reference, current, features=[feature], methods=["wasserstein"])
    (record,) = (r for r in report.records if r.method == "wasserstein")
    assert abs(record.statistic - _wasserstein_by_ecdf(ref, cur) / np.std(ref)) <= TOLERANCE
