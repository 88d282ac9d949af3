"""Pattern rules for the structured PHI identifiers, and the merge of overlapping spans.

Rules find what has a shape (dates, phone and fax numbers, e-mail, SSN, record and account
numbers after their cue words, URLs, IP addresses, ZIP codes after a state, ages over 89, device
serials and plates after their cue words, street addresses). Names come from the NER model and from
the titles and roles that introduce them (``Dr.``, ``Patient:``, ``daughter,``); no list of names
is used, so detection is not tuned to any generator's names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PhiSource = Literal["rule", "ner"]

STRUCTURED_CATEGORIES = frozenset(
    {"DATE", "AGE", "PHONE", "FAX", "EMAIL", "ZIP", "SSN", "MRN", "ACCOUNT", "URL", "IP",
     "DEVICE", "PLATE"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PhiSpan:
    """A detected identifier: ``text[start:end]`` is of HIPAA Safe Harbor ``category``."""

    start: int
    end: int
    category: str
    source: PhiSource

    def overlaps(self, other: PhiSpan) -> bool:
        return self.start < other.end and other.start < self.end


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE_PATTERNS = (
    r"(?<![\d/])\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})(?![\d/])",
    r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])",
    rf"(?<![\d-])\d{{1,2}}[- ]{_MONTH}[- ]\d{{4}}\b",
    rf"\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b(?![:.]\d)",
    rf"\b{_MONTH},? \d{{4}}\b",
)
_PHONE = r"(?<![\d-])(?:\+1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\d-])"
_STREET_KIND = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|"
    r"Terrace|Parkway|Pkwy|Circle|Highway|Hwy)\b\.?"
)
STREET_ADDRESS = re.compile(
    rf"\b\d{{1,6}} (?:[A-Z][A-Za-z'-]* ){{1,3}}{_STREET_KIND}"
    r"(?:,? (?:Apt|Apartment|Unit|Suite|Ste|#)\.? ?#?[0-9A-Za-z-]{1,6}\b)?"
)
CITY_AFTER_STREET = re.compile(
    rf"{STREET_ADDRESS.pattern},? ([A-Z][a-z]+(?: [A-Z][a-z]+)?),? [A-Z]{{2}}\b"
)

# (category, pattern, group holding the identifier)
_RULES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    *(("DATE", re.compile(pattern), 0) for pattern in _DATE_PATTERNS),
    ("FAX", re.compile(rf"(?i:\bfax\b[^\n\d+(]{{0,24}})({_PHONE})"), 1),
    ("PHONE", re.compile(_PHONE), 0),
    ("EMAIL", re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b"), 0),
    ("SSN", re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), 0),
    ("SSN", re.compile(r"(?i:\bSSN|social security(?: number| no\.?| #)?)[\s:#]*(\d{9})\b"), 1),
    (
        "MRN",
        re.compile(
            r"(?i:\bMRN|\bMR#|medical record(?: number| no\.?| #)?|\brecord(?: number| no\.?| #))"
            r"[\s:#]*([A-Z]{0,3}\d{5,12})\b"
        ),
        1,
    ),
    (
        "ACCOUNT",
        re.compile(
            r"(?i:\baccount|\bacct|\bbilling(?: account)?|\bpolicy|\bmember id|\binsurance id|"
            r"\bclaim)(?i:\.? ?(?:number|no\.?|#|id))?[\s:#]*([A-Z]{0,3}\d{6,14})\b"
        ),
        1,
    ),
    ("URL", re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:)]"), 0),
    (
        "IP",
        re.compile(
            r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}"
            r"(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.]*\d)"
        ),
        0,
    ),
    ("ZIP", re.compile(r"\b[A-Z]{2},? (\d{5}(?:-\d{4})?)\b"), 1),
    ("ZIP", re.compile(r"(?i:\bzip(?: code)?)[\s:#]*(\d{5}(?:-\d{4})?)\b"), 1),
    (
        "AGE",
        re.compile(
            r"\b(?:(?:9\d|1[0-2]\d)(?:-year-old|[- ]years?[- ]old|[- ]?y/?o\b|-yo\b)|"
            r"(?i:aged?) (?:9\d|1[0-2]\d)\b)"
        ),
        0,
    ),
    (
        "DEVICE",
        re.compile(
            r"(?i:serial(?: number| no\.?| #)?|\bS/N|\bSN|device id|\bUDI)[\s:#]*"
            r"([A-Z0-9][A-Z0-9-]{4,}[A-Z0-9])\b"
        ),
        1,
    ),
    (
        "PLATE",
        re.compile(
            r"(?i:licen[cs]e plate|plate(?: number| no\.?| #)?|\btag)[\s:#]*"
            r"((?=[A-Z0-9-]*\d)[A-Z0-9]{1,4}[- ]?[A-Z0-9]{2,5})\b"
        ),
        1,
    ),
    ("ADDRESS", STREET_ADDRESS, 0),
    ("ADDRESS", CITY_AFTER_STREET, 1),
)

_TITLE_NAME = re.compile(
    r"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof)\.? ((?:[A-Z][a-z]+(?:['-][A-Z][a-z]+)? ){0,2}"
    r"(?:O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
)
_CUED_NAME = re.compile(
    r"(?i:\bpatient|\bname|\bsigned(?: by)?|\bcontact|\bdaughter|\bson|\bwife|\bhusband|"
    r"\bmother|\bfather|\bsister|\bbrother|\bniece|\bnephew|\bpartner|\bguardian)"
    r"[:,]? ((?:O')?[A-Z][a-z]+ (?:[A-Z]\. )?(?:O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
)


def rule_spans(text: str) -> list[PhiSpan]:
    """Spans found by the pattern rules, before merging."""
    spans: list[PhiSpan] = []
    for category, pattern, group in _RULES:
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if end > start:
                spans.append(PhiSpan(start, end, category, "rule"))
    for pattern in (_TITLE_NAME, _CUED_NAME):
        for match in pattern.finditer(text):
            spans.append(PhiSpan(match.start(1), match.end(1), "NAME", "rule"))
    return spans


def _priority(span: PhiSpan) -> tuple[int, int]:
    """Lower sorts first: rules for structured categories, then other rules, then the model."""
    if span.source == "rule" and span.category in STRUCTURED_CATEGORIES:
        rank = 0
    elif span.source == "rule":
        rank = 1
    else:
        rank = 2
    return rank, -(span.end - span.start)


def merge_spans(spans: list[PhiSpan]) -> list[PhiSpan]:
    """One span per stretch of text, ordered by start.

    Overlapping spans of the same category are joined into one; where categories disagree the
    span of higher priority is kept (a rule for a structured identifier over any other rule, a rule
    over the NER model, then the longer span).
    """
    accepted: list[PhiSpan] = []
    for span in sorted(spans, key=_priority):
        clashes = [kept for kept in accepted if kept.overlaps(span)]
        if any(kept.category != span.category for kept in clashes):
            continue
        if clashes:
            for kept in clashes:
                accepted.remove(kept)
            start = min(span.start, *(kept.start for kept in clashes))
            end = max(span.end, *(kept.end for kept in clashes))
            span = PhiSpan(start, end, span.category, clashes[0].source)
        accepted.append(span)
    return sorted(accepted, key=lambda span: (span.start, span.end))
