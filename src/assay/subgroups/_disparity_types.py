"""The result types of :func:`assay.subgroups.disparities`."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from assay.subgroups._multiplicity import MultiplicityMethod

BandStatus = Literal["within", "possible_breach", "clear_breach", "undefined", "suppressed"]
"""Where a group's ratio to the reference lies against the band ``[1/(1+τ), 1+τ]``.

``within``: the ratio's interval lies entirely inside the band; ``clear_breach``: entirely
outside, and the difference from the reference significant after the table's multiplicity
correction; ``possible_breach``: it crosses a band edge, or lies outside without surviving
the correction; ``undefined``: no ratio or no interval (the row's ``reason`` says why);
``suppressed``: fewer patients than ``small_cell_threshold``.
"""


class DisparityRow(BaseModel):
    """One group compared with the reference group.

    Parameters
    ----------
    group_value
        The group (``"(missing)"`` for missing values; ``*``-joined for an intersection).
    reference_value
        The reference group.
    n
        Patients in the group (``None`` when suppressed).
    value, reference_metric_value
        The metric in the group and in the reference group.
    difference, difference_ci_low, difference_ci_high
        ``value − reference_metric_value`` and its percentile bootstrap interval.
    ratio, ratio_ci_low, ratio_ci_high
        ``value / reference_metric_value`` and its percentile bootstrap interval.
    p_value
        Two-sided p-value of "the metric equals the reference's" (Wald test with the bootstrap
        standard error of the difference).
    p_holm, p_bh
        ``p_value`` adjusted across the table's tested rows by Holm (family-wise error rate)
        and by Benjamini–Hochberg (false discovery rate).
    band_status
        See :data:`BandStatus`.
    reason
        Why the row is ``undefined`` or ``suppressed``, in plain words.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_value: str
    reference_value: str
    n: int | None
    value: float | None = None
    reference_metric_value: float | None = None
    difference: float | None = None
    difference_ci_low: float | None = None
    difference_ci_high: float | None = None
    ratio: float | None = None
    ratio_ci_low: float | None = None
    ratio_ci_high: float | None = None
    p_value: float | None = None
    p_holm: float | None = None
    p_bh: float | None = None
    band_status: BandStatus
    reason: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DisparityRow:
        judged = self.band_status in ("within", "possible_breach", "clear_breach")
        if judged and (self.ratio_ci_low is None or self.ratio_ci_high is None):
            raise ValueError(f"band status {self.band_status!r} needs a ratio interval")
        if not judged and self.reason is None:
            raise ValueError(f"band status {self.band_status!r} needs a reason")
        if self.band_status == "suppressed" and (self.value is not None or self.n is not None):
            raise ValueError("a suppressed row carries no numbers")
        return self


class DisparityTable(BaseModel):
    """A metric's disparities against a reference group, one row per other group.

    Parameters
    ----------
    metric
        Registered metric name.
    attribute
        The grouping attribute (``*``-joined names for an intersection).
    reference
        The reference group's value.
    reference_n
        Patients in the reference group (``None`` for the ideal value).
    reference_rule
        How it was chosen: ``"largest"``, ``"best"``, ``"named"``, or ``"ideal"`` (the
        metric's ideal value, e.g. an O:E ratio of 1, stands in for a reference group).
    tolerance
        ``τ`` of the band ``[1/(1+τ), 1+τ]``.
    level
        Confidence level of the intervals; ``1 − level`` is also the significance level.
    correction
        The multiplicity correction that decides a breach: ``"holm"`` or ``"bh"``. A ratio
        interval outside the band is a ``clear_breach`` only when the row's p-value adjusted
        by this correction is at most ``1 − level``.
    rows
        One row per group other than the reference, in sorted value order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    attribute: str
    reference: str
    reference_n: int | None
    reference_rule: Literal["largest", "best", "named", "ideal"]
    tolerance: float
    level: float
    correction: MultiplicityMethod
    rows: tuple[DisparityRow, ...]

    @property
    def band(self) -> tuple[float, float]:
        """The band ``(1/(1+τ), 1+τ)``."""
        return 1.0 / (1.0 + self.tolerance), 1.0 + self.tolerance

    @property
    def breaches(self) -> tuple[DisparityRow, ...]:
        """The rows in clear breach of the band."""
        return tuple(row for row in self.rows if row.band_status == "clear_breach")

    def to_frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame, with nullable column types."""
        frame = pd.DataFrame(
            [row.model_dump() for row in self.rows], columns=list(DisparityRow.model_fields)
        )
        numbers = [name for name in DisparityRow.model_fields if name not in _TEXT_COLUMNS]
        types: dict[str, str] = {name: "Float64" for name in numbers}
        types.update({name: "string" for name in _TEXT_COLUMNS}, n="Int64")
        return frame.astype(types)


_TEXT_COLUMNS = ("group_value", "reference_value", "band_status", "reason")
