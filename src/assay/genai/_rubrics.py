"""Judging rubrics as versioned YAML data, and the prompts built from them.

A rubric names the tasks it applies to, the record fields it needs, its items (each a question
with a binary or 1–5 scale and anchor texts, and whether higher or lower is better) and its
prompt templates. Templates are :class:`string.Template` text with these placeholders:

``$items``           the items with their scales and anchors, numbered
``$answer_format``   the JSON the judge must answer, one key per item
``$source``, ``$output``, ``$input``, ``$reference``   the record's texts, fenced (pointwise)
``$output_a``, ``$output_b``                          the two outputs (pairwise)

Untrusted texts are fenced between ``<<<NAME tag>>>`` and ``<<<END NAME tag>>>`` markers whose
``tag`` is a hash of all the texts of the prompt, so a text cannot contain the marker that
closes its own fence. The shipped rubrics (``pdsqi9``, ``correctness``, ``completeness``,
``harm``) are in ``assay/genai/rubrics``; their wording is Assay's own.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assay._frozen import FROZEN
from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.errors import InputError, PlanError
from assay.genai._records import Record, Task

__all__ = ["PromptTemplate", "Rubric", "RubricItem", "Scale", "list_rubrics", "load_rubric"]

RecordField = Literal["source", "output", "input", "reference"]
_POINTWISE = frozenset({"items", "answer_format", "source", "output", "input", "reference"})
_PAIRWISE = frozenset({"items", "source", "input", "output_a", "output_b"})
_STRICT = ConfigDict(frozen=True, extra="forbid")


class Scale(BaseModel):
    """A binary (0/1) or ordinal (``min``..``max``, typically 1–5) scale with anchor texts."""

    model_config = _STRICT

    kind: Literal["binary", "ordinal"]
    min: int = 0
    max: int = 1
    anchors: Annotated[Mapping[int, str], *FROZEN]

    @model_validator(mode="after")
    def _anchored(self) -> Scale:
        if self.kind == "binary" and (self.min, self.max) != (0, 1):
            raise ValueError("a binary scale is 0/1")
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must exceed min ({self.min})")
        outside = sorted(k for k in self.anchors if not self.min <= k <= self.max)
        if outside:
            raise ValueError(f"anchors {outside} lie outside the scale {self.min}–{self.max}")
        if self.min not in self.anchors or self.max not in self.anchors:
            raise ValueError("anchor texts are needed at least for both ends of the scale")
        return self

    @property
    def points(self) -> tuple[int, ...]:
        """Every value of the scale, in order."""
        return tuple(range(self.min, self.max + 1))


class RubricItem(BaseModel):
    """One question of a rubric; ``better`` says which end of the scale is the good one."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str = Field(min_length=1)
    scale: Scale
    better: Literal["higher", "lower"] = "higher"


class PromptTemplate(BaseModel):
    """The system and user messages of a prompt, as ``string.Template`` text."""

    model_config = _STRICT

    system: str = Field(min_length=1)
    user: str = Field(min_length=1)

    def placeholders(self) -> set[str]:
        """The ``$names`` used in the two messages."""
        names: set[str] = set()
        for text in (self.system, self.user):
            template = string.Template(text)
            if not template.is_valid():
                raise ValueError("a template has a '$' that is not a placeholder (write $$)")
            names.update(template.get_identifiers())
        return names


class Rubric(BaseModel):
    """A versioned judging rubric: its items, the tasks it fits and its prompts."""

    model_config = _STRICT

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tasks: tuple[Task, ...] = Field(min_length=1)
    requires: tuple[RecordField, ...] = ("output",)
    requires_one_of: tuple[RecordField, ...] = ()
    items: tuple[RubricItem, ...] = Field(min_length=1)
    prompt: PromptTemplate
    pairwise_prompt: PromptTemplate | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [item.id for item in self.items]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"item ids repeat: {', '.join(repeated)}")
        if "output" not in self.requires:
            raise ValueError("requires must include 'output' (the text being judged)")
        unknown = self.prompt.placeholders() - _POINTWISE
        if unknown:
            raise ValueError(f"prompt uses unknown placeholders: {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(sorted(_POINTWISE))})")
        for needed in ("items", "answer_format", "output"):
            if needed not in self.prompt.placeholders():
                raise ValueError(f"prompt must use ${needed}")
        if self.pairwise_prompt is not None:
            unknown = self.pairwise_prompt.placeholders() - _PAIRWISE
            if unknown:
                raise ValueError("pairwise_prompt uses unknown placeholders: "
                                 f"{', '.join(sorted(unknown))}")
        return self

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the rubric's content: two runs with the same fingerprint asked the same."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def item(self, item_id: str) -> RubricItem:
        """The item with this id; an unknown id is an InputError listing the known ones."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError(f"rubric {self.name!r} has no item {item_id!r} "
                         f"(items: {', '.join(i.id for i in self.items)})")

    def check_record(self, record: Record) -> None:
        """Raise InputError when the record's task or texts do not fit this rubric."""
        if record.task not in self.tasks:
            raise InputError(f"record {record.id!r}: task {record.task!r} is not judged by rubric "
                             f"{self.name!r} (tasks: {', '.join(self.tasks)})")
        for name in self.requires:
            if not _texts(record)[name]:
                raise InputError(f"record {record.id!r}: rubric {self.name!r} needs field "
                                 f"'{name}', which is empty")
        if self.requires_one_of and not any(_texts(record)[n] for n in self.requires_one_of):
            raise InputError(f"record {record.id!r}: rubric {self.name!r} needs one of the "
                             f"fields {', '.join(self.requires_one_of)}; all are empty")

    def messages(self, record: Record) -> list[dict[str, str]]:
        """The chat messages asking a judge to score ``record`` on every item."""
        self.check_record(record)
        texts = _texts(record)
        values = _fenced(texts)
        values["items"] = self.items_text()
        values["answer_format"] = self.answer_format()
        return _render(self.prompt, values)

    def pairwise_messages(self, first: Record, second: Record) -> list[dict[str, str]]:
        """The chat messages asking which of two outputs for the same source is better."""
        if self.pairwise_prompt is None:
            raise InputError(f"rubric {self.name!r} has no pairwise_prompt")
        texts = _texts(first)
        del texts["output"], texts["reference"]
        texts["output_a"], texts["output_b"] = first.output, second.output
        values = _fenced(texts)
        values["items"] = self.items_text()
        return _render(self.pairwise_prompt, values)

    def items_text(self) -> str:
        """The items as numbered questions with their scales and anchors."""
        blocks = []
        for number, item in enumerate(self.items, start=1):
            scale = item.scale
            kind = "0 = no, 1 = yes" if scale.kind == "binary" else f"{scale.min} to {scale.max}"
            lines = [f"{number}. {item.id}: {item.question.strip()} (integer {kind}; "
                     f"{item.better} is better)"]
            lines += [f"   {point}: {text.strip()}"
                      for point, text in sorted(scale.anchors.items())]
            blocks.append("\n".join(lines))
        return "\n".join(blocks)

    def answer_format(self) -> str:
        """The JSON object the judge must answer with, one key per item."""
        parts = [f'"{item.id}": {{"score": <integer {item.scale.min}-{item.scale.max}>, '
                 '"rationale": "<one or two sentences>"}' for item in self.items]
        return "{" + ", ".join(parts) + "}"

    def response_schema(self) -> dict[str, Any]:
        """The JSON schema of a valid answer (for servers that constrain output to a schema)."""
        properties = {item.id: {
            "type": "object", "additionalProperties": False, "required": ["score", "rationale"],
            "properties": {"score": {"type": "integer", "minimum": item.scale.min,
                                     "maximum": item.scale.max},
                           "rationale": {"type": "string"}}} for item in self.items}
        return {"type": "object", "additionalProperties": False,
                "required": [item.id for item in self.items], "properties": properties}


def _texts(record: Record) -> dict[str, str]:
    return {"source": record.grounding, "output": record.output, "input": record.input,
            "reference": record.reference or ""}


def _fenced(texts: Mapping[str, str]) -> dict[str, str]:
    tag = hashlib.sha256("\x00".join(f"{k}\x00{v}" for k, v in sorted(texts.items()))
                         .encode("utf-8")).hexdigest()[:16]
    fenced = {}
    for name, text in texts.items():
        label = name.upper()
        fenced[name] = (f"<<<{label} {tag}>>>\n{text}\n<<<END {label} {tag}>>>" if text
                        else "(not given)")
    return fenced


def _render(prompt: PromptTemplate, values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"role": "system", "content": string.Template(prompt.system).substitute(values)},
            {"role": "user", "content": string.Template(prompt.user).substitute(values)}]


def list_rubrics() -> list[str]:
    """Names of the rubrics shipped with Assay."""
    folder = resources.files("assay.genai").joinpath("rubrics")
    return sorted(entry.name.removesuffix(".yaml") for entry in folder.iterdir()
                  if entry.name.endswith(".yaml") and not entry.name.startswith("_"))


def load_rubric(name_or_path: str | Path, *, version: str | None = None) -> Rubric:
    """A shipped rubric by name (``"pdsqi9"``) or your own from a YAML file.

    ``version`` pins the expected version: a rubric whose version differs is refused, so a
    gate never runs silently on a changed rubric. A malformed rubric file is a
    :class:`~assay.errors.PlanError` naming the line and field.
    """
    text_name = str(name_or_path)
    if isinstance(name_or_path, Path) or text_name.endswith((".yaml", ".yml")):
        source = str(name_or_path)
        text = read_yaml_file(name_or_path, "rubric")
    else:
        if not re.match(r"^[a-z][a-z0-9_]*$", text_name) or text_name not in list_rubrics():
            raise InputError(f"no shipped rubric named {text_name!r} "
                             f"(shipped: {', '.join(list_rubrics())}; or give a .yaml path)")
        source = f"rubric {text_name}"
        text = resources.files("assay.genai").joinpath(f"rubrics/{text_name}.yaml").read_text(
            encoding="utf-8")
    document, lines = load_yaml_mapping(text, source, "a rubric is a YAML mapping")
    try:
        rubric = Rubric.model_validate(document)
    except ValidationError as exc:
        raise PlanError(describe_validation_error(exc, source, lines, what="rubric")) from exc
    if version is not None and rubric.version != version:
        raise InputError(f"{source} is version {rubric.version}, not the pinned {version}")
    return rubric
