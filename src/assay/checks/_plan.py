"""Plans: a named, versioned list of checks with roles, thresholds and settings, read from YAML."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assay._frozen import FROZEN
from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.checks._robustness_specs import RobustnessCheck
from assay.checks._specs import (
    CHECK_TAGS,
    Check,
    ComparisonCheck,
    FairnessCheck,
    MetricCheck,
    SegmentCheck,
    readable_grouping,
)
from assay.curation._cohort import CohortSpec
from assay.curation._plan import CurationPlan
from assay.data import Roles, json_fingerprint
from assay.errors import PlanError
from assay.metrics import get_metric

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_DATA_SECTIONS = ("cohort", "quality")


class ThresholdRule(BaseModel):
    """A threshold chosen on the data by a rule rather than fixed in advance.

    ``sensitivity``: the highest threshold whose sensitivity is at least ``target``;
    ``flag_rate``: the lowest threshold that flags at most ``target`` of patients;
    ``youden``: the threshold maximising sensitivity + specificity − 1.
    """

    model_config = _FROZEN

    rule: Literal["sensitivity", "flag_rate", "youden"]
    target: float | None = Field(default=None, gt=0.0, lt=1.0)
    score: str | None = Field(default=None, description="score column; default the first")

    @model_validator(mode="after")
    def _target_when_needed(self) -> ThresholdRule:
        if (self.rule == "youden") != (self.target is None):
            raise ValueError("'youden' takes no target; 'sensitivity' and 'flag_rate' need one")
        return self


class Settings(BaseModel):
    """How intervals are computed for every check of a plan."""

    model_config = _FROZEN

    level: float = Field(default=0.95, gt=0.5, lt=1.0, description="confidence level")
    n_boot: int = Field(default=1000, ge=100, le=100_000, description="bootstrap replicates")
    bootstrap_method: Literal["percentile", "bca"] = "percentile"
    seed: int = Field(default=0, ge=0, description="seed of every random draw of the run")
    small_cell_threshold: int = Field(
        default=11, ge=1, description="groups with fewer patients are suppressed when shared")


class Plan(BaseModel):
    """A validation protocol: which checks, on which columns, at which thresholds.

    Examples
    --------
    >>> plan = Plan(name="demo", checks=[{"metric": "auroc", "condition": "ci_low >= 0.7"}])
    >>> plan.checks[0].label, plan.fingerprint[:7]
    ('auroc', 'sha256:')
    """

    model_config = _FROZEN

    name: str = Field(min_length=1)
    version: str = "1"
    description: str = ""
    roles: Roles | None = Field(default=None, description="may instead come from the CLI")
    thresholds: Annotated[Mapping[str, float | ThresholdRule], *FROZEN] = Field(
        default_factory=dict)
    settings: Settings = Field(default_factory=Settings)
    checks: tuple[Check, ...] = Field(
        default=(), description="may be empty: the run then only describes performance"
    )
    groups: tuple[str, ...] = Field(
        default=(), description="break every metric down by these columns; 'a*b' for the "
        "intersection of two (or more) columns")

    group_metrics: tuple[str, ...] = Field(
        default=(), description="the metrics broken down by group; default every metric")
    cohort: CohortSpec | None = Field(
        default=None, description="inclusion and exclusion steps applied to the data before "
        "anything else; the run keeps the attrition")
    quality: CurationPlan | None = Field(
        default=None, description="data checks on the cohort (as in 'assay curate check'); "
        "each finding is a check of the run")

    @field_validator("group_metrics")
    @classmethod
    def _registered_metrics(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            try:
                get_metric(name)
            except KeyError as exc:
                raise ValueError(exc.args[0]) from None
        return names

    @field_validator("groups")
    @classmethod
    def _groupings(cls, groups: tuple[str, ...]) -> tuple[str, ...]:
        for grouping in groups:
            readable_grouping(grouping)
        return groups

    def group_columns(self) -> tuple[str, ...]:
        """Every column a grouping or a fairness check names, in order of first mention."""
        groupings = [*self.groups,
                     *(c.by for c in self.checks if isinstance(c, FairnessCheck))]
        return tuple(dict.fromkeys(p for g in groupings for p in g.split("*")))

    def columns_used(self) -> tuple[str, ...]:
        """Every data column the plan names besides its roles: groupings, fairness groupings
        and the features of weak-segment searches."""
        features = [f for c in self.checks if isinstance(c, SegmentCheck) for f in c.features]
        return tuple(dict.fromkeys([*self.group_columns(), *features]))

    @model_validator(mode="after")
    def _references_resolve(self) -> Plan:
        labels: set[str] = set()
        for check in self.checks:
            if isinstance(check.threshold, str) and check.threshold not in self.thresholds:
                named = ", ".join(self.thresholds) or "none are defined"
                raise ValueError(
                    f"check {check.label!r} uses threshold {check.threshold!r}, which the plan "
                    f"does not define under 'thresholds:' ({named})"
                )
            if check.label in labels:
                raise ValueError(f"two checks have the id {check.label!r}; give one an 'id:'")
            labels.add(check.label)
        return self

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the plan's canonical JSON: equal plans have equal fingerprints.

        The optional data sections count only when present, so a plan without them keeps the
        fingerprint it had before they existed."""
        absent = {name for name in _DATA_SECTIONS if getattr(self, name) is None}
        return json_fingerprint(self.model_dump(mode="json", exclude=absent))

    def scores_used(self) -> set[str]:
        """Score columns named by the plan's checks and threshold rules."""
        named: set[str] = set()
        for check in self.checks:
            if isinstance(check, MetricCheck | FairnessCheck | SegmentCheck) and check.score:
                named.add(check.score)
            if isinstance(check, ComparisonCheck):
                named |= {check.challenger, check.baseline}
        for rule in self.thresholds.values():
            if isinstance(rule, ThresholdRule) and rule.score:
                named.add(rule.score)
        return named

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        """Read a plan from a YAML file; errors name the file, line and field."""
        path = Path(path)
        return cls.from_yaml(read_yaml_file(path, "plan"), source=str(path))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<plan>") -> Plan:
        """Read a plan from YAML text; ``source`` names it in error messages."""
        document, lines = load_yaml_mapping(
            text, source, "a plan is a YAML mapping with 'name:' and 'checks:'")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise PlanError(describe_validation_error(
                exc, source, lines, what="plan", tags=CHECK_TAGS.values())) from exc

    def to_yaml(self) -> str:
        """The plan as YAML (reads back to an equal plan)."""
        document = self.model_dump(mode="json", exclude_defaults=True)
        for check, written in zip(self.checks, document.get("checks", []), strict=True):
            if isinstance(check, RobustnessCheck):  # the kind is a default, yet it is needed
                kept = check.perturbation.model_dump(mode="json", exclude_defaults=True)
                written["perturbation"] = {"kind": check.perturbation.kind, **kept}
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """JSON Schema of plan files, for editors (``assay schema plan``)."""
        schema = Plan.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "Assay plan"
        return schema
