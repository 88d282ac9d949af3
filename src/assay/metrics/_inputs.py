"""Array coercion and checks shared by the metric functions (the library boundary)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError


def as_float_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """A 1-D float64 copy-free view of ``values``; NaN or infinite entries are an error."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        raise InputError(f"{name} contains NaN or infinite values in {int(bad.sum())} rows")
    return array


def as_binary_target(values: ArrayLike, name: str = "y_true") -> NDArray[np.int8]:
    """The target as 0/1 int8; any other value is an error naming how many rows hold it."""
    array = as_float_array(values, name)
    bad = (array != 0) & (array != 1)
    if bad.any():
        examples = ", ".join(f"{v:g}" for v in np.unique(array[bad])[:3])
        raise InputError(
            f"{name} must contain only 0/1 (found {examples} in {int(bad.sum())} rows)"
        )
    return array.astype(np.int8)


def as_weights(
    sample_weight: ArrayLike | None, n: int, name: str = "sample_weight"
) -> NDArray[np.float64] | None:
    """Non-negative finite weights of length ``n``, or ``None``."""
    if sample_weight is None:
        return None
    weights = as_float_array(sample_weight, name)
    if weights.shape[0] != n:
        raise InputError(f"{name} has {weights.shape[0]} rows, expected {n}")
    if (weights < 0).any():
        raise InputError(f"{name} contains negative values in {int((weights < 0).sum())} rows")
    return weights


def check_same_length(**arrays: NDArray[Any]) -> int:
    """The common length of the arrays; different lengths are an error naming them."""
    lengths = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise InputError(f"inputs have different lengths: {described}")
    return int(next(iter(lengths.values())))
