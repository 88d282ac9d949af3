"""Numbers in an output that its source does not give: doses, vitals, results, dates and times.

Numbers are read with their units (:mod:`assay.genai._consistency_quantities`: ``25mg`` is
``25.0 mg``, ``1 g`` is ``1000 mg``, ``03/14/2024`` is ``14 March 2024``). Each is then compared
in one of two ways. When the nearest word before it in its clause names something the source
also gives numbers of the same kind for — a test (``K`` and ``potassium``), a vital sign
(``BP``), a medication (``Lasix`` and ``furosemide``) or any other word — it must be one of
those numbers: ``potassium 4.8`` is flagged against a note's ``potassium 3.8`` even when 4.8
occurs elsewhere in the note. Otherwise it must occur anywhere in the source. Stopwords, units,
frequencies (``twice daily``), salts (``succinate``) and other numbers are passed over on the way
to that word. A result of a laboratory test the source gives no number for (``eGFR 37``
against a note without an eGFR) is flagged even when the number occurs elsewhere. The dose of a
medication the source does not name at all is not flagged: the ``unsupported_medication`` flag on
its name says it once.
"""

from __future__ import annotations

import bisect
import re
from functools import cache, lru_cache
from typing import NamedTuple

from assay.genai._consistency_quantities import UNITS, Key, Quantity, quantities
from assay.genai._consistency_text import (
    Words,
    american,
    grounding_of,
    make_flag,
    quoted,
    text_names,
    words_of,
)
from assay.genai._lexicon import MedicationLexicon, default_lexicon, lab_names
from assay.genai._records import Flag, Record

__all__ = ["unsupported_numbers"]

_UNIT_WORDS = frozenset(part for unit in UNITS for part in re.split(r"[/ ]", unit) if part)
_NOT_ANCHORS = frozenset("""
of to was were is are at on a an the by from with be been dose doses increased decreased
changed started given take takes taking and or about approximately around for in over after
within since every per until than up down into then now had has have more further another
daily twice once thrice bid tid qid qd od bd tds qds qam qhs qpm prn nightly weekly monthly
hourly morning evening night bedtime mane nocte times time x q po iv im sc sq subcut orally
oral inhaled tablet tablets capsule capsules puff puffs needed as when needed required
succinate tartrate hydrochloride hcl besylate maleate mesylate fumarate xl er sr xr la dr cr
new continued unchanged started stopped held admission discharge baseline initially falling
rising peak level levels value values result results range total one two three four five six
seven eight nine ten eleven twelve
""".split()) | _UNIT_WORDS  # fmt: skip
_SAME_KIND_ONLY = frozenset({"date", "clock", "ratio"})
# written in too many ways ("afebrile", "saturating 95%") to call one absent from the source
_VITAL_SIGNS = frozenset({"blood pressure", "heart rate", "respiratory rate", "temperature",
                          "oxygen saturation", "weight"})
_CLAUSE_ENDS = frozenset({";", "\n", ".", "(", ")"})


class _Anchored(NamedTuple):
    quantity: Quantity
    name: str | None
    name_start: int
    medication: frozenset[str] = frozenset()  # the generics, when the name is a medication


def unsupported_numbers(record: Record, *, lexicon: MedicationLexicon | None = None
                        ) -> list[Flag]:
    """Flag each number, dose, range, date or time in the output that the source does not give.

    Values are compared after normalisation (``25mg`` = ``25.0 mg``, ``1,000`` = ``1000``,
    ``1 g`` = ``1000 mg``, ``03/14/2024`` = ``14 March 2024``); units of a different kind do not
    support each other (``25 mg`` is not supported by ``25 mL``), and a number after a named
    test, vital sign or medication must be one the source gives for it (``K 5.1`` against a
    note's ``potassium 3.8``). ``lexicon`` maps brands to generics (the shipped list by
    default). Flags have type ``unsupported_number`` and point at the number with its unit in
    the output.

    >>> from assay.genai import Record
    >>> record = Record(id="1", task="summarization", source="Metoprolol 25 mg daily.",
    ...                 output="Metoprolol 50mg daily.")
    >>> [(f.span.text, f.detail) for f in unsupported_numbers(record)]
    [('50mg', "'Metoprolol 50mg' in the summary: the note gives 'Metoprolol 25 mg'.")]
    """
    lexicon = lexicon if lexicon is not None else default_lexicon()
    source = grounding_of(record)
    given = _anchored(source, quantities(source, as_source=True), lexicon)
    anywhere: set[Key] = set()
    by_name: dict[str | None, list[_Anchored]] = {}
    for anchored in given:
        anywhere.update(anchored.quantity.gives)
        by_name.setdefault(anchored.name, []).append(anchored)
    named_medications = {generic for mention in lexicon.find(source)
                         for generic in mention.generics}
    tests = _laboratory_tests()
    output_name, source_name = text_names(record)
    flags: list[Flag] = []
    for ours in _anchored(record.output, quantities(record.output, as_source=False), lexicon):
        quantity = ours.quantity
        if not quantity.checked or not ours.medication <= named_medications:
            continue  # the dose of a medication the source does not name: that flag says it
        named = [other.quantity for other in by_name.get(ours.name, ())
                 if ours.name is not None and _comparable(quantity, other.quantity)]
        untested = ours.name in tests and ours.name not in by_name
        if not untested and all(
                any(not need.isdisjoint(other.gives) for other in named) if named
                else not need.isdisjoint(anywhere) for need in quantity.needs):
            continue
        written = record.output[ours.name_start if named else quantity.start:quantity.end]
        if named:
            first = next(other for other in by_name[ours.name] if other.quantity is named[0])
            theirs = source[first.name_start:first.quantity.end]
            detail = f"{quoted(written)} in {output_name}: {source_name} gives {quoted(theirs)}."
        elif untested:
            written = record.output[ours.name_start:quantity.end]
            detail = f"{quoted(written)} in {output_name}: {source_name} gives no such result."
        else:
            detail = f"{quoted(written)} in {output_name} is not in {source_name}."
        flags.append(make_flag("unsupported_number", record.output, quantity.start,
                               quantity.end, detail))
    return flags


def _comparable(ours: Quantity, theirs: Quantity) -> bool:
    """Quantities of one kind, or an output's number without a unit and a measured amount."""
    if ours.kind == theirs.kind:
        return True
    return ours.kind is None and theirs.kind not in _SAME_KIND_ONLY


def _anchored(text: str, found: list[Quantity], lexicon: MedicationLexicon) -> list[_Anchored]:
    """Each quantity with the name it belongs to (None when there is none)."""
    words = words_of(text)
    anchored: list[_Anchored] = []
    for quantity in found:
        at = _anchor_at(text, words, quantity.start)
        if at < 0:
            anchored.append(_Anchored(quantity, None, quantity.start))
            continue
        name, medication = _name(words.lower[at - 1] if at > 0 else "", words.lower[at], lexicon)
        anchored.append(_Anchored(quantity, name, words.starts[at], medication))
    return anchored


def _anchor_at(text: str, words: Words, start: int) -> int:
    """The token naming a number at ``start``: the nearest word before it in its clause, within
    60 characters, that is not a number, a unit (``mg/dL``, ``25 mg``), a stopword or a
    frequency (``twice daily``); -1 when there is none."""
    starts, ends, lower = words.starts, words.ends, words.lower
    at = bisect.bisect_left(starts, start) - 1
    while at >= 0 and starts[at] >= start - 60:
        word = lower[at]
        if word in _CLAUSE_ENDS:
            return -1
        if (word[0].isalpha() and "/" not in word
                and (word not in _NOT_ANCHORS or _written_as_test(text, starts[at], word))
                and not (at > 0 and lower[at - 1][0].isdigit()
                         and not text[ends[at - 1]:starts[at]].strip())):
            return at
        at -= 1
    return -1


def _written_as_test(text: str, start: int, word: str) -> bool:
    """A stopword or unit that is also a test when capitalised: ``Mg``, ``T``."""
    return text[start].isupper() and american(word) in lab_names()


@cache
def _laboratory_tests() -> frozenset[str]:
    return frozenset(lab_names().values()) - _VITAL_SIGNS


@lru_cache(maxsize=4096)
def _name(before: str, word: str, lexicon: MedicationLexicon) -> tuple[str, frozenset[str]]:
    """What a word names: a test or vital sign, a medication (by its generics, which come
    second), else the word itself."""
    lab = lab_names().get(american(f"{before} {word}")) or lab_names().get(american(word))
    if lab is not None:
        return lab, frozenset()
    generics = lexicon.generics_of(f"{before} {word}") or lexicon.generics_of(word)
    if generics:
        return "+".join(sorted(generics)), generics
    return american(word), frozenset()
