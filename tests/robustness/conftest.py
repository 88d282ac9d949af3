"""Shared fixtures: a synthetic inpatient cohort and logistic models fitted on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from assay.datasets import make_inpatient_cohort

NUMERIC = [
    "age",
    "prior_admissions_12m",
    "length_of_stay_days",
    "charlson_index",
    "n_medications",
    "creatinine_mg_dl",
    "hemoglobin_g_dl",
    "albumin_g_dl",
    "lactate_mmol_l",
    "glucose_mg_dl",
]
"""Numeric features of the models; temp_c and sodium_mmol_l are deliberately left out."""
CATEGORICAL = ["admission_type", "discharge_disposition"]
LABS = ["creatinine_mg_dl", "hemoglobin_g_dl", "albumin_g_dl", "lactate_mmol_l", "glucose_mg_dl"]
STRONG = ["prior_admissions_12m", "charlson_index", "n_medications", "albumin_g_dl"]
"""Features with sizeable coefficients, for perturbations that must hurt."""


def fit_pipeline(train: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Pipeline:
    """Median-impute and scale numerics, impute and one-hot categories, logistic regression."""
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categories = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    pipeline = make_pipeline(
        make_column_transformer((numbers, numeric), (categories, categorical)),
        LogisticRegression(max_iter=1000),
    )
    return pipeline.fit(train[numeric + categorical], train["readmit_30d"])


@pytest.fixture(scope="session")
def train() -> pd.DataFrame:
    return make_inpatient_cohort(4_000, seed=1)


@pytest.fixture(scope="session")
def cohort() -> pd.DataFrame:
    """The validation cohort (3,000 discharges); tests must not modify it."""
    return make_inpatient_cohort(3_000, seed=2)


@pytest.fixture(scope="session")
def y(cohort: pd.DataFrame) -> np.ndarray[Any, Any]:
    return cohort["readmit_30d"].to_numpy()


@pytest.fixture(scope="session")
def model(train: pd.DataFrame) -> Pipeline:
    """A pipeline that does not use sex, temperature or sodium."""
    return fit_pipeline(train, NUMERIC, CATEGORICAL)


@pytest.fixture(scope="session")
def model_with_sex(train: pd.DataFrame) -> Pipeline:
    return fit_pipeline(train, NUMERIC, [*CATEGORICAL, "sex"])
