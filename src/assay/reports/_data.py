"""The report's Data section: how the cohort was chosen (flow diagram and attrition) and what
the quality checks found in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.reports._format import format_count, format_percent
from assay.reports._words import join_words

if TYPE_CHECKING:
    from assay.checks import CheckResult, Run

__all__ = ["DataSection", "data_section"]

_STATUS_WORDS = {"fail": "failed", "warn": "warned", "pass": "passed"}


@dataclass(frozen=True)
class AttritionRow:
    """One step of the cohort, as a table row."""

    step: int
    action: str
    reason: str
    excluded: str
    left: str


@dataclass(frozen=True)
class FindingRow:
    """One quality finding, as a table row."""

    status: Any
    title: str
    columns: str
    rows: str
    message: str


@dataclass(frozen=True)
class DataSection:
    """Sentences, the flow diagram, the attrition table and the quality findings."""

    sentences: list[str]
    flow: Any
    flow_caption: str
    units: str | None
    attrition: list[AttritionRow]
    findings: list[FindingRow]


def data_section(run: Run, badge: Callable[[str], Any]) -> DataSection | None:
    """The Data section of a run whose plan has a cohort or quality checks, else None;
    ``badge`` turns a status into what the template shows."""
    cohort = run.data.cohort
    quality = [r for r in run.results if r.kind == "quality"]
    if cohort is None and not quality:
        return None
    sentences: list[str] = []
    flow: Any = None
    rows: list[AttritionRow] = []
    if cohort is not None:
        from markupsafe import Markup

        from assay.curation import flow_svg

        kept = format_percent(cohort.n_final / cohort.n_start) if cohort.n_start else "none"
        units = ""
        if cohort.count_by is not None and cohort.units_final is not None:
            units = f" ({format_count(cohort.units_final)} distinct {cohort.count_by})"
        sentences.append(
            f"The plan's cohort “{cohort.name}” kept {format_count(cohort.n_final)} of the "
            f"{format_count(cohort.n_start)} records given{units} ({kept}), after "
            f"{len(cohort.steps)} inclusion and exclusion steps. Every number below describes "
            f"this cohort.")
        flow = Markup(flow_svg(cohort))
        rows = [AttritionRow(
            step=s.step, action="kept only" if s.kind == "include" else "removed",
            reason=s.reason, excluded=format_count(s.n_excluded),
            left=format_count(s.n_after) + (
                f" ({format_count(s.units_after)})" if s.units_after is not None else ""))
            for s in cohort.steps]
    if quality:
        sentences.append(_quality_sentence(quality))
    order = {"fail": 0, "warn": 1, "pass": 2}
    quality.sort(key=lambda r: order.get(r.status, 3))
    findings = [_finding_row(r, badge) for r in quality]
    return DataSection(
        sentences=sentences, flow=flow,
        flow_caption="" if cohort is None else f"How the cohort “{cohort.name}” was chosen",
        units=None if cohort is None else cohort.count_by, attrition=rows, findings=findings)


def _quality_sentence(quality: list[CheckResult]) -> str:
    counts = {s: sum(r.status == s for r in quality) for s in _STATUS_WORDS}
    parts = [f"{format_count(n)} {word}" for s, word in _STATUS_WORDS.items()
             if (n := counts[s])]
    flagged = [r for r in quality if r.status in ("fail", "warn") and r.finding is not None]
    text = (f"Of {format_count(len(quality))} data quality checks on the cohort, "
            f"{join_words(parts)}.")
    if flagged:
        text += (" The findings name the column and how many records are affected; they "
                 "should be resolved, or explained, before the results are relied on.")
    return text


def _finding_row(result: CheckResult, badge: Callable[[str], Any]) -> FindingRow:
    finding = result.finding
    columns = rows = ""
    if finding is not None:
        columns = ", ".join(finding.columns) if len(finding.columns) <= 3 else (
            f"{len(finding.columns)} columns")
        rows = "—" if finding.rule == "target_leakage" else format_count(finding.n_rows)
    return FindingRow(status=badge(result.status), title=result.title, columns=columns, rows=rows,
                      message=result.reason)
