"""Grouping attributes turned into cells: which rows belong to each group and intersection.

Each attribute is factorised once (``pandas.factorize``); an intersection's cell code is the
mixed-radix combination of its attributes' codes, so every cell of the full cartesian product of
observed values has a code, including the cells with no rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError

MISSING_LABEL = "(missing)"
"""Label of the group formed by missing values (NaN, None, NaT)."""

IntArray = NDArray[np.int64]

GroupValues = ArrayLike | Sequence[object]
"""One attribute's values, one per row: an array, a pandas Series or a list (``None`` allowed)."""


@dataclass(frozen=True)
class Attribute:
    """One grouping attribute: a code per row and the label of each code, in sorted order."""

    name: str
    codes: IntArray
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    """One group (or intersection cell) and the positions of its rows."""

    group: str
    group_value: str
    rows: IntArray


def read_attributes(
    groups: pd.DataFrame | Mapping[str, GroupValues], n_rows: int
) -> dict[str, Attribute]:
    """Factorise every grouping attribute; lengths must equal ``n_rows``."""
    if isinstance(groups, pd.DataFrame):
        columns: Mapping[Any, Any] = {name: groups[name] for name in groups.columns}
        if groups.columns.has_duplicates:
            raise InputError("groups has duplicate column names")
    elif isinstance(groups, Mapping):
        columns = groups
    else:
        raise InputError(
            f"groups must be a pandas DataFrame or a mapping of attribute name to values, "
            f"got {type(groups).__name__}"
        )
    attributes: dict[str, Attribute] = {}
    for name, values in columns.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"group attribute names must be non-empty strings, got {name!r}")
        if "*" in name:
            raise InputError(
                f"group attribute {name!r} contains '*', which joins the names of an "
                "intersection; rename the attribute"
            )
        attributes[name] = _factorise(name, values, n_rows)
    return attributes


def _factorise(name: str, values: Any, n_rows: int) -> Attribute:
    if isinstance(values, pd.Series):
        series = values.reset_index(drop=True)
    else:
        array = np.asarray(values, dtype=object) if not hasattr(values, "dtype") else values
        if np.ndim(array) != 1:
            raise InputError(
                f"group attribute {name!r} must be one-dimensional, got shape {np.shape(array)}"
            )
        series = pd.Series(array)
    if series.shape[0] != n_rows:
        raise InputError(
            f"group attribute {name!r} has {series.shape[0]} rows, expected {n_rows} "
            "(the length of y_true)"
        )
    try:
        codes, uniques = pd.factorize(series, sort=True)
    except TypeError:
        # values of types that do not compare (for example numbers and text): sort as text
        series = series.map(lambda value: value if pd.isna(value) else str(value))
        codes, uniques = pd.factorize(series, sort=True)
    labels = [str(value) for value in uniques]
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(MISSING_LABEL)
    return Attribute(name=name, codes=codes, labels=tuple(labels))


def check_intersections(
    intersections: Sequence[Sequence[str]], attributes: Mapping[str, Attribute]
) -> tuple[tuple[str, ...], ...]:
    """Intersections as tuples of attribute names, each naming at least two given attributes."""
    checked: list[tuple[str, ...]] = []
    for names in intersections:
        if isinstance(names, str):
            raise InputError(
                f"each intersection must be a sequence of attribute names, got the string "
                f"{names!r}; write for example [({names!r}, 'sex')]"
            )
        names = tuple(names)
        unknown = [name for name in names if name not in attributes]
        if unknown:
            given = ", ".join(repr(name) for name in attributes) or "none"
            raise InputError(
                f"intersection {'*'.join(map(str, names))!r} names attribute(s) "
                f"{', '.join(map(repr, unknown))} not in groups (given: {given})"
            )
        if len(names) < 2 or len(set(names)) != len(names):
            raise InputError(
                f"intersection {'*'.join(names)!r} must name at least two different attributes"
            )
        checked.append(names)
    return tuple(checked)


def cells(
    attributes: Mapping[str, Attribute], intersections: Sequence[tuple[str, ...]]
) -> list[Cell]:
    """Every single-attribute group, then every cell of every intersection, in table order."""
    found: list[Cell] = []
    for attribute in attributes.values():
        single = [(label,) for label in attribute.labels]
        found.extend(_split(attribute.name, attribute.codes, single))
    for names in intersections:
        members = [attributes[name] for name in names]
        codes = np.zeros_like(members[0].codes)
        for member in members:
            codes = codes * len(member.labels) + member.codes
        labels = list(itertools.product(*(member.labels for member in members)))
        found.extend(_split("*".join(names), codes, labels))
    return found


def _split(group: str, codes: IntArray, labels: Sequence[tuple[str, ...]]) -> list[Cell]:
    """Rows of each code ``0 .. len(labels) - 1`` (a stable sort, then slices)."""
    order = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes, minlength=len(labels)))
    starts = ends - np.bincount(codes, minlength=len(labels))
    return [
        Cell(group=group, group_value="*".join(label), rows=order[start:end])
        for label, start, end in zip(labels, starts, ends, strict=True)
    ]
