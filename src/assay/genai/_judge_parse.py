"""Strict reading of a judge's JSON answer, with at most one repair step.

The answer must be one JSON object with exactly one key per rubric item, each holding
``{"score": <integer on the item's scale>, "rationale": "<text>"}``. When the text is not
JSON, one repair is tried: the content of a markdown code fence, else the text from the first
``{`` to the last ``}``. Anything else (a missing or extra key, a repeated key, a score that is
not an integer or lies off the scale) fails with a reason; nothing is ever defaulted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from assay.genai._rubrics import Rubric

__all__ = ["ParseFailure", "ParsedAnswer", "parse_answer", "parse_preference"]

ParseFailure = Literal["invalid_json", "invalid_schema"]
_FENCE = re.compile(r"```[A-Za-z]*\s*\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ParsedAnswer:
    """A judge's answer read strictly: the scores and rationales, or why it failed."""

    scores: Mapping[str, int] = field(default_factory=dict)
    rationales: Mapping[str, str] = field(default_factory=dict)
    failure: ParseFailure | None = None
    reason: str | None = None
    repaired: bool = False


class _Invalid(ValueError):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise _Invalid(f"key {repeated[0]!r} appears more than once")
    return dict(pairs)


def _load(text: str) -> tuple[Any, bool]:
    """The JSON value of ``text`` and whether the one repair step was needed."""
    try:
        return json.loads(text, object_pairs_hook=_no_repeats), False
    except json.JSONDecodeError as first:
        fenced = _FENCE.search(text)
        candidate = fenced.group(1) if fenced else text
        start, end = candidate.find("{"), candidate.rfind("}")
        if start < 0 or end <= start:
            raise ValueError(f"not valid JSON ({first.msg}) and no JSON object found in it"
                             ) from first
        try:
            return json.loads(candidate[start:end + 1], object_pairs_hook=_no_repeats), True
        except json.JSONDecodeError as second:
            raise ValueError(f"not valid JSON ({first.msg}), nor after removing markdown "
                             f"fences and surrounding text ({second.msg})") from second


def _read(text: str) -> tuple[dict[str, Any], bool]:
    if not text.strip():
        raise ValueError("the answer is empty")
    value, repaired = _load(text)
    if not isinstance(value, dict):
        raise _Invalid(f"the answer is a JSON {type(value).__name__}, not an object")
    return value, repaired


def _keys_problem(found: Mapping[str, Any], expected: list[str], where: str) -> str | None:
    missing = [key for key in expected if key not in found]
    extra = sorted(key for key in found if key not in expected)
    if missing:
        return f"{where} misses {', '.join(repr(k) for k in missing)}"
    if extra:
        return f"{where} has unexpected keys {', '.join(repr(k) for k in extra)}"
    return None


def parse_answer(text: str, rubric: Rubric) -> ParsedAnswer:
    """Read a judge's answer for ``rubric`` strictly; a failure says what was wrong."""
    try:
        value, repaired = _read(text)
    except _Invalid as exc:
        return ParsedAnswer(failure="invalid_schema", reason=str(exc))
    except ValueError as exc:
        return ParsedAnswer(failure="invalid_json", reason=str(exc))
    ids = [item.id for item in rubric.items]
    problem = _keys_problem(value, ids, "the answer")
    scores: dict[str, int] = {}
    rationales: dict[str, str] = {}
    for item in rubric.items if problem is None else ():
        entry = value[item.id]
        if not isinstance(entry, dict):
            problem = f"item {item.id!r} is a JSON {type(entry).__name__}, not an object"
            break
        problem = _keys_problem(entry, ["score", "rationale"], f"item {item.id!r}")
        if problem is not None:
            break
        score, rationale = entry["score"], entry["rationale"]
        scale = item.scale
        if isinstance(score, bool) or not isinstance(score, int):
            problem = f"the score of {item.id!r} is {score!r}, not an integer"
        elif not scale.min <= score <= scale.max:
            problem = f"the score of {item.id!r} is {score}, off its scale {scale.min}–{scale.max}"
        elif not isinstance(rationale, str):
            problem = f"the rationale of {item.id!r} is not text"
        if problem is not None:
            break
        scores[item.id], rationales[item.id] = score, rationale
    if problem is not None:
        return ParsedAnswer(failure="invalid_schema", reason=problem, repaired=repaired)
    return ParsedAnswer(scores=scores, rationales=rationales, repaired=repaired)


def parse_preference(text: str) -> tuple[Literal["A", "B", "tie"] | None, str]:
    """Read a pairwise answer ``{"preferred": "A"|"B"|"tie", "rationale": ...}`` strictly:
    the preference (None on failure) and the rationale or the failure's reason."""
    try:
        value, _ = _read(text)
    except ValueError as exc:
        return None, str(exc)
    problem = _keys_problem(value, ["preferred", "rationale"], "the answer")
    if problem is not None:
        return None, problem
    preferred, rationale = value["preferred"], value["rationale"]
    if preferred not in ("A", "B", "tie"):
        return None, f"'preferred' is {preferred!r}, not \"A\", \"B\" or \"tie\""
    if not isinstance(rationale, str):
        return None, "the rationale is not text"
    return preferred, rationale
