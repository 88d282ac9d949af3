"""Fairness criteria by name: each is one or more metrics compared across groups in the band.

A criterion names what should be similar across groups; :func:`fairness_audit` runs
:func:`assay.subgroups.disparities` for each of its metrics and sums the rows up in one status.

==========================  ======================================  ===================
criterion                   compared across groups                  default reference
==========================  ======================================  ===================
demographic_parity          flag rate                               largest group
equal_opportunity           sensitivity                             largest group
equalized_odds              sensitivity and false positive rate     largest group
predictive_parity           PPV                                     largest group
calibration_within_groups   O:E ratio and calibration slope         the ideal value, 1
auroc_parity                AUROC                                   largest group
==========================  ======================================  ===================

Calibration is judged against its ideal rather than a reference group: a group is
well calibrated when its O:E ratio and slope are near 1, whatever the other groups show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import pandas as pd
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict

from assay.errors import InputError
from assay.subgroups._cells import GroupValues
from assay.subgroups._disparities import disparities
from assay.subgroups._disparity_types import DisparityTable
from assay.subgroups._multiplicity import MultiplicityMethod

__all__ = ["CRITERIA", "FairnessAudit", "FairnessCriterion", "FairnessStatus", "fairness_audit"]

FairnessCriterion = Literal[
    "demographic_parity",
    "equal_opportunity",
    "equalized_odds",
    "predictive_parity",
    "calibration_within_groups",
    "auroc_parity",
]
"""The names of the standard fairness criteria."""

FairnessStatus = Literal["within", "possible_breach", "clear_breach", "undefined"]
"""An audit's summary: its worst judged row, or ``undefined`` when no group could be judged."""


class Criterion(BaseModel):
    """What a named criterion compares."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: FairnessCriterion
    title: str
    metrics: tuple[str, ...]
    reference: str
    """Default reference: ``"largest"`` group, or ``"ideal"``."""

    @property
    def needs_threshold(self) -> bool:
        """Whether the criterion reads flags at an operating threshold."""
        return self.name not in ("calibration_within_groups", "auroc_parity")


CRITERIA: Mapping[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            name="demographic_parity",
            title="Demographic parity (flag rate)",
            metrics=("flag_rate",),
            reference="largest",
        ),
        Criterion(
            name="equal_opportunity",
            title="Equal opportunity (sensitivity)",
            metrics=("sensitivity",),
            reference="largest",
        ),
        Criterion(
            name="equalized_odds",
            title="Equalized odds (sensitivity and false positive rate)",
            metrics=("sensitivity", "false_positive_rate"),
            reference="largest",
        ),
        Criterion(
            name="predictive_parity",
            title="Predictive parity (PPV)",
            metrics=("ppv",),
            reference="largest",
        ),
        Criterion(
            name="calibration_within_groups",
            title="Calibration within groups (O:E ratio and calibration slope)",
            metrics=("oe_ratio", "calibration_slope"),
            reference="ideal",
        ),
        Criterion(
            name="auroc_parity", title="AUROC by group", metrics=("auroc",), reference="largest"
        ),
    )
}
"""Every criterion by name."""

_SEVERITY: tuple[FairnessStatus, ...] = ("clear_breach", "possible_breach", "within")


class FairnessAudit(BaseModel):
    """The outcome of one fairness criterion on one attribute.

    Parameters
    ----------
    criterion
        The criterion's name; ``title`` says it in words.
    attribute
        The grouping attribute (``*``-joined for an intersection).
    threshold
        The operating threshold flags were read at (``None`` for calibration and AUROC).
    tables
        One disparity table per metric of the criterion.
    status
        The worst band status over the tables' judged rows: ``clear_breach``, then
        ``possible_breach``, then ``within``; ``undefined`` when no row could be judged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion: FairnessCriterion
    title: str
    attribute: str
    threshold: float | None
    tables: tuple[DisparityTable, ...]
    status: FairnessStatus

    def rows_with(self, status: str) -> list[tuple[str, str]]:
        """``(metric, group)`` pairs whose band status is ``status``."""
        return [
            (t.metric, r.group_value)
            for t in self.tables
            for r in t.rows
            if r.band_status == status
        ]

    def to_frame(self) -> pd.DataFrame:
        """All tables' rows in one frame, with a leading ``metric`` column."""
        frames = [t.to_frame().assign(metric=t.metric) for t in self.tables]
        frame = pd.concat(frames, ignore_index=True)
        return frame[["metric", *[c for c in frame.columns if c != "metric"]]]


def fairness_audit(
    criterion: str,
    y_true: ArrayLike,
    y_score: ArrayLike,
    groups: pd.DataFrame | Mapping[str, GroupValues],
    *,
    attribute: str,
    threshold: float | None = None,
    reference: str | None = None,
    tolerance: float = 0.25,
    correction: MultiplicityMethod = "holm",
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    sample_weight: ArrayLike | None = None,
    small_cell_threshold: int = 11,
) -> FairnessAudit:
    """Judge a named fairness criterion across the groups of one attribute.

    Parameters
    ----------
    criterion
        One of :data:`FairnessCriterion` (see the module notes for what each compares).
    y_true, y_score, groups, attribute
        As for :func:`assay.subgroups.disparities`.
    threshold
        Operating threshold; required by the criteria that read flags, refused by the others.
    reference
        Reference group (``"largest"``, ``"best"``, a group's value, or ``"ideal"``); default
        the criterion's (see the module notes).
    tolerance, correction, level, n_boot, seed, sample_weight, small_cell_threshold
        As for :func:`assay.subgroups.disparities`.

    Raises
    ------
    InputError
        For an unknown criterion, a missing or unexpected threshold, or any input
        :func:`~assay.subgroups.disparities` refuses.

    Examples
    --------
    >>> y = [1] * 40 + [0] * 40 + [1] * 40 + [0] * 40
    >>> score = [0.9] * 32 + [0.1] * 44 + [0.9] * 4 + [0.9] * 16 + [0.1] * 60 + [0.9] * 4
    >>> audit = fairness_audit("equalized_odds", y, score, {"site": ["A"] * 80 + ["B"] * 80},
    ...                        attribute="site", threshold=0.5, reference="A", n_boot=200)
    >>> audit.status, audit.rows_with("clear_breach")
    ('clear_breach', [('sensitivity', 'B')])
    """
    if criterion not in CRITERIA:
        known = ", ".join(get_args(FairnessCriterion))
        raise InputError(f"unknown fairness criterion {criterion!r}; known: {known}")
    spec = CRITERIA[criterion]
    if spec.needs_threshold and threshold is None:
        raise InputError(f"{criterion} reads flags: give the operating threshold")
    if not spec.needs_threshold and threshold is not None:
        raise InputError(f"{criterion} does not use a threshold")
    params: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
    tables = tuple(
        disparities(
            metric,
            y_true,
            y_score,
            groups,
            attribute=attribute,
            reference=reference or spec.reference,
            tolerance=tolerance,
            correction=correction,
            level=level,
            n_boot=n_boot,
            seed=seed,
            sample_weight=sample_weight,
            small_cell_threshold=small_cell_threshold,
            **params,
        )
        for metric in spec.metrics
    )
    statuses = {row.band_status for table in tables for row in table.rows}
    status = next((s for s in _SEVERITY if s in statuses), "undefined")
    return FairnessAudit(
        criterion=spec.name,
        title=spec.title,
        attribute=attribute,
        threshold=threshold,
        tables=tables,
        status=status,
    )
