"""Metrics by subgroup: any registered metric × any grouping, in one tidy typed table.

:func:`metric_by_group` returns a :class:`SubgroupTable` with an overall row, a row per group
of each attribute and per cell of each intersection, each with ``n``, the estimate and its
interval, a ``status`` and the small-cell ``suppressed`` flag. :func:`disparities` compares each
group with a reference group (difference and ratio with bootstrap intervals) and judges the
ratio against a fairness band; :func:`fairness_audit` does so for a named criterion
(demographic parity, equal opportunity, equalized odds, predictive parity, calibration within
groups, AUROC by group). :func:`weak_segments` searches slices of one or two features for a
metric significantly worse than in the other patients.
"""

from assay.subgroups._disparities import BandStatus, DisparityRow, DisparityTable, disparities
from assay.subgroups._fairness import (
    CRITERIA,
    FairnessAudit,
    FairnessCriterion,
    FairnessStatus,
    fairness_audit,
)
from assay.subgroups._multiplicity import MultiplicityMethod, adjust, benjamini_hochberg, holm
from assay.subgroups._segments import SegmentRow, SegmentTable, SegmentTest, weak_segments
from assay.subgroups._table import SubgroupRow, SubgroupStatus, SubgroupTable, metric_by_group

__all__ = [
    "CRITERIA",
    "BandStatus",
    "DisparityRow",
    "DisparityTable",
    "FairnessAudit",
    "FairnessCriterion",
    "FairnessStatus",
    "MultiplicityMethod",
    "SegmentRow",
    "SegmentTable",
    "SegmentTest",
    "SubgroupRow",
    "SubgroupStatus",
    "SubgroupTable",
    "adjust",
    "benjamini_hochberg",
    "disparities",
    "fairness_audit",
    "holm",
    "metric_by_group",
    "weak_segments",
]
