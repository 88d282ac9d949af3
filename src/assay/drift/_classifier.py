"""Multivariate drift: can a classifier tell the current sample from the reference?

:func:`domain_classifier` labels reference rows 0 and current rows 1, fits scikit-learn's
``HistGradientBoostingClassifier`` (missing values handled natively; categorical columns
ordinal-coded and declared categorical) in stratified ``folds``-fold cross-validation, and scores
the out-of-fold predictions by AUROC with its DeLong interval. An AUROC of 0.5 means the samples
are indistinguishable on these features. The contribution of each feature is its permutation
importance: the drop in held-out AUROC when the feature is shuffled within the held-out fold,
averaged over folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedKFold

from assay.drift._compare import _features, column_kind
from assay.errors import InputError
from assay.metrics import Estimate, estimate

DOMAIN_AUROC_THRESHOLD = 0.55
"""Drift when the lower bound of the AUROC's interval exceeds 0.55 (Evidently's 0.55 cut-off,
applied to the interval so that sampling noise alone does not raise it)."""

MAX_CATEGORY_CODES = 250
"""Categorical levels beyond the 249 most frequent share one code (the model's bin limit)."""


class FeatureImportance(BaseModel):
    """How much one feature helps the classifier tell the samples apart."""

    model_config = ConfigDict(frozen=True)

    feature: str
    importance: float
    """Mean drop in held-out AUROC when the feature is shuffled."""


class DomainClassifierResult(BaseModel):
    """Cross-validated AUROC of telling the current sample from the reference."""

    model_config = ConfigDict(frozen=True)

    auroc: Estimate
    threshold: float
    drifted: bool
    """``auroc.ci_low > threshold``."""
    features: tuple[str, ...]
    importances: tuple[FeatureImportance, ...]
    """Every feature, most important first."""
    folds: int
    seed: int
    n_reference: int
    n_current: int

    def top_features(self, k: int = 5) -> list[str]:
        """The ``k`` features that contribute most."""
        return [f.feature for f in self.importances[:k]]

    def summary(self) -> str:
        """The result in plain words."""
        verdict = ("can tell the samples apart" if self.drifted
                   else "cannot reliably tell the samples apart")
        return (f"A classifier {verdict}: cross-validated AUROC {self.auroc} "
                f"(drift when the lower bound exceeds {self.threshold:g}); "
                f"top features: {', '.join(self.top_features(3))}.")


def domain_classifier(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    threshold: float = DOMAIN_AUROC_THRESHOLD,
    n_repeats: int = 3,
    reference_name: str = "the reference",
    current_name: str = "the current data",
) -> DomainClassifierResult:
    """Cross-validated AUROC of a classifier telling ``current`` rows from ``reference`` rows.

    Parameters
    ----------
    reference, current
        The two samples.
    features
        Columns the classifier sees; default: the columns present in both frames.
    folds, seed
        Stratified cross-validation folds and the seed of the split, model and permutations.
    threshold
        Drift when the lower bound of the AUROC's 95 % DeLong interval exceeds it.
    n_repeats
        Shuffles per feature and fold for the permutation importance.
    """
    names = _features(reference, current, features, reference_name, current_name)
    if folds < 2:
        raise InputError(f"folds must be at least 2 (got {folds})")
    if min(len(reference), len(current)) < folds:
        raise InputError(f"each sample needs at least {folds} rows for {folds}-fold "
                         "cross-validation")
    design, categorical = _design(pd.concat([reference[names], current[names]],
                                            ignore_index=True))
    target = np.r_[np.zeros(len(reference), dtype=int), np.ones(len(current), dtype=int)]
    out_of_fold = np.empty(target.size, dtype=np.float64)
    importance = np.zeros(len(names))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(design, target):
        model = HistGradientBoostingClassifier(categorical_features=categorical,
                                               random_state=seed)
        model.fit(design[train], target[train])
        out_of_fold[test] = model.predict_proba(design[test])[:, 1]
        permuted: Any = permutation_importance(model, design[test], target[test],
                                               scoring="roc_auc", n_repeats=n_repeats,
                                               random_state=seed)
        importance += np.asarray(permuted.importances_mean, dtype=np.float64) / folds
    auroc = estimate("auroc", target, out_of_fold, ci="delong")
    order = np.argsort(-importance, kind="stable")
    return DomainClassifierResult(
        auroc=auroc, threshold=threshold,
        drifted=auroc.ci_low is not None and auroc.ci_low > threshold,
        features=tuple(names),
        importances=tuple(FeatureImportance(feature=names[i], importance=float(importance[i]))
                          for i in order),
        folds=folds, seed=seed, n_reference=len(reference), n_current=len(current))


def _design(frame: pd.DataFrame) -> tuple[np.ndarray[Any, Any], list[bool]]:
    columns: list[np.ndarray[Any, Any]] = []
    categorical: list[bool] = []
    for name in frame.columns:
        column = frame[name]
        if column_kind(column) == "numeric":
            columns.append(column.to_numpy(dtype=np.float64))
            categorical.append(False)
            continue
        labels = column.astype(str).where(column.notna())
        ranked = labels.value_counts().index
        codes = pd.Series(np.arange(ranked.size, dtype=np.float64), index=ranked)
        coded = labels.map(codes).to_numpy(dtype=np.float64)
        columns.append(np.minimum(coded, MAX_CATEGORY_CODES - 1))
        categorical.append(True)
    return np.column_stack(columns), categorical
