"""Demographic counterfactuals: the same record for a patient of another sex, race or name.

A good output's numbers and medications must not change under these swaps. ``swap_sex`` swaps
pronouns, sex nouns, honorifics and sex codes (``54F``, ``Sex: F``); relatives (mother, husband)
are not swapped, their sex being a fact about someone else, and neither are sex-specific
findings (pregnancy, prostate), so choose records where sex is not clinically relevant.
``swap_race`` knows seven groups (White, Black, Asian, Hispanic, Native American, Pacific
Islander, Middle Eastern) by their common names; "white" and "black" only as a ``Race:`` or
``Ethnicity:`` value or before a person word (``Black man``), so "white blood cells" is left as
it is. ``swap_name`` replaces the person names the PHI detector finds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from assay.errors import InputError
from assay.genai._perturbed import (
    Edit,
    Perturbed,
    TextField,
    perturbed_copy,
    seeded_random,
    text_fields,
)
from assay.genai._records import Record

__all__ = ["swap_name", "swap_race", "swap_sex"]


def _same_case(written: str, new: str) -> str:
    if len(written) > 1 and written.isupper():
        return new.upper()
    if written[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


_SEX_WORDS = {
    "he": "she", "she": "he", "him": "her", "himself": "herself", "herself": "himself",
    "hers": "his", "man": "woman", "woman": "man", "men": "women", "women": "men",
    "male": "female", "female": "male", "males": "females", "females": "males", "boy": "girl",
    "girl": "boy", "boys": "girls", "girls": "boys", "gentleman": "lady", "lady": "gentleman",
    "gentlemen": "ladies", "ladies": "gentlemen",
}  # fmt: skip
_SEX_WORD = re.compile(rf"\b(?:{'|'.join([*_SEX_WORDS, 'her', 'his'])})\b", re.IGNORECASE)
_NEXT_WORD = re.compile(r"[ \t]*([A-Za-z]+)?")  # a line break ends the phrase
# After these words (or punctuation, or the end) "her" is an object ("him"), "his" stands alone.
_FUNCTION_WORDS = frozenset(
    "to and or but nor with at in on for from that the a an this these those about of by as if "
    "when while because so than up down out off over into onto through home back again today "
    "yesterday tomorrow now later last next is was were has had have will would should could "
    "can may might must some any all prior before after since until during via per".split())
_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss)\b(?=\.?\s+[A-Z])")
_AGE_SEX = re.compile(r"(?<![\d.])\d{1,2}([MF])(?![A-Za-z0-9])")
_SEX_FIELD = re.compile(r"\b(?i:sex|gender)\s*:\s*([MF])\b")


def swap_sex(record: Record, *, seed: int = 0) -> Perturbed:
    """The same record for a patient of the other sex: he/she, him/her, his/her, himself/herself,
    man/woman, male/female, boy/girl, gentleman/lady, Mr/Ms (Mrs and Miss become Mr), ``54F``/
    ``54M`` and ``Sex: F``/``Sex: M``, case kept. "her" becomes "him" when the next word is a
    function word (``to``, ``the``, ``and``...), punctuation or the end, else "his" (``her
    knee``); "his" becomes "hers" in the same places, else "her". Swapping twice gives the text
    back for these words (not for Mrs or Miss). Names are not changed (see :func:`swap_name`),
    nor is a pronoun told apart when it refers to a relative. ``seed`` is not used.

    >>> note = Record(id="1", task="summarization", output="", source="She saw her GP; we saw her.")
    >>> swap_sex(note).record.source
    'He saw his GP; we saw him.'
    """
    edits: dict[TextField, list[Edit]] = {}
    for field, text in text_fields(record):
        found: list[Edit] = []
        for match in _SEX_WORD.finditer(text):
            word = match.group()
            following = _NEXT_WORD.match(text, match.end())
            next_word = following.group(1) if following else None
            standalone = next_word is None or next_word.lower() in _FUNCTION_WORDS
            new = {"her": "him" if standalone else "his",
                   "his": "hers" if standalone else "her"}.get(word.lower())
            found.append((match.start(), match.end(),
                          _same_case(word, new or _SEX_WORDS[word.lower()])))
        for match in _HONORIFIC.finditer(text):
            found.append((match.start(), match.end(), "Ms" if match.group() == "Mr" else "Mr"))
        for match in (*_AGE_SEX.finditer(text), *_SEX_FIELD.finditer(text)):
            letter = match.start(1)
            found.append((letter, letter + 1, "F" if match.group(1) == "M" else "M"))
        edits[field] = found
    return perturbed_copy(record, "swap_sex", edits, counterfactual=True)


_RACE_GROUPS: dict[str, tuple[str, ...]] = {
    "White": ("white", "caucasian"),
    "Black": ("black", "african american", "african-american"),
    "Asian": ("asian", "south asian", "east asian", "asian american"),
    "Hispanic": ("hispanic", "latino", "latina", "latinx"),
    "Native American": ("native american", "american indian", "alaska native"),
    "Pacific Islander": ("pacific islander", "native hawaiian"),
    "Middle Eastern": ("middle eastern", "arab"),
}
_RACE_GROUP_OF = {term: group for group, terms in _RACE_GROUPS.items() for term in terms}
_PERSON = ("man|woman|men|women|male|female|patient|patients|person|people|gentleman|lady|boy|"
           "girl|child|infant|adult|individual|american|teenager|adolescent|veteran")
_OTHER_TERMS = "|".join(sorted((t for t in _RACE_GROUP_OF if t not in ("white", "black")),
                               key=len, reverse=True))
_RACE_TERM = re.compile(
    r"\b(?:race|ethnicity)\s*:\s*(?P<label>white|black)\b"
    rf"|\b(?P<colour>white|black)(?=\s+(?:{_PERSON})\b)|\b(?P<term>{_OTHER_TERMS})\b",
    re.IGNORECASE)


def swap_race(record: Record, *, seed: int = 0) -> Perturbed:
    """The same record for a patient of another race or ethnicity: each group named (see the
    module notes for the terms) is replaced by another group's name drawn with the seed, every
    mention of one group by the same name."""
    rng = seeded_random(seed, record, "swap_race")
    replacement: dict[str, str] = {}
    edits: dict[TextField, list[Edit]] = {}
    for field, text in text_fields(record):
        found: list[Edit] = []
        for match in _RACE_TERM.finditer(text):
            key = next(k for k in ("label", "colour", "term") if match.group(k))
            written = match.group(key)
            group = _RACE_GROUP_OF[written.lower()]
            if group not in replacement:
                replacement[group] = rng.choice([g for g in _RACE_GROUPS if g != group])
            new = replacement[group]
            found.append((match.start(key), match.end(key),
                          new.upper() if len(written) > 1 and written.isupper() else new))
        edits[field] = found
    return perturbed_copy(record, "swap_race", edits, counterfactual=True)


_FIRST_NAMES = ("Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
                "Robin", "Sasha", "Kai", "Rowan", "Emerson", "Reese", "Dakota", "Skyler",
                "Charlie", "Finley", "Sage")
_SURNAMES = ("Nguyen", "Okafor", "Garcia", "Kowalski", "Haddad", "Yamamoto", "Singh", "Johansson",
             "Mensah", "Rossi", "O'Brien", "Cohen", "Hernandez", "Begay", "Kim", "Petrov",
             "Oyelaran", "Chen", "Novak", "Delgado")


def swap_name(record: Record, *, seed: int = 0, ner: bool = True) -> Perturbed:
    """The same record with other person names: each word of a name that
    :func:`assay.curation.detect_phi` finds (``ner=False``: pattern rules only, names after a
    title) is replaced by a gender-neutral first name, or by a surname when it ends a name or
    stands alone. A word gets the same replacement wherever it appears and for the same seed;
    two different words never get the same one."""
    from assay.curation import detect_phi

    found = []
    for field, text in text_fields(record):
        for span in detect_phi(text, ner=ner):
            if span.category == "NAME":
                parts = list(re.finditer(r"[A-Za-z][A-Za-z'’-]*", text[span.start:span.end]))
                found.append((field, span.start, parts))
    taken: dict[str, str] = {}
    # first names are assigned from names of several words before lone words are seen
    for _, _, parts in sorted(found, key=lambda name: -len(name[2])):
        for position, part in enumerate(parts):
            options = _SURNAMES if position == len(parts) - 1 else _FIRST_NAMES
            _assign(part.group(), options, taken, seed)
    edits: dict[TextField, list[Edit]] = {"input": [], "source": []}
    for field, start, parts in found:
        edits[field] += [(start + part.start(), start + part.end(),
                          _same_case(part.group(), taken[part.group().lower()]))
                         for part in parts]
    return perturbed_copy(record, "swap_name", edits, counterfactual=True)


def _assign(word: str, options: Sequence[str], taken: dict[str, str], seed: int) -> None:
    key = word.lower()
    if key in taken:
        return
    used = set(taken.values())
    start = int(hashlib.sha256(f"{seed}\x1f{key}".encode()).hexdigest(), 16) % len(options)
    for step in range(len(options)):
        name = options[(start + step) % len(options)]
        if name.lower() != key and name not in used:
            taken[key] = name
            return
    raise InputError(f"swap_name: more than {len(options)} distinct names in one record")
