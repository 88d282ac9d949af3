"""Likely mislabeled rows by confident learning, from out-of-fold predicted probabilities.

Confident learning (Northcutt, Jiang and Chuang, JAIR 2021) trusts a model's probability for a
class only above that class's own threshold: the mean probability the model gives the class on
the rows labelled with it. A row is *confidently* of class ``j`` when its probability of ``j``
reaches ``j``'s threshold (the largest such probability wins when several do). Counting given
label against confident class gives the confident joint; a row off its diagonal, labelled ``i``
but confidently ``j != i``, is a likely label issue.

The probabilities must be out of fold (each row scored by a model that did not see it), or a
model that memorised the wrong labels confirms them: :func:`cross_validated_probabilities`
makes them with scikit-learn (the ``demo`` extra).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from assay.errors import InputError, MissingExtraError

logger = logging.getLogger(__name__)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
RankBy = Literal["self_confidence", "normalized_margin"]


def _probability_matrix(
    probabilities: pd.DataFrame | npt.ArrayLike, classes: Sequence[Any] | None, n: int
) -> tuple[FloatArray, list[Any]]:
    if isinstance(probabilities, pd.DataFrame):
        if classes is None:
            classes = list(probabilities.columns)
        matrix = probabilities.to_numpy(dtype=np.float64)
    else:
        matrix = np.asarray(probabilities, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = np.column_stack([1.0 - matrix, matrix])
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise InputError(f"probabilities must have one row per label ({n}), "
                         f"found shape {matrix.shape}")
    if not np.isfinite(matrix).all() or (matrix < 0).any() or (matrix > 1).any():
        bad = int((~np.isfinite(matrix) | (matrix < 0) | (matrix > 1)).any(axis=1).sum())
        raise InputError(f"probabilities must be numbers in [0, 1] (found {bad} rows outside)")
    if classes is None:
        if matrix.shape[1] != 2:
            raise InputError("give classes= (the label of each probability column) when there "
                             "are more than two columns")
        classes = [0, 1]
    classes = list(classes)
    if len(classes) != matrix.shape[1]:
        raise InputError(f"{len(classes)} classes given for {matrix.shape[1]} probability columns")
    return matrix, classes


def label_issues(
    y: npt.ArrayLike | pd.Series,
    probabilities: pd.DataFrame | npt.ArrayLike,
    *,
    classes: Sequence[Any] | None = None,
    rank_by: RankBy = "self_confidence",
) -> pd.DataFrame:
    """Every row ranked from most to least likely mislabeled, with confident learning's flag.

    Parameters
    ----------
    y
        The given labels.
    probabilities
        Out-of-fold predicted probabilities, one row per label: a frame whose columns are the
        classes (as :func:`cross_validated_probabilities` returns), an ``(n, k)`` array with
        ``classes`` naming its columns, or for 0/1 labels the probability of 1.
    classes
        The class of each probability column (default: the frame's columns, or 0 and 1).
    rank_by
        ``"self_confidence"``: the probability of the given label, lowest first;
        ``"normalized_margin"``: that probability minus the largest other class's, lowest first.

    Returns
    -------
    pandas.DataFrame
        One row per label, indexed like ``y`` (positions for arrays): ``given_label``,
        ``confident_label`` (``None`` when no class reaches its threshold),
        ``self_confidence``, ``normalized_margin``, ``is_issue`` (labelled ``i`` but
        confidently another class) and ``rank`` (1 = most likely mislabeled). Flagged rows come
        first, each group ordered by ``rank_by``; ties keep the input order.

    Examples
    --------
    >>> ranked = label_issues([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.9, 0.8, 0.7, 0.3])
    >>> ranked.index[ranked["is_issue"]].tolist()
    [2, 5]
    """
    labels = pd.Series(y) if not isinstance(y, pd.Series) else y
    if labels.isna().any():
        raise InputError(f"labels must not be missing (found {int(labels.isna().sum())} rows)")
    matrix, class_list = _probability_matrix(probabilities, classes, len(labels))
    position = {label: k for k, label in enumerate(class_list)}
    unknown = ~labels.isin(class_list)
    if unknown.any():
        raise InputError(f"{int(unknown.sum())} labels are not among the classes {class_list} "
                         f"(e.g. {labels[unknown].iloc[0]!r})")
    given = labels.map(position).to_numpy(dtype=np.int64)
    counts = np.bincount(given, minlength=len(class_list))
    if (counts == 0).any():
        empty = [class_list[k] for k in np.flatnonzero(counts == 0)]
        raise InputError(f"no row is labelled {empty}: each class needs rows to set its threshold")
    # Per-class threshold: mean probability of the class over the rows labelled with it.
    thresholds = np.array([matrix[given == k, k].mean() for k in range(len(class_list))])
    above = matrix >= thresholds
    confident = np.where(above.any(axis=1), np.where(above, matrix, -1.0).argmax(axis=1), -1)
    rows = np.arange(len(labels))
    self_confidence = matrix[rows, given]
    others = matrix.copy()
    others[rows, given] = -np.inf
    margin = self_confidence - others.max(axis=1)
    is_issue = (confident >= 0) & (confident != given)
    score = self_confidence if rank_by == "self_confidence" else margin
    order = np.lexsort((rows, score, ~is_issue))
    ranked = pd.DataFrame(
        {
            "given_label": labels.to_numpy(),
            "confident_label": [class_list[k] if k >= 0 else None for k in confident],
            "self_confidence": self_confidence,
            "normalized_margin": margin,
            "is_issue": is_issue,
        },
        index=labels.index,
    ).iloc[order]
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    logger.debug("confident-learning thresholds %s; %d rows flagged", thresholds, is_issue.sum())
    return ranked


def confident_joint(
    y: npt.ArrayLike | pd.Series,
    probabilities: pd.DataFrame | npt.ArrayLike,
    *,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Counts of given label (rows) against confidently predicted class (columns).

    Rows that reach no class's threshold are not counted. See :func:`label_issues`.
    """
    ranked = label_issues(y, probabilities, classes=classes)
    _, class_list = _probability_matrix(probabilities, classes, len(ranked))
    counted = ranked[ranked["confident_label"].notna()]
    table = pd.crosstab(
        pd.Categorical(counted["given_label"], categories=class_list),
        pd.Categorical(counted["confident_label"], categories=class_list),
        dropna=False,
    )
    table.index.name, table.columns.name = "given_label", "confident_label"
    return table


def _default_model(kind: Literal["logistic", "gradient_boosting"], frame: pd.DataFrame) -> Any:
    try:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    except ImportError as exc:
        raise MissingExtraError("demo", "scikit-learn") from exc
    numeric = [name for name in frame.columns
               if pd.api.types.is_numeric_dtype(frame[name])
               or pd.api.types.is_bool_dtype(frame[name])]
    categorical = [name for name in frame.columns if name not in set(numeric)]
    if kind == "logistic":
        encode = ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                      StandardScaler()), numeric),
            ("categorical", make_pipeline(
                SimpleImputer(strategy="constant", fill_value="<missing>"),
                OneHotEncoder(handle_unknown="ignore")), categorical),
        ])
        return make_pipeline(encode, LogisticRegression(max_iter=2000))
    encode = ColumnTransformer([
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="<missing>"),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                           max_categories=250)), categorical),
        ("numeric", "passthrough", numeric),
    ])
    mask = [True] * len(categorical) + [False] * len(numeric)
    return make_pipeline(encode, HistGradientBoostingClassifier(
        categorical_features=mask if categorical else None, random_state=0))


def cross_validated_probabilities(
    X: pd.DataFrame | npt.ArrayLike,
    y: npt.ArrayLike | pd.Series,
    model: Literal["logistic", "gradient_boosting"] | Any | None = None,
    folds: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Out-of-fold class probabilities from stratified cross-validation with scikit-learn.

    Parameters
    ----------
    X
        Features; a frame's object, string and category columns are treated as categorical.
    y
        Labels, one per row of ``X``.
    model
        ``None`` or ``"logistic"``: logistic regression after median imputation (with missing
        indicators) and scaling of numeric columns and one-hot coding of categorical ones;
        ``"gradient_boosting"``: scikit-learn's histogram gradient boosting, categorical columns
        declared as such; or any scikit-learn classifier with ``predict_proba`` (cloned for
        each fold).
    folds, seed
        Number of stratified folds, and the seed of their shuffle.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``, one column per class in sorted order; each row's probabilities come
        from the model fitted on the other folds. Pass it to :func:`label_issues`.

    Raises
    ------
    MissingExtraError
        When scikit-learn is not installed.
    InputError
        With fewer than two classes, or a class with fewer rows than ``folds``.
    """
    try:
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold
    except ImportError as exc:
        raise MissingExtraError("demo", "scikit-learn") from exc
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    labels = np.asarray(y)
    if len(labels) != len(frame):
        raise InputError(f"X has {len(frame)} rows but y has {len(labels)} labels")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InputError(f"folds must be a whole number >= 2 (got {folds!r})")
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise InputError(f"y must hold at least two classes (found {len(classes)})")
    if counts.min() < folds:
        raise InputError(f"class {classes[counts.argmin()]!r} has {counts.min()} rows, fewer "
                         f"than the {folds} folds")
    if model is None or isinstance(model, str):
        if model not in (None, "logistic", "gradient_boosting"):
            raise InputError(f"model must be 'logistic', 'gradient_boosting' or a scikit-learn "
                             f"classifier (got {model!r})")
        kind: Literal["logistic", "gradient_boosting"] = (
            "gradient_boosting" if model == "gradient_boosting" else "logistic"
        )
        template = _default_model(kind, frame)
    elif not hasattr(model, "predict_proba"):
        raise InputError(f"model {model!r} has no predict_proba: give a probabilistic classifier")
    else:
        template = model
    out = np.zeros((len(frame), len(classes)), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, held_out in splitter.split(np.zeros(len(labels)), labels):
        fitted = clone(template).fit(frame.iloc[train], labels[train])
        columns = np.searchsorted(classes, fitted.classes_)
        out[np.ix_(held_out, columns)] = fitted.predict_proba(frame.iloc[held_out])
    return pd.DataFrame(out, index=frame.index, columns=list(classes))
