"""The word lists behind the consistency checks: medication names and body parts.

Both lists are plain text files, one name a line, matched case-insensitively as whole words (a
hyphen counts as a space, so ``Toprol-XL`` and ``Toprol XL`` are the same name). In the
medication list ``name=generic`` maps a brand, abbreviation or international name to its generic
and ``name=generic+generic`` maps a combination product to its parts; in the body-part list
``name=canonical`` makes two names one part. Lines starting with ``#`` are comments.

The shipped medication list holds common generic names with their usual brands and
abbreviations; it is a vocabulary, not a formulary, and a site can pass its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Generic, TypeVar

from assay.errors import InputError
from assay.genai._consistency_text import american, words_of

__all__ = [
    "BodyPart", "MedicationLexicon", "MedicationMention", "PhraseIndex", "body_parts",
    "default_lexicon", "finding_synonyms", "load_lexicon", "name_key",
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
        object.__setattr__(self, "_index", PhraseIndex(self.names))

    def __len__(self) -> int:
        return len(self.names)

    def generics_of(self, name: str) -> frozenset[str]:
        """The generic(s) a name stands for; empty when the name is not in the lexicon."""
        return self.names.get(name_key(name), frozenset())

    def find(self, text: str) -> list[MedicationMention]:
        """Every medication named in ``text``, longest name first where names overlap."""
        spans, words = _words_with_offsets(text)
        first_words = self._index.first_words
        mentions: list[MedicationMention] = []
        at = 0
        while at < len(words):
            found = self._index.match(words, at) if words[at] in first_words else None
            if found is None:
                at += 1
                continue
            length, generics = found
            start, end = spans[at][0], spans[at + length - 1][1]
            mentions.append(MedicationMention(start, end, text[start:end], generics))
            at += length
        return mentions

    def merged(self, other: MedicationLexicon) -> MedicationLexicon:
        """This lexicon with ``other``'s names added (``other`` wins where both map a name)."""
        return MedicationLexicon({**self.names, **other.names})


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


def _finding_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(american(word) for word in words_of(phrase).lower if word.isalnum()
                 or "-" in word or "/" in word)


def _words_with_offsets(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """The lower-cased words of ``text`` (split at hyphens and slashes) with their offsets."""
    tokens = words_of(text)
    spans: list[tuple[int, int]] = []
    words: list[str] = []
    for start, end, word in zip(tokens.starts, tokens.ends, tokens.lower, strict=True):
        if word.isalnum():
            spans.append((start, end))
            words.append(word)
            continue
        for part in _WORD.finditer(word):
            spans.append((start + part.start(), start + part.end()))
            words.append(part.group())
    return spans, words


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
    return files("assay.genai").joinpath("lexicons", name).read_text(encoding="utf-8")


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
