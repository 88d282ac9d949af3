"""Redaction of detected PHI: mask with the category, or replace with consistent surrogates.

Surrogates are derived from an HMAC-SHA256 of the original value under a secret ``key``, so the
same value always maps to the same surrogate under the same key (a name in two notes gets the same
fake name) and nobody without the key can map surrogates back by recomputing them. Dates are
shifted by a number of days derived from ``patient_key``: every date of one patient moves by the
same offset, so intervals between them are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Literal

from assay.curation._phi_rules import PhiSpan
from assay.errors import InputError

RedactionMode = Literal["mask", "surrogate"]

_FAKE_FIRST = (
    "Avery", "Blake", "Casey", "Dana", "Ellis", "Finley", "Harper", "Jordan", "Kendall", "Logan",
    "Morgan", "Parker", "Quinn", "Reese", "Rowan", "Sawyer", "Skyler", "Taylor", "Tatum", "Wren",
)  # fmt: skip
_FAKE_LAST = (
    "Ashdown", "Birchall", "Calloway", "Delacroix", "Everly", "Fairbanks", "Greaves", "Hollis",
    "Ingram", "Jessup", "Kingsley", "Lockhart", "Merriweather", "Northcott", "Oakes", "Pemberton",
    "Quarles", "Redfern", "Sallow", "Thistlewood", "Underhill", "Vance", "Whitlock", "Yardley",
)  # fmt: skip
_FAKE_STREETS = ("Alder", "Bramble", "Copper", "Dunmore", "Elmstead", "Foxglove", "Granger")
_FAKE_CITIES = ("Riverton", "Fairview", "Lakeside", "Millbrook", "Ashford", "Glenwood")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_MONTH_NUMBER = {name[:3].lower(): number for number, name in enumerate(_MONTHS, start=1)}
_MAX_DRAWS = 20


def _digest(key: bytes, *parts: str) -> bytes:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()


def _pick(options: Sequence[str], key: bytes, *parts: str) -> str:
    return options[int.from_bytes(_digest(key, *parts)[:8], "big") % len(options)]


def date_offset_days(key: bytes, patient_key: str) -> int:
    """The shift of every date of one patient: 30 to 395 days, earlier or later."""
    number = int.from_bytes(_digest(key, "date-shift", patient_key)[:8], "big")
    days = 30 + number % 366
    return days if (number >> 40) % 2 else -days


def _month_text(month: int, like: str) -> str:
    name = _MONTHS[month - 1]
    return name[:3] if len(like.rstrip(".")) <= 3 else name


def _shift_date(value: str, offset: int) -> str | None:
    """The date moved by ``offset`` days in the format it was written in, or None if unreadable."""

    def moved(year: int, month: int, day: int) -> date | None:
        try:
            return date(year, month, day) + timedelta(days=offset)
        except ValueError:
            return None

    if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", value):
        month_s, day_s, year_s = match.groups()
        year = int(year_s) + (2000 if len(year_s) == 2 else 0)
        if (new := moved(year, int(month_s), int(day_s))) is None:
            return None
        new_year = str(new.year)[-len(year_s) :]
        return f"{new.month:0{len(month_s)}d}/{new.day:0{len(day_s)}d}/{new_year}"
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value):
        new = moved(*(int(part) for part in match.groups()))
        return None if new is None else new.isoformat()
    if match := re.fullmatch(r"(\d{1,2})([- ])([A-Za-z]{3,9}\.?)([- ])(\d{4})", value):
        day_s, first, month_s, second, year_s = match.groups()
        month = _MONTH_NUMBER.get(month_s[:3].lower())
        if month is None or (new := moved(int(year_s), month, int(day_s))) is None:
            return None
        month_out = _month_text(new.month, month_s)
        return f"{new.day:0{len(day_s)}d}{first}{month_out}{second}{new.year}"
    pattern = r"([A-Za-z]{3,9}\.?) (\d{1,2})(st|nd|rd|th)?(?:(,? )(\d{4}))?"
    if match := re.fullmatch(pattern, value):
        month_s, day_s, _, separator, year_s = match.groups()
        month = _MONTH_NUMBER.get(month_s[:3].lower())
        year = int(year_s) if year_s else 2000
        if month is None or (new := moved(year, month, int(day_s))) is None:
            return None
        text = f"{_month_text(new.month, month_s)} {new.day}"
        return f"{text}{separator}{new.year}" if year_s else text
    if match := re.fullmatch(r"([A-Za-z]{3,9}\.?)(,? )(\d{4})", value):
        month_s, separator, year_s = match.groups()
        month = _MONTH_NUMBER.get(month_s[:3].lower())
        if month is None or (new := moved(int(year_s), month, 15)) is None:
            return None
        return f"{_month_text(new.month, month_s)}{separator}{new.year}"
    return None


def _same_shape(value: str, key: bytes, category: str, draw: int) -> str:
    """Digits replaced by digits and letters by letters (same case); separators kept."""
    stream = _digest(key, category, value, str(draw)) * 4
    out = []
    for position, character in enumerate(value):
        byte = stream[position % len(stream)]
        if character.isdigit():
            out.append(str(byte % 10))
        elif character.isascii() and character.isalpha():
            letter = chr(ord("A") + byte % 26)
            out.append(letter if character.isupper() else letter.lower())
        else:
            out.append(character)
    return "".join(out)


def _fake_name(value: str, key: bytes, draw: int) -> str:
    words = value.split()
    fakes = []
    for position, word in enumerate(words):
        options = _FAKE_LAST if position == len(words) - 1 else _FAKE_FIRST
        fake = _pick(options, key, "name", word.lower(), str(draw))
        fakes.append(fake.upper() if word.isupper() and len(word) > 1 else fake)
    return " ".join(fakes)


def _surrogate(value: str, category: str, key: bytes, offset: int, draw: int) -> str | None:
    hexed = _digest(key, category, value, str(draw)).hex()
    if category == "NAME":
        return _fake_name(value, key, draw)
    if category == "DATE":
        return _shift_date(value, offset)
    if category == "AGE":
        return re.sub(r"\d+", "90+", value, count=1)
    if category == "EMAIL":
        return f"patient-{hexed[:8]}@example.org"
    if category == "URL":
        return f"https://example.org/r/{hexed[:10]}"
    if category == "IP":
        octets = _digest(key, "ip", value, str(draw))[:3]
        return "10." + ".".join(str(octet) for octet in octets)
    if category == "ADDRESS":
        if not value[:1].isdigit():
            return _pick(_FAKE_CITIES, key, "city", value.lower(), str(draw))
        kind = re.search(r"\b([A-Z][a-z]+\.?)(?:,|$)", value.split(",")[0] + ",")
        number = int(hexed[:6], 16) % 9000 + 100
        street = _pick(_FAKE_STREETS, key, "street", value.lower(), str(draw))
        return f"{number} {street} {kind.group(1) if kind else 'Street'}"
    return _same_shape(value, key, category, draw)


def _checked_spans(text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]:
    ordered = sorted(spans, key=lambda span: (span.start, span.end))
    for span in ordered:
        if not 0 <= span.start < span.end <= len(text):
            raise InputError(
                f"span {span.start}:{span.end} ({span.category}) lies outside the text "
                f"of {len(text)} characters"
            )
    for first, second in itertools.pairwise(ordered):
        if first.overlaps(second):
            raise InputError(
                f"spans {first.start}:{first.end} and {second.start}:{second.end} overlap; "
                "pass the merged spans from detect_phi"
            )
    return ordered


def redact(
    text: str,
    spans: Sequence[PhiSpan],
    mode: RedactionMode = "mask",
    *,
    key: bytes | str | None = None,
    patient_key: str = "",
) -> str:
    """Replace each span of ``text`` by its category or by a consistent surrogate.

    Parameters
    ----------
    text
        The text the spans were detected in.
    spans
        Non-overlapping spans, as :func:`detect_phi` returns them.
    mode
        ``"mask"`` writes ``[NAME]``, ``[DATE]``...; ``"surrogate"`` writes fake values: the same
        value maps to the same fake under the same ``key``; dates move by a per-patient offset
        that keeps intervals; numbers keep their format with other digits.
    key
        Secret for the surrogates (needed in surrogate mode). Keep it out of the redacted data.
    patient_key
        Identifies the patient whose dates share one offset (for example a study id).

    Returns
    -------
    str
        The redacted text. A surrogate that would contain one of the text's detected values is
        drawn again; a date that cannot be read, or a value without a clean surrogate, is masked.

    Examples
    --------
    >>> from assay.curation._phi import detect_phi
    >>> note = "MRN: 00123456, seen 03/14/2026"
    >>> redact(note, detect_phi(note, ner=False))
    'MRN: [MRN], seen [DATE]'
    """
    if mode not in ("mask", "surrogate"):
        raise InputError(f"mode must be 'mask' or 'surrogate' (got {mode!r})")
    ordered = _checked_spans(text, spans)
    replace: Callable[[PhiSpan], str]
    if mode == "mask":
        replace = _mask
    else:
        if key is None or len(key) == 0:
            raise InputError("surrogate redaction needs a secret key (key=...)")
        secret = key.encode() if isinstance(key, str) else key
        offset = date_offset_days(secret, patient_key)
        originals = {text[span.start : span.end] for span in ordered}

        def replace(span: PhiSpan) -> str:
            value = text[span.start : span.end]
            for draw in range(_MAX_DRAWS):
                fake = _surrogate(value, span.category, secret, offset, draw)
                if fake is None:
                    break
                if not any(original in fake for original in originals):
                    return fake
            return _mask(span)

    pieces, position = [], 0
    for span in ordered:
        pieces += [text[position : span.start], replace(span)]
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)


def _mask(span: PhiSpan) -> str:
    return f"[{span.category}]"
