"""LLM-as-judge: score records on a rubric, with k samples, never inventing a score.

Each record is sent once per sample with the rubric's prompt; sample ``i`` uses seed
``seed + i``. A sample that times out, fails over HTTP or answers anything but the strict
JSON of the rubric counts as failed, with its reason. Per item, the score is the median of
the samples that succeeded (for a binary item, the majority); when an even number of samples
splits, the worse of the two middle values is taken (the conservative choice for a gate).
``agreement`` is the share of successful samples equal to the score. An item is ``unscored``
when fewer than ``min_samples`` samples succeeded; its reason says why.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay._frozen import FROZEN
from assay.errors import InputError
from assay.genai._agreement import Calibration, KappaWeights, calibration
from assay.genai._client import ChatClient, ChatResult, ErrorKind
from assay.genai._judge_parse import ParseFailure, parse_answer
from assay.genai._records import Flag, ItemResult, Record, Task
from assay.genai._rubrics import Rubric, RubricItem, load_rubric

__all__ = ["JudgeCall", "JudgeRun", "JudgeScore", "JudgeSummary", "calibrate_item", "judge"]

logger = logging.getLogger(__name__)

FailureKind = ErrorKind | ParseFailure | Literal["too_few_samples"]
_FROZEN = ConfigDict(frozen=True)


class JudgeCall(BaseModel):
    """One request to the judge (one record, one sample) and how it went."""

    model_config = _FROZEN

    record_id: str
    sample: int
    seed: int | None
    cached: bool
    attempts: int
    latency_s: float
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    failure: ErrorKind | ParseFailure | None = None
    reason: str | None = None
    repaired: bool = False


class JudgeScore(BaseModel):
    """The judge's score of one item of one record.

    ``value`` is None exactly when ``status`` is ``unscored``; ``reason`` then says why (and
    for a scored item, which samples failed, if any). ``samples`` are the k sample values in
    seed order (None for a failed sample); ``agreement`` is the share of successful samples
    equal to ``value``.
    """

    model_config = _FROZEN

    record_id: str
    item_id: str
    value: int | None
    status: Literal["scored", "unscored"]
    failure: FailureKind | None = None
    reason: str | None = None
    samples: tuple[int | None, ...]
    agreement: float | None = None
    rationale: str | None = None


class JudgeSummary(BaseModel):
    """Counts of a judging run: what was scored, what was not and why, and what it cost.

    ``cost`` and the token counts cover the requests made in this run (cache hits are free
    and counted in ``cache_hits``); ``cost`` is None when no prices were configured.
    """

    model_config = _FROZEN

    records: int
    items: int
    scored: int
    unscored: int
    unscored_by_reason: Annotated[Mapping[str, int], *FROZEN] = Field(default_factory=dict)
    calls: int
    requests: int
    cache_hits: int
    parse_failures: int
    parse_failure_rate: float | None
    repaired_answers: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None


class JudgeRun(BaseModel):
    """Everything a judging run produced: the scores, each call and the summary."""

    model_config = _FROZEN

    rubric: str
    rubric_version: str
    rubric_fingerprint: str
    model: str
    samples: int
    record_tasks: Annotated[Mapping[str, Task], *FROZEN]
    scores: tuple[JudgeScore, ...]
    calls: tuple[JudgeCall, ...]
    summary: JudgeSummary

    def score(self, record_id: str, item_id: str) -> JudgeScore:
        """The score of one item of one record."""
        for score in self.scores:
            if score.record_id == record_id and score.item_id == item_id:
                return score
        raise InputError(f"no score for record {record_id!r}, item {item_id!r}")

    def values(self, item_id: str) -> list[int | None]:
        """The item's values in record order (None where unscored)."""
        values = [s.value for s in self.scores if s.item_id == item_id]
        if not values:
            raise InputError(f"rubric {self.rubric!r} has no item {item_id!r}")
        return values

    def item_results(self) -> list[ItemResult]:
        """One :class:`ItemResult` per record: metrics ``judge.<rubric>.<item>`` (None when
        unscored) and a ``judge_unscored`` flag per unscored item."""
        by_record: dict[str, list[JudgeScore]] = {}
        for score in self.scores:
            by_record.setdefault(score.record_id, []).append(score)
        return [ItemResult(
            id=record_id, task=self.record_tasks[record_id],
            metrics={f"judge.{self.rubric}.{s.item_id}": None if s.value is None
                     else float(s.value) for s in scores},
            flags=tuple(Flag(type="judge_unscored", span=None, detail=f"{s.item_id}: {s.reason}")
                        for s in scores if s.status == "unscored"))
            for record_id, scores in by_record.items()]


def judge(
    records: Iterable[Record],
    client: ChatClient,
    rubric: Rubric | str,
    *,
    samples: int = 1,
    seed: int | None = None,
    temperature: float | None = None,
    min_samples: int | None = None,
    concurrency: int = 1,
) -> JudgeRun:
    """Score every record on every item of a rubric with an LLM judge.

    Parameters
    ----------
    records
        The records to judge; every one must fit the rubric's tasks and required fields
        (checked before any request is sent).
    client
        The :class:`ChatClient` of the judge endpoint.
    rubric
        A :class:`Rubric` or the name of a shipped one (``"pdsqi9"``, ``"correctness"``,
        ``"completeness"``, ``"harm"``).
    samples
        k, the number of times each record is judged (seeds ``seed`` .. ``seed + k - 1``).
    seed
        The first seed (default: the client's, 0).
    temperature
        The sampling temperature (default: the client's, 0). With temperature 0 many servers
        return the same answer whatever the seed, and the k samples then agree by design.
    min_samples
        Successful samples needed to score an item (default: a majority of k).
    concurrency
        Requests in flight at once.
    """
    rubric = load_rubric(rubric) if isinstance(rubric, str) else rubric
    records = list(records)
    if samples < 1:
        raise InputError(f"samples must be at least 1, got {samples}")
    needed = samples // 2 + 1 if min_samples is None else min_samples
    if not 1 <= needed <= samples:
        raise InputError(f"min_samples must be between 1 and samples ({samples}), got {needed}")
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    base_seed = client.config.seed if seed is None else seed
    if base_seed is None and samples > 1:
        raise InputError("k samples need distinct seeds: give seed= (or a seed in the client "
                         "config); without one the k requests are identical")
    seeds = [None if base_seed is None else base_seed + i for i in range(samples)]
    ids = [record.id for record in records]
    if len(set(ids)) != len(ids):
        raise InputError("record ids repeat; each record needs its own id")
    prompts = {record.id: rubric.messages(record) for record in records}
    jobs = [(record.id, i) for record in records for i in range(samples)]
    schema = rubric.response_schema()

    def ask(job: tuple[str, int]) -> ChatResult:
        return client.chat(prompts[job[0]], seed=seeds[job[1]], temperature=temperature,
                           json_schema=schema)

    if concurrency == 1:
        answers = [ask(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            answers = list(pool.map(ask, jobs))
    calls: list[JudgeCall] = []
    by_record: dict[str, list[tuple[JudgeCall, Mapping[str, tuple[int, str]] | None]]] = {}
    for (record_id, sample), answer in zip(jobs, answers, strict=True):
        read = _read_call(record_id, sample, seeds[sample], answer, rubric)
        calls.append(read[0])
        by_record.setdefault(record_id, []).append(read)
    scores = [_combine(record.id, item, [outcome for _, outcome in by_record[record.id]],
                       [call for call, _ in by_record[record.id]], needed)
              for record in records for item in rubric.items]
    run = JudgeRun(rubric=rubric.name, rubric_version=rubric.version,
                   rubric_fingerprint=rubric.fingerprint, model=client.config.model,
                   samples=samples, record_tasks={r.id: r.task for r in records},
                   scores=tuple(scores), calls=tuple(calls),
                   summary=_summarise(len(records), rubric, scores, calls,
                                      priced=client.config.priced))
    logger.info("judged %d records on rubric %s %s: %d scored, %d unscored", len(records),
                rubric.name, rubric.version, run.summary.scored, run.summary.unscored)
    return run


def _read_call(record_id: str, sample: int, seed: int | None, answer: ChatResult, rubric: Rubric
               ) -> tuple[JudgeCall, Mapping[str, tuple[int, str]] | None]:
    usage = answer.usage
    common = {"record_id": record_id, "sample": sample, "seed": seed, "cached": answer.cached,
              "attempts": answer.attempts, "latency_s": answer.latency_s, "cost": answer.cost,
              "prompt_tokens": None if usage is None else usage.prompt_tokens,
              "completion_tokens": None if usage is None else usage.completion_tokens}
    if answer.text is None:
        return JudgeCall(**common, failure=answer.error_kind, reason=answer.error), None
    parsed = parse_answer(answer.text, rubric)
    if parsed.failure is not None:
        reason = parsed.reason or ""
        if answer.finish_reason == "length":
            reason += " (the answer was cut at max_tokens)"
        return JudgeCall(**common, failure=parsed.failure, reason=reason,
                         repaired=parsed.repaired), None
    outcome = {item: (parsed.scores[item], parsed.rationales[item]) for item in parsed.scores}
    return JudgeCall(**common, repaired=parsed.repaired), outcome


def _consensus(values: Sequence[int], item: RubricItem) -> int:
    ordered = sorted(values)
    low, high = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    return low if item.better == "higher" else high


def _combine(record_id: str, item: RubricItem,
             outcomes: Sequence[Mapping[str, tuple[int, str]] | None],
             calls: Sequence[JudgeCall], needed: int) -> JudgeScore:
    values = tuple(None if o is None else o[item.id][0] for o in outcomes)
    failed = [call for call in calls if call.failure is not None]
    failures = "; ".join(f"sample {c.sample + 1}: {c.reason}" for c in failed)
    valid = [v for v in values if v is not None]
    if len(valid) < needed:
        kinds = Counter(c.failure for c in failed)
        kind = kinds.most_common(1)[0][0] if len(valid) == 0 else "too_few_samples"
        reason = (f"{len(failed)} of {len(values)} samples failed "
                  f"({needed} successful needed): {failures}")
        return JudgeScore(record_id=record_id, item_id=item.id, value=None, status="unscored",
                          failure=kind, reason=reason, samples=values)
    value = _consensus(valid, item)
    rationale = next(o[item.id][1] for o in outcomes if o is not None and o[item.id][0] == value)
    return JudgeScore(
        record_id=record_id, item_id=item.id, value=value, status="scored",
        reason=(f"{len(failed)} of {len(values)} samples failed: {failures}" if failed
                else None),
        samples=values, agreement=sum(v == value for v in valid) / len(valid),
        rationale=rationale)


def _summarise(n_records: int, rubric: Rubric, scores: Sequence[JudgeScore],
               calls: Sequence[JudgeCall], *, priced: bool) -> JudgeSummary:
    unscored = Counter(str(s.failure) for s in scores if s.status == "unscored")
    answered = [c for c in calls if c.failure not in ("timeout", "connection", "http_status",
                                                       "bad_response")]
    parse_failures = sum(c.failure in ("invalid_json", "invalid_schema") for c in calls)
    fresh = [c for c in calls if not c.cached]
    return JudgeSummary(
        records=n_records, items=len(rubric.items),
        scored=sum(s.status == "scored" for s in scores), unscored=sum(unscored.values()),
        unscored_by_reason=dict(sorted(unscored.items())), calls=len(calls),
        requests=sum(c.attempts for c in fresh), cache_hits=sum(c.cached for c in calls),
        parse_failures=parse_failures,
        parse_failure_rate=parse_failures / len(answered) if answered else None,
        repaired_answers=sum(c.repaired for c in calls),
        prompt_tokens=sum(c.prompt_tokens or 0 for c in fresh),
        completion_tokens=sum(c.completion_tokens or 0 for c in fresh),
        cost=sum(c.cost or 0.0 for c in fresh) if priced else None)


def calibrate_item(run: JudgeRun, records: Sequence[Record], item_id: str, *,
                   min_kappa: float = 0.6, weights: KappaWeights = "quadratic",
                   level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Calibration:
    """How well the judge agrees with the human ratings of one item (``record.labels``).

    Records without a label for the item and items the judge left unscored are left out and
    counted; see :func:`calibration` for the verdict on fitness for gating.
    """
    scores = {s.record_id: s.value for s in run.scores if s.item_id == item_id}
    if not scores:
        raise InputError(f"rubric {run.rubric!r} has no item {item_id!r}")
    missing = [r.id for r in records if r.id not in scores]
    if missing:
        raise InputError(f"records {', '.join(missing[:5])} were not judged in this run")
    labels = [r.labels.get(item_id) for r in records]
    bad = [r.id for r, v in zip(records, labels, strict=True)
           if v is not None and (isinstance(v, bool) or not isinstance(v, int | float))]
    if bad:
        raise InputError(f"label {item_id!r} of records {', '.join(bad[:5])} is not a number")
    return calibration([scores[r.id] for r in records],
                       [None if v is None or isinstance(v, str) else float(v) for v in labels],
                       min_kappa=min_kappa, weights=weights, level=level, n_boot=n_boot,
                       seed=seed)
