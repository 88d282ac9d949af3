"""Curves as one typed result: ROC, precision-recall, smooth calibration and threshold tables.

A :class:`Curve` holds tidy columns of equal length, so a report or a plot is drawn from the
stored result and re-renders exactly. Curves meant for plotting are thinned to at most
``max_points`` points on large data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from assay._frozen import FROZEN
from assay.errors import InputError, UndefinedMetricError
from assay.metrics._binary import binary_inputs, class_totals, confusion_counts, ranked_confusion
from assay.metrics._lowess import SPAN, lowess_sorted
from assay.metrics.intervals import wilson_interval

FloatArray = NDArray[np.float64]

CurveKind = Literal["roc", "pr", "calibration", "reliability", "decision", "threshold"]

BOOTSTRAP_ROWS = 20_000
"""Rows resampled for each bootstrap refit of the calibration curve (at most)."""


class Curve(BaseModel):
    """A curve as tidy columns of equal length, with the sample it came from.

    Parameters
    ----------
    kind
        Which curve this is; it fixes the column names (see the function that made it).
    columns
        Column name to values, all of the same length. ``None`` (NaN on input) marks an
        undefined value, only where a column's documentation says so (and then a companion
        column says where); stored JSON therefore stays standard JSON.
    n
        Number of rows the curve was computed from.
    n_events
        Number of positive cases, for binary outcomes.
    level
        Confidence level of any interval columns.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: CurveKind
    columns: Annotated[Mapping[str, tuple[float | None, ...]], *FROZEN]
    n: int
    n_events: int | None = None
    level: float | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _undefined_as_none(cls, columns: object) -> object:
        if not isinstance(columns, dict):
            return columns
        return {name: [None if isinstance(v, float) and math.isnan(v) else v
                       for v in np.asarray(values, dtype=object).tolist()]
                for name, values in columns.items()}

    def array(self, column: str) -> FloatArray:
        """A column as a float array, with NaN where the value is undefined."""
        return np.array([np.nan if v is None else v for v in self.columns[column]],
                        dtype=np.float64)

    @model_validator(mode="after")
    def _tidy(self) -> Curve:
        lengths = {name: len(values) for name, values in self.columns.items()}
        if len(set(lengths.values())) > 1:
            described = ", ".join(f"{k}={v}" for k, v in lengths.items())
            raise ValueError(f"curve columns must have equal lengths, got {described}")
        if self.n < 0 or (self.n_events is not None and not 0 <= self.n_events <= self.n):
            raise ValueError(f"invalid counts n={self.n}, n_events={self.n_events}")
        if self.level is not None and not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")
        return self


def _thin(path_steps: FloatArray, max_points: int | None) -> NDArray[np.bool_]:
    """Points to keep so that at most ``max_points`` remain, evenly spread along the path.

    ``path_steps`` is the length of each step from the previous point (first entry 0). A point
    is kept when it is the first to reach a new ``1 / (max_points − 1)`` share of the total
    path length; the first and last points are always kept.
    """
    keep = np.ones(path_steps.size, dtype=bool)
    if max_points is None or path_steps.size <= max_points:
        return keep
    if max_points < 2:
        raise InputError(f"max_points must be at least 2, got {max_points}")
    travelled = np.cumsum(path_steps)
    share = np.floor(travelled / travelled[-1] * (max_points - 2))
    keep[1:] = np.diff(share) > 0
    keep[-1] = True
    return keep


def roc_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    max_points: int | None = 2000,
) -> Curve:
    """The ROC curve: false and true positive rates as the threshold comes down.

    One point per distinct score (flag ``score >= threshold``), from the highest threshold to
    the lowest, preceded by the origin. Points on a straight segment are dropped as by
    scikit-learn's ``drop_intermediate``. On large data the remaining points are thinned to at
    most ``max_points`` spread evenly along the curve (``None`` keeps them all).

    Parameters
    ----------
    y_true, y_score
        0/1 outcome and any score where higher means more likely positive.
    sample_weight
        Optional frequency weights.
    max_points
        Largest number of points returned (at least 2), or ``None`` for all.

    Returns
    -------
    Curve
        ``kind="roc"`` with columns ``fpr``, ``tpr``, ``threshold``. The origin's threshold is
        the smallest number above the highest score (nobody flagged), not infinity.
    """
    y, score, weights = binary_inputs(y_true, y_score, sample_weight)
    positives, negatives = class_totals(y, weights)
    distinct, c = ranked_confusion(y, score, weights)
    tps, fps, thresholds = c.tp[::-1], c.fp[::-1], distinct[::-1]
    if tps.size > 2:  # scikit-learn's drop_intermediate: drop collinear points
        bends = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.r_[True, bends, True])
        tps, fps, thresholds = tps[keep], fps[keep], thresholds[keep]
    fpr = np.r_[0.0, fps / negatives]
    tpr = np.r_[0.0, tps / positives]
    threshold = np.r_[np.nextafter(thresholds[0], np.inf), thresholds]
    keep_points = _thin(np.r_[0.0, np.diff(fpr) + np.diff(tpr)], max_points)
    return Curve(
        kind="roc",
        columns={
            "fpr": fpr[keep_points].tolist(),
            "tpr": tpr[keep_points].tolist(),
            "threshold": threshold[keep_points].tolist(),
        },
        n=int(y.size),
        n_events=int(y.sum()),
    )


def pr_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    max_points: int | None = 2000,
) -> Curve:
    """The precision-recall curve: one point per distinct score, recall increasing.

    Precision is ``TP / (TP + FP)`` and recall ``TP / (TP + FN)`` with flag
    ``score >= threshold``. No point is added for "nobody flagged", where precision is
    undefined. On large data the points are thinned to at most ``max_points`` spread evenly
    along the curve (``None`` keeps them all).

    Parameters
    ----------
    y_true, y_score
        0/1 outcome and any score where higher means more likely positive.
    sample_weight
        Optional frequency weights.
    max_points
        Largest number of points returned (at least 2), or ``None`` for all.

    Returns
    -------
    Curve
        ``kind="pr"`` with columns ``recall``, ``precision``, ``threshold`` (decreasing).

    Raises
    ------
    UndefinedMetricError
        With no positive cases.
    """
    y, score, weights = binary_inputs(y_true, y_score, sample_weight)
    positives = float(np.sum(weights * y))
    if positives <= 0:
        raise UndefinedMetricError("no positive cases")
    distinct, c = ranked_confusion(y, score, weights)
    flagged = (c.tp + c.fp)[::-1]
    defined = flagged > 0
    precision = (c.tp[::-1] / np.where(defined, flagged, 1.0))[defined]
    recall = (c.tp[::-1] / positives)[defined]
    threshold = distinct[::-1][defined]
    steps = np.abs(np.diff(recall, prepend=recall[0])) + np.abs(
        np.diff(precision, prepend=precision[0])
    )
    keep = _thin(steps, max_points)
    return Curve(
        kind="pr",
        columns={
            "recall": recall[keep].tolist(),
            "precision": precision[keep].tolist(),
            "threshold": threshold[keep].tolist(),
        },
        n=int(y.size),
        n_events=int(y.sum()),
    )


def calibration_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
    grid_size: int = 101,
) -> Curve:
    """The smooth (lowess) calibration curve with a bootstrap band.

    The curve is the smoother of :func:`assay.metrics.ici` (R's ``lowess(p, y, iter = 0)``)
    read off by linear interpolation at ``grid_size`` evenly spaced probabilities spanning the
    observed range of ``p``. The band is the percentile interval at ``level`` of ``n_boot``
    curves refitted on row resamples drawn with ``numpy.random.default_rng(seed)``. For speed
    each replicate resamples at most 20,000 rows (with replacement) whatever the size of the
    data, which makes the band somewhat wider than a full-size bootstrap above 20,000 rows.
    A replicate whose resample does not reach an end of the grid is extended flat from its
    last point there.

    Parameters
    ----------
    y_true, y_score
        0/1 outcome and predicted probability.
    level
        Confidence level of the band.
    n_boot
        Number of bootstrap replicates.
    seed
        Seed of ``numpy.random.default_rng`` for the replicates.
    grid_size
        Number of evenly spaced probabilities the curve is read at.

    Returns
    -------
    Curve
        ``kind="calibration"`` with columns ``predicted`` (the grid), ``observed`` (the curve),
        ``observed_low`` and ``observed_high`` (the band).
    """
    y, p, _ = binary_inputs(y_true, y_score, None, probability=True)
    if p.size < 2:
        raise UndefinedMetricError("a calibration curve needs at least two rows")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if n_boot < 1 or grid_size < 2:
        raise InputError(f"n_boot must be >= 1 and grid_size >= 2, got {n_boot}, {grid_size}")
    outcome = y.astype(np.float64)
    grid = np.linspace(p.min(), p.max(), grid_size)
    observed = _smooth_on_grid(p, outcome, grid)
    rng = np.random.default_rng(seed)
    size = min(p.size, BOOTSTRAP_ROWS)
    replicates = np.empty((n_boot, grid_size))
    for b in range(n_boot):
        rows = rng.integers(0, p.size, size=size)
        replicates[b] = _smooth_on_grid(p[rows], outcome[rows], grid)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail], axis=0)
    return Curve(
        kind="calibration",
        columns={
            "predicted": grid.tolist(),
            "observed": observed.tolist(),
            "observed_low": low.tolist(),
            "observed_high": high.tolist(),
        },
        n=int(p.size),
        n_events=int(y.sum()),
        level=level,
    )


def _smooth_on_grid(p: FloatArray, outcome: FloatArray, grid: FloatArray) -> FloatArray:
    order = np.argsort(p, kind="stable")
    x, y = p[order], outcome[order]
    fitted = lowess_sorted(x, y, np.ones(x.size), frac=SPAN, delta=0.01 * float(x[-1] - x[0]))
    return np.interp(grid, x, fitted)


def threshold_table(
    y_true: ArrayLike, y_score: ArrayLike, thresholds: ArrayLike, *, level: float = 0.95
) -> Curve:
    """Operating characteristics at each of the given thresholds (flag ``score >= t``).

    Parameters
    ----------
    y_true, y_score
        0/1 outcome and any score where higher means more likely positive.
    thresholds
        The operating points to tabulate.
    level
        Confidence level of the Wilson intervals (on unweighted counts).

    Returns
    -------
    Curve
        ``kind="threshold"``, one row per threshold in the order given, with columns
        ``threshold``, ``n_flagged``, ``defined`` and ``flag_rate``, ``sensitivity``,
        ``specificity``, ``ppv``, ``npv``, each with ``_low``/``_high`` Wilson bounds at
        ``level``. PPV is undefined where nobody is flagged and NPV where everybody is; there
        those values and bounds are NaN and ``defined`` is 0 (it is 1 where every value in the
        row is defined; ``n_flagged`` tells which of the two applies).

    Raises
    ------
    UndefinedMetricError
        With no positive or no negative cases (sensitivity or specificity would be undefined
        at every threshold).
    """
    y, score, weights = binary_inputs(y_true, y_score, None)
    class_totals(y, weights)
    t = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise InputError("thresholds must be a non-empty list of finite numbers")
    c = confusion_counts(y, score, weights, t)
    flagged = c.tp + c.fp
    proportions = {
        "flag_rate": (flagged, np.full(t.size, float(y.size))),
        "sensitivity": (c.tp, c.tp + c.fn),
        "specificity": (c.tn, c.tn + c.fp),
        "ppv": (c.tp, flagged),
        "npv": (c.tn, c.tn + c.fn),
    }
    columns: dict[str, list[float]] = {
        "threshold": t.tolist(),
        "n_flagged": flagged.tolist(),
        "defined": ((flagged > 0) & (flagged < y.size)).astype(np.float64).tolist(),
    }
    for name, (successes, trials) in proportions.items():
        low, high = wilson_interval(successes, trials, level)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[name] = np.where(trials > 0, successes / trials, math.nan).tolist()
        columns[f"{name}_low"] = low.tolist()
        columns[f"{name}_high"] = high.tolist()
    return Curve(
        kind="threshold", columns=columns, n=int(y.size), n_events=int(y.sum()), level=level
    )
