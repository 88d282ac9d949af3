"""RAG metrics: citations parsed and checked against the retrieved passages, rank-aware context
precision, context recall and answer-context overlap, with values worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sklearn.metrics import average_precision_score

from assay.genai import Record
from assay.genai._rag import (
    Score,
    answer_context_overlap,
    citation_validity,
    citations,
    context_precision,
    context_recall,
)


def _rag(output: str, contexts: Any = (), reference_contexts: Any = ()) -> Record:
    return Record(id="r1", task="rag", output=output, contexts=contexts,
                  reference_contexts=reference_contexts)


def _assert_spans(score: Score, output: str) -> None:
    for flag in score.flags:
        assert flag.span is not None
        assert output[flag.span.start:flag.span.end] == flag.span.text


FIVE = ["alpha", "beta", "gamma", "delta", "epsilon"]  # ids "1".."5"


def test_citation_forms_are_parsed_with_their_positions() -> None:
    output = ("Start aspirin [g12]. Check platelets [1, 3] and renal function [1][2]. "
              "See also [2-4], [sic] and [the guideline](http://example.org).")
    record = _rag(output, ["a", "b", "c", "d", {"id": "g12", "text": "x"}])
    found = citations(record)
    assert [c.passage_id for c in found] == ["g12", "1", "3", "1", "2", "2", "3", "4"]
    assert [c.span.text for c in found] == ["g12", "1", "3", "1", "2", "2-4", "2-4", "2-4"]
    for citation in found:
        assert output[citation.span.start:citation.span.end] == citation.span.text
        assert output[citation.sentence.start:citation.sentence.end] == citation.sentence.text
    assert found[0].sentence.text == "Start aspirin [g12]."
    assert found[1].sentence.text == "Check platelets [1, 3] and renal function [1][2]."


def test_a_citation_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    record = _rag("Aspirin is first line. [1] Heparin is avoided. [2]", ["a", "b"])
    sentences = [c.sentence.text for c in citations(record)]
    assert sentences == ["Aspirin is first line. [1]", "Heparin is avoided. [2]"]


def test_citations_to_passages_not_retrieved_are_invalid() -> None:
    output = "Give aspirin [1]. Avoid NSAIDs [2, 7]. Review at 6 weeks [9]."
    score = citation_validity(_rag(output, ["a", "b", "c"]))
    assert score.value == pytest.approx(2 / 4)
    assert [(f.type, f.span.text if f.span else None) for f in score.flags] == [
        ("invalid_citation", "7"), ("invalid_citation", "9")]
    assert "'7'" in score.flags[0].detail and "3 retrieved" in score.flags[0].detail
    _assert_spans(score, output)


def test_quotes_are_matched_after_folding_case_and_white_space() -> None:
    passage = "Give  ASPIRIN 300 mg\nwithin 24 hours of onset; then 75 mg daily."
    output = 'The guideline says to “give aspirin 300 mg within 24 hours” [1].'
    assert citation_validity(_rag(output, [passage])).value == 1.0
    with_ellipsis = 'It says "give aspirin ... then 75 mg daily." [1]'
    assert citation_validity(_rag(with_ellipsis, [passage])).value == 1.0
    out_of_order = 'It says "then 75 mg daily ... give aspirin" [1]'
    assert citation_validity(_rag(out_of_order, [passage])).value == 0.0


def test_a_quote_missing_from_the_cited_passage_is_flagged() -> None:
    passages = ["Aspirin 300 mg within 24 hours.", "Avoid heparin for 24 hours."]
    output = ('Give "aspirin 300 mg within 24 hours" [1]. '
              'Also "avoid heparin for 24 hours" [1]. '
              'And "start heparin at once" [2].')
    score = citation_validity(_rag(output, passages))
    assert score.value == pytest.approx(1 / 3)  # the quote is in passage 2, which is not cited
    assert [f.span.text for f in score.flags if f.span] == [
        "avoid heparin for 24 hours", "start heparin at once"]
    assert {f.type for f in score.flags} == {"unsupported_quote"}
    assert "passage(s) 1" in score.flags[0].detail
    _assert_spans(score, output)


def test_a_quote_found_in_any_passage_its_sentence_cites_supports_every_citation() -> None:
    passages = ["Aspirin 300 mg.", "Avoid heparin for 24 hours."]
    output = 'Then "avoid heparin for 24 hours" [1][2], see "single" [1].'
    score = citation_validity(_rag(output, passages))
    assert score.value == 1.0  # a single quoted word is not checked
    assert score.flags == ()


def test_a_full_stop_inside_a_quote_does_not_end_the_sentence() -> None:
    passages = ["Give aspirin. Then review.", "Unrelated."]
    output = 'It reads "Give aspirin. Then review." [1] Next point [2].'
    found = citations(_rag(output, passages))
    assert found[0].sentence.text == 'It reads "Give aspirin. Then review." [1]'
    assert citation_validity(_rag(output, passages)).value == 1.0


def test_citation_validity_is_none_without_passages_or_citations() -> None:
    no_contexts = citation_validity(_rag("Aspirin [1]."))
    assert no_contexts.value is None
    assert no_contexts.reason == "the record has no retrieved passages"
    no_citations = citation_validity(_rag("Aspirin is first line.", ["a"]))
    assert no_citations.value is None and no_citations.reason == "the answer cites no passage"


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [
        (["2", "4"], (1 / 2 + 2 / 4) / 2),  # ranks 2 and 4: 0.5
        (["1", "3"], (1 / 1 + 2 / 3) / 2),  # ranks 1 and 3: 0.8333
        (["3"], 1 / 3),
        (["3", "4"], (1 / 3 + 2 / 4) / 2),  # 0 0 1 1 0: 0.4167, the Ragas-style worked example
        (["1", "2", "3", "4", "5"], 1.0),
        (["1", "9"], 1.0),  # a relevant passage that was not retrieved does not lower precision
        (["8", "9"], 0.0),
    ],
)
def test_context_precision_by_hand(relevant: list[str], expected: float) -> None:
    score = context_precision(_rag("", FIVE, relevant))
    assert score.value == pytest.approx(expected)


@pytest.mark.parametrize("relevant", [["2", "4"], ["1", "3"], ["5"], ["1", "2", "5"]])
def test_context_precision_is_average_precision_when_all_relevant_were_retrieved(
    relevant: list[str],
) -> None:
    labels = [str(rank) in relevant for rank in range(1, 6)]
    reference = average_precision_score(labels, [5, 4, 3, 2, 1])
    assert context_precision(_rag("", FIVE, relevant)).value == pytest.approx(reference)


def test_context_precision_and_recall_are_none_without_reference_contexts() -> None:
    for metric in (context_precision, context_recall):
        score = metric(_rag("", FIVE))
        assert score.value is None and score.reason == "the record names no reference_contexts"
    nothing = context_precision(_rag("", (), ["1"]))
    assert nothing.value is None and nothing.reason == "the record has no retrieved passages"


def test_context_recall_by_hand() -> None:
    assert context_recall(_rag("", FIVE, ["2", "5", "9"])).value == pytest.approx(2 / 3)
    assert context_recall(_rag("", FIVE, ["1"])).value == 1.0
    assert context_recall(_rag("", (), ["1", "2"])).value == 0.0
    named = [{"id": "g1", "text": "x"}, {"id": "g7", "text": "y"}]
    assert context_recall(_rag("", named, ["g7", "g3"])).value == 0.5


def test_answer_context_overlap_by_hand() -> None:
    contexts = ["Apixaban 5 mg twice daily.", "Review renal function yearly."]
    # content words: take apixaban 5 mg twice daily check renal function = 9; found: all but take
    output = "Take Apixaban 5 mg twice daily [1] and check the renal function [2]."
    assert answer_context_overlap(_rag(output, contexts)).value == pytest.approx(7 / 9)
    # a word that appears twice counts twice: aspirin aspirin daily -> 1 of 3
    assert answer_context_overlap(_rag("Aspirin, aspirin daily.", contexts)).value == (
        pytest.approx(1 / 3))


def test_answer_context_overlap_is_none_when_it_does_not_apply() -> None:
    assert answer_context_overlap(_rag("Take it daily.")).value is None
    empty = answer_context_overlap(_rag("It is what it is [1].", ["a"]))
    assert empty.value is None and empty.reason == "the answer has no content words"


def test_a_score_without_value_must_say_why() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        Score(value=None)
