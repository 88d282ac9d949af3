"""Multivariate drift: can a classifier tell the current sample from the reference?

:func:`domain_classifier` labels reference rows 0 and current rows 1, fits scikit-learn's
``HistGradientBoostingClassifier`` (missing values handled natively; categorical columns
ordinal-coded and declared categorical) in stratified ``folds``-fold cross-validation, and scores
the out-of-fold predictions by AUROC with its DeLong interval. An AUROC of 0.5 means the samples
are indistinguishable on these features. The contribution of each feature is its permutation
importance: the drop in held-out AUROC when the feature is shuffled within the held-out fold,
averaged over folds.

Each sample larger than ``max_rows`` (default :data:`MAX_ROWS_PER_SAMPLE`) is first reduced to
a seeded random subsample of that many rows: the AUROC's interval at 50,000 rows a side is
already about ±0.006 wide, and fitting and permuting on millions of rows would take hours.
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

MAX_ROWS_PER_SAMPLE = 50_000
"""Larger samples are subsampled (seeded, without replacement) to this many rows each."""

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
    max_rows: int | None = MAX_ROWS_PER_SAMPLE,
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
    max_rows
        Each sample with more rows is replaced by a random subsample of ``max_rows`` rows
        (seeded by ``seed``); ``None`` uses every row. ``auroc.n`` counts the rows used;
        ``n_reference`` and ``n_current`` the rows given.
    """
    names = _features(reference, current, features, reference_name, current_name)
    if folds < 2:
        raise InputError(f"folds must be at least 2 (got {folds})")
    if min(len(reference), len(current)) < folds:
        raise InputError(f"each sample needs at least {folds} rows for {folds}-fold "
                         "cross-validation")
    if max_rows is not None and max_rows < folds:
        raise InputError(f"max_rows must be at least {folds} (got {max_rows})")
    sampler = np.random.default_rng(seed)
    ref_rows = _subsample(reference[names], max_rows, sampler)
    cur_rows = _subsample(current[names], max_rows, sampler)
    design, categorical = _design(pd.concat([ref_rows, cur_rows], ignore_index=True))
    target = np.r_[np.zeros(len(ref_rows), dtype=int), np.ones(len(cur_rows), dtype=int)]
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


def _subsample(frame: pd.DataFrame, max_rows: int | None,
               sampler: np.random.Generator) -> pd.DataFrame:
    if max_rows is None or len(frame) <= max_rows:
        return frame
    rows = np.sort(sampler.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[rows]


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
