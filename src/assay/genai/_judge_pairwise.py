"""Pairwise comparison of two outputs for the same source, asked in both orders.

LLM judges favour the answer shown first (or second) often enough to flip a share of
verdicts, so each pair is asked twice, A/B then B/A. A preference is reported only when both
orders name the same output (or both call it a tie); otherwise the result is
``inconsistent``. A failed call or an answer that is not the strict JSON
``{"preferred": "A"|"B"|"tie", "rationale": "..."}`` makes the result ``unscored``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assay.errors import InputError
from assay.genai._client import ChatClient, ChatResult
from assay.genai._judge_parse import parse_preference
from assay.genai._records import Record
from assay.genai._rubrics import Rubric, load_rubric

__all__ = ["PairwiseResult", "compare_pairwise"]

Side = Literal["a", "b", "tie"]
_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["preferred", "rationale"],
    "properties": {"preferred": {"type": "string", "enum": ["A", "B", "tie"]},
                   "rationale": {"type": "string"}}}


class PairwiseResult(BaseModel):
    """The verdict on two outputs and the two answers behind it.

    ``first`` is the verdict with ``record_a`` shown as A, ``second`` with ``record_b`` shown as
    A, both in terms of the records (``"a"``, ``"b"`` or ``"tie"``; None when that call
    failed). ``preferred`` is their common verdict, ``inconsistent`` when they differ, or
    ``unscored`` with ``reason`` when either failed.
    """

    model_config = ConfigDict(frozen=True)

    record_a: str
    record_b: str
    rubric: str
    rubric_version: str
    preferred: Literal["a", "b", "tie", "inconsistent", "unscored"]
    first: Side | None
    second: Side | None
    reason: str | None = None
    rationales: tuple[str, str] = ("", "")
    requests: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None


def compare_pairwise(record_a: Record, record_b: Record, client: ChatClient,
                     rubric: Rubric | str, *, seed: int = 0,
                     temperature: float | None = None) -> PairwiseResult:
    """Ask the judge which of two outputs for the same source is better, in both orders.

    The two records must share their task input and source (or retrieved passages). The
    rubric's items are the criteria and its ``pairwise_prompt`` the question. A preference is
    reported only when both orders agree.
    """
    rubric = load_rubric(rubric) if isinstance(rubric, str) else rubric
    for record in (record_a, record_b):
        rubric.check_record(record)
    if record_a.grounding != record_b.grounding or record_a.input != record_b.input:
        raise InputError(f"records {record_a.id!r} and {record_b.id!r} have different sources "
                         "or inputs; a pairwise comparison judges two outputs for the same one")
    orders = ((record_a, record_b), (record_b, record_a))
    answers = [client.chat(rubric.pairwise_messages(shown_a, shown_b), seed=seed,
                           temperature=temperature, json_schema=_SCHEMA)
               for shown_a, shown_b in orders]
    verdicts: list[Side | None] = []
    texts: list[str] = []
    problems: list[str] = []
    for answer, (shown_a, _), side in zip(answers, orders, ("a", "b"), strict=True):
        verdict, text = _verdict(answer, side)
        verdicts.append(verdict)
        texts.append(text if verdict is not None else "")
        if verdict is None:
            problems.append(f"with {shown_a.id!r} shown as A: {text}")
    first, second = verdicts
    if problems:
        preferred: Literal["a", "b", "tie", "inconsistent", "unscored"] = "unscored"
    elif first == second:
        preferred = first  # type: ignore[assignment]
    else:
        preferred = "inconsistent"
    fresh = [a for a in answers if not a.cached]
    return PairwiseResult(
        record_a=record_a.id, record_b=record_b.id, rubric=rubric.name,
        rubric_version=rubric.version, preferred=preferred, first=first, second=second,
        reason="; ".join(problems) if problems else (
            f"the verdict changed with the order: {first} with {record_a.id!r} shown first, "
            f"{second} with {record_b.id!r} shown first" if preferred == "inconsistent"
            else None),
        rationales=(texts[0], texts[1]), requests=sum(a.attempts for a in fresh),
        cache_hits=sum(a.cached for a in answers),
        prompt_tokens=sum(a.usage.prompt_tokens for a in fresh if a.usage),
        completion_tokens=sum(a.usage.completion_tokens for a in fresh if a.usage),
        cost=sum(a.cost or 0.0 for a in fresh) if client.config.priced else None)


def _verdict(answer: ChatResult, shown_first: str) -> tuple[Side | None, str]:
    if answer.text is None:
        return None, answer.error or "no answer"
    preferred, text = parse_preference(answer.text)
    if preferred is None:
        return None, text
    if preferred == "tie":
        return "tie", text
    if (preferred == "A") == (shown_first == "a"):
        return "a", text
    return "b", text
