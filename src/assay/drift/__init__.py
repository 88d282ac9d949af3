"""Drift: how far a current sample has moved from a reference, feature by feature and jointly.

Univariate methods live in a registry (:func:`list_drift_methods`); each declares the column
kinds it accepts and a default threshold that is an effect size. :func:`compare_features`
applies them to two frames; :func:`domain_classifier` asks whether a model can tell the two
samples apart, and :func:`pca_reconstruction` whether the reference's correlation structure still
describes the current rows. :func:`prediction_drift` and :func:`prevalence_drift` compare the
model's score, its flag rate and the outcome rate.
"""

from assay.drift._classifier import DomainClassifierResult, FeatureImportance, domain_classifier
from assay.drift._compare import (
    DEFAULT_METHODS,
    DriftRecord,
    DriftReport,
    column_kind,
    compare_features,
)
from assay.drift._methods import (
    cramers_v,
    hellinger,
    jensen_shannon,
    ks_statistic,
    psi,
    wasserstein_normalised,
)
from assay.drift._pca import FeatureContribution, PcaDriftResult, pca_reconstruction
from assay.drift._prediction import (
    PredictionDriftResult,
    RateDrift,
    prediction_drift,
    prevalence_drift,
)
from assay.drift._registry import (
    ColumnKind,
    DriftMethodSpec,
    get_drift_method,
    list_drift_methods,
    register_drift_method,
)

__all__ = [
    "DEFAULT_METHODS",
    "ColumnKind",
    "DomainClassifierResult",
    "DriftMethodSpec",
    "DriftRecord",
    "DriftReport",
    "FeatureContribution",
    "FeatureImportance",
    "PcaDriftResult",
    "PredictionDriftResult",
    "RateDrift",
    "column_kind",
    "compare_features",
    "cramers_v",
    "domain_classifier",
    "get_drift_method",
    "hellinger",
    "jensen_shannon",
    "ks_statistic",
    "list_drift_methods",
    "pca_reconstruction",
    "prediction_drift",
    "prevalence_drift",
    "psi",
    "register_drift_method",
    "wasserstein_normalised",
]
