"""Disparities against a reference group: differences, ratios and the fairness band.

Definitions
-----------
For a metric ``m``, a reference group ``r`` and each other group ``g`` of one attribute:

- ``difference = m(g) − m(r)`` and ``ratio = m(g) / m(r)``;
- the band of tolerance ``τ`` is ``[1/(1+τ), 1+τ]`` (``τ = 0.25`` gives ``[0.8, 1.25]``, the
  "four-fifths" rule made symmetric on the ratio scale);
- each interval is the percentile bootstrap interval from resampling **within each group
  independently**, stratified by outcome within the group (so group sizes and event counts are
  kept; :mod:`assay.metrics._bootstrap` describes the draws). Replicate ``i`` of the difference
  pairs the ``i``-th kept replicate of ``g`` with the ``i``-th kept replicate of ``r``; the two
  are independent, so any pairing gives the same distribution.

Each tested row also carries a two-sided p-value of "the metric equals the reference's" (a Wald
test, ``z = difference / SE`` with the standard deviation of the difference's replicates as
``SE``), adjusted across the table's tested rows by Holm and by Benjamini–Hochberg. A ratio
interval entirely outside the band is a ``clear_breach`` only when the p-value adjusted by the
table's ``correction`` is at most ``1 − level``; otherwise it is a ``possible_breach`` and the
row's ``reason`` names the correction that decided it.

Seeds are derived from ``seed`` and the group's attribute and value exactly as in
:func:`assay.subgroups.metric_by_group`, so a group's resamples do not depend on the other
groups, and the reference group's resamples are the same in every row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import get_metric
from assay.metrics._bootstrap import replicates
from assay.metrics._registry import MetricSpec
from assay.subgroups._cells import Cell, GroupValues, cells, check_intersections, read_attributes
from assay.subgroups._disparity_types import (
    BandStatus,
    DisparityRow,
    DisparityTable,
)
from assay.subgroups._multiplicity import MultiplicityMethod, benjamini_hochberg, holm
from assay.subgroups._reference import Reference, reference_group
from assay.subgroups._table import _group_seed

__all__ = ["BandStatus", "DisparityRow", "DisparityTable", "disparities"]

MAX_UNDEFINED_SHARE = 0.05
"""Largest share of bootstrap replicates that may be undefined; more makes the row undefined."""

FloatArray = NDArray[np.float64]


def disparities(
    metric: str,
    y_true: ArrayLike,
    y_score: ArrayLike,
    groups: pd.DataFrame | Mapping[str, GroupValues],
    *,
    attribute: str,
    reference: str = "largest",
    tolerance: float = 0.25,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    sample_weight: ArrayLike | None = None,
    small_cell_threshold: int = 11,
    correction: MultiplicityMethod = "holm",
    **params: Any,
) -> DisparityTable:
    """Difference and ratio of a metric in each group against a reference group, with the band.

    See the module notes for the definitions and the resampling scheme.

    Parameters
    ----------
    metric
        Registered metric name (see :func:`assay.metrics.list_metrics`).
    y_true, y_score
        Outcome and score, one entry (row) per patient.
    groups
        Grouping attributes as for :func:`assay.subgroups.metric_by_group`.
    attribute
        The attribute to compare across, or an intersection of attributes written with
        ``*`` (``"race*sex"``).
    reference
        ``"largest"``: the group with most patients (first in sorted order on a tie);
        ``"best"``: the group with the best value given the metric's direction (only groups
        with at least ``small_cell_threshold`` patients and a defined value); ``"ideal"``:
        the metric's ideal value (an O:E ratio or calibration slope of 1) in place of a group,
        so every group is judged on its own; otherwise the value of a group.
    tolerance
        ``τ > 0``; the band is ``[1/(1+τ), 1+τ]``.
    level, n_boot, seed, sample_weight
        Interval level, bootstrap replicates per group, base seed and frequency weights.
    small_cell_threshold
        Groups with fewer patients are ``suppressed``: no numbers are reported or judged.
    correction
        ``"holm"`` (family-wise error rate) or ``"bh"`` (false discovery rate): the adjusted
        p-value that must be at most ``1 − level`` for a ratio outside the band to count as a
        ``clear_breach``. Both adjusted p-values are reported on every tested row.
    **params
        Metric parameters, for example ``threshold``.

    Returns
    -------
    DisparityTable
        One row per group other than the reference. A row is ``undefined`` when the metric
        has no value in the group or the reference, when the reference value is not positive
        (no ratio), or when more than 5% of its bootstrap replicates are undefined.

    Raises
    ------
    InputError
        For an unknown attribute or reference group, a reference group below the small-cell
        threshold or with no value, ``"best"`` for a metric without a direction, or a
        tolerance or level out of range.

    Examples
    --------
    >>> y = [1] * 40 + [0] * 40 + [1] * 40 + [0] * 40
    >>> score = [1] * 32 + [0] * 48 + [1] * 16 + [0] * 64
    >>> site = ["A"] * 80 + ["B"] * 80
    >>> table = disparities("sensitivity", y, score, {"site": site}, attribute="site",
    ...                     reference="A", n_boot=200, threshold=0.5)
    >>> row = table.rows[0]
    >>> row.group_value, row.value, row.ratio, row.band_status, row.p_holm < 0.001
    ('B', 0.4, 0.5, 'clear_breach', True)
    """
    spec = get_metric(metric)
    _check_settings(tolerance, level, small_cell_threshold, correction)
    y, score, weights = _arrays(y_true, y_score, sample_weight)
    group_cells = _cells_of(groups, attribute, int(y.shape[0]))
    options: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "params": params}

    def fn(cell: Cell) -> float:
        w = None if weights is None else weights[cell.rows]
        return float(spec.fn(y[cell.rows], score[cell.rows], sample_weight=w, **params))

    ref = reference_group(spec, group_cells, reference, small_cell_threshold, fn)
    if ref.cell is not None:
        reps, problem = _boot(spec, y, score, weights, ref.cell, options)
        ref = ref._replace(replicates=reps, problem=problem)
    alpha = 1 - level
    drafts = [
        _draft(
            spec,
            y,
            score,
            weights,
            cell,
            ref,
            options,
            small_cell_threshold,
            (1.0 / (1.0 + tolerance), 1.0 + tolerance),
            alpha / 2,
            fn,
        )
        for cell in group_cells
        if cell is not ref.cell
    ]
    tested = [d for d in drafts if d.get("p_value") is not None]
    p_values = [d["p_value"] for d in tested]
    for d, p_holm, p_bh in zip(tested, holm(p_values), benjamini_hochberg(p_values), strict=True):
        d.update(p_holm=float(p_holm), p_bh=float(p_bh))
        adjusted = d["p_holm"] if correction == "holm" else d["p_bh"]
        if d["band_status"] == "clear_breach" and adjusted > alpha:
            d["band_status"] = "possible_breach"
            d["reason"] = (
                f"the ratio's interval lies outside the band, but the difference from the "
                f"reference is not significant after {CORRECTION_NAMES[correction]} correction "
                f"across {len(tested)} groups (adjusted p = {adjusted:.2g})"
            )
    return DisparityTable(
        metric=spec.name,
        attribute=attribute,
        reference=ref.label,
        reference_n=None if ref.cell is None else int(ref.cell.rows.size),
        reference_rule=ref.rule,
        tolerance=tolerance,
        level=level,
        correction=correction,
        rows=tuple(DisparityRow(**d) for d in drafts),
    )


CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg"}


def _draft(
    spec: MetricSpec,
    y: NDArray[Any],
    score: NDArray[Any],
    weights: FloatArray | None,
    cell: Cell,
    ref: Reference,
    options: dict[str, Any],
    small_cell_threshold: int,
    band: tuple[float, float],
    tail: float,
    fn: Callable[[Cell], float],
) -> dict[str, Any]:
    """One row's fields, before the multiplicity correction."""
    n = int(cell.rows.shape[0])
    base: dict[str, Any] = {"group_value": cell.group_value, "reference_value": ref.label}
    if n < small_cell_threshold:
        reason = f"suppressed: fewer than {small_cell_threshold} patients"
        return {**base, "n": None, "band_status": "suppressed", "reason": reason}
    base.update(n=n, reference_metric_value=ref.value)
    try:
        value = fn(cell)
    except UndefinedMetricError as exc:
        return {**base, "band_status": "undefined", "reason": f"in this group: {exc}"}
    base.update(value=value, difference=value - ref.value)
    if ref.value <= 0:
        reason = f"no ratio: the reference value is {ref.value:g}, not positive"
        return {**base, "band_status": "undefined", "reason": reason}
    base["ratio"] = value / ref.value
    boot, problem = _boot(spec, y, score, weights, cell, options)
    if ref.problem is not None or problem is not None:
        why = f"in the reference group: {ref.problem}" if ref.problem else problem
        return {**base, "band_status": "undefined", "reason": why}
    assert boot is not None
    # the ideal value is a constant without replicates
    ref_boot = np.full(boot.size, ref.value) if ref.replicates is None else ref.replicates
    size = min(boot.size, ref_boot.size)
    group_reps, ref_reps = boot[:size], ref_boot[:size]
    differences = group_reps - ref_reps
    base["difference_ci_low"], base["difference_ci_high"] = _percentile(differences, tail)
    base["p_value"] = _wald_p(base["difference"], differences)
    positive = ref_reps > 0
    no_ratio = int(size - np.count_nonzero(positive))
    if no_ratio > MAX_UNDEFINED_SHARE * size:
        reason = (
            f"no ratio interval: the reference value was not positive in {no_ratio} of "
            f"{size} bootstrap replicates (more than {MAX_UNDEFINED_SHARE:.0%})"
        )
        return {**base, "band_status": "undefined", "reason": reason}
    low, high = _percentile(group_reps[positive] / ref_reps[positive], tail)
    if band[0] <= low and high <= band[1]:
        status: BandStatus = "within"
    elif high < band[0] or low > band[1]:
        status = "clear_breach"
    else:
        status = "possible_breach"
    return {**base, "ratio_ci_low": low, "ratio_ci_high": high, "band_status": status}


def _wald_p(difference: float, replicates: FloatArray) -> float:
    """Two-sided p-value of a zero difference, with the bootstrap standard error."""
    se = float(np.std(replicates, ddof=1)) if replicates.size > 1 else 0.0
    if se == 0.0:
        return 1.0 if difference == 0 else 0.0
    return float(2 * stats.norm.sf(abs(difference) / se))


def _check_settings(
    tolerance: float, level: float, small_cell_threshold: int, correction: str
) -> None:
    if correction not in CORRECTION_NAMES:
        raise InputError(f"correction must be 'holm' or 'bh', got {correction!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise InputError(f"tolerance must be a number, got {tolerance!r}")
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise InputError(f"tolerance must be a positive number, got {tolerance}")
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), got {level}")
    if isinstance(small_cell_threshold, bool) or not isinstance(small_cell_threshold, int):
        raise InputError(f"small_cell_threshold must be an integer, got {small_cell_threshold!r}")
    if small_cell_threshold < 1:
        raise InputError(f"small_cell_threshold must be at least 1, got {small_cell_threshold}")


def _arrays(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[NDArray[Any], NDArray[Any], FloatArray | None]:
    y, score = np.asarray(y_true), np.asarray(y_score)
    if y.ndim != 1:
        raise InputError(f"y_true must be one-dimensional, got shape {y.shape}")
    if score.ndim == 0 or score.shape[0] != y.shape[0]:
        raise InputError(f"y_score has {np.shape(score)[:1]} rows, expected {y.shape[0]}")
    if sample_weight is None:
        return y, score, None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != y.shape:
        raise InputError(f"sample_weight has shape {weights.shape}, expected {y.shape}")
    return y, score, weights


def _cells_of(
    groups: pd.DataFrame | Mapping[str, GroupValues], attribute: str, n_rows: int
) -> list[Cell]:
    """The groups of one attribute (or one ``*``-joined intersection), in sorted order."""
    attributes = read_attributes(groups, n_rows)
    names = attribute.split("*")
    if len(names) == 1:
        if attribute not in attributes:
            given = ", ".join(repr(name) for name in attributes) or "none"
            raise InputError(f"attribute {attribute!r} is not in groups (given: {given})")
        return cells({attribute: attributes[attribute]}, ())
    crossed = check_intersections([names], attributes)
    return [cell for cell in cells(attributes, crossed) if cell.group == attribute]


def _boot(
    spec: MetricSpec,
    y: NDArray[Any],
    score: NDArray[Any],
    weights: FloatArray | None,
    cell: Cell,
    options: dict[str, Any],
) -> tuple[FloatArray | None, str | None]:
    """The group's kept bootstrap replicates, or why there is no interval."""
    try:
        result = replicates(
            spec,
            y[cell.rows],
            score[cell.rows],
            n_boot=options["n_boot"],
            seed=_group_seed(options["seed"], cell),
            sample_weight=None if weights is None else weights[cell.rows],
            max_undefined_share=MAX_UNDEFINED_SHARE,
            **options["params"],
        )
    except UndefinedMetricError as exc:
        return None, f"no interval: {exc}"
    return np.asarray(result.replicates[:, 0], dtype=np.float64), None


def _percentile(values: FloatArray, alpha: float) -> tuple[float, float]:
    """The ``alpha`` and ``1 − alpha`` quantiles (linear interpolation)."""
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)
