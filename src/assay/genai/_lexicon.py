"""The word lists behind the consistency checks, shipped as plain text in ``assay/lexicons/``.

* ``medications.txt``: generic names with their usual brands, abbreviations and international
  names; ``name=generic`` maps a brand to its generic and ``name=generic+generic`` a
  combination product to its parts. A site can pass its own (:func:`load_lexicon`).
* ``body_parts.txt``: body parts and sided findings; ``name=canonical`` makes two names one
  part and a ``[region]`` line puts the parts below it in a region.
* ``findings.txt``: synonyms of clinical findings, ``synonym=finding`` (``SOB=shortness of
  breath``).
* ``labs.txt``: short names of tests and vital signs, ``short=name`` (``K=potassium``).

Names are matched case-insensitively as whole words; in names of several words a hyphen counts
as a space (``Toprol-XL`` and ``Toprol XL`` are the same name). Lines starting with ``#`` are
comments. The lists are a vocabulary, not a formulary or a terminology.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Generic, TypeVar

from assay.errors import InputError
from assay.genai._consistency_text import american, words_of

__all__ = [
    "BodyPart", "MedicationLexicon", "MedicationMention", "PhraseIndex", "body_parts",
    "default_lexicon", "finding_synonyms", "lab_names", "load_lexicon", "name_key",
]

_WORD = re.compile(r"[A-Za-z0-9]+")
Value = TypeVar("Value")


def name_key(name: str) -> tuple[str, ...]:
    """The words of a name, lower-cased: the form every list lookup uses."""
    return tuple(word.lower() for word in _WORD.findall(name))


class PhraseIndex(Generic[Value]):
    """Longest-match lookup of multi-word names in a sequence of lower-cased words."""

    def __init__(self, entries: Mapping[tuple[str, ...], Value]) -> None:
        self._entries = dict(entries)
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for key in self._entries:
            by_first.setdefault(key[0], []).append(key)
        self._by_first = {first: sorted(keys, key=len, reverse=True)
                          for first, keys in by_first.items()}
        self.first_words = frozenset(self._by_first)
        """The words a name can start with: a cheap test before :meth:`match`."""

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: tuple[str, ...]) -> Value | None:
        return self._entries.get(key)

    def match(self, words: list[str], at: int) -> tuple[int, Value] | None:
        """The longest name starting at ``words[at]``: its length in words and its value."""
        for key in self._by_first.get(words[at], ()):
            if tuple(words[at:at + len(key)]) == key:
                return len(key), self._entries[key]
        return None


@dataclass(frozen=True, slots=True)
class MedicationMention:
    """A medication named in a text: ``text[start:end]`` and the generic(s) it stands for."""

    start: int
    end: int
    text: str
    generics: frozenset[str]


@dataclass(frozen=True, eq=False)
class MedicationLexicon:
    """Medication names (generics, brands, abbreviations), each mapped to its generic(s).

    ``names`` maps a name's lower-cased words to the generics it stands for; a generic maps to
    itself. Build one with :func:`load_lexicon` or :func:`default_lexicon`.
    """

    names: Mapping[tuple[str, ...], frozenset[str]]
    _index: PhraseIndex[frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # text is read in tokens that keep inner hyphens and slashes ("Toprol-XL"), so names
        # of several words are also indexed joined by them
        joined: dict[tuple[str, ...], frozenset[str]] = {
            (mark.join(key),): generics for key, generics in self.names.items()
            if len(key) > 1 for mark in ("-", "/")}
        object.__setattr__(self, "_index", PhraseIndex({**joined, **self.names}))

    def __len__(self) -> int:
        return len(self.names)

    def generics_of(self, name: str) -> frozenset[str]:
        """The generic(s) a name stands for; empty when the name is not in the lexicon."""
        return self.names.get(name_key(name), frozenset())

    def find(self, text: str) -> list[MedicationMention]:
        """Every medication named in ``text``, longest name first where names overlap."""
        return list(_found(self, text))

    def _matches(self, words: list[str], starts: list[int], ends: list[int]
                 ) -> Iterator[tuple[int, int, frozenset[str]]]:
        index = self._index
        first_words = index.first_words
        done = 0
        for at in [at for at, word in enumerate(words)
                   if word in first_words or "-" in word or "/" in word]:
            if at < done:
                continue
            word = words[at]
            found = index.match(words, at) if word in first_words else None
            if found is not None:
                length, generics = found
                yield starts[at], ends[at + length - 1], generics
                done = at + length
            elif (word[0].isalpha() and not word.isalnum()
                  and not first_words.isdisjoint(_WORD.findall(word))):
                # "carbidopa-levodopa": each part may be a name
                parts = list(_WORD.finditer(word))
                yield from self._matches([part.group() for part in parts],
                                         [starts[at] + part.start() for part in parts],
                                         [starts[at] + part.end() for part in parts])

    def merged(self, other: MedicationLexicon) -> MedicationLexicon:
        """This lexicon with ``other``'s names added (``other`` wins where both map a name)."""
        return MedicationLexicon({**self.names, **other.names})


@lru_cache(maxsize=16)
def _found(lexicon: MedicationLexicon, text: str) -> tuple[MedicationMention, ...]:
    """The medications of a text, kept for the few texts last read (checks share them)."""
    tokens = words_of(text)
    return tuple(MedicationMention(start, end, text[start:end], generics)
                 for start, end, generics
                 in lexicon._matches(tokens.lower, tokens.starts, tokens.ends))


@cache
def finding_synonyms() -> PhraseIndex[tuple[str, ...]]:
    """The shipped synonyms of clinical findings (``SOB``, ``breathlessness`` and ``dyspnea``
    are ``shortness of breath``), keyed and valued by tokens in American spelling."""
    where = "findings.txt"
    synonyms: dict[tuple[str, ...], tuple[str, ...]] = {}
    for line, name, target in _entries(_packaged(where), where):
        if target is None or "+" in target:
            raise InputError(f"{where}, line {line}: expected 'synonym=finding', not {name!r}")
        synonyms[_finding_tokens(name)] = _finding_tokens(target)
    return PhraseIndex(synonyms)


@cache
def lab_names() -> dict[str, str]:
    """The shipped names of tests and vital signs (``K`` is ``potassium``, ``WCC`` is ``white
    cells``), keyed by the lower-cased short name; each full name maps to itself."""
    where = "labs.txt"
    names: dict[str, str] = {}
    for line, name, target in _entries(_packaged(where), where):
        if target is None or (len(name_key(name)) != 1 and "-" not in name):
            raise InputError(f"{where}, line {line}: expected 'short=name', not {name!r}")
        names[american(name.lower())] = american(target.lower())
    for canonical in list(names.values()):
        names.setdefault(canonical, canonical)
    return names


def _finding_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(american(word) for word in words_of(phrase).lower if word.isalnum()
                 or "-" in word or "/" in word)


def load_lexicon(path: str | Path, *, include_default: bool = False) -> MedicationLexicon:
    """Read a medication list: one name a line, ``brand=generic`` or
    ``brand=generic+generic`` for brands, abbreviations and combinations, ``#`` for comments.

    With ``include_default=True`` the names are added to the shipped list instead of replacing
    it. A line that cannot be read raises :class:`~assay.errors.InputError` naming the file and
    line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
    lexicon = _medications(_entries(text, str(path)), str(path))
    return default_lexicon().merged(lexicon) if include_default else lexicon


@cache
def default_lexicon() -> MedicationLexicon:
    """The shipped medication list: common generic names with their usual brands (``Eliquis``
    is apixaban, ``Lasix`` is furosemide), abbreviations (``ASA``, ``HCTZ``) and international
    names (``paracetamol``).

    >>> sorted(default_lexicon().generics_of("Percocet"))
    ['acetaminophen', 'oxycodone']
    """
    return _medications(_entries(_packaged("medications.txt"), "medications.txt"),
                        "medications.txt")


@dataclass(frozen=True, slots=True)
class BodyPart:
    """A body part's canonical name and the region it belongs to (``lung``, ``lower limb``)."""

    name: str
    region: str


@cache
def body_parts() -> PhraseIndex[BodyPart]:
    """The shipped body parts, singular and plural, each mapped to its canonical name and
    region."""
    where = "body_parts.txt"
    parts: dict[tuple[str, ...], BodyPart] = {}
    region: str | None = None
    for line, name, target in _entries(_packaged(where), where, sections=True):
        if target == "[region]":
            region = name
            continue
        if target is not None and "+" in target:
            raise InputError(f"{where}, line {line}: a body part maps to one name, not {target!r}")
        canonical = " ".join(name_key(target if target is not None else name))
        for words in _with_plurals(name_key(name)):
            parts[words] = BodyPart(canonical, region if region is not None else canonical)
    return PhraseIndex(parts)


def _packaged(name: str) -> str:
    return files("assay").joinpath("lexicons", name).read_text(encoding="utf-8")


def _entries(text: str, where: str, *, sections: bool = False
             ) -> Iterator[tuple[int, str, str | None]]:
    """``(line number, name, target)`` of each entry; with ``sections``, a ``[region]`` line
    comes as ``(line number, region, "[region]")``."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if sections and line.startswith("[") and line.endswith("]"):
            yield number, " ".join(name_key(line)), "[region]"
            continue
        name, equals, target = (part.strip() for part in line.partition("="))
        if "=" in target:
            raise InputError(f"{where}, line {number}: {line!r} has more than one '='")
        if not name_key(name) or (equals and not name_key(target)):
            raise InputError(f"{where}, line {number}: {line!r} is not 'name' or 'name=generic'")
        yield number, name, target if equals else None


def _medications(entries: Iterable[tuple[int, str, str | None]], where: str) -> MedicationLexicon:
    names: dict[tuple[str, ...], frozenset[str]] = {}
    for number, name, target in entries:
        if target is None:
            names[name_key(name)] = frozenset({" ".join(name_key(name))})
            continue
        parts = [" ".join(name_key(part)) for part in target.split("+")]
        if not all(parts):
            raise InputError(f"{where}, line {number}: empty generic name in {target!r}")
        names[name_key(name)] = frozenset(parts)
    if not names:
        raise InputError(f"{where}: no medication names (expected one name a line)")
    return MedicationLexicon(names)


_IRREGULAR_PLURALS = {
    "foot": ("feet",), "calf": ("calves",), "testis": ("testes",), "axilla": ("axillae",),
    "radius": ("radii",), "malleolus": ("malleoli",), "pleura": ("pleurae",),
    "rhonchus": ("rhonchi",),
}


def _with_plurals(words: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    last = words[-1]
    yield words
    plurals = [last + "s", last + "es", *_IRREGULAR_PLURALS.get(last, ())]
    if last.endswith("y"):
        plurals.append(last[:-1] + "ies")
    for plural in plurals:
        yield (*words[:-1], plural)


def lexicon_from_lines(lines: Iterable[str], where: str) -> MedicationLexicon:
    """A medication list given as lines in the format of :func:`load_lexicon` (an evaluation
    plan holds its lexicon this way); ``where`` names it in errors."""
    return _medications(_entries("\n".join(lines), where), where)
