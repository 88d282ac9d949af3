"""Left and right that an output gives differently from its source for the same body part.

A side is read before a body part (``left knee``, ``L knee``, ``right-sided chest pain``,
``bilateral lower extremities``, ``both knees``, with up to three words between: ``left total
knee``), after it (``knee on the right``, ``knees bilaterally``, ``knee (left)``) or inside a
standard abbreviation (``LLE``, ``RUQ``, ``RLL``, ``LBBB``). Body parts and sided findings
(``breath sounds``, ``crackles``) come from the shipped list (``assay/lexicons/body_parts.txt``),
singular or plural, with synonyms made one (``leg`` is ``lower extremity``) and each in a region
(``lung``, ``lower limb``). The single letters ``L`` and ``R`` count only in capitals. A side
with no listed part is kept with the words it qualifies (``right heart failure``).

A side carries over to limbs joined to its part (``left-sided weakness of the arm and leg``,
``right ankle and knee``) unless they have their own.

Each sided mention of the output is compared with the source's mentions of the same part, else
of the same region (``calf`` and ``lower leg``), those followed by the same word first (``knee
effusion``, ``shin erythema`` and ``leg erythema``); a side with no listed part is compared with
mentions of the same words; a side given to a whole
body side (``left hemiparesis``) also counts for the limbs. A conflict is flagged when the
source gives a side and never the output's. ``bilateral`` is its own side: an output's ``left
knee effusion`` against a source's ``bilateral knee effusions`` is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assay.genai._consistency_context import stem
from assay.genai._consistency_text import (
    Words,
    american,
    grounding_of,
    make_flag,
    quoted,
    text_names,
    words_of,
)
from assay.genai._lexicon import BodyPart, body_parts, name_key
from assay.genai._records import Flag, Record

__all__ = ["SidedPart", "laterality_conflicts", "sided_parts"]

Side = Literal["left", "right", "bilateral"]

_SIDE_WORDS: dict[str, Side] = {
    "left": "left", "right": "right", "lt": "left", "rt": "right", "left-sided": "left",
    "right-sided": "right", "l-sided": "left", "r-sided": "right", "bilateral": "bilateral",
    "bilat": "bilateral", "b/l": "bilateral", "both": "bilateral",
}  # fmt: skip
_AFTER_SIDE_WORDS: dict[str, Side] = {
    "left": "left", "right": "right", "bilaterally": "bilateral", "bilateral": "bilateral",
}  # fmt: skip
_CAPITAL_SIDES: dict[str, Side] = {"L": "left", "R": "right"}
_ABBREVIATIONS: dict[str, tuple[Side, str]] = {
    "LLE": ("left", "lower extremity"), "RLE": ("right", "lower extremity"),
    "BLE": ("bilateral", "lower extremity"), "LUE": ("left", "upper extremity"),
    "RUE": ("right", "upper extremity"), "BUE": ("bilateral", "upper extremity"),
    "LLQ": ("left", "lower quadrant"), "RLQ": ("right", "lower quadrant"),
    "LUQ": ("left", "upper quadrant"), "RUQ": ("right", "upper quadrant"),
    "LUL": ("left", "upper lobe"), "LLL": ("left", "lower lobe"),
    "RUL": ("right", "upper lobe"), "RML": ("right", "middle lobe"),
    "RLL": ("right", "lower lobe"), "LBBB": ("left", "bundle branch block"),
    "RBBB": ("right", "bundle branch block"), "LIJ": ("left", "jugular"),
    "RIJ": ("right", "jugular"), "LICA": ("left", "carotid"), "RICA": ("right", "carotid"),
    "LMCA": ("left", "middle cerebral artery"), "RMCA": ("right", "middle cerebral artery"),
    "LIF": ("left", "lower quadrant"), "RIF": ("right", "lower quadrant"),
}  # fmt: skip
_NOT_MODIFIERS = frozenset(
    "and or of the a an with to in on at from for by is was were are has had no not side "
    "sides over".split()) | frozenset(_SIDE_WORDS) | frozenset(_AFTER_SIDE_WORDS)
_BETWEEN_PART_AND_SIDE = frozenset({",", "(", "on", "the", "to", "of", "at", "over", "in"})
_NOT_FINDING_WORDS = _NOT_MODIFIERS | frozenset(
    "sided side sides away now then this that it there here as well".split())
_JOINING = frozenset({"of", "in", "and", "or", "&"})
_FINDING_PREPOSITIONS = frozenset({"of", "in", "over", "at", "on", "to"})
_FINDING_FORMS = {
    "swollen": "swelling", "swelled": "swelling", "tender": "tenderness", "weak": "weakness",
    "painful": "pain", "sore": "pain", "numb": "numbness", "red": "erythema",
    "erythematous": "erythema", "bruised": "bruising", "bruise": "bruising",
}  # fmt: skip
_WEAKNESS = frozenset({"weakness", "hemiparesis", "hemiplegia", "paresis", "power", "strength"})
_LIMBS = frozenset(
    {"leg", "hip", "knee", "ankle", "foot", "arm", "shoulder", "elbow", "hand"})
# a side given to the whole body side ("left hemiparesis") speaks for weakness of the limbs
_BODY_SIDE = "body side"
_JOINING_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their"})
_FIRST_WORDS = frozenset(
    {*_SIDE_WORDS, *_AFTER_SIDE_WORDS, *(side.lower() for side in _CAPITAL_SIDES),
     *(abbreviation.lower() for abbreviation in _ABBREVIATIONS)})
_SIDE_NAMES: dict[Side, str] = {
    "left": "the left side", "right": "the right side", "bilateral": "both sides"}


@dataclass(frozen=True, slots=True)
class SidedPart:
    """A side given to a body part or finding: ``text[start:end]`` names both.

    ``part`` is the listed body part (None when the side qualifies other words), ``findings``
    the words around it that say what was found (``effusion`` in ``left knee effusion``,
    ``swollen`` in ``a swollen right ankle``, ``weakness`` in ``weakness of the left arm``) and
    ``words`` the content words of the mention; ``cue_end`` ends the mention with its next word,
    for quoting.
    """

    start: int
    end: int
    side: Side
    part: BodyPart | None
    findings: frozenset[str]
    words: frozenset[str]
    cue_end: int


def laterality_conflicts(record: Record) -> list[Flag]:
    """Flag body parts whose side (left, right, bilateral) in the output differs from every
    side the source gives the same part.

    ``right knee effusion`` in an output whose source says ``left knee effusion`` is flagged;
    sides given to different parts (``left knee``, ``right hip``) never conflict, and a part the
    source gives no side is not checked. Flags have type ``laterality_conflict`` and point at
    the side with its body part in the output.

    >>> from assay.genai import Record
    >>> record = Record(id="1", task="summarization", source="Left knee effusion.",
    ...                 output="Effusion of the R knee.")
    >>> [f.span.text for f in laterality_conflicts(record)]
    ['R knee']
    """
    source = grounding_of(record)
    source_parts = sided_parts(source)
    output_name, source_name = text_names(record)
    flags: list[Flag] = []
    for sided in sided_parts(record.output):
        compared = _comparable(sided, source_parts)
        if not compared or any(s.side == sided.side for s in compared):
            continue
        evidence = compared[0]
        detail = (f"{quoted(record.output[sided.start:sided.end])} in {output_name}: "
                  f"{source_name} gives {_SIDE_NAMES[evidence.side]} "
                  f"({quoted(source[evidence.start:evidence.cue_end])}).")
        flags.append(make_flag("laterality_conflict", record.output, sided.start, sided.end,
                               detail))
    return flags


def _comparable(sided: SidedPart, source_parts: list[SidedPart]) -> list[SidedPart]:
    """The source mentions an output mention is compared with: of the same part (else region),
    those with the same finding first; for weakness of a limb with no such mention, the sides
    given to the whole body side (``left hemiparesis``)."""
    part = sided.part
    if part is None:
        return [s for s in source_parts if s.words & sided.words]
    same = [s for s in source_parts if s.part is not None and s.part.name == part.name] or [
        s for s in source_parts if s.part is not None and s.part.region == part.region]
    same_finding = [s for s in same if s.findings & sided.findings]
    if same_finding:
        return same_finding
    if part.region in _LIMBS and sided.findings & _WEAKNESS:
        whole_side = [s for s in source_parts
                      if s.part is not None and s.part.region == _BODY_SIDE]
        if whole_side:
            return whole_side
    return same


def sided_parts(text: str) -> list[SidedPart]:
    """The body parts and findings of ``text`` that are given a side, in order."""
    words = words_of(text)
    parts = body_parts()
    worth_a_look = _FIRST_WORDS | parts.first_words
    found: list[SidedPart] = []
    claimed_until = -1
    for i in [i for i, word in enumerate(words.lower) if word in worth_a_look]:
        if i <= claimed_until:
            continue
        word = words.lower[i]
        original = words.original(i)
        if original in _ABBREVIATIONS:
            side, part_name = _ABBREVIATIONS[original]
            found.append(_sided(words, i, i, side, parts.get(name_key(part_name))))
            claimed_until = i
            continue
        before = _CAPITAL_SIDES.get(original) or _SIDE_WORDS.get(word)
        if before is not None:
            located = _part_after(words, i + 1)
            if located is not None:
                last, part = located
                main = _sided(words, i, last, before, part)
                found.append(main)
                claimed_until = last
                for joined_first, joined_last, joined in _same_side_parts(words, last + 1):
                    found.append(_sided(words, joined_first, joined_last, before, joined,
                                        findings=main.findings))
                    claimed_until = joined_last
            else:
                found.extend(_unlisted(words, i, before))
            continue
        match = parts.match(words.lower, i)
        if match is None:
            continue
        length, part = match
        side_at = _side_after(words, i + length)
        if side_at is not None:
            at, after = side_at
            found.append(_sided(words, i, at, after, part, part_end=i + length - 1))
            claimed_until = at
        else:
            claimed_until = i + length - 1
    return found


def _part_after(words: Words, at: int) -> tuple[int, BodyPart] | None:
    """The last token and the body part within three modifiers after a side word."""
    parts = body_parts()
    for j in range(at, min(at + 4, len(words.lower))):
        match = parts.match(words.lower, j) if words.lower[j] in parts.first_words else None
        if match is not None:
            length, part = match
            return j + length - 1, part
        word = words.lower[j]
        if not word[0].isalpha() or word in _NOT_MODIFIERS or words.original(j) in _CAPITAL_SIDES:
            return None
    return None


def _same_side_parts(words: Words, at: int) -> list[tuple[int, int, BodyPart]]:
    """Parts that share the side just given: ``left-sided weakness of the arm and leg``,
    ``right ankle and knee``. Each is ``(first token, last token, part)``."""
    parts = body_parts()
    lower = words.lower
    found: list[tuple[int, int, BodyPart]] = []
    j = at
    while j < len(lower) and lower[j] in _JOINING:
        k = j + 1
        while k < len(lower) and lower[k] in _JOINING_DETERMINERS:
            k += 1
        match = parts.match(lower, k) if k < len(lower) and lower[k] in parts.first_words else None
        if match is None or match[1].region not in _LIMBS:
            break
        after = k + match[0]
        if any(word in _AFTER_SIDE_WORDS or word in _SIDE_WORDS for word in lower[after:after + 4]):
            break  # the part has its own side: "left carotid and crackles at the right base"
        found.append((k, after - 1, match[1]))
        j = after
    return found


def _side_after(words: Words, at: int) -> tuple[int, Side] | None:
    """A side given just after a body part: ``knee, left``, ``crackles at the right``."""
    for j in range(at, min(at + 3, len(words.lower))):
        word = words.lower[j]
        side = _AFTER_SIDE_WORDS.get(word)
        if side is not None:
            return None if _part_after(words, j + 1) is not None else (j, side)
        if word not in _BETWEEN_PART_AND_SIDE:
            return None
    return None


def _unlisted(words: Words, at: int, side: Side) -> list[SidedPart]:
    """A side that qualifies words not in the body-part list: the words after it
    (``right heart failure``), else, for a side closing its phrase (``on the left``), the
    words before it."""
    lower = words.lower
    after = _finding_words(words, range(at + 1, min(at + 4, len(lower))))
    if after:
        last = after[-1]
        return [SidedPart(words.starts[at], words.ends[last], side, None, frozenset(),
                          frozenset(lower[j] for j in after), words.ends[last])]
    if side == "bilateral" or at == 0 or lower[at - 1] not in _BETWEEN_PART_AND_SIDE:
        return []
    j = at - 1
    while j >= 0 and lower[j] in _BETWEEN_PART_AND_SIDE:
        j -= 1
    before = _finding_words(words, range(j, max(j - 3, -1), -1))
    if not before:
        return []
    first = before[-1]
    return [SidedPart(words.starts[first], words.ends[at], side, None, frozenset(),
                      frozenset(lower[k] for k in before), words.ends[at])]


def _finding_words(words: Words, positions: range) -> list[int]:
    """The run of content words at ``positions`` (in the order given), up to the first other."""
    run: list[int] = []
    for j in positions:
        word = words.lower[j]
        if not word[0].isalpha() or word in _NOT_FINDING_WORDS or len(word) < 3:
            break
        run.append(j)
    return run


def _sided(words: Words, first: int, last: int, side: Side, part: BodyPart | None,
           part_end: int | None = None, findings: frozenset[str] = frozenset()) -> SidedPart:
    """The mention from token ``first`` to ``last``; ``part_end`` ends the part when the side
    comes after it (then no next word is read); ``findings`` are those of the part it is joined
    to (``leg`` in ``weakness of the left arm and leg``)."""
    lower = words.lower
    found: set[str] = set(findings)
    cue_end = words.ends[last]
    after = last + 1
    if part_end is None and after < len(lower) and _is_finding_word(lower[after]):
        found.add(_finding_word(lower[after]))
        cue_end = words.ends[after]
    before = first - 1
    if before >= 0 and _is_finding_word(lower[before]):
        found.add(_finding_word(lower[before]))  # "a swollen right ankle"
    while before >= 0 and lower[before] in _JOINING_DETERMINERS:
        before -= 1
    if before > 0 and lower[before] in _FINDING_PREPOSITIONS and _is_finding_word(
            lower[before - 1]):
        found.add(_finding_word(lower[before - 1]))  # "weakness of the left arm"
    content = frozenset(lower[j] for j in range(first, last + 1)
                        if lower[j][0].isalpha() and lower[j] not in _NOT_FINDING_WORDS)
    return SidedPart(words.starts[first], words.ends[last], side, part, frozenset(found),
                     content, cue_end)


def _is_finding_word(word: str) -> bool:
    return word[0].isalpha() and word not in _NOT_MODIFIERS and word not in _JOINING_DETERMINERS


def _finding_word(word: str) -> str:
    """A finding's word in one form: ``swollen`` is ``swelling``, ``effusions`` ``effusion``."""
    word = american(word)
    return _FINDING_FORMS.get(word, stem(word))
