"""Findings an output asserts that its source negates, or negates where the source asserts them.

Each text is read with the ConText-style reader of :mod:`assay.genai._consistency_context`.
Findings are the runs of content words between stopwords, triggers and punctuation (``of`` may
join them: ``shortness of breath``; a body part after a preposition is part of the finding:
``pain in the calf`` is ``calf pain``). A finding of the output is compared with the findings of
the source that contain it or that it contains and have the same head word (``severe chest
pain`` and ``chest pain``; not ``chest pain`` and ``abdominal pain``, nor ``night`` and ``night
sweats``), the closest first (``chest pain`` before ``pain``). A conflict is flagged only when
every such source mention has the opposite status, so a source that gives both (``fever on
admission, now no fever``) flags nothing.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from assay.genai._consistency_context import (
    CLAUSE_ENDS_OR_COMMA,
    SENTENCE_ENDS,
    Cover,
    clinical_words,
    is_content,
    scopes,
    stem,
)
from assay.genai._consistency_text import Words, grounding_of, make_flag, quoted, text_names
from assay.genai._lexicon import body_parts
from assay.genai._records import Flag, Record

__all__ = ["Finding", "findings", "negation_conflicts"]

Status = Literal["present", "absent", "uncertain"]

# "pain in the left calf" is the finding "pain" with the place "left calf" (as "left calf pain")
_LOCATION_PREPOSITIONS = frozenset("in of at over on around behind below above under".split())
_DETERMINERS = frozenset("the a an his her their its both".split())
_SIDES = frozenset("left right bilateral l r lt rt".split())


class Finding(NamedTuple):
    """A run of content words and whether the text gives it as present, absent or uncertain.

    ``start``/``end`` are character offsets of the run and ``offsets`` those of each of its
    words with the word's stem; ``head`` is the stem of its last word before any ``of``
    (``pain`` in ``chest pain``, ``shortness`` in ``shortness of breath``). ``cue_start`` and
    ``cue_end`` cover the run with the negation that governs it, or with up to four words of its
    clause before it when it is present (what a flag quotes as evidence).
    """

    start: int
    end: int
    words: frozenset[str]
    status: Status
    cue_start: int
    cue_end: int
    offsets: tuple[tuple[int, int, str], ...]
    head: str


def negation_conflicts(record: Record) -> list[Flag]:
    """Flag findings the output gives as present that the source gives as absent, and the
    reverse.

    ``'chest pain'`` in an output whose source says "denies chest pain" is flagged, as is "no
    fever" when the source reports fever. Uncertain, hypothetical and family mentions never
    conflict, and a source that gives a finding both ways flags nothing. Flags have type
    ``negation_conflict`` and point at the finding in the output.

    >>> from assay.genai import Record
    >>> record = Record(id="1", task="summarization", output="He reports chest pain.",
    ...                 source="Denies chest pain. Pneumonia was ruled out.")
    >>> [f.span.text for f in negation_conflicts(record)]
    ['chest pain']
    """
    source = grounding_of(record)
    output_findings = findings(record.output)
    heads = frozenset(f.head for f in output_findings if f.status != "uncertain")
    source_findings = findings(source, heads=heads)
    by_word: dict[str, list[int]] = {}
    for number, finding in enumerate(source_findings):
        for word in finding.words:
            by_word.setdefault(word, []).append(number)
    output_name, source_name = text_names(record)
    flags: list[Flag] = []
    for finding in output_findings:
        if finding.status == "uncertain":
            continue
        candidates = {n for word in finding.words for n in by_word.get(word, ())}
        related = _most_specific(finding, [source_findings[n] for n in sorted(candidates)])
        if not related or any(other.status == finding.status for other in related):
            continue
        evidence = quoted(source[related[0].cue_start:related[0].cue_end])
        shared = frozenset().union(*(finding.words & other.words for other in related))
        matched = [(start, end) for start, end, word in finding.offsets if word in shared]
        start, end = matched[0][0], matched[-1][1]
        written = quoted(record.output[start:end])
        if finding.status == "present":
            detail = (f"{written} in {output_name} is stated as present; {source_name} says it "
                      f"is absent ({evidence}).")
        else:
            detail = (f"{written} in {output_name} is stated as absent; {source_name} gives it "
                      f"as present ({evidence}).")
        flags.append(make_flag("negation_conflict", record.output, start, end, detail))
    return flags


def findings(text: str, *, heads: frozenset[str] | None = None) -> list[Finding]:
    """The findings of ``text`` in order, each with its status; with ``heads``, just those
    whose head is one of them."""
    words = clinical_words(text)
    if heads is not None:
        words = _sentences_with(words, heads)
    roles, cover = scopes(words)
    lower = words.lower
    content = [role is None and is_content(word) for role, word in zip(roles, lower, strict=True)]
    count = len(lower)
    found: list[Finding] = []
    run: list[int] = []
    head = -1  # the head of the run: its last word before any "of"
    i = 0
    while i <= count:
        if i < count and content[i]:
            run.append(i)
            i += 1
            continue
        if run and i + 1 < count and lower[i] == "of" and content[i + 1]:
            head = run[-1] if head < 0 else head
            i += 1
            continue
        if not run:
            i += 1
            continue
        head = run[-1] if head < 0 else head
        place = _location(words, i) if i < count and lower[i] in _LOCATION_PREPOSITIONS else []
        if heads is None or stem(lower[head]) in heads:
            found.append(_finding(words, run, head, place, cover, heads is None))
        run = []
        head = -1
        i = place[-1] + 1 if place else i + 1
    return found


def _sentences_with(words: Words, heads: frozenset[str]) -> Words:
    """Only the sentences of ``words`` that hold one of ``heads``: no scope crosses a
    sentence, so the others cannot change a finding with those heads."""
    lower = words.lower
    ends = [i for i, word in enumerate(lower) if word in SENTENCE_ENDS]
    kept: list[tuple[int, int]] = []
    first = 0
    for end in [*ends, len(lower)]:
        if first < end and not heads.isdisjoint(map(stem, lower[first:end])):
            kept.append((first, min(end + 1, len(lower))))
        first = end + 1
    if len(kept) == 1 + len(ends):
        return words
    starts: list[int] = []
    token_ends: list[int] = []
    kept_lower: list[str] = []
    for first, end in kept:
        starts += words.starts[first:end]
        token_ends += words.ends[first:end]
        kept_lower += lower[first:end]
        if kept_lower[-1] not in SENTENCE_ENDS:
            starts.append(token_ends[-1])
            token_ends.append(token_ends[-1])
            kept_lower.append("\n")
    return Words(words.text, starts, token_ends, kept_lower)


def _location(words: Words, at: int) -> list[int]:
    """The body part a preposition at ``at`` names, with its side: ``in the left calf``."""
    lower = words.lower
    if lower[at] not in _LOCATION_PREPOSITIONS:
        return []
    parts = body_parts()
    place: list[int] = []
    for j in range(at + 1, min(at + 5, len(lower))):
        word = lower[j]
        if word in _SIDES:
            place.append(j)
            continue
        if word in _DETERMINERS:
            continue
        match = parts.match(lower, j) if word in parts.first_words else None
        if match is None:
            return []
        after = j + match[0]
        if after < len(lower) and is_content(lower[after]):
            return []  # a part naming something else: "on chest X-ray"
        return [*place, *range(j, after)]
    return []


def _finding(words: Words, run: list[int], head: int, place: list[int], cover: Cover,
             with_offsets: bool = True) -> Finding:
    """A finding from its words (``run``, with its ``head``) and the body part a preposition
    gives it (``place``); its status comes from its own words. ``offsets`` are left empty
    unless ``with_offsets`` (a source's findings are never highlighted)."""
    tokens = run + place if place else run
    starts, ends, lower = words.starts, words.ends, words.lower
    start, end = starts[tokens[0]], ends[tokens[-1]]
    stems = frozenset([stem(lower[i]) for i in tokens])
    offsets = tuple([(starts[i], ends[i], stem(lower[i])) for i in tokens]) if with_offsets else ()
    head_stem = stem(lower[head])
    negation = None
    uncertain = False
    for i in run:
        if cover.modifier[i]:
            return Finding(start, end, stems, "uncertain", start, end, offsets, head_stem)
        if negation is None:
            negation = cover.negation[i]
        uncertain = uncertain or cover.uncertain[i]
    if negation is None and uncertain:
        return Finding(start, end, stems, "uncertain", start, end, offsets, head_stem)
    if negation is not None:
        cue_from, cue_to = negation
        return Finding(start, end, stems, "absent", min(start, starts[cue_from]),
                       max(end, ends[cue_to]), offsets, head_stem)
    lead = run[0]
    while lead > 0 and run[0] - lead < 4 and words.lower[lead - 1] not in CLAUSE_ENDS_OR_COMMA:
        lead -= 1
    return Finding(start, end, stems, "present", starts[lead], end, offsets, head_stem)


def _most_specific(finding: Finding, candidates: list[Finding]) -> list[Finding]:
    """The source findings to compare a finding with: those with the same words, else those
    holding its words and more, else those it holds (``pain`` only when no ``chest pain``)."""
    related = [other for other in candidates
               if other.status != "uncertain" and _related(finding, other)]
    same = [other for other in related if other.words == finding.words]
    if same:
        return same
    wider = [other for other in related if other.words > finding.words]
    return wider or related


def _related(first: Finding, second: Finding) -> bool:
    """One finding holds the other's words and both have the same head: ``severe chest pain``
    and ``chest pain``, not ``night`` and ``night sweats``."""
    return first.head == second.head and (
        first.words <= second.words or second.words <= first.words)
