"""Synthetic GenAI evaluation records: determinism, label consistency, faithfulness of the
faithful outputs, error shares, the summariser pair and variety."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Callable

import pytest
from rouge_score import rouge_scorer

from assay.datasets._summaries import (
    SUMMARISER_ERROR_RATES,
    make_summariser_versions,
    make_summary_records,
)
from assay.datasets._summaries_conditions import CONDITIONS
from assay.datasets._summaries_errors import SUMMARY_ERROR_TYPES
from assay.datasets._summaries_extraction import make_extraction_records
from assay.datasets._summaries_messages import make_patient_message_records
from assay.datasets._summaries_rag import GUIDELINES, make_rag_records
from assay.datasets._summaries_vocab import EXCLUSIONS, FINDINGS, MEDICATIONS
from assay.errors import InputError
from assay.genai._records import Record, Span

GENERATORS: dict[str, Callable[[int, int], list[Record]]] = {
    "summarization": make_summary_records,
    "patient_message": make_patient_message_records,
    "rag": make_rag_records,
    "extraction": make_extraction_records,
}
DATE = (r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}|\d{2}-[A-Z][a-z]{2}-\d{4}"
        r"|[A-Z][a-z]+ \d{1,2}, \d{4}")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def summaries() -> list[Record]:
    return make_summary_records(200, seed=0)


def _normalised(text: str) -> str:
    return re.sub(r"(\d)(mg|mcg|g|mEq|units)\b", r"\1 \2", text)


def _header_phi(source: str) -> list[str]:
    """The identifiers of a note's header, read with patterns of our own."""
    header = source.split("\n\n")[0]
    name = re.search(r"(?:Patient|Name): ([A-Z][\w']+) ([A-Z][\w']+)", header)
    mrn = re.search(r"MRN:? (\d+)", header)
    phone = re.search(r"(?:Phone|Tel):? (.+?)(?: {2,}| \||\n|$)", header)
    assert name and mrn and phone, header
    dates = re.findall(DATE, header)
    assert len(dates) == 3, header
    return [f"{name[1]} {name[2]}", mrn[1], phone[1], *dates]


def _last_name(source: str) -> str:
    found = re.search(r"(?:Patient|Name): [A-Z][\w']+ ([A-Z][\w']+)", source)
    assert found
    return found[1]


@pytest.mark.parametrize("task", sorted(GENERATORS))
def test_same_seed_same_records_other_seed_other_records(task: str) -> None:
    make = GENERATORS[task]
    first, again, other = make(40, 3), make(40, 3), make(40, 4)
    assert first == again
    assert [r.output for r in first] != [r.output for r in other]
    assert len({r.output for r in first} & {r.output for r in other}) < 4


@pytest.mark.parametrize("task", sorted(GENERATORS))
@pytest.mark.parametrize("n", [0, 1, 7, 60])
def test_sizes_ids_and_validation(task: str, n: int) -> None:
    records = GENERATORS[task](n, 1)
    assert len(records) == n
    assert len({r.id for r in records}) == n
    for record in records:
        assert record.task == task
        assert Record.model_validate(record.model_dump(mode="json")) == record
        assert Record.model_validate_json(record.model_dump_json()) == record


def test_a_prefix_of_records_does_not_depend_on_n() -> None:
    short, long = make_summary_records(20, seed=5), make_summary_records(60, seed=5)
    assert [r.source for r in short] == [r.source for r in long[:20]]


@pytest.mark.parametrize("bad", [-1, 2.5, True, "10"])
def test_bad_sizes_are_refused(bad: object) -> None:
    for make in GENERATORS.values():
        with pytest.raises(InputError, match="n must be"):
            make(bad, 0)  # type: ignore[arg-type]


def test_bad_rate_version_and_seed_are_refused() -> None:
    with pytest.raises(InputError, match="error_rate"):
        make_summary_records(10, error_rate=1.5)
    with pytest.raises(InputError, match="version"):
        make_summary_records(10, version="v3")
    with pytest.raises(InputError, match="seed"):
        make_summary_records(10, seed=1.5)  # type: ignore[arg-type]


def test_injected_text_is_one_exact_substring(summaries: list[Record]) -> None:
    for record in summaries:
        text = record.labels["injected_text"]
        assert isinstance(text, str)
        if record.labels["injected"] == "none":
            assert text == ""
            continue
        assert record.output.count(text) == 1, record.id
        start = record.output.index(text)
        span = Span(start=start, end=start + len(text), text=text)
        assert record.output[span.start:span.end] == span.text


def test_no_output_but_a_phi_leak_holds_an_identifier(summaries: list[Record]) -> None:
    leaks = 0
    for record in summaries:
        assert record.source is not None and record.reference is not None
        identifiers = _header_phi(record.source)
        last = re.compile(rf"\b{re.escape(_last_name(record.source))}\b")
        found = [phi for phi in identifiers if phi in record.output]
        assert not any(phi in record.reference for phi in identifiers)
        if record.labels["injected"] == "phi_leak":
            leaks += 1
            text = str(record.labels["injected_text"])
            assert text in record.source.split("\n\n")[0]
            assert found or last.search(record.output), record.id
        else:
            assert found == [], (record.id, found)
            assert not last.search(record.output), record.id
    assert leaks == 20


def test_every_number_of_a_faithful_output_is_in_its_source(summaries: list[Record]) -> None:
    checked = 0
    for record in summaries:
        assert record.source is not None and record.reference is not None
        source = _normalised(record.source)
        texts = [record.reference]
        if record.labels["injected"] == "none":
            texts.append(record.output)
        for text in texts:
            for number in NUMBER.findall(_normalised(text)):
                assert number in source, (record.id, number)
                checked += 1
    assert checked > 3000


def test_injected_errors_are_unsupported_by_the_source(summaries: list[Record]) -> None:
    names = {m.generic: [m.generic, *m.brands] for m in MEDICATIONS.values()}
    for record in summaries:
        assert record.source is not None
        kind, text = record.labels["injected"], str(record.labels["injected_text"])
        source = _normalised(record.source)
        if kind == "unsupported_number":
            numbers = NUMBER.findall(_normalised(text))
            assert any(re.search(rf"(?<![\d.]){re.escape(n)}(?!\.?\d)", source) is None
                       for n in numbers), (record.id, text)
        elif kind == "unsupported_medication":
            added = [g for g, spelled in names.items() if any(s in text for s in spelled)]
            assert added, text
            assert all(s.lower() not in source.lower() for g in added for s in names[g])
        elif kind == "laterality_conflict":
            side = re.search(r"\b(left|right|L|R)\b|\b([LR])LQ\b|\b([LR])LL\b", text)
            assert side, text
            assert text.lower() not in source.lower()


def test_faithful_outputs_name_only_medications_of_their_source(
        summaries: list[Record]) -> None:
    spelled = {s.lower(): m.generic for m in MEDICATIONS.values() for s in (m.generic, *m.brands)}
    brand_names = 0
    for record in summaries:
        if record.labels["injected"] != "none":
            continue
        assert record.source is not None
        for word, generic in spelled.items():
            if re.search(rf"\b{re.escape(word)}\b", record.output.lower()):
                assert generic in record.source, (record.id, word)
                brand_names += word != generic
    assert brand_names > 10


def test_faithful_outputs_name_only_tests_of_their_source(summaries: list[Record]) -> None:
    tests = {e.test for e in EXCLUSIONS.values()}
    named = 0
    for record in summaries:
        assert record.source is not None and record.reference is not None
        texts = [record.reference] + [record.output] * (record.labels["injected"] == "none")
        for text in texts:
            for test in tests:
                if test.lower() in text.lower():
                    assert test.lower() in record.source.lower(), (record.id, test)
                    named += 1
    assert named > 100


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.37, 0.5, 1.0])
def test_error_counts_follow_the_rate(rate: float) -> None:
    records = make_summary_records(93, seed=2, error_rate=rate)
    counts = Counter(str(r.labels["injected"]) for r in records)
    errors = [counts[kind] for kind in SUMMARY_ERROR_TYPES]
    assert sum(errors) == round(93 * rate)
    assert max(errors) - min(errors) <= 1
    assert counts["none"] == 93 - round(93 * rate)


def test_ratings_follow_the_errors(summaries: list[Record]) -> None:
    def mean(kinds: set[str], label: str) -> float:
        return statistics.mean(float(r.labels[label]) for r in summaries  # type: ignore[arg-type]
                               if r.labels["injected"] in kinds)

    for record in summaries:
        assert record.labels["correctness"] in range(1, 6)
        assert record.labels["completeness"] in range(1, 6)
    faithful = mean({"none"}, "correctness")
    serious = mean({"unsupported_number", "unsupported_medication", "negation_conflict"},
                   "correctness")
    assert faithful > 4.6
    assert serious < 3.0
    assert mean({"phi_leak"}, "correctness") > mean({"negation_conflict"}, "correctness")
    assert len({r.labels["completeness"] for r in summaries}) >= 3


def test_the_summariser_versions_share_notes_and_differ_as_documented() -> None:
    baseline, candidate = make_summariser_versions(200, seed=0)
    for before, after in zip(baseline, candidate, strict=True):
        assert (before.id, before.source, before.reference, before.input, before.metadata) == (
            after.id, after.source, after.reference, after.input, after.metadata)
    for version, records in (("v1", baseline), ("v2", candidate)):
        counts = Counter(str(r.labels["injected"]) for r in records)
        for kind, rate in SUMMARISER_ERROR_RATES[version].items():
            assert counts[kind] == round(200 * rate)
    assert sum(r.labels["injected"] != "none" for r in baseline) == 20
    assert sum(r.labels["injected"] != "none" for r in candidate) == 30
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

    def rouge(records: list[Record]) -> float:
        return float(statistics.mean(
            scorer.score(str(r.reference), r.output)["rougeL"].fmeasure for r in records))

    gain = rouge(candidate) - rouge(baseline)
    assert 0.01 < gain < 0.1


def test_variety(summaries: list[Record]) -> None:
    sources = [str(r.source) for r in summaries]
    medications = {g for g in MEDICATIONS if any(f"{g} " in s for s in sources)}
    assert len(medications) >= 30
    findings = set()
    for key, finding in FINDINGS.items():
        for template in finding.source:
            pattern = re.escape(template).replace(r"\{side\}", "(left|right)")
            pattern = pattern.replace(r"\{S\}", "[LR]")
            if any(re.search(pattern, s) for s in sources):
                findings.add(key)
    assert len(findings) >= 20
    assert len({c.name for c in CONDITIONS if any(c.name in s for s in sources)}) >= 25
    assert len({r.output for r in summaries}) == len(summaries)
    assert len({r.output.split()[0] for r in summaries}) >= 15
    source_words = [len(s.split()) for s in sources]
    output_words = [len(r.output.split()) for r in summaries]
    assert 200 <= min(source_words) and max(source_words) <= 400
    assert 45 <= min(output_words) and max(output_words) <= 140
    assert 60 <= statistics.mean(output_words) <= 120


def test_metadata_strata(summaries: list[Record]) -> None:
    for record in summaries:
        assert set(record.metadata) >= {"sex", "race_ethnicity", "age_group", "site"}
    assert {r.metadata["sex"] for r in summaries} == {"F", "M"}
    assert len({r.metadata["age_group"] for r in summaries}) == 4
    assert len({r.metadata["race_ethnicity"] for r in summaries}) >= 4


def test_patient_message_labels() -> None:
    records = make_patient_message_records(200, seed=0)
    flagged = [r for r in records if r.labels["red_flag"] != "none"]
    assert len(flagged) == 80
    assert sum(bool(r.labels["missing_safety_net"]) for r in records) == 28
    assert sum(bool(r.labels["phi_leak"]) for r in records) == 30
    assert len({r.labels["red_flag"] for r in flagged}) == 5
    for record in records:
        assert record.source is not None and record.input in record.source
        net = str(record.labels["safety_net_text"])
        if record.labels["red_flag"] == "none":
            assert record.labels["missing_safety_net"] is False and net == ""
        else:
            assert (net == "") == record.labels["missing_safety_net"]
        assert net in record.output
        assert ("911" in record.output or "988" in record.output) == bool(net)
        phi = str(record.labels["phi_text"])
        assert bool(phi) == record.labels["phi_leak"]
        if phi:
            assert phi in record.output and phi not in record.source
    assert {r.labels["register"] for r in records} == {"plain", "technical"}


def test_rag_citation_labels_agree_with_the_passages() -> None:
    records = make_rag_records(200, seed=0)
    assert Counter(r.labels["citation_error"] for r in records) == {
        "none": 140, "not_retrieved": 30, "unsupported_quote": 30}
    for record in records:
        retrieved = {c.id: c.text for c in record.contexts}
        assert 3 <= len(retrieved) <= 5
        assert set(record.reference_contexts) <= set(GUIDELINES)
        assert record.labels["retrieval_hit"] == (record.reference_contexts[0] in retrieved)
        cited = re.findall(r"\[(g\d+)\]", record.output)
        quotes = re.findall(r'"([^"]+)"', record.output)
        assert ",".join(cited) == record.labels["cited"]
        bad = any(c not in retrieved for c in cited) or any(
            q not in retrieved.get(c, "") for q in quotes for c in cited)
        assert bad == record.labels["bad_citation"], record.id
    assert 150 <= sum(bool(r.labels["retrieval_hit"]) for r in records) <= 190


def test_extraction_json_labels_agree_with_parsing() -> None:
    records = make_extraction_records(200, seed=0)
    assert Counter(r.labels["json_error"] for r in records) == {
        "none": 150, "syntax": 30, "missing_field": 20}
    assert sum(bool(r.labels["medications_correct"]) for r in records) == 130
    for record in records:
        try:
            parsed = json.loads(record.output)
        except json.JSONDecodeError:
            assert record.labels["json_error"] == "syntax"
            continue
        complete = all({"name", "dose", "frequency"} <= set(item)
                       for item in parsed["medications"])
        assert complete == record.labels["valid_json"]
        reference = json.loads(str(record.reference))["medications"]
        names = [item.get("name") for item in parsed["medications"]]
        if record.labels["medications_correct"]:
            assert names == [item["name"] for item in reference]
            assert [i["dose"].replace(" ", "") for i in parsed["medications"]] == [
                i["dose"].replace(" ", "") for i in reference]
        for item in reference:
            assert f"{item['name']} {item['dose']}" in str(record.source)
