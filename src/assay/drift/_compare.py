"""Compare a current sample with a reference, feature by feature: :func:`compare_features`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from assay.drift._methods import (
    MISSING_SHARE_THRESHOLD,
    FloatArray,
    aligned_counts,
    level_counts,
    missing_share_difference,
    shared_work,
)
from assay.drift._registry import ColumnKind, get_drift_method
from assay.errors import InputError
from assay.subgroups._multiplicity import adjust

Multiplicity = Literal["holm", "bh", "none"]

DEFAULT_METHODS: Mapping[ColumnKind, tuple[str, ...]] = {
    "numeric": ("psi", "ks"),
    "categorical": ("psi", "cramers_v"),
}
"""Methods used when none are given: PSI on every column, plus KS (numeric) or Cramér's V."""

MISSING_SHARE = "missing_share"
"""Method name of the record comparing the share of missing values."""


class DriftRecord(BaseModel):
    """One feature compared by one method."""

    model_config = ConfigDict(frozen=True)

    feature: str
    kind: ColumnKind
    method: str
    statistic: float
    threshold: float
    drifted: bool
    """``statistic > threshold``: decided by the effect size, never by the p-value."""
    p_value: float | None = None
    p_adjusted: float | None = None
    """The p-value adjusted across all tests of the report (see ``DriftReport.multiplicity``)."""
    n_reference: int
    n_current: int
    """Non-missing values compared (all rows for the missing-share record)."""


class DriftReport(BaseModel):
    """Per-feature drift records of a current sample against a reference."""

    model_config = ConfigDict(frozen=True)

    reference: str
    current: str
    records: tuple[DriftRecord, ...]
    multiplicity: Multiplicity
    """Correction applied to the p-values across all records that have one."""
    n_tests: int
    """How many p-values the correction covered."""

    @property
    def drifted_features(self) -> list[str]:
        """Features with at least one drifted record, in the order they were compared."""
        return list(dict.fromkeys(r.feature for r in self.records if r.drifted))

    def to_frame(self) -> pd.DataFrame:
        """One row per record."""
        columns = list(DriftRecord.model_fields)
        return pd.DataFrame([r.model_dump() for r in self.records], columns=columns)

    def summary(self) -> str:
        """What was measured and what moved, in plain words."""
        features = list(dict.fromkeys(r.feature for r in self.records))
        drifted = self.drifted_features
        head = (f"Compared {len(features)} feature(s) of {self.current} with {self.reference}. ")
        if not drifted:
            body = "No feature moved beyond its effect-size threshold."
        else:
            parts = []
            for name in drifted:
                hits = [r for r in self.records if r.feature == name and r.drifted]
                parts.append(name + " (" + ", ".join(
                    f"{r.method} {r.statistic:.3g} > {r.threshold:g}" for r in hits) + ")")
            body = (f"{len(drifted)} moved beyond their effect-size threshold: "
                    + "; ".join(parts) + ".")
        correction = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "no"}[self.multiplicity]
        tail = (f" Drift is decided by effect size; the {self.n_tests} p-value(s) are reported "
                f"with {correction} correction across features.") if self.n_tests else ""
        return head + body + tail


def column_kind(values: pd.Series) -> ColumnKind:
    """``numeric`` for integer and float columns; everything else (bool too) is categorical."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "categorical"
    return "numeric"


def compare_features(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: Sequence[str] | None = None,
    methods: Sequence[str] | Mapping[ColumnKind, Sequence[str]] | None = None,
    multiplicity: Multiplicity = "holm",
    reference_name: str = "the reference",
    current_name: str = "the current data",
    n_threads: int | None = None,
) -> DriftReport:
    """Compare each feature of ``current`` with ``reference``.

    Parameters
    ----------
    reference, current
        The two samples; rows are records, columns features.
    features
        Columns to compare; default: the columns present in both frames.
    methods
        Method names (each applied to the columns whose kind it accepts) or a mapping from
        column kind to names; default :data:`DEFAULT_METHODS`. A ``missing_share`` record is
        always added per feature.
    multiplicity
        Correction of the p-values across all records: ``"holm"`` (family-wise error),
        ``"bh"`` (false discovery rate) or ``"none"``.
    reference_name, current_name
        How the samples are named in messages and in the summary (file names in the CLI).
    n_threads
        Numeric columns compared at once (categorical ones run one at a time beside them);
        default: one below 20,000 rows, else up to 8 (the CPU count). The numbers do not depend
        on it; a registered method must be thread-safe.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"age": rng.normal(60, 10, 5000)})
    >>> cur = pd.DataFrame({"age": rng.normal(65, 10, 5000)})
    >>> compare_features(ref, cur).drifted_features
    ['age']
    """
    names = _features(reference, current, features, reference_name, current_name)
    by_kind = _methods_by_kind(methods)
    threads = _threads(n_threads, max(len(reference), len(current)), len(names))

    def one(name: str) -> list[dict[str, Any]]:
        return _compare_column(reference[name], current[name], name, by_kind,
                               reference_name, current_name)

    if threads == 1:
        per_column = [one(name) for name in names]
    else:
        # Numeric columns side by side (numpy releases the GIL while it sorts and searches);
        # categorical ones one after the other on their own thread, since hashing Python
        # strings holds the GIL (two at once were slower than one). The records, and the error
        # raised first, keep the order of the columns.
        with (ThreadPoolExecutor(max_workers=threads) as numeric_pool,
              ThreadPoolExecutor(max_workers=1) as categorical_pool):
            futures = [(numeric_pool if column_kind(reference[name]) == "numeric"
                        else categorical_pool).submit(one, name) for name in names]
            per_column = [future.result() for future in futures]
    rows = [row for column_rows in per_column for row in column_rows]
    tested = [i for i, row in enumerate(rows) if row["p_value"] is not None]
    if tested:
        raw = np.array([rows[i]["p_value"] for i in tested])
        adjusted = raw if multiplicity == "none" else adjust(raw, multiplicity)
        for i, value in zip(tested, adjusted, strict=True):
            rows[i]["p_adjusted"] = float(value)
    return DriftReport(reference=reference_name, current=current_name,
                       records=tuple(DriftRecord(**row) for row in rows),
                       multiplicity=multiplicity, n_tests=len(tested))


def _compare_column(ref_col: pd.Series, cur_col: pd.Series, name: str,
                    by_kind: Mapping[ColumnKind, tuple[str, ...]], reference_name: str,
                    current_name: str) -> list[dict[str, Any]]:
    """The records of one column: its missing share, then each method of its kind."""
    kind = column_kind(ref_col)
    if column_kind(cur_col) != kind and not (ref_col.isna().all() or cur_col.isna().all()):
        raise InputError(f"column {name!r} is {kind} in {reference_name} but "
                         f"{column_kind(cur_col)} in {current_name}")
    (ref_values, ref_levels), (cur_values, cur_levels) = (_values(ref_col, kind),
                                                          _values(cur_col, kind))
    level_table = (None if ref_levels is None or cur_levels is None
                   else aligned_counts(*ref_levels, *cur_levels))
    missing, p = missing_share_difference(len(ref_col) - ref_values.size, len(ref_col),
                                          len(cur_col) - cur_values.size, len(cur_col))
    rows = [dict(feature=name, kind=kind, method=MISSING_SHARE, statistic=missing,
                 threshold=MISSING_SHARE_THRESHOLD, drifted=missing > MISSING_SHARE_THRESHOLD,
                 p_value=p, n_reference=len(ref_col), n_current=len(cur_col))]
    # the methods share sorts and counts (categorical: counted while reading the column)
    with shared_work(ref_values, cur_values, counts=level_table):
        for method in by_kind[kind]:
            spec = get_drift_method(method)
            if ref_values.size == 0 or cur_values.size == 0:
                empty = reference_name if ref_values.size == 0 else current_name
                raise InputError(f"column {name!r} has no non-missing value in {empty}")
            statistic = spec.fn(ref_values, cur_values)
            rows.append(dict(
                feature=name, kind=kind, method=method, statistic=statistic,
                threshold=spec.threshold, drifted=statistic > spec.threshold,
                p_value=(None if spec.p_value is None
                         else spec.p_value(ref_values, cur_values)),
                n_reference=ref_values.size, n_current=cur_values.size))
    return rows


def _threads(requested: int | None, n_rows: int, n_columns: int) -> int:
    """Columns compared at once: as requested, else up to 8 for large data (numpy releases
    the GIL while it sorts and searches)."""
    if requested is not None:
        if requested < 1:
            raise InputError(f"n_threads must be at least 1, got {requested}")
        return min(requested, max(n_columns, 1))
    if n_rows < 20_000:
        return 1
    return max(1, min(8, os.cpu_count() or 1, n_columns))


def _features(reference: pd.DataFrame, current: pd.DataFrame, features: Sequence[str] | None,
              reference_name: str, current_name: str) -> list[str]:
    for frame, label in ((reference, reference_name), (current, current_name)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"{label} must be a pandas DataFrame (got {type(frame).__name__})")
        if len(frame) == 0:
            raise InputError(f"{label} has no rows")
    if features is None:
        names = [str(c) for c in reference.columns if c in current.columns]
        if not names:
            raise InputError(f"{reference_name} and {current_name} have no column in common")
        return names
    names = list(features)
    if not names:
        raise InputError("no feature to compare: give at least one column name")
    for frame, label in ((reference, reference_name), (current, current_name)):
        absent = [n for n in names if n not in frame.columns]
        if absent:
            raise InputError(f"column {absent[0]!r} is not in {label} "
                             f"({len(absent)} of the requested features are missing)")
    return names


def _methods_by_kind(
    methods: Sequence[str] | Mapping[ColumnKind, Sequence[str]] | None,
) -> dict[ColumnKind, tuple[str, ...]]:
    kinds: tuple[ColumnKind, ...] = ("numeric", "categorical")
    if methods is None:
        return {k: tuple(DEFAULT_METHODS[k]) for k in kinds}
    if isinstance(methods, Mapping):
        chosen = {k: tuple(methods.get(k, ())) for k in kinds}
        for kind, names in chosen.items():
            for name in names:
                if not _spec(name).accepts(kind):
                    raise InputError(f"drift method {name!r} does not accept {kind} columns")
        return chosen
    if isinstance(methods, str):
        methods = [methods]
    specs = [_spec(name) for name in methods]
    return {k: tuple(s.name for s in specs if s.accepts(k)) for k in kinds}


def _spec(name: str) -> Any:
    try:
        return get_drift_method(name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from exc


def _values(column: pd.Series, kind: ColumnKind
            ) -> tuple[np.ndarray[Any, Any], tuple[np.ndarray[Any, Any], FloatArray] | None]:
    """The non-missing values: float64 (numeric) or the levels as ``str`` objects; for a
    categorical column also its distinct levels and their counts.

    The levels are counted by one hash pass over the column (missing values apart) and turned
    into ``str`` afterwards, unless an object column holds non-``str`` values (``1``, ``1.0`` and
    ``True`` hash alike but read differently): then the values are turned into ``str`` first.
    """
    if kind == "numeric" and isinstance(column.dtype, np.dtype):
        values = column.to_numpy(dtype=np.float64)  # a NumPy int or float column
        missing = np.isnan(values)
        return (values[~missing] if missing.any() else values), None
    if kind == "numeric":
        return column.dropna().to_numpy(dtype=np.float64), None
    uniques, tally, codes = level_counts(column)
    if column.dtype == object and not all(type(level) is str for level in uniques):
        uniques, tally, codes = level_counts(column.dropna().astype(str).to_numpy(dtype=object))
    else:
        uniques = pd.Series(uniques, dtype=column.dtype).astype(str).to_numpy(dtype=object)
    present = codes[codes >= 0] if codes.size and codes.min() < 0 else codes
    return uniques.take(present), (uniques, tally)
