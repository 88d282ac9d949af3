"""Leakage in the features: values recorded after the prediction, or taken from the outcome.

Two checks, each returning frozen findings that name the feature, the counts and a plain sentence:

- :func:`features_after_prediction`: features recorded after the moment of prediction;
- :func:`target_leakage`: features whose univariate AUROC is implausibly high, or that are the
  outcome itself or a deterministic function of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import Estimate, estimate

logger = logging.getLogger(__name__)

DERIVED_MIN_ROWS = 20
"""A feature value counts as a deterministic function of the outcome when each of its levels
holds at least this many rows, all with the same outcome."""

TARGET_ENCODING_FOLDS = 5
"""Folds of the cross-fitted target-rate encoding of categorical features."""


class FeatureAfterPrediction(BaseModel):
    """A feature whose time stamp falls after the prediction time on some rows."""

    model_config = ConfigDict(frozen=True)

    feature: str
    time_column: str
    prediction_time: str
    n_rows: int
    """Rows whose feature time is later than the prediction time."""
    n_timed: int
    """Rows where both times are known (the rest cannot be judged)."""
    message: str


class TargetLeak(BaseModel):
    """A feature that predicts the outcome too well to be available at prediction time."""

    model_config = ConfigDict(frozen=True)

    feature: str
    target: str
    kind: Literal["identical", "derived", "high_auroc"]
    """``identical``: equal to the target on every row; ``derived``: every level of the feature
    holds at least :data:`DERIVED_MIN_ROWS` rows, all with one outcome; ``high_auroc``: the
    lower bound of the univariate AUROC's DeLong interval exceeds the threshold."""
    auroc: Estimate | None
    """Univariate AUROC in the direction where it is at least 0.5 (``None`` when undefined)."""
    message: str


def _need_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(f"{where} lacks the column(s) {missing}")


def _as_times(values: pd.Series, name: str) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(values):
        raise InputError(f"column '{name}' must hold datetimes (found {values.dtype})")
    return values


def features_after_prediction(
    frame: pd.DataFrame,
    prediction_time: str,
    feature_times: Mapping[str, str],
) -> tuple[FeatureAfterPrediction, ...]:
    """Features whose time stamp falls after the prediction time, with the rows affected.

    Parameters
    ----------
    frame
        One row per prediction.
    prediction_time
        Column holding the moment each prediction is made (e.g. ``discharged_at``).
    feature_times
        Feature name to the column holding the time its value was recorded.

    Returns
    -------
    tuple of FeatureAfterPrediction
        One per feature recorded after the prediction time on at least one row, in the order of
        ``feature_times``. Rows with either time missing are not counted.
    """
    _need_columns(frame, [prediction_time, *feature_times.values()], "the frame")
    predicted_at = _as_times(frame[prediction_time], prediction_time)
    found: list[FeatureAfterPrediction] = []
    for feature, time_column in feature_times.items():
        recorded_at = _as_times(frame[time_column], time_column)
        timed = recorded_at.notna() & predicted_at.notna()
        late = int((timed & (recorded_at > predicted_at)).sum())
        if late:
            found.append(FeatureAfterPrediction(
                feature=feature,
                time_column=time_column,
                prediction_time=prediction_time,
                n_rows=late,
                n_timed=int(timed.sum()),
                message=(f"Feature '{feature}' is recorded ('{time_column}') after the "
                         f"prediction time ('{prediction_time}') on {late} of "
                         f"{int(timed.sum())} rows."),
            ))
    return tuple(found)


def _binary_target(frame: pd.DataFrame, target: str) -> np.ndarray[Any, np.dtype[np.int8]]:
    _need_columns(frame, [target], "the frame")
    values = frame[target]
    bad = values.isna() | ~values.isin([0, 1])
    if bad.any():
        distinct = values[bad].nunique(dropna=False)
        raise InputError(f"column '{target}' must contain only 0/1 (found {distinct} other "
                         f"value(s) in {int(bad.sum())} rows)")
    return values.to_numpy().astype(np.int8)


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
                or pd.api.types.is_datetime64_any_dtype(values))


def _numeric(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("int64").where(values.notna()).astype(np.float64)
    return values.astype(np.float64)


def _target_rate_encoding(
    levels: pd.Series, y: np.ndarray[Any, np.dtype[np.int8]], seed: int
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Each row's level coded by the outcome rate of that level in the other folds."""
    codes = levels.astype(object).where(levels.notna(), "<missing>").astype(str).to_numpy()
    fold = np.random.default_rng(seed).permutation(len(codes)) % TARGET_ENCODING_FOLDS
    encoded = np.empty(len(codes), dtype=np.float64)
    for k in range(TARGET_ENCODING_FOLDS):
        held_out = fold == k
        fitted = pd.Series(y[~held_out]).groupby(codes[~held_out]).mean()
        fallback = float(y[~held_out].mean()) if (~held_out).any() else 0.5
        rates = pd.Series(codes[held_out]).map(fitted).fillna(fallback)
        encoded[held_out] = rates.to_numpy(dtype=np.float64)
    return encoded


def _oriented_auroc(y: np.ndarray[Any, np.dtype[np.int8]],
                    score: np.ndarray[Any, np.dtype[np.float64]]) -> Estimate | None:
    if min(int((y == 1).sum()), int((y == 0).sum())) < 2:
        return None
    try:
        est = estimate("auroc", y, score, ci="delong")
    except UndefinedMetricError as exc:
        logger.debug("univariate AUROC undefined: %s", exc)
        return None
    if est.value >= 0.5:
        return est
    assert est.ci_low is not None and est.ci_high is not None
    return est.model_copy(update={"value": 1.0 - est.value, "ci_low": 1.0 - est.ci_high,
                                  "ci_high": 1.0 - est.ci_low})


def _derived(values: pd.Series, y: np.ndarray[Any, np.dtype[np.int8]]) -> bool:
    """Every level (missing counts as one) holds ≥ DERIVED_MIN_ROWS rows, each of one outcome."""
    levels = values.astype(object).where(values.notna(), "<missing>").astype(str)
    by_level = pd.Series(y).groupby(levels.to_numpy()).agg(["mean", "size"])
    if len(by_level) < 2:
        return False
    pure = by_level["mean"].isin([0.0, 1.0]).all()
    return bool(pure and (by_level["size"] >= DERIVED_MIN_ROWS).all())


def target_leakage(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str] | None = None,
    *,
    auroc_threshold: float = 0.95,
    seed: int = 0,
) -> tuple[TargetLeak, ...]:
    """Features that predict a 0/1 outcome implausibly well on their own, or derive from it.

    A numeric (or datetime) feature is scored as is, on the rows where it is known; a categorical
    feature by the outcome rate of its level, cross-fitted over five random folds (seeded by
    ``seed``) so that a level's own row does not set its score. The AUROC is taken in whichever
    direction is at least 0.5 and its 95 % DeLong interval is oriented with it.

    Parameters
    ----------
    frame
        Rows with the outcome and the features.
    target
        The 0/1 outcome column.
    features
        Columns to check; default: every other column.
    auroc_threshold
        A feature leaks when the lower bound of its AUROC interval exceeds this.
    seed
        Seed of the cross-fitting folds.

    Returns
    -------
    tuple of TargetLeak
        One per leaking feature, in the order of ``features``.
    """
    if not 0.5 < auroc_threshold < 1.0:
        raise InputError(f"auroc_threshold must be between 0.5 and 1 (got {auroc_threshold})")
    y = _binary_target(frame, target)
    names = [name for name in frame.columns if name != target] if features is None else features
    _need_columns(frame, list(names), "the frame")
    found: list[TargetLeak] = []
    for name in names:
        values = frame[name]
        if _is_numeric(values):
            numbers = _numeric(values)
            known = numbers.notna().to_numpy()
            auroc = _oriented_auroc(y[known], numbers.to_numpy()[known])
        else:
            auroc = _oriented_auroc(y, _target_rate_encoding(values, y, seed))
        if values.notna().all() and np.array_equal(values.to_numpy(), y):
            kind: Literal["identical", "derived", "high_auroc"] = "identical"
            message = f"Feature '{name}' is identical to the outcome '{target}'."
        elif _derived(values, y):
            kind = "derived"
            message = (f"Feature '{name}' determines the outcome '{target}': each of its levels "
                       f"holds {DERIVED_MIN_ROWS} or more rows, all with the same outcome.")
        elif auroc is not None and auroc.ci_low is not None and auroc.ci_low > auroc_threshold:
            kind = "high_auroc"
            message = (f"Feature '{name}' alone separates the outcome '{target}' with AUROC "
                       f"{auroc} (lower bound above {auroc_threshold:g}) on {auroc.n} rows; "
                       "check that it is known before the prediction time.")
        else:
            continue
        found.append(TargetLeak(feature=name, target=target, kind=kind, auroc=auroc,
                                message=message))
    return tuple(found)
