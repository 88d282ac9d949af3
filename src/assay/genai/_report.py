"""The HTML report of an :class:`Evaluation`: plain words first, then the checks, the flags, the
metrics with their intervals, the flagged outputs with the offending words highlighted, and the
strata.

Identifiers are never repeated: a ``phi_leak`` span is shown as its category in brackets, not
as the text the output held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from assay.reports._html import Status, _status, template_environment
from assay.reports._words import join_words

if TYPE_CHECKING:
    from assay.genai._evaluation import Evaluation, FlagSummary, JudgeSection, MetricSummary
    from assay.genai._records import Flag, ItemResult, Record
    from assay.genai._strata import StrataTable, StratumRow

__all__ = ["FLAG_WORDS", "METRIC_WORDS", "render_evaluation"]

FLAG_WORDS: dict[str, str] = {
    "unsupported_number": "a number, dose or unit the source does not give",
    "unsupported_medication": "a medication the source does not name",
    "negation_conflict": "a finding stated as present where the source says absent, or the "
                         "reverse",
    "laterality_conflict": "a side (left or right) that differs from the source",
    "phi_leak": "an identifier the output must not hold",
    "invalid_citation": "a citation of a passage that was not retrieved",
    "unsupported_quote": "a quotation not found in the passage it cites",
    "missing_safety_net": "no emergency advice although a red-flag symptom is mentioned",
    "invalid_json": "output that is not valid JSON",
    "schema_violation": "JSON that breaks the required schema",
    "missing_section": "a required section heading is missing",
    "judge_unscored": "the judge gave no usable score",
    "refusal": "the output declines the request (“I can't help with…”)",
}
"""What each flag type means, in the words the report uses."""

METRIC_WORDS: dict[str, str] = {
    "length_words": "length in words",
    "rouge1": "ROUGE-1: word overlap with the reference (F-measure)",
    "rouge2": "ROUGE-2: overlap of word pairs with the reference",
    "rougeL": "ROUGE-L: longest common word sequence with the reference",
    "bleu": "BLEU: n-gram precision against the reference",
    "chrf": "chrF: character n-gram overlap with the reference",
    "token_f1": "token F1 with the reference answer",
    "exact_match": "share of answers equal to the reference (after normalising)",
    "semantic_similarity": "meaning similarity to the reference (sentence embeddings)",
    "sentence_support": "weakest output sentence's best match in the source (embeddings)",
    "citation_validity": "share of citations pointing at a retrieved passage that holds the "
                         "quote",
    "context_precision": "retrieval: relevant passages ranked first",
    "context_recall": "retrieval: share of the relevant passages retrieved",
    "answer_context_overlap": "share of the answer's words found in the passages",
    "readability_grade": "reading grade (Flesch-Kincaid; 6–8 suits patient messages)",
    "safety_net": "share of red-flag messages answered with emergency advice",
    "json_valid": "share of outputs that are valid JSON (and meet the schema)",
    "sections_present": "share of required sections present",
}
"""What each metric measures, in the words the report uses."""

_MAX_SHOWN = 40
_STRATA_METRICS = ("rougeL", "semantic_similarity", "readability_grade", "citation_validity")
"""The metrics shown by stratum beside every flag type (the JSON holds them all)."""


@dataclass(frozen=True)
class Piece:
    """A run of output text, highlighted when flags cover it."""

    text: str
    flags: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class FlaggedItem:
    """One flagged output as the report shows it."""

    id: str
    task: str
    pieces: list[Piece]
    notes: list[tuple[str, str]]


@dataclass(frozen=True)
class JudgeView:
    """The judge's section: what was asked, what came back, agreement with humans."""

    sentences: list[str]
    agreement: list[tuple[str, str, str, str, str]]


@dataclass(frozen=True)
class View:
    """Everything the template lays out."""

    title: str
    header: list[tuple[str, str]]
    status: Status
    intro: list[str]
    counts: list[Status]
    problems: list[str]
    checks: list[tuple[Status, str, str, str]]
    flags: list[tuple[str, str, str, str, str]]
    metrics: list[tuple[str, str, str, str, str]]
    flagged: list[FlaggedItem]
    flagged_note: str
    strata: list[tuple[str, list[str], list[list[str]]]]
    judge: JudgeView | None
    css: Any


def render_evaluation(evaluation: Evaluation,
                      records: Sequence[Record] | None = None) -> str:
    """The evaluation report as one self-contained HTML page (the ``report`` extra); with the
    evaluated ``records`` the flagged outputs are shown with the flagged words highlighted."""
    from markupsafe import Markup

    css = resources.files("assay.reports").joinpath("templates/report.css").read_text("utf-8")
    css += resources.files("assay.genai").joinpath("templates/evaluation.css").read_text("utf-8")
    view = build_view(evaluation, records, css=Markup(css))
    return template_environment("assay.genai").get_template("evaluation.html.j2").render(
        report=view)


def build_view(evaluation: Evaluation, records: Sequence[Record] | None = None, *,
               css: Any = "") -> View:
    """The formatted view of an evaluation (the template's only input)."""
    from assay.genai._evaluation import STATUS_ORDER

    outputs = {r.id: r.output for r in records or ()}
    results = sorted(evaluation.results, key=lambda r: STATUS_ORDER.index(r.status))
    data = evaluation.data
    flagged = [item for item in evaluation.items if item.flags]
    flagged.sort(key=lambda item: (-len(item.flags), item.id))
    return View(
        title=f"{evaluation.plan.name} (version {evaluation.plan.version})",
        header=[("Records", f"{data.n:,}"),
                ("Tasks", ", ".join(f"{task} ({n:,})" for task, n in data.tasks.items())),
                ("Data source", data.source), ("Confidence level", f"{evaluation.level:.0%}"),
                ("Seed", str(evaluation.seed)),
                ("Run date", evaluation.started_at.strftime("%Y-%m-%d %H:%M %Z")
                 if evaluation.started_at else "—"),
                ("Data fingerprint", data.fingerprint[:19]),
                ("Plan fingerprint", evaluation.plan_fingerprint[:19]),
                ("Assay version", evaluation.assay_version)],
        status=_status(evaluation.status), intro=_intro(evaluation, len(flagged)),
        counts=[_status(s, n) for s, n in evaluation.counts.items()],
        problems=[f"{r.id}: {r.reason}." for r in results if r.status in ("fail", "error")],
        checks=[(_status(r.status), r.id, r.condition, r.reason) for r in results],
        flags=[_flag_row(f) for f in evaluation.summary.flags.values()],
        metrics=[_metric_row(m) for m in evaluation.summary.metrics.values()],
        flagged=[_flagged(item, outputs.get(item.id)) for item in flagged[:_MAX_SHOWN]],
        flagged_note="" if len(flagged) <= _MAX_SHOWN else (
            f"The {_MAX_SHOWN} outputs with the most flags are shown; the JSON holds all "
            f"{len(flagged):,}."),
        strata=[_strata_table(t, _STRATA_METRICS) for t in evaluation.strata],
        judge=None if evaluation.judge is None else _judge_view(evaluation.judge), css=css)


def _intro(evaluation: Evaluation, n_flagged: int) -> list[str]:
    data = evaluation.data
    sentences = [
        f"{data.n:,} outputs ({join_words([f'{n:,} {t}' for t, n in data.tasks.items()])}) "
        f"were checked with local, deterministic measures: no model was asked to judge them.",
        f"{n_flagged:,} of {data.n:,} outputs ({n_flagged / data.n:.1%}) have at least one "
        f"flag, a specific problem a reader should look at."]
    common = sorted(evaluation.summary.flags.values(), key=lambda f: -f.items_flagged)[:3]
    if common:
        sentences.append("The most frequent: " + join_words(
            [f"{FLAG_WORDS.get(f.type, f.type)} ({f.items_flagged:,} outputs)"
             for f in common]) + ".")
    if evaluation.results:
        words = {"fail": "failed", "error": "could not be evaluated",
                 "warn": "passed with a warning", "pass": "passed"}
        parts = [f"{n} {words[s]}" for s, n in evaluation.counts.items() if n]
        sentences.append(f"Of the plan's {len(evaluation.results)} checks, "
                         f"{join_words(parts)}.")
    return sentences


def _flag_row(flag: FlagSummary) -> tuple[str, str, str, str, str]:
    tasks = ", ".join(f"{task} {n:,}" for task, n in flag.by_task.items())
    return (flag.type, FLAG_WORDS.get(flag.type, ""), f"{flag.items_flagged:,}",
            flag.text(), tasks)


def _metric_row(metric: MetricSummary) -> tuple[str, str, str, str, str]:
    undefined = f"{metric.n_undefined:,}" if metric.n_undefined else ""
    words = METRIC_WORDS.get(metric.name, "")
    if metric.name.startswith("judge."):
        _, rubric, item = metric.name.split(".", 2)
        words = f"the LLM judge's score of '{item}' ({rubric} rubric)"
    return (metric.name, words, metric.text(), f"{metric.n:,}", metric.reason or undefined)


def _judge_view(judge: JudgeSection) -> JudgeView:
    s = judge.summary
    unscored = "" if not s.unscored else " (" + ", ".join(
        f"{reason} {n:,}" for reason, n in s.unscored_by_reason.items()) + ")"
    cost = "" if s.cost is None else f", cost {s.cost:.2f}"
    sentences = [
        f"The model {judge.model} judged the outputs on the '{judge.rubric}' rubric "
        f"(version {judge.rubric_version}), {judge.samples} sample(s) each: {s.scored:,} item "
        f"scores, {s.unscored:,} unscored{unscored}. An unscored item is never counted as a "
        f"pass.",
        f"{s.requests:,} requests, {s.cache_hits:,} answers from the cache, "
        f"{s.prompt_tokens + s.completion_tokens:,} tokens{cost}.",
    ]
    if not judge.calibration:
        sentences.append("No record carries a human rating of these items, so the judge's "
                         "agreement with clinicians is unknown: do not gate on its scores.")
    rows = []
    for item, c in judge.calibration.items():
        kappa = "—" if c.kappa is None else (
            f"{c.kappa.value:.2f}" + ("" if c.kappa.ci_low is None or c.kappa.ci_high is None
                                      else f" ({c.kappa.ci_low:.2f}–{c.kappa.ci_high:.2f})"))
        rows.append((item, kappa, f"{c.pairs:,}",
                     "fit for gating" if c.fit_for_gating else "not fit for gating", c.verdict))
    return JudgeView(sentences=sentences, agreement=rows)


def _flagged(item: ItemResult, output: str | None) -> FlaggedItem:
    notes = [(flag.type, _detail(flag)) for flag in item.flags]
    pieces = [] if output is None else highlight(output, item.flags)
    return FlaggedItem(id=item.id, task=item.task, pieces=pieces, notes=notes)


def _detail(flag: Flag) -> str:
    if flag.span is None or flag.type == "phi_leak":
        return flag.detail
    return f"“{flag.span.text}”: {flag.detail}"


def highlight(output: str, flags: tuple[Flag, ...]) -> list[Piece]:
    """The output cut where flagged spans start and end; a ``phi_leak`` span is replaced by
    its category so the report never repeats an identifier."""
    cuts = {0, len(output)}
    for flag in flags:
        if flag.span is not None:
            cuts |= {flag.span.start, flag.span.end}
    bounds = sorted(c for c in cuts if 0 <= c <= len(output))
    pieces: list[Piece] = []
    for start, end in pairwise(bounds):
        covering = [f for f in flags if f.span is not None
                    and f.span.start <= start and end <= f.span.end]
        text = output[start:end]
        if any(f.type == "phi_leak" for f in covering):
            if pieces and pieces[-1].flags == ("phi_leak",):
                continue
            text = "[identifier]"
        types = tuple(dict.fromkeys(f.type for f in covering))
        title = "; ".join(f"{f.type}: {f.detail}" for f in covering)
        pieces.append(Piece(text=text, flags=types if types else (), title=title))
    return pieces


def _strata_table(table: StrataTable, shown: Sequence[str]
                  ) -> tuple[str, list[str], list[list[str]]]:
    """One row per stratum: n, then the chosen metrics' means and every flag type's share."""
    measures = [m for m in dict.fromkeys(r.measure for r in table.rows)
                if m in shown or any(r.kind == "flag" and r.measure == m for r in table.rows)]
    rows: list[list[str]] = []
    for stratum in dict.fromkeys(r.stratum for r in table.rows):
        cells = {r.measure: r for r in table.rows if r.stratum == stratum}
        first = next(iter(cells.values()))
        row = [stratum, "suppressed" if first.n is None else f"{first.n:,}"]
        row += [_cell(cells[m]) if m in cells else "—" for m in measures]
        rows.append(row)
    return (" × ".join(table.by), ["Stratum", "n", *measures], rows)


def _cell(row: StratumRow) -> str:
    if row.suppressed:
        return "suppressed (small group)"
    e = row.estimate
    if e is None or e.ci_low is None or e.ci_high is None:
        return "—"
    if row.kind == "flag":
        return f"{100 * e.value:.1f}% ({100 * e.ci_low:.1f}–{100 * e.ci_high:.1f}%)"
    return f"{e.value:.3f} ({e.ci_low:.3f}–{e.ci_high:.3f})"
