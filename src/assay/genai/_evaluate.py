"""Evaluate a generative application's outputs: every local metric that applies to each record,
the flags, a summary with intervals, strata and the plan's checks, in one :class:`Evaluation`.

Which metrics a record gets depends on what it carries:

- with a ``reference``: ``rouge1``, ``rouge2``, ``rougeL``, ``bleu``, ``chrf``, ``token_f1``,
  ``exact_match`` (and ``semantic_similarity`` with embeddings);
- with a source or contexts, for the plan's consistency tasks: the clinical consistency flags
  ``unsupported_number``, ``unsupported_medication``, ``negation_conflict``,
  ``laterality_conflict`` (and ``sentence_support``, the lowest best match of an output
  sentence, with embeddings);
- ``rag``: ``citation_validity``, ``context_precision``, ``context_recall``,
  ``answer_context_overlap`` (flags ``invalid_citation``, ``unsupported_quote``);
- ``patient_message``: ``readability_grade``, ``safety_net`` (flag ``missing_safety_net``);
- ``extraction``: ``json_valid`` (flags ``invalid_json``, ``schema_violation``);
- sections the plan requires for the task: ``sections_present`` (flag ``missing_section``);
- every record: ``length_words`` and the PHI check (flag ``phi_leak``, under the task's
  policy).

A metric that does not apply to a record is absent from its ``metrics``; one that applies but is
undefined (a RAG answer that cites nothing) is None. Everything here is deterministic and local.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np

from assay._frozen import thaw
from assay._version import __version__
from assay.curation._phi import ner_pipeline
from assay.data import json_fingerprint
from assay.errors import InputError
from assay.genai._consistency import consistency_flags
from assay.genai._evaluation import (
    CheckResult,
    DataSummary,
    Evaluation,
    FlagSummary,
    JudgeSection,
    MetricSummary,
    Summary,
)
from assay.genai._judge import JudgeRun, calibrate_item
from assay.genai._lexical import reference_metrics
from assay.genai._lexicon import MedicationLexicon, default_lexicon, lexicon_from_lines
from assay.genai._patient import length as length_words
from assay.genai._patient import readability, safety_net
from assay.genai._phi_leak import default_phi_policy, phi_leaks_batch
from assay.genai._plan import EvalPlan, FlagCheck, MetricCheck
from assay.genai._rag import (
    Score,
    answer_context_overlap,
    citation_validity,
    context_precision,
    context_recall,
)
from assay.genai._records import Flag, ItemResult, Record
from assay.genai._strata import by_strata, mean_estimate
from assay.genai._structure import json_validity, required_sections
from assay.metrics.intervals import proportion_estimate

__all__ = ["evaluate"]

_PER_WORKER = 250
"""Fewer records per worker process than this are measured in one process."""
_JOB: tuple[Sequence[Record], EvalPlan] | None = None

logger = logging.getLogger(__name__)


def evaluate(records: Sequence[Record], plan: EvalPlan | None = None, *,
             source: str = "records", judged: JudgeRun | None = None,
             min_kappa: float = 0.6) -> Evaluation:
    """Measure every record and summarise: the :class:`Evaluation` of ``records`` under
    ``plan`` (the defaults when None). ``source`` names the records in the result.

    With ``judged``, an LLM judge's run on the same records, each record also gets the judge's
    scores (metrics ``judge.<rubric>.<item>``, ``judge_unscored`` flags) and the evaluation
    the judge's agreement with the records' human labels, item by item (fit to gate when the
    lower bound of weighted kappa reaches ``min_kappa``)."""
    plan = plan or EvalPlan()
    if not records:
        raise InputError(f"{source}: no records to evaluate")
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    items = _measure_all(records, plan)
    timings = {"measures": time.perf_counter() - clock}
    mark = time.perf_counter()
    if plan.embeddings:
        items = _with_embeddings(records, items, plan)
        timings["embeddings"] = time.perf_counter() - mark
    judge = None
    if judged is not None:
        items, judge = _with_judge(records, items, judged, plan, min_kappa)
    mark = time.perf_counter()
    settings = plan.settings
    metrics = _metric_summaries(items, plan)
    flags = _flag_summaries(items, settings.level)
    strata = tuple(by_strata(items, by, level=settings.level, small_cell=settings.small_cell,
                             n_boot=settings.n_boot, seed=settings.seed)
                   for by in plan.strata)
    results = tuple(_judge(check, metrics, flags, len(items)) for check in plan.checks)
    timings["summary"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - clock
    logger.info("evaluated %d records in %.1f s", len(records), timings["total"])
    return Evaluation(
        assay_version=__version__, plan=plan, plan_fingerprint=plan.fingerprint,
        data=_summarise(records, source), seed=settings.seed, level=settings.level,
        items=tuple(items), summary=Summary(metrics={m.name: m for m in metrics},
                                             flags={f.type: f for f in flags}),
        strata=strata, results=results, judge=judge,
        started_at=started_at, timings={k: round(v, 4) for k, v in timings.items()})


def _measure_all(records: Sequence[Record], plan: EvalPlan) -> list[ItemResult]:
    """Every record's metrics and flags, in chunks over worker processes when there are many
    (the records are independent; results come back in order, identical to one process)."""
    workers = min(plan.settings.workers or os.cpu_count() or 1, len(records) // _PER_WORKER)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _measure(records, plan)
    global _JOB
    if plan.ner:
        ner_pipeline()  # loaded once here, shared with the forked workers
    size = -(-len(records) // (4 * workers))
    bounds = [(i, min(i + size, len(records))) for i in range(0, len(records), size)]
    _JOB = (records, plan)  # inherited by the forked workers: nothing is pickled but results
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(pool.map(_measure_part, bounds))
    finally:
        _JOB = None
    return [ItemResult.model_validate(item) for part in parts for item in part]


def _measure_part(bounds: tuple[int, int]) -> list[dict[str, Any]]:
    """In a worker: the items of ``records[start:end]`` of the job, as plain data."""
    assert _JOB is not None
    records, plan = _JOB
    start, end = bounds
    return [item.model_dump() for item in _measure(records[start:end], plan)]


def _measure(records: Sequence[Record], plan: EvalPlan) -> list[ItemResult]:
    lexicon = _lexicon(plan)
    return [_item(record, plan, lexicon, leaks)
            for record, leaks in zip(records, _phi(records, plan), strict=True)]


def _lexicon(plan: EvalPlan) -> MedicationLexicon:
    if plan.lexicon is None:
        return default_lexicon()
    return default_lexicon().merged(lexicon_from_lines(plan.lexicon, "the plan's lexicon"))


def _phi(records: Sequence[Record], plan: EvalPlan) -> list[Score]:
    """The PHI check of every output, batched by policy (the NER model runs in batches)."""
    policies = [plan.phi_policy.get(r.task, default_phi_policy(r.task)) for r in records]
    scores: list[Score | None] = [None] * len(records)
    for policy in dict.fromkeys(policies):
        chosen = [i for i, p in enumerate(policies) if p == policy]
        found = phi_leaks_batch([records[i] for i in chosen], policy=policy, ner=plan.ner)
        for i, score in zip(chosen, found, strict=True):
            scores[i] = score
    return [s for s in scores if s is not None]


def _item(record: Record, plan: EvalPlan, lexicon: MedicationLexicon,
          leaks: Score) -> ItemResult:
    values: dict[str, float | None] = {"length_words": length_words(record).value}
    flags: list[Flag] = list(leaks.flags)

    def add(name: str, score: Score) -> None:
        values[name] = score.value
        flags.extend(score.flags)

    if record.reference is not None:
        values.update(reference_metrics(record.output, record.reference))
    if record.task in plan.consistency and (record.source is not None or record.contexts):
        flags.extend(consistency_flags(record, lexicon=lexicon))
    if record.task == "rag":
        add("citation_validity", citation_validity(record))
        add("context_precision", context_precision(record))
        add("context_recall", context_recall(record))
        add("answer_context_overlap", answer_context_overlap(record))
    if record.task == "patient_message":
        values["readability_grade"] = readability(record).grade
        add("safety_net", safety_net(record))
    if record.task == "extraction":
        schema = None if plan.json_schema is None else thaw(plan.json_schema)
        add("json_valid", json_validity(record.output, schema))
    if record.task in plan.sections:
        add("sections_present", required_sections(record.output, plan.sections[record.task]))
    flags = _one_flag_per_identifier(flags)
    flags.sort(key=lambda f: (f.span.start if f.span is not None else -1, f.type))
    return ItemResult(id=record.id, task=record.task, metrics=values, flags=tuple(flags),
                      metadata=record.metadata)


def _with_judge(records: Sequence[Record], items: list[ItemResult], judged: JudgeRun,
                plan: EvalPlan, min_kappa: float) -> tuple[list[ItemResult], JudgeSection]:
    by_id = {item.id: item for item in judged.item_results()}
    missing = [r.id for r in records if r.id not in by_id]
    if missing:
        raise InputError(f"the judge's run has no score for {len(missing)} record(s) "
                         f"({', '.join(missing[:5])}); judge the same records")
    merged = [item.model_copy(update={
        "metrics": {**item.metrics, **by_id[item.id].metrics},
        "flags": (*item.flags, *by_id[item.id].flags)}) for item in items]
    rubric_items = dict.fromkeys(s.item_id for s in judged.scores)
    calibration = {item: calibrate_item(judged, records, item, min_kappa=min_kappa,
                                        level=plan.settings.level, seed=plan.settings.seed)
                   for item in rubric_items if any(item in r.labels for r in records)}
    return merged, JudgeSection(rubric=judged.rubric, rubric_version=judged.rubric_version,
                                model=judged.model, samples=judged.samples,
                                summary=judged.summary, calibration=calibration)


def _one_flag_per_identifier(flags: list[Flag]) -> list[Flag]:
    """An identifier is a PHI leak, not also an unsupported number: flags inside a
    ``phi_leak`` span are dropped, so one problem is counted once."""
    leaks = [f.span for f in flags if f.type == "phi_leak" and f.span is not None]
    return [f for f in flags if f.type == "phi_leak" or f.span is None or not any(
        leak.start <= f.span.start and f.span.end <= leak.end for leak in leaks)]


def _with_embeddings(records: Sequence[Record], items: list[ItemResult],
                     plan: EvalPlan) -> list[ItemResult]:
    """Add ``semantic_similarity`` (to the reference) and ``sentence_support`` (the weakest
    sentence's best match in the source) where they apply."""
    from assay.genai._similarity import semantic_similarity, sentence_support_many

    with_reference = [i for i, r in enumerate(records) if r.reference is not None]
    similarity = dict(zip(with_reference, semantic_similarity(
        [records[i].output for i in with_reference],
        [records[i].reference or "" for i in with_reference]), strict=True)) \
        if with_reference else {}
    grounded = [i for i, r in enumerate(records)
                if r.task in plan.consistency and (r.source is not None or r.contexts)]
    supports = dict(zip(grounded, sentence_support_many(
        [records[i].output for i in grounded], [records[i].grounding for i in grounded]),
        strict=True)) if grounded else {}
    updated = []
    for index, item in enumerate(items):
        extra: dict[str, float | None] = {}
        if index in similarity:
            extra["semantic_similarity"] = float(similarity[index])
        if index in supports:
            extra["sentence_support"] = min((s for _, s in supports[index]), default=None)
        updated.append(item.model_copy(update={"metrics": {**item.metrics, **extra}}))
    return updated


def _metric_summaries(items: Sequence[ItemResult], plan: EvalPlan) -> tuple[MetricSummary, ...]:
    names = list(dict.fromkeys(name for item in items for name in item.metrics))
    settings = plan.settings
    summaries = []
    for index, name in enumerate(names):
        present = [item.metrics[name] for item in items if name in item.metrics]
        values = np.array([v for v in present if v is not None], dtype=np.float64)
        undefined = len(present) - int(values.size)
        if values.size == 0:
            summaries.append(MetricSummary(name=name, n=0, n_undefined=undefined,
                                           reason="undefined for every record it applies to"))
            continue
        proportion = bool(np.isin(values, (0.0, 1.0)).all())
        estimate = mean_estimate(values, proportion=proportion, level=settings.level,
                                 n_boot=settings.n_boot, seed=settings.seed + index)
        summaries.append(MetricSummary(
            name=name, mean=estimate.value, ci_low=estimate.ci_low, ci_high=estimate.ci_high,
            level=settings.level, method=estimate.method, n=int(values.size),
            n_undefined=undefined))
    return tuple(summaries)


def _flag_summaries(items: Sequence[ItemResult], level: float) -> tuple[FlagSummary, ...]:
    types = sorted({flag.type for item in items for flag in item.flags})
    n = len(items)
    summaries = []
    for flag_type in types:
        counts = [sum(f.type == flag_type for f in item.flags) for item in items]
        flagged = sum(c > 0 for c in counts)
        rate = proportion_estimate(flagged, n, level)
        by_task = Counter(item.task for item, c in zip(items, counts, strict=True) if c)
        summaries.append(FlagSummary(
            type=flag_type, items_flagged=flagged, flags=sum(counts), n=n, rate=rate.value,
            ci_low=rate.ci_low, ci_high=rate.ci_high, level=level, by_task=dict(by_task)))
    return tuple(summaries)


def _judge(check: MetricCheck | FlagCheck, metrics: tuple[MetricSummary, ...],
           flags: tuple[FlagSummary, ...], n_items: int) -> CheckResult:
    if isinstance(check, FlagCheck):
        return _judge_flag(check, flags, n_items)
    summary = next((m for m in metrics if m.name == check.metric), None)
    if summary is None or summary.estimate is None:
        why = ("no record has this metric" if summary is None else summary.reason
               or "no value")
        return CheckResult(id=check.label, kind="metric", name=check.metric, status="error",
                           reason=f"'{check.metric}' could not be judged: {why}",
                           condition=str(check.condition))
    estimate = summary.estimate
    status = "pass" if check.condition.holds(estimate) else "fail"
    if status == "pass" and check.warning is not None and not check.warning.holds(estimate):
        status = "warn"
    verdict = {"pass": "meets", "warn": "meets, with a warning on",
               "fail": "does not meet"}[status]
    return CheckResult(
        id=check.label, kind="metric", name=check.metric, status=status,
        reason=f"mean {summary.text()} {verdict} '{check.condition}'"
        + (f" (warns unless '{check.warning}')" if status == "warn" else ""),
        condition=str(check.condition), mean=summary.mean, ci_low=summary.ci_low,
        ci_high=summary.ci_high)


def _judge_flag(check: FlagCheck, flags: tuple[FlagSummary, ...], n: int) -> CheckResult:
    summary = next((f for f in flags if f.type == check.flag), None)
    flagged = 0 if summary is None else summary.items_flagged
    broken: list[str] = []
    if check.max_count is not None and flagged > check.max_count:
        broken.append(f"{flagged} flagged, at most {check.max_count} allowed")
    rate = proportion_estimate(flagged, n, summary.level if summary else 0.95)
    share = f"{100 * rate.value:.1f}% ({100 * (rate.ci_low or 0):.1f}–" \
            f"{100 * (rate.ci_high or 0):.1f}%)"
    if check.condition is not None and not check.condition.holds(rate):
        broken.append(f"the share flagged, {share}, does not meet '{check.condition}'")
    reason = "; ".join(broken) if broken else f"{flagged} of {n} items flagged ({share})"
    condition = " and ".join(
        ([f"count <= {check.max_count}"] if check.max_count is not None else [])
        + ([str(check.condition)] if check.condition is not None else []))
    return CheckResult(
        id=check.label, kind="flag", name=check.flag, status="fail" if broken else "pass",
        reason=reason, condition=condition, count=flagged, mean=rate.value,
        ci_low=rate.ci_low, ci_high=rate.ci_high)


def _summarise(records: Sequence[Record], source: str) -> DataSummary:
    fingerprint = json_fingerprint([r.model_dump(mode="json") for r in records])
    tasks = Counter(r.task for r in records)
    return DataSummary(source=source, fingerprint=fingerprint, n=len(records),
                       tasks=dict(sorted(tasks.items())))
