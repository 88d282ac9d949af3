"""Numbers as a clinician writes them, read with their units into comparable keys.

Every number is read with its unit and compared by value, so ``25mg``, ``25 mg`` and ``25.0 mg``
are one quantity, ``1,000`` is ``1000``, ``1 g`` is ``1000 mg``, ``48 hours`` is ``2 days`` and
``14 March`` is ``03/14`` (day-first and month-first readings of a slash date are both tried).
A number with a unit needs, from a source, the same value in a unit of the same kind or the
same number with no unit; a number without a unit needs the same number anywhere. A range, a
blood pressure (``130/80``) or a date is needed as a whole. Number words (``two weeks``) count
when a unit follows them.

An age with the patient's sex (``54F``, ``72M``) is read as years; a bare ``C`` or ``F`` after a
number is not read as a temperature unit (``38.5 C`` is the number 38.5).

Not read as numbers: list and section numbering at the start of a line (``1.``, ``2)``,
``3.1 Plan``), enumerations such as ``2)``, ``#3``, and digits inside a word or identifier
(``SpO2``, ``HbA1c``, ``COVID-19``, ``x3``, ``T2``): they are names, not quantities. Oxygen flow in
litres per minute is compared as litres (``2 L`` nasal cannula is ``2 L/min``), and mEq is read as
mmol (equal for the monovalent ions summaries quote).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

__all__ = ["UNITS", "Key", "Quantity", "quantities"]

Key = tuple[object, ...]

_KINDS: dict[str, tuple[str, str]] = {
    # spelling: (kind of quantity, factor to its base unit)
    "mg": ("mass", "1"), "milligram": ("mass", "1"), "milligrams": ("mass", "1"),
    "mcg": ("mass", "0.001"), "µg": ("mass", "0.001"), "μg": ("mass", "0.001"),
    "ug": ("mass", "0.001"), "microgram": ("mass", "0.001"), "micrograms": ("mass", "0.001"),
    "g": ("mass", "1000"), "gm": ("mass", "1000"), "gram": ("mass", "1000"),
    "grams": ("mass", "1000"), "kg": ("mass", "1000000"), "kilogram": ("mass", "1000000"),
    "kilograms": ("mass", "1000000"), "lb": ("pounds", "1"), "lbs": ("pounds", "1"),
    "pound": ("pounds", "1"), "pounds": ("pounds", "1"),
    "ml": ("volume", "1"), "cc": ("volume", "1"), "milliliter": ("volume", "1"),
    "milliliters": ("volume", "1"), "millilitre": ("volume", "1"),
    "millilitres": ("volume", "1"), "l": ("volume", "1000"), "liter": ("volume", "1000"),
    "liters": ("volume", "1000"), "litre": ("volume", "1000"), "litres": ("volume", "1000"),
    "l/min": ("volume", "1000"), "lpm": ("volume", "1000"),
    "liters per minute": ("volume", "1000"), "litres per minute": ("volume", "1000"),
    "units": ("units", "1"), "unit": ("units", "1"), "u": ("units", "1"),
    "iu": ("units", "1"), "international units": ("units", "1"),
    "units/kg": ("units/kg", "1"), "units/hr": ("units/hour", "1"),
    "units/h": ("units/hour", "1"),
    "mmol": ("mmol", "1"), "meq": ("mmol", "1"), "mmol/l": ("mmol/L", "1"),
    "meq/l": ("mmol/L", "1"), "mg/dl": ("mg/dL", "1"), "g/dl": ("g/dL", "1"),
    "g/l": ("g/L", "1"), "mg/l": ("mg/L", "1"), "ng/ml": ("ng/mL", "1"), "ng/l": ("ng/L", "1"),
    "pg/ml": ("pg/mL", "1"), "mcg/ml": ("mcg/mL", "1"), "iu/l": ("units/L", "1"),
    "u/l": ("units/L", "1"), "miu/l": ("mIU/L", "1"), "mg/kg": ("mg/kg", "1"),
    "mcg/kg/min": ("mcg/kg/min", "1"), "mcg/min": ("mcg/min", "1"), "mg/hr": ("mg/hour", "1"),
    "mg/h": ("mg/hour", "1"), "ml/hr": ("mL/hour", "1"), "ml/h": ("mL/hour", "1"),
    "ml/min": ("mL/min", "1"), "ml/kg": ("mL/kg", "1"), "kg/m2": ("kg/m2", "1"),
    "kg/m²": ("kg/m2", "1"),
    "%": ("percent", "1"), "percent": ("percent", "1"),
    "mmhg": ("mmHg", "1"), "mm hg": ("mmHg", "1"), "cmh2o": ("cmH2O", "1"),
    "cm h2o": ("cmH2O", "1"),
    "bpm": ("per minute", "1"), "/min": ("per minute", "1"), "beats/min": ("per minute", "1"),
    "breaths/min": ("per minute", "1"), "beats per minute": ("per minute", "1"),
    "breaths per minute": ("per minute", "1"), "per minute": ("per minute", "1"),
    "°c": ("temperature", "1"), "° c": ("temperature", "1"), "°f": ("temperature", "1"),
    "° f": ("temperature", "1"),
    "degrees": ("temperature", "1"), "degrees c": ("temperature", "1"),
    "degrees f": ("temperature", "1"), "celsius": ("temperature", "1"),
    "fahrenheit": ("temperature", "1"), "°": ("temperature", "1"),
    "mm": ("length", "1"), "cm": ("length", "10"),
    "sec": ("time", "1"), "seconds": ("time", "1"), "min": ("time", "60"),
    "mins": ("time", "60"), "minute": ("time", "60"), "minutes": ("time", "60"),
    "h": ("time", "3600"), "hr": ("time", "3600"), "hrs": ("time", "3600"),
    "hour": ("time", "3600"), "hours": ("time", "3600"), "day": ("time", "86400"),
    "days": ("time", "86400"), "wk": ("time", "604800"), "wks": ("time", "604800"),
    "week": ("time", "604800"), "weeks": ("time", "604800"),
    "mo": ("months", "1"), "month": ("months", "1"), "months": ("months", "1"),
    "y": ("years", "1"), "yr": ("years", "1"), "yrs": ("years", "1"), "year": ("years", "1"),
    "years": ("years", "1"), "yo": ("years", "1"), "y/o": ("years", "1"),
    "year-old": ("years", "1"), "years-old": ("years", "1"), "year old": ("years", "1"),
    "years old": ("years", "1"),
    "tab": ("tablets", "1"), "tabs": ("tablets", "1"), "tablet": ("tablets", "1"),
    "tablets": ("tablets", "1"), "cap": ("capsules", "1"), "caps": ("capsules", "1"),
    "capsule": ("capsules", "1"), "capsules": ("capsules", "1"), "puff": ("puffs", "1"),
    "puffs": ("puffs", "1"), "drop": ("drops", "1"), "drops": ("drops", "1"),
    "spray": ("sprays", "1"), "sprays": ("sprays", "1"), "dose": ("doses", "1"),
    "doses": ("doses", "1"), "times": ("times", "1"),
}  # fmt: skip
UNITS: dict[str, tuple[str, Decimal]] = {
    spelling: (kind, Decimal(factor)) for spelling, (kind, factor) in _KINDS.items()}
"""Each unit as written (lower case) with the kind of quantity and the factor to its base."""

def _trie_pattern(spellings: list[str]) -> str:
    """One regular expression matching any of ``spellings``, longest first, written as a trie
    (``m(?:g(?:/dl)?|...)``): the regex engine then reads each character once instead of trying
    every spelling in turn."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for spelling in spellings:
        node = trie
        for character in spelling:
            node = node.setdefault(character, {})
        node[""] = {}

    def pattern(node: dict) -> str:  # type: ignore[type-arg]
        branches = [re.escape(character) + pattern(child)
                    for character, child in sorted(node.items()) if character]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


_UNIT = _trie_pattern(list(UNITS))
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_BEFORE = r"(?<![A-Za-z0-9.,/])(?<![A-Za-z]-)"
_END = r"(?![A-Za-z0-9])"
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (r"(?<![A-Za-z])(?-i:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|"
          r"July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_MERIDIEM = r"(?:[ap]m\b|[ap]\.m\.)"
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
# Tried only where a quantity can start: at a digit run, a full stop before one (".5"), a month
# name or a "q" before one ("March 14", "q6h"). Scanning every position costs three times more.
_QUANTITY = re.compile(
    rf"(?:(?P<iso>(?<![\d/.-])\d{{4}}-\d{{1,2}}-\d{{1,2}}(?![\d-]))"
    rf"|(?P<slash>(?<![\w/.])\d{{1,4}}(?:\.\d+)?/\d{{1,4}}(?:\.\d+)?(?:/\d{{2,4}})?(?![\w/]|\.\d))"
    rf"(?: ?(?:{_UNIT}){_END})?"
    rf"|(?P<mdy>{_MONTH} (?P<mdy_day>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:]){_END}(?:,? \d{{4}})?)"
    rf"|(?P<dmy>(?<![\w.])\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}(?:,? \d{{4}})?)"
    rf"|(?P<my>{_MONTH},? \d{{4}})"
    rf"|(?P<time>(?<![\w.:])\d{{1,2}}:\d{{2}}(?: ?{_MERIDIEM})?(?![\w:])"
    rf"|(?<![\w.])\d{{1,2}} ?{_MERIDIEM})"
    rf"|(?P<every>(?<![A-Za-z0-9])q ?(?P<every_n>\d+) ?(?:h|hr|hrs|hours){_END})"
    rf"|(?P<range>{_BEFORE}{_NUM} ?(?:-|–|to) ?{_NUM})(?:[ -]?(?P<range_unit>{_UNIT}))?{_END}"
    rf"|(?P<age>{_BEFORE}\d{{1,3}})(?-i:[MF]){_END}"
    rf"|(?P<number>{_BEFORE}{_NUM})(?:[ -]?(?P<unit>{_UNIT}){_END}|(?P<ordinal>st|nd|rd|th){_END}"
    rf"|{_END})"
    r")",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_LEAD_IN = re.compile(rf"(?:(?P<month>{_MONTH},? )|(?P<every>(?<![A-Za-z0-9])q ?))$", re.I)
_LEAD_CHARACTERS = frozenset("JFMASONDqQ")  # a month name or "q" may lead a number in
_UNIT_AFTER = re.compile(rf"[ -](?P<unit>{_UNIT}){_END}", re.IGNORECASE)
_ROMAN = re.compile(r"\b(?i:type|stage|grade|class|phase) (?P<roman>I{1,3}|IV|V|VI)\b")
_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}


class Quantity(NamedTuple):
    """A number as written, what it needs from the source and what it gives as a source.

    ``needs`` has one set per part (a range has two); the quantity is supported when every part
    finds one of its keys among the source's ``gives``. ``kind`` is what it measures (``mass``,
    ``time``, ``date``, ``clock``, ``ratio``...; None for a number without a unit); ``checked``
    is False for list numbering.
    """

    start: int
    end: int
    needs: tuple[frozenset[Key], ...]
    gives: frozenset[Key]
    kind: str | None = None
    checked: bool = True


def quantities(text: str, *, as_source: bool) -> list[Quantity]:
    """The numbers of ``text`` in order; ``as_source`` adds what only a source can give (bare
    number words, four-digit clock times, roman numerals after ``type`` or ``stage``)."""
    found: list[Quantity] = []
    in_order = True
    if as_source and (" I" in text or " V" in text):
        for match in _ROMAN.finditer(text):
            value = Decimal(_ROMAN_VALUES[match.group("roman")])
            keys = frozenset({("bare", value), ("any", value)})
            found.append(Quantity(match.start("roman"), match.end(), (keys,), keys))
            in_order = False
    for match in _matches(text):
        quantity = _read(match, text, as_source)
        if quantity is not None:
            found.append(quantity)
    for start, head in _number_words(text):
        in_order = False
        end = start + len(head)
        unit = _UNIT_AFTER.match(text, end)
        if unit is None and not as_source:
            continue
        value = Decimal(_NUMBER_WORDS[head])
        written_unit = unit.group("unit") if unit else None
        need, gives = _amount(value, written_unit)
        found.append(Quantity(start, unit.end() if unit else end, (need,),
                              gives | {("bare", value)}, _kind(written_unit)))
    return found if in_order else sorted(found, key=lambda quantity: quantity.start)


def _number_words(text: str) -> list[tuple[int, str]]:
    """Where ``one`` to ``twelve`` stand as words in ``text`` (``two-week`` included)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(character if len(character.lower()) != 1 else character.lower()
                          for character in text)
    found: list[tuple[int, str]] = []
    for word in _NUMBER_WORDS:
        at = lowered.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not lowered[at - 1].isalnum()) and not lowered[end:end + 1].isalnum():
                found.append((at, word))
            at = lowered.find(word, end)
    return found


def _matches(text: str) -> Iterator[re.Match[str]]:
    """The quantities of ``text``: the pattern tried only where one can start."""
    done = 0
    for digits in _DIGITS.finditer(text):
        at = digits.start()
        if at < done:
            continue
        window_start = max(done, at - 12)
        starts = [at]
        if at > window_start and text[at - 1] == "." and not text[at - 2:at - 1].isdigit():
            starts.insert(0, at - 1)
        if not _LEAD_CHARACTERS.isdisjoint(text[window_start:at]):
            lead_in = _LEAD_IN.search(text, window_start, at)
            if lead_in is not None:
                starts.insert(0, lead_in.start())
        for start in starts:
            match = _QUANTITY.match(text, start)
            if match is not None:
                done = match.end()
                yield match
                break


def _read(match: re.Match[str], text: str, as_source: bool) -> Quantity | None:
    start, end = match.span()
    number = match["number"]
    if number:
        unit = match["unit"]
        need, gives, kind = _number(number, unit, as_source)
        checked = unit is not None or not _is_numbering(text, start, end, number)
        return Quantity(start, end, (need,), gives, kind, checked)
    if match["range"]:
        low, high = re.split(r" ?(?:-|–|to) ?", match["range"], maxsplit=1, flags=re.I)
        unit = match["range_unit"]
        parts = [_amount(_value(low), unit), _amount(_value(high), unit)]
        return Quantity(start, end, tuple(need for need, _ in parts),
                        parts[0][1] | parts[1][1], _kind(unit))
    if match["slash"]:
        return _slash(start, end, match["slash"])
    if match["iso"]:
        year, month, day = (int(part) for part in match["iso"].split("-"))
        return _date(start, end, [(month, day)], year)
    if match["mdy"] or match["dmy"] or match["my"]:
        return _named_date(start, end, match.group())
    if match["time"]:
        return _time(start, end, match["time"])
    if match["every"]:
        hours = Decimal(match["every_n"])
        keys = frozenset({("q", "time", hours * 3600), ("bare", hours)})
        return Quantity(start, end, (keys,), keys | {("any", hours)}, "time")
    if match["age"]:
        need, gives = _amount(_value(match["age"]), "years")
        return Quantity(start, end, (need,), gives, "years")
    return None


@lru_cache(maxsize=8192)
def _number(written: str, unit: str | None, as_source: bool
            ) -> tuple[frozenset[Key], frozenset[Key], str | None]:
    """What a number with its unit needs, gives (a source's four-digit number may be a clock
    time: ``1430``) and measures; numbers and units recur, so the answers are kept."""
    need, gives = _amount(_value(written), unit)
    if as_source and unit is None and len(written) == 4 and written.isdigit():
        hour, minute = divmod(int(written), 100)
        if hour < 24 and minute < 60:
            gives |= {("time", hour * 60 + minute)}
    return need, gives, _kind(unit)


def _value(written: str) -> Decimal:
    return Decimal(written.replace(",", ""))


def _kind(unit: str | None) -> str | None:
    return None if unit is None else UNITS[" ".join(unit.lower().split())][0]


def _amount(value: Decimal, unit: str | None) -> tuple[frozenset[Key], frozenset[Key]]:
    """What an amount needs from the source, and what it gives as a source."""
    if unit is None:
        return frozenset({("any", value)}), frozenset({("bare", value), ("any", value)})
    kind, factor = UNITS[" ".join(unit.lower().split())]
    measured = ("q", kind, (value * factor).normalize())
    return frozenset({measured, ("bare", value)}), frozenset({measured, ("any", value)})


def _date(start: int, end: int, readings: list[tuple[int, int]], year: int | None) -> Quantity:
    valid = [(month, day) for month, day in readings if 1 <= month <= 12 and 1 <= day <= 31]
    if year is not None and year < 100:
        year += 2000 if year < 50 else 1900
    if not valid:
        values = [Decimal(part) for reading in readings for part in reading]
        return Quantity(start, end, tuple(frozenset({("any", v)}) for v in values),
                        frozenset(("any", v) for v in values), "date")
    needs: set[Key] = set()
    gives: set[Key] = set()
    for month, day in valid:
        gives.update({("date", month, day, None), ("any", Decimal(day)), ("any", Decimal(month))})
        if year is None:
            needs.add(("date", month, day, None))
            gives.add(("date", month, day, "*"))
        else:
            needs.update({("date", month, day, year), ("date", month, day, "*")})
            gives.update({("date", month, day, year), ("month", month, year)})
    if year is not None:
        gives.add(("any", Decimal(year)))
    return Quantity(start, end, (frozenset(needs),), frozenset(gives), "date")


def _slash(start: int, end: int, written: str) -> Quantity:
    """A blood pressure or strength (``130/80``, ``160/4.5``), a date (``03/14/2024``) or
    either (``3/14``)."""
    values = [Decimal(part) for part in written.split("/")]
    ratio: Key = ("ratio", *values)
    numbers = {("any", value) for value in values}
    if "." in written:
        return Quantity(start, end, (frozenset({ratio}),), frozenset({ratio, *numbers}), "ratio")
    parts = [int(value) for value in values]
    if len(parts) == 3:
        first, second, year = parts
        return _date(start, end, [(first, second), (second, first)], year)
    first, second = parts
    as_date = _date(start, end, [(first, second), (second, first)], None)
    if not any(key[0] == "date" for key in as_date.gives):
        return Quantity(start, end, (frozenset({ratio}),), frozenset({ratio, *numbers}), "ratio")
    return Quantity(start, end, (frozenset({ratio}) | as_date.needs[0],),
                    as_date.gives | {ratio, *numbers}, "ratio")


def _named_date(start: int, end: int, written: str) -> Quantity:
    month = _MONTHS[re.search(r"[A-Za-z]{3}", written.replace("of ", "")).group().lower()]  # type: ignore[union-attr]
    numbers = [int(n) for n in re.findall(r"\d+", written)]
    year = next((n for n in numbers if n > 31), None)
    days = [n for n in numbers if n <= 31]
    if not days:
        key: Key = ("month", month, year)
        gives = {key} if year is None else {key, ("any", Decimal(year))}
        return Quantity(start, end, (frozenset({key}),), frozenset(gives), "date")
    return _date(start, end, [(month, days[0])], year)


def _time(start: int, end: int, written: str) -> Quantity:
    lowered = written.lower().replace(".", "").replace(" ", "")
    hour_text, _, rest = lowered.partition(":")
    digits = re.match(r"\d+", rest)
    minute = int(digits.group()) if digits else 0
    hour = int(re.match(r"\d+", hour_text).group())  # type: ignore[union-attr]
    if lowered.endswith(("am", "pm")):
        hour = hour % 12 + (12 if lowered.endswith("pm") else 0)
        readings = {hour * 60 + minute}
    elif hour <= 12:
        readings = {hour * 60 + minute, (hour % 12 + 12) * 60 + minute, (hour % 12) * 60 + minute}
    else:
        readings = {hour * 60 + minute}
    keys = frozenset(("time", reading) for reading in readings)
    return Quantity(start, end, (keys,), keys, "clock")


def _is_numbering(text: str, start: int, end: int, written: str) -> bool:
    """List or section numbering: ``1.``/``2)`` opening a line, ``3.1 Plan``, ``#2``, ``4)``."""
    after = text[end:end + 2]
    if start > 0 and text[start - 1] == "#":
        return True
    if after[:1] == ")" and "." not in written and _value(written) <= 20:
        return True
    if not _at_line_start(text, start):
        return False
    return after[:1] in (".", ")") or ("." in written and after[1:2].isupper())


def _at_line_start(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return not text[line_start:start].strip(" \t-*•")


