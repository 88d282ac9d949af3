"""Duplicate rows and constant columns.

Exact duplicates repeat a whole row; near-duplicates repeat one once numbers are rounded to a
tolerance, text is put in lower case with single spaces, and identifier columns are set aside
(a record loaded twice under new ids). A constant or near-constant column carries (almost) no
information and often marks a broken feed or a default value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from assay.curation._rules import Finding, finding_from_mask
from assay.errors import InputError

__all__ = ["constant_columns", "exact_duplicates", "near_duplicates"]


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(f"{what} names columns the table does not have: {missing}")


def _repeats(keys: pd.DataFrame) -> tuple[np.ndarray[tuple[int], np.dtype[np.bool_]], int]:
    """Rows repeating an earlier row, and the number of distinct repeated rows."""
    repeated = keys.duplicated(keep="first").to_numpy()
    groups = int(keys[repeated].drop_duplicates().shape[0]) if repeated.any() else 0
    return repeated, groups


def exact_duplicates(frame: pd.DataFrame, *, columns: Sequence[str] | None = None) -> Finding:
    """Rows that repeat an earlier row exactly (on ``columns``, default all).

    Returns
    -------
    Finding
        Rule ``exact_duplicates``; ``n_rows`` counts the repeated copies (the rows that
        de-duplication would drop) and ``details["groups"]`` the distinct rows repeated.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": [1, 2, 2, 2, 3], "age": [50, 61, 61, 61, 70]})
    >>> finding = exact_duplicates(frame)
    >>> finding.n_rows, finding.details["groups"], finding.examples
    (2, 1, (2, 3))
    """
    names = list(frame.columns) if columns is None else list(columns)
    _check_columns(frame, names, "exact_duplicates")
    repeated, groups = _repeats(frame[names])
    return finding_from_mask(
        "exact_duplicates", [str(name) for name in names], repeated, status_if_any="fail",
        details={"groups": groups},
        message=f"{int(repeated.sum()):,} of {len(frame):,} rows repeat an earlier row exactly "
        f"({groups} distinct rows repeated).")


def _normalised(values: pd.Series, tolerance: float) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(np.float64)
        return (numbers / tolerance).round() * tolerance
    if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        text = values.astype("string").str.strip().str.casefold()
        return text.str.replace(r"\s+", " ", regex=True)
    return values


def _is_id(name: object) -> bool:
    text = str(name).casefold()
    return text == "id" or text.endswith("_id")


def near_duplicates(
    frame: pd.DataFrame,
    *,
    id_columns: Sequence[str] | None = None,
    tolerance: float = 0.01,
) -> Finding:
    """Rows equal to an earlier row after rounding and normalising, other than exact copies.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    id_columns : Sequence[str] or None
        Columns left out of the comparison; default the columns named ``id`` or ending in
        ``_id``.
    tolerance : float
        Numbers are rounded to the nearest multiple of ``tolerance`` (two values closer than
        it can still fall on either side of a rounding boundary).

    Returns
    -------
    Finding
        Rule ``near_duplicates``; ``n_rows`` counts rows that repeat an earlier row once
        normalised but are not exact copies of one (those are :func:`exact_duplicates`).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"patient_id": ["P1", "P2"], "sex": ["F", " f "],
    ...                       "weight_kg": [70.001, 70.0]})
    >>> near_duplicates(frame).n_rows
    1
    """
    if not tolerance > 0:
        raise InputError(f"tolerance must be > 0 (got {tolerance})")
    ids = [name for name in frame.columns if _is_id(name)] if id_columns is None \
        else list(id_columns)
    _check_columns(frame, ids, "near_duplicates")
    compared = [name for name in frame.columns if name not in ids]
    if not compared:
        raise InputError("near_duplicates: every column is an id column; nothing to compare")
    keys = pd.DataFrame({name: _normalised(frame[name], tolerance) for name in compared})
    near, _ = _repeats(keys)
    exact, _ = _repeats(frame)
    only_near = near & ~exact
    return finding_from_mask(
        "near_duplicates", [str(name) for name in compared], only_near, status_if_any="warn",
        details={"tolerance": tolerance, "id_columns": ", ".join(map(str, ids))},
        message=f"{int(only_near.sum()):,} of {len(frame):,} rows repeat an earlier row once "
        f"numbers are rounded to {tolerance:g} and text is normalised"
        + (f", ignoring {', '.join(map(str, ids))}" if ids else "") + ".")


def constant_columns(frame: pd.DataFrame, *, threshold: float = 0.99) -> list[Finding]:
    """Columns where one value (missing counts as a value) fills at least ``threshold`` of rows.

    Returns
    -------
    list[Finding]
        One finding per such column, in column order: rule ``constant_column`` (status
        ``fail``) when a single value fills every row, else ``near_constant_column``
        (``warn``); ``n_rows`` counts the rows not holding the most frequent value. An empty
        list means no column was (near) constant.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"site": ["A"] * 200, "age": range(200)})
    >>> [(f.rule, f.columns) for f in constant_columns(frame)]
    [('constant_column', ('site',))]
    """
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1] (got {threshold})")
    findings: list[Finding] = []
    if len(frame) == 0:
        return findings
    for name in frame.columns:
        counts = frame[name].value_counts(dropna=False)
        share = float(counts.iloc[0]) / len(frame)
        if share < threshold:
            continue
        top = counts.index[0]
        other = ~(frame[name].isna() if pd.isna(top) else frame[name].eq(top)).to_numpy()
        constant = not other.any()
        findings.append(finding_from_mask(
            "constant_column" if constant else "near_constant_column", [str(name)], other,
            status_if_any="warn", details={"top_share": share},
            message=f"'{name}' holds one value in {share:.1%} of {len(frame):,} rows"
            + (" (a constant column)." if constant else "."),
        ).model_copy(update={"status": "fail" if constant else "warn"}))
    return findings
