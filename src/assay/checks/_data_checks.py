"""The data steps of a run, before any metric: the plan's cohort, then its quality checks.

The cohort narrows the data given to the patients the protocol is about and keeps the
attrition (counts only). The quality checks (:class:`assay.curation.CurationPlan`) then run on
that cohort; each finding becomes a check of the run, so an impossible value or a feature
recorded after the prediction fails the validation the same way a low AUROC does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from assay.checks._plan import Plan
from assay.checks._run import CheckResult
from assay.curation._cohort import Attrition, build_cohort
from assay.curation._rules import Finding
from assay.data import Dataset, Roles, read_table
from assay.errors import InputError

_TITLES = {
    "not_null": "Missing values of {columns}",
    "range": "Values of {columns} within range",
    "allowed_values": "Allowed values of {columns}",
    "unique": "Unique {columns}",
    "regex": "Format of {columns}",
    "row_count": "Number of rows",
    "freshness": "Freshness of {columns}",
    "order": "Order of {columns}",
    "referential": "Every {columns} known",
    "plausible_range": "Physiologically possible values of {columns}",
    "unit_mismatch": "One unit for {columns}",
    "exact_duplicates": "Repeated rows",
    "near_duplicates": "Near-duplicate rows",
    "constant_column": "Constant column {columns}",
    "near_constant_column": "Nearly constant column {columns}",
    "feature_after_prediction": "{columns} known at prediction time",
    "target_leakage": "{columns} not derived from the outcome",
}


def select_cohort(plan: Plan, data: Any, roles: Roles) -> tuple[Dataset, Attrition | None]:
    """The data the plan is about: ``data`` narrowed by the plan's cohort steps (if any),
    with its roles checked on the rows that remain."""
    if isinstance(data, Dataset):
        frame, source = data.frame, data.source
    elif plan.cohort is not None:
        frame, source = read_table(data)
    else:
        return Dataset(data, roles), None
    if plan.cohort is None:
        return data, None
    try:
        cohort = build_cohort(frame, plan.cohort)
    except InputError as exc:
        raise InputError(f"{source}: cohort '{plan.cohort.name}': {exc}") from exc
    selected = cohort.frame.reset_index(drop=True)
    return Dataset(selected, roles, source=source), cohort.attrition


def judge_quality(plan: Plan, data: Dataset) -> tuple[CheckResult, ...]:
    """One check result per finding of the plan's quality section, in plan order."""
    if plan.quality is None:
        return ()
    try:
        findings = plan.quality.run(data.frame, time=plan.quality.time or data.roles.time)
    except InputError as exc:
        raise InputError(f"{data.source}: quality checks: {exc}") from exc
    seen: Counter[str] = Counter()
    results = []
    for finding in findings:
        label = _label(finding)
        seen[label] += 1
        results.append(CheckResult(
            id=label if seen[label] == 1 else f"{label}#{seen[label]}", kind="quality",
            title=_title(finding), status=finding.status, reason=finding.message,
            metric=finding.rule, finding=finding))
    return tuple(results)


def _columns(finding: Finding, *, sep: str) -> str:
    if len(finding.columns) > 3:
        return f"{len(finding.columns)} columns"
    return sep.join(finding.columns)


def _label(finding: Finding) -> str:
    return f"{finding.rule}[{_columns(finding, sep=',')}]"


def _title(finding: Finding) -> str:
    template = _TITLES.get(finding.rule, finding.rule.replace("_", " ").capitalize()
                           + " ({columns})")
    title = template.format(columns=_columns(finding, sep=" and "))
    return title[0].upper() + title[1:]
