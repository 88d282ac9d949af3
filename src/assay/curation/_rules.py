"""Quality rules on a table: frozen specs, each checked into one :class:`Finding`.

A rule says what should hold of a column (or of the table); ``check`` counts the rows where it
does not. A finding names the rule, the columns, how many rows offend and a few example row
positions, never the values themselves (an identifier column's values may be PHI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from assay._frozen import FROZEN
from assay.errors import InputError

__all__ = [
    "AllowedValuesRule",
    "Finding",
    "FreshnessRule",
    "NotNullRule",
    "OrderRule",
    "QualityRule",
    "RangeRule",
    "ReferentialRule",
    "RegexRule",
    "RowCountRule",
    "UniqueRule",
    "finding_from_mask",
]

Status = Literal["pass", "warn", "fail"]
Detail: TypeAlias = str | int | float | bool | None
_SPEC = ConfigDict(frozen=True, extra="forbid")
_N_EXAMPLES = 5


class Finding(BaseModel):
    """What one check found: the rule, the columns, the offending rows and a plain sentence.

    ``examples`` are 0-based row positions in the checked frame (not index labels, which may be
    identifiers); ``details`` holds rule-specific numbers such as a share or a start date.
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    columns: tuple[str, ...]
    n_rows: int = Field(ge=0)
    """Number of offending rows (for ``not_null``: missing values; for ``row_count``: 0)."""
    examples: tuple[int, ...] = ()
    status: Status
    message: str
    details: Annotated[Mapping[str, Detail], *FROZEN] = Field(default_factory=dict)


def finding_from_mask(
    rule: str,
    columns: Sequence[str],
    offending: npt.NDArray[np.bool_],
    *,
    status_if_any: Status,
    message: str,
    details: Mapping[str, Detail] | None = None,
) -> Finding:
    """A finding whose offending rows are the True entries of a boolean mask."""
    positions = np.flatnonzero(offending)
    return Finding(
        rule=rule,
        columns=tuple(columns),
        n_rows=int(positions.size),
        examples=tuple(int(p) for p in positions[:_N_EXAMPLES]),
        status=status_if_any if positions.size else "pass",
        message=message,
        details=dict(details or {}),
    )


def _column(frame: pd.DataFrame, name: str, rule: str) -> pd.Series:
    if name not in frame.columns:
        raise InputError(
            f"rule '{rule}' names column '{name}', which the table does not have "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    return frame[name]


def _numeric(values: pd.Series, rule: str) -> npt.NDArray[np.float64]:
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise InputError(f"rule '{rule}': column '{values.name}' must be numeric "
                         f"(found {values.dtype})")
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


class _Rule(BaseModel):
    model_config = _SPEC
    severity: Literal["warn", "fail"] = "fail"
    """The status of the finding when the rule does not hold."""

    @model_serializer(mode="wrap")
    def _keep_the_rule_name(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The ``rule`` tag is dumped even when defaults are left out: it says which rule."""
        return {"rule": getattr(self, "rule"), **handler(self)}  # noqa: B009 (each subclass)


class NotNullRule(_Rule):
    """At most ``max_missing_share`` of the values of ``column`` are missing (default none)."""

    rule: Literal["not_null"] = "not_null"
    column: str
    max_missing_share: float = Field(default=0.0, ge=0.0, le=1.0)

    def check(self, frame: pd.DataFrame) -> Finding:
        """Count the missing values; the rule fails when their share exceeds the maximum."""
        missing = _column(frame, self.column, self.rule).isna().to_numpy()
        share = float(missing.mean()) if len(missing) else 0.0
        breaks = share > self.max_missing_share
        finding = finding_from_mask(
            self.rule, [self.column], missing, status_if_any=self.severity if breaks else "pass",
            message=f"{_rows(int(missing.sum()))} of {len(missing):,} ({share:.1%}) have no "
            f"'{self.column}'; at most {self.max_missing_share:.1%} allowed.",
            details={"missing_share": share},
        )
        return finding


class RangeRule(_Rule):
    """Values of a numeric ``column`` lie in ``[min, max]`` (inclusive); missing values pass."""

    rule: Literal["range"] = "range"
    column: str
    min: float | None = None
    max: float | None = None

    def check(self, frame: pd.DataFrame) -> Finding:
        """Count the values below ``min`` or above ``max``."""
        values = _numeric(_column(frame, self.column, self.rule), self.rule)
        low = -np.inf if self.min is None else self.min
        high = np.inf if self.max is None else self.max
        outside = ~np.isnan(values) & ((values < low) | (values > high))
        return finding_from_mask(
            self.rule, [self.column], outside, status_if_any=self.severity,
            message=f"{_rows(int(outside.sum()))} of {len(values):,} have '{self.column}' "
            f"outside {self.min if self.min is not None else '-inf'} to "
            f"{self.max if self.max is not None else 'inf'} (inclusive).",
        )


class AllowedValuesRule(_Rule):
    """Values of ``column`` are among ``values``; missing values pass."""

    rule: Literal["allowed_values"] = "allowed_values"
    column: str
    values: tuple[str | int | float | bool, ...] = Field(min_length=1)

    def check(self, frame: pd.DataFrame) -> Finding:
        """Count the values that are not allowed."""
        column = _column(frame, self.column, self.rule)
        other = (column.notna() & ~column.isin(list(self.values))).to_numpy()
        return finding_from_mask(
            self.rule, [self.column], other, status_if_any=self.severity,
            message=f"{_rows(int(other.sum()))} of {len(column):,} have a '{self.column}' "
            f"outside the {len(self.values)} allowed values.",
        )


class UniqueRule(_Rule):
    """No two rows share a value of ``column`` (or of the combination of ``columns``)."""

    rule: Literal["unique"] = "unique"
    columns: tuple[str, ...] = Field(min_length=1)

    @field_validator("columns", mode="before")
    @classmethod
    def _one_name(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    def check(self, frame: pd.DataFrame) -> Finding:
        """Count the rows that repeat the key of an earlier row (missing keys count too)."""
        for name in self.columns:
            _column(frame, name, self.rule)
        repeated = frame.duplicated(subset=list(self.columns), keep="first").to_numpy()
        groups = int(frame.loc[repeated, list(self.columns)].drop_duplicates().shape[0])
        key = " + ".join(f"'{name}'" for name in self.columns)
        return finding_from_mask(
            self.rule, self.columns, repeated, status_if_any=self.severity,
            message=f"{_rows(int(repeated.sum()))} repeat the {key} of an earlier row "
            f"({groups} repeated values).",
            details={"repeated_values": groups},
        )


class RegexRule(_Rule):
    """Every value of ``column`` matches ``pattern`` in full; missing values pass."""

    rule: Literal["regex"] = "regex"
    column: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"pattern {value!r} is not a regular expression: {exc}") from exc
        return value

    def check(self, frame: pd.DataFrame) -> Finding:
        """Count the present values that do not match the pattern in full."""
        column = _column(frame, self.column, self.rule)
        present = column.notna().to_numpy()
        text = column.astype(str).str.fullmatch(self.pattern).fillna(False).to_numpy(dtype=bool)
        other = present & ~text
        return finding_from_mask(
            self.rule, [self.column], other, status_if_any=self.severity,
            message=f"{_rows(int(other.sum()))} of {len(column):,} have a '{self.column}' that "
            f"does not match the pattern {self.pattern!r}.",
        )


class RowCountRule(_Rule):
    """The table has from ``min`` to ``max`` rows (inclusive)."""

    rule: Literal["row_count"] = "row_count"
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    def check(self, frame: pd.DataFrame) -> Finding:
        """Compare the number of rows with the bounds."""
        n = len(frame)
        low_ok = self.min is None or n >= self.min
        high_ok = self.max is None or n <= self.max
        bounds = f"{self.min if self.min is not None else 0} to " + (
            f"{self.max:,}" if self.max is not None else "any number")
        return Finding(
            rule=self.rule, columns=(), n_rows=0, status="pass" if low_ok and high_ok
            else self.severity, message=f"The table has {_rows(n)}; expected {bounds}.",
            details={"row_count": n},
        )


def _parse_max_age(text: str) -> pd.Timedelta:
    """A duration such as ``36h``, ``2d``, ``2 days`` or ``1w``; an error the user can act on."""
    try:
        value = pd.Timedelta(text.strip())
    except ValueError as exc:
        raise ValueError(f"max_age {text!r}: write a duration such as 36h, 2d or 1w") from exc
    if pd.isna(value) or value <= pd.Timedelta(0):
        raise ValueError(f"max_age {text!r}: write a positive duration such as 36h, 2d or 1w")
    return value


class FreshnessRule(_Rule):
    """The newest time in ``column`` is within ``max_age`` of ``as_of`` (default: now)."""

    rule: Literal["freshness"] = "freshness"
    column: str
    max_age: str
    as_of: datetime | date | None = None

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        _parse_max_age(value)
        return value

    def check(self, frame: pd.DataFrame) -> Finding:
        """Compare the newest time with ``as_of``; an empty column fails."""
        column = _column(frame, self.column, self.rule)
        if not pd.api.types.is_datetime64_any_dtype(column):
            raise InputError(f"rule 'freshness': column '{self.column}' must hold datetimes "
                             f"(found {column.dtype})")
        as_of = pd.Timestamp(self.as_of) if self.as_of is not None else pd.Timestamp.now(
            tz=column.dt.tz)
        newest = column.max()
        if pd.isna(newest):
            return Finding(rule=self.rule, columns=(self.column,), n_rows=0,
                           status=self.severity, message=f"'{self.column}' holds no time.")
        age = as_of - newest
        fresh = age <= _parse_max_age(self.max_age)
        return Finding(
            rule=self.rule, columns=(self.column,), n_rows=0,
            status="pass" if fresh else self.severity,
            message=f"The newest '{self.column}' ({newest}) is {age} before {as_of}; "
            f"at most {self.max_age} allowed.",
            details={"newest": str(newest), "age_hours": age / pd.Timedelta(hours=1)},
        )


class OrderRule(_Rule):
    """``later`` is not before ``earlier`` (after it, if ``strict``); rows missing either pass."""

    rule: Literal["order"] = "order"
    earlier: str
    later: str
    strict: bool = False

    def check(self, frame: pd.DataFrame) -> Finding:
        """Count the rows where ``later`` comes before ``earlier``."""
        first = _column(frame, self.earlier, self.rule)
        second = _column(frame, self.later, self.rule)
        both = (first.notna() & second.notna()).to_numpy()
        try:
            wrong = (second <= first) if self.strict else (second < first)
        except TypeError as exc:
            raise InputError(f"rule 'order': columns '{self.earlier}' and '{self.later}' cannot "
                             f"be compared ({first.dtype} and {second.dtype})") from exc
        offending = both & wrong.to_numpy(dtype=bool)
        relation = "after" if self.strict else "on or after"
        return finding_from_mask(
            self.rule, [self.earlier, self.later], offending, status_if_any=self.severity,
            message=f"{_rows(int(offending.sum()))} of {len(frame):,} do not have "
            f"'{self.later}' {relation} '{self.earlier}'.",
        )


class ReferentialRule(_Rule):
    """Every present value of ``column`` appears in ``table_column`` of the table ``table``."""

    rule: Literal["referential"] = "referential"
    column: str
    table: str
    table_column: str

    def check(self, frame: pd.DataFrame,
              tables: Mapping[str, pd.DataFrame] | None = None) -> Finding:
        """Count the rows whose value the other table does not hold."""
        if tables is None or self.table not in tables:
            raise InputError(f"rule 'referential' needs the table '{self.table}'; pass "
                             f"tables={{'{self.table}': frame}}")
        column = _column(frame, self.column, self.rule)
        known = _column(tables[self.table], self.table_column, self.rule)
        orphan = (column.notna() & ~column.isin(known.dropna().unique())).to_numpy()
        return finding_from_mask(
            self.rule, [self.column], orphan, status_if_any=self.severity,
            message=f"{_rows(int(orphan.sum()))} of {len(column):,} have a '{self.column}' "
            f"that '{self.table}.{self.table_column}' does not hold.",
            details={"table": self.table, "table_column": self.table_column},
        )


QualityRule: TypeAlias = Annotated[
    NotNullRule | RangeRule | AllowedValuesRule | UniqueRule | RegexRule | RowCountRule
    | FreshnessRule | OrderRule | ReferentialRule,
    Field(discriminator="rule"),
]
"""Any quality rule; ``rule`` says which."""

_RULE_NAMES = ("not_null", "range", "allowed_values", "unique", "regex", "row_count",
               "freshness", "order", "referential")
