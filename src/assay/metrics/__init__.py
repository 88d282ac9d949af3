"""Metrics as plain functions, their registry, and the value type ``Estimate``."""

from assay.metrics._estimate import Estimate, IntervalMethod
from assay.metrics._registry import (
    MetricSpec,
    get_metric,
    list_metrics,
    register_metric,
)

__all__ = [
    "Estimate",
    "IntervalMethod",
    "MetricSpec",
    "get_metric",
    "list_metrics",
    "register_metric",
]
