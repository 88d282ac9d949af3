"""Metrics by subgroup: any registered metric × any grouping, in one tidy typed table.

:func:`metric_by_group` returns a :class:`SubgroupTable` with an overall row, a row per group
of each attribute and per cell of each intersection, each with ``n``, the estimate and its
interval, a ``status`` and the small-cell ``suppressed`` flag. :func:`disparities` compares each
group with a reference group (difference and ratio with bootstrap intervals) and judges the
ratio against a fairness band.
"""

from assay.subgroups._disparities import BandStatus, DisparityRow, DisparityTable, disparities
from assay.subgroups._multiplicity import MultiplicityMethod, adjust, benjamini_hochberg, holm
from assay.subgroups._table import SubgroupRow, SubgroupStatus, SubgroupTable, metric_by_group

__all__ = [
    "BandStatus",
    "DisparityRow",
    "DisparityTable",
    "MultiplicityMethod",
    "SubgroupRow",
    "SubgroupStatus",
    "SubgroupTable",
    "adjust",
    "benjamini_hochberg",
    "disparities",
    "holm",
    "metric_by_group",
]
