"""Real data shared by the reference tests: predictions scored on a held-out half.

* scikit-learn's breast cancer data (569 tumours, malignant = 1), a logistic regression fitted
  on one half and scoring the other;
* the SUPPORT2 cohort (9,104 seriously ill hospitalised adults) from ``survset``: in-study death
  predicted from age, physiology and comorbidity, the SUPPORT model's own 2-month survival
  estimate, the coma score (11 values: heavy ties), the disease class (4 classes) and the
  APS physiology score as a continuous target.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from SurvSet.data import SurvLoader

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Binary:
    """A 0/1 outcome with a probability, an integer and a continuous weight per row."""

    name: str
    y: NDArray[np.int64]
    p: FloatArray
    integer_weight: NDArray[np.int64]
    weight: FloatArray


def _weights(n: int, seed: int) -> tuple[NDArray[np.int64], FloatArray]:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 5, size=n), rng.uniform(0.2, 3.0, size=n)


@pytest.fixture(scope="session")
def breast_cancer() -> Binary:
    data = load_breast_cancer()
    x, y = data.data, data.target
    rng = np.random.default_rng(11)
    train = rng.permutation(y.size) < y.size // 2
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    model.fit(x[train], y[train])
    p = model.predict_proba(x[~train])[:, 1]
    integer_weight, weight = _weights(p.size, 1)
    return Binary("breast_cancer", y[~train].astype(np.int64), p, integer_weight, weight)


@pytest.fixture(scope="session")
def support2_frame() -> pd.DataFrame:
    with warnings.catch_warnings():
        # survset's pickle references numpy.core, which numpy 2 reports as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        frame: pd.DataFrame = SurvLoader().load_dataset("support2")["df"]
    columns = ["num_age", "num_meanbp", "num_hrt", "num_resp", "num_temp", "num_sps"]
    frame = frame.dropna(subset=[*columns, "num_scoma", "num_surv2m"]).reset_index(drop=True)
    return frame


_FEATURES = ["num_age", "num_num_co", "num_meanbp", "num_hrt", "num_resp", "num_temp", "num_sps"]


@pytest.fixture(scope="session")
def support2(support2_frame: pd.DataFrame) -> Binary:
    """In-study death predicted by a logistic regression fitted on the other half."""
    frame = support2_frame
    train = (frame["pid"] % 2 == 0).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(frame.loc[train, _FEATURES], frame.loc[train, "event"])
    p = model.predict_proba(frame.loc[~train, _FEATURES])[:, 1]
    y = frame.loc[~train, "event"].to_numpy(np.int64)
    integer_weight, weight = _weights(p.size, 2)
    return Binary("support2", y, p, integer_weight, weight)


@pytest.fixture(scope="session")
def support2_model_estimate(support2_frame: pd.DataFrame) -> Binary:
    """In-study death against 1 - the SUPPORT model's 2-month survival (949 distinct values)."""
    y = support2_frame["event"].to_numpy(np.int64)
    p = 1.0 - support2_frame["num_surv2m"].to_numpy(np.float64)
    integer_weight, weight = _weights(p.size, 3)
    return Binary("support2_surv2m", y, p, integer_weight, weight)


@pytest.fixture(scope="session")
def support2_coma(support2_frame: pd.DataFrame) -> Binary:
    """In-study death against the coma score: a rank score with 11 values (heavy ties)."""
    y = support2_frame["event"].to_numpy(np.int64)
    score = support2_frame["num_scoma"].to_numpy(np.float64)
    integer_weight, weight = _weights(score.size, 4)
    return Binary("support2_coma", y, score, integer_weight, weight)


@dataclass(frozen=True)
class Multiclass:
    labels: NDArray[np.int64]
    probabilities: FloatArray
    weight: FloatArray


@pytest.fixture(scope="session")
def support2_disease_class(support2_frame: pd.DataFrame) -> Multiclass:
    """Disease class (4 classes) predicted by a multinomial logistic regression."""
    frame = support2_frame
    labels: NDArray[np.int64] = np.asarray(frame["fac_dzclass"].cat.codes, dtype=np.int64)
    train = (frame["pid"] % 2 == 0).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(frame.loc[train, _FEATURES], labels[train])
    probabilities = model.predict_proba(frame.loc[~train, _FEATURES])
    weight = np.random.default_rng(5).uniform(0.2, 3.0, size=probabilities.shape[0])
    return Multiclass(labels[~train], probabilities, weight)


@dataclass(frozen=True)
class Regression:
    y: FloatArray
    prediction: FloatArray
    weight: FloatArray


@pytest.fixture(scope="session")
def support2_physiology(support2_frame: pd.DataFrame) -> Regression:
    """The APS physiology score predicted by a linear regression on vital signs and age."""
    frame = support2_frame
    features = ["num_age", "num_meanbp", "num_hrt", "num_resp", "num_temp"]
    train = (frame["pid"] % 2 == 0).to_numpy()
    model = LinearRegression().fit(frame.loc[train, features], frame.loc[train, "num_sps"])
    prediction = model.predict(frame.loc[~train, features])
    y = frame.loc[~train, "num_sps"].to_numpy(np.float64)
    weight = np.random.default_rng(6).uniform(0.2, 3.0, size=y.size)
    return Regression(y, prediction, weight)
