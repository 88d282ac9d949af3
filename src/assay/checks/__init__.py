"""Checks, plans and runs: the engine that turns a plan and data into an immutable Run."""

from assay.checks._conditions import Condition
from assay.checks._engine import validate
from assay.checks._plan import Plan, Settings, ThresholdRule
from assay.checks._run import (
    STATUS_ORDER,
    CheckResult,
    DataSummary,
    MetricRecord,
    Run,
    ScoreSummary,
    Status,
)
from assay.checks._specs import Check, ComparisonCheck, MetricCheck

__all__ = [
    "STATUS_ORDER",
    "Check",
    "CheckResult",
    "ComparisonCheck",
    "Condition",
    "DataSummary",
    "MetricCheck",
    "MetricRecord",
    "Plan",
    "Run",
    "ScoreSummary",
    "Settings",
    "Status",
    "ThresholdRule",
    "validate",
]
