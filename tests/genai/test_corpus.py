"""The issue's acceptance measure: on the generated corpus, each flag type is found in the
outputs where it was injected (recall >= 0.9) and rarely raised on faithful ones (<= 0.05).

A detection counts only when a flag of the injected type overlaps the injected words, so a
flag raised elsewhere in the output does not make up for a miss.
"""

from __future__ import annotations

import pytest

from assay.datasets import (
    MEDICATION_LIST_SCHEMA,
    make_extraction_records,
    make_patient_message_records,
    make_rag_records,
    make_summary_records,
)
from assay.genai import EvalPlan, Evaluation, Record, evaluate

SUMMARY_FLAGS = ("unsupported_number", "unsupported_medication", "negation_conflict",
                 "laterality_conflict", "phi_leak")


@pytest.fixture(scope="module")
def summaries() -> tuple[list[Record], Evaluation]:
    records = make_summary_records(500, seed=11, error_rate=0.5)
    return records, evaluate(records)


def _hits(record: Record, evaluation: Evaluation, flag_type: str) -> bool:
    text = str(record.labels["injected_text"])
    start = record.output.find(text)
    assert start >= 0
    end = start + len(text)
    return any(f.type == flag_type and f.span is not None
               and f.span.start < end and start < f.span.end
               for f in evaluation.item(record.id).flags)


def test_each_flag_type_is_found_where_injected_and_rarely_elsewhere(
        summaries: tuple[list[Record], Evaluation]) -> None:
    records, evaluation = summaries
    faithful = [r for r in records if r.labels["injected"] == "none"]
    lines = [f"{'flag type':<24} {'recall':>14} {'false flags':>16}"]
    measured = {}
    for flag_type in SUMMARY_FLAGS:
        injected = [r for r in records if r.labels["injected"] == flag_type]
        found = sum(_hits(r, evaluation, flag_type) for r in injected)
        false = sum(any(f.type == flag_type for f in evaluation.item(r.id).flags)
                    for r in faithful)
        measured[flag_type] = (found / len(injected), false / len(faithful))
        lines.append(f"{flag_type:<24} {found:>4}/{len(injected):<4} {found / len(injected):.3f}"
                     f" {false:>5}/{len(faithful):<4} {false / len(faithful):.3f}")
    print("\n" + "\n".join(lines))
    assert len(faithful) == 250 and all(
        sum(r.labels["injected"] == t for r in records) == 50 for t in SUMMARY_FLAGS)
    for flag_type, (recall, false_rate) in measured.items():
        assert recall >= 0.9, (flag_type, recall)
        assert false_rate <= 0.05, (flag_type, false_rate)


def test_patient_message_rag_and_extraction_problems_are_found() -> None:
    messages = make_patient_message_records(200, seed=5)
    rag = make_rag_records(200, seed=5)
    extraction = make_extraction_records(200, seed=5)
    # the extraction outputs must meet the medication-list schema, as a plan would say
    evaluation = evaluate([*messages, *rag, *extraction],
                          EvalPlan(json_schema=MEDICATION_LIST_SCHEMA))

    def flagged(record: Record, *types: str) -> bool:
        return any(f.type in types for f in evaluation.item(record.id).flags)

    cases = {
        "missing_safety_net": (messages, lambda r: bool(r.labels["missing_safety_net"]),
                               ("missing_safety_net",)),
        "bad_citation": (rag, lambda r: bool(r.labels["bad_citation"]),
                         ("invalid_citation", "unsupported_quote")),
        "invalid_json": (extraction, lambda r: not r.labels["valid_json"],
                         ("invalid_json", "schema_violation")),
    }
    lines = []
    for name, (records, has_problem, types) in cases.items():
        with_problem = [r for r in records if has_problem(r)]
        without = [r for r in records if not has_problem(r)]
        recall = sum(flagged(r, *types) for r in with_problem) / len(with_problem)
        false_rate = sum(flagged(r, *types) for r in without) / len(without)
        lines.append(f"{name:<20} recall {recall:.3f} (n={len(with_problem)}) "
                     f"false {false_rate:.3f} (n={len(without)})")
        assert recall >= 0.9 and false_rate <= 0.05, (name, recall, false_rate)
    print("\n" + "\n".join(lines))
