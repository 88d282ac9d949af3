"""Column profiles built from mergeable sketches: :func:`profile`, :class:`Profile`.

Each column is summarised by Apache DataSketches (the ``curation`` extra): a KLL sketch of the
values (numeric and time columns) for quantiles and the histogram, a frequent-items sketch of the
levels (categorical columns) for the top values, an HLL sketch for the distinct count, and for
time columns a bitmap of the calendar days that hold data. All of them merge: the profiles of
partitions combine into the profile of the whole (:meth:`Profile.merge`, :func:`merge_profiles`),
within the sketches' stated error. A profile holds counts and sketches only, never a row of the
data. This module holds the profile records, their building, merging, summaries and storage;
:mod:`assay.curation._profile_numeric` puts the numbers of numeric and time columns into the
sketches and reads them back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from assay._frozen import FROZEN
from assay.curation._profile_numeric import (
    DISTINCT_LG_K,
    QUANTILE_RANKS,
    DayGap,
    HistogramBin,
    day_fields,
    days_with_data,
    distinct_updates,
    largest_gaps,
    present_numbers,
    quantile_fields,
)
from assay.drift._compare import column_kind
from assay.errors import InputError, MissingExtraError

ProfileKind = Literal["numeric", "categorical", "time"]

TOP_VALUES = 20
"""Most frequent levels reported for a categorical column."""

DISTINCT_BOUND_STD_DEVS = 2
"""The distinct-count bounds are two standard errors wide (about 95%)."""

FREQUENT_LG_MAX_MAP_SIZE = 10
"""Frequent-items sketches track up to 768 levels; count error at most 0.35% of the rows."""

SECONDS_PER_DAY = 86_400


def sketches_module() -> Any:
    """The ``datasketches`` package, or :class:`MissingExtraError` naming the extra."""
    try:
        import datasketches
    except ImportError as exc:
        raise MissingExtraError("curation", "datasketches") from exc
    return datasketches


def profile_kind(values: pd.Series) -> ProfileKind:
    """``time`` for datetime columns, else the kind :func:`assay.drift.column_kind` gives."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return "time"
    return column_kind(values)


class TopValue(BaseModel):
    """A frequent level with its estimated count and the sketch's bounds on the true count."""

    model_config = ConfigDict(frozen=True)

    value: str
    count: int
    lower_bound: int
    upper_bound: int


class ColumnSummary(BaseModel):
    """The readable figures of one column profile (computed from its sketches).

    Time values are naive datetimes (UTC for time-zone-aware columns). Quantiles and histogram
    counts are approximate within ``rank_error`` (the KLL normalised rank error, single rank,
    99% confidence); min, max, ``n`` and ``missing`` are exact.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: ProfileKind
    n: int
    missing: int
    missing_share: float
    distinct: float
    distinct_lower: float
    distinct_upper: float
    minimum: float | datetime | None = None
    maximum: float | datetime | None = None
    quantiles: Annotated[Mapping[str, float | datetime], *FROZEN] = {}
    histogram: tuple[HistogramBin, ...] = ()
    rank_error: float | None = None
    top_values: tuple[TopValue, ...] = ()
    days_with_data: int | None = None
    gaps: tuple[DayGap, ...] = ()
    """The largest gaps first (at most :data:`~assay.curation._profile_numeric.MAX_GAPS`)."""

    @property
    def first(self) -> float | datetime | None:
        """Coverage start of a time column (its earliest timestamp)."""
        return self.minimum if self.kind == "time" else None

    @property
    def last(self) -> float | datetime | None:
        """Coverage end of a time column (its latest timestamp)."""
        return self.maximum if self.kind == "time" else None


class ColumnProfile(BaseModel):
    """The sketches and exact counts of one column; :meth:`summary` reads them."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: ProfileKind
    n: int
    missing: int
    distinct_sketch: bytes
    """Compact serialisation of an HLL sketch of the non-missing values."""
    quantile_sketch: bytes | None = None
    """KLL doubles sketch of the values (numeric) or epoch seconds (time)."""
    frequent_sketch: bytes | None = None
    """Frequent-strings sketch of the levels (categorical)."""
    first_day: int | None = None
    """Time columns: days since 1970-01-01 (UTC) of the first and last day with data."""
    last_day: int | None = None
    day_bitmap: bytes | None = None
    """Bit ``i`` (``numpy.packbits`` order) says whether day ``first_day + i`` holds data."""

    @property
    def n_values(self) -> int:
        """Non-missing values."""
        return self.n - self.missing

    def summary(self) -> ColumnSummary:
        """Distinct count, quantiles, histogram, top values and day coverage from the sketches."""
        ds = sketches_module()
        distinct = ds.hll_sketch.deserialize(self.distinct_sketch)
        fields: dict[str, Any] = dict(
            name=self.name, kind=self.kind, n=self.n, missing=self.missing,
            missing_share=self.missing / self.n if self.n else 0.0,
            distinct=distinct.get_estimate(),
            distinct_lower=distinct.get_lower_bound(DISTINCT_BOUND_STD_DEVS),
            distinct_upper=distinct.get_upper_bound(DISTINCT_BOUND_STD_DEVS))
        if self.quantile_sketch is not None:
            fields.update(quantile_fields(ds.kll_doubles_sketch.deserialize(self.quantile_sketch),
                                          time=self.kind == "time"))
        if self.frequent_sketch is not None:
            fields["top_values"] = top_values(
                ds.frequent_strings_sketch.deserialize(self.frequent_sketch))
        if self.day_bitmap is not None and self.first_day is not None:
            days = days_with_data(self.first_day, self.last_day, self.day_bitmap)
            fields["days_with_data"] = int(days.size)
            fields["gaps"] = largest_gaps(days)
        return ColumnSummary(**fields)


class Profile(BaseModel):
    """Per-column sketches of a table; merge partitions with :meth:`merge`."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    n_rows: int
    columns: tuple[ColumnProfile, ...]

    @property
    def column_names(self) -> list[str]:
        """Column names in table order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnProfile:
        """The profile of one column."""
        for column in self.columns:
            if column.name == name:
                return column
        raise InputError(f"the profile has no column {name!r} (columns: {self.column_names})")

    def summaries(self) -> list[ColumnSummary]:
        """:meth:`ColumnProfile.summary` of every column, in table order."""
        return [column.summary() for column in self.columns]

    def to_frame(self) -> pd.DataFrame:
        """One row per column: kind, counts, distinct estimate, min, max and quantiles."""
        rows = []
        for s in self.summaries():
            rows.append(dict(column=s.name, kind=s.kind, n=s.n, missing=s.missing,
                             missing_share=s.missing_share, distinct=s.distinct,
                             minimum=s.minimum, maximum=s.maximum, rank_error=s.rank_error,
                             **{label: s.quantiles.get(label) for label in QUANTILE_RANKS}))
        return pd.DataFrame(rows)

    def merge(self, other: Profile) -> Profile:
        """The profile of the rows of both (same columns; sketches merged)."""
        if set(self.column_names) != set(other.column_names):
            raise InputError(
                "profiles to merge must have the same columns; only in the first: "
                f"{sorted(set(self.column_names) - set(other.column_names))}, only in the "
                f"second: {sorted(set(other.column_names) - set(self.column_names))}")
        return Profile(name=self.name, n_rows=self.n_rows + other.n_rows,
                       columns=tuple(_merge_columns(c, other.column(c.name))
                                     for c in self.columns))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: sketches as standard base64 of their ``serialize()`` bytes, plus a
        readable ``summary`` per column (ignored by :meth:`from_dict`, which recomputes it)."""
        data = self.model_dump(mode="python")
        for column, summary in zip(data["columns"], self.summaries(), strict=True):
            for field in _SKETCH_FIELDS:
                if column[field] is not None:
                    column[field] = base64.b64encode(column[field]).decode("ascii")
            column["summary"] = summary.model_dump(mode="json")
        return data

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text; ``kwargs`` go to :func:`json.dumps`."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Read back what :meth:`to_dict` wrote."""
        try:
            columns = []
            for stored in data["columns"]:
                column = {key: value for key, value in stored.items() if key != "summary"}
                for field in _SKETCH_FIELDS:
                    if column.get(field) is not None:
                        column[field] = base64.b64decode(column[field], validate=True)
                columns.append(column)
            return cls.model_validate({**data, "columns": columns})
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a stored profile: {exc}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> Profile:
        """Read back what :meth:`to_json` wrote."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"not a stored profile: {exc}") from exc
        return cls.from_dict(data)


_SKETCH_FIELDS = ("distinct_sketch", "quantile_sketch", "frequent_sketch", "day_bitmap")


def profile(frame: pd.DataFrame, *, k: int = 200, name: str | None = None) -> Profile:
    """Profile every column of ``frame`` with mergeable sketches.

    Parameters
    ----------
    frame
        The table; datetime columns are profiled as time, integer and float columns as numeric,
        everything else (booleans too) as categorical levels compared as text.
    k
        Size of the KLL quantile sketches (8 to 65535). At the default 200 the normalised rank
        error is about 1.3% (single rank, 99% confidence; see ``ColumnSummary.rank_error``).
    name
        What the profiled data is called (a file name, a month).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [34.0, 61.0, None, 47.0], "ward": ["A", "B", "A", None]})
    >>> p = profile(frame, name="admissions")
    >>> age = p.column("age").summary()
    >>> age.missing, age.minimum, age.maximum, age.quantiles["p50"]
    (1, 34.0, 61.0, 47.0)
    >>> [(t.value, t.count) for t in p.column("ward").summary().top_values]
    [('A', 2), ('B', 1)]
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"profile needs a pandas DataFrame, got {type(frame).__name__}")
    if not 8 <= k <= 65535:
        raise InputError(f"k must be between 8 and 65535 (got {k})")
    names = [str(c) for c in frame.columns]
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:
        raise InputError(f"column names must be unique to profile a table (repeated: {duplicated})")
    columns = tuple(_column_profile(label, frame.iloc[:, i], k) for i, label in enumerate(names))
    return Profile(name=name, n_rows=len(frame), columns=columns)


def merge_profiles(profiles: Iterable[Profile], *, name: str | None = None) -> Profile:
    """The profile of the union of the partitions' rows; ``name`` defaults to the first's."""
    merged: Profile | None = None
    for part in profiles:
        merged = part if merged is None else merged.merge(part)
    if merged is None:
        raise InputError("merge_profiles needs at least one profile")
    return merged if name is None else merged.model_copy(update={"name": name})


def top_values(frequent: Any, limit: int = TOP_VALUES) -> tuple[TopValue, ...]:
    """The most frequent levels in a frequent-strings sketch, most frequent first."""
    ds = sketches_module()
    items = frequent.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    items = sorted(items, key=lambda item: (-item[1], item[0]))[:limit]
    return tuple(TopValue(value=item, count=estimate, lower_bound=lower, upper_bound=upper)
                 for item, estimate, lower, upper in items)


def _column_profile(label: str, values: pd.Series, k: int) -> ColumnProfile:
    ds = sketches_module()
    kind = profile_kind(values)
    distinct = ds.hll_sketch(DISTINCT_LG_K, ds.tgt_hll_type.HLL_8)
    fields: dict[str, Any] = dict(name=label, kind=kind, n=len(values))
    if kind == "categorical":
        if pd.api.types.infer_dtype(values, skipna=True) == "string":
            counts = values.value_counts(sort=False)  # drops missing values, as dropna does
        else:  # levels that hash alike as objects (1 and True) must stay apart as text
            counts = values.dropna().astype(str).value_counts(sort=False)
        fields["missing"] = len(values) - int(counts.sum())
        frequent = ds.frequent_strings_sketch(FREQUENT_LG_MAX_MAP_SIZE)
        for level, count in zip(counts.index.tolist(), counts.tolist(), strict=True):
            frequent.update(level, count)
            distinct.update(level)
        fields["frequent_sketch"] = frequent.serialize()
    else:
        numbers = present_numbers(values, time=kind == "time")
        fields["missing"] = len(values) - numbers.size
        quantiles = ds.kll_doubles_sketch(k)
        quantiles.update(numbers)
        for value in distinct_updates(np.unique(numbers)).tolist():
            distinct.update(value)
        fields["quantile_sketch"] = quantiles.serialize()
        if kind == "time":
            fields.update(day_fields(np.unique(np.floor(numbers / SECONDS_PER_DAY))
                                     .astype(np.int64)))
    fields["distinct_sketch"] = distinct.serialize_compact()
    return ColumnProfile(**fields)


def _merge_columns(first: ColumnProfile, second: ColumnProfile) -> ColumnProfile:
    ds = sketches_module()
    kind = first.kind
    if first.kind != second.kind:
        if first.n_values == 0:
            kind = second.kind
        elif second.n_values != 0:
            raise InputError(f"column {first.name!r} is {first.kind} in one profile and "
                             f"{second.kind} in the other")
    both = [c for c in (first, second) if c.kind == kind]
    distinct = ds.hll_union(DISTINCT_LG_K)
    for column in (first, second):
        distinct.update(ds.hll_sketch.deserialize(column.distinct_sketch))
    fields: dict[str, Any] = dict(
        name=first.name, kind=kind, n=first.n + second.n, missing=first.missing + second.missing,
        distinct_sketch=distinct.get_result(ds.tgt_hll_type.HLL_8).serialize_compact())
    if kind == "categorical":
        frequent = ds.frequent_strings_sketch.deserialize(both[0].frequent_sketch)
        for column in both[1:]:
            frequent.merge(ds.frequent_strings_sketch.deserialize(column.frequent_sketch))
        fields["frequent_sketch"] = frequent.serialize()
    else:
        quantiles = ds.kll_doubles_sketch.deserialize(both[0].quantile_sketch)
        for column in both[1:]:
            quantiles.merge(ds.kll_doubles_sketch.deserialize(column.quantile_sketch))
        fields["quantile_sketch"] = quantiles.serialize()
        if kind == "time":
            days = [days_with_data(c.first_day, c.last_day, c.day_bitmap) for c in (first, second)]
            fields.update(day_fields(np.union1d(*days)))
    return ColumnProfile(**fields)
