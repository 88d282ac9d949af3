"""Numeric and time columns of a profile: the numbers put into the sketches and read back.

Time columns are profiled as numbers: epoch seconds in the KLL sketch (:func:`epoch_seconds`, back
with :func:`to_time`), and the calendar days (UTC) that hold data as a bitmap over days
(:func:`day_fields`, read back by :func:`days_with_data` and :func:`largest_gaps`). From a KLL
sketch come the minimum, maximum, quantiles and histogram (:func:`quantile_fields`). The distinct
values of a numeric or time column reach the HLL sketch through :func:`distinct_updates`, which
keeps only those whose update changes the sketch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

QUANTILE_RANKS: Mapping[str, float] = {
    "p1": 0.01, "p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
"""The quantiles reported for numeric and time columns."""

HISTOGRAM_BINS = 20
"""Equal-width bins between the minimum and the maximum."""

MAX_GAPS = 5
"""Largest gaps between consecutive days with data reported for a time column."""

DISTINCT_LG_K = 12
"""HLL sketches hold 2**12 registers (relative standard error about 1.6%)."""

_EPOCH = datetime(1970, 1, 1)
_EPOCH_DAY = date(1970, 1, 1)


class HistogramBin(BaseModel):
    """One equal-width bin; ``count`` is estimated from the KLL sketch."""

    model_config = ConfigDict(frozen=True)

    lower: float | datetime
    upper: float | datetime
    count: int


class DayGap(BaseModel):
    """A run of calendar days without data between two days with data."""

    model_config = ConfigDict(frozen=True)

    last_before: date
    first_after: date
    missing_days: int


def epoch_seconds(values: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Seconds since 1970-01-01 of non-missing datetimes (time-zone-aware ones in UTC)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    seconds = (values - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
    return np.asarray(seconds, dtype=np.float64)


def to_time(seconds: float) -> datetime:
    """An epoch-seconds value back as a naive datetime (microsecond resolution)."""
    return _EPOCH + timedelta(seconds=seconds)


def present_numbers(values: pd.Series, *, time: bool) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The non-missing values as float64 (a time column's as epoch seconds), in row order."""
    if time:
        return epoch_seconds(values.dropna())
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # numpy integers: never missing
        return values.to_numpy(dtype=np.float64)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        numbers = values.to_numpy(dtype=np.float64)
        missing = np.isnan(numbers)
        return numbers[~missing] if missing.any() else numbers
    return values.dropna().to_numpy(dtype=np.float64)  # nullable extension types


def quantile_fields(sketch: Any, *, time: bool) -> dict[str, Any]:
    """Minimum, maximum, quantiles, histogram and rank error of a KLL sketch, as the fields of a
    column summary (values as datetimes for a time column); none for an empty sketch."""
    if sketch.is_empty():
        return {}

    def value(x: float) -> float | datetime:
        return to_time(x) if time else float(x)

    low, high = sketch.get_min_value(), sketch.get_max_value()
    quantiles = sketch.get_quantiles(list(QUANTILE_RANKS.values()))
    n_values = sketch.n
    histogram: tuple[HistogramBin, ...]
    if low == high:
        histogram = (HistogramBin(lower=value(low), upper=value(high), count=n_values),)
    else:
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
        masses = sketch.get_pmf(edges[1:-1].tolist())
        histogram = tuple(
            HistogramBin(lower=value(edges[i]), upper=value(edges[i + 1]),
                         count=round(mass * n_values))
            for i, mass in enumerate(masses))
    return dict(minimum=value(low), maximum=value(high), histogram=histogram,
                quantiles={label: value(q) for label, q in zip(QUANTILE_RANKS, quantiles,
                                                               strict=True)},
                rank_error=sketch.normalized_rank_error(False))


def day_fields(days: np.ndarray[Any, np.dtype[np.int64]]) -> dict[str, Any]:
    """First day, last day and bitmap of a sorted array of distinct day numbers."""
    if days.size == 0:
        return dict(first_day=None, last_day=None, day_bitmap=b"")
    first, last = int(days[0]), int(days[-1])
    bits = np.zeros(last - first + 1, dtype=bool)
    bits[days - first] = True
    return dict(first_day=first, last_day=last, day_bitmap=np.packbits(bits).tobytes())


def days_with_data(first_day: int | None, last_day: int | None, day_bitmap: bytes | None,
                   ) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Sorted day numbers with data of a time column, from what :func:`day_fields` wrote."""
    if first_day is None or last_day is None or not day_bitmap:
        return np.zeros(0, dtype=np.int64)
    span = last_day - first_day + 1
    bits = np.unpackbits(np.frombuffer(day_bitmap, dtype=np.uint8), count=span)
    return np.flatnonzero(bits).astype(np.int64) + first_day


def largest_gaps(days: np.ndarray[Any, np.dtype[np.int64]]) -> tuple[DayGap, ...]:
    """The gaps between consecutive days with data, largest first (at most :data:`MAX_GAPS`)."""
    steps = np.diff(days)
    where = np.flatnonzero(steps > 1)
    order = sorted(where.tolist(), key=lambda i: (-int(steps[i]), i))[:MAX_GAPS]
    return tuple(DayGap(last_before=_EPOCH_DAY + timedelta(days=int(days[i])),
                        first_after=_EPOCH_DAY + timedelta(days=int(days[i + 1])),
                        missing_days=int(steps[i]) - 1) for i in order)


# The HLL sketch of the distinct values of a numeric column gets those values in ascending order
# (``np.unique``). Calling ``update`` for each of millions of values costs a second a column, and
# most calls change nothing: once the sketch is in HLL mode, a value changes it only if its
# 6-bit rank exceeds the register of its slot. ``distinct_updates`` computes each value's slot
# and rank as the sketch does (MurmurHash3 x64 128 of the 8 bytes, seed 9001; -0.0 as 0.0) and
# keeps the values that raise their slot's running maximum in that order, plus the first
# ``_COUPON_VALUES`` values, which cover the sketch's list and set modes (at most 3/4 of 2**9
# coupons at lg k 12). Updating with those alone gives the same sketch byte for byte, including
# the order-dependent HIP estimate, since every value left out changes nothing.
_COUPON_VALUES = 8192
_MURMUR_C1, _MURMUR_C2 = np.uint64(0x87C37B91114253D5), np.uint64(0x4CF5AD432745937F)
_HASH_SEED = 9001
_CHUNK = 1 << 16  # hashed a block at a time, in place, to stay in cache


def distinct_updates(ascending: np.ndarray[Any, np.dtype[np.float64]],
                     ) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The distinct values (ascending) whose HLL updates change the sketch; see above."""
    if ascending.size <= _COUPON_VALUES:
        return ascending
    slot, rank = _hll_slot_rank(ascending)
    key = slot.astype(np.int32) << 6
    key |= rank
    first = np.full(64 << DISTINCT_LG_K, ascending.size, dtype=np.int64)
    np.minimum.at(first, key, np.arange(ascending.size))  # first value of each (slot, rank)
    candidates = np.sort(first[first < ascending.size])
    by_slot = np.argsort(slot[candidates], kind="stable")
    keys = key[candidates][by_slot]  # grouped by slot (keys of a slot above any earlier slot's)
    raises = np.ones(keys.size, dtype=bool)
    raises[1:] = keys[1:] > np.maximum.accumulate(keys)[:-1]
    keep = np.zeros(ascending.size, dtype=bool)
    keep[candidates[by_slot[raises]]] = True
    keep[:_COUPON_VALUES] = True
    return ascending[keep]


def _fmix64(h: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _hll_slot_rank(values: np.ndarray[Any, np.dtype[np.float64]],
                   ) -> tuple[np.ndarray[Any, np.dtype[np.uint16]],
                              np.ndarray[Any, np.dtype[np.uint8]]]:
    """Register slot (lg k bits) and rank (leading zeros + 1, at most 63) of each value."""
    slot = np.empty(values.size, dtype=np.uint16)
    rank = np.empty(values.size, dtype=np.uint8)
    seed = np.uint64(_HASH_SEED ^ 8)  # both halves start at the seed, xor the key length
    for start in range(0, values.size, _CHUNK):
        block = slice(start, start + _CHUNK)
        h1 = (values[block] + 0.0).view(np.uint64)  # a copy; -0.0 + 0.0 is 0.0
        h1 *= _MURMUR_C1
        h1 = (h1 << np.uint64(31)) | (h1 >> np.uint64(33))
        h1 *= _MURMUR_C2
        h1 ^= seed
        h1 += seed
        h2 = h1 + seed
        h1, h2 = _fmix64(h1), _fmix64(h2)
        h1 += h2
        h2 += h1
        slot[block] = h1 & np.uint64((1 << DISTINCT_LG_K) - 1)
        # bit length of h2 through exact float64 exponents of its two 32-bit halves
        high = np.frexp((h2 >> np.uint64(32)).astype(np.float64))[1]
        low = np.frexp((h2 & np.uint64(0xFFFFFFFF)).astype(np.float64))[1]
        bit_length = np.where(high > 0, high + 32, low)
        rank[block] = np.minimum(64 - bit_length, 62) + 1
    return slot, rank
