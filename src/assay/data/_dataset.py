"""Dataset: a table and its Roles, validated once at the boundary."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from assay.data._fingerprint import frame_fingerprint
from assay.data._readers import read_table
from assay.data._roles import Roles
from assay.errors import InputError


class Dataset:
    """A table plus the :class:`Roles` of its columns, checked when it is made.

    Every check of the input happens here, so that everything downstream can trust the arrays:
    missing columns, an empty table, a target that is not 0/1 (binary task) or has a single
    class, scores with NaN or infinite values, duplicated ids and negative weights are all
    :class:`~assay.errors.InputError` naming the column and counting the bad rows.

    Parameters
    ----------
    data
        A pandas, polars or Arrow table, or the path of a CSV or Parquet file.
    roles
        Which column plays which part.
    source
        How messages name the data, when ``data`` is a table read from elsewhere.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"y": [0, 1, 0, 1], "risk": [0.1, 0.8, 0.3, 0.6]})
    >>> data = Dataset(frame, Roles(target="y", score="risk"))
    >>> data.n, data.n_events, data.is_probability("risk")
    (4, 2, True)
    """

    def __init__(self, data: Any, roles: Roles, *, source: str | None = None) -> None:
        frame, read_from = read_table(data)
        self.roles = roles
        self.source = source or read_from
        self.frame = frame
        _validate(frame, roles, self.source)

    @classmethod
    def read(cls, data: Any, *, roles: Roles) -> Dataset:
        """Read ``data`` (a path or table) with ``roles``; the same as ``Dataset(data, roles)``."""
        return cls(data, roles)

    def __repr__(self) -> str:
        return f"Dataset({self.source!r}, n={self.n}, roles={self.roles!r})"

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.frame)

    @cached_property
    def y(self) -> NDArray[Any]:
        """The target: int8 0/1 for binary, float64 for regression, int codes for multiclass."""
        column = self.frame[self.roles.target]
        if self.roles.task == "binary":
            return column.to_numpy(dtype=np.float64).astype(np.int8)
        if self.roles.task == "regression":
            return column.to_numpy(dtype=np.float64)
        return np.searchsorted(self.classes, column.to_numpy())

    @cached_property
    def classes(self) -> NDArray[Any]:
        """The sorted distinct target values (multiclass)."""
        return np.unique(self.frame[self.roles.target].to_numpy())

    @property
    def n_events(self) -> int | None:
        """Number of positive cases (binary task), else ``None``."""
        return int(self.y.sum()) if self.roles.task == "binary" else None

    @cached_property
    def scores(self) -> dict[str, NDArray[np.float64]]:
        """What is evaluated, by name: each score column as a float64 array; for a multiclass
        task one ``(n, k)`` matrix of the class-probability columns, named ``"model"``."""
        if self.roles.task == "multiclass":
            return {"model": self.frame[list(self.roles.score)].to_numpy(dtype=np.float64)}
        return {name: self.frame[name].to_numpy(dtype=np.float64) for name in self.roles.score}

    @property
    def score_names(self) -> tuple[str, ...]:
        """The names of :attr:`scores`, in order; the first is the model under validation."""
        return tuple(self.scores)

    @property
    def score(self) -> NDArray[np.float64]:
        """The first score."""
        return self.scores[self.score_names[0]]

    @cached_property
    def weights(self) -> NDArray[np.float64] | None:
        """The weight column as float64, or ``None``."""
        if self.roles.weight is None:
            return None
        return self.frame[self.roles.weight].to_numpy(dtype=np.float64)

    def is_probability(self, score: str) -> bool:
        """Whether every value of a score column lies in [0, 1]."""
        values = self.scores[score]
        return bool(values.min() >= 0.0 and values.max() <= 1.0)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the role columns' names, types and values, in row order."""
        return frame_fingerprint(self.frame[self.roles.columns()])


def _validate(frame: pd.DataFrame, roles: Roles, source: str) -> None:
    missing = [c for c in roles.columns() if c not in frame.columns]
    if missing:
        described = ", ".join(f"{c!r} ({roles.role_of(c)})" for c in missing)
        available = ", ".join(map(str, frame.columns[:20]))
        raise InputError(f"{source}: column {described} not found; columns are: {available}")
    if len(frame) == 0:
        raise InputError(f"{source}: the data is empty (0 rows)")
    _validate_target(frame[roles.target], roles, source)
    if roles.task == "multiclass":
        classes = frame[roles.target].nunique()
        if len(roles.score) != classes:
            raise InputError(
                f"{source}: a multiclass task needs one probability column per class, in class "
                f"order: column {roles.target!r} (target) has {classes} classes but "
                f"{len(roles.score)} score columns were given"
            )
    for name in roles.score:
        _validate_numeric(frame[name], source, role="score")
    if roles.weight is not None:
        weights = _validate_numeric(frame[roles.weight], source, role="weight")
        if (weights < 0).any():
            raise InputError(
                f"{source}: column {roles.weight!r} (weight) has negative values in "
                f"{_rows((weights < 0).sum())}"
            )
    if roles.id is not None:
        duplicated = frame[roles.id].duplicated(keep=False)
        if duplicated.any():
            values = frame.loc[duplicated, roles.id]
            example = ", ".join(repr(_plain(v)) for v in values.unique()[:3])
            raise InputError(
                f"{source}: column {roles.id!r} (id) has {values.nunique()} duplicated values "
                f"in {_rows(duplicated.sum())} (e.g. {example})"
            )
    if roles.time is not None:
        _validate_time(frame[roles.time], source)


def _validate_numeric(column: pd.Series, source: str, *, role: str) -> NDArray[np.float64]:
    where = f"{source}: column {column.name!r} ({role})"
    try:
        values = pd.to_numeric(column, errors="raise").to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        text = pd.to_numeric(column, errors="coerce").isna() & column.notna()
        example = column[text].iloc[0] if text.any() else None
        raise InputError(
            f"{where} must be numeric (found non-numeric values in {_rows(text.sum())}, "
            f"e.g. {example!r})"
        ) from exc
    nan = np.isnan(values)
    inf = np.isinf(values)
    if nan.any() or inf.any():
        parts = [f"missing (NaN) values in {_rows(nan.sum())}" if nan.any() else "",
                 f"infinite values in {_rows(inf.sum())}" if inf.any() else ""]
        raise InputError(f"{where} has " + " and ".join(p for p in parts if p))
    return values


def _validate_target(column: pd.Series, roles: Roles, source: str) -> None:
    where = f"{source}: column {column.name!r} (target)"
    if roles.task == "multiclass":
        if column.isna().any():
            raise InputError(f"{where} has missing values in {_rows(column.isna().sum())}")
        if column.nunique() < 2:
            raise InputError(f"{where} has a single class ({column.iloc[0]!r} in every row)")
        return
    values = _validate_numeric(column, source, role="target")
    if roles.task == "regression":
        return
    bad = (values != 0) & (values != 1)
    if bad.any():
        examples = ", ".join(f"{v:g}" for v in np.unique(values[bad])[:3])
        raise InputError(
            f"{where} must contain only 0/1 (found {examples} in {_rows(bad.sum())})"
        )
    positives = int(values.sum())
    if positives in (0, len(values)):
        only = "0" if positives == 0 else "1"
        raise InputError(
            f"{where} has a single class (all {only} in {_rows(len(values))}); "
            "performance metrics need both outcomes"
        )


def _validate_time(column: pd.Series, source: str) -> None:
    where = f"{source}: column {column.name!r} (time)"
    try:
        parsed = pd.to_datetime(column, errors="raise")
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where} cannot be read as dates: {exc}") from exc
    if parsed.isna().any():
        raise InputError(f"{where} has missing values in {_rows(parsed.isna().sum())}")


def _rows(count: Any) -> str:
    count = int(count)
    return f"{count} row" if count == 1 else f"{count} rows"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
