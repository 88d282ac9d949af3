"""Any registered metric by any grouping: one tidy, typed table with ``n`` in every row."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, model_validator

from assay._frozen import FROZEN
from assay.errors import InputError, UndefinedMetricError
from assay.metrics import Estimate, IntervalChoice, IntervalMethod, estimate, get_metric
from assay.metrics._inputs import as_binary_target, as_float_array
from assay.metrics._registry import MetricSpec
from assay.subgroups._cells import (
    Cell,
    GroupValues,
    cells,
    check_intersections,
    read_attributes,
)
from assay.subgroups._multiplicity import benjamini_hochberg, holm
from assay.subgroups._segment_tests import RestComparison

__all__ = ["SubgroupRow", "SubgroupStatus", "SubgroupTable", "metric_by_group"]

SubgroupStatus = Literal["ok", "undefined", "empty"]
"""``ok``: a value was computed; ``undefined``: the metric has no value in the group (the row's
``reason`` says why); ``empty``: no patients in the group."""

EMPTY_REASON = "no patients in this group"


class SubgroupRow(BaseModel):
    """One row of a :class:`SubgroupTable`: the metric in one group, or overall.

    Parameters
    ----------
    group
        ``None`` for the overall row; the attribute name; for an intersection the attribute
        names joined by ``*`` (``race_ethnicity*sex``).
    group_value
        ``None`` for the overall row; the value as text (``"(missing)"`` for missing values);
        for an intersection the values joined by ``*`` in the order of ``group``.
    n, n_positive
        Patients (rows) in the group and, for binary outcomes, those with the outcome.
        ``None`` when hidden by :meth:`SubgroupTable.for_distribution`.
    value, ci_low, ci_high
        The estimate and its interval; ``None`` when undefined, empty, hidden, or (for the
        interval) when ``ci="none"``.
    level
        Confidence level of the interval.
    method
        How the interval was obtained; ``None`` when there is no value.
    status
        ``ok``, ``undefined`` or ``empty``.
    reason
        Why the row has no value (or why its numbers are hidden), in plain words.
    suppressed
        ``True`` when the group has fewer than the table's ``small_cell_threshold`` patients.
    p_value
        Two-sided p-value of "the metric is the same in this group as in the other patients"
        (AUROC: DeLong z-test; proportions: Fisher's exact test, see
        :mod:`assay.subgroups._segments`); ``None`` for the overall row, for other metrics,
        for non-integer weights, and when the metric is undefined in the group or the rest.
    p_holm, p_bh
        ``p_value`` adjusted across all the table's tested groups by Holm (family-wise error
        rate) and by Benjamini–Hochberg (false discovery rate).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str | None
    group_value: str | None
    n: int | None
    n_positive: int | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95
    method: IntervalMethod | None = None
    status: SubgroupStatus
    reason: str | None = None
    suppressed: bool
    p_value: float | None = None
    p_holm: float | None = None
    p_bh: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SubgroupRow:
        if (self.group is None) != (self.group_value is None):
            raise ValueError("group and group_value must both be given or both be None")
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("ci_low and ci_high must both be given or both be None")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"a subgroup value must be finite, got {self.value}")
        if self.status != "ok" and self.value is not None:
            raise ValueError(f"a row with status {self.status!r} cannot have a value")
        if self.status == "ok" and self.n is not None and self.value is None:
            raise ValueError("a row with status 'ok' needs a value unless its numbers are hidden")
        if self.status != "ok" and self.reason is None:
            raise ValueError(f"a row with status {self.status!r} needs a reason")
        if self.status == "empty" and self.n not in (0, None):
            raise ValueError(f"an empty group has n=0, got n={self.n}")
        return self


class SubgroupTable(BaseModel):
    """A metric overall and in every group: one row per group, never dropped.

    Rows come in a fixed order: the overall row; each attribute's groups in sorted value
    order; each intersection's full cartesian product of observed values (cells with no
    patients included, ``status="empty"``).

    Parameters
    ----------
    metric
        Registered metric name.
    params
        Metric parameters (for example ``threshold``).
    small_cell_threshold
        Groups with fewer patients are ``suppressed``.
    rows
        The rows, overall first.
    redacted
        ``True`` for a table from :meth:`for_distribution` (numbers of suppressed rows hidden).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    params: Annotated[Mapping[str, Any], *FROZEN]
    small_cell_threshold: int
    rows: tuple[SubgroupRow, ...]
    redacted: bool = False

    def to_frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame, one row per row, with nullable column types."""
        frame = pd.DataFrame(
            [row.model_dump() for row in self.rows], columns=list(SubgroupRow.model_fields)
        )
        return frame.astype(
            {
                "group": "string",
                "group_value": "string",
                "n": "Int64",
                "n_positive": "Int64",
                "value": "Float64",
                "ci_low": "Float64",
                "ci_high": "Float64",
                "level": "float64",
                "method": "string",
                "status": "string",
                "reason": "string",
                "suppressed": "bool",
            }
        )

    def for_distribution(self) -> SubgroupTable:
        """A copy safe to share outside the analysis team: suppressed rows keep their place,
        ``group``, ``group_value``, ``status`` and ``suppressed`` flag, but ``n``,
        ``n_positive``, ``value`` and the interval become ``None`` and ``reason`` says
        ``"suppressed: fewer than <threshold> patients"``.

        Only small cells are hidden; a hidden count can sometimes be recovered by subtraction
        from the overall row and the other groups (complementary disclosure), which this
        method does not prevent.
        """
        reason = f"suppressed: fewer than {self.small_cell_threshold} patients"
        hidden = {
            "n": None,
            "n_positive": None,
            "value": None,
            "ci_low": None,
            "ci_high": None,
            "method": None,
            "reason": reason,
            "p_value": None,
            "p_holm": None,
            "p_bh": None,
        }
        rows = tuple(
            row.model_copy(update=hidden) if row.suppressed else row for row in self.rows
        )
        return self.model_copy(update={"rows": rows, "redacted": True})


def metric_by_group(
    metric: str,
    y_true: ArrayLike,
    y_score: ArrayLike,
    groups: pd.DataFrame | Mapping[str, GroupValues],
    *,
    intersections: Sequence[Sequence[str]] = (),
    ci: IntervalChoice = "auto",
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    sample_weight: ArrayLike | None = None,
    small_cell_threshold: int = 11,
    **params: Any,
) -> SubgroupTable:
    """A registered metric overall and in every group and intersection, with intervals.

    Each row's estimate is :func:`assay.metrics.estimate` on that group's rows, with the same
    interval choice as overall (DeLong for AUROC, Wilson for proportions, the stratified
    bootstrap otherwise). A group's bootstrap seed is derived from ``seed`` and the group's
    name and value (CRC-32), so adding or removing other groups never changes its interval;
    the overall row uses ``seed`` itself.

    Parameters
    ----------
    metric
        Registered metric name (see :func:`assay.metrics.list_metrics`).
    y_true, y_score
        Outcome and score, one entry (row) per patient.
    groups
        Grouping attributes: a DataFrame (one column per attribute) or a mapping of attribute
        name to values, each as long as ``y_true`` (taken by position). Missing values form
        their own group, labelled ``"(missing)"``.
    intersections
        Combinations of attributes to cross, for example ``[("race_ethnicity", "sex")]``.
    ci, level, n_boot, seed, sample_weight
        As in :func:`assay.metrics.estimate`.
    small_cell_threshold
        Groups with fewer patients are flagged ``suppressed`` (at least 1).
    **params
        Metric parameters, for example ``threshold``.

    Returns
    -------
    SubgroupTable
        The overall row, each attribute's groups in sorted order, then each intersection's
        full cartesian product of observed values. A group where the metric is undefined
        (for example no positive cases for AUROC) is a row with ``status="undefined"`` and the
        reason; a cell with no patients is a row with ``status="empty"``.

    Raises
    ------
    InputError
        For groups of the wrong length (naming the attribute), intersections naming unknown
        attributes, a ``small_cell_threshold`` below 1, or inputs :func:`estimate` rejects.

    Examples
    --------
    >>> y = [0, 1, 1, 0, 1, 0, 1, 0]
    >>> score = [0.2, 0.8, 0.4, 0.1, 0.9, 0.6, 0.7, 0.3]
    >>> sex = ["F", "F", "F", "F", "M", "M", "M", "M"]
    >>> table = metric_by_group("sensitivity", y, score, {"sex": sex}, threshold=0.5)
    >>> [(row.group_value, row.n, row.value) for row in table.rows]
    [(None, 8, 0.75), ('F', 4, 0.5), ('M', 4, 1.0)]
    """
    spec = get_metric(metric)
    if isinstance(small_cell_threshold, bool) or not isinstance(small_cell_threshold, int):
        raise InputError(f"small_cell_threshold must be an integer, got {small_cell_threshold!r}")
    if small_cell_threshold < 1:
        raise InputError(f"small_cell_threshold must be at least 1, got {small_cell_threshold}")
    y = np.asarray(y_true)
    score = np.asarray(y_score)
    if y.ndim != 1:
        raise InputError(f"y_true must be one-dimensional, got shape {y.shape}")
    n_rows = int(y.shape[0])
    if score.ndim == 0 or score.shape[0] != n_rows:
        raise InputError(f"y_score has {np.shape(score)[:1]} rows, expected {n_rows}")
    weights = None if sample_weight is None else np.asarray(sample_weight)
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != n_rows):
        raise InputError(f"sample_weight has shape {weights.shape}, expected ({n_rows},)")
    positive = as_binary_target(y) == 1 if spec.task == "binary" else None

    attributes = read_attributes(groups, n_rows)
    crossed = check_intersections(intersections, attributes)
    settings: dict[str, Any] = {
        "ci": ci, "level": level, "n_boot": n_boot, "sample_weight": weights, **params
    }

    def row(cell: Cell | None) -> SubgroupRow:
        rows = np.arange(n_rows) if cell is None else cell.rows
        n = int(rows.shape[0])
        base: dict[str, Any] = {
            "group": None if cell is None else cell.group,
            "group_value": None if cell is None else cell.group_value,
            "n": n,
            "n_positive": None if positive is None else int(np.count_nonzero(positive[rows])),
            "level": level,
            "suppressed": n < small_cell_threshold,
        }
        if n == 0:
            return SubgroupRow(**base, status="empty", reason=EMPTY_REASON)
        group_seed = seed if cell is None else _group_seed(seed, cell)
        subset = dict(settings, sample_weight=None if weights is None else weights[rows])
        try:
            result = estimate(metric, y[rows], score[rows], seed=group_seed, **subset)
        except UndefinedMetricError as exc:
            reason = _undefined_reason(metric, y[rows], score[rows], subset, exc)
            return SubgroupRow(**base, status="undefined", reason=reason)
        return _ok_row(base, result)

    group_cells = cells(attributes, crossed)
    table_rows = [row(None)] + [row(cell) for cell in group_cells]
    if spec.task == "binary" and spec.interval in ("delong", "wilson"):
        table_rows = _versus_rest(spec, y, score, weights, params, table_rows, group_cells)
    return SubgroupTable(
        metric=spec.name,
        params=params,
        small_cell_threshold=small_cell_threshold,
        rows=tuple(table_rows),
    )


def _group_seed(seed: int, cell: Cell) -> int:
    """A seed that depends only on ``seed`` and the group's name and value."""
    key = f"{cell.group}={cell.group_value}".encode()
    return (int(seed) * 0x1_0000_0000 + zlib.crc32(key)) % (2**63)


def _ok_row(base: dict[str, Any], result: Estimate) -> SubgroupRow:
    return SubgroupRow(
        **base,
        value=result.value,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        method=result.method,
        status="ok",
    )


def _undefined_reason(
    metric: str,
    y: np.ndarray[Any, Any],
    score: np.ndarray[Any, Any],
    settings: dict[str, Any],
    error: UndefinedMetricError,
) -> str:
    """The metric's own reason when it has no value, else the interval's reason."""
    try:
        estimate(metric, y, score, **dict(settings, ci="none"))
    except UndefinedMetricError as metric_error:
        return str(metric_error)
    return f"no confidence interval: {error}"


def _versus_rest(
    spec: MetricSpec,
    y: ArrayLike,
    score: ArrayLike,
    weights: NDArray[np.float64] | None,
    params: Mapping[str, Any],
    table_rows: list[SubgroupRow],
    group_cells: list[Cell],
) -> list[SubgroupRow]:
    """The rows with each group tested against the other patients, Holm and BH adjusted."""
    if weights is not None and not np.array_equal(weights, np.round(weights)):
        return table_rows  # the tests count a row of weight k as k patients
    target, values = as_binary_target(y), as_float_array(score, "y_score")
    order = np.argsort(values, kind="stable")
    place = np.empty_like(order)
    place[order] = np.arange(order.shape[0])
    tester = RestComparison(spec, target[order], values[order],
                            None if weights is None else weights[order], params)
    tested: list[tuple[int, tuple[float, float]]] = []
    for index, cell in enumerate(group_cells, start=1):
        if table_rows[index].status != "ok":
            continue
        result = tester.test(np.sort(place[cell.rows]))
        if result is not None:
            tested.append((index, result[2]))
    if not tested:
        return table_rows
    p = tester.p_values([statistic for _, statistic in tested], two_sided=True)
    rows = list(table_rows)
    for (index, _), raw, by_holm, by_bh in zip(tested, p, holm(p), benjamini_hochberg(p),
                                               strict=True):
        rows[index] = rows[index].model_copy(
            update={"p_value": float(raw), "p_holm": float(by_holm), "p_bh": float(by_bh)})
    return rows
