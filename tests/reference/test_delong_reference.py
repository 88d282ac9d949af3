"""The fast DeLong against the textbook O(m·n) DeLong on real data, to 1e-9.

The reference below is written the slow, obvious way from DeLong, DeLong & Clarke-Pearson
(1988): the full case-by-control kernel matrix ``ψ``, its row and column means (the structural
components), their sample covariances, and the z statistic of the difference. Data:

* scikit-learn's breast cancer data: two logistic regressions on different feature subsets
  (the "mean" and the "worst" measurements), fitted on one half and scoring the other;
* SUPPORT2 (survset): death within 180 days against the physiology score (604 values), one
  minus the SUPPORT model's 6-month survival estimate (936 values), and the coma score
  (11 values: heavy ties) against age.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from SurvSet.data import SurvLoader

from assay.metrics._delong import delong_components
from assay.metrics.intervals import delong_auroc_ci, delong_test

TOLERANCE = 1e-9
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Pair:
    name: str
    y: NDArray[np.int64]
    a: FloatArray
    b: FloatArray


@dataclass(frozen=True)
class Reference:
    auc: FloatArray
    covariance: FloatArray


def textbook_delong(y: NDArray[np.int64], scores: FloatArray) -> Reference:
    """DeLong et al. (1988), equations for V10, V01, S10, S01, with the full kernel matrix."""
    k = scores.shape[0]
    cases, controls = scores[:, y == 1], scores[:, y == 0]
    m, n = cases.shape[1], controls.shape[1]
    v10, v01 = np.zeros((k, m)), np.zeros((k, n))
    for r in range(k):
        for start in range(0, m, 500):  # chunks of cases keep the m x n matrix small
            x = cases[r, start : start + 500, None]
            psi = (x > controls[r, None, :]) + 0.5 * (x == controls[r, None, :])
            v10[r, start : start + 500] = psi.sum(axis=1) / n
            v01[r] += psi.sum(axis=0) / m
    auc = v10.mean(axis=1)
    s10 = np.array(
        [
            [np.sum((v10[i] - auc[i]) * (v10[j] - auc[j])) / (m - 1) for j in range(k)]
            for i in range(k)
        ]
    )
    s01 = np.array(
        [
            [np.sum((v01[i] - auc[i]) * (v01[j] - auc[j])) / (n - 1) for j in range(k)]
            for i in range(k)
        ]
    )
    return Reference(auc=auc, covariance=s10 / m + s01 / n)


def _breast_cancer() -> Pair:
    data = load_breast_cancer()
    x, y = data.data, data.target.astype(np.int64)
    train = np.random.default_rng(3).permutation(y.size) < y.size // 2
    scores = []
    for columns in (slice(0, 10), slice(20, 30)):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=5000))
        model.fit(x[train][:, columns], y[train])
        scores.append(model.predict_proba(x[~train][:, columns])[:, 1])
    return Pair("breast_cancer", y[~train], scores[0], scores[1])


def _support2() -> tuple[Pair, Pair]:
    with warnings.catch_warnings():
        # survset's pickle references numpy.core, which numpy 2 reports as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = SurvLoader().load_dataset("support2")["df"]
    frame = frame.dropna(subset=["num_sps", "num_surv6m", "num_scoma", "num_age"])
    y = ((frame["event"] == 1) & (frame["time"] <= 180)).to_numpy(np.int64)
    physiology = frame["num_sps"].to_numpy(np.float64)
    model_risk = 1.0 - frame["num_surv6m"].to_numpy(np.float64)
    coma = frame["num_scoma"].to_numpy(np.float64)
    age = frame["num_age"].to_numpy(np.float64)
    return Pair("support2", y, physiology, model_risk), Pair("support2_coma", y, coma, age)


@pytest.fixture(scope="module", params=["breast_cancer", "support2", "support2_coma"])
def pair(request: pytest.FixtureRequest) -> Pair:
    if request.param == "breast_cancer":
        return _breast_cancer()
    support2, coma = _support2()
    return support2 if request.param == "support2" else coma


@pytest.fixture(scope="module")
def reference(pair: Pair) -> Reference:
    return textbook_delong(pair.y, np.vstack([pair.a, pair.b]))


def test_the_data_is_what_the_test_claims(pair: Pair) -> None:
    assert 0.05 < pair.y.mean() < 0.95
    distinct = np.unique(pair.a).size
    if pair.name == "support2_coma":
        assert distinct <= 11  # heavy ties
    elif pair.name == "support2":
        assert distinct < pair.y.size / 5  # many ties
    assert abs(np.corrcoef(pair.a, pair.b)[0, 1]) < 0.99  # two different scores


def test_auc_variance_and_covariance_match_the_textbook(pair: Pair, reference: Reference) -> None:
    ours = delong_components(pair.y, np.vstack([pair.a, pair.b]))
    np.testing.assert_allclose(ours.auc, reference.auc, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours.covariance, reference.covariance, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours.covariance, reference.covariance, rtol=1e-9)
    for score, auc in zip((pair.a, pair.b), reference.auc, strict=True):
        assert roc_auc_score(pair.y, score) == pytest.approx(auc, abs=TOLERANCE)


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_single_auroc_interval_matches_the_textbook(
    pair: Pair, reference: Reference, level: float
) -> None:
    z = stats.norm.ppf(0.5 + level / 2)
    for k, score in enumerate((pair.a, pair.b)):
        est = delong_auroc_ci(pair.y, score, level)
        half = z * np.sqrt(reference.covariance[k, k])
        assert est.value == pytest.approx(reference.auc[k], abs=TOLERANCE)
        assert est.ci_low == pytest.approx(max(0.0, reference.auc[k] - half), abs=TOLERANCE)
        assert est.ci_high == pytest.approx(min(1.0, reference.auc[k] + half), abs=TOLERANCE)
        assert (est.n, est.n_events, est.level) == (pair.y.size, int(pair.y.sum()), level)


def test_paired_test_matches_the_textbook_z_statistic(pair: Pair, reference: Reference) -> None:
    cov = reference.covariance
    difference = reference.auc[0] - reference.auc[1]
    sd = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    z = difference / sd
    textbook_p = 2 * (1 - stats.norm.cdf(abs(z)))
    result = delong_test(pair.y, pair.a, pair.b, a="physiology", b="model")
    assert result.difference == pytest.approx(difference, abs=TOLERANCE)
    assert result.p_value == pytest.approx(textbook_p, abs=TOLERANCE)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert result.ci_low == pytest.approx(difference - 1.959963984540054 * sd, abs=TOLERANCE)
    assert result.ci_high == pytest.approx(difference + 1.959963984540054 * sd, abs=TOLERANCE)
    assert (result.value_a, result.value_b) == pytest.approx(tuple(reference.auc), abs=TOLERANCE)


def test_integer_weights_match_the_textbook_on_repeated_rows(pair: Pair) -> None:
    weights = np.random.default_rng(8).integers(0, 4, size=pair.y.size)
    repeated = np.repeat(np.arange(pair.y.size), weights)
    reference = textbook_delong(pair.y[repeated], np.vstack([pair.a, pair.b])[:, repeated])
    ours = delong_components(pair.y, np.vstack([pair.a, pair.b]), sample_weight=weights)
    np.testing.assert_allclose(ours.auc, reference.auc, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours.covariance, reference.covariance, rtol=1e-9)
