"""What every perturbation shares: the ``apply`` contract, the strength axis and the seeding.

Seeding
-------
A perturbation draws its random numbers from streams derived from its ``seed`` and a key
(its kind and, where it acts per column, the column name):
``Generator(PCG64(SeedSequence(seed, spawn_key=(crc32(kind), crc32(column)))))``. The draws do
not depend on the strength, only how they are used does, so the same seed at a higher strength
perturbs a superset of the rows (missingness at 20 % blanks the rows blanked at 10 % and more)
and noise at 1 SD is noise at 0.5 SD doubled. Degradation curves are smoother for it (common
random numbers). Adding a column to a perturbation never changes the draws of another column.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.errors import InputError

__all__ = [
    "PerturbationBase",
    "Perturbed",
    "SeedLike",
    "feature_list",
    "input_error",
    "numeric_column",
    "percent",
    "require_columns",
    "same_rows",
    "stream",
]

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]
SeedLike = int | np.random.Generator
"""A non-negative integer seed, or a generator whose draws are used in order."""


@dataclass(frozen=True)
class Perturbed:
    """A perturbed copy of the data.

    Attributes
    ----------
    frame
        The perturbed table (a new frame; the input is never modified).
    y
        The outcome of each row, when one was given.
    weight
        The weight of each row: the given weights, changed by a covariate shift; ``None``
        when none were given and none were made.
    rows
        For each row, its position in the input: ``0 … n−1`` in order unless rows were
        resampled (a prevalence shift).
    """

    frame: pd.DataFrame
    y: NDArray[Any] | None
    weight: FloatArray | None
    rows: IndexArray

    @property
    def same_rows(self) -> bool:
        """True when the rows are the input's, in the input's order."""
        return bool(np.array_equal(self.rows, np.arange(self.rows.size)))


class PerturbationBase(BaseModel):
    """Shared behaviour of perturbations; see the concrete classes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strength_field: ClassVar[str]
    """The field that :func:`assay.robustness.stress_test` varies."""
    default_strengths: ClassVar[tuple[float, ...]]
    """The strengths a stress test uses when none are given."""
    changes_rows: ClassVar[bool] = False
    """True when ``apply`` resamples rows (the rows of the result are not the input's)."""

    seed: int = Field(default=0, ge=0, strict=True, description="seed of the random draws")

    @property
    def strength(self) -> float:
        """The value of the strength field."""
        return float(getattr(self, self.strength_field))

    def with_strength(self, strength: float) -> Self:
        """A copy with the strength field set to ``strength`` (validated)."""
        data = {**self.model_dump(), self.strength_field: strength}
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            raise input_error(exc, str(data.get("kind", type(self).__name__))) from exc

    def columns(self) -> tuple[str, ...]:
        """The columns the perturbation acts on (none for a prevalence shift)."""
        features = getattr(self, "features", None)
        if features is not None:
            return tuple(features)
        feature = getattr(self, "feature", None)
        return () if feature is None else (str(feature),)

    def to_dict(self) -> dict[str, Any]:
        """The perturbation as a plan dict (JSON types); :func:`perturbation_from_dict` reads
        it back."""
        return self.model_dump(mode="json")

    def describe(self, strength: float | None = None) -> str:
        """What the perturbation does at ``strength`` (default its own), in plain words."""
        spec = self if strength is None else self.with_strength(strength)
        return spec._describe()

    def apply(
        self,
        frame: pd.DataFrame,
        y: ArrayLike | None = None,
        weight: ArrayLike | None = None,
        *,
        seed: SeedLike | None = None,
        strength: float | None = None,
    ) -> Perturbed:
        """Perturb a copy of the data.

        Parameters
        ----------
        frame
            One row per patient. Never modified.
        y
            Outcome per row (needed by a prevalence shift, carried along otherwise).
        weight
            Weight per row, carried along (and changed by a covariate shift).
        seed
            Overrides the perturbation's ``seed``; a generator is used as is.
        strength
            Overrides the value of the strength field.

        Returns
        -------
        Perturbed
        """
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        n_rows = len(frame)
        outcome = None if y is None else _vector(y, "y", n_rows)
        weights = None if weight is None else _vector(weight, "weight", n_rows).astype(float)
        if weights is not None and (~np.isfinite(weights) | (weights < 0)).any():
            raise InputError("weight must hold finite values >= 0")
        spec = self if strength is None else self.with_strength(strength)
        return spec._apply(frame, outcome, weights, self.seed if seed is None else seed)

    def _describe(self) -> str:
        raise NotImplementedError

    def _apply(
        self,
        frame: pd.DataFrame,
        y: NDArray[Any] | None,
        weight: FloatArray | None,
        seed: SeedLike,
    ) -> Perturbed:
        raise NotImplementedError


def same_rows(frame: pd.DataFrame, y: NDArray[Any] | None, weight: FloatArray | None) -> Perturbed:
    """A :class:`Perturbed` keeping every row (for perturbations that change values only)."""
    return Perturbed(frame=frame, y=y, weight=weight, rows=np.arange(len(frame), dtype=np.intp))


def stream(seed: SeedLike, *keys: str) -> np.random.Generator:
    """The random stream of the module notes for ``seed`` and ``keys``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative integer or a generator, got {seed!r}")
    key = tuple(zlib.crc32(part.encode()) for part in keys)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


def require_columns(frame: pd.DataFrame, names: Sequence[str], kind: str) -> None:
    """An error naming the columns of a ``kind`` perturbation that the frame lacks."""
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise InputError(f"{kind}: the frame has no column {', '.join(map(repr, missing))}")


def numeric_column(frame: pd.DataFrame, name: str, kind: str) -> FloatArray:
    """A float64 copy of a numeric column; an error naming it otherwise."""
    require_columns(frame, [name], kind)
    column = frame[name]
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        raise InputError(f"{kind}: column {name!r} must be numeric (found {column.dtype})")
    return column.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


def percent(share: float) -> str:
    """``0.2`` → ``"20%"``, ``0.025`` → ``"2.5%"``."""
    return f"{share * 100:.3g}%"


def feature_list(names: Sequence[str]) -> str:
    """Column names for a sentence: ``a``, ``a and b``, ``a, b and c``."""
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def input_error(exc: ValidationError, kind: str) -> InputError:
    """A pydantic error as an :class:`InputError` naming the field, for an analyst."""
    messages = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(the perturbation)"
        if error["type"] == "extra_forbidden":
            messages.append(f"{field!r} is not a field of a {kind} perturbation")
        elif error["type"] == "missing":
            messages.append(f"field {field!r} is required")
        else:
            got = error.get("input")
            shown = f"{got:g}" if isinstance(got, float) and math.isfinite(got) else repr(got)
            messages.append(f"field {field!r}: {error['msg'].lower()} (got {shown})")
    return InputError(f"{kind} perturbation: " + "; ".join(messages))


def _vector(values: ArrayLike, name: str, n_rows: int) -> NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != n_rows:
        raise InputError(f"{name} has shape {array.shape}, expected ({n_rows},)")
    return array.copy()
