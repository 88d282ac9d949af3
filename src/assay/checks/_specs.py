"""Check specifications: what to measure and the condition it must meet.

Checks are frozen pydantic models; in YAML a check's kind follows from its leading key
(``metric:``, ``compare:``, ``fairness:``, ``segments:``, ``robustness:``,
``metamorphic:``), so a plan reads like a protocol. Later capabilities add kinds (drift,
quality, genai) to the ``Check`` union.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from assay._frozen import FROZEN
from assay.checks._conditions import ConditionText, ThresholdRef
from assay.checks._robustness_specs import MetamorphicCheck, RobustnessCheck
from assay.errors import InputError
from assay.metrics import get_metric
from assay.subgroups import CRITERIA, FairnessCriterion, MultiplicityMethod
from assay.subgroups._segments import checked_metric

IntervalChoice = Literal["auto", "delong", "wilson", "bootstrap", "none"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def readable_grouping(grouping: str) -> str:
    """``grouping`` when it names one column or a ``*``-joined intersection of distinct ones."""
    parts = grouping.split("*")
    if any(not part.strip() for part in parts) or len(set(parts)) != len(parts):
        raise ValueError(f"cannot read grouping {grouping!r}; write 'sex' or 'race*sex'")
    return grouping


def _known_metric(name: str) -> str:
    try:
        get_metric(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    return name


class MetricCheck(BaseModel):
    """A metric of one score must meet a condition.

    Examples
    --------
    >>> MetricCheck(metric="auroc", condition="ci_low >= 0.75").label
    'auroc'
    """

    model_config = _FROZEN

    metric: str = Field(description="a registered metric name, e.g. auroc, sensitivity")
    condition: ConditionText = Field(description="fails the check when it does not hold")
    warning: ConditionText | None = Field(
        default=None, description="a stricter condition; when it does not hold the check warns"
    )
    score: str | None = Field(default=None, description="score column; default the first")
    threshold: ThresholdRef | None = Field(
        default=None, description="operating threshold for flag-based metrics"
    )
    params: Annotated[Mapping[str, float | int | str], *FROZEN] = Field(
        default_factory=dict, description="extra metric parameters, e.g. n_bins"
    )
    ci: IntervalChoice = "auto"
    id: str | None = Field(default=None, description="stable id; default built from the spec")
    title: str | None = None

    @field_validator("metric")
    @classmethod
    def _registered(cls, name: str) -> str:
        return _known_metric(name)

    @model_validator(mode="after")
    def _threshold_when_needed(self) -> MetricCheck:
        needs = get_metric(self.metric).score_kind == "threshold"
        if needs and self.threshold is None:
            raise ValueError(f"metric {self.metric!r} is read at a threshold: add 'threshold:'")
        if not needs and self.threshold is not None:
            raise ValueError(f"metric {self.metric!r} does not use a threshold")
        conditions = [c for c in (self.condition, self.warning) if c is not None]
        if self.ci == "none" and any(c.field != "value" for c in conditions):
            raise ValueError("a condition on the interval needs an interval; drop 'ci: none'")
        return self

    @property
    def label(self) -> str:
        """The check's id: given, or built from metric, score and threshold."""
        if self.id:
            return self.id
        parts = [self.metric]
        if self.threshold is not None:
            parts.append(f"@{self.threshold}")
        if self.score:
            parts.append(f"[{self.score}]")
        return "".join(parts)


class ComparisonCheck(BaseModel):
    """A challenger score compared with a baseline score on the same patients.

    The difference is challenger − baseline. For a metric where higher is better,
    non-inferiority holds when the lower bound of the difference is above ``-margin``,
    superiority when it is above ``margin``, equivalence when the interval lies within
    ``[-margin, margin]``; for lower-is-better metrics the signs turn around.
    """

    model_config = _FROZEN

    compare: str = Field(description="a registered metric with a direction, e.g. auroc")
    challenger: str = Field(description="score column of the new model")
    baseline: str = Field(description="score column of the current model")
    test: Literal["noninferiority", "superiority", "equivalence"] = "noninferiority"
    margin: float = Field(default=0.0, ge=0.0)
    threshold: ThresholdRef | None = None
    id: str | None = None
    title: str | None = None

    @field_validator("compare")
    @classmethod
    def _registered(cls, name: str) -> str:
        return _known_metric(name)

    @model_validator(mode="after")
    def _comparable(self) -> ComparisonCheck:
        spec = get_metric(self.compare)
        if spec.greater_is_better is None:
            raise ValueError(
                f"metric {self.compare!r} has no better direction; compare a metric such as "
                "auroc, brier or sensitivity"
            )
        if self.challenger == self.baseline:
            raise ValueError("challenger and baseline must be different score columns")
        if (spec.score_kind == "threshold") != (self.threshold is not None):
            raise ValueError(f"metric {self.compare!r}: 'threshold:' is "
                             + ("required" if spec.score_kind == "threshold" else "not used"))
        if self.test == "equivalence" and self.margin == 0:
            raise ValueError("an equivalence test needs a margin > 0")
        return self

    @property
    def label(self) -> str:
        """The check's id: given, or built from metric and the two scores."""
        return self.id or f"{self.compare}[{self.challenger} vs {self.baseline}]"


class FairnessCheck(BaseModel):
    """A named fairness criterion across the groups of one column, judged in the band.

    Each group's metric is compared with the reference's (ratio with a bootstrap interval);
    a ratio interval outside ``[1/(1+τ), 1+τ]`` that stays significant after the multiplicity
    correction is a clear breach and fails the check; a possible breach warns (or fails with
    ``fail_on: possible_breach``).

    Examples
    --------
    >>> FairnessCheck(fairness="equal_opportunity", by="race", threshold=0.3).label
    'equal_opportunity[race]@0.3'
    """

    model_config = _FROZEN

    fairness: FairnessCriterion = Field(description="the criterion, e.g. equal_opportunity")
    by: str = Field(description="the grouping column; 'a*b' for an intersection")
    threshold: ThresholdRef | None = Field(
        default=None, description="operating threshold, for criteria that read flags")
    score: str | None = Field(default=None, description="score column; default the first")
    reference: str | None = Field(
        default=None, description="'largest', 'best', 'ideal' or a group's value; default "
        "'ideal' for calibration_within_groups, else 'largest'")
    tolerance: float = Field(default=0.25, gt=0.0, description="τ of the band [1/(1+τ), 1+τ]")
    correction: MultiplicityMethod = Field(
        default="holm", description="the multiplicity correction that decides a breach")
    fail_on: Literal["clear_breach", "possible_breach"] = "clear_breach"
    id: str | None = None
    title: str | None = None

    @field_validator("by")
    @classmethod
    def _grouping(cls, by: str) -> str:
        return readable_grouping(by)

    @model_validator(mode="after")
    def _threshold_when_needed(self) -> FairnessCheck:
        needs = CRITERIA[self.fairness].needs_threshold
        if needs and self.threshold is None:
            raise ValueError(f"{self.fairness} reads flags: add 'threshold:'")
        if not needs and self.threshold is not None:
            raise ValueError(f"{self.fairness} does not use a threshold")
        return self

    @property
    def label(self) -> str:
        """The check's id: given, or built from criterion, grouping, threshold and score."""
        if self.id:
            return self.id
        at = "" if self.threshold is None else f"@{self.threshold}"
        of = f"[{self.score}]" if self.score else ""
        return f"{self.fairness}[{self.by}]{at}{of}"


class SegmentCheck(BaseModel):
    """A search for weak segments: slices of one or two features where a metric is
    significantly worse than in the other patients, with Benjamini–Hochberg control.

    Finding a segment warns by default (a segment is a lead for review, not a verdict), or
    fails with ``found: fail``; finding none passes.

    Examples
    --------
    >>> SegmentCheck(segments="auroc", features=["age", "payer"]).label
    'weak_segments[auroc]'
    """

    model_config = _FROZEN

    segments: str = Field(description="auroc, or a proportion such as sensitivity or ppv")
    features: tuple[str, ...] = Field(min_length=1, description="columns that define slices")
    threshold: ThresholdRef | None = Field(
        default=None, description="operating threshold for flag-based metrics")
    score: str | None = Field(default=None, description="score column; default the first")
    max_features: Literal[1, 2] = 2
    n_bins: int = Field(default=4, ge=2, le=20, description="bins of a numeric feature")
    min_size: int = Field(default=50, ge=1, description="fewest patients in a slice")
    fdr: float = Field(default=0.05, gt=0, lt=1, description="false discovery rate")
    max_segments: int = Field(default=10, ge=1, description="segments kept in the run")
    found: Literal["warn", "fail"] = "warn"
    id: str | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _testable(self) -> SegmentCheck:
        reads_flags = _known_metric(self.segments) and (
            get_metric(self.segments).score_kind == "threshold")
        if reads_flags != (self.threshold is not None):
            raise ValueError(f"metric {self.segments!r}: 'threshold:' is "
                             + ("required" if reads_flags else "not used"))
        try:
            checked_metric(self.segments, {"threshold": 0.5} if reads_flags else {})
        except InputError as exc:
            raise ValueError(str(exc).removeprefix("metric: ")) from None
        if len(set(self.features)) != len(self.features):
            raise ValueError("a feature is listed twice")
        return self

    @property
    def label(self) -> str:
        """The check's id: given, or built from the metric, threshold and score."""
        at = "" if self.threshold is None else f"@{self.threshold}"
        of = f"[{self.score}]" if self.score else ""
        return self.id or f"weak_segments[{self.segments}]{at}{of}"


CHECK_TAGS = {"metric": "metric-check", "compare": "comparison-check",
              "fairness": "fairness-check", "robustness": "robustness-check",
              "metamorphic": "metamorphic-check", "segments": "segment-check"}
"""The leading key of each check kind in YAML, and the tag of its union member."""


CHECK_CLASSES: dict[type[BaseModel], str] = {  # each check kind and its union tag
    MetricCheck: "metric-check", ComparisonCheck: "comparison-check",
    FairnessCheck: "fairness-check", RobustnessCheck: "robustness-check",
    MetamorphicCheck: "metamorphic-check", SegmentCheck: "segment-check",
}


def _check_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        return next((CHECK_TAGS[key] for key in CHECK_TAGS if key in data), None)
    return CHECK_CLASSES.get(type(data))


Check = Annotated[
    Annotated[MetricCheck, Tag("metric-check")]
    | Annotated[ComparisonCheck, Tag("comparison-check")]
    | Annotated[FairnessCheck, Tag("fairness-check")]
    | Annotated[RobustnessCheck, Tag("robustness-check")]
    | Annotated[MetamorphicCheck, Tag("metamorphic-check")]
    | Annotated[SegmentCheck, Tag("segment-check")],
    Discriminator(
        _check_kind,
        custom_error_type="check_kind",
        custom_error_message="a check starts with one of "
                             + ", ".join(f"'{key}:'" for key in CHECK_TAGS),
    ),
]
