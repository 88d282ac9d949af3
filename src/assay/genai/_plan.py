"""An evaluation plan for a generative application, read from YAML.

Every section is optional; without a plan every local metric that applies to a record runs
with the defaults below::

    name: discharge-summary-v2
    embeddings: true                 # semantic similarity and sentence support (extra)
    phi_policy: {patient_message: thread, summarization: none}
    sections: {summarization: [Diagnosis, Medications, Follow-up]}
    json_schema: extraction-schema.json   # extraction outputs must meet it
    lexicon: formulary.txt           # the hospital's medication list (one name per line)
    consistency: [summarization, rag, qa, extraction]
    strata: [sex, age_group]
    checks:
      - {metric: rougeL, condition: ci_low >= 0.2}
      - {flag: phi_leak, max_count: 0}              # zero tolerance
      - {flag: unsupported_number, condition: ci_high <= 0.05}
    gate:                             # for `assay genai compare`
      metrics: {rougeL: {margin: 0.01}}
      zero_tolerance: [phi_leak, unsupported_medication]
    settings: {level: 0.95, n_boot: 2000, seed: 0, small_cell: 11}

Paths (``json_schema``, ``lexicon``) are relative to the plan file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assay._frozen import FROZEN
from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.checks._conditions import ConditionText
from assay.data import json_fingerprint
from assay.errors import InputError, PlanError
from assay.genai._gate_spec import GateSpec
from assay.genai._phi_leak import PhiPolicy
from assay.genai._records import Task

__all__ = ["EvalPlan", "EvalSettings", "FlagCheck", "MetricCheck"]

_SPEC = ConfigDict(frozen=True, extra="forbid")
CONSISTENCY_TASKS: tuple[Task, ...] = ("summarization", "qa", "rag", "extraction")
"""Tasks whose outputs are checked against their source by default (a patient-message reply
gives advice, such as a number to call, that its thread need not hold)."""


class EvalSettings(BaseModel):
    """How the summary's intervals are computed and shared."""

    model_config = _SPEC

    level: float = Field(default=0.95, gt=0.5, lt=1.0)
    n_boot: int = Field(default=2000, ge=100, le=100_000)
    seed: int = Field(default=0, ge=0)
    small_cell: int = Field(default=11, ge=1, description="strata with fewer items are hidden")
    workers: int | None = Field(
        default=None, ge=1, description="processes measuring records; default one per core")


class MetricCheck(BaseModel):
    """A metric's mean (with its interval) must meet a condition."""

    model_config = _SPEC

    metric: str
    condition: ConditionText
    warning: ConditionText | None = None
    id: str | None = None

    @property
    def label(self) -> str:
        """The check's id."""
        return self.id or self.metric


class FlagCheck(BaseModel):
    """A flag type must stay rare: at most ``max_count`` items flagged, and/or its share of
    items (with its Wilson interval) meeting ``condition``."""

    model_config = _SPEC

    flag: str
    max_count: int | None = Field(default=None, ge=0)
    condition: ConditionText | None = None
    id: str | None = None

    @model_validator(mode="after")
    def _something_to_judge(self) -> FlagCheck:
        if self.max_count is None and self.condition is None:
            raise ValueError("a flag check needs 'max_count:' or 'condition:' (or both)")
        return self

    @property
    def label(self) -> str:
        """The check's id."""
        return self.id or f"flag:{self.flag}"


class EvalPlan(BaseModel):
    """What to measure on a generative application's outputs and what must hold."""

    model_config = _SPEC

    name: str = Field(default="genai-evaluation", min_length=1)
    version: str = "1"
    description: str = ""
    embeddings: bool = Field(default=False, description="needs the 'embeddings' extra")
    ner: bool = Field(default=True, description="find names with the NER model (PHI)")
    phi_policy: Annotated[Mapping[Task, PhiPolicy], *FROZEN] = Field(default_factory=dict)
    sections: Annotated[Mapping[Task, tuple[str, ...]], *FROZEN] = Field(
        default_factory=dict, description="headings each task's outputs must have")
    json_schema: Annotated[Mapping[str, Any], *FROZEN] | None = Field(
        default=None, description="the JSON Schema extraction outputs must meet (inline)")
    lexicon: tuple[str, ...] | None = Field(
        default=None, description="medication names (with 'brand=generic' lines) added to "
        "the shipped list")
    consistency: tuple[Task, ...] = CONSISTENCY_TASKS
    strata: tuple[str, ...] = ()
    checks: tuple[MetricCheck | FlagCheck, ...] = ()
    gate: GateSpec | None = None
    settings: EvalSettings = Field(default_factory=EvalSettings)

    @model_validator(mode="after")
    def _unique_ids(self) -> EvalPlan:
        labels = [c.label for c in self.checks]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"check ids repeat: {', '.join(repeated)}; give each an 'id:'")
        return self

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the plan's canonical JSON."""
        return json_fingerprint(self.model_dump(mode="json"))

    @classmethod
    def load(cls, path: str | Path) -> EvalPlan:
        """Read a plan file; ``json_schema`` and ``lexicon`` given as paths are read relative
        to it. Errors name the file, line and field."""
        path = Path(path)
        source = str(path)
        document, lines = load_yaml_mapping(
            read_yaml_file(path, "evaluation plan"), source,
            "an evaluation plan is a YAML mapping with sections such as 'checks:', "
            "'strata:', 'gate:'")
        document = dict(document)
        folder = path.parent
        if isinstance(document.get("json_schema"), str):
            document["json_schema"] = _read_json(folder / document["json_schema"], source)
        if isinstance(document.get("lexicon"), str):
            document["lexicon"] = _read_lines(folder / document["lexicon"], source)
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise PlanError(describe_validation_error(
                exc, source, lines, what="evaluation plan",
                tags=("metric", "flag"))) from exc


def _read_json(path: Path, plan: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{plan}: json_schema: cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{plan}: json_schema: {path} is not JSON ({exc.msg}, line "
                         f"{exc.lineno})") from exc


def _read_lines(path: Path, plan: str) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{plan}: lexicon: cannot read {path}: {exc.strerror}") from exc
    return tuple(line.strip() for line in text.splitlines()
                 if line.strip() and not line.lstrip().startswith("#"))


Kind = Literal["metric", "flag"]
