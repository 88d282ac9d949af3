"""Findings an output asserts that its source negates, or negates where the source asserts them.

A small ConText-style reader. Trigger phrases open a scope: negations before the finding
(``no``, ``denies``, ``negative for``, ``no evidence of``, ``without``) reach forward to the end
of the clause; negations after it (``was ruled out``, ``were negative``, ``not seen``) reach back
over at most six words. A clause ends at sentence punctuation, a colon (forward only), a
terminator (``but``, ``however``, ``although``, ``except``, ``reports``) or an ``and``/``or`` that
opens a new clause (``and the``, ``and she``). Pseudo-negations (``no increase in``, ``not
only``, ``gram negative``, ``without difficulty``) are read and skipped. Uncertain, hypothetical
and family mentions (``possible``, ``rule out``, ``return if``, ``mother``) are neither present nor
absent and never conflict.

Findings are the runs of content words between stopwords, triggers and punctuation (``of`` may
join them: ``shortness of breath``). A finding of the output is compared with every finding of
the source that contains it or that it contains (``severe chest pain`` and ``chest pain``, not
``chest pain`` and ``abdominal pain``); a conflict is flagged only when every such source
mention has the opposite status, so a source that gives both (``fever on admission, now no
fever``) flags nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from assay.genai._consistency_text import (
    Words,
    american,
    grounding_of,
    make_flag,
    quoted,
    text_names,
    words_of,
)
from assay.genai._lexicon import PhraseIndex, body_parts, finding_synonyms
from assay.genai._records import Flag, Record

__all__ = ["Finding", "findings", "negation_conflicts"]

Status = Literal["present", "absent", "uncertain"]
Role = Literal["negation", "uncertain", "pseudo", "terminator"]


@dataclass(frozen=True, slots=True)
class _Trigger:
    role: Role
    forward: Literal["clause", "phrase", "none"]
    backward: bool


def _table(role: Role, forward: Literal["clause", "phrase", "none"], backward: bool,
           phrases: str) -> dict[tuple[str, ...], _Trigger]:
    trigger = _Trigger(role, forward, backward)
    return {tuple(phrase.split()): trigger for phrase in phrases.split(",")}


_TRIGGERS = PhraseIndex({
    **_table("negation", "clause", False,
             "no,not,denies,denied,deny,denying,without,w/o,never,nor,neither,negative for,"
             "neg for,no evidence of,no signs of,no sign of,no history of,no complaints of,"
             "no findings of,free of,absence of,fails to reveal,failed to reveal,"
             "did not reveal,does not reveal,rules out,ruled out for,no longer,resolution of"),
    **_table("negation", "phrase", True, "negative,neg,absent,ruled out,excluded"),
    **_table("negation", "none", True,
             "none,not seen,not present,not identified,not detected,not appreciated,not noted,"
             "not found,not visualized,not demonstrated,not elicited,resolved"),
    **_table("uncertain", "clause", False,
             "possible,possibly,probable,probably,likely,suspected,suspect,suspicious for,"
             "concern for,concerning for,question of,questionable,rule out,r/o,to rule out,"
             "evaluate for,evaluation for,evaluated for,workup for,may,might,could,if,should,"
             "unless,in case,watch for,monitor for,monitoring for,risk of,risk for,at risk,"
             "prophylaxis,family history,fhx,mother,father,brother,sister,grandmother,"
             "grandfather,aunt,uncle,versus,vs,differential,cannot rule out,can not rule out,"
             "cannot exclude,educated,counseled,counselled,instructed,advised,precautions,"
             "screen for,screening for,unlikely,presumed,presumptive"),
    **_table("uncertain", "none", True,
             "is likely,less likely,is unlikely,was unlikely,is possible,is suspected,"
             "was suspected,cannot be excluded,cannot be ruled out,can not be ruled out,"
             "not ruled out,not been ruled out,not excluded,not be excluded,was considered,"
             "is considered"),
    **_table("pseudo", "none", False,
             "no increase,no increased,no change,no significant change,no interval change,"
             "no definite change,no suspicious change,no further,no decrease,no worsening,"
             "no improvement,no relief,not improved,not relieved,not resolved,not only,"
             "not necessarily,not certain,not sure,not cause,not drain,not extend,"
             "gram negative,gram-negative,without difficulty,without incident,not worsened"),
    **_table("terminator", "none", False,
             "but,however,although,though,yet,except,aside from,apart from,other than,"
             "which,who,whereas,while,because,due to,secondary to,cause of,source of,"
             "etiology of,reason for,presents,presented,presenting,reports,reported,endorses,"
             "endorsed,complains,complained,complaining,admits,admitted to,has,had,now,still,"
             "remains,remained"),
})
_CLAUSE_ENDS = frozenset(".;:!?()[]\n")
_CLAUSE_ENDS_OR_COMMA = _CLAUSE_ENDS | {","}
# An "and", "or" or comma followed by these opens a new clause: "no fever and the cough ...",
# "no pneumothorax, small right effusion".
_NEW_CLAUSE = frozenset(
    "the his her he she they patient pt it this there we which who these those small large "
    "mild moderate severe trace minimal marked extensive positive elevated increased "
    "decreased low high new worsening persistent".split())
# In a negation's scope, what follows a preposition up to the next list separator says where or
# how: "no evidence of pneumothorax on chest X-ray", "no pain in the calf or palpitations".
_PREPOSITIONS = frozenset(
    "on in at by per from after since during over under within via with to for".split())
_LIST_SEPARATORS = frozenset({",", "or", "and", "nor"})
# "pain in the left calf" is the finding "pain" with the place "left calf" (as "left calf pain")
_LOCATION_PREPOSITIONS = frozenset("in of at over on around behind below above under".split())
_DETERMINERS = frozenset("the a an his her their its both".split())
_SIDES = frozenset("left right bilateral l r lt rt".split())
_AUXILIARIES = frozenset({"has", "had", "have"})
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i in into is it its itself just me more
most my myself of off on once only or other our ours out over own same she so some such than that
the their them then there these they this those through to too under until up very was we were
what when where whether which while who whom why will with would you your yours per via x
patient patients pt pts mr mrs ms man woman male female year years old yo day days today daily
week weeks month months hospital admission admitted discharge discharged home history hx noted
note notes seen found shows showed show reveal revealed reveals also well new recent recently
known significant any other additional since prior previously currently current time times
plan assessment impression exam examination reports reported states stated given continue
continued continues started start stop stopped follow follows followed up return returns
confirmed confirms grew grows showed demonstrated demonstrates revealing diagnosed developed
develops underwent received receiving required requires treated treating documented described
observed suggested suggests consistent compatible present evident improving improved
worsening worsened worse better resolving settled settling controlled ongoing persisting
persists radiating today yesterday overnight again initially subsequently report reporting
associated complain complaining complaint complaints endorse endorsing describe describes
describing experience experienced experiencing feel feels feeling notice noticed develop
get got disease diseases disorder condition problem problems issue issues symptom symptoms
""".split())  # fmt: skip
_MAX_BACKWARD = 6


@dataclass(frozen=True, slots=True)
class Finding:
    """A run of content words and whether the text gives it as present, absent or uncertain.

    ``start``/``end`` are character offsets of the run and ``offsets`` those of each of its
    words with the word's stem; ``head`` is the stem of its last word before any ``of``
    (``pain`` in ``chest pain``, ``shortness`` in ``shortness of breath``); ``cue_start``/``cue_end`` cover the run
    with the negation that governs it, or with up to four words of its clause before it when it
    is present (what a flag quotes as evidence).
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
    asked = frozenset().union(*(f.words for f in output_findings if f.status != "uncertain"))
    source_findings = findings(source, only=asked)
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
        matched = [(start, end) for start, end, stem in finding.offsets if stem in shared]
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


@lru_cache(maxsize=16)
def clinical_words(text: str) -> Words:
    """The tokens of ``text`` in American spelling, each synonym of a finding replaced by the
    finding's words (``SOB`` by ``shortness of breath``, every word spanning ``SOB``)."""
    words = words_of(text)
    synonyms = finding_synonyms()
    first_words = synonyms.first_words
    normal = [american(word) for word in words.lower]
    starts: list[int] = []
    ends: list[int] = []
    lower: list[str] = []
    i = 0
    while i < len(normal):
        match = synonyms.match(normal, i) if normal[i] in first_words else None
        if match is None:
            starts.append(words.starts[i])
            ends.append(words.ends[i])
            lower.append(normal[i])
            i += 1
            continue
        length, finding = match
        start, end = words.starts[i], words.ends[i + length - 1]
        for word in finding:
            starts.append(start)
            ends.append(end)
            lower.append(word)
        i += length
    return Words(text, starts, ends, lower)


def findings(text: str, *, only: frozenset[str] | None = None) -> list[Finding]:
    """The findings of ``text`` in order, each with its status; with ``only``, just those
    sharing a (stemmed) word with it."""
    words = clinical_words(text)
    roles, cover = _scopes(words)
    lower = words.lower
    content = [role is None and _is_content(word) for role, word in zip(roles, lower, strict=True)]
    count = len(lower)
    found: list[Finding] = []
    run: list[int] = []
    i = 0
    while i <= count:
        if i < count and content[i]:
            run.append(i)
            i += 1
            continue
        if run and i + 1 < count and lower[i] == "of" and content[i + 1]:
            i += 1
            continue
        place = _location(words, i) if run and i < count else []
        if run and (only is None or any(_stem(lower[j]) in only for j in [*run, *place])):
            found.append(_finding(words, run, place, cover))
        run = []
        i = place[-1] + 1 if place else i + 1
    return found


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
        if after < len(lower) and _is_content(lower[after]):
            return []  # a part naming something else: "on chest X-ray"
        return [*place, *range(j, after)]
    return []


def _finding(words: Words, run: list[int], place: list[int], cover: _Cover) -> Finding:
    """A finding from its words (``run``) and the body part a preposition gives it
    (``place``); its status comes from its own words."""
    tokens = [*run, *place]
    start, end = words.starts[tokens[0]], words.ends[tokens[-1]]
    offsets = tuple((words.starts[i], words.ends[i], _stem(words.lower[i])) for i in tokens)
    stems = frozenset(stem for _, _, stem in offsets)
    first_segment = next((k for k in range(1, len(run)) if run[k] != run[k - 1] + 1), len(run))
    head = offsets[first_segment - 1][2]
    negation = next((cover.negation[i] for i in run if cover.negation[i] is not None), None)
    if any(cover.modifier[i] for i in run) or (
            negation is None and any(cover.uncertain[i] for i in run)):
        return Finding(start, end, stems, "uncertain", start, end, offsets, head)
    if negation is not None:
        cue_from, cue_to = negation
        return Finding(start, end, stems, "absent", min(start, words.starts[cue_from]),
                       max(end, words.ends[cue_to]), offsets, head)
    lead = run[0]
    while lead > 0 and run[0] - lead < 4 and words.lower[lead - 1] not in _CLAUSE_ENDS_OR_COMMA:
        lead -= 1
    return Finding(start, end, stems, "present", words.starts[lead], end, offsets, head)


@dataclass(frozen=True, slots=True)
class _Cover:
    """What governs each token: the negation trigger (first and last token), an uncertainty
    trigger, or a preposition inside a negation's scope (a modifier: neither)."""

    negation: list[tuple[int, int] | None]
    uncertain: list[bool]
    modifier: list[bool]


def _scopes(words: Words) -> tuple[list[Role | None], _Cover]:
    """The role of each token (trigger, pseudo, terminator) and what governs it."""
    count = len(words.lower)
    roles: list[Role | None] = [None] * count
    triggers: list[tuple[int, int, _Trigger]] = []
    first_words = _TRIGGERS.first_words
    i = 0
    while i < count:
        match = _TRIGGERS.match(words.lower, i) if words.lower[i] in first_words else None
        if match is None:
            i += 1
            continue
        length, trigger = match
        for j in range(i, i + length):
            roles[j] = trigger.role
        triggers.append((i, i + length - 1, trigger))
        i += length
    cover = _Cover([None] * count, [False] * count, [False] * count)
    for first, last, trigger in triggers:
        if trigger.role not in ("negation", "uncertain"):
            continue
        covered = _forward(words, roles, last + 1, trigger.forward)
        if trigger.backward:
            covered = [*covered, *((j, False) for j in _backward(words, roles, first - 1))]
        for j, after_preposition in covered:
            if trigger.role == "uncertain":
                cover.uncertain[j] = True
            elif after_preposition:
                # "no pain in the calf": the calf is neither present nor absent
                cover.modifier[j] = True
            elif cover.negation[j] is None:
                cover.negation[j] = (first, last)
    return roles, cover


def _forward(words: Words, roles: list[Role | None], at: int,
             reach: Literal["clause", "phrase", "none"]) -> list[tuple[int, bool]]:
    """The tokens a trigger reaches forward, each with whether a preposition precedes it in
    its list item."""
    if reach == "none":
        return []
    covered: list[tuple[int, bool]] = []
    seen_content = False
    after_preposition = False
    for j in range(at, len(words)):
        word = words.lower[j]
        if word in _CLAUSE_ENDS or (reach == "phrase" and word == ","):
            break
        if roles[j] in ("negation", "uncertain", "pseudo"):
            break
        if roles[j] == "terminator" and (seen_content or word in ("but", "however")):
            break
        if word in ("and", "or", ",") and j + 1 < len(words) and words.lower[j + 1] in _NEW_CLAUSE:
            break
        if word in _PREPOSITIONS:
            after_preposition = True
        elif word in _LIST_SEPARATORS:
            after_preposition = False
        covered.append((j, after_preposition))
        seen_content = seen_content or _is_content(word)
    return covered


def _backward(words: Words, roles: list[Role | None], at: int) -> list[int]:
    covered: list[int] = []
    for j in range(at, max(at - _MAX_BACKWARD, -1), -1):
        word = words.lower[j]
        if word == ":":
            continue
        if word in _AUXILIARIES:
            continue
        if roles[j] == "uncertain":  # "was considered and ruled out"
            continue
        if word in _CLAUSE_ENDS or word == "," or roles[j] is not None:
            break
        covered.append(j)
    return covered


@cache
def _is_content(word: str) -> bool:
    return (len(word) > 1 and word not in _STOPWORDS and word not in _CLAUSE_ENDS
            and not word[0].isdigit())


@cache
def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _most_specific(finding: Finding, candidates: list[Finding]) -> list[Finding]:
    """The source findings to compare a finding with: those with the same words, else those
    holding its words and more, else those it holds (``pain`` only when no ``chest pain``)."""
    related = [other for other in candidates
               if other.status != "uncertain" and _related(finding, other)]
    for tier in (lambda other: other.words == finding.words,
                 lambda other: other.words > finding.words):
        chosen = [other for other in related if tier(other)]
        if chosen:
            return chosen
    return related


def _related(first: Finding, second: Finding) -> bool:
    """One finding holds the other's words and both have the same head: ``severe chest pain``
    and ``chest pain``, not ``night`` and ``night sweats``."""
    return first.head == second.head and (
        first.words <= second.words or second.words <= first.words)
