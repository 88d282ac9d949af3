"""Which PERSON entities of the NER model are names, and which words could be part of one.

The model also calls drug brands, clinical abbreviations and headings names (``Plavix``,
``PMH COPD``, ``GORD``). A ``PERSON`` is dropped when its words are medications (generic or brand,
from the lexicon in ``assay/lexicons``), clinical shorthand, abbreviations in capitals,
section headings or conditions (see :func:`_is_clinical`); no list of person names is used.
The same word classes tell :mod:`assay.curation._phi` where the model need not read
(:func:`could_be_name`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from assay.curation._phi_rules import PhiSpan

__all__ = ["could_be_name", "name_span"]

_TITLES = ("dr", "mr", "mrs", "ms", "mx", "miss", "prof", "dr.", "mr.", "mrs.", "ms.", "prof.")
_ROLES = ("patient", "daughter", "son", "wife", "husband", "mother", "father", "sister", "brother",
          "niece", "nephew", "partner", "guardian", "carer", "caregiver", "nurse")


def _is_heading(token: Any) -> bool:
    """A single word at the start of a line followed by a colon or a lower-case word."""
    text: str = token.doc.text
    at_line_start = token.idx == 0 or text[: token.idx].rstrip(" \t").endswith("\n")
    following = text[token.idx + len(token.text) :].lstrip(" ")
    return at_line_start and (following.startswith(":") or following[:1].islower())


def name_span(entity: Any) -> PhiSpan | None:
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


def could_be_name(token: Any) -> bool:
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
