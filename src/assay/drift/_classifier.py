"""Multivariate drift: can a classifier tell the current sample from the reference?

:func:`domain_classifier` labels reference rows 0 and current rows 1, fits scikit-learn's
``HistGradientBoostingClassifier`` (missing values handled natively; categorical columns
ordinal-coded and declared categorical) in stratified ``folds``-fold cross-validation, and scores
the out-of-fold predictions by AUROC with its DeLong interval. An AUROC of 0.5 means the samples
are indistinguishable on these features. The contribution of each feature is its permutation
importance: the drop in AUROC on the held-out rows of the *first* fold when the feature is
shuffled among them (``n_repeats`` shuffles, default 1), for the model fitted on the other folds.

Why one fold and one shuffle: the importance ranks the features, it does not decide drift (the
AUROC's interval does). Shuffling every feature in every fold three times meant 15 predictions
per feature (about two minutes at 50 features and 50,000 rows a side, more than fitting the
five models). On one fold of 20,000 held-out rows the features that did not move scored below
0.0005 in the benchmark (``bench/README.md``, part (d)), so a feature that moves the AUROC by
0.01 stands well clear of one shuffle's noise. ``n_repeats`` adds shuffles where finer ranks
matter.

The folds are fitted side by side, one thread each (up to the CPU count), each model with one
OpenMP thread: the same models and numbers as one fold after the other on all cores, and on a
busy machine several times faster (OpenMP's threads wait for each other at every split).

Each sample larger than ``max_rows`` (default :data:`MAX_ROWS_PER_SAMPLE`) is first reduced to
a seeded random subsample of that many rows: the AUROC's interval at 50,000 rows a side is
already about ±0.006 wide, and fitting and permuting on millions of rows would take hours.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from assay.drift._compare import _features, column_kind
from assay.errors import InputError, MissingExtraError
from assay.metrics import Estimate, estimate

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

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
    """Drop in the first fold's held-out AUROC when the feature is shuffled (mean over the
    shuffles)."""


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
    n_repeats: int = 1,
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
        Shuffles per feature for the permutation importance, which is computed on the
        held-out rows of the first fold only (see the module notes).
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
    if n_repeats < 1:
        raise InputError(f"n_repeats must be at least 1 (got {n_repeats})")
    if max_rows is not None and max_rows < folds:
        raise InputError(f"max_rows must be at least {folds} (got {max_rows})")
    try:  # scikit-learn is optional (the demo extra): imported only when a classifier runs
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.inspection import permutation_importance
        from sklearn.model_selection import StratifiedKFold
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise MissingExtraError("demo", "scikit-learn") from exc
    sampler = np.random.default_rng(seed)
    ref_rows = subsample(reference, names, max_rows, sampler)
    cur_rows = subsample(current, names, max_rows, sampler)
    design, categorical = _design(pd.concat([ref_rows, cur_rows], ignore_index=True))
    target = np.r_[np.zeros(len(ref_rows), dtype=int), np.ones(len(cur_rows), dtype=int)]
    out_of_fold = np.empty(target.size, dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(design, target))

    def fit_fold(fold: int) -> tuple[FloatArray, FloatArray]:
        """The fold's held-out predictions, and the first fold's permutation importances
        (none for the other folds)."""
        train, test = splits[fold]
        # one OpenMP thread per model, the folds side by side: the same numbers as one model
        # on all cores, and no threads waiting on each other when the machine is busy
        with threadpool_limits(limits=1, user_api="openmp"):
            model = HistGradientBoostingClassifier(categorical_features=categorical,
                                                   random_state=seed)
            model.fit(design[train], target[train])
            predicted = np.asarray(model.predict_proba(design[test])[:, 1], dtype=np.float64)
            if fold != 0:
                return predicted, np.empty(0)
            permuted: Any = permutation_importance(model, design[test], target[test],
                                                   scoring="roc_auc", n_repeats=n_repeats,
                                                   random_state=seed)
        return predicted, np.asarray(permuted.importances_mean, dtype=np.float64)

    with ThreadPoolExecutor(max_workers=max(1, min(folds, os.cpu_count() or 1))) as pool:
        fitted = list(pool.map(fit_fold, range(folds)))
    for (_, test), (predicted, _) in zip(splits, fitted, strict=True):
        out_of_fold[test] = predicted
    importance = fitted[0][1]
    auroc = estimate("auroc", target, out_of_fold, ci="delong")
    order = np.argsort(-importance, kind="stable")
    return DomainClassifierResult(
        auroc=auroc, threshold=threshold,
        drifted=auroc.ci_low is not None and auroc.ci_low > threshold,
        features=tuple(names),
        importances=tuple(FeatureImportance(feature=names[i], importance=float(importance[i]))
                          for i in order),
        folds=folds, seed=seed, n_reference=len(reference), n_current=len(current))


def subsample(frame: pd.DataFrame, names: list[str], max_rows: int | None,
               sampler: np.random.Generator) -> pd.DataFrame:
    """The ``names`` columns of at most ``max_rows`` rows (rows drawn before columns are
    copied, so a large frame is not copied whole)."""
    if max_rows is None or len(frame) <= max_rows:
        return frame[names]
    rows = np.sort(sampler.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[rows][names]


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
