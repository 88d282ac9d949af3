"""Run: the immutable record of a plan run on data."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from assay._frozen import FROZEN
from assay.checks._plan import Plan
from assay.curation._cohort import Attrition
from assay.curation._rules import Finding
from assay.data import Roles
from assay.metrics import Curve, Estimate, IntervalMethod, PairedComparison
from assay.robustness import (
    CounterfactualResult,
    DegradationCurve,
    InvarianceResult,
    MonotonicityResult,
)
from assay.subgroups import FairnessAudit, SegmentTable

Status = Literal["pass", "warn", "fail", "error", "skipped"]
STATUS_ORDER: tuple[Status, ...] = ("fail", "error", "warn", "pass", "skipped")
"""Statuses from the most to the least severe: the order reports list results in."""

S = TypeVar("S", bound=str)


def worst_status(statuses: Iterable[S], order: Sequence[S]) -> S:
    """The most severe of ``statuses`` in ``order`` (most severe first); ``pass`` when none
    is given (a record with no check has nothing that failed)."""
    seen = set(statuses)
    return next((s for s in order if s in seen), cast(S, "pass"))


def status_counts(statuses: Iterable[S], order: Sequence[S]) -> dict[S, int]:
    """How many of ``statuses`` are each status of ``order``, zeros included."""
    counted = Counter(statuses)
    return {s: counted.get(s, 0) for s in order}

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class CheckResult(BaseModel):
    """The outcome of one check: a status, the reason in plain words, and the evidence."""

    model_config = _FROZEN

    id: str
    kind: Literal["quality", "metric", "comparison", "fairness", "segments", "robustness",
                  "metamorphic"]
    title: str
    status: Status
    reason: str
    metric: str
    score: str | None = None
    threshold: float | None = None
    condition: str | None = None
    warning: str | None = None
    estimate: Estimate | None = None
    comparison: PairedComparison | None = None
    fairness: FairnessAudit | None = None
    segments: SegmentTable | None = None
    robustness: DegradationCurve | None = None
    metamorphic: MonotonicityResult | InvarianceResult | CounterfactualResult | None = None
    finding: Finding | None = Field(
        default=None, description="what a data quality check found (kind 'quality')")


class MetricRecord(BaseModel):
    """One metric of one score, as listed in the evaluation table (``metrics`` in JSON)."""

    model_config = _FROZEN

    score: str
    metric: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float | None = None
    method: IntervalMethod | None = None
    n: int | None = Field(description="None only in a suppressed record prepared for sharing")
    n_events: int | None = None
    threshold: float | None = None
    status: Literal["ok", "skipped", "undefined", "empty"] = "ok"
    reason: str | None = None
    group: str | None = Field(
        default=None, description="None overall; the grouping column, or columns joined by '*'")
    group_value: str | None = None
    suppressed: bool = Field(
        default=False, description="fewer patients than the small-cell threshold")
    p_value: float | None = Field(
        default=None, description="group vs the other patients, two-sided (AUROC, proportions)")
    p_holm: float | None = None
    p_bh: float | None = None

    @property
    def estimate(self) -> Estimate | None:
        """The record as an Estimate, when it has a value."""
        if self.value is None or self.n is None:
            return None
        return Estimate(value=self.value, ci_low=self.ci_low, ci_high=self.ci_high,
                        level=self.level or 0.95, method=self.method or "none",
                        n=self.n, n_events=self.n_events)


class ScoreSummary(BaseModel):
    """What a score column looked like."""

    model_config = _FROZEN

    name: str
    probability: bool
    minimum: float
    maximum: float


class DataSummary(BaseModel):
    """The data a run used, without patient-level rows."""

    model_config = _FROZEN

    source: str
    fingerprint: str
    n: int
    n_events: int | None
    scores: tuple[ScoreSummary, ...]
    time_start: str | None = None
    time_end: str | None = None
    cohort: Attrition | None = Field(
        default=None, description="how the plan's cohort steps narrowed the data given "
        "(counts only); n is the number after the last step")


class Run(BaseModel):
    """The immutable outcome of running a plan on data.

    A Run holds everything its reports need, so any stored Run re-renders to the same report.
    ``to_json(timings=False)`` gives the same bytes for the same inputs and seed; the
    ``started_at`` and ``timings`` fields record when and how long, and are the only fields
    that differ between otherwise identical runs.
    """

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    assay_version: str
    plan: Plan
    plan_fingerprint: str
    roles: Roles
    data: DataSummary
    seed: int
    level: float
    thresholds: Annotated[Mapping[str, float], *FROZEN] = Field(
        description="named thresholds, resolved on the data")
    threshold_scores: Annotated[Mapping[str, tuple[str, ...]], *FROZEN] = Field(
        description="the scores each named threshold applies to (it lives on their scale)")
    results: tuple[CheckResult, ...]
    metrics: tuple[MetricRecord, ...]
    comparisons: tuple[PairedComparison, ...]
    curves: Annotated[Mapping[str, Mapping[str, Curve]], *FROZEN] = Field(
        description="score → curve kind → curve")
    redacted: bool = Field(
        default=False, description="prepared for distribution: small cells hidden")
    started_at: datetime | None = None
    timings: Annotated[Mapping[str, float], *FROZEN] = Field(
        default_factory=dict, description="seconds per step")

    @property
    def status(self) -> Status:
        """``fail`` if any check failed, else ``error``, ``warn``, ``pass`` in that order."""
        return worst_status((r.status for r in self.results), STATUS_ORDER)

    @property
    def counts(self) -> dict[Status, int]:
        """How many checks ended in each status."""
        return status_counts((r.status for r in self.results), STATUS_ORDER)

    @property
    def passed(self) -> bool:
        """True when no check failed or errored (warnings allowed): the CI gate."""
        return not any(r.status in ("fail", "error") for r in self.results)

    def failures(self) -> list[CheckResult]:
        """The checks that failed or could not be evaluated."""
        return [r for r in self.results if r.status in ("fail", "error")]

    @property
    def overall_metrics(self) -> tuple[MetricRecord, ...]:
        """The metric records of all patients (``group`` is None)."""
        return tuple(r for r in self.metrics if r.group is None)

    @property
    def group_metrics(self) -> tuple[MetricRecord, ...]:
        """The metric records of groups, in the order the groupings were given."""
        return tuple(r for r in self.metrics if r.group is not None)

    def for_distribution(self) -> Run:
        """A copy safe to share beyond the analysis team: every suppressed group record keeps
        its place, group and flag, but its counts, value and interval become None and its
        reason says why. Complementary disclosure (recovering a hidden count by subtracting the
        other groups from the total) is not prevented."""
        threshold = self.plan.settings.small_cell_threshold
        hidden = {"n": None, "n_events": None, "value": None, "ci_low": None, "ci_high": None,
                  "method": None, "reason": f"suppressed: fewer than {threshold} patients",
                  "p_value": None, "p_holm": None, "p_bh": None}
        metrics = tuple(r.model_copy(update=hidden) if r.suppressed else r for r in self.metrics)
        return self.model_copy(update={"metrics": metrics, "redacted": True})

    def metric(self, name: str, score: str | None = None, *,
               threshold: float | None = None) -> MetricRecord:
        """The evaluation record of one metric, of the first score unless ``score`` is given,
        at ``threshold`` for flag-based metrics (default: the first threshold)."""
        score = score or self.data.scores[0].name
        for record in self.overall_metrics:
            if (record.metric == name and record.score == score
                    and threshold in (None, record.threshold)):
                return record
        at = "" if threshold is None else f" at threshold {threshold:g}"
        raise KeyError(f"no metric {name!r} for score {score!r}{at} in this run")

    def to_dict(self, *, timings: bool = True) -> dict[str, Any]:
        """The run as JSON-ready data; without timings it is reproducible byte for byte."""
        exclude = None if timings else {"started_at", "timings"}
        return self.model_dump(mode="json", exclude=exclude)

    def to_json(self, path: str | Path | None = None, *, timings: bool = True) -> str:
        """Serialise (and write to ``path`` when given); reloads with :meth:`from_json`."""
        text = json.dumps(self.to_dict(timings=timings), indent=2, ensure_ascii=False,
                          allow_nan=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Run:
        """Reload a run written by :meth:`to_json`, from JSON text or a file path."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        return cls.model_validate_json(text)

    def to_html(self, path: str | Path | None = None) -> str:
        """Render the self-contained HTML report (needs the ``report`` extra)."""
        from assay.reports import render_html

        html = render_html(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def to_junit(self, path: str | Path | None = None) -> str:
        """Render JUnit XML for CI systems: one test case per check."""
        from assay.reports import render_junit

        xml = render_junit(self)
        if path is not None:
            Path(path).write_text(xml, encoding="utf-8")
        return xml
