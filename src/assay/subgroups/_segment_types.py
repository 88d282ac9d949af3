"""The slices :func:`assay.subgroups.weak_segments` searches, and the types of its result.

Slices
------
A numeric feature with more than ``n_bins`` distinct values is cut into at most ``n_bins``
left-closed bins, each edge the next observed value after one of the quantiles
``1/n_bins, …, (n_bins − 1)/n_bins`` (the largest value when none is above; equal edges
merge), so a bin ends at its quantile: ages 40 to 79, equally common, give ``< 50``,
``[50, 60)``, ``[60, 70)`` and ``≥ 70`` (numbers as stored, never rounded). A value that
holds most patients gets a bin of its own (``< 1`` and ``≥ 1`` for a count that is mostly 0).
Any other feature (text, categorical, boolean, or numeric with few values) is used as it is,
one level per value, in sorted order. Missing values form the level ``(missing)``, last.
The slices are every level of every feature and, for pairs, every non-empty combination of
levels of every two features.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, model_validator

from assay._frozen import FROZEN
from assay.errors import InputError
from assay.metrics import Estimate, IntervalMethod
from assay.subgroups._cells import MISSING_LABEL, GroupValues, _factorise

IntArray = NDArray[np.intp]

SegmentTest = Literal["delong", "fisher"]
"""How a slice is compared with the rest, one-sided: a z-test with DeLong's variance of each
AUROC (``delong``), or Fisher's exact test on a proportion's successes and trials (``fisher``)."""


@dataclass(frozen=True)
class Feature:
    """A feature as levels: a code per row, and each level's label and phrase."""

    name: str
    codes: IntArray
    labels: tuple[str, ...]
    phrases: tuple[str, ...]

    def reordered(self, order: IntArray) -> Feature:
        return Feature(self.name, self.codes[order], self.labels, self.phrases)


@dataclass(frozen=True)
class Slice:
    """One slice: its features, levels and phrase, and its rows (ascending positions).

    ``duplicate`` marks a two-feature slice with exactly the rows of one of its one-feature
    slices.
    """

    features: tuple[str, ...]
    levels: tuple[str, ...]
    description: str
    rows: IntArray
    duplicate: bool = False


def read_features(
    features: pd.DataFrame | Mapping[str, GroupValues], n_rows: int, n_bins: int
) -> list[Feature]:
    """Every feature as levels (see the module notes); lengths must equal ``n_rows``."""
    if isinstance(features, pd.DataFrame):
        if features.columns.has_duplicates:
            raise InputError("features has duplicate column names")
        columns: Mapping[Any, Any] = {name: features[name] for name in features.columns}
    elif isinstance(features, Mapping):
        columns = features
    else:
        raise InputError(
            "features must be a pandas DataFrame or a mapping of feature name to values, "
            f"got {type(features).__name__}"
        )
    if not columns:
        raise InputError("features is empty; give at least one feature to slice by")
    read = []
    for name, values in columns.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"feature names must be non-empty strings, got {name!r}")
        if isinstance(values, pd.Series):
            series = values.reset_index(drop=True)
        elif np.ndim(values) == 1:
            series = pd.Series(values if hasattr(values, "dtype") else list(values))
        else:
            raise InputError(
                f"feature {name!r} must be one-dimensional, got shape {np.shape(values)}"
            )
        if series.shape[0] != n_rows:
            raise InputError(
                f"feature {name!r} has {series.shape[0]} rows, expected {n_rows} "
                "(the length of y_true)"
            )
        kind = series.dtype
        if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
            binned = _binned(name, series.to_numpy(dtype=np.float64, na_value=np.nan), n_bins)
            if binned is not None:
                read.append(binned)
                continue
        level = _factorise(name, series, n_rows)
        phrases = tuple(
            f"{name} is missing" if label == MISSING_LABEL else f"{name} = {label}"
            for label in level.labels
        )
        read.append(Feature(name, level.codes.astype(np.intp), level.labels, phrases))
    return read


def _binned(name: str, values: NDArray[np.float64], n_bins: int) -> Feature | None:
    """Quantile bins of a numeric feature, or ``None`` with ``n_bins`` distinct values or fewer."""
    missing = np.isnan(values)
    infinite = int(np.isinf(values).sum())
    if infinite:
        raise InputError(f"feature {name!r} has infinite values in {infinite} rows")
    distinct = np.unique(values[~missing])
    if distinct.size <= n_bins:
        return None
    cuts = np.quantile(values[~missing], np.arange(1, n_bins) / n_bins, method="inverted_cdf")
    above = np.minimum(np.searchsorted(distinct, cuts, side="right"), distinct.size - 1)
    edges = np.unique(distinct[above])  # the next value after each quantile, or the largest
    codes = np.searchsorted(edges, values, side="right").astype(np.intp)
    text = [np.format_float_positional(edge, trim="-") for edge in edges]
    labels = [f"< {text[0]}", *(f"[{a}, {b})" for a, b in itertools.pairwise(text))]
    labels.append(f"≥ {text[-1]}")
    phrases = [f"{name} < {text[0]}", *(f"{name} in {label}" for label in labels[1:-1])]
    phrases.append(f"{name} ≥ {text[-1]}")
    if missing.any():
        codes[missing] = len(labels)
        labels.append(MISSING_LABEL)
        phrases.append(f"{name} is missing")
    return Feature(name, codes, tuple(labels), tuple(phrases))


def slices(features: list[Feature], max_features: int) -> Iterator[Slice]:
    """Each non-empty slice: every level of every feature, then every pair of levels."""
    sizes = {}
    for feature in features:
        parts = _split(feature.codes, len(feature.labels))
        sizes[feature.name] = [rows.shape[0] for rows in parts]
        for label, phrase, rows in zip(feature.labels, feature.phrases, parts, strict=True):
            if rows.shape[0]:
                yield Slice((feature.name,), (label,), phrase, rows)
    if max_features < 2:
        return
    for first, second in itertools.combinations(features, 2):
        width = len(second.labels)
        parts = _split(first.codes * width + second.codes, len(first.labels) * width)
        for code, rows in enumerate(parts):
            i, j = divmod(code, width)
            if rows.shape[0]:
                yield Slice(
                    (first.name, second.name),
                    (first.labels[i], second.labels[j]),
                    f"{first.phrases[i]} and {second.phrases[j]}",
                    rows,
                    duplicate=rows.shape[0] in (sizes[first.name][i], sizes[second.name][j]),
                )


def _split(codes: IntArray, size: int) -> list[IntArray]:
    """The positions (ascending) of each code ``0 .. size − 1``."""
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.cumsum(np.bincount(codes, minlength=size))[:-1])


class SegmentRow(BaseModel):
    """One reported segment: a slice whose metric is significantly worse than in the rest.

    Parameters
    ----------
    features
        The one or two feature names that define the slice.
    levels
        The level of each feature, in the same order (``"[65, 78)"``, ``"F"``, ``"(missing)"``).
    description
        The slice in plain words: ``"age in [65, 78) and sex = F"``.
    n, n_positive
        Patients (rows) in the slice and those with the outcome.
    value, ci_low, ci_high, method
        The metric in the slice with the interval :func:`assay.metrics.estimate` gives
        (DeLong for AUROC, Wilson for proportions).
    rest_n, rest_value
        Patients outside the slice and the metric among them (what the slice is tested
        against).
    overall_value
        The metric on all patients.
    shortfall
        How much worse the slice is than overall, positive when worse: ``overall − value``
        when greater is better, ``value − overall`` when lower is better.
    impact
        ``n × shortfall``: the patients affected weighted by the size of the drop.
    p_value, p_adjusted
        One-sided p-value of the slice being worse than the rest, and its Benjamini–Hochberg
        adjustment over all tested slices.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: tuple[str, ...]
    levels: tuple[str, ...]
    description: str
    n: int
    n_positive: int
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    method: IntervalMethod
    rest_n: int
    rest_value: float
    overall_value: float
    shortfall: float
    impact: float
    p_value: float
    p_adjusted: float

    @model_validator(mode="after")
    def _consistent(self) -> SegmentRow:
        if not 1 <= len(self.features) == len(self.levels):
            raise ValueError("features and levels must have the same, non-zero length")
        numbers = (self.value, self.rest_value, self.overall_value, self.shortfall, self.impact)
        if not all(math.isfinite(number) for number in numbers):
            raise ValueError("a segment's values must be finite")
        if not 0 <= self.p_value <= self.p_adjusted <= 1:
            raise ValueError("p-values must satisfy 0 <= p_value <= p_adjusted <= 1")
        return self


class SegmentTable(BaseModel):
    """Weak segments of one metric, ranked by impact, with what was searched and tested.

    Every slice formed is counted in exactly one of ``n_duplicate``, ``n_skipped_small``,
    ``n_untested`` and ``n_tested``; ``n_found`` of the tested slices have a
    Benjamini–Hochberg adjusted p-value at most ``fdr``, and ``rows`` holds the
    ``max_segments`` of them with the highest impact (all of them when ``max_segments`` is
    ``None``). Every reported slice, and the rest outside it, has at least ``min_size``
    patients, which is at least ``small_cell_threshold``: no number needs hiding before the
    table is shared.

    Parameters
    ----------
    metric, params
        Registered metric name and its parameters (for example ``threshold``).
    greater_is_better
        The metric's direction, which says what "worse" means.
    test
        See :data:`SegmentTest`.
    fdr, level
        False discovery rate of the search and confidence level of the intervals.
    max_features, n_bins, min_size, small_cell_threshold, max_segments
        The search settings (see :func:`assay.subgroups.weak_segments`).
    n_rows
        Patients (rows) in the data.
    overall
        The metric on all patients, with its interval.
    feature_levels
        The levels of each feature after binning, in order (``"(missing)"`` last).
    n_slices
        Slices with at least one patient.
    n_duplicate
        Two-feature slices with exactly the patients of one of their one-feature slices
        (tested once, as the one-feature slice).
    n_skipped_small
        Slices with fewer than ``min_size`` patients, or fewer than ``min_size`` outside them.
    n_untested
        Slices where the metric, or its variance, is undefined in the slice or the rest.
    n_tested, n_found
        Slices tested, and those found worse at the false discovery rate ``fdr``.
    rows
        The segments, highest impact first.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    params: Annotated[Mapping[str, Any], *FROZEN]
    greater_is_better: bool
    test: SegmentTest
    fdr: float
    level: float
    max_features: int
    n_bins: int
    min_size: int
    small_cell_threshold: int
    max_segments: int | None
    n_rows: int
    overall: Estimate
    feature_levels: Annotated[Mapping[str, tuple[str, ...]], *FROZEN]
    n_slices: int
    n_duplicate: int
    n_skipped_small: int
    n_untested: int
    n_tested: int
    n_found: int
    rows: tuple[SegmentRow, ...]

    @model_validator(mode="after")
    def _consistent(self) -> SegmentTable:
        parts = self.n_duplicate + self.n_skipped_small + self.n_untested + self.n_tested
        if parts != self.n_slices:
            raise ValueError(f"the slice counts add up to {parts}, not n_slices={self.n_slices}")
        if not len(self.rows) <= self.n_found <= self.n_tested:
            raise ValueError("rows cannot outnumber n_found, nor n_found outnumber n_tested")
        if any(min(row.n, row.rest_n) < self.min_size for row in self.rows):
            raise ValueError(f"a reported segment or its rest has fewer than {self.min_size} rows")
        impacts = [row.impact for row in self.rows]
        if impacts != sorted(impacts, reverse=True):
            raise ValueError("rows must be ranked by impact, highest first")
        return self

    def to_frame(self) -> pd.DataFrame:
        """The segments as a pandas DataFrame, one row per segment, with nullable column types.

        ``features`` and ``levels`` are joined with ``*``, as the intersections of
        :func:`assay.subgroups.metric_by_group` are.
        """
        records = [
            dict(row.model_dump(), features="*".join(row.features), levels="*".join(row.levels))
            for row in self.rows
        ]
        frame = pd.DataFrame(records, columns=list(SegmentRow.model_fields))
        types = {name: "Float64" for name in SegmentRow.model_fields}
        types.update({name: "string" for name in ("features", "levels", "description", "method")})
        types.update({name: "Int64" for name in ("n", "n_positive", "rest_n")})
        return frame.astype(types)
