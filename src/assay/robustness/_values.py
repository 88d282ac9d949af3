"""Perturbations that change values and keep every row: noise, missingness, unit errors,
category changes and unavailable features.

Each draws one uniform (or normal) number per row and column from its seed (see
:mod:`assay.robustness._base`) and compares it with its strength, so raising the strength
only adds rows to those already perturbed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import AfterValidator, Field, model_validator

from assay._frozen import FROZEN
from assay.errors import InputError
from assay.robustness._base import (
    FloatArray,
    PerturbationBase,
    Perturbed,
    SeedLike,
    feature_list,
    numeric_column,
    percent,
    require_columns,
    same_rows,
    stream,
)
from assay.robustness._units import CONVERSIONS, ConversionName

__all__ = [
    "Category",
    "CategoryChange",
    "FeatureUnavailable",
    "Features",
    "GaussianNoise",
    "Missingness",
    "Rate",
    "UnitError",
    "matches",
]


def _distinct(features: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({name for name in features if features.count(name) > 1})
    if repeated:
        raise ValueError(f"names these columns more than once: {repeated}")
    return features


ColumnName = Annotated[str, Field(strict=True, min_length=1)]
Features = Annotated[tuple[ColumnName, ...], Field(min_length=1), AfterValidator(_distinct)]
"""One or more distinct column names."""
Rate = Annotated[float, Field(ge=0, le=1, strict=True)]
"""A share of rows, from 0 to 1."""
Category = str | int | float | bool
"""A category value as it can be written in a plan."""


def matches(column: pd.Series, value: Category) -> NDArray[np.bool_]:
    """Rows holding ``value``, compared as is or as text (plan values are often text)."""
    present = column.notna().to_numpy()
    equal = column.astype(object).to_numpy() == value
    as_text = column.astype(str).to_numpy() == str(value)
    return np.asarray(present & (equal | as_text), dtype=np.bool_)


class GaussianNoise(PerturbationBase):
    """Gaussian noise added to numeric features, scaled to each feature's SD.

    Each value ``x`` becomes ``x + sd_fraction × SD × z`` with ``z`` standard normal, drawn
    per row and column; ``SD`` is the column's standard deviation (``ddof=1``) in the data
    perturbed. Missing values stay missing; integer columns become float.

    Parameters
    ----------
    features
        Numeric columns to blur.
    sd_fraction
        Noise SD as a fraction of the column's SD (the strength); 0 changes nothing.
    seed
        Seed of the draws.

    Examples
    --------
    >>> GaussianNoise(features=["lactate_mmol_l"], sd_fraction=0.5).describe()
    'Gaussian noise of 0.5 SD added to lactate_mmol_l'
    """

    kind: Literal["noise"] = "noise"
    features: Features
    sd_fraction: float = Field(ge=0, strict=True, allow_inf_nan=False)

    strength_field: ClassVar[str] = "sd_fraction"
    default_strengths: ClassVar[tuple[float, ...]] = (0.0, 0.25, 0.5, 1.0, 2.0)

    def _describe(self) -> str:
        return f"Gaussian noise of {self.sd_fraction:g} SD added to {feature_list(self.features)}"

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        require_columns(frame, self.features, self.kind)
        result = frame.copy()
        for name in self.features:
            values = numeric_column(frame, name, self.kind)
            observed = values[~np.isnan(values)]
            if observed.size < 2:
                raise InputError(
                    f"noise: column {name!r} needs at least 2 observed values for an SD "
                    f"(found {observed.size})"
                )
            noise = stream(seed, self.kind, name).standard_normal(values.size)
            result[name] = values + self.sd_fraction * float(np.std(observed, ddof=1)) * noise
        return same_rows(result, y, weight)


class Missingness(PerturbationBase):
    """Values missing completely at random (MCAR).

    Each listed column loses each value with probability ``rate``, independently of the
    patient and of the other columns. Missing is ``NaN`` (pandas' marker) in numeric and
    text columns alike; integer columns become float. Values already missing stay missing.

    Parameters
    ----------
    features
        Columns to blank.
    rate
        Share of rows blanked in each column (the strength).
    seed
        Seed of the draws.

    Examples
    --------
    >>> Missingness(features=["lactate_mmol_l", "creatinine_mg_dl"], rate=0.2).describe()
    '20% of lactate_mmol_l and creatinine_mg_dl missing at random'
    """

    kind: Literal["missingness"] = "missingness"
    features: Features
    rate: Rate

    strength_field: ClassVar[str] = "rate"
    default_strengths: ClassVar[tuple[float, ...]] = (0.0, 0.05, 0.1, 0.2, 0.5)

    def _describe(self) -> str:
        return f"{percent(self.rate)} of {feature_list(self.features)} missing at random"

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        require_columns(frame, self.features, self.kind)
        result = frame.copy()
        for name in self.features:
            blank = stream(seed, self.kind, name).random(len(frame)) < self.rate
            result[name] = frame[name].mask(blank)
        return same_rows(result, y, weight)


class UnitError(PerturbationBase):
    """A numeric feature recorded in the wrong unit for a share of rows.

    ``conversion`` names the error as ``<expected unit>_as_<unit received>`` (see
    :func:`unit_conversions`): under ``"celsius_as_fahrenheit"`` 37.0 becomes 98.6.

    Parameters
    ----------
    feature
        The numeric column affected.
    conversion
        A name from :func:`unit_conversions`.
    rate
        Share of rows in the wrong unit (the strength); 1 for a whole feed.
    seed
        Seed of the draws.

    Examples
    --------
    >>> UnitError(feature="glucose_mg_dl", conversion="glucose_mgdl_as_mmol", rate=0.1).describe()
    'glucose_mg_dl received in mmol/L instead of mg/dL for 10% of rows'
    """

    kind: Literal["unit_error"] = "unit_error"
    feature: ColumnName
    conversion: ConversionName
    rate: Rate = 1.0

    strength_field: ClassVar[str] = "rate"
    default_strengths: ClassVar[tuple[float, ...]] = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0)

    def _describe(self) -> str:
        unit = CONVERSIONS[self.conversion]
        return (
            f"{self.feature} received in {unit.arrived} instead of {unit.expected} "
            f"for {percent(self.rate)} of rows"
        )

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        values = numeric_column(frame, self.feature, self.kind)
        wrong = stream(seed, self.kind, self.feature).random(values.size) < self.rate
        values[wrong] = CONVERSIONS[self.conversion].convert(values[wrong])
        result = frame.copy()
        result[self.feature] = values
        return same_rows(result, y, weight)


class CategoryChange(PerturbationBase):
    """Categories recoded (``mapping``) or replaced by a value never seen (``unseen_value``).

    With ``mapping``, each row whose value is a key is recoded to the key's value with
    probability ``rate``; with ``unseen_value``, each non-missing row is replaced with
    probability ``rate``. Values are compared as they are and as text, so a plan's ``"1"``
    matches the number 1. A pandas categorical column becomes a plain object column.

    Parameters
    ----------
    feature
        The column affected.
    mapping
        Old value → new value.
    unseen_value
        A value the column does not hold (an error if it does).
    rate
        Share of eligible rows changed (the strength).
    seed
        Seed of the draws.

    Examples
    --------
    >>> CategoryChange(feature="admission_type", unseen_value="Transfer", rate=0.1).describe()
    "admission_type replaced by the unseen value 'Transfer' in 10% of rows"
    """

    kind: Literal["category_change"] = "category_change"
    feature: ColumnName
    mapping: Annotated[Mapping[str, Category], *FROZEN] | None = None
    unseen_value: Category | None = None
    rate: Rate = 1.0

    strength_field: ClassVar[str] = "rate"
    default_strengths: ClassVar[tuple[float, ...]] = (0.0, 0.1, 0.25, 0.5, 1.0)

    @model_validator(mode="after")
    def _one_change(self) -> CategoryChange:
        if (self.mapping is None) == (self.unseen_value is None):
            raise ValueError("give exactly one of 'mapping' and 'unseen_value'")
        if self.mapping is not None and not self.mapping:
            raise ValueError("'mapping' must hold at least one old → new pair")
        return self

    def _describe(self) -> str:
        if self.mapping is None:
            return (
                f"{self.feature} replaced by the unseen value {self.unseen_value!r} "
                f"in {percent(self.rate)} of rows"
            )
        pairs = ", ".join(f"{old!r} → {new!r}" for old, new in self.mapping.items())
        return f"{self.feature} recoded ({pairs}) in {percent(self.rate)} of rows"

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        require_columns(frame, [self.feature], self.kind)
        column = frame[self.feature]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        drawn = stream(seed, self.kind, self.feature).random(len(frame)) < self.rate
        changed = column.copy()
        if self.mapping is None:
            assert self.unseen_value is not None
            held = matches(column, self.unseen_value)
            if held.any():
                raise InputError(
                    f"category_change: {self.unseen_value!r} is not unseen, column "
                    f"{self.feature!r} holds it in {int(held.sum())} rows"
                )
            changed = changed.mask(drawn & column.notna().to_numpy(), self.unseen_value)
        else:
            for old, new in self.mapping.items():
                changed = changed.mask(drawn & matches(column, old), new)
        result = frame.copy()
        result[self.feature] = changed
        return same_rows(result, y, weight)


class FeatureUnavailable(PerturbationBase):
    """Features not available (a feed down, a test not ordered), left missing or filled.

    Parameters
    ----------
    features
        Columns affected.
    fill
        ``"missing"`` leaves NaN for the model's own handling; ``"median"`` (numeric columns)
        and ``"mode"`` fill with the column's median or most frequent value in the data
        perturbed (a stand-in for the training value a pipeline would use); ``"value"``
        fills with ``value``.
    value
        The fill value, only with ``fill="value"``.
    rate
        Share of rows where the features are unavailable (the strength); 1 for the whole
        column.
    seed
        Seed of the draws.

    Examples
    --------
    >>> FeatureUnavailable(features=["albumin_g_dl"], fill="median").describe()
    'albumin_g_dl unavailable for 100% of rows, filled with the median'
    """

    kind: Literal["feature_unavailable"] = "feature_unavailable"
    features: Features
    fill: Literal["missing", "median", "mode", "value"] = "missing"
    value: Category | None = None
    rate: Rate = 1.0

    strength_field: ClassVar[str] = "rate"
    default_strengths: ClassVar[tuple[float, ...]] = (0.0, 0.25, 0.5, 1.0)

    @model_validator(mode="after")
    def _value_with_fill(self) -> FeatureUnavailable:
        if (self.fill == "value") != (self.value is not None):
            raise ValueError("give 'value' exactly when fill is 'value'")
        return self

    def _describe(self) -> str:
        filled = {
            "missing": "left missing",
            "median": "filled with the median",
            "mode": "filled with the most frequent value",
            "value": f"filled with {self.value!r}",
        }[self.fill]
        return (
            f"{feature_list(self.features)} unavailable for {percent(self.rate)} of rows, {filled}"
        )

    def _apply(
        self, frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None, seed: SeedLike
    ) -> Perturbed:
        require_columns(frame, self.features, self.kind)
        result = frame.copy()
        for name in self.features:
            gone = stream(seed, self.kind, name).random(len(frame)) < self.rate
            if self.fill == "missing":
                result[name] = frame[name].mask(gone)
                continue
            result[name] = frame[name].mask(gone, self._fill_value(frame, name))
        return same_rows(result, y, weight)

    def _fill_value(self, frame: pd.DataFrame, name: str) -> Any:
        if self.fill == "value":
            return self.value
        observed = frame[name].dropna()
        if observed.empty:
            raise InputError(f"feature_unavailable: column {name!r} has no observed value")
        if self.fill == "median":
            return float(np.nanmedian(numeric_column(frame, name, self.kind)))
        return observed.mode().iloc[0]
