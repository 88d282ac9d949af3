"""Windows: the periods a monitor evaluates, from one ``windows=`` strategy.

``daily``, ``weekly`` (Monday to Sunday), ``monthly`` (calendar months) or ``rolling LENGTH
every STEP`` (``rolling 28d every 7d``: 28-day windows whose ends are 7 days apart). A window
is half-open, ``[start, end)``, in UTC; it is *complete* at ``end`` and only complete windows
are evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from assay.errors import InputError

__all__ = ["Window", "parse_duration", "parse_windows", "windows_between"]

_FIXED = ("daily", "weekly", "monthly")
_ROLLING = re.compile(r"^rolling\s+(\d+)\s*d\s+every\s+(\d+)\s*d$")
_DURATION = re.compile(r"^(\d+)\s*(d|w|days?|weeks?)$")


@dataclass(frozen=True, order=True)
class Window:
    """A half-open period ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """``2026-03-02 to 2026-03-08`` (the last day included)."""
        last = (self.end - timedelta(days=1)).date()
        first = self.start.date()
        return first.isoformat() if first == last else f"{first.isoformat()} to {last}"

    def contains(self, times: pd.Series) -> pd.Series:
        """Which of ``times`` (UTC-aware) fall in the window."""
        return (times >= self.start) & (times < self.end)


@dataclass(frozen=True)
class WindowStrategy:
    """How windows are laid out: a fixed calendar unit, or rolling length and step."""

    text: str
    unit: str
    length: timedelta = timedelta(0)
    step: timedelta = timedelta(0)


def parse_windows(text: str) -> WindowStrategy:
    """Read ``daily``, ``weekly``, ``monthly`` or ``rolling 28d every 7d``."""
    cleaned = " ".join(str(text).lower().split())
    if cleaned in _FIXED:
        return WindowStrategy(cleaned, cleaned)
    if match := _ROLLING.match(cleaned):
        length, step = (timedelta(days=int(g)) for g in match.groups())
        if length.days < 1 or step.days < 1:
            raise InputError(f"windows {text!r}: length and step must be at least one day")
        return WindowStrategy(cleaned, "rolling", length, step)
    raise InputError(f"windows {text!r} is not a strategy: use daily, weekly, monthly or "
                     "'rolling 28d every 7d'")


def parse_duration(text: str | int) -> timedelta:
    """``30d``, ``2w``, ``14 days`` or a number of days."""
    if isinstance(text, int):
        return timedelta(days=text)
    match = _DURATION.match(" ".join(str(text).lower().split()))
    if match is None:
        raise InputError(f"duration {text!r}: write a number of days or weeks, e.g. 30d or 2w")
    count, unit = int(match.group(1)), match.group(2)
    return timedelta(days=count * (7 if unit.startswith("w") else 1))


def windows_between(strategy: WindowStrategy, start: date | datetime,
                    as_of: date | datetime) -> list[Window]:
    """Complete windows from the first one holding ``start`` up to ``as_of`` (ends ≤ as_of)."""
    first, last = _utc(start), _utc(as_of)
    windows = []
    if strategy.unit == "rolling":
        end = _midnight(first) + strategy.length
        while end <= last:
            windows.append(Window(end - strategy.length, end))
            end += strategy.step
        return windows
    begin = _period_start(strategy.unit, first)
    while True:
        end = _next_period(strategy.unit, begin)
        if end > last:
            return windows
        windows.append(Window(begin, end))
        begin = end


def _utc(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _period_start(unit: str, moment: datetime) -> datetime:
    day = _midnight(moment)
    if unit == "weekly":
        return day - timedelta(days=day.weekday())
    if unit == "monthly":
        return day.replace(day=1)
    return day


def _next_period(unit: str, begin: datetime) -> datetime:
    if unit == "daily":
        return begin + timedelta(days=1)
    if unit == "weekly":
        return begin + timedelta(days=7)
    return (begin.replace(day=28) + timedelta(days=4)).replace(day=1)
