"""Evaluation: the immutable record of an evaluation plan run on a generative application's
outputs, with everything its reports need.

Its JSON has ``items`` (each ``{id, task, metrics: {name: value}, flags: [{type, span,
detail}], metadata}``) and ``summary`` (``metrics: {name: {mean, ci_low, ci_high, n, ...}}``,
``flags: {type: {items_flagged, rate, ci_low, ci_high, ...}}``), then the strata, the checks and
the plan. ``to_json(timings=False)`` gives the same bytes for the same records, plan and seed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay._frozen import FROZEN
from assay.checks._run import status_counts, worst_status
from assay.genai._agreement import Calibration
from assay.genai._judge import JudgeSummary
from assay.genai._plan import EvalPlan
from assay.genai._records import ItemResult, Record, Task
from assay.genai._strata import StrataTable
from assay.metrics import Estimate, IntervalMethod

__all__ = ["CheckResult", "DataSummary", "Evaluation", "FlagSummary", "JudgeSection",
           "MetricSummary", "Summary"]

Status = Literal["pass", "warn", "fail", "error"]
STATUS_ORDER: tuple[Status, ...] = ("fail", "error", "warn", "pass")
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class MetricSummary(BaseModel):
    """A metric's mean over the records it applies to, with its interval."""

    model_config = _FROZEN

    name: str
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float | None = None
    method: IntervalMethod | None = None
    n: int = Field(description="records with a value")
    n_undefined: int = Field(default=0, description="records it applies to without a value")
    reason: str | None = None

    @property
    def estimate(self) -> Estimate | None:
        """The mean as an Estimate, when there is one."""
        if self.mean is None:
            return None
        return Estimate(value=self.mean, ci_low=self.ci_low, ci_high=self.ci_high,
                        level=self.level or 0.95, method=self.method or "none", n=self.n)

    def text(self) -> str:
        """``0.412 (0.398–0.425)``."""
        if self.mean is None:
            return "—"
        if self.ci_low is None or self.ci_high is None:
            return f"{self.mean:.3f}"
        return f"{self.mean:.3f} ({self.ci_low:.3f}–{self.ci_high:.3f})"


class FlagSummary(BaseModel):
    """How many items a flag type was raised on, and their share with its Wilson interval."""

    model_config = _FROZEN

    type: str
    items_flagged: int
    flags: int = Field(description="flags raised, several possible on one item")
    n: int = Field(description="items evaluated")
    rate: float
    ci_low: float
    ci_high: float
    level: float
    by_task: Annotated[Mapping[str, int], *FROZEN] = Field(default_factory=dict)

    @property
    def estimate(self) -> Estimate:
        """The share of items flagged as an Estimate."""
        return Estimate(value=self.rate, ci_low=self.ci_low, ci_high=self.ci_high,
                        level=self.level, method="wilson", n=self.n,
                        n_events=self.items_flagged)

    def text(self) -> str:
        """``3.0% (1.6–5.6%)``."""
        return (f"{100 * self.rate:.1f}% ({100 * self.ci_low:.1f}–"
                f"{100 * self.ci_high:.1f}%)")


class Summary(BaseModel):
    """Every metric's mean and every flag type's rate."""

    model_config = _FROZEN

    metrics: Annotated[Mapping[str, MetricSummary], *FROZEN]
    flags: Annotated[Mapping[str, FlagSummary], *FROZEN]


class CheckResult(BaseModel):
    """The outcome of one check of the plan."""

    model_config = _FROZEN

    id: str
    kind: Literal["metric", "flag"]
    name: str
    status: Status
    reason: str
    condition: str
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    count: int | None = None


class JudgeSection(BaseModel):
    """An LLM judge's run joined to the evaluation: who judged, what it cost, what failed, and
    its agreement with human labels by rubric item (the judge is fit to gate only where the
    calibration says so)."""

    model_config = _FROZEN

    rubric: str
    rubric_version: str
    model: str
    samples: int
    summary: JudgeSummary
    calibration: Annotated[Mapping[str, Calibration], *FROZEN] = Field(default_factory=dict)


class DataSummary(BaseModel):
    """The records evaluated, without their text."""

    model_config = _FROZEN

    source: str
    fingerprint: str
    n: int
    tasks: Annotated[Mapping[Task, int], *FROZEN]


class Evaluation(BaseModel):
    """The immutable outcome of evaluating records under a plan."""

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    assay_version: str
    plan: EvalPlan
    plan_fingerprint: str
    data: DataSummary
    seed: int
    level: float
    items: tuple[ItemResult, ...]
    summary: Summary
    strata: tuple[StrataTable, ...] = ()
    results: tuple[CheckResult, ...] = ()
    judge: JudgeSection | None = None
    started_at: datetime | None = None
    timings: Annotated[Mapping[str, float], *FROZEN] = Field(default_factory=dict)

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
        """True when no check failed or errored: the CI gate."""
        return not any(r.status in ("fail", "error") for r in self.results)

    def item(self, item_id: str) -> ItemResult:
        """The result of one record, by id."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"no item {item_id!r}")

    def to_json(self, path: str | Path | None = None, *, timings: bool = True) -> str:
        """The evaluation as JSON (written to ``path`` when given); without ``timings`` the
        run date and durations are left out, so equal inputs give equal bytes."""
        exclude = None if timings else {"started_at", "timings"}
        text = json.dumps(self.model_dump(mode="json", exclude=exclude), indent=2,
                          ensure_ascii=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None, *,
                records: Sequence[Record] | None = None) -> str:
        """The evaluation report (needs the ``report`` extra); give the evaluated ``records``
        to show the flagged outputs with the flagged words highlighted."""
        from assay.genai._report import render_evaluation

        html = render_evaluation(self, records)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def to_junit(self, path: str | Path | None = None) -> str:
        """The checks as JUnit XML for CI."""
        from assay.reports._junit import JUnitCase, junit_document

        properties = [("plan_version", self.plan.version),
                      ("plan_fingerprint", self.plan_fingerprint),
                      ("data_source", self.data.source),
                      ("data_fingerprint", self.data.fingerprint), ("n", str(self.data.n)),
                      ("seed", str(self.seed)), ("level", f"{self.level:g}"),
                      ("assay_version", self.assay_version)]
        cases = [JUnitCase(classname=f"{self.plan.name}.{r.kind}", name=r.id, status=r.status,
                           reason=r.reason) for r in self.results]
        xml = junit_document(self.plan.name, properties, cases,
                             seconds=self.timings.get("total"), timestamp=self.started_at)
        if path is not None:
            Path(path).write_text(xml, encoding="utf-8")
        return xml
