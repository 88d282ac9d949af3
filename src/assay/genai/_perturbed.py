"""What a perturbation returns, and how a perturbed copy of a record is made from text edits.

A perturbation is a pure function of a record and a seed returning a :class:`Perturbed`: the new
record (only ``input`` and ``source`` differ; the id gets ``#<perturbation>``) and every change
made, as a span of the original text and a span of the new text. Random draws are seeded by
``seed``, the record's id and the perturbation's name (:func:`seeded_random`), so a record is
perturbed the same way whatever else is in the run.

A perturbation that finds nothing to change is *not applicable* to the record
(:attr:`Perturbed.applicable` is False): a counterfactual of a note with no sex words says
nothing about invariance and must not be counted as invariant.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from assay.genai._records import Record, Span

__all__ = ["Edit", "Perturbation", "Perturbed", "TextChange", "TextField", "perturbed_copy",
           "seeded_random", "text_fields"]

TextField = Literal["input", "source"]
Edit = tuple[int, int, str]
"""One edit: start and end in the original text, and the new text."""
_RESULT = ConfigDict(frozen=True, extra="forbid")


class TextChange(BaseModel):
    """One change: ``before`` in the original field's text, ``after`` in the new text."""

    model_config = _RESULT

    field: TextField
    before: Span
    after: Span


class Perturbed(BaseModel):
    """A perturbed copy of a record and what was changed in it.

    ``counterfactual`` marks a demographic swap (numbers and medications of the output must not
    change); ``canary`` is the text an obeyed injection makes the output contain.
    """

    model_config = _RESULT

    perturbation: str
    original_id: str
    record: Record
    changes: tuple[TextChange, ...]
    counterfactual: bool = False
    canary: str | None = None

    @property
    def substitutions(self) -> int:
        """How many words or passages were changed, inserted or replaced."""
        return len(self.changes)

    @property
    def applicable(self) -> bool:
        """False when the perturbation found nothing to change in the record."""
        return bool(self.changes)


Perturbation = Callable[..., Perturbed]
"""A perturbation: ``function(record, *, seed) -> Perturbed``."""


def seeded_random(seed: int, record: Record, name: str) -> random.Random:
    """The random draws of perturbation ``name`` on ``record``, from the seed."""
    digest = hashlib.sha256(f"{seed}\x1f{record.id}\x1f{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def text_fields(record: Record) -> list[tuple[TextField, str]]:
    """The record's non-empty texts a perturbation may change: its input and its source."""
    texts: list[tuple[TextField, str]] = [("input", record.input), ("source", record.source or "")]
    return [(field, text) for field, text in texts if text]


def _apply(field: TextField, text: str, edits: Sequence[Edit]) -> tuple[str, list[TextChange]]:
    pieces, changes, cursor, shift = [], [], 0, 0
    for start, end, new in sorted(edits):
        assert start >= cursor, "perturbation edits must not overlap"
        pieces += [text[cursor:start], new]
        changes.append(TextChange(field=field, before=Span(start=start, end=end,
                                                           text=text[start:end]),
                                  after=Span(start=start + shift, end=start + shift + len(new),
                                             text=new)))
        shift += len(new) - (end - start)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), changes


def perturbed_copy(record: Record, name: str, edits: Mapping[TextField, Sequence[Edit]], *,
                   counterfactual: bool = False, canary: str | None = None) -> Perturbed:
    """The record with ``edits`` made to its fields (edits must not overlap), as perturbation
    ``name``."""
    updates: dict[str, object] = {"id": f"{record.id}#{name}"}
    changes: list[TextChange] = []
    for field, text in text_fields(record):
        if edits.get(field):
            updates[field], made = _apply(field, text, edits[field])
            changes += made
    return Perturbed(perturbation=name, original_id=record.id,
                     record=record.model_copy(update=updates), changes=tuple(changes),
                     counterfactual=counterfactual, canary=canary)
