"""What the regression gate checks and what it returns.

The spec (:class:`GateSpec`): a margin and direction per metric, a significance level per flag
type, the zero-tolerance flag types, read from a mapping or YAML with a content fingerprint. The
result (:class:`GateResult`): each metric's and flag type's change from the baseline, each
check's status and its reason in plain words, the decision, and the result as JUnit XML. The
statistics that fill them are in :mod:`assay.genai._gate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay._frozen import FROZEN
from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.data import json_fingerprint
from assay.errors import PlanError
from assay.metrics import Estimate

__all__ = [
    "CheckStatus",
    "Direction",
    "FlagChange",
    "FlagRule",
    "GateCheck",
    "GateResult",
    "GateSpec",
    "McNemarTest",
    "MetricChange",
    "MetricRule",
]

Direction = Literal["higher", "lower"]
CheckStatus = Literal["pass", "warn", "fail"]
McNemarTest = Literal["exact", "chi-square"]
_SPEC = ConfigDict(frozen=True, extra="forbid")


class MetricRule(BaseModel):
    """How one metric is judged: ``margin`` is the largest worsening of its mean tolerated."""

    model_config = _SPEC

    margin: float = Field(default=0.0, ge=0, description="worsening tolerated, metric units")
    direction: Direction = "higher"


class FlagRule(BaseModel):
    """How one flag type is judged: ``alpha`` overrides the spec's for it."""

    model_config = _SPEC

    alpha: float | None = Field(default=None, gt=0, lt=1)


class GateSpec(BaseModel):
    """What the gate checks and how strictly, read from a mapping or YAML::

        metrics: {rouge_l: {margin: 0.01, direction: higher}}
        flags: {unsupported_number: {alpha: 0.01}}
        zero_tolerance: [phi_leak, unsupported_medication]
        alpha: 0.05

    Metrics: those listed, else every metric of the items (higher is better). Flags: every
    type found on either side, plus those listed in ``flags`` and ``zero_tolerance``.
    """

    model_config = _SPEC

    metrics: Annotated[Mapping[str, MetricRule], *FROZEN] = Field(default_factory=dict)
    flags: Annotated[Mapping[str, FlagRule], *FROZEN] = Field(default_factory=dict)
    zero_tolerance: tuple[str, ...] = ()
    alpha: float = Field(default=0.05, gt=0, lt=1, description="McNemar significance level")
    level: float = Field(default=0.95, gt=0.5, lt=1, description="confidence level")
    n_boot: int = Field(default=2000, ge=100, le=100_000, description="bootstrap replicates")

    @field_validator("metrics", "flags", mode="before")
    @classmethod
    def _empty_rules(cls, value: Any) -> Any:
        if isinstance(value, Mapping):  # `rouge_l:` with nothing after it means the defaults
            return {name: {} if rule is None else rule for name, rule in value.items()}
        return value

    @property
    def fingerprint(self) -> str:
        """A stable hash of the spec's content."""
        return json_fingerprint(self.model_dump(mode="json"))

    @classmethod
    def load(cls, path: str | Path) -> GateSpec:
        """Read a gate spec from a YAML file; errors name the file, line and field."""
        return cls.from_yaml(read_yaml_file(path, "gate spec"), source=str(path))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<gate>") -> GateSpec:
        """Read a gate spec from YAML text; ``source`` names it in error messages."""
        document, lines = load_yaml_mapping(
            text, source, "a gate spec is a YAML mapping with 'metrics:', 'flags:' and "
            "'zero_tolerance:'")
        return cls.from_dict(document, source=source, lines=lines)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, source: str = "<gate>",
                  lines: dict[tuple[Any, ...], int] | None = None) -> GateSpec:
        """Validate a gate spec given as a mapping; a bad field is a :class:`PlanError`."""
        try:
            return cls.model_validate(dict(document))
        except ValidationError as exc:
            raise PlanError(describe_validation_error(exc, source, lines or {},
                                                      what="gate spec")) from exc


class MetricChange(BaseModel):
    """A metric's mean on each side and the paired change ``candidate − baseline``, all with
    percentile intervals from the same bootstrap resamples; ``n_excluded`` paired items lacked a
    value on either side."""

    model_config = _SPEC

    baseline: Estimate
    candidate: Estimate
    change: Estimate
    margin: float
    direction: Direction
    n_excluded: int
    n_boot: int


class FlagChange(BaseModel):
    """A flag type's share of items on each side (Wilson; ``n_events`` = items flagged) and
    McNemar's test on the discordant items."""

    model_config = _SPEC

    baseline: Estimate
    candidate: Estimate
    n_baseline_only: int
    n_candidate_only: int
    test: McNemarTest
    statistic: float
    p_value: float
    alpha: float
    zero_tolerance: bool
    candidate_only_ids: tuple[str, ...] = Field(description="paired items flagged only now")
    candidate_ids: tuple[str, ...] = Field(description="candidate items flagged, unpaired too")


class GateCheck(BaseModel):
    """One check of the gate, for one metric or one flag type, with its reason in plain words."""

    model_config = _SPEC

    kind: Literal["metric", "flag"]
    name: str
    status: CheckStatus
    reason: str
    metric: MetricChange | None = None
    flag: FlagChange | None = None


class GateResult(BaseModel):
    """The gate's decision (``fail`` when any check fails; a warning does not fail it)."""

    model_config = _SPEC

    decision: Literal["pass", "fail"]
    checks: tuple[GateCheck, ...]
    n_paired: int
    n_baseline_only: int
    n_candidate_only: int
    spec: GateSpec
    seed: int

    @property
    def counts(self) -> dict[CheckStatus, int]:
        """Checks by status."""
        statuses: tuple[CheckStatus, ...] = ("pass", "warn", "fail")
        return {s: sum(check.status == s for check in self.checks) for s in statuses}

    def __str__(self) -> str:
        counts = self.counts
        return (f"gate {self.decision}: {counts['pass']} passed, {counts['warn']} warned, "
                f"{counts['fail']} failed on {self.n_paired:,} paired items")

    def to_junit(self) -> str:
        """JUnit XML: one test case per check; a failed check has a ``<failure>``, a warning
        is written to ``<system-out>``. The same result always gives the same bytes."""
        from assay.reports._junit import JUnitCase, junit_document

        properties = [("spec_fingerprint", self.spec.fingerprint), ("seed", str(self.seed)),
                      ("n_paired", str(self.n_paired)),
                      ("n_baseline_only", str(self.n_baseline_only)),
                      ("n_candidate_only", str(self.n_candidate_only)),
                      ("decision", self.decision)]
        cases = [JUnitCase(classname=f"genai.gate.{c.kind}", name=c.name, status=c.status,
                           reason=c.reason) for c in self.checks]
        return junit_document("genai-regression-gate", properties, cases)
