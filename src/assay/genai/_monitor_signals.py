"""Signals of a generative application in production that need no reference output: refusals,
and how far the inputs have moved from the reference inputs.

**Refusals.** An output *declines to answer* when it holds one of :data:`REFUSAL_PHRASES`
(``I can't help with``, ``I'm unable to``, ``As an AI``...), compared without regard to case,
with straight or curly apostrophes and any white space between words. The flag ``refusal``
points at the first phrase found. It is a screen: a reply that says "I am unable to see you on
Monday" is counted too, and a refusal worded otherwise is missed; add the application's own
wording with ``refusal_phrases``.

**Input drift.** :func:`input_drift` asks whether a classifier can tell the window's inputs
from the reference inputs (:func:`assay.drift.domain_classifier`: gradient boosting,
cross-validated AUROC with its DeLong interval; 0.5 means indistinguishable). It sees either

- *text descriptors* of each input (:func:`input_descriptors`): its length in words, its share
  of digits, the number of medications it names and its reading grade; or
- *sentence embeddings* (the ``embeddings`` extra), projected on the first
  :data:`EMBEDDING_COMPONENTS` principal components of the reference inputs, which keeps the
  classifier to a few columns on a few hundred rows.

The result states which it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from assay.drift import domain_classifier
from assay.errors import InputError
from assay.genai._lexicon import MedicationLexicon
from assay.genai._monitor_spec import InputField
from assay.genai._patient import _textstat
from assay.genai._records import Flag, Record, Span
from assay.metrics import Estimate

__all__ = [
    "DESCRIPTORS", "EMBEDDING_COMPONENTS", "MIN_DRIFT_OUTPUTS", "REFUSAL_PHRASES",
    "InputDrift", "InputSpace", "input_descriptors", "input_drift", "input_text",
    "refusal_flags",
]

REFUSAL_PHRASES: tuple[str, ...] = (
    "I can't help with", "I cannot help with", "I can't assist with", "I cannot assist with",
    "I can't provide", "I cannot provide", "I'm unable to", "I am unable to",
    "I'm not able to", "I am not able to", "I won't be able to", "I must decline",
    "I'm sorry, but I can't", "I'm sorry, but I cannot", "As an AI", "as a language model",
)
"""Phrases that mark an output declining to answer."""

DESCRIPTORS: tuple[str, ...] = ("length_words", "digit_share", "medications_named",
                                "readability_grade")
"""The text descriptors of an input, in the order of :func:`input_descriptors`' columns."""

EMBEDDING_COMPONENTS = 16
"""Principal components of the reference inputs' embeddings the classifier sees."""

MIN_DRIFT_OUTPUTS = 20
"""The input drift needs at least this many outputs in the window and in the reference."""

_FOLDS = 5
_APOSTROPHE = re.compile("['\u2019]")
_SPACE = re.compile(r"\s")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?")


def refusal_flags(output: str, phrases: Sequence[str] = REFUSAL_PHRASES) -> tuple[Flag, ...]:
    """The ``refusal`` flag of an output that declines to answer (none otherwise): its span is
    the first refusal phrase found, ``output[start:end] == span.text``.

    Examples
    --------
    >>> [f.span.text for f in refusal_flags("Sorry. As an AI, I can\u2019t help with that.")]
    ['As an AI']
    """
    if not isinstance(output, str):
        raise InputError(f"output must be text, not {type(output).__name__}")
    found = _refusal_pattern(tuple(phrases)).search(output)
    if found is None:
        return ()
    span = Span(start=found.start(), end=found.end(), text=found.group())
    return (Flag(type="refusal", span=span,
                 detail=f"the output declines to answer ('{found.group()}')"),)


@cache
def _refusal_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    if not phrases:
        raise InputError("refusal phrases: give at least one phrase")
    alternatives = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        words = [_APOSTROPHE.sub("['\u2019]", re.escape(word)) for word in phrase.split()]
        if not words:
            raise InputError("refusal phrases: a phrase is empty")
        alternatives.append(r"\s+".join(words))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def input_text(record: Record, fields: Sequence[InputField]) -> str:
    """What the application was given: the record's ``fields`` (input, source, the retrieved
    passages) joined by blank lines, empty ones left out."""
    parts: list[str] = []
    for name in fields:
        if name == "input":
            parts.append(record.input)
        elif name == "source":
            parts.append(record.source or "")
        else:
            parts.extend(context.text for context in record.contexts)
    return "\n\n".join(part for part in parts if part.strip())


def input_descriptors(texts: Sequence[str], lexicon: MedicationLexicon) -> pd.DataFrame:
    """One row of :data:`DESCRIPTORS` per text: words, the share of its non-space characters
    that are digits, medications named (``lexicon``) and the Flesch-Kincaid grade (missing for
    a text without words)."""
    calculator = _textstat()
    rows: list[dict[str, float]] = []
    for text in texts:
        words = len(_WORD.findall(text))
        characters = len(text) - len(_SPACE.findall(text))
        rows.append({
            "length_words": float(words),
            "digit_share": len(_DIGIT.findall(text)) / characters if characters else 0.0,
            "medications_named": float(len(lexicon.find(text))),
            "readability_grade": (float(calculator.flesch_kincaid_grade(text)) if words
                                  else float("nan")),
        })
    return pd.DataFrame(rows, columns=list(DESCRIPTORS), dtype=np.float64)


@dataclass(frozen=True)
class InputDrift:
    """The input drift of one window: the AUROC, or why there is none, and what was seen."""

    auroc: Estimate | None
    reason: str | None
    note: str


class InputSpace:
    """How inputs become the classifier's columns, fitted on the reference inputs."""

    def __init__(self, reference_texts: Sequence[str], *, embeddings: bool,
                 lexicon: MedicationLexicon, fields: Sequence[InputField]) -> None:
        self.embeddings = embeddings
        self.lexicon = lexicon
        what = " + ".join(fields)
        if not embeddings:
            self.description = (f"text descriptors of the inputs ({what}): "
                                f"{', '.join(DESCRIPTORS)}")
            self.reference = self.columns(reference_texts)
            return
        vectors = _embed(reference_texts)
        self.centre = vectors.mean(axis=0)
        kept = max(1, min(EMBEDDING_COMPONENTS, len(vectors) - 1, vectors.shape[1]))
        _, _, right = np.linalg.svd(vectors - self.centre, full_matrices=False)
        self.components = right[:kept]
        self.description = (f"sentence embeddings of the inputs ({what}; all-MiniLM-L6-v2) "
                            f"on the reference's first {kept} principal components")
        self.reference = self._projected(vectors)

    def columns(self, texts: Sequence[str]) -> pd.DataFrame:
        """The classifier's columns for ``texts``."""
        if not self.embeddings:
            return input_descriptors(texts, self.lexicon)
        return self._projected(_embed(texts))

    def _projected(self, vectors: np.ndarray[Any, np.dtype[np.float64]]) -> pd.DataFrame:
        projected = (vectors - self.centre) @ self.components.T
        return pd.DataFrame(projected, columns=[f"pc{i + 1}" for i in
                                                range(self.components.shape[0])])


def _embed(texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """One embedding per text, each distinct text embedded once (prompts repeat)."""
    from assay.genai._similarity import embed

    distinct = list(dict.fromkeys(texts))
    row = {text: i for i, text in enumerate(distinct)}
    vectors = np.asarray(embed(distinct), dtype=np.float64)
    return vectors[[row[text] for text in texts]]


def input_drift(space: InputSpace, texts: Sequence[str], *, seed: int,
                window: str) -> InputDrift:
    """Can a classifier tell the window's inputs (``texts``) from the reference inputs?"""
    method = "domain classifier (gradient boosting, 5-fold cross-validated AUROC) on "
    n_window, n_reference = len(texts), len(space.reference)
    if min(n_window, n_reference) < MIN_DRIFT_OUTPUTS:
        return InputDrift(None, f"{n_window} output(s) in the window and {n_reference} in the "
                                f"reference; the input drift needs at least "
                                f"{MIN_DRIFT_OUTPUTS} in each", method + space.description)
    result = domain_classifier(space.reference, space.columns(texts), folds=_FOLDS, seed=seed,
                               reference_name="the reference inputs",
                               current_name=f"the inputs of {window}")
    telling = ", ".join(f"{f.feature} ({f.importance:.2f})" for f in result.importances[:3])
    return InputDrift(result.auroc, None,
                      f"{method}{space.description}; most telling: {telling}")
