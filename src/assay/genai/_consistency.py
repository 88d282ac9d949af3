"""Deterministic clinical consistency checks between a generated output and its source.

Four checks, each returning flags that point at the offending words of the output with one
plain sentence:

* ``unsupported_number``: a number, dose, range, date or time the source does not give
  (:func:`unsupported_numbers`);
* ``unsupported_medication``: a medication the source does not name, brands and generics counted
  as one (:func:`unsupported_medications`);
* ``negation_conflict``: a finding present in one text and absent in the other
  (:func:`negation_conflicts`);
* ``laterality_conflict``: a body part given another side (:func:`laterality_conflicts`).

:func:`consistency_flags` runs all four. The checks read words, not meaning: a paraphrase that
changes a word the checks key on can be missed, and they say nothing about omissions. Their word
lists (medications, body parts, synonyms of findings, short names of tests) are plain text in
``assay/lexicons/`` (:mod:`assay.genai._lexicon`); numbers are read in
:mod:`assay.genai._consistency_quantities` and negation in
:mod:`assay.genai._consistency_context`.
"""

from __future__ import annotations

from assay.genai._consistency_laterality import laterality_conflicts
from assay.genai._consistency_negation import negation_conflicts
from assay.genai._consistency_numbers import unsupported_numbers
from assay.genai._consistency_text import grounding_of, make_flag, quoted, text_names
from assay.genai._lexicon import MedicationLexicon, default_lexicon, name_key
from assay.genai._records import Flag, Record

__all__ = [
    "consistency_flags", "laterality_conflicts", "negation_conflicts", "unsupported_medications",
    "unsupported_numbers",
]


def unsupported_medications(record: Record, *, lexicon: MedicationLexicon | None = None
                            ) -> list[Flag]:
    """Flag each medication named in the output that the source does not name.

    Names are read with ``lexicon`` (the shipped list by default: :func:`default_lexicon`), and
    a brand, an abbreviation and its generic are one medication: ``Lasix`` in the output is
    supported by ``furosemide`` in the source, ``insulin`` by ``insulin glargine``. A
    combination product needs all its parts. Flags have type ``unsupported_medication`` and
    point at the name in the output.

    >>> from assay.genai import Record
    >>> record = Record(id="1", task="summarization", source="On furosemide 40 mg daily.",
    ...                 output="Continue Lasix 40 mg daily and start Eliquis.")
    >>> [f.span.text for f in unsupported_medications(record)]
    ['Eliquis']
    """
    lexicon = lexicon if lexicon is not None else default_lexicon()
    source = grounding_of(record)
    named: set[str] = set()
    for mention in lexicon.find(source):
        named.update(mention.generics)
    for generic in list(named):
        head = generic.split(" ")[0]
        if head != generic and lexicon.generics_of(head) == frozenset({head}):
            named.add(head)
    output_name, source_name = text_names(record)
    flags: list[Flag] = []
    for mention in lexicon.find(record.output):
        missing = sorted(mention.generics - named)
        if not missing:
            continue
        written = quoted(mention.text)
        if mention.generics == frozenset({" ".join(name_key(mention.text))}):
            detail = f"{written} in {output_name}: {source_name} does not mention it."
        else:
            detail = (f"{written} ({' + '.join(sorted(mention.generics))}) in {output_name}: "
                      f"{source_name} does not mention {' or '.join(missing)} under any name.")
        flags.append(make_flag("unsupported_medication", record.output, mention.start,
                               mention.end, detail))
    return flags


def consistency_flags(record: Record, *, lexicon: MedicationLexicon | None = None
                      ) -> list[Flag]:
    """All four consistency checks on one record: unsupported numbers and medications,
    negation and laterality conflicts, in order of where they start in the output.

    A record needs a ``source`` or ``contexts`` to be checked against (otherwise
    :class:`~assay.errors.InputError`). ``lexicon`` is the medication list (the shipped one by
    default). The same flag found twice is reported once.

    >>> from assay.genai import Record
    >>> record = Record(
    ...     id="n-1", task="summarization",
    ...     source="Left knee effusion. Denies chest pain. Apixaban 5 mg twice daily.",
    ...     output="Right knee effusion with chest pain. Eliquis 2.5 mg twice daily.")
    >>> [(f.type, f.span.text) for f in consistency_flags(record)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('laterality_conflict', 'Right knee'), ('negation_conflict', 'chest pain'),
     ('unsupported_number', '2.5 mg')]
    """
    grounding_of(record)
    found = [
        *unsupported_numbers(record, lexicon=lexicon),
        *unsupported_medications(record, lexicon=lexicon),
        *negation_conflicts(record),
        *laterality_conflicts(record),
    ]
    unique: dict[tuple[int, int, str], Flag] = {}
    for flag in found:
        unique.setdefault(_position(flag), flag)
    return [unique[position] for position in sorted(unique)]


def _position(flag: Flag) -> tuple[int, int, str]:
    span = flag.span
    return (span.start, span.end, flag.type) if span is not None else (-1, -1, flag.type)
