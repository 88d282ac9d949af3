"""The evaluation records of a generative application, read from JSONL and checked at the door.

One record is one output of the application with what it must be judged against::

    {"id": "n-0001", "task": "summarization",
     "input": "Summarise the discharge note for the GP.",
     "source": "72-year-old man admitted with ... Discharged on apixaban 5 mg twice daily.",
     "output": "Admitted with ... Started apixaban 5 mg twice daily.",
     "reference": "...", "metadata": {"sex": "M", "age_group": "65-79"}}

RAG records list their retrieved passages in ``contexts`` (plain strings or ``{id, text}``)
and may name the passages that should have been retrieved in ``reference_contexts``. Human
ratings go in ``labels``; strata (demographics, site, specialty) in ``metadata``. Errors name
the file, the line and the field; a file with any bad record is rejected whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay._frozen import FROZEN
from assay.errors import InputError

__all__ = [
    "TASKS", "Context", "Flag", "ItemResult", "Record", "Span", "Task", "read_records",
    "records_from",
]

Task = Literal["summarization", "qa", "rag", "extraction", "patient_message"]
TASKS: tuple[Task, ...] = ("summarization", "qa", "rag", "extraction", "patient_message")
Scalar: TypeAlias = str | int | float | bool | None
_RECORD = ConfigDict(frozen=True, extra="forbid")


class Context(BaseModel):
    """One retrieved passage: ``id`` is its position (``"1"``, ``"2"``...) when not given."""

    model_config = _RECORD

    id: str
    text: str


class Record(BaseModel):
    """One output of a generative application and what it is judged against."""

    model_config = _RECORD

    id: str = Field(min_length=1)
    task: Task
    output: str
    input: str = ""
    source: str | None = Field(
        default=None, description="the note or context the output must be faithful to")
    contexts: tuple[Context, ...] = Field(default=(), description="retrieved passages (RAG)")
    reference: str | None = Field(default=None, description="a reference output")
    reference_contexts: tuple[str, ...] = Field(
        default=(), description="ids of the passages that should have been retrieved")
    labels: Annotated[Mapping[str, Scalar], *FROZEN] = Field(
        default_factory=dict, description="human ratings, by rubric item")
    metadata: Annotated[Mapping[str, Scalar], *FROZEN] = Field(
        default_factory=dict, description="strata: demographics, site, specialty...")

    @field_validator("contexts", mode="before")
    @classmethod
    def _number_plain_passages(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"id": str(i), "text": v} if isinstance(v, str) else v
                    for i, v in enumerate(value, start=1)]
        return value

    @property
    def grounding(self) -> str:
        """The text the output must be faithful to: the source, else the joined contexts."""
        if self.source is not None:
            return self.source
        return "\n\n".join(c.text for c in self.contexts)


class Span(BaseModel):
    """``output[start:end] == text``: the part of the output a flag is about."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Flag(BaseModel):
    """A problem found in one output: its type, the offending span and a plain sentence."""

    model_config = ConfigDict(frozen=True)

    type: str
    span: Span | None
    detail: str


class ItemResult(BaseModel):
    """What the evaluation found for one record: metric values by name (None when a metric
    does not apply or is undefined for it) and flags."""

    model_config = ConfigDict(frozen=True)

    id: str
    task: Task
    metrics: Annotated[Mapping[str, float | None], *FROZEN] = Field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    metadata: Annotated[Mapping[str, Scalar], *FROZEN] = Field(default_factory=dict)


def records_from(rows: Iterable[Mapping[str, Any]], source: str = "records") -> list[Record]:
    """Records from mappings (row ``i`` is reported as record ``i``, 1-based)."""
    return _validated(((i, row) for i, row in enumerate(rows, start=1)), source, "record")


def read_records(path: str | Path) -> list[Record]:
    """The records of a JSONL file; an error names the file, line and field."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
    rows: list[tuple[int, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
    if not rows:
        raise InputError(f"{path}: no records (expected one JSON object per line)")
    return _validated(rows, str(path), "line")


def _validated(rows: Iterable[tuple[int, Any]], source: str, unit: str) -> list[Record]:
    records: list[Record] = []
    first_line: dict[str, int] = {}
    for number, row in rows:
        where = f"{source}, {unit} {number}"
        if not isinstance(row, Mapping):
            raise InputError(f"{where}: a record is a JSON object, not {type(row).__name__}")
        try:
            record = Record.model_validate(row)
        except ValidationError as exc:
            raise InputError(f"{where}: {_describe(exc)}") from exc
        if record.id in first_line:
            raise InputError(f"{where}: id {record.id!r} repeats {unit} {first_line[record.id]}")
        first_line[record.id] = number
        records.append(record)
    return records


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "record"
    if error["type"] == "missing":
        return f"required field '{field}' is missing"
    if error["type"] == "extra_forbidden":
        known = ", ".join(Record.model_fields)
        return f"unknown field '{field}' (fields: {known})"
    if error["type"] == "literal_error" and field == "task":
        return f"field 'task' is {error['input']!r}; use one of {', '.join(TASKS)}"
    return f"field '{field}': {error['msg']}"
