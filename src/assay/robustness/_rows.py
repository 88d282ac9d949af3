"""Perturbations of who is in the data: a prevalence shift (rows resampled) and a covariate
shift (a subgroup reweighted)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field, model_validator

from assay.errors import InputError
from assay.metrics._inputs import as_binary_target
from assay.robustness._base import (
    FloatArray,
    PerturbationBase,
    Perturbed,
    SeedLike,
    numeric_column,
    percent,
    require_columns,
    stream,
)
from assay.robustness._values import Category, ColumnName, matches

__all__ = ["CovariateShift", "PrevalenceShift"]


class PrevalenceShift(PerturbationBase):
    """The outcome's prevalence changed by resampling rows, patients otherwise unchanged.

    Rows are drawn **without replacement** within each outcome class: every row of the class
    that must become relatively more common is kept, and just enough rows of the other class
    (a seeded random subset) to reach ``prevalence``. No row is repeated, so the result has
    fewer rows than the input; the rows keep their input order. The prevalence counts rows
    (weights are carried along, not used). The achieved prevalence is the nearest the whole
    number of rows allows.

    Parameters
    ----------
    prevalence
        The target share of positive rows, strictly between 0 and 1 (the strength).
    seed
        Seed of the draws. The kept rows at one prevalence are, within each class, a prefix
        of one seeded permutation, so nearby prevalences share most rows.

    Examples
    --------
    >>> PrevalenceShift(prevalence=0.3).describe()
    'rows resampled to a prevalence of 30%'
    """

    kind: Literal["prevalence_shift"] = "prevalence_shift"
    prevalence: float = Field(gt=0, lt=1, strict=True)

    strength_field: ClassVar[str] = "prevalence"
    default_strengths: ClassVar[tuple[float, ...]] = (0.05, 0.1, 0.2, 0.3, 0.5)
    changes_rows: ClassVar[bool] = True

    def _describe(self) -> str:
        return f"rows resampled to a prevalence of {percent(self.prevalence)}"

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        if y is None:
            raise InputError("prevalence_shift needs the outcome y")
        outcome = as_binary_target(y, "y")
        positives = np.flatnonzero(outcome == 1)
        negatives = np.flatnonzero(outcome == 0)
        if positives.size == 0 or negatives.size == 0:
            raise InputError(
                "prevalence_shift needs rows of both outcomes "
                f"(found {positives.size} positive, {negatives.size} negative)"
            )
        target = self.prevalence
        if target >= positives.size / outcome.size:
            n_positive = positives.size
            n_negative = round(positives.size * (1 - target) / target)
        else:
            n_negative = negatives.size
            n_positive = round(negatives.size * target / (1 - target))
        if n_positive < 1 or n_negative < 1:
            raise InputError(
                f"prevalence_shift: a prevalence of {percent(target)} leaves no "
                f"{'positive' if n_positive < 1 else 'negative'} row of the {outcome.size}"
            )
        kept_positive = positives[stream(seed, self.kind, "positive").permutation(positives.size)]
        kept_negative = negatives[stream(seed, self.kind, "negative").permutation(negatives.size)]
        rows = np.sort(np.concatenate([kept_positive[:n_positive], kept_negative[:n_negative]]))
        return Perturbed(
            frame=frame.iloc[rows].copy(),
            y=y[rows],
            weight=None if weight is None else weight[rows],
            rows=rows.astype(np.intp),
        )


class CovariateShift(PerturbationBase):
    """A subgroup made more (or less) common by reweighting, rows unchanged.

    Rows of the subgroup get their weight multiplied by ``weight``; then all weights are
    rescaled so their total is unchanged (the input's total weight, or the number of rows
    when no weights were given). With a subgroup share ``s`` of the total weight, the
    subgroup's share becomes ``weight·s / (weight·s + 1 − s)``. Metrics are then computed
    with these weights; the rows and predictions do not change.

    The subgroup is ``feature`` taking one of ``values``, or lying in ``[low, high)`` (either
    bound may be left out). Missing values are outside the subgroup.

    Parameters
    ----------
    feature
        Column defining the subgroup.
    values
        Values of the subgroup (compared as is and as text).
    low, high
        Numeric range of the subgroup, ``low`` included, ``high`` excluded.
    weight
        Multiplier of the subgroup's weight (the strength), > 0; 1 changes nothing.
    seed
        Unused (the shift is not random); kept so every perturbation has one.

    Examples
    --------
    >>> CovariateShift(feature="age", low=75, weight=3).describe()
    'patients with age ≥ 75 weighted 3× (total weight kept)'
    """

    kind: Literal["covariate_shift"] = "covariate_shift"
    feature: ColumnName
    values: tuple[Category, ...] | None = Field(default=None, min_length=1)
    low: float | None = Field(default=None, strict=True, allow_inf_nan=False)
    high: float | None = Field(default=None, strict=True, allow_inf_nan=False)
    weight: float = Field(gt=0, strict=True, allow_inf_nan=False)

    strength_field: ClassVar[str] = "weight"
    default_strengths: ClassVar[tuple[float, ...]] = (1.0, 1.5, 2.0, 3.0, 5.0)

    @model_validator(mode="after")
    def _one_subgroup(self) -> CovariateShift:
        ranged = self.low is not None or self.high is not None
        if (self.values is None) == (not ranged):
            raise ValueError("give either 'values' or a range ('low' and/or 'high'), not both")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"'low' ({self.low:g}) must be below 'high' ({self.high:g})")
        return self

    def subgroup(self) -> str:
        """The subgroup in words, e.g. ``age ≥ 75`` or ``sex 'F'``."""
        if self.values is not None:
            return f"{self.feature} {' or '.join(repr(value) for value in self.values)}"
        if self.high is None:
            return f"{self.feature} ≥ {self.low:g}"
        if self.low is None:
            return f"{self.feature} < {self.high:g}"
        return f"{self.low:g} ≤ {self.feature} < {self.high:g}"

    def in_subgroup(self, frame: pd.DataFrame) -> NDArray[np.bool_]:
        """Which rows of ``frame`` are in the subgroup."""
        require_columns(frame, [self.feature], self.kind)
        if self.values is not None:
            column = frame[self.feature]
            member = np.zeros(len(frame), dtype=bool)
            for value in self.values:
                member |= matches(column, value)
            return member
        values = numeric_column(frame, self.feature, self.kind)
        with np.errstate(invalid="ignore"):
            low = np.ones(values.size, bool) if self.low is None else values >= self.low
            high = np.ones(values.size, bool) if self.high is None else values < self.high
        return np.asarray(low & high & ~np.isnan(values), dtype=np.bool_)

    def _describe(self) -> str:
        return f"patients with {self.subgroup()} weighted {self.weight:g}× (total weight kept)"

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        member = self.in_subgroup(frame)
        if not member.any():
            raise InputError(f"covariate_shift: no row has {self.subgroup()}")
        if member.all():
            raise InputError(
                f"covariate_shift: every row has {self.subgroup()}, so reweighting changes nothing"
            )
        base = np.ones(len(frame)) if weight is None else weight
        total = float(base.sum())
        if not total > 0:
            raise InputError("covariate_shift: the weights add up to 0")
        shifted = base * np.where(member, self.weight, 1.0)
        scale = total / float(shifted.sum())
        if not math.isfinite(scale):
            raise InputError(f"covariate_shift: rows outside {self.subgroup()} all weigh 0")
        return Perturbed(
            frame=frame.copy(),
            y=y,
            weight=shifted * scale,
            rows=np.arange(len(frame), dtype=np.intp),
        )
